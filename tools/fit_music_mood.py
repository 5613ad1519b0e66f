#!/usr/bin/python3
"""fit_music_mood.py - fits and validates the valence/arousal model of
src/audio/mood.c on the development set ($MOODSYNC_DATA/music: 200 clips,
four genres, crowd-sourced valence/arousal proxies).

It runs `moodsync library analyze --json` on every clip (two processes),
fits ridge regressions (standardised features -> arousal, valence), and
reports genre-stratified k-fold cross-validated Spearman correlations per
genre and overall, each feature's own Spearman and the loss when it is
dropped, and the Spearman of the shipped model's output (whatever
mood.c holds now, in-sample).

  tools/fit_music_mood.py                 report only
  tools/fit_music_mood.py --write         also rewrite the table in
                                          src/audio/mood.c and the results
                                          block of docs/music-mood.md
Options: --bin PATH (default build/release/moodsync), --data DIR,
--features FILE (reuse a JSON-lines file of analyze output), --save FILE.
"""
import argparse
import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
from scipy.stats import spearmanr

# (feature, log-transformed). The model sees log(x + 1e-6) where flagged.
TERMS = [
    ("loudness_lufs", 0),
    ("loudness_range_lu", 0),
    ("low_energy", 0),
    ("tempo_bpm", 1),
    ("tempo_confidence", 0),
    ("onset_rate", 1),
    ("onset_strength", 1),
    ("centroid_hz", 1),
    ("rolloff_hz", 1),
    ("flux", 0),
    ("flatness", 1),
    ("bass_ratio", 0),
    ("mode_major", 0),
    ("key_strength", 0),
    ("roughness", 1),
]
LAMBDAS = [2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0]  # ridge grid
FOLDS = 5
REPEATS = 20
OUT_STD = 0.5   # published outputs: dev-set mean 0, standard deviation 0.5
GENRES = ["classical", "electronic", "pop", "rock"]


def analyze(binary, paths):
    """Runs the analyzer over paths in two processes; JSON dicts by path."""
    half = (len(paths) + 1) // 2
    procs = [subprocess.Popen(["nice", "-n", "10", binary, "library",
                               "analyze", "--json"] + chunk,
                              stdout=subprocess.PIPE, text=True)
             for chunk in (paths[:half], paths[half:]) if chunk]
    out = {}
    for p in procs:
        data, _ = p.communicate()
        for line in data.splitlines():
            d = json.loads(line)
            out[d["path"]] = d
        if p.returncode != 0:
            sys.exit("fit: the analyzer failed on some clips")
    return out


def load(args):
    music = os.path.join(args.data, "music") if os.path.isdir(
        os.path.join(args.data, "music")) else args.data
    rows = list(csv.DictReader(open(os.path.join(music, "tracks.csv"))))
    paths = [os.path.join(music, r["file"]) for r in rows]
    if args.features:
        feats = {}
        for line in open(args.features):
            d = json.loads(line)
            feats[d["path"]] = d
    else:
        feats = analyze(args.bin, paths)
    if args.save:
        with open(args.save, "w") as f:
            for p in paths:
                f.write(json.dumps(feats[p]) + "\n")
    raw = np.array([[feats[p]["features"][n] for n, _ in TERMS]
                    for p in paths], dtype=float)
    shipped = np.array([[feats[p]["arousal"], feats[p]["valence"]]
                        for p in paths])
    y = np.array([[float(r["arousal_proxy"]), float(r["valence_proxy"])]
                  for r in rows])
    genre = np.array([r["genre"] for r in rows])
    nann = np.array([int(r["n_annotators"]) for r in rows])
    return transform(raw), y, genre, nann, shipped, [feats[p] for p in paths]


def transform(raw):
    x = raw.copy()
    for j, (_, lg) in enumerate(TERMS):
        if lg:
            x[:, j] = np.log(np.maximum(x[:, j], 0.0) + 1e-6)
    return x


def ridge(x, y, lams):
    """Ridge on standardised x, penalty lams[t] for target column t;
    returns (mean, scale, intercepts, W)."""
    mu, sd = x.mean(0), x.std(0)
    sd[sd == 0] = 1.0
    z = np.clip((x - mu) / sd, -4, 4)
    k = z.shape[1]
    w = np.column_stack([
        np.linalg.solve(z.T @ z + lams[t] * np.eye(k),
                        z.T @ (y[:, t] - y[:, t].mean()))
        for t in range(y.shape[1])])
    return mu, sd, y.mean(0), w


