#!/usr/bin/env bats
# scg-mock: the fake OpenAI / Anthropic / Ollama server the other tests use.

load helper

# post PATH BODY [curl args]: the body lands in $out, the status in $code.
post() {
	local path=$1 body=$2
	shift 2
	code=$(curl -s -o "$BATS_TEST_TMPDIR/resp" -D "$BATS_TEST_TMPDIR/headers" \
		-w '%{http_code}' -H 'content-type: application/json' "$@" \
		--data-binary "$body" "$MOCK_URL$path")
	out=$(cat "$BATS_TEST_TMPDIR/resp")
}

# hdr NAME: a response header of the last post, without the CR.
hdr() {
	grep -i "^$1:" "$BATS_TEST_TMPDIR/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'
}

oa() { post /v1/chat/completions "$@"; }
an() { post /v1/messages "$1" -H 'anthropic-version: 2023-06-01' "${@:2}"; }
# an_rejects BODY JQ: the Anthropic route answers 400 and JQ holds for the body.
an_rejects() {
	an "$1"
	[ "$code" = 400 ]
	jq -e "$2" <<<"$out"
}
HI='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
AHI='{"model":"claude-x","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}'
# oa_permanent_429 JQ: the OpenAI route answers a 429 with no retry hint
# (waiting does not cure it) and JQ holds for the body.
oa_permanent_429() {
	oa "$HI"
	[ "$code" = 429 ]
	jq -e "$1" <<<"$out"
	[ -z "$(hdr retry-after)" ] && [ -z "$(hdr retry-after-ms)" ]
}

@test "--port 0 prints the bound port first and /health answers ok" {
	mock_start
	[[ $MOCK_PORT =~ ^[0-9]+$ ]]
	[ "$(wc -l <"$MOCK_OUT")" -eq 1 ]
	run curl -s "$MOCK_URL/health"
	[ "$output" = '{"status":"ok"}' ]
}

@test "an OpenAI chat completion has the documented shape" {
	mock_start
	oa '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"hello, world"}]}'
	[ "$code" = 200 ]
	jq -e '(.id | startswith("chatcmpl-")) and .object == "chat.completion"
		and (.created | type == "number") and .model == "gpt-4o-mini"
		and .choices[0].message.role == "assistant" and .choices[0].message.refusal == null
		and (.choices[0].message.content | test("^\\[[0-9a-f]{8}\\] [A-Z]"))
		and .choices[0].finish_reason == "stop" and .system_fingerprint == "fp_mock"
		and .usage.prompt_tokens == 14
		and .usage.total_tokens == .usage.prompt_tokens + .usage.completion_tokens' <<<"$out"
	[[ $(hdr x-request-id) == req_* ]]
	[ "$(hdr content-type)" = application/json ]
	post /chat/completions "$HI"
	[ "$code" = 200 ]
}

