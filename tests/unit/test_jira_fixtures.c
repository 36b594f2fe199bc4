/*
 * test_jira_fixtures.c -- the Jira plugin's normalisation (jira_norm.c,
 * compiled in here) against every real payload in fixtures/jira and against
 * hand-made issues whose expected figures are worked out by hand in the
 * comments. No HTTP, no plugin loading: a fake host supplies map() and
 * parse_time().
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

#include "../../plugins/jira/jira_norm.c"
#include "model.h"
#include "tz.h"

#define FIXTURES IB_FIXTURES_DIR "/jira/"

/* ---- a fake host: mappings and the ISO parser ---------------------------- */

struct ib_source {
  const ib_pair *priorities;
  size_t n_priorities;
  const ib_pair *statuses;
  size_t n_statuses;
  const ib_pair *kinds;
  size_t n_kinds;
};

static const char *fake_map(ib_source *src, const char *option,
                            const char *raw) {
  const ib_pair *pairs = NULL;
  size_t n = 0;
  if (strcmp(option, "priorities") == 0) {
    pairs = src->priorities;
    n = src->n_priorities;
  } else if (strcmp(option, "statuses") == 0) {
    pairs = src->statuses;
    n = src->n_statuses;
  } else if (strcmp(option, "kinds") == 0) {
    pairs = src->kinds;
    n = src->n_kinds;
  }
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(pairs[i].from, raw) == 0) return pairs[i].to;
  return NULL;
}

static ib_status fake_parse_time(ib_source *src, const char *text,
                                 const char *format, ib_time *out) {
  (void)src;
  assert_null(format);
  return ib_parse_iso8601(text, "UTC", out) == 0 ? IB_OK : IB_ERR_PARSE;
}

static ib_host_services fake_host(void) {
  ib_host_services h;
  memset(&h, 0, sizeof h);
  h.struct_size = sizeof h;
  h.abi_version = IB_PLUGIN_ABI_VERSION;
  h.map = fake_map;
  h.parse_time = fake_parse_time;
  return h;
}

static const ib_pair all_priorities[] = {{"Highest", "P1"}, {"High", "P2"},
                                         {"Major", "P2"},   {"Medium", "P3"},
                                         {"Low", "P4"},     {"Lowest", "P5"}};

static ib_time utc(const char *iso) {
  ib_time t = IB_TIME_NONE;
  assert_int_equal(ib_parse_iso8601(iso, "UTC", &t), 0);
  return t;
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long size;
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  size = ftell(f);
  assert_true(size >= 0);
  rewind(f);
  buf = malloc((size_t)size + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
  buf[size] = '\0';
  fclose(f);
  if (len) *len = (size_t)size;
  return buf;
}

static cJSON *read_json(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s%s", FIXTURES, name);
  char *text = read_all(path, NULL);
  cJSON *root = cJSON_Parse(text);
  free(text);
  assert_non_null(root);
  return root;
}

/* What every normalised ticket must satisfy, whatever the payload. */
static void check_ticket(const ib_ticket *t) {
  assert_non_null(t->id);
  assert_true(t->created_at != IB_TIME_NONE);
  assert_true(ib_kind_parse(t->kind) >= 0);
  assert_true(ib_state_parse(t->status) >= 0);
  assert_true(ib_priority_parse(t->priority) >= 1);
  int done =
      strcmp(t->status, "resolved") == 0 || strcmp(t->status, "closed") == 0;
  if (!done) assert_true(t->resolved_at == IB_TIME_NONE);
  for (size_t i = 0; i < t->n_pauses; i++)
    assert_true(t->pauses[i].end == IB_TIME_NONE ||
                t->pauses[i].end > t->pauses[i].start);
}

typedef struct fixture_env {
  ib_host_services host;
  struct ib_source src;
  jira_norm_cfg cfg;
  jira_norm scratch;
} fixture_env;

static void env_init(fixture_env *e) {
  memset(e, 0, sizeof *e);
  e->host = fake_host();
  e->src.priorities = all_priorities;
  e->src.n_priorities = sizeof all_priorities / sizeof all_priorities[0];
  e->cfg.host = &e->host;
  e->cfg.src = &e->src;
}

/* Normalises every issue of a search page; returns how many were OK. */
static size_t normalise_page(fixture_env *e, const cJSON *root) {
  const cJSON *issue;
  size_t ok = 0;
  cJSON_ArrayForEach(issue, cJSON_GetObjectItemCaseSensitive(root, "issues")) {
    ib_ticket t;
    ib_status st = jira_normalize(&e->cfg, &e->scratch, issue, NULL, &t);
    if (st != IB_OK)
      fail_msg("%s: %s", jira_issue_where(issue), e->scratch.reason);
    check_ticket(&t);
    ok++;
  }
  return ok;
}

/* ---- every real search payload ----------------------------------------------
 */

static void test_search_payloads(void **state) {
  static const struct {
    const char *file;
    size_t issues;
  } files[] = {{"cloud_v3_search_adf.json", 18},
               {"cloud_v2_search.json", 18},
               {"server_v2_search.json", 11},
               {"cloud_search_jql_islast.json", 3},
               {"cloud_agile_sprint_issues_changelog.json", 1}};
  fixture_env e;
  (void)state;
  env_init(&e);
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    cJSON *root = read_json(files[i].file);
    assert_int_equal(normalise_page(&e, root), files[i].issues);
    cJSON_Delete(root);
  }
  jira_norm_free(&e.scratch);
}

