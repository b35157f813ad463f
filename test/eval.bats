#!/usr/bin/env bats
# What a simulation says about the assistant: scg-judge --evaluate gives
# every finished conversation an outcome, evidence, failures and criteria
# scores, and scg-stats turns them into a gate for CI. scg-mock plays the
# judge: its generated answers fit the schema, and --answers fixes verdicts.

load helper

EX=$BATS_TEST_DIRNAME/../examples
evaluate() { scg-judge -q --evaluate "$@" 2>>stderr.txt; }

# conv ID TURNS [done-fields]: a conversation of TURNS exchanges
conv() {
	local m='[{"role":"system","content":"You help riders."}]' t
	for t in $(seq 1 "$2"); do
		m=$(jq -c --arg u "question $1.$t" --arg a "answer $1.$t" \
			'. + [{role:"user",content:$u},{role:"assistant",content:$a}]' <<<"$m")
	done
	jq -nc --arg id "$1" --argjson m "$m" --argjson extra "${3:-{\}}" \
		'{id:$id,assistant:{name:"Spoke",description:"a bike shop helper"},
		  persona:{name:"Ola",description:"a cyclist",scenario:"a flat tyre"},messages:$m,zz:1} + $extra'
}

# finished: three conversations over in three ways, one still going
finished() {
	conv j1 2 '{"done":true,"stop":{"reason":"goal_achieved","by":"judge","turn":2,"rationale":"thanks"}}'
	conv l1 3 '{"done":true,"stop":{"reason":"max_turns","by":"limit","turn":3,"rationale":"reached the limit of 3 user turns"}}'
	conv f1 1 '{"done":true,"stop":{"reason":"frustrated","by":"judge","turn":1,"rationale":"gave up"}}'
	conv g1 1 '{"done":false}'
}

FAILURES='["made_up","ignored_request","asked_again","policy","loop","tone","gave_up"]'

@test "every conversation that is over gets an outcome, evidence and failures, the turn limit's too; one still going passes unchanged" {
	mock_start
	finished >in.jsonl
	run evaluate in.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	printf '%s\n' "${lines[@]}" >out.jsonl
	[ "$(jq -r 'select(.eval) | .id' out.jsonl | tr '\n' ' ')" = "j1 l1 f1 " ]
	# the one still going is byte for byte what came in
	[ "${lines[3]}" = "$(sed -n 4p in.jsonl)" ]
	jq -e --argjson f "$FAILURES" -s 'map(select(.eval)) | all(
		(.eval | keys_unsorted) == ["outcome","evidence","failures","criteria"] and
		(.eval.outcome | IN("met","partly","not met")) and
		(.eval.evidence.turn | type == "number" and . >= 1) and
		.eval.evidence.turn <= .stop.turn and (.eval.evidence.text | length > 0) and
		(.eval.failures | (. - $f) == [] and length == (unique | length)) and
		.eval.criteria == {})' out.jsonl
	# the fields it does not own are kept, in order; eval comes after them,
	# then meta with the judge's usage
	[ "$(jq -c 'select(.id == "l1") | keys_unsorted' out.jsonl)" = '["id","assistant","persona","messages","zz","done","stop","eval","meta"]' ]
	[ "$(jq -c 'select(.id == "l1") | del(.eval, .meta)' out.jsonl)" = "$(jq -c 'select(.id == "l1")' in.jsonl)" ]
	[ "$(jq -r 'select(.id == "l1") | .meta.usage["mock-1"].stages["scg-judge"].requests' out.jsonl)" = 1 ]
	[ "$(mock_requests)" -eq 3 ]
}

