/*
 * report_html.h -- the monthly steering report as one self-contained HTML
 * file (inline CSS and SVG charts, no script, no external asset, prints on
 * A4): headline tiles, charts, breached tickets, disagreements, late
 * changes, data freshness and the exact SLA definitions. French or English.
 * Must not compute KPIs nor load tickets: it reads the ib_kpi_results it is
 * given.
 */
#ifndef IB_REPORT_HTML_H
#define IB_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "alerts.h"
#include "config.h"
#include "kpi.h"
#include "store.h"

/* One month of the trend. kpi NULL: the store has no data that month. */
typedef struct ib_report_month {
  const char *label; /* "2026-10" */
  const ib_kpi_result *kpi;
} ib_report_month;

typedef struct ib_report {
  const ib_config *cfg;
  ib_store *store;              /* read for data freshness only */
  const char *month;            /* "2026-10" */
  const ib_kpi_result *kpi;     /* the month, per-ticket rows included */
  const ib_report_month *trend; /* oldest first; may be empty */
  size_t n_trend;
  const char *lang; /* "fr" or "en" */
  /* A closed month: its itsm-bridge.verify/1 comparison with today's store
   * (edition, chain, changed figures, tickets and credits), shown in a
   * section of its own; NULL for a month never closed. Borrowed. */
  const cJSON *edition_check;
  ib_time generated_at;
  /* the month's late changes (store.h); NULL: the section says none */
  const ib_late_change_list *late_changes;
  /* The month still running: the alert rules evaluated at as_of, whose
   * ticket_at_risk alerts list the SLA's tickets about to breach in the
   * "right now" block; NULL otherwise. Borrowed. */
  const ib_alert_set *alerts;
} ib_report;

/* "fr" | "en" -> 0, else -1. */
int ib_report_lang_valid(const char *lang);

/* Writes the whole document to out. 0, or -1 with one line in err (write
 * error, store error). */
int ib_report_write_html(FILE *out, const ib_report *r, char *err,
                         size_t errlen);

#endif /* IB_REPORT_HTML_H */
