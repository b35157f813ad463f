# scg-pipeline.sh: what the pipelines (simulate, seed-messages,
# knowledge, character, agent) share, sourced by each (bash): their name as
# invoked, their errors, the options every one of them takes and the
# stages each goes to, the checks made once before any stage starts, the
# exit status of file-to-file stages, and the dry run: a rehearsal of the
# whole pipeline against a private scg-mock, its usage priced per stage.
#
# Whatever belongs to the run rather than to one stage plugs in here:
# pl_begin starts the run (its name, its progress line), pl_run starts
# every model-calling stage, pl_stage every file-to-file one, pl_finish
# ends the run with its summary.
# shellcheck shell=bash disable=SC2034 # the pl_ variables are the scripts'

prog=${0##*/}

pl_die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 2
}

pl_usage_error() {
	printf '%s: %s\n' "$prog" "$*" >&2
	printf "Try '%s --help'\n" "$prog" >&2
	exit 2
}

# ---- options -------------------------------------------------------------

pl_seed=0 pl_jobs=8 pl_provider='' pl_model='' pl_base_url='' pl_key_file='' pl_rpm='' pl_tpm=''
pl_timeout='' pl_retries='' pl_budget='' pl_rejects='' pl_max_answer_bytes='' pl_extra_body=''
pl_no_cache='' pl_dry='' pl_progress='' pl_quiet='' pl_verbose='' pl_run_name=${SCG_RUN:-}
pl_batch='' pl_batch_wait='' pl_batch_retry='' pl_batch_cancel=''
PL_REST=() PL_ARGV=() PL_TAIL=()

pl_common_valued=' --provider --model --base-url --key-file -j --jobs --rpm --tpm --timeout --retries --seed --budget --run --rejects --max-answer-bytes --extra-body --batch-wait --batch-retry '
pl_common_flags=' --no-cache --dry-run --progress -q --quiet -v --verbose --batch --batch-cancel '

# The options common to the pipelines, for their --help.
pl_common_help() {
	cat <<'EOF'

Common options (scg(7)), passed to every stage that calls a model:
      --provider NAME    openai, anthropic or ollama ($SCG_PROVIDER)
      --model NAME       the model ($SCG_MODEL); scg names none of its own
      --base-url URL     the API's base URL ($SCG_BASE_URL)
      --key-file FILE    the API key (else $SCG_API_KEY, $OPENAI_API_KEY or
                         $ANTHROPIC_API_KEY)
  -j, --jobs N           requests in flight in each stage (default 8)
      --rpm N, --tpm N   requests and tokens per minute at most, in each stage
      --timeout SEC      time limit of one request (default 120)
      --retries N        retries of a failed request (default 6)
      --max-answer-bytes N[k|M|G]  largest answer taken (default 4M)
      --extra-body JSON|@FILE  members added to every request body
      --seed N           seed of every draw, in every stage (default 0)
      --no-cache         neither read nor write the response cache
      --budget USD       start no request once the estimated spend of the
                         whole run, all stages together, would pass USD
      --run NAME         the run's name ($SCG_RUN): the same NAME again goes
                         on with its spend and the assistant's cached replies
                         (default: a new run each time, or the one an
                         interrupted run left in its output folder)
      --batch            every stage that calls a model sends its requests
                         through the provider's batch API, at half the price,
                         and waits (the assistant under test stays online)
      --batch-wait=no    a stage submits its batches and the run exits 3; the
                         same command run again goes on from there
      --batch-retry online|batch  where what a batch did not answer goes
      --batch-cancel     cancel the batches of the stage that waits
      --dry-run          rehearse the whole run against a private scg-mock and
                         print the requests and cost of each stage and the
                         total; send nothing, write no output
      --rejects FILE     failed records of every stage
  -q, --quiet            nothing on stderr but errors
  -v, --verbose          every stage prints its summary too (requests, cache
                         hits, retries, tokens and cost per model)
      --progress         draw the run's progress line even when stderr is not
                         a terminal
  -h, --help             print this help and exit
Options after -- go to every stage that calls a model, after the above.
EOF
}

