/*
 * jira.c -- the Jira / Jira Service Management source plugin: declares its
 * options, pages Cloud (/rest/api/3/search/jql, nextPageToken) and Data
 * Center (/rest/api/2/search, re-queried from the last `updated` seen)
 * searches and long changelogs through the host's HTTP service, and emits
 * what jira_norm.c makes of each issue. Must not parse dates itself, touch
 * the store, or keep anything outside the instance.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "itsm_bridge/plugin.h"
#include "jira_norm.h"
#include "json_repair.h"

#define JIRA_PLUGIN_VERSION "1.0.0"
/* The issue changelog endpoint returns at most 100 histories per call. */
#define JIRA_CHANGELOG_PAGE 100
#define JIRA_MILLIS_PER_SECOND 1000
/* Largest page_size accepted (Jira itself caps pages at 100 or 1000). */
#define JIRA_MAX_PAGE_SIZE 5000
/* Issues read again by id per round of concurrent requests. */
#define JIRA_FETCH_BATCH 16
#define JIRA_CLOUD_HOST_SUFFIX ".atlassian.net"
/* Counts a server claims (total, startAt) above this are not believed: a
 * misbehaving server must not make the plugin plan without end. */
#define JIRA_MAX_COUNT 1000000000.0
/* Histories read per issue at most (100 changelog requests); beyond, the
 * issue keeps what was read and a warning says so. */
#define JIRA_MAX_CHANGELOG 10000L
/* Changelog requests planned for one search page at most; issues beyond
 * keep their embedded histories (with a warning). */
#define JIRA_MAX_CHANGELOG_REQUESTS 2000
/* Identity of a page (first key, last key, size), to notice a repeat. */
#define JIRA_PAGE_ID_LEN 200
/* What the normaliser reads; configured custom fields are added. */
#define JIRA_BASE_FIELDS                                              \
  "summary,issuetype,priority,status,created,updated,resolutiondate," \
  "statuscategorychangedate,components,labels"

static const ib_option_def jira_sla_children[] = {
    {"first_response", IB_OPT_STRING, 0, NULL,
     "JSM SLA custom field (e.g. customfield_10030) whose verdict is the "
     "provider's reported first-response result",
     0, NULL},
    {"resolution", IB_OPT_STRING, 0, NULL,
     "JSM SLA custom field whose verdict is the provider's reported "
     "resolution result",
     0, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL}};

static const ib_option_def jira_options[] = {
    {"url", IB_OPT_STRING, 1, NULL,
     "site URL, e.g. https://acme.atlassian.net (plain http only for "
     "127.0.0.1/localhost)",
     0, NULL},
    {"api", IB_OPT_STRING, 0, NULL,
     "\"cloud\" (GET /rest/api/3/search/jql) or \"datacenter\" (GET "
     "/rest/api/2/search); default: cloud for *.atlassian.net, else "
     "datacenter",
     0, NULL},
    {"jql", IB_OPT_STRING, 0, NULL,
     "base filter, ANDed with the incremental clause, e.g. \"project = SUP\"",
     0, NULL},
    {"page_size", IB_OPT_INT, 0, "100",
     "issues asked per search page (the server may return fewer)", 0, NULL},
    {"priorities", IB_OPT_PAIRS, 0, NULL,
     "Jira priority name -> P1..P5; an issue with an unmapped priority is "
     "rejected with its key",
     0, NULL},
    {"statuses", IB_OPT_PAIRS, 0, NULL,
     "Jira status name -> new|open|pending|resolved|closed|cancelled; "
     "default by status category (To Do -> new, In Progress -> open, Done "
     "-> resolved), pause statuses -> pending",
     0, NULL},
    {"kinds", IB_OPT_PAIRS, 0, NULL,
     "issue type -> incident|request|problem|change|other; default: "
     "Incident, Service Request, Problem, Change by name, else other",
     0, NULL},
    {"pause_statuses", IB_OPT_STRINGS, 0, NULL,
     "statuses whose time (from the changelog) is a pause of the "
     "resolution clock, e.g. [ \"Waiting for customer\" ]",
     0, NULL},
    {"first_response", IB_OPT_STRING, 0, "transition",
     "\"transition\" (first status change out of the initial status) or "
     "\"sla:<customfield_id>\" (stop time of that JSM SLA's first completed "
     "cycle)",
     0, NULL},
    {"service_field", IB_OPT_STRING, 0, "components",
     "\"components\" (first component), a custom field id, or "
     "\"labels:<prefix>\" (first label with that prefix, prefix removed)",
     0, NULL},
    {"sla_fields", IB_OPT_GROUP, 0, NULL,
     "JSM SLA fields holding the provider's own verdicts (breached of the "
     "last completed cycle, else of the ongoing one)",
     0, jira_sla_children},
    {NULL, 0, 0, NULL, NULL, 0, NULL}};

/* One configured source. Strings from the host are borrowed (valid until
 * close); the rest is owned here. */
typedef struct jira {
  const ib_host_services *host;
  ib_source *src;
  char *base; /* owned: url without trailing slash */
  int cloud;  /* 1: Cloud API v3, 0: Data Center API v2 */
  const char *jql;
  long long page_size;
  char *fields; /* owned: the "fields" query value, escaped */
  jira_norm_cfg norm;
  jira_status_info *catalog; /* owned, with its strings */
  size_t n_catalog;
  jira_norm scratch; /* owned */
  uint64_t done;     /* issues handled, for progress */
  int validating;    /* inside validate(): errors go to config_error */
} jira;

