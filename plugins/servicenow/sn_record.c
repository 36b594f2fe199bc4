/*
 * sn_record.c -- turns ServiceNow Table API records into the normalised
 * model: field values in every shape the API returns, state codes, first
 * response and On Hold pauses from sys_audit, reported SLA verdicts from
 * task_sla, outages. Must not do HTTP, paging or keep any global state.
 */
#define _POSIX_C_SOURCE 200809L

#include "sn_record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- defaults: state codes per table ------------------------------------ */

typedef struct sn_code {
  const char *code;
  const char *word;
} sn_code;

/* incident (SPEC defaults from the issue). */
static const sn_code incident_states[] = {
    {"1", "new"},    {"2", "open"},      {"3", "pending"}, {"6", "resolved"},
    {"7", "closed"}, {"8", "cancelled"}, {NULL, NULL}};
/* change_request: New, Assess, Authorize, Scheduled, Implement, Review,
 * Closed, Canceled. */
static const sn_code change_states[] = {
    {"-5", "new"},   {"-4", "open"},     {"-3", "open"},
    {"-2", "open"},  {"-1", "open"},     {"0", "open"},
    {"3", "closed"}, {"4", "cancelled"}, {NULL, NULL}};
/* problem: 101..107 since Madrid, 1..4 before. */
static const sn_code problem_states[] = {
    {"101", "new"},      {"102", "open"},   {"103", "open"}, {"104", "open"},
    {"106", "resolved"}, {"107", "closed"}, {"1", "open"},   {"2", "open"},
    {"3", "pending"},    {"4", "closed"},   {NULL, NULL}};
/* The task base states (sc_req_item, sc_task, change_task, ...). */
static const sn_code task_states[] = {
    {"-5", "pending"}, {"1", "new"},       {"2", "open"}, {"3", "closed"},
    {"4", "closed"},   {"7", "cancelled"}, {NULL, NULL}};

static const sn_code priority_defaults[] = {{"1", "P1"}, {"2", "P2"},
                                            {"3", "P3"}, {"4", "P4"},
                                            {"5", "P5"}, {NULL, NULL}};

static const sn_code table_kinds[] = {{"incident", "incident"},
                                      {"sn_si_incident", "incident"},
                                      {"sc_req_item", "request"},
                                      {"sc_request", "request"},
                                      {"sc_task", "request"},
                                      {"problem", "problem"},
                                      {"change_request", "change"},
                                      {"change_task", "change"},
                                      {NULL, NULL}};

static const char *code_lookup(const sn_code *codes, const char *code) {
  if (code == NULL) return NULL;
  for (; codes->code != NULL; codes++)
    if (strcmp(codes->code, code) == 0) return codes->word;
  return NULL;
}

static const sn_code *table_states(const char *table) {
  if (table == NULL || strcmp(table, "incident") == 0) return incident_states;
  if (strcmp(table, "change_request") == 0) return change_states;
  if (strcmp(table, "problem") == 0) return problem_states;
  return task_states;
}

const char *sn_default_kind(const char *table) {
  const char *k = code_lookup(table_kinds, table ? table : "incident");
  return k ? k : "other";
}

/* ---- field access ------------------------------------------------------- */

static const char *nonempty(const char *s) {
  return (s != NULL && s[0] != '\0') ? s : NULL;
}

static const char *scalar_text(const cJSON *v, char *buf, size_t buflen) {
  if (v == NULL || cJSON_IsNull(v)) return NULL;
  if (cJSON_IsString(v)) return nonempty(v->valuestring);
  if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? "true" : "false";
  if (cJSON_IsNumber(v) && buf != NULL && buflen > 0) {
    double d = v->valuedouble;
    if (isfinite(d) && d == floor(d) && fabs(d) < 1e15)
      snprintf(buf, buflen, "%lld", (long long)d);
    else
      snprintf(buf, buflen, "%.17g", d);
    return buf;
  }
  return NULL;
}

