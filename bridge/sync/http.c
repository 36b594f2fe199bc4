/*
 * http.c -- the host's HTTP client (libcurl multi, single-threaded): runs a
 * batch of requests with bounded concurrency, auth (basic, bearer, a key in
 * a named header), timeouts, always-on TLS verification and retries with
 * backoff, and hands each response its (bounded) headers. Must not know about
 * plugins, configuration files or the store, and must never let a secret
 * (token, Authorization header, URL credentials) reach a message or a trace.
 */
#define _GNU_SOURCE
#include "http.h"

#include "curl_lib.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scrub.h"
#include "text.h"
#include "tz.h"

/* The system's hashed CA directory: with ca_file set, CURLOPT_CAINFO would
 * replace the default bundle, so the directory keeps the system CAs. */
#define IB_HTTP_SYSTEM_CA_PATH "/etc/ssl/certs"
/* How long one wait on the sockets may last, so should_stop() is honoured. */
#define IB_HTTP_POLL_SLICE_MS 200
/* X-RateLimit-Reset values above this are epoch seconds, not a delay. */
#define IB_HTTP_EPOCH_THRESHOLD_S (365.0 * 24 * 3600)
#define IB_HTTP_MSG_LEN 1024
#define IB_HTTP_ABANDONED "not completed: another request of the batch failed"

struct ib_http_client {
  char *label; /* owned */
  ib_auth_type auth;
  char *user;         /* owned, secret */
  char *token;        /* owned, secret */
  ib_scrubber *scrub; /* owned: user, token, their Basic form, session
                         values (ib_http_client_add_secret) */
  char *hint;         /* owned, may be NULL */
  char *auth_header;  /* owned: header name of IB_AUTH_HEADER */
  char *ca_file;      /* owned, may be NULL */
  long connect_timeout_s;
  long timeout_s;
  long low_speed_time_s;
  int max_concurrency;
  int max_retries;
  double max_wait_s;
  double backoff_base_s;
  int verbose;
  size_t max_batch_bytes; /* cap on the bodies of one batch together */
  size_t batch_bytes;     /* bodies of the running batch, received so far */
  void (*log)(void *ctx, ib_log_level level, const char *msg);
  void *log_ctx;
  int (*should_stop)(void *ctx);
  void *stop_ctx;
  CURLM *multi; /* owned; keeps the connection cache between batches */
  uint64_t rng;
  char user_agent[64];
  char last_error[IB_HTTP_MSG_LEN];
};

typedef enum { SLOT_WAITING, SLOT_RUNNING, SLOT_DONE } slot_state;

/* One request of a batch, across its attempts. */
typedef struct http_slot {
  ib_http_client *client;
  const ib_http_request *req;
  ib_http_response *resp;
  const char *method;
  CURL *easy;                 /* owned while running */
  struct curl_slist *headers; /* owned while running */
  char *buf;                  /* owned: body being received */
  size_t len, cap;
  int too_big;
  slot_state state;
  int attempts;
  double waited_s;
  double start_at;          /* monotonic seconds */
  double first_at;          /* when the first attempt started */
  double retry_after_s;     /* from the last answer; -1 = none */
  double ratelimit_reset_s; /* idem */
  ib_http_header *hdrs;     /* owned: headers of the answer being received */
  size_t n_hdrs;
  char errbuf[CURL_ERROR_SIZE];
  char redirected_to[256]; /* scheme://host/path a refused redirect aimed at */
} http_slot;

/* ---- small helpers ------------------------------------------------------ */

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *dup_or_null(const char *s) {
  return s ? strdup(s) : NULL;
}

static void free_secret(char *s) {
  if (s) {
    volatile char *p = s;
    while (*p) *p++ = '\0';
    free(s);
  }
}

