/*
 * kpi.c -- the KPI engine: SPEC §6 computed over tickets and outages that
 * the caller loaded. Must not read the store, parse options or format
 * output; calendar arithmetic is calendar.c's.
 */
#include "kpi.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "tz.h"

/* Nearest-rank percentile used for p90, as a fraction num/den. */
#define P90_NUM 9
#define P90_DEN 10
#define PERCENT 100.0

const char *ib_kpi_verdict_name(ib_kpi_verdict v) {
  switch (v) {
    case IB_KPI_MET: return "met";
    case IB_KPI_BREACHED: return "breached";
    case IB_KPI_PENDING: return "pending";
    default: return "";
  }
}

const char *ib_kpi_reason_name(ib_kpi_reason r) {
  switch (r) {
    case IB_KPI_REASON_PAUSES: return "pauses";
    case IB_KPI_REASON_CALENDAR: return "calendar";
    case IB_KPI_REASON_PRIORITY_CHANGED: return "priority_changed";
    case IB_KPI_REASON_RESPONSE_FROM_RESOLUTION:
      return "response_from_resolution";
    case IB_KPI_REASON_UNEXPLAINED: return "unexplained";
    default: return "";
  }
}

double ib_kpi_budget_consumed(const ib_kpi_availability *a) {
  double allowed =
      (1.0 - a->cfg->target_pct / PERCENT) * (double)a->period_time_s;
  if (!(allowed > 0.0)) return NAN;
  return (double)a->downtime_s / allowed;
}

double ib_kpi_burn_rate(const ib_kpi_availability *a) {
  double consumed = ib_kpi_budget_consumed(a);
  if (isnan(consumed) || a->service_time_s <= 0) return NAN;
  return consumed / ((double)a->service_time_s / (double)a->period_time_s);
}

/* ---- small growable arrays -------------------------------------------- */

typedef struct dur_vec {
  int64_t *v; /* owned */
  size_t n, cap;
} dur_vec;

static int dur_push(dur_vec *d, int64_t x) {
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 64;
    int64_t *v = realloc(d->v, cap * sizeof *v);
    if (v == NULL) return -1;
    d->v = v;
    d->cap = cap;
  }
  d->v[d->n++] = x;
  return 0;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int cmp_interval(const void *a, const void *b) {
  const ib_interval *x = a, *y = b;
  return (x->start > y->start) - (x->start < y->start);
}

/* Fills mean/median/p90 from durations (sorted in place) and compliance
 * from the counts; NAN for what is undefined. */
static void finish_stats(ib_kpi_stats *s, dur_vec *d) {
  s->compliance_pct =
      s->met + s->breached > 0
          ? PERCENT * (double)s->met / (double)(s->met + s->breached)
          : NAN;
  s->mean_s = s->median_s = s->p90_s = NAN;
  if (d->n == 0) return;
  qsort(d->v, d->n, sizeof *d->v, cmp_i64);
  double sum = 0;
  for (size_t i = 0; i < d->n; i++) sum += (double)d->v[i];
  s->mean_s = sum / (double)d->n;
  s->median_s =
      d->n % 2 ? (double)d->v[d->n / 2]
               : ((double)d->v[d->n / 2 - 1] + (double)d->v[d->n / 2]) / 2.0;
  size_t rank = (P90_NUM * d->n + P90_DEN - 1) / P90_DEN; /* ceil, >= 1 */
  s->p90_s = (double)d->v[rank - 1];
}

static void add_counts(ib_kpi_stats *total, const ib_kpi_stats *s) {
  total->tickets += s->tickets;
  total->met += s->met;
  total->breached += s->breached;
  total->pending += s->pending;
  total->open_breached += s->open_breached;
  total->reported_disagreements += s->reported_disagreements;
}

/* ---- per-ticket helpers ----------------------------------------------- */

typedef struct engine {
  const ib_config *cfg;
  const ib_ticket_set *tickets;
  const ib_kpi_query *q;
  ib_time from, to, end;
  ib_time lo, hi;     /* span the calendars are built for */
  ib_calendar **cals; /* owned array; built lazily, one per config calendar */
  unsigned char *warned; /* owned; one flag per ticket */
  size_t n_impossible;   /* tickets flagged in warned[] */
  ib_kpi_ticket *rows;   /* owned until handed to the result */
  size_t n_rows, cap_rows;
} engine;

