#!/usr/bin/env bats
# scg-stats on records the four pipelines wrote against scg-mock (kept in
# test/fixtures/stats), checked against the same counts computed with jq.

load helper

S=$BATS_TEST_DIRNAME/fixtures/stats
ALL="$S/simulate.jsonl $S/seed-messages.jsonl $S/knowledge.jsonl $S/character.jsonl $S/dpo.jsonl"

# stats [options]: scg-stats --json over every fixture into s.json
stats() { scg-stats --json "$@" $ALL "$S/rejects.jsonl" >s.json; }

@test "records, conversations and DPO pairs; counts by kind, stop reason and stop.by equal jq's" {
	stats
	local want
	[ "$(jq .records s.json)" -eq "$(cat $ALL | wc -l)" ]
	[ "$(jq .conversations s.json)" -eq "$(cat $ALL | jq -s 'map(select(.messages)) | length')" ]
	[ "$(jq .dpo_pairs s.json)" -eq "$(cat $ALL | jq -s 'map(select(.chosen and .rejected)) | length')" ]
	want=$(cat $ALL | jq -sc 'map(.kind // (if .chosen then "dpo" else "conversation" end))
		| group_by(.) | map({(.[0]): length}) | add')
	[ "$(jq -c '.kinds | to_entries | sort_by(.key) | from_entries' s.json)" = "$want" ]
	want=$(cat $ALL | jq -sc 'map(select(.messages) | .stop.reason) | group_by(.) | map({(.[0]): length}) | add')
	[ "$(jq -c '.stop.reason | to_entries | sort_by(.key) | from_entries' s.json)" = "$want" ]
	want=$(cat $ALL | jq -sc 'map(select(.messages) | .stop.by) | group_by(.) | map({(.[0]): length}) | add')
	[ "$(jq -c '.stop.by | to_entries | sort_by(.key) | from_entries' s.json)" = "$want" ]
	# sorted by count, most first
	jq -e '[.stop.reason[]] | . == (sort | reverse)' s.json >/dev/null
}

@test "user turns per conversation: histogram, mean, p50 and p90 (nearest rank) equal jq's" {
	stats
	local turns='map(select(.messages) | [.messages[] | select(.role == "user")] | length) | sort'
	[ "$(jq -c '.turns.histogram' s.json)" = "$(cat $ALL | jq -sc "$turns"' | group_by(.) | map({(.[0] | tostring): length}) | add')" ]
	[ "$(jq '.turns.mean' s.json)" = "$(cat $ALL | jq -s "$turns"' | add / length * 1e4 | round / 1e4')" ]
	[ "$(jq '.turns.p50' s.json)" = "$(cat $ALL | jq -s "$turns"' | .[(length * 0.5 | ceil) - 1]')" ]
	[ "$(jq '.turns.p90' s.json)" = "$(cat $ALL | jq -s "$turns"' | .[(length * 0.9 | ceil) - 1]')" ]
	[ "$(jq '.turns.max' s.json)" = "$(cat $ALL | jq -s "$turns"' | max')" ]
}

@test "characters per message by role (code points): count, mean, p50, p90, max equal jq's" {
	stats
	local role
	for role in user assistant; do
		local lens="map(select(.messages) | .messages[] | select(.role == \"$role\") | .content | length) | sort"
		[ "$(jq -c ".chars.$role | [.count, .mean, .p50, .p90, .max]" s.json)" = \
		  "$(cat $ALL | jq -sc "$lens"' | [length, (add / length * 1e4 | round / 1e4),
			.[(length * 0.5 | ceil) - 1], .[(length * 0.9 | ceil) - 1], max]')" ]
		[ "$(jq ".chars.$role.histogram | map(.count) | add" s.json)" -eq "$(jq ".chars.$role.count" s.json)" ]
	done
}

@test "tokens and cost per model and per stage are the sums of meta.usage, with no price table" {
	# a price table that would give other costs is not used: the cost is the records'
	echo '{"mock-1": {"input": 1000, "output": 1000}}' >prices.json
	SCG_PRICES=prices.json stats
	local m='[.[].meta.usage["mock-1"]]'
	[ "$(jq -c '.usage.models["mock-1"] | [.requests, .prompt_tokens, .completion_tokens]' s.json)" = \
	  "$(cat $ALL | jq -sc "$m"' | [map(.requests), map(.prompt_tokens), map(.completion_tokens)] | map(add)')" ]
	jq -e --argjson want "$(cat $ALL | jq -s "$m"' | map(.cost) | add')" \
		'.usage.models["mock-1"].cost - $want | fabs < 1e-9' s.json >/dev/null
	jq -e '.usage.cost == .usage.models["mock-1"].cost and .usage.records_without_cost == 0' s.json >/dev/null
	local stage
	for stage in scg-personas scg-turn scg-judge scg-restyle scg-scenes scg-dpo; do
		[ "$(jq -c ".usage.stages[\"$stage\"] | [.requests, .prompt_tokens]" s.json)" = \
		  "$(cat $ALL | jq -sc "[.[].meta.usage[\"mock-1\"].stages[\"$stage\"] // empty] | [map(.requests), map(.prompt_tokens)] | map(add)")" ]
	done
	# the stages add up to the model
	jq -e '([.usage.stages[].requests] | add) == .usage.requests' s.json >/dev/null
	# records from before the cost was kept are counted as such
	jq -c 'del(.meta.usage[]?.cost)' "$S/simulate.jsonl" | scg-stats --json | jq -e '.usage.records_without_cost == 8' >/dev/null
}

@test "rejects by program and reason, from a rejects file or mixed into the records" {
	stats
	[ "$(jq -c '.rejected' s.json)" = '{"count":5,"programs":{"scg-turn":{"count":3,"reasons":{"over budget: --budget 0.0002 would be passed":3}},"scg-dedup":{"count":2,"reasons":{"no field '"'messages.*.content'"' (--key)":1,"not JSON: unexpected character (column 1)":1}}}}' ]
	# rejects are not records
	[ "$(jq .records s.json)" -eq "$(cat $ALL | wc -l)" ]
	cat "$S/rejects.jsonl" "$S/simulate.jsonl" | scg-stats --json | jq -e '.rejected.count == 5 and .records == 8' >/dev/null
}

@test "health checks count each planted fault and name the first ids" {
	scg-stats --json "$S/health.jsonl" >s.json
	[ "$(jq -c '.health | map_values([.count, .ids])' s.json)" = \
	  '{"roles_out_of_order":[2,["h1","h9"]],"empty_message":[1,["h2"]],"speaker_label":[3,["h3","h4","h5"]],"repeated_message":[1,["h6"]],"assistant_refusal":[1,["h7"]],"user_as_assistant":[1,["h8"]]}' ]
	# the pipelines' records are clean
	stats
	jq -e '[.health[].count] | add == 0' s.json >/dev/null
	# at most five ids a check
	for i in $(seq 1 7); do echo "{\"id\":\"e$i\",\"messages\":[{\"role\":\"user\",\"content\":\"\"}]}"; done |
		scg-stats --json | jq -e '.health.empty_message | .count == 7 and (.ids | length) == 5' >/dev/null
}

@test "distinct-1 and distinct-2 by role equal jq's over the normalised words" {
	scg-stats --json "$S/simulate.jsonl" >s.json
	local role words='[.[].messages[] | select(.role == $role) | .content | ascii_downcase
		| gsub("[^a-z0-9 \\n]"; "") | [splits("[ \\n]+") | select(length > 0)]]'
	for role in user assistant; do
		[ "$(jq -c ".diversity.distinct.$role | [.words, .distinct_words, .bigrams, .distinct_bigrams]" s.json)" = \
		  "$(jq -sc --arg role $role "$words"' | [(map(length) | add), (flatten | unique | length),
			(map(length - 1) | add), ([.[] | . as $w | range(1; length) | $w[. - 1] + " " + $w[.]] | unique | length)]' "$S/simulate.jsonl")" ]
		jq -e ".diversity.distinct.$role | .distinct_1 == (.distinct_words / .words * 1e4 | round / 1e4)" s.json >/dev/null
	done
}

@test "the share of conversations with a near duplicate (Jaccard >= 0.8, exact copies too)" {
	scg-stats --json "$S/health.jsonl" >s.json
	# n2 differs from n1 by one word; n3 is a copy of n1
	[ "$(jq -c '.diversity.near_duplicates' s.json)" = \
	  "{\"threshold\":0.8,\"conversations\":3,\"share\":$(jq -n '3 / 13 * 1e4 | round / 1e4'),\"examples\":[[\"n1\",\"n2\"],[\"n1\",\"n3\"]]}" ]
	scg-stats --json "$S/simulate.jsonl" | jq -e '.diversity.near_duplicates.conversations == 0' >/dev/null
}

@test "coverage of personas and of the axes combinations, against the axes file with --axes" {
	local seed=$S/seed-messages.jsonl axes=$BATS_TEST_DIRNAME/../examples/seed/axes.yaml
	scg-stats --json "$seed" >s.json
	local seen; seen=$(jq -s 'map(.persona.axes | [.[]] | join("/")) | unique | length' "$seed")
	jq -e --argjson n "$seen" '.diversity.axes | .seen == $n and .covered == $n' s.json >/dev/null
	# without the file: every combination of the values seen
	jq -e --argjson p "$(jq -s '[map(.persona.axes.motivation), map(.persona.axes.disposition)] | map(unique | length) | .[0] * .[1]' "$seed")" \
		'.diversity.axes.possible == $p' s.json >/dev/null
	# the file allows 3 + 3 pairs, curiosity with any of 4 dispositions, and 2 more: 12
	scg-stats --json --axes "$axes" "$seed" >a.json
	jq -e --argjson n "$seen" '.diversity.axes | .possible == 12 and .covered == $n and
		(.missing | length) == 12 - $n and .coverage == ($n / 12 * 1e4 | round / 1e4)' a.json >/dev/null
	# personas: conversations per persona
	scg-stats --json "$S/simulate.jsonl" >p.json
	[ "$(jq -c '.diversity.personas.by_persona | to_entries | sort_by(.key) | from_entries' p.json)" = \
	  "$(jq -sc 'group_by(.persona.name) | map({(.[0].persona.name): length}) | add' "$S/simulate.jsonl")" ]
	jq -e '.diversity.personas | .count == 4 and .conversations.min == 2 and .conversations.max == 2' p.json >/dev/null
}

@test "DPO pairs: count, chosen and rejected lengths, identical openings" {
	scg-stats --json "$S/dpo.jsonl" >s.json
	jq -e --argjson c "$(jq -s 'map(.chosen[0].content | length) | add / length * 1e4 | round / 1e4' "$S/dpo.jsonl")" \
		--argjson r "$(jq -s 'map(.rejected[0].content | length) | add / length * 1e4 | round / 1e4' "$S/dpo.jsonl")" \
		'.dpo | .pairs == 3 and .chosen_chars.mean == $c and .rejected_chars.mean == $r and .identical_openings == 0' s.json >/dev/null
	# the same first five words, whatever the case and punctuation
	jq -c '.chosen[0].content = "Well, I never heard of it. Truly." | .rejected[0].content = "well I never heard of such a thing"' \
		"$S/dpo.jsonl" | scg-stats --json | jq -e '.dpo | .identical_openings == 3 and .identical_openings_share == 1' >/dev/null
}

@test "the table for the terminal says the same as the JSON" {
	run scg-stats $ALL "$S/rejects.jsonl"
	[ "$status" -eq 0 ]
	local n; n=$(cat $ALL | wc -l)
	[[ "${lines[0]}" == "records         $n ("*", 5 rejected" ]]
	[[ "$output" == *"stop reasons    script "* ]]
	[[ "$output" == *"  model  mock-1"* ]]
	[[ "$output" == *"  stage  scg-judge"* ]]
	[[ "$output" == *"rejects         scg-turn: 3"* ]]
	[[ "$output" == *"near duplicates: 0 of "* ]]
	[[ "$output" == *"DPO             3 pairs"* ]]
	scg-stats "$S/health.jsonl" | grep -q '^  speaker_label  *3  h3, h4, h5$'
}

@test "a bad line names the program, the file and the line; --on-error=skip counts the rest" {
	{ head -n 2 "$S/simulate.jsonl"; echo 'not json'; tail -n 1 "$S/simulate.jsonl"; } >in.jsonl
	run scg-stats in.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == "scg-stats: in.jsonl:3: not JSON"* ]]
	run scg-stats --json --on-error=skip --rejects rej.jsonl in.jsonl
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | grep -v '^scg-stats:' | jq .records)" -eq 3 ]
	[ "$(jq -r .error.line rej.jsonl)" -eq 3 ]
	run scg-stats --bogus
	[ "$status" -eq 2 ]
}