/* xorshift64*: per-client jitter source, no global state. */
static double rng_uniform(ib_http_client *c) {
  c->rng ^= c->rng >> 12;
  c->rng ^= c->rng << 25;
  c->rng ^= c->rng >> 27;
  uint64_t x = c->rng * 0x2545F4914F6CDD1DULL;
  return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

static void scrub(const ib_http_client *c, char *buf, size_t size) {
  ib_scrub(c->scrub, buf, size);
}

static void emit(const ib_http_client *c, ib_log_level level, char *msg) {
  scrub(c, msg, IB_HTTP_MSG_LEN);
  if (c->log)
    c->log(c->log_ctx, level, msg);
  else
    fprintf(stderr, "%s: %s\n", c->label ? c->label : "http", msg);
}

static void client_log(const ib_http_client *c, ib_log_level level,
                       const char *fmt, ...) IB_PRINTF(3, 4);
static void client_log(const ib_http_client *c, ib_log_level level,
                       const char *fmt, ...) {
  char msg[IB_HTTP_MSG_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  emit(c, level, msg);
}

/* Records the batch's failure: last_error, the slot's .error, and a log
 * line at IB_LOG_ERROR. */
static void fail_slot(http_slot *s, const char *fmt, ...) IB_PRINTF(2, 3);
static void fail_slot(http_slot *s, const char *fmt, ...) {
  ib_http_client *c = s->client;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->last_error, sizeof c->last_error, fmt, ap);
  va_end(ap);
  scrub(c, c->last_error, sizeof c->last_error);
  free(s->resp->error);
  s->resp->error = strdup(c->last_error);
  char msg[IB_HTTP_MSG_LEN];
  snprintf(msg, sizeof msg, "%s", c->last_error);
  emit(c, IB_LOG_ERROR, msg);
}

void ib_http_url_for_message(const char *url, char *buf, size_t len) {
  CURLU *u = curl_url(); /* owned here */
  char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL; /* curl_free */
  if (!u || !url || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    snprintf(buf, len, "(unparsable URL)");
    goto done;
  }
  curl_url_get(u, CURLUPART_PORT, &port, 0); /* only when given */
  curl_url_get(u, CURLUPART_PATH, &path, 0);
  snprintf(buf, len, "%s://%s%s%s%s", scheme, host, port ? ":" : "",
           port ? port : "", path ? path : "/");
done:
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(path);
  curl_url_cleanup(u);
}

int ib_http_check_url(const char *url, char *why, size_t len) {
  static const char *const loopback[] = {"127.0.0.1", "localhost", "[::1]",
                                         "::1", NULL};
  CURLU *u = NULL;                 /* owned here */
  char *host = NULL, *user = NULL; /* curl_free */
  int rc = -1, https;
  if (url == NULL || url[0] == '\0') {
    snprintf(why, len, "is empty: give the site's https:// address");
    return -1;
  }
  https = strncasecmp(url, "https://", 8) == 0;
  if (!https && strncasecmp(url, "http://", 7) != 0) {
    snprintf(why, len,
             "has no https:// scheme: write it in full, e.g. "
             "\"https://host.example.com\" (a bare host:port would be read as "
             "plain http, credentials in clear)");
    return -1;
  }
  char lib[384]; /* URLs are read by libcurl */
  if (ib_curl_load(lib, sizeof lib) != 0) {
    snprintf(why, len, "cannot be checked: %s", lib);
    return -1;
  }
  u = curl_url();
  if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host ||
      !host[0]) {
    snprintf(why, len, "is not a valid URL with a host");
    goto done;
  }
  if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user) {
    snprintf(why, len,
             "carries credentials (user@ or user:password@): remove them and "
             "use the source's auth settings");
    goto done;
  }
  if (!https) {
    int local = 0;
    for (const char *const *l = loopback; *l; l++)
      if (strcasecmp(host, *l) == 0) local = 1;
    if (!local) {
      snprintf(why, len,
               "uses plain http:// to %s: use https:// (plain http is only "
               "for 127.0.0.1/localhost; credentials would travel in clear)",
               host);
      goto done;
    }
  }
  rc = 0;
done:
  curl_free(host);
  curl_free(user);
  curl_url_cleanup(u);
  return rc;
}

/* host[:port] of url, for the 401/403 message. */
static void url_host(const char *url, char *buf, size_t len) {
  CURLU *u = curl_url();           /* owned here */
  char *host = NULL, *port = NULL; /* curl_free */
  if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    snprintf(buf, len, "(unparsable URL)");
  } else {
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    snprintf(buf, len, "%s%s%s", host, port ? ":" : "", port ? port : "");
  }
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
}

char *ib_http_escape(const char *text) {
  return ib_percent_encode(text, 0);
}

/* ---- Retry-After / X-RateLimit-Reset ------------------------------------ */

static int parse_number(const char *value, double *out) {
  char *end;
  errno = 0;
  double v = strtod(value, &end);
  while (isspace((unsigned char)*end)) end++;
  if (end == value || *end || errno || !isfinite(v) || v < 0) return -1;
  *out = v;
  return 0;
}

double ib_http_parse_retry_after(const char *value, long long now) {
  double v;
  if (!value) return -1;
  while (isspace((unsigned char)*value)) value++;
  if (parse_number(value, &v) == 0) return v;
  time_t t = curl_getdate(value, NULL);
  if (t == (time_t)-1) return -1;
  return (double)t > (double)now ? (double)t - (double)now : 0.0;
}

double ib_http_parse_ratelimit_reset(const char *value, long long now) {
  double v;
  ib_time t;
  if (!value) return -1;
  while (isspace((unsigned char)*value)) value++;
  if (parse_number(value, &v) == 0) {
    if (v <= IB_HTTP_EPOCH_THRESHOLD_S) return v;
    return v > (double)now ? v - (double)now : 0.0;
  }
  if (ib_parse_iso8601(value, "UTC", &t) == 0)
    return (double)t > (double)now ? (double)t - (double)now : 0.0;
  return -1;
}

