/*
 * test_page_writer.c -- the writer thread both stores hand their pages to
 * (page_writer.h), with a fake backend whose "pages" are counters: a page
 * handed over is written on another thread, and waited for; the
 * outcomes come back once, added to what the caller wrote itself; a
 * refused page is reported exactly once, by whichever call asks first,
 * after the writer is idle; the after-callback runs after each page, with
 * the mutex held; stop writes the page handed over before joining; a
 * writer never started reports nothing and stops at once.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "page_writer.h"

typedef struct fake_page {
  int records; /* what the page "adds" */
  int refuse;  /* the backend refuses it */
  int final;   /* as handed */
} fake_page;

typedef struct fake_store {
  pthread_t caller;
  int written, on_caller_thread, afters, after_ok, after_locked;
  fake_page *last;
} fake_store;

static void pause_ms(long ms) {
  struct timespec t = {0, ms * 1000000L};
  nanosleep(&t, NULL);
}

static int fake_write(void *store, void *page, int final, ib_put_counts *done,
                      char *err, size_t errlen) {
  fake_store *s = store;
  fake_page *p = page;
  pause_ms(20); /* a write that takes time: waits must wait for it */
  if (pthread_equal(pthread_self(), s->caller)) s->on_caller_thread++;
  p->final = final;
  s->last = p;
  if (p->refuse) {
    snprintf(err, errlen, "store fake: refused by test (%d records)",
             p->records);
    return -1;
  }
  s->written++;
  done->added = p->records;
  done->changed = 1;
  return 0;
}

static void fake_after(ib_page_writer *w, void *store, int ok) {
  fake_store *s = store;
  s->afters++;
  s->after_ok += ok;
  /* The mutex is held: trylock fails (EBUSY) */
  if (pthread_mutex_trylock(&w->mu) != 0)
    s->after_locked++;
  else
    pthread_mutex_unlock(&w->mu);
}

static void test_pages_written_behind(void **state) {
  (void)state;
  fake_store s = {.caller = pthread_self()};
  ib_page_writer w;
  ib_page_writer_init(&w, &s, fake_write, fake_after);
  assert_int_equal(ib_page_writer_start(&w), 0);
  assert_int_equal(ib_page_writer_start(&w), 0); /* once */

  fake_page a = {.records = 3}, b = {.records = 4};
  ib_page_writer_hand(&w, &a, 1);
  char err[256] = "";
  assert_int_equal(ib_page_writer_take_error(&w, err, sizeof err), 0);
  assert_int_equal(s.written, 1); /* take_error waited for it */
  ib_page_writer_hand(&w, &b, 0);
  ib_page_writer_wait_idle(&w);
  assert_int_equal(s.written, 2);
  assert_int_equal(b.final, 0);
  assert_int_equal(a.final, 1);
  assert_int_equal(s.on_caller_thread, 0);

  /* Both pages' outcomes, plus what the caller wrote itself; then none. */
  ib_put_counts more = {.added = 10, .unchanged = 2}, done;
  memset(&done, 0xff, sizeof done);
  ib_page_writer_take_counts(&w, &more, &done);
  assert_int_equal(done.added, 17);
  assert_int_equal(done.changed, 2);
  assert_int_equal(done.unchanged, 2);
  ib_page_writer_take_counts(&w, NULL, &done);
  assert_int_equal(done.added + done.changed + done.unchanged, 0);
  assert_int_equal(s.afters, 2);
  assert_int_equal(s.after_ok, 2);
  assert_int_equal(s.after_locked, 2);
  ib_page_writer_destroy(&w);
}

static void test_refusal_reported_once(void **state) {
  (void)state;
  fake_store s = {.caller = pthread_self()};
  ib_page_writer w;
  ib_page_writer_init(&w, &s, fake_write, fake_after);
  assert_int_equal(ib_page_writer_start(&w), 0);
  fake_page bad = {.records = 5, .refuse = 1};
  ib_page_writer_hand(&w, &bad, 1);
  ib_page_writer_wait_idle(&w);
  assert_true(ib_page_writer_may_have_failed(&w));
  char err[256] = "";
  assert_int_equal(ib_page_writer_take_error(&w, err, sizeof err), -1);
  assert_string_equal(err, "store fake: refused by test (5 records)");
  assert_false(ib_page_writer_may_have_failed(&w));
  err[0] = '\0';
  assert_int_equal(ib_page_writer_take_error(&w, err, sizeof err), 0);
  assert_string_equal(err, "");
  /* A refused page counts nothing. */
  ib_put_counts done;
  ib_page_writer_take_counts(&w, NULL, &done);
  assert_int_equal(done.added + done.changed + done.unchanged, 0);
  assert_int_equal(s.afters, 1);
  assert_int_equal(s.after_ok, 0);
  ib_page_writer_destroy(&w);
}

static void test_stop_writes_the_page_handed(void **state) {
  (void)state;
  fake_store s = {.caller = pthread_self()};
  ib_page_writer w;
  ib_page_writer_init(&w, &s, fake_write, NULL);
  assert_int_equal(ib_page_writer_start(&w), 0);
  fake_page a = {.records = 1};
  ib_page_writer_hand(&w, &a, 1);
  ib_page_writer_stop(&w); /* at once: the writer is still writing */
  assert_int_equal(s.written, 1);
  assert_ptr_equal(s.last, &a);
  assert_int_equal(w.started, 0);
  ib_page_writer_stop(&w); /* twice: nothing */
  ib_put_counts done;
  ib_page_writer_take_counts(&w, NULL, &done);
  assert_int_equal(done.added, 1);
  ib_page_writer_destroy(&w);
}

static void test_never_started(void **state) {
  (void)state;
  fake_store s = {.caller = pthread_self()};
  ib_page_writer w;
  ib_page_writer_init(&w, &s, fake_write, NULL);
  char err[64] = "";
  assert_int_equal(ib_page_writer_take_error(&w, err, sizeof err), 0);
  ib_page_writer_wait_idle(&w);
  assert_false(ib_page_writer_may_have_failed(&w));
  ib_put_counts more = {.added = 2}, done;
  ib_page_writer_take_counts(&w, &more, &done);
  assert_int_equal(done.added, 2);
  ib_page_writer_destroy(&w);
  assert_int_equal(s.written, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pages_written_behind),
      cmocka_unit_test(test_refusal_reported_once),
      cmocka_unit_test(test_stop_writes_the_page_handed),
      cmocka_unit_test(test_never_started),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
