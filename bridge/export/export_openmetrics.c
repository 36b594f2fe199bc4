/*
 * export_openmetrics.c -- KPIs as an OpenMetrics text exposition for the
 * Prometheus node-exporter textfile collector: gauges with HELP/TYPE lines,
 * labels sla/priority/kpi/service/source, "# EOF" last, the file replaced
 * atomically. Percentages are written as ratios (0..1), durations in
 * seconds, and a family named *_seconds or *_ratio says so in a UNIT line.
 * Each availability entry also gets its error budget, named after Sloth's
 * recording rules (slo:objective:ratio, slo:error_budget:ratio,
 * slo:period_error_budget_remaining:ratio, burn rate) under our prefix.
 * Late changes are counted per category, every category written. A null
 * figure (empty cohort, undefined budget) is left out rather than written
 * as NaN. Must not compute KPIs (the budget formulas are kpi.h's) nor
 * write secrets.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "export.h"
#include "export_file.h"
#include "export_rows.h"

#define PREFIX "itsm_bridge_"
#define RATIO_DECIMALS 6
#define SECONDS_DECIMALS 3
#define MONEY_DECIMALS 2

static void put_label_value(FILE *out, const char *s) {
  fputc('"', out);
  for (; s && *s; s++) {
    if (*s == '\\' || *s == '"') fputc('\\', out);
    if (*s == '\n') {
      fputs("\\n", out);
      continue;
    }
    fputc(*s, out);
  }
  fputc('"', out);
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

/* HELP and TYPE, and UNIT for the base units the name ends with
 * (OpenMetrics: a family with a UNIT must carry it as its suffix). */
static void family(FILE *out, const char *name, const char *help) {
  fprintf(out, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s gauge\n", name,
          help, name);
  if (ends_with(name, "_seconds"))
    fprintf(out, "# UNIT " PREFIX "%s seconds\n", name);
  else if (ends_with(name, "_ratio"))
    fprintf(out, "# UNIT " PREFIX "%s ratio\n", name);
}

/* One sample. labels: NULL-terminated name/value pairs. NAN: skipped. */
static void sample(FILE *out, const char *name, const char *const *labels,
                   double v, int decimals) {
  if (isnan(v)) return;
  fprintf(out, PREFIX "%s", name);
  if (labels != NULL && labels[0] != NULL) {
    fputc('{', out);
    for (size_t k = 0; labels[k] != NULL; k += 2) {
      if (k) fputc(',', out);
      fprintf(out, "%s=", labels[k]);
      put_label_value(out, labels[k + 1]);
    }
    fputc('}', out);
  }
  char buf[64];
  ib_export_format_num(v, decimals, buf, sizeof buf);
  fprintf(out, " %s\n", buf);
}

static const char *const kpi_words[] = {"first_response", "resolution"};

/* The per-SLA statistic `pick` for every (sla, priority incl. "all", kpi). */
typedef double (*stat_fn)(const ib_kpi_stats *s);

static void per_priority(FILE *out, const ib_kpi_result *r, const char *name,
                         stat_fn pick, int kpis_mask, int with_total,
                         int decimals) {
  for (size_t k = 0; k < r->n_slas; k++) {
    const ib_kpi_sla *s = &r->slas[k];
    for (int w = 0; w < 2; w++) {
      if (!(kpis_mask & (1 << w))) continue;
      for (size_t p = 0; p <= s->n_priorities; p++) {
        const ib_kpi_stats *st;
        char prio[8];
        if (p == s->n_priorities) {
          if (!with_total) continue;
          st = w ? &s->total_resolution : &s->total_first_response;
          snprintf(prio, sizeof prio, "all");
        } else {
          st = w ? &s->by_priority[p].resolution
                 : &s->by_priority[p].first_response;
          snprintf(prio, sizeof prio, "P%d", s->by_priority[p].priority);
        }
        const char *labels[] = {"sla", s->cfg->name, "priority", prio,
                                "kpi", kpi_words[w], NULL};
        if (kpis_mask == 3)
          sample(out, name, labels, pick(st), decimals);
        else /* one KPI only: its name is in the metric name */
          sample(out, name,
                 (const char *const[]){"sla", s->cfg->name, "priority", prio,
                                       NULL},
                 pick(st), decimals);
      }
    }
  }
}

