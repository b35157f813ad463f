#!/usr/bin/env bats
# Coming from the original tools (scg(7)): each tool's own input files, laid
# out as its README describes them (test/fixtures/originals), run through
# scg unchanged, against scg-mock.

load helper
bats_require_minimum_version 1.5.0

O=$FIXTURES/originals

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

# ---- 1. simulate: persona_generator.py and conversation_generator.py -------

@test "simulate: the assistant, personas and endpoint files of the conversation generator run unchanged" {
	mock_start
	export SCG_MOCK_PORT=$MOCK_PORT TAILOR_API_KEY=sk-tailor-secret
	local d=$O/simulate/data
	# persona_generator.py --assistant-path --num-personas --output-path --previous-personas-path
	scg-personas -q -a "$d/assistants/tailor.yaml" -n 2 --previous "$d/conversation_characters/tailor_personas.yaml" \
		--format yaml >new_personas.yaml
	[ "$(scg-personas -q --from new_personas.yaml | wc -l)" -eq 2 ]
	# the earlier personas were shown so that the new ones differ
	grep -q 'cyclist with torn jeans, wants a cheap patch' "$MOCK_LOG"
	# conversation_generator.py --assistant-path --conversation-characters-path
	#   --inference-endpoint-path --max-conversation-turns 3
	simulate -a "$d/assistants/tailor.yaml" -p "$d/conversation_characters/tailor_personas.yaml" \
		-e "$d/endpoint/local_chat_completion.yaml" -t 3 --rejects rej.jsonl >conversations.jsonl
	[ "$(wc -l <conversations.jsonl)" -eq 3 ]
	[ ! -s rej.jsonl ]
	[ "$(jq -r .persona.name conversations.jsonl | sort | tr '\n' ' ')" = "Jonas Berg Mei Lin Ruth Adeyemi " ]
	[ "$(jq -r .assistant.name conversations.jsonl | sort -u)" = "Tailor Tess" ]
	jq -e '.done and (.stop.reason | length > 0) and ([.messages[] | select(.role == "user")] | length) <= 3' \
		conversations.jsonl >/dev/null
	# the endpoint got its own body, headers from the environment and the conversation
	[ "$(jq -s 'map(select(.body.model == "tailor-bot")) | length' "$MOCK_LOG")" -ge 3 ]
	! grep -rq sk-tailor-secret conversations.jsonl rej.jsonl
}

@test "simulate: a personas file with an assistant: block needs no -a" {
	mock_start
	export SCG_MOCK_PORT=$MOCK_PORT TAILOR_API_KEY=k
	local d=$O/simulate/data
	simulate -p "$d/conversation_characters/tailor_personas_with_assistant.yaml" -n 2 \
		-e "$d/endpoint/local_chat_completion.yaml" -t 2 >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 2 ]
	[ "$(jq -r .assistant.name out.jsonl | sort -u)" = "Tailor Tess" ]
	# the simulated user is told who it talks to
	jq -r 'select(.body.model == "mock-1") | .body.messages[0].content' "$MOCK_LOG" |
		grep -q 'The assistant you are talking to: Tailor Tess. Tailor Tess helps people alter'
	# -a still wins over the block
	printf 'name: Other\ndescription: Another assistant.\n' >other.yaml
	simulate -p "$d/conversation_characters/tailor_personas_with_assistant.yaml" -n 1 -a other.yaml \
		-e "$d/endpoint/local_chat_completion.yaml" -t 1 >other.jsonl
	[ "$(jq -r .assistant.name other.jsonl)" = Other ]
	# a block without a description is named
	printf 'assistant:\n  name: X\nusers:\n  - {name: A, description: B}\n' >bad.yaml
	run scg-personas --from bad.yaml
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.yaml: an assistant card needs the strings name and description"* ]]
}

# ---- 2. seed messages: ConvoGen's experiment folder ----------------------

