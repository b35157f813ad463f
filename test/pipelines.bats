#!/usr/bin/env bats
# What the workflows share (pipelines/lib/scg-pipeline.sh): the
# common options and the stages each reaches, the checks made once before
# any stage, the dry run of a whole run, the name a pipeline is called by,
# sharding over GNU parallel, and `make install`.

load helper
bats_require_minimum_version 1.5.0

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
EX=$ROOT/examples

# spy: the scg programs the pipelines start, each logged with its
# arguments in spy.log, then run
spy() {
	mkdir -p spy
	local p
	for p in scg-personas scg-turn scg-judge scg-scenes scg-restyle scg-dpo; do
		printf '#!/bin/sh\necho "%s $*" >>"%s/spy.log"\nexec "%s/%s" "$@"\n' \
			"$p" "$PWD" "$SCG_BIN" "$p" >"spy/$p"
		chmod +x "spy/$p"
	done
	PATH=$PWD/spy:$PATH
}

COMMON=(--provider openai --model probe-m --key-file key.txt -j 3 --rpm 6000 --tpm 9000000
	--timeout 40 --retries 2 --max-answer-bytes 2M --extra-body '{"x_probe": 7}' --seed 5
	--no-cache --budget 50 --rejects rej.jsonl)

# spied N: every model-calling stage started (N at least) had every common
# option; the assistant's turn names no model of its own
spied() {
	local line o n=0
	while IFS= read -r line; do
		case $line in *"--kind opening"* | *" --axes "*) continue ;; esac
		n=$((n + 1))
		for o in "${COMMON[@]}" --base-url "$MOCK_URL/v1"; do
			[[ $o != --model && $o != probe-m || $line != *"--side assistant"* ]] || continue
			[[ " $line " == *" $o "* ]] || { echo "'$o' is missing from: $line"; return 1; }
		done
	done <spy.log
	[ "$n" -ge "$1" ] || { echo "only $n stages"; return 1; }
}

# asked_right: every request the mock had was for probe-m (or the
# endpoint's own model) with the extra body, sent with the key
asked_right() {
	[ "$(mock_requests)" -gt 0 ]
	[ -z "$(jq -c 'select(.body.model != "probe-m" and .body.model != "mock-assistant")' "$MOCK_LOG")" ]
	[ -z "$(jq -c 'select(.body.model == "probe-m" and .body.x_probe != 7)' "$MOCK_LOG")" ]
	[ -z "$(jq -c 'select(.status != 200)' "$MOCK_LOG")" ]
}

mock_keyed() {
	mock_start --key sk-probe-1234567890
	unset SCG_BASE_URL SCG_MODEL
	export SCG_MOCK_PORT=$MOCK_PORT
	echo sk-probe-1234567890 >key.txt
	spy
}

@test "simulate takes every common option and passes each to every model-calling stage" {
	mock_keyed
	# the mock wants the key from the assistant under test too
	printf 'url: %s/v1/chat/completions\nheaders: {Authorization: "Bearer ${PROBE_KEY}"}\nbody: {model: mock-assistant}\nresponse_path: [choices, 0, message, content]\n' \
		"$MOCK_URL" >keyed.yaml
	PROBE_KEY=sk-probe-1234567890 simulate -a "$EX/assistant.yaml" -e keyed.yaml -n 2 -t 2 \
		--base-url "$MOCK_URL/v1" "${COMMON[@]}" >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 2 ]
	spied 8
	grep -q 'scg-turn .* -e keyed.yaml --side assistant' spy.log
	asked_right
}

@test "seed-messages takes every common option and passes each to every model-calling stage" {
	mock_keyed
	# (the mock's scripts for probe-m leave some without an answer: rejects, exit 1)
	run seed-messages -s "$EX/seed/seeds.txt" -x "$EX/seed/axes.yaml" -t 2 --base-url "$MOCK_URL/v1" \
		"${COMMON[@]}"
	[ "$status" -le 1 ]
	[ "$(grep -c '^{' <<<"$output")" -ge 5 ]
	spied 4
	grep -q '^scg-scenes .*--kind opening .*--seed 5 .*--rejects rej.jsonl' spy.log
	asked_right
}

@test "knowledge takes every common option and passes each to every model-calling stage" {
	mock_keyed
	knowledge -k "$EX/knowledge" -n 1 -t 2 -o kb --base-url "$MOCK_URL/v1" "${COMMON[@]}"
	[ -s kb.jsonl ]
	spied 4
	asked_right
}

@test "character takes every common option and passes each to every model-calling stage" {
	mock_keyed
	# (the mock's scripts for probe-m give some dialogues no user turn: rejects, exit 1)
	run character -c "$EX/character/card.yaml" -p "$EX/character/profile.txt" -k 1 --dpo 1 -t 2 -o ch \
		--base-url "$MOCK_URL/v1" "${COMMON[@]}"
	[ "$status" -le 1 ]
	[ -s ch/sft.jsonl ] && [ -s ch/dpo.jsonl ]
	spied 8
	asked_right
}