/* ---- a growable string ------------------------------------------------- */

typedef struct jbuf {
  char *p; /* owned by whoever holds the jbuf; free() */
  size_t len, cap;
  int oom;
} jbuf;

static void jbuf_addf(jbuf *b, const char *fmt, ...) IB_PRINTF(2, 3);
static void jbuf_addf(jbuf *b, const char *fmt, ...) {
  va_list ap;
  int n;
  if (b->oom) return;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->oom = 1;
    return;
  }
  if (b->len + (size_t)n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 128;
    while (b->len + (size_t)n + 1 > cap) cap *= 2;
    char *grown = realloc(b->p, cap);
    if (!grown) {
      b->oom = 1;
      return;
    }
    b->p = grown;
    b->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* Appends text percent-encoded by the host. */
static void jbuf_add_escaped(jira *j, jbuf *b, const char *text) {
  char *esc = j->host->url_escape(j->src, text); /* owned: free_string */
  if (!esc) {
    b->oom = 1;
    return;
  }
  jbuf_addf(b, "%s", esc);
  j->host->free_string(esc);
}

/* ---- HTTP ------------------------------------------------------------------
 */

static const char *const json_headers[] = {"Accept: application/json", NULL};

/* "/rest/api/3/search/jql" out of a full URL, for messages. */
static void url_path(const jira *j, const char *url, char *out, size_t len) {
  const char *p = url + strlen(j->base);
  size_t n = strcspn(p, "?");
  snprintf(out, len, "%.*s", (int)n, p);
}

/* The first of Jira's "errorMessages", to explain a refused call. */
static void jira_error_text(const ib_http_response *r, char *out, size_t len) {
  cJSON *root = r->body ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
  const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "errorMessages");
  const cJSON *first = cJSON_GetArrayItem(msgs, 0);
  if (cJSON_IsString(first))
    snprintf(out, len, ": %s", first->valuestring);
  else
    out[0] = '\0';
  cJSON_Delete(root);
}

/* A count the server claims: an integer from 0 to JIRA_MAX_COUNT. Returns
 * 1 and *out when v is one, 0 when v is absent, -1 when v is anything else
 * (negative, fractional, huge, not a number); never casts a wild double. */
static int server_count(const cJSON *v, long long *out) {
  if (v == NULL) return 0;
  if (!cJSON_IsNumber(v)) return -1;
  double d = v->valuedouble;
  if (!(d >= 0 && d <= JIRA_MAX_COUNT) || d != (double)(long long)d) return -1;
  *out = (long long)d;
  return 1;
}

/* The claimed value of v, for messages. */
static void claim_text(const cJSON *v, char *out, size_t len) {
  char *printed = v ? cJSON_PrintUnformatted(v) : NULL; /* owned */
  snprintf(out, len, "%.40s", printed ? printed : "(none)");
  free(printed);
}

/* Checks one response and parses its body. `what` names the page. */
static ib_status response_json(jira *j, const char *url,
                               const ib_http_response *r, const char *what,
                               cJSON **out) {
  char path[256], detail[256];
  url_path(j, url, path, sizeof path);
  *out = NULL;
  if (r->status != 200) {
    jira_error_text(r, detail, sizeof detail);
    j->host->log(j->src, IB_LOG_ERROR,
                 "GET %s (%s): HTTP %ld%s: check url, api and jql", path, what,
                 r->status, detail);
    return IB_ERR_HTTP;
  }
  if (r->body) ib_json_repair_escapes(r->body, r->body_len);
  *out = cJSON_ParseWithLength(r->body ? r->body : "", r->body_len);
  if (!*out) {
    const char *at = cJSON_GetErrorPtr();
    long offset = at && r->body && at >= r->body && at <= r->body + r->body_len
                      ? (long)(at - r->body)
                      : -1;
    j->host->log(j->src, IB_LOG_ERROR,
                 "GET %s (%s): response is not valid JSON (near byte %ld of "
                 "%zu): is url the Jira site, not a proxy or login page?",
                 path, what, offset, r->body_len);
    return IB_ERR_PARSE;
  }
  return IB_OK;
}

static ib_status http_get_json(jira *j, const char *url, const char *what,
                               cJSON **out) {
  ib_http_request req = {sizeof req, "GET", url, NULL, json_headers};
  ib_http_response resp = {.struct_size = sizeof resp};
  ib_status st = j->host->http(j->src, &req, 1, &resp);
  *out = NULL;
  if (st == IB_OK) st = response_json(j, url, &resp, what, out);
  j->host->http_free(&resp);
  return st;
}

/* ---- the status catalogue ----------------------------------------------- */

static void catalog_free(jira *j) {
  for (size_t i = 0; i < j->n_catalog; i++) {
    free(j->catalog[i].id);
    free(j->catalog[i].name);
  }
  free(j->catalog);
  j->catalog = NULL;
  j->n_catalog = 0;
  j->norm.catalog = NULL;
  j->norm.n_catalog = 0;
}

/* Reads GET /rest/api/N/status so that statuses seen only in changelogs
 * can be told done or not. Optional: without it the mapping and the
 * current status decide. */