static const ib_calendar *calendar_at(engine *en, size_t idx, char *err,
                                      size_t errlen) {
  if (idx >= en->cfg->n_calendars) {
    snprintf(err, errlen, "calendar index %zu out of range", idx);
    return NULL;
  }
  if (en->cals[idx] == NULL)
    en->cals[idx] = ib_calendar_build(&en->cfg->calendars[idx], en->lo, en->hi,
                                      err, errlen);
  return en->cals[idx];
}

static int pause_reversed(const ib_interval *p) {
  return p->start != IB_TIME_NONE && p->end != IB_TIME_NONE &&
         p->end < p->start;
}

/* Ticket i has an impossible time that a figure measures: counts it once
 * and writes one line naming every impossible instant of the record, so
 * that the provider can be asked to fix them all at once. */
static void note_impossible(engine *en, size_t i) {
  if (en->warned[i]) return;
  en->warned[i] = 1;
  en->n_impossible++;
  FILE *w = en->q->warnings;
  if (w == NULL) return;
  const ib_ticket_row *t = &en->tickets->rows[i];
  char created[IB_ISO_LEN], when[IB_ISO_LEN];
  ib_format_iso8601(t->created_at, created);
  fprintf(w, "warning: ticket %s (source %s) created %s:",
          t->key ? t->key : (t->id ? t->id : "?"), t->source ? t->source : "?",
          created);
  const char *sep = " ";
  if (t->first_response_at != IB_TIME_NONE &&
      t->first_response_at < t->created_at) {
    ib_format_iso8601(t->first_response_at, when);
    fprintf(w, "%sfirst response %s is before its creation", sep, when);
    sep = ", ";
  }
  if (t->resolved_at != IB_TIME_NONE && t->resolved_at < t->created_at) {
    ib_format_iso8601(t->resolved_at, when);
    fprintf(w, "%sresolved %s, before its creation", sep, when);
    sep = ", ";
  }
  size_t reversed = 0;
  for (size_t k = 0; k < t->n_pauses; k++)
    reversed += pause_reversed(&t->pauses[k]);
  if (reversed > 0)
    fprintf(w, "%s%zu pause%s ending before %s start", sep, reversed,
            reversed > 1 ? "s" : "", reversed > 1 ? "their" : "its");
  fprintf(w, "; such spans count as 0 s (fix the record in the source tool)\n");
}

/* Open time of the union of the ticket's pauses clipped to [a, b); a
 * running pause runs up to b; cal NULL reads 24x7 (calendar.h); a pause
 * ending before it starts is noted. Returns -1 on ENOMEM. */
static int64_t paused_open(engine *en, size_t i, const ib_calendar *cal,
                           ib_time a, ib_time b) {
  const ib_ticket_row *t = &en->tickets->rows[i];
  if (t->n_pauses == 0 || b <= a) return 0;
  int reversed = 0;
  int64_t total = ib_calendar_union_open(cal, t->pauses, t->n_pauses, a, b,
                                         NULL, &reversed);
  if (reversed) note_impossible(en, i);
  return total;
}

static int in_scope(const ib_sla_cfg *sla, const ib_ticket_row *t) {
  if (t->status == IB_STATE_CANCELLED || t->deleted_at != IB_TIME_NONE ||
      t->created_at == IB_TIME_NONE)
    return 0;
  if (t->priority < 1 || t->priority > IB_PRIORITY_MAX ||
      !sla->targets[t->priority].present)
    return 0;
  if (!(sla->kinds_mask & (1u << t->kind))) return 0;
  if (sla->n_sources == 0) return 1;
  for (size_t k = 0; k < sla->n_sources; k++)
    if (t->source != NULL && strcmp(sla->sources[k], t->source) == 0) return 1;
  return 0;
}

static void judge(ib_kpi_measure *m, int64_t measured) {
  m->measured_s = measured;
  m->verdict = measured <= m->target_s ? IB_KPI_MET : IB_KPI_BREACHED;
  m->over_s = m->verdict == IB_KPI_BREACHED ? measured - m->target_s : 0;
}

