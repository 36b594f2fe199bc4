/*
 * model.c -- words of the normalised model and the growable row sets.
 * Must not know about storage, plugins or KPIs.
 */
#define _POSIX_C_SOURCE 200809L
#include "model.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_words[IB_KIND_COUNT] = {
    "incident", "request", "problem", "change", "other"};
static const char *const state_words[IB_STATE_COUNT] = {
    "new", "open", "pending", "resolved", "closed", "cancelled"};
static const char *const outage_words[IB_OUTAGE_KIND_COUNT] = {
    "outage", "degradation", "planned"};

static int find_word(const char *const *words, int n, const char *word) {
  if (word == NULL) return -1;
  for (int i = 0; i < n; i++)
    if (strcmp(words[i], word) == 0) return i;
  return -1;
}

int ib_kind_parse(const char *w) {
  return find_word(kind_words, IB_KIND_COUNT, w);
}
const char *ib_kind_name(ib_kind k) {
  return (unsigned)k < IB_KIND_COUNT ? kind_words[k] : "other";
}
int ib_state_parse(const char *w) {
  return find_word(state_words, IB_STATE_COUNT, w);
}
const char *ib_state_name(ib_state s) {
  return (unsigned)s < IB_STATE_COUNT ? state_words[s] : "open";
}
int ib_outage_kind_parse(const char *w) {
  return find_word(outage_words, IB_OUTAGE_KIND_COUNT, w);
}
const char *ib_outage_kind_name(ib_outage_kind k) {
  return (unsigned)k < IB_OUTAGE_KIND_COUNT ? outage_words[k] : "outage";
}

int ib_priority_parse(const char *w) {
  if (w == NULL || (w[0] != 'P' && w[0] != 'p') || w[1] < '1' ||
      w[1] > '0' + IB_PRIORITY_MAX || w[2] != '\0')
    return -1;
  return w[1] - '0';
}

static void *grow(void *rows, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return rows;
  size_t ncap = *cap ? *cap * 2 : 64;
  void *p = realloc(rows, ncap * size);
  if (p == NULL) return NULL;
  *cap = ncap;
  return p;
}

ib_ticket_row *ib_ticket_set_add(ib_ticket_set *set) {
  ib_ticket_row *rows = grow(set->rows, &set->cap, set->n, sizeof *rows);
  if (rows == NULL) return NULL;
  set->rows = rows;
  ib_ticket_row *r = &rows[set->n++];
  memset(r, 0, sizeof *r);
  r->created_at = r->first_response_at = r->resolved_at = IB_TIME_NONE;
  r->closed_at = r->updated_at = r->deleted_at = IB_TIME_NONE;
  r->reported_response_breached = IB_VERDICT_UNKNOWN;
  r->reported_resolution_breached = IB_VERDICT_UNKNOWN;
  return r;
}

ib_outage_row *ib_outage_set_add(ib_outage_set *set) {
  ib_outage_row *rows = grow(set->rows, &set->cap, set->n, sizeof *rows);
  if (rows == NULL) return NULL;
  set->rows = rows;
  ib_outage_row *r = &rows[set->n++];
  memset(r, 0, sizeof *r);
  r->start = r->end = r->updated_at = r->deleted_at = IB_TIME_NONE;
  return r;
}

struct ib_string_block {
  ib_string_block *next;
  size_t used;
  size_t size;
  char data[];
};

#define IB_STRING_BLOCK_SIZE ((size_t)64 * 1024)

char *ib_ticket_set_strdup(ib_ticket_set *set, const char *text, size_t len) {
  ib_string_block *b = set->strings;
  if (b == NULL || b->size - b->used < len + 1) {
    ib_string_block *nb = set->spare;
    if (nb != NULL && nb->size >= len + 1) {
      set->spare = nb->next;
    } else {
      size_t size =
          len + 1 > IB_STRING_BLOCK_SIZE ? len + 1 : IB_STRING_BLOCK_SIZE;
      if ((nb = malloc(sizeof *nb + size)) == NULL) return NULL;
      nb->size = size;
    }
    nb->next = b;
    nb->used = 0;
    set->strings = b = nb;
  }
  char *out = b->data + b->used;
  memcpy(out, text, len);
  out[len] = '\0';
  b->used += len + 1;
  return out;
}

static void free_blocks(ib_string_block *b) {
  while (b) {
    ib_string_block *next = b->next;
    free(b);
    b = next;
  }
}

void ib_ticket_set_clear(ib_ticket_set *set) {
  for (size_t i = 0; i < set->n; i++) free(set->rows[i].pauses);
  set->n = 0;
  while (set->strings) {
    ib_string_block *b = set->strings;
    set->strings = b->next;
    b->next = set->spare;
    set->spare = b;
  }
}

void ib_ticket_set_free(ib_ticket_set *set) {
  if (set->strings || set->spare) { /* block strings: clear, then free */
    ib_ticket_set_clear(set);
    free_blocks(set->spare);
    free(set->rows);
    memset(set, 0, sizeof *set);
    return;
  }
  for (size_t i = 0; i < set->n; i++) {
    ib_ticket_row *r = &set->rows[i];
    free(r->source);
    free(r->id);
    free(r->key);
    free(r->title);
    free(r->service);
    free(r->group);
    free(r->kind_raw);
    free(r->priority_raw);
    free(r->status_raw);
    free(r->pauses);
  }
  free(set->rows);
  memset(set, 0, sizeof *set);
}

void ib_outage_set_free(ib_outage_set *set) {
  for (size_t i = 0; i < set->n; i++) {
    ib_outage_row *r = &set->rows[i];
    free(r->source);
    free(r->id);
    free(r->service);
    free(r->kind_raw);
  }
  free(set->rows);
  memset(set, 0, sizeof *set);
}

int ib_string_list_add(ib_string_list *list, const char *text) {
  if (list->n == list->cap) {
    size_t cap = list->cap ? list->cap * 2 : 16;
    char **items = realloc(list->items, cap * sizeof *items);
    if (items == NULL) return -1;
    list->items = items;
    list->cap = cap;
  }
  if ((list->items[list->n] = strdup(text ? text : "")) == NULL) return -1;
  list->n++;
  return 0;
}

static int cmp_strp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void ib_string_list_sort(ib_string_list *list) {
  if (list->n > 1) qsort(list->items, list->n, sizeof *list->items, cmp_strp);
}

long ib_string_list_find(const ib_string_list *list, const char *text) {
  if (list->n == 0) return -1;
  char *const *hit =
      bsearch(&text, list->items, list->n, sizeof *list->items, cmp_strp);
  return hit ? (long)(hit - list->items) : -1;
}

void ib_string_list_free(ib_string_list *list) {
  for (size_t i = 0; i < list->n; i++) free(list->items[i]);
  free(list->items);
  memset(list, 0, sizeof *list);
}
