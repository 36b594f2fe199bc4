/*
 * test_raw_map.c -- the raw digests a sync compares rows with (issue 13):
 * ib_hash64 is stable (the values below were printed by this
 * implementation when it was written: they are stored in users' stores, so
 * a change of the function must be deliberate -- it makes the next sync
 * convert every record again), covers lengths, boundaries and seeds, and
 * avalanches; the map answers "stored with this digest?" for 200,000 ids,
 * never for a wrong digest or an unknown id, forgets a rewritten id, and
 * never trusts a key that two puts share.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "hash64.h"
#include "raw_map.h"

static void test_hash_pinned(void **state) {
  (void)state;
  assert_int_equal(ib_hash64(0, "", 0), UINT64_C(0x39d336ffcf47f289));
  assert_int_equal(ib_hash64(0, "INC000001", 9), UINT64_C(0xed1db953865ea7b5));
  assert_int_equal(ib_hash64(42, "a;b;c\0d", 7), UINT64_C(0xe6f40bb5919e2c0c));
}

static void test_hash_distinguishes(void **state) {
  (void)state;
  unsigned char buf[64] = {0};
  uint64_t seen[65];
  /* Every prefix length of a zero buffer: distinct (lengths count). */
  for (size_t n = 0; n <= 64; n++) {
    seen[n] = ib_hash64(0, buf, n);
    for (size_t k = 0; k < n; k++) assert_true(seen[k] != seen[n]);
  }
  /* Field boundaries count: the same letters split otherwise. */
  assert_true(ib_hash64(0, "ab\0c", 5) != ib_hash64(0, "a\0bc", 5));
  /* The seed counts; chaining is not concatenation's commutation. */
  assert_true(ib_hash64(1, "x", 1) != ib_hash64(2, "x", 1));
  assert_true(ib_hash64(ib_hash64(0, "a", 1), "b", 1) !=
              ib_hash64(ib_hash64(0, "b", 1), "a", 1));
}

