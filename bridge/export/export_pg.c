/*
 * export_pg.c -- the PostgreSQL exporter (issue 7, part 3): writes the same
 * tables as the file exports (export_rows.h) into one schema, typed, with
 * idempotent upserts in ONE transaction, and keeps the BI views over them.
 * Must not recompute KPIs, must never put data into SQL text (parameters
 * only; SQL is built from the static column declarations), and must never
 * accept, store or print a password.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_rows.h"
#include "pg_url.h"
#include "pq_lib.h"
#include "tz.h"

#define PG_DEFAULT_SCHEMA "itsm_bridge"
#define PG_IDENT_MAX 63 /* PostgreSQL's NAMEDATALEN - 1 */
#define PG_VALUE_LEN 64 /* an int64, an instant or a number */
#define PG_ROW_LABEL_LEN 256
#define PG_KEY_MAX 5
#define PG_BATCH_ROWS 500 /* rows per pipelined round trip */

/* What PostgreSQL adds to the exported tables: each table's primary key,
 * and for tables of a period (those with a `period` column) the month,
 * the bounds and as_of, so BI tools can filter and plot. */
typedef struct pg_table {
  ib_export_table_id id;
  const char *key[PG_KEY_MAX]; /* primary key columns, NULL-terminated */
} pg_table;

static const pg_table pg_tables[] = {
    {IB_TABLE_TICKETS, {"source", "id", NULL}},
    {IB_TABLE_OUTAGES, {"source", "id", NULL}},
    {IB_TABLE_TICKET_SLA, {"period", "sla", "source", "id"}},
    {IB_TABLE_KPI, {"period", "sla", "priority", "kpi"}},
    {IB_TABLE_AVAILABILITY, {"period", "service", NULL}},
    {IB_TABLE_DISAGREEMENTS, {"period", "sla", "source", "id", "kpi"}},
    {IB_TABLE_CHANGES, {"period", "source", "change_id", NULL}},
};

#define PG_PERIOD_COLUMN "period"
/* Added to tables of a period, bound after the exported columns. */
static const char *const period_extras[][2] = {
    {"month", "date"}, /* first day of a whole calendar month, else NULL */
    {"period_from", "timestamptz"},
    {"period_to", "timestamptz"},
    {"as_of", "timestamptz"},
};
#define PG_N_PERIOD_EXTRAS (sizeof period_extras / sizeof period_extras[0])

/* Views for BI: whole calendar months only (month is NULL for any other
 * period), so a month is never counted twice. */
static const char *const views[][2] = {
    {"v_kpi_monthly",
     "CREATE OR REPLACE VIEW v_kpi_monthly AS"
     " SELECT month, sla, priority, kpi, value FROM kpi"
     " WHERE month IS NOT NULL"},
    {"v_availability_monthly",
     "CREATE OR REPLACE VIEW v_availability_monthly AS"
     " SELECT month, service, availability_pct, target_pct, downtime_s,"
     " credit FROM availability WHERE month IS NOT NULL"},
};

/* ---- context ------------------------------------------------------------ */

typedef struct pg_ctx {
  PGconn *conn; /* owned: PQfinish */
  const ib_export_data *d;
  const char *schema;
  int in_tx;
  char period[128]; /* "YYYY-MM" for a whole month, else the label */
  char month[32];   /* "YYYY-MM-01", "" when not a whole month */
  char from[IB_ISO_LEN], to[IB_ISO_LEN], as_of[IB_ISO_LEN];
  char row[PG_ROW_LABEL_LEN]; /* the row being written, for errors */
  char *err;
  size_t errlen;
} pg_ctx;

static void set_err(pg_ctx *c, const char *fmt, ...) IB_PRINTF(2, 3);
static void set_err(pg_ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, c->errlen, fmt, ap);
  va_end(ap);
}

