#!/usr/bin/env bats
# scg-dedup: exact and near-duplicate removal. The fixtures hold pairs of
# known Jaccard similarity over word 5-grams (see each test).

load helper

D=$BATS_TEST_DIRNAME/fixtures/dedup

@test "a near duplicate at exactly the threshold is dropped, one just below is kept" {
	# a/b: 8 of 10 shingles shared (J = 0.8); c/d: 7 of 9 (J = 0.778)
	run scg-dedup -q --dups "$BATS_TEST_TMPDIR/dups" "$D/edge.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -r .id <<<"$output" | tr '\n' ' ')" = "a c d " ]
	[ "$(jq -c '[.id, .dup_of, .jaccard]' "$BATS_TEST_TMPDIR/dups")" = '["b","a",0.8]' ]
}

@test "--threshold moves the edge: 0.77 drops the pair at J = 0.778" {
	run scg-dedup -q --threshold 0.77 "$D/edge.jsonl"
	[ "$(jq -r .id <<<"$output" | tr '\n' ' ')" = "a c " ]
	run scg-dedup -q --threshold 0.81 "$D/edge.jsonl"
	[ "$(jq -r .id <<<"$output" | tr '\n' ' ')" = "a b c d " ]
}

@test "near duplicates are dropped with the exact Jaccard; case, spacing and punctuation do not count" {
	# last: one word changed at the end, upper case (J = 35/37); mid: one
	# word changed in the middle (J = 31/41 = 0.756, kept at 0.8); again: the
	# same words as base with other spacing and punctuation (exact)
	run scg-dedup --dups "$BATS_TEST_TMPDIR/dups" "$D/near.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -r .id <<<"${lines[*]:0:3}" | tr '\n' ' ')" = "base mid other " ]
	[ "$(jq -c '[.id, .dup_of, .jaccard]' "$BATS_TEST_TMPDIR/dups" | tr '\n' ' ')" = '["last","base",0.9459] ["again","base",1] ' ]
	[[ "$output" == *"scg-dedup: 5 in, 3 kept, 2 dropped (1 exact, 1 near)"* ]]
	run scg-dedup -q --threshold 0.75 "$D/near.jsonl"
	[ "$(jq -r .id <<<"$output" | tr '\n' ' ')" = "base other " ]
}

@test "kept lines are passed through byte for byte" {
	printf '%s\n' '{ "id" : "x1",  "messages":[{"content":"caf\u00e9 \"quoted\" text here and more words"}], "n": 1.50e0 }' \
		'{"id":"x2","messages":[{"content":"Café \"quoted\" text here and more words"}]}' \
		'{"z":true,"id":"x3","messages":[{"content":"something else entirely, with five words"}],"a":null}' >"$BATS_TEST_TMPDIR/in"
	run scg-dedup -q "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "$(sed -n 1p "$BATS_TEST_TMPDIR/in")" ]
	[ "${lines[1]}" = "$(sed -n 3p "$BATS_TEST_TMPDIR/in")" ]
}

@test "--dups holds every dropped record and kept + dropped = input" {
	for i in $(seq 1 40); do
		printf '{"id":"r%d","messages":[{"role":"user","content":"topic %d word alpha beta gamma delta epsilon zeta eta theta"}]}\n' "$i" $((i % 7))
	done >"$BATS_TEST_TMPDIR/in"
	run scg-dedup -q --exact --dups "$BATS_TEST_TMPDIR/dups" "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 7 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/dups")" -eq 33 ]
	# the dropped records, less the two added fields, are the input lines
	cat <(printf '%s\n' "${lines[@]}") <(jq -c 'del(.dup_of, .jaccard)' "$BATS_TEST_TMPDIR/dups") |
		sort >"$BATS_TEST_TMPDIR/all"
	sort "$BATS_TEST_TMPDIR/in" | cmp - "$BATS_TEST_TMPDIR/all"
	[ "$(jq -r 'select(.id == "r8") | .dup_of' "$BATS_TEST_TMPDIR/dups")" = r1 ]
}

