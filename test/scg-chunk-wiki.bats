#!/usr/bin/env bats
# scg-chunk --wikipedia: an article through the MediaWiki API, against the
# fake of test/fake-wiki.py (articles in test/fixtures/wiki).

bats_require_minimum_version 1.5.0
load helper

@test "--wikipedia TITLE writes a record a paragraph; headings name the section and are no record" {
	wiki_start
	run --separate-stderr scg-chunk --wikipedia Socrates
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 8 ]
	[ "$(printf '%s\n' "$output" | jq -r .id | tr '\n' ' ')" = \
	  "Socrates#0 Socrates#1 Socrates#2 Socrates#3 Socrates#4 Socrates#5 Socrates#6 Socrates#7 " ]
	[ "$(printf '%s\n' "$output" | jq -r '.source.section // "(lead)"' | uniq | tr '\n' '/')" = \
	  "(lead)/Life/Trial and death/Philosophy/Legacy/" ]
	[ "$(printf '%s\n' "$output" | sed -n 1p | jq -c '.source | [.file, .topic, .chunk, has("section")]')" = \
	  '["Socrates","wikipedia",0,false]' ]
	[ "$(printf '%s\n' "$output" | sed -n 4p | jq -r .source.text)" = \
	  "He married Xanthippe, with whom he had three sons." ]
	[[ "$output" != *"=="* ]]
	# the query asks for plain text with wiki headings and resolves redirects
	grep -q '^/en/w/api.php?action=query&format=json&formatversion=2&prop=extracts%7cpageprops&.*explaintext=1&exsectionformat=wiki&redirects=1&titles=Socrates$' "$WIKI_LOG"
}

@test "a redirected or lower-case title gives the article it leads to, and says so" {
	wiki_start
	run --separate-stderr scg-chunk --wikipedia Sokrates
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -r .source.file | sort -u)" = Socrates ]
	[ "$(printf '%s\n' "$output" | head -n 1 | jq -r .id)" = "Socrates#0" ]
	[ "$stderr" = "scg-chunk: Sokrates: redirected to Socrates" ]
	run -0 scg-chunk -q --wikipedia socrates
	[ "${#lines[@]}" -eq 8 ]
}

@test "--cut-at Legacy drops the Legacy section and all after it, in any case" {
	wiki_start
	run -0 scg-chunk --wikipedia Socrates --cut-at Legacy
	[ "${#lines[@]}" -eq 6 ]
	[[ "$output" != *forerunner* ]]
	[ "$(printf '%s\n' "$output" | tail -n 1 | jq -r .source.section)" = Philosophy ]
	run -0 scg-chunk --wikipedia Socrates --cut-at '== LEGACY =='
	[ "${#lines[@]}" -eq 6 ]
	run -0 scg-chunk --wikipedia Socrates --cut-at 'Trial and death[edit]'
	[ "${#lines[@]}" -eq 4 ]
}

@test "a rerun is answered from the cache; --no-cache asks again" {
	wiki_start
	run -0 scg-chunk -q --wikipedia Socrates
	local first=$output
	[ "$(wiki_requests)" -eq 1 ]
	run -0 scg-chunk -q --wikipedia Socrates --cut-at Legacy
	[ "$(wiki_requests)" -eq 1 ]
	run -0 scg-chunk -q --wikipedia Socrates
	[ "$output" = "$first" ]
	[ "$(wiki_requests)" -eq 1 ]
	run -0 scg-chunk -q --wikipedia Socrates --no-cache
	[ "$output" = "$first" ]
	[ "$(wiki_requests)" -eq 2 ]
	# another language is another page
	run -0 scg-chunk -q --wikipedia Socrates --wiki-lang de
	[ "$(wiki_requests)" -eq 3 ]
	[ "$(tail -n 1 "$WIKI_LOG" | cut -d '?' -f 1)" = /de/w/api.php ]
}

@test "a missing page is an error naming the program and the title, exit 2, nothing written" {
	wiki_start
	run --separate-stderr scg-chunk --wikipedia Socrates --wikipedia 'Nobody Atall'
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == "scg-chunk: Nobody Atall: http://127.0.0.1:"*"/en/w/api.php: no such page" ]]
	# a miss is not cached
	run -2 scg-chunk --wikipedia 'Nobody Atall'
	[ "$(grep -c 'titles=Nobody+Atall$' "$WIKI_LOG")" -eq 2 ]
	run -2 --separate-stderr scg-chunk --wikipedia Mercury
	[[ "$stderr" == "scg-chunk: Mercury: "*": a disambiguation page; name one of the articles it lists" ]]
	run -2 --separate-stderr scg-chunk --wikipedia Broken
	[[ "$stderr" == "scg-chunk: Broken: "*": HTTP 500" ]]
	run -2 --separate-stderr scg-chunk --wikipedia 'A|B'
	[[ "$stderr" == *"'A|B': not a valid title"* ]]
}

@test "a network failure, an answer over the size cap or past --timeout is an error, not a hang" {
	wiki_start
	run -2 --separate-stderr scg-chunk --wikipedia Huge
	[[ "$stderr" == "scg-chunk: Huge: "*": the answer is larger than --max-answer-bytes (4194304 bytes)" ]]
	run -2 --separate-stderr scg-chunk --wikipedia Huge --max-answer-bytes 16M
	[[ "$stderr" == "scg-chunk: Huge: "*": the answer is larger than --max-answer-bytes (16777216 bytes)" ]]
	run -2 --separate-stderr scg-chunk --wikipedia Slow --timeout 1
	[[ "$stderr" == "scg-chunk: Slow: "*": no answer within 1 s" ]]
	SCG_WIKI_URL=http://127.0.0.1:1/w/api.php run -2 --separate-stderr scg-chunk --wikipedia Socrates
	[[ "$stderr" == "scg-chunk: Socrates: http://127.0.0.1:1/w/api.php: "*"onnect"* ]]
}

@test "only http and https wikis; a bad --wiki-lang is a usage error" {
	run -2 --separate-stderr scg-chunk --wikipedia Socrates --wiki-url 'file:///etc/passwd'
	[[ "$stderr" == "scg-chunk: Socrates: file:///etc/passwd: only http and https wikis are read" ]]
	run -2 --separate-stderr scg-chunk --wikipedia Socrates --wiki-lang 'en.evil.example/x'
	[[ "$stderr" == *"--wiki-lang: expected a language code"* ]]
}

@test "a user name and password in the wiki URL are used but never shown or cached" {
	wiki_start
	local url=${SCG_WIKI_URL/http:\/\//http:\/\/wikiuser:s3cr3tpw@}
	run -0 --separate-stderr scg-chunk --wiki-url "$url" --wikipedia Socrates
	run -2 --separate-stderr scg-chunk --wiki-url "$url" --wikipedia Nobody
	[[ "$stderr" == *"no such page"* ]]
	[[ "$stderr$output" != *s3cr3t* ]]
	[[ "$stderr" != *wikiuser* ]]
	[ -n "$(ls -A "$SCG_CACHE")" ]
	! grep -rq -e s3cr3t -e wikiuser "$SCG_CACHE"
}

@test "--wikipedia and files in one run: the article first, then the files" {
	wiki_start
	printf 'One.\nTwo.\n' >notes.txt
	run -0 scg-chunk --wikipedia Socrates --cut-at Legacy --by lines notes.txt
	[ "${#lines[@]}" -eq 8 ]
	[ "$(printf '%s\n' "$output" | tail -n 2 | jq -r .id | tr '\n' ' ')" = "notes.txt#0 notes.txt#1 " ]
}