/* ---- curl callbacks ------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp) {
  http_slot *s = userp;
  ib_http_client *c = s->client;
  size_t n = size * nmemb;
  /* The batch's bodies together: the caller holds them all at once. */
  if (n > c->max_batch_bytes - c->batch_bytes) {
    s->too_big = 1;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (s->len + n + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 16384;
    while (cap < s->len + n + 1) cap *= 2;
    char *grown = realloc(s->buf, cap);
    if (!grown) return 0;
    s->buf = grown;
    s->cap = cap;
  }
  memcpy(s->buf + s->len, data, n);
  s->len += n;
  c->batch_bytes += n;
  s->buf[s->len] = '\0';
  return n;
}

/* Non-zero when line (not NUL-terminated) is "Name:" header `name`. */
static const char *header_value(const char *line, size_t len,
                                const char *name) {
  size_t nl = strlen(name);
  if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
    return NULL;
  return line + nl + 1;
}

/* ---- response headers, for the plugins ----------------------------------
 * Kept per slot for the answer being received (a redirect or a 100
 * Continue starts a new list), bounded in count and length, and handed to
 * the response with the body. */

static void headers_free(ib_http_header *h, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free((char *)h[i].name);
    free((char *)h[i].value);
  }
  free(h);
}

static void slot_forget_headers(http_slot *s) {
  headers_free(s->hdrs, s->n_hdrs);
  s->hdrs = NULL;
  s->n_hdrs = 0;
}

/* Adds one "Name: value" line; lines beyond the bounds, continuation
 * lines and the blank end line are ignored. IB_ERR_NOMEM only on ENOMEM. */
static ib_status collect_header(http_slot *s, const char *line, size_t len) {
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
  const char *colon = memchr(line, ':', len);
  if (len == 0 || len > IB_HTTP_MAX_HEADER_LEN || colon == NULL ||
      colon == line || line[0] == ' ' || line[0] == '\t' ||
      s->n_hdrs >= IB_HTTP_MAX_HEADERS)
    return IB_OK;
  const char *v = colon + 1, *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
  if (s->hdrs == NULL) {
    s->hdrs = calloc(IB_HTTP_MAX_HEADERS, sizeof *s->hdrs);
    if (s->hdrs == NULL) return IB_ERR_NOMEM;
  }
  char *name = strndup(line, (size_t)(colon - line));
  char *value = strndup(v, (size_t)(end - v));
  if (name == NULL || value == NULL) {
    free(name);
    free(value);
    return IB_ERR_NOMEM;
  }
  s->hdrs[s->n_hdrs].name = name;
  s->hdrs[s->n_hdrs].value = value;
  s->n_hdrs++;
  return IB_OK;
}

const char *ib_http_header_get(const ib_http_response *r, const char *name) {
  if (r == NULL || name == NULL ||
      r->struct_size < offsetof(ib_http_response, n_headers) + sizeof(size_t))
    return NULL;
  for (size_t i = 0; r->headers && i < r->n_headers; i++)
    if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
  return NULL;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp) {
  http_slot *s = userp;
  size_t n = size * nmemb;
  if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
    /* a new answer (redirect, 100 Continue): forget the previous hints */
    s->retry_after_s = -1;
    s->ratelimit_reset_s = -1;
    slot_forget_headers(s);
    return n;
  }
  if (collect_header(s, data, n) != IB_OK) return 0; /* out of memory */
  const char *v;
  int which = 0;
  if ((v = header_value(data, n, "Retry-After")) != NULL)
    which = 1;
  else if ((v = header_value(data, n, "X-RateLimit-Reset")) != NULL)
    which = 2;
  if (!which) return n;
  char value[128];
  size_t vl = n - (size_t)(v - data);
  if (vl >= sizeof value) return n;
  memcpy(value, v, vl);
  value[vl] = '\0';
  value[strcspn(value, "\r\n")] = '\0';
  long long now = (long long)time(NULL);
  if (which == 1)
    s->retry_after_s = ib_http_parse_retry_after(value, now);
  else
    s->ratelimit_reset_s = ib_http_parse_ratelimit_reset(value, now);
  return n;
}

static int is_sensitive_header(const char *line, size_t len) {
  static const char *const words[] = {"auth",   "token",    "key", "secret",
                                      "cookie", "password", NULL};
  const char *colon = memchr(line, ':', len);
  if (!colon) return 0;
  size_t nl = (size_t)(colon - line);
  for (int w = 0; words[w]; w++) {
    size_t wl = strlen(words[w]);
    for (size_t i = 0; i + wl <= nl; i++)
      if (strncasecmp(line + i, words[w], wl) == 0) return 1;
  }
  return 0;
}

