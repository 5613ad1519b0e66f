/* app.js - the MoodSync page: camera capture (getUserMedia), frames as
 * JPEG to POST /api/frame at ~10 fps with one request in flight, face
 * boxes over the video, emotion bars, the smoothed mood, a mood-over-time
 * chart and the recommended playlist. Round-trip times (frame captured ->
 * result drawn) are kept in window.moodsyncStats. No external requests. */
"use strict";
(function () {
  var MOODS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];
  var COLORS = {
    angry: "#ff6b6b", disgust: "#9bc53d", fear: "#b388ff", happy: "#ffd166",
    sad: "#4ea8de", surprise: "#f78c6b", neutral: "#9aa7b4"
  };
  var FRAME_MS = 100;          /* ~10 frames per second */
  var SEND_W = 320, SEND_H = 240;
  var CHART_SPAN_MS = 120000;  /* the chart shows the last two minutes */

  var $ = function (id) { return document.getElementById(id); };
  var video = $("video"), overlay = $("overlay"), chart = $("chart");
  var grab = document.createElement("canvas");
  grab.width = SEND_W; grab.height = SEND_H;
  var stream = null, timer = null, inflight = false, running = false;
  var points = [];             /* {t, mood, confidence} for the chart */
  var shownMood = null, lastStrategy = null;
  var stats = window.moodsyncStats = {
    frames: 0, errors: 0, rtt: [], p50: null, p95: null, lastRtt: null,
    lastServerMs: null, faces: 0, emotion: null, mood: null, lastError: null
  };

  function setStatus(msg, isError) {
    var s = $("status");
    s.textContent = msg || "";
    s.className = isError ? "status error" : "status";
  }

  function pct(sorted, q) {
    if (!sorted.length) return null;
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }

  function recordRtt(ms) {
    stats.rtt.push(ms);
    if (stats.rtt.length > 300) stats.rtt.shift();
    var s = stats.rtt.slice().sort(function (a, b) { return a - b; });
    stats.p50 = pct(s, 0.5);
    stats.p95 = pct(s, 0.95);
    stats.lastRtt = ms;
  }

  function showStats() {
    $("stats").textContent = "Frames " + stats.frames + " \u00b7 round trip p50 " +
      (stats.p50 === null ? "-" : stats.p50.toFixed(1)) + " ms, p95 " +
      (stats.p95 === null ? "-" : stats.p95.toFixed(1)) + " ms \u00b7 server " +
      (stats.lastServerMs === null ? "-" : stats.lastServerMs.toFixed(1)) + " ms" +
      (stats.errors ? " \u00b7 errors " + stats.errors : "");
  }

  /* ---- bars and mood ---- */
  function buildBars() {
    var ul = $("bars");
    MOODS.forEach(function (m) {
      var li = document.createElement("li");
      li.id = "bar-" + m;
      var name = document.createElement("span");
      name.textContent = m;
      var bar = document.createElement("div");
      bar.className = "bar";
      bar.setAttribute("role", "progressbar");
      bar.setAttribute("aria-label", m);
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", "100");
      bar.setAttribute("aria-valuenow", "0");
      var fill = document.createElement("span");
      fill.style.background = COLORS[m];
      bar.appendChild(fill);
      var val = document.createElement("span");
      val.className = "val";
      val.textContent = "0%";
      li.appendChild(name); li.appendChild(bar); li.appendChild(val);
      ul.appendChild(li);
    });
    var lg = $("legend");
    MOODS.forEach(function (m) {
      var li = document.createElement("li");
      var sw = document.createElement("i");
      sw.style.background = COLORS[m];
      li.appendChild(sw);
      li.appendChild(document.createTextNode(m));
      lg.appendChild(li);
    });
  }

  function drawBars(probs) {
    var top = null;
    MOODS.forEach(function (m) {
      if (top === null || probs[m] > probs[top]) top = m;
    });
    MOODS.forEach(function (m) {
      var li = $("bar-" + m), p = Math.round(100 * (probs[m] || 0));
      li.className = m === top ? "top" : "";
      li.querySelector(".bar span").style.width = p + "%";
      li.querySelector(".bar").setAttribute("aria-valuenow", String(p));
      li.querySelector(".val").textContent = p + "%";
    });
  }

  function drawMood(mood, model) {
    var label = $("mood-label"), detail = $("mood-detail");
    if (!model) {
      label.textContent = "faces only";
      detail.textContent = "(no emotion model loaded on the server)";
      return;
    }
    label.textContent = mood.mood || "-";
    var d = "";
    if (mood.mood) d = Math.round(100 * mood.confidence) + "% (smoothed)";
    if (mood.candidate) d += " \u00b7 turning " + mood.candidate + "?";
    detail.textContent = d;
    drawBars(mood.probs);
    stats.mood = mood.mood;
    if (mood.mood && mood.mood !== shownMood) {
      shownMood = mood.mood;
      loadRecommendation();
    }
  }

  /* ---- overlay ---- */
  function drawBoxes(res) {
    var w = overlay.clientWidth, h = overlay.clientHeight;
    if (overlay.width !== w || overlay.height !== h) {
      overlay.width = w; overlay.height = h;
    }
    var ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, w, h);
    if (!res || !res.width) return;
    /* the video is letterboxed (object-fit: contain) like this */
    var s = Math.min(w / res.width, h / res.height);
    var ox = (w - res.width * s) / 2, oy = (h - res.height * s) / 2;
    res.faces.forEach(function (f, i) {
      var b = f.box;
      ctx.lineWidth = i === 0 ? 3 : 1.5;
      ctx.strokeStyle = i === 0 ? (COLORS[f.emotion] || "#4cc38a") : "#ffffff";
      ctx.strokeRect(ox + b.x * s, oy + b.y * s, b.w * s, b.h * s);
      if (f.emotion) {
        /* the canvas is mirrored by CSS: un-mirror the text */
        var tx = w - (ox + (b.x + b.w) * s);
        ctx.save();
        ctx.scale(-1, 1);
        ctx.font = "bold 16px system-ui, sans-serif";
        ctx.fillStyle = ctx.strokeStyle;
        ctx.fillText(f.emotion + " " + Math.round(100 * f.confidence) + "%",
                     -w + tx, Math.max(16, oy + b.y * s - 6));
        ctx.restore();
      }
    });
  }

  /* ---- chart ---- */
  function drawChart() {
    var w = chart.clientWidth, h = chart.clientHeight;
    if (chart.width !== w || chart.height !== h) { chart.width = w; chart.height = h; }
    var ctx = chart.getContext("2d");
    ctx.clearRect(0, 0, w, h);
    ctx.strokeStyle = "#2b343e";
    ctx.beginPath();
    [0.25, 0.5, 0.75].forEach(function (q) {
      ctx.moveTo(0, h - q * h); ctx.lineTo(w, h - q * h);
    });
    ctx.stroke();
    var now = Date.now(), t0 = now - CHART_SPAN_MS;
    while (points.length && points[0].t < t0) points.shift();
    var bw = Math.max(2, w / (CHART_SPAN_MS / 1000));
    points.forEach(function (p) {
      var x = (p.t - t0) / CHART_SPAN_MS * w;
      ctx.fillStyle = COLORS[p.mood] || "#888";
      ctx.fillRect(x - bw / 2, h - p.confidence * h, bw, p.confidence * h);
    });
    ctx.fillStyle = "#9aa7b4";
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText("-2 min", 4, h - 4);
    ctx.fillText("now", w - 26, h - 4);
    var last = points.length ? points[points.length - 1] : null;
    chart.setAttribute("aria-label", last ? "Mood over the last two minutes; latest: " +
      last.mood : "Mood over the last two minutes: no data yet");
  }

  function addPoint(t, mood, confidence) {
    var last = points.length ? points[points.length - 1] : null;
    if (last && t - last.t < 1000) return; /* one bar per second */
    points.push({ t: t, mood: mood, confidence: confidence });
  }

  /* ---- server calls ---- */
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.error || ("HTTP " + r.status));
        return j;
      });
    });
  }

  function loadRecommendation() {
    return getJSON("/api/recommendation").then(function (rec) {
      var p = rec.primary >= 0 ? rec.playlists[rec.primary] : null;
      $("rec-why").textContent = (rec.mood ? "You look " + rec.mood : "No mood yet, so for now") +
        ": " + rec.target + " music (" + (rec.strategy === "lift" ? "lift my mood" : "match my mood") + ").";
      $("rec-name").textContent = p ? p.name : "";
      $("rec-desc").textContent = p ? p.description : "";
      var link = $("rec-link");
      if (p) {
        link.href = p.url;
        link.hidden = false;
        link.setAttribute("aria-label", "Open " + p.name + " in Spotify (new tab)");
      } else {
        link.hidden = true;
      }
      var ul = $("rec-more");
      ul.textContent = "";
      rec.playlists.forEach(function (q, i) {
        if (i === rec.primary) return;
        var li = document.createElement("li"), a = document.createElement("a");
        a.href = q.url; a.target = "_blank"; a.rel = "noopener noreferrer";
        a.textContent = q.name;
        li.appendChild(a);
        li.appendChild(document.createTextNode(" \u2013 " + q.description));
        ul.appendChild(li);
      });
      window.dispatchEvent(new CustomEvent("moodsync:recommendation", { detail: rec }));
    }).catch(function (e) { setStatus("Could not load music: " + e.message, true); });
  }

  function setStrategy(value) {
    if (value === lastStrategy) return;
    lastStrategy = value;
    fetch("/api/settings", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ strategy: value })
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return loadRecommendation();
    }).catch(function (e) { setStatus("Could not save the strategy: " + e.message, true); });
  }

  /* ---- frames ---- */
  function sendFrame() {
    if (!running || inflight || video.readyState < 2 || !video.videoWidth) return;
    inflight = true;
    var t0 = performance.now();
    var vw = video.videoWidth, vh = video.videoHeight;
    /* keep the aspect ratio within SEND_W x SEND_H */
    var s = Math.min(SEND_W / vw, SEND_H / vh, 1);
    grab.width = Math.round(vw * s); grab.height = Math.round(vh * s);
    grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
    grab.toBlob(function (blob) {
      if (!blob) { inflight = false; return; }
      fetch("/api/frame", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "image/jpeg" }, body: blob
      }).then(function (r) {
        return r.json().then(function (j) { return { r: r, j: j }; });
      }).then(function (x) {
        if (!x.r.ok) {
          stats.errors++;
          stats.lastError = x.j.error || ("HTTP " + x.r.status);
          if (x.r.status !== 429) setStatus("Server: " + stats.lastError, true);
          return;
        }
        var res = x.j;
        drawBoxes(res);
        drawMood(res.mood, res.model);
        stats.frames++;
        stats.faces = res.faces.length;
        stats.emotion = res.faces.length ? res.faces[0].emotion : null;
        stats.lastServerMs = res.server_ms.total;
        $("faces-note").textContent = res.faces.length > 1
          ? res.faces.length + " faces in view: using the largest (thick box)."
          : res.faces.length ? "One face in view." : "No face in view - look at the camera.";
        if (res.mood.mood) addPoint(Date.now(), res.mood.mood, res.mood.confidence);
        recordRtt(performance.now() - t0);
        if ($("status").className.indexOf("error") >= 0) setStatus("");
      }).catch(function (e) {
        stats.errors++;
        stats.lastError = String(e);
        setStatus("Cannot reach the MoodSync server: " + e.message, true);
      }).then(function () {
        inflight = false;
        showStats();
      });
    }, "image/jpeg", 0.8);
  }

  function cameraError(e) {
    var n = e && e.name;
    if (n === "NotAllowedError" || n === "SecurityError")
      return "Camera access was denied. Allow the camera for this page in your browser's " +
        "site settings, then press Start again.";
    if (n === "NotFoundError" || n === "OverconstrainedError" || n === "DevicesNotFoundError")
      return "No camera was found. Connect a webcam and press Start again.";
    if (n === "NotReadableError" || n === "TrackStartError")
      return "The camera is busy (another application is using it). Close it and press Start again.";
    return "The camera could not start: " + (e && e.message ? e.message : String(e));
  }

  function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      setStatus("This browser cannot use a camera here (it needs http://127.0.0.1 or https).", true);
      return;
    }
    $("start").disabled = true;
    setStatus("Asking for the camera...");
    navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
      audio: false
    }).then(function (s) {
      stream = s;
      video.srcObject = s;
      return video.play();
    }).then(function () {
      running = true;
      $("placeholder").hidden = true;
      $("stop").disabled = false;
      $("stop").focus();
      setStatus("Camera on. Reading your mood...");
      timer = setInterval(sendFrame, FRAME_MS);
    }).catch(function (e) {
      $("start").disabled = false;
      stats.lastError = e && e.name;
      setStatus(cameraError(e), true);
    });
  }

  function stop() {
    running = false;
    clearInterval(timer);
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.srcObject = null;
    drawBoxes(null);
    $("placeholder").hidden = false;
    $("start").disabled = false;
    $("stop").disabled = true;
    $("start").focus();
    setStatus("Camera off.");
  }

  function init() {
    buildBars();
    $("start").addEventListener("click", start);
    $("stop").addEventListener("click", stop);
    Array.prototype.forEach.call(document.querySelectorAll("input[name=strategy]"), function (r) {
      r.addEventListener("change", function () { if (r.checked) setStrategy(r.value); });
    });
    /* settings first: it creates the session cookie the other calls share */
    getJSON("/api/settings").then(function (st) {
      lastStrategy = st.strategy;
      var r = document.querySelector("input[name=strategy][value=" + st.strategy + "]");
      if (r) r.checked = true;
      return Promise.all([
        getJSON("/api/history?limit=600").then(function (h) {
          h.points.forEach(function (p) { addPoint(p.t, p.mood, p.confidence); });
        }),
        loadRecommendation(),
        getJSON("/healthz").then(function (hz) {
          $("health").textContent = "Server: " + hz.note + ".";
          if (!hz.model) drawMood({}, false);
        })
      ]);
    }).catch(function (e) { setStatus("Cannot reach the MoodSync server: " + e.message, true); });
    setInterval(drawChart, 1000);
    drawChart();
    window.addEventListener("resize", drawChart);
  }

  init();
})();