const char *sn_field_text(const cJSON *rec, const char *name, int display,
                          char *buf, size_t buflen) {
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(rec, name);
  if (!cJSON_IsObject(f)) return scalar_text(f, buf, buflen);
  const char *text = NULL;
  if (display)
    text = scalar_text(cJSON_GetObjectItemCaseSensitive(f, "display_value"),
                       buf, buflen);
  if (text == NULL)
    text =
        scalar_text(cJSON_GetObjectItemCaseSensitive(f, "value"), buf, buflen);
  return text;
}

/* ServiceNow date-time values are UTC by contract ("YYYY-MM-DD HH:MM:SS"),
 * whatever the source's timezone setting says, so a missing offset is made
 * explicit before the host's ISO parser sees it. */
static ib_status parse_sn_time(const sn_ctx *ctx, const char *text,
                               ib_time *out) {
  char buf[64];
  size_t len = strlen(text);
  if (len + 2 > sizeof buf) return IB_ERR_PARSE;
  memcpy(buf, text, len + 1);
  int has_offset = len > 10 && (strchr(buf + 10, 'Z') != NULL ||
                                strchr(buf + 10, '+') != NULL ||
                                strchr(buf + 11, '-') != NULL);
  if (!has_offset && len > 10) {
    buf[len] = 'Z';
    buf[len + 1] = '\0';
  }
  return ctx->host->parse_time(ctx->src, buf, NULL, out) == IB_OK
             ? IB_OK
             : IB_ERR_PARSE;
}

ib_status sn_field_time(const sn_ctx *ctx, const cJSON *rec, const char *name,
                        ib_time *out) {
  char buf[64];
  const char *text = sn_field_text(rec, name, 0, buf, sizeof buf);
  *out = IB_TIME_NONE;
  if (text == NULL) return IB_OK;
  return parse_sn_time(ctx, text, out);
}

static int text_is_true(const char *s) {
  return s != NULL && (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0);
}

/* ---- mappings ------------------------------------------------------------ */

const char *sn_status_of(const sn_ctx *ctx, const char *state_value,
                         const char *state_display) {
  if (ctx->user_statuses) {
    const char *w = NULL;
    if (state_value) w = ctx->host->map(ctx->src, "statuses", state_value);
    if (w == NULL && state_display)
      w = ctx->host->map(ctx->src, "statuses", state_display);
    return w;
  }
  return code_lookup(table_states(ctx->table), state_value);
}

static const char *priority_of(const sn_ctx *ctx, const char *value,
                               const char *display) {
  if (ctx->user_priorities) {
    const char *w = NULL;
    if (value) w = ctx->host->map(ctx->src, "priorities", value);
    if (w == NULL && display)
      w = ctx->host->map(ctx->src, "priorities", display);
    return w;
  }
  return code_lookup(priority_defaults, value);
}

static const char *service_of(const sn_ctx *ctx, const char *display) {
  if (display != NULL && ctx->user_services) {
    const char *w = ctx->host->map(ctx->src, "services", display);
    if (w != NULL) return w;
  }
  return display;
}

static int status_is(const sn_ctx *ctx, const char *code, const char *word) {
  const char *w = sn_status_of(ctx, code, NULL);
  return w != NULL && strcmp(w, word) == 0;
}

/* ---- audit and task_sla rows --------------------------------------------- */

ib_status sn_audit_from_json(const sn_ctx *ctx, const cJSON *row, size_t seq,
                             sn_audit_row *out, char *why, size_t whylen) {
  /* sys_audit values are strings; a number would need a buffer that
   * outlives this call, so it is refused rather than misread. */
  out->documentkey = sn_field_text(row, "documentkey", 0, NULL, 0);
  out->fieldname = sn_field_text(row, "fieldname", 0, NULL, 0);
  out->oldvalue = sn_field_text(row, "oldvalue", 0, NULL, 0);
  out->newvalue = sn_field_text(row, "newvalue", 0, NULL, 0);
  out->seq = seq;
  out->at = IB_TIME_NONE;
  if (out->documentkey == NULL || out->fieldname == NULL) {
    snprintf(why, whylen, "sys_audit row without documentkey or fieldname");
    return IB_ERR_PARSE;
  }
  if (sn_field_time(ctx, row, "sys_created_on", &out->at) != IB_OK ||
      out->at == IB_TIME_NONE) {
    snprintf(why, whylen, "sys_audit row for %s has no usable sys_created_on",
             out->documentkey);
    return IB_ERR_PARSE;
  }
  return IB_OK;
}

