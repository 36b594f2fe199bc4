/*
 * test_alerts.c -- the alert rules (alerts.c) against hand-computed cases.
 * ticket_at_risk across a lunch break, a weekend, a holiday and both Paris
 * DST changes of 2026 (instants written in UTC with the Paris offset worked
 * out by hand: CEST = UTC+2 from 29 March to 25 October 2026, CET = UTC+1
 * otherwise), pauses subtracted and a running pause freezing the clock;
 * compliance_below and availability_budget at, above and below their
 * thresholds; source_stale. The configuration is read by ib_config_load
 * from a file, as the command reads it.
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
#include <unistd.h>

#include <cmocka.h>

#include "alerts.h"
#include "tz.h"

#define H 3600
#define M 60
#define NONE IB_TIME_NONE

static ib_time utc(int y, int mo, int d, int h, int mi) {
  return ib_days_from_civil(y, mo, d) * 86400 + (int64_t)h * H + mi * M;
}

static const char cfg_text[] =
    "timezone = \"Europe/Paris\";\n"
    "calendars = (\n"
    "  { name = \"office\"; timezone = \"Europe/Paris\";\n"
    "    hours = { mon = \"08:00-12:30,13:30-18:00\"; tue = \"08:00-18:00\";\n"
    "              wed = \"08:00-18:00\"; thu = \"08:00-18:00\";\n"
    "              fri = \"08:00-17:00\"; };\n"
    "    holidays = [ \"2026-11-11\" ]; },\n"
    "  { name = \"24x7\"; } );\n"
    "sources = ( { name = \"a\"; plugin = \"csv\"; },\n"
    "            { name = \"b\"; plugin = \"csv\"; } );\n"
    "slas = ( { name = \"inc\"; calendar = \"office\";\n"
    "  targets = ( { priority = \"P1\"; first_response = \"30m\";\n"
    "                resolution = \"4h\"; } ); } );\n"
    "availability = ( { service = \"ERP\"; target_pct = 99.0;\n"
    "                   calendar = \"24x7\"; } );\n"
    "alerts = {\n"
    "  webhooks = ( { name = \"ops\"; url = \"https://hooks.example.com/x\"; } "
    ");\n"
    "  rules = (\n"
    "    { name = \"risk\"; type = \"ticket_at_risk\"; sla = \"inc\";\n"
    "      within = \"30m\"; notify = [ \"ops\" ]; },\n"
    "    { name = \"comp50\"; type = \"compliance_below\"; sla = \"inc\";\n"
    "      kpi = \"resolution\"; below_pct = 50.0; },\n"
    "    { name = \"comp60\"; type = \"compliance_below\"; sla = \"inc\";\n"
    "      kpi = \"resolution\"; below_pct = 60.0; },\n"
    "    { name = \"budget50\"; type = \"availability_budget\";\n"
    "      service = \"ERP\"; consumed_pct = 50.0; },\n"
    "    { name = \"budget51\"; type = \"availability_budget\";\n"
    "      service = \"ERP\"; consumed_pct = 51.0; },\n"
    "    { name = \"stale\"; type = \"source_stale\"; after = \"26h\"; },\n"
    "    { name = \"stale-a\"; type = \"source_stale\"; after = \"1h\";\n"
    "      sources = [ \"a\" ]; }\n"
    "  ); };\n";

enum { R_RISK, R_COMP50, R_COMP60, R_BUDGET50, R_BUDGET51, R_STALE, R_STALE_A };

static ib_config *cfg;
static ib_ticket_set tickets;
static ib_outage_set outages;
static ib_time last_success[2];
static ib_alert_set result;

static int setup(void **state) {
  (void)state;
  char path[] = "/tmp/test_alerts_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  if (write(fd, cfg_text, sizeof cfg_text - 1) !=
      (ssize_t)(sizeof cfg_text - 1))
    return -1;
  close(fd);
  char err[512];
  cfg = ib_config_load(path, err, sizeof err);
  unlink(path);
  if (cfg == NULL) {
    fprintf(stderr, "config: %s\n", err);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ib_config_free(cfg);
  return 0;
}

static int reset(void **state) {
  (void)state;
  memset(&tickets, 0, sizeof tickets);
  memset(&outages, 0, sizeof outages);
  memset(&result, 0, sizeof result);
  last_success[0] = last_success[1] = NONE;
  return 0;
}

static int clean(void **state) {
  (void)state;
  ib_ticket_set_free(&tickets);
  ib_outage_set_free(&outages);
  ib_alert_set_free(&result);
  return 0;
}

static ib_ticket_row *ticket(const char *key, ib_time created) {
  ib_ticket_row *t = ib_ticket_set_add(&tickets);
  assert_non_null(t);
  t->source = strdup("a");
  t->id = strdup(key);
  t->key = strdup(key);
  t->kind = IB_KIND_INCIDENT;
  t->priority = 1;
  t->status = IB_STATE_OPEN;
  t->created_at = created;
  return t;
}

static void add_pause(ib_ticket_row *t, ib_time s, ib_time e) {
  t->pauses = realloc(t->pauses, (t->n_pauses + 1) * sizeof *t->pauses);
  assert_non_null(t->pauses);
  t->pauses[t->n_pauses++] = (ib_interval){s, e};
}

/* Evaluates at as_of over the month [from, to). */
static void evaluate(ib_time from, ib_time to, ib_time as_of) {
  ib_alert_input in = {cfg,   &tickets, &outages, last_success, from, to,
                       as_of, NULL,     0};
  char err[256] = "";
  ib_alert_set_free(&result);
  if (ib_alerts_evaluate(&in, &result, err, sizeof err) != 0)
    fail_msg("evaluate: %s", err);
  assert_int_equal(result.n, cfg->alerts.n_rules);
}

