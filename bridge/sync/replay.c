/*
 * replay.c -- the replay transport of replay.h: answers host->http calls
 * from a table of (method, URL pattern) -> (status, headers, body) rules.
 * For tests and fuzz targets only (through transport.h); must not touch
 * the network, the configuration or any global state.
 */
#define _GNU_SOURCE
#include "replay.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ib_replay {
  const ib_replay_rule *rules; /* borrowed */
  size_t n_rules;
  unsigned *served; /* owned: uses per rule */
  size_t max_requests;
  size_t requests;
  int over_budget;
  char *unmatched; /* owned: first "METHOD URL" without a rule */
};

ib_replay *ib_replay_new(const ib_replay_rule *rules, size_t n,
                         size_t max_requests) {
  ib_replay *rp = calloc(1, sizeof *rp); /* returned: ib_replay_free */
  if (rp == NULL) goto fail;
  rp->served = calloc(n ? n : 1, sizeof *rp->served);
  if (rp->served == NULL) goto fail;
  rp->rules = rules;
  rp->n_rules = n;
  rp->max_requests = max_requests;
  return rp;
fail:
  ib_replay_free(rp);
  return NULL;
}

void ib_replay_free(ib_replay *rp) {
  if (rp == NULL) return;
  free(rp->served);
  free(rp->unmatched);
  free(rp);
}

static int rule_matches(const ib_replay_rule *r, const char *method,
                        const char *url) {
  if (r->method && strcasecmp(r->method, method) != 0) return 0;
  return r->url_pattern == NULL || fnmatch(r->url_pattern, url, 0) == 0;
}

/* Fills one response with a copy of rule r's answer. */
static ib_status answer(ib_http_response *resp, const ib_replay_rule *r) {
  size_t len = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
  char *body = malloc(len + 1); /* owned by the response: http_free */
  if (body == NULL) return IB_ERR_NOMEM;
  if (len) memcpy(body, r->body, len);
  body[len] = '\0';
  resp->status = r->status;
  resp->body = body;
  resp->body_len = len;
  return IB_OK;
}

static void fail_one(ib_http_response *resp, const char *method,
                     const char *url, const char *why) {
  char text[512];
  snprintf(text, sizeof text, "replay: %s %s: %s", method, url, why);
  resp->error = strdup(text); /* owned by the response; NULL on ENOMEM */
}

ib_status ib_replay_perform(void *ctx, const ib_http_request *reqs, size_t n,
                            ib_http_response *resps) {
  ib_replay *rp = ctx;
  ib_status result = IB_OK;
  for (size_t i = 0; i < n; i++)
    resps[i] = (ib_http_response){.struct_size = sizeof(ib_http_response)};
  if (rp == NULL || (n > 0 && reqs == NULL)) return IB_ERR_INVALID;
  for (size_t i = 0; i < n; i++) {
    const char *method = reqs[i].method ? reqs[i].method : "GET";
    const char *url = reqs[i].url ? reqs[i].url : "";
    rp->requests++;
    if (rp->max_requests && rp->requests > rp->max_requests) {
      rp->over_budget = 1;
      fail_one(&resps[i], method, url, "past the request budget");
      result = IB_ERR_HTTP;
      continue;
    }
    size_t k;
    for (k = 0; k < rp->n_rules; k++) {
      const ib_replay_rule *r = &rp->rules[k];
      if ((r->times == 0 || rp->served[k] < r->times) &&
          rule_matches(r, method, url))
        break;
    }
    if (k == rp->n_rules) {
      if (rp->unmatched == NULL &&
          asprintf(&rp->unmatched, "%s %s", method, url) < 0)
        rp->unmatched = NULL;
      fail_one(&resps[i], method, url, "no rule answers it");
      result = IB_ERR_HTTP;
      continue;
    }
    rp->served[k]++;
    if (answer(&resps[i], &rp->rules[k]) != IB_OK) return IB_ERR_NOMEM;
    long s = rp->rules[k].status;
    if ((s == 401 || s == 403) && result == IB_OK) result = IB_ERR_AUTH;
    if ((s == 429 || s == 502 || s == 503 || s == 504) && result == IB_OK)
      result = IB_ERR_HTTP;
  }
  return result;
}

unsigned ib_replay_served(const ib_replay *rp, size_t i) {
  return rp && i < rp->n_rules ? rp->served[i] : 0;
}

size_t ib_replay_requests(const ib_replay *rp) {
  return rp ? rp->requests : 0;
}

const char *ib_replay_unmatched(const ib_replay *rp) {
  return rp ? rp->unmatched : NULL;
}

int ib_replay_over_budget(const ib_replay *rp) {
  return rp ? rp->over_budget : 0;
}