@test "agent takes every common option and passes each to every model-calling stage" {
	mock_keyed
	agent -a "$EX/shop/assistant.yaml" --tools "$EX/shop/tools.yaml" --tool-cmd "$EX/shop/orders.sh" \
		--tool-state "$EX/shop/state.json" -n 1 -k 2 -t 2 --base-url "$MOCK_URL/v1" "${COMMON[@]}" >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 2 ]
	spied 8
	grep -q 'scg-scenes .*--kind tasks --tools ' spy.log
	grep -q 'scg-turn .*--side assistant --tools .* --tool-cmd ' spy.log
	asked_right
}

@test "simulate --endpoint-cmd: a command plays the assistant under test" {
	mock_start
	simulate -a "$EX/assistant.yaml" --endpoint-cmd 'echo "Bring it in on Monday."' -n 2 -t 2 >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 2 ]
	[ "$(jq -r '.messages[] | select(.role == "assistant") | .content' out.jsonl | sort -u)" = "Bring it in on Monday." ]
	run simulate -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" --endpoint-cmd cat
	[ "$status" -eq 2 ]
	[[ "$output" == *"-e and --endpoint-cmd exclude each other"* ]]
}

@test "a missing variable, model, key or file is one line before any stage starts, and nothing is sent" {
	mock_start
	# the endpoint's ${SCG_MOCK_PORT}: once, not once per round
	run simulate -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" -n 3 -t 10
	[ "$status" -eq 2 ]
	[ "$output" = "simulate: scg-turn: $EX/endpoints/mock.yaml: environment variable SCG_MOCK_PORT is not set" ]
	export SCG_MOCK_PORT=$MOCK_PORT
	# no model
	SCG_MODEL='' run seed-messages -s "$EX/seed/seeds.txt" -x "$EX/seed/axes.yaml"
	[ "$status" -eq 2 ]
	[ "$output" = "seed-messages: scg-turn: no model named: give --model NAME or set SCG_MODEL (scg names no model of its own)" ]
	# no key for the official API: no output folder either
	run knowledge -k "$EX/knowledge" -o kb --base-url https://api.openai.com/v1
	[ "$status" -eq 2 ]
	[ "$output" = "knowledge: scg-scenes: no API key for https://api.openai.com/v1: set OPENAI_API_KEY or SCG_API_KEY" ]
	[ ! -e kb.d ]
	# a bad value of a common option, in the stage's own words
	run character -c "$EX/character/card.yaml" -p "$EX/character/profile.txt" -o ch -j 0
	[ "$status" -eq 2 ]
	[[ "$output" == "character: scg-scenes: "*"expected an integer from 1 to 4096, got '0'" ]]
	[ "${#lines[@]}" -eq 1 ]
	[ ! -e ch ]
	# files named on the command line
	run simulate -a nowhere.yaml -e "$EX/endpoints/mock.yaml"
	[ "$status" -eq 2 ]
	[ "$output" = "simulate: -a: nowhere.yaml: no such file" ]
	run character -c "$EX/character" -p "$EX/character/profile.txt"
	[ "$status" -eq 2 ]
	[ "$output" = "character: -c: $EX/character: a folder, not a file" ]
	[ "$(mock_requests)" -eq 0 ]
}

# est ARGS...: the total a dry run prints, in USD
est() {
	"$@" --dry-run 2>&1 >/dev/null | sed -n 's/^.*: dry run: total .*\$\([0-9.]*\)$/\1/p'
}

# spent ARGS...: what the run cost, summed over its stages' summaries
spent() {
	"$@" -v 2>&1 >/dev/null | sed -n 's/^scg-[a-z]*: [^ ]*: .* tokens, \$\([0-9.]*\)$/\1/p' |
		awk '{ s += $1 } END { printf "%.6f\n", s }'
}

# within15 EST REAL: the estimate is within 15% of the cost, which is not 0
within15() {
	echo "estimate $1, run $2"
	awk -v e="$1" -v r="$2" 'BEGIN { exit !(r > 0 && e >= 0.85 * r && e <= 1.15 * r) }'
}