static int popcount64(uint64_t x) {
  int n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

static void test_hash_avalanche(void **state) {
  (void)state;
  /* Flipping any one input bit of a 24-byte row flips about half of the
   * output bits on average. */
  unsigned char row[24];
  uint64_t lcg = 12345;
  long total = 0, flips = 0;
  for (int round = 0; round < 64; round++) {
    for (size_t i = 0; i < sizeof row; i++) {
      lcg = lcg * 6364136223846793005u + 1442695040888963407u;
      row[i] = (unsigned char)(lcg >> 56);
    }
    uint64_t base = ib_hash64(7, row, sizeof row);
    for (size_t bit = 0; bit < sizeof row * 8; bit++) {
      row[bit / 8] ^= (unsigned char)(1u << (bit % 8));
      total += popcount64(base ^ ib_hash64(7, row, sizeof row));
      flips++;
      row[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
  }
  double mean = (double)total / (double)flips;
  assert_true(mean > 30.0 && mean < 34.0);
}

static void test_map(void **state) {
  (void)state;
  ib_raw_map m = {0};
  char id[32];
  enum { N = 200000 };
  for (int i = 0; i < N; i++) {
    snprintf(id, sizeof id, "INC%07d", i);
    assert_int_equal(ib_raw_map_put(&m, id, (uint64_t)i * 2 + 1), 0);
  }
  assert_int_equal(m.n, N);
  for (int i = 0; i < N; i++) {
    snprintf(id, sizeof id, "INC%07d", i);
    assert_true(ib_raw_map_matches(&m, id, (uint64_t)i * 2 + 1));
    assert_false(ib_raw_map_matches(&m, id, (uint64_t)i * 2 + 3));
  }
  /* Asking each twice needed the index: at most 3/4 full. */
  assert_non_null(m.slots);
  assert_true((m.mask + 1) * 3 >= (size_t)N * 4);
  assert_false(ib_raw_map_matches(&m, "INC9999999", 1));
  assert_false(ib_raw_map_matches(&m, "INC0000001", 0)); /* 0: none */
  ib_raw_map_forget(&m, "INC0000001");
  assert_false(ib_raw_map_matches(&m, "INC0000001", 3));
  assert_true(ib_raw_map_matches(&m, "INC0000002", 5));
  /* A key put twice is trusted for neither value. */
  assert_int_equal(ib_raw_map_put(&m, "INC0000002", 77), 0);
  assert_false(ib_raw_map_matches(&m, "INC0000002", 5));
  assert_false(ib_raw_map_matches(&m, "INC0000002", 77));
  ib_raw_map_free(&m);
  assert_false(ib_raw_map_matches(&m, "INC0000003", 7)); /* empty map */
  ib_raw_map_forget(&m, "INC0000003");
}

/* The export's order is the store's: answered without an index; a record
 * out of that order (new, moved, removed) is found by the index, and the
 * records after it are again expected in order. */
static void test_map_order(void **state) {
  (void)state;
  ib_raw_map m = {0};
  char id[32];
  enum { N = 5000 };
  for (int i = 0; i < N; i++) {
    snprintf(id, sizeof id, "REQ%05d", i);
    assert_int_equal(ib_raw_map_put(&m, id, (uint64_t)i + 100), 0);
  }
  for (int i = 0; i < N / 2; i++) {
    snprintf(id, sizeof id, "REQ%05d", i);
    assert_true(ib_raw_map_matches(&m, id, (uint64_t)i + 100));
  }
  assert_null(m.slots); /* in order: no index */
  /* A changed record at its place: no match, and no index either. */
  snprintf(id, sizeof id, "REQ%05d", N / 2);
  assert_false(ib_raw_map_matches(&m, id, 1));
  assert_null(m.slots);
  /* Written in this run: forgotten, even asked again at its place. */
  ib_raw_map_forget(&m, id);
  m.next = N / 2;
  assert_false(ib_raw_map_matches(&m, id, (uint64_t)N / 2 + 100));
  /* A record the store does not hold, then the rest in order. */
  assert_false(ib_raw_map_matches(&m, "NEW00001", 7));
  assert_non_null(m.slots);
  for (int i = N / 2 + 1; i < N; i++) {
    snprintf(id, sizeof id, "REQ%05d", i);
    assert_true(ib_raw_map_matches(&m, id, (uint64_t)i + 100));
  }
  /* Backwards: every one by the index, each still with its own digest. */
  for (int i = N - 1; i > N / 2; i--) {
    snprintf(id, sizeof id, "REQ%05d", i);
    assert_true(ib_raw_map_matches(&m, id, (uint64_t)i + 100));
    assert_false(ib_raw_map_matches(&m, id, (uint64_t)i + 101));
  }
  /* Forgotten out of order. */
  snprintf(id, sizeof id, "REQ%05d", 10);
  ib_raw_map_forget(&m, id);
  assert_false(ib_raw_map_matches(&m, id, 110));
  /* Puts after the index exists are indexed too, duplicates included. */
  assert_int_equal(ib_raw_map_put(&m, "LATE1", 9), 0);
  assert_true(ib_raw_map_matches(&m, "LATE1", 9));
  snprintf(id, sizeof id, "REQ%05d", 20);
  assert_int_equal(ib_raw_map_put(&m, id, 120), 0);
  assert_false(ib_raw_map_matches(&m, id, 120));
  ib_raw_map_free(&m);
}

/* Two records with one key, put before any index exists: once the index
 * is built, neither is trusted, wherever they are asked. */
static void test_map_duplicate_before_index(void **state) {
  (void)state;
  ib_raw_map m = {0};
  assert_int_equal(ib_raw_map_put(&m, "A", 1), 0);
  assert_int_equal(ib_raw_map_put(&m, "B", 2), 0);
  assert_int_equal(ib_raw_map_put(&m, "A", 3), 0);
  assert_true(ib_raw_map_matches(&m, "B", 2));
  assert_non_null(m.slots);
  assert_false(ib_raw_map_matches(&m, "A", 1));
  assert_false(ib_raw_map_matches(&m, "A", 3));
  m.next = 0;
  assert_false(ib_raw_map_matches(&m, "A", 1));
  ib_raw_map_free(&m);
}

static void test_raw_key(void **state) {
  (void)state;
  assert_int_equal(ib_raw_key(123, 0), 0);
  assert_true(ib_raw_key(123, 5) != 0);
  assert_true(ib_raw_key(123, 5) != ib_raw_key(124, 5)); /* fingerprint */
  assert_true(ib_raw_key(123, 5) != ib_raw_key(123, 6));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_pinned),
      cmocka_unit_test(test_hash_distinguishes),
      cmocka_unit_test(test_hash_avalanche),
      cmocka_unit_test(test_map),
      cmocka_unit_test(test_map_order),
      cmocka_unit_test(test_map_duplicate_before_index),
      cmocka_unit_test(test_raw_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
