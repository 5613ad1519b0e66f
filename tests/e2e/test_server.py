#!/usr/bin/env python3
"""test_server.py - end-to-end test of `moodsync serve` (TAP output): starts
the real server on a free loopback port with a temporary database, posts
the shared face photos and checks the JSON (faces, boxes against the
annotations, emotions when a model is loaded), posts bad bodies (not an
image, truncated, empty, 50 MB, wrong type) and checks the 4xx answers,
floods one session into 429, overloads a 1-slot server into 503, checks
that sessions are isolated and that the server still answers, and stops it
with SIGTERM (killed at the end whatever happens)."""
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_server as L  # noqa: E402

t = L.Tap()
MOODS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def check_frame_json(j, w, h, with_model):
    """Returns a list of problems with a /api/frame answer."""
    bad = []
    for k in ("width", "height", "faces", "mood", "server_ms", "model"):
        if k not in j:
            bad.append("missing " + k)
    if bad:
        return bad
    if (j["width"], j["height"]) != (w, h) and w:
        bad.append("size %sx%s, expected %sx%s" % (j["width"], j["height"], w, h))
    for f in j["faces"]:
        b = f["box"]
        if b["w"] <= 0 or b["h"] <= 0 or b["x"] < 0 or b["y"] < 0 or \
           b["x"] + b["w"] > j["width"] or b["y"] + b["h"] > j["height"]:
            bad.append("box outside the image: %r" % b)
        if with_model:
            if f["emotion"] not in MOODS:
                bad.append("no emotion: %r" % f)
            elif abs(sum(f["probs"].values()) - 1.0) > 0.02:
                bad.append("probs do not sum to 1: %r" % f["probs"])
        elif f["emotion"] is not None:
            bad.append("emotion without a model")
    areas = [f["box"]["w"] * f["box"]["h"] for f in j["faces"]]
    if areas != sorted(areas, reverse=True):
        bad.append("faces not largest first")
    if not isinstance(j["server_ms"].get("total"), (int, float)):
        bad.append("no server time")
    return bad


# Under ThreadSanitizer (tests/run.sh sets MOODSYNC_E2E_TSAN=1) every
# memory access is checked, so the single-threaded accuracy run over all
# photos and most of the corrupted frames are left to the release build;
# everything concurrent (sessions, floods, overload, restart) still runs.
TSAN = os.environ.get("MOODSYNC_E2E_TSAN") == "1"
N_MUTATED = 40 if TSAN else 200


def photos_test(srv):
    ann = L.load_annotations()
    images = {}
    with open(os.path.join(L.data_dir(), "faces", "images.txt")) as f:
        for line in f:
            p = line.split()
            if len(p) >= 3 and not line.startswith("#"):
                try:
                    images[p[0]] = (int(p[1]), int(p[2]))
                except ValueError:
                    pass
    with_model = srv.model is not None
    found_imgs = matched = returned = 0
    problems = []
    for rel in sorted(ann):
        c = srv.client()  # one browser per photo: no hint from the last one
        r = c.post_image(None, L.read_photo(rel))
        if r.status != 200:
            problems.append("%s: HTTP %d %s" % (rel, r.status, r.body[:100]))
            continue
        j = r.json()
        w, h = images.get(rel, (0, 0))
        problems += ["%s: %s" % (rel, p) for p in check_frame_json(j, w, h, with_model)]
        boxes = [(f["box"]["x"], f["box"]["y"], f["box"]["w"], f["box"]["h"]) for f in j["faces"]]
        if boxes:
            found_imgs += 1
        returned += len(boxes)
        for b in boxes:
            if max(L.iou(b, a) for a in ann[rel]) >= 0.4:
                matched += 1
    n = len(ann)
    t.diag("photos: %d/%d with a face, %d boxes returned, %d match an annotation (IoU>=0.4)"
           % (found_imgs, n, returned, matched))
    t.ok(not problems, "frame JSON well-formed for %d photos (boxes inside, emotions %s)"
         % (n, "present" if with_model else "absent: no model"), "\n".join(problems))
    # The fast webcam path looks for faces of a webcam-ish size; the shared
    # photos are harder (small faces, groups), so ask for most, not all.
    t.ok(found_imgs >= n * 0.6, "faces found in >= 60%% of the photos (%d/%d)" % (found_imgs, n))
    t.ok(returned and matched >= returned * 0.6,
         "boxes plausible: >= 60%% of returned boxes match an annotation (%d/%d)"
         % (matched, returned))


