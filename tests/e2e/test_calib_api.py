#!/usr/bin/env python3
"""test_calib_api.py - per-person calibration against the real server:
POST /api/mood/calibrate {"frames": N} takes the next N faces as the
resting face (frames then leave the mood alone), after which each face is
read relative to it (probs = raw * (rest / baseline)^strength, normalised,
with raw_probs beside them; in a group photo only the listener's, the
largest, face) and the mood follows the calibrated reading; a
timed step that sees no face fails; DELETE forgets it; bad bodies get a
4xx JSON error; other sessions are untouched; --calib-strength 0 and the
automatic baseline (--calib-auto); no model: 503. Prints TAP."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_server as L  # noqa: E402

t = L.Tap()
MOODS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
JSON = "application/json"
# srv_calib_rest (src/server/calib.c), as scripts/calib_rest.py derives it
REST = None


def rest_target():
    out = subprocess.run([sys.executable, os.path.join(L.REPO, "scripts", "calib_rest.py")],
                         capture_output=True, text=True, check=True).stdout.split("\n")[1:]
    return {p.split()[0]: float(p.split()[1]) for p in out if p.strip()}


def calibrate(c, body):
    return c.post("/api/mood/calibrate", json.dumps(body).encode(), JSON,
                  headers={"X-MoodSync": "1"})


def delete(c):
    return c.request("DELETE", "/api/mood/calibrate", body=b"{}",
                     headers={"Content-Type": JSON, "X-MoodSync": "1"})


def one_face_photos(srv):
    """One-face photos with the server's raw reading, most "sad" first:
    the resting faces the issue's listeners complain about."""
    probe, out = srv.client(), []
    for rel, boxes in sorted(L.load_annotations().items()):
        if len(boxes) != 1 or not rel.endswith(".jpg"):
            continue
        r = probe.post("/api/frame?reset=1", L.read_photo(rel), "image/jpeg").json()
        if len(r["faces"]) == 1 and r["faces"][0]["probs"]:
            out.append((r["faces"][0]["probs"]["sad"], rel))
    out.sort(reverse=True)
    return [rel for _, rel in out]


def group_photo():
    """The shared photo with the most annotated faces."""
    rel = max(sorted(L.load_annotations().items()), key=lambda kv: len(kv[1]))[0]
    return L.read_photo(rel)


def expected(raw, base, strength):
    r = {k: raw[k] * (max(REST[k], 1e-3) / max(base[k], 1e-3)) ** strength for k in MOODS}
    s = sum(r.values())
    return {k: r[k] / s for k in MOODS}


