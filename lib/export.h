/* export: scg records as the lines trainers read. A record holds one
 * training example in scg's shape: a conversation (messages, and tools
 * when it has them) or a preference pair (prompt, chosen, rejected). Each
 * format writes it under its own field names: OpenAI's chat and preference
 * fine-tuning files, TRL's conversational datasets, ShareGPT as Axolotl
 * and LLaMA-Factory read it. Also here: the system prompt set or replaced,
 * metadata columns kept, and the group whose hash puts an example in the
 * training or the validation split. */
#ifndef SCG_EXPORT_H
#define SCG_EXPORT_H

#include <jansson.h>
#include <stdint.h>

#include "util.h"
#include "validate.h"

enum export_format { EXPORT_OPENAI, EXPORT_OPENAI_DPO, EXPORT_TRL, EXPORT_SHAREGPT, EXPORT_HF };
enum export_kind { EXPORT_NONE, EXPORT_SFT, EXPORT_PAIR };
/* --train-on: weights as the record has them, the last assistant message
 * only, or every one. */
enum train_on { TRAIN_AS_IS, TRAIN_LAST, TRAIN_ALL };

struct example {
	enum export_kind kind;
	json_t *messages, *tools;             /* a conversation */
	json_t *prompt, *chosen, *rejected;   /* a pair */
};

/* 0 and *f for a format's name, -1 for none. */
int export_format_parse(const char *name, enum export_format *f);
/* Whether format f writes examples of kind k. */
int export_takes(enum export_format f, enum export_kind k);
/* Whether lines of format f may carry other columns (--keep): OpenAI's
 * files may not. */
int export_allows_keep(enum export_format f);
/* The keys a line of format f has (NULL-terminated), so --keep can refuse
 * one of them. */
const char *const *export_keys(enum export_format f);

/* The example rec holds (copies: example_free), with its system prompt
 * set to system, or replaced, unless system is NULL. Returns the kind;
 * EXPORT_NONE when rec has neither messages nor prompt, chosen and
 * rejected. */
enum export_kind export_example(json_t *rec, const char *system, struct example *ex);
void example_free(struct example *ex);

/* The problem of an example, the checks of the fine-tuning services
 * (lib/validate.h): its messages, or its pair, and its tools; with
 * max_tokens > 0, an example of more estimated tokens is V_TOO_LONG.
 * V_OK, or the problem with why. */
enum vproblem export_check(const struct example *ex, long max_tokens, struct buf *why);

/* The line of ex in format f, or NULL with why when the format has no
 * place for something ex holds. A new reference. */
json_t *export_line(enum export_format f, enum train_on t, const struct example *ex,
		    struct buf *why);

/* Adds the values at paths ("id", "persona.name") of rec to line, nested
 * as they are in rec ({"persona":{"name":...}}), null where rec has none. */
void export_keep(json_t *line, json_t *rec, char *const *paths, int n);

/* The value that decides an example's split: rec's value at path, or with
 * no path the first of persona.name, source and id that rec has; NULL when
 * there is none. A borrowed reference. */
json_t *export_group(json_t *rec, const char *path);
/* A number in [0, 1) from the group value and the seed: the same group
 * always gets the same number, so it lands in one split only. */
double export_split_point(json_t *group, uint64_t seed);

/* One sentence on the rows of a dataset of examples of kind k, for its
 * card: the fields and what they hold. */
const char *export_about(enum export_kind k, enum train_on t);

/* Where the lines go: stdout, or the files of a folder DIR (split 0 in
 * DIR/train.jsonl, 1 in DIR/validation.jsonl; format hf: DIR/data/). */
struct export_out;
/* dir NULL: stdout. A folder is made, and a validation file of an earlier
 * run removed (nothing would declare it); dies (exit 2) when it cannot. */
struct export_out *export_out_open(enum export_format f, const char *dir);
void export_out_line(struct export_out *o, int split, json_t *line);
/* The files closed (train's written even when empty), stdout flushed. */
void export_out_close(struct export_out *o);

#endif
