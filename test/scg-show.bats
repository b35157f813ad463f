#!/usr/bin/env bats
# scg-show on records the pipelines wrote (test/fixtures/stats).

load helper
bats_require_minimum_version 1.5.0

S=$BATS_TEST_DIRNAME/fixtures/stats

# widest FILE: the widest line in columns (escape sequences removed)
widest() { sed 's/\x1b\[[0-9;]*m//g' "$1" | LC_ALL=C.UTF-8 wc -L; }

@test "a conversation: the id, persona and stop reason as a header, then every message wrapped to the width" {
	scg-show -w 60 "$S/simulate.jsonl" >out.txt
	[ "$(grep -c '^── p0' out.txt)" -eq 8 ]
	[ "$(widest out.txt)" -le 60 ]
	local first; first=$(head -n 1 "$S/simulate.jsonl")
	grep -q "^persona: $(jq -r '.persona.name' <<<"$first" | cut -c1-30)" out.txt
	grep -q "^stop: $(jq -r '"\(.stop.reason) by \(.stop.by) at turn \(.stop.turn)"' <<<"$first")" out.txt
	# every word of every message is there, in order
	[ "$(jq -r '.messages[].content' "$S/simulate.jsonl" | tr -s ' \n' '\n\n' | grep -c .)" -eq \
	  "$(grep -v -e '^──' -e '^persona:' -e '^stop:' -e '^ \{6,\}' -e '^user$' -e '^assistant$' out.txt | tr -s ' \n' '\n\n' | grep -c .)" ]
	[ "$(grep -c '^user$' out.txt)" -eq "$(jq '[.messages[] | select(.role == "user")] | length' "$S/simulate.jsonl" | paste -sd+ | bc)" ]
}

@test "roles are coloured on a terminal or with --color=always, never in a pipe or with NO_COLOR" {
	scg-show "$S/simulate.jsonl" >plain.txt
	! grep -q $'\x1b' plain.txt
	scg-show --color=always "$S/simulate.jsonl" | grep -q $'^\x1b\[1;36muser\x1b\[0m$'
	scg-show --color=always "$S/simulate.jsonl" | grep -q $'^\x1b\[1;32massistant\x1b\[0m$'
	# under a terminal (script(1) gives one), auto colours and takes its width
	TERM=xterm COLUMNS=50 script -qec "stty cols 50; scg-show '$S/simulate.jsonl'" /dev/null >tty.txt
	grep -q $'\x1b\[1;36muser' tty.txt
	[ "$(tr -d '\r' <tty.txt >tty2.txt; widest tty2.txt)" -le 50 ]
	NO_COLOR=1 TERM=xterm script -qec "scg-show '$S/simulate.jsonl'" /dev/null | { ! grep -q $'\x1b\[1;36m'; }
}

@test "restyled records show the original beside the restyled text" {
	scg-show -w 100 "$S/seed-messages.jsonl" >out.txt
	[ "$(widest out.txt)" -le 100 ]
	[ "$(grep -c '^original  *│ restyled$' out.txt)" -eq 4 ]
	# the first words of the original (left) and of the restyled message (right) share a line
	local o r
	o=$(head -n 1 "$S/seed-messages.jsonl" | jq -r '.original_messages[0].content' | cut -d' ' -f1-3)
	r=$(head -n 1 "$S/seed-messages.jsonl" | jq -r '.messages[0].content' | cut -d' ' -f1-3)
	grep -qF -- "  $o" out.txt
	grep -F -- "  $o" out.txt | grep -qF "│   $r"
	grep -q '^persona: distrust/blunt (motivation: distrust; disposition: blunt)' out.txt
}

@test "DPO pairs show the prompt, then chosen beside rejected" {
	scg-show -w 90 "$S/dpo.jsonl" >out.txt
	[ "$(grep -c '^chosen  *│ rejected$' out.txt)" -eq 3 ]
	local c r
	c=$(head -n 1 "$S/dpo.jsonl" | jq -r '.chosen[0].content' | cut -d' ' -f1-2)
	r=$(head -n 1 "$S/dpo.jsonl" | jq -r '.rejected[0].content' | cut -d' ' -f1-2)
	grep -F -- "  $c" out.txt | grep -qF "│   $r"
	grep -q '^system$' out.txt
	grep -q "^  $(head -n 1 "$S/dpo.jsonl" | jq -r '.prompt[1].content')$" out.txt
}

