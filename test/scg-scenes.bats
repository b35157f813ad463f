#!/usr/bin/env bats
# scg-scenes against scg-mock: set-ups per source record, and openings.

load helper

CARD=$BATS_TEST_DIRNAME/../examples/character/card.yaml

scenes() { scg-scenes -q "$@" 2>>stderr.txt; }

paragraphs() { scg-chunk -q --by lines "$FIXTURES/chunk/profile.txt"; }

# items_answered LIST: how many items the mock gave for each logged request
# (the same body gets the same answer).
items_answered() {
	jq -c .body "$MOCK_LOG" | while read -r body; do
		printf '%s' "$body" | curl -s -H 'content-type: application/json' -d @- \
			"$MOCK_URL/v1/chat/completions" | jq ".choices[0].message.content | fromjson | .$1 | length"
	done
}

@test "--kind scene: k scenes per paragraph from one request each, the paragraph kept in source" {
	mock_start
	paragraphs >para.jsonl
	run scenes --kind scene -k 3 --character "$CARD" para.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 12 ]
	[ "$(mock_requests)" -eq 4 ]
	[ "$(echo "$output" | jq -r .id | sed 's/.*#//' | tr '\n' ' ')" = "0.s1 0.s2 0.s3 1.s1 1.s2 1.s3 2.s1 2.s2 2.s3 3.s1 3.s2 3.s3 " ]
	[ "$(echo "$output" | jq -r '.scene.kind' | sort -u)" = scene ]
	[ "$(echo "$output" | jq -c '.scene | keys_unsorted' | sort -u)" = '["kind","location","situation","interaction","participant"]' ]
	[ "$(echo "${lines[4]}" | jq -c .source)" = "$(sed -n 2p para.jsonl | jq -c .source)" ]
	# the one request asks for k items and carries the paragraph
	[ "$(head -n 1 "$MOCK_LOG" | jq '.body.response_format.json_schema.schema.properties.scenes.minItems')" -eq 3 ]
	[ "$(jq -r '.body.messages[-1].content' "$MOCK_LOG" | grep -c "born in London in 1815")" -eq 1 ]
}

@test "more items than asked for are cut to exactly k" {
	mock_start
	paragraphs >para.jsonl
	run scenes --kind scene -k 1 --character "$CARD" para.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[ "$(items_answered scenes | awk '{ s += $1 } END { print s }')" -gt 4 ]
}

@test "--kind adversarial: set-ups with the trap, ids ending .a1, .a2" {
	mock_start
	paragraphs | head -n 2 >para.jsonl
	run scenes --kind adversarial -k 2 --character "$CARD" para.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .id | sed 's/.*#//' | tr '\n' ' ')" = "0.a1 0.a2 1.a1 1.a2 " ]
	[ "$(echo "$output" | jq -r '.scene.kind' | sort -u)" = adversarial ]
	[ "$(echo "$output" | jq -r '.scene.trap | length > 0' | sort -u)" = true ]
	[[ "$(head -n 1 "$MOCK_LOG" | jq -r '.body.messages[0].content')" == *"draw the character into claiming something false"* ]]
}

@test "--kind questions: k questions per paragraph, each a user prompt for scg-dpo" {
	mock_start
	paragraphs >para.jsonl
	run scenes --kind questions -k 2 --character "$CARD" para.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 8 ]
	[ "$(echo "${lines[0]}" | jq -r .id | sed 's/.*#//')" = 0.q1 ]
	[ "$(echo "$output" | jq -r '.scene.kind' | sort -u)" = question ]
	[ "$(echo "$output" | jq -r '.messages | length' | sort -u)" = 1 ]
	[ "$(echo "$output" | jq -r '.messages[0].role' | sort -u)" = user ]
	[ "$(echo "$output" | jq -r '.messages[0].content == .scene.question' | sort -u)" = true ]
	[[ "$(head -n 1 "$MOCK_LOG" | jq -r '.body.messages[-1].content')" == *"Mary Anning could not answer"* ]]
}

@test "the card lands in every record and the prompt; a single alias becomes a list" {
	mock_start
	printf 'name: Ada Lovelace\naliases: Ada\nera: 1815-1852\n' >card.yaml
	paragraphs | head -n 1 >para.jsonl
	run scenes --kind scene -k 2 --character card.yaml para.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c .character | sort -u)" = '{"name":"Ada Lovelace","aliases":["Ada"],"era":"1815-1852"}' ]
	[[ "$(head -n 1 "$MOCK_LOG" | jq -r '.body.messages[-1].content')" == *"Time: 1815-1852"* ]]
}