static double pick_compliance(const ib_kpi_stats *s) {
  return s->compliance_pct / 100.0;
}
static double pick_target(const ib_kpi_stats *s) {
  return s->target_s == IB_DURATION_NONE ? NAN : (double)s->target_s;
}
static double pick_met(const ib_kpi_stats *s) {
  return (double)s->met;
}
static double pick_breached(const ib_kpi_stats *s) {
  return (double)s->breached;
}
static double pick_pending(const ib_kpi_stats *s) {
  return (double)s->pending;
}
static double pick_open_breached(const ib_kpi_stats *s) {
  return (double)s->open_breached;
}
static double pick_mean(const ib_kpi_stats *s) {
  return s->mean_s;
}
static double pick_median(const ib_kpi_stats *s) {
  return s->median_s;
}
static double pick_p90(const ib_kpi_stats *s) {
  return s->p90_s;
}
static double pick_disagreements(const ib_kpi_stats *s) {
  return (double)s->reported_disagreements;
}

enum { FR = 1, RES = 2, BOTH = 3 };

static void write_slas(FILE *out, const ib_kpi_result *r) {
  family(out, "sla_compliance_ratio",
         "Share of tickets met within target in the period (0..1).");
  per_priority(out, r, "sla_compliance_ratio", pick_compliance, BOTH, 1,
               RATIO_DECIMALS);
  family(out, "sla_target_seconds", "Target in open calendar seconds.");
  per_priority(out, r, "sla_target_seconds", pick_target, BOTH, 0, 0);
  family(out, "sla_met_tickets", "Tickets of the cohort met within target.");
  per_priority(out, r, "sla_met_tickets", pick_met, BOTH, 1, 0);
  family(out, "sla_breached_tickets", "Tickets of the cohort over target.");
  per_priority(out, r, "sla_breached_tickets", pick_breached, BOTH, 1, 0);
  family(out, "sla_pending_tickets",
         "Unanswered tickets still within their first-response target.");
  per_priority(out, r, "sla_pending_tickets", pick_pending, FR, 1, 0);
  family(out, "sla_open_breached_tickets",
         "Unresolved tickets already over their resolution target.");
  per_priority(out, r, "sla_open_breached_tickets", pick_open_breached, RES, 1,
               0);
  family(out, "sla_reported_disagreements",
         "Tickets whose provider-reported verdict differs from the "
         "recomputed one.");
  per_priority(out, r, "sla_reported_disagreements", pick_disagreements, BOTH,
               1, 0);
  family(out, "sla_first_response_mean_seconds",
         "Mean first-response time in open calendar seconds.");
  per_priority(out, r, "sla_first_response_mean_seconds", pick_mean, FR, 1,
               SECONDS_DECIMALS);
  family(out, "sla_first_response_median_seconds",
         "Median first-response time in open calendar seconds.");
  per_priority(out, r, "sla_first_response_median_seconds", pick_median, FR, 1,
               SECONDS_DECIMALS);
  family(out, "sla_first_response_p90_seconds",
         "90th percentile (nearest rank) first-response time.");
  per_priority(out, r, "sla_first_response_p90_seconds", pick_p90, FR, 1,
               SECONDS_DECIMALS);
  family(out, "sla_mttr_seconds",
         "Mean time to resolve in open calendar seconds, pauses deducted.");
  per_priority(out, r, "sla_mttr_seconds", pick_mean, RES, 1, SECONDS_DECIMALS);
  family(out, "sla_resolution_median_seconds",
         "Median resolution time in open calendar seconds, pauses deducted.");
  per_priority(out, r, "sla_resolution_median_seconds", pick_median, RES, 1,
               SECONDS_DECIMALS);
  family(out, "sla_resolution_p90_seconds",
         "90th percentile (nearest rank) resolution time.");
  per_priority(out, r, "sla_resolution_p90_seconds", pick_p90, RES, 1,
               SECONDS_DECIMALS);

  family(out, "sla_credit",
         "Contractual credit due for the period, in the SLA's currency.");
  for (size_t k = 0; k < r->n_slas; k++) {
    const ib_kpi_sla *s = &r->slas[k];
    if (!s->has_penalty) continue;
    const char *cur = s->cfg->penalty.currency ? s->cfg->penalty.currency : "";
    sample(out, "sla_credit",
           (const char *const[]){"sla", s->cfg->name, "currency", cur, NULL},
           s->credit, MONEY_DECIMALS);
  }
  family(out, "sla_credit_ratio",
         "Credit as a share of the monthly fee (0..1), after the cap.");
  for (size_t k = 0; k < r->n_slas; k++) {
    const ib_kpi_sla *s = &r->slas[k];
    if (!s->has_penalty) continue;
    sample(out, "sla_credit_ratio",
           (const char *const[]){"sla", s->cfg->name, NULL},
           s->credit_pct / 100.0, RATIO_DECIMALS);
  }
}