static void evaluate_at(ib_time as_of) {
  evaluate(as_of - 20 * 86400, as_of + 10 * 86400, as_of);
}

static const char *str(const cJSON *d, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *d, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, key);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The risk rule lists exactly one ticket target: key, kpi, remaining_s and
 * due_at as computed by hand. */
static void expect_one_at_risk(const char *key, const char *kpi,
                               int64_t remaining, ib_time due) {
  const ib_alert *a = &result.items[R_RISK];
  assert_true(a->firing);
  assert_int_equal(cJSON_GetArraySize(a->details), 1);
  const cJSON *d = cJSON_GetArrayItem(a->details, 0);
  assert_string_equal(str(d, "key"), key);
  assert_string_equal(str(d, "source"), "a");
  assert_string_equal(str(d, "priority"), "P1");
  assert_string_equal(str(d, "kpi"), kpi);
  assert_int_equal((int64_t)num(d, "remaining_s"), remaining);
  char iso[IB_ISO_LEN];
  ib_format_iso8601(due, iso);
  assert_string_equal(str(d, "due_at"), iso);
}

/* Lunch: Monday 5 Oct, created 12:10 CEST, at 12:20 CEST 10 of 30 minutes
 * are used; 10 more to 12:30, lunch, then 10 -> due 13:40 CEST (11:40Z).
 * The resolution target (4 h) is far: not listed. */
static void test_risk_lunch(void **state) {
  (void)state;
  ticket("L-1", utc(2026, 10, 5, 10, 10));
  evaluate_at(utc(2026, 10, 5, 10, 20));
  expect_one_at_risk("L-1", "first_response", 20 * M, utc(2026, 10, 5, 11, 40));
  assert_non_null(strstr(result.items[R_RISK].summary, "SLA 'inc'"));
}

/* Weekend: Friday 9 Oct, created 16:45 CEST, at 16:50 25 minutes left: 10
 * to 17:00, then Monday 12 Oct 08:15 CEST (06:15Z). */
static void test_risk_weekend(void **state) {
  (void)state;
  ticket("W-1", utc(2026, 10, 9, 14, 45));
  evaluate_at(utc(2026, 10, 9, 14, 50));
  expect_one_at_risk("W-1", "first_response", 25 * M, utc(2026, 10, 12, 6, 15));
}

/* Holiday: Tuesday 10 Nov, created 17:40 CET, at 17:50 20 minutes left: 10
 * to 18:00, Wednesday 11 Nov closed, Thursday 12 Nov 08:10 CET (07:10Z). */
static void test_risk_holiday(void **state) {
  (void)state;
  ticket("H-1", utc(2026, 11, 10, 16, 40));
  evaluate_at(utc(2026, 11, 10, 16, 50));
  expect_one_at_risk("H-1", "first_response", 20 * M, utc(2026, 11, 12, 7, 10));
}

/* DST, October: Friday 23 Oct, created 16:50 CEST, at 16:55 25 minutes
 * left: 5 to 17:00, clocks back on Sunday, Monday 26 Oct 08:20 CET
 * (07:20Z). */
