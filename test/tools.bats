#!/usr/bin/env bats
# An assistant model that calls tools (scg-turn --tools, lib/agent): the
# calls and their results in the record and on the wire of each provider,
# the commands and the simulated tools that answer them, the state they
# change and the judge then checks, malformed calls and the limits, tasks
# made from the tools, and the records as scg-show, scg-report, scg-export
# and a chat template see them.

load helper

EX=$(cd "$BATS_TEST_DIRNAME/../examples/shop" && pwd)

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	cat >tools.yaml <<'EOF'
- type: function
  function:
    name: cancel_order
    description: Cancel an order that has not shipped.
    parameters:
      type: object
      properties:
        order_id: {type: string, enum: [A1001]}
      required: [order_id]
      additionalProperties: false
EOF
	echo '{"orders":{"A1001":{"status":"processing"}}}' >state.json
	# the tool: cancels the order in the state it is given
	cat >cancel.sh <<'EOF'
jq -c '.state.orders[.arguments.order_id].status = "cancelled" | {result: {ok: true, order: .arguments.order_id}, state: .state}'
EOF
	echo '{"id":"c1","messages":[{"role":"user","content":"please cancel my order A1001"}]}' >one.jsonl
}

# assistant ARGS...: the assistant's turn with the tools
assistant() { scg-turn -q --side assistant --tools tools.yaml "$@"; }

@test "openai: the model's call, its result and the answer land in the record, in OpenAI's shape" {
	mock_start
	run assistant --tool-cmd 'jq -c "{cancelled: .arguments.order_id, by: .name, call: .id}"' one.jsonl
	[ "$status" -eq 0 ]
	local id
	id=$(jq -r '.messages[1].tool_calls[0].id' <<<"$output")
	[ "$(jq -c '[.messages[] | .role]' <<<"$output")" = '["system","user","assistant","tool","assistant"]' ] ||
		[ "$(jq -c '[.messages[] | .role]' <<<"$output")" = '["user","assistant","tool","assistant"]' ]
	[ "$(jq -c '.messages | map(select(.tool_calls))[0] | [.content, .tool_calls[0].type, .tool_calls[0].function.name, .tool_calls[0].function.arguments]' <<<"$output")" = \
		'[null,"function","cancel_order","{\"order_id\":\"A1001\"}"]' ]
	id=$(jq -r '.messages | map(select(.tool_calls))[0].tool_calls[0].id' <<<"$output")
	[ "$(jq -c '.messages | map(select(.role == "tool"))[0]' <<<"$output")" = \
		"{\"role\":\"tool\",\"tool_call_id\":\"$id\",\"content\":\"{\\\"cancelled\\\":\\\"A1001\\\",\\\"by\\\":\\\"cancel_order\\\",\\\"call\\\":\\\"$id\\\"}\"}" ]
	[ "$(jq -r '.messages[-1].role' <<<"$output")" = assistant ]
	[ -n "$(jq -r '.messages[-1].content' <<<"$output")" ]
	[ "$(jq -c '.tools[0].function.name' <<<"$output")" = '"cancel_order"' ]
	[ "$(jq -c '.meta.tool_calls' <<<"$output")" = '{"calls":1,"malformed":0,"rounds":1}' ]
	# on the wire: the tools as given; then the call and its result
	[ "$(mock_requests)" -eq 2 ]
	[ "$(head -n 1 "$MOCK_LOG" | jq -c '.body.tools[0].function.parameters.required')" = '["order_id"]' ]
	[ "$(tail -n 1 "$MOCK_LOG" | jq -c '[.body.messages[-2:][] | .role, (.tool_calls[0].id // .tool_call_id)]')" = \
		"[\"assistant\",\"$id\",\"tool\",\"$id\"]" ]
}

