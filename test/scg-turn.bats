#!/usr/bin/env bats
# scg-turn against scg-mock: what users of the core rely on.

load helper

turn() { scg-turn -q "$@" 2>>stderr.txt; }

@test "each open conversation gets one message; done records pass unchanged" {
	mock_start
	run turn <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(echo "${lines[0]}" | jq -r '.messages[-1].role')" = assistant ]
	[ "$(echo "${lines[1]}" | jq -r '.messages[-1].role')" = user ]
	[ "$(echo "${lines[1]}" | jq '.messages | length')" -eq 1 ]
	[ "${lines[2]}" = "$(sed -n 3p "$FIXTURES/conv3.jsonl")" ]
	[ "$(mock_requests)" -eq 2 ]
}

@test "unknown fields and key order are kept, usage lands in meta.usage" {
	mock_start
	echo '{"zz":1,"id":"k","messages":[{"role":"user","content":"hi"}],"aa":{"b":[1,2]},"meta":{"seed":3}}' >in.jsonl
	run turn in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c 'keys_unsorted')" = '["zz","id","messages","aa","meta"]' ]
	[ "$(echo "$output" | jq -c '.aa')" = '{"b":[1,2]}' ]
	[ "$(echo "$output" | jq '.meta.seed')" -eq 3 ]
	[ "$(echo "$output" | jq '.meta.usage["mock-1"].requests')" -eq 1 ]
	[ "$(echo "$output" | jq '.meta.usage["mock-1"].prompt_tokens')" -gt 0 ]
}

@test "openai requests carry the key as a bearer token, the model, messages and seed" {
	mock_start --key sk-test-openai-123456
	export OPENAI_API_KEY=sk-test-openai-123456
	run turn --temperature 0.5 --max-tokens 77 <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 0 ]
	local req; req=$(head -n 1 "$MOCK_LOG")
	[ "$(echo "$req" | jq -r .path)" = /v1/chat/completions ]
	[ "$(echo "$req" | jq -r '.headers.authorization')" = "[redacted]" ]
	[ "$(echo "$req" | jq -r '.headers["content-type"]')" = application/json ]
	[ "$(echo "$req" | jq -r .body.model)" = mock-1 ]
	[ "$(echo "$req" | jq -r .body.temperature)" = 0.5 ]
	[ "$(echo "$req" | jq -r .body.max_tokens)" = 77 ]
	[ "$(echo "$req" | jq -r '.body.messages[0].role')" = system ]
	[ "$(echo "$req" | jq -r '.body.seed')" -ge 0 ]
}

@test "reasoning models get max_completion_tokens and no temperature, and developer instructions" {
	mock_start
	run turn --model o3-mini --temperature 0.5 --max-tokens 50 <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 0 ]
	local req; req=$(head -n 1 "$MOCK_LOG")
	[ "$(echo "$req" | jq -r .body.max_completion_tokens)" = 50 ]
	[ "$(echo "$req" | jq '.body | has("temperature") or has("max_tokens")')" = false ]
	[ "$(echo "$req" | jq -r '.body.messages[0].role')" = developer ]
}

@test "anthropic requests: x-api-key, version header, top-level system, max_tokens, user first" {
	mock_start --key ant-test-key-987654 --strict
	export ANTHROPIC_API_KEY=ant-test-key-987654
	run turn --provider anthropic --base-url "$MOCK_URL" --model claude-mock --side user <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 0 ]
	local req; req=$(head -n 1 "$MOCK_LOG")
	[ "$(echo "$req" | jq -r .path)" = /v1/messages ]
	[ "$(echo "$req" | jq -r '.headers["x-api-key"]')" = "[redacted]" ]
	[ "$(echo "$req" | jq -r '.headers["anthropic-version"]')" = 2023-06-01 ]
	[ "$(echo "$req" | jq -r '.body.system | length > 0')" = true ]
	[ "$(echo "$req" | jq -r '.body.max_tokens')" -gt 0 ]
	[ "$(echo "$req" | jq -r '.body.messages[0].role')" = user ]
	[ "$(echo "$req" | jq '[.body.messages[].role] | map(select(. == "system")) | length')" -eq 0 ]
}

