#!/usr/bin/env python3
"""Scoring throughput of the sklearn-nb peer, for comparison with `cargo bench --bench classify`.

Trains sklearn-nb exactly as ../shared/bench/peers.py does (it calls peers.train: CountVectorizer()
+ MultinomialNB(alpha=1.0) fitted on the corpus' train split), then times the pipeline's
`predict_proba` (= CountVectorizer.transform + MultinomialNB.predict_proba) on the test-split
texts, in this one process, several times. Prints one JSON object with the best and median
comments per second.

  /tmp/peers-venv/bin/python benches/compare_sklearn.py [--corpus PATH] [--peers PATH]
                                                         [--repeats N] [--warmup N]

Run from the repository root; the defaults are ../shared/corpus/comments.jsonl and
../shared/bench/peers.py. BLAS/OpenMP pools are limited to one thread unless the environment
already says otherwise (sparse scoring does not use them anyway).
"""
import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")


def load_peers(path):
    spec = importlib.util.spec_from_file_location("peers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="../shared/corpus/comments.jsonl")
    ap.add_argument("--peers", default="../shared/bench/peers.py")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    for path in (args.corpus, args.peers):
        if not os.path.isfile(path):
            sys.exit(f"compare_sklearn.py: {path} not found (run from the repository root, "
                     "with ../shared present)")
    if args.repeats < 1:
        sys.exit("compare_sklearn.py: --repeats must be at least 1")

    peers = load_peers(args.peers)
    texts = [r["text"] for r in peers.rows(args.corpus) if r.get("split") == "test"]
    if not texts:
        sys.exit(f"compare_sklearn.py: no test-split rows in {args.corpus}")

    with tempfile.TemporaryDirectory() as tmp:
        model_path = os.path.join(tmp, "sk-nb.model")
        t0 = time.perf_counter()
        peers.train("sklearn-nb", args.corpus, model_path)
        train_s = time.perf_counter() - t0
        model = peers.load("sklearn-nb", model_path)

    vectorizer, nb = model.steps[0][1], model.steps[-1][1]

    def score():
        return model.predict_proba(texts)

    for _ in range(args.warmup):
        score()
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        probs = score()
        times.append(time.perf_counter() - t0)
    assert probs.shape == (len(texts), len(model.classes_))

    # The two stages apart, for information (same number of repeats, medians).
    X = vectorizer.transform(texts)
    t_transform, t_proba = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        vectorizer.transform(texts)
        t_transform.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        nb.predict_proba(X)
        t_proba.append(time.perf_counter() - t0)

    import numpy
    import scipy
    import sklearn

    n = len(texts)
    best, median = min(times), statistics.median(times)
    print(json.dumps({
        "peer": "sklearn-nb",
        "measured": "pipeline.predict_proba(texts) = CountVectorizer.transform + MultinomialNB.predict_proba",
        "corpus": args.corpus,
        "split": "test",
        "n_texts": n,
        "repeats": args.repeats,
        "seconds": {"best": best, "median": median, "all": times},
        "comments_per_s": {"best": n / best, "median": n / median},
        "stage_median_seconds": {
            "transform": statistics.median(t_transform),
            "predict_proba": statistics.median(t_proba),
        },
        "vocabulary_size": len(vectorizer.vocabulary_),
        "train_seconds_in_process": train_s,
        "versions": {"python": sys.version.split()[0], "sklearn": sklearn.__version__,
                     "numpy": numpy.__version__, "scipy": scipy.__version__},
    }))


if __name__ == "__main__":
    main()
