/*
 * glpi.c -- the GLPI source plugin (legacy REST API, apirest.php): declared
 * options, the session (initSession with the App-Token and user_token,
 * Session-Token on every call, killSession at the end), paging on
 * range=a-b newest first (sort=date_mod DESC) down to the watermark, the
 * tickets' Logs fetched concurrently for pauses, and emit + commit page by
 * page; fetch() reads tickets rejected by an earlier sync again by id
 * (GET Ticket/:id, the list's expansions). Field normalisation lives in
 * glpi_ticket.c; this file must not interpret ticket fields beyond id and
 * date_mod, and keeps no globals.
 *
 * Why newest first: with offsets, a ticket modified during the read moves
 * to the top, so the rows not yet read shift towards later offsets and are
 * never skipped (at worst one is read twice). The watermark therefore only
 * moves once the last page is read.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "glpi_ticket.h"
#include "itsm_bridge/plugin.h"

#define GLPI_DEFAULT_PAGE_SIZE "100"
/* GLPI's api default max range (Accept-Range) is 990 rows. */
#define GLPI_MAX_PAGE_SIZE 990
#define GLPI_LOG_PAGE 500 /* Log rows asked per request */
#define GLPI_LOG_BATCH 32 /* Log requests per host->http call */
/* A ticket's Log is read up to this many rows (memory bound against a
 * server that keeps answering 206). */
#define GLPI_MAX_LOG_ROWS 100000
#define GLPI_URL_SUFFIX "/apirest.php"
#define GLPI_HEADER_LEN 512

static const ib_option_def glpi_options[] = {
    {"url", IB_OPT_STRING, 1, NULL,
     "The API entry point, ending in /apirest.php, e.g. "
     "https://glpi.example.org/apirest.php (plain http:// only for "
     "127.0.0.1/localhost). Dates are read in the source's timezone: set "
     "timezone to the GLPI server's zone",
     0, NULL},
    {"user_token_env", IB_OPT_STRING, 1, NULL,
     "Environment variable holding the API user's token (My settings > "
     "Remote access keys > API token)",
     1, NULL},
    {"app_token_env", IB_OPT_STRING, 0, NULL,
     "Environment variable holding the API client's App-Token (Setup > "
     "General > API), when the API client requires one",
     1, NULL},
    {"page_size", IB_OPT_INT, 0, GLPI_DEFAULT_PAGE_SIZE,
     "Tickets per request (range=a-b), 1..990", 0, NULL},
    {"entities", IB_OPT_STRINGS, 0, NULL,
     "Keep only tickets of these entities and their sub-entities, by "
     "complete name, e.g. [ \"Root entity > Paris\" ] (default: all the "
     "user's entities)",
     0, NULL},
    {"service_field", IB_OPT_STRING, 0, "itilcategories_id",
     "Dropdown whose complete name is the ticket's service: "
     "itilcategories_id, locations_id or none",
     0, NULL},
    {"services", IB_OPT_PAIRS, 0, NULL,
     "Optional service renaming, (\"category or location complete name\", "
     "\"service\")",
     0, NULL},
    {"pauses", IB_OPT_STRING, 0, "none",
     "\"log\": waiting periods (pending statuses, 4 by default) from the "
     "status changes of each ticket's Log (one request per changed ticket); "
     "\"none\": no pauses",
     0, NULL},
    {"priorities", IB_OPT_PAIRS, 0, NULL,
     "Priority code -> P1..P5; default 6 (Majeure) and 5 (Très haute) P1, "
     "4 P2, 3 P3, 2 P4, 1 P5. When set, only these pairs map",
     0, NULL},
    {"statuses", IB_OPT_PAIRS, 0, NULL,
     "Status code -> new|open|pending|resolved|closed|cancelled; default 1 "
     "new, 2 and 3 open, 4 pending, 5 resolved, 6 closed",
     0, NULL},
    {"kinds", IB_OPT_PAIRS, 0, NULL,
     "Type code -> incident|request|...; default 1 incident, 2 request", 0,
     NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL}};

typedef struct glpi {
  const ib_host_services *host;
  ib_source *src;
  char *base;                  /* owned: url without trailing '/' */
  const char *app_token;       /* host-owned secret, may be NULL */
  const char *user_token;      /* host-owned secret */
  const char *const *entities; /* host-owned, may be NULL */
  size_t n_entities;
  long page_size;
  int log_pauses;
  int has_session; /* initSession succeeded: killSession at the end */
  char hint[256];  /* the variables to check when GLPI refuses a login */
  glpi_ctx ctx;
} glpi;

