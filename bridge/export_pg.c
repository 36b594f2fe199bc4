/*
 * export_pg.c -- the PostgreSQL exporter (issue 7, part 3): writes the
 * exported tickets, per-ticket SLA results, KPIs, availability and outages
 * into one schema with idempotent upserts in ONE transaction, and keeps the
 * BI views over them. Must not recompute KPIs, must never put data into SQL
 * text (parameters only), and must never accept, store or print a password.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "tz.h"

#define PG_DEFAULT_SCHEMA "itsm_bridge"
#define PG_IDENT_MAX 63           /* PostgreSQL's NAMEDATALEN - 1 */
#define PG_CONNECT_TIMEOUT_S "10" /* the URL's connect_timeout wins */
#define PG_MAX_PARAMS 32
#define PG_VALUE_LEN 48           /* an int64, an instant or a rounded number */
#define PG_ROW_LABEL_LEN 256

/* Decimals kept, as in `kpi --format json` (kpi_format.c). */
#define PCT_DECIMALS 3
#define DURATION_DECIMALS 3
#define MONEY_DECIMALS 2

/* ---- DDL: static text, no data ----------------------------------------- */

static const char *const ddl[] = {
    "CREATE TABLE IF NOT EXISTS tickets ("
    " source text NOT NULL, id text NOT NULL, key text, title text,"
    " kind text NOT NULL, kind_raw text, priority text, priority_raw text,"
    " status text NOT NULL, status_raw text, service text,"
    " assignment_group text, created_at timestamptz NOT NULL,"
    " first_response_at timestamptz, resolved_at timestamptz,"
    " closed_at timestamptz, updated_at timestamptz,"
    " pauses bigint NOT NULL,"
    " reported_response_breached boolean,"
    " reported_resolution_breached boolean,"
    " exported_at timestamptz NOT NULL,"
    " PRIMARY KEY (source, id))",

    "CREATE TABLE IF NOT EXISTS ticket_sla ("
    " period text NOT NULL, sla text NOT NULL, source text NOT NULL,"
    " ticket_id text NOT NULL, ticket_key text, priority text NOT NULL,"
    " month date, period_from timestamptz NOT NULL,"
    " period_to timestamptz NOT NULL, as_of timestamptz NOT NULL,"
    " response_target_s bigint, response_s bigint, response_verdict text,"
    " response_over_s bigint, response_reported_breached boolean,"
    " response_disagrees boolean NOT NULL,"
    " resolution_target_s bigint, resolution_s bigint,"
    " resolution_verdict text, resolution_over_s bigint,"
    " resolution_reported_breached boolean,"
    " resolution_disagrees boolean NOT NULL,"
    " open_breached boolean NOT NULL,"
    " exported_at timestamptz NOT NULL,"
    " PRIMARY KEY (period, sla, source, ticket_id))",

    "CREATE TABLE IF NOT EXISTS kpi ("
    " period text NOT NULL, sla text NOT NULL, priority text NOT NULL,"
    " kpi text NOT NULL, value numeric, month date,"
    " period_from timestamptz NOT NULL, period_to timestamptz NOT NULL,"
    " as_of timestamptz NOT NULL, exported_at timestamptz NOT NULL,"
    " PRIMARY KEY (period, sla, priority, kpi))",

    "CREATE TABLE IF NOT EXISTS availability ("
    " period text NOT NULL, service text NOT NULL, month date,"
    " period_from timestamptz NOT NULL, period_to timestamptz NOT NULL,"
    " as_of timestamptz NOT NULL, calendar text NOT NULL,"
    " target_pct numeric NOT NULL, service_time_s bigint NOT NULL,"
    " downtime_s bigint NOT NULL, outages bigint NOT NULL,"
    " availability_pct numeric, breached boolean, currency text,"
    " credit numeric, exported_at timestamptz NOT NULL,"
    " PRIMARY KEY (period, service))",

    "CREATE TABLE IF NOT EXISTS outages ("
    " source text NOT NULL, id text NOT NULL, service text,"
    " kind text NOT NULL, kind_raw text, start_at timestamptz NOT NULL,"
    " end_at timestamptz, updated_at timestamptz,"
    " exported_at timestamptz NOT NULL,"
    " PRIMARY KEY (source, id))",

    /* Only whole calendar months (month is NULL for other periods), so a
     * BI tool can plot them without double counting. */
    "CREATE OR REPLACE VIEW v_kpi_monthly AS"
    " SELECT month, sla, priority, kpi, value FROM kpi"
    " WHERE month IS NOT NULL",

    "CREATE OR REPLACE VIEW v_availability_monthly AS"
    " SELECT month, service, availability_pct, target_pct, downtime_s,"
    " credit FROM availability WHERE month IS NOT NULL",
};