@test "the same input gives the same output, byte for byte, from a file or stdin" {
	cat "$D/near.jsonl" "$D/edge.jsonl" "$D/near.jsonl" >"$BATS_TEST_TMPDIR/in"
	scg-dedup -q --dups "$BATS_TEST_TMPDIR/d1" "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/o1"
	scg-dedup -q --dups "$BATS_TEST_TMPDIR/d2" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/o2"
	cmp "$BATS_TEST_TMPDIR/o1" "$BATS_TEST_TMPDIR/o2"
	cmp "$BATS_TEST_TMPDIR/d1" "$BATS_TEST_TMPDIR/d2"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/o1")" -eq 6 ]
}

@test "--key compares the named fields; a record without them is an error naming its line" {
	printf '%s\n' '{"id":1,"persona":{"description":"A retired sailor who loves maps and tides"},"messages":[{"content":"x"}]}' \
		'{"id":2,"persona":{"description":"a retired sailor, who loves maps and tides!"},"messages":[{"content":"y"}]}' \
		'{"id":3,"persona":{"name":"no description"}}' >"$BATS_TEST_TMPDIR/in"
	run scg-dedup -q --key persona.description "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 1 ]
	[[ "$output" == *"scg-dedup: $BATS_TEST_TMPDIR/in:3: no field 'persona.description' (--key)"* ]]
	run scg-dedup -q --key persona.description --missing=keep --dups "$BATS_TEST_TMPDIR/dups" "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "$(jq -r .id <<<"$output" | tr '\n' ' ')" = "1 3 " ]
	[ "$(jq -c '[.id, .dup_of]' "$BATS_TEST_TMPDIR/dups")" = '[2,1]' ]
	# by default the messages are compared, and they differ
	run scg-dedup -q "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "several --key paths are joined; a record without an id is named by its line number" {
	printf '%s\n' '{"a":"one two three","b":{"c":"four five six"}}' \
		'{"a":"one two","b":{"c":"three four five six"}}' \
		'{"a":"one two three four","b":{"c":"five six seven"}}' >"$BATS_TEST_TMPDIR/in"
	run scg-dedup -q --key a,b.c --dups "$BATS_TEST_TMPDIR/dups" "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(jq -c .dup_of "$BATS_TEST_TMPDIR/dups")" = 1 ]
}

@test "a system prompt first, shared by every record of a run, does not make them duplicates" {
	# 200 words of system prompt, 20 words of conversation each: compared
	# whole, any two are near duplicates (J ~ 0.86)
	local sys; sys=$(for i in $(seq 200); do printf 'w%d ' $((i % 37 * i % 101)); done)
	for r in 1 2 3 4; do
		jq -cn --arg s "$sys" --arg u "$(seq $r 3 $((r * 40)) | head -n 10 | sed 's/^/u/' | tr '\n' ' ')" \
			--arg a "$(seq $((r * 7)) 5 $((r * 100)) | head -n 10 | sed 's/^/a/' | tr '\n' ' ')" --arg id "r$r" \
			'{id: $id, messages: [{role: "system", content: $s}, {role: "user", content: $u}, {role: "assistant", content: $a}]}'
	done >in.jsonl
	run scg-dedup -q in.jsonl
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	# the same conversations are still found again under the same prompt
	cat in.jsonl in.jsonl >twice.jsonl
	[ "$(scg-dedup -q twice.jsonl | wc -l)" -eq 4 ]
	# a system message anywhere else, or another key, is compared as text
	jq -c '.messages |= [.[1], .[0], .[2]]' in.jsonl >moved.jsonl
	[ "$(scg-dedup -q moved.jsonl | wc -l)" -eq 1 ]
}

