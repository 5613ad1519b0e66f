#!/bin/sh
# calib_sim.sh [BUILD] - per-person calibration against reading faces raw,
# on FER-2013 PublicTest with simulated persons (bench/calib_sim.c says
# how and what it cannot show). Env: MODEL (default the shipped
# models/emotion.msens).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
DATA=${MOODSYNC_DATA:-$(cd .. && pwd)/shared/data}
MODEL=${MODEL:-models/emotion.msens}
make -s MODE="$(basename "$BUILD")" "$BUILD/bench/calib_sim"
OPENBLAS_NUM_THREADS=1 "$BUILD/bench/calib_sim" "$MODEL" \
	"$DATA/fer2013/publictest.bin" "$DATA/faces"
