/*
 * model.h -- the normalised ticket and outage model as the host holds it
 * (SPEC §5): owned copies, enums instead of words. Shared by the store, the
 * KPI engine and the exporters. Knows nothing of plugins, SQL or HTTP.
 */
#ifndef IB_MODEL_H
#define IB_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "itsm_bridge/plugin.h"

typedef enum ib_kind {
  IB_KIND_INCIDENT = 0,
  IB_KIND_REQUEST,
  IB_KIND_PROBLEM,
  IB_KIND_CHANGE,
  IB_KIND_OTHER,
  IB_KIND_COUNT
} ib_kind;

typedef enum ib_state {
  IB_STATE_NEW = 0,
  IB_STATE_OPEN,
  IB_STATE_PENDING,
  IB_STATE_RESOLVED,
  IB_STATE_CLOSED,
  IB_STATE_CANCELLED,
  IB_STATE_COUNT
} ib_state;

typedef enum ib_outage_kind {
  IB_OUTAGE_OUTAGE = 0,
  IB_OUTAGE_DEGRADATION,
  IB_OUTAGE_PLANNED,
  IB_OUTAGE_KIND_COUNT
} ib_outage_kind;

#define IB_PRIORITY_MAX 5 /* P1..P5; 0 = none */

/* Word <-> enum. *_parse return -1 for an unknown word. */
int ib_kind_parse(const char *word);
const char *ib_kind_name(ib_kind k);
int ib_state_parse(const char *word);
const char *ib_state_name(ib_state s);
int ib_outage_kind_parse(const char *word);
const char *ib_outage_kind_name(ib_outage_kind k);
/* "P1".."P5" -> 1..5, else -1. */
int ib_priority_parse(const char *word);

/* One stored ticket. Strings may be NULL. Owned by the set holding it. */
typedef struct ib_ticket_row {
  char *source;
  char *id;
  char *key;
  char *title;
  char *service;
  char *group;
  char *kind_raw;
  char *priority_raw;
  char *status_raw;
  ib_kind kind;
  int priority; /* 1..5, 0 = none */
  ib_state status;
  ib_time created_at;
  ib_time first_response_at;
  ib_time resolved_at;
  ib_time closed_at;
  ib_time updated_at;
  ib_time deleted_at;  /* IB_TIME_NONE unless a --full sync lost it */
  ib_interval *pauses; /* sorted by start; end NONE = still running */
  size_t n_pauses;
  ib_verdict reported_response_breached;
  ib_verdict reported_resolution_breached;
  /* The digest of the raw form it was converted from (plugin.h's
   * raw_unchanged, keyed by the source's fingerprint); 0 = none. Not part
   * of the record's content: written, never compared nor loaded. */
  uint64_t raw_digest;
} ib_ticket_row;

typedef struct ib_outage_row {
  char *source;
  char *id;
  char *service;
  ib_outage_kind kind;
  char *kind_raw;
  ib_time start;
  ib_time end; /* IB_TIME_NONE while ongoing */
  ib_time updated_at;
  ib_time deleted_at;
  uint64_t raw_digest; /* as ib_ticket_row.raw_digest */
} ib_outage_row;

typedef struct ib_string_block ib_string_block;

/* Growable arrays of rows; the set owns every string and pause array.
 * Row strings are either each malloc'ed (strings == NULL) or all copied
 * into the set's blocks with ib_ticket_set_strdup (a bulk load: one
 * allocation per 64 KiB instead of one per string); never a mix. */
typedef struct ib_ticket_set {
  ib_ticket_row *rows;
  size_t n;
  size_t cap;
  ib_string_block *strings;
  ib_string_block *spare; /* emptied blocks kept by ib_ticket_set_clear */
} ib_ticket_set;

/* Copies len bytes of text (plus a NUL) into the set's string blocks.
 * NULL on ENOMEM. */
char *ib_ticket_set_strdup(ib_ticket_set *set, const char *text, size_t len);

typedef struct ib_outage_set {
  ib_outage_row *rows;
  size_t n;
  size_t cap;
} ib_outage_set;

/* Appends a zeroed row (times NONE, verdicts UNKNOWN); NULL on ENOMEM. */
ib_ticket_row *ib_ticket_set_add(ib_ticket_set *set);
ib_outage_row *ib_outage_set_add(ib_outage_set *set);
void ib_ticket_set_free(ib_ticket_set *set);
/* Empties a set of block strings for reuse: its rows' pauses are freed,
 * its row array and string blocks kept (a page refilled without new
 * allocations). */
void ib_ticket_set_clear(ib_ticket_set *set);
void ib_outage_set_free(ib_outage_set *set);

/* A growable list of owned strings (ids). */
typedef struct ib_string_list {
  char **items; /* owned, with each item: ib_string_list_free */
  size_t n;
  size_t cap;
} ib_string_list;

/* Appends a copy of text; -1 on ENOMEM. */
int ib_string_list_add(ib_string_list *list, const char *text);
/* Sorts the list (strcmp order) so that ib_string_list_find can search. */
void ib_string_list_sort(ib_string_list *list);
/* Index of text in a sorted list, or -1 (binary search). */
long ib_string_list_find(const ib_string_list *list, const char *text);
void ib_string_list_free(ib_string_list *list);

#endif /* IB_MODEL_H */
