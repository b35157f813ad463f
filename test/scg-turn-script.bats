#!/usr/bin/env bats
# scg-turn --script N: the rest of a conversation in one call. The mapping
# of script answers is tested on fixture answers through test/script-map
# (lib/script.c as scg-turn uses it), the program against scg-mock.

load helper

SCRIPTS=$FIXTURES/script
script_map() { "$SCG_BIN/../test/script-map" "$@"; }
turn() { scg-turn -q "$@" 2>>stderr.txt; }
# request TEXT: the first request to the mock whose prompt holds TEXT
request() { jq -c --arg t "$1" 'select(.body.messages[1].content | contains($t))' "$MOCK_LOG" | head -n 1; }

# map CASE: the fixture answer CASE of cases.jsonl, mapped; it must give
# the case's expected messages, or an error that contains its "error".
map() {
	local c got
	c=$(jq -c --arg n "$1" 'select(.case == $n)' "$SCRIPTS/cases.jsonl")
	[ -n "$c" ]
	got=$(echo "$c" | script_map)
	if echo "$c" | jq -e 'has("expect")' >/dev/null; then
		[ "$(echo "$got" | jq -c .messages)" = "$(echo "$c" | jq -c .expect)" ] || { echo "got $got"; return 1; }
	else
		[[ "$(echo "$got" | jq -r .error)" == *"$(echo "$c" | jq -r .error)"* ]] || { echo "got $got"; return 1; }
	fi
}

# shape FILE N: every record starts with the user, alternates, ends with the
# assistant and has at most N user messages.
shape() {
	jq -e --argjson n "$2" '
		[.messages[].role] as $r
		| ($r | length) >= 2 and $r[0] == "user" and $r[-1] == "assistant"
		  and ([range(1; $r | length) | select($r[.] == $r[. - 1])] | length) == 0
		  and ([$r[] | select(. == "user")] | length) <= $n
		  and ([.messages[].content | select(length == 0)] | length) == 0' "$1" >/dev/null
}

@test "stage directions in asterisks, parentheses and brackets are removed" { map stage-directions; }
@test "the character's name and aliases speak as the assistant, whatever the case or decoration" { map aliases; }
@test "consecutive turns of one speaker are merged; every other name is the user" { map merge; }
@test "a dialogue from scratch starts with the user: an opening line of the assistant goes" { map user-first; }
@test "a script that repeats the seed message does not repeat it in the conversation" { map seed-repeated; }
@test "turns past N exchanges are cut, and a last word of the user is dropped" { map limit; map last-word; }
@test "the speaker's own name in front of the text is removed" { map labels; }
@test "names match without regard to case in Latin-1 letters too" { map latin1; }
@test "a name that is not the assistant's is the user's, so a wrong name leaves the assistant mute: rejected" { map wrong-name; }
@test "scripts with only the user, only the assistant first, only directions or no turns are rejected" {
	map user-only
	map assistant-only
	map only-directions
	map no-turns
}
@test "after a seed message, a script of assistant turns only is one exchange" { map assistant-only-after-seed; }

@test "random scripts of names, directions and odd spacing always map to an alternating conversation" {
	run script_map --fuzz 3000
	[ "$status" -eq 0 ]
	[ "$output" = "3000 scripts" ]
}

@test "one call per record: seed first, alternating, done, stop and kind recorded" {
	mock_start
	run turn --script 3 "$SCRIPTS/records.jsonl"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	echo "$output" | head -n 4 >out.jsonl
	shape out.jsonl 3
	[ "$(jq -r '.messages[0].content' out.jsonl | head -n 1)" = "my parcel says delivered but it is not here" ]
	[ "$(jq -c '.done' out.jsonl | sort -u)" = true ]
	[ "$(jq -c '.stop | [.reason, .by]' out.jsonl | sort -u)" = '["script","script"]' ]
	jq -e '.stop.turn == ([.messages[] | select(.role == "user")] | length)' out.jsonl >/dev/null
	[ "$(jq -r .kind out.jsonl | tr '\n' ' ')" = "dialogue dialogue protective dialogue " ]
	[ "${lines[4]}" = "$(sed -n 5p "$SCRIPTS/records.jsonl")" ]
	# one request per record, plus the re-asks of unusable answers
	[ "$(jq -s 'map(select(.body.messages[-1].content | contains("could not be used") | not)) | length' "$MOCK_LOG")" -eq 4 ]
	[ "$(jq -r .body.response_format.json_schema.name "$MOCK_LOG" | sort -u)" = script ]
}

