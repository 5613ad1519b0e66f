/* spotify.js - the Spotify panel of the MoodSync page (issue 5): connect /
 * disconnect, the sign-in state, device picker, now playing, play / pause /
 * next, the auto-play switch, the playlists Spotify found for the mood, and
 * a clear sentence for every failure. It only talks to our server
 * (/api/spotify/*), which does every Spotify call on its own worker; this
 * file polls /api/spotify/status for the results. Server text is always
 * inserted as text, never as HTML. */
(function () {
  "use strict";

  var POLL_MS = 2000, FAST_MS = 300, FAST_FOR_MS = 4000;
  var root = document.getElementById("spotify");
  if (!root) return;
  var el = {}, last = null, fastUntil = 0, timer = null, busy = false, nowAt = 0;
  var recKey = null; /* what the playlist list shows, to rebuild only on change */

  function make(tag, props, parent) {
    var e = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === "text") e.textContent = props[k];
      else if (k === "class") e.className = props[k];
      else e.setAttribute(k, props[k]);
    });
    if (parent) parent.appendChild(e);
    return e;
  }

  function build() {
    root.setAttribute("aria-labelledby", "sp-title");
    make("h2", { id: "sp-title", text: "Spotify" }, root);
    el.state = make("p", { id: "sp-state", role: "status", "aria-live": "polite",
                           text: "Checking Spotify..." }, root);
    el.error = make("p", { id: "sp-error", class: "status error", role: "alert" }, root);
    el.error.hidden = true;
    el.notice = make("p", { id: "sp-notice", class: "note" }, root);
    el.notice.hidden = true;
    el.tip = make("p", { id: "sp-tip", class: "note",
                         text: "Tip: pick a device below, or start Spotify on your phone " +
                               "or computer and press Refresh devices." }, root);
    el.tip.hidden = true;

    var row = make("div", { class: "controls" }, root);
    el.connect = make("button", { id: "sp-connect", type: "button", text: "Connect Spotify" }, row);
    el.disconnect = make("button", { id: "sp-disconnect", type: "button", text: "Disconnect" }, row);

    el.live = make("div", { id: "sp-live" }, root);
    var ap = make("p", {}, el.live);
    var lab = make("label", {}, ap);
    el.autoplay = make("input", { id: "sp-autoplay", type: "checkbox" }, lab);
    lab.appendChild(document.createTextNode(" Play automatically when my mood changes"));

    var dp = make("p", {}, el.live);
    make("label", { for: "sp-device", text: "Play on: " }, dp);
    el.device = make("select", { id: "sp-device" }, dp);
    el.refresh = make("button", { id: "sp-refresh", type: "button", text: "Refresh devices" }, dp);
    el.refresh.style.marginLeft = "0.5rem";

    el.now = make("p", { id: "sp-now", "aria-live": "polite", text: "Nothing playing." }, el.live);
    var pr = make("div", { class: "controls" }, el.live);
    el.play = make("button", { id: "sp-play", type: "button", text: "Play" }, pr);
    el.pause = make("button", { id: "sp-pause", type: "button", text: "Pause" }, pr);
    el.next = make("button", { id: "sp-next", type: "button", text: "Next" }, pr);

    el.recWhy = make("p", { id: "sp-rec-why", class: "note" }, el.live);
    el.recList = make("ul", { id: "sp-rec", class: "rec-more", "aria-label": "Playlists Spotify found" }, el.live);

    el.connect.addEventListener("click", function () { window.location.href = "/login"; });
    el.disconnect.addEventListener("click", function () {
      command("/api/spotify/disconnect", null, "Disconnected from Spotify.");
    });
    el.autoplay.addEventListener("change", function () {
      command("/api/spotify/autoplay", { autoplay: el.autoplay.checked },
              el.autoplay.checked ? "Auto-play on." : "Auto-play off.");
    });
    el.device.addEventListener("change", function () {
      command("/api/spotify/device", { device_id: el.device.value }, null);
    });
    el.refresh.addEventListener("click", function () {
      getJSON("/api/spotify/devices").then(function (d) {
        if (d.ok) fast();
        else showError(d.j.error || "Could not list devices.");
      });
    });
    el.play.addEventListener("click", function () {
      var rec = last && last.recommendation;
      var first = rec && rec.playlists && rec.playlists.filter(function (p) { return p.uri; })[0];
      var nowPlaying = last && last.now_playing;
      /* resume what was paused, else start the mood's playlist */
      var body = nowPlaying || !first ? {} : { uri: first.uri };
      command("/api/spotify/play", body, null);
    });
    el.pause.addEventListener("click", function () { command("/api/spotify/pause", null, null); });
    el.next.addEventListener("click", function () { command("/api/spotify/next", null, null); });
  }

  function getJSON(url, opts) {
    return fetch(url, Object.assign({ credentials: "same-origin" }, opts || {}))
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          return { ok: r.ok, status: r.status, j: j };
        });
      })
      .catch(function (e) {
        return { ok: false, status: 0, j: { error: "Cannot reach the MoodSync server: " + e.message } };
      });
  }

  function showError(msg) {
    el.error.textContent = msg || "";
    el.error.hidden = !msg;
  }

  var noticeTimer = null;
  /* A passing confirmation ("Auto-play off."), gone after a few seconds. */
  function showNotice(msg) {
    el.notice.textContent = msg || "";
    el.notice.hidden = !msg;
    if (noticeTimer) clearTimeout(noticeTimer);
    noticeTimer = msg ? setTimeout(function () { showNotice(""); }, 5000) : null;
  }

  /* POSTs a command; a 202 means "queued": the outcome arrives by polling. */
  function command(url, body, okText) {
    var opts = { method: "POST", headers: { "X-MoodSync": "1" } };
    if (body) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return getJSON(url, opts).then(function (x) {
      if (!x.ok) {
        var msg = x.j.error || ("HTTP " + x.status);
        if (x.j.retry_after_s) msg += " (about " + x.j.retry_after_s + " s)";
        showError(msg);
      } else if (okText) {
        showNotice(okText);
      }
      fast();
      return x;
    });
  }

  function fast() {
    fastUntil = Date.now() + FAST_FOR_MS;
    schedule(0);
  }

  function fmtTime(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
  }

  function renderDevices(s) {
    var want = s.device_id || "";
    var opts = [{ id: "", name: "The active Spotify device" }].concat(s.devices || []);
    var same = el.device.options.length === opts.length && opts.every(function (d, i) {
      return el.device.options[i].value === d.id;
    });
    if (!same) {
      while (el.device.firstChild) el.device.removeChild(el.device.firstChild);
      opts.forEach(function (d) {
        var label = d.id ? d.name + " (" + (d.type || "device") + ")" +
          (d.is_active ? " - active" : "") + (d.is_restricted ? " - no remote control" : "")
          : d.name;
        make("option", { value: d.id, text: label }, el.device);
      });
    }
    if (document.activeElement !== el.device) el.device.value = want;
  }

  function renderRec(s) {
    var rec = s.recommendation;
    var key = JSON.stringify([rec, s.connected]);
    if (key === recKey) return; /* keep the buttons (and keyboard focus) */
    recKey = key;
    while (el.recList.firstChild) el.recList.removeChild(el.recList.firstChild);
    if (!rec) {
      el.recWhy.textContent = "Playlists appear here once your mood is read.";
      return;
    }
    var src = {
      spotify: "found on Spotify just now",
      cache: "from the cache (found on Spotify recently)",
      stale_cache: "from an older cache: Spotify is not answering",
      offline: "from the offline catalog: Spotify is not available"
    }[rec.source] || rec.source;
    el.recWhy.textContent = "For \"" + rec.mood + "\" (" + rec.strategy + "), " + src + ":";
    rec.playlists.forEach(function (p) {
      var li = make("li", {}, el.recList);
      make("a", { href: p.url, target: "_blank", rel: "noopener noreferrer",
                  text: p.name + (p.owner ? " - by " + p.owner : "") }, li);
      if (p.uri && s.connected) {
        var b = make("button", { type: "button", text: "Play",
                                 "aria-label": "Play " + p.name + " on Spotify" }, li);
        b.style.marginLeft = "0.5rem";
        b.style.padding = "0.15rem 0.6rem";
        b.addEventListener("click", function () {
          command("/api/spotify/play", { uri: p.uri }, null);
        });
      }
    });
  }

  function render(s) {
    last = s;
    var connected = s.connected;
    if (!s.configured) {
      el.state.textContent = "Spotify is not set up on this server: put " +
        "MOODSYNC_SPOTIFY_CLIENT_ID=<your app's client ID> in .env and restart " +
        "(see docs/spotify.md). Music suggestions still work offline.";
      el.connect.hidden = true;
      el.disconnect.hidden = true;
      el.live.hidden = true;
      showError("");
      return;
    }
    el.state.textContent = {
      connected: "Connected to Spotify.",
      connecting: "Signing in to Spotify...",
      signin_required: "Spotify needs you to sign in again.",
      disconnected: "Not connected. Connect to play music on your Spotify devices."
    }[s.state] || s.state;
    el.connect.hidden = connected;
    el.connect.disabled = s.state === "connecting";
    el.disconnect.hidden = !connected;
    el.live.hidden = !connected && !s.recommendation;
    [el.device, el.refresh, el.play, el.pause, el.next].forEach(function (b) {
      b.disabled = !connected;
    });
    if (document.activeElement !== el.autoplay) el.autoplay.checked = !!s.autoplay;
    renderDevices(s);
    var np = s.now_playing;
    el.now.textContent = np
      ? (np.is_playing ? "Playing: " : "Paused: ") + np.track +
        (np.artists ? " - " + np.artists : "") +
        " (" + fmtTime(np.progress_ms) + " / " + fmtTime(np.duration_ms) + ")"
      : (s.last_play && s.last_play.ok ? "Started a playlist." : "Nothing playing.");
    renderRec(s);
    var err = s.error ? s.error.message : "";
    if (s.paused_s > 0)
      err = (err ? err + " " : "Spotify asked us to wait. ") +
        "Spotify calls resume in about " + s.paused_s + " s.";
    showError(err);
    el.tip.hidden = !(s.error && s.error.code === "no_active_device" && connected);
  }

  function poll() {
    if (busy) return schedule(POLL_MS);
    busy = true;
    getJSON("/api/spotify/status").then(function (x) {
      busy = false;
      if (x.ok) {
        render(x.j);
        if (x.j.connected && Date.now() - nowAt > 5000) {
          nowAt = Date.now();
          getJSON("/api/spotify/now-playing");
        }
      } else {
        el.state.textContent = "Spotify status unavailable.";
        showError(x.j.error || ("HTTP " + x.status));
      }
      schedule(Date.now() < fastUntil ? FAST_MS : POLL_MS);
    });
  }

  function schedule(ms) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () {
      timer = null;
      if (document.hidden && Date.now() >= fastUntil) return schedule(POLL_MS);
      poll();
    }, ms);
  }

  function init() {
    build();
    var q = new URLSearchParams(window.location.search);
    var flag = q.get("spotify");
    if (flag) {
      q.delete("spotify");
      var rest = q.toString();
      window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
      fast();
    }
    /* a new mood from app.js: the server may have started music */
    window.addEventListener("moodsync:recommendation", fast);
    poll();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