/* The error budget of each availability entry (kpi.h's formulas): the
 * whole period's allowed downtime, how much of it is used and how fast. */
static void write_error_budget(FILE *out, const ib_kpi_result *r) {
  static const struct {
    const char *name, *help;
    int decimals;
  } fams[] = {
      {"availability_objective_ratio",
       "Availability objective (target / 100), as Sloth's "
       "slo:objective:ratio.",
       RATIO_DECIMALS},
      {"availability_error_budget_ratio",
       "Share of the period's service time allowed down (1 - objective), as "
       "Sloth's slo:error_budget:ratio.",
       RATIO_DECIMALS},
      {"availability_period_seconds",
       "Service time of the whole period (up to its end, not as_of), in open "
       "calendar seconds.",
       0},
      {"availability_error_budget_seconds",
       "Downtime allowed over the whole period, in open calendar seconds.",
       SECONDS_DECIMALS},
      {"availability_error_budget_consumed_ratio",
       "Share of the period's error budget used so far (above 1 once "
       "exhausted).",
       RATIO_DECIMALS},
      {"availability_error_budget_remaining_ratio",
       "Share of the period's error budget left (1 - consumed; negative once "
       "exhausted), as Sloth's slo:period_error_budget_remaining:ratio.",
       RATIO_DECIMALS},
      {"availability_burn_rate_ratio",
       "Pace of budget use: consumed over the share of the period elapsed (1 "
       "spends the budget exactly by the period's end).",
       RATIO_DECIMALS},
  };
  for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
    family(out, fams[f].name, fams[f].help);
    for (size_t k = 0; k < r->n_availability; k++) {
      const ib_kpi_availability *a = &r->availability[k];
      double objective = a->cfg->target_pct / 100.0;
      double consumed = ib_kpi_budget_consumed(a);
      double v[] = {objective,
                    1.0 - objective,
                    (double)a->period_time_s,
                    (1.0 - objective) * (double)a->period_time_s,
                    consumed,
                    1.0 - consumed,
                    ib_kpi_burn_rate(a)};
      sample(out, fams[f].name,
             (const char *const[]){"service", a->cfg->service, NULL}, v[f],
             fams[f].decimals);
    }
  }
}