static const cJSON *find_issue(const cJSON *root, const char *key) {
  const cJSON *issue;
  cJSON_ArrayForEach(issue, cJSON_GetObjectItemCaseSensitive(root, "issues")) {
    if (strcmp(jira_issue_where(issue), key) == 0) return issue;
  }
  return NULL;
}

/* cloud_v3 KP-1: created 04:48:24.162Z, Done (category done) with
 * resolutiondate 04:48:34.743Z -> resolved 04:48:34 (fraction dropped).
 * No changelog in a plain search: no first response. */
static void test_v3_resolved_issue(void **state) {
  fixture_env e;
  ib_ticket t;
  cJSON *root = read_json("cloud_v3_search_adf.json");
  (void)state;
  env_init(&e);
  assert_int_equal(
      jira_normalize(&e.cfg, &e.scratch, find_issue(root, "KP-1"), NULL, &t),
      IB_OK);
  assert_string_equal(t.id, "10007");
  assert_string_equal(t.priority, "P4");
  assert_string_equal(t.priority_raw, "Low");
  assert_string_equal(t.status, "resolved");
  assert_string_equal(t.kind, "other"); /* Story */
  assert_true(t.created_at == utc("2021-01-09T04:48:24Z"));
  assert_true(t.resolved_at == utc("2021-01-09T04:48:34Z"));
  assert_true(t.first_response_at == IB_TIME_NONE);
  /* KP-3 is "Selected for Development", category new. */
  assert_int_equal(
      jira_normalize(&e.cfg, &e.scratch, find_issue(root, "KP-3"), NULL, &t),
      IB_OK);
  assert_string_equal(t.status, "new");
  assert_true(t.resolved_at == IB_TIME_NONE);
  cJSON_Delete(root);
  jira_norm_free(&e.scratch);
}

/* The sprint issue AR-86 is in "Ready" (category new) although Jira still
 * carries a resolutiondate: SPEC §5 wants no resolved_at for a ticket that
 * is open again. */
static void test_sprint_issue_reopened(void **state) {
  fixture_env e;
  ib_ticket t;
  cJSON *root = read_json("cloud_agile_sprint_issues_changelog.json");
  (void)state;
  env_init(&e);
  assert_int_equal(
      jira_normalize(&e.cfg, &e.scratch,
                     cJSON_GetArrayItem(cJSON_GetObjectItem(root, "issues"), 0),
                     NULL, &t),
      IB_OK);
  assert_string_equal(t.key, "AR-86");
  assert_string_equal(t.status, "new");
  assert_true(t.resolved_at == IB_TIME_NONE);
  /* created 2015-12-02T07:39:15-0800 = 15:39:15Z */
  assert_true(t.created_at == utc("2015-12-02T15:39:15Z"));
  /* its changelog holds summary and priority changes, no status change */
  assert_true(t.first_response_at == IB_TIME_NONE);
  cJSON_Delete(root);
  jira_norm_free(&e.scratch);
}

