#!/bin/sh
# The CPU the figures were measured on: its model and the vector
# extensions it has (from /proc/cpuinfo; lscpu where that names no model).
model=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
[ -n "$model" ] || model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
ext=$(grep -m 1 -E '^(flags|Features)' /proc/cpuinfo | tr ' ' '\n' |
	grep -x -E 'sse4_2|avx|avx2|bmi2|fma|avx512[a-z0-9_]*|asimd|sve[0-9]*' | tr '\n' ' ')
echo "cpu: ${model:-unknown}, $(nproc) cores; vector extensions: ${ext:-none}"
