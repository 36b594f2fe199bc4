/*
 * glpi_ticket.c -- GLPI ticket normalisation (see glpi_ticket.h): GLPI's
 * default codes for priority, status and type, the dates GLPI keeps for
 * first response, resolution and closure, pauses from the status changes
 * of the ticket's Log, and GLPI's own TTO/TTR verdicts. Must not talk HTTP
 * or page.
 */
#define _POSIX_C_SOURCE 200809L
#include "glpi_ticket.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GLPI_TIME_FORMAT "%Y-%m-%d %H:%M:%S"
#define GLPI_EMPTY_DATE "0000-00-00"

/* GLPI's own codes (inc/commonitilobject.class.php), used unless the
 * source maps them itself. Priority 6 is "Majeure", above "Très haute". */
static const ib_pair default_priorities[] = {
    {"6", "P1"}, {"5", "P1"}, {"4", "P2"}, {"3", "P3"},
    {"2", "P4"}, {"1", "P5"}, {NULL, NULL}};
static const ib_pair default_statuses[] = {
    {"1", "new"},      {"2", "open"},   {"3", "open"}, {"4", "pending"},
    {"5", "resolved"}, {"6", "closed"}, {NULL, NULL}};
static const ib_pair default_kinds[] = {
    {"1", "incident"}, {"2", "request"}, {NULL, NULL}};

static const char *lookup_default(const ib_pair *pairs, const char *raw) {
  for (; raw && pairs->from; pairs++)
    if (strcmp(pairs->from, raw) == 0) return pairs->to;
  return NULL;
}

static const char *map_value(const glpi_ctx *ctx, int user_set,
                             const char *option, const ib_pair *defaults,
                             const char *raw) {
  if (raw == NULL) return NULL;
  if (user_set) return ctx->host->map(ctx->src, option, raw);
  return lookup_default(defaults, raw);
}

const char *glpi_text(const cJSON *row, const char *name, char *buf,
                      size_t buflen) {
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(row, name);
  if (cJSON_IsNumber(f)) {
    if (buf == NULL || buflen == 0) return NULL;
    snprintf(buf, buflen, "%.0f", f->valuedouble);
    return buf;
  }
  if (!cJSON_IsString(f) || f->valuestring == NULL) return NULL;
  const char *s = f->valuestring;
  if (s[0] == '\0' || strcmp(s, "&nbsp;") == 0 || strcmp(s, " ") == 0)
    return NULL;
  return s;
}

ib_status glpi_time(const glpi_ctx *ctx, const cJSON *row, const char *name,
                    ib_time *out) {
  *out = IB_TIME_NONE;
  const char *text = glpi_text(row, name, NULL, 0);
  if (text == NULL ||
      strncmp(text, GLPI_EMPTY_DATE, strlen(GLPI_EMPTY_DATE)) == 0)
    return IB_OK;
  return ctx->host->parse_time(ctx->src, text, GLPI_TIME_FORMAT, out);
}

static int64_t number_of(const cJSON *row, const char *name, int *ok) {
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(row, name);
  *ok = 1;
  /* Only a double an int64 can hold is cast (a larger one is UB). */
  if (cJSON_IsNumber(f) && f->valuedouble > -9.2e18 && f->valuedouble < 9.2e18)
    return (int64_t)f->valuedouble;
  if (cJSON_IsString(f) && f->valuestring) {
    char *end;
    long long v = strtoll(f->valuestring, &end, 10);
    if (end != f->valuestring && *end == '\0') return (int64_t)v;
  }
  *ok = 0;
  return 0;
}

static int change_cmp(const void *a, const void *b) {
  const glpi_status_change *x = a, *y = b;
  if (x->at != y->at) return x->at < y->at ? -1 : 1;
  return (x->log_id > y->log_id) - (x->log_id < y->log_id);
}

