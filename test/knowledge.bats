#!/usr/bin/env bats
# pipelines/knowledge on the shipped examples against scg-mock.

load helper

EX=$BATS_TEST_DIRNAME/../examples

@test "knowledge: every chunk gives -n conversations grounded in it, labelled with what was drawn" {
	mock_start
	run bash -c "knowledge -k '$EX/knowledge' -s '$EX/knowledge/strategy.json' -n 2 -t 3 \
		--inject tone='$EX/dynamic/tones.txt' --templates '$EX/dynamic/templates.yaml' \
		--examples '$EX/dynamic/examples.jsonl' --temperature 0.6..1.0 -o out >conv.jsonl 2>err.txt"
	[ "$status" -eq 0 ]
	local chunks; chunks=$(wc -l <out/chunks.jsonl)
	[ "$chunks" -gt 3 ]
	[ "$(wc -l <conv.jsonl)" -eq $((chunks * 2 - $(wc -l <out/duplicates.jsonl))) ]
	# grounded: each conversation keeps its chunk
	jq -e 'select(.source.text | length == 0)' conv.jsonl && false
	# labelled: the drawn tone, template and temperature are in meta
	jq -e '.meta.injections.tone and .meta.template and .meta.params.temperature' conv.jsonl >/dev/null
	[ "$(jq -r .meta.template conv.jsonl | sort -u | wc -l)" -ge 2 ]
	# whole conversations: user first, roles alternate, done
	jq -e '.done == true and .messages[0].role == "user" and
		([.messages[].role] | . as $r | all(range(1; length); $r[.] != $r[. - 1]))' conv.jsonl >/dev/null
	# the drawn tone reached the request that wrote the conversation
	local tone; tone=$(head -n 1 conv.jsonl | jq -r .meta.injections.tone)
	grep -qF "$tone" "$MOCK_LOG"
}

@test "knowledge writes CSV with a header and a JSON array on request" {
	mock_start
	knowledge -k "$EX/knowledge" -n 1 -t 2 --format csv >out.csv 2>/dev/null
	[ "$(head -n 1 out.csv)" = 'id,topic,file,template,turns,messages' ]
	local rows; rows=$(($(wc -l <out.csv) - 1))
	[ "$rows" -gt 3 ]
	knowledge -k "$EX/knowledge" -n 1 -t 2 --format json >out.json 2>/dev/null
	[ "$(jq length out.json)" -eq "$rows" ]
}

@test "knowledge: a missing folder or a bad format is a usage error" {
	run knowledge -k nowhere
	[ "$status" -eq 2 ]
	run knowledge -k "$EX/knowledge" --format xml
	[ "$status" -eq 2 ]
}
