/*
 * cmd_report.c -- the `report` command: loads the month (and the five
 * months before it, for the trend) and the month's late changes, computes
 * each month's KPIs once and writes the HTML steering report atomically. Must
 * not compute KPIs itself nor write HTML (report_html.c does).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "cli.h"
#include "export_file.h"
#include "kpi.h"
#include "report_html.h"
#include "tz.h"

#define TREND_MONTHS 6
#define DEFAULT_LANG "en"

static const char report_usage[] =
    "usage: itsm-bridge report --month YYYY-MM --out FILE.html [--lang fr|en]\n"
    "                          [--as-of ISO]\n"
    "  --month YYYY-MM   the month reported, in the configuration's timezone\n"
    "  --out FILE.html   one self-contained HTML file (replaced whole)\n"
    "  --lang fr|en      labels and number format (default " DEFAULT_LANG
    ")\n"
    "  --as-of ISO       measure as if now were ISO (default: now)\n"
    "The report has headline tiles, charts (compliance by priority, time\n"
    "distribution, availability, six-month trend), the breached tickets,\n"
    "the disagreements with the providers, the late changes (changes\n"
    "detected after the month ended), data freshness per source and the\n"
    "SLA definitions used.\n";

typedef struct report_opts {
  const char *month, *out, *lang, *as_of;
  int help;
} report_opts;

static int parse_opts(int argc, char **argv, report_opts *o) {
  static const char *const names[] = {"--month", "--out", "--lang", "--as-of"};
  for (int i = 1; i < argc; i++) {
    const char **slots[] = {&o->month, &o->out, &o->lang, &o->as_of};
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      o->help = 1;
      continue;
    }
    int matched = ib_cli_take_option("report", argc, argv, &i, names, slots,
                                     sizeof names / sizeof names[0]);
    if (matched < 0) return -1;
    if (!matched) {
      fprintf(stderr,
              "report: unknown option '%s' (see itsm-bridge report --help)\n",
              argv[i]);
      return -1;
    }
  }
  return 0;
}

/* One month's data; the KPI result borrows the sets. */
typedef struct month_data {
  char label[16];
  ib_ticket_set tickets; /* owned */
  ib_outage_set outages; /* owned */
  ib_kpi_result *kpi;    /* owned */
} month_data;

static void month_free(month_data *m) {
  ib_kpi_result_free(m->kpi);
  ib_ticket_set_free(&m->tickets);
  ib_outage_set_free(&m->outages);
  memset(m, 0, sizeof *m);
}

static int load_month(const ib_config *cfg, ib_store *st, const char *zone,
                      int y, int mo, ib_time as_of, month_data *m, char *err,
                      size_t errlen) {
  snprintf(m->label, sizeof m->label, "%04d-%02d", y, mo);
  ib_kpi_query q = {.as_of = as_of,
                    .warnings = NULL,
                    .earlier_priorities = ib_cli_earlier_priorities,
                    .earlier_ctx = st};
  if (ib_cli_parse_month(m->label, zone, &q.from, &q.to) != 0) {
    snprintf(err, errlen, "cannot compute the month %s in zone %s", m->label,
             zone);
    return -1;
  }
  if (ib_store_load_tickets(st, ib_kpi_load_from(&q), q.to, &m->tickets, err,
                            errlen) ||
      ib_store_load_outages(st, q.from, q.to, &m->outages, err, errlen) ||
      ib_kpi_compute(cfg, &m->tickets, &m->outages, &q, &m->kpi, err, errlen))
    return -1;
  return 0;
}