/* The board payload was asked for three fields only: its changelogs are
 * normalised with the same issues' fields from the search payload (same
 * site, same issues). */
static void test_board_changelogs(void **state) {
  fixture_env e;
  cJSON *board = read_json("cloud_agile_board_issues_changelog.json");
  cJSON *search = read_json("cloud_v2_search.json");
  const cJSON *issue;
  size_t n = 0;
  (void)state;
  env_init(&e);
  cJSON_ArrayForEach(issue, cJSON_GetObjectItem(board, "issues")) {
    const cJSON *full = find_issue(search, jira_issue_where(issue));
    const cJSON *histories = cJSON_GetObjectItem(
        cJSON_GetObjectItem(issue, "changelog"), "histories");
    ib_ticket t;
    assert_non_null(full);
    if (jira_normalize(&e.cfg, &e.scratch, full, histories, &t) != IB_OK)
      fail_msg("%s: %s", jira_issue_where(issue), e.scratch.reason);
    check_ticket(&t);
    n++;
    if (strcmp(t.key, "KP-2") == 0) {
      /* Four Backlog->Backlog items are not changes; the first real one is
       * Backlog->Done at 2021-04-30T00:55:09.287+0100 = 04-29 23:55:09Z,
       * and resolutiondate 00:55:09.238+0100 gives the same second. */
      assert_true(t.first_response_at == utc("2021-04-29T23:55:09Z"));
      assert_true(t.resolved_at == utc("2021-04-29T23:55:09Z"));
    }
    if (strcmp(t.key, "KP-4") == 0) {
      assert_true(t.first_response_at == IB_TIME_NONE);
      assert_string_equal(t.status, "new");
    }
  }
  assert_int_equal(n, 15);
  cJSON_Delete(board);
  cJSON_Delete(search);
  jira_norm_free(&e.scratch);
}

/* ---- DevLake raw tables: one JSON document per CSV row ----------------------
 */

/* Reads RFC 4180 CSV text; calls back with the `data` column of each row. */
typedef void (*row_fn)(void *ctx, const char *data, const char *input);

static void csv_each(const char *name, row_fn fn, void *ctx) {
  char path[512];
  snprintf(path, sizeof path, "%s%s", FIXTURES, name);
  size_t len;
  char *text = read_all(path, &len);
  char *field = malloc(len + 1); /* owned: one field at a time */
  char *row[8] = {0};            /* owned: fields of the current record */
  int data_col = -1, input_col = -1, col = 0, header = 1;
  size_t flen = 0;
  assert_non_null(field);
  for (size_t i = 0; i <= len; i++) {
    int end_field = 0, end_row = 0;
    if (i == len) {
      end_field = end_row = (flen > 0 || col > 0);
    } else if (text[i] == '"') {
      for (i++; i < len; i++) {
        if (text[i] == '"' && i + 1 < len && text[i + 1] == '"')
          field[flen++] = text[++i];
        else if (text[i] == '"')
          break;
        else
          field[flen++] = text[i];
      }
      continue;
    } else if (text[i] == ',') {
      end_field = 1;
    } else if (text[i] == '\n') {
      end_field = end_row = 1;
    } else if (text[i] != '\r') {
      field[flen++] = text[i];
    }
    if (end_field) {
      field[flen] = '\0';
      if (col < 8) row[col] = strdup(field);
      col++;
      flen = 0;
    }
    if (end_row) {
      if (header) {
        for (int c = 0; c < col && c < 8; c++) {
          if (strcmp(row[c], "data") == 0) data_col = c;
          if (strcmp(row[c], "input") == 0) input_col = c;
        }
        assert_true(data_col >= 0);
        header = 0;
      } else {
        fn(ctx, row[data_col], input_col >= 0 ? row[input_col] : NULL);
      }
      for (int c = 0; c < 8; c++) {
        free(row[c]);
        row[c] = NULL;
      }
      col = 0;
    }
  }
  free(field);
  free(text);
}

