#!/usr/bin/env bats
# How scg-turn retries a failed request (docs/providers.md "Retries", lib/exec-request.c):
# the server's retry hints, the statuses retried, and the 429s that are not.
# Timings are lower bounds only.

load helper

# mock_script LINES: scg-mock answers the script LINES, one outcome a line.
mock_script() {
	printf '%s\n' "$1" >script
	mock_start --script script
}

scg_turn() { scg-turn -q -j 1 --rejects rej.jsonl "$@" in.jsonl 2>>stderr.txt; }

# turn [scg-turn options]: one run of scg-turn, one request at a time, on
# in.jsonl (one record unless the test wrote it), rejects in rej.jsonl,
# warnings in stderr.txt. Sets status and output (standard output), and
# elapsed to the seconds the run took.
turn() {
	[ -f in.jsonl ] || echo '{"id":"r1","messages":[{"role":"user","content":"hi"}]}' >in.jsonl
	local t0 t1
	t0=$(date +%s.%N)
	run scg_turn "$@"
	t1=$(date +%s.%N)
	elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
}

# at_least SECONDS: the run took at least that long.
at_least() {
	echo "elapsed $elapsed s, want at least $1 s" >&2
	awk -v e="$elapsed" -v min="$1" 'BEGIN { exit !(e >= min) }'
}

# two_records: in.jsonl holds records a and b.
two_records() {
	printf '%s\n' '{"id":"a","messages":[{"role":"user","content":"hi"}]}' \
		'{"id":"b","messages":[{"role":"user","content":"yo"}]}' >in.jsonl
}

# reasons: each reject's id and the start of its reason ("a HTTP 429 ").
reasons() { jq -r '.id + " " + .error.reason[0:8]' rej.jsonl | tr '\n' ' '; }

outcomes() { jq -r .outcome "$MOCK_LOG" | tr '\n' ' '; }

@test "retry-after-ms is waited out on a 429 and a 503, and wins over a shorter retry-after" {
	two_records
	mock_script '429 retry-after-ms=1500 retry-after=1
ok
503 retry-after-ms=1500 retry-after=1
ok'
	turn
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.id + " " + .messages[1].role' | tr '\n' ' ')" = "a assistant b assistant " ]
	[ "$(outcomes)" = "429 ok 503 ok " ]
	at_least 3
}

@test "a retry-after given as an HTTP date is waited out until that time" {
	mock_script '429 retry-after-date=3
ok'
	turn
	[ "$status" -eq 0 ]
	[ "$(outcomes)" = "429 ok " ]
	at_least 3
}

@test "x-should-retry: true makes a 400 retried" {
	mock_script '400 should-retry=true
ok'
	turn
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.messages | length')" -eq 2 ]
	[ "$(outcomes)" = "400 ok " ]
	[ ! -s rej.jsonl ]
}

@test "x-should-retry: false stops the retry of a 429 and of a 503" {
	two_records
	mock_script '429 should-retry=false
503 should-retry=false'
	turn
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$(reasons)" = "a HTTP 429 b HTTP 503 " ]
	[ "$(mock_requests)" -eq 2 ]
}

@test "a retry-after above 120 s gives up at once: no retry, the record in the rejects" {
	two_records
	mock_script '429 retry-after=121
503 retry-after-ms=150000'
	turn
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	# refused on the spot, not "gave up after N retries"
	[ "$(reasons)" = "a HTTP 429 b HTTP 503 " ]
	[ "$(mock_requests)" -eq 2 ]
}

@test "408 and 409 are retried" {
	mock_script '408
409
ok'
	turn
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.messages | length')" -eq 2 ]
	[ "$(outcomes)" = "408 409 ok " ]
}

@test "a 429 for an exhausted quota or a request too large is not retried" {
	two_records
	mock_script 'quota
toolarge'
	turn
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$(jq -r .id rej.jsonl | tr '\n' ' ')" = "a b " ]
	[[ "$(sed -n 1p rej.jsonl | jq -r .error.reason)" == "HTTP 429: "*quota* ]]
	[[ "$(sed -n 2p rej.jsonl | jq -r .error.reason)" == "HTTP 429: Request too large"* ]]
	[ "$(mock_requests)" -eq 2 ]
}

@test "Anthropic's enforced spend limit 429 is not retried" {
	mock_script 'quota'
	turn --provider anthropic --base-url "$MOCK_URL" --model claude-mock
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$(jq -r .error.reason rej.jsonl)" == "HTTP 429: "* ]]
	[ "$(mock_requests)" -eq 1 ]
	jq -e '.path == "/v1/messages"' "$MOCK_LOG"
}