/* libpq's text up to its first newline (its messages run on). */
static void first_line(const char *text, char *buf, size_t len) {
  snprintf(buf, len, "%s", text ? text : "");
  buf[strcspn(buf, "\r\n")] = '\0';
  if (buf[0] == '\0') snprintf(buf, len, "unknown error");
}

/* "postgres: writing itsm_bridge.kpi at SLA support, P1, ...: <the
 * server's message> (SQLSTATE 23502); nothing was exported". */
static void result_error(pg_ctx *c, const PGresult *res, const char *table,
                         const char *doing) {
  char msg[512];
  const char *primary =
      res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  first_line(primary ? primary : PQerrorMessage(c->conn), msg, sizeof msg);
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  set_err(c,
          "postgres: %s %s%s%s%s%s%s: %s%s%s%s; nothing was exported "
          "(rolled back)",
          doing, table ? "" : "schema ", c->schema, table ? "." : "",
          table ? table : "", c->row[0] ? " at " : "", c->row, msg,
          state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "");
}

/* Consumes res; 0 when it succeeded, else -1 with the error set. */
static int check_result(pg_ctx *c, PGresult *res, const char *table,
                        const char *doing) {
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!ok) result_error(c, res, table, doing);
  PQclear(res);
  return ok ? 0 : -1;
}

static int exec_params(pg_ctx *c, const char *table, const char *doing,
                       const char *sql, int n, const char *const *values) {
  PGresult *res = PQexecParams(c->conn, sql, n, NULL, values, NULL, NULL, 0);
  return check_result(c, res, table, doing);
}

/* ---- building SQL from the column declarations (never from data) -------- */

typedef struct sql_buf {
  char *s; /* owned: free */
  size_t len, cap;
  int nomem;
} sql_buf;

static void sb_add(sql_buf *b, const char *text) {
  size_t n = strlen(text);
  if (b->nomem) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (s == NULL) {
      b->nomem = 1;
      return;
    }
    b->s = s;
    b->cap = cap;
  }
  memcpy(b->s + b->len, text, n + 1);
  b->len += n;
}

static void sb_addf(sql_buf *b, const char *fmt, ...) IB_PRINTF(2, 3);
static void sb_addf(sql_buf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  sb_add(b, tmp);
}

/* A column name, always quoted: some ("group", "end") are SQL keywords. */
static void sb_ident(pg_ctx *c, sql_buf *b, const char *name) {
  char *q = PQescapeIdentifier(c->conn, name, strlen(name)); /* PQfreemem */
  if (q == NULL) {
    b->nomem = 1;
    return;
  }
  sb_add(b, q);
  PQfreemem(q);
}

static const char *sql_type(const ib_export_column *col) {
  switch (col->type) {
    case IB_COL_INT: return "bigint";
    case IB_COL_NUM: return "numeric";
    case IB_COL_BOOL: return "boolean";
    case IB_COL_TIME: return "timestamptz";
    default: return "text";
  }
}

static int has_period(const ib_export_table *t) {
  for (size_t i = 0; i < t->n_columns; i++)
    if (strcmp(t->columns[i].name, PG_PERIOD_COLUMN) == 0) return 1;
  return 0;
}

static int is_key(const pg_table *pt, const char *name) {
  for (int k = 0; k < PG_KEY_MAX && pt->key[k]; k++)
    if (strcmp(pt->key[k], name) == 0) return 1;
  return 0;
}

/* CREATE TABLE IF NOT EXISTS, then ADD COLUMN IF NOT EXISTS for every
 * column, so that a table made by an older version gains new columns. */
