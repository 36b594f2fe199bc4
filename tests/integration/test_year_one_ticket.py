#!/usr/bin/env python3
"""A ticket created in year 0001 (issue 11.5): kpi stays fast (business
hours in a DST zone are counted by whole weeks, not 740 000 days walked
per SLA) and every other ticket's figures stay exactly what they were.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

BIN = os.environ["IB_BIN"]
PLUGINS = os.environ["IB_PLUGIN_DIR"]
failures = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


def run(cfg, *args):
    p = subprocess.run([BIN, "-c", cfg, "--plugin-dir", PLUGINS, *args],
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


with tempfile.TemporaryDirectory() as d:
    csv = os.path.join(d, "t.csv")
    cfg = os.path.join(d, "b.cfg")
    with open(cfg, "w") as f:
        f.write(f'store = {{ path = "{d}/s.db"; }};\ntimezone = "Europe/Paris";\n'
                'calendars = ( { name = "office"; timezone = "Europe/Paris";\n'
                '  hours = { mon = "08:00-18:00"; tue = "08:00-18:00"; wed = "08:00-18:00";\n'
                '            thu = "08:00-18:00"; fri = "08:00-17:00"; sat = "22:00-24:00"; };\n'
                '  holidays = [ "2026-11-11", "1990-12-25" ]; } );\n'
                f'sources = ( {{ name = "s"; plugin = "csv"; path = "{csv}";\n'
                '  columns = { id = "id"; priority = "p"; created = "c"; first_response = "f"; resolved = "r"; }; } );\n'
                'slas = ( ' + ", ".join(
                    f'{{ name = "sla{i}"; calendar = "office"; targets = ( '
                    f'{{ priority = "P1"; first_response = "1h"; resolution = "{4 + i}h"; }},'
                    f' {{ priority = "P2"; resolution = "{8 + i}h"; }} ); }}'
                    for i in range(8)) + ' );\n')
    rows = ["id,p,c,f,r"]
    for i in range(40):
        day = 1 + i % 25
        rows.append(f"T{i},P{1 + i % 2},2026-10-{day:02d}T{7 + i % 10:02d}:10:00Z,"
                    f"2026-10-{day:02d}T{8 + i % 10:02d}:40:00Z,"
                    f"2026-10-{day + 1 + i % 3:02d}T{9 + i % 9:02d}:00:00Z")
    with open(csv, "w") as f:
        f.write("\n".join(rows) + "\n")
    rc, out, err = run(cfg, "sync")
    check(rc == 0, f"sync ({out.strip()} {err.strip()})")
    period = ["--month", "2026-10", "--as-of", "2026-11-10T00:00:00Z"]

    def sla_rows():
        out_dir = os.path.join(d, "out")
        rc, out, err = run(cfg, "export", "--format", "json", "--out", out_dir, *period)
        check(rc == 0, f"export ({err.strip()})")
        with open(os.path.join(out_dir, "ticket_sla.json"), encoding="utf-8") as f:
            doc = json.load(f)
        rows = doc if isinstance(doc, list) else next(v for v in doc.values() if isinstance(v, list))
        return {(r.get("ticket_id") or r.get("id"), r.get("sla")): r for r in rows}

    before = sla_rows()
    with open(csv, "a") as f:
        f.write("OLD,P1,0001-01-01T00:00:00Z,,2026-10-05T09:00:00Z\n")
    rc, out, err = run(cfg, "sync")
    check(rc == 0 and "1 new" in out, f"the year-0001 ticket is stored ({out.strip()})")
    t0 = time.monotonic()
    rc, out, err = run(cfg, "kpi", *period, "--format", "json")
    took = time.monotonic() - t0
    check(rc == 0, f"kpi ({err.strip()})")
    check(took < 1.0, f"kpi with a year-0001 ticket and 8 SLAs takes {took:.2f} s")
    after = sla_rows()
    old = {k: v for k, v in after.items() if k[0] == "OLD"}
    check(len(old) > 0, f"the old ticket is measured ({len(old)} rows)")
    others = {k: v for k, v in after.items() if k[0] != "OLD"}
    check(others == before and len(before) > 0,
          f"the other {len(before)} ticket-SLA rows are unchanged")

sys.exit(1 if failures else 0)
