#!/usr/bin/env bats
# pipelines/knowledge on the shipped examples against scg-mock.

load helper

EX=$BATS_TEST_DIRNAME/../examples

@test "knowledge: every chunk gives -n conversations grounded in it, labelled with what was drawn" {
	mock_start
	run bash -c "knowledge -k '$EX/knowledge' -s '$EX/knowledge/strategy.json' -n 2 -t 3 \
		--inject-dir '$EX/dynamic/inject' --templates '$EX/dynamic/templates.yaml' \
		--examples '$EX/dynamic/examples.jsonl' --temperature 0.6..1.0 -o kb 2>err.txt"
	[ "$status" -eq 0 ]
	local chunks; chunks=$(wc -l <kb.d/chunks.jsonl)
	[ "$chunks" -gt 3 ]
	[ "$(wc -l <kb.jsonl)" -eq $((chunks * 2 - $(wc -l <kb.d/duplicates.jsonl))) ]
	# grounded: each conversation keeps its chunk
	[ "$(jq -s 'map(select(.source.text | length > 0)) | length' kb.jsonl)" -eq "$(wc -l <kb.jsonl)" ]
	# labelled: the drawn tone, template and temperature are in meta; usage too
	jq -e '.meta.injections.tone and .meta.template and .meta.params.temperature and .meta.usage' kb.jsonl >/dev/null
	[ "$(jq -r .meta.template kb.jsonl | sort -u | wc -l)" -ge 2 ]
	# whole conversations: user first, roles alternate, done
	jq -e '.done == true and .messages[0].role == "user" and
		([.messages[].role] | . as $r | all(range(1; length); $r[.] != $r[. - 1]))' kb.jsonl >/dev/null
	# the drawn tone reached the request that wrote the conversation
	local tone; tone=$(head -n 1 kb.jsonl | jq -r .meta.injections.tone)
	grep -qF "$tone" "$MOCK_LOG"
	# quiet stages by default; -v lets each print its tokens and cost
	! grep -q '^scg-turn: mock-1: ' err.txt
	knowledge -v -k "$EX/knowledge" -n 1 -t 2 -o kv 2>errv.txt
	grep -q '^scg-scenes: mock-1: .* prompt + .* completion tokens' errv.txt
	grep -q '^scg-turn: mock-1: .* prompt + .* completion tokens' errv.txt
}

@test "knowledge: the output passes scg-export --check with zero problems; --export writes it for a trainer" {
	mock_start
	run bash -c "knowledge -k '$EX/knowledge' -s '$EX/knowledge/strategy.json' -n 2 -t 3 \
		--inject-dir '$EX/dynamic/inject' --templates '$EX/dynamic/templates.yaml' \
		--examples '$EX/dynamic/examples.jsonl' --temperature 0.6..1.0 -o kb --export trl 2>err.txt"
	[ "$status" -eq 0 ]
	local n; n=$(wc -l <kb.jsonl)
	run scg-export --check -f openai kb.jsonl
	[ "$status" -eq 0 ]
	[ "$output" = "$n records: $n pass, 0 fail" ]
	[ "$(wc -l <kb.trl.jsonl)" -eq "$n" ]
	[ "$(jq -c keys kb.trl.jsonl | sort -u)" = '["messages"]' ]
	knowledge -k "$EX/knowledge" -n 1 -t 2 -o kh --export hf 2>/dev/null
	[ "$(wc -l <kh.hf/data/train.jsonl)" -eq "$(wc -l <kh.jsonl)" ]
	run knowledge -k "$EX/knowledge" --export csv
	[ "$status" -eq 2 ]
}

@test "knowledge: file names with spaces reach the stages whole" {
	mock_start
	mkdir "my files"
	cp -R "$EX/knowledge" "$EX/dynamic" "my files/"
	run bash -c "knowledge -k 'my files/knowledge' -s 'my files/knowledge/strategy.json' -n 1 -t 2 \
		--templates 'my files/dynamic/templates.yaml' --examples 'my files/dynamic/examples.jsonl' \
		--inject 'tone=my files/dynamic/inject/tone.txt' --inject-dir 'my files/dynamic/inject' \
		-o 'my out/kb' 2>err.txt"
	[ "$status" -eq 0 ]
	local chunks; chunks=$(wc -l <"my out/kb.d/chunks.jsonl")
	[ "$chunks" -gt 3 ]
	[ "$(wc -l <"my out/kb.jsonl")" -eq $((chunks - $(wc -l <"my out/kb.d/duplicates.jsonl"))) ]
	[ -s "my out/kb.json" ] && [ -s "my out/kb.csv" ]
	jq -e '.done == true and .meta.template and .meta.injections.tone and .meta.injections.expertise' \
		"my out/kb.jsonl" >/dev/null
	# the hand-written example went into the prompt that wrote the conversations
	grep -qF 'my order came with a bent wheel' "$MOCK_LOG"
}

