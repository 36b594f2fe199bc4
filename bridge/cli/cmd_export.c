/*
 * cmd_export.c -- the `export` command: reads options, loads the period's
 * tickets, outages and late changes, computes the KPIs once and hands
 * everything to one exporter (export.h). Must not format rows itself nor know
 * SQL.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "export.h"
#include "export_rows.h"
#include "kpi.h"
#include "tz.h"

#define DEFAULT_PG_SCHEMA "itsm_bridge"

static const char export_usage[] =
    "usage: itsm-bridge export --format csv|json|ndjson|openmetrics|\n"
    "                          prometheus-rules|openslo --out PATH\n"
    "                          [--month YYYY-MM | --from DATE --to DATE]\n"
    "                          [--as-of ISO] [--excel]\n"
    "       itsm-bridge export --format postgres --url postgresql://... "
    "[--schema NAME] [period]\n"
    "       itsm-bridge export --columns\n"
    "  --format csv          DIR/tickets.csv, ticket_sla.csv, kpi.csv,\n"
    "                        availability.csv, outages.csv, "
    "disagreements.csv,\n"
    "                        changes.csv (late changes) (RFC 4180, UTF-8)\n"
    "  --excel               with csv: what French Excel opens directly\n"
    "                        (BOM, ';', decimal comma)\n"
    "  --format json|ndjson  the same tables as DIR/NAME.json or NAME.ndjson\n"
    "  --format openmetrics  one FILE for the node-exporter textfile "
    "collector\n"
    "  --format prometheus-rules\n"
    "                        one FILE of Prometheus alerting rules over those\n"
    "                        gauges (error budget, burn rate, late tickets)\n"
    "  --format openslo      one FILE of OpenSLO v1 documents (availability\n"
    "                        objectives and ticket SLAs)\n"
    "                        (these three: --out - writes to standard output)\n"
    "  --format postgres     the same tables in schema NAME "
    "(default " DEFAULT_PG_SCHEMA
    ");\n"
    "                        password from PGPASSWORD or ~/.pgpass only\n"
    "  --month YYYY-MM       that month in the configuration's timezone;\n"
    "  --from/--to DATE      a date (midnight in timezone) or an ISO-8601 "
    "instant;\n"
    "                        neither: the current month so far\n"
    "  --as-of ISO           measure as if now were ISO (default: now)\n"
    "  --columns             print every exported column and what it means\n"
    "Files are replaced whole (written aside, then renamed).\n";

typedef struct export_opts {
  const char *format, *out, *url, *schema, *month, *from, *to, *as_of;
  int excel, help, columns;
} export_opts;

enum {
  FMT_CSV,
  FMT_JSON,
  FMT_NDJSON,
  FMT_POSTGRES,
  FMT_OPENMETRICS,
  FMT_RULES,
  FMT_OPENSLO
};
static const char *const format_names[] = {
    "csv",    "json", "ndjson", "postgres", "openmetrics", "prometheus-rules",
    "openslo"};

/* The formats that write one file (or standard output with --out -). */
static int single_file(int fmt) {
  return fmt == FMT_OPENMETRICS || fmt == FMT_RULES || fmt == FMT_OPENSLO;
}

static int parse_opts(int argc, char **argv, export_opts *o) {
  static const char *const names[] = {"--format", "--out",  "--url", "--schema",
                                      "--month",  "--from", "--to",  "--as-of"};
  for (int i = 1; i < argc; i++) {
    const char **slots[] = {&o->format, &o->out,  &o->url, &o->schema,
                            &o->month,  &o->from, &o->to,  &o->as_of};
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      o->help = 1;
      continue;
    }
    if (!strcmp(argv[i], "--excel")) {
      o->excel = 1;
      continue;
    }
    if (!strcmp(argv[i], "--columns")) {
      o->columns = 1;
      continue;
    }
    int matched = ib_cli_take_option("export", argc, argv, &i, names, slots,
                                     sizeof names / sizeof names[0]);
    if (matched < 0) return -1;
    if (!matched) {
      fprintf(stderr,
              "export: unknown option '%s' (see itsm-bridge export --help)\n",
              argv[i]);
      return -1;
    }
  }
  return 0;
}

