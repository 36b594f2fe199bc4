/*
 * test_servicenow_fixtures.c -- the ServiceNow record normaliser
 * (plugins/servicenow/sn_record.c, compiled in here) against every real
 * payload in the shared fixtures and against hand-made records whose
 * expected results are worked out by hand. No HTTP, no plugin loading.
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

#include "../../plugins/servicenow/sn_record.c"
#include "tz.h"

#define SN_FIXTURES IB_FIXTURES_DIR "/servicenow/"

/* ---- a stub host: time parsing, pairs options, nothing else ------------- */

typedef struct stub_src {
  const ib_pair *priorities, *statuses, *services;
  size_t n_priorities, n_statuses, n_services;
} stub_src;

static void stub_log(ib_source *src, ib_log_level level, const char *fmt,
                     ...) {
  (void)src;
  (void)level;
  (void)fmt;
}

static ib_status stub_parse_time(ib_source *src, const char *text,
                                 const char *format, ib_time *out) {
  (void)src;
  (void)format;
  return ib_parse_iso8601(text, "UTC", out) == 0 ? IB_OK : IB_ERR_PARSE;
}

static const ib_pair *stub_pairs(ib_source *src, const char *name,
                                 size_t *n) {
  stub_src *s = (stub_src *)src;
  *n = 0;
  if (strcmp(name, "priorities") == 0) return *n = s->n_priorities, s->priorities;
  if (strcmp(name, "statuses") == 0) return *n = s->n_statuses, s->statuses;
  if (strcmp(name, "services") == 0) return *n = s->n_services, s->services;
  return NULL;
}

static const char *stub_map(ib_source *src, const char *name,
                            const char *raw) {
  size_t n;
  const ib_pair *p = stub_pairs(src, name, &n);
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(p[i].from, raw) == 0) return p[i].to;
  return NULL;
}

static const ib_host_services stub_host = {
    .struct_size = sizeof(ib_host_services),
    .abi_version = IB_PLUGIN_ABI_VERSION,
    .log = stub_log,
    .get_pairs = stub_pairs,
    .map = stub_map,
    .parse_time = stub_parse_time,
};

static sn_ctx make_ctx(stub_src *s, const char *table) {
  sn_ctx c = {.host = &stub_host,
              .src = (ib_source *)s,
              .table = table,
              .fr_field = NULL,
              .service_field = "business_service"};
  c.user_priorities = s->n_priorities > 0;
  c.user_statuses = s->n_statuses > 0;
  c.user_services = s->n_services > 0;
  return c;
}

/* Expected instants are computed from the civil date, by hand. */
static ib_time T(int y, int mo, int d, int h, int mi, int s) {
  return ib_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf) buf[n] = '\0';
  fclose(f);
  return buf;
}

static cJSON *load_json(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s%s", SN_FIXTURES, name);
  char *text = read_file(path);
  assert_non_null(text);
  cJSON *doc = cJSON_Parse(text);
  free(text);
  assert_non_null(doc);
  return doc;
}

/* Normalises every record of a fixture; all must pass. */
static void normalise_all(const char *name, const char *table,
                          size_t expect_n) {
  stub_src s = {0};
  sn_ctx ctx = make_ctx(&s, table);
  cJSON *doc = load_json(name);
  cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "result");
  size_t n = 0;
  char why[512];
  cJSON *rec;
  if (cJSON_IsObject(res)) { /* a create response: one record */
    sn_ticket_out out;
    assert_int_equal(sn_normalize_ticket(&ctx, res, NULL, 0, NULL, 0, &out,
                                         why, sizeof why),
                     IB_OK);
    sn_ticket_out_free(&out);
    n = 1;
  } else {
    cJSON_ArrayForEach(rec, res) {
      sn_ticket_out out;
      ib_status st =
          sn_normalize_ticket(&ctx, rec, NULL, 0, NULL, 0, &out, why,
                              sizeof why);
      if (st != IB_OK) fail_msg("%s: %s", name, why);
      assert_non_null(out.t.id);
      assert_true(out.t.created_at != IB_TIME_NONE);
      sn_ticket_out_free(&out);
      n++;
    }
  }
  assert_int_equal(n, expect_n);
  cJSON_Delete(doc);
}