static int target_of(const char *text) {
  if (text == NULL) return SN_TARGET_NONE;
  if (strcasecmp(text, "response") == 0) return SN_TARGET_RESPONSE;
  if (strcasecmp(text, "resolution") == 0) return SN_TARGET_RESOLUTION;
  return SN_TARGET_NONE;
}

ib_status sn_sla_from_json(const sn_ctx *ctx, const cJSON *row, sn_sla_row *out,
                           char *why, size_t whylen) {
  char buf[64];
  out->task = sn_field_text(row, "task", 0, NULL, 0);
  /* sla.target (dot-walked) is a choice: value "response", display
   * "Response"; SLA definitions without one (OLAs, UCs) give NONE. */
  out->target = target_of(sn_field_text(row, "sla.target", 0, buf, sizeof buf));
  if (out->target == SN_TARGET_NONE)
    out->target =
        target_of(sn_field_text(row, "sla.target", 1, buf, sizeof buf));
  out->breached =
      text_is_true(sn_field_text(row, "has_breached", 0, buf, sizeof buf));
  out->start = IB_TIME_NONE;
  if (out->task == NULL) {
    snprintf(why, whylen, "task_sla row without task");
    return IB_ERR_PARSE;
  }
  if (sn_field_time(ctx, row, "start_time", &out->start) != IB_OK) {
    snprintf(why, whylen, "task_sla row for %s has a bad start_time",
             out->task);
    return IB_ERR_PARSE;
  }
  return IB_OK;
}

static int cmp_audit(const void *a, const void *b) {
  const sn_audit_row *x = a, *y = b;
  int c = strcmp(x->documentkey, y->documentkey);
  if (c != 0) return c;
  if (x->at != y->at) return x->at < y->at ? -1 : 1;
  return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static int cmp_sla(const void *a, const void *b) {
  const sn_sla_row *x = a, *y = b;
  return strcmp(x->task, y->task);
}

void sn_audit_sort(sn_audit_row *rows, size_t n) {
  if (n > 1) qsort(rows, n, sizeof *rows, cmp_audit);
}

void sn_sla_sort(sn_sla_row *rows, size_t n) {
  if (n > 1) qsort(rows, n, sizeof *rows, cmp_sla);
}

size_t sn_audit_range(const sn_audit_row *rows, size_t n, const char *id,
                      size_t *first) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(rows[mid].documentkey, id) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  size_t end = lo;
  while (end < n && strcmp(rows[end].documentkey, id) == 0) end++;
  *first = lo;
  return end - lo;
}

size_t sn_sla_range(const sn_sla_row *rows, size_t n, const char *id,
                    size_t *first) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(rows[mid].task, id) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  size_t end = lo;
  while (end < n && strcmp(rows[end].task, id) == 0) end++;
  *first = lo;
  return end - lo;
}

/* ---- ticket -------------------------------------------------------------- */

static int is_field(const sn_audit_row *r, const char *name) {
  return strcmp(r->fieldname, name) == 0;
}

/* First state change away from New, or first assignment from empty. */
static ib_time first_response_from_audit(const sn_ctx *ctx,
                                         const sn_audit_row *audit, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const sn_audit_row *r = &audit[i];
    if (is_field(r, "state")) {
      if (status_is(ctx, r->oldvalue, "new") &&
          !status_is(ctx, r->newvalue, "new"))
        return r->at;
    } else if (is_field(r, "assigned_to")) {
      if (r->oldvalue == NULL && r->newvalue != NULL) return r->at;
    }
  }
  return IB_TIME_NONE;
}

