# bad_case N: runs the command on line N of test/bad/MANIFEST (in test/bad,
# $F its file) and checks what the manifest says it must give.

BAD_DIR=$BATS_TEST_DIRNAME/bad
# the cases are bad inputs, not a missing model (scg names none of its own)
export SCG_MODEL=mock-1

# The big inputs are made by the test that needs them rather than kept in
# the tree; bad_make NAME PATH writes one, or fails for an unknown NAME.
bad_make() {
	case $1 in
	rec-deep.jsonl)
		head -c 100000 /dev/zero | tr '\0' '[' ;;
	rec-huge-unterminated.jsonl)
		printf '{"id":"a","text":"'; head -c 12000000 /dev/zero | tr '\0' 'x'; echo ;;
	card-deep.yaml)   # 100000 nested flow sequences
		printf 'name: Deep\ndescription: '; head -c 100000 /dev/zero | tr '\0' '['
		head -c 100000 /dev/zero | tr '\0' ']'; echo ;;
	axes-deep.yaml)   # 10000 nested flow mappings
		printf 'axes:\n  mood: '; for _ in $(seq 10000); do printf '{a: '; done
		printf 'x'; head -c 10000 /dev/zero | tr '\0' '}'; echo ;;
	*)
		echo "test/bad/$1: no such file, and not one bad_make knows" >&2
		return 1 ;;
	esac >"$2"
}

bad_case() {
	local file want text cmd F out rc=0
	IFS=$'\t' read -r file want text cmd < <(sed -n "$1p" "$BAD_DIR/MANIFEST")
	cd "$BAD_DIR"
	F=$file
	if [ ! -e "$F" ]; then
		F=$BATS_TEST_TMPDIR/$file
		bad_make "$file" "$F"
	fi
	out=$(eval "${cmd//\$F/\"\$F\"}" 2>&1 >/dev/null </dev/null) || rc=$?
	printf 'want exit %s and: %s\ngot exit %s and:\n' "$want" "$text" "$rc"
	printf '%s\n' "$out" | head -c 2000
	[ "$rc" = "$want" ]
	[[ "$out" == *"$text"* ]]
	[[ "$out" != *Sanitizer* && "$out" != *"runtime error"* ]]
	# a configuration error is one line (a usage error adds the --help hint)
	if [ "$want" = 2 ]; then
		[ "$(printf '%s\n' "$out" | grep -vc '^Try ')" -eq 1 ]
	fi
}
