#!/usr/bin/env bats
# make demo's script: the simulate workflow offline against scg-mock,
# from the top of the tree, as the README's first command runs it.

load helper

@test "the demo runs simulate on scg-mock and says where the conversations are" {
	cd "$BATS_TEST_DIRNAME/.."
	run env DEMO_OUT="$BATS_TEST_TMPDIR/demo" sh build-aux/demo.sh "$SCG_BIN"
	[ "$status" -eq 0 ]
	[[ "$output" == *"demo: 12 conversations"* ]]
	[[ "$output" == *"written to $BATS_TEST_TMPDIR/demo/conversations.jsonl"* ]]
	local f=$BATS_TEST_TMPDIR/demo/conversations.jsonl
	[ "$(wc -l <"$f")" -eq 12 ]
	# every conversation ended, by the judge or the limit, with its persona
	[ -z "$(jq -c 'select(.done != true or (.stop.by | IN("judge", "limit") | not) or (.persona.name | length) == 0)' "$f")" ]
	[ ! -s "$BATS_TEST_TMPDIR/demo/rejects.jsonl" ]
	# it ends with the report's path, and the report holds the 12
	[[ "${lines[-1]}" == "demo: the report (open it in a browser): $BATS_TEST_TMPDIR/demo/report.html" ]]
	grep -q '<!DOCTYPE html>' "$BATS_TEST_TMPDIR/demo/report.html"
	[ "$(grep -o '"id":"p[0-9]*\.c[0-9]*"' "$BATS_TEST_TMPDIR/demo/report.html" | sort -u | wc -l)" -eq 12 ]
	# the demo's mock was stopped
	[ -z "$(pgrep -f "scg-mock --port 0 --latency 20..120")" ]
}
