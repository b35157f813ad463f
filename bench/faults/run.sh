#!/bin/sh
# bench/faults/run.sh BINDIR: does a record in backoff stall ordered
# output? scg-turn -j 256 on N records (default 10,000) against scg-mock
# answering in 10..50 ms: without faults, with 1% 503s and with 1% 429s
# (--fail), each in input order (the default) and with --unordered.
# Rounds interleave the six runs (FAULTS_ROUNDS, default 5); the table
# gives median wall times and the ratios the targets name (ordered at most
# 1.3x --unordered and 2x the fault-free ordered run).
set -eu
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${FAULTS_N:-10000}
rounds=${FAULTS_ROUNDS:-5}
tmp=$(mktemp -d)
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$tmp"' EXIT INT TERM
# mock NAME [options]: a scg-mock of its own; its port in $tmp/NAME.port
mock() {
	name=$1
	shift
	"$bin/scg-mock" --port 0 --latency 10..50 "$@" >"$tmp/$name.port" 2>"$tmp/$name.err" &
	pids="$pids $!"
	i=0
	while [ ! -s "$tmp/$name.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
mock none
mock 503 --fail 503=0.01
mock 429 --fail 429=0.01
awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"id\":\"f%05d\",\"messages\":[{\"role\":\"user\",\"content\":\"Question %d: my order arrived damaged; how do I return it?\"}]}\n", i, i }' >"$tmp/in.jsonl"
export SCG_PROVIDER=openai SCG_MODEL=mock-1

sh "$root/bench/cpu.sh"
echo "$n records, scg-turn --no-cache -j 256, scg-mock --latency 10..50; medians of $rounds rounds"
echo
: >"$tmp/times"
r=0
while [ $r -lt "$rounds" ]; do
	for f in none 503 429; do
		for mode in ordered unordered; do
			flag=
			[ $mode = ordered ] || flag=--unordered
			export SCG_BASE_URL=http://127.0.0.1:$(head -n 1 "$tmp/$f.port")/v1
			t0=$(date +%s.%N)
			"$bin/scg-turn" -q --no-cache -j 256 $flag <"$tmp/in.jsonl" >"$tmp/out.jsonl"
			t1=$(date +%s.%N)
			[ "$(wc -l <"$tmp/out.jsonl")" -eq "$n" ] || { echo "bench: lost records ($f $mode)" >&2; exit 1; }
			echo "$f $mode $t0 $t1" | awk '{ printf "%s %s %.3f\n", $1, $2, $4 - $3 }' >>"$tmp/times"
		done
	done
	r=$((r + 1))
done
awk '
{ t[$1 " " $2, ++c[$1 " " $2]] = $3 }
function med(k,   i, j, m, a, x) { m = c[k]; for (i = 1; i <= m; i++) a[i] = t[k, i]
	for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
END {
	free = med("none ordered")
	printf "| faults | ordered s | --unordered s | ordered / unordered | ordered / fault-free ordered |\n"
	printf "|---|---:|---:|---:|---:|\n"
	split("none 503 429", fs, " ")
	for (i = 1; i <= 3; i++) {
		o = med(fs[i] " ordered"); u = med(fs[i] " unordered")
		printf "| %s | %.2f | %.2f | %.2f | %.2f |\n", fs[i] == "none" ? "none" : "1% " fs[i], o, u, o / u, o / free
	}
}' "$tmp/times"
