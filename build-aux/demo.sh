#!/bin/sh
# make demo: pipelines/simulate, offline, against scg-mock on a free port:
# scg-mock plays the models (personas, user, judge) and the assistant
# endpoint. Prints how many conversations, turns and stop reasons, and
# ends by writing an HTML report (scg-report) and printing its path.
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
pipelines/simulate -a examples/assistant.yaml -e examples/endpoints/mock.yaml \
	-n 6 -k 2 -t 3 --min-turns 2 --rejects "$out/rejects.jsonl" --report "$out/report.html" \
	>"$out/conversations.jsonl"
jq -rs '
	"demo: \(length) conversations, \(map(.stop.turn) | add) user turns " +
	"(\(map(.messages | length) | add) messages)",
	"demo: stop reasons: " + (group_by(.stop.reason) |
		map("\(.[0].stop.reason) \(length)") | join(", ")),
	"demo: ended by the judge \(map(select(.stop.by == "judge")) | length), " +
	"by the turn limit \(map(select(.stop.by == "limit")) | length)"
' "$out/conversations.jsonl"
echo "demo: written to $out/conversations.jsonl; look at one with:"
echo "  scg-show --color=always $out/conversations.jsonl | less -R"
echo "demo: the report (open it in a browser): $(cd "$out" && pwd)/report.html"
