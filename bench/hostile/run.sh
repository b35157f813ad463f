#!/bin/sh
# Peak memory (GNU time) and wall time of scg-turn, scg-chunk and scg-mock
# against what a hostile server, command or file sends: a gzip bomb, a huge
# answer, endless command output, a schema that asks for 10^8 items, an
# endless device. Usage: run.sh BIN [SIZE_OF_THE_BOMB]; scg-mock from BIN
# plays the server.
set -eu
bin=$(cd "$1" && pwd)
bomb=${2:-1500000000}
tmp=$(mktemp -d)
trap 'kill "$mock" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp"
printf '{"id":"r1","messages":[{"role":"user","content":"hi"}]}\n' >in.jsonl
printf 'gzip bytes=%s\nhuge bytes=200000000\n' "$bomb" >script
"$bin/scg-mock" --port 0 --script script >port &
mock=$!
sleep 0.3
url=http://127.0.0.1:$(head -n 1 port)/v1

# row NAME CMD...: peak RSS and wall time of CMD, and how it ended
row() {
	name=$1
	shift
	rc=0
	/usr/bin/time -f '%M %e' -o time.txt "$@" >out.txt 2>err.txt || rc=$?
	set -- $(tail -n 1 time.txt)
	printf '| %s | %s | %.1f | %s | %s |\n' "$name" "$rc" "$(awk "BEGIN { print $1 / 1024 }")" "$2" \
		"$(grep -o 'passed --max-answer-bytes\|not a regular file\|larger than 64 MiB' err.txt | head -n 1)"
}

echo "| case | exit | peak RSS MB | wall s | reason |"
echo "|---|---|---|---|---|"
export SCG_CACHE=$tmp/cache
row "scg-turn, gzip bomb of $bomb bytes" "$bin/scg-turn" -q --retries 0 --base-url "$url" --model m in.jsonl
row "scg-turn, plain 200 MB answer" "$bin/scg-turn" -q --retries 0 --base-url "$url" --model m in.jsonl
row "scg-turn --endpoint-cmd, 100 MB of output" "$bin/scg-turn" -q --retries 0 --side assistant \
	--endpoint-cmd "head -c 100000000 /dev/zero | tr '\\0' a" in.jsonl
row "scg-turn --endpoint-cmd yes (endless)" timeout -k 5 60 "$bin/scg-turn" -q --retries 0 --side assistant \
	--endpoint-cmd yes in.jsonl
row "scg-chunk /dev/zero" timeout -k 5 60 "$bin/scg-chunk" /dev/zero
row "scg-chunk <(yes) (endless pipe)" timeout -k 5 60 sh -c "yes | \"$bin/scg-chunk\" /dev/stdin"
schema='{"type":"array","minItems":100000000,"items":{"type":"string"}}'
t0=$(date +%s%N)
code=$(timeout -k 5 60 curl -s -o /dev/null -w '%{http_code}' "$url/chat/completions" \
	-d "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":$schema}}}" || echo timeout)
t1=$(date +%s%N)
printf '| scg-mock, a schema of minItems 10^8 | HTTP %s | %.1f | %.2f | |\n' "$code" \
	"$(awk '/^VmHWM/ { print $2 / 1024 }' "/proc/$mock/status")" "$(awk "BEGIN { print ($t1 - $t0) / 1e9 }")"