def raw_post_big(port, size, chunked=False):
    """Sends a huge body without building it in memory; returns the status
    line and body the server answered (it may answer before the end)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    head = "POST /api/frame HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port
    head += "Content-Type: image/jpeg\r\n"
    head += "Transfer-Encoding: chunked\r\n" if chunked else "Content-Length: %d\r\n" % size
    s.sendall((head + "Connection: close\r\n\r\n").encode())
    chunk = b"\xff" * 65536
    sent = 0
    reply = b""
    try:
        while sent < size:
            s.setblocking(False)
            try:
                got = s.recv(65536)
                if got:
                    reply += got
                    break
            except BlockingIOError:
                pass
            s.setblocking(True)
            piece = chunk if not chunked else b"%x\r\n" % len(chunk) + chunk + b"\r\n"
            s.sendall(piece)
            sent += len(chunk)
        if chunked and sent >= size:
            s.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.setblocking(True)
    try:
        while True:
            got = s.recv(65536)
            if not got:
                break
            reply += got
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return reply.decode("latin-1"), sent


def bad_bodies_test(srv, face_jpeg):
    c = srv.client()
    bad, media, big = ("bad_request", 400), ("unsupported_media_type", 415), ("too_large", 413)
    cases = [
        ("not an image", b"hello, this is text, not a picture" * 10, "image/jpeg", bad),
        ("truncated JPEG", face_jpeg[: len(face_jpeg) // 3], "image/jpeg", bad),
        ("JPEG header only", face_jpeg[:20], "image/jpeg", bad),
        ("PNG signature then junk", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png", bad),
        ("empty body", b"", "image/jpeg", bad),
        ("wrong Content-Type", face_jpeg, "text/plain", media),
        ("no Content-Type", face_jpeg, None, media),
        ("GIF as image/gif", b"GIF89a" + b"\x00" * 50, "image/gif", media),
        ("8000x8000 PNG bomb (small file)", L.bomb_png(8000, 8000), "image/png", big),
    ]
    for name, body, ctype, (code, want) in cases:
        r = c.post("/api/frame", body, ctype)
        err = r.error()
        t.ok(r.status == want and err and err[1] == code,
             "%s -> %d with a JSON error, code %s" % (name, want, code),
             "got %d %r" % (r.status, r.body[:200]))
    t0 = time.time()
    reply, sent = raw_post_big(srv.port, 50 * 1000 * 1000)
    t.ok(reply.startswith("HTTP/1.1 413") and '"error"' in reply,
         "50 MB body (Content-Length) -> 413 without reading it (%.1f MB sent, %.2f s)"
         % (sent / 1e6, time.time() - t0), reply[:300])
    reply, sent = raw_post_big(srv.port, 50 * 1000 * 1000, chunked=True)
    t.ok(reply.startswith("HTTP/1.1 413") and '"error"' in reply,
         "50 MB chunked body -> 413", reply[:300])
    shaped = [
        ("bad setting", c.post("/api/settings", b'{"strategy": "party"}', "application/json"),
         400, "bad_request"),
        ("malformed JSON", c.post("/api/settings", b"{not json", "application/json"),
         400, "bad_request"),
        ("settings as text/plain", c.post("/api/settings", b"{}", "text/plain"),
         415, "unsupported_media_type"),
        ("bad query parameter", c.get("/api/history?limit=abc"), 400, "bad_request"),
        ("bad strategy parameter", c.get("/api/recommendation?strategy=party"), 400, "bad_request"),
        ("wrong method", c.request("DELETE", "/api/mood"), 405, "method_not_allowed"),
        ("GET on a POST-only route", c.get("/api/frame"), 405, "method_not_allowed"),
        ("unknown endpoint", c.post("/api/nope", b"{}", "application/json"), 404, "not_found"),
        ("unknown page", c.get("/nope.html"), 404, "not_found"),
        ("body over a command's cap", c.post("/api/spotify/pause", b"x" * 100, "application/json"),
         413, "too_large"),
    ]
    for name, r, want, code in shaped:
        err = r.error()
        t.ok(r.status == want and err and err[1] == code,
             "%s -> %d, {\"error\", \"code\": \"%s\"}" % (name, want, code),
             "got %d %r" % (r.status, r.body[:200]))


def mutation_test(srv, face_jpeg):
    """200 corrupted frames (bit flips, cut, spliced; JPEG and PNG): each
    answered 200 or 4xx, never a crash or a hang."""
    import random
    rng = random.Random(4)
    png = L.png_gray(96, 72)
    codes = {}
    # spread over 20 browsers (10 frames each stays under the per-browser
    # rate; a new session per frame would meet the new-session rate)
    clients = [L.Client(srv.port) for _ in range(20)]
    for i in range(N_MUTATED):
        c = clients[i % len(clients)]
        src = bytearray(face_jpeg if i % 2 == 0 else png)
        kind = i % 4
        if kind == 0:
            for _ in range(rng.randint(1, 20)):
                src[rng.randrange(len(src))] = rng.randrange(256)
        elif kind == 1:
            src = src[: rng.randrange(2, len(src))]
        elif kind == 2:
            a = rng.randrange(len(src))
            src = src[:a] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + src[a:]
        else:
            for _ in range(rng.randint(1, 4)):
                a = rng.randrange(len(src))
                src[a:a + 4] = b"\xff\xff\xff\xff"
        r = c.post("/api/frame", bytes(src), "image/png" if i % 2 else "image/jpeg")
        codes[r.status] = codes.get(r.status, 0) + 1
    t.ok(set(codes) <= {200, 400, 413} and srv.alive(),
         "%d corrupted frames answered 200/400/413, server alive" % N_MUTATED,
         repr(codes))


def flood_test(srv):
    small = L.png_gray(64, 48)
    c = srv.client()
    codes = {}
    retry = None
    for _ in range(120):
        r = c.post("/api/frame", small, "image/png")
        codes[r.status] = codes.get(r.status, 0) + 1
        if r.status == 429:
            retry = r.header("Retry-After")
            err = r.error()
    t.ok(codes.get(429, 0) > 0 and retry and err and err[1] == "rate_limited",
         "one browser flooding 120 frames gets 429 with Retry-After, code rate_limited",
         repr(codes))
    t.ok(set(codes) <= {200, 429}, "flood answers are only 200 or 429", repr(codes))
    other = srv.client().post("/api/frame", small, "image/png")
    t.ok(other.status == 200, "another browser is not limited by the flood", other.status)


def sessions_test(srv, face_jpeg):
    a, b = srv.client(), srv.client()
    ra = a.get("/api/settings")
    rb = b.get("/api/settings")
    t.ok(a.cookies.get("ms_sid") and b.cookies.get("ms_sid") and
         a.cookies["ms_sid"] != b.cookies["ms_sid"], "each browser gets its own session cookie")
    line = a.set_cookie_lines[0] if a.set_cookie_lines else ""
    t.ok("HttpOnly" in line and "SameSite=Lax" in line and "Path=/" in line,
         "session cookie is HttpOnly, SameSite=Lax, Path=/", line)
    r = a.post("/api/settings", json.dumps({"strategy": "lift"}).encode(), "application/json")
    t.ok(r.status == 200 and r.json()["strategy"] == "lift", "settings saved for A", r.body)
    t.ok(b.get("/api/settings").json()["strategy"] == "match",
         "B's settings unchanged by A")
    for _ in range(8):
        a.post("/api/frame", face_jpeg, "image/jpeg")
        time.sleep(0.15)
    ma, mb = a.get("/api/mood").json(), b.get("/api/mood").json()
    t.ok(ma["faces"] >= 1 and mb["faces"] == 0 and mb["mood"] is None,
         "A's frames do not show up in B's mood", "A %r\nB %r" % (ma, mb))
    if srv.model:
        t.ok(ma["mood"] in MOODS, "A has a smoothed mood after 8 frames", ma)
    ha, hb = a.get("/api/history").json(), b.get("/api/history").json()
    t.ok(hb["points"] == [] and (not srv.model or len(ha["points"]) >= 1),
         "history is per session (A %d points, B %d)" % (len(ha["points"]), len(hb["points"])))
    rec = a.get("/api/recommendation").json()
    t.ok(rec["strategy"] == "lift" and rec["playlists"] and
         all(p["url"].startswith("https://open.spotify.com/search/") for p in rec["playlists"]),
         "recommendation follows A's strategy with open.spotify.com search links", rec)
    # a forged or unknown cookie gets a fresh session, not someone's data
    c = L.Client(srv.port)
    c.cookies["ms_sid"] = "0" * 32
    sessions_test.a = a
    r = c.get("/api/mood")
    t.ok(r.status == 200 and c.cookies["ms_sid"] != "0" * 32 and r.json()["faces"] == 0,
         "an unknown session id is replaced by a new one")


def overload_test(face_jpeg):
    with L.Server(["--frames", "1", "--queue-ms", "1", "--threads", "8", "--rate", "0"]) as s2:
        codes = {}
        busy = []
        lock = threading.Lock()

        def worker():
            c = s2.client()
            for _ in range(6):
                r = c.post("/api/frame", face_jpeg, "image/jpeg")
                with lock:
                    codes[r.status] = codes.get(r.status, 0) + 1
                    if r.status == 503:
                        busy.append(r.error())
        th = [threading.Thread(target=worker) for _ in range(8)]
        for x in th:
            x.start()
        for x in th:
            x.join()
        t.ok(codes.get(503, 0) > 0 and set(codes) <= {200, 503},
             "8 parallel browsers on a 1-slot server get 503 (never a hang)", repr(codes))
        t.ok(busy and all(e and e[1] == "busy" for e in busy),
             "each 503 has Retry-After and the error shape, code busy", repr(busy[:3]))
        t.ok(s2.client().get("/healthz").status == 200, "the overloaded server recovers")


def align_test(face_jpeg):
    """serve --align: frames still answer with the same shape and faces;
    a missing eye cascade stops the server at start with one line."""
    with L.Server(["--align"]) as s2:
        r = s2.client().post_image(None, face_jpeg)
        j = r.json() if r.status == 200 else {}
        t.ok(r.status == 200 and len(j.get("faces", [])) >= 1 and
             not check_frame_json(j, j.get("width", 0), j.get("height", 0), s2.model is not None),
             "serve --align answers a frame with its face", r.body[:200])
    bad = L.Server(["--align", "--eyes", "/nonexistent/eyes.xml"])
    try:
        bad.start(timeout=10)
        started = True
    except RuntimeError:
        started = False
    log = bad.log_text()
    bad.kill()
    t.ok(not started and "nonexistent" in log, "serve --align with a missing eye cascade "
         "refuses to start, saying why", log[-300:])


def main():
    ann = L.load_annotations()
    first = sorted(ann)[0]
    face_jpeg = None
    for rel in sorted(ann):  # a photo with one big face
        if len(ann[rel]) == 1 and rel.endswith(".jpg"):
            face_jpeg = L.read_photo(rel)
            break
    face_jpeg = face_jpeg or L.read_photo(first)
    with L.Server() as srv:
        c = srv.client()
        r = c.get("/healthz")
        h = r.json() if r.status == 200 else {}
        t.ok(r.status == 200 and h.get("status") == "ok", "healthz answers", r.body[:200])
        t.ok(h.get("model") == (srv.model is not None),
             "healthz says whether emotions are on (model=%s)" % srv.model, h)
        r = c.get("/")
        t.ok(r.status == 200 and b"<section id=\"spotify\"" in r.body and
             "default-src 'self'" in (r.header("Content-Security-Policy") or "") and
             r.header("X-Content-Type-Options") == "nosniff" and
             (r.header("Content-Type") or "").startswith("text/html"),
             "/ serves the page with CSP and nosniff")
        for path, typ in (("/app.js", "text/javascript"), ("/style.css", "text/css"),
                          ("/spotify.js", "text/javascript")):
            r = c.get(path)
            t.ok(r.status == 200 and (r.header("Content-Type") or "").startswith(typ),
                 "%s served as %s" % (path, typ))
        t.ok(c.get("/../etc/passwd").status == 404 and c.get("/nope.html").status == 404,
             "unknown paths -> 404")
        if TSAN:
            t.diag("ThreadSanitizer build: the detection accuracy run over every "
                   "photo is left to the release build")
        else:
            photos_test(srv)
        bad_bodies_test(srv, face_jpeg)
        mutation_test(srv, face_jpeg)
        flood_test(srv)
        sessions_test(srv, face_jpeg)
        r = srv.client().post("/api/frame", face_jpeg, "image/jpeg")
        t.ok(r.status == 200 and srv.alive(), "server still answers frames after all that")
        rc = srv.stop()
        t.ok(rc == 0, "SIGTERM stops the server cleanly (exit %s)" % rc, srv.log_text())
        log = srv.log_text()
        t.ok("Sanitizer" not in log and "runtime error" not in log,
             "no sanitizer report in the server log", log)
    # a restart keeps sessions, settings and history (same database)
    a = sessions_test.a
    with L.Server(db=srv.db) as srv2:
        a.port = srv2.port
        r = a.get("/api/settings")
        t.ok(r.status == 200 and r.json()["strategy"] == "lift" and not any(
             k.lower() == "set-cookie" for k, _ in r.headers),
             "after a restart the same cookie finds its session and settings", r.body)
        h = a.get("/api/history").json()["points"]
        t.ok(not srv.model or len(h) >= 1, "history survives a restart (%d points)" % len(h))
    overload_test(face_jpeg)
    align_test(face_jpeg)
    return t.exit_code()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # a crash is a failure, reported in TAP
        import traceback
        print("not ok - test_server.py crashed: %r" % e)
        traceback.print_exc(file=sys.stdout)
        sys.exit(1)
