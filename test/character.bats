#!/usr/bin/env bats
# pipelines/character on the shipped example against scg-mock.

load helper

EX=$BATS_TEST_DIRNAME/../examples/character

# A stand-in for scg-turn --script (a two-turn dialogue per set-up), so the
# pipeline's own plumbing is tested whatever scg-turn can do.
stand_in_turn() {
	mkdir -p bin
	cat >bin/scg-turn <<'EOF'
#!/bin/sh
case " $* " in *" --help "*) echo "      --script N"; exit 0 ;; esac
exec jq -c '. + {messages: [{role: "user", content: ("About " + .scene.situation)},
  {role: "assistant", content: "Indeed."}], done: true,
  kind: (if .scene.kind == "adversarial" then "protective" else "dialogue" end)}'
EOF
	chmod +x bin/scg-turn
	PATH=$PWD/bin:$PATH
}

# alternates FILE: every record's messages start with the user and alternate.
alternates() {
	jq -e -s 'all(.[]; [.messages[] | select(.role != "system") | .role] as $r
		| ($r | length) > 0 and all(range($r | length); $r[.] == (if . % 2 == 0 then "user" else "assistant" end)))' "$1" >/dev/null
}

@test "the profile is cut at --cut-at: no paragraph from Legacy on becomes a scene" {
	stand_in_turn
	mock_start
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" --cut-at Legacy -k 1 -o out
	[ "$status" -eq 0 ]
	[ "$(wc -l <out/paragraphs.jsonl)" -eq 9 ]
	[ "$(jq -r .id out/paragraphs.jsonl | head -n 1)" = "profile.txt#0" ]
	! grep -q statue out/paragraphs.jsonl
	! grep -q statue out/scenes.jsonl
	[ "$(jq -r .source.text out/scenes.jsonl | sort -u | wc -l)" -eq 9 ]
	# Legacy is the default; '' keeps the whole profile
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" -k 1 -o default
	[ "$(wc -l <default/paragraphs.jsonl)" -eq 9 ]
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" --cut-at '' -k 1 -o whole
	[ "$(wc -l <whole/paragraphs.jsonl)" -eq 12 ]
}

@test "-n NAME needs no card or profile: the article up to Legacy, a card from its title and lead" {
	stand_in_turn
	mock_start
	wiki_start
	run character -q -n Socrates -k 1 -o out
	[ "$status" -eq 0 ]
	[ "$(wc -l <out/paragraphs.jsonl)" -eq 6 ]
	[ "$(jq -r .source.file out/paragraphs.jsonl | sort -u)" = Socrates ]
	! grep -q forerunner out/paragraphs.jsonl
	[ "$(jq -c '[.name, .aliases]' out/card.json)" = '["Socrates",[]]' ]
	# the description is the lead: both its paragraphs, no section's
	[[ "$(jq -r .description out/card.json)" == "Socrates (c. 470 – 399 BC) was a philosopher of Athens,"*"he knew nothing." ]]
	[[ "$(jq -r .description out/card.json)" != *Xanthippe* ]]
	[ "$(jq -r .character.name out/sft.jsonl | sort -u)" = Socrates ]
	[ "$(jq -r 'select(.scene.kind == "adversarial") | .id' out/sft.jsonl | wc -l)" -eq 6 ]
	grep -q 'a philosopher of Athens' "$MOCK_LOG"
	# the article is asked once, and a rerun finds it in the cache
	run character -q -n Socrates -k 1 -o again
	[ "$status" -eq 0 ]
	[ "$(wiki_requests)" -eq 1 ]
	cmp out/sft.jsonl again/sft.jsonl
}

@test "-n with a redirect: the card is named after the article, the name asked is an alias" {
	stand_in_turn
	mock_start
	wiki_start
	run character -q -n Sokrates -k 1 -o out
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.name, .aliases]' out/card.json)" = '["Socrates",["Sokrates"]]' ]
	[ "$(jq -r .character.aliases[0] out/scenes.jsonl | sort -u)" = Sokrates ]
}

