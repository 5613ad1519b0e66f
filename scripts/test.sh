#!/bin/sh
# test.sh - README's "run every test" command: installs what is missing,
# checks the formatting (make format-check) and the include arrows
# (scripts/arrows.sh), builds the release (with the bench programs),
# ASan+UBSan and ThreadSanitizer builds, and runs unit tests (release and
# ASan), fuzz corpus replays, end-to-end and browser tests, and the e2e
# server tests again against the ThreadSanitizer server. The last line
# is "N passed, N failed"; the exit status is non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh test
jobs=$(nproc)
make -s format-check
sh scripts/arrows.sh
make -s -j"$jobs" MODE=release all unit bench-build
make -s -j"$jobs" MODE=asan unit
make -s -j"$jobs" MODE=tsan all
make -s -j"$jobs" fuzz
exec sh tests/run.sh
