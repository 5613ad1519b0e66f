#!/bin/sh
# run.sh - every benchmark, one section after another (`make bench` runs
# it with the build directory). Each section is a script in bench/ that
# prints its own figures; add yours as one more line below.
# Usage: sh bench/run.sh [BUILD_DIR]   (from the repository root)
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
: "${MOODSYNC_DATA:=$(cd .. && pwd)/shared/data}"
export MOODSYNC_DATA
sh scripts/deps.sh bench

echo "### vision: Haar face detector vs OpenCV"
sh bench/vision.sh "$BUILD"

# Further sections go here, e.g.:
# echo "### nn: ..."; sh bench/nn_something.sh "$BUILD"
echo "### nn: emotion CNN vs PyTorch (same architecture)"; sh bench/nn_bench.sh "$BUILD"
echo "### server: frame time, fast-path recall, throughput and RSS under load"; sh bench/server_bench.sh "$BUILD"
echo "### crop margin: FER-like face crops from Haar boxes"; sh bench/crop_margin.sh "$BUILD"
echo "### server: a normal client among 300 slow-header connections held 60 s"; MOODSYNC_BIN="$BUILD/moodsync" python3 bench/slow_clients.py --conns 300 --hold 60
echo "### audio: analysis speed vs SoX stats, dev set and demo library"; sh bench/audio_bench.sh "$BUILD"
echo "### audio: valence/arousal vs the dev set's proxies (cross-validated Spearman)"; sh bench/music_mood.sh "$BUILD"
echo "### library: demo library scan and rescan, 100 concurrent Range readers, RSS"; sh bench/stream_bench.sh "$BUILD"
echo "### text: mood from words vs TF-IDF + logistic regression"; sh bench/text_bench.sh "$BUILD"
echo "### calibration: per-person baseline vs raw readings (simulated persons)"; sh bench/calib_sim.sh "$BUILD"
