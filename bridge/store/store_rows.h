/*
 * store_rows.h -- internal to the store backends: helpers to attach pause
 * intervals to the tickets of a bulk load, and the record digests and field
 * comparisons of the history, the late-change field list (store_rows.c).
 * Knows the model, not a backend.
 */
#ifndef IB_STORE_ROWS_H
#define IB_STORE_ROWS_H

#include <stddef.h>

#include "model.h"
#include "store.h"

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

/* ---- history: digests and field changes (SPEC §9) ----
 * The digest is a 64-bit FNV-1a over every stored field of the record
 * except updated_at and deleted_at (raw words and pauses included), so that
 * equal digests mean "nothing to rewrite". A digest is stored as a signed
 * 64-bit integer (the same bits). */
int64_t ib_ticket_digest(const ib_ticket_row *t);
int64_t ib_outage_digest(const ib_outage_row *o);

/* Appends to *out one change (kind "ticket"/"outage", run 0, detected NONE:
 * the backend stamps them) per model field of `now` that differs from
 * `old`, as text; a deleted `old` adds deleted_at old -> NULL (undeleted).
 * Raw words are compared by the digest only. -1 on ENOMEM. */
int ib_ticket_diff(const ib_ticket_row *old, const ib_ticket_row *now,
                   ib_change_list *out);
int ib_outage_diff(const ib_outage_row *old, const ib_outage_row *now,
                   ib_change_list *out);
/* An instant as a change's text (ISO-8601 UTC), NULL for IB_TIME_NONE;
 * buf holds IB_ISO_LEN bytes. */
const char *ib_change_time_text(ib_time t, char *buf);

/* ---- late changes ----
 * The recorded ticket fields ib_late_category_of may classify, as an SQL
 * list both backends select with (the status filter is finished in C). */
#define IB_LATE_TICKET_FIELDS                               \
  "('created_at','priority','kind','first_response_at',"    \
  "'resolved_at','pauses','status','deleted_at','service'," \
  "'reported_response_breached','reported_resolution_breached')"

#endif /* IB_STORE_ROWS_H */