@test "ollama requests go to /api/chat with stream false and options" {
	mock_start
	run turn --provider ollama --base-url "$MOCK_URL" --model llama-mock --temperature 0.3 <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 0 ]
	local req; req=$(head -n 1 "$MOCK_LOG")
	[ "$(echo "$req" | jq -r .path)" = /api/chat ]
	[ "$(echo "$req" | jq -r .body.stream)" = false ]
	[ "$(echo "$req" | jq -r .body.options.temperature)" = 0.3 ]
	[ "$(echo "${lines[0]}" | jq -r '.messages[-1].content | length > 0')" = true ]
}

@test "the user simulator sees the conversation from the user's side, opening message kept" {
	mock_start
	echo '{"id":"f","messages":[{"role":"user","content":"OPENING"},{"role":"assistant","content":"ANSWER"}]}' >in.jsonl
	run turn --side user in.jsonl
	[ "$status" -eq 0 ]
	local req; req=$(head -n 1 "$MOCK_LOG")
	[ "$(echo "$req" | jq -r '.body.messages[1].role + ":" + .body.messages[1].content')" = "assistant:OPENING" ]
	[ "$(echo "$req" | jq -r '.body.messages[2].role + ":" + .body.messages[2].content')" = "user:ANSWER" ]
	[ "$(echo "$output" | jq -r '.messages[2].role')" = user ]
}

@test "a 429 with retry-after is waited out, not dropped" {
	printf '429 retry-after-ms=300\nok\n' >script
	mock_start --script script
	echo '{"id":"x","messages":[{"role":"user","content":"hi"}]}' >in.jsonl
	run turn in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.messages[1].role')" = assistant ]
	[ "$(mock_requests)" -eq 2 ]
	[ "$(jq -r .outcome "$MOCK_LOG" | tr '\n' ' ')" = "429 ok " ]
}

@test "5xx, 502 pages, 529 and dropped connections are retried" {
	printf '500\n502\n503\n529\ndrop\nok\n' >script
	mock_start --script script
	echo '{"id":"x","messages":[{"role":"user","content":"hi"}]}' >in.jsonl
	run turn in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.messages | length')" -eq 2 ]
	[ "$(mock_requests)" -eq 6 ]
}

@test "a 400 is not retried: the record goes to the rejects with the reason, exit 1" {
	printf '400\n' >script
	mock_start --script script
	printf '%s\n' '{"id":"bad","messages":[{"role":"user","content":"hi"}]}' '{"id":"good","messages":[{"role":"user","content":"yo"}]}' >in.jsonl
	run turn -j 1 --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -r .id)" = good ]
	[ "$(jq -r .id rej.jsonl)" = bad ]
	[[ "$(jq -r .error.reason rej.jsonl)" == *"HTTP 400"* ]]
	[ "$(mock_requests)" -eq 2 ]
}

@test "a quota 429 and x-should-retry: false are not retried" {
	printf 'quota\nnoretry\n' >script
	mock_start --script script
	printf '%s\n' '{"id":"a","messages":[{"role":"user","content":"hi"}]}' '{"id":"b","messages":[{"role":"user","content":"yo"}]}' >in.jsonl
	run turn -j 1 --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[ "$(wc -l <rej.jsonl)" -eq 2 ]
	[ "$(mock_requests)" -eq 2 ]
}

@test "a request past the timeout is retried" {
	printf 'stall\nok\n' >script
	mock_start --script script --stall-ms 5000
	echo '{"id":"x","messages":[{"role":"user","content":"hi"}]}' >in.jsonl
	run turn --timeout 0.5 in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.messages | length')" -eq 2 ]
	[ "$(mock_requests)" -eq 2 ]
}

@test "a non-JSON body is retried" {
	printf 'garbage\nok\n' >script
	mock_start --script script
	echo '{"id":"x","messages":[{"role":"user","content":"hi"}]}' >in.jsonl
	run turn in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.messages | length')" -eq 2 ]
	[ "$(mock_requests)" -eq 2 ]
}

