/* player.js - the music side of the page: the HTML5 <audio> player fed by
 * /api/tracks/{id}/audio, the queue from /api/queue (the next track comes
 * from POST /api/queue/next when one ends or the listener asks), play /
 * pause / next / like / "not my mood" / volume, keyboard shortcuts, the
 * goal switch, the valence/arousal map (the listener, the target and the
 * track, whose dot can be dragged), and the library scan progress. With no
 * local library on the server it shows the mood's playlist suggestion. */
"use strict";
(function () {
  var MS = window.MS, $ = MS.$;
  var audio = $("audio"), plane = $("plane");
  var q = null;                 /* the last /api/queue reply */
  var listener = null;          /* {valence, arousal, feeling} from the mood */
  var noLibrary = false, busy = false, started = false;
  var drag = null, pointTimer = null;
  var chosenFor = null;         /* {feeling, goal} the playing track was chosen for */
  var GOALS = {
    match: "matching your mood", lift: "lifting you up", calm: "calming you down",
    energise: "giving you energy"
  };

  function say(msg, isError) {
    var s = $("status");
    s.textContent = msg;
    s.className = isError ? "status error" : "status";
  }

  function fmt(s) {
    s = Math.max(0, Math.floor(s || 0));
    return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
  }

  /* ---- the queue and the now-playing bar ---- */
  function feelingOf(t) {
    if (!t || typeof t.valence !== "number") return "";
    var v = t.valence, a = t.arousal;
    if (Math.abs(v) < 0.15 && Math.abs(a) < 0.15) return "neutral";
    if (v >= 0) return a >= 0.35 ? "upbeat" : a >= -0.15 ? "bright" : "gentle";
    return a >= 0.15 ? "tense" : v <= -0.35 ? "sad" : "subdued";
  }

  function render(queue) {
    q = queue;
    var t = q && q.now;
    /* the goal switch shows the goal this queue follows, also when another
     * tab or an API client changed it */
    var goal = q && GOALS[q.goal] ? document.querySelector("input[name=strategy][value=" + q.goal + "]") : null;
    if (goal) goal.checked = true;
    var bar = $("player");
    bar.dataset.trackId = t ? String(t.id) : "";
    bar.dataset.valence = t ? String(t.valence) : "";
    bar.dataset.arousal = t ? String(t.arousal) : "";
    $("np-title").textContent = t ? t.title || "Untitled" : "Nothing playing yet";
    $("np-artist").textContent = t && t.artist ? "\u2014 " + t.artist : "";
    $("np-why").textContent = t ? (t.why || "") : noLibrary
      ? "No music library on this server yet: see the suggestion below."
      : "Press \u201cDetect my mood\u201d or \u201cFollow my mood\u201d and music starts.";
    var like = $("pl-like");
    like.setAttribute("aria-pressed", t && t.liked ? "true" : "false");
    like.innerHTML = t && t.liked ? "&#9829;" : "&#9825;";
    if (q && q.listener) listener = q.listener;
    var cf = chosenFor;   /* the mood when this track was picked, not the mood now */
    /* the goal part gives way on a phone (style.css); the title keeps it all */
    var forWord = t && cf && cf.feeling ? MS.word(cf.feeling) : "your mood";
    var forGoal = t && cf && cf.feeling && cf.goal && cf.goal !== "match" ? ", " + GOALS[cf.goal] : "";
    $("np-for-line").hidden = !t;
    $("np-for").textContent = forWord;
    $("np-goal").textContent = forGoal;
    $("np-for-line").title = "Chosen for " + forWord + forGoal;
    var ol = $("queue");
    ol.textContent = "";
    (q && q.next || []).slice(0, 6).forEach(function (n) {
      var li = document.createElement("li");
      li.textContent = (n.title || "Untitled") + (n.artist ? " \u2014 " + n.artist : "");
      var f = document.createElement("span");
      f.className = "muted";
      f.textContent = " \u00b7 " + feelingOf(n);
      li.appendChild(f);
      ol.appendChild(li);
    });
    if (!ol.firstChild) {
      var li = document.createElement("li");
      li.className = "muted";
      li.textContent = noLibrary ? "No local music on this server." : "The queue appears when music plays.";
      ol.appendChild(li);
    }
    drawPlane();
  }

  function load(t) {
    if (!t) return;
    var src = t.url || "/api/tracks/" + t.id + "/audio";
    if (audio.dataset.trackId !== String(t.id)) {
      audio.dataset.trackId = String(t.id);
      audio.src = src;
    }
  }

  function play() {
    var p = audio.play();
    if (p && p.catch) p.catch(function (e) {
      if (e.name === "NotAllowedError") say("Press play (or space) to hear the music: the browser waits for a click.");
    });
  }

  /* Moves to the next track: reason "ended" | "skip" | "user" | "error"
     (unplayable: not the listener's skip). */
  function next(reason) {
    if (busy || noLibrary) return Promise.resolve();
    busy = true;
    return MS.send("POST", "/api/queue/next", { position_s: audio.currentTime || 0, reason: reason })
      .then(function (queue) {
        chosenFor = queue.listener ? { feeling: queue.listener.feeling, goal: queue.goal } : null;
        render(queue);
        if (queue.now) { load(queue.now); play(); }
        else say("No track fits right now: the library may still be scanning.");
      })
      .catch(function (e) { say("Could not get the next track: " + e.message, true); })
      .then(function () { busy = false; });
  }

  /* The first mood of a session starts the music. */
  function start() {
    if (started || noLibrary) return;
    started = true;
    next("user");
  }

  function toggle() {
    if (!audio.src) { started = false; start(); return; }
    started = true;   /* playing already: the next track follows the mood */
    if (audio.paused) play(); else audio.pause();
  }

  function feedback(kind) {
    var t = q && q.now;
    if (!t) return Promise.resolve();
    return MS.send("POST", "/api/tracks/" + t.id + "/feedback", { kind: kind });
  }

  function like() {
    var t = q && q.now;
    if (!t) return;
    var kind = t.liked ? "unlike" : "like";
    feedback(kind).then(function () {
      t.liked = kind === "like";
      render(q);
      say(t.liked ? "Liked: more like this." : "Like removed.");
    }).catch(function (e) { say("Could not save that: " + e.message, true); });
  }

  function notMyMood() {
    if (!(q && q.now)) return;
    feedback("not_mood").catch(function () {}).then(function () { return next("skip"); });
  }

  /* ---- the valence/arousal map ---- */
  function geom() {
    var w = plane.clientWidth, h = plane.clientHeight;
    if (plane.width !== w || plane.height !== h) { plane.width = w; plane.height = h; }
    var pad = 18;
    return {
      w: w, h: h,
      x: function (v) { return pad + (v + 1) / 2 * (w - 2 * pad); },
      y: function (a) { return h - pad - (a + 1) / 2 * (h - 2 * pad); },
      v: function (x) { return Math.max(-1, Math.min(1, (x - pad) / (w - 2 * pad) * 2 - 1)); },
      a: function (y) { return Math.max(-1, Math.min(1, (h - pad - y) / (h - 2 * pad) * 2 - 1)); }
    };
  }

  function dot(ctx, x, y, r, fill, stroke) {
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = fill;
    ctx.fill();
    if (stroke) { ctx.lineWidth = 2; ctx.strokeStyle = stroke; ctx.stroke(); }
  }

  function drawPlane() {
    var g = geom(), ctx = plane.getContext("2d");
    ctx.clearRect(0, 0, g.w, g.h);
    ctx.strokeStyle = "#2b343e";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(g.x(-1), g.y(0)); ctx.lineTo(g.x(1), g.y(0));
    ctx.moveTo(g.x(0), g.y(-1)); ctx.lineTo(g.x(0), g.y(1));
    ctx.stroke();
    ctx.fillStyle = "#9aa7b4";
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText("energetic", g.x(0) + 4, g.y(1) + 4);
    ctx.fillText("calm", g.x(0) + 4, g.y(-1));
    ctx.fillText("unpleasant", g.x(-1), g.y(0) - 4);
    ctx.textAlign = "right";
    ctx.fillText("pleasant", g.x(1), g.y(0) - 4);
    ctx.textAlign = "left";
    var t = q && q.now, tg = q && q.target, parts = [];
    if (listener && typeof listener.valence === "number") {
      dot(ctx, g.x(listener.valence), g.y(listener.arousal), 7, "#4cc38a");
      parts.push("you: " + MS.word(listener.feeling || ""));
    }
    if (tg) {
      dot(ctx, g.x(tg.valence), g.y(tg.arousal), 6, "transparent", "#ffd166");
      parts.push("heading " + (q.goal === "match" ? "to stay there" : GOALS[q.goal] || ""));
    }
    if (t) {
      var tv = drag ? drag.v : t.valence, ta = drag ? drag.a : t.arousal;
      dot(ctx, g.x(tv), g.y(ta), 8, "#4ea8de", document.activeElement === plane ? "#ffffff" : null);
      parts.push("this track: " + feelingOf({ valence: tv, arousal: ta }));
    }
    plane.setAttribute("aria-label", "Mood map. " + (parts.length ? parts.join("; ") + "." : "Empty until music plays."));
  }

  function savePoint(v, a) {
    var t = q && q.now;
    if (!t) return;
    MS.send("POST", "/api/tracks/" + t.id + "/point", { valence: v, arousal: a }).then(function (nt) {
      if (q && q.now && q.now.id === nt.id) { q.now.valence = nt.valence; q.now.arousal = nt.arousal; }
      drag = null;
      render(q);
      say("Thanks: this track now sits where you put it.");
    }).catch(function (e) { drag = null; drawPlane(); say("Could not move the track: " + e.message, true); });
  }

  function planeEvents() {
    plane.addEventListener("pointerdown", function (e) {
      var t = q && q.now;
      if (!t) return;
      var g = geom(), r = plane.getBoundingClientRect();
      var x = e.clientX - r.left, y = e.clientY - r.top;
      if (Math.hypot(x - g.x(t.valence), y - g.y(t.arousal)) > 16) return;
      drag = { v: t.valence, a: t.arousal, id: e.pointerId };
      plane.setPointerCapture(e.pointerId);
    });
    plane.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var g = geom(), r = plane.getBoundingClientRect();
      drag.v = g.v(e.clientX - r.left);
      drag.a = g.a(e.clientY - r.top);
      drawPlane();
    });
    plane.addEventListener("pointerup", function () {
      if (drag) savePoint(drag.v, drag.a);
    });
    plane.addEventListener("keydown", function (e) {
      var t = q && q.now, d = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, 0.1], ArrowDown: [0, -0.1] }[e.key];
      if (!t || !d) return;
      e.preventDefault();
      e.stopPropagation();
      if (!drag) drag = { v: t.valence, a: t.arousal };
      drag.v = Math.max(-1, Math.min(1, drag.v + d[0]));
      drag.a = Math.max(-1, Math.min(1, drag.a + d[1]));
      drawPlane();
      clearTimeout(pointTimer);
      pointTimer = setTimeout(function () { if (drag) savePoint(drag.v, drag.a); }, 700);
    });
    plane.addEventListener("focus", drawPlane);
    plane.addEventListener("blur", drawPlane);
    window.addEventListener("resize", drawPlane);
  }

  /* ---- goal, library, fallback ---- */
  function setGoal(value, radio) {
    MS.send("POST", "/api/settings", { strategy: value }).then(function () {
      say("Got it: music " + GOALS[value] + ". It changes from the next track.");
      return noLibrary ? loadSuggestion() : MS.getJSON("/api/queue").then(render);
    }).catch(function (e) {
      say("Could not change the goal: " + e.message, true);
      MS.getJSON("/api/settings").then(checkGoal).catch(function () {});
      if (radio) radio.checked = false;
    });
  }

  function checkGoal(st) {
    var r = document.querySelector("input[name=strategy][value=" + st.strategy + "]");
    if (r) r.checked = true;
    $("set-group").checked = st.group !== false;
  }

  function library() {
    MS.getJSON("/api/library").then(function (l) {
      var el = $("library");
      if (l.scanning) {
        el.textContent = "Finding your music: " + l.done + " of " + l.total + " files" +
          (l.eta_s > 0 ? ", about " + Math.ceil(l.eta_s) + " s left" : "") + "\u2026";
        setTimeout(library, 2000);
      } else {
        el.textContent = "Library: " + l.tracks + " tracks" +
          (l.skipped ? " (" + l.skipped + " files could not be read)" : "") + ".";
      }
    }).catch(function (e) {
      if (e.status === 404) fallback();
    });
  }

  function loadSuggestion() {
    return MS.getJSON("/api/recommendation").then(function (rec) {
      var p = rec.primary >= 0 ? rec.playlists[rec.primary] : null;
      $("rec").hidden = !p;
      if (!p) return;
      $("rec-why").textContent = (rec.mood ? "For your " + MS.word(rec.mood) + " mood" : "For now") +
        ", a playlist to open in Spotify:";
      $("rec-name").textContent = p.name;
      $("rec-desc").textContent = " \u2014 " + p.description;
      $("rec-link").href = p.url;
    }).catch(function () {});
  }

  /* The server has no local library: suggest a playlist instead. */
  function fallback() {
    noLibrary = true;
    $("library").textContent = "";
    render(null);
    loadSuggestion();
  }

  function keys() {
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      var t = e.target, tag = t && t.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || t.isContentEditable) return;
      var k = e.key;
      if (k === " " || k === "Spacebar") {
        if (tag === "BUTTON" || tag === "A" || tag === "SUMMARY") return;  /* space clicks it */
        e.preventDefault();
        toggle();
      } else if (k === "n") next("user");
      else if (k === "l") like();
      else if (k === "s") notMyMood();
      else if (k === "ArrowUp" || k === "ArrowDown") {
        e.preventDefault();
        var v = Math.max(0, Math.min(1, audio.volume + (k === "ArrowUp" ? 0.1 : -0.1)));
        audio.volume = v;
        $("pl-volume").value = String(Math.round(v * 100));
      } else if (k === "d" || k === "f" || k === "x" || k === "c") MS.emit("key", k);
    });
  }

  function init() {
    var vol = parseFloat(localStorage.getItem("moodsync.volume"));
    audio.volume = isFinite(vol) ? vol : 0.8;
    $("pl-volume").value = String(Math.round(audio.volume * 100));
    $("pl-volume").addEventListener("input", function (e) {
      audio.volume = e.target.value / 100;
      localStorage.setItem("moodsync.volume", String(audio.volume));
    });
    $("pl-play").addEventListener("click", toggle);
    $("pl-next").addEventListener("click", function () { next("user"); });
    $("pl-like").addEventListener("click", like);
    $("pl-skip").addEventListener("click", notMyMood);
    audio.addEventListener("ended", function () { next("ended"); });
    audio.addEventListener("play", function () {
      $("pl-play").innerHTML = "&#10073;&#10073;";
      $("pl-play").setAttribute("aria-label", "Pause");
      document.body.dataset.playing = "yes";
    });
    audio.addEventListener("pause", function () {
      $("pl-play").innerHTML = "&#9654;";
      $("pl-play").setAttribute("aria-label", "Play");
      document.body.dataset.playing = "no";
    });
    audio.addEventListener("timeupdate", function () {
      var d = audio.duration || (q && q.now && q.now.duration_s) || 0;
      $("np-progress").style.width = d ? (100 * audio.currentTime / d).toFixed(1) + "%" : "0";
      $("np-progress").parentNode.title = fmt(audio.currentTime) + " / " + fmt(d);
    });
    /* A file this browser cannot decode (Chromium rejects some valid Ogg
       streams) gets one more try as the server's PCM WAV of it. */
    audio.addEventListener("error", function () {
      if (!audio.src) return;
      var u = new URL(audio.src);
      if (/^\/api\/tracks\/\d+\/audio$/.test(u.pathname) && !u.searchParams.has("as")) {
        audio.src = u.pathname + "?as=wav";
        play();
        return;
      }
      say("This track could not be played; moving on.", true);
      if (q && q.now) setTimeout(function () { next("error"); }, 1500);
    });
    Array.prototype.forEach.call(document.querySelectorAll("input[name=strategy]"), function (r) {
      r.addEventListener("change", function () { if (r.checked) setGoal(r.value, r); });
    });
    $("set-group").addEventListener("change", function (e) {
      MS.send("POST", "/api/settings", { group: e.target.checked }).catch(function (err) {
        say("Could not save that setting: " + err.message, true);
      });
    });
    MS.on("mood", function (m) {
      if (typeof m.valence === "number") listener = { valence: m.valence, arousal: m.arousal, feeling: m.feeling };
      drawPlane();
      if (noLibrary) loadSuggestion();
    });
    MS.on("mood-ready", start);
    /* the upcoming tracks and the target follow the new mood at once */
    MS.on("mood-changed", function () {
      if (!noLibrary && started) MS.getJSON("/api/queue").then(render).catch(function () {});
    });
    planeEvents();
    keys();
    MS.getJSON("/api/settings").then(checkGoal).catch(function () {});
    MS.getJSON("/api/queue").then(function (queue) {
      if (queue.now && queue.listener) chosenFor = { feeling: queue.listener.feeling, goal: queue.goal };
      render(queue);
      load(queue.now);   /* ready for the play button; a mood reading picks anew */
    }).catch(function (e) {
      if (e.status === 404) fallback();
    });
    library();
  }

  window.moodsyncPlayer = { next: next, toggle: toggle, state: function () { return q; } };
  init();
})();
