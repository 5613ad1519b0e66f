"""lib_server.py - shared helpers for MoodSync's end-to-end tests (python3
stdlib only): start `moodsync serve` on a free loopback port and stop it
(always), an HTTP client with its own cookie jar and a check of the one
error shape, TAP output, the shared face photos with their annotations,
the model to test with, and PNG builders (valid frames, decompression
bombs). The fake Spotify and its control helpers are in fake_spotify.py."""
import http.client
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def data_dir():
    return os.environ.get("MOODSYNC_DATA") or os.path.join(REPO, "..", "shared", "data")


def moodsync_bin():
    return os.environ.get("MOODSYNC_BIN") or os.path.join(REPO, "build", "release", "moodsync")


def default_model():
    """The emotion model the tests use: $MOODSYNC_MODEL, the shipped model,
    the tiny test model, or None (the server then runs faces-only)."""
    for p in (os.environ.get("MOODSYNC_MODEL"),
              os.path.join(REPO, "models", "emotion.msens"),
              os.path.join(REPO, "tests", "data", "tiny.msnn")):
        if p and os.path.isfile(p):
            return p
    return None


def classifier_model():
    """default_model(), or a tiny model trained now (about a second) when
    there is none: tests whose moods must change need a classifier."""
    import atexit
    import shutil
    m = default_model()
    if m:
        return m
    tmp = tempfile.mkdtemp(prefix="moodsync-model-")
    atexit.register(shutil.rmtree, tmp, True)
    out = os.path.join(tmp, "tiny.msnn")
    subprocess.run([moodsync_bin(), "train", "--arch", "tiny", "--epochs",
                    "1", "--limit", "1000", "--out", out, "--data",
                    os.path.join(data_dir(), "fer2013")],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return out


class Tap:
    """Prints `ok - name` / `not ok - name` lines; exit() returns 1 on any failure."""

    def __init__(self):
        self.failed = 0
        self.passed = 0

    def ok(self, cond, name, diag=None):
        if cond:
            self.passed += 1
            print("ok - " + name, flush=True)
        else:
            self.failed += 1
            print("not ok - " + name, flush=True)
            if diag is not None:
                for line in str(diag).splitlines()[:20]:
                    print("#   " + line, flush=True)
        return bool(cond)

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def exit_code(self):
        return 1 if self.failed or not self.passed else 0


class Server:
    """`moodsync serve --port 0` in a fresh temporary directory. Use as a
    context manager: the process is killed on exit, even on failure.
    `music`: library folders to scan at start (default: no library)."""

    def __init__(self, args=(), model="default", env=None, db=None, music=()):
        self.tmp = tempfile.mkdtemp(prefix="moodsync-e2e-")
        self.db = db or os.path.join(self.tmp, "db", "moodsync.db")
        self.log_path = os.path.join(self.tmp, "server.log")
        self.args = list(args)
        # music library folders; none by default, so that a test does not
        # scan the demo library it does not use
        if music:
            self.args += ["--music", ":".join(music)]
        else:
            self.args += ["--music", "none"]
        self.model = default_model() if model == "default" else model
        self.env = dict(os.environ)
        self.env.setdefault("MOODSYNC_LOG", "info")
        if env:
            self.env.update(env)
        self.proc = None
        self.port = None

    def __enter__(self):
        # A server started before the `with` (to wait for its first scan,
        # say) is the one the block uses and stops; no second process.
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.kill()
        return False

    def start(self, timeout=20.0):
        cmd = [moodsync_bin(), "serve", "--host", "127.0.0.1", "--port", "0",
               "--db", self.db, "--model", self.model or "none"] + self.args
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log,
                                     env=self.env, cwd=REPO)
        deadline = time.time() + timeout
        line = b""
        while time.time() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                ch = os.read(self.proc.stdout.fileno(), 1)
                if not ch:
                    break
                line += ch
                if ch == b"\n":
                    text = line.decode("utf-8", "replace")
                    if text.startswith("listening on http://"):
                        self.port = int(text.rsplit(":", 1)[1].strip().strip("/"))
                        return self
                    line = b""
            elif self.proc.poll() is not None:
                break
        raise RuntimeError("server did not start: " + self.log_text())

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM and wait; returns the exit status (None if it hung)."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
        return self.proc.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "log", None):
            self.log.close()

    def client(self):
        return Client(self.port)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        import json
        return json.loads(self.body.decode("utf-8"))

    def error(self):
        """(message, code) when the body is the one error shape every route
        answers ({"error": message, "code": snake_case_code} plus
        "retry_after_s" exactly when a Retry-After header is sent, see
        docs/api.md); None for any other body."""
        import re
        try:
            j = self.json()
        except ValueError:
            return None
        if not isinstance(j, dict):
            return None
        msg, code = j.get("error"), j.get("code")
        if not (isinstance(msg, str) and msg and isinstance(code, str) and
                re.fullmatch(r"[a-z]+(_[a-z]+)*", code)):
            return None
        retry = self.header("Retry-After")
        extra = set(j) - {"error", "code"}
        if retry is None and extra:
            return None
        if retry is not None and (extra != {"retry_after_s"} or
                                  str(j["retry_after_s"]) != retry):
            return None
        return msg, code


