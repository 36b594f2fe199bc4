/*
 * export_rows.c -- the exported tables' columns and the cursor that turns
 * tickets, outages, KPI results and late changes into typed cells. Must not
 * write files nor compute KPIs: the kpi table is read back from kpi_format's
 * tidy CSV so that there is one formatter of KPI rows.
 */
#define _GNU_SOURCE
#include "export_rows.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpi_format.h"

#define PCT_DECIMALS 3
#define MONEY_DECIMALS 2
#define KPI_VALUE_DECIMALS 3

static const ib_export_column ticket_columns[] = {
    {"source", IB_COL_TEXT, 0, "source name in the configuration"},
    {"id", IB_COL_TEXT, 0, "stable id in the source tool"},
    {"key", IB_COL_TEXT, 0, "human key (SUP-42, INC0010023)"},
    {"title", IB_COL_TEXT, 0, "summary"},
    {"kind", IB_COL_TEXT, 0, "incident, request, problem, change or other"},
    {"kind_raw", IB_COL_TEXT, 0, "the source's own word"},
    {"priority", IB_COL_TEXT, 0, "P1..P5, empty when none"},
    {"priority_raw", IB_COL_TEXT, 0, "the source's own word"},
    {"status", IB_COL_TEXT, 0,
     "new, open, pending, resolved, closed or cancelled"},
    {"status_raw", IB_COL_TEXT, 0, "the source's own word"},
    {"service", IB_COL_TEXT, 0, "affected service"},
    {"group", IB_COL_TEXT, 0, "assignment group"},
    {"created_at", IB_COL_TIME, 0, "creation (UTC)"},
    {"first_response_at", IB_COL_TIME, 0, "first response (UTC)"},
    {"resolved_at", IB_COL_TIME, 0, "last resolution (UTC), empty if open"},
    {"closed_at", IB_COL_TIME, 0, "closure (UTC)"},
    {"updated_at", IB_COL_TIME, 0, "last update in the source (UTC)"},
    {"pauses", IB_COL_INT, 0, "number of pause intervals"},
    {"reported_response_breached", IB_COL_BOOL, 0,
     "the source's own first-response verdict, empty when not reported"},
    {"reported_resolution_breached", IB_COL_BOOL, 0,
     "the source's own resolution verdict, empty when not reported"},
};

static const ib_export_column ticket_sla_columns[] = {
    {"period", IB_COL_TEXT, 0, "the exported period"},
    {"sla", IB_COL_TEXT, 0, "SLA name"},
    {"source", IB_COL_TEXT, 0, "ticket source"},
    {"id", IB_COL_TEXT, 0, "ticket id in the source"},
    {"key", IB_COL_TEXT, 0, "ticket key"},
    {"priority", IB_COL_TEXT, 0, "P1..P5"},
    {"response_target_s", IB_COL_INT, 0, "first-response target, open seconds"},
    {"response_s", IB_COL_INT, 0,
     "measured first response in open seconds (pending: so far)"},
    {"response_verdict", IB_COL_TEXT, 0,
     "met, breached or pending; empty when not created in the period"},
    {"response_over_s", IB_COL_INT, 0, "seconds over the target"},
    {"response_reported_breached", IB_COL_BOOL, 0,
     "the source's own verdict, empty when not reported"},
    {"response_disagrees", IB_COL_BOOL, 0,
     "the source's verdict differs from the recomputed one"},
    {"resolution_target_s", IB_COL_INT, 0, "resolution target, open seconds"},
    {"resolution_s", IB_COL_INT, 0,
     "measured resolution in open seconds, pauses deducted"},
    {"resolution_verdict", IB_COL_TEXT, 0,
     "met or breached; empty when not resolved in the period"},
    {"resolution_over_s", IB_COL_INT, 0, "seconds over the target"},
    {"resolution_reported_breached", IB_COL_BOOL, 0,
     "the source's own verdict, empty when not reported"},
    {"resolution_disagrees", IB_COL_BOOL, 0,
     "the source's verdict differs from the recomputed one"},
    {"open_breached", IB_COL_BOOL, 0,
     "unresolved at the end of the period and already over its target"},
};

static const ib_export_column kpi_columns[] = {
    {"period", IB_COL_TEXT, 0, "the exported period"},
    {"sla", IB_COL_TEXT, 0, "SLA name, or the service for availability rows"},
    {"priority", IB_COL_TEXT, 0, "P1..P5, or all"},
    {"kpi", IB_COL_TEXT, 0,
     "figure name, e.g. first_response.compliance_pct (as kpi --format csv)"},
    {"value", IB_COL_NUM, KPI_VALUE_DECIMALS, "its value, empty when null"},
};

