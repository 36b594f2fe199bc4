/*
 * canon_json.c -- writes a cJSON tree in the canonical form canon_json.h
 * defines, into one growing buffer. Object members are sorted on a copy of
 * their pointers; the tree itself is never modified.
 */
#include "canon_json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
  char *p; /* owned until handed to the caller */
  size_t n, cap;
  int failed;
} buf;

static void put(buf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (b->n + n + 1 > cap) cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void puts_(buf *b, const char *s) {
  put(b, s, strlen(s));
}

static void put_string(buf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  put(b, "\"", 1);
  const char *run = s;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    const char *esc = NULL;
    char u[7];
    switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      default:
        if (c < 0x20) {
          memcpy(u, "\\u00", 4);
          u[4] = hex[c >> 4];
          u[5] = hex[c & 15];
          u[6] = '\0';
          esc = u;
        }
    }
    if (esc == NULL) continue;
    put(b, run, (size_t)(s - run));
    puts_(b, esc);
    run = s + 1;
  }
  put(b, run, (size_t)(s - run));
  put(b, "\"", 1);
}

/* Python's repr(float): the shortest digits that read back as v, fixed
 * notation when the decimal exponent is in [-4, 16), else scientific. */
static void put_number(buf *b, double v) {
  char out[64];
  if (!isfinite(v)) {
    puts_(b, "null");
    return;
  }
  if (v == floor(v) && fabs(v) < 9.2e18) {
    snprintf(out, sizeof out, "%lld", (long long)v);
    puts_(b, out);
    return;
  }
  char sci[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(sci, sizeof sci, "%.*e", prec - 1, v);
    if (strtod(sci, NULL) == v) break;
  }
  /* sci: [-]d[.ddd]e[+-]XX */
  char digits[24];
  size_t nd = 0;
  const char *p = sci;
  int neg = *p == '-';
  if (neg) p++;
  for (; *p && *p != 'e'; p++)
    if (*p != '.') digits[nd++] = *p;
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  digits[nd] = '\0';
  int exp = atoi(p + 1);
  char *o = out;
  if (neg) *o++ = '-';
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      *o++ = '0';
      *o++ = '.';
      for (int i = 0; i < -exp - 1; i++) *o++ = '0';
      memcpy(o, digits, nd);
      o += nd;
    } else {
      for (int i = 0; i <= exp; i++) *o++ = i < (int)nd ? digits[i] : '0';
      *o++ = '.';
      if ((int)nd > exp + 1) {
        memcpy(o, digits + exp + 1, nd - (size_t)exp - 1);
        o += nd - (size_t)exp - 1;
      } else {
        *o++ = '0';
      }
    }
    *o = '\0';
  } else {
    *o++ = digits[0];
    if (nd > 1) {
      *o++ = '.';
      memcpy(o, digits + 1, nd - 1);
      o += nd - 1;
    }
    snprintf(o, sizeof out - (size_t)(o - out), "e%c%02d", exp < 0 ? '-' : '+',
             exp < 0 ? -exp : exp);
  }
  puts_(b, out);
}

static int by_key(const void *a, const void *b) {
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  return strcmp(x->string, y->string);
}

static void put_value(buf *b, const cJSON *v, int depth) {
  if (b->failed) return;
  if (depth > 64) { /* our documents are shallow; refuse runaway nesting */
    b->failed = 1;
    return;
  }
  if (cJSON_IsNull(v) || cJSON_IsInvalid(v)) {
    puts_(b, "null");
  } else if (cJSON_IsTrue(v)) {
    puts_(b, "true");
  } else if (cJSON_IsFalse(v)) {
    puts_(b, "false");
  } else if (cJSON_IsNumber(v)) {
    put_number(b, v->valuedouble);
  } else if (cJSON_IsString(v)) {
    put_string(b, v->valuestring ? v->valuestring : "");
  } else if (cJSON_IsArray(v)) {
    put(b, "[", 1);
    int first = 1;
    for (const cJSON *c = v->child; c; c = c->next) {
      if (!first) put(b, ",", 1);
      first = 0;
      put_value(b, c, depth + 1);
    }
    put(b, "]", 1);
  } else if (cJSON_IsObject(v)) {
    size_t n = 0;
    for (const cJSON *c = v->child; c; c = c->next) n++;
    const cJSON **members = n ? malloc(n * sizeof *members) : NULL;
    if (n && members == NULL) {
      b->failed = 1;
      return;
    }
    n = 0;
    for (const cJSON *c = v->child; c; c = c->next) members[n++] = c;
    if (n > 1) qsort(members, n, sizeof *members, by_key);
    put(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
      if (i) put(b, ",", 1);
      put_string(b, members[i]->string);
      put(b, ":", 1);
      put_value(b, members[i], depth + 1);
    }
    put(b, "}", 1);
    free(members);
  } else {
    puts_(b, "null");
  }
}

char *ib_json_canonical(const cJSON *doc) {
  buf b = {0};
  put_value(&b, doc, 0);
  if (b.failed || b.p == NULL) {
    free(b.p);
    return NULL;
  }
  return b.p;
}
