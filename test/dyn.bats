#!/usr/bin/env bats
# Dynamic prompting (DESIGN §5): injections, templates, examples and
# sampled parameters, drawn per record from the seed and recorded in meta.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	for i in $(seq 1 30); do echo "{\"id\":\"r$i\",\"messages\":[]}"; done >in.jsonl
	printf 'curt\nwarm\nconfused\nformal\n' >tones.txt
	printf 'You are a user. Tone: {{inject.tone}}. {{#template}}Plan: {{template.text}}{{/template}}\n{{examples?}}\n' >user.txt
}

@test "--inject draws {{inject.NAME}} per record into the prompt and meta.injections" {
	mock_start
	scg-turn -q --side user --inject tone=tones.txt --prompt turn-user=user.txt in.jsonl >out.jsonl
	[ "$(jq -r '.meta.injections.tone' out.jsonl | sort -u | wc -l)" -ge 3 ]
	# the value in meta is the one the prompt carried
	local id tone
	for id in r1 r2 r3; do
		tone=$(jq -r "select(.id == \"$id\") | .meta.injections.tone" out.jsonl)
		jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -q "Tone: $tone"
	done
}

@test "draws are fixed by the seed and the record id, and change with the seed" {
	mock_start
	scg-turn -q --side user --seed 5 --inject tone=tones.txt --temperature 0.2..0.9 --prompt turn-user=user.txt in.jsonl >a.jsonl
	scg-turn -q --side user --seed 5 --inject tone=tones.txt --temperature 0.2..0.9 --prompt turn-user=user.txt in.jsonl >b.jsonl
	scg-turn -q --side user --seed 6 --inject tone=tones.txt --temperature 0.2..0.9 --prompt turn-user=user.txt in.jsonl >c.jsonl
	cmp a.jsonl b.jsonl
	[ "$(jq -c '.meta.injections' a.jsonl)" != "$(jq -c '.meta.injections' c.jsonl)" ]
	[ "$(jq -c '.meta.params' a.jsonl)" != "$(jq -c '.meta.params' c.jsonl)" ]
	# the sampled temperature is the one sent
	jq -e '.meta.params.temperature >= 0.2 and .meta.params.temperature <= 0.9' a.jsonl >/dev/null
	[ "$(jq -s 'map(.body.temperature) | unique | length' "$MOCK_LOG")" -gt 10 ]
}

@test "--top-p and --top-k ranges are drawn per record, sent and recorded" {
	mock_start
	scg-turn -q --side user --provider anthropic --inject tone=tones.txt --top-p 0.5..0.9 --top-k 10..40 --prompt turn-user=user.txt in.jsonl >out.jsonl
	jq -e '.meta.params.top_p >= 0.5 and .meta.params.top_p <= 0.9' out.jsonl >/dev/null
	jq -e '.meta.params.top_k >= 10 and .meta.params.top_k <= 40 and (.meta.params.top_k | floor) == .meta.params.top_k' out.jsonl >/dev/null
	[ "$(jq -r .meta.params.top_k out.jsonl | sort -u | wc -l)" -gt 10 ]
	# what each record carries is what was sent for it (one request a record)
	[ "$(jq -c '[.meta.params.top_p, .meta.params.top_k]' out.jsonl | sort)" = \
	  "$(jq -c '[.body.top_p, .body.top_k]' "$MOCK_LOG" | sort)" ]
	run scg-turn --top-k 2.5
	[ "$status" -eq 2 ]
	[[ "$output" == *"--top-k"* ]]
}

@test "a later stage adds its draws to meta: earlier injections and params stay" {
	mock_start
	printf 'novice\nexpert\n' >levels.txt
	scg-turn -q --side user --inject tone=tones.txt --top-p 0.1..0.5 --prompt turn-user=user.txt in.jsonl |
		jq -c '.messages += [{"role":"assistant","content":"Anything else?"}]' |
		scg-judge -q --inject level=levels.txt --temperature 0.1..0.9 >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 30 ]
	jq -e '.meta.injections.tone and .meta.injections.level' out.jsonl >/dev/null
	jq -e '.meta.params.top_p >= 0.1 and .meta.params.top_p <= 0.5' out.jsonl >/dev/null
	# the judge records the temperature it drew, and sent it
	jq -e '.meta.params.temperature >= 0.1 and .meta.params.temperature <= 0.9' out.jsonl >/dev/null
	# (the stages run together: the judge's requests are those with its schema;
	# a re-asked verdict is sent again)
	[ "$(jq -r .meta.params.temperature out.jsonl | sort -u)" = \
	  "$(jq -r 'select(.body.response_format) | .body.temperature' "$MOCK_LOG" | sort -u)" ]
}