static void sql_create(pg_ctx *c, sql_buf *b, const pg_table *pt) {
  const ib_export_table *t = &ib_export_tables[pt->id];
  int period = has_period(t);
  sb_add(b, "CREATE TABLE IF NOT EXISTS ");
  sb_ident(c, b, t->name);
  sb_add(b, " (");
  for (size_t i = 0; i < t->n_columns; i++) {
    sb_ident(c, b, t->columns[i].name);
    sb_addf(b, " %s%s, ", sql_type(&t->columns[i]),
            is_key(pt, t->columns[i].name) ? " NOT NULL" : "");
  }
  for (size_t i = 0; period && i < PG_N_PERIOD_EXTRAS; i++)
    sb_addf(b, "%s %s, ", period_extras[i][0], period_extras[i][1]);
  sb_add(b, "exported_at timestamptz NOT NULL, PRIMARY KEY (");
  for (int k = 0; k < PG_KEY_MAX && pt->key[k]; k++) {
    if (k) sb_add(b, ", ");
    sb_ident(c, b, pt->key[k]);
  }
  sb_add(b, "));\n");
  for (size_t i = 0; i < t->n_columns; i++) {
    sb_add(b, "ALTER TABLE ");
    sb_ident(c, b, t->name);
    sb_add(b, " ADD COLUMN IF NOT EXISTS ");
    sb_ident(c, b, t->columns[i].name);
    sb_addf(b, " %s;\n", sql_type(&t->columns[i]));
  }
  for (size_t i = 0; period && i < PG_N_PERIOD_EXTRAS; i++) {
    sb_add(b, "ALTER TABLE ");
    sb_ident(c, b, t->name);
    sb_addf(b, " ADD COLUMN IF NOT EXISTS %s %s;\n", period_extras[i][0],
            period_extras[i][1]);
  }
  sb_add(b, "ALTER TABLE ");
  sb_ident(c, b, t->name);
  sb_add(b, " ADD COLUMN IF NOT EXISTS exported_at timestamptz;\n");
}

/* INSERT ... VALUES ($1 ...) ON CONFLICT (key) DO UPDATE SET every other
 * column. exported_at = now(), the transaction's start: rows of the period
 * that this export did not write are then purged (sql_purge). */
static void sql_upsert(pg_ctx *c, sql_buf *b, const pg_table *pt) {
  const ib_export_table *t = &ib_export_tables[pt->id];
  size_t n_extra = has_period(t) ? PG_N_PERIOD_EXTRAS : 0;
  sb_add(b, "INSERT INTO ");
  sb_ident(c, b, t->name);
  sb_add(b, " (");
  for (size_t i = 0; i < t->n_columns; i++) {
    sb_ident(c, b, t->columns[i].name);
    sb_add(b, ", ");
  }
  for (size_t i = 0; i < n_extra; i++) sb_addf(b, "%s, ", period_extras[i][0]);
  sb_add(b, "exported_at) VALUES (");
  for (size_t i = 0; i < t->n_columns + n_extra; i++)
    sb_addf(b, "$%zu, ", i + 1);
  sb_add(b, "now()) ON CONFLICT (");
  for (int k = 0; k < PG_KEY_MAX && pt->key[k]; k++) {
    if (k) sb_add(b, ", ");
    sb_ident(c, b, pt->key[k]);
  }
  sb_add(b, ") DO UPDATE SET ");
  for (size_t i = 0; i < t->n_columns; i++) {
    if (is_key(pt, t->columns[i].name)) continue;
    sb_ident(c, b, t->columns[i].name);
    sb_add(b, " = EXCLUDED.");
    sb_ident(c, b, t->columns[i].name);
    sb_add(b, ", ");
  }
  for (size_t i = 0; i < n_extra; i++)
    sb_addf(b, "%s = EXCLUDED.%s, ", period_extras[i][0], period_extras[i][0]);
  sb_add(b, "exported_at = EXCLUDED.exported_at");
}

static void sql_purge(pg_ctx *c, sql_buf *b, const pg_table *pt) {
  sb_add(b, "DELETE FROM ");
  sb_ident(c, b, ib_export_tables[pt->id].name);
  sb_add(b, " WHERE period = $1 AND exported_at <> now()");
}

/* ---- the period --------------------------------------------------------- */

/* The period key: a whole calendar month in the configuration's zone is
 * always "YYYY-MM" (with month = its first day), however it was asked. */
