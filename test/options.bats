#!/usr/bin/env bats
# The options of every program: each row of its option tables (its own and
# the common groups it takes, read from the source) is listed by --help and
# accepted by the parser, and every option its man page names in SYNOPSIS
# and OPTIONS is listed by --help, so that neither can drift from the code.

load helper

ROOT=$BATS_TEST_DIRNAME/..

# sources PROG: the C files of PROG (cmd/PROG.c, or the folder of its own)
sources() {
	if [ -f "$ROOT/cmd/$1.c" ]; then
		echo "$ROOT/cmd/$1.c"
	else
		ls "$ROOT/${1#scg-}"/*.c
	fi
}

# rows FILE [TABLE]: "TYPE LETTER NAME VALUE" for each OPT_* row of FILE
# (of the table TABLE only, if given); LETTER and NAME are - when absent,
# VALUE is 1 when the option takes a value.
rows() {
	if [ -n "${2:-}" ]; then
		sed -n "/^static const struct opt $2\[\] = {/,/^};/p" "$1"
	else
		cat "$1"
	fi | awk '
	{ text = text $0 " " }
	END {
		while (match(text, /OPT_(FLAG|STRING|INT|LONG|DOUBLE|CHOICE|CALL|ALIAS)\(/)) {
			type = substr(text, RSTART + 4, RLENGTH - 5)
			text = substr(text, RSTART + RLENGTH)
			split(text, a, ",")
			for (i = 1; i <= 3; i++)
				gsub(/^[ \t]+|[ \t)]+$|["\047]/, "", a[i])
			if (type == "ALIAS") {
				print type, "-", a[1], value
				continue
			}
			value = type == "FLAG" || (type == "CALL" && a[3] == "NULL") ? 0 : 1
			print type, (a[1] == "0" ? "-" : a[1]), (a[2] == "NULL" ? "-" : a[2]), value
		}
	}'
}

# help_options PROG: the options in the option column of PROG --help, one a line
help_options() {
	"$1" --help | awk '/^(  -[^-]|      --)/ {
		sub(/^ +/, "")
		i = index($0, "  ")
		col = i ? substr($0, 1, i - 1) : $0
		n = split(col, t, /[ ,]+/)
		for (j = 1; j <= n; j++)
			if (t[j] ~ /^-/)
				print t[j]
	}'
}

# man_options PAGE: the options PAGE names in its SYNOPSIS and on the .It
# lines of its OPTIONS ("Fl qv" is -q and -v)
man_options() {
	awk '/^\.Sh SYNOPSIS/ { s = 1; next } /^\.Sh OPTIONS/ { s = 2; next } /^\.Sh/ { s = 0 }
	     s == 1 || (s == 2 && /^\.It/)' "$1" |
		grep -o 'Fl [^ ]*' | sed 's/^Fl //; s/^\\//' |
		awk '/^-/ { print "-" $0; next } { for (i = 1; i <= length($0); i++) print "-" substr($0, i, 1) }' |
		sort -u
}

# accepted PROG OPTION VALUE: the parser knows OPTION: without its value it
# asks for one; an option that takes none goes with --help.
accepted() {
	if [ "$3" = 1 ]; then
		run "$1" "$2" </dev/null
		[ "$status" -eq 2 ] && [ "${lines[0]}" = "$1: option '$2' needs a value" ] ||
			{ echo "$1 $2 (without a value): exit $status: $output"; return 1; }
	else
		run "$1" "$2" --help </dev/null
		[ "$status" -eq 0 ] && [ -n "$output" ] ||
			{ echo "$1 $2 --help: exit $status: $output"; return 1; }
	fi
}

check_options() {
	local prog=$1 src f type letter name value opt given
	src=$(sources "$prog")
	help_options "$prog" >help.txt
	[ -s help.txt ]
	{
		for f in $src; do
			rows "$f"
		done
		rows "$ROOT/lib/opt.c" basic_opts
		if grep -q 'OPT_MODEL' $src; then
			for t in model_opts prompt_opts request_opts; do
				rows "$ROOT/lib/opt.c" $t
			done
		fi
	} >table.txt
	[ "$(wc -l <table.txt)" -gt 7 ]
	while read -r type letter name value; do
		given=()
		[ "$letter" = - ] || given+=("-$letter")
		[ "$name" = - ] || given+=("--$name")
		for opt in "${given[@]}"; do
			grep -qFx -- "$opt" help.txt || { echo "$prog: $opt ($type) is not in --help"; return 1; }
			accepted "$prog" "$opt" "$value" || return 1
		done
	done <table.txt
	man_options "$ROOT/man/$prog.1" >man.txt
	[ -s man.txt ]
	while read -r opt; do
		grep -qFx -- "$opt" help.txt || { echo "$prog(1) names $opt; --help does not list it"; return 1; }
	done <man.txt
}

@test "scg-chunk: --help lists every option it takes and every option of its man page" {
	check_options scg-chunk
}

@test "scg-dedup: --help lists every option it takes and every option of its man page" {
	check_options scg-dedup
}

@test "scg-dpo: --help lists every option it takes and every option of its man page" {
	check_options scg-dpo
}

@test "scg-export: --help lists every option it takes and every option of its man page" {
	check_options scg-export
}

@test "scg-judge: --help lists every option it takes and every option of its man page" {
	check_options scg-judge
}

@test "scg-ledger: --help lists every option it takes and every option of its man page" {
	check_options scg-ledger
}

@test "scg-mock: --help lists every option it takes and every option of its man page" {
	check_options scg-mock
}

@test "scg-personas: --help lists every option it takes and every option of its man page" {
	check_options scg-personas
}

@test "scg-report: --help lists every option it takes and every option of its man page" {
	check_options scg-report
}

@test "scg-restyle: --help lists every option it takes and every option of its man page" {
	check_options scg-restyle
}

@test "scg-scenes: --help lists every option it takes and every option of its man page" {
	check_options scg-scenes
}

@test "scg-show: --help lists every option it takes and every option of its man page" {
	check_options scg-show
}

@test "scg-stats: --help lists every option it takes and every option of its man page" {
	check_options scg-stats
}

@test "scg-turn: --help lists every option it takes and every option of its man page" {
	check_options scg-turn
}

@test "every program has its test here" {
	for p in "$SCG_BIN"/*; do
		grep -q "^	check_options ${p##*/}\$" "$BATS_TEST_FILENAME" || { echo "no test for ${p##*/}"; return 1; }
	done
}

