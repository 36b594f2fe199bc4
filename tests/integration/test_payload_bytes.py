#!/usr/bin/python3
"""test_payload_bytes.py -- odd bytes in payload strings do not break a sync.

The Jira and ServiceNow plugins against tests/mock/apps/oddtext.py, whose
single page holds, one per record, raw non-UTF-8 bytes, a cut UTF-8
sequence, lone UTF-16 surrogates, a valid pair and an escaped NUL. The sync
must not crash or refuse the page: every record is stored under its own id,
a lone surrogate or NUL becomes U+FFFD rather than failing the parse or
cutting the value. (Making the stored text valid UTF-8 is the host's job at
emit, tested elsewhere.) Only 127.0.0.1 is contacted.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ["IB_BIN"]
PLUGIN_DIR = os.environ["IB_PLUGIN_DIR"]
sys.path.insert(0, os.path.join(os.environ["IB_SOURCE_DIR"], "tests", "mock"))
from harness import MockServer  # noqa: E402

failures = []
ODD = 6  # records per source in oddtext.py


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


def main():
    tmp = tempfile.mkdtemp(prefix="ib-bytes-")
    try:
        with MockServer(tmp, app="oddtext", quiet=True) as m:
            cfg = os.path.join(tmp, "bridge.cfg")
            with open(cfg, "w") as f:
                f.write("""store = { path = "%s/bridge.db"; };
plugin_dir = "%s";
sources = (
  { name = "j"; plugin = "jira"; url = "%s"; api = "cloud"; jql = "project = U";
    auth = { type = "bearer"; token_env = "T"; }; priorities = ( ("High", "P1") ); },
  { name = "s"; plugin = "servicenow"; url = "%s"; auth = { type = "bearer"; token_env = "T"; }; } );
""" % (tmp, PLUGIN_DIR, m.url, m.url))
            p = subprocess.run([BIN, "-c", cfg, "sync"], capture_output=True,
                               env=dict(os.environ, T="tok-bytes-test",
                                        no_proxy="127.0.0.1,localhost"), timeout=60)
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        check(p.returncode == 0, "sync succeeds (rc %d): %s" % (p.returncode, out.strip()[-300:]))
        con = sqlite3.connect(os.path.join(tmp, "bridge.db"))
        con.text_factory = bytes
        rows = {(r[0].decode(), r[1].decode()): r[2] for r in
                con.execute("SELECT source, id, title FROM tickets")}
        con.close()
        for src in ("j", "s"):
            mine = {k: v for k, v in rows.items() if k[0] == src}
            check(len(mine) == ODD, "%s: all %d records stored under distinct ids (%d)"
                  % (src, ODD, len(mine)))
            titles = b"\n".join(t or b"" for t in mine.values())
            fffd = "\ufffd".encode()
            for want in (b"lone " + fffd + b" high", b"lone " + fffd + b" low",
                         b"nul " + fffd + b" inside"):
                check(want in mine.values(), "%s: %r stored whole" % (src, want))
            check(b"pair \xf0\x9f\x98\x80 ok" in titles, "%s: a valid pair decoded" % src)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(failures))
    return 1 if failures else 0


sys.exit(main())