/* The configured custom auth header (IB_AUTH_HEADER), whatever its name. */
static int is_auth_header(const ib_http_client *c, const char *line,
                          size_t len) {
  if (c->auth != IB_AUTH_HEADER || c->auth_header == NULL) return 0;
  size_t nl = strlen(c->auth_header);
  return len > nl && line[nl] == ':' &&
         strncasecmp(line, c->auth_header, nl) == 0;
}

/* Verbose trace: headers and curl's notes, secrets redacted. */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size,
                    void *userp) {
  http_slot *s = userp;
  const char *mark;
  switch (type) {
    case CURLINFO_TEXT: mark = "*"; break;
    case CURLINFO_HEADER_OUT: mark = ">"; break;
    case CURLINFO_HEADER_IN: mark = "<"; break;
    default: return 0;
  }
  size_t pos = 0;
  while (pos < size) {
    size_t end = pos;
    while (end < size && data[end] != '\n' && data[end] != '\r') end++;
    size_t len = end - pos;
    const char *line = data + pos;
    /* curl names the user here; the user comes from a secret variable */
    static const char auth_note[] = "Server auth using";
    if (type == CURLINFO_TEXT && len >= sizeof auth_note - 1 &&
        strncmp(line, auth_note, sizeof auth_note - 1) == 0)
      len = 0;
    if (len > 0) {
      if (type != CURLINFO_TEXT && (is_sensitive_header(line, len) ||
                                    is_auth_header(s->client, line, len))) {
        const char *colon = memchr(line, ':', len);
        client_log(s->client, IB_LOG_DEBUG, "%s %.*s: [redacted]", mark,
                   (int)(colon - line), line);
      } else {
        client_log(s->client, IB_LOG_DEBUG, "%s %.*s", mark, (int)len, line);
      }
    }
    pos = end + 1;
  }
  return 0;
}

/* ---- one attempt ----------------------------------------------------------
 */

static int has_header(const char *const *headers, const char *name) {
  size_t nl = strlen(name);
  for (size_t i = 0; headers && headers[i]; i++)
    if (strncasecmp(headers[i], name, nl) == 0 && headers[i][nl] == ':')
      return 1;
  return 0;
}

static ib_status add_header(struct curl_slist **list, const char *line) {
  struct curl_slist *grown = curl_slist_append(*list, line);
  if (!grown) return IB_ERR_NOMEM;
  *list = grown;
  return IB_OK;
}

/* "Name: value" of the custom auth header; the line is wiped after use. */
static ib_status add_auth_header(const ib_http_client *c,
                                 struct curl_slist **list) {
  size_t len = strlen(c->auth_header) + strlen(c->token) + 3;
  char *line = malloc(len); /* owned here, secret */
  if (!line) return IB_ERR_NOMEM;
  snprintf(line, len, "%s: %s", c->auth_header, c->token);
  ib_status st = add_header(list, line);
  free_secret(line);
  return st;
}

static void slot_release_easy(http_slot *s) {
  if (s->easy) {
    curl_multi_remove_handle(s->client->multi, s->easy);
    curl_easy_cleanup(s->easy);
    s->easy = NULL;
  }
  curl_slist_free_all(s->headers);
  s->headers = NULL;
}

static ib_status slot_start(http_slot *s) {
  ib_http_client *c = s->client;
  const ib_http_request *r = s->req;
  int post = strcmp(s->method, "POST") == 0;
  ib_status st = IB_ERR_NOMEM;

  c->batch_bytes -= s->len; /* a retry drops the last attempt's body */
  if (s->attempts == 0) s->first_at = mono_now();
  s->len = 0;
  if (s->buf) s->buf[0] = '\0';
  s->too_big = 0;
  s->retry_after_s = -1;
  s->ratelimit_reset_s = -1;
  s->errbuf[0] = '\0';
  slot_forget_headers(s);
  s->easy = curl_easy_init();
  if (!s->easy) goto fail;

  if (!has_header(r->headers, "Accept") &&
      add_header(&s->headers, "Accept: application/json") != IB_OK)
    goto fail;
  if (post && !has_header(r->headers, "Content-Type") &&
      add_header(&s->headers, "Content-Type: application/json") != IB_OK)
    goto fail;
  if (add_header(&s->headers, "Expect:") != IB_OK) goto fail;
  for (size_t i = 0; r->headers && r->headers[i]; i++)
    if (add_header(&s->headers, r->headers[i]) != IB_OK) goto fail;
  if (c->auth == IB_AUTH_HEADER && add_auth_header(c, &s->headers) != IB_OK)
    goto fail;

  CURL *e = s->easy;
  curl_easy_setopt(e, CURLOPT_URL, r->url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, s);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  /* An https request may only be redirected to https: never downgraded. */
  int https = strncasecmp(r->url, "https://", 8) == 0;
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, https ? "https" : "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR,
                   https ? "https" : "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, IB_HTTP_MAX_REDIRECTS);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
  curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, c->connect_timeout_s);
  curl_easy_setopt(e, CURLOPT_TIMEOUT, c->timeout_s);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, c->low_speed_time_s);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (c->ca_file) {
    curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(e, CURLOPT_CAPATH, IB_HTTP_SYSTEM_CA_PATH);
  }
  if (c->auth == IB_AUTH_BASIC) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_USERNAME, c->user);
    curl_easy_setopt(e, CURLOPT_PASSWORD, c->token);
  } else if (c->auth == IB_AUTH_BEARER) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
    curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, c->token);
  }
  if (post) {
    const char *body = r->body ? r->body : "";
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
  } else {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
  if (c->verbose) {
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, s);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
  }
  if (curl_multi_add_handle(c->multi, e) != CURLM_OK) goto fail;
  s->attempts++;
  s->state = SLOT_RUNNING;
  return IB_OK;
