#!/usr/bin/env bats
# scg-personas against scg-mock: personas from a card, from files, on axes.

load helper

EX=$BATS_TEST_DIRNAME/../examples
personas() { scg-personas -q "$@" 2>>stderr.txt; }
# the user message of request N (1-based) in the mock's log
request_text() { sed -n "${1}p" "$MOCK_LOG" | jq -r '.body.messages[-1].content'; }

@test "one record per persona: id, the assistant card, the five persona fields, no messages" {
	mock_start
	run personas -a "$EX/assistant.yaml" -n 3
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .id | tr '\n' ' ')" = "p0001 p0002 p0003 " ]
	local r=${lines[1]}
	[ "$(echo "$r" | jq -c 'keys_unsorted[:4]')" = '["id","assistant","persona","messages"]' ]
	[ "$(echo "$r" | jq -r .assistant.name)" = Spoke ]
	[ "$(echo "$r" | jq -c '.persona | keys_unsorted')" = '["name","description","personality","scenario","summary"]' ]
	[ "$(echo "$r" | jq '[.persona[] | select(length > 0)] | length')" -eq 5 ]
	[ "$(echo "$r" | jq -c .messages)" = '[]' ]
	[ "$(echo "$r" | jq '.meta.usage["mock-1"].prompt_tokens')" -gt 0 ]
}

@test "each request lists the one-line summaries of every earlier persona, --previous ones included" {
	mock_start
	run personas -a "$EX/assistant2.yaml" --previous "$EX/personas.yaml" -n 3 -j 4
	[ "$status" -eq 0 ]
	[ "$(mock_requests)" -eq 3 ]
	# numbering goes on after the four earlier personas
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .id | tr '\n' ' ')" = "p0005 p0006 p0007 " ]
	local s1 s2 req3
	s1=$(echo "${lines[0]}" | jq -r .persona.summary)
	s2=$(echo "${lines[1]}" | jq -r .persona.summary)
	req3=$(request_text 3)
	[[ "$req3" == *"- nurse on night shift with a declined card, stranded"* ]]
	[[ "$req3" == *"- business owner blocked by a daily transfer limit"* ]]
	[[ "$req3" == *"- $s1"* ]]
	[[ "$req3" == *"- $s2"* ]]
	# summaries, not whole cards
	[[ "$req3" != *"$(echo "${lines[0]}" | jq -r .persona.scenario)"* ]]
	[ "$(request_text 1 | grep -c '^- ')" -eq 9 ]   # 4 summaries + 5 field lines
}

@test "--guidance steers the prompt and the answer is asked for with a JSON schema" {
	mock_start
	run personas -a "$EX/assistant.yaml" -n 1 --guidance "people who ride cargo bikes"
	[ "$status" -eq 0 ]
	[[ "$(request_text 1)" == *"people who ride cargo bikes"* ]]
	local fmt; fmt=$(head -n 1 "$MOCK_LOG" | jq -c '.body.response_format.json_schema.schema.properties.personas.items.required')
	[ "$fmt" = '["name","description","personality","scenario","summary"]' ]
}

@test "--per-request K asks for K personas a request" {
	mock_start
	run personas -a "$EX/assistant.yaml" -n 5 --per-request 2
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	[ "$(mock_requests)" -eq 3 ]
	[ "$(jq -c '.body.response_format.json_schema.schema.properties.personas.maxItems' "$MOCK_LOG" | tr '\n' ' ')" = "2 2 1 " ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .id | tr '\n' ' ')" = "p0001 p0002 p0003 p0004 p0005 " ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .persona.name | sort -u | wc -l)" -eq 5 ]
}

@test "--conversations K writes K records per persona, ids ID.c1 to ID.cK" {
	mock_start
	run personas -a "$EX/assistant.yaml" -n 2 --conversations 3
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .id | tr '\n' ' ')" = "p0001.c1 p0001.c2 p0001.c3 p0002.c1 p0002.c2 p0002.c3 " ]
	[ "$(printf '%s\n' "${lines[@]:0:3}" | jq -c .persona | sort -u | wc -l)" -eq 1 ]
	[ "$(mock_requests)" -eq 2 ]
}

