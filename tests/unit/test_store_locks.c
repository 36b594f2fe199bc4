/*
 * test_store_locks.c -- the store's two locks (store.h: ib_store_lock_sync,
 * ib_store_lock_notify) on both stores, each test with two handles on the
 * same store as two processes would have: a lock taken by one is busy for
 * the other, whose err names the holder (pid, since); the sync lock and the
 * notification lock never stand in each other's way; closing the holder
 * frees the lock; and on SQLite a lock file that cannot be opened is a
 * failure, not "another check". Runs on SQLite; with IB_LOCKS_PG_URL (a
 * database of a throwaway server: test_store_locks_pg.sh) also on
 * PostgreSQL.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

typedef struct fixture {
  char dir[64];
  char path[128];
  const char *pg_url; /* NULL: the SQLite store at path */
  ib_store_cfg cfg;
  ib_store *a, *b; /* owned: two handles on the same store */
} fixture;

static const char *const lock_suffixes[] = {".lock", ".notify.lock"};

static ib_store *open_store(const fixture *f) {
  char err[512];
  ib_store *st = ib_store_open(&f->cfg, err, sizeof err);
  if (st == NULL) fprintf(stderr, "%s\n", err);
  return st;
}

static int open_both(fixture *f) {
  f->a = open_store(f);
  f->b = open_store(f);
  return f->a && f->b ? 0 : -1;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  *state = f;
  snprintf(f->dir, sizeof f->dir, "/tmp/ib_locks_XXXXXX");
  if (mkdtemp(f->dir) == NULL) return -1;
  snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
  f->cfg.path = f->path;
  return open_both(f);
}

static int setup_pg(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  *state = f;
  /* The locks do not depend on what the store holds: no fresh schema. */
  f->pg_url = f->cfg.url = getenv("IB_LOCKS_PG_URL");
  return open_both(f);
}

static int teardown(void **state) {
  fixture *f = *state;
  ib_store_close(f->a);
  ib_store_close(f->b);
  if (f->pg_url == NULL && f->dir[0]) {
    char p[160];
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
      snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
      unlink(p);
    }
    for (size_t i = 0; i < 2; i++) {
      snprintf(p, sizeof p, "%s%s", f->path, lock_suffixes[i]);
      if (unlink(p) != 0) rmdir(p); /* test_lock_file_unusable's folder */
    }
    rmdir(f->dir);
  }
  free(f);
  return 0;
}

typedef ib_store_lock_status (*lock_fn)(ib_store *st, char *err, size_t errlen);

static void expect_taken(lock_fn lock, ib_store *st) {
  char err[512] = "";
  ib_store_lock_status got = lock(st, err, sizeof err);
  if (got != IB_STORE_LOCK_TAKEN) fprintf(stderr, "%s\n", err);
  assert_int_equal(got, IB_STORE_LOCK_TAKEN);
}

/* Busy, with err "another HOLDER (pid <this process>, since <an instant>)":
 * both handles are this process's, as two checks' would be two pids. */
static void expect_busy(lock_fn lock, ib_store *st, const char *holder) {
  char err[512] = "", want[160];
  assert_int_equal(lock(st, err, sizeof err), IB_STORE_LOCK_BUSY);
  snprintf(want, sizeof want, "another %s (pid %ld, since ", holder,
           (long)getpid());
  if (strncmp(err, want, strlen(want)) != 0)
    fail_msg("refusal '%s' does not start with '%s'", err, want);
  const char *since = err + strlen(want);
  /* YYYY-MM-DDTHH:MM:SSZ then ")" */
  assert_int_equal(strlen(since), 21);
  assert_int_equal(since[10], 'T');
  assert_int_equal(since[19], 'Z');
  assert_int_equal(since[20], ')');
}

static void test_notify_busy_for_another(void **state) {
  fixture *f = *state;
  expect_taken(ib_store_lock_notify, f->a);
  expect_busy(ib_store_lock_notify, f->b, "check is sending notifications");
  /* asking again changes nothing: still refused, still held */
  expect_busy(ib_store_lock_notify, f->b, "check is sending notifications");
}

static void test_sync_busy_for_another(void **state) {
  fixture *f = *state;
  expect_taken(ib_store_lock_sync, f->a);
  expect_busy(ib_store_lock_sync, f->b, "sync is running");
}

/* A check notifies while a sync runs, and a sync starts while a check
 * notifies. */
static void test_locks_independent(void **state) {
  fixture *f = *state;
  expect_taken(ib_store_lock_sync, f->a);
  expect_taken(ib_store_lock_notify, f->b);
  expect_busy(ib_store_lock_sync, f->b, "sync is running");
  expect_busy(ib_store_lock_notify, f->a, "check is sending notifications");
}

static void test_close_frees(void **state) {
  fixture *f = *state;
  expect_taken(ib_store_lock_notify, f->a);
  expect_taken(ib_store_lock_sync, f->a);
  expect_busy(ib_store_lock_notify, f->b, "check is sending notifications");
  ib_store_close(f->a);
  f->a = NULL;
  expect_taken(ib_store_lock_notify, f->b);
  expect_taken(ib_store_lock_sync, f->b);
  f->a = open_store(f);
  assert_non_null(f->a);
  expect_busy(ib_store_lock_notify, f->a, "check is sending notifications");
}

/* SQLite: a lock file that cannot be opened is no "another check": the
 * caller must not go on as if someone else were delivering. */
static void test_lock_file_unusable(void **state) {
  fixture *f = *state;
  char p[160], err[512] = "";
  snprintf(p, sizeof p, "%s.notify.lock", f->path);
  assert_int_equal(mkdir(p, 0700), 0);
  assert_int_equal(ib_store_lock_notify(f->a, err, sizeof err),
                   IB_STORE_LOCK_FAILED);
  assert_non_null(strstr(err, "cannot open lock file"));
  assert_non_null(strstr(err, p));
  expect_taken(ib_store_lock_sync, f->a); /* the other lock still works */
}

int main(void) {
  const struct CMUnitTest sqlite_tests[] = {
      cmocka_unit_test_setup_teardown(test_notify_busy_for_another, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sync_busy_for_another, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_locks_independent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_frees, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lock_file_unusable, setup, teardown),
  };
  const struct CMUnitTest pg_tests[] = {
      cmocka_unit_test_setup_teardown(test_notify_busy_for_another, setup_pg,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sync_busy_for_another, setup_pg,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_locks_independent, setup_pg,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_close_frees, setup_pg, teardown),
  };
  int failed = cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL);
  if (getenv("IB_LOCKS_PG_URL"))
    failed += cmocka_run_group_tests_name("postgresql", pg_tests, NULL, NULL);
  return failed ? 1 : 0;
}
