#!/bin/sh
# music_mood.sh - how well the audio mood model tracks the development
# set's valence/arousal proxies: cross-validated Spearman per genre and
# overall, per-feature contributions (tools/fit_music_mood.py, report only).
# Usage: sh bench/music_mood.sh [BUILD_DIR]   (from the repository root)
set -eu
BUILD=${1:-build/release}
: "${MOODSYNC_DATA:=$(cd .. && pwd)/shared/data}"
export MOODSYNC_DATA
/usr/bin/python3 tools/fit_music_mood.py --bin "$BUILD/moodsync" 2>/dev/null |
	sed '/^C table/,$d'
