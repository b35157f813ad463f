#!/usr/bin/env bats
# scg-judge against scg-mock: when a conversation ends, and why.

load helper

judge() { scg-judge -q "$@" 2>>stderr.txt; }

# convs N TURNS: N conversations of TURNS exchanges, the assistant's last
convs() {
	local i t
	for i in $(seq 1 "$1"); do
		local m='[]'
		for t in $(seq 1 "$2"); do
			m=$(jq -c --arg u "question $i.$t" --arg a "answer $i.$t" \
				'. + [{role:"user",content:$u},{role:"assistant",content:$a}]' <<<"$m")
		done
		jq -nc --arg id "c$i" --argjson m "$m" \
			'{id:$id,persona:{name:"Ola",description:"a cyclist"},messages:$m,zz:1}'
	done
}

@test "the judge's verdict lands in done and stop: reason, by judge, the turn, a rationale" {
	mock_start
	convs 8 2 >in.jsonl
	run judge in.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 8 ]
	local out; out=$(printf '%s\n' "${lines[@]}")
	# the mock's verdicts are fixed by the requests: some end, some go on
	[ "$(echo "$out" | jq -s 'map(select(.done == true)) | length')" -ge 1 ]
	[ "$(echo "$out" | jq -s 'map(select(.done == false)) | length')" -ge 1 ]
	[ "$(echo "$out" | jq -s 'map(select(.done == true and (.stop.by != "judge" or .stop.turn != 2 or
		(.stop.rationale | length) == 0 or
		(.stop.reason | IN("goal_achieved","frustrated","dead_end","closed","unspecified") | not))))
		| length')" -eq 0 ]
	[ "$(echo "$out" | jq -s 'map(select(.done == false and has("stop"))) | length')" -eq 0 ]
	# fields it does not own are kept, in order
	[ "$(echo "${lines[0]}" | jq -c 'keys_unsorted[:4]')" = '["id","persona","messages","zz"]' ]
}

@test "the judge runs at temperature 0 with the verdict schema and sees the whole transcript" {
	mock_start
	convs 1 2 >in.jsonl
	run judge in.jsonl
	[ "$status" -eq 0 ]
	local req; req=$(head -n 1 "$MOCK_LOG")
	[ "$(echo "$req" | jq .body.temperature)" = 0 ]
	[ "$(echo "$req" | jq -c '.body.response_format.json_schema.schema.properties.reason.enum')" = \
		'["goal_achieved","frustrated","dead_end","closed","continue"]' ]
	[ "$(echo "$req" | jq -c '.body.response_format.json_schema.schema.required')" = '["is_complete","reason","rationale"]' ]
	local text; text=$(echo "$req" | jq -r '.body.messages[-1].content')
	[[ "$text" == *"User: question 1.1"*"Assistant: answer 1.1"*"User: question 1.2"*"Assistant: answer 1.2"* ]]
	[[ "$text" == *"a cyclist"* ]]
}

@test "a reasoning model as judge gets no temperature" {
	mock_start
	convs 1 1 >in.jsonl
	run judge --model o3-mini in.jsonl
	[ "$status" -eq 0 ]
	[ "$(head -n 1 "$MOCK_LOG" | jq '.body | has("temperature")')" = false ]
}

@test "--max-turns ends a conversation at the limit, by limit, without a call" {
	mock_start
	convs 2 3 >in.jsonl
	run judge --max-turns 3 in.jsonl
	[ "$status" -eq 0 ]
	[ "$(mock_requests)" -eq 0 ]
	[ "$(echo "${lines[1]}" | jq -c '[.done, .stop.reason, .stop.by, .stop.turn]')" = '[true,"max_turns","limit",3]' ]
	[[ "$(echo "${lines[1]}" | jq -r .stop.rationale)" == *"limit of 3 user turns"* ]]
}

@test "--min-turns withholds the judge before that turn" {
	mock_start
	convs 3 1 >in.jsonl
	run judge --min-turns 2 in.jsonl
	[ "$status" -eq 0 ]
	[ "$(mock_requests)" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -c .done | tr '\n' ' ')" = "false false false " ]
	convs 3 2 >in2.jsonl
	run judge --min-turns 2 in2.jsonl
	[ "$(mock_requests)" -ge 3 ]
}

@test "records already done, or whose last message is the user's, pass unchanged" {
	mock_start
	{
		echo '{"id":"d","done":true,"stop":{"reason":"closed","by":"judge","turn":1},"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}'
		echo '{"id":"u","messages":[{"role":"user","content":"a"}]}'
		echo '{"id":"e","messages":[]}'
	} >in.jsonl
	run judge --max-turns 1 in.jsonl
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat in.jsonl)" ]
	[ "$(mock_requests)" -eq 0 ]
}

@test "a verdict whose is_complete and reason disagree is asked for once more, no more" {
	mock_start
	convs 12 1 >in.jsonl
	run judge -j 1 in.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 12 ]
	# every re-ask follows a verdict that contradicted itself
	local reasks; reasks=$(jq -c 'select(.body.messages | length > 2) | .body.messages[-2].content | fromjson
		| select((.is_complete and .reason == "continue") or (.is_complete == false and .reason != "continue") | not)' "$MOCK_LOG" | wc -l)
	[ "$reasks" -eq 0 ]
	[ "$(jq -c 'select(.body.messages | length > 2)' "$MOCK_LOG" | wc -l)" -ge 1 ]
	[ "$(jq -c 'select(.body.messages | length > 4)' "$MOCK_LOG" | wc -l)" -eq 0 ]
	[ "$(mock_requests)" -le 24 ]
}

@test "a failed judge call sends the record to the rejects, exit 1" {
	printf '400\n' >script
	mock_start --script script
	convs 2 1 >in.jsonl
	run judge -j 1 --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(jq -r .id rej.jsonl)" = c1 ]
	[ "$(jq -r .error.program rej.jsonl)" = scg-judge ]
}

@test "--min-turns above --max-turns is a usage error" {
	run scg-judge --min-turns 5 --max-turns 2
	[ "$status" -eq 2 ]
	[[ "$output" == *"Try 'scg-judge --help'"* ]]
}
