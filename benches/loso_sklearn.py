#!/usr/bin/env python3
"""Leave-one-source-out validation of the sklearn-nb peer, for side-by-side comparison with
`comment-sieve cv --leave-one-source-out`.

The peer is the `sklearn-nb` configuration of ../shared/bench/peers.py: CountVectorizer() with
its defaults + MultinomialNB(alpha=1.0). The protocol is the one of
`comment_sieve::validate::leave_one_source_out`: on the rows of one split (train by default),
for each source, fit on the rows of every other source and predict the rows of that source;
score each source by the mean F1 over the classes present in it (macro-F1*), and the top-label
expected calibration error of predict_proba over 15 equal-width bins.

  /tmp/peers-venv/bin/python benches/loso_sklearn.py [--corpus PATH] [--split NAME]
                                                      [--source-field NAME] [--json]

Run from the repository root; the corpus defaults to ../shared/corpus/comments.jsonl. Make the
virtual environment with ../shared/bench/setup-peers.sh.
"""
import argparse
import json
import sys

LABELS = ["abusive", "off_topic", "substantive"]
ECE_BINS = 15


def read_rows(path, split, source_field):
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if split != "all" and r.get("split") != split:
                continue
            yield r["text"], r["label"], r.get(source_field)


def top_label_ece(proba, classes, truth):
    counts = [0] * ECE_BINS
    conf_sum = [0.0] * ECE_BINS
    correct = [0] * ECE_BINS
    for p, t in zip(proba, truth):
        k = max(range(len(p)), key=lambda i: (p[i], -i))
        conf = float(p[k])
        b = min(int(conf * ECE_BINS), ECE_BINS - 1)
        counts[b] += 1
        conf_sum[b] += conf
        correct[b] += classes[k] == t
    n = sum(counts)
    return sum(abs(correct[b] - conf_sum[b]) for b in range(ECE_BINS) if counts[b]) / n if n else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default="../shared/corpus/comments.jsonl")
    ap.add_argument("--split", default="train")
    ap.add_argument("--source-field", default="source")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.metrics import f1_score
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    rows = list(read_rows(args.corpus, args.split, args.source_field))
    sources = sorted({s for _, _, s in rows if s is not None})
    if len(sources) < 2:
        sys.exit(f"need rows from at least 2 sources, found {len(sources)}")
    results = []
    for source in sources:
        train = [(x, y) for x, y, s in rows if s != source]
        test = [(x, y) for x, y, s in rows if s == source]
        # peers.py's sklearn-nb: CountVectorizer() + MultinomialNB(alpha=1.0)
        model = make_pipeline(CountVectorizer(), MultinomialNB(alpha=1.0))
        model.fit([x for x, _ in train], [y for _, y in train])
        texts = [x for x, _ in test]
        truth = [y for _, y in test]
        pred = list(model.predict(texts))
        present = [l for l in LABELS if l in set(truth)]
        per = f1_score(truth, pred, labels=LABELS, average=None, zero_division=0)
        f1 = {l: float(v) for l, v in zip(LABELS, per) if l in present}
        proba = model.predict_proba(texts)
        results.append({
            "source": source,
            "n": len(test),
            "train_rows": len(train),
            "macro_f1_present": sum(f1.values()) / len(f1),
            "f1": f1,
            "ece": top_label_ece(proba, list(model.classes_), truth),
        })
    mean = sum(r["macro_f1_present"] for r in results) / len(results)
    if args.json:
        print(json.dumps({"peer": "sklearn-nb", "sources": results, "mean_macro_f1_present": mean}))
        return
    print(f"{'held-out source':<16} {'n':>6} {'train':>6} {'macro-F1*':>9} {'abusive':>9} "
          f"{'off_topic':>9} {'substantive':>11} {'ECE':>7}")
    for r in results:
        cell = lambda l: f"{r['f1'][l]:.4f}" if l in r["f1"] else "-"
        print(f"{r['source']:<16} {r['n']:>6} {r['train_rows']:>6} {r['macro_f1_present']:>9.4f} "
              f"{cell('abusive'):>9} {cell('off_topic'):>9} {cell('substantive'):>11} {r['ece']:>7.4f}")
    print(f"\nmean macro-F1* {mean:.4f}   (sklearn-nb: CountVectorizer() + MultinomialNB(alpha=1.0))")


if __name__ == "__main__":
    main()
