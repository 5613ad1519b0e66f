#!/bin/sh
# stream_bench.sh [BUILD] - the music library's goals, printed as measured:
#   scan    the demo library into a fresh database (goal <= 30 s on this
#           2-core machine), then again with nothing changed (goal <= 1 s),
#           and the analysis speed as a multiple of real time;
#   stream  CONNS (100) concurrent readers of random 64 KiB ranges of the
#           library's tracks for SECONDS_LOAD (60) s on loopback with wrk:
#           errors (goal 0) and the server's RSS before, midway and after
#           (goal: flat).
# Needs build/$MODE/moodsync, wrk and curl (scripts/deps.sh bench) and the
# demo library (scripts/deps.sh build). Env: MUSIC (folders, default the
# demo library), SECONDS_LOAD, CONNS, THREADS (wrk threads, 2).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
BIN=$BUILD/moodsync
LOAD_S=${SECONDS_LOAD:-60}
CONNS=${CONNS:-100}
THREADS=${THREADS:-2}
MUSIC=${MUSIC:-/usr/share/games/singularity/music /usr/share/hyperrogue/music}
[ -x "$BIN" ] || { echo "stream_bench: build $BIN first (make)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "stream_bench: needs wrk (deps.sh bench)" >&2; exit 1; }
TMP=$(mktemp -d)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# ---- scan -----------------------------------------------------------------
# The full scan runs under python only to read its CPU time (user + sys):
# on a loaded machine the wall time says more about the neighbours.
# shellcheck disable=SC2086
t0=$(now)
cpu=$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"), check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.1f" % (r.ru_utime + r.ru_stime))' "$TMP/full.txt" "$BIN" --log-level error \
	library scan --quiet --db "$TMP/scan.db" $MUSIC)
t1=$(now)
# shellcheck disable=SC2086
"$BIN" --log-level error library scan --quiet --db "$TMP/scan.db" $MUSIC >"$TMP/re.txt"
t2=$(now)
audio_s=$(sqlite3 "$TMP/scan.db" "SELECT coalesce(sum(duration_s), 0) FROM tracks WHERE error = ''")
tracks=$(sqlite3 "$TMP/scan.db" "SELECT count(*) FROM tracks WHERE error = ''")
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$audio_s" -v n="$tracks" -v cores="$(nproc)" -v cpu="$cpu" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
	full = b - a; re = c - b
	printf "scan: %d tracks, %.0f s of audio: full scan %.2f s wall, %.1f s CPU (goal <= 30 s on %d cores), rescan %.3f s (goal <= 1 s)\n", n, d, full, cpu, cores, re
	printf "scan: load average at the end: %s\n", load
	if (full > 0 && cpu > 0) printf "scan: analysis %.0fx real time (wall, %d cores), %.0fx per CPU second\n", d / full, cores, d / cpu
}'
sed 's/^/scan: /' "$TMP/full.txt" "$TMP/re.txt"

# ---- stream ---------------------------------------------------------------
dirs=$(echo $MUSIC | tr ' ' ':')
"$BIN" --log-level warn serve --port 0 --model none --db "$TMP/scan.db" --music "$dirs" \
	>"$TMP/serve.out" 2>"$TMP/serve.err" &
PID=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)/$|\1|p' "$TMP/serve.out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "stream_bench: server did not start" >&2; cat "$TMP/serve.err" >&2; exit 1; }
URL=http://127.0.0.1:$port
until curl -s "$URL/api/library" | grep -q '"scanning":false'; do sleep 0.2; done
cookie=$(curl -s -o /dev/null -D - "$URL/api/library" | tr -d '\r' |
	sed -n 's/^[Ss]et-[Cc]ookie: \(ms_sid=[0-9a-f]*\).*/\1/p' | head -1)
pairs=
for id in $(sqlite3 "$TMP/scan.db" "SELECT id FROM tracks WHERE error = '' ORDER BY id"); do
	size=$(curl -sI -H "Cookie: $cookie" "$URL/api/tracks/$id/audio" | tr -d '\r' | awk 'tolower($1) == "content-length:" {print $2}')
	pairs="$pairs $id:$size"
done
[ -n "$pairs" ] || { echo "stream_bench: no playable track" >&2; exit 1; }
rss0=$(rss_kib "$PID")
( sleep $((LOAD_S / 2)); rss_kib "$PID" >"$TMP/rss_mid" ) &
MID=$!
# shellcheck disable=SC2086
wrk -t"$THREADS" -c"$CONNS" -d"${LOAD_S}s" --timeout 10s -s bench/stream_bench.lua "$URL" \
	-- "$cookie" $pairs >"$TMP/wrk.txt" 2>&1 || true
wait "$MID"
rss1=$(rss_kib "$PID")
reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.txt")
rate=$(awk '/^Transfer\/sec/ {print $2}' "$TMP/wrk.txt")
echo "stream: $CONNS connections x $LOAD_S s on loopback: $reqs range requests, $rate/s"
grep -E '^(wrk errors|latency|  Socket errors|  Non-2xx)' "$TMP/wrk.txt" | sed 's/^ */stream: /'
echo "stream: server RSS $((rss0 / 1024)) MiB before, $(($(cat "$TMP/rss_mid") / 1024)) MiB midway, $((rss1 / 1024)) MiB after"
kill "$PID"
wait "$PID" 2>/dev/null || true
PID=
