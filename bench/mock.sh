# bench/mock.sh, sourced by the benchmarks: bench_mock BIN DIR [OPTION...]
# starts BIN/scg-mock with the options on a free port of 127.0.0.1 (its
# port in DIR/port, its errors in DIR/mock.err), waits up to 5 s for it,
# leaves its pid in $mock and points the programs at it (SCG_PROVIDER,
# SCG_BASE_URL, SCG_MODEL). The caller's trap stops it.
bench_mock() {
	bm_bin=$1 bm_dir=$2
	shift 2
	"$bm_bin/scg-mock" --port 0 "$@" >"$bm_dir/port" 2>"$bm_dir/mock.err" &
	mock=$!
	bm_i=0
	while [ ! -s "$bm_dir/port" ] && [ $bm_i -lt 100 ]; do sleep 0.05; bm_i=$((bm_i + 1)); done
	[ -s "$bm_dir/port" ] || { echo "bench: scg-mock did not start: $(cat "$bm_dir/mock.err")" >&2; exit 1; }
	export SCG_PROVIDER=openai SCG_BASE_URL=http://127.0.0.1:$(head -n 1 "$bm_dir/port")/v1 SCG_MODEL=mock-1
}
