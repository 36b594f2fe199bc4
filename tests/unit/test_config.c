/*
 * test_config.c -- the configuration is read as SPEC §4 says, and every
 * mistake is one "file:line: message" naming the right line.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "tz.h"

static char path[64];

static ib_config *load_text(const char *text, char *err, size_t errlen) {
  snprintf(path, sizeof path, "/tmp/ib-config-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  ib_config *cfg = ib_config_load(path, err, errlen);
  unlink(path);
  return cfg;
}

/* Loading must fail with "<file>:<line>: ...<fragment>...". */
static void expect_error(const char *text, int line, const char *fragment) {
  char err[1024] = "";
  ib_config *cfg = load_text(text, err, sizeof err);
  if (cfg) {
    ib_config_free(cfg);
    fail_msg("expected an error containing \"%s\"", fragment);
  }
  char prefix[128];
  snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
  if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, fragment))
    fail_msg("got \"%s\", wanted \"%s...%s\"", err, prefix, fragment);
  if (strchr(err, '\n') != NULL) fail_msg("not one line: \"%s\"", err);
}

static const char *full_config =
    "store = { path = \"var/x.db\"; };\n"
    "timezone = \"Europe/Paris\";\n"
    "plugin_dir = \"build/plugins\";\n"
    "calendars = (\n"
    "  { name = \"24x7\"; },\n"
    "  { name = \"office\"; timezone = \"Europe/Paris\";\n"
    "    hours = { mon = \"08:00-12:30, 13:30-18:00\"; fri = \"08:00-17:00\"; "
    "sat = \"20:00-24:00\"; };\n"
    "    holidays = [ \"2026-12-25\", \"2026-11-11\" ]; }\n"
    ");\n"
    "sources = ( { name = \"legacy\"; plugin = \"csv\"; path = \"x.csv\"; "
    "overlap = \"10m\";\n"
    "              initial_since = \"2026-01-01\"; timezone = "
    "\"Europe/Paris\"; } );\n"
    "slas = ( { name = \"support\"; sources = [ \"legacy\" ]; kinds = [ "
    "\"incident\" ];\n"
    "  calendar = \"office\";\n"
    "  targets = ( { priority = \"P1\"; first_response = \"30m\"; resolution = "
    "\"4h\"; },\n"
    "              { priority = \"P3\"; resolution = \"1h30m\"; } );\n"
    "  penalty = { monthly_fee = 12000; currency = \"EUR\"; "
    "per_response_breach_pct = 5.0;\n"
    "              cap_pct = 20.0; }; } );\n"
    "availability = ( { service = \"ERP\"; target_pct = 99.5; calendar = "
    "\"24x7\";\n"
    "  monthly_fee = 3000.0; credit = \"proportional\";\n"
    "  from_tickets = { kinds = [ \"incident\" ]; priorities = [ \"P1\" ]; }; "
    "} );\n";

