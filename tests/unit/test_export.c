/*
 * test_export.c -- the exporters on one hand-built ticket and outage under
 * a 24x7 calendar: RFC 4180 quoting, the Excel variant, JSON typing,
 * OpenMetrics label escaping and "# EOF", number rounding and atomic files.
 * Expected figures are worked out by hand in the comments.
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "export.h"
#include "export_file.h"
#include "export_rows.h"
#include "kpi.h"
#include "tz.h"

static ib_time utc(int y, int mo, int d, int h, int mi) {
  return ib_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60;
}

typedef struct fixture {
  ib_calendar_cfg cal;
  ib_sla_cfg sla;
  ib_availability_cfg avail;
  ib_config cfg;
  ib_ticket_set tickets;
  ib_outage_set outages;
  ib_kpi_result *kpi;
  ib_late_change_list late;
  ib_export_data d;
  char dir[64];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->cal.name = "24x7";
  f->cal.timezone = "UTC";
  f->sla.name = "desk";
  f->sla.kinds_mask = (1u << IB_KIND_COUNT) - 1;
  f->sla.targets[1] = (ib_target_cfg){1, 30 * 60, 4 * 3600};
  f->avail.service = "ERP \"core\" \\ A";
  f->avail.target_pct = 99.5;
  f->avail.has_credit = 1;
  f->avail.monthly_fee = 3100.0;
  f->avail.currency = "EUR";
  f->cfg.timezone = "UTC";
  f->cfg.calendars = &f->cal;
  f->cfg.n_calendars = 1;
  f->cfg.slas = &f->sla;
  f->cfg.n_slas = 1;
  f->cfg.availability = &f->avail;
  f->cfg.n_availability = 1;

  /* K-1: P1 created 10:00, answered 10:45 (2700 s > 1800: breached by 900),
   * resolved 12:00 (7200 s <= 14400: met). */
  ib_ticket_row *t = ib_ticket_set_add(&f->tickets);
  assert_non_null(t);
  t->source = strdup("desk");
  t->id = strdup("1");
  t->key = strdup("K-1");
  t->title = strdup("a,b \"c\"\nline2");
  t->kind = IB_KIND_INCIDENT;
  t->priority = 1;
  t->status = IB_STATE_RESOLVED;
  t->service = strdup("=cmd");
  t->created_at = utc(2026, 10, 5, 10, 0);
  t->first_response_at = utc(2026, 10, 5, 10, 45);
  t->resolved_at = utc(2026, 10, 5, 12, 0);
  t->reported_response_breached = IB_VERDICT_MET; /* disagrees */
  /* one hour down out of October's 744 h: 99.866 %, above the 99.5 %
   * target: met, credit 0 */
  ib_outage_row *o = ib_outage_set_add(&f->outages);
  assert_non_null(o);
  o->source = strdup("desk");
  o->id = strdup("O1");
  o->service = strdup(f->avail.service);
  o->kind = IB_OUTAGE_OUTAGE;
  o->start = utc(2026, 10, 10, 0, 0);
  o->end = utc(2026, 10, 10, 1, 0);

  ib_kpi_query q = {utc(2026, 10, 1, 0, 0),
                    utc(2026, 11, 1, 0, 0),
                    utc(2026, 11, 2, 0, 0),
                    NULL,
                    NULL,
                    NULL,
                    NULL,
                    0};
  char err[256];
  assert_int_equal(ib_kpi_compute(&f->cfg, &f->tickets, &f->outages, &q,
                                  &f->kpi, err, sizeof err),
                   0);
  /* K-1 downgraded P1 -> P3 by the sync of 3 November */
  ib_late_change late = {.seq = 7,
                         .source = "desk",
                         .id = "1",
                         .key = "K-1",
                         .kind = "ticket",
                         .field = "priority",
                         .old_value = "P1",
                         .new_value = "P3",
                         .category = IB_LATE_PRIORITY_CHANGED,
                         .run_id = 4,
                         .detected_at = 1793692800};
  assert_int_equal(ib_late_change_list_add(&f->late, &late), 0);
  f->d = (ib_export_data){&f->cfg,   NULL, &f->tickets, &f->outages, f->kpi,
                          "2026-10", NULL, 0,           &f->late};
  snprintf(f->dir, sizeof f->dir, "/tmp/ib-test-export-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  assert_int_equal(system(cmd), 0);
  ib_kpi_result_free(f->kpi);
  ib_late_change_list_free(&f->late);
  ib_ticket_set_free(&f->tickets);
  ib_outage_set_free(&f->outages);
  free(f);
  return 0;
}