def step_tests(srv, rels):
    c = srv.client()
    m = c.get("/api/mood").json()["calibration"]
    t.ok(m["state"] == "off" and m["calibrated"] is False and m["probs"] is None and
         m["baseline"] == "none", "a new session is not calibrated", m)
    rest, other = L.read_photo(rels[0]), L.read_photo(rels[-1])
    r = calibrate(c, {"frames": 4})
    cal = r.json().get("calibration", {})
    t.ok(r.status == 200 and cal.get("state") == "calibrating" and cal.get("progress") == 0,
         "POST /api/mood/calibrate {frames: 4}: calibrating (%d)" % r.status, r.body[:300])
    seen = []
    for _ in range(4):
        f = c.post_image(None, rest).json()
        seen.append((f["calibrated"], f["mood"]["mood"], f["mood"]["calibration"]["state"],
                     f["mood"]["calibration"]["frames"]))
    t.ok([s[0] for s in seen] == [False] * 4 and [s[1] for s in seen] == [None] * 4,
         "resting-face frames are samples: not calibrated, the mood left alone", seen)
    t.ok([s[2] for s in seen] == ["calibrating"] * 3 + ["on"] and
         [s[3] for s in seen] == [1, 2, 3, 4], "the step counts its frames and ends on", seen)
    f = c.post_image(None, rest).json()
    face, cal = f["faces"][0], f["mood"]["calibration"]
    t.ok(f["calibrated"] is True and "raw_probs" in face and cal["calibrated"] is True and
         cal["baseline"] == "explicit" and cal["frames"] == 4,
         "afterwards a face is read relative to the baseline, raw_probs beside", cal)
    want = expected(face["raw_probs"], cal["probs"], cal["strength"])
    gap = max(abs(face["probs"][k] - want[k]) for k in MOODS)
    t.ok(gap < 0.01, "probs = raw * (rest / baseline)^%.2f, normalised (max gap %.4f)"
         % (cal["strength"], gap), (face, cal))
    t.ok(face["emotion"] == max(face["probs"], key=face["probs"].get),
         "the face's emotion is the calibrated top (%s, raw %s)"
         % (face["emotion"], max(face["raw_probs"], key=face["raw_probs"].get)))
    t.ok(face["probs"]["neutral"] > face["raw_probs"]["neutral"],
         "the resting face reads more neutral than raw (%.3f -> %.3f)"
         % (face["raw_probs"]["neutral"], face["probs"]["neutral"]))
    gap = max(abs(f["mood"]["probs"][k] - face["probs"][k]) for k in MOODS)
    t.ok(f["mood"]["mood"] is not None and gap < 2e-3,
         "the mood starts anew from the calibrated reading (gap %.4f)" % gap)
    g = c.post_image(None, other).json()
    t.ok(g["calibrated"] and g["faces"] and "raw_probs" in g["faces"][0],
         "another face is read relative to the same baseline")
    t.ok(srv.client().post_image(None, rest).json()["calibrated"] is False,
         "another browser's session is not calibrated")
    # a photo of several people: only the listener's (largest) face is read
    # relative to their baseline; the others as a fresh session reads them
    group = group_photo()
    mine = c.post("/api/frame?reset=1", group, "image/jpeg").json()
    theirs = srv.client().post("/api/frame?reset=1", group, "image/jpeg").json()
    boxes = [f["box"] for f in mine["faces"]]
    same = len(mine["faces"]) >= 2 and boxes == [f["box"] for f in theirs["faces"]]
    t.ok(same and mine["calibrated"] and "raw_probs" in mine["faces"][0] and
         mine["faces"][0]["raw_probs"] == theirs["faces"][0]["probs"] and
         mine["faces"][0]["probs"] != theirs["faces"][0]["probs"],
         "group photo: the listener's face is read relative to the baseline",
         (mine["faces"][:1], theirs["faces"][:1]))
    t.ok(same and all("raw_probs" not in f for f in mine["faces"][1:]) and
         [f["probs"] for f in mine["faces"][1:]] == [f["probs"] for f in theirs["faces"][1:]],
         "group photo: the other faces are read as they are (%d faces)" % len(boxes))
    # a second step that sees no face fails and keeps the first baseline
    calibrate(c, {"seconds": 0.3})
    time.sleep(0.5)
    m = c.get("/api/mood").json()["calibration"]
    t.ok(m["state"] == "on" and m["frames"] == 4,
         "a step that saw no face keeps the baseline before it", m)
    r = delete(c)
    m = r.json()["calibration"]
    t.ok(r.status == 200 and m["state"] == "off" and not m["calibrated"],
         "DELETE /api/mood/calibrate forgets it", m)
    f = c.post_image(None, rest).json()
    t.ok(f["calibrated"] is False and "raw_probs" not in f["faces"][0],
         "after DELETE faces are read as they are")
    n = srv.client()
    calibrate(n, {"seconds": 0.3})
    time.sleep(0.5)
    m = n.get("/api/mood").json()["calibration"]
    t.ok(m["state"] == "failed" and m["calibrated"] is False,
         "a timed step that saw no face says failed", m)
    r = n.post("/api/mood/calibrate", b"", JSON)
    m = r.json()["calibration"]
    t.ok(r.status == 200 and m["state"] == "calibrating" and 2.5 < m["seconds_left"] <= 3.0,
         "an empty body starts the default three seconds (%.2f s left)" % m["seconds_left"])