/* ---- upserts: one prepared statement per table --------------------------
 * exported_at = now(), the transaction's start: rows of the period that
 * this export did not touch are then removed (PG_PURGE_*), so
 * re-exporting a period replaces its figures exactly. */

enum {
  PG_PUT_TICKET,
  PG_PUT_TICKET_SLA,
  PG_PUT_KPI,
  PG_PUT_AVAILABILITY,
  PG_PUT_OUTAGE,
  PG_PURGE_TICKET_SLA,
  PG_PURGE_KPI,
  PG_PURGE_AVAILABILITY,
  PG_STMT_COUNT
};

typedef struct pg_stmt {
  const char *name;  /* prepared statement name */
  const char *table; /* for error messages */
  const char *sql;
} pg_stmt;

static const pg_stmt stmts[PG_STMT_COUNT] = {
    [PG_PUT_TICKET] =
        {"ib_put_ticket", "tickets",
         "INSERT INTO tickets (source, id, key, title, kind, kind_raw,"
         " priority, priority_raw, status, status_raw, service,"
         " assignment_group, created_at, first_response_at, resolved_at,"
         " closed_at, updated_at, pauses, reported_response_breached,"
         " reported_resolution_breached, exported_at)"
         " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
         " $14, $15, $16, $17, $18, $19, $20, now())"
         " ON CONFLICT (source, id) DO UPDATE SET key = EXCLUDED.key,"
         " title = EXCLUDED.title, kind = EXCLUDED.kind,"
         " kind_raw = EXCLUDED.kind_raw, priority = EXCLUDED.priority,"
         " priority_raw = EXCLUDED.priority_raw, status = EXCLUDED.status,"
         " status_raw = EXCLUDED.status_raw, service = EXCLUDED.service,"
         " assignment_group = EXCLUDED.assignment_group,"
         " created_at = EXCLUDED.created_at,"
         " first_response_at = EXCLUDED.first_response_at,"
         " resolved_at = EXCLUDED.resolved_at,"
         " closed_at = EXCLUDED.closed_at, updated_at = EXCLUDED.updated_at,"
         " pauses = EXCLUDED.pauses,"
         " reported_response_breached = EXCLUDED.reported_response_breached,"
         " reported_resolution_breached ="
         " EXCLUDED.reported_resolution_breached,"
         " exported_at = EXCLUDED.exported_at"},
    [PG_PUT_TICKET_SLA] =
        {"ib_put_ticket_sla", "ticket_sla",
         "INSERT INTO ticket_sla (period, sla, source, ticket_id, ticket_key,"
         " priority, month, period_from, period_to, as_of,"
         " response_target_s, response_s, response_verdict, response_over_s,"
         " response_reported_breached, response_disagrees,"
         " resolution_target_s, resolution_s, resolution_verdict,"
         " resolution_over_s, resolution_reported_breached,"
         " resolution_disagrees, open_breached, exported_at)"
         " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
         " $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, now())"
         " ON CONFLICT (period, sla, source, ticket_id) DO UPDATE SET"
         " ticket_key = EXCLUDED.ticket_key, priority = EXCLUDED.priority,"
         " month = EXCLUDED.month, period_from = EXCLUDED.period_from,"
         " period_to = EXCLUDED.period_to, as_of = EXCLUDED.as_of,"
         " response_target_s = EXCLUDED.response_target_s,"
         " response_s = EXCLUDED.response_s,"
         " response_verdict = EXCLUDED.response_verdict,"
         " response_over_s = EXCLUDED.response_over_s,"
         " response_reported_breached = EXCLUDED.response_reported_breached,"
         " response_disagrees = EXCLUDED.response_disagrees,"
         " resolution_target_s = EXCLUDED.resolution_target_s,"
         " resolution_s = EXCLUDED.resolution_s,"
         " resolution_verdict = EXCLUDED.resolution_verdict,"
         " resolution_over_s = EXCLUDED.resolution_over_s,"
         " resolution_reported_breached ="
         " EXCLUDED.resolution_reported_breached,"
         " resolution_disagrees = EXCLUDED.resolution_disagrees,"
         " open_breached = EXCLUDED.open_breached,"
         " exported_at = EXCLUDED.exported_at"},
    [PG_PUT_KPI] =
        {"ib_put_kpi", "kpi",
         "INSERT INTO kpi (period, sla, priority, kpi, value, month,"
         " period_from, period_to, as_of, exported_at)"
         " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())"
         " ON CONFLICT (period, sla, priority, kpi) DO UPDATE SET"
         " value = EXCLUDED.value, month = EXCLUDED.month,"
         " period_from = EXCLUDED.period_from,"
         " period_to = EXCLUDED.period_to, as_of = EXCLUDED.as_of,"
         " exported_at = EXCLUDED.exported_at"},
    [PG_PUT_AVAILABILITY] =
        {"ib_put_availability", "availability",
         "INSERT INTO availability (period, service, month, period_from,"
         " period_to, as_of, calendar, target_pct, service_time_s,"
         " downtime_s, outages, availability_pct, breached, currency,"
         " credit, exported_at)"
         " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
         " $14, $15, now())"
         " ON CONFLICT (period, service) DO UPDATE SET"
         " month = EXCLUDED.month, period_from = EXCLUDED.period_from,"
         " period_to = EXCLUDED.period_to, as_of = EXCLUDED.as_of,"
         " calendar = EXCLUDED.calendar, target_pct = EXCLUDED.target_pct,"
         " service_time_s = EXCLUDED.service_time_s,"
         " downtime_s = EXCLUDED.downtime_s, outages = EXCLUDED.outages,"
         " availability_pct = EXCLUDED.availability_pct,"
         " breached = EXCLUDED.breached, currency = EXCLUDED.currency,"
         " credit = EXCLUDED.credit, exported_at = EXCLUDED.exported_at"},
    [PG_PUT_OUTAGE] =
        {"ib_put_outage", "outages",
         "INSERT INTO outages (source, id, service, kind, kind_raw, start_at,"
         " end_at, updated_at, exported_at)"
         " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())"
         " ON CONFLICT (source, id) DO UPDATE SET service = EXCLUDED.service,"
         " kind = EXCLUDED.kind, kind_raw = EXCLUDED.kind_raw,"
         " start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at,"
         " updated_at = EXCLUDED.updated_at,"
         " exported_at = EXCLUDED.exported_at"},
    [PG_PURGE_TICKET_SLA] = {"ib_purge_ticket_sla", "ticket_sla",
                             "DELETE FROM ticket_sla WHERE period = $1"
                             " AND exported_at <> now()"},
    [PG_PURGE_KPI] = {"ib_purge_kpi", "kpi",
                      "DELETE FROM kpi WHERE period = $1"
                      " AND exported_at <> now()"},
    [PG_PURGE_AVAILABILITY] = {"ib_purge_availability", "availability",
                               "DELETE FROM availability WHERE period = $1"
                               " AND exported_at <> now()"},
};

