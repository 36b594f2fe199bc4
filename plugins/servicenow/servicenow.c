/*
 * servicenow.c -- the ServiceNow source plugin: declared options, Table API
 * requests with keyset paging, batched concurrent sys_audit / task_sla
 * look-ups, outages, and emit + commit page by page. Record normalisation
 * lives in sn_record.c; this file must not interpret record fields itself
 * beyond the keyset (sys_updated_on, sys_id), and keeps no globals.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "itsm_bridge/plugin.h"
#include "json_repair.h"
#include "sn_record.h"

#define SN_DEFAULT_PAGE_SIZE "1000"
#define SN_DEFAULT_BATCH_SIZE "100"
#define SN_MAX_PAGE_SIZE 10000
/* Longest id list in one documentkeyIN/taskIN query: 32-character sys_ids
 * keep such a URL well under the 16 KB many proxies accept. */
#define SN_MAX_BATCH_SIZE 300
#define SN_FIELD_PREFIX "field:"

static const ib_option_def sn_options[] = {
    {"url", IB_OPT_STRING, 1, NULL,
     "Instance base URL, e.g. https://acme.service-now.com (plain http:// "
     "only for 127.0.0.1/localhost)",
     0, NULL},
    {"table", IB_OPT_STRING, 0, "incident",
     "Table read: incident, sc_req_item, problem, change_request (sets the "
     "default kind and state codes) or any task table",
     0, NULL},
    {"query", IB_OPT_STRING, 0, NULL,
     "Encoded query ANDed to the sync filter, e.g. "
     "\"assignment_group.name=Service Desk\" (no ^NQ, no ORDERBY)",
     0, NULL},
    {"page_size", IB_OPT_INT, 0, SN_DEFAULT_PAGE_SIZE,
     "Records per request (sysparm_limit), 1..10000", 0, NULL},
    {"batch_size", IB_OPT_INT, 0, SN_DEFAULT_BATCH_SIZE,
     "Tickets per sys_audit / task_sla request (documentkeyIN...), 1..300", 0,
     NULL},
    {"priorities", IB_OPT_PAIRS, 0, NULL,
     "Priority value or display value -> P1..P5; default \"1\"..\"5\" -> "
     "P1..P5. When set, only these pairs map; others are rejected",
     0, NULL},
    {"statuses", IB_OPT_PAIRS, 0, NULL,
     "State code (or display value) -> new|open|pending|resolved|closed|"
     "cancelled; default for incident: 1 new, 2 open, 3 pending (On Hold: "
     "a pause), 6 resolved, 7 closed, 8 cancelled",
     0, NULL},
    {"kinds", IB_OPT_PAIRS, 0, NULL,
     "sys_class_name -> incident|request|problem|change|other; default "
     "from the table",
     0, NULL},
    {"first_response", IB_OPT_STRING, 0, "audit",
     "\"audit\": the first sys_audit change of state away from New or of "
     "assigned_to from empty; or \"field:<name>\" (e.g. "
     "field:u_first_response)",
     0, NULL},
    {"service_field", IB_OPT_STRING, 0, "business_service",
     "Reference field whose display value is the ticket's service: "
     "business_service or cmdb_ci",
     0, NULL},
    {"outages", IB_OPT_BOOL, 0, "false",
     "Also read cmdb_ci_outage (begin, end, type Outage/Planned/Degradation; "
     "the CI's display value is the service)",
     0, NULL},
    {"services", IB_OPT_PAIRS, 0, NULL,
     "Optional service renaming, (\"CI or service display value\", "
     "\"service\"), applied to outages and tickets",
     0, NULL},
    {"task_sla", IB_OPT_BOOL, 0, "false",
     "Read the provider's own verdicts from task_sla (has_breached per "
     "response/resolution SLA) into reported_*_breached",
     0, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL}};

typedef struct sn_instance {
  const ib_host_services *host;
  ib_source *src;
  char *base_url;      /* owned: url without trailing '/' */
  const char *table;   /* host-owned */
  const char *query;   /* host-owned, may be NULL */
  char *fr_field;      /* owned: NULL = audit */
  char *ticket_fields; /* owned: sysparm_fields of the ticket table */
  long page_size;
  long batch_size;
  int outages;
  int task_sla;
  sn_ctx ctx;
} sn_instance;

