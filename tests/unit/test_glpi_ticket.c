/*
 * test_glpi_ticket.c -- the GLPI ticket normaliser
 * (plugins/glpi/glpi_ticket.c, compiled in here) against hand-made rows
 * shaped like GLPI's apirest.md examples, with results worked out by hand:
 * server-local dates across a DST change, GLPI's default codes, the first
 * response fallbacks, TTO/TTR verdicts, pauses from Log status changes,
 * and the rows that must be rejected. No HTTP, no plugin loading.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "../../plugins/glpi/glpi_ticket.c"
#include "tz.h"

#define ZONE "Europe/Paris"

/* ---- a stub host: time parsing in ZONE, pairs options ------------------- */

typedef struct stub_src {
  const ib_pair *statuses, *priorities;
  size_t n_statuses, n_priorities;
} stub_src;

static void stub_log(ib_source *src, ib_log_level level, const char *fmt, ...) {
  (void)src;
  (void)level;
  (void)fmt;
}

static ib_status stub_parse_time(ib_source *src, const char *text,
                                 const char *format, ib_time *out) {
  (void)src;
  if (format && ib_parse_with_format(text, format, ZONE, out) == 0)
    return IB_OK;
  return IB_ERR_PARSE;
}

static const char *stub_map(ib_source *src, const char *name, const char *raw) {
  stub_src *s = (stub_src *)src;
  const ib_pair *p =
      strcmp(name, "statuses") == 0 ? s->statuses : s->priorities;
  size_t n = strcmp(name, "statuses") == 0 ? s->n_statuses : s->n_priorities;
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(p[i].from, raw) == 0) return p[i].to;
  return NULL;
}

static const ib_host_services stub_host = {
    .struct_size = sizeof(ib_host_services),
    .abi_version = IB_PLUGIN_ABI_VERSION,
    .log = stub_log,
    .map = stub_map,
    .parse_time = stub_parse_time,
};

static glpi_ctx make_ctx(stub_src *s) {
  glpi_ctx c = {.host = &stub_host,
                .src = (ib_source *)s,
                .service_field = "itilcategories_id",
                .user_statuses = s->n_statuses > 0,
                .user_priorities = s->n_priorities > 0,
                .now = 1800000000}; /* 2027-01-15 */
  return c;
}

/* 2026-10-24 10:00:00 in Paris is 08:00Z (summer time, +02:00);
 * 2026-10-26 10:00:00 is 09:00Z (winter time, +01:00). */
#define OCT24_10H 1792828800
#define OCT26_10H 1793005200

static const char *const ROW =
    "{\"id\": 42, \"entities_id\": \"Root entity > Paris\", \"name\": "
    "\"VPN down\", \"date\": \"2026-10-24 10:00:00\", \"date_mod\": "
    "\"2026-10-26 10:00:00\", \"status\": 5, \"priority\": 6, \"type\": 1, "
    "\"itilcategories_id\": \"Réseau > VPN\", \"takeintoaccountdate\": "
    "\"2026-10-24 10:20:00\", \"takeintoaccount_delay_stat\": 1200, "
    "\"solvedate\": \"2026-10-26 10:00:00\", \"closedate\": null, "
    "\"time_to_own\": \"2026-10-24 10:30:00\", \"time_to_resolve\": "
    "\"2026-10-25 10:00:00\"}";

static void test_full_row(void **state) {
  (void)state;
  stub_src s = {0};
  glpi_ctx ctx = make_ctx(&s);
  cJSON *row = cJSON_Parse(ROW);
  glpi_ticket_out out;
  char why[256] = "";
  assert_int_equal(
      glpi_normalize_ticket(&ctx, row, NULL, 0, &out, why, sizeof why), IB_OK);
  assert_string_equal(out.t.id, "42");
  assert_string_equal(out.t.title, "VPN down");
  assert_string_equal(out.t.priority, "P1"); /* 6 Majeure */
  assert_string_equal(out.t.priority_raw, "6");
  assert_string_equal(out.t.status, "resolved");
  assert_string_equal(out.t.kind, "incident");
  assert_string_equal(out.t.service, "Réseau > VPN");
  assert_int_equal(out.t.created_at, OCT24_10H);
  assert_int_equal(out.t.first_response_at, OCT24_10H + 1200);
  assert_int_equal(out.t.resolved_at, OCT26_10H);
  assert_int_equal(out.t.updated_at, OCT26_10H);
  assert_true(out.t.closed_at == IB_TIME_NONE);
  /* answered 10 min before time_to_own; resolved a day (and an extra
   * hour: DST) after time_to_resolve */
  assert_int_equal(out.t.reported_response_breached, IB_VERDICT_MET);
  assert_int_equal(out.t.reported_resolution_breached, IB_VERDICT_BREACHED);
  assert_int_equal(out.t.n_pauses, 0);
  glpi_ticket_out_free(&out);
  cJSON_Delete(row);
}

