#!/usr/bin/env bats
# API keys never appear in output, logs, the cache, the rejects or error
# messages, on the good path and on every error path.

load helper

OPENAI_KEY=sk-proj-SECRETopenai-5f1e2d3c4b5a
ANTHROPIC_KEY=sk-ant-SECRETanthropic-a1b2c3d4e5
GENERIC_KEY=scg-SECRETgeneric-99887766
FILE_KEY=file-SECRETfromfile-1234abcd
HEADER_TOKEN=tok-SECRETheader-77aa88bb

# everything a run leaves behind, for grep
leftovers() {
	printf '%s\n' out.txt err.txt rej.jsonl "$MOCK_LOG"
	find "$SCG_CACHE" -type f 2>/dev/null
}

no_secret_anywhere() {
	local k
	for k in "$OPENAI_KEY" "$ANTHROPIC_KEY" "$GENERIC_KEY" "$FILE_KEY" "$HEADER_TOKEN"; do
		if leftovers | xargs grep -l -F -- "$k" 2>/dev/null; then
			echo "secret $k leaked"
			return 1
		fi
	done
}

run_all() { # args: scg-turn options; appends to out.txt/err.txt, never fails
	scg-turn --progress --rejects rej.jsonl "$@" <"$FIXTURES/conv3.jsonl" >>out.txt 2>>err.txt || true
}

@test "keys stay secret on answers, 401, 403, 400, retries, bad base URLs and dry runs" {
	export OPENAI_API_KEY=$OPENAI_KEY ANTHROPIC_API_KEY=$ANTHROPIC_KEY
	printf '%s\n' "$FILE_KEY" >key.txt
	printf '403\n400\n500\nok\n' >script
	mock_start --key "$OPENAI_KEY" --script script
	: >out.txt
	: >err.txt
	run_all -j 1 --no-cache                 # 403, 400, a retried 500, answers
	run_all                                 # answers, cached
	OPENAI_API_KEY=wrong-key run_all --no-cache --retries 0     # 401
	run_all --key-file key.txt --no-cache --retries 0           # 401 with the file's key
	SCG_API_KEY=$GENERIC_KEY run_all --no-cache --retries 0     # 401 with the generic key
	run_all --provider anthropic --base-url "$MOCK_URL" --no-cache --retries 0
	run_all --base-url http://127.0.0.1:1/v1 --retries 0 --no-cache
	run_all --base-url "http://user:$OPENAI_KEY@127.0.0.1:1/v1" --retries 0 --no-cache
	run_all --dry-run
	run_all --dry-run --provider anthropic
	# the paths really ran
	grep -q '"status":403' "$MOCK_LOG"
	grep -q '"status":401' "$MOCK_LOG"
	grep -q 'HTTP 403' rej.jsonl
	grep -q 'HTTP 401' rej.jsonl
	grep -q 'est_prompt_tokens' out.txt
	[ -n "$(find "$SCG_CACHE" -type f)" ]
	no_secret_anywhere
}

@test "endpoint header values from \${VAR} stay secret too" {
	export SECRET_HEADER=$HEADER_TOKEN
	mock_start
	cat >ep.yaml <<EOF2
url: $MOCK_URL/v1/chat/completions
headers:
  Authorization: Bearer \${SECRET_HEADER}
  X-Api-Key: \${SECRET_HEADER}
body: {model: mock-assistant}
response_path: [choices, 0, message, content]
EOF2
	: >out.txt
	: >err.txt
	run_all --side assistant -e ep.yaml
	run_all --side assistant -e ep.yaml --dry-run
	sed -i 's|/v1/chat/completions|/nowhere|' ep.yaml
	run_all --side assistant -e ep.yaml --retries 0 --no-cache
	grep -q '"authorization":"\[redacted\]"' "$MOCK_LOG"
	grep -q 'mock-assistant' "$MOCK_LOG"
	no_secret_anywhere
}
