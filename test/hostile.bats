#!/usr/bin/env bats
# Hostile or broken servers, commands and files (DESIGN §9): nothing grows
# without bound, nothing hangs, no money is spent past --budget, and
# nothing is cut or dropped silently. The mock plays the attacker; peak
# memory is measured with GNU time and printed.

bats_require_minimum_version 1.5.0
load helper

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	for i in 1 2 3 4 5; do echo "{\"id\":\"r$i\",\"messages\":[{\"role\":\"user\",\"content\":\"question $i\"}]}"; done >in.jsonl
}

teardown() {
	# a mock that no longer answers SIGTERM is not waited for
	if [ -n "${MOCK_PID:-}" ]; then
		kill "$MOCK_PID" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$MOCK_PID" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$MOCK_PID" 2>/dev/null || true
		wait "$MOCK_PID" 2>/dev/null || true
		MOCK_PID=
	fi
	# commands a test started and noted by pid
	local f
	for f in pid pid.*; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	return 0
}

# the most memory a bounded run may take, in kB (the sanitizers' shadow
# memory makes their builds larger)
rss_limit() {
	if [ -n "${SCG_SANITIZED:-}" ]; then echo 700000; else echo 64000; fi
}

# timed CMD...: runs CMD under GNU time; $rss is its peak resident memory in kB
timed() {
	run /usr/bin/time -f '%M' -o rss.txt "$@"
	rss=$(tail -n 1 rss.txt)
}

# gone PID: the process has ended (a zombie not yet reaped by init counts)
gone() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
	[[ "$st" == Z* ]]
}

# ---- bounds --------------------------------------------------------------

@test "a gzip bomb is cut at --max-answer-bytes after decompression: rejected, memory stays small" {
	printf 'gzip bytes=300000000\n' >script
	mock_start --script script
	timed scg-turn -q --retries 3 --rejects rej.jsonl <(head -n 1 in.jsonl)
	echo "scg-turn on a 300 MB gzip bomb: peak RSS $rss kB"
	[ "$status" -eq 1 ]
	[[ "$(jq -r .error.reason rej.jsonl)" == "the answer passed --max-answer-bytes (4194304 bytes, counted after decompression)" ]]
	[ "$rss" -lt "$(rss_limit)" ]
	# not retried: the server would send as much again
	[ "$(mock_requests)" -eq 1 ]
	[ -z "$(find "$SCG_CACHE" -type f 2>/dev/null)" ]
}

@test "a plain 200 MB answer is refused at once, before its body is read" {
	printf 'huge bytes=200000000\n' >script
	mock_start --script script
	timed scg-turn -q --side assistant --rejects rej.jsonl <(head -n 1 in.jsonl)
	echo "scg-turn on a 200 MB answer: peak RSS $rss kB"
	[ "$status" -eq 1 ]
	[[ "$(jq -r .error.reason rej.jsonl)" == *"passed --max-answer-bytes"* ]]
	[ "$rss" -lt "$(rss_limit)" ]
}

@test "--max-answer-bytes takes a larger answer when asked; a bad size is a usage error" {
	printf 'huge bytes=5000000\nhuge bytes=5000000\n' >script
	mock_start --script script
	run scg-turn -q --retries 0 --max-answer-bytes 8M <(head -n 1 in.jsonl)
	[ "$status" -eq 0 ]
	[ "$(jq -r '.messages[-1].content | length' <<<"$output")" -eq 5000000 ]
	run scg-turn -q --retries 0 --no-cache --rejects rej.jsonl <(head -n 1 in.jsonl)
	[ "$status" -eq 1 ]
	run scg-turn --max-answer-bytes 12x </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--max-answer-bytes: expected a size"* ]]
}

@test "a command's output is capped like an answer; an endless one is stopped and rejected" {
	timed scg-turn -q --side assistant --retries 0 --rejects rej.jsonl \
		--endpoint-cmd "head -c 100000000 /dev/zero | tr '\\0' a" <(head -n 1 in.jsonl)
	echo "scg-turn on 100 MB of command output: peak RSS $rss kB"
	[ "$status" -eq 1 ]
	[[ "$(jq -r .error.reason rej.jsonl)" == "the command's output passed --max-answer-bytes (4194304 bytes)" ]]
	[ "$rss" -lt "$(rss_limit)" ]
	run timeout -k 5 60 scg-turn -q --side assistant --retries 0 --rejects rej2.jsonl --endpoint-cmd yes <(head -n 1 in.jsonl)
	[ "$status" -eq 1 ]
	[[ "$(jq -r .error.reason rej2.jsonl)" == *"passed --max-answer-bytes"* ]]
}