@test "a card without a name is a configuration error (exit 2)" {
	printf 'aliases: [x]\n' >card.yaml
	run scg-scenes --kind scene --character card.yaml </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"card.yaml: a character card needs a name"* ]]
}

@test "--kind topic keeps every input field in order and needs no character" {
	mock_start
	echo '{"zz":1,"id":"returns/policy.md#0","source":{"file":"returns/policy.md","text":"Returns within 30 days."},"aa":[1]}' >in.jsonl
	run scenes -k 2 in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "${lines[0]}" | jq -c 'keys_unsorted')" = '["zz","id","source","aa","scene","meta"]' ]
	[ "$(echo "${lines[1]}" | jq -c 'keys_unsorted')" = '["zz","id","source","aa","scene"]' ]
	[ "$(echo "${lines[0]}" | jq -r .id)" = "returns/policy.md#0.t1" ]
	[ "$(echo "${lines[1]}" | jq -c '.scene | keys_unsorted')" = '["kind","goal","user","flow"]' ]
	[ "$(echo "${lines[0]}" | jq '.meta.usage["mock-1"].requests')" -eq 1 ]
}

@test "character kinds without a character reject the record, exit 1" {
	mock_start
	paragraphs | head -n 2 >para.jsonl
	run scenes --kind scene --rejects rej.jsonl para.jsonl
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$(wc -l <rej.jsonl)" -eq 2 ]
	[[ "$(jq -r .error.reason rej.jsonl | head -n 1)" == *"--character"* ]]
	[ "$(mock_requests)" -eq 0 ]
}

@test "a record without source.text is rejected, the others go on" {
	mock_start
	printf '%s\n' '{"id":"a","text":"no source"}' '{"id":"b","source":{"text":"Some text."}}' >in.jsonl
	run scenes -k 1 --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -r .id)" = b.t1 ]
	[ "$(jq -r .id rej.jsonl)" = a ]
}

@test "--kind opening: one seed a line becomes a user-first record, no request" {
	printf 'My parcel never came.\n\n  \nCan I return an opened box?\n' >seeds.txt
	run scenes --kind opening seeds.txt
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = '{"id":"s0001","source":{"text":"My parcel never came."},"scene":{"kind":"opening"},"messages":[{"role":"user","content":"My parcel never came."}]}' ]
	[ "$(echo "${lines[1]}" | jq -r .id)" = s0004 ]
}

@test "--kind opening: JSON lines with --field keep their fields and ids; line numbers run on over files" {
	printf '%s\n' '{"id":"t1","post":{"body":"Is this real?"},"platform":"forum","source":{"url":"u"}}' 'plain seed' >a.txt
	printf 'second file\n' >b.txt
	run scenes --kind opening --field post.body a.txt b.txt
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"id":"t1","post":{"body":"Is this real?"},"platform":"forum","source":{"url":"u","text":"Is this real?"},"scene":{"kind":"opening"},"messages":[{"role":"user","content":"Is this real?"}]}' ]
	[ "$(echo "${lines[1]}" | jq -r .id)" = s0002 ]
	[ "$(echo "${lines[2]}" | jq -r .id)" = s0003 ]
}

@test "--kind opening: a JSON line without the field is named; --on-error skip goes on" {
	printf '%s\n' '{"id":"x","other":1}' 'fine' >in.txt
	run scg-scenes -q --kind opening in.txt
	[ "$status" -eq 1 ]
	[[ "$output" == *"in.txt:1: no text at text"* ]]
	run scenes --kind opening --on-error skip --rejects rej.jsonl in.txt
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -r .id)" = s0002 ]
	[ "$(jq -r .error.line rej.jsonl)" = 1 ]
}

@test "--kind opening with --character puts the card in each record" {
	echo 'Hello there.' | scenes --kind opening --character "$CARD" >out.jsonl
	[ "$(jq -r .character.name out.jsonl)" = "Mary Anning" ]
}

@test "a bad --kind or -k is a usage error" {
	run scg-scenes --kind poems </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--kind"* ]]
	run scg-scenes -k 0 </dev/null
	[ "$status" -eq 2 ]
}