static void compare_reported(ib_kpi_measure *m, ib_verdict reported) {
  m->reported = reported;
  if (reported == IB_VERDICT_UNKNOWN ||
      (m->verdict != IB_KPI_MET && m->verdict != IB_KPI_BREACHED))
    return;
  m->disagrees =
      (reported == IB_VERDICT_BREACHED) != (m->verdict == IB_KPI_BREACHED);
}

/* Open time of [a, b) under cal (NULL: 24x7), minus the pauses when
 * `with_pauses`, never below 0. -1 on ENOMEM. */
static int64_t span_time(engine *en, size_t i, const ib_calendar *cal,
                         ib_time a, ib_time b, int with_pauses) {
  int64_t d = ib_calendar_open(cal, a, b);
  if (with_pauses) {
    int64_t paused = paused_open(en, i, cal, a, b);
    if (paused < 0) return -1;
    d -= paused;
  }
  return d > 0 ? d : 0;
}

static ib_kpi_verdict verdict_of(int64_t measured, int64_t target) {
  return measured <= target ? IB_KPI_MET : IB_KPI_BREACHED;
}

/* At most this many earlier priorities are read per ticket (there are
 * only five priorities; a longer answer is cut). */
#define EARLIER_MAX 16

/* Sets m->reason for a measure that disagrees with the provider: the first
 * alternative reading (ib_kpi_reason, in order) under which our verdict
 * equals theirs. `is_resolution` says which KPI m is. -1 on ENOMEM. */
static int explain(engine *en, size_t i, const ib_sla_cfg *sla,
                   const ib_calendar *cal, int is_resolution,
                   ib_kpi_measure *m) {
  if (!m->disagrees) return 0;
  const ib_ticket_row *t = &en->tickets->rows[i];
  ib_kpi_verdict theirs =
      m->reported == IB_VERDICT_BREACHED ? IB_KPI_BREACHED : IB_KPI_MET;
  ib_time a = t->created_at, b;
  if (is_resolution)
    b = t->resolved_at;
  else
    b = t->first_response_at != IB_TIME_NONE ? t->first_response_at
        : t->resolved_at != IB_TIME_NONE     ? t->resolved_at
                                             : en->end;
  /* Ours subtracts the pauses for resolution only; the other way round. */
  int64_t d = span_time(en, i, cal, a, b, !is_resolution);
  if (d < 0) return -1;
  if (verdict_of(d, m->target_s) == theirs) {
    m->reason = IB_KPI_REASON_PAUSES;
    return 0;
  }
  d = span_time(en, i, NULL, a, b, is_resolution);
  if (d < 0) return -1;
  if (verdict_of(d, m->target_s) == theirs) {
    m->reason = IB_KPI_REASON_CALENDAR;
    return 0;
  }
  if (en->q->earlier_priorities != NULL) {
    int prev[EARLIER_MAX];
    size_t n =
        en->q->earlier_priorities(en->q->earlier_ctx, t, prev, EARLIER_MAX);
    if (n > EARLIER_MAX) n = EARLIER_MAX;
    for (size_t k = 0; k < n; k++) {
      int p = prev[k];
      if (p < 1 || p > IB_PRIORITY_MAX || p == t->priority ||
          !sla->targets[p].present)
        continue;
      int64_t target = is_resolution ? sla->targets[p].resolution_s
                                     : sla->targets[p].first_response_s;
      if (target != IB_DURATION_NONE &&
          verdict_of(m->measured_s, target) == theirs) {
        m->reason = IB_KPI_REASON_PRIORITY_CHANGED;
        return 0;
      }
    }
  }
  if (!is_resolution && t->first_response_at == IB_TIME_NONE &&
      t->resolved_at != IB_TIME_NONE && theirs == IB_KPI_BREACHED &&
      ib_calendar_open(cal, a, en->end) > m->target_s) {
    m->reason = IB_KPI_REASON_RESPONSE_FROM_RESOLUTION;
    return 0;
  }
  m->reason = IB_KPI_REASON_UNEXPLAINED;
  return 0;
}

static void count_verdict(ib_kpi_stats *s, const ib_kpi_measure *m) {
  if (m->verdict == IB_KPI_NONE) return;
  s->tickets++;
  if (m->verdict == IB_KPI_MET) s->met++;
  if (m->verdict == IB_KPI_BREACHED) s->breached++;
  if (m->verdict == IB_KPI_PENDING) s->pending++;
  s->reported_disagreements += m->disagrees;
}

