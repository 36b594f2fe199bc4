/*
 * text.c -- small text encodings shared by the host (text.h). Must not know
 * HTTP, secrets or the model.
 */
#include "text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *ib_percent_encode(const char *text, int lower_hex) {
  const char *hex = lower_hex ? "0123456789abcdef" : "0123456789ABCDEF";
  if (text == NULL) return NULL;
  char *out = malloc(3 * strlen(text) + 1); /* owned by the caller */
  if (out == NULL) return NULL;
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
      out[o++] = (char)*p;
    } else {
      out[o++] = '%';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    }
  }
  out[o] = '\0';
  return out;
}