/* The whole file, owned by the caller. */
static char *slurp(const char *dir, const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  char *buf = calloc(1, 1 << 16);
  assert_non_null(buf);
  size_t n = fread(buf, 1, (1 << 16) - 1, fp);
  buf[n] = '\0';
  fclose(fp);
  return buf;
}

static void test_csv(void **state) {
  fixture *f = *state;
  char err[256];
  assert_int_equal(ib_export_csv(&f->d, f->dir, 0, err, sizeof err), 0);
  char *t = slurp(f->dir, "tickets.csv");
  assert_non_null(strstr(t, "source,id,key,title,"));
  assert_non_null(
      strstr(t, "\r\ndesk,1,K-1,\"a,b \"\"c\"\"\nline2\",incident,"));
  assert_non_null(strstr(t, ",=cmd,")); /* plain CSV keeps text as is */
  assert_non_null(strstr(t, ",2026-10-05T10:00:00Z,2026-10-05T10:45:00Z,"));
  assert_non_null(strstr(t, ",0,false,\r\n")); /* pauses, reported verdicts */
  free(t);
  char *ch = slurp(f->dir, "changes.csv");
  assert_string_equal(ch,
                      "period,change_id,source,id,key,kind,field,category,"
                      "old_value,new_value,run_id,detected_at\r\n"
                      "2026-10,7,desk,1,K-1,ticket,priority,priority_changed,"
                      "P1,P3,4,2026-11-03T08:00:00Z\r\n");
  free(ch);
  char *s = slurp(f->dir, "ticket_sla.csv");
  /* target, measured, verdict, over, reported, disagrees for each KPI */
  assert_non_null(
      strstr(s,
             "2026-10,desk,desk,1,K-1,P1,1800,2700,breached,900,false,true,"
             "14400,7200,met,0,,,false\r\n"));
  free(s);
  char *a = slurp(f->dir, "availability.csv");
  /* 3600 s of 2678400: 100 * (1 - 3600/2678400) = 99.86559...; met */
  assert_non_null(
      strstr(a, ",24x7,99.5,2678400,3600,1,99.866,false,EUR,0\r\n"));
  assert_non_null(strstr(a, "2026-10,\"ERP \"\"core\"\" \\ A\","));
  free(a);
}

static void test_excel(void **state) {
  fixture *f = *state;
  char err[256];
  assert_int_equal(ib_export_csv(&f->d, f->dir, 1, err, sizeof err), 0);
  char *a = slurp(f->dir, "availability.csv");
  assert_memory_equal(a, "\xEF\xBB\xBFperiod;service;", 18);
  assert_non_null(strstr(a, ";24x7;99,5;2678400;3600;1;99,866;0;EUR;0\r\n"));
  free(a);
  char *t = slurp(f->dir, "tickets.csv");
  assert_non_null(strstr(t, ";\"'=cmd\";")); /* no formula in Excel */
  assert_non_null(strstr(t, ";\"a,b \"\"c\"\"\nline2\";")); /* ',' is fine */
  assert_non_null(strstr(t, ";2026-10-05 10:00:00;"));
  free(t);
}

static void test_json(void **state) {
  fixture *f = *state;
  char err[256];
  assert_int_equal(ib_export_json(&f->d, f->dir, 0, err, sizeof err), 0);
  assert_int_equal(ib_export_json(&f->d, f->dir, 1, err, sizeof err), 0);
  char *j = slurp(f->dir, "ticket_sla.json");
  assert_non_null(strstr(j,
                         "\"response_s\":2700,\"response_verdict\":"
                         "\"breached\",\"response_over_s\":900,"
                         "\"response_reported_breached\":false,"
                         "\"response_disagrees\":true"));
  assert_non_null(strstr(j, "\"resolution_reported_breached\":null"));
  assert_int_equal(j[0], '[');
  free(j);
  char *n = slurp(f->dir, "availability.ndjson");
  assert_non_null(strstr(n, "\"availability_pct\":99.866,\"breached\":false"));
  assert_int_equal(n[0], '{');
  assert_int_equal(n[strlen(n) - 1], '\n');
  free(n);
}