/* Intervals spent in a state whose status is "pending" (On Hold). */
static ib_status pauses_from_audit(const sn_ctx *ctx, const sn_audit_row *audit,
                                   size_t n, ib_time created, ib_time updated,
                                   int pending_now, ib_interval **out,
                                   size_t *n_out) {
  ib_interval *iv = NULL; /* owned until handed to *out */
  size_t count = 0;
  int in_pause = 0, seen_state = 0;
  ib_time start = IB_TIME_NONE;
  *out = NULL;
  *n_out = 0;
  if (n == 0) return IB_OK;
  iv = calloc(n + 1, sizeof *iv);
  if (iv == NULL) return IB_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    const sn_audit_row *r = &audit[i];
    if (!is_field(r, "state")) continue;
    int was = status_is(ctx, r->oldvalue, "pending");
    int now = status_is(ctx, r->newvalue, "pending");
    if (!seen_state && was && !in_pause && created != IB_TIME_NONE) {
      /* Created on hold: the first change we see ends that pause. */
      in_pause = 1;
      start = created;
    }
    seen_state = 1;
    if (!in_pause && now) {
      in_pause = 1;
      start = r->at;
    } else if (in_pause && !now) {
      if (r->at > start) iv[count++] = (ib_interval){start, r->at};
      in_pause = 0;
    }
  }
  if (in_pause) {
    if (pending_now)
      iv[count++] = (ib_interval){start, IB_TIME_NONE};
    else if (updated != IB_TIME_NONE && updated > start)
      /* The row that ended the pause is missing: its last update did. */
      iv[count++] = (ib_interval){start, updated};
  }
  if (count == 0) {
    free(iv);
    return IB_OK;
  }
  *out = iv;
  *n_out = count;
  return IB_OK;
}

/* Last change into a resolved state, from the audit. */
static ib_time last_resolution_from_audit(const sn_ctx *ctx,
                                          const sn_audit_row *audit, size_t n) {
  ib_time t = IB_TIME_NONE;
  for (size_t i = 0; i < n; i++)
    if (is_field(&audit[i], "state") &&
        status_is(ctx, audit[i].newvalue, "resolved") &&
        !status_is(ctx, audit[i].oldvalue, "resolved"))
      t = audit[i].at;
  return t;
}

static void verdicts_from_slas(const sn_sla_row *slas, size_t n, ib_ticket *t) {
  const sn_sla_row *last[3] = {NULL, NULL, NULL};
  for (size_t i = 0; i < n; i++) {
    const sn_sla_row *s = &slas[i];
    if (s->target == SN_TARGET_NONE) continue;
    /* Cancelled and restarted: the SLA that started last counts. */
    if (last[s->target] == NULL || s->start >= last[s->target]->start)
      last[s->target] = s;
  }
  if (last[SN_TARGET_RESPONSE])
    t->reported_response_breached = last[SN_TARGET_RESPONSE]->breached
                                        ? IB_VERDICT_BREACHED
                                        : IB_VERDICT_MET;
  if (last[SN_TARGET_RESOLUTION])
    t->reported_resolution_breached = last[SN_TARGET_RESOLUTION]->breached
                                          ? IB_VERDICT_BREACHED
                                          : IB_VERDICT_MET;
}

static ib_status time_field(const sn_ctx *ctx, const cJSON *rec,
                            const char *name, ib_time *out, char *why,
                            size_t whylen) {
  if (sn_field_time(ctx, rec, name, out) == IB_OK) return IB_OK;
  char buf[64];
  const char *text = sn_field_text(rec, name, 0, buf, sizeof buf);
  snprintf(why, whylen,
           "field %s has an unreadable date \"%s\" (expected "
           "YYYY-MM-DD HH:MM:SS UTC)",
           name, text ? text : "");
  return IB_ERR_REJECTED;
}