/* ---- context ------------------------------------------------------------ */

typedef struct pg_ctx {
  PGconn *conn; /* owned: PQfinish */
  const ib_export_data *d;
  const char *schema;
  int in_tx;
  char period[128];       /* "YYYY-MM" for a whole month, else the label */
  char month[32];         /* "YYYY-MM-01", "" when not a whole month */
  char from[IB_ISO_LEN], to[IB_ISO_LEN], as_of[IB_ISO_LEN];
  char row[PG_ROW_LABEL_LEN]; /* the row being written, for errors */
  char *err;
  size_t errlen;
} pg_ctx;

/* Parameters of one statement: values point into buf or borrowed text. */
typedef struct pg_params {
  const char *v[PG_MAX_PARAMS];
  char buf[PG_MAX_PARAMS][PG_VALUE_LEN];
  int n;
} pg_params;

static void p_text(pg_params *p, const char *s) {
  if (p->n < PG_MAX_PARAMS) p->v[p->n++] = s;
}

static void p_null(pg_params *p) { p_text(p, NULL); }

static void p_int(pg_params *p, int64_t x) {
  if (p->n >= PG_MAX_PARAMS) return;
  snprintf(p->buf[p->n], PG_VALUE_LEN, "%" PRId64, x);
  p_text(p, p->buf[p->n]);
}

