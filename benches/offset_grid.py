#!/usr/bin/env python3
"""Best macro-F1 over two class offsets, from out-of-fold joint log-likelihoods.

`comment-sieve cv ... --predictions FILE` writes one JSON line per held-out row with its
`jll` (abusive, off_topic, substantive), `label` and `source`. This script adds offsets
(a, o, 0) to the log-likelihoods, a and o on a grid of step 0.1 over [-3, 1] (finer than
`cv --tune-offsets`), and reports the best macro-F1 on all rows, the macro-F1 of the rows
other than `sms_spam` at those offsets (the corpus' test split has no `sms_spam` rows), and
the best macro-F1 of those rows on their own. Only the train split's folds are read.

    target/release/comment-sieve cv ../shared/corpus/comments.jsonl --split train --folds 5 \\
        --no-calibration [--class-weighting S,P] --predictions /tmp/oof.jsonl
    $py benches/offset_grid.py /tmp/oof.jsonl [more.jsonl ...]

Needs numpy and scikit-learn (the peers' venv: `py=$(../shared/bench/setup-peers.sh)`).
"""
import json
import sys

import numpy as np
from sklearn.metrics import f1_score

LABELS = ["abusive", "off_topic", "substantive"]
GRID = np.round(np.arange(-3.0, 1.0001, 0.1), 2)


def best_offsets(truth, jll):
    best = (0.0, (0.0, 0.0))
    for a in GRID:
        for o in GRID:
            f = f1_score(truth, np.argmax(jll + [a, o, 0.0], axis=1), average="macro")
            if f > best[0]:
                best = (f, (float(a), float(o)))
    return best


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        truth = np.array([LABELS.index(r["label"]) for r in rows])
        jll = np.array([r["jll"] for r in rows])
        not_sms = np.array([r.get("source") != "sms_spam" for r in rows])
        f_all, (a, o) = best_offsets(truth, jll)
        at_those = f1_score(
            truth[not_sms], np.argmax(jll[not_sms] + [a, o, 0.0], axis=1), average="macro"
        )
        f_ns, (a_ns, o_ns) = best_offsets(truth[not_sms], jll[not_sms])
        print(
            f"{path}: all rows {f_all:.4f} at offsets ({a:+.1f}, {o:+.1f}); rows other than "
            f"sms_spam {at_those:.4f} there, {f_ns:.4f} at their own best ({a_ns:+.1f}, {o_ns:+.1f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
