/* prompt: built-in prompt texts and their overrides. */
#include "prompt.h"
#include "conv.h"
#include "tmpl.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

extern const struct {
	const char *name, *text;
} scg_prompts[];

static char **override_text;
static struct prompt_config cfg;

void prompt_configure(const struct prompt_config *c)
{
	cfg = *c;
}

static const char *builtin(const char *name)
{
	for (int i = 0; scg_prompts[i].name; i++)
		if (!strcmp(scg_prompts[i].name, name))
			return scg_prompts[i].text;
	return NULL;
}

static int print_prompt(const char *name)
{
	const char *t = builtin(name);
	if (!t)
		return -1;
	fputs(t, stdout);
	return 0;
}

extern int (*opt_print_prompt_hook)(const char *name);
__attribute__((constructor)) static void hook(void)
{
	opt_print_prompt_hook = print_prompt;
}

void prompt_init(void)
{
	override_text = xcalloc((size_t)cfg.n + 1, sizeof *override_text);
	for (int i = 0; i < cfg.n; i++) {
		if (!builtin(cfg.names[i]))
			die("--prompt: no prompt named '%s'", cfg.names[i]);
		override_text[i] = read_text(cfg.paths[i], "--prompt", NULL);
		struct buf err = {0};
		if (tmpl_check(override_text[i], &err))
			die("--prompt: %s: %s", cfg.paths[i], err.p);
	}
}

const char *prompt_get(const char *name)
{
	for (int i = cfg.n - 1; i >= 0; i--)
		if (override_text && !strcmp(cfg.names[i], name))
			return override_text[i];
	const char *t = builtin(name);
	if (!t)
		die("internal: no prompt named '%s'", name);
	return t;
}

/* Splits at a line that is exactly "---". */
static const char *split(const char *t, size_t *syslen)
{
	const char *p = t;
	for (;;) {
		if (!strncmp(p, "---\n", 4) || !strcmp(p, "---")) {
			*syslen = (size_t)(p - t);
			return p[3] ? p + 4 : p + 3;
		}
		p = strchr(p, '\n');
		if (!p)
			return NULL;
		p++;
	}
}

static void chomp(struct buf *b)
{
	while (b->len && (b->p[b->len - 1] == '\n' || b->p[b->len - 1] == ' '))
		b->p[--b->len] = 0;
}

int prompt_render_system(const char *name, json_t *ctx, struct buf *out, struct buf *err)
{
	const char *t = prompt_get(name);
	size_t syslen;
	const char *user = split(t, &syslen);
	char *sys = user ? xstrndup(t, syslen) : xstrdup(t);
	int rc = tmpl_render(sys, ctx, out, err);
	free(sys);
	chomp(out);
	if (rc)
		buf_addf(err, " (prompt %s)", name);
	return rc;
}

/* Says once per prompt when a dynamic-prompting option gives it values it
 * never mentions: they are drawn and recorded in meta, but not sent. */
int prompt_put_system(const char *name, json_t *ctx, json_t *msgs, struct buf *err)
{
	if (conv_has_system(msgs))
		return 0;
	struct buf sys = {0};
	int bad = prompt_render_system(name, ctx, &sys, err);
	if (!bad)
		conv_put_system(msgs, sys.p);
	buf_free(&sys);
	return bad;
}

static void warn_unused(const char *name, const char *t)
{
	static char warned[32][48];
	static int nwarned;
	const struct { int given; const char *opt, *word, *how; } dyn[] = {
		{cfg.inject, "--inject", "inject", "{{inject.NAME}} or {{injections}}"},
		{cfg.templates, "--templates", "template", "{{template.text}}"},
		{cfg.examples, "--examples", "examples", "{{examples}}"},
	};
	for (size_t i = 0; i < sizeof dyn / sizeof dyn[0]; i++) {
		if (!dyn[i].given || strstr(t, dyn[i].word))
			continue;
		char key[48];
		snprintf(key, sizeof key, "%s %s", dyn[i].opt, name);
		int seen = 0;
		for (int k = 0; k < nwarned && !seen; k++)
			seen = !strcmp(warned[k], key);
		if (seen || nwarned == 32)
			continue;
		memcpy(warned[nwarned++], key, sizeof key);
		warnx_("%s: the prompt %s does not use it (%s): its values are recorded in meta "
		       "but not sent", dyn[i].opt, name, dyn[i].how);
	}
}

int prompt_messages(const char *name, json_t *ctx, json_t *msgs, struct buf *err)
{
	const char *t = prompt_get(name);
	warn_unused(name, t);
	size_t syslen;
	const char *user = split(t, &syslen);
	struct buf a = {0}, b = {0};
	int rc = 0;
	if (user) {
		char *sys = xstrndup(t, syslen);
		rc = tmpl_render(sys, ctx, &a, err);
		free(sys);
		if (!rc)
			rc = tmpl_render(user, ctx, &b, err);
	} else {
		rc = tmpl_render(t, ctx, &b, err);
	}
	if (!rc) {
		chomp(&a);
		chomp(&b);
		if (a.len)
			json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system", "content", a.p));
		if (b.len)
			json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content", b.p));
	} else {
		buf_addf(err, " (prompt %s)", name);
	}
	buf_free(&a);
	buf_free(&b);
	return rc;
}