static void p_time(pg_params *p, ib_time t) {
  if (p->n >= PG_MAX_PARAMS) return;
  if (t == IB_TIME_NONE) {
    p_null(p);
    return;
  }
  ib_format_iso8601(t, p->buf[p->n]);
  p_text(p, p->buf[p->n]);
}

static void p_bool(pg_params *p, int b) { p_text(p, b ? "true" : "false"); }

/* A duration target: NULL when the priority has none. */
static void p_target(pg_params *p, int64_t target_s) {
  if (target_s == IB_DURATION_NONE)
    p_null(p);
  else
    p_int(p, target_s);
}

/* The source's own verdict as "breached?": NULL when not reported. */
static void p_reported(pg_params *p, ib_verdict v) {
  if (v == IB_VERDICT_UNKNOWN)
    p_null(p);
  else
    p_bool(p, v == IB_VERDICT_BREACHED);
}

/* A figure rounded like `kpi --format json`, without trailing zeros;
 * NULL for NAN (an empty cohort is not a zero). */
static void p_num(pg_params *p, double x, int decimals) {
  if (p->n >= PG_MAX_PARAMS) return;
  if (isnan(x) || isinf(x)) {
    p_null(p);
    return;
  }
  char *b = p->buf[p->n];
  double scale = pow(10.0, decimals);
  double r = round(x * scale) / scale;
  if (r == 0.0) r = 0.0; /* no "-0" */
  if (fabs(r) < 1e15) {
    snprintf(b, PG_VALUE_LEN, "%.*f", decimals, r);
    char *dot = strchr(b, '.');
    if (dot != NULL) {
      char *e = b + strlen(b) - 1;
      while (e > dot && *e == '0') *e-- = '\0';
      if (e == dot) *e = '\0';
    }
  } else {
    snprintf(b, PG_VALUE_LEN, "%.17g", r); /* numeric reads exponents */
  }
  p_text(p, b);
}

/* ---- errors ------------------------------------------------------------- */

static void set_err(pg_ctx *c, const char *fmt, ...) IB_PRINTF(2, 3);
static void set_err(pg_ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, c->errlen, fmt, ap);
  va_end(ap);
}

/* libpq's text up to its first newline (its messages may run on). */
static void first_line(const char *text, char *buf, size_t len) {
  snprintf(buf, len, "%s", text ? text : "");
  buf[strcspn(buf, "\r\n")] = '\0';
  if (buf[0] == '\0') snprintf(buf, len, "unknown error");
}

static void pg_result_error(pg_ctx *c, const PGresult *res, const char *table,
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

/* ---- running statements ------------------------------------------------- */

static int check_result(pg_ctx *c, PGresult *res, const char *table,
                        const char *doing) {
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!ok) pg_result_error(c, res, table, doing);
  PQclear(res);
  return ok ? 0 : -1;
}

static int exec_params(pg_ctx *c, const char *table, const char *doing,
                       const char *sql, const pg_params *p) {
  PGresult *res = PQexecParams(c->conn, sql, p ? p->n : 0, NULL,
                               p ? p->v : NULL, NULL, NULL, 0);
  return check_result(c, res, table, doing);
}

static int exec_stmt(pg_ctx *c, int which, const pg_params *p) {
  if (p->n >= PG_MAX_PARAMS) { /* a programming error, caught loudly */
    set_err(c, "postgres: too many parameters for %s (internal)",
            stmts[which].table);
    return -1;
  }
  PGresult *res =
      PQexecPrepared(c->conn, stmts[which].name, p->n, p->v, NULL, NULL, 0);
  return check_result(c, res, stmts[which].table, "writing");
}

