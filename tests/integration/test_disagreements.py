#!/usr/bin/python3
"""test_disagreements.py -- `kpi --disagreements` against the loopback mock
ServiceNow (tests/mock/apps/servicenow.py), whose task_sla rows carry the
provider's own verdicts.

The test plants verdicts of a provider that ignored the On Hold pause of a
ticket and of one that counted 24x7 instead of the SLA's office hours (on a
resolution and on a first response), one verdict no reading explains and
verdicts that agree. It checks that `kpi --disagreements --format json`
lists exactly the tickets counted in `reported_disagreements` of `kpi
--format json`, per SLA, priority and KPI, with the planted reasons; that
the CSV and table forms say the same; and that `export` writes the same
rows as its `disagreements` table (CSV and JSON). Must not reach anything
but 127.0.0.1.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ["IB_BIN"]
PLUGIN_DIR = os.environ["IB_PLUGIN_DIR"]
sys.path.insert(0, os.path.join(os.environ["IB_SOURCE_DIR"], "tests", "mock"))
from harness import MockServer  # noqa: E402

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def sn(day, hh, mm=0):
    return "2026-10-%02d %02d:%02d:00" % (day, hh, mm)


def ref(value, display):
    return {"value": value, "display_value": display}


STATES = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved"}
PRIOS = {"1": "1 - Critical", "2": "2 - High"}


def incident(sid, prio, opened, resolved):
    return {"sys_id": sid, "number": "INC00010" + sid[1:], "short_description": "T " + sid,
            "state": ref("6", STATES["6"]), "priority": ref(prio, PRIOS[prio]),
            "opened_at": opened, "resolved_at": resolved, "closed_at": "",
            "sys_updated_on": resolved, "sys_class_name": "incident",
            "business_service": ref("s1", "ERP"), "assignment_group": ref("g1", "Desk")}


AUDIT_N = [0]


def audit(doc, old, new, when):
    AUDIT_N[0] += 1
    return {"sys_id": "au%04d" % AUDIT_N[0], "documentkey": doc, "tablename": "incident",
            "fieldname": "state", "oldvalue": old, "newvalue": new, "sys_created_on": when}


def sla(n, task, target, breached, start):
    return {"sys_id": "sl%04d" % n, "task": ref(task, task),
            "sla.target": ref(target, target.capitalize()),
            "has_breached": "true" if breached else "false",
            "start_time": start, "stage": "completed"}


# Calendar "office": Monday to Friday 09:00-17:00 UTC. P1 30 min / 4 h,
# P2 1 h / 8 h. October 2026: the 5th is a Monday.
DATA = {
    "incident": [
        # i11 P1 Mon 5th 09:00, answered 09:10, On Hold 10:00-12:00,
        # resolved 14:30: 5.5 h - 2 h paused = 3.5 h, met; the provider did
        # not deduct the pause (5.5 h): breached -> pauses
        incident("i11", "1", sn(5, 9), sn(5, 14, 30)),
        # i12 P1 Fri 9th 16:00, answered 16:10, resolved Mon 12th 10:00:
        # 2 office hours, met; 66 h round the clock: breached -> calendar
        incident("i12", "1", sn(9, 16), sn(12, 10)),
        # i13 P2 Fri 16th 16:30, answered Mon 19th 09:00: 30 office
        # minutes, met; 64.5 h round the clock: breached -> calendar
        incident("i13", "2", sn(16, 16, 30), sn(19, 11)),
        # i14 P2 Tue 20th 09:00, answered 09:30, resolved 11:00: the
        # provider agrees on both
        incident("i14", "2", sn(20, 9), sn(20, 11)),
        # i15 P1 Wed 21st 09:00, answered 09:05, resolved 10:00; the
        # provider says the response was breached: nothing explains it
        incident("i15", "1", sn(21, 9), sn(21, 10)),
    ],
    "sys_audit": [
        audit("i11", "1", "2", sn(5, 9, 10)), audit("i11", "2", "3", sn(5, 10)),
        audit("i11", "3", "2", sn(5, 12)), audit("i11", "2", "6", sn(5, 14, 30)),
        audit("i12", "1", "2", sn(9, 16, 10)), audit("i12", "2", "6", sn(12, 10)),
        audit("i13", "1", "2", sn(19, 9)), audit("i13", "2", "6", sn(19, 11)),
        audit("i14", "1", "2", sn(20, 9, 30)), audit("i14", "2", "6", sn(20, 11)),
        audit("i15", "1", "2", sn(21, 9, 5)), audit("i15", "2", "6", sn(21, 10)),
    ],
    "task_sla": [
        sla(1, "i11", "response", False, sn(5, 9)),
        sla(2, "i11", "resolution", True, sn(5, 9)),
        sla(3, "i12", "resolution", True, sn(9, 16)),
        sla(4, "i13", "response", True, sn(16, 16, 30)),
        sla(5, "i14", "response", False, sn(20, 9)),
        sla(6, "i14", "resolution", False, sn(20, 9)),
        sla(7, "i15", "response", True, sn(21, 9)),
    ],
    "cmdb_ci_outage": [],
}

CONFIG = """
store = { path = "%(tmp)s/bridge.db"; };
timezone = "UTC";
plugin_dir = "%(plugins)s";
calendars = ( { name = "office"; timezone = "UTC";
    hours = { mon = "09:00-17:00"; tue = "09:00-17:00"; wed = "09:00-17:00";
              thu = "09:00-17:00"; fri = "09:00-17:00"; }; } );
