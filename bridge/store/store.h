/*
 * store.h -- the normalised store (SPEC §5, §8): tickets, pause intervals,
 * outages, per-source sync state (watermark) and sync runs.
 *
 * SQLite by default (WAL, schema migrations through PRAGMA user_version,
 * prepared statements only), or PostgreSQL (store.url; store_pg.c) with the
 * same behaviour and an advisory lock. The store knows the model; it knows
 * nothing of plugins, HTTP or KPIs. Every function returns 0 on success or -1
 * with one line in err.
 */
#ifndef IB_STORE_H
#define IB_STORE_H

#include <stddef.h>

#include "config.h"
#include "model.h"

typedef struct ib_store ib_store;

/* Opens (creating directories, file and schema as needed; the SQLite file
 * and its -wal/-shm are created 0600). Owned by the caller:
 * ib_store_close. */
ib_store *ib_store_open(const ib_store_cfg *cfg, char *err, size_t errlen);
/* Opens an existing store for reading only (kpi, report, export, status):
 * works for a user without write access and on read-only media; never
 * creates or migrates anything. Owned by the caller: ib_store_close. */
ib_store *ib_store_open_readonly(const ib_store_cfg *cfg, char *err,
                                 size_t errlen);
void ib_store_close(ib_store *st);

/* What asking for one of the store's locks gave. Both locks are exclusive,
 * never waited for, held until ib_store_close, and independent of each
 * other (a check notifies while a sync runs). Their holder is written
 * beside them (SQLite: in the lock file "<pid> <since>"; PostgreSQL: in
 * table sync_lock), so that a refusal names it. */
typedef enum ib_store_lock_status {
  IB_STORE_LOCK_FAILED = -1, /* the lock could not be asked for: err says why */
  IB_STORE_LOCK_TAKEN = 0,
  IB_STORE_LOCK_BUSY = 1, /* another process holds it: err names it */
} ib_store_lock_status;

/* One sync at a time per store. When busy err says "another sync is running
 * (pid N, since T)". On an empty SQLite store it also drops the period
 * indexes, built once at close (a first sync's bulk load; store_sqlite.c
 * PERIOD_INDEXES). */
ib_store_lock_status ib_store_lock_sync(ib_store *st, char *err, size_t errlen);
/* One check sending notifications at a time per store (cmd_check.c: it
 * reads the alert states, posts, and writes them back under it). When busy
 * err says "another check is sending notifications (pid N, since T)". */
ib_store_lock_status ib_store_lock_notify(ib_store *st, char *err,
                                          size_t errlen);

/* ---- reading (KPI, exports) ---- */

/* One committed snapshot for every read between begin_read and end_read
 * (a sync committing meanwhile is not seen half-way). end_read is safe to
 * call after a failed begin_read. */
int ib_store_begin_read(ib_store *st, char *err, size_t errlen);
void ib_store_end_read(ib_store *st);

/* Tickets that matter for [from, to): created before `to` and not resolved
 * before `from`, plus tickets resolved before they were created (impossible
 * times) whose reversed span [resolved, created] touches the period, so that
 * they still count in their creation and resolution months; deleted tickets
 * excluded. IB_TIME_NONE for both bounds loads every non-deleted ticket.
 * Appends to *out, in storage order. With both bounds the tickets and
 * their pauses are found by index (schema 4): the cost follows the period's
 * tickets, not the store's. */
int ib_store_load_tickets(ib_store *st, ib_time from, ib_time to,
                          ib_ticket_set *out, char *err, size_t errlen);
/* Outages overlapping [from, to) (or all with NONE bounds), not deleted;
 * by index with both bounds. */
int ib_store_load_outages(ib_store *st, ib_time from, ib_time to,
                          ib_outage_set *out, char *err, size_t errlen);

typedef struct ib_source_state {
  ib_time watermark;      /* IB_TIME_NONE before the first commit */
  ib_time last_success;   /* end of the last successful run */
  ib_time last_run;       /* start of the last run */
  char last_error[512];   /* of the last run, "" when it succeeded */
  ib_time interrupted_at; /* start of the last run when it never ended
                             (killed), else IB_TIME_NONE */
  int running;            /* that run is still going (its lock is held);
                             interrupted_at is then its start */
  int64_t tickets;        /* stored, not deleted (-1: not counted, see below) */
  int64_t outages;
  int64_t rejected; /* records listed as rejected, awaiting a good version */
} ib_source_state;

/* counts: whether to count the stored tickets and outages (a scan of the
 * source's records; a sync only needs the watermark and the rejected). */
int ib_store_source_state(ib_store *st, const char *source, int counts,
                          ib_source_state *out, char *err, size_t errlen);

