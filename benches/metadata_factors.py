#!/usr/bin/env python3
"""Do more metadata tokens help? Measured on the train split only, out of fold.

Issue 4 lists metadata tokens: number of links, link hosts, share of all-caps text, length
bucket, whether an author URL is given. The model has link hosts as `_host_<host>` terms and
the number of links as `ctx:links:<bucket>` tokens. This script measures the others the corpus
can show (it has no author fields): each is a categorical feature, added the way the model adds
its context tokens, as one more naive Bayes factor w * log P(bucket | class).

Protocol: `comment-sieve cv --split train --folds 5 --no-calibration --predictions F` gives every
train row's out-of-fold joint log-likelihoods from the shipped settings. For each row,
P(bucket | class) is counted (Laplace-smoothed) on the rows of the other four folds of a
5-fold split grouped by post (md5 of the post id, or of the comment id without one), and
w * log P(bucket | class) is added. Macro-F1 is reported on all train rows and on the rows that
are not SMS spam (the test split's mix of sources), for w = 0 (the model alone) and a few w.

    python3 benches/metadata_factors.py ../shared/corpus/comments.jsonl [path/to/comment-sieve]
"""
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile

LABELS = ["abusive", "off_topic", "substantive"]


def caps_bucket(text):
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 8:
        return 0
    share = sum(c.isupper() for c in letters) / len(letters)
    return 1 + sum(share > e for e in (0.1, 0.3, 0.6))


def length_bucket(text):
    return sum(len(text) > e for e in (50, 150, 400, 1000))


def words_bucket(text):
    return sum(len(text.split()) > e for e in (8, 25, 60, 150))


def exclamation_bucket(text):
    return min(text.count("!"), 3)


FACTORS = {
    "all-caps share (<8 letters, <=0.1, 0.3, 0.6, more)": caps_bucket,
    "length in characters (50, 150, 400, 1000)": length_bucket,
    "length in words (8, 25, 60, 150)": words_bucket,
    "exclamation marks (0, 1, 2, 3+)": exclamation_bucket,
}


def fold(row):
    key = row.get("post_id") or row["id"]
    return int(hashlib.md5(key.encode()).hexdigest(), 16) % 5


def macro_f1(rows, scores):
    tp, fp, fn = [0] * 3, [0] * 3, [0] * 3
    for row, s in zip(rows, scores):
        truth = LABELS.index(row["label"])
        guess = max(range(3), key=lambda c: s[c])
        if guess == truth:
            tp[truth] += 1
        else:
            fp[guess] += 1
            fn[truth] += 1
    return sum(2 * tp[c] / (2 * tp[c] + fp[c] + fn[c]) if tp[c] else 0.0 for c in range(3)) / 3


def main():
    corpus = sys.argv[1]
    binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/comment-sieve"
    rows = {}
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["split"] == "train":
                rows[r["id"]] = r
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "oof.jsonl")
        subprocess.run(
            [binary, "cv", corpus, "--split", "train", "--folds", "5", "--no-calibration",
             "--predictions", out],
            check=True, stdout=subprocess.DEVNULL)
        with open(out, encoding="utf-8") as f:
            predictions = [json.loads(line) for line in f]
    data = [(rows[p["id"]], p["jll"]) for p in predictions]
    blog = [i for i, (r, _) in enumerate(data) if r["source"] != "sms_spam"]
    print(f"{len(data)} train rows, {len(blog)} not SMS spam")
    base = [jll for _, jll in data]
    print(f"model alone: macro-F1 {macro_f1([r for r, _ in data], base):.4f} all, "
          f"{macro_f1([data[i][0] for i in blog], [base[i] for i in blog]):.4f} not SMS")
    for name, bucket in FACTORS.items():
        buckets = [bucket(r["text"]) for r, _ in data]
        n_buckets = max(buckets) + 1
        folds = [fold(r) for r, _ in data]
        # counts[k][class][bucket] over the rows outside fold k.
        counts = [[[0] * n_buckets for _ in LABELS] for _ in range(5)]
        for (r, _), b, k in zip(data, buckets, folds):
            for other in range(5):
                if other != k:
                    counts[other][LABELS.index(r["label"])][b] += 1
        log_p = [[[math.log((n + 1) / (sum(cls) + n_buckets)) for n in cls] for cls in fk]
                 for fk in counts]
        line = []
        for w in (0.5, 1.0, 1.5):
            scores = [[jll[c] + w * log_p[k][c][b] for c in range(3)]
                      for (_, jll), b, k in zip(data, buckets, folds)]
            all_f1 = macro_f1([r for r, _ in data], scores)
            blog_f1 = macro_f1([data[i][0] for i in blog], [scores[i] for i in blog])
            line.append(f"w {w}: {all_f1:.4f} / {blog_f1:.4f}")
        print(f"{name}: " + "; ".join(line))


if __name__ == "__main__":
    main()