static void test_risk_dst_october(void **state) {
  (void)state;
  ticket("D-1", utc(2026, 10, 23, 14, 50));
  evaluate_at(utc(2026, 10, 23, 14, 55));
  expect_one_at_risk("D-1", "first_response", 25 * M, utc(2026, 10, 26, 7, 20));
}

/* DST, March: Friday 27 Mar, created 16:40 CET, at 16:45 25 minutes left:
 * 15 to 17:00, clocks forward on Sunday, Monday 30 Mar 08:10 CEST
 * (06:10Z). */
static void test_risk_dst_march(void **state) {
  (void)state;
  ticket("D-2", utc(2026, 3, 27, 15, 40));
  evaluate_at(utc(2026, 3, 27, 15, 45));
  expect_one_at_risk("D-2", "first_response", 25 * M, utc(2026, 3, 30, 6, 10));
}

/* Not listed: answered, already breached, resolved, another SLA's
 * priority, and (quiet rule) no summary nor details. */
static void test_risk_quiet(void **state) {
  (void)state;
  ib_ticket_row *t = ticket("Q-1", utc(2026, 10, 6, 10, 0));
  t->first_response_at = utc(2026, 10, 6, 10, 5); /* answered */
  ticket("Q-2", utc(2026, 10, 6, 9, 0));          /* breached */
  t = ticket("Q-3", utc(2026, 10, 6, 10, 0));
  t->resolved_at = utc(2026, 10, 6, 10, 1); /* resolved */
  t->status = IB_STATE_RESOLVED;
  t = ticket("Q-4", utc(2026, 10, 6, 10, 0));
  t->priority = 2; /* no target */
  evaluate_at(utc(2026, 10, 6, 10, 10));
  assert_false(result.items[R_RISK].firing);
  assert_int_equal(cJSON_GetArraySize(result.items[R_RISK].details), 0);
  assert_string_equal(result.items[R_RISK].summary, "");
}

/* Resolution with pauses, Tuesday 6 Oct (08:00-18:00 CEST): created 08:00,
 * answered 08:05, paused 09:00-10:00. At 12:50, 4h50 open minus 1 h paused
 * = 3h50 of 4 h: 10 minutes left, due 13:00 CEST (11:00Z). Counted without
 * the pause it would be breached, so not listed. P-2 is the same with a
 * second pause running since 12:45: its clock is frozen, not listed. */
static void test_risk_pauses(void **state) {
  (void)state;
  ib_ticket_row *t = ticket("P-1", utc(2026, 10, 6, 6, 0));
  t->first_response_at = utc(2026, 10, 6, 6, 5);
  add_pause(t, utc(2026, 10, 6, 7, 0), utc(2026, 10, 6, 8, 0));
  t = ticket("P-2", utc(2026, 10, 6, 6, 0));
  t->first_response_at = utc(2026, 10, 6, 6, 5);
  add_pause(t, utc(2026, 10, 6, 7, 0), utc(2026, 10, 6, 8, 0));
  add_pause(t, utc(2026, 10, 6, 10, 45), NONE);
  evaluate_at(utc(2026, 10, 6, 10, 50));
  expect_one_at_risk("P-1", "resolution", 10 * M, utc(2026, 10, 6, 11, 0));
}

/* Two resolutions in October, one in 1 h (met), one in 6 h (breached):
 * 50 %. Below 60 fires; below 50 does not (50 is not below 50). No ticket
 * judged (November): null compliance, never fires. */
static void test_compliance_below(void **state) {
  (void)state;
  ib_ticket_row *t = ticket("C-1", utc(2026, 10, 6, 6, 0));
  t->first_response_at = utc(2026, 10, 6, 6, 5);
  t->resolved_at = utc(2026, 10, 6, 7, 0);
  t->status = IB_STATE_RESOLVED;
  t = ticket("C-2", utc(2026, 10, 7, 6, 0));
  t->first_response_at = utc(2026, 10, 7, 6, 5);
  t->resolved_at = utc(2026, 10, 7, 12, 0);
  t->status = IB_STATE_RESOLVED;
  ib_time from = utc(2026, 10, 1, 0, 0), to = utc(2026, 11, 1, 0, 0);
  evaluate(from, to, utc(2026, 10, 20, 12, 0));
  assert_false(result.items[R_COMP50].firing);
  const ib_alert *a = &result.items[R_COMP60];
  assert_true(a->firing);
  const cJSON *d = cJSON_GetArrayItem(a->details, 0);
  assert_string_equal(str(d, "sla"), "inc");
  assert_string_equal(str(d, "kpi"), "resolution");
  assert_true(fabs(num(d, "compliance_pct") - 50.0) < 1e-9);
  assert_int_equal((int)num(d, "met"), 1);
  assert_int_equal((int)num(d, "breached"), 1);
  /* A month with no resolution yet: null, quiet. */
  evaluate(to, utc(2026, 12, 1, 0, 0), utc(2026, 11, 3, 12, 0));
  assert_false(result.items[R_COMP60].firing);
}