/* ---- the period --------------------------------------------------------- */

/* The period key: a whole calendar month in the configuration's zone is
 * always "YYYY-MM" (with month = its first day), however it was asked,
 * so that the views never count a month twice. */
static int describe_period(pg_ctx *c) {
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
      return 0;
    }
  }
  if (c->d->period_label != NULL && c->d->period_label[0] != '\0')
    snprintf(c->period, sizeof c->period, "%s", c->d->period_label);
  else
    snprintf(c->period, sizeof c->period, "%s/%s", c->from, c->to);
  return 0;
}

static void p_period(pg_ctx *c, pg_params *p) {
  p_text(p, c->month[0] ? c->month : NULL);
  p_text(p, c->from);
  p_text(p, c->to);
  p_text(p, c->as_of);
}

/* ---- rows --------------------------------------------------------------- */

static int put_tickets(pg_ctx *c) {
  const ib_ticket_set *set = c->d->tickets;
  for (size_t i = 0; set != NULL && i < set->n; i++) {
    const ib_ticket_row *t = &set->rows[i];
    char prio[4];
    snprintf(prio, sizeof prio, "P%d", t->priority);
    snprintf(c->row, sizeof c->row, "ticket %s/%s", t->source,
             t->key ? t->key : t->id);
    pg_params p = {.n = 0};
    p_text(&p, t->source);
    p_text(&p, t->id);
    p_text(&p, t->key ? t->key : t->id);
    p_text(&p, t->title);
    p_text(&p, ib_kind_name(t->kind));
    p_text(&p, t->kind_raw);
    p_text(&p, t->priority >= 1 ? prio : NULL);
    p_text(&p, t->priority_raw);
    p_text(&p, ib_state_name(t->status));
    p_text(&p, t->status_raw);
    p_text(&p, t->service);
    p_text(&p, t->group);
    p_time(&p, t->created_at);
    p_time(&p, t->first_response_at);
    p_time(&p, t->resolved_at);
    p_time(&p, t->closed_at);
    p_time(&p, t->updated_at);
    p_int(&p, (int64_t)t->n_pauses);
    p_reported(&p, t->reported_response_breached);
    p_reported(&p, t->reported_resolution_breached);
    if (exec_stmt(c, PG_PUT_TICKET, &p) != 0) return -1;
  }
  return 0;
}

static void p_measure(pg_params *p, const ib_kpi_measure *m) {
  int in_cohort = m->verdict != IB_KPI_NONE;
  p_target(p, m->target_s);
  if (m->measured_s >= 0)
    p_int(p, m->measured_s);
  else
    p_null(p);
  p_text(p, in_cohort ? ib_kpi_verdict_name(m->verdict) : NULL);
  if (in_cohort)
    p_int(p, m->over_s);
  else
    p_null(p);
  p_reported(p, m->reported);
  p_bool(p, m->disagrees);
}

static int put_ticket_sla(pg_ctx *c) {
  const ib_kpi_result *r = c->d->kpi;
  for (size_t i = 0; i < r->n_tickets; i++) {
    const ib_kpi_ticket *k = &r->tickets[i];
    const ib_ticket_row *t = k->ticket;
    const char *sla = r->slas[k->sla].cfg->name;
    char prio[4];
    snprintf(prio, sizeof prio, "P%d", k->priority);
    snprintf(c->row, sizeof c->row, "SLA %s, ticket %s/%s", sla, t->source,
             t->key ? t->key : t->id);
    pg_params p = {.n = 0};
    p_text(&p, c->period);
    p_text(&p, sla);
    p_text(&p, t->source);
    p_text(&p, t->id);
    p_text(&p, t->key ? t->key : t->id);
    p_text(&p, prio);
    p_period(c, &p);
    p_measure(&p, &k->first_response);
    p_measure(&p, &k->resolution);
    p_bool(&p, k->open_breached);
    if (exec_stmt(c, PG_PUT_TICKET_SLA, &p) != 0) return -1;
  }
  return 0;
}

