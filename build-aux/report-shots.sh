#!/bin/sh
# The screenshots of scg-report's page in docs/ (shown in README.md): a
# report of the records the four pipelines wrote against scg-mock
# (test/fixtures/stats), drawn by headless chromium from the file.
# Usage: build-aux/report-shots.sh BINDIR; REPORT_SHOTS_OUT=DIR writes elsewhere.
set -eu
bin=$(cd "$1" && pwd)
out=${REPORT_SHOTS_OUT:-docs}
mkdir -p "$out"
out=$(cd "$out" && pwd)
fx=$(cd "$(dirname "$0")/../test/fixtures/stats" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
"$bin/scg-report" -q --title "scg report: the four workflows against scg-mock" -o "$tmp/report.html" \
	"$fx/simulate.jsonl" "$fx/seed-messages.jsonl" "$fx/knowledge.jsonl" "$fx/character.jsonl" \
	"$fx/dpo.jsonl" "$fx/health.jsonl" "$fx/rejects.jsonl"
shot() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-extensions --user-data-dir="$tmp/chrome" --hide-scrollbars \
		--window-size="$1" --screenshot="$out/$2" "file://$tmp/report.html$3" 2>/dev/null
}
shot 1280,1500 report-overview.png ''
shot 1280,860 report-records.png '#tab=records&id=s0001'
# the judge's verdicts of two versions of an assistant, compared
(cd "$fx" && "$bin/scg-report" -q --title "scg report: version B against version A" --compare \
	-o "$tmp/report.html" eval-a.jsonl eval-b.jsonl)
shot 1280,900 report-compare.png ''
