/*
 * store_sqlite.c -- the SQLite store backend (store = { path = ...; }):
 * schema and migrations, comparing upserts and the change history,
 * watermarks, sync runs, the file locks (one sync, one check notifying at a
 * time), and loading rows for the KPI engine and exporters. Prepared
 * statements only; WAL journal. A sync's pages are written behind, on one
 * writer thread per writable store (page_writer.c; see "write-behind
 * pages"): the connection is used by one thread at a time, handed over
 * through the writer's mutex; a checkpointer thread with its own
 * connection copies the WAL into the database meanwhile.
 * Must not know about plugins, HTTP or KPI rules; reached via store.c only.
 * Nothing the writer thread runs may call tz.c (not thread-safe) or touch
 * process-wide state.
 */
#define _GNU_SOURCE
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "page_writer.h"
#include "store_backend.h"
#include "store_rows.h"
#include "tz.h"

enum {
  STMT_TICKET_DIGEST,
  STMT_LOAD_TICKET,
  STMT_LOAD_TICKET_PAUSES,
  STMT_SET_TICKET_DIGEST,
  STMT_OUTAGE_DIGEST,
  STMT_LOAD_OUTAGE,
  STMT_SET_OUTAGE_DIGEST,
  STMT_PUT_CHANGE,
  STMT_PUT_TICKET,
  STMT_DEL_PAUSES,
  STMT_PUT_PAUSE,
  STMT_PUT_OUTAGE,
  STMT_SEEN_TICKET,
  STMT_SEEN_OUTAGE,
  STMT_SET_WM,
  STMT_SET_TICKET_RAW,
  STMT_SET_OUTAGE_RAW,
  STMT_TICKET_RAWS,
  STMT_OUTAGE_RAWS,
  STMT_TICKET_RAWS_SCAN,
  STMT_OUTAGE_RAWS_SCAN,
  STMT_RAWS_SHARE,
  STMT_NEW_TICKET,
  STMT_NEW_OUTAGE,
  STMT_ANY_TICKET,
  STMT_ANY_OUTAGE,
  STMT_COUNT
};

/* The columns a ticket is read with (sq_load_tickets, STMT_LOAD_TICKET). */
#define TICKET_COLS                                                  \
  "source,id,key,title,kind,kind_raw,priority,priority_raw,status,"  \
  "status_raw,service,grp,created_at,first_response_at,resolved_at," \
  "closed_at,updated_at,reported_response_breached,"                 \
  "reported_resolution_breached"

static const char *const stmt_sql[STMT_COUNT] = {
    /* The unchanged case of a put is this one lookup (primary key). */
    [STMT_TICKET_DIGEST] =
        "SELECT digest, deleted_at, raw_digest FROM tickets WHERE source=?1 "
        "AND id=?2",
    [STMT_LOAD_TICKET] = "SELECT " TICKET_COLS
                         ",deleted_at FROM tickets WHERE source=?1 AND id=?2",
    [STMT_LOAD_TICKET_PAUSES] =
        "SELECT start,end FROM pauses WHERE source=?1 "
        "AND ticket_id=?2 ORDER BY start",
    [STMT_SET_TICKET_DIGEST] =
        "UPDATE tickets SET digest=?3, raw_digest=?4 WHERE source=?1 AND "
        "id=?2",
    [STMT_OUTAGE_DIGEST] =
        "SELECT digest, deleted_at, raw_digest FROM outages WHERE source=?1 "
        "AND id=?2",
    [STMT_LOAD_OUTAGE] =
        "SELECT service,kind,kind_raw,start,end,updated_at,deleted_at FROM "
        "outages WHERE source=?1 AND id=?2",
    [STMT_SET_OUTAGE_DIGEST] =
        "UPDATE outages SET digest=?3, raw_digest=?4 WHERE source=?1 AND "
        "id=?2",
    [STMT_PUT_CHANGE] =
        "INSERT INTO changes(source,record_id,kind,field,old_value,"
        "new_value,run_id,detected_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
    [STMT_PUT_TICKET] =
        "INSERT INTO tickets(source,id,key,title,kind,kind_raw,priority,"
        "priority_raw,status,status_raw,service,grp,created_at,"
        "first_response_at,resolved_at,closed_at,updated_at,deleted_at,"
        "reported_response_breached,reported_resolution_breached,digest,"
        "raw_digest) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,"
        "NULL,?18,?19,?20,?21) ON CONFLICT(source,id) DO UPDATE SET key=?3,"
        "title=?4,kind=?5,kind_raw=?6,priority=?7,priority_raw=?8,status=?9,"
        "status_raw=?10,service=?11,grp=?12,created_at=?13,"
        "first_response_at=?14,resolved_at=?15,closed_at=?16,updated_at=?17,"
        "deleted_at=NULL,reported_response_breached=?18,"
        "reported_resolution_breached=?19,digest=?20,raw_digest=?21",
    [STMT_DEL_PAUSES] = "DELETE FROM pauses WHERE source=?1 AND ticket_id=?2",
    [STMT_PUT_PAUSE] =
        "INSERT INTO pauses(source,ticket_id,start,end) VALUES(?1,?2,?3,?4)",
    [STMT_PUT_OUTAGE] =
        "INSERT INTO outages(source,id,service,kind,kind_raw,start,end,"
        "updated_at,deleted_at,digest,raw_digest) VALUES(?1,?2,?3,?4,?5,?6,"
        "?7,?8,NULL,?9,?10) ON CONFLICT(source,id) DO UPDATE SET service=?3,"
        "kind=?4,kind_raw=?5,start=?6,end=?7,updated_at=?8,deleted_at=NULL,"
        "digest=?9,raw_digest=?10",
    [STMT_SEEN_TICKET] =
        "INSERT OR IGNORE INTO temp.seen(tbl,source,id) VALUES('t',?1,?2)",
    [STMT_SEEN_OUTAGE] =
        "INSERT OR IGNORE INTO temp.seen(tbl,source,id) VALUES('o',?1,?2)",
    [STMT_SET_WM] =
        "INSERT INTO sync_state(source,watermark) VALUES(?1,?2) "
        "ON CONFLICT(source) DO UPDATE SET watermark=max(coalesce(watermark,"
        "?2),?2)",
    /* Raw digests (schema 8): kept up to date on every put, read once per
     * sync so that unchanged raw records are skipped (ib_store_raw_digests) */
    [STMT_SET_TICKET_RAW] =
        "UPDATE tickets SET raw_digest=?3 WHERE source=?1 AND id=?2",
    [STMT_SET_OUTAGE_RAW] =
        "UPDATE outages SET raw_digest=?3 WHERE source=?1 AND id=?2",
    /* A source with nothing stored yet (its first sync): a record is
     * inserted at once, without the lookup; only an id met twice in the
     * same sync (nothing inserted) takes the comparing path. Same
     * parameters as STMT_PUT_TICKET / STMT_PUT_OUTAGE. */
    [STMT_NEW_TICKET] =
        "INSERT INTO tickets(source,id,key,title,kind,kind_raw,priority,"
        "priority_raw,status,status_raw,service,grp,created_at,"
        "first_response_at,resolved_at,closed_at,updated_at,deleted_at,"
        "reported_response_breached,reported_resolution_breached,digest,"
        "raw_digest) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
        "?15,?16,?17,NULL,?18,?19,?20,?21) ON CONFLICT(source,id) DO NOTHING",
    [STMT_NEW_OUTAGE] =
        "INSERT INTO outages(source,id,service,kind,kind_raw,start,end,"
        "updated_at,deleted_at,digest,raw_digest) VALUES(?1,?2,?3,?4,?5,?6,"
        "?7,?8,NULL,?9,?10) ON CONFLICT(source,id) DO NOTHING",
    [STMT_ANY_TICKET] = "SELECT EXISTS(SELECT 1 FROM tickets WHERE source=?1)",
    [STMT_ANY_OUTAGE] = "SELECT EXISTS(SELECT 1 FROM outages WHERE source=?1)",
    [STMT_TICKET_RAWS] =
        "SELECT id, raw_digest FROM tickets WHERE source=?1 AND deleted_at "
        "IS NULL AND raw_digest IS NOT NULL",
    [STMT_OUTAGE_RAWS] =
        "SELECT id, raw_digest FROM outages WHERE source=?1 AND deleted_at "
        "IS NULL AND raw_digest IS NOT NULL",
    /* The same rows read in storage order: when the source holds a good
     * share of the table, one sequential pass is about twice as fast as
     * the key index's order with a table lookup per row. */
    [STMT_TICKET_RAWS_SCAN] =
        "SELECT id, raw_digest FROM tickets NOT INDEXED WHERE source=?1 AND "
        "deleted_at IS NULL AND raw_digest IS NOT NULL",
    [STMT_OUTAGE_RAWS_SCAN] =
        "SELECT id, raw_digest FROM outages NOT INDEXED WHERE source=?1 AND "
        "deleted_at IS NULL AND raw_digest IS NOT NULL",
    /* What decides between the two: the rows of each table (its largest
     * rowid: rows are never deleted) and the records the source's last
     * successful run read. */
    [STMT_RAWS_SHARE] =
        "SELECT (SELECT coalesce(max(rowid),0) FROM tickets),"
        " (SELECT coalesce(max(rowid),0) FROM outages),"
        " (SELECT coalesce(records_read,0) FROM sync_runs WHERE source=?1 "
        "AND ok=1 ORDER BY id DESC LIMIT 1)",
};

typedef struct sq_store {
  ib_store base; /* first: store.c dispatches through base.ops */
  sqlite3 *db;
  char *path;
  int lock_fd;   /* the sync lock's file, once taken */
  int notify_fd; /* the notification lock's file, once taken */
  sqlite3_stmt *stmt[STMT_COUNT];
  int64_t run_id;      /* the run last begun: changes are recorded under it */
  ib_put_counts tally; /* what the puts of the open transaction did */
  int rebuild_period;  /* the period indexes were dropped for a first sync */
  /* Whether the source last put had no ticket (fresh[0]) / outage
   * (fresh[1]) stored when this store met it first (-1: not asked yet). */
  char *fresh_source; /* owned */
  int fresh[2];
  int readonly;

  /* Write-behind pages (see "write-behind pages" below). The fields up to
   * `writer` belong to the calling thread; the sqlite3 connection, tally,
   * fresh_* and the statements belong to the writer from a hand-over until
   * it is idle again, to the calling thread otherwise (page_writer.h). */
  struct sq_page *filling; /* owned: the open page's recorded writes */
  int in_page;             /* between begin and commit / rollback */
  int direct;              /* the open page writes at once, in this thread,
                              in a transaction open on the connection */
  ib_page_writer writer;   /* its page handed over: owned by it */
  struct sq_page *spare;   /* owned, guarded by writer.mu: a page written
                              and emptied, refilled by the next begin
                              without new allocations */
  /* The checkpointer (its fields below are guarded by writer.mu): while pages
   * are written behind, a second connection copies the committed WAL frames
   * into the database file on its own thread (the writer's connection does not
   * checkpoint then), so that the copy overlaps the writing instead of stalling
   * it every 1000 WAL pages. A checkpoint that cannot finish only leaves frames
   * for the next one and for the close. */
  sqlite3 *ckpt_db; /* owned: its connection; NULL: none (the writer's
                       connection checkpoints as usual) */
  pthread_t ckpt;
  int ckpt_due;      /* a page was committed since the last checkpoint */
  int ckpt_stopping; /* close: the checkpointer ends */
  /* The WAL restarts from its beginning only at a commit whose transaction
   * began with every frame copied; a writer that always begins its next
   * page before the copy ends would grow it to the size of the load. Past
   * WAL_CATCH_UP_BYTES the writer waits for a copy begun after its
   * commit: its next page then restarts the WAL. */
  int wal_frames;   /* frames in the WAL after the last commit (the
                       connection's owner's) */
  int wal_catch_up; /* WAL_CATCH_UP_BYTES in frames of this store's pages */
  unsigned ckpt_asked, ckpt_done; /* checkpoints asked / ended, by number */
} sq_store;

static void sq_close(ib_store *base);
static void stop_checkpointer(sq_store *st);
#define WAL_CATCH_UP_BYTES (16 * 1024 * 1024)

/* Before an operation that is not a recorded write: waits until the writer
 * thread is idle and reports a page it failed to write; a read (SETTLE_READ)
 * in an open page that recorded writes, or any write (SETTLE_WRITE) in an
 * open page, first writes that page's records at once, in a transaction of
 * this thread, so that it sees and joins them (the page is then direct). */
enum { SETTLE_READ, SETTLE_WRITE };
static int settle(sq_store *st, int mode, char *err, size_t errlen);
static int write_handed(void *store, void *page, int final, ib_put_counts *done,
                        char *err, size_t errlen);
static void page_written(ib_page_writer *w, void *store, int ok);
struct sq_page;
static void page_free(struct sq_page *p);

