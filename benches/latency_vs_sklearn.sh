#!/usr/bin/env bash
# Single-call latency of comment-sieve's classify next to scikit-learn NB's per-call predict_proba,
# on the same texts (test split of ../shared/corpus), in one run:
#
#   benches/latency_vs_sklearn.sh [PASSES]
#
# Needs ../shared (corpus and bench/setup-peers.sh). Prints both JSON reports and the ratios of
# sklearn's percentiles to ours. The machine is shared and noisy: compare the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
passes=${1:-5}
shared=../shared
corpus=$shared/corpus/comments.jsonl
[ -f "$corpus" ] || { echo "latency_vs_sklearn: $corpus not found" >&2; exit 2; }
py=$("$shared/bench/setup-peers.sh")
model=${SKLEARN_NB_MODEL:-/tmp/sk-nb.model}
[ -f "$model" ] || "$py" "$shared/bench/peers.py" train sklearn-nb "$corpus" "$model"
out=$(mktemp -d)
cargo bench -q --bench latency -- --passes "$passes" > "$out/ours.json"
"$py" benches/latency_sklearn.py "$model" "$corpus" --passes "$passes" > "$out/sklearn.json"
echo "comment-sieve:"; cat "$out/ours.json"
echo "scikit-learn NB predict_proba:"; cat "$out/sklearn.json"
"$py" - "$out/ours.json" "$out/sklearn.json" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))["latency_ns"]
sk = json.load(open(sys.argv[2]))["latency_ns"]
print("percentile  comment-sieve(us)  sklearn(us)  sklearn/ours")
for q in ("p50", "p90", "p99", "p999"):
    print(f"{q:>10}  {ours[q]/1e3:17.1f}  {sk[q]/1e3:11.1f}  {sk[q]/ours[q]:12.0f}x")
PY