@test "empty input gives zeros, and a closed stdout ends it quietly" {
	scg-stats --json </dev/null | jq -e '.records == 0 and .conversations == 0 and .turns.count == 0' >/dev/null
	scg-stats </dev/null | grep -q '^records         0 '
	run bash -c "scg-stats $ALL | head -n 1"
	[ "$status" -eq 0 ]
	[ -z "$(scg-stats $ALL 2>&1 >/dev/null)" ]
}

# The judge's verdicts (issue "What the simulation says about the
# assistant"). eval-a.jsonl and eval-b.jsonl are the simulate fixture with
# an "eval" added: two versions of the assistant on the same 4 personas x 2
# conversations. The expected numbers were worked out by a short python3
# script from the fixtures (math.comb, the Wilson formula, Student's t for
# 7 degrees of freedom = 2.365, the exact sign and signed-rank distributions
# by enumeration), not by scg.
EA=$S/eval-a.jsonl
EB=$S/eval-b.jsonl

@test "eval: success rate with its 95% Wilson interval, overall and by persona, axis label and stop reason" {
	scg-stats --json "$EA" >s.json
	[ "$(jq -c '.eval.success' s.json)" = '{"n":8,"successes":5,"rate":0.625,"ci":[0.3057,0.8632]}' ]
	[ "$(jq -c '.eval.outcomes' s.json)" = '{"met":5,"partly":1,"not met":2}' ]
	[ "$(jq -c '[.eval.by_persona[] | [.n, .successes, .ci]]' s.json)" = \
	  '[[2,2,[0.3424,1]],[2,1,[0.0945,0.9055]],[2,0,[0,0.6576]],[2,2,[0.3424,1]]]' ]
	[ "$(jq -c '.eval.by_persona | keys_unsorted | map(.[0:4])' s.json)" = '["sail","soil","tomo","usef"]' ]
	[ "$(jq -c '.eval.by_axis' s.json)" = \
	  '{"mood: angry":{"n":4,"successes":1,"rate":0.25,"ci":[0.0456,0.6994]},"mood: calm":{"n":4,"successes":4,"rate":1,"ci":[0.5101,1]}}' ]
	[ "$(jq -c '.eval.by_stop_reason.max_turns' s.json)" = '{"n":5,"successes":2,"rate":0.4,"ci":[0.1176,0.7693]}' ]
	[ "$(jq -c '.eval.by_stop_reason.closed | [.n, .ci]' s.json)" = '[1,[0.2065,1]]' ]
	scg-stats --json "$EB" | jq -e '.eval.success == {"n":8,"successes":7,"rate":0.875,"ci":[0.5291,0.9776]}' >/dev/null
	# records without an eval have no eval member
	scg-stats --json "$S/simulate.jsonl" | jq -e 'has("eval") | not' >/dev/null
}