static int push_row(engine *en, const ib_kpi_ticket *row) {
  if (en->n_rows == en->cap_rows) {
    size_t cap = en->cap_rows ? en->cap_rows * 2 : 256;
    ib_kpi_ticket *v = realloc(en->rows, cap * sizeof *v);
    if (v == NULL) return -1;
    en->rows = v;
    en->cap_rows = cap;
  }
  en->rows[en->n_rows++] = *row;
  return 0;
}

/* Measures ticket i under SLA `sla`; fills *row. -1 on ENOMEM. */
static int measure_ticket(engine *en, size_t i, const ib_sla_cfg *sla,
                          const ib_calendar *cal, ib_kpi_ticket *row) {
  const ib_ticket_row *t = &en->tickets->rows[i];
  const ib_target_cfg *target = &sla->targets[t->priority];
  ib_time created = t->created_at;
  ib_kpi_measure *fr = &row->first_response, *res = &row->resolution;
  fr->target_s = target->first_response_s;
  res->target_s = target->resolution_s;
  fr->measured_s = res->measured_s = -1;
  row->open_s = -1;
  fr->reported = res->reported = IB_VERDICT_UNKNOWN;

  if (created >= en->from && created < en->to &&
      fr->target_s != IB_DURATION_NONE) {
    ib_time r = t->first_response_at != IB_TIME_NONE ? t->first_response_at
                                                     : t->resolved_at;
    if (r != IB_TIME_NONE) {
      /* A response "before" the creation (a clock or import error) is
       * kept in the cohort, measured as 0 s (open() of a reversed span)
       * and reported, never dropped. */
      if (r < created) {
        fr->impossible = 1;
        note_impossible(en, i);
      }
      judge(fr, ib_calendar_open(cal, created, r));
    } else {
      int64_t so_far = ib_calendar_open(cal, created, en->end);
      judge(fr, so_far);
      if (fr->verdict == IB_KPI_MET) fr->verdict = IB_KPI_PENDING;
    }
    compare_reported(fr, t->reported_response_breached);
    if (explain(en, i, sla, cal, 0, fr) != 0) return -1;
  }

  ib_time resolved = t->resolved_at;
  if (resolved != IB_TIME_NONE && resolved >= en->from && resolved < en->to &&
      res->target_s != IB_DURATION_NONE) {
    if (resolved < created) { /* kept, as 0 s: see the response above */
      res->impossible = 1;
      note_impossible(en, i);
    }
    int64_t paused = paused_open(en, i, cal, created, resolved);
    if (paused < 0) return -1;
    int64_t d = ib_calendar_open(cal, created, resolved) - paused;
    judge(res, d > 0 ? d : 0);
    compare_reported(res, t->reported_resolution_breached);
    if (explain(en, i, sla, cal, 1, res) != 0) return -1;
  }

  int open_at_end =
      created < en->end && (resolved == IB_TIME_NONE || resolved >= en->end);
  if (open_at_end && res->target_s != IB_DURATION_NONE) {
    int64_t paused = paused_open(en, i, cal, created, en->end);
    if (paused < 0) return -1;
    row->open_s = ib_calendar_open(cal, created, en->end) - paused;
    row->open_breached = row->open_s > res->target_s;
  }
  return 0;
}

