#!/usr/bin/env python3
"""test_browser_calib.py - the page's "Calibrate" step in headless Chromium
with a fake camera showing a real face from the shared data, at 1280x800
and 390x844: the button (and the "c" key) runs a 3-second step with a
progress bar, ends in the done state with "Reset calibration" focused, the
camera it started goes off, the server agrees (GET /api/mood), a later
frame is read relative to the baseline, Reset forgets it; Stop during a
step ends in the server's outcome. Screenshots go
to build/artifacts/calib_*.png. Prints TAP."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_fakecam as F  # noqa: E402
import lib_server as L  # noqa: E402
import lib_webdriver as W  # noqa: E402

t = L.Tap()
ART = os.path.join(L.REPO, "build", "artifacts")
VIEWPORTS = [("desktop", 1280, 800, False), ("phone", 390, 844, True)]
MOOD_JS = """var done = arguments[arguments.length - 1];
fetch('/api/mood', {credentials: 'same-origin'}).then(function (r) { return r.json(); })
  .then(done, function () { done(null); });"""
STATE_JS = """var c = document.getElementById('calib');
var b = document.getElementById('calib-progress');
return {state: c.dataset.state, text: document.getElementById('calib-status').textContent,
        bar: b.hidden ? null : b.getAttribute('aria-valuenow'),
        reset: !document.getElementById('calib-reset').hidden,
        focus: document.activeElement ? document.activeElement.id : null,
        camera: document.body.dataset.camera};"""


def run(drv, base, vp, face):
    name = vp[0]
    s = drv.session()
    F.install(drv, s)
    F.viewport(drv, s, vp[1], vp[2], vp[3])
    s.go(base)
    s.wait_for("return !!(window.MS && window.moodsyncCamera && window.__fakeCam)", 15)
    F.show(s, face)
    live = s.js("return document.getElementById('calib-status').getAttribute('aria-live')")
    t.ok(live == "polite", "%s: the step's status is announced (aria-live %s)" % (name, live))
    if name == "phone":
        s.keys(s.find("body"), "c")  # keyboard: calibrate
    else:
        s.click(s.find("#calib-start"))
    bars = []
    end = time.time() + 20
    while time.time() < end:
        x = s.js(STATE_JS)
        if x["bar"] is not None:
            bars.append(int(x["bar"]))
        if x["state"] != "calibrating":
            break
        if len(bars) == 4:
            s.screenshot(os.path.join(ART, "calib_%s_running.png" % name))
        time.sleep(0.2)
    t.ok(x["state"] == "on" and "Calibrated" in x["text"],
         "%s: %s runs the step to the done state" % (name, "the c key" if name == "phone"
                                                      else "the button"), x)
    t.ok(bars and max(bars) > 0 and bars == sorted(bars),
         "%s: the progress bar moves forward (%s)" % (name, bars[:12]))
    t.ok(x["reset"] and x["focus"] == "calib-reset" and x["camera"] == "off",
         "%s: Reset calibration shown and focused, the step's camera off" % name, x)
    s.screenshot(os.path.join(ART, "calib_%s_done.png" % name))
    m = s.js_async(MOOD_JS)
    c = (m or {}).get("calibration", {})
    t.ok(c.get("state") == "on" and c.get("calibrated") and c.get("frames", 0) >= 3,
         "%s: the server holds the baseline (%s frames)" % (name, c.get("frames")), c)
    over = s.js("return document.documentElement.scrollWidth - innerWidth")
    t.ok(over <= 1, "%s: no sideways scrolling (%s px)" % (name, over))
    r = s.js_async("""var done = arguments[arguments.length - 1];
        fetch('/api/frame', {method: 'POST', credentials: 'same-origin',
          headers: {'Content-Type': 'image/jpeg', 'X-MoodSync': '1'},
          body: Uint8Array.from(atob(arguments[0]), function (ch) { return ch.charCodeAt(0); })})
          .then(function (r) { return r.json(); }).then(done, function () { done(null); });""",
                   F.data_url(face[0]).split(",", 1)[1])
    t.ok(r and r.get("calibrated") and r["faces"] and "raw_probs" in r["faces"][0],
         "%s: the next frame is read relative to the baseline" % name)
    s.click(s.find("#calib-reset"))
    ok = s.wait_for("return document.getElementById('calib').dataset.state === 'off'", 10)
    m = s.js_async(MOOD_JS)
    t.ok(ok and not s.js(STATE_JS)["reset"] and m["calibration"]["state"] == "off",
         "%s: Reset calibration forgets it, page and server" % name)
    if name == "desktop":
        stop_midway(s)
    s.quit()


def stop_midway(s):
    """Stop pressed during a step: the page ends in the state the server
    reached on its own clock, and says the same as GET /api/mood."""
    s.click(s.find("#calib-start"))
    posted = s.wait_for("var b = document.getElementById('calib-progress');"
                        "return !b.hidden && +b.getAttribute('aria-valuenow') > 0", 10, every=0.05)
    s.click(s.find("#stop"))
    done = s.wait_for("return document.getElementById('calib').dataset.state !== 'calibrating'", 10)
    x = s.js(STATE_JS)
    c = s.js_async(MOOD_JS)["calibration"]
    t.ok(posted and done and x["camera"] == "off" and x["state"] == c["state"] and
         c["state"] in ("on", "failed"),
         "Stop during a step: the page shows the server's outcome (%s)" % c["state"], (x, c))


def main():
    with L.Server() as srv:
        if srv.model is None:
            print("ok - calibration page # SKIP no emotion model")
            return
        photos = F.read_photos(srv.client())
        face = None
        for m in ("neutral", "sad", "happy", "angry", "surprise", "fear"):
            face = F.pick(photos, m)
            if face:
                break
        if not t.ok(face is not None, "a one-face photo for the fake camera"):
            return
        os.makedirs(ART, exist_ok=True)
        with W.Driver() as drv:
            for vp in VIEWPORTS:
                run(drv, "http://127.0.0.1:%d/" % srv.port, vp, face[:2])


if __name__ == "__main__":
    try:
        main()
    except W.WebDriverError as e:
        t.ok(False, "webdriver: %s" % e)
    sys.exit(t.exit_code())
