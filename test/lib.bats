#!/usr/bin/env bats
# The library alone, case by case: test/lib/NAME.test files run by
# test/libtest.c (the file format and the kinds of case are described
# there; `libtest --kinds` lists the kinds). Adding a case is adding a few
# lines to a .test file; a new file gets a @test below.

load helper

LIB_CASES=$BATS_TEST_DIRNAME/lib
libtest() { "$SCG_BIN/../test/libtest" "$@"; }

@test "templates render values, report a missing one and never expand inserted text" {
	libtest "$LIB_CASES/tmpl.test"
}

@test "conversation helpers: last role, user turns and the transcript" {
	libtest "$LIB_CASES/conv.test"
}

@test "the JSON reader reads good input and names the column of bad input" {
	libtest "$LIB_CASES/json.test"
}

@test "an OpenAI body is the same bytes whether written straight or through jansson values" {
	libtest "$LIB_CASES/llm.test"
}

@test "an input line is read as a record or refused with the reason" {
	libtest "$LIB_CASES/record.test"
}

@test "random draws are fixed by seed, record id, program and purpose" {
	libtest "$LIB_CASES/rng.test"
}

@test "the cut at a section title finds it in every heading form, any case" {
	libtest "$LIB_CASES/chunk.test"
}

@test "a MediaWiki answer gives the page, or says why there is none; headings are found" {
	libtest "$LIB_CASES/wiki.test"
}

@test "every test/lib file has its test here" {
	local f
	for f in "$LIB_CASES"/*.test; do
		grep -q "\"\$LIB_CASES/${f##*/}\"" "$BATS_TEST_FILENAME" || { echo "no test runs $f"; return 1; }
	done
}

@test "a case whose output differs fails with its file and line, and the others still run" {
	printf '%s\n' '# two cases' 'render {"a": 1}' '"{{a}}"' '"2"' '' \
		'last-role' '[{"role": "user", "content": "x"}]' '"user"' >cases.test
	run libtest cases.test
	[ "$status" -eq 1 ]
	[[ "$output" == *"cases.test:2: render: the output differs"* ]]
	[[ "$output" == *"cases.test: 2 cases, 1 failed"* ]]
}

@test "a malformed case or an empty file is a failure, not a pass" {
	printf '%s\n' 'no-such-kind' '1' '2' >bad.test
	run libtest bad.test
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad.test:1: unknown kind 'no-such-kind'"* ]]
	: >empty.test
	run libtest empty.test
	[ "$status" -eq 1 ]
	[[ "$output" == *"empty.test: no cases"* ]]
}
