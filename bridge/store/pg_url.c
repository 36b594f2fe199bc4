/*
 * pg_url.c -- refuses a PostgreSQL URL or conninfo that libpq cannot parse
 * or that carries a password: it would end up in configuration files, shell
 * history and process lists. Must not connect nor echo the string.
 */
#define _POSIX_C_SOURCE 200809L
#include "pg_url.h"
#include "pq_lib.h"

#include <stdio.h>
#include <string.h>

PGconn *ib_pg_connect(const char *url) {
  /* Later keywords win: the URL's own come last (expand_dbname). */
  static const char *const keys[] = {"client_encoding",
                                     "connect_timeout",
                                     "fallback_application_name",
                                     "keepalives",
                                     "keepalives_idle",
                                     "keepalives_interval",
                                     "keepalives_count",
                                     "tcp_user_timeout",
                                     "dbname",
                                     NULL};
  const char *const vals[] = {"UTF8", "10", "itsm-bridge", "1", "60",
                              "10",   "6",  "120000",      url, NULL};
  return PQconnectdbParams(keys, vals, 1);
}

ib_pg_url_verdict ib_pg_url_check(const char *url, char *why, size_t whylen) {
  char *perr = NULL; /* owned by libpq: PQfreemem */
  PQconninfoOption *opts = PQconninfoParse(url, &perr); /* PQconninfoFree */
  if (opts == NULL) {
    if (why != NULL && whylen > 0) {
      snprintf(why, whylen, "%s", perr ? perr : "out of memory");
      why[strcspn(why, "\r\n")] = '\0';
    }
    PQfreemem(perr);
    return IB_PG_URL_INVALID;
  }
  int has_password = 0;
  for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
    if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
        o->val[0] != '\0')
      has_password = 1;
  PQconninfoFree(opts);
  return has_password ? IB_PG_URL_HAS_PASSWORD : IB_PG_URL_OK;
}
