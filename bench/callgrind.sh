#!/bin/sh
# bench/callgrind.sh BINDIR: the client's instructions per request, which,
# unlike CPU time, do not move with the load of a shared machine: scg-turn
# --no-cache -j 64 on N records (default 1,000) against scg-mock, under
# valgrind --tool=callgrind; total instructions (Ir) over N, as the
# figures before issue 21 were taken, and the marginal cost, (Ir at 2N -
# Ir at N) / N, which leaves out the start (dynamic linking, libcurl and
# TLS set-up: about 17 million). Once through scg's own HTTP/1.1 client,
# which takes http:// URLs, and once through libcurl (SCG_HTTP=curl), which
# takes https and proxies. Set CALLGRIND_OUT=FILE to keep the profiles of
# the N runs (FILE.own and FILE.curl; callgrind_annotate FILE.own).
set -eu
bin=$(cd "$1" && pwd)
n=${CALLGRIND_N:-1000}
tmp=$(mktemp -d)
trap 'kill ${mock:-} 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
. "$(dirname "$0")/mock.sh"
bench_mock "$bin" "$tmp"
awk -v n="$((2 * n))" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"id\":\"b%05d\",\"messages\":[{\"role\":\"user\",\"content\":\"Question %d: my order arrived damaged and the box was open; how do I return it and get a refund before the weekend?\"}]}\n", i, i }' >"$tmp/in2.jsonl"
head -n "$n" "$tmp/in2.jsonl" >"$tmp/in.jsonl"
# ir FILE OUT: instructions of scg-turn on FILE, profile in OUT
ir() {
	valgrind --tool=callgrind --callgrind-out-file="$2" "$bin/scg-turn" -q --no-cache -j 64 \
		<"$1" >"$tmp/out.jsonl" 2>"$tmp/vg.err"
	[ "$(wc -l <"$tmp/out.jsonl")" -eq "$(wc -l <"$1")" ] || { echo "bench: lost records" >&2; exit 1; }
	sed -n 's/^summary: *//p' "$2" | head -n 1
}
# http:// goes through scg's own HTTP/1.1 client (lib/exec-h1.c); the same
# through libcurl, as https and proxies go, with SCG_HTTP=curl
for via in own curl; do
	if [ $via = curl ]; then export SCG_HTTP=curl; fi
	a=$(ir "$tmp/in.jsonl" "${CALLGRIND_OUT:-$tmp/callgrind.out}.$via")
	b=$(ir "$tmp/in2.jsonl" "$tmp/callgrind2.out")
	awk -v a="$a" -v b="$b" -v n="$n" -v via="$via" 'BEGIN { printf "callgrind (%s HTTP client): %d requests at -j 64: %.1f million instructions, %.1fk a request; %d requests: %.1f million; marginal %.1fk a request\n", via == "own" ? "scg'"'"'s own" : "libcurl'"'"'s", n, a / 1e6, a / n / 1e3, 2 * n, b / 1e6, (b - a) / n / 1e3 }'
done