@test "eval: pass^k per persona, C(c,k)/C(n,k), k from -k or the fewest tries" {
	scg-stats --json -k 2 "$EA" >s.json
	[ "$(jq -c '.eval.pass_k | [.k, .mean, .personas, ([.by_persona[]] | sort)]' s.json)" = '[2,0.5,4,[0,0,1,1]]' ]
	# the default k is the fewest conversations a persona has: 2 here
	scg-stats --json "$EA" | jq -e '.eval.pass_k.k == 2 and .eval.pass_k.mean == 0.5' >/dev/null
	scg-stats --json -k 2 "$EB" | jq -e '.eval.pass_k.mean == 0.75' >/dev/null
	# pass^1 is the mean success rate over personas
	scg-stats --json -k 1 "$EA" | jq -e '.eval.pass_k.mean == 0.625' >/dev/null
	# a persona with fewer tries than k is left out (null)
	scg-stats --json -k 3 "$EA" | jq -e '.eval.pass_k | .mean == null and .personas == 0 and all(.by_persona[]; . == null)' >/dev/null
	# 3 of 4 tries succeed: pass^2 = C(3,2)/C(4,2) = 0.5
	for o in met met met "not met"; do echo "{\"id\":\"x.c$RANDOM\",\"persona\":{\"name\":\"X\"},\"eval\":{\"outcome\":\"$o\"}}"; done |
		scg-stats --json -k 2 | jq -e '.eval.pass_k.by_persona.X == 0.5' >/dev/null
}