@test "usage counts the mock's tokens: words by eight letters, digits by three, marks by two" {
	mock_start
	# "abcdefghijklm" 2, "?" 1, "x" 1, "12345" 2, the 5 marks {":"} 3; + 4 for the message
	oa '{"model":"m","messages":[{"role":"user","content":"abcdefghijklm ? x 12345 {\":\"}"}]}'
	jq -e '.usage.prompt_tokens == 13' <<<"$out"
	text=$(jq -r '.choices[0].message.content' <<<"$out")
	words=$(tr -c 'A-Za-z0-9\n' ' ' <<<"$text" | wc -w)
	n=$(jq '.usage.completion_tokens' <<<"$out")
	# vocabulary words are at most 8 letters: one token each, plus the tag and marks
	[ "$n" -ge "$words" ]
	[ "$n" -le $((${#text} / 2)) ]
}

@test "an Anthropic message has content blocks, stop_reason and usage" {
	mock_start
	an '{"model":"claude-x","max_tokens":64,"system":"Be terse.","messages":[{"role":"user","content":"hi"}]}'
	[ "$code" = 200 ]
	jq -e '(.id | startswith("msg_")) and .type == "message" and .role == "assistant"
		and .model == "claude-x" and .content[0].type == "text"
		and (.content[0].text | length > 10) and .stop_reason == "end_turn"
		and .usage.input_tokens == 12 and .usage.output_tokens > 0
		and (has("usage") and (.usage | has("total_tokens") | not))' <<<"$out"
	[[ $(hdr request-id) == req_* ]]
}

@test "Ollama /api/chat streams NDJSON by default and answers once with stream false" {
	mock_start
	post /api/chat '{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}'
	[ "$code" = 200 ]
	[ "$(hdr content-type)" = application/x-ndjson ]
	[ "$(wc -l <<<"$out")" -ge 3 ]
	jq -e '.model == "llama3.2" and .message.role == "assistant"' <<<"$out" >/dev/null
	last=$(tail -n 1 <<<"$out")
	jq -e '.done == true and .done_reason == "stop" and .prompt_eval_count == 5
		and .eval_count > 0 and .total_duration > 0 and .eval_duration > 0' <<<"$last"
	[ "$(head -n -1 <<<"$out" | jq -s 'map(.done) | all(. == false)')" = true ]
	streamed=$(head -n -1 <<<"$out" | jq -j '.message.content')
	post /api/chat '{"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"hi"}]}'
	[ "$(wc -l <<<"$out")" -eq 1 ]
	jq -e '.done == true and (.message.content | length > 10)' <<<"$out"
	[ -n "$streamed" ]
}

@test "OpenAI stream true gives SSE chunks, a usage chunk and [DONE]" {
	mock_start
	oa '{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}'
	[ "$(hdr content-type)" = text/event-stream ]
	[ "$(tail -n 1 <<<"$out")" = 'data: [DONE]' ]
	chunks=$(grep '^data: {' <<<"$out" | sed 's/^data: //')
	[ "$(jq -s 'map(.id) | unique | length' <<<"$chunks")" = 1 ]
	jq -s -e '.[-1].usage.prompt_tokens == 5 and .[-1].choices == []
		and .[-2].choices[0].finish_reason == "stop"
		and .[0].choices[0].delta.role == "assistant"' <<<"$chunks"
	text=$(jq -j '.choices[0].delta.content // empty' <<<"$chunks")
	oa '{"model":"m","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true},"stream":true}'
	[[ $text == \[*\]\ * ]]
}

@test "the same body gets the same answer from any process, a different body another" {
	mock_start
	oa "$HI"
	first=$(jq -r '.choices[0].message.content' <<<"$out")
	oa '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi!"}]}'
	other=$(jq -r '.choices[0].message.content' <<<"$out")
	mock_stop
	mock_start
	oa "$HI"
	again=$(jq -r '.choices[0].message.content' <<<"$out")
	[ "$first" = "$again" ]
	[ "$first" != "$other" ]
	[ "${first:0:10}" != "${other:0:10}" ]
	mock_stop
	mock_start --seed 7
	oa "$HI"
	[ "$(jq -r '.choices[0].message.content' <<<"$out")" != "$first" ]
}

@test "generated texts share no five-word run, so a near-duplicate filter keeps them" {
	mock_start
	for i in $(seq 1 16); do
		oa "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"q$i\"}]}"
		jq -r '.choices[0].message.content' <<<"$out" | tr -d '.' | tr 'A-Z' 'a-z' |
			cut -d' ' -f2- | awk -v d="$i" '{ for (j = 1; j + 4 <= NF; j++)
				print d, $j, $(j+1), $(j+2), $(j+3), $(j+4) }'
	done >"$BATS_TEST_TMPDIR/shingles"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/shingles")" -gt 50 ]
	shared=$(cut -d' ' -f2- "$BATS_TEST_TMPDIR/shingles" | sort | uniq -d | wc -l)
	[ "$shared" -eq 0 ]
}

SCHEMA='{"type":"object","additionalProperties":false,
 "required":["name","age","mood","tags","score","ok","note","when","nested"],
 "properties":{"name":{"type":"string","minLength":3,"maxLength":20},
  "age":{"type":"integer","minimum":18,"maximum":30},
  "mood":{"type":"string","enum":["calm","curt","lost"]},
  "tags":{"type":"array","items":{"type":"string"},"minItems":2,"maxItems":4},
  "score":{"type":"number","minimum":0.5,"maximum":0.75},
  "ok":{"type":"boolean"},"note":{"type":["string","null"]},
  "when":{"type":"string","format":"date"},
  "nested":{"anyOf":[{"$ref":"#/$defs/pair"},{"type":"null"}]}},
 "$defs":{"pair":{"type":"object","properties":{"a":{"const":"x"},"b":{"type":"null"}},"required":["a","b"]}}}'

# valid FILE: the answer in FILE satisfies $SCHEMA
valid() {
	jq -e '(keys | sort) == (["name","age","mood","tags","score","ok","note","when","nested"] | sort)
		and (.name | type == "string" and length >= 3 and length <= 20)
		and (.age | type == "number" and . == floor and . >= 18 and . <= 30)
		and (.mood | IN("calm","curt","lost"))
		and (.tags | type == "array" and length >= 2 and length <= 4 and all(type == "string"))
		and (.score >= 0.5 and .score <= 0.75) and (.ok | type == "boolean")
		and (.note | type == "string" and (split(" ") | length) >= 6)
		and (.when | test("^20[0-9]{2}-[01][0-9]-[0-3][0-9]$"))
		and .nested == {"a":"x","b":null}' "$1"
}

@test "a json_schema request gets JSON valid against the schema, on every route" {
	mock_start
	for i in 1 2 3 4 5; do
		oa "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"p$i\"}],
		     \"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\",\"strict\":true,\"schema\":$SCHEMA}}}"
		jq -r '.choices[0].message.content' <<<"$out" >"$BATS_TEST_TMPDIR/a.json"
		valid "$BATS_TEST_TMPDIR/a.json"
	done
	an "{\"model\":\"c\",\"max_tokens\":500,\"messages\":[{\"role\":\"user\",\"content\":\"p\"}],
	     \"tools\":[{\"name\":\"record\",\"input_schema\":$SCHEMA}],
	     \"tool_choice\":{\"type\":\"tool\",\"name\":\"record\"}}"
	jq -e '.stop_reason == "tool_use" and .content[0].type == "tool_use"
		and .content[0].name == "record" and (.content[0].id | startswith("toolu_"))' <<<"$out"
	jq '.content[0].input' <<<"$out" >"$BATS_TEST_TMPDIR/a.json"
	valid "$BATS_TEST_TMPDIR/a.json"
	an "{\"model\":\"c\",\"max_tokens\":500,\"messages\":[{\"role\":\"user\",\"content\":\"p\"}],
	     \"output_config\":{\"format\":{\"type\":\"json_schema\",\"schema\":$SCHEMA}}}"
	jq -r '.content[0].text' <<<"$out" >"$BATS_TEST_TMPDIR/a.json"
	valid "$BATS_TEST_TMPDIR/a.json"
	post /api/chat "{\"model\":\"l\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"p\"}],\"format\":$SCHEMA}"
	jq -r '.message.content' <<<"$out" >"$BATS_TEST_TMPDIR/a.json"
	valid "$BATS_TEST_TMPDIR/a.json"
}

@test "JSON mode without a schema gets a small JSON object" {
	mock_start
	oa '{"model":"m","messages":[{"role":"user","content":"json"}],"response_format":{"type":"json_object"}}'
	jq -r '.choices[0].message.content' <<<"$out" | jq -e 'type == "object" and (.answer | length > 0)'
	post /api/chat '{"model":"l","stream":false,"format":"json","messages":[{"role":"user","content":"x"}]}'
	jq -r '.message.content' <<<"$out" | jq -e 'type == "object"'
}

@test "--answers: a structured request whose body holds every match text gets the canned value, on every route" {
	cat >"$BATS_TEST_TMPDIR/answers.yaml" <<'EOF'
- match: [verdict, Ana]
  answer: {outcome: met, n: 1}
- match: verdict
  answer: {outcome: not met}
EOF
	mock_start --answers "$BATS_TEST_TMPDIR/answers.yaml"
	local rf='"response_format":{"type":"json_schema","json_schema":{"name":"verdict","schema":{"type":"object"}}}'
	oa "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Ana\"}],$rf}"
	[ "$(jq -r '.choices[0].message.content' <<<"$out" | jq -c .)" = '{"outcome":"met","n":1}' ]
	oa "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Bo\"}],$rf}"
	[ "$(jq -r '.choices[0].message.content' <<<"$out" | jq -c .)" = '{"outcome":"not met"}' ]
	# the first entry that matches wins; JSON mode counts as structured
	oa '{"model":"m","messages":[{"role":"user","content":"verdict for Ana"}],"response_format":{"type":"json_object"}}'
	[ "$(jq -r '.choices[0].message.content' <<<"$out" | jq -c .)" = '{"outcome":"met","n":1}' ]
	an '{"model":"c","max_tokens":50,"messages":[{"role":"user","content":"verdict"}],
	     "tools":[{"name":"verdict","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"verdict"}}'
	[ "$(jq -c '.content[0].input' <<<"$out")" = '{"outcome":"not met"}' ]
	post /api/chat '{"model":"l","stream":false,"format":{"type":"object"},"messages":[{"role":"user","content":"verdict Ana"}]}'
	[ "$(jq -r '.message.content' <<<"$out" | jq -c .)" = '{"outcome":"met","n":1}' ]
	# a plain request, or a structured one that no entry matches, is answered as usual
	oa '{"model":"m","messages":[{"role":"user","content":"verdict"}]}'
	[[ "$(jq -r '.choices[0].message.content' <<<"$out")" == "["* ]]
	oa '{"model":"m","messages":[{"role":"user","content":"other"}],"response_format":{"type":"json_object"}}'
	jq -r '.choices[0].message.content' <<<"$out" | jq -e 'has("answer")'
}

@test "--answers: a bad entry is an error naming the file and the entry, exit 2" {
	printf '{"match":"a","answer":1}\n{"match":[],"answer":2}\n' >"$BATS_TEST_TMPDIR/answers.jsonl"
	run scg-mock --answers "$BATS_TEST_TMPDIR/answers.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"answers.jsonl: entry 2: expected"* ]]
	printf '{"match":"a","answer":1}\n{"match":\n' >"$BATS_TEST_TMPDIR/answers.jsonl"
	run scg-mock --answers "$BATS_TEST_TMPDIR/answers.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"answers.jsonl:2:"* ]]
}

@test "reasoning models reject max_tokens and a temperature other than 1, verbatim" {
	mock_start
	oa '{"model":"o3-mini","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}'
	[ "$code" = 400 ]
	[ "$out" = '{"error":{"message":"Unsupported parameter: '"'max_tokens'"' is not supported with this model. Use '"'max_completion_tokens'"' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}' ]
	oa '{"model":"gpt-5","temperature":0.2,"messages":[{"role":"user","content":"hi"}]}'
	[ "$code" = 400 ]
	[ "$out" = '{"error":{"message":"Unsupported value: '"'temperature'"' does not support 0.2 with this model. Only the default (1) value is supported.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}' ]
	oa '{"model":"o4-mini","temperature":1,"max_completion_tokens":50,"messages":[{"role":"user","content":"hi"}]}'
	[ "$code" = 200 ]
	oa '{"model":"gpt-4o","temperature":0.2,"max_tokens":50,"messages":[{"role":"user","content":"hi"}]}'
	[ "$code" = 200 ]
}

@test "Anthropic requires anthropic-version and max_tokens and one of temperature/top_p" {
	mock_start
	post /v1/messages "$AHI"
	[ "$code" = 400 ]
	jq -e '.type == "error" and .error.type == "invalid_request_error"
		and (.error.message | test("anthropic-version")) and (.request_id | startswith("req_"))' <<<"$out"
	an_rejects '{"model":"c","messages":[{"role":"user","content":"hi"}]}' \
		'.error.message == "max_tokens: Field required"'
	an_rejects '{"model":"c","max_tokens":9,"temperature":0.5,"top_p":0.9,"messages":[{"role":"user","content":"hi"}]}' \
		'.error.message | test("cannot both be specified")'
	an_rejects '{"model":"c","max_tokens":9,"messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}]}' \
		'.error.message | test("system")'
	an '{"model":"c","max_tokens":9,"messages":[{"role":"assistant","content":"a"},{"role":"user","content":"hi"},{"role":"user","content":"again"}]}'
	[ "$code" = 200 ]
}

@test "--strict enforces Anthropic's first-user and alternation rules" {
	mock_start --strict
	an_rejects '{"model":"c","max_tokens":9,"messages":[{"role":"assistant","content":"a"},{"role":"user","content":"hi"}]}' \
		'.error.message == "messages: first message must use the \"user\" role"'
	an_rejects '{"model":"c","max_tokens":9,"messages":[{"role":"user","content":"a"},{"role":"user","content":"hi"}]}' \
		'.error.message == "messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"user\" roles in a row"'
	[ "$(hdr x-should-retry)" = false ]
	an "$AHI"
	[ "$code" = 200 ]
}

@test "--key answers 401 in the provider's shape and never echoes the key" {
	mock_start --key sk-sekrit-123
	oa "$HI"
	[ "$code" = 401 ]
	jq -e '.error.type == "invalid_request_error"' <<<"$out"
	oa "$HI" -H 'Authorization: Bearer sk-wrong-999'
	[ "$code" = 401 ]
	[[ $out != *sk-* ]]
	oa "$HI" -H 'Authorization: Bearer sk-sekrit-123'
	[ "$code" = 200 ]
	an "$AHI" -H 'x-api-key: sk-wrong-999'
	[ "$code" = 401 ]
	jq -e '.type == "error" and .error.type == "authentication_error"' <<<"$out"
	[[ $out != *sk-* ]]
	an "$AHI" -H 'x-api-key: sk-sekrit-123'
	[ "$code" = 200 ]
	run cat "$MOCK_LOG" "$BATS_TEST_TMPDIR/mock.err"
	[[ $output == *"[redacted]"* ]]
	[[ $output != *sekrit* ]]
}

@test "the log holds every request with its headers, secrets redacted" {
	mock_start
	oa "$HI" -H 'Authorization: Bearer sk-live-abc' -H 'X-Stainless-Retry-Count: 2' -H 'X-Custom-Token: t0k'
	an "$AHI" -H 'x-api-key: sk-ant-def'
	post /v1/chat/completions 'not json'
	[ "$(mock_requests)" = 3 ]
	run grep -c -e sk-live -e sk-ant -e t0k "$MOCK_LOG"
	[ "$output" = 0 ]
	jq -s -e '.[0].n == 1 and .[0].method == "POST" and .[0].path == "/v1/chat/completions"
		and .[0].headers.authorization == "[redacted]"
		and .[0].headers["x-custom-token"] == "[redacted]"
		and .[0].headers["x-stainless-retry-count"] == "2"
		and .[0].body.messages[0].content == "hi"
		and .[0].outcome == "ok" and .[0].status == 200
		and .[1].headers["x-api-key"] == "[redacted]"
		and .[1].headers["anthropic-version"] == "2023-06-01"
		and .[2].body == "not json" and .[2].status == 400' "$MOCK_LOG"
}

@test "a body that is not JSON, or lacks model or messages, is a 400 in the provider's shape" {
	mock_start
	oa '{"model":'
	[ "$code" = 400 ]
	jq -e '.error.type == "invalid_request_error" and has("error")' <<<"$out"
	oa '{"messages":[]}'
	[ "$code" = 400 ]
	oa '{"model":"m"}'
	[ "$code" = 400 ]
	jq -e '.error.param == "messages"' <<<"$out"
	post /api/chat '{"messages":[]}'
	[ "$code" = 400 ]
	jq -e '.error == "model is required"' <<<"$out"
	an '{"max_tokens":5,"messages":[]}'
	[ "$code" = 400 ]
	jq -e '.error.message == "model: Field required"' <<<"$out"
	run curl -s -o /dev/null -w '%{http_code}' "$MOCK_URL/v1/nothing"
	[ "$output" = 404 ]
}

@test "--models makes other models 404 in each provider's shape" {
	mock_start --models gpt-4o-mini,claude-x,llama3.2
	oa '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'
	[ "$code" = 404 ]
	jq -e '.error.code == "model_not_found"
		and .error.message == "The model `gpt-4o` does not exist or you do not have access to it."' <<<"$out"
	an '{"model":"claude-y","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}'
	[ "$code" = 404 ]
	jq -e '.error.type == "not_found_error"' <<<"$out"
	post /api/chat '{"model":"qwen","messages":[]}'
	[ "$code" = 404 ]
	[ "$out" = '{"error":"model '"'qwen'"' not found"}' ]
	oa "$HI"
	[ "$code" = 200 ]
}

@test "--script gives its outcomes in arrival order, then normal answers" {
	printf '# warm-up faults\n429\n\n500\nok\n429 retry-after=3\n503\n' >"$BATS_TEST_TMPDIR/script"
	mock_start --script "$BATS_TEST_TMPDIR/script"
	codes=
	for i in 1 2 3 4 5 6; do
		oa "$HI"
		codes="$codes $code"
		[ "$i" != 4 ] || [ "$(hdr retry-after)" = 3 ]
		[ "$i" != 4 ] || [ -z "$(hdr retry-after-ms)" ]
	done
	[ "$codes" = " 429 500 200 429 503 200" ]
	[ "$(jq -s -c 'map(.outcome)' "$MOCK_LOG")" = '["429","500","ok","429","503","ok"]' ]
}

@test "--fail 429=1 answers 429 with retry-after-ms and rate-limit headers" {
	mock_start --fail 429=1 --retry-after-ms 250
	oa "$HI"
	[ "$code" = 429 ]
	jq -e '.error.code == "rate_limit_exceeded"' <<<"$out"
	[ "$(hdr retry-after-ms)" = 250 ]
	[ "$(hdr retry-after)" = 1 ]
	[ "$(hdr x-ratelimit-remaining-requests)" = 0 ]
	[ "$(hdr x-ratelimit-reset-requests)" = 250ms ]
	an "$AHI"
	[ "$code" = 429 ]
	jq -e '.error.type == "rate_limit_error"' <<<"$out"
	[ "$(hdr retry-after)" = 1 ]
	[[ $(hdr anthropic-ratelimit-requests-reset) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
}

@test "every fault kind has its status, shape and headers" {
	printf 'quota\n502\n529\nnoretry\n400\ngarbage\ninvalid\n408\n409\ntoolarge\ntoolarge\n' >"$BATS_TEST_TMPDIR/script"
	mock_start --script "$BATS_TEST_TMPDIR/script"
	oa_permanent_429 '.error.code == "insufficient_quota"'
	oa "$HI"
	[ "$code" = 502 ]
	[ "$(hdr content-type)" = text/html ]
	[[ $out == *"<html>"* ]]
	oa "$HI"
	[ "$code" = 529 ]
	jq -e '.error.type == "overloaded_error"' <<<"$out"
	oa "$HI"
	[ "$code" = 500 ]
	[ "$(hdr x-should-retry)" = false ]
	oa "$HI"
	[ "$code" = 400 ]
	jq -e '.error.type == "invalid_request_error"' <<<"$out"
	oa "$HI"
	[ "$code" = 200 ]
	run jq . <<<"$out"
	[ "$status" -ne 0 ]
	oa '{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}'
	[ "$code" = 200 ]
	jq -e '.choices[0].finish_reason == "length"' <<<"$out"
	run jq -e '.choices[0].message.content | fromjson' <<<"$out"
	[ "$status" -ne 0 ]
	for want in 408 409; do
		oa "$HI"
		[ "$code" = "$want" ]
	done
	oa_permanent_429 '.error.code == "rate_limit_exceeded" and (.error.message | startswith("Request too large"))'
	# Anthropic's too large is a 413
	an "$AHI"
	[ "$code" = 413 ]
	jq -e '.error.type == "request_too_large"' <<<"$out"
}

@test "script settings send retry-after, an HTTP-date retry-after, retry-after-ms and x-should-retry as given" {
	printf '400 should-retry=true\n503 retry-after=7 retry-after-ms=250\n429 retry-after-date=30\n429 retry-after=2 retry-after-ms=2500\nnoretry should-retry=true\n' >"$BATS_TEST_TMPDIR/script"
	mock_start --script "$BATS_TEST_TMPDIR/script"
	oa "$HI"
	[ "$code" = 400 ]
	[ "$(hdr x-should-retry)" = true ]
	oa "$HI"
	[ "$code" = 503 ]
	[ "$(hdr retry-after)" = 7 ]
	[ "$(hdr retry-after-ms)" = 250 ]
	oa "$HI"
	[ "$code" = 429 ]
	[ -z "$(hdr retry-after-ms)" ]
	local at; at=$(date -u -d "$(hdr retry-after)" +%s)
	[ "$((at - $(date +%s)))" -ge 20 ]
	oa "$HI"
	[ "$(hdr retry-after)" = 2 ]
	[ "$(hdr retry-after-ms)" = 2500 ]
	oa "$HI"
	[ "$code" = 500 ]
	[ "$(hdr x-should-retry)" = true ]
}

@test "drop closes the connection without a response" {
	mock_start --fail drop=1
	run curl -s "$MOCK_URL/v1/chat/completions" -d "$HI"
	[ "$status" -eq 52 ]
	jq -e '.outcome == "drop"' "$MOCK_LOG"
}

@test "a stall outlasts the client's timeout" {
	mock_start --fail stall=1 --stall-ms 60000
	run curl -s -m 1 "$MOCK_URL/v1/chat/completions" -d "$HI"
	[ "$status" -eq 28 ]
}

@test "--rpm answers 429 past N requests a minute, with the wait until a slot frees" {
	mock_start --rpm 2
	oa "$HI"; [ "$code" = 200 ]
	oa "$HI"; [ "$code" = 200 ]
	oa "$HI"
	[ "$code" = 429 ]
	ms=$(hdr retry-after-ms)
	[ "$ms" -gt 50000 ]
	[ "$ms" -le 60000 ]
	[ "$(hdr retry-after)" = 60 ] || [ "$(hdr retry-after)" = 59 ]
	[ "$(hdr x-ratelimit-limit-requests)" = 2 ]
	jq -s -e '.[2].outcome == "rpm"' "$MOCK_LOG"
}

@test "the --fail draw depends on --seed and the arrival number only" {
	mock_start --fail 500=0.5 --seed 3
	for i in $(seq 1 12); do oa "$HI"; printf '%s ' "$code"; done >"$BATS_TEST_TMPDIR/a"
	mock_stop
	mock_start --fail 500=0.5 --seed 3
	for i in $(seq 1 12); do oa "{\"model\":\"x$i\",\"messages\":[]}"; printf '%s ' "$code"; done >"$BATS_TEST_TMPDIR/b"
	diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	grep -q 500 "$BATS_TEST_TMPDIR/a"
	grep -q 200 "$BATS_TEST_TMPDIR/a"
}

@test "SIGTERM ends the server with status 0, even during a stall" {
	mock_start --fail stall=1 --stall-ms 60000
	curl -s -m 30 "$MOCK_URL/v1/chat/completions" -d "$HI" >/dev/null &
	for i in $(seq 1 100); do [ "$(mock_requests)" = 1 ] && break; sleep 0.05; done
	kill -TERM "$MOCK_PID"
	st=0
	wait "$MOCK_PID" || st=$?
	MOCK_PID=
	[ "$st" -eq 0 ]
	[ ! -s "$BATS_TEST_TMPDIR/mock.err" ]
}

@test "bad options exit 2 with a hint" {
	run scg-mock --fail 429=2
	[ "$status" -eq 2 ]
	[[ $output == *"Try 'scg-mock --help'"* ]]
	run scg-mock --fail bogus=0.1
	[ "$status" -eq 2 ]
	printf '429\nteapot\n' >"$BATS_TEST_TMPDIR/script"
	run scg-mock --script "$BATS_TEST_TMPDIR/script"
	[ "$status" -eq 2 ]
	[[ $output == *"script:2: unknown outcome 'teapot'"* ]]
}

@test "--log emptied while the server runs starts again at its first line" {
	mock_start
	for i in 1 2; do
		curl -s "$MOCK_URL/v1/chat/completions" -H 'content-type: application/json' \
			-d '{"model":"mock-1","messages":[{"role":"user","content":"hi"}]}' >/dev/null
	done
	: >"$MOCK_LOG"
	curl -s "$MOCK_URL/v1/chat/completions" -H 'content-type: application/json' \
		-d '{"model":"mock-1","messages":[{"role":"user","content":"again"}]}' >/dev/null
	[ "$(jq -c '[.n, .body.messages[0].content]' "$MOCK_LOG")" = '[3,"again"]' ]
	[ "$(head -c 1 "$MOCK_LOG")" = "{" ]
}
