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

static void stub_log(ib_source *src, ib_log_level level, const char *fmt, ...) {
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

static const ib_pair *stub_pairs(ib_source *src, const char *name, size_t *n) {
  stub_src *s = (stub_src *)src;
  *n = 0;
  if (strcmp(name, "priorities") == 0)
    return *n = s->n_priorities, s->priorities;
  if (strcmp(name, "statuses") == 0) return *n = s->n_statuses, s->statuses;
  if (strcmp(name, "services") == 0) return *n = s->n_services, s->services;
  return NULL;
}

static const char *stub_map(ib_source *src, const char *name, const char *raw) {
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
    assert_int_equal(
        sn_normalize_ticket(&ctx, res, NULL, 0, NULL, 0, &out, why, sizeof why),
        IB_OK);
    sn_ticket_out_free(&out);
    n = 1;
  } else {
    cJSON_ArrayForEach(rec, res) {
      sn_ticket_out out;
      ib_status st = sn_normalize_ticket(&ctx, rec, NULL, 0, NULL, 0, &out, why,
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
  assert_int_equal(
      sn_normalize_ticket(&ctx, cJSON_GetObjectItemCaseSensitive(doc, "result"),
                          NULL, 0, NULL, 0, &out, why, sizeof why),
      IB_OK);
  assert_string_equal(out.t.priority, "P4"); /* 4.0 */
  assert_string_equal(out.t.status, "new");  /* -5.0 */
  assert_string_equal(out.state_buf, "-5");
  sn_ticket_out_free(&out);
  cJSON_Delete(doc);
}

/* ---- the UCI event log: snapshots of incidents -> audit-like history ---- */

enum { UCI_MAX_COLS = 40 };

typedef struct uci_row {
  char *cols[UCI_MAX_COLS]; /* point into the row's own line copy */
  char *line;               /* owned */
} uci_row;

static int uci_col(char *header, const char *name) {
  int i = 0;
  for (char *p = header; p != NULL; i++) {
    char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (strlen(name) == len && strncmp(p, name, len) == 0) return i;
    p = comma ? comma + 1 : NULL;
  }
  return -1;
}

static void uci_split(uci_row *r) {
  int i = 0;
  char *p = r->line;
  while (p != NULL && i < UCI_MAX_COLS) {
    r->cols[i++] = p;
    p = strchr(p, ',');
    if (p) *p++ = '\0';
  }
}

/* "29/2/2016 01:16" -> instant; "?" -> NONE. */
static ib_time uci_time(const char *text) {
  int d, mo, y, h, mi;
  if (sscanf(text, "%d/%d/%d %d:%d", &d, &mo, &y, &h, &mi) != 5)
    return IB_TIME_NONE;
  return T(y, mo, d, h, mi, 0);
}

static void uci_sn_text(const char *text, char *buf, size_t len) {
  int d, mo, y, h, mi;
  buf[0] = '\0';
  if (sscanf(text, "%d/%d/%d %d:%d", &d, &mo, &y, &h, &mi) == 5)
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:00", y, mo, d, h, mi);
}

/* The incident_state labels of the log as incident state codes. */
static const char *uci_state_code(const char *label) {
  if (strcmp(label, "New") == 0) return "1";
  if (strcmp(label, "Active") == 0) return "2";
  if (strncmp(label, "Awaiting", 8) == 0) return "3"; /* On Hold */
  if (strcmp(label, "Resolved") == 0) return "6";
  if (strcmp(label, "Closed") == 0) return "7";
  return NULL;
}

static const char *uci_ref(const char *v) {
  return strcmp(v, "?") == 0 ? NULL : v;
}

typedef struct uci_cols {
  int number, state, assigned, updated, opened, priority, resolved, closed;
} uci_cols;

/* One incident's rows [lo, hi) -> audit rows + final record, normalised. */
static void uci_normalise(const sn_ctx *ctx, uci_row *rows, size_t lo,
                          size_t hi, const uci_cols *c, sn_ticket_out *out) {
  sn_audit_row audit[2 * 64];
  size_t n = 0;
  char why[256], buf[32];
  assert_true(hi - lo < 64);
  for (size_t i = lo + 1; i < hi; i++) {
    char **prev = rows[i - 1].cols, **cur = rows[i].cols;
    ib_time at = uci_time(cur[c->updated]);
    const char *o = uci_state_code(prev[c->state]);
    const char *s = uci_state_code(cur[c->state]);
    assert_non_null(s);
    if (strcmp(o, s) != 0) {
      audit[n] = (sn_audit_row){cur[c->number], "state", o, s, at, n};
      n++;
    }
    if (strcmp(prev[c->assigned], cur[c->assigned]) != 0) {
      audit[n] = (sn_audit_row){cur[c->number],
                                "assigned_to",
                                uci_ref(prev[c->assigned]),
                                uci_ref(cur[c->assigned]),
                                at,
                                n};
      n++;
    }
  }
  sn_audit_sort(audit, n);

  char **last = rows[hi - 1].cols;
  cJSON *rec = cJSON_CreateObject();
  cJSON_AddStringToObject(rec, "sys_id", last[c->number]);
  cJSON_AddStringToObject(rec, "number", last[c->number]);
  cJSON_AddStringToObject(rec, "state", uci_state_code(last[c->state]));
  cJSON *prio = cJSON_AddObjectToObject(rec, "priority");
  snprintf(buf, sizeof buf, "%c", last[c->priority][0]);
  cJSON_AddStringToObject(prio, "value", buf);
  cJSON_AddStringToObject(prio, "display_value", last[c->priority]);
  const struct {
    const char *field;
    int col;
  } times[] = {{"opened_at", c->opened},
               {"resolved_at", c->resolved},
               {"closed_at", c->closed},
               {"sys_updated_on", c->updated}};
  for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
    uci_sn_text(last[times[i].col], buf, sizeof buf);
    cJSON_AddStringToObject(rec, times[i].field, buf);
  }
  ib_status st =
      sn_normalize_ticket(ctx, rec, audit, n, NULL, 0, out, why, sizeof why);
  if (st != IB_OK) fail_msg("%s: %s", last[c->number], why);
  /* the strings the ticket borrows must outlive rec: keep what we check */
  out->t.id = out->t.key = NULL;
  out->t.title = out->t.service = out->t.group = out->t.kind_raw = NULL;
  out->t.status_raw = out->t.priority_raw = NULL;
  cJSON_Delete(rec);
}

static void test_uci_event_log(void **state) {
  (void)state;
  char *text = read_file(SN_FIXTURES "uci_incident_event_log_excerpt.csv");
  assert_non_null(text);
  uci_row *rows = calloc(400, sizeof *rows);
  size_t n = 0;
  char *header = NULL;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r') line[len - 1] = '\0';
    if (header == NULL) {
      header = line;
      continue;
    }
    assert_true(n < 400);
    rows[n].line = strdup(line);
    uci_split(&rows[n++]);
  }
  assert_int_equal(n, 198); /* every event of the excerpt */
  uci_cols c = {
      uci_col(header, "number"),      uci_col(header, "incident_state"),
      uci_col(header, "assigned_to"), uci_col(header, "sys_updated_at"),
      uci_col(header, "opened_at"),   uci_col(header, "priority"),
      uci_col(header, "resolved_at"), uci_col(header, "closed_at")};
  assert_true(c.number >= 0 && c.state >= 0 && c.assigned >= 0 &&
              c.updated >= 0 && c.opened >= 0 && c.priority >= 0 &&
              c.resolved >= 0 && c.closed >= 0);

  stub_src s = {0};
  sn_ctx ctx = make_ctx(&s, "incident");
  size_t incidents = 0, checked = 0;
  for (size_t lo = 0; lo < n;) {
    size_t hi = lo + 1;
    while (hi < n &&
           strcmp(rows[hi].cols[c.number], rows[lo].cols[c.number]) == 0)
      hi++;
    sn_ticket_out out;
    uci_normalise(&ctx, rows, lo, hi, &c, &out);
    const char *num = rows[lo].cols[c.number];
    if (strcmp(num, "INC0000047") == 0) {
      /* New -> Active at 29/2 05:30 (already assigned at creation);
       * Awaiting User Info 1/3 09:14 -> Resolved 1/3 09:52 -> Closed. */
      assert_string_equal(out.t.status, "closed");
      assert_string_equal(out.t.priority, "P3");
      assert_int_equal(out.t.created_at, T(2016, 2, 29, 4, 40, 0));
      assert_int_equal(out.t.first_response_at, T(2016, 2, 29, 5, 30, 0));
      assert_int_equal(out.t.n_pauses, 1);
      assert_int_equal(out.t.pauses[0].start, T(2016, 3, 1, 9, 14, 0));
      assert_int_equal(out.t.pauses[0].end, T(2016, 3, 1, 9, 52, 0));
      assert_int_equal(out.t.resolved_at, T(2016, 3, 1, 9, 52, 0));
      assert_int_equal(out.t.closed_at, T(2016, 3, 6, 10, 0, 0));
      checked++;
    } else if (strcmp(num, "INC0000057") == 0) {
      /* Unassigned and New until it is resolved and assigned at once. */
      assert_int_equal(out.t.first_response_at, T(2016, 3, 1, 2, 55, 0));
      assert_int_equal(out.t.n_pauses, 0);
      checked++;
    }
    sn_ticket_out_free(&out);
    incidents++;
    lo = hi;
  }
  assert_int_equal(incidents, 32);
  assert_int_equal(checked, 2);
  for (size_t i = 0; i < n; i++) free(rows[i].line);
  free(rows);
  free(text);
}

/* ---- hand-made records --------------------------------------------------- */

static const char *const rec_accents =
    "{\"sys_id\":{\"value\":\"a1\",\"display_value\":\"a1\"},"
    "\"number\":{\"value\":\"INC0010001\",\"display_value\":\"INC0010001\"},"
    "\"short_description\":{\"value\":\"Impossible d\\u2019ouvrir l\\u2019ERP "
    "\\u2013 \\u00e9cran bloqu\\u00e9\",\"display_value\":\"Impossible "
    "d\\u2019ouvrir l\\u2019ERP \\u2013 \\u00e9cran bloqu\\u00e9\"},"
    "\"state\":{\"value\":\"2\",\"display_value\":\"En cours\"},"
    "\"priority\":{\"value\":\"1\",\"display_value\":\"1 - Critique\"},"
    "\"opened_at\":{\"value\":\"2026-10-05 07:00:00\",\"display_value\":"
    "\"05/10/2026 09:00:00\"},"
    "\"sys_updated_on\":{\"value\":\"2026-10-05 08:00:00\",\"display_value\":"
    "\"05/10/2026 10:00:00\"},"
    "\"u_first_response\":{\"value\":\"2026-10-05 07:12:00\",\"display_value\":"
    "\"05/10/2026 09:12:00\"},"
    "\"business_service\":{\"value\":\"s1\",\"display_value\":\"Messagerie "
    "\\u00cele-de-France\"},"
    "\"assignment_group\":{\"value\":\"g1\",\"display_value\":\"\\u00c9quipe "
    "R\\u00e9seau\"}}";

static void test_display_values_with_accents(void **state) {
  (void)state;
  stub_src s = {0};
  sn_ctx ctx = make_ctx(&s, "incident");
  cJSON *rec = cJSON_Parse(rec_accents);
  char why[256];
  sn_ticket_out out;
  assert_non_null(rec);
  assert_int_equal(
      sn_normalize_ticket(&ctx, rec, NULL, 0, NULL, 0, &out, why, sizeof why),
      IB_OK);
  assert_string_equal(out.t.title,
                      "Impossible d\xe2\x80\x99ouvrir l\xe2\x80\x99"
                      "ERP "
                      "\xe2\x80\x93 \xc3\xa9"
                      "cran bloqu\xc3\xa9");
  assert_string_equal(out.t.service, "Messagerie \xc3\x8ele-de-France");
  assert_string_equal(out.t.group, "\xc3\x89quipe R\xc3\xa9seau");
  assert_string_equal(out.t.status, "open");
  assert_string_equal(out.t.status_raw, "En cours");
  assert_string_equal(out.t.priority_raw, "1 - Critique");
  assert_int_equal(out.t.created_at, T(2026, 10, 5, 7, 0, 0));
  assert_int_equal(out.t.resolved_at, IB_TIME_NONE);
  sn_ticket_out_free(&out);

  /* services renames the display value */
  const ib_pair svc[] = {{"Messagerie \xc3\x8ele-de-France", "Mail"}};
  s.services = svc;
  s.n_services = 1;
  ctx = make_ctx(&s, "incident");
  assert_int_equal(
      sn_normalize_ticket(&ctx, rec, NULL, 0, NULL, 0, &out, why, sizeof why),
      IB_OK);
  assert_string_equal(out.t.service, "Mail");
  sn_ticket_out_free(&out);
  cJSON_Delete(rec);
}

static const char *const audit_json =
    "[{\"sys_id\":\"x1\",\"documentkey\":\"a1\",\"fieldname\":\"state\","
    "\"oldvalue\":\"1\",\"newvalue\":\"2\",\"sys_created_on\":\"2026-10-05 "
    "07:40:00\"},"
    "{\"sys_id\":\"x2\",\"documentkey\":\"a1\",\"fieldname\":\"assigned_to\","
    "\"oldvalue\":\"\",\"newvalue\":\"u1\",\"sys_created_on\":\"2026-10-05 "
    "07:25:00\"},"
    "{\"sys_id\":\"x3\",\"documentkey\":\"b2\",\"fieldname\":\"state\","
    "\"oldvalue\":\"1\",\"newvalue\":\"2\",\"sys_created_on\":\"2026-10-05 "
    "07:05:00\"},"
    "{\"sys_id\":\"x4\",\"documentkey\":\"a1\",\"fieldname\":\"state\","
    "\"oldvalue\":\"2\",\"newvalue\":\"3\",\"sys_created_on\":\"2026-10-05 "
    "08:00:00\"},"
    "{\"sys_id\":\"x5\",\"documentkey\":\"a1\",\"fieldname\":\"state\","
    "\"oldvalue\":\"3\",\"newvalue\":\"2\",\"sys_created_on\":\"2026-10-05 "
    "09:30:00\"},"
    "{\"sys_id\":\"x6\",\"documentkey\":\"a1\",\"fieldname\":\"state\","
    "\"oldvalue\":\"2\",\"newvalue\":\"3\",\"sys_created_on\":\"2026-10-05 "
    "10:00:00\"},"
    "{\"sys_id\":\"x7\",\"documentkey\":\"c3\",\"fieldname\":\"assigned_to\","
    "\"oldvalue\":\"u1\",\"newvalue\":\"u2\",\"sys_created_on\":\"2026-10-05 "
    "07:01:00\"},"
    "{\"sys_id\":\"x8\",\"documentkey\":\"c3\",\"fieldname\":\"state\","
    "\"oldvalue\":\"2\",\"newvalue\":\"6\",\"sys_created_on\":\"2026-10-05 "
    "11:00:00\"},"
    "{\"sys_id\":\"x9\",\"documentkey\":\"c3\",\"fieldname\":\"state\","
    "\"oldvalue\":\"6\",\"newvalue\":\"2\",\"sys_created_on\":\"2026-10-05 "
    "12:00:00\"},"
    "{\"sys_id\":\"xa\",\"documentkey\":\"c3\",\"fieldname\":\"state\","
    "\"oldvalue\":\"2\",\"newvalue\":\"6\",\"sys_created_on\":\"2026-10-05 "
    "13:00:00\"}]";

typedef struct audit_set {
  cJSON *doc;
  sn_audit_row rows[16];
  size_t n;
} audit_set;

static void load_audit(const sn_ctx *ctx, audit_set *a) {
  char why[256];
  const cJSON *row;
  a->doc = cJSON_Parse(audit_json);
  a->n = 0;
  assert_non_null(a->doc);
  cJSON_ArrayForEach(row, a->doc) {
    assert_int_equal(
        sn_audit_from_json(ctx, row, a->n, &a->rows[a->n], why, sizeof why),
        IB_OK);
    a->n++;
  }
  sn_audit_sort(a->rows, a->n);
}

/* Normalises rec_accents with id/state/resolved_at replaced. */
static ib_status normalise_variant(const sn_ctx *ctx, const audit_set *a,
                                   const char *id, const char *state_code,
                                   const char *resolved_at,
                                   const sn_sla_row *slas, size_t n_slas,
                                   sn_ticket_out *out, cJSON **keep) {
  char why[256];
  size_t first = 0, n = 0;
  cJSON *rec = cJSON_Parse(rec_accents);
  cJSON_ReplaceItemInObject(rec, "sys_id", cJSON_CreateString(id));
  cJSON_ReplaceItemInObject(rec, "state", cJSON_CreateString(state_code));
  if (resolved_at) cJSON_AddStringToObject(rec, "resolved_at", resolved_at);
  if (a) n = sn_audit_range(a->rows, a->n, id, &first);
  *keep = rec;
  return sn_normalize_ticket(ctx, rec, a ? a->rows + first : NULL, n, slas,
                             n_slas, out, why, sizeof why);
}

static void test_first_response_from_audit(void **state) {
  (void)state;
  stub_src s = {0};
  sn_ctx ctx = make_ctx(&s, "incident");
  audit_set a;
  sn_ticket_out out;
  cJSON *rec;
  load_audit(&ctx, &a);
  /* a1: assigned from empty at 07:25, before leaving New at 07:40 */
  assert_int_equal(
      normalise_variant(&ctx, &a, "a1", "2", NULL, NULL, 0, &out, &rec), IB_OK);
  assert_int_equal(out.t.first_response_at, T(2026, 10, 5, 7, 25, 0));
  sn_ticket_out_free(&out);
  cJSON_Delete(rec);
  /* b2: only the state change */
  assert_int_equal(
      normalise_variant(&ctx, &a, "b2", "2", NULL, NULL, 0, &out, &rec), IB_OK);
  assert_int_equal(out.t.first_response_at, T(2026, 10, 5, 7, 5, 0));
  sn_ticket_out_free(&out);
  cJSON_Delete(rec);
  /* c3: reassigned (not from empty), never New: no first response */
  assert_int_equal(
      normalise_variant(&ctx, &a, "c3", "2", NULL, NULL, 0, &out, &rec), IB_OK);
  assert_int_equal(out.t.first_response_at, IB_TIME_NONE);
  sn_ticket_out_free(&out);
  cJSON_Delete(rec);
  cJSON_Delete(a.doc);
}

static void test_first_response_from_field(void **state) {
  (void)state;
  stub_src s = {0};
  sn_ctx ctx = make_ctx(&s, "incident");
  audit_set a;
  sn_ticket_out out;
  cJSON *rec;
  load_audit(&ctx, &a);
  ctx.fr_field = "u_first_response";
  /* the field wins over the audit (which says 07:25) */
  assert_int_equal(
      normalise_variant(&ctx, &a, "a1", "2", NULL, NULL, 0, &out, &rec), IB_OK);
  assert_int_equal(out.t.first_response_at, T(2026, 10, 5, 7, 12, 0));
  sn_ticket_out_free(&out);
  cJSON_Delete(rec);
  cJSON_Delete(a.doc);
}

static void test_on_hold_pauses_and_resolution(void **state) {
  (void)state;
  stub_src s = {0};
  sn_ctx ctx = make_ctx(&s, "incident");
  audit_set a;
  sn_ticket_out out;
  cJSON *rec;
  load_audit(&ctx, &a);
  /* a1: On Hold 08:00-09:30, then again from 10:00 and still (state 3) */
  assert_int_equal(
      normalise_variant(&ctx, &a, "a1", "3", NULL, NULL, 0, &out, &rec), IB_OK);
  assert_string_equal(out.t.status, "pending");
  assert_int_equal(out.t.n_pauses, 2);
  assert_int_equal(out.t.pauses[0].start, T(2026, 10, 5, 8, 0, 0));
  assert_int_equal(out.t.pauses[0].end, T(2026, 10, 5, 9, 30, 0));
  assert_int_equal(out.t.pauses[1].start, T(2026, 10, 5, 10, 0, 0));
  assert_int_equal(out.t.pauses[1].end, IB_TIME_NONE);
  sn_ticket_out_free(&out);
  cJSON_Delete(rec);
  /* c3: resolved 11:00, reopened 12:00, resolved again 13:00; no field */
  assert_int_equal(
      normalise_variant(&ctx, &a, "c3", "6", NULL, NULL, 0, &out, &rec), IB_OK);
  assert_int_equal(out.t.resolved_at, T(2026, 10, 5, 13, 0, 0));
  assert_int_equal(out.t.n_pauses, 0);
  sn_ticket_out_free(&out);
  cJSON_Delete(rec);
  /* reopened and open again: a stale resolved_at field is not kept */
  assert_int_equal(normalise_variant(&ctx, &a, "c3", "2", "2026-10-05 11:00:00",
                                     NULL, 0, &out, &rec),
                   IB_OK);
  assert_int_equal(out.t.resolved_at, IB_TIME_NONE);
  sn_ticket_out_free(&out);
  cJSON_Delete(rec);
  cJSON_Delete(a.doc);
}

static const char *const sla_json =
    "[{\"task\":{\"value\":\"a1\",\"display_value\":\"INC0010001\"},"
    "\"sla.target\":{\"value\":\"response\",\"display_value\":\"Response\"},"
    "\"has_breached\":{\"value\":\"false\",\"display_value\":\"false\"},"
    "\"start_time\":{\"value\":\"2026-10-05 "
    "07:00:00\",\"display_value\":\"x\"},"
    "\"stage\":\"cancelled\"},"
    "{\"task\":\"a1\",\"sla.target\":\"response\",\"has_breached\":\"true\","
    "\"start_time\":\"2026-10-05 07:30:00\",\"stage\":\"completed\"},"
    "{\"task\":\"a1\",\"sla.target\":{\"value\":\"resolution\","
    "\"display_value\":\"Resolution\"},\"has_breached\":false,"
    "\"start_time\":\"2026-10-05 07:00:00\",\"stage\":\"in_progress\"},"
    "{\"task\":\"a1\",\"sla.target\":\"\",\"has_breached\":\"true\","
    "\"start_time\":\"2026-10-05 07:45:00\",\"stage\":\"completed\"},"
    "{\"task\":\"b2\",\"sla.target\":{\"value\":\"\",\"display_value\":\"\"},"
    "\"has_breached\":\"true\",\"start_time\":\"2026-10-05 07:00:00\"}]";

static void test_task_sla_verdicts(void **state) {
  (void)state;
  stub_src s = {0};
  sn_ctx ctx = make_ctx(&s, "incident");
  sn_sla_row rows[8];
  size_t n = 0, first, cnt;
  char why[256];
  sn_ticket_out out;
  cJSON *rec;
  cJSON *doc = cJSON_Parse(sla_json);
  const cJSON *row;
  assert_non_null(doc);
  cJSON_ArrayForEach(row, doc) {
    assert_int_equal(sn_sla_from_json(&ctx, row, &rows[n], why, sizeof why),
                     IB_OK);
    n++;
  }
  assert_int_equal(n, 5);
  assert_int_equal(rows[3].target, SN_TARGET_NONE); /* OLA */
  sn_sla_sort(rows, n);
  cnt = sn_sla_range(rows, n, "a1", &first);
  assert_int_equal(cnt, 4);
  /* response: cancelled (met) at 07:00, restarted 07:30 and breached */
  assert_int_equal(normalise_variant(&ctx, NULL, "a1", "2", NULL, rows + first,
                                     cnt, &out, &rec),
                   IB_OK);
  assert_int_equal(out.t.reported_response_breached, IB_VERDICT_BREACHED);
  assert_int_equal(out.t.reported_resolution_breached, IB_VERDICT_MET);
  sn_ticket_out_free(&out);
  cJSON_Delete(rec);
  /* b2: only an SLA without a response/resolution target */
  cnt = sn_sla_range(rows, n, "b2", &first);
  assert_int_equal(cnt, 1);
  assert_int_equal(normalise_variant(&ctx, NULL, "b2", "2", NULL, rows + first,
                                     cnt, &out, &rec),
                   IB_OK);
  assert_int_equal(out.t.reported_response_breached, IB_VERDICT_UNKNOWN);
  assert_int_equal(out.t.reported_resolution_breached, IB_VERDICT_UNKNOWN);
  sn_ticket_out_free(&out);
  cJSON_Delete(rec);
  cJSON_Delete(doc);
}

static void test_priority_mapping_and_reject(void **state) {
  (void)state;
  const ib_pair prios[] = {{"1 - Critique", "P1"}};
  stub_src s = {.priorities = prios, .n_priorities = 1};
  sn_ctx ctx = make_ctx(&s, "incident");
  cJSON *rec = cJSON_Parse(rec_accents);
  char why[256];
  sn_ticket_out out;
  assert_int_equal(
      sn_normalize_ticket(&ctx, rec, NULL, 0, NULL, 0, &out, why, sizeof why),
      IB_OK);
  assert_string_equal(out.t.priority, "P1"); /* by display value */
  sn_ticket_out_free(&out);
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "value", "2");
  cJSON_AddStringToObject(p, "display_value", "2 - Haute");
  cJSON_ReplaceItemInObject(rec, "priority", p);
  assert_int_equal(
      sn_normalize_ticket(&ctx, rec, NULL, 0, NULL, 0, &out, why, sizeof why),
      IB_ERR_REJECTED);
  assert_string_equal(out.where, "INC0010001");
  assert_non_null(strstr(why, "2 - Haute"));
  assert_non_null(strstr(why, "priorities"));
  /* a bad date is rejected too, naming the field */
  cJSON_ReplaceItemInObject(rec, "priority",
                            cJSON_CreateString("1 - Critique"));
  cJSON_ReplaceItemInObject(rec, "opened_at", cJSON_CreateString("yesterday"));
  assert_int_equal(
      sn_normalize_ticket(&ctx, rec, NULL, 0, NULL, 0, &out, why, sizeof why),
      IB_ERR_REJECTED);
  assert_non_null(strstr(why, "opened_at"));
  cJSON_Delete(rec);
}