static const char *const type_names[] = {"text", "integer", "decimal",
                                         "boolean", "instant (UTC)"};

static void print_columns(FILE *out) {
  for (int t = 0; t < IB_TABLE_COUNT; t++) {
    const ib_export_table *tab = &ib_export_tables[t];
    fprintf(out, "%s%s: %s\n", t ? "\n" : "", tab->name, tab->doc);
    for (size_t k = 0; k < tab->n_columns; k++)
      fprintf(out, "  %-29s %-14s %s\n", tab->columns[k].name,
              type_names[tab->columns[k].type], tab->columns[k].doc);
  }
}

/* Checks the combination of options; returns the format or -1. */
static int check_opts(const export_opts *o) {
  if (o->format == NULL) {
    fprintf(stderr,
            "export: --format is required: csv, json, ndjson, "
            "postgres, openmetrics, prometheus-rules or openslo\n");
    return -1;
  }
  int fmt = -1;
  for (int k = 0; k < (int)(sizeof format_names / sizeof format_names[0]); k++)
    if (!strcmp(o->format, format_names[k])) fmt = k;
  if (fmt < 0) {
    fprintf(stderr,
            "export: --format must be csv, json, ndjson, postgres, "
            "openmetrics, prometheus-rules or openslo, not '%s'\n",
            o->format);
    return -1;
  }
  if (fmt == FMT_POSTGRES) {
    if (o->url == NULL || o->out != NULL) {
      fprintf(stderr,
              "export: --format postgres takes --url "
              "postgresql://USER@HOST/DB (not --out)\n");
      return -1;
    }
  } else if (o->out == NULL || o->url != NULL || o->schema != NULL) {
    fprintf(stderr,
            "export: --format %s writes to --out %s (--url and "
            "--schema are for postgres)\n",
            o->format, single_file(fmt) ? "FILE" : "DIR");
    return -1;
  }
  if (o->out != NULL && !single_file(fmt) && !strcmp(o->out, "-")) {
    fprintf(stderr,
            "export: --format %s writes several files: give --out DIR "
            "(--out - is for openmetrics, prometheus-rules and openslo)\n",
            o->format);
    return -1;
  }
  if (o->excel && fmt != FMT_CSV) {
    fprintf(stderr, "export: --excel goes with --format csv only\n");
    return -1;
  }
  if (o->month != NULL && (o->from != NULL || o->to != NULL)) {
    fprintf(stderr, "export: give --month or --from/--to, not both\n");
    return -1;
  }
  if ((o->from == NULL) != (o->to == NULL)) {
    fprintf(stderr, "export: --from and --to go together\n");
    return -1;
  }
  return fmt;
}

