/*
 * alerts.c -- evaluates the alert rules (SPEC §10) on loaded tickets,
 * outages and sync times: one evaluator per rule type, in one table. The
 * KPI figures are kpi.c's and the calendar arithmetic calendar.c's; this
 * file only compares them with the rules. Must not read the store, talk
 * HTTP or print (see alerts.h for the decisions it implements).
 */
#define _GNU_SOURCE
#include "alerts.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "kpi.h"
#include "kpi_format.h"
#include "tz.h"
#include "utf8.h"

#define PERCENT 100.0
/* Percentages are compared with this slack, so that a figure meant to be
 * exactly at a threshold (50 % of a 1 % budget) is not lost to binary
 * rounding (1 - 0.99 is not 0.01). */
#define PCT_EPS 1e-9

typedef struct eval_ctx {
  const ib_alert_input *in;
  ib_kpi_result *kpi; /* owned; computed on first need */
  ib_calendar **cals; /* owned; one per configuration calendar, lazily */
} eval_ctx;

static const ib_kpi_result *kpi_of(eval_ctx *ev, char *err, size_t errlen) {
  if (ev->kpi != NULL) return ev->kpi;
  ib_kpi_query q = {.from = ev->in->from,
                    .to = ev->in->to,
                    .as_of = ev->in->as_of,
                    .sla = NULL,
                    .warnings = NULL};
  if (ib_kpi_compute(ev->in->cfg, ev->in->tickets, ev->in->outages, &q,
                     &ev->kpi, err, errlen) != 0)
    return NULL;
  return ev->kpi;
}

static const ib_calendar *calendar_of(eval_ctx *ev, size_t idx, char *err,
                                      size_t errlen) {
  if (ev->cals[idx] == NULL)
    ev->cals[idx] = ib_calendar_build(&ev->in->cfg->calendars[idx],
                                      ev->in->from, ev->in->to, err, errlen);
  return ev->cals[idx];
}

static int set_summary(ib_alert *a, const char *fmt, ...) IB_PRINTF(2, 3);
static int set_summary(ib_alert *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0) return -1;
  free(a->summary);
  a->summary = s;
  return 0;
}

static void add_time(cJSON *o, const char *key, ib_time t) {
  if (t == IB_TIME_NONE) {
    cJSON_AddNullToObject(o, key);
    return;
  }
  char iso[IB_ISO_LEN];
  ib_format_iso8601(t, iso);
  cJSON_AddStringToObject(o, key, iso);
}

static void add_number(cJSON *o, const char *key, double v) {
  if (isnan(v))
    cJSON_AddNullToObject(o, key);
  else
    cJSON_AddNumberToObject(o, key, round(v * 100.0) / 100.0);
}

/* ---- ticket_at_risk ---------------------------------------------------- */

/* Open time of the union of t's pauses clipped to [a, b) (a running pause
 * runs up to b); *running: a pause covers b. -1 on ENOMEM. */
static int64_t paused_before(const ib_calendar *cal, const ib_ticket_row *t,
                             ib_time a, ib_time b, int *running) {
  return ib_calendar_union_open(cal, t->pauses, t->n_pauses, a, b, running,
                                NULL);
}

typedef struct at_risk {
  const ib_ticket_row *t;
  const char *kpi;
  int64_t remaining_s;
  ib_time due_at;
} at_risk;

static int cmp_at_risk(const void *a, const void *b) {
  const at_risk *x = a, *y = b;
  if (x->remaining_s != y->remaining_s)
    return (x->remaining_s > y->remaining_s) -
           (x->remaining_s < y->remaining_s);
  return strcmp(x->t->key ? x->t->key : "", y->t->key ? y->t->key : "");
}

