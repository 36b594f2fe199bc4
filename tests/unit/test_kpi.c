/*
 * test_kpi.c -- the KPI engine (SPEC §6) on hand-built tickets, with every
 * expected figure worked out by hand in the comments: lunch breaks,
 * weekends, pauses over closed hours, reversed and zero-length intervals,
 * empty cohorts, percentiles, credits with a cap, DST, availability from
 * outages and from tickets. Instants are written in UTC.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpi.h"
#include "kpi_format.h"
#include "tz.h"

#define H 3600
#define M 60
#define NONE IB_TIME_NONE
#define ALL_KINDS ((1u << IB_KIND_COUNT) - 1)
#define EPS 1e-6

static ib_time utc(int y, int mo, int d, int h, int mi) {
  return ib_days_from_civil(y, mo, d) * 86400 + (int64_t)h * H + mi * M;
}

/* ---- configuration built as structs ------------------------------------ */

enum { CAL_BIZ, CAL_24X7, CAL_PARIS, N_CALS };

static ib_calendar_cfg calendars[N_CALS];
static ib_sla_cfg slas[2];
static ib_availability_cfg avail[2];
static char *support_sources[] = {"a"};
static ib_config cfg;

static void set_day(ib_calendar_cfg *c, int wd, int n, const int *mins) {
  c->week[wd].n = n;
  for (int i = 0; i < n; i++) {
    c->week[wd].ranges[i].start_min = mins[2 * i];
    c->week[wd].ranges[i].end_min = mins[2 * i + 1];
  }
}

static int setup(void **state) {
  (void)state;
  memset(calendars, 0, sizeof calendars);
  memset(slas, 0, sizeof slas);
  memset(avail, 0, sizeof avail);
  memset(&cfg, 0, sizeof cfg);
  /* biz: UTC, Mon-Fri 09:00-12:00 and 13:00-17:00 (7 h a day). */
  static const int biz[] = {9 * 60, 12 * 60, 13 * 60, 17 * 60};
  calendars[CAL_BIZ].name = "biz";
  calendars[CAL_BIZ].timezone = "UTC";
  calendars[CAL_BIZ].has_hours = 1;
  for (int wd = 0; wd < 5; wd++) set_day(&calendars[CAL_BIZ], wd, 2, biz);
  calendars[CAL_24X7].name = "24x7";
  calendars[CAL_24X7].timezone = "UTC";
  /* paris: Mon-Fri 08:00-18:00 Europe/Paris. */
  static const int office[] = {8 * 60, 18 * 60};
  calendars[CAL_PARIS].name = "paris";
  calendars[CAL_PARIS].timezone = "Europe/Paris";
  calendars[CAL_PARIS].has_hours = 1;
  for (int wd = 0; wd < 5; wd++) set_day(&calendars[CAL_PARIS], wd, 1, office);

  ib_sla_cfg *s = &slas[0];
  s->name = "support";
  s->sources = support_sources;
  s->n_sources = 1;
  s->kinds_mask = 1u << IB_KIND_INCIDENT;
  s->calendar = CAL_BIZ;
  s->targets[1] = (ib_target_cfg){1, 30 * M, 4 * H};
  s->targets[2] = (ib_target_cfg){1, 1 * H, 8 * H};
  s->targets[3] = (ib_target_cfg){1, IB_DURATION_NONE, 16 * H};
  s->penalty = (ib_penalty_cfg){1, 12000.0, "EUR", 5.0, 2.0, 20.0};

  cfg.file = "test.cfg";
  cfg.timezone = "UTC";
  cfg.calendars = calendars;
  cfg.n_calendars = N_CALS;
  cfg.slas = slas;
  cfg.n_slas = 1;
  cfg.availability = avail;
  return 0;
}

/* ---- tickets ----------------------------------------------------------- */

static ib_ticket_row tk(const char *key, int prio, ib_time created,
                        ib_time first_response, ib_time resolved) {
  ib_ticket_row t;
  memset(&t, 0, sizeof t);
  t.source = "a";
  t.id = (char *)key;
  t.key = (char *)key;
  t.title = "title";
  t.kind = IB_KIND_INCIDENT;
  t.priority = prio;
  t.status = resolved != NONE ? IB_STATE_RESOLVED : IB_STATE_OPEN;
  t.created_at = created;
  t.first_response_at = first_response;
  t.resolved_at = resolved;
  t.closed_at = t.updated_at = t.deleted_at = NONE;
  t.reported_response_breached = IB_VERDICT_UNKNOWN;
  t.reported_resolution_breached = IB_VERDICT_UNKNOWN;
  return t;
}

static ib_kpi_result *run(const ib_ticket_set *ts, const ib_outage_set *os,
                          ib_time from, ib_time to, ib_time as_of,
                          FILE *warnings) {
  ib_kpi_query q = {from, to, as_of, NULL, warnings, NULL, NULL, 0};
  ib_kpi_result *r = NULL;
  char err[256] = "";
  if (ib_kpi_compute(&cfg, ts, os, &q, &r, err, sizeof err) != 0)
    fail_msg("ib_kpi_compute: %s", err);
  return r;
}

static void assert_near(double got, double want) {
  if (isnan(got) || fabs(got - want) > EPS)
    fail_msg("got %.6f, want %.6f", got, want);
}

static void assert_null_stats(const ib_kpi_stats *s) {
  assert_int_equal(s->tickets, 0);
  assert_true(isnan(s->compliance_pct));
  assert_true(isnan(s->mean_s));
  assert_true(isnan(s->median_s));
  assert_true(isnan(s->p90_s));
}

static const ib_kpi_ticket *row_of(const ib_kpi_result *r, const char *key) {
  for (size_t i = 0; i < r->n_tickets; i++)
    if (strcmp(r->tickets[i].ticket->key, key) == 0) return &r->tickets[i];
  fail_msg("no per-ticket row for %s", key);
  return NULL;
}

/* October 2026: Thu 1, Mon 5, Sat 10, Mon 12, Wed 14, Mon 19, Mon 26,
 * Thu 29, Fri 30, Sat 31. */
static ib_ticket_row october[20];
static ib_interval t2_pause[1], t7_pauses[3];

