#!/usr/bin/env python3
"""History in the store (SPEC §9, issue 12 part 1), with the real csv.so:
a re-sync of an unchanged export rewrites no row (a trigger counts every
write to tickets, pauses and outages) and reports "0 changed"; a ticket
whose only difference is updated_at is unchanged; a provider edit
(priority downgrade P1 -> P3, a back-dated resolution, an outage end moved,
a ticket deleted with --full) is recorded field by field, and `history`
lists exactly those changes with the run and detection time; an undelete
is recorded; a row without a digest (a store migrated from schema 2) is
compared by loading it, not recorded as changed.

Runs on SQLite by default; with IB_HISTORY_PG_URL set (test_history_pg.sh,
a throwaway server) on the PostgreSQL store, the trigger through psql.
"""
import calendar
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["IB_SOURCE_DIR"], "tests", "support"))
from ib_stores import Postgres, Sqlite  # noqa: E402
from ibtest import check, finish, run, write  # noqa: E402

PG_URL = os.environ.get("IB_HISTORY_PG_URL")


HEADER = "id,title,priority,status,created,first_response,resolved,updated,pause_start,pause_end\n"


def ticket(tid, prio="Critique", resolved="2026-10-05T12:00:00Z",
           updated="2026-10-05T12:00:00Z", pause=("2026-10-05T10:30:00Z", "2026-10-05T11:00:00Z")):
    status = "Resolu" if resolved else "Ouvert"
    return (f"{tid},Ticket {tid},{prio},{status},2026-10-05T09:00:00Z,"
            f"2026-10-05T09:10:00Z,{resolved},{updated},{pause[0]},{pause[1]}\n")


def outage(oid, end="2026-10-07T09:00:00Z"):
    return f"{oid},ERP,2026-10-07T08:00:00Z,{end}\n"