sources = (
  { name = "sn"; plugin = "servicenow"; url = "http://127.0.0.1:%(port)s";
    auth = { type = "basic"; user_env = "SN_USER"; token_env = "SN_PASSWORD"; };
    task_sla = true; }
);
slas = (
  { name = "support"; sources = [ "sn" ]; calendar = "office";
    targets = ( { priority = "P1"; first_response = "30m"; resolution = "4h"; },
                { priority = "P2"; first_response = "1h";  resolution = "8h"; } ); }
);
"""

PLANTED = {
    ("i11", "resolution"): ("pauses", 12600, 14400, "met", "breached"),
    ("i12", "resolution"): ("calendar", 7200, 14400, "met", "breached"),
    ("i13", "first_response"): ("calendar", 1800, 3600, "met", "breached"),
    ("i15", "first_response"): ("unexplained", 300, 1800, "met", "breached"),
}
PERIOD = ["--month", "2026-10", "--as-of", "2026-11-05T00:00:00Z"]


def run(tmp, args):
    env = dict(os.environ, SN_USER="svc.bridge", SN_PASSWORD="s3cret",
               TZDIR="/usr/share/zoneinfo")
    p = subprocess.run([BIN, "-c", os.path.join(tmp, "bridge.cfg")] + args,
                       capture_output=True, text=True, env=env, timeout=120)
    check(p.returncode == 0, "%s: exit %d: %s" % (args, p.returncode, p.stderr))
    return p.stdout


def main():
    tmp = tempfile.mkdtemp(prefix="ib-dis-")
    mock = None
    try:
        data_path = os.path.join(tmp, "sn.json")
        with open(data_path, "w", encoding="utf-8") as f:
            json.dump(DATA, f)
        mock = MockServer(tmp, app="servicenow", data=data_path, name="sn",
                          options={"user": "svc.bridge", "password": "s3cret"})
        with open(os.path.join(tmp, "bridge.cfg"), "w") as f:
            f.write(CONFIG % {"tmp": tmp, "plugins": PLUGIN_DIR, "port": mock.port})
        print(run(tmp, ["sync"]))

        kpi = json.loads(run(tmp, ["kpi", "--format", "json"] + PERIOD))
        doc = json.loads(run(tmp, ["kpi", "--disagreements", "--format", "json"] + PERIOD))
        check(doc["schema"] == "itsm-bridge.disagreements/1", "schema %r" % doc.get("schema"))
        check(doc["period"] == kpi["period"], "period %r vs %r" % (doc["period"], kpi["period"]))
        rows = doc["disagreements"]
        got = {(r["id"], r["kpi"]): (r["reason"], r["measured_s"], r["target_s"],
                                      r["ours"], r["theirs"]) for r in rows}
        check(len(rows) == len(got), "one row per ticket and KPI: %r" % rows)
        check(got == PLANTED, "disagreements %r, want %r" % (got, PLANTED))
        for r in rows:
            check(r["source"] == "sn" and r["sla"] == "support"
                  and r["key"] == "INC00010" + r["id"][1:], "row %r" % r)

        # Exactly the tickets counted in reported_disagreements, per SLA,
        # priority and KPI, and in the totals.
        counted = {}
        for s in kpi["slas"]:
            for p in s["by_priority"]:
                for w in ("first_response", "resolution"):
                    counted[(s["name"], p["priority"], w)] = p[w]["reported_disagreements"]
            for w in ("first_response", "resolution"):
                counted[(s["name"], "all", w)] = s["total"][w]["reported_disagreements"]
        listed = {k: 0 for k in counted}
        for r in rows:
            listed[(r["sla"], r["priority"], r["kpi"])] += 1
            listed[(r["sla"], "all", r["kpi"])] += 1
        check(listed == counted, "listed %r vs counted %r" % (listed, counted))
        check(counted[("support", "P1", "resolution")] == 2
              and counted[("support", "P2", "first_response")] == 1
              and counted[("support", "P1", "first_response")] == 1,
              "planted disagreements counted by kpi: %r" % counted)

        # The CSV and the table say the same.
        text = run(tmp, ["kpi", "--disagreements", "--format", "csv"] + PERIOD)
        crow = list(csv.DictReader(io.StringIO(text)))
        check(list(crow[0].keys()) == ["source", "id", "key", "sla", "priority", "kpi",
                                       "measured_s", "target_s", "ours", "theirs", "reason"],
              "CSV header %r" % list(crow[0].keys()))
        check([(r["id"], r["kpi"], r["reason"], int(r["measured_s"])) for r in crow]
              == [(r["id"], r["kpi"], r["reason"], r["measured_s"]) for r in rows],
              "CSV rows %r" % crow)
        table = run(tmp, ["kpi", "--disagreements"] + PERIOD)
        lines = [ln for ln in table.splitlines() if "INC000101" in ln]
        check(len(lines) == 4 and "pauses" in lines[0] and "3h 30m" in lines[0]
              and "4h 00m" in lines[0], "table %r" % table)

        # The same rows, period first, in the export's disagreements table.
        out = os.path.join(tmp, "csv")
        run(tmp, ["export", "--format", "csv", "--out", out] + PERIOD)
        with open(os.path.join(out, "disagreements.csv"), encoding="utf-8", newline="") as f:
            erow = list(csv.DictReader(f))
        check([{k: v for k, v in r.items() if k != "period"} for r in erow] == crow,
              "export disagreements.csv %r" % erow)
        check(all(r["period"] == "2026-10" for r in erow), "period column %r" % erow)
        js = os.path.join(tmp, "json")
        run(tmp, ["export", "--format", "json", "--out", js] + PERIOD)
        with open(os.path.join(js, "disagreements.json"), encoding="utf-8") as f:
            jrow = json.load(f)
        check([{k: v for k, v in r.items() if k != "period"} for r in jrow] == rows,
              "export disagreements.json %r" % jrow)
    finally:
        if mock is not None:
            mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES), file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