static size_t october_tickets(void) {
  size_t n = 0;
  /* P1: response 30m, resolution 4h. */
  /* T1 Mon 5 11:50 -> answer 13:10 (10m + 10m around lunch), resolved
   * 16:00 (10m + 3h). FR 1200 met, RES 11400 met. The source said the
   * response was breached: one disagreement. */
  october[n] = tk("T1", 1, utc(2026, 10, 5, 11, 50), utc(2026, 10, 5, 13, 10),
                  utc(2026, 10, 5, 16, 0));
  october[n++].reported_response_breached = IB_VERDICT_BREACHED;
  /* T2 created Saturday, answered Mon 12 09:45 (45m: breached by 15m);
   * resolved 16:30: 3h + 3h30 = 23400, minus a pause 11:00-14:00 that
   * covers lunch (2 h open) = 16200 > 14400: breached by 1800. */
  t2_pause[0] =
      (ib_interval){utc(2026, 10, 12, 11, 0), utc(2026, 10, 12, 14, 0)};
  october[n] = tk("T2", 1, utc(2026, 10, 10, 10, 0), utc(2026, 10, 12, 9, 45),
                  utc(2026, 10, 12, 16, 30));
  october[n].pauses = t2_pause;
  october[n].n_pauses = 1;
  october[n++].reported_resolution_breached = IB_VERDICT_BREACHED; /* agrees */
  /* T3 Tue 6 16:50, never answered, resolved Wed 7 09:20: the response is
   * the resolution: 10m + 20m = 1800, met on the boundary. RES 1800. */
  october[n++] =
      tk("T3", 1, utc(2026, 10, 6, 16, 50), NONE, utc(2026, 10, 7, 9, 20));
  /* T4 Thu 29 16:00, unanswered at the end of the month: Thu 1 h + Fri
   * 7 h = 28800 > 1800, breached while unanswered; the source said met:
   * a disagreement. Backlog: 28800 > 14400, open_breached. */
  october[n] = tk("T4", 1, utc(2026, 10, 29, 16, 0), NONE, NONE);
  october[n++].reported_response_breached = IB_VERDICT_MET;
  /* T5 Fri 30 16:55, unanswered: 5 min so far, pending. Its reported
   * verdict is ignored while pending. */
  october[n] = tk("T5", 1, utc(2026, 10, 30, 16, 55), NONE, NONE);
  october[n++].reported_response_breached = IB_VERDICT_BREACHED;

  /* P2: response 1h, resolution 8h. */
  /* T6 Wed 14 08:00 (before hours) answered 09:30: 1800. Resolved Thu 15
   * 10:00: 7 h + 1 h = 28800, met on the boundary. */
  october[n++] = tk("T6", 2, utc(2026, 10, 14, 8, 0), utc(2026, 10, 14, 9, 30),
                    utc(2026, 10, 15, 10, 0));
  /* T7 Mon 19 09:00 answered at once (0 s). Resolved Tue 20 17:00: 14 h =
   * 50400; pauses 10:00-11:00 and 10:30-12:30 overlap (union 10:00-12:30,
   * 2 h open because 12:00-13:00 is lunch) and one still running from Tue
   * 16:00 (ends at the resolution: 1 h): 39600 > 28800, over by 10800. */
  t7_pauses[0] =
      (ib_interval){utc(2026, 10, 19, 10, 0), utc(2026, 10, 19, 11, 0)};
  t7_pauses[1] =
      (ib_interval){utc(2026, 10, 19, 10, 30), utc(2026, 10, 19, 12, 30)};
  t7_pauses[2] = (ib_interval){utc(2026, 10, 20, 16, 0), NONE};
  october[n] = tk("T7", 2, utc(2026, 10, 19, 9, 0), utc(2026, 10, 19, 9, 0),
                  utc(2026, 10, 20, 17, 0));
  october[n].pauses = t7_pauses;
  october[n++].n_pauses = 3;
  /* Out of scope: another source, a request, a cancelled ticket. */
  october[n] =
      tk("T8", 2, utc(2026, 10, 19, 9, 0), utc(2026, 10, 23, 9, 0), NONE);
  october[n++].source = "b";
  october[n] =
      tk("T9", 2, utc(2026, 10, 19, 9, 0), utc(2026, 10, 23, 9, 0), NONE);
  october[n++].kind = IB_KIND_REQUEST;
  october[n] = tk("T10", 2, utc(2026, 10, 19, 9, 0), NONE, NONE);
  october[n++].status = IB_STATE_CANCELLED;
  /* T11 answered and resolved before it was created: both count 0 s, one
   * warning line. */
  october[n++] = tk("T11", 2, utc(2026, 10, 21, 10, 0), utc(2026, 10, 21, 9, 0),
                    utc(2026, 10, 21, 9, 30));
  /* T13 created Wed 30 Sep 16:00, resolved Thu 1 Oct 10:00: not in the
   * response cohort; resolution 1 h + 1 h = 7200 met. */
  october[n++] = tk("T13", 2, utc(2026, 9, 30, 16, 0), utc(2026, 9, 30, 16, 10),
                    utc(2026, 10, 1, 10, 0));
  /* T14 Fri 30 16:00 answered 16:30 (1800 met), resolved in November: not
   * in the resolution cohort; 1 h open at the end, not at risk. */
  october[n++] = tk("T14", 2, utc(2026, 10, 30, 16, 0),
                    utc(2026, 10, 30, 16, 30), utc(2026, 11, 2, 10, 0));

  /* P3: no response target, resolution 16h. T12: 1 h. */
  october[n++] =
      tk("T12", 3, utc(2026, 10, 26, 9, 0), NONE, utc(2026, 10, 26, 10, 0));
  /* P4 has no target: out of scope. */
  october[n++] = tk("T15", 4, utc(2026, 10, 26, 9, 0), NONE, NONE);
  return n;
}

