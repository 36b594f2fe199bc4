/*
 * canon_json.h -- the canonical JSON text of the evidence files (closed
 * editions): the bytes whose SHA-256 is an edition's hash, so that anyone
 * can check an edition with sha256sum and rebuild the same bytes from the
 * parsed document with a common tool.
 *
 * The form is the one Python's json.dumps(obj, sort_keys=True,
 * separators=(",", ":"), ensure_ascii=False) gives for the parsed
 * document: object members sorted by key (code point order), no
 * whitespace, UTF-8 kept as is, only '"', '\\' and control characters
 * escaped (\b \f \n \r \t, else \u00xx), integral numbers as integers,
 * others as the shortest text that reads back as the same double (fixed
 * notation for exponents -4..15, else d.ddde±XX), NaN and infinities as
 * null. Must not do I/O.
 */
#ifndef IB_CANON_JSON_H
#define IB_CANON_JSON_H

#include <cjson/cJSON.h>

/* The canonical text of `doc`, NUL-terminated; owned by the caller (free).
 * NULL on ENOMEM. */
char *ib_json_canonical(const cJSON *doc);

#endif /* IB_CANON_JSON_H */
