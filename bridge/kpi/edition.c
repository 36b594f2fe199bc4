/*
 * edition.c -- builds an edition document from a KPI result and compares
 * two of them (edition.h). Everything an edition holds is sorted or in
 * configuration order, so that the same store, configuration and as_of
 * always give the same bytes.
 */
#define _POSIX_C_SOURCE 200809L
#include "edition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon_json.h"
#include "kpi_format.h"
#include "sha256.h"
#include "tz.h"

static const char *const day_names[7] = {"mon", "tue", "wed", "thu",
                                         "fri", "sat", "sun"};

/* ---- small builders (each returns NULL on ENOMEM) --------------------- */

static cJSON *time_json(ib_time t) {
  if (t == IB_TIME_NONE) return cJSON_CreateNull();
  char iso[IB_ISO_LEN];
  ib_format_iso8601(t, iso);
  return cJSON_CreateString(iso);
}

static cJSON *text_json(const char *s) {
  return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *seconds_json(int64_t s) {
  return s < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)s);
}

static cJSON *priority_json(int p) {
  if (p < 1 || p > IB_PRIORITY_MAX) return cJSON_CreateNull();
  char w[4];
  snprintf(w, sizeof w, "P%d", p);
  return cJSON_CreateString(w);
}

static cJSON *verdict_json(ib_verdict v) {
  if (v == IB_VERDICT_UNKNOWN) return cJSON_CreateNull();
  return cJSON_CreateBool(v == IB_VERDICT_BREACHED);
}

/* Adds `item` (which may be NULL after a failed create) under `name`;
 * 0 or -1. */
static int add(cJSON *obj, const char *name, cJSON *item) {
  if (item == NULL) return -1;
  if (!cJSON_AddItemToObject(obj, name, item)) {
    cJSON_Delete(item);
    return -1;
  }
  return 0;
}

static int push(cJSON *arr, cJSON *item) {
  if (item == NULL) return -1;
  if (!cJSON_AddItemToArray(arr, item)) {
    cJSON_Delete(item);
    return -1;
  }
  return 0;
}

static cJSON *kinds_json(unsigned mask) {
  cJSON *a = cJSON_CreateArray();
  for (int k = 0; a && k < IB_KIND_COUNT; k++)
    if ((mask & (1u << k)) &&
        push(a, cJSON_CreateString(ib_kind_name((ib_kind)k)))) {
      cJSON_Delete(a);
      return NULL;
    }
  return a;
}

/* ---- definitions -------------------------------------------------------- */

static cJSON *calendar_json(const ib_calendar_cfg *c) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL || add(o, "name", cJSON_CreateString(c->name)) ||
      add(o, "timezone", cJSON_CreateString(c->timezone ? c->timezone : "UTC")))
    goto fail;
  if (!c->has_hours) {
    if (add(o, "hours", cJSON_CreateNull())) goto fail;
  } else {
    cJSON *hours = cJSON_CreateObject();
    if (add(o, "hours", hours)) goto fail;
    for (int d = 0; d < 7; d++) {
      cJSON *ranges = cJSON_CreateArray();
      if (add(hours, day_names[d], ranges)) goto fail;
      for (int r = 0; r < c->week[d].n; r++) {
        const ib_time_range *tr = &c->week[d].ranges[r];
        char text[48];
        snprintf(text, sizeof text, "%02d:%02d-%02d:%02d", tr->start_min / 60,
                 tr->start_min % 60, tr->end_min / 60, tr->end_min % 60);
        if (push(ranges, cJSON_CreateString(text))) goto fail;
      }
    }
  }
  cJSON *hol = cJSON_CreateArray();
  if (add(o, "holidays", hol)) goto fail;
  for (size_t i = 0; i < c->n_holidays; i++) {
    char text[32];
    int32_t ymd = c->holidays[i];
    snprintf(text, sizeof text, "%04d-%02d-%02d", (int)(ymd / 10000),
             (int)(ymd / 100 % 100), (int)(ymd % 100));
    if (push(hol, cJSON_CreateString(text))) goto fail;
  }
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