@test "-n with -c keeps the card; with -p the profile file is read and nothing fetched" {
	stand_in_turn
	mock_start
	wiki_start
	run character -q -n Socrates -c "$EX/card.yaml" -k 1 -o card
	[ "$status" -eq 0 ]
	[ ! -e card/card.json ]
	[ "$(jq -r .character.name card/sft.jsonl | sort -u)" = "Mary Anning" ]
	[ "$(wc -l <card/paragraphs.jsonl)" -eq 6 ]
	run character -q -n "Mary Anning" -p "$EX/profile.txt" -k 1 -o file
	[ "$status" -eq 0 ]
	[ "$(wiki_requests)" -eq 1 ]
	[ "$(wc -l <file/paragraphs.jsonl)" -eq 9 ]
	[ "$(jq -r .name file/card.json)" = "Mary Anning" ]
	[[ "$(jq -r .description file/card.json)" == "Mary Anning was born in May 1799"* ]]
}

@test "-n of a page the wiki does not have stops the pipeline with status 2, naming it" {
	stand_in_turn
	mock_start
	wiki_start
	run character -q -n "Nobody Atall" -o out
	[ "$status" -eq 2 ]
	[[ "$output" == "scg-chunk: Nobody Atall: "*": no such page" ]]
	[ ! -e out/sft.jsonl ]
	[ "$(mock_requests)" -eq 0 ]
}

@test "-n NAME end to end with scg-turn --script against the fake wiki and scg-mock" {
	mock_start
	wiki_start
	run character -q -n Socrates -k 1 --dpo 1 -t 2 -o out
	[ "$status" -eq 0 ]
	[ "$(wc -l <out/sft.jsonl)" -eq 12 ]
	[ ! -s out/rejects.jsonl ]
	alternates out/sft.jsonl
	[ "$(jq -r .character.name out/sft.jsonl | sort -u)" = Socrates ]
	[ "$(jq -r .source.section out/sft.jsonl | sort -u | tr '\n' '/')" = "Life/Philosophy/Trial and death/null/" ]
	[ "$(wc -l <out/dpo.jsonl)" -eq 6 ]
}

@test "sft.jsonl holds a dialogue per scene and a protective one per adversarial set-up; dpo.jsonl N pairs per paragraph" {
	stand_in_turn
	mock_start
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" --cut-at Legacy -k 2 --dpo 1 -o out
	[ "$status" -eq 0 ]
	[ "$(wc -l <out/sft.jsonl)" -eq 36 ]
	[ "$(jq -r 'select(.id | test("\\.s[12]$")) | .kind' out/sft.jsonl | sort | uniq -c | tr -s ' ')" = " 18 dialogue" ]
	[ "$(jq -r 'select(.id | test("\\.a[12]$")) | .kind' out/sft.jsonl | sort | uniq -c | tr -s ' ')" = " 18 protective" ]
	[ "$(jq -r .character.name out/sft.jsonl | sort -u)" = "Mary Anning" ]
	alternates out/sft.jsonl
	[ "$(wc -l <out/dpo.jsonl)" -eq 9 ]
	[ "$(jq -c '[(.prompt | type), (.chosen | length), (.rejected | length), .chosen[0].role, .rejected[0].role, has("messages")]' out/dpo.jsonl | sort -u)" = '["array",1,1,"assistant","assistant",false]' ]
	[ "$(jq -r '.prompt[-1].role' out/dpo.jsonl | sort -u)" = user ]
	[ "$(jq -r '.scene.kind' out/dpo.jsonl | sort -u)" = question ]
	[ ! -s out/rejects.jsonl ]
}

@test "pairs are made by default, 2 a paragraph, the rejected side compliant as in the original; --dpo 0 makes none" {
	stand_in_turn
	mock_start
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" -k 1 -o out
	[ "$status" -eq 0 ]
	[ -s out/sft.jsonl ]
	[ "$(wc -l <out/dpo.jsonl)" -eq $((2 * $(wc -l <out/paragraphs.jsonl))) ]
	# rejected: the plain answer of any assistant, not an anachronism in character
	[ "$(jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -c 'as a present-day AI assistant would')" -ge 18 ]
	! jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -q 'ignore every limit'
	# the in-character anachronism stays a choice
	: >"$MOCK_LOG"
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" -k 1 --dpo 1 --pair anachronism -o anach
	[ "$status" -eq 0 ]
	[ "$(wc -l <anach/dpo.jsonl)" -eq "$(wc -l <anach/paragraphs.jsonl)" ]
	jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -q 'ignore every limit'
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" -k 1 --pair sly -o bad
	[ "$status" -eq 2 ]
	: >"$MOCK_LOG"
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" -k 1 --dpo 0 -o none
	[ "$status" -eq 0 ]
	[ -s none/sft.jsonl ]
	[ ! -e none/dpo.jsonl ]
	[ "$(jq -r '.body.messages[-1].content' "$MOCK_LOG" | grep -c 'could not answer')" -eq 0 ]
}

