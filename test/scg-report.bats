#!/usr/bin/env bats
# scg-report, checked in a real browser: Debian's chromium, headless, loads
# the file from disk; the page's DOM (--dump-dom) is read by
# test/report-dom.py and compared with scg-stats --json.

load helper

S=$BATS_TEST_DIRNAME/fixtures/stats
ALL="$S/simulate.jsonl $S/seed-messages.jsonl $S/knowledge.jsonl $S/character.jsonl $S/dpo.jsonl"

# chrome ARGS...: headless chromium that reaches nothing outside this machine
chrome() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-extensions --user-data-dir="$BATS_TEST_TMPDIR/chrome" "$@" 2>>"$BATS_TEST_TMPDIR/chrome.err"
}

# A missing chromium fails (make deps installs it); one that cannot start
# here (no /dev/shm, a kernel without the namespaces it wants) skips.
need_chrome() {
	command -v chromium >/dev/null || { echo "chromium is not installed: run make deps" >&2; return 1; }
	chrome --dump-dom 'data:text/html,<p id=ok>ok</p>' | grep -q 'id="ok"' ||
		skip "chromium cannot run here: $(grep -v dbus "$BATS_TEST_TMPDIR/chrome.err" | tail -n 1)"
}

# dom FILE [HASH]: what the page shows, as JSON (test/report-dom.py)
dom() { chrome --dump-dom "file://$PWD/$1${2:+#$2}" | python3 "$BATS_TEST_DIRNAME/report-dom.py"; }

@test "the page's cards and counts equal scg-stats' JSON for the same records" {
	need_chrome
	scg-report -q -o report.html $ALL "$S/rejects.jsonl"
	scg-stats --json $ALL "$S/rejects.jsonl" >s.json
	dom report.html >d.json
	jq -e --slurpfile s s.json '.cards as $c | $s[0] as $s |
		($c.records | gsub(","; "") | tonumber) == $s.records and
		($c.conversations | gsub(","; "") | tonumber) == $s.conversations and
		($c.dpo_pairs | tonumber) == $s.dpo_pairs and
		($c.rejects | tonumber) == $s.rejected.count and
		$c.cost == "$" + ($s.usage.cost * 1e4 | round / 1e4 | tostring | if test("\\.") then . else . + ".0" end
			| . + "0000" | capture("(?<a>[0-9]+\\.[0-9]{4})").a) and
		($c.tokens | gsub(","; "") | tonumber) == $s.usage.prompt_tokens + $s.usage.completion_tokens and
		($c.requests | tonumber) == $s.usage.requests and
		($c.personas | tonumber) == $s.diversity.personas.count and
		($c.health | tonumber) == ([$s.health[].count] | add)' d.json >/dev/null
	jq -e --slurpfile s s.json '.total == $s[0].records and .shown == .total' d.json >/dev/null
	# the charts are there, the overview shown and the records' tab hidden
	jq -e '(.charts | index("Stop reasons")) and (.charts | index("User turns per conversation")) and
		(.charts | index("Cost by model (USD)")) and (.charts | index("Cost by stage (USD)")) and
		(.charts | index("Characters per message")) and .hidden == ["records"]' d.json >/dev/null
}

@test "filters narrow the list: stop reason, kind, persona, label and text, alone and together" {
	need_chrome
	scg-report -q -o report.html $ALL
	local n
	dom report.html 'reason=max_turns' >d.json
	n=$(cat $ALL | jq -s 'map(select(.stop.reason == "max_turns")) | length')
	jq -e --argjson n "$n" '.shown == $n and .shown < .total and (.rows | length) == $n and
		all(.rows[]; .reason == "max_turns") and .hidden == ["overview"]' d.json >/dev/null
	dom report.html 'kind=dpo' | jq -e '.shown == 3 and all(.rows[]; .id | test("\\.q[0-9]+$"))' >/dev/null
	local who; who=$(head -n 1 "$S/simulate.jsonl" | jq -r .persona.name)
	dom report.html "persona=$(jq -rn --arg s "$who" '$s | @uri')" | jq -e '.shown == 2' >/dev/null
	n=$(jq -s 'map(select(.persona.axes.motivation == "distrust")) | length' "$S/seed-messages.jsonl")
	dom report.html 'label=motivation%3A%20distrust' | jq -e --argjson n "$n" '.shown == $n' >/dev/null
	# text search, without regard to case, over the messages
	local word; word=$(sed -n 2p "$S/seed-messages.jsonl" | jq -r '.messages[0].content' | cut -d' ' -f1-3)
	n=$(cat $ALL | jq -s --arg w "$word" 'map(select([.messages[]?.content, .original_messages[]?.content]
		| map(ascii_downcase) | any(contains($w | ascii_downcase)))) | length')
	[ "$n" -ge 1 ]
	dom report.html "q=$(jq -rn --arg s "$word" '$s | ascii_upcase | @uri')" | jq -e --argjson n "$n" '.shown == $n' >/dev/null
	dom report.html 'reason=max_turns&kind=dpo' | jq -e '.shown == 0' >/dev/null
	# every filter offers the values the records have
	dom report.html >d.json
	jq -e '(.options["f-reason"] | index("goal_achieved")) and (.options["f-kind"] | index("protective")) and
		(.options["f-label"] | index("disposition: blunt"))' d.json >/dev/null
}

