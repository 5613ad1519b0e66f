#!/usr/bin/env python3
"""test_library.py - end-to-end test of the music library (TAP output).
Builds a folder of small generated WAV files (sines, python's wave module)
plus a corrupt file, a zero-length file, a symlink loop and an unreadable
folder; scans it with `moodsync library scan` (a rescan analyses nothing);
starts the server on that database and folder and checks GET /api/library,
the queue (now, next, why, no repeats on next), feedback and point routes
with good and bad input, the audio route (200, 206 bytes equal to the
file's, suffix ranges, 416 with Content-Range, HEAD, 304 on If-None-Match,
ignored bad ranges, ids never paths) and that a removed file disappears
after POST /api/library/scan."""
import json
import math
import os
import shutil
import sqlite3
import stat
import struct
import subprocess
import sys
import tempfile
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_server as L  # noqa: E402

t = L.Tap()
JSON = {"Content-Type": "application/json", "X-MoodSync": "1"}
TRACK_KEYS = ("id", "title", "artist", "album", "duration_s", "valence", "arousal", "mime",
              "url", "liked")


def write_wav(path, freq, seconds=3.0, rate=8000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(seconds * rate)
        amp = 6000 + freq * 5
        w.writeframes(b"".join(struct.pack("<h", int(amp * math.sin(2 * math.pi * freq * i / rate)))
                               for i in range(n)))


def make_library(root):
    """The folder: 5 good WAVs (one in a folder only root can read when we
    are not root), a corrupt and an empty file, a text file, a loop."""
    files = {}
    sub = os.path.join(root, "sub")
    locked = os.path.join(root, "locked")
    os.makedirs(sub)
    os.makedirs(locked)
    for i, freq in enumerate((220, 330, 440, 550)):
        p = os.path.join(root if i < 2 else sub, "tone%d.wav" % i)
        write_wav(p, freq)
        files["tone%d" % i] = p
    p = os.path.join(locked, "hidden.wav")
    write_wav(p, 660)
    files["hidden"] = p
    with open(os.path.join(sub, "corrupt.wav"), "wb") as f:
        f.write(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk" + os.urandom(200))
    open(os.path.join(sub, "empty.ogg"), "wb").close()
    with open(os.path.join(root, "notes.txt"), "w") as f:
        f.write("not music\n")
    os.symlink(root, os.path.join(sub, "loop"))
    os.chmod(locked, 0)
    return files


def run(args, timeout=300):
    return subprocess.run([L.moodsync_bin()] + args, capture_output=True, text=True,
                          timeout=timeout, cwd=L.REPO)


def summary_counts(line):
    """'... 7 audio files, 5 analysed, 0 unchanged, 2 skipped, ...' -> dict."""
    out = {}
    for part in line.replace(":", ",").split(","):
        words = part.split()
        if len(words) >= 2 and words[0].isdigit():
            out[" ".join(words[1:])] = int(words[0])
    return out


def check_cli(db, root):
    n = 7 if os.geteuid() == 0 else 6  # root reads the locked folder too
    r = run(["library", "scan", "--db", db, root])
    t.ok(r.returncode == 0, "library scan exits 0 despite bad files", r.stderr[-2000:])
    c = summary_counts(r.stdout.strip())
    t.ok(c.get("audio files") == n, "scan finds the %d audio files (loop followed once)" % n,
         r.stdout)
    t.ok(c.get("skipped") == 2, "corrupt and empty files are skipped", r.stdout)
    t.ok(c.get("problems", 0) >= 1, "the symlink loop is reported as a problem", r.stdout)
    lines = [ln for ln in r.stderr.splitlines() if "corrupt.wav" in ln or "empty.ogg" in ln]
    t.ok(len(lines) == 2 and all(len(ln) < 400 for ln in lines),
         "each skipped file gets one line with a reason", r.stderr[-2000:])
    r2 = run(["library", "scan", "--db", db, root])
    c2 = summary_counts(r2.stdout.strip())
    t.ok(r2.returncode == 0 and c2.get("analysed") == 0 and c2.get("unchanged") == n,
         "a rescan with nothing changed analyses nothing", r2.stdout + r2.stderr[-1000:])
    r3 = run(["library", "scan", "--db", db, "--jobs", "0", root])
    t.ok(r3.returncode == 2 and r3.stderr.count("\n") == 1, "bad --jobs: one-line error, status 2",
         r3.stderr)
    r4 = run(["library", "scan", "--db", db, "/nonexistent/moodsync-music"])
    t.ok(r4.returncode == 0 and "No such file" in r4.stderr, "a missing folder is reported, not fatal",
         r4.stdout + r4.stderr)
    r5 = run(["library", "scan", "--db", db, root])
    t.ok(summary_counts(r5.stdout.strip()).get("unchanged") == n,
         "scanning another folder removed nothing here", r5.stdout)


def wait_scan(c, timeout=120):
    end = time.time() + timeout
    j = {}
    while time.time() < end:
        j = c.get("/api/library").json()
        if not j.get("scanning"):
            return j
        time.sleep(0.2)
    return j


def check_track(j, name):
    missing = [k for k in TRACK_KEYS if k not in j]
    t.ok(not missing and j["url"] == "/api/tracks/%d/audio" % j["id"] and
         -1 <= j["valence"] <= 1 and -1 <= j["arousal"] <= 1 and j["mime"] == "audio/wav",
         name + ": a track object", json.dumps(j)[:500])


def file_of(files, track):
    return files.get(track["title"])


def feedback_rows(db):
    """What the listeners taught: the track_feedback rows, read-only."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return con.execute("SELECT * FROM track_feedback ORDER BY user, track").fetchall()
    finally:
        con.close()


def check_queue(c, files, db):
    q = c.get("/api/queue")
    j = q.json()
    t.ok(q.status == 200 and j.get("goal") == "match" and "listener" in j and "target" in j,
         "GET /api/queue answers goal, listener, target", q.body[:500])
    now = j.get("now")
    t.ok(now is not None and isinstance(now.get("why"), str) and ":" in now["why"],
         "the queue plays a track and says why", json.dumps(now)[:300])
    if now:
        check_track(now, "now")
    ids = [n["id"] for n in j.get("next", [])]
    t.ok(len(ids) >= 2 and len(set(ids)) == len(ids) and now and now["id"] not in ids,
         "next lists other tracks, no repeats", json.dumps(ids))
    again = c.get("/api/queue").json()
    t.ok(now and again["now"]["id"] == now["id"], "the queue changes only at a track boundary")
    seen = [now["id"]] if now else []
    for _ in range(3):
        r = c.post("/api/queue/next", b'{"position_s": 4.5, "reason": "skip"}', None,
                   headers=JSON)
        seen.append(r.json()["now"]["id"] if r.status == 200 and r.json()["now"] else None)
    t.ok(None not in seen and len(set(seen)) == 4, "four tracks in a row, none repeated", seen)
    before = feedback_rows(db)
    r = c.post("/api/queue/next", b'{"position_s": 0, "reason": "error"}', None, headers=JSON)
    t.ok(r.status == 200 and r.json()["now"] and feedback_rows(db) == before,
         "queue/next for an unplayable track (reason error) moves on and records no skip",
         (r.status, before, feedback_rows(db)))
    for body, ctype, want in ((b'{"reason": "bogus"}', "application/json", 400),
                              (b'{"position_s": "x"}', "application/json", 400),
                              (b'[1,2]', "application/json", 400),
                              (b'{"reason": "ended"', "application/json", 400),
                              (b'reason=ended', "text/plain", 415)):
        r = c.post("/api/queue/next", body, None, headers=dict(JSON, **{"Content-Type": ctype}))
        t.ok(r.status == want and "error" in r.json() and "code" in r.json(),
             "queue/next %r -> %d" % (body, want),
             r.body[:200])
    return now


def check_audio(c, files, track):
    path = file_of(files, track)
    data = open(path, "rb").read()
    url = track["url"]
    r = c.get(url)
    t.ok(r.status == 200 and r.body == data and r.header("Content-Type") == "audio/wav" and
         r.header("Accept-Ranges") == "bytes" and r.header("ETag") and
         r.header("Last-Modified") and "no-store" not in (r.header("Cache-Control") or ""),
         "audio: 200 with the file's bytes, MIME, Accept-Ranges, ETag, Last-Modified",
         r.headers)
    etag = r.header("ETag")
    r = c.get(url, headers={"Range": "bytes=100-1099"})
    t.ok(r.status == 206 and r.body == data[100:1100] and
         r.header("Content-Range") == "bytes 100-1099/%d" % len(data),
         "Range bytes=100-1099 -> 206 with those bytes", r.headers)
    r = c.get(url, headers={"Range": "bytes=-64"})
    t.ok(r.status == 206 and r.body == data[-64:], "suffix range -> the last 64 bytes")
    r = c.get(url, headers={"Range": "bytes=%d-" % (len(data) - 10)})
    t.ok(r.status == 206 and r.body == data[-10:], "open-ended range to the end")
    r = c.get(url, headers={"Range": "bytes=%d-" % len(data)})
    t.ok(r.status == 416 and r.header("Content-Range") == "bytes */%d" % len(data) and
         r.json().get("code") == "range_not_satisfiable",
         "range past the end -> 416 with Content-Range: bytes */size and a JSON error",
         r.headers)
    for bad in ("bytes=abc", "bytes=5-1", "lines=0-5", "bytes=0-1,4-5"):
        r = c.get(url, headers={"Range": bad})
        t.ok(r.status == 200 and r.body == data, "Range %r is ignored: 200, whole file" % bad)
    r = c.request("HEAD", url)
    t.ok(r.status == 200 and r.body == b"" and r.header("Content-Length") == str(len(data)),
         "HEAD: headers and length, no body", r.headers)
    r = c.get(url, headers={"If-None-Match": etag})
    t.ok(r.status == 304 and r.body == b"", "If-None-Match with the ETag -> 304")
    r = c.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    t.ok(r.status == 200 and r.body == data, "If-Range with another validator -> whole file")
    for p in ("/api/tracks/0/audio", "/api/tracks/99999/audio", "/api/tracks/-1/audio",
              "/api/tracks/abc/audio", "/api/tracks/..%2F..%2Fetc%2Fpasswd/audio",
              "/api/tracks/%s/audio" % path.replace("/", "%2F"),
              "/api/tracks/1/audio/x", "/api/tracks//audio"):
        r = c.get(p)
        t.ok(r.status == 404 and b"root:" not in r.body, "%s -> 404 (tracks by id only)" % p,
             r.body[:200])


def check_feedback(c, track):
    fb = "/api/tracks/%d/feedback" % track["id"]
    r = c.post(fb, b'{"kind": "like"}', None, headers=JSON)
    t.ok(r.status == 200 and r.json() == {"ok": True}, "like -> {ok: true}", r.body[:200])
    pt = c.post("/api/tracks/%d/point" % track["id"], b'{"valence": 0.9, "arousal": -0.8}',
                None, headers=JSON)
    j = pt.json() if pt.status == 200 else {}
    t.ok(pt.status == 200 and abs(j.get("valence", 0) - 0.9) < 1e-6 and
         abs(j.get("arousal", 0) + 0.8) < 1e-6 and j.get("liked") is True,
         "point: the track comes back at the listener's point, liked", pt.body[:300])
    for kind in ("unlike", "skip", "not_mood"):
        r = c.post(fb, json.dumps({"kind": kind}).encode(), None, headers=JSON)
        t.ok(r.status == 200, "feedback %s accepted" % kind, r.body[:200])
    other = L.Client(c.port)
    j = other.get("/api/queue").json()
    mine = [x for x in [j.get("now")] + j.get("next", []) if x and x["id"] == track["id"]]
    t.ok(not mine or (mine[0]["liked"] is False and abs(mine[0]["valence"] - 0.9) > 1e-6),
         "another listener does not see this listener's like or point")
    cases = ((fb, b'{"kind": "love"}', "application/json", 400),
             (fb, b'{}', "application/json", 400),
             (fb, b'not json', "application/json", 400),
             (fb, b'{"kind": "like"}', "text/plain", 415),
             ("/api/tracks/99999/feedback", b'{"kind": "like"}', "application/json", 404),
             ("/api/tracks/x/feedback", b'{"kind": "like"}', "application/json", 404),
             ("/api/tracks/%d/point" % track["id"], b'{"valence": 2, "arousal": 0}',
              "application/json", 400),
             ("/api/tracks/%d/point" % track["id"], b'{"valence": 0}', "application/json", 400),
             ("/api/tracks/%d/point" % track["id"], b'{"valence": "0", "arousal": 0}',
              "application/json", 400),
             ("/api/tracks/99999/point", b'{"valence": 0, "arousal": 0}', "application/json", 404))
    for path, body, ctype, want in cases:
        r = c.post(path, body, None, headers=dict(JSON, **{"Content-Type": ctype}))
        ok = r.status == want
        try:
            ok = ok and isinstance(r.json().get("error"), str) and \
                isinstance(r.json().get("code"), str)
        except ValueError:
            ok = False
        t.ok(ok, "%s %r -> %d with a JSON error" % (path, body[:30], want), r.body[:200])
    r = c.post(fb, b'{"kind": "like"}' + b" " * 5000, None, headers=JSON)
    t.ok(r.status == 413, "a huge feedback body -> 413")


def check_goal(c):
    r = c.post("/api/settings", b'{"strategy": "calm"}', None, headers=JSON)
    t.ok(r.status == 200 and r.json().get("strategy") == "calm", "strategy calm accepted",
         r.body[:200])
    j = c.get("/api/queue").json()
    t.ok(j.get("goal") == "calm", "the queue follows the goal", j.get("goal"))
    r = c.post("/api/settings", b'{"strategy": "sideways"}', None, headers=JSON)
    t.ok(r.status == 400, "an unknown strategy -> 400")


def check_rescan(c, files):
    before = c.get("/api/library").json()
    os.unlink(files["tone3"])
    r = c.post("/api/library/scan", b"{}", None, headers=JSON)
    t.ok(r.status == 200, "POST /api/library/scan starts a scan", r.body[:200])
    j = wait_scan(c)
    t.ok(j.get("tracks") == before.get("tracks", 0) - 1 and j.get("removed") == 1,
         "a removed file disappears from the library", json.dumps([before, j]))
    q = c.get("/api/queue").json()
    names = [x["title"] for x in [q.get("now")] + q.get("next", []) if x]
    t.ok("tone3" not in names, "the removed track is not queued", names)


def check_no_library():
    with L.Server(model=None) as srv:
        c = srv.client()
        j = c.get("/api/library").json()
        t.ok(j.get("tracks") == 0 and j.get("folders") == [], "no library: 0 tracks, no folders",
             json.dumps(j))
        q = c.get("/api/queue").json()
        fb = q.get("fallback") or {}
        t.ok(q.get("now") is None and q.get("next") == [] and len(fb.get("playlists", [])) >= 3 and
             all(p["url"].startswith("https://open.spotify.com/search/") for p in fb["playlists"]),
             "no library: the queue falls back to the catalog's playlists", json.dumps(q)[:400])
        r = c.post("/api/queue/next", b"{}", None, headers=JSON)
        t.ok(r.status == 200 and r.json().get("now") is None, "no library: next is harmless")
        r = c.get("/api/tracks/1/audio")
        t.ok(r.status == 404, "no library: no audio")


def main():
    tmp = tempfile.mkdtemp(prefix="moodsync-lib-")
    root = os.path.join(tmp, "music")
    os.makedirs(root)
    db = os.path.join(tmp, "db", "moodsync.db")
    try:
        check_no_library()
        files = make_library(root)
        check_cli(db, root)
        with L.Server(db=db, music=[root], model=None) as srv:
            c = srv.client()
            j = wait_scan(c)
            want = 5 if os.geteuid() == 0 else 4  # root reads the locked folder
            t.ok(j.get("tracks") == want and j.get("skipped") == 2 and j.get("folders") == [root]
                 and j.get("scanning") is False and "eta_s" in j and "done" in j and
                 "total" in j, "GET /api/library: tracks, skipped, folders", json.dumps(j))
            now = check_queue(c, files, db)
            if now:
                check_audio(c, files, now)
                check_feedback(c, now)
            check_goal(c)
            check_rescan(c, files)
            t.ok(srv.alive() and srv.stop() == 0, "the server stops cleanly", srv.log_text()[-2000:])
    except Exception as e:  # report, never hang
        t.ok(False, "test ran without exceptions", repr(e))
    finally:
        os.chmod(os.path.join(root, "locked"), stat.S_IRWXU)
        shutil.rmtree(tmp, ignore_errors=True)
    return t.exit_code()


if __name__ == "__main__":
    sys.exit(main())
