#!/usr/bin/env bats
# A run (--run NAME, $SCG_RUN): the processes that join it spend from one
# budget kept in the run's ledger ($SCG_CACHE/runs/NAME), and the replies
# of the assistant under test are cached within the run only, while the
# model calls stay cached across runs.

load helper
bats_require_minimum_version 1.5.0

EX=$BATS_TEST_DIRNAME/../examples

# convs FILE N: N one-message conversations
convs() {
	local i
	for i in $(seq 1 "$2"); do
		printf '{"id":"%s%d","messages":[{"role":"user","content":"question %d about returns, refunds and the warranty of a bike bought in May"}]}\n' \
			"${1%.jsonl}" "$i" "$i"
	done >"$1"
}

# cost FILE...: USD the records' answers cost, summed from meta.usage
cost() {
	cat "$@" | jq -s '[.[].meta.usage // {} | .[] | .cost] | add // 0'
}

# one FILE...: the most one record's answer cost
one() {
	cat "$@" | jq -s '[.[].meta.usage // {} | .[] | .cost] | max // 0'
}

@test "two processes of one run spend from one budget: at most --budget plus one request's worth" {
	mock_start
	printf 'mock-1: {input: 3, output: 15}\n' >prices.yaml
	export SCG_PRICES=$PWD/prices.yaml
	convs a.jsonl 40
	convs b.jsonl 40
	local budget=0.01 spent most
	# alone, each process spends up to its own budget: together about twice
	scg-turn -q -j 1 --no-cache --budget $budget --rejects ra.jsonl a.jsonl >a-alone.jsonl || :
	scg-turn -q -j 1 --no-cache --budget $budget --rejects rb.jsonl b.jsonl >b-alone.jsonl || :
	spent=$(cost a-alone.jsonl b-alone.jsonl)
	most=$(one a-alone.jsonl b-alone.jsonl)
	echo "alone: $spent, one request at most $most"
	jq -n --argjson s "$spent" --argjson b $budget --argjson m "$most" '$s > $b + $m' | grep -qx true
	# in one run, at once: one budget
	scg-turn -q -j 2 --no-cache --run shared --budget $budget --rejects ra2.jsonl a.jsonl >a.out &
	local pid=$!
	SCG_RUN=shared scg-turn -q -j 2 --no-cache --budget $budget --rejects rb2.jsonl b.jsonl >b.out || :
	wait "$pid" || :
	spent=$(cost a.out b.out)
	echo "in one run: $spent"
	jq -n --argjson s "$spent" --argjson b $budget --argjson m "$most" '$s <= $b + $m and $s > 0' | grep -qx true
	# nothing lost: every record was answered or rejected as over budget
	[ $(($(cat a.out b.out | wc -l) + $(cat ra2.jsonl rb2.jsonl | wc -l))) -eq 80 ]
	[ "$(jq -r .error.reason ra2.jsonl rb2.jsonl | grep -vc "over budget: the run's --budget 0.01 would be passed")" -eq 0 ]
	# the ledger holds what was spent, and a later process of the run with
	# the same budget starts nothing
	[ -s "$SCG_CACHE/runs/shared" ]
	run scg-turn -q --no-cache --run shared --budget $budget --rejects rc.jsonl a.jsonl
	[ "$status" -eq 1 ]
	[ "$(wc -l <rc.jsonl)" -eq 40 ]
	# one given more goes on
	scg-turn -q --run shared --budget 1 a.jsonl >more.jsonl
	[ "$(wc -l <more.jsonl)" -eq 40 ]
}

@test "--run and \$SCG_RUN take a name, not a path" {
	run scg-turn --run ../x </dev/null
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "scg-turn: --run: expected a name of 1 to 100 letters, digits, '.', '_' or '-' (not first '.'), got '../x'" ]]
	SCG_RUN=a/b run scg-judge </dev/null
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "scg-judge: SCG_RUN: expected a name of "* ]]
	# a file in the way is named
	mkdir -p "$SCG_CACHE/runs"
	echo not a ledger >"$SCG_CACHE/runs/odd"
	SCG_MODEL=m run scg-turn --run odd </dev/null
	[ "$status" -eq 2 ]
	[ "$output" = "scg-turn: run odd: $SCG_CACHE/runs/odd: not a run's ledger" ]
}

