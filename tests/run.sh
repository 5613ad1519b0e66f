#!/bin/sh
# run.sh - runs every built test and ends with "N passed, N failed".
# Every test program speaks TAP ("ok" / "not ok" lines): cmocka through
# CMOCKA_MESSAGE_OUTPUT=tap, fuzz replays and e2e scripts by hand. A
# program that dies without reporting a failure (a sanitizer abort, a
# crash) counts as one failed test. Run from the repository root, after
# scripts/test.sh (or make) has built build/release, build/asan, build/fuzz
# (and build/tsan, whose server reruns the e2e server tests).
set -u
export CMOCKA_MESSAGE_OUTPUT=tap
: "${MOODSYNC_DATA:=$(cd .. && pwd)/shared/data}"
export MOODSYNC_DATA
export MOODSYNC_BIN="${MOODSYNC_BIN:-build/release/moodsync}"
log=$(mktemp)
passed=0
failed=0

run_one() { # name, command...
	name=$1
	shift
	echo "# $name"
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

fuzz_replay() { # binary corpus-dir
	if "$1" -runs=0 "$2" >/dev/null 2>&1; then
		echo "ok - $(basename "$1") replays $(ls "$2" | wc -l) inputs"
	else
		echo "not ok - $(basename "$1") failed on its corpus $2"
	fi
}

for mode in release asan; do
	for t in build/$mode/tests/test_*; do
		[ -x "$t" ] || continue
		case "$t" in *.d | *.o) continue ;; esac
		run_one "$mode/$(basename "$t")" "$t"
	done
done
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	run_one "$name" fuzz_replay "$f" "tests/fuzz/corpus_${name#fuzz_}"
done
for t in tests/e2e/test_*; do
	[ -x "$t" ] && run_one "e2e/$(basename "$t")" "$t"
done
# The server's concurrent paths again under ThreadSanitizer: any report
# stops the server (halt_on_error), which fails the test.
if [ -x build/tsan/moodsync ]; then
	for t in test_server.py test_spotify.py test_spotify_limits.py \
		test_hardening.py; do
		run_one "tsan/e2e/$t" env MOODSYNC_BIN=build/tsan/moodsync \
			MOODSYNC_E2E_TSAN=1 \
			TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
			"tests/e2e/$t"
	done
fi
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
