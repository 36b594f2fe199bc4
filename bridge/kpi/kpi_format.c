/*
 * kpi_format.c -- KPI results as SPEC §7 JSON, a terminal table or tidy
 * CSV. Must not compute KPIs (kpi.c) nor read the store.
 */
#include "kpi_format.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"
#include "utf8.h"

#define KPI_SCHEMA "itsm-bridge.kpi/1"
#define DISAGREEMENTS_SCHEMA "itsm-bridge.disagreements/1"
#define PCT_DECIMALS 1000.0  /* percentages: 3 decimals */
#define MONEY_DECIMALS 100.0 /* money: 2 decimals */
#define DURATION_DECIMALS 1000.0

static double round_to(double x, double scale) {
  double r = round(x * scale) / scale;
  return r == 0.0 ? 0.0 : r; /* no "-0" */
}

int ib_kpi_format_parse(const char *word) {
  if (word == NULL) return -1;
  if (strcmp(word, "table") == 0) return IB_KPI_FORMAT_TABLE;
  if (strcmp(word, "json") == 0) return IB_KPI_FORMAT_JSON;
  if (strcmp(word, "csv") == 0) return IB_KPI_FORMAT_CSV;
  return -1;
}

void ib_kpi_format_duration(double seconds, char *buf, size_t len) {
  if (isnan(seconds) || seconds < 0) {
    snprintf(buf, len, "-");
    return;
  }
  long long s = (long long)llround(seconds);
  if (s < 3600)
    snprintf(buf, len, "%lldm %02llds", s / 60, s % 60);
  else
    snprintf(buf, len, "%lldh %02lldm", s / 3600, s / 60 % 60);
}

/* ---- JSON -------------------------------------------------------------- */

/* Adds a number, or null for NAN. */
static int add_num(cJSON *obj, const char *key, double v, double scale) {
  cJSON *item = isnan(v)
                    ? cJSON_CreateNull()
                    : cJSON_CreateNumber(scale > 0 ? round_to(v, scale) : v);
  if (item == NULL) return -1;
  cJSON_AddItemToObject(obj, key, item);
  return 0;
}

static int add_target(cJSON *obj, int64_t target_s) {
  cJSON *item = target_s == IB_DURATION_NONE
                    ? cJSON_CreateNull()
                    : cJSON_CreateNumber((double)target_s);
  if (item == NULL) return -1;
  cJSON_AddItemToObject(obj, "target_s", item);
  return 0;
}