static void test_october(void **state) {
  (void)state;
  ib_ticket_set ts = {.rows = october, .n = october_tickets()};
  FILE *warn = tmpfile();
  assert_non_null(warn);
  ib_kpi_result *r = run(&ts, NULL, utc(2026, 10, 1, 0, 0),
                         utc(2026, 11, 1, 0, 0), utc(2026, 11, 5, 0, 0), warn);
  assert_int_equal(r->end, utc(2026, 11, 1, 0, 0));
  assert_int_equal(r->n_slas, 1);
  const ib_kpi_sla *s = &r->slas[0];
  assert_int_equal(s->n_priorities, 3);

  /* P1 first response: [1200, 1800, 2700, 28800] + T5 pending. */
  const ib_kpi_stats *p1f = &s->by_priority[0].first_response;
  assert_int_equal(s->by_priority[0].priority, 1);
  assert_int_equal(p1f->target_s, 1800);
  assert_int_equal(p1f->tickets, 5);
  assert_int_equal(p1f->met, 2);
  assert_int_equal(p1f->breached, 2);
  assert_int_equal(p1f->pending, 1);
  assert_near(p1f->compliance_pct, 50.0);
  assert_near(p1f->mean_s, 34500.0 / 4);
  assert_near(p1f->median_s, (1800 + 2700) / 2.0);
  assert_near(p1f->p90_s, 28800); /* rank ceil(3.6) = 4 */
  assert_int_equal(p1f->reported_disagreements, 2);
  /* P1 resolution: [1800, 11400, 16200]. */
  const ib_kpi_stats *p1r = &s->by_priority[0].resolution;
  assert_int_equal(p1r->tickets, 3);
  assert_int_equal(p1r->met, 2);
  assert_int_equal(p1r->breached, 1);
  assert_int_equal(p1r->open_breached, 1);
  assert_near(p1r->compliance_pct, 200.0 / 3);
  assert_near(p1r->mean_s, 29400.0 / 3);
  assert_near(p1r->median_s, 11400);
  assert_near(p1r->p90_s, 16200);
  assert_int_equal(p1r->reported_disagreements, 0);

  /* P2 first response: [0, 0, 1800, 1800]. */
  const ib_kpi_stats *p2f = &s->by_priority[1].first_response;
  assert_int_equal(p2f->tickets, 4);
  assert_int_equal(p2f->met, 4);
  assert_near(p2f->compliance_pct, 100.0);
  assert_near(p2f->mean_s, 900);
  assert_near(p2f->median_s, 900);
  assert_near(p2f->p90_s, 1800);
  /* P2 resolution: [0, 7200, 28800, 39600]. */
  const ib_kpi_stats *p2r = &s->by_priority[1].resolution;
  assert_int_equal(p2r->tickets, 4);
  assert_int_equal(p2r->met, 3);
  assert_int_equal(p2r->breached, 1);
  assert_int_equal(p2r->open_breached, 0);
  assert_near(p2r->compliance_pct, 75.0);
  assert_near(p2r->mean_s, 75600.0 / 4);
  assert_near(p2r->median_s, 18000);
  assert_near(p2r->p90_s, 39600);

  /* P3: no response target, so an empty cohort of nulls. */
  const ib_kpi_stats *p3f = &s->by_priority[2].first_response;
  assert_int_equal(p3f->target_s, IB_DURATION_NONE);
  assert_null_stats(p3f);
  assert_near(s->by_priority[2].resolution.mean_s, 3600);

  /* Totals pooled: FR [0,0,1200,1800,1800,1800,2700,28800]. */
  const ib_kpi_stats *tf = &s->total_first_response;
  assert_int_equal(tf->tickets, 9);
  assert_int_equal(tf->met, 6);
  assert_int_equal(tf->breached, 2);
  assert_int_equal(tf->pending, 1);
  assert_near(tf->compliance_pct, 75.0);
  assert_near(tf->mean_s, 38100.0 / 8);
  assert_near(tf->median_s, 1800);
  assert_near(tf->p90_s, 28800);
  assert_int_equal(tf->reported_disagreements, 2);
  /* RES [0,1800,3600,7200,11400,16200,28800,39600]. */
  const ib_kpi_stats *tr = &s->total_resolution;
  assert_int_equal(tr->tickets, 8);
  assert_int_equal(tr->met, 6);
  assert_int_equal(tr->breached, 2);
  assert_int_equal(tr->open_breached, 1);
  assert_near(tr->mean_s, 108600.0 / 8);
  assert_near(tr->median_s, 9300);
  assert_near(tr->p90_s, 39600);

  /* Penalty: 5 % x 2 + 2 % x 2 = 14 % (< cap 20) of 12000 = 1680. */
  assert_true(s->has_penalty);
  assert_near(s->credit_pct, 14.0);
  assert_near(s->credit, 1680.0);

  /* Per-ticket rows. */
  const ib_kpi_ticket *t2 = row_of(r, "T2");
  assert_int_equal(t2->first_response.verdict, IB_KPI_BREACHED);
  assert_int_equal(t2->first_response.measured_s, 2700);
  assert_int_equal(t2->first_response.over_s, 900);
  assert_int_equal(t2->resolution.measured_s, 16200);
  assert_int_equal(t2->resolution.over_s, 1800);
  assert_int_equal(t2->resolution.reported, IB_VERDICT_BREACHED);
  assert_false(t2->resolution.disagrees);
  const ib_kpi_ticket *t1 = row_of(r, "T1");
  assert_true(t1->first_response.disagrees);
  const ib_kpi_ticket *t5 = row_of(r, "T5");
  assert_int_equal(t5->first_response.verdict, IB_KPI_PENDING);
  assert_int_equal(t5->first_response.measured_s, 300);
  assert_int_equal(row_of(r, "T14")->resolution.verdict, IB_KPI_NONE);
  assert_true(row_of(r, "T4")->open_breached);
  for (size_t i = 0; i < r->n_tickets; i++) {
    const char *k = r->tickets[i].ticket->key;
    assert_true(strcmp(k, "T8") && strcmp(k, "T9") && strcmp(k, "T10") &&
                strcmp(k, "T15"));
  }

  /* Exactly one warning line, for T11. */
  rewind(warn);
  char line[512];
  int lines = 0;
  while (fgets(line, sizeof line, warn)) {
    lines++;
    assert_non_null(strstr(line, "T11"));
    assert_non_null(strstr(line, "source a"));
  }
  assert_int_equal(lines, 1);
  fclose(warn);

  /* The JSON keeps SPEC §7's shape: nulls for the empty P3 cohort. */
  cJSON *doc = ib_kpi_to_json(r, 1);
  assert_non_null(doc);
  cJSON *p3 = cJSON_GetArrayItem(
      cJSON_GetObjectItem(
          cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "slas"), 0),
          "by_priority"),
      2);
  cJSON *p3fr = cJSON_GetObjectItem(p3, "first_response");
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(p3fr, "target_s")));
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(p3fr, "mean_s")));
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "breaches")), 4);
  cJSON_Delete(doc);
  ib_kpi_result_free(r);
}

static void test_credit_cap_and_sla_filter(void **state) {
  (void)state;
  ib_ticket_set ts = {.rows = october, .n = october_tickets()};
  slas[0].penalty.cap_pct = 12.0;
  ib_kpi_result *r = run(&ts, NULL, utc(2026, 10, 1, 0, 0),
                         utc(2026, 11, 1, 0, 0), utc(2026, 11, 5, 0, 0), NULL);
  /* 14 % capped at 12 %: 1440 EUR. */
  assert_near(r->slas[0].credit_pct, 12.0);
  assert_near(r->slas[0].credit, 1440.0);
  ib_kpi_result_free(r);

  ib_kpi_query q = {utc(2026, 10, 1, 0, 0),
                    utc(2026, 11, 1, 0, 0),
                    NONE,
                    "nope",
                    NULL,
                    NULL,
                    NULL,
                    0};
  char err[256] = "";
  assert_int_equal(ib_kpi_compute(&cfg, &ts, NULL, &q, &r, err, sizeof err),
                   -1);
  assert_non_null(strstr(err, "nope"));
}

static void test_as_of_inside_period(void **state) {
  (void)state;
  ib_ticket_set ts = {.rows = october, .n = october_tickets()};
  /* as_of Fri 30 Oct 12:00: T4 (Thu 29 16:00) has 1 h + 3 h = 14400 so
   * far: breached (> 1800) but not yet at risk for resolution (= 14400).
   * T5 and T14 are created after as_of: T5 pending with 0 s; T14 answered
   * at 16:30 is still measured (d is not clipped at as_of). */
  ib_kpi_result *r =
      run(&ts, NULL, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0),
          utc(2026, 10, 30, 12, 0), NULL);
  assert_int_equal(r->end, utc(2026, 10, 30, 12, 0));
  const ib_kpi_ticket *t4 = row_of(r, "T4");
  assert_int_equal(t4->first_response.measured_s, 14400);
  assert_int_equal(t4->first_response.verdict, IB_KPI_BREACHED);
  assert_false(t4->open_breached);
  assert_int_equal(r->slas[0].by_priority[0].resolution.open_breached, 0);
  ib_kpi_result_free(r);
}

static void test_empty_cohorts(void **state) {
  (void)state;
  ib_ticket_set ts = {.rows = NULL, .n = 0};
  ib_kpi_result *r = run(&ts, NULL, utc(2026, 10, 1, 0, 0),
                         utc(2026, 11, 1, 0, 0), NONE, NULL);
  const ib_kpi_sla *s = &r->slas[0];
  assert_int_equal(s->n_priorities, 3);
  for (size_t k = 0; k < s->n_priorities; k++) {
    assert_null_stats(&s->by_priority[k].first_response);
    assert_null_stats(&s->by_priority[k].resolution);
  }
  assert_null_stats(&s->total_first_response);
  assert_null_stats(&s->total_resolution);
  assert_near(s->credit, 0.0);
  assert_int_equal(r->n_tickets, 0);
  ib_kpi_result_free(r);
}