/* A keyset cursor over one query. */
typedef struct sn_cursor {
  const char *table;
  char *filter; /* owned: encoded query without keyset, may be "" */
  const char *fields;
  const char *display; /* sysparm_display_value */
  int by_updated;      /* keyset (sys_updated_on, sys_id), else sys_id */
  int started;
  int done;
  char last_updated[40];
  char last_id[80];
} sn_cursor;

/* Growable list of parsed pages kept alive while rows borrow from them. */
typedef struct sn_roots {
  cJSON **items; /* owned, each owned */
  size_t n, cap;
} sn_roots;

static void roots_free(sn_roots *r) {
  for (size_t i = 0; i < r->n; i++) cJSON_Delete(r->items[i]);
  free(r->items);
  *r = (sn_roots){0};
}

static ib_status roots_add(sn_roots *r, cJSON *root) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    cJSON **items = realloc(r->items, cap * sizeof *items);
    if (items == NULL) return IB_ERR_NOMEM;
    r->items = items;
    r->cap = cap;
  }
  r->items[r->n++] = root;
  return IB_OK;
}

/* ---- small string builder ------------------------------------------------ */

typedef struct sn_buf {
  char *s; /* owned */
  size_t len, cap;
  int oom;
} sn_buf;

static void buf_add(sn_buf *b, const char *text) {
  size_t n = strlen(text);
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (s == NULL) {
      b->oom = 1;
      return;
    }
    b->s = s;
    b->cap = cap;
  }
  memcpy(b->s + b->len, text, n + 1);
  b->len += n;
}

/* Appends "^cond" (or "cond" when the buffer is empty). */
static void buf_and(sn_buf *b, const char *cond) {
  if (cond == NULL || cond[0] == '\0') return;
  if (b->len > 0) buf_add(b, "^");
  buf_add(b, cond);
}

static char *buf_take(sn_buf *b) {
  if (b->oom) {
    free(b->s);
    return NULL;
  }
  if (b->s == NULL) return strdup("");
  return b->s;
}

/* ---- options --------------------------------------------------------------
 */

static int is_identifier(const char *s) {
  if (s == NULL || s[0] == '\0') return 0;
  for (; *s; s++)
    if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.')) return 0;
  return 1;
}

static void sn_close(void *instance) {
  sn_instance *in = instance;
  if (in == NULL) return;
  free(in->base_url);
  free(in->fr_field);
  free(in->ticket_fields);
  free(in);
}

static int pairs_set(const ib_host_services *h, ib_source *src,
                     const char *name) {
  size_t n = 0;
  const ib_pair *p = h->get_pairs(src, name, &n);
  return p != NULL && n > 0;
}

/* A configuration error: at the option's line when validating (the host
 * supports config_error), else logged. */
static void option_error(const ib_host_services *host, ib_source *src,
                         int validating, const char *option, const char *fmt,
                         ...) IB_PRINTF(5, 6);
static void option_error(const ib_host_services *host, ib_source *src,
                         int validating, const char *option, const char *fmt,
                         ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (validating &&
      host->struct_size >=
          offsetof(ib_host_services, config_error) + sizeof host->config_error)
    host->config_error(src, option, "%s", msg);
  else
    host->log(src, IB_LOG_ERROR, "option %s: %s", option, msg);
}

