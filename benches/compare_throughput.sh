#!/usr/bin/env bash
# Scoring throughput, side by side in one run: comment-sieve's `classify_batch` (criterion,
# `cargo bench --bench classify`, rayon pools of 1 and 2 threads) against the sklearn-nb peer's
# `transform` + `predict_proba` (benches/compare_sklearn.py, one Python process), on the test
# split of ../shared/corpus/comments.jsonl. Prints the ratios of our comments/s to sklearn's.
#
# The Python measurement runs once before and once after the criterion run; sklearn's figure is
# the median over the repeats of both, so drift on a noisy machine hits both sides alike.
#
# Usage (from the repository root):  benches/compare_throughput.sh
# Environment: CARGO_TARGET_DIR (default ./target), PEERS_PYTHON (default /tmp/peers-venv/bin/python,
# made with ../shared/bench/setup-peers.sh if absent), OUT_DIR (default /tmp/compare-throughput),
# REPEATS (Python repeats per run, default 9).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

corpus=../shared/corpus/comments.jsonl
peers=../shared/bench/peers.py
if [ ! -f "$corpus" ] || [ ! -f "$peers" ]; then
    echo "compare_throughput.sh: ../shared is missing ($corpus and $peers are needed, next to the repository); nothing to compare against" >&2
    exit 1
fi
command -v jq >/dev/null || { echo "compare_throughput.sh: jq is needed" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
py=${PEERS_PYTHON:-/tmp/peers-venv/bin/python}
if [ ! -x "$py" ]; then
    echo "compare_throughput.sh: $py not found; running ../shared/bench/setup-peers.sh" >&2
    py=$(../shared/bench/setup-peers.sh | tail -n 1)
fi
out=${OUT_DIR:-/tmp/compare-throughput}
repeats=${REPEATS:-9}
mkdir -p "$out"
crit="$CARGO_TARGET_DIR/criterion"

echo "== building the bench" >&2
cargo bench --bench classify --no-run >&2

# Idle share of all cores over 2 s, from /proc/stat: other load skews the 2-thread figure most.
idle_pct() {
    local a b
    read -r -a a < <(grep '^cpu ' /proc/stat)
    sleep 2
    read -r -a b < <(grep '^cpu ' /proc/stat)
    local total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    echo $(((b[4] + b[5] - a[4] - a[5]) * 100 / (total > 0 ? total : 1)))
}
idle_start=$(idle_pct)
echo "== sklearn-nb, run 1" >&2
"$py" benches/compare_sklearn.py --repeats "$repeats" >"$out/sklearn-1.json"
echo "== cargo bench --bench classify" >&2
rm -rf "$crit/classify_batch" "$crit/classify_single"
cargo bench --bench classify -- --noplot 2>&1 | tee "$out/criterion.log" >&2
echo "== sklearn-nb, run 2" >&2
"$py" benches/compare_sklearn.py --repeats "$repeats" >"$out/sklearn-2.json"
idle_end=$(idle_pct)

# One line per criterion benchmark: id, elements per iteration, median ns per iteration.
for id in classify_batch/threads_1 classify_batch/threads_2 classify_single/call; do
    est="$crit/$id/new/estimates.json"
    meta="$crit/$id/new/benchmark.json"
    if [ ! -f "$est" ] || [ ! -f "$meta" ]; then
        echo "compare_throughput.sh: $est or $meta missing after the criterion run" >&2
        exit 1
    fi
    printf '%s %s %s %s %s\n' "$id" "$(jq '.throughput.Elements' "$meta")" \
        "$(jq '.median.point_estimate' "$est")" \
        "$(jq '.median.confidence_interval.lower_bound' "$est")" \
        "$(jq '.median.confidence_interval.upper_bound' "$est")"
done >"$out/criterion-medians.txt"

"$py" - "$out" "$idle_start" "$idle_end" <<'EOF'
import json, statistics, sys
out, idle_start, idle_end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sk = [json.load(open(f"{out}/sklearn-{i}.json")) for i in (1, 2)]
n_sk = sk[0]["n_texts"]
times = sk[0]["seconds"]["all"] + sk[1]["seconds"]["all"]
sk_cps = n_sk / statistics.median(times)
crit = {}
for line in open(f"{out}/criterion-medians.txt"):
    name, n, med, lo, hi = line.split()
    crit[name] = (int(n), float(med), float(lo), float(hi))
n_rs = crit["classify_batch/threads_1"][0]
if n_rs != n_sk:
    sys.exit(f"compare_throughput.sh: the bench scored {n_rs} texts but sklearn {n_sk}: "
             "did the bench fall back to the fixtures?")
result = {
    "texts": n_sk,
    "sklearn_nb": {
        "comments_per_s_median": sk_cps,
        "run_medians_comments_per_s": [s["comments_per_s"]["median"] for s in sk],
        "repeats": len(times),
    },
}
print(f"test-split texts: {n_sk}")
print(f"sklearn-nb transform+predict_proba: median {sk_cps:,.0f} comments/s "
      f"(runs before/after: {sk[0]['comments_per_s']['median']:,.0f} / "
      f"{sk[1]['comments_per_s']['median']:,.0f}; {len(times)} repeats)")
for threads in (1, 2):
    n, med, lo, hi = crit[f"classify_batch/threads_{threads}"]
    cps = n / (med * 1e-9)
    ratio = cps / sk_cps
    result[f"classify_batch_threads_{threads}"] = {
        "median_ns_per_batch": med, "comments_per_s": cps, "ratio_vs_sklearn": ratio,
        "comments_per_s_ci95": [n / (hi * 1e-9), n / (lo * 1e-9)]}
    print(f"comment-sieve classify_batch, {threads} thread(s): median {cps:,.0f} comments/s "
          f"(95% CI {n / (hi * 1e-9):,.0f}..{n / (lo * 1e-9):,.0f}) -> "
          f"{ratio:.2f}x sklearn-nb")
_, med, lo, hi = crit["classify_single/call"]
result["classify_single_call"] = {"median_ns": med, "ci95_ns": [lo, hi]}
print(f"comment-sieve classify, single call on one thread: median {med / 1000:.2f} us "
      f"(95% CI {lo / 1000:.2f}..{hi / 1000:.2f} us)")
result["cpu_idle_percent"] = {"before": idle_start, "after": idle_end}
print(f"CPU idle just before / after the measurements: {idle_start}% / {idle_end}%")
if min(idle_start, idle_end) < 90:
    print("warning: other processes were using the CPU; the 2-thread figure suffers most. Rerun when idle.")
with open(f"{out}/summary.json", "w") as f:
    json.dump(result, f, indent=1)
print(f"(raw files and summary.json in {out})")
EOF
