#!/usr/bin/env bats
# Counting tokens and money before and after spending (DESIGN §4).

load helper

@test "--dry-run estimates prompt tokens within 15% of what the mock then counts" {
	mock_start
	local ex=$BATS_TEST_DIRNAME/../examples
	scg-turn -q --dry-run <"$ex/personas.jsonl" >dry.jsonl
	[ "$(mock_requests)" -eq 0 ]
	scg-turn -q <"$ex/personas.jsonl" >out.jsonl
	local est real
	est=$(jq -s 'map(.est_prompt_tokens) | add' dry.jsonl)
	real=$(jq -s '[.[].meta.usage["mock-1"].prompt_tokens] | add' out.jsonl)
	echo "turn: estimated $est, counted $real"
	[ $((est * 100)) -ge $((real * 85)) ] && [ $((est * 100)) -le $((real * 115)) ]
	scg-chunk "$ex/knowledge" >chunks.jsonl
	scg-scenes -q --kind topic -k 2 --dry-run <chunks.jsonl >dry2.jsonl
	scg-scenes -q --kind topic -k 2 <chunks.jsonl >out2.jsonl
	est=$(jq -s 'map(.est_prompt_tokens) | add' dry2.jsonl)
	real=$(jq -s '[.[].meta.usage["mock-1"].prompt_tokens // empty] | add' out2.jsonl)
	echo "scenes: estimated $est, counted $real"
	[ $((est * 100)) -ge $((real * 85)) ] && [ $((est * 100)) -le $((real * 115)) ]
}

@test "--dry-run prints per model the requests, estimated tokens and estimated cost" {
	run scg-turn --dry-run --model gpt-4o <"$BATS_TEST_DIRNAME/../examples/personas.jsonl"
	[ "$status" -eq 0 ]
	[[ "$output" == *"gpt-4o: 5 requests (dry run)"* ]]
	[[ "$output" == *"estimated"* ]]
	[[ "$output" =~ \$0\.[0-9]{4}\ estimated ]]
}

@test "usage per record in meta.usage and totals with cost on stderr" {
	mock_start
	scg-turn <"$BATS_TEST_DIRNAME/../examples/personas.jsonl" >out.jsonl 2>err.txt
	[ "$(jq -s 'map(.meta.usage["mock-1"].requests) | add' out.jsonl)" -eq 5 ]
	local pt; pt=$(jq -s 'map(.meta.usage["mock-1"].prompt_tokens) | add' out.jsonl)
	grep -q "mock-1: 5 requests, 0 cache hits, 0 retries, 0 re-asks, 0 failed, $pt prompt" err.txt
	grep -Eq '\$0\.[0-9]{4}$' err.txt
}

@test "each record's usage carries its cost from the price table and the stage that spent it, summed over stages" {
	mock_start
	# mock-1 costs $1 per million prompt tokens, $2 per million completion tokens
	scg-turn -q --side user <"$BATS_TEST_DIRNAME/../examples/personas.jsonl" | scg-turn -q --side assistant | scg-judge -q --min-turns 1 >out.jsonl
	jq -e '.meta.usage["mock-1"] | (.prompt_tokens * 1 + .completion_tokens * 2) / 1e6 - .cost | fabs < 1e-9' out.jsonl >/dev/null
	jq -e '.meta.usage["mock-1"].stages | keys == ["scg-judge", "scg-turn"]' out.jsonl >/dev/null
	jq -e '.meta.usage["mock-1"] as $u | $u.stages["scg-turn"].requests == 2 and $u.stages["scg-judge"].requests >= 1 and
		([$u.stages[] | .requests] | add) == $u.requests and
		([$u.stages[] | .prompt_tokens] | add) == $u.prompt_tokens and
		((([$u.stages[] | .cost] | add) - $u.cost) | fabs) < 1e-9' out.jsonl >/dev/null
	# the same bytes from the cache: the cost is part of the record, not of the run
	scg-turn -q --side user <"$BATS_TEST_DIRNAME/../examples/personas.jsonl" | scg-turn -q --side assistant | scg-judge -q --min-turns 1 >again.jsonl
	cmp out.jsonl again.jsonl
}

@test "--budget stops starting requests; the records not started are rejected as over budget" {
	mock_start
	for i in $(seq 1 40); do echo "{\"id\":\"r$i\",\"messages\":[{\"role\":\"user\",\"content\":\"question $i about returns and refunds\"}]}"; done >in.jsonl
	# mock-1 costs $1 per million prompt tokens, $2 per million completion tokens
	run bash -c 'scg-turn -q -j 1 --budget 0.0005 --rejects rej.jsonl in.jsonl 2>/dev/null >out.jsonl'
	[ "$status" -eq 1 ]
	local done rejected
	done=$(wc -l <out.jsonl)
	rejected=$(wc -l <rej.jsonl)
	[ "$done" -gt 0 ] && [ "$rejected" -gt 0 ]
	[ $((done + rejected)) -eq 40 ]
	[ "$(jq -r .error.reason rej.jsonl | grep -c 'over budget')" -eq "$rejected" ]
	[ "$(mock_requests)" -eq "$done" ]
	# once one request is refused no later one starts: the first records
	# come out, the rest are rejected, in input order
	[ "$(jq -r .id out.jsonl rej.jsonl | tr '\n' ' ')" = "$(seq -f 'r%g' 1 40 | tr '\n' ' ')" ]
	# what was spent stays under the budget
	jq -s '[.[].meta.usage["mock-1"] | .prompt_tokens * 1 + .completion_tokens * 2] | add / 1e6 <= 0.0005' out.jsonl | grep -qx true
	# the same with requests in flight together
	run bash -c 'scg-turn -q --no-cache -j 4 --budget 0.0005 --rejects rej4.jsonl in.jsonl 2>/dev/null >out4.jsonl'
	[ "$status" -eq 1 ]
	[ -s out4.jsonl ] && [ -s rej4.jsonl ]
	[ "$(jq -r .id out4.jsonl rej4.jsonl | tr '\n' ' ')" = "$(seq -f 'r%g' 1 40 | tr '\n' ' ')" ]
}