/* n tickets on the 24x7 calendar resolved after 100, 200, ... n*100 s. */
static void percentiles(size_t n, double median, double p90) {
  ib_ticket_row rows[16];
  slas[0].calendar = CAL_24X7;
  for (size_t i = 0; i < n; i++)
    rows[i] = tk("P", 1, utc(2026, 10, 5, 0, 0),
                 utc(2026, 10, 5, 0, 0) + (ib_time)(i + 1) * 100,
                 utc(2026, 10, 5, 0, 0) + (ib_time)(n - i) * 100);
  ib_ticket_set ts = {.rows = rows, .n = n};
  ib_kpi_result *r = run(&ts, NULL, utc(2026, 10, 1, 0, 0),
                         utc(2026, 11, 1, 0, 0), NONE, NULL);
  const ib_kpi_stats *s = &r->slas[0].by_priority[0].resolution;
  assert_int_equal(s->tickets, (int64_t)n);
  assert_near(s->mean_s, 100.0 * (double)(n + 1) / 2);
  assert_near(s->median_s, median);
  assert_near(s->p90_s, p90);
  s = &r->slas[0].by_priority[0].first_response;
  assert_near(s->median_s, median);
  assert_near(s->p90_s, p90);
  ib_kpi_result_free(r);
}

static void test_percentiles(void **state) {
  (void)state;
  percentiles(1, 100, 100);
  percentiles(2, 150, 200);   /* ceil(1.8) = 2 */
  percentiles(10, 550, 900);  /* ceil(9.0) = 9 */
  percentiles(11, 600, 1000); /* ceil(9.9) = 10 */
}

static void test_dst(void **state) {
  (void)state;
  /* Paris office hours 08:00-18:00 Mon-Fri; P1 response target 30 min. */
  slas[0].calendar = CAL_PARIS;
  ib_ticket_row rows[2];
  /* Fri 27 Mar 16:00 CET (15:00Z) answered Mon 30 Mar 09:00 CEST (07:00Z):
   * Friday 16:00-18:00 = 2 h, Monday 08:00-09:00 = 1 h: 10800, breached by
   * 9000. A fixed UTC+1 offset would have said 2 h + 2 h. */
  rows[0] = tk("MAR", 1, utc(2026, 3, 27, 15, 0), utc(2026, 3, 30, 7, 0),
               utc(2026, 3, 30, 7, 0));
  /* Fri 23 Oct 17:00 CEST (15:00Z) resolved Mon 26 Oct 10:00 CET (09:00Z):
   * 1 h + 2 h = 10800. */
  rows[1] = tk("OCT", 1, utc(2026, 10, 23, 15, 0), utc(2026, 10, 23, 15, 30),
               utc(2026, 10, 26, 9, 0));
  ib_ticket_set ts = {.rows = rows, .n = 2};
  ib_kpi_result *r =
      run(&ts, NULL, utc(2026, 3, 1, 0, 0), utc(2026, 11, 1, 0, 0), NONE, NULL);
  const ib_kpi_ticket *mar = row_of(r, "MAR");
  assert_int_equal(mar->first_response.measured_s, 10800);
  assert_int_equal(mar->first_response.over_s, 9000);
  assert_int_equal(mar->resolution.measured_s, 10800);
  const ib_kpi_ticket *oct = row_of(r, "OCT");
  assert_int_equal(oct->first_response.measured_s, 1800);
  assert_int_equal(oct->resolution.measured_s, 10800);
  ib_kpi_result_free(r);
}

static void test_availability_outages(void **state) {
  (void)state;
  cfg.n_slas = 0;
  avail[0] = (ib_availability_cfg){.service = "ERP",
                                   .target_pct = 99.5,
                                   .calendar = CAL_24X7,
                                   .has_credit = 1,
                                   .monthly_fee = 3000.0,
                                   .currency = "EUR"};
  cfg.n_availability = 1;
  ib_outage_row o[8];
  memset(o, 0, sizeof o);
  struct {
    const char *svc;
    ib_outage_kind kind;
    ib_time s, e;
  } spec[8] = {
      /* 10:00-11:00 and 10:30-12:00 overlap: 2 h once. */
      {"ERP", IB_OUTAGE_OUTAGE, utc(2026, 10, 5, 10, 0),
       utc(2026, 10, 5, 11, 0)},
      {"ERP", IB_OUTAGE_OUTAGE, utc(2026, 10, 5, 10, 30),
       utc(2026, 10, 5, 12, 0)},
      /* 6 h degradation: only with count_degradation. */
      {"ERP", IB_OUTAGE_DEGRADATION, utc(2026, 10, 6, 0, 0),
       utc(2026, 10, 6, 6, 0)},
      {"ERP", IB_OUTAGE_PLANNED, utc(2026, 10, 7, 0, 0),
       utc(2026, 10, 7, 5, 0)},
      /* Ongoing since 31 Oct 23:00: 1 h up to the end. */
      {"ERP", IB_OUTAGE_OUTAGE, utc(2026, 10, 31, 23, 0), NONE},
      /* Straddles the start: 30 min inside. */
      {"ERP", IB_OUTAGE_OUTAGE, utc(2026, 9, 30, 23, 30),
       utc(2026, 10, 1, 0, 30)},
      {"CRM", IB_OUTAGE_OUTAGE, utc(2026, 10, 8, 0, 0), utc(2026, 10, 9, 0, 0)},
      /* Before the period: not counted. */
      {"ERP", IB_OUTAGE_OUTAGE, utc(2026, 9, 1, 0, 0), utc(2026, 9, 2, 0, 0)},
  };
  for (int i = 0; i < 8; i++) {
    o[i].service = (char *)spec[i].svc;
    o[i].kind = spec[i].kind;
    o[i].start = spec[i].s;
    o[i].end = spec[i].e;
    o[i].deleted_at = NONE;
    o[i].updated_at = NONE;
  }
  ib_outage_set os = {o, 8, 0};
  ib_ticket_set ts = {.rows = NULL, .n = 0};
  ib_kpi_result *r = run(&ts, &os, utc(2026, 10, 1, 0, 0),
                         utc(2026, 11, 1, 0, 0), utc(2026, 11, 3, 0, 0), NULL);
  const ib_kpi_availability *a = &r->availability[0];
  assert_int_equal(a->service_time_s, 31 * 86400);
  assert_int_equal(a->downtime_s, 7200 + 3600 + 1800);
  assert_int_equal(a->outages, 4);
  assert_near(a->availability_pct, 100.0 * (1 - 12600.0 / 2678400));
  assert_false(a->breached);
  assert_near(a->credit, 0.0);
  ib_kpi_result_free(r);

  /* With degradations: 34200 s down, 98.72 % < 99.5 %: credit
   * 3000 x 34200 / 2678400. */
  avail[0].count_degradation = 1;
  r = run(&ts, &os, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0),
          utc(2026, 11, 3, 0, 0), NULL);
  a = &r->availability[0];
  assert_int_equal(a->downtime_s, 34200);
  assert_int_equal(a->outages, 5);
  assert_true(a->breached);
  assert_near(a->credit, 3000.0 * 34200 / 2678400);
  ib_kpi_result_free(r);
}

