/*
 * pg_url.h -- the check every PostgreSQL connection string given by a user
 * (store.url, export --url) passes before connecting: libpq can parse it and
 * it carries no password (passwords come from PGPASSWORD or ~/.pgpass only).
 * Must not connect, and must never copy the string into a message.
 */
#ifndef IB_PG_URL_H
#define IB_PG_URL_H

#include <stddef.h>

typedef enum ib_pg_url_verdict {
  IB_PG_URL_OK = 0,
  IB_PG_URL_INVALID = -1,      /* why gets libpq's reason */
  IB_PG_URL_HAS_PASSWORD = -2, /* a password keyword or user:password@ */
} ib_pg_url_verdict;

/* `why` (may be NULL) gets one line for IB_PG_URL_INVALID. */
ib_pg_url_verdict ib_pg_url_check(const char *url, char *why, size_t whylen);

#endif /* IB_PG_URL_H */
