/*
 * cmd_kpi.c -- the `kpi` command: reads options, loads the period's
 * tickets and outages from the store, runs the KPI engine and prints the
 * result. Must not compute KPIs itself nor know SQL.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kpi.h"
#include "kpi_format.h"
#include "tz.h"

static const char kpi_usage[] =
    "usage: itsm-bridge kpi (--month YYYY-MM | --from DATE --to DATE)\n"
    "                       [--as-of ISO] [--format table|json|csv]\n"
    "                       [--sla NAME] [--breaches | --disagreements]\n"
    "  --month YYYY-MM   that month in the configuration's timezone\n"
    "  --from/--to DATE  a date (midnight in timezone) or an ISO-8601 instant\n"
    "  --as-of ISO       measure as if now were ISO (default: now)\n"
    "  --format FMT      table (default), json (itsm-bridge.kpi/1) or csv\n"
    "  --sla NAME        only that SLA (availability is always shown)\n"
    "  --breaches        list breached tickets (csv: instead of the KPIs)\n"
    "  --disagreements   instead of the KPIs, list the tickets whose verdict\n"
    "                    the source reported otherwise, with the reason\n"
    "                    (json: itsm-bridge.disagreements/1)\n";

typedef struct kpi_opts {
  const char *month, *from, *to, *as_of, *format, *sla;
  int breaches, disagreements, help;
} kpi_opts;

static int parse_opts(int argc, char **argv, kpi_opts *o) {
  static const char *const names[] = {"--month", "--from",   "--to",
                                      "--as-of", "--format", "--sla"};
  for (int i = 1; i < argc; i++) {
    const char **slots[] = {&o->month, &o->from,   &o->to,
                            &o->as_of, &o->format, &o->sla};
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      o->help = 1;
      continue;
    }
    if (strcmp(argv[i], "--breaches") == 0) {
      o->breaches = 1;
      continue;
    }
    if (strcmp(argv[i], "--disagreements") == 0) {
      o->disagreements = 1;
      continue;
    }
    int matched = ib_cli_take_option("kpi", argc, argv, &i, names, slots,
                                     sizeof names / sizeof names[0]);
    if (matched < 0) return -1;
    if (!matched) {
      fprintf(stderr, "kpi: unknown option '%s' (see itsm-bridge kpi --help)\n",
              argv[i]);
      return -1;
    }
  }
  return 0;
}

int ib_cmd_kpi(const ib_cli *cli, int argc, char **argv) {
  kpi_opts o;
  memset(&o, 0, sizeof o);
  ib_config *cfg = NULL;       /* owned here */
  ib_store *st = NULL;         /* owned here */
  ib_ticket_set tickets = {0}; /* owned here */
  ib_outage_set outages = {0}; /* owned here */
  ib_kpi_result *res = NULL;   /* owned here */
  char err[512] = "", period[2 * IB_ISO_LEN + 2];
  int rc = IB_EXIT_USAGE;

  if (parse_opts(argc, argv, &o) != 0) goto done;
  if (o.help) {
    fputs(kpi_usage, stdout);
    rc = IB_EXIT_OK;
    goto done;
  }
  int format = o.format ? ib_kpi_format_parse(o.format) : IB_KPI_FORMAT_TABLE;
  if (format < 0) {
    fprintf(stderr, "kpi: --format must be table, json or csv, not '%s'\n",
            o.format);
    goto done;
  }
  if (o.breaches && o.disagreements) {
    fprintf(stderr, "kpi: give --breaches or --disagreements, not both\n");
    goto done;
  }
  if ((o.month != NULL) == (o.from != NULL || o.to != NULL) ||
      (o.month == NULL && (o.from == NULL || o.to == NULL))) {
    fprintf(stderr,
            "kpi: give either --month YYYY-MM or both --from DATE and "
            "--to DATE\n");
    goto done;
  }
  cfg = ib_cli_load_config(cli);
  if (cfg == NULL) goto done;
  const char *zone = cfg->timezone ? cfg->timezone : "UTC";

  ib_kpi_query q = {.as_of = IB_TIME_NONE, .sla = o.sla, .warnings = stderr};
  ib_cli_period_args pa = {o.month, o.from, o.to, o.as_of};
  if (ib_cli_resolve_period("kpi", &pa, zone, 0, &q.from, &q.to, &q.as_of,
                            period, sizeof period) != 0)
    goto done;
  if (o.sla != NULL) {
    size_t k;
    for (k = 0; k < cfg->n_slas; k++)
      if (strcmp(cfg->slas[k].name, o.sla) == 0) break;
    if (k == cfg->n_slas) {
      fprintf(stderr, "kpi: %s has no SLA named '%s'\n", cfg->file, o.sla);
      goto done;
    }
  }

  rc = IB_EXIT_FAILURE;
  st = ib_cli_open_store_to_read(cfg);
  if (st == NULL) goto done;
  /* The plain summary keeps no per-ticket rows (memory: the period's
   * tickets only) and needs no reason for a disagreement (only counts). */
  q.summary_only = !o.breaches && !o.disagreements;
  if (!q.summary_only) {
    q.earlier_priorities = ib_cli_earlier_priorities; /* from history */
    q.earlier_ctx = st;
  }
  if (ib_store_load_tickets(st, ib_kpi_load_from(&q), q.to, &tickets, err,
                            sizeof err) ||
      ib_store_load_outages(st, q.from, q.to, &outages, err, sizeof err)) {
    fprintf(stderr, "kpi: %s\n", err);
    goto done;
  }
  if (ib_kpi_compute(cfg, &tickets, &outages, &q, &res, err, sizeof err)) {
    fprintf(stderr, "kpi: %s\n", err);
    goto done;
  }
  char label[128];
  snprintf(label, sizeof label, "%s (%s)", o.month ? o.month : "",
           cfg->timezone);
  int wrc =
      o.disagreements
          ? ib_kpi_write_disagreements(stdout, res, (ib_kpi_format)format,
                                       o.month ? label : NULL)
      : format == IB_KPI_FORMAT_JSON
          ? ib_kpi_write_json(stdout, res, o.breaches)
      : format == IB_KPI_FORMAT_CSV
          ? ib_kpi_write_csv(stdout, res, period, o.breaches)
          : ib_kpi_write_table(stdout, res, o.month ? label : NULL, o.breaches);
  if (wrc != 0 || fflush(stdout) != 0) {
    fprintf(stderr, "kpi: cannot write the result to standard output\n");
    goto done;
  }
  rc = IB_EXIT_OK;
done:
  ib_kpi_result_free(res);
  ib_ticket_set_free(&tickets);
  ib_outage_set_free(&outages);
  ib_cli_close_store(st);
  ib_config_free(cfg);
  return rc;
}
