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
