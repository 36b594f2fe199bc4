#!/usr/bin/env python3
"""sync --full and bad rows (issue 11.2, 11.3), with the real csv.so:
a row rejected this time (invalid UTF-8, wrong field count, a NUL byte, a
bad date) keeps its stored, good version instead of being marked deleted;
a truncated export (header only) is refused instead of deleting
everything, unless --allow-mass-delete or max_delete_pct allows it; a NUL
byte inside a field rejects its row with its line number instead of
silently cutting the id short (50 "INC\\0..." rows were 2 tickets).
"""
import os
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ["IB_BIN"]
PLUGINS = os.environ["IB_PLUGIN_DIR"]
failures = []
HEADER = b"id,title,created\n"


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


def run(cfg, *args):
    p = subprocess.run([BIN, "-c", cfg, "--plugin-dir", PLUGINS, *args],
                       capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def row(i, title=None):
    title = f"Ticket {i}".encode() if title is None else title
    return b"%d,%s,2026-10-%02dT10:00:00Z\n" % (i, title, 1 + i % 28)


def write(path, rows):
    with open(path, "wb") as f:
        f.write(HEADER + b"".join(rows))


def live(db):
    con = sqlite3.connect(db)
    r = dict(con.execute("SELECT id, title FROM tickets WHERE deleted_at IS NULL"))
    con.close()
    return r


def config(d, name, extra=""):
    cfg = os.path.join(d, name + ".cfg")
    with open(cfg, "w") as f:
        f.write(f'store = {{ path = "{d}/{name}.db"; }};\n'
                f'sources = ( {{ name = "s"; plugin = "csv"; path = "{d}/{name}.csv";\n'
                f'  columns = {{ id = "id"; title = "title"; created = "created"; }};'
                f' {extra} }} );\n')
    return cfg, os.path.join(d, name + ".csv"), os.path.join(d, name + ".db")


with tempfile.TemporaryDirectory() as d:
    # --- rejected rows keep their stored version -------------------------
    cfg, csv, db = config(d, "rej")
    write(csv, [row(i) for i in range(1, 21)])
    rc, out, err = run(cfg, "sync")
    check(rc == 0 and len(live(db)) == 20, f"20 tickets stored ({out}{err})")
    rows = [row(i) for i in range(1, 21)]
    rows[2] = row(3, b"caf\xe9 latin1 byte")          # invalid UTF-8
    rows[3] = b"4,too,many,fields,2026-10-04T10:00:00Z\n"  # field count
    rows[4] = row(5, b"nul\x00inside")                 # NUL byte
    rows[5] = b"6,Ticket 6,31/09/2026\n"                # bad date
    write(csv, rows)
    rc, out, err = run(cfg, "sync", "--full")
    t = live(db)
    check(rc == 0 and "4 rejected" in out and "0 marked deleted" in out,
          f"--full with 4 bad rows deletes nothing ({out.strip()} {err.strip()})")
    check(all(t.get(str(i)) == f"Ticket {i}" for i in (3, 4, 5, 6)) and len(t) == 20,
          f"the rejected rows keep their good stored version ({sorted(t)})")
    check("line 6: a field contains a NUL byte" in out,
          f"the NUL row is rejected with its line ({out.strip()})")

    # --- a truncated export is refused ----------------------------------
    write(csv, [])
    rc, out, err = run(cfg, "sync", "--full")
    check(rc == 1 and len(live(db)) == 20, f"header-only --full refused, exit 1 ({rc})")
    check("would mark 20 of the 20 stored records of source 's' deleted" in err
          and "--allow-mass-delete" in err and "nothing deleted" in err,
          f"the refusal says how many and how to proceed ({err.strip()})")
    con = sqlite3.connect(db)
    ok = con.execute("SELECT ok FROM sync_runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    con.close()
    check(ok == 0, "the refused run is recorded as failed")
    # 1 of 20 vanished (5 %) is under the default 10 %.
    write(csv, [row(i) for i in range(1, 20)])
    rc, out, err = run(cfg, "sync", "--full")
    check(rc == 0 and "1 marked deleted" in out and len(live(db)) == 19,
          f"5 % deleted without the option ({out.strip()} {err.strip()})")
    write(csv, [])
    rc, out, err = run(cfg, "sync", "--full", "--allow-mass-delete")
    check(rc == 0 and "19 marked deleted" in out and len(live(db)) == 0,
          f"--allow-mass-delete lets it through ({out.strip()} {err.strip()})")

    # --- max_delete_pct per source --------------------------------------
    cfg, csv, db = config(d, "pct", "max_delete_pct = 50;")
    write(csv, [row(i) for i in range(1, 11)])
    run(cfg, "sync")
    write(csv, [row(i) for i in range(1, 7)])
    rc, out, err = run(cfg, "sync", "--full")
    check(rc == 0 and "4 marked deleted" in out,
          f"max_delete_pct = 50 allows 40 % ({out.strip()} {err.strip()})")
    cfg_bad, _, _ = config(d, "bad", "max_delete_pct = 150;")
    rc, out, err = run(cfg_bad, "check-config")
    check(rc == 2 and "max_delete_pct must be a number from 0 to 100" in err,
          f"max_delete_pct out of range refused ({err.strip()})")

    # --- NUL bytes do not alias ids ----------------------------------------
    cfg, csv, db = config(d, "nul")
    write(csv, [b"INC\x00%04d,Ticket,2026-10-01T10:00:00Z\n" % i for i in range(50)])
    rc, out, err = run(cfg, "sync")
    check("50 read, 0 new, 0 changed, 0 unchanged, 50 rejected" in out and len(live(db)) == 0,
          f"50 NUL ids are 50 rejections, not 2 tickets ({out.strip()})")
    check("rejected line 2: a field contains a NUL byte" in out,
          f"the first rejection names line 2 ({out.strip()})")

sys.exit(1 if failures else 0)
