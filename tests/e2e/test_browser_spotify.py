#!/usr/bin/env python3
"""test_browser_spotify.py - the Spotify panel of the page in headless
Chromium (lib_webdriver.py) against the fake Spotify: the user clicks
Connect and the browser goes through the real redirects, a frame posted by
the page's own session starts music, then the panel's reaction to Premium
required (the playlist then plays in the Embed player: a local stand-in of
Spotify's iFrame API script, served here and allowed by the server's CSP
through MOODSYNC_SPOTIFY_EMBED_URL), no active device, a rate limit, denied
consent and a server without Spotify set up. Saves
build/artifacts/browser_spotify.png. TAP."""
import base64
import http.server
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_server as L  # noqa: E402
import lib_webdriver as W  # noqa: E402
from fake_spotify import FakeSpotify  # noqa: E402

T = L.Tap()
CLIENT_ID = "browser-client-id"
ARTIFACT = os.path.join(L.REPO, "build", "artifacts", "browser_spotify.png")

# Posts a JPEG (base64) as a frame from the page: same cookie, same session.
POST_FRAME_JS = r"""
var b64 = arguments[0], done = arguments[arguments.length - 1];
var bin = atob(b64), a = new Uint8Array(bin.length);
for (var i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);
fetch("/api/frame", {method: "POST", credentials: "same-origin",
  headers: {"Content-Type": "image/jpeg"}, body: new Blob([a])})
  .then(function (r) { return r.json(); })
  .then(function (j) { done(j.mood && j.mood.mood); })
  .catch(function (e) { done("error " + e); });
"""


# A stand-in for https://open.spotify.com/embed/iframe-api/v1: the same
# entry points (onSpotifyIframeApiReady, createController, loadUri, play,
# addListener("playback_update")), recording the calls in the page.
FAKE_IFRAME_API = b"""
(function () {
  var calls = window.__embedCalls = [];
  window.onSpotifyIframeApiReady({
    createController: function (el, opts, cb) {
      calls.push("createController " + opts.uri);
      var box = document.createElement("div");
      box.className = "fake-embed";
      box.textContent = "Spotify player (test stand-in)";
      el.appendChild(box);
      var on = {};
      cb({
        addListener: function (name, fn) { (on[name] = on[name] || []).push(fn); },
        loadUri: function (uri) { calls.push("loadUri " + uri); },
        play: function () {
          calls.push("play");
          setTimeout(function () {
            (on.playback_update || []).forEach(function (fn) {
              fn({ data: { isPaused: false, position: 1000, duration: 30000 } });
            });
          }, 50);
        }
      });
    }
  });
})();
"""