/* The period indexes (migration 7), created again when missing by the
 * next sync, once it holds the sync lock: a first sync into an empty store
 * drops tickets_period and builds it once at its end (sq_lock_sync,
 * sq_close) -- an unsorted export scatters its inserts over them, which
 * made the first sync about twice as slow, while one sorted build at the
 * end costs a fraction of a second. A sync killed before its end leaves
 * them to the next sync; a reader meanwhile only scans (no query names an
 * index). Not at every writable open: while a first sync loads, another
 * process (a second sync, check, close) would wait for the write lock to
 * build them in the middle of the load. */
#define PERIOD_INDEXES                                                  \
  "CREATE INDEX IF NOT EXISTS tickets_period ON tickets(resolved_at, "  \
  "created_at);"                                                        \
  "CREATE INDEX IF NOT EXISTS tickets_reversed ON tickets(created_at, " \
  "resolved_at) WHERE resolved_at < created_at;"
static void sq_rollback(ib_store *base);

/* Schema history: each entry moves user_version from i to i + 1. */
static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE tickets("
    " source TEXT NOT NULL, id TEXT NOT NULL, key TEXT, title TEXT,"
    " kind TEXT NOT NULL, kind_raw TEXT, priority INTEGER, priority_raw TEXT,"
    " status TEXT NOT NULL, status_raw TEXT, service TEXT, grp TEXT,"
    " created_at INTEGER NOT NULL, first_response_at INTEGER,"
    " resolved_at INTEGER, closed_at INTEGER, updated_at INTEGER,"
    " deleted_at INTEGER, reported_response_breached INTEGER,"
    " reported_resolution_breached INTEGER, PRIMARY KEY(source, id));"
    "CREATE TABLE pauses(source TEXT NOT NULL, ticket_id TEXT NOT NULL,"
    " start INTEGER NOT NULL, end INTEGER);"
    "CREATE INDEX pauses_ticket ON pauses(source, ticket_id);"
    "CREATE TABLE outages(source TEXT NOT NULL, id TEXT NOT NULL,"
    " service TEXT, kind TEXT NOT NULL, kind_raw TEXT, start INTEGER NOT NULL,"
    " end INTEGER, updated_at INTEGER, deleted_at INTEGER,"
    " PRIMARY KEY(source, id));"
    "CREATE TABLE sync_state(source TEXT PRIMARY KEY, watermark INTEGER);"
    "CREATE TABLE sync_runs(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " source TEXT NOT NULL, full INTEGER NOT NULL, started_at INTEGER NOT NULL,"
    " ended_at INTEGER, ok INTEGER, records_read INTEGER,"
    " records_stored INTEGER, records_rejected INTEGER, error TEXT);"
    "CREATE INDEX sync_runs_source ON sync_runs(source, id);",
    /* 2: records a source sent that could not be stored, kept until a good
     * version of them arrives (fetched again by id at each sync) */
    "CREATE TABLE rejected(source TEXT NOT NULL, id TEXT NOT NULL,"
    " position TEXT, reason TEXT NOT NULL, first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL, PRIMARY KEY(source, id));",
    /* 3: history (SPEC §9): each row's digest (store_rows.h; NULL until the
     * row is next compared), and every field change a sync detected */
    "ALTER TABLE tickets ADD COLUMN digest INTEGER;"
    "ALTER TABLE outages ADD COLUMN digest INTEGER;"
    "CREATE TABLE changes(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " source TEXT NOT NULL, record_id TEXT NOT NULL, kind TEXT NOT NULL,"
    " field TEXT NOT NULL, old_value TEXT, new_value TEXT,"
    " run_id INTEGER NOT NULL, detected_at INTEGER NOT NULL);"
    "CREATE INDEX changes_record ON changes(source, record_id, seq);",
    /* 4: closed months (SPEC §9): the chain of editions, append-only */
    "CREATE TABLE editions(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " month TEXT NOT NULL, closed_at INTEGER NOT NULL, as_of INTEGER NOT NULL,"
    " hash TEXT NOT NULL UNIQUE, prev_hash TEXT, replaces TEXT, reason TEXT,"
    " body TEXT NOT NULL);"
    "CREATE INDEX editions_month ON editions(month, seq);"
    "CREATE TRIGGER editions_no_update BEFORE UPDATE ON editions BEGIN"
    " SELECT RAISE(ABORT, 'editions are append-only'); END;"
    "CREATE TRIGGER editions_no_delete BEFORE DELETE ON editions BEGIN"
    " SELECT RAISE(ABORT, 'editions are append-only'); END;",
    /* 5: late changes of a period are those detected after it ended: read
     * from this index, not by scanning the whole history */
    "CREATE INDEX changes_detected ON changes(detected_at);",
    /* 6: alert notifications (SPEC §10): per (rule, webhook), the message
     * owed (firing or resolved), since when it fires, the last delivery and
     * whether the message owed is still undelivered */
    "CREATE TABLE alert_state(rule TEXT NOT NULL, webhook TEXT NOT NULL,"
    " firing INTEGER NOT NULL, since INTEGER, last_sent INTEGER,"
    " pending INTEGER NOT NULL, PRIMARY KEY(rule, webhook));",
    /* 7: a period's tickets and outages found by index, so that a month
     * costs what the month holds, not what the store holds (TICKET_COHORT
     * below): tickets by resolution (then creation: an open ticket is a
     * NULL resolution), the few resolved "before" their creation by
     * creation, outages by end (NULL while ongoing) */
    "CREATE INDEX tickets_period ON tickets(resolved_at, created_at);"
    "CREATE INDEX tickets_reversed ON tickets(created_at, resolved_at)"
    " WHERE resolved_at < created_at;"
    "CREATE INDEX outages_period ON outages(end, start);",
    /* 8: the digest of the raw form each record was converted from, so
     * that a sync skips the records whose raw form did not change
     * (plugin.h, raw_unchanged); NULL: none (not yet, or a plugin that
     * gives none) */
    ("ALTER TABLE tickets ADD COLUMN raw_digest INTEGER;"
     "ALTER TABLE outages ADD COLUMN raw_digest INTEGER;"),
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static int db_fail(sq_store *st, char *err, size_t errlen, const char *what) {
  snprintf(err, errlen, "store %s: %s: %s", st->path, what,
           sqlite3_errmsg(st->db));
  return -1;
}

static int exec(sq_store *st, const char *sql, char *err, size_t errlen) {
  char *msg = NULL;
  if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(err, errlen, "store %s: %s", st->path, msg ? msg : "error");
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

static int mkdirs_for(const char *path, char *err, size_t errlen) {
  char *copy = strdup(path);
  if (copy == NULL) return -1;
  char *dir = dirname(copy);
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) goto fail;
    *p = '/';
  }
  if (mkdir(dir, 0750) != 0 && errno != EEXIST) goto fail;
  free(copy);
  return 0;
fail:
  snprintf(err, errlen, "store %s: cannot create directory %s: %s", path, dir,
           strerror(errno));
  free(copy);
  return -1;
}

/* The store's schema version; -1 (with err) when it cannot be read or is
 * newer than this build understands. */
static int schema_version(sq_store *st, int *version, char *err,
                          size_t errlen) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL))
    return db_fail(st, err, errlen, "reading the schema version");
  *version = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
  sqlite3_finalize(q);
  if (*version > SCHEMA_VERSION) {
    snprintf(err, errlen,
             "store %s: schema version %d is newer than this itsm-bridge "
             "understands (%d): upgrade itsm-bridge",
             st->path, *version, SCHEMA_VERSION);
    return -1;
  }
  return 0;
}

static int migrate(sq_store *st, char *err, size_t errlen) {
  int version;
  if (schema_version(st, &version, err, errlen)) return -1;
  for (int v = version; v < SCHEMA_VERSION; v++) {
    char set[64];
    snprintf(set, sizeof set, "PRAGMA user_version=%d;", v + 1);
    if (exec(st, "BEGIN IMMEDIATE", err, errlen)) return -1;
    if (exec(st, migrations[v], err, errlen) || exec(st, set, err, errlen)) {
      sq_rollback(&st->base);
      return -1;
    }
    if (exec(st, "COMMIT", err, errlen)) return -1;
  }
  return 0;
}

static const ib_store_ops sq_ops;

/* Whether the connection can read the store: a WAL database read by a user
 * who cannot create its -shm file (read-only folder or media) fails on the
 * first read, not at open. */
static int readable(sq_store *st) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_master", -1, &q,
                         NULL) != SQLITE_OK)
    return 0;
  int ok = sqlite3_step(q) == SQLITE_ROW;
  sqlite3_finalize(q);
  return ok;
}

static int open_readonly(sq_store *st, const char *path, char *err,
                         size_t errlen) {
  struct stat sb;
  if (stat(path, &sb) != 0) {
    snprintf(err, errlen,
             "store %s: %s; run 'itsm-bridge sync' first to create it", path,
             strerror(errno));
    return -1;
  }
  if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                      NULL) == SQLITE_OK &&
      (sqlite3_busy_timeout(st->db, 10000), readable(st)))
    return 0;
  sqlite3_close(st->db);
  st->db = NULL;
  /* Fallback: the -shm (WAL index) cannot be created here. immutable=1
   * reads the main file without any locking or WAL index; it is only
   * correct while nobody writes the store and no committed page waits in
   * a -wal. Nobody writes: a writer with the store open in WAL mode would
   * have created the -shm file already, and a read-only folder or medium
   * cannot hold one. A non-empty -wal (a sync killed, or a reader left
   * it) holds committed pages immutable=1 would not see: refuse then. */
  char wal[4096];
  snprintf(wal, sizeof wal, "%s-wal", path);
  if (stat(wal, &sb) == 0 && sb.st_size > 0) {
    snprintf(
        err, errlen,
        "store %s: cannot read its write-ahead log %s (%s): give this "
        "user read access to it and to %s-shm, or run a sync so that the "
        "log is folded into the store",
        path, wal,
        access(wal, R_OK) == 0 ? "no -shm can be created" : strerror(EACCES),
        path);
    return -1;
  }
  char *uri = sqlite3_mprintf("file:%s?immutable=1", path);
  if (uri == NULL) {
    snprintf(err, errlen, "store: out of memory");
    return -1;
  }
  int rc = sqlite3_open_v2(
      uri, &st->db,
      SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
  sqlite3_free(uri);
  if (rc != SQLITE_OK || !readable(st)) {
    snprintf(err, errlen,
             "store %s: cannot open it for reading: %s; check that this user "
             "may read it",
             path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
    return -1;
  }
  return 0;
}

static int schema_current(sq_store *st, char *err, size_t errlen) {
  int version;
  if (schema_version(st, &version, err, errlen)) return -1;
  if (version < SCHEMA_VERSION) {
    snprintf(err, errlen,
             "store %s: schema version %d is older than this itsm-bridge "
             "reads (%d): run 'itsm-bridge sync' once to migrate it",
             st->path, version, SCHEMA_VERSION);
    return -1;
  }
  return 0;
}

ib_store *ib_store_sqlite_open(const ib_store_cfg *cfg, int readonly, char *err,
                               size_t errlen) {
  sq_store *st = calloc(1, sizeof *st); /* owned by the caller: sq_close */
  if (st == NULL || (st->path = strdup(cfg->path)) == NULL) {
    snprintf(err, errlen, "store: out of memory");
    free(st);
    return NULL;
  }
  st->base.ops = &sq_ops;
  st->lock_fd = -1;
  st->notify_fd = -1;
  ib_page_writer_init(&st->writer, st, write_handed, page_written);
  /* A store that does not exist yet is created empty, as a reading
   * command always did: kpi on a fresh installation reports no tickets
   * rather than failing. */
  struct stat sb;
  if (readonly && stat(cfg->path, &sb) != 0 && errno == ENOENT) readonly = 0;
  st->readonly = readonly;
  if (readonly) {
    if (open_readonly(st, cfg->path, err, errlen) ||
        schema_current(st, err, errlen))
      goto fail;
    return &st->base;
  }
  if (mkdirs_for(cfg->path, err, errlen)) goto fail;
  /* Ticket data is not for every local user: the file, and the -wal/-shm
   * SQLite creates beside it later, are created owner-only. SQLite gives
   * -wal/-shm the main file's mode; the umask covers the first creation.
   * The process is single-threaded here, so the umask change is safe. */
  mode_t old_mask = umask(077);
  /* No allocation statistics (nothing here reads them): each of SQLite's
   * allocations then takes no global mutex. Only possible before SQLite's
   * first use in the process; later calls change nothing. */
  (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  int rc = sqlite3_open_v2(
      cfg->path, &st->db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(st->db, 10000);
    /* 16 KiB pages for a new store (an existing one keeps its own: the
     * size only applies before the first table): a first load of 300,000
     * rows took about 13 % less time than with 4 KiB pages, re-syncs and
     * month KPIs no more. */
    rc = exec(st,
              "PRAGMA page_size=16384;"
              "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
              "PRAGMA foreign_keys=ON;",
              err, errlen) ||
                 migrate(st, err, errlen)
             ? -1
             : SQLITE_OK;
  } else {
    db_fail(st, err, errlen, "cannot open");
    rc = -1;
  }
  umask(old_mask);
  if (rc != SQLITE_OK ||
      exec(st,
           "CREATE TEMP TABLE IF NOT EXISTS seen(tbl TEXT, source TEXT, id "
           "TEXT, PRIMARY KEY(tbl, source, id))",
           err, errlen))
    goto fail;
  for (int i = 0; i < STMT_COUNT; i++)
    if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                           &st->stmt[i], NULL) != SQLITE_OK) {
      db_fail(st, err, errlen, "preparing statements");
      goto fail;
    }
  return &st->base;
fail:
  sq_close(&st->base);
  return NULL;
}