def choose_lambdas(x, y, genre):
    """Per target, the grid penalty with the best inner-CV Spearman."""
    f = folds(genre, 12345)
    best = []
    for t in range(y.shape[1]):
        scores = []
        for lam in LAMBDAS:
            pred = np.zeros(len(y))
            for k in range(FOLDS):
                tr, te = f != k, f == k
                m = ridge(x[tr], y[tr][:, [t]], [lam])
                pred[te] = predict(m, x[te])[:, 0]
            scores.append(rho(pred, y[:, t]))
        best.append(LAMBDAS[int(np.argmax(scores))])
    return best


def fit(x, y, genre):
    """The model: penalties chosen by CV on (x, y) alone, then ridge."""
    lams = choose_lambdas(x, y, genre)
    return ridge(x, y, lams) + (lams,)


def predict(model, x):
    mu, sd, b, w = model[:4]
    return b + np.clip((x - mu) / sd, -4, 4) @ w


def folds(genre, seed):
    rng = np.random.RandomState(seed)
    f = np.zeros(len(genre), dtype=int)
    for g in GENRES:
        idx = np.where(genre == g)[0]
        rng.shuffle(idx)
        f[idx] = np.arange(len(idx)) % FOLDS
    return f


def cv_predictions(x, y, genre, seed):
    pred = np.zeros_like(y)
    f = folds(genre, seed)
    for k in range(FOLDS):
        tr, te = f != k, f == k
        pred[te] = predict(fit(x[tr], y[tr], genre[tr]), x[te])
    return pred


def rho(a, b):
    return spearmanr(a, b)[0]


def cv_report(x, y, genre, nann, repeats=REPEATS):
    """Mean over repeats of the out-of-fold Spearman: overall, per genre,
    well-annotated (>= 30 players); for arousal (0) and valence (1)."""
    keys = ["all"] + GENRES + ["n>=30"]
    acc = {k: [[], []] for k in keys}
    for s in range(repeats):
        p = cv_predictions(x, y, genre, s)
        for t in range(2):
            acc["all"][t].append(rho(p[:, t], y[:, t]))
            for g in GENRES:
                m = genre == g
                acc[g][t].append(rho(p[m, t], y[m, t]))
            m = nann >= 30
            acc["n>=30"][t].append(rho(p[m, t], y[m, t]))
    return {k: [(np.mean(v[t]), np.std(v[t])) for t in range(2)]
            for k, v in acc.items()}