static const ib_export_column availability_columns[] = {
    {"period", IB_COL_TEXT, 0, "the exported period"},
    {"service", IB_COL_TEXT, 0, "service"},
    {"calendar", IB_COL_TEXT, 0, "calendar of its service time"},
    {"target_pct", IB_COL_NUM, PCT_DECIMALS, "availability target (%)"},
    {"service_time_s", IB_COL_INT, 0, "open seconds of the period up to as_of"},
    {"downtime_s", IB_COL_INT, 0, "open seconds of counted downtime"},
    {"outages", IB_COL_INT, 0, "counted outage intervals"},
    {"availability_pct", IB_COL_NUM, PCT_DECIMALS, "availability (%)"},
    {"breached", IB_COL_BOOL, 0, "below target"},
    {"currency", IB_COL_TEXT, 0, "currency of the credit"},
    {"credit", IB_COL_NUM, MONEY_DECIMALS,
     "credit due, empty when no credit rule"},
};

static const ib_export_column outage_columns[] = {
    {"source", IB_COL_TEXT, 0, "source name in the configuration"},
    {"id", IB_COL_TEXT, 0, "id in the source"},
    {"service", IB_COL_TEXT, 0, "service"},
    {"kind", IB_COL_TEXT, 0, "outage, degradation or planned"},
    {"kind_raw", IB_COL_TEXT, 0, "the source's own word"},
    {"start", IB_COL_TIME, 0, "start (UTC)"},
    {"end", IB_COL_TIME, 0, "end (UTC), empty while ongoing"},
    {"duration_s", IB_COL_INT, 0, "end - start, empty while ongoing"},
    {"updated_at", IB_COL_TIME, 0, "last update in the source (UTC)"},
};

static const ib_export_column disagreement_columns[] = {
    {"period", IB_COL_TEXT, 0, "the exported period"},
    {"source", IB_COL_TEXT, 0, "ticket source"},
    {"id", IB_COL_TEXT, 0, "ticket id in the source"},
    {"key", IB_COL_TEXT, 0, "ticket key"},
    {"sla", IB_COL_TEXT, 0, "SLA name"},
    {"priority", IB_COL_TEXT, 0, "P1..P5"},
    {"kpi", IB_COL_TEXT, 0, "first_response or resolution"},
    {"measured_s", IB_COL_INT, 0, "our measured time, open seconds"},
    {"target_s", IB_COL_INT, 0, "the target, open seconds"},
    {"ours", IB_COL_TEXT, 0, "our verdict: met or breached"},
    {"theirs", IB_COL_TEXT, 0, "the source's own verdict: met or breached"},
    {"reason", IB_COL_TEXT, 0,
     "pauses, calendar, priority_changed, response_from_resolution or "
     "unexplained (docs/kpi.md)"},
};

static const ib_export_column change_columns[] = {
    {"period", IB_COL_TEXT, 0, "the exported period"},
    {"change_id", IB_COL_INT, 0,
     "the change's number in the store (detection order)"},
    {"source", IB_COL_TEXT, 0, "source name in the configuration"},
    {"id", IB_COL_TEXT, 0, "ticket or outage id in the source"},
    {"key", IB_COL_TEXT, 0, "ticket key (the id for an outage)"},
    {"kind", IB_COL_TEXT, 0, "ticket or outage"},
    {"field", IB_COL_TEXT, 0,
     "the field that changed (priority, resolved_at, pauses, deleted_at...)"},
    {"category", IB_COL_TEXT, 0,
     "created_backdated, priority_changed, resolution_moved, deleted... "
     "(docs/kpi.md, late changes)"},
    {"old_value", IB_COL_TEXT, 0,
     "value before (instants ISO-8601 UTC), empty when none"},
    {"new_value", IB_COL_TEXT, 0, "value after, empty when none"},
    {"run_id", IB_COL_INT, 0, "the sync run that detected it"},
    {"detected_at", IB_COL_TIME, 0,
     "when that sync detected it (UTC), at or after the period's end"},
};