static void sq_close(ib_store *base) {
  sq_store *st = (sq_store *)base;
  if (st == NULL) return;
  /* The page handed over is written whole (or not at all); one still
   * open was never committed: dropped. */
  ib_page_writer_stop(&st->writer);
  if (st->db && st->in_page) sq_rollback(base);
  page_free(st->filling);
  page_free(st->spare);
  for (int i = 0; i < STMT_COUNT; i++) sqlite3_finalize(st->stmt[i]);
  if (st->db && st->rebuild_period) {
    char err[256]; /* on failure the next sync builds them */
    (void)exec(st, PERIOD_INDEXES, err, sizeof err);
  }
  stop_checkpointer(st); /* it copied the last pages meanwhile */
  if (st->db) sqlite3_close(st->db);
  if (st->lock_fd >= 0) close(st->lock_fd); /* releases the flock */
  if (st->notify_fd >= 0) close(st->notify_fd);
  free(st->fresh_source);
  free(st->path);
  ib_page_writer_destroy(&st->writer);
  free(st);
}

/* The store's locks (store.h): one file each beside the database, flock'ed
 * exclusively and holding "<pid> <since>" for a refusal to quote. Separate
 * files, so that the locks never stand in each other's way. */
typedef struct sq_lock_kind {
  const char *suffix; /* appended to the database path */
  const char *holder; /* store_backend.h: IB_*_LOCK_HOLDER */
} sq_lock_kind;
static const sq_lock_kind sq_sync_lock = {".lock", IB_SYNC_LOCK_HOLDER};
static const sq_lock_kind sq_notify_lock = {".notify.lock",
                                            IB_NOTIFY_LOCK_HOLDER};

static void lock_path(const sq_store *st, const sq_lock_kind *k, char *path,
                      size_t len) {
  snprintf(path, len, "%s%s", st->path, k->suffix);
}

/* Takes lock k into *fd_out (owned by the store: closed by sq_close). */
static ib_store_lock_status take_lock(sq_store *st, const sq_lock_kind *k,
                                      int *fd_out, char *err, size_t errlen) {
  if (*fd_out >= 0) return IB_STORE_LOCK_TAKEN; /* already ours */
  char path[4096];
  lock_path(st, k, path, sizeof path);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(err, errlen, "store %s: cannot open lock file %s: %s", st->path,
             path, strerror(errno));
    return IB_STORE_LOCK_FAILED;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ib_store_lock_status busy = IB_STORE_LOCK_BUSY;
    if (errno != EWOULDBLOCK) {
      snprintf(err, errlen, "store %s: cannot lock %s: %s", st->path, path,
               strerror(errno));
      busy = IB_STORE_LOCK_FAILED;
    } else {
      char info[128] = "";
      ssize_t n = pread(fd, info, sizeof info - 1, 0);
      info[n > 0 ? n : 0] = '\0';
      long pid = 0;
      char since[64] = "unknown time";
      if (sscanf(info, "%ld %63s", &pid, since) < 1) pid = 0;
      snprintf(err, errlen, "another %s (pid %ld, since %s)", k->holder, pid,
               since);
    }
    close(fd);
    return busy;
  }
  char info[128], iso[IB_ISO_LEN];
  ib_format_iso8601((ib_time)time(NULL), iso);
  int len = snprintf(info, sizeof info, "%ld %s\n", (long)getpid(), iso);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, info, (size_t)len, 0) != len) {
    snprintf(err, errlen, "store %s: cannot write lock file %s: %s", st->path,
             path, strerror(errno));
    close(fd);
    return IB_STORE_LOCK_FAILED;
  }
  *fd_out = fd;
  return IB_STORE_LOCK_TAKEN;
}

static ib_store_lock_status sq_lock_notify(ib_store *base, char *err,
                                           size_t errlen) {
  sq_store *st = (sq_store *)base;
  return take_lock(st, &sq_notify_lock, &st->notify_fd, err, errlen);
}

static ib_store_lock_status sq_lock_sync(ib_store *base, char *err,
                                         size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_WRITE, err, errlen)) return IB_STORE_LOCK_FAILED;
  ib_store_lock_status got =
      take_lock(st, &sq_sync_lock, &st->lock_fd, err, errlen);
  if (got != IB_STORE_LOCK_TAKEN) return got;
  /* The period indexes a sync killed before its end left unbuilt. */
  if (exec(st, PERIOD_INDEXES, err, errlen)) return IB_STORE_LOCK_FAILED;
  /* A first sync (no ticket stored yet) loads without tickets_period and
   * builds it once at the end (PERIOD_INDEXES). tickets_reversed stays:
   * it holds only the few rows resolved "before" their creation, so
   * keeping it costs the load nothing, where building it would scan the
   * whole table once more. */
  sqlite3_stmt *q = NULL;
  int empty = 0;
  if (sqlite3_prepare_v2(st->db, "SELECT NOT EXISTS(SELECT 1 FROM tickets)", -1,
                         &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    empty = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  if (empty &&
      exec(st, "DROP INDEX IF EXISTS tickets_period;", err, errlen) == 0)
    st->rebuild_period = 1;
  err[0] = '\0'; /* keeping the indexes is no failure */
  return IB_STORE_LOCK_TAKEN;
}

/* ---- binding helpers ---- */

static void bind_text(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(s, i);
}
static void bind_time(sqlite3_stmt *s, int i, ib_time t) {
  if (t == IB_TIME_NONE)
    sqlite3_bind_null(s, i);
  else
    sqlite3_bind_int64(s, i, t);
}
static void bind_verdict(sqlite3_stmt *s, int i, ib_verdict v) {
  if (v == IB_VERDICT_UNKNOWN)
    sqlite3_bind_null(s, i);
  else
    sqlite3_bind_int(s, i, v == IB_VERDICT_BREACHED);
}
static int step_done(sq_store *st, sqlite3_stmt *s, char *err, size_t errlen,
                     const char *what) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_DONE) return db_fail(st, err, errlen, what);
  return 0;
}

/* A deferred transaction: its first SELECT takes a WAL snapshot that every
 * later read in it shares, while a sync keeps committing. */
static int sq_begin_read(ib_store *base, char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_READ, err, errlen)) return -1;
  return exec(st, "BEGIN DEFERRED", err, errlen);
}
static void sq_end_read(ib_store *base) {
  sq_store *st = (sq_store *)base;
  ib_page_writer_wait_idle(&st->writer);
  /* nothing was written: ending it is enough */
  if (!st->in_page && !sqlite3_get_autocommit(st->db))
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Defined with the reading code below: the stored row of (source, id),
 * appended to *set (pauses included) / written to *out (strings owned by
 * the caller: free_outage_strings). */
static int load_one_ticket(sq_store *st, const char *source, const char *id,
                           ib_ticket_set *set, char *err, size_t errlen);
static int load_one_outage(sq_store *st, const char *source, const char *id,
                           ib_outage_row *out, char *err, size_t errlen);

/* The stored digest of (source, id), and whether the row is marked
 * deleted. */
static int lookup_digest(sq_store *st, int stmt, const char *source,
                         const char *id, ib_stored_digest *out, char *err,
                         size_t errlen) {
  sqlite3_stmt *s = st->stmt[stmt];
  bind_text(s, 1, source);
  bind_text(s, 2, id);
  int rc = sqlite3_step(s);
  out->exists = rc == SQLITE_ROW;
  out->has_digest = out->exists && sqlite3_column_type(s, 0) != SQLITE_NULL;
  out->digest = out->has_digest ? sqlite3_column_int64(s, 0) : 0;
  out->deleted = out->exists && sqlite3_column_type(s, 1) != SQLITE_NULL;
  out->raw_digest =
      out->exists ? (uint64_t)sqlite3_column_int64(s, 2) : 0; /* NULL: 0 */
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_fail(st, err, errlen, "comparing a record with the store");
  return 0;
}

static void bind_raw(sqlite3_stmt *s, int i, uint64_t raw) {
  if (raw == 0)
    sqlite3_bind_null(s, i);
  else
    sqlite3_bind_int64(s, i, (int64_t)raw);
}

static int set_digest(sq_store *st, int stmt, const char *source,
                      const char *id, int64_t digest, uint64_t raw, char *err,
                      size_t errlen) {
  sqlite3_stmt *s = st->stmt[stmt];
  bind_text(s, 1, source);
  bind_text(s, 2, id);
  sqlite3_bind_int64(s, 3, digest);
  bind_raw(s, 4, raw);
  return step_done(st, s, err, errlen, "storing a record's digest");
}

/* An unchanged record whose raw form changed (or was not recorded): its
 * new raw digest, so that the next sync can skip it. */
static int set_raw(sq_store *st, int stmt, const ib_stored_digest *stored,
                   const char *source, const char *id, uint64_t raw, char *err,
                   size_t errlen) {
  if (raw == stored->raw_digest) return 0;
  sqlite3_stmt *s = st->stmt[stmt];
  bind_text(s, 1, source);
  bind_text(s, 2, id);
  bind_raw(s, 3, raw);
  return step_done(st, s, err, errlen, "storing a record's raw digest");
}

/* Records the changes of one record, stamped with the current run. */
static int put_changes(sq_store *st, const char *source, const char *id,
                       const ib_change_list *changes, ib_time now, char *err,
                       size_t errlen) {
  for (size_t i = 0; i < changes->n; i++) {
    const ib_change *c = &changes->items[i];
    sqlite3_stmt *s = st->stmt[STMT_PUT_CHANGE];
    bind_text(s, 1, source);
    bind_text(s, 2, id);
    bind_text(s, 3, c->kind);
    bind_text(s, 4, c->field);
    bind_text(s, 5, c->old_value);
    bind_text(s, 6, c->new_value);
    sqlite3_bind_int64(s, 7, st->run_id);
    sqlite3_bind_int64(s, 8, now);
    if (step_done(st, s, err, errlen, "recording a change")) return -1;
  }
  return 0;
}

static int track(sq_store *st, int stmt, const char *source, const char *id,
                 char *err, size_t errlen) {
  sqlite3_stmt *s = st->stmt[stmt];
  bind_text(s, 1, source);
  bind_text(s, 2, id);
  return step_done(st, s, err, errlen, "tracking a record");
}

/* Whether `source` had nothing stored in `table` (0 tickets, 1 outages)
 * when first met by this store: its puts then insert at once. -1 on a
 * database error. */
static int source_fresh(sq_store *st, int table, const char *source, char *err,
                        size_t errlen) {
  if (st->fresh_source == NULL || strcmp(st->fresh_source, source) != 0) {
    char *copy = strdup(source);
    if (copy == NULL) return 0; /* then every put looks up: still right */
    free(st->fresh_source);
    st->fresh_source = copy;
    st->fresh[0] = st->fresh[1] = -1;
  }
  if (st->fresh[table] < 0) {
    sqlite3_stmt *s = st->stmt[table ? STMT_ANY_OUTAGE : STMT_ANY_TICKET];
    bind_text(s, 1, source);
    int rc = sqlite3_step(s);
    int any = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 1;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW)
      return db_fail(st, err, errlen, "looking for the source's records");
    st->fresh[table] = !any;
  }
  return st->fresh[table];
}

/* Writes ticket t with STMT_PUT_TICKET (insert or replace) or, with
 * STMT_NEW_TICKET, inserts it unless its id is stored: *written says
 * whether it was (its pauses are written only then). */