typedef struct devlake_issues {
  fixture_env e;
  size_t n;
} devlake_issues;

static void devlake_issue_row(void *ctx, const char *data, const char *input) {
  devlake_issues *d = ctx;
  cJSON *issue = cJSON_Parse(data);
  ib_ticket t;
  (void)input;
  assert_non_null(issue);
  if (jira_normalize(&d->e.cfg, &d->e.scratch, issue, NULL, &t) != IB_OK)
    fail_msg("%s: %s", jira_issue_where(issue), d->e.scratch.reason);
  check_ticket(&t);
  if (strcmp(t.key, "EE-2") == 0) {
    /* 已完成, category done; resolutiondate 2020-06-23T18:20:58.999+0800. */
    assert_string_equal(t.status, "resolved");
    assert_true(t.resolved_at == utc("2020-06-23T10:20:58Z"));
    assert_string_equal(t.kind_raw, "故事");
    assert_string_equal(t.kind, "other");
  }
  if (strcmp(t.key, "EE-1") == 0) {
    /* Same name, but this status is in category new. */
    assert_string_equal(t.status, "new");
    assert_true(t.resolved_at == IB_TIME_NONE);
  }
  d->n++;
  cJSON_Delete(issue);
}

static void test_devlake_issues(void **state) {
  devlake_issues d;
  (void)state;
  env_init(&d.e);
  d.n = 0;
  csv_each("devlake_raw_jira_api_issues_excerpt.csv", devlake_issue_row, &d);
  assert_int_equal(d.n, 5);
  jira_norm_free(&d.e.scratch);
}

typedef struct devlake_changelogs {
  cJSON *by_issue; /* owned: { "13383": [history, ...], ... } */
  size_t rows;
} devlake_changelogs;

static void devlake_changelog_row(void *ctx, const char *data,
                                  const char *input) {
  devlake_changelogs *d = ctx;
  cJSON *history = cJSON_Parse(data), *in = cJSON_Parse(input);
  char id[32];
  assert_non_null(history);
  assert_non_null(in);
  snprintf(id, sizeof id, "%.0f",
           cJSON_GetObjectItem(in, "issue_id")->valuedouble);
  cJSON *list = cJSON_GetObjectItem(d->by_issue, id);
  if (!list) list = cJSON_AddArrayToObject(d->by_issue, id);
  cJSON_AddItemToArray(list, history);
  cJSON_Delete(in);
  d->rows++;
}

/* Issue 13383's 100 histories, as /issue/{id}/changelog pages them, hold
 * three status changes (times +0800):
 *   2021-01-25 21:49:52 Open -> 开发中       = 13:49:52Z
 *   2021-01-27 14:46:18 开发中 -> Closed     = 06:46:18Z
 *   2021-03-28 16:08:12 Closed -> 已完成     = 08:08:12Z
 * With Closed mapped to closed, 已完成 the current (done) status and 开发中
 * a pause status: first response 01-25 13:49:52Z; resolved at the entry
 * into the done run, 01-27 06:46:18Z; one pause over 开发中. */
