#!/usr/bin/python3
"""test_mysource.py -- the plugin against its mock, through the real
itsm-bridge: a first sync stores what the API serves (paged), an unmapped
priority is rejected with its key, and once the mapping is added the next
(incremental) sync brings that ticket in by id.

Environment (set by CMakeLists.txt): ITSM_BRIDGE (the binary), PLUGIN_DIR
(the folder holding mysource.so), MOCK_DIR (itsm-bridge's mock harness).
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.environ["MOCK_DIR"])
from harness import MockServer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "..", "mock", "mysource_app.py")
TICKETS = [
    {"id": "1", "key": "T-1", "title": "Printer", "priority": "high", "status": "done",
     "created": "2026-10-01T08:00:00Z", "resolved": "2026-10-01T10:00:00Z",
     "updated": "2026-10-01T10:00:00Z"},
    {"id": "2", "key": "T-2", "title": "VPN", "priority": "urgent", "status": "in_progress",
     "created": "2026-10-02T08:00:00Z", "updated": "2026-10-02T08:30:00Z"},
    {"id": "3", "key": "T-3", "title": "Mail", "priority": "low", "status": "new",
     "created": "2026-10-03T08:00:00Z", "updated": "2026-10-03T08:00:00Z"},
]
failures = []
passes = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    (passes if cond else failures).append(what)


def config(tmp, url, extra=""):
    path = os.path.join(tmp, "bridge.cfg")
    with open(path, "w") as f:
        f.write("""store = { path = "%s/store.db"; };
plugin_dir = "%s";
sources = ( { name = "tool"; plugin = "mysource"; url = "%s"; %s } );
""" % (tmp, os.environ["PLUGIN_DIR"], url, extra))
    return path


def sync(cfg):
    p = subprocess.run([os.environ["ITSM_BRIDGE"], "-c", cfg, "sync"],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def stored(tmp):
    con = sqlite3.connect(os.path.join(tmp, "store.db"))
    rows = dict(con.execute("SELECT key, priority FROM tickets").fetchall())
    con.close()
    return rows


def main():
    tmp = tempfile.mkdtemp(prefix="mysource-")
    try:
        data = os.path.join(tmp, "tickets.json")
        with open(data, "w") as f:
            json.dump(TICKETS, f)
        with MockServer(tmp, app=APP, data=data, quiet=True) as m:
            cfg = config(tmp, m.url)
            rc, out = sync(cfg)
            check(rc == 0, "first sync (rc %d): %s" % (rc, out))
            check(stored(tmp) == {"T-1": 2, "T-3": 4}, "T-1 and T-3 stored: %s" % stored(tmp))
            check("T-2" in out and "urgent" in out, "T-2 rejected with its key")
            cfg = config(tmp, m.url, 'priorities = ( ("urgent", "P1"), ("high", "P2"), '
                                     '("normal", "P3"), ("low", "P4") );')
            rc, out = sync(cfg)
            check(rc == 0, "second sync (rc %d): %s" % (rc, out))
            check(stored(tmp).get("T-2") == 1, "T-2 read again by id once mapped")
            check(any(r["path"] == "/api/tickets/2" for r in m.requests()),
                  "the plugin asked for ticket 2 by id")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (len(passes), len(failures)))
    return 1 if failures else 0


sys.exit(main())