static ib_status load_catalog(jira *j) {
  jbuf url = {0};
  cJSON *root = NULL;
  const cJSON *s;
  ib_status st;
  ib_http_request req = {sizeof req, "GET", NULL, NULL, json_headers};
  ib_http_response resp = {.struct_size = sizeof resp};

  catalog_free(j);
  jbuf_addf(&url, "%s/rest/api/%d/status", j->base, j->cloud ? 3 : 2);
  if (url.oom) {
    st = IB_ERR_NOMEM;
    goto fail;
  }
  req.url = url.p;
  st = j->host->http(j->src, &req, 1, &resp);
  if (st != IB_OK) goto fail;
  if (resp.body) ib_json_repair_escapes(resp.body, resp.body_len);
  if (resp.status != 200 ||
      !(root = cJSON_ParseWithLength(resp.body, resp.body_len)) ||
      !cJSON_IsArray(root)) {
    j->host->log(j->src, IB_LOG_WARN,
                 "GET /rest/api/%d/status: HTTP %ld, no status catalogue: "
                 "past done statuses are recognised only through statuses "
                 "mappings",
                 j->cloud ? 3 : 2, resp.status);
    st = IB_OK;
    goto fail;
  }
  j->catalog = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof *j->catalog);
  if (!j->catalog) {
    st = IB_ERR_NOMEM;
    goto fail;
  }
  cJSON_ArrayForEach(s, root) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "id");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
    const cJSON *cat = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(s, "statusCategory"), "key");
    if (!cJSON_IsString(id) || !cJSON_IsString(name)) continue;
    jira_status_info *info = &j->catalog[j->n_catalog];
    info->id = strdup(id->valuestring);
    info->name = strdup(name->valuestring);
    info->done = cJSON_IsString(cat) && strcmp(cat->valuestring, "done") == 0;
    j->n_catalog++;
    if (!info->id || !info->name) {
      st = IB_ERR_NOMEM;
      goto fail;
    }
  }
  j->norm.catalog = j->catalog;
  j->norm.n_catalog = j->n_catalog;
  st = IB_OK;
fail:
  if (st != IB_OK) catalog_free(j);
  cJSON_Delete(root);
  j->host->http_free(&resp);
  free(url.p);
  return st;
}

/* ---- changelogs longer than what the search embeds ---------------------- */

typedef struct cl_part {
  size_t issue; /* index in the page */
  long start;   /* startAt */
  long end;     /* next planned startAt, or the total */
} cl_part;

/* Non-zero when the issue's embedded changelog is shorter than its total;
 * *total is then what to read (at most JIRA_MAX_CHANGELOG). */
static int embedded_short(jira *j, const cJSON *issue, long *total) {
  const cJSON *cl = cJSON_GetObjectItemCaseSensitive(issue, "changelog");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(cl, "total");
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(cl, "histories");
  long long claimed = 0;
  char shown[48];
  int ok = server_count(t, &claimed);
  if (ok < 0) {
    claim_text(t, shown, sizeof shown);
    j->host->log(j->src, IB_LOG_WARN,
                 "%s: changelog total %s is not a count; only the embedded "
                 "histories are used",
                 jira_issue_where(issue), shown);
    return 0;
  }
  if (ok == 0) return 0;
  if (claimed > JIRA_MAX_CHANGELOG) {
    j->host->log(j->src, IB_LOG_WARN,
                 "%s: changelog claims %lld histories; only the first %ld are "
                 "read (its pauses and first response may be incomplete)",
                 jira_issue_where(issue), claimed, JIRA_MAX_CHANGELOG);
    claimed = JIRA_MAX_CHANGELOG;
  }
  *total = (long)claimed;
  return *total > cJSON_GetArraySize(h);
}

/* Fetches every part of `parts` in one concurrent host->http call, moves
 * the histories into full[issue], and queues what a capped server left
 * out. */