static int write_ticket(sq_store *st, int stmt, const ib_ticket_row *t,
                        int64_t digest, int replace_pauses, int *written,
                        char *err, size_t errlen) {
  sqlite3_stmt *s = st->stmt[stmt];
  bind_text(s, 1, t->source);
  bind_text(s, 2, t->id);
  bind_text(s, 3, t->key);
  bind_text(s, 4, t->title);
  bind_text(s, 5, ib_kind_name(t->kind));
  bind_text(s, 6, t->kind_raw);
  if (t->priority > 0)
    sqlite3_bind_int(s, 7, t->priority);
  else
    sqlite3_bind_null(s, 7);
  bind_text(s, 8, t->priority_raw);
  bind_text(s, 9, ib_state_name(t->status));
  bind_text(s, 10, t->status_raw);
  bind_text(s, 11, t->service);
  bind_text(s, 12, t->group);
  bind_time(s, 13, t->created_at);
  bind_time(s, 14, t->first_response_at);
  bind_time(s, 15, t->resolved_at);
  bind_time(s, 16, t->closed_at);
  bind_time(s, 17, t->updated_at);
  bind_verdict(s, 18, t->reported_response_breached);
  bind_verdict(s, 19, t->reported_resolution_breached);
  sqlite3_bind_int64(s, 20, digest);
  bind_raw(s, 21, t->raw_digest);
  if (step_done(st, s, err, errlen, "storing a ticket")) return -1;
  *written = stmt == STMT_PUT_TICKET || sqlite3_changes(st->db) > 0;
  if (!*written) return 0;
  if (replace_pauses) {
    s = st->stmt[STMT_DEL_PAUSES];
    bind_text(s, 1, t->source);
    bind_text(s, 2, t->id);
    if (step_done(st, s, err, errlen, "replacing pauses")) return -1;
  }
  for (size_t i = 0; i < t->n_pauses; i++) {
    s = st->stmt[STMT_PUT_PAUSE];
    bind_text(s, 1, t->source);
    bind_text(s, 2, t->id);
    bind_time(s, 3, t->pauses[i].start);
    bind_time(s, 4, t->pauses[i].end);
    if (step_done(st, s, err, errlen, "storing a pause")) return -1;
  }
  return 0;
}

/* Compare, then write only what changed (store.h, store_rows.h's steps).
 * A stored row without a digest (a store migrated from schema 2) is loaded
 * once and compared field by field; an equal one only gets its digest. */
static int put_ticket_now(ib_store *base, const ib_ticket_row *t,
                          int64_t digest, int track_seen, char *err,
                          size_t errlen) {
  sq_store *st = (sq_store *)base;
  ib_stored_digest stored;
  int rc = -1;
  ib_ticket_set old = {0};      /* owned: ib_ticket_set_free */
  ib_change_list changes = {0}; /* owned: ib_change_list_free */
  int fresh = source_fresh(st, 0, t->source, err, errlen), written = 0;
  ib_put_step step = IB_STEP_INSERT;
  if (fresh < 0 || (fresh && write_ticket(st, STMT_NEW_TICKET, t, digest, 0,
                                          &written, err, errlen)))
    goto fail;
  if (written) goto done; /* new, as nothing was stored before this sync */
  if (lookup_digest(st, STMT_TICKET_DIGEST, t->source, t->id, &stored, err,
                    errlen))
    goto fail;
  step = ib_put_first_step(&stored, digest);
  if (step == IB_STEP_COMPARE) {
    if (load_one_ticket(st, t->source, t->id, &old, err, errlen)) goto fail;
    if (ib_ticket_settle(&old.rows[0], t, digest, &changes, &step) != 0) {
      snprintf(err, errlen, "store: out of memory comparing ticket %s", t->id);
      goto fail;
    }
  }
  if (step == IB_STEP_INSERT || step == IB_STEP_UPDATE) {
    int replace_pauses = step == IB_STEP_UPDATE && old.rows[0].n_pauses > 0;
    if (write_ticket(st, STMT_PUT_TICKET, t, digest, replace_pauses, &written,
                     err, errlen) ||
        put_changes(st, t->source, t->id, &changes, (ib_time)time(NULL), err,
                    errlen))
      goto fail;
  } else if (step == IB_STEP_SET_DIGEST) {
    if (set_digest(st, STMT_SET_TICKET_DIGEST, t->source, t->id, digest,
                   t->raw_digest, err, errlen))
      goto fail;
  } else if (set_raw(st, STMT_SET_TICKET_RAW, &stored, t->source, t->id,
                     t->raw_digest, err, errlen)) {
    goto fail;
  }
done:
  if (track_seen && track(st, STMT_SEEN_TICKET, t->source, t->id, err, errlen))
    goto fail;
  ib_put_counts_add(&st->tally, step);
  rc = 0;
fail:
  ib_ticket_set_free(&old);
  ib_change_list_free(&changes);
  return rc;
}

static void free_outage_strings(ib_outage_row *o) {
  free(o->service);
  free(o->kind_raw);
}

/* As write_ticket. */
static int write_outage(sq_store *st, int stmt, const ib_outage_row *o,
                        int64_t digest, int *written, char *err,
                        size_t errlen) {
  sqlite3_stmt *s = st->stmt[stmt];
  bind_text(s, 1, o->source);
  bind_text(s, 2, o->id);
  bind_text(s, 3, o->service);
  bind_text(s, 4, ib_outage_kind_name(o->kind));
  bind_text(s, 5, o->kind_raw);
  bind_time(s, 6, o->start);
  bind_time(s, 7, o->end);
  bind_time(s, 8, o->updated_at);
  sqlite3_bind_int64(s, 9, digest);
  bind_raw(s, 10, o->raw_digest);
  if (step_done(st, s, err, errlen, "storing an outage")) return -1;
  *written = stmt == STMT_PUT_OUTAGE || sqlite3_changes(st->db) > 0;
  return 0;
}

static int put_outage_now(ib_store *base, const ib_outage_row *o,
                          int64_t digest, int track_seen, char *err,
                          size_t errlen) {
  sq_store *st = (sq_store *)base;
  ib_stored_digest stored;
  int rc = -1;
  ib_outage_row old = {0}; /* strings owned: free_outage_strings */
  ib_change_list changes = {0};
  int fresh = source_fresh(st, 1, o->source, err, errlen), written = 0;
  ib_put_step step = IB_STEP_INSERT;
  if (fresh < 0 || (fresh && write_outage(st, STMT_NEW_OUTAGE, o, digest,
                                          &written, err, errlen)))
    goto fail;
  if (written) goto done; /* new, as nothing was stored before this sync */
  if (lookup_digest(st, STMT_OUTAGE_DIGEST, o->source, o->id, &stored, err,
                    errlen))
    goto fail;
  step = ib_put_first_step(&stored, digest);
  if (step == IB_STEP_COMPARE) {
    if (load_one_outage(st, o->source, o->id, &old, err, errlen)) goto fail;
    if (ib_outage_settle(&old, o, digest, &changes, &step) != 0) {
      snprintf(err, errlen, "store: out of memory comparing outage %s", o->id);
      goto fail;
    }
  }
  if (step == IB_STEP_INSERT || step == IB_STEP_UPDATE) {
    if (write_outage(st, STMT_PUT_OUTAGE, o, digest, &written, err, errlen) ||
        put_changes(st, o->source, o->id, &changes, (ib_time)time(NULL), err,
                    errlen))
      goto fail;
  } else if (step == IB_STEP_SET_DIGEST) {
    if (set_digest(st, STMT_SET_OUTAGE_DIGEST, o->source, o->id, digest,
                   o->raw_digest, err, errlen))
      goto fail;
  } else if (set_raw(st, STMT_SET_OUTAGE_RAW, &stored, o->source, o->id,
                     o->raw_digest, err, errlen)) {
    goto fail;
  }
done:
  if (track_seen && track(st, STMT_SEEN_OUTAGE, o->source, o->id, err, errlen))
    goto fail;
  ib_put_counts_add(&st->tally, step);
  rc = 0;
fail:
  free_outage_strings(&old);
  ib_change_list_free(&changes);
  return rc;
}

static int set_watermark_now(ib_store *base, const char *source, ib_time wm,
                             char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (wm == IB_TIME_NONE) return 0;
  sqlite3_stmt *s = st->stmt[STMT_SET_WM];
  bind_text(s, 1, source);
  sqlite3_bind_int64(s, 2, wm);
  return step_done(st, s, err, errlen, "advancing the watermark");
}

/* Runs a one-off statement with text/int64 parameters given as a format:
 * 't' text, 'i' int64, 'T' time (NONE -> NULL). */
static int run_sql(sq_store *st, const char *sql, const char *fmt,
                   const void *const *args, char *err, size_t errlen,
                   const char *what) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, what);
  for (int i = 0; fmt[i]; i++) {
    if (fmt[i] == 't')
      bind_text(s, i + 1, args[i]);
    else if (fmt[i] == 'i')
      sqlite3_bind_int64(s, i + 1, *(const int64_t *)args[i]);
    else
      bind_time(s, i + 1, *(const ib_time *)args[i]);
  }
  int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return db_fail(st, err, errlen, what);
  return 0;
}

static int sq_reset_watermark(ib_store *base, const char *source, char *err,
                              size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_WRITE, err, errlen)) return -1;
  const void *args[] = {source};
  return run_sql(st, "DELETE FROM sync_state WHERE source=?1", "t", args, err,
                 errlen, "resetting the watermark");
}

static int sq_run_begin(ib_store *base, const char *source, int full,
                        int64_t *run_id, char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_WRITE, err, errlen)) return -1;
  int64_t f = full, now = (int64_t)time(NULL);
  const void *args[] = {source, &f, &now};
  if (run_sql(st,
              "INSERT INTO sync_runs(source,full,started_at) VALUES(?1,?2,?3)",
              "tii", args, err, errlen, "recording the run"))
    return -1;
  *run_id = st->run_id = sqlite3_last_insert_rowid(st->db);
  return 0;
}

static int sq_run_end(ib_store *base, int64_t run_id, int ok, int64_t read,
                      int64_t stored, int64_t rejected, const char *error,
                      char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_WRITE, err, errlen)) return -1;
  int64_t okv = ok, now = (int64_t)time(NULL);
  const void *args[] = {&run_id, &okv, &now, &read, &stored, &rejected, error};
  return run_sql(
      st,
      "UPDATE sync_runs SET ok=?2, ended_at=?3, records_read=?4,"
      " records_stored=?5, records_rejected=?6, error=?7 WHERE id=?1",
      "iiiiiit", args, err, errlen, "recording the run");
}

/* Records a deleted_at change for each row about to be marked, then marks
 * them (same condition, same transaction). */
static int sq_mark_unseen_deleted(ib_store *base, const char *source,
                                  ib_time now, int64_t *count, char *err,
                                  size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_WRITE, err, errlen)) return -1;
  char iso[IB_ISO_LEN];
  ib_format_iso8601(now, iso);
  const void *args[] = {source, &now, iso, &st->run_id};
  if (run_sql(st,
              "INSERT INTO changes(source,record_id,kind,field,old_value,"
              "new_value,run_id,detected_at) SELECT source,id,'ticket',"
              "'deleted_at',NULL,?3,?4,?2 FROM tickets WHERE source=?1 AND "
              "deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM temp.seen s "
              "WHERE s.tbl='t' AND s.source=tickets.source AND "
              "s.id=tickets.id)",
              "tTti", args, err, errlen, "recording vanished tickets") ||
      run_sql(st,
              "UPDATE tickets SET deleted_at=?2 WHERE source=?1 AND deleted_at "
              "IS NULL AND NOT EXISTS (SELECT 1 FROM temp.seen s WHERE "
              "s.tbl='t' AND s.source=tickets.source AND s.id=tickets.id)",
              "tT", args, err, errlen, "marking vanished tickets"))
    return -1;
  *count = sqlite3_changes(st->db);
  if (run_sql(st,
              "INSERT INTO changes(source,record_id,kind,field,old_value,"
              "new_value,run_id,detected_at) SELECT source,id,'outage',"
              "'deleted_at',NULL,?3,?4,?2 FROM outages WHERE source=?1 AND "
              "deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM temp.seen s "
              "WHERE s.tbl='o' AND s.source=outages.source AND "
              "s.id=outages.id)",
              "tTti", args, err, errlen, "recording vanished outages") ||
      run_sql(st,
              "UPDATE outages SET deleted_at=?2 WHERE source=?1 AND deleted_at "
              "IS NULL AND NOT EXISTS (SELECT 1 FROM temp.seen s WHERE "
              "s.tbl='o' AND s.source=outages.source AND s.id=outages.id)",
              "tT", args, err, errlen, "marking vanished outages"))
    return -1;
  *count += sqlite3_changes(st->db);
  return 0;
}

static int sq_raw_digests(ib_store *base, const char *source,
                          ib_record_type type, ib_raw_digest_fn each, void *ctx,
                          char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_READ, err, errlen)) return -1;
  int outages = type == IB_RECORD_OUTAGE, scan = 0;
  sqlite3_stmt *s = st->stmt[STMT_RAWS_SHARE];
  bind_text(s, 1, source);
  if (sqlite3_step(s) == SQLITE_ROW) /* else: by the index, as safe */
    scan = sqlite3_column_int64(s, 2) * 4 >= sqlite3_column_int64(s, outages);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  s = st->stmt[outages ? (scan ? STMT_OUTAGE_RAWS_SCAN : STMT_OUTAGE_RAWS)
                       : (scan ? STMT_TICKET_RAWS_SCAN : STMT_TICKET_RAWS)];
  bind_text(s, 1, source);
  int rc, stop = 0;
  while (stop == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *id = (const char *)sqlite3_column_text(s, 0);
    if (id != NULL) stop = each(ctx, id, (uint64_t)sqlite3_column_int64(s, 1));
  }
  if (stop == 0 && rc != SQLITE_DONE) {
    db_fail(st, err, errlen, "reading the records' raw digests");
    stop = -1;
  }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return stop;
}

