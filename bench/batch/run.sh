#!/bin/sh
# bench/batch: what --batch saves on the shipped examples. The knowledge and
# character pipelines run against scg-mock three times, each with an empty
# cache: online, with --batch (re-asks online), and with --batch
# --batch-retry batch (re-asks batched too); the cost is the sum of the stages' summaries (-v), priced
# as gpt-4o (SCG_PRICES). Prints a markdown table.
set -eu
bin=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'kill ${mock:-} 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
. "$(dirname "$0")/../mock.sh"
bench_mock "$bin" "$tmp" --batch-time 200
export PATH="$bin:$root/pipelines:$PATH" SCG_BATCH_POLL=0.05..0.2
printf 'mock-1: {input: 2.50, output: 10.00}\n' >"$tmp/prices.yaml"
export SCG_PRICES=$tmp/prices.yaml

# run NAME ARGS...: "requests tokens cost" summed over the stages' summaries
run() {
	name=$1
	shift
	SCG_CACHE=$tmp/cache-$name "$@" -v -o "$tmp/out-$name" 2>"$tmp/err-$name" >/dev/null || true
	grep -E '^scg-[a-z]+: mock-1: ' "$tmp/err-$name" | awk '
		{ for (i = 1; i <= NF; i++) {
			if ($(i + 1) == "requests" || $(i + 1) == "requests,") r += $i
			if ($(i + 1) == "prompt") t += $i
			if ($(i + 1) == "completion") t += $i
		  }
		  c += substr($NF, 2) }
		END { printf "%d %d %.6f\n", r, t, c }'
}

echo "| pipeline | requests | tokens online | tokens batched | cost online | --batch | ratio | --batch --batch-retry batch | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for p in knowledge character; do
	if [ $p = knowledge ]; then
		set -- knowledge -k "$root/examples/knowledge" -s "$root/examples/knowledge/strategy.json" -n 2 -t 3
	else
		set -- character -c "$root/examples/character/card.yaml" -p "$root/examples/character/profile.txt" -k 2 --dpo 2 -t 3
	fi
	on=$(run "$p-online" "$@")
	ba=$(run "$p-batch" "$@" --batch)
	bb=$(run "$p-batch-retry" "$@" --batch --batch-retry batch)
	echo "$on $ba $bb" | awk -v p="$p" '{ printf "| %s | %d | %d | %d | $%.4f | $%.4f | %.3f | $%.4f | %.3f |\n",
		p, $1, $2, $8, $3, $6, $6 / $3, $9, $9 / $3 }'
done
