#!/usr/bin/env bats
# scg-ledger: a run's ledger as a line or JSON, its progress line, its
# removal; the exit statuses of scg-ledger(1).

load helper
bats_require_minimum_version 1.5.0

# ask RUN N [ARGS...]: N one-message conversations answered in run RUN
ask() {
	local run=$1 n=$2 i
	shift 2
	for i in $(seq 1 "$n"); do
		printf '{"id":"c%d","messages":[{"role":"user","content":"question %d"}]}\n' "$i" "$i"
	done | scg-turn -q --run "$run" --side assistant "$@"
}

@test "--json: the requests, cache hits, tokens and records of every process of the run, added up" {
	mock_start
	ask r1 3 >first.jsonl
	SCG_RUN_OUTPUT=1 ask r1 3 >out.jsonl
	run --separate-stderr scg-ledger --json r1
	[ "$status" -eq 0 ]
	jq -e '.run == "r1" and .requests == 3 and .cached == 3 and .failed == 0 and .written == 3 and .rejected == 0' <<<"$output"
	# the tokens are those the records of both processes carry
	local p
	p=$(cat first.jsonl out.jsonl | jq -s '[.[].meta.usage[] | .prompt_tokens] | add')
	[ "$(jq .prompt_tokens <<<"$output")" -eq "$p" ]
	run scg-ledger r1
	[ "$status" -eq 0 ]
	[[ "$output" == "run r1: 3 requests, 3 cache hits, 0 retries, 0 failed, "*" 3 records written, 0 rejected" ]]
}

@test "a refused request is counted: over_budget, failed, and the record rejected" {
	mock_start
	run ask r2 4 --budget 0.0000001 --rejects rej.jsonl
	[ "$status" -eq 1 ]
	run scg-ledger --json r2
	jq -e '.over_budget == true and .rejected == 4 and .requests == 0' <<<"$output"
	[ "$(wc -l <rej.jsonl)" -eq 4 ]
}

@test "--remove ends the run's account: the name begins a new one" {
	mock_start
	ask r3 2 >/dev/null
	scg-ledger --remove r3
	run -1 --separate-stderr scg-ledger r3
	[[ "$stderr" == "scg-ledger: run r3: "*": no such run" ]]
	ask r3 1 >/dev/null
	# one answer (from the cache: model calls stay cached across runs)
	[ "$(scg-ledger --json r3 | jq '.requests + .cached')" -eq 1 ]
}

@test "no such run exits 1; a name that is a path, or a file that is no ledger, exits 2" {
	run -1 --separate-stderr scg-ledger nosuch
	[[ "$stderr" == "scg-ledger: run nosuch: "*"/runs/nosuch: no such run" ]]
	run -2 --separate-stderr scg-ledger ../x
	[[ "$stderr" == *"expected a run name of 1 to 100 letters"*"got '../x'"* ]]
	mkdir -p "$SCG_CACHE/runs"
	echo garbage >"$SCG_CACHE/runs/junk"
	run -2 --separate-stderr scg-ledger junk
	[[ "$stderr" == "scg-ledger: "*junk* ]]
}

@test "--watch draws the run's line with --expect and --label, redrawn, and clears it on SIGTERM" {
	mock_start --latency 100
	scg-ledger --watch --expect 20 --label eval r4 2>watch.txt &
	local w=$!
	SCG_RUN_OUTPUT=1 ask r4 20 -j 2 >/dev/null
	sleep 0.6
	kill -TERM "$w"
	wait "$w" || true
	# redrawn (several \r), with the label, done of expected, then cleared
	[ "$(tr -cd '\r' <watch.txt | wc -c)" -ge 3 ]
	tr '\r' '\n' <watch.txt | grep -q $'^\e\\[Keval: 20/20 done, 20 requests, 0 cache hits, 0 retries, '
	# the last thing written is the line's erasure
	[ "$(tail -c 4 watch.txt | od -An -c | tr -s ' ')" = " \r 033 [ K" ]
}