static void describe_period(pg_ctx *c) {
  const ib_kpi_result *r = c->d->kpi;
  const char *zone =
      c->d->cfg && c->d->cfg->timezone ? c->d->cfg->timezone : "UTC";
  ib_format_iso8601(r->from, c->from);
  ib_format_iso8601(r->to, c->to);
  ib_format_iso8601(r->as_of, c->as_of);
  c->month[0] = '\0';

  struct tm lt;
  ib_time next = IB_TIME_NONE;
  if (ib_tz_utc_to_local(zone, r->from, &lt) == 0 && lt.tm_mday == 1 &&
      lt.tm_hour == 0 && lt.tm_min == 0 && lt.tm_sec == 0) {
    int y = lt.tm_year + 1900, m = lt.tm_mon + 1;
    int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
    if (ib_tz_local_to_utc(zone, ny, nm, 1, 0, 0, 0, &next) == 0 &&
        next == r->to) {
      snprintf(c->month, sizeof c->month, "%04d-%02d-01", y, m);
      snprintf(c->period, sizeof c->period, "%04d-%02d", y, m);
      return;
    }
  }
  if (c->d->period_label != NULL && c->d->period_label[0] != '\0')
    snprintf(c->period, sizeof c->period, "%s", c->d->period_label);
  else
    snprintf(c->period, sizeof c->period, "%s/%s", c->from, c->to);
}

/* ---- rows --------------------------------------------------------------- */

/* Parameter texts of one row: values[i] points into text[i] or at
 * borrowed cell text. */
typedef struct pg_params {
  const char **values;        /* owned: free */
  char (*text)[PG_VALUE_LEN]; /* owned: free */
  ib_export_cell *cells;      /* owned: free */
  size_t n;
} pg_params;

static void cell_param(pg_params *p, size_t i, const ib_export_column *col,
                       const ib_export_cell *cell) {
  if (cell->null) {
    p->values[i] = NULL;
    return;
  }
  p->values[i] = p->text[i];
  switch (col->type) {
    case IB_COL_TEXT: p->values[i] = cell->text; break;
    case IB_COL_INT:
      snprintf(p->text[i], PG_VALUE_LEN, "%" PRId64, cell->i);
      break;
    case IB_COL_NUM:
      ib_export_format_num(cell->num, col->decimals, p->text[i], PG_VALUE_LEN);
      break;
    case IB_COL_BOOL: p->values[i] = cell->i ? "true" : "false"; break;
    case IB_COL_TIME: ib_format_iso8601(cell->i, p->text[i]); break;
  }
}

/* "kpi period=2026-10 sla=support priority=P1 kpi=...": what a row is,
 * from its key cells, for the error message should it fail. */
static void label_row(const pg_table *pt, const pg_params *p, char *buf,
                      size_t len) {
  const ib_export_table *t = &ib_export_tables[pt->id];
  size_t used = (size_t)snprintf(buf, len, "%s", t->name);
  for (size_t i = 0; i < t->n_columns && used < len; i++) {
    if (!is_key(pt, t->columns[i].name)) continue;
    used +=
        (size_t)snprintf(buf + used, len - used, " %s=%s", t->columns[i].name,
                         p->values[i] ? p->values[i] : "NULL");
  }
}

/* Rows go out in pipelined batches: one network round trip per batch
 * instead of one per row. labels[i] names the i-th row of the batch. */
typedef struct pg_batch {
  char (*labels)[PG_ROW_LABEL_LEN]; /* owned: free */
  size_t pending;                   /* rows sent, results not read yet */
} pg_batch;

/* Sends a sync and reads every result of the batch, up to the sync. The
 * first failing row sets the error (the server skips the rest). */