@test "anthropic: tools with input_schema, the call a tool_use block, its result a tool_result block, roles alternating" {
	mock_start --strict
	run assistant --provider anthropic --base-url "$MOCK_URL" --model claude-mock \
		--tool-cmd 'jq -c "{cancelled: .arguments.order_id}"' one.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.messages[] | .role]' <<<"$output")" = '["user","assistant","tool","assistant"]' ]
	local id
	id=$(jq -r '.messages[1].tool_calls[0].id' <<<"$output")
	[[ $id == toolu_* ]]
	[ "$(jq -r '.messages[1].tool_calls[0].function.arguments' <<<"$output")" = '{"order_id":"A1001"}' ]
	[ "$(head -n 1 "$MOCK_LOG" | jq -c '.body.tools[0] | [.name, .input_schema.required]')" = '["cancel_order",["order_id"]]' ]
	local last; last=$(tail -n 1 "$MOCK_LOG")
	[ "$(jq -c '.body.messages[1].content[0] | [.type, .id, .name, .input]' <<<"$last")" = \
		"[\"tool_use\",\"$id\",\"cancel_order\",{\"order_id\":\"A1001\"}]" ]
	[ "$(jq -c '.body.messages[2] | [.role, .content[0].type, .content[0].tool_use_id, .content[0].content]' <<<"$last")" = \
		"[\"user\",\"tool_result\",\"$id\",\"{\\\"cancelled\\\":\\\"A1001\\\"}\"]" ]
	[ "$(jq -r '.status' "$MOCK_LOG" | sort -u)" = 200 ]
}

@test "ollama: the call's arguments an object, its result naming the tool, ids given where Ollama gives none" {
	mock_start
	run assistant --provider ollama --base-url "$MOCK_URL" --model llama-mock \
		--tool-cmd 'jq -c "{cancelled: .arguments.order_id}"' one.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.messages[] | .role]' <<<"$output")" = '["user","assistant","tool","assistant"]' ]
	[ "$(jq -r '.messages[1].tool_calls[0].id' <<<"$output")" = call_1 ]
	[ "$(jq -r '.messages[2].tool_call_id' <<<"$output")" = call_1 ]
	local last; last=$(tail -n 1 "$MOCK_LOG")
	[ "$(jq -r .path <<<"$last")" = /api/chat ]
	[ "$(jq -c '.body.tools[0].function.name' <<<"$last")" = '"cancel_order"' ]
	[ "$(jq -c '.body.messages[-2].tool_calls[0].function' <<<"$last")" = '{"name":"cancel_order","arguments":{"order_id":"A1001"}}' ]
	[ "$(jq -c '.body.messages[-1] | [.role, .tool_name]' <<<"$last")" = '["tool","cancel_order"]' ]
}