class EmbedScript(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/javascript")
        self.send_header("Content-Length", str(len(FAKE_IFRAME_API)))
        self.end_headers()
        self.wfile.write(FAKE_IFRAME_API)

    def log_message(self, *a):
        pass


def text_of(id_):
    return ("var e = document.getElementById('%s'); "
            "return e && !e.hidden ? e.textContent : '';" % id_)


def wait_text(s, id_, needle, timeout=10):
    return s.wait_for("var t = (function(){ %s })(); return t.indexOf(%s) >= 0 "
                      "? t : '';" % (text_of(id_), json.dumps(needle)),
                      timeout)


def main():
    fake = FakeSpotify(CLIENT_ID)
    url = fake.start()
    embed = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EmbedScript)
    threading.Thread(target=embed.serve_forever, daemon=True).start()
    env = {"MOODSYNC_SPOTIFY_CLIENT_ID": CLIENT_ID,
           "MOODSYNC_SPOTIFY_EMBED_URL": "http://127.0.0.1:%d/embed/iframe-api/v1"
                                         % embed.server_address[1],
           "MOODSYNC_SPOTIFY_ACCOUNTS_URL": url,
           "MOODSYNC_SPOTIFY_API_URL": url,
           "MOODSYNC_SPOTIFY_TIMEOUT_MS": "1000"}
    os.environ.pop("MOODSYNC_SPOTIFY_REDIRECT_URI", None)
    model = L.classifier_model()
    ann = L.load_annotations()
    photos = [L.read_photo(rel) for rel in sorted(ann)[:12]]
    try:
        drv_ctx = W.Driver()
        drv = drv_ctx.__enter__()
    except W.WebDriverError as e:
        T.ok(False, "chromedriver starts", e)
        return T.exit_code()
    try:
        with L.Server(model=model, env=env) as srv:
            base = "http://127.0.0.1:%d/" % srv.port
            s = drv.session()
            s.go(base)
            T.ok(wait_text(s, "sp-state", "Not connected"),
                 "panel: not connected at first")
            T.ok(s.js("return !document.getElementById('sp-connect').hidden"),
                 "Connect button shown")

            # sign in by clicking, through the real redirects
            s.click(s.find("#sp-connect"))
            T.ok(wait_text(s, "sp-state", "Connected to Spotify"),
                 "after Connect and the redirects: connected",
                 s.js(text_of("sp-state")))
            T.ok(s.js("return location.search === ''"),
                 "the ?spotify= flag is cleaned from the address bar")
            T.ok(s.wait_for("return Array.prototype.map.call(document."
                            "getElementById('sp-device').options, function"
                            " (o) { return o.textContent; }).join('|')."
                            "indexOf('Test Phone') >= 0", 10),
                 "device picker lists the devices")

            # a frame from this browser's session: its mood plays music
            mood = None
            for p in photos:
                mood = s.js_async(POST_FRAME_JS,
                                  base64.b64encode(p).decode(), timeout=20)
                if mood and not str(mood).startswith("error"):
                    break
            T.ok(mood and not str(mood).startswith("error"),
                 "a frame from the page sets a mood", mood)
            T.ok(s.wait_for("return document.querySelectorAll('#sp-rec li')"
                            ".length > 0", 10),
                 "panel lists the playlists found for the mood")
            T.ok(wait_text(s, "sp-rec-why", mood or "?"),
                 "panel says which mood the playlists are for",
                 s.js(text_of("sp-rec-why")))
            T.ok(s.wait_for("return /Playing|Started/.test(document."
                            "getElementById('sp-now').textContent)", 15),
                 "panel shows the music started", s.js(text_of("sp-now")))

            # Premium required
            fake.control({"fail": {"path": "/v1/me/player/play",
                                    "status": 403,
                                    "reason": "PREMIUM_REQUIRED"}})
            s.click(s.find("#sp-rec li button"))
            T.ok(wait_text(s, "sp-error", "Premium"),
                 "403 PREMIUM_REQUIRED: the panel says Premium is needed",
                 s.js(text_of("sp-error")))
            T.ok(s.js("return document.querySelectorAll('#sp-rec li')"
                      ".length > 0"),
                 "recommendations stay after the Premium error")
            calls = s.wait_for("var c = window.__embedCalls; return c && "
                               "c.indexOf('play') >= 0 && c;", 15)
            uri = s.js("var p = document.querySelector('#sp-rec li a');"
                       "return p ? p.href : '';")
            T.ok(calls and calls[0].startswith("createController spotify:")
                 and any(c.startswith("loadUri spotify:") for c in calls),
                 "without Premium the playlist plays in the Embed player "
                 "(%s; first playlist %s)" % (calls, uri))
            T.ok(wait_text(s, "sp-embed-state", "Playing"),
                 "the Embed's playback_update shows in the panel",
                 s.js(text_of("sp-embed-state")))
            T.ok(wait_text(s, "sp-embed-why", "Premium"),
                 "the panel says why the Embed player is used",
                 s.js(text_of("sp-embed-why")))

            # no active device
            fake.control({"devices": [dict(d, is_active=False) for d in
                                       fake.state.devices]})
            s.js("var d = document.getElementById('sp-device'); d.value = '';"
                 " d.dispatchEvent(new Event('change'));")
            fake.control({"fail": {"path": "/v1/me/player/play",
                                    "status": 404,
                                    "reason": "NO_ACTIVE_DEVICE",
                                    "message": "Player command failed: No "
                                               "active device found"}})
            s.click(s.find("#sp-play"))
            T.ok(wait_text(s, "sp-error", "open Spotify"),
                 "404 NO_ACTIVE_DEVICE: asks to open Spotify",
                 s.js(text_of("sp-error")))
            T.ok(wait_text(s, "sp-tip", "pick a device"),
                 "... and points at the device list",
                 s.js(text_of("sp-tip")))

            # rate limited
            fake.control({"fail": {"path": "/v1/me/player/next",
                                    "status": 429, "retry_after": 3}})
            s.click(s.find("#sp-next"))
            T.ok(wait_text(s, "sp-error", "slow down"),
                 "429: the panel says Spotify asked to slow down",
                 s.js(text_of("sp-error")))
            T.ok(s.js(text_of("sp-tip")) == "",
                 "the device tip goes with the no-device error")
            s.click(s.find("#sp-pause"))
            T.ok(wait_text(s, "sp-error", "resume in about"),
                 "a command during the pause: told when calls resume",
                 s.js(text_of("sp-error")))
            n = s.screenshot(ARTIFACT)
            T.ok(n > 10000, "screenshot saved to build/artifacts/"
                 "browser_spotify.png (%d bytes)" % n)

            # auto-play switch
            s.click(s.find("#sp-autoplay"))
            T.ok(s.wait_for("var x = new XMLHttpRequest(); x.open('GET', "
                            "'/api/settings', false); x.send(); return "
                            "JSON.parse(x.responseText).autoplay === false",
                            5),
                 "auto-play switch turns the setting off")

            # disconnect, then denied consent
            s.click(s.find("#sp-disconnect"))
            T.ok(wait_text(s, "sp-state", "Not connected"),
                 "Disconnect: not connected")
            fake.control({"deny": True})
            s.click(s.find("#sp-connect"))
            T.ok(wait_text(s, "sp-error", "declined"),
                 "denied consent: the panel says so",
                 s.js(text_of("sp-error")))
            s.quit()

        with L.Server(model=model, env={"MOODSYNC_SPOTIFY_CLIENT_ID": ""}) \
                as srv:
            s = drv.session()
            s.go("http://127.0.0.1:%d/" % srv.port)
            T.ok(wait_text(s, "sp-state", "not set up"),
                 "without a client ID the panel explains the set-up",
                 s.js(text_of("sp-state")))
            T.ok(s.js("return document.getElementById('sp-connect')"
                      ".hidden"), "... and offers no Connect button")
            s.quit()
    finally:
        drv_ctx.__exit__(None, None, None)
        fake.stop()
        embed.shutdown()
        embed.server_close()
    return T.exit_code()


if __name__ == "__main__":
    sys.exit(main())
