/*
 * scrub.c -- the run's secret scrubber (see scrub.h): a list of the forms
 * each secret may appear in, and one left-to-right rewrite of a text. Must
 * not log, read configuration or know HTTP; the secrets it holds are wiped
 * when it is freed.
 */
#define _GNU_SOURCE
#include "scrub.h"
#include "text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SCRUB_STACK_BUF 4096

struct ib_scrubber {
  char **forms; /* owned, each owned and wiped on free */
  size_t n, cap;
};

ib_scrubber *ib_scrubber_new(void) {
  return calloc(1, sizeof(ib_scrubber)); /* owned by the caller */
}

static void wipe_free(char *p) {
  if (p) {
    explicit_bzero(p, strlen(p));
    free(p);
  }
}

void ib_scrubber_free(ib_scrubber *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) wipe_free(s->forms[i]);
  free(s->forms);
  free(s);
}

/* Takes ownership of form (wiped and freed if it is a duplicate). */
static int add_form(ib_scrubber *s, char *form) {
  if (!form) return -1;
  if (strlen(form) < IB_SCRUB_MIN_LEN) {
    wipe_free(form);
    return 0;
  }
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->forms[i], form) == 0) {
      wipe_free(form);
      return 0;
    }
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 8;
    char **grown = realloc(s->forms, cap * sizeof *grown);
    if (!grown) {
      wipe_free(form);
      return -1;
    }
    s->forms = grown;
    s->cap = cap;
  }
  /* Longest first, so that a form containing another one wins. */
  size_t len = strlen(form), at = s->n;
  while (at > 0 && strlen(s->forms[at - 1]) < len) at--;
  memmove(s->forms + at + 1, s->forms + at, (s->n - at) * sizeof *s->forms);
  s->forms[at] = form;
  s->n++;
  return 0;
}

/* The form a JSON writer gives a string (quote and backslash escaped). */
static char *json_escaped(const char *in) {
  char *out = malloc(2 * strlen(in) + 1); /* owned by the caller */
  if (!out) return NULL;
  size_t o = 0;
  for (const char *p = in; *p; p++) {
    if (*p == '"' || *p == '\\') out[o++] = '\\';
    out[o++] = *p;
  }
  out[o] = '\0';
  return out;
}

static char *base64(const char *in) {
  static const char tbl[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen(in);
  char *out = malloc(4 * ((n + 2) / 3) + 1); /* owned by the caller */
  if (!out) return NULL;
  const unsigned char *s = (const unsigned char *)in;
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)s[i] << 16;
    if (i + 1 < n) v |= (unsigned)s[i + 1] << 8;
    if (i + 2 < n) v |= s[i + 2];
    out[o++] = tbl[(v >> 18) & 63];
    out[o++] = tbl[(v >> 12) & 63];
    out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? tbl[v & 63] : '=';
  }
  out[o] = '\0';
  return out;
}

int ib_scrubber_add(ib_scrubber *s, const char *secret) {
  if (!s || !secret || strlen(secret) < IB_SCRUB_MIN_LEN) return 0;
  if (add_form(s, strdup(secret)) ||
      add_form(s, ib_percent_encode(secret, 0)) ||
      add_form(s, ib_percent_encode(secret, 1)) ||
      add_form(s, json_escaped(secret)) || add_form(s, base64(secret)))
    return -1;
  return 0;
}

int ib_scrubber_add_basic(ib_scrubber *s, const char *user, const char *token) {
  if (!s || !user || !token) return 0;
  size_t len = strlen(user) + strlen(token) + 2;
  char *pair = malloc(len); /* owned here, wiped */
  if (!pair) return -1;
  memcpy(pair, user, strlen(user));
  pair[strlen(user)] = ':';
  memcpy(pair + strlen(user) + 1, token, strlen(token) + 1);
  int rc = add_form(s, base64(pair));
  wipe_free(pair);
  return rc;
}

/* ---- query parameters ---------------------------------------------------- */