static ib_status changelog_round(jira *j, const cJSON *const *items,
                                 cl_part *parts, size_t *n_parts,
                                 cJSON **full) {
  size_t n = *n_parts, next = 0, warned = (size_t)-1;
  ib_status st = IB_OK;
  jbuf *urls = calloc(n, sizeof *urls);               /* owned */
  ib_http_request *reqs = calloc(n, sizeof *reqs);    /* owned */
  ib_http_response *resps = calloc(n, sizeof *resps); /* owned */
  cl_part *queued = calloc(n, sizeof *queued);        /* owned */
  if (!urls || !reqs || !resps || !queued) {
    st = IB_ERR_NOMEM;
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    const cJSON *issue = items[parts[i].issue];
    jbuf_addf(&urls[i], "%s/rest/api/%d/issue/", j->base, j->cloud ? 3 : 2);
    jbuf_add_escaped(j, &urls[i], jira_issue_where(issue));
    jbuf_addf(&urls[i], "/changelog?startAt=%ld&maxResults=%ld", parts[i].start,
              parts[i].end - parts[i].start);
    if (urls[i].oom) {
      st = IB_ERR_NOMEM;
      goto fail;
    }
    reqs[i] =
        (ib_http_request){sizeof reqs[i], "GET", urls[i].p, NULL, json_headers};
    resps[i].struct_size = sizeof resps[i];
  }
  st = j->host->http(j->src, reqs, n, resps);
  for (size_t i = 0; st == IB_OK && i < n; i++) {
    cJSON *root = NULL, *values;
    const cJSON *issue = items[parts[i].issue];
    char what[160];
    long got = 0;
    snprintf(what, sizeof what, "changelog of %s from %ld",
             jira_issue_where(issue), parts[i].start);
    st = response_json(j, urls[i].p, &resps[i], what, &root);
    if (st != IB_OK) break;
    values = cJSON_GetObjectItemCaseSensitive(root, "values");
    if (!values) values = cJSON_GetObjectItemCaseSensitive(root, "histories");
    if (!full[parts[i].issue] &&
        !(full[parts[i].issue] = cJSON_CreateArray())) {
      cJSON_Delete(root);
      st = IB_ERR_NOMEM;
      break;
    }
    /* Moved one by one from the head: linear in the histories. */
    while (cJSON_IsArray(values) && values->child) {
      cJSON_AddItemToArray(full[parts[i].issue],
                           cJSON_DetachItemViaPointer(values, values->child));
      got++;
    }
    cJSON_Delete(root);
    if (got > 0 && parts[i].start + got < parts[i].end)
      queued[next++] =
          (cl_part){parts[i].issue, parts[i].start + got, parts[i].end};
    else if (got == 0 && warned != parts[i].issue)
      warned = parts[i].issue,
      j->host->log(j->src, IB_LOG_WARN,
                   "%s: no histories returned; its pauses and first "
                   "response use what came",
                   what);
  }
  if (st == IB_OK) {
    memcpy(parts, queued, next * sizeof *parts);
    *n_parts = next;
  }
fail:
  for (size_t i = 0; resps && urls && i < n; i++) {
    if (reqs && reqs[i].url) j->host->http_free(&resps[i]);
    free(urls[i].p);
  }
  free(urls);
  free(reqs);
  free(resps);
  free(queued);
  return st;
}

/* full[i] receives the whole changelog of issue i when its embedded one is
 * capped (NULL otherwise); owned by the caller (cJSON_Delete). */
static ib_status fetch_changelogs(jira *j, const cJSON *const *items,
                                  size_t n_issues, cJSON **full) {
  size_t n = 0, cap = 0;
  cl_part *parts = NULL; /* owned */
  ib_status st = IB_OK;
  for (size_t i = 0; i < n_issues; i++) {
    long total = 0;
    if (!embedded_short(j, items[i], &total)) continue;
    if (n + (size_t)(total / JIRA_CHANGELOG_PAGE + 1) >
        JIRA_MAX_CHANGELOG_REQUESTS) {
      j->host->log(j->src, IB_LOG_WARN,
                   "%s and later issues of this page: more than %d changelog "
                   "requests would be needed; they keep the histories the "
                   "search embedded (pauses and first response may be "
                   "incomplete)",
                   jira_issue_where(items[i]), JIRA_MAX_CHANGELOG_REQUESTS);
      break;
    }
    for (long start = 0; start < total; start += JIRA_CHANGELOG_PAGE) {
      if (n == cap) {
        size_t c = cap ? 2 * cap : 16;
        cl_part *grown = realloc(parts, c * sizeof *grown);
        if (!grown) {
          st = IB_ERR_NOMEM;
          goto fail;
        }
        parts = grown;
        cap = c;
      }
      long end = start + JIRA_CHANGELOG_PAGE;
      parts[n++] = (cl_part){i, start, end < total ? end : total};
    }
  }
  while (st == IB_OK && n > 0) st = changelog_round(j, items, parts, &n, full);
fail:
  free(parts);
  return st;
}

/* ---- one search page ---------------------------------------------------- */

static ib_time issue_updated(jira *j, const cJSON *issue) {
  const cJSON *fields = cJSON_GetObjectItemCaseSensitive(issue, "fields");
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(fields, "updated");
  ib_time t = IB_TIME_NONE;
  if (!cJSON_IsString(u) ||
      j->host->parse_time(j->src, u->valuestring, NULL, &t) != IB_OK)
    return IB_TIME_NONE;
  return t;
}

/* With its id, the host lists a rejected issue and asks for it again
 * (fetch) at the next sync. */
static void reject_issue(jira *j, const cJSON *issue, const char *why) {
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(issue, "id");
  const ib_host_services *h = j->host;
  if (cJSON_IsString(id) &&
      h->struct_size >=
          offsetof(ib_host_services, reject_record) + sizeof h->reject_record)
    h->reject_record(j->src, id->valuestring, jira_issue_where(issue), "%s",
                     why);
  else
    h->reject(j->src, jira_issue_where(issue), "%s", why);
}

/* Emits every issue of a page and commits it, with its largest `updated`
 * as the watermark when move_wm (not for issues fetched by id). */
