#!/bin/sh
# figures.sh - the model card's accuracy table for one model: PublicTest
# accuracy on the FER labels and on the FER+ majority labels, disgust and
# fear recall (FER labels), macro recall, the faces whose two label sets
# agree that it gets right and the faces it reads as neither label, without
# and with flip TTA and with the whole-split calibration (eval --calib 1).
#   sh models/figures.sh [MODEL]      (default models/emotion.msnn)
# Needs a release build and MOODSYNC_DATA (or ../shared/data).
set -eu
cd "$(dirname "$0")/.."
model=${1:-models/emotion.msnn}
bin=${MOODSYNC_BIN:-build/release/moodsync}
data=${MOODSYNC_DATA:-../shared/data}
fer="$data/fer2013/publictest.bin"
for opts in "" "--tta" "--calib 1" "--tta --calib 1"; do
	# shellcheck disable=SC2086
	"$bin" eval --model "$model" --fer "$fer" --json $opts |
		python3 -c '
import json, sys
d = json.load(sys.stdin)
r = {c["name"]: c["recall"] for c in d["classes"]}
p = d.get("ferplus", {})
print("%-16s FER %.2f %%  FER+ %.2f %%  disgust %.1f %%  fear %.1f %%  macro recall %.2f %%"
      "  agreeing faces right %d, neither label %d"
      % (sys.argv[1] or "plain", 100 * d["accuracy"], 100 * p.get("accuracy", 0),
         100 * r["disgust"], 100 * r["fear"], 100 * sum(r.values()) / 7,
         p.get("agree_hits", 0), p.get("neither", 0)))
' "$opts"
done