static cJSON *sla_json(const ib_config *cfg, const ib_sla_cfg *s) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL || add(o, "name", cJSON_CreateString(s->name))) goto fail;
  if (s->n_sources == 0) {
    if (add(o, "sources", cJSON_CreateNull())) goto fail;
  } else {
    cJSON *src = cJSON_CreateArray();
    if (add(o, "sources", src)) goto fail;
    for (size_t i = 0; i < s->n_sources; i++)
      if (push(src, cJSON_CreateString(s->sources[i]))) goto fail;
  }
  if (add(o, "kinds", kinds_json(s->kinds_mask)) ||
      add(o, "calendar", cJSON_CreateString(cfg->calendars[s->calendar].name)))
    goto fail;
  cJSON *targets = cJSON_CreateArray();
  if (add(o, "targets", targets)) goto fail;
  for (int p = 1; p <= IB_PRIORITY_MAX; p++) {
    const ib_target_cfg *t = &s->targets[p];
    if (!t->present) continue;
    cJSON *to = cJSON_CreateObject();
    if (push(targets, to) || add(to, "priority", priority_json(p)) ||
        add(to, "first_response_s", seconds_json(t->first_response_s)) ||
        add(to, "resolution_s", seconds_json(t->resolution_s)))
      goto fail;
  }
  if (!s->penalty.present) {
    if (add(o, "penalty", cJSON_CreateNull())) goto fail;
  } else {
    const ib_penalty_cfg *pn = &s->penalty;
    cJSON *po = cJSON_CreateObject();
    if (add(o, "penalty", po) ||
        add(po, "monthly_fee", cJSON_CreateNumber(pn->monthly_fee)) ||
        add(po, "currency", text_json(pn->currency)) ||
        add(po, "per_response_breach_pct",
            cJSON_CreateNumber(pn->per_response_breach_pct)) ||
        add(po, "per_resolution_breach_pct",
            cJSON_CreateNumber(pn->per_resolution_breach_pct)) ||
        add(po, "cap_pct", cJSON_CreateNumber(pn->cap_pct)))
      goto fail;
  }
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

static cJSON *availability_json(const ib_config *cfg,
                                const ib_availability_cfg *a) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL || add(o, "service", cJSON_CreateString(a->service)) ||
      add(o, "target_pct", cJSON_CreateNumber(a->target_pct)) ||
      add(o, "calendar",
          cJSON_CreateString(cfg->calendars[a->calendar].name)) ||
      add(o, "credit",
          a->has_credit ? cJSON_CreateString("proportional")
                        : cJSON_CreateNull()) ||
      add(o, "monthly_fee",
          a->has_credit ? cJSON_CreateNumber(a->monthly_fee)
                        : cJSON_CreateNull()) ||
      add(o, "currency", text_json(a->currency)) ||
      add(o, "count_degradation", cJSON_CreateBool(a->count_degradation)))
    goto fail;
  if (!a->from_tickets) {
    if (add(o, "from_tickets", cJSON_CreateNull())) goto fail;
  } else {
    cJSON *ft = cJSON_CreateObject(), *pr = cJSON_CreateArray();
    if (add(o, "from_tickets", ft) ||
        add(ft, "kinds", kinds_json(a->ft_kinds_mask)) ||
        add(ft, "priorities", pr))
      goto fail;
    for (int p = 1; p <= IB_PRIORITY_MAX; p++)
      if ((a->ft_priorities_mask & (1u << p)) && push(pr, priority_json(p)))
        goto fail;
  }
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