/* ---- options ------------------------------------------------------------ */

static void glpi_close(void *instance) {
  glpi *g = instance;
  if (g == NULL) return;
  free(g->base);
  free(g);
}

static int pairs_set(const ib_host_services *h, ib_source *src,
                     const char *name) {
  size_t n = 0;
  return h->get_pairs(src, name, &n) != NULL && n > 0;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static ib_status glpi_open(const ib_host_services *host, ib_source *src,
                           void **instance) {
  glpi *g = calloc(1, sizeof *g); /* owned by the host via close() */
  *instance = NULL;
  if (g == NULL) return IB_ERR_NOMEM;
  g->host = host;
  g->src = src;
  if (host->struct_size <
      offsetof(ib_host_services, set_auth_hint) + sizeof host->set_auth_hint) {
    host->log(src, IB_LOG_ERROR,
              "this itsm-bridge is too old for the glpi plugin (no session "
              "services); install a matching version");
    goto config_fail;
  }
  const char *url = host->get_string(src, "url");
  const char *svc = host->get_string(src, "service_field");
  const char *pauses = host->get_string(src, "pauses");
  g->page_size = (long)host->get_int(src, "page_size", 100);
  g->entities = host->get_strings(src, "entities", &g->n_entities);

  if (url == NULL || !ends_with(url, GLPI_URL_SUFFIX)) {
    host->log(src, IB_LOG_ERROR,
              "option url = \"%s\" must be GLPI's API entry point, ending in "
              "%s, e.g. \"https://glpi.example.org/apirest.php\"",
              url ? url : "", GLPI_URL_SUFFIX);
    goto config_fail;
  }
  if (g->page_size < 1 || g->page_size > GLPI_MAX_PAGE_SIZE) {
    host->log(src, IB_LOG_ERROR, "option page_size = %ld is out of 1..%d",
              g->page_size, GLPI_MAX_PAGE_SIZE);
    goto config_fail;
  }
  if (svc == NULL || strcmp(svc, "none") == 0) {
    svc = NULL;
  } else if (strcmp(svc, "itilcategories_id") && strcmp(svc, "locations_id")) {
    host->log(src, IB_LOG_ERROR,
              "option service_field = \"%s\" is not itilcategories_id, "
              "locations_id or none",
              svc);
    goto config_fail;
  }
  if (pauses == NULL || strcmp(pauses, "none") == 0) {
    g->log_pauses = 0;
  } else if (strcmp(pauses, "log") == 0) {
    g->log_pauses = 1;
  } else {
    host->log(src, IB_LOG_ERROR, "option pauses = \"%s\" is not log or none",
              pauses);
    goto config_fail;
  }

  /* Secrets: read through the host, which scrubs them from every trace. */
  g->user_token = host->get_secret(src, "user_token_env");
  if (host->get_string(src, "app_token_env")) {
    g->app_token = host->get_secret(src, "app_token_env");
    if (g->app_token == NULL) goto config_fail; /* message logged */
  }
  if (g->user_token == NULL) goto config_fail; /* message logged */
  const char *app_var = host->get_string(src, "app_token_env");
  snprintf(g->hint, sizeof g->hint, "$%s (user_token_env)%s%s%s",
           host->get_string(src, "user_token_env"), app_var ? " and $" : "",
           app_var ? app_var : "", app_var ? " (app_token_env)" : "");
  host->set_auth_hint(src, g->hint);

  if ((g->base = strdup(url)) == NULL) {
    glpi_close(g);
    return IB_ERR_NOMEM;
  }
  g->ctx = (glpi_ctx){.host = host,
                      .src = src,
                      .service_field = svc,
                      .user_priorities = pairs_set(host, src, "priorities"),
                      .user_statuses = pairs_set(host, src, "statuses"),
                      .user_kinds = pairs_set(host, src, "kinds"),
                      .user_services = pairs_set(host, src, "services"),
                      .now = (ib_time)time(NULL)};
  *instance = g;
  return IB_OK;

config_fail:
  glpi_close(g);
  return IB_ERR_CONFIG;
}

/* ---- GLPI answers ------------------------------------------------------- */

/* GLPI's error code: errors are ["ERROR_...", "message"]. Borrowed. */
static const char *error_code(const cJSON *doc, const char **message) {
  const cJSON *code = cJSON_GetArrayItem(doc, 0);
  const cJSON *msg = cJSON_GetArrayItem(doc, 1);
  if (message) *message = cJSON_IsString(msg) ? msg->valuestring : "";
  return cJSON_IsArray(doc) && cJSON_IsString(code) ? code->valuestring : NULL;
}

/* Logs a non-2xx answer with GLPI's own error, and what to do. */
static ib_status answer_error(glpi *g, const char *what,
                              const ib_http_response *r) {
  cJSON *doc = r->body ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
  const char *msg = "";
  const char *code = error_code(doc, &msg);
  char todo_buf[384];
  const char *todo = "check the url option and the GLPI server's logs";
  ib_status st = IB_ERR_HTTP;
  if (code && (strstr(code, "APP_TOKEN") || strstr(code, "LOGIN") ||
               strstr(code, "NOT_ALLOWED_IP"))) {
    snprintf(todo_buf, sizeof todo_buf,
             "check %s, and that GLPI's API client allows this host", g->hint);
    todo = todo_buf;
    st = IB_ERR_AUTH;
  } else if (code && strcmp(code, "ERROR_RIGHT_MISSING") == 0) {
    todo = "give the API user's profile read access to tickets";
    st = IB_ERR_AUTH;
  }
  g->host->log(g->src, IB_LOG_ERROR, "%s: HTTP %ld%s%s%s%s; %s", what,
               r->status, code ? " " : "", code ? code : "", *msg ? ": " : "",
               msg, todo);
  cJSON_Delete(doc);
  return st;
}

/* ---- the session ------------------------------------------------------- */

/* Clears a buffer that held a secret; volatile so it is not optimised out. */
static void wipe_buf(void *buf, size_t len) {
  volatile unsigned char *p = buf;
  while (len--) *p++ = 0;
}

static ib_status glpi_authenticate(void *instance) {
  glpi *g = instance;
  char url[1024], auth[GLPI_HEADER_LEN], app[GLPI_HEADER_LEN];
  const char *headers[3] = {auth, NULL, NULL};
  snprintf(url, sizeof url, "%s/initSession", g->base);
  snprintf(auth, sizeof auth, "Authorization: user_token %s", g->user_token);
  if (g->app_token) {
    snprintf(app, sizeof app, "App-Token: %s", g->app_token);
    headers[1] = app;
  }
  ib_http_request req = {
      .struct_size = sizeof req, .url = url, .headers = headers};
  ib_http_response resp = {.struct_size = sizeof resp};
  cJSON *doc = NULL;
  ib_status st = g->host->http(g->src, &req, 1, &resp);
  if (st != IB_OK) goto done;
  if (resp.status != 200) {
    st = answer_error(g, "initSession", &resp);
    goto done;
  }
  doc = cJSON_ParseWithLength(resp.body, resp.body_len);
  const cJSON *tok = cJSON_GetObjectItemCaseSensitive(doc, "session_token");
  if (!cJSON_IsString(tok) || tok->valuestring[0] == '\0' ||
      strlen(tok->valuestring) > GLPI_HEADER_LEN - 32 ||
      strpbrk(tok->valuestring, "\r\n")) {
    g->host->log(g->src, IB_LOG_ERROR,
                 "initSession: the answer has no usable session_token; is "
                 "the url GLPI's apirest.php?");
    st = IB_ERR_PARSE;
    goto done;
  }
  char session[GLPI_HEADER_LEN];
  snprintf(session, sizeof session, "Session-Token: %s", tok->valuestring);
  const char *carry[3] = {session, g->app_token ? app : NULL, NULL};
  st = g->host->http_set_session_headers(g->src, carry);
  wipe_buf(session, sizeof session);
  if (st == IB_OK) g->has_session = 1;
done:
  wipe_buf(auth, sizeof auth);
  if (g->app_token) wipe_buf(app, sizeof app);
  cJSON_Delete(doc);
  g->host->http_free(&resp);
  return st;
}

/* Ends the session; best effort (it expires on its own anyway). */
static void kill_session(glpi *g) {
  if (!g->has_session) return;
  char url[1024];
  snprintf(url, sizeof url, "%s/killSession", g->base);
  ib_http_request req = {.struct_size = sizeof req, .url = url};
  ib_http_response resp = {.struct_size = sizeof resp};
  if (g->host->http(g->src, &req, 1, &resp) == IB_OK && resp.status != 200)
    g->host->log(g->src, IB_LOG_DEBUG, "killSession: HTTP %ld", resp.status);
  g->host->http_free(&resp);
  g->host->http_set_session_headers(g->src, NULL);
  g->has_session = 0;
}

/* ---- Logs, for pauses -------------------------------------------------- */

/* A 400 answer that only says the range starts past the last row. */
static int past_end(const ib_http_response *r) {
  cJSON *doc = r->body ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
  const char *code = error_code(doc, NULL);
  int yes = code && strcmp(code, "ERROR_RANGE_EXCEED_TOTAL") == 0;
  cJSON_Delete(doc);
  return yes;
}

typedef struct ticket_log {
  cJSON *doc; /* owned: the Log rows (array), NULL when not read */
  glpi_status_change *changes; /* owned */
  size_t n_changes;
} ticket_log;

/* "a-b/total" -> total; -1 when absent or unreadable. */
static long long range_total(const glpi *g, const ib_http_response *r) {
  const char *cr = g->host->http_header(r, "Content-Range");
  const char *slash = cr ? strchr(cr, '/') : NULL;
  if (slash == NULL) return -1;
  char *end;
  long long total = strtoll(slash + 1, &end, 10);
  return end != slash + 1 && total >= 0 ? total : -1;
}

/* Appends the rows of array `more` to array *into (taking them). */
static void take_rows(cJSON *into, cJSON *more) {
  cJSON *row;
  while ((row = cJSON_DetachItemFromArray(more, 0)) != NULL)
    cJSON_AddItemToArray(into, row);
}

/* Fetches the Logs of ids[0..n) in concurrent batches; a Log longer than a
 * request is read on in further ranges. */
static ib_status fetch_logs(glpi *g, const char *const *ids, size_t n,
                            ticket_log *logs) {
  ib_http_request reqs[GLPI_LOG_BATCH];
  ib_http_response resps[GLPI_LOG_BATCH];
  char urls[GLPI_LOG_BATCH][256];
  size_t which[GLPI_LOG_BATCH];
  long long offset[GLPI_LOG_BATCH];
  size_t next = 0, m;
  ib_status st = IB_OK;
  /* pending work: tickets with an offset still to read */
  long long *todo = calloc(n ? n : 1, sizeof *todo); /* owned */
  if (todo == NULL) return IB_ERR_NOMEM;
  for (;;) {
    m = 0;
    for (size_t i = next; i < n && m < GLPI_LOG_BATCH; i++) {
      if (todo[i] < 0) continue;
      if (g->host->should_stop(g->src)) {
        st = IB_ERR_ABORTED;
        goto done;
      }
      snprintf(urls[m], sizeof urls[m],
               "%s/Ticket/%s/Log?range=%lld-%lld&get_hateoas=false", g->base,
               ids[i], todo[i], todo[i] + GLPI_LOG_PAGE - 1);
      reqs[m] =
          (ib_http_request){.struct_size = sizeof reqs[m], .url = urls[m]};
      resps[m] = (ib_http_response){.struct_size = sizeof resps[m]};
      which[m] = i;
      offset[m] = todo[i];
      m++;
    }
    if (m == 0) {
      if (next >= n) break;
      next = n;
      continue;
    }
    st = g->host->http(g->src, reqs, m, resps);
    for (size_t k = 0; st == IB_OK && k < m; k++) {
      size_t i = which[k];
      long status = resps[k].status;
      todo[i] = -1;
      cJSON *doc = NULL;
      if (status == 404 || (status == 400 && past_end(&resps[k]))) {
        /* the ticket was purged meanwhile, or no (more) Log rows: GLPI
         * answers ERROR_RANGE_EXCEED_TOTAL past the end */
        continue;
      }
      if (status != 200 && status != 206) {
        char what[96];
        snprintf(what, sizeof what, "Log of ticket %s", ids[i]);
        st = answer_error(g, what, &resps[k]);
        break;
      }
      doc = cJSON_ParseWithLength(resps[k].body, resps[k].body_len);
      if (!cJSON_IsArray(doc)) {
        g->host->log(g->src, IB_LOG_ERROR,
                     "Log of ticket %s: the answer is not a JSON array",
                     ids[i]);
        cJSON_Delete(doc);
        st = IB_ERR_PARSE;
        break;
      }
      long long total = range_total(g, &resps[k]);
      int got = cJSON_GetArraySize(doc);
      if (logs[i].doc == NULL) {
        logs[i].doc = doc;
      } else {
        take_rows(logs[i].doc, doc);
        cJSON_Delete(doc);
      }
      if (status == 206 && got > 0 && offset[k] + got < total) {
        if (offset[k] + got >= GLPI_MAX_LOG_ROWS)
          g->host->log(g->src, IB_LOG_WARN,
                       "Log of ticket %s: more than %d rows; the rest is not "
                       "read (pauses may be incomplete)",
                       ids[i], GLPI_MAX_LOG_ROWS);
        else
          todo[i] = offset[k] + got; /* more to read, with progress */
      }
    }
    for (size_t k = 0; k < m; k++) g->host->http_free(&resps[k]);
    if (st != IB_OK) goto done;
    /* next round: first the rest of this window, then the next window */
    int again = 0;
    for (size_t k = 0; k < m; k++) again |= todo[which[k]] >= 0;
    if (!again) next = which[m - 1] + 1;
  }
  for (size_t i = 0; i < n; i++)
    if (logs[i].doc &&
        (st = glpi_status_changes(&g->ctx, logs[i].doc, &logs[i].changes,
                                  &logs[i].n_changes)) != IB_OK)
      goto done;
done:
  free(todo);
  return st;
}

static void logs_free(ticket_log *logs, size_t n) {
  for (size_t i = 0; logs && i < n; i++) {
    cJSON_Delete(logs[i].doc);
    free(logs[i].changes);
  }
  free(logs);
}

/* ---- tickets ------------------------------------------------------------ */

static int entity_kept(const glpi *g, const cJSON *row) {
  if (g->n_entities == 0) return 1;
  const char *e = glpi_text(row, "entities_id", NULL, 0);
  if (e == NULL) return 0;
  for (size_t i = 0; i < g->n_entities; i++) {
    size_t len = strlen(g->entities[i]);
    if (strncmp(e, g->entities[i], len) == 0 &&
        (e[len] == '\0' || strncmp(e + len, " > ", 3) == 0))
      return 1;
  }
  return 0;
}

/* Whether the row is rejected whatever its Log says (pauses never reject
 * a ticket): its Log is then not read. */
static int rejected_anyway(glpi *g, const cJSON *row) {
  glpi_ticket_out out;
  char why[256];
  ib_status st =
      glpi_normalize_ticket(&g->ctx, row, NULL, 0, &out, why, sizeof why);
  glpi_ticket_out_free(&out);
  return st == IB_ERR_REJECTED;
}

/* Emits the rows of one page that are at or after `since`; *reached is set
 * when a row older than since was seen (the rest is older still). */
static ib_status emit_page(glpi *g, const cJSON *page, ib_time since,
                           int *reached, ib_time *newest, uint64_t *done) {
  int n = cJSON_GetArraySize(page);
  const cJSON **rows = calloc(n ? (size_t)n : 1, sizeof *rows); /* borrowed */
  const char **ids = calloc(n ? (size_t)n : 1, sizeof *ids);    /* borrowed */
  char(*idbuf)[32] = calloc(n ? (size_t)n : 1, sizeof *idbuf);  /* owned */
  ticket_log *logs = NULL;
  size_t k = 0;
  ib_status st = IB_OK;
  char why[256];
  if (rows == NULL || ids == NULL || idbuf == NULL) {
    st = IB_ERR_NOMEM;
    goto done;
  }
  const cJSON *row;
  cJSON_ArrayForEach(row, page) {
    ib_time mod = IB_TIME_NONE;
    glpi_time(&g->ctx, row, "date_mod", &mod);
    if (mod != IB_TIME_NONE && *newest == IB_TIME_NONE) *newest = mod;
    if (mod != IB_TIME_NONE && mod > *newest) *newest = mod;
    if (since != IB_TIME_NONE && mod != IB_TIME_NONE && mod < since) {
      *reached = 1;
      break;
    }
    if (!entity_kept(g, row)) continue;
    rows[k] = row;
    ids[k] = glpi_text(row, "id", idbuf[k], sizeof idbuf[k]);
    k++;
  }
  logs = calloc(k ? k : 1, sizeof *logs);
  if (logs == NULL) {
    st = IB_ERR_NOMEM;
    goto done;
  }
  if (g->log_pauses) {
    /* tickets without an id, or rejected for another reason, are rejected
     * below: no Log to read */
    const char **with_id = calloc(k ? k : 1, sizeof *with_id); /* borrowed */
    size_t *pos = calloc(k ? k : 1, sizeof *pos);              /* owned */
    ticket_log *part = calloc(k ? k : 1, sizeof *part); /* owned, moved */
    size_t m = 0;
    if (with_id == NULL || pos == NULL || part == NULL) {
      free(with_id);
      free(pos);
      free(part);
      st = IB_ERR_NOMEM;
      goto done;
    }
    for (size_t i = 0; i < k; i++)
      if (ids[i] && !rejected_anyway(g, rows[i])) {
        with_id[m] = ids[i];
        pos[m++] = i;
      }
    st = fetch_logs(g, with_id, m, part);
    for (size_t j = 0; j < m; j++) logs[pos[j]] = part[j];
    free(part);
    free(pos);
    free(with_id);
    if (st != IB_OK) goto done;
  }
  for (size_t i = 0; i < k; i++) {
    glpi_ticket_out out;
    st = glpi_normalize_ticket(&g->ctx, rows[i], logs[i].changes,
                               logs[i].n_changes, &out, why, sizeof why);
    if (st == IB_ERR_REJECTED) {
      /* with its id, the host lists it and fetch() reads it again later */
      if (out.t.id)
        g->host->reject_record(g->src, out.t.id, out.where, "%s", why);
      else
        g->host->reject(g->src, out.where, "%s", why);
      glpi_ticket_out_free(&out);
      st = IB_OK;
      continue;
    }
    if (st == IB_OK) st = g->host->emit_ticket(g->src, &out.t, out.where);
    glpi_ticket_out_free(&out);
    if (st == IB_ERR_REJECTED) st = IB_OK;
    if (st != IB_OK) goto done;
    (*done)++;
  }
done:
  logs_free(logs, k);
  free(idbuf);
  free(ids);
  free(rows);
  return st;
}

/* One page of tickets, newest first. *page is owned by the caller. */
static ib_status read_page(glpi *g, long long start, cJSON **page,
                           long long *total, int *last) {
  char url[1024];
  snprintf(url, sizeof url,
           "%s/Ticket?range=%lld-%lld&sort=date_mod&order=DESC"
           "&expand_dropdowns=true&get_hateoas=false",
           g->base, start, start + g->page_size - 1);
  ib_http_request req = {.struct_size = sizeof req, .url = url};
  ib_http_response resp = {.struct_size = sizeof resp};
  *page = NULL;
  *last = 0;
  ib_status st = g->host->http(g->src, &req, 1, &resp);
  if (st != IB_OK) goto done;
  cJSON *doc = cJSON_ParseWithLength(resp.body, resp.body_len);
  const char *code = error_code(doc, NULL);
  if (resp.status == 400 && code &&
      strcmp(code, "ERROR_RANGE_EXCEED_TOTAL") == 0) {
    /* past the end: tickets were deleted since the total was read */
    cJSON_Delete(doc);
    *page = cJSON_CreateArray();
    *last = 1;
    *total = -1;
    st = *page ? IB_OK : IB_ERR_NOMEM;
    goto done;
  }
  if (resp.status != 200 && resp.status != 206) {
    cJSON_Delete(doc);
    st = answer_error(g, "Ticket", &resp);
    goto done;
  }
  if (!cJSON_IsArray(doc)) {
    cJSON_Delete(doc);
    g->host->log(g->src, IB_LOG_ERROR,
                 "Ticket range %lld-%lld: the answer is not a JSON array; is "
                 "the url GLPI's apirest.php?",
                 start, start + g->page_size - 1);
    st = IB_ERR_PARSE;
    goto done;
  }
  *total = range_total(g, &resp);
  int got = cJSON_GetArraySize(doc);
  /* 200: everything asked for is here; 206: more beyond this range */
  *last =
      resp.status == 200 || got == 0 || (*total >= 0 && start + got >= *total);
  *page = doc;
done:
  g->host->http_free(&resp);
  return st;
}

static ib_status glpi_sync(void *instance) {
  glpi *g = instance;
  ib_time since = g->host->sync_since(g->src);
  ib_time newest = IB_TIME_NONE;
  uint64_t done = 0;
  long long start = 0, total = -1;
  int last = 0, reached = 0;
  ib_status st = IB_OK;
  g->ctx.now = (ib_time)time(NULL);
  long long first_total = -1;
  int shrank = 0;
  while (!last && !reached) {
    cJSON *page = NULL;
    if (g->host->should_stop(g->src)) {
      st = IB_ERR_ABORTED;
      break;
    }
    if ((st = read_page(g, start, &page, &total, &last)) != IB_OK) break;
    /* Fewer tickets than when the read began (purged meanwhile, or a
     * range past the new end): rows may have shifted past the cursor. */
    if (first_total < 0) first_total = total;
    if (total < 0 ? start > 0 && last && cJSON_GetArraySize(page) == 0
                  : total < first_total)
      shrank = 1;
    int got = cJSON_GetArraySize(page);
    st = emit_page(g, page, since, &reached, &newest, &done);
    cJSON_Delete(page);
    if (st != IB_OK) break;
    /* Newest first: the watermark waits for the last page. */
    if ((st = g->host->commit(g->src, IB_TIME_NONE)) != IB_OK) break;
    start += got;
    g->host->progress(g->src, (uint64_t)start, total > 0 ? (uint64_t)total : 0);
  }
  if (st == IB_OK && shrank)
    g->host->log(g->src, IB_LOG_WARN,
                 "tickets were purged in GLPI during the read: the watermark "
                 "stays where it was, so the next sync reads this window "
                 "again");
  else if (st == IB_OK && newest != IB_TIME_NONE)
    st = g->host->commit(g->src, newest);
  /* after refused credentials the session is gone: no new login to end it */
  if (st != IB_ERR_AUTH) kill_session(g);
  return st;
}

/* Tickets a refetch could not read stay listed as rejected (read again at
 * the next sync); what it was is said on stderr. */
static void keep_listed(glpi *g, const char *id, const char *what) {
  char where[48];
  snprintf(where, sizeof where, "ticket %s", id);
  g->host->log(g->src, IB_LOG_WARN,
               "%s, rejected by an earlier sync, %s; it stays listed as "
               "rejected and is asked for again at the next sync",
               where, what);
  g->host->reject_record(g->src, id, where, "%s (read again by id)", what);
}

/* A 401 whose body is GLPI's ERROR_RIGHT_MISSING: the item exists but the
 * API user may not read it (getItem's answer), not a refused session. */
static int right_missing(const ib_http_response *r) {
  if (r->status != 401 || r->body == NULL) return 0;
  cJSON *doc = cJSON_ParseWithLength(r->body, r->body_len);
  const char *code = error_code(doc, NULL);
  int yes = code && strcmp(code, "ERROR_RIGHT_MISSING") == 0;
  cJSON_Delete(doc);
  return yes;
}

/* GETs the m tickets. GLPI answers 401 ERROR_RIGHT_MISSING for a ticket the
 * API user may not read (moved to another entity), which the host takes
 * for refused credentials, ending the whole batch: the batch is then asked
 * again one ticket at a time, and such a ticket keeps its 401 as its
 * answer. Every resps[i] is initialised whatever the outcome. */
static ib_status get_tickets(glpi *g, const ib_http_request *reqs,
                             ib_http_response *resps, size_t m) {
  ib_status st = g->host->http(g->src, reqs, m, resps);
  int any = 0;
  for (size_t i = 0; st == IB_ERR_AUTH && i < m; i++)
    any |= right_missing(&resps[i]);
  if (!any) return st;
  for (size_t i = 0; i < m; i++) {
    g->host->http_free(&resps[i]);
    resps[i] = (ib_http_response){.struct_size = sizeof resps[i]};
  }
  for (size_t i = 0; i < m; i++) {
    st = g->host->http(g->src, &reqs[i], 1, &resps[i]);
    if (st == IB_ERR_AUTH && right_missing(&resps[i])) st = IB_OK;
    if (st != IB_OK) return st;
  }
  return IB_OK;
}

/* Tickets read again by id (rejected by an earlier sync): GET Ticket/:id
 * with the list's expansions, GLPI_LOG_BATCH at a time, then the same
 * entity filter, Logs and normalisation as a page. A 404 (a ticket GLPI
 * no longer has or does not show the API user) or a 401 ERROR_RIGHT_MISSING
 * is said on stderr and the ticket kept listed. Has its own session (sync()
 * ended its). */
static ib_status glpi_fetch(void *instance, const char *const *ids, size_t n) {
  glpi *g = instance;
  ib_http_request reqs[GLPI_LOG_BATCH];
  ib_http_response resps[GLPI_LOG_BATCH];
  char urls[GLPI_LOG_BATCH][256];
  ib_status st = IB_OK;
  g->ctx.now = (ib_time)time(NULL);
  if (!g->has_session) g->host->http_session_expired(g->src);
  for (size_t lo = 0; st == IB_OK && lo < n; lo += GLPI_LOG_BATCH) {
    size_t k = n - lo < GLPI_LOG_BATCH ? n - lo : GLPI_LOG_BATCH, m = 0;
    const char *asked[GLPI_LOG_BATCH];
    if (g->host->should_stop(g->src)) {
      st = IB_ERR_ABORTED;
      break;
    }
    for (size_t i = 0; i < k; i++) {
      const char *id = ids[lo + i];
      /* GLPI ids are numbers: anything else is not one of its tickets (not
       * emitted, so the host forgets it) */
      if (id[0] == '\0' || strspn(id, "0123456789") != strlen(id) ||
          strlen(id) > 20)
        continue;
      snprintf(urls[m], sizeof urls[m],
               "%s/Ticket/%s?expand_dropdowns=true&get_hateoas=false", g->base,
               id);
      reqs[m] =
          (ib_http_request){.struct_size = sizeof reqs[m], .url = urls[m]};
      resps[m] = (ib_http_response){.struct_size = sizeof resps[m]};
      asked[m++] = id;
    }
    if (m == 0) continue;
    cJSON *page = cJSON_CreateArray(); /* owned */
    if (page == NULL) {
      st = IB_ERR_NOMEM;
      break;
    }
    st = get_tickets(g, reqs, resps, m);
    for (size_t i = 0; st == IB_OK && i < m; i++) {
      if (resps[i].status == 404) {
        keep_listed(g, asked[i],
                    "is not found in GLPI (HTTP 404: deleted, or not "
                    "visible to the API user)");
        continue;
      }
      if (right_missing(&resps[i])) {
        keep_listed(g, asked[i],
                    "may not be read by the API user (HTTP 401 "
                    "ERROR_RIGHT_MISSING: in an entity its profile does not "
                    "reach?)");
        continue;
      }
      if (resps[i].status != 200) {
        char what[96];
        snprintf(what, sizeof what, "Ticket %s (rejected earlier)", asked[i]);
        st = answer_error(g, what, &resps[i]);
        break;
      }
      cJSON *row = cJSON_ParseWithLength(resps[i].body, resps[i].body_len);
      if (!cJSON_IsObject(row)) {
        g->host->log(g->src, IB_LOG_ERROR,
                     "Ticket %s: the answer is not a JSON object; is the url "
                     "GLPI's apirest.php?",
                     asked[i]);
        cJSON_Delete(row);
        st = IB_ERR_PARSE;
        break;
      }
      const cJSON *del = cJSON_GetObjectItemCaseSensitive(row, "is_deleted");
      if ((cJSON_IsNumber(del) && del->valuedouble != 0) || cJSON_IsTrue(del)) {
        /* the list leaves the trash out: so does the refetch */
        keep_listed(g, asked[i], "is in GLPI's trash");
        cJSON_Delete(row);
        continue;
      }
      cJSON_AddItemToArray(page, row);
    }
    for (size_t i = 0; i < m; i++) g->host->http_free(&resps[i]);
    if (st == IB_OK) {
      int reached = 0;
      ib_time newest = IB_TIME_NONE; /* not a watermark: ignored */
      uint64_t done = 0;
      st = emit_page(g, page, IB_TIME_NONE, &reached, &newest, &done);
    }
    cJSON_Delete(page);
  }
  if (st != IB_ERR_AUTH) kill_session(g);
  return st;
}

static const ib_plugin glpi_plugin = {
    .magic = IB_PLUGIN_MAGIC,
    .abi_version = IB_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(ib_plugin),
    .name = "glpi",
    .version = "0.1.0",
    .description =
        "GLPI (REST API apirest.php): tickets with GLPI's dates, "
        "TTO/TTR verdicts and, from the Log, pauses",
    .flags = IB_PLUGIN_FLAG_HTTP,
    .options = glpi_options,
    .open = glpi_open,
    .sync = glpi_sync,
    .close = glpi_close,
    .authenticate = glpi_authenticate,
    .fetch = glpi_fetch,
};

IB_PLUGIN_DEFINE(glpi_plugin)