@test "eval: criteria means normalised to their scale with intervals, the weighted score, failures and the ids not met" {
	scg-stats --json "$EA" >s.json
	[ "$(jq -c '.eval.criteria.helpfulness | [.n, .mean, .ci, .scale, .weight]' s.json)" = '[8,0.5625,[0.2946,0.8304],[1,5],2]' ]
	# pass/fail criteria get the Wilson interval
	[ "$(jq -c '.eval.criteria.role_adherence | [.n, .mean, .ci]' s.json)" = '[8,0.75,[0.4093,0.9285]]' ]
	[ "$(jq -c '.eval.score | [.n, .mean, .ci]' s.json)" = '[8,0.625,[0.3294,0.9206]]' ]
	[ "$(jq -c '.eval.failures' s.json)" = '{"made_up":1,"asked_again":1,"loop":1,"gave_up":1}' ]
	[ "$(jq -c '.eval.failed' s.json)" = '{"count":3,"ids":["p0002.c1","p0002.c2","p0003.c2"]}' ]
	run scg-stats "$EA"
	[[ "$output" == *"success         0.625 [0.306, 0.863]: 5 of 8 conversations met the user's goal"* ]]
	[[ "$output" == *"not met         p0002.c1, p0002.c2, p0003.c2"* ]]
	[[ "$output" == *"pass^k          k = 2: 0.500 over 4 personas"* ]]
}

