#!/bin/bash
# test_store_pages_pg.sh -- the unit test test_store_pages (the contract of
# the write-behind pages, store.h) on the PostgreSQL store too, against a
# real, throwaway server (tests/support/on_pg_unit.sh): the 10 tests pass
# on SQLite and on PostgreSQL.
exec bash "$IB_SOURCE_DIR/tests/support/on_pg_unit.sh" test_store_pages \
  IB_PAGES_PG_URL ib_pages 10 10