@test "scg-mock refuses a schema asking for more than one answer holds, at once, and stays up" {
	mock_start
	local schema
	for schema in '{"type":"array","minItems":100000000,"items":{"type":"string"}}' \
		'{"type":"string","minLength":1000000000}' \
		'{"type":"array","minItems":1000,"items":{"type":"array","minItems":1000,"items":{"type":"array","minItems":1000}}}'; do
		run timeout -k 5 20 curl -s -o resp.json -w '%{http_code}' "$MOCK_URL/v1/chat/completions" \
			-d "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":$schema}}}"
		[ "$status" -eq 0 ]
		[ "$output" = 400 ]
		jq -e '.error.message | test("larger than scg-mock makes")' resp.json
	done
	# an upload past 32 MiB is a 413, read and dropped
	head -c 40000000 /dev/zero | tr '\0' a >big.txt
	run curl -s -o /dev/null -w '%{http_code}' --data-binary @big.txt "$MOCK_URL/v1/chat/completions"
	[ "$output" = 413 ]
	[ "$(curl -s "$MOCK_URL/health")" = '{"status":"ok"}' ]
	local hwm; hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$MOCK_PID/status")
	echo "scg-mock after these requests: peak RSS $hwm kB"
	[ "$hwm" -lt $(($(rss_limit) * 2)) ]
}

@test "scg-chunk refuses a device and reads a pipe only up to its cap" {
	local limit='ulimit -v 1000000;'
	[ -z "${SCG_SANITIZED:-}" ] || limit=
	run bash -c "$limit timeout -k 5 60 scg-chunk /dev/zero"
	[ "$status" -eq 1 ]
	[ "$output" = "scg-chunk: /dev/zero: not a regular file, a pipe or a folder" ]
	run bash -c "$limit timeout -k 5 60 scg-chunk <(yes)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"larger than 64 MiB; split it into smaller files" ]]
	# a pipe of ordinary size is a file like any other
	run scg-chunk <(printf 'One sentence. Two sentences.\n')
	[ "$status" -eq 0 ]
	[ "$(jq -r .source.text <<<"$output")" = "One sentence. Two sentences." ]
}

# ---- hangs and children -------------------------------------------------

@test "a command that closes stdout and lives on is killed at --timeout, its process group too" {
	run timeout -k 5 60 scg-turn -q --side assistant --timeout 1 --retries 0 --rejects rej.jsonl \
		--endpoint-cmd 'echo $$ >pid; exec 1>&- 2>/dev/null; exec sleep 1000' <(head -n 1 in.jsonl)
	[ "$status" -eq 1 ]
	[[ "$(jq -r .error.reason rej.jsonl)" == *"no answer within 1s" ]]
	gone "$(cat pid)"
	# and one whose shell is gone while a child it left holds stdout
	run timeout -k 5 60 scg-turn -q --side assistant --timeout 1 --retries 0 --rejects rej2.jsonl \
		--endpoint-cmd 'sleep 1000 2>/dev/null & echo $! >pid.bg; echo answer' <(head -n 1 in.jsonl)
	[ "$status" -eq 1 ]
	gone "$(cat pid.bg)"
}

@test "SIGTERM and SIGINT end scg-turn at once while a command runs, and the command with it" {
	local sig
	for sig in TERM INT; do
		rm -f pid
		scg-turn -q --side assistant --timeout 100 --endpoint-cmd 'echo $$ >pid; exec 1>&- 2>/dev/null; exec sleep 1000' \
			<(head -n 1 in.jsonl) 2>err.txt &
		local turn=$!
		for _ in $(seq 1 100); do [ -s pid ] && break; sleep 0.05; done
		sleep 0.3
		kill -"$sig" "$turn"
		local st=0 t0=$SECONDS
		for _ in $(seq 1 150); do kill -0 "$turn" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$turn" 2>/dev/null; then
			kill -9 "$turn"
			wait "$turn" || true
			echo "SIG$sig was not acted on within 15 s"
			return 1
		fi
		wait "$turn" || st=$?
		echo "SIG$sig: status $st after $((SECONDS - t0)) s"
		[ "$st" -eq $((128 + $(kill -l "$sig"))) ]
		gone "$(cat pid)"
	done
}