/* Reads and checks the options; shared by validate() and open(). */
static ib_status sn_setup(const ib_host_services *host, ib_source *src,
                          int validating, void **instance) {
  sn_instance *in = calloc(1, sizeof *in); /* owned by the host via close() */
  const char *url = host->get_string(src, "url");
  const char *fr = host->get_string(src, "first_response");
  const char *svc = host->get_string(src, "service_field");
  sn_buf fields = {0};
  *instance = NULL;
  if (in == NULL) return IB_ERR_NOMEM;
  in->host = host;
  in->src = src;
  in->table = host->get_string(src, "table");
  if (in->table == NULL) in->table = "incident";
  in->query = host->get_string(src, "query");
  if (in->query != NULL && in->query[0] == '\0') in->query = NULL;
  in->page_size = (long)host->get_int(src, "page_size", 1000);
  in->batch_size = (long)host->get_int(src, "batch_size", 100);
  in->outages = host->get_bool(src, "outages", 0);
  in->task_sla = host->get_bool(src, "task_sla", 0);
  if (svc == NULL) svc = "business_service";

  if (url == NULL || url[0] == '\0') {
    option_error(host, src, validating, "url",
                 "is empty; set it to the instance address, e.g. "
                 "\"https://acme.service-now.com\"");
    goto config_fail;
  }
  if (!is_identifier(in->table) || strchr(in->table, '.') != NULL) {
    option_error(host, src, validating, "table",
                 "\"%s\" is not a table name (e.g. incident)", in->table);
    goto config_fail;
  }
  if (in->page_size < 1 || in->page_size > SN_MAX_PAGE_SIZE) {
    option_error(host, src, validating, "page_size", "%ld is out of 1..%d",
                 in->page_size, SN_MAX_PAGE_SIZE);
    goto config_fail;
  }
  if (in->batch_size < 1 || in->batch_size > SN_MAX_BATCH_SIZE) {
    option_error(host, src, validating, "batch_size", "%ld is out of 1..%d",
                 in->batch_size, SN_MAX_BATCH_SIZE);
    goto config_fail;
  }
  if (in->query != NULL &&
      (strstr(in->query, "^NQ") != NULL || strstr(in->query, "ORDERBY"))) {
    option_error(host, src, validating, "query",
                 "must not contain ^NQ or ORDERBY (the plugin adds its own "
                 "ordering); split it into several sources instead");
    goto config_fail;
  }
  if (fr == NULL || strcmp(fr, "audit") == 0) {
    in->fr_field = NULL;
  } else if (strncmp(fr, SN_FIELD_PREFIX, strlen(SN_FIELD_PREFIX)) == 0 &&
             is_identifier(fr + strlen(SN_FIELD_PREFIX))) {
    in->fr_field = strdup(fr + strlen(SN_FIELD_PREFIX));
    if (in->fr_field == NULL) goto nomem;
  } else {
    option_error(host, src, validating, "first_response",
                 "\"%s\" is neither \"audit\" nor \"field:<name>\"", fr);
    goto config_fail;
  }
  if (!is_identifier(svc)) {
    option_error(host, src, validating, "service_field",
                 "\"%s\" is not a field name (business_service or cmdb_ci)",
                 svc);
    goto config_fail;
  }

  in->base_url = strdup(url);
  if (in->base_url == NULL) goto nomem;
  for (size_t n = strlen(in->base_url); n > 0 && in->base_url[n - 1] == '/';)
    in->base_url[--n] = '\0';

  buf_add(&fields,
          "sys_id,number,short_description,state,priority,opened_at,"
          "resolved_at,closed_at,sys_updated_on,assignment_group,"
          "sys_class_name,");
  buf_add(&fields, svc);
  if (in->fr_field != NULL) {
    buf_add(&fields, ",");
    buf_add(&fields, in->fr_field);
  }
  in->ticket_fields = buf_take(&fields);
  if (in->ticket_fields == NULL) goto nomem;

  in->ctx = (sn_ctx){.host = host,
                     .src = src,
                     .table = in->table,
                     .fr_field = in->fr_field,
                     .service_field = svc,
                     .user_priorities = pairs_set(host, src, "priorities"),
                     .user_statuses = pairs_set(host, src, "statuses"),
                     .user_kinds = pairs_set(host, src, "kinds"),
                     .user_services = pairs_set(host, src, "services")};
  *instance = in;
  return IB_OK;

nomem:
  sn_close(in);
  return IB_ERR_NOMEM;
config_fail:
  sn_close(in);
  return IB_ERR_CONFIG;
}

static ib_status sn_open(const ib_host_services *host, ib_source *src,
                         void **instance) {
  return sn_setup(host, src, 0, instance);
}

static ib_status sn_validate(const ib_host_services *host, ib_source *src) {
  void *in = NULL;
  ib_status st = sn_setup(host, src, 1, &in);
  sn_close(in);
  return st;
}

/* ---- requests
 * ---------------------------------------------------------------- */

/* The encoded query for the cursor's next page. Owned by the caller. */
static char *cursor_query(const sn_cursor *c) {
  sn_buf q = {0};
  if (!c->started) {
    buf_and(&q, c->filter);
  } else if (c->by_updated) {
    /* After (U, I): same second with a larger sys_id, or a later second. */
    char cond[160];
    snprintf(cond, sizeof cond, "sys_updated_on=%s^sys_id>%s", c->last_updated,
             c->last_id);
    buf_and(&q, cond);
    buf_and(&q, c->filter);
    snprintf(cond, sizeof cond, "^NQsys_updated_on>%s", c->last_updated);
    buf_add(&q, cond);
    buf_and(&q, c->filter);
  } else {
    char cond[120];
    buf_and(&q, c->filter);
    snprintf(cond, sizeof cond, "sys_id>%s", c->last_id);
    buf_and(&q, cond);
  }
  buf_and(&q, c->by_updated ? "ORDERBYsys_updated_on^ORDERBYsys_id"
                            : "ORDERBYsys_id");
  return buf_take(&q);
}