static int drain_batch(pg_ctx *c, pg_batch *b, const char *table) {
  int rc = 0;
  if (PQpipelineSync(c->conn) != 1) {
    c->row[0] = '\0';
    result_error(c, NULL, table, "writing");
    return -1;
  }
  size_t query = 0;     /* index of the row whose results are read */
  size_t ends_seen = 0; /* NULLs: one ends each row's results */
  for (;;) {
    PGresult *res = PQgetResult(c->conn);
    if (res == NULL) {
      query++;
      if (++ends_seen > b->pending || PQstatus(c->conn) == CONNECTION_BAD)
        break; /* the connection is gone: nothing more will come */
      continue;
    }
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_PIPELINE_SYNC) {
      PQclear(res);
      break;
    }
    if (st != PGRES_COMMAND_OK && st != PGRES_PIPELINE_ABORTED && rc == 0) {
      snprintf(c->row, sizeof c->row, "%s",
               query < b->pending ? b->labels[query] : "");
      result_error(c, res, table, "writing");
      rc = -1;
    }
    PQclear(res);
  }
  b->pending = 0;
  return rc;
}

static int write_rows(pg_ctx *c, const pg_table *pt, const char *stmt) {
  const ib_export_table *t = &ib_export_tables[pt->id];
  int period = has_period(t);
  ib_export_rows *it = NULL; /* owned here */
  pg_params p = {0};         /* owned here */
  pg_batch b = {0};          /* owned here */
  int rc = -1, pipelined = 0;

  p.n = t->n_columns + (period ? PG_N_PERIOD_EXTRAS : 0);
  p.values = calloc(p.n, sizeof *p.values);
  p.text = calloc(p.n, sizeof *p.text);
  p.cells = calloc(t->n_columns, sizeof *p.cells);
  b.labels = calloc(PG_BATCH_ROWS, sizeof *b.labels);
  if (p.values == NULL || p.text == NULL || p.cells == NULL ||
      b.labels == NULL) {
    set_err(c, "postgres: out of memory while writing %s", t->name);
    goto fail;
  }
  if (ib_export_rows_open(c->d, pt->id, &it, c->err, c->errlen) != 0) goto fail;
  if (PQenterPipelineMode(c->conn) != 1) {
    result_error(c, NULL, t->name, "writing");
    goto fail;
  }
  pipelined = 1;
  while (ib_export_rows_next(it, p.cells) == 1) {
    for (size_t i = 0; i < t->n_columns; i++) {
      cell_param(&p, i, &t->columns[i], &p.cells[i]);
      if (period && strcmp(t->columns[i].name, PG_PERIOD_COLUMN) == 0)
        p.values[i] = c->period; /* the canonical key, see describe_period */
    }
    if (period) {
      size_t e = t->n_columns;
      p.values[e++] = c->month[0] ? c->month : NULL;
      p.values[e++] = c->from;
      p.values[e++] = c->to;
      p.values[e++] = c->as_of;
    }
    label_row(pt, &p, b.labels[b.pending], PG_ROW_LABEL_LEN);
    if (PQsendQueryPrepared(c->conn, stmt, (int)p.n, p.values, NULL, NULL, 0) !=
        1) {
      snprintf(c->row, sizeof c->row, "%s", b.labels[b.pending]);
      result_error(c, NULL, t->name, "writing");
      goto fail;
    }
    if (++b.pending == PG_BATCH_ROWS && drain_batch(c, &b, t->name) != 0)
      goto fail;
  }
  if (b.pending > 0 && drain_batch(c, &b, t->name) != 0) goto fail;
  rc = 0;
fail:
  if (pipelined) {
    if (b.pending > 0) { /* sent but unread: read them, keep the 1st error */
      char keep[1024];
      snprintf(keep, sizeof keep, "%s", c->err);
      drain_batch(c, &b, t->name);
      snprintf(c->err, c->errlen, "%s", keep);
    }
    if (PQexitPipelineMode(c->conn) != 1) c->in_tx = 0; /* dropped below */
  }
  ib_export_rows_close(it);
  free(p.values);
  free(p.text);
  free(p.cells);
  free(b.labels);
  return rc;
}

/* Creates (or completes) one table, upserts its rows, and purges rows of
 * the period that this export did not write. */
