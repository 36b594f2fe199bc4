/*
 * store_backend.h -- internal to the store: the table of operations a store
 * backend (SQLite, PostgreSQL) implements behind store.h (the row helpers
 * they share are store_rows.h's).
 * Nothing outside bridge/store/ includes this; callers use store.h only.
 */
#ifndef IB_STORE_BACKEND_H
#define IB_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_rows.h"

/* One entry per public function of store.h, same meaning and contract. */
typedef struct ib_store_ops {
  void (*close)(ib_store *st);
  ib_store_lock_status (*lock_sync)(ib_store *st, char *err, size_t errlen);
  ib_store_lock_status (*lock_notify)(ib_store *st, char *err, size_t errlen);
  int (*load_tickets)(ib_store *st, ib_time from, ib_time to,
                      ib_ticket_set *out, char *err, size_t errlen);
  int (*load_outages)(ib_store *st, ib_time from, ib_time to,
                      ib_outage_set *out, char *err, size_t errlen);
  int (*source_state)(ib_store *st, const char *source, int counts,
                      ib_source_state *out, char *err, size_t errlen);
  int (*begin)(ib_store *st, char *err, size_t errlen);
  int (*commit)(ib_store *st, ib_put_counts *done, char *err, size_t errlen);
  void (*rollback)(ib_store *st);
  /* NULL for a backend whose commit writes its page before returning. */
  int (*finish_pages)(ib_store *st, ib_put_counts *done, char *err,
                      size_t errlen);
  /* Writes the records a backend holds (store.h: puts may be written a
   * page at a time); NULL for a backend that writes each put at once.
   * store.c calls it before every call that reads or marks records. */
  int (*flush)(ib_store *st, char *err, size_t errlen);
  int (*put_ticket)(ib_store *st, const ib_ticket_row *t, int track_seen,
                    char *err, size_t errlen);
  int (*put_outage)(ib_store *st, const ib_outage_row *o, int track_seen,
                    char *err, size_t errlen);
  int (*set_watermark)(ib_store *st, const char *source, ib_time wm, char *err,
                       size_t errlen);
  int (*reset_watermark)(ib_store *st, const char *source, char *err,
                         size_t errlen);
  int (*run_begin)(ib_store *st, const char *source, int full, int64_t *run_id,
                   char *err, size_t errlen);
  int (*run_end)(ib_store *st, int64_t run_id, int ok, int64_t read,
                 int64_t stored, int64_t rejected, const char *error, char *err,
                 size_t errlen);
  int (*mark_unseen_deleted)(ib_store *st, const char *source, ib_time now,
                             int64_t *count, char *err, size_t errlen);
  int (*put_rejected)(ib_store *st, const char *source, const char *id,
                      const char *position, const char *reason, ib_time now,
                      char *err, size_t errlen);
  int (*drop_rejected)(ib_store *st, const char *source, const char *id,
                       char *err, size_t errlen);
  int (*list_rejected)(ib_store *st, const char *source, ib_string_list *out,
                       char *err, size_t errlen);
  int (*raw_digests)(ib_store *st, const char *source, ib_record_type type,
                     ib_raw_digest_fn each, void *ctx, char *err,
                     size_t errlen);
  int (*mark_seen)(ib_store *st, const char *source, const char *id, char *err,
                   size_t errlen);
  int (*count_unseen)(ib_store *st, const char *source, int64_t *unseen,
                      int64_t *live, char *err, size_t errlen);
  int (*begin_read)(ib_store *st, char *err, size_t errlen);
  void (*end_read)(ib_store *st);
  int (*history)(ib_store *st, const char *source, const char *id,
                 ib_change_list *out, int *found, char *err, size_t errlen);
  int (*put_edition)(ib_store *st, const ib_edition_rec *e, char *err,
                     size_t errlen);
  int (*editions)(ib_store *st, ib_edition_list *out, char *err, size_t errlen);
  int (*late_changes)(ib_store *st, ib_time from, ib_time to,
                      ib_late_change_list *out, char *err, size_t errlen);
  int (*alert_states)(ib_store *st, ib_alert_state_list *out, char *err,
                      size_t errlen);
  int (*put_alert_state)(ib_store *st, const ib_alert_state *s, char *err,
                         size_t errlen);
} ib_store_ops;

/* What a refusal of each lock says its holder does: "another " HOLDER
 * " (pid N, since T)" (store.h). */
#define IB_SYNC_LOCK_HOLDER "sync is running"
#define IB_NOTIFY_LOCK_HOLDER "check is sending notifications"

/* Every backend's handle starts with this, so store.c can dispatch. */
struct ib_store {
  const ib_store_ops *ops;
};

/* Backend constructors; owned by the caller (ops->close). */
ib_store *ib_store_sqlite_open(const ib_store_cfg *cfg, int readonly, char *err,
                               size_t errlen);
ib_store *ib_store_pg_open(const ib_store_cfg *cfg, int readonly, char *err,
                           size_t errlen);

#endif /* IB_STORE_BACKEND_H */
