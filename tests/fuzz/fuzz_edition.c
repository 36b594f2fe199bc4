/*
 * fuzz_edition.c -- fuzz target: an edition read back from a store someone
 * may have edited (verify, report). The input is two JSON documents
 * separated by a NUL byte: a "frozen" edition and a recomputed one. Their
 * canonical texts must parse back to the same canonical text (a fixed
 * point), and comparing them must never crash, whatever members are
 * missing, of the wrong type, or nested deep; comparing a document with
 * itself must find nothing changed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "canon_json.h"
#include "edition.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void canonical_fixed_point(const cJSON *doc) {
  char *a = ib_json_canonical(doc);
  if (a == NULL) return; /* too deep or ENOMEM: refused, not crashed */
  cJSON *back = cJSON_Parse(a);
  if (back == NULL) abort(); /* canonical text must be JSON */
  char *b = ib_json_canonical(back);
  if (b == NULL || strcmp(a, b) != 0) abort();
  free(b);
  cJSON_Delete(back);
  free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 2);
  if (text == NULL) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  text[size + 1] = '\0';
  const char *second = text + strlen(text) + 1;
  if (second > text + size) second = text + size; /* no separator: empty */
  cJSON *frozen = cJSON_Parse(text), *now = cJSON_Parse(second);
  char err[256];
  if (frozen) canonical_fixed_point(frozen);
  if (now) canonical_fixed_point(now);
  if (frozen) {
    cJSON *v =
        ib_edition_compare(frozen, now, "0123456789abcdef", 1, err, sizeof err);
    cJSON_Delete(v);
    v = ib_edition_compare(frozen, frozen, "0123456789abcdef", 1, err,
                           sizeof err);
    if (v != NULL &&
        (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "unchanged")) ||
         cJSON_GetArraySize(
             cJSON_GetObjectItemCaseSensitive(v, "credit_delta")) != 0))
      abort(); /* a document always equals itself */
    cJSON_Delete(v);
  }
  cJSON_Delete(frozen);
  cJSON_Delete(now);
  free(text);
  return 0;
}
