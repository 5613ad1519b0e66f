#!/bin/sh
# audio_bench.sh - speed of the audio analysis (decode + loudness +
# features + mood, src/audio) as x real time per CPU core, on the 200
# development clips ($MOODSYNC_DATA/music, MP3 44.1 kHz stereo) and on the
# demo library (Debian's singularity-music and hyperrogue-music, Ogg
# Vorbis) when installed. Peer, measured in the same run on the same
# files: SoX decoding each file and computing its `stats` (RMS, peak,
# DC...), i.e. decode plus a much lighter analysis. CPU time is user+sys
# of the process (the machine is shared, so wall time says less); the
# wall time of the same analysis in two processes is printed too.
# Usage: sh bench/audio_bench.sh [BUILD_DIR]   (from the repository root)
set -eu
BUILD=${1:-build/release}
BIN=$BUILD/moodsync
: "${MOODSYNC_DATA:=$(cd .. && pwd)/shared/data}"
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cpu() { # file written by /usr/bin/time -f "%U %S": user + sys seconds
	awk '{ s = $1 + $2 } END { printf "%.2f", s }' "$1"
}

# set-name list-file(NUL-separated paths)
bench_set() {
	name=$1
	list=$2
	n=$(tr -cd '\0' <"$list" | wc -c)
	/usr/bin/time -o "$tmp/t_ours" -f "%U %S" \
		xargs -0 "$BIN" library analyze --json <"$list" >"$tmp/out.jsonl"
	ours=$(cpu "$tmp/t_ours")
	$PY - "$tmp/out.jsonl" >"$tmp/secs" <<'PYEOF'
import json, sys
an = du = 0.0
for line in open(sys.argv[1]):
    f = json.loads(line)["features"]
    an += f["analysed_s"]
    du += f["duration_s"]
print("%.1f %.1f" % (an, du))
PYEOF
	read -r analysed total <"$tmp/secs"
	/usr/bin/time -o "$tmp/t_sox" -f "%U %S" \
		xargs -0 -n 1 sh -c 'sox "$0" -n stats 2>/dev/null' <"$list"
	sox_cpu=$(cpu "$tmp/t_sox")
	half=$(((n + 1) / 2))
	/usr/bin/time -o "$tmp/t_wall" -f "%e" \
		xargs -0 -P 2 -n "$half" "$BIN" library analyze <"$list" >/dev/null
	wall2=$(cat "$tmp/t_wall")
	awk -v n="$n" -v a="$analysed" -v d="$total" -v o="$ours" \
		-v s="$sox_cpu" -v w="$wall2" -v name="$name" 'BEGIN {
		printf "%s: %d files, %.0f s of audio, %.0f s analysed\n", name, n, d, a
		printf "  moodsync analyze: %.2f s CPU, %.0f ms/file, %.0fx real time per core (analysed audio)\n", o, 1000 * o / n, a / o
		printf "  sox stats (peer): %.2f s CPU, %.0f ms/file, %.0fx real time per core (whole files)\n", s, 1000 * s / n, d / s
		printf "  ratio: moodsync x-real-time / sox x-real-time = %.2f\n", (a / o) / (d / s)
		printf "  projected wall time on 2 cores (CPU / 2): %.1f s; measured with 2 processes: %.1f s wall\n", o / 2, w
	}'
}

if [ ! -x "$BIN" ]; then
	echo "audio_bench: build $BIN first (make MODE=release)" >&2
	exit 1
fi
find "$MOODSYNC_DATA/music/clips" -name '*.mp3' -print0 | sort -z >"$tmp/dev.lst"
bench_set "dev set (Emotify clips)" "$tmp/dev.lst"
: >"$tmp/demo.lst"
for d in /usr/share/games/singularity/music /usr/share/hyperrogue/music; do
	[ -d "$d" ] && find "$d" -name '*.ogg' -print0 >>"$tmp/demo.lst"
done
if [ -s "$tmp/demo.lst" ]; then
	bench_set "demo library (singularity-music + hyperrogue-music)" "$tmp/demo.lst"
else
	echo "demo library: not installed (apt-get install singularity-music hyperrogue-music)"
fi