static int param_char(char c) {
  return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* Names of query parameters whose values are blanked (case-insensitive
 * substrings of the name), and exact names. */
static int sensitive_param(const char *name, size_t len) {
  static const char *const parts[] = {
      "token",     "secret",  "password",   "passwd", "apikey",    "api_key",
      "signature", "session", "credential", "auth",   "accesskey", NULL};
  static const char *const exact[] = {"key", "sig",  "pass",
                                      "pwd", "code", NULL};
  char low[64];
  if (len == 0 || len >= sizeof low) return 0;
  for (size_t i = 0; i < len; i++)
    low[i] = (char)tolower((unsigned char)name[i]);
  low[len] = '\0';
  for (const char *const *p = parts; *p; p++)
    if (strstr(low, *p)) return 1;
  for (const char *const *p = exact; *p; p++)
    if (strcmp(low, *p) == 0) return 1;
  /* access_key, private-key, ... */
  return len > 4 && (strcmp(low + len - 4, "_key") == 0 ||
                     strcmp(low + len - 4, "-key") == 0);
}

/* At text[i] == '?' or '&': length of "name=" when name is sensitive, and
 * the length of its value in *value_len; 0 otherwise. */
static size_t sensitive_at(const char *text, size_t i, size_t *value_len) {
  if (text[i] != '?' && text[i] != '&') return 0;
  size_t n = i + 1;
  while (param_char(text[n])) n++;
  if (text[n] != '=' || !sensitive_param(text + i + 1, n - i - 1)) return 0;
  size_t v = n + 1;
  while (text[v] && text[v] != '&' && text[v] != '#' && text[v] != '"' &&
         text[v] != '\'' && !isspace((unsigned char)text[v]))
    v++;
  *value_len = v - n - 1;
  return n + 1 - i;
}

/* ---- the rewrite ----------------------------------------------------------
 */

/* A text cut by its writer may end with the start of a secret: that start
 * is replaced by the mark (or dropped). Returns the new length. */
static size_t cut_secret_tail(const ib_scrubber *s, char *out, size_t o,
                              size_t size) {
  for (size_t k = 0; s && k < s->n; k++) {
    size_t len = strlen(s->forms[k]);
    for (size_t p = len - 1; p >= IB_SCRUB_MIN_LEN; p--) {
      if (p > o || strncmp(out + o - p, s->forms[k], p) != 0) continue;
      o -= p;
      size_t mark_len = strlen(IB_SCRUB_MARK);
      if (o + mark_len < size) {
        memcpy(out + o, IB_SCRUB_MARK, mark_len);
        o += mark_len;
      }
      out[o] = '\0';
      return o;
    }
  }
  return o;
}

void ib_scrub(const ib_scrubber *s, char *buf, size_t size) {
  char stack[SCRUB_STACK_BUF];
  char *out; /* stack or owned */
  if (!buf || size == 0) return;
  out = size <= sizeof stack ? stack : malloc(size);
  if (!out) {
    buf[0] = '\0'; /* cannot prove the text clean: drop it */
    return;
  }
  const size_t mark_len = strlen(IB_SCRUB_MARK);
  const int full = strlen(buf) + 1 >= size; /* maybe cut by its writer */
  size_t o = 0, i = 0;
  int cut = 0;
  while (buf[i] && !cut) {
    size_t skip = 0, keep = 0, value_len = 0;
    for (size_t k = 0; s && k < s->n && !skip; k++) {
      size_t len = strlen(s->forms[k]);
      if (strncmp(buf + i, s->forms[k], len) == 0) skip = len;
    }
    if (!skip && (keep = sensitive_at(buf, i, &value_len)) && value_len > 0)
      skip = keep + value_len;
    else
      keep = 0;
    if (!skip) {
      if (o + 1 >= size) break;
      out[o++] = buf[i++];
      continue;
    }
    /* the parameter's "?name=" is kept, then the mark */
    if (o + keep + mark_len >= size) {
      cut = 1;
      break;
    }
    memcpy(out + o, buf + i, keep);
    o += keep;
    memcpy(out + o, IB_SCRUB_MARK, mark_len);
    o += mark_len;
    i += skip;
  }
  out[o] = '\0';
  if (full) o = cut_secret_tail(s, out, o, size);
  memcpy(buf, out, o + 1);
  explicit_bzero(out, o + 1);
  if (out != stack) free(out);
}

int ib_scrubber_found(const ib_scrubber *s, const char *text) {
  for (size_t k = 0; s && text && k < s->n; k++)
    if (strstr(text, s->forms[k])) return 1;
  return 0;
}
