#!/bin/sh
# make demo: a short simulation, offline, against scg-mock on a free port.
set -eu
bin=$(cd "$1" && pwd)
out=${DEMO_OUT:-demo-out}
mkdir -p "$out"
PATH=$bin:$(pwd)/pipelines:$PATH
: >"$out/mock.port"
"$bin/scg-mock" --port 0 --latency 20..120 >"$out/mock.port" 2>"$out/mock.err" &
mock=$!
trap 'kill $mock 2>/dev/null' EXIT INT TERM
i=0
while [ ! -s "$out/mock.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
port=$(head -n 1 "$out/mock.port")
export SCG_PROVIDER=openai SCG_BASE_URL=http://127.0.0.1:$port/v1 SCG_MODEL=mock-1
export SCG_MOCK_PORT=$port SCG_CACHE=$out/cache
if [ -x "$bin/scg-personas" ] && [ -x pipelines/simulate ]; then
	pipelines/simulate -a examples/assistant.yaml -e examples/endpoints/mock.yaml \
		-n 4 -k 2 -t 4 >"$out/conversations.jsonl"
else
	cp examples/personas.jsonl "$out/round0.jsonl"
	for t in 1 2 3; do
		scg-turn -q --side user <"$out/round$((t - 1)).jsonl" |
			scg-turn -q --side assistant -e examples/endpoints/mock.yaml >"$out/round$t.jsonl"
	done
	cp "$out/round3.jsonl" "$out/conversations.jsonl"
fi
n=$(wc -l <"$out/conversations.jsonl")
echo "demo: $n conversations written to $out/conversations.jsonl"
echo "demo: look at one with: head -n 1 $out/conversations.jsonl | jq ."
