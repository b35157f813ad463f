#!/usr/bin/env bats
# pipelines/agent on the shipped shop (examples/shop): simulated users
# bring tasks to an assistant model with tools against scg-mock; the
# conversations come out judged on the final state, read in scg-show and
# the report, exported for fine-tuning with their tools, and rendered by a
# chat template that knows tools.

load helper
bats_require_minimum_version 1.5.0

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
SHOP=$ROOT/examples/shop
SHOP_ARGS=(--tools "$SHOP/tools.yaml" --tool-cmd "$SHOP/orders.sh" --tool-state "$SHOP/state.json")

@test "the shop's tasks: conversations with tool calls, judged on the state the orders tool left" {
	mock_start
	run --separate-stderr agent --tasks "$SHOP/tasks.jsonl" "${SHOP_ARGS[@]}" -t 3
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	echo "$output" >out.jsonl
	[ "$(jq -r .id out.jsonl | sort | tr '\n' ' ')" = "shop1 shop2 shop3 shop4 " ]
	# every conversation is over, called at least one tool and kept its state
	[ "$(jq -r .done out.jsonl | sort -u)" = true ]
	[ -z "$(jq -c 'select(.meta.tool_calls.calls < 1)' out.jsonl)" ]
	[ "$(jq -c '[.messages[] | select(.role == "tool")] | length > 0' out.jsonl | sort -u)" = true ]
	[ "$(jq -r '.tool_state.orders | keys | join(",")' out.jsonl | sort -u)" = A1001,A1002,A1003 ]
	# the outcome is the checks against that state
	[ -z "$(jq -c 'select(.stop.outcome != "met" and .stop.outcome != "not_met")' out.jsonl)" ]
	[ "$(jq -r 'select(.id == "shop3") | .stop.outcome' out.jsonl)" = met ]
	[ -z "$(jq -c 'select(.stop.outcome == "not_met" and (.stop.failed | length) == 0)' out.jsonl)" ]
	# the tools ran over the shop's data: a known order was found
	jq -r '.messages[] | select(.role == "tool") | .content' out.jsonl | grep -q '"email":"mira.holt@example.com"'
	# the same run again: the same records
	agent --tasks "$SHOP/tasks.jsonl" "${SHOP_ARGS[@]}" -t 3 >again.jsonl
	diff <(sort out.jsonl) <(sort again.jsonl)
}

@test "from the assistant card: personas, tasks made from the tools, conversations; read in scg-show and the report" {
	mock_start
	agent -a "$SHOP/assistant.yaml" "${SHOP_ARGS[@]}" -n 2 -k 2 -t 2 --report report.html >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 4 ]
	[ "$(jq -r .id out.jsonl | sort | tr '\n' ' ')" = "p0001.g1 p0001.g2 p0002.g1 p0002.g2 " ]
	[ "$(jq -c '.task | keys_unsorted' out.jsonl | sort -u)" = '["goal","facts","outcome","checks"]' ]
	[ "$(jq -r .assistant.name out.jsonl | sort -u)" = Ledger ]
	[ "$(jq -r '.stop.outcome' out.jsonl | sort -u | grep -cv '^\(met\|not_met\)$')" -eq 0 ]
	# every stage ran: personas, tasks, user, the assistant with the tools, judge
	[ "$(jq -r '.meta.usage["mock-1"].stages | keys[]' out.jsonl | sort -u | tr '\n' ' ')" = "scg-judge scg-personas scg-scenes scg-turn " ]
	run scg-show --color never out.jsonl
	[[ "$output" == *"→ "*'{"'* ]]
	[[ "$output" == *"tool state: "* ]]
	grep -q '"tool_calls"' report.html
}

@test "--export openai keeps the tools and the tool messages, passes scg-export --check and renders through a chat template with tools" {
	mock_start
	agent --tasks "$SHOP/tasks.jsonl" "${SHOP_ARGS[@]}" -t 2 --export openai >sft.jsonl
	[ "$(wc -l <sft.jsonl)" -eq 4 ]
	[ "$(jq -c 'keys' sft.jsonl | sort -u)" = '["messages","tools"]' ]
	[ "$(jq -r '.tools[].function.name' sft.jsonl | sort -u | tr '\n' ' ')" = "cancel_order find_order list_orders update_address " ]
	[ "$(jq -c '[.messages[] | select(.role == "tool")] | length > 0' sft.jsonl | sort -u)" = true ]
	run scg-export --check -f openai sft.jsonl
	[ "$status" -eq 0 ]
	[ "$output" = "4 records: 4 pass, 0 fail" ]
	python3 "$BATS_TEST_DIRNAME/chat-render.py" "$FIXTURES/export/chatml-tools.jinja" <sft.jsonl >rendered.txt
	[ "$(grep -c '^~~~$' rendered.txt)" -eq 4 ]
	grep -q '^<tool_call>$' rendered.txt
	grep -q '^<tool_response>$' rendered.txt
	grep -q '"name": "find_order"' rendered.txt
}

@test "--tool-sim: a model plays the shop's tools; the user's command is not needed" {
	mock_start
	agent --tasks "$SHOP/tasks.jsonl" --tools "$SHOP/tools.yaml" --tool-sim -t 2 >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 4 ]
	[ -z "$(jq -c 'select(.meta.tool_calls.calls < 1)' out.jsonl)" ]
	grep -q "software tool" "$MOCK_LOG"
}

@test "a dry run rehearses with the tools, runs no command of the user's, and writes nothing" {
	mock_start
	run --separate-stderr agent -a "$SHOP/assistant.yaml" --tools "$SHOP/tools.yaml" --tool-cmd "touch ran; $SHOP/orders.sh" \
		--tool-state "$SHOP/state.json" -n 2 -t 3 --report r.html --dry-run
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"agent: dry run: stage scg-scenes "* ]]
	[[ "$stderr" == *"agent: dry run: stage scg-turn "* ]]
	[[ "$stderr" == *"agent: dry run: total "*'$'* ]]
	[[ "$stderr" == *"every tool call succeeds"* ]]
	[ ! -e ran ] && [ ! -e r.html ]
	[ "$(mock_requests)" -eq 0 ]
}

@test "the pipeline's checks: the tools, a runner, set-ups, and a bad tools file before any stage starts" {
	run agent -a "$SHOP/assistant.yaml" --tool-sim
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "agent: the tools are needed: --tools FILE" ]
	run agent -a "$SHOP/assistant.yaml" --tools "$SHOP/tools.yaml"
	[ "${lines[0]}" = "agent: the calls need a runner: --tool-cmd CMD or --tool-sim" ]
	run agent --tools "$SHOP/tools.yaml" --tool-sim
	[ "${lines[0]}" = "agent: an assistant card (-a), a personas file (-p) or tasks (--tasks) are needed" ]
	printf -- '- type: function\n  function: {name: "no good"}\n' >bad.yaml
	mock_start
	run agent -a "$SHOP/assistant.yaml" --tools bad.yaml --tool-sim
	[ "$status" -eq 2 ]
	[ "$output" = "agent: scg-scenes: bad.yaml:1: tool 1 (no good): a name is 1 to 64 letters, digits, _ or -" ]
	[ "$(mock_requests)" -eq 0 ]
}