ib_status sn_normalize_ticket(const sn_ctx *ctx, const cJSON *rec,
                              const sn_audit_row *audit, size_t n_audit,
                              const sn_sla_row *slas, size_t n_slas,
                              sn_ticket_out *out, char *why, size_t whylen) {
  ib_ticket *t = &out->t;
  char pdisp[64], sdisp[64];
  ib_status st;
  *t = (ib_ticket)IB_TICKET_INIT;
  out->pauses = NULL;
  why[0] = '\0';

  t->id = sn_field_text(rec, "sys_id", 0, NULL, 0);
  t->key = sn_field_text(rec, "number", 0, NULL, 0);
  snprintf(out->where, sizeof out->where, "%s",
           t->key ? t->key : (t->id ? t->id : "record without sys_id"));
  if (t->id == NULL) {
    snprintf(why, whylen, "no sys_id; add sys_id to the fields read");
    return IB_ERR_REJECTED;
  }
  t->title = sn_field_text(rec, "short_description", 1, NULL, 0);

  /* kind: sys_class_name (or the table) through kinds, else the table's. */
  const char *cls = sn_field_text(rec, "sys_class_name", 0, NULL, 0);
  t->kind_raw = cls ? cls : ctx->table;
  t->kind =
      ctx->user_kinds ? ctx->host->map(ctx->src, "kinds", t->kind_raw) : NULL;
  if (t->kind == NULL) t->kind = sn_default_kind(ctx->table);

  /* priority */
  const char *pval = sn_field_text(rec, "priority", 0, out->priority_buf,
                                   sizeof out->priority_buf);
  const char *pdsp = sn_field_text(rec, "priority", 1, pdisp, sizeof pdisp);
  t->priority = priority_of(ctx, pval, pdsp == pdisp ? NULL : pdsp);
  t->priority_raw = pval;
  if (pdsp != NULL && pdsp != pdisp && pdsp != pval) t->priority_raw = pdsp;
  if (t->priority == NULL) {
    snprintf(why, whylen,
             "priority \"%s\" has no mapping; add it to priorities",
             pdsp ? pdsp : (pval ? pval : ""));
    return IB_ERR_REJECTED;
  }

  /* status */
  const char *sval =
      sn_field_text(rec, "state", 0, out->state_buf, sizeof out->state_buf);
  const char *sdsp = sn_field_text(rec, "state", 1, sdisp, sizeof sdisp);
  t->status = sn_status_of(ctx, sval, sdsp == sdisp ? NULL : sdsp);
  t->status_raw = sval;
  if (sdsp != NULL && sdsp != sdisp && sdsp != sval) t->status_raw = sdsp;
  if (t->status == NULL) {
    snprintf(why, whylen,
             "state \"%s\" has no mapping for table %s; add it to "
             "statuses",
             sval ? sval : "", ctx->table);
    return IB_ERR_REJECTED;
  }

  t->service =
      service_of(ctx, sn_field_text(rec, ctx->service_field, 1, NULL, 0));
  t->group = sn_field_text(rec, "assignment_group", 1, NULL, 0);

  /* times */
  if ((st = time_field(ctx, rec, "opened_at", &t->created_at, why, whylen)) !=
      IB_OK)
    return st;
  if (t->created_at == IB_TIME_NONE) {
    snprintf(why, whylen, "opened_at is empty");
    return IB_ERR_REJECTED;
  }
  if ((st = time_field(ctx, rec, "closed_at", &t->closed_at, why, whylen)) !=
          IB_OK ||
      (st = time_field(ctx, rec, "sys_updated_on", &t->updated_at, why,
                       whylen)) != IB_OK)
    return st;

  if (ctx->fr_field != NULL) {
    if ((st = time_field(ctx, rec, ctx->fr_field, &t->first_response_at, why,
                         whylen)) != IB_OK)
      return st;
  } else {
    t->first_response_at = first_response_from_audit(ctx, audit, n_audit);
  }

  /* resolved_at: the last resolution of a ticket resolved or closed now. */
  int finished =
      strcmp(t->status, "resolved") == 0 || strcmp(t->status, "closed") == 0;
  if (finished) {
    if ((st = time_field(ctx, rec, "resolved_at", &t->resolved_at, why,
                         whylen)) != IB_OK)
      return st;
    if (t->resolved_at == IB_TIME_NONE)
      t->resolved_at = last_resolution_from_audit(ctx, audit, n_audit);
    if (t->resolved_at == IB_TIME_NONE) t->resolved_at = t->closed_at;
    if (t->resolved_at == IB_TIME_NONE) t->resolved_at = t->updated_at;
  }

  st = pauses_from_audit(ctx, audit, n_audit, t->created_at, t->updated_at,
                         strcmp(t->status, "pending") == 0, &out->pauses,
                         &t->n_pauses);
  if (st != IB_OK) return st;
  t->pauses = out->pauses;

  verdicts_from_slas(slas, n_slas, t);
  return IB_OK;
}

