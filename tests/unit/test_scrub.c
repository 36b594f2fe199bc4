/*
 * test_scrub.c -- the run's secret scrubber (bridge/core/scrub.c): every form a
 * secret travels in is replaced, token-like query parameters are blanked,
 * a text cut by its writer never keeps the start of a secret, and ordinary
 * text is left alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "scrub.h"

#define TOKEN "tok/abc+def=="
#define USER "bot@example.com"

static ib_scrubber *make(void) {
  ib_scrubber *s = ib_scrubber_new();
  assert_non_null(s);
  assert_int_equal(ib_scrubber_add(s, TOKEN), 0);
  assert_int_equal(ib_scrubber_add(s, USER), 0);
  assert_int_equal(ib_scrubber_add_basic(s, USER, TOKEN), 0);
  assert_int_equal(ib_scrubber_add(s, "ab"), 0); /* too short: ignored */
  return s;
}

static void scrubbed(const ib_scrubber *s, const char *in, const char *want) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", in);
  ib_scrub(s, buf, sizeof buf);
  assert_string_equal(buf, want);
}

static void test_forms(void **state) {
  (void)state;
  ib_scrubber *s = make();
  scrubbed(s, "raw " TOKEN " end", "raw [redacted] end");
  scrubbed(s, "pct tok%2Fabc%2Bdef%3D%3D!", "pct [redacted]!");
  scrubbed(s, "low tok%2fabc%2bdef%3d%3d!", "low [redacted]!");
  /* base64("bot@example.com:tok/abc+def==") */
  scrubbed(s, "Authorization: Basic Ym90QGV4YW1wbGUuY29tOnRvay9hYmMrZGVmPT0=",
           "Authorization: Basic [redacted]");
  scrubbed(s, "user " USER, "user [redacted]");
  scrubbed(s, "ab and abc stay", "ab and abc stay");
  ib_scrubber_free(s);
}

static void test_query_parameters(void **state) {
  (void)state;
  scrubbed(NULL, "> GET /x?jql=a%3Db&api_token=zz9&next=1 HTTP/1.1",
           "> GET /x?jql=a%3Db&api_token=[redacted]&next=1 HTTP/1.1");
  scrubbed(NULL, "https://h/p?key=K1&password=p#f",
           "https://h/p?key=[redacted]&password=[redacted]#f");
  scrubbed(NULL, "a?monkey=1&keys=2", "a?monkey=1&keys=2");
  scrubbed(NULL, "a?access_key=K&AWSAccessKeyId=I",
           "a?access_key=[redacted]&AWSAccessKeyId=[redacted]");
}

static void test_cut_text(void **state) {
  (void)state;
  ib_scrubber *s = make();
  char buf[16];
  /* the writer cut "xxxxx tok/abc+def==" after 15 characters */
  memcpy(buf, "xxxxx " TOKEN, sizeof buf - 1);
  buf[sizeof buf - 1] = '\0';
  ib_scrub(s, buf, sizeof buf);
  assert_null(strstr(buf, "tok/abc"));
  /* a replacement that does not fit ends the text */
  char small[12];
  memcpy(small, "a " TOKEN, sizeof small - 1);
  small[sizeof small - 1] = '\0';
  ib_scrub(s, small, sizeof small);
  assert_null(strstr(small, "tok/"));
  ib_scrubber_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forms),
      cmocka_unit_test(test_query_parameters),
      cmocka_unit_test(test_cut_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
