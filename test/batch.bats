#!/usr/bin/env bats
# --batch: the requests the cache does not answer go through the
# providers' batch APIs (OpenAI's Batch API, Anthropic's Message Batches),
# as scg-mock serves them, at half the price; waiting is safe to stop.

load helper

EX=$BATS_TEST_DIRNAME/../examples

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	# poll every 0.05 s growing to 0.2 s, not every 2 s growing to 60 s
	export SCG_BATCH_POLL=0.05..0.2
}

# records N: N conversations waiting for the user's first message
records() {
	local i
	for i in $(seq 1 "$1"); do
		printf '{"id":"r%d","persona":{"name":"P%d","description":"a customer with question %d about returns"},"messages":[]}\n' "$i" "$i" "$i"
	done
}

# costless FILE: its records without the cost members (the batch price
# is the one difference a batch makes)
costless() {
	jq -c 'walk(if type == "object" then del(.cost) else . end)' "$1"
}

# cost FILE: the records' cost, summed
cost() {
	jq -s '[.[].meta.usage[]?.cost] | add' "$1"
}

# calls METHOD PATH: how many such requests the mock has had (PATH a
# regular expression over the whole path)
calls() {
	jq -r --arg m "$1" --arg p "^$2\$" 'select(.method == $m and (.path | test($p))) | .path' "$MOCK_LOG" | wc -l | tr -d ' '
}

# keys DIR: the cache's answer files, by name
keys() {
	(cd "$1" && find . -path './[0-9a-f][0-9a-f]/*.json' | sort)
}

# the custom_ids a batch was sent with (uploads and Anthropic's creates)
sent_ids() {
	jq -r 'select(.method == "POST" and (.path == "/v1/files" or .path == "/v1/messages/batches")) | .body | tostring' "$MOCK_LOG" |
		grep -o 'scg-[0-9a-f]\{32\}' | sort
}

@test "OpenAI: --batch writes the records the online run writes, from the same cache keys, at half the cost" {
	mock_start --batch-time 300
	records 12 >in.jsonl
	SCG_CACHE=$PWD/online scg-turn -q --side user --seed 7 <in.jsonl >online.jsonl
	: >"$MOCK_LOG"
	run scg-turn --side user --seed 7 --batch <in.jsonl
	[ "$status" -eq 0 ]
	printf '%s\n' "${lines[@]}" | grep '^{' >batch.jsonl
	[ "$(wc -l <batch.jsonl)" -eq 12 ]
	diff <(costless online.jsonl) <(costless batch.jsonl)
	diff <(keys online) <(keys "$SCG_CACHE")
	# half the price: in the records and in the summary
	jq -n --argjson a "$(cost online.jsonl)" --argjson b "$(cost batch.jsonl)" '$b * 2 - $a | fabs < 1e-9' | grep -qx true
	[[ "$output" == *"mock-1: 12 requests (12 answered in batches, at the batch price)"* ]]
	[[ "$output" == *"submitted batch batch_"*": 12 requests to OpenAI's Batch API"* ]]
	# one file, one batch, no online call; each custom_id is the hash of a cache key
	[ "$(calls POST /v1/files)" -eq 1 ]
	[ "$(calls POST /v1/batches)" -eq 1 ]
	[ "$(calls POST /v1/chat/completions)" -eq 0 ]
	diff <(sent_ids) <(keys "$SCG_CACHE" | sed 's#.*/#scg-#; s#\.json$##' | sort)
	# the batch's state is gone once its answers are in; a rerun is all cache
	[ -z "$(ls "$SCG_CACHE/batches")" ]
	: >"$MOCK_LOG"
	scg-turn -q --side user --seed 7 --batch <in.jsonl >again.jsonl
	cmp batch.jsonl again.jsonl
	[ "$(mock_requests)" -eq 0 ]
}

