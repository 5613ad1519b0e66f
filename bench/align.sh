#!/bin/sh
# align.sh [BUILD] - does turning faces upright from their eyes help?
# (opts.align of src/pipeline, docs/alignment.md). Prints: FER-2013
# PublicTest turned by -30..+30 degrees, accuracy with and without
# alignment per angle and the eyes found; then, on the shared photos, the
# eyes found per detected face and the time alignment adds per face (one
# core). Env: MODEL (default models/emotion.msnn, the v1 net the figures
# of docs/alignment.md are of), EYES (eye cascade,
# default haarcascade_eye.xml), N (FER faces, default all 3,589), REPS
# (timing repeats, default 5), SKIP_FER=1 (photos only).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
DATA=${MOODSYNC_DATA:-$(cd .. && pwd)/shared/data}
MODEL=${MODEL:-models/emotion.msnn}
H=/usr/share/opencv4/haarcascades
EYES=${EYES:-$H/haarcascade_eye.xml}
OUT=$BUILD/bench
mkdir -p "$OUT"
make -s MODE="$(basename "$BUILD")" "$BUILD/bench/align"
if [ "${SKIP_FER:-0}" != 1 ]; then
	# shellcheck disable=SC2086
	OPENBLAS_NUM_THREADS=1 "$OUT/align" fer "$H/haarcascade_frontalface_default.xml" \
		"$EYES" "$MODEL" "$DATA/fer2013/publictest.bin" ${N:-}
fi
OPENBLAS_NUM_THREADS=1 taskset -c 0 "$OUT/align" photos \
	"$H/haarcascade_frontalface_default.xml" "$EYES" "$MODEL" "$DATA" "${REPS:-5}"