@test "--tool-cmd gets the call, the record and the state; the state it prints is kept, and the judge checks it" {
	mock_start --answers <(echo '{"match": "is_complete", "answer": {"is_complete": true, "reason": "goal_achieved", "rationale": "Cancelled."}}')
	for want in cancelled shipped; do
		echo "{\"id\":\"$want\",\"task\":{\"goal\":\"cancel A1001\",\"checks\":[{\"path\":\"orders.A1001.status\",\"equals\":\"$want\"}]},\"messages\":[{\"role\":\"user\",\"content\":\"cancel A1001 please\"}]}"
	done >tasks.jsonl
	assistant --tool-state state.json --tool-cmd 'tee -a calls.jsonl | sh cancel.sh' tasks.jsonl >turned.jsonl
	# what the command got
	[ "$(jq -c '[.name, .arguments, .record.id, .state, (.id | length > 0)]' calls.jsonl | sort)" = \
		"$(printf '%s\n' '["cancel_order",{"order_id":"A1001"},"cancelled",{"orders":{"A1001":{"status":"processing"}}},true]' \
			'["cancel_order",{"order_id":"A1001"},"shipped",{"orders":{"A1001":{"status":"processing"}}},true]')" ]
	# the record: the result, and the state as the command left it
	[ "$(jq -r '.messages[2].content' turned.jsonl | sort -u)" = '{"ok":true,"order":"A1001"}' ]
	[ "$(jq -c .tool_state turned.jsonl | sort -u)" = '{"orders":{"A1001":{"status":"cancelled"}}}' ]
	# the file itself is not changed
	[ "$(jq -c . state.json)" = '{"orders":{"A1001":{"status":"processing"}}}' ]
	scg-judge -q turned.jsonl >judged.jsonl
	[ "$(jq -c '[.id, .stop.reason, .stop.outcome]' judged.jsonl)" = "$(printf '%s\n' '["cancelled","goal_achieved","met"]' '["shipped","goal_achieved","not_met"]')" ]
	[ "$(jq -c 'select(.id == "shipped") | .stop.failed' judged.jsonl)" = '["orders.A1001.status is cancelled, not shipped"]' ]
	# the judge saw the call and its result, and was told to go by them
	[[ "$(tail -n 1 "$MOCK_LOG" | jq -r '.body.messages[0].content')" == *"Where the assistant called tools, judge by what the calls and their results show"* ]]
	[[ "$(jq -r '.body.messages[1].content' "$MOCK_LOG" | tail -n 20)" == *'Assistant calls cancel_order with {"order_id":"A1001"}'*'Result of cancel_order: {"ok":true,"order":"A1001"}'* ]]
	# a state the record already has is the one the command gets
	jq -c '.messages |= .[:1] | .tool_state.orders.A1001.status = "on hold"' turned.jsonl | head -n 1 |
		assistant --tool-state state.json --tool-cmd 'tee again.jsonl | sh cancel.sh' >/dev/null
	[ "$(jq -r .state.orders.A1001.status again.jsonl)" = "on hold" ]
}

@test "the judge asks for the outcome when the task says what should be true and no state can tell" {
	mock_start --answers <(echo '{"match": "outcome", "answer": {"is_complete": true, "reason": "goal_achieved", "rationale": "Done.", "outcome": "met"}}')
	echo '{"id":"t","task":{"goal":"cancel A1001","outcome":"A1001 is cancelled"},"messages":[{"role":"user","content":"cancel A1001"},{"role":"assistant","content":"Done, it is cancelled."}]}' |
		scg-judge -q >judged.jsonl
	[ "$(jq -c '[.stop.reason, .stop.outcome]' judged.jsonl)" = '["goal_achieved","met"]' ]
	[[ "$(jq -r '.body.messages[1].content' "$MOCK_LOG")" == *"What should be true once it is done: A1001 is cancelled"* ]]
	[ "$(jq -c '.body.response_format.json_schema.schema.required' "$MOCK_LOG")" = '["is_complete","reason","rationale","outcome"]' ]
}

@test "--tool-sim: a model plays the tool, the same on a second run from the cache, and again for another seed" {
	mock_start
	assistant --tool-sim --tool-state state.json one.jsonl >first.jsonl
	[ "$(mock_requests)" -eq 3 ]
	# the simulator saw the tool, the data, the conversation and the call
	local sim; sim=$(sed -n 2p "$MOCK_LOG")
	[[ "$(jq -r '.body.messages[0].content' <<<"$sim")" == *"software tool"* ]]
	[[ "$(jq -r '.body.messages[1].content' <<<"$sim")" == *"The tool: cancel_order"*'{"orders":{"A1001":{"status":"processing"}}}'*"please cancel my order A1001"*'with the arguments {"order_id":"A1001"}'* ]]
	[ "$(jq -r .body.temperature <<<"$sim")" = 0 ]
	local result; result=$(jq -r '.messages[2].content' first.jsonl)
	[ -n "$result" ] && [ "$result" != "(no output)" ]
	assistant --tool-sim --tool-state state.json one.jsonl >second.jsonl
	[ "$(mock_requests)" -eq 3 ]
	cmp first.jsonl second.jsonl
	assistant --tool-sim --tool-state state.json --seed 7 one.jsonl >seven.jsonl
	[ "$(mock_requests)" -eq 6 ]
	[ "$(jq -r '.messages[2].content' seven.jsonl)" != "$result" ]
	# --tool-model names the simulator's model
	assistant --tool-sim --tool-model sim-9 --no-cache one.jsonl >/dev/null
	[ "$(tail -n 2 "$MOCK_LOG" | jq -r .body.model | tr '\n' ' ')" = "sim-9 mock-1 " ]
}

