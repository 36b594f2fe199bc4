/*
 * test_sha256.c -- the evidence primitives: SHA-256 against the FIPS 180-4
 * examples (one block, two blocks, a million 'a', fed in odd pieces), and
 * the canonical JSON text against what Python's json.dumps(sort_keys=True,
 * separators=(",", ":"), ensure_ascii=False) prints for the same document
 * (the expected texts below were produced that way, except that integral
 * numbers are always written as integers -- 100.0 as 100 -- which Python
 * then reads back as ints and prints the same).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "canon_json.h"
#include "sha256.h"

static void test_vectors(void **state) {
  (void)state;
  char hex[IB_SHA256_HEX_LEN];
  ib_sha256_hex("", 0, hex);
  assert_string_equal(
      hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  ib_sha256_hex("abc", 3, hex);
  assert_string_equal(
      hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  ib_sha256_hex(two, strlen(two), hex);
  assert_string_equal(
      hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* A million 'a', fed in pieces that straddle block boundaries. */
  ib_sha256 s;
  ib_sha256_init(&s);
  char chunk[997];
  memset(chunk, 'a', sizeof chunk);
  size_t left = 1000000;
  while (left > 0) {
    size_t n = left < sizeof chunk ? left : sizeof chunk;
    ib_sha256_update(&s, chunk, n);
    left -= n;
  }
  ib_sha256_final_hex(&s, hex);
  assert_string_equal(
      hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  /* 55 and 56 bytes: the padding fits, then needs a second block. */
  ib_sha256_hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 55,
                hex);
  assert_string_equal(
      hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  ib_sha256_hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 56,
                hex);
  assert_string_equal(
      hex, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
}

static void canonical(const char *json, const char *want) {
  cJSON *doc = cJSON_Parse(json);
  assert_non_null(doc);
  char *text = ib_json_canonical(doc);
  assert_non_null(text);
  assert_string_equal(text, want);
  free(text);
  cJSON_Delete(doc);
}

static void test_canonical(void **state) {
  (void)state;
  canonical(
      "{ \"b\": 1, \"a\": [true, false, null], \"É\": {\"z\": \"x\", "
      "\"y\": []} }",
      "{\"a\":[true,false,null],\"b\":1,\"É\":{\"y\":[],\"z\":\"x\"}}");
  canonical(
      "[0.1, 93.333, 1e-05, 0.0001, 1.5e300, -0.5, 100.0, 1e16, "
      "123456789.125, 2.5e-7, 1234567890123456.5, 0.3333333333333333, "
      "-0.0]",
      "[0.1,93.333,1e-05,0.0001,1.5e+300,-0.5,100,10000000000000000,"
      "123456789.125,2.5e-07,1234567890123456.5,0.3333333333333333,0]");
  canonical(
      "[\"tab\\there\", \"q\\\"b\\\\\", \"\\u0001\\u001f\", "
      "\"\\b\\f\\n\\r\", \"caf\\u00e9 \\u2028\"]",
      "[\"tab\\there\",\"q\\\"b\\\\\",\"\\u0001\\u001f\","
      "\"\\b\\f\\n\\r\",\"café \xe2\x80\xa8\"]");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_canonical),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
