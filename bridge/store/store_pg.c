/*
 * store_pg.c -- the PostgreSQL store backend (store = { url = ...; }): the
 * same tables and behaviour as store_sqlite.c, in schema itsm_bridge_store,
 * with migrations, comparing writes a page of records at a time (COPY and
 * keyed lookups: see the writing section) and the change history,
 * watermarks, sync runs, advisory locks for one sync and one check
 * notifying at a time, and bulk loads for the KPI engine and exporters. A
 * sync's pages are written behind, on one writer thread per store
 * (page_writer.c; see "write-behind pages"): the connection is used by one
 * thread at a time, handed over through the writer's mutex.
 * Must never put data into SQL text (prepared statements only), never accept
 * or print a password, and know nothing of plugins, HTTP or KPI rules.
 * Nothing the writer thread runs may call tz.c (not thread-safe) or touch
 * process-wide state.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pg_url.h"
#include "pq_lib.h"
#include "hash64.h"
#include "page_writer.h"
#include "store_backend.h"
#include "tz.h"

/* The store's tables live in their own schema, so that they never meet the
 * exporter's (schema itsm_bridge) or a team's own tables. */
#define PG_STORE_SCHEMA "itsm_bridge_store"
/* Advisory lock keys are derived from these names (FNV-1a, 64 bits). */
#define PG_SYNC_LOCK_NAME "itsm-bridge sync"
#define PG_NOTIFY_LOCK_NAME "itsm-bridge notify"
#define PG_MIGRATE_LOCK_NAME "itsm-bridge store migration"
#define PG_INT_LEN 24 /* an int64 in decimal, with sign and NUL */

/* Schema history: entry i moves schema_version from i to i + 1. Same
 * tables, columns and meanings as the SQLite store; times are bigint epoch
 * seconds (the store is internal; exports carry typed timestamps). */