@test "malformed calls get an error result the model corrects, and are counted" {
	mock_start --tool-errors 0.5
	for i in $(seq 1 12); do echo "{\"id\":\"r$i\",\"messages\":[{\"role\":\"user\",\"content\":\"cancel A1001 (case $i)\"}]}"; done >many.jsonl
	assistant --tool-cmd 'jq -c "{ok: true}"' --max-tool-errors 10 many.jsonl >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 12 ]
	# some calls were malformed, each conversation still ends in an answer
	# after its one good call, and the counts add up
	[ "$(jq -s 'map(.meta.tool_calls.malformed) | add' out.jsonl)" -gt 0 ]
	[ "$(jq -r '.meta.tool_calls.calls' out.jsonl | sort -u)" = 1 ]
	[ "$(jq -r '.messages[-1].role' out.jsonl | sort -u)" = assistant ]
	[ -z "$(jq -c 'select(.meta.tool_calls.rounds != .meta.tool_calls.malformed + 1)' out.jsonl)" ]
	# each kind of mistake, answered as an error the model can act on
	jq -r '.messages[] | select(.role == "tool") | .content' out.jsonl | grep '"error"' >errors.txt
	grep -q "there is no tool named 'cancel_order_v2'; the tools are cancel_order" errors.txt
	grep -q 'the arguments of cancel_order do not fit its parameters: \$: missing field \\"order_id\\"' errors.txt
	grep -q 'the arguments of cancel_order are not valid JSON' errors.txt
	# and the providers' form of an error: Anthropic's is_error
	: >"$MOCK_LOG"
	assistant --provider anthropic --base-url "$MOCK_URL" --model claude-mock --max-tool-errors 10 \
		--tool-cmd 'jq -c "{ok: true}"' many.jsonl >/dev/null
	[ "$(jq -c '.body.messages[] | select(.role == "user") | .content | arrays | .[] | select(.type == "tool_result") | .is_error' "$MOCK_LOG" | grep -c '^true$')" -gt 0 ]
}

@test "past --max-tool-errors or --max-tool-rounds the conversation stops, and says why" {
	mock_start --tool-errors 1
	run assistant --tool-cmd 'jq -c "{ok: true}"' --max-tool-errors 2 one.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.done, .stop.reason, .stop.by, .meta.tool_calls.malformed]' <<<"$output")" = '[true,"tool_errors","limit",3]' ]
	[[ "$(jq -r .stop.rationale <<<"$output")" == *"more than --max-tool-errors 2"* ]]
	run assistant --tool-cmd 'jq -c "{ok: true}"' --max-tool-errors 100 --max-tool-rounds 2 one.jsonl
	[ "$(jq -c '[.done, .stop.reason, .stop.by, .meta.tool_calls.rounds]' <<<"$output")" = '[true,"tool_limit","limit",2]' ]
	# every call in the record has its answer; the one past the limit is not there
	[ "$(jq '[.messages[] | select(.tool_calls)] | length' <<<"$output")" -eq 2 ]
	[ "$(jq '[.messages[] | select(.role == "tool")] | length' <<<"$output")" -eq 2 ]
	# a stopped conversation is left alone by the next turn
	run scg-turn -q <<<"$output"
	[ "$(jq -c .stop.reason <<<"$output")" = '"tool_limit"' ]
}