def bad_input_tests(srv):
    c = srv.client()
    for body, ctype, status, name in [
            (b'{"seconds": 0}', JSON, 400, "zero seconds"),
            (b'{"seconds": -1}', JSON, 400, "negative seconds"),
            (b'{"seconds": 31}', JSON, 400, "over 30 seconds"),
            (b'{"seconds": "3"}', JSON, 400, "seconds as a string"),
            (b'{"frames": 0}', JSON, 400, "zero frames"),
            (b'{"frames": 301}', JSON, 400, "too many frames"),
            (b'{"frames": 2.5}', JSON, 400, "a fraction of a frame"),
            (b'{"frames": 3, "seconds": 1}', JSON, 400, "both"),
            (b'{"second": 3}', JSON, 400, "an unknown key"),
            (b'[3]', JSON, 400, "an array"),
            (b'{"seconds": 1e999}', JSON, 400, "an infinite number"),
            (b'not json', JSON, 400, "not JSON"),
            (b'{"seconds": 3}', "text/plain", 415, "wrong Content-Type"),
            (b'{"seconds": 3, "x": "' + b"y" * 5000 + b'"}', JSON, 413, "a huge body")]:
        r = c.post("/api/mood/calibrate", body, ctype)
        t.ok(r.status == status and r.error() is not None,
             "calibrate with %s: %d with a JSON error (%d)" % (name, status, r.status), r.body[:200])
    m = c.get("/api/mood").json()["calibration"]
    t.ok(m["state"] == "off", "refused requests start nothing (%s)" % m["state"])


def setting_tests(rels):
    rest = L.read_photo(rels[0])
    with L.Server(args=["--calib-strength", "0"]) as srv:
        c = srv.client()
        calibrate(c, {"frames": 3})
        for _ in range(3):
            c.post_image(None, rest)
        f = c.post_image(None, rest).json()
        face = f["faces"][0]
        gap = max(abs(face["probs"][k] - face["raw_probs"][k]) for k in MOODS)
        t.ok(f["mood"]["calibration"]["strength"] == 0 and gap < 2e-4,
             "--calib-strength 0: calibrated faces read as raw (gap %.5f)" % gap)
    # 55 frames back to back: no rate limit, which a quick machine would hit
    with L.Server(args=["--calib-auto", "100", "--rate", "0"]) as srv:
        c = srv.client()
        states = []
        for i in range(55):
            r = c.post_image(None, L.read_photo(rels[i % len(rels)]))
            if r.status != 200:
                t.diag("frame %d: HTTP %d %s" % (i, r.status, r.body[:120]))
            f = r.json() if r.status == 200 else {"mood": {"calibration": {}}}
            states.append(f.get("calibrated", False))
        cal = f["mood"]["calibration"]
        t.ok(not any(states[:45]) and states[-1] and cal["baseline"] == "auto" and cal["auto"],
             "--calib-auto: read relative to the automatic baseline once warm (frame %d)"
             % (states.index(True) + 1 if True in states else -1), cal)
    for bad in [["--calib-strength", "2"], ["--calib-auto", "-1"], ["--calib-strength", "x"]]:
        p = subprocess.run([L.moodsync_bin(), "serve", "--port", "0", "--db", ":memory:",
                            "--model", "none"] + bad, capture_output=True, timeout=30)
        err = p.stderr.decode(errors="replace").strip().splitlines()
        t.ok(p.returncode != 0 and len(err) == 1, "serve %s refused in one line" % " ".join(bad),
             err)


def main():
    global REST
    REST = rest_target()
    with L.Server() as srv:
        if srv.model is None:
            t.diag("no emotion model: the calibration steps are skipped")
        else:
            rels = one_face_photos(srv)
            if t.ok(len(rels) >= 2, "one-face photos the server reads (%d)" % len(rels)):
                step_tests(srv, rels)
        bad_input_tests(srv)
        t.ok(srv.alive(), "server alive after the calibration tests")
    if L.default_model() is not None and len(rels) >= 2:
        setting_tests(rels)
    with L.Server(model=None) as srv:
        r = calibrate(srv.client(), {"seconds": 3})
        t.ok(r.status == 503 and (r.error() or ("", ""))[1] == "no_model",
             "without an emotion model: 503 no_model (%d)" % r.status, r.body[:200])
    return t.exit_code()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:
        import traceback
        print("not ok - test_calib_api.py crashed: %r" % e)
        traceback.print_exc(file=sys.stdout)
        sys.exit(1)