ib_status glpi_status_changes(const glpi_ctx *ctx, const cJSON *log,
                              glpi_status_change **out, size_t *n) {
  *out = NULL;
  *n = 0;
  int size = cJSON_GetArraySize(log);
  if (size <= 0) return IB_OK;
  glpi_status_change *v = calloc((size_t)size, sizeof *v); /* to caller */
  if (v == NULL) return IB_ERR_NOMEM;
  const cJSON *row;
  cJSON_ArrayForEach(row, log) {
    int ok;
    if (number_of(row, "id_search_option", &ok) != GLPI_SO_STATUS || !ok)
      continue;
    glpi_status_change c = {.log_id = number_of(row, "id", &ok)};
    if (glpi_time(ctx, row, "date_mod", &c.at) != IB_OK ||
        c.at == IB_TIME_NONE) {
      ctx->host->log(ctx->src, IB_LOG_WARN,
                     "a Log row of a ticket has no usable date_mod; the "
                     "status change is ignored");
      continue;
    }
    c.old_value = glpi_text(row, "old_value", NULL, 0);
    c.new_value = glpi_text(row, "new_value", NULL, 0);
    v[(*n)++] = c;
  }
  qsort(v, *n, sizeof *v, change_cmp);
  *out = v;
  return IB_OK;
}

/* The status code of a Log value: "4", or a label ending in "(4)". */
static const char *status_code(const char *value, char *buf, size_t len) {
  if (value == NULL) return NULL;
  size_t n = strlen(value);
  if (n > 2 && value[n - 1] == ')') {
    const char *open = strrchr(value, '(');
    if (open && (size_t)(value + n - 1 - open - 1) < len) {
      snprintf(buf, len, "%.*s", (int)(value + n - 1 - open - 1), open + 1);
      return buf;
    }
  }
  return value;
}

static int is_pending(const glpi_ctx *ctx, const char *value) {
  char code[32];
  const char *m =
      map_value(ctx, ctx->user_statuses, "statuses", default_statuses,
                status_code(value, code, sizeof code));
  return m != NULL && strcmp(m, "pending") == 0;
}

/* Waiting periods: from a change into a pending status to the next change
 * out of it; still open when the ticket is pending now. */
static ib_status build_pauses(const glpi_ctx *ctx, glpi_ticket_out *out,
                              const glpi_status_change *c, size_t n) {
  if (n == 0) return IB_OK;
  ib_interval *p = calloc(n + 1, sizeof *p); /* owned by out */
  if (p == NULL) return IB_ERR_NOMEM;
  size_t k = 0;
  ib_time start = IB_TIME_NONE;
  if (is_pending(ctx, c[0].old_value)) start = out->t.created_at;
  for (size_t i = 0; i < n; i++) {
    int to_pending = is_pending(ctx, c[i].new_value);
    if (to_pending && start == IB_TIME_NONE) {
      start = c[i].at;
    } else if (!to_pending && start != IB_TIME_NONE) {
      if (c[i].at > start) p[k++] = (ib_interval){start, c[i].at};
      start = IB_TIME_NONE;
    }
  }
  if (start != IB_TIME_NONE) p[k++] = (ib_interval){start, IB_TIME_NONE};
  out->pauses = p;
  out->t.pauses = p;
  out->t.n_pauses = k;
  return IB_OK;
}

/* GLPI's verdict on a deadline: met when the instant came by then,
 * breached when it came later or has not come and the deadline passed. */
static ib_verdict verdict(ib_time deadline, ib_time instant, ib_time now) {
  if (deadline == IB_TIME_NONE) return IB_VERDICT_UNKNOWN;
  if (instant != IB_TIME_NONE)
    return instant <= deadline ? IB_VERDICT_MET : IB_VERDICT_BREACHED;
  return now > deadline ? IB_VERDICT_BREACHED : IB_VERDICT_UNKNOWN;
}

#define REJECT(...)                     \
  do {                                  \
    snprintf(why, whylen, __VA_ARGS__); \
    return IB_ERR_REJECTED;             \
  } while (0)