@test "no request leaves the page: no http: or https: in the file, whatever the records say" {
	need_chrome
	jq -c '.messages[0].content = "see https://example.com/a.png and HTTP://x.test <img src=\"http://x.test/p.png\">"' \
		"$S/simulate.jsonl" >links.jsonl
	scg-report -q -o report.html links.jsonl
	! grep -qiE 'https?:' report.html
	grep -q "Content-Security-Policy\" content=\"default-src 'none'" report.html
	# the text is shown as it was, as text: no image element made from it
	local id; id=$(head -n 1 links.jsonl | jq -r .id)
	dom report.html "id=$id" >d.json
	jq -e '(.view.text | contains("see https://example.com/a.png and HTTP://x.test <img src=\"http://x.test/p.png\">"))
		and (.view.tags | index("img") | not)' d.json >/dev/null
}

@test "record text with </script> or <!-- cannot break out of the data" {
	need_chrome
	head -n 2 "$S/simulate.jsonl" | jq -c '.messages[0].content = "</script><script>document.title=\"owned\"</script><!-- <script> \u2028 &amp;"' >evil.jsonl
	scg-report -q -o report.html evil.jsonl
	! grep -q '</script><script>document.title' report.html
	! grep -q '<!-- <script>' report.html
	chrome --dump-dom "file://$PWD/report.html" >dom.html
	grep -q '<title>scg report</title>' dom.html
	local id; id=$(head -n 1 evil.jsonl | jq -r .id)
	dom report.html "id=$id" >d.json
	jq -e '.total == 2 and .cards.records == "2" and
		(.view.text | contains("</script><script>document.title=\"owned\"</script><!-- <script> \u2028 &amp;"))' d.json >/dev/null
	# the title is text too
	scg-report -q --title '</title><script>x</script>' -o t.html evil.jsonl
	grep -q '<title>&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;</title>' t.html
}

@test "the record view: persona, scene, source chunk, rationale, usage and cost, original beside restyled, chosen beside rejected" {
	need_chrome
	scg-report -q -o report.html $ALL
	local r id
	r=$(jq -c 'select(.stop.by == "judge")' "$S/simulate.jsonl" | head -n 1)
	id=$(jq -r .id <<<"$r")
	dom report.html "id=$id" >d.json
	jq -e --argjson r "$r" '.view.id == $r.id and (.view.text | contains($r.persona.name)) and
		(.view.text | contains($r.stop.rationale)) and (.view.text | contains($r.messages[-1].content)) and
		(.view.text | contains("$" + ($r.meta.usage["mock-1"].cost * 1e4 | round / 1e4 | tostring))) and
		(.view.text | contains("scg-judge")) and .hidden == ["overview"]' d.json >/dev/null
	r=$(head -n 1 "$S/seed-messages.jsonl")
	dom report.html "id=$(jq -r .id <<<"$r")" >d.json
	jq -e --argjson r "$r" '(.view.headings | index("original")) and (.view.headings | index("restyled")) and
		(.view.text | contains($r.original_messages[0].content)) and (.view.text | contains($r.messages[0].content)) and
		(.view.text | contains($r.source.text))' d.json >/dev/null
	r=$(head -n 1 "$S/dpo.jsonl")
	dom report.html "id=$(jq -rn --arg s "$(jq -r .id <<<"$r")" '$s | @uri')" >d.json
	jq -e --argjson r "$r" '(.view.headings | index("chosen")) and (.view.headings | index("rejected")) and
		(.view.text | contains($r.chosen[0].content)) and (.view.text | contains($r.rejected[0].content))' d.json >/dev/null
	r=$(head -n 1 "$S/knowledge.jsonl")
	dom report.html "id=$(jq -rn --arg s "$(jq -r .id <<<"$r")" '$s | @uri')" >d.json
	jq -e --argjson r "$r" '(.view.text | contains($r.source.text)) and (.view.text | contains($r.scene.goal))' d.json >/dev/null
}

@test "the list renders only the rows in view: 3,000 records, a few dozen rows in the page" {
	need_chrome
	for i in $(seq 1 375); do cat "$S/simulate.jsonl"; done | jq -c --argjson n 0 '.id = "r\(input_line_number)"' >many.jsonl
	scg-report -q -o report.html many.jsonl
	dom report.html 'tab=records' >d.json
	jq -e '.total == 3000 and .shown == 3000 and (.rows | length) > 5 and (.rows | length) < 60' d.json >/dev/null
}