pl_in() {   # pl_in WORD LIST: is WORD one of the space-separated LIST?
	[[ " $2 " == *" $1 "* ]]
}

pl_common() {
	case $1 in
	--provider) pl_provider=$2 ;;
	--model) pl_model=$2 ;;
	--base-url) pl_base_url=$2 ;;
	--key-file) pl_key_file=$2 ;;
	-j | --jobs) pl_jobs=$2 ;;
	--rpm) pl_rpm=$2 ;;
	--tpm) pl_tpm=$2 ;;
	--timeout) pl_timeout=$2 ;;
	--retries) pl_retries=$2 ;;
	--seed) pl_seed=$2 ;;
	--budget) pl_budget=$2 ;;
	--run) pl_run_name=$2 ;;
	--rejects) pl_rejects=$2 ;;
	--max-answer-bytes) pl_max_answer_bytes=$2 ;;
	--extra-body) pl_extra_body=$2 ;;
	--batch) pl_batch=1 ;;
	--batch-wait) pl_batch_wait=$2 pl_batch=1 ;;
	--batch-retry) pl_batch_retry=$2 pl_batch=1 ;;
	--batch-cancel) pl_batch_cancel=1 pl_batch=1 ;;
	--no-cache) pl_no_cache=1 ;;
	--dry-run) pl_dry=1 ;;
	--progress) pl_progress=1 ;;
	-q | --quiet) pl_quiet=1 ;;
	-v | --verbose) pl_verbose=1 ;;
	*) return 1 ;;
	esac
}

# pl_parse ARG...: the command line. The script names its own options in
# PL_VALUED (those that take a value) and PL_FLAGS, and handles each in
# own_option NAME [VALUE]; --name=value is --name value; what follows --
# is PL_REST, for the model-calling stages, but for a --dry-run there,
# which is the pipeline's (as older versions had it).
pl_parse() {
	PL_ARGV=("$@")
	# the names are the library's own: own_option sets the script's
	local pl_opt pl_a
	while [ $# -gt 0 ]; do
		pl_opt=$1
		case $pl_opt in
		--) shift; break ;;
		--*=*) set -- "${pl_opt%%=*}" "${pl_opt#*=}" "${@:2}"; continue ;;
		-h | --help) usage; exit 0 ;;
		esac
		if pl_in "$pl_opt" "$pl_common_valued ${PL_VALUED:-}"; then
			[ $# -ge 2 ] || pl_usage_error "option '$pl_opt' needs a value"
			pl_common "$pl_opt" "$2" || own_option "$pl_opt" "$2"
			shift 2
		elif pl_in "$pl_opt" "$pl_common_flags ${PL_FLAGS:-}"; then
			pl_common "$pl_opt" || own_option "$pl_opt"
			shift
		elif [[ $pl_opt == -?* ]]; then
			pl_usage_error "unknown option '$pl_opt'"
		else
			pl_usage_error "unexpected argument '$pl_opt'"
		fi
	done
	PL_REST=()
	for pl_a in "$@"; do
		if [ "$pl_a" = --dry-run ]; then pl_dry=1; else PL_REST+=("$pl_a"); fi
	done
	pl_rehearsal_setup
}

