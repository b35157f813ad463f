/* scg-mock: a local fake of the OpenAI Chat Completions, Anthropic Messages
 * and Ollama chat APIs. Answers are deterministic (gen.h), faults are
 * injected by rate or by script (a hostile server's too: echoed
 * credentials, huge and gzip-bomb bodies, errors inside a 200, negative
 * usage), and every request is logged with its headers (secrets
 * redacted) so that tests can check what a client sent. */
#include "mock.h"
#include "opt.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mock_conf conf = {.host = "127.0.0.1", .retry_ms = 100, .stall_ms = 30000,
			 .batch_ms = 2000, .batch_expire = -1, .batch_max = 100000};

static const char *script_path;

/* MS or MIN..MAX; parse_range() would read "300..800" as "300." and fail */
static void latency_opt(const char *name, const char *arg)
{
	const char *dots = strstr(arg, "..");
	char *lo = dots ? xstrndup(arg, (size_t)(dots - arg)) : xstrdup(arg), *end;
	conf.lat_lo = conf.lat_hi = strtod(lo, &end);
	int bad = end == lo || *end;
	if (dots) {
		conf.lat_hi = strtod(dots + 2, &end);
		bad |= end == dots + 2 || *end;
	}
	free(lo);
	if (bad || conf.lat_lo < 0 || conf.lat_hi < conf.lat_lo)
		usage_error("%s: expected MS or MIN..MAX, got '%s'", name, arg);
}

static void answers_opt(const char *name, const char *arg)
{
	(void)name;
	answer_canned_load(arg);
}

/* emptied at start, then appended to: a log emptied while the server runs
 * (: >log) starts again at its beginning */
static void log_opt(const char *name, const char *arg)
{
	(void)name;
	int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || !(conf.log = fdopen(fd, "a")))
		die("%s: %s", arg, strerror(errno));
}

static void key_opt(const char *name, const char *arg)
{
	(void)name;
	conf.key = arg;
	secret_add(arg);
}

static void redact_env_opt(const char *name, const char *arg)
{
	(void)name;
	for (const char *p = arg; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		char *var = xstrndup(p, strcspn(p, ","));
		secret_add(getenv(var));
		free(var);
	}
}

static void models_opt(const char *name, const char *arg)
{
	(void)name;
	for (const char *p = arg; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		conf.models = xrealloc(conf.models, sizeof *conf.models * (size_t)(conf.nmodels + 1));
		conf.models[conf.nmodels++] = xstrndup(p, strcspn(p, ","));
	}
}

static const struct opt options[] = {
	OPT_INT(0, "port", &conf.port, "N", 0, 65535,
		"listen on port N; 0 (default) takes a free one; the port is the first line "
		"on stdout"),
	OPT_STRING(0, "host", &conf.host, "ADDR", "address to listen on (default 127.0.0.1)"),
	OPT_CALL(0, "answers", "FILE", answers_opt,
		 "canned structured answers: {\"match\": TEXT or [TEXT...], \"answer\": VALUE} "
		 "a line; a request for JSON whose body holds every TEXT gets the first such "
		 "VALUE"),
	OPT_CALL(0, "latency", "MS|MIN..MAX", latency_opt,
		 "delay of every answer, fixed or drawn per request"),
	OPT_LONG(0, "rpm", &conf.rpm, "N", 1, 10000000,
		 "answer 429 to more than N requests a minute"),
	OPT_CALL(0, "fail", "KIND=RATE,...", fault_rates_opt,
		 "inject faults: 429 quota toolarge 500 502 503 529 noretry drop stall garbage "
		 "invalid 400 403 408 409 echo401 echo error200 huge gzip, each with a rate in "
		 "0..1"),
	OPT_STRING(0, "script", &script_path, "FILE",
		   "one outcome a line (ok or a KIND, optionally retry-after=S, "
		   "retry-after-date=S, retry-after-ms=MS, should-retry=true|false, times=N, "
		   "bytes=N, usage=N), in arrival order"),
	OPT_DOUBLE(0, "retry-after-ms", &conf.retry_ms, "MS", 0, 1e9,
		   "the wait a 429 asks for (default 100)"),
	OPT_DOUBLE(0, "stall-ms", &conf.stall_ms, "MS", 0, 1e9,
		   "how long a stall lasts (default 30000)"),
	OPT_CALL(0, "log", "FILE", log_opt,
		 "log every request as a JSON line (secrets redacted)"),
	OPT_CALL(0, "key", "KEY", key_opt, "require this API key (never logged)"),
	OPT_CALL(0, "redact-env", "VAR,...", redact_env_opt,
		 "never log the values of these environment variables"),
	OPT_CALL(0, "models", "LIST", models_opt, "only these models exist (comma-separated)"),
	OPT_FLAG(0, "strict", &conf.strict,
		 "enforce Anthropic's first-user and alternation rules"),
	OPT_DOUBLE(0, "batch-time", &conf.batch_ms, "MS", 0, 1e9,
		   "how long a batch takes, its requests ending one after another (default 2000)"),
	OPT_CALL(0, "batch-fail", "KIND=RATE,...", batch_fail_opt,
		 "requests in batches that fail: 400 (not retried), 500, expired (never run) "
		 "or zero (OpenAI's status_code 0), each with a rate in 0..1, drawn per custom_id"),
	OPT_DOUBLE(0, "batch-expire", &conf.batch_expire, "PART", 0, 1,
		   "batches expire at the end of --batch-time with only PART (0..1) of their "
		   "requests done"),
	OPT_LONG(0, "batch-max-requests", &conf.batch_max, "N", 1, 100000,
		 "refuse a batch of more than N requests (default 100000; OpenAI's limit is 50000)"),
	OPT_DOUBLE(0, "tool-errors", &conf.tool_errors, "RATE", 0, 1,
		   "make this share of the tool calls malformed: an unknown tool, arguments "
		   "that do not fit, or (OpenAI) arguments that are not JSON"),
	OPT_END,
};

static const struct opt_prog prog = {
	.name = "scg-mock",
	.synopsis = "[--port N] [--latency MS|MIN..MAX] [--fail KIND=RATE,...] [--script FILE] [options]",
	.summary = "Serve fake OpenAI, Anthropic and Ollama chat APIs with deterministic answers.",
	.common = OPT_BASIC,
	.opts = options,
};

int main(int argc, char **argv)
{
	int i = opt_parse(&prog, argc, argv);
	if (i < argc)
		usage_error("unexpected operand '%s'", argv[i]);
	fault_init(script_path);

	/* the server threads inherit the mask: only main takes the signals */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct MHD_Daemon *d = server_start();
	int sig;
	sigwait(&sigs, &sig);
	server_stop(d);

	if (conf.log)
		fclose(conf.log);
	fault_free();
	batch_free();
	answer_canned_free();
	for (int m = 0; m < conf.nmodels; m++)
		free(conf.models[m]);
	free(conf.models);
	return 0;
}
