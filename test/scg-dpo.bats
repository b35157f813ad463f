#!/usr/bin/env bats
# scg-dpo against scg-mock: preference pairs in TRL's conversational format.

load helper

dpo() { scg-dpo -q "$@" 2>>stderr.txt; }

CHAR='"character":{"name":"Mary Anning","aliases":["Mary"],"era":"1799-1847"}'

# questions N: N question records as scg-scenes --kind questions writes them.
questions() {
	local i
	for i in $(seq 1 "$1"); do
		echo "{\"id\":\"p#$i.q1\",\"source\":{\"text\":\"She found fossils.\"},$CHAR,\"scene\":{\"kind\":\"question\"},\"messages\":[{\"role\":\"user\",\"content\":\"What is a smartphone, $i?\"}],\"zz\":$i}"
	done
}

# dialogue: a conversation that ends with the character's answer.
dialogue() {
	local last=${1:-Good day to you, sir.}
	echo "{\"id\":\"d1\",$CHAR,\"messages\":[{\"role\":\"user\",\"content\":\"Did you know Darwin well?\"},{\"role\":\"assistant\",\"content\":\"Only by letters.\"},{\"role\":\"user\",\"content\":\"And the railway?\"},{\"role\":\"assistant\",\"content\":\"$last\"}],\"kind\":\"dialogue\"}"
}

@test "in-character: prompt, chosen and rejected in TRL's shape; other fields kept, messages dropped" {
	mock_start
	questions 3 >in.jsonl
	run dpo in.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(echo "${lines[1]}" | jq -c 'keys_unsorted')" = '["id","source","character","scene","prompt","chosen","rejected","zz","meta"]' ]
	[ "$(echo "${lines[1]}" | jq -r .zz)" = 2 ]
	[ "$(echo "$output" | jq -c '[.prompt[].role]' | sort -u)" = '["system","user"]' ]
	[ "$(echo "${lines[2]}" | jq -r '.prompt[1].content')" = "What is a smartphone, 3?" ]
	[ "$(echo "$output" | jq -c '[.chosen[].role, .rejected[].role]' | sort -u)" = '["assistant","assistant"]' ]
	[ "$(echo "$output" | jq -r '(.chosen[0].content | length > 0) and (.rejected[0].content | length > 0) and .chosen != .rejected' | sort -u)" = true ]
	[[ "$(echo "${lines[0]}" | jq -r '.prompt[0].content')" == "You are Mary Anning (1799-1847)."* ]]
	[ "$(mock_requests)" -eq 6 ]
}

@test "the two answers come from two independent requests with different samples" {
	mock_start
	questions 1 >in.jsonl
	run dpo in.jsonl
	[ "$status" -eq 0 ]
	[ "$(mock_requests)" -eq 2 ]
	[ "$(jq -r .body.seed "$MOCK_LOG" | sort -u | wc -l)" -eq 2 ]
	[ "$(jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -c 'knowing only what you could have known')" -eq 1 ]
	[ "$(jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -c 'ignore every limit')" -eq 1 ]
	# neither request sees the other's answer
	[ "$(jq '.body.messages | length' "$MOCK_LOG" | sort -u)" = 2 ]
}

@test "compliant: rejected is the plain answer any assistant would give, chosen stays in character; anachronism is the default's name" {
	mock_start
	questions 2 >in.jsonl
	run dpo --pair compliant in.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(mock_requests)" -eq 4 ]
	[ "$(jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -c 'knowing only what you could have known')" -eq 2 ]
	[ "$(jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -c 'as a present-day AI assistant would')" -eq 2 ]
	! jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -q 'ignore every limit'
	# both answers generated from the same prompt, as in the default style
	[ "$(echo "$output" | jq -c '[.prompt[].role]' | sort -u)" = '["system","user"]' ]
	# anachronism and in-character name the default style
	: >"$MOCK_LOG"
	dpo --pair anachronism in.jsonl >a.jsonl
	dpo --pair in-character in.jsonl >b.jsonl
	dpo in.jsonl >c.jsonl
	cmp a.jsonl b.jsonl
	cmp a.jsonl c.jsonl
	[ "$(jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -c 'ignore every limit')" -eq 2 ]
}

@test "--character FILE stamps the card into records that have none; a record's own card stays" {
	mock_start
	printf 'name: Ada Lovelace\naliases: Ada\nera: 1815-1852\n' >card.yaml
	echo '{"id":"q1","messages":[{"role":"user","content":"What is a laptop?"}]}' >bare.jsonl
	run dpo bare.jsonl
	[ "$status" -eq 1 ]
	grep -q 'missing value {{character.name}}' stderr.txt
	questions 1 >>bare.jsonl
	run dpo --character card.yaml bare.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .character.name | tr '\n' ' ')" = "Ada Lovelace Mary Anning " ]
	[ "$(echo "${lines[0]}" | jq -c .character.aliases)" = '["Ada"]' ]
	[[ "$(echo "${lines[0]}" | jq -r '.prompt[0].content')" == "You are Ada Lovelace (1815-1852)."* ]]
	printf 'era: 1800s\n' >noname.yaml
	run scg-dpo --character noname.yaml bare.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"noname.yaml: a character card needs a name"* ]]
}

