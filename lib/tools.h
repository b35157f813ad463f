/* tools: the tools an assistant model may call (scg-turn --tools,
 * scg-scenes --kind tasks). Their definitions are OpenAI's function tools,
 * loaded from YAML or JSON and checked once; a call a model makes is
 * checked against them (a known name, arguments that are JSON and valid
 * against the tool's parameters) and a malformed one is answered with an
 * error result the model can correct; a task's checks are held against
 * the tool state a conversation ends with. */
#ifndef SCG_TOOLS_H
#define SCG_TOOLS_H

#include <jansson.h>

#include "util.h"

/* A YAML or JSON list of {type: function, function: {name, description,
 * parameters}}, or a mapping that holds one under tools:. Each name is
 * letters, digits, _ and - (at most 64) and appears once; parameters is
 * an object schema in the subset lib/schema.h checks. Dies (exit 2)
 * naming the file, the line and the tool otherwise. */
json_t *tools_load(const char *path);

/* The definition named name in tools, or NULL. */
json_t *tools_find(json_t *tools, const char *name);

/* 0 with *args (a new object) when call ({id, type, function: {name,
 * arguments}}, arguments a JSON text) names one of tools and its
 * arguments are valid against that tool's parameters; else -1 with why,
 * written for the model to correct the call. */
int tools_check_call(json_t *tools, json_t *call, json_t **args, struct buf *why);

/* The result a malformed or failed call gets: the JSON text
 * {"error": why}. A new string. */
char *tools_error(const char *why);

/* Holds the task's checks (task.checks: [{path, equals}]) against the
 * record's tool_state: a check holds when the value at path (keys and
 * indices joined by dots) is the string equals, or its JSON text is.
 * "met" when all hold, else "not_met" with *failed a new array of texts
 * naming each that failed; NULL when the record has no checks or no
 * state. */
const char *tools_outcome(json_t *rec, json_t **failed);

#endif
