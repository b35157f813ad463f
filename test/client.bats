#!/usr/bin/env bats
# The model client's settings that every program shares: the cache's
# default place, the price table, --tpm, and stdin read while answering.

load helper

one() { echo "{\"id\":\"r$1\",\"messages\":[{\"role\":\"user\",\"content\":\"question $1 about a squeaky chain\"}]}"; }

@test "without SCG_CACHE the cache is \$XDG_CACHE_HOME/scg, else ~/.cache/scg" {
	mock_start
	one 1 >in.jsonl
	unset SCG_CACHE
	XDG_CACHE_HOME=$BATS_TEST_TMPDIR/xdg scg-turn -q in.jsonl >/dev/null
	[ -n "$(find xdg/scg -name '*.json')" ]
	env -u XDG_CACHE_HOME HOME=$BATS_TEST_TMPDIR/home scg-turn -q in.jsonl >/dev/null
	[ -n "$(find home/.cache/scg -name '*.json')" ]
	# the second place was filled by a real request, not a hit from the first
	[ "$(mock_requests)" -eq 2 ]
}

@test "SCG_PRICES adds a model's prices to the table; a bad prices file is named" {
	mock_start
	one 1 >in.jsonl
	printf 'priced-model: {input: 1000000, output: 0}\n' >prices.yaml
	scg-turn --no-cache --model unpriced-model in.jsonl 2>err.txt >/dev/null
	grep -q 'unpriced-model: .*cost unknown' err.txt
	SCG_PRICES=prices.yaml scg-turn --no-cache --model priced-model in.jsonl 2>err.txt >out.jsonl
	# $1,000,000 a million prompt tokens: the cost is the prompt tokens in dollars
	local pt
	pt=$(jq '.meta.usage["priced-model"].prompt_tokens' out.jsonl)
	grep -q "priced-model: .*\\\$$pt\\.0000\$" err.txt
	printf 'priced-model: [1, 2\n' >bad.yaml
	run env SCG_PRICES=bad.yaml scg-turn --no-cache in.jsonl
	[ "$status" -ne 0 ]
	[[ "$output" == *"SCG_PRICES"* ]]
}

@test "--tpm spaces requests out by their tokens" {
	mock_start
	for i in 1 2 3 4 5 6; do one $i; done >in.jsonl
	local t0 t1
	t0=$(date +%s.%N)
	scg-turn -q --no-cache -j 6 --tpm 3000 in.jsonl >out.jsonl
	t1=$(date +%s.%N)
	[ "$(wc -l <out.jsonl)" -eq 6 ]
	# six requests of several hundred tokens each cannot all go in the
	# first seconds at 3000 tokens a minute (a lower bound only)
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 2) }'
}

# answered_while_open HOW: feeds r1, checks it is answered while the input
# is still open, then r2; HOW is "file" (a named pipe as an operand) or
# "stdin" (the pipe on standard input)
answered_while_open() {
	rm -f in.fifo out.jsonl
	mkfifo in.fifo
	if [ "$1" = file ]; then
		scg-turn -q in.fifo >out.jsonl &
	else
		scg-turn -q <in.fifo >out.jsonl &
	fi
	local pid=$! i
	exec 4>in.fifo
	one 1 >&4
	for i in $(seq 1 100); do [ -s out.jsonl ] && break; sleep 0.05; done
	[ "$(jq -r .id out.jsonl)" = r1 ]
	one 2 >&4
	exec 4>&-
	wait "$pid"
	[ "$(jq -r .id out.jsonl | tr '\n' ' ')" = "r1 r2 " ]
}

@test "input is read while requests are answered: a record is answered before its input ends" {
	mock_start
	answered_while_open stdin
	answered_while_open file
	# one pipe after another, as with <(...) <(...)
	scg-turn -q --no-cache <(one 1; sleep 0.3; one 2) <(one 3) >out.jsonl
	[ "$(jq -r .id out.jsonl | tr '\n' ' ')" = "r1 r2 r3 " ]
}

@test "the proxy variables in the environment are honoured: http_proxy, and NO_PROXY beside it" {
	mock_start
	one 1 >in.jsonl
	# a proxy on a closed port: the request cannot reach the model (the
	# runner's own proxy variables are put aside)
	local clean="-u no_proxy -u NO_PROXY -u all_proxy -u ALL_PROXY -u HTTPS_PROXY -u https_proxy"
	run env $clean http_proxy=http://127.0.0.1:1 scg-turn -q --no-cache --retries 0 in.jsonl
	[ "$status" -ne 0 ] || [ -z "$(jq -r 'select(.messages[-1].role == "assistant") | .id' <<<"$output")" ]
	[ "$(mock_requests)" -eq 0 ]
	# NO_PROXY names the model's host: straight to it
	env $clean http_proxy=http://127.0.0.1:1 NO_PROXY=127.0.0.1 scg-turn -q --no-cache --retries 0 in.jsonl >out.jsonl
	[ "$(jq -r '.messages[-1].role' out.jsonl)" = assistant ]
	[ "$(mock_requests)" -eq 1 ]
	# without them, straight to it too
	env $clean -u http_proxy scg-turn -q --no-cache --retries 0 in.jsonl >out.jsonl
	[ "$(mock_requests)" -eq 2 ]
}
