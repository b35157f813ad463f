#!/bin/sh
# bench/report: scg-report on 10,000 conversations (the simulate and
# seed-messages fixtures repeated under new ids): the time to write the
# page, its size, and in headless chromium the time from the start of the
# navigation until the page has drawn its summary and the first rows of the
# list (performance.now() at the end of the page's first render, which the
# page leaves in <html data-render-ms>), and the whole browser run against
# a blank page's. Medians of 5. Prints a markdown table.
set -eu
bin=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
fx=$(cd "$here/../../test/fixtures/stats" && pwd)
n=${REPORT_BENCH_N:-10000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cat "$fx/simulate.jsonl" "$fx/seed-messages.jsonl" >"$tmp/base.jsonl"
per=$(wc -l <"$tmp/base.jsonl")
i=0
while [ $((i * per)) -lt "$n" ]; do cat "$tmp/base.jsonl"; i=$((i + 1)); done |
	head -n "$n" | jq -c '.id = "c\(input_line_number)"' >"$tmp/in.jsonl"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }
chrome() {
	timeout 300 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-extensions --user-data-dir="$tmp/chrome" "$@" 2>/dev/null
}

for r in 1 2 3 4 5; do
	s=$(now); "$bin/scg-report" -q -o "$tmp/r.html" "$tmp/in.jsonl"; e=$(now)
	echo "$e - $s" | bc
done | median >"$tmp/write"
echo '<!DOCTYPE html><p>blank</p>' >"$tmp/blank.html"
for r in 1 2 3 4 5; do
	s=$(now); chrome --dump-dom "file://$tmp/blank.html" >/dev/null; e=$(now)
	echo "$e - $s" | bc
done | median >"$tmp/blank"
for r in 1 2 3 4 5; do
	s=$(now); chrome --dump-dom "file://$tmp/r.html" >"$tmp/dom.html"; e=$(now)
	echo "$e - $s" | bc >>"$tmp/wall"
	sed -n 's/.*data-render-ms="\([0-9]*\)".*/\1/p' "$tmp/dom.html" | head -n 1
done | median >"$tmp/paint"
wall=$(median <"$tmp/wall")
rows=$(grep -o 'class="row' "$tmp/dom.html" | wc -l)
echo "| conversations | page | scg-report | first render in the page | chromium run (blank page) | rows in the DOM |"
echo "|---:|---:|---:|---:|---:|---:|"
printf '| %s | %.1f MB | %.2f s | %s ms | %.2f s (%.2f s) | %s |\n' "$n" \
	"$(echo "$(stat -c %s "$tmp/r.html") / 1000000" | bc -l)" "$(cat "$tmp/write")" \
	"$(cat "$tmp/paint")" "$wall" "$(cat "$tmp/blank")" "$rows"