@test "an empty simulator message is asked for again once, then the record is rejected" {
	printf 'invalid\nok\ninvalid\ninvalid\n' >script
	mock_start --script script
	printf '%s\n' '{"id":"a","messages":[]}' '{"id":"b","messages":[]}' >in.jsonl
	run turn -j 1 --side user --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -r .id)" = a ]
	[ "$(echo "$output" | jq -r '.messages[0].content | length > 0')" = true ]
	[[ "$(sed -n 2p "$MOCK_LOG" | jq -r '.body.messages[-1].content')" == *"could not be used"* ]]
	[ "$(jq -r .id rej.jsonl)" = b ]
	[ "$(mock_requests)" -eq 4 ]
}

@test "with -j 16 and random latency the output keeps the input order" {
	mock_start --latency 1..60
	for i in $(seq 1 200); do echo "{\"id\":\"r$i\",\"messages\":[{\"role\":\"user\",\"content\":\"q$i\"}]}"; done >in.jsonl
	run turn -j 16 in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .id | tr '\n' ' ')" = "$(jq -r .id in.jsonl | tr '\n' ' ')" ]
}

@test "--unordered writes every record once, as it finishes" {
	# 16 at a time with answers taking 1 to 100 ms: finishing in input order
	# by luck is out of the question
	mock_start --latency 1..100
	for i in $(seq -w 1 48); do echo "{\"id\":\"r$i\",\"messages\":[{\"role\":\"user\",\"content\":\"q$i\"}]}"; done >in.jsonl
	run turn -j 16 --unordered in.jsonl
	[ "$status" -eq 0 ]
	# r01..r48 sort into input order: the same ids, each once, in another order
	[ "$(echo "$output" | jq -r .id | sort | tr '\n' ' ')" = "$(jq -r .id in.jsonl | tr '\n' ' ')" ]
	[ "$(echo "$output" | jq -r .id | tr '\n' ' ')" != "$(jq -r .id in.jsonl | tr '\n' ' ')" ]
}

@test "a second identical run sends zero requests and writes the same bytes" {
	mock_start
	turn <"$FIXTURES/conv3.jsonl" >first.jsonl
	local n; n=$(mock_requests)
	[ "$n" -eq 2 ]
	turn <"$FIXTURES/conv3.jsonl" >second.jsonl
	[ "$(mock_requests)" -eq "$n" ]
	cmp first.jsonl second.jsonl
	run scg-turn --no-cache <"$FIXTURES/conv3.jsonl"
	[ "$(mock_requests)" -eq $((n + 2)) ]
}

@test "the API key appears nowhere: stdout, stderr, cache, rejects, mock log" {
	local key=sk-SECRET-b7e1c0ffee42
	printf '400\n' >script
	mock_start --key "$key" --script script
	export OPENAI_API_KEY=$key
	scg-turn --rejects rej.jsonl --progress <"$FIXTURES/conv3.jsonl" >out.jsonl 2>err.txt || true
	SCG_BASE_URL=http://127.0.0.1:1/v1 scg-turn --retries 0 <"$FIXTURES/conv3.jsonl" >>out.jsonl 2>>err.txt || true
	OPENAI_API_KEY=wrong-key-zz scg-turn --retries 0 --no-cache <"$FIXTURES/conv3.jsonl" >>out.jsonl 2>>err.txt || true
	scg-turn --dry-run <"$FIXTURES/conv3.jsonl" >>out.jsonl 2>>err.txt
	[ -s out.jsonl ] && [ -s err.txt ] && [ -s rej.jsonl ]
	! grep -r -- "$key" out.jsonl err.txt rej.jsonl "$SCG_CACHE" "$MOCK_LOG"
}

@test "bad input lines are named with their line number; --on-error=skip goes on" {
	mock_start
	printf '%s\n' '{"id":"a","messages":[{"role":"user","content":"hi"}]}' 'not json' '[1,2]' >in.jsonl
	printf '{"id":"u","messages":[{"role":"user","content":"\xff\xfe"}]}\n' >>in.jsonl
	run scg-turn -q in.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"scg-turn: in.jsonl:2: not JSON"* ]]
	run scg-turn -q --on-error=skip --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"in.jsonl:3: not a JSON object"* ]]
	[[ "$output" == *"in.jsonl:4: invalid UTF-8 at byte"* ]]
	[ "$(jq -s length rej.jsonl)" -eq 3 ]
	[ "$(jq -r .error.line rej.jsonl | tr '\n' ' ')" = "2 3 4 " ]
}