@test "Anthropic: --batch sends the requests inline and writes what the online run writes, at half the cost" {
	mock_start --batch-time 300
	records 8 >in.jsonl
	local an=(--provider anthropic --base-url "$MOCK_URL")
	SCG_CACHE=$PWD/online scg-turn -q --side user "${an[@]}" <in.jsonl >online.jsonl
	: >"$MOCK_LOG"
	scg-turn -q --side user --batch "${an[@]}" <in.jsonl >batch.jsonl
	diff <(costless online.jsonl) <(costless batch.jsonl)
	diff <(keys online) <(keys "$SCG_CACHE")
	jq -n --argjson a "$(cost online.jsonl)" --argjson b "$(cost batch.jsonl)" '$b * 2 - $a | fabs < 1e-9' | grep -qx true
	[ "$(calls POST /v1/messages/batches)" -eq 1 ]
	[ "$(calls GET '/v1/messages/batches/msgbatch_[0-9a-f]+/results')" -eq 1 ]
	[ "$(calls POST /v1/messages)" -eq 0 ]
	[ "$(sent_ids | wc -l)" -eq 8 ]
	# the key and the version go with every batch call, the key never into the log
	jq -e 'select(.path | startswith("/v1/messages/batches")) | .headers["anthropic-version"] == "2023-06-01"' "$MOCK_LOG" >/dev/null
}

@test "structured stages (scg-scenes, then scg-turn --script) through batches equal their online runs" {
	mock_start --batch-time 200
	scg-chunk "$EX/knowledge" >chunks.jsonl
	SCG_CACHE=$PWD/online scg-scenes -q --kind topic -k 2 <chunks.jsonl >online.jsonl
	SCG_CACHE=$PWD/online scg-turn -q --script 2 <online.jsonl >online2.jsonl
	scg-scenes -q --kind topic -k 2 --batch <chunks.jsonl >batch.jsonl
	[ -s batch.jsonl ]
	diff <(costless online.jsonl) <(costless batch.jsonl)
	scg-turn -q --script 2 --batch <batch.jsonl >batch2.jsonl
	[ "$(wc -l <batch2.jsonl)" -eq "$(wc -l <online2.jsonl)" ]
	diff <(costless online2.jsonl) <(costless batch2.jsonl)
}

