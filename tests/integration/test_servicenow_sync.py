#!/usr/bin/python3
"""test_servicenow_sync.py -- the real servicenow.so against the loopback
mock ServiceNow (tests/mock/apps/servicenow.py).

Covers: keyset paging with short pages (row ACLs) and rows sharing one
sys_updated_on; a row updated mid-sync is not skipped; first response from
sys_audit and from a field; On Hold pauses; outages of the three types;
task_sla verdicts (restarted SLA, OLA ignored); display values with
accents; an unmapped priority reported with its number; 429 then success;
401 with a clear message; audit fetched in batches, not per ticket; a
second sync is idempotent; `kpi --format json` (availability included)
against an independent implementation of SPEC §6 over the stored records.
Must not reach anything but 127.0.0.1.
"""

import json
import re
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timezone

BIN = os.environ["IB_BIN"]
PLUGIN_DIR = os.environ["IB_PLUGIN_DIR"]
SOURCE_DIR = os.environ["IB_SOURCE_DIR"]
sys.path.insert(0, os.path.join(os.environ["IB_SOURCE_DIR"], "tests", "mock"))
from harness import MockServer  # noqa: E402
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def sn(day, hh, mm=0, month=10):
    return "2026-%02d-%02d %02d:%02d:00" % (month, day, hh, mm)


def ts(text):
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
               .replace(tzinfo=timezone.utc).timestamp())


def ref(value, display):
    return {"value": value, "display_value": display}


STATE_NAMES = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved",
               "7": "Closed", "8": "Canceled"}
PRIO_NAMES = {"1": "1 - Critical", "2": "2 - High", "9": "9 - Unknown"}


def incident(sid, number, prio, state, opened, updated, title="Ticket",
             service=("s1", "ERP"), resolved="", closed="", **extra):
    row = {"sys_id": sid, "number": number, "short_description": title,
           "state": ref(state, STATE_NAMES[state]),
           "priority": ref(prio, PRIO_NAMES[prio]),
           "opened_at": opened, "resolved_at": resolved, "closed_at": closed,
           "sys_updated_on": updated, "sys_class_name": "incident",
           "business_service": ref(*service),
           "assignment_group": ref("g1", "Service Desk")}
    row.update(extra)
    return row


def audit(n, doc, field, old, new, when):
    return {"sys_id": "au%04d" % n, "documentkey": doc, "tablename": "incident",
            "fieldname": field, "oldvalue": old, "newvalue": new,
            "sys_created_on": when}


def sla(n, task, target, breached, start, stage="completed"):
    return {"sys_id": "sl%04d" % n, "task": ref(task, task),
            "sla.target": ref(target, target.capitalize()),
            "has_breached": "true" if breached else "false",
            "start_time": start, "stage": stage}


ACCENT_TITLE = "\u00c9cran bloqu\u00e9 \u2013 caf\u00e9 renvers\u00e9"
ACCENT_SERVICE = "Messagerie \u00cele-de-France"