fail:
  slot_release_easy(s);
  return st;
}

/* ---- outcome of an attempt -------------------------------------------------
 */

static int retryable_status(long status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

static int transient_error(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return 1;
    default: return 0;
  }
}

/* What went wrong in an attempt, for messages ("HTTP 503", curl's text). */
static void describe_attempt(const http_slot *s, CURLcode code, long status,
                             char *buf, size_t len) {
  if (code == CURLE_OK)
    snprintf(buf, len, "HTTP %ld", status);
  else
    snprintf(buf, len, "%s",
             s->errbuf[0] ? s->errbuf : curl_easy_strerror(code));
}

/* Schedules the next attempt, or fails the batch when retries or the wait
 * budget are exhausted. */
static ib_status slot_retry(http_slot *s, CURLcode code, long status,
                            const char *where) {
  ib_http_client *c = s->client;
  char what[CURL_ERROR_SIZE + 32];
  describe_attempt(s, code, status, what, sizeof what);

  if (s->attempts > c->max_retries) {
    /* No configuration key sets the number of retries: say what was
     * tried instead of naming one. */
    fail_slot(s,
              "%s %s: gave up after %d attempts over %.0f s, last: %s; the "
              "service is unavailable or rate-limiting: try again later",
              s->method, where, s->attempts, mono_now() - s->first_at, what);
    return IB_ERR_HTTP;
  }
  double hint = s->retry_after_s > s->ratelimit_reset_s ? s->retry_after_s
                                                        : s->ratelimit_reset_s;
  double remaining = c->max_wait_s - s->waited_s;
  double step = c->backoff_base_s * pow(2.0, (double)(s->attempts - 1));
  if (step > IB_HTTP_MAX_BACKOFF_STEP_S) step = IB_HTTP_MAX_BACKOFF_STEP_S;
  double wait;
  if (hint >= 0) {
    if (hint > remaining) {
      fail_slot(s,
                "%s %s: %s and the server asks to wait %.0f s, more than "
                "the %.0f s left of the retry budget; try again later",
                s->method, where, what, hint, remaining > 0 ? remaining : 0);
      return IB_ERR_HTTP;
    }
    /* a little spread so that a batch does not come back all at once */
    wait = hint + rng_uniform(c) * c->backoff_base_s;
  } else {
    wait = rng_uniform(c) * step; /* full jitter */
  }
  if (wait > remaining) wait = remaining > 0 ? remaining : 0;
  if (remaining <= 0) {
    fail_slot(s,
              "%s %s: %s; waited %.0f s in retries already (max %.0f s): "
              "try again later",
              s->method, where, what, s->waited_s, c->max_wait_s);
    return IB_ERR_HTTP;
  }
  s->waited_s += wait;
  s->start_at = mono_now() + wait;
  s->state = SLOT_WAITING;
  client_log(c, IB_LOG_INFO, "%s %s: %s, retry %d/%d in %.2f s", s->method,
             where, what, s->attempts, c->max_retries, wait);
  return IB_OK;
}

static ib_status fail_transport(http_slot *s, CURLcode code,
                                const char *where) {
  const ib_http_client *c = s->client;
  char host[256];
  url_host(s->req->url, host, sizeof host);
  const char *detail = s->errbuf[0] ? s->errbuf : curl_easy_strerror(code);
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      fail_slot(s,
                "%s %s: TLS certificate of %s not trusted (%s); if the "
                "server uses a private CA, set ca_file to its PEM certificate",
                s->method, where, host, detail);
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      fail_slot(s,
                "%s %s: cannot resolve host %s; check the source's url and "
                "the DNS/proxy settings",
                s->method, where, host);
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
      if (s->redirected_to[0]) {
        fail_slot(s,
                  "%s %s: the server redirected to %s, which is not https: "
                  "refused (a redirect never downgrades to plain http); fix "
                  "the source's url or the server's redirect",
                  s->method, where, s->redirected_to);
        break;
      }
      /* fall through */
    case CURLE_URL_MALFORMAT:
      fail_slot(s, "%s %s: unusable URL (%s); check the source's url",
                s->method, where, detail);
      break;
    case CURLE_WRITE_ERROR:
      if (s->too_big) {
        fail_slot(s,
                  "%s %s: the responses of this batch of requests together "
                  "exceed %zu bytes (memory guard); ask for smaller pages "
                  "(the source's page_size or batch_size)",
                  s->method, where, c->max_batch_bytes);
        break;
      }
      /* fall through */
    default:
      fail_slot(s, "%s %s: %s (curl error %d)", s->method, where, detail,
                (int)code);
      break;
  }
  return code == CURLE_WRITE_ERROR && !s->too_big ? IB_ERR_NOMEM : IB_ERR_HTTP;
}