static void test_first_response_fallbacks(void **state) {
  (void)state;
  stub_src s = {0};
  glpi_ctx ctx = make_ctx(&s);
  glpi_ticket_out out;
  char why[256];
  /* no takeintoaccountdate: date + takeintoaccount_delay_stat */
  cJSON *row = cJSON_Parse(ROW);
  cJSON_ReplaceItemInObject(row, "takeintoaccountdate", cJSON_CreateNull());
  cJSON_ReplaceItemInObject(row, "takeintoaccount_delay_stat",
                            cJSON_CreateString("3600"));
  assert_int_equal(
      glpi_normalize_ticket(&ctx, row, NULL, 0, &out, why, sizeof why), IB_OK);
  assert_int_equal(out.t.first_response_at, OCT24_10H + 3600);
  assert_int_equal(out.t.reported_response_breached, IB_VERDICT_BREACHED);
  glpi_ticket_out_free(&out);
  /* neither: none, and time_to_own passed long ago (ctx.now) */
  cJSON_ReplaceItemInObject(row, "takeintoaccount_delay_stat",
                            cJSON_CreateNumber(0));
  assert_int_equal(
      glpi_normalize_ticket(&ctx, row, NULL, 0, &out, why, sizeof why), IB_OK);
  assert_true(out.t.first_response_at == IB_TIME_NONE);
  assert_int_equal(out.t.reported_response_breached, IB_VERDICT_BREACHED);
  glpi_ticket_out_free(&out);
  /* not yet due: unknown */
  ctx.now = OCT24_10H;
  assert_int_equal(
      glpi_normalize_ticket(&ctx, row, NULL, 0, &out, why, sizeof why), IB_OK);
  assert_int_equal(out.t.reported_response_breached, IB_VERDICT_UNKNOWN);
  glpi_ticket_out_free(&out);
  cJSON_Delete(row);
}

static void test_rejections(void **state) {
  (void)state;
  stub_src s = {0};
  glpi_ctx ctx = make_ctx(&s);
  glpi_ticket_out out;
  char why[256];
  cJSON *row = cJSON_Parse(ROW);
  cJSON_ReplaceItemInObject(row, "date",
                            cJSON_CreateString("0000-00-00 00:00:00"));
  assert_int_equal(
      glpi_normalize_ticket(&ctx, row, NULL, 0, &out, why, sizeof why),
      IB_ERR_REJECTED);
  assert_string_equal(out.where, "ticket 42");
  assert_non_null(strstr(why, "0000-00-00 00:00:00"));
  cJSON_ReplaceItemInObject(row, "date", cJSON_CreateString("24/10/2026"));
  assert_int_equal(
      glpi_normalize_ticket(&ctx, row, NULL, 0, &out, why, sizeof why),
      IB_ERR_REJECTED);
  assert_non_null(strstr(why, "24/10/2026"));
  cJSON_Delete(row);
  /* a priority the source's own pairs do not map */
  static const ib_pair prios[] = {{"5", "P1"}};
  stub_src s2 = {.priorities = prios, .n_priorities = 1};
  ctx = make_ctx(&s2);
  row = cJSON_Parse(ROW);
  assert_int_equal(
      glpi_normalize_ticket(&ctx, row, NULL, 0, &out, why, sizeof why),
      IB_ERR_REJECTED);
  assert_non_null(strstr(why, "priority 6"));
  cJSON_Delete(row);
}