@test "a 10 MB line is read and answered; empty input writes nothing and exits 0" {
	mock_start
	head -c 10000000 /dev/zero | tr '\0' 'a' >big.txt
	{ printf '{"id":"big","messages":[{"role":"user","content":"'; cat big.txt; printf '"}]}\n'; } >in.jsonl
	run scg-turn -q --no-cache in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.messages | length')" -eq 2 ]
	run scg-turn -q </dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "a closed stdout (| head -1) ends the program quietly" {
	mock_start
	for i in $(seq 1 300); do echo "{\"id\":\"r$i\",\"messages\":[{\"role\":\"user\",\"content\":\"q$i\"}]}"; done >in.jsonl
	# pipefail: the status is scg-turn's, not head's
	run bash -c 'set -o pipefail; scg-turn -q in.jsonl 2>err.txt | head -n 1'
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .id)" = r1 ]
	[ ! -s err.txt ]
}

@test "bad options and bad values exit 2 with one line and the usage hint" {
	run scg-turn --bogus
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown option '--bogus'"* ]]
	[[ "$output" == *"Try 'scg-turn --help'"* ]]
	run scg-turn -j 0
	[ "$status" -eq 2 ]
	run scg-turn --side sideways
	[ "$status" -eq 2 ]
	run scg-turn --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
	run scg-turn --version
	[ "$status" -eq 0 ]
}

@test "no key for the official API is a configuration error, exit 2" {
	run scg-turn --model gpt-4o-mini </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"OPENAI_API_KEY"* ]]
}

@test "scg names no model of its own: without --model or SCG_MODEL it is one line, exit 2, nothing sent" {
	mock_start
	unset SCG_MODEL
	local p
	for p in "scg-turn --side user" "scg-judge" "scg-scenes --kind topic" "scg-restyle" "scg-dpo" \
		"scg-personas -a $BATS_TEST_DIRNAME/../examples/assistant.yaml -n 1" "scg-turn --dry-run"; do
		run $p <"$FIXTURES/conv3.jsonl"
		[ "$status" -eq 2 ]
		[ "$output" = "${p%% *}: no model named: give --model NAME or set SCG_MODEL (scg names no model of its own)" ]
	done
	for p in anthropic ollama; do
		run scg-turn --provider $p <"$FIXTURES/conv3.jsonl"
		[ "$status" -eq 2 ]
		[[ "$output" == *"no model named"* ]]
	done
	[ "$(mock_requests)" -eq 0 ]
	# the assistant under test needs none
	export SCG_MOCK_PORT=$MOCK_PORT
	run scg-turn -q --side assistant -e "$BATS_TEST_DIRNAME/../examples/endpoints/mock.yaml" <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 1 ]   # c2 has no user message to answer
	[ "$(mock_requests)" -ge 1 ]
}

@test "an endpoint file plays the assistant under test" {
	mock_start
	export SCG_MOCK_PORT=$MOCK_PORT
	run turn --side assistant -e "$BATS_TEST_DIRNAME/../examples/endpoints/mock.yaml" <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 1 ]   # c2 has no user message to answer
	[ "$(echo "${lines[0]}" | jq -r '.messages[-1].role')" = assistant ]
	local req; req=$(head -n 1 "$MOCK_LOG")
	[ "$(echo "$req" | jq -r .body.model)" = mock-assistant ]
	[ "$(echo "$req" | jq -r '.body.messages[0].content')" = "You are a friendly support assistant for a bike shop." ]
	[ "$(echo "$req" | jq -r '.body.messages[1].content')" = "My chain slips on hills." ]
}

