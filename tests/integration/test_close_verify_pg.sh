#!/bin/bash
# test_close_verify_pg.sh -- test_close_verify.py (closed months, SPEC §9)
# on the PostgreSQL store, against a real, throwaway server: editions,
# their chain and append-only table, verify after a provider's edits.
exec bash "$IB_SOURCE_DIR/tests/support/on_pg.sh" test_close_verify.py \
  IB_CLOSE_PG_URL ib_close
