#!/bin/bash
# test_sync_raw_digests_pg.sh -- test_sync_raw_digests.py (rows stored from
# the same bytes are not converted again) on the PostgreSQL store, against
# a real, throwaway server.
exec bash "$IB_SOURCE_DIR/tests/support/on_pg.sh" test_sync_raw_digests.py \
  IB_RAW_PG_URL ib_raw
