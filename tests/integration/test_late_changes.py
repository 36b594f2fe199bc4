#!/usr/bin/env python3
"""Late changes of a period (SPEC §9, issue 12 part 4; docs/kpi.md), read
through `export --format csv` (changes.csv) with the real csv.so.

October is synced, then the provider edits it and a `sync --full` records
the edits (detected now, after October ended): a priority downgrade, a
back-dated resolution, a creation back-dated out of the month (still
listed), a deletion, a pause added, a cancellation, a kind and a service
change, and outage changes. Each is listed once with its category; a title
change (no figure moves) and a November ticket's change are not; a change
detected before the month ended (its detected_at set back in the store) is
not late. September lists the ticket now created in September.

Runs on SQLite by default; with IB_LATE_PG_URL set (test_late_changes_pg.sh,
a throwaway server) on the PostgreSQL store.
"""
import calendar
import csv
import os
import subprocess
import sqlite3
import sys
import tempfile
import time

BIN = os.environ["IB_BIN"]
PLUGINS = os.environ["IB_PLUGIN_DIR"]
PG_URL = os.environ.get("IB_LATE_PG_URL")
failures = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


def run(cfg, *args):
    p = subprocess.run([BIN, "-c", cfg, "--plugin-dir", PLUGINS, *args],
                       capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def epoch(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def store_sql(path, text):
    if PG_URL is None:
        con = sqlite3.connect(path)
        try:
            rows = con.execute(text).fetchall()
            con.commit()
            return rows
        finally:
            con.close()
    p = subprocess.run([os.path.join(os.environ["PG_BIN"], "psql"), "-X", "-At",
                        "-v", "ON_ERROR_STOP=1", "-d", PG_URL, "-c", text],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PGOPTIONS="-c search_path=itsm_bridge_store"))
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    return [tuple(line.split("|")) for line in p.stdout.splitlines()]


HEADER = ("id,title,kind,priority,status,service,created,first_response,resolved,"
          "pause_start,pause_end\n")


def ticket(tid, created, resolved="", prio="Critique", status=None, kind="Incident",
           service="ERP", title=None, pause=("", "")):
    status = status or ("Resolu" if resolved else "Ouvert")
    return (f"{tid},{title or 'Ticket ' + tid},{kind},{prio},{status},{service},"
            f"{created},,{resolved},{pause[0]},{pause[1]}\n")


def tickets_v1():
    return (HEADER
            + ticket("T1", "2026-10-05T09:00:00Z", "2026-10-05T12:00:00Z")
            + ticket("T2", "2026-10-06T09:00:00Z", "2026-10-06T12:00:00Z")
            + ticket("T3", "2026-10-31T22:00:00Z")
            + ticket("T4", "2026-10-10T09:00:00Z")
            + ticket("T5", "2026-10-12T09:00:00Z")
            + ticket("T6", "2026-10-14T09:00:00Z")
            + ticket("T7", "2026-10-15T09:00:00Z")
            + ticket("T8", "2026-11-05T09:00:00Z")
            + ticket("T9", "2026-10-20T09:00:00Z")
            + ticket("T10", "2026-10-21T09:00:00Z"))


def tickets_v2():
    return (HEADER
            + ticket("T1", "2026-10-05T09:00:00Z", "2026-10-05T12:00:00Z", prio="Basse")
            + ticket("T2", "2026-10-06T09:00:00Z", "2026-10-06T10:00:00Z")
            + ticket("T3", "2026-09-28T09:00:00Z")
            # T4 vanished (deleted by --full)
            + ticket("T5", "2026-10-12T09:00:00Z",
                     pause=("2026-10-12T10:00:00Z", "2026-10-12T11:00:00Z"))
            + ticket("T6", "2026-10-14T09:00:00Z", status="Annule")
            + ticket("T7", "2026-10-15T09:00:00Z", title="Renamed")
            + ticket("T8", "2026-11-05T09:00:00Z", prio="Basse")
            + ticket("T9", "2026-10-20T09:00:00Z", kind="Demande", service="CRM")
            + ticket("T10", "2026-10-21T09:00:00Z", prio="Basse"))


OUT_HEADER = "id,service,start,end\n"


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def changes(cfg, d, month):
    out = os.path.join(d, "export-" + month)
    rc, _, err = run(cfg, "export", "--format", "csv", "--out", out, "--month", month)
    if rc != 0:
        return None, err
    with open(os.path.join(out, "changes.csv"), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f)), err