# assistant RUN: the assistant's turn on the user's turns, in run RUN (or
# none when RUN is -); the records on stdout
assistant() {
	local r=()
	[ "$1" = - ] || r=(--run "$1")
	scg-turn -q --side user <users.jsonl | scg-turn -q --side assistant -e "$EX/endpoints/mock.yaml" "${r[@]}"
}

replies() {
	jq -r '.messages[-1].content' "$@"
}

@test "the assistant under test is asked again in a new run, the model calls stay cached, a resumed run reuses its replies" {
	mock_start
	export SCG_MOCK_PORT=$MOCK_PORT
	head -n 3 "$EX/personas.jsonl" >users.jsonl
	assistant r1 >r1.jsonl
	[ "$(mock_requests)" -eq 6 ]
	# the assistant is redeployed at the same address: it answers otherwise
	mock_stop
	mock_start --port "$SCG_MOCK_PORT" --seed 7
	assistant r2 >r2.jsonl
	# only the assistant was asked: the user turns came from the cache
	[ "$(mock_requests)" -eq 3 ]
	[ "$(jq -r .body.model "$MOCK_LOG" | sort -u)" = mock-assistant ]
	# the user turns are the same, the replies new
	diff <(jq -c '.messages[:-1]' r1.jsonl) <(jq -c '.messages[:-1]' r2.jsonl)
	[ -n "$(replies r2.jsonl)" ]
	[ -z "$(comm -12 <(replies r1.jsonl | sort) <(replies r2.jsonl | sort))" ]
	# run r2 again (the rerun of an interrupted run): nothing is asked
	: >"$MOCK_LOG"
	assistant r2 >again.jsonl
	[ "$(mock_requests)" -eq 0 ]
	cmp r2.jsonl again.jsonl
	# a program alone, in no run, asks the assistant each time
	assistant - >alone.jsonl
	assistant - >alone.jsonl
	[ "$(mock_requests)" -eq 6 ]
}

@test "a command that plays the assistant is run again in a new run, and not in a resumed one" {
	mock_start
	head -n 2 "$EX/personas.jsonl" | scg-turn -q --side user >users.jsonl
	echo "Version one." >reply.txt
	scg-turn -q --side assistant --endpoint-cmd 'cat reply.txt; cat >/dev/null; echo x >>ran' --run c1 users.jsonl >c1.jsonl
	[ "$(wc -l <ran)" -eq 2 ]
	echo "Version two." >reply.txt
	scg-turn -q --side assistant --endpoint-cmd 'cat reply.txt; cat >/dev/null; echo x >>ran' --run c2 users.jsonl >c2.jsonl
	[ "$(wc -l <ran)" -eq 4 ]
	[ "$(replies c1.jsonl | sort -u)" = "Version one." ]
	[ "$(replies c2.jsonl | sort -u)" = "Version two." ]
	# resumed: the replies of its own run, the command not run
	echo "Version three." >reply.txt
	scg-turn -q --side assistant --endpoint-cmd 'cat reply.txt; cat >/dev/null; echo x >>ran' --run c1 users.jsonl >again.jsonl
	[ "$(wc -l <ran)" -eq 4 ]
	cmp c1.jsonl again.jsonl
}

@test "a tool's command is run every time, within a run too: it may change what it reads" {
	mock_start
	echo '{"id":"c1","messages":[{"role":"user","content":"please cancel my order A1001"}]}' >one.jsonl
	local tool='cat >/dev/null; echo x >>ran; echo "{\"ok\": true}"'
	scg-turn -q --side assistant --tools "$FIXTURES/tools-cancel.yaml" --tool-cmd "$tool" --run t1 one.jsonl >a.jsonl
	[ "$(wc -l <ran)" -eq 1 ]
	# the model's calls come from the cache; the tool runs again
	scg-turn -q --side assistant --tools "$FIXTURES/tools-cancel.yaml" --tool-cmd "$tool" --run t1 one.jsonl >b.jsonl
	[ "$(wc -l <ran)" -eq 2 ]
	cmp a.jsonl b.jsonl
}