@test "killed with SIGKILL while it waits, the same command resumes the same batch and sends nothing twice" {
	mock_start --batch-time 2500
	records 10 >in.jsonl
	SCG_CACHE=$PWD/online scg-turn -q --side user <in.jsonl >online.jsonl
	: >"$MOCK_LOG"
	scg-turn -q --side user --batch <in.jsonl >first.jsonl 2>first.err &
	local pid=$! i
	# the state file names the batch before the first poll
	for i in $(seq 1 100); do
		grep -qs '"id":"batch_' "$SCG_CACHE"/batches/*.json && break
		sleep 0.05
	done
	grep -qs '"id":"batch_' "$SCG_CACHE"/batches/*.json
	sleep 0.3
	kill -9 "$pid"
	wait "$pid" || true
	[ ! -s first.jsonl ]
	run scg-turn --side user --batch <in.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"submitted by an earlier run, is polled again"* ]]
	printf '%s\n' "${lines[@]}" | grep '^{' >second.jsonl
	diff <(costless online.jsonl) <(costless second.jsonl)
	[ "$(calls POST /v1/files)" -eq 1 ]
	[ "$(calls POST /v1/batches)" -eq 1 ]
	[ "$(calls POST /v1/chat/completions)" -eq 0 ]
	[ "$(sent_ids | uniq -d | wc -l)" -eq 0 ]
	[ -z "$(ls "$SCG_CACHE/batches")" ]
}

@test "Anthropic: killed while it waits and run again, the batch is polled again, not sent again" {
	mock_start --batch-time 2000
	records 5 >in.jsonl
	local an=(--provider anthropic --base-url "$MOCK_URL")
	scg-turn -q --side user --batch "${an[@]}" <in.jsonl >first.jsonl &
	local pid=$! i
	for i in $(seq 1 100); do
		grep -qs '"id":"msgbatch_' "$SCG_CACHE"/batches/*.json && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" || true
	scg-turn -q --side user --batch "${an[@]}" <in.jsonl >second.jsonl
	[ "$(wc -l <second.jsonl)" -eq 5 ]
	[ "$(calls POST /v1/messages/batches)" -eq 1 ]
}

@test "--batch-wait=no submits, names the batches and exits 3 writing nothing; the same command later collects" {
	mock_start --batch-time 1000
	records 6 >in.jsonl
	run scg-turn --side user --batch-wait=no <in.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"batches not ended yet: batch_"*"run the same command again to collect the answers"* ]]
	! printf '%s\n' "${lines[@]}" | grep -q '^{'
	# not ended yet: polled once, still nothing
	run scg-turn --side user --batch-wait=no <in.jsonl
	[ "$status" -eq 3 ]
	sleep 1.1
	scg-turn -q --side user --batch-wait=no <in.jsonl >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 6 ]
	[ "$(calls POST /v1/batches)" -eq 1 ]
}

@test "partial failure: every record comes out or is rejected with the provider's reason; what may be retried goes online" {
	mock_start --batch-time 200 --batch-fail 400=0.2,500=0.2,expired=0.15,zero=0.1
	records 40 >in.jsonl
	run scg-turn --side user --batch --rejects rej.jsonl <in.jsonl
	[ "$status" -eq 1 ]
	printf '%s\n' "${lines[@]}" | grep '^{' >out.jsonl
	# every record once: out or rejected
	diff <(jq -r .id in.jsonl | sort) <(cat out.jsonl rej.jsonl | jq -r .id | sort)
	# the 400s are the rejects, with the provider's words; nothing else is
	[ -s rej.jsonl ]
	jq -e '.error.reason | test("^HTTP 400: scg-mock --batch-fail: this request is refused as invalid \\(in batch batch_")' rej.jsonl >/dev/null
	# the 500s, status 0s and expired ones were asked online, once each
	local failed online
	failed=$(grep -o '[0-9]* retried online' <<<"$output" | head -n 1 | cut -d' ' -f1)
	online=$(calls POST /v1/chat/completions)
	[ "$failed" -gt 0 ] && [ "$online" -eq "$failed" ]
	[ "$(( $(wc -l <out.jsonl) ))" -eq $((40 - $(wc -l <rej.jsonl))) ]
}

@test "an expired batch keeps the answers it has; the rest are asked again and the records equal a clean run" {
	mock_start --batch-time 200 --batch-expire 0.5
	records 10 >in.jsonl
	SCG_CACHE=$PWD/online scg-turn -q --side user <in.jsonl >online.jsonl
	: >"$MOCK_LOG"
	run scg-turn --side user --batch <in.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *" expired after "*": 5 answered, 5 retried online, 0 rejected"* ]]
	printf '%s\n' "${lines[@]}" | grep '^{' >batch.jsonl
	diff <(costless online.jsonl) <(costless batch.jsonl)
	[ "$(calls POST /v1/chat/completions)" -eq 5 ]
}

@test "Anthropic: errored requests are rejected or retried by their error type, expired ones retried" {
	# the failures are drawn per custom_id, which the mock's port changes:
	# 24 records at these rates make a run without a 400 a 1-in-10^4 event
	mock_start --batch-time 200 --batch-fail 400=0.4,500=0.3 --batch-expire 0.8
	records 24 >in.jsonl
	scg-turn -q --side user --batch --provider anthropic --base-url "$MOCK_URL" --rejects rej.jsonl <in.jsonl >out.jsonl || true
	diff <(jq -r .id in.jsonl | sort) <(cat out.jsonl rej.jsonl | jq -r .id | sort)
	[ -s rej.jsonl ]
	jq -e '.error.reason | startswith("HTTP 400: scg-mock --batch-fail")' rej.jsonl >/dev/null
	# the api_errors and the expired went online
	[ "$(calls POST /v1/messages)" -gt 0 ]
}

@test "--batch-retry batch sends what a batch did not answer in a new batch, never online" {
	mock_start --batch-time 150 --batch-expire 0.5
	records 8 >in.jsonl
	run scg-turn --side user --batch-retry batch <in.jsonl
	[ "$status" -eq 0 ]
	printf '%s\n' "${lines[@]}" | grep '^{' >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 8 ]
	[ "$(calls POST /v1/chat/completions)" -eq 0 ]
	# 8, then 4, then 2, then 1
	[ "$(calls POST /v1/batches)" -eq 4 ]
	[[ "$output" == *"sent again in a new batch"* ]]
}

@test "the provider's limits split a large input into several batches (SCG_BATCH_MAX_REQUESTS, SCG_BATCH_MAX_BYTES)" {
	mock_start --batch-time 100 --batch-max-requests 7
	records 20 >in.jsonl
	SCG_BATCH_MAX_REQUESTS=7 scg-turn -q --side user --batch <in.jsonl >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 20 ]
	[ "$(calls POST /v1/batches)" -eq 3 ]
	[ "$(sent_ids | wc -l)" -eq 20 ]
	# without the limit the mock refuses a batch of 20, as OpenAI one past 50000
	rm -rf "$SCG_CACHE"
	: >"$MOCK_LOG"
	run scg-turn -q --side user --batch --rejects rej.jsonl <in.jsonl
	[ "$status" -eq 1 ]
	[ "$(wc -l <rej.jsonl)" -eq 20 ]
	jq -e '.error.reason | test("^batch batch_[0-9a-f]+ failed: the file holds more requests than a batch may")' rej.jsonl >/dev/null
	# bytes: each upload within the limit
	rm -rf "$SCG_CACHE"
	: >"$MOCK_LOG"
	SCG_BATCH_MAX_BYTES=6000 scg-turn -q --side user --batch <in.jsonl >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 20 ]
	[ "$(calls POST /v1/batches)" -ge 3 ]
	jq -s '[.[] | select(.path == "/v1/files") | .body | split("\r\n\r\n")[2] | split("\r\n--")[0] | length]
		| all(. <= 6000)' "$MOCK_LOG" | grep -qx true
}

@test "--budget is reserved at the batch price when the requests join a batch, and honoured" {
	mock_start --batch-time 100
	records 20 >in.jsonl
	run scg-turn --side user --batch --budget 0.0012 --rejects rej.jsonl <in.jsonl
	[ "$status" -eq 1 ]
	printf '%s\n' "${lines[@]}" | grep '^{' >batch.jsonl
	local n_batch n_online
	n_batch=$(wc -l <batch.jsonl)
	jq -e '.error.reason == "over budget: --budget 0.0012 would be passed"' rej.jsonl >/dev/null
	[ "$(jq -n --argjson c "$(cost batch.jsonl)" '$c <= 0.0012')" = true ]
	# twice as many as online for the same money, give or take the estimate
	rm -f rej.jsonl
	scg-turn -q --side user --budget 0.0012 --rejects rej.jsonl --no-cache <in.jsonl >online.jsonl || true
	n_online=$(wc -l <online.jsonl)
	echo "batch $n_batch, online $n_online"
	[ "$n_online" -gt 0 ] && [ "$n_batch" -ge $((n_online * 3 / 2)) ]
	[ "$(calls POST /v1/batches)" -eq 1 ]
	[ "$(sent_ids | wc -l)" -eq "$n_batch" ]
}

@test "--batch-cancel cancels the batch, keeps what it answered and sends nothing new" {
	mock_start --batch-time 3000
	records 10 >in.jsonl
	run scg-turn --side user --batch-wait=no <in.jsonl
	[ "$status" -eq 3 ]
	sleep 0.6
	run scg-turn --side user --batch-cancel --rejects rej.jsonl <in.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"cancel asked for"* ]]
	printf '%s\n' "${lines[@]}" | grep '^{' >out.jsonl || true
	[ "$(calls POST '/v1/batches/batch_[0-9a-f]+/cancel')" -eq 1 ]
	[ "$(calls POST /v1/batches)" -eq 1 ]
	[ "$(calls POST /v1/chat/completions)" -eq 0 ]
	diff <(jq -r .id in.jsonl | sort) <(cat out.jsonl rej.jsonl | jq -r .id | sort)
	[ -s out.jsonl ] && [ -s rej.jsonl ]
	jq -e '.error.reason | test("cancelled.*not sent again \\(--batch-cancel\\)")' rej.jsonl >/dev/null
	# the answers it had are in the cache: a later run pays only for the rest
	: >"$MOCK_LOG"
	scg-turn -q --side user --batch <in.jsonl >again.jsonl
	[ "$(wc -l <again.jsonl)" -eq 10 ]
	[ "$(sent_ids | wc -l)" -eq "$(wc -l <rej.jsonl)" ]
}

@test "SIGINT while it waits stops polling and says how to collect or cancel; the batch is not cancelled" {
	mock_start --batch-time 3000
	records 4 >in.jsonl
	scg-turn --side user --batch <in.jsonl >out.jsonl 2>err.txt &
	local pid=$! i
	for i in $(seq 1 100); do
		grep -qs '"id":"batch_' "$SCG_CACHE"/batches/*.json && break
		sleep 0.05
	done
	kill -INT "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 130 ]
	grep -q "stopped waiting for batches batch_.*run the same command again to collect their answers, or with --batch-cancel to cancel them" err.txt
	[ "$(calls POST '/v1/batches/.*/cancel')" -eq 0 ]
	[ -n "$(ls "$SCG_CACHE/batches")" ]
}

