#!/usr/bin/env bats
# scg-turn --endpoint-cmd: the assistant under test as a command, run by
# the same executor as a model (retries, timeouts, -j, rejects).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	for i in 1 2 3 4 5 6 7 8; do echo "{\"id\":\"r$i\",\"messages\":[{\"role\":\"user\",\"content\":\"q$i\"}]}"; done >in.jsonl
}

@test "a command that exits non-zero is retried, then its reply is used" {
	# fails on the first try of each record, answers on the second
	cat >flaky.sh <<'SH'
id=$(jq -r .id)
if [ ! -e "tried.$id" ]; then : >"tried.$id"; exit 3; fi
echo "answer to $id"
SH
	run scg-turn -q --side assistant --retries 2 --endpoint-cmd "sh flaky.sh" in.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq -r '.messages[-1].content' <<<"$output" | head -n 2 | tr '\n' '|')" = "answer to r1|answer to r2|" ]
	[ "$(wc -l <<<"$output")" -eq 8 ]
}

@test "a command that always fails sends its record to the rejects; the rest come out" {
	run bash -c 'scg-turn -q --side assistant --retries 1 --rejects rej.jsonl \
		--endpoint-cmd "id=\$(jq -r .id); [ \$id != r3 ] || exit 5; echo ok \$id" in.jsonl 2>/dev/null'
	[ "$status" -eq 1 ]
	[ "$(jq -r .id <<<"$output" | tr '\n' ' ')" = "r1 r2 r4 r5 r6 r7 r8 " ]
	[ "$(jq -r .id rej.jsonl)" = r3 ]
	[[ "$(jq -r .error.reason rej.jsonl)" == *"exit"*"5"* ]]
}

@test "a command past --timeout is killed and the record rejected, without waiting for it" {
	local t0 t1
	t0=$(date +%s)
	run bash -c 'head -n 1 in.jsonl | scg-turn -q --side assistant --timeout 0.5 --retries 1 \
		--rejects rej.jsonl --endpoint-cmd "sleep 30; echo late" 2>/dev/null'
	t1=$(date +%s)
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$(jq -r .error.reason rej.jsonl)" == *"no answer within 0.5s"* ]]
	# two tries of half a second, not the 30 s the command wanted
	[ $((t1 - t0)) -lt 25 ]
	# and the command was killed, not left running
	! pgrep -f "sleep 30; echo late" >/dev/null
}

@test "-j runs several commands at once" {
	# each call notes how many calls are running while it sleeps
	cat >slow.sh <<'SH'
id=$(jq -r .id)
: >"running.$id"
sleep 0.4
ls running.* | wc -l >"seen.$id"
rm -f "running.$id"
echo "done $id"
SH
	scg-turn -q --side assistant -j 4 --endpoint-cmd "sh slow.sh" in.jsonl >out.jsonl
	[ "$(wc -l <out.jsonl)" -eq 8 ]
	[ "$(cat seen.* | sort -n | tail -n 1)" -ge 2 ]
	# and -j 1 never does
	rm -f seen.*
	scg-turn -q --no-cache --side assistant -j 1 --endpoint-cmd "sh slow.sh" <(head -n 3 in.jsonl) >/dev/null
	[ "$(cat seen.* | sort -n | tail -n 1)" -eq 1 ]
}
