/*
 * test_store_raws.c -- ib_store_raw_digests on SQLite (schema 8): what a
 * sync's "unchanged?" map is read from. A source that holds most of the
 * table is read in storage order, a small one by the key index (the
 * store picks from the source's last run and the table's size); both give
 * every stored, not deleted record that carries a raw digest, with the
 * digest put, and nothing of another source or record type.
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
#include <unistd.h>

#include "store.h"

typedef struct seen {
  int n;
  uint64_t sum; /* of digest * (number in the id + 1): order-free check */
  int bad;      /* an id not of the source asked */
  const char *prefix;
} seen;

static int each(void *ctx, const char *id, uint64_t digest) {
  seen *s = ctx;
  if (strncmp(id, s->prefix, strlen(s->prefix)) != 0) s->bad++;
  s->n++;
  s->sum += digest * (uint64_t)(atoi(id + strlen(s->prefix)) + 1);
  return 0;
}

static void put(ib_store *st, const char *source, const char *prefix, int i,
                uint64_t raw, int track_seen) {
  char id[32], err[512];
  snprintf(id, sizeof id, "%s%d", prefix, i);
  ib_ticket_row t = {.source = (char *)source,
                     .id = id,
                     .kind = IB_KIND_INCIDENT,
                     .status = IB_STATE_OPEN,
                     .created_at = 1790000000 + i,
                     .first_response_at = IB_TIME_NONE,
                     .resolved_at = IB_TIME_NONE,
                     .closed_at = IB_TIME_NONE,
                     .updated_at = 1790000000 + i,
                     .deleted_at = IB_TIME_NONE,
                     .raw_digest = raw};
  assert_int_equal(ib_store_put_ticket(st, &t, track_seen, err, sizeof err), 0);
}

/* The raw digest record i of a source is put with (some have none). */
static uint64_t raw_of(int i) {
  return i % 7 != 3 ? (uint64_t)i * 31 + 5 : 0;
}

/* One sync run of `source` that read `read` records, with its puts. */
static void run(ib_store *st, const char *source, const char *prefix, int n,
                int64_t read, int with_raw) {
  char err[512];
  int64_t run_id;
  ib_put_counts done;
  assert_int_equal(ib_store_run_begin(st, source, 0, &run_id, err, sizeof err),
                   0);
  assert_int_equal(ib_store_begin(st, err, sizeof err), 0);
  for (int i = 0; i < n; i++)
    put(st, source, prefix, i, with_raw ? raw_of(i) : 0, 0);
  assert_int_equal(ib_store_commit(st, &done, err, sizeof err), 0);
  assert_int_equal(ib_store_finish_pages(st, &done, err, sizeof err), 0);
  assert_int_equal(
      ib_store_run_end(st, run_id, 1, read, n, 0, NULL, err, sizeof err), 0);
}

static seen read_raws(ib_store *st, const char *source, const char *prefix,
                      ib_record_type type) {
  char err[512];
  seen s = {.prefix = prefix};
  assert_int_equal(
      ib_store_raw_digests(st, source, type, each, &s, err, sizeof err), 0);
  return s;
}

static seen expected(int n) {
  seen s = {0};
  for (int i = 0; i < n; i++)
    if (raw_of(i) != 0) {
      s.n++;
      s.sum += raw_of(i) * (uint64_t)(i + 1);
    }
  return s;
}

static void test_both_paths(void **state) {
  (void)state;
  char dir[] = "/tmp/ib_raws_XXXXXX", path[64], err[512];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/store.db", dir);
  ib_store_cfg cfg = {.path = path};
  ib_store *st = ib_store_open(&cfg, err, sizeof err);
  assert_non_null(st);
  run(st, "big", "B", 2000, 2000, 1); /* most of the table: scanned */
  run(st, "small", "S", 50, 50, 1);   /* 2 % of it: by the index */
  run(st, "plain", "P", 30, 30, 0);   /* a plugin without raw digests */
  seen big = read_raws(st, "big", "B", IB_RECORD_TICKET);
  seen small = read_raws(st, "small", "S", IB_RECORD_TICKET);
  seen want_big = expected(2000), want_small = expected(50);
  assert_int_equal(big.bad, 0);
  assert_int_equal(big.n, want_big.n);
  assert_true(big.sum == want_big.sum);
  assert_int_equal(small.bad, 0);
  assert_int_equal(small.n, want_small.n);
  assert_true(small.sum == want_small.sum);
  assert_int_equal(read_raws(st, "plain", "P", IB_RECORD_TICKET).n, 0);
  assert_int_equal(read_raws(st, "big", "B", IB_RECORD_OUTAGE).n, 0);
  assert_int_equal(read_raws(st, "nobody", "N", IB_RECORD_TICKET).n, 0);
  /* A record marked deleted by a --full run is not read. */
  int64_t marked = 0, run_id;
  assert_int_equal(ib_store_run_begin(st, "small", 1, &run_id, err, sizeof err),
                   0);
  assert_int_equal(ib_store_begin(st, err, sizeof err), 0);
  for (int i = 1; i < 50; i++) /* S0 is not seen */
    put(st, "small", "S", i, raw_of(i), 1);
  ib_put_counts done;
  assert_int_equal(ib_store_commit(st, &done, err, sizeof err), 0);
  assert_int_equal(ib_store_finish_pages(st, &done, err, sizeof err), 0);
  assert_int_equal(ib_store_begin(st, err, sizeof err), 0);
  assert_int_equal(ib_store_mark_unseen_deleted(st, "small", 1800000000,
                                                &marked, err, sizeof err),
                   0);
  assert_int_equal(ib_store_commit(st, &done, err, sizeof err), 0);
  assert_int_equal(ib_store_finish_pages(st, &done, err, sizeof err), 0);
  assert_int_equal(marked, 1);
  seen after = read_raws(st, "small", "S", IB_RECORD_TICKET);
  assert_int_equal(after.n, want_small.n - 1);
  assert_true(after.sum == want_small.sum - 5 * 1);
  assert_int_equal(
      ib_store_run_end(st, run_id, 1, 49, 49, 0, NULL, err, sizeof err), 0);
  ib_store_close(st);
  char p[96];
  const char *suffixes[] = {"", "-wal", "-shm", ".lock"};
  for (size_t i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
    unlink(p);
  }
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_both_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
