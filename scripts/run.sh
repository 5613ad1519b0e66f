#!/bin/sh
# run.sh [serve options] - README's "run the app" command: installs what is
# missing, builds, and starts the server on 127.0.0.1:5000.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh build
make -s -j"$(nproc)" MODE=release
exec build/release/moodsync serve "$@"
