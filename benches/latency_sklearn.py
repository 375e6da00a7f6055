#!/usr/bin/env python3
"""Per-call latency of scikit-learn's predict_proba, the way benches/latency.rs measures
comment-sieve's classify: one text per call, the test split of the shared corpus, every text once
per pass in the same shuffled order (same xorshift permutation), the first pass a warm-up.

  latency_sklearn.py MODEL.pkl CORPUS_JSONL [--passes N]

MODEL.pkl is a pipeline made by `../shared/bench/peers.py train sklearn-nb ...`.
Prints one JSON object: {"latency_ns": {calls, p50, p90, p99, p999, max}}.
"""
import json, math, pickle, sys, time

MASK = (1 << 64) - 1


def shuffled(n):
    order = list(range(n))
    state = 0x9E3779B97F4A7C15
    for i in range(n - 1, 0, -1):
        state ^= (state << 13) & MASK
        state ^= state >> 7
        state ^= (state << 17) & MASK
        j = state % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def percentile(sorted_ns, q):
    if not sorted_ns:
        return 0
    rank = min(max(math.ceil(q * len(sorted_ns)), 1), len(sorted_ns))
    return sorted_ns[rank - 1]


def main():
    args = sys.argv[1:]
    passes = 5
    if "--passes" in args:
        k = args.index("--passes")
        passes = int(args[k + 1])
        del args[k : k + 2]
    model_path, corpus = args
    with open(model_path, "rb") as f:
        model = pickle.load(f)
    with open(corpus, encoding="utf-8") as f:
        texts = [r["text"] for r in map(json.loads, f) if r.get("split") == "test"]
    order = shuffled(len(texts))
    times = []
    clock = time.perf_counter_ns
    for p in range(passes + 1):
        for i in order:
            t = clock()
            model.predict_proba([texts[i]])
            ns = clock() - t
            if p > 0:
                times.append(ns)
    times.sort()
    print(json.dumps({
        "texts": f"{len(texts)} test-split comments of {corpus}",
        "passes": passes,
        "latency_ns": {
            "calls": len(times),
            "p50": percentile(times, 0.50),
            "p90": percentile(times, 0.90),
            "p99": percentile(times, 0.99),
            "p999": percentile(times, 0.999),
            "max": times[-1] if times else 0,
        },
    }, indent=2))


if __name__ == "__main__":
    main()