@test "records shorter than one shingle are compared exactly" {
	printf '%s\n' '{"id":"s1","messages":[{"content":"Hello there!"}]}' \
		'{"id":"s2","messages":[{"content":"hello   THERE"}]}' \
		'{"id":"s3","messages":[{"content":"hello where"}]}' >"$BATS_TEST_TMPDIR/in"
	for mode in "" --no-verify; do
		run scg-dedup -q $mode "$BATS_TEST_TMPDIR/in"
		[ "$(jq -r .id <<<"$output" | tr '\n' ' ')" = "s1 s3 " ]
	done
}

@test "--keep-punct makes punctuation count; --exact drops exact duplicates only" {
	printf '%s\n' '{"messages":[{"content":"one two three four five six"}]}' \
		'{"messages":[{"content":"One, two; three four five six."}]}' \
		'{"messages":[{"content":"one two three four five seven"}]}' >"$BATS_TEST_TMPDIR/in"
	run scg-dedup -q --exact "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 2 ]
	run scg-dedup -q --exact --keep-punct "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 3 ]
	run scg-dedup -q --threshold 0.3 "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 1 ]
}

@test "--char-ngrams finds near duplicates in text without spaces" {
	printf '%s\n' '{"id":"z1","messages":[{"content":"今天天气很好我们去公园散步然后去吃饭吧"}]}' \
		'{"id":"z2","messages":[{"content":"今天天气很好我们去公园散步然后去吃面吧"}]}' >"$BATS_TEST_TMPDIR/in"
	run scg-dedup -q "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 2 ]
	run scg-dedup -q --char-ngrams 3 --threshold 0.7 --dups "$BATS_TEST_TMPDIR/dups" "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 1 ]
	[ "$(jq -r .dup_of "$BATS_TEST_TMPDIR/dups")" = z1 ]
}

@test "--no-verify drops a close near duplicate on the MinHash estimate" {
	# the estimate errs by about 0.05: keep J = 0.756 well below the threshold
	run scg-dedup -q --no-verify --threshold 0.85 --dups "$BATS_TEST_TMPDIR/dups" "$D/near.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -r .id <<<"$output" | tr '\n' ' ')" = "base mid other " ]
	[ "$(jq -r '.id + " " + .dup_of' "$BATS_TEST_TMPDIR/dups" | tr '\n' ' ')" = "last base again base " ]
	jq -e '.jaccard >= 0.85 and .jaccard <= 1' "$BATS_TEST_TMPDIR/dups"
}

@test "-v tells the LSH bands x rows chosen for the threshold" {
	run scg-dedup -v "$D/edge.jsonl"
	[[ "$output" == *"LSH 9 bands x 4 rows (36 of 128 values)"* ]]
	run scg-dedup -v --threshold 0.5 --perm 256 "$D/edge.jsonl"
	[[ "$output" == *"bands x"* ]]
	[[ "$output" == *"index"*"a kept record"* ]]
}

@test "bad input lines are named: not JSON, not an object, invalid UTF-8" {
	printf '%s\n' '{"id":1,"messages":[{"content":"fine"}]}' '{"id":2,"messages":[' >"$BATS_TEST_TMPDIR/in"
	run scg-dedup -q "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 1 ]
	[[ "$output" == *"in:2: not JSON: unexpected end of line (column 21)"* ]]
	run scg-dedup -q <<<'[1,2]'
	[ "$status" -eq 1 ]
	[[ "$output" == *"scg-dedup: stdin:1: not a JSON object"* ]]
	printf '{"id":1,"messages":[{"content":"caf\xe9"}]}\n' >"$BATS_TEST_TMPDIR/bad"
	run scg-dedup -q "$BATS_TEST_TMPDIR/bad"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad:1: invalid UTF-8 at byte 36"* ]]
}

