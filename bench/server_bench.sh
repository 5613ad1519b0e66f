#!/bin/sh
# server_bench.sh [BUILD] - the web server's goals, printed as
# measured: per-frame server time for a 640x480 JPEG on one core, webcam
# fast path vs full scan recall on the shared photos, throughput with wrk
# at 320x240 (server pinned to 2 cores), and server RSS: over a 60 s load
# from the start, while the first library scan runs, and over the same load
# once the library is analysed.
# Needs: build/$MODE/moodsync, wrk (scripts/deps.sh bench), $MOODSYNC_DATA.
# Env: SECONDS_LOAD (default 60), MODEL (default models/emotion.msens, else
# tests/data/tiny.msnn, else none), TTA (none/flip/crops, default flip as
# serve), CONNS (default 8), SESSIONS (32).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
BIN=$BUILD/moodsync
DATA=${MOODSYNC_DATA:-$(cd .. && pwd)/shared/data}
LOAD_S=${SECONDS_LOAD:-60}
CONNS=${CONNS:-8}
SESSIONS=${SESSIONS:-32}
OUT=$BUILD/bench
mkdir -p "$OUT"
if [ -z "${MODEL:-}" ]; then
	MODEL=none
	for m in models/emotion.msens tests/data/tiny.msnn; do
		[ -f "$m" ] && MODEL=$m && break
	done
fi
[ -x "$BIN" ] || { echo "server_bench: build $BIN first (make)" >&2; exit 1; }

# The bench tool links the product's objects (pipeline, vision, nn, common).
make -s MODE="$(basename "$BUILD")" "$BUILD/bench/server_frame"

# A webcam-like frame: the single-face photo with the largest face, a 4:3
# crop around the face about 2.6 faces wide (as the browser test does).
LINE=$(awk '{n[$1]++; l[$1] = $0} END {for (k in n) if (n[k] == 1) print l[k]}' \
	"$DATA/faces/annotations.txt" | grep '\.jpg ' | sort -k4 -n -r | head -1)
PHOTO=$(echo "$LINE" | awk '{print $1}')
CROP=$(awk -v p="$PHOTO" -v l="$LINE" 'BEGIN {split(l, a, " ")} $1 == p {
	iw = $2; ih = $3; x = a[2]; y = a[3]; w = a[4]; h = a[5]
	cw = w * 2.6; if (cw < 160) cw = 160; if (cw > iw) cw = iw; ch = cw * 3 / 4
	if (ch > ih) { ch = ih; cw = ch * 4 / 3 }
	sx = x + w / 2 - cw / 2; if (sx > iw - cw) sx = iw - cw; if (sx < 0) sx = 0
	sy = y + h / 2 - ch / 2; if (sy > ih - ch) sy = ih - ch; if (sy < 0) sy = 0
	printf "%d %d %d %d", sx, sy, cw, ch }' "$DATA/faces/images.txt")
# shellcheck disable=SC2086
"$OUT/server_frame" mkjpeg "$DATA/faces/$PHOTO" 640 480 "$OUT/frame640.jpg" $CROP
# shellcheck disable=SC2086
"$OUT/server_frame" mkjpeg "$DATA/faces/$PHOTO" 320 240 "$OUT/frame320.jpg" $CROP
echo "== frame: $PHOTO (crop $CROP) scaled to 640x480 ($(wc -c <"$OUT/frame640.jpg") B)" \
	"and 320x240 ($(wc -c <"$OUT/frame320.jpg") B); model: $MODEL"

m=$MODEL
[ "$m" = none ] && m=
echo "== server time per frame, one core (taskset -c 0, OpenBLAS 1 thread)"
echo "-- 640x480:"
# shellcheck disable=SC2086
OPENBLAS_NUM_THREADS=1 taskset -c 0 "$OUT/server_frame" time "$OUT/frame640.jpg" 500 $m
echo "-- 640x480, faces aligned from their eyes (serve --align):"
# shellcheck disable=SC2086
ALIGN_EYES=/usr/share/opencv4/haarcascades/haarcascade_eye.xml OPENBLAS_NUM_THREADS=1 \
	taskset -c 0 "$OUT/server_frame" time "$OUT/frame640.jpg" 500 $m
