#!/usr/bin/env python3
"""Unchanged records cost almost nothing (issue 13): the csv plugin digests
each row as read and asks the host whether the record was stored from the
very same bytes (plugin.h, raw_unchanged); such rows are not converted.
Checked with the real csv.so:

* a re-sync of the same file converts nothing (proven by a title edited in
  the store behind the tool's back: it stays edited) and reports every row
  unchanged; --full converts everything again and repairs it, recorded;
* an edited row is converted and its change recorded;
* a file where the same id comes twice, first changed then as stored, ends
  as the last row says (the first write makes the second be compared); so
  does the first sync of a source (whose records are inserted without a
  lookup) when an id comes twice;
* another mapping in the configuration, or another header over the same
  rows, is another conversion: nothing is skipped;
* a record marked deleted by --full that comes back as it was is undeleted,
  not skipped; a record listed as rejected that comes back as stored leaves
  the list;
* a source of 25,000 rows (more than one batch of the PostgreSQL store's
  read) is skipped whole; the same rows in another order, one new and one
  edited among them, give exactly one new and one changed.

Runs on SQLite; with IB_RAW_PG_URL (test_sync_raw_digests_pg.sh) on the
PostgreSQL store.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["IB_SOURCE_DIR"], "tests", "support"))
from ib_stores import Postgres, Sqlite  # noqa: E402
from ibtest import check, finish, run, write  # noqa: E402

PG_URL = os.environ.get("IB_RAW_PG_URL")
HEADER = "id;title;service;priority;created;resolved\n"


def row(tid, title=None, prio="Haute", service="ERP"):
    return (f"{tid};{title or 'Ticket ' + tid};{service};{prio};"
            "2026-10-05 09:00;2026-10-05 12:00\n")


def rows(n, **edits):
    return "".join(edits.get(f"T{i}", row(f"T{i}")) for i in range(1, n + 1))


def config(path, db, csv, prio_haute="P2"):
    write(path, db.store() + f"""
sources = (
  {{ name = "desk"; plugin = "csv"; path = "{csv}"; delimiter = ";";
    timezone = "Europe/Paris"; date_format = "%d/%m/%Y %H:%M"; max_delete_pct = 60;
    columns = {{ id = "id"; title = "title"; service = "service"; priority = "priority";
                created = "created"; resolved = "resolved"; }};
    priorities = ( ("Haute", "{prio_haute}"), ("Basse", "P4") ); }}
);
""")


def summary(out):
    return next((line for line in out.splitlines() if line.startswith("desk:")), "")


def same_bytes(err):
    """The csv plugin's own count of rows skipped as stored (-v)."""
    for line in err.splitlines():
        if "stored from the same bytes" in line:
            part = line.split(" updated before the last sync, ")[1]
            return int(part.split(" ")[0])
    return -1


