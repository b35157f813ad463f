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
	# the demo's mock was stopped
	[ -z "$(pgrep -f "scg-mock --port 0 --latency 20..120")" ]
}