@test "faults on the batch endpoints are retried; a create whose answer is lost is found in the list, not made twice" {
	# the upload, a create that stalls, the list, a poll with 500, one with 429
	printf 'ok\nstall\nok\n500\n429 retry-after=0\n' >script
	mock_start --batch-time 200 --script script --stall-ms 1500
	records 6 >in.jsonl
	run scg-turn --side user --batch --timeout 0.5 <in.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"found batch batch_"*"made by a create call whose answer was lost"* ]]
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '^{')" -eq 6 ]
	[ "$(calls POST /v1/batches)" -eq 1 ]
	[ "$(calls GET /v1/batches)" -ge 1 ]
	# the polls that got 500 and 429 were tried again
	[ "$(jq -r 'select(.path | startswith("/v1/batches/batch_")) | .status' "$MOCK_LOG" | sort -u | tr '\n' ' ')" = "200 429 500 " ]
}

@test "a batch the server does not know (a stale state file) is submitted again" {
	mock_start --batch-time 100
	records 3 >in.jsonl
	scg-turn -q --side user --batch-wait=no <in.jsonl || true
	# a batch the server never heard of
	sed -i 's/"id":"batch_[0-9a-f]*"/"id":"batch_000000000000000000000000"/' "$SCG_CACHE"/batches/*.json
	run scg-turn --side user --batch <in.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"is not known to"*"its requests are submitted again"* ]]
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '^{')" -eq 3 ]
}

@test "--dry-run --batch shows the cost both ways; the progress line counts the batch's requests and the wait" {
	run scg-turn --dry-run --batch --model gpt-4o <"$EX/personas.jsonl"
	[ "$status" -eq 0 ]
	[[ "$output" =~ gpt-4o:\ 5\ requests\ \(dry\ run\).*\$0\.[0-9]{4}\ estimated\ at\ the\ batch\ price\ \(\$0\.[0-9]{4}\ online\) ]]
	run scg-turn --dry-run --model gpt-4o <"$EX/personas.jsonl"
	[[ "$output" =~ \$0\.[0-9]{4}\ estimated\ \(\$0\.[0-9]{4}\ with\ --batch\) ]]
	mock_start --batch-time 600
	records 5 >in.jsonl
	scg-turn --side user --batch --progress <in.jsonl >out.jsonl 2>err.txt
	tr '\r' '\n' <err.txt | grep -Eq '1 batch: [0-9]+ done, 0 failed of 5, waited [0-9]+s'
}

@test "Ollama, an endpoint file, a command and --no-cache say they have no batch (exit 2)" {
	run scg-turn --batch --provider ollama --model m </dev/null
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "scg-turn: --batch: ollama has no batch API"* ]]
	run scg-turn --batch --model m -e "$EX/endpoints/mock.yaml" --side assistant </dev/null
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "scg-turn: --batch: the assistant under test (an endpoint file) has no batch API"* ]]
	run scg-turn --batch --model m --endpoint-cmd cat --side assistant </dev/null
	[ "$status" -eq 2 ]
	run scg-turn --batch --model m --no-cache </dev/null
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *"it does not go with --no-cache"* ]]
}

@test "scg-personas with --batch: one request after another, each in a batch, the same personas as online" {
	mock_start --batch-time 50
	SCG_CACHE=$PWD/online scg-personas -q -a "$EX/assistant.yaml" -n 3 >online.jsonl
	run scg-personas -a "$EX/assistant.yaml" -n 3 --batch
	[ "$status" -eq 0 ]
	printf '%s\n' "${lines[@]}" | grep '^{' >batch.jsonl
	diff <(costless online.jsonl) <(costless batch.jsonl)
	[ "$(calls POST /v1/batches)" -eq 3 ]
}

# ---- the pipelines ----------------------------------------------------------

@test "knowledge --batch: every model stage in batches, the records of the online run, half the cost in the summaries" {
	mock_start --batch-time 200
	local kb=(-k "$EX/knowledge" -s "$EX/knowledge/strategy.json" -n 2 -t 3)
	SCG_CACHE=$PWD/online knowledge -v "${kb[@]}" -o on 2>on.err || true
	: >"$MOCK_LOG"
	# the re-asks too in batches (follow-up ones), so that every answer is bought at the batch price
	run knowledge -v "${kb[@]}" -o kb --batch --batch-retry batch
	[ "$status" -le 1 ]
	[ "$(calls POST /v1/chat/completions)" -eq 0 ]
	diff <(costless on.jsonl) <(costless kb.jsonl)
	jq -n --argjson a "$(cost on.jsonl)" --argjson b "$(cost kb.jsonl)" '$b * 2 - $a | fabs < 1e-9' | grep -qx true
	# each stage's summary: its requests answered in batches, half its online cost
	[[ "$output" == *"scg-scenes: mock-1: "*" answered in batches, at the batch price"* ]]
	[[ "$output" == *"scg-turn: mock-1: "*" answered in batches, at the batch price"* ]]
	local stage a b
	for stage in scg-scenes scg-turn; do
		a=$(grep "^$stage: mock-1: " on.err | grep -o '\$[0-9.]*$' | tr -d '$')
		b=$(printf '%s\n' "${lines[@]}" | grep "^$stage: mock-1: " | grep -o '\$[0-9.]*$' | tr -d '$')
		echo "$stage: online $a, batch $b"
		jq -n --argjson a "$a" --argjson b "$b" '($b * 2 - $a) | fabs <= 0.0002' | grep -qx true
	done
	[ "$(calls POST /v1/batches)" -ge 2 ]
}

@test "knowledge --batch-wait=no goes one stage a run (exit 3) and, killed while it waits, resumes without sending twice" {
	mock_start --batch-time 1500
	local kb=(-k "$EX/knowledge" -n 1 -t 2)
	SCG_CACHE=$PWD/online knowledge -q "${kb[@]}" -o on
	: >"$MOCK_LOG"
	run knowledge "${kb[@]}" -o kb --batch-wait=no
	[ "$status" -eq 3 ]
	[[ "$output" == *"scg-scenes submitted its batches; run the same command again to go on from there"* ]]
	[ ! -e kb.jsonl ]
	# killed, process group and all, while the second stage waits
	sleep 1.6
	setsid knowledge -q "${kb[@]}" -o kb --batch &
	local pid=$! i
	for i in $(seq 1 200); do
		[ "$(calls POST /v1/batches)" -eq 2 ] && grep -qs '"id":"batch_' "$SCG_CACHE"/batches/*.json && break
		sleep 0.05
	done
	[ "$(calls POST /v1/batches)" -eq 2 ]
	kill -9 -- -"$pid"
	wait "$pid" || true
	knowledge -q "${kb[@]}" -o kb --batch
	diff <(costless on.jsonl) <(costless kb.jsonl)
	[ "$(calls POST /v1/batches)" -eq 2 ]
	[ "$(calls POST /v1/files)" -eq 2 ]
	[ "$(sent_ids | uniq -d | wc -l)" -eq 0 ]
}

@test "character --batch: scenes, dialogues and pairs through batches equal the online run; --dry-run prices them so" {
	mock_start --batch-time 150
	local ch=(-c "$EX/character/card.yaml" -p "$EX/character/profile.txt" -k 1 --dpo 1 -t 2)
	SCG_CACHE=$PWD/online character -q "${ch[@]}" -o on || true
	: >"$MOCK_LOG"
	run character -q "${ch[@]}" -o out --batch
	[ "$status" -le 1 ]
	diff <(costless on/sft.jsonl) <(costless out/sft.jsonl)
	diff <(costless on/dpo.jsonl) <(costless out/dpo.jsonl)
	[ -s out/dpo.jsonl ]
	# cheaper (a re-ask goes online, at the online price)
	jq -n --argjson a "$(cost on/sft.jsonl)" --argjson b "$(cost out/sft.jsonl)" '$b < $a * 0.75' | grep -qx true
	# scenes, adversarial set-ups, dialogues, questions, pairs: a batch each at least
	[ "$(calls POST /v1/batches)" -ge 5 ]
	run character "${ch[@]}" -o dry --batch --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *"priced at the batch price"* ]]
	[ ! -e dry ]
}

@test "simulate --batch: the user and judge stages in batches, the assistant under test online" {
	mock_start --batch-time 100
	export SCG_MOCK_PORT=$MOCK_PORT
	run simulate -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" -n 2 -t 2 --batch -v
	[ "$status" -le 1 ]
	[ "$(calls POST /v1/batches)" -ge 2 ]
	[[ "$output" == *"scg-judge: mock-1: "*" answered in batches"* ]]
}
