/*
 * store.c -- the store's front door: picks the backend (SQLite for
 * store.path, PostgreSQL for store.url) and forwards every store.h call to
 * it. Must not hold SQL of its own, nor know plugins, HTTP or KPI rules;
 * the row helpers the backends share are store_rows.c's.
 */
#include "store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

ib_store *ib_store_open(const ib_store_cfg *cfg, char *err, size_t errlen) {
  if (cfg->url) return ib_store_pg_open(cfg, 0, err, errlen);
  return ib_store_sqlite_open(cfg, 0, err, errlen);
}

ib_store *ib_store_open_readonly(const ib_store_cfg *cfg, char *err,
                                 size_t errlen) {
  if (cfg->url) return ib_store_pg_open(cfg, 1, err, errlen);
  return ib_store_sqlite_open(cfg, 1, err, errlen);
}

/* Records a backend holds are written before anything reads or marks
 * records (store.h). */
static int flush(ib_store *st, char *err, size_t errlen) {
  return st->ops->flush ? st->ops->flush(st, err, errlen) : 0;
}

int ib_store_begin_read(ib_store *st, char *err, size_t errlen) {
  if (flush(st, err, errlen)) return -1;
  return st->ops->begin_read(st, err, errlen);
}

void ib_store_end_read(ib_store *st) {
  if (st) st->ops->end_read(st);
}

int ib_store_raw_digests(ib_store *st, const char *source, ib_record_type type,
                         ib_raw_digest_fn each, void *ctx, char *err,
                         size_t errlen) {
  if (flush(st, err, errlen)) return -1;
  return st->ops->raw_digests(st, source, type, each, ctx, err, errlen);
}

int ib_store_mark_seen(ib_store *st, const char *source, const char *id,
                       char *err, size_t errlen) {
  return st->ops->mark_seen(st, source, id, err, errlen);
}

int ib_store_count_unseen(ib_store *st, const char *source, int64_t *unseen,
                          int64_t *live, char *err, size_t errlen) {
  if (flush(st, err, errlen)) return -1;
  return st->ops->count_unseen(st, source, unseen, live, err, errlen);
}

void ib_store_close(ib_store *st) {
  if (st) st->ops->close(st);
}

ib_store_lock_status ib_store_lock_sync(ib_store *st, char *err,
                                        size_t errlen) {
  return st->ops->lock_sync(st, err, errlen);
}

ib_store_lock_status ib_store_lock_notify(ib_store *st, char *err,
                                          size_t errlen) {
  return st->ops->lock_notify(st, err, errlen);
}

int ib_store_load_tickets(ib_store *st, ib_time from, ib_time to,
                          ib_ticket_set *out, char *err, size_t errlen) {
  if (flush(st, err, errlen)) return -1;
  return st->ops->load_tickets(st, from, to, out, err, errlen);
}

int ib_store_load_outages(ib_store *st, ib_time from, ib_time to,
                          ib_outage_set *out, char *err, size_t errlen) {
  if (flush(st, err, errlen)) return -1;
  return st->ops->load_outages(st, from, to, out, err, errlen);
}

int ib_store_source_state(ib_store *st, const char *source, int counts,
                          ib_source_state *out, char *err, size_t errlen) {
  if (flush(st, err, errlen)) return -1;
  return st->ops->source_state(st, source, counts, out, err, errlen);
}

int ib_store_begin(ib_store *st, char *err, size_t errlen) {
  return st->ops->begin(st, err, errlen);
}

int ib_store_commit(ib_store *st, ib_put_counts *done, char *err,
                    size_t errlen) {
  return st->ops->commit(st, done, err, errlen);
}

int ib_store_finish_pages(ib_store *st, ib_put_counts *done, char *err,
                          size_t errlen) {
  if (st->ops->finish_pages)
    return st->ops->finish_pages(st, done, err, errlen);
  if (done) memset(done, 0, sizeof *done); /* commit wrote every page */
  return 0;
}

void ib_store_rollback(ib_store *st) {
  st->ops->rollback(st);
}

int ib_store_put_ticket(ib_store *st, const ib_ticket_row *t, int track_seen,
                        char *err, size_t errlen) {
  return st->ops->put_ticket(st, t, track_seen, err, errlen);
}

int ib_store_put_outage(ib_store *st, const ib_outage_row *o, int track_seen,
                        char *err, size_t errlen) {
  return st->ops->put_outage(st, o, track_seen, err, errlen);
}

int ib_store_history(ib_store *st, const char *source, const char *id,
                     ib_change_list *out, int *found, char *err,
                     size_t errlen) {
  if (flush(st, err, errlen)) return -1;
  return st->ops->history(st, source, id, out, found, err, errlen);
}

int ib_store_late_changes(ib_store *st, ib_time from, ib_time to,
                          ib_late_change_list *out, char *err, size_t errlen) {
  if (from == IB_TIME_NONE || to == IB_TIME_NONE) {
    snprintf(err, errlen, "late changes need a period with both bounds");
    return -1;
  }
  return st->ops->late_changes(st, from, to, out, err, errlen);
}

int ib_store_set_watermark(ib_store *st, const char *source, ib_time wm,
                           char *err, size_t errlen) {
  return st->ops->set_watermark(st, source, wm, err, errlen);
}

int ib_store_reset_watermark(ib_store *st, const char *source, char *err,
                             size_t errlen) {
  return st->ops->reset_watermark(st, source, err, errlen);
}

int ib_store_run_begin(ib_store *st, const char *source, int full,
                       int64_t *run_id, char *err, size_t errlen) {
  return st->ops->run_begin(st, source, full, run_id, err, errlen);
}

int ib_store_run_end(ib_store *st, int64_t run_id, int ok, int64_t read,
                     int64_t stored, int64_t rejected, const char *error,
                     char *err, size_t errlen) {
  return st->ops->run_end(st, run_id, ok, read, stored, rejected, error, err,
                          errlen);
}

int ib_store_mark_unseen_deleted(ib_store *st, const char *source, ib_time now,
                                 int64_t *count, char *err, size_t errlen) {
  if (flush(st, err, errlen)) return -1;
  return st->ops->mark_unseen_deleted(st, source, now, count, err, errlen);
}

int ib_store_put_rejected(ib_store *st, const char *source, const char *id,
                          const char *position, const char *reason, ib_time now,
                          char *err, size_t errlen) {
  return st->ops->put_rejected(st, source, id, position, reason, now, err,
                               errlen);
}

int ib_store_drop_rejected(ib_store *st, const char *source, const char *id,
                           char *err, size_t errlen) {
  return st->ops->drop_rejected(st, source, id, err, errlen);
}

int ib_store_list_rejected(ib_store *st, const char *source,
                           ib_string_list *out, char *err, size_t errlen) {
  return st->ops->list_rejected(st, source, out, err, errlen);
}

int ib_store_put_edition(ib_store *st, const ib_edition_rec *e, char *err,
                         size_t errlen) {
  return st->ops->put_edition(st, e, err, errlen);
}

int ib_store_editions(ib_store *st, ib_edition_list *out, char *err,
                      size_t errlen) {
  return st->ops->editions(st, out, err, errlen);
}

int ib_store_alert_states(ib_store *st, ib_alert_state_list *out, char *err,
                          size_t errlen) {
  return st->ops->alert_states(st, out, err, errlen);
}

int ib_store_put_alert_state(ib_store *st, const ib_alert_state *s, char *err,
                             size_t errlen) {
  return st->ops->put_alert_state(st, s, err, errlen);
}
