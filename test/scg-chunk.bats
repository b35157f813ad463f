#!/usr/bin/env bats
# scg-chunk: knowledge files and folders into chunk records.

bats_require_minimum_version 1.5.0
load helper

C=$BATS_TEST_DIRNAME/fixtures/chunk

setup() {
	cd "$C"
}

# texts FILE...: the text of each chunk, one JSON string a line
texts() {
	jq -c '.source.text' "$@"
}

@test "sentences are packed whole into chunks of at most max-words words" {
	run scg-chunk --max-words 8 sentences.txt
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | texts)" = '"One two three. Four five six seven!"
"Eight nine? Ten eleven twelve thirteen fourteen."' ]
}

@test "by default a short file is one chunk of its whole text" {
	run scg-chunk sentences.txt
	[ "$status" -eq 0 ]
	[ "$output" = '{"id":"sentences.txt#0","source":{"file":"sentences.txt","topic":"chunk","chunk":0,"text":"One two three. Four five six seven! Eight nine? Ten eleven twelve thirteen fourteen."}}' ]
}

@test "a sentence longer than max-words is cut at max-words" {
	run scg-chunk --max-words 3 sentences.txt
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | texts)" = '"One two three."
"Four five six"
"seven! Eight nine?"
"Ten eleven twelve"
"thirteen fourteen."' ]
}

@test "each chunk after the first starts with the last overlap words of the one before" {
	run scg-chunk --max-words 8 --overlap 2 sentences.txt
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | texts)" = '"One two three. Four five six seven!"
"six seven! Eight nine?"
"Eight nine? Ten eleven twelve thirteen fourteen."' ]
}

@test "overlap must be less than max-words" {
	run scg-chunk --max-words 5 --overlap 5 sentences.txt
	[ "$status" -eq 2 ]
	[[ "$output" == *"--overlap (5) must be less than --max-words (5)"* ]]
}

@test "a look-behind separator packs whole paragraphs instead of sentences" {
	run scg-chunk --separator '(?<=\n\n)' --max-words 10 paragraphs.md
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | texts)" = '"First paragraph has five words.\nIt continues here."
"Second one. Is short too.\n\nThird paragraph closes the file."' ]
	# the default separator splits the second paragraph between sentences
	run scg-chunk --max-words 10 paragraphs.md
	[ "$(printf '%s\n' "$output" | texts | head -n 1)" = '"First paragraph has five words.\nIt continues here.\n\nSecond one."' ]
}

@test "--by paragraph makes each paragraph a chunk and splits long ones by words" {
	run scg-chunk --by paragraph paragraphs.md
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | texts)" = '"First paragraph has five words.\nIt continues here."
"Second one. Is short too."
"Third paragraph closes the file."' ]
	run scg-chunk --by paragraph --max-words 5 --overlap 1 paragraphs.md
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | texts)" = '"First paragraph has five words."
"words.\nIt continues here."
"Second one. Is short too."
"Third paragraph closes the file."' ]
}

@test "--by lines makes one chunk per non-blank line" {
	run scg-chunk --by lines profile.txt
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[ "$(printf '%s\n' "$output" | jq -r '.source.chunk' | tr '\n' ' ')" = "0 1 2 3 " ]
	[ "$(printf '%s\n' "$output" | sed -n 3p | jq -r .source.text)" = \
	  "She worked with Charles Babbage on his proposed Analytical Engine." ]
}

@test "--cut-at drops everything from the title on, any case, with # marks" {
	run scg-chunk --cut-at legacy --by paragraph legacy.md
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | texts)" = '"# Life"
"She wrote the first published program for a machine."' ]
	run scg-chunk --cut-at "Life" legacy.md
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# a title that only appears inside a line cuts nothing
	run scg-chunk --cut-at "published program" legacy.md
	[[ "$output" == *"carry her name"* ]]
}

