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
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" -k 1 -o whole
	[ "$(wc -l <whole/paragraphs.jsonl)" -eq 12 ]
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

@test "without --dpo no pairs are made" {
	stand_in_turn
	mock_start
	run character -q -c "$EX/card.yaml" -p "$EX/profile.txt" -k 1 -o out
	[ "$status" -eq 0 ]
	[ -s out/sft.jsonl ]
	[ ! -e out/dpo.jsonl ]
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
}

@test "usage errors exit 2 and say what is missing" {
	run character -p "$EX/profile.txt"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no character card"* ]]
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