static void test_full_config(void **state) {
  (void)state;
  char err[1024] = "";
  ib_config *cfg = load_text(full_config, err, sizeof err);
  if (cfg == NULL) fail_msg("%s", err);
  assert_string_equal(cfg->timezone, "Europe/Paris");
  assert_string_equal(cfg->store.path, "var/x.db");
  assert_int_equal(cfg->n_calendars, 2);
  const ib_calendar_cfg *office = &cfg->calendars[1];
  assert_false(cfg->calendars[0].has_hours);
  assert_true(office->has_hours);
  assert_int_equal(office->week[0].n, 2);
  assert_int_equal(office->week[0].ranges[0].start_min, 8 * 60);
  assert_int_equal(office->week[0].ranges[0].end_min, 12 * 60 + 30);
  assert_int_equal(office->week[0].ranges[1].start_min, 13 * 60 + 30);
  assert_int_equal(office->week[1].n, 0); /* tuesday missing: closed */
  assert_int_equal(office->week[5].ranges[0].end_min, 24 * 60);
  assert_int_equal(office->n_holidays, 2);
  assert_int_equal(office->holidays[0], 20261111); /* sorted */
  assert_int_equal(cfg->n_sources, 1);
  assert_int_equal(cfg->sources[0].overlap_s, 600);
  ib_time jan1;
  assert_int_equal(
      ib_tz_local_to_utc("Europe/Paris", 2026, 1, 1, 0, 0, 0, &jan1), 0);
  assert_int_equal(cfg->sources[0].initial_since, jan1);
  const ib_sla_cfg *sla = &cfg->slas[0];
  assert_int_equal(sla->calendar, 1);
  assert_int_equal(sla->kinds_mask, 1u);
  assert_int_equal(sla->n_sources, 1);
  assert_true(sla->targets[1].present);
  assert_int_equal(sla->targets[1].first_response_s, 1800);
  assert_int_equal(sla->targets[1].resolution_s, 14400);
  assert_false(sla->targets[2].present);
  assert_int_equal(sla->targets[3].first_response_s, IB_DURATION_NONE);
  assert_int_equal(sla->targets[3].resolution_s, 5400);
  assert_true(sla->penalty.present);
  assert_true(sla->penalty.monthly_fee == 12000.0);
  assert_true(sla->penalty.per_resolution_breach_pct == 0.0);
  assert_true(sla->penalty.cap_pct == 20.0);
  const ib_availability_cfg *av = &cfg->availability[0];
  assert_true(av->has_credit);
  assert_true(av->from_tickets);
  assert_int_equal(av->ft_priorities_mask, 1u << 1);
  assert_false(av->count_degradation);
  ib_config_free(cfg);
}

static void test_defaults(void **state) {
  (void)state;
  char err[512];
  ib_config *cfg = load_text("sources = ();\n", err, sizeof err);
  assert_non_null(cfg);
  assert_string_equal(cfg->timezone, "UTC");
  assert_string_equal(cfg->store.path, "var/bridge.db");
  assert_null(cfg->plugin_dir);
  ib_config_free(cfg);
}

static void test_errors(void **state) {
  (void)state;
  expect_error("store = { path = \"x\"; };\nbogus = 1;\n", 2,
               "unknown key 'bogus'");
  expect_error("timezone = \"Mars/Olympus\";\n", 1,
               "unknown time zone 'Mars/Olympus'");
  expect_error("store = { path = \"x\"\n", 2, "syntax error");
  expect_error(
      "calendars = (\n { name = \"c\";\n  hours = { mon = \"18:00-08:00\"; }; "
      "}\n);\n",
      3, "HH:MM-HH:MM");
  expect_error(
      "calendars = (\n { name = \"c\";\n  hours = { monday = \"08:00-18:00\"; "
      "}; }\n);\n",
      3, "unknown key 'monday'");
  expect_error(
      "calendars = (\n { name = \"c\";\n  holidays = [ \"2026-13-01\" ]; "
      "}\n);\n",
      3, "not a date");
  expect_error("calendars = ( { name = \"c\"; },\n { name = \"c\"; } );\n", 2,
               "calendar 'c' is defined twice");
  expect_error(
      "sources = ( { name = \"a\"; plugin = \"csv\"; },\n"
      "  { name = \"a\"; plugin = \"csv\"; } );\n",
      2, "source 'a' is defined twice (first at line 1)");
  expect_error("sources = ( { name = \"a\"; } );\n", 1,
               "missing required key 'plugin'");
  expect_error(
      "sources = ( { name = \"a\"; plugin = \"csv\";\n overlap = \"5 "
      "minutes\"; } );\n",
      2, "duration");
  expect_error(
      "calendars = ( { name = \"c\"; } );\n"
      "slas = ( { name = \"s\";\n calendar = \"nope\"; targets = ( { priority "
      "= \"P1\"; "
      "first_response = \"30m\"; } ); } );\n",
      3, "unknown calendar 'nope'");
  expect_error(
      "calendars = ( { name = \"c\"; } );\n"
      "slas = ( { name = \"s\"; calendar = \"c\";\n sources = [ \"ghost\" ];\n"
      " targets = ( { priority = \"P1\"; first_response = \"30m\"; } ); } );\n",
      3, "unknown source 'ghost'");
  expect_error(
      "calendars = ( { name = \"c\"; } );\n"
      "slas = ( { name = \"s\"; calendar = \"c\";\n"
      " targets = ( { priority = \"P7\"; first_response = \"30m\"; } ); } );\n",
      3, "priority must be P1..P5");
  expect_error(
      "calendars = ( { name = \"c\"; } );\n"
      "slas = ( { name = \"s\"; calendar = \"c\"; kinds = [\n \"incidents\" "
      "];\n"
      " targets = ( { priority = \"P1\"; first_response = \"30m\"; } ); } );\n",
      3, "unknown kind 'incidents'");
  expect_error(
      "calendars = ( { name = \"c\"; } );\n"
      "availability = ( { service = \"ERP\";\n target_pct = \"high\"; calendar "
      "= \"c\"; } );\n",
      3, "'target_pct' must be a number");
  /* A control character quoted from the file never breaks the line. */
  expect_error("sources = ( { name = \"a\\nb\"; plugin = \"csv\"; } );\n", 1,
               "source 'a?b': use letters");
  expect_error("store = { path = \"a\";\n url = \"postgresql://x\"; };\n", 1,
               "not both");
}