@test "a near-duplicate description is asked for again" {
	mock_start
	# a prompt that does not list earlier personas: the first answer is the
	# same whatever --previous holds
	printf 'Write {{count}} person for {{assistant.name}}.\n' >p.txt
	echo '{"id":"x","persona":{"name":"Old","description":"a b c","summary":"old"}}' >prev.jsonl
	run personas --no-cache -a "$EX/assistant.yaml" -n 1 --prompt personas=p.txt --previous prev.jsonl
	[ "$status" -eq 0 ]
	[ "$(mock_requests)" -eq 1 ]
	local desc; desc=$(echo "$output" | jq -r .persona.description)
	# now an earlier persona says nearly the same (last word changed)
	jq -nc --arg d "${desc% *} changed" '{id:"x",persona:{name:"Old",description:$d,summary:"old"}}' >prev.jsonl
	: >"$MOCK_LOG"
	run personas --no-cache -a "$EX/assistant.yaml" -n 1 --prompt personas=p.txt --previous prev.jsonl
	[ "$status" -eq 0 ]
	[ "$(mock_requests)" -eq 2 ]
	[[ "$(sed -n 2p "$MOCK_LOG" | jq -r '.body.messages[-1].content')" == *"too much like an earlier persona (\"old\""* ]]
	[ "$(echo "$output" | jq -r .persona.description)" != "$desc" ]
	# with --similar 1 only identical ones count: no second request
	: >"$MOCK_LOG"
	run personas --no-cache -a "$EX/assistant.yaml" -n 1 --prompt personas=p.txt --previous prev.jsonl --similar 1
	[ "$(mock_requests)" -eq 1 ]
}

@test "near duplicates are asked for again only up to the bound, then kept with a warning" {
	mock_start
	run personas -a "$EX/assistant.yaml" -n 1 --previous "$EX/personas.yaml" --similar 0
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(mock_requests)" -eq 3 ]
	grep -q "p0005: kept '.*' though it is close to" stderr.txt
}

@test "--ahead 1 (the default) writes what the sequential version wrote, byte for byte, re-asks included" {
	mock_start
	# fixtures written by the build before --ahead (commit 7519f14), --seed 7
	personas --no-cache --seed 7 -a "$EX/assistant.yaml" -n 12 --ahead 1 >out.jsonl
	cmp out.jsonl "$FIXTURES/personas/sequential.jsonl"
	personas --no-cache --seed 7 -a "$EX/assistant2.yaml" --previous "$EX/personas.yaml" -n 7 --per-request 3 >out.jsonl
	cmp out.jsonl "$FIXTURES/personas/sequential-batch.jsonl"
	# --similar 0: every persona after the first asked for twice more
	personas --no-cache --seed 7 -a "$EX/assistant.yaml" -n 3 --similar 0 >out.jsonl
	cmp out.jsonl "$FIXTURES/personas/sequential-similar.jsonl"
	[ "$(mock_requests)" -eq $((12 + 3 + 1 + 3 + 3)) ]
	[ "$(jq '.open' "$MOCK_LOG" | sort -u)" = 1 ]   # one request at a time
}

@test "--ahead K keeps K requests in flight, each listing the personas taken when it was sent" {
	mock_start --latency 300
	run personas --no-cache -a "$EX/assistant.yaml" -n 8 --ahead 4
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .id | tr '\n' ' ')" = "p0001 p0002 p0003 p0004 p0005 p0006 p0007 p0008 " ]
	# the mock answered 4 at once (a lower bound: 300 ms is long enough)
	[ "$(jq -s 'map(.open) | max' "$MOCK_LOG")" -eq 4 ]
	# 5 lines are the prompt's fields; request 4 + k lists the k personas
	# taken before it was sent
	local n; n=$(for i in $(seq 1 8); do request_text "$i" | grep -c '^- '; done | sort -n | tr '\n' ' ')
	[ "$n" = "5 5 5 5 6 7 8 9 " ]
	[[ "$(request_text 8)" == *"- $(echo "${lines[0]}" | jq -r .persona.summary)"* ]]
}

@test "--ahead K: the same seed and K give the same personas, whatever order the answers come in" {
	mock_start --latency 1..80
	personas --no-cache --seed 3 -a "$EX/assistant.yaml" -n 12 --ahead 4 >a.jsonl
	personas --no-cache --seed 3 -a "$EX/assistant.yaml" -n 12 --ahead 4 >b.jsonl
	personas --no-cache --seed 3 -a "$EX/assistant.yaml" -n 12 --ahead 4 -j 2 >c.jsonl
	[ "$(wc -l <a.jsonl)" -eq 12 ]
	cmp a.jsonl b.jsonl
	cmp a.jsonl c.jsonl
}

