/* app.js - reading the listener's mood: the camera (getUserMedia) in two
 * ways, "Detect my mood" (a short look, then the camera goes off) and
 * "Follow my mood" (frames at ~10 fps, one request in flight), a photo
 * instead of the camera, face boxes with labels on a backdrop, the mood
 * label and bars drawn from one reply so they never disagree, group mode,
 * and "That's not me - I feel..." (the listener's choice wins). Emits
 * "mood" (every reading) and "mood-ready" (music may start). Round trips
 * are kept in window.moodsyncStats for the details view and the tests;
 * every frame reply is emitted as "frame" (calib.js). */
"use strict";
(function () {
  var MS = window.MS, $ = MS.$, MOODS = MS.MOODS, COLORS = MS.COLORS;
  var FRAME_MS = 100;          /* ~10 frames per second */
  var DETECT_MS = 2500;        /* "Detect my mood": look this long at a face */
  var DETECT_GIVE_UP_MS = 10000;
  var SEND_W = 320, SEND_H = 240;
  var FEELINGS = ["happy", "excited", "calm", "tired", "sad", "anxious", "tense",
                  "surprised", "neutral"];

  var video = $("video"), overlay = $("overlay"), photo = $("photo");
  var grab = document.createElement("canvas");
  var stream = null, timer = null, inflight = false;
  var mode = "off";            /* off | detect | follow | photo */
  var gen = 0;                 /* bumps on every start/stop: late replies are dropped */
  var fresh = false;           /* the next frame starts a new reading */
  var detectFirstFace = 0, detectStarted = 0, lastMood = null, announced = null;
  var stats = window.moodsyncStats = {
    frames: 0, errors: 0, rtt: [], p50: null, p95: null, lastRtt: null,
    lastServerMs: null, faces: 0, emotion: null, mood: null, lastError: null, mode: "off"
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
    $("stats").textContent = "Frames " + stats.frames + " \u00b7 round trip p50 " +
      stats.p50.toFixed(1) + " ms, p95 " + stats.p95.toFixed(1) + " ms \u00b7 server " +
      (stats.lastServerMs === null ? "-" : stats.lastServerMs.toFixed(1)) + " ms" +
      (stats.errors ? " \u00b7 errors " + stats.errors : "");
  }

  /* ---- bars and the mood label ---- */
  function buildBars() {
    MOODS.forEach(function (m) {
      var li = document.createElement("li");
      li.id = "bar-" + m;
      li.dataset.mood = m;
      var name = document.createElement("span");
      name.textContent = MS.word(m);
      var bar = document.createElement("div");
      bar.className = "bar";
      bar.setAttribute("role", "progressbar");
      bar.setAttribute("aria-label", MS.word(m));
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", "100");
      bar.setAttribute("aria-valuenow", "0");
      var fill = document.createElement("span");
      fill.className = "fill-" + m;
      bar.appendChild(fill);
      var val = document.createElement("span");
      val.className = "val";
      val.textContent = "0%";
      li.appendChild(name); li.appendChild(bar); li.appendChild(val);
      $("bars").appendChild(li);
    });
  }

  /* Draws the bars from probs (or empties them: null) and returns the
   * leading mood, null when there is none. */
  function drawBars(probs) {
    var top = null;
    if (probs) MOODS.forEach(function (m) {
      if ((probs[m] || 0) > 0 && (top === null || probs[m] > probs[top])) top = m;
    });
    MOODS.forEach(function (m) {
      var li = $("bar-" + m), p = probs ? Math.round(100 * (probs[m] || 0)) : 0;
      li.className = m === top ? "top" : "";
      li.querySelector(".bar span").style.width = p + "%";
      li.querySelector(".bar").setAttribute("aria-valuenow", String(p));
      li.querySelector(".val").textContent = p + "%";
    });
    return top;
  }

  function setLabel(text, state, mood, detail) {
    var l = $("mood-label");
    l.textContent = text;
    l.dataset.state = state;
    l.dataset.mood = mood || "";
    $("mood-detail").textContent = detail || "";
    /* announce settled changes only, not every frame */
    var key = state + ":" + (mood || "");
    l.setAttribute("aria-live", key !== announced ? "polite" : "off");
    announced = key;
  }

  /* The mood the listener chose: the fused mood where the server fuses
   * sources, else the reply's mood. */
  function chosenMood(m) {
    return m.fused_mood || (m.sources && m.sources.override && m.sources.override.mood) || m.mood;
  }

  /* The label and the bars come from the same reply: the label names the
   * mood that leads the bars, or says it is changing to it. */
  function renderMood(m) {
    var top = drawBars(m.probs);
    stats.mood = m.mood;
    $("bars-caption").textContent = m.source === "override"
      ? "What the camera sees (your choice wins)" : "What the camera sees";
    if (m.source === "override") {
      setLabel("You feel " + MS.word(m.feeling || chosenMood(m)), "override", chosenMood(m),
               "Your choice: the music follows it until you go back to your face.");
    } else if (!m.mood) {
      setLabel(mode === "off" ? "No mood yet" : "Reading your face\u2026", "none", null, "");
    } else if (top && top !== m.mood) {
      setLabel("Changing to " + MS.word(top) + "\u2026", "changing", top,
               "Was " + MS.word(m.mood) + ". The music changes at the end of the track.");
    } else {
      var words = m.source === "text" || m.source === "fused";
      setLabel(MS.word(m.mood), "stable", m.mood, words
        ? "With your words, the music follows: " + MS.word(m.feeling)
        : (m.feeling ? "Feeling " + MS.word(m.feeling) : "") +
          (m.probs[m.mood] ? " \u00b7 " + Math.round(100 * m.probs[m.mood]) + "% sure" : ""));
    }
    var g = $("group-note");
    if (m.group) g.textContent = "Group of " + m.faces + ": everyone's mood, blended";
    else if (m.faces > 1) g.textContent = m.faces + " faces: following the nearest one";
    g.hidden = !(m.faces > 1);
    $("override-clear").hidden = m.source !== "override";
    if (!$("feel-now").hidden) showSources(m);
    if (!lastMood || lastMood.mood !== m.mood) MS.emit("mood-changed", m);
    lastMood = m;
    MS.emit("mood", m);
  }

  /* ---- face boxes ---- */
  function drawBoxes(res, mirrored) {
    var w = overlay.clientWidth, h = overlay.clientHeight;
    if (overlay.width !== w || overlay.height !== h) { overlay.width = w; overlay.height = h; }
    var ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, w, h);
    if (!res || !res.width) return;
    var s = Math.min(w / res.width, h / res.height);   /* object-fit: contain */
    var ox = (w - res.width * s) / 2, oy = (h - res.height * s) / 2;
    ctx.font = "600 15px system-ui, sans-serif";
    res.faces.forEach(function (f, i) {
      var b = f.box, x = ox + b.x * s, y = oy + b.y * s, bw = b.w * s, bh = b.h * s;
      var col = COLORS[f.emotion] || "#4cc38a";
      ctx.lineWidth = i === 0 || res.mood && res.mood.group ? 3 : 1.5;
      ctx.strokeStyle = col;
      ctx.strokeRect(x, y, bw, bh);
      if (!f.emotion) return;
      var text = MS.word(f.emotion) + " " + Math.round(100 * f.confidence) + "%";
      var tw = ctx.measureText(text).width + 12, th = 22;
      /* the canvas is mirrored by CSS for the camera: place the label
       * where it shows above the box, and un-mirror the text */
      var lx = mirrored ? w - (x + bw) : x, ly = Math.max(0, y - th - 2);
      ctx.save();
      if (mirrored) { ctx.scale(-1, 1); lx = -w + lx; }
      ctx.fillStyle = "rgba(10, 14, 18, 0.82)";
      ctx.fillRect(lx, ly, tw, th);
      ctx.fillStyle = col;
      ctx.fillRect(lx, ly + th - 3, tw, 3);
      ctx.fillStyle = "#ffffff";
      ctx.fillText(text, lx + 6, ly + 16);
      ctx.restore();
    });
  }

  /* ---- frames ---- */
  function handleFrame(res, myGen, t0) {
    if (myGen !== gen) return;              /* stopped meanwhile: drop it */
    drawBoxes(res, mode !== "photo");
    if (!res.model) {
      setLabel("Faces only", "none", null, "This server has no emotion model, so it sees faces but not moods.");
      drawBars(null);
    } else {
      renderMood(res.mood);
    }
    stats.frames++;
    stats.faces = res.faces.length;
    stats.emotion = res.faces.length ? res.faces[0].emotion : null;
    stats.lastServerMs = res.server_ms.total;
    if (t0) recordRtt(performance.now() - t0);
    if (!res.faces.length && mode !== "off") setStatus("No face in view: look at the camera.");
    else if ($("status").className.indexOf("error") < 0) setStatus(statusLine());
    if (mode === "detect" && res.faces.length && res.mood.mood) {
      if (!detectFirstFace) detectFirstFace = Date.now();
      /* done after the look, once the settled mood leads the bars */
      if (Date.now() - detectFirstFace >= DETECT_MS &&
          (res.mood.leader === res.mood.mood || res.mood.source === "override")) finishDetect();
    }
    if (mode === "follow" && res.mood.mood) MS.emit("mood-ready", res.mood);
    MS.emit("frame", res);   /* last: a listener may turn the camera off */
  }

  function statusLine() {
    if (mode === "detect") return "Looking at you for a moment\u2026";
    if (mode === "follow") return "Following your mood. The music changes between tracks.";
    if (mode === "calib") return "Calibrating: look at the camera with a relaxed face\u2026";
    return "";
  }

  function frameError(e, myGen) {
    if (myGen !== gen) return;
    stats.errors++;
    stats.lastError = e.message;
    if (e.status !== 429) setStatus(e.status ? "Server: " + e.message : e.message, true);
  }

  function sendFrame() {
    if (mode === "detect" && Date.now() - detectStarted > DETECT_GIVE_UP_MS) {
      stop("I could not see a face. Face the camera in good light and try again.");
      return;
    }
    if (inflight || video.readyState < 2 || !video.videoWidth) return;
    inflight = true;
    var t0 = performance.now(), myGen = gen;
    var vw = video.videoWidth, vh = video.videoHeight;
    var s = Math.min(SEND_W / vw, SEND_H / vh, 1);   /* keep the aspect ratio */
    grab.width = Math.round(vw * s); grab.height = Math.round(vh * s);
    grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
    grab.toBlob(function (blob) {
      if (!blob || myGen !== gen) { inflight = false; return; }
      var url = "/api/frame" + (fresh ? "?reset=1" : "");
      fresh = false;
      MS.sendImage(url, blob, "image/jpeg")
        .then(function (res) { handleFrame(res, myGen, t0); })
        .catch(function (e) { frameError(e, myGen); })
        .then(function () { inflight = false; });
    }, "image/jpeg", 0.8);
  }

  function cameraError(e) {
    var n = e && e.name;
    if (n === "NotAllowedError" || n === "SecurityError")
      return "Camera access was denied. Allow the camera for this page in your browser's " +
        "site settings and try again, or use a photo instead.";
    if (n === "NotFoundError" || n === "OverconstrainedError" || n === "DevicesNotFoundError")
      return "No camera was found. Connect a webcam and try again, or use a photo instead.";
    if (n === "NotReadableError" || n === "TrackStartError")
      return "The camera is busy (another application is using it). Close it and try again.";
    return "The camera could not start: " + (e && e.message ? e.message : String(e));
  }

  function live() {
    return mode === "detect" || mode === "follow" || mode === "calib";
  }

  function setButtons() {
    var on = live();
    $("detect").disabled = on;
    $("start").disabled = on;
    $("stop").disabled = !on;
    stats.mode = mode;
    document.body.dataset.camera = on ? "on" : "off";
  }

  function startCamera(newMode) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      setStatus("This browser cannot use a camera here (it needs http://127.0.0.1 or https). " +
                "You can use a photo instead.", true);
      return;
    }
    if (live()) return;
    gen++;
    mode = newMode;
    fresh = true;
    detectFirstFace = 0;
    detectStarted = Date.now();
    setButtons();
    photo.hidden = true;
    setStatus("Asking for the camera\u2026");
    var myGen = gen;
    navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
      audio: false
    }).then(function (s) {
      if (myGen !== gen) { s.getTracks().forEach(function (t) { t.stop(); }); return null; }
      stream = s;
      video.srcObject = s;
      return video.play();
    }).then(function () {
      if (myGen !== gen) return;
      $("placeholder").hidden = true;
      $("stage").classList.remove("photo-mode");
      setStatus(statusLine());
      detectStarted = Date.now();
      timer = setInterval(sendFrame, FRAME_MS);
      $("stop").focus();
    }).catch(function (e) {
      if (myGen !== gen) return;
      mode = "off";
      setButtons();
      stats.lastError = e && e.name;
      setStatus(cameraError(e), true);
    });
  }

  function cameraOff() {
    clearInterval(timer);
    timer = null;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.srcObject = null;
    inflight = false;
  }

  /* Camera off, no box drawn, the placeholder back: what every way of
   * ending a look (detect done, calibration over, Stop) shares. */
  function offline() {
    gen++;
    cameraOff();
    mode = "off";
    setButtons();
    drawBoxes(null);
    $("placeholder").hidden = false;
  }

  /* "Detect my mood" is done: camera off, the result stays, music starts. */
  function finishDetect() {
    var m = lastMood;
    offline();
    if (m && m.mood) {
      setLabel("Detected mood: " + MS.word(m.mood), "detected", m.mood,
               (m.feeling ? "Feeling " + MS.word(m.feeling) + ". " : "") +
               "The camera is off. Press Detect again any time.");
      setStatus("Done: camera off.");
      MS.emit("mood-ready", m);
    }
    $("detect").focus();
  }

  /* The calibration step (calib.js) is over: the camera it started goes
   * off, the reading stays. */
  function endCalib(msg) {
    if (mode !== "calib") return;
    offline();
    setStatus(msg || "Camera off.");
  }

  /* Stop: camera off and nothing left that looks live. */
  function stop(msg) {
    if (!live()) return;
    offline();
    drawBars(null);
    $("group-note").hidden = true;
    var m = lastMood;
    if (m && m.source === "override")
      setLabel("You feel " + MS.word(m.feeling || chosenMood(m)), "override", chosenMood(m),
               "Your choice. The camera is off.");
    else
      setLabel("Camera off", "off", null, m && m.mood
        ? "The music keeps your last mood (" + MS.word(m.mood) + ") until you read it again."
        : "");
    setStatus(typeof msg === "string" ? msg : "Camera off.", typeof msg === "string");
    $("start").focus();
    MS.emit("stopped");
  }

  /* ---- a photo instead of the camera ---- */
  function usePhoto(file) {
    if (!file) return;
    if (!/^image\/(jpeg|png)$/.test(file.type)) {
      setStatus("Please pick a JPEG or PNG photo.", true);
      return;
    }
    stop();
    gen++;
    mode = "photo";
    var myGen = gen;
    if (photo.src) URL.revokeObjectURL(photo.src);
    photo.src = URL.createObjectURL(file);
    photo.hidden = false;
    $("placeholder").hidden = true;
    $("stage").classList.add("photo-mode");
    setStatus("Reading the photo\u2026");
    MS.sendImage("/api/frame?reset=1", file, file.type).then(function (res) {
      if (myGen !== gen) return;
      handleFrame(res, myGen, 0);
      mode = "off";
      setButtons();
      if (!res.faces.length) {
        setStatus("No face found in that photo. Try one with a clear, front-facing face.", true);
        return;
      }
      var m = res.mood;
      if (m.mood && m.source !== "override") {
        setLabel("Detected mood: " + MS.word(m.mood), "detected", m.mood,
                 (m.feeling ? "Feeling " + MS.word(m.feeling) + ", " : "") + "from your photo.");
      }
      setStatus("Photo read.");
      MS.emit("mood-ready", m);
    }).catch(function (e) {
      if (myGen !== gen) return;
      mode = "off";
      setStatus("That photo could not be read: " + e.message, true);
    });
  }

  /* ---- "That's not me - I feel..." ---- */
  function buildOverride() {
    var box = $("override-choices");
    FEELINGS.forEach(function (f) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "chip";
      b.dataset.feeling = f;
      b.textContent = MS.word(f);
      b.addEventListener("click", function () { choose(f); });
      box.appendChild(b);
    });
    $("override-clear").addEventListener("click", function () {
      MS.send("DELETE", "/api/mood/override").then(function (m) {
        renderMood(m);
        setStatus("Back to reading your face.");
      }).catch(function (e) { setStatus("Could not go back: " + e.message, true); });
    });
  }

  function choose(feeling) {
    MS.send("POST", "/api/mood/override", { mood: feeling }).then(function (m) {
      renderMood(m);
      if (mode === "off") drawBars(null);
      setStatus("Got it: you feel " + MS.word(feeling) + ".");
      MS.emit("mood-ready", m);
    }).catch(function (e) { setStatus("Could not save that: " + e.message, true); });
  }

  /* ---- words: POST /api/text, when this server reads text ---- */
  var SOURCE_WORDS = { face: "your face", text: "your words", override: "your choice" };

  function showSources(m) {
    if (!m || !m.feeling || !m.sources) return;
    var now = $("feel-now"), ul = $("feel-sources");
    now.hidden = false;
    now.textContent = "Feeling " + MS.word(m.feeling) + " (from " +
      (m.source === "fused" ? "your face and words together" : SOURCE_WORDS[m.source] || m.source) + ")";
    now.dataset.feeling = m.feeling;
    now.dataset.source = m.source;
    ul.textContent = "";
    Object.keys(m.sources).forEach(function (k) {
      var x = m.sources[k], li = document.createElement("li");
      li.dataset.source = k;
      li.textContent = (SOURCE_WORDS[k] || k) + ": " + MS.word(x.mood) + ", " +
        (x.age_s < 60 ? Math.round(x.age_s) + " s ago" : Math.round(x.age_s / 60) + " min ago") +
        (typeof x.share === "number" ? ", weight " + Math.round(100 * x.share) + "%" : "");
      ul.appendChild(li);
    });
  }

  function textBox() {
    MS.getJSON("/api/text").catch(function (e) {
      if (e.status === 405) $("feel-form").hidden = false;   /* the route is there (POST) */
    });
    $("feel-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var text = $("feel-text").value.trim(), st = $("feel-status");
      if (!text) { st.textContent = "Type a few words first."; return; }
      $("feel-send").disabled = true;
      st.textContent = "Reading\u2026";
      MS.send("POST", "/api/text", { text: text }).then(function (r) {
        st.textContent = "Your words read " + MS.word(r.mood) + " (" + MS.word(r.feeling) + ").";
        $("feel-text").value = "";
        if (r.fused) { renderMood(r.fused); showSources(r.fused); }
        MS.emit("mood-ready", r.fused || r);
      }).catch(function (err) {
        st.textContent = "Could not read that: " + err.message;
      }).then(function () { $("feel-send").disabled = false; });
    });
  }

  function init() {
    buildBars();
    buildOverride();
    textBox();
    $("set-details").addEventListener("change", function (e) { $("details").hidden = !e.target.checked; });
    $("detect").addEventListener("click", function () { startCamera("detect"); });
    $("start").addEventListener("click", function () { startCamera("follow"); });
    $("stop").addEventListener("click", function () { stop(); });
    $("upload").addEventListener("change", function (e) {
      usePhoto(e.target.files && e.target.files[0]);
      e.target.value = "";
    });
    MS.on("key", function (k) {
      if (k === "d") startCamera("detect");
      else if (k === "f") startCamera("follow");
      else if (k === "x") stop();
    });
    MS.getJSON("/api/mood").then(function (m) {
      if (m.source === "override") renderMood(m);
      else if (m.mood) {
        setLabel("Last mood: " + MS.word(m.mood), "off", m.mood,
                 "From your last visit. Read it again with the buttons above.");
        lastMood = m;
      }
    }).catch(function () {});
    MS.getJSON("/healthz").then(function (hz) {
      $("health").textContent = "Server: " + hz.note + "; " + hz.sessions + " session(s).";
      if (!hz.model) setLabel("Faces only", "none", null,
        "This server has no emotion model, so it sees faces but not moods.");
    }).catch(function (e) { setStatus(e.message, true); });
  }

  window.moodsyncCamera = {
    stop: stop, usePhoto: usePhoto, endCalib: endCalib,
    start: function (m) { startCamera(m); },
    mode: function () { return mode; }
  };
  init();
})();