static int eval_ticket_at_risk(eval_ctx *ev, const ib_alert_rule_cfg *r,
                               ib_alert *a, char *err, size_t errlen) {
  const ib_kpi_result *res = kpi_of(ev, err, errlen);
  if (res == NULL) return -1;
  const ib_sla_cfg *sla = &ev->in->cfg->slas[r->sla];
  const ib_calendar *cal = calendar_of(ev, sla->calendar, err, errlen);
  if (cal == NULL) return -1;
  ib_time now = ev->in->as_of;
  at_risk *list = NULL; /* owned here */
  size_t n = 0;
  for (size_t i = 0; i < res->n_tickets; i++) {
    const ib_kpi_ticket *row = &res->tickets[i];
    if (res->slas[row->sla].cfg != sla) continue;
    const ib_ticket_row *t = row->ticket;
    if (t->created_at > now ||
        (t->resolved_at != IB_TIME_NONE && t->resolved_at <= now) ||
        (t->closed_at != IB_TIME_NONE && t->closed_at <= now))
      continue;
    const ib_target_cfg *tg = &sla->targets[row->priority];
    for (int k = 0; k < 2; k++) {
      int64_t target = k == 0 ? tg->first_response_s : tg->resolution_s;
      if (target == IB_DURATION_NONE) continue;
      int64_t elapsed = ib_calendar_open(cal, t->created_at, now);
      if (k == 0) {
        if (t->first_response_at != IB_TIME_NONE && t->first_response_at <= now)
          continue; /* answered */
      } else {
        int running;
        int64_t paused = paused_before(cal, t, t->created_at, now, &running);
        if (paused < 0) goto nomem;
        if (running) continue; /* frozen: cannot breach while paused */
        elapsed -= paused;
        if (elapsed < 0) elapsed = 0;
      }
      int64_t remaining = target - elapsed;
      if (remaining < 0 || remaining > r->duration_s) continue;
      at_risk *grown = realloc(list, (n + 1) * sizeof *grown);
      if (grown == NULL) goto nomem;
      list = grown;
      list[n++] = (at_risk){t, k == 0 ? "first_response" : "resolution",
                            remaining, ib_calendar_after(cal, now, remaining)};
    }
  }
  if (n > 1) qsort(list, n, sizeof *list, cmp_at_risk);
  for (size_t i = 0; i < n; i++) {
    cJSON *d = cJSON_CreateObject();
    if (d == NULL) goto nomem;
    cJSON_AddItemToArray(a->details, d);
    char prio[4];
    snprintf(prio, sizeof prio, "P%d", list[i].t->priority);
    cJSON_AddStringToObject(d, "sla", sla->name);
    cJSON_AddStringToObject(d, "source",
                            list[i].t->source ? list[i].t->source : "");
    cJSON_AddStringToObject(d, "id", list[i].t->id ? list[i].t->id : "");
    if (list[i].t->key)
      cJSON_AddStringToObject(d, "key", list[i].t->key);
    else
      cJSON_AddNullToObject(d, "key");
    cJSON_AddStringToObject(d, "priority", prio);
    cJSON_AddStringToObject(d, "kpi", list[i].kpi);
    cJSON_AddNumberToObject(d, "remaining_s", (double)list[i].remaining_s);
    add_time(d, "due_at", list[i].due_at);
  }
  a->firing = n > 0;
  char within[32];
  ib_kpi_format_duration((double)r->duration_s, within, sizeof within);
  if (a->firing &&
      set_summary(a,
                  "%zu ticket target%s of SLA '%s' will be breached within %s "
                  "of business time",
                  n, n > 1 ? "s" : "", sla->name, within))
    goto nomem;
  free(list);
  return 0;
nomem:
  free(list);
  snprintf(err, errlen, "out of memory evaluating rule '%s'", r->name);
  return -1;
}

/* ---- compliance_below -------------------------------------------------- */

