#!/usr/bin/env python3
"""calib_rest.py [TRAIN.ferplus.txt] - prints srv_calib_rest
(src/server/calib.c): the mean FER+ crowd vote, over the seven FER classes,
of the training faces whose unique FER+ majority is neutral; what a
resting face reads as after calibration. Python 3 stdlib only."""
import os
import sys

# FER+ vote columns (after index, FER label, PNG name) in FER class order
FER_ORDER = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
COLUMN = {"neutral": 0, "happy": 1, "surprise": 2, "sad": 3, "angry": 4,
          "disgust": 5, "fear": 6}


def main():
    data = os.environ.get("MOODSYNC_DATA") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(data, "fer2013", "train.ferplus.txt")
    total, n = [0.0] * 7, 0
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            votes = [int(x) for x in line.split()[3:13]]
            v = [votes[COLUMN[c]] for c in FER_ORDER]
            s = sum(v)
            if s == 0:
                continue
            top = sorted(v)
            if v[6] == top[-1] and top[-1] > top[-2]:
                total = [a + b / s for a, b in zip(total, v)]
                n += 1
    print("%d faces with a unique neutral majority" % n)
    for c, t in zip(FER_ORDER, total):
        print("%-8s %.4f" % (c, t / n))


if __name__ == "__main__":
    main()
