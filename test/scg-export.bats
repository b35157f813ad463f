#!/usr/bin/env bats
# scg-export: records in, the lines trainers read out, checked first.

load helper

X=$BATS_TEST_DIRNAME/fixtures/export
RENDER=$BATS_TEST_DIRNAME/chat-render.py

@test "conversations: every format writes the expected lines" {
	local args expect
	while read -r expect args; do
		# shellcheck disable=SC2086 # args are options, split on purpose
		run scg-export -q $args "$X/conversations.jsonl"
		[ "$status" -eq 0 ] || { echo "$args: exit $status: $output"; return 1; }
		diff <(echo "$output") "$X/$expect" || { echo "for: $args"; return 1; }
	done <<-'CASES'
	sft-openai.jsonl -f openai
	sft-openai-last.jsonl -f openai --train-on last
	sft-openai-all.jsonl -f openai --train-on all
	sft-trl.jsonl -f trl
	sft-trl.jsonl -f trl --train-on all
	sft-trl-last-keep.jsonl -f trl --train-on last --keep id,persona.name
	sft-sharegpt.jsonl -f sharegpt
	CASES
}

@test "preference pairs: openai-dpo, trl and sharegpt write the expected lines" {
	local f
	for f in openai-dpo trl sharegpt; do
		run scg-export -q -f "$f" "$X/pairs.jsonl"
		[ "$status" -eq 0 ]
		diff <(echo "$output") "$X/pairs-$f.jsonl"
	done
}

# problem_options PROBLEM: what its bad-input fixture needs to show it
problem_options() {
	case $1 in
	wrong_kind) echo "-f openai" ;;
	not_in_format) echo "-f sharegpt" ;;
	no_group) echo "-f trl -o d --split 0.5 --group persona.name" ;;
	too_long) echo "-f trl --max-tokens 40" ;;
	*) echo "-f trl" ;;
	esac
}

@test "the validator catches each problem: one bad-input fixture per problem, exit 1" {
	cd "$X/bad"
	local f p n=0 id
	for f in *.jsonl; do
		p=${f%.jsonl}
		n=$((n + 1))
		id="record x: "
		[ "$p" = bad_line ] && id=
		# shellcheck disable=SC2046 # options, split on purpose
		run scg-export --check $(problem_options "$p") "$f"
		[ "$status" -eq 1 ] || { echo "$p: exit $status"; return 1; }
		[[ "${lines[0]}" == "scg-export: $f:2: $id$p: "* ]] || { echo "$p: ${lines[0]}"; return 1; }
		[ "${lines[1]}" = "2 records: 1 pass, 1 fail" ]
		[[ "${lines[2]}" == "$p"$'\t'1$'\t'* ]] || { echo "$p: ${lines[2]}"; return 1; }
		[ "${#lines[@]}" -eq 3 ]
	done
	[ ! -e d ]
	# every problem the program names has its fixture
	[ "$n" -eq 21 ]
}

