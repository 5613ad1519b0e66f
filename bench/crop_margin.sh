#!/bin/sh
# crop_margin.sh [BUILD] - which crop margin around a Haar box suits the
# emotion model (the FACE_MARGIN of src/pipeline/pipeline.c): PublicTest faces
# re-found by the cascade, re-cropped with each margin, classified.
# Env: MODEL (default models/emotion.msnn), N (faces, default all 3,589).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
DATA=${MOODSYNC_DATA:-$(cd .. && pwd)/shared/data}
MODEL=${MODEL:-models/emotion.msnn}
OUT=$BUILD/bench
mkdir -p "$OUT"
make -s MODE="$(basename "$BUILD")" "$BUILD/bench/crop_margin"
# shellcheck disable=SC2086
OPENBLAS_NUM_THREADS=1 "$OUT/crop_margin" \
	/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml \
	"$MODEL" "$DATA/fer2013/publictest.bin" ${N:-}