@test "knowledge writes the same conversations as JSONL, a JSON array and CSV that parses back" {
	mock_start
	knowledge -k "$EX/knowledge" -n 1 -t 2 --inject-dir "$EX/dynamic/inject" -o kb 2>/dev/null
	local rows; rows=$(wc -l <kb.jsonl)
	[ "$rows" -gt 3 ]
	[ "$(jq length kb.json)" -eq "$rows" ]
	[ "$(head -n 1 kb.csv)" = '"id","topic","file","labels","turns","transcript"'$'\r' ]
	python3 - "$rows" <<'PY'
import csv, sys
data = open("kb.csv", newline="").read()
# RFC 4180: every row ends in CRLF; the newlines inside a transcript stay LF
assert data.endswith("\r\n")
rows = list(csv.reader(open("kb.csv", newline="")))
assert len(rows) == int(sys.argv[1]) + 1, len(rows)
assert data.count("\r\n") == len(rows), (data.count("\r\n"), len(rows))
assert all(len(r) == 6 for r in rows), [len(r) for r in rows]
assert all("tone=" in r[3] for r in rows[1:])
assert all(r[5].startswith("User: ") and "\nAssistant: " in r[5] for r in rows[1:])
assert all("\r" not in r[5] for r in rows[1:])
PY
}

@test "knowledge --dry-run prints the cost of each stage and the total, calls nothing and writes nothing" {
	mock_start
	run bash -c "knowledge -k '$EX/knowledge' -n 2 -t 3 --dry-run -o kb 2>&1"
	[ "$status" -eq 0 ]
	[ "$(mock_requests)" -eq 0 ]
	[[ "$output" == *"knowledge: dry run: stage scg-scenes "*" requests, "*'$'* ]]
	[[ "$output" == *"knowledge: dry run: stage scg-turn "*" requests, "*'$'* ]]
	[[ "$output" == *"knowledge: dry run: total "* ]]
	[ ! -e kb.d ] && [ ! -e kb.jsonl ]
	# the old form, after --, is the pipeline's dry run too
	run bash -c "knowledge -k '$EX/knowledge' -n 2 -t 3 -o kb -- --dry-run 2>&1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"knowledge: dry run: total "* ]]
	[ "$(mock_requests)" -eq 0 ]
	[ ! -e kb.d ]
}

@test "knowledge: a missing folder or a bad option is a usage error" {
	run knowledge -k nowhere
	[ "$status" -eq 2 ]
	run knowledge -k "$EX/knowledge" --bogus
	[ "$status" -eq 2 ]
	run knowledge -k "$EX/knowledge" --inject-dir nowhere
	[ "$status" -eq 2 ]
	run knowledge -k "$EX/knowledge" --templates
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "knowledge: option '--templates' needs a value" ]]
}

@test "knowledge --iterations N: N conversations in all, spread evenly over the chunks, the same each run" {
	mock_start
	knowledge -k "$EX/knowledge" --iterations 13 -t 2 -o a 2>/dev/null
	local c; c=$(wc -l <a.d/chunks.jsonl)
	[ "$c" -eq 6 ]
	[ "$(wc -l <a.d/topics.jsonl)" -eq 13 ]
	# chunk i gets floor((i+1)N/C) - floor(iN/C), in chunk order
	[ "$(jq -r '.id | sub("\\.t[0-9]+$"; "")' a.d/topics.jsonl | uniq -c | awk '{print $1}' | tr '\n' ' ')" = "2 2 2 2 2 3 " ]
	[ "$(jq -r '.id | sub("\\.t[0-9]+$"; "")' a.d/topics.jsonl | uniq)" = "$(jq -r .id a.d/chunks.jsonl)" ]
	[ "$(($(wc -l <a.jsonl) + $(wc -l <a.d/duplicates.jsonl)))" -eq 13 ]
	knowledge -k "$EX/knowledge" --iterations 13 -t 2 -o b 2>/dev/null
	cmp a.jsonl b.jsonl
	# fewer than the chunks: one each for an evenly spread few
	knowledge -k "$EX/knowledge" --iterations 3 -t 2 -o c 2>/dev/null
	[ "$(jq -r '.id | sub("#0\\.t1$"; "")' c.d/topics.jsonl | tr '\n' ' ')" = "repairs/warranty.md returns/policy.md shipping/times.md " ]
	run knowledge -k "$EX/knowledge" --iterations 3 -n 2
	[ "$status" -eq 2 ]
	run knowledge -k "$EX/knowledge" --iterations 0
	[ "$status" -eq 2 ]
}

@test "knowledge --output-format: a JSON layout makes OUT.json the array of them; a text layout OUT.txt" {
	mock_start
	printf '{"conversation_id": "{{id}}", "file": "{{source.file}}", "dialogue": "{{messages}}"}\n' >layout.json
	knowledge -k "$EX/knowledge" -n 1 -t 2 --output-format layout.json -o kb 2>/dev/null
	[ "$(jq length kb.json)" -eq "$(wc -l <kb.jsonl)" ]
	[ "$(jq -c '.[] | [.conversation_id, .file, .dialogue]' kb.json)" = "$(jq -c '[.id, .source.file, .messages]' kb.jsonl)" ]
	# the CSV and the records stay as they are
	[ "$(head -n 1 kb.csv)" = $'"id","topic","file","labels","turns","transcript"\r' ]
	printf '== {{id}} ==\n{{transcript}}\n' >layout.txt
	knowledge -k "$EX/knowledge" -n 1 -t 2 --output-format layout.txt -o kt 2>/dev/null
	[ "$(grep -c '^== ' kt.txt)" -eq "$(wc -l <kt.jsonl)" ]
	[ "$(jq -c . kt.json)" = "$(jq -s -c . kt.jsonl)" ]
}