@test "seed-messages: an experiment folder loads as it is; --layout original writes conv and restyled_conv files" {
	mock_start
	cp -R "$O/convogen/datasets" datasets
	local x=datasets/inst-templates/expt1
	# the experiment names its model when nothing else does
	unset SCG_MODEL
	seed-messages -q -s datasets/seeds.txt --experiment "$x" --layout original -t 2 >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 4 ]
	# only the pairs expt-setup.json allows, their texts from the folders
	[ -z "$(jq -r '.persona.axes | "\(.motivation)/\(.disposition)"' out.jsonl |
		grep -v -x -e helping/friendly -e helping/reserved -e doubt/ironic)" ]
	jq -r 'select(.persona.axes.disposition == "ironic") | .persona.description' out.jsonl |
		grep -q 'Dry and mocking; you answer with irony.'
	# the experiment's llm is the model
	[ "$(jq -r .body.model "$MOCK_LOG" | sort -u)" = mistralai/Mistral-7B-Instruct-v0.2 ]
	# one file per conversation in the original's folders, under its keys
	[ "$(ls "$x/conversations" | wc -l)" -eq 4 ]
	[ "$(ls "$x/restyled-conversations")" = "$(ls "$x/conversations")" ]
	local f=$x/conversations/s0001.json r=$x/restyled-conversations/s0001.json
	[ "$(jq -c 'keys_unsorted' "$f")" = '["tweet_id","disposition","motivation","tweet","conv","messages"]' ]
	[ "$(jq -c 'keys_unsorted' "$r")" = '["tweet_id","restyled_conv","messages"]' ]
	local rec; rec=$(head -n 1 out.jsonl)
	[ "$(jq -r .tweet "$f")" = "$(head -n 1 datasets/seeds.txt)" ]
	[ "$(jq -r .tweet_id "$f")" = s0001 ]
	[ "$(jq -r .motivation "$f")" = "$(jq -r .persona.axes.motivation <<<"$rec")" ]
	[ "$(jq -r .conv "$f")" = "$(jq -r '[.original_messages[] | select(.role != "system")
		| "\(if .role == "user" then "User" else "Assistant" end): \(.content)"] | join("\n")' <<<"$rec")" ]
	[[ "$(jq -r .restyled_conv "$r")" == "User: $(jq -r '[.messages[] | select(.role == "user")][0].content' <<<"$rec")"* ]]
	# --model (or $SCG_MODEL) wins over the experiment's llm; -o writes elsewhere
	: >"$MOCK_LOG"
	seed-messages -q -s datasets/seeds.txt --experiment "$x" --layout original -o elsewhere --style none -- --model m2 >/dev/null
	[ "$(jq -r .body.model "$MOCK_LOG" | sort -u)" = m2 ]
	[ "$(ls elsewhere/conversations | wc -l)" -eq 4 ]
	[ ! -e elsewhere/restyled-conversations ]
}

@test "seed-messages: a later experiment whose setup points at an earlier one's files; the folders alone" {
	cp -R "$O/convogen/datasets" datasets
	seeds() { for i in 1 2 3; do echo "{\"id\":\"s$i\"}"; done; }
	seeds | scg-personas -q --axes datasets/inst-templates/expt1_1 --cross >x.jsonl
	[ "$(jq -r '.persona.name' x.jsonl | sort -u | tr '\n' ' ')" = "chatting/friendly chatting/ironic " ]
	grep -q 'You mostly want company' x.jsonl
	# without expt-setup.json: every motivation with every disposition
	mkdir -p bare && cp -R datasets/inst-templates/expt1/motivations bare/ && cp -R datasets/inst-templates/expt1/dispositions bare/disposition
	[ "$(echo '{"id":"a"}' | scg-personas -q --axes bare --cross | wc -l)" -eq 9 ]
	# a setup naming a file that is nowhere: the entry and the places tried
	mkdir broken && jq '.user_profiles[0].path = "../x/motivations/gone.txt"' \
		datasets/inst-templates/expt1/expt-setup.json >broken/expt-setup.json
	run scg-personas --axes broken --cross </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"broken/expt-setup.json: user_profiles[0] (helping): no such file (tried ../x/motivations/gone.txt"* ]]
	mkdir empty
	run scg-personas --axes empty </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"empty: an experiment folder needs expt-setup.json, or the folders motivations/ and disposition/"* ]]
}

# ---- 3. knowledge: the data generator's project folder --------------------