static char *cursor_url(sn_instance *in, const sn_cursor *c) {
  char *query = cursor_query(c);     /* owned */
  char *q_esc = NULL, *f_esc = NULL; /* owned by the host */
  char *url = NULL;                  /* returned */
  if (query == NULL) goto done;
  q_esc = in->host->url_escape(in->src, query);
  f_esc = in->host->url_escape(in->src, c->fields);
  if (q_esc == NULL || f_esc == NULL) goto done;
  size_t len = strlen(in->base_url) + strlen(c->table) + strlen(q_esc) +
               strlen(f_esc) + 256;
  url = malloc(len);
  if (url == NULL) goto done;
  snprintf(url, len,
           "%s/api/now/table/%s?sysparm_query=%s&sysparm_fields=%s"
           "&sysparm_limit=%ld&sysparm_display_value=%s"
           "&sysparm_exclude_reference_link=true&sysparm_no_count=true",
           in->base_url, c->table, q_esc, f_esc, in->page_size, c->display);
done:
  free(query);
  if (q_esc) in->host->free_string(q_esc);
  if (f_esc) in->host->free_string(f_esc);
  return url;
}

/* Checks one response and parses its "result" array. *root is owned by the
 * caller on IB_OK. */
static ib_status parse_page(sn_instance *in, const char *table,
                            const ib_http_response *resp, cJSON **root,
                            cJSON **result) {
  *root = NULL;
  *result = NULL;
  if (resp->status == 401 || resp->status == 403) {
    in->host->log(in->src, IB_LOG_ERROR,
                  "table %s: HTTP %ld, credentials refused; check auth "
                  "(user_env/token_env) and the user's roles",
                  table, resp->status);
    return IB_ERR_AUTH;
  }
  if (resp->body) ib_json_repair_escapes(resp->body, resp->body_len);
  cJSON *doc =
      resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
  if (resp->status != 200) {
    const cJSON *err =
        doc ? cJSON_GetObjectItemCaseSensitive(doc, "error") : NULL;
    const cJSON *msg =
        err ? cJSON_GetObjectItemCaseSensitive(err, "message") : NULL;
    in->host->log(in->src, IB_LOG_ERROR,
                  "table %s: HTTP %ld%s%s; check the url, table and query "
                  "options",
                  table, resp->status, cJSON_IsString(msg) ? ": " : "",
                  cJSON_IsString(msg) ? msg->valuestring : "");
    cJSON_Delete(doc);
    return IB_ERR_HTTP;
  }
  if (doc == NULL) {
    in->host->log(in->src, IB_LOG_ERROR,
                  "table %s: the response is not valid JSON (%zu bytes); is "
                  "the url a ServiceNow instance?",
                  table, resp->body_len);
    return IB_ERR_PARSE;
  }
  cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "result");
  if (!cJSON_IsArray(arr)) {
    in->host->log(in->src, IB_LOG_ERROR,
                  "table %s: the response has no \"result\" array", table);
    cJSON_Delete(doc);
    return IB_ERR_PARSE;
  }
  *root = doc;
  *result = arr;
  return IB_OK;
}

/* Runs the next page of every cursor in `cs` that is not done, in one
 * concurrent host->http call. pages[i] / roots get the parsed result of
 * cursor i (NULL when it was not run). */
