#!/usr/bin/env bash
# End-to-end dump scoring, side by side in one hyperfine run: `comment-sieve score` (read JSONL,
# classify, write JSONL) against `peers.py score sklearn-nb` and `peers.py score fasttext` on the
# same dump made by ../shared/bench/make_dump.py. Prints the ratios of medians, then the peak RSS
# of comment-sieve at each dump size (to check that memory does not grow with the input).
#
# Usage (from the repository root):  benches/score_vs_peers.sh
# Environment: SIZES (default "200000 1000000": dump sizes; the peers run on the first only),
# RUNS (default 5), CARGO_TARGET_DIR, PEERS_PYTHON (default /tmp/peers-venv/bin/python),
# OUT_DIR (default /tmp/score-vs-peers), PEERS (default "sklearn-nb fasttext").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

corpus=../shared/corpus/comments.jsonl
bench=../shared/bench
if [ ! -f "$corpus" ] || [ ! -f "$bench/peers.py" ]; then
    echo "score_vs_peers.sh: ../shared is missing ($corpus and $bench/peers.py are needed)" >&2
    exit 1
fi
for tool in hyperfine jq /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "score_vs_peers.sh: $tool is needed" >&2; exit 1; }
done

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
py=${PEERS_PYTHON:-/tmp/peers-venv/bin/python}
[ -x "$py" ] || py=$("$bench/setup-peers.sh" | tail -n 1)
out=${OUT_DIR:-/tmp/score-vs-peers}
sizes=${SIZES:-"200000 1000000"}
runs=${RUNS:-5}
peers=${PEERS:-"sklearn-nb fasttext"}
mkdir -p "$out"

echo "== cargo build --release" >&2
cargo build --release --bin comment-sieve >&2
bin="$CARGO_TARGET_DIR/release/comment-sieve"

for size in $sizes; do
    [ -f "$out/dump$size.jsonl" ] || "$py" "$bench/make_dump.py" "$corpus" "$size" "$out/dump$size.jsonl"
done
first=$(echo "$sizes" | awk '{print $1}')
dump="$out/dump$first.jsonl"

commands=(-n comment-sieve "$bin score $dump -o $out/cs.out.jsonl -q")
for peer in $peers; do
    [ -f "$out/$peer.model" ] || "$py" "$bench/peers.py" train "$peer" "$corpus" "$out/$peer.model"
    commands+=(-n "$peer" "$py $bench/peers.py score $peer $out/$peer.model $dump $out/$peer.out.jsonl")
done

hyperfine --warmup 1 --runs "$runs" --export-json "$out/hyperfine.json" "${commands[@]}"

echo
echo "dump: $dump ($(wc -l < "$dump") comments)"
jq -r '
  [.results[] | {(.command): .median}] | add as $m
  | ($m | to_entries[] | "median \(.key): \(.value * 1000 | round / 1000) s"),
    ($m | to_entries[] | select(.key != "comment-sieve")
        | "ratio \(.key) / comment-sieve: \(.value / $m["comment-sieve"] * 10 | round / 10)x")
' "$out/hyperfine.json"

echo
for size in $sizes; do
    rss=$( { /usr/bin/time -f "%M" "$bin" score "$out/dump$size.jsonl" -o "$out/cs.rss.jsonl" -q; } 2>&1 | tail -n 1)
    lines_in=$(wc -l < "$out/dump$size.jsonl")
    lines_out=$(wc -l < "$out/cs.rss.jsonl")
    echo "comment-sieve at $size comments: peak RSS $((rss / 1024)) MiB; $lines_in lines in, $lines_out records out"
done
