#!/bin/bash
# test_check_alerts_pg.sh -- test_check_alerts.py (check, webhook
# notifications and their state, SPEC §10) on the PostgreSQL store, against
# a real, throwaway server.
exec bash "$IB_SOURCE_DIR/tests/support/on_pg.sh" test_check_alerts.py \
  IB_CHECK_PG_URL ib_check