@test "a folder of value files serves as one injection list" {
	mkdir tones
	printf 'curt\nwarm\n' >tones/a.txt
	printf 'formal\n' >tones/b.txt
	mock_start
	scg-turn -q --side user --inject tone=tones --prompt turn-user=user.txt in.jsonl >out.jsonl
	[ "$(jq -r '.meta.injections.tone' out.jsonl | sort -u | tr '\n' ' ')" = "curt formal warm " ]
}

@test "--templates draws one template per record and records its name" {
	cat >templates.yaml <<'YAML'
- name: complaint
  text: start angry, calm down once helped
- name: quick
  text: one question, one thank-you
- plain text template
YAML
	mock_start
	scg-turn -q --side user --inject tone=tones.txt --templates templates.yaml --prompt turn-user=user.txt in.jsonl >out.jsonl
	[ "$(jq -r .meta.template out.jsonl | sort -u | tr '\n' ' ')" = "complaint quick t3 " ]
	jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -q "Plan: start angry"
	jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -q "Plan: plain text template"
}

@test "--examples puts hand-written conversations into the prompt" {
	printf '%s\n' '{"messages":[{"role":"user","content":"my tyre is flat"},{"role":"assistant","content":"bring it in"}]}' >ex.jsonl
	mock_start
	scg-turn -q --side user --inject tone=tones.txt --examples ex.jsonl --prompt turn-user=user.txt in.jsonl >/dev/null
	jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -q "User: my tyre is flat"
	jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -q "Assistant: bring it in"
}

@test "a missing template value is an error naming it; inserted text is never expanded again" {
	mock_start
	printf 'Goal: {{persona.goal}}\n' >goal.txt
	run bash -c 'scg-turn -q --side user --prompt turn-user=goal.txt in.jsonl 2>&1 >/dev/null'
	[ "$status" -eq 1 ]
	[[ "$output" == *"missing value {{persona.goal}}"* ]]
	echo '{"id":"x","persona":{"goal":"say {{persona.secret}} now","secret":"LEAK"},"messages":[]}' >one.jsonl
	scg-turn -q --side user --prompt turn-user=goal.txt one.jsonl >/dev/null
	[ "$(jq -r '.body.messages[0].content' "$MOCK_LOG" | tail -n 1)" = "Goal: say {{persona.secret}} now" ]
}

@test "bad dynamic-prompting files exit 2 naming the file" {
	run scg-turn --inject tone=nope.txt </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"nope.txt"* ]]
	: >empty.txt
	run scg-turn --inject tone=empty.txt </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"no values"* ]]
	printf 'a: [1,\n' >bad.yaml
	run scg-turn --templates bad.yaml </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.yaml:"* ]]
	run scg-turn --prompt nosuch=user.txt </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"no prompt named 'nosuch'"* ]]
}

@test "an option the prompt in use never mentions is one warning per prompt, not a silent no-op" {
	mock_start
	printf 'novice\nexpert\n' >levels.txt
	jq -c '.messages = [{"role":"user","content":"hi"},{"role":"assistant","content":"Hello!"}]' in.jsonl |
		scg-judge -q --inject level=levels.txt >/dev/null 2>err.txt
	[ "$(grep -c 'scg-judge: --inject: the prompt judge does not use it' err.txt)" -eq 1 ]
	# a prompt that uses the injections says nothing
	scg-turn -q --side user --inject tone=tones.txt --prompt turn-user=user.txt in.jsonl >/dev/null 2>err2.txt
	! grep -q 'does not use it' err2.txt
}

@test "plain-text templates and examples load: one a block, named t1, t2..." {
	printf 'The user asks one question and thanks the assistant.\n\nThe user complains first:\nloudly, then calms down.\n\n\n' >templates.txt
	printf 'User: my tyre is flat\nAssistant: bring it in\n\nUser: thanks\n---\nUser: where are you?\nAssistant: on Main Street\n' >examples.txt
	mock_start
	scg-turn -q --side user --inject tone=tones.txt --templates templates.txt --examples examples.txt \
		--prompt turn-user=user.txt in.jsonl >out.jsonl
	[ "$(jq -r .meta.template out.jsonl | sort -u | tr '\n' ' ')" = "t1 t2 " ]
	jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -q "Plan: The user complains first:"
	# the dashes separate examples, so the blank line stays inside the first
	local p; p=$(jq -r '.body.messages[0].content' "$MOCK_LOG" | head -n 12)
	[[ "$p" == *$'Example 1:\nUser: my tyre is flat\nAssistant: bring it in\n\nUser: thanks\n\nExample 2:\nUser: where are you?'* ]]
	# without an extension, text that is no list of templates is plain text
	printf 'Speaker: one template\n\nSpeaker: another\n' >templates
	scg-turn -q --side user --inject tone=tones.txt --templates templates --prompt turn-user=user.txt in.jsonl >out2.jsonl
	[ "$(jq -r .meta.template out2.jsonl | sort -u | tr '\n' ' ')" = "t1 t2 " ]
	# a .yaml file is still read as YAML, its errors reported
	printf 'one\n\ntwo: [\n' >bad.yaml
	run scg-turn --templates bad.yaml </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.yaml:"* ]]
}