/* Computes one SLA into *out and appends its per-ticket rows. */
static int compute_sla(engine *en, const ib_sla_cfg *sla, size_t sla_idx,
                       ib_kpi_sla *out, char *err, size_t errlen) {
  const ib_calendar *cal = calendar_at(en, sla->calendar, err, errlen);
  if (cal == NULL) return -1;
  dur_vec fr_d[IB_PRIORITY_MAX + 1], res_d[IB_PRIORITY_MAX + 1];
  dur_vec fr_all = {0}, res_all = {0}; /* owned here: pooled totals */
  ib_kpi_stats fr_s[IB_PRIORITY_MAX + 1], res_s[IB_PRIORITY_MAX + 1];
  memset(fr_d, 0, sizeof fr_d);
  memset(res_d, 0, sizeof res_d);
  memset(fr_s, 0, sizeof fr_s);
  memset(res_s, 0, sizeof res_s);
  int rc = -1;

  out->cfg = sla;
  out->calendar = en->cfg->calendars[sla->calendar].name;
  for (size_t i = 0; i < en->tickets->n; i++) {
    const ib_ticket_row *t = &en->tickets->rows[i];
    if (!in_scope(sla, t)) continue;
    ib_kpi_ticket row;
    memset(&row, 0, sizeof row);
    row.ticket = t;
    row.sla = sla_idx;
    row.priority = t->priority;
    if (measure_ticket(en, i, sla, cal, &row) != 0) goto nomem;
    int p = t->priority;
    const ib_kpi_measure *fr = &row.first_response, *res = &row.resolution;
    count_verdict(&fr_s[p], fr);
    count_verdict(&res_s[p], res);
    res_s[p].open_breached += row.open_breached;
    if (fr->verdict == IB_KPI_MET || fr->verdict == IB_KPI_BREACHED)
      if (dur_push(&fr_d[p], fr->measured_s) ||
          dur_push(&fr_all, fr->measured_s))
        goto nomem;
    if (res->verdict != IB_KPI_NONE)
      if (dur_push(&res_d[p], res->measured_s) ||
          dur_push(&res_all, res->measured_s))
        goto nomem;
    int open_at_end =
        t->created_at < en->end &&
        (t->resolved_at == IB_TIME_NONE || t->resolved_at >= en->end);
    if (!en->q->summary_only && (fr->verdict != IB_KPI_NONE ||
                                 res->verdict != IB_KPI_NONE || open_at_end))
      if (push_row(en, &row) != 0) goto nomem;
  }

  ib_kpi_stats *tf = &out->total_first_response, *tr = &out->total_resolution;
  memset(tf, 0, sizeof *tf);
  memset(tr, 0, sizeof *tr);
  tf->target_s = tr->target_s = IB_DURATION_NONE;
  for (int p = 1; p <= IB_PRIORITY_MAX; p++) {
    if (!sla->targets[p].present) continue;
    ib_kpi_priority *bp = &out->by_priority[out->n_priorities++];
    bp->priority = p;
    fr_s[p].target_s = sla->targets[p].first_response_s;
    res_s[p].target_s = sla->targets[p].resolution_s;
    finish_stats(&fr_s[p], &fr_d[p]);
    finish_stats(&res_s[p], &res_d[p]);
    bp->first_response = fr_s[p];
    bp->resolution = res_s[p];
    add_counts(tf, &fr_s[p]);
    add_counts(tr, &res_s[p]);
  }
  finish_stats(tf, &fr_all);
  finish_stats(tr, &res_all);

  const ib_penalty_cfg *pen = &sla->penalty;
  out->has_penalty = pen->present;
  out->credit_pct = out->credit = NAN;
  if (pen->present) {
    double pct = pen->per_response_breach_pct * (double)tf->breached +
                 pen->per_resolution_breach_pct * (double)tr->breached;
    out->credit_pct = pct < pen->cap_pct ? pct : pen->cap_pct;
    out->credit = pen->monthly_fee * out->credit_pct / PERCENT;
  }
  rc = 0;
  goto done;
nomem:
  snprintf(err, errlen, "out of memory computing SLA '%s'", sla->name);
done:
  for (int p = 0; p <= IB_PRIORITY_MAX; p++) {
    free(fr_d[p].v);
    free(res_d[p].v);
  }
  free(fr_all.v);
  free(res_all.v);
  return rc;
}

/* ---- availability ------------------------------------------------------ */

typedef struct iv_vec {
  ib_interval *v; /* owned */
  size_t n, cap;
} iv_vec;

/* Clips [s, e) (e NONE = ongoing, up to end) to [from, end) and keeps it
 * when it overlaps. */
static int add_down(iv_vec *ivs, ib_time s, ib_time e, ib_time from,
                    ib_time end) {
  if (s == IB_TIME_NONE) return 0;
  if (e == IB_TIME_NONE) e = end;
  if (s < from) s = from;
  if (e > end) e = end;
  if (e <= s) return 0;
  if (ivs->n == ivs->cap) {
    size_t cap = ivs->cap ? ivs->cap * 2 : 32;
    ib_interval *v = realloc(ivs->v, cap * sizeof *v);
    if (v == NULL) return -1;
    ivs->v = v;
    ivs->cap = cap;
  }
  ivs->v[ivs->n++] = (ib_interval){s, e};
  return 0;
}