@test "knowledge: a project folder runs as it is: strategy, parameter ranges, templates, examples, injections, output format, iterations" {
	mock_start
	cp -R "$O/knowledge/projects" projects
	local p=projects/velo
	run --separate-stderr knowledge --project "$p" --iterations 7 -t 3
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"prompting/system-prompt.txt is not used"* ]]
	# the original's set-up names PDFs too: a warning, not an error
	[[ "$stderr" == *"'rentals/handbook.pdf' names no file that was chunked"* ]]
	local out; out=$(ls -d "$p"/generated/*.jsonl)
	out=${out%.jsonl}
	[[ "$(basename "$out")" =~ ^[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}h[0-9]{2}m[0-9]{2}s$ ]]
	[ -s "$out.csv" ]
	# 7 conversations in all, spread over the chunks
	[ "$(($(wc -l <"$out.jsonl") + $(wc -l <"$out.d/duplicates.jsonl")))" -eq 7 ]
	# brakes.md is chunked at 40 words, its own strategy
	[ "$(jq -s 'map(select(.source.file == "repairs/brakes.md")) | length' "$out.d/chunks.jsonl")" -gt 1 ]
	# the ranges of generation-paramters.json are drawn, sent and recorded
	jq -e '.meta.params | .temperature >= 0.4 and .temperature <= 0.9 and .top_p >= 0.8
		and (.top_k | IN(20, 40, 60))' "$out.jsonl" >/dev/null
	jq -e 'select(.body.response_format.json_schema.name == "script") | .body.max_tokens == 700' "$MOCK_LOG" >/dev/null
	# templates.txt: one template a block; injections: one value a line
	[ "$(jq -r .meta.template "$out.jsonl" | sort -u | grep -c '^t[123]$')" -ge 2 ]
	jq -e '.meta.injections | (.customer | length > 0) and (.tone | IN("curt", "polite", "chatty"))' "$out.jsonl" >/dev/null
	grep -q 'The customer starts annoyed about a cost' "$MOCK_LOG"
	# examples.txt reaches the prompt as written
	grep -q 'Example 2:\\nUser: can I keep the rental bike over the weekend?' "$MOCK_LOG"
	# output-format.json shapes the JSON output
	[ "$(jq length "$out.json")" -eq "$(wc -l <"$out.jsonl")" ]
	[ "$(jq -c '.[0] | keys_unsorted' "$out.json")" = '["conversation_id","topic","document","template","temperature","exchanges"]' ]
	[ "$(jq -c '[.[] | .exchanges]' "$out.json")" = "$(jq -s -c 'map(.messages)' "$out.jsonl")" ]
}

@test "knowledge: top_k of the parameters file reaches an OpenAI-compatible server with --extra-body, never by default" {
	mock_start
	cp -R "$O/knowledge/projects" projects
	knowledge --project projects/velo -n 1 -t 2 -o plain 2>/dev/null
	[ "$(jq -s 'map(select(.body.top_k)) | length' "$MOCK_LOG")" -eq 0 ]
	: >"$MOCK_LOG"
	knowledge --project projects/velo -n 1 -t 2 -o extra -- --extra-body '{}' 2>/dev/null
	[ "$(jq -r 'select(.body.response_format.json_schema.name == "script") | .body.top_k' "$MOCK_LOG" | sort -u | tr '\n' ' ')" != "" ]
	jq -e 'select(.body.response_format.json_schema.name == "script") | .body.top_k | IN(20, 40, 60)' "$MOCK_LOG" >/dev/null
}

# ---- 4. character: the role-play data generator ---------------------------

@test "character: a name and a profile file of one paragraph a line; pairs by default, compliant as the original's" {
	mock_start
	run --separate-stderr character -q -n Hypatia -p "$O/character/hypatia_wiki.txt" -k 1 -t 2 -o characters/hypatia
	[ "$status" -eq 0 ]
	local d=characters/hypatia
	[ "$(jq -c '[.name, .aliases]' "$d/card.json")" = '["Hypatia",[]]' ]
	# the paragraphs up to Legacy
	[ "$(wc -l <"$d/paragraphs.jsonl")" -eq 7 ]
	! grep -q 'symbol of reason' "$d/scenes.jsonl"
	# scenes and dialogues; protective dialogues from the adversarial set-ups
	[ "$(jq -r .kind "$d/sft.jsonl" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" = "dialogue=7 protective=7 " ]
	# DPO pairs with no flag: chosen in character, rejected a compliant answer
	[ "$(wc -l <"$d/dpo.jsonl")" -eq 14 ]
	jq -e '(.prompt[-1].role == "user") and (.chosen[0].content | length > 0) and (.rejected[0].content | length > 0)' "$d/dpo.jsonl" >/dev/null
	[ "$(jq -r '.body.messages[0].content' "$MOCK_LOG" | grep -c 'as a present-day AI assistant would')" -eq 14 ]
	[ ! -s "$d/rejects.jsonl" ]
}

@test "character: from the name alone, the Wikipedia article as the original fetched it" {
	mock_start
	wiki_start
	character -q -n Socrates -k 1 -t 2 --dpo 1 -o characters/socrates 2>/dev/null
	[ "$(jq -r .source.file characters/socrates/paragraphs.jsonl | sort -u)" = Socrates ]
	[ -s characters/socrates/sft.jsonl ]
	[ "$(wc -l <characters/socrates/dpo.jsonl)" -eq "$(wc -l <characters/socrates/paragraphs.jsonl)" ]
}