with tempfile.TemporaryDirectory() as d:
    db = os.path.join(d, "store.db")
    store = (f'store = {{ path = "{db}"; }};' if PG_URL is None
             else f'store = {{ url = "{PG_URL}"; }};')
    tickets, outages = os.path.join(d, "tickets.csv"), os.path.join(d, "outages.csv")
    cfg = os.path.join(d, "bridge.cfg")
    write(cfg, store + f"""
timezone = "UTC";
sources = (
  {{ name = "desk"; plugin = "csv"; path = "{tickets}"; max_delete_pct = 50;
    columns = {{ id = "id"; title = "title"; kind = "kind"; priority = "priority";
                status = "status"; service = "service"; created = "created";
                first_response = "first_response"; resolved = "resolved";
                pause_start = "pause_start"; pause_end = "pause_end"; }};
    priorities = ( ("Critique", "P1"), ("Basse", "P3") );
    kinds = ( ("Incident", "incident"), ("Demande", "request") );
    statuses = ( ("Ouvert", "open"), ("Resolu", "resolved"), ("Annule", "cancelled") ); }},
  {{ name = "desk-outages"; plugin = "csv"; records = "outages"; path = "{outages}";
    max_delete_pct = 50;
    columns = {{ id = "id"; service = "service"; start = "start"; end = "end"; }}; }}
);
""")
    write(tickets, tickets_v1())
    write(outages, OUT_HEADER + "O1,ERP,2026-10-07T08:00:00Z,2026-10-07T09:00:00Z\n"
          "O2,ERP,2026-11-07T08:00:00Z,2026-11-07T09:00:00Z\n"
          "O3,ERP,2026-10-08T08:00:00Z,2026-10-08T09:00:00Z\n")
    rc, out, err = run(cfg, "sync")
    check(rc == 0, f"first sync ({out.strip()} {err.strip()})")
    rows, err = changes(cfg, d, "2026-10")
    check(rows == [], f"nothing recorded yet: no late change ({rows} {err.strip()})")

    write(tickets, tickets_v2())
    write(outages, OUT_HEADER + "O1,ERP,2026-10-07T08:00:00Z,2026-10-07T10:00:00Z\n"
          "O2,ERP,2026-11-07T08:00:00Z,2026-11-07T10:00:00Z\n")
    before = int(time.time())
    rc, out, err = run(cfg, "sync", "--full")
    after = int(time.time())
    check(rc == 0 and "1 marked deleted" in out, f"the provider's edits synced ({out.strip()} {err.strip()})")
    # T10's change was seen before October ended: not late.
    store_sql(db, f"UPDATE changes SET detected_at = {epoch('2026-10-25T08:00:00Z')} "
              "WHERE record_id = 'T10'")

    rows, err = changes(cfg, d, "2026-10")
    got = sorted((r["id"], r["field"], r["category"]) for r in rows or [])
    want = sorted([
        ("T1", "priority", "priority_changed"),
        ("T2", "resolved_at", "resolution_moved"),
        ("T3", "created_at", "created_backdated"),
        ("T4", "deleted_at", "deleted"),
        ("T5", "pauses", "pauses_added"),
        ("T6", "status", "cancelled"),
        ("T9", "kind", "kind_changed"),
        ("T9", "service", "other"),
        ("O1", "end", "outage_changed"),
        ("O3", "deleted_at", "outage_deleted"),
    ])
    check(got == want, f"October's late changes, one per change, categorised\n   got  {got}\n   want {want} {err.strip()}")
    by = {(r["id"], r["field"]): r for r in rows or []}
    t1 = by.get(("T1", "priority"), {})
    check((t1.get("old_value"), t1.get("new_value"), t1.get("key"), t1.get("kind"),
           t1.get("source"), t1.get("period")) == ("P1", "P3", "T1", "ticket", "desk", "2026-10"),
          f"T1: P1 -> P3, its key, kind and source ({t1})")
    t3 = by.get(("T3", "created_at"), {})
    check((t3.get("old_value"), t3.get("new_value"))
          == ("2026-10-31T22:00:00Z", "2026-09-28T09:00:00Z"),
          f"T3 back-dated out of October is still October's ({t3})")
    stamps = [epoch(r["detected_at"]) for r in rows or []]
    check(stamps and all(before <= s <= after for s in stamps),
          f"detected_at is the sync's time ({stamps}, {before}..{after})")
    runs = {r["run_id"] for r in rows or [] if r["kind"] == "ticket"}
    desk_run = store_sql(db, "SELECT max(id) FROM sync_runs WHERE source = 'desk'")[0][0]
    check(runs == {str(desk_run)}, f"run_id is the sync run that saw them ({runs} vs {desk_run})")
    check(("O1", "end") in by and by[("O1", "end")]["key"] == "O1"
          and by[("O1", "end")]["kind"] == "outage", "an outage's key column holds its id")
    ids = [int(r["change_id"]) for r in rows or []]
    check(ids == sorted(ids), f"rows in detection order ({ids})")

    rows, err = changes(cfg, d, "2026-09")
    got = sorted((r["id"], r["field"], r["category"]) for r in rows or [])
    check(got == [("T3", "created_at", "created_backdated")],
          f"September lists the ticket back-dated into it ({got} {err.strip()})")

    # Late changes are read by the detection time: the store has that index.
    n = store_sql(db, "SELECT count(*) FROM sqlite_master WHERE name = 'changes_detected'"
                  if PG_URL is None else
                  "SELECT count(*) FROM pg_indexes WHERE indexname = 'changes_detected'")
    check(int(n[0][0]) == 1, f"the changes table has an index on detected_at ({n})")

    # Errors are one line that says where.
    rc, out, err = run(cfg, "export", "--format", "csv", "--out", os.path.join(d, "x"),
                       "--month", "2026-13")
    check(rc == 2 and err.count("\n") == 1, f"a bad month is a usage error ({rc} {err.strip()})")

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
