/*
 * test_replay.c -- the replay transport (replay.h) and the source's
 * transport seam (transport.h): rule order and use counts, the request
 * budget, unmatched requests, the statuses mirrored from the real client,
 * and one whole sync of a small HTTP plugin defined here, through the real
 * host services into an in-memory store, with no network.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "replay.h"
#include "source.h"
#include "store.h"
#include "transport.h"

static ib_http_request get(const char *url) {
  return (ib_http_request){
      .struct_size = sizeof(ib_http_request), .method = "GET", .url = url};
}

static void test_rules_in_order_with_use_counts(void **state) {
  (void)state;
  static const char bin[] = {'a', '\0', 'b'};
  const ib_replay_rule rules[] = {
      {"GET", "https://x.test/page?*", 200, NULL, "first", 0, 1},
      {"GET", "https://x.test/page?*", 200, NULL, "later", 0, 0},
      {"POST", "*", 201, NULL, bin, sizeof bin, 0},
  };
  ib_replay *rp = ib_replay_new(rules, 3, 0);
  assert_non_null(rp);
  ib_http_request reqs[3] = {get("https://x.test/page?n=1"),
                             get("https://x.test/page?n=2"),
                             {.struct_size = sizeof(ib_http_request),
                              .method = "post",
                              .url = "https://x.test/search"}};
  ib_http_response resps[3];
  assert_int_equal(ib_replay_perform(rp, reqs, 3, resps), IB_OK);
  assert_int_equal(resps[0].status, 200);
  assert_string_equal(resps[0].body, "first");
  assert_string_equal(resps[1].body, "later");
  assert_int_equal(resps[2].status, 201);
  assert_int_equal(resps[2].body_len, 3);
  assert_memory_equal(resps[2].body, bin, 3);
  assert_int_equal(resps[2].body[3], '\0'); /* always NUL-terminated */
  assert_int_equal(ib_replay_served(rp, 0), 1);
  assert_int_equal(ib_replay_served(rp, 1), 1);
  assert_int_equal(ib_replay_served(rp, 2), 1);
  assert_int_equal(ib_replay_requests(rp), 3);
  assert_null(ib_replay_unmatched(rp));
  for (int i = 0; i < 3; i++) {
    free(resps[i].body);
    free(resps[i].error);
  }
  ib_replay_free(rp);
}

static void test_unmatched_budget_and_statuses(void **state) {
  (void)state;
  const ib_replay_rule rules[] = {
      {"GET", "*/denied", 401, NULL, "{}", 0, 0},
      {"GET", "*/busy", 503, NULL, NULL, 0, 0},
      {NULL, "*/ok", 200, NULL, "ok", 0, 0},
  };
  ib_replay *rp = ib_replay_new(rules, 3, 3);
  ib_http_request r1[] = {get("https://x.test/ok"), get("https://x.test/nope")};
  ib_http_response s1[2];
  assert_int_equal(ib_replay_perform(rp, r1, 2, s1), IB_ERR_HTTP);
  assert_int_equal(s1[0].status, 200);
  assert_int_equal(s1[1].status, 0);
  assert_non_null(strstr(s1[1].error, "no rule answers it"));
  assert_string_equal(ib_replay_unmatched(rp), "GET https://x.test/nope");
  ib_http_request r2[] = {get("https://x.test/denied")};
  ib_http_response s2[1];
  assert_int_equal(ib_replay_perform(rp, r2, 1, s2), IB_ERR_AUTH);
  assert_int_equal(s2[0].status, 401);
  assert_false(ib_replay_over_budget(rp));
  ib_http_request r3[] = {get("https://x.test/busy")};
  ib_http_response s3[1];
  assert_int_equal(ib_replay_perform(rp, r3, 1, s3), IB_ERR_HTTP);
  assert_true(ib_replay_over_budget(rp)); /* the 4th request of 3 */
  assert_non_null(strstr(s3[0].error, "past the request budget"));
  ib_http_response *all[] = {&s1[0], &s1[1], &s2[0], &s3[0]};
  for (size_t i = 0; i < 4; i++) {
    free(all[i]->body);
    free(all[i]->error);
  }
  ib_replay_free(rp);
}

/* ---- a small HTTP plugin, run by the real source.c ---- */

typedef struct pages_plugin {
  const ib_host_services *host;
  ib_source *src;
} pages_plugin;

static ib_status pp_open(const ib_host_services *host, ib_source *src,
                         void **instance) {
  pages_plugin *p = calloc(1, sizeof *p);
  if (p == NULL) return IB_ERR_NOMEM;
  p->host = host;
  p->src = src;
  *instance = p;
  return IB_OK;
}

/* Pages "https://pages.test/p?n=N" until a page has no id line; each
 * page body is "id created-ISO". */