@test "a value out of range names the option as it was given, once" {
	run scg-show -w 5 </dev/null
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "scg-show: -w: expected an integer from 20 to 1000, got '5'" ]
	run scg-show --width 5 </dev/null
	[ "${lines[0]}" = "scg-show: --width: expected an integer from 20 to 1000, got '5'" ]
	run scg-show --wid=5 </dev/null
	[ "${lines[0]}" = "scg-show: --width: expected an integer from 20 to 1000, got '5'" ]
	run scg-show --colour=pink </dev/null
	[ "${lines[0]}" = "scg-show: --colour: expected auto, always or never, got 'pink'" ]
}

@test "scg(7): the common options it names are the common rows, each listed by --help" {
	# the basic options in its first paragraph, the others on .It lines
	awk '/^\.Ss Common options/ { p = 1; next } /^\.S[sh]/ { p = 0 } /^Programs that call a model/ { p = 2 }
	     p == 1 || (p == 2 && /^\.It/)' "$ROOT/man/scg.7" |
		grep -o 'Fl [^ ]*' | sed 's/^Fl //' |
		awk '/^-/ { print "-" $0; next } { for (i = 1; i <= length($0); i++) print "-" substr($0, i, 1) }' |
		sort -u >man.txt
	for t in basic_opts model_opts prompt_opts request_opts; do
		rows "$ROOT/lib/opt.c" $t
	done | awk '$2 != "-" { print "-" $2 } $3 != "-" { print "--" $3 }' | sort -u >table.txt
	help_options scg-turn >help.txt
	run comm -3 man.txt table.txt
	[ -z "$output" ] || { echo "in scg(7) only / in the tables only: $output"; return 1; }
	while read -r opt; do
		grep -qFx -- "$opt" help.txt || { echo "scg-turn --help does not list $opt"; return 1; }
	done <table.txt
}