def md_tables(x, y, genre, nann, shipped):
    out = []
    cv = cv_report(x, y, genre, nann)
    out.append("Cross-validated Spearman rho of the model's output with the "
               "proxies (%d-fold, genre-stratified, mean +- sd over %d "
               "shuffles; the ridge penalty is chosen inside each training "
               "fold by a further %d-fold CV, so the scores are nested):\n"
               % (FOLDS, REPEATS, FOLDS))
    out.append("| subset | n | arousal rho | valence rho |")
    out.append("|---|---:|---:|---:|")
    for k, v in cv.items():
        n = (len(y) if k == "all" else int((nann >= 30).sum())
             if k == "n>=30" else int((genre == k).sum()))
        out.append("| %s | %d | %.3f +- %.3f | %.3f +- %.3f |"
                   % (k, n, v[0][0], v[0][1], v[1][0], v[1][1]))
    full = fit(x, y, genre)
    ins = predict(full, x)
    out.append("\nShipped table: fitted on all 200 clips, ridge penalty %g "
               "(arousal) and %g (valence) chosen by CV." % tuple(full[4]))
    out.append("In-sample (all 200, the fitted table): arousal %.3f, "
               "valence %.3f. The analyzer's own output with the table "
               "now in mood.c: arousal %.3f, valence %.3f.\n"
               % (rho(ins[:, 0], y[:, 0]), rho(ins[:, 1], y[:, 1]),
                  rho(shipped[:, 0], y[:, 0]), rho(shipped[:, 1], y[:, 1])))
    out.append("Each feature: its own Spearman with the proxy (pooled, and "
               "the mean of the four within-genre values), and the change "
               "in cross-validated pooled rho when it is left out (negative:"
               " the model needs it):\n")
    out.append("| feature | A rho | A within | A drop-one | V rho | V within "
               "| V drop-one |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    base = cv["all"]
    for j, (name, lg) in enumerate(TERMS):
        keep = [i for i in range(len(TERMS)) if i != j]
        d = cv_report(x[:, keep], y, genre, nann, repeats=5)["all"]
        cells = []
        for t in range(2):
            within = np.mean([rho(x[genre == g, j], y[genre == g, t])
                              for g in GENRES])
            cells += [rho(x[:, j], y[:, t]), within, d[t][0] - base[t][0]]
        out.append("| %s%s | %+.2f | %+.2f | %+.3f | %+.2f | %+.2f | %+.3f |"
                   % ((name, " (log)" if lg else "") + tuple(cells)))
    return "\n".join(out), full, ins


KEY_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
KEY_RE = re.compile(r"\bin ([A-G])(?:[ -]?(flat|sharp))?[ -]+(major|minor)\b", re.I)


def key_check(docs):
    """Key and mode against the clips whose titles name them ("Sonata in
    G major"); returns a markdown paragraph and table."""
    rows, exact, mode, semi, fifth = [], 0, 0, 0, 0
    for d in docs:
        m = KEY_RE.search(d["tags"]["title"])
        if not m:
            continue
        k = "C D EF G A B".index(m.group(1).upper())
        k = (k + {"flat": -1, "sharp": 1}.get((m.group(2) or "").lower(), 0)) % 12
        maj = m.group(3).lower() == "major"
        f = d["features"]
        est, emaj = f["key"], f["mode_major"] >= 0.5
        exact += est == k and emaj == maj
        mode += emaj == maj
        semi += est == (k - 1) % 12 and emaj == maj
        fifth += est in ((k + 7) % 12, (k + 5) % 12) and emaj == maj
        rows.append("| %s | %s %s | %s %s (%.2f) |" % (
            d["tags"]["title"][:60].replace("|", "/"), KEY_NAMES[k],
            "major" if maj else "minor", KEY_NAMES[est],
            "major" if emaj else "minor", f["mode_major"]))
    head = ("Key check: %d clips name their key in the title. Key and mode "
            "exact: %d; mode right: %d; a semitone low with the right mode: "
            "%d (baroque recordings are often tuned to A = 415 Hz, a "
            "semitone below 440); a fifth away: %d.\n\n"
            "| title | named | measured (mode_major) |\n|---|---|---|"
            % (len(rows), exact, mode, semi, fifth))
    return head + "\n" + "\n".join(rows)


def c_table(model, ins):
    """The C table, outputs rescaled to dev-set mean 0, sd OUT_STD."""
    mu, sd, b, w = model[:4]
    scale = OUT_STD / ins.std(0)
    wb = w * scale
    bb = (b - ins.mean(0)) * scale
    lines = ["static const double b_arousal = %.6f, b_valence = %.6f;"
             % (bb[0], bb[1]),
             "static const struct term terms[] = {",
             "\t/* feature, log, mean, scale, w_arousal, w_valence */"]
    for j, (name, lg) in enumerate(TERMS):
        lines.append("\t{F(%s), %d, %.6g, %.6g, %.6f, %.6f},"
                     % (name, lg, mu[j], sd[j], wb[j, 0], wb[j, 1]))
    lines.append("};")
    return "\n".join(lines)


def replace_block(path, begin, end, body):
    s = open(path).read()
    pat = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pat.search(s):
        sys.exit("fit: no %s ... %s block in %s" % (begin, end, path))
    s = pat.sub(lambda _: begin + "\n" + body + "\n" + end, s)
    open(path, "w").write(s)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="build/release/moodsync")
    ap.add_argument("--data", default=os.environ.get(
        "MOODSYNC_DATA", "../shared/data"))
    ap.add_argument("--features")
    ap.add_argument("--save")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    x, y, genre, nann, shipped, docs = load(args)
    report, model, ins = md_tables(x, y, genre, nann, shipped)
    report += "\n\n" + key_check(docs)
    table = c_table(model, ins)
    print(report)
    print("\nC table (src/audio/mood.c):\n" + table)
    if args.write:
        replace_block("src/audio/mood.c",
                      "/* BEGIN fitted table (tools/fit_music_mood.py) */",
                      "/* END fitted table */", table)
        replace_block("docs/music-mood.md", "<!-- BEGIN fit -->",
                      "<!-- END fit -->", report)


if __name__ == "__main__":
    main()