@test "with --on-error=skip bad lines go to the rejects and the rest is deduplicated" {
	printf '%s\n' '{"id":1,"messages":[{"content":"a b c d e f"}]}' 'nonsense' \
		'{"id":2,"messages":[{"content":"A b c d e f"}]}' '{"id":3,"messages":[{"content":"x y"}]}' >"$BATS_TEST_TMPDIR/in"
	run scg-dedup --on-error=skip --rejects "$BATS_TEST_TMPDIR/rej" "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 1 ]
	[ "$(jq -r '.error.line' "$BATS_TEST_TMPDIR/rej")" = 2 ]
	[[ "$output" == *"4 in, 2 kept, 1 dropped (1 exact, 0 near), 1 bad"* ]]
}

@test "a 10 MB line is read whole: passed through when valid, named when broken" {
	head -c 10000000 /dev/zero | tr '\0' 'w' >"$BATS_TEST_TMPDIR/big"
	{
		printf '{"id":"big","messages":[{"content":"'; cat "$BATS_TEST_TMPDIR/big"; printf '"}]}\n'
		printf '{"id":"broken","messages":[{"content":"'; cat "$BATS_TEST_TMPDIR/big"; printf '\n'
	} >"$BATS_TEST_TMPDIR/in"
	scg-dedup -q "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" && false
	head -n 1 "$BATS_TEST_TMPDIR/in" | cmp - "$BATS_TEST_TMPDIR/out"
	grep -q "in:2: not JSON: unterminated string (column 10000040)" "$BATS_TEST_TMPDIR/err"
}

@test "bad options exit 2 with one line and the usage hint" {
	for opt in "--threshold 0" "--threshold 1.5" "--perm 513" "--ngram 0" "--missing maybe" "--key a,,b"; do
		run scg-dedup $opt </dev/null
		[ "$status" -eq 2 ]
		[[ "$output" == *"Try 'scg-dedup --help'"* ]]
	done
	run scg-dedup --threshold 1 --perm 512 </dev/null
	[ "$status" -eq 0 ]
}

# the vector paths this machine has, from -v: "avx512 avx2 portable"
simd_paths() {
	scg-dedup -v </dev/null 2>&1 | sed -n 's/.*vector path: .* (this machine: \([^;]*\);.*/\1/p'
}

@test "every vector path normalises alike: case, spacing and punctuation at every alignment" {
	# 80 spellings of one text, each shifted by one more leading space so
	# that every byte meets every position of a 64-byte block; with --exact
	# all but the first are duplicates of it, and a text with one letter
	# changed is not
	awk 'BEGIN {
		t = "the quick brown fox jumps over the lazy dog while seven wizards quietly box jackdaws near a pond of liquid amber"
		for (k = 0; k < 80; k++) {
			s = sprintf("%" k "s", "") t
			if (k % 2) s = toupper(s)
			if (k % 3 == 0) gsub(/ /, "  ", s)
			if (k % 5 == 0) gsub(/o/, "o,", s)
			if (k % 7 == 0) gsub(/ w/, "\\t-- W", s)
			if (k % 4 == 1) s = s "?!"
			printf "{\"id\":\"v%d\",\"messages\":[{\"content\":\"%s\"}]}\n", k, s
		}
		gsub(/amber/, "ambar", t)
		printf "{\"id\":\"other\",\"messages\":[{\"content\":\"%s\"}]}\n", t
	}' >"$BATS_TEST_TMPDIR/in"
	paths=$(simd_paths)
	[[ " $paths " == *" portable "* ]]
	for simd in $paths; do
		run env SCG_SIMD=$simd scg-dedup -q --exact --dups "$BATS_TEST_TMPDIR/dups" "$BATS_TEST_TMPDIR/in"
		[ "$status" -eq 0 ]
		[ "$(jq -r .id <<<"$output" | tr '\n' ' ')" = "v0 other " ]
		[ "$(jq -r .dup_of "$BATS_TEST_TMPDIR/dups" | sort -u)" = v0 ]
		[ "$(wc -l <"$BATS_TEST_TMPDIR/dups")" -eq 79 ]
	done
}

