# shellcheck shell=bash
# pgstore_lib.sh -- helpers for test_store_pg.sh (source it after
# pg_server_start): run itsm-bridge and psql, snapshot the store tables of
# either backend in one comparable text form, and wait on the sync lock.
# Must not start or stop servers, nor write outside the working directory.

fail() { echo "FAIL: $*" >&2; exit 1; }

# ib CONFIG ARGS...: the binary under test with the build's plugins.
ib() {
  local cfg=$1
  shift
  "$IB_BIN" -c "$cfg" --plugin-dir "$IB_PLUGIN_DIR" "$@"
}

q() { "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 "$@"; }

# A sync report without its durations ("... in 0.3 s").
untimed() { sed -E 's/ in [0-9.]+ s/ in N s/'; }

# status columns that do not depend on when the runs happened: source,
# watermark, tickets, outages, last error.
status_figures() { awk '{ print $1, $3, $(NF-2), $(NF-1), $NF }'; }

# Everything a sync may change except run bookkeeping, as "a|b|c" lines
# (NULL as empty, booleans as 0/1, byte order): the same text for both
# backends when they hold the same data.
PGSTORE_TICKET_COLS="source,id,key,title,kind,kind_raw,priority,priority_raw,\
status,status_raw,service,grp,created_at,first_response_at,resolved_at,\
closed_at,updated_at,deleted_at"

sq_snapshot() { # $1: the SQLite file
  sqlite3 "$1" "SELECT $PGSTORE_TICKET_COLS, reported_response_breached,
                 reported_resolution_breached FROM tickets ORDER BY source, id;
                SELECT source, ticket_id, start, end FROM pauses
                 ORDER BY source, ticket_id, start, end;
                SELECT source, id, service, kind, kind_raw, start, end,
                 updated_at, deleted_at FROM outages ORDER BY source, id;
                SELECT source, watermark FROM sync_state ORDER BY source;"
}

pg_snapshot() {
  PGOPTIONS="-c search_path=itsm_bridge_store" \
    q -c "SELECT $PGSTORE_TICKET_COLS, reported_response_breached::int,
         reported_resolution_breached::int FROM tickets
         ORDER BY source COLLATE \"C\", id COLLATE \"C\"" \
    -c "SELECT source, ticket_id, start, \"end\" FROM pauses
         ORDER BY source COLLATE \"C\", ticket_id COLLATE \"C\", start, \"end\"" \
    -c "SELECT source, id, service, kind, kind_raw, start, \"end\", updated_at,
         deleted_at FROM outages ORDER BY source COLLATE \"C\", id COLLATE \"C\"" \
    -c "SELECT source, watermark FROM sync_state ORDER BY source COLLATE \"C\""
}

# The server pid holding advisory lock $1 (bigint), as pg_locks shows it.
lock_holder() {
  q -c "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
         AND objsubid = 1
         AND classid::bigint = ((($1)::bigint >> 32) & 4294967295)
         AND objid::bigint = (($1)::bigint & 4294967295)"
}

# Waits (up to 60 s) until lock $1 is held -- and, with $2 = noted, until
# the holder has written its sync_lock row -- then prints the holder's pid.
# Gives up early when the process $3 (the would-be holder) has ended.
wait_lock_holder() {
  local pid noted
  for _ in $(seq 600); do
    if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then return 1; fi
    pid=$(lock_holder "$1")
    if [ -n "$pid" ]; then
      [ "${2:-}" != noted ] && { echo "$pid"; return 0; }
      noted=$(q -c "SELECT count(*) FROM itsm_bridge_store.sync_lock
                    WHERE backend_pid = $pid")
      [ "$noted" = 1 ] && { echo "$pid"; return 0; }
    fi
    sleep 0.1
  done
  return 1
}

wait_lock_free() {
  for _ in $(seq 300); do
    [ -z "$(lock_holder "$1")" ] && return 0
    sleep 0.1
  done
  return 1
}
