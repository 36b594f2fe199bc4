/*
 * mysource.c -- a template for an itsm-bridge source plugin that reads a
 * JSON REST API. Copy the folder, rename, and change what the API of your
 * tool needs; everything else (options, paging, watermark, rejections,
 * fetch by id) already works and is tested against the mock server in
 * mock/mysource_app.py.
 *
 * The API it reads (the mock's):
 *   GET {url}/api/tickets?updated_since=EPOCH&page=N
 *     -> {"tickets": [{"id", "key", "title", "priority", "status",
 *                      "created", "resolved", "updated"}], "next_page": N|null}
 *      oldest update first; times are ISO-8601.
 *   GET {url}/api/tickets/{id} -> one ticket, 404 when gone.
 *
 * All state lives in the instance returned by open(): several sources may
 * use the plugin at once.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <itsm_bridge/plugin.h>

#define MYSOURCE_MAX_PAGES 100000 /* a server that never ends is stopped */

static const ib_option_def options[] = {
    {.name = "url",
     .type = IB_OPT_STRING,
     .required = 1,
     .description = "Base URL of the API, e.g. https://tickets.example.com"},
    {.name = "priorities",
     .type = IB_OPT_PAIRS,
     .default_value = "( (\"critical\", \"P1\"), (\"high\", \"P2\"), "
                      "(\"normal\", \"P3\"), (\"low\", \"P4\") )",
     .description = "The tool's priority -> P1..P5"},
    {.name = "statuses",
     .type = IB_OPT_PAIRS,
     .default_value = "( (\"new\", \"new\"), (\"in_progress\", \"open\"), "
                      "(\"waiting\", \"pending\"), (\"done\", \"resolved\"), "
                      "(\"closed\", \"closed\") )",
     .description = "The tool's status -> new|open|pending|resolved|closed|"
                    "cancelled"},
    {0}};

/* The host checks these when the configuration is loaded (file:line). */
static const ib_option_rule rules[] = {
    {.name = "priorities", .model = "priority"},
    {.name = "statuses", .model = "status"},
    {0}};

typedef struct mysource {
  const ib_host_services *host;
  ib_source *src;
  const char *url; /* host-owned */
} mysource;

static const char *const json_headers[] = {"Accept: application/json", NULL};

/* Whether the host offers `field` of its services table (older hosts have
 * a shorter one). */
#define HOST_HAS(h, field) \
  ((h)->struct_size >= offsetof(ib_host_services, field) + sizeof((h)->field))