#define COLS(a) a, sizeof a / sizeof a[0]
const ib_export_table ib_export_tables[IB_TABLE_COUNT] = {
    {"tickets", "tickets that matter for the period", COLS(ticket_columns)},
    {"ticket_sla", "per ticket and SLA: measured times and verdicts",
     COLS(ticket_sla_columns)},
    {"kpi", "every KPI of the period, one figure per row", COLS(kpi_columns)},
    {"availability", "availability per service", COLS(availability_columns)},
    {"outages", "outage records overlapping the period", COLS(outage_columns)},
    {"disagreements",
     "tickets whose verdict the source reported otherwise, with the reason",
     COLS(disagreement_columns)},
    {"changes",
     "late changes: changes detected after the period ended to its tickets "
     "and outages",
     COLS(change_columns)},
};

/* A tidy KPI row read back from kpi_format's CSV. */
typedef struct kpi_row {
  char *field[5]; /* owned */
} kpi_row;

struct ib_export_rows {
  const ib_export_data *d;
  ib_export_table_id table;
  size_t next;
  kpi_row *kpi; /* owned; kpi table only */
  size_t n_kpi;
  char prio[8];
};

void ib_export_format_num(double v, int decimals, char *buf, size_t len) {
  double scale = pow(10.0, decimals);
  double r = round(v * scale) / scale;
  if (r == 0.0) r = 0.0; /* no "-0" */
  snprintf(buf, len, "%.*f", decimals, r);
  char *dot = strchr(buf, '.');
  if (dot == NULL) return;
  char *e = buf + strlen(buf) - 1;
  while (e > dot && *e == '0') *e-- = '\0';
  if (e == dot) *e = '\0';
}

/* ---- reading back kpi_format's CSV --------------------------------------- */

static void kpi_rows_free(kpi_row *rows, size_t n) {
  for (size_t i = 0; i < n; i++)
    for (int f = 0; f < 5; f++) free(rows[i].field[f]);
  free(rows);
}

/* Reads one RFC 4180 field at *p into a new string; advances *p past the
 * delimiter. NULL on ENOMEM. */
static char *read_field(const char **p) {
  const char *s = *p;
  size_t cap = strlen(s) + 1, n = 0;
  char *out = malloc(cap); /* returned */
  if (out == NULL) return NULL;
  if (*s == '"') {
    for (s++; *s; s++) {
      if (*s == '"' && s[1] == '"') {
        out[n++] = '"';
        s++;
      } else if (*s == '"') {
        s++;
        break;
      } else {
        out[n++] = *s;
      }
    }
  } else {
    while (*s && *s != ',' && *s != '\n') out[n++] = *s++;
  }
  out[n] = '\0';
  if (*s == ',') s++;
  *p = s;
  return out;
}

static int load_kpi_rows(ib_export_rows *it, char *err, size_t errlen) {
  char *text = NULL; /* owned here */
  size_t size = 0;
  FILE *mem = open_memstream(&text, &size);
  if (mem == NULL) goto nomem;
  int wrc = ib_kpi_write_csv(mem, it->d->kpi, it->d->period_label, 0);
  if (fclose(mem) != 0 || wrc != 0) goto nomem;
  size_t cap = 0;
  const char *p = strchr(text, '\n'); /* skip the header */
  p = p ? p + 1 : text + size;
  while (*p) {
    if (it->n_kpi == cap) {
      cap = cap ? cap * 2 : 64;
      kpi_row *v = realloc(it->kpi, cap * sizeof *v);
      if (v == NULL) goto nomem;
      it->kpi = v;
    }
    kpi_row *row = &it->kpi[it->n_kpi++];
    memset(row, 0, sizeof *row);
    for (int f = 0; f < 5; f++)
      if ((row->field[f] = read_field(&p)) == NULL) goto nomem;
    if (*p == '\n') p++;
  }
  free(text);
  return 0;
nomem:
  free(text);
  snprintf(err, errlen, "export: out of memory while formatting the KPIs");
  return -1;
}

/* ---- cursor ------------------------------------------------------------- */

int ib_export_rows_open(const ib_export_data *d, ib_export_table_id table,
                        ib_export_rows **out, char *err, size_t errlen) {
  ib_export_rows *it = calloc(1, sizeof *it); /* returned */
  if (it == NULL) {
    snprintf(err, errlen, "export: out of memory");
    return -1;
  }
  it->d = d;
  it->table = table;
  if (table == IB_TABLE_KPI && load_kpi_rows(it, err, errlen) != 0) {
    ib_export_rows_close(it);
    return -1;
  }
  *out = it;
  return 0;
}

