/*
 * utf8.c -- strict UTF-8 validation and U+FFFD repair (see utf8.h). Must
 * not know where the text comes from or goes.
 */
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

/* Bytes of the valid sequence at s (1..4), or 0 when it is invalid. */
static size_t sequence(const unsigned char *s) {
  unsigned char c = s[0];
  size_t len;
  unsigned cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  /* The NUL terminator is not a continuation byte: no read past it. */
  for (size_t k = 1; k < len; k++) {
    if ((s[k] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[k] & 0x3Fu);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return len;
}

int ib_utf8_valid(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    size_t n = sequence(p);
    if (n == 0) return 0;
    p += n;
  }
  return 1;
}

char *ib_utf8_repair(const char *s, size_t *replaced) {
  size_t len = strlen(s), bad = 0;
  /* Each invalid byte becomes at most 3 bytes. */
  char *out = malloc(len * 3 + 1); /* returned: owned by the caller */
  if (out == NULL) return NULL;
  const unsigned char *p = (const unsigned char *)s;
  char *o = out;
  while (*p) {
    size_t n = sequence(p);
    if (n == 0) {
      memcpy(o, "\xEF\xBF\xBD", 3);
      o += 3;
      p++;
      bad++;
      continue;
    }
    memcpy(o, p, n);
    o += n;
    p += n;
  }
  *o = '\0';
  if (replaced) *replaced = bad;
  return out;
}

void ib_utf8_trim_partial(char *s) {
  size_t len = strlen(s), i = len, back = 0;
  while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
    i--;
    back++;
  }
  if (i == 0) return;
  unsigned char lead = (unsigned char)s[i - 1];
  size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  if (need > 1 && back + 1 < need) s[i - 1] = '\0';
}
