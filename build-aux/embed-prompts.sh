#!/bin/sh
# Turns prompts/NAME.txt into a C table {name, text} compiled into libscg.
echo '/* generated from prompts/ by build-aux/embed-prompts.sh; do not edit */'
echo '#include <stddef.h>'
echo 'const struct { const char *name, *text; } scg_prompts[] = {'
for f in "$@"; do
	name=$(basename "$f" .txt)
	printf '\t{"%s",\n' "$name"
	awk '{ gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); printf "\t \"%s\\n\"\n", $0 }' "$f"
	printf '\t},\n'
done
echo '	{NULL, NULL},'
echo '};'