@test "--params draws the generation-parameters file's ranges per record; an option given wins" {
	cat >gen.json <<'JSON'
{"temperature": {"min": 0.5, "max": 1.0, "step": 0.1}, "top_p": [0.8, 0.95],
 "top_k": [10, 20, 40], "max_tokens": "200..400", "frequency_penalty": [0, 1]}
JSON
	mock_start
	scg-turn -q --side user --provider ollama --base-url "$MOCK_URL" --params gen.json --prompt turn-user=user.txt \
		--inject tone=tones.txt in.jsonl >out.jsonl 2>err.txt
	grep -q "gen.json: 'frequency_penalty' is not used" err.txt
	jq -e '.meta.params | (.temperature * 10 | . == round) and .temperature >= 0.5 and .temperature <= 1
		and .top_p >= 0.8 and .top_p <= 0.95 and (.top_k | IN(10, 20, 40))
		and .max_tokens >= 200 and .max_tokens <= 400' out.jsonl >/dev/null
	[ "$(jq -r .meta.params.top_k out.jsonl | sort -u | wc -l)" -eq 3 ]
	# what each record carries is what was sent for it
	[ "$(jq -c '.meta.params | [.temperature, .top_p, .top_k, .max_tokens]' out.jsonl | sort)" = \
	  "$(jq -c '.body.options | [.temperature, .top_p, .top_k, .num_predict]' "$MOCK_LOG" | sort)" ]
	# a value given as an option wins over the file's, the others stay drawn
	scg-turn -q --side user --provider ollama --base-url "$MOCK_URL" --params gen.json --temperature 0.3 --prompt turn-user=user.txt \
		--inject tone=tones.txt in.jsonl >fixed.jsonl 2>/dev/null
	[ "$(jq -r '.body.options.temperature' "$MOCK_LOG" | tail -n 30 | sort -u)" = 0.3 ]
	[ "$(jq -c '.meta.params | del(.temperature)' fixed.jsonl)" = "$(jq -c '.meta.params | del(.temperature)' out.jsonl)" ]
	# YAML too; a bad value names the file and the key
	printf 'temperature: 3\n' >bad.yaml
	run scg-turn --params bad.yaml </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--params: bad.yaml: temperature:"* ]]
}

@test "--extra-body adds fields to each request; top_k reaches an OpenAI-compatible server only with it, never api.openai.com" {
	mock_start
	scg-turn -q --side user --top-k 5..9 --prompt turn-user=user.txt --inject tone=tones.txt in.jsonl >/dev/null
	[ "$(jq -s 'map(select(.body.top_k)) | length' "$MOCK_LOG")" -eq 0 ]
	: >"$MOCK_LOG"
	scg-turn -q --side user --top-k 5..9 --extra-body '{"min_p":0.05,"model":"not-this"}' \
		--prompt turn-user=user.txt --inject tone=tones.txt in.jsonl >out.jsonl
	jq -e '.body.top_k >= 5 and .body.top_k <= 9 and .body.min_p == 0.05 and .body.model == "mock-1"' "$MOCK_LOG" >/dev/null
	[ "$(jq -c .meta.params.top_k out.jsonl | sort)" = "$(jq -c .body.top_k "$MOCK_LOG" | sort)" ]
	# api.openai.com: the extra fields go, top_k does not
	run bash -c "scg-turn -q --dry-run --side user --top-k 5..9 --base-url https://api.openai.com/v1 \
		--extra-body '{\"service_tier\":\"flex\"}' in.jsonl | jq -s 'map(select(.body.top_k)) | length'"
	[ "$output" = 0 ]
	scg-turn -q --dry-run --side user --base-url https://api.openai.com/v1 --extra-body '{"service_tier":"flex"}' in.jsonl |
		jq -e '.body.service_tier == "flex"' >/dev/null
	run scg-turn --dry-run --base-url https://api.openai.com/v1 --extra-body '{"top_k":4}' in.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"api.openai.com has no top_k"* ]]
	printf 'top_k: 40\nrepetition_penalty: 1.1\n' >extra.yaml
	scg-turn -q --dry-run --side user --base-url http://127.0.0.1:9/v1 --extra-body @extra.yaml in.jsonl |
		jq -e '.body.top_k == 40 and .body.repetition_penalty == 1.1' >/dev/null
	run scg-turn --extra-body '[1]' in.jsonl
	[ "$status" -eq 2 ]
}