static void test_availability_from_tickets(void **state) {
  (void)state;
  cfg.n_slas = 0;
  avail[0] = (ib_availability_cfg){.service = "CRM",
                                   .target_pct = 99.9,
                                   .calendar = CAL_24X7,
                                   .from_tickets = 1,
                                   .ft_kinds_mask = 1u << IB_KIND_INCIDENT,
                                   .ft_priorities_mask = 1u << 1};
  cfg.n_availability = 1;
  ib_ticket_row rows[5];
  /* P1 incident 10:00-12:00 with a pause (pauses do not shorten it). */
  static ib_interval pause = {0, 0};
  pause = (ib_interval){utc(2026, 10, 10, 10, 30), utc(2026, 10, 10, 11, 0)};
  rows[0] =
      tk("C1", 1, utc(2026, 10, 10, 10, 0), NONE, utc(2026, 10, 10, 12, 0));
  rows[0].pauses = &pause;
  rows[0].n_pauses = 1;
  rows[1] =
      tk("C2", 2, utc(2026, 10, 11, 10, 0), NONE, utc(2026, 10, 11, 12, 0));
  rows[2] =
      tk("C3", 1, utc(2026, 10, 12, 10, 0), NONE, utc(2026, 10, 12, 12, 0));
  rows[2].status = IB_STATE_CANCELLED;
  /* Unresolved since 22:00, as_of 23:00: 1 h. */
  rows[3] = tk("C4", 1, utc(2026, 10, 31, 22, 0), NONE, NONE);
  rows[4] =
      tk("C5", 1, utc(2026, 10, 13, 10, 0), NONE, utc(2026, 10, 13, 12, 0));
  rows[4].kind = IB_KIND_REQUEST;
  for (int i = 0; i < 5; i++) rows[i].service = "CRM";
  ib_ticket_set ts = {.rows = rows, .n = 5};
  /* An outage record overlapping C1: 11:00-13:00, union 10:00-13:00. */
  ib_outage_row o;
  memset(&o, 0, sizeof o);
  o.service = "CRM";
  o.kind = IB_OUTAGE_OUTAGE;
  o.start = utc(2026, 10, 10, 11, 0);
  o.end = utc(2026, 10, 10, 13, 0);
  o.deleted_at = o.updated_at = NONE;
  ib_outage_set os = {&o, 1, 0};
  ib_kpi_result *r =
      run(&ts, &os, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0),
          utc(2026, 10, 31, 23, 0), NULL);
  const ib_kpi_availability *a = &r->availability[0];
  /* The month so far: as_of is 31 Oct 23:00, one hour before its end. */
  assert_int_equal(a->service_time_s, 31 * 86400 - H);
  assert_int_equal(a->downtime_s, 3 * H + 1 * H);
  assert_int_equal(a->outages, 3);
  assert_true(isnan(a->credit)); /* no credit rule */
  assert_near(a->availability_pct, 100.0 * (1 - 14400.0 / 2674800));
  assert_true(a->breached); /* 99.46 % < 99.9 % */
  ib_kpi_result_free(r);
}

/* Mid-month, availability is measured over the elapsed part of the month
 * (SPEC §6: service_time = open(c, from, end), end = min(to, as_of)); before
 * the period starts there is no service time and no percentage. */
static void test_availability_month_so_far(void **state) {
  (void)state;
  cfg.n_slas = 0;
  avail[0] = (ib_availability_cfg){.service = "ERP",
                                   .target_pct = 99.5,
                                   .calendar = CAL_24X7,
                                   .has_credit = 1,
                                   .monthly_fee = 3000.0,
                                   .currency = "EUR"};
  /* Same service on the business calendar: Mon-Fri 09-12, 13-17 UTC. */
  avail[1] = avail[0];
  avail[1].calendar = CAL_BIZ;
  avail[1].has_credit = 0;
  cfg.n_availability = 2;
  ib_outage_row o[2];
  memset(o, 0, sizeof o);
  /* Mon 5 Oct 10:00-12:00, and one ongoing since Thu 15 Oct 16:00. */
  o[0] = (ib_outage_row){.service = "ERP",
                         .kind = IB_OUTAGE_OUTAGE,
                         .start = utc(2026, 10, 5, 10, 0),
                         .end = utc(2026, 10, 5, 12, 0),
                         .updated_at = NONE,
                         .deleted_at = NONE};
  o[1] = o[0];
  o[1].start = utc(2026, 10, 15, 16, 0);
  o[1].end = NONE;
  ib_outage_set os = {o, 2, 0};
  ib_ticket_set ts = {.rows = NULL, .n = 0};
  /* As of Fri 16 Oct 00:00: 15 days of 24x7 service, 2 h + 8 h down. */
  ib_kpi_result *r = run(&ts, &os, utc(2026, 10, 1, 0, 0),
                         utc(2026, 11, 1, 0, 0), utc(2026, 10, 16, 0, 0), NULL);
  const ib_kpi_availability *a = &r->availability[0];
  assert_int_equal(a->service_time_s, 15 * 86400);
  assert_int_equal(a->downtime_s, 10 * H);
  assert_int_equal(a->outages, 2);
  assert_near(a->availability_pct, 100.0 * (1 - 36000.0 / 1296000));
  assert_true(a->breached); /* 97.22 % */
  assert_near(a->credit, 3000.0 * 36000 / 1296000);
  /* Business calendar: Thu 1 - Thu 15 Oct are 11 working days of 7 h;
   * down 10:00-12:00 (2 h) and Thu 15 16:00-17:00 (1 h). */
  a = &r->availability[1];
  assert_int_equal(a->service_time_s, 11 * 7 * H);
  assert_int_equal(a->downtime_s, 3 * H);
  assert_near(a->availability_pct, 100.0 * (1 - 3.0 / 77));
  assert_true(isnan(a->credit));
  ib_kpi_result_free(r);

  /* as_of before the period: no service time yet, availability null (not
   * a division by zero), nothing counted, no credit owed. */
  r = run(&ts, &os, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0),
          utc(2026, 9, 20, 0, 0), NULL);
  a = &r->availability[0];
  assert_int_equal(a->service_time_s, 0);
  assert_int_equal(a->downtime_s, 0);
  assert_int_equal(a->outages, 0);
  assert_true(isnan(a->availability_pct));
  assert_false(a->breached);
  assert_near(a->credit, 0.0);
  cJSON *doc = ib_kpi_to_json(r, 0);
  assert_non_null(doc);
  cJSON *aj = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "availability"), 0);
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(aj, "availability_pct")));
  assert_true(cJSON_IsFalse(cJSON_GetObjectItem(aj, "breached")));
  assert_int_equal((int)cJSON_GetObjectItem(aj, "service_time_s")->valuedouble,
                   0);
  char *text = cJSON_PrintUnformatted(doc);
  assert_non_null(text);
  assert_null(strstr(text, "nan"));
  assert_null(strstr(text, "inf"));
  cJSON *back = cJSON_Parse(text); /* still valid JSON */
  assert_non_null(back);
  cJSON_Delete(back);
  cJSON_free(text);
  cJSON_Delete(doc);
  ib_kpi_result_free(r);
}