@test "a tool command that fails, hangs or prints no result and state sends its record to the rejects" {
	mock_start
	echo '{"id":"c2","messages":[{"role":"user","content":"cancel it"}]}' >>one.jsonl
	run bash -c 'scg-turn -q --side assistant --tools tools.yaml --retries 1 --rejects rej.jsonl \
		--tool-cmd "id=\$(jq -r .record.id); [ \$id != c2 ] || exit 5; echo ok" one.jsonl'
	[ "$status" -eq 1 ]
	[ "$(jq -r .id <<<"$output")" = c1 ]
	[ "$(jq -r .id rej.jsonl)" = c2 ]
	[[ "$(jq -r .error.reason rej.jsonl)" == "--tool-cmd: "*"exit"*"5"* ]]
	local t0=$SECONDS
	run bash -c 'scg-turn -q --side assistant --tools tools.yaml --retries 0 --timeout 0.5 --rejects rej2.jsonl \
		--tool-cmd "sleep 30; echo late" one.jsonl'
	[ "$status" -eq 1 ]
	[ $((SECONDS - t0)) -lt 20 ]
	[[ "$(jq -r .error.reason rej2.jsonl | head -n 1)" == *"no answer within 0.5s"* ]]
	! pgrep -f "sleep 30; echo late" >/dev/null
	run bash -c 'scg-turn -q --side assistant --tools tools.yaml --tool-state state.json --rejects rej3.jsonl \
		--tool-cmd "echo done" one.jsonl'
	[ "$status" -eq 1 ]
	[[ "$(jq -r .error.reason rej3.jsonl | head -n 1)" == '--tool-cmd: with --tool-state the command prints {"result": ..., "state": ...}; it printed no JSON' ]]
}

@test "tool definitions are checked when they are loaded: the file, the line and the tool are named" {
	printf -- '- type: function\n  function:\n    name: ok_tool\n- type: function\n  function:\n    name: bad name\n' >t1.yaml
	run scg-turn --tools t1.yaml --tool-sim --model m </dev/null
	[ "$status" -eq 2 ]
	[ "$output" = "scg-turn: t1.yaml:4: tool 2 (bad name): a name is 1 to 64 letters, digits, _ or -" ]
	printf '{"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"id": {"type": "string", "pattern": "^A"}}}}}]}\n' >t2.json
	run scg-turn --tools t2.json --tool-sim --model m </dev/null
	[ "$status" -eq 2 ]
	[ "$output" = "scg-turn: t2.json:1: tool 1 (f): parameters: properties.id.pattern: not in the JSON Schema subset scg checks" ]
	printf -- '- type: function\n  function: {name: f}\n- type: function\n  function: {name: f}\n' >t3.yaml
	run scg-turn --tools t3.yaml --tool-sim --model m </dev/null
	[ "$output" = "scg-turn: t3.yaml:3: tool 2 (f): the name of tool 1 again" ]
	printf -- '- {name: f, parameters: {}}\n' >t4.yaml
	run scg-turn --tools t4.yaml --tool-sim --model m </dev/null
	[[ "$output" == "scg-turn: t4.yaml:1: tool 1: not {type: function, function: {name, description, parameters}}" ]]
	printf -- '- type: function\n  function: {name: f, parameters: {type: string}}\n' >t5.yaml
	run scg-turn --tools t5.yaml --tool-sim --model m </dev/null
	[[ "$output" == *"tool 1 (f): parameters: expected a schema of type object" ]]
	echo '[]' >t6.json
	run scg-turn --tools t6.json --tool-sim --model m </dev/null
	[[ "$output" == "scg-turn: t6.json: expected a list of tools"* ]]
	# the shop's tools load
	run scg-turn --dry-run --tools "$EX/tools.yaml" --tool-sim --model m </dev/null
	[ "$status" -eq 0 ]
}

@test "the tool options go together: --tools with one runner, the runner and --tool-state with --tools" {
	run scg-turn --tools tools.yaml --model m </dev/null
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "scg-turn: --tools needs one of --tool-cmd CMD and --tool-sim to run the calls" ]
	run scg-turn --tools tools.yaml --tool-sim --tool-cmd cat --model m </dev/null
	[ "${lines[0]}" = "scg-turn: --tools needs one of --tool-cmd CMD and --tool-sim to run the calls" ]
	run scg-turn --tool-cmd cat --model m </dev/null
	[ "${lines[0]}" = "scg-turn: --tool-cmd needs --tools FILE" ]
	run scg-turn --tools tools.yaml --tool-cmd cat --endpoint-cmd cat </dev/null
	[ "${lines[0]}" = "scg-turn: --tools is for an assistant that is a model; it does not go with --endpoint-cmd" ]
	run scg-turn --tools tools.yaml --tool-cmd cat --tool-model x --model m </dev/null
	[ "${lines[0]}" = "scg-turn: --tool-model names the model of --tool-sim" ]
}

