#!/usr/bin/env python3
"""test_ensemble.py - end-to-end checks of ensemble models (.msens
manifests) and test-time augmentation through every path that loads a
model: `detect` (an ensemble's probabilities are the weighted mean of its
members'; each --tta-mode answers; bad manifests and modes are one-line
errors), `eval --json` (members, TTA mode, prior adjustment) and `serve
--model ENSEMBLE --tta-mode crops` answering POST /api/frame like its
member does."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_server as L  # noqa: E402

REPO = L.REPO
EMOTIONS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def run(args, timeout=300):
    p = subprocess.run([L.moodsync_bin()] + args, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def detect_probs(model, photo, tta="none"):
    """[(box, probs)] of `detect --json` on one photo."""
    rc, out, err = run(["detect", "--json", "--model", model, "--tta-mode", tta, photo])
    if rc != 0:
        return None, err
    faces = json.loads(out)["faces"]
    return [((f["x"], f["y"], f["w"], f["h"]), f["probs"]) for f in faces], err


def members(a_model):
    """Two different nets when the repository has them (the shipped
    ensemble's two members), else the one model twice (a net: the tiny
    test model when the repository has no shipped one)."""
    a = os.path.join(REPO, "models", "emotion.msnn")
    b = os.path.join(REPO, "models", "emotion_v3.msnn")
    if os.path.isfile(a) and os.path.isfile(b):
        return a, b
    return a_model, a_model


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    t = L.Tap()
    model = L.classifier_model()
    a, b = members(model)
    ann = L.load_annotations()
    photo = next(os.path.join(L.data_dir(), "faces", rel) for rel in sorted(ann)
                 if len(ann[rel]) == 1 and rel.endswith(".jpg"))
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(a, os.path.join(tmp, "a.msnn"))
        ens = write(os.path.join(tmp, "pair.msens"),
                    "msens 1\n# relative and absolute members\n"
                    "member a.msnn 3\nmember %s 1\n" % b)
        twice = write(os.path.join(tmp, "twice.msens"),
                      "msens 1\nmember a.msnn\nmember a.msnn\n")

        fa, _ = detect_probs(a, photo)
        fb, _ = detect_probs(b, photo)
        fe, err = detect_probs(ens, photo)
        ok = bool(fa) and fe is not None and len(fe) == len(fa) == len(fb)
        for (box_a, pa), (box_b, pb), (box_e, pe) in zip(fa or [], fb or [], fe or []):
            ok &= box_a == box_b == box_e
            ok &= all(abs(pe[k] - (0.75 * pa[k] + 0.25 * pb[k])) < 1e-3 for k in EMOTIONS)
        t.ok(ok, "detect --model ENSEMBLE: probabilities are the weighted mean of the "
             "members' (3:1)", err)

        for tta in ["flip", "crops"]:
            f, err = detect_probs(ens, photo, tta)
            t.ok(bool(f) and all(abs(sum(p.values()) - 1) < 1e-3 for _, p in f),
                 "detect --tta-mode %s with an ensemble: probabilities sum to 1" % tta, err)
        fc, _ = detect_probs(a, photo, "crops")
        t.ok(bool(fc) and bool(fa) and fc[0][1] != fa[0][1],
             "ten-crop TTA changes the probabilities of a face")

        rc, _, err = run(["detect", "--tta-mode", "five", photo])
        t.ok(rc == 2 and "--tta-mode" in err and "crops" in err and err.count("\n") == 1,
             "detect --tta-mode five: exit 2, one line naming the modes", err)
        bad = {
            "bad version": "msens 9\nmember a.msnn\n",
            "no members": "msens 1\n# nothing\n",
            "missing member": "msens 1\nmember nowhere.msnn\n",
            "bad weight": "msens 1\nmember a.msnn -2\n",
            "nested manifest": "msens 1\nmember twice.msens\n",
        }
        for what, text in bad.items():
            path = write(os.path.join(tmp, "bad.msens"), text)
            rc, out, err = run(["detect", "--model", path, photo])
            t.ok(rc == 1 and out == "" and err.count("\n") == 1 and "bad.msens" in err,
                 "detect with a manifest with %s: one-line error, exit 1" % what, err)
        rc, _, err = run(["serve", "--port", "0", "--db", ":memory:", "--music", "none",
                          "--model", os.path.join(tmp, "bad.msens")], timeout=30)
        t.ok(rc != 0 and "bad.msens" in err, "serve refuses a bad manifest", err)

        small = os.path.join(tmp, "small.bin")
        with open(os.path.join(L.data_dir(), "fer2013", "publictest.bin"), "rb") as f:
            data = f.read()
        with open(small, "wb") as f:
            f.write(b"".join(data[i:i + 2305] for i in range(0, len(data), 40 * 2305)))
        rc, out, err = run(["eval", "--fer", small, "--json", "--model", ens,
                            "--tta-mode", "crops", "--prior-tau", "0.5"])
        res = json.loads(out) if rc == 0 else {}
        t.ok(res.get("members") == 2 and res.get("tta_mode") == "crops" and res.get("tta")
             and res.get("prior_tau") == 0.5 and 0 < res.get("accuracy", 0) <= 1,
             "eval --json reports the ensemble's members, TTA mode and prior strength", err)
        rc, _, err = run(["eval", "--fer", small, "--prior-tau", "0.5", "--prior",
                          os.path.join(tmp, "pair.msens")])
        t.ok(rc == 1 and err.startswith("moodsync eval: --prior") and err.count("\n") == 1,
             "eval --prior with a file that is not a split: one-line error", err)

        # A server whose model is the net twice answers as the net alone.
        frame = L.read_photo(os.path.relpath(photo, os.path.join(L.data_dir(), "faces")))
        answers = []
        for m, tta in ((a, "crops"), (twice, "crops"), (a, "none")):
            with L.Server(model=m, args=["--tta-mode", tta]) as srv:
                h = srv.client().get("/healthz").json()
                t.ok(h.get("tta") == tta and h.get("model_nets") == (2 if m == twice else 1)
                     and h.get("kernels") in ("portable", "fp32", "int8", "amx"),
                     "/healthz reports %s nets and TTA %s" % (h.get("model_nets"), tta), h)
                r = srv.client().post_image(None, frame)
                j = r.json() if r.status == 200 else {}
                answers.append(j.get("faces"))
                t.ok(r.status == 200 and j.get("model") and j.get("faces") and
                     all(f["emotion"] in EMOTIONS for f in j["faces"]),
                     "serve --model %s --tta-mode %s answers /api/frame with emotions"
                     % (os.path.basename(m), tta), r.body[:200])
        with L.Server(model=a, env={"MOODSYNC_NN_KERNELS": "portable"}) as srv:
            h = srv.client().get("/healthz").json()
            r = srv.client().post_image(None, frame)
            j = r.json() if r.status == 200 else {}
            t.ok(h.get("kernels") == "portable" and r.status == 200 and j.get("faces"),
                 "MOODSYNC_NN_KERNELS=portable: /healthz says so and frames still classify", h)
        same = answers[0] and answers[1] and len(answers[0]) == len(answers[1]) and all(
            abs(f["probs"][k] - g["probs"][k]) < 1e-3
            for f, g in zip(answers[0], answers[1]) for k in EMOTIONS)
        t.ok(bool(same), "an ensemble of a net with itself answers as the net")
        t.ok(bool(answers[2]) and answers[2] != answers[0],
             "serve --tta-mode selects the classifier's test-time augmentation")
    return t.exit_code()


if __name__ == "__main__":
    sys.exit(main())