@test "a command starts with no signal blocked and none of scg's ignored signals ignored" {
	run scg-turn -q --side assistant \
		--endpoint-cmd "awk '/^Sig(Blk|Ign)/ {printf \"%s \", \$2}' /proc/self/status" <(head -n 1 in.jsonl)
	[ "$status" -eq 0 ]
	local blk ign
	read -r blk ign <<<"$(jq -r '.messages[-1].content' <<<"$output")"
	echo "the command's SigBlk $blk, SigIgn $ign"
	[ "$((16#$blk))" -eq 0 ]
	# SIGHUP 1, SIGINT 2, SIGQUIT 3, SIGPIPE 13, SIGTERM 15, SIGXFSZ 25
	local s mask=0
	for s in 1 2 3 13 15 25; do mask=$((mask | 1 << (s - 1))); done
	[ "$((16#$ign & mask))" -eq 0 ]
}

@test "a command gets no descriptor of scg-turn's but its stdin, stdout and stderr" {
	# model calls in flight hold sockets while the command runs
	mock_start --latency 1000
	printf '%s\n' '{"id":"u1","messages":[]}' '{"id":"u2","messages":[]}' \
		'{"id":"a1","messages":[{"role":"user","content":"hi"}]}' >mix.jsonl
	run --separate-stderr scg-turn -q -j 4 --endpoint-cmd 'ls /proc/$$/fd; true' mix.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.id == "a1") | .messages[-1].content' <<<"$output" | tr '\n' ' ')" = "0 1 2 " ]
}

@test "stdin's open file is left blocking as scg-turn found it, at the end and when interrupted" {
	local flags='import fcntl, os; print(fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK)'
	run bash -c "printf '' | { scg-turn -q --dry-run --model m; python3 -c '$flags'; }"
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
	# interrupted while it waits for more input on a pipe held open
	run bash -c "{ sleep 3; } | { scg-turn -q --dry-run --model m & t=\$!; sleep 0.5; kill -TERM \$t; wait \$t; python3 -c '$flags'; }"
	[ "$output" = 0 ]
}

# ---- money and correctness ---------------------------------------------

@test "every attempt is checked against --budget: a retry due after the budget is spent is not sent" {
	# two requests fail at once; one is retried soon and answered at a cost
	# past the budget ($1 prompt + $2 completion a million tokens), the
	# other's retry comes after that and must not go out
	printf '503 retry-after-ms=10\n503 retry-after-ms=1500\nok usage=1000000\n' >script
	mock_start --script script
	run --separate-stderr scg-turn -q -j 2 --retries 3 --budget 1 --rejects rej.jsonl <(head -n 2 in.jsonl)
	[ "$status" -eq 1 ]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	[[ "$(jq -r .error.reason rej.jsonl)" == "over budget: --budget 1 would be passed" ]]
	[ "$(mock_requests)" -eq 3 ]
}

@test "negative usage from a server counts as none and cannot switch --budget off" {
	printf 'ok usage=-100000000\nok usage=1000000 times=10\n' >script
	mock_start --script script
	run --separate-stderr scg-turn -q -j 1 --budget 1 --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[ "$(wc -l <<<"$output")" -eq 2 ]
	[ "$(wc -l <rej.jsonl)" -eq 3 ]
	jq -e '[.meta.usage[][]] | min >= 0' <<<"$output"
	[ "$(mock_requests)" -eq 2 ]
}

endpoint_file() { # NAME [header line]
	cat >"$1" <<EOF2
url: $MOCK_URL/v1/chat/completions
headers: {X-Variant: "${2:-a}"}
body: {model: mock-assistant}
response_path: [choices, 0, message, content]
EOF2
}