static ib_status process_page(jira *j, const cJSON *issues, const char *what,
                              int move_wm, size_t *n_out) {
  size_t n = (size_t)cJSON_GetArraySize(issues), k = 0;
  cJSON **full = calloc(n + 1, sizeof *full); /* owned, and each element */
  const cJSON **items = calloc(n + 1, sizeof *items); /* owned; borrowed */
  const cJSON *it;
  ib_time watermark = IB_TIME_NONE;
  ib_status st;
  *n_out = n;
  if (!full || !items) {
    free(full);
    free(items);
    return IB_ERR_NOMEM;
  }
  /* Indexed once: cJSON_GetArrayItem in a loop is quadratic. */
  cJSON_ArrayForEach(it, issues) items[k++] = it;
  st = fetch_changelogs(j, items, n, full);
  for (size_t i = 0; st == IB_OK && i < n; i++) {
    const cJSON *issue = items[i];
    ib_ticket t;
    ib_time updated = issue_updated(j, issue);
    if (updated != IB_TIME_NONE &&
        (watermark == IB_TIME_NONE || updated > watermark))
      watermark = updated;
    st = jira_normalize(&j->norm, &j->scratch, issue, full[i], &t);
    if (st == IB_OK) {
      st = j->host->emit_ticket(j->src, &t, t.key ? t.key : t.id);
      if (st == IB_ERR_REJECTED) st = IB_OK;
    } else if (st == IB_ERR_REJECTED) {
      reject_issue(j, issue, j->scratch.reason);
      st = IB_OK;
    } else if (st == IB_ERR_PARSE) {
      j->host->log(j->src, IB_LOG_ERROR, "%s, issue %zu: %s", what, i + 1,
                   j->scratch.reason);
    }
  }
  if (st == IB_OK)
    st = j->host->commit(j->src, move_wm ? watermark : IB_TIME_NONE);
  for (size_t i = 0; i < n; i++) cJSON_Delete(full[i]);
  free(full);
  free(items);
  j->done += n;
  return st;
}

/* ---- the searches ---------------------------------------------------------
 */

/* `(<jql>) AND updated >= <ms> ORDER BY updated ASC, key ASC`: epoch
 * milliseconds, because a date string is read in the Jira user's zone. */
static void build_jql(const jira *j, ib_time since, jbuf *out) {
  int have = j->jql && j->jql[0];
  if (have) jbuf_addf(out, "(%s)", j->jql);
  if (since != IB_TIME_NONE)
    jbuf_addf(out, "%supdated >= %lld", have ? " AND " : "",
              (long long)since * JIRA_MILLIS_PER_SECOND);
  jbuf_addf(out, "%sORDER BY updated ASC, key ASC",
            (have || since != IB_TIME_NONE) ? " " : "");
}

static ib_status page_issues(jira *j, const cJSON *root, const char *path,
                             const char *what, const cJSON **issues) {
  *issues = cJSON_GetObjectItemCaseSensitive(root, "issues");
  if (!cJSON_IsArray(*issues)) {
    j->host->log(j->src, IB_LOG_ERROR,
                 "GET %s (%s): the response has no \"issues\" array: check "
                 "url and api",
                 path, what);
    return IB_ERR_PARSE;
  }
  return IB_OK;
}

/* "first-key..last-key/n" of a page, to notice a server serving the same
 * page again. */
static void page_identity(const cJSON *issues, char *out, size_t len) {
  const cJSON *first = issues ? issues->child : NULL;
  const cJSON *last = first ? first->prev : NULL; /* cJSON: head->prev = tail */
  snprintf(out, len, "%.90s..%.90s/%d", first ? jira_issue_where(first) : "",
           last ? jira_issue_where(last) : "", cJSON_GetArraySize(issues));
}

static ib_status sync_cloud(jira *j, ib_time since) {
  static const char path[] = "/rest/api/3/search/jql";
  jbuf jql = {0};
  char *token = NULL; /* owned */
  cJSON *root = NULL;
  ib_status st = IB_OK;
  build_jql(j, since, &jql);
  if (jql.oom) {
    st = IB_ERR_NOMEM;
    goto fail;
  }
  char prev_id[JIRA_PAGE_ID_LEN] = "";
  for (long page = 1;; page++) {
    jbuf url = {0};
    const cJSON *issues, *next, *last;
    char what[32], id[JIRA_PAGE_ID_LEN];
    size_t n = 0;
    if (j->host->should_stop(j->src)) {
      st = IB_ERR_ABORTED;
      goto fail;
    }
    jbuf_addf(&url, "%s%s?jql=", j->base, path);
    jbuf_add_escaped(j, &url, jql.p);
    jbuf_addf(&url, "&fields=%s&expand=changelog&maxResults=%lld", j->fields,
              j->page_size);
    if (token) {
      jbuf_addf(&url, "&nextPageToken=");
      jbuf_add_escaped(j, &url, token);
    }
    if (url.oom) {
      free(url.p);
      st = IB_ERR_NOMEM;
      goto fail;
    }
    snprintf(what, sizeof what, "page %ld", page);
    st = http_get_json(j, url.p, what, &root);
    free(url.p);
    if (st == IB_OK) st = page_issues(j, root, path, what, &issues);
    if (st != IB_OK) goto fail;
    next = cJSON_GetObjectItemCaseSensitive(root, "nextPageToken");
    last = cJSON_GetObjectItemCaseSensitive(root, "isLast");
    /* A server that does not advance would keep the sync (and its lock)
     * forever: stop before processing the page again. */
    if (token && cJSON_IsString(next) && !cJSON_IsTrue(last) &&
        strcmp(next->valuestring, token) == 0) {
      j->host->log(j->src, IB_LOG_ERROR,
                   "GET %s (%s): nextPageToken did not advance (the server "
                   "returned the token it was given); stopping (the pages "
                   "before are kept)",
                   path, what);
      st = IB_ERR_PARSE;
      goto fail;
    }
    page_identity(issues, id, sizeof id);
    if (page > 1 && cJSON_GetArraySize(issues) > 0 &&
        strcmp(id, prev_id) == 0) {
      j->host->log(j->src, IB_LOG_ERROR,
                   "GET %s (%s): the server sent the previous page again "
                   "(same issues %s); paging did not advance, stopping (the "
                   "pages before are kept)",
                   path, what, id);
      st = IB_ERR_PARSE;
      goto fail;
    }
    snprintf(prev_id, sizeof prev_id, "%s", id);
    st = process_page(j, issues, what, 1, &n);
    if (st != IB_OK) goto fail;
    j->host->progress(j->src, j->done, 0);
    if (!cJSON_IsString(next) || cJSON_IsTrue(last) || n == 0) break;
    free(token);
    token = strdup(next->valuestring);
    cJSON_Delete(root);
    root = NULL;
    if (!token) {
      st = IB_ERR_NOMEM;
      goto fail;
    }
  }
fail:
  cJSON_Delete(root);
  free(token);
  free(jql.p);
  return st;
}

