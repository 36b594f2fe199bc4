/*
 * utf8.h -- strict UTF-8 checking and repair for text that leaves the
 * program (the store, JSON files): invalid sequences become U+FFFD.
 * Must not know records, JSON or the store.
 */
#ifndef IB_UTF8_H
#define IB_UTF8_H

#include <stddef.h>

/* Non-zero when s is strict UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
int ib_utf8_valid(const char *s);

/* A copy of s with every invalid sequence replaced by U+FFFD (EF BF BD);
 * *replaced (may be NULL) gets how many. NULL on ENOMEM. Owned by the
 * caller: free. */
char *ib_utf8_repair(const char *s, size_t *replaced);

/* Cuts a multi-byte sequence left incomplete at the end of s (text cut
 * to a buffer's size by snprintf), in place. */
void ib_utf8_trim_partial(char *s);

#endif /* IB_UTF8_H */