void ib_export_rows_close(ib_export_rows *it) {
  if (it == NULL) return;
  kpi_rows_free(it->kpi, it->n_kpi);
  free(it);
}

static void set_text(ib_export_cell *c, const char *s) {
  memset(c, 0, sizeof *c);
  c->null = s == NULL;
  c->text = s;
}

static void set_int(ib_export_cell *c, int64_t v, int null) {
  memset(c, 0, sizeof *c);
  c->null = null;
  c->i = v;
}

static void set_time(ib_export_cell *c, ib_time t) {
  set_int(c, t, t == IB_TIME_NONE);
}

static void set_num(ib_export_cell *c, double v) {
  memset(c, 0, sizeof *c);
  c->null = isnan(v);
  c->num = c->null ? 0.0 : v;
}

static void set_verdict(ib_export_cell *c, ib_verdict v) {
  set_int(c, v == IB_VERDICT_BREACHED, v == IB_VERDICT_UNKNOWN);
}

void ib_export_ticket_cells(const ib_ticket_row *t, ib_export_cell *c,
                            char prio[8]) {
  set_text(&c[0], t->source);
  set_text(&c[1], t->id);
  set_text(&c[2], t->key ? t->key : t->id);
  set_text(&c[3], t->title);
  set_text(&c[4], ib_kind_name(t->kind));
  set_text(&c[5], t->kind_raw);
  snprintf(prio, 8, "P%d", t->priority);
  set_text(&c[6], t->priority >= 1 ? prio : NULL);
  set_text(&c[7], t->priority_raw);
  set_text(&c[8], ib_state_name(t->status));
  set_text(&c[9], t->status_raw);
  set_text(&c[10], t->service);
  set_text(&c[11], t->group);
  set_time(&c[12], t->created_at);
  set_time(&c[13], t->first_response_at);
  set_time(&c[14], t->resolved_at);
  set_time(&c[15], t->closed_at);
  set_time(&c[16], t->updated_at);
  set_int(&c[17], (int64_t)t->n_pauses, 0);
  set_verdict(&c[18], t->reported_response_breached);
  set_verdict(&c[19], t->reported_resolution_breached);
}

/* Six cells for one KPI of one ticket. */
static void measure_cells(const ib_kpi_measure *m, ib_export_cell *c) {
  int none = m->verdict == IB_KPI_NONE;
  set_int(&c[0], m->target_s, m->target_s == IB_DURATION_NONE);
  set_int(&c[1], m->measured_s, none || m->measured_s < 0);
  set_text(&c[2], none ? NULL : ib_kpi_verdict_name(m->verdict));
  set_int(&c[3], m->over_s, none);
  set_verdict(&c[4], m->reported);
  set_int(&c[5], m->disagrees, none || m->reported == IB_VERDICT_UNKNOWN);
}

static void ticket_sla_cells(ib_export_rows *it, const ib_kpi_ticket *k,
                             ib_export_cell *c) {
  const ib_ticket_row *t = k->ticket;
  set_text(&c[0], it->d->period_label);
  set_text(&c[1], it->d->kpi->slas[k->sla].cfg->name);
  set_text(&c[2], t->source);
  set_text(&c[3], t->id);
  set_text(&c[4], t->key ? t->key : t->id);
  snprintf(it->prio, sizeof it->prio, "P%d", k->priority);
  set_text(&c[5], it->prio);
  measure_cells(&k->first_response, &c[6]);
  measure_cells(&k->resolution, &c[12]);
  set_int(&c[18], k->open_breached, k->resolution.target_s == IB_DURATION_NONE);
}

static void availability_cells(ib_export_rows *it, const ib_kpi_availability *a,
                               ib_export_cell *c) {
  set_text(&c[0], it->d->period_label);
  set_text(&c[1], a->cfg->service);
  set_text(&c[2], a->calendar);
  set_num(&c[3], a->cfg->target_pct);
  set_int(&c[4], a->service_time_s, 0);
  set_int(&c[5], a->downtime_s, 0);
  set_int(&c[6], a->outages, 0);
  set_num(&c[7], a->availability_pct);
  set_int(&c[8], a->breached, isnan(a->availability_pct));
  set_text(&c[9], a->cfg->currency);
  set_num(&c[10], a->credit);
}

