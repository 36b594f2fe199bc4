/*
 * test_syslib.c -- system libraries opened on first use
 * (bridge/core/syslib.c): a library and its symbols resolved once, the
 * outcome kept for later calls (also from several threads at once), and
 * the one-line errors for a library that is missing or lacks a symbol.
 * Uses libm.so.6, which every C program can open.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "syslib.h"

static const char *const math_names[] = {"cos", "sqrt", NULL};
static void *math_slots[2];
static ib_syslib math = IB_SYSLIB_INIT("libm.so.6", "the math library", "libc6",
                                       math_names, math_slots);

static void *load_in_thread(void *arg) {
  (void)arg;
  return (void *)(intptr_t)ib_syslib_ready(&math);
}

static void loads_once(void **state) {
  (void)state;
  assert_false(ib_syslib_loaded(&math)); /* nothing before first use */
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&t[i], NULL, load_in_thread, NULL), 0);
  for (int i = 0; i < 4; i++) {
    void *ok = NULL;
    pthread_join(t[i], &ok);
    assert_int_equal((intptr_t)ok, 1);
  }
  assert_true(ib_syslib_loaded(&math));
  double (*sq)(double) = (double (*)(double))math_slots[1];
  assert_non_null(sq);
  assert_true(sq(9.0) == 3.0);
  char err[256] = "untouched";
  assert_int_equal(ib_syslib_load(&math, err, sizeof err), 0);
  assert_string_equal(err, "untouched");
}

static const char *const none_names[] = {"nothing", NULL};
static void *none_slots[1];
static ib_syslib none =
    IB_SYSLIB_INIT("libib-no-such-library.so.9", "the test library", "ib-test",
                   none_names, none_slots);

static void missing_library(void **state) {
  (void)state;
  char err[384];
  assert_int_equal(ib_syslib_load(&none, err, sizeof err), -1);
  assert_non_null(strstr(err,
                         "cannot load the test library "
                         "(libib-no-such-library.so.9)"));
  assert_non_null(strstr(err, "install the ib-test package"));
  assert_false(ib_syslib_ready(&none));
  /* The outcome is kept: the same line again, without retrying. */
  char again[384];
  assert_int_equal(ib_syslib_load(&none, again, sizeof again), -1);
  assert_string_equal(again, err);
}

static const char *const old_names[] = {"cos", "ib_not_in_libm", NULL};
static void *old_slots[2];
static ib_syslib old = IB_SYSLIB_INIT("libm.so.6", "the math library", "libc6",
                                      old_names, old_slots);

static void missing_symbol(void **state) {
  (void)state;
  char err[384];
  assert_int_equal(ib_syslib_load(&old, err, sizeof err), -1);
  assert_non_null(strstr(err, "lacks ib_not_in_libm"));
  assert_non_null(strstr(err, "install a current libc6 package"));
  assert_false(ib_syslib_loaded(&old));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(loads_once),
      cmocka_unit_test(missing_library),
      cmocka_unit_test(missing_symbol),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