@test "from-last: chosen is the last assistant turn, the prompt everything before it" {
	mock_start
	dialogue >in.jsonl
	run dpo --pair from-last in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.chosen[0].content')" = "Good day to you, sir." ]
	[ "$(echo "$output" | jq -c '[.prompt[].role]')" = '["system","user","assistant","user"]' ]
	[ "$(echo "$output" | jq -r .kind)" = dialogue ]
	[ "$(mock_requests)" -eq 1 ]
	[[ "$(jq -r '.body.messages[0].content' "$MOCK_LOG")" == *"out of character"* ]]
}

@test "an answer nearly equal to the chosen one is asked for again with a new sample" {
	mock_start
	dialogue >first.jsonl
	dpo --pair from-last first.jsonl >out1.jsonl
	local x; x=$(jq -r '.rejected[0].content' out1.jsonl)
	# the same words in capitals, without the punctuation: nearly equal
	dialogue "$(echo "$x" | tr 'a-z' 'A-Z' | tr -d '.[]')" >second.jsonl
	run dpo --pair from-last second.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.rejected[0].content')" != "$x" ]
	[ "$(mock_requests)" -eq 2 ]   # the first answer came from the cache
	[ "$(jq -r .body.seed "$MOCK_LOG" | sort -u | wc -l)" -eq 2 ]
}

@test "a pair whose answers stay the same goes to the rejects, never to the output" {
	mock_start
	dialogue >first.jsonl
	dpo --pair from-last first.jsonl >out1.jsonl
	dialogue "$(jq -r '.rejected[0].content' out1.jsonl)" >second.jsonl
	run dpo --pair from-last --tries 1 --rejects rej.jsonl second.jsonl
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$(jq -r .error.reason rej.jsonl)" == *"nearly so"* ]]
}

@test "a failed side sends the whole record to the rejects, never a half pair" {
	printf 'ok\n400\nok\nok\n' >script
	mock_start --script script
	questions 2 >in.jsonl
	run dpo -j 1 --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(echo "$output" | jq -r .id)" = "p#2.q1" ]
	[ "$(jq -r .id rej.jsonl)" = "p#1.q1" ]
	[ "$(jq -c .messages rej.jsonl)" = "$(head -n 1 in.jsonl | jq -c .messages)" ]
	[[ "$(jq -r .error.reason rej.jsonl)" == *"rejected answer failed"* ]]
	[ "$(jq 'has("chosen") or has("rejected")' rej.jsonl)" = false ]
}

@test "an empty answer is asked for again" {
	printf 'invalid\nok\nok\n' >script
	mock_start --script script
	questions 1 >in.jsonl
	run dpo -j 1 in.jsonl
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.chosen[0].content | length > 0')" = true ]
	[ "$(mock_requests)" -eq 3 ]
}

@test "custom pairs: --prompt chosen=FILE --prompt rejected=FILE" {
	mock_start
	echo 'Answer as {{character.name}} would: MY-CHOSEN' >c.txt
	echo 'Answer badly: MY-REJECTED' >r.txt
	questions 1 >in.jsonl
	run dpo --prompt chosen=c.txt --prompt rejected=r.txt in.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq -r '.body.messages[0].content' "$MOCK_LOG" | sort | tr '\n' '|')" = "Answer as Mary Anning would: MY-CHOSEN|Answer badly: MY-REJECTED|" ]
}

@test "a system message is put first only where there is none, and not with --no-system" {
	mock_start
	echo "{\"id\":\"s\",$CHAR,\"messages\":[{\"role\":\"system\",\"content\":\"OWN\"},{\"role\":\"user\",\"content\":\"hi\"}]}" >own.jsonl
	run dpo own.jsonl
	[ "$(echo "$output" | jq -c '[.prompt[].content]')" = '["OWN","hi"]' ]
	questions 1 >in.jsonl
	run dpo --no-system in.jsonl
	[ "$(echo "$output" | jq -c '[.prompt[].role]')" = '["user"]' ]
}

@test "records without a turn to answer are rejected with the reason" {
	mock_start
	questions 1 >q.jsonl
	echo '{"id":"n"}' >none.jsonl
	run dpo --pair from-last --rejects rej.jsonl q.jsonl none.jsonl
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$(jq -r .error.reason rej.jsonl | head -n 1)" == *"does not end with an assistant turn"* ]]
	[[ "$(jq -r .error.reason rej.jsonl | tail -n 1)" == *"no messages"* ]]
	[ "$(mock_requests)" -eq 0 ]
}

@test "--dry-run prints both requests of a pair and sends none" {
	mock_start
	questions 2 >in.jsonl
	run scg-dpo -q --dry-run in.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[ "$(mock_requests)" -eq 0 ]
}

@test "a bad --pair is a usage error" {
	run scg-dpo --pair best </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--pair: expected anachronism, compliant or from-last"* ]]
}
