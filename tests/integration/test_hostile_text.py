#!/usr/bin/env python3
"""Invalid UTF-8 and out-of-range instants (issue 11.6, 11.7).

A plugin (tests/plugins/hostile_records.c) emits a title and a service
with invalid UTF-8, an id that is not UTF-8, and instants outside the
years 0000-9999. The host stores the text repaired (U+FFFD, a warning
naming the record) and rejects the rest with each record's position. A
configuration SLA name with invalid bytes and a title with invalid bytes
put straight into the store still give JSON files (kpi --format json,
export --format json/ndjson) that a strict JSON reader accepts.
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ["IB_BIN"]
TEST_PLUGINS = os.path.join(os.environ["IB_BINARY_DIR"], "test-plugins")
failures = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


def run(cfg, *args):
    p = subprocess.run([BIN, "-c", cfg, "--plugin-dir", TEST_PLUGINS, *args],
                       capture_output=True, timeout=120)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def strict_json(data):
    """json.loads of bytes that must be UTF-8 (no replacement allowed)."""
    return json.loads(data.decode("utf-8", "strict"))


with tempfile.TemporaryDirectory() as d:
    db = os.path.join(d, "s.db")
    cfg = os.path.join(d, "b.cfg")
    with open(cfg, "wb") as f:
        f.write(b'store = { path = "' + db.encode() + b'"; };\n'
                b'calendars = ( { name = "24x7"; } );\n'
                b'sources = ( { name = "h"; plugin = "hostile_records"; } );\n'
                b'slas = ( { name = "support \xe9t\xff"; calendar = "24x7";\n'
                b'  targets = ( { priority = "P1"; resolution = "2h"; } ); } );\n')
    rc, out, err = run(cfg, "sync")
    out = out.decode("utf-8", "replace")
    print(out, err)
    check(rc == 0 and "h: 6 read, 2 new, 0 changed, 0 unchanged, 4 rejected, 1 with invalid UTF-8 repaired" in out,
          "2 new, 4 rejected, 1 repaired")
    check("record 1: 2 invalid UTF-8 byte(s) replaced by U+FFFD" in err,
          "the repair is a warning naming the record")
    check("record 2: the resolved time (253402300800 s from 1970) is outside "
          "the years 0000-9999" in out, "year 10000 rejected with its position")
    check("record 3: the pause start time" in out, "a pause before year 0 rejected")
    check("record 4: the id is not valid UTF-8" in out, "an id that is not UTF-8 rejected")
    check("record 6: the start time" in out, "an outage before year 0 rejected")
    con = sqlite3.connect(db)
    con.text_factory = bytes
    rows = dict(con.execute("SELECT id, title FROM tickets"))
    svc = con.execute("SELECT service FROM tickets WHERE id='T1'").fetchone()[0]
    check(rows.get(b"T1") == "caf\ufffd au lait \ufffd".encode() and
          svc == "svc\ufffd".encode(), f"stored repaired ({rows}, {svc})")
    check(set(rows) == {b"T1", b"T5"}, "nothing else stored")
    # Invalid bytes that reach the store another way (an older version).
    con.execute("UPDATE tickets SET title = CAST(x'6f6c64ff20c3' AS TEXT), "
                "grp = CAST(x'80' AS TEXT) WHERE id = 'T5'")
    con.commit()
    con.close()

    period = ["--month", "2026-10", "--as-of", "2026-11-10T00:00:00Z"]
    p = subprocess.run([BIN, "-c", cfg, "kpi", *period, "--format", "json"],
                       capture_output=True, timeout=60)
    try:
        doc = strict_json(p.stdout)
        name = doc["slas"][0]["name"]
    except (ValueError, KeyError, IndexError) as e:
        name = f"unreadable: {e}"
    check(p.returncode == 0 and name == "support \ufffdt\ufffd",
          f"kpi --format json is UTF-8 JSON ({name!r})")
    for fmt, ext in (("json", "json"), ("ndjson", "ndjson")):
        out_dir = os.path.join(d, fmt)
        p = subprocess.run([BIN, "-c", cfg, "export", "--format", fmt, "--out",
                            out_dir, *period], capture_output=True, timeout=60)
        check(p.returncode == 0, f"export {fmt} ({p.stderr.decode(errors='replace')})")
        bad = []
        for name in sorted(os.listdir(out_dir)):
            with open(os.path.join(out_dir, name), "rb") as f:
                data = f.read()
            try:
                if ext == "ndjson":
                    for line in data.splitlines():
                        strict_json(line)
                else:
                    strict_json(data)
            except ValueError as e:
                bad.append(f"{name}: {e}")
        check(not bad, f"every {fmt} file parses as UTF-8 JSON ({bad})")
        if fmt == "json":
            with open(os.path.join(out_dir, "tickets.json"), "rb") as f:
                text = f.read().decode("utf-8")
            check("old\ufffd \ufffd" in text, "the stored invalid title is repaired on export")

sys.exit(1 if failures else 0)