/* Hands the received body to the response (always non-NULL). */
static ib_status slot_deliver(http_slot *s, long status) {
  if (!s->buf) {
    s->buf = calloc(1, 1);
    if (!s->buf) return IB_ERR_NOMEM;
  }
  free(s->resp->body);
  s->resp->body = s->buf;
  s->resp->body_len = s->len;
  s->resp->status = status;
  s->buf = NULL;
  s->len = s->cap = 0;
  headers_free((ib_http_header *)s->resp->headers, s->resp->n_headers);
  s->resp->headers = s->hdrs;
  s->resp->n_headers = s->n_hdrs;
  s->hdrs = NULL;
  s->n_hdrs = 0;
  return IB_OK;
}

static ib_status slot_finished(http_slot *s, CURLcode code) {
  ib_http_client *c = s->client;
  long status = 0;
  double elapsed = 0;
  char where[512];
  ib_status st;

  curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME, &elapsed);
  s->redirected_to[0] = '\0';
  if (code == CURLE_UNSUPPORTED_PROTOCOL) {
    char *target = NULL; /* borrowed from curl */
    curl_easy_getinfo(s->easy, CURLINFO_EFFECTIVE_URL, &target);
    if (target && strcmp(target, s->req->url) != 0)
      ib_http_url_for_message(target, s->redirected_to,
                              sizeof s->redirected_to);
  }
  slot_release_easy(s);
  ib_http_url_for_message(s->req->url, where, sizeof where);
  if (c->verbose && code == CURLE_OK)
    client_log(c, IB_LOG_DEBUG, "%s %s -> HTTP %ld, %zu bytes, %.3f s",
               s->method, where, status, s->len, elapsed);
  else if (c->verbose)
    client_log(c, IB_LOG_DEBUG, "%s %s -> failed (%s) after %.3f s", s->method,
               where, curl_easy_strerror(code), elapsed);

  if (code == CURLE_OK && (status == 401 || status == 403)) {
    char host[256];
    url_host(s->req->url, host, sizeof host);
    st = slot_deliver(s, status);
    if (st != IB_OK) return st;
    s->state = SLOT_DONE;
    if (status == 401 && c->hint)
      fail_slot(s,
                "HTTP 401 from %s: the server refused the credentials; "
                "check %s",
                host, c->hint);
    else if (status == 401)
      fail_slot(s,
                "HTTP 401 from %s: the server refused the credentials of "
                "source '%s', which has no auth configured in itsm-bridge: "
                "add auth = { type = ...; } to it",
                host, c->label);
    else
      fail_slot(s,
                "HTTP 403 from %s: the server refused access; check %s and "
                "that the account may read %s",
                host, c->hint ? c->hint : "the source's auth settings", where);
    return IB_ERR_AUTH;
  }
  if ((code == CURLE_OK && retryable_status(status)) || transient_error(code))
    return slot_retry(s, code, status, where);
  if (code != CURLE_OK) return fail_transport(s, code, where);
  st = slot_deliver(s, status);
  s->state = SLOT_DONE;
  return st;
}

/* ---- the batch -------------------------------------------------------------
 */

static ib_status run_batch(ib_http_client *c, http_slot *slots, size_t n) {
  size_t done = 0;
  int running = 0;
  while (done < n) {
    if (c->should_stop && c->should_stop(c->stop_ctx)) {
      snprintf(c->last_error, sizeof c->last_error,
               "interrupted: %zu of %zu requests done", done, n);
      return IB_ERR_ABORTED;
    }
    double now = mono_now();
    double next_start = -1;
    for (size_t i = 0; i < n; i++) {
      http_slot *s = &slots[i];
      if (s->state != SLOT_WAITING) continue;
      if (s->start_at <= now && running < c->max_concurrency) {
        ib_status st = slot_start(s);
        if (st != IB_OK) return st;
        running++;
      } else if (next_start < 0 || s->start_at < next_start) {
        next_start = s->start_at;
      }
    }

    int timeout_ms = IB_HTTP_POLL_SLICE_MS;
    if (next_start >= 0 && running < c->max_concurrency) {
      double until = (next_start - now) * 1000.0;
      if (until < timeout_ms) timeout_ms = until > 0 ? (int)until + 1 : 0;
    }
    if (curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK)
      return IB_ERR_HTTP;
    int still;
    if (curl_multi_perform(c->multi, &still) != CURLM_OK) return IB_ERR_HTTP;

    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
      if (msg->msg != CURLMSG_DONE) continue;
      char *priv = NULL;
      CURLcode code = msg->data.result;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      http_slot *s = (http_slot *)priv;
      running--;
      ib_status st = slot_finished(s, code);
      if (st != IB_OK) return st;
      if (s->state == SLOT_DONE) done++;
    }
  }
  return IB_OK;
}