@test "--compare A B: pairs by persona and index, the change, McNemar, Wilcoxon and sign tests, the ids that flipped" {
	scg-stats --json --compare "$EA" "$EB" >c.json
	jq -e '.a.file and .b.file and .a.eval.success.rate == 0.625 and .b.eval.success.rate == 0.875' c.json >/dev/null
	[ "$(jq -c '.compare | [.pairs, .only_a, .only_b, .success.change, .success.mcnemar]' c.json)" = \
	  '[8,0,0,0.25,{"to_met":3,"to_not_met":1,"p":0.625,"method":"exact"}]' ]
	[ "$(jq -c '.compare.criteria.helpfulness' c.json)" = \
	  '{"n":8,"a":0.5625,"b":0.75,"change":0.1875,"wilcoxon":{"w_plus":22,"n":7,"p":0.21875},"sign":{"plus":6,"minus":1,"p":0.125}}' ]
	[ "$(jq -c '.compare.flipped' c.json)" = '{"to_met":["p0002.c1","p0002.c2","p0003.c2"],"to_not_met":["p0003.c1"]}' ]
	# the ids are sorted: runs written as conversations finished, in any
	# order, list the same
	tac "$EA" >a-rev.jsonl
	tac "$EB" >b-rev.jsonl
	[ "$(scg-stats --json --compare a-rev.jsonl b-rev.jsonl | jq -c '[.compare.flipped, .b.eval.failed.ids]')" = \
	  "$(jq -c '[.compare.flipped, .b.eval.failed.ids]' c.json)" ]
	# the ids differ between runs; persona and index pair them
	jq -c '.id |= sub("^p"; "run2-p")' "$EB" >b2.jsonl
	scg-stats --json --compare "$EA" b2.jsonl | jq -e '.compare.pairs == 8 and .compare.success.mcnemar.p == 0.625' >/dev/null
	# a conversation only in one run is counted, not paired
	head -n 7 "$EB" >b7.jsonl
	scg-stats --json --compare "$EA" b7.jsonl | jq -e '.compare | .pairs == 7 and .only_a == 1 and .only_b == 0' >/dev/null
	run scg-stats --compare "$EA" "$EB"
	[ "$status" -eq 0 ]
	[[ "$output" == *"success         0.625 -> 0.875 (+0.250); McNemar exact p = 0.625 (3 to met, 1 to not met)"* ]]
	[[ "$output" == *"now met         p0002.c1, p0002.c2, p0003.c2"* ]]
	run scg-stats --compare "$EA"
	[ "$status" -eq 2 ]
}

