/* run: what every program's main does around its own part. The common
 * options go to the library modules, each through its config struct
 * (lib/run.c and lib/run-model.c are the one place in lib/ that reads
 * opts); run_records is the tail of a program that runs records through
 * exec. */
#ifndef SCG_RUN_H
#define SCG_RUN_H

#include "exec.h"

/* Configures record (--rejects, --on-error) and the cache (--no-cache)
 * from opts. Every program calls it once, after its options are parsed
 * and before the library is used. */
void run_configure(void);
/* The same, and exec, llm, prompt and vary: for the programs that call a
 * model (they call this instead). */
void run_configure_model(void);

/* Runs the records of files (none: stdin) through exec with ops and
 * returns the exit status: 0, or 1 when records were rejected. */
int run_records(const struct exec_ops *ops, int nfiles, char **files);

#endif
