#!/usr/bin/env python3
"""kpi reads one committed state while a sync commits (issue 11.4).

A writer process keeps committing, one transaction at a time, a new
version of every ticket together with its pauses: resolved 4 h after
creation with a 3 h pause, then 10 h after with a 9 h pause, and so on.
In every committed state each ticket took 1 h of SLA time (met, MTTR
3600 s). kpi runs again and again meanwhile; a kpi that read the tickets
of one commit and the pauses of the next would show another MTTR or
breaches. Bounded: about four seconds of kpi runs.
"""
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

BIN = os.environ["IB_BIN"]
N = 3000
BASE = 1790000000  # 2026-09-21; every ticket is created in October below
OCT = 1790812800   # 2026-10-01T00:00:00Z


def writer(db, stop):
    con = sqlite3.connect(db, timeout=30, isolation_level=None)
    flip = 0
    while not stop.is_set():
        hours = 4 if flip else 10
        flip ^= 1
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE tickets SET resolved_at = created_at + ?, "
                    "updated_at = created_at + ? WHERE source = 'w'",
                    (hours * 3600, hours * 3600))
        con.execute("DELETE FROM pauses WHERE source = 'w'")
        con.execute("INSERT INTO pauses(source, ticket_id, start, end) "
                    "SELECT source, id, created_at, created_at + ? FROM tickets "
                    "WHERE source = 'w'", ((hours - 1) * 3600,))
        con.execute("COMMIT")
    con.close()


def main():
    with tempfile.TemporaryDirectory() as d:
        db = os.path.join(d, "store.db")
        cfg = os.path.join(d, "k.cfg")
        with open(cfg, "w") as f:
            f.write(f'store = {{ path = "{db}"; }};\n'
                    'calendars = ( { name = "24x7"; } );\n'
                    f'sources = ( {{ name = "w"; plugin = "csv"; path = "{d}/none.csv"; }} );\n'
                    'slas = ( { name = "s"; calendar = "24x7";\n'
                    '  targets = ( { priority = "P1"; resolution = "2h"; } ); } );\n')
        args = [BIN, "-c", cfg, "kpi", "--month", "2026-10", "--as-of",
                "2026-11-10T00:00:00Z", "--format", "json"]
        # itsm-bridge creates its own schema; the tickets go in directly.
        subprocess.run(args, capture_output=True, check=True)
        con = sqlite3.connect(db)
        con.executemany(
            "INSERT INTO tickets(source,id,kind,priority,status,created_at,"
            "resolved_at,updated_at) VALUES('w',?,'incident',1,'resolved',?,?,?)",
            [(str(i), OCT + i * 600, OCT + i * 600 + 4 * 3600,
              OCT + i * 600 + 4 * 3600) for i in range(N)])
        con.executemany(
            "INSERT INTO pauses(source,ticket_id,start,end) VALUES('w',?,?,?)",
            [(str(i), OCT + i * 600, OCT + i * 600 + 3 * 3600) for i in range(N)])
        con.commit()
        con.close()

        stop = multiprocessing.Event()
        w = multiprocessing.Process(target=writer, args=(db, stop))
        w.start()
        runs, bad = 0, []
        deadline = time.monotonic() + 4
        try:
            while time.monotonic() < deadline:
                p = subprocess.run(args, capture_output=True, text=True, timeout=60)
                if p.returncode != 0:
                    bad.append(f"exit {p.returncode}: {p.stderr.strip()}")
                    continue
                res = json.loads(p.stdout)["slas"][0]["total"]["resolution"]
                runs += 1
                if (res["tickets"], res["met"], res["breached"], res["mttr_s"]) != (N, N, 0, 3600):
                    bad.append(f"tickets {res['tickets']} met {res['met']} breached "
                               f"{res['breached']} mttr {res['mttr_s']}")
        finally:
            stop.set()
            w.join(30)
        print(f"{runs} kpi runs during commits; {len(bad)} saw no committed state")
        for b in bad[:5]:
            print("  ", b)
        if runs < 3:
            print("FAIL: too few kpi runs to tell")
            return 1
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