static int export_table(pg_ctx *c, const pg_table *pt) {
  const ib_export_table *t = &ib_export_tables[pt->id];
  sql_buf create = {0}, upsert = {0}, purge = {0}; /* owned here */
  char stmt[64];
  int rc = -1;

  snprintf(stmt, sizeof stmt, "ib_put_%s", t->name);
  sql_create(c, &create, pt);
  sql_upsert(c, &upsert, pt);
  if (has_period(t)) sql_purge(c, &purge, pt);
  if (create.nomem || upsert.nomem || purge.nomem) {
    set_err(c, "postgres: out of memory while preparing %s", t->name);
    goto fail;
  }
  c->row[0] = '\0';
  /* Several statements in one text: PQexec, without parameters. */
  if (check_result(c, PQexec(c->conn, create.s), t->name, "creating") != 0)
    goto fail;
  if (check_result(c, PQprepare(c->conn, stmt, upsert.s, 0, NULL), t->name,
                   "preparing") != 0)
    goto fail;
  if (write_rows(c, pt, stmt) != 0) goto fail;
  if (purge.s != NULL) {
    const char *v[1] = {c->period};
    c->row[0] = '\0';
    if (exec_params(c, t->name, "purging old rows of", purge.s, 1, v) != 0)
      goto fail;
  }
  rc = 0;
fail:
  free(create.s);
  free(upsert.s);
  free(purge.s);
  return rc;
}

/* ---- connection and schema ---------------------------------------------- */

/* A plain identifier keeps BI tools and hand-written SQL simple. */
static int schema_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > PG_IDENT_MAX) return 0;
  if (!(islower((unsigned char)s[0]) || s[0] == '_')) return 0;
  for (size_t i = 1; i < n; i++)
    if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
          s[i] == '_'))
      return 0;
  return 1;
}

/* Refuses a URL (or conninfo) that carries a password: it would end up in
 * shell history, process lists and configuration files. */
static int check_url(pg_ctx *c, const char *url) {
  char why[384];
  if (ib_pq_load(why, sizeof why) != 0) {
    set_err(c, "postgres: %s", why);
    return -1;
  }
  switch (ib_pg_url_check(url, why, sizeof why)) {
    case IB_PG_URL_OK: return 0;
    case IB_PG_URL_INVALID:
      set_err(c,
              "postgres: --url is not a PostgreSQL URL (%s); expected "
              "postgresql://USER@HOST:PORT/DATABASE",
              why[0] ? why : "unknown error");
      return -1;
    case IB_PG_URL_HAS_PASSWORD: break;
  }
  set_err(c,
          "postgres: the --url contains a password; remove it and set "
          "PGPASSWORD or a ~/.pgpass entry instead");
  return -1;
}

static int connect_db(pg_ctx *c, const char *url) {
  c->conn = ib_pg_connect(url);
  if (c->conn == NULL) {
    set_err(c, "postgres: out of memory while connecting");
    return -1;
  }
  if (PQstatus(c->conn) != CONNECTION_OK) {
    char msg[512];
    first_line(PQerrorMessage(c->conn), msg, sizeof msg);
    const char *host = PQhost(c->conn), *port = PQport(c->conn),
               *db = PQdb(c->conn);
    set_err(c,
            "postgres: cannot connect to %s:%s/%s: %s; check --url, that the "
            "server runs, and PGPASSWORD or ~/.pgpass",
            host && host[0] ? host : "localhost", port && port[0] ? port : "?",
            db ? db : "?", msg);
    return -1;
  }
  return 0;
}

/* Creates the schema if missing and makes it the transaction's
 * search_path, so that every statement names plain tables. */