/* ---- writing (sync) ---- */

/* What the puts of a transaction did (SPEC §9 "History"), one count per
 * record. */
typedef struct ib_put_counts {
  int64_t added;     /* no row of (source, id) existed: inserted */
  int64_t changed;   /* a model field differed: updated, changes recorded */
  int64_t unchanged; /* equal to the stored row: nothing written */
} ib_put_counts;

/* Puts happen between begin and commit. A backend may hold the records put
 * and write them later, a page at a time: both record every write of the
 * page (puts, watermark, rejected records, seen marks) and write the page
 * on a second thread after commit (PostgreSQL set-based: COPY and keyed
 * lookups; a page of very many records, or holding a record put twice,
 * in parts of one transaction); a page that must be written before its
 * commit (a read or another write inside it) is written at once and
 * committed by commit itself. A
 * put's failure may then be reported by a later call, and what each
 * record did is only known once it is written.
 *
 * commit ends the page: it is durable, or has failed, at the latest when
 * the next commit, ib_store_finish_pages or any other store call returns.
 * *done (when not NULL) gets what the records of the pages written since
 * the last report did -- usually the previous pages' (this page's come
 * with the next commit or finish_pages; a page written at once, with its
 * commit); one count per record put, so that a page's records are
 * confirmed exactly when their counts come back. When commit fails nothing of
 * this page is stored (call rollback) and *done is left alone; the failure may
 * be that of a page committed before (its records are not stored, and no page
 * after it is), then reported once. A page is one transaction: never
 * half-written; a watermark set in it is stored with it or not at all.
 * rollback forgets the page being filled (a page already committed is not
 * affected). */
int ib_store_begin(ib_store *st, char *err, size_t errlen);
int ib_store_commit(ib_store *st, ib_put_counts *done, char *err,
                    size_t errlen);
void ib_store_rollback(ib_store *st);
/* Waits until every page committed is written; *done (when not NULL) gets
 * what their records did (as commit's, those not reported yet). -1 with
 * the error of a page that failed (its records and the pages after it are
 * not stored). A sync calls it once the plugin is done, before anything
 * else reads or marks records. */
int ib_store_finish_pages(ib_store *st, ib_put_counts *done, char *err,
                          size_t errlen);

/* Upsert by (source, id) that compares first: an incoming record equal to
 * the stored one (same digest over the normalised fields, pauses included,
 * updated_at excluded) is not rewritten; a different one is updated (its
 * pause intervals replaced, deleted_at cleared) and each model field that
 * differs is recorded in the changes table under the run last begun on this
 * handle (ib_store_run_begin; 0 without one). A record whose only
 * difference is updated_at counts as unchanged and keeps its stored
 * updated_at: the provider touching a ticket is not evidence of anything.
 * A difference only in a raw word (priority_raw...) updates the row and
 * counts as changed, without a recorded field. What was done is counted for
 * ib_store_commit's *done. With track_seen, the row is remembered (in this
 * connection only) for ib_store_mark_unseen_deleted. The record is copied
 * if kept: the caller's strings may go when the call returns. Two puts of
 * one (source, id) in a transaction behave as if written in that order
 * (the second compared with the first). */
int ib_store_put_ticket(ib_store *st, const ib_ticket_row *t, int track_seen,
                        char *err, size_t errlen);
int ib_store_put_outage(ib_store *st, const ib_outage_row *o, int track_seen,
                        char *err, size_t errlen);
/* Sets the watermark, never moving it backwards. */
int ib_store_set_watermark(ib_store *st, const char *source, ib_time wm,
                           char *err, size_t errlen);
/* Clears the watermark (--full). */
int ib_store_reset_watermark(ib_store *st, const char *source, char *err,
                             size_t errlen);

/* Runs: begin returns the new run id in *run_id. */
int ib_store_run_begin(ib_store *st, const char *source, int full,
                       int64_t *run_id, char *err, size_t errlen);
int ib_store_run_end(ib_store *st, int64_t run_id, int ok, int64_t read,
                     int64_t stored, int64_t rejected, const char *error,
                     char *err, size_t errlen);
/* After a successful --full run: marks rows of `source` not put with
 * track_seen since the store was opened as deleted at `now`, recording a
 * `deleted_at` change for each (under the current run). *count gets how
 * many were newly marked. */
int ib_store_mark_unseen_deleted(ib_store *st, const char *source, ib_time now,
                                 int64_t *count, char *err, size_t errlen);
/* Remembers (source, id) as seen by this --full run without storing it: a
 * record rejected this time keeps its stored version. Both tables. */
int ib_store_mark_seen(ib_store *st, const char *source, const char *id,
                       char *err, size_t errlen);