static void test_devlake_changelogs(void **state) {
  static const ib_pair statuses[] = {{"Closed", "closed"}};
  static const char *const pauses[] = {"开发中"};
  static const char shell[] =
      "{\"id\":\"13383\",\"key\":\"DL-1\",\"fields\":{"
      "\"created\":\"2021-01-25T10:00:00.000+0800\","
      "\"updated\":\"2021-03-28T16:08:12.742+0800\","
      "\"priority\":{\"name\":\"Medium\"},\"issuetype\":{\"name\":\"Bug\"},"
      "\"status\":{\"id\":\"10068\",\"name\":\"已完成\","
      "\"statusCategory\":{\"key\":\"done\"}}}}";
  devlake_changelogs d = {cJSON_CreateObject(), 0};
  fixture_env e;
  ib_ticket t;
  cJSON *issue = cJSON_Parse(shell);
  (void)state;
  env_init(&e);
  e.src.statuses = statuses;
  e.src.n_statuses = 1;
  e.cfg.pause_statuses = pauses;
  e.cfg.n_pause_statuses = 1;
  csv_each("devlake_raw_jira_api_issue_changelogs_excerpt.csv",
           devlake_changelog_row, &d);
  assert_int_equal(d.rows, 110);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d.by_issue, "13383")),
                   100);
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, issue,
                                  cJSON_GetObjectItem(d.by_issue, "13383"), &t),
                   IB_OK);
  assert_true(t.first_response_at == utc("2021-01-25T13:49:52Z"));
  assert_string_equal(t.status, "resolved");
  assert_true(t.resolved_at == utc("2021-01-27T06:46:18Z"));
  assert_int_equal(t.n_pauses, 1);
  assert_true(t.pauses[0].start == utc("2021-01-25T13:49:52Z"));
  assert_true(t.pauses[0].end == utc("2021-01-27T06:46:18Z"));
  /* Issue 13954: ten histories, one status change. */
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, issue,
                                  cJSON_GetObjectItem(d.by_issue, "13954"), &t),
                   IB_OK);
  assert_true(t.first_response_at == utc("2021-03-05T02:14:45Z"));
  cJSON_Delete(issue);
  cJSON_Delete(d.by_issue);
  jira_norm_free(&e.scratch);
}

/* ---- hand-made issues
 * --------------------------------------------------------- */

/* A JSM issue. History lines are "id|created|from|to"; newest first, as the
 * agile API sends them, to prove the order does not matter. */
static cJSON *make_issue(const char *status, const char *category,
                         const char *resolutiondate, const char *extra_fields,
                         const char *const *histories, size_t n) {
  char buf[8192];
  int off = snprintf(
      buf, sizeof buf,
      "{\"id\":\"20001\",\"key\":\"SUP-42\",\"changelog\":{\"startAt\":0,"
      "\"maxResults\":%zu,\"total\":%zu,\"histories\":[",
      n, n);
  for (size_t i = n; i-- > 0;) {
    char id[16], created[40], from[40], to[40];
    assert_int_equal(sscanf(histories[i], "%15[^|]|%39[^|]|%39[^|]|%39[^|]", id,
                            created, from, to),
                     4);
    off += snprintf(buf + off, sizeof buf - (size_t)off,
                    "%s{\"id\":\"%s\",\"created\":\"%s\",\"items\":["
                    "{\"field\":\"status\",\"fieldtype\":\"jira\","
                    "\"fieldId\":\"status\",\"from\":\"%s\",\"fromString\":"
                    "\"%s\",\"to\":\"%s\",\"toString\":\"%s\"}]}",
                    i + 1 == n ? "" : ",", id, created, from, from, to, to);
  }
  off += snprintf(
      buf + off, sizeof buf - (size_t)off,
      "]},\"fields\":{\"summary\":\"VPN down\",\"created\":"
      "\"2026-10-05T09:00:00.000+0200\",\"updated\":"
      "\"2026-10-06T18:00:00.000+0200\",\"priority\":{\"name\":\"High\"},"
      "\"issuetype\":{\"name\":\"[System] Incident\"},\"components\":"
      "[{\"name\":\"VPN\"}],\"labels\":[\"team-net\",\"svc-Network\"],"
      "\"status\":{\"id\":\"%s\",\"name\":\"%s\",\"statusCategory\":"
      "{\"key\":\"%s\"}},\"resolutiondate\":%s%s%s%s}}",
      status, status, category, resolutiondate ? "\"" : "",
      resolutiondate ? resolutiondate : "null", resolutiondate ? "\"" : "",
      extra_fields ? extra_fields : "");
  assert_true(off < (int)sizeof buf);
  cJSON *issue = cJSON_Parse(buf);
  assert_non_null(issue);
  return issue;
}