@test "the judge is asked once per conversation, at temperature 0, with the schema and the whole transcript in numbered turns" {
	mock_start
	conv l1 3 '{"done":true,"stop":{"reason":"max_turns","by":"limit","turn":3,"rationale":"reached the limit"}}' >in.jsonl
	run evaluate --criteria builtin:completeness in.jsonl
	[ "$status" -eq 0 ]
	[ "$(mock_requests)" -eq 1 ]
	local req; req=$(head -n 1 "$MOCK_LOG")
	[ "$(jq .body.temperature <<<"$req")" = 0 ]
	[ "$(jq -r .body.response_format.json_schema.name <<<"$req")" = evaluation ]
	local s; s=$(jq -c .body.response_format.json_schema.schema <<<"$req")
	[ "$(jq -c .required <<<"$s")" = '["outcome","evidence","failures","criteria"]' ]
	[ "$(jq -c .properties.outcome.enum <<<"$s")" = '["met","partly","not met"]' ]
	[ "$(jq -c .properties.failures.items.enum <<<"$s")" = "$FAILURES" ]
	# the evidence names a turn the conversation has; the score keeps to its scale
	[ "$(jq -c '.properties.evidence.properties.turn | [.minimum, .maximum]' <<<"$s")" = '[1,3]' ]
	[ "$(jq -c '.properties.criteria.properties.completeness.properties.score | [.type, .minimum, .maximum]' <<<"$s")" = '["integer",1,5]' ]
	local text; text=$(jq -r '.body.messages[1].content' <<<"$req")
	[[ "$text" == *"Turn 1"$'\n'"User: question l1.1"$'\n\n'"Assistant: answer l1.1"$'\n\n'"Turn 2"* ]]
	[[ "$text" == *"Turn 3"$'\n'"User: question l1.3"$'\n\n'"Assistant: answer l1.3" ]]
	[[ "$text" == *"How it ended: max_turns, at turn 3"* ]]
	[[ "$text" == *"a flat tyre"* ]]
	[[ "$text" != *"You help riders."* ]]
	local sys; sys=$(jq -r '.body.messages[0].content' <<<"$req")
	[[ "$sys" == *"  - gave_up: "* ]]
	[[ "$sys" == *"  - completeness (a whole number from 1 to 5, 5 best): "* ]]
}

@test "a reasoning model as the evaluating judge gets no temperature; --temperature overrides 0" {
	mock_start
	conv j1 1 '{"done":true}' >in.jsonl
	run evaluate --model o3-mini in.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq '.body | has("temperature")' "$MOCK_LOG")" = false ]
	: >"$MOCK_LOG"
	run evaluate --temperature 0.3 in.jsonl
	[ "$(jq .body.temperature "$MOCK_LOG")" = 0.3 ]
}

@test "rubric scores and reasons land in the record: built-in criteria, a file's own scales, pass/fail and weights" {
	mock_start
	cat >crit.yaml <<'EOF'
# the team's own, beside two built-in ones
criteria:
  - role_adherence
  - name: relevance
    weight: 0.5
  - name: empathy
    description: The assistant acknowledges how the user feels.
    scale: [0, 10]
    weight: 2
  - name: hands_over
    description: A question it cannot answer goes to a person.
    scale: pass/fail
EOF
	finished | head -n 3 >in.jsonl
	run evaluate --criteria crit.yaml --criteria builtin:knowledge_retention in.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	printf '%s\n' "${lines[@]}" >out.jsonl
	[ "$(jq -c '.eval.criteria | keys_unsorted' out.jsonl | sort -u)" = \
		'["role_adherence","relevance","empathy","hands_over","knowledge_retention"]' ]
	[ "$(jq -c '[.eval.criteria[] | [.scale, .weight]]' out.jsonl | sort -u)" = '[[[1,5],1],[[1,5],0.5],[[0,10],2],[[0,1],1],[[1,5],1]]' ]
	jq -e -s 'all(.[].eval.criteria[]; (keys_unsorted == ["score","scale","weight","reason"]) and
		.score >= .scale[0] and .score <= .scale[1] and (.reason | length > 0))' out.jsonl
	jq -e -s 'all(.[].eval.criteria.hands_over.score; . == 0 or . == 1)' out.jsonl
	# the judge was told what each criterion means
	grep -q 'acknowledges how the user feels' "$MOCK_LOG"
	grep -q 'remembers what the user said earlier' "$MOCK_LOG"
	# and scg-stats reads them
	[ "$(scg-stats --json out.jsonl | jq -c '.eval.criteria | keys')" = \
		'["empathy","hands_over","knowledge_retention","relevance","role_adherence"]' ]
}

@test "a scripted verdict lands in the record as the judge gave it, with the criterion's scale and weight" {
	cat >answers.jsonl <<'EOF'
{"match": "You evaluate", "answer": {"outcome": "partly", "evidence": {"turn": 2, "text": "It booked Tuesday, not Monday."}, "failures": ["asked_again", "tone", "asked_again"], "criteria": {"empathy": {"reason": "It noticed the hurry.", "score": 7}}}}
EOF
	mock_start --answers answers.jsonl
	printf '[{"name": "empathy", "description": "It acknowledges feelings.", "scale": [0, 10], "weight": 3}]\n' >crit.json
	conv j1 2 '{"done":true}' >in.jsonl
	run evaluate --criteria crit.json in.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq -c .eval <<<"${lines[0]}")" = '{"outcome":"partly","evidence":{"turn":2,"text":"It booked Tuesday, not Monday."},"failures":["asked_again","tone"],"criteria":{"empathy":{"score":7,"scale":[0,10],"weight":3,"reason":"It noticed the hurry."}}}' ]
}

