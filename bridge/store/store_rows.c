/*
 * store_rows.c -- what both store backends share to build the rows of a bulk
 * load: the (source, id) index that attaches pauses to their tickets while
 * both tables are read in storage order, and the pause lists. Must not know
 * SQL, a backend or the store's front door (store.c).
 */
#include "store_rows.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