static ib_status run_cursors(sn_instance *in, sn_cursor *cs, size_t n,
                             cJSON **pages, sn_roots *roots) {
  ib_http_request *reqs = calloc(n ? n : 1, sizeof *reqs);    /* owned */
  ib_http_response *resps = calloc(n ? n : 1, sizeof *resps); /* owned */
  char **urls = calloc(n ? n : 1, sizeof *urls);              /* owned */
  size_t *which = calloc(n ? n : 1, sizeof *which);           /* owned */
  size_t m = 0;
  ib_status st = IB_OK;
  int sent = 0;
  if (!reqs || !resps || !urls || !which) {
    st = IB_ERR_NOMEM;
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    pages[i] = NULL;
    if (cs[i].done) continue;
    urls[m] = cursor_url(in, &cs[i]);
    if (urls[m] == NULL) {
      st = IB_ERR_NOMEM;
      goto done;
    }
    reqs[m] = (ib_http_request){
        .struct_size = sizeof reqs[m], .method = "GET", .url = urls[m]};
    resps[m].struct_size = sizeof resps[m];
    which[m++] = i;
  }
  if (m == 0) goto done;
  st = in->host->http(in->src, reqs, m, resps);
  sent = 1;
  if (st != IB_OK) goto done;
  for (size_t k = 0; k < m; k++) {
    cJSON *root = NULL, *arr = NULL;
    st = parse_page(in, cs[which[k]].table, &resps[k], &root, &arr);
    if (st != IB_OK) goto done;
    if ((st = roots_add(roots, root)) != IB_OK) {
      cJSON_Delete(root);
      goto done;
    }
    pages[which[k]] = arr;
  }
done:
  if (sent)
    for (size_t k = 0; k < m; k++) in->host->http_free(&resps[k]);
  for (size_t k = 0; k < m; k++) free(urls[k]);
  free(urls);
  free(reqs);
  free(resps);
  free(which);
  return st;
}

/* Moves the cursor past the last row of `page`; an empty page ends it. A
 * page whose last row is not after the previous keyset (the server ignored
 * the keyset filter and serves the same rows again) stops the stream: it
 * would otherwise run forever holding the sync lock. */
static ib_status cursor_advance(sn_instance *in, sn_cursor *c,
                                const cJSON *page) {
  if (page == NULL || page->child == NULL) {
    c->done = 1;
    return IB_OK;
  }
  const cJSON *last = page->child->prev; /* cJSON: head->prev is the tail */
  const char *id = sn_field_text(last, "sys_id", 0, NULL, 0);
  const char *upd = sn_field_text(last, "sys_updated_on", 0, NULL, 0);
  if (id == NULL || strlen(id) >= sizeof c->last_id ||
      (c->by_updated &&
       (upd == NULL || strlen(upd) >= sizeof c->last_updated))) {
    in->host->log(in->src, IB_LOG_ERROR,
                  "table %s: a row has no usable sys_id/sys_updated_on; "
                  "paging cannot continue (check read ACLs on those fields)",
                  c->table);
    return IB_ERR_PARSE;
  }
  if (c->started) {
    int cmp = c->by_updated ? strcmp(upd, c->last_updated) : 0;
    if (cmp == 0) cmp = strcmp(id, c->last_id);
    if (cmp <= 0) {
      in->host->log(in->src, IB_LOG_ERROR,
                    "table %s: the page asked after (%s%s%s) ends at (%s%s%s): "
                    "the keyset did not advance (the server ignored the "
                    "sysparm_query filter); stopping (the pages before are "
                    "kept)",
                    c->table, c->by_updated ? c->last_updated : "",
                    c->by_updated ? ", " : "", c->last_id,
                    c->by_updated ? upd : "", c->by_updated ? ", " : "", id);
      return IB_ERR_PARSE;
    }
  }
  snprintf(c->last_id, sizeof c->last_id, "%s", id);
  if (c->by_updated)
    snprintf(c->last_updated, sizeof c->last_updated, "%s", upd);
  c->started = 1;
  return IB_OK;
}

/* "sys_updated_on>=<since>" ANDed with the query option. Owned by caller. */
static char *since_filter(sn_instance *in, const char *query) {
  sn_buf f = {0};
  ib_time since = in->host->sync_since(in->src);
  if (since != IB_TIME_NONE) {
    /* Encoded queries take the same UTC "YYYY-MM-DD HH:MM:SS" text. */
    char cond[64];
    time_t tt = (time_t)since;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(cond, sizeof cond, "sys_updated_on>=%Y-%m-%d %H:%M:%S", &tm);
    buf_and(&f, cond);
  }
  buf_and(&f, query);
  return buf_take(&f);
}

/* ---- related rows: sys_audit and task_sla, batched ---------------------- */

typedef struct sn_related {
  sn_audit_row *audit; /* owned */
  size_t n_audit, cap_audit;
  sn_sla_row *slas; /* owned */
  size_t n_slas, cap_slas;
  sn_roots roots; /* the JSON the rows borrow from */
} sn_related;

static void related_free(sn_related *r) {
  free(r->audit);
  free(r->slas);
  roots_free(&r->roots);
  *r = (sn_related){0};
}