static int compute_availability(engine *en, const ib_outage_set *outages,
                                const ib_availability_cfg *av,
                                ib_kpi_availability *out, char *err,
                                size_t errlen) {
  const ib_calendar *cal = calendar_at(en, av->calendar, err, errlen);
  if (cal == NULL) return -1;
  iv_vec ivs = {0}; /* owned here */
  out->cfg = av;
  out->calendar = en->cfg->calendars[av->calendar].name;
  for (size_t i = 0; outages != NULL && i < outages->n; i++) {
    const ib_outage_row *o = &outages->rows[i];
    if (o->service == NULL || strcmp(o->service, av->service) != 0 ||
        o->deleted_at != IB_TIME_NONE || o->kind == IB_OUTAGE_PLANNED ||
        (o->kind == IB_OUTAGE_DEGRADATION && !av->count_degradation))
      continue;
    if (add_down(&ivs, o->start, o->end, en->from, en->end) != 0) goto nomem;
  }
  for (size_t i = 0; av->from_tickets && i < en->tickets->n; i++) {
    const ib_ticket_row *t = &en->tickets->rows[i];
    if (t->service == NULL || strcmp(t->service, av->service) != 0 ||
        t->status == IB_STATE_CANCELLED || t->deleted_at != IB_TIME_NONE ||
        !(av->ft_kinds_mask & (1u << t->kind)) || t->priority < 1 ||
        t->priority > IB_PRIORITY_MAX ||
        !(av->ft_priorities_mask & (1u << t->priority)))
      continue;
    /* Resolved "before" it was created: an empty span, no downtime; it is
     * reported when it touches the period like any impossible time. */
    if (t->resolved_at != IB_TIME_NONE && t->resolved_at < t->created_at &&
        t->resolved_at < en->end && t->created_at >= en->from)
      note_impossible(en, i);
    if (add_down(&ivs, t->created_at, t->resolved_at, en->from, en->end))
      goto nomem;
  }
  out->outages = (int64_t)ivs.n;
  if (ivs.n > 1) qsort(ivs.v, ivs.n, sizeof *ivs.v, cmp_interval);
  ib_time cur_s = 0, cur_e = 0;
  for (size_t i = 0; i < ivs.n; i++) {
    if (i > 0 && ivs.v[i].start <= cur_e) {
      if (ivs.v[i].end > cur_e) cur_e = ivs.v[i].end;
      continue;
    }
    if (i > 0) out->downtime_s += ib_calendar_open(cal, cur_s, cur_e);
    cur_s = ivs.v[i].start;
    cur_e = ivs.v[i].end;
  }
  if (ivs.n > 0) out->downtime_s += ib_calendar_open(cal, cur_s, cur_e);
  /* The period so far: a month still running is measured over its elapsed
   * part, not against a whole month of service it has not had yet. With
   * as_of before from that is 0 s and availability_pct is null. */
  out->service_time_s = ib_calendar_open(cal, en->from, en->end);
  out->period_time_s = ib_calendar_open(cal, en->from, en->to);
  out->availability_pct =
      out->service_time_s > 0
          ? PERCENT *
                (1.0 - (double)out->downtime_s / (double)out->service_time_s)
          : NAN;
  out->breached =
      !isnan(out->availability_pct) && out->availability_pct < av->target_pct;
  out->credit = NAN;
  if (av->has_credit)
    out->credit = out->breached ? av->monthly_fee * (double)out->downtime_s /
                                      (double)out->service_time_s
                                : 0.0;
  free(ivs.v);
  return 0;
nomem:
  snprintf(err, errlen, "out of memory computing availability of '%s'",
           av->service);
  free(ivs.v);
  return -1;
}

/* ---- the whole computation -------------------------------------------- */

/* Instants further than this from the period (bad data such as a year
 * 2099 typo) are left out of the precomputed calendar span; the calendar
 * still answers for them, by walking days. A technical bound only. */
#define SPAN_MARGIN_S ((ib_time)5 * 366 * 86400)