@test "--ahead K: a persona too close to one its request did not list is asked for again" {
	# every request gets the same persona
	jq -nc '{match: "Write 1 new person", answer: {personas: [{name: "Ann Lee",
		description: "a retired teacher who rides an old steel touring bike every day",
		personality: "calm", scenario: "a broken spoke", summary: "retired teacher, touring bike"}]}}' >answers.jsonl
	mock_start --answers answers.jsonl --latency 200
	run personas --no-cache -a "$EX/assistant.yaml" -n 2 --ahead 2
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	# both sent at once, the second without the first's summary
	[ "$(head -n 2 "$MOCK_LOG" | jq -s 'map(.open) | max')" -eq 2 ]
	[[ "$(request_text 2)" != *"retired teacher, touring bike"* ]]
	# then p0002, too close to p0001, asked for again twice, then kept
	[ "$(mock_requests)" -eq 4 ]
	[[ "$(request_text 3)" == *'too much like an earlier persona ("retired teacher, touring bike", similarity 1.00)'* ]]
	[ "$(sed -n 4p "$MOCK_LOG" | jq '.body.messages | length')" -eq 6 ]
	grep -q "p0002: kept 'Ann Lee' though it is close to 'Ann Lee' (similarity 1.00)" stderr.txt
}

@test "the original users: file loads unchanged, and --format yaml writes one back" {
	run personas --from "$EX/personas.yaml" -a "$EX/assistant2.yaml"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[ "$(echo "${lines[3]}" | jq -r '.id + " " + .persona.name + " " + .assistant.name')" = "p0004 Dan O'Leary Ledger" ]
	[ "$(echo "${lines[0]}" | jq -r .persona.summary)" = "nurse on night shift with a declined card, stranded" ]
	scg-personas -q --from "$EX/personas.yaml" --format yaml >users.yaml
	[ "$(head -n 1 users.yaml)" = "users:" ]
	scg-personas -q --from users.yaml -a "$EX/assistant2.yaml" >again.jsonl
	[ "$(jq -c .persona again.jsonl)" = "$(printf '%s\n' "${lines[@]}" | jq -c .persona)" ]
}

@test "--format yaml from the model writes a users: file with the five string fields" {
	mock_start
	run personas -a "$EX/assistant.yaml" -n 2 --format yaml
	[ "$status" -eq 0 ]
	echo "$output" >u.yaml
	scg-personas -q --from u.yaml -a "$EX/assistant.yaml" >u.jsonl
	[ "$(wc -l <u.jsonl)" -eq 2 ]
	[ "$(jq -c '.persona | keys_unsorted' u.jsonl | sort -u)" = '["name","description","personality","scenario","summary"]' ]
}

@test "--from JSONL keeps the records' ids and assistants; duplicates of one persona count once" {
	printf '%s\n' '{"id":"a1","assistant":{"name":"A","description":"d"},"persona":{"name":"P","description":"x"}}' \
		'{"id":"a1.c2","assistant":{"name":"A","description":"d"},"persona":{"name":"P","description":"x"}}' \
		'{"id":"b","assistant":{"name":"A","description":"d"},"persona":{"name":"Q","description":"y"}}' >in.jsonl
	run personas --from in.jsonl -k 2 -n 5
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r '.id + ":" + .assistant.name' | tr '\n' ' ')" = "a1.c1:A a1.c2:A b.c1:A b.c2:A " ]
}

@test "a failed request rejects that persona and the next one is still made" {
	printf '400\nok\n' >script
	mock_start --script script
	run personas -a "$EX/assistant.yaml" -n 2 --rejects rej.jsonl
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -r .id)" = p0002 ]
	[ "$(jq -r .id rej.jsonl)" = p0001 ]
	[[ "$(jq -r .error.reason rej.jsonl)" == *"HTTP 400"* ]]
}

@test "--dry-run shows every request and calls nothing" {
	mock_start
	run personas -a "$EX/assistant.yaml" -n 3 --dry-run
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(echo "${lines[2]}" | jq -r .id)" = p0003 ]
	[ "$(mock_requests)" -eq 0 ]
}

@test "usage errors exit 2: no card, input operands, a bad --format, a card without a name" {
	run scg-personas -n 2
	[ "$status" -eq 2 ]
	[[ "$output" == *"-a FILE"* ]]
	run scg-personas -a "$EX/assistant.yaml" some.jsonl
	[ "$status" -eq 2 ]
	run scg-personas -a "$EX/assistant.yaml" --format csv
	[ "$status" -eq 2 ]
	echo 'description: no name' >card.yaml
	run scg-personas -a card.yaml -n 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"card.yaml: an assistant card needs the strings name and description"* ]]
}

# ---- axes ----------------------------------------------------------------