static int mark_seen_now(ib_store *base, const char *source, const char *id,
                         char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  for (int i = 0; i < 2; i++) {
    sqlite3_stmt *s = st->stmt[i ? STMT_SEEN_OUTAGE : STMT_SEEN_TICKET];
    bind_text(s, 1, source);
    bind_text(s, 2, id);
    if (step_done(st, s, err, errlen, "tracking a rejected record")) return -1;
  }
  return 0;
}

static int sq_count_unseen(ib_store *base, const char *source, int64_t *unseen,
                           int64_t *live, char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_READ, err, errlen)) return -1;
  static const char *sql =
      "SELECT (SELECT count(*) FROM tickets t WHERE source=?1 AND deleted_at "
      "IS NULL AND NOT EXISTS (SELECT 1 FROM temp.seen s WHERE s.tbl='t' AND "
      "s.source=t.source AND s.id=t.id)) + (SELECT count(*) FROM outages o "
      "WHERE source=?1 AND deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM "
      "temp.seen s WHERE s.tbl='o' AND s.source=o.source AND s.id=o.id)),"
      " (SELECT count(*) FROM tickets WHERE source=?1 AND deleted_at IS NULL)"
      " + (SELECT count(*) FROM outages WHERE source=?1 AND deleted_at IS "
      "NULL)";
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "counting vanished records");
  bind_text(q, 1, source);
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    *unseen = sqlite3_column_int64(q, 0);
    *live = sqlite3_column_int64(q, 1);
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_ROW)
    return db_fail(st, err, errlen, "counting vanished records");
  return 0;
}

/* ---- reading ---- */

static char *col_text(sqlite3_stmt *s, int i, int *oom) {
  const unsigned char *t = sqlite3_column_text(s, i);
  if (t == NULL) return NULL;
  char *copy = strdup((const char *)t);
  if (copy == NULL) *oom = 1;
  return copy;
}

/* A ticket's text column, copied into the set's string blocks. */
static char *col_set_text(ib_ticket_set *set, sqlite3_stmt *s, int i,
                          int *oom) {
  const unsigned char *t = sqlite3_column_text(s, i);
  if (t == NULL) return NULL;
  char *copy = ib_ticket_set_strdup(set, (const char *)t,
                                    (size_t)sqlite3_column_bytes(s, i));
  if (copy == NULL) *oom = 1;
  return copy;
}
static ib_time col_time(sqlite3_stmt *s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? IB_TIME_NONE
                                                  : sqlite3_column_int64(s, i);
}
static ib_verdict col_verdict(sqlite3_stmt *s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return IB_VERDICT_UNKNOWN;
  return sqlite3_column_int(s, i) ? IB_VERDICT_BREACHED : IB_VERDICT_MET;
}

/* One row of TICKET_COLS into r (strings in the set's blocks). */
static void fill_ticket(ib_ticket_set *out, sqlite3_stmt *s, ib_ticket_row *r,
                        int *oom) {
  r->source = col_set_text(out, s, 0, oom);
  r->id = col_set_text(out, s, 1, oom);
  r->key = col_set_text(out, s, 2, oom);
  r->title = col_set_text(out, s, 3, oom);
  int k = ib_kind_parse((const char *)sqlite3_column_text(s, 4));
  r->kind = k < 0 ? IB_KIND_OTHER : (ib_kind)k;
  r->kind_raw = col_set_text(out, s, 5, oom);
  r->priority = sqlite3_column_int(s, 6);
  r->priority_raw = col_set_text(out, s, 7, oom);
  int stt = ib_state_parse((const char *)sqlite3_column_text(s, 8));
  r->status = stt < 0 ? IB_STATE_OPEN : (ib_state)stt;
  r->status_raw = col_set_text(out, s, 9, oom);
  r->service = col_set_text(out, s, 10, oom);
  r->group = col_set_text(out, s, 11, oom);
  r->created_at = col_time(s, 12);
  r->first_response_at = col_time(s, 13);
  r->resolved_at = col_time(s, 14);
  r->closed_at = col_time(s, 15);
  r->updated_at = col_time(s, 16);
  r->reported_response_breached = col_verdict(s, 17);
  r->reported_resolution_breached = col_verdict(s, 18);
}

/* Tickets whose life [created, resolved] touches [?2, ?1), and those
 * resolved "before" they were created (clock or import errors) whose
 * reversed span [resolved, created] touches it: the KPI engine keeps the
 * latter in their creation and resolution months as 0 s (store.h). */
#define TICKET_FILTER                                                   \
  " WHERE t.deleted_at IS NULL AND (((?1 IS NULL OR t.created_at < ?1)" \
  " AND (?2 IS NULL OR t.resolved_at IS NULL OR t.resolved_at >= ?2))"  \
  " OR (t.resolved_at < t.created_at"                                   \
  " AND (?1 IS NULL OR t.resolved_at < ?1)"                             \
  " AND (?2 IS NULL OR t.created_at >= ?2)))"

/* The rowids of TICKET_FILTER's tickets for two real bounds (?1 = to,
 * ?2 = from), as three disjoint arms that each read one index range and no
 * table row: resolved since `from` and created before `to`; open (NULL
 * resolution) and created before `to`; resolved before created (partial
 * index tickets_reversed) with the reversed span touching the period and
 * not already in the first arm. deleted_at is the caller's to test. */
#define TICKET_COHORT                                                     \
  "SELECT rowid FROM tickets WHERE resolved_at >= ?2 AND created_at < ?1" \
  " UNION ALL SELECT rowid FROM tickets WHERE resolved_at IS NULL AND"    \
  " created_at < ?1"                                                      \
  " UNION ALL SELECT rowid FROM tickets WHERE resolved_at < created_at"   \
  " AND created_at >= ?2 AND resolved_at < ?1 AND (created_at >= ?1 OR"   \
  " resolved_at < ?2)"

/* A period holding at least 1/COHORT_SCAN_SHARE of the store's rows is
 * read by sequential scans: past that share, probing the index row by row
 * costs more than reading every row in order (a store whose every ticket
 * is in the month must not get slower than a scan). */
#define COHORT_SCAN_SHARE 4

/* Whether the period's tickets are few enough for TICKET_COHORT: counts
 * them on the index alone, stopping at the share (so the count costs at
 * most what the load by index would). The highest rowid stands for the
 * number of rows (rows are never removed, only marked deleted). */
static int cohort_by_index(sq_store *st, ib_time from, ib_time to,
                           int *by_index, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  int64_t rows = 0, count = 0;
  *by_index = 0;
  if (sqlite3_prepare_v2(st->db, "SELECT max(rowid) FROM tickets", -1, &q,
                         NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "sizing the store");
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) rows = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  if (rc != SQLITE_ROW) return db_fail(st, err, errlen, "sizing the store");
  int64_t limit = rows / COHORT_SCAN_SHARE;
  if (limit < 1) return 0; /* a handful of rows: one scan */
  if (sqlite3_prepare_v2(st->db,
                         "SELECT count(*) FROM (" TICKET_COHORT " LIMIT ?3)",
                         -1, &q, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "sizing the period");
  bind_time(q, 1, to);
  bind_time(q, 2, from);
  sqlite3_bind_int64(q, 3, limit);
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) count = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  if (rc != SQLITE_ROW) return db_fail(st, err, errlen, "sizing the period");
  *by_index = count < limit;
  return 0;
}

/* Loads the tickets (storage order, as a scan gives) and their pauses.
 * With both bounds and a period small against the store, the period's
 * tickets come by index (TICKET_COHORT) and their pauses by the pauses'
 * (source, ticket_id) index: what the month holds. Otherwise (every
 * ticket, an open-ended period, or a period holding much of the store)
 * one sequential scan of each table. Same rows, same order either way. */
static int sq_load_tickets(ib_store *base, ib_time from, ib_time to,
                           ib_ticket_set *out, char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_READ, err, errlen)) return -1;
  int by_index = 0;
  if (from != IB_TIME_NONE && to != IB_TIME_NONE &&
      cohort_by_index(st, from, to, &by_index, err, errlen) != 0)
    return -1;
  static const char *tsql_scan =
      "SELECT " TICKET_COLS " FROM tickets t" TICKET_FILTER;
  static const char *psql_scan =
      "SELECT source,ticket_id,start,end FROM pauses";
  static const char *tsql_cohort =
      "SELECT " TICKET_COLS " FROM tickets WHERE rowid IN (" TICKET_COHORT
      ") AND deleted_at IS NULL ORDER BY rowid";
  static const char *psql_cohort =
      "SELECT p.source,p.ticket_id,p.start,p.end FROM tickets t JOIN pauses p"
      " ON p.source=t.source AND p.ticket_id=t.id WHERE t.rowid IN "
      "(" TICKET_COHORT ") AND t.deleted_at IS NULL";
  const char *tsql = by_index ? tsql_cohort : tsql_scan;
  const char *psql = by_index ? psql_cohort : psql_scan;
  sqlite3_stmt *s = NULL, *p = NULL;
  ib_row_index ix = {0};
  size_t first = out->n;
  int oom = 0;
  if (first > 0 && out->strings == NULL) {
    snprintf(err, errlen,
             "store: cannot append a bulk load to a set of "
             "individually allocated rows");
    return -1;
  }
  if (sqlite3_prepare_v2(st->db, tsql, -1, &s, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(st->db, psql, -1, &p, NULL) != SQLITE_OK) {
    db_fail(st, err, errlen, "loading tickets");
    goto fail;
  }
  bind_time(s, 1, to);
  bind_time(s, 2, from);
  if (by_index) {
    bind_time(p, 1, to);
    bind_time(p, 2, from);
  }
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    ib_ticket_row *r = ib_ticket_set_add(out);
    if (r == NULL) {
      oom = 1;
      break;
    }
    fill_ticket(out, s, r, &oom);
    if (oom) break;
  }
  if (oom || ib_row_index_build(&ix, out, first) != 0) {
    snprintf(err, errlen, "store %s: out of memory loading tickets", st->path);
    goto fail;
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    db_fail(st, err, errlen, "loading tickets");
    goto fail;
  }
  while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
    ib_ticket_row *r =
        ib_row_index_find(&ix, out, (const char *)sqlite3_column_text(p, 0),
                          (const char *)sqlite3_column_text(p, 1));
    if (r == NULL) continue; /* a ticket outside the period */
    if (ib_row_add_pause(r, col_time(p, 2), col_time(p, 3)) != 0) {
      snprintf(err, errlen, "store %s: out of memory loading pauses", st->path);
      goto fail;
    }
  }
  if (rc != SQLITE_DONE) {
    db_fail(st, err, errlen, "loading pauses");
    goto fail;
  }
  ib_rows_sort_pauses(out, first);
  ib_row_index_free(&ix);
  sqlite3_finalize(s);
  sqlite3_finalize(p);
  return 0;
fail:
  ib_row_index_free(&ix);
  sqlite3_finalize(s);
  sqlite3_finalize(p);
  return -1;
}

static int load_one_ticket(sq_store *st, const char *source, const char *id,
                           ib_ticket_set *set, char *err, size_t errlen) {
  sqlite3_stmt *s = st->stmt[STMT_LOAD_TICKET];
  int oom = 0, rc;
  bind_text(s, 1, source);
  bind_text(s, 2, id);
  rc = sqlite3_step(s);
  ib_ticket_row *r = rc == SQLITE_ROW ? ib_ticket_set_add(set) : NULL;
  if (r) {
    fill_ticket(set, s, r, &oom);
    r->deleted_at = col_time(s, 19);
  }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_ROW) return db_fail(st, err, errlen, "loading a ticket");
  if (r == NULL || oom) goto nomem;
  s = st->stmt[STMT_LOAD_TICKET_PAUSES];
  bind_text(s, 1, source);
  bind_text(s, 2, id);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if (ib_row_add_pause(r, col_time(s, 0), col_time(s, 1)) != 0) {
      oom = 1;
      break;
    }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (oom) goto nomem;
  if (rc != SQLITE_DONE) return db_fail(st, err, errlen, "loading pauses");
  ib_rows_sort_pauses(set, set->n - 1);
  return 0;
nomem:
  snprintf(err, errlen, "store %s: out of memory loading ticket %s", st->path,
           id);
  return -1;
}

static int load_one_outage(sq_store *st, const char *source, const char *id,
                           ib_outage_row *o, char *err, size_t errlen) {
  sqlite3_stmt *s = st->stmt[STMT_LOAD_OUTAGE];
  int oom = 0;
  bind_text(s, 1, source);
  bind_text(s, 2, id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    o->service = col_text(s, 0, &oom);
    int k = ib_outage_kind_parse((const char *)sqlite3_column_text(s, 1));
    o->kind = k < 0 ? IB_OUTAGE_OUTAGE : (ib_outage_kind)k;
    o->kind_raw = col_text(s, 2, &oom);
    o->start = col_time(s, 3);
    o->end = col_time(s, 4);
    o->updated_at = col_time(s, 5);
    o->deleted_at = col_time(s, 6);
  }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_ROW) return db_fail(st, err, errlen, "loading an outage");
  if (oom) {
    snprintf(err, errlen, "store %s: out of memory loading outage %s", st->path,
             id);
    return -1;
  }
  return 0;
}