static const char *text(const cJSON *obj, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static ib_time instant(mysource *m, const cJSON *obj, const char *name) {
  const char *t = text(obj, name);
  ib_time out;
  if (t == NULL || m->host->parse_time(m->src, t, NULL, &out) != IB_OK)
    return IB_TIME_NONE;
  return out;
}

static void reject(mysource *m, const char *id, const char *where,
                   const char *why) {
  if (id && HOST_HAS(m->host, reject_record))
    m->host->reject_record(m->src, id, where, "%s", why);
  else
    m->host->reject(m->src, where, "%s", why);
}

/* Emits one ticket (or rejects it); returns its update time. */
static ib_status emit(mysource *m, const cJSON *t, ib_time *updated) {
  const char *id = text(t, "id");
  const char *key = text(t, "key");
  const char *where = key ? key : id ? id : "a ticket without id";
  ib_ticket tk = IB_TICKET_INIT;
  char why[160];
  *updated = instant(m, t, "updated");
  tk.id = id;
  tk.key = key;
  tk.title = text(t, "title");
  tk.kind = "incident";
  tk.priority_raw = text(t, "priority");
  tk.priority = m->host->map(m->src, "priorities", tk.priority_raw);
  tk.status_raw = text(t, "status");
  tk.status = m->host->map(m->src, "statuses", tk.status_raw);
  tk.created_at = instant(m, t, "created");
  tk.resolved_at = instant(m, t, "resolved");
  tk.updated_at = *updated;
  if (tk.priority == NULL) {
    snprintf(why, sizeof why, "priority \"%s\" has no mapping in priorities",
             tk.priority_raw ? tk.priority_raw : "");
    reject(m, id, where, why);
    return IB_OK;
  }
  ib_status st = m->host->emit_ticket(m->src, &tk, where);
  return st == IB_ERR_REJECTED ? IB_OK : st; /* rejections are counted */
}

/* GET url, parsed; NULL with a logged error otherwise. Owned by caller. */
static cJSON *get_json(mysource *m, const char *url, long *status) {
  ib_http_request req = {
      .struct_size = sizeof req, .url = url, .headers = json_headers};
  ib_http_response resp = {.struct_size = sizeof resp};
  cJSON *root = NULL;
  if (m->host->http(m->src, &req, 1, &resp) == IB_OK) {
    *status = resp.status;
    if (resp.status == 200)
      root = cJSON_ParseWithLength(resp.body ? resp.body : "", resp.body_len);
    if (resp.status == 200 && root == NULL)
      m->host->log(m->src, IB_LOG_ERROR, "GET %s: the answer is not JSON", url);
    else if (resp.status != 200 && resp.status != 404)
      m->host->log(m->src, IB_LOG_ERROR, "GET %s: HTTP %ld", url, resp.status);
  }
  m->host->http_free(&resp);
  return root;
}

static ib_status my_open(const ib_host_services *host, ib_source *src,
                         void **instance) {
  mysource *m = calloc(1, sizeof *m); /* owned by the host: my_close */
  if (m == NULL) return IB_ERR_NOMEM;
  m->host = host;
  m->src = src;
  m->url = host->get_string(src, "url");
  *instance = m;
  return IB_OK;
}

/* Pages oldest update first: each page is committed with its largest
 * update time as the watermark, so an interrupted sync resumes there. */
static ib_status my_sync(void *instance) {
  mysource *m = instance;
  ib_time since = m->host->sync_since(m->src);
  long page = 1, status = 0;
  char url[2048];
  uint64_t done = 0;
  for (int n = 0; n < MYSOURCE_MAX_PAGES; n++) {
    if (m->host->should_stop(m->src)) return IB_ERR_ABORTED;
    snprintf(url, sizeof url, "%s/api/tickets?updated_since=%lld&page=%ld",
             m->url, (long long)(since == IB_TIME_NONE ? 0 : since), page);
    cJSON *root = get_json(m, url, &status);
    if (root == NULL) return IB_ERR_HTTP;
    const cJSON *tickets = cJSON_GetObjectItemCaseSensitive(root, "tickets");
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(root, "next_page");
    ib_time watermark = IB_TIME_NONE;
    ib_status st = cJSON_IsArray(tickets) ? IB_OK : IB_ERR_PARSE;
    const cJSON *t;
    cJSON_ArrayForEach(t, tickets) {
      ib_time updated;
      if (st != IB_OK || (st = emit(m, t, &updated)) != IB_OK) break;
      if (updated != IB_TIME_NONE && updated > watermark) watermark = updated;
      done++;
    }
    int more = cJSON_IsNumber(next);
    double next_page = more ? next->valuedouble : 0;
    cJSON_Delete(root);
    if (st == IB_OK) st = m->host->commit(m->src, watermark);
    if (st != IB_OK) return st;
    m->host->progress(m->src, done, 0);
    if (!more) return IB_OK; /* the last page */
    if (!(next_page > (double)page && next_page < (double)MYSOURCE_MAX_PAGES)) {
      m->host->log(m->src, IB_LOG_ERROR,
                   "page %ld: next_page does not advance; stopping (the pages "
                   "before are kept)",
                   page);
      return IB_ERR_PARSE;
    }
    page = (long)next_page;
  }
  m->host->log(m->src, IB_LOG_ERROR, "more than %d pages: stopping",
               MYSOURCE_MAX_PAGES);
  return IB_ERR_PARSE;
}

/* Records rejected by an earlier sync, read again by id; the host commits
 * and forgets the ids not emitted (404: gone). */
static ib_status my_fetch(void *instance, const char *const *ids, size_t n) {
  mysource *m = instance;
  char url[2048];
  for (size_t i = 0; i < n; i++) {
    long status = 0;
    char *id = m->host->url_escape(m->src, ids[i]);
    if (id == NULL) return IB_ERR_NOMEM;
    snprintf(url, sizeof url, "%s/api/tickets/%s", m->url, id);
    m->host->free_string(id);
    cJSON *t = get_json(m, url, &status);
    if (t == NULL && status == 404) continue;
    if (t == NULL) return IB_ERR_HTTP;
    ib_time updated;
    ib_status st = emit(m, t, &updated);
    cJSON_Delete(t);
    if (st != IB_OK) return st;
  }
  return IB_OK;
}

static void my_close(void *instance) {
  free(instance);
}

static const ib_plugin descriptor = {
    .magic = IB_PLUGIN_MAGIC,
    .abi_version = IB_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(ib_plugin),
    .name = "mysource",
    .version = "0.1.0",
    .description = "template: tickets from a JSON REST API",
    .flags = IB_PLUGIN_FLAG_HTTP,
    .options = options,
    .open = my_open,
    .sync = my_sync,
    .close = my_close,
    IB_OPTION_RULES(rules),
    .fetch = my_fetch,
};

IB_PLUGIN_DEFINE(descriptor)