@test "the assistant's system prompt is recorded first and sent to the endpoint once" {
	mock_start
	export SCG_MOCK_PORT=$MOCK_PORT
	local ep=$BATS_TEST_DIRNAME/../examples/endpoints/mock.yaml
	echo '{"id":"s","assistant":{"name":"Spoke","description":"A bike shop assistant."},"messages":[{"role":"user","content":"hi"}]}' >in.jsonl
	run turn --side assistant -e "$ep" in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c '[.messages[].role]')" = '["system","user","assistant"]' ]
	[ "$(echo "$output" | jq -r '.messages[0].content')" = "You are a friendly support assistant for a bike shop." ]
	# the next round: the user's side never sees it, the endpoint gets it once
	echo "$output" | jq -c '.messages += [{role: "user", content: "and then?"}]' >in2.jsonl
	: >"$MOCK_LOG"
	run turn --side assistant -e "$ep" in2.jsonl
	[ "$(jq '[.body.messages[] | select(.role == "system")] | length' "$MOCK_LOG")" -eq 1 ]
	[ "$(echo "$output" | jq '[.messages[] | select(.role == "system")] | length')" -eq 1 ]
	echo "$output" >in3.jsonl
	: >"$MOCK_LOG"
	run turn --side user in3.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.body.messages[1:][] | .role]' "$MOCK_LOG")" = '["assistant","user","assistant","user"]' ]
	# an endpoint without system: the card's, recorded only: the endpoint
	# keeps its own prompt
	printf 'url: %s/v1/chat/completions\nbody: {model: m}\nresponse_path: [choices, 0, message, content]\n' "$MOCK_URL" >nosys.yaml
	: >"$MOCK_LOG"
	run turn --side assistant -e nosys.yaml in.jsonl
	[ "$(echo "$output" | jq -r '.messages[0].content')" = "You are Spoke. A bike shop assistant." ]
	[ "$(jq '[.body.messages[] | select(.role == "system")] | length' "$MOCK_LOG")" -eq 0 ]
	# --no-system leaves the record as it was
	run turn --side assistant -e "$ep" --no-system in.jsonl
	[ "$(echo "$output" | jq -c '[.messages[].role]')" = '["user","assistant"]' ]
	# a model plays the assistant: the card's too
	run turn --side assistant in.jsonl
	[ "$(echo "$output" | jq -r '.messages[0].content')" = "You are Spoke. A bike shop assistant." ]
}

@test "an endpoint file with a missing \${VAR} is an error naming it" {
	unset SCG_MOCK_PORT
	run scg-turn --side assistant -e "$BATS_TEST_DIRNAME/../examples/endpoints/mock.yaml" </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"SCG_MOCK_PORT"* ]]
}

@test "an endpoint command gets the record on stdin; record text never reaches a shell" {
	echo '{"id":"x","messages":[{"role":"user","content":"$(touch pwned) `touch pwned2`; touch pwned3"}]}' >in.jsonl
	run scg-turn -q --side assistant --endpoint-cmd 'jq -r ".messages[-1].content | ascii_upcase"' in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.messages[1].content')" = '$(TOUCH PWNED) `TOUCH PWNED2`; TOUCH PWNED3' ]
	[ ! -e pwned ] && [ ! -e pwned2 ] && [ ! -e pwned3 ]
}

@test "--dry-run prints the requests with estimated tokens and sends none" {
	mock_start
	run scg-turn --dry-run <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 0 ]
	[ "$(mock_requests)" -eq 0 ]
	[ "$(echo "$output" | grep -c '"est_prompt_tokens"')" -eq 2 ]
	[[ "$output" == *"requests (dry run)"* ]]
}

@test "the same seed gives the same requests; another seed draws other temperatures" {
	mock_start
	turn -j 1 --temperature 0.2..1.0 --seed 1 <"$FIXTURES/conv3.jsonl" >/dev/null
	turn -j 1 --temperature 0.2..1.0 --seed 1 --no-cache <"$FIXTURES/conv3.jsonl" >/dev/null
	turn -j 1 --temperature 0.2..1.0 --seed 2 --no-cache <"$FIXTURES/conv3.jsonl" >/dev/null
	[ "$(mock_requests)" -eq 6 ]
	[ "$(sed -n 1,2p "$MOCK_LOG" | jq -c .body)" = "$(sed -n 3,4p "$MOCK_LOG" | jq -c .body)" ]
	[ "$(sed -n 1,2p "$MOCK_LOG" | jq -c .body.temperature)" != "$(sed -n 5,6p "$MOCK_LOG" | jq -c .body.temperature)" ]
	[ "$(sed -n 1p "$MOCK_LOG" | jq -c .body.temperature)" != "$(sed -n 2p "$MOCK_LOG" | jq -c .body.temperature)" ]
}
