#!/usr/bin/env python3
"""Feature variants for multinomial naive Bayes, measured on the train split only.

Questions this answers before any of them is built into comment-sieve: does naive Bayes on
this corpus gain from (1) character n-grams next to word n-grams, (2) chi-squared feature
selection, (3) weighing word pairs more or less than single words?

Protocol: scikit-learn TF-IDF (sublinear tf, min_df 2) + MultinomialNB with uniform priors, on
the train split cut into 5 folds grouped by post (`GroupKFold` on `post_id`, else the row id),
as `comment-sieve cv` does. Reported: out-of-fold macro-F1 and per-class F1; for (3) also the
macro-F1 after a grid search of two class offsets on the out-of-fold joint log-likelihoods,
as `cv --tune-offsets` does. The test split is not read.

Needs the peers' venv (scikit-learn), e.g. `py=$(../shared/bench/setup-peers.sh)`:

    $py benches/nb_feature_variants.py ../shared/corpus/comments.jsonl
"""
import json
import sys

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import SelectKBest, chi2
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from sklearn.naive_bayes import MultinomialNB
from sklearn.preprocessing import normalize

LABELS = ["abusive", "off_topic", "substantive"]


def load(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    train = [r for r in rows if r.get("split") == "train"]
    texts = [r["text"] for r in train]
    labels = np.array([r["label"] for r in train])
    groups = [r.get("post_id") or r["id"] for r in train]
    return texts, labels, groups


def report(name, labels, predicted, extra=""):
    macro = f1_score(labels, predicted, average="macro")
    per_class = f1_score(labels, predicted, average=None, labels=LABELS)
    print(
        f"{name:44} macro-F1 {macro:.4f}  F1 " + " / ".join(f"{f:.3f}" for f in per_class) + extra,
        flush=True,
    )


def tuned_macro_f1(labels, jll):
    """Best macro-F1 over offsets (abusive, off_topic) in [-2, 1], step 0.25."""
    grid = np.linspace(-2, 1, 13)
    best = (0.0, (0.0, 0.0))
    for a in grid:
        for o in grid:
            predicted = np.array(LABELS)[np.argmax(jll + np.array([a, o, 0.0]), axis=1)]
            f = f1_score(labels, predicted, average="macro")
            if f > best[0]:
                best = (f, (a, o))
    return best


def fold_matrices(texts, folds, make):
    """Per fold, the training and held-out matrices of the vectorizers `make()` returns,
    fitted on the fold's training part and stacked side by side."""
    matrices = []
    for a, b in folds:
        vs = make()
        xa = sp.hstack([v.fit_transform([texts[i] for i in a]) for v in vs]).tocsr()
        xb = sp.hstack([v.transform([texts[i] for i in b]) for v in vs]).tocsr()
        matrices.append((xa, xb))
    return matrices


def predict_out_of_fold(labels, folds, matrices, alpha, keep=None):
    """Out-of-fold labels of MultinomialNB (uniform priors), optionally on the `keep` columns
    that chi-squared ranks highest on each fold's training part."""
    predicted = np.empty(len(labels), dtype=object)
    for (a, b), (xa, xb) in zip(folds, matrices):
        if keep is not None and keep < xa.shape[1]:
            selector = SelectKBest(chi2, k=keep).fit(xa, labels[a])
            xa, xb = selector.transform(xa), selector.transform(xb)
        model = MultinomialNB(alpha=alpha, fit_prior=False).fit(xa, labels[a])
        predicted[b] = model.predict(xb)
    return predicted


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    texts, labels, groups = load(sys.argv[1])
    folds = list(GroupKFold(5).split(texts, labels, groups))

    def words(lo, hi, norm="l2"):
        return TfidfVectorizer(ngram_range=(lo, hi), min_df=2, sublinear_tf=True, norm=norm)

    def chars():
        return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)

    print("(1) character n-grams (char_wb 2-5) next to word 1-2 grams")
    for name, make in (
        ("words 1-2", lambda: [words(1, 2)]),
        ("words 1-2 + chars 2-5", lambda: [words(1, 2), chars()]),
        ("chars 2-5", lambda: [chars()]),
    ):
        matrices = fold_matrices(texts, folds, make)
        for alpha in (0.05, 0.1):
            predicted = predict_out_of_fold(labels, folds, matrices, alpha)
            report(f"  {name}, alpha {alpha}", labels, predicted)

    print("(2) chi-squared selection of word 1-2 grams")
    matrices = fold_matrices(texts, folds, lambda: [words(1, 2)])
    for k in (None, 60000, 30000, 15000, 8000):
        for alpha in (0.05, 0.1):
            predicted = predict_out_of_fold(labels, folds, matrices, alpha, keep=k)
            report(f"  keep {k or 'all'}, alpha {alpha}", labels, predicted)

    print("(3) word pairs weighed w against single words (then unit length)")
    parts = []
    for a, b in folds:
        v1, v2 = words(1, 1, norm=None), words(2, 2, norm=None)
        tr, te = [texts[i] for i in a], [texts[i] for i in b]
        parts.append((v1.fit_transform(tr), v1.transform(te), v2.fit_transform(tr), v2.transform(te)))
    for w in (1.0, 0.7, 0.5, 0.35, 1.4):
        for alpha in (0.05, 0.1):
            jll = np.zeros((len(labels), len(LABELS)))
            for (a, b), (a1, b1, a2, b2) in zip(folds, parts):
                xa = normalize(sp.hstack([a1, w * a2]).tocsr())
                xb = normalize(sp.hstack([b1, w * b2]).tocsr())
                model = MultinomialNB(alpha=alpha, fit_prior=False).fit(xa, labels[a])
                assert list(model.classes_) == LABELS
                jll[b] = model.predict_joint_log_proba(xb)
            predicted = np.array(LABELS)[np.argmax(jll, axis=1)]
            best, offsets = tuned_macro_f1(labels, jll)
            report(
                f"  w = {w}, alpha {alpha}",
                labels,
                predicted,
                f"  tuned {best:.4f} at offsets {offsets[0]:+.2f}, {offsets[1]:+.2f}",
            )


if __name__ == "__main__":
    main()
