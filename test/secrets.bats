#!/usr/bin/env bats
# Secrets (API keys, key files, values from ${VAR}, URL userinfo) never come
# out: not whole and not in pieces, on the good path and on every error
# path, even when the server echoes them back. The mock echoes what it is
# sent (echo401, echo) and is told the secrets to keep out of its own log.

load helper

# a 164-character key, like the longest real ones
LONG_KEY=sk-proj-SECRET$(printf '%s' {A..Z}{0..5} | head -c 150)
ANTHROPIC_KEY=sk-ant-SECRETqwzxv-a1b2c3d4e5
GENERIC_KEY=scg-SECRETgeneric-99887766
FILE_KEY=file-SECRETfromfile-1234abcd
HEADER_TOKEN=tok-SECRETheader-77aa88bb-ccdd
URL_SIG=sig-SECRETurl-0f1e2d3c4b5a
BODY_TENANT=tenant-SECRETbody-55aa66bb
USERINFO_PASS=pw-SECRETuserinfo-31415926

# pieces: every 8-character run of every secret, one a line
pieces() {
	local k i
	for k in "$LONG_KEY" "$ANTHROPIC_KEY" "$GENERIC_KEY" "$FILE_KEY" "$HEADER_TOKEN" \
		"$URL_SIG" "$BODY_TENANT" "$USERINFO_PASS" \
		"$(printf 'u:%s' "$USERINFO_PASS" | base64 -w0)"; do
		for ((i = 0; i + 8 <= ${#k}; i++)); do
			printf '%s\n' "${k:i:8}"
		done
	done
}

# everything a run leaves behind
leftovers() {
	printf '%s\n' out.txt err.txt rej.jsonl "$MOCK_LOG"
	find "$SCG_CACHE" -type f 2>/dev/null
}

# no_piece_anywhere: no run of 8 characters of any secret in any leftover
no_piece_anywhere() {
	pieces >pieces.txt
	local hits
	hits=$(leftovers | xargs grep -F -o -f pieces.txt 2>/dev/null | sort -u | head -n 5)
	[ -z "$hits" ] || { echo "secret pieces leaked: $hits"; return 1; }
}

run_all() { # args: scg-turn options [file]; appends to out.txt/err.txt, never fails
	scg-turn --progress --rejects rej.jsonl "$@" <"$FIXTURES/conv3.jsonl" >>out.txt 2>>err.txt || true
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	: >out.txt
	: >err.txt
	: >rej.jsonl
}

@test "keys stay secret on answers, 401, 403, 400, retries, bad base URLs and dry runs" {
	export OPENAI_API_KEY=$LONG_KEY ANTHROPIC_API_KEY=$ANTHROPIC_KEY
	printf '%s\n' "$FILE_KEY" >key.txt
	printf '403\n400\n500\nok\n' >script
	mock_start --key "$LONG_KEY" --script script
	run_all -j 1 --no-cache                 # 403, 400, a retried 500, answers
	run_all                                 # answers, cached
	OPENAI_API_KEY=wrong-key run_all --no-cache --retries 0     # 401
	run_all --key-file key.txt --no-cache --retries 0           # 401 with the file's key
	SCG_API_KEY=$GENERIC_KEY run_all --no-cache --retries 0     # 401 with the generic key
	run_all --provider anthropic --base-url "$MOCK_URL" --no-cache --retries 0
	run_all --base-url http://127.0.0.1:1/v1 --retries 0 --no-cache
	run_all --dry-run
	run_all --dry-run --provider anthropic
	# the paths really ran
	grep -q '"status":403' "$MOCK_LOG"
	grep -q '"status":401' "$MOCK_LOG"
	grep -q 'HTTP 403' rej.jsonl
	grep -q 'HTTP 401' rej.jsonl
	grep -q 'est_prompt_tokens' out.txt
	[ -n "$(find "$SCG_CACHE" -type f)" ]
	no_piece_anywhere
}

@test "a 401 that echoes a long key in a plain-text body: masked before the body is cut, no piece left" {
	export OPENAI_API_KEY=$LONG_KEY
	# the echo puts the key near the 120th byte, where the reason is cut
	printf 'echo401 times=10\n' >script
	mock_start --script script --redact-env OPENAI_API_KEY
	run_all --retries 0 --no-cache
	run_all --retries 0 --no-cache --provider anthropic --base-url "$MOCK_URL"
	grep -q 'HTTP 401: 401 Unauthorized. We received these headers' rej.jsonl
	grep -q 'HTTP 401' err.txt
	no_piece_anywhere
}

@test "endpoint values from \${VAR} in headers, url and body stay secret, even echoed back" {
	export HEADER_TOKEN URL_SIG BODY_TENANT
	for i in 1 2 3 4; do echo "{\"id\":\"r$i\",\"messages\":[{\"role\":\"user\",\"content\":\"q$i\"}]}"; done >in.jsonl
	printf 'echo401\necho times=3\n' >script
	mock_start --script script --redact-env HEADER_TOKEN,URL_SIG,BODY_TENANT
	cat >ep.yaml <<EOF2
url: $MOCK_URL/v1/chat/completions?sig=\${URL_SIG}
headers:
  Authorization: Bearer \${HEADER_TOKEN}
  X-Custom-Sig: \${HEADER_TOKEN}
body: {model: mock-assistant, tenant: "\${BODY_TENANT}"}
response_path: [choices, 0, message, content]
EOF2
	# (the assistant's replies are cached within a run)
	run_all --side assistant -e ep.yaml --retries 0 -j 1 --run secrets in.jsonl   # a 401 echo, then answers that echo
	run_all --side assistant -e ep.yaml --retries 0 -j 1 --run secrets in.jsonl   # the same from the cache
	run_all --side assistant -e ep.yaml --dry-run in.jsonl
	sed -i 's|/v1/chat/completions|/nowhere|' ep.yaml
	run_all --side assistant -e ep.yaml --retries 0 --no-cache in.jsonl
	# the paths really ran: an echo in a 401, echoes in answers, a dry run, a 404
	grep -q 'HTTP 401: 401 Unauthorized. We received' rej.jsonl
	[ "$(jq -r '.messages[-1].content' out.txt | grep -c '^We received these headers')" -ge 2 ]
	grep -q '"endpoint":' out.txt
	grep -q 'HTTP 404' rej.jsonl
	grep -q '"x-custom-sig":"\[redacted\]"' "$MOCK_LOG"
	grep -q 'mock-assistant' "$MOCK_LOG"
	[ -n "$(find "$SCG_CACHE" -type f)" ]
	no_piece_anywhere
}

@test "userinfo in --base-url is a secret: not in dry runs, errors, the cache, nor echoed as Basic auth" {
	export OPENAI_API_KEY=$LONG_KEY
	printf 'echo401\n' >script
	mock_start --script script --redact-env OPENAI_API_KEY
	local url=http://u:$USERINFO_PASS@127.0.0.1:$MOCK_PORT/v1
	run_all --base-url "$url" --retries 0 -j 1
	run_all --base-url "$url" --dry-run
	run_all --base-url "http://u:$USERINFO_PASS@127.0.0.1:1/v1" --retries 0 --no-cache
	run_all --base-url "ftp://u:$USERINFO_PASS@127.0.0.1/v1"
	no_piece_anywhere
	# the paths really ran
	grep -q '"authorization":"\[redacted\]"' "$MOCK_LOG"
	grep -q 'HTTP 401' rej.jsonl
	grep -q '"url":"http://' out.txt
	grep -q 'only http:// and https://' err.txt
	[ -n "$(find "$SCG_CACHE" -type f)" ]
}

@test "a key or \${VAR} value holding CR or LF is refused before anything is sent" {
	mock_start
	printf 'sk-good-start\r\nX-Injected: yes\n' >key.txt
	run scg-turn --key-file key.txt <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"key.txt"*"control character"* ]]
	OPENAI_API_KEY=$'sk-env\nX-Injected: yes' run scg-turn <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"OPENAI_API_KEY"*"control character"* ]]
	cat >ep.yaml <<EOF2
