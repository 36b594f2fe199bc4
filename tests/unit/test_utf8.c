/*
 * test_utf8.c -- ib_utf8_trim_partial: a multi-byte sequence cut by a
 * buffer's end is removed, complete ones (and ASCII) are kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

static void trimmed(const char *in, const char *want) {
  char buf[64];
  strcpy(buf, in);
  ib_utf8_trim_partial(buf);
  assert_string_equal(buf, want);
  assert_true(ib_utf8_valid(buf));
}

static void test_trim_partial(void **state) {
  (void)state;
  trimmed("", "");
  trimmed("abc", "abc");
  trimmed("caf\xc3\xa9", "caf\xc3\xa9");             /* é complete */
  trimmed("caf\xc3", "caf");                         /* é cut after 1 byte */
  trimmed("x\xe2\x82\xac", "x\xe2\x82\xac");         /* € complete */
  trimmed("x\xe2\x82", "x");                         /* € cut after 2 */
  trimmed("x\xe2", "x");                             /* € cut after 1 */
  trimmed("y\xf0\x9f\x94\xa5", "y\xf0\x9f\x94\xa5"); /* 4 bytes complete */
  trimmed("y\xf0\x9f\x94", "y");                     /* cut after 3 */
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_trim_partial)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