echo "-- 320x240:"
# shellcheck disable=SC2086
OPENBLAS_NUM_THREADS=1 taskset -c 0 "$OUT/server_frame" time "$OUT/frame320.jpg" 500 $m

echo "== face recall on the shared photos: webcam fast path vs full scan"
taskset -c 0 "$OUT/server_frame" recall "$DATA"

echo "== throughput: wrk, $CONNS connections, $SESSIONS sessions, 320x240," \
	"server on cores 0-1 (--threads 2 --frames 2), ${LOAD_S}s"
command -v wrk >/dev/null || { echo "server_bench: wrk missing (sh scripts/deps.sh bench)" >&2; exit 1; }
DB=$(mktemp -d)/bench.db
OPENBLAS_NUM_THREADS=1 taskset -c 0,1 "$BIN" --log-level warn serve --port 0 \
	--db "$DB" --model "$MODEL" --threads 2 --frames 2 >"$OUT/serve.out" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null' EXIT INT TERM
for _ in $(seq 50); do
	grep -q listening "$OUT/serve.out" 2>/dev/null && break
	sleep 0.1
done
PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/serve.out" | head -1)
URL=http://127.0.0.1:$PORT
COOKIES=""
# Sessions are made by the first API call (not by /healthz).
for _ in $(seq "$SESSIONS"); do
	c=$(curl -s -D - -o /dev/null "$URL/api/mood" |
		sed -n 's/^Set-Cookie: \(ms_sid=[0-9a-f]*\).*/\1/p')
	COOKIES="$COOKIES $c"
done
rss() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
frames() { curl -s "$URL/healthz" | sed -n 's/.*"frames":\([0-9]*\).*/\1/p'; }
scanning() { curl -s "$URL/api/library" | grep -q '"scanning":true'; }
# RSS once a second into $OUT/rss.txt while the sampler runs.
sample_rss() {
	: >"$OUT/rss.txt"
	(
		while kill -0 $PID 2>/dev/null; do
			echo "$(date +%s) $(rss)" >>"$OUT/rss.txt"
			sleep 1
		done
	) &
	SAMPLER=$!
}
rss_summary() {
	kill $SAMPLER 2>/dev/null || true
	awk -v what="$1" 'NR == 1 {first = $2} {if ($2 > max) max = $2; last = $2; n++}
	     END {printf "RSS %s: first %d kB, last %d kB, max %d kB (%d samples)\n",
	          what, first, last, max, n}' "$OUT/rss.txt"
}
# One wrk run of LOAD_S seconds: throughput, CPU per frame, RSS.
load_run() {
	sample_rss
	T0=$(cpu_ticks)
	F0=$(frames)
	# wrk on the same 2-core machine: the load generator competes for the cores
	# shellcheck disable=SC2086
	wrk -t 2 -c "$CONNS" -d "${LOAD_S}s" --latency -s bench/server_wrk.lua \
		"$URL/api/frame" -- "$OUT/frame320.jpg" $COOKIES | tee "$OUT/wrk.txt"
	T1=$(cpu_ticks)
	F1=$(frames)
	awk -v t=$((T1 - T0)) -v f=$((F1 - F0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
		ms = 1000 * t / hz / (f ? f : 1)
		cap = (ms > 0) ? 2000 / ms : 0
		fmt = "server CPU per frame under load (HTTP + session + pipeline): %.2f ms"
		fmt = fmt " over %d frames -> %.0f frames/s if 2 idle cores did only this\n"
		printf fmt, ms, f, cap }'
	curl -s "$URL/healthz"
	echo
	rss_summary "$1"
}
echo "RSS idle with the model loaded: $(rss) kB"
echo "-- load from the start, while the first library scan analyses the tracks:"
load_run "over the load run during the first scan"
# The first scan's analyser threads (one a core) each hold up to 120 s of
# decoded audio; the same load once the library is analysed:
sample_rss
for _ in $(seq 600); do
	scanning || break
	sleep 0.5
done
rss_summary "until the first scan ended (after the load run)"
echo "library: $(curl -s "$URL/api/library" | sed 's/"folders".*//')"
echo "RSS idle with the model and the analysed library: $(rss) kB"
echo "-- the same load once the library is analysed:"
load_run "over the load run after the first scan"