/* The raw digests of the records of `source` of one type that are stored,
 * not marked deleted and carry one (ib_ticket_row.raw_digest): each(ctx,
 * id, digest) per record, in no particular order, the id borrowed for the
 * call. Stops at each()'s first non-zero return, which it returns. */
typedef int (*ib_raw_digest_fn)(void *ctx, const char *id, uint64_t digest);
int ib_store_raw_digests(ib_store *st, const char *source, ib_record_type type,
                         ib_raw_digest_fn each, void *ctx, char *err,
                         size_t errlen);
/* How many live rows of `source` ib_store_mark_unseen_deleted would mark
 * (*unseen), out of how many live rows (*live). */
int ib_store_count_unseen(ib_store *st, const char *source, int64_t *unseen,
                          int64_t *live, char *err, size_t errlen);

/* ---- rejected records ----
 * A record the source sent but that could not be stored (an unmapped
 * priority, a bad date...) is listed with its reason until a good version
 * of it is stored; sync asks the plugin for the listed ids again. */

/* Lists (or refreshes) one rejected record; part of the open transaction. */
int ib_store_put_rejected(ib_store *st, const char *source, const char *id,
                          const char *position, const char *reason, ib_time now,
                          char *err, size_t errlen);
/* Removes it from the list (a good version was stored). */
int ib_store_drop_rejected(ib_store *st, const char *source, const char *id,
                           char *err, size_t errlen);
/* Appends the listed ids of `source` to *out, oldest first. */
int ib_store_list_rejected(ib_store *st, const char *source,
                           ib_string_list *out, char *err, size_t errlen);

/* ---- history (SPEC §9) ---- */

/* One recorded field change. Strings owned by the list holding it. */
typedef struct ib_change {
  char *kind;      /* "ticket" or "outage" */
  char *field;     /* a SPEC §5 name, or "pauses", "deleted_at" */
  char *old_value; /* text (ISO-8601 UTC instants, P1..P5); NULL = none */
  char *new_value;
  int64_t run_id; /* the sync run that detected it */
  ib_time detected_at;
} ib_change;

typedef struct ib_change_list {
  ib_change *items; /* owned: ib_change_list_free */
  size_t n;
  size_t cap;
} ib_change_list;

/* Appends copies of the texts (NULL kept NULL); -1 on ENOMEM. */
int ib_change_list_add(ib_change_list *list, const char *kind,
                       const char *field, const char *old_value,
                       const char *new_value, int64_t run_id,
                       ib_time detected_at);
void ib_change_list_free(ib_change_list *list);

/* Appends the changes recorded for record (source, id), ticket or outage,
 * oldest first. *found: whether the store holds such a record (deleted
 * ones included). */
int ib_store_history(ib_store *st, const char *source, const char *id,
                     ib_change_list *out, int *found, char *err, size_t errlen);

/* ---- closed months (SPEC §9) ----
 * Editions are append-only: the table refuses UPDATE and DELETE (a
 * trigger), so a changed edition can only come from outside itsm-bridge,
 * and `verify` reports it as a broken chain. */

typedef struct ib_edition_rec {
  int64_t seq; /* position in the store's chain, from 1 */
  char *month; /* "YYYY-MM" */
  ib_time closed_at;
  ib_time as_of;
  char *hash;      /* SHA-256 (hex) of body, as written when closed */
  char *prev_hash; /* the previous edition's hash; NULL for the first */
  char *replaces;  /* the edition of this month it restates, or NULL */
  char *reason;    /* why (--restate), or NULL */
  char *body;      /* the edition's canonical JSON (edition.h) */
} ib_edition_rec;

typedef struct ib_edition_list {
  ib_edition_rec *items; /* owned, with their strings: ib_edition_list_free */
  size_t n;
  size_t cap;
} ib_edition_list;

/* Appends a copy of e (seq kept); -1 on ENOMEM. */
int ib_edition_list_add(ib_edition_list *list, const ib_edition_rec *e);
void ib_edition_list_free(ib_edition_list *list);

/* Appends edition e (its seq is assigned by the store) in the open
 * transaction. Refused when e->prev_hash is not the hash of the store's
 * last edition (another close got there first). */
int ib_store_put_edition(ib_store *st, const ib_edition_rec *e, char *err,
                         size_t errlen);
/* Appends every edition of the store to *out, in chain order. */
int ib_store_editions(ib_store *st, ib_edition_list *out, char *err,
                      size_t errlen);
/* ---- late changes (SPEC §9 "Late changes"; docs/kpi.md) ---- */