static const char *const outage_json =
    "[{\"sys_id\":\"o1\",\"cmdb_ci\":{\"value\":\"ci1\",\"display_value\":"
    "\"ERP\"},\"type\":{\"value\":\"outage\",\"display_value\":\"Outage\"},"
    "\"begin\":\"2026-10-05 07:00:00\",\"end\":\"2026-10-05 08:30:00\","
    "\"sys_updated_on\":\"2026-10-05 09:00:00\"},"
    "{\"sys_id\":\"o2\",\"cmdb_ci\":{\"value\":\"ci1\",\"display_value\":"
    "\"ERP\"},\"type\":{\"value\":\"planned\",\"display_value\":\"Planned "
    "Outage\"},\"begin\":\"2026-10-06 22:00:00\",\"end\":\"2026-10-06 "
    "23:00:00\"},"
    "{\"sys_id\":\"o3\",\"cmdb_ci\":{\"value\":\"ci2\",\"display_value\":"
    "\"Serveur de fichiers\"},\"type\":{\"value\":\"degradation\","
    "\"display_value\":\"Degradation\"},\"begin\":\"2026-10-07 10:00:00\","
    "\"end\":\"\"},"
    "{\"sys_id\":\"o4\",\"cmdb_ci\":\"ci1\",\"type\":\"maintenance\","
    "\"begin\":\"2026-10-07 10:00:00\"}]";