DATA = {
    "incident": [
        # i01: assigned 08:10, in progress 08:20, resolved 10:00
        incident("i01", "INC0001001", "1", "7", sn(5, 8), sn(6, 10),
                 resolved=sn(5, 10), closed=sn(6, 10)),
        # i02: first touch 50 min late; On Hold 10:00-12:00; resolved 14:30
        incident("i02", "INC0001002", "1", "6", sn(5, 9), sn(5, 14, 30),
                 resolved=sn(5, 14, 30)),
        # i03: accents; On Hold since 09:00 and still
        incident("i03", "INC0001003", "2", "3", sn(6, 8), sn(7, 9),
                 title=ACCENT_TITLE, service=("s2", ACCENT_SERVICE)),
        # i04: same sys_updated_on as i03 (keyset tie); field differs from audit
        incident("i04", "INC0001004", "2", "2", sn(7, 8), sn(7, 9),
                 u_first_response=sn(7, 8, 45)),
        # i05: hidden by a row ACL: pages come back short
        incident("i05", "INC0001005", "2", "2", sn(6, 11), sn(6, 12),
                 _acl_hidden=True),
        # i06: open at first; resolved while the sync runs (moves to the end)
        incident("i06", "INC0001006", "2", "2", sn(5, 11), sn(5, 12),
                 _update_after={"requests": 1, "fields": {
                     "state": ref("6", "Resolved"), "resolved_at": sn(8, 9),
                     "sys_updated_on": sn(8, 9)},
                     "audit": [audit(99, "i06", "state", "2", "6", sn(8, 9))]}),
        # i07: cancelled
        incident("i07", "INC0001007", "1", "8", sn(9, 8), sn(9, 9)),
        # i08: a priority nobody mapped; updated before the others, so that
        # only a read by id brings it back once the mapping is fixed
        incident("i08", "INC0001008", "9", "2", sn(4, 10), sn(4, 11)),
    ],
    "sys_audit": [
        audit(1, "i01", "assigned_to", "", "u1", sn(5, 8, 10)),
        audit(2, "i01", "state", "1", "2", sn(5, 8, 20)),
        audit(3, "i01", "state", "2", "6", sn(5, 10)),
        audit(4, "i01", "state", "6", "7", sn(6, 10)),
        audit(5, "i02", "state", "1", "2", sn(5, 9, 50)),
        audit(6, "i02", "state", "2", "3", sn(5, 10)),
        audit(7, "i02", "state", "3", "2", sn(5, 12)),
        audit(8, "i02", "state", "2", "6", sn(5, 14, 30)),
        audit(9, "i03", "state", "1", "2", sn(6, 8, 30)),
        audit(10, "i03", "state", "2", "3", sn(6, 9)),
        audit(11, "i04", "state", "1", "2", sn(7, 8, 5)),
        audit(12, "i06", "state", "1", "2", sn(5, 11, 30)),
        # another table's history for the same key must not count
        dict(audit(13, "i04", "state", "1", "2", sn(7, 8, 1)), tablename="problem"),
    ],
    "task_sla": [
        sla(1, "i01", "response", False, sn(5, 8)),
        sla(2, "i01", "resolution", False, sn(5, 8)),
        sla(3, "i02", "response", False, sn(5, 8), stage="cancelled"),
        sla(4, "i02", "response", True, sn(5, 9)),      # restarted: counts
        sla(5, "i02", "resolution", True, sn(5, 9)),    # disagrees (3.5h < 4h)
        sla(6, "i03", "response", True, sn(6, 8)),      # disagrees (30m <= 1h)
        dict(sla(7, "i01", "response", True, sn(5, 8, 30)),  # an OLA: ignored
             **{"sla.target": ref("", "")}),
    ],
    "cmdb_ci_outage": [
        {"sys_id": "o1", "cmdb_ci": ref("ci1", "ERP"), "type": ref("outage", "Outage"),
         "begin": sn(10, 10), "end": sn(10, 11, 30), "sys_updated_on": sn(10, 12)},
        {"sys_id": "o2", "cmdb_ci": ref("ci1", "ERP"),
         "type": ref("planned", "Planned Outage"),
         "begin": sn(11, 22), "end": sn(11, 23, 30), "sys_updated_on": sn(12, 0)},
        {"sys_id": "o3", "cmdb_ci": ref("ci1", "ERP"),
         "type": ref("degradation", "Degradation"),
         "begin": sn(12, 10), "end": sn(12, 10, 30), "sys_updated_on": sn(12, 11)},
        {"sys_id": "o4", "cmdb_ci": ref("ci9", "Serveur de fichiers"),
         "type": ref("outage", "Outage"), "begin": sn(30, 0), "end": "",
         "sys_updated_on": sn(30, 0)},
    ],
}