@test "--dry-run of each workflow on the shipped examples estimates the run's cost within 15%, and writes nothing" {
	mock_start
	export SCG_MOCK_PORT=$MOCK_PORT
	printf 'mock-1: {input: 3, output: 15}\n' >prices.yaml
	export SCG_PRICES=$PWD/prices.yaml
	local e
	# simulate: 10 personas, a conversation each, up to 10 turns
	e=$(est simulate -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" --rejects r1.jsonl \
		--report r1.html --export hf:ds)
	[ "$(mock_requests)" -eq 0 ]
	[ ! -e r1.jsonl ] && [ ! -e r1.html ] && [ ! -e ds ]
	within15 "$e" "$(spent simulate -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml")"
	: >"$MOCK_LOG"
	# seed-messages: one conversation a seed, restyled
	run --separate-stderr seed-messages -s "$EX/seed/seeds.txt" -x "$EX/seed/axes.yaml" \
		-a "$EX/seed/assistant.yaml" --layout original -o lay --dry-run
	[ "$status" -eq 0 ]
	[ -z "$output" ] && [ ! -e lay ]
	[ "$(mock_requests)" -eq 0 ]
	within15 "$(est seed-messages -s "$EX/seed/seeds.txt" -x "$EX/seed/axes.yaml" -a "$EX/seed/assistant.yaml")" \
		"$(spent seed-messages -s "$EX/seed/seeds.txt" -x "$EX/seed/axes.yaml" -a "$EX/seed/assistant.yaml")"
	: >"$MOCK_LOG"
	# knowledge: set-ups per chunk, a conversation each
	e=$(est knowledge -k "$EX/knowledge" -s "$EX/knowledge/strategy.json" --inject-dir "$EX/dynamic/inject" \
		--templates "$EX/dynamic/templates.yaml" -o kb)
	[ ! -e kb.d ] && [ ! -e kb.jsonl ]
	[ "$(mock_requests)" -eq 0 ]
	within15 "$e" "$(spent knowledge -k "$EX/knowledge" -s "$EX/knowledge/strategy.json" \
		--inject-dir "$EX/dynamic/inject" --templates "$EX/dynamic/templates.yaml" -o kb)"
	: >"$MOCK_LOG"
	# character: scenes and adversarial set-ups per paragraph, a dialogue
	# each, and preference pairs; the old form after -- is the same dry run
	e=$(est character -c "$EX/character/card.yaml" -p "$EX/character/profile.txt" -o ch --)
	[ ! -e ch ]
	[ "$(mock_requests)" -eq 0 ]
	within15 "$e" "$(spent character -c "$EX/character/card.yaml" -p "$EX/character/profile.txt" -o ch)"
}

@test "a dry run shows each stage, the assistant under test, the total and the most it can cost; it needs no key" {
	mock_start
	export SCG_MOCK_PORT=$MOCK_PORT
	unset SCG_BASE_URL
	run --separate-stderr simulate -a "$EX/assistant.yaml" -e "$EX/endpoints/mock.yaml" -n 2 -t 3 \
		--model gpt-4o-mini --dry-run
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"simulate: dry run: stage scg-personas "*" 2 requests, "* ]]
	[[ "$stderr" == *"simulate: dry run: stage scg-turn "* ]]
	[[ "$stderr" == *"simulate: dry run: stage scg-judge "* ]]
	[[ "$stderr" == *"simulate: dry run: assistant under test "*" requests (not priced)"* ]]
	[[ "$stderr" == *"simulate: dry run: total "*'$'* ]]
	# to the limit: 2 personas, 3 user turns each, the judge after the first two
	[[ "$stderr" == *"simulate: dry run: at most                 12 requests, "*"(every conversation to the limit of 3 user turns)"* ]]
	[[ "$stderr" == *"assumed: "* ]]
	# the official API was never asked (there is no key), nor the mock
	[ "$(mock_requests)" -eq 0 ]
	# personas on a pipe are read once, for both rehearsals
	head -n 2 "$EX/personas.jsonl" >two.jsonl
	run --separate-stderr simulate -p two.jsonl -e "$EX/endpoints/mock.yaml" -t 3 --model gpt-4o-mini --dry-run
	local from_file=$stderr
	[[ "$from_file" == *"simulate: dry run: at most                 10 requests, "* ]]
	run --separate-stderr bash -c "cat two.jsonl | simulate -p /dev/stdin -e '$EX/endpoints/mock.yaml' -t 3 --model gpt-4o-mini --dry-run"
	[ "$stderr" = "$from_file" ]
}

