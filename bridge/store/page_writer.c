/*
 * page_writer.c -- the writer thread of pages written behind (see
 * page_writer.h). Must not know SQL, a backend or what a page holds.
 */
#define _POSIX_C_SOURCE 200809L
#include "page_writer.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

void ib_page_writer_init(ib_page_writer *w, void *store, ib_page_write_fn write,
                         ib_page_after_fn after) {
  memset(w, 0, sizeof *w);
  w->store = store;
  w->write = write;
  w->after = after;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  atomic_init(&w->failed_flag, 0);
}

void ib_page_writer_destroy(ib_page_writer *w) {
  ib_page_writer_stop(w);
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
}

static void counts_add(ib_put_counts *to, const ib_put_counts *c) {
  to->added += c->added;
  to->changed += c->changed;
  to->unchanged += c->unchanged;
}

static void *writer_main(void *arg) {
  ib_page_writer *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (w->handed == NULL && !w->stopping) pthread_cond_wait(&w->cv, &w->mu);
    if (w->handed == NULL) break; /* stopping, and idle */
    void *page = w->handed;
    int final = w->handed_final;
    pthread_mutex_unlock(&w->mu);
    char err[sizeof w->err] = "";
    ib_put_counts done = {0};
    int rc = w->write(w->store, page, final, &done, err, sizeof err);
    pthread_mutex_lock(&w->mu);
    if (rc != 0) {
      w->failed = 1;
      snprintf(w->err, sizeof w->err, "%s", err);
      atomic_store(&w->failed_flag, 1);
    } else {
      counts_add(&w->confirmed, &done);
    }
    if (w->after) w->after(w, w->store, rc == 0);
    w->handed = NULL;
    pthread_cond_broadcast(&w->cv);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

int ib_page_writer_spawn(pthread_t *thread, void *(*fn)(void *), void *arg) {
  sigset_t all, old;
  sigfillset(&all);
  static const int faults[] = {SIGSEGV, SIGBUS,  SIGFPE,
                               SIGILL,  SIGABRT, SIGTRAP};
  for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
    sigdelset(&all, faults[i]);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int rc = pthread_create(thread, NULL, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}

int ib_page_writer_start(ib_page_writer *w) {
  if (w->started) return 0;
  if (ib_page_writer_spawn(&w->thread, writer_main, w) != 0) return -1;
  w->started = 1;
  return 0;
}

void ib_page_writer_stop(ib_page_writer *w) {
  if (!w->started) return;
  pthread_mutex_lock(&w->mu);
  w->stopping = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  w->started = 0;
}

void ib_page_writer_wait_idle(ib_page_writer *w) {
  if (!w->started) return;
  pthread_mutex_lock(&w->mu);
  while (w->handed != NULL) pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
}

int ib_page_writer_take_error(ib_page_writer *w, char *err, size_t errlen) {
  if (!w->started) return 0;
  pthread_mutex_lock(&w->mu);
  while (w->handed != NULL) pthread_cond_wait(&w->cv, &w->mu);
  int failed = w->failed;
  if (failed) {
    snprintf(err, errlen, "%s", w->err);
    w->failed = 0;
    atomic_store(&w->failed_flag, 0);
  }
  pthread_mutex_unlock(&w->mu);
  return failed ? -1 : 0;
}

int ib_page_writer_may_have_failed(ib_page_writer *w) {
  return atomic_load_explicit(&w->failed_flag, memory_order_relaxed);
}

void ib_page_writer_hand(ib_page_writer *w, void *page, int final) {
  pthread_mutex_lock(&w->mu);
  w->handed = page;
  w->handed_final = final;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

void ib_page_writer_take_counts(ib_page_writer *w, const ib_put_counts *more,
                                ib_put_counts *done) {
  pthread_mutex_lock(&w->mu);
  if (more) counts_add(&w->confirmed, more);
  if (done) *done = w->confirmed;
  memset(&w->confirmed, 0, sizeof w->confirmed);
  pthread_mutex_unlock(&w->mu);
}