static void test_durations(void **state) {
  (void)state;
  assert_int_equal(ib_parse_duration("90s"), 90);
  assert_int_equal(ib_parse_duration("30m"), 1800);
  assert_int_equal(ib_parse_duration("4h"), 14400);
  assert_int_equal(ib_parse_duration("1h30m"), 5400);
  assert_int_equal(ib_parse_duration("2d"), 172800);
  assert_int_equal(ib_parse_duration("1h 30m"), -1);
  assert_int_equal(ib_parse_duration("30"), -1);
  assert_int_equal(ib_parse_duration(""), -1);
  assert_int_equal(ib_parse_duration("h"), -1);
}

/* A relative plugin_dir names a folder beside the configuration file, not
 * in the folder the command happens to run from. */
static void test_relative_plugin_dir(void **state) {
  (void)state;
  char dir[] = "/tmp/ib-cfgdir-XXXXXX", file[128], err[1024] = "";
  assert_non_null(mkdtemp(dir));
  snprintf(file, sizeof file, "%s/bridge.cfg", dir);
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fputs("plugin_dir = \"plugins\";\n", f);
  fclose(f);
  assert_int_equal(chdir("/"), 0);
  ib_config *cfg = ib_config_load(file, err, sizeof err);
  if (cfg == NULL) fail_msg("%s", err);
  char want[160];
  snprintf(want, sizeof want, "%s/plugins", dir);
  assert_string_equal(cfg->plugin_dir, want);
  ib_config_free(cfg);
  unlink(file);
  rmdir(dir);
}

/* A FIFO as configuration would block the reader forever. */
static void test_fifo_refused(void **state) {
  (void)state;
  char dir[] = "/tmp/ib-cfgfifo-XXXXXX", file[128], err[1024] = "";
  assert_non_null(mkdtemp(dir));
  snprintf(file, sizeof file, "%s/bridge.cfg", dir);
  assert_int_equal(mkfifo(file, 0600), 0);
  alarm(10); /* the old reader blocks here: fail rather than hang */
  ib_config *cfg = ib_config_load(file, err, sizeof err);
  alarm(0);
  assert_null(cfg);
  if (strstr(err, "not a regular file") == NULL || strstr(err, file) == NULL)
    fail_msg("got \"%s\"", err);
  unlink(file);
  rmdir(dir);
}

/* A multi-megabyte configuration is refused before libconfig parses it. */
static void test_oversized_refused(void **state) {
  (void)state;
  size_t n = 5u * 1024 * 1024;
  char *text = malloc(n + 64);
  assert_non_null(text);
  strcpy(text, "timezone = \"");
  memset(text + 12, 'x', n);
  strcpy(text + 12 + n, "\";\n");
  char err[1024] = "";
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  ib_config *cfg = load_text(text, err, sizeof err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  free(text);
  assert_null(cfg);
  if (strstr(err, "more than the 1048576 bytes") == NULL)
    fail_msg("got \"%s\"", err);
  assert_true(t1.tv_sec - t0.tv_sec < 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_config),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_relative_plugin_dir),
      cmocka_unit_test(test_fifo_refused),
      cmocka_unit_test(test_oversized_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
