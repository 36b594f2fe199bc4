#!/usr/bin/python3
"""test_disagreement_history.py -- `kpi --disagreements` reads the store's
history: a ticket synced as P1 (first response target 30 min, answered in
45 min: breached), then downgraded by the provider to P3 (target 4 h: met),
whose provider verdict still says breached, disagrees with us for reason
`priority_changed` -- the verdict of the priority it had before. Without
the recorded change (a ticket created as P3) the same disagreement is
`unexplained`. The CSV plugin, the real store, loopback nothing.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ["IB_BIN"]
PLUGINS = os.environ["IB_PLUGIN_DIR"]
failures = []
passes = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    (passes if cond else failures).append(what)


def write_csv(path, prio_t1):
    with open(path, "w") as f:
        f.write("id,priority,created,first_response,updated\n")
        # T1: answered after 45 minutes; its priority changes between syncs.
        f.write("T1,%s,2026-10-05T09:00:00Z,2026-10-05T09:45:00Z,"
                "2026-10-05T09:45:00Z\n" % prio_t1)
        # T2: created P3, answered after 45 minutes; never changed.
        f.write("T2,P3,2026-10-06T09:00:00Z,2026-10-06T09:45:00Z,"
                "2026-10-06T09:45:00Z\n")


def run(cfg, *args):
    p = subprocess.run([BIN, "-c", cfg, *args], capture_output=True, text=True,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def main():
    tmp = tempfile.mkdtemp(prefix="ib-dis-hist-")
    try:
        csv = os.path.join(tmp, "tickets.csv")
        cfg = os.path.join(tmp, "bridge.cfg")
        with open(cfg, "w") as f:
            f.write("""store = { path = "%s/store.db"; };
plugin_dir = "%s";
calendars = ( { name = "24x7"; timezone = "UTC"; } );
sources = ( { name = "desk"; plugin = "csv"; path = "%s"; } );
slas = ( { name = "support"; calendar = "24x7";
    targets = ( { priority = "P1"; first_response = "30m"; },
                { priority = "P3"; first_response = "4h"; } ); } );
""" % (tmp, PLUGINS, csv))
        write_csv(csv, "P1")
        rc, out, err = run(cfg, "sync")
        check(rc == 0, "first sync (rc %d): %s %s" % (rc, out, err))
        write_csv(csv, "P3")
        rc, out, err = run(cfg, "sync", "--full")
        check(rc == 0 and "1 changed" in out, "the downgrade is a change: %s" % out.strip())
        rc, out, err = run(cfg, "history", "desk", "T1", "--format", "json")
        check(rc == 0 and '"priority"' in out, "history records T1's priority change")
        # The provider still reports both as breached (its P1 verdict for T1).
        con = sqlite3.connect(os.path.join(tmp, "store.db"))
        con.execute("UPDATE tickets SET reported_response_breached = 1")
        con.commit()
        con.close()
        rc, out, err = run(cfg, "kpi", "--month", "2026-10", "--as-of",
                           "2026-11-05T00:00:00Z", "--disagreements", "--format", "json")
        check(rc == 0, "kpi --disagreements (rc %d): %s" % (rc, err))
        doc = json.loads(out) if rc == 0 else {"disagreements": []}
        reasons = {d["id"]: (d["ours"], d["theirs"], d["reason"], d["priority"])
                   for d in doc["disagreements"]}
        check(reasons.get("T1") == ("met", "breached", "priority_changed", "P3"),
              "T1: priority_changed from history: %s" % (reasons.get("T1"),))
        check(reasons.get("T2") == ("met", "breached", "unexplained", "P3"),
              "T2, never changed: unexplained: %s" % (reasons.get("T2"),))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (len(passes), len(failures)))
    return 1 if failures else 0


sys.exit(main())