url: $MOCK_URL/v1/chat/completions
headers: {X-Token: "\${TOKEN}"}
body: {model: mock-assistant}
response_path: [choices, 0, message, content]
EOF2
	TOKEN=$'abc\r\nX-Injected: yes' run scg-turn --side assistant -e ep.yaml <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"ep.yaml: header X-Token"*"control character"* ]]
	[ "$(mock_requests)" -eq 0 ]
}

@test "--base-url and endpoint urls take http and https only" {
	echo 'a local file that must not be read' >local.txt
	run scg-turn --model m --retries 0 --rejects rej.jsonl --base-url "file://$PWD/local.txt?" <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--base-url: file://"*"only http:// and https:// URLs are allowed"* ]]
	[ ! -s rej.jsonl ]
	SCG_BASE_URL=gopher://127.0.0.1:1/ run scg-turn --model m <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 2 ]
	printf 'url: "file://%s/local.txt"\nbody: {}\nresponse_path: [a]\n' "$PWD" >ep.yaml
	run scg-turn --side assistant -e ep.yaml <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"ep.yaml: url"*"only http:// and https://"* ]]
	# any case of the scheme is a scheme
	mock_start
	run scg-turn -q --base-url "HTTP://127.0.0.1:$MOCK_PORT/v1" <"$FIXTURES/conv3.jsonl"
	[ "$status" -eq 0 ]
}
