/*
 * pg_url.h -- the check every PostgreSQL connection string given by a user
 * (store.url, export --url) passes before connecting: libpq can parse it and
 * it carries no password (passwords come from PGPASSWORD or ~/.pgpass only);
 * and the connection both the store and the export open with it, with the
 * same defaults. Must never copy the string into a message.
 */
#ifndef IB_PG_URL_H
#define IB_PG_URL_H

#include <stddef.h>

#include "pq_lib.h"

typedef enum ib_pg_url_verdict {
  IB_PG_URL_OK = 0,
  IB_PG_URL_INVALID = -1,      /* why gets libpq's reason */
  IB_PG_URL_HAS_PASSWORD = -2, /* a password keyword or user:password@ */
} ib_pg_url_verdict;

/* `why` (may be NULL) gets one line for IB_PG_URL_INVALID. */
ib_pg_url_verdict ib_pg_url_check(const char *url, char *why, size_t whylen);

/* PQconnectdbParams on a checked url, with these defaults, each of which
 * the url may override: UTF-8, a 10 s connection timeout, the application
 * name "itsm-bridge", and a connection that fails instead of hanging when
 * the network dies under it -- TCP keepalives after 60 s of silence (every
 * 10 s, 6 unanswered: about 2 minutes; the system default waits 2 hours)
 * and data left unacknowledged for 2 minutes (tcp_user_timeout). A busy
 * server answers both from its kernel: a long query is not cut. Owned by
 * the caller: PQfinish; NULL on ENOMEM. */
PGconn *ib_pg_connect(const char *url);

#endif /* IB_PG_URL_H */