static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE tickets("
    " source text NOT NULL, id text NOT NULL, key text, title text,"
    " kind text NOT NULL, kind_raw text, priority integer, priority_raw text,"
    " status text NOT NULL, status_raw text, service text, grp text,"
    " created_at bigint NOT NULL, first_response_at bigint,"
    " resolved_at bigint, closed_at bigint, updated_at bigint,"
    " deleted_at bigint, reported_response_breached boolean,"
    " reported_resolution_breached boolean, PRIMARY KEY(source, id));"
    "CREATE TABLE pauses(source text NOT NULL, ticket_id text NOT NULL,"
    " start bigint NOT NULL, \"end\" bigint);"
    "CREATE INDEX pauses_ticket ON pauses(source, ticket_id);"
    "CREATE TABLE outages(source text NOT NULL, id text NOT NULL,"
    " service text, kind text NOT NULL, kind_raw text, start bigint NOT NULL,"
    " \"end\" bigint, updated_at bigint, deleted_at bigint,"
    " PRIMARY KEY(source, id));"
    "CREATE TABLE sync_state(source text PRIMARY KEY, watermark bigint);"
    "CREATE TABLE sync_runs("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " source text NOT NULL, \"full\" boolean NOT NULL,"
    " started_at bigint NOT NULL, ended_at bigint, ok boolean,"
    " records_read bigint, records_stored bigint, records_rejected bigint,"
    " error text);"
    "CREATE INDEX sync_runs_source ON sync_runs(source, id);"
    /* Who holds an advisory lock, one row per key (the sync lock, and the
     * notification lock, which needs no new table): the client's pid,
     * which pg_locks cannot tell, written when the lock is taken. */
    "CREATE TABLE sync_lock(lock_key bigint PRIMARY KEY, pid bigint NOT NULL,"
    " since bigint NOT NULL, backend_pid integer NOT NULL);",
    /* 2: records a source sent that could not be stored (store_sqlite.c) */
    "CREATE TABLE rejected(source text NOT NULL, id text NOT NULL,"
    " position text, reason text NOT NULL, first_seen bigint NOT NULL,"
    " last_seen bigint NOT NULL, PRIMARY KEY(source, id));",
    /* 3: history (store_sqlite.c): row digests and recorded changes */
    "ALTER TABLE tickets ADD COLUMN digest bigint;"
    "ALTER TABLE outages ADD COLUMN digest bigint;"
    "CREATE TABLE changes("
    " seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " source text NOT NULL, record_id text NOT NULL, kind text NOT NULL,"
    " field text NOT NULL, old_value text, new_value text,"
    " run_id bigint NOT NULL, detected_at bigint NOT NULL);"
    "CREATE INDEX changes_record ON changes(source, record_id, seq);",
    /* 4: closed months (store_sqlite.c): the chain of editions, which
     * refuses UPDATE and DELETE */
    "CREATE TABLE editions("
    " seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " month text NOT NULL, closed_at bigint NOT NULL, as_of bigint NOT NULL,"
    " hash text NOT NULL UNIQUE, prev_hash text, replaces text, reason text,"
    " body text NOT NULL);"
    "CREATE INDEX editions_month ON editions(month, seq);"
    "CREATE FUNCTION editions_frozen() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN RAISE EXCEPTION 'editions are append-only'; END$$;"
    "CREATE TRIGGER editions_frozen BEFORE UPDATE OR DELETE ON editions"
    " FOR EACH ROW EXECUTE FUNCTION editions_frozen();",
    /* 5: late changes are read from the changes after a period's end */
    "CREATE INDEX changes_detected ON changes(detected_at);",
    /* 6: alert notifications (store_sqlite.c) */
    "CREATE TABLE alert_state(rule text NOT NULL, webhook text NOT NULL,"
    " firing boolean NOT NULL, since bigint, last_sent bigint,"
    " pending boolean NOT NULL, PRIMARY KEY(rule, webhook));",
    /* 7: a period's tickets and outages found by index (store_sqlite.c;
     * PERIOD_FILTER below) */
    "CREATE INDEX tickets_period ON tickets(resolved_at, created_at);"
    "CREATE INDEX tickets_reversed ON tickets(created_at, resolved_at)"
    " WHERE resolved_at < created_at;"
    "CREATE INDEX outages_period ON outages(\"end\", start);",
    /* 8: the digest of each record's raw form (store_sqlite.c) */
    ("ALTER TABLE tickets ADD COLUMN raw_digest bigint;"
     "ALTER TABLE outages ADD COLUMN raw_digest bigint;"),
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

enum {
  STMT_PAGE_TICKETS,
  STMT_PAGE_OLD_TICKETS,
  STMT_PAGE_PAUSES,
  STMT_PAGE_TICKET_DIGESTS,
  STMT_PAGE_TICKET_RAWS,
  STMT_PAGE_SEEN_TICKETS,
  STMT_PAGE_OUTAGES,
  STMT_PAGE_OLD_OUTAGES,
  STMT_PAGE_OUTAGE_DIGESTS,
  STMT_PAGE_OUTAGE_RAWS,
  STMT_PAGE_SEEN_OUTAGES,
  STMT_ANY_TICKETS,
  STMT_ANY_OUTAGES,
  STMT_HISTORY_FOUND,
  STMT_HISTORY,
  STMT_LATE_CHANGES,
  STMT_SET_WM,
  STMT_RESET_WM,
  STMT_RUN_BEGIN,
  STMT_RUN_END,
  STMT_MARK_TICKETS,
  STMT_MARK_OUTAGES,
  STMT_LOAD_TICKETS,
  STMT_LOAD_PAUSES,
  STMT_LOAD_OUTAGES,
  STMT_LOAD_TICKETS_PERIOD,
  STMT_LOAD_PAUSES_PERIOD,
  STMT_LOAD_OUTAGES_PERIOD,
  STMT_STATE,
  STMT_LOCK,
  STMT_LOCK_NOTE,
  STMT_LOCK_HOLDER,
  STMT_PUT_REJECTED,
  STMT_DROP_REJECTED,
  STMT_LIST_REJECTED,
  STMT_LAST_EDITION,
  STMT_PUT_EDITION,
  STMT_EDITIONS,
  STMT_COUNT
};

/* Same rows as store_sqlite.c's filter: tickets whose life touches
 * [$2, $1), plus those resolved "before" they were created whose reversed
 * span touches it (kept by the KPI engine as 0 s, see store.h). */
#define TICKET_FILTER                                                       \
  " WHERE t.deleted_at IS NULL AND ((($1::bigint IS NULL OR"                \
  " t.created_at < $1) AND ($2::bigint IS NULL OR t.resolved_at IS NULL OR" \
  " t.resolved_at >= $2)) OR (t.resolved_at < t.created_at AND"             \
  " ($1::bigint IS NULL OR t.resolved_at < $1) AND ($2::bigint IS NULL OR"  \
  " t.created_at >= $2)))"

/* TICKET_FILTER for two real bounds, without the "IS NULL OR" terms that
 * keep the planner from indexes: each arm is an index range (migration 4),
 * combined by a bitmap OR that reads the table in storage order, as a scan
 * would. The third arm is the impossible-times one (partial index). */
#define PERIOD_FILTER                                                      \
  " WHERE t.deleted_at IS NULL AND ((t.resolved_at >= $2::bigint AND"      \
  " t.created_at < $1::bigint) OR (t.resolved_at IS NULL AND t.created_at" \
  " < $1::bigint) OR (t.resolved_at < t.created_at AND t.created_at >="    \
  " $2::bigint AND t.resolved_at < $1::bigint))"

typedef struct pg_stmt {
  const char *name;
  const char *sql;
} pg_stmt;

/* A page of records (pg_flush) is looked up by its keys, passed as arrays:
 * $1 sources, $2 ids (text[]), $3 digests, $4 raw digests (bigint[]; NULL:
 * none). Every lookup goes
 * through the primary key, one probe per record: "OFFSET 0" keeps the
 * planner from turning the LATERAL subquery into a hash join over the whole
 * table, which it prefers for thousands of keys but which costs what the
 * store holds, at every page. */
#define PAGE_KEYS                                                      \
  " FROM unnest($1::text[],$2::text[],$3::bigint[],$4::bigint[]) WITH" \
  " ORDINALITY AS k(source,id,digest,raw,row)"
#define PAGE_KEY_PAIRS " FROM unnest($1::text[],$2::text[]) AS k(source,id)"
#define PAGE_KEY_ROWS \
  " FROM unnest($1::text[],$2::text[]) WITH ORDINALITY AS k(source,id,row)"

static const pg_stmt stmts[STMT_COUNT] = {
    /* The records of a page to write, as their page row, whether they are
     * new and whether only their raw digest is to store: those without a
     * stored row, those whose stored row has another digest, none, or is
     * marked deleted (to compare field by field: store_rows.h's
     * IB_STEP_COMPARE), and unchanged ones whose raw form changed. The
     * others are unchanged: not sent. */
    [STMT_PAGE_TICKETS] =
        {"ib_page_tickets",
         "SELECT k.row-1,t.source IS NULL,t.digest IS NOT DISTINCT FROM"
         " k.digest AND t.deleted_at IS NULL" PAGE_KEYS
         " LEFT JOIN LATERAL (SELECT * FROM tickets t WHERE t.source=k.source"
         " AND t.id=k.id OFFSET 0) t ON true WHERE t.source IS NULL OR"
         " t.digest IS DISTINCT FROM k.digest OR t.deleted_at IS NOT NULL OR"
         " t.raw_digest IS DISTINCT FROM k.raw"},
    /* The stored rows of the tickets $1, $2 in the columns of
     * ib_load_tickets, then deleted_at and their rank in $1. */
    [STMT_PAGE_OLD_TICKETS] =
        {"ib_page_old_tickets",
         "SELECT t.source,t.id,t.key,t.title,t.kind,t.kind_raw,t.priority,"
         "t.priority_raw,t.status,t.status_raw,t.service,t.grp,t.created_at,"
         "t.first_response_at,t.resolved_at,t.closed_at,t.updated_at,"
         "t.reported_response_breached,t.reported_resolution_breached,"
         "t.deleted_at,k.row-1" PAGE_KEY_ROWS
         " CROSS JOIN LATERAL (SELECT * FROM tickets t WHERE"
         " t.source=k.source AND t.id=k.id OFFSET 0) t"},
    /* The stored pauses of the tickets $1, $2. */
    [STMT_PAGE_PAUSES] =
        {"ib_page_pauses",
         "SELECT p.source,p.ticket_id,p.start,p.\"end\"" PAGE_KEY_PAIRS
         " CROSS JOIN LATERAL (SELECT * FROM"
         " pauses p WHERE p.source=k.source AND"
         " p.ticket_id=k.id OFFSET 0) p"},
    /* Equal ones stored without a digest: the digests only; unchanged ones
     * whose raw form changed: the raw digest only. */
    [STMT_PAGE_TICKET_RAWS] = {"ib_page_ticket_raws",
                               "UPDATE tickets t SET raw_digest=k.raw" PAGE_KEYS
                               " WHERE t.source=k.source AND t.id=k.id"},
    [STMT_PAGE_TICKET_DIGESTS] =
        {"ib_page_ticket_digests",
         "UPDATE tickets t SET digest=k.digest,raw_digest=k.raw" PAGE_KEYS
         " WHERE t.source=k.source AND"
         " t.id=k.id"},
    [STMT_PAGE_SEEN_TICKETS] = {"ib_page_seen_tickets",
                                "INSERT INTO pg_temp.seen(tbl,source,id) "
                                "SELECT 't',k.source,k.id" PAGE_KEY_PAIRS
                                " ON CONFLICT DO NOTHING"},
    [STMT_PAGE_OUTAGES] =
        {"ib_page_outages",
         "SELECT k.row-1,o.source IS NULL,o.digest IS NOT DISTINCT FROM"
         " k.digest AND o.deleted_at IS NULL" PAGE_KEYS
         " LEFT JOIN LATERAL (SELECT * FROM outages o WHERE o.source=k.source"
         " AND o.id=k.id OFFSET 0) o ON true WHERE o.source IS NULL OR"
         " o.digest IS DISTINCT FROM k.digest OR o.deleted_at IS NOT NULL OR"
         " o.raw_digest IS DISTINCT FROM k.raw"},
    [STMT_PAGE_OLD_OUTAGES] =
        {"ib_page_old_outages",
         "SELECT o.source,o.id,o.service,o.kind,o.kind_raw,o.start,o.\"end\","
         "o.updated_at,o.deleted_at,k.row-1" PAGE_KEY_ROWS
         " CROSS JOIN LATERAL (SELECT * FROM outages o WHERE"
         " o.source=k.source AND o.id=k.id OFFSET 0) o"},
    [STMT_PAGE_OUTAGE_RAWS] = {"ib_page_outage_raws",
                               "UPDATE outages o SET raw_digest=k.raw" PAGE_KEYS
                               " WHERE o.source=k.source AND o.id=k.id"},
    [STMT_PAGE_OUTAGE_DIGESTS] =
        {"ib_page_outage_digests",
         "UPDATE outages o SET digest=k.digest,raw_digest=k.raw" PAGE_KEYS
         " WHERE o.source=k.source AND"
         " o.id=k.id"},
    [STMT_PAGE_SEEN_OUTAGES] = {"ib_page_seen_outages",
                                "INSERT INTO pg_temp.seen(tbl,source,id) "
                                "SELECT 'o',k.source,k.id" PAGE_KEY_PAIRS
                                " ON CONFLICT DO NOTHING"},
    /* Whether the source has any row stored (deleted ones included): a
     * source without any needs no page lookups (source_fresh). */
    [STMT_ANY_TICKETS] = {"ib_any_tickets",
                          "SELECT EXISTS(SELECT 1 FROM tickets WHERE "
                          "source=$1)"},
    [STMT_ANY_OUTAGES] = {"ib_any_outages",
                          "SELECT EXISTS(SELECT 1 FROM outages WHERE "
                          "source=$1)"},
    [STMT_HISTORY_FOUND] = {"ib_history_found",
                            "SELECT EXISTS(SELECT 1 FROM tickets WHERE "
                            "source=$1 AND id=$2) OR EXISTS(SELECT 1 FROM "
                            "outages WHERE source=$1 AND id=$2)"},
    [STMT_LAST_EDITION] = {"ib_last_edition",
                           "SELECT hash FROM editions ORDER BY seq DESC "
                           "LIMIT 1"},
    [STMT_PUT_EDITION] = {"ib_put_edition",
                          "INSERT INTO editions(month,closed_at,as_of,hash,"
                          "prev_hash,replaces,reason,body) VALUES($1,"
                          "$2::bigint,$3::bigint,$4,$5,$6,$7,$8)"},
    [STMT_EDITIONS] = {"ib_editions",
                       "SELECT seq,month,closed_at,as_of,hash,prev_hash,"
                       "replaces,reason,body FROM editions ORDER BY seq"},
    [STMT_HISTORY] = {"ib_history",
                      "SELECT kind,field,old_value,new_value,run_id,"
                      "detected_at FROM changes WHERE source=$1 AND "
                      "record_id=$2 ORDER BY seq"},
    /* Late changes (store.h; as store_sqlite.c's late_sql): $1/$2 the period,
     * $3/$4 the same as ISO-8601 text, compared byte-wise (COLLATE "C"). */
    [STMT_LATE_CHANGES] =
        {"ib_late_changes",
         "SELECT c.seq,c.source,c.record_id,t.key,c.kind,c.field,c.old_value,"
         "c.new_value,c.run_id,c.detected_at FROM changes c JOIN tickets t ON "
         "t.source=c.source AND t.id=c.record_id WHERE c.detected_at>=$2::"
         "bigint AND c.kind='ticket' AND c.field IN " IB_LATE_TICKET_FIELDS
         " AND ((t.created_at>=$1::bigint AND t.created_at<$2::bigint) OR "
         "(t.resolved_at>=$1::bigint AND t.resolved_at<$2::bigint) OR "
         "EXISTS(SELECT 1 FROM changes h WHERE h.source=c.source AND "
         "h.record_id=c.record_id AND h.kind='ticket' AND h.field IN "
         "('created_at','resolved_at') AND h.old_value COLLATE \"C\">=$3::text "
         "AND h.old_value COLLATE \"C\"<$4::text)) "
         "UNION ALL "
         "SELECT c.seq,c.source,c.record_id,NULL,c.kind,c.field,c.old_value,"
         "c.new_value,c.run_id,c.detected_at FROM changes c JOIN outages o ON "
         "o.source=c.source AND o.id=c.record_id WHERE c.detected_at>=$2::"
         "bigint AND c.kind='outage' AND ((o.start<$2::bigint AND (o.\"end\" "
         "IS NULL OR o.\"end\">$1::bigint)) OR EXISTS(SELECT 1 FROM changes h "
         "WHERE h.source=c.source AND h.record_id=c.record_id AND "
         "h.kind='outage' AND h.field IN ('start','end') AND h.old_value "
         "COLLATE \"C\">=$3::text AND h.old_value COLLATE \"C\"<$4::text)) "
         "ORDER BY 1"},
    [STMT_SET_WM] =
        {"ib_set_wm",
         "INSERT INTO sync_state(source,watermark) VALUES($1,$2::bigint) "
         "ON CONFLICT(source) DO UPDATE SET watermark="
         "greatest(sync_state.watermark,EXCLUDED.watermark)"},
    [STMT_RESET_WM] = {"ib_reset_wm", "DELETE FROM sync_state WHERE source=$1"},
    [STMT_RUN_BEGIN] = {"ib_run_begin",
                        "INSERT INTO sync_runs(source,\"full\",started_at) "
                        "VALUES($1,$2::boolean,$3::bigint) RETURNING id"},
    [STMT_RUN_END] =
        {"ib_run_end",
         "UPDATE sync_runs SET ok=$2::boolean,ended_at=$3::bigint,"
         "records_read=$4::bigint,records_stored=$5::bigint,"
         "records_rejected=$6::bigint,error=$7 WHERE id=$1::bigint"},
    /* Marks and records a deleted_at change ($3 the instant as text, $4
     * the run) for each; returns how many. */
    [STMT_MARK_TICKETS] =
        {"ib_mark_tickets",
         "WITH m AS (UPDATE tickets t SET deleted_at=$2::bigint WHERE "
         "t.source=$1 AND t.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM "
         "pg_temp.seen s WHERE s.tbl='t' AND s.source=t.source AND "
         "s.id=t.id) RETURNING t.source, t.id), c AS (INSERT INTO "
         "changes(source,record_id,kind,field,old_value,new_value,run_id,"
         "detected_at) SELECT source,id,'ticket','deleted_at',NULL,$3,"
         "$4::bigint,$2::bigint FROM m) SELECT count(*) FROM m"},
    [STMT_MARK_OUTAGES] =
        {"ib_mark_outages",
         "WITH m AS (UPDATE outages o SET deleted_at=$2::bigint WHERE "
         "o.source=$1 AND o.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM "
         "pg_temp.seen s WHERE s.tbl='o' AND s.source=o.source AND "
         "s.id=o.id) RETURNING o.source, o.id), c AS (INSERT INTO "
         "changes(source,record_id,kind,field,old_value,new_value,run_id,"
         "detected_at) SELECT source,id,'outage','deleted_at',NULL,$3,"
         "$4::bigint,$2::bigint FROM m) SELECT count(*) FROM m"},
    [STMT_LOAD_TICKETS] =
        {"ib_load_tickets",
         "SELECT source,id,key,title,kind,kind_raw,priority,priority_raw,"
         "status,status_raw,service,grp,created_at,first_response_at,"
         "resolved_at,closed_at,updated_at,reported_response_breached,"
         "reported_resolution_breached FROM tickets t" TICKET_FILTER},
    /* Only the pauses of the tickets loaded: less to send. */
    [STMT_LOAD_PAUSES] =
        {"ib_load_pauses",
         "SELECT p.source,p.ticket_id,p.start,p.\"end\" FROM pauses p "
         "JOIN tickets t ON t.source=p.source AND "
         "t.id=p.ticket_id" TICKET_FILTER},
    [STMT_LOAD_TICKETS_PERIOD] =
        {"ib_load_tickets_period",
         "SELECT source,id,key,title,kind,kind_raw,priority,priority_raw,"
         "status,status_raw,service,grp,created_at,first_response_at,"
         "resolved_at,closed_at,updated_at,reported_response_breached,"
         "reported_resolution_breached FROM tickets t" PERIOD_FILTER},
    [STMT_LOAD_PAUSES_PERIOD] =
        {"ib_load_pauses_period",
         "SELECT p.source,p.ticket_id,p.start,p.\"end\" FROM pauses p "
         "JOIN tickets t ON t.source=p.source AND "
         "t.id=p.ticket_id" PERIOD_FILTER},
    [STMT_LOAD_OUTAGES_PERIOD] =
        {"ib_load_outages_period",
         "SELECT source,id,service,kind,kind_raw,start,\"end\",updated_at "
         "FROM outages WHERE deleted_at IS NULL AND start < $1::bigint AND "
         "(\"end\" IS NULL OR \"end\" > $2::bigint) "
         "ORDER BY source COLLATE \"C\", id COLLATE \"C\""},
    /* Byte order, like SQLite's, whatever the database's collation. */
    [STMT_LOAD_OUTAGES] =
        {"ib_load_outages",
         "SELECT source,id,service,kind,kind_raw,start,\"end\",updated_at "
         "FROM outages WHERE deleted_at IS NULL AND ($1::bigint IS NULL OR "
         "start < $1) AND ($2::bigint IS NULL OR \"end\" IS NULL OR "
         "\"end\" > $2) ORDER BY source COLLATE \"C\", id COLLATE \"C\""},
    [STMT_STATE] =
        {"ib_state",
         "SELECT (SELECT watermark FROM sync_state WHERE source=$1),"
         " (SELECT max(ended_at) FROM sync_runs WHERE source=$1 AND ok),"
         " (SELECT started_at FROM sync_runs WHERE source=$1"
         " ORDER BY id DESC LIMIT 1),"
         " (SELECT error FROM sync_runs WHERE source=$1"
         " ORDER BY id DESC LIMIT 1),"
         " CASE WHEN $2 THEN (SELECT count(*) FROM tickets WHERE source=$1"
         " AND deleted_at IS NULL) ELSE -1 END,"
         " CASE WHEN $2 THEN (SELECT count(*) FROM outages WHERE source=$1"
         " AND deleted_at IS NULL) ELSE -1 END,"
         " (SELECT count(*) FROM rejected WHERE source=$1),"
         " (SELECT started_at FROM sync_runs WHERE source=$1 AND ended_at"
         " IS NULL AND id=(SELECT max(id) FROM sync_runs WHERE source=$1))"},
    [STMT_PUT_REJECTED] =
        {"ib_put_rejected",
         "INSERT INTO rejected(source,id,position,reason,first_seen,"
         "last_seen) VALUES($1,$2,$3,$4,$5::bigint,$5::bigint) ON "
         "CONFLICT(source,id) DO UPDATE SET position=EXCLUDED.position,"
         "reason=EXCLUDED.reason,last_seen=EXCLUDED.last_seen"},
    [STMT_DROP_REJECTED] = {"ib_drop_rejected",
                            "DELETE FROM rejected WHERE source=$1 AND id=$2"},
    [STMT_LIST_REJECTED] = {"ib_list_rejected",
                            "SELECT id FROM rejected WHERE source=$1 ORDER BY "
                            "first_seen, id"},
    [STMT_LOCK] = {"ib_lock", "SELECT pg_catalog.pg_try_advisory_lock($1)"},
    [STMT_LOCK_NOTE] =
        {"ib_lock_note",
         "INSERT INTO sync_lock(lock_key,pid,since,backend_pid) "
         "VALUES($1::bigint,$2::bigint,$3::bigint,pg_catalog.pg_backend_pid())"
         " ON CONFLICT(lock_key) DO UPDATE SET pid=EXCLUDED.pid,"
         "since=EXCLUDED.since,backend_pid=EXCLUDED.backend_pid"},
    /* The holder's client pid and time when it wrote them (an itsm-bridge),
     * else its server process and session start (anything else). */
    [STMT_LOCK_HOLDER] =
        {"ib_lock_holder",
         "SELECT coalesce(s.pid, k.pid), coalesce(s.since,"
         " floor(extract(epoch FROM a.backend_start))::bigint)"
         " FROM pg_catalog.pg_locks k"
         " LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = k.pid"
         " LEFT JOIN sync_lock s ON s.lock_key = $1::bigint"
         " AND s.backend_pid = k.pid"
         " WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 1"
         " AND k.classid = $2::oid AND k.objid = $3::oid AND k.database ="
         " (SELECT oid FROM pg_catalog.pg_database"
         " WHERE datname = pg_catalog.current_database())"
         " LIMIT 1"},
};

/* A page is written when it holds this many records or bytes of text. */
#define PG_PAGE_ROWS 10000
#define PG_PAGE_BYTES (16 * 1024 * 1024)

/* COPY data being built (copy_* below). */
typedef struct copy_buf {
  char *data; /* owned: free */
  size_t len, cap;
  int oom; /* a row did not fit: the COPY is aborted */
} copy_buf;

/* A write of a page other than a put (watermark, rejected records, seen
 * marks), recorded in call order and run after the page's records. Texts
 * borrowed from the page's string blocks. */
typedef enum pg_op_kind {
  OP_WATERMARK,
  OP_PUT_REJECTED,
  OP_DROP_REJECTED,
  OP_MARK_SEEN
} pg_op_kind;

typedef struct pg_op {
  pg_op_kind kind;
  const char *source, *id, *position, *reason;
  ib_time at; /* OP_WATERMARK: the watermark; OP_PUT_REJECTED: now */
} pg_op;

/* What a held record brings besides its row. */
typedef struct pg_held {
  const char *source; /* its key: borrowed from the row */
  const char *id;
  int64_t digest;
  uint64_t raw; /* its raw digest, 0 = none */
  int track;    /* put with track_seen */
} pg_held;

/* The records put and not yet written (the writing section). */
typedef struct pg_page {
  ib_ticket_set tickets; /* owned: copies, texts in its string blocks */
  pg_held *ticket_held;  /* owned: one per ticket */
  size_t ticket_held_cap;
  ib_outage_set outages; /* owned: copies */
  pg_held *outage_held;  /* owned: one per outage */
  size_t outage_held_cap;
  ib_key_set ticket_keys; /* the keys held: borrowed from the sets */
  ib_key_set outage_keys;
  size_t bytes;  /* text and pauses held, for PG_PAGE_BYTES */
  copy_buf copy; /* reused by every COPY of the page */
  pg_op *ops;    /* owned: the other writes, in call order */
  size_t n_ops, cap_ops;
} pg_page;

/* The ids of one table of the fresh source written in this process, as
 * 64-bit hashes (open addressing, 0 = empty slot): a record whose hash is
 * not there cannot be stored yet. A hash hit only costs a lookup. */
typedef struct id_hashes {
  uint64_t *slots; /* owned: free */
  size_t cap, n;   /* cap: a power of two, or 0 */
} id_hashes;

typedef struct pg_store {
  ib_store base;    /* first: store.c dispatches through base.ops */
  char *url;        /* owned: free; for messages (it holds no password) */
  int readonly;     /* opened by ib_store_open_readonly */
  pg_page *filling; /* the open page: one of pages[], whichever the writer
                       does not hold */
  int in_page;      /* between begin and commit / rollback */
  int direct;       /* the open page writes at once, in this thread, in a
                       transaction open on the connection */
  int parts_handed; /* the open page handed full parts of it to the writer,
                       which keeps its transaction open */
  int page_broken;  /* a part of the open page failed: commit refuses */

  /* Owned by the writer from a hand-over until it is idle again, by the
   * calling thread otherwise (page_writer.h). */
  PGconn *conn;        /* owned: PQfinish (also releases the advisory lock) */
  int locks_held;      /* a lock of the store's (take_lock) was taken */
  int64_t run_id;      /* the run last begun: changes are recorded under it */
  ib_put_counts tally; /* what the written records of the open page did */
  pg_page pages[2];    /* owned: page_free; double-buffered */
  /* Whether fresh_source had no ticket (fresh[0]) / outage (fresh[1])
   * stored when this store met it first (-1: not asked yet, 0 also once
   * `written` grew past its bound), and the ids written since. */
  char *fresh_source; /* owned: free */
  int fresh[2];
  id_hashes written[2]; /* owned: free slots */

  ib_page_writer writer; /* see "write-behind pages" */
} pg_store;

/* The writing section, at the end of the file. */
static void page_clear(pg_page *pg);
static void page_free(pg_page *pg);
/* Before a call that is not a recorded write: waits until the writer is
 * idle and reports a page it failed to write (once); in an open page, a
 * read (SETTLE_READ) when the page holds anything, or any write
 * (SETTLE_WRITE), first makes the page direct: BEGIN, then its held
 * records and writes, so that the call sees and joins them. */
enum { SETTLE_READ, SETTLE_WRITE };
static int settle(pg_store *st, int mode, char *err, size_t errlen);
static int write_handed(void *store, void *page, int final, ib_put_counts *done,
                        char *err, size_t errlen);
static void fresh_forget(pg_store *st);

/* ---- errors ---- */

static void first_line(const char *text, char *buf, size_t len) {
  snprintf(buf, len, "%s", text ? text : "");
  buf[strcspn(buf, "\r\n")] = '\0';
  if (buf[0] == '\0') snprintf(buf, len, "unknown error");
}

/* "store postgresql://...: storing a ticket (desk/T1): <server message>".
 * Consumes nothing; res may be NULL (then the connection's message). */
static int pg_fail(pg_store *st, const PGresult *res, char *err, size_t errlen,
                   const char *what) {
  char msg[512];
  const char *primary =
      res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  first_line(primary ? primary : PQerrorMessage(st->conn), msg, sizeof msg);
  snprintf(err, errlen, "store %s: %s: %s", st->url, what, msg);
  return -1;
}

static void fmt_int(char buf[PG_INT_LEN], int64_t v) {
  snprintf(buf, PG_INT_LEN, "%" PRId64, v);
}

/* A time parameter: NULL for IB_TIME_NONE, else its decimal text in buf. */
static const char *time_param(char buf[PG_INT_LEN], ib_time t) {
  if (t == IB_TIME_NONE) return NULL;
  fmt_int(buf, t);
  return buf;
}

static ib_time get_time(const PGresult *r, int row, int col) {
  if (PQgetisnull(r, row, col)) return IB_TIME_NONE;
  return (ib_time)strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int64_t get_int(const PGresult *r, int row, int col) {
  if (PQgetisnull(r, row, col)) return 0;
  return (int64_t)strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* ---- statements ---- */

/* Runs a prepared statement to completion; *out (when not NULL) gets the
 * result to PQclear, else it is cleared here. */
static int run(pg_store *st, int stmt, int n, const char *const *values,
               PGresult **out, char *err, size_t errlen, const char *what) {
  PGresult *res =
      PQexecPrepared(st->conn, stmts[stmt].name, n, values, NULL, NULL, 0);
  ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
    pg_fail(st, res, err, errlen, what);
    PQclear(res);
    return -1;
  }
  if (out)
    *out = res;
  else
    PQclear(res);
  return 0;
}

/* Fixed statement text (DDL, BEGIN...), never data. */
static int exec_static(pg_store *st, const char *sql, char *err, size_t errlen,
                       const char *what) {
  PGresult *res = PQexec(st->conn, sql);
  ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  int ok = rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK;
  if (!ok) pg_fail(st, res, err, errlen, what);
  PQclear(res);
  return ok ? 0 : -1;
}

/* A one-off query with parameters (before the statements are prepared). */
static int exec_params(pg_store *st, const char *sql, int n,
                       const char *const *values, PGresult **out, char *err,
                       size_t errlen, const char *what) {
  PGresult *res = PQexecParams(st->conn, sql, n, NULL, values, NULL, NULL, 0);
  ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
    pg_fail(st, res, err, errlen, what);
    PQclear(res);
    return -1;
  }
  if (out)
    *out = res;
  else
    PQclear(res);
  return 0;
}

static uint64_t name_key(const char *name) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return h;
}