static void test_openmetrics(void **state) {
  fixture *f = *state;
  char err[256], path[128];
  snprintf(path, sizeof path, "%s/itsm.prom", f->dir);
  assert_int_equal(ib_export_openmetrics(&f->d, path, err, sizeof err), 0);
  char *m = slurp(f->dir, "itsm.prom");
  size_t len = strlen(m);
  assert_true(len > 6 && strcmp(m + len - 6, "# EOF\n") == 0);
  assert_null(strstr(m, "NaN"));
  assert_non_null(strstr(m, "# TYPE itsm_bridge_sla_compliance_ratio gauge\n"));
  /* late changes per category, every category written */
  assert_non_null(strstr(m, "# TYPE itsm_bridge_late_changes gauge\n"));
  assert_non_null(
      strstr(m, "itsm_bridge_late_changes{category=\"priority_changed\"} 1\n"));
  assert_non_null(
      strstr(m, "itsm_bridge_late_changes{category=\"resolution_moved\"} 0\n"));
  assert_non_null(strstr(m,
                         "itsm_bridge_sla_compliance_ratio{sla=\"desk\","
                         "priority=\"P1\",kpi=\"first_response\"} 0\n"));
  assert_non_null(strstr(m,
                         "itsm_bridge_sla_compliance_ratio{sla=\"desk\","
                         "priority=\"P1\",kpi=\"resolution\"} 1\n"));
  assert_non_null(strstr(m,
                         "itsm_bridge_availability_ratio{service="
                         "\"ERP \\\"core\\\" \\\\ A\"} 0.998656\n"));
  /* no store given: no freshness samples, the family is still declared */
  assert_non_null(strstr(m,
                         "# TYPE itsm_bridge_sync_last_success_"
                         "timestamp_seconds gauge\n# UNIT itsm_bridge_sync_"
                         "last_success_timestamp_seconds seconds\n# EOF\n"));
  /* no SLA penalty configured: no credit sample */
  assert_null(strstr(m, "itsm_bridge_sla_credit{"));
  free(m);
}

/* Thresholds from the alert rules: one alert each in prometheus-rules,
 * and the compliance one becomes the objective of that SLA's SLO. */
static void test_thresholds(void **state) {
  fixture *f = *state;
  const ib_export_threshold th[] = {
      {IB_THRESHOLD_COMPLIANCE_BELOW, "res {{ x }}", "desk", 1, 90.0},
      {IB_THRESHOLD_BUDGET_CONSUMED, "erp-budget", f->avail.service, 0, 50.0},
  };
  f->d.thresholds = th;
  f->d.n_thresholds = 2;
  char err[256], path[128];
  snprintf(path, sizeof path, "%s/rules.yml", f->dir);
  assert_int_equal(ib_export_prometheus_rules(&f->d, path, err, sizeof err), 0);
  char *m = slurp(f->dir, "rules.yml");
  assert_non_null(strstr(m,
                         "expr: \"itsm_bridge_sla_compliance_ratio{sla=\\\"desk"
                         "\\\",priority=\\\"all\\\",kpi=\\\"resolution\\\"} "
                         "< 0.9\"\n"));
  /* the rule's name reaches Prometheus' templating as a literal */
  assert_non_null(strstr(m, "rule: \"{{ \\\"res {{ x }}\\\" }}\"\n"));
  assert_non_null(strstr(m,
                         "availability_error_budget_consumed_ratio{service="
                         "\\\"ERP \\\\\\\"core\\\\\\\" \\\\\\\\ A\\\"} "
                         ">= 0.5\"\n"));
  assert_non_null(strstr(m, "rule: \"erp-budget\"\n"));
  free(m);
  snprintf(path, sizeof path, "%s/slo.yaml", f->dir);
  assert_int_equal(ib_export_openslo(&f->d, path, err, sizeof err), 0);
  m = slurp(f->dir, "slo.yaml");
  /* P1 resolution takes the 90 % threshold, P1 first response has none */
  char *res = strstr(m, "name: desk-p1-resolution\n");
  char *fr = strstr(m, "name: desk-p1-first-response\n");
  assert_non_null(res);
  assert_non_null(fr);
  assert_true(fr < res);
  assert_non_null(strstr(res, "target: 0.9\n"));
  assert_non_null(strstr(fr, "target: 1\n"));
  assert_true(strstr(fr, "target: 1\n") < res);
  free(m);
}

static void test_format_num(void **state) {
  (void)state;
  char buf[64];
  ib_export_format_num(99.4746, 3, buf, sizeof buf);
  assert_string_equal(buf, "99.475");
  ib_export_format_num(1440.0, 2, buf, sizeof buf);
  assert_string_equal(buf, "1440");
  ib_export_format_num(-0.0001, 3, buf, sizeof buf);
  assert_string_equal(buf, "0");
  ib_export_format_num(0.5, 6, buf, sizeof buf);
  assert_string_equal(buf, "0.5");
}

