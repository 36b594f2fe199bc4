/*
 * store_rows.c -- what both store backends share to build the rows of a bulk
 * load: the (source, id) index that attaches pauses to their tickets while
 * both tables are read in storage order, and the pause lists; and for the
 * history, the record digests, the field-by-field comparison of a stored
 * and an incoming record, and the change lists; for late changes, the
 * category of each change and their lists; what a put does with a record
 * (new, changed, unchanged), and a set of (source, id) keys. Must not know
 * SQL, a backend or the store's front door (store.c).
 */
#define _POSIX_C_SOURCE 200809L
#include "store_rows.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h" /* IB_ISO_LEN only: see utc_text */

static uint64_t hash_key(const char *source, const char *id) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)source; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  h = (h ^ 0xff) * 1099511628211ull;
  for (const unsigned char *p = (const unsigned char *)id; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return h;
}

int ib_row_index_build(ib_row_index *ix, const ib_ticket_set *set,
                       size_t first) {
  size_t cap = 16;
  while (cap < 2 * (set->n - first) + 1) cap *= 2;
  ix->slots = calloc(cap, sizeof *ix->slots);
  if (ix->slots == NULL) return -1;
  ix->mask = cap - 1;
  for (size_t i = first; i < set->n; i++) {
    size_t at = hash_key(set->rows[i].source, set->rows[i].id) & ix->mask;
    while (ix->slots[at]) at = (at + 1) & ix->mask;
    ix->slots[at] = i + 1;
  }
  return 0;
}

ib_ticket_row *ib_row_index_find(const ib_row_index *ix, ib_ticket_set *set,
                                 const char *source, const char *id) {
  if (ix->slots == NULL || source == NULL || id == NULL) return NULL;
  size_t at = hash_key(source, id) & ix->mask;
  for (; ix->slots[at]; at = (at + 1) & ix->mask) {
    ib_ticket_row *r = &set->rows[ix->slots[at] - 1];
    if (strcmp(r->id, id) == 0 && strcmp(r->source, source) == 0) return r;
  }
  return NULL;
}

void ib_row_index_free(ib_row_index *ix) {
  free(ix->slots);
  ix->slots = NULL;
}

int ib_row_add_pause(ib_ticket_row *r, ib_time start, ib_time end) {
  ib_interval *pv = realloc(r->pauses, (r->n_pauses + 1) * sizeof *pv);
  if (pv == NULL) return -1;
  r->pauses = pv;
  pv[r->n_pauses].start = start;
  pv[r->n_pauses].end = end;
  r->n_pauses++;
  return 0;
}

static int cmp_interval(const void *a, const void *b) {
  ib_time x = ((const ib_interval *)a)->start,
          y = ((const ib_interval *)b)->start;
  return (x > y) - (x < y);
}

void ib_rows_sort_pauses(ib_ticket_set *set, size_t first) {
  for (size_t i = first; i < set->n; i++)
    if (set->rows[i].n_pauses > 1)
      qsort(set->rows[i].pauses, set->rows[i].n_pauses,
            sizeof *set->rows[i].pauses, cmp_interval);
}

/* ---- history ---- */

#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME 1099511628211ull

static uint64_t fnv_bytes(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * FNV_PRIME;
  return h;
}

/* A tag byte tells NULL from "", and the length ends the text, so that
 * ("ab", "c") and ("a", "bc") differ. */
static uint64_t fnv_text(uint64_t h, const char *s) {
  if (s == NULL) return fnv_bytes(h, "\0", 1);
  size_t n = strlen(s);
  uint64_t len = n;
  h = fnv_bytes(h, "\1", 1);
  h = fnv_bytes(h, s, n);
  return fnv_bytes(h, &len, sizeof len);
}

static uint64_t fnv_int(uint64_t h, int64_t v) {
  return fnv_bytes(h, &v, sizeof v);
}

int64_t ib_ticket_digest(const ib_ticket_row *t) {
  uint64_t h = FNV_OFFSET;
  h = fnv_text(h, t->key);
  h = fnv_text(h, t->title);
  h = fnv_text(h, t->service);
  h = fnv_text(h, t->group);
  h = fnv_text(h, t->kind_raw);
  h = fnv_text(h, t->priority_raw);
  h = fnv_text(h, t->status_raw);
  h = fnv_int(h, t->kind);
  h = fnv_int(h, t->priority);
  h = fnv_int(h, t->status);
  h = fnv_int(h, t->created_at);
  h = fnv_int(h, t->first_response_at);
  h = fnv_int(h, t->resolved_at);
  h = fnv_int(h, t->closed_at);
  h = fnv_int(h, t->reported_response_breached);
  h = fnv_int(h, t->reported_resolution_breached);
  h = fnv_int(h, (int64_t)t->n_pauses);
  for (size_t i = 0; i < t->n_pauses; i++) {
    h = fnv_int(h, t->pauses[i].start);
    h = fnv_int(h, t->pauses[i].end);
  }
  return (int64_t)h;
}