@test "every input field is kept in its place; persona axes and usage survive" {
	mock_start
	run turn --script 2 <"$SCRIPTS/records.jsonl"
	[ "$status" -eq 0 ]
	[ "$(echo "${lines[0]}" | jq -c 'keys_unsorted')" = '["id","source","scene","messages","persona","done","stop","kind","meta"]' ]
	[ "$(echo "${lines[0]}" | jq -c .persona.axes)" = '{"motivation":"distrust","disposition":"sarcastic"}' ]
	[ "$(echo "${lines[0]}" | jq '.meta.usage["mock-1"].requests')" -ge 1 ]
	[ "$(echo "${lines[1]}" | jq -r '.source.text')" = "Lincoln spent long nights in the War Department telegraph office." ]
}

@test "the speakers the model may use are the cast: character and aliases, the scene's participant, the persona" {
	mock_start
	turn --script 3 "$SCRIPTS/records.jsonl" >/dev/null
	speakers() { request "$1" | jq -c '.body.response_format.json_schema.schema.properties.turns.items.properties.speaker.enum'; }
	[ "$(speakers 'my parcel says')" = '["Assistant","Dana"]' ]
	[ "$(speakers 'telegraph office')" = '["Abraham Lincoln","Lincoln","Abe","Tom, a young telegraph clerk"]' ]
	[ "$(speakers 'returned within 30 days')" = '["Ava","User"]' ]
}

@test "--character FILE stamps the card into records that have none: its name and aliases are the assistant's" {
	mock_start
	printf 'name: Ada Lovelace\naliases: [Ada]\nera: 1815-1852\n' >card.yaml
	printf '%s\n' '{"id":"a","scene":{"setting":"a drawing room in 1843"},"messages":[]}' \
		'{"id":"b","character":{"name":"Mary Anning"},"scene":{"setting":"the beach at Lyme"},"messages":[]}' >in.jsonl
	turn --script 2 --character card.yaml in.jsonl >out.jsonl
	[ "$(jq -r .character.name out.jsonl | tr '\n' ' ')" = "Ada Lovelace Mary Anning " ]
	speakers() { request "$1" | jq -c '.body.response_format.json_schema.schema.properties.turns.items.properties.speaker.enum'; }
	[ "$(speakers 'drawing room')" = '["Ada Lovelace","Ada","User"]' ]
	[ "$(speakers 'beach at Lyme')" = '["Mary Anning","User"]' ]
	run scg-turn --character nowhere.yaml in.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"nowhere.yaml"* ]]
}

@test "a persona named only by its axes label speaks as User; a real name or a scene's participant is kept" {
	mock_start
	local seed='"messages":[{"role":"user","content":"is any of this real"}]'
	{
		echo "{\"id\":\"a\",\"persona\":{\"name\":\"grievance/sarcastic\",\"axes\":{\"motivation\":\"grievance\",\"disposition\":\"sarcastic\"}},$seed}"
		echo "{\"id\":\"b\",\"persona\":{\"name\":\"Kim\",\"axes\":{\"motivation\":\"grievance\",\"disposition\":\"sarcastic\"}},$seed}"
		echo "{\"id\":\"c\",\"persona\":{\"name\":\"distrust/blunt\",\"axes\":{\"motivation\":\"distrust\",\"disposition\":\"blunt\"}},\"scene\":{\"participant\":\"Tom\"},$seed}"
		echo "{\"id\":\"d\",\"assistant\":{\"name\":\"User\"},\"persona\":{\"name\":\"distrust/blunt\",\"axes\":{\"motivation\":\"distrust\",\"disposition\":\"blunt\"}},$seed}"
	} >in.jsonl
	run turn --script 2 -j 1 in.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq -c '.body.response_format.json_schema.schema.properties.turns.items.properties.speaker.enum' "$MOCK_LOG" | sort -u | tr '\n' ' ')" = '["Assistant","Kim"] ["Assistant","Tom"] ["Assistant","User"] ["User","Visitor"] ' ]
	[ "$(jq -r '.body.messages[1].content' "$MOCK_LOG" | grep -c -e 'grievance/sarcastic' -e 'distrust/blunt')" -eq 0 ]
	[ "$(echo "$output" | jq -r .persona.name | tr '\n' ' ')" = "grievance/sarcastic Kim distrust/blunt distrust/blunt " ]
}

