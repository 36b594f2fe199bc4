#!/bin/bash
# test_late_changes_pg.sh -- test_late_changes.py (the late changes of a
# period, SPEC §9) on the PostgreSQL store, against a real, throwaway server.
exec bash "$IB_SOURCE_DIR/tests/support/on_pg.sh" test_late_changes.py \
  IB_LATE_PG_URL ib_late