/* created 09:00+0200 = 07:00Z; Open -> In Progress at 09:30+0200 (07:30Z)
 * is the first response; -> Done at 11:00+0200 with resolutiondate
 * 11:00:05.123+0200 = 09:00:05Z. */
static void test_first_response_by_transition(void **state) {
  static const char *const h[] = {
      "301|2026-10-05T09:30:00.000+0200|Open|In Progress",
      "302|2026-10-05T11:00:00.000+0200|In Progress|Done"};
  fixture_env e;
  ib_ticket t;
  cJSON *issue =
      make_issue("Done", "done", "2026-10-05T11:00:05.123+0200", NULL, h, 2);
  (void)state;
  env_init(&e);
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, issue, NULL, &t), IB_OK);
  assert_string_equal(t.id, "20001");
  assert_string_equal(t.key, "SUP-42");
  assert_string_equal(t.title, "VPN down");
  assert_string_equal(t.kind, "incident");
  assert_string_equal(t.kind_raw, "[System] Incident");
  assert_string_equal(t.priority, "P2");
  assert_string_equal(t.service, "VPN");
  assert_true(t.created_at == utc("2026-10-05T07:00:00Z"));
  assert_true(t.updated_at == utc("2026-10-06T16:00:00Z"));
  assert_true(t.first_response_at == utc("2026-10-05T07:30:00Z"));
  assert_true(t.resolved_at == utc("2026-10-05T09:00:05Z"));
  assert_true(t.closed_at == IB_TIME_NONE);
  assert_int_equal(t.n_pauses, 0);
  assert_int_equal(t.reported_response_breached, IB_VERDICT_UNKNOWN);
  cJSON_Delete(issue);
  jira_norm_free(&e.scratch);
}

/* The SLA field holds Atlassian's documented example (jsm_request_sla_
 * single.json): first completed cycle stops at epochMillis 1444362743000
 * -> 1444362743; of its two completed cycles the last is breached. */
static void test_first_response_by_sla_field(void **state) {
  fixture_env e;
  ib_ticket t;
  cJSON *issue = make_issue("Open", "new", NULL, NULL, NULL, 0);
  cJSON *sla = read_json("jsm_request_sla_single.json");
  cJSON *ongoing_only = cJSON_Parse(
      "{\"completedCycles\":[],\"ongoingCycle\":{\"breached\":false}}");
  (void)state;
  env_init(&e);
  cJSON_AddItemToObject(cJSON_GetObjectItem(issue, "fields"),
                        "customfield_10030", sla);
  cJSON_AddItemToObject(cJSON_GetObjectItem(issue, "fields"),
                        "customfield_10031", ongoing_only);
  e.cfg.fr_mode = JIRA_FR_SLA;
  e.cfg.fr_sla_field = "customfield_10030";
  e.cfg.sla_response_field = "customfield_10030";
  e.cfg.sla_resolution_field = "customfield_10031";
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, issue, NULL, &t), IB_OK);
  assert_true(t.first_response_at == 1444362743);
  assert_true(t.first_response_at == utc("2015-10-09T03:52:23Z"));
  assert_int_equal(t.reported_response_breached, IB_VERDICT_BREACHED);
  assert_int_equal(t.reported_resolution_breached, IB_VERDICT_MET);
  assert_string_equal(t.status, "new");
  cJSON_Delete(issue);
  jira_norm_free(&e.scratch);
}

/* An SLA stop time far outside any calendar (found by fuzz_jira_search:
 * converting 1e297 seconds to ib_time was undefined behaviour) rejects the
 * issue, naming the value. */
static void test_sla_epoch_millis_out_of_range(void **state) {
  fixture_env e;
  ib_ticket t;
  cJSON *issue = make_issue("Open", "new", NULL, NULL, NULL, 0);
  cJSON *sla = cJSON_Parse(
      "{\"completedCycles\":[{\"stopTime\":{\"epochMillis\":1e300}}]}");
  (void)state;
  env_init(&e);
  cJSON_AddItemToObject(cJSON_GetObjectItem(issue, "fields"),
                        "customfield_10030", sla);
  e.cfg.fr_mode = JIRA_FR_SLA;
  e.cfg.fr_sla_field = "customfield_10030";
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, issue, NULL, &t),
                   IB_ERR_REJECTED);
  assert_string_equal(e.scratch.reason,
                      "epochMillis 1.0000000000000001e+300 in an SLA field "
                      "is outside years 1..9999");
  cJSON_Delete(issue);
  jira_norm_free(&e.scratch);
}