@test "the prompt carries the profile, the scene, the grounding text and the conversation so far" {
	mock_start
	turn --script 3 "$SCRIPTS/records.jsonl" >/dev/null
	prompt() { request "$1" | jq -r '.body.messages[1].content'; }
	local seed scene guarded kb
	seed=$(prompt 'my parcel says') scene=$(prompt 'telegraph office') guarded=$(prompt 'Mrs. Hale') kb=$(prompt Ava)
	[[ "$seed" == *"- motivation: distrust"* ]]
	[[ "$seed" == *"Dana: my parcel says delivered but it is not here"* ]]
	[[ "$seed" == *"Next to speak: Assistant."* ]]
	[[ "$scene" == *"- setting: the telegraph office"* ]]
	[[ "$scene" == *"of the United States of the 1860s"* ]]
	[[ "$scene" == *"Next to speak: Tom, a young telegraph clerk."* ]]
	[[ "$kb" == *"Items can be returned within 30 days of delivery."* ]]
	[[ "$guarded" == *"outside their time and world"* ]]
	[[ "$scene" != *"outside their time and world"* ]]
}

@test "--templates names the participants of records that have none, and the draw lands in meta" {
	mock_start
	echo '{"id":"k9","source":{"text":"Shipping takes 3 days."}}' >in.jsonl
	run turn --script 2 --templates "$SCRIPTS/templates.yaml" --examples "$SCRIPTS/examples.jsonl" in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .meta.template)" = quick-fix ]
	local req; req=$(head -n 1 "$MOCK_LOG")
	[ "$(echo "$req" | jq -c '.body.response_format.json_schema.schema.properties.turns.items.properties.speaker.enum')" = '["Riley","Sam"]' ]
	[[ "$(echo "$req" | jq -r '.body.messages[0].content')" == *"asks one question, then solves it"* ]]
	[[ "$(echo "$req" | jq -r '.body.messages[0].content')" == *"EXAMPLE-ANSWER"* ]]
}

@test "unusable answers are asked for again with the reason; every record is written or rejected" {
	mock_start
	for i in $(seq 1 40); do
		echo "{\"id\":\"r$i\",\"source\":{\"text\":\"topic $i\"}}"
		echo "{\"id\":\"q$i\",\"messages\":[{\"role\":\"user\",\"content\":\"question $i\"}]}"
	done >in.jsonl
	scg-turn -q --script 2 --rejects rej.jsonl in.jsonl >out.jsonl 2>err.txt || true
	[ $(( $(wc -l <out.jsonl) + $(cat rej.jsonl 2>/dev/null | wc -l) )) -eq 80 ]
	shape out.jsonl 2
	grep -q 'That answer could not be used: every turn is the user' "$MOCK_LOG" ||
		grep -q 'That answer could not be used: no answer of the assistant' "$MOCK_LOG"
	[ "$(jq -r .id out.jsonl | tr '\n' ' ')" = "$(jq -r .id in.jsonl | grep -F -x -f <(jq -r .id out.jsonl) | tr '\n' ' ')" ]
}

@test "a conversation that already has its N exchanges is marked done without a call" {
	mock_start
	echo '{"id":"full","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}' >in.jsonl
	run turn --script 1 in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c .stop)" = '{"reason":"max_turns","by":"limit","turn":1}' ]
	[ "$(echo "$output" | jq .done)" = true ]
	[ "$(mock_requests)" -eq 0 ]
}

@test "the same seed gives the same conversations; a rerun is served from the cache" {
	mock_start
	turn --script 3 "$SCRIPTS/records.jsonl" >first.jsonl
	local n; n=$(mock_requests)
	turn --script 3 "$SCRIPTS/records.jsonl" >second.jsonl
	[ "$(mock_requests)" -eq "$n" ]
	cmp first.jsonl second.jsonl
}

@test "--script takes a positive number and writes both sides: no --side, no endpoint" {
	run scg-turn --script 0
	[ "$status" -eq 2 ]
	run scg-turn --script x
	[ "$status" -eq 2 ]
	run scg-turn --script 2 --side user
	[ "$status" -eq 2 ]
	[[ "$output" == *"--script"* ]]
	run scg-turn --script 2 --endpoint-cmd cat
	[ "$status" -eq 2 ]
}

@test "--print-prompt shows the script prompt and its guard" {
	run scg-turn --print-prompt turn-script
	[ "$status" -eq 0 ]
	[[ "$output" == *"{{script.transcript}}"* ]]
	run scg-turn --print-prompt turn-script-protective
	[ "$status" -eq 0 ]
}
