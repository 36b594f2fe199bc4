/*
 * http.h -- the host's HTTP client for plugins (libcurl multi): auth,
 * timeouts, TLS, bounded concurrency, retries with backoff. source.c wraps
 * it into the http/http_free/url_escape host services of plugin.h. It must
 * know nothing of plugins, configuration files or the store, and must never
 * let a secret reach a log line, an error text or a trace.
 */
#ifndef IB_HTTP_H
#define IB_HTTP_H

#include <stddef.h>

#include "itsm_bridge/plugin.h"

/* Defaults: the one place they live. A zero/negative field in
 * ib_http_config means "use the default". */
#define IB_HTTP_DEFAULT_CONNECT_TIMEOUT_S 10
#define IB_HTTP_DEFAULT_TIMEOUT_S 120
#define IB_HTTP_DEFAULT_LOW_SPEED_TIME_S 30
#define IB_HTTP_DEFAULT_MAX_CONCURRENCY 4
#define IB_HTTP_DEFAULT_MAX_RETRIES 6
#define IB_HTTP_DEFAULT_MAX_WAIT_S 300.0
#define IB_HTTP_DEFAULT_BACKOFF_BASE_S 1.0
/* One backoff step never exceeds this (before jitter). */
#define IB_HTTP_MAX_BACKOFF_STEP_S 60.0
/* Memory guard: the bodies of one ib_http_perform batch (all its
 * responses together, since the caller holds them all at once) may not
 * exceed this; the batch then fails cleanly. ib_http_config.max_batch_bytes
 * overrides it (tests use a small value). */
#define IB_HTTP_MAX_BATCH_BYTES ((size_t)512 * 1024 * 1024)
#define IB_HTTP_MAX_REDIRECTS 5L

typedef enum ib_auth_type {
  IB_AUTH_NONE = 0,
  IB_AUTH_BASIC = 1,  /* user + token, "Authorization: Basic" */
  IB_AUTH_BEARER = 2, /* token, "Authorization: Bearer" */
  IB_AUTH_HEADER = 3  /* token in header `header_name` (API keys) */
} ib_auth_type;

/* Everything is copied by ib_http_client_new; the caller keeps ownership
 * of what it passes. */
typedef struct ib_http_config {
  const char *label; /* source name; prefixes messages only when log is NULL */
  ib_auth_type auth;
  const char *user;        /* secret value, already read from the environment */
  const char *token;       /* secret value */
  const char *header_name; /* IB_AUTH_HEADER: e.g. "X-API-Key" */
  const char *credentials_hint; /* "$JIRA_USER/$JIRA_TOKEN", for 401/403 */
  /* Extra CA certificate(s) in PEM, trusted *in addition to* the system
   * store (/etc/ssl/certs). Verification of peer and host is always on. */
  const char *ca_file;
  long connect_timeout_s;
  long timeout_s;        /* total per attempt */
  long low_speed_time_s; /* abort when below 1 byte/s for this long */
  int max_concurrency;
  int max_retries; /* retries after the first attempt; 0 = default, <0 = none */
  double max_wait_s;      /* cap on the time one request spends waiting */
  double backoff_base_s;  /* first backoff step */
  int verbose;            /* trace requests at IB_LOG_DEBUG, secrets redacted */
  size_t max_batch_bytes; /* 0: IB_HTTP_MAX_BATCH_BYTES */
  void (*log)(void *ctx, ib_log_level level, const char *msg);
  void *log_ctx;
  int (*should_stop)(void *ctx); /* non-zero: abort with IB_ERR_ABORTED */
  void *stop_ctx;
} ib_http_config;

typedef struct ib_http_client ib_http_client;

/* Creates a client. NULL on failure with one line in err (e.g. an
 * unreadable ca_file). Owned by the caller: ib_http_client_free. */
ib_http_client *ib_http_client_new(const ib_http_config *cfg, char *err,
                                   size_t errlen);
void ib_http_client_free(ib_http_client *c);

/*
 * Runs the n requests, at most max_concurrency at once, and fills resps[i]
 * for reqs[i]. Every resps[i] is initialised whatever the outcome and must
 * be released with ib_http_response_free.
 *
 * Retried, with exponential backoff and full jitter, honouring Retry-After
 * and X-RateLimit-Reset: HTTP 429, 502, 503, 504, and transient transport
 * errors (connection refused, timeouts, truncated bodies, receive/send
 * errors, empty replies). Any other status (404, 500...) is a response the
 * caller judges (500 is not retried: it is rarely transient, and the
 * plugin may know better). POSTs are retried like GETs: plugins POST only
 * read-only searches. Redirects are followed (http/https only, credentials
 * never sent to another host). Returns:
 *   IB_OK          every request got an HTTP response (check .status);
 *   IB_ERR_AUTH    a 401/403 (message logged, names credentials_hint);
 *   IB_ERR_HTTP    retries or wait budget ran out, or a permanent transport
 *                  error (TLS, DNS, bad URL); message logged;
 *   IB_ERR_ABORTED should_stop() said so;
 *   IB_ERR_INVALID / IB_ERR_NOMEM.
 * On a failure the other requests are abandoned (their .error says so).
 * The failure's message is also in ib_http_client_last_error().
 */
ib_status ib_http_perform(ib_http_client *c, const ib_http_request *reqs,
                          size_t n, ib_http_response *resps);

/* Replaces what a 401/403 message tells to check (credentials_hint);
 * NULL or "" for the generic text. Copied. -1 on ENOMEM. */
int ib_http_client_set_hint(ib_http_client *c, const char *hint);

/* Also scrubs `value` (a session token...) from every message and trace of
 * the client from now on. Copied. -1 on ENOMEM. */
int ib_http_client_add_secret(ib_http_client *c, const char *value);

/* Value of header `name` of a response (case-insensitive), or NULL when
 * absent or when r's struct_size has no headers. Borrowed from r. */
const char *ib_http_header_get(const ib_http_response *r, const char *name);

/* Frees what a response owns and zeroes it; safe on a zeroed response. */
void ib_http_response_free(ib_http_response *r);

/* The message of the last failed ib_http_perform ("" if none). Borrowed,
 * valid until the next call on c. Never contains a secret. */
const char *ib_http_client_last_error(const ib_http_client *c);

/* Percent-encodes everything but RFC 3986 unreserved characters.
 * Returns a malloc'ed string (caller frees with free()), NULL on ENOMEM. */
char *ib_http_escape(const char *text);

/* The one rule for source URLs: an explicit https:// scheme, or http://
 * to a loopback host only (127.0.0.1, localhost, [::1]: tests and local
 * proxies), a host, and no credentials in the URL. 0 when usable, else -1
 * with why ("has no scheme: ...") in why; never echoes the URL's userinfo
 * or query. */
int ib_http_check_url(const char *url, char *why, size_t len);

/* scheme://host[:port]/path of url, without credentials, query or
 * fragment, for messages. Writes "(unparsable URL)" when it cannot parse. */
void ib_http_url_for_message(const char *url, char *buf, size_t len);

/* Seconds to wait according to a Retry-After value (delta seconds or an
 * HTTP date) at wall-clock time now; -1 when unparsable. */
double ib_http_parse_retry_after(const char *value, long long now);
/* Seconds to wait according to an X-RateLimit-Reset value: epoch seconds
 * (values beyond a year of seconds), delta seconds, or an ISO-8601
 * instant; -1 when unparsable. */
double ib_http_parse_ratelimit_reset(const char *value, long long now);

#endif /* IB_HTTP_H */
