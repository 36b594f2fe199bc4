/*
 * store_rows.h -- internal to the store backends: helpers to attach pause
 * intervals to the tickets of a bulk load (store_rows.c). Knows the model,
 * not SQL nor any backend.
 */
#ifndef IB_STORE_ROWS_H
#define IB_STORE_ROWS_H

#include <stddef.h>

#include "model.h"

/* ---- attaching pauses to a bulk load ----
 * An open-addressing index from (source, id) to the rows appended to a set
 * since `first`, so that pauses can be attached while both tables are read
 * in storage order (sequential scans, no sort). */
typedef struct ib_row_index {
  size_t *slots; /* owned: ib_row_index_free; row number + 1, 0 = empty */
  size_t mask;
} ib_row_index;

int ib_row_index_build(ib_row_index *ix, const ib_ticket_set *set,
                       size_t first);
/* The row of (source, id), or NULL (a ticket outside the period). */
ib_ticket_row *ib_row_index_find(const ib_row_index *ix, ib_ticket_set *set,
                                 const char *source, const char *id);
void ib_row_index_free(ib_row_index *ix);
/* Appends one pause to r->pauses; -1 on ENOMEM. */
int ib_row_add_pause(ib_ticket_row *r, ib_time start, ib_time end);
/* Sorts the pauses of rows [first, n) by start (store.h's promise). */
void ib_rows_sort_pauses(ib_ticket_set *set, size_t first);

#endif /* IB_STORE_ROWS_H */
