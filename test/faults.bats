#!/usr/bin/env bats
# Nothing lost under faults and crashes; the same answer on one machine or
# many. These run whole multi-stage pipelines against scg-mock.

load helper

export ENDPOINT=$BATS_TEST_DIRNAME/../examples/endpoints/mock.yaml

# records.jsonl: N fresh conversations with personas
make_records() {
	local n=$1 i
	for i in $(seq 1 "$n"); do
		printf '{"id":"p%04d","assistant":{"name":"Spoke","description":"a bike shop assistant"},"persona":{"name":"User %d","description":"a rider with problem number %d"},"messages":[]}\n' "$i" "$i" "$i"
	done >records.jsonl
}

# stages IN: user turn, the assistant under test through the endpoint, judge
stages() {
	scg-turn -q -j 32 --timeout 1 --retries 10 --side user --rejects rej1.jsonl "$1" |
		scg-turn -q -j 32 --timeout 1 --retries 10 --side assistant \
			-e "$ENDPOINT" --rejects rej2.jsonl |
		scg-judge -q -j 32 --timeout 1 --retries 10 --rejects rej3.jsonl
}
export -f stages

# the whole simulate flow for one round: personas, user, assistant, judge
storm_run() {
	scg-personas -q --retries 10 --timeout 1 -a "$BATS_TEST_DIRNAME/../examples/assistant.yaml" -n 500 --per-request 25 |
		scg-turn -q -j 32 --timeout 1 --retries 10 --side user --rejects rej1.jsonl |
		scg-turn -q -j 32 --timeout 1 --retries 10 --side assistant -e "$ENDPOINT" --rejects rej2.jsonl |
		scg-judge -q -j 32 --timeout 1 --retries 10 --rejects rej3.jsonl
}

@test "fault storm: personas -> turns -> judge over 500 records, each out once, identical to a clean run" {
	mock_start --seed 7
	export SCG_MOCK_PORT=$MOCK_PORT
	SCG_CACHE=$BATS_TEST_TMPDIR/clean storm_run >clean.jsonl
	mock_stop
	mock_start --fail 500=0.1,503=0.05,529=0.05,429=0.1,drop=0.02,stall=0.02,garbage=0.01 --stall-ms 3000 --seed 7
	export SCG_MOCK_PORT=$MOCK_PORT
	SCG_CACHE=$BATS_TEST_TMPDIR/storm storm_run >storm.jsonl
	[ "$(wc -l <clean.jsonl)" -eq 500 ]
	[ "$(jq -r .id clean.jsonl | sort -u | wc -l)" -eq 500 ]
	# every fault kind really happened
	for k in 500 503 529 429 drop stall garbage; do
		[ "$(jq -r .outcome "$MOCK_LOG" | grep -cx "$k")" -gt 0 ]
	done
	[ ! -s rej1.jsonl ] && [ ! -s rej2.jsonl ] && [ ! -s rej3.jsonl ]
	cmp clean.jsonl storm.jsonl
}

@test "a record whose retries run out goes to the rejects with the reason; the rest come out" {
	make_records 20
	mock_start --fail 503=1
	run bash -c 'scg-turn -q -j 4 --retries 1 --side user --rejects rej.jsonl records.jsonl 2>/dev/null'
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$(wc -l <rej.jsonl)" -eq 20 ]
	[ "$(jq -r .error.reason rej.jsonl | grep -c '^gave up after 1 retries: HTTP 503')" -eq 20 ]
	[ "$(jq -s 'map(.id) | unique | length' rej.jsonl)" -eq 20 ]
}

# cached DIR: how many answers a cache holds (it keeps a hash of each
# request, not the request)
cached() {
	find "$1" -name '*.json' | wc -l
}

# whole_answers DIR: every cache file in DIR is one whole answer (one jq for
# them all: a jq per file costs more than the pipeline under test)
whole_answers() {
	local files answers
	files=$(find "$1" -name '*.json' | wc -l)
	answers=$(find "$1" -name '*.json' -exec jq -n '[inputs | select(.answer != null)] | length' {} + |
		awk '{ n += $1 } END { print n + 0 }')
	[ "$files" -eq "$answers" ]
}

now_ms() { date +%s%3N; }