CONFIG = """
store = { path = "%(tmp)s/bridge.db"; };
timezone = "UTC";
plugin_dir = "%(plugins)s";
calendars = ( { name = "24x7"; timezone = "UTC"; } );
sources = (
  { name = "sn"; plugin = "servicenow"; url = "http://127.0.0.1:%(port)s";
    auth = { type = "basic"; user_env = "SN_USER"; token_env = "SN_PASSWORD"; };
    page_size = 2; outages = true; task_sla = true;
    services = ( ("Serveur de fichiers", "Files") ); },
  { name = "sn-field"; plugin = "servicenow"; url = "http://127.0.0.1:%(port)s/";
    auth = { type = "basic"; user_env = "SN_USER"; token_env = "SN_PASSWORD"; };
    first_response = "field:u_first_response"; }
);
slas = (
  { name = "support"; sources = [ "sn" ]; kinds = [ "incident" ]; calendar = "24x7";
    targets = ( { priority = "P1"; first_response = "30m"; resolution = "4h"; },
                { priority = "P2"; first_response = "1h";  resolution = "8h"; } );
    penalty = { monthly_fee = 1000.0; currency = "EUR"; per_response_breach_pct = 5.0;
                per_resolution_breach_pct = 0.0; cap_pct = 20.0; }; }
);
availability = (
  { service = "ERP"; target_pct = 99.5; calendar = "24x7";
    monthly_fee = 3000.0; currency = "EUR"; credit = "proportional"; },
  { service = "Files"; target_pct = 99.5; calendar = "24x7";
    monthly_fee = 500.0; currency = "EUR"; credit = "proportional"; }
);
"""

FROM, TO, AS_OF = ts(sn(1, 0)), ts(sn(1, 0, month=11)), ts(sn(5, 0, month=11))


