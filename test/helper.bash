# Shared set-up for the bats tests: the programs under test come first in
# PATH, and scg-mock runs on a free loopback port for the test that asks.

SCG_BIN=${SCG_BIN:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)/build/bin}
PATH=$SCG_BIN:$(cd "$BATS_TEST_DIRNAME/.." && pwd)/pipelines:$PATH
FIXTURES=$BATS_TEST_DIRNAME/fixtures
export SCG_CACHE=$BATS_TEST_TMPDIR/cache
export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/xdg
unset SCG_PROVIDER SCG_MODEL SCG_BASE_URL SCG_API_KEY OPENAI_API_KEY ANTHROPIC_API_KEY SCG_WIKI_URL

# mock_start [scg-mock options]: starts scg-mock on port 0 and sets
# MOCK_PORT, MOCK_URL (http://127.0.0.1:PORT), MOCK_LOG (its request log)
# and, for the openai provider, SCG_BASE_URL and SCG_MODEL.
mock_start() {
	MOCK_OUT=$BATS_TEST_TMPDIR/mock.out
	MOCK_LOG=$BATS_TEST_TMPDIR/mock.log
	: >"$MOCK_OUT"
	scg-mock --port 0 --log "$MOCK_LOG" "$@" >"$MOCK_OUT" 2>"$BATS_TEST_TMPDIR/mock.err" 3>&- &
	MOCK_PID=$!
	local i
	for i in $(seq 1 200); do
		[ -s "$MOCK_OUT" ] && break
		kill -0 "$MOCK_PID" 2>/dev/null || break
		sleep 0.05
	done
	MOCK_PORT=$(head -n 1 "$MOCK_OUT")
	[ -n "$MOCK_PORT" ] || { cat "$BATS_TEST_TMPDIR/mock.err" >&2; return 1; }
	MOCK_URL=http://127.0.0.1:$MOCK_PORT
	export SCG_BASE_URL=$MOCK_URL/v1 SCG_MODEL=mock-1 SCG_PROVIDER=openai
}

mock_stop() {
	if [ -n "${MOCK_PID:-}" ] && ! kill -0 "$MOCK_PID" 2>/dev/null; then
		echo "scg-mock died during the test; its stderr:" >&2
		cat "$BATS_TEST_TMPDIR/mock.err" >&2
	fi
	if [ -n "${MOCK_PID:-}" ]; then
		kill "$MOCK_PID" 2>/dev/null || true
		wait "$MOCK_PID" 2>/dev/null || true
		MOCK_PID=
	fi
}

# wiki_start: starts test/fake-wiki.py (a fake MediaWiki API serving
# test/fixtures/wiki) on port 0 and sets WIKI_LOG (one line a request) and
# SCG_WIKI_URL (http://127.0.0.1:PORT/{lang}/w/api.php).
wiki_start() {
	local out=$BATS_TEST_TMPDIR/wiki.out i
	WIKI_LOG=$BATS_TEST_TMPDIR/wiki.log
	: >"$out"
	: >"$WIKI_LOG"
	python3 "$BATS_TEST_DIRNAME/fake-wiki.py" "$FIXTURES/wiki" "$WIKI_LOG" >"$out" 2>"$BATS_TEST_TMPDIR/wiki.err" 3>&- &
	WIKI_PID=$!
	for i in $(seq 1 200); do
		[ -s "$out" ] && break
		kill -0 "$WIKI_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$out" ] || { cat "$BATS_TEST_TMPDIR/wiki.err" >&2; return 1; }
	export SCG_WIKI_URL="http://127.0.0.1:$(head -n 1 "$out")/{lang}/w/api.php"
}

wiki_stop() {
	if [ -n "${WIKI_PID:-}" ]; then
		kill "$WIKI_PID" 2>/dev/null || true
		wait "$WIKI_PID" 2>/dev/null || true
		WIKI_PID=
	fi
}

# wiki_requests: how many requests the fake wiki has had.
wiki_requests() {
	wc -l <"$WIKI_LOG" | tr -d ' '
}

# mock_requests: how many requests the mock has logged.
mock_requests() {
	if [ -f "$MOCK_LOG" ]; then wc -l <"$MOCK_LOG" | tr -d ' '; else echo 0; fi
}

# Every test runs in its own empty directory.
setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

teardown() {
	mock_stop
	wiki_stop
}