int ib_cmd_export(const ib_cli *cli, int argc, char **argv) {
  export_opts o;
  memset(&o, 0, sizeof o);
  ib_config *cfg = NULL;                  /* owned here */
  ib_store *st = NULL;                    /* owned here */
  ib_ticket_set tickets = {0};            /* owned here */
  ib_outage_set outages = {0};            /* owned here */
  ib_kpi_result *res = NULL;              /* owned here */
  ib_late_change_list late = {0};         /* owned here */
  ib_export_threshold *thresholds = NULL; /* owned here */
  char err[1024] = "", period[2 * IB_ISO_LEN + 2];
  int rc = IB_EXIT_USAGE;

  if (parse_opts(argc, argv, &o) != 0) goto done;
  if (o.help || o.columns) {
    if (o.help) fputs(export_usage, stdout);
    if (o.columns) print_columns(stdout);
    rc = IB_EXIT_OK;
    goto done;
  }
  int fmt = check_opts(&o);
  if (fmt < 0) goto done;
  cfg = ib_cli_load_config(cli);
  if (cfg == NULL) goto done;
  const char *zone = cfg->timezone ? cfg->timezone : "UTC";
  ib_kpi_query q = {.as_of = IB_TIME_NONE, .warnings = stderr};
  ib_cli_period_args pa = {o.month, o.from, o.to, o.as_of};
  if (ib_cli_resolve_period("export", &pa, zone, 1, &q.from, &q.to, &q.as_of,
                            period, sizeof period) != 0)
    goto done;

  rc = IB_EXIT_FAILURE;
  st = ib_cli_open_store_to_read(cfg);
  if (st == NULL) goto done;
  q.earlier_priorities = ib_cli_earlier_priorities; /* from history */
  q.earlier_ctx = st;
  if (ib_store_load_tickets(st, ib_kpi_load_from(&q), q.to, &tickets, err,
                            sizeof err) ||
      ib_store_load_outages(st, q.from, q.to, &outages, err, sizeof err) ||
      ib_kpi_compute(cfg, &tickets, &outages, &q, &res, err, sizeof err) ||
      ib_store_late_changes(st, q.from, q.to, &late, err, sizeof err)) {
    fprintf(stderr, "export: %s\n", err);
    goto done;
  }
  /* The alert rules' thresholds (SPEC §10): prometheus-rules alerts on
   * them, openslo takes a compliance floor as that SLA's objective. */
  thresholds =
      calloc(cfg->alerts.n_rules ? cfg->alerts.n_rules : 1, sizeof *thresholds);
  if (thresholds == NULL) {
    fprintf(stderr, "export: out of memory\n");
    goto done;
  }
  size_t n_thresholds = 0;
  for (size_t i = 0; i < cfg->alerts.n_rules; i++) {
    const ib_alert_rule_cfg *r = &cfg->alerts.rules[i];
    if (r->type == IB_ALERT_COMPLIANCE_BELOW)
      thresholds[n_thresholds++] = (ib_export_threshold){
          IB_THRESHOLD_COMPLIANCE_BELOW, r->name, cfg->slas[r->sla].name,
          r->kpi == IB_ALERT_KPI_RESOLUTION, r->pct};
    else if (r->type == IB_ALERT_AVAILABILITY_BUDGET)
      thresholds[n_thresholds++] = (ib_export_threshold){
          IB_THRESHOLD_BUDGET_CONSUMED, r->name,
          cfg->availability[r->service].service, 0, r->pct};
  }
  ib_export_data d = {.cfg = cfg,
                      .store = st,
                      .tickets = &tickets,
                      .outages = &outages,
                      .kpi = res,
                      .period_label = period,
                      .thresholds = thresholds,
                      .n_thresholds = n_thresholds,
                      .late_changes = &late};
  int erc;
  switch (fmt) {
    case FMT_CSV:
      erc = ib_export_csv(&d, o.out, o.excel, err, sizeof err);
      break;
    case FMT_JSON:
    case FMT_NDJSON:
      erc = ib_export_json(&d, o.out, fmt == FMT_NDJSON, err, sizeof err);
      break;
    case FMT_OPENMETRICS:
      erc = ib_export_openmetrics(&d, o.out, err, sizeof err);
      break;
    case FMT_RULES:
      erc = ib_export_prometheus_rules(&d, o.out, err, sizeof err);
      break;
    case FMT_OPENSLO:
      erc = ib_export_openslo(&d, o.out, err, sizeof err);
      break;
    default:
      erc = ib_export_postgres(
          &d, o.url, o.schema ? o.schema : DEFAULT_PG_SCHEMA, err, sizeof err);
      break;
  }
  if (erc != 0) {
    fprintf(stderr, "export: %s\n", err);
    goto done;
  }
  if (!cli->quiet)
    fprintf(stderr,
            "export: %s for %s: %zu tickets, %zu ticket-SLA rows, "
            "%zu outages, %zu late changes -> %s\n",
            format_names[fmt], period, tickets.n, res->n_tickets, outages.n,
            late.n,
            fmt == FMT_POSTGRES   ? "PostgreSQL"
            : !strcmp(o.out, "-") ? "standard output"
                                  : o.out);
  rc = IB_EXIT_OK;
done:
  free(thresholds);
  ib_late_change_list_free(&late);
  ib_kpi_result_free(res);
  ib_ticket_set_free(&tickets);
  ib_outage_set_free(&outages);
  ib_cli_close_store(st);
  ib_config_free(cfg);
  return rc;
}
