#!/usr/bin/env python3
"""test_browser.py - the page in headless Chromium (Debian's chromium +
chromedriver, W3C WebDriver over urllib) with a fake camera: a .y4m clip
the test makes from a shared face photo (decoded by Chromium itself in a
first session). It presses Start with the keyboard, waits until the page
shows a face box and an emotion, reports the browser round trip (frame
captured -> result drawn) measured by the page, saves a screenshot to
build/artifacts/browser.png, and checks the messages for a denied and a
missing camera. Prints TAP; the server and browsers are always stopped."""
import base64
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_server as L  # noqa: E402
import lib_webdriver as W  # noqa: E402

t = L.Tap()
MOODS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
W_, H_ = 640, 480
ARTIFACT = os.path.join(L.REPO, "build", "artifacts", "browser.png")

# Draws the photo's crop at 640x480 and returns its I420 planes (BT.601,
# full range as C420jpeg says), base64.
DECODE_JS = r"""
var b64 = arguments[0], crop = arguments[1], done = arguments[arguments.length - 1];
var img = new Image();
img.onload = function () {
  var c = document.createElement("canvas"); c.width = 640; c.height = 480;
  var g = c.getContext("2d");
  g.drawImage(img, crop[0], crop[1], crop[2], crop[3], 0, 0, 640, 480);
  var px = g.getImageData(0, 0, 640, 480).data;
  var Y = new Uint8Array(640 * 480), U = new Uint8Array(320 * 240), V = new Uint8Array(320 * 240);
  for (var i = 0; i < 640 * 480; i++) {
    var r = px[4 * i], gg = px[4 * i + 1], b = px[4 * i + 2];
    Y[i] = Math.max(0, Math.min(255, Math.round(0.299 * r + 0.587 * gg + 0.114 * b)));
  }
  for (var y = 0; y < 240; y++) for (var x = 0; x < 320; x++) {
    var r = 0, gg = 0, b = 0;
    for (var dy = 0; dy < 2; dy++) for (var dx = 0; dx < 2; dx++) {
      var k = 4 * ((2 * y + dy) * 640 + 2 * x + dx);
      r += px[k]; gg += px[k + 1]; b += px[k + 2];
    }
    r /= 4; gg /= 4; b /= 4;
    U[y * 320 + x] = Math.max(0, Math.min(255, Math.round(128 - 0.168736 * r - 0.331264 * gg + 0.5 * b)));
    V[y * 320 + x] = Math.max(0, Math.min(255, Math.round(128 + 0.5 * r - 0.418688 * gg - 0.081312 * b)));
  }
  function enc(a) {
    var s = "";
    for (var i = 0; i < a.length; i += 8192) s += String.fromCharCode.apply(null, a.subarray(i, i + 8192));
    return btoa(s);
  }
  done([enc(Y), enc(U), enc(V)]);
};
img.onerror = function () { done(null); };
img.src = "data:image/jpeg;base64," + b64;
"""


def pick_photo():
    """A single-face photo with the largest face, and a 4:3 crop around it."""
    ann = L.load_annotations()
    sizes = {}
    with open(os.path.join(L.data_dir(), "faces", "images.txt")) as f:
        for line in f:
            p = line.split()
            try:
                sizes[p[0]] = (int(p[1]), int(p[2]))
            except (ValueError, IndexError):
                pass
    best = None
    for rel, boxes in ann.items():
        if len(boxes) == 1 and rel.endswith(".jpg") and rel in sizes:
            if best is None or boxes[0][2] > ann[best][0][2]:
                best = rel
    x, y, w, h = ann[best][0]
    iw, ih = sizes[best]
    cw = min(iw, max(w * 2.6, 160))
    ch = cw * 3 / 4
    if ch > ih:
        ch = ih
        cw = ch * 4 / 3
    cx, cy = x + w / 2, y + h / 2
    sx = min(max(0, cx - cw / 2), iw - cw)
    sy = min(max(0, cy - ch / 2), ih - ch)
    return best, [int(sx), int(sy), int(cw), int(ch)]


def make_y4m(drv, path):
    rel, crop = pick_photo()
    s = drv.session()
    try:
        s.go("about:blank")
        planes = s.js_async(DECODE_JS, base64.b64encode(L.read_photo(rel)).decode(), crop)
    finally:
        s.quit()
    if not planes:
        raise RuntimeError("Chromium could not decode " + rel)
    frame = b"FRAME\n" + b"".join(base64.b64decode(p) for p in planes)
    with open(path, "wb") as f:
        f.write(b"YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n" % (W_, H_))
        for _ in range(10):
            f.write(frame)
    return rel, crop


