#!/bin/sh
# golden.sh BIN OUT: runs the four pipelines and a few single programs on
# the shipped examples against scg-mock, with fixed seeds, and writes what
# they print into the folder OUT. Run it on two builds and `diff -r` the
# folders: a change meant to keep behaviour leaves them identical.
# The requests the mock saw are kept too (method, path and body, sorted,
# since the order in which parallel requests arrive is not fixed).
#   sh build-aux/golden.sh build/bin /tmp/golden-before
set -eu
[ $# -eq 2 ] || { echo "usage: golden.sh BIN OUT" >&2; exit 2; }
top=$(cd "$(dirname -- "$0")/.." && pwd)
bin=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
ex=$top/examples
work=$(mktemp -d)
mock=
trap '[ -z "$mock" ] || kill "$mock" 2>/dev/null; rm -rf "$work"' EXIT
PATH=$bin:$top/pipelines:$PATH
export SCG_CACHE="$work/cache" XDG_CACHE_HOME="$work/xdg"
unset SCG_PROVIDER SCG_MODEL SCG_BASE_URL SCG_API_KEY OPENAI_API_KEY ANTHROPIC_API_KEY SCG_WIKI_URL

# one mock per run, so that its log holds that run's requests only
start_mock() {
	: >"$work/port"
	scg-mock --port 0 --log "$work/mock.log" >"$work/port" 2>"$work/mock.err" &
	mock=$!
	i=0
	while [ ! -s "$work/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	port=$(head -n 1 "$work/port")
	export SCG_MOCK_PORT=$port SCG_BASE_URL=http://127.0.0.1:$port/v1 SCG_MODEL=mock-1 SCG_PROVIDER=openai
}
stop_mock() {  # stop_mock NAME: keeps the requests as NAME.requests
	kill "$mock"
	wait "$mock" 2>/dev/null || true
	mock=
	jq -c '{method, path, body}' "$work/mock.log" | LC_ALL=C sort >"$out/$1.requests"
}

cd "$work"
# Every run's exit status is kept beside its output.
one() {  # one NAME CMD...: CMD's stdout in OUT/NAME, its status in OUT/NAME.rc
	name=$1
	shift
	rc=0
	"$@" >"$out/$name" 2>/dev/null || rc=$?
	echo "$rc" >"$out/$name.rc"
}

start_mock
one simulate.jsonl simulate -a "$ex/assistant.yaml" -e "$ex/endpoints/mock.yaml" -n 3 -k 2 -t 3 \
	--seed 7 -j 4
one simulate-p.jsonl simulate -p "$ex/personas.yaml" -a "$ex/assistant2.yaml" \
	-e "$ex/endpoints/mock.yaml" -k 2 -t 2 --seed 3
# simulate's conversations loop until done and come out as they finish
for f in simulate simulate-p; do LC_ALL=C sort -o "$out/$f.jsonl" "$out/$f.jsonl"; done
stop_mock simulate

start_mock
one seed-messages.jsonl seed-messages -q -s "$ex/seed/seeds.txt" -x "$ex/seed/axes.yaml" \
	-a "$ex/seed/assistant.yaml" -t 3 --seed 5 -j 4
stop_mock seed-messages

start_mock
one knowledge.out knowledge -k "$ex/knowledge" -s "$ex/knowledge/strategy.json" -n 2 -t 3 \
	--seed 11 -j 4 --inject-dir "$ex/dynamic/inject" --templates "$ex/dynamic/templates.yaml" \
	--examples "$ex/dynamic/examples.jsonl" --temperature 0.6..1.0 -o kb
cp -r kb.jsonl kb.json kb.csv "$out/"
cp -r kb.d "$out/knowledge.d"
stop_mock knowledge

start_mock
one character.out character -q -c "$ex/character/card.yaml" -p "$ex/character/profile.txt" \
	-k 1 --dpo 1 -t 2 --seed 2 -j 4 -o char
cp -r char "$out/character"
stop_mock character

one dedup.jsonl scg-dedup -q "$out/knowledge.d/chunks.jsonl"
one dedup2.jsonl scg-dedup -q --rejects "$out/dedup-rejects.jsonl" "$out/simulate.jsonl" "$out/simulate-p.jsonl"
for f in openai trl sharegpt; do
	one export-$f.jsonl scg-export -q -f $f "$out/simulate.jsonl"
done
one export-dpo.jsonl scg-export -q -f openai-dpo "$out/character/dpo.jsonl"
one stats.json scg-stats --json "$out/simulate.jsonl" "$out/kb.jsonl"
one stats.txt scg-stats "$out/character/sft.jsonl"
one show.txt scg-show "$out/seed-messages.jsonl"