static int eval_compliance_below(eval_ctx *ev, const ib_alert_rule_cfg *r,
                                 ib_alert *a, char *err, size_t errlen) {
  const ib_kpi_result *res = kpi_of(ev, err, errlen);
  if (res == NULL) return -1;
  const ib_sla_cfg *sla = &ev->in->cfg->slas[r->sla];
  const ib_kpi_sla *ks = NULL;
  for (size_t i = 0; i < res->n_slas; i++)
    if (res->slas[i].cfg == sla) ks = &res->slas[i];
  if (ks == NULL) return 0;
  const ib_kpi_stats *st = r->kpi == IB_ALERT_KPI_FIRST_RESPONSE
                               ? &ks->total_first_response
                               : &ks->total_resolution;
  const char *kpi =
      r->kpi == IB_ALERT_KPI_FIRST_RESPONSE ? "first_response" : "resolution";
  a->firing =
      !isnan(st->compliance_pct) && st->compliance_pct < r->pct - PCT_EPS;
  if (!a->firing) return 0;
  cJSON *d = cJSON_CreateObject();
  if (d == NULL) goto nomem;
  cJSON_AddItemToArray(a->details, d);
  cJSON_AddStringToObject(d, "sla", sla->name);
  cJSON_AddStringToObject(d, "kpi", kpi);
  add_number(d, "compliance_pct", st->compliance_pct);
  add_number(d, "below_pct", r->pct);
  cJSON_AddNumberToObject(d, "met", (double)st->met);
  cJSON_AddNumberToObject(d, "breached", (double)st->breached);
  if (set_summary(a,
                  "SLA '%s': %s compliance of the month so far is %.1f %%, "
                  "below %.1f %% (%lld met, %lld breached)",
                  sla->name, kpi, st->compliance_pct, r->pct,
                  (long long)st->met, (long long)st->breached))
    goto nomem;
  return 0;
nomem:
  snprintf(err, errlen, "out of memory evaluating rule '%s'", r->name);
  return -1;
}

/* ---- availability_budget ----------------------------------------------- */

static int eval_availability_budget(eval_ctx *ev, const ib_alert_rule_cfg *r,
                                    ib_alert *a, char *err, size_t errlen) {
  const ib_kpi_result *res = kpi_of(ev, err, errlen);
  if (res == NULL) return -1;
  if (r->service >= res->n_availability) return 0;
  const ib_kpi_availability *av = &res->availability[r->service];
  double consumed = ib_kpi_budget_consumed(av) * PERCENT;
  a->firing = !isnan(consumed) && consumed >= r->pct - PCT_EPS;
  if (!a->firing) return 0;
  double allowed =
      (1.0 - av->cfg->target_pct / PERCENT) * (double)av->period_time_s;
  double burn = ib_kpi_burn_rate(av);
  cJSON *d = cJSON_CreateObject();
  if (d == NULL) goto nomem;
  cJSON_AddItemToArray(a->details, d);
  cJSON_AddStringToObject(d, "service", av->cfg->service);
  add_number(d, "target_pct", av->cfg->target_pct);
  add_number(d, "consumed_pct", consumed);
  add_number(d, "threshold_pct", r->pct);
  add_number(d, "burn_rate", burn);
  cJSON_AddNumberToObject(d, "downtime_s", (double)av->downtime_s);
  cJSON_AddNumberToObject(d, "allowed_s", round(allowed));
  if (set_summary(a,
                  "%s has used %.1f %% of the month's downtime budget (alert "
                  "at %.1f %%), burn rate %.2f",
                  av->cfg->service, consumed, r->pct, isnan(burn) ? 0.0 : burn))
    goto nomem;
  return 0;
nomem:
  snprintf(err, errlen, "out of memory evaluating rule '%s'", r->name);
  return -1;
}

/* ---- source_stale ------------------------------------------------------ */

static int eval_source_stale(eval_ctx *ev, const ib_alert_rule_cfg *r,
                             ib_alert *a, char *err, size_t errlen) {
  const ib_config *cfg = ev->in->cfg;
  size_t n = r->n_sources ? r->n_sources : cfg->n_sources, stale = 0;
  char names[256] = "";
  for (size_t k = 0; k < n; k++) {
    size_t idx = r->n_sources ? r->sources[k] : k;
    ib_time last =
        ev->in->last_success ? ev->in->last_success[idx] : IB_TIME_NONE;
    if (last != IB_TIME_NONE && ev->in->as_of - last <= r->duration_s) continue;
    cJSON *d = cJSON_CreateObject();
    if (d == NULL) goto nomem;
    cJSON_AddItemToArray(a->details, d);
    cJSON_AddStringToObject(d, "source", cfg->sources[idx].name);
    add_time(d, "last_success", last);
    if (last == IB_TIME_NONE)
      cJSON_AddNullToObject(d, "age_s");
    else
      cJSON_AddNumberToObject(d, "age_s", (double)(ev->in->as_of - last));
    size_t used = strlen(names);
    snprintf(names + used, sizeof names - used, "%s%s", stale ? ", " : "",
             cfg->sources[idx].name);
    stale++;
  }
  ib_utf8_trim_partial(names);
  a->firing = stale > 0;
  char after[32];
  ib_kpi_format_duration((double)r->duration_s, after, sizeof after);
  if (a->firing &&
      set_summary(a,
                  "%zu source%s not synced successfully for more than %s: %s",
                  stale, stale > 1 ? "s" : "", after, names))
    goto nomem;
  return 0;
nomem:
  snprintf(err, errlen, "out of memory evaluating rule '%s'", r->name);
  return -1;
}