def live_test(drv, srv, y4m):
    s = drv.session(["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     "--use-file-for-fake-video-capture=" + y4m, "--autoplay-policy=no-user-gesture-required"])
    base = "http://127.0.0.1:%d/" % srv.port
    s.go(base)
    t.ok(s.wait_for("return !!window.moodsyncPlayer && document.getElementById('np-title')"
                    ".textContent.length > 0", 15),
         "page loads with its player bar before the camera starts")
    start = s.find("#start")
    s.keys(start, "\ue007")  # Enter: the Start button works from the keyboard
    ok = s.wait_for("var st = window.moodsyncStats; return st && st.frames >= 40 && st.faces >= 1 "
                    "&& st;", 60)
    st = s.js("return window.moodsyncStats")
    t.ok(ok, "camera starts and frames flow (%s frames, %s errors)" %
         (st and st.get("frames"), st and st.get("errors")), st and st.get("lastError"))
    t.ok(st and st.get("faces", 0) >= 1, "the page sees a face in the fake camera")
    box = s.js("var c = document.getElementById('overlay'), g = c.getContext('2d');"
               "var d = g.getImageData(0, 0, c.width, c.height).data, n = 0;"
               "for (var i = 3; i < d.length; i += 4) if (d[i]) n++; return n;")
    t.ok(box and box > 100, "a face box is drawn over the video (%s pixels)" % box)
    label = s.text(s.find("#mood-label"))
    if srv.model:
        t.ok(st.get("emotion") in MOODS, "an emotion is shown for the face (%s)" % st.get("emotion"))
        t.ok(s.wait_for("return MOODS_ = ['angry','disgust','fear','happy','sad','surprise',"
                        "'neutral'], MOODS_.indexOf(document.getElementById('mood-label')"
                        ".dataset.mood) >= 0", 10),
             "the smoothed mood is shown (%s)" % label)
    else:
        t.ok(label == "Faces only", "without a model the page says faces only (%r)" % label)
    bars = s.js("return document.querySelectorAll('#bars li').length")
    t.ok(bars == 7, "seven emotion bars")
    p50, p95, n = st.get("p50"), st.get("p95"), len(st.get("rtt") or [])
    t.diag("browser round trip (frame captured -> result drawn): p50 %.1f ms, p95 %.1f ms "
           "over %d frames; last server time %.1f ms" % (p50 or -1, p95 or -1, n,
                                                       st.get("lastServerMs") or -1))
    t.ok(p50 is not None and p50 < 150, "round trip measured in the page (p50 %.1f ms; goal <= 30)"
         % (p50 or -1))
    # the strategy switch, by keyboard: focus "lift" and press Space
    lift = s.find("input[name=strategy][value=lift]")
    s.keys(lift, " ")
    t.ok(s.wait_for("var x = new XMLHttpRequest(); x.open('GET', '/api/settings', false); x.send();"
                    "return JSON.parse(x.responseText).strategy === 'lift'", 10),
         "the goal switch works from the keyboard (strategy lift)")
    s.call("POST", "/window/rect", {"width": 1280, "height": 1500})
    time.sleep(2.2)  # one chart bar per second, redrawn every second
    n = s.screenshot(ARTIFACT)
    t.ok(n > 10000, "screenshot saved to build/artifacts/browser.png (%d bytes)" % n)
    # phone-sized: nothing wider than the screen
    s.call("POST", "/window/rect", {"width": 390, "height": 844})
    time.sleep(0.5)
    over = s.js("return document.documentElement.scrollWidth - window.innerWidth")
    t.ok(over is not None and over <= 1, "no horizontal scrolling on a 390 px wide screen (%s)" % over)
    s.screenshot(os.path.join(os.path.dirname(ARTIFACT), "browser_phone.png"))
    s.quit()
    return p50


def camera_error_test(drv, srv, flags, want, name):
    s = drv.session(flags)
    try:
        s.go("http://127.0.0.1:%d/" % srv.port)
        s.click(s.find("#start"))
        msg = s.wait_for("var s = document.getElementById('status');"
                         "return s.className.indexOf('error') >= 0 && s.textContent;", 20)
        t.ok(msg and want in msg, name + " (%r)" % msg)
    finally:
        s.quit()


def main():
    tmp = tempfile.mkdtemp(prefix="moodsync-browser-")
    y4m = os.path.join(tmp, "face.y4m")
    with L.Server() as srv, W.Driver() as drv:
        rel, crop = make_y4m(drv, y4m)
        t.ok(os.path.getsize(y4m) > W_ * H_, "fake camera clip made from %s (crop %s)" % (rel, crop))
        live_test(drv, srv, y4m)
        camera_error_test(drv, srv, ["--use-fake-ui-for-media-stream"],
                          "No camera was found", "missing camera: clear message")
        camera_error_test(drv, srv, ["--use-fake-device-for-media-stream", "--deny-permission-prompts"],
                          "denied", "denied camera: clear message")
        t.ok(srv.client().get("/healthz").status == 200, "server healthy after the browser runs")
    try:
        os.remove(y4m)
        os.rmdir(tmp)
    except OSError:
        pass
    return t.exit_code()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:
        import traceback
        print("not ok - test_browser.py crashed: %r" % e)
        traceback.print_exc(file=sys.stdout)
        sys.exit(1)