static cJSON *stats_json(const ib_kpi_stats *s, int resolution,
                         int with_target) {
  cJSON *o = cJSON_CreateObject(); /* returned */
  if (o == NULL) return NULL;
  int bad = 0;
  if (with_target) bad |= add_target(o, s->target_s);
  bad |= cJSON_AddNumberToObject(o, "tickets", (double)s->tickets) == NULL;
  bad |= cJSON_AddNumberToObject(o, "met", (double)s->met) == NULL;
  bad |= cJSON_AddNumberToObject(o, "breached", (double)s->breached) == NULL;
  if (resolution)
    bad |= cJSON_AddNumberToObject(o, "open_breached",
                                   (double)s->open_breached) == NULL;
  else
    bad |= cJSON_AddNumberToObject(o, "pending", (double)s->pending) == NULL;
  bad |= add_num(o, "compliance_pct", s->compliance_pct, PCT_DECIMALS);
  bad |= add_num(o, resolution ? "mttr_s" : "mean_s", s->mean_s,
                 DURATION_DECIMALS);
  bad |= add_num(o, "median_s", s->median_s, DURATION_DECIMALS);
  bad |= add_num(o, "p90_s", s->p90_s, DURATION_DECIMALS);
  bad |= cJSON_AddNumberToObject(o, "reported_disagreements",
                                 (double)s->reported_disagreements) == NULL;
  if (bad) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static int add_pair(cJSON *parent, const char *key, const ib_kpi_stats *fr,
                    const ib_kpi_stats *res, int with_target) {
  cJSON *o = cJSON_AddObjectToObject(parent, key);
  if (o == NULL) return -1;
  cJSON *a = stats_json(fr, 0, with_target);
  if (a == NULL) return -1;
  cJSON_AddItemToObject(o, "first_response", a);
  cJSON *b = stats_json(res, 1, with_target);
  if (b == NULL) return -1;
  cJSON_AddItemToObject(o, "resolution", b);
  return 0;
}

/* JSON is UTF-8 or nothing: a name from the configuration with invalid
 * bytes is written with U+FFFD in their place. */
static int add_str(cJSON *obj, const char *key, const char *v) {
  cJSON *item;
  if (v == NULL) {
    item = cJSON_CreateNull();
  } else if (ib_utf8_valid(v)) {
    item = cJSON_CreateString(v);
  } else {
    char *fixed = ib_utf8_repair(v, NULL); /* owned here */
    item = fixed ? cJSON_CreateString(fixed) : NULL;
    free(fixed);
  }
  if (item == NULL) return -1;
  cJSON_AddItemToObject(obj, key, item);
  return 0;
}

static cJSON *sla_json(const ib_kpi_sla *s) {
  cJSON *o = cJSON_CreateObject(); /* returned */
  if (o == NULL) return NULL;
  if (add_str(o, "name", s->cfg->name) || add_str(o, "calendar", s->calendar))
    goto fail;
  cJSON *by = cJSON_AddArrayToObject(o, "by_priority");
  if (by == NULL) goto fail;
  for (size_t k = 0; k < s->n_priorities; k++) {
    const ib_kpi_priority *p = &s->by_priority[k];
    cJSON *po = cJSON_CreateObject();
    if (po == NULL) goto fail;
    cJSON_AddItemToArray(by, po);
    char name[8];
    snprintf(name, sizeof name, "P%d", p->priority);
    if (add_str(po, "priority", name)) goto fail;
    cJSON *a = stats_json(&p->first_response, 0, 1);
    if (a == NULL) goto fail;
    cJSON_AddItemToObject(po, "first_response", a);
    cJSON *b = stats_json(&p->resolution, 1, 1);
    if (b == NULL) goto fail;
    cJSON_AddItemToObject(po, "resolution", b);
  }
  if (add_pair(o, "total", &s->total_first_response, &s->total_resolution, 0))
    goto fail;
  if (!s->has_penalty) {
    if (cJSON_AddNullToObject(o, "penalty") == NULL) goto fail;
    return o;
  }
  cJSON *pen = cJSON_AddObjectToObject(o, "penalty");
  if (pen == NULL || add_str(pen, "currency", s->cfg->penalty.currency) ||
      add_num(pen, "monthly_fee", s->cfg->penalty.monthly_fee,
              MONEY_DECIMALS) ||
      add_num(pen, "credit_pct", s->credit_pct, PCT_DECIMALS) ||
      add_num(pen, "credit", s->credit, MONEY_DECIMALS))
    goto fail;
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

static cJSON *availability_json(const ib_kpi_availability *a) {
  cJSON *o = cJSON_CreateObject(); /* returned */
  if (o == NULL) return NULL;
  if (add_str(o, "service", a->cfg->service) ||
      add_str(o, "calendar", a->calendar) ||
      add_num(o, "target_pct", a->cfg->target_pct, PCT_DECIMALS) ||
      !cJSON_AddNumberToObject(o, "service_time_s",
                               (double)a->service_time_s) ||
      !cJSON_AddNumberToObject(o, "downtime_s", (double)a->downtime_s) ||
      !cJSON_AddNumberToObject(o, "outages", (double)a->outages) ||
      add_num(o, "availability_pct", a->availability_pct, PCT_DECIMALS) ||
      !cJSON_AddBoolToObject(o, "breached", a->breached) ||
      add_str(o, "currency", a->cfg->currency) ||
      add_num(o, "credit", a->credit, MONEY_DECIMALS)) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static const char *const kpi_names[] = {"first_response", "resolution"};

/* Calls fn for every breached measure, in result order. */
typedef int (*breach_fn)(void *ctx, const ib_kpi_result *r,
                         const ib_kpi_ticket *t, int which,
                         const ib_kpi_measure *m);

static int each_breach(const ib_kpi_result *r, breach_fn fn, void *ctx) {
  for (size_t i = 0; i < r->n_tickets; i++) {
    const ib_kpi_ticket *t = &r->tickets[i];
    const ib_kpi_measure *m[2] = {&t->first_response, &t->resolution};
    for (int w = 0; w < 2; w++)
      if (m[w]->verdict == IB_KPI_BREACHED && fn(ctx, r, t, w, m[w]) != 0)
        return -1;
  }
  return 0;
}

static int breach_to_json(void *ctx, const ib_kpi_result *r,
                          const ib_kpi_ticket *t, int which,
                          const ib_kpi_measure *m) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) return -1;
  cJSON_AddItemToArray(ctx, o);
  char prio[8];
  snprintf(prio, sizeof prio, "P%d", t->priority);
  if (add_str(o, "sla", r->slas[t->sla].cfg->name) ||
      add_str(o, "kpi", kpi_names[which]) ||
      add_str(o, "source", t->ticket->source) ||
      add_str(o, "key", t->ticket->key ? t->ticket->key : t->ticket->id) ||
      add_str(o, "title", t->ticket->title) || add_str(o, "priority", prio) ||
      !cJSON_AddNumberToObject(o, "measured_s", (double)m->measured_s) ||
      !cJSON_AddNumberToObject(o, "target_s", (double)m->target_s) ||
      !cJSON_AddNumberToObject(o, "over_s", (double)m->over_s))
    return -1;
  return 0;
}

cJSON *ib_kpi_to_json(const ib_kpi_result *r, int breaches) {
  cJSON *doc = cJSON_CreateObject(); /* returned */
  char from[IB_ISO_LEN], to[IB_ISO_LEN], as_of[IB_ISO_LEN];
  if (doc == NULL) return NULL;
  ib_format_iso8601(r->from, from);
  ib_format_iso8601(r->to, to);
  ib_format_iso8601(r->as_of, as_of);
  if (add_str(doc, "schema", KPI_SCHEMA)) goto fail;
  cJSON *period = cJSON_AddObjectToObject(doc, "period");
  if (period == NULL || add_str(period, "from", from) ||
      add_str(period, "to", to) || add_str(period, "as_of", as_of))
    goto fail;
  cJSON *slas = cJSON_AddArrayToObject(doc, "slas");
  if (slas == NULL) goto fail;
  for (size_t k = 0; k < r->n_slas; k++) {
    cJSON *s = sla_json(&r->slas[k]);
    if (s == NULL) goto fail;
    cJSON_AddItemToArray(slas, s);
  }
  cJSON *av = cJSON_AddArrayToObject(doc, "availability");
  if (av == NULL) goto fail;
  for (size_t k = 0; k < r->n_availability; k++) {
    cJSON *a = availability_json(&r->availability[k]);
    if (a == NULL) goto fail;
    cJSON_AddItemToArray(av, a);
  }
  if (breaches) {
    cJSON *b = cJSON_AddArrayToObject(doc, "breaches");
    if (b == NULL || each_breach(r, breach_to_json, b) != 0) goto fail;
  }
  return doc;
fail:
  cJSON_Delete(doc);
  return NULL;
}

int ib_kpi_write_json(FILE *out, const ib_kpi_result *r, int breaches) {
  cJSON *doc = ib_kpi_to_json(r, breaches); /* owned here */
  if (doc == NULL) return -1;
  char *text = cJSON_Print(doc); /* owned here */
  cJSON_Delete(doc);
  if (text == NULL) return -1;
  int rc = fprintf(out, "%s\n", text) < 0 ? -1 : 0;
  cJSON_free(text);
  return rc;
}

/* ---- table ------------------------------------------------------------- */

static void fmt_pct(double v, char *buf, size_t len) {
  if (isnan(v))
    snprintf(buf, len, "-");
  else
    snprintf(buf, len, "%.1f %%", v);
}

static void table_row(FILE *out, const char *label, const ib_kpi_stats *s,
                      int resolution) {
  char target[32], mean[32], median[32], p90[32], pct[32];
  if (s->target_s == IB_DURATION_NONE)
    snprintf(target, sizeof target, "%s", label[0] == 'a' ? "" : "none");
  else
    ib_kpi_format_duration((double)s->target_s, target, sizeof target);
  ib_kpi_format_duration(s->mean_s, mean, sizeof mean);
  ib_kpi_format_duration(s->median_s, median, sizeof median);
  ib_kpi_format_duration(s->p90_s, p90, sizeof p90);
  fmt_pct(s->compliance_pct, pct, sizeof pct);
  fprintf(out,
          "    %-5s %9s %8lld %6lld %9lld %9lld %11s %10s %10s %10s %9lld\n",
          label, target, (long long)s->tickets, (long long)s->met,
          (long long)s->breached,
          (long long)(resolution ? s->open_breached : s->pending), pct, mean,
          median, p90, (long long)s->reported_disagreements);
}

static void table_kpi(FILE *out, const ib_kpi_sla *s, int resolution) {
  fprintf(out, "  %s\n", resolution ? "Resolution" : "First response");
  fprintf(out, "    %-5s %9s %8s %6s %9s %9s %11s %10s %10s %10s %9s\n", "prio",
          "target", "tickets", "met", "breached",
          resolution ? "at risk" : "pending", "compliance",
          resolution ? "MTTR" : "mean", "median", "p90", "disagree");
  for (size_t k = 0; k < s->n_priorities; k++) {
    const ib_kpi_priority *p = &s->by_priority[k];
    char label[8];
    snprintf(label, sizeof label, "P%d", p->priority);
    table_row(out, label, resolution ? &p->resolution : &p->first_response,
              resolution);
  }
  table_row(out, "all",
            resolution ? &s->total_resolution : &s->total_first_response,
            resolution);
}

static int breach_to_table(void *ctx, const ib_kpi_result *r,
                           const ib_kpi_ticket *t, int which,
                           const ib_kpi_measure *m) {
  FILE *out = ctx;
  char measured[32], target[32], over[32];
  ib_kpi_format_duration((double)m->measured_s, measured, sizeof measured);
  ib_kpi_format_duration((double)m->target_s, target, sizeof target);
  ib_kpi_format_duration((double)m->over_s, over, sizeof over);
  const char *key = t->ticket->key ? t->ticket->key : t->ticket->id;
  const char *title = t->ticket->title ? t->ticket->title : "";
  fprintf(out, "  %-12s %-14s %-16s P%d %10s %10s %10s  %.48s\n",
          r->slas[t->sla].cfg->name, kpi_names[which], key ? key : "?",
          t->priority, measured, target, over, title);
  return 0;
}

int ib_kpi_write_table(FILE *out, const ib_kpi_result *r, const char *label,
                       int breaches) {
  char from[IB_ISO_LEN], to[IB_ISO_LEN], as_of[IB_ISO_LEN];
  ib_format_iso8601(r->from, from);
  ib_format_iso8601(r->to, to);
  ib_format_iso8601(r->as_of, as_of);
  if (label)
    fprintf(out, "KPIs for %s: %s .. %s (as of %s)\n", label, from, to, as_of);
  else
    fprintf(out, "KPIs for %s .. %s (as of %s)\n", from, to, as_of);
  for (size_t k = 0; k < r->n_slas; k++) {
    const ib_kpi_sla *s = &r->slas[k];
    fprintf(out, "\nSLA %s (calendar %s)\n", s->cfg->name, s->calendar);
    table_kpi(out, s, 0);
    table_kpi(out, s, 1);
    if (s->has_penalty) {
      const char *cur =
          s->cfg->penalty.currency ? s->cfg->penalty.currency : "";
      fprintf(out, "  Penalty: %.3f %% of %.2f %s = %.2f %s\n",
              round_to(s->credit_pct, PCT_DECIMALS),
              s->cfg->penalty.monthly_fee, cur,
              round_to(s->credit, MONEY_DECIMALS), cur);
    } else {
      fprintf(out, "  Penalty: none configured\n");
    }
  }
  if (r->n_availability > 0) {
    fprintf(out,
            "\nAvailability\n    %-16s %-14s %9s %12s %10s %7s %12s %-8s %s\n",
            "service", "calendar", "target", "service time", "downtime",
            "outages", "available", "status", "credit");
    for (size_t k = 0; k < r->n_availability; k++) {
      const ib_kpi_availability *a = &r->availability[k];
      char st[32], down[32], pct[32], target[32], credit[64];
      ib_kpi_format_duration((double)a->service_time_s, st, sizeof st);
      ib_kpi_format_duration((double)a->downtime_s, down, sizeof down);
      if (isnan(a->availability_pct))
        snprintf(pct, sizeof pct, "-");
      else
        snprintf(pct, sizeof pct, "%.3f %%", a->availability_pct);
      snprintf(target, sizeof target, "%.3f %%", a->cfg->target_pct);
      if (isnan(a->credit))
        snprintf(credit, sizeof credit, "-");
      else
        snprintf(credit, sizeof credit, "%.2f %s",
                 round_to(a->credit, MONEY_DECIMALS),
                 a->cfg->currency ? a->cfg->currency : "");
      fprintf(out, "    %-16s %-14s %9s %12s %10s %7lld %12s %-8s %s\n",
              a->cfg->service, a->calendar, target, st, down,
              (long long)a->outages, pct,
              isnan(a->availability_pct) ? "-"
              : a->breached              ? "BREACHED"
                                         : "met",
              credit);
    }
  }
  if (breaches) {
    fprintf(out,
            "\nBreached tickets\n  %-12s %-14s %-16s %-2s %10s %10s %10s  %s\n",
            "sla", "kpi", "ticket", "pr", "measured", "target", "over by",
            "title");
    each_breach(r, breach_to_table, out);
  }
  return ferror(out) ? -1 : 0;
}

/* ---- CSV --------------------------------------------------------------- */

static void csv_field(FILE *out, const char *s) {
  if (s == NULL) return;
  if (strpbrk(s, ",\"\r\n") == NULL) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"') fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

/* A number without trailing zeros (up to 3 decimals), empty for NAN. */
static void csv_number(FILE *out, double v) {
  if (isnan(v)) return;
  char buf[64];
  snprintf(buf, sizeof buf, "%.3f", round_to(v, 1000.0));
  char *dot = strchr(buf, '.');
  if (dot != NULL) {
    char *e = buf + strlen(buf) - 1;
    while (e > dot && *e == '0') *e-- = '\0';
    if (e == dot) *e = '\0';
  }
  fputs(buf, out);
}

static void csv_row(FILE *out, const char *period, const char *sla,
                    const char *prio, const char *kpi, const char *field,
                    double v) {
  csv_field(out, period);
  fputc(',', out);
  csv_field(out, sla);
  fprintf(out, ",%s,%s%s%s,", prio, kpi, field[0] ? "." : "", field);
  csv_number(out, v);
  fputc('\n', out);
}

static void csv_stats(FILE *out, const char *period, const char *sla,
                      const char *prio, const ib_kpi_stats *s, int resolution,
                      int with_target) {
  const char *k = resolution ? "resolution" : "first_response";
  if (with_target)
    csv_row(out, period, sla, prio, k, "target_s",
            s->target_s == IB_DURATION_NONE ? NAN : (double)s->target_s);
  csv_row(out, period, sla, prio, k, "tickets", (double)s->tickets);
  csv_row(out, period, sla, prio, k, "met", (double)s->met);
  csv_row(out, period, sla, prio, k, "breached", (double)s->breached);
  if (resolution)
    csv_row(out, period, sla, prio, k, "open_breached",
            (double)s->open_breached);
  else
    csv_row(out, period, sla, prio, k, "pending", (double)s->pending);
  csv_row(out, period, sla, prio, k, "compliance_pct", s->compliance_pct);
  csv_row(out, period, sla, prio, k, resolution ? "mttr_s" : "mean_s",
          s->mean_s);
  csv_row(out, period, sla, prio, k, "median_s", s->median_s);
  csv_row(out, period, sla, prio, k, "p90_s", s->p90_s);
  csv_row(out, period, sla, prio, k, "reported_disagreements",
          (double)s->reported_disagreements);
}

typedef struct csv_ctx {
  FILE *out;
  const char *period;
} csv_ctx;

static int breach_to_csv(void *ctx, const ib_kpi_result *r,
                         const ib_kpi_ticket *t, int which,
                         const ib_kpi_measure *m) {
  csv_ctx *c = ctx;
  csv_field(c->out, c->period);
  fputc(',', c->out);
  csv_field(c->out, r->slas[t->sla].cfg->name);
  fprintf(c->out, ",%s,", kpi_names[which]);
  csv_field(c->out, t->ticket->source);
  fputc(',', c->out);
  csv_field(c->out, t->ticket->key ? t->ticket->key : t->ticket->id);
  fputc(',', c->out);
  csv_field(c->out, t->ticket->title);
  fprintf(c->out, ",P%d,%lld,%lld,%lld\n", t->priority,
          (long long)m->measured_s, (long long)m->target_s,
          (long long)m->over_s);
  return 0;
}

int ib_kpi_write_csv(FILE *out, const ib_kpi_result *r, const char *period,
                     int breaches) {
  if (breaches) {
    csv_ctx c = {out, period};
    fputs(
        "period,sla,kpi,source,key,title,priority,measured_s,target_s,"
        "over_s\n",
        out);
    each_breach(r, breach_to_csv, &c);
    return ferror(out) ? -1 : 0;
  }
  fputs("period,sla,priority,kpi,value\n", out);
  for (size_t k = 0; k < r->n_slas; k++) {
    const ib_kpi_sla *s = &r->slas[k];
    for (size_t p = 0; p < s->n_priorities; p++) {
      char prio[8];
      snprintf(prio, sizeof prio, "P%d", s->by_priority[p].priority);
      csv_stats(out, period, s->cfg->name, prio,
                &s->by_priority[p].first_response, 0, 1);
      csv_stats(out, period, s->cfg->name, prio, &s->by_priority[p].resolution,
                1, 1);
    }
    csv_stats(out, period, s->cfg->name, "all", &s->total_first_response, 0, 0);
    csv_stats(out, period, s->cfg->name, "all", &s->total_resolution, 1, 0);
    if (s->has_penalty) {
      csv_row(out, period, s->cfg->name, "all", "penalty", "credit_pct",
              round_to(s->credit_pct, PCT_DECIMALS));
      csv_row(out, period, s->cfg->name, "all", "penalty", "credit",
              round_to(s->credit, MONEY_DECIMALS));
    }
  }
  for (size_t k = 0; k < r->n_availability; k++) {
    const ib_kpi_availability *a = &r->availability[k];
    const char *svc = a->cfg->service;
    csv_row(out, period, svc, "all", "availability", "target_pct",
            a->cfg->target_pct);
    csv_row(out, period, svc, "all", "availability", "service_time_s",
            (double)a->service_time_s);
    csv_row(out, period, svc, "all", "availability", "downtime_s",
            (double)a->downtime_s);
    csv_row(out, period, svc, "all", "availability", "outages",
            (double)a->outages);
    csv_row(out, period, svc, "all", "availability", "availability_pct",
            a->availability_pct);
    csv_row(out, period, svc, "all", "availability", "breached",
            isnan(a->availability_pct) ? NAN : (double)a->breached);
    csv_row(out, period, svc, "all", "availability", "credit",
            isnan(a->credit) ? NAN : round_to(a->credit, MONEY_DECIMALS));
  }
  return ferror(out) ? -1 : 0;
}

/* ---- disagreements with the provider ----------------------------------- */

static const char *theirs_name(const ib_kpi_measure *m) {
  return m->reported == IB_VERDICT_BREACHED ? "breached" : "met";
}

static int add_period(cJSON *doc, const ib_kpi_result *r) {
  char from[IB_ISO_LEN], to[IB_ISO_LEN], as_of[IB_ISO_LEN];
  ib_format_iso8601(r->from, from);
  ib_format_iso8601(r->to, to);
  ib_format_iso8601(r->as_of, as_of);
  cJSON *period = cJSON_AddObjectToObject(doc, "period");
  if (period == NULL || add_str(period, "from", from) ||
      add_str(period, "to", to) || add_str(period, "as_of", as_of))
    return -1;
  return 0;
}

cJSON *ib_kpi_disagreements_to_json(const ib_kpi_result *r) {
  cJSON *doc = cJSON_CreateObject(); /* returned */
  if (doc == NULL) return NULL;
  if (add_str(doc, "schema", DISAGREEMENTS_SCHEMA) || add_period(doc, r))
    goto fail;
  cJSON *list = cJSON_AddArrayToObject(doc, "disagreements");
  if (list == NULL) goto fail;
  for (size_t i = 0; i < r->n_tickets; i++) {
    const ib_kpi_ticket *t = &r->tickets[i];
    const ib_kpi_measure *m[2] = {&t->first_response, &t->resolution};
    for (int w = 0; w < 2; w++) {
      if (!m[w]->disagrees) continue;
      cJSON *o = cJSON_CreateObject();
      if (o == NULL) goto fail;
      cJSON_AddItemToArray(list, o);
      char prio[8];
      snprintf(prio, sizeof prio, "P%d", t->priority);
      if (add_str(o, "source", t->ticket->source) ||
          add_str(o, "id", t->ticket->id) ||
          add_str(o, "key", t->ticket->key) ||
          add_str(o, "sla", r->slas[t->sla].cfg->name) ||
          add_str(o, "priority", prio) || add_str(o, "kpi", kpi_names[w]) ||
          !cJSON_AddNumberToObject(o, "measured_s", (double)m[w]->measured_s) ||
          !cJSON_AddNumberToObject(o, "target_s", (double)m[w]->target_s) ||
          add_str(o, "ours", ib_kpi_verdict_name(m[w]->verdict)) ||
          add_str(o, "theirs", theirs_name(m[w])) ||
          add_str(o, "reason", ib_kpi_reason_name(m[w]->reason)))
        goto fail;
    }
  }
  return doc;
fail:
  cJSON_Delete(doc);
  return NULL;
}

static void disagreements_table(FILE *out, const ib_kpi_result *r,
                                const char *label) {
  char from[IB_ISO_LEN], to[IB_ISO_LEN], as_of[IB_ISO_LEN];
  ib_format_iso8601(r->from, from);
  ib_format_iso8601(r->to, to);
  ib_format_iso8601(r->as_of, as_of);
  fprintf(out, "Disagreements with the provider for %s%s%s .. %s (as of %s)\n",
          label ? label : "", label ? ": " : "", from, to, as_of);
  fprintf(out, "  %-12s %-16s %-12s %-2s %-14s %10s %10s %-8s %-8s %s\n",
          "source", "ticket", "sla", "pr", "kpi", "measured", "target", "ours",
          "theirs", "reason");
  size_t n = 0;
  for (size_t i = 0; i < r->n_tickets; i++) {
    const ib_kpi_ticket *t = &r->tickets[i];
    const ib_kpi_measure *m[2] = {&t->first_response, &t->resolution};
    for (int w = 0; w < 2; w++) {
      if (!m[w]->disagrees) continue;
      char measured[32], target[32];
      ib_kpi_format_duration((double)m[w]->measured_s, measured,
                             sizeof measured);
      ib_kpi_format_duration((double)m[w]->target_s, target, sizeof target);
      const char *key = t->ticket->key ? t->ticket->key : t->ticket->id;
      fprintf(out, "  %-12s %-16s %-12s P%d %-14s %10s %10s %-8s %-8s %s\n",
              t->ticket->source ? t->ticket->source : "?", key ? key : "?",
              r->slas[t->sla].cfg->name, t->priority, kpi_names[w], measured,
              target, ib_kpi_verdict_name(m[w]->verdict), theirs_name(m[w]),
              ib_kpi_reason_name(m[w]->reason));
      n++;
    }
  }
  if (n == 0) fprintf(out, "  (none: every reported verdict equals ours)\n");
}

static void disagreements_csv(FILE *out, const ib_kpi_result *r) {
  fputs(
      "source,id,key,sla,priority,kpi,measured_s,target_s,ours,theirs,"
      "reason\n",
      out);
  for (size_t i = 0; i < r->n_tickets; i++) {
    const ib_kpi_ticket *t = &r->tickets[i];
    const ib_kpi_measure *m[2] = {&t->first_response, &t->resolution};
    for (int w = 0; w < 2; w++) {
      if (!m[w]->disagrees) continue;
      csv_field(out, t->ticket->source);
      fputc(',', out);
      csv_field(out, t->ticket->id);
      fputc(',', out);
      csv_field(out, t->ticket->key);
      fputc(',', out);
      csv_field(out, r->slas[t->sla].cfg->name);
      fprintf(out, ",P%d,%s,%lld,%lld,%s,%s,%s\n", t->priority, kpi_names[w],
              (long long)m[w]->measured_s, (long long)m[w]->target_s,
              ib_kpi_verdict_name(m[w]->verdict), theirs_name(m[w]),
              ib_kpi_reason_name(m[w]->reason));
    }
  }
}

int ib_kpi_write_disagreements(FILE *out, const ib_kpi_result *r,
                               ib_kpi_format format, const char *label) {
  if (format == IB_KPI_FORMAT_JSON) {
    cJSON *doc = ib_kpi_disagreements_to_json(r); /* owned here */
    if (doc == NULL) return -1;
    char *text = cJSON_Print(doc); /* owned here */
    cJSON_Delete(doc);
    if (text == NULL) return -1;
    int rc = fprintf(out, "%s\n", text) < 0 ? -1 : 0;
    cJSON_free(text);
    return rc;
  }
  if (format == IB_KPI_FORMAT_CSV)
    disagreements_csv(out, r);
  else
    disagreements_table(out, r, label);
  return ferror(out) ? -1 : 0;
}