@test "an endpoint's 200 carrying an error is retried like a model's, and never cached" {
	printf 'error200\n' >script
	mock_start --script script
	endpoint_file ep.yaml
	run scg-turn -q --side assistant -e ep.yaml --retries 1 <(head -n 1 in.jsonl)
	[ "$status" -eq 0 ]
	[ "$(mock_requests)" -eq 2 ]
	mock_stop
	mock_start --script script
	endpoint_file ep.yaml
	run scg-turn -q --side assistant -e ep.yaml --retries 0 --rejects rej.jsonl <(sed -n 2p in.jsonl)
	[ "$status" -eq 1 ]
	[[ "$(jq -r .error.reason rej.jsonl)" == *"nothing at choices (response_path); it carries an error: The server had an error"* ]]
	# the rerun asks again: the error was not kept
	run scg-turn -q --side assistant -e ep.yaml --retries 0 <(sed -n 2p in.jsonl)
	[ "$status" -eq 0 ]
	[ "$(mock_requests)" -eq 2 ]
}

@test "endpoint files that differ in a header only do not share cached answers" {
	mock_start
	endpoint_file a.yaml a
	endpoint_file b.yaml b
	# (the assistant's replies are cached within a run)
	export SCG_RUN=headers
	scg-turn -q --side assistant -e a.yaml <(head -n 1 in.jsonl) >a.jsonl
	scg-turn -q --side assistant -e b.yaml <(head -n 1 in.jsonl) >b.jsonl
	[ "$(mock_requests)" -eq 2 ]
	scg-turn -q --side assistant -e a.yaml <(head -n 1 in.jsonl) >a2.jsonl
	[ "$(mock_requests)" -eq 2 ]
	cmp a.jsonl a2.jsonl
}

@test "a cache entry of the wrong shape is one warning and a miss, and is replaced" {
	mock_start
	scg-turn -q --side assistant in.jsonl >first.jsonl
	local shape n=5
	for shape in '5' '[1,2]' '{"text":5}' '{"text":"x","prompt_tokens":"many"}'; do
		for f in $(find "$SCG_CACHE" -name '*.json'); do
			jq -c --argjson a "$shape" '.answer = $a' "$f" >"$f.new" && mv "$f.new" "$f"
		done
		run scg-turn --side assistant in.jsonl
		[ "$status" -eq 0 ]
		[ "$(grep -c 'wrong shape; treated as a miss' <<<"$output")" -eq 1 ]
		n=$((n + 5))
		[ "$(mock_requests)" -eq "$n" ]
		scg-turn -q --side assistant in.jsonl >again.jsonl
		cmp first.jsonl again.jsonl
		[ "$(mock_requests)" -eq "$n" ]
	done
}

@test "invalid UTF-8 or a NUL from --endpoint-cmd rejects the record with the reason" {
	run scg-turn -q --side assistant --retries 0 --rejects rej.jsonl --endpoint-cmd "printf 'caf\\351'" <(head -n 1 in.jsonl)
	[ "$status" -eq 1 ]
	[[ "$(jq -r .error.reason rej.jsonl)" == *"the command's output is not UTF-8 (byte 4)" ]]
	run scg-turn -q --side assistant --retries 0 --rejects rej2.jsonl --endpoint-cmd "printf 'ab\\000cd'" <(head -n 1 in.jsonl)
	[ "$status" -eq 1 ]
	[[ "$(jq -r .error.reason rej2.jsonl)" == *"the command's output holds a NUL byte (byte 3)" ]]
}

@test "a record holding \\u0000 is refused as a bad line, never cut at the NUL" {
	printf '%s\n' '{"id":"n1","messages":[{"role":"user","content":"before\u0000after"}]}' >nul.jsonl
	run --separate-stderr scg-turn -q --side assistant --on-error=skip --rejects rej.jsonl \
		--endpoint-cmd 'jq -r .messages[0].content' nul.jsonl
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$(jq -r .error.reason rej.jsonl)" = 'a string holds a NUL character (\u0000) at messages[0].content' ]
}

@test "an option's name is printed once, with its own dashes, in a usage error" {
	run scg-judge --max-turns x </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == "scg-judge: --max-turns: expected an integer"* ]]
	run scg-personas -n x </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == "scg-personas: -n: expected an integer"* ]]
	run scg-turn --jobs 0 </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == "scg-turn: --jobs: expected an integer"* ]]
}