static cJSON *definitions_json(const ib_config *cfg) {
  cJSON *o = cJSON_CreateObject(), *cals = cJSON_CreateArray(),
        *slas = cJSON_CreateArray(), *av = cJSON_CreateArray();
  if (o == NULL ||
      add(o, "timezone",
          cJSON_CreateString(cfg->timezone ? cfg->timezone : "UTC")) ||
      add(o, "calendars", cals) || add(o, "slas", slas) ||
      add(o, "availability", av)) {
    cJSON_Delete(o);
    return NULL;
  }
  for (size_t i = 0; i < cfg->n_calendars; i++)
    if (push(cals, calendar_json(&cfg->calendars[i]))) goto fail;
  for (size_t i = 0; i < cfg->n_slas; i++)
    if (push(slas, sla_json(cfg, &cfg->slas[i]))) goto fail;
  for (size_t i = 0; i < cfg->n_availability; i++)
    if (push(av, availability_json(cfg, &cfg->availability[i]))) goto fail;
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

/* SHA-256 of a document's canonical text; -1 on ENOMEM. */
static int canonical_digest(const cJSON *doc, char *hex) {
  char *text = ib_json_canonical(doc);
  if (text == NULL) return -1;
  ib_sha256_hex(text, strlen(text), hex);
  free(text);
  return 0;
}

/* ---- input rows --------------------------------------------------------- */

static int cmp_ids(const char *s1, const char *i1, const char *s2,
                   const char *i2) {
  int c = strcmp(s1 ? s1 : "", s2 ? s2 : "");
  return c ? c : strcmp(i1 ? i1 : "", i2 ? i2 : "");
}

static int ticket_order(const void *a, const void *b) {
  const ib_ticket_row *x = *(const ib_ticket_row *const *)a;
  const ib_ticket_row *y = *(const ib_ticket_row *const *)b;
  return cmp_ids(x->source, x->id, y->source, y->id);
}

static int outage_order(const void *a, const void *b) {
  const ib_outage_row *x = *(const ib_outage_row *const *)a;
  const ib_outage_row *y = *(const ib_outage_row *const *)b;
  return cmp_ids(x->source, x->id, y->source, y->id);
}

/* The fields of a ticket that a figure can depend on. */
static cJSON *ticket_input_json(const ib_ticket_row *t) {
  cJSON *o = cJSON_CreateObject(), *pauses = cJSON_CreateArray();
  if (o == NULL || add(o, "source", text_json(t->source)) ||
      add(o, "id", text_json(t->id)) || add(o, "key", text_json(t->key)) ||
      add(o, "kind", cJSON_CreateString(ib_kind_name(t->kind))) ||
      add(o, "priority", priority_json(t->priority)) ||
      add(o, "status", cJSON_CreateString(ib_state_name(t->status))) ||
      add(o, "service", text_json(t->service)) ||
      add(o, "created_at", time_json(t->created_at)) ||
      add(o, "first_response_at", time_json(t->first_response_at)) ||
      add(o, "resolved_at", time_json(t->resolved_at)) ||
      add(o, "closed_at", time_json(t->closed_at)) ||
      add(o, "reported_response_breached",
          verdict_json(t->reported_response_breached)) ||
      add(o, "reported_resolution_breached",
          verdict_json(t->reported_resolution_breached)) ||
      add(o, "pauses", pauses)) {
    cJSON_Delete(o);
    return NULL;
  }
  for (size_t i = 0; i < t->n_pauses; i++) {
    cJSON *iv = cJSON_CreateArray();
    if (push(pauses, iv) || push(iv, time_json(t->pauses[i].start)) ||
        push(iv, time_json(t->pauses[i].end))) {
      cJSON_Delete(o);
      return NULL;
    }
  }
  return o;
}

static cJSON *outage_input_json(const ib_outage_row *r) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL || add(o, "source", text_json(r->source)) ||
      add(o, "id", text_json(r->id)) ||
      add(o, "service", text_json(r->service)) ||
      add(o, "kind", cJSON_CreateString(ib_outage_kind_name(r->kind))) ||
      add(o, "start", time_json(r->start)) ||
      add(o, "end", time_json(r->end))) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* Feeds one canonical line (and its newline) of `line` to the digest,
 * taking ownership of `line`. */
static int feed_line(ib_sha256 *s, cJSON *line) {
  if (line == NULL) return -1;
  char *text = ib_json_canonical(line);
  cJSON_Delete(line);
  if (text == NULL) return -1;
  ib_sha256_update(s, text, strlen(text));
  ib_sha256_update(s, "\n", 1);
  free(text);
  return 0;
}