# pl_args [MODEL [online]]: PL_ARGS, the options of a model-calling
# stage: the common ones given, the model when one is named, and how loud
# it is; --batch and its options unless the stage is asked online (the
# assistant under test).
pl_args() {
	PL_ARGS=(--seed "$pl_seed" -j "$pl_jobs")
	[ -z "${1:-}" ] || PL_ARGS+=(--model "$1")
	local o v
	for o in provider base-url key-file rpm tpm timeout retries budget rejects max-answer-bytes extra-body; do
		v=pl_${o//-/_}
		[ -z "${!v}" ] || PL_ARGS+=("--$o" "${!v}")
	done
	if [ -n "$pl_batch" ] && [ "${2:-}" != online ]; then
		PL_ARGS+=(--batch)
		[ -z "$pl_batch_wait" ] || PL_ARGS+=("--batch-wait=$pl_batch_wait")
		[ -z "$pl_batch_retry" ] || PL_ARGS+=(--batch-retry "$pl_batch_retry")
		[ -z "$pl_batch_cancel" ] || PL_ARGS+=(--batch-cancel)
	fi
	[ -z "$pl_no_cache" ] || PL_ARGS+=(--no-cache)
	pl_quiet_args
	PL_ARGS+=("${PL_QUIET[@]}")
}

# PL_QUIET: for every stage: no progress line of its own (the run has
# one), and -q unless -v.
pl_quiet_args() {
	PL_QUIET=(--no-progress)
	[ -n "$pl_verbose" ] && [ -z "$pl_quiet" ] || PL_QUIET+=(-q)
}

# pl_run CMD ARG...: a model-calling stage: its own ARGs, then the options
# after --, then what a rehearsal must override whatever was given.
pl_run() {
	"$@" "${PL_REST[@]}" "${PL_TAIL[@]}"
}

# ---- checks made once, before any stage starts ----------------------------

# pl_file WHAT PATH: PATH must be a readable file (or a pipe, /dev/stdin).
pl_file() {
	[ -e "$2" ] || pl_die "$1: $2: no such file"
	[ ! -d "$2" ] || pl_die "$1: $2: a folder, not a file"
	[ -r "$2" ] || pl_die "$1: $2: cannot read it"
}

# pl_input PATH: PATH is read as a stream of records (it may be a pipe,
# /dev/stdin); a dry run reads it once and gives each rehearsal a copy.
PL_INPUTS=()
pl_input() {
	PL_INPUTS+=("$1")
}

# pl_dir WHAT PATH: PATH must be a folder.
pl_dir() {
	[ -d "$2" ] || pl_die "$1: $2: not a folder"
}

# pl_check CMD ARG...: the stage as the run will start it, on no input: it
# loads its files (cards, endpoint with its ${VAR}s, templates, criteria),
# names its model and finds its key, and sends nothing. A problem stops
# the pipeline here, in one line that names the stage, before any stage
# has started. A dry run checks everything but the key.
pl_check() {
	local err rc=0
	err=$(pl_run "$@" ${pl_dry:+--dry-run} --rejects - -q 2>&1 </dev/null >/dev/null) || rc=$?
	[ "$rc" -eq 0 ] && return 0
	err=$(printf '%s\n' "$err" | grep -v "^Try '" | head -n 1)
	printf '%s: %s\n' "$prog" "${err:-$1 failed (exit $rc)}" >&2
	exit 2
}

# ---- the stages ------------------------------------------------------------

pl_status=0
# pl_stage CMD ARG...: a file-to-file stage; exit status 2 or more stops
# the run (a stage says why itself; a crash is named here), 1 (some
# records rejected) is remembered for the end; 3 (--batch-wait=no: the
# stage's batches are submitted) stops it too, to be run again later.
pl_stage() {
	# the names are the library's own: CMD may be a function of the script
	local pl_rc=0 pl_cmd=$1
	[ "$pl_cmd" != pl_run ] || pl_cmd=$2
	"$@" || pl_rc=$?
	if [ "$pl_rc" -eq 3 ] && [ -n "$pl_batch" ]; then
		pl_say "$pl_cmd submitted its batches; run the same command again to go on from there"
		exit 3
	fi
	if [ "$pl_rc" -ge 2 ]; then
		[ "$pl_rc" -eq 2 ] || printf '%s: %s failed (exit %d)\n' "$prog" "$pl_cmd" "$pl_rc" >&2
		exit "$pl_rc"
	fi
	[ "$pl_rc" -eq 0 ] || pl_status=1
	return 0
}

# pl_say LINE: the pipeline's own account of the run, unless -q.
pl_say() {
	[ -n "$pl_quiet" ] || printf '%s: %s\n' "$prog" "$*" >&2
}

# pl_where LINE: where the run's outputs are, said at the end of the
# summary (unless -q).
PL_WHERE=()
pl_where() {
	PL_WHERE+=("$*")
}

# pl_on_exit CMD: CMD is run (eval) when the script exits, after those
# given before.
PL_AT_EXIT=()
pl_on_exit() {
	PL_AT_EXIT+=("$1")
	trap pl_at_exit EXIT
}
pl_at_exit() {
	local c
	for c in "${PL_AT_EXIT[@]}"; do eval "$c"; done
}

# ---- the run ---------------------------------------------------------------
#
# A pipeline is one run (scg(7), --run): every stage joins it ($SCG_RUN),
# so --budget is the whole run's, the assistant's replies are cached within
# it, and one progress line and one summary come from its ledger
# (scg-ledger(1)) and its outputs. Without --run a pipeline begins a new
# run each time; one that writes into a folder keeps the run's name in a
# run file there until it finishes, so that the same command after an
# interruption goes on with the same run. A run named here is removed
# once it is over; one named by --run stays.

pl_run_made='' pl_run_file='' pl_watcher='' pl_begun='' pl_finished='' pl_t0=0
pl_ledger0='{}' pl_rejects0=0 pl_copy=''

# pl_begin [EXPECTED [RUNFILE]]: the run begins, before its first model
# stage; EXPECTED is how many records its output stages will write, if
# known (for the progress line), RUNFILE where the run's name is kept
# until it is over.
pl_begin() {
	local expected=${1:-} out rc=0
	pl_run_file=${2:-}
	if [ -z "$pl_run_name" ] && [ -n "$pl_run_file" ] && [ -s "$pl_run_file" ]; then
		pl_run_name=$(head -n 1 "$pl_run_file")
		pl_run_made=1
	fi
	if [ -z "$pl_run_name" ]; then
		pl_run_name=${prog#scg-}-$(date -u +%Y%m%dT%H%M%SZ)-$$
		pl_run_made=1
	fi
	# what the run had done before: the summary counts from here
	out=$(scg-ledger --json "$pl_run_name" 2>&1) || rc=$?
	case $rc in
	0) pl_ledger0=$out ;;
	1) ;;   # a new run
	*) pl_die "--run: ${out#scg-ledger: }" ;;
	esac
	[ -z "$pl_run_file" ] || printf '%s\n' "$pl_run_name" >"$pl_run_file" || exit 2
	export SCG_RUN=$pl_run_name
	pl_begun=1
	pl_t0=$SECONDS
	[ -z "$pl_rejects" ] || [ ! -f "$pl_rejects" ] || pl_rejects0=$(wc -c <"$pl_rejects")
	pl_on_exit pl_end
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [ -z "$pl_quiet" ] && { [ -n "$pl_progress" ] || [ -t 2 ]; }; then
		scg-ledger --watch --label "$prog" ${expected:+--expect "$expected"} "$pl_run_name" </dev/null >/dev/null &
		pl_watcher=$!
	fi
}