ib_status ib_http_perform(ib_http_client *c, const ib_http_request *reqs,
                          size_t n, ib_http_response *resps) {
  http_slot *slots = NULL; /* owned here */
  ib_status st = IB_ERR_INVALID;

  if (!resps && n > 0) return IB_ERR_INVALID;
  for (size_t i = 0; i < n; i++)
    resps[i] = (ib_http_response){.struct_size = sizeof(ib_http_response)};
  if (!c || (!reqs && n > 0)) return IB_ERR_INVALID;
  c->last_error[0] = '\0';
  c->batch_bytes = 0;
  if (n == 0) return IB_OK;

  slots = calloc(n, sizeof *slots);
  if (!slots) {
    st = IB_ERR_NOMEM;
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    http_slot *s = &slots[i];
    s->client = c;
    s->req = &reqs[i];
    s->resp = &resps[i];
    s->method = reqs[i].method ? reqs[i].method : "GET";
    s->state = SLOT_WAITING;
    if (!reqs[i].url ||
        (strcmp(s->method, "GET") && strcmp(s->method, "POST"))) {
      snprintf(c->last_error, sizeof c->last_error,
               "request %zu: %s; only GET and POST with an absolute URL are "
               "supported",
               i, reqs[i].url ? "unsupported method" : "no URL");
      st = IB_ERR_INVALID;
      goto fail;
    }
  }
  st = run_batch(c, slots, n);
  if (st == IB_ERR_NOMEM && !c->last_error[0])
    snprintf(c->last_error, sizeof c->last_error, "out of memory");
  if (st != IB_OK) goto fail;
  free(slots);
  return IB_OK;

fail:
  for (size_t i = 0; slots && i < n; i++) {
    http_slot *s = &slots[i];
    slot_release_easy(s);
    free(s->buf);
    slot_forget_headers(s);
    if (s->state != SLOT_DONE && !resps[i].error)
      resps[i].error =
          strdup(st == IB_ERR_ABORTED ? "interrupted" : IB_HTTP_ABANDONED);
  }
  free(slots);
  return st;
}

void ib_http_response_free(ib_http_response *r) {
  if (!r) return;
  free(r->body);
  free(r->error);
  if (r->struct_size >= offsetof(ib_http_response, n_headers) + sizeof(size_t))
    headers_free((ib_http_header *)r->headers, r->n_headers);
  /* a plugin built before headers existed owns a shorter struct */
  size_t size = r->struct_size;
  size_t owned = size == 0          ? IB_HTTP_RESPONSE_SIZE_V1
                 : size < sizeof *r ? size
                                    : sizeof *r;
  memset(r, 0, owned);
  r->struct_size = size;
}

const char *ib_http_client_last_error(const ib_http_client *c) {
  return c ? c->last_error : "";
}

/* ---- the client ---------------------------------------------------------- */

/* An HTTP token (RFC 9110), stricter: letters, digits and '-'. */
static int valid_header_name(const char *name) {
  if (name == NULL || *name == '\0' || strlen(name) > 128) return 0;
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') return 0;
  return 1;
}

int ib_http_client_set_hint(ib_http_client *c, const char *hint) {
  if (!c) return 0;
  char *copy = hint && *hint ? strdup(hint) : NULL;
  if (hint && *hint && !copy) return -1;
  free(c->hint);
  c->hint = copy;
  return 0;
}

int ib_http_client_add_secret(ib_http_client *c, const char *value) {
  if (!c || !value || !*value) return 0;
  return ib_scrubber_add(c->scrub, value);
}

