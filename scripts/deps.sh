#!/bin/sh
# Installs the Debian 12 packages MoodSync needs. Idempotent and silent when all is present.
# Usage: scripts/deps.sh [build|test|bench]   (default: build)
#   build  what `make` and `moodsync serve` need, with the demo music library
#          (singularity-music, hyperrogue-music: CC BY-SA 3.0)
#   test   + unit/e2e/browser test tools (cmocka, clang for fuzz replay,
#          clang-format for make format-check, chromium)
#   bench  + the peers measured by bench/ (OpenCV, PyTorch, wrk)
set -eu

want="build-essential pkg-config libjpeg62-turbo-dev libpng-dev libsqlite3-dev \
libmicrohttpd-dev libcurl4-openssl-dev libcjson-dev libopenblas-dev opencv-data \
libsndfile1-dev libebur128-dev singularity-music hyperrogue-music"
case "${1:-build}" in
build) ;;
test) want="$want libcmocka-dev clang clang-format libclang-rt-14-dev chromium chromium-driver python3 curl" ;;
bench) want="$want libcmocka-dev clang libclang-rt-14-dev libopencv-dev python3-torch python3-numpy \
python3-scipy sox libsox-fmt-mp3 wrk curl sqlite3" ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing (run as root, or: sudo $0 ${1:-build})" >&2
	exit 1
fi
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