with tempfile.TemporaryDirectory() as d:
    db = Sqlite(os.path.join(d, "store.db")) if PG_URL is None else Postgres(PG_URL)
    csv = os.path.join(d, "tickets.csv")
    cfg = os.path.join(d, "bridge.cfg")
    config(cfg, db, csv)
    write(csv, HEADER + rows(10))

    rc, out, err = run(cfg, "sync")
    check(rc == 0 and "desk: 10 read, 10 new, 0 changed, 0 unchanged" in out,
          f"first sync: all new ({summary(out)} {err.strip()})")
    check(db.scalar("SELECT count(*) FROM tickets WHERE raw_digest IS NULL") == 0,
          "every stored ticket carries the digest of its row")

    # Behind the tool's back: a title edited and its digest cleared, so that
    # a put would load the row, compare it and repair it.
    db.sql("UPDATE tickets SET title = 'edited in the store', digest = NULL WHERE id = 'T2'")
    rc, out, err = run(cfg, "-v", "sync")
    check(rc == 0 and "desk: 10 read, 0 new, 0 changed, 10 unchanged, 0 rejected" in out,
          f"unchanged re-sync: every row unchanged ({summary(out)})")
    check(same_bytes(err) == 10, f"and none converted: 10 rows stored from the same bytes "
          f"(plugin says {same_bytes(err)})")
    check(db.scalar("SELECT title FROM tickets WHERE id = 'T2'") == "edited in the store",
          "the row was skipped, not converted (the store's edit is still there)")
    rc, out, err = run(cfg, "-v", "sync", "--full")
    check(rc == 0 and "desk: 10 read, 0 new, 1 changed, 9 unchanged" in out
          and same_bytes(err) == 0,
          f"--full converts every row again and finds the edit ({summary(out)})")
    check(db.scalar("SELECT title FROM tickets WHERE id = 'T2'") == "Ticket T2",
          "and repairs it")

    # An edited row is converted; the others are skipped.
    write(csv, HEADER + rows(10, T3=row("T3", prio="Basse")))
    rc, out, err = run(cfg, "-v", "sync")
    check(rc == 0 and "desk: 10 read, 0 new, 1 changed, 9 unchanged" in out
          and same_bytes(err) == 9, f"one edited row converted ({summary(out)})")
    check(db.scalar("SELECT priority FROM tickets WHERE id = 'T3'") == 4,
          "its new priority stored")
    rc, out, err = run(cfg, "history", "desk", "T3")
    check(rc == 0 and "priority" in out and "P2 -> P4" in out,
          f"and recorded in its history ({out.strip()} {err.strip()})")

    # The same id twice: changed first, then as stored. The last row wins.
    write(csv, HEADER + rows(10, T3=row("T3", prio="Basse")) + row("T4", title="Changed T4")
          + row("T4"))
    rc, out, err = run(cfg, "sync")
    check(rc == 0 and "desk: 12 read, 0 new, 2 changed, 10 unchanged" in out,
          f"an id twice: both copies compared after the first write ({summary(out)})")
    check(db.scalar("SELECT title FROM tickets WHERE id = 'T4'") == "Ticket T4",
          "the last row of the file is what is stored")

    # Another mapping: the same bytes convert to another priority.
    write(csv, HEADER + rows(10, T3=row("T3", prio="Basse")))
    config(cfg, db, csv, prio_haute="P1")
    rc, out, err = run(cfg, "-v", "sync")
    check(rc == 0 and "desk: 10 read, 0 new, 9 changed, 1 unchanged" in out
          and same_bytes(err) == 0,
          f"a new mapping: every row converted again ({summary(out)})")
    check(db.scalar("SELECT count(*) FROM tickets WHERE priority = 1") == 9,
          "with the new mapping")
    rc, out, err = run(cfg, "-v", "sync")
    check(rc == 0 and same_bytes(err) == 10, "and skipped again at the next sync")

    # Another header over the same rows: title and service swap places.
    write(csv, "id;service;title;priority;created;resolved\n"
          + rows(10, T3=row("T3", prio="Basse")))
    rc, out, err = run(cfg, "-v", "sync")
    check(rc == 0 and "desk: 10 read, 0 new, 10 changed, 0 unchanged" in out
          and same_bytes(err) == 0, f"same rows under another header: converted ({summary(out)})")
    check(db.scalar("SELECT title FROM tickets WHERE id = 'T1'") == "ERP",
          "as the header now says")
    write(csv, HEADER + rows(10, T3=row("T3", prio="Basse")))
    run(cfg, "sync")

    # Deleted by --full, then back as it was: undeleted, not skipped.
    write(csv, HEADER + rows(9, T3=row("T3", prio="Basse")))
    rc, out, err = run(cfg, "sync", "--full")
    check(rc == 0 and "1 marked deleted" in out, f"T10 marked deleted ({out.strip()})")
    write(csv, HEADER + rows(10, T3=row("T3", prio="Basse")))
    rc, out, err = run(cfg, "sync")
    check(rc == 0 and "desk: 10 read, 0 new, 1 changed, 9 unchanged" in out
          and db.scalar("SELECT count(*) FROM tickets WHERE deleted_at IS NOT NULL") == 0,
          f"back as it was: undeleted ({summary(out)})")

    # Rejected, then back as stored: skipped, and off the rejected list.
    write(csv, HEADER + rows(10, T3=row("T3", prio="Basse"), T5=row("T5", prio="Moyenne")))
    rc, out, err = run(cfg, "sync")
    check("desk: 10 read, 0 new, 0 changed, 9 unchanged, 1 rejected" in out,
          f"an unmapped priority rejected ({summary(out)})")
    check(db.scalar("SELECT count(*) FROM rejected") == 1, "one record listed as rejected")
    write(csv, HEADER + rows(10, T3=row("T3", prio="Basse")))
    rc, out, err = run(cfg, "-v", "sync")
    check(rc == 0 and "desk: 10 read, 0 new, 0 changed, 10 unchanged" in out
          and same_bytes(err) == 10, f"back as stored: skipped ({summary(out)})")
    check(db.scalar("SELECT count(*) FROM rejected") == 0, "and no longer listed as rejected")

    # The first sync of another source: an id twice, the second one wins.
    twice_csv = os.path.join(d, "twice.csv")
    twice_cfg = os.path.join(d, "twice.cfg")
    write(twice_csv, HEADER + row("D1") + row("D2", title="First D2") + row("D3")
          + row("D2", title="Second D2", prio="Basse"))
    write(twice_cfg, open(cfg).read().replace('name = "desk"', 'name = "twice"')
          .replace(csv, twice_csv))
    rc, out, err = run(twice_cfg, "sync")
    check(rc == 0 and "twice: 4 read, 3 new, 1 changed, 0 unchanged" in out,
          f"first sync with an id twice: the second compared ({out.strip()} {err.strip()})")
    check(db.scalar("SELECT title FROM tickets WHERE source = 'twice' AND id = 'D2'")
          == "Second D2", "and stored as the last row says")
    rc, out, err = run(twice_cfg, "history", "twice", "D2")
    check(rc == 0 and "First D2" in out and "Second D2" in out and "P1 -> P4" in out,
          f"with the change recorded ({out.strip()} {err.strip()})")

    # A bigger source: every row skipped, whatever the store's read batches.
    bulk_csv = os.path.join(d, "bulk.csv")
    bulk_cfg = os.path.join(d, "bulk.cfg")
    write(bulk_csv, HEADER + "".join(row(f"K{i}") for i in range(25000)))
    write(bulk_cfg, open(cfg).read().replace('name = "desk"', 'name = "bulk"')
          .replace(csv, bulk_csv))
    rc, out, err = run(bulk_cfg, "sync")
    check(rc == 0 and "bulk: 25000 read, 25000 new" in out, f"bulk first sync ({out.strip()})")
    rc, out, err = run(bulk_cfg, "-v", "sync")
    check(rc == 0 and "bulk: 25000 read, 0 new, 0 changed, 25000 unchanged" in out
          and same_bytes(err) == 25000,
          f"bulk re-sync: all 25,000 skipped ({out.strip()}; plugin says {same_bytes(err)})")
    # The same rows in another order (the store's order no longer guesses
    # right), with one new row in the middle and one edited: each row still
    # compared with its own stored digest.
    shuffled = [row(f"K{i}") for i in range(25000)]
    shuffled.reverse()
    shuffled = shuffled[:12000] + [row("K-new")] + shuffled[12000:]
    shuffled[500] = row("K24500", title="Edited K24500")
    write(bulk_csv, HEADER + "".join(shuffled[:7000] + sorted(shuffled[7000:])))
    rc, out, err = run(bulk_cfg, "-v", "sync")
    check(rc == 0 and "bulk: 25001 read, 1 new, 1 changed, 24999 unchanged" in out
          and same_bytes(err) == 24999,
          f"bulk in another order: one new, one changed ({out.strip()}; "
          f"plugin says {same_bytes(err)})")
    check(db.scalar("SELECT title FROM tickets WHERE source = 'bulk' AND id = 'K24500'")
          == "Edited K24500", "the edited row stored")

finish()