int64_t ib_outage_digest(const ib_outage_row *o) {
  uint64_t h = FNV_OFFSET;
  h = fnv_text(h, o->service);
  h = fnv_text(h, o->kind_raw);
  h = fnv_int(h, o->kind);
  h = fnv_int(h, o->start);
  h = fnv_int(h, o->end);
  return (int64_t)h;
}

/* ib_format_iso8601's text for instant t, computed here: the SQLite
 * store's writer thread compares records through these helpers, and
 * nothing of tz.c may run on a second thread (it keeps zone state). Pure:
 * no state, no locale. */
static void utc_text(ib_time t, char buf[IB_ISO_LEN]) {
  int64_t days = t / 86400, rem = t % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  /* days since 1970-01-01 -> civil date (proleptic Gregorian), counted
   * in 400-year eras starting on a 1 March */
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = (int)(doy - (153 * mp + 2) / 5 + 1);
  int m = (int)(mp < 10 ? mp + 3 : mp - 9);
  int y = (int)(yoe + era * 400 + (m <= 2));
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02dZ", y % 10000, m, d,
           (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
  memcpy(buf, tmp, IB_ISO_LEN - 1);
  buf[IB_ISO_LEN - 1] = '\0';
}

const char *ib_change_time_text(ib_time t, char *buf) {
  if (t == IB_TIME_NONE) return NULL;
  utc_text(t, buf);
  return buf;
}

int ib_change_list_add(ib_change_list *list, const char *kind,
                       const char *field, const char *old_value,
                       const char *new_value, int64_t run_id,
                       ib_time detected_at) {
  if (list->n == list->cap) {
    size_t cap = list->cap ? list->cap * 2 : 16;
    ib_change *items = realloc(list->items, cap * sizeof *items);
    if (items == NULL) return -1;
    list->items = items;
    list->cap = cap;
  }
  ib_change *c = &list->items[list->n];
  memset(c, 0, sizeof *c);
  c->run_id = run_id;
  c->detected_at = detected_at;
  const char *src[4] = {kind, field, old_value, new_value};
  char **dst[4] = {&c->kind, &c->field, &c->old_value, &c->new_value};
  for (int i = 0; i < 4; i++)
    if (src[i] && (*dst[i] = strdup(src[i])) == NULL) {
      for (int j = 0; j < i; j++) free(*dst[j]);
      return -1;
    }
  list->n++;
  return 0;
}

void ib_change_list_free(ib_change_list *list) {
  for (size_t i = 0; i < list->n; i++) {
    free(list->items[i].kind);
    free(list->items[i].field);
    free(list->items[i].old_value);
    free(list->items[i].new_value);
  }
  free(list->items);
  memset(list, 0, sizeof *list);
}

static int same_text(const char *a, const char *b) {
  if (a == NULL || b == NULL) return a == b;
  return strcmp(a, b) == 0;
}

/* Adds a change when the texts differ. */
static int diff_text(ib_change_list *out, const char *kind, const char *field,
                     const char *a, const char *b) {
  if (same_text(a, b)) return 0;
  return ib_change_list_add(out, kind, field, a, b, 0, IB_TIME_NONE);
}

static int diff_time(ib_change_list *out, const char *kind, const char *field,
                     ib_time a, ib_time b) {
  char x[IB_ISO_LEN], y[IB_ISO_LEN];
  if (a == b) return 0;
  return ib_change_list_add(out, kind, field, ib_change_time_text(a, x),
                            ib_change_time_text(b, y), 0, IB_TIME_NONE);
}

static const char *priority_text(int p, char buf[16]) {
  if (p <= 0) return NULL;
  snprintf(buf, 16, "P%d", p);
  return buf;
}

static const char *verdict_text(ib_verdict v) {
  if (v == IB_VERDICT_UNKNOWN) return NULL;
  return v == IB_VERDICT_BREACHED ? "breached" : "met";
}

/* "START/END;START/" (a running pause has no end), NULL for none. Owned by
 * the caller: free. *oom set on ENOMEM. */
static char *pauses_text(const ib_ticket_row *t, int *oom) {
  if (t->n_pauses == 0) return NULL;
  size_t cap = t->n_pauses * (2 * IB_ISO_LEN + 2) + 1, len = 0;
  char *buf = malloc(cap);
  if (buf == NULL) {
    *oom = 1;
    return NULL;
  }
  buf[0] = '\0';
  for (size_t i = 0; i < t->n_pauses; i++) {
    char a[IB_ISO_LEN], b[IB_ISO_LEN] = "";
    utc_text(t->pauses[i].start, a);
    if (t->pauses[i].end != IB_TIME_NONE) utc_text(t->pauses[i].end, b);
    len +=
        (size_t)snprintf(buf + len, cap - len, "%s%s/%s", i ? ";" : "", a, b);
  }
  return buf;
}

int ib_ticket_diff(const ib_ticket_row *old, const ib_ticket_row *now,
                   ib_change_list *out) {
  static const char *const k = "ticket";
  char pa[16], pb[16];
  if (diff_text(out, k, "key", old->key, now->key) ||
      diff_text(out, k, "title", old->title, now->title) ||
      diff_text(out, k, "kind", ib_kind_name(old->kind),
                ib_kind_name(now->kind)) ||
      diff_text(out, k, "priority", priority_text(old->priority, pa),
                priority_text(now->priority, pb)) ||
      diff_text(out, k, "status", ib_state_name(old->status),
                ib_state_name(now->status)) ||
      diff_text(out, k, "service", old->service, now->service) ||
      diff_text(out, k, "group", old->group, now->group) ||
      diff_time(out, k, "created_at", old->created_at, now->created_at) ||
      diff_time(out, k, "first_response_at", old->first_response_at,
                now->first_response_at) ||
      diff_time(out, k, "resolved_at", old->resolved_at, now->resolved_at) ||
      diff_time(out, k, "closed_at", old->closed_at, now->closed_at) ||
      diff_text(out, k, "reported_response_breached",
                verdict_text(old->reported_response_breached),
                verdict_text(now->reported_response_breached)) ||
      diff_text(out, k, "reported_resolution_breached",
                verdict_text(old->reported_resolution_breached),
                verdict_text(now->reported_resolution_breached)))
    return -1;
  int oom = 0;
  char *a = pauses_text(old, &oom), *b = pauses_text(now, &oom); /* owned */
  int rc = oom ? -1 : diff_text(out, k, "pauses", a, b);
  free(a);
  free(b);
  if (rc) return -1;
  return diff_time(out, k, "deleted_at", old->deleted_at, now->deleted_at);
}

int ib_outage_diff(const ib_outage_row *old, const ib_outage_row *now,
                   ib_change_list *out) {
  static const char *const k = "outage";
  if (diff_text(out, k, "service", old->service, now->service) ||
      diff_text(out, k, "kind", ib_outage_kind_name(old->kind),
                ib_outage_kind_name(now->kind)) ||
      diff_time(out, k, "start", old->start, now->start) ||
      diff_time(out, k, "end", old->end, now->end) ||
      diff_time(out, k, "deleted_at", old->deleted_at, now->deleted_at))
    return -1;
  return 0;
}

/* ---- late changes -------------------------------------------------------- */

static const char *const late_names[IB_LATE_COUNT] = {
    [IB_LATE_CREATED_BACKDATED] = "created_backdated",
    [IB_LATE_CREATED_MOVED] = "created_moved",
    [IB_LATE_PRIORITY_CHANGED] = "priority_changed",
    [IB_LATE_KIND_CHANGED] = "kind_changed",
    [IB_LATE_RESPONSE_MOVED] = "response_moved",
    [IB_LATE_RESOLUTION_MOVED] = "resolution_moved",
    [IB_LATE_PAUSES_ADDED] = "pauses_added",
    [IB_LATE_PAUSES_CHANGED] = "pauses_changed",
    [IB_LATE_CANCELLED] = "cancelled",
    [IB_LATE_UNCANCELLED] = "uncancelled",
    [IB_LATE_DELETED] = "deleted",
    [IB_LATE_UNDELETED] = "undeleted",
    [IB_LATE_OTHER] = "other",
    [IB_LATE_OUTAGE_CHANGED] = "outage_changed",
    [IB_LATE_OUTAGE_DELETED] = "outage_deleted",
};

const char *ib_late_category_name(ib_late_category c) {
  return (unsigned)c < IB_LATE_COUNT ? late_names[c] : "other";
}

/* Intervals in a pauses_text() value: "A/B;C/" holds two, NULL none. */
static size_t pause_count(const char *text) {
  if (text == NULL || text[0] == '\0') return 0;
  size_t n = 1;
  for (const char *p = text; *p; p++) n += *p == ';';
  return n;
}

int ib_late_category_of(const char *kind, const char *field,
                        const char *old_value, const char *new_value) {
  static const char *const cancelled = "cancelled";
  if (kind == NULL || field == NULL) return -1;
  if (strcmp(kind, "outage") == 0)
    return strcmp(field, "deleted_at") == 0 && new_value != NULL
               ? IB_LATE_OUTAGE_DELETED
               : IB_LATE_OUTAGE_CHANGED;
  if (strcmp(field, "created_at") == 0)
    /* ISO-8601 UTC texts of one width order as the instants do */
    return old_value && new_value && strcmp(new_value, old_value) < 0
               ? IB_LATE_CREATED_BACKDATED
               : IB_LATE_CREATED_MOVED;
  if (strcmp(field, "priority") == 0) return IB_LATE_PRIORITY_CHANGED;
  if (strcmp(field, "kind") == 0) return IB_LATE_KIND_CHANGED;
  if (strcmp(field, "first_response_at") == 0) return IB_LATE_RESPONSE_MOVED;
  if (strcmp(field, "resolved_at") == 0) return IB_LATE_RESOLUTION_MOVED;
  if (strcmp(field, "pauses") == 0)
    return pause_count(new_value) > pause_count(old_value)
               ? IB_LATE_PAUSES_ADDED
               : IB_LATE_PAUSES_CHANGED;
  if (strcmp(field, "status") == 0) {
    if (same_text(new_value, cancelled)) return IB_LATE_CANCELLED;
    if (same_text(old_value, cancelled)) return IB_LATE_UNCANCELLED;
    return -1; /* resolved_at carries what a status change does to a KPI */
  }
  if (strcmp(field, "deleted_at") == 0)
    return new_value ? IB_LATE_DELETED : IB_LATE_UNDELETED;
  if (strcmp(field, "service") == 0 ||
      strcmp(field, "reported_response_breached") == 0 ||
      strcmp(field, "reported_resolution_breached") == 0)
    return IB_LATE_OTHER;
  return -1;
}

int ib_late_change_list_add(ib_late_change_list *list,
                            const ib_late_change *c) {
  if (list->n == list->cap) {
    size_t cap = list->cap ? list->cap * 2 : 16;
    ib_late_change *items = realloc(list->items, cap * sizeof *items);
    if (items == NULL) return -1;
    list->items = items;
    list->cap = cap;
  }
  ib_late_change *d = &list->items[list->n];
  *d = *c;
  const char *src[7] = {c->source, c->id,        c->key,      c->kind,
                        c->field,  c->old_value, c->new_value};
  char **dst[7] = {&d->source, &d->id,        &d->key,      &d->kind,
                   &d->field,  &d->old_value, &d->new_value};
  for (int i = 0; i < 7; i++) *dst[i] = NULL;
  for (int i = 0; i < 7; i++)
    if (src[i] && (*dst[i] = strdup(src[i])) == NULL) {
      for (int j = 0; j < i; j++) free(*dst[j]);
      return -1;
    }
  list->n++;
  return 0;
}

void ib_late_change_list_free(ib_late_change_list *list) {
  for (size_t i = 0; i < list->n; i++) {
    ib_late_change *c = &list->items[i];
    free(c->source);
    free(c->id);
    free(c->key);
    free(c->kind);
    free(c->field);
    free(c->old_value);
    free(c->new_value);
  }
  free(list->items);
  memset(list, 0, sizeof *list);
}

/* ---- editions ---------------------------------------------------------- */

static void edition_free_strings(ib_edition_rec *e) {
  free(e->month);
  free(e->hash);
  free(e->prev_hash);
  free(e->replaces);
  free(e->reason);
  free(e->body);
}

static char *dup_or_null(const char *s, int *oom) {
  if (s == NULL) return NULL;
  char *d = strdup(s);
  if (d == NULL) *oom = 1;
  return d;
}

int ib_edition_list_add(ib_edition_list *list, const ib_edition_rec *e) {
  if (list->n == list->cap) {
    size_t cap = list->cap ? 2 * list->cap : 8;
    ib_edition_rec *items = realloc(list->items, cap * sizeof *items);
    if (items == NULL) return -1;
    list->items = items;
    list->cap = cap;
  }
  int oom = 0;
  ib_edition_rec c = {e->seq,
                      dup_or_null(e->month, &oom),
                      e->closed_at,
                      e->as_of,
                      dup_or_null(e->hash, &oom),
                      dup_or_null(e->prev_hash, &oom),
                      dup_or_null(e->replaces, &oom),
                      dup_or_null(e->reason, &oom),
                      dup_or_null(e->body, &oom)};
  if (oom) {
    edition_free_strings(&c);
    return -1;
  }
  list->items[list->n++] = c;
  return 0;
}

void ib_edition_list_free(ib_edition_list *list) {
  for (size_t i = 0; i < list->n; i++) edition_free_strings(&list->items[i]);
  free(list->items);
  list->items = NULL;
  list->n = list->cap = 0;
}

int ib_alert_state_list_add(ib_alert_state_list *list,
                            const ib_alert_state *s) {
  if (list->n == list->cap) {
    size_t cap = list->cap ? list->cap * 2 : 16;
    ib_alert_state *items = realloc(list->items, cap * sizeof *items);
    if (items == NULL) return -1;
    list->items = items;
    list->cap = cap;
  }
  ib_alert_state *c = &list->items[list->n];
  *c = *s;
  c->rule = strdup(s->rule ? s->rule : "");
  c->webhook = strdup(s->webhook ? s->webhook : "");
  if (c->rule == NULL || c->webhook == NULL) {
    free(c->rule);
    free(c->webhook);
    return -1;
  }
  list->n++;
  return 0;
}

void ib_alert_state_list_free(ib_alert_state_list *list) {
  for (size_t i = 0; i < list->n; i++) {
    free(list->items[i].rule);
    free(list->items[i].webhook);
  }
  free(list->items);
  memset(list, 0, sizeof *list);
}

/* ---- what a put does ---- */

ib_put_step ib_put_first_step(const ib_stored_digest *stored, int64_t digest) {
  if (!stored->exists) return IB_STEP_INSERT;
  if (stored->has_digest && stored->digest == digest && !stored->deleted)
    return IB_STEP_SKIP;
  return IB_STEP_COMPARE;
}

int ib_ticket_settle(const ib_ticket_row *old, const ib_ticket_row *now,
                     int64_t digest, ib_change_list *changes,
                     ib_put_step *step) {
  if (old->deleted_at == IB_TIME_NONE && ib_ticket_digest(old) == digest) {
    *step = IB_STEP_SET_DIGEST;
    return 0;
  }
  *step = IB_STEP_UPDATE;
  return ib_ticket_diff(old, now, changes);
}

int ib_outage_settle(const ib_outage_row *old, const ib_outage_row *now,
                     int64_t digest, ib_change_list *changes,
                     ib_put_step *step) {
  if (old->deleted_at == IB_TIME_NONE && ib_outage_digest(old) == digest) {
    *step = IB_STEP_SET_DIGEST;
    return 0;
  }
  *step = IB_STEP_UPDATE;
  return ib_outage_diff(old, now, changes);
}

void ib_put_counts_add(ib_put_counts *counts, ib_put_step step) {
  if (step == IB_STEP_INSERT)
    counts->added++;
  else if (step == IB_STEP_UPDATE)
    counts->changed++;
  else
    counts->unchanged++;
}

/* ---- a set of (source, id) keys ---- */

static size_t key_slot(const ib_key_set *set, const char *source,
                       const char *id) {
  size_t at = hash_key(source, id) & set->mask;
  while (set->slots[at].source != NULL &&
         (strcmp(set->slots[at].id, id) != 0 ||
          strcmp(set->slots[at].source, source) != 0))
    at = (at + 1) & set->mask;
  return at;
}

int ib_key_set_has(const ib_key_set *set, const char *source, const char *id) {
  if (set->slots == NULL) return 0;
  return set->slots[key_slot(set, source, id)].source != NULL;
}

int ib_key_set_add(ib_key_set *set, const char *source, const char *id) {
  if (set->slots == NULL || 2 * (set->n + 1) > set->mask + 1) {
    size_t cap = set->slots ? 2 * (set->mask + 1) : 64;
    ib_key_set grown = {.slots = calloc(cap, sizeof *grown.slots),
                        .mask = cap - 1};
    if (grown.slots == NULL) return -1;
    for (size_t i = 0; set->slots && i <= set->mask; i++)
      if (set->slots[i].source != NULL)
        grown.slots[key_slot(&grown, set->slots[i].source, set->slots[i].id)] =
            set->slots[i];
    grown.n = set->n;
    free(set->slots);
    *set = grown;
  }
  struct ib_key_slot *slot = &set->slots[key_slot(set, source, id)];
  if (slot->source == NULL) {
    slot->source = source;
    slot->id = id;
    set->n++;
  }
  return 0;
}

void ib_key_set_clear(ib_key_set *set) {
  if (set->slots) memset(set->slots, 0, (set->mask + 1) * sizeof *set->slots);
  set->n = 0;
}

void ib_key_set_free(ib_key_set *set) {
  free(set->slots);
  memset(set, 0, sizeof *set);
}