class Client:
    """One browser: its own cookie jar (the session)."""

    def __init__(self, port, host="127.0.0.1"):
        self.host = host
        self.port = port
        self.cookies = {}
        self.set_cookie_lines = []

    def request(self, method, path, body=None, headers=None, timeout=30.0):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            hdrs = r.getheaders()
        finally:
            c.close()
        for k, v in hdrs:
            if k.lower() == "set-cookie":
                self.set_cookie_lines.append(v)
                name, _, rest = v.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0].strip()
        return Response(r.status, hdrs, data)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, ctype, **kw):
        hdrs = {"Content-Type": ctype} if ctype else {}
        hdrs.update(kw.pop("headers", {}))
        return self.request("POST", path, body=body, headers=hdrs, **kw)

    def post_image(self, path, data):
        ctype = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
        return self.post("/api/frame", data, ctype) if path is None else self.post(path, data, ctype)


def wait_library_scan(client, timeout=240):
    """Waits for the server's first library scan: its summary (GET
    /api/library) once it has tracks, None when it scanned files and none
    is playable (or on timeout), False when the server has no library."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = client.get("/api/library")
        if r.status != 200:
            return False               # no library on this server
        j = r.json()
        if not j.get("scanning") and j.get("tracks", 0) > 0:
            return j
        if not j.get("scanning") and j.get("total", 0) > 0:
            return None                # scanned, nothing playable
        time.sleep(1)
    return None


def load_annotations():
    """{relative image path: [(x, y, w, h), ...]} from faces/annotations.txt."""
    ann = {}
    path = os.path.join(data_dir(), "faces", "annotations.txt")
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 5:
                continue
            ann.setdefault(parts[0], []).append(tuple(int(v) for v in parts[1:]))
    return ann


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def read_photo(rel):
    with open(os.path.join(data_dir(), "faces", rel), "rb") as f:
        return f.read()


def png_chunk(kind, data):
    """One PNG chunk: length, type, data, CRC-32."""
    import struct
    import zlib
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def png_from_idat(w, h, idat):
    """An 8-bit grayscale PNG of w x h around compressed IDAT bytes."""
    import struct
    return (b"\x89PNG\r\n\x1a\n" +
            png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def png_gray(w, h, pixel=lambda x, y: (x * 7 + y * 3) & 255):
    """A valid 8-bit grayscale PNG (stdlib zlib), for small test frames."""
    import zlib
    raw = b"".join(b"\x00" + bytes(pixel(x, y) for x in range(w)) for y in range(h))
    return png_from_idat(w, h, zlib.compress(raw))


def bomb_png(w, h):
    """A tiny PNG that claims w x h (one gray row repeated)."""
    import zlib
    co = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * w
    raw = b"".join(co.compress(row) for _ in range(h)) + co.flush()
    return png_from_idat(w, h, raw)


def fail_hard(msg):
    print("not ok - " + msg, flush=True)
    sys.exit(1)