static ib_status related_add_page(sn_instance *in, sn_related *r, int is_sla,
                                  const cJSON *page) {
  char why[256];
  const cJSON *row;
  cJSON_ArrayForEach(row, page) {
    if (is_sla) {
      sn_sla_row s;
      if (sn_sla_from_json(&in->ctx, row, &s, why, sizeof why) != IB_OK) {
        in->host->log(in->src, IB_LOG_WARN, "task_sla: %s; row skipped", why);
        continue;
      }
      if (s.target == SN_TARGET_NONE) continue; /* OLA, UC: not ours */
      if (r->n_slas == r->cap_slas) {
        size_t cap = r->cap_slas ? r->cap_slas * 2 : 64;
        sn_sla_row *p = realloc(r->slas, cap * sizeof *p);
        if (p == NULL) return IB_ERR_NOMEM;
        r->slas = p;
        r->cap_slas = cap;
      }
      r->slas[r->n_slas++] = s;
    } else {
      sn_audit_row a;
      if (sn_audit_from_json(&in->ctx, row, r->n_audit, &a, why, sizeof why) !=
          IB_OK) {
        in->host->log(in->src, IB_LOG_WARN, "sys_audit: %s; row skipped", why);
        continue;
      }
      if (r->n_audit == r->cap_audit) {
        size_t cap = r->cap_audit ? r->cap_audit * 2 : 256;
        sn_audit_row *p = realloc(r->audit, cap * sizeof *p);
        if (p == NULL) return IB_ERR_NOMEM;
        r->audit = p;
        r->cap_audit = cap;
      }
      r->audit[r->n_audit++] = a;
    }
  }
  return IB_OK;
}

/* Fetches the audit (and task_sla) rows of `ids` in batches, all batches of
 * one round in one concurrent call, until every batch's cursor is empty. */
static ib_status fetch_related(sn_instance *in, const char *const *ids,
                               size_t n_ids, sn_related *r) {
  size_t n_batches =
      (n_ids + (size_t)in->batch_size - 1) / (size_t)in->batch_size;
  size_t per = in->task_sla ? 2 : 1;
  size_t n_cur = n_batches * per;
  sn_cursor *cs = calloc(n_cur ? n_cur : 1, sizeof *cs);    /* owned */
  cJSON **pages = calloc(n_cur ? n_cur : 1, sizeof *pages); /* borrowed rows */
  ib_status st = IB_OK;
  if (cs == NULL || pages == NULL) {
    st = IB_ERR_NOMEM;
    goto done;
  }
  for (size_t b = 0; b < n_batches; b++) {
    sn_buf list = {0};
    size_t lo = b * (size_t)in->batch_size;
    size_t hi = lo + (size_t)in->batch_size;
    if (hi > n_ids) hi = n_ids;
    for (size_t i = lo; i < hi; i++) {
      if (i > lo) buf_add(&list, ",");
      buf_add(&list, ids[i]);
    }
    char *ids_text = buf_take(&list); /* owned */
    if (ids_text == NULL) {
      st = IB_ERR_NOMEM;
      goto done;
    }
    for (size_t k = 0; k < per; k++) {
      sn_cursor *c = &cs[b * per + k];
      sn_buf f = {0};
      if (k == 0) {
        buf_add(&f, "documentkeyIN");
        buf_add(&f, ids_text);
        buf_add(&f, "^tablename=");
        buf_add(&f, in->table);
        buf_add(&f, "^fieldnameINstate,assigned_to");
        c->table = "sys_audit";
        c->fields =
            "sys_id,documentkey,fieldname,oldvalue,newvalue,"
            "sys_created_on";
        c->display = "false";
      } else {
        buf_add(&f, "taskIN");
        buf_add(&f, ids_text);
        c->table = "task_sla";
        c->fields = "sys_id,task,has_breached,sla.target,start_time,stage";
        c->display = "all";
      }
      c->filter = buf_take(&f);
      if (c->filter == NULL) {
        free(ids_text);
        st = IB_ERR_NOMEM;
        goto done;
      }
    }
    free(ids_text);
  }
  for (;;) {
    int active = 0;
    for (size_t i = 0; i < n_cur; i++) active |= !cs[i].done;
    if (!active) break;
    if (in->host->should_stop(in->src)) {
      st = IB_ERR_ABORTED;
      goto done;
    }
    if ((st = run_cursors(in, cs, n_cur, pages, &r->roots)) != IB_OK) goto done;
    for (size_t i = 0; i < n_cur; i++) {
      if (pages[i] == NULL) continue;
      int is_sla = strcmp(cs[i].table, "task_sla") == 0;
      if ((st = related_add_page(in, r, is_sla, pages[i])) != IB_OK ||
          (st = cursor_advance(in, &cs[i], pages[i])) != IB_OK)
        goto done;
    }
  }
  sn_audit_sort(r->audit, r->n_audit);
  sn_sla_sort(r->slas, r->n_slas);
done:
  if (cs)
    for (size_t i = 0; i < n_cur; i++) free(cs[i].filter);
  free(cs);
  free(pages);
  return st;
}

