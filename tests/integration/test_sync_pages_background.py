#!/usr/bin/env python3
"""The SQLite store writes each page of a sync on a second thread while the
plugin reads the next one (store.h: a commit is durable at the latest when
the next store call returns). Checked with the real csv.so:

* a page the store refuses in the background (a trigger created by this
  test raises on one row of the 3rd of 5 pages): the sync exits 1 with a
  message naming the store, the failure and the ticket; the 2 pages before
  it are stored whole, nothing of the failed page nor of the pages after
  it; the watermark is not advanced; the summary's new count and the run's
  stored count are what the store holds; once the trigger is dropped the
  next sync stores everything and advances the watermark;
* Ctrl-C (SIGINT) while a large generated export syncs: exit 1, every
  committed page is whole (a multiple of commit_every rows, each with its
  pauses), no watermark, the run recorded as failed with the count of what
  is stored; the next sync completes to the same store as an uninterrupted
  one;
* the WAL stays bounded while a large first sync (160,000 rows, about
  38 MiB of store) is written behind and copied into the database by the
  checkpointer thread: the writer waits for a copy once the WAL passes
  16 MiB, so that its next page starts the WAL over (never above 24 MiB
  here, where it would otherwise grow to the size of the load); the store
  is whole afterwards and has 16 KiB pages, while a store created with
  4 KiB pages keeps them.
"""
import csv
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["IB_SOURCE_DIR"], "tests", "support"))
from ibtest import BIN, PLUGINS, check, finish, run, write  # noqa: E402

SOURCE_DIR = os.environ["IB_SOURCE_DIR"]
HEADER = "id;title;service;priority;created;resolved;updated\n"


def simple_rows(n):
    return "".join(f"T{i};Ticket {i};ERP;Haute;05/10/2026 09:00;05/10/2026 12:00;"
                   f"05/10/2026 12:{i % 60:02d}\n" for i in range(1, n + 1))


def simple_config(path, db, csv_path, commit_every):
    write(path, f"""store = {{ path = "{db}"; }};
timezone = "Europe/Paris";
sources = (
  {{ name = "desk"; plugin = "csv"; path = "{csv_path}"; delimiter = ";";
    timezone = "Europe/Paris"; date_format = "%d/%m/%Y %H:%M";
    commit_every = {commit_every};
    columns = {{ id = "id"; title = "title"; service = "service"; priority = "priority";
                created = "created"; resolved = "resolved"; updated = "updated"; }};
    priorities = ( ("Haute", "P2"), ("Basse", "P4") ); }}
);
""")


def generated_config(path, db, csv_path, commit_every):
    """The sample provider's export format (config/sample/bridge.cfg)."""
    write(path, f"""store = {{ path = "{db}"; }};
timezone = "Europe/Paris";
sources = (
  {{ name = "big"; plugin = "csv"; path = "{csv_path}";
    delimiter = ";"; timezone = "Europe/Paris"; date_format = "%d/%m/%Y %H:%M";
    commit_every = {commit_every};
    columns = {{ id = "N° ticket"; title = "Objet"; kind = "Type"; priority = "Priorité";
                status = "Statut"; service = "Service"; group = "Groupe";
                created = "Ouvert le"; first_response = "Pris en charge le";
                resolved = "Résolu le"; closed = "Clos le";
                pause_start = "En attente le"; pause_end = "Reprise le";
                updated = "Mis à jour le"; }};
    priorities = ( ("Critique", "P1"), ("Haute", "P2"), ("Moyenne", "P3"), ("Basse", "P4") );
    statuses = ( ("Nouveau", "new"), ("En cours", "open"), ("En attente", "pending"),
                 ("Résolu", "resolved"), ("Clos", "closed"), ("Annulé", "cancelled") );
    kinds = ( ("Incident", "incident"), ("Demande", "request") ); }}
);
""")


def scalar(db, sql, *args):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


def summary(out, name):
    return next((line for line in out.splitlines() if line.startswith(name + ":")), "")


def dump(db):
    """The records and pauses, for comparing two stores."""
    con = sqlite3.connect(db)
    try:
        t = con.execute("SELECT source,id,key,title,kind,priority,status,service,grp,"
                        "created_at,first_response_at,resolved_at,closed_at,updated_at,"
                        "deleted_at FROM tickets ORDER BY source,id").fetchall()
        p = con.execute("SELECT source,ticket_id,start,end FROM pauses "
                        "ORDER BY source,ticket_id,start").fetchall()
        w = con.execute("SELECT source,watermark FROM sync_state ORDER BY source").fetchall()
        return t, p, w
    finally:
        con.close()


