"""lib_stub_library.py - a development stand-in for the music routes of the
HTTP contract (GET /api/library, GET /api/queue, POST /api/queue/next,
POST /api/tracks/{id}/feedback and /point, GET /api/tracks/{id}/audio) in
front of the real server: every other request is passed through unchanged
(cookies, CSP and all). Tracks are generated WAV tones with fixed points on
the valence/arousal plane; the next track is the one nearest the listener's
point (GET /api/mood of the same session) moved toward the goal. Only used
by the browser tests when MOODSYNC_STUB_LIBRARY=1, while a server without
the library routes is being developed against."""
import http.client
import http.server
import io
import json
import math
import re
import struct
import threading
import wave

GOAL_STEP = {"match": (0, 0), "lift": (0.4, 0), "calm": (0, -0.4), "energise": (0, 0.4)}


def tone(seconds, freq, rate=8000):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * freq * i / rate)))
                               for i in range(int(seconds * rate))))
    return buf.getvalue()


TRACKS = []
for i, (v, a, name) in enumerate([(0.7, 0.5, "Bright Morning"), (0.6, -0.4, "Still Water"),
                                  (-0.6, -0.4, "Grey Rain"), (-0.5, 0.6, "Storm Front"),
                                  (0.2, 0.8, "Sudden Light"), (0.0, -0.1, "Plain Road"),
                                  (0.8, 0.2, "Good Day"), (-0.7, -0.6, "Long Night")]):
    TRACKS.append({"id": i + 1, "title": name, "artist": "Stub Band %d" % (i % 3), "album": "Stubs",
                   "duration_s": 6.0, "valence": v, "arousal": a, "mime": "audio/wav",
                   "url": "/api/tracks/%d/audio" % (i + 1), "liked": False})
AUDIO = {t["id"]: tone(6.0, 220 + 40 * t["id"]) for t in TRACKS}


class Stub:
    def __init__(self, upstream_port):
        self.up = upstream_port
        self.lock = threading.Lock()
        self.queues = {}  # cookie -> {"now", "played"}
        self.log = []

    def start(self):
        stub = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_one(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                r = stub.route(self, method, body)
                if r is None:
                    r = stub.forward(self, method, body)
                status, headers, data = r
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(data)

            def do_GET(self):
                self.handle_one("GET")

            def do_HEAD(self):
                self.handle_one("HEAD")

            def do_POST(self):
                self.handle_one("POST")

            def do_DELETE(self):
                self.handle_one("DELETE")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def upstream(self, method, path, body=b"", headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.up, timeout=30)
        try:
            c.request(method, path, body=body or None, headers=headers or {})
            r = c.getresponse()
            return r.status, r.getheaders(), r.read()
        finally:
            c.close()

    def forward(self, h, method, body):
        hdrs = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection")}
        return self.upstream(method, h.path, body, hdrs)

    def json(self, obj, status=200):
        return status, [("Content-Type", "application/json")], json.dumps(obj).encode()

    def state(self, h):
        key = h.headers.get("Cookie") or ""
        with self.lock:
            return self.queues.setdefault(key, {"now": None, "played": []})

    def listener(self, h):
        st, _, data = self.upstream("GET", "/api/mood", headers={"Cookie": h.headers.get("Cookie") or ""})
        m = json.loads(data) if st == 200 else {}
        s2, _, d2 = self.upstream("GET", "/api/settings", headers={"Cookie": h.headers.get("Cookie") or ""})
        goal = json.loads(d2).get("strategy", "match") if s2 == 200 else "match"
        v, a = m.get("valence"), m.get("arousal")
        if v is None:
            v, a = 0.0, 0.0
        return {"valence": v, "arousal": a, "feeling": m.get("feeling") or "neutral"}, goal

    def queue(self, h, st):
        lis, goal = self.listener(h)
        dv, da = GOAL_STEP.get(goal, (0, 0))
        tgt = {"valence": max(-1, min(1, lis["valence"] + dv)), "arousal": max(-1, min(1, lis["arousal"] + da))}
        rest = sorted((t for t in TRACKS if t["id"] not in st["played"]),
                      key=lambda t: math.hypot(t["valence"] - tgt["valence"], t["arousal"] - tgt["arousal"]))
        now = dict(st["now"], why="stub: nearest to your %s mood" % lis["feeling"]) if st["now"] else None
        return {"goal": goal, "listener": lis, "target": tgt, "now": now, "next": rest[:5]}

    def route(self, h, method, body):
        path = h.path.split("?", 1)[0]
        if path == "/api/library" and method == "GET":
            return self.json({"tracks": len(TRACKS), "scanning": False, "done": len(TRACKS),
                              "total": len(TRACKS), "eta_s": 0, "skipped": 0, "folders": ["stub"]})
        if path == "/api/queue" and method == "GET":
            return self.json(self.queue(h, self.state(h)))
        if path == "/api/queue/next" and method == "POST":
            st = self.state(h)
            req = json.loads(body or b"{}")
            self.log.append(("next", req.get("reason")))
            q = self.queue(h, st)
            if q["next"]:
                st["now"] = q["next"][0]
                st["played"].append(st["now"]["id"])
            return self.json(self.queue(h, st))
        m = re.match(r"^/api/tracks/(\d+)/(audio|feedback|point)$", path)
        if not m:
            return None
        tid, what = int(m.group(1)), m.group(2)
        t = next((x for x in TRACKS if x["id"] == tid), None)
        if t is None:
            return self.json({"error": "no such track", "code": "not_found"}, 404)
        if what == "audio":
            return 200, [("Content-Type", "audio/wav"), ("Accept-Ranges", "none")], AUDIO[tid]
        req = json.loads(body or b"{}")
        self.log.append((what, tid, req))
        if what == "feedback":
            t["liked"] = req.get("kind") == "like"
            return self.json({"ok": True})
        t["valence"], t["arousal"] = req["valence"], req["arousal"]
        return self.json(t)