int ib_edition_inputs_digest(const ib_ticket_set *tickets,
                             const ib_outage_set *outages, char *hex_out) {
  const ib_ticket_row **ts = NULL; /* owned here */
  const ib_outage_row **os = NULL; /* owned here */
  int rc = -1;
  ts = malloc((tickets->n ? tickets->n : 1) * sizeof *ts);
  os = malloc((outages->n ? outages->n : 1) * sizeof *os);
  if (ts == NULL || os == NULL) goto done;
  for (size_t i = 0; i < tickets->n; i++) ts[i] = &tickets->rows[i];
  for (size_t i = 0; i < outages->n; i++) os[i] = &outages->rows[i];
  qsort(ts, tickets->n, sizeof *ts, ticket_order);
  qsort(os, outages->n, sizeof *os, outage_order);
  ib_sha256 s;
  ib_sha256_init(&s);
  for (size_t i = 0; i < tickets->n; i++)
    if (feed_line(&s, ticket_input_json(ts[i]))) goto done;
  for (size_t i = 0; i < outages->n; i++)
    if (feed_line(&s, outage_input_json(os[i]))) goto done;
  ib_sha256_final_hex(&s, hex_out);
  rc = 0;
done:
  free(ts);
  free(os);
  return rc;
}

/* ---- per-ticket results ------------------------------------------------- */

typedef struct result_ref {
  const ib_kpi_ticket *kt;
  const char *sla;
  const char *kpi; /* "first_response" | "resolution" */
  const ib_kpi_measure *m;
} result_ref;

static int result_order(const void *a, const void *b) {
  const result_ref *x = a, *y = b;
  int c = strcmp(x->sla, y->sla);
  if (c) return c;
  c = cmp_ids(x->kt->ticket->source, x->kt->ticket->id, y->kt->ticket->source,
              y->kt->ticket->id);
  return c ? c : strcmp(x->kpi, y->kpi);
}

static cJSON *results_json(const ib_kpi_result *res) {
  result_ref *refs = malloc((2 * res->n_tickets + 1) * sizeof *refs);
  cJSON *arr = cJSON_CreateArray();
  size_t n = 0;
  if (refs == NULL || arr == NULL) goto fail;
  for (size_t i = 0; i < res->n_tickets; i++) {
    const ib_kpi_ticket *kt = &res->tickets[i];
    const char *sla = res->slas[kt->sla].cfg->name;
    if (kt->first_response.verdict != IB_KPI_NONE)
      refs[n++] = (result_ref){kt, sla, "first_response", &kt->first_response};
    if (kt->resolution.verdict != IB_KPI_NONE)
      refs[n++] = (result_ref){kt, sla, "resolution", &kt->resolution};
  }
  qsort(refs, n, sizeof *refs, result_order);
  for (size_t i = 0; i < n; i++) {
    const ib_ticket_row *t = refs[i].kt->ticket;
    const ib_kpi_measure *m = refs[i].m;
    cJSON *o = cJSON_CreateObject();
    if (push(arr, o) || add(o, "source", text_json(t->source)) ||
        add(o, "id", text_json(t->id)) || add(o, "key", text_json(t->key)) ||
        add(o, "sla", cJSON_CreateString(refs[i].sla)) ||
        add(o, "kpi", cJSON_CreateString(refs[i].kpi)) ||
        add(o, "priority", priority_json(refs[i].kt->priority)) ||
        add(o, "target_s", seconds_json(m->target_s)) ||
        add(o, "measured_s", seconds_json(m->measured_s)) ||
        add(o, "verdict", cJSON_CreateString(ib_kpi_verdict_name(m->verdict))))
      goto fail;
  }
  free(refs);
  return arr;
fail:
  free(refs);
  cJSON_Delete(arr);
  return NULL;
}