@test "with scg-turn --script: every SFT record starts with the user and alternates, pairs in TRL shape" {
	mock_start
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" --cut-at Legacy -k 1 --dpo 1 -t 3 -o out
	[ "$status" -le 1 ]
	[ -s out/sft.jsonl ]
	alternates out/sft.jsonl
	[ "$(jq -r 'select(.scene.kind == "scene") | .kind' out/sft.jsonl | sort -u)" = dialogue ]
	[ "$(jq -r 'select(.scene.kind == "adversarial") | .kind' out/sft.jsonl | sort -u)" = protective ]
	[ "$(jq -r .done out/sft.jsonl | sort -u)" = true ]
	[ "$(jq -r .id out/sft.jsonl | sort | uniq -d | wc -l)" -eq 0 ]
	[ "$(wc -l <out/dpo.jsonl)" -eq 9 ]
	[ "$(jq -c '[(.chosen | length), (.rejected | length), .prompt[-1].role]' out/dpo.jsonl | sort -u)" = '[1,1,"user"]' ]
	# a dialogue carries the system message its DPO prompts get, first
	[ "$(jq -r '.messages[0].role' out/sft.jsonl | sort -u)" = system ]
	[ "$(jq -c '.messages[0]' out/sft.jsonl | sort -u)" = "$(jq -c '.prompt[0]' out/dpo.jsonl | sort -u)" ]
	jq -e '.messages[0].content | startswith("You are Mary Anning")' out/sft.jsonl >/dev/null
}

@test "the output passes scg-export --check with zero problems; --export writes both files for a trainer" {
	mock_start
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" --cut-at Legacy -k 1 --dpo 1 -t 3 -o out --export openai
	# the mock's random scripts may leave a set-up without a dialogue (status
	# 1, scg-turn's rejects), but nothing written fails the export
	[ "$status" -le 1 ]
	[ "$(jq -r 'select(.error.program == "scg-export") | .id' out/rejects.jsonl)" = "" ]
	local sft dpo
	sft=$(wc -l <out/sft.jsonl) dpo=$(wc -l <out/dpo.jsonl)
	run scg-export --check -f openai out/sft.jsonl
	[ "$status" -eq 0 ] && [ "$output" = "$sft records: $sft pass, 0 fail" ]
	run scg-export --check -f openai-dpo out/dpo.jsonl
	[ "$status" -eq 0 ] && [ "$output" = "$dpo records: $dpo pass, 0 fail" ]
	[ "$(wc -l <out/sft.openai.jsonl)" -eq "$sft" ] && [ "$(wc -l <out/dpo.openai.jsonl)" -eq "$dpo" ]
	[ "$(jq -c keys out/dpo.openai.jsonl | sort -u)" = '["input","non_preferred_output","preferred_output"]' ]
	[ "$(jq -r '.messages[0].role' out/sft.openai.jsonl | sort -u)" = system ]
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" -k 1 -o bad --export csv
	[ "$status" -eq 2 ]
}

@test "usage errors exit 2 and say what is missing" {
	run character -p "$EX/profile.txt"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no character card (-c card.yaml) or name (-n NAME)"* ]]
	run character -c "$EX/card.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no profile (-p profile.txt) or name (-n NAME)"* ]]
	run character -c "$EX/card.yaml" -p "$EX/profile.txt" -k two
	[ "$status" -eq 2 ]
	run character --colour
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown option '--colour'"* ]]
}

@test "a bad card stops the pipeline with status 2" {
	stand_in_turn
	mock_start
	printf 'era: none\n' >card.yaml
	run character -q -c card.yaml -p "$EX/profile.txt" -o out
	[ "$status" -eq 2 ]
	[[ "$output" == *"needs a name"* ]]
	[ ! -e out/sft.jsonl ]
}