# pl_output CMD ARG...: a stage whose records are the run's output: they
# count as done on the progress line.
pl_output() {
	SCG_RUN_OUTPUT=1 "$@"
}

# pl_copy_stdout: the records the script writes on standard output pass
# through pl_stdout, which keeps a copy in $pl_copy, for the summary and
# for what the script makes of them at the end (a report).
pl_copy_stdout() {
	pl_copy=$(mktemp "${TMPDIR:-/tmp}/scg-out.XXXXXX") || exit 2
	pl_on_exit 'rm -f "$pl_copy"'
	[ -n "$pl_rehearsal" ] || pl_outputs "$pl_copy"
}
pl_stdout() {
	if [ -n "$pl_copy" ]; then tee "$pl_copy"; else cat; fi
}

# pl_where_stdout EXPORT: where the conversations on standard output went,
# as --export EXPORT wrote them (hf:DIR: a folder).
pl_where_stdout() {
	local n
	n="$(grep -c '^{' "$pl_copy" 2>/dev/null) conversations"
	case $1 in
	'') pl_where "$n on standard output" ;;
	hf:*) pl_where "$n in ${1#hf:} (a Hugging Face dataset)" ;;
	*) pl_where "$n on standard output, in $1's format" ;;
	esac
}

pl_stop_watch() {
	[ -n "$pl_watcher" ] || return 0
	kill "$pl_watcher" 2>/dev/null
	wait "$pl_watcher" 2>/dev/null
	pl_watcher=''
}