/* A ticket resolved "before" it was created (a provider's clock or import
 * error) counts in its creation month's first-response cohort and in its
 * resolution month's resolution cohort, as 0 s, and is reported; likewise
 * a first response before the creation. */
static void test_impossible_times_across_months(void **state) {
  (void)state;
  slas[0].calendar = CAL_24X7;
  ib_ticket_row rows[3];
  /* X1 created Mon 2 Nov 10:00, no response, resolved Fri 30 Oct 10:00. */
  rows[0] =
      tk("X1", 1, utc(2026, 11, 2, 10, 0), NONE, utc(2026, 10, 30, 10, 0));
  /* X2 created Tue 3 Nov 10:00, answered Sat 31 Oct 09:00, resolved
   * Tue 3 Nov 12:00 (2 h, met). */
  rows[1] = tk("X2", 1, utc(2026, 11, 3, 10, 0), utc(2026, 10, 31, 9, 0),
               utc(2026, 11, 3, 12, 0));
  /* OK1 a sound ticket in October: 10 min response, 1 h resolution. */
  rows[2] = tk("OK1", 1, utc(2026, 10, 5, 10, 0), utc(2026, 10, 5, 10, 10),
               utc(2026, 10, 5, 11, 0));
  ib_ticket_set ts = {.rows = rows, .n = 3};

  /* October: X1 is in the resolution cohort as 0 s, next to OK1's 1 h. */
  FILE *warn = tmpfile();
  assert_non_null(warn);
  ib_kpi_result *r = run(&ts, NULL, utc(2026, 10, 1, 0, 0),
                         utc(2026, 11, 1, 0, 0), utc(2026, 12, 5, 0, 0), warn);
  const ib_kpi_stats *res = &r->slas[0].total_resolution;
  assert_int_equal(res->tickets, 2);
  assert_int_equal(res->met, 2);
  assert_near(res->mean_s, 1800);
  assert_near(res->median_s, 1800);
  const ib_kpi_ticket *x1 = row_of(r, "X1");
  assert_int_equal(x1->resolution.verdict, IB_KPI_MET);
  assert_int_equal(x1->resolution.measured_s, 0);
  assert_true(x1->resolution.impossible);
  assert_int_equal(x1->first_response.verdict, IB_KPI_NONE);
  assert_int_equal(r->slas[0].total_first_response.tickets, 1); /* OK1 */
  assert_int_equal(r->n_impossible, 1);
  rewind(warn);
  char line[512];
  assert_non_null(fgets(line, sizeof line, warn));
  assert_non_null(strstr(line, "warning: ticket X1 (source a)"));
  assert_non_null(strstr(line, "created 2026-11-02T10:00:00Z"));
  assert_non_null(strstr(line, "resolved 2026-10-30T10:00:00Z"));
  assert_null(fgets(line, sizeof line, warn));
  fclose(warn);
  ib_kpi_result_free(r);

  /* November: X1 (its resolution stands in for the response) and X2 are
   * in the first-response cohort as 0 s; X2's resolution is sound. */
  warn = tmpfile();
  assert_non_null(warn);
  r = run(&ts, NULL, utc(2026, 11, 1, 0, 0), utc(2026, 12, 1, 0, 0),
          utc(2026, 12, 5, 0, 0), warn);
  const ib_kpi_stats *fr = &r->slas[0].total_first_response;
  assert_int_equal(fr->tickets, 2);
  assert_int_equal(fr->met, 2);
  assert_near(fr->mean_s, 0);
  x1 = row_of(r, "X1");
  assert_int_equal(x1->first_response.measured_s, 0);
  assert_true(x1->first_response.impossible);
  assert_int_equal(x1->resolution.verdict, IB_KPI_NONE);
  const ib_kpi_ticket *x2 = row_of(r, "X2");
  assert_true(x2->first_response.impossible);
  assert_int_equal(x2->first_response.measured_s, 0);
  assert_false(x2->resolution.impossible);
  assert_int_equal(x2->resolution.measured_s, 2 * H);
  assert_int_equal(r->slas[0].total_resolution.tickets, 1);
  assert_int_equal(r->n_impossible, 2);
  rewind(warn);
  int lines = 0, saw_x2 = 0;
  while (fgets(line, sizeof line, warn)) {
    lines++;
    if (strstr(line, "ticket X2") &&
        strstr(line,
               "first response 2026-10-31T09:00:00Z is before its "
               "creation"))
      saw_x2 = 1;
  }
  assert_int_equal(lines, 2);
  assert_true(saw_x2);
  fclose(warn);
  ib_kpi_result_free(r);
}

/* For availability from tickets, a ticket resolved before its creation adds
 * no downtime and is reported like in the SLA cohorts. */
static void test_impossible_times_from_tickets(void **state) {
  (void)state;
  cfg.n_slas = 0;
  avail[0] = (ib_availability_cfg){.service = "ERP",
                                   .target_pct = 99.5,
                                   .calendar = CAL_24X7,
                                   .from_tickets = 1,
                                   .ft_kinds_mask = ALL_KINDS,
                                   .ft_priorities_mask = 0x3eu};
  cfg.n_availability = 1;
  ib_ticket_row rows[2];
  rows[0] =
      tk("X1", 1, utc(2026, 11, 2, 10, 0), NONE, utc(2026, 10, 30, 10, 0));
  rows[1] = tk("E1", 1, utc(2026, 10, 5, 10, 0), NONE, utc(2026, 10, 5, 11, 0));
  rows[0].service = rows[1].service = "ERP";
  ib_ticket_set ts = {.rows = rows, .n = 2};
  FILE *warn = tmpfile();
  assert_non_null(warn);
  ib_kpi_result *r = run(&ts, NULL, utc(2026, 10, 1, 0, 0),
                         utc(2026, 11, 1, 0, 0), utc(2026, 12, 5, 0, 0), warn);
  assert_int_equal(r->availability[0].downtime_s, H); /* E1 only */
  assert_int_equal(r->availability[0].outages, 1);
  assert_int_equal(r->n_impossible, 1);
  rewind(warn);
  char line[512];
  assert_non_null(fgets(line, sizeof line, warn));
  assert_non_null(strstr(line, "warning: ticket X1 (source a)"));
  assert_null(fgets(line, sizeof line, warn));
  fclose(warn);
  ib_kpi_result_free(r);
}

/* ---- disagreements with the provider: the reasons ---------------------- */

/* Earlier priorities from "history": K3 was P1 before it became P2. */
static size_t earlier_of(void *ctx, const ib_ticket_row *t, int *out,
                         size_t max) {
  int *calls = ctx;
  (*calls)++;
  if (strcmp(t->key, "K3") != 0 || max < 2) return 0;
  out[0] = 7; /* out of range: ignored */
  out[1] = 1;
  return 2;
}

static const ib_kpi_measure *measure_of(const ib_kpi_result *r, const char *key,
                                        int resolution) {
  for (size_t i = 0; i < r->n_tickets; i++)
    if (strcmp(r->tickets[i].ticket->key, key) == 0)
      return resolution ? &r->tickets[i].resolution
                        : &r->tickets[i].first_response;
  fail_msg("no row for %s", key);
  return NULL;
}