/* One tidy KPI row, named like `kpi --format csv` ("resolution.mttr_s"). */
static int put_kpi(pg_ctx *c, const char *sla, const char *prio,
                   const char *group, const char *field, double value,
                   int decimals) {
  char name[64];
  snprintf(name, sizeof name, "%s.%s", group, field);
  snprintf(c->row, sizeof c->row, "SLA %s, %s, %s", sla, prio, name);
  pg_params p = {.n = 0};
  p_text(&p, c->period);
  p_text(&p, sla);
  p_text(&p, prio);
  p_text(&p, name);
  p_num(&p, value, decimals);
  p_period(c, &p);
  return exec_stmt(c, PG_PUT_KPI, &p);
}

/* One statistic of a cohort, and how many decimals it keeps. */
typedef struct kpi_field {
  const char *name;
  double value;
  int decimals;
} kpi_field;
#define PG_STATS_FIELDS_MAX 11

static int put_stats(pg_ctx *c, const char *sla, const char *prio,
                     const ib_kpi_stats *s, int resolution, int with_target) {
  kpi_field f[PG_STATS_FIELDS_MAX];
  size_t n = 0;
  if (with_target)
    f[n++] = (kpi_field){
        "target_s",
        s->target_s == IB_DURATION_NONE ? NAN : (double)s->target_s, 0};
  f[n++] = (kpi_field){"tickets", (double)s->tickets, 0};
  f[n++] = (kpi_field){"met", (double)s->met, 0};
  f[n++] = (kpi_field){"breached", (double)s->breached, 0};
  if (resolution)
    f[n++] = (kpi_field){"open_breached", (double)s->open_breached, 0};
  else
    f[n++] = (kpi_field){"pending", (double)s->pending, 0};
  f[n++] = (kpi_field){"compliance_pct", s->compliance_pct,
                              PCT_DECIMALS};
  f[n++] = (kpi_field){resolution ? "mttr_s" : "mean_s", s->mean_s,
                              DURATION_DECIMALS};
  f[n++] = (kpi_field){"median_s", s->median_s, DURATION_DECIMALS};
  f[n++] = (kpi_field){"p90_s", s->p90_s, DURATION_DECIMALS};
  f[n++] = (kpi_field){"reported_disagreements",
                              (double)s->reported_disagreements, 0};
  const char *group = resolution ? "resolution" : "first_response";
  for (size_t i = 0; i < n; i++)
    if (put_kpi(c, sla, prio, group, f[i].name, f[i].value, f[i].decimals) !=
        0)
      return -1;
  return 0;
}

static int put_kpis(pg_ctx *c) {
  const ib_kpi_result *r = c->d->kpi;
  for (size_t k = 0; k < r->n_slas; k++) {
    const ib_kpi_sla *s = &r->slas[k];
    const char *name = s->cfg->name;
    for (size_t i = 0; i < s->n_priorities; i++) {
      const ib_kpi_priority *bp = &s->by_priority[i];
      char prio[4];
      snprintf(prio, sizeof prio, "P%d", bp->priority);
      if (put_stats(c, name, prio, &bp->first_response, 0, 1) != 0 ||
          put_stats(c, name, prio, &bp->resolution, 1, 1) != 0)
        return -1;
    }
    if (put_stats(c, name, "all", &s->total_first_response, 0, 0) != 0 ||
        put_stats(c, name, "all", &s->total_resolution, 1, 0) != 0)
      return -1;
    if (s->has_penalty &&
        (put_kpi(c, name, "all", "penalty", "credit_pct", s->credit_pct,
                 PCT_DECIMALS) != 0 ||
         put_kpi(c, name, "all", "penalty", "credit", s->credit,
                 MONEY_DECIMALS) != 0))
      return -1;
  }
  return 0;
}