static void test_outages_three_types(void **state) {
  (void)state;
  const ib_pair svc[] = {{"Serveur de fichiers", "Files"}};
  stub_src s = {.services = svc, .n_services = 1};
  sn_ctx ctx = make_ctx(&s, "incident");
  cJSON *doc = cJSON_Parse(outage_json);
  sn_outage_out o[4];
  ib_status st[4];
  char why[256];
  assert_non_null(doc);
  for (int i = 0; i < 4; i++)
    st[i] = sn_normalize_outage(&ctx, cJSON_GetArrayItem(doc, i), &o[i], why,
                                sizeof why);
  assert_int_equal(st[0], IB_OK);
  assert_string_equal(o[0].o.kind, "outage");
  assert_string_equal(o[0].o.service, "ERP");
  assert_int_equal(o[0].o.start, T(2026, 10, 5, 7, 0, 0));
  assert_int_equal(o[0].o.end, T(2026, 10, 5, 8, 30, 0));
  assert_int_equal(st[1], IB_OK);
  assert_string_equal(o[1].o.kind, "planned");
  assert_string_equal(o[1].o.kind_raw, "Planned Outage");
  assert_int_equal(st[2], IB_OK);
  assert_string_equal(o[2].o.kind, "degradation");
  assert_string_equal(o[2].o.service, "Files");
  assert_int_equal(o[2].o.end, IB_TIME_NONE); /* ongoing */
  assert_int_equal(st[3], IB_ERR_REJECTED);
  assert_non_null(strstr(why, "maintenance"));
  cJSON_Delete(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_json_fixture),
      cmocka_unit_test(test_incident_list_values),
      cmocka_unit_test(test_change_request_triplets),
      cmocka_unit_test(test_uci_event_log),
      cmocka_unit_test(test_display_values_with_accents),
      cmocka_unit_test(test_first_response_from_audit),
      cmocka_unit_test(test_first_response_from_field),
      cmocka_unit_test(test_on_hold_pauses_and_resolution),
      cmocka_unit_test(test_task_sla_verdicts),
      cmocka_unit_test(test_priority_mapping_and_reject),
      cmocka_unit_test(test_outages_three_types),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
