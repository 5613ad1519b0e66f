"""lib_webdriver.py - a minimal W3C WebDriver client (python3 stdlib,
urllib) for Debian's chromium + chromedriver, used by the browser tests:
start chromedriver on a free port, open sessions with Chromium flags, find,
click, type, run scripts, take screenshots; everything is torn down on exit."""
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

CHROMIUM = os.environ.get("MOODSYNC_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MOODSYNC_CHROMEDRIVER", "/usr/bin/chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
BASE_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", "--no-default-browser-check",
              "--disable-extensions", "--mute-audio", "--window-size=1280,1000"]


class WebDriverError(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Driver:
    """chromedriver as a context manager."""

    def __init__(self):
        self.port = free_port()
        self.proc = None
        self.sessions = []

    def __enter__(self):
        if not (os.access(CHROMEDRIVER, os.X_OK) and os.access(CHROMIUM, os.X_OK)):
            raise WebDriverError("chromium/chromedriver missing (sh scripts/deps.sh test)")
        self.log = tempfile.NamedTemporaryFile(prefix="chromedriver-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([CHROMEDRIVER, "--port=%d" % self.port],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if self.call("GET", "/status")["value"].get("ready"):
                    return self
            except (OSError, WebDriverError):
                pass
            time.sleep(0.1)
        raise WebDriverError("chromedriver did not start")

    def __exit__(self, *exc):
        for s in list(self.sessions):
            s.quit()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return False

    def call(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                     data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            raise WebDriverError("%s %s: %s" % (method, path, e.read()[:500]))

    def session(self, extra_flags=()):
        profile = tempfile.mkdtemp(prefix="moodsync-chromium-")
        args = BASE_FLAGS + ["--user-data-dir=" + profile] + list(extra_flags)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}}
        v = self.call("POST", "/session", caps, timeout=90)["value"]
        s = Session(self, v["sessionId"], profile)
        self.sessions.append(s)
        return s


class Session:
    def __init__(self, driver, sid, profile):
        self.d = driver
        self.sid = sid
        self.profile = profile

    def call(self, method, path, body=None, timeout=60):
        return self.d.call(method, "/session/%s%s" % (self.sid, path), body, timeout)["value"]

    def quit(self):
        try:
            self.d.call("DELETE", "/session/" + self.sid)
        except (OSError, WebDriverError):
            pass
        if self in self.d.sessions:
            self.d.sessions.remove(self)
        shutil.rmtree(self.profile, ignore_errors=True)

    def go(self, url):
        self.call("POST", "/url", {"url": url})

    def find(self, css):
        v = self.call("POST", "/element", {"using": "css selector", "value": css})
        return v[ELEMENT]

    def click(self, el):
        self.call("POST", "/element/%s/click" % el, {})

    def keys(self, el, text):
        self.call("POST", "/element/%s/value" % el, {"text": text})

    def text(self, el):
        return self.call("GET", "/element/%s/text" % el)

    def js(self, script, *args):
        return self.call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def js_async(self, script, *args, timeout=60):
        self.call("POST", "/timeouts", {"script": int(timeout * 1000)})
        return self.call("POST", "/execute/async", {"script": script, "args": list(args)},
                         timeout=timeout + 10)

    def screenshot(self, path):
        png = base64.b64decode(self.call("GET", "/screenshot"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(png)
        return len(png)

    def wait_for(self, script, timeout=30, every=0.25):
        """Polls `script` (returns a value) until truthy; returns it or None."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = self.js(script)
            if v:
                return v
            time.sleep(every)
        return None
