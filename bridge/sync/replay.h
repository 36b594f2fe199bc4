/*
 * replay.h -- the replay transport: canned HTTP answers for fuzz targets
 * and plugin tests, plugged into a source through transport.h instead of
 * libcurl. It never opens a socket and keeps no globals.
 *
 * A replay answers each request with the first rule, in table order, whose
 * method and URL pattern match and that still has uses left:
 *
 *   static const ib_replay_rule rules[] = {
 *       {"GET", "*\/rest/api/3/status", 200, NULL, "[]", 0, 0},
 *       {"GET", "*\/rest/api/3/search/jql?*", 200, NULL, page1, 0, 1},
 *       {"GET", "*\/rest/api/3/search/jql?*", 200, NULL, "{\"issues\":[]}",
 *        0, 0},
 *   };
 *   ib_replay *rp = ib_replay_new(rules, 3, 100);   // at most 100 requests
 *   ib_transport t = {ib_replay_perform, rp};
 *   ib_source_sync_with_transport(cfg, sc, plugin, store, &opt, &t, &res);
 *   // then: ib_replay_served(rp, 1) == 1, ib_replay_unmatched(rp) == NULL
 *   ib_replay_free(rp);
 *
 * Here the first search gets page1, every later one an empty page: a rule
 * with `times` bounds how often it answers, so a paging plugin always meets
 * an end. What the host's client would do is mirrored: a 401/403 answer
 * makes the call return IB_ERR_AUTH, a 429/502/503/504 answer IB_ERR_HTTP
 * (as after its retries ran out), any other status IB_OK. A request that no
 * rule matches, or one past the budget, gets status 0 with an error text
 * and the call returns IB_ERR_HTTP; ib_replay_unmatched() and
 * ib_replay_over_budget() tell the test which happened.
 */
#ifndef IB_REPLAY_H
#define IB_REPLAY_H

#include <stddef.h>

#include "itsm_bridge/plugin.h"

typedef struct ib_replay_rule {
  const char *method;      /* "GET", "POST"; NULL = any method */
  const char *url_pattern; /* fnmatch(3) glob on the whole URL ('*' crosses
                              '/' and '?'); NULL = any URL */
  long status;             /* HTTP status answered */
  /* Response header lines ("Retry-After: 3"), NULL-terminated, or NULL.
   * Plugin ABI 1 responses carry no headers, so plugins cannot see them
   * yet; they are kept with the rule so that a recorded exchange stays
   * whole for the day ib_http_response grows them. */
  const char *const *headers;
  const char *body; /* NULL = empty body */
  size_t body_len;  /* 0 = strlen(body); binary bodies give their length */
  unsigned times;   /* answers this many requests, then is skipped; 0 = no
                       limit */
} ib_replay_rule;

typedef struct ib_replay ib_replay;

/* A replay over rules[0..n). The rules and every string they point to are
 * borrowed and must outlive the replay. max_requests bounds the requests
 * answered in all (0 = no bound). NULL on ENOMEM. Owned by the caller:
 * ib_replay_free. */
ib_replay *ib_replay_new(const ib_replay_rule *rules, size_t n,
                         size_t max_requests);
void ib_replay_free(ib_replay *rp);

/* The ib_transport_fn of transport.h; ctx is an ib_replay *. Each response
 * body and error is malloc'ed (free() through the host's http_free). */
ib_status ib_replay_perform(void *ctx, const ib_http_request *reqs, size_t n,
                            ib_http_response *resps);

/* Requests answered by rule i so far. */
unsigned ib_replay_served(const ib_replay *rp, size_t i);
/* Requests seen in all (answered, unmatched and over budget). */
size_t ib_replay_requests(const ib_replay *rp);
/* "METHOD URL" of the first request no rule matched, or NULL. Borrowed
 * from the replay. */
const char *ib_replay_unmatched(const ib_replay *rp);
/* Non-zero once a request came past max_requests. */
int ib_replay_over_budget(const ib_replay *rp);

#endif /* IB_REPLAY_H */
