#!/bin/sh
# The model client against scg-mock with 100 ms latency: 5,000 records at
# -j 256 (throughput over the ideal jobs / latency, CPU per request, peak
# RSS), then -j 1 for the sequential ratio. Medians of 3 runs.
set -eu
bin=$(cd "$1" && pwd)
out=bench/out/client
mkdir -p "$out"
n=${N:-5000}
n1=${N1:-50}
trap 'kill ${mock:-} 2>/dev/null' EXIT
. "$(dirname "$0")/mock.sh"
bench_mock "$bin" "$out" --latency 100
awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"id\":\"b%05d\",\"messages\":[{\"role\":\"user\",\"content\":\"Question %d: my order arrived damaged and the box was open; how do I return it and get a refund before the weekend?\"}]}\n", i, i }' >"$out/in.jsonl"

run() { # jobs records -> "elapsed user sys maxrss_kb"
	head -n "$2" "$out/in.jsonl" >"$out/in.$2.jsonl"
	/usr/bin/time -f '%e %U %S %M' -o "$out/time" "$bin/scg-turn" -q --no-cache -j "$1" \
		<"$out/in.$2.jsonl" >"$out/out.jsonl"
	[ "$(wc -l <"$out/out.jsonl")" -eq "$2" ] || { echo "bench: lost records" >&2; exit 1; }
	cat "$out/time"
}
median() { sort -n | sed -n 2p; }

for i in 1 2 3; do run 256 "$n"; done >"$out/j256"
for i in 1 2 3; do run 1 "$n1"; done >"$out/j1"

awk -v n="$n" -v n1="$n1" '
FNR == 1 { f++ }
f == 1 { e[FNR] = $1; c[FNR] = ($2 + $3) / n * 1e6; r[FNR] = $4 / 1024 }
f == 2 { e1[FNR] = $1 }
function med(a,   x, y, z) { x = a[1]; y = a[2]; z = a[3]
	if ((x <= y && y <= z) || (z <= y && y <= x)) return y
	if ((y <= x && x <= z) || (z <= x && x <= y)) return x
	return z }
END {
	el = med(e); rps = n / el; ideal = 256 / 0.1
	el1 = med(e1); rps1 = n1 / el1
	printf "| run | records | wall s (median of 3) | req/s | of ideal | client CPU µs/req | peak RSS MB |\n"
	printf "|---|---|---|---|---|---|---|\n"
	printf "| -j 256 | %d | %.2f | %.0f | %.3f | %.1f | %.1f |\n", n, el, rps, rps / ideal, med(c), med(r)
	printf "| -j 1 | %d | %.2f | %.1f | %.3f | | |\n", n1, el1, rps1, rps1 / 10
	printf "\nSpeed-up of -j 256 over -j 1: %.0fx\n", rps / rps1
}' "$out/j256" "$out/j1"