with tempfile.TemporaryDirectory() as d:
    # ---- (a) a page refused in the background ----
    db = os.path.join(d, "a.db")
    a_csv = os.path.join(d, "a.csv")
    cfg = os.path.join(d, "a.cfg")
    write(a_csv, HEADER + simple_rows(1000))
    simple_config(cfg, db, a_csv, commit_every=200)
    rc, out, err = run(cfg, "status")  # creates the store and its schema
    check(os.path.exists(db), f"status creates the store ({rc} {err.strip()})")
    con = sqlite3.connect(db)
    con.execute("CREATE TRIGGER refuse_t500 BEFORE INSERT ON tickets WHEN NEW.id = 'T500' "
                "BEGIN SELECT RAISE(ABORT, 'refused by test'); END")
    con.commit()
    con.close()

    rc, out, err = run(cfg, "sync")
    line = next((x for x in err.splitlines() if "sync failed" in x), "")
    check(rc == 1, f"the sync fails with exit 1 (rc={rc})")
    check(f"store {db}: storing a ticket: refused by test (ticket T500)" in line,
          f"one line names the store, what failed and the ticket ({line})")
    stored = scalar(db, "SELECT count(*) FROM tickets")
    check(stored == 400, f"the 2 pages before the refused one are stored ({stored} rows)")
    check(scalar(db, "SELECT count(*) FROM tickets WHERE CAST(substr(id, 2) AS INTEGER) "
                     "BETWEEN 1 AND 400") == 400,
          "and they are rows 1 to 400, whole")
    check(scalar(db, "SELECT count(*) FROM tickets WHERE CAST(substr(id, 2) AS INTEGER) "
                     "> 400") == 0,
          "nothing of the refused page nor of the pages after it")
    check(scalar(db, "SELECT count(*) FROM sync_state WHERE source = 'desk' AND "
                     "watermark IS NOT NULL") == 0,
          "the watermark is not advanced")
    s = summary(out, "desk")
    check(" 400 new, 0 changed, 0 unchanged" in s and "FAILED" in s,
          f"the summary counts what the store holds ({s})")
    check(scalar(db, "SELECT records_stored FROM sync_runs ORDER BY id DESC LIMIT 1") == 400
          and scalar(db, "SELECT ok FROM sync_runs ORDER BY id DESC LIMIT 1") == 0,
          "the run is recorded as failed with 400 records stored")
    rc, out, err = run(cfg, "status")
    check("refused by test (ticket T500)" in out,
          f"status shows the last error ({out.strip()} {err.strip()})")

    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER refuse_t500")
    con.commit()
    con.close()
    rc, out, err = run(cfg, "sync")
    s = summary(out, "desk")
    check(rc == 0 and "desk: 1000 read, 600 new, 0 changed, 400 unchanged" in s,
          f"after the trigger is dropped the next sync completes ({s} {err.strip()})")
    check(scalar(db, "SELECT count(*) FROM tickets") == 1000, "every row is stored")
    check(scalar(db, "SELECT count(*) FROM sync_state WHERE source = 'desk' AND "
                     "watermark IS NOT NULL") == 1,
          "and the watermark is advanced")

    # A refusal in the last page: found by finish_pages, not by a commit.
    db2 = os.path.join(d, "a2.db")
    cfg2 = os.path.join(d, "a2.cfg")
    simple_config(cfg2, db2, a_csv, commit_every=200)
    run(cfg2, "status")
    con = sqlite3.connect(db2)
    con.execute("CREATE TRIGGER refuse_t1000 BEFORE INSERT ON tickets WHEN NEW.id = 'T1000' "
                "BEGIN SELECT RAISE(ABORT, 'refused by test'); END")
    con.commit()
    con.close()
    rc, out, err = run(cfg2, "sync")
    s = summary(out, "desk")
    check(rc == 1 and "refused by test (ticket T1000)" in err
          and " 800 new, 0 changed, 0 unchanged" in s
          and scalar(db2, "SELECT count(*) FROM tickets") == 800
          and scalar(db2, "SELECT records_stored FROM sync_runs ORDER BY id DESC "
                          "LIMIT 1") == 800
          and scalar(db2, "SELECT count(*) FROM sync_state WHERE watermark IS NOT NULL") == 0,
          f"a refused last page: 4 pages stored, no watermark ({s} {err.strip()})")

    # ---- (b) Ctrl-C in the middle of a large sync ----
    rows, every = 60000, 1000
    gen = os.path.join(d, "gen")
    subprocess.run(["/usr/bin/python3", os.path.join(SOURCE_DIR, "config", "sample",
                                                     "generate.py"),
                    "--rows", str(rows), "--out-dir", gen], check=True)
    big = os.path.join(gen, "tickets.csv")
    ref_db = os.path.join(d, "ref.db")
    ref_cfg = os.path.join(d, "ref.cfg")
    generated_config(ref_cfg, ref_db, big, every)
    rc, out, err = run(ref_cfg, "sync")
    check(rc == 0 and scalar(ref_db, "SELECT count(*) FROM tickets") == rows,
          f"an uninterrupted sync stores the {rows} rows ({summary(out, 'big')} {err.strip()})")
    reference = dump(ref_db)

    int_db = os.path.join(d, "int.db")
    int_cfg = os.path.join(d, "int.cfg")
    generated_config(int_cfg, int_db, big, every)
    p = subprocess.Popen([BIN, "-c", int_cfg, "--plugin-dir", PLUGINS, "sync"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    n = 0
    while time.time() < deadline and p.poll() is None:
        try:
            n = scalar(int_db, "SELECT count(*) FROM tickets")
        except sqlite3.Error:
            n = 0
        if n >= 2 * every:  # a few pages in, the writer busy with the next
            p.send_signal(signal.SIGINT)
            break
        time.sleep(0.005)
    signalled = time.time()
    out, err = p.communicate(timeout=120)
    stopped_in = time.time() - signalled
    n = scalar(int_db, "SELECT count(*) FROM tickets")
    check(p.returncode == 1 and "interrupted" in err and 0 < n < rows,
          f"SIGINT stops the sync with exit 1 ({p.returncode}, {n} rows, {err.strip()})")
    check(stopped_in < 30, f"and it stops promptly ({stopped_in:.1f} s)")
    check(n % every == 0, f"every committed page is whole ({n} rows, pages of {every})")
    ref_ids = [r[1] for r in reference[0]]
    con = sqlite3.connect(int_db)
    got = con.execute("SELECT id FROM tickets ORDER BY rowid").fetchall()
    orphan = con.execute("SELECT count(*) FROM pauses p WHERE NOT EXISTS (SELECT 1 FROM "
                         "tickets t WHERE t.source = p.source AND t.id = p.ticket_id)"
                         ).fetchone()[0]
    pauses = con.execute("SELECT count(*) FROM pauses").fetchone()[0]
    con.close()
    with open(big, encoding="utf-8-sig", newline="") as f:
        first_ids = [r[0] for r in csv.reader(f, delimiter=";")][1:n + 1]
    check([r[0] for r in got] == first_ids,
          "the stored rows are the first rows of the file, in file order")
    ref_pauses = sum(1 for x in reference[1] if x[1] in set(first_ids))
    check(orphan == 0 and pauses == ref_pauses,
          f"each stored ticket has all its pauses ({pauses} of {ref_pauses}, {orphan} orphans)")
    check(scalar(int_db, "SELECT count(*) FROM sync_state WHERE watermark IS NOT NULL") == 0,
          "no watermark: it comes with the last page only")
    check(scalar(int_db, "SELECT ok FROM sync_runs ORDER BY id DESC LIMIT 1") == 0
          and scalar(int_db, "SELECT records_stored FROM sync_runs ORDER BY id DESC LIMIT 1")
          == n,
          "the run is recorded as failed, its stored count what the store holds")
    check(f" {n} new, 0 changed, 0 unchanged" in out,
          f"the summary counts only the committed rows ({out.strip()})")
    check(len(ref_ids) == rows, "reference complete")
    rc, out, err = run(int_cfg, "sync")
    check(rc == 0 and dump(int_db) == reference,
          f"the next sync completes to the uninterrupted store ({summary(out, 'big')})")

    # ---- (c) the WAL stays bounded during a large first sync ----
    rows = 160000
    subprocess.run(["/usr/bin/python3", os.path.join(SOURCE_DIR, "config", "sample",
                                                     "generate.py"),
                    "--rows", str(rows), "--out-dir", gen], check=True)
    w_db = os.path.join(d, "wal.db")
    w_cfg = os.path.join(d, "wal.cfg")
    generated_config(w_cfg, w_db, big, 1000)
    p = subprocess.Popen([BIN, "-c", w_cfg, "--plugin-dir", PLUGINS, "sync"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    biggest = 0
    while p.poll() is None:  # the largest size seen is at most the largest
        try:
            biggest = max(biggest, os.path.getsize(w_db + "-wal"))
        except OSError:
            pass
        time.sleep(0.005)
    out, err = p.communicate()
    check(p.returncode == 0 and scalar(w_db, "SELECT count(*) FROM tickets") == rows,
          f"the large sync stores the {rows} rows ({summary(out, 'big')} {err.strip()})")
    size = os.path.getsize(w_db)
    check(size > 32 << 20, f"the store is larger than the bound checked ({size >> 20} MiB)")
    check(0 < biggest <= 24 << 20,
          f"the WAL never grew past 24 MiB ({biggest >> 20} MiB at most)")
    check(scalar(w_db, "PRAGMA integrity_check") == "ok", "the store is whole")
    check(scalar(w_db, "PRAGMA page_size") == 16384, "a new store has 16 KiB pages")

    # A store created with 4 KiB pages (by an earlier version) keeps them.
    old_db = os.path.join(d, "old.db")
    con = sqlite3.connect(old_db)
    con.executescript("PRAGMA page_size=4096; PRAGMA journal_mode=WAL; "
                      "CREATE TABLE kept(x);")
    con.close()
    o_cfg = os.path.join(d, "old.cfg")
    generated_config(o_cfg, old_db, big, 1000)
    rc, out, err = run(o_cfg, "sync")
    check(rc == 0 and scalar(old_db, "SELECT count(*) FROM tickets") == rows
          and scalar(old_db, "PRAGMA page_size") == 4096
          and scalar(old_db, "PRAGMA integrity_check") == "ok",
          f"a store with 4 KiB pages keeps them and syncs ({summary(out, 'big')} {err.strip()})")

finish()