int ib_cmd_report(const ib_cli *cli, int argc, char **argv) {
  report_opts o;
  memset(&o, 0, sizeof o);
  ib_config *cfg = NULL;           /* owned here */
  ib_store *st = NULL;             /* owned here */
  month_data months[TREND_MONTHS]; /* owned here; the last is the month */
  ib_alert_set alerts = {0};       /* owned here */
  ib_time *last_success = NULL;    /* owned here */
  ib_report_month trend[TREND_MONTHS];
  ib_late_change_list late = {0}; /* owned here */
  ib_atomic_file f = {0};
  ib_cli_verified verified; /* owned here */
  memset(&verified, 0, sizeof verified);
  char err[1024] = "";
  int rc = IB_EXIT_USAGE, y, mo;
  char tail;
  memset(months, 0, sizeof months);

  if (parse_opts(argc, argv, &o) != 0) goto done;
  if (o.help) {
    fputs(report_usage, stdout);
    rc = IB_EXIT_OK;
    goto done;
  }
  if (o.month == NULL || o.out == NULL) {
    fprintf(stderr, "report: give --month YYYY-MM and --out FILE.html\n");
    goto done;
  }
  if (sscanf(o.month, "%4d-%2d%c", &y, &mo, &tail) != 2 ||
      strlen(o.month) != 7 || mo < 1 || mo > 12) {
    fprintf(stderr, "report: --month '%s' is not a month YYYY-MM\n", o.month);
    goto done;
  }
  const char *lang = o.lang ? o.lang : DEFAULT_LANG;
  if (ib_report_lang_valid(lang) != 0) {
    fprintf(stderr, "report: --lang must be fr or en, not '%s'\n", lang);
    goto done;
  }
  cfg = ib_cli_load_config(cli);
  if (cfg == NULL) goto done;
  const char *zone = cfg->timezone ? cfg->timezone : "UTC";
  ib_time now = (ib_time)time(NULL), as_of = now;
  if (o.as_of != NULL && ib_cli_parse_instant(o.as_of, zone, &as_of) != 0) {
    fprintf(stderr, "report: --as-of '%s' is not an ISO-8601 instant\n",
            o.as_of);
    goto done;
  }

  rc = IB_EXIT_FAILURE;
  st = ib_cli_open_store_to_read(cfg);
  if (st == NULL) goto done;
  /* A closed month is reported as of its edition (unless --as-of says
   * otherwise), next to what changed since. */
  int closed = ib_cli_verify_month("report", cfg, st, o.month, &verified);
  if (closed < 0) goto done;
  if (closed && o.as_of == NULL) as_of = verified.edition->as_of;
  for (int k = 0; k < TREND_MONTHS; k++) {
    int back = TREND_MONTHS - 1 - k, idx = y * 12 + (mo - 1) - back;
    if (load_month(cfg, st, zone, idx / 12, idx % 12 + 1, as_of, &months[k],
                   err, sizeof err) != 0) {
      fprintf(stderr, "report: %s\n", err);
      goto done;
    }
    trend[k].label = months[k].label;
    /* a month without a ticket in the store is a gap in the trend */
    trend[k].kpi = months[k].kpi->n_tickets > 0 ? months[k].kpi : NULL;
  }
  const ib_kpi_result *month_kpi = months[TREND_MONTHS - 1].kpi;
  if (ib_store_late_changes(st, month_kpi->from, month_kpi->to, &late, err,
                            sizeof err) != 0) {
    fprintf(stderr, "report: %s\n", err);
    goto done;
  }
  /* The month still running: the tickets the ticket_at_risk rules name now
   * (SPEC §10), for the report's "right now" block. */
  int running =
      month_kpi->as_of >= month_kpi->from && month_kpi->as_of < month_kpi->to;
  if (running && cfg->alerts.n_rules > 0) {
    last_success = ib_cli_last_successes("report", cfg, st);
    if (last_success == NULL) goto done;
    ib_alert_input in = {cfg,
                         &months[TREND_MONTHS - 1].tickets,
                         &months[TREND_MONTHS - 1].outages,
                         last_success,
                         month_kpi->from,
                         month_kpi->to,
                         month_kpi->as_of,
                         NULL,
                         0};
    if (ib_alerts_evaluate(&in, &alerts, err, sizeof err) != 0) {
      fprintf(stderr, "report: %s\n", err);
      goto done;
    }
  }
  ib_report rep = {.cfg = cfg,
                   .store = st,
                   .month = o.month,
                   .kpi = months[TREND_MONTHS - 1].kpi,
                   .trend = trend,
                   .n_trend = TREND_MONTHS,
                   .lang = lang,
                   .edition_check = closed ? verified.verify : NULL,
                   .generated_at = now,
                   .late_changes = &late,
                   .alerts = running ? &alerts : NULL};
  if (ib_atomic_open(&f, o.out, err, sizeof err) != 0 ||
      ib_report_write_html(f.fp, &rep, err, sizeof err) != 0 ||
      ib_atomic_commit(&f, err, sizeof err) != 0) {
    fprintf(stderr, "report: %s\n", err);
    goto done;
  }
  if (!cli->quiet)
    fprintf(stderr, "report: %s (%s) -> %s\n", o.month, lang, o.out);
  rc = IB_EXIT_OK;
done:
  ib_alert_set_free(&alerts);
  free(last_success);
  ib_late_change_list_free(&late);
  ib_atomic_abort(&f);
  for (int k = 0; k < TREND_MONTHS; k++) month_free(&months[k]);
  ib_cli_verified_free(&verified);
  ib_cli_close_store(st);
  ib_config_free(cfg);
  return rc;
}
