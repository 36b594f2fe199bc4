/*
 * export_file.h -- files written whole or not at all: a temporary file in
 * the target's directory, renamed over the target once complete, so that a
 * BI tool or the node-exporter textfile collector never reads half a file.
 * Knows nothing of formats.
 */
#ifndef IB_EXPORT_FILE_H
#define IB_EXPORT_FILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct ib_atomic_file {
  FILE *fp;   /* write here */
  char *path; /* owned: the target */
  char *tmp;  /* owned: the temporary file */
} ib_atomic_file;

/* Creates the temporary file next to `path` (mode 0666 & ~umask). Returns
 * 0, or -1 with one line in err. Path "-" writes to standard output
 * instead (no temporary file; commit flushes it). */
int ib_atomic_open(ib_atomic_file *f, const char *path, char *err,
                   size_t errlen);
/* Flushes, syncs and renames over the target; always releases f. 0 or -1. */
int ib_atomic_commit(ib_atomic_file *f, char *err, size_t errlen);
/* Removes the temporary file and releases f (safe after a failed open). */
void ib_atomic_abort(ib_atomic_file *f);

/* Makes directory `dir` (one level) unless it exists. 0 or -1 with err. */
int ib_export_make_dir(const char *dir, char *err, size_t errlen);

#endif /* IB_EXPORT_FILE_H */