static void test_empty_dropdown_and_strings(void **state) {
  (void)state;
  stub_src s = {0};
  glpi_ctx ctx = make_ctx(&s);
  glpi_ticket_out out;
  char why[256];
  cJSON *row = cJSON_Parse(ROW);
  cJSON_ReplaceItemInObject(row, "itilcategories_id",
                            cJSON_CreateString("&nbsp;"));
  cJSON_ReplaceItemInObject(row, "status", cJSON_CreateString("4"));
  cJSON_ReplaceItemInObject(row, "type", cJSON_CreateString("2"));
  assert_int_equal(
      glpi_normalize_ticket(&ctx, row, NULL, 0, &out, why, sizeof why), IB_OK);
  assert_null(out.t.service);
  assert_string_equal(out.t.status, "pending");
  assert_string_equal(out.t.kind, "request");
  glpi_ticket_out_free(&out);
  cJSON_Delete(row);
}

/* Log rows, newest first as GLPI gives them, with other fields' changes. */
static const char *const LOG =
    "[{\"id\": 9, \"date_mod\": \"2026-10-26 09:00:00\", "
    "\"id_search_option\": 12, \"old_value\": \"En attente (4)\", "
    "\"new_value\": \"En cours (2)\"},"
    " {\"id\": 8, \"date_mod\": \"2026-10-25 12:00:00\", "
    "\"id_search_option\": 5, \"old_value\": \"\", \"new_value\": \"tech "
    "(5)\"},"
    " {\"id\": 7, \"date_mod\": \"2026-10-25 11:00:00\", "
    "\"id_search_option\": \"12\", \"old_value\": \"2\", \"new_value\": "
    "\"4\"},"
    " {\"id\": 6, \"date_mod\": \"2026-10-24 11:00:00\", "
    "\"id_search_option\": 12, \"old_value\": \"4\", \"new_value\": \"2\"},"
    " {\"id\": 10, \"date_mod\": \"2026-10-26 10:00:00\", "
    "\"id_search_option\": 12, \"old_value\": \"2\", \"new_value\": \"4\"},"
    " {\"id\": 11, \"date_mod\": \"0000-00-00 00:00:00\", "
    "\"id_search_option\": 12, \"old_value\": \"4\", \"new_value\": \"2\"}]";

static void test_pauses_from_log(void **state) {
  (void)state;
  stub_src s = {0};
  glpi_ctx ctx = make_ctx(&s);
  cJSON *log = cJSON_Parse(LOG);
  glpi_status_change *c = NULL;
  size_t n = 0;
  assert_int_equal(glpi_status_changes(&ctx, log, &c, &n), IB_OK);
  assert_int_equal(n, 4); /* noise and the undated row dropped */
  assert_int_equal(c[0].log_id, 6);
  assert_int_equal(c[3].log_id, 10);
  cJSON *row = cJSON_Parse(ROW);
  glpi_ticket_out out;
  char why[256];
  assert_int_equal(
      glpi_normalize_ticket(&ctx, row, c, n, &out, why, sizeof why), IB_OK);
  /* created pending (first change leaves 4): creation -> 10/24 11:00;
   * 10/25 11:00 (+01:00: summer time ended at 03:00 that night, so 26 h
   * after 10/24 10:00) -> 10/26 09:00; 10/26 10:00 -> still waiting */
  assert_int_equal(out.t.n_pauses, 3);
  assert_int_equal(out.t.pauses[0].start, OCT24_10H);
  assert_int_equal(out.t.pauses[0].end, OCT24_10H + 3600);
  assert_int_equal(out.t.pauses[1].start, OCT24_10H + 86400 + 7200);
  assert_int_equal(out.t.pauses[1].end, OCT26_10H - 3600);
  assert_int_equal(out.t.pauses[2].start, OCT26_10H);
  assert_true(out.t.pauses[2].end == IB_TIME_NONE);
  glpi_ticket_out_free(&out);

  /* the source's own statuses: 3 (planned) is the waiting one, 4 is not */
  static const ib_pair st[] = {
      {"2", "open"}, {"3", "pending"}, {"4", "open"}, {"5", "resolved"}};
  stub_src s2 = {.statuses = st, .n_statuses = 4};
  glpi_ctx ctx2 = make_ctx(&s2);
  assert_int_equal(
      glpi_normalize_ticket(&ctx2, row, c, n, &out, why, sizeof why), IB_OK);
  assert_int_equal(out.t.n_pauses, 0);
  glpi_ticket_out_free(&out);
  free(c);
  cJSON_Delete(row);
  cJSON_Delete(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_row),
      cmocka_unit_test(test_first_response_fallbacks),
      cmocka_unit_test(test_rejections),
      cmocka_unit_test(test_empty_dropdown_and_strings),
      cmocka_unit_test(test_pauses_from_log),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
