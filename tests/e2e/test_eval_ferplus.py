#!/usr/bin/env python3
"""test_eval_ferplus.py - end-to-end checks of the FER+ side of `moodsync
eval` and `moodsync train`: on every 10th PublicTest face with its FER+
vote line (a split the test writes), eval's FER+ figures must count what the
votes say (faces with a target, unique majorities per class) and agree with
themselves (the faces whose two label sets agree, those predicted as
neither); a FER+ file that contradicts its split, bad --calib and bad
train options are refused in one line with a non-zero exit; --calib 0 gives
the plain figures."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_server import Tap, data_dir, default_model, moodsync_bin  # noqa: E402

REC = 2305
# FER+ vote columns in file order -> FER class (None: contempt, unknown, NF)
COLS = [6, 3, 5, 4, 0, 1, 2, None, None, None]


def run(args, timeout=300):
    p = subprocess.run([moodsync_bin()] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def expected(lines):
    """Faces with a target, per-class unique-majority counts and faces whose
    FER label is their FER+ majority, from votes."""
    with_target, support, agree = 0, [0] * 7, 0
    for ln in lines:
        fields = ln.split()
        v = [int(x) for x in fields[3:]]
        best = max(v)
        if sum(v[c] for c in range(7)) > 0 and v[9] < best:
            with_target += 1
            if v.count(best) == 1 and COLS[v.index(best)] is not None:
                support[COLS[v.index(best)]] += 1
                agree += COLS[v.index(best)] == int(fields[1])
    return with_target, support, agree


def main():
    t = Tap()
    fer = os.path.join(data_dir(), "fer2013")
    with open(os.path.join(fer, "publictest.bin"), "rb") as f:
        data = f.read()
    with open(os.path.join(fer, "publictest.ferplus.txt")) as f:
        header, *votes = f.read().splitlines()
    idx = list(range(0, len(data) // REC, 10))
    lines = []
    for j, i in enumerate(idx):
        fields = votes[i].split()
        lines.append(" ".join([str(j)] + fields[1:]))
    with_target, support, agree = expected(lines)
    model = default_model()
    margs = ["--model", model] if model else []
    with tempfile.TemporaryDirectory() as tmp:
        small = os.path.join(tmp, "small.bin")
        with open(small, "wb") as f:
            f.write(b"".join(data[i * REC:(i + 1) * REC] for i in idx))
        with open(os.path.join(tmp, "small.ferplus.txt"), "w") as f:
            f.write(header + "\n" + "\n".join(lines) + "\n")
        rc, out, err = run(["eval", "--fer", small, "--json"] + margs)
        res = json.loads(out) if rc == 0 else {}
        plus = res.get("ferplus", {})
        t.ok(plus.get("faces") == with_target,
             "eval counts the faces with a FER+ target (%s, votes say %d)"
             % (plus.get("faces"), with_target), err)
        classes = plus.get("classes", [])
        t.ok([c.get("support") for c in classes] == support,
             "eval counts the unique FER+ majorities of each class", str(classes))
        hits = sum(c["recall"] * c["support"] for c in classes)
        t.ok(abs(hits - plus.get("accuracy", -1) * with_target) < 1e-3,
             "FER+ accuracy agrees with its per-class recalls (ties are misses)")
        t.ok(plus.get("agree_faces") == agree,
             "eval counts the faces whose two label sets agree (%s, votes say %d)"
             % (plus.get("agree_faces"), agree))
        fer_hits = sum(c["recall"] * c["support"] for c in res.get("classes", []))
        t.ok(abs(fer_hits + hits - (res.get("faces", 0) + plus.get("agree_hits", -1)
                                    - plus.get("neither", 0))) < 1e-3,
             "FER hits + FER+ hits = faces + agreeing hits - faces predicted as neither")
        t.ok(abs(plus.get("majority_accuracy", -1) * sum(support) - hits) < 1e-3,
             "FER+ accuracy over the unique majorities agrees with the recalls")
        rc, out0, _ = run(["eval", "--fer", small, "--json", "--calib", "0"] + margs)
        t.ok(rc == 0 and json.loads(out0).get("accuracy") == res.get("accuracy"),
             "eval --calib 0 gives the plain figures")
        rc, out1, _ = run(["eval", "--fer", small, "--json", "--calib", "1"] + margs)
        cal = json.loads(out1) if rc == 0 else {}
        t.ok(rc == 0 and cal.get("faces") == res.get("faces"), "eval --calib 1 scores every face")
        svg = os.path.join(tmp, "plus.svg")
        rc, out, err = run(["eval", "--fer", small, "--svg-plus", svg] + margs)
        t.ok(rc == 0 and "FER+ majority labels" in out and os.path.exists(svg)
             and open(svg).read().startswith("<svg"), "eval prints FER+ figures and draws them", err)
        # a vote file whose labels contradict the split
        bad = os.path.join(tmp, "bad.ferplus.txt")
        wrong = lines[:]
        f0 = wrong[0].split()
        f0[1] = str((int(f0[1]) + 1) % 7)
        wrong[0] = " ".join(f0)
        with open(bad, "w") as f:
            f.write(header + "\n" + "\n".join(wrong) + "\n")
        rc, _, err = run(["eval", "--fer", small, "--ferplus", bad] + margs)
        t.ok(rc != 0 and err.count("\n") == 1 and "line 2" in err,
             "eval refuses a FER+ file that contradicts its split in one line", err)
        rc, _, err = run(["eval", "--fer", small, "--calib", "2"] + margs)
        t.ok(rc == 2 and err.count("\n") == 1, "eval refuses --calib 2 in one line", err)
        for opt, val in [("--ferplus-share", "1.5"), ("--erase", "-1"), ("--mixup", "x")]:
            rc, _, err = run(["train", "--out", os.path.join(tmp, "m.msnn"), opt, val])
            t.ok(rc == 2 and err.count("\n") == 1, "train refuses %s %s in one line" % (opt, val), err)
        rc, _, err = run(["train", "--out", os.path.join(tmp, "m.msnn"), "--init", small])
        last = err.strip().splitlines()[-1] if err.strip() else ""
        t.ok(rc != 0 and last.startswith("moodsync train: ") and small in last,
             "train refuses --init with a file that is no model, naming it", err)
    return t.exit_code()


if __name__ == "__main__":
    sys.exit(main())