static void widen(const engine *en, ib_time *lo, ib_time *hi, ib_time t) {
  if (t == IB_TIME_NONE || t < en->from - SPAN_MARGIN_S ||
      t > en->to + SPAN_MARGIN_S)
    return;
  if (t < *lo) *lo = t;
  if (t > *hi) *hi = t;
}

/* The smallest and largest instants the open() calls will see. Outage
 * intervals are clipped to [from, end), inside this span already. */
static void find_span(engine *en) {
  en->lo = en->from;
  en->hi = en->to > en->end ? en->to : en->end;
  for (size_t i = 0; i < en->tickets->n; i++) {
    const ib_ticket_row *t = &en->tickets->rows[i];
    widen(en, &en->lo, &en->hi, t->created_at);
    widen(en, &en->lo, &en->hi, t->first_response_at);
    widen(en, &en->lo, &en->hi, t->resolved_at);
    for (size_t k = 0; k < t->n_pauses; k++) {
      widen(en, &en->lo, &en->hi, t->pauses[k].start);
      widen(en, &en->lo, &en->hi, t->pauses[k].end);
    }
  }
}

ib_time ib_kpi_load_from(const ib_kpi_query *q) {
  ib_time as_of = q->as_of != IB_TIME_NONE ? q->as_of : (ib_time)time(NULL);
  return as_of < q->from ? as_of : q->from;
}

int ib_kpi_compute(const ib_config *cfg, const ib_ticket_set *tickets,
                   const ib_outage_set *outages, const ib_kpi_query *q,
                   ib_kpi_result **out, char *err, size_t errlen) {
  static const ib_ticket_set no_tickets = {0};
  engine en;
  memset(&en, 0, sizeof en);
  ib_kpi_result *res = calloc(1, sizeof *res); /* handed to *out */
  *out = NULL;
  if (res == NULL) goto nomem;
  en.cfg = cfg;
  en.tickets = tickets != NULL ? tickets : &no_tickets;
  en.q = q;
  en.from = q->from;
  en.to = q->to;
  res->as_of = q->as_of != IB_TIME_NONE ? q->as_of : (ib_time)time(NULL);
  en.end = res->as_of < en.to ? res->as_of : en.to;
  res->from = en.from;
  res->to = en.to;
  res->end = en.end;

  size_t first = 0, count = cfg->n_slas;
  if (q->sla != NULL) {
    for (first = 0; first < cfg->n_slas; first++)
      if (strcmp(cfg->slas[first].name, q->sla) == 0) break;
    if (first == cfg->n_slas) {
      snprintf(err, errlen, "%s: no SLA named '%s' (see slas = ( ... ))",
               cfg->file ? cfg->file : "config", q->sla);
      goto fail;
    }
    count = 1;
  }
  find_span(&en);
  en.cals = calloc(cfg->n_calendars + 1, sizeof *en.cals);
  en.warned = calloc(en.tickets->n + 1, 1);
  res->slas = calloc(count + 1, sizeof *res->slas);
  res->availability =
      calloc(cfg->n_availability + 1, sizeof *res->availability);
  if (!en.cals || !en.warned || !res->slas || !res->availability) goto nomem;

  for (size_t k = 0; k < count; k++) {
    if (compute_sla(&en, &cfg->slas[first + k], k, &res->slas[k], err,
                    errlen) != 0)
      goto fail;
    res->n_slas++;
  }
  for (size_t k = 0; k < cfg->n_availability; k++) {
    if (compute_availability(&en, outages, &cfg->availability[k],
                             &res->availability[k], err, errlen) != 0)
      goto fail;
    res->n_availability++;
  }
  res->tickets = en.rows;
  res->n_tickets = en.n_rows;
  res->n_impossible = en.n_impossible;
  en.rows = NULL;
  *out = res;
  res = NULL;
  goto done;

nomem:
  snprintf(err, errlen, "out of memory computing KPIs");
fail:
  ib_kpi_result_free(res);
done:
  for (size_t k = 0; en.cals != NULL && k < cfg->n_calendars; k++)
    ib_calendar_free(en.cals[k]);
  free(en.cals);
  free(en.warned);
  free(en.rows);
  return *out != NULL ? 0 : -1;
}

void ib_kpi_result_free(ib_kpi_result *res) {
  if (res == NULL) return;
  free(res->slas);
  free(res->availability);
  free(res->tickets);
  free(res);
}
