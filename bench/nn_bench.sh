#!/bin/sh
# nn_bench.sh [BUILD] - the emotion CNN's speed goals: ours vs PyTorch
# (Debian python3-torch, CPU) on the same nets: batch-1 latency of MODEL
# (PyTorch runs the layer lists read from the files), training images/s
# of ARCH at 2 threads, MODEL's per-face latency on 1 core with flip and
# ten-crop TTA.
# Env: MODEL (default models/emotion.msnn; a net, or an .msens ensemble
# whose softmax outputs both sides average), ARCH (training preset,
# default large), NN_BENCH_CPU (the CPU latency is pinned to; default the
# last one allowed), NN_BENCH_ROUNDS (3), NN_BENCH_TRAIN=0 (latency only),
# NN_BENCH_LATENCY=0 (training only).
# The kernel level of ours is MOODSYNC_NN_KERNELS (portable, fp32, int8, amx;
# by default the best this CPU has). The bench program is built by the
# Makefile (make bench-build).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
MODEL=${MODEL:-models/emotion.msens}
ARCH=${ARCH:-large}
OUT=$BUILD/bench
mkdir -p "$OUT"
make -s MODE="$(basename "$BUILD")" "$BUILD/bench/nn_bench"
if [ ! -f "$MODEL" ]; then
	echo "nn_bench: $MODEL missing; timing an untrained $ARCH model" >&2
	MODEL=$OUT/nn_bench_$ARCH.msnn
	"$OUT/nn_bench" train "$ARCH" 2 128 64 "$MODEL" >/dev/null
fi
exec /usr/bin/python3 bench/nn_bench.py "$OUT/nn_bench" "$MODEL" "$ARCH"