static void test_disagreement_reasons(void **state) {
  (void)state;
  /* SLA support, calendar biz (Mon-Fri 09-12, 13-17 UTC); P1 30 min / 4 h,
   * P2 1 h / 8 h. October 2026, as_of 5 November. */
  static ib_interval k1_pause[1], k6_pause[1];
  ib_ticket_row t[7];
  /* K1: Mon 5th 09:00, paused 10:00-12:00, resolved 15:00: 5 h open - 2 h
   * paused = 3 h, met; the provider ignored the pause (5 h): breached. */
  t[0] = tk("K1", 1, utc(2026, 10, 5, 9, 0), utc(2026, 10, 5, 9, 10),
            utc(2026, 10, 5, 15, 0));
  k1_pause[0] = (ib_interval){utc(2026, 10, 5, 10, 0), utc(2026, 10, 5, 12, 0)};
  t[0].pauses = k1_pause;
  t[0].n_pauses = 1;
  t[0].reported_resolution_breached = IB_VERDICT_BREACHED;
  /* K2: Fri 9th 16:00 to Mon 12th 10:00: 2 h of biz time, met; 66 h of
   * plain time: the provider counted 24x7, breached. */
  t[1] = tk("K2", 1, utc(2026, 10, 9, 16, 0), utc(2026, 10, 9, 16, 10),
            utc(2026, 10, 12, 10, 0));
  t[1].reported_resolution_breached = IB_VERDICT_BREACHED;
  /* K3: P2 now, Tue 6th 09:00-15:00 = 5 h, met against 8 h; breached
   * against P1's 4 h, the priority it had earlier. */
  t[2] = tk("K3", 2, utc(2026, 10, 6, 9, 0), utc(2026, 10, 6, 9, 10),
            utc(2026, 10, 6, 15, 0));
  t[2].reported_resolution_breached = IB_VERDICT_BREACHED;
  /* K4: Wed 7th 09:00, no response recorded, resolved 09:20: the
   * resolution stands in, 20 min, met; the provider read it unanswered. */
  t[3] = tk("K4", 1, utc(2026, 10, 7, 9, 0), NONE, utc(2026, 10, 7, 9, 20));
  t[3].reported_response_breached = IB_VERDICT_BREACHED;
  /* K5: Thu 8th 09:00 answered 09:05, met; the provider says breached and
   * no reading explains it. */
  t[4] = tk("K5", 1, utc(2026, 10, 8, 9, 0), utc(2026, 10, 8, 9, 5),
            utc(2026, 10, 8, 10, 0));
  t[4].reported_response_breached = IB_VERDICT_BREACHED;
  t[4].reported_resolution_breached = IB_VERDICT_MET; /* agrees */
  /* K6: Tue 13th 09:00, paused 09:00-09:30, answered 09:40: 40 min,
   * breached (pauses never shorten a response); the provider applied the
   * pause (10 min): met. */
  t[5] = tk("K6", 1, utc(2026, 10, 13, 9, 0), utc(2026, 10, 13, 9, 40), NONE);
  k6_pause[0] =
      (ib_interval){utc(2026, 10, 13, 9, 0), utc(2026, 10, 13, 9, 30)};
  t[5].pauses = k6_pause;
  t[5].n_pauses = 1;
  t[5].reported_response_breached = IB_VERDICT_MET;
  /* K7: Wed 14th 09:00, no response, resolved 10:00 (60 min, breached);
   * the provider says met: reading it unanswered makes it breached too,
   * so nothing explains it. */
  t[6] = tk("K7", 1, utc(2026, 10, 14, 9, 0), NONE, utc(2026, 10, 14, 10, 0));
  t[6].reported_response_breached = IB_VERDICT_MET;

  ib_ticket_set ts = {.rows = t, .n = 7};
  int calls = 0;
  ib_kpi_query q = {utc(2026, 10, 1, 0, 0),
                    utc(2026, 11, 1, 0, 0),
                    utc(2026, 11, 5, 0, 0),
                    NULL,
                    NULL,
                    earlier_of,
                    &calls,
                    0};
  ib_kpi_result *r = NULL;
  char err[256] = "";
  assert_int_equal(ib_kpi_compute(&cfg, &ts, NULL, &q, &r, err, sizeof err), 0);
  const ib_kpi_measure *m = measure_of(r, "K1", 1);
  assert_int_equal(m->measured_s, 3 * H);
  assert_int_equal(m->verdict, IB_KPI_MET);
  assert_true(m->disagrees);
  assert_int_equal(m->reason, IB_KPI_REASON_PAUSES);
  m = measure_of(r, "K2", 1);
  assert_int_equal(m->measured_s, 2 * H);
  assert_int_equal(m->reason, IB_KPI_REASON_CALENDAR);
  m = measure_of(r, "K3", 1);
  assert_int_equal(m->measured_s, 5 * H);
  assert_int_equal(m->reason, IB_KPI_REASON_PRIORITY_CHANGED);
  m = measure_of(r, "K4", 0);
  assert_int_equal(m->measured_s, 20 * M);
  assert_int_equal(m->reason, IB_KPI_REASON_RESPONSE_FROM_RESOLUTION);
  m = measure_of(r, "K5", 0);
  assert_int_equal(m->reason, IB_KPI_REASON_UNEXPLAINED);
  m = measure_of(r, "K5", 1);
  assert_false(m->disagrees);
  assert_int_equal(m->reason, IB_KPI_REASON_NONE);
  m = measure_of(r, "K6", 0);
  assert_int_equal(m->measured_s, 40 * M);
  assert_int_equal(m->reason, IB_KPI_REASON_PAUSES);
  m = measure_of(r, "K7", 0);
  assert_int_equal(m->reason, IB_KPI_REASON_UNEXPLAINED);
  /* History is asked only for tickets no earlier reading explained: K3,
   * K4, K5 and K7. */
  assert_int_equal(calls, 4);
  assert_int_equal(r->slas[0].total_first_response.reported_disagreements, 4);
  assert_int_equal(r->slas[0].total_resolution.reported_disagreements, 3);

  /* The document lists exactly those, in result order. */
  cJSON *doc = ib_kpi_disagreements_to_json(r);
  assert_non_null(doc);
  assert_string_equal(cJSON_GetObjectItem(doc, "schema")->valuestring,
                      "itsm-bridge.disagreements/1");
  cJSON *list = cJSON_GetObjectItem(doc, "disagreements");
  assert_int_equal(cJSON_GetArraySize(list), 7);
  static const char *const want[7][3] = {
      {"K1", "resolution", "pauses"},
      {"K2", "resolution", "calendar"},
      {"K3", "resolution", "priority_changed"},
      {"K4", "first_response", "response_from_resolution"},
      {"K5", "first_response", "unexplained"},
      {"K6", "first_response", "pauses"},
      {"K7", "first_response", "unexplained"}};
  for (int k = 0; k < 7; k++) {
    cJSON *o = cJSON_GetArrayItem(list, k);
    assert_string_equal(cJSON_GetObjectItem(o, "key")->valuestring, want[k][0]);
    assert_string_equal(cJSON_GetObjectItem(o, "kpi")->valuestring, want[k][1]);
    assert_string_equal(cJSON_GetObjectItem(o, "reason")->valuestring,
                        want[k][2]);
  }
  cJSON *k1 = cJSON_GetArrayItem(list, 0);
  assert_string_equal(cJSON_GetObjectItem(k1, "ours")->valuestring, "met");
  assert_string_equal(cJSON_GetObjectItem(k1, "theirs")->valuestring,
                      "breached");
  assert_string_equal(cJSON_GetObjectItem(k1, "priority")->valuestring, "P1");
  assert_int_equal(cJSON_GetObjectItem(k1, "target_s")->valueint, 4 * H);
  cJSON_Delete(doc);
  ib_kpi_result_free(r);

  /* Without history, K3 is unexplained. */
  q.earlier_priorities = NULL;
  assert_int_equal(ib_kpi_compute(&cfg, &ts, NULL, &q, &r, err, sizeof err), 0);
  assert_int_equal(measure_of(r, "K3", 1)->reason, IB_KPI_REASON_UNEXPLAINED);
  ib_kpi_result_free(r);
}

