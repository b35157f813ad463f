#!/bin/sh
# bench/personas/ahead.sh BINDIR: wall time to N personas (default 200)
# one request after another against --ahead K, with scg-mock answering in
# 300..800 ms (its "realistic speed"), and the share of near-duplicate
# personas: descriptions that scg-dedup's MinHash estimate (--no-verify,
# word 3-grams as scg-personas compares them) puts at Jaccard >= 0.6 of an
# earlier one. Variables: PERSONAS_N, PERSONAS_AHEAD (default "1 4 16"),
# PERSONAS_ROUNDS (default 3), PERSONAS_LATENCY (default 300..800).
# Prints a markdown table of medians.
set -eu
bin=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n=${PERSONAS_N:-200}
rounds=${PERSONAS_ROUNDS:-3}
lat=${PERSONAS_LATENCY:-300..800}
tmp=$(mktemp -d)
trap 'kill ${mock:-} 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
. "$(dirname "$0")/../mock.sh"
bench_mock "$bin" "$tmp" --latency "$lat"

sh "$root/bench/cpu.sh"
echo "$n personas, scg-mock --latency $lat, median of $rounds runs"
echo
echo "| --ahead | wall s (median) | × sequential | requests (re-asks) | near duplicates (MinHash, J ≥ 0.6) |"
echo "|---:|---:|---:|---:|---:|"
base=
for k in ${PERSONAS_AHEAD:-1 4 16}; do
	: >"$tmp/walls"
	r=0
	while [ $r -lt "$rounds" ]; do
		t0=$(date +%s.%N)
		"$bin/scg-personas" -q --no-cache --seed "$r" -a "$root/examples/assistant.yaml" -n "$n" \
			--ahead "$k" >"$tmp/p.jsonl"
		t1=$(date +%s.%N)
		echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }' >>"$tmp/walls"
		r=$((r + 1))
	done
	wall=$(sort -n "$tmp/walls" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	[ -n "$base" ] || base=$wall
	reqs=$(jq -s 'map(.meta.usage["mock-1"].requests // 0) | add' "$tmp/p.jsonl")
	kept=$("$bin/scg-dedup" -q --no-verify --key persona.description --ngram 3 --threshold 0.6 \
		"$tmp/p.jsonl" | wc -l)
	awk -v k="$k" -v w="$wall" -v b="$base" -v q="$reqs" -v n="$n" -v kept="$kept" \
		'BEGIN { printf "| %d | %.1f | %.3f | %d (%d) | %d of %d (%.3f) |\n", k, w, w / b, q, q - n, n - kept, n, (n - kept) / n }'
done
