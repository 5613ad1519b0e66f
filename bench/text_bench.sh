#!/bin/sh
# text_bench.sh [BUILD] - the text mood model's goals: macro-F1 on the
# GoEmotions dev split against a TF-IDF + logistic-regression peer
# (bench/text_peer.py, Debian python3-sklearn) trained on the same train
# split in this run, our training time (goal <= 10 min) and inference time
# per sentence on one core (goal <= 0.2 ms). Needs `make` (moodsync; the
# bench program is built by the Makefile: make bench-build) and
# $MOODSYNC_DATA.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
: "${MOODSYNC_DATA:=$(cd .. && pwd)/shared/data}"
export MOODSYNC_DATA
GO=$MOODSYNC_DATA/text/goemotions
OUT=$BUILD/bench
mkdir -p "$OUT"
make -s MODE="$(basename "$BUILD")" "$BUILD/bench/text_bench"

echo "training ours (moodsync train-text, defaults) ..."
t0=$(date +%s.%N)
"$BUILD/moodsync" train-text --out "$OUT/text_bench.mstx" --dev none >/dev/null
t1=$(date +%s.%N)
ours_train=$(/usr/bin/python3 -c "print($t1 - $t0)")
"$BUILD/moodsync" eval-text --model "$OUT/text_bench.mstx" --json >"$OUT/text_ours.json"
"$BUILD/moodsync" eval-text --model models/text.mstx --json >"$OUT/text_shipped.json"
echo "training the peer (TF-IDF + logistic regression, two settings) ..."
/usr/bin/python3 bench/text_peer.py "$GO" >"$OUT/text_peer.json"
taskset -c 0 "$OUT/text_bench" models/text.mstx "$GO/dev.tsv" 5 \
	>"$OUT/text_speed.txt" 2>/dev/null

/usr/bin/python3 - "$OUT" "$ours_train" <<'PY'
import json, sys
out, ours_train = sys.argv[1], float(sys.argv[2])
ours = json.load(open(out + "/text_ours.json"))
shipped = json.load(open(out + "/text_shipped.json"))
peers = [json.loads(l) for l in open(out + "/text_peer.json")]
speed = dict(l.split() for l in open(out + "/text_speed.txt"))
best = max(peers, key=lambda p: p["macro_f1"])
print("GoEmotions dev, Ekman level (7 classes), %d texts" % ours["texts"])
print("%-28s %9s %9s %10s" % ("model", "accuracy", "macro-F1", "train s"))
print("%-28s %8.2f%% %9.4f %10.1f" % ("ours (trained in this run)", 100 * ours["accuracy"],
                                      ours["macro_f1"], ours_train))
print("%-28s %8.2f%% %9.4f %10s" % ("ours (models/text.mstx)", 100 * shipped["accuracy"],
                                    shipped["macro_f1"], "-"))
for p in peers:
    print("%-28s %8.2f%% %9.4f %10.1f" % (p["name"], 100 * p["accuracy"], p["macro_f1"],
                                          p["train_s"]))
print("macro-F1 ratio ours / best peer (%s): %.3f (goal >= 1)"
      % (best["name"], ours["macro_f1"] / best["macro_f1"]))
print("training time ratio best peer / ours: %.1fx (ours %.1f s, goal <= 600 s)"
      % (best["train_s"] / ours_train, ours_train))
us = float(speed["us_per_text_best"])
print("inference, one core, txt_predict per dev sentence: %.1f us best of 5 rounds"
      " (mean %s us; goal <= 200 us); peer batched on all cores: %.1f us"
      % (us, speed["us_per_text_mean"], 1000 * best["infer_ms_per_text_batched"]))
PY
