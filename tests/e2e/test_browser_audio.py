#!/usr/bin/env python3
"""test_browser_audio.py - every track of the demo library plays in the
page, in headless Chromium: each track's URL goes into the page's own
<audio> element as the player sets it, and it must start playing, directly
or, for a file the browser cannot decode (this Chromium rejects some of the
demo's valid Ogg files), through the player's fallback to the server's WAV
of it (GET /api/tracks/{id}/audio?as=wav), with no "could not be played"
message. Before that, the WAV route over HTTP: a RIFF header that matches
its length, byte ranges that are slices of the whole, its own ETag and 304,
416 past the end, 400 for another format. Prints TAP."""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_server as L  # noqa: E402
import lib_webdriver as W  # noqa: E402

t = L.Tap()
FLAGS = ["--autoplay-policy=no-user-gesture-required"]
DEMO_MUSIC = ["/usr/share/games/singularity/music", "/usr/share/hyperrogue/music"]

# Plays `url` in the page's <audio> (muted) and reports how it went: the
# page's error listener may swap in the WAV, so wait for 'playing' from
# whichever source, up to 10 s.
PLAY_JS = r"""
var url = arguments[0], done = arguments[arguments.length - 1];
var a = document.getElementById("audio"), direct = true, fin = false;
function end(ok) {
  if (fin) return; fin = true;
  a.removeEventListener("playing", onPlaying);
  a.removeEventListener("error", onError);
  var src = a.src; a.pause();
  done({ok: ok, src: src, direct: direct});
}
function onPlaying() {   /* this track, not one the player moved on to */
  var u = new URL(a.src);
  end(u.pathname === url);
}
function onError() { direct = false; }
a.addEventListener("playing", onPlaying);
a.addEventListener("error", onError);
a.muted = true; a.dataset.trackId = "";
a.src = url;
a.play().catch(function () {});
setTimeout(function () { end(false); }, 10000);
"""


def track_ids(c, n):
    """The ids of the library's n tracks (a fresh database numbers them
    from 1; a gap is skipped)."""
    ids, i = [], 1
    while len(ids) < n and i <= n + 50:
        if c.request("HEAD", "/api/tracks/%d/audio" % i).status == 200:
            ids.append(i)
        i += 1
    return ids


def check_wav_route(c, tid):
    url = "/api/tracks/%d/audio?as=wav" % tid
    r = c.get(url)
    body = r.body
    ok = r.status == 200 and r.header("Content-Type") == "audio/wav" and len(body) > 44
    t.ok(ok, "GET ?as=wav: 200 audio/wav, %d bytes" % len(body), r.status)
    if not ok:
        return
    riff, size, wave, fmt, _, pcm, ch, rate, bps, align, bits, data, dlen = \
        struct.unpack("<4sI4s4sIHHIIHH4sI", body[:44])
    t.ok(riff == b"RIFF" and wave == b"WAVE" and data == b"data" and pcm == 1 and bits == 16 and
         size == len(body) - 8 and dlen == len(body) - 44 and align == 2 * ch and
         bps == rate * align and dlen % align == 0,
         "the WAV header matches its length (%d channels, %d Hz, %.1f s)"
         % (ch, rate, dlen / float(bps or 1)))
    r2 = c.get(url, headers={"Range": "bytes=100000-199999"})
    t.ok(r2.status == 206 and r2.body == body[100000:200000] and
         r2.header("Content-Range") == "bytes 100000-199999/%d" % len(body),
         "a byte range of the WAV is that slice of the whole", (r2.status, r2.header("Content-Range")))
    r3 = c.get(url, headers={"Range": "bytes=-5000"})
    t.ok(r3.status == 206 and r3.body == body[-5000:], "a suffix range: the WAV's last bytes")
    etag, file_etag = r.header("ETag"), c.request("HEAD", url.split("?")[0]).header("ETag")
    t.ok(etag and etag != file_etag and etag.endswith('-wav"'),
         "the WAV has its own ETag (%s, the file's %s)" % (etag, file_etag))
    t.ok(c.get(url, headers={"If-None-Match": etag}).status == 304, "If-None-Match: 304")
    r4 = c.get(url, headers={"Range": "bytes=%d-" % len(body)})
    t.ok(r4.status == 416 and r4.header("Content-Range") == "bytes */%d" % len(body),
         "a range past the WAV's end: 416", r4.status)
    r5 = c.get("/api/tracks/%d/audio?as=mp3" % tid)
    t.ok(r5.status == 400 and "wav" in (r5.json() or {}).get("error", ""),
         "?as=mp3: 400 with a message", r5.status)


def main():
    demo = [d for d in DEMO_MUSIC if os.path.isdir(d)]
    if not demo:
        print("ok - demo library # SKIP not installed")
        return 0
    with L.Server(music=demo) as srv:
        c = srv.client()
        lib = L.wait_library_scan(c)
        if not t.ok(lib, "the demo library is scanned"):
            return t.exit_code()
        ids = track_ids(c, lib["tracks"])
        t.ok(len(ids) == lib["tracks"], "%d tracks found by id" % len(ids))
        check_wav_route(c, ids[0])
        with W.Driver() as drv:
            s = drv.session(FLAGS)
            s.go("http://127.0.0.1:%d/" % srv.port)
            s.wait_for("return !!(window.MS && window.moodsyncPlayer)", 15)
            res = {i: s.js_async(PLAY_JS, "/api/tracks/%d/audio" % i, timeout=30) for i in ids}
            bad = [i for i, r in res.items() if not r["ok"]]
            wav = [i for i, r in res.items() if r["ok"] and not r["direct"]]
            t.ok(not bad, "all %d tracks play in the page (%d of them through the WAV fallback: %s)"
                 % (len(ids), len(wav), wav), {i: res[i] for i in bad})
            t.ok(all(res[i]["src"].endswith("?as=wav") for i in wav),
                 "the fallback plays the server's WAV")
            msg = s.js("return document.body.innerText")
            t.ok("could not be played" not in msg, "no \"could not be played\" message")
            t.diag("the browser could not decode: %s" % json.dumps(wav))
            s.quit()
    return t.exit_code()


if __name__ == "__main__":
    sys.exit(main())