@test "--compare with many discordant pairs: McNemar by chi-square, Wilcoxon by the normal approximation" {
	jq -nc 'range(1; 41) as $i | {id: "p\($i).c1", persona: {name: "P\($i)"},
		eval: {outcome: (if $i <= 20 then "not met" else "met" end), criteria: {h: {score: 0.5, scale: [0, 1]}}}}' >a.jsonl
	jq -nc 'range(1; 41) as $i | {id: "p\($i).c1", persona: {name: "P\($i)"},
		eval: {outcome: (if $i <= 20 or $i > 30 then "met" else "not met" end),
		criteria: {h: {score: (0.5 + (if $i <= 18 then $i / 100 elif $i <= 24 then -($i / 100) else 0 end)), scale: [0, 1]}}}}' >b.jsonl
	scg-stats --json --compare a.jsonl b.jsonl >c.json
	# (|20 - 10| - 1)^2 / 30 = 2.7, p = erfc(sqrt(2.7 / 2))
	[ "$(jq -c '.compare.success.mcnemar' c.json)" = '{"to_met":20,"to_not_met":10,"p":0.100348,"method":"chi-square"}' ]
	# 24 non-zero differences, the 18 smallest positive: W+ = 171
	jq -e '.compare.criteria.h.wilcoxon | .n == 24 and .w_plus == 171 and .p == 0.558068' c.json >/dev/null
}

@test "--fail-under RATE and NAME=X: exit 1 with one line saying what fell short, 0 above" {
	run scg-stats --json --fail-under 0.6 --fail-under helpfulness=0.5 "$EA"
	[ "$status" -eq 0 ]
	run scg-stats --json --fail-under 0.9 "$EA"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | grep -c '^scg-stats:')" -eq 1 ]
	[[ "$output" == *"scg-stats: below --fail-under: success rate 0.625 < 0.9 (5 of 8 met)"* ]]
	# the summary is still written
	echo "$output" | grep -v '^scg-stats:' | jq -e '.eval.success.rate == 0.625' >/dev/null
	run scg-stats --fail-under 0.5 --fail-under helpfulness=0.6 --fail-under role_adherence=0.7 "$EA"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | grep '^scg-stats:')" = "scg-stats: below --fail-under: helpfulness 0.5625 < 0.6 (mean of 8)" ]
	run scg-stats --fail-under empathy=0.1 "$EA"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no criterion 'empathy'"* ]]
	# with --compare the gate is on B
	run scg-stats --compare --fail-under 0.8 "$EA" "$EB"
	[ "$status" -eq 0 ]
	# nothing evaluated cannot pass a gate
	run scg-stats --fail-under 0.1 "$S/simulate.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no conversation has an eval"* ]]
	run scg-stats --fail-under 1.5 "$EA"
	[ "$status" -eq 2 ]
	run scg-stats --fail-under =0.5 "$EA"
	[ "$status" -eq 2 ]
}
