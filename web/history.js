/* history.js - the listener's mood history: a stacked-shares chart (how
 * much of each time slice each mood took, with a 0-100 % axis and times),
 * the same in words for screen readers, a summary per day, export (CSV /
 * JSON links to GET /api/history?format=) and "Delete my history" (DELETE
 * /api/history, after a confirmation in the page). */
"use strict";
(function () {
  var MS = window.MS, $ = MS.$, MOODS = MS.MOODS, COLORS = MS.COLORS;
  var REFRESH_MS = 5000, BINS = 24, ROW_S = 1;  /* one stored row ~ one second */
  var HOUR_MS = 3600 * 1000;
  var chart = $("chart"), points = [];

  function shares(rows) {
    var n = {}, total = rows.length;
    MOODS.forEach(function (m) { n[m] = 0; });
    rows.forEach(function (p) { if (n[p.mood] !== undefined) n[p.mood]++; });
    return MOODS.map(function (m) { return { mood: m, share: total ? n[m] / total : 0 }; })
      .filter(function (s) { return s.share > 0; })
      .sort(function (a, b) { return b.share - a.share; });
  }

  function mix(sh) {
    return sh.slice(0, 3).map(function (s) {
      return MS.word(s.mood) + " " + Math.round(100 * s.share) + "%";
    }).join(", ");
  }

  function clock(t) {
    var d = new Date(t);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function span(ms) {
    var m = Math.round(ms / 60000);
    return m < 1 ? "under a minute" : m === 1 ? "1 minute" : m < 90 ? m + " minutes"
      : (m / 60).toFixed(1) + " hours";
  }

  function draw() {
    var w = chart.clientWidth, h = chart.clientHeight;
    if (chart.width !== w || chart.height !== h) { chart.width = w; chart.height = h; }
    var ctx = chart.getContext("2d"), left = 34, bottom = 18, top = 6;
    var ph = h - bottom - top, pw = w - left - 6;
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#9aa7b4";
    ctx.strokeStyle = "#2b343e";
    ctx.textAlign = "right";
    [0, 0.5, 1].forEach(function (f) {          /* the y axis: share of the slice */
      var y = top + ph - f * ph;
      ctx.fillText(Math.round(f * 100) + "%", left - 4, y + 4);
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + pw, y); ctx.stroke();
    });
    ctx.textAlign = "left";
    if (!points.length) {
      ctx.fillText("Your moods will show here once the camera has read them.", left + 8, top + ph / 2);
      $("chart-text").textContent = "No mood history yet.";
      return;
    }
    /* the last hour when there is one, else the whole history */
    var now = Date.now(), shown = points.filter(function (p) { return p.t >= now - HOUR_MS; });
    var live = shown.length > 0;
    if (!live) shown = points;
    var t0 = shown[0].t, t1 = Math.max(shown[shown.length - 1].t, live ? now : 0, t0 + BINS * 1000);
    var bw = pw / BINS, bins = [];
    for (var i = 0; i < BINS; i++) bins.push([]);
    shown.forEach(function (p) {
      var k = Math.min(BINS - 1, Math.floor((p.t - t0) / (t1 - t0) * BINS));
      bins[k].push(p);
    });
    bins.forEach(function (rows, k) {
      var y = top + ph;
      shares(rows).forEach(function (s) {
        var hh = s.share * ph;
        ctx.fillStyle = COLORS[s.mood];
        ctx.fillRect(left + k * bw + 1, y - hh, Math.max(1, bw - 2), hh);
        y -= hh;
      });
    });
    ctx.fillStyle = "#9aa7b4";
    ctx.fillText(clock(t0), left, h - 4);
    ctx.textAlign = "right";
    ctx.fillText(clock(t1), left + pw, h - 4);
    ctx.textAlign = "left";
    var all = shares(shown), last = shown[shown.length - 1];
    $("chart-text").textContent = "From " + clock(t0) + " to " + clock(t1) + " (" + span(t1 - t0) +
      "): " + mix(all) + ". Most recently " + MS.word(last.mood) + ".";
  }

  function days() {
    var by = {}, order = [];
    points.forEach(function (p) {
      var d = new Date(p.t), key = d.toDateString();
      if (!by[key]) { by[key] = []; order.push(key); }
      by[key].push(p);
    });
    var tb = $("days").tBodies[0];
    tb.textContent = "";
    if (!order.length) {
      var tr = tb.insertRow(), td = tr.insertCell();
      td.colSpan = 4; td.className = "muted"; td.textContent = "No history yet.";
      return;
    }
    order.reverse().slice(0, 7).forEach(function (key) {
      var rows = by[key], sh = shares(rows), tr = tb.insertRow();
      var day = new Date(rows[0].t);
      tr.insertCell().textContent = day.toLocaleDateString(undefined, { weekday: "short", month: "short", day: "numeric" });
      var c = tr.insertCell();
      c.textContent = MS.word(sh[0].mood);
      c.className = "mood-" + sh[0].mood;
      tr.insertCell().textContent = span(rows.length * ROW_S * 1000);
      tr.insertCell().textContent = mix(sh);
    });
  }

  function legend() {
    MOODS.forEach(function (m) {
      var li = document.createElement("li"), sw = document.createElement("i");
      sw.className = "sw-" + m;
      li.appendChild(sw);
      li.appendChild(document.createTextNode(MS.word(m)));
      $("legend").appendChild(li);
    });
  }

  function load() {
    return MS.getJSON("/api/history?limit=3600").then(function (h) {
      points = h.points || [];
      draw();
      days();
    }).catch(function () {});
  }

  function say(msg, isError) {
    $("history-status").textContent = msg;
    $("history-status").className = isError ? "status error" : "status";
  }

  function init() {
    legend();
    $("history-delete").addEventListener("click", function () {
      $("history-confirm").hidden = false;
      $("history-delete-no").focus();
    });
    $("history-delete-no").addEventListener("click", function () {
      $("history-confirm").hidden = true;
      $("history-delete").focus();
    });
    $("history-delete-yes").addEventListener("click", function () {
      MS.send("DELETE", "/api/history").then(function (r) {
        $("history-confirm").hidden = true;
        say("Deleted: " + r.deleted + " mood readings are gone.");
        $("history-delete").focus();
        return load();
      }).catch(function (e) { say("Could not delete: " + e.message, true); });
    });
    load();
    setInterval(function () { if (!document.hidden) load(); }, REFRESH_MS);
    window.addEventListener("resize", draw);
  }

  init();
})();