cJSON *ib_edition_build(const ib_config *cfg, const ib_kpi_result *res,
                        const ib_ticket_set *tickets,
                        const ib_outage_set *outages,
                        const ib_edition_meta *meta, char *err, size_t errlen) {
  char defs_hex[IB_SHA256_HEX_LEN], inputs_hex[IB_SHA256_HEX_LEN];
  cJSON *doc = cJSON_CreateObject(), *period = cJSON_CreateObject(),
        *defs = definitions_json(cfg), *inputs = cJSON_CreateObject();
  if (doc == NULL || period == NULL || defs == NULL || inputs == NULL) {
    cJSON_Delete(period);
    cJSON_Delete(defs);
    cJSON_Delete(inputs);
    goto fail;
  }
  if (canonical_digest(defs, defs_hex) ||
      ib_edition_inputs_digest(tickets, outages, inputs_hex)) {
    cJSON_Delete(period);
    cJSON_Delete(defs);
    cJSON_Delete(inputs);
    goto fail;
  }
  if (add(doc, "schema", cJSON_CreateString(IB_EDITION_SCHEMA)) ||
      add(doc, "month", cJSON_CreateString(meta->month)) ||
      add(doc, "period", period) || add(doc, "definitions", defs) ||
      add(doc, "inputs", inputs) || add(period, "from", time_json(res->from)) ||
      add(period, "to", time_json(res->to)) ||
      add(period, "as_of", time_json(res->as_of)) ||
      add(doc, "closed_at", time_json(meta->closed_at)) ||
      add(doc, "engine", cJSON_CreateString(meta->engine)) ||
      add(doc, "prev_hash", text_json(meta->prev_hash)) ||
      add(doc, "replaces", text_json(meta->replaces)) ||
      add(doc, "reason", text_json(meta->reason)) ||
      add(doc, "definitions_sha256", cJSON_CreateString(defs_hex)) ||
      add(inputs, "tickets", cJSON_CreateNumber((double)tickets->n)) ||
      add(inputs, "outages", cJSON_CreateNumber((double)outages->n)) ||
      add(inputs, "sha256", cJSON_CreateString(inputs_hex)) ||
      add(doc, "kpi", ib_kpi_to_json(res, 0)) ||
      add(doc, "tickets", results_json(res)))
    goto fail;
  return doc;
fail:
  cJSON_Delete(doc);
  snprintf(err, errlen, "out of memory building the edition of %s",
           meta->month);
  return NULL;
}

/* ---- comparison --------------------------------------------------------- */

typedef struct leaf {
  char *path;         /* owned */
  const cJSON *value; /* borrowed from the document */
  size_t seq;         /* document order, for sort_unique */
} leaf;

typedef struct leaves {
  leaf *v; /* owned, with each path */
  size_t n, cap;
  int failed;
} leaves;

static void leaves_free(leaves *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i].path);
  free(l->v);
}

static void leaf_add(leaves *l, const char *path, const cJSON *v) {
  if (l->failed) return;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    leaf *nv = realloc(l->v, cap * sizeof *nv);
    if (nv == NULL) {
      l->failed = 1;
      return;
    }
    l->v = nv;
    l->cap = cap;
  }
  char *p = strdup(path);
  if (p == NULL) {
    l->failed = 1;
    return;
  }
  l->v[l->n++] = (leaf){p, v, 0};
}

/* An array element is named by its "name", "service" or "priority"
 * member when it has one (slas[support].by_priority[P1]...), else by its
 * index, so that a path means the same figure in both documents. */
static const char *element_name(const cJSON *e) {
  static const char *const keys[] = {"name", "service", "priority"};
  for (size_t k = 0; k < 3; k++) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, keys[k]);
    if (cJSON_IsString(m)) return m->valuestring;
  }
  return NULL;
}

static void flatten(leaves *l, const cJSON *v, char *path, size_t len,
                    size_t cap, int depth) {
  if (depth > 32 || len >= cap - 1) {
    l->failed = 1;
    return;
  }
  if (cJSON_IsObject(v)) {
    for (const cJSON *c = v->child; c; c = c->next) {
      int w =
          snprintf(path + len, cap - len, "%s%s", len ? "." : "", c->string);
      if (w < 0 || (size_t)w >= cap - len) {
        l->failed = 1;
        return;
      }
      flatten(l, c, path, len + (size_t)w, cap, depth + 1);
      path[len] = '\0';
    }
  } else if (cJSON_IsArray(v)) {
    size_t i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
      const char *name = element_name(c);
      int w = name ? snprintf(path + len, cap - len, "[%s]", name)
                   : snprintf(path + len, cap - len, "[%zu]", i);
      if (w < 0 || (size_t)w >= cap - len) {
        l->failed = 1;
        return;
      }
      flatten(l, c, path, len + (size_t)w, cap, depth + 1);
      path[len] = '\0';
    }
  } else {
    leaf_add(l, path, v);
  }
}

