/*
 * json_repair.h -- a pre-pass the HTTP plugins run over a response body
 * before cJSON parses it, so that one odd string in a page (a truncated
 * emoji sent as a lone UTF-16 surrogate, an escaped NUL) neither makes the
 * whole page unparsable nor silently cuts a value short. Plugin-side only:
 * it must not know the host, and it leaves raw bytes that are not UTF-8 to
 * the host, which sanitises text fields when they are emitted.
 */
#ifndef IB_JSON_REPAIR_H
#define IB_JSON_REPAIR_H

#include <stddef.h>

/* Rewrites in place, keeping the length, every "\uD800".."\uDFFF" escape
 * that is not half of a valid surrogate pair, and every "\u0000", into
 * "\uFFFD" (the replacement character). Linear; text need not end in NUL. */
void ib_json_repair_escapes(char *text, size_t len);

#endif /* IB_JSON_REPAIR_H */