void ib_export_outage_cells(const ib_outage_row *o, ib_export_cell *c) {
  set_text(&c[0], o->source);
  set_text(&c[1], o->id);
  set_text(&c[2], o->service);
  set_text(&c[3], ib_outage_kind_name(o->kind));
  set_text(&c[4], o->kind_raw);
  set_time(&c[5], o->start);
  set_time(&c[6], o->end);
  int ongoing = o->end == IB_TIME_NONE || o->start == IB_TIME_NONE;
  set_int(&c[7], ongoing ? 0 : o->end - o->start, ongoing);
  set_time(&c[8], o->updated_at);
}

static void disagreement_cells(ib_export_rows *it, const ib_kpi_ticket *k,
                               int which, ib_export_cell *c) {
  static const char *const kpi_names[] = {"first_response", "resolution"};
  const ib_kpi_measure *m = which ? &k->resolution : &k->first_response;
  const ib_ticket_row *t = k->ticket;
  set_text(&c[0], it->d->period_label);
  set_text(&c[1], t->source);
  set_text(&c[2], t->id);
  set_text(&c[3], t->key ? t->key : t->id);
  set_text(&c[4], it->d->kpi->slas[k->sla].cfg->name);
  snprintf(it->prio, sizeof it->prio, "P%d", k->priority);
  set_text(&c[5], it->prio);
  set_text(&c[6], kpi_names[which]);
  set_int(&c[7], m->measured_s, 0);
  set_int(&c[8], m->target_s, 0);
  set_text(&c[9], ib_kpi_verdict_name(m->verdict));
  set_text(&c[10], m->reported == IB_VERDICT_BREACHED ? "breached" : "met");
  set_text(&c[11], ib_kpi_reason_name(m->reason));
}

static void change_cells(ib_export_rows *it, const ib_late_change *ch,
                         ib_export_cell *c) {
  set_text(&c[0], it->d->period_label);
  set_int(&c[1], ch->seq, 0);
  set_text(&c[2], ch->source);
  set_text(&c[3], ch->id);
  set_text(&c[4], ch->key ? ch->key : ch->id);
  set_text(&c[5], ch->kind);
  set_text(&c[6], ch->field);
  set_text(&c[7], ib_late_category_name(ch->category));
  set_text(&c[8], ch->old_value);
  set_text(&c[9], ch->new_value);
  set_int(&c[10], ch->run_id, 0);
  set_time(&c[11], ch->detected_at);
}

static void kpi_cells(const kpi_row *r, ib_export_cell *c) {
  for (int f = 0; f < 4; f++) set_text(&c[f], r->field[f]);
  const char *v = r->field[4];
  set_num(&c[4], v[0] ? strtod(v, NULL) : NAN);
}

int ib_export_rows_next(ib_export_rows *it, ib_export_cell *cells) {
  const ib_export_data *d = it->d;
  size_t i = it->next;
  switch (it->table) {
    case IB_TABLE_TICKETS:
      if (i >= d->tickets->n) return 0;
      ib_export_ticket_cells(&d->tickets->rows[i], cells, it->prio);
      break;
    case IB_TABLE_TICKET_SLA:
      if (i >= d->kpi->n_tickets) return 0;
      ticket_sla_cells(it, &d->kpi->tickets[i], cells);
      break;
    case IB_TABLE_KPI:
      if (i >= it->n_kpi) return 0;
      kpi_cells(&it->kpi[i], cells);
      break;
    case IB_TABLE_AVAILABILITY:
      if (i >= d->kpi->n_availability) return 0;
      availability_cells(it, &d->kpi->availability[i], cells);
      break;
    case IB_TABLE_OUTAGES:
      if (i >= d->outages->n) return 0;
      ib_export_outage_cells(&d->outages->rows[i], cells);
      break;
    case IB_TABLE_DISAGREEMENTS:
      /* next counts measures: ticket next / 2, first response then
       * resolution; those that agree are skipped. */
      for (; i < 2 * d->kpi->n_tickets; i++) {
        const ib_kpi_ticket *k = &d->kpi->tickets[i / 2];
        if ((i % 2 ? k->resolution : k->first_response).disagrees) break;
      }
      if (i >= 2 * d->kpi->n_tickets) return 0;
      disagreement_cells(it, &d->kpi->tickets[i / 2], (int)(i % 2), cells);
      it->next = i;
      break;
    case IB_TABLE_CHANGES:
      if (d->late_changes == NULL || i >= d->late_changes->n) return 0;
      change_cells(it, &d->late_changes->items[i], cells);
      break;
    default: return 0;
  }
  it->next++;
  return 1;
}