/* ---- streams
 * ----------------------------------------------------------------- */

/* Largest sys_updated_on of a page (IB_TIME_NONE when none is readable). */
static ib_time page_max_updated(sn_instance *in, const cJSON *page) {
  ib_time max = IB_TIME_NONE;
  const cJSON *row;
  cJSON_ArrayForEach(row, page) {
    ib_time t;
    if (sn_field_time(&in->ctx, row, "sys_updated_on", &t) == IB_OK &&
        t != IB_TIME_NONE && (max == IB_TIME_NONE || t > max))
      max = t;
  }
  return max;
}

/* With its sys_id, the host lists the record as rejected and asks for it
 * again (fetch) at the next sync. */
static void reject(sn_instance *in, const char *id, const char *where,
                   const char *why) {
  const ib_host_services *h = in->host;
  if (id != NULL &&
      h->struct_size >=
          offsetof(ib_host_services, reject_record) + sizeof h->reject_record)
    h->reject_record(in->src, id, where, "%s", why);
  else
    h->reject(in->src, where, "%s", why);
}

static ib_status emit_ticket_page(sn_instance *in, const cJSON *page,
                                  uint64_t *done) {
  int n = cJSON_GetArraySize(page);
  const char **ids = calloc(n ? (size_t)n : 1, sizeof *ids); /* borrowed */
  sn_related rel = {0};
  size_t n_ids = 0;
  ib_status st = IB_OK;
  char why[512];
  if (ids == NULL) return IB_ERR_NOMEM;
  const cJSON *row;
  cJSON_ArrayForEach(row, page) {
    const char *id = sn_field_text(row, "sys_id", 0, NULL, 0);
    if (id != NULL) ids[n_ids++] = id;
  }
  if ((st = fetch_related(in, ids, n_ids, &rel)) != IB_OK) goto done;
  cJSON_ArrayForEach(row, page) {
    sn_ticket_out out;
    const char *id = sn_field_text(row, "sys_id", 0, NULL, 0);
    size_t a0 = 0, na = 0, s0 = 0, ns = 0;
    if (id != NULL) {
      na = sn_audit_range(rel.audit, rel.n_audit, id, &a0);
      ns = sn_sla_range(rel.slas, rel.n_slas, id, &s0);
    }
    /* No pointer arithmetic on an empty (NULL) list: NULL + 0 is UB. */
    st = sn_normalize_ticket(&in->ctx, row, na ? rel.audit + a0 : NULL, na,
                             ns ? rel.slas + s0 : NULL, ns, &out, why,
                             sizeof why);
    if (st == IB_ERR_REJECTED) {
      reject(in, id, out.where, why);
      st = IB_OK;
      continue;
    }
    if (st != IB_OK) goto done;
    st = in->host->emit_ticket(in->src, &out.t, out.where);
    sn_ticket_out_free(&out);
    if (st == IB_ERR_REJECTED) st = IB_OK;
    if (st != IB_OK) goto done;
    (*done)++;
  }
done:
  related_free(&rel);
  free(ids);
  return st;
}

static ib_status emit_outage_page(sn_instance *in, const cJSON *page,
                                  uint64_t *done) {
  char why[512];
  const cJSON *row;
  cJSON_ArrayForEach(row, page) {
    sn_outage_out out;
    ib_status st = sn_normalize_outage(&in->ctx, row, &out, why, sizeof why);
    if (st == IB_ERR_REJECTED) {
      reject(in, sn_field_text(row, "sys_id", 0, NULL, 0), out.where, why);
      continue;
    }
    if (st != IB_OK) return st;
    st = in->host->emit_outage(in->src, &out.o, out.where);
    if (st != IB_OK && st != IB_ERR_REJECTED) return st;
    (*done)++;
  }
  return IB_OK;
}