static void write_availability(FILE *out, const ib_kpi_result *r) {
  static const struct {
    const char *name, *help;
    int decimals;
  } fams[] = {
      {"availability_ratio", "Availability over the period (0..1).",
       RATIO_DECIMALS},
      {"availability_target_ratio", "Availability target (0..1).",
       RATIO_DECIMALS},
      {"availability_downtime_seconds",
       "Counted downtime in open calendar seconds.", 0},
      {"availability_service_seconds",
       "Service time of the period so far (up to as_of), in open calendar "
       "seconds.",
       0},
      {"availability_outages", "Counted outage intervals in the period.", 0},
  };
  for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
    family(out, fams[f].name, fams[f].help);
    for (size_t k = 0; k < r->n_availability; k++) {
      const ib_kpi_availability *a = &r->availability[k];
      double v[] = {a->availability_pct / 100.0, a->cfg->target_pct / 100.0,
                    (double)a->downtime_s, (double)a->service_time_s,
                    (double)a->outages};
      sample(out, fams[f].name,
             (const char *const[]){"service", a->cfg->service, NULL}, v[f],
             fams[f].decimals);
    }
  }
  write_error_budget(out, r);
  family(out, "availability_credit",
         "Availability credit due for the period, in the entry's currency.");
  for (size_t k = 0; k < r->n_availability; k++) {
    const ib_kpi_availability *a = &r->availability[k];
    sample(
        out, "availability_credit",
        (const char *const[]){"service", a->cfg->service, "currency",
                              a->cfg->currency ? a->cfg->currency : "", NULL},
        a->credit, MONEY_DECIMALS);
  }
}

static void write_late_changes(FILE *out, const ib_late_change_list *late) {
  size_t count[IB_LATE_COUNT] = {0};
  if (late == NULL) return;
  for (size_t i = 0; i < late->n; i++)
    if ((unsigned)late->items[i].category < IB_LATE_COUNT)
      count[late->items[i].category]++;
  family(out, "late_changes",
         "Changes detected after the period ended to its tickets and "
         "outages, per category (docs/kpi.md).");
  for (int k = 0; k < IB_LATE_COUNT; k++)
    sample(out, "late_changes",
           (const char *const[]){
               "category", ib_late_category_name((ib_late_category)k), NULL},
           (double)count[k], 0);
}

static int write_freshness(FILE *out, const ib_export_data *d, char *err,
                           size_t errlen) {
  family(out, "sync_last_success_timestamp_seconds",
         "End of the last successful sync of the source (Unix time).");
  for (size_t k = 0; d->store != NULL && k < d->cfg->n_sources; k++) {
    ib_source_state s;
    if (ib_store_source_state(d->store, d->cfg->sources[k].name, 0, &s, err,
                              errlen) != 0)
      return -1;
    if (s.last_success == IB_TIME_NONE) continue;
    sample(out, "sync_last_success_timestamp_seconds",
           (const char *const[]){"source", d->cfg->sources[k].name, NULL},
           (double)s.last_success, 0);
  }
  return 0;
}

int ib_export_openmetrics(const ib_export_data *d, const char *file, char *err,
                          size_t errlen) {
  ib_atomic_file f = {0};
  if (ib_atomic_open(&f, file, err, errlen) != 0) return -1;
  const ib_kpi_result *r = d->kpi;
  family(f.fp, "kpi_period_start_timestamp_seconds",
         "Start of the period the KPIs cover (Unix time).");
  sample(f.fp, "kpi_period_start_timestamp_seconds", NULL, (double)r->from, 0);
  family(f.fp, "kpi_period_end_timestamp_seconds",
         "End (exclusive) of the period the KPIs cover (Unix time).");
  sample(f.fp, "kpi_period_end_timestamp_seconds", NULL, (double)r->to, 0);
  family(f.fp, "kpi_as_of_timestamp_seconds",
         "Instant the KPIs were measured at (Unix time).");
  sample(f.fp, "kpi_as_of_timestamp_seconds", NULL, (double)r->as_of, 0);
  write_slas(f.fp, r);
  write_availability(f.fp, r);
  write_late_changes(f.fp, d->late_changes);
  if (write_freshness(f.fp, d, err, errlen) != 0) {
    ib_atomic_abort(&f);
    return -1;
  }
  fputs("# EOF\n", f.fp);
  return ib_atomic_commit(&f, err, errlen);
}