/* Open -> Waiting for customer 10:00 -> In Progress 11:00 -> Waiting for
 * customer 12:00 (+0200), still waiting: [08:00Z, 09:00Z) and [10:00Z, -). */
static void test_pauses(void **state) {
  static const char *const h[] = {
      "401|2026-10-05T10:00:00.000+0200|Open|Waiting for customer",
      "402|2026-10-05T11:00:00.000+0200|Waiting for customer|In Progress",
      "403|2026-10-05T12:00:00.000+0200|In Progress|Waiting for customer"};
  static const char *const pauses[] = {"waiting for customer"};
  fixture_env e;
  ib_ticket t;
  cJSON *issue =
      make_issue("Waiting for customer", "indeterminate", NULL, NULL, h, 3);
  (void)state;
  env_init(&e);
  e.cfg.pause_statuses = pauses;
  e.cfg.n_pause_statuses = 1;
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, issue, NULL, &t), IB_OK);
  assert_string_equal(t.status, "pending");
  assert_true(t.first_response_at == utc("2026-10-05T08:00:00Z"));
  assert_int_equal(t.n_pauses, 2);
  assert_true(t.pauses[0].start == utc("2026-10-05T08:00:00Z"));
  assert_true(t.pauses[0].end == utc("2026-10-05T09:00:00Z"));
  assert_true(t.pauses[1].start == utc("2026-10-05T10:00:00Z"));
  assert_true(t.pauses[1].end == IB_TIME_NONE);
  cJSON_Delete(issue);
  jira_norm_free(&e.scratch);
}

/* Open -> Resolved 10:00 -> Reopened 12:00 -> Resolved 15:00 -> Closed next
 * day 09:00 (+0200), no resolutiondate; Resolved is known done from the
 * server's catalogue, Closed is mapped to closed. Resolved at the last
 * entry into the done run: 15:00+0200 = 13:00Z; closed at 10-06 07:00Z. */
static void test_reopen_and_resolve_again(void **state) {
  static const char *const h[] = {
      "501|2026-10-05T10:00:00.000+0200|Open|Resolved",
      "502|2026-10-05T12:00:00.000+0200|Resolved|Reopened",
      "503|2026-10-05T15:00:00.000+0200|Reopened|Resolved",
      "504|2026-10-06T09:00:00.000+0200|Resolved|Closed"};
  static const ib_pair statuses[] = {{"Closed", "closed"}};
  jira_status_info catalog[] = {{"Resolved", "Resolved", 1},
                                {"Reopened", "Reopened", 0}};
  fixture_env e;
  ib_ticket t;
  cJSON *closed = make_issue("Closed", "done", NULL, NULL, h, 4);
  cJSON *reopened = make_issue("Reopened", "indeterminate",
                               "2026-10-05T10:00:00.000+0200", NULL, h, 2);
  (void)state;
  env_init(&e);
  e.src.statuses = statuses;
  e.src.n_statuses = 1;
  e.cfg.catalog = catalog;
  e.cfg.n_catalog = 2;
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, closed, NULL, &t), IB_OK);
  assert_string_equal(t.status, "closed");
  assert_true(t.first_response_at == utc("2026-10-05T08:00:00Z"));
  assert_true(t.resolved_at == utc("2026-10-05T13:00:00Z"));
  assert_true(t.closed_at == utc("2026-10-06T07:00:00Z"));
  /* Reopened and open again: no resolved_at, even with a stale
   * resolutiondate. */
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, reopened, NULL, &t),
                   IB_OK);
  assert_string_equal(t.status, "open");
  assert_true(t.resolved_at == IB_TIME_NONE);
  cJSON_Delete(closed);
  cJSON_Delete(reopened);
  jira_norm_free(&e.scratch);
}

