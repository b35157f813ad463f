#!/bin/sh
# make bench: every benchmark, on the programs in $1.
set -eu
bin=$1
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
sh bench/cpu.sh
echo
echo "## model client (scg-turn against scg-mock)"
sh bench/client.sh "$bin"
echo
echo "## the client's instructions per request (callgrind)"
sh bench/callgrind.sh "$bin"
for b in bench/*/run.sh; do
	[ -e "$b" ] || continue
	echo
	echo "## $(basename "$(dirname "$b")")"
	sh "$b" "$bin"
done