@test "scenes and character dialogues show the scene and the source chunk" {
	scg-show -w 80 "$S/character.jsonl" >out.txt
	grep -q '^character: Mary Anning$' out.txt
	grep -q '^kind: protective$' out.txt
	grep -q '^scene: kind: scene; location: ' out.txt
	grep -q '^source: profile.txt #0: Mary Anning was born in May 1799' out.txt
	# a scene record without messages
	jq -c 'del(.messages, .done, .stop, .kind)' "$S/character.jsonl" | head -n 1 | scg-show -w 80 >scene.txt
	grep -q '^scene: kind: scene' scene.txt
	! grep -q '^user$' scene.txt
}

@test "wide characters count two columns; long words are cut; the text's own line breaks stay" {
	printf '{"id":"w","messages":[{"role":"user","content":"%s"},{"role":"assistant","content":"%s\\nsecond line"}]}\n' \
		"漢字の文章はとても長くて折り返しが必要になりますよ本当に" "$(printf 'x%.0s' $(seq 1 70))" >in.jsonl
	scg-show -w 24 in.jsonl >out.txt
	[ "$(widest out.txt)" -le 24 ]
	# 22 columns a line: 11 wide characters
	grep -q '^  漢字の文章はとても長く$' out.txt
	grep -q '^  xxxxxxxxxxxxxxxxxxxxxx$' out.txt
	grep -q '^  second line$' out.txt
}

@test "--id picks records; a bad line names the file and line; bad options exit 2" {
	scg-show --id p0002.c1 --id p0004.c2 "$S/simulate.jsonl" >out.txt
	[ "$(grep "^── " out.txt | cut -d" " -f2 | sort | tr "\n" " ")" = "p0002.c1 p0004.c2 " ]
	{ head -n 1 "$S/simulate.jsonl"; echo '[1]'; } >in.jsonl
	run scg-show in.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"scg-show: in.jsonl:2: not a JSON object"* ]]
	run scg-show --color sometimes
	[ "$status" -eq 2 ]
	run scg-show -w 5
	[ "$status" -eq 2 ]
	run bash -c "scg-show '$S/simulate.jsonl' | head -n 1"
	[ "$status" -eq 0 ]
}

@test "--template lays each record out: a JSON layout gives one JSON line a record, a text layout its text" {
	cd "$BATS_TEST_TMPDIR"
	cat >layout.json <<'JSON'
{"conversation_id": "{{id}}", "persona": {"name": "{{persona.name}}"},
 "messages": "{{messages}}", "temperature": "{{meta.params.temperature?}}",
 "text": "{{persona.name}} said:\n{{transcript}}", "fixed": [1, true]}
JSON
	scg-show --template layout.json "$S/simulate.jsonl" >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq "$(wc -l <"$S/simulate.jsonl")" ]
	# a lone tag is the value itself, other strings are text; the rest stays
	[ "$(jq -c '[.id, .messages]' "$S/simulate.jsonl")" = "$(jq -c '[.conversation_id, .messages]' out.jsonl)" ]
	jq -e '.persona.name as $n | .temperature == null and .fixed == [1, true] and (.text | startswith($n + " said:\nUser: "))' out.jsonl >/dev/null
	# text inserted is never expanded again
	echo '{"id":"x{{id}}","messages":[{"role":"user","content":"{{id}}"}]}' >t.jsonl
	printf 'ID {{id}}: {{transcript}}\n' >layout.txt
	[ "$(scg-show --template layout.txt t.jsonl)" = "ID x{{id}}: User: {{id}}" ]
	# a value missing sends the record to the rejects, the others come out
	run --separate-stderr scg-show --template layout.json t.jsonl "$S/simulate.jsonl"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"record x{{id}}: --template: missing value {{persona.name}}"* ]]
	[ "${#lines[@]}" -eq "$(wc -l <"$S/simulate.jsonl")" ]
	printf '{"a": [1,\n' >bad.json
	run scg-show --template bad.json t.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.json:"* ]]
}