@test "killed with SIGKILL early, midway and late, a rerun writes the same output and resends nothing answered" {
	make_records 120
	# answers slow enough that the three stages take about three seconds
	mock_start --latency 200..400
	export SCG_MOCK_PORT=$MOCK_PORT
	local t0; t0=$(now_ms)
	SCG_CACHE=$BATS_TEST_TMPDIR/ref stages records.jsonl >ref.jsonl
	local took=$(($(now_ms) - t0))
	[ "$(wc -l <ref.jsonl)" -eq 120 ]
	# the different requests a whole run makes
	local asked; asked=$(jq -c .body "$MOCK_LOG" | sort -u | wc -l)
	# kill at a tenth, four tenths and seven tenths of the clean run
	local tenths
	for tenths in 1 4 7; do
		export SCG_CACHE=$BATS_TEST_TMPDIR/crash$tenths
		setsid bash -c "stages records.jsonl >part.jsonl" 3>&- &
		local pid=$!
		local at=$((took * tenths / 10))
		sleep "$((at / 1000)).$(printf %03d $((at % 1000)))"
		kill -KILL -- -"$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		# the kill came mid-run: the output is short of the whole
		[ "$(wc -l <part.jsonl)" -lt 120 ]
		whole_answers "$SCG_CACHE"
		local answered; answered=$(cached "$SCG_CACHE")
		# midway and late, some answers were in before the kill
		[ "$tenths" -eq 1 ] || [ "$answered" -gt 0 ]
		local before; before=$(mock_requests)
		stages records.jsonl >again.jsonl
		cmp ref.jsonl again.jsonl
		# the rerun asked for what was missing, and for nothing already
		# answered: as many different requests as the run lacked
		local resent; resent=$(tail -n +$((before + 1)) "$MOCK_LOG" | jq -c .body | sort -u | wc -l)
		echo "kill at $tenths/10: $answered of $asked answered before, $resent asked again"
		[ "$resent" -gt 0 ]
		[ "$resent" -eq $((asked - answered)) ]
	done
}

@test "a damaged cache file is a miss, reported once, and repaired" {
	make_records 3
	mock_start
	scg-turn -q --side user records.jsonl >first.jsonl
	for f in $(find "$SCG_CACHE" -name '*.json'); do printf '{"key":"trunc' >"$f"; done
	run scg-turn --side user records.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c 'is damaged; treated as a miss')" -eq 1 ]
	[ "$(mock_requests)" -eq 6 ]
	scg-turn -q --side user records.jsonl >third.jsonl
	[ "$(mock_requests)" -eq 6 ]
	cmp first.jsonl third.jsonl
}

@test "sharded over GNU parallel --pipe the output is byte-identical to one process" {
	make_records 200
	mock_start --latency 1..20
	export SCG_MOCK_PORT=$MOCK_PORT
	SCG_CACHE=$BATS_TEST_TMPDIR/one scg-turn -q --side user --temperature 0.3..1.0 records.jsonl >one.jsonl
	SCG_CACHE=$BATS_TEST_TMPDIR/many parallel --will-cite --pipe -k -N 50 -j 4 \
		scg-turn -q --side user --temperature 0.3..1.0 <records.jsonl >many.jsonl
	cmp one.jsonl many.jsonl
	# and over all stages, the judge's verdict included
	SCG_CACHE=$BATS_TEST_TMPDIR/one2 stages records.jsonl >one2.jsonl
	SCG_CACHE=$BATS_TEST_TMPDIR/many2 parallel --will-cite --pipe -k -N 50 -j 4 \
		stages - <records.jsonl >many2.jsonl
	[ "$(jq -s 'map(select(.done | type == "boolean")) | length' one2.jsonl)" -eq 200 ]
	cmp one2.jsonl many2.jsonl
}

@test "--rpm spaces requests out: 8 requests at 120 a minute take at least 3 seconds" {
	make_records 8
	mock_start
	local t0=$SECONDS
	scg-turn -q -j 8 --rpm 120 --side user records.jsonl >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 8 ]
	# two may start at once, then one every half second: a lower bound only
	[ $((SECONDS - t0)) -ge 3 ]
}

@test "a retry-after given in whole seconds is waited out before the retry" {
	make_records 6
	printf '429 retry-after=2\n' >script
	mock_start --script script --latency 1
	local t0=$SECONDS
	scg-turn -q -j 1 --side user records.jsonl >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 6 ]
	[ $((SECONDS - t0)) -ge 2 ]
	[ "$(mock_requests)" -eq 7 ]
}

@test "a schema-invalid structured answer is asked for again with the error, then used" {
	printf '%s\n' '{"id":"j1","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello, how can I help?"}]}' >in.jsonl
	printf 'invalid\nok\n' >script
	mock_start --script script
	run bash -c 'scg-judge -q in.jsonl 2>/dev/null'
	[ "$status" -eq 0 ]
	[ "$(mock_requests)" -eq 2 ]
	# the second request carries the broken answer and the reason it was refused
	[ "$(sed -n 2p "$MOCK_LOG" | jq -r '.body.messages[-2].role')" = assistant ]
	[[ "$(sed -n 2p "$MOCK_LOG" | jq -r '.body.messages[-1].content')" == *"not valid JSON"* ]]
	echo "$output" | jq -e '.done | type == "boolean"'
}

@test "a structured answer that stays invalid sends the record to the rejects" {
	printf '%s\n' '{"id":"j1","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}' >in.jsonl
	mock_start --fail invalid=1
	run bash -c 'scg-judge -q --rejects rej.jsonl in.jsonl 2>/dev/null'
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$(jq -r .error.reason rej.jsonl)" == "unusable answer after 3 tries"* ]]
	[ "$(mock_requests)" -eq 3 ]
}

