/*
 * store_rows.h -- internal to the store backends: helpers to attach pause
 * intervals to the tickets of a bulk load, the record digests and field
 * comparisons of the history, the late-change field list, the
 * new/changed/unchanged decision of a put and a set of record keys
 * (store_rows.c). Knows the model, not SQL nor any backend.
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

/* ---- what a put does (both backends, store.h's contract) ----
 * First from the stored digest alone (ib_put_first_step); when that cannot
 * tell, from the stored record loaded and compared (ib_*_settle). */
typedef struct ib_stored_digest {
  int exists;     /* a row of (source, id) is stored, deleted or not */
  int has_digest; /* its digest is set (NULL: stored before schema 3) */
  int deleted;    /* it is marked deleted */
  int64_t digest;
  uint64_t raw_digest; /* its raw digest, 0 = none */
} ib_stored_digest;

typedef enum ib_put_step {
  IB_STEP_INSERT,     /* nothing stored: insert (new) */
  IB_STEP_SKIP,       /* same digest, not deleted: write nothing (unchanged) */
  IB_STEP_COMPARE,    /* load the stored record, then ib_*_settle */
  IB_STEP_SET_DIGEST, /* equal field by field, only its digest was missing:
                         store the digest (unchanged) */
  IB_STEP_UPDATE,     /* differs (or was deleted): rewrite it, replace its
                         pauses, record the changes (changed) */
} ib_put_step;

ib_put_step ib_put_first_step(const ib_stored_digest *stored, int64_t digest);
/* After IB_STEP_COMPARE: `old` is the stored record (deleted_at and pauses
 * included), `now` the incoming one of digest `digest`. *step gets
 * IB_STEP_SET_DIGEST or IB_STEP_UPDATE; for UPDATE the field changes are
 * appended to *changes (ib_*_diff). -1 on ENOMEM. */
int ib_ticket_settle(const ib_ticket_row *old, const ib_ticket_row *now,
                     int64_t digest, ib_change_list *changes,
                     ib_put_step *step);
int ib_outage_settle(const ib_outage_row *old, const ib_outage_row *now,
                     int64_t digest, ib_change_list *changes,
                     ib_put_step *step);
/* Counts one record that ended with `step` (not COMPARE) into *counts. */
void ib_put_counts_add(ib_put_counts *counts, ib_put_step step);

/* ---- a set of (source, id) keys ----
 * Open addressing over borrowed strings (they must outlive the set), for a
 * backend that holds records to tell a second put of the same key. */
typedef struct ib_key_set {
  struct ib_key_slot {
    const char *source; /* borrowed; NULL = empty slot */
    const char *id;
  } * slots; /* owned: ib_key_set_free */
  size_t mask;
  size_t n;
} ib_key_set;

/* Whether (source, id) is in the set. */
int ib_key_set_has(const ib_key_set *set, const char *source, const char *id);
/* Adds (source, id), not already there; -1 on ENOMEM. */
int ib_key_set_add(ib_key_set *set, const char *source, const char *id);
/* Empties the set, keeping its memory. */
void ib_key_set_clear(ib_key_set *set);
void ib_key_set_free(ib_key_set *set);

#endif /* IB_STORE_ROWS_H */