@test "sharded over parallel --pipe, simulate and seed-messages give the records of one process" {
	mock_start
	export SCG_MOCK_PORT=$MOCK_PORT
	scg-personas -q -a "$EX/assistant.yaml" -n 12 >personas.jsonl
	simulate -p personas.jsonl -n 10 -k 2 -t 3 -e "$EX/endpoints/mock.yaml" >one.jsonl
	[ "$(wc -l <one.jsonl)" -eq 20 ]
	# the first 10 cut before the shards, not by each shard's -n
	head -n 10 personas.jsonl |
		parallel --pipe -N 3 simulate -p /dev/stdin -k 2 -t 3 -e "$EX/endpoints/mock.yaml" >shards.jsonl
	diff <(sort one.jsonl) <(sort shards.jsonl)
	# what -n does in each shard: its own first N (here all 12)
	parallel --pipe -N 10 simulate -p /dev/stdin -n 10 -k 2 -t 3 -e "$EX/endpoints/mock.yaml" \
		<personas.jsonl >each-n.jsonl
	[ "$(wc -l <each-n.jsonl)" -eq 24 ]
	# seeds as records with their ids
	grep . "$EX/seed/seeds.txt" | jq -R -c '{id: "s\(input_line_number)", text: .}' >seeds.jsonl
	seed-messages -s seeds.jsonl -x "$EX/seed/axes.yaml" -t 2 >one.jsonl
	parallel --pipe -k -N 3 seed-messages -s /dev/stdin -x "$EX/seed/axes.yaml" -t 2 <seeds.jsonl >shards.jsonl
	[ "$(wc -l <one.jsonl)" -eq "$(wc -l <seeds.jsonl)" ]
	cmp one.jsonl shards.jsonl
}

@test "a pipeline calls itself by the name it was run by, in its help and its messages" {
	ln -s "$ROOT/pipelines/simulate" scg-simulate
	run ./scg-simulate --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: scg-simulate -a assistant.yaml "* ]]
	[[ "$output" == *"See scg-simulate(1) and scg(7)."* ]]
	run ./scg-simulate -a x.yaml
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "scg-simulate: an endpoint is needed: -e FILE (or --endpoint-cmd CMD)" ]
	[ "${lines[1]}" = "Try 'scg-simulate --help'" ]
	run ./scg-simulate -a x.yaml -e y.yaml --bogus
	[ "${lines[0]}" = "scg-simulate: unknown option '--bogus'" ]
}

@test "-q says nothing, -v lets each stage print its summary, --progress draws the stages' progress" {
	mock_start
	run --separate-stderr knowledge -k "$EX/knowledge" -n 1 -t 2 -o q -q
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	run --separate-stderr knowledge -k "$EX/knowledge" -n 1 -t 2 -o v -v
	[[ "$stderr" == *"scg-scenes: mock-1: "*" requests, "* ]]
	[[ "$stderr" == *"scg-turn: mock-1: "*" requests, "* ]]
	[[ "$stderr" == *"knowledge: "*" conversations in v.jsonl"* ]]
	run --separate-stderr knowledge -k "$EX/knowledge" -n 1 -t 2 -o p --progress --no-cache
	[[ "$stderr" == *$'\r'*"scg-turn: "*" in, "*" out, "* ]]
	[[ "$stderr" != *"scg-turn: mock-1: "* ]]
}

@test "make install: the pipelines as scg-NAME with their man pages, the examples, and each runs from there" {
	local prefix=$BATS_TEST_TMPDIR/prefix
	make -s -C "$ROOT" install PREFIX="$prefix" BUILD="${SCG_BIN%/bin}" >/dev/null
	local p
	for p in simulate seed-messages knowledge character agent; do
		[ -x "$prefix/bin/scg-$p" ]
		[ -s "$prefix/share/man/man1/scg-$p.1" ]
		run "$prefix/bin/scg-$p" --help
		[ "$status" -eq 0 ]
		[[ "${lines[0]}" == "usage: scg-$p "* ]]
		[[ "$output" != *"pipelines/"* ]]
	done
	[ -s "$prefix/share/scg/scg-pipeline.sh" ]
	[ -s "$prefix/share/man/man7/scg.7" ]
	diff -r "$ROOT/examples" "$prefix/share/scg/examples"
	# the installed workflow, on the installed examples, from anywhere
	mock_start
	export SCG_MOCK_PORT=$MOCK_PORT
	PATH=$prefix/bin:$PATH
	local ex=$prefix/share/scg/examples
	run --separate-stderr scg-simulate -a "$ex/assistant.yaml" -e "$ex/endpoints/mock.yaml" -n 2 -t 2 --dry-run
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"scg-simulate: dry run: total "* ]]
	scg-simulate -a "$ex/assistant.yaml" -e "$ex/endpoints/mock.yaml" -n 2 -t 2 >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 2 ]
	run scg-knowledge -k nowhere
	[ "$output" = "scg-knowledge: -k: nowhere: not a folder" ]
	# DESTDIR: the files under it, the paths written in without it
	make -s -C "$ROOT" install DESTDIR="$BATS_TEST_TMPDIR/stage" PREFIX=/opt/scg BUILD="${SCG_BIN%/bin}" >/dev/null
	grep -qx 'pl_lib=/opt/scg/share/scg/scg-pipeline.sh' "$BATS_TEST_TMPDIR/stage/opt/scg/bin/scg-knowledge"
	[ -s "$BATS_TEST_TMPDIR/stage/opt/scg/share/scg/examples/seed/seeds.txt" ]
}