static int leaf_order_seq(const void *x, const void *y) {
  const leaf *a = x, *b = y;
  int c = strcmp(a->path, b->path);
  return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* After sort_unique paths are unique: the path alone orders them. */
static int leaf_order(const void *x, const void *y) {
  return strcmp(((const leaf *)x)->path, ((const leaf *)y)->path);
}

/* Sorts the leaves by path and makes every path unique: a document with
 * two members of one name, or two elements of one name (an edited
 * edition), gets "#2", "#3"... on the later ones, in document order. */
static int sort_unique(leaves *l) {
  if (l->n < 2) return 0; /* (and qsort must not see a NULL array) */
  for (size_t i = 0; i < l->n; i++) l->v[i].seq = i;
  qsort(l->v, l->n, sizeof *l->v, leaf_order_seq);
  for (size_t i = 1; i < l->n; i++) {
    size_t first = i - 1;
    while (i < l->n && strcmp(l->v[i].path, l->v[first].path) == 0) {
      size_t len = strlen(l->v[i].path) + 24;
      char *p = malloc(len);
      if (p == NULL) return -1;
      snprintf(p, len, "%s#%zu", l->v[i].path, i - first + 1);
      free(l->v[i].path);
      l->v[i].path = p;
      i++;
    }
  }
  qsort(l->v, l->n, sizeof *l->v, leaf_order);
  return 0;
}

/* Equal as the canonical texts of the two values (NULL reads as null). */
static int same_value(const cJSON *a, const cJSON *b) {
  if (a == NULL || b == NULL) return a == b;
  char *x = ib_json_canonical(a), *y = ib_json_canonical(b);
  int same = x && y && strcmp(x, y) == 0;
  free(x);
  free(y);
  return same;
}

static cJSON *dup_or_null(const cJSON *v) {
  return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

static int add_figure(cJSON *figures, const char *path, const cJSON *old,
                      const cJSON *now) {
  cJSON *f = cJSON_CreateObject();
  return push(figures, f) || add(f, "path", cJSON_CreateString(path)) ||
                 add(f, "old", dup_or_null(old)) ||
                 add(f, "new", dup_or_null(now))
             ? -1
             : 0;
}

/* Both documents flattened into sorted, unique paths and merged: every
 * path whose value differs, or that only one side has, is a figure. */
static int compare_figures(const cJSON *old_kpi, const cJSON *new_kpi,
                           cJSON *figures) {
  leaves a = {0}, b = {0};
  char path[1024] = "";
  int rc = -1;
  flatten(&a, old_kpi, path, 0, sizeof path, 0);
  path[0] = '\0';
  flatten(&b, new_kpi, path, 0, sizeof path, 0);
  if (a.failed || b.failed || sort_unique(&a) || sort_unique(&b)) goto done;
  size_t i = 0, j = 0;
  while (i < a.n || j < b.n) {
    int c = i == a.n ? 1 : j == b.n ? -1 : strcmp(a.v[i].path, b.v[j].path);
    const leaf *x = c <= 0 ? &a.v[i] : NULL, *y = c >= 0 ? &b.v[j] : NULL;
    if (!same_value(x ? x->value : NULL, y ? y->value : NULL) &&
        add_figure(figures, x ? x->path : y->path, x ? x->value : NULL,
                   y ? y->value : NULL))
      goto done;
    i += c <= 0;
    j += c >= 0;
  }
  rc = 0;
done:
  leaves_free(&a);
  leaves_free(&b);
  return rc;
}

static const char *str_member(const cJSON *o, const char *name) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(m) ? m->valuestring : "";
}

/* (sla, source, id, kpi) order, the order results_json writes. */
static int row_cmp(const cJSON *x, const cJSON *y) {
  static const char *const keys[] = {"sla", "source", "id", "kpi"};
  for (size_t k = 0; k < 4; k++) {
    int c = strcmp(str_member(x, keys[k]), str_member(y, keys[k]));
    if (c) return c;
  }
  return 0;
}

static int row_ptr_cmp(const void *a, const void *b) {
  return row_cmp(*(const cJSON *const *)a, *(const cJSON *const *)b);
}

static const char *const result_fields[] = {"priority", "target_s",
                                            "measured_s", "verdict"};

static cJSON *result_only(const cJSON *row) {
  if (row == NULL) return cJSON_CreateNull();
  cJSON *o = cJSON_CreateObject();
  for (size_t k = 0; o && k < 4; k++)
    if (add(o, result_fields[k],
            dup_or_null(
                cJSON_GetObjectItemCaseSensitive(row, result_fields[k])))) {
      cJSON_Delete(o);
      return NULL;
    }
  return o;
}

static int same_result(const cJSON *x, const cJSON *y) {
  for (size_t k = 0; k < 4; k++)
    if (!same_value(cJSON_GetObjectItemCaseSensitive(x, result_fields[k]),
                    cJSON_GetObjectItemCaseSensitive(y, result_fields[k])))
      return 0;
  return 1;
}

static int add_ticket(cJSON *tickets, const cJSON *old, const cJSON *now) {
  const cJSON *any = old ? old : now;
  cJSON *t = cJSON_CreateObject();
  if (push(tickets, t)) return -1;
  static const char *const ids[] = {"source", "id", "key", "sla", "kpi"};
  for (size_t k = 0; k < 5; k++)
    if (add(t, ids[k],
            dup_or_null(cJSON_GetObjectItemCaseSensitive(any, ids[k]))))
      return -1;
  if (add(t, "old", result_only(old)) || add(t, "new", result_only(now)) ||
      add(t, "changes", cJSON_CreateArray()))
    return -1;
  return 0;
}

/* Sorted copy of an array's element pointers; NULL on ENOMEM. */
static const cJSON **sorted_rows(const cJSON *arr, size_t *n) {
  *n = (size_t)cJSON_GetArraySize(arr);
  const cJSON **v = malloc((*n ? *n : 1) * sizeof *v);
  if (v == NULL) return NULL;
  size_t i = 0;
  for (const cJSON *c = arr ? arr->child : NULL; c && i < *n; c = c->next)
    v[i++] = c;
  *n = i;
  qsort(v, i, sizeof *v, row_ptr_cmp);
  return v;
}

static int compare_tickets(const cJSON *old_rows, const cJSON *new_rows,
                           cJSON *tickets) {
  size_t na, nb;
  const cJSON **a = sorted_rows(old_rows, &na),
              **b = sorted_rows(new_rows, &nb);
  int rc = -1;
  if (a == NULL || b == NULL) goto done;
  size_t i = 0, j = 0;
  while (i < na || j < nb) {
    int c = i == na ? 1 : j == nb ? -1 : row_cmp(a[i], b[j]);
    if (c < 0) {
      if (add_ticket(tickets, a[i], NULL)) goto done;
      i++;
    } else if (c > 0) {
      if (add_ticket(tickets, NULL, b[j])) goto done;
      j++;
    } else {
      if (!same_result(a[i], b[j]) && add_ticket(tickets, a[i], b[j]))
        goto done;
      i++;
      j++;
    }
  }
  rc = 0;
done:
  free(a);
  free(b);
  return rc;
}

/* The credits of a kpi document: name -> (currency, credit). */
static int add_credit(cJSON *out, const char *name, const cJSON *currency,
                      const cJSON *old, const cJSON *now) {
  cJSON *c = cJSON_CreateObject();
  return push(out, c) || add(c, "sla_or_service", cJSON_CreateString(name)) ||
                 add(c, "currency", dup_or_null(currency)) ||
                 add(c, "old", dup_or_null(old)) ||
                 add(c, "new", dup_or_null(now))
             ? -1
             : 0;
}

typedef struct credit_ref {
  const char *name;
  const cJSON *currency, *credit;
  size_t occurrence; /* earlier refs of the same name (an edited edition) */
} credit_ref;

static int same_credit(const credit_ref *x, const credit_ref *y) {
  return strcmp(x->name, y->name) == 0 && x->occurrence == y->occurrence;
}

static size_t credits_of(const cJSON *kpi, credit_ref *out, size_t max) {
  size_t n = 0;
  const cJSON *s;
  cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(kpi, "slas")) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(s, "penalty");
    if (!cJSON_IsObject(p) || n == max) continue;
    out[n++] = (credit_ref){str_member(s, "name"),
                            cJSON_GetObjectItemCaseSensitive(p, "currency"),
                            cJSON_GetObjectItemCaseSensitive(p, "credit"), 0};
  }
  cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(kpi, "availability")) {
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(s, "credit");
    if (cr == NULL || cJSON_IsNull(cr) || n == max) continue;
    out[n++] =
        (credit_ref){str_member(s, "service"),
                     cJSON_GetObjectItemCaseSensitive(s, "currency"), cr, 0};
  }
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < i; k++)
      out[i].occurrence += strcmp(out[k].name, out[i].name) == 0;
  return n;
}