/* Data Center: offsets shift when an issue changes during the sync, so
 * every page is a new query from the largest `updated` seen; startAt only
 * steps over issues sharing that same second. */
static ib_status sync_datacenter(jira *j, ib_time since) {
  static const char path[] = "/rest/api/2/search";
  ib_time lower = since;
  long long skip = 0;
  uint64_t expected = 0;
  ib_status st = IB_OK;
  char prev_id[JIRA_PAGE_ID_LEN] = "";
  for (long page = 1;; page++) {
    jbuf jql = {0}, url = {0};
    cJSON *root = NULL;
    const cJSON *issues, *total, *start, *it;
    char what[32], id[JIRA_PAGE_ID_LEN], shown[48];
    size_t n = 0;
    long long total_n = 0, start_n = 0;
    ib_time before = lower;
    if (j->host->should_stop(j->src)) return IB_ERR_ABORTED;
    build_jql(j, lower, &jql);
    jbuf_addf(&url, "%s%s?jql=", j->base, path);
    jbuf_add_escaped(j, &url, jql.p ? jql.p : "");
    jbuf_addf(&url, "&startAt=%lld&maxResults=%lld&fields=%s&expand=changelog",
              skip, j->page_size, j->fields);
    free(jql.p);
    if (jql.oom || url.oom) {
      free(url.p);
      return IB_ERR_NOMEM;
    }
    snprintf(what, sizeof what, "page %ld", page);
    st = http_get_json(j, url.p, what, &root);
    free(url.p);
    if (st == IB_OK) st = page_issues(j, root, path, what, &issues);
    total = cJSON_GetObjectItemCaseSensitive(root, "total");
    start = cJSON_GetObjectItemCaseSensitive(root, "startAt");
    if (st == IB_OK && server_count(total, &total_n) != 1) {
      claim_text(total, shown, sizeof shown);
      j->host->log(j->src, IB_LOG_ERROR,
                   "GET %s (%s): total = %s is not a count from 0 to %.0f; "
                   "the server does not page like Jira Data Center, stopping "
                   "(the pages before are kept)",
                   path, what, shown, JIRA_MAX_COUNT);
      st = IB_ERR_PARSE;
    }
    if (st == IB_OK && start &&
        (server_count(start, &start_n) != 1 || start_n != skip)) {
      claim_text(start, shown, sizeof shown);
      j->host->log(j->src, IB_LOG_ERROR,
                   "GET %s (%s): asked startAt=%lld, the server answered "
                   "startAt=%s; paging did not advance, stopping (the pages "
                   "before are kept)",
                   path, what, skip, shown);
      st = IB_ERR_PARSE;
    }
    if (st == IB_OK) {
      page_identity(issues, id, sizeof id);
      /* skip > 0: same query as the last page, stepped by startAt */
      if (skip > 0 && cJSON_GetArraySize(issues) > 0 &&
          strcmp(id, prev_id) == 0) {
        j->host->log(j->src, IB_LOG_ERROR,
                     "GET %s (%s): the server sent the previous page again "
                     "(same issues %s, startAt=%lld); paging did not advance, "
                     "stopping (the pages before are kept)",
                     path, what, id, skip);
        st = IB_ERR_PARSE;
      }
      snprintf(prev_id, sizeof prev_id, "%s", id);
    }
    if (st == IB_OK) {
      /* The page's largest `updated` is the next query's lower bound. */
      cJSON_ArrayForEach(it, issues) {
        ib_time u = issue_updated(j, it);
        if (u != IB_TIME_NONE && (lower == IB_TIME_NONE || u > lower))
          lower = u;
      }
      st = process_page(j, issues, what, 1, &n);
    }
    if (st == IB_OK && page == 1) expected = (uint64_t)total_n;
    if (st == IB_OK)
      j->host->progress(j->src, j->done,
                        expected > j->done ? expected : j->done);
    int more = st == IB_OK && n > 0 && skip + (long long)n < total_n;
    cJSON_Delete(root);
    if (st != IB_OK || !more) return st;
    if (lower != before)
      skip = 0;
    else
      skip += (long long)n;
  }
}

