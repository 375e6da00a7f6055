#!/usr/bin/env python3
"""Naive Bayes variants measured in scikit-learn before supervised term weighting was built.

Protocol: TF-IDF word 1-2 grams (sublinear tf, min_df 2) and multinomial naive Bayes counts
computed with numpy, on the train split cut into 5 folds grouped by post (`GroupKFold` on
`post_id`, else the row id), as `comment-sieve cv` does. Each variant is scored by macro-F1
after a grid search of class offsets on its out-of-fold joint log-likelihoods, on all rows and
on the rows other than `sms_spam` (a source with no test rows). The test split is not read.

(1) Supervised term weighting: each column scaled by (KL divergence of the class shares of its
    smoothed per-class document rates from uniform, over ln 3) ** 0.5, smoothing 2, learned on
    each fold's training part; then unit length. Against plain TF-IDF, and with character
    2-5 grams or word 1-3 grams too.
(2) Discriminative re-counting (DMNB-style): passes that add each training comment again to
    its class, weighted by 1 - P(its class) (`add`), or by 1 for misclassified ones (`toe`).
(3) Two stages: off-topic against the rest, then abusive against substantive, each with its
    own threshold, against the flat three-class model.

    py=$(../shared/bench/setup-peers.sh)
    $py benches/class_weighting_sklearn.py ../shared/corpus/comments.jsonl
"""
import json
import sys

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import normalize

LABELS = ["abusive", "off_topic", "substantive"]
ALPHA = 0.05