static int compare_credits(const cJSON *old_kpi, const cJSON *new_kpi,
                           cJSON *out) {
  enum { MAX_CREDITS = 256 };
  credit_ref *a = malloc(MAX_CREDITS * sizeof *a),
             *b = malloc(MAX_CREDITS * sizeof *b);
  int rc = -1;
  if (a == NULL || b == NULL) goto done;
  size_t na = credits_of(old_kpi, a, MAX_CREDITS),
         nb = credits_of(new_kpi, b, MAX_CREDITS);
  for (size_t i = 0; i < na; i++) {
    const credit_ref *m = NULL;
    for (size_t j = 0; j < nb && m == NULL; j++)
      if (same_credit(&a[i], &b[j])) m = &b[j];
    if (!same_value(a[i].credit, m ? m->credit : NULL) &&
        add_credit(out, a[i].name, a[i].currency, a[i].credit,
                   m ? m->credit : NULL))
      goto done;
  }
  for (size_t j = 0; j < nb; j++) {
    int found = 0;
    for (size_t i = 0; i < na && !found; i++) found = same_credit(&a[i], &b[j]);
    if (!found && add_credit(out, b[j].name, b[j].currency, NULL, b[j].credit))
      goto done;
  }
  rc = 0;
done:
  free(a);
  free(b);
  return rc;
}