static int sq_history(ib_store *base, const char *source, const char *id,
                      ib_change_list *out, int *found, char *err,
                      size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_READ, err, errlen)) return -1;
  sqlite3_stmt *s = NULL;
  *found = 0;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT EXISTS(SELECT 1 FROM tickets WHERE source=?1 "
                         "AND id=?2) OR EXISTS(SELECT 1 FROM outages WHERE "
                         "source=?1 AND id=?2)",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "reading the history");
  bind_text(s, 1, source);
  bind_text(s, 2, id);
  int rc = sqlite3_step(s);
  *found = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW) return db_fail(st, err, errlen, "reading the history");
  if (sqlite3_prepare_v2(st->db,
                         "SELECT kind,field,old_value,new_value,run_id,"
                         "detected_at FROM changes WHERE source=?1 AND "
                         "record_id=?2 ORDER BY seq",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "reading the history");
  bind_text(s, 1, source);
  bind_text(s, 2, id);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if (ib_change_list_add(out, (const char *)sqlite3_column_text(s, 0),
                           (const char *)sqlite3_column_text(s, 1),
                           (const char *)sqlite3_column_text(s, 2),
                           (const char *)sqlite3_column_text(s, 3),
                           sqlite3_column_int64(s, 4),
                           sqlite3_column_int64(s, 5)) != 0) {
      sqlite3_finalize(s);
      snprintf(err, errlen, "store %s: out of memory reading the history",
               st->path);
      return -1;
    }
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0
                           : db_fail(st, err, errlen, "reading the history");
}

static int sq_put_edition(ib_store *base, const ib_edition_rec *e, char *err,
                          size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_WRITE, err, errlen)) return -1;
  sqlite3_stmt *s = NULL;
  /* The chain must not fork: the new edition names the current last one. */
  if (sqlite3_prepare_v2(st->db,
                         "SELECT hash FROM editions ORDER BY seq DESC LIMIT 1",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "reading the last edition");
  int rc = sqlite3_step(s);
  const char *last =
      rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
  int moved = (rc != SQLITE_ROW && rc != SQLITE_DONE) ||
              (last == NULL) != (e->prev_hash == NULL) ||
              (last && strcmp(last, e->prev_hash) != 0);
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_fail(st, err, errlen, "reading the last edition");
  if (moved) {
    snprintf(err, errlen,
             "store %s: another edition was closed meanwhile; run the "
             "command again",
             st->path);
    return -1;
  }
  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO editions(month,closed_at,as_of,hash,"
                         "prev_hash,replaces,reason,body) "
                         "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "storing the edition");
  bind_text(s, 1, e->month);
  bind_time(s, 2, e->closed_at);
  bind_time(s, 3, e->as_of);
  bind_text(s, 4, e->hash);
  bind_text(s, 5, e->prev_hash);
  bind_text(s, 6, e->replaces);
  bind_text(s, 7, e->reason);
  bind_text(s, 8, e->body);
  rc = sqlite3_step(s);
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0
                           : db_fail(st, err, errlen, "storing the edition");
}

static int sq_editions(ib_store *base, ib_edition_list *out, char *err,
                       size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_READ, err, errlen)) return -1;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT seq,month,closed_at,as_of,hash,prev_hash,"
                         "replaces,reason,body FROM editions ORDER BY seq",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "reading the editions");
  int rc, oom = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW && !oom) {
    ib_edition_rec e = {
        sqlite3_column_int64(s, 0),
        (char *)sqlite3_column_text(s, 1),
        col_time(s, 2),
        col_time(s, 3),
        (char *)sqlite3_column_text(s, 4),
        (char *)sqlite3_column_text(s, 5),
        (char *)sqlite3_column_text(s, 6),
        (char *)sqlite3_column_text(s, 7),
        (char *)sqlite3_column_text(s, 8),
    };
    if (ib_edition_list_add(out, &e) != 0) oom = 1;
  }
  sqlite3_finalize(s);
  if (oom) {
    snprintf(err, errlen, "store %s: out of memory reading the editions",
             st->path);
    return -1;
  }
  return rc == SQLITE_DONE ? 0
                           : db_fail(st, err, errlen, "reading the editions");
}

/* Late changes (store.h): ?1/?2 the period as epoch seconds, ?3/?4 the same
 * as ISO-8601 text for the recorded old values. The changes after `to`
 * come from the detected_at index; each is kept when its record belongs to
 * the period (the record's primary key, then its own history). The ORDER BY
 * stays outside: inside, SQLite would walk the whole table in seq order
 * rather than sort the few late rows. */
static const char late_sql[] =
    "SELECT * FROM (SELECT "
    "c.seq,c.source,c.record_id,t.key,c.kind,c.field,c.old_value,"
    "c.new_value,c.run_id,c.detected_at FROM changes c JOIN tickets t ON "
    "t.source=c.source AND t.id=c.record_id WHERE c.detected_at>=?2 AND "
    "c.kind='ticket' AND c.field IN " IB_LATE_TICKET_FIELDS
    " AND ((t.created_at>=?1 AND t.created_at<?2) OR (t.resolved_at>=?1 AND "
    "t.resolved_at<?2) OR EXISTS(SELECT 1 FROM changes h WHERE "
    "h.source=c.source AND h.record_id=c.record_id AND h.kind='ticket' AND "
    "h.field IN ('created_at','resolved_at') AND h.old_value>=?3 AND "
    "h.old_value<?4)) "
    "UNION ALL "
    "SELECT c.seq,c.source,c.record_id,NULL,c.kind,c.field,c.old_value,"
    "c.new_value,c.run_id,c.detected_at FROM changes c JOIN outages o ON "
    "o.source=c.source AND o.id=c.record_id WHERE c.detected_at>=?2 AND "
    "c.kind='outage' AND ((o.start<?2 AND (o.end IS NULL OR o.end>?1)) OR "
    "EXISTS(SELECT 1 FROM changes h WHERE h.source=c.source AND "
    "h.record_id=c.record_id AND h.kind='outage' AND h.field IN "
    "('start','end') AND h.old_value>=?3 AND h.old_value<?4))) "
    "ORDER BY 1";

static int sq_late_changes(ib_store *base, ib_time from, ib_time to,
                           ib_late_change_list *out, char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_READ, err, errlen)) return -1;
  sqlite3_stmt *s = NULL;
  char from_iso[IB_ISO_LEN], to_iso[IB_ISO_LEN];
  ib_format_iso8601(from, from_iso);
  ib_format_iso8601(to, to_iso);
  if (sqlite3_prepare_v2(st->db, late_sql, -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "reading the late changes");
  sqlite3_bind_int64(s, 1, from);
  sqlite3_bind_int64(s, 2, to);
  bind_text(s, 3, from_iso);
  bind_text(s, 4, to_iso);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *text[8];
    for (int i = 0; i < 8; i++)
      text[i] = (const char *)sqlite3_column_text(s, i);
    int cat = ib_late_category_of(text[4], text[5], text[6], text[7]);
    if (cat < 0) continue;
    ib_late_change c = {.seq = sqlite3_column_int64(s, 0),
                        .source = (char *)text[1],
                        .id = (char *)text[2],
                        .key = (char *)text[3],
                        .kind = (char *)text[4],
                        .field = (char *)text[5],
                        .old_value = (char *)text[6],
                        .new_value = (char *)text[7],
                        .category = (ib_late_category)cat,
                        .run_id = sqlite3_column_int64(s, 8),
                        .detected_at = sqlite3_column_int64(s, 9)};
    if (ib_late_change_list_add(out, &c) != 0) {
      sqlite3_finalize(s);
      snprintf(err, errlen, "store %s: out of memory reading the late changes",
               st->path);
      return -1;
    }
  }
  sqlite3_finalize(s);
  return rc == SQLITE_DONE
             ? 0
             : db_fail(st, err, errlen, "reading the late changes");
}

static int sq_load_outages(ib_store *base, ib_time from, ib_time to,
                           ib_outage_set *out, char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_READ, err, errlen)) return -1;
  static const char *scan_sql =
      "SELECT source,id,service,kind,kind_raw,start,end,updated_at FROM "
      "outages WHERE deleted_at IS NULL AND (?1 IS NULL OR start < ?1) AND "
      "(?2 IS NULL OR end IS NULL OR end > ?2) ORDER BY source, id";
  /* Both bounds: the same rows by index outages_period (ended after
   * `from`, or ongoing; started before `to`). */
  static const char *period_sql =
      "SELECT source,id,service,kind,kind_raw,start,end,updated_at FROM "
      "outages WHERE rowid IN (SELECT rowid FROM outages WHERE end > ?2 AND "
      "start < ?1 UNION ALL SELECT rowid FROM outages WHERE end IS NULL AND "
      "start < ?1) AND deleted_at IS NULL ORDER BY source, id";
  const char *sql =
      from != IB_TIME_NONE && to != IB_TIME_NONE ? period_sql : scan_sql;
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "loading outages");
  bind_time(s, 1, to);
  bind_time(s, 2, from);
  int rc, oom = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    ib_outage_row *r = ib_outage_set_add(out);
    if (r == NULL) {
      oom = 1;
      break;
    }
    r->source = col_text(s, 0, &oom);
    r->id = col_text(s, 1, &oom);
    r->service = col_text(s, 2, &oom);
    int k = ib_outage_kind_parse((const char *)sqlite3_column_text(s, 3));
    r->kind = k < 0 ? IB_OUTAGE_OUTAGE : (ib_outage_kind)k;
    r->kind_raw = col_text(s, 4, &oom);
    r->start = col_time(s, 5);
    r->end = col_time(s, 6);
    r->updated_at = col_time(s, 7);
    if (oom) break;
  }
  sqlite3_finalize(s);
  if (oom) {
    snprintf(err, errlen, "store %s: out of memory loading outages", st->path);
    return -1;
  }
  if (rc != SQLITE_DONE) return db_fail(st, err, errlen, "loading outages");
  return 0;
}

static int sq_source_state(ib_store *base, const char *source, int counts,
                           ib_source_state *out, char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_READ, err, errlen)) return -1;
  static const char *sql =
      "SELECT (SELECT watermark FROM sync_state WHERE source=?1),"
      " (SELECT max(ended_at) FROM sync_runs WHERE source=?1 AND ok=1),"
      " (SELECT started_at FROM sync_runs WHERE source=?1 ORDER BY id DESC "
      "LIMIT 1),"
      " (SELECT error FROM sync_runs WHERE source=?1 ORDER BY id DESC LIMIT 1),"
      " CASE WHEN ?2 THEN (SELECT count(*) FROM tickets WHERE source=?1 AND"
      " deleted_at IS NULL) ELSE -1 END,"
      " CASE WHEN ?2 THEN (SELECT count(*) FROM outages WHERE source=?1 AND"
      " deleted_at IS NULL) ELSE -1 END,"
      " (SELECT count(*) FROM rejected WHERE source=?1),"
      " (SELECT started_at FROM sync_runs WHERE source=?1 AND ended_at IS "
      "NULL AND id=(SELECT max(id) FROM sync_runs WHERE source=?1))";
  sqlite3_stmt *s;
  memset(out, 0, sizeof *out);
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "reading sync state");
  bind_text(s, 1, source);
  sqlite3_bind_int(s, 2, counts != 0);
  if (sqlite3_step(s) != SQLITE_ROW) {
    sqlite3_finalize(s);
    return db_fail(st, err, errlen, "reading sync state");
  }
  out->watermark = col_time(s, 0);
  out->last_success = col_time(s, 1);
  out->last_run = col_time(s, 2);
  const unsigned char *e = sqlite3_column_text(s, 3);
  snprintf(out->last_error, sizeof out->last_error, "%s",
           e ? (const char *)e : "");
  out->tickets = sqlite3_column_int64(s, 4);
  out->outages = sqlite3_column_int64(s, 5);
  out->rejected = sqlite3_column_int64(s, 6);
  out->interrupted_at = col_time(s, 7);
  sqlite3_finalize(s);
  if (out->interrupted_at != IB_TIME_NONE) {
    /* A run without an end is either killed or still going: the sync
     * lock tells which (held only while a sync runs). */
    char lockpath[4096];
    lock_path(st, &sq_sync_lock, lockpath, sizeof lockpath);
    int fd = open(lockpath, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
        out->running = 1;
      close(fd); /* releases a shared lock taken */
    }
  }
  return 0;
}

/* Runs one statement with text parameters (NULL = SQL NULL) and an
 * optional time parameter bound last. */
static int run_texts(sq_store *st, const char *sql, const char *const *texts,
                     int n, ib_time t, const char *what, char *err,
                     size_t errlen) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, what);
  for (int i = 0; i < n; i++) bind_text(s, i + 1, texts[i]);
  if (t != IB_TIME_NONE) bind_time(s, n + 1, t);
  int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0 : db_fail(st, err, errlen, what);
}

