#!/bin/bash
# test_history_pg.sh -- test_history.py (history in the store, SPEC §9) on
# the PostgreSQL store, against a real, throwaway server: unchanged
# re-syncs write no row (a trigger counts them), edits and --full
# deletions are recorded field by field and listed by `history`.
exec bash "$IB_SOURCE_DIR/tests/support/on_pg.sh" test_history.py \
  IB_HISTORY_PG_URL ib_history