static int use_schema(pg_ctx *c) {
  int rc = -1;
  char *ident = NULL;   /* owned: PQfreemem */
  sql_buf create = {0}; /* owned: free */
  const char *v[1] = {c->schema};

  PGresult *res = PQexecParams(c->conn,
                               "SELECT 1 FROM pg_catalog.pg_namespace"
                               " WHERE nspname = $1",
                               1, NULL, v, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    check_result(c, res, NULL, "looking up");
    goto fail;
  }
  int exists = PQntuples(res) > 0;
  PQclear(res);

  ident = PQescapeIdentifier(c->conn, c->schema, strlen(c->schema));
  if (ident == NULL) {
    set_err(c, "postgres: cannot quote schema name '%s': %s", c->schema,
            PQerrorMessage(c->conn));
    goto fail;
  }
  if (!exists) { /* checked first: CREATE needs a right that USAGE lacks */
    sb_add(&create, "CREATE SCHEMA ");
    sb_add(&create, ident);
    if (create.nomem) {
      set_err(c, "postgres: out of memory");
      goto fail;
    }
    if (exec_params(c, NULL, "creating", create.s, 0, NULL) != 0) goto fail;
  }
  v[0] = ident;
  if (exec_params(c, NULL, "selecting",
                  "SELECT pg_catalog.set_config('search_path', $1, true)", 1,
                  v) != 0)
    goto fail;
  /* "column ... already exists, skipping" is the normal case here. */
  if (exec_params(c, NULL, "configuring the session for",
                  "SELECT pg_catalog.set_config('client_min_messages', "
                  "'warning', true)",
                  0, NULL) != 0)
    goto fail;
  rc = 0;
fail:
  PQfreemem(ident);
  free(create.s);
  return rc;
}

int ib_export_postgres(const ib_export_data *d, const char *url,
                       const char *schema, char *err, size_t errlen) {
  pg_ctx c;
  memset(&c, 0, sizeof c);
  c.d = d;
  c.err = err;
  c.errlen = errlen;
  c.schema = schema && schema[0] ? schema : PG_DEFAULT_SCHEMA;
  int rc = -1;

  if (d == NULL || d->kpi == NULL || d->tickets == NULL || d->outages == NULL) {
    set_err(&c, "postgres: nothing to export (internal: no data)");
    goto fail;
  }
  if (url == NULL || url[0] == '\0') {
    set_err(&c,
            "postgres: --url is required, e.g. "
            "postgresql://USER@HOST:5432/DATABASE");
    goto fail;
  }
  if (!schema_name_ok(c.schema)) {
    set_err(&c,
            "postgres: schema '%s' must be 1-%d lower-case letters, digits "
            "or '_', starting with a letter or '_'",
            c.schema, PG_IDENT_MAX);
    goto fail;
  }
  if (check_url(&c, url) != 0 || connect_db(&c, url) != 0) goto fail;
  describe_period(&c);

  if (exec_params(&c, NULL, "starting a transaction on", "BEGIN", 0, NULL))
    goto fail;
  c.in_tx = 1;
  /* Two exports into one schema wait for each other instead of racing on
   * CREATE TABLE and on the purge of stale rows. */
  const char *lock[1] = {c.schema};
  if (exec_params(&c, NULL, "locking",
                  "SELECT pg_catalog.pg_advisory_xact_lock("
                  "pg_catalog.hashtext('itsm-bridge export ' || $1))",
                  1, lock) != 0)
    goto fail;
  if (use_schema(&c) != 0) goto fail;
  for (size_t i = 0; i < sizeof pg_tables / sizeof pg_tables[0]; i++)
    if (export_table(&c, &pg_tables[i]) != 0) goto fail;
  c.row[0] = '\0';
  for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
    if (exec_params(&c, views[i][0], "creating view", views[i][1], 0, NULL))
      goto fail;
  if (exec_params(&c, NULL, "committing into", "COMMIT", 0, NULL) != 0)
    goto fail;
  c.in_tx = 0;
  rc = 0;
fail:
  if (c.in_tx) PQclear(PQexec(c.conn, "ROLLBACK"));
  if (c.conn != NULL) PQfinish(c.conn);
  return rc;
}
