/* script-map: drives lib/script.c for test/scg-turn-script.bats.
 *
 *   script-map < cases.jsonl   each line {"names":[…],"messages":[…],"max":N,
 *                              "answer":{"turns":[…]}} gives one line
 *                              {"messages":[…]} or {"error":"…"}
 *   script-map --fuzz N        N random scripts of stage directions, names
 *                              and odd spacing; exits 1 at the first result
 *                              that breaks the rules of script.h */
#include "jv.h"
#include "record.h"
#include "rng.h"
#include "conv.h"
#include "script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int map_lines(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_error_t je;
		json_t *c = json_loadb(line, (size_t)n, 0, &je);
		if (!json_is_object(c))
			die("stdin: %s", je.text);
		json_t *max = json_object_get(c, "max");
		struct buf why = {0};
		json_t *got = script_map(json_object_get(c, "answer"), json_object_get(c, "names"),
					 json_object_get(c, "messages"),
					 max ? (int)json_integer_value(max) : 100, &why);
		json_t *res = got ? json_pack("{s:o}", "messages", got) : json_pack("{s:s}", "error", why.p);
		out_record(res);
		json_decref(res);
		json_decref(c);
		buf_free(&why);
	}
	free(line);
	out_flush();
	return 0;
}

static const char *const pieces[] = {
	"Hello", " ", "  ", "\n", "*sighs*", "**bold**", "*", "(", ")", "[", "]",
	"(aside [nested] still)", "[pause]", ",", ".", "?", "Ça va", "é", "\t", ":",
	"Lincoln:", "\x01", "word", "(unclosed", "***",
};
static const char *const speakers[] = {
	"Lincoln", "lincoln", "ABE", " *Abe* ", "Tom", "Narrator", "Lincoln (smiling):", "",
};

static void random_text(struct rng *g, struct buf *b)
{
	buf_reset(b);
	buf_adds(b, "");
	for (int k = (int)rng_below(g, 8); k >= 0; k--)
		buf_adds(b, pieces[rng_below(g, sizeof pieces / sizeof *pieces)]);
}

/* The rules every result keeps: it starts with the role that speaks next,
 * alternates, ends with the assistant, has no empty or untidied message
 * and no more user messages than allowed. */
static const char *broken(json_t *msgs, json_t *got, int max)
{
	const char *last = conv_last_role(msgs);
	const char *want = last && !strcmp(last, "user") ? "assistant" : "user";
	size_t i;
	json_t *m;
	json_array_foreach(got, i, m) {
		const char *role = jv_str(m, "role"), *c = jv_str(m, "content");
		if (!role || !c || strcmp(role, want))
			return "roles do not alternate";
		if (!*c || strchr(c, '\x01') || strchr(" \n", c[0]) || strchr(" \n", c[strlen(c) - 1]))
			return "an empty or untidied message";
		want = !strcmp(want, "user") ? "assistant" : "user";
	}
	if (strcmp(jv_str(json_array_get(got, json_array_size(got) - 1), "role"), "assistant"))
		return "the last message is not the assistant's";
	if (conv_user_turns(msgs) + conv_user_turns(got) > (max > conv_user_turns(msgs) ? max : conv_user_turns(msgs)))
		return "too many user messages";
	return NULL;
}

static int fuzz(long n)
{
	json_t *names = json_pack("[s,s]", "Lincoln", "Abe");
	struct buf text = {0};
	for (long k = 0; k < n; k++) {
		char id[32];
		snprintf(id, sizeof id, "%ld", k);
		struct rng g;
		rng_init(&g, 0, id, "script-map", "fuzz");
		json_t *turns = json_array();
		for (int t = (int)rng_below(&g, 9); t > 0; t--) {
			random_text(&g, &text);
			json_array_append_new(turns, json_pack("{s:s, s:s}", "speaker",
				speakers[rng_below(&g, sizeof speakers / sizeof *speakers)], "text", text.p));
		}
		json_t *answer = json_pack("{s:o}", "turns", turns);
		json_t *msgs = rng_below(&g, 2) ? json_pack("[{s:s, s:s}]", "role", "user", "content", "seed")
						: json_array();
		int max = 1 + (int)rng_below(&g, 4);
		struct buf why = {0};
		json_t *got = script_map(answer, names, msgs, max, &why);
		const char *bad = got ? broken(msgs, got, max) : !why.len ? "no reason given" : NULL;
		if (bad) {
			char *a = json_dumps(answer, JSON_COMPACT);
			fprintf(stderr, "script-map: case %ld: %s: %s\n", k, bad, a);
			free(a);
			return 1;
		}
		json_decref(got);
		json_decref(answer);
		json_decref(msgs);
		buf_free(&why);
	}
	buf_free(&text);
	json_decref(names);
	printf("%ld scripts\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	prog_name = "script-map";
	if (argc == 3 && !strcmp(argv[1], "--fuzz"))
		return fuzz(atol(argv[2]));
	return map_lines();
}