@test "a dry run shows the first request with its tools" {
	run scg-turn --dry-run --model m --side assistant --tools tools.yaml --tool-cmd cat one.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq -c '.body.tools[0].function.name' <<<"$output")" = '"cancel_order"' ]
	[ "$(jq -r .id <<<"$output")" = c1 ]
}

@test "scg-scenes --kind tasks: k tasks per record that need the tools, with checks when there is a state" {
	mock_start
	echo '{"id":"p1","persona":{"name":"Ann","description":"A shopper."}}' >p.jsonl
	scg-scenes -q --kind tasks --tools "$EX/tools.yaml" --tool-state "$EX/state.json" -k 3 p.jsonl >tasks.jsonl
	[ "$(jq -r .id tasks.jsonl | tr '\n' ' ')" = "p1.g1 p1.g2 p1.g3 " ]
	[ "$(jq -c '.task | keys_unsorted' tasks.jsonl | sort -u)" = '["goal","facts","outcome","checks"]' ]
	[ "$(jq -c '.task.checks[0] | keys_unsorted' tasks.jsonl | sort -u)" = '["path","equals"]' ]
	[ "$(jq -r .persona.name tasks.jsonl | sort -u)" = Ann ]
	local prompt; prompt=$(jq -r '.body.messages[1].content' "$MOCK_LOG")
	[[ "$prompt" == *'"name":"update_address"'* ]]
	[[ "$prompt" == *'"A1003"'*'"status":"processing"'* ]]
	[[ "$prompt" == *"The user who brings the tasks: Ann."* ]]
	# the usage of the request goes with the first task only
	[ "$(jq -c '.meta.usage | length' tasks.jsonl | tr '\n' ' ')" = "1 0 0 " ]
	# without a state, no checks
	scg-scenes -q --kind tasks --tools "$EX/tools.yaml" -k 1 p.jsonl >plain.jsonl
	[ "$(jq -c '.task | keys_unsorted' plain.jsonl)" = '["goal","facts","outcome"]' ]
	run scg-scenes --kind tasks -k 1 p.jsonl
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "scg-scenes: --kind tasks needs --tools FILE" ]
	# the user simulator is given its task
	scg-turn -q --side user plain.jsonl >/dev/null
	[[ "$(tail -n 1 "$MOCK_LOG" | jq -r '.body.messages[0].content')" == *"What you want to get done: $(jq -r .task.goal plain.jsonl)"* ]]
}

@test "scg-show shows the calls, the tool of each result, the task, the outcome and the state" {
	mock_start --answers <(echo '{"match": "is_complete", "answer": {"is_complete": true, "reason": "goal_achieved", "rationale": "Cancelled."}}')
	echo '{"id":"t1","task":{"goal":"cancel A1001","outcome":"A1001 is cancelled","checks":[{"path":"orders.A1001.status","equals":"cancelled"}]},"messages":[{"role":"user","content":"cancel A1001"}]}' |
		assistant --tool-state state.json --tool-cmd 'sh cancel.sh' | scg-judge -q >judged.jsonl
	run scg-show -w 100 --color never judged.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"task: cancel A1001 → A1001 is cancelled"* ]]
	[[ "$output" == *"stop: goal_achieved by judge at turn 1, outcome met — Cancelled."* ]]
	[[ "$output" == *'tool state: {"orders":{"A1001":{"status":"cancelled"}}}'* ]]
	[[ "$output" == *$'assistant\n  → cancel_order {"order_id":"A1001"}'* ]]
	[[ "$output" == *$'tool cancel_order\n  {"ok":true,"order":"A1001"}'* ]]
}