@test "SIGINT and SIGTERM write the records already answered, print the summary and exit 128+signal" {
	make_records 40
	mock_start --latency 200..4000
	local sig want
	for sig in INT TERM; do
		want=$([ $sig = INT ] && echo 130 || echo 143)
		export SCG_CACHE=$BATS_TEST_TMPDIR/cache-$sig
		scg-turn -j 8 --side user records.jsonl >out.jsonl 2>err.txt &
		local pid=$!
		# wait until some answers are in
		local i
		for i in $(seq 1 100); do
			[ "$(find "$SCG_CACHE" -name '*.json' 2>/dev/null | wc -l)" -ge 2 ] && break
			sleep 0.1
		done
		kill -"$sig" "$pid"
		local rc=0
		wait "$pid" || rc=$?
		[ "$rc" -eq "$want" ]
		# every answered record was written, and nothing else
		[ "$(wc -l <out.jsonl)" -eq "$(find "$SCG_CACHE" -name '*.json' | wc -l)" ]
		[ "$(wc -l <out.jsonl)" -ge 2 ] && [ "$(wc -l <out.jsonl)" -lt 40 ]
		grep -q "interrupted by" err.txt
		grep -q "records in, $(wc -l <out.jsonl) out" err.txt
		# written in input order
		[ "$(jq -r .id out.jsonl | tr '\n' ' ')" = "$(jq -r .id out.jsonl | sort | tr '\n' ' ')" ]
	done
}

@test "a cache that cannot be written is one clear warning and the run goes on without it" {
	make_records 20
	mock_start
	# a file where the cache directory should be: every write fails
	: >not-a-dir
	run bash -c 'SCG_CACHE=$PWD/not-a-dir scg-turn -j 4 --side user records.jsonl 2>err.txt >out.jsonl'
	[ "$status" -eq 0 ]
	[ "$(wc -l <out.jsonl)" -eq 20 ]
	[ "$(grep -c 'going on without caching' err.txt)" -eq 1 ]
	# a file-size limit of 0, as on a full disk: the same
	run bash -c '(ulimit -f 0; exec scg-turn -j 4 --no-cache --side user records.jsonl) | cat >/dev/null'
	[ "$status" -eq 0 ]
	run bash -c '(ulimit -f 0; exec scg-turn -j 4 --side user records.jsonl 2>&1 >/dev/null) | cat'
	[ "$status" -eq 0 ]
	[[ "$output" == *"going on without caching"* ]]
}

# questions.jsonl: N one-message conversations, q0001 .. qN
make_questions() {
	local n=$1 i
	for i in $(seq 1 "$n"); do
		printf '{"id":"q%04d","messages":[{"role":"user","content":"Question %d: where is my order?"}]}\n' "$i" "$i"
	done >questions.jsonl
}

@test "a record waiting out its backoff does not stop the reading and answering behind it; order and bytes are kept" {
	make_questions 200
	mock_start --seed 3
	scg-turn -q -j 1 --no-cache questions.jsonl >clean.jsonl
	mock_stop
	# the first request (record 1) is told to come back in 3 seconds
	printf '503 retry-after=3\n' >script
	mock_start --seed 3 --script script
	scg-turn -q -j 1 --no-cache questions.jsonl >out.jsonl
	cmp clean.jsonl out.jsonl
	# every other record was asked for while record 1 waited: its retry is
	# the last request of all (before: reading stopped 20 records on)
	[ "$(jq -r '.body.messages[-1].content' "$MOCK_LOG" | sed -n '$p')" = "Question 1: where is my order?" ]
	[ "$(mock_requests)" -eq 201 ]
}

@test "under faults, a reorder buffer that spills to its file gives the same records in input order" {
	make_questions 300
	mock_start --seed 5
	scg-turn -q -j 8 --no-cache questions.jsonl >clean.jsonl
	mock_stop
	mkdir tmp
	mock_start --seed 5 --fail 503=0.05,500=0.05,429=0.02 --retry-after-ms 20
	TMPDIR=$PWD/tmp scg-turn -j 8 --no-cache --retries 20 --reorder-mb 0.002 questions.jsonl \
		>out.jsonl 2>err.txt
	# the faults happened, records waited in the file, and it is gone
	[ "$(jq -r .outcome "$MOCK_LOG" | grep -c '^50[03]$')" -gt 0 ]
	grep -q '^scg-turn: [0-9]* records waited for their turn in a temporary file' err.txt
	[ -z "$(ls tmp)" ]
	cmp clean.jsonl out.jsonl
}

@test "with no memory at all for the reorder buffer every waiting record goes through the file, none lost" {
	make_questions 100
	mock_start --seed 9 --latency 0..20
	scg-turn -q -j 16 --no-cache --reorder-mb 0 questions.jsonl >out.jsonl
	[ "$(jq -r .id out.jsonl | tr '\n' ' ')" = "$(jq -r .id questions.jsonl | tr '\n' ' ')" ]
	[ "$(jq -r '.messages | length' out.jsonl | sort -u)" = 2 ]
}
