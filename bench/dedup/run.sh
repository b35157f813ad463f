#!/bin/sh
# scg-dedup benchmark: generates a corpus of planted near duplicates
# (bench/out, kept between runs), times scg-dedup in its default mode and
# with --no-verify against `jq -c .`, and checks the drops with check.py.
# usage: bench/dedup/run.sh BINDIR   (DEDUP_N records, default 1000000)
set -eu
bin=$(cd "${1:-build/bin}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../out
n=${DEDUP_N:-1000000}
mkdir -p "$out"
corpus=$out/dedup-$n.jsonl
truth=$out/dedup-$n.truth
if [ ! -s "$corpus" ] || [ ! -s "$truth" ]; then
	echo "dedup: generating $n records" >&2
	python3 "$here/gen.py" "$n" "$corpus.tmp" "$truth" && mv "$corpus.tmp" "$corpus"
fi
bytes=$(wc -c <"$corpus")
echo "dedup: corpus $n records, $bytes bytes ($((bytes / n)) a record)"
cat "$corpus" >/dev/null   # warm the page cache for every contender

t0=$(date +%s.%N)
jq -c . "$corpus" >/dev/null
t1=$(date +%s.%N)
jq_s=$(echo "$t1 - $t0" | bc)
echo "dedup: jq -c . : $jq_s s"

run() {
	name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$out/dedup-$name.time" \
		"$bin/scg-dedup" -v --dups "$out/dedup-$name.dups" "$@" "$corpus" \
		>"$out/dedup-$name.kept" 2>"$out/dedup-$name.err"
	read -r wall user sys rss <"$out/dedup-$name.time"
	kept=$(wc -l <"$out/dedup-$name.kept")
	echo "dedup: $name: $wall s wall ($user user, $sys sys), $(echo "$n / $wall" | bc) records/s," \
		"$(echo "scale=2; $wall / $jq_s" | bc)x jq, peak RSS $rss KiB," \
		"$(echo "$rss * 1024 / $kept" | bc) bytes RSS a kept record"
	sed 's/^/dedup: '"$name"': /' "$out/dedup-$name.err"
	echo "dedup: $name: $(python3 "$here/check.py" "$corpus" "$truth" "$out/dedup-$name.dups" \
		"$out/dedup-$name.kept" 0.8 "${DEDUP_SAMPLE:-20000}")"
}
run default
run no-verify --no-verify