@test "an answer that does not fit the schema is asked for again, then the record goes to the rejects, exit 1" {
	# evidence at turn 5 of a conversation of 2 turns
	cat >answers.jsonl <<'EOF'
{"match": ["You evaluate", "question b1"], "answer": {"outcome": "met", "evidence": {"turn": 5, "text": "x"}, "failures": []}}
EOF
	mock_start --answers answers.jsonl
	{ conv b1 2 '{"done":true}'; conv ok1 2 '{"done":true}'; } >in.jsonl
	run evaluate --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(jq -r .id <<<"${lines[0]}")" = ok1 ]
	[ "$(jq -r .id rej.jsonl)" = b1 ]
	[[ "$(jq -r .error.reason rej.jsonl)" == *"above the maximum"* ]]
	# once, then twice more with the reason
	[ "$(grep -c 'question b1' "$MOCK_LOG")" -eq 3 ]
	[ "$(jq -r 'select(.body.messages[1].content | contains("question b1")) | .body.messages | length' "$MOCK_LOG" | tr '\n' ' ')" = "2 4 6 " ]
}

@test "a rerun is answered from the cache: no request, the same bytes" {
	mock_start
	finished >in.jsonl
	evaluate --criteria builtin in.jsonl >one.jsonl
	local n; n=$(mock_requests)
	[ "$n" -eq 3 ]
	evaluate --criteria builtin in.jsonl >two.jsonl
	[ "$(mock_requests)" -eq "$n" ]
	cmp one.jsonl two.jsonl
	# other criteria are another question
	evaluate --criteria builtin:relevance in.jsonl >three.jsonl
	[ "$(mock_requests)" -eq $((n + 3)) ]
}

@test "an eval already in the record is replaced; a finished conversation without messages is rejected" {
	mock_start
	conv j1 1 '{"done":true,"eval":{"outcome":"stale"},"zz2":2}' >in.jsonl
	echo '{"id":"e","done":true,"messages":[]}' >>in.jsonl
	run evaluate --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[ "$(jq -c 'keys_unsorted' <<<"${lines[0]}")" = '["id","assistant","persona","messages","zz","done","eval","zz2","meta"]' ]
	[ "$(jq -r .eval.outcome <<<"${lines[0]}")" != stale ]
	[ "$(jq -r .error.reason rej.jsonl)" = "the conversation has no messages to evaluate" ]
}

@test "--criteria needs --evaluate; --evaluate does not take the turn limits; a built-in name must exist" {
	run scg-judge --criteria builtin
	[ "$status" -eq 2 ]
	[[ "$output" == *"--criteria needs --evaluate"* ]]
	run scg-judge --evaluate --max-turns 3
	[ "$status" -eq 2 ]
	[[ "$output" == *"Try 'scg-judge --help'"* ]]
	run scg-judge --evaluate --criteria builtin:completeness,kindness </dev/null
	[ "$status" -eq 2 ]
	[ "$output" = "scg-judge: --criteria: no built-in criterion 'kindness' (there are role_adherence, knowledge_retention, completeness, relevance)" ]
	run scg-judge --evaluate --criteria builtin --criteria builtin:relevance </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"criterion 'relevance' is given twice"* ]]
	run scg-judge --evaluate --criteria no-such-file.yaml </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"no-such-file.yaml: No such file or directory"* ]]
}

@test "the prompt is printed and replaced like every other" {
	mock_start
	[[ "$(scg-judge --print-prompt evaluate)" == *"{{transcript}}"* ]]
	printf 'Rate it.\n---\n{{turns}} turns: {{transcript}}\n' >p.txt
	conv j1 2 '{"done":true}' >in.jsonl
	run evaluate --prompt evaluate=p.txt in.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq -r '.body.messages[0].content' "$MOCK_LOG")" = "Rate it." ]
	[[ "$(jq -r '.body.messages[1].content' "$MOCK_LOG")" == "2 turns: Turn 1"* ]]
}

