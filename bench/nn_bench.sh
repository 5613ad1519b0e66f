#!/bin/sh
# nn_bench.sh [BUILD] - the emotion CNN's speed goals: ours vs
# PyTorch (Debian python3-torch, CPU) on the same architecture: batch-1
# latency, training images/s at 2 threads, shipped-model latency on 1 core.
# Env: MODEL (default models/emotion.msnn), ARCH (default large, must match
# MODEL). Needs the nn and common objects of BUILD (make).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
MODEL=${MODEL:-models/emotion.msnn}
ARCH=${ARCH:-large}
OUT=$BUILD/bench
mkdir -p "$OUT"
# shellcheck disable=SC2046
cc -std=c11 -O2 -march=native -Iinclude -Isrc -D_GNU_SOURCE -pthread \
	$(pkg-config --cflags openblas) -o "$OUT/nn_bench" bench/nn_bench.c \
	$(ls $BUILD/nn/*.o $BUILD/common/*.o) $(pkg-config --libs openblas) -lm
if [ ! -f "$MODEL" ]; then
	echo "nn_bench: $MODEL missing; timing an untrained $ARCH model" >&2
	MODEL=$OUT/nn_bench_$ARCH.msnn
	"$OUT/nn_bench" train "$ARCH" 2 128 64 "$MODEL" >/dev/null
fi
exec /usr/bin/python3 bench/nn_bench.py "$OUT/nn_bench" "$MODEL" "$ARCH"
