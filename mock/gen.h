/* gen: the deterministic answers of scg-mock (gen-text.c, gen-value.c).
 * Everything is drawn from a 64-bit key (the hash of the request body and
 * --seed), so the same request always gets the same answer, in any order
 * and from any process: prose from a built-in vocabulary, values valid
 * against a JSON schema, and the mock's own token count. */
#ifndef SCG_MOCK_GEN_H
#define SCG_MOCK_GEN_H

#include <jansson.h>
#include <stdint.h>

/* The mock's tokens, close to a BPE vocabulary on English: a run of
 * letters counts one token for every 8, of digits one for every 3, of
 * other characters that are not spaces one for every 2. */
long mock_tokens(const char *s);

/* "[a3f9c012] Sentence one. Sentence two." — 1 to 3 sentences; the tag is
 * the first 8 hex digits of key. Caller frees. */
char *mock_prose(uint64_t key);

/* A value valid against schema (object, array, string, integer, number,
 * boolean, null, enum, const, anyOf/oneOf/allOf first branch, local $ref;
 * a string is one of its examples when it has some).
 * Each value is drawn from key and its JSON path, so editing one property
 * leaves the others alone. A new reference, or NULL when the schema asks
 * for more than MOCK_GEN_MAX bytes (minItems, minLength, nesting): one
 * request cannot make the mock build gigabytes. */
json_t *mock_value(const json_t *schema, uint64_t key);
#define MOCK_GEN_MAX (4L << 20)

/* The small object of JSON mode (no schema): {"tag":…,"answer":…}. */
json_t *mock_object(uint64_t key);

/* Canned answers (scg-mock --answers FILE): JSONL, a JSON list or YAML of
 * {"match": TEXT or [TEXT, ...], "answer": VALUE}. Loaded as entries whose
 * "schema" is {"const": VALUE}, the one schema only VALUE satisfies, so a
 * canned answer goes out by the same road as a generated one. NULL and err
 * ("FILE: entry N: ...") when the file is bad. */
struct buf;
json_t *mock_canned_load(const char *path, struct buf *err);
/* The schema of the first entry whose every TEXT occurs in body (the
 * request as sent), or NULL. */
const json_t *mock_canned_find(const json_t *canned, const char *body, size_t len);

/* A word drawn from the vocabulary; n of them, separated by spaces,
 * appended to b. */
struct rng;
const char *mock_word(struct rng *r);
void mock_words(struct buf *b, struct rng *r, int n);

#endif