static int put_rejected_now(ib_store *base, const char *source, const char *id,
                            const char *position, const char *reason,
                            ib_time now, char *err, size_t errlen) {
  const char *texts[] = {source, id, position, reason};
  return run_texts((sq_store *)base,
                   "INSERT INTO rejected(source,id,position,reason,first_seen,"
                   "last_seen) VALUES(?1,?2,?3,?4,?5,?5) ON CONFLICT(source,id)"
                   " DO UPDATE SET position=?3,reason=?4,last_seen=?5",
                   texts, 4, now, "recording a rejected record", err, errlen);
}

static int drop_rejected_now(ib_store *base, const char *source, const char *id,
                             char *err, size_t errlen) {
  const char *texts[] = {source, id};
  return run_texts((sq_store *)base,
                   "DELETE FROM rejected WHERE source=?1 AND id=?2", texts, 2,
                   IB_TIME_NONE, "clearing a rejected record", err, errlen);
}

static int sq_list_rejected(ib_store *base, const char *source,
                            ib_string_list *out, char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_READ, err, errlen)) return -1;
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT id FROM rejected WHERE source=?1 ORDER BY "
                         "first_seen, id",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "listing rejected records");
  bind_text(s, 1, source);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if (ib_string_list_add(out, (const char *)sqlite3_column_text(s, 0))) {
      sqlite3_finalize(s);
      snprintf(err, errlen, "store %s: out of memory", st->path);
      return -1;
    }
  sqlite3_finalize(s);
  return rc == SQLITE_DONE
             ? 0
             : db_fail(st, err, errlen, "listing rejected records");
}

static int sq_alert_states(ib_store *base, ib_alert_state_list *out, char *err,
                           size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_READ, err, errlen)) return -1;
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT rule,webhook,firing,since,last_sent,pending "
                         "FROM alert_state ORDER BY rule, webhook",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, err, errlen, "reading alert states");
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    ib_alert_state a = {
        .rule = (char *)sqlite3_column_text(s, 0),
        .webhook = (char *)sqlite3_column_text(s, 1),
        .firing = sqlite3_column_int(s, 2),
        .since = col_time(s, 3),
        .last_sent = col_time(s, 4),
        .pending = sqlite3_column_int(s, 5),
    };
    if (ib_alert_state_list_add(out, &a)) {
      sqlite3_finalize(s);
      snprintf(err, errlen, "store %s: out of memory", st->path);
      return -1;
    }
  }
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0
                           : db_fail(st, err, errlen, "reading alert states");
}

static int sq_put_alert_state(ib_store *base, const ib_alert_state *a,
                              char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (settle(st, SETTLE_WRITE, err, errlen)) return -1;
  int64_t firing = a->firing != 0, pending = a->pending != 0;
  const void *args[] = {a->rule,   a->webhook,    &firing,
                        &a->since, &a->last_sent, &pending};
  return run_sql(st,
                 "INSERT INTO alert_state(rule,webhook,firing,since,last_sent,"
                 "pending) VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(rule,webhook)"
                 " DO UPDATE SET firing=?3,since=?4,last_sent=?5,pending=?6",
                 "ttiTTi", args, err, errlen, "recording an alert state");
}

/* ---- write-behind pages ----
 * Between begin and commit the writes of a page (puts, watermark, rejected
 * records, seen marks) are recorded, in call order, with copies of their
 * texts; commit hands the page to a writer thread, which runs BEGIN, the
 * writes through the functions above (*_now), and COMMIT (ROLLBACK on
 * error), while the caller reads and converts the next page. One page at a
 * time: commit first waits for the previous one, and gives back what it
 * did. A page that fails is not stored; its error is reported by the next
 * call, and the page handed over after it is dropped. Every other call
 * waits until the writer is idle (settle). The writer calls only this
 * file's write path, SQLite and store_rows.c's pure helpers: nothing of
 * tz.c, which is not thread-safe. */

/* Records past which a page is written at once instead (bounded memory
 * whatever a plugin sends between two commits). */
#define PAGE_MAX_OPS 200000
#define PAGE_MAX_BYTES ((size_t)64 * 1024 * 1024)

typedef enum sq_op_kind {
  OP_TICKET,
  OP_OUTAGE,
  OP_WATERMARK,
  OP_PUT_REJECTED,
  OP_DROP_REJECTED,
  OP_MARK_SEEN
} sq_op_kind;

/* One recorded write. Texts borrowed from the page's string blocks. */
typedef struct sq_op {
  sq_op_kind kind;
  int track_seen; /* OP_TICKET, OP_OUTAGE */
  size_t row;     /* OP_TICKET, OP_OUTAGE: index in the page's rows */
  int64_t digest; /* OP_TICKET, OP_OUTAGE: the row's (computed by the
                     calling thread, which otherwise waits for the writer) */
  const char *source, *id, *position, *reason;
  ib_time at; /* OP_WATERMARK: the watermark; OP_PUT_REJECTED: now */
} sq_op;

typedef struct sq_page {
  sq_op *ops; /* owned */
  size_t n, cap;
  /* Copies of the tickets put; every text of the page (outages' and ops'
   * included) lives in its string blocks (ib_ticket_set_strdup). */
  ib_ticket_set tickets;
  ib_outage_row *outages; /* owned; texts in tickets' blocks */
  size_t n_outages, cap_outages;
  size_t bytes; /* texts and pauses held */
} sq_page;

static void page_free(sq_page *p) {
  if (p == NULL) return;
  free(p->ops);
  ib_ticket_set_free(&p->tickets);
  free(p->outages);
  free(p);
}

/* Gives a written page back emptied, to be refilled by the next begin
 * (one kept; any other freed). Its arrays and string blocks stay
 * allocated: a load of many pages allocates and faults in their memory
 * once, not once per page. */
static void page_recycle(sq_store *st, sq_page *p) {
  p->n = 0;
  ib_ticket_set_clear(&p->tickets);
  p->n_outages = 0;
  p->bytes = 0;
  pthread_mutex_lock(&st->writer.mu);
  if (st->spare == NULL) {
    st->spare = p;
    p = NULL;
  }
  pthread_mutex_unlock(&st->writer.mu);
  page_free(p);
}

/* A copy of text in the page's blocks; NULL stays NULL. *oom on ENOMEM. */
static const char *page_text(sq_page *p, const char *text, int *oom) {
  if (text == NULL || *oom) return NULL;
  size_t n = strlen(text);
  char *copy = ib_ticket_set_strdup(&p->tickets, text, n);
  if (copy == NULL) *oom = 1;
  p->bytes += n + 1;
  return copy;
}

/* Appends an op (zeroed but for kind); NULL on ENOMEM. */
static sq_op *page_op(sq_page *p, sq_op_kind kind) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 1024;
    sq_op *ops = realloc(p->ops, cap * sizeof *ops);
    if (ops == NULL) return NULL;
    p->ops = ops;
    p->cap = cap;
  }
  sq_op *op = &p->ops[p->n++];
  memset(op, 0, sizeof *op);
  op->kind = kind;
  return op;
}

/* Runs one recorded write on the connection (the calling thread owns it). */
static int run_op(sq_store *st, const sq_page *p, const sq_op *op, char *err,
                  size_t errlen) {
  switch (op->kind) {
    case OP_TICKET:
      return put_ticket_now(&st->base, &p->tickets.rows[op->row], op->digest,
                            op->track_seen, err, errlen);
    case OP_OUTAGE:
      return put_outage_now(&st->base, &p->outages[op->row], op->digest,
                            op->track_seen, err, errlen);
    case OP_WATERMARK:
      return set_watermark_now(&st->base, op->source, op->at, err, errlen);
    case OP_PUT_REJECTED:
      return put_rejected_now(&st->base, op->source, op->id, op->position,
                              op->reason, op->at, err, errlen);
    case OP_DROP_REJECTED:
      return drop_rejected_now(&st->base, op->source, op->id, err, errlen);
    case OP_MARK_SEEN:
      return mark_seen_now(&st->base, op->source, op->id, err, errlen);
  }
  return 0;
}

/* Runs the page's writes in order in the open transaction; the error
 * names the record that failed. */
static int run_ops(sq_store *st, const sq_page *p, char *err, size_t errlen) {
  for (size_t i = 0; i < p->n; i++) {
    const sq_op *op = &p->ops[i];
    if (run_op(st, p, op, err, errlen) == 0) continue;
    if (op->kind == OP_TICKET || op->kind == OP_OUTAGE) {
      size_t len = strlen(err);
      const char *id = op->kind == OP_TICKET ? p->tickets.rows[op->row].id
                                             : p->outages[op->row].id;
      snprintf(err + len, errlen > len ? errlen - len : 0, " (%s %s)",
               op->kind == OP_TICKET ? "ticket" : "outage", id);
    }
    return -1;
  }
  return 0;
}

/* One page as one transaction: *done gets what its records did. */
static int write_page(sq_store *st, const sq_page *p, ib_put_counts *done,
                      char *err, size_t errlen) {
  memset(&st->tally, 0, sizeof st->tally);
  if (exec(st, "BEGIN IMMEDIATE", err, errlen)) return -1;
  if (run_ops(st, p, err, errlen) || exec(st, "COMMIT", err, errlen)) {
    if (!sqlite3_get_autocommit(st->db))
      sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    memset(&st->tally, 0, sizeof st->tally);
    return -1;
  }
  *done = st->tally;
  memset(&st->tally, 0, sizeof st->tally);
  return 0;
}

/* The writer's callbacks (page_writer.h): a page handed over is written
 * as one transaction, then freed; after each page written the checkpointer
 * is due, and past WAL_CATCH_UP_BYTES the writer waits for its copy. */
static int write_handed(void *store, void *page, int final, ib_put_counts *done,
                        char *err, size_t errlen) {
  (void) final; /* every page handed over is whole */
  int rc = write_page(store, page, done, err, errlen);
  page_recycle(store, page);
  return rc;
}

static void page_written(ib_page_writer *w, void *store, int ok) {
  sq_store *st = store;
  if (!ok) return;
  st->ckpt_due = 1;
  if (st->ckpt_db == NULL || st->wal_frames <= st->wal_catch_up) return;
  unsigned want = ++st->ckpt_asked;
  pthread_cond_broadcast(&w->cv);
  while ((int)(st->ckpt_done - want) < 0 && !st->ckpt_stopping)
    pthread_cond_wait(&w->cv, &w->mu);
}

/* The open page writes at once from now on: BEGIN, then what it recorded.
 * The writer is idle. */
static int go_direct(sq_store *st, char *err, size_t errlen) {
  sq_page *p = st->filling;
  memset(&st->tally, 0, sizeof st->tally);
  if (exec(st, "BEGIN IMMEDIATE", err, errlen)) return -1;
  st->direct = 1; /* rollback now ends the transaction */
  st->filling = NULL;
  int rc = p ? run_ops(st, p, err, errlen) : 0;
  page_free(p);
  return rc;
}

static int settle(sq_store *st, int mode, char *err, size_t errlen) {
  if (ib_page_writer_take_error(&st->writer, err, errlen)) return -1;
  if (!st->in_page || st->direct) return 0;
  if (mode == SETTLE_READ && (st->filling == NULL || st->filling->n == 0))
    return 0; /* nothing recorded to see: read outside the page */
  return go_direct(st, err, errlen);
}

/* A recorded write: 1 when the caller must run it at once (outside a
 * page, or in a direct one), 0 when it may record it, -1 with err when a
 * page failed in the background. */
static int must_run_now(sq_store *st, char *err, size_t errlen) {
  if (ib_page_writer_may_have_failed(&st->writer) &&
      ib_page_writer_take_error(&st->writer, err, errlen))
    return -1;
  if (!st->in_page) return settle(st, SETTLE_WRITE, err, errlen) ? -1 : 1;
  if (st->direct) return 1;
  if (st->filling->n >= PAGE_MAX_OPS || st->filling->bytes >= PAGE_MAX_BYTES)
    return ib_page_writer_take_error(&st->writer, err, errlen) ||
                   go_direct(st, err, errlen)
               ? -1
               : 1;
  return 0;
}

static int page_oom(sq_store *st, const char *what, const char *id, char *err,
                    size_t errlen) {
  snprintf(err, errlen, "store %s: out of memory holding %s %s", st->path, what,
           id ? id : "");
  return -1;
}

