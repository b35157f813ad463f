#!/usr/bin/env bats
# scg's own HTTP/1.1 client (lib/exec-h1.c), which sends the requests to
# http:// upstreams when no proxy is set: the same records and request
# headers as through libcurl (SCG_HTTP=curl), kept-alive connections
# reused, and every way a server can answer or fail, from scg-mock and
# from the byte-level fake of test/fake-http.py.

bats_require_minimum_version 1.5.0
load helper

# the runner's own proxy variables would send everything through libcurl
NOPROXY="-u http_proxy -u all_proxy -u ALL_PROXY -u SCG_HTTP"

FAKE_PID=

# fake_start MODE: test/fake-http.py MODE on a free port; sets FAKE_URL and
# FAKE_LOG (a line a request: connection, method, path) and points the
# programs at it
fake_start() {
	FAKE_LOG=$BATS_TEST_TMPDIR/fake.log
	: >"$FAKE_LOG"
	rm -f fake.port
	python3 "$BATS_TEST_DIRNAME/fake-http.py" "$1" "$FAKE_LOG" >fake.port 2>fake.err 3>&- &
	FAKE_PID=$!
	local i=0
	while [ ! -s fake.port ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	FAKE_URL=http://127.0.0.1:$(head -n 1 fake.port)
	export SCG_BASE_URL=$FAKE_URL/v1 SCG_MODEL=fake-1 SCG_PROVIDER=openai
}

teardown() {
	mock_stop
	[ -z "$FAKE_PID" ] || { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; }
	return 0
}

# records N: N conversations of one user message "question I"
records() {
	local i
	for ((i = 1; i <= $1; i++)); do
		printf '{"id":"r%d","messages":[{"role":"user","content":"question %d"}]}\n' "$i" "$i"
	done
}

# turn ARGS...: scg-turn without proxy variables
turn() {
	env $NOPROXY scg-turn "$@"
}

@test "through scg's client and through libcurl: the same records, and the same request but for Accept-Encoding" {
	mock_start
	records 30 >in.jsonl
	turn -q --no-cache -j 4 in.jsonl >own.jsonl
	cp "$MOCK_LOG" own.log
	: >"$MOCK_LOG"
	SCG_HTTP=curl scg-turn -q --no-cache -j 4 in.jsonl >curl.jsonl
	[ "$(wc -l <own.jsonl)" -eq 30 ]
	cmp own.jsonl curl.jsonl
	# method, path, body and every header, sorted by body
	local f='{method, path, body, h: (.headers | del(.["accept-encoding"]))}'
	diff <(jq -cS "$f" own.log | sort) <(jq -cS "$f" "$MOCK_LOG" | sort)
	[ "$(jq -c '.headers | [.host, .["user-agent"], .accept, .["content-type"]]' own.log | sort -u)" = \
	  "[\"127.0.0.1:$MOCK_PORT\",\"scg/$(scg-turn --version | cut -d " " -f 3)\",\"application/json\",\"application/json\"]" ]
	# scg's client asks for no compression; libcurl asks for what it decodes
	[ "$(jq -r '.headers["accept-encoding"] // "none"' own.log | sort -u)" = none ]
	[ "$(jq -r '.headers["accept-encoding"] // "none"' "$MOCK_LOG" | sort -u)" != none ]
	# a proxy set for http:// leaves the request to libcurl
	: >"$MOCK_LOG"
	env $NOPROXY http_proxy=http://127.0.0.1:1 NO_PROXY=127.0.0.1 scg-turn -q --no-cache <(records 1) >/dev/null
	[ "$(jq -r '.headers["accept-encoding"] // "none"' "$MOCK_LOG")" != none ]
}

@test "kept-alive connections carry the requests: 40 at -j 4 on at most 4 connections" {
	fake_start gzip
	records 40 >in.jsonl
	turn -q --no-cache -j 4 in.jsonl >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 40 ]
	[ "$(wc -l <"$FAKE_LOG")" -eq 40 ]
	[ "$(cut -d ' ' -f 1 "$FAKE_LOG" | sort -u | wc -l)" -le 4 ]
	# gzip bodies are inflated: each answer is its own question echoed
	[ "$(jq -r '.messages[-1].content' out.jsonl | sed -n 7p)" = "echo: question 7" ]
	[ "$(jq -r '.messages[-1].content' out.jsonl | sort -u | wc -l)" -eq 40 ]
}

