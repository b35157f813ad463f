#!/usr/bin/env bats
# pipelines/seed-messages against scg-mock: seed messages into restyled
# conversations, the profile and the originals kept.

load helper

SEEDS=$BATS_TEST_DIRNAME/../examples/seed/seeds.txt
AXES=$BATS_TEST_DIRNAME/../examples/seed/axes.yaml
CARD=$BATS_TEST_DIRNAME/../examples/seed/assistant.yaml

# stand-ins for scg-scenes --kind opening and scg-personas --axes that
# write the records those stages document, and log their arguments
stub_stages() {
	mkdir -p stubs
	cat >stubs/scg-scenes <<-'EOF'
	#!/bin/sh
	echo "scg-scenes $*" >>args.txt
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		jq -cn --arg s "$line" --arg id "$(printf 's%04d' "$n")" \
			'{id: $id, source: {text: $s}, scene: {kind: "opening"}, messages: [{role: "user", content: $s}]}'
	done
	EOF
	cat >stubs/scg-personas <<-'EOF'
	#!/bin/sh
	echo "scg-personas $*" >>args.txt
	jq -c '. + {persona: {name: "Dana", axes: {motivation: "distrust", disposition: "sarcastic"}, description: "Dana doubts."}}'
	EOF
	chmod +x stubs/*
	PATH=$PWD/stubs:$PATH
}

# check FILE: one conversation per seed, in order, each with the seed first
# in its originals, a profile, and restyled messages of at most 280 characters
check() {
	[ "$(wc -l <"$1")" -eq "$(grep -c . "$SEEDS")" ]
	[ "$(jq -r '.original_messages[0].content' "$1")" = "$(grep . "$SEEDS")" ]
	jq -e '.persona.axes | length > 0' "$1" >/dev/null
	jq -e '.done and .kind == "dialogue" and (.messages | length) >= 2 and (.messages | length) == (.original_messages | length)' "$1" >/dev/null
	jq -e '[.messages[].role] == [.original_messages[].role] and .messages[0].role == "user" and .messages[-1].role == "assistant"' "$1" >/dev/null
	jq -e '[.messages[].content | length] | max <= 280' "$1" >/dev/null
}

@test "the shipped seeds become one restyled conversation each, profile and originals kept" {
	mock_start
	run bash -c "seed-messages -q -s '$SEEDS' -x '$AXES' -t 3 --style thread >out.jsonl"
	[ "$status" -eq 0 ]
	check out.jsonl
	jq -e '[.messages[] | select(.role == "user")] | length <= 3' out.jsonl >/dev/null
}

@test "the output passes scg-export --check with zero problems; --export writes it for a trainer" {
	mock_start
	seed-messages -q -s "$SEEDS" -x "$AXES" -a "$CARD" -t 3 >out.jsonl
	run scg-export --check -f trl out.jsonl
	[ "$status" -eq 0 ]
	[ "$output" = "$(grep -c . "$SEEDS") records: $(grep -c . "$SEEDS") pass, 0 fail" ]
	seed-messages -q -s "$SEEDS" -x "$AXES" -a "$CARD" -t 3 --export sharegpt >sg.jsonl
	[ "$(wc -l <sg.jsonl)" -eq "$(grep -c . "$SEEDS")" ]
	[ "$(jq -c keys sg.jsonl | sort -u)" = '["conversations"]' ]
	[ "$(jq -r '.conversations[0].from' sg.jsonl | sort -u)" = human ]
}

@test "-a names the assistant from its card; the writer of a seed speaks as User, never as an axes label" {
	mock_start
	run bash -c "seed-messages -q -s '$SEEDS' -x '$AXES' -a '$CARD' -t 2 --style none >out.jsonl"
	[ "$status" -eq 0 ]
	[ "$(wc -l <out.jsonl)" -eq "$(grep -c . "$SEEDS")" ]
	[ "$(jq -r .assistant.name out.jsonl | sort -u)" = Mira ]
	# the profile keeps its label as the persona's name ...
	jq -e '.persona.name == (.persona.axes | [.[]] | join("/"))' out.jsonl >/dev/null
	# ... but every script is between the card's assistant and User
	local scripts; scripts=$(jq -c 'select(.body.response_format.json_schema.name == "script")' "$MOCK_LOG")
	[ "$(echo "$scripts" | wc -l)" -ge "$(grep -c . "$SEEDS")" ]
	[ "$(echo "$scripts" | jq -c '.body.response_format.json_schema.schema.properties.turns.items.properties.speaker.enum' | sort -u)" = '["Mira","User"]' ]
	local prompts; prompts=$(echo "$scripts" | jq -r '.body.messages[1].content')
	[ "$(echo "$prompts" | grep -c 'Write the rest of a conversation between Mira and User\.')" -eq "$(echo "$scripts" | wc -l)" ]
	[[ "$prompts" == *"The help assistant of Brightline"* ]]
	[[ "$prompts" != *"between Assistant"* ]]
	local label
	for label in $(jq -r .persona.name out.jsonl | sort -u); do
		[[ "$prompts" != *"$label"* ]] || { echo "label $label in a script prompt"; return 1; }
	done
}

@test "the stages are chained as documented: opening, axes profile, script, restyle" {
	stub_stages
	mock_start
	run bash -c "seed-messages -q -s '$SEEDS' -x axes.yaml -t 2 --seed 5 -j 4 >out.jsonl"
	[ "$status" -eq 2 ]   # the axes file must exist
	[ "$output" = "seed-messages: -x: axes.yaml: no such file" ]
	echo 'motivation: {}' >axes.yaml
	run bash -c "seed-messages -q -s '$SEEDS' -x axes.yaml -t 2 --seed 5 -j 4 >out.jsonl"
	[ "$status" -eq 0 ]
	check out.jsonl
	[ "$(jq -r .id out.jsonl | head -n 2 | tr '\n' ' ')" = "s0001 s0002 " ]
	jq -e '.stop.turn <= 2 and .meta.restyle.style == "thread"' out.jsonl >/dev/null
	[ "$(sort args.txt)" = "$(printf '%s\n' 'scg-personas --no-progress -q --axes axes.yaml --seed 5' 'scg-scenes --no-progress -q --kind opening --seed 5')" ]
	# each seed costs one script call and one restyle call, plus re-asks
	[ "$(jq -s '[.[] | select(.body.response_format.json_schema.name == "restyled")] | length' "$MOCK_LOG")" -ge 14 ]
}

@test "--style none leaves the conversations as written; options after -- reach the model stages" {
	stub_stages
	mock_start
	echo 'motivation: {}' >axes.yaml
	seed-messages -q -s "$SEEDS" -x axes.yaml --style none -- --temperature 0.25 >out.jsonl
	[ "$(jq -s 'map(has("original_messages")) | any' out.jsonl)" = false ]
	[ "$(jq -r .body.temperature "$MOCK_LOG" | sort -u)" = 0.25 ]
	[ "$(jq -r .body.response_format.json_schema.name "$MOCK_LOG" | sort -u)" = script ]
}

@test "missing or unknown options exit 2 with the usage hint" {
	run seed-messages -s "$SEEDS"
	[ "$status" -eq 2 ]
	[[ "$output" == *"-x AXES"* ]]
	[[ "$output" == *"Try 'seed-messages --help'"* ]]
	run seed-messages --bogus
	[ "$status" -eq 2 ]
	run seed-messages -s "$SEEDS" -x "$AXES" -a nowhere.yaml
	[ "$status" -eq 2 ]
	[ "$output" = "seed-messages: -a: nowhere.yaml: no such file" ]
	run seed-messages -s
	[ "$status" -eq 2 ]
	run seed-messages --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
	[[ "$output" == *"-a, --assistant FILE"* ]]
}
