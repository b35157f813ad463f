# scg-pipeline.sh: what the pipelines (simulate, seed-messages,
# knowledge, character, agent) share, sourced by each (bash): their name as
# invoked, their errors, the options every one of them takes and the
# stages each goes to, the checks made once before any stage starts, the
# exit status of file-to-file stages, and the dry run: a rehearsal of the
# whole pipeline against a private scg-mock, its usage priced per stage.
#
# Whatever belongs to the run rather than to one stage plugs in here:
# pl_run starts every model-calling stage, pl_stage every file-to-file
# one, pl_finish ends the run.
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
pl_no_cache='' pl_dry='' pl_progress='' pl_quiet='' pl_verbose=''
pl_batch='' pl_batch_wait='' pl_batch_retry='' pl_batch_cancel=''
PL_REST=() PL_ARGV=() PL_TAIL=()

pl_common_valued=' --provider --model --base-url --key-file -j --jobs --rpm --tpm --timeout --retries --seed --budget --rejects --max-answer-bytes --extra-body --batch-wait --batch-retry '
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
      --budget USD       each stage starts no request once its own estimated
                         spend would pass USD
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
  -v, --verbose          every stage prints its summary (requests, cache hits,
                         retries, tokens and cost per model) on stderr
      --progress         every stage draws its progress line on stderr
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

# PL_QUIET: -q unless -v, and --progress when asked for; for every stage.
pl_quiet_args() {
	PL_QUIET=()
	[ -n "$pl_verbose" ] && [ -z "$pl_quiet" ] || PL_QUIET+=(-q)
	[ -z "$pl_progress" ] || PL_QUIET+=(--progress)
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

# pl_finish [STATUS]: the end of the run.
pl_finish() {
	exit "${1:-$pl_status}"
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
	pl_dry='' pl_quiet=1 pl_verbose='' pl_progress='' pl_budget='' pl_batch_wait='' pl_batch_cancel=''
	pl_rejects=$pl_rehearsal/rejects.jsonl
	PL_TAIL=(--provider openai --base-url "$SCG_PL_MOCK/v1")
}

# pl_out PATH: where the run writes PATH (a rehearsal: its scratch folder).
pl_out() {
	if [ -n "$pl_rehearsal" ]; then printf '%s/out' "$pl_rehearsal"; else printf '%s' "$1"; fi
}

# pl_outputs FILE...: the run's outputs whose records, together, carry the
# usage of every stage (each record carries the usage of what it came
# from); standard output is one unless a script says otherwise.
pl_outputs() {
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
	trap pl_cleanup EXIT
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