def iso_epoch(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def history(cfg, tid, source="desk"):
    rc, out, err = run(cfg, "history", source, tid, "--format", "json")
    if rc != 0:
        return rc, None, err
    return rc, json.loads(out), err


with tempfile.TemporaryDirectory() as d:
    db = Sqlite(os.path.join(d, "store.db")) if PG_URL is None else Postgres(PG_URL)
    tickets = os.path.join(d, "tickets.csv")
    outages = os.path.join(d, "outages.csv")
    cfg = os.path.join(d, "bridge.cfg")
    write(cfg, db.store() + f"""
sources = (
  {{ name = "desk"; plugin = "csv"; path = "{tickets}"; max_delete_pct = 50;
    columns = {{ id = "id"; title = "title"; priority = "priority"; status = "status";
                created = "created"; first_response = "first_response";
                resolved = "resolved"; updated = "updated";
                pause_start = "pause_start"; pause_end = "pause_end"; }};
    priorities = ( ("Critique", "P1"), ("Basse", "P3") );
    statuses = ( ("Ouvert", "open"), ("Resolu", "resolved") ); }},
  {{ name = "desk-outages"; plugin = "csv"; records = "outages"; path = "{outages}";
    columns = {{ id = "id"; service = "service"; start = "start"; end = "end"; }}; }}
);
""")
    write(tickets, HEADER + ticket("T1") + ticket("T2") + ticket("T3") + ticket("T4"))
    write(outages, "id,service,start,end\n" + outage("O1") + outage("O2"))

    # --- first sync: everything is new, nothing recorded --------------------
    rc, out, err = run(cfg, "sync")
    check(rc == 0 and "desk: 4 read, 4 new, 0 changed, 0 unchanged, 0 rejected" in out
          and "desk-outages: 2 read, 2 new, 0 changed, 0 unchanged, 0 rejected" in out,
          f"first sync: all new ({out.strip()} {err.strip()})")
    rc, h, err = history(cfg, "T1")
    check(rc == 0 and h["changes"] == [], f"a new record has no history ({h} {err.strip()})")

    # --- unchanged re-sync: no row written ----------------------------------
    # T4 differs only by updated_at: unchanged, not rewritten.
    write(tickets, HEADER + ticket("T1") + ticket("T2") + ticket("T3")
          + ticket("T4", updated="2026-10-06T08:00:00Z"))
    db.count_writes_begin()
    rc, out, err = run(cfg, "sync", "--full")
    writes = db.count_writes_end()
    check(rc == 0 and "desk: 4 read, 0 new, 0 changed, 4 unchanged, 0 rejected, 0 marked deleted" in out
          and "desk-outages: 2 read, 0 new, 0 changed, 2 unchanged, 0 rejected" in out,
          f"unchanged re-sync reports 0 changed ({out.strip()} {err.strip()})")
    check(writes == 0, f"unchanged re-sync writes no ticket, pause or outage row ({writes} writes)")
    check(db.scalar("SELECT count(*) FROM changes") == 0, "and records no change")
    check(db.scalar("SELECT updated_at FROM tickets WHERE id = 'T4'")
          == iso_epoch("2026-10-05T12:00:00Z"),
          "an updated_at-only difference keeps the stored updated_at")

    # --- a provider edit: P1 -> P3, a back-dated resolution, a deletion ------
    write(tickets, HEADER + ticket("T1", prio="Basse")
          + ticket("T2", resolved="2026-10-05T09:30:00Z")
          + ticket("T4", updated="2026-10-06T08:00:00Z"))
    write(outages, "id,service,start,end\n" + outage("O1", end="2026-10-07T08:20:00Z") + outage("O2"))
    before = int(time.time())
    rc, out, err = run(cfg, "sync", "--full")
    after = int(time.time())
    check(rc == 0 and "desk: 3 read, 0 new, 2 changed, 1 unchanged, 0 rejected, 1 marked deleted" in out
          and "desk-outages: 2 read, 0 new, 1 changed, 1 unchanged, 0 rejected, 0 marked deleted" in out,
          f"edit: 2 changed, 1 deleted, outage changed ({out.strip()} {err.strip()})")
    run_id = db.scalar("SELECT max(id) FROM sync_runs WHERE source = 'desk'")

    def fields(h):
        return [(c["record"], c["field"], c["old"], c["new"]) for c in h["changes"]]

    def stamped(h):
        return all(c["run"] == run_id and before <= iso_epoch(c["detected_at"]) <= after
                   for c in h["changes"])

    rc, h, err = history(cfg, "T1")
    check(rc == 0 and fields(h) == [("ticket", "priority", "P1", "P3")],
          f"T1: exactly priority P1 -> P3 ({h} {err.strip()})")
    check(rc == 0 and stamped(h), f"T1: the run {run_id} and its time are recorded ({h})")
    rc, h, err = history(cfg, "T2")
    check(rc == 0 and fields(h) == [("ticket", "resolved_at", "2026-10-05T12:00:00Z",
                                     "2026-10-05T09:30:00Z")],
          f"T2: exactly the back-dated resolution ({h} {err.strip()})")
    rc, h, err = history(cfg, "T3")
    check(rc == 0 and len(h["changes"]) == 1 and h["changes"][0]["field"] == "deleted_at"
          and h["changes"][0]["old"] is None and h["changes"][0]["new"] is not None
          and stamped(h), f"T3: the --full deletion is recorded as deleted_at ({h} {err.strip()})")
    rc, h, err = history(cfg, "T4")
    check(rc == 0 and h["changes"] == [], f"T4 (updated_at only): no change ({h})")
    out_run = db.scalar("SELECT max(id) FROM sync_runs WHERE source = 'desk-outages'")
    rc, h, err = history(cfg, "O1", "desk-outages")
    check(rc == 0 and fields(h) == [("outage", "end", "2026-10-07T09:00:00Z", "2026-10-07T08:20:00Z")]
          and h["changes"][0]["run"] == out_run,
          f"O1: exactly the outage end moved ({h} {err.strip()})")

    # The table form: detected at, run, field, old -> new.
    rc, out, err = run(cfg, "history", "desk", "T1")
    check(rc == 0 and f" {run_id}  ticket  priority" in out and "P1 -> P3" in out,
          f"history table ({out.strip()} {err.strip()})")

    # --- an undelete, and a pause change --------------------------------------
    write(tickets, HEADER + ticket("T1", prio="Basse")
          + ticket("T2", resolved="2026-10-05T09:30:00Z")
          + ticket("T3", pause=("2026-10-05T10:30:00Z", "2026-10-05T11:30:00Z"))
          + ticket("T4", updated="2026-10-06T08:00:00Z"))
    rc, out, err = run(cfg, "sync", "--full")
    check(rc == 0 and "desk: 4 read, 0 new, 1 changed, 3 unchanged, 0 rejected, 0 marked deleted" in out,
          f"T3 back: 1 changed ({out.strip()} {err.strip()})")
    rc, h, err = history(cfg, "T3")
    check(rc == 0 and fields(h)[1:] == [
        ("ticket", "pauses", "2026-10-05T10:30:00Z/2026-10-05T11:00:00Z",
         "2026-10-05T10:30:00Z/2026-10-05T11:30:00Z"),
        ("ticket", "deleted_at", h["changes"][0]["new"], None)],
        f"T3: the pause change and the undelete, oldest first ({h} {err.strip()})")

    # --- a row without a digest (a migrated store): compared, not changed -----
    db.sql("UPDATE tickets SET digest = NULL; UPDATE outages SET digest = NULL;")
    n_changes = db.scalar("SELECT count(*) FROM changes")
    rc, out, err = run(cfg, "sync", "--full")
    check(rc == 0 and "desk: 4 read, 0 new, 0 changed, 4 unchanged" in out
          and db.scalar("SELECT count(*) FROM changes") == n_changes
          and db.scalar("SELECT count(*) FROM tickets WHERE digest IS NULL") == 0,
          f"NULL digests: compared by loading, digest stored, nothing recorded ({out.strip()})")
    db.count_writes_begin()
    rc, out, err = run(cfg, "sync", "--full")
    writes = db.count_writes_end()
    check(rc == 0 and writes == 0 and "0 changed, 4 unchanged" in out,
          f"and the next re-sync writes nothing ({writes} writes, {out.strip()})")

    # --- a schema 2 store (before history) is migrated, its rows unchanged ----
    if PG_URL is None:
        db.sql("""DROP TABLE editions; DROP TABLE alert_state; DROP INDEX tickets_period;
        DROP INDEX tickets_reversed; DROP INDEX outages_period; DROP INDEX changes_record;
        DROP TABLE changes;
        ALTER TABLE tickets DROP COLUMN digest; ALTER TABLE outages DROP COLUMN digest;
        ALTER TABLE tickets DROP COLUMN raw_digest; ALTER TABLE outages DROP COLUMN raw_digest;
        PRAGMA user_version = 2;""")
        rc, out, err = run(cfg, "sync", "--full")
        check(rc == 0 and "desk: 4 read, 0 new, 0 changed, 4 unchanged" in out
              and db.scalar("PRAGMA user_version") >= 4
              and db.scalar("SELECT count(*) FROM editions") == 0
              and db.scalar("SELECT count(*) FROM changes") == 0
              and db.scalar("SELECT count(*) FROM tickets WHERE digest IS NULL") == 0,
              f"schema 2 migrated: rows compared, unchanged, digests stored ({out.strip()} {err.strip()})")

    # --- errors and help ------------------------------------------------------
    rc, out, err = run(cfg, "history", "desk", "NOPE")
    check(rc == 1 and "no ticket or outage 'NOPE' of source 'desk'" in err,
          f"an unknown record: exit 1, a clear message ({rc} {err.strip()})")
    rc, out, err = run(cfg, "history", "desk")
    check(rc == 2 and "SOURCE ID" in err, f"a missing id is a usage error ({rc} {err.strip()})")
    rc, out, err = run(cfg, "history", "--help")
    check(rc == 0 and "Usage: itsm-bridge history SOURCE ID" in out, "history --help")
    rc, out, err = run(cfg, "--help")
    check(rc == 0 and "history" in out, "history is listed in the global help")

finish()
