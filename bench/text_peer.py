#!/usr/bin/python3
"""text_peer.py - the text mood model's peer: TF-IDF + logistic regression
(Debian python3-sklearn) trained on the GoEmotions train split and scored
on dev with the same Ekman-level rules as `moodsync eval-text`:
- a comment whose labels fall in k Ekman classes is k training rows, each
  weighted 1/k (the soft target our trainer uses);
- a prediction is right when it is any gold class; per-class F1 counts a
  right answer as its own class and a wrong one against the first label's
  class; macro-F1 is the mean over the seven.
Two settings are tried (plain and class_weight="balanced"); both are
printed, as JSON lines, with training time and inference time per text.
Usage: text_peer.py GOEMOTIONS_DIR"""
import json
import os
import sys
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

FER = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
EKMAN = ["anger", "disgust", "fear", "joy", "sadness", "surprise"]


def load(d, split):
    names = open(os.path.join(d, "emotions.txt")).read().split("\n")
    mapping = json.load(open(os.path.join(d, "ekman_mapping.json")))
    cls = {n: 6 for n in names}
    for c, ems in mapping.items():
        for e in ems:
            cls[e] = EKMAN.index(c)
    texts, golds = [], []
    with open(os.path.join(d, split + ".tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            text, labels, _ = line.split("\t")
            if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
                text = text[1:-1].replace('""', '"')
            ids = [int(x) for x in labels.split(",")]
            gold = []
            for i in ids:
                if cls[names[i]] not in gold:
                    gold.append(cls[names[i]])
            texts.append(text)
            golds.append(gold)
    return texts, golds


def score(pred, golds):
    conf = np.zeros((7, 7), dtype=int)
    for p, g in zip(pred, golds):
        conf[p if p in g else g[0], p] += 1
    tp = np.diag(conf)
    f1 = [2 * tp[c] / (conf[c].sum() + conf[:, c].sum()) if tp[c] else 0.0
          for c in range(7)]
    return tp.sum() / conf.sum(), float(np.mean(f1)), f1


def main():
    d = sys.argv[1]
    train_t, train_g = load(d, "train")
    dev_t, dev_g = load(d, "dev")
    rows, ys, ws = [], [], []
    for t, g in zip(train_t, train_g):
        for c in g:
            rows.append(t)
            ys.append(c)
            ws.append(1.0 / len(g))
    for name, cw in (("tfidf+logreg", None), ("tfidf+logreg balanced", "balanced")):
        t0 = time.time()
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        x = vec.fit_transform(rows)
        clf = LogisticRegression(C=4.0, max_iter=1000, class_weight=cw)
        clf.fit(x, ys, sample_weight=ws)
        train_s = time.time() - t0
        t0 = time.time()
        pred = clf.predict(vec.transform(dev_t))
        infer_ms = (time.time() - t0) * 1000 / len(dev_t)
        acc, macro, f1 = score(list(pred), dev_g)
        print(json.dumps({"name": name, "accuracy": acc, "macro_f1": macro,
                          "f1": dict(zip(FER, f1)), "train_s": train_s,
                          "infer_ms_per_text_batched": infer_ms}), flush=True)


if __name__ == "__main__":
    main()