static void test_every_json_fixture(void **state) {
  (void)state;
  normalise_all("table_incident_list.json", "incident", 77);
  normalise_all("change_request_display_value_all.json", "change_request", 4);
  normalise_all("change_request_create_display_value_all_floats.json",
                "change_request", 1);
  normalise_all("change_task_display_value_all.json", "change_task", 1);
  normalise_all("csm_case_list.json", "sn_customerservice_case", 1);
  normalise_all("security_incident_list_sanitized.json", "sn_si_incident", 3);
}

static cJSON *find_record(cJSON *doc, const char *number) {
  cJSON *rec;
  char buf[64];
  cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(doc, "result")) {
    const char *n = sn_field_text(rec, "number", 0, buf, sizeof buf);
    if (n && strcmp(n, number) == 0) return rec;
  }
  return NULL;
}

/* display_value=false: plain strings, references as {link, value}. */
static void test_incident_list_values(void **state) {
  (void)state;
  stub_src s = {0};
  sn_ctx ctx = make_ctx(&s, "incident");
  cJSON *doc = load_json("table_incident_list.json");
  cJSON *rec = find_record(doc, "INC0000060");
  char why[256];
  sn_ticket_out out;
  assert_non_null(rec);
  assert_int_equal(
      sn_normalize_ticket(&ctx, rec, NULL, 0, NULL, 0, &out, why, sizeof why),
      IB_OK);
  assert_string_equal(out.t.id, "1c741bd70b2322007518478d83673af3");
  assert_string_equal(out.t.key, "INC0000060");
  assert_string_equal(out.t.title, "Unable to connect to email");
  assert_string_equal(out.t.kind, "incident");
  assert_string_equal(out.t.priority, "P3");
  assert_string_equal(out.t.status, "closed"); /* state 7 */
  assert_string_equal(out.t.service, "27d32778c0a8000b00db970eeaa60f16");
  assert_int_equal(out.t.created_at, T(2016, 12, 12, 15, 19, 57));
  assert_int_equal(out.t.resolved_at, T(2016, 12, 13, 21, 43, 14));
  assert_int_equal(out.t.closed_at, T(2016, 12, 14, 2, 46, 44));
  assert_int_equal(out.t.updated_at, T(2016, 12, 14, 2, 46, 44));
  assert_int_equal(out.t.first_response_at, IB_TIME_NONE); /* no audit */
  assert_int_equal(out.t.reported_response_breached, IB_VERDICT_UNKNOWN);
  sn_ticket_out_free(&out);
  cJSON_Delete(doc);
}

/* display_value=all with numbers as values (-5, 3.0). */
static void test_change_request_triplets(void **state) {
  (void)state;
  stub_src s = {0};
  sn_ctx ctx = make_ctx(&s, "change_request");
  ctx.service_field = "cmdb_ci";
  cJSON *doc = load_json("change_request_display_value_all.json");
  cJSON *rec = find_record(doc, "CHG0000001");
  char why[256];
  sn_ticket_out out;
  assert_non_null(rec);
  assert_int_equal(
      sn_normalize_ticket(&ctx, rec, NULL, 0, NULL, 0, &out, why, sizeof why),
      IB_OK);
  assert_string_equal(out.t.kind, "change");
  assert_string_equal(out.t.status, "new"); /* -5 */
  assert_string_equal(out.t.status_raw, "New");
  assert_string_equal(out.t.priority, "P3");
  assert_string_equal(out.t.priority_raw, "3 - Moderate");
  assert_string_equal(out.t.service, "Sales Force Automation");
  /* value (UTC), not the display value (the user's zone, 8 h behind) */
  assert_int_equal(out.t.created_at, T(2018, 11, 28, 22, 12, 50));
  sn_ticket_out_free(&out);
  cJSON_Delete(doc);

  doc = load_json("change_request_create_display_value_all_floats.json");
  assert_int_equal(sn_normalize_ticket(
                       &ctx, cJSON_GetObjectItemCaseSensitive(doc, "result"),
                       NULL, 0, NULL, 0, &out, why, sizeof why),
                   IB_OK);
  assert_string_equal(out.t.priority, "P4"); /* 4.0 */
  assert_string_equal(out.t.status, "new"); /* -5.0 */
  assert_string_equal(out.state_buf, "-5");
  sn_ticket_out_free(&out);
  cJSON_Delete(doc);
}
