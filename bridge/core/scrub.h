/*
 * scrub.h -- the one secret scrubber of a run. It knows every secret value
 * of the run (the values behind auth.*_env variables and token files) in
 * the forms they travel in (as is, percent-encoded, JSON-escaped, base64 of
 * "user:token" for Basic auth) and replaces them by "[redacted]" in any text
 * before that text reaches stdout, stderr, a trace or the store. It also
 * blanks the values of token-like query parameters (token=, key=,
 * password=...). It must not log, read configuration or know HTTP.
 */
#ifndef IB_SCRUB_H
#define IB_SCRUB_H

#include <stddef.h>

#define IB_SCRUB_MARK "[redacted]"
/* Secrets shorter than this are not scrubbed (they would mangle ordinary
 * words); real tokens are far longer. */
#define IB_SCRUB_MIN_LEN 4

typedef struct ib_scrubber ib_scrubber;

/* An empty scrubber; NULL on ENOMEM. Owned by the caller:
 * ib_scrubber_free (which wipes the secrets it holds). */
ib_scrubber *ib_scrubber_new(void);
void ib_scrubber_free(ib_scrubber *s);

/* Registers a secret value and its encoded forms (copied). 0, or -1 on
 * ENOMEM. NULL or too short values are ignored. */
int ib_scrubber_add(ib_scrubber *s, const char *secret);
/* Registers base64("user:token"), what Basic auth sends. */
int ib_scrubber_add_basic(ib_scrubber *s, const char *user, const char *token);

/*
 * Rewrites the NUL-terminated text in buf (of `size` bytes) in place:
 * every registered form becomes IB_SCRUB_MARK, and the values of token-like
 * query parameters are blanked. When the result does not fit, it is cut
 * (never leaving part of a secret). s may be NULL (query parameters only).
 */
void ib_scrub(const ib_scrubber *s, char *buf, size_t size);

/* Whether text holds one of the registered forms (s may be NULL: no). For
 * data fields, which are scrubbed only when they do. */
int ib_scrubber_found(const ib_scrubber *s, const char *text);

#endif /* IB_SCRUB_H */
