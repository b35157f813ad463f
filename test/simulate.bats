#!/usr/bin/env bats
# pipelines/simulate against scg-mock, which plays the models and the
# assistant endpoint.

load helper

EX=$BATS_TEST_DIRNAME/../examples
sim() { simulate "$@" 2>>stderr.txt; }

setup_mock() {
	mock_start "$@"
	export SCG_MOCK_PORT=$MOCK_PORT
}

# alternating VALUE: after the assistant's system prompt, every
# conversation is user-first and alternates
alternating() {
	jq -e -s 'all(.[]; [.messages[] | select(.role != "system") | .role] as $r | ($r | length) > 0 and ($r | length) % 2 == 0 and
		all(range(0; $r | length); $r[.] == (if . % 2 == 0 then "user" else "assistant" end)))' "$1" >/dev/null
}

@test "personas x k conversations, each user-first, alternating, ended by the judge or the limit with the reason" {
	setup_mock
	sim -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" -n 3 -k 2 -t 3 >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 6 ]
	[ "$(jq -r .id out.jsonl | sort | tr '\n' ' ')" = "p0001.c1 p0001.c2 p0002.c1 p0002.c2 p0003.c1 p0003.c2 " ]
	alternating out.jsonl
	# the endpoint's system prompt is recorded first, once
	[ "$(jq -c '[.messages[] | select(.role == "system") | .content]' out.jsonl | sort -u)" = \
		'["You are a friendly support assistant for a bike shop."]' ]
	[ "$(jq -r '.messages[0].role' out.jsonl | sort -u)" = system ]
	[ "$(jq -s 'map(select(.done != true)) | length' out.jsonl)" -eq 0 ]
	[ "$(jq -s 'map(select(.stop.turn != (.messages | length - 1) / 2)) | length' out.jsonl)" -eq 0 ]
	[ "$(jq -s 'map(select(.stop.by == "judge" and .stop.reason != "max_turns" or
		.stop.by == "limit" and .stop.reason == "max_turns" and .stop.turn == 3)) | length' out.jsonl)" -eq 6 ]
	[ "$(jq -s 'map(select(.meta.usage["mock-1"].requests > 0)) | length' out.jsonl)" -eq 6 ]
	# the assistant's messages came from the endpoint (the mock's prose answers)
	[ "$(jq -r '.messages[2].content' out.jsonl | grep -c '^\[[0-9a-f]\{8\}\] ')" -eq 6 ]
	grep -q '"model":"mock-assistant"' "$MOCK_LOG"
}

@test "-t 1 ends every conversation at the limit, by limit, and the judge is never asked" {
	setup_mock
	sim -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" -n 2 -t 1 >out.jsonl
	[ "$(jq -c '[.stop.reason, .stop.by, .stop.turn]' out.jsonl | sort -u)" = '["max_turns","limit",1]' ]
	[ "$(jq -s 'map(select([.messages[].role] == ["system", "user", "assistant"])) | length' out.jsonl)" -eq 2 ]
	! grep -q '"verdict"' "$MOCK_LOG"
}

@test "personas are linked to their conversations, and the original files load unchanged" {
	setup_mock
	scg-personas -q --from "$EX/personas.yaml" -a "$EX/assistant2.yaml" >personas.jsonl
	sim -p "$EX/personas.yaml" -a "$EX/assistant2.yaml" -e "$EX/endpoints/mock.yaml" -k 2 -t 2 >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 8 ]
	# every conversation carries the persona of the record its id names
	jq -c '{id, persona}' personas.jsonl | sort >want
	jq -c '{id: (.id | sub("\\.c[0-9]+$"; "")), persona}' out.jsonl | sort -u >got
	diff want got
	[ "$(jq -r .assistant.name out.jsonl | sort -u)" = Ledger ]
	# the user simulator was told who it is
	grep -q 'night-shift nurse' "$MOCK_LOG"
}

@test "the user simulator and the judge use their own models" {
	setup_mock
	sim -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" -n 1 -t 2 --min-turns 1 \
		--user-model user-m --judge-model judge-m >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 1 ]
	[ "$(jq -r 'select(.body.response_format.json_schema.name == "verdict") | .body.model' "$MOCK_LOG" | sort -u)" = judge-m ]
	[ "$(jq -r 'select(.body.response_format.json_schema.name == "personas") | .body.model' "$MOCK_LOG")" = user-m ]
	[ "$(jq -r 'select(.body.response_format == null and .body.model != "mock-assistant") | .body.model' "$MOCK_LOG" | sort -u)" = user-m ]
	: >"$MOCK_LOG"
	SCG_USER_MODEL=env-user SCG_JUDGE_MODEL=env-judge sim -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" -n 1 -t 2 --seed 1 >/dev/null
	[ "$(jq -r 'select(.body.response_format.json_schema.name == "verdict") | .body.model' "$MOCK_LOG" | sort -u)" = env-judge ]
	[ "$(jq -r 'select(.body.response_format.json_schema.name == "personas") | .body.model' "$MOCK_LOG")" = env-user ]
	[ "$(jq -r 'select(.body.response_format == null and .body.model != "mock-assistant") | .body.model' "$MOCK_LOG" | sort -u)" = env-user ]
}

@test "--evaluate: every conversation, the limit's too, ends with an eval by the judge's model, with the --criteria scores" {
	setup_mock
	sim -p "$EX/personas.jsonl" -e "$EX/endpoints/mock.yaml" -n 3 -k 2 -t 2 --judge-model judge-m \
		--evaluate --criteria builtin:relevance >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 6 ]
	[ "$(jq -s 'map(select((.eval.outcome | IN("met","partly","not met")) and
		(.eval.criteria | keys) == ["relevance"])) | length' out.jsonl)" -eq 6 ]
	[ "$(jq -s 'map(select(.stop.by == "limit")) | length' out.jsonl)" -ge 1 ]
	# one evaluation per conversation, by the judge's model, at temperature 0
	[ "$(jq -c 'select(.body.response_format.json_schema.name == "evaluation") | [.body.model, .body.temperature]' "$MOCK_LOG" | sort | uniq -c | tr -s ' ')" = ' 6 ["judge-m",0]' ]
}