/* ---- opening ---- */

static void pg_close(ib_store *base);
static void pg_rollback(ib_store *base);
static const ib_store_ops pg_ops;

/* The installed schema version, 0 for a database without the store. */
static int schema_version(pg_store *st, int *version, char *err,
                          size_t errlen) {
  const char *v[1] = {PG_STORE_SCHEMA ".schema_version"};
  PGresult *res = NULL;
  *version = 0;
  if (exec_params(st, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", 1, v,
                  &res, err, errlen, "reading the schema version"))
    return -1;
  int exists = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  if (!exists) return 0;
  if (exec_params(st, "SELECT coalesce(max(version), 0) FROM schema_version", 0,
                  NULL, &res, err, errlen, "reading the schema version"))
    return -1;
  *version = (int)get_int(res, 0, 0);
  PQclear(res);
  return 0;
}

static int too_new(pg_store *st, int version, char *err, size_t errlen) {
  snprintf(err, errlen,
           "store %s: schema version %d is newer than this itsm-bridge "
           "understands (%d): upgrade itsm-bridge",
           st->url, version, SCHEMA_VERSION);
  return -1;
}

/* Creates or upgrades the schema in one transaction; two first opens wait
 * for each other on an advisory lock instead of racing on CREATE. */
static int migrate(pg_store *st, char *err, size_t errlen) {
  int version;
  if (schema_version(st, &version, err, errlen)) return -1;
  if (version == SCHEMA_VERSION) return 0; /* the usual case: no DDL */
  if (version > SCHEMA_VERSION) return too_new(st, version, err, errlen);

  char key[PG_INT_LEN], next[PG_INT_LEN];
  fmt_int(key, (int64_t)name_key(PG_MIGRATE_LOCK_NAME));
  const char *kv[1] = {key};
  if (exec_static(st, "BEGIN", err, errlen, "starting the schema migration") ||
      exec_params(st, "SELECT pg_catalog.pg_advisory_xact_lock($1::bigint)", 1,
                  kv, NULL, err, errlen, "locking the schema migration") ||
      exec_static(st,
                  "CREATE SCHEMA IF NOT EXISTS " PG_STORE_SCHEMA ";"
                  "CREATE TABLE IF NOT EXISTS schema_version("
                  "version integer NOT NULL)",
                  err, errlen, "creating schema " PG_STORE_SCHEMA) ||
      schema_version(st, &version, err, errlen))
    goto fail;
  if (version > SCHEMA_VERSION) {
    too_new(st, version, err, errlen);
    goto fail;
  }
  for (int v = version; v < SCHEMA_VERSION; v++) {
    char what[64];
    snprintf(what, sizeof what, "migrating the schema to version %d", v + 1);
    snprintf(next, sizeof next, "%d", v + 1);
    const char *nv[1] = {next};
    if (exec_static(st, migrations[v], err, errlen, what) ||
        exec_static(st, "DELETE FROM schema_version", err, errlen, what) ||
        exec_params(st, "INSERT INTO schema_version(version) VALUES($1::int)",
                    1, nv, NULL, err, errlen, what))
      goto fail;
  }
  if (exec_static(st, "COMMIT", err, errlen, "committing the schema"))
    goto fail;
  return 0;
fail:
  pg_rollback(&st->base);
  return -1;
}

static int connect_db(pg_store *st, const char *url, char *err, size_t errlen) {
  st->conn = ib_pg_connect(url);
  if (st->conn == NULL) {
    snprintf(err, errlen, "store %s: out of memory while connecting", st->url);
    return -1;
  }
  if (PQstatus(st->conn) != CONNECTION_OK) {
    char msg[512];
    first_line(PQerrorMessage(st->conn), msg, sizeof msg);
    snprintf(err, errlen,
             "store %s: cannot connect: %s; check store.url, that the server "
             "runs, and PGPASSWORD or ~/.pgpass",
             st->url, msg);
    return -1;
  }
  /* Plain table names below; IF NOT EXISTS notices stay quiet. */
  const char *v[2] = {PG_STORE_SCHEMA, "warning"};
  return exec_params(st,
                     "SELECT pg_catalog.set_config('search_path', $1, false),"
                     " pg_catalog.set_config('client_min_messages', $2, "
                     "false)",
                     2, v, NULL, err, errlen, "configuring the session");
}

/* The statements a read-only connection prepares: the others write, and
 * name the session's temporary table, which a read-only user may not be
 * allowed to create. */
static int reads_only(int stmt) {
  return stmt == STMT_LOAD_TICKETS || stmt == STMT_LOAD_PAUSES ||
         stmt == STMT_LOAD_OUTAGES || stmt == STMT_LOAD_TICKETS_PERIOD ||
         stmt == STMT_LOAD_PAUSES_PERIOD || stmt == STMT_LOAD_OUTAGES_PERIOD ||
         stmt == STMT_STATE || stmt == STMT_HISTORY_FOUND ||
         stmt == STMT_HISTORY || stmt == STMT_EDITIONS ||
         stmt == STMT_LATE_CHANGES;
}

/* The session's staging tables of the changed records of a page (pg_flush):
 * the columns of tickets, pauses and outages that a put writes. Created
 * when a page first has changed records (most syncs have none), emptied
 * before each use. */
#define STAGE_TICKETS                                                         \
  "CREATE TEMP TABLE IF NOT EXISTS stage_tickets(source text, id text,"       \
  " key text, title text, kind text, kind_raw text, priority integer,"        \
  " priority_raw text, status text, status_raw text, service text, grp text," \
  " created_at bigint, first_response_at bigint, resolved_at bigint,"         \
  " closed_at bigint, updated_at bigint, reported_response_breached boolean," \
  " reported_resolution_breached boolean, digest bigint, raw_digest bigint);" \
  "CREATE TEMP TABLE IF NOT EXISTS stage_pauses(source text, ticket_id text," \
  " start bigint, \"end\" bigint);"                                           \
  "TRUNCATE pg_temp.stage_tickets, pg_temp.stage_pauses"
#define STAGE_OUTAGES                                                      \
  "CREATE TEMP TABLE IF NOT EXISTS stage_outages(source text, id text,"    \
  " service text, kind text, kind_raw text, start bigint, \"end\" bigint," \
  " updated_at bigint, digest bigint, raw_digest bigint);"                 \
  "TRUNCATE pg_temp.stage_outages"
/* The staged changed records: rewritten, undeleted, pauses replaced (the
 * DELETE does not see the rows the INSERT adds: one snapshot). Fixed text:
 * the data is in the staging tables. */
#define UPDATE_STAGED_TICKETS                                       \
  "WITH u AS (UPDATE tickets t SET key=s.key,title=s.title,"        \
  "kind=s.kind,kind_raw=s.kind_raw,priority=s.priority,"            \
  "priority_raw=s.priority_raw,status=s.status,"                    \
  "status_raw=s.status_raw,service=s.service,grp=s.grp,"            \
  "created_at=s.created_at,first_response_at=s.first_response_at,"  \
  "resolved_at=s.resolved_at,closed_at=s.closed_at,"                \
  "updated_at=s.updated_at,deleted_at=NULL,"                        \
  "reported_response_breached=s.reported_response_breached,"        \
  "reported_resolution_breached=s.reported_resolution_breached,"    \
  "digest=s.digest,raw_digest=s.raw_digest FROM "                   \
  "pg_temp.stage_tickets s WHERE "                                  \
  "t.source=s.source AND t.id=s.id RETURNING t.source,t.id), "      \
  "d AS (DELETE FROM pauses p USING u WHERE p.source=u.source AND " \
  "p.ticket_id=u.id) INSERT INTO pauses(source,ticket_id,start,"    \
  "\"end\") SELECT source,ticket_id,start,\"end\" FROM "            \
  "pg_temp.stage_pauses"
#define UPDATE_STAGED_OUTAGES                                \
  "UPDATE outages o SET service=s.service,kind=s.kind,"      \
  "kind_raw=s.kind_raw,start=s.start,\"end\"=s.\"end\","     \
  "updated_at=s.updated_at,deleted_at=NULL,digest=s.digest," \
  "raw_digest=s.raw_digest FROM "                            \
  "pg_temp.stage_outages s WHERE o.source=s.source AND o.id=s.id"

/* Prepares the statements (a read-only connection: those that read) in
 * one round trip: pipeline mode, one sync point; a statement refused
 * names itself (those after it are aborted with it). */
static int prepare_all(pg_store *st, int readonly, char *err, size_t errlen) {
  int sent[STMT_COUNT], n = 0, rc = 0;
  char what[96] = "preparing the statements";
  if (!PQenterPipelineMode(st->conn))
    return pg_fail(st, NULL, err, errlen, what);
  for (int i = 0; i < STMT_COUNT; i++) {
    if (readonly && !reads_only(i)) continue;
    if (!PQsendPrepare(st->conn, stmts[i].name, stmts[i].sql, 0, NULL)) {
      snprintf(what, sizeof what, "preparing statement %s", stmts[i].name);
      return pg_fail(st, NULL, err, errlen, what); /* the connection is lost */
    }
    sent[n++] = i;
  }
  if (!PQpipelineSync(st->conn)) return pg_fail(st, NULL, err, errlen, what);
  /* Each statement's result then NULL, then the sync point: bounded. */
  for (int k = 0, nulls = 0; nulls <= n;) {
    PGresult *res = PQgetResult(st->conn);
    if (res == NULL) {
      nulls++;
      continue;
    }
    ExecStatusType rs = PQresultStatus(res);
    if (rs == PGRES_PIPELINE_SYNC) {
      PQclear(res);
      break;
    }
    if (rs != PGRES_COMMAND_OK && rc == 0) {
      snprintf(what, sizeof what, "preparing statement %s",
               stmts[sent[k < n ? k : n - 1]].name);
      rc = pg_fail(st, res, err, errlen, what);
    }
    k++;
    PQclear(res);
  }
  if (!PQexitPipelineMode(st->conn) && rc == 0)
    rc = pg_fail(st, NULL, err, errlen, what);
  return rc;
}

ib_store *ib_store_pg_open(const ib_store_cfg *cfg, int readonly, char *err,
                           size_t errlen) {
  char why[384];
  if (ib_pq_load(why, sizeof why) != 0) {
    snprintf(err, errlen, "store: %s", why);
    return NULL;
  }
  switch (ib_pg_url_check(cfg->url, why, sizeof why)) {
    case IB_PG_URL_OK: break;
    case IB_PG_URL_INVALID:
      snprintf(err, errlen,
               "store url is not a PostgreSQL URL (%s); expected "
               "url = \"postgresql://USER@HOST:PORT/DATABASE\";",
               why[0] ? why : "unknown error");
      return NULL;
    case IB_PG_URL_HAS_PASSWORD:
      snprintf(err, errlen,
               "store url contains a password; remove it from the "
               "configuration and set PGPASSWORD or a ~/.pgpass entry instead");
      return NULL;
  }
  pg_store *st = calloc(1, sizeof *st); /* owned by the caller: pg_close */
  if (st == NULL || (st->url = strdup(cfg->url)) == NULL) {
    snprintf(err, errlen, "store: out of memory");
    free(st);
    return NULL;
  }
  st->base.ops = &pg_ops;
  st->readonly = readonly;
  st->filling = &st->pages[0];
  st->fresh[0] = st->fresh[1] = -1;
  ib_page_writer_init(&st->writer, st, write_handed, NULL);
  if (connect_db(st, cfg->url, err, errlen)) goto fail;
  if (readonly) {
    int version;
    if (schema_version(st, &version, err, errlen)) goto fail;
    if (version > SCHEMA_VERSION) {
      too_new(st, version, err, errlen);
      goto fail;
    }
    /* A store never synced (version 0) is created, as a reading command
     * always did; an older schema needs sync to migrate it. */
    if (version == 0 ? migrate(st, err, errlen) != 0
                     : version < SCHEMA_VERSION) {
      if (version != 0)
        snprintf(err, errlen,
                 "store %s: schema version %d is older than this itsm-bridge "
                 "reads (%d): run 'itsm-bridge sync' once to migrate it",
                 st->url, version, SCHEMA_VERSION);
      goto fail;
    }
  } else if (migrate(st, err, errlen) ||
             exec_static(st,
                         "CREATE TEMP TABLE IF NOT EXISTS seen(tbl text, "
                         "source text, id text, PRIMARY KEY(tbl, source, id))",
                         err, errlen, "creating the seen table")) {
    goto fail;
  }
  if (prepare_all(st, readonly, err, errlen)) goto fail;
  return &st->base;
fail:
  pg_close(&st->base);
  return NULL;
}

/* Lets the writer finish the page handed over (it commits it), drops
 * the open page, then ends the session. The locks taken are released
 * first, so that they are free when close returns: the server ends the
 * session only some time after PQfinish, and a check run right after
 * another would otherwise find the notification lock still held. */
static void pg_close(ib_store *base) {
  pg_store *st = (pg_store *)base;
  if (st == NULL) return;
  ib_page_writer_stop(&st->writer);
  if (st->conn && st->locks_held && PQstatus(st->conn) == CONNECTION_OK &&
      PQtransactionStatus(st->conn) == PQTRANS_IDLE) /* else: session end */
    PQclear(PQexec(st->conn, "SELECT pg_catalog.pg_advisory_unlock_all()"));
  if (st->conn) PQfinish(st->conn); /* ends the session: frees the locks */
  page_free(&st->pages[0]);
  page_free(&st->pages[1]);
  free(st->fresh_source);
  free(st->written[0].slots);
  free(st->written[1].slots);
  free(st->url);
  ib_page_writer_destroy(&st->writer);
  free(st);
}

/* ---- the store's locks (store.h) ---- */

/* A session-level advisory lock per kind, each with its own key, so that
 * the locks never stand in each other's way; the holder's client pid and
 * time noted in sync_lock under the same key for a refusal to quote. */
typedef struct pg_lock_kind {
  const char *name;   /* the key's name (name_key) */
  const char *what;   /* "sync", "notification": for errors */
  const char *holder; /* store_backend.h: IB_*_LOCK_HOLDER */
} pg_lock_kind;
static const pg_lock_kind pg_sync_lock = {PG_SYNC_LOCK_NAME, "sync",
                                          IB_SYNC_LOCK_HOLDER};
static const pg_lock_kind pg_notify_lock = {PG_NOTIFY_LOCK_NAME, "notification",
                                            IB_NOTIFY_LOCK_HOLDER};

