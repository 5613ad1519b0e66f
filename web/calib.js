/* calib.js - the "Calibrate" step of the page: the listener looks at the
 * camera with a relaxed face for three seconds, the server takes those
 * faces as their resting face (POST /api/mood/calibrate) and reads every
 * later face relative to it; "Reset calibration" forgets it (DELETE).
 * Uses the camera of app.js (window.moodsyncCamera): its own short run
 * when the camera is off, the running one while following. Progress comes
 * from the frame replies' "calibration" member. */
"use strict";
(function () {
  var MS = window.MS, $ = MS.$;
  var SECONDS = 3;
  var GIVE_UP_MS = 15000;       /* no camera or no reply: stop waiting */
  var step = null;              /* {posted, own, started} while running */

  function show(state, text) {
    $("calib").dataset.state = state;
    $("calib-status").textContent = text;
    $("calib-progress").hidden = state !== "calibrating";
    $("calib-start").disabled = state === "calibrating";
    $("calib-start").textContent = state === "on" ? "Calibrate again" : "Calibrate";
  }

  function progress(p) {
    var v = Math.round(100 * Math.max(0, Math.min(1, p)));
    $("calib-bar").style.width = v + "%";
    $("calib-progress").setAttribute("aria-valuenow", String(v));
  }

  function showCalibrated(c) {
    $("calib-reset").hidden = !(c && c.calibrated && c.baseline === "explicit");
  }

  function finish(state, text) {
    var own = step && step.own;
    step = null;
    show(state, text);
    if (own) window.moodsyncCamera.endCalib(state === "on" ? "Calibrated: camera off." : text);
    (state === "on" ? $("calib-reset") : $("calib-start")).focus();
  }

  function post() {
    step.posted = true;
    MS.send("POST", "/api/mood/calibrate", { seconds: SECONDS }).then(function (m) {
      if (step) progress(m.calibration.progress);
    }).catch(function (e) {
      if (step) finish("failed", "Could not calibrate: " + e.message);
    });
  }

  /* Every frame reply while a step runs: the first one (the camera is
   * live) starts the step, the later ones move the bar and end it. */
  function onFrame(res) {
    if (!step) return;
    if (!step.posted) {
      if (res.model === false) { finish("failed", "This server has no emotion model: nothing to calibrate."); return; }
      post();
      return;
    }
    var c = res.mood && res.mood.calibration;
    if (!c) return;
    if (c.state === "calibrating") {
      progress(c.progress);
      $("calib-status").textContent = "Keep a relaxed face: " + Math.ceil(c.seconds_left) + " s\u2026";
      return;
    }
    showCalibrated(c);
    if (c.state === "on")
      finish("on", "Calibrated on " + c.frames + " frames of your relaxed face. Your mood is now read relative to it.");
    else
      finish("failed", "I could not see your face. Face the camera in good light and try again.");
  }

  /* The camera stopped during a step: the server ends it on its own
   * clock; ask how it went once that has run out. */
  function onStopped() {
    if (!step) return;
    var mine = step;
    mine.own = false;   /* the camera is off already */
    if (!mine.posted) { step = null; show("off", "Calibration stopped."); return; }
    setTimeout(function () {
      if (step !== mine) return;
      MS.getJSON("/api/mood").then(function (m) {
        if (step !== mine) return;
        onFrame({ mood: m });
      }).catch(function () { if (step === mine) finish("failed", "Calibration stopped."); });
    }, SECONDS * 1000 + 300);
  }

  function start() {
    if (step) return;
    var cam = window.moodsyncCamera, m = cam.mode();
    if (m === "detect") cam.stop();
    step = { posted: false, own: m !== "follow", started: Date.now() };
    show("calibrating", "Look at the camera with a relaxed face\u2026");
    progress(0);
    if (step.own) cam.start("calib");
    if (cam.mode() !== "calib" && cam.mode() !== "follow") {
      step = null;
      show("failed", "The camera is needed to calibrate.");
      return;
    }
    var mine = step;
    setTimeout(function () {
      if (step === mine) finish("failed", "Calibration timed out: is the camera on and your face in view?");
    }, GIVE_UP_MS);
  }

  function reset() {
    MS.send("DELETE", "/api/mood/calibrate").then(function (m) {
      showCalibrated(m.calibration);
      show("off", "Calibration reset: your face is read as it is.");
      $("calib-start").focus();
    }).catch(function (e) { $("calib-status").textContent = "Could not reset: " + e.message; });
  }

  function init() {
    $("calib-start").addEventListener("click", start);
    $("calib-reset").addEventListener("click", reset);
    MS.on("frame", onFrame);
    MS.on("stopped", onStopped);
    MS.on("key", function (k) { if (k === "c") start(); });
    MS.getJSON("/api/mood").then(function (m) {
      var c = m.calibration;
      if (!c || step) return;
      showCalibrated(c);
      if (c.calibrated && c.baseline === "explicit")
        show("on", "Calibrated on " + c.frames + " frames of your relaxed face.");
      else if (c.calibrated && c.baseline === "auto")
        show("off", "Learning your resting face as you go (automatic baseline).");
    }).catch(function () {});
  }

  init();
})();