/* What a late change is, one stable word each (ib_late_category_name). */
typedef enum ib_late_category {
  IB_LATE_CREATED_BACKDATED = 0, /* created_at moved earlier */
  IB_LATE_CREATED_MOVED,         /* created_at moved later */
  IB_LATE_PRIORITY_CHANGED,
  IB_LATE_KIND_CHANGED,
  IB_LATE_RESPONSE_MOVED,   /* first_response_at */
  IB_LATE_RESOLUTION_MOVED, /* resolved_at */
  IB_LATE_PAUSES_ADDED,     /* the new set has more intervals */
  IB_LATE_PAUSES_CHANGED,   /* as many or fewer intervals */
  IB_LATE_CANCELLED,        /* status -> cancelled */
  IB_LATE_UNCANCELLED,      /* status cancelled -> anything else */
  IB_LATE_DELETED,          /* deleted_at set (--full) */
  IB_LATE_UNDELETED,        /* deleted_at cleared: the ticket came back */
  IB_LATE_OTHER,            /* service, the source's reported verdicts */
  IB_LATE_OUTAGE_CHANGED,   /* an outage's service, kind, start or end */
  IB_LATE_OUTAGE_DELETED,   /* an outage's deleted_at set */
  IB_LATE_COUNT
} ib_late_category;

/* "created_backdated", "priority_changed"...; "other" out of range. */
const char *ib_late_category_name(ib_late_category c);
/* The category of one recorded change, or -1 when the field cannot move a
 * figure (key, title, group, closed_at, a status change that neither
 * enters nor leaves cancelled). kind is "ticket" or "outage". */
int ib_late_category_of(const char *kind, const char *field,
                        const char *old_value, const char *new_value);

/* One late change. Strings owned by the list holding it. */
typedef struct ib_late_change {
  int64_t seq;  /* the change's number in the store (detection order) */
  char *source; /* configuration name of the source */
  char *id;     /* record id in the source */
  char *key;    /* the ticket's key now; NULL for an outage or none */
  char *kind;   /* "ticket" or "outage" */
  char *field;  /* as in ib_change */
  char *old_value;
  char *new_value;
  ib_late_category category;
  int64_t run_id; /* the sync run that detected it */
  ib_time detected_at;
} ib_late_change;

typedef struct ib_late_change_list {
  ib_late_change *items; /* owned: ib_late_change_list_free */
  size_t n;
  size_t cap;
} ib_late_change_list;

/* Appends a copy of *c (its strings copied, NULL kept); -1 on ENOMEM. */
int ib_late_change_list_add(ib_late_change_list *list, const ib_late_change *c);
void ib_late_change_list_free(ib_late_change_list *list);

/* Appends the late changes of period [from, to), in detection order: the
 * changes detected at or after `to` to tickets whose created_at or
 * resolved_at is in the period now, or was according to a recorded old
 * value (a ticket back-dated out of the period still counts), deleted
 * tickets included; and to outages that overlap the period now or whose
 * recorded old start or end was in it. Changes to fields that cannot move
 * a figure are left out (ib_late_category_of). Both bounds required. */
int ib_store_late_changes(ib_store *st, ib_time from, ib_time to,
                          ib_late_change_list *out, char *err, size_t errlen);
/* ---- alert notifications (SPEC §10) ----
 * One row per (rule, webhook): what `check` last owed that webhook and
 * whether it was delivered, so that a firing alert is sent once, again
 * only after `repeat`, a resolved one once, and a failed delivery retried
 * at the next check. */

typedef struct ib_alert_state {
  char *rule;        /* owned by the list holding it */
  char *webhook;     /* owned by the list holding it */
  int firing;        /* the message owed is "firing" (0: "resolved") */
  ib_time since;     /* firing since; IB_TIME_NONE once resolved */
  ib_time last_sent; /* last delivered message; IB_TIME_NONE: never */
  int pending;       /* the message owed has not been delivered */
} ib_alert_state;

typedef struct ib_alert_state_list {
  ib_alert_state *items; /* owned: ib_alert_state_list_free */
  size_t n;
  size_t cap;
} ib_alert_state_list;

/* Appends a copy of *s (strings copied); -1 on ENOMEM. */
int ib_alert_state_list_add(ib_alert_state_list *list, const ib_alert_state *s);
void ib_alert_state_list_free(ib_alert_state_list *list);

/* Appends every stored alert state to *out (works on a read-only store). */
int ib_store_alert_states(ib_store *st, ib_alert_state_list *out, char *err,
                          size_t errlen);
/* Inserts or replaces the row of (s->rule, s->webhook). */
int ib_store_put_alert_state(ib_store *st, const ib_alert_state *s, char *err,
                             size_t errlen);

#endif /* IB_STORE_H */