@test "--evaluate with a bad criteria file stops before any request; --criteria alone is a usage error" {
	setup_mock
	printf 'criteria:\n  - name: empathy\n    description: It cares.\n    scale: [5, 1]\n' >crit.yaml
	run simulate -p "$EX/personas.jsonl" -e "$EX/endpoints/mock.yaml" --evaluate --criteria crit.yaml
	[ "$status" -eq 2 ]
	[[ "$output" == *"crit.yaml:4: criterion 1: scale: expected [LO, HI]"* ]]
	[ "$(mock_requests)" -eq 0 ]
	run simulate -p "$EX/personas.jsonl" -e "$EX/endpoints/mock.yaml" --criteria builtin
	[ "$status" -eq 2 ]
	[[ "$output" == *"--criteria needs --evaluate"* ]]
}

@test "a missing \${VAR} in the endpoint file is an error that names it, exit 2" {
	setup_mock
	unset SCG_MOCK_PORT
	run simulate -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" -n 1 -t 1
	[ "$status" -eq 2 ]
	[[ "$output" == *SCG_MOCK_PORT* ]]
}

@test "the endpoint's 5xx is retried" {
	# requests in order: the user's turn, the endpoint (500), the endpoint again
	printf 'ok\n500\nok\n' >script
	setup_mock --script script
	sim -p "$EX/personas.yaml" -n 1 -a "$EX/assistant2.yaml" -e "$EX/endpoints/mock.yaml" -t 1 >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 1 ]
	[ "$(jq -r .outcome "$MOCK_LOG" | tr '\n' ' ')" = "ok 500 ok " ]
	[ "$(jq -r '.messages[2].role' out.jsonl)" = assistant ]
}

@test "a dead endpoint sends the record to the rejects, exit 1" {
	setup_mock
	printf 'url: http://127.0.0.1:1/v1/chat/completions\nbody: {model: x}\nresponse_path: [choices, 0, message, content]\nretries: 1\ntimeout: 5\n' >dead.yaml
	run simulate -p "$EX/personas.yaml" -n 2 -a "$EX/assistant2.yaml" -e dead.yaml -t 2 --rejects rej.jsonl
	[ "$status" -eq 1 ]
	[ -z "$output" ] || [ "$(echo "$output" | grep -c '^{')" -eq 0 ]
	[ "$(jq -r .id rej.jsonl | sort | tr '\n' ' ')" = "p0001 p0002 " ]
	[ "$(jq -r .error.program rej.jsonl | sort -u)" = scg-turn ]
}

@test "a conversation is written as soon as it ends, while others still run" {
	# two conversations, one turn each: four requests, the two user turns
	# (p0001's first) then the two endpoint calls; the third stalls
	printf 'ok\nok\nstall\nok\n' >script
	setup_mock --script script --stall-ms 60000
	printf 'url: http://127.0.0.1:${SCG_MOCK_PORT}/v1/chat/completions\nbody: {model: a}\nresponse_path: [choices, 0, message, content]\nretries: 0\ntimeout: 20\n' >slow.yaml
	mkfifo out.fifo
	simulate -p "$EX/personas.yaml" -n 2 -a "$EX/assistant2.yaml" -e slow.yaml -t 1 --rejects rej.jsonl >out.fifo 2>err.txt 3>&- &
	local pid=$!
	exec 5<out.fifo
	local line
	read -r line <&5
	# the finished one is out while the other still waits on its stalled
	# call (held back behind it, it would come out only once that failed)
	kill -0 "$pid"
	[ ! -s rej.jsonl ]
	[ "$(echo "$line" | jq -r .stop.reason)" = max_turns ]
	mock_stop
	exec 5<&-
	wait "$pid" || true
}

@test "the output passes scg-export --check with zero problems; --export writes it for a trainer" {
	setup_mock
	sim -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" -n 3 -k 2 -t 3 >out.jsonl
	run scg-export --check -f openai out.jsonl
	[ "$status" -eq 0 ]
	[ "$output" = "6 records: 6 pass, 0 fail" ]
	sim -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" -n 3 -k 2 -t 3 --export openai >sft.jsonl
	[ "$(wc -l <sft.jsonl)" -eq 6 ]
	[ "$(jq -c keys sft.jsonl | sort -u)" = '["messages"]' ]
	[ "$(jq -r '.messages[0].content' sft.jsonl | sort -u)" = "You are a friendly support assistant for a bike shop." ]
	python3 "$BATS_TEST_DIRNAME/chat-render.py" "$FIXTURES/export/chatml-tools.jinja" <sft.jsonl >/dev/null
	sim -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" -n 3 -k 2 -t 3 --export hf:ds >none.jsonl
	[ ! -s none.jsonl ]
	[ "$(wc -l <ds/data/train.jsonl)" -eq 6 ] && [ -s ds/README.md ]
	run simulate -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" --export csv
	[ "$status" -eq 2 ]
}

@test "usage errors exit 2 with the hint" {
	run simulate -a "$EX/assistant.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"-e FILE"*"Try 'simulate --help'"* ]]
	run simulate -a "$EX/assistant.yaml" -e x.yaml -t 0
	[ "$status" -eq 2 ]
	run simulate --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--judge-model"* ]]
}
