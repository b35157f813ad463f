/* hfcard: what makes a folder of JSONL files a Hugging Face dataset: the
 * features of the rows (inferred as they are written, in the datasets
 * library's types) and README.md, the dataset card, whose YAML header
 * declares the configs, the splits with their counts and the features, with
 * the run's facts in Markdown below it: the summary lib/stats makes of the
 * records written, and their seeds. */
#ifndef SCG_HFCARD_H
#define SCG_HFCARD_H

#include <jansson.h>

#include "util.h"

enum { HF_TRAIN, HF_VALIDATION, HF_NSPLITS };

struct hfcard;

struct hfcard *hfcard_new(void);
void hfcard_free(struct hfcard *c);
/* Counts a row written to data/<split>.jsonl and merges its features; rec
 * is the record it came from, for the facts. */
void hfcard_row(struct hfcard *c, int split, json_t *row, json_t *rec);
/* The split's name ("train") and file ("data/train.jsonl"). */
const char *hfcard_split_name(int split);
const char *hfcard_split_file(int split);

/* Writes the card to path. name is the title; about and made (how it was
 * made) are Markdown put below it, made followed by the facts of the
 * records. Returns 0, or -1 with err. When the rows' types conflict (a
 * column that is text in one row and a number in another) the header
 * declares no features, and why goes to *warning (may be NULL). */
int hfcard_write(const struct hfcard *c, const char *path, const char *name,
		 const char *about, const char *made, struct buf *err, char **warning);

#endif