@test "a screenshot of the page (build-aux/report-shots.sh makes the ones in docs/)" {
	need_chrome
	REPORT_SHOTS_OUT=$PWD sh "$BATS_TEST_DIRNAME/../build-aux/report-shots.sh" "$SCG_BIN"
	local f
	for f in report-overview.png report-records.png report-compare.png; do
		[ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
		[ "$(stat -c %s "$f")" -gt 20000 ]
	done
}

@test "-o writes the file whole or not at all; bad input names the file and line; stdout by default" {
	{ head -n 2 "$S/simulate.jsonl"; echo 'nope'; } >bad.jsonl
	run scg-report -o out.html bad.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"scg-report: bad.jsonl:3: not JSON"* ]]
	[ ! -e out.html ]
	[ -z "$(ls | grep '\.tmp\.')" ]
	run scg-report -o out.html --on-error=skip --rejects rej.jsonl bad.jsonl
	[ "$status" -eq 1 ]
	[ -s out.html ] && [ -s rej.jsonl ]
	scg-report "$S/simulate.jsonl" >page.html
	grep -q '^<!DOCTYPE html>' page.html && grep -q '</html>$' page.html
	run scg-report "$S/simulate.jsonl"
	[[ "$output" != *"wrote"* ]]
	run scg-report -o out.html "$S/simulate.jsonl"
	[ "$output" = "scg-report: wrote out.html" ]
	run scg-report -o /nonexistent/dir/r.html "$S/simulate.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"/nonexistent/dir/r.html"* ]]
}

@test "each pipeline writes a report with --report and its summary line says where" {
	mock_start
	export SCG_MOCK_PORT=$MOCK_PORT
	local ex=$BATS_TEST_DIRNAME/../examples
	simulate -a "$ex/assistant.yaml" -e "$ex/endpoints/mock.yaml" -n 2 -t 2 --rejects rej.jsonl \
		--report sim.html >sim.jsonl 2>sim.err
	grep -qx 'simulate: report in sim.html' sim.err
	grep -qx 'simulate: 2 conversations on standard output' sim.err
	seed-messages -s "$ex/seed/seeds.txt" -x "$ex/seed/axes.yaml" --report seed.html >seed.jsonl 2>seed.err
	grep -qx "seed-messages: report in seed.html" seed.err
	grep -qx "seed-messages: $(wc -l <seed.jsonl) conversations on standard output" seed.err
	knowledge -k "$ex/knowledge" -n 1 -t 2 -o kb --report kb.html 2>kb.err
	grep -q '^knowledge: .* conversations in kb.jsonl, .*; report in kb.html$' kb.err
	character -c "$ex/character/card.yaml" -p "$ex/character/profile.txt" -k 1 -t 2 --dpo 1 -o ch \
		--report ch.html 2>ch.err
	grep -qx 'character: report in ch.html' ch.err
	# each report holds the run's records: the same count scg-stats gives
	local f
	for f in sim seed kb; do
		local want; want=$(scg-stats --json "$( [ $f = kb ] && echo kb.jsonl || echo $f.jsonl)" | jq .records)
		[ "$(sed -n 's/.*<script type="application\/json" id="scg-stats">\(.*\)<\/script>.*/\1/p' $f.html | jq .records)" -eq "$want" ]
	done
	[ "$(sed -n 's/.*<script type="application\/json" id="scg-stats">\(.*\)<\/script>.*/\1/p' ch.html | jq .records)" -eq \
	  "$(cat ch/sft.jsonl ch/dpo.jsonl | wc -l)" ]
	# a report that cannot be written is an error, after the records came out
	run simulate -a "$ex/assistant.yaml" -e "$ex/endpoints/mock.yaml" -n 1 -t 1 --report /nonexistent/r.html
	[ "$status" -eq 2 ]
	[[ "$output" == *"/nonexistent/r.html"* ]]
}

@test "the judge's verdicts: success, pass^k, criteria, outcome filter, the verdict of one record, and --compare A B" {
	need_chrome
	local ea=$S/eval-a.jsonl eb=$S/eval-b.jsonl
	scg-report -q -o a.html "$ea"
	dom a.html >d.json
	jq -e '.cards.success == "0.625" and .cards.pass_k == "0.500" and
		(.evals | contains("helpfulness")) and (.evals | contains("0.563")) and
		(.evals | contains("mood: angry")) and (.evals | contains("p0002.c1"))' d.json >/dev/null
	dom a.html 'outcome=not%20met' | jq -e '.shown == 2 and all(.rows[]; .id == "p0002.c1" or .id == "p0003.c2")' >/dev/null
	dom a.html 'id=p0002.c1' >v.json
	jq -e --argjson r "$(grep '"p0002.c1"' "$ea")" '(.view.headings | index("verdict")) and
		(.view.text | contains("not met")) and (.view.text | contains($r.eval.evidence.text)) and
		(.view.text | contains("made_up")) and (.view.text | contains("scored 2 of 5"))' v.json >/dev/null
	scg-report -q --compare -o c.html "$ea" "$eb"
	dom c.html >c.json
	jq -e '.cards.success == "0.875" and .cards.success_change == "+0.250" and
		(.evals | contains("McNemar exact p = 0.625")) and (.evals | contains("Wilcoxon p = 0.21875")) and
		(.evals | test("now met +p0002.c1 ,  p0002.c2 ,  p0003.c2"))' c.json >/dev/null
	run scg-report --compare "$ea"
	[ "$status" -eq 2 ]
}