# At exit: the line is cleared; a run that stopped before its end says
# how to go on with it.
pl_end() {
	pl_stop_watch
	[ -n "$pl_begun" ] && [ -z "$pl_finished" ] && [ -z "$pl_quiet" ] || return 0
	if [ -n "$pl_run_file" ] && [ -n "$pl_run_made" ]; then
		pl_say "run $pl_run_name stopped before its end; the same command goes on with it ($pl_run_file)"
	else
		pl_say "run $pl_run_name stopped before its end; the same command with --run $pl_run_name goes on with it"
	fi
}

# pl_finish [STATUS]: the end of the run: its summary (unless -q). A
# status of 2 or more is a run that did not end: it is kept, to go on.
pl_finish() {
	local status=${1:-$pl_status}
	[ -n "$pl_begun" ] && [ "$status" -lt 2 ] || exit "$status"
	pl_stop_watch
	pl_finished=1
	[ -n "$pl_quiet" ] || pl_summary
	if [ -n "$pl_run_made" ]; then
		scg-ledger --remove "$pl_run_name" || :
	fi
	[ -z "$pl_run_file" ] || rm -f "$pl_run_file"
	exit "$status"
}

# The summary, from the ledger (what was sent, answered from the cache,
# retried and spent since pl_begin) and from the outputs (what their
# records carry, by stage and model, cache hits included, and why the
# conversations ended), the rejects by program and reason, and where the
# outputs are.
pl_summary() {
	local files=() f ledger stats=null rejects=null
	ledger=$(scg-ledger --json "$pl_run_name" 2>/dev/null) || ledger='{}'
	for f in "${PL_OUTPUTS[@]}"; do
		[ ! -f "$f" ] || files+=("$f")
	done
	[ ${#files[@]} -eq 0 ] || stats=$(scg-stats -q --json "${files[@]}" 2>/dev/null) || stats=null
	if [ -n "$pl_rejects" ] && [ -f "$pl_rejects" ]; then
		rejects=$(tail -c +$((pl_rejects0 + 1)) "$pl_rejects" |
			scg-stats -q --json --on-error skip --rejects /dev/null 2>/dev/null | jq -c .rejected) || rejects=null
	fi
	jq -r -n --arg p "$prog" --arg run "$pl_run_name" --argjson a "$pl_ledger0" --argjson b "$ledger" \
		--argjson s "$stats" --argjson rej "$rejects" --arg rejfile "$pl_rejects" \
		--arg budget "$pl_budget" --argjson took $((SECONDS - pl_t0)) '
		def usd: (. * 10000 | round) / 10000 | tostring | "$" + .;
		def pad($n): . + " " * ([$n - length, 1] | max);
		def head: "\($p): ";
		def d($k): ($b[$k] // 0) - ($a[$k] // 0);
		def row($name): head + "\($name | pad(24))\(.requests) requests, \(.prompt_tokens) prompt + \(.completion_tokens) completion tokens, \(.cost | usd)";
		def counts: to_entries | map("\(.key) \(.value)") | join(", ");
		head + "run \($run): \(d("requests")) requests sent, \(d("cached")) answered from the cache, \(d("retries")) retries, \(d("failed")) failed, \(d("spent") | usd) spent"
			+ (if $budget != "" then " of --budget \($budget)" + (if $b.over_budget then " (reached)" else "" end) else "" end)
			+ (if ($a.spent // 0) > 0 then " (\($b.spent | usd) in the whole run)" else "" end)
			+ ", \($took)s",
		($s | select(. != null) | .usage as $u
		 | ($u.stages | to_entries[] | . as $e | $e.value | row("stage " + $e.key)),
		   ($u.models | select(length > 1) | to_entries[] | . as $e | $e.value | row("model " + $e.key)),
		   ($u | select(.requests > 0) | row("total")),
		   (.stop.reason | select(length > 0) | head + "stop reasons: " + counts)),
		(d("rejected") as $n | select($n > 0)
		 | head + "\($n) records rejected"
		   + if $rej != null and $rej.count > 0 then
			" (in \($rejfile)): " + ([$rej.programs | to_entries[] | .key as $prog
				| .value.reasons | to_entries[] | {k: "\($prog): \(.key | sub(":.*"; ""))", v: .value}]
				| group_by(.k) | map("\(.[0].k) \(map(.v) | add)") | join(", "))
		     else " (on stderr)" end)
	' >&2
	for f in "${PL_WHERE[@]}"; do
		pl_say "$f"
	done
}

# ---- the dry run -----------------------------------------------------------
#
# A dry run does not guess the fan-out of a pipeline (how many set-ups a
# chunk gives, how many rounds a conversation lasts): it runs the pipeline
# itself, with the same options, against a private scg-mock on a free
# port, into a scratch folder, with a scratch cache, and sums the usage
# that the records it writes carry (meta.usage, by stage and model, priced
# under the models' own names: the built-in table and $SCG_PRICES). The
# assistant under test is a second private mock. Nothing reaches a model,
# an endpoint or a command, and nothing is written where the real run
# writes. In the rehearsal (SCG_PL_REHEARSAL names its folder) the script
# runs as usual but for the paths below.

pl_rehearsal=${SCG_PL_REHEARSAL:-}

pl_rehearsal_setup() {
	[ -n "$pl_rehearsal" ] || return 0
	pl_dry='' pl_quiet=1 pl_verbose='' pl_progress='' pl_budget='' pl_run_name='' pl_batch_wait='' pl_batch_cancel=''
	pl_rejects=$pl_rehearsal/rejects.jsonl
	PL_TAIL=(--provider openai --base-url "$SCG_PL_MOCK/v1")
}

# pl_out PATH: where the run writes PATH (a rehearsal: its scratch folder).
pl_out() {
	if [ -n "$pl_rehearsal" ]; then printf '%s/out' "$pl_rehearsal"; else printf '%s' "$1"; fi
}

# pl_outputs FILE...: the run's outputs whose records, together, carry the
# usage of every stage (each record carries the usage of what it came
# from), for the summary and the dry run; in a rehearsal standard output
# is one unless a script says otherwise.
PL_OUTPUTS=()
pl_outputs() {
	PL_OUTPUTS+=("$@")
	[ -n "$pl_rehearsal" ] || return 0
	printf '%s\n' "$@" >>"$pl_rehearsal/outputs"
}

# pl_endpoint_args FILE|'' CMD|'': the options that name the assistant
# under test. In a rehearsal the second mock plays it: the endpoint file
# with its scheme, host and port replaced when its path is one scg-mock
# serves (so the body and the answer's shape are the file's), else an
# endpoint of scg-mock's own; a command is never run.
pl_endpoint_args() {
	PL_ENDPOINT=()
	if [ -z "$pl_rehearsal" ]; then
		[ -z "$1" ] || PL_ENDPOINT=(-e "$1")
		[ -z "$2" ] || PL_ENDPOINT=(--endpoint-cmd "$2")
		return 0
	fi
	local ep=$pl_rehearsal/endpoint.yaml url=$SCG_PL_ENDPOINT_MOCK
	local served='(/v1/chat/completions|/chat/completions|/v1/messages|/api/chat)'
	if [ -n "$1" ] && [ "$(tr -d ' \t\r\n' <"$1" | head -c 1)" = '{' ]; then
		jq --arg u "$url" '.url |= sub("^[a-zA-Z]+://[^/]*(?=/)"; $u)' "$1" >"$ep" 2>/dev/null &&
			jq -e --arg u "$url" '.url | startswith($u)' "$ep" >/dev/null 2>&1 &&
			[[ $(jq -r .url "$ep") =~ ${served}$ ]] || ep=''
	elif [ -n "$1" ] && grep -Eq "^url:[[:space:]]*[\"']?[a-zA-Z]+://[^/\"' ]*${served}[\"']?[[:space:]]*(#.*)?$" "$1"; then
		sed -E "s#^(url:[[:space:]]*[\"']?)[a-zA-Z]+://[^/\"' ]*#\\1$url#" "$1" >"$ep"
	else
		ep=''
	fi
	if [ -z "$ep" ]; then
		ep=$pl_rehearsal/endpoint.yaml
		printf 'url: %s/v1/chat/completions\nbody: {model: assistant-under-test}\nresponse_path: [choices, 0, message, content]\n' \
			"$url" >"$ep"
	fi
	PL_ENDPOINT=(-e "$ep")
}

pl_mocks=()
pl_scratch=''
pl_cleanup() {
	local p
	for p in "${pl_mocks[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -z "$pl_scratch" ] || rm -rf "$pl_scratch"
}

# pl_mock DIR NAME [OPTION...]: starts a private scg-mock logging to
# DIR/NAME.log; PL_MOCK_URL is its URL.
pl_mock() {
	local dir=$1 name=$2 i
	shift 2
	: >"$dir/$name.port"
	scg-mock --port 0 --log "$dir/$name.log" --redact-env SCG_API_KEY,OPENAI_API_KEY,ANTHROPIC_API_KEY \
		"$@" >"$dir/$name.port" 2>"$dir/$name.err" 3>&- &
	pl_mocks+=($!)
	for i in $(seq 1 200); do
		[ -s "$dir/$name.port" ] && break
		sleep 0.05
	done
	[ -s "$dir/$name.port" ] || pl_die "dry run: scg-mock did not start: $(head -n 1 "$dir/$name.err")"
	PL_MOCK_URL=http://127.0.0.1:$(head -n 1 "$dir/$name.port")
}

pl_lines() {   # pl_lines FILE: its lines, 0 when there is no FILE
	if [ -f "$1" ]; then grep -c . "$1" || :; else echo 0; fi
}

# pl_rehearse DIR [OPTION...]: runs the pipeline as it was called, but
# against private mocks (the models' started with OPTIONs) and into DIR;
# leaves there the summary of its outputs (stats.json), the requests the
# assistant under test had (calls) and the records rejected (rejects).
pl_rehearse() {
	local dir=$1 models endpoint rc=0 files=() f
	shift
	mkdir "$dir" || exit 2
	pl_mock "$dir" models --batch-time 0 "$@"
	models=$PL_MOCK_URL
	pl_mock "$dir" endpoint
	endpoint=$PL_MOCK_URL
	: >"$dir/outputs"
	SCG_PL_REHEARSAL=$dir SCG_PL_MOCK=$models SCG_PL_ENDPOINT_MOCK=$endpoint SCG_CACHE=$dir/cache SCG_BATCH_POLL=0.02..0.1 \
		"$BASH" "$0" "${PL_ARGV[@]}" >"$dir/stdout" 2>"$dir/stderr" || rc=$?
	if [ "$rc" -ge 2 ]; then
		printf '%s: dry run: the rehearsal stopped (exit %d): %s\n' "$prog" "$rc" \
			"$(grep -v "^Try '" "$dir/stderr" | head -n 1)" >&2
		exit "$rc"
	fi
	[ -s "$dir/outputs" ] || echo "$dir/stdout" >"$dir/outputs"
	while IFS= read -r f; do
		[ ! -f "$f" ] || files+=("$f")
	done <"$dir/outputs"
	scg-stats --json /dev/null "${files[@]}" >"$dir/stats.json" 2>"$dir/stats.err" ||
		pl_die "dry run: scg-stats: $(head -n 1 "$dir/stats.err")"
	pl_lines "$dir/endpoint.log" >"$dir/calls"
	pl_lines "$dir/rejects.jsonl" >"$dir/rejects"
}

# pl_dry_run ASSUMPTION [BOUND ANSWER]: in a dry run, rehearses the
# pipeline, prints the estimate and exits; else returns. ASSUMPTION says
# what the estimate takes for granted beyond scg-mock's answers. With
# BOUND, a second rehearsal in which scg-mock answers every request for
# JSON with ANSWER (scg-mock --answers: a line {"match", "answer"}) gives
# the cost at most, BOUND saying when that is.
pl_dry_run() {
	[ -n "$pl_dry" ] && [ -z "$pl_rehearsal" ] || return 0
	command -v scg-mock >/dev/null || pl_die "dry run: scg-mock is not in PATH"
	pl_scratch=$(mktemp -d "${TMPDIR:-/tmp}/scg-dry-run.XXXXXX") || pl_die "dry run: cannot make a scratch folder"
	pl_on_exit pl_cleanup
	trap 'exit 130' INT TERM
	# an input that is a stream is read once, for every rehearsal
	local i a in
	for i in "${!PL_INPUTS[@]}"; do
		in=${PL_INPUTS[$i]}
		[ ! -f "$in" ] || continue
		cat -- "$in" >"$pl_scratch/input$i" || pl_die "dry run: $in: cannot read it"
		for a in "${!PL_ARGV[@]}"; do
			case ${PL_ARGV[$a]} in
			"$in") PL_ARGV[a]=$pl_scratch/input$i ;;
			--*=*) [ "${PL_ARGV[$a]#*=}" != "$in" ] || PL_ARGV[a]=${PL_ARGV[$a]%%=*}=$pl_scratch/input$i ;;
			esac
		done
	done
	pl_rehearse "$pl_scratch/run"
	local bound=null
	if [ $# -ge 3 ]; then
		printf '%s\n' "$3" >"$pl_scratch/answers.jsonl"
		pl_rehearse "$pl_scratch/bound" --answers "$pl_scratch/answers.jsonl"
		bound=$(jq -c .usage "$pl_scratch/bound/stats.json")
	fi
	jq -r --arg p "$prog" --argjson calls "$(cat "$pl_scratch/run/calls")" \
		--argjson rejects "$(cat "$pl_scratch/run/rejects")" --arg assume "$1" \
		--argjson bound "$bound" --arg when "${2:-}" --arg batch "$pl_batch" '
		def usd: (. * 10000 | round) / 10000 | tostring | "$" + .;
		def pad($n): . + " " * ([$n - length, 1] | max);
		def head: "\($p): dry run: ";
		def row($name): head + "\($name | pad(24))\(.requests) requests, ~\(.prompt_tokens) prompt + ~\(.completion_tokens) completion tokens, \(.cost | usd)";
		.usage as $u
		| head + "rehearsed against scg-mock: no model or assistant was asked, no output written",
		  ($u.stages | to_entries[] | . as $e | $e.value | row("stage " + $e.key)),
		  ($u.models | select(length > 1) | to_entries[] | . as $e | $e.value | row("model " + $e.key)),
		  (select($calls > 0) | head + "\("assistant under test" | pad(24))\($calls) requests (not priced)"),
		  ($u | row("total")),
		  (select($bound != null) | $bound | row("at most") + " (\($when))"),
		  ($u.models | to_entries[] | select(.value.cost == 0 and .value.prompt_tokens + .value.completion_tokens > 0)
		   | head + "no price for \(.key): its cost is not counted (SCG_PRICES in scg(7))"),
		  (select($rejects > 0) | head + "\($rejects) records were rejected in the rehearsal; their usage is not counted"),
		  (select($batch != "") | head + "priced at the batch price (--batch: half the table unless SCG_PRICES says otherwise)"),
		  head + "assumed: answers as long as scg-mock makes them (1 to 3 sentences of prose, or what the schema asks for), tokens as scg-mock counts them (about one a word), nothing in the cache\(if $assume != "" then "; " + $assume else "" end)"
		' "$pl_scratch/run/stats.json" >&2
	exit 0
}