static int put_availability(pg_ctx *c) {
  const ib_kpi_result *r = c->d->kpi;
  for (size_t k = 0; k < r->n_availability; k++) {
    const ib_kpi_availability *a = &r->availability[k];
    snprintf(c->row, sizeof c->row, "service %s", a->cfg->service);
    pg_params p = {.n = 0};
    p_text(&p, c->period);
    p_text(&p, a->cfg->service);
    p_period(c, &p);
    p_text(&p, a->calendar);
    p_num(&p, a->cfg->target_pct, PCT_DECIMALS);
    p_int(&p, a->service_time_s);
    p_int(&p, a->downtime_s);
    p_int(&p, a->outages);
    p_num(&p, a->availability_pct, PCT_DECIMALS);
    if (isnan(a->availability_pct))
      p_null(&p);
    else
      p_bool(&p, a->breached);
    p_text(&p, a->cfg->has_credit ? a->cfg->currency : NULL);
    p_num(&p, a->credit, MONEY_DECIMALS);
    if (exec_stmt(c, PG_PUT_AVAILABILITY, &p) != 0) return -1;
  }
  return 0;
}

static int put_outages(pg_ctx *c) {
  const ib_outage_set *set = c->d->outages;
  for (size_t i = 0; set != NULL && i < set->n; i++) {
    const ib_outage_row *o = &set->rows[i];
    snprintf(c->row, sizeof c->row, "outage %s/%s", o->source, o->id);
    pg_params p = {.n = 0};
    p_text(&p, o->source);
    p_text(&p, o->id);
    p_text(&p, o->service);
    p_text(&p, ib_outage_kind_name(o->kind));
    p_text(&p, o->kind_raw);
    p_time(&p, o->start);
    p_time(&p, o->end);
    p_time(&p, o->updated_at);
    if (exec_stmt(c, PG_PUT_OUTAGE, &p) != 0) return -1;
  }
  return 0;
}

static int purge_stale(pg_ctx *c) {
  static const int purges[] = {PG_PURGE_TICKET_SLA, PG_PURGE_KPI,
                               PG_PURGE_AVAILABILITY};
  snprintf(c->row, sizeof c->row, "period %s", c->period);
  for (size_t i = 0; i < sizeof purges / sizeof purges[0]; i++) {
    pg_params p = {.n = 0};
    p_text(&p, c->period);
    if (exec_stmt(c, purges[i], &p) != 0) return -1;
  }
  return 0;
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
  char *perr = NULL; /* owned by libpq: PQfreemem */
  PQconninfoOption *opts = PQconninfoParse(url, &perr); /* owned: below */
  if (opts == NULL) {
    char msg[256];
    first_line(perr ? perr : "out of memory", msg, sizeof msg);
    set_err(c,
            "postgres: --url is not a PostgreSQL URL (%s); expected "
            "postgresql://USER@HOST:PORT/DATABASE",
            msg);
    PQfreemem(perr);
    return -1;
  }
  int has_password = 0;
  for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
    if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
        o->val[0] != '\0')
      has_password = 1;
  PQconninfoFree(opts);
  if (has_password) {
    set_err(c, "postgres: the --url contains a password; remove it "
               "and set PGPASSWORD or a ~/.pgpass entry instead");
    return -1;
  }
  return 0;
}

static int connect_db(pg_ctx *c, const char *url) {
  /* Later keywords win: the URL may override the encoding and timeout. */
  const char *const keys[] = {"client_encoding", "connect_timeout",
                              "fallback_application_name", "dbname", NULL};
  const char *const vals[] = {"UTF8", PG_CONNECT_TIMEOUT_S, "itsm-bridge",
                              url, NULL};
  c->conn = PQconnectdbParams(keys, vals, 1);
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
            "postgres: cannot connect to %s:%s/%s: %s; check --url, "
            "that the server runs, and PGPASSWORD or ~/.pgpass",
            host ? host : "?", port ? port : "?", db ? db : "?", msg);
    return -1;
  }
  return 0;
}

/* Creates the schema if missing and makes it the transaction's
 * search_path, so every statement below names plain tables. */
