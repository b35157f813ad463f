#!/bin/sh
# orders.sh: the order desk's tools for scg-turn --tool-cmd (orders.jq).
exec jq -c -f "$(dirname -- "$0")/orders.jq"