static int sq_put_ticket(ib_store *base, const ib_ticket_row *t, int track_seen,
                         char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  int now = must_run_now(st, err, errlen);
  if (now)
    return now < 0 ? -1
                   : put_ticket_now(base, t, ib_ticket_digest(t), track_seen,
                                    err, errlen);
  sq_page *p = st->filling;
  size_t rows = p->tickets.n;
  ib_ticket_row *r = ib_ticket_set_add(&p->tickets);
  sq_op *op = r ? page_op(p, OP_TICKET) : NULL;
  if (op == NULL) goto nomem;
  *r = *t; /* numbers; texts and pauses copied below */
  r->pauses = NULL;
  r->n_pauses = 0;
  int oom = 0;
  char **texts[] = {&r->source,   &r->id,           &r->key,
                    &r->title,    &r->service,      &r->group,
                    &r->kind_raw, &r->priority_raw, &r->status_raw};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    *texts[i] = (char *)page_text(p, *texts[i], &oom);
  if (oom) goto nomem_op;
  if (t->n_pauses > 0) {
    if ((r->pauses = malloc(t->n_pauses * sizeof *r->pauses)) == NULL)
      goto nomem_op;
    memcpy(r->pauses, t->pauses, t->n_pauses * sizeof *r->pauses);
    r->n_pauses = t->n_pauses;
    p->bytes += t->n_pauses * sizeof *r->pauses;
  }
  op->row = rows;
  op->track_seen = track_seen;
  op->digest = ib_ticket_digest(t);
  return 0;
nomem_op:
  p->n--;
nomem:
  if (p->tickets.n > rows) p->tickets.n = rows; /* no pauses were kept */
  return page_oom(st, "ticket", t->id, err, errlen);
}

static int sq_put_outage(ib_store *base, const ib_outage_row *o, int track_seen,
                         char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  int now = must_run_now(st, err, errlen);
  if (now)
    return now < 0 ? -1
                   : put_outage_now(base, o, ib_outage_digest(o), track_seen,
                                    err, errlen);
  sq_page *p = st->filling;
  if (p->n_outages == p->cap_outages) {
    size_t cap = p->cap_outages ? p->cap_outages * 2 : 256;
    ib_outage_row *rows = realloc(p->outages, cap * sizeof *rows);
    if (rows == NULL) return page_oom(st, "outage", o->id, err, errlen);
    p->outages = rows;
    p->cap_outages = cap;
  }
  ib_outage_row *r = &p->outages[p->n_outages];
  *r = *o; /* numbers; texts copied below */
  int oom = 0;
  char **texts[] = {&r->source, &r->id, &r->service, &r->kind_raw};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    *texts[i] = (char *)page_text(p, *texts[i], &oom);
  sq_op *op = oom ? NULL : page_op(p, OP_OUTAGE);
  if (op == NULL) return page_oom(st, "outage", o->id, err, errlen);
  op->row = p->n_outages++;
  op->track_seen = track_seen;
  op->digest = ib_outage_digest(o);
  return 0;
}

/* Records one write of texts (source, id[, position, reason]) and a time. */
static int record_texts(sq_store *st, sq_op_kind kind, const char *source,
                        const char *id, const char *position,
                        const char *reason, ib_time at, char *err,
                        size_t errlen) {
  sq_page *p = st->filling;
  sq_op *op = page_op(p, kind);
  if (op == NULL) return page_oom(st, "record", id, err, errlen);
  int oom = 0;
  op->source = page_text(p, source, &oom);
  op->id = page_text(p, id, &oom);
  op->position = page_text(p, position, &oom);
  op->reason = page_text(p, reason, &oom);
  op->at = at;
  if (oom) {
    p->n--;
    return page_oom(st, "record", id, err, errlen);
  }
  return 0;
}

static int sq_set_watermark(ib_store *base, const char *source, ib_time wm,
                            char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (wm == IB_TIME_NONE) return 0;
  int now = must_run_now(st, err, errlen);
  if (now)
    return now < 0 ? -1 : set_watermark_now(base, source, wm, err, errlen);
  return record_texts(st, OP_WATERMARK, source, NULL, NULL, NULL, wm, err,
                      errlen);
}

static int sq_put_rejected(ib_store *base, const char *source, const char *id,
                           const char *position, const char *reason,
                           ib_time now_t, char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  int now = must_run_now(st, err, errlen);
  if (now)
    return now < 0 ? -1
                   : put_rejected_now(base, source, id, position, reason, now_t,
                                      err, errlen);
  return record_texts(st, OP_PUT_REJECTED, source, id, position, reason, now_t,
                      err, errlen);
}

static int sq_drop_rejected(ib_store *base, const char *source, const char *id,
                            char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  int now = must_run_now(st, err, errlen);
  if (now)
    return now < 0 ? -1 : drop_rejected_now(base, source, id, err, errlen);
  return record_texts(st, OP_DROP_REJECTED, source, id, NULL, NULL,
                      IB_TIME_NONE, err, errlen);
}

static int sq_mark_seen(ib_store *base, const char *source, const char *id,
                        char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  int now = must_run_now(st, err, errlen);
  if (now) return now < 0 ? -1 : mark_seen_now(base, source, id, err, errlen);
  return record_texts(st, OP_MARK_SEEN, source, id, NULL, NULL, IB_TIME_NONE,
                      err, errlen);
}

/* A page opens without touching the connection: the writer may still be
 * writing the previous one. A read-only store (no writer) and a connection
 * that SQLite cannot share between threads write at once. */
static int sq_begin(ib_store *base, char *err, size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (st->in_page) {
    snprintf(err, errlen, "store %s: a transaction is already open", st->path);
    return -1;
  }
  if (ib_page_writer_may_have_failed(&st->writer) &&
      ib_page_writer_take_error(&st->writer, err, errlen))
    return -1;
  if (st->readonly || !sqlite3_threadsafe()) {
    if (settle(st, SETTLE_WRITE, err, errlen) ||
        exec(st, "BEGIN IMMEDIATE", err, errlen))
      return -1;
    memset(&st->tally, 0, sizeof st->tally);
    st->in_page = st->direct = 1;
    return 0;
  }
  pthread_mutex_lock(&st->writer.mu);
  st->filling = st->spare;
  st->spare = NULL;
  pthread_mutex_unlock(&st->writer.mu);
  if (st->filling == NULL &&
      (st->filling = calloc(1, sizeof *st->filling)) == NULL) {
    snprintf(err, errlen, "store %s: out of memory", st->path);
    return -1;
  }
  st->in_page = 1;
  st->direct = 0;
  return 0;
}

/* Copies the committed WAL frames into the database file whenever a page
 * was committed, until close. */
static void *checkpointer_main(void *arg) {
  sq_store *st = arg;
  pthread_mutex_lock(&st->writer.mu);
  for (;;) {
    while (!st->ckpt_due && !st->ckpt_stopping)
      pthread_cond_wait(&st->writer.cv, &st->writer.mu);
    if (!st->ckpt_due) break; /* stopping, nothing left to copy */
    st->ckpt_due = 0;
    unsigned asked = st->ckpt_asked;
    pthread_mutex_unlock(&st->writer.mu);
    /* PASSIVE: copies what no reader or writer holds back, waits for
     * nobody; what it could not copy waits for the next page or the
     * close. */
    (void)sqlite3_wal_checkpoint_v2(st->ckpt_db, NULL,
                                    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    pthread_mutex_lock(&st->writer.mu);
    st->ckpt_done = asked;
    pthread_cond_broadcast(&st->writer.cv);
  }
  pthread_mutex_unlock(&st->writer.mu);
  return NULL;
}

static int wal_committed(void *arg, sqlite3 *db, const char *name, int frames) {
  (void)db;
  (void)name;
  ((sq_store *)arg)->wal_frames = frames;
  return SQLITE_OK;
}

/* Opens the checkpointer's connection and thread, and turns the writer's
 * own checkpoints off; without them (no connection, no thread) the
 * writer's connection checkpoints as before. The writer is idle. */
static void start_checkpointer(sq_store *st) {
  if (sqlite3_open_v2(st->path, &st->ckpt_db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    sqlite3_close(st->ckpt_db);
    st->ckpt_db = NULL;
    return;
  }
  sqlite3_busy_timeout(st->ckpt_db, 1000);
  sqlite3_stmt *q = NULL;
  int page_size = 0;
  if (sqlite3_prepare_v2(st->db, "PRAGMA page_size", -1, &q, NULL) ==
          SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    page_size = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  st->wal_catch_up = WAL_CATCH_UP_BYTES / (page_size > 0 ? page_size : 4096);
  /* A connection learns the file is in WAL mode when it first reads it:
   * until then a checkpoint does nothing. */
  if (sqlite3_exec(st->ckpt_db, "PRAGMA journal_mode", NULL, NULL, NULL) !=
          SQLITE_OK ||
      ib_page_writer_spawn(&st->ckpt, checkpointer_main, st) != 0) {
    sqlite3_close(st->ckpt_db);
    st->ckpt_db = NULL;
    return;
  }
  sqlite3_wal_hook(st->db, wal_committed, st); /* replaces autocheckpoint */
}

/* Ends the checkpointer after the copy in progress (close); the writer is
 * stopped. */
static void stop_checkpointer(sq_store *st) {
  if (st->ckpt_db == NULL) return;
  pthread_mutex_lock(&st->writer.mu);
  st->ckpt_stopping = 1;
  pthread_cond_broadcast(&st->writer.cv);
  pthread_mutex_unlock(&st->writer.mu);
  pthread_join(st->ckpt, NULL);
  sqlite3_close(st->ckpt_db);
  st->ckpt_db = NULL;
  if (st->db) sqlite3_wal_autocheckpoint(st->db, 1000);
}

/* Starts the writer thread, and the checkpointer with it; -1 when the
 * writer cannot be started (the caller writes the page itself). */
static int start_worker(sq_store *st) {
  if (st->writer.started) return 0;
  if (ib_page_writer_start(&st->writer) != 0) return -1;
  start_checkpointer(st);
  return 0;
}

/* Waits for the previous page, hands this one to the writer and returns;
 * *done gets what the pages written since the last report did. */
static int sq_commit(ib_store *base, ib_put_counts *done, char *err,
                     size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (!st->in_page) {
    snprintf(err, errlen, "store %s: no transaction to commit", st->path);
    return -1;
  }
  if (ib_page_writer_take_error(&st->writer, err, errlen))
    return -1; /* the page is dropped */
  ib_put_counts page = {0};
  if (st->direct) {
    if (exec(st, "COMMIT", err, errlen)) return -1;
    page = st->tally;
    memset(&st->tally, 0, sizeof st->tally);
  } else if (st->filling->n > 0 && start_worker(st) != 0) {
    if (write_page(st, st->filling, &page, err, errlen)) return -1;
  }
  /* The writer is idle: it has given the outcomes of what it wrote. */
  ib_page_writer_take_counts(&st->writer, &page, done);
  if (st->filling != NULL && st->filling->n > 0 && st->writer.started) {
    ib_page_writer_hand(&st->writer, st->filling, 1); /* the writer's now */
    st->filling = NULL;
  } else if (st->ckpt_db != NULL) {
    pthread_mutex_lock(&st->writer.mu);
    st->ckpt_due = 1; /* a direct page was committed (if any) */
    pthread_cond_broadcast(&st->writer.cv);
    pthread_mutex_unlock(&st->writer.mu);
  }
  page_free(st->filling); /* empty, or written above */
  st->filling = NULL;
  st->in_page = st->direct = 0;
  return 0;
}

/* Drops the open page; the page handed over before it is not affected
 * (its error, if any, stays for the next call). */
static void sq_rollback(ib_store *base) {
  sq_store *st = (sq_store *)base;
  ib_page_writer_wait_idle(&st->writer);
  page_free(st->filling);
  st->filling = NULL;
  st->in_page = st->direct = 0;
  memset(&st->tally, 0, sizeof st->tally);
  if (!sqlite3_get_autocommit(st->db))
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static int sq_finish_pages(ib_store *base, ib_put_counts *done, char *err,
                           size_t errlen) {
  sq_store *st = (sq_store *)base;
  if (ib_page_writer_take_error(&st->writer, err, errlen)) return -1;
  ib_page_writer_take_counts(&st->writer, NULL, done);
  return 0;
}

static const ib_store_ops sq_ops = {
    .close = sq_close,
    .lock_sync = sq_lock_sync,
    .lock_notify = sq_lock_notify,
    .load_tickets = sq_load_tickets,
    .load_outages = sq_load_outages,
    .source_state = sq_source_state,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .finish_pages = sq_finish_pages,
    .put_ticket = sq_put_ticket,
    .put_outage = sq_put_outage,
    .set_watermark = sq_set_watermark,
    .reset_watermark = sq_reset_watermark,
    .run_begin = sq_run_begin,
    .run_end = sq_run_end,
    .mark_unseen_deleted = sq_mark_unseen_deleted,
    .put_rejected = sq_put_rejected,
    .drop_rejected = sq_drop_rejected,
    .list_rejected = sq_list_rejected,
    .raw_digests = sq_raw_digests,
    .mark_seen = sq_mark_seen,
    .count_unseen = sq_count_unseen,
    .begin_read = sq_begin_read,
    .end_read = sq_end_read,
    .history = sq_history,
    .put_edition = sq_put_edition,
    .editions = sq_editions,
    .late_changes = sq_late_changes,
    .alert_states = sq_alert_states,
    .put_alert_state = sq_put_alert_state,
};
