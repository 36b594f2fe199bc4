/*
 * text.h -- small text encodings shared by the host (today: the percent-
 * encoding of URLs, used by the HTTP client and by the secret scrubber,
 * which must recognise a secret in its encoded form). Must not know HTTP,
 * secrets or the model.
 */
#ifndef IB_TEXT_H
#define IB_TEXT_H

/* Percent-encodes everything but RFC 3986's unreserved characters
 * (A-Z a-z 0-9 - . _ ~), with upper- or lower-case hex digits. NULL on
 * ENOMEM or a NULL text. Owned by the caller: free(). */
char *ib_percent_encode(const char *text, int lower_hex);

#endif /* IB_TEXT_H */
