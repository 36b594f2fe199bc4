/*
 * export_rules.c -- `export --format prometheus-rules`: a Prometheus rule
 * file (YAML) of alerting rules over the gauges export_openmetrics.c
 * writes, so that Prometheus/Alertmanager page on the error budget and the
 * SLAs between two reviews. Per availability entry: budget exhausted,
 * fast burn, slow burn, availability below objective; per SLA: open
 * tickets already over their resolution target; one rule per configured
 * threshold (ib_export_threshold). Every configuration string reaches the
 * file through export_yaml.h's quoting only. Must not compute KPIs nor
 * read the store.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_file.h"
#include "export_rows.h"
#include "export_yaml.h"

#define PREFIX "itsm_bridge_"

/* Burn-rate thresholds on the month-to-date burn rate (1 = the budget is
 * spent exactly at the end of the month). Fast: at 6 a month's budget is
 * gone in about five days (Sloth's second paging tier, 6x over 6 h).
 * Slow: above 1 for an hour, the budget runs out before the month ends
 * (Sloth's ticket tier). */
#define FAST_BURN_RATE 6.0
#define SLOW_BURN_RATE 1.0
#define SLOW_BURN_FOR "1h"

/* Writes `expr` (built by fn into a memory stream) as a YAML string. */
typedef void (*expr_fn)(FILE *out, const void *arg);

static int put_expr(FILE *out, expr_fn fn, const void *arg) {
  char *buf = NULL; /* owned here */
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  if (m == NULL) return -1;
  fn(m, arg);
  if (fclose(m) != 0) {
    free(buf);
    return -1;
  }
  ib_yaml_put_string(out, buf);
  free(buf);
  return 0;
}

/* One alerting rule. `expr` is PromQL; `rule_label` (may be NULL) a
 * configuration string set as the alert's `label_key` label (`rule` when
 * NULL), made inert for Prometheus' templating. The per-service and
 * per-SLA rules carry their service or SLA there, so that two rules of one
 * alert name never have the same labels (promtool's duplicate check). */
typedef struct rule {
  const char *alert, *severity, *for_, *summary, *description;
  expr_fn expr;
  const void *arg;
  const char *rule_label;
  const char *label_key;
} rule;

static int put_rule(FILE *out, const rule *r) {
  fprintf(out, "      - alert: %s\n        expr: ", r->alert);
  if (put_expr(out, r->expr, r->arg) != 0) return -1;
  fputc('\n', out);
  if (r->for_ != NULL) fprintf(out, "        for: %s\n", r->for_);
  fprintf(out, "        labels:\n          severity: %s\n", r->severity);
  if (r->rule_label != NULL) {
    char *buf = NULL; /* owned here */
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (m == NULL) return -1;
    ib_gotmpl_put_text(m, r->rule_label);
    if (fclose(m) != 0) {
      free(buf);
      return -1;
    }
    fprintf(out, "          %s: ", r->label_key ? r->label_key : "rule");
    ib_yaml_put_string(out, buf);
    fputc('\n', out);
    free(buf);
  }
  fputs("        annotations:\n          summary: ", out);
  ib_yaml_put_string(out, r->summary);
  fputs("\n          description: ", out);
  ib_yaml_put_string(out, r->description);
  fputc('\n', out);
  return 0;
}

/* ---- expressions -------------------------------------------------------- */

static void selector(FILE *out, const char *metric, const char *label,
                     const char *value, const char *extra) {
  fprintf(out, PREFIX "%s{%s=", metric, label);
  ib_promql_put_string(out, value);
  if (extra != NULL) fprintf(out, ",%s", extra);
  fputc('}', out);
}

static void expr_exhausted(FILE *out, const void *arg) {
  selector(out, "availability_error_budget_remaining_ratio", "service", arg,
           NULL);
  fputs(" <= 0", out);
}

static void expr_fast_burn(FILE *out, const void *arg) {
  char n[32];
  selector(out, "availability_burn_rate_ratio", "service", arg, NULL);
  ib_export_format_num(FAST_BURN_RATE, 3, n, sizeof n);
  fprintf(out, " >= %s", n);
}

static void expr_slow_burn(FILE *out, const void *arg) {
  char n[32];
  selector(out, "availability_burn_rate_ratio", "service", arg, NULL);
  ib_export_format_num(SLOW_BURN_RATE, 3, n, sizeof n);
  fprintf(out, " > %s", n);
}

static void expr_below_objective(FILE *out, const void *arg) {
  selector(out, "availability_ratio", "service", arg, NULL);
  fputs(" < ", out);
  selector(out, "availability_objective_ratio", "service", arg, NULL);
}

static void expr_open_breached(FILE *out, const void *arg) {
  selector(out, "sla_open_breached_tickets", "sla", arg, "priority=\"all\"");
  fputs(" > 0", out);
}

static void expr_threshold(FILE *out, const void *arg) {
  const ib_export_threshold *t = arg;
  char n[32];
  ib_export_format_num(t->pct / 100.0, 6, n, sizeof n);
  if (t->kind == IB_THRESHOLD_COMPLIANCE_BELOW) {
    selector(out, "sla_compliance_ratio", "sla", t->target,
             t->resolution ? "priority=\"all\",kpi=\"resolution\""
                           : "priority=\"all\",kpi=\"first_response\"");
    fprintf(out, " < %s", n);
  } else {
    selector(out, "availability_error_budget_consumed_ratio", "service",
             t->target, NULL);
    fprintf(out, " >= %s", n);
  }
}

/* ---- the file ----------------------------------------------------------- */