ib_status glpi_normalize_ticket(const glpi_ctx *ctx, const cJSON *row,
                                const glpi_status_change *changes,
                                size_t n_changes, glpi_ticket_out *out,
                                char *why, size_t whylen) {
  memset(out, 0, sizeof *out);
  out->t = (ib_ticket)IB_TICKET_INIT;
  ib_ticket *t = &out->t;
  t->id = glpi_text(row, "id", out->id_buf, sizeof out->id_buf);
  snprintf(out->where, sizeof out->where, "ticket %s", t->id ? t->id : "?");
  if (t->id == NULL) REJECT("no id");
  t->key = t->id;
  t->title = glpi_text(row, "name", NULL, 0);

  const char *date = glpi_text(row, "date", NULL, 0);
  if (glpi_time(ctx, row, "date", &t->created_at) != IB_OK)
    REJECT("date \"%s\" is not a GLPI date-time (YYYY-MM-DD HH:MM:SS)", date);
  if (t->created_at == IB_TIME_NONE)
    REJECT(
        "date is %s: GLPI has no opening date for this ticket; set it in "
        "GLPI",
        date ? date : "empty");

  static const char *const dates[] = {"takeintoaccountdate", "solvedate",
                                      "closedate",           "date_mod",
                                      "time_to_own",         "time_to_resolve"};
  ib_time at[6];
  for (size_t i = 0; i < 6; i++)
    if (glpi_time(ctx, row, dates[i], &at[i]) != IB_OK)
      REJECT("%s \"%s\" is not a GLPI date-time (YYYY-MM-DD HH:MM:SS)",
             dates[i], glpi_text(row, dates[i], NULL, 0));
  t->first_response_at = at[0];
  if (t->first_response_at == IB_TIME_NONE) {
    int ok;
    int64_t delay = number_of(row, "takeintoaccount_delay_stat", &ok);
    if (ok && delay > 0) t->first_response_at = t->created_at + delay;
  }
  t->resolved_at = at[1];
  t->closed_at = at[2];
  t->updated_at = at[3];
  t->reported_response_breached =
      verdict(at[4], t->first_response_at, ctx->now);
  t->reported_resolution_breached = verdict(
      at[5], t->resolved_at != IB_TIME_NONE ? t->resolved_at : t->closed_at,
      ctx->now);

  t->priority_raw =
      glpi_text(row, "priority", out->priority_buf, sizeof out->priority_buf);
  t->priority = map_value(ctx, ctx->user_priorities, "priorities",
                          default_priorities, t->priority_raw);
  if (t->priority == NULL)
    REJECT("priority %s is not mapped (add it to priorities)",
           t->priority_raw ? t->priority_raw : "(none)");
  t->status_raw =
      glpi_text(row, "status", out->status_buf, sizeof out->status_buf);
  t->status = map_value(ctx, ctx->user_statuses, "statuses", default_statuses,
                        t->status_raw);
  if (t->status == NULL)
    REJECT("status %s is not mapped (add it to statuses)",
           t->status_raw ? t->status_raw : "(none)");
  t->kind_raw = glpi_text(row, "type", out->type_buf, sizeof out->type_buf);
  t->kind =
      map_value(ctx, ctx->user_kinds, "kinds", default_kinds, t->kind_raw);
  if (t->kind == NULL)
    REJECT("type %s is not mapped (add it to kinds)",
           t->kind_raw ? t->kind_raw : "(none)");

  if (ctx->service_field) {
    const char *svc = glpi_text(row, ctx->service_field, NULL, 0);
    if (svc && strcmp(svc, "0") == 0) svc = NULL; /* not expanded: none */
    if (svc && ctx->user_services) {
      const char *renamed = ctx->host->map(ctx->src, "services", svc);
      if (renamed) svc = renamed;
    }
    t->service = svc;
  }
  return build_pauses(ctx, out, changes, n_changes);
}

void glpi_ticket_out_free(glpi_ticket_out *out) {
  free(out->pauses);
  out->pauses = NULL;
}