static ib_store_lock_status take_lock(pg_store *st, const pg_lock_kind *kind,
                                      char *err, size_t errlen) {
  if (settle(st, SETTLE_WRITE, err, errlen)) return IB_STORE_LOCK_FAILED;
  uint64_t key = name_key(kind->name);
  char k[PG_INT_LEN], hi[PG_INT_LEN], lo[PG_INT_LEN], what[64];
  fmt_int(k, (int64_t)key);
  PGresult *res = NULL;
  const char *kv[1] = {k};
  snprintf(what, sizeof what, "taking the %s lock", kind->what);
  if (run(st, STMT_LOCK, 1, kv, &res, err, errlen, what))
    return IB_STORE_LOCK_FAILED;
  int got = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  if (got) {
    st->locks_held = 1;
    /* Autocommit: visible to a refused process at once. */
    char pid[PG_INT_LEN], now[PG_INT_LEN];
    fmt_int(pid, (int64_t)getpid());
    fmt_int(now, (int64_t)time(NULL));
    const char *nv[3] = {k, pid, now};
    snprintf(what, sizeof what, "noting the %s lock's holder", kind->what);
    return run(st, STMT_LOCK_NOTE, 3, nv, NULL, err, errlen, what)
               ? IB_STORE_LOCK_FAILED
               : IB_STORE_LOCK_TAKEN;
  }
  /* pg_locks shows a bigint key as its high and low halves. */
  snprintf(hi, sizeof hi, "%" PRIu64, key >> 32);
  snprintf(lo, sizeof lo, "%" PRIu64, key & 0xffffffffu);
  const char *hv[3] = {k, hi, lo};
  snprintf(what, sizeof what, "finding who holds the %s lock", kind->what);
  if (run(st, STMT_LOCK_HOLDER, 3, hv, &res, err, errlen, what))
    return IB_STORE_LOCK_FAILED;
  long holder = 0;
  char since[IB_ISO_LEN] = "unknown time";
  if (PQntuples(res) == 1) {
    holder = (long)get_int(res, 0, 0);
    ib_time t = get_time(res, 0, 1);
    if (t != IB_TIME_NONE) ib_format_iso8601(t, since);
  }
  PQclear(res);
  snprintf(err, errlen, "another %s (pid %ld, since %s)", kind->holder, holder,
           since);
  return IB_STORE_LOCK_BUSY;
}

static ib_store_lock_status pg_lock_sync(ib_store *base, char *err,
                                         size_t errlen) {
  return take_lock((pg_store *)base, &pg_sync_lock, err, errlen);
}

static ib_store_lock_status pg_lock_notify(ib_store *base, char *err,
                                           size_t errlen) {
  return take_lock((pg_store *)base, &pg_notify_lock, err, errlen);
}

/* ---- transactions: begin, commit and rollback are in the write-behind
 * section at the end of the file ---- */

/* REPEATABLE READ: every statement until end_read sees the snapshot of
 * the first one, so tickets and their pauses come from one commit. */
static int pg_begin_read(ib_store *base, char *err, size_t errlen) {
  pg_store *st = (pg_store *)base;
  if (settle(st, st->in_page ? SETTLE_WRITE : SETTLE_READ, err, errlen))
    return -1;
  if (st->in_page) return 0; /* the page's transaction, direct by now */
  return exec_static(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err,
                     errlen, "starting a read transaction");
}

static void pg_end_read(ib_store *base) {
  pg_store *st = (pg_store *)base;
  /* Read only: nothing to keep; a read inside a page joined the page. */
  if (!st->in_page) pg_rollback(base);
}

/* ---- writing (the page of records: at the end of the file) ---- */

static int set_watermark_now(ib_store *base, const char *source, ib_time wm,
                             char *err, size_t errlen) {
  if (wm == IB_TIME_NONE) return 0;
  char w[PG_INT_LEN];
  const char *v[2] = {source, time_param(w, wm)};
  return run((pg_store *)base, STMT_SET_WM, 2, v, NULL, err, errlen,
             "advancing the watermark");
}

static int pg_reset_watermark(ib_store *base, const char *source, char *err,
                              size_t errlen) {
  if (settle((pg_store *)base, SETTLE_WRITE, err, errlen)) return -1;
  const char *v[1] = {source};
  return run((pg_store *)base, STMT_RESET_WM, 1, v, NULL, err, errlen,
             "resetting the watermark");
}