ib_http_client *ib_http_client_new(const ib_http_config *cfg, char *err,
                                   size_t errlen) {
  ib_http_client *c = NULL; /* owned until returned */
  const char *label = cfg && cfg->label ? cfg->label : "http";

  if (!cfg) {
    snprintf(err, errlen, "http: no configuration given");
    return NULL;
  }
  char why[384];
  if (ib_curl_load(why, sizeof why) != 0) {
    snprintf(err, errlen, "%s: %s", label, why);
    return NULL;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(err, errlen, "%s: libcurl could not be initialised", label);
    return NULL;
  }
  c = calloc(1, sizeof *c);
  if (!c) goto nomem;
  c->auth = cfg->auth;
  c->label = strdup(label);
  c->user = dup_or_null(cfg->user);
  c->token = dup_or_null(cfg->token);
  c->hint = dup_or_null(cfg->credentials_hint);
  c->ca_file = dup_or_null(cfg->ca_file);
  c->auth_header = dup_or_null(cfg->header_name);
  if ((cfg->header_name && !c->auth_header) || !c->label ||
      (cfg->user && !c->user) || (cfg->token && !c->token) ||
      (cfg->credentials_hint && !c->hint) || (cfg->ca_file && !c->ca_file))
    goto nomem;

  if (c->auth == IB_AUTH_BASIC && (!c->user || !c->token)) {
    snprintf(err, errlen, "%s: basic auth needs a user and a token%s%s", label,
             c->hint ? "; set " : "", c->hint ? c->hint : "");
    goto fail;
  }
  if (c->auth == IB_AUTH_BEARER && !c->token) {
    snprintf(err, errlen, "%s: bearer auth needs a token%s%s", label,
             c->hint ? "; set " : "", c->hint ? c->hint : "");
    goto fail;
  }
  c->scrub = ib_scrubber_new();
  if (!c->scrub || ib_scrubber_add(c->scrub, c->user) ||
      ib_scrubber_add(c->scrub, c->token) ||
      (c->auth == IB_AUTH_BASIC &&
       ib_scrubber_add_basic(c->scrub, c->user, c->token)))
    goto nomem;
  if (c->auth == IB_AUTH_HEADER && !valid_header_name(c->auth_header)) {
    snprintf(err, errlen,
             "%s: header auth needs a header name of letters, digits and "
             "'-' (auth.name)",
             label);
    goto fail;
  }
  if (c->auth == IB_AUTH_HEADER && !c->token) {
    snprintf(err, errlen, "%s: header auth needs a value%s%s", label,
             c->hint ? "; set " : "", c->hint ? c->hint : "");
    goto fail;
  }
  if (c->ca_file && access(c->ca_file, R_OK) != 0) {
    snprintf(err, errlen,
             "%s: ca_file %s cannot be read (%s); give the path "
             "of a PEM certificate",
             label, c->ca_file, strerror(errno));
    goto fail;
  }

  c->connect_timeout_s = cfg->connect_timeout_s > 0
                             ? cfg->connect_timeout_s
                             : IB_HTTP_DEFAULT_CONNECT_TIMEOUT_S;
  c->timeout_s =
      cfg->timeout_s > 0 ? cfg->timeout_s : IB_HTTP_DEFAULT_TIMEOUT_S;
  c->low_speed_time_s = cfg->low_speed_time_s > 0
                            ? cfg->low_speed_time_s
                            : IB_HTTP_DEFAULT_LOW_SPEED_TIME_S;
  c->max_concurrency = cfg->max_concurrency > 0
                           ? cfg->max_concurrency
                           : IB_HTTP_DEFAULT_MAX_CONCURRENCY;
  c->max_retries = cfg->max_retries > 0    ? cfg->max_retries
                   : cfg->max_retries == 0 ? IB_HTTP_DEFAULT_MAX_RETRIES
                                           : 0;
  c->max_wait_s =
      cfg->max_wait_s > 0 ? cfg->max_wait_s : IB_HTTP_DEFAULT_MAX_WAIT_S;
  c->backoff_base_s = cfg->backoff_base_s > 0 ? cfg->backoff_base_s
                                              : IB_HTTP_DEFAULT_BACKOFF_BASE_S;
  c->verbose = cfg->verbose;
  c->max_batch_bytes =
      cfg->max_batch_bytes ? cfg->max_batch_bytes : IB_HTTP_MAX_BATCH_BYTES;
  c->log = cfg->log;
  c->log_ctx = cfg->log_ctx;
  c->should_stop = cfg->should_stop;
  c->stop_ctx = cfg->stop_ctx;
  snprintf(c->user_agent, sizeof c->user_agent, "itsm-bridge/%s", IB_VERSION);

  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  c->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
           ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)c;
  if (!c->rng) c->rng = 0x9E3779B97F4A7C15ULL;

  c->multi = curl_multi_init();
  if (!c->multi) goto nomem;
  curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  return c;

nomem:
  snprintf(err, errlen, "%s: out of memory setting up HTTP", label);
fail:
  ib_http_client_free(c);
  if (!c) curl_global_cleanup();
  return NULL;
}

void ib_http_client_free(ib_http_client *c) {
  if (!c) return;
  if (c->multi) curl_multi_cleanup(c->multi);
  free(c->label);
  free_secret(c->user);
  free_secret(c->token);
  ib_scrubber_free(c->scrub);
  free(c->hint);
  free(c->ca_file);
  free(c->auth_header);
  free(c);
  curl_global_cleanup();
}