def load(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    train = [r for r in rows if r.get("split") == "train"]
    texts = [r["text"] for r in train]
    labels = np.array([LABELS.index(r["label"]) for r in train])
    not_sms = np.array([r["source"] != "sms_spam" for r in train])
    groups = [r.get("post_id") or r["id"] for r in train]
    return texts, labels, not_sms, groups


def log_theta(x, y, k, alpha=ALPHA):
    """Multinomial naive Bayes log P(term | class) from rows `x` with classes `y` in 0..k."""
    counts = np.asarray((sp.csr_matrix(np.eye(k)[y].T) @ x).todense())
    return np.log(counts + alpha) - np.log((counts + alpha).sum(1, keepdims=True))


def tuned(labels, not_sms, jll, grid):
    """Best macro-F1 on all rows over offsets (a, o, 0), and the rows other than sms_spam's
    macro-F1 at those offsets."""
    best = (0.0, 0.0)
    for a in grid:
        for o in grid:
            p = np.argmax(jll + [a, o, 0.0], axis=1)
            f = f1_score(labels, p, average="macro")
            if f > best[0]:
                best = (f, f1_score(labels[not_sms], p[not_sms], average="macro"))
    return best


def class_factors(x, y, smoothing=2.0, power=0.5):
    present = (x > 0).astype(float)
    onehot = np.eye(3)[y]
    documents = np.asarray((sp.csr_matrix(onehot.T) @ present).todense())
    rates = (documents + smoothing) / (onehot.sum(0)[:, None] + smoothing)
    shares = rates / rates.sum(0, keepdims=True)
    divergence = (shares * np.log(shares * 3)).sum(0) / np.log(3)
    return np.maximum(divergence, 0) ** power


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    texts, labels, not_sms, groups = load(sys.argv[1])
    folds = list(GroupKFold(5).split(texts, labels, groups))

    def words(lo, hi):
        return TfidfVectorizer(ngram_range=(lo, hi), min_df=2, sublinear_tf=True, norm=None)

    def chars():
        return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                               sublinear_tf=True, norm=None)

    print("(1) supervised term weighting (offsets searched in [-3, 1], step 0.1)")
    fine = np.arange(-3, 1.01, 0.1)
    for name, make in (("words 1-2", lambda: [words(1, 2)]), ("words 1-3", lambda: [words(1, 3)]),
                       ("words 1-2 + chars 2-5", lambda: [words(1, 2), chars()]),
                       ("chars 2-5", lambda: [chars()])):
        parts = []
        for a, b in folds:
            vs = make()
            xa = sp.hstack([v.fit_transform([texts[i] for i in a]) for v in vs]).tocsr()
            xb = sp.hstack([v.transform([texts[i] for i in b]) for v in vs]).tocsr()
            parts.append((xa, xb))
        for weigh in (False, True):
            jll = np.zeros((len(labels), 3))
            for (a, b), (xa, xb) in zip(folds, parts):
                if weigh:
                    d = sp.diags(class_factors(xa, labels[a]))
                    xa, xb = xa @ d, xb @ d
                xa, xb = normalize(xa), normalize(xb)
                jll[b] = np.asarray(xb @ log_theta(xa, labels[a], 3).T)
            f, f_ns = tuned(labels, not_sms, jll, fine)
            print(f"  {name:24} class factors {str(weigh):5}  all rows {f:.4f}  "
                  f"not sms_spam {f_ns:.4f}", flush=True)

    plain = []
    for a, b in folds:
        v = words(1, 2)
        xa = normalize(v.fit_transform([texts[i] for i in a]).tocsr())
        xb = normalize(v.transform([texts[i] for i in b]).tocsr())
        plain.append((xa, xb))

    print("(2) discriminative re-counting (offsets searched in [-2, 1], step 0.25)")
    coarse = np.linspace(-2, 1, 13)
    for mode, epochs, eta in (("none", 0, 0), ("add", 1, 1), ("add", 3, 1), ("add", 5, 0.5),
                              ("add", 10, 0.5), ("toe", 1, 1), ("toe", 3, 1), ("toe", 5, 0.5),
                              ("toe", 10, 0.5)):
        jll = np.zeros((len(labels), 3))
        for (a, b), (xa, xb) in zip(folds, plain):
            y = labels[a]
            onehot = np.eye(3)[y]
            counts = np.asarray((sp.csr_matrix(onehot.T) @ xa).todense())
            for _ in range(epochs):
                lt = np.log(counts + ALPHA) - np.log((counts + ALPHA).sum(1, keepdims=True))
                j = np.asarray(xa @ lt.T)
                j -= j.max(1, keepdims=True)
                p = np.exp(j)
                p /= p.sum(1, keepdims=True)
                if mode == "add":
                    w = onehot * (1 - p[np.arange(len(y)), y])[:, None]
                else:
                    w = onehot * (np.argmax(p, 1) != y)[:, None]
                counts = counts + eta * np.asarray((sp.csr_matrix(w.T) @ xa).todense())
            lt = np.log(counts + ALPHA) - np.log((counts + ALPHA).sum(1, keepdims=True))
            jll[b] = np.asarray(xb @ lt.T)
        f, f_ns = tuned(labels, not_sms, jll, coarse)
        print(f"  {mode:4} passes {epochs:2} step {eta}: all rows {f:.4f}  not sms_spam {f_ns:.4f}",
              flush=True)

    print("(3) two stages against the flat model (thresholds searched in [-3, 3], step 0.1)")
    wide = np.arange(-3, 3.01, 0.1)
    flat = np.zeros((len(labels), 3))
    spam = np.zeros(len(labels))
    abuse = np.zeros(len(labels))
    for (a, b), (xa, xb) in zip(folds, plain):
        y = labels[a]
        flat[b] = np.asarray(xb @ log_theta(xa, y, 3).T)
        j = np.asarray(xb @ log_theta(xa, (y == 1).astype(int), 2).T)
        spam[b] = j[:, 1] - j[:, 0]
        keep = y != 1
        j = np.asarray(xb @ log_theta(xa[keep], (y[keep] == 0).astype(int), 2).T)
        abuse[b] = j[:, 1] - j[:, 0]
    f, f_ns = tuned(labels, not_sms, flat, wide)
    print(f"  flat: all rows {f:.4f}  not sms_spam {f_ns:.4f}")
    best = (0.0, 0.0)
    for t1 in wide:
        for t2 in wide:
            p = np.where(spam + t1 > 0, 1, np.where(abuse + t2 > 0, 0, 2))
            f = f1_score(labels, p, average="macro")
            if f > best[0]:
                best = (f, f1_score(labels[not_sms], p[not_sms], average="macro"))
    print(f"  two stages: all rows {best[0]:.4f}  not sms_spam {best[1]:.4f}")


if __name__ == "__main__":
    main()