# verdicts for the gate: Tom's and Ana's conversations fail, the rest pass;
# every conversation's completeness is 4 of 1..5 (0.75 normalised)
gate_answers() {
	local crit='"criteria": {"completeness": {"reason": "Most of it.", "score": 4}}'
	cat <<EOF
{"match": ["You evaluate", "Tom Reyes"], "answer": {"outcome": "not met", "evidence": {"turn": 1, "text": "No booking."}, "failures": ["gave_up"], $crit}}
{"match": ["You evaluate", "Ana Lind"], "answer": {"outcome": "partly", "evidence": {"turn": 1, "text": "Sizes only."}, "failures": [], $crit}}
{"match": "You evaluate", "answer": {"outcome": "met", "evidence": {"turn": 1, "text": "Booked."}, "failures": [], $crit}}
EOF
}

@test "a gate for CI: simulate, scg-judge --evaluate, scg-stats --fail-under exits 1 below the threshold and 0 above" {
	gate_answers >answers.jsonl
	mock_start --answers answers.jsonl
	export SCG_MOCK_PORT=$MOCK_PORT
	# 5 personas x 2 conversations, every one judged, the limit's included
	simulate -p "$EX/personas.jsonl" -e "$EX/endpoints/mock.yaml" -k 2 -t 2 2>>stderr.txt |
		evaluate --criteria builtin:completeness >run.jsonl
	[ "$(wc -l <run.jsonl)" -eq 10 ]
	[ "$(jq -s 'map(select(.eval.outcome == null)) | length' run.jsonl)" -eq 0 ]
	[ "$(jq -s 'map(select(.stop.by == "limit")) | length' run.jsonl)" -ge 1 ]
	[ "$(jq -r '.eval.outcome' run.jsonl | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')" = "6 2 2 " ]
	# 6 of 10 met
	run scg-stats --fail-under 0.7 run.jsonl
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | grep '^scg-stats:')" = "scg-stats: below --fail-under: success rate 0.6 < 0.7 (6 of 10 met)" ]
	run scg-stats --fail-under 0.6 --fail-under completeness=0.75 run.jsonl
	[ "$status" -eq 0 ]
	run scg-stats --fail-under 0.5 --fail-under completeness=0.8 run.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"below --fail-under: completeness 0.75 < 0.8"* ]]
	# the same as one pipeline, as a CI job runs it
	run bash -c "simulate -p '$EX/personas.jsonl' -e '$EX/endpoints/mock.yaml' -k 2 -t 2 --evaluate \
		--criteria builtin:completeness 2>/dev/null | scg-stats -q -k 2 --fail-under 0.9 >/dev/null"
	[ "$status" -eq 1 ]
	run bash -c "simulate -p '$EX/personas.jsonl' -e '$EX/endpoints/mock.yaml' -k 2 -t 2 --evaluate \
		--criteria builtin:completeness 2>/dev/null | scg-stats -q -k 2 --fail-under 0.6 >/dev/null"
	[ "$status" -eq 0 ]
}

@test "the worked example of scg(7) EVALUATION prints what the page shows" {
	local man=$BATS_TEST_DIRNAME/../man/scg.7
	mock_start
	export SCG_MOCK_PORT=$MOCK_PORT
	ln -s "$EX" examples
	# the page's commands, with the mock on a port of its own
	simulate -p examples/personas.jsonl -e examples/endpoints/mock.yaml -k 4 -t 4 \
		--evaluate --criteria builtin >v1.jsonl 2>>stderr.txt
	simulate -p examples/personas.jsonl -e examples/endpoints/mock-v2.yaml -k 4 -t 4 \
		--evaluate --criteria builtin >v2.jsonl 2>>stderr.txt
	[ "$(jq -c 'select(.id == "p0001.c1") | .eval |
		[.outcome, .evidence.turn, .failures, .criteria.relevance.score]' v2.jsonl)" = \
		"$(grep -A 3 "^\\\$ jq -c 'select(.id == \"p0001.c1\")" "$man" | grep '^\[')" ]
	scg-stats --compare v1.jsonl v2.jsonl >compare.txt
	sed -n '/^\$ scg-stats --compare v1.jsonl v2.jsonl$/,/^\.Ed$/p' "$man" | sed '1d;$d' >want.txt
	[ -s want.txt ]
	diff want.txt compare.txt
	run scg-stats -k 4 --fail-under 0.9 --fail-under relevance=0.5 v2.jsonl
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | grep '^scg-stats: below')" = "$(grep '^scg-stats: below' "$man")" ]
}