/* ---- late_changes ------------------------------------------------------ */

static int eval_late_changes(eval_ctx *ev, const ib_alert_rule_cfg *r,
                             ib_alert *a, char *err, size_t errlen) {
  size_t total = 0, months = 0;
  char names[256] = "";
  for (size_t m = 0; m < ev->in->n_closed; m++) {
    const ib_alert_closed_month *cm = &ev->in->closed[m];
    size_t here = 0;
    for (size_t i = 0; cm->changes != NULL && i < cm->changes->n; i++) {
      const ib_late_change *c = &cm->changes->items[i];
      if (c->detected_at < cm->closed_at) continue; /* already frozen in */
      cJSON *d = cJSON_CreateObject();
      if (d == NULL) goto nomem;
      cJSON_AddItemToArray(a->details, d);
      cJSON_AddStringToObject(d, "month", cm->month);
      cJSON_AddStringToObject(d, "edition", cm->hash);
      cJSON_AddStringToObject(d, "source", c->source);
      cJSON_AddStringToObject(d, "id", c->id);
      if (c->key)
        cJSON_AddStringToObject(d, "key", c->key);
      else
        cJSON_AddNullToObject(d, "key");
      cJSON_AddStringToObject(d, "field", c->field);
      if (c->old_value)
        cJSON_AddStringToObject(d, "old", c->old_value);
      else
        cJSON_AddNullToObject(d, "old");
      if (c->new_value)
        cJSON_AddStringToObject(d, "new", c->new_value);
      else
        cJSON_AddNullToObject(d, "new");
      cJSON_AddStringToObject(d, "category",
                              ib_late_category_name(c->category));
      add_time(d, "detected_at", c->detected_at);
      here++;
    }
    if (here == 0) continue;
    size_t used = strlen(names);
    snprintf(names + used, sizeof names - used, "%s%s", months ? ", " : "",
             cm->month);
    months++;
    total += here;
  }
  ib_utf8_trim_partial(names);
  a->firing = total > 0;
  if (a->firing &&
      set_summary(a,
                  "%zu change%s recorded since closing %s: the signed "
                  "figures may no longer hold (itsm-bridge verify --month)",
                  total, total > 1 ? "s" : "", names))
    goto nomem;
  return 0;
nomem:
  snprintf(err, errlen, "out of memory evaluating rule '%s'", r->name);
  return -1;
}

/* ---- the table and the entry point -------------------------------------- */

typedef int (*evaluator)(eval_ctx *ev, const ib_alert_rule_cfg *r, ib_alert *a,
                         char *err, size_t errlen);

/* One row per ib_alert_type (config.c's rule_types declares the keys). */
static const evaluator evaluators[IB_ALERT_TYPE_COUNT] = {
    [IB_ALERT_TICKET_AT_RISK] = eval_ticket_at_risk,
    [IB_ALERT_COMPLIANCE_BELOW] = eval_compliance_below,
    [IB_ALERT_AVAILABILITY_BUDGET] = eval_availability_budget,
    [IB_ALERT_SOURCE_STALE] = eval_source_stale,
    [IB_ALERT_LATE_CHANGES] = eval_late_changes,
};

