#!/bin/bash
# test_check_overlap_pg.sh -- test_check_overlap.py (two overlapping checks
# send each notification once; a sync does not stop a check) on the
# PostgreSQL store, against a real, throwaway server.
exec bash "$IB_SOURCE_DIR/tests/support/on_pg.sh" test_check_overlap.py \
  IB_OVERLAP_PG_URL ib_overlap