static int use_schema(pg_ctx *c) {
  int rc = -1;
  char *ident = NULL;  /* owned: PQfreemem */
  char *create = NULL; /* owned: free */
  pg_params p = {.n = 0};

  p_text(&p, c->schema);
  PGresult *res = PQexecParams(c->conn,
                               "SELECT 1 FROM pg_catalog.pg_namespace"
                               " WHERE nspname = $1",
                               p.n, NULL, p.v, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    check_result(c, res, NULL, "looking up schema");
    goto fail;
  }
  int exists = PQntuples(res) > 0;
  PQclear(res);

  ident = PQescapeIdentifier(c->conn, c->schema, strlen(c->schema));
  if (ident == NULL) {
    set_err(c, "postgres: cannot quote schema name '%s': %s",
            c->schema, PQerrorMessage(c->conn));
    goto fail;
  }
  if (!exists) {
    /* An identifier, quoted by libpq: DDL cannot take it as a parameter. */
    static const char prefix[] = "CREATE SCHEMA ";
    create = malloc(sizeof prefix + strlen(ident));
    if (create == NULL) {
      set_err(c, "postgres: out of memory");
      goto fail;
    }
    snprintf(create, sizeof prefix + strlen(ident), "%s%s", prefix, ident);
    if (exec_params(c, NULL, "creating schema", create, NULL) != 0) goto fail;
  }
  pg_params sp = {.n = 0};
  p_text(&sp, ident);
  if (exec_params(c, NULL, "selecting schema",
                  "SELECT pg_catalog.set_config('search_path', $1, true)",
                  &sp) != 0)
    goto fail;
  rc = 0;
fail:
  PQfreemem(ident);
  free(create);
  return rc;
}

static int prepare_all(pg_ctx *c) {
  for (int i = 0; i < PG_STMT_COUNT; i++) {
    PGresult *res = PQprepare(c->conn, stmts[i].name, stmts[i].sql, 0, NULL);
    if (check_result(c, res, stmts[i].table, "preparing") != 0) return -1;
  }
  return 0;
}

static int create_objects(pg_ctx *c) {
  static const char *const names[] = {
      "tickets", "ticket_sla", "kpi", "availability", "outages",
      "v_kpi_monthly", "v_availability_monthly"};
  _Static_assert(sizeof names / sizeof names[0] == sizeof ddl / sizeof ddl[0],
                 "one name per DDL statement");
  for (size_t i = 0; i < sizeof ddl / sizeof ddl[0]; i++)
    if (exec_params(c, names[i], "creating", ddl[i], NULL) != 0) return -1;
  return 0;
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

  if (d == NULL || d->kpi == NULL) {
    set_err(&c, "postgres: no KPI result to export (internal)");
    goto fail;
  }
  if (url == NULL || url[0] == '\0') {
    set_err(&c, "postgres: --url is required, e.g. "
                "postgresql://USER@HOST:5432/DATABASE");
    goto fail;
  }
  if (!schema_name_ok(c.schema)) {
    set_err(&c,
            "postgres: schema '%s' must be 1-%d lower-case letters, "
            "digits or '_', starting with a letter or '_'",
            c.schema, PG_IDENT_MAX);
    goto fail;
  }
  if (check_url(&c, url) != 0 || connect_db(&c, url) != 0) goto fail;
  if (describe_period(&c) != 0) goto fail;

  if (exec_params(&c, NULL, "starting", "BEGIN", NULL) != 0) goto fail;
  c.in_tx = 1;
  /* Two exports into the same schema wait for each other instead of
   * racing on CREATE TABLE and the purge of stale rows. */
  pg_params lock = {.n = 0};
  p_text(&lock, c.schema);
  if (exec_params(&c, NULL, "locking",
                  "SELECT pg_catalog.pg_advisory_xact_lock("
                  "pg_catalog.hashtext('itsm-bridge export ' || $1))",
                  &lock) != 0)
    goto fail;
  if (use_schema(&c) != 0 || create_objects(&c) != 0 || prepare_all(&c) != 0)
    goto fail;
  if (put_tickets(&c) != 0 || put_outages(&c) != 0 ||
      put_ticket_sla(&c) != 0 || put_kpis(&c) != 0 ||
      put_availability(&c) != 0 || purge_stale(&c) != 0)
    goto fail;
  c.row[0] = '\0';
  if (exec_params(&c, NULL, "committing", "COMMIT", NULL) != 0) goto fail;
  c.in_tx = 0;
  rc = 0;
fail:
  if (c.in_tx) PQclear(PQexec(c.conn, "ROLLBACK"));
  if (c.conn != NULL) PQfinish(c.conn);
  return rc;
}