static void test_atomic(void **state) {
  fixture *f = *state;
  char err[256], path[128];
  snprintf(path, sizeof path, "%s/out.txt", f->dir);
  ib_atomic_file af;
  assert_int_equal(ib_atomic_open(&af, path, err, sizeof err), 0);
  fputs("half", af.fp);
  ib_atomic_abort(&af);
  struct stat sb;
  assert_int_not_equal(stat(path, &sb), 0); /* never appeared */
  assert_int_equal(ib_atomic_open(&af, path, err, sizeof err), 0);
  fputs("whole", af.fp);
  assert_int_equal(ib_atomic_commit(&af, err, sizeof err), 0);
  char *s = slurp(f->dir, "out.txt");
  assert_string_equal(s, "whole");
  free(s);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", f->dir);
  assert_int_equal(system(cmd), 0); /* no temporary file left */
  snprintf(path, sizeof path, "%s/missing/out.txt", f->dir);
  assert_int_equal(ib_atomic_open(&af, path, err, sizeof err), -1);
  assert_non_null(strstr(err, "missing/out.txt"));
}

static void test_rows(void **state) {
  fixture *f = *state;
  char err[256];
  size_t expect[IB_TABLE_COUNT] = {1, 1, 0, 1, 1, 1, 1};
  for (int t = 0; t < IB_TABLE_COUNT; t++) {
    ib_export_rows *it = NULL;
    ib_export_cell cells[32];
    assert_true(ib_export_tables[t].n_columns <= 32);
    assert_int_equal(ib_export_rows_open(&f->d, t, &it, err, sizeof err), 0);
    size_t n = 0;
    while (ib_export_rows_next(it, cells) == 1) n++;
    ib_export_rows_close(it);
    if (t == IB_TABLE_KPI)
      /* P1 first response and resolution (10 + 10 figures with target_s),
       * totals (9 + 9) and availability (7) */
      assert_int_equal(n, 10 + 10 + 9 + 9 + 7);
    else
      assert_int_equal(n, expect[t]);
  }
  /* K-1's first response: breached by us, met by the source; no reading
   * (no pauses, already 24x7, no history, a response recorded) explains
   * it. Its resolution agrees (nothing reported). */
  ib_export_rows *it = NULL;
  ib_export_cell c[32];
  assert_int_equal(
      ib_export_rows_open(&f->d, IB_TABLE_DISAGREEMENTS, &it, err, sizeof err),
      0);
  assert_int_equal(ib_export_rows_next(it, c), 1);
  assert_string_equal(c[1].text, "desk");
  assert_string_equal(c[3].text, "K-1");
  assert_string_equal(c[4].text, "desk");
  assert_string_equal(c[5].text, "P1");
  assert_string_equal(c[6].text, "first_response");
  assert_int_equal(c[7].i, 2700);
  assert_int_equal(c[8].i, 1800);
  assert_string_equal(c[9].text, "breached");
  assert_string_equal(c[10].text, "met");
  assert_string_equal(c[11].text, "unexplained");
  assert_int_equal(ib_export_rows_next(it, c), 0);
  assert_int_equal(ib_export_rows_next(it, c), 0);
  ib_export_rows_close(it);

  /* the late change, as the store listed it */
  assert_int_equal(
      ib_export_rows_open(&f->d, IB_TABLE_CHANGES, &it, err, sizeof err), 0);
  assert_int_equal(ib_export_rows_next(it, c), 1);
  assert_string_equal(c[0].text, "2026-10");
  assert_int_equal(c[1].i, 7);
  assert_string_equal(c[4].text, "K-1");
  assert_string_equal(c[6].text, "priority");
  assert_string_equal(c[7].text, "priority_changed");
  assert_string_equal(c[8].text, "P1");
  assert_string_equal(c[9].text, "P3");
  assert_int_equal(c[10].i, 4);
  assert_int_equal(c[11].i, 1793692800);
  assert_int_equal(ib_export_rows_next(it, c), 0);
  ib_export_rows_close(it);
}

int main(void) {
  setenv("TZDIR", "/usr/share/zoneinfo", 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
      cmocka_unit_test_setup_teardown(test_excel, setup, teardown),
      cmocka_unit_test_setup_teardown(test_json, setup, teardown),
      cmocka_unit_test_setup_teardown(test_openmetrics, setup, teardown),
      cmocka_unit_test_setup_teardown(test_thresholds, setup, teardown),
      cmocka_unit_test(test_format_num),
      cmocka_unit_test_setup_teardown(test_atomic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