/* Two doubles are the same figure: equal, or both NAN. */
static void assert_same_double(double a, double b) {
  if (!(a == b || (isnan(a) && isnan(b))))
    fail_msg("figures differ: %.9g vs %.9g", a, b);
}

static void assert_same_stats(const ib_kpi_stats *a, const ib_kpi_stats *b) {
  assert_int_equal(a->target_s, b->target_s);
  assert_int_equal(a->tickets, b->tickets);
  assert_int_equal(a->met, b->met);
  assert_int_equal(a->breached, b->breached);
  assert_int_equal(a->pending, b->pending);
  assert_int_equal(a->open_breached, b->open_breached);
  assert_int_equal(a->reported_disagreements, b->reported_disagreements);
  assert_same_double(a->compliance_pct, b->compliance_pct);
  assert_same_double(a->mean_s, b->mean_s);
  assert_same_double(a->median_s, b->median_s);
  assert_same_double(a->p90_s, b->p90_s);
}

/* The text a warnings stream received. */
static char *stream_text(FILE *f) {
  long n = ftell(f);
  assert_true(n >= 0);
  char *buf = calloc((size_t)n + 1, 1);
  assert_non_null(buf);
  rewind(f);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  return buf;
}

/* summary_only (the plain `kpi` command) keeps no per-ticket rows and
 * changes no figure: the October set (pauses, impossible times,
 * disagreements, pending and at-risk tickets) under two SLAs and an
 * availability objective from tickets, computed both ways. */
static void test_summary_only_same_figures(void **state) {
  (void)state;
  slas[1] = slas[0];
  slas[1].name = "all-p2";
  slas[1].n_sources = 0;
  slas[1].kinds_mask = ALL_KINDS;
  slas[1].calendar = CAL_PARIS;
  memset(slas[1].targets, 0, sizeof slas[1].targets);
  slas[1].targets[2] = (ib_target_cfg){1, 2 * H, 12 * H};
  cfg.n_slas = 2;
  avail[0] = (ib_availability_cfg){.service = "CRM",
                                   .target_pct = 99.0,
                                   .calendar = CAL_BIZ,
                                   .from_tickets = 1,
                                   .ft_kinds_mask = ALL_KINDS,
                                   .ft_priorities_mask = 0x3e};
  ib_ticket_set ts = {.rows = october, .n = october_tickets()};
  for (size_t i = 0; i < ts.n; i++) october[i].service = "CRM";
  cfg.n_availability = 1;

  ib_kpi_result *r[2] = {NULL, NULL};
  char *warned[2] = {NULL, NULL};
  for (int k = 0; k < 2; k++) {
    FILE *warn = tmpfile();
    assert_non_null(warn);
    ib_kpi_query q = {utc(2026, 10, 1, 0, 0),
                      utc(2026, 11, 1, 0, 0),
                      utc(2026, 11, 5, 0, 0),
                      NULL,
                      warn,
                      NULL,
                      NULL,
                      k};
    char err[256] = "";
    if (ib_kpi_compute(&cfg, &ts, NULL, &q, &r[k], err, sizeof err) != 0)
      fail_msg("ib_kpi_compute: %s", err);
    warned[k] = stream_text(warn);
    fclose(warn);
  }
  assert_true(r[0]->n_tickets > 0);
  assert_null(r[1]->tickets);
  assert_int_equal(r[1]->n_tickets, 0);
  assert_string_equal(warned[0], warned[1]);
  assert_true(strlen(warned[0]) > 0);
  assert_int_equal(r[0]->n_impossible, r[1]->n_impossible);
  assert_int_equal(r[0]->n_slas, 2);
  assert_int_equal(r[1]->n_slas, 2);
  for (size_t k = 0; k < 2; k++) {
    const ib_kpi_sla *a = &r[0]->slas[k], *b = &r[1]->slas[k];
    assert_int_equal(a->n_priorities, b->n_priorities);
    for (size_t p = 0; p < a->n_priorities; p++) {
      assert_int_equal(a->by_priority[p].priority, b->by_priority[p].priority);
      assert_same_stats(&a->by_priority[p].first_response,
                        &b->by_priority[p].first_response);
      assert_same_stats(&a->by_priority[p].resolution,
                        &b->by_priority[p].resolution);
    }
    assert_same_stats(&a->total_first_response, &b->total_first_response);
    assert_same_stats(&a->total_resolution, &b->total_resolution);
    assert_same_double(a->credit_pct, b->credit_pct);
    assert_same_double(a->credit, b->credit);
  }
  assert_int_equal(r[1]->n_availability, 1);
  const ib_kpi_availability *a = &r[0]->availability[0],
                            *b = &r[1]->availability[0];
  assert_true(a->downtime_s > 0);
  assert_int_equal(a->downtime_s, b->downtime_s);
  assert_int_equal(a->outages, b->outages);
  assert_int_equal(a->service_time_s, b->service_time_s);
  assert_same_double(a->availability_pct, b->availability_pct);
  assert_same_double(a->credit, b->credit);
  for (int k = 0; k < 2; k++) {
    ib_kpi_result_free(r[k]);
    free(warned[k]);
  }
}

static void test_duration_text(void **state) {
  (void)state;
  char buf[32];
  ib_kpi_format_duration(7500, buf, sizeof buf);
  assert_string_equal(buf, "2h 05m");
  ib_kpi_format_duration(750, buf, sizeof buf);
  assert_string_equal(buf, "12m 30s");
  ib_kpi_format_duration(NAN, buf, sizeof buf);
  assert_string_equal(buf, "-");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_october, setup),
      cmocka_unit_test_setup(test_credit_cap_and_sla_filter, setup),
      cmocka_unit_test_setup(test_as_of_inside_period, setup),
      cmocka_unit_test_setup(test_empty_cohorts, setup),
      cmocka_unit_test_setup(test_percentiles, setup),
      cmocka_unit_test_setup(test_dst, setup),
      cmocka_unit_test_setup(test_availability_outages, setup),
      cmocka_unit_test_setup(test_availability_from_tickets, setup),
      cmocka_unit_test_setup(test_availability_month_so_far, setup),
      cmocka_unit_test_setup(test_impossible_times_across_months, setup),
      cmocka_unit_test_setup(test_impossible_times_from_tickets, setup),
      cmocka_unit_test_setup(test_duration_text, setup),
      cmocka_unit_test_setup(test_disagreement_reasons, setup),
      cmocka_unit_test_setup(test_summary_only_same_figures, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
