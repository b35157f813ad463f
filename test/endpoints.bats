#!/usr/bin/env bats
# The endpoint files shipped in examples/endpoints/ load and speak to the
# provider they name: each is copied with only its host pointed at
# scg-mock, which serves the OpenAI, Anthropic and Ollama routes on one port.

load helper

EP=$BATS_TEST_DIRNAME/../examples/endpoints

# reply NAME PATH AUTH: scg-turn --side assistant with a copy of NAME.yaml
# whose url keeps its path but points at scg-mock, every ${VAR} the copy
# names set to a dummy key. The reply must be appended, and the request must
# have gone to PATH carrying the key in header AUTH (the mock refuses it
# otherwise), or carrying no key at all when AUTH is empty. The record
# keeps the endpoint's system prompt first, and the request has it once.
reply() {
	local name=$1 path=$2 auth=$3 key=dummy-key-0451 var
	if [ -n "$auth" ]; then mock_start --key "$key"; else mock_start; fi
	sed "s#^url: *[a-z]*://[^/]*#url: $MOCK_URL#" "$EP/$name.yaml" >"$name.yaml"
	grep -qx "url: $MOCK_URL$path" "$name.yaml"
	for var in $(grep -o '\${[A-Za-z_][A-Za-z0-9_]*}' "$name.yaml" | tr -d '${}' | sort -u); do
		export "$var=$key"
	done
	run scg-turn -q --side assistant -e "$name.yaml" <<<'{"id":"e1","messages":[{"role":"user","content":"hello"}]}'
	[ "$status" -eq 0 ]
	jq -e '.id == "e1" and ([.messages[].role] == ["system", "user", "assistant"])
		and (.messages[2].content | length) > 0' <<<"$output" >/dev/null
	SYSTEM=$(jq -r '.messages[0].content' <<<"$output")
	[ "$(jq '[.body.messages[] | select(.role == "system")] | length' "$MOCK_LOG")" -le 1 ]
	[ "$(mock_requests)" -eq 1 ]
	jq -e --arg path "$path" --arg auth "$auth" '.path == $path and .status == 200
		and (if $auth == "" then (.headers | has("authorization") or has("x-api-key")) | not
			else .headers[$auth] == "[redacted]" end)' "$MOCK_LOG" >/dev/null
}

@test "every shipped endpoint example is tested here" {
	[ "$(cd "$EP" && echo *.yaml)" = "anthropic.yaml mock-v2.yaml mock.yaml ollama.yaml openai.yaml" ]
}

@test "endpoints/openai.yaml: Chat Completions, the key as Authorization: Bearer" {
	reply openai /v1/chat/completions authorization
	jq -e '.body.model == "gpt-4o-mini" and .body.messages[0].role == "system"' "$MOCK_LOG" >/dev/null
	[ "$SYSTEM" = "You are a helpful assistant." ]
}

@test "endpoints/anthropic.yaml: Messages API, the key as x-api-key, the version header" {
	reply anthropic /v1/messages x-api-key
	jq -e '.headers["anthropic-version"] == "2023-06-01" and .body.max_tokens == 1024
		and .body.system == "You are a helpful assistant."' "$MOCK_LOG" >/dev/null
	# the body's system (Anthropic's place for it) is the one recorded
	[ "$SYSTEM" = "You are a helpful assistant." ]
}

@test "endpoints/ollama.yaml: native /api/chat, no key" {
	reply ollama /api/chat ''
	jq -e '.body.model == "llama3.2" and .body.stream == false' "$MOCK_LOG" >/dev/null
	[ "$SYSTEM" = "You are a helpful assistant." ]
}

@test "endpoints/mock.yaml: scg-mock's Chat Completions, no key" {
	reply mock /v1/chat/completions ''
	jq -e '.body.model == "mock-assistant"' "$MOCK_LOG" >/dev/null
	[ "$SYSTEM" = "You are a friendly support assistant for a bike shop." ]
}

@test "endpoints/mock-v2.yaml: the same scg-mock, version 2's system prompt" {
	reply mock-v2 /v1/chat/completions ''
	jq -e '.body.model == "mock-assistant"' "$MOCK_LOG" >/dev/null
	[[ "$SYSTEM" == "You are Spoke, the assistant of Spoke & Chain, a bike shop. Book repairs,"* ]]
}