int ib_alerts_evaluate(const ib_alert_input *in, ib_alert_set *out, char *err,
                       size_t errlen) {
  const ib_alerts_cfg *al = &in->cfg->alerts;
  eval_ctx ev = {.in = in};
  int rc = -1;
  out->items = calloc(al->n_rules + 1, sizeof *out->items);
  out->n = 0;
  ev.cals = calloc(in->cfg->n_calendars + 1, sizeof *ev.cals);
  if (out->items == NULL || ev.cals == NULL) {
    snprintf(err, errlen, "out of memory evaluating alerts");
    goto done;
  }
  for (size_t i = 0; i < al->n_rules; i++) {
    ib_alert *a = &out->items[out->n++];
    a->rule = &al->rules[i];
    a->summary = strdup("");
    a->details = cJSON_CreateArray();
    if (a->summary == NULL || a->details == NULL) {
      snprintf(err, errlen, "out of memory evaluating alerts");
      goto done;
    }
    evaluator fn = (unsigned)a->rule->type < IB_ALERT_TYPE_COUNT
                       ? evaluators[a->rule->type]
                       : NULL;
    if (fn == NULL) {
      snprintf(err, errlen, "rule '%s': no evaluator for its type",
               a->rule->name);
      goto done;
    }
    if (fn(&ev, a->rule, a, err, errlen) != 0) goto done;
  }
  rc = 0;
done:
  if (rc != 0) ib_alert_set_free(out);
  ib_kpi_result_free(ev.kpi);
  for (size_t k = 0; ev.cals != NULL && k < in->cfg->n_calendars; k++)
    ib_calendar_free(ev.cals[k]);
  free(ev.cals);
  return rc;
}

void ib_alert_set_free(ib_alert_set *set) {
  if (set == NULL) return;
  for (size_t i = 0; i < set->n; i++) {
    free(set->items[i].summary);
    cJSON_Delete(set->items[i].details);
  }
  free(set->items);
  set->items = NULL;
  set->n = 0;
}

static const char *str_of(const cJSON *d, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *d, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, key);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void detail_line(ib_alert_type type, const cJSON *d, char *buf,
                        size_t len) {
  char dur[32];
  const char *s;
  switch (type) {
    case IB_ALERT_TICKET_AT_RISK:
      ib_kpi_format_duration(num_of(d, "remaining_s"), dur, sizeof dur);
      s = str_of(d, "key");
      snprintf(buf, len, "%s (%s) %s %s: %s left, due %s",
               s ? s : (str_of(d, "id") ? str_of(d, "id") : "?"),
               str_of(d, "source") ? str_of(d, "source") : "?",
               str_of(d, "priority") ? str_of(d, "priority") : "?",
               str_of(d, "kpi") ? str_of(d, "kpi") : "?", dur,
               str_of(d, "due_at") ? str_of(d, "due_at") : "-");
      return;
    case IB_ALERT_COMPLIANCE_BELOW:
      snprintf(buf, len, "SLA %s %s: %.1f %% (floor %.1f %%)",
               str_of(d, "sla") ? str_of(d, "sla") : "?",
               str_of(d, "kpi") ? str_of(d, "kpi") : "?",
               num_of(d, "compliance_pct"), num_of(d, "below_pct"));
      return;
    case IB_ALERT_AVAILABILITY_BUDGET:
      ib_kpi_format_duration(num_of(d, "downtime_s"), dur, sizeof dur);
      snprintf(buf, len,
               "%s: %.1f %% of the budget used (%s down), burn rate %.2f",
               str_of(d, "service") ? str_of(d, "service") : "?",
               num_of(d, "consumed_pct"), dur, num_of(d, "burn_rate"));
      return;
    case IB_ALERT_SOURCE_STALE:
      snprintf(buf, len, "%s: last successful sync %s",
               str_of(d, "source") ? str_of(d, "source") : "?",
               str_of(d, "last_success") ? str_of(d, "last_success") : "never");
      return;
    case IB_ALERT_LATE_CHANGES:
      s = str_of(d, "key");
      snprintf(buf, len, "%s %s (%s) %s %s -> %s (%s), detected %s",
               str_of(d, "month") ? str_of(d, "month") : "?",
               s ? s : (str_of(d, "id") ? str_of(d, "id") : "?"),
               str_of(d, "source") ? str_of(d, "source") : "?",
               str_of(d, "field") ? str_of(d, "field") : "?",
               str_of(d, "old") ? str_of(d, "old") : "-",
               str_of(d, "new") ? str_of(d, "new") : "-",
               str_of(d, "category") ? str_of(d, "category") : "?",
               str_of(d, "detected_at") ? str_of(d, "detected_at") : "?");
      return;
    default: snprintf(buf, len, "-"); return;
  }
}

void ib_alert_detail_line(ib_alert_type type, const cJSON *d, char *buf,
                          size_t len) {
  if (len == 0) return;
  detail_line(type, d, buf, len);
  ib_utf8_trim_partial(buf); /* a key or name cut at the buffer's end */
}