@test "--cut-at Legacy cuts a profile at a bare, Markdown, wiki or copied [edit] heading" {
	cd "$BATS_TEST_TMPDIR"
	local h
	for h in 'Legacy' '## Legacy' '== Legacy ==' '=== legacy ===' 'Legacy[edit]'; do
		printf '%s\n' 'She was born in Lyme.' 'She found the bones.' "$h" 'A statue stands there.' >p.txt
		run scg-chunk --by lines --cut-at Legacy p.txt
		[ "$status" -eq 0 ]
		[ "${#lines[@]}" -eq 2 ] || { echo "not cut at '$h'"; return 1; }
		[[ "$output" != *statue* ]]
	done
	run scg-chunk --by lines --cut-at '' p.txt
	[ "${#lines[@]}" -eq 4 ]
}

@test "a folder is walked in sorted order, hidden and empty files give no chunks" {
	run scg-chunk kb
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -r .id | tr '\n' ' ')" = \
	  "returns/exceptions.txt#0 returns/policy.md#0 shipping/times.md#0 shipping/zones/europe.md#0 " ]
	[[ "$output" != *hidden* ]]
	[ "$(printf '%s\n' "$output" | sed -n 4p | jq -c .source)" = \
	  '{"file":"shipping/zones/europe.md","topic":"zones","chunk":0,"text":"Zone A is the home country. Zone B is the rest of Europe."}' ]
	[ "$(scg-chunk kb/)" = "$output" ]
}

@test "a file operand keeps its path as given and its folder as topic" {
	run scg-chunk kb/returns/policy.md
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -c '[.id, .source.file, .source.topic]')" = \
	  '["kb/returns/policy.md#0","kb/returns/policy.md","returns"]' ]
}

@test "ids are unique, even when two operands hold the same paths" {
	run scg-chunk --max-words 4 kb kb
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -r .id | sort | uniq -d)" = "" ]
	[ "$(printf '%s\n' "$output" | jq -r .id | grep -c '~2#')" -eq \
	  "$(( ${#lines[@]} / 2 ))" ]
}

@test "a strategy file in the original JSON shape sets max_words, overlap and separator per file" {
	run --separate-stderr scg-chunk --strategy strategy.json kb
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -c 'select(.source.file == "returns/policy.md") | .source.text')" = '"# Returns"
"# Returns\n\nItems can come back"
"within 30 days. Keep the receipt."
"the receipt.\n\nRefunds reach your card"
"your card within five working days."' ]
	# files the map does not name keep the default strategy
	[ "$(printf '%s\n' "$output" | jq -r 'select(.source.file == "shipping/times.md") | .source.text')" = \
	  "Standard delivery takes two to four days. Express arrives the next day." ]
	[ "$stderr" = "scg-chunk: strategy.json: 'returns/missing.md' names no file that was chunked" ]
	run --separate-stderr scg-chunk -q --strategy strategy.json kb
	[ -z "$stderr" ]
}

@test "a strategy file in YAML gives the same chunks as in JSON" {
	[ "$(scg-chunk --strategy strategy.yaml kb 2>/dev/null)" = \
	  "$(scg-chunk --strategy strategy.json kb 2>/dev/null)" ]
	[ -n "$(scg-chunk --strategy strategy.yaml kb 2>/dev/null)" ]
}

@test "a strategy key matches a topic folder or a file named directly" {
	run scg-chunk --strategy strategy.json kb/returns/policy.md kb/returns
	[ "$(printf '%s\n' "$output" | grep -c 'Items can come back"')" -eq 2 ]
}

@test "a bad strategy entry is a configuration error naming the key" {
	printf '{"returns/policy.md": {"max_words": 5, "overlap": 9}}' >"$BATS_TEST_TMPDIR/s.json"
	run scg-chunk --strategy "$BATS_TEST_TMPDIR/s.json" kb
	[ "$status" -eq 2 ]
	[[ "$output" == *"s.json: returns/policy.md: overlap (9) must be less than max_words (5)"* ]]
}

@test "a strategy key scg does not read is named in a warning and skipped, not an error" {
	printf '{"returns/policy.md": {"max_wrods": 5, "max_words": 20, "embedding": "e5"}}' >"$BATS_TEST_TMPDIR/s.json"
	run --separate-stderr scg-chunk --strategy "$BATS_TEST_TMPDIR/s.json" kb
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"s.json: returns/policy.md: unknown key 'max_wrods' ignored"* ]]
	[[ "$stderr" == *"s.json: returns/policy.md: unknown key 'embedding' ignored"* ]]
	# the keys it knows still apply
	[ "$(printf '%s\n' "$output" | jq -s 'map(select(.source.file == "returns/policy.md") | .source.text | split(" ") | length) | max')" -le 20 ]
}