static int pg_run_begin(ib_store *base, const char *source, int full,
                        int64_t *run_id, char *err, size_t errlen) {
  if (settle((pg_store *)base, SETTLE_WRITE, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  char now[PG_INT_LEN];
  fmt_int(now, (int64_t)time(NULL));
  const char *v[3] = {source, full ? "t" : "f", now};
  PGresult *res = NULL;
  fresh_forget(st); /* others may have written since the last run */
  if (run(st, STMT_RUN_BEGIN, 3, v, &res, err, errlen, "recording the run"))
    return -1;
  *run_id = st->run_id = get_int(res, 0, 0);
  PQclear(res);
  return 0;
}

static int pg_run_end(ib_store *base, int64_t run_id, int ok, int64_t read,
                      int64_t stored, int64_t rejected, const char *error,
                      char *err, size_t errlen) {
  if (settle((pg_store *)base, SETTLE_WRITE, err, errlen)) return -1;
  char id[PG_INT_LEN], now[PG_INT_LEN], r[PG_INT_LEN], s[PG_INT_LEN],
      x[PG_INT_LEN];
  fmt_int(id, run_id);
  fmt_int(now, (int64_t)time(NULL));
  fmt_int(r, read);
  fmt_int(s, stored);
  fmt_int(x, rejected);
  const char *v[7] = {id, ok ? "t" : "f", now, r, s, x, error};
  return run((pg_store *)base, STMT_RUN_END, 7, v, NULL, err, errlen,
             "recording the run");
}

static int pg_mark_unseen_deleted(ib_store *base, const char *source,
                                  ib_time now, int64_t *count, char *err,
                                  size_t errlen) {
  if (settle((pg_store *)base, SETTLE_WRITE, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  char n[PG_INT_LEN], iso[IB_ISO_LEN], run_id[PG_INT_LEN];
  ib_format_iso8601(now, iso);
  fmt_int(run_id, st->run_id);
  const char *v[4] = {source, time_param(n, now), iso, run_id};
  PGresult *res = NULL;
  *count = 0;
  /* Autovacuum never analyzes temporary tables: without statistics the
   * anti-join below becomes a nested loop (quadratic in the rows). */
  if (exec_static(st, "ANALYZE pg_temp.seen", err, errlen,
                  "marking vanished rows"))
    return -1;
  if (run(st, STMT_MARK_TICKETS, 4, v, &res, err, errlen,
          "marking vanished tickets"))
    return -1;
  *count += get_int(res, 0, 0);
  PQclear(res);
  if (run(st, STMT_MARK_OUTAGES, 4, v, &res, err, errlen,
          "marking vanished outages"))
    return -1;
  *count += get_int(res, 0, 0);
  PQclear(res);
  return 0;
}

static int mark_seen_now(ib_store *base, const char *source, const char *id,
                         char *err, size_t errlen) {
  const char *v[2] = {source, id};
  return exec_params((pg_store *)base,
                     "INSERT INTO pg_temp.seen(tbl,source,id) VALUES"
                     "('t',$1,$2),('o',$1,$2) ON CONFLICT DO NOTHING",
                     2, v, NULL, err, errlen, "tracking a rejected record");
}

static int pg_count_unseen(ib_store *base, const char *source, int64_t *unseen,
                           int64_t *live, char *err, size_t errlen) {
  if (settle((pg_store *)base, SETTLE_READ, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  const char *v[1] = {source};
  PGresult *res = NULL;
  if (exec_static(st, "ANALYZE pg_temp.seen", err, errlen,
                  "counting vanished records") ||
      exec_params(
          st,
          "SELECT (SELECT count(*) FROM tickets t WHERE t.source=$1 AND "
          "t.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM pg_temp.seen s "
          "WHERE s.tbl='t' AND s.source=t.source AND s.id=t.id)) + (SELECT "
          "count(*) FROM outages o WHERE o.source=$1 AND o.deleted_at IS NULL "
          "AND NOT EXISTS (SELECT 1 FROM pg_temp.seen s WHERE s.tbl='o' AND "
          "s.source=o.source AND s.id=o.id)), (SELECT count(*) FROM tickets "
          "WHERE source=$1 AND deleted_at IS NULL) + (SELECT count(*) FROM "
          "outages WHERE source=$1 AND deleted_at IS NULL)",
          1, v, &res, err, errlen, "counting vanished records"))
    return -1;
  *unseen = get_int(res, 0, 0);
  *live = get_int(res, 0, 1);
  PQclear(res);
  return 0;
}

/* ---- reading ---- */

/* Streams a prepared query row by row (single-row mode: a month of a big
 * store never sits twice in memory). on_row returns -1 to stop on ENOMEM;
 * the rest of the result is drained either way. */
typedef int (*row_fn)(void *ctx, const PGresult *row);

static int stream(pg_store *st, int stmt, int n, const char *const *values,
                  row_fn on_row, void *ctx, int *oom, char *err, size_t errlen,
                  const char *what) {
  if (!PQsendQueryPrepared(st->conn, stmts[stmt].name, n, values, NULL, NULL,
                           0))
    return pg_fail(st, NULL, err, errlen, what);
  /* Refused only when called at the wrong time: then drain and fail. */
  int rc =
      PQsetSingleRowMode(st->conn) ? 0 : pg_fail(st, NULL, err, errlen, what);
  PGresult *res;
  while ((res = PQgetResult(st->conn)) != NULL) {
    ExecStatusType rs = PQresultStatus(res);
    if (rs == PGRES_SINGLE_TUPLE) {
      if (rc == 0 && !*oom && on_row(ctx, res) != 0) *oom = 1;
    } else if (rs != PGRES_TUPLES_OK && rc == 0) {
      rc = pg_fail(st, res, err, errlen, what);
    }
    PQclear(res);
  }
  return rc;
}

/* What ib_store_raw_digests reads (store_sqlite.c), streamed by one COPY
 * TO STDOUT: the server scans while the client fills its map, one row in
 * memory at a time. COPY takes no parameters: the source goes through a
 * session setting (set_config, a parameter), read once by the subquery. */
#define RAWS_COPY(table)                                                  \
  "COPY (SELECT id, raw_digest FROM " table                               \
  " WHERE source=(SELECT"                                                 \
  " pg_catalog.current_setting('itsm_bridge.raw_source')) AND deleted_at" \
  " IS NULL AND raw_digest IS NOT NULL) TO STDOUT"

/* Decodes a COPY text field in place (backslash escapes: \b \f \n \r \t
 * \v, octal \NNN, \xHH, any other character as itself); returns its
 * end. */
static char *copy_unescape(char *field) {
  char *out = field;
  for (const char *p = field; *p;) {
    if (*p != '\\' || p[1] == '\0') {
      *out++ = *p++;
      continue;
    }
    p++;
    char c = *p++;
    switch (c) {
      case 'b': *out++ = '\b'; break;
      case 'f': *out++ = '\f'; break;
      case 'n': *out++ = '\n'; break;
      case 'r': *out++ = '\r'; break;
      case 't': *out++ = '\t'; break;
      case 'v': *out++ = '\v'; break;
      case 'x': {
        int v = 0, n = 0;
        for (; n < 2 && strchr("0123456789abcdefABCDEF", *p) && *p; n++, p++)
          v = v * 16 + (*p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10);
        if (n == 0)
          *out++ = 'x';
        else
          *out++ = (char)v;
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          int v = c - '0';
          for (int n = 1; n < 3 && *p >= '0' && *p <= '7'; n++, p++)
            v = v * 8 + (*p - '0');
          *out++ = (char)v;
        } else {
          *out++ = c;
        }
    }
  }
  *out = '\0';
  return out;
}

/* One COPY row "id<TAB>digest\n" (modified in place) to each(); -1 when
 * it is not such a row. */
static int raw_row(char *row, int len, ib_raw_digest_fn each, void *ctx,
                   int *stop) {
  if (len <= 0 || row[len - 1] != '\n') return -1;
  row[len - 1] = '\0';
  char *tab = strchr(row, '\t');
  if (tab == NULL) return -1;
  *tab = '\0';
  char *end = NULL;
  long long digest = strtoll(tab + 1, &end, 10);
  if (end == tab + 1 || *end != '\0') return -1;
  copy_unescape(row);
  *stop = each(ctx, row, (uint64_t)digest);
  return 0;
}

static int pg_raw_digests(ib_store *base, const char *source,
                          ib_record_type type, ib_raw_digest_fn each, void *ctx,
                          char *err, size_t errlen) {
  if (settle((pg_store *)base, SETTLE_READ, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  static const char what[] = "reading the records' raw digests";
  const char *v[2] = {"itsm_bridge.raw_source", source};
  int rc = -1, stop = 0, bad = 0;
  if (exec_params(st, "SELECT pg_catalog.set_config($1, $2, false)", 2, v, NULL,
                  err, errlen, what))
    return -1;
  PGresult *res =
      PQexec(st->conn, type == IB_RECORD_OUTAGE ? RAWS_COPY("outages")
                                                : RAWS_COPY("tickets"));
  int ok = res && PQresultStatus(res) == PGRES_COPY_OUT;
  if (!ok) pg_fail(st, res, err, errlen, what);
  PQclear(res);
  if (!ok) return -1;
  /* Every row is read, also after a stop: the connection must be drained. */
  char *row = NULL; /* owned: PQfreemem */
  int len;
  while ((len = PQgetCopyData(st->conn, &row, 0)) > 0) {
    if (stop == 0 && !bad && raw_row(row, len, each, ctx, &stop) != 0) bad = 1;
    PQfreemem(row);
  }
  if (len == -2) pg_fail(st, NULL, err, errlen, what);
  rc = len == -1 ? 0 : -1;
  while ((res = PQgetResult(st->conn)) != NULL) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
      rc = pg_fail(st, res, err, errlen, what);
    PQclear(res);
  }
  if (rc == 0 && bad) {
    snprintf(err, errlen, "store %s: %s: the server sent a malformed row",
             st->url, what);
    rc = -1;
  }
  return rc != 0 ? -1 : stop;
}

typedef struct ticket_load {
  ib_ticket_set *out;
  ib_row_index ix;
} ticket_load;

static char *set_text(ib_ticket_set *set, const PGresult *r, int col,
                      int *oom) {
  if (PQgetisnull(r, 0, col)) return NULL;
  char *copy = ib_ticket_set_strdup(set, PQgetvalue(r, 0, col),
                                    (size_t)PQgetlength(r, 0, col));
  if (copy == NULL) *oom = 1;
  return copy;
}

static ib_verdict get_verdict(const PGresult *r, int col) {
  if (PQgetisnull(r, 0, col)) return IB_VERDICT_UNKNOWN;
  return PQgetvalue(r, 0, col)[0] == 't' ? IB_VERDICT_BREACHED : IB_VERDICT_MET;
}

static int ticket_row(void *ctx, const PGresult *res) {
  ib_ticket_set *out = ((ticket_load *)ctx)->out;
  int oom = 0;
  ib_ticket_row *r = ib_ticket_set_add(out);
  if (r == NULL) return -1;
  r->source = set_text(out, res, 0, &oom);
  r->id = set_text(out, res, 1, &oom);
  r->key = set_text(out, res, 2, &oom);
  r->title = set_text(out, res, 3, &oom);
  int k = ib_kind_parse(PQgetvalue(res, 0, 4));
  r->kind = k < 0 ? IB_KIND_OTHER : (ib_kind)k;
  r->kind_raw = set_text(out, res, 5, &oom);
  r->priority = (int)get_int(res, 0, 6);
  r->priority_raw = set_text(out, res, 7, &oom);
  int s = ib_state_parse(PQgetvalue(res, 0, 8));
  r->status = s < 0 ? IB_STATE_OPEN : (ib_state)s;
  r->status_raw = set_text(out, res, 9, &oom);
  r->service = set_text(out, res, 10, &oom);
  r->group = set_text(out, res, 11, &oom);
  r->created_at = get_time(res, 0, 12);
  r->first_response_at = get_time(res, 0, 13);
  r->resolved_at = get_time(res, 0, 14);
  r->closed_at = get_time(res, 0, 15);
  r->updated_at = get_time(res, 0, 16);
  r->reported_response_breached = get_verdict(res, 17);
  r->reported_resolution_breached = get_verdict(res, 18);
  return oom ? -1 : 0;
}

static int pause_row(void *ctx, const PGresult *res) {
  ticket_load *l = ctx;
  ib_ticket_row *r = ib_row_index_find(&l->ix, l->out, PQgetvalue(res, 0, 0),
                                       PQgetvalue(res, 0, 1));
  if (r == NULL) return 0; /* loaded meanwhile by another transaction */
  return ib_row_add_pause(r, get_time(res, 0, 2), get_time(res, 0, 3));
}

static int pg_load_tickets(ib_store *base, ib_time from, ib_time to,
                           ib_ticket_set *out, char *err, size_t errlen) {
  if (settle((pg_store *)base, SETTLE_READ, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  ticket_load l = {.out = out};
  size_t first = out->n;
  int oom = 0;
  char tb[PG_INT_LEN], fb[PG_INT_LEN];
  const char *v[2] = {time_param(tb, to), time_param(fb, from)};
  if (first > 0 && out->strings == NULL) {
    snprintf(err, errlen,
             "store: cannot append a bulk load to a set of "
             "individually allocated rows");
    return -1;
  }
  int bounded = from != IB_TIME_NONE && to != IB_TIME_NONE;
  if (stream(st, bounded ? STMT_LOAD_TICKETS_PERIOD : STMT_LOAD_TICKETS, 2, v,
             ticket_row, &l, &oom, err, errlen, "loading tickets"))
    goto fail;
  if (oom || ib_row_index_build(&l.ix, out, first) != 0) {
    snprintf(err, errlen, "store %s: out of memory loading tickets", st->url);
    goto fail;
  }
  if (stream(st, bounded ? STMT_LOAD_PAUSES_PERIOD : STMT_LOAD_PAUSES, 2, v,
             pause_row, &l, &oom, err, errlen, "loading pauses"))
    goto fail;
  if (oom) {
    snprintf(err, errlen, "store %s: out of memory loading pauses", st->url);
    goto fail;
  }
  ib_rows_sort_pauses(out, first);
  ib_row_index_free(&l.ix);
  return 0;
fail:
  ib_row_index_free(&l.ix);
  return -1;
}

static char *dup_text(const PGresult *r, int col, int *oom) {
  if (PQgetisnull(r, 0, col)) return NULL;
  char *copy = strdup(PQgetvalue(r, 0, col));
  if (copy == NULL) *oom = 1;
  return copy;
}

static int outage_row(void *ctx, const PGresult *res) {
  int oom = 0;
  ib_outage_row *r = ib_outage_set_add(ctx);
  if (r == NULL) return -1;
  r->source = dup_text(res, 0, &oom);
  r->id = dup_text(res, 1, &oom);
  r->service = dup_text(res, 2, &oom);
  int k = ib_outage_kind_parse(PQgetvalue(res, 0, 3));
  r->kind = k < 0 ? IB_OUTAGE_OUTAGE : (ib_outage_kind)k;
  r->kind_raw = dup_text(res, 4, &oom);
  r->start = get_time(res, 0, 5);
  r->end = get_time(res, 0, 6);
  r->updated_at = get_time(res, 0, 7);
  return oom ? -1 : 0;
}

static int pg_history(ib_store *base, const char *source, const char *id,
                      ib_change_list *out, int *found, char *err,
                      size_t errlen) {
  if (settle((pg_store *)base, SETTLE_READ, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  const char *v[2] = {source, id};
  PGresult *res = NULL;
  *found = 0;
  if (run(st, STMT_HISTORY_FOUND, 2, v, &res, err, errlen,
          "reading the history"))
    return -1;
  *found = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  if (run(st, STMT_HISTORY, 2, v, &res, err, errlen, "reading the history"))
    return -1;
  for (int i = 0; i < PQntuples(res); i++) {
    const char *text[4];
    for (int c = 0; c < 4; c++)
      text[c] = PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c);
    if (ib_change_list_add(out, text[0], text[1], text[2], text[3],
                           get_int(res, i, 4), get_time(res, i, 5)) != 0) {
      PQclear(res);
      snprintf(err, errlen, "store %s: out of memory reading the history",
               st->url);
      return -1;
    }
  }
  PQclear(res);
  return 0;
}

static int pg_put_edition(ib_store *base, const ib_edition_rec *e, char *err,
                          size_t errlen) {
  if (settle((pg_store *)base, SETTLE_WRITE, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  PGresult *res = NULL;
  /* The chain must not fork: the new edition names the current last one
   * (the sync lock, which close holds, keeps two closes apart). */
  if (run(st, STMT_LAST_EDITION, 0, NULL, &res, err, errlen,
          "reading the last edition"))
    return -1;
  const char *last = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL;
  int moved = (last == NULL) != (e->prev_hash == NULL) ||
              (last && strcmp(last, e->prev_hash) != 0);
  PQclear(res);
  if (moved) {
    snprintf(err, errlen,
             "store %s: another edition was closed meanwhile; run the "
             "command again",
             st->url);
    return -1;
  }
  char closed[PG_INT_LEN], as_of[PG_INT_LEN];
  const char *v[8] = {e->month,
                      time_param(closed, e->closed_at),
                      time_param(as_of, e->as_of),
                      e->hash,
                      e->prev_hash,
                      e->replaces,
                      e->reason,
                      e->body};
  return run(st, STMT_PUT_EDITION, 8, v, NULL, err, errlen,
             "storing the edition");
}

static int pg_editions(ib_store *base, ib_edition_list *out, char *err,
                       size_t errlen) {
  if (settle((pg_store *)base, SETTLE_READ, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  PGresult *res = NULL;
  if (run(st, STMT_EDITIONS, 0, NULL, &res, err, errlen,
          "reading the editions"))
    return -1;
  for (int i = 0; i < PQntuples(res); i++) {
    char *text[9];
    for (int c = 0; c < 9; c++)
      text[c] = PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c);
    ib_edition_rec e = {get_int(res, i, 0),
                        text[1],
                        get_time(res, i, 2),
                        get_time(res, i, 3),
                        text[4],
                        text[5],
                        text[6],
                        text[7],
                        text[8]};
    if (ib_edition_list_add(out, &e) != 0) {
      PQclear(res);
      snprintf(err, errlen, "store %s: out of memory reading the editions",
               st->url);
      return -1;
    }
  }
  PQclear(res);
  return 0;
}

static int pg_late_changes(ib_store *base, ib_time from, ib_time to,
                           ib_late_change_list *out, char *err, size_t errlen) {
  if (settle((pg_store *)base, SETTLE_READ, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  char fb[PG_INT_LEN], tb[PG_INT_LEN], from_iso[IB_ISO_LEN], to_iso[IB_ISO_LEN];
  ib_format_iso8601(from, from_iso);
  ib_format_iso8601(to, to_iso);
  const char *v[4] = {time_param(fb, from), time_param(tb, to), from_iso,
                      to_iso};
  PGresult *res = NULL;
  if (run(st, STMT_LATE_CHANGES, 4, v, &res, err, errlen,
          "reading the late changes"))
    return -1;
  for (int i = 0; i < PQntuples(res); i++) {
    char *text[8];
    for (int c = 0; c < 8; c++)
      text[c] = PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c);
    int cat = ib_late_category_of(text[4], text[5], text[6], text[7]);
    if (cat < 0) continue;
    ib_late_change c = {.seq = get_int(res, i, 0),
                        .source = text[1],
                        .id = text[2],
                        .key = text[3],
                        .kind = text[4],
                        .field = text[5],
                        .old_value = text[6],
                        .new_value = text[7],
                        .category = (ib_late_category)cat,
                        .run_id = get_int(res, i, 8),
                        .detected_at = get_time(res, i, 9)};
    if (ib_late_change_list_add(out, &c) != 0) {
      PQclear(res);
      snprintf(err, errlen, "store %s: out of memory reading the late changes",
               st->url);
      return -1;
    }
  }
  PQclear(res);
  return 0;
}

static int pg_load_outages(ib_store *base, ib_time from, ib_time to,
                           ib_outage_set *out, char *err, size_t errlen) {
  if (settle((pg_store *)base, SETTLE_READ, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  int oom = 0;
  char tb[PG_INT_LEN], fb[PG_INT_LEN];
  const char *v[2] = {time_param(tb, to), time_param(fb, from)};
  int bounded = from != IB_TIME_NONE && to != IB_TIME_NONE;
  if (stream(st, bounded ? STMT_LOAD_OUTAGES_PERIOD : STMT_LOAD_OUTAGES, 2, v,
             outage_row, out, &oom, err, errlen, "loading outages"))
    return -1;
  if (oom) {
    snprintf(err, errlen, "store %s: out of memory loading outages", st->url);
    return -1;
  }
  return 0;
}

static int pg_source_state(ib_store *base, const char *source, int counts,
                           ib_source_state *out, char *err, size_t errlen) {
  if (settle((pg_store *)base, SETTLE_READ, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  const char *v[2] = {source, counts ? "true" : "false"};
  PGresult *res = NULL;
  memset(out, 0, sizeof *out);
  if (run(st, STMT_STATE, 2, v, &res, err, errlen, "reading sync state"))
    return -1;
  if (PQntuples(res) != 1) {
    PQclear(res);
    snprintf(err, errlen, "store %s: reading sync state: no row", st->url);
    return -1;
  }
  out->watermark = get_time(res, 0, 0);
  out->last_success = get_time(res, 0, 1);
  out->last_run = get_time(res, 0, 2);
  snprintf(out->last_error, sizeof out->last_error, "%s",
           PQgetisnull(res, 0, 3) ? "" : PQgetvalue(res, 0, 3));
  out->tickets = get_int(res, 0, 4);
  out->outages = get_int(res, 0, 5);
  out->rejected = get_int(res, 0, 6);
  out->interrupted_at = get_time(res, 0, 7);
  PQclear(res);
  return 0;
}

static int put_rejected_now(ib_store *base, const char *source, const char *id,
                            const char *position, const char *reason,
                            ib_time now, char *err, size_t errlen) {
  char nb[PG_INT_LEN];
  const char *v[5] = {source, id, position, reason, time_param(nb, now)};
  return run((pg_store *)base, STMT_PUT_REJECTED, 5, v, NULL, err, errlen,
             "recording a rejected record");
}

static int drop_rejected_now(ib_store *base, const char *source, const char *id,
                             char *err, size_t errlen) {
  const char *v[2] = {source, id};
  return run((pg_store *)base, STMT_DROP_REJECTED, 2, v, NULL, err, errlen,
             "clearing a rejected record");
}

static int pg_list_rejected(ib_store *base, const char *source,
                            ib_string_list *out, char *err, size_t errlen) {
  if (settle((pg_store *)base, SETTLE_READ, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  const char *v[1] = {source};
  PGresult *res = NULL;
  if (run(st, STMT_LIST_REJECTED, 1, v, &res, err, errlen,
          "listing rejected records"))
    return -1;
  int rc = 0;
  for (int i = 0; i < PQntuples(res) && rc == 0; i++)
    if (ib_string_list_add(out, PQgetvalue(res, i, 0))) {
      snprintf(err, errlen, "store %s: out of memory", st->url);
      rc = -1;
    }
  PQclear(res);
  return rc;
}

static int pg_alert_states(ib_store *base, ib_alert_state_list *out, char *err,
                           size_t errlen) {
  if (settle((pg_store *)base, SETTLE_READ, err, errlen)) return -1;
  pg_store *st = (pg_store *)base;
  PGresult *res = NULL;
  if (exec_params(st,
                  "SELECT rule,webhook,firing,since,last_sent,pending FROM "
                  "alert_state ORDER BY rule, webhook",
                  0, NULL, &res, err, errlen, "reading alert states"))
    return -1;
  int rc = 0;
  for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
    ib_alert_state a = {
        .rule = PQgetvalue(res, i, 0),
        .webhook = PQgetvalue(res, i, 1),
        .firing = PQgetvalue(res, i, 2)[0] == 't',
        .since = get_time(res, i, 3),
        .last_sent = get_time(res, i, 4),
        .pending = PQgetvalue(res, i, 5)[0] == 't',
    };
    if (ib_alert_state_list_add(out, &a)) {
      snprintf(err, errlen, "store %s: out of memory", st->url);
      rc = -1;
    }
  }
  PQclear(res);
  return rc;
}

static int pg_put_alert_state(ib_store *base, const ib_alert_state *a,
                              char *err, size_t errlen) {
  if (settle((pg_store *)base, SETTLE_WRITE, err, errlen)) return -1;
  char sb[PG_INT_LEN], lb[PG_INT_LEN];
  const char *v[6] = {a->rule,
                      a->webhook,
                      a->firing ? "true" : "false",
                      time_param(sb, a->since),
                      time_param(lb, a->last_sent),
                      a->pending ? "true" : "false"};
  return exec_params((pg_store *)base,
                     "INSERT INTO alert_state(rule,webhook,firing,since,"
                     "last_sent,pending) VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT"
                     "(rule,webhook) DO UPDATE SET firing=$3,since=$4,"
                     "last_sent=$5,pending=$6",
                     6, v, NULL, err, errlen, "recording an alert state");
}

/* ---- writing: a page of records at a time ----
 * A put copies its record into the handle's open page; the page is
 * written by the writer thread after commit, or at once when it is full,
 * before a second put of a record it holds, before any read or marking
 * (store.c calls flush; see "write-behind pages"). One query looks the
 * page's keys up (arrays as parameters, one primary-key probe each; none
 * for the new records of a first load, see "first loads without lookups")
 * and sends back
 * only the new records and the stored rows of those whose digest differs,
 * is missing or that are marked deleted; unchanged records cost nothing
 * more. New records are COPYed straight into the tables; the others are
 * compared in C (store_rows.c) and the changed ones COPYed into staging
 * tables, then rewritten by one UPDATE (pauses replaced), their field
 * changes COPYed into `changes`. A few round trips per page instead of one
 * or more per record: the server's cost per statement is what made this
 * store slow. */

/* A COPY text-format row being built: fields separated by tabs, `\N` for
 * NULL, and backslash, newline, carriage return and tab escaped, so any
 * text (C strings: no NUL) arrives as it was. */
static int cb_reserve(copy_buf *b, size_t more) {
  if (b->oom) return -1;
  if (b->len + more <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 64 * 1024;
  while (cap < b->len + more) cap *= 2;
  char *data = realloc(b->data, cap);
  if (data == NULL) {
    b->oom = 1;
    return -1;
  }
  b->data = data;
  b->cap = cap;
  return 0;
}

static void cb_raw(copy_buf *b, const char *text, size_t n) {
  if (cb_reserve(b, n) != 0) return;
  memcpy(b->data + b->len, text, n);
  b->len += n;
}

/* A field: preceded by a tab unless it is the row's first. */
static void cb_text(copy_buf *b, int first, const char *text) {
  if (!first) cb_raw(b, "\t", 1);
  if (text == NULL) {
    cb_raw(b, "\\N", 2);
    return;
  }
  size_t n = strlen(text);
  if (cb_reserve(b, 2 * n) != 0) return;
  char *out = b->data + b->len;
  for (const char *p = text; *p; p++) {
    char esc = *p == '\\'   ? '\\'
               : *p == '\n' ? 'n'
               : *p == '\r' ? 'r'
               : *p == '\t' ? 't'
                            : 0;
    if (esc) {
      *out++ = '\\';
      *out++ = esc;
    } else {
      *out++ = *p;
    }
  }
  b->len = (size_t)(out - b->data);
}

static void cb_int(copy_buf *b, int first, int64_t v) {
  char num[PG_INT_LEN];
  fmt_int(num, v);
  cb_text(b, first, num);
}

/* A raw digest: the same bits as a signed bigint, NULL for none. */
static void cb_raw_digest(copy_buf *b, uint64_t raw) {
  if (raw == 0)
    cb_text(b, 0, NULL);
  else
    cb_int(b, 0, (int64_t)raw);
}

static void cb_time(copy_buf *b, ib_time t) {
  char num[PG_INT_LEN];
  cb_text(b, 0, time_param(num, t));
}

static void cb_verdict(copy_buf *b, ib_verdict v) {
  cb_text(b, 0,
          v == IB_VERDICT_UNKNOWN    ? NULL
          : v == IB_VERDICT_BREACHED ? "t"
                                     : "f");
}

static void cb_end_row(copy_buf *b) {
  cb_raw(b, "\n", 1);
}

#define PG_COPY_CHUNK (256 * 1024) /* bytes handed to libpq at a time */

/* Starts `sql`, a COPY ... FROM STDIN. */
static int copy_start(pg_store *st, const char *sql, char *err, size_t errlen,
                      const char *what) {
  PGresult *res = PQexec(st->conn, sql);
  int ok = res && PQresultStatus(res) == PGRES_COPY_IN;
  if (!ok) pg_fail(st, res, err, errlen, what);
  PQclear(res);
  return ok ? 0 : -1;
}

/* Hands what b holds to libpq when it is a chunk (or `all`). */
static int copy_send(pg_store *st, copy_buf *b, int all) {
  if (b->oom || b->len == 0 || (!all && b->len < PG_COPY_CHUNK)) return 0;
  if (PQputCopyData(st->conn, b->data, (int)b->len) != 1) return -1;
  b->len = 0;
  return 0;
}

/* Ends the COPY (aborting it when b ran out of memory or a send failed)
 * and reads its result; b is emptied either way. */
static int copy_finish(pg_store *st, copy_buf *b, int failed, char *err,
                       size_t errlen, const char *what) {
  int rc = 0;
  if (!failed && copy_send(st, b, 1) != 0) {
    pg_fail(st, NULL, err, errlen, what);
    rc = -1;
  } else if (failed || b->oom) {
    snprintf(err, errlen, "store %s: %s: out of memory", st->url, what);
    rc = -1;
  }
  b->len = 0;
  b->oom = 0;
  if (PQputCopyEnd(st->conn, rc ? "itsm-bridge gave up" : NULL) != 1 && rc == 0)
    rc = pg_fail(st, NULL, err, errlen, what);
  PGresult *res;
  while ((res = PQgetResult(st->conn)) != NULL) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
      rc = pg_fail(st, res, err, errlen, what);
    PQclear(res);
  }
  return rc;
}

static void page_free(pg_page *pg) {
  ib_ticket_set_free(&pg->tickets);
  ib_outage_set_free(&pg->outages);
  free(pg->ticket_held);
  free(pg->outage_held);
  ib_key_set_free(&pg->ticket_keys);
  ib_key_set_free(&pg->outage_keys);
  free(pg->copy.data);
  free(pg->ops);
  memset(pg, 0, sizeof *pg);
}

/* Forgets the held records and writes (not the tally), keeping the
 * buffers that are worth keeping. */
static void page_clear(pg_page *pg) {
  ib_ticket_set_free(&pg->tickets);
  ib_outage_set_free(&pg->outages);
  ib_key_set_clear(&pg->ticket_keys);
  ib_key_set_clear(&pg->outage_keys);
  pg->n_ops = 0;
  pg->bytes = 0;
  pg->copy.len = 0;
  pg->copy.oom = 0;
}

/* "storing a page of N tickets of source S (from id X)": for messages. */
static void page_what(char *buf, size_t len, size_t n, const char *kind,
                      const char *source, const char *id) {
  snprintf(buf, len, "storing a page of %zu %s of source '%s' (from id %s)", n,
           kind, source, id);
}

/* Appends `text` as an element of an array literal: double-quoted, with
 * backslash and double quote escaped (a parameter, never SQL text). */
static void arr_text(copy_buf *b, int first, const char *text) {
  if (!first) cb_raw(b, ",", 1);
  size_t n = strlen(text);
  if (cb_reserve(b, 2 * n + 2) != 0) return;
  char *out = b->data + b->len;
  *out++ = '"';
  for (const char *p = text; *p; p++) {
    if (*p == '"' || *p == '\\') *out++ = '\\';
    *out++ = *p;
  }
  *out++ = '"';
  b->len = (size_t)(out - b->data);
}

/* Runs page statement `stmt` with the keys of page rows `rows` (n of them;
 * rows 0..n-1 when rows is NULL) as $1 sources and $2 ids, and with
 * nparams 4 their digests as $3 and raw digests as $4 (PAGE_KEYS).
 * Streams the result to on_row when not NULL, else *out (when not NULL)
 * gets it (to PQclear). */
static int run_keys(pg_store *st, int stmt, int nparams, const pg_held *held,
                    const size_t *rows, size_t n, row_fn on_row, void *ctx,
                    int *oom, PGresult **out, char *err, size_t errlen,
                    const char *what) {
  copy_buf arr[4] = {{0}}; /* owned: free each data */
  int rc = -1;
  for (int a = 0; a < 4; a++) cb_raw(&arr[a], "{", 1);
  for (size_t i = 0; i < n; i++) {
    const pg_held *h = &held[rows ? rows[i] : i];
    char num[PG_INT_LEN];
    arr_text(&arr[0], i == 0, h->source);
    arr_text(&arr[1], i == 0, h->id);
    if (nparams < 4) continue;
    fmt_int(num, h->digest);
    if (i) cb_raw(&arr[2], ",", 1);
    cb_raw(&arr[2], num, strlen(num));
    if (h->raw != 0)
      fmt_int(num, (int64_t)h->raw);
    else
      snprintf(num, sizeof num, "NULL");
    if (i) cb_raw(&arr[3], ",", 1);
    cb_raw(&arr[3], num, strlen(num));
  }
  for (int a = 0; a < 4; a++) cb_raw(&arr[a], "}", 2); /* with its NUL */
  if (arr[0].oom || arr[1].oom || arr[2].oom || arr[3].oom) {
    snprintf(err, errlen, "store %s: %s: out of memory", st->url, what);
    goto fail;
  }
  const char *v[4] = {arr[0].data, arr[1].data, arr[2].data, arr[3].data};
  if (on_row ? stream(st, stmt, nparams, v, on_row, ctx, oom, err, errlen, what)
             : run(st, stmt, nparams, v, out, err, errlen, what))
    goto fail;
  rc = 0;
fail:
  for (int a = 0; a < 4; a++) free(arr[a].data);
  return rc;
}

/* The records of a page to write, as STMT_PAGE_TICKETS/OUTAGES tell them
 * (the new ones, those to compare), and the stored rows of the latter. */
typedef struct old_rows {
  ticket_load l;    /* first: ticket_row's context (tickets only) */
  ib_outage_set *o; /* outages */
  size_t *fresh;    /* owned: the page rows of the new records */
  size_t n_fresh;
  size_t *cand; /* owned: the page rows of the records to compare */
  size_t n_cand;
  size_t *raws; /* owned: the page rows of unchanged records whose raw
                   digest is to store */
  size_t n_raws;
  size_t *rows; /* owned: the page row of each stored row loaded */
  size_t n;
  int bad; /* the server sent a row number out of range */
} old_rows;

/* Sorts the records the server named (rows in column 0: ranks in `asked`,
 * the page rows looked up; "new" in column 1 of res) into old->fresh
 * (allocated by the caller for the whole page), old->raws and old->cand.
 * -1 on ENOMEM. */
static int split_page(old_rows *old, const PGresult *res, const size_t *asked,
                      size_t n_asked) {
  size_t rows = (size_t)PQntuples(res);
  old->cand = malloc((rows + 1) * sizeof *old->cand);
  old->rows = malloc((rows + 1) * sizeof *old->rows);
  old->raws = malloc((rows + 1) * sizeof *old->raws);
  if (old->cand == NULL || old->rows == NULL || old->raws == NULL) return -1;
  for (size_t i = 0; i < rows; i++) {
    int64_t k = get_int(res, (int)i, 0);
    if (k < 0 || (uint64_t)k >= n_asked) {
      old->bad = 1;
      return 0;
    }
    size_t row = asked[k];
    if (PQgetvalue(res, (int)i, 1)[0] == 't')
      old->fresh[old->n_fresh++] = row;
    else if (PQgetvalue(res, (int)i, 2)[0] == 't')
      old->raws[old->n_raws++] = row;
    else
      old->cand[old->n_cand++] = row;
  }
  return 0;
}

/* Notes the page row of the stored row just loaded (its rank in cand in
 * column col of res). */
static void add_loaded(old_rows *old, const PGresult *res, int col) {
  int64_t k = get_int(res, 0, col);
  if (k < 0 || (uint64_t)k >= old->n_cand || old->n >= old->n_cand) {
    old->bad = 1;
    return;
  }
  old->rows[old->n++] = old->cand[k];
}

static int old_ticket_row(void *ctx, const PGresult *res) {
  old_rows *old = ctx;
  if (ticket_row(&old->l, res) != 0) return -1;
  old->l.out->rows[old->l.out->n - 1].deleted_at = get_time(res, 0, 19);
  add_loaded(old, res, 20);
  return 0;
}

static int old_outage_row(void *ctx, const PGresult *res) {
  old_rows *old = ctx;
  if (outage_row(old->o, res) != 0) return -1;
  old->o->rows[old->o->n - 1].deleted_at = get_time(res, 0, 8);
  add_loaded(old, res, 9);
  return 0;
}

/* ---- first loads without lookups ----
 * A source that had no row of a table stored when this store met it first
 * (in this run: pg_run_begin forgets) cannot have any but those written
 * since through this handle, which holds the sync lock: a record whose id
 * is not among them is new without asking the server. Their ids are kept
 * as 64-bit hashes, at most PG_FRESH_MAX_IDS per table (then every record
 * is looked up again: memory stays bounded); a hash hit, true or not, is
 * looked up as before. Used by whoever owns the connection. */
#define PG_FRESH_MAX_IDS ((size_t)1 << 21) /* 32 MiB of slots at most */

static uint64_t id_hash(const char *id) {
  uint64_t h = ib_hash64(0, id, strlen(id));
  return h ? h : 1; /* 0 marks an empty slot */
}

/* Adds h: 1 when it was not there, 0 when it was, -1 when the set is full
 * (PG_FRESH_MAX_IDS) or out of memory. */
static int hashes_add(id_hashes *set, uint64_t h) {
  if (2 * (set->n + 1) > set->cap) {
    if (set->n + 1 > PG_FRESH_MAX_IDS) return -1;
    size_t cap = set->cap ? 2 * set->cap : 4096;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL) return -1;
    for (size_t i = 0; i < set->cap; i++) {
      if (set->slots[i] == 0) continue;
      size_t j = (size_t)set->slots[i] & (cap - 1);
      while (slots[j] != 0) j = (j + 1) & (cap - 1);
      slots[j] = set->slots[i];
    }
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
  }
  size_t j = (size_t)h & (set->cap - 1);
  while (set->slots[j] != 0) {
    if (set->slots[j] == h) return 0;
    j = (j + 1) & (set->cap - 1);
  }
  set->slots[j] = h;
  set->n++;
  return 1;
}

static void hashes_clear(id_hashes *set) {
  if (set->slots) memset(set->slots, 0, set->cap * sizeof *set->slots);
  set->n = 0;
}

/* Forgets what is known of the source last met (a new run may follow
 * other writers). */
static void fresh_forget(pg_store *st) {
  free(st->fresh_source);
  st->fresh_source = NULL;
  st->fresh[0] = st->fresh[1] = -1;
  hashes_clear(&st->written[0]);
  hashes_clear(&st->written[1]);
}

/* Whether `source` had no row in `table` (0 tickets, 1 outages) when this
 * store met it first: 1 or 0, -1 with err on a server error. */
static int source_fresh(pg_store *st, int table, const char *source, char *err,
                        size_t errlen, const char *what) {
  if (st->fresh_source == NULL || strcmp(st->fresh_source, source) != 0) {
    fresh_forget(st);
    if ((st->fresh_source = strdup(source)) == NULL)
      return 0; /* then every record is looked up: still right */
  }
  if (st->fresh[table] < 0) {
    const char *v[1] = {source};
    PGresult *res = NULL;
    if (run(st, table ? STMT_ANY_OUTAGES : STMT_ANY_TICKETS, 1, v, &res, err,
            errlen, what))
      return -1;
    st->fresh[table] = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 'f';
    PQclear(res);
  }
  return st->fresh[table];
}

/* Sorts the page's n records into those known to be new (fresh[], the
 * fresh source's records whose ids were not written before) and those to
 * look up (ask[]), both in page order; both arrays hold n. */
static int fresh_split(pg_store *st, int table, const pg_held *held, size_t n,
                       size_t *fresh, size_t *n_fresh, size_t *ask,
                       size_t *n_ask, char *err, size_t errlen,
                       const char *what) {
  int f = source_fresh(st, table, held[0].source, err, errlen, what);
  if (f < 0) return -1;
  *n_fresh = *n_ask = 0;
  for (size_t i = 0; i < n; i++) {
    int added = 0;
    if (f > 0 && strcmp(held[i].source, st->fresh_source) == 0) {
      added = hashes_add(&st->written[table], id_hash(held[i].id));
      if (added < 0) { /* full: look everything up from now on */
        st->fresh[table] = f = 0;
        added = 0;
      }
    }
    if (added)
      fresh[(*n_fresh)++] = i;
    else
      ask[(*n_ask)++] = i;
  }
  return 0;
}

static int cmp_row(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorts the page's records into new ones (old->fresh), unchanged ones
 * whose raw digest is to store (old->raws) and those to compare
 * (old->cand): the fresh source's new records without asking
 * (fresh_split), the others by asking the server (split_page); then loads
 * the stored rows of the latter through on_row (old_stmt). */
static int page_lookup(pg_store *st, int table, const pg_held *held, size_t n,
                       int probe_stmt, int old_stmt, row_fn on_row,
                       old_rows *old, int *oom, char *err, size_t errlen,
                       const char *what) {
  size_t *ask = malloc((n + 1) * sizeof *ask); /* owned: free */
  size_t n_ask = 0, n_known = 0;
  PGresult *res = NULL;
  int rc = -1;
  *oom = 0;
  old->fresh = malloc((n + 1) * sizeof *old->fresh);
  if (ask == NULL || old->fresh == NULL) {
    *oom = 1;
    rc = 0;
    goto done;
  }
  if (fresh_split(st, table, held, n, old->fresh, &n_known, ask, &n_ask, err,
                  errlen, what))
    goto done;
  old->n_fresh = n_known;
  rc = 0;
  if (n_ask == 0) goto done;
  rc = -1;
  if (run_keys(st, probe_stmt, 4, held, ask, n_ask, NULL, NULL, NULL, &res, err,
               errlen, what))
    goto done;
  *oom = split_page(old, res, ask, n_ask) != 0;
  PQclear(res);
  rc = 0;
  /* New records are written in page order (as before: one lookup). */
  if (n_known > 0 && old->n_fresh > n_known)
    qsort(old->fresh, old->n_fresh, sizeof *old->fresh, cmp_row);
  if (*oom || old->bad || old->n_cand == 0) goto done;
  if (run_keys(st, old_stmt, 2, held, old->cand, old->n_cand, on_row, old, oom,
               NULL, err, errlen, what))
    rc = -1;
  else if (!*oom && old->n != old->n_cand)
    old->bad = 1; /* one row each */
done:
  free(ask);
  return rc;
}

static void old_rows_free(old_rows *old) {
  ib_row_index_free(&old->l.ix);
  free(old->rows);
  free(old->fresh);
  free(old->cand);
  free(old->raws);
}

/* One `changes` row per change of record (source, id). */
static void copy_changes(copy_buf *b, const char *source, const char *id,
                         const ib_change_list *changes, int64_t run_id,
                         int64_t now) {
  for (size_t i = 0; i < changes->n; i++) {
    const ib_change *c = &changes->items[i];
    cb_text(b, 1, source);
    cb_text(b, 0, id);
    cb_text(b, 0, c->kind);
    cb_text(b, 0, c->field);
    cb_text(b, 0, c->old_value);
    cb_text(b, 0, c->new_value);
    cb_int(b, 0, run_id);
    cb_int(b, 0, now);
    cb_end_row(b);
  }
}

/* store_rows.c's settle of loaded row i with the page's record: *step,
 * the changes, and the record's key. */
typedef int (*settle_fn)(pg_page *pg, const old_rows *old, size_t i,
                         ib_change_list *changes, ib_put_step *step,
                         const char **source, const char **id);

static int settle_ticket(pg_page *pg, const old_rows *old, size_t i,
                         ib_change_list *changes, ib_put_step *step,
                         const char **source, const char **id) {
  size_t row = old->rows[i];
  const ib_ticket_row *now = &pg->tickets.rows[row];
  *source = now->source;
  *id = now->id;
  return ib_ticket_settle(&old->l.out->rows[i], now,
                          pg->ticket_held[row].digest, changes, step);
}

static int settle_outage(pg_page *pg, const old_rows *old, size_t i,
                         ib_change_list *changes, ib_put_step *step,
                         const char **source, const char **id) {
  size_t row = old->rows[i];
  const ib_outage_row *now = &pg->outages.rows[row];
  *source = now->source;
  *id = now->id;
  return ib_outage_settle(&old->o->rows[i], now, pg->outage_held[row].digest,
                          changes, step);
}

/* Settles every loaded row, COPYing the changes of those that differ;
 * *update and *digest get the page rows to rewrite and those whose digest
 * only is missing (owned by the caller: free). */
static int settle_page(pg_store *st, pg_page *pg, const old_rows *old,
                       settle_fn settle_one, size_t **update, size_t *n_update,
                       size_t **digest, size_t *n_digest, char *err,
                       size_t errlen, const char *what) {
  copy_buf *b = &pg->copy;
  int failed = 0;
  *update = malloc((old->n + 1) * sizeof **update);
  *digest = malloc((old->n + 1) * sizeof **digest);
  *n_update = *n_digest = 0;
  if (*update == NULL || *digest == NULL) {
    snprintf(err, errlen, "store %s: %s: out of memory", st->url, what);
    return -1;
  }
  if (copy_start(st,
                 "COPY changes(source,record_id,kind,field,old_value,"
                 "new_value,run_id,detected_at) FROM STDIN",
                 err, errlen, what))
    return -1;
  int64_t now = (int64_t)time(NULL);
  for (size_t i = 0; i < old->n && !failed; i++) {
    ib_change_list changes = {0}; /* owned: ib_change_list_free */
    ib_put_step step;
    const char *source, *id;
    if (settle_one(pg, old, i, &changes, &step, &source, &id) != 0) {
      failed = 1;
    } else if (step == IB_STEP_UPDATE) {
      (*update)[(*n_update)++] = old->rows[i];
      copy_changes(b, source, id, &changes, st->run_id, now);
      failed = copy_send(st, b, 0) != 0;
    } else {
      (*digest)[(*n_digest)++] = old->rows[i];
    }
    ib_change_list_free(&changes);
  }
  return copy_finish(st, b, failed, err, errlen, what);
}

/* Page rows `rows` (n) of the held tickets COPYed by `tickets_sql` and
 * their pauses by `pauses_sql` (the store's tables for new records, the
 * staging tables for changed ones: the same columns). */
static int copy_tickets(pg_store *st, pg_page *pg, const char *tickets_sql,
                        const char *pauses_sql, const size_t *rows, size_t n,
                        char *err, size_t errlen, const char *what) {
  copy_buf *b = &pg->copy;
  size_t n_pauses = 0;
  int failed = 0;
  if (copy_start(st, tickets_sql, err, errlen, what)) return -1;
  for (size_t i = 0; i < n && !failed; i++) {
    const ib_ticket_row *t = &pg->tickets.rows[rows[i]];
    cb_text(b, 1, t->source);
    cb_text(b, 0, t->id);
    cb_text(b, 0, t->key);
    cb_text(b, 0, t->title);
    cb_text(b, 0, ib_kind_name(t->kind));
    cb_text(b, 0, t->kind_raw);
    if (t->priority > 0)
      cb_int(b, 0, t->priority);
    else
      cb_text(b, 0, NULL);
    cb_text(b, 0, t->priority_raw);
    cb_text(b, 0, ib_state_name(t->status));
    cb_text(b, 0, t->status_raw);
    cb_text(b, 0, t->service);
    cb_text(b, 0, t->group);
    cb_time(b, t->created_at);
    cb_time(b, t->first_response_at);
    cb_time(b, t->resolved_at);
    cb_time(b, t->closed_at);
    cb_time(b, t->updated_at);
    cb_verdict(b, t->reported_response_breached);
    cb_verdict(b, t->reported_resolution_breached);
    cb_int(b, 0, pg->ticket_held[rows[i]].digest);
    cb_raw_digest(b, t->raw_digest);
    cb_end_row(b);
    n_pauses += t->n_pauses;
    failed = copy_send(st, b, 0) != 0;
  }
  if (copy_finish(st, b, failed, err, errlen, what)) return -1;
  if (n_pauses == 0) return 0;
  if (copy_start(st, pauses_sql, err, errlen, what)) return -1;
  for (size_t i = 0; i < n && !failed; i++) {
    const ib_ticket_row *t = &pg->tickets.rows[rows[i]];
    for (size_t j = 0; j < t->n_pauses; j++) {
      cb_text(b, 1, t->source);
      cb_text(b, 0, t->id);
      cb_time(b, t->pauses[j].start);
      cb_time(b, t->pauses[j].end);
      cb_end_row(b);
    }
    failed = copy_send(st, b, 0) != 0;
  }
  return copy_finish(st, b, failed, err, errlen, what);
}

#define TICKET_COLUMNS                                               \
  "(source,id,key,title,kind,kind_raw,priority,priority_raw,status," \
  "status_raw,service,grp,created_at,first_response_at,resolved_at," \
  "closed_at,updated_at,reported_response_breached,"                 \
  "reported_resolution_breached,digest,raw_digest) FROM STDIN"
#define PAUSE_COLUMNS "(source,ticket_id,start,\"end\") FROM STDIN"
#define OUTAGE_COLUMNS                                                \
  "(source,id,service,kind,kind_raw,start,\"end\",updated_at,digest," \
  "raw_digest) FROM STDIN"

/* The page rows of held records put with track_seen (owned: free). */
static size_t *tracked_rows(const pg_held *held, size_t n, size_t *count) {
  size_t *rows = malloc((n + 1) * sizeof *rows);
  *count = 0;
  for (size_t i = 0; rows && i < n; i++)
    if (held[i].track) rows[(*count)++] = i;
  return rows;
}

/* The keyed writes that end a page of one table, in one statement each:
 * the digests of records equal field by field (digests_stmt, page rows
 * `digest`), the raw digests of unchanged records read from another raw
 * form (raws_stmt, old->raws) and the seen marks of a --full run
 * (seen_stmt, `tracked`); then the page's outcomes join the tally. */
static int page_key_writes(pg_store *st, const pg_held *held, size_t n,
                           const old_rows *old, size_t n_update,
                           const size_t *digest, size_t n_digest,
                           const size_t *tracked, size_t n_tracked,
                           const int stmt[3], char *err, size_t errlen,
                           const char *what) {
  if ((n_digest > 0 && run_keys(st, stmt[0], 4, held, digest, n_digest, NULL,
                                NULL, NULL, NULL, err, errlen, what)) ||
      (old->n_raws > 0 &&
       run_keys(st, stmt[1], 4, held, old->raws, old->n_raws, NULL, NULL, NULL,
                NULL, err, errlen, what)) ||
      (n_tracked > 0 && run_keys(st, stmt[2], 2, held, tracked, n_tracked, NULL,
                                 NULL, NULL, NULL, err, errlen, what)))
    return -1;
  st->tally.added += (int64_t)old->n_fresh;
  st->tally.changed += (int64_t)n_update;
  st->tally.unchanged += (int64_t)(n - old->n_fresh - n_update);
  return 0;
}

static int flush_tickets(pg_store *st, pg_page *pg, char *err, size_t errlen) {
  size_t n = pg->tickets.n;
  if (n == 0) return 0;
  char what[256];
  page_what(what, sizeof what, n, "tickets", pg->tickets.rows[0].source,
            pg->tickets.rows[0].id);
  ib_ticket_set old_set = {0}; /* owned: ib_ticket_set_free */
  old_rows old = {.l.out = &old_set};
  size_t *update = NULL, *digest = NULL, *tracked = NULL; /* owned: free */
  size_t n_update = 0, n_digest = 0, n_tracked = 0;
  int oom = 0, rc = -1;
  if (page_lookup(st, 0, pg->ticket_held, n, STMT_PAGE_TICKETS,
                  STMT_PAGE_OLD_TICKETS, old_ticket_row, &old, &oom, err,
                  errlen, what))
    goto fail;
  if (!oom && !old.bad && old.n > 0 &&
      (ib_row_index_build(&old.l.ix, &old_set, 0) != 0 ||
       run_keys(st, STMT_PAGE_PAUSES, 2, pg->ticket_held, old.rows, old.n,
                pause_row, &old.l, &oom, NULL, err, errlen, what)))
    goto fail;
  if (oom || old.bad ||
      (tracked = tracked_rows(pg->ticket_held, n, &n_tracked)) == NULL) {
    snprintf(err, errlen, "store %s: %s: %s", st->url, what,
             old.bad ? "the server sent an unknown row" : "out of memory");
    goto fail;
  }
  ib_rows_sort_pauses(&old_set, 0);
  if (old.n > 0 && settle_page(st, pg, &old, settle_ticket, &update, &n_update,
                               &digest, &n_digest, err, errlen, what))
    goto fail;
  /* New records go straight into the tables; changed ones through the
   * staging tables into an UPDATE. */
  if (old.n_fresh > 0 && copy_tickets(st, pg, "COPY tickets" TICKET_COLUMNS,
                                      "COPY pauses" PAUSE_COLUMNS, old.fresh,
                                      old.n_fresh, err, errlen, what))
    goto fail;
  if (n_update > 0 &&
      (exec_static(st, STAGE_TICKETS, err, errlen, what) ||
       copy_tickets(st, pg, "COPY pg_temp.stage_tickets" TICKET_COLUMNS,
                    "COPY pg_temp.stage_pauses" PAUSE_COLUMNS, update, n_update,
                    err, errlen, what) ||
       exec_static(st, UPDATE_STAGED_TICKETS, err, errlen, what)))
    goto fail;
  static const int keyed[3] = {STMT_PAGE_TICKET_DIGESTS, STMT_PAGE_TICKET_RAWS,
                               STMT_PAGE_SEEN_TICKETS};
  if (page_key_writes(st, pg->ticket_held, n, &old, n_update, digest, n_digest,
                      tracked, n_tracked, keyed, err, errlen, what))
    goto fail;
  rc = 0;
fail:
  old_rows_free(&old);
  ib_ticket_set_free(&old_set);
  free(update);
  free(digest);
  free(tracked);
  return rc;
}

/* Page rows `rows` (n) of the held outages COPYed by `sql`. */
static int copy_outages(pg_store *st, pg_page *pg, const char *sql,
                        const size_t *rows, size_t n, char *err, size_t errlen,
                        const char *what) {
  copy_buf *b = &pg->copy;
  int failed = 0;
  if (copy_start(st, sql, err, errlen, what)) return -1;
  for (size_t i = 0; i < n && !failed; i++) {
    const ib_outage_row *o = &pg->outages.rows[rows[i]];
    cb_text(b, 1, o->source);
    cb_text(b, 0, o->id);
    cb_text(b, 0, o->service);
    cb_text(b, 0, ib_outage_kind_name(o->kind));
    cb_text(b, 0, o->kind_raw);
    cb_time(b, o->start);
    cb_time(b, o->end);
    cb_time(b, o->updated_at);
    cb_int(b, 0, pg->outage_held[rows[i]].digest);
    cb_raw_digest(b, o->raw_digest);
    cb_end_row(b);
    failed = copy_send(st, b, 0) != 0;
  }
  return copy_finish(st, b, failed, err, errlen, what);
}

static int flush_outages(pg_store *st, pg_page *pg, char *err, size_t errlen) {
  size_t n = pg->outages.n;
  if (n == 0) return 0;
  char what[256];
  page_what(what, sizeof what, n, "outages", pg->outages.rows[0].source,
            pg->outages.rows[0].id);
  ib_outage_set old_set = {0}; /* owned: ib_outage_set_free */
  old_rows old = {.o = &old_set};
  size_t *update = NULL, *digest = NULL, *tracked = NULL; /* owned: free */
  size_t n_update = 0, n_digest = 0, n_tracked = 0;
  int oom = 0, rc = -1;
  if (page_lookup(st, 1, pg->outage_held, n, STMT_PAGE_OUTAGES,
                  STMT_PAGE_OLD_OUTAGES, old_outage_row, &old, &oom, err,
                  errlen, what))
    goto fail;
  if (oom || old.bad ||
      (tracked = tracked_rows(pg->outage_held, n, &n_tracked)) == NULL) {
    snprintf(err, errlen, "store %s: %s: %s", st->url, what,
             old.bad ? "the server sent an unknown row" : "out of memory");
    goto fail;
  }
  if (old.n > 0 && settle_page(st, pg, &old, settle_outage, &update, &n_update,
                               &digest, &n_digest, err, errlen, what))
    goto fail;
  if (old.n_fresh > 0 &&
      copy_outages(st, pg, "COPY outages" OUTAGE_COLUMNS, old.fresh,
                   old.n_fresh, err, errlen, what))
    goto fail;
  if (n_update > 0 &&
      (exec_static(st, STAGE_OUTAGES, err, errlen, what) ||
       copy_outages(st, pg, "COPY pg_temp.stage_outages" OUTAGE_COLUMNS, update,
                    n_update, err, errlen, what) ||
       exec_static(st, UPDATE_STAGED_OUTAGES, err, errlen, what)))
    goto fail;
  static const int keyed[3] = {STMT_PAGE_OUTAGE_DIGESTS, STMT_PAGE_OUTAGE_RAWS,
                               STMT_PAGE_SEEN_OUTAGES};
  if (page_key_writes(st, pg->outage_held, n, &old, n_update, digest, n_digest,
                      tracked, n_tracked, keyed, err, errlen, what))
    goto fail;
  rc = 0;
fail:
  old_rows_free(&old);
  ib_outage_set_free(&old_set);
  free(update);
  free(digest);
  free(tracked);
  return rc;
}

/* Grows a held-record array to hold row `n`. */
static int held_reserve(pg_held **held, size_t *cap, size_t n) {
  if (n < *cap) return 0;
  size_t c = *cap ? 2 * *cap : 256;
  pg_held *h = realloc(*held, c * sizeof *h);
  if (h == NULL) return -1;
  *held = h;
  *cap = c;
  return 0;
}

/* ---- write-behind pages ----
 * Between begin and commit a page holds its records (puts) and, in call
 * order, its other writes (watermark, rejected records, seen marks), with
 * copies of their texts, without touching the connection; commit hands the
 * page to the writer thread, which runs BEGIN, the page's records (lookup,
 * COPY, UPDATE, pauses, digests, seen marks), its other writes and COMMIT
 * (ROLLBACK on error), while the caller fills the other page (pages[] is
 * double-buffered). One page at a time: commit first waits for the
 * previous one and gives back what the pages written meanwhile did. A page
 * that fails is not stored, its error is reported by the next call (once)
 * and the page open then is dropped by the caller. A page full
 * (PG_PAGE_ROWS, PG_PAGE_BYTES) or holding a record put again is handed
 * over in parts: the writer writes each in the page's transaction, which
 * it keeps open until the last part, handed by commit, commits it (a part
 * that fails rolls the whole page back, and commit then refuses it). A
 * page that must be written before its commit (a read or another write
 * inside it) becomes direct: written at once by this thread in the page's
 * transaction, committed by commit itself. Every other call
 * waits until the writer is idle (settle). The writer calls only this
 * file's write path, libpq and store_rows.c's pure helpers: nothing of
 * tz.c, which is not thread-safe. */

/* Writes the page's held records, then its recorded writes, in the
 * transaction open on the connection; both are forgotten either way (a
 * failure fails the transaction: the caller rolls back). */
static int run_ops(pg_store *st, const pg_page *pg, char *err, size_t errlen);
static int page_write(pg_store *st, pg_page *pg, char *err, size_t errlen) {
  int rc = flush_tickets(st, pg, err, errlen) ||
           flush_outages(st, pg, err, errlen) || run_ops(st, pg, err, errlen);
  page_clear(pg);
  return rc ? -1 : 0;
}

/* A copy of text in the page's string blocks; NULL stays NULL. */
static const char *op_text(pg_page *pg, const char *text, int *oom) {
  if (text == NULL || *oom) return NULL;
  size_t n = strlen(text);
  char *copy = ib_ticket_set_strdup(&pg->tickets, text, n);
  if (copy == NULL) *oom = 1;
  pg->bytes += n + 1;
  return copy;
}

/* Records one write of texts (source, id[, position, reason]) and a time. */
static int record_op(pg_store *st, pg_op_kind kind, const char *source,
                     const char *id, const char *position, const char *reason,
                     ib_time at, char *err, size_t errlen) {
  pg_page *pg = st->filling;
  if (pg->n_ops == pg->cap_ops) {
    size_t cap = pg->cap_ops ? 2 * pg->cap_ops : 64;
    pg_op *ops = realloc(pg->ops, cap * sizeof *ops);
    if (ops == NULL) goto nomem;
    pg->ops = ops;
    pg->cap_ops = cap;
  }
  int oom = 0;
  pg_op op = {.kind = kind, .at = at};
  op.source = op_text(pg, source, &oom);
  op.id = op_text(pg, id, &oom);
  op.position = op_text(pg, position, &oom);
  op.reason = op_text(pg, reason, &oom);
  if (oom) goto nomem;
  pg->ops[pg->n_ops++] = op;
  return 0;
nomem:
  snprintf(err, errlen, "store %s: out of memory holding a write of %s",
           st->url, id ? id : source);
  return -1;
}

static int run_ops(pg_store *st, const pg_page *pg, char *err, size_t errlen) {
  ib_store *base = &st->base;
  for (size_t i = 0; i < pg->n_ops; i++) {
    const pg_op *op = &pg->ops[i];
    int rc = 0;
    switch (op->kind) {
      case OP_WATERMARK:
        rc = set_watermark_now(base, op->source, op->at, err, errlen);
        break;
      case OP_PUT_REJECTED:
        rc = put_rejected_now(base, op->source, op->id, op->position,
                              op->reason, op->at, err, errlen);
        break;
      case OP_DROP_REJECTED:
        rc = drop_rejected_now(base, op->source, op->id, err, errlen);
        break;
      case OP_MARK_SEEN:
        rc = mark_seen_now(base, op->source, op->id, err, errlen);
        break;
    }
    if (rc) return -1;
  }
  return 0;
}

/* Ends the transaction open on the connection with COMMIT. */
static int commit_now(pg_store *st, char *err, size_t errlen) {
  PGresult *res = PQexec(st->conn, "COMMIT");
  ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (rs != PGRES_COMMAND_OK) {
    pg_fail(st, res, err, errlen, "committing");
    PQclear(res);
    return -1;
  }
  /* COMMIT of a failed transaction "succeeds" as a ROLLBACK. */
  int rolled_back = strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
  PQclear(res);
  if (rolled_back) {
    snprintf(err, errlen,
             "store %s: committing: the transaction had failed and was "
             "rolled back",
             st->url);
    return -1;
  }
  return 0;
}

static void rollback_now(pg_store *st) {
  if (st->conn && PQtransactionStatus(st->conn) != PQTRANS_IDLE)
    PQclear(PQexec(st->conn, "ROLLBACK"));
}

/* Opens the page's transaction unless its earlier parts did. */
static int begin_now(pg_store *st, char *err, size_t errlen) {
  if (PQtransactionStatus(st->conn) != PQTRANS_IDLE) return 0;
  return exec_static(st, "BEGIN", err, errlen, "starting a transaction");
}

/* Writes one part of a page in its transaction, opened by its first part;
 * the last part (final) commits it, and *done gets what the page's
 * records did. A failure rolls the whole page back. The part is emptied
 * either way. */
static int write_part(pg_store *st, pg_page *pg, int final, ib_put_counts *done,
                      char *err, size_t errlen) {
  int rc = begin_now(st, err, errlen) || page_write(st, pg, err, errlen) ||
                   (final && commit_now(st, err, errlen))
               ? -1
               : 0;
  if (rc) {
    page_clear(pg);
    rollback_now(st);
  } else if (final) {
    *done = st->tally;
  }
  if (rc || final) memset(&st->tally, 0, sizeof st->tally);
  return rc;
}

/* The writer's callback (page_writer.h). */
static int write_handed(void *store, void *page, int final, ib_put_counts *done,
                        char *err, size_t errlen) {
  return write_part(store, page, final, done, err, errlen);
}

/* Waits until the writer is idle; a page it failed to write is reported
 * once (-1 with its error), and the open page, part of whose transaction
 * it may have been, must roll back. */
static int take_bg_error(pg_store *st, char *err, size_t errlen) {
  if (ib_page_writer_take_error(&st->writer, err, errlen) == 0) return 0;
  if (st->in_page) st->page_broken = 1;
  return -1;
}

static int page_holds(const pg_page *pg) {
  return pg->tickets.n > 0 || pg->outages.n > 0 || pg->n_ops > 0;
}

/* The open page writes at once from now on: BEGIN, then what it holds.
 * The writer is idle. */
static int go_direct(pg_store *st, char *err, size_t errlen) {
  if (begin_now(st, err, errlen)) return -1;
  st->direct = 1; /* rollback now ends the transaction */
  return page_write(st, st->filling, err, errlen);
}

static int settle(pg_store *st, int mode, char *err, size_t errlen) {
  if (take_bg_error(st, err, errlen)) return -1;
  if (!st->in_page) { /* records put outside a page: in autocommit */
    int rc =
        page_holds(st->filling) ? page_write(st, st->filling, err, errlen) : 0;
    memset(&st->tally, 0, sizeof st->tally);
    return rc;
  }
  if (st->direct) /* a read sees the records held */
    return page_write(st, st->filling, err, errlen);
  if (mode == SETTLE_READ && !page_holds(st->filling) && !st->parts_handed)
    return 0; /* nothing written nor held to see: read outside the page */
  return go_direct(st, err, errlen);
}

/* store.c's flush, before every call that reads or marks records. */
static int pg_flush(ib_store *base, char *err, size_t errlen) {
  return settle((pg_store *)base, SETTLE_READ, err, errlen);
}

/* Before holding a record or recording a write: 1 when the caller must
 * run a write at once (outside a page, or in a direct one), 0 when it may
 * hold it, -1 with err when a page failed in the background. */
static int must_run_now(pg_store *st, char *err, size_t errlen) {
  if (ib_page_writer_may_have_failed(&st->writer) &&
      take_bg_error(st, err, errlen))
    return -1;
  if (!st->in_page) return settle(st, SETTLE_WRITE, err, errlen) ? -1 : 1;
  return st->direct;
}

static int hand_over(pg_store *st, int final);

/* Before holding one more record of (source, id): what the page holds is
 * written when it is full or already holds that record (the second put
 * must compare with the first): handed to the writer as a part of the
 * page (in the page's transaction, which the writer keeps open), or, in a
 * direct page, at once. A put outside a page is held until the next call
 * that reads (store.c's flush) or the next commit, in autocommit. */
static int page_make_room(pg_store *st, const ib_key_set *keys,
                          const char *source, const char *id, char *err,
                          size_t errlen) {
  int now = must_run_now(st, err, errlen);
  if (now < 0) return -1;
  pg_page *pg = st->filling;
  if (pg->tickets.n + pg->outages.n < PG_PAGE_ROWS &&
      pg->bytes < PG_PAGE_BYTES && !ib_key_set_has(keys, source, id))
    return 0;
  if (now || !st->in_page) return page_write(st, pg, err, errlen);
  if (take_bg_error(st, err, errlen)) return -1;
  if (hand_over(st, 0) == 0) return 0;
  return go_direct(st, err, errlen); /* no writer thread */
}

/* Hands the open page (final: its last part, to commit) to the writer,
 * which is idle; the caller fills the other page. -1 when the writer
 * cannot be started (nothing handed). */
static int hand_over(pg_store *st, int final) {
  if (ib_page_writer_start(&st->writer) != 0) return -1;
  ib_page_writer_hand(&st->writer, st->filling, final); /* the writer's now */
  st->filling = st->filling == &st->pages[0] ? &st->pages[1] : &st->pages[0];
  if (!final) st->parts_handed = 1;
  return 0;
}

/* A page opens without touching the connection: the writer may still be
 * writing the previous one. A read-only store writes at once. */
static int pg_begin(ib_store *base, char *err, size_t errlen) {
  pg_store *st = (pg_store *)base;
  if (st->in_page) {
    snprintf(err, errlen, "store %s: a transaction is already open", st->url);
    return -1;
  }
  if (ib_page_writer_may_have_failed(&st->writer) &&
      take_bg_error(st, err, errlen))
    return -1;
  page_clear(st->filling);
  st->parts_handed = st->page_broken = 0;
  if (st->readonly) {
    if (take_bg_error(st, err, errlen) ||
        exec_static(st, "BEGIN", err, errlen, "starting a transaction"))
      return -1;
    st->in_page = st->direct = 1;
    return 0;
  }
  st->in_page = 1;
  st->direct = 0;
  return 0;
}

/* Waits for the previous page, hands this one to the writer and returns;
 * *done gets what the pages written since the last report did. A direct
 * page is written and committed here. */
static int pg_commit(ib_store *base, ib_put_counts *done, char *err,
                     size_t errlen) {
  pg_store *st = (pg_store *)base;
  if (!st->in_page) {
    snprintf(err, errlen, "store %s: no transaction to commit", st->url);
    return -1;
  }
  if (take_bg_error(st, err, errlen)) return -1; /* the page is dropped */
  if (st->page_broken) {
    snprintf(err, errlen,
             "store %s: committing: a part of this page failed (reported "
             "before); roll back",
             st->url);
    return -1;
  }
  pg_page *pg = st->filling;
  ib_put_counts page = {0};
  int handing = 0;
  if (st->direct) {
    if (page_write(st, pg, err, errlen) || commit_now(st, err, errlen))
      return -1;
    page = st->tally;
    memset(&st->tally, 0, sizeof st->tally);
  } else if (page_holds(pg) || st->parts_handed) {
    handing = 1;
    if (ib_page_writer_start(&st->writer) != 0) { /* no writer: here */
      handing = 0;
      if (write_part(st, pg, 1, &page, err, errlen)) return -1;
    }
  }
  /* The writer is idle: it has given the outcomes of what it wrote. */
  ib_page_writer_take_counts(&st->writer, &page, done);
  if (handing) hand_over(st, 1); /* started above: cannot fail */
  st->in_page = st->direct = st->parts_handed = 0;
  return 0;
}

/* Drops the open page; the page handed over before it is not affected
 * (its error, if any, stays for the next call). */
static void pg_rollback(ib_store *base) {
  pg_store *st = (pg_store *)base;
  ib_page_writer_wait_idle(&st->writer);
  page_clear(st->filling);
  st->in_page = st->direct = st->parts_handed = st->page_broken = 0;
  rollback_now(st); /* also a transaction the parts handed over opened */
  memset(&st->tally, 0, sizeof st->tally);
}

static int pg_finish_pages(ib_store *base, ib_put_counts *done, char *err,
                           size_t errlen) {
  pg_store *st = (pg_store *)base;
  if (take_bg_error(st, err, errlen)) return -1;
  ib_page_writer_take_counts(&st->writer, NULL, done);
  return 0;
}

static int pg_set_watermark(ib_store *base, const char *source, ib_time wm,
                            char *err, size_t errlen) {
  pg_store *st = (pg_store *)base;
  if (wm == IB_TIME_NONE) return 0;
  int now = must_run_now(st, err, errlen);
  if (now)
    return now < 0 ? -1 : set_watermark_now(base, source, wm, err, errlen);
  return record_op(st, OP_WATERMARK, source, NULL, NULL, NULL, wm, err, errlen);
}

static int pg_put_rejected(ib_store *base, const char *source, const char *id,
                           const char *position, const char *reason,
                           ib_time now_t, char *err, size_t errlen) {
  pg_store *st = (pg_store *)base;
  int now = must_run_now(st, err, errlen);
  if (now)
    return now < 0 ? -1
                   : put_rejected_now(base, source, id, position, reason, now_t,
                                      err, errlen);
  return record_op(st, OP_PUT_REJECTED, source, id, position, reason, now_t,
                   err, errlen);
}

static int pg_drop_rejected(ib_store *base, const char *source, const char *id,
                            char *err, size_t errlen) {
  pg_store *st = (pg_store *)base;
  int now = must_run_now(st, err, errlen);
  if (now)
    return now < 0 ? -1 : drop_rejected_now(base, source, id, err, errlen);
  return record_op(st, OP_DROP_REJECTED, source, id, NULL, NULL, IB_TIME_NONE,
                   err, errlen);
}

static int pg_mark_seen(ib_store *base, const char *source, const char *id,
                        char *err, size_t errlen) {
  pg_store *st = (pg_store *)base;
  int now = must_run_now(st, err, errlen);
  if (now) return now < 0 ? -1 : mark_seen_now(base, source, id, err, errlen);
  return record_op(st, OP_MARK_SEEN, source, id, NULL, NULL, IB_TIME_NONE, err,
                   errlen);
}

static char *held_text(ib_ticket_set *set, size_t *bytes, const char *text,
                       int *oom) {
  if (text == NULL) return NULL;
  size_t n = strlen(text);
  char *copy = ib_ticket_set_strdup(set, text, n);
  if (copy == NULL) *oom = 1;
  *bytes += n + 1;
  return copy;
}

static int pg_put_ticket(ib_store *base, const ib_ticket_row *t, int track_seen,
                         char *err, size_t errlen) {
  pg_store *st = (pg_store *)base;
  if (page_make_room(st, &st->filling->ticket_keys, t->source, t->id, err,
                     errlen))
    return -1;
  pg_page *pg = st->filling;
  ib_ticket_row *r = NULL;
  int oom = 0;
  if (held_reserve(&pg->ticket_held, &pg->ticket_held_cap, pg->tickets.n) ||
      (r = ib_ticket_set_add(&pg->tickets)) == NULL)
    goto nomem;
  *r = *t; /* numbers; texts and pauses copied below */
  r->pauses = NULL;
  r->n_pauses = 0;
  char **texts[] = {&r->source,   &r->id,           &r->key,
                    &r->title,    &r->service,      &r->group,
                    &r->kind_raw, &r->priority_raw, &r->status_raw};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    *texts[i] = held_text(&pg->tickets, &pg->bytes, *texts[i], &oom);
  if (t->n_pauses > 0 && !oom) {
    if ((r->pauses = malloc(t->n_pauses * sizeof *r->pauses)) == NULL)
      goto nomem;
    memcpy(r->pauses, t->pauses, t->n_pauses * sizeof *r->pauses);
    r->n_pauses = t->n_pauses;
    pg->bytes += t->n_pauses * sizeof *r->pauses;
  }
  if (oom || ib_key_set_add(&pg->ticket_keys, r->source, r->id) != 0)
    goto nomem;
  pg->ticket_held[pg->tickets.n - 1] = (pg_held){.source = r->source,
                                                 .id = r->id,
                                                 .digest = ib_ticket_digest(t),
                                                 .raw = t->raw_digest,
                                                 .track = track_seen != 0};
  return 0;
nomem:
  if (r != NULL) { /* not held: its texts may still be the caller's */
    free(r->pauses);
    pg->tickets.n--;
  }
  snprintf(err, errlen, "store %s: out of memory holding ticket %s/%s", st->url,
           t->source, t->id);
  return -1;
}

static int pg_put_outage(ib_store *base, const ib_outage_row *o, int track_seen,
                         char *err, size_t errlen) {
  pg_store *st = (pg_store *)base;
  if (page_make_room(st, &st->filling->outage_keys, o->source, o->id, err,
                     errlen))
    return -1;
  pg_page *pg = st->filling;
  if (held_reserve(&pg->outage_held, &pg->outage_held_cap, pg->outages.n))
    goto nomem;
  ib_outage_row *r = ib_outage_set_add(&pg->outages);
  if (r == NULL) goto nomem;
  *r = *o; /* numbers; texts copied below (owned by the set) */
  int oom = 0;
  char **texts[] = {&r->source, &r->id, &r->service, &r->kind_raw};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    const char *text = *texts[i];
    *texts[i] = NULL;
    if (text == NULL || oom) continue;
    if ((*texts[i] = strdup(text)) == NULL) oom = 1;
    pg->bytes += strlen(text) + 1;
  }
  if (oom || ib_key_set_add(&pg->outage_keys, r->source, r->id) != 0) {
    pg->outages.n--; /* ib_outage_set_free would not see it */
    free(r->source);
    free(r->id);
    free(r->service);
    free(r->kind_raw);
    goto nomem;
  }
  pg->outage_held[pg->outages.n - 1] = (pg_held){.source = r->source,
                                                 .id = r->id,
                                                 .digest = ib_outage_digest(o),
                                                 .raw = o->raw_digest,
                                                 .track = track_seen != 0};
  return 0;
nomem:
  snprintf(err, errlen, "store %s: out of memory holding outage %s/%s", st->url,
           o->source, o->id);
  return -1;
}

static const ib_store_ops pg_ops = {
    .close = pg_close,
    .lock_sync = pg_lock_sync,
    .lock_notify = pg_lock_notify,
    .load_tickets = pg_load_tickets,
    .load_outages = pg_load_outages,
    .source_state = pg_source_state,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .finish_pages = pg_finish_pages,
    .flush = pg_flush,
    .put_ticket = pg_put_ticket,
    .put_outage = pg_put_outage,
    .set_watermark = pg_set_watermark,
    .reset_watermark = pg_reset_watermark,
    .run_begin = pg_run_begin,
    .run_end = pg_run_end,
    .mark_unseen_deleted = pg_mark_unseen_deleted,
    .put_rejected = pg_put_rejected,
    .drop_rejected = pg_drop_rejected,
    .list_rejected = pg_list_rejected,
    .raw_digests = pg_raw_digests,
    .mark_seen = pg_mark_seen,
    .count_unseen = pg_count_unseen,
    .begin_read = pg_begin_read,
    .end_read = pg_end_read,
    .history = pg_history,
    .put_edition = pg_put_edition,
    .editions = pg_editions,
    .late_changes = pg_late_changes,
    .alert_states = pg_alert_states,
    .put_alert_state = pg_put_alert_state,
};