/* ---- the plugin -----------------------------------------------------------
 */

static void jira_close(void *instance) {
  jira *j = instance;
  if (!j) return;
  catalog_free(j);
  jira_norm_free(&j->scratch);
  free(j->base);
  free(j->fields);
  free(j);
}

static int ends_with(const char *s, size_t len, const char *suffix) {
  size_t n = strlen(suffix);
  return len >= n && strncasecmp(s + len - n, suffix, n) == 0;
}

/* Cloud when the site is *.atlassian.net. */
static int looks_like_cloud(const char *url) {
  const char *host = strstr(url, "://");
  host = host ? host + 3 : url;
  size_t len = strcspn(host, ":/?#");
  return ends_with(host, len, JIRA_CLOUD_HOST_SUFFIX);
}

/* A configuration error: reported at the option's line when validating
 * (the host supports config_error), else logged. */
static ib_status option_error(jira *j, const char *option, const char *fmt, ...)
    IB_PRINTF(3, 4);
static ib_status option_error(jira *j, const char *option, const char *fmt,
                              ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const ib_host_services *h = j->host;
  if (j->validating &&
      h->struct_size >=
          offsetof(ib_host_services, config_error) + sizeof h->config_error)
    h->config_error(j->src, option, "%s", msg);
  else
    h->log(j->src, IB_LOG_ERROR, "%s: %s", option, msg);
  return IB_ERR_CONFIG;
}

static ib_status read_options(jira *j) {
  const ib_host_services *h = j->host;
  const char *url = h->get_string(j->src, "url");
  const char *api = h->get_string(j->src, "api");
  const char *fr = h->get_string(j->src, "first_response");
  const char *svc = h->get_string(j->src, "service_field");
  static const char sla_prefix[] = "sla:";
  static const char labels_prefix[] = "labels:";
  jbuf fields = {0};
  size_t n;

  if (!url || !url[0])
    return option_error(j, "url",
                        "is required: the Jira site, e.g. "
                        "https://acme.atlassian.net");
  n = strlen(url);
  while (n > 0 && url[n - 1] == '/') n--;
  j->base = strndup(url, n);
  if (!j->base) return IB_ERR_NOMEM;

  if (!api)
    j->cloud = looks_like_cloud(url);
  else if (strcasecmp(api, "cloud") == 0)
    j->cloud = 1;
  else if (strcasecmp(api, "datacenter") == 0)
    j->cloud = 0;
  else
    return option_error(j, "api", "\"%s\": use \"cloud\" or \"datacenter\"",
                        api);

  j->jql = h->get_string(j->src, "jql");
  if (j->cloud && (j->jql == NULL || j->jql[0] == '\0') && !j->validating)
    h->log(j->src, IB_LOG_WARN,
           "no jql: Jira Cloud refuses unbounded searches on a first or --full "
           "sync; set jql (e.g. \"project = SUP\")");
  j->page_size = (long long)h->get_int(j->src, "page_size", 100);
  if (j->page_size < 1 || j->page_size > JIRA_MAX_PAGE_SIZE)
    return option_error(j, "page_size",
                        "%lld: use 1 to %d (Jira caps it, usually at 100)",
                        j->page_size, JIRA_MAX_PAGE_SIZE);

  j->norm.host = h;
  j->norm.src = j->src;
  j->norm.pause_statuses =
      h->get_strings(j->src, "pause_statuses", &j->norm.n_pause_statuses);
  if (!fr || strcasecmp(fr, "transition") == 0) {
    j->norm.fr_mode = JIRA_FR_TRANSITION;
  } else if (strncasecmp(fr, sla_prefix, sizeof sla_prefix - 1) == 0 &&
             fr[sizeof sla_prefix - 1]) {
    j->norm.fr_mode = JIRA_FR_SLA;
    j->norm.fr_sla_field = fr + sizeof sla_prefix - 1;
  } else {
    return option_error(j, "first_response",
                        "\"%s\": use \"transition\" or "
                        "\"sla:<customfield id>\"",
                        fr);
  }
  if (!svc || strcasecmp(svc, "components") == 0) {
    j->norm.service_mode = JIRA_SERVICE_COMPONENTS;
  } else if (strncasecmp(svc, labels_prefix, sizeof labels_prefix - 1) == 0) {
    j->norm.service_mode = JIRA_SERVICE_LABELS;
    j->norm.service_arg = svc + sizeof labels_prefix - 1;
    if (!j->norm.service_arg[0])
      return option_error(j, "service_field",
                          "\"%s\": give the label prefix, e.g. "
                          "\"labels:svc-\"",
                          svc);
  } else {
    j->norm.service_mode = JIRA_SERVICE_FIELD;
    j->norm.service_arg = svc;
  }
  j->norm.sla_response_field =
      h->get_string(j->src, "sla_fields.first_response");
  j->norm.sla_resolution_field = h->get_string(j->src, "sla_fields.resolution");

  jbuf_addf(&fields, JIRA_BASE_FIELDS);
  if (j->norm.service_mode == JIRA_SERVICE_FIELD)
    jbuf_addf(&fields, ",%s", j->norm.service_arg);
  if (j->norm.fr_mode == JIRA_FR_SLA)
    jbuf_addf(&fields, ",%s", j->norm.fr_sla_field);
  if (j->norm.sla_response_field)
    jbuf_addf(&fields, ",%s", j->norm.sla_response_field);
  if (j->norm.sla_resolution_field)
    jbuf_addf(&fields, ",%s", j->norm.sla_resolution_field);
  if (fields.oom) {
    free(fields.p);
    return IB_ERR_NOMEM;
  }
  /* Field ids are [A-Za-z0-9_]; escaping keeps a typo from breaking the URL. */
  jbuf escaped = {0};
  jbuf_add_escaped(j, &escaped, fields.p);
  free(fields.p);
  if (escaped.oom) {
    free(escaped.p);
    return IB_ERR_NOMEM;
  }
  j->fields = escaped.p;
  return IB_OK;
}