@test "a failing record goes to the rejects whole, with its problem; the others are written" {
	local f p
	for f in "$X"/bad/*.jsonl; do
		p=$(basename "$f" .jsonl)
		[ "$p" = bad_line ] && continue
		rm -f rej.jsonl
		# shellcheck disable=SC2046
		run scg-export -q $(problem_options "$p") --rejects rej.jsonl "$f"
		[ "$status" -eq 1 ] || { echo "$p: exit $status: $output"; return 1; }
		[ "$(jq -r .id rej.jsonl)" = x ]
		[[ "$(jq -r .error.reason rej.jsonl)" == "$p: "* ]]
		jq 'del(.error)' rej.jsonl | diff - <(sed -n 2p "$f" | jq .)
	done
	# the good record of a file is written
	scg-export -q -f trl --rejects rej.jsonl "$X/bad/empty_content.jsonl" >out.jsonl 2>err.txt || true
	[ "$(jq -r '.messages[0].content' out.jsonl)" = "Do you fit tyres?" ]
	[ "$(cat err.txt)" = "scg-export: record x: empty_content: message 2 (assistant) is empty" ]
}

@test "a bad line stops the export (--on-error=fail) or goes to the rejects (skip); --check counts it" {
	run scg-export -q -f trl "$X/bad/bad_line.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad_line.jsonl:2: not JSON"* ]]
	run scg-export -q -f trl --on-error=skip --rejects rej.jsonl "$X/bad/bad_line.jsonl"
	[ "$status" -eq 1 ]
	[ "$(jq -r .error.line rej.jsonl)" = 2 ]
}

@test "--check on good input: zero problems, exit 0, nothing written" {
	run scg-export --check -f openai "$X/conversations.jsonl"
	[ "$status" -eq 0 ]
	[ "$output" = "3 records: 3 pass, 0 fail" ]
	run scg-export --check "$X/pairs.jsonl"
	[ "$output" = "2 records: 2 pass, 0 fail" ]
	run scg-export --check -f hf -o never "$X/pairs.jsonl"
	[ ! -e never ]
}

@test "--system sets the system prompt or replaces the first one, from text or a file" {
	run scg-export -q -f trl --system "Be brief." "$X/conversations.jsonl"
	[ "$(echo "$output" | jq -c '[.messages[0] | .role, .content]' | sort -u)" = '["system","Be brief."]' ]
	[ "$(echo "$output" | jq '[.messages[] | select(.role == "system")] | length' | sort -u)" = 1 ]
	printf 'You are Spoke.\nKeep it short.\n' >sys.txt
	run scg-export -q -f openai-dpo --system @sys.txt "$X/pairs.jsonl"
	[ "$(echo "$output" | jq -c '.input.messages[0].content' | sort -u)" = '"You are Spoke.\nKeep it short."' ]
	run scg-export -q -f trl --system @missing.txt "$X/pairs.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"missing.txt"* ]]
}

@test "--keep adds nested columns, null where a record has none; OpenAI's files take none" {
	run scg-export -q -f sharegpt --keep id,persona.name,meta.seed "$X/conversations.jsonl"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c '[.id, .persona.name, .meta.seed]' | tr '\n' ' ')" = '["c1","Ana",7] ["c2","Ben",7] ["c3","Ana",null] ' ]
	run scg-export -f openai --keep id "$X/conversations.jsonl"
	[ "$status" -eq 2 ]
	run scg-export -f trl --keep messages.0 "$X/conversations.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"would replace the format's own messages"* ]]
}

# records N PERSONAS: N conversations of PERSONAS personas, unique texts
records() {
	jq -cn --argjson n "$1" --argjson k "$2" 'range($n) as $i |
		{id: "r\($i)", persona: {name: "P\($i % $k)"}, source: {chunk: ($i % 7)},
		 messages: [{role: "user", content: "question \($i)"}, {role: "assistant", content: "answer \($i)"}]}'
}

@test "--split: no group lands in both splits; the same seed gives the same split" {
	records 300 30 >in.jsonl
	scg-export -q -f hf -o a --split 0.8 --keep persona.name in.jsonl
	local train val
	train=$(jq -r .persona.name a/data/train.jsonl | sort -u)
	val=$(jq -r .persona.name a/data/validation.jsonl | sort -u)
	[ -n "$train" ] && [ -n "$val" ]
	[ -z "$(comm -12 <(echo "$train") <(echo "$val"))" ]
	[ $(($(wc -l <a/data/train.jsonl) + $(wc -l <a/data/validation.jsonl))) -eq 300 ]
	# about 80% of the groups in train
	local groups; groups=$(echo "$train" | wc -l)
	[ "$groups" -ge 18 ] && [ "$groups" -le 29 ]
	scg-export -q -f hf -o b --split 0.8 --keep persona.name in.jsonl
	diff -r a/data b/data
	scg-export -q -f hf -o c --split 0.8 --keep persona.name --seed 5 in.jsonl
	! diff -q a/data/validation.jsonl c/data/validation.jsonl
	# another group: no source chunk in both; other formats write DIR/NAME.jsonl
	scg-export -q -f openai -o d --split 0.6 --group source in.jsonl
	scg-export -q -f trl -o e --split 0.6 --group source --keep source in.jsonl
	[ -z "$(comm -12 <(jq -c .source e/train.jsonl | sort -u) <(jq -c .source e/validation.jsonl | sort -u))" ]
	[ "$(wc -l <d/validation.jsonl)" -eq "$(wc -l <e/validation.jsonl)" ]
}

@test "hf: the card's YAML header parses, and its splits and features match the files" {
	records 40 8 >in.jsonl
	scg-export -q -f hf -o ds --split 0.7 --keep id,persona.name in.jsonl "$X/conversations.jsonl"
	[ -f ds/README.md ] && [ -f ds/data/train.jsonl ] && [ -f ds/data/validation.jsonl ]
	python3 - ds <<-'PY'
	import json, sys, yaml
	d = sys.argv[1]
	text = open(d + "/README.md", encoding="utf-8").read()
	assert text.startswith("---\n"), "no YAML header"
	head = yaml.safe_load(text.split("---\n")[1])
	files = head["configs"][0]["data_files"]
	assert head["configs"][0]["config_name"] == "default"
	splits = {s["name"]: s["num_examples"] for s in head["dataset_info"]["splits"]}
	assert [f["split"] for f in files] == list(splits), (files, splits)
	for f in files:
	    rows = [json.loads(l) for l in open(d + "/" + f["path"], encoding="utf-8")]
	    assert len(rows) == splits[f["split"]], (f, len(rows), splits)
	    names = {x["name"] for x in head["dataset_info"]["features"]}
	    for r in rows:
	        assert set(r) <= names, (list(r), names)
	feats = {x["name"]: x for x in head["dataset_info"]["features"]}
	msg = {x["name"]: x for x in feats["messages"]["list"]}
	assert msg["role"]["dtype"] == "string" and msg["content"]["dtype"] == "string"
	assert msg["tool_calls"]["list"][0]["name"] == "id"
	assert feats["persona"]["struct"] == [{"name": "name", "dtype": "string"}]
	assert feats["tools"]["list"][0]["name"] == "type"
	assert sum(splits.values()) == 43
	assert head["size_categories"] == ["n<1K"]
	PY
	# the run's facts are below it
	grep -q '^| gpt-4o-mini | 7 | 2500 | 380 | ' ds/README.md
	grep -q '^- goal_achieved: 2$' ds/README.md
	grep -q '^- 43 conversations, 0 preference pairs$' ds/README.md
	grep -q '^- 7: 2$' ds/README.md
	grep -q '^- 43 records read, 43 written, 0 rejected' ds/README.md
	# a column of two types cannot be declared: the card says so, and leaves
	# the features to the loader
	printf '%s\n' '{"persona":{"age":1},"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}' \
		'{"persona":{"age":"x"},"messages":[{"role":"user","content":"c"},{"role":"assistant","content":"d"}]}' >mixed.jsonl
	run scg-export -q -f hf -o mixed --keep persona mixed.jsonl
	[ "$status" -eq 0 ]
	[ "$output" = "scg-export: the card declares no features: persona.age is int64 in one row and string in another" ]
	python3 -c 'import yaml; h = yaml.safe_load(open("mixed/README.md").read().split("---\n")[1]); assert "features" not in h["dataset_info"]'
	# no validation split: none is declared, and an old file goes
	scg-export -q -f hf -o ds in.jsonl
	[ ! -e ds/data/validation.jsonl ]
	python3 -c 'import sys, yaml; h = yaml.safe_load(open("ds/README.md").read().split("---\n")[1]); assert [s["name"] for s in h["dataset_info"]["splits"]] == ["train"]'
}

@test "exported examples render through a ChatML chat template with tools; roles out of order are refused" {
	scg-export -q -f openai "$X/conversations.jsonl" >sft.jsonl
	python3 "$RENDER" "$X/chatml-tools.jinja" <sft.jsonl >rendered.txt
	diff rendered.txt "$X/sft-rendered.txt"
	# prompt-completion renders to the same text
	scg-export -q -f trl --train-on last "$X/conversations.jsonl" | python3 "$RENDER" "$X/chatml-tools.jinja" >last.txt
	diff last.txt "$X/sft-rendered.txt"
	# the template refuses what the validator refuses
	run python3 "$RENDER" "$X/chatml-tools.jinja" < <(sed -n 2p "$X/bad/not_alternating.jsonl")
	[ "$status" -eq 1 ]
	[[ "$output" == *"user may not follow user"* ]]
}

@test "bad options exit 2 with one line and the usage hint" {
	local args
	while IFS= read -r args; do
		# shellcheck disable=SC2086
		run scg-export $args "$X/conversations.jsonl"
		[ "$status" -eq 2 ] || { echo "$args: exit $status"; return 1; }
		[ "${#lines[@]}" -eq 2 ] && [[ "${lines[1]}" == "Try 'scg-export --help'"* ]] || { echo "$args: $output"; return 1; }
	done <<-'CASES'
	--train-on last
	-f csv
	-f hf
	-f trl --split 0.8
	-f trl -o d --split 1
	-f openai --keep id
	-f sharegpt --train-on last
	-f trl --train-on some
	-f trl --max-tokens 0
	CASES
}
