/*
 * page_writer.h -- the writer thread a store backend hands a sync's pages
 * to (pages written behind, store.h): one page in flight, written by the
 * backend's callback while the caller fills the next; the outcomes of the
 * pages written (their counts, or the first refusal) kept until the caller
 * asks for them. The backend's connection belongs to the writer from a
 * hand-over until the writer is idle again, to the caller otherwise.
 * Must not know SQL, a backend or what a page holds.
 */
#ifndef IB_PAGE_WRITER_H
#define IB_PAGE_WRITER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "store.h"

typedef struct ib_page_writer ib_page_writer;

/* Writes `page` (final: its last part: commit) on the writer thread; *done
 * gets what its records did. 0, or -1 with err (one line). */
typedef int (*ib_page_write_fn)(void *store, void *page, int final,
                                ib_put_counts *done, char *err, size_t errlen);
/* Called on the writer thread after each page written (ok = 1) or refused
 * (0), with w->mu held; it may wait on w->cv. */
typedef void (*ib_page_after_fn)(ib_page_writer *w, void *store, int ok);

struct ib_page_writer {
  void *store; /* borrowed: the backend's handle given to the callbacks */
  ib_page_write_fn write;
  ib_page_after_fn after; /* NULL: none */
  int started;            /* `thread` runs: joined by ib_page_writer_stop */
  pthread_t thread;
  pthread_mutex_t mu; /* guards what follows; the backend may guard its
                         own writer-side state with it too */
  pthread_cond_t cv;  /* broadcast when any of it changes */
  void *handed;       /* the page being written; NULL when idle */
  int handed_final;
  int stopping; /* the thread ends once idle */
  int failed;   /* a page was refused: err not yet reported */
  char err[512];
  ib_put_counts confirmed; /* outcomes of the pages written, not yet given */
  atomic_int failed_flag;  /* `failed`, readable without the mutex */
};

void ib_page_writer_init(ib_page_writer *w, void *store, ib_page_write_fn write,
                         ib_page_after_fn after);
/* Stops the thread (ib_page_writer_stop) and frees the mutex. */
void ib_page_writer_destroy(ib_page_writer *w);

/* Starts the thread unless it runs; -1 when it cannot be (the caller then
 * writes its pages itself). The thread takes no signal but faults: Ctrl-C
 * and the like stay with the caller's waits and handlers. */
int ib_page_writer_start(ib_page_writer *w);
/* Starts fn(arg) on a thread that takes no signal but faults (the
 * writer's, or a backend's own helper thread); pthread_create's result. */
int ib_page_writer_spawn(pthread_t *thread, void *(*fn)(void *), void *arg);
/* Lets the thread write the page handed over, then joins it. */
void ib_page_writer_stop(ib_page_writer *w);

/* Waits until the writer is idle. */
void ib_page_writer_wait_idle(ib_page_writer *w);
/* Waits until idle; a page refused in the background is reported once:
 * -1 with its error. */
int ib_page_writer_take_error(ib_page_writer *w, char *err, size_t errlen);
/* Whether a refusal may wait to be reported (no lock, no wait): a cheap
 * test before ib_page_writer_take_error. */
int ib_page_writer_may_have_failed(ib_page_writer *w);

/* Hands `page` to the started writer, which is idle (after
 * ib_page_writer_take_error); it belongs to the writer until idle. */
void ib_page_writer_hand(ib_page_writer *w, void *page, int final);
/* *done (when not NULL) = the outcomes of the pages written since the
 * last call, plus `more` (a page the caller wrote itself; may be NULL). */
void ib_page_writer_take_counts(ib_page_writer *w, const ib_put_counts *more,
                                ib_put_counts *done);

#endif