/* Reads one table page by page; tickets advance the watermark, outages
 * keep it (they are read first, and re-read harmlessly after a crash).
 * `only`: an encoded query that replaces the sync filter (fetch by ids),
 * then the watermark stays where it is. */
static ib_status sync_stream(sn_instance *in, int outages, const char *only,
                             uint64_t *done) {
  sn_cursor c = {.table = outages ? "cmdb_ci_outage" : in->table,
                 .fields = outages ? "sys_id,number,cmdb_ci,begin,end,type,"
                                     "sys_updated_on"
                                   : in->ticket_fields,
                 .display = "all",
                 .by_updated = 1};
  cJSON *page = NULL;
  sn_roots roots = {0};
  ib_status st = IB_OK;
  c.filter = only ? strdup(only) : since_filter(in, outages ? NULL : in->query);
  if (c.filter == NULL) return IB_ERR_NOMEM;
  while (!c.done) {
    if (in->host->should_stop(in->src)) {
      st = IB_ERR_ABORTED;
      goto done;
    }
    if ((st = run_cursors(in, &c, 1, &page, &roots)) != IB_OK) goto done;
    if (page != NULL && page->child != NULL) {
      st = outages ? emit_outage_page(in, page, done)
                   : emit_ticket_page(in, page, done);
      if (st != IB_OK) goto done;
      st = in->host->commit(
          in->src, outages || only ? IB_TIME_NONE : page_max_updated(in, page));
      if (st != IB_OK) goto done;
      in->host->progress(in->src, *done, 0);
    }
    /* A short page is not the end (row ACLs drop rows after the limit):
     * only an empty one is. */
    if ((st = cursor_advance(in, &c, page)) != IB_OK) goto done;
    roots_free(&roots);
  }
done:
  roots_free(&roots);
  free(c.filter);
  return st;
}

static ib_status sn_sync(void *instance) {
  sn_instance *in = instance;
  uint64_t done = 0;
  ib_status st;
  if (in->outages && (st = sync_stream(in, 1, NULL, &done)) != IB_OK) return st;
  return sync_stream(in, 0, NULL, &done);
}

/* Re-reads records rejected earlier: sys_idIN<batch> on the ticket table
 * (and on cmdb_ci_outage when outages are read: both share the list). */
static ib_status sn_fetch(void *instance, const char *const *ids, size_t n) {
  sn_instance *in = instance;
  uint64_t done = 0;
  ib_status st = IB_OK;
  for (size_t lo = 0; lo < n && st == IB_OK; lo += (size_t)in->batch_size) {
    size_t hi =
        lo + (size_t)in->batch_size < n ? lo + (size_t)in->batch_size : n;
    sn_buf f = {0};
    buf_add(&f, "sys_idIN");
    for (size_t i = lo; i < hi; i++) {
      if (i > lo) buf_add(&f, ",");
      buf_add(&f, ids[i]);
    }
    char *filter = buf_take(&f); /* owned */
    if (filter == NULL) return IB_ERR_NOMEM;
    if (in->outages) st = sync_stream(in, 1, filter, &done);
    if (st == IB_OK) st = sync_stream(in, 0, filter, &done);
    free(filter);
  }
  return st;
}

static const ib_option_rule sn_rules[] = {
    {.name = "page_size",
     .flags = IB_RULE_MIN | IB_RULE_MAX,
     .min = 1,
     .max = SN_MAX_PAGE_SIZE},
    {.name = "batch_size",
     .flags = IB_RULE_MIN | IB_RULE_MAX,
     .min = 1,
     .max = SN_MAX_BATCH_SIZE},
    {.name = "priorities", .model = "priority"},
    {.name = "statuses", .model = "status"},
    {.name = "kinds", .model = "kind"},
    {0}};

static const ib_plugin sn_plugin = {
    .magic = IB_PLUGIN_MAGIC,
    .abi_version = IB_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(ib_plugin),
    .name = "servicenow",
    .version = "0.1.0",
    .description =
        "ServiceNow Table API: incidents (or another task table) "
        "with sys_audit pauses and first response, "
        "cmdb_ci_outage outages and task_sla verdicts",
    .flags = IB_PLUGIN_FLAG_HTTP,
    .options = sn_options,
    .open = sn_open,
    .sync = sn_sync,
    .close = sn_close,
    IB_OPTION_RULES(sn_rules),
    .validate = sn_validate,
    .fetch = sn_fetch,
};

IB_PLUGIN_DEFINE(sn_plugin)
