#!/usr/bin/env bash
# Training time, side by side in one hyperfine run: `comment-sieve train` (release build) against
# the sklearn-nb peer (`peers.py train sklearn-nb`: CountVectorizer + MultinomialNB), both on the
# train split of ../shared/corpus/comments.jsonl, process start to model file written.
# Prints the ratio of medians (sklearn / comment-sieve: above 1 means comment-sieve is faster).
#
# comment-sieve trains on all cores by default; a third command, `--threads 1`, gives the
# single-threaded figure (sklearn-nb trains on one thread).
#
# Usage (from the repository root):  benches/train_vs_sklearn.sh
# Environment: CARGO_TARGET_DIR (default ./target), PEERS_PYTHON (default /tmp/peers-venv/bin/python,
# made with ../shared/bench/setup-peers.sh if absent), OUT_DIR (default /tmp/train-vs-sklearn).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

corpus=../shared/corpus/comments.jsonl
peers=../shared/bench/peers.py
if [ ! -f "$corpus" ] || [ ! -f "$peers" ]; then
    echo "train_vs_sklearn.sh: ../shared is missing ($corpus and $peers are needed, next to the repository); nothing to compare against" >&2
    exit 1
fi
command -v hyperfine >/dev/null || { echo "train_vs_sklearn.sh: hyperfine is needed" >&2; exit 1; }
command -v jq >/dev/null || { echo "train_vs_sklearn.sh: jq is needed" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
py=${PEERS_PYTHON:-/tmp/peers-venv/bin/python}
if [ ! -x "$py" ]; then
    echo "train_vs_sklearn.sh: $py not found; running ../shared/bench/setup-peers.sh" >&2
    py=$(../shared/bench/setup-peers.sh | tail -n 1)
fi
out=${OUT_DIR:-/tmp/train-vs-sklearn}
mkdir -p "$out"

echo "== cargo build --release" >&2
cargo build --release --bin comment-sieve >&2
bin="$CARGO_TARGET_DIR/release/comment-sieve"

hyperfine --warmup 1 --runs 5 --export-json "$out/hyperfine.json" \
    -n comment-sieve "$bin train $corpus --split train -o /tmp/cs.model" \
    -n comment-sieve-1-thread "$bin --threads 1 train $corpus --split train -o /tmp/cs1.model" \
    -n sklearn-nb "$py $peers train sklearn-nb $corpus /tmp/sk.model"

median() { jq --arg n "$1" '.results[] | select(.command == $n) | .median' "$out/hyperfine.json"; }
cs=$(median comment-sieve)
cs1=$(median comment-sieve-1-thread)
sk=$(median sklearn-nb)
echo
echo "medians (s): comment-sieve $cs, comment-sieve --threads 1 $cs1, sklearn-nb $sk"
jq -r '
  [.results[] | {(.command): .median}] | add as $m
  | "training speed ratio (sklearn-nb median / comment-sieve median): \($m["sklearn-nb"] / $m["comment-sieve"] * 1000 | round / 1000)x",
    "  with comment-sieve --threads 1:                             \($m["sklearn-nb"] / $m["comment-sieve-1-thread"] * 1000 | round / 1000)x"
' "$out/hyperfine.json"
echo "(hyperfine JSON: $out/hyperfine.json)"
