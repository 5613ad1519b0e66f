/* common.js - what every script of the MoodSync page shares (window.MS):
 * the one JSON helper for reads and the one for state-changing requests
 * (JSON body, X-MoodSync header), the page's event bus, the mood names in
 * a listener's words and their colours. Loaded first; no DOM work here. */
"use strict";
(function () {
  var MOODS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];
  var COLORS = {
    angry: "#ff6b6b", disgust: "#9bc53d", fear: "#b388ff", happy: "#ffd166",
    sad: "#4ea8de", surprise: "#f78c6b", neutral: "#9aa7b4"
  };
  /* how the page says each class or feeling */
  var WORDS = {
    angry: "angry", disgust: "disgusted", fear: "afraid", happy: "happy", sad: "sad",
    surprise: "surprised", neutral: "neutral", excited: "excited", calm: "calm",
    tired: "tired", anxious: "anxious", tense: "tense", surprised: "surprised"
  };

  /* Resolves with the parsed JSON body of a 2xx reply; otherwise rejects
   * with an Error whose message is the server's own sentence (or a plain
   * one), with .status (0: no connection) and .body (the parsed body). */
  function request(url, opts) {
    return fetch(url, Object.assign({ credentials: "same-origin" }, opts || {}))
      .catch(function (e) {
        var err = new Error("Cannot reach the MoodSync server (" + e.message + ")");
        err.status = 0;
        err.body = {};
        throw err;
      })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (r.ok) return j;
          var err = new Error(j.error || ("HTTP " + r.status));
          err.status = r.status;
          err.body = j;
          throw err;
        });
      });
  }

  function getJSON(url) {
    return request(url);
  }

  /* A state-changing request with the Content-Type and X-MoodSync headers
   * the server asks for; `body` (an object) is sent as JSON, none when
   * omitted (some commands take no body). */
  function send(method, url, body) {
    var opts = { method: method, headers: { "Content-Type": "application/json", "X-MoodSync": "1" } };
    if (body !== undefined && body !== null) opts.body = JSON.stringify(body);
    return request(url, opts);
  }

  /* An image (camera frame or photo) for /api/frame. */
  function sendImage(url, blob, type) {
    return request(url, {
      method: "POST",
      headers: { "Content-Type": type, "X-MoodSync": "1" },
      body: blob
    });
  }

  function on(name, fn) {
    window.addEventListener("moodsync:" + name, function (e) { fn(e.detail); });
  }

  function emit(name, detail) {
    window.dispatchEvent(new CustomEvent("moodsync:" + name, { detail: detail }));
  }

  function word(name) {
    return WORDS[name] || name || "";
  }

  function $(id) {
    return document.getElementById(id);
  }

  window.MS = {
    MOODS: MOODS, COLORS: COLORS, word: word, $: $, getJSON: getJSON, send: send,
    sendImage: sendImage, on: on, emit: emit
  };
})();
