/* run: what every program's main does around its own part. run_configure
 * hands the common options to the library modules, each through its
 * config struct (this is the one place in lib/ that reads opts);
 * run_records is the tail of a program that runs records through exec. */
#ifndef SCG_RUN_H
#define SCG_RUN_H

#include "exec.h"

/* Configures record, cache, exec, llm, prompt and dyn from opts. Called
 * once, after the options are parsed and before the library is used. */
void run_configure(void);

/* Runs the records of files (none: stdin) through exec with ops and
 * returns the exit status: 0, or 1 when records were rejected. */
int run_records(const struct exec_ops *ops, int nfiles, char **files);

#endif