static void test_unmapped_priority(void **state) {
  fixture_env e;
  ib_ticket t;
  cJSON *issue = make_issue("Open", "new", NULL, NULL, NULL, 0);
  cJSON *prio =
      cJSON_GetObjectItem(cJSON_GetObjectItem(issue, "fields"), "priority");
  (void)state;
  env_init(&e);
  cJSON_ReplaceItemInObject(prio, "name", cJSON_CreateString("Urgent"));
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, issue, NULL, &t),
                   IB_ERR_REJECTED);
  assert_string_equal(e.scratch.reason,
                      "unmapped priority \"Urgent\": add it to priorities");
  assert_string_equal(jira_issue_where(issue), "SUP-42");
  cJSON_Delete(issue);
  jira_norm_free(&e.scratch);
}

static void test_bad_dates_and_shapes(void **state) {
  fixture_env e;
  ib_ticket t;
  cJSON *issue = make_issue("Open", "new", NULL, NULL, NULL, 0);
  cJSON *not_issue = cJSON_CreateNumber(3);
  (void)state;
  env_init(&e);
  cJSON_ReplaceItemInObject(cJSON_GetObjectItem(issue, "fields"), "created",
                            cJSON_CreateString("05/10/2026"));
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, issue, NULL, &t),
                   IB_ERR_REJECTED);
  assert_non_null(strstr(e.scratch.reason, "\"05/10/2026\" in created"));
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, not_issue, NULL, &t),
                   IB_ERR_PARSE);
  cJSON_Delete(issue);
  cJSON_Delete(not_issue);
  jira_norm_free(&e.scratch);
}

/* Service from a labels prefix and from a select custom field; kinds by
 * default and by mapping. */
static void test_service_and_kind(void **state) {
  static const ib_pair kinds[] = {{"[System] Incident", "problem"}};
  fixture_env e;
  ib_ticket t;
  cJSON *issue = make_issue(
      "Open", "new", NULL,
      ",\"customfield_10050\":{\"self\":\"x\",\"value\":\"ERP\",\"id\":\"7\"}",
      NULL, 0);
  (void)state;
  env_init(&e);
  e.cfg.service_mode = JIRA_SERVICE_LABELS;
  e.cfg.service_arg = "svc-";
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, issue, NULL, &t), IB_OK);
  assert_string_equal(t.service, "Network");
  assert_string_equal(t.kind, "incident");
  e.cfg.service_mode = JIRA_SERVICE_FIELD;
  e.cfg.service_arg = "customfield_10050";
  e.src.kinds = kinds;
  e.src.n_kinds = 1;
  assert_int_equal(jira_normalize(&e.cfg, &e.scratch, issue, NULL, &t), IB_OK);
  assert_string_equal(t.service, "ERP");
  assert_string_equal(t.kind, "problem");
  assert_string_equal(default_kind("[System] Service request"), "request");
  assert_string_equal(default_kind("Service Request with Approvals"),
                      "request");
  assert_string_equal(default_kind("Change"), "change");
  assert_string_equal(default_kind("Epic"), "other");
  cJSON_Delete(issue);
  jira_norm_free(&e.scratch);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_search_payloads),
      cmocka_unit_test(test_v3_resolved_issue),
      cmocka_unit_test(test_sprint_issue_reopened),
      cmocka_unit_test(test_board_changelogs),
      cmocka_unit_test(test_devlake_issues),
      cmocka_unit_test(test_devlake_changelogs),
      cmocka_unit_test(test_first_response_by_transition),
      cmocka_unit_test(test_first_response_by_sla_field),
      cmocka_unit_test(test_sla_epoch_millis_out_of_range),
      cmocka_unit_test(test_pauses),
      cmocka_unit_test(test_reopen_and_resolve_again),
      cmocka_unit_test(test_unmapped_priority),
      cmocka_unit_test(test_bad_dates_and_shapes),
      cmocka_unit_test(test_service_and_kind),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
