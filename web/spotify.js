/* spotify.js - the Spotify panel (markup in index.html): connect /
 * disconnect, the sign-in state, device picker, now playing, play / pause /
 * next, the auto-play switch, the playlists Spotify found for the mood, and
 * a clear sentence for every failure. Premium listeners with a device keep
 * Spotify Connect playback; for a listener without Premium or without an
 * active device the found playlist plays in Spotify's Embed player (iFrame
 * API: createController, loadUri, play, playback_update), whose script URL
 * the server gives in /api/spotify/status. It only talks to our server
 * (/api/spotify/*); server text is always inserted as text. */
"use strict";
(function () {
  var MS = window.MS, $ = MS.$;
  var POLL_MS = 2000, FAST_MS = 300, FAST_FOR_MS = 4000;
  var last = null, fastUntil = 0, timer = null, busy = false, nowAt = 0, recKey = null;
  var embed = { loading: false, api: null, ctrl: null, uri: null };
  var EMBED_CODES = { premium_required: 1, no_active_device: 1 };

  function showError(msg) {
    $("sp-error").textContent = msg || "";
    $("sp-error").hidden = !msg;
  }

  var noticeTimer = null;
  /* A passing confirmation ("Auto-play off."), gone after a few seconds. */
  function showNotice(msg) {
    $("sp-notice").textContent = msg || "";
    $("sp-notice").hidden = !msg;
    if (noticeTimer) clearTimeout(noticeTimer);
    noticeTimer = msg ? setTimeout(function () { showNotice(""); }, 5000) : null;
  }

  /* POSTs a command; a 202 means "queued": the outcome arrives by polling. */
  function command(url, body, okText) {
    return MS.send("POST", url, body).then(function (j) {
      if (okText) showNotice(okText);
      fast();
      return j;
    }).catch(function (e) {
      var msg = e.message;
      if (e.body && e.body.retry_after_s) msg += " (about " + e.body.retry_after_s + " s)";
      showError(msg);
      fast();
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

  function option(sel, value, text) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    sel.appendChild(o);
  }

  function renderDevices(s) {
    var sel = $("sp-device"), want = s.device_id || "";
    var opts = [{ id: "", name: "The active Spotify device" }].concat(s.devices || []);
    var same = sel.options.length === opts.length && opts.every(function (d, i) {
      return sel.options[i].value === d.id;
    });
    if (!same) {
      sel.textContent = "";
      opts.forEach(function (d) {
        option(sel, d.id, d.id ? d.name + " (" + (d.type || "device") + ")" +
          (d.is_active ? " - active" : "") + (d.is_restricted ? " - no remote control" : "") : d.name);
      });
    }
    if (document.activeElement !== sel) sel.value = want;
  }

  function firstUri(s) {
    var rec = s && s.recommendation;
    var p = rec && rec.playlists && rec.playlists.filter(function (x) { return x.uri; })[0];
    return p ? p.uri : null;
  }

  function renderRec(s) {
    var rec = s.recommendation, ul = $("sp-rec");
    var key = JSON.stringify([rec, s.connected]);
    if (key === recKey) return; /* keep the buttons (and keyboard focus) */
    recKey = key;
    ul.textContent = "";
    if (!rec) {
      $("sp-rec-why").textContent = "Playlists appear here once your mood is read.";
      return;
    }
    var src = {
      spotify: "found on Spotify just now",
      cache: "found on Spotify recently",
      stale_cache: "found earlier: Spotify is not answering right now",
      offline: "from MoodSync's own list: Spotify is not available"
    }[rec.source] || rec.source;
    $("sp-rec-why").textContent = "For \"" + rec.mood + "\" (" + rec.strategy + "), " + src + ":";
    rec.playlists.forEach(function (p) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = p.url; a.target = "_blank"; a.rel = "noopener noreferrer";
      a.textContent = p.name + (p.owner ? " - by " + p.owner : "");
      li.appendChild(a);
      if (p.uri && s.connected) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "secondary small-button";
        b.textContent = "Play";
        b.setAttribute("aria-label", "Play " + p.name + " on Spotify");
        b.addEventListener("click", function () { command("/api/spotify/play", { uri: p.uri }, null); });
        li.appendChild(b);
      }
      ul.appendChild(li);
    });
  }

  /* ---- the Embed player, for listeners Connect cannot serve ---- */
  function embedWanted(s) {
    return s.connected && s.error && EMBED_CODES[s.error.code] && firstUri(s);
  }

  function embedLoad(src) {
    if (embed.api || embed.loading || !src) return;
    embed.loading = true;
    window.onSpotifyIframeApiReady = function (api) {
      embed.api = api;
      embed.loading = false;
      if (last) renderEmbed(last);
    };
    var sc = document.createElement("script");
    sc.src = src;
    sc.async = true;
    sc.onerror = function () {
      embed.loading = false;
      $("sp-embed-state").textContent = "Spotify's player could not load (no internet?).";
    };
    document.head.appendChild(sc);
  }

  function embedPlay(uri) {
    embed.uri = uri;
    embed.ctrl.loadUri(uri);
    embed.ctrl.play();
  }

  function renderEmbed(s) {
    var uri = embedWanted(s);
    $("sp-embed-box").hidden = !uri && !embed.ctrl;
    if (!uri) return;
    $("sp-embed-why").textContent = s.error.code === "premium_required"
      ? "Your Spotify account can't be controlled from here (that needs Premium), so the playlist plays in Spotify's player below."
      : "No Spotify app is open on your devices, so the playlist plays in Spotify's player below.";
    if (!embed.api) { embedLoad(s.embed_script); return; }
    if (embed.ctrl) {
      if (embed.uri !== uri) embedPlay(uri);
      return;
    }
    embed.api.createController($("sp-embed"), { uri: uri, width: "100%", height: 152 }, function (ctrl) {
      embed.ctrl = ctrl;
      ctrl.addListener("playback_update", function (e) {
        var d = e && e.data || {};
        $("sp-embed-state").textContent = (d.isPaused ? "Paused" : "Playing") +
          (d.duration ? " (" + fmtTime(d.position) + " / " + fmtTime(d.duration) + ")" : "");
        document.body.dataset.embed = d.isPaused ? "paused" : "playing";
      });
      embedPlay(uri);
    });
  }

  function render(s) {
    last = s;
    var connected = s.connected;
    if (!s.configured) {
      $("sp-state").textContent = "Spotify is not set up on this server, so music plays from " +
        "this computer's library instead.";
      $("sp-howto").hidden = false;
      $("sp-connect").hidden = true;
      $("sp-disconnect").hidden = true;
      $("sp-live").hidden = true;
      showError("");
      return;
    }
    $("sp-howto").hidden = true;
    $("sp-howto-text").hidden = true;
    $("sp-state").textContent = {
      connected: "Connected to Spotify.",
      connecting: "Signing in to Spotify...",
      signin_required: "Spotify needs you to sign in again.",
      disconnected: "Not connected. Connect to play music on your Spotify devices."
    }[s.state] || s.state;
    $("sp-connect").hidden = connected;
    $("sp-connect").disabled = s.state === "connecting";
    $("sp-disconnect").hidden = !connected;
    $("sp-live").hidden = !connected && !s.recommendation;
    ["sp-device", "sp-refresh", "sp-play", "sp-pause", "sp-next"].forEach(function (id) {
      $(id).disabled = !connected;
    });
    if (document.activeElement !== $("sp-autoplay")) $("sp-autoplay").checked = !!s.autoplay;
    renderDevices(s);
    var np = s.now_playing;
    $("sp-now").textContent = np
      ? (np.is_playing ? "Playing: " : "Paused: ") + np.track + (np.artists ? " - " + np.artists : "") +
        " (" + fmtTime(np.progress_ms) + " / " + fmtTime(np.duration_ms) + ")"
      : (s.last_play && s.last_play.ok ? "Started a playlist." : "Nothing playing.");
    renderRec(s);
    var err = s.error ? s.error.message : "";
    if (s.paused_s > 0)
      err = (err ? err + " " : "Spotify asked us to wait. ") +
        "Spotify calls resume in about " + s.paused_s + " s.";
    showError(err);
    $("sp-tip").hidden = !(s.error && s.error.code === "no_active_device" && connected);
    renderEmbed(s);
  }

  function poll() {
    if (busy) return schedule(POLL_MS);
    busy = true;
    MS.getJSON("/api/spotify/status").then(function (j) {
      render(j);
      if (j.connected && Date.now() - nowAt > 5000) {
        nowAt = Date.now();
        MS.getJSON("/api/spotify/now-playing").catch(function () {});
      }
    }).catch(function (e) {
      $("sp-state").textContent = "Spotify status unavailable.";
      showError(e.message);
    }).then(function () {
      busy = false;
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

  function bind() {
    $("sp-connect").addEventListener("click", function () { window.location.href = "/login"; });
    $("sp-disconnect").addEventListener("click", function () {
      command("/api/spotify/disconnect", null, "Disconnected from Spotify.");
    });
    $("sp-howto-link").addEventListener("click", function (e) {
      e.preventDefault();
      $("sp-howto-text").hidden = !$("sp-howto-text").hidden;
    });
    $("sp-autoplay").addEventListener("change", function () {
      var on = $("sp-autoplay").checked;
      command("/api/spotify/autoplay", { autoplay: on }, on ? "Auto-play on." : "Auto-play off.");
    });
    $("sp-device").addEventListener("change", function () {
      command("/api/spotify/device", { device_id: $("sp-device").value }, null);
    });
    $("sp-refresh").addEventListener("click", function () {
      MS.getJSON("/api/spotify/devices").then(fast).catch(function (e) {
        showError(e.message || "Could not list devices.");
      });
    });
    $("sp-play").addEventListener("click", function () {
      var uri = firstUri(last), nowPlaying = last && last.now_playing;
      /* resume what was paused, else start the mood's playlist */
      command("/api/spotify/play", nowPlaying || !uri ? {} : { uri: uri }, null);
    });
    $("sp-pause").addEventListener("click", function () { command("/api/spotify/pause", null, null); });
    $("sp-next").addEventListener("click", function () { command("/api/spotify/next", null, null); });
  }

  function init() {
    bind();
    var q = new URLSearchParams(window.location.search);
    if (q.get("spotify")) {
      q.delete("spotify");
      var rest = q.toString();
      window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
      fast();
    }
    /* a new mood: the server may have started music */
    MS.on("mood-changed", fast);
    poll();
  }

  init();
})();
