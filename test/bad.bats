#!/usr/bin/env bats
# The bad-input corpus: every file in test/bad/MANIFEST must give its
# one-line error naming the file and line (or field), the documented exit
# status, and no crash or sanitizer report.

load helper

@test "every malformed input in test/bad gets its error, its exit status and no crash" {
	local dir=$BATS_TEST_DIRNAME/bad
	cd "$dir"
	# the big ones are made here rather than kept in the tree
	local tmp=$BATS_TEST_TMPDIR
	head -c 100000 /dev/zero | tr '\0' '[' >"$tmp/rec-deep.jsonl"
	{ printf '{"id":"a","text":"'; head -c 12000000 /dev/zero | tr '\0' 'x'; echo; } >"$tmp/rec-huge-unterminated.jsonl"
	# 100000 flow sequences in a card, 10000 flow mappings in an axes file
	{ printf 'name: Deep\ndescription: '; head -c 100000 /dev/zero | tr '\0' '['
	  head -c 100000 /dev/zero | tr '\0' ']'; echo; } >"$tmp/card-deep.yaml"
	{ printf 'axes:\n  mood: '; for _ in $(seq 10000); do printf '{a: '; done
	  printf 'x'; head -c 10000 /dev/zero | tr '\0' '}'; echo; } >"$tmp/axes-deep.yaml"
	local n=0 failed=0 file want text cmd F out rc
	while IFS=$'\t' read -r file want text cmd; do
		case $file in '#'* | '') continue ;; esac
		n=$((n + 1))
		F=$file
		[ -e "$F" ] || F=$tmp/$file
		rc=0
		out=$(eval "${cmd//\$F/\"\$F\"}" 2>&1 >/dev/null </dev/null) || rc=$?
		if [ "$rc" != "$want" ] || [[ "$out" != *"$text"* ]] ||
			[[ "$out" == *Sanitizer* || "$out" == *"runtime error"* ]]; then
			echo "FAIL $file: exit $rc (want $want): $out" | head -c 600
			echo
			failed=$((failed + 1))
		fi
		# a configuration error is one line (a usage error adds the --help hint)
		if [ "$want" = 2 ] && [ "$(printf '%s\n' "$out" | grep -vc '^Try ')" -ne 1 ]; then
			echo "FAIL $file: more than one line: $out" | head -c 600
			failed=$((failed + 1))
		fi
	done <MANIFEST
	echo "$n cases, $failed failed"
	[ "$n" -ge 40 ]
	[ "$failed" -eq 0 ]
}
