#!/bin/sh
# vision.sh - the face detector against OpenCV 4's own
# CascadeClassifier::detectMultiScale: same cascade, same parameters
# (scale 1.1, 5 neighbours, min 30 px), same gray pixels, one thread each.
# Prints quality per source for both (moodsync eval-faces and
# bench/opencv_detect.cpp score with the same greedy IoU >= 0.4 rule), then
# CPU time of the detection calls (best of N runs per image) on the 49
# shared photos and on one 640x480 frame, and the speed ratio.
# Usage: sh bench/vision.sh [BUILD_DIR]   (from the repository root)
set -eu
BUILD=${1:-build/release}
OUT=build/bench
mkdir -p "$OUT"
REPEAT=${VISION_REPEAT:-2}
FRAME_REPEAT=${VISION_FRAME_REPEAT:-10}

make -s MODE="$(basename "$BUILD")" "$BUILD/bench/vision_bench"
# shellcheck disable=SC2046
g++ -std=c++17 -O2 -o "$OUT/opencv_detect" bench/opencv_detect.cpp \
	$(pkg-config --cflags --libs opencv4)

photo=$MOODSYNC_DATA/faces/images/wider_val/13--Interview/13_Interview_Interview_2_People_Visible_13_241.jpg
"$OUT/opencv_detect" --make-frame "$photo" "$OUT/frame640x480.jpg"

echo "== quality: ours (moodsync eval-faces)"
"$BUILD/moodsync" eval-faces --dump >"$OUT/ours_boxes.txt"
grep -v '^photos' "$OUT/ours_boxes.txt" | grep -v '^images/'
echo "== quality: OpenCV $(pkg-config --modversion opencv4) detectMultiScale"
"$OUT/opencv_detect" --dump >"$OUT/opencv_boxes.txt"
grep -v '^photos' "$OUT/opencv_boxes.txt" | grep -v '^images/'
# both dumps list each photo's boxes largest first
grep '^images/' "$OUT/ours_boxes.txt" >"$OUT/ours_boxes.lst"
grep '^images/' "$OUT/opencv_boxes.txt" >"$OUT/opencv_boxes.lst"
same=$(paste -d '\n' "$OUT/ours_boxes.lst" "$OUT/opencv_boxes.lst" |
	awk 'NR % 2 { a = $0; next } { n++; if ($0 == a) s++ }
	     END { printf "%d of %d", s, n }')
echo "identical boxes: $same photos"

ours=$("$BUILD/bench/vision_bench" --repeat "$REPEAT" | awk '{print $4}')
theirs=$("$OUT/opencv_detect" --repeat "$REPEAT" | awk '/^photos/ {print $4}')
ours_f=$("$BUILD/bench/vision_bench" --repeat "$FRAME_REPEAT" --frame "$OUT/frame640x480.jpg" | awk '{print $NF}')
theirs_f=$("$OUT/opencv_detect" --repeat "$FRAME_REPEAT" --frame "$OUT/frame640x480.jpg" | awk '{print $NF}')
echo "== speed (thread CPU ms, best of $REPEAT per photo / $FRAME_REPEAT per frame)"
awk -v o="$ours" -v t="$theirs" -v of="$ours_f" -v tf="$theirs_f" 'BEGIN {
	printf "49 photos: ours %.1f ms, OpenCV %.1f ms, OpenCV/ours %.2fx\n", o, t, t / o
	printf "640x480 frame: ours %.2f ms, OpenCV %.2f ms, OpenCV/ours %.2fx\n", of, tf, tf / of
}'