static ib_status pp_sync(void *instance) {
  pages_plugin *p = instance;
  const char *base = p->host->get_string(p->src, "url");
  for (int n = 1;; n++) {
    char url[256], id[64] = "", created[64] = "", where[32];
    snprintf(url, sizeof url, "%s/p?n=%d", base, n);
    ib_http_request req = get(url);
    ib_http_response resp = {.struct_size = sizeof resp};
    ib_status st = p->host->http(p->src, &req, 1, &resp);
    if (st == IB_OK && resp.body) sscanf(resp.body, "%63s %63s", id, created);
    p->host->http_free(&resp);
    if (st != IB_OK) return st;
    if (id[0] == '\0') return IB_OK;
    ib_ticket t = IB_TICKET_INIT;
    t.id = id;
    t.priority = "P2";
    if (p->host->parse_time(p->src, created, NULL, &t.created_at) != IB_OK)
      return IB_ERR_PARSE;
    snprintf(where, sizeof where, "page %d", n);
    st = p->host->emit_ticket(p->src, &t, where);
    if (st != IB_OK && st != IB_ERR_REJECTED) return st;
    if ((st = p->host->commit(p->src, t.created_at)) != IB_OK) return st;
  }
}

static void pp_close(void *instance) {
  free(instance);
}

static const ib_option_def pp_options[] = {
    {"url", IB_OPT_STRING, 1, NULL, "base URL", 0, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL}};

static const ib_plugin pages = {.magic = IB_PLUGIN_MAGIC,
                                .abi_version = IB_PLUGIN_ABI_VERSION,
                                .struct_size = sizeof(ib_plugin),
                                .name = "pages",
                                .version = "1",
                                .flags = IB_PLUGIN_FLAG_HTTP,
                                .options = pp_options,
                                .open = pp_open,
                                .sync = pp_sync,
                                .close = pp_close};

static ib_config *load_config(const char *text) {
  char path[64], err[512] = "";
  int fd = memfd_create("test-replay-cfg", 0);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ib_config *cfg = ib_config_load(path, err, sizeof err);
  if (cfg == NULL) fail_msg("%s", err);
  close(fd);
  return cfg;
}

static void test_sync_through_the_seam(void **state) {
  (void)state;
  /* auth names a variable that is not set: with a transport the source
   * reads no secret and creates no libcurl client. */
  ib_config *cfg = load_config(
      "store = { path = \":memory:\"; };\n"
      "sources = ( { name = \"p\"; plugin = \"pages\";\n"
      "  url = \"https://pages.test\";\n"
      "  auth = { type = \"bearer\"; token_env = \"IB_TEST_UNSET_TOKEN\"; "
      "}; } );\n");
  char err[512] = "";
  ib_store *st = ib_store_open(&cfg->store, err, sizeof err);
  assert_non_null(st);
  assert_int_equal(
      ib_source_validate(cfg, &cfg->sources[0], &pages, err, sizeof err), 0);
  const ib_replay_rule rules[] = {
      {"GET", "https://pages.test/p?n=1", 200, NULL, "T-1 2026-10-05T09:00:00Z",
       0, 0},
      {"GET", "https://pages.test/p?n=2", 200, NULL, "T-2 2026-10-06T09:00:00Z",
       0, 0},
      {"GET", "https://pages.test/p?n=*", 200, NULL, "", 0, 0},
  };
  ib_replay *rp = ib_replay_new(rules, 3, 10);
  ib_transport t = {ib_replay_perform, rp};
  ib_sync_options opt = {.since = IB_TIME_NONE, .quiet = 1};
  ib_sync_result res;
  unsetenv("IB_TEST_UNSET_TOKEN");
  int rc = ib_source_sync_with_transport(cfg, &cfg->sources[0], &pages, st,
                                         &opt, &t, &res);
  assert_string_equal(res.error, "");
  assert_int_equal(rc, 0);
  assert_int_equal(res.stored, 2);
  assert_int_equal(ib_replay_requests(rp), 3);
  assert_int_equal(ib_replay_served(rp, 2), 1);
  ib_source_state ss;
  assert_int_equal(ib_store_source_state(st, "p", 1, &ss, err, sizeof err), 0);
  assert_int_equal(ss.tickets, 2);
  assert_int_equal(ss.watermark, 1791277200); /* 2026-10-06T09:00:00Z */
  ib_replay_free(rp);

  /* Without a transport the same source is the real one: it needs its
   * secret, and says so. */
  rc = ib_source_sync(cfg, &cfg->sources[0], &pages, st, &opt, &res);
  assert_int_equal(rc, -1);
  assert_non_null(strstr(res.error, "IB_TEST_UNSET_TOKEN"));

  /* A refused page stops the source with the auth status. */
  const ib_replay_rule deny[] = {{"GET", "*", 403, NULL, "", 0, 0}};
  rp = ib_replay_new(deny, 1, 10);
  t.ctx = rp;
  rc = ib_source_sync_with_transport(cfg, &cfg->sources[0], &pages, st, &opt,
                                     &t, &res);
  assert_int_equal(rc, -1);
  assert_int_equal(res.status, IB_ERR_AUTH);
  ib_replay_free(rp);
  ib_store_close(st);
  ib_config_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rules_in_order_with_use_counts),
      cmocka_unit_test(test_unmatched_budget_and_statuses),
      cmocka_unit_test(test_sync_through_the_seam),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
