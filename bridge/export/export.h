/*
 * export.h -- exporters for BI tools (issue 7): what every format receives
 * and one entry point per format. cmd_export.c loads the data once and
 * calls one of these. Exporters must not recompute KPIs (they read the
 * ib_kpi_result, per-ticket results included) and must never write a
 * secret.
 */
#ifndef IB_EXPORT_H
#define IB_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "kpi.h"
#include "model.h"
#include "store.h"

/* A threshold the alerting configuration gives (SPEC §10 `alerts.rules`):
 * compliance_below (an SLA's first-response or resolution compliance, in
 * percent) or availability_budget (share of a service's error budget
 * used, in percent). prometheus-rules turns each into an alert; openslo
 * takes a compliance threshold as the objective of that SLA's ticket SLOs.
 * cmd_export fills these from the configuration's alert rules. */
typedef enum ib_export_threshold_kind {
  IB_THRESHOLD_COMPLIANCE_BELOW = 0,
  IB_THRESHOLD_BUDGET_CONSUMED
} ib_export_threshold_kind;

typedef struct ib_export_threshold {
  ib_export_threshold_kind kind;
  const char *rule;   /* the rule's name, borrowed */
  const char *target; /* SLA name (compliance) or service (budget), borrowed */
  int resolution;     /* compliance: 1 resolution, 0 first response */
  double pct;         /* below_pct or consumed_pct */
} ib_export_threshold;

typedef struct ib_export_data {
  const ib_config *cfg;
  ib_store *store;              /* for sync state (freshness) */
  const ib_ticket_set *tickets; /* the tickets exported */
  const ib_outage_set *outages; /* the outages exported */
  const ib_kpi_result *kpi;     /* KPIs of the period, per-ticket included */
  const char *period_label;     /* "2026-10" or "2026-10-01..2026-10-15" */
  const ib_export_threshold *thresholds; /* borrowed; may be NULL */
  size_t n_thresholds;
  /* the period's late changes (store.h), NULL: none loaded */
  const ib_late_change_list *late_changes;
} ib_export_data;

/* Each returns 0, or -1 with one line in err. */
int ib_export_csv(const ib_export_data *d, const char *dir, int excel,
                  char *err, size_t errlen);
int ib_export_json(const ib_export_data *d, const char *dir, int ndjson,
                   char *err, size_t errlen);
int ib_export_openmetrics(const ib_export_data *d, const char *file, char *err,
                          size_t errlen);
/* Prometheus alerting rules (YAML) over the openmetrics gauges: per
 * availability entry budget exhausted, fast and slow burn, below its
 * objective; per SLA open tickets already late; one rule per threshold.
 * file "-": standard output. */
int ib_export_prometheus_rules(const ib_export_data *d, const char *file,
                               char *err, size_t errlen);
/* OpenSLO v1 documents (YAML stream): a Service per availability service
 * and per SLA, an SLO per availability entry and per ticket SLA target
 * (priority x first response/resolution). file "-": standard output. */
int ib_export_openslo(const ib_export_data *d, const char *file, char *err,
                      size_t errlen);
/* One record as one NDJSON line on out (sync --dry-run): {"record":
 * "ticket"|"outage", then the columns of the tickets (outages) table with
 * the names and value formats of the ndjson export; a ticket adds
 * "pause_intervals": [{"start": ISO, "end": ISO or null}]}. 0, or -1 on
 * ENOMEM or a write error. */
int ib_export_ndjson_ticket(FILE *out, const ib_ticket_row *t);
int ib_export_ndjson_outage(FILE *out, const ib_outage_row *o);
/* url: postgresql://...; the password comes from PGPASSWORD or ~/.pgpass
 * only. schema: default "itsm_bridge". */
int ib_export_postgres(const ib_export_data *d, const char *url,
                       const char *schema, char *err, size_t errlen);

#endif /* IB_EXPORT_H */