def run(tmp, args, password="s3cret"):
    env = dict(os.environ, SN_USER="svc.bridge", SN_PASSWORD=password,
               TZDIR="/usr/share/zoneinfo")
    p = subprocess.run([BIN, "-c", os.path.join(tmp, "bridge.cfg")] + args,
                       capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


# ---- an independent SPEC §6 for a 24x7 calendar ----------------------------

TARGETS = {1: (1800, 14400), 2: (3600, 28800)}


def overlap(a, b, c, d):
    return max(0, min(b, d) - max(a, c))


def stats(values):
    if not values:
        return None, None, None
    v = sorted(values)
    n = len(v)
    median = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    rank = -(-9 * n // 10)
    return sum(v) / n, median, v[rank - 1]


def expected_kpis(db):
    end = min(TO, AS_OF)
    con = sqlite3.connect(db)
    tickets = con.execute(
        "SELECT id, priority, status, created_at, first_response_at, resolved_at,"
        " reported_response_breached, reported_resolution_breached FROM tickets"
        " WHERE source='sn' AND kind='incident' AND deleted_at IS NULL").fetchall()
    pauses = {}
    for tid, s, e in con.execute("SELECT ticket_id, start, end FROM pauses WHERE source='sn'"):
        pauses.setdefault(tid, []).append((s, e))
    out = {}
    for prio, (fr_t, res_t) in TARGETS.items():
        fr = {"met": 0, "breached": 0, "pending": 0, "dis": 0, "d": []}
        rs = {"met": 0, "breached": 0, "open_breached": 0, "dis": 0, "d": []}
        for tid, p, status, created, first, resolved, rep_r, rep_s in tickets:
            if p != prio or status == "cancelled":
                continue
            if FROM <= created < TO:
                r = first if first is not None else resolved
                verdict = None
                if r is not None:
                    d = r - created
                    verdict = d > fr_t
                    fr["d"].append(d)
                    fr["breached" if verdict else "met"] += 1
                elif end - created > fr_t:
                    verdict = True
                    fr["breached"] += 1
                else:
                    fr["pending"] += 1
                if verdict is not None and rep_r is not None and bool(rep_r) != verdict:
                    fr["dis"] += 1

            def paused(upto):
                return sum(overlap(s, e if e is not None else upto, created, upto)
                           for s, e in pauses.get(tid, []))
            if resolved is not None and FROM <= resolved < TO:
                d = (resolved - created) - paused(resolved)
                verdict = d > res_t
                rs["d"].append(d)
                rs["breached" if verdict else "met"] += 1
                if rep_s is not None and bool(rep_s) != verdict:
                    rs["dis"] += 1
            elif created < end and (resolved is None or resolved >= end):
                if (end - created) - paused(end) > res_t:
                    rs["open_breached"] += 1
        out[prio] = (fr, rs)
    outages = con.execute("SELECT service, kind, start, end FROM outages"
                          " WHERE source='sn' AND deleted_at IS NULL").fetchall()
    con.close()
    avail = {}
    for service in ("ERP", "Files"):
        iv = sorted((max(s, FROM), min(e if e is not None else end, end))
                    for svc, k, s, e in outages if svc == service and k == "outage")
        iv = [(a, b) for a, b in iv if b > a]
        down, cur = 0, None
        for a, b in iv:
            if cur and a <= cur[1]:
                cur = (cur[0], max(cur[1], b))
            else:
                if cur:
                    down += cur[1] - cur[0]
                cur = (a, b)
        if cur:
            down += cur[1] - cur[0]
        avail[service] = (down, len(iv))
    return out, avail


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < 1e-6 * max(1.0, abs(b))


def compare_kpis(got, exp, avail):
    sla_out = [s for s in got["slas"] if s["name"] == "support"][0]
    by_p = {int(x["priority"][1]): x for x in sla_out["by_priority"]}
    breaches = 0
    for prio, (fr, rs) in exp.items():
        g_fr, g_rs = by_p[prio]["first_response"], by_p[prio]["resolution"]
        for k in ("met", "breached", "pending"):
            check(g_fr[k] == fr[k], "P%d first_response.%s %s != %s" % (prio, k, g_fr[k], fr[k]))
        check(g_fr["reported_disagreements"] == fr["dis"],
              "P%d first_response.reported_disagreements %s != %s"
              % (prio, g_fr["reported_disagreements"], fr["dis"]))
        mean, median, p90 = stats(fr["d"])
        check(close(g_fr["mean_s"], mean) and close(g_fr["median_s"], median)
              and close(g_fr["p90_s"], p90), "P%d first_response stats %s" % (prio, g_fr))
        for k in ("met", "breached", "open_breached"):
            check(g_rs[k] == rs[k], "P%d resolution.%s %s != %s" % (prio, k, g_rs[k], rs[k]))
        check(g_rs["reported_disagreements"] == rs["dis"],
              "P%d resolution.reported_disagreements %s != %s"
              % (prio, g_rs["reported_disagreements"], rs["dis"]))
        mean, median, p90 = stats(rs["d"])
        check(close(g_rs["mttr_s"], mean) and close(g_rs["median_s"], median)
              and close(g_rs["p90_s"], p90), "P%d resolution stats %s" % (prio, g_rs))
        breaches += fr["breached"]
    pct = min(20.0, 5.0 * breaches)
    check(abs(sla_out["penalty"]["credit"] - 1000.0 * pct / 100) < 0.006,
          "penalty credit %s" % sla_out["penalty"])
    service_time = TO - FROM
    for a in got["availability"]:
        down, n = avail[a["service"]]
        check(a["service_time_s"] == service_time, "%s service_time" % a["service"])
        check(a["downtime_s"] == down, "%s downtime %s != %s" % (a["service"], a["downtime_s"], down))
        check(a["outages"] == n, "%s outages %s != %s" % (a["service"], a["outages"], n))
        pct_av = 100.0 * (1 - down / service_time)
        check(abs(a["availability_pct"] - pct_av) < 1e-3, "%s availability_pct" % a["service"])
        breached = pct_av < a["target_pct"]
        check(a["breached"] == breached, "%s breached" % a["service"])
        fee = 3000.0 if a["service"] == "ERP" else 500.0
        check(abs(a["credit"] - (fee * down / service_time if breached else 0.0)) < 0.006,
              "%s credit %s" % (a["service"], a["credit"]))


def main():
    tmp = tempfile.mkdtemp(prefix="ib-sn-")
    mocks = []
    try:
        data_path = os.path.join(tmp, "sn.json")
        with open(data_path, "w", encoding="utf-8") as f:
            json.dump(DATA, f, ensure_ascii=False)
        faults = [{"path": "/api/now/table/incident", "status": 429,
                   "headers": {"Retry-After": "1"}, "times": 2}]
        mock = MockServer(tmp, app="servicenow", data=data_path, name="sn", faults=faults,
                          options={"user": "svc.bridge", "password": "s3cret"})
        mocks.append(mock)
        port = mock.port
        with open(os.path.join(tmp, "bridge.cfg"), "w") as f:
            f.write(CONFIG % {"tmp": tmp, "plugins": PLUGIN_DIR, "port": port})
        db = os.path.join(tmp, "bridge.db")

        # --- first sync -------------------------------------------------------
        rc, out, err = run(tmp, ["sync"])
        print(out, err)
        check(rc == 0, "sync exit status %d" % rc)
        check("INC0001008" in out + err and "priorities" in out + err,
              "the unmapped priority is reported with its number")
        reqs = mock.requests()
        inc = [r for r in reqs if r["path"] == "/api/now/table/incident"]
        check(sum(1 for r in inc if r["fault"] == "status") == 2, "two 429 answers seen")
        audit_reqs = [r for r in reqs if r["path"] == "/api/now/table/sys_audit"]
        q0 = inc[2]["query"]
        check(q0.get("sysparm_display_value") == ["all"]
              and q0.get("sysparm_exclude_reference_link") == ["true"]
              and q0.get("sysparm_no_count") == ["true"]
              and q0.get("sysparm_limit") == ["2"], "ticket request parameters %s" % q0)
        check(any("ORDERBYsys_updated_on^ORDERBYsys_id" in r["query"]["sysparm_query"][0]
                  and "^NQ" in r["query"]["sysparm_query"][0] for r in inc),
              "keyset continuation (U, sys_id) used")
        check(all("sysparm_offset" not in r["query"] for r in inc), "no offsets")
        check(any(re.search(r"documentkeyINi0\d,i0\d\^", r["query"]["sysparm_query"][0])
                  for r in audit_reqs), "audit fetched for several tickets at once")
        first_round = [r for r in audit_reqs if "sys_id>" not in r["query"]["sysparm_query"][0]]
        check(len(first_round) <= len(inc), "not one audit request per ticket")

        con = sqlite3.connect(db)
        rows = {r[0]: r for r in con.execute(
            "SELECT key, status, priority, title, service, first_response_at, resolved_at,"
            " reported_response_breached, reported_resolution_breached, id, created_at"
            " FROM tickets WHERE source='sn'")}
        check(sorted(rows) == ["INC0001001", "INC0001002", "INC0001003", "INC0001004",
                               "INC0001006", "INC0001007"],
              "stored tickets %s (i05 hidden, i08 rejected)" % sorted(rows))
        i06 = rows.get("INC0001006")
        check(i06 is not None and i06[1] == "resolved" and i06[6] == ts(sn(8, 9)),
              "row updated mid-sync stored in its new state %s" % (i06,))
        i03 = rows.get("INC0001003")
        check(i03 is not None and i03[3] == ACCENT_TITLE and i03[4] == ACCENT_SERVICE,
              "display values with accents %s" % (i03,))
        check(rows.get("INC0001001", [None] * 6)[5] == ts(sn(5, 8, 10)),
              "first response from audit (assignment first)")
        check(rows.get("INC0001004", [None] * 6)[5] == ts(sn(7, 8, 5)),
              "first response from audit of this table only")
        i02 = rows.get("INC0001002")
        check(i02 is not None and i02[7] == 1 and i02[8] == 1, "task_sla verdicts of i02 %s" % (i02,))
        i01 = rows.get("INC0001001")
        check(i01 is not None and i01[7] == 0 and i01[8] == 0,
              "task_sla verdicts of i01, OLA ignored %s" % (i01,))
        pauses = sorted(con.execute(
            "SELECT ticket_id, start, end FROM pauses WHERE source='sn'").fetchall())
        check(pauses == [("i02", ts(sn(5, 10)), ts(sn(5, 12))), ("i03", ts(sn(6, 9)), None)],
              "On Hold pauses %s" % pauses)
        outs = sorted(con.execute(
            "SELECT id, service, kind, start, end FROM outages WHERE source='sn'").fetchall())
        check(outs == [("o1", "ERP", "outage", ts(sn(10, 10)), ts(sn(10, 11, 30))),
                       ("o2", "ERP", "planned", ts(sn(11, 22)), ts(sn(11, 23, 30))),
                       ("o3", "ERP", "degradation", ts(sn(12, 10)), ts(sn(12, 10, 30))),
                       ("o4", "Files", "outage", ts(sn(30, 0)), None)],
              "outages %s" % outs)
        field = dict(con.execute("SELECT key, first_response_at FROM tickets"
                                 " WHERE source='sn-field'").fetchall())
        check(field.get("INC0001004") == ts(sn(7, 8, 45)), "first response from a field")
        check(field.get("INC0001001") is None, "field mode ignores the audit")
        count1 = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
        con.close()

        # --- second sync: idempotent --------------------------------------
        rc, out, err = run(tmp, ["sync"])
        check(rc == 0, "second sync exit status %d: %s" % (rc, err))
        con = sqlite3.connect(db)
        check(con.execute("SELECT count(*) FROM tickets").fetchone()[0] == count1,
              "second sync keeps the same tickets")
        check(con.execute("SELECT count(*) FROM pauses WHERE source='sn'").fetchone()[0] == 2,
              "second sync keeps the same pauses")
        con.close()

        # --- kpi against an independent SPEC §6 --------------------------
        rc, out, err = run(tmp, ["kpi", "--month", "2026-10", "--as-of",
                                 "2026-11-05T00:00:00Z", "--format", "json"])
        check(rc == 0, "kpi exit status %d: %s" % (rc, err))
        if rc == 0:
            got = json.loads(out)
            exp, avail = expected_kpis(db)
            # hand-computed anchors for this data set
            check(avail["ERP"] == (5400, 1), "ERP: only the outage counts")
            check(avail["Files"] == (2 * 86400, 1), "Files: ongoing to the period end")
            check(exp[1][0]["breached"] == 1 and exp[1][1]["dis"] == 1
                  and exp[2][0]["dis"] == 1 and exp[2][1]["breached"] == 1
                  and exp[2][1]["open_breached"] == 1, "independent figures %s" % exp)
            compare_kpis(got, exp, avail)

        # --- the mapping is fixed: i08 comes in without --full -------------
        cfg_path = os.path.join(tmp, "bridge.cfg")
        with open(cfg_path, encoding="utf-8") as f:
            text = f.read()
        with open(cfg_path, "w", encoding="utf-8") as f:
            f.write(text.replace(
                'services = ( ("Serveur de fichiers", "Files") ); },',
                'services = ( ("Serveur de fichiers", "Files") );\n'
                '    priorities = ( ("1", "P1"), ("2", "P2"), ("3", "P3"), ("4", "P4"),'
                ' ("5", "P5"), ("9", "P3") ); },'))
        n_before = len(mock.requests())
        rc, out, err = run(tmp, ["sync", "--source", "sn"])
        check(rc == 0, "sync after the mapping fix: exit %d: %s" % (rc, err))
        later = mock.requests()[n_before:]
        queries = [r["query"].get("sysparm_query", [""])[0] for r in later
                   if r["path"] == "/api/now/table/incident"]
        check(any(q.startswith("sys_updated_on>=") for q in queries),
              "the sync after the fix is incremental: %s" % queries)
        check(any("sys_idINi08" in q for q in queries),
              "i08 read again by id: %s" % queries)
        con = sqlite3.connect(db)
        row = con.execute("SELECT priority FROM tickets WHERE source='sn' AND id='i08'").fetchone()
        left = con.execute("SELECT count(*) FROM rejected WHERE source='sn'").fetchone()[0]
        con.close()
        check(row == (3,), "i08 stored with its new mapping: %s" % (row,))
        check(left == 0, "no record of sn left rejected (%d)" % left)

        # --- 401 --------------------------------------------------------------
        rc, out, err = run(tmp, ["sync", "--source", "sn"], password="wrong")
        check(rc == 1, "401 exit status %d" % rc)
        check("401" in err and "sn" in err, "401 message names the source: %r" % err)
        check(len(err.strip().splitlines()) <= 3, "401: a short message, not noise: %r" % err)
    finally:
        for m in mocks:
            m.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