/* ERP, 99.0 % over October in UTC (744 h): 7h26m24s (26784 s) allowed.
 * 13392 s down is exactly 50 %: the 50 % rule fires (at), the 51 % one
 * does not (below); 13660 s (51.0006 %) fires both. */
static void test_availability_budget(void **state) {
  (void)state;
  ib_outage_row *o = ib_outage_set_add(&outages);
  assert_non_null(o);
  o->source = strdup("a");
  o->id = strdup("O-1");
  o->service = strdup("ERP");
  o->kind = IB_OUTAGE_OUTAGE;
  o->start = utc(2026, 10, 2, 0, 0);
  o->end = o->start + 13392;
  ib_time from = utc(2026, 10, 1, 0, 0), to = utc(2026, 11, 1, 0, 0);
  ib_time as_of = utc(2026, 10, 11, 0, 0); /* 10 days of 31 elapsed */
  evaluate(from, to, as_of);
  const ib_alert *a = &result.items[R_BUDGET50];
  assert_true(a->firing);
  assert_false(result.items[R_BUDGET51].firing);
  const cJSON *d = cJSON_GetArrayItem(a->details, 0);
  assert_string_equal(str(d, "service"), "ERP");
  assert_true(fabs(num(d, "consumed_pct") - 50.0) < 0.01);
  /* burn rate: 0.5 of the budget in 10/31 of the month = 1.55 */
  assert_true(fabs(num(d, "burn_rate") - 1.55) < 0.01);
  assert_int_equal((int64_t)num(d, "downtime_s"), 13392);
  assert_int_equal((int64_t)num(d, "allowed_s"), 26784);
  o->end = o->start + 13660;
  evaluate(from, to, as_of);
  assert_true(result.items[R_BUDGET50].firing);
  assert_true(result.items[R_BUDGET51].firing);
  o->end = o->start + 13000; /* 48.5 %: below both */
  evaluate(from, to, as_of);
  assert_false(result.items[R_BUDGET50].firing);
}

/* a synced 25 h ago, b never: with after = 26h only b is stale; a at
 * exactly 26 h is not older than 26 h; the rule limited to a with after =
 * 1h fires for a alone. */
static void test_source_stale(void **state) {
  (void)state;
  ib_time as_of = utc(2026, 10, 20, 12, 0);
  last_success[0] = as_of - 25 * H;
  evaluate_at(as_of);
  const ib_alert *a = &result.items[R_STALE];
  assert_true(a->firing);
  assert_int_equal(cJSON_GetArraySize(a->details), 1);
  const cJSON *d = cJSON_GetArrayItem(a->details, 0);
  assert_string_equal(str(d, "source"), "b");
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "last_success")));
  a = &result.items[R_STALE_A];
  assert_true(a->firing);
  assert_int_equal(cJSON_GetArraySize(a->details), 1);
  assert_string_equal(str(cJSON_GetArrayItem(a->details, 0), "source"), "a");
  assert_int_equal((int64_t)num(cJSON_GetArrayItem(a->details, 0), "age_s"),
                   25 * H);
  last_success[0] = as_of - 26 * H;
  last_success[1] = as_of - 60;
  evaluate_at(as_of);
  assert_false(result.items[R_STALE].firing);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_risk_lunch, reset, clean),
      cmocka_unit_test_setup_teardown(test_risk_weekend, reset, clean),
      cmocka_unit_test_setup_teardown(test_risk_holiday, reset, clean),
      cmocka_unit_test_setup_teardown(test_risk_dst_october, reset, clean),
      cmocka_unit_test_setup_teardown(test_risk_dst_march, reset, clean),
      cmocka_unit_test_setup_teardown(test_risk_quiet, reset, clean),
      cmocka_unit_test_setup_teardown(test_risk_pauses, reset, clean),
      cmocka_unit_test_setup_teardown(test_compliance_below, reset, clean),
      cmocka_unit_test_setup_teardown(test_availability_budget, reset, clean),
      cmocka_unit_test_setup_teardown(test_source_stale, reset, clean),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