void sn_ticket_out_free(sn_ticket_out *out) {
  free(out->pauses);
  out->pauses = NULL;
  out->t.pauses = NULL;
  out->t.n_pauses = 0;
}

/* ---- outage -------------------------------------------------------------- */

static const char *outage_kind_of(const char *value, const char *display) {
  static const sn_code kinds[] = {{"outage", "outage"},
                                  {"planned", "planned"},
                                  {"degradation", "degradation"},
                                  {"planned outage", "planned"},
                                  {NULL, NULL}};
  const char *texts[2] = {value, display};
  for (int i = 0; i < 2; i++) {
    if (texts[i] == NULL) continue;
    for (const sn_code *k = kinds; k->code != NULL; k++)
      if (strcasecmp(k->code, texts[i]) == 0) return k->word;
  }
  return NULL;
}

ib_status sn_normalize_outage(const sn_ctx *ctx, const cJSON *rec,
                              sn_outage_out *out, char *why, size_t whylen) {
  ib_outage *o = &out->o;
  char disp[64];
  ib_status st;
  *o = (ib_outage)IB_OUTAGE_INIT;
  why[0] = '\0';
  o->id = sn_field_text(rec, "sys_id", 0, NULL, 0);
  const char *number = sn_field_text(rec, "number", 0, NULL, 0);
  snprintf(out->where, sizeof out->where, "cmdb_ci_outage %s",
           number ? number : (o->id ? o->id : "without sys_id"));
  if (o->id == NULL) {
    snprintf(why, whylen, "no sys_id");
    return IB_ERR_REJECTED;
  }
  o->service = service_of(ctx, sn_field_text(rec, "cmdb_ci", 1, NULL, 0));
  const char *tval =
      sn_field_text(rec, "type", 0, out->kind_buf, sizeof out->kind_buf);
  const char *tdsp = sn_field_text(rec, "type", 1, disp, sizeof disp);
  o->kind = outage_kind_of(tval, tdsp == disp ? NULL : tdsp);
  o->kind_raw = (tdsp != NULL && tdsp != disp) ? tdsp : tval;
  if (o->kind == NULL) {
    snprintf(why, whylen,
             "outage type \"%s\" is not outage, planned or degradation",
             tval ? tval : "");
    return IB_ERR_REJECTED;
  }
  if ((st = time_field(ctx, rec, "begin", &o->start, why, whylen)) != IB_OK ||
      (st = time_field(ctx, rec, "end", &o->end, why, whylen)) != IB_OK ||
      (st = time_field(ctx, rec, "sys_updated_on", &o->updated_at, why,
                       whylen)) != IB_OK)
    return st;
  if (o->start == IB_TIME_NONE) {
    snprintf(why, whylen, "begin is empty");
    return IB_ERR_REJECTED;
  }
  return IB_OK;
}
