#!/usr/bin/env python3
"""test_browser_text.py - the words box of the page (web/app.js) in
headless Chromium: type a sentence, press Enter, and the page shows what
the words read and the fused feeling with its sources; an empty box gets a
message, not a request. Prints TAP; the server and browser always stop."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_server as L  # noqa: E402
import lib_webdriver as W  # noqa: E402

t = L.Tap()


def main():
    with L.Server() as srv, W.Driver() as drv:
        s = drv.session()
        s.go("http://127.0.0.1:%d/" % srv.port)
        ready = s.wait_for("var f = document.getElementById('feel-form');"
                           "return f !== null && !f.hidden", 30)
        t.ok(ready, "the box is on the page")
        if not ready:
            return
        box = s.find("#feel-text")
        s.keys(box, "\ue007")  # Enter on an empty box
        msg = s.wait_for("var e = document.getElementById('feel-status');"
                         "return e && e.textContent", 10)
        t.ok(msg and "first" in msg, "an empty box asks for words", msg)
        s.keys(box, "I feel so sad and lonely, I miss her\ue007")
        feeling = s.wait_for("var e = document.getElementById('feel-now');"
                             "return e && e.getAttribute('data-feeling')", 20)
        t.ok(feeling == "sad", "the fused feeling is shown (%s)" % feeling)
        status = s.text(s.find("#feel-status"))
        t.ok("sad" in status, "the page says what the words read", status)
        src = s.js("return Array.prototype.map.call(document.querySelectorAll("
                   "'#feel-sources li'), function (e) { return e.getAttribute('data-source') })")
        t.ok(src == ["text"], "the sources list names the words", src)
        t.ok(s.js("return document.getElementById('feel-text').value") == "",
             "the box is cleared after sending")
        # what the page shows matches the server's mood for this browser
        m = s.js_async("var done = arguments[arguments.length - 1];"
                       "fetch('/api/mood').then(function (r) { return r.json() })"
                       ".then(done, function () { done(null) });")
        t.ok(m and m.get("feeling") == feeling and m.get("source") == "text",
             "GET /api/mood agrees with the page", m)


if __name__ == "__main__":
    try:
        main()
    except W.WebDriverError as e:
        t.ok(False, "webdriver: %s" % e)
    sys.exit(t.exit_code())