@test "binary, PDF and non-UTF-8 files are named with a way to convert them; the rest still comes out" {
	d=$BATS_TEST_TMPDIR/kb
	mkdir -p "$d/docs"
	cp kb/returns/policy.md "$d/docs/good.md"
	printf '%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n' >"$d/docs/manual.pdf"
	printf 'caf\xe9 au lait\n' >"$d/docs/old.txt"
	printf 'ELF\0\1\2' >"$d/docs/tool.bin"
	run --separate-stderr scg-chunk "$d"
	[ "$status" -eq 1 ]
	[ "$(printf '%s\n' "$output" | jq -r .id)" = "docs/good.md#0" ]
	[[ "$stderr" == *"scg-chunk: $d/docs/manual.pdf: a PDF file; convert it to text first, e.g. pdftotext $d/docs/manual.pdf $d/docs/manual.txt"* ]]
	[[ "$stderr" == *"scg-chunk: $d/docs/old.txt:1: not UTF-8 (byte 0xe9 at offset 3); convert it to UTF-8 first, e.g. iconv -f WINDOWS-1252 -t UTF-8 "* ]]
	[[ "$stderr" == *"scg-chunk: $d/docs/tool.bin: a binary file, not text"* ]]
}

@test "a UTF-8 byte-order mark is not part of the text" {
	printf '\xef\xbb\xbfHello there.\n' >"$BATS_TEST_TMPDIR/bom.txt"
	run scg-chunk "$BATS_TEST_TMPDIR/bom.txt"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -r .source.text)" = "Hello there." ]
}

@test "a bad regular expression exits 2 with PCRE2's message and offset" {
	run scg-chunk --separator '(?<=[.!?]\s+' sentences.txt
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *"--separator: bad regular expression '(?<=[.!?]\s+': missing closing parenthesis at offset 12" ]]
	printf '{"a/b.md": {"separator": "[z-a]"}}' >"$BATS_TEST_TMPDIR/s.json"
	run scg-chunk --strategy "$BATS_TEST_TMPDIR/s.json" kb
	[ "$status" -eq 2 ]
	[[ "$output" == *"s.json: a/b.md: bad regular expression '[z-a]': range out of order in character class at offset "* ]]
}

@test "a missing operand is reported and the others are still chunked" {
	run --separate-stderr scg-chunk nonexistent.md sentences.txt
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$stderr" == "scg-chunk: nonexistent.md: No such file or directory" ]]
}

@test "no operand or an unknown --by is a usage error" {
	run scg-chunk
	[ "$status" -eq 2 ]
	[[ "$output" == *"no file, folder or --wikipedia title to chunk"* ]]
	run scg-chunk --by words sentences.txt
	[ "$status" -eq 2 ]
	run scg-chunk --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--strategy FILE"* ]]
}

@test "the example knowledge folder chunks cleanly with its own strategy file" {
	k=$BATS_TEST_DIRNAME/../examples/knowledge
	run --separate-stderr scg-chunk --strategy "$k/strategy.json" "$k"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(printf '%s\n' "$output" | jq -r .source.topic | sort -u | tr '\n' ' ')" = "repairs returns shipping " ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.source.file == "returns/policy.md") | .id' | wc -l)" -gt 1 ]
}
