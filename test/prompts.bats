#!/usr/bin/env bats
# What the model is told: the record's parts reach the prompts of scg-turn,
# and the model sees the conversation from its own side.

load helper

rec='{"id":"p1","assistant":{"name":"Spoke","description":"The helper of a bike shop that books repairs."},"persona":{"name":"Ada Quill","description":"A courier who rides every day.","personality":"blunt and hurried","scenario":"her rear brake squeals"},"scene":{"setting":"a rainy Monday before work"},"messages":[{"role":"user","content":"my brake squeals"},{"role":"assistant","content":"Which brake, front or rear?"}]}'

@test "--side user: the persona, the assistant and the scene are in the prompt, and the roles are turned round" {
	mock_start
	echo "$rec" | scg-turn -q --side user >out.jsonl
	[ "$(jq -r '.messages[-1].role' out.jsonl)" = user ]
	local sys
	sys=$(jq -r '.body.messages[0].content' "$MOCK_LOG")
	[[ "$sys" == *"Ada Quill"* ]]
	[[ "$sys" == *"blunt and hurried"* ]]
	[[ "$sys" == *"her rear brake squeals"* ]]
	[[ "$sys" == *"Spoke"* ]]
	[[ "$sys" == *"books repairs"* ]]
	[[ "$sys" == *"a rainy Monday before work"* ]]
	# the simulated user's own words come back as the model's (assistant)
	# turns, the assistant's as the other party's (user)
	[ "$(jq -c '[.body.messages[1:][] | [.role, .content]]' "$MOCK_LOG")" = \
	  '[["assistant","my brake squeals"],["user","Which brake, front or rear?"]]' ]
}

@test "--side assistant without an endpoint: a model plays the assistant from its card" {
	mock_start
	echo "$rec" | jq -c '.messages |= .[:1]' | scg-turn -q --side assistant >out.jsonl
	[ "$(jq -r '.messages[-1].role' out.jsonl)" = assistant ]
	local sys
	sys=$(jq -r '.body.messages[0].content' "$MOCK_LOG")
	[[ "$sys" == *"You are Spoke."* ]]
	[[ "$sys" == *"books repairs"* ]]
	# the persona is not the assistant's to know
	[[ "$sys" != *"Ada Quill"* ]]
	[ "$(jq -c '[.body.messages[1:][] | [.role, .content]]' "$MOCK_LOG")" = '[["user","my brake squeals"]]' ]
}