seeds() {
	for i in $(seq 1 "$1"); do echo "{\"id\":\"s$i\",\"messages\":[{\"role\":\"user\",\"content\":\"seed $i\"}]}"; done
}

@test "--axes draws one allowed combination per record, the same for a seed, other for another seed" {
	seeds 40 >in.jsonl
	scg-personas -q --axes "$EX/seed/axes.yaml" in.jsonl >a.jsonl
	scg-personas -q --axes "$EX/seed/axes.yaml" in.jsonl >b.jsonl
	scg-personas -q --axes "$EX/seed/axes.yaml" --seed 7 in.jsonl >c.jsonl
	cmp a.jsonl b.jsonl
	! cmp -s a.jsonl c.jsonl
	[ "$(wc -l <a.jsonl)" -eq 40 ]
	[ "$(jq -r .id a.jsonl | tr '\n' ' ')" = "$(jq -r .id in.jsonl | tr '\n' ' ')" ]
	# only allowed pairs: every drawn pair is one that --cross writes
	echo '{"id":"r"}' | scg-personas -q --axes "$EX/seed/axes.yaml" --cross |
		jq -r '.persona.axes | .motivation + "/" + .disposition' | sort -u >allowed.txt
	[ "$(wc -l <allowed.txt)" -eq 12 ]
	jq -r '.persona.axes | .motivation + "/" + .disposition' a.jsonl c.jsonl | sort -u >drawn.txt
	[ -z "$(comm -23 drawn.txt allowed.txt)" ] || { comm -23 drawn.txt allowed.txt; return 1; }
	[ "$(jq -r .persona.name a.jsonl c.jsonl | sort -u | wc -l)" -gt 5 ]
	local r; r=$(head -n 1 a.jsonl)
	[ "$(echo "$r" | jq -c '.persona | keys_unsorted')" = '["name","axes","description"]' ]
	[ "$(echo "$r" | jq -r '.persona.axes.motivation + "/" + .persona.axes.disposition')" = "$(echo "$r" | jq -r .persona.name)" ]
	[ "$(echo "$r" | jq -c .messages)" = "$(head -n 1 in.jsonl | jq -c .messages)" ]
}

@test "--axes --cross writes exactly the allowed combinations, ids suffixed .x1 and on" {
	echo '{"id":"s1","persona":{"name":"Kim","goal":"a refund"}}' >in.jsonl
	run scg-personas -q --axes "$EX/seed/axes.yaml" --cross in.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 12 ]
	[ "$(echo "${lines[11]}" | jq -r .id)" = s1.x12 ]
	local pairs; pairs=$(printf '%s\n' "${lines[@]}" | jq -r '.persona.axes | .motivation + "/" + .disposition' | tr '\n' ' ')
	[ "$pairs" = "altruism/amiable altruism/anxious altruism/blunt distrust/sarcastic distrust/blunt distrust/anxious curiosity/sarcastic curiosity/amiable curiosity/blunt curiosity/anxious grievance/sarcastic grievance/blunt " ]
	# an existing persona keeps its fields and gains axes (and a description)
	[ "$(echo "${lines[0]}" | jq -r '.persona.name + "|" + .persona.goal')" = "Kim|a refund" ]
	[[ "$(echo "${lines[0]}" | jq -r .persona.description)" == "Writes to help someone else"*"Friendly and patient"* ]]
}

@test "axes from a folder of NAME.txt files; without allowed: every combination" {
	mkdir -p ax/tone
	echo "Speaks softly." >ax/tone/soft.txt
	echo "Shouts." >ax/tone/loud.txt
	printf 'axes:\n  tone: tone\n  age:\n    young: Is twenty.\n    old: Is eighty.\n' >ax/axes.yaml
	echo '{"id":"r"}' >in.jsonl
	run scg-personas -q --axes ax/axes.yaml --cross in.jsonl
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .persona.name | tr '\n' ' ')" = "loud/young loud/old soft/young soft/old " ]
	[ "$(echo "${lines[2]}" | jq -r .persona.description)" = "Speaks softly. Is twenty." ]
}

@test "a bad axes file is an error naming the file and the entry, exit 2" {
	printf 'axes:\n  tone:\n    soft: x\nallowed:\n  - {tone: loud}\n' >bad.yaml
	echo '{"id":"r"}' >in.jsonl
	run scg-personas --axes bad.yaml in.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.yaml: allowed[0]: 'loud' is not a value of axis tone"* ]]
	printf 'axes:\n  tone: nowhere\n' >bad2.yaml
	run scg-personas --axes bad2.yaml in.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad2.yaml: axes.tone: nowhere"* ]]
}
