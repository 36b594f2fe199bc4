#!/bin/bash
# test_store_locks_pg.sh -- the unit test test_store_locks (the store's sync
# and notification locks, store.h) on the PostgreSQL store too, against a
# real, throwaway server: 5 tests on SQLite, then 4 on PostgreSQL.
exec bash "$IB_SOURCE_DIR/tests/support/on_pg_unit.sh" test_store_locks \
  IB_LOCKS_PG_URL ib_locks 5 4