static int write_availability(FILE *out, const ib_config *cfg,
                              const ib_export_data *d) {
  size_t n_budget = 0;
  for (size_t k = 0; k < d->n_thresholds; k++)
    n_budget += d->thresholds[k].kind == IB_THRESHOLD_BUDGET_CONSUMED;
  if (cfg->n_availability == 0 && n_budget == 0) return 0;
  fputs("  - name: itsm-bridge-availability\n    rules:\n", out);
  for (size_t k = 0; k < cfg->n_availability; k++) {
    const char *svc = cfg->availability[k].service;
    const rule rules[] = {
        {"ItsmBridgeErrorBudgetExhausted", "critical", NULL,
         "{{ $labels.service }}: the month's downtime allowance is used up",
         "{{ $labels.service }} has used all of the downtime its "
         "availability objective allows this month ({{ $value | "
         "humanizePercentage }} of the budget left): every further minute "
         "down breaches the objective.",
         expr_exhausted, svc, svc, "service"},
        {"ItsmBridgeErrorBudgetFastBurn", "critical", NULL,
         "{{ $labels.service }}: error budget burning fast",
         "{{ $labels.service }} uses its monthly downtime allowance "
         "{{ $value | humanize }} times faster than the month allows: at this "
         "pace it is gone within days.",
         expr_fast_burn, svc, svc, "service"},
        {"ItsmBridgeErrorBudgetSlowBurn", "warning", SLOW_BURN_FOR,
         "{{ $labels.service }}: error budget will not last the month",
         "{{ $labels.service }} uses its monthly downtime allowance "
         "{{ $value | humanize }} times faster than the month allows: at this "
         "pace it runs out before the month ends.",
         expr_slow_burn, svc, svc, "service"},
        {"ItsmBridgeAvailabilityBelowObjective", "warning", NULL,
         "{{ $labels.service }}: availability below its objective",
         "{{ $labels.service }} is at {{ $value | humanizePercentage }} "
         "availability for the month so far, below its contractual "
         "objective.",
         expr_below_objective, svc, svc, "service"},
    };
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++)
      if (put_rule(out, &rules[r]) != 0) return -1;
  }
  for (size_t k = 0; k < d->n_thresholds; k++) {
    const ib_export_threshold *t = &d->thresholds[k];
    if (t->kind != IB_THRESHOLD_BUDGET_CONSUMED) continue;
    rule r = {"ItsmBridgeErrorBudgetConsumed",
              "warning",
              NULL,
              "{{ $labels.service }}: {{ $value | humanizePercentage }} of "
              "the month's error budget used",
              "{{ $labels.service }} has used {{ $value | humanizePercentage "
              "}} of the downtime its availability objective allows this "
              "month, at or above the configured threshold.",
              expr_threshold,
              t,
              t->rule,
              NULL};
    if (put_rule(out, &r) != 0) return -1;
  }
  return 0;
}

static int write_slas(FILE *out, const ib_config *cfg,
                      const ib_export_data *d) {
  size_t n_compliance = 0;
  for (size_t k = 0; k < d->n_thresholds; k++)
    n_compliance += d->thresholds[k].kind == IB_THRESHOLD_COMPLIANCE_BELOW;
  if (cfg->n_slas == 0 && n_compliance == 0) return 0;
  fputs("  - name: itsm-bridge-sla\n    rules:\n", out);
  for (size_t k = 0; k < cfg->n_slas; k++) {
    rule r = {"ItsmBridgeSlaOpenBreached",
              "warning",
              NULL,
              "SLA {{ $labels.sla }}: {{ $value }} open tickets already late",
              "{{ $value }} tickets of SLA {{ $labels.sla }} are still open "
              "and already over their resolution target (pauses deducted).",
              expr_open_breached,
              cfg->slas[k].name,
              cfg->slas[k].name,
              "sla"};
    if (put_rule(out, &r) != 0) return -1;
  }
  for (size_t k = 0; k < d->n_thresholds; k++) {
    const ib_export_threshold *t = &d->thresholds[k];
    if (t->kind != IB_THRESHOLD_COMPLIANCE_BELOW) continue;
    rule r = {"ItsmBridgeSlaComplianceBelow",
              "warning",
              NULL,
              "SLA {{ $labels.sla }}: {{ $labels.kpi }} compliance at {{ "
              "$value | humanizePercentage }}",
              "The {{ $labels.kpi }} compliance of SLA {{ $labels.sla }} for "
              "the month so far is {{ $value | humanizePercentage }}, below "
              "the configured threshold.",
              expr_threshold,
              t,
              t->rule,
              NULL};
    if (put_rule(out, &r) != 0) return -1;
  }
  return 0;
}

int ib_export_prometheus_rules(const ib_export_data *d, const char *file,
                               char *err, size_t errlen) {
  ib_atomic_file f = {0};
  if (ib_atomic_open(&f, file, err, errlen) != 0) return -1;
  const ib_config *cfg = d->cfg;
  fputs(
      "# Prometheus alerting rules over the gauges of `itsm-bridge export "
      "--format\n# openmetrics` (node-exporter textfile collector). "
      "Generated by itsm-bridge\n# export --format prometheus-rules; "
      "check with `promtool check rules`.\n",
      f.fp);
  if (cfg->n_availability == 0 && cfg->n_slas == 0 && d->n_thresholds == 0)
    fputs("groups: []\n", f.fp);
  else
    fputs("groups:\n", f.fp);
  if (write_availability(f.fp, cfg, d) != 0 || write_slas(f.fp, cfg, d) != 0) {
    snprintf(err, errlen, "%s: out of memory while writing the rules", file);
    ib_atomic_abort(&f);
    return -1;
  }
  return ib_atomic_commit(&f, err, errlen);
}
