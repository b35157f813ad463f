#!/usr/bin/env bats
# scg-restyle against scg-mock: conversations rewritten in a target style,
# everything else kept.

load helper

CONVS=$FIXTURES/script/conversations.jsonl
restyle() { scg-restyle -q -j 1 "$@" 2>>stderr.txt; }
# the prompt of the n-th request (restyle runs one request at a time)
prompt() { sed -n "${1}p" "$MOCK_LOG" | jq -r '.body.messages[1].content'; }

@test "ids, profiles and every other field are kept; the originals go to original_messages" {
	mock_start
	restyle "$CONVS" >out.jsonl
	[ "$(jq -r .id out.jsonl | tr '\n' ' ')" = "s0001 s0002 s0003 " ]
	[ "$(jq -c '.persona' out.jsonl)" = "$(jq -c '.persona' "$CONVS")" ]
	[ "$(jq -c '.original_messages' out.jsonl)" = "$(jq -c '.messages' "$CONVS")" ]
	[ "$(jq -c '[.messages[].role]' out.jsonl)" = "$(jq -c '[.messages[].role]' "$CONVS")" ]
	[ "$(jq -c 'keys_unsorted' out.jsonl | head -n 1)" = '["id","persona","messages","done","stop","kind","meta","original_messages"]' ]
	[ "$(jq -c '.zz' out.jsonl | tail -n 1)" = '{"custom":[1,2]}' ]
	[ "$(jq -c '.meta | [.seed, .restyle]' out.jsonl | head -n 1)" = '[7,{"style":"thread","max_chars":280}]' ]
	# by default every message is new, the system prompt too
	jq -e -s '[.[] | [.messages, .original_messages] | transpose[] | select(.[0].content == .[1].content)] | length == 0' out.jsonl >/dev/null
	# --roles user,assistant leaves the system prompt as it was
	restyle --roles user,assistant "$CONVS" >out2.jsonl
	jq -e -s '[.[] | [.messages, .original_messages] | transpose[] | select(.[0].role != "system") | select(.[0].content == .[1].content)] | length == 0' out2.jsonl >/dev/null
	[ "$(jq -r '.messages[0].content' out2.jsonl | sed -n 2p)" = "You are a helpful assistant." ]
}

@test "one call per conversation by default, one per message with --per-message" {
	mock_start
	restyle "$CONVS" >/dev/null
	[ "$(mock_requests)" -eq 3 ]
	# the count of texts asked for is part of the schema
	[ "$(head -n 1 "$MOCK_LOG" | jq -c '.body.response_format.json_schema.schema.properties.messages | [.minItems, .maxItems]')" = '[4,4]' ]
	[[ "$(prompt 1)" == *"Rewrite messages 1, 2, 3 and 4."* ]]
	restyle --per-message "$CONVS" >out.jsonl
	[ "$(mock_requests)" -eq $((3 + 9)) ]
	[[ "$(prompt 5)" == *"Rewrite message 2."* ]]
	[ "$(jq -c '.original_messages' out.jsonl)" = "$(jq -c '.messages' "$CONVS")" ]
}

@test "--roles user rewrites the user's messages only" {
	mock_start
	restyle --roles user "$CONVS" >out.jsonl
	[ "$(jq -c '[.messages[] | select(.role == "assistant")]' out.jsonl)" = "$(jq -c '[.messages[] | select(.role == "assistant")]' "$CONVS")" ]
	[ "$(jq -c '[.messages[] | select(.role == "user")]' out.jsonl)" != "$(jq -c '[.messages[] | select(.role == "user")]' "$CONVS")" ]
	[[ "$(prompt 1)" == *"Rewrite messages 1 and 3."* ]]
}

@test "--max-chars is enforced by asking again; what never fits goes to the rejects, nothing is lost" {
	mock_start
	for i in $(seq 1 12); do jq -c --arg i "$i" '.id += "-" + $i' "$CONVS"; done >in.jsonl
	scg-restyle -q --per-message --max-chars 60 --rejects rej.jsonl in.jsonl >out.jsonl 2>/dev/null || true
	[ -s out.jsonl ]
	[ $(( $(wc -l <out.jsonl) + $(wc -l <rej.jsonl) )) -eq 36 ]
	jq -e '[.messages[] | select(.role != "system") | .content | length] | max <= 60' out.jsonl >/dev/null
	grep -q 'more than 60: shorten it' "$MOCK_LOG"
	[[ "$(prompt 1)" == *"at most 60 characters"* ]]
}

@test "--style takes a description or a file; the style reaches the prompt and the record" {
	mock_start
	restyle --style "like a pirate, arr" "$CONVS" >out.jsonl
	[[ "$(prompt 1)" == *"like a pirate, arr"* ]]
	[ "$(jq -c .meta.restyle out.jsonl | sort -u)" = '{"style":"custom"}' ]
	echo "Formal letters of the 19th century." >style.txt
	restyle --style style.txt --max-chars 500 "$CONVS" >out.jsonl
	[[ "$(prompt 4)" == *"Formal letters of the 19th century."* ]]
	[ "$(jq -c .meta.restyle out.jsonl | sort -u)" = '{"style":"style.txt","max_chars":500}' ]
	[[ "$(prompt 1)" != *"characters"* ]]
}

@test "the thread style is built in and can be printed" {
	run scg-restyle --print-prompt restyle-thread
	[ "$status" -eq 0 ]
	[[ "$output" == *"thread"* ]]
	run scg-restyle --print-prompt restyle
	[[ "$output" == *"{{restyle.transcript}}"* ]]
}

@test "a restyled conversation restyled again keeps its first originals" {
	mock_start
	restyle "$CONVS" | restyle --style "shouting" >out.jsonl
	[ "$(jq -c '.original_messages' out.jsonl)" = "$(jq -c '.messages' "$CONVS")" ]
}

@test "a record without messages is rejected; one with none of the roles passes unchanged" {
	mock_start
	printf '%s\n' '{"id":"a"}' '{"id":"b","messages":[{"role":"system","content":"x"}]}' >in.jsonl
	run scg-restyle -q --roles user,assistant --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[ "$(jq -r .error.reason rej.jsonl)" = "no messages to restyle" ]
	[ "$(echo "$output" | grep -v '^scg-restyle:')" = '{"id":"b","messages":[{"role":"system","content":"x"}]}' ]
	[ "$(mock_requests)" -eq 0 ]
}

@test "the same input gives the same bytes; a rerun is served from the cache" {
	mock_start
	restyle "$CONVS" >first.jsonl
	restyle "$CONVS" >second.jsonl
	[ "$(mock_requests)" -eq 3 ]
	cmp first.jsonl second.jsonl
}

@test "bad options exit 2 with one line and the usage hint" {
	run scg-restyle --roles user,bot
	[ "$status" -eq 2 ]
	[[ "$output" == *"--roles"* ]]
	run scg-restyle --max-chars -3
	[ "$status" -eq 2 ]
	run scg-restyle --style ""
	[ "$status" -eq 2 ]
	run scg-restyle --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
}