@test "a chunked answer after a 100 Continue, in 7-byte pieces with extensions and a trailer, is read whole" {
	fake_start chunked
	records 10 >in.jsonl
	turn -q --no-cache -j 2 in.jsonl >out.jsonl
	[ "$(jq -r '.messages[-1].content' out.jsonl | tr '\n' '|')" = \
	  "echo: question 1|echo: question 2|echo: question 3|echo: question 4|echo: question 5|echo: question 6|echo: question 7|echo: question 8|echo: question 9|echo: question 10|" ]
	[ "$(cut -d ' ' -f 2,3 "$FAKE_LOG" | sort -u)" = "POST /v1/chat/completions" ]
}

@test "an HTTP/1.0 answer ends at the close, and a new connection carries the next request" {
	fake_start http10
	records 6 >in.jsonl
	turn -q --no-cache -j 1 in.jsonl >out.jsonl
	[ "$(jq -r '.messages[-1].content' out.jsonl | sed -n 6p)" = "echo: question 6" ]
	[ "$(cut -d ' ' -f 1 "$FAKE_LOG" | sort -u | wc -l)" -eq 6 ]
}

@test "a kept connection the server has closed is found closed and the request goes on a new one, no retry spent" {
	fake_start close-idle
	records 20 >in.jsonl
	run --separate-stderr env $NOPROXY scg-turn --no-cache --retries 0 -j 2 in.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 20 ]
	[ "$(wc -l <"$FAKE_LOG")" -eq 20 ]
	[[ "$stderr" == *"0 retries"* ]]
}

@test "a server that answers no HTTP, nothing, or a bad chunk fails the request with the reason after its retries" {
	fake_start garbage
	run env $NOPROXY scg-turn -q --no-cache --retries 1 --rejects rej.jsonl <(records 1)
	[ "$status" -eq 1 ]
	[ "$(jq -r .error.reason rej.jsonl)" = "gave up after 1 retries: Weird server reply" ]
	[ "$(wc -l <"$FAKE_LOG")" -eq 2 ]
	kill "$FAKE_PID"
	fake_start nothing
	run env $NOPROXY scg-turn -q --no-cache --retries 1 --rejects rej2.jsonl <(records 1)
	[ "$status" -eq 1 ]
	[ "$(jq -r .error.reason rej2.jsonl)" = "gave up after 1 retries: Server returned nothing (no headers, no data)" ]
	# a chunk size that is no hexadecimal number fails at once, not at --timeout
	kill "$FAKE_PID"
	fake_start badchunk
	local t0=$SECONDS
	run env $NOPROXY scg-turn -q --no-cache --retries 0 --timeout 20 --rejects rej3.jsonl <(records 1)
	[ "$status" -eq 1 ]
	[ "$(jq -r .error.reason rej3.jsonl)" = "gave up after 0 retries: Failure when receiving data from the peer" ]
	[ $((SECONDS - t0)) -lt 10 ]
}

@test "an endless head is cut at 100 kB and a head dripped a byte at a time ends at --timeout; memory stays small" {
	fake_start endless
	run /usr/bin/time -f '%M' -o rss.txt env $NOPROXY timeout 30 scg-turn -q --no-cache --retries 0 --rejects rej.jsonl <(records 1)
	echo "scg-turn on an endless head: peak RSS $(tail -n 1 rss.txt) kB"
	[ "$status" -eq 1 ]
	[ "$(jq -r .error.reason rej.jsonl)" = "gave up after 0 retries: Weird server reply" ]
	[ "$(tail -n 1 rss.txt)" -lt 700000 ]
	kill "$FAKE_PID"
	fake_start drip
	local t0=$SECONDS
	run env $NOPROXY timeout 30 scg-turn -q --no-cache --retries 0 --timeout 1 --rejects rej2.jsonl <(records 1)
	[ "$status" -eq 1 ]
	[ "$(jq -r .error.reason rej2.jsonl)" = "gave up after 0 retries: no answer within 1s" ]
	[ $((SECONDS - t0)) -lt 10 ]
}

@test "a port nobody listens on fails each record with the reason; localhost is ::1, then 127.0.0.1" {
	records 3 >in.jsonl
	run env $NOPROXY SCG_BASE_URL=http://127.0.0.1:1/v1 SCG_MODEL=m SCG_PROVIDER=openai \
		scg-turn -q --no-cache --retries 0 --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[ "$(jq -r .error.reason rej.jsonl | sort -u)" = "gave up after 0 retries: Couldn't connect to server" ]
	[ "$(wc -l <rej.jsonl)" -eq 3 ]
	# localhost is two addresses, tried in turn (::1,
	# where nobody listens, then 127.0.0.1)
	mock_start
	turn -q --no-cache --base-url "http://localhost:$MOCK_PORT/v1" <(records 2) >out.jsonl
	[ "$(jq -r '.messages[-1].role' out.jsonl | sort -u)" = assistant ]
	[ "$(jq -r '.headers.host' "$MOCK_LOG" | sort -u)" = "localhost:$MOCK_PORT" ]
}
