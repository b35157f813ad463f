#!/bin/sh
# scg-dedup benchmark. For each size and two corpora of gen.py (as it is,
# and with 25% near misses, --near-misses 0.25), kept in bench/out between
# runs: checks the drops with check.py and that every vector path writes
# the same bytes, then times `jq -c .` and scg-dedup on every path this
# machine has (SCG_SIMD forces each), default mode and --no-verify, in
# interleaved rounds that each start on another path (glibc told to use no
# wider unit than the path). The machine may be shared: each ratio to jq
# is taken within a round, and the median of the rounds is given, with
# the load.
# usage: bench/dedup/run.sh BINDIR
#   DEDUP_N       sizes (default "100000 1000000")
#   DEDUP_ROUNDS  rounds (default 5 up to 100,000 records, else 3)
#   DEDUP_PATHS   vector paths (default: all that scg-dedup -v lists)
#   DEDUP_SAMPLE  pairs and drops check.py samples (default 20000)
set -eu
bin=$(cd "${1:-build/bin}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../out
mkdir -p "$out"
sh "$here/../cpu.sh"
paths=${DEDUP_PATHS:-$("$bin/scg-dedup" -v </dev/null 2>&1 |
	sed -n 's/.*(this machine: \([^;]*\);.*/\1/p')}
echo "dedup: vector paths: $paths (by default $("$bin/scg-dedup" -v </dev/null 2>&1 |
	sed -n 's/.*vector path: \([a-z0-9]*\) .*/\1/p'))"

# The C library's own memcpy and memchr choose their vector unit too: on
# an x86 machine with more than the path forced, make glibc choose as it
# would on a machine with that path's unit at most.
libc_like() {
	no512=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD
	case $1 in
	avx2) echo "glibc.cpu.hwcaps=$no512" ;;
	portable) echo "glibc.cpu.hwcaps=$no512,-AVX2,-AVX,-AVX_Fast_Unaligned_Load" ;;
	esac
}

median() { sort -n | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# timed NAME COMMAND...: one run; appends "round NAME wall cpu rss_kb"
timed() {
	name=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$out/dedup.time" "$@" >/dev/null 2>"$out/dedup.err" ||
		{ cat "$out/dedup.err" >&2; exit 1; }
	read -r wall user sys rss <"$out/dedup.time"
	echo "$round $name $wall $(echo "$user + $sys" | bc) $rss" >>"$out/dedup.times"
}

for n in ${DEDUP_N:-100000 1000000}; do
	for kind in plain near; do
		case $kind in
		plain) corpus=$out/dedup-$n.jsonl truth=$out/dedup-$n.truth gen= ;;
		near) corpus=$out/dedup-near-$n.jsonl truth=$out/dedup-near-$n.truth gen="--near-misses 0.25" ;;
		esac
		if [ ! -s "$corpus" ] || [ ! -s "$truth" ]; then
			echo "dedup: generating $kind $n" >&2
			python3 "$here/gen.py" $gen "$n" "$corpus.tmp" "$truth" && mv "$corpus.tmp" "$corpus"
		fi
		bytes=$(wc -c <"$corpus")
		echo
		echo "### dedup: $kind corpus${gen:+ ($gen)}, $n records, $bytes bytes"
		cat "$corpus" >/dev/null   # the page cache warm for every contender
		for mode in default no-verify; do
			opt=
			[ $mode = default ] || opt=--$mode
			first=
			for p in $paths; do
				SCG_SIMD=$p "$bin/scg-dedup" -v $opt --dups "$out/dedup-$mode.$p.dups" \
					"$corpus" >"$out/dedup-$mode.$p.kept" 2>"$out/dedup-$mode.err"
				if [ -z "$first" ]; then
					first=$p
				else
					cmp -s "$out/dedup-$mode.$first.kept" "$out/dedup-$mode.$p.kept" &&
						cmp -s "$out/dedup-$mode.$first.dups" "$out/dedup-$mode.$p.dups" ||
						{ echo "dedup: $mode: $p differs from $first" >&2; exit 1; }
				fi
			done
			echo "$mode: the same bytes on every path ($paths)"
			grep -E 'LSH|memory' "$out/dedup-$mode.err" | sed "s/^scg-dedup: /$mode: /"
			echo "$mode: $(python3 "$here/check.py" "$corpus" "$truth" "$out/dedup-$mode.$first.dups" \
				"$out/dedup-$mode.$first.kept" 0.8 "${DEDUP_SAMPLE:-20000}")"
			wc -l <"$out/dedup-$mode.$first.kept" >"$out/dedup-$mode.nkept"
		done
		rounds=${DEDUP_ROUNDS:-$([ "$n" -le 100000 ] && echo 5 || echo 3)}
		: >"$out/dedup.times"
		loads=
		round=1
		runs=
		for p in $paths; do
			runs="$runs $p/default $p/no-verify"
		done
		while [ $round -le "$rounds" ]; do
			loads="$loads $(cut -d ' ' -f 1 /proc/loadavg)"
			timed jq jq -c . "$corpus"
			# each round starts on another path: the first run after jq
			# meets memory the machine must hand out afresh (more system
			# time on this virtual machine)
			set -- $runs
			k=$(((round - 1) * 2 % $#)) i=0 order=
			for r; do [ $i -lt $k ] || order="$order $r"; i=$((i + 1)); done
			i=0
			for r; do [ $i -ge $k ] || order="$order $r"; i=$((i + 1)); done
			for r in $order; do
				opt=
				[ "${r#*/}" = default ] || opt=--no-verify
				timed "$r" env SCG_SIMD="${r%/*}" GLIBC_TUNABLES="$(libc_like "${r%/*}")" \
					"$bin/scg-dedup" -q $opt "$corpus"
			done
			round=$((round + 1))
		done
		echo "$rounds interleaved rounds; load average (1 min) at the start of each:$loads"
		echo
		echo "| run | wall s, median | CPU s, median | wall × jq | CPU × jq | peak RSS MiB | RSS bytes a kept record |"
		echo "|---|---|---|---|---|---|---|"
		# each run against jq in its own round
		awk 'NR == FNR { if ($2 == "jq") { w[$1] = $3; c[$1] = $4 } next }
		     { print $2, $3, $4, $5, $3 / w[$1], $4 / c[$1] }' \
			"$out/dedup.times" "$out/dedup.times" >"$out/dedup.ratios"
		for name in $(awk '{ print $1 }' "$out/dedup.ratios" | awk '!seen[$0]++'); do
			col() { awk -v n="$name" -v c="$1" '$1 == n { print $c }' "$out/dedup.ratios" | median; }
			rss=$(col 4)
			case $name in
			jq) per=- ;;
			*) per=$(echo "$rss * 1024 / $(cat "$out/dedup-${name#*/}.nkept")" | bc) ;;
			esac
			printf '| %s | %.2f | %.2f | %.3f | %.3f | %.0f | %s |\n' "$name" "$(col 2)" "$(col 3)" \
				"$(col 5)" "$(col 6)" "$(echo "$rss / 1024" | bc -l)" "$per"
		done
	done
done
