/*
 * jira_norm.c -- normalises one Jira issue and its raw changelog into the
 * ticket model (SPEC §5): recomputes first response, resolution and pauses
 * from status changes instead of trusting Jira's SLA widgets. Must not do
 * HTTP, paging or keep state between issues beyond reused scratch memory.
 */
#define _POSIX_C_SOURCE 200809L

#include "jira_norm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MILLIS_PER_SECOND 1000
/* 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z in epoch seconds. */
#define JIRA_MIN_EPOCH_S (-62135596800.0)
#define JIRA_MAX_EPOCH_S 253402300800.0

void jira_norm_free(jira_norm *scratch) {
  if (!scratch) return;
  free(scratch->pauses);
  free(scratch->changes);
  scratch->pauses = NULL;
  scratch->changes = NULL;
  scratch->pauses_cap = 0;
  scratch->changes_cap = 0;
}

/* ---- small JSON helpers (all borrow the tree) ---------------------------- */

static const char *json_str(const cJSON *obj, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *json_str_path(const cJSON *obj, const char *a,
                                 const char *b) {
  return json_str(cJSON_GetObjectItemCaseSensitive(obj, a), b);
}

/* A select / option / user / component value: its text, whatever the shape. */
static const char *json_value_text(const cJSON *v) {
  if (cJSON_IsArray(v)) v = cJSON_GetArrayItem(v, 0);
  if (cJSON_IsString(v)) return v->valuestring;
  if (cJSON_IsObject(v)) {
    const char *s = json_str(v, "value");
    if (!s) s = json_str(v, "name");
    if (!s) s = json_str(v, "displayName");
    return s;
  }
  return NULL;
}

const char *jira_issue_where(const cJSON *issue) {
  const char *w = json_str(issue, "key");
  if (!w) w = json_str(issue, "id");
  return w ? w : "?";
}

static ib_status reject(jira_norm *scratch, const char *fmt, ...)
    IB_PRINTF(2, 3);
static ib_status reject(jira_norm *scratch, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(scratch->reason, sizeof scratch->reason, fmt, ap);
  va_end(ap);
  return IB_ERR_REJECTED;
}

/* Parses a Jira date ("2026-10-05T09:12:33.000+0200") through the host. */
static ib_status parse_date(const jira_norm_cfg *cfg, jira_norm *scratch,
                            const char *text, const char *what, ib_time *out) {
  if (cfg->host->parse_time(cfg->src, text, NULL, out) != IB_OK)
    return reject(scratch,
                  "bad date \"%s\" in %s: expected ISO-8601 "
                  "like 2026-10-05T09:12:33.000+0200",
                  text, what);
  return IB_OK;
}

/* ---- statuses ------------------------------------------------------------ */

static int is_pause_status(const jira_norm_cfg *cfg, const char *name) {
  if (!name) return 0;
  for (size_t i = 0; i < cfg->n_pause_statuses; i++)
    if (strcasecmp(cfg->pause_statuses[i], name) == 0) return 1;
  return 0;
}

/* The model's status word for a Jira status: the `statuses` mapping, else
 * a pause status is pending, else its category. */
static const char *state_of(const jira_norm_cfg *cfg, const char *name,
                            const char *category) {
  const char *mapped = name ? cfg->host->map(cfg->src, "statuses", name) : NULL;
  if (mapped) return mapped;
  if (is_pause_status(cfg, name)) return "pending";
  if (category && strcmp(category, "new") == 0) return "new";
  if (category && strcmp(category, "done") == 0) return "resolved";
  return "open";
}

static int is_done_state(const char *state) {
  return strcmp(state, "resolved") == 0 || strcmp(state, "closed") == 0;
}

static int same_status(const char *id_a, const char *name_a, const char *id_b,
                       const char *name_b) {
  if (id_a && id_b) return strcmp(id_a, id_b) == 0;
  return name_a && name_b && strcasecmp(name_a, name_b) == 0;
}

/* The model's status word for a status seen in the changelog, whose
 * category the changelog does not carry: the mapping, the server's
 * catalogue, or the current status when it is the same one. */
static const char *history_state(const jira_norm_cfg *cfg, const char *id,
                                 const char *name, const cJSON *current) {
  const char *mapped = name ? cfg->host->map(cfg->src, "statuses", name) : NULL;
  if (mapped) return mapped;
  if (is_pause_status(cfg, name)) return "pending";
  for (size_t i = 0; i < cfg->n_catalog; i++)
    if (same_status(id, name, cfg->catalog[i].id, cfg->catalog[i].name))
      return cfg->catalog[i].done ? "resolved" : "open";
  if (same_status(id, name, json_str(current, "id"), json_str(current, "name")))
    return state_of(cfg, name, json_str_path(current, "statusCategory", "key"));
  return "open";
}

/* ---- changelog ------------------------------------------------------------
 */

static int change_cmp(const void *pa, const void *pb) {
  const jira_change *a = pa, *b = pb;
  if (a->at != b->at) return a->at < b->at ? -1 : 1;
  if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
  return 0;
}

/* Collects the status changes of `histories`, oldest first. */
static ib_status collect_changes(const jira_norm_cfg *cfg, jira_norm *scratch,
                                 const cJSON *histories, size_t *n_out) {
  size_t n = 0;
  const cJSON *h;
  *n_out = 0;
  cJSON_ArrayForEach(h, histories) {
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(h, "items");
    const cJSON *item;
    const char *created = json_str(h, "created");
    const char *hid = json_str(h, "id");
    cJSON_ArrayForEach(item, items) {
      const char *field = json_str(item, "fieldId");
      if (!field) field = json_str(item, "field");
      if (!field || strcmp(field, "status") != 0) continue;
      if (!created) return reject(scratch, "status change without a date");
      if (n == scratch->changes_cap) {
        size_t cap = scratch->changes_cap ? 2 * scratch->changes_cap : 16;
        jira_change *grown = realloc(scratch->changes, cap * sizeof *grown);
        if (!grown) return IB_ERR_NOMEM;
        scratch->changes = grown;
        scratch->changes_cap = cap;
      }
      jira_change *c = &scratch->changes[n];
      ib_status st = parse_date(cfg, scratch, created, "changelog", &c->at);
      if (st != IB_OK) return st;
      c->seq = hid ? strtoll(hid, NULL, 10) : (long long)n;
      c->from_id = json_str(item, "from");
      c->from_name = json_str(item, "fromString");
      c->to_id = json_str(item, "to");
      c->to_name = json_str(item, "toString");
      if (c->from_id && c->to_id && strcmp(c->from_id, c->to_id) == 0)
        continue; /* not a change */
      n++;
    }
  }
  if (n > 1) qsort(scratch->changes, n, sizeof *scratch->changes, change_cmp);
  *n_out = n;
  return IB_OK;
}

static ib_status add_pause(jira_norm *scratch, size_t *n, ib_time start,
                           ib_time end) {
  if (end != IB_TIME_NONE && end <= start)
    return IB_OK; /* left in the same second: nothing to count */
  if (*n == scratch->pauses_cap) {
    size_t cap = scratch->pauses_cap ? 2 * scratch->pauses_cap : 8;
    ib_interval *grown = realloc(scratch->pauses, cap * sizeof *grown);
    if (!grown) return IB_ERR_NOMEM;
    scratch->pauses = grown;
    scratch->pauses_cap = cap;
  }
  scratch->pauses[*n].start = start;
  scratch->pauses[*n].end = end;
  (*n)++;
  return IB_OK;
}

/* Time spent in a pause status, walking the changes from the initial
 * status; a pause still running has no end. */
static ib_status compute_pauses(const jira_norm_cfg *cfg, jira_norm *scratch,
                                size_t n_changes, const char *initial,
                                ib_time created, size_t *n_pauses) {
  int paused = is_pause_status(cfg, initial);
  ib_time since = created;
  *n_pauses = 0;
  if (cfg->n_pause_statuses == 0) return IB_OK;
  for (size_t i = 0; i < n_changes; i++) {
    const jira_change *c = &scratch->changes[i];
    int next = is_pause_status(cfg, c->to_name);
    if (paused && !next) {
      ib_status st = add_pause(scratch, n_pauses, since, c->at);
      if (st != IB_OK) return st;
    } else if (!paused && next) {
      since = c->at < created ? created : c->at;
    }
    paused = next;
  }
  if (paused) return add_pause(scratch, n_pauses, since, IB_TIME_NONE);
  return IB_OK;
}

/* Start of the current run of statuses for which `keep` holds: the last
 * change from a status where it does not into one where it does. */
static ib_time last_entry_into(const jira_norm_cfg *cfg, const jira_norm *s,
                               size_t n, const cJSON *current,
                               const char *word_a, const char *word_b) {
  ib_time entry = IB_TIME_NONE;
  for (size_t i = 0; i < n; i++) {
    const jira_change *c = &s->changes[i];
    const char *to = history_state(cfg, c->to_id, c->to_name, current);
    const char *from = history_state(cfg, c->from_id, c->from_name, current);
    int to_in = strcmp(to, word_a) == 0 || (word_b && strcmp(to, word_b) == 0);
    int from_in =
        strcmp(from, word_a) == 0 || (word_b && strcmp(from, word_b) == 0);
    if (to_in && !from_in) entry = c->at;
  }
  return entry;
}

/* ---- JSM SLA fields -------------------------------------------------------
 */

static ib_status sla_instant(const jira_norm_cfg *cfg, jira_norm *scratch,
                             const cJSON *when, ib_time *out) {
  const cJSON *ms = cJSON_GetObjectItemCaseSensitive(when, "epochMillis");
  const char *text;
  if (cJSON_IsNumber(ms)) {
    /* Years 1..9999 only: converting a larger double to ib_time is
     * undefined behaviour (and no real SLA clock stops there). */
    double s = ms->valuedouble / MILLIS_PER_SECOND;
    if (!(s >= JIRA_MIN_EPOCH_S && s < JIRA_MAX_EPOCH_S))
      return reject(scratch,
                    "epochMillis %.17g in an SLA field is outside years "
                    "1..9999",
                    ms->valuedouble);
    *out = (ib_time)s;
    return IB_OK;
  }
  text = json_str(when, "iso8601");
  if (!text) text = json_str(when, "jira");
  if (!text) {
    *out = IB_TIME_NONE;
    return IB_OK;
  }
  return parse_date(cfg, scratch, text, "an SLA field", out);
}

/* Provider's verdict: `breached` of the last completed cycle, else of the
 * ongoing one. */
static ib_verdict sla_verdict(const cJSON *fields, const char *field) {
  const cJSON *sla, *cycles, *cycle, *breached;
  if (!field) return IB_VERDICT_UNKNOWN;
  sla = cJSON_GetObjectItemCaseSensitive(fields, field);
  cycles = cJSON_GetObjectItemCaseSensitive(sla, "completedCycles");
  /* the last element without walking the list: head->prev is the tail */
  cycle = cJSON_IsArray(cycles) && cycles->child
              ? cycles->child->prev
              : cJSON_GetObjectItemCaseSensitive(sla, "ongoingCycle");
  breached = cJSON_GetObjectItemCaseSensitive(cycle, "breached");
  if (!cJSON_IsBool(breached)) return IB_VERDICT_UNKNOWN;
  return cJSON_IsTrue(breached) ? IB_VERDICT_BREACHED : IB_VERDICT_MET;
}

/* ---- the other fields ------------------------------------------------------
 */

static const char *default_kind(const char *type) {
  static const char system_prefix[] = "[System] ";
  static const char request_prefix[] = "service request";
  if (!type) return "other";
  if (strncasecmp(type, system_prefix, sizeof system_prefix - 1) == 0)
    type += sizeof system_prefix - 1;
  if (strcasecmp(type, "incident") == 0) return "incident";
  if (strncasecmp(type, request_prefix, sizeof request_prefix - 1) == 0)
    return "request";
  if (strcasecmp(type, "problem") == 0) return "problem";
  if (strcasecmp(type, "change") == 0) return "change";
  return "other";
}

static const char *service_of(const jira_norm_cfg *cfg, const cJSON *fields) {
  const cJSON *v;
  switch (cfg->service_mode) {
    case JIRA_SERVICE_COMPONENTS:
      return json_value_text(
          cJSON_GetObjectItemCaseSensitive(fields, "components"));
    case JIRA_SERVICE_FIELD:
      return json_value_text(
          cJSON_GetObjectItemCaseSensitive(fields, cfg->service_arg));
    case JIRA_SERVICE_LABELS: {
      size_t len = strlen(cfg->service_arg);
      cJSON_ArrayForEach(v,
                         cJSON_GetObjectItemCaseSensitive(fields, "labels")) {
        if (cJSON_IsString(v) &&
            strncasecmp(v->valuestring, cfg->service_arg, len) == 0 &&
            v->valuestring[len] != '\0')
          return v->valuestring + len;
      }
      return NULL;
    }
  }
  return NULL;
}

/* ---- the issue ------------------------------------------------------------
 */

ib_status jira_normalize(const jira_norm_cfg *cfg, jira_norm *scratch,
                         const cJSON *issue, const cJSON *histories,
                         ib_ticket *out) {
  const cJSON *fields, *status;
  const char *text, *initial;
  size_t n_changes = 0, n_pauses = 0;
  ib_status st;
  ib_ticket t = IB_TICKET_INIT;

  scratch->reason[0] = '\0';
  if (!cJSON_IsObject(issue)) {
    snprintf(scratch->reason, sizeof scratch->reason,
             "an element of \"issues\" is not an object");
    return IB_ERR_PARSE;
  }
  fields = cJSON_GetObjectItemCaseSensitive(issue, "fields");
  if (!cJSON_IsObject(fields))
    return reject(scratch, "issue has no \"fields\" object");
  if (!histories)
    histories = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(issue, "changelog"), "histories");

  t.key = json_str(issue, "key");
  t.id = json_str(issue, "id");
  if (!t.id) t.id = t.key;
  if (!t.id) return reject(scratch, "issue has neither \"id\" nor \"key\"");
  t.title = json_str(fields, "summary");

  text = json_str(fields, "created");
  if (!text)
    return reject(scratch,
                  "no \"created\" date: add created to the "
                  "requested fields");
  if ((st = parse_date(cfg, scratch, text, "created", &t.created_at)) != IB_OK)
    return st;
  text = json_str(fields, "updated");
  if (text &&
      (st = parse_date(cfg, scratch, text, "updated", &t.updated_at)) != IB_OK)
    return st;

  t.priority_raw = json_str_path(fields, "priority", "name");
  if (!t.priority_raw)
    return reject(scratch, "no priority: give the issue a priority in Jira");
  t.priority = cfg->host->map(cfg->src, "priorities", t.priority_raw);
  if (!t.priority)
    return reject(scratch, "unmapped priority \"%s\": add it to priorities",
                  t.priority_raw);

  t.kind_raw = json_str_path(fields, "issuetype", "name");
  t.kind = t.kind_raw ? cfg->host->map(cfg->src, "kinds", t.kind_raw) : NULL;
  if (!t.kind) t.kind = default_kind(t.kind_raw);

  status = cJSON_GetObjectItemCaseSensitive(fields, "status");
  t.status_raw = json_str(status, "name");
  t.status = state_of(cfg, t.status_raw,
                      json_str_path(status, "statusCategory", "key"));
  t.service = service_of(cfg, fields);

  if ((st = collect_changes(cfg, scratch, histories, &n_changes)) != IB_OK)
    return st;
  initial = n_changes > 0 ? scratch->changes[0].from_name : t.status_raw;

  /* First response. */
  if (cfg->fr_mode == JIRA_FR_TRANSITION) {
    if (n_changes > 0) t.first_response_at = scratch->changes[0].at;
  } else {
    const cJSON *sla =
        cJSON_GetObjectItemCaseSensitive(fields, cfg->fr_sla_field);
    const cJSON *first = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(sla, "completedCycles"), 0);
    if (first &&
        (st = sla_instant(cfg, scratch,
                          cJSON_GetObjectItemCaseSensitive(first, "stopTime"),
                          &t.first_response_at)) != IB_OK)
      return st;
  }

  /* Resolution: only for a ticket resolved or closed now (SPEC §5); its
   * last resolution. */
  if (is_done_state(t.status)) {
    text = json_str(fields, "resolutiondate");
    if (text) {
      if ((st = parse_date(cfg, scratch, text, "resolutiondate",
                           &t.resolved_at)) != IB_OK)
        return st;
    } else {
      t.resolved_at = last_entry_into(cfg, scratch, n_changes, status,
                                      "resolved", "closed");
      text = json_str(fields, "statuscategorychangedate");
      if (t.resolved_at == IB_TIME_NONE && text &&
          (st = parse_date(cfg, scratch, text, "statuscategorychangedate",
                           &t.resolved_at)) != IB_OK)
        return st;
    }
    if (strcmp(t.status, "closed") == 0) {
      t.closed_at =
          last_entry_into(cfg, scratch, n_changes, status, "closed", NULL);
      if (t.closed_at == IB_TIME_NONE) t.closed_at = t.resolved_at;
    }
  }

  if ((st = compute_pauses(cfg, scratch, n_changes, initial, t.created_at,
                           &n_pauses)) != IB_OK)
    return st;
  t.pauses = n_pauses ? scratch->pauses : NULL;
  t.n_pauses = n_pauses;

  t.reported_response_breached = sla_verdict(fields, cfg->sla_response_field);
  t.reported_resolution_breached =
      sla_verdict(fields, cfg->sla_resolution_field);

  *out = t;
  return IB_OK;
}