cJSON *ib_edition_compare(const cJSON *frozen, const cJSON *now,
                          const char *hash, int chain_ok, char *err,
                          size_t errlen) {
  const cJSON *fk = cJSON_GetObjectItemCaseSensitive(frozen, "kpi");
  const cJSON *ft = cJSON_GetObjectItemCaseSensitive(frozen, "tickets");
  const cJSON *fp = cJSON_GetObjectItemCaseSensitive(frozen, "period");
  if (!cJSON_IsObject(fk) || !cJSON_IsArray(ft) || !cJSON_IsObject(fp)) {
    snprintf(err, errlen,
             "edition %.12s is not an edition document (no kpi, tickets or "
             "period)",
             hash);
    return NULL;
  }
  cJSON *doc = cJSON_CreateObject(), *ed = cJSON_CreateObject(),
        *figures = cJSON_CreateArray(), *tickets = cJSON_CreateArray(),
        *credits = cJSON_CreateArray();
  int ok = doc && ed && figures && tickets && credits;
  if (!ok) {
    cJSON_Delete(ed);
    cJSON_Delete(figures);
    cJSON_Delete(tickets);
    cJSON_Delete(credits);
    goto fail;
  }
  cJSON *unchanged = cJSON_CreateBool(1);
  if (add(doc, "schema", cJSON_CreateString("itsm-bridge.verify/1")) ||
      add(doc, "month",
          dup_or_null(cJSON_GetObjectItemCaseSensitive(frozen, "month"))) ||
      add(doc, "edition", ed) || add(ed, "hash", cJSON_CreateString(hash)) ||
      add(ed, "closed_at",
          dup_or_null(cJSON_GetObjectItemCaseSensitive(frozen, "closed_at"))) ||
      add(ed, "as_of",
          dup_or_null(cJSON_GetObjectItemCaseSensitive(fp, "as_of"))) ||
      add(doc, "chain_ok", cJSON_CreateBool(chain_ok)) ||
      add(doc, "unchanged", unchanged) || add(doc, "figures", figures) ||
      add(doc, "tickets", tickets) || add(doc, "credit_delta", credits) ||
      compare_figures(fk, cJSON_GetObjectItemCaseSensitive(now, "kpi"),
                      figures) ||
      compare_tickets(ft, cJSON_GetObjectItemCaseSensitive(now, "tickets"),
                      tickets) ||
      compare_credits(fk, cJSON_GetObjectItemCaseSensitive(now, "kpi"),
                      credits))
    goto fail;
  if (cJSON_GetArraySize(figures) > 0 || cJSON_GetArraySize(tickets) > 0)
    unchanged->type = cJSON_False; /* a bool is its type in cJSON */
  return doc;
fail:
  cJSON_Delete(doc);
  snprintf(err, errlen, "out of memory comparing edition %.12s", hash);
  return NULL;
}
