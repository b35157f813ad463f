#!/bin/sh
# bench/personas: prompt tokens a persona costs as N grows, read from the
# records' meta.usage against scg-mock. scg-personas lists earlier personas
# as one-line summaries; the baseline resends every earlier full card (the
# same prompt with {{previous_cards}}, full-cards.txt). Prints a markdown table.
set -eu
bin=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'kill ${mock:-} 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
. "$(dirname "$0")/../mock.sh"
bench_mock "$bin" "$tmp"

# per_persona N [options]: mean prompt tokens per persona over N personas
per_persona() {
	n=$1
	shift
	"$bin/scg-personas" -q --no-cache -a "$root/examples/assistant.yaml" -n "$n" "$@" |
		jq -s 'map(.meta.usage["mock-1"].prompt_tokens // 0) | add / length'
}

echo "| N | prompt tokens per persona (summaries) | resending full cards | ratio | with --per-request 5 |"
echo "|---:|---:|---:|---:|---:|"
for n in 10 50 200; do
	s=$(per_persona "$n")
	f=$(per_persona "$n" --prompt "personas=$here/full-cards.txt")
	b=$(per_persona "$n" --per-request 5)
	awk -v n="$n" -v s="$s" -v f="$f" -v b="$b" \
		'BEGIN { printf "| %d | %.0f | %.0f | %.2f | %.0f |\n", n, s, f, s / f, b }'
done

echo
sh "$here/ahead.sh" "$bin"