@test "every vector path on this machine gives the same output, byte for byte (SCG_SIMD)" {
	# texts of words with noise that normalisation removes (case, white
	# space of every kind, ASCII and Unicode punctuation, zero-width
	# characters, escapes), at random alignments; b<i> is a<i> with other
	# noise, c<i> has one word changed
	python3 - >"$BATS_TEST_TMPDIR/in" <<'PY'
import json, random
rng = random.Random(5)
words = ("the of and to in is it you that was for on are with as his they be at one have this "
         "from or had by hot but some what there we can out other were all your when up use "
         "café naïve crème élan déjà señor über αλφα βητα γαμμα δελτα ωμεγα "
         "москва ёлка привет мир ѐѓєѕ 東京 大阪 x9 42 2024 supercalifragilisticexpialidocious "
         "antidisestablishmentarianism abcdefghijklmnopqrstuvwxyz 0123456789 zebra jazz quiz").split()
spaces = [" ", "  ", "\t", "\n", " \u00a0", "\u2003", " \r\n ", "\u3000", "\u0085"]
punct = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["\u00ab", "\u00bb", "\u201c", "\u2014", "\u00bf", "..."]
invisible = ["\u200b", "\u00ad", "\u2060", "\ufeff"]
def noisy(ws):
    out = []
    for w in ws:
        w = w.upper() if rng.random() < 0.2 else w.capitalize() if rng.random() < 0.2 else w
        if rng.random() < 0.2:
            k = rng.randrange(len(w) + 1)
            w = w[:k] + rng.choice(punct + invisible) + w[k:]
        out.append(w)
    text = rng.choice(["", " ", "\t\t", "  " * rng.randrange(40)])
    for w in out:
        text += w + rng.choice(spaces)
    return text
for i in range(300):
    ws = [rng.choice(words) for _ in range(rng.randrange(3, 90))]
    c = list(ws)
    c[rng.randrange(len(c))] = "changed"
    for tag, x in (("a", ws), ("b", ws), ("c", c)):
        print(json.dumps({"id": "%s%d" % (tag, i), "messages": [{"content": noisy(x)}]}))
PY
	paths=$(simd_paths)
	[[ " $paths " == *" portable "* ]]
	cd "$BATS_TEST_TMPDIR"
	for simd in portable $paths; do
		m=0
		for mode in default --keep-punct "--char-ngrams 4" "--ngram 2 --threshold 0.5" --exact --no-verify; do
			opt=${mode#default} m=$((m + 1))
			SCG_SIMD=$simd scg-dedup -v $opt --dups "dups.$simd.$m" in >"out.$simd.$m" 2>"err.$simd.$m"
			grep -q "vector path: $simd " "err.$simd.$m"   # it ran on that path
			cmp "out.portable.$m" "out.$simd.$m"
			cmp "dups.portable.$m" "dups.$simd.$m"
			[ "$(grep -c . "out.$simd.$m")" -gt 300 ]
		done
	done
	# and the noise is gone: every b<i> is an exact duplicate of a<i>
	SCG_SIMD=portable scg-dedup -q --dups dups in >/dev/null
	[ "$(jq -r 'select(.id | startswith("b")) | "\(.dup_of) \(.jaccard)"' dups | sort -u | grep -vc '^a[0-9]* 1$')" -eq 0 ]
	[ "$(jq -r 'select(.id | startswith("b")) | .id' dups | wc -l)" -eq 300 ]
}

@test "SCG_SIMD names a path; one this machine lacks, or an unknown one, is an error" {
	run env SCG_SIMD=portable scg-dedup -q </dev/null
	[ "$status" -eq 0 ]
	run env SCG_SIMD=sse9 scg-dedup -q </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"scg-dedup: SCG_SIMD=sse9: expected avx512, avx2, neon or portable"* ]]
	for p in avx512 avx2 neon; do
		[[ " $(simd_paths) " == *" $p "* ]] && continue
		run env SCG_SIMD=$p scg-dedup -q </dev/null
		[ "$status" -eq 2 ]
		[[ "$output" == *"SCG_SIMD=$p: this CPU or build has no such vector unit"* ]]
	done
}