static ib_status jira_open(const ib_host_services *host, ib_source *src,
                           void **instance) {
  jira *j = calloc(1, sizeof *j); /* owned by the host's instance: close() */
  ib_status st;
  *instance = NULL;
  if (!j) return IB_ERR_NOMEM;
  j->host = host;
  j->src = src;
  st = read_options(j);
  if (st != IB_OK) goto fail;
  *instance = j;
  return IB_OK;
fail:
  jira_close(j);
  return st;
}

static ib_status jira_validate(const ib_host_services *host, ib_source *src) {
  jira *j = calloc(1, sizeof *j); /* owned here */
  if (!j) return IB_ERR_NOMEM;
  j->host = host;
  j->src = src;
  j->validating = 1;
  ib_status st = read_options(j);
  jira_close(j);
  return st;
}

static ib_status jira_sync(void *instance) {
  jira *j = instance;
  ib_time since = j->host->sync_since(j->src);
  ib_status st;
  j->done = 0;
  st = load_catalog(j);
  if (st != IB_OK) return st;
  return j->cloud ? sync_cloud(j, since) : sync_datacenter(j, since);
}

/* Issues read again by id (rejected by an earlier sync): one GET
 * /rest/api/N/issue/{id} each, JIRA_FETCH_BATCH at a time; a 404 is an
 * issue the site no longer has (or no longer shows us). */
static ib_status jira_fetch(void *instance, const char *const *ids, size_t n) {
  jira *j = instance;
  ib_http_request reqs[JIRA_FETCH_BATCH];
  ib_http_response resps[JIRA_FETCH_BATCH];
  char *urls[JIRA_FETCH_BATCH];
  ib_status st = load_catalog(j);
  for (size_t lo = 0; st == IB_OK && lo < n; lo += JIRA_FETCH_BATCH) {
    size_t k = n - lo < JIRA_FETCH_BATCH ? n - lo : JIRA_FETCH_BATCH;
    cJSON *issues = cJSON_CreateArray(); /* owned */
    memset(urls, 0, sizeof urls);
    for (size_t i = 0; i < k; i++) {
      jbuf url = {0};
      jbuf_addf(&url, "%s/rest/api/%d/issue/", j->base, j->cloud ? 3 : 2);
      jbuf_add_escaped(j, &url, ids[lo + i]);
      jbuf_addf(&url, "?fields=%s&expand=changelog", j->fields);
      urls[i] = url.p;
      if (url.oom) st = IB_ERR_NOMEM;
      reqs[i] =
          (ib_http_request){sizeof reqs[i], "GET", urls[i], NULL, json_headers};
      resps[i] = (ib_http_response){.struct_size = sizeof resps[i]};
    }
    if (!issues) st = IB_ERR_NOMEM;
    if (st == IB_OK) st = j->host->http(j->src, reqs, k, resps);
    for (size_t i = 0; i < k; i++) {
      cJSON *issue = NULL;
      if (st == IB_OK && resps[i].status != 404 &&
          (st = response_json(j, urls[i], &resps[i], "an issue rejected before",
                              &issue)) == IB_OK)
        cJSON_AddItemToArray(issues, issue);
      j->host->http_free(&resps[i]);
      free(urls[i]);
    }
    size_t done = 0;
    if (st == IB_OK)
      st = process_page(j, issues, "issues read again", 0, &done);
    cJSON_Delete(issues);
  }
  return st;
}

/* api, first_response and service_field are read case-insensitively and
 * checked by validate(). */
static const ib_option_rule jira_rules[] = {
    {.name = "page_size",
     .flags = IB_RULE_MIN | IB_RULE_MAX,
     .min = 1,
     .max = JIRA_MAX_PAGE_SIZE},
    {.name = "priorities", .model = "priority"},
    {.name = "statuses", .model = "status"},
    {.name = "kinds", .model = "kind"},
    {0}};

static const ib_plugin jira_plugin = {
    .magic = IB_PLUGIN_MAGIC,
    .abi_version = IB_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(ib_plugin),
    .name = "jira",
    .version = JIRA_PLUGIN_VERSION,
    .description =
        "Jira Cloud / Data Center and Jira Service Management: "
        "issues and their changelog, recomputed into tickets",
    .flags = IB_PLUGIN_FLAG_HTTP,
    .options = jira_options,
    .open = jira_open,
    .sync = jira_sync,
    .close = jira_close,
    IB_OPTION_RULES(jira_rules),
    .validate = jira_validate,
    .fetch = jira_fetch,
};

IB_PLUGIN_DEFINE(jira_plugin)
