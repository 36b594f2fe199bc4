#!/usr/bin/python3
"""test_glpi_sync.py -- the real glpi.so against the loopback mock GLPI.

Covers: a 500-ticket sync checked exactly, ticket by ticket, against what
this test generated (every instant read in the server's zone across a DST
change, GLPI's default codes, the service from the category, pauses from
the Log -- one Log longer than a request --, GLPI's TTO/TTR verdicts, and
the tickets GLPI has no opening date for, rejected by id); the same sync
through 503s, a 429 with Retry-After and sessions that expire (renewed by
the SDK's authenticate hook); an incremental sync that reads only the
changed page; refused or missing credentials named by their variables;
no token (user, app, session) in -v output; and a ticket rejected for an
unmapped priority read again by id (GET Ticket/:id) and stored by the next
incremental sync once the mapping is fixed, while rejected tickets GLPI
answers 404 (purged) or 401 ERROR_RIGHT_MISSING (no longer readable by the
API user) for are said on stderr and stay listed, the sync succeeding.
Must not reach anything but 127.0.0.1.
"""

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

BIN = os.environ["IB_BIN"]
PLUGIN_DIR = os.environ["IB_PLUGIN_DIR"]
SOURCE_DIR = os.environ["IB_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "mock"))
from harness import MockServer  # noqa: E402

ZONE = ZoneInfo("Europe/Paris")
USER_TOKEN = "glpi-user-tok-7f3a9c2e51d8"
APP_TOKEN = "glpi-app-tok-b4e61f0a93c7"
N_TICKETS = 500
PAGE = 50
LONG_LOG_TICKET = 7      # its Log is longer than one Log request (500 rows)
FAILURES = []

PRIO = {6: 1, 5: 1, 4: 2, 3: 3, 2: 4, 1: 5}
STATUS = {1: "new", 2: "open", 3: "open", 4: "pending", 5: "resolved", 6: "closed"}
KIND = {1: "incident", 2: "request"}
CATEGORIES = {1: "Réseau", 2: "Réseau > Wifi", 3: "Postes de travail"}
RENAMED = {"Postes de travail": "Workstations"}


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what)


def glpi_date(dt):
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def epoch(dt):
    return int(dt.replace(tzinfo=ZONE).timestamp())


def log_row(lid, tid, at, option, old, new):
    return {"id": lid, "itemtype": "Ticket", "items_id": tid, "itemtype_link": "",
            "linked_action": 0, "user_name": "tech (5)", "date_mod": glpi_date(at),
            "id_search_option": option, "old_value": old, "new_value": new}


def make_ticket(rnd, i, now):
    """-> (row as GLPI stores it, its Log rows, the expected store row or None)."""
    # Days from 2026-09-20 to 2026-11-10 (Paris leaves summer time on
    # 2026-10-25), office hours so that no local time is ambiguous.
    created = datetime(2026, 9, 20, 8) + timedelta(days=rnd.randint(0, 50),
                                                   seconds=rnd.randint(0, 9 * 3600))
    status = rnd.choice([1, 2, 3, 4, 5, 6])
    prio, kind = rnd.randint(1, 6), rnd.choice([1, 2])
    cat = rnd.choice([0, 1, 2, 3])
    fr_mode = "none" if status == 1 else rnd.choice(["date", "date", "delay"])
    fr = created + timedelta(seconds=rnd.randint(60, 7200)) if fr_mode != "none" else None
    logs, lid = [], 1000 * i
    pauses, t, cur = [], (fr or created) + timedelta(minutes=5), 1
    if fr:
        logs.append(log_row(lid, i, fr, 12, "1", "2")); lid += 1; cur = 2
    if status >= 4 and rnd.random() < 0.7:            # waiting for the customer
        for _ in range(rnd.randint(1, 2)):
            start = t + timedelta(minutes=rnd.randint(1, 120))
            end = start + timedelta(minutes=rnd.randint(10, 600))
            logs.append(log_row(lid, i, start, 12, str(cur), "4")); lid += 1
            logs.append(log_row(lid, i, end, 12, "4", "2")); lid += 1
            pauses.append((epoch(start), epoch(end)))
            t, cur = end, 2
    solved = closed = None
    if status == 4:
        start = t + timedelta(minutes=7)
        logs.append(log_row(lid, i, start, 12, str(cur), "4")); lid += 1
        pauses.append((epoch(start), None))
        t = start
    if status >= 5:
        solved = t + timedelta(minutes=rnd.randint(30, 3000))
        logs.append(log_row(lid, i, solved, 12, str(cur), "5")); lid += 1
        t = solved
    if status == 6:
        closed = solved + timedelta(days=1)
        logs.append(log_row(lid, i, closed, 12, "5", "6")); lid += 1
        t = closed
    # noise: other fields changed (GLPI logs every field)
    for k in range(620 if i == LONG_LOG_TICKET else rnd.randint(0, 3)):
        logs.append(log_row(lid, i, created + timedelta(seconds=30 + k), 5, "", "tech (5)"))
        lid += 1
    rnd.shuffle(logs)
    mod = t + timedelta(seconds=rnd.randint(1, 600))
    tto = created + timedelta(seconds=rnd.randint(600, 7200)) if rnd.random() < 0.6 else None
    ttr = created + timedelta(hours=rnd.randint(1, 72)) if rnd.random() < 0.6 else None
    row = {"id": i, "entities_id": 0, "name": "Ticket %d" % i, "date": glpi_date(created),
           "date_mod": glpi_date(mod), "date_creation": glpi_date(created),
           "status": status, "priority": prio, "urgency": 3, "impact": 3, "type": kind,
           "itilcategories_id": cat, "locations_id": 0, "requesttypes_id": 1,
           "takeintoaccountdate": glpi_date(fr) if fr_mode == "date" else None,
           "takeintoaccount_delay_stat": int((fr - created).total_seconds()) if fr_mode == "delay" else 0,
           "solvedate": glpi_date(solved) if solved else None,
           "closedate": glpi_date(closed) if closed else None,
           "time_to_own": glpi_date(tto) if tto else None,
           "time_to_resolve": glpi_date(ttr) if ttr else None,
           "solve_delay_stat": 0, "close_delay_stat": 0, "waiting_duration": 0,
           "actiontime": 0, "is_deleted": 0, "content": "&lt;p&gt;help&lt;/p&gt;"}
    if i % 50 == 0:   # GLPI's empty date: no opening date, rejected
        row["date"] = "0000-00-00 00:00:00"
        return row, logs, None

    def verdict(deadline, instant):
        if deadline is None:
            return None
        if instant is not None:
            return 0 if instant <= deadline else 1
        return 1 if now > epoch(deadline) else None
    name = CATEGORIES.get(cat)
    expect = {"kind": KIND[kind], "priority": PRIO[prio], "status": STATUS[status],
              "service": RENAMED.get(name, name), "created_at": epoch(created),
              "first_response_at": epoch(fr) if fr else None,
              "resolved_at": epoch(solved) if solved else None,
              "closed_at": epoch(closed) if closed else None, "updated_at": epoch(mod),
              "title": "Ticket %d" % i,
              "reported_response_breached": verdict(tto, fr),
              "reported_resolution_breached": verdict(ttr, solved or closed),
              "pauses": sorted(pauses)}
    # compare instants as epochs
    if tto is not None and fr is not None:
        expect["reported_response_breached"] = 0 if epoch(fr) <= epoch(tto) else 1
    if ttr is not None and (solved or closed):
        expect["reported_resolution_breached"] = 0 if epoch(solved or closed) <= epoch(ttr) else 1
    return row, logs, expect


def make_data(seed=2026):
    rnd = random.Random(seed)
    now = int(time.time())
    tickets, logs, expected = [], {}, {}
    for i in range(1, N_TICKETS + 1):
        row, log, exp = make_ticket(rnd, i, now)
        tickets.append(row)
        logs[str(i)] = log
        expected[str(i)] = exp
    data = {"tickets": tickets, "logs": logs,
            "dropdowns": {"entities_id": {"0": "Root entity"},
                          "itilcategories_id": {str(k): v for k, v in CATEGORIES.items()},
                          "locations_id": {}}}
    return data, expected


def write_data(tmp, data):
    path = os.path.join(tmp, "glpi.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f)
    return path


def write_config(tmp, port, extra=""):
    cfg = os.path.join(tmp, "bridge.cfg")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write("""
store = { path = "%s/bridge.db"; };
plugin_dir = "%s";
sources = ( { name = "glpi-test"; plugin = "glpi"; url = "http://127.0.0.1:%d/apirest.php";
    timezone = "Europe/Paris"; user_token_env = "GLPI_USER_TOKEN";
    app_token_env = "GLPI_APP_TOKEN"; page_size = %d; pauses = "log";
    services = ( ("Postes de travail", "Workstations") );
    max_concurrency = 4; %s } );
""" % (tmp, PLUGIN_DIR, port, PAGE, extra))
    return cfg


def run(cfg, *args, user=USER_TOKEN, app=APP_TOKEN):
    env = dict(os.environ, GLPI_USER_TOKEN=user, GLPI_APP_TOKEN=app,
               ITSM_BRIDGE_BACKOFF_BASE="0.05")
    if user is None:
        del env["GLPI_USER_TOKEN"]
    p = subprocess.run([BIN, "-c", cfg] + list(args), capture_output=True, text=True,
                       env=env, timeout=240)
    return p.returncode, p.stdout, p.stderr


def stored(tmp):
    con = sqlite3.connect(os.path.join(tmp, "bridge.db"))
    rows = {}
    for r in con.execute(
            "select id, kind, priority, status, service, created_at, first_response_at,"
            " resolved_at, closed_at, updated_at, title, reported_response_breached,"
            " reported_resolution_breached from tickets where source = 'glpi-test'"):
        rows[r[0]] = dict(zip(["kind", "priority", "status", "service", "created_at",
                               "first_response_at", "resolved_at", "closed_at",
                               "updated_at", "title", "reported_response_breached",
                               "reported_resolution_breached"], r[1:]))
        rows[r[0]]["pauses"] = []
    for tid, start, end in con.execute(
            "select ticket_id, start, end from pauses where source = 'glpi-test'"):
        rows[tid]["pauses"].append((start, end))
    for r in rows.values():
        r["pauses"].sort()
    wm = con.execute("select watermark from sync_state where source = 'glpi-test'").fetchone()
    con.close()
    return rows, wm[0] if wm else None


def compare_all(rows, expected, what):
    want = {k: v for k, v in expected.items() if v is not None}
    check(len(rows) == len(want), "%s: %d tickets stored, %d expected" % (what, len(rows), len(want)))
    bad = 0
    for tid, exp in want.items():
        got = rows.get(tid)
        if got != exp:
            bad += 1
            if bad <= 3:
                diff = {k: (got or {}).get(k) for k in exp if (got or {}).get(k) != exp[k]}
                check(False, "%s: ticket %s differs: got %s, want %s" % (
                    what, tid, diff, {k: exp[k] for k in diff}))
    check(bad == 0, "%s: %d tickets differ from what the mock serves" % (what, bad))


def Mock(tmp, data_path, faults=None, expire_after=45, name="glpi", **more):
    return MockServer(tmp, app="glpi", data=data_path, name=name, faults=faults,
                      options=dict({"user_token": USER_TOKEN, "app_token": APP_TOKEN,
                                    "expire_after": expire_after}, **more))


# ---- scenarios ------------------------------------------------------------


def scenario_full_then_incremental():
    tmp = tempfile.mkdtemp(prefix="ib-glpi-")
    data, expected = make_data()
    path = write_data(tmp, data)
    faults = [{"path": "/apirest.php/Ticket", "method": "GET", "status": 503, "after": 2, "times": 2},
              {"path": "/apirest.php/Ticket/9/Log", "status": 429,
               "headers": {"Retry-After": "1"}, "times": 1}]
    mock = Mock(tmp, path, faults)
    try:
        cfg = write_config(tmp, mock.port)
        rc, out, err = run(cfg, "-v", "sync")
        reqs = mock.requests()
        check(rc == 0, "full sync succeeds (rc %d): %s" % (rc, err[-2000:]))
        check("glpi-test: 500 read, 490 new, 0 changed, 0 unchanged, 10 rejected" in out,
              "summary counts 500 read, 490 new, 10 rejected: %s" % out)
        check("rejected ticket " in out and "date is 0000-00-00 00:00:00" in out,
              "a rejected ticket is named with GLPI's empty date: %s" % out)
        rows, wm = stored(tmp)
        compare_all(rows, expected, "full sync")
        newest = max(v["updated_at"] for v in expected.values() if v)
        newest = max(newest, max(epoch(datetime.strptime(t["date_mod"], "%Y-%m-%d %H:%M:%S"))
                                 for t in data["tickets"]))
        check(wm == newest, "watermark is the newest date_mod (%s, want %s)" % (wm, newest))

        faulted = [r for r in reqs if r["fault"] == "status"]
        check(len(faulted) == 3, "503 twice and 429 once were served (%d)" % len(faulted))
        inits = [r for r in reqs if r["path"] == "/apirest.php/initSession"]
        check(len(inits) >= 3, "expired sessions were renewed (%d logins)" % len(inits))
        refused = [r for r in reqs if r["path"] != "/apirest.php/initSession"
                   and r["headers"].get("session-token") is None]
        check(not refused, "every call but initSession carries the Session-Token")
        check(all(r["headers"].get("app-token") == APP_TOKEN for r in reqs),
              "every call carries the App-Token")
        check(all(r["headers"].get("authorization") == "user_token " + USER_TOKEN
                  for r in inits), "initSession sends Authorization: user_token")
        check(reqs[-1]["path"] == "/apirest.php/killSession", "the session is killed at the end")
        long_log = [r for r in reqs if r["path"] == "/apirest.php/Ticket/%d/Log" % LONG_LOG_TICKET
                    and r["fault"] is None]
        ranges = sorted({r["query"]["range"][0] for r in long_log})
        check(ranges == ["0-499", "500-999"],
              "a Log longer than a request is read in 2 ranges (%s)" % ranges)
        pages = [r for r in reqs if r["path"] == "/apirest.php/Ticket" and r["fault"] is None]
        check(len(pages) == N_TICKETS // PAGE, "10 ticket pages read (%d)" % len(pages))
        check(all(r["query"]["sort"] == ["date_mod"] and r["query"]["order"] == ["DESC"]
                  and r["query"]["expand_dropdowns"] == ["true"] for r in pages),
              "pages are newest first with expanded dropdowns")
        # -v output: no user, app or session token
        sessions = {r["headers"].get("session-token") for r in reqs} - {None}
        leaked = [s for s in sessions | {USER_TOKEN, APP_TOKEN} if s in out + err]
        check(len(sessions) >= 3 and not leaked, "no token in -v output (%s)" % leaked)
        check("Session-Token: [redacted]" in err, "-v trace shows the session header redacted")

        # Incremental: three tickets change; only the first page is read.
        changed = {"12": "Ticket 12 (edited)", "345": "Ticket 345 (edited)",
                   "499": "Ticket 499 (edited)"}
        for t in data["tickets"]:
            if str(t["id"]) in changed:
                t["name"] = changed[str(t["id"])]
                t["date_mod"] = "2026-11-20 10:%02d:00" % (t["id"] % 60)
                expected[str(t["id"])]["title"] = changed[str(t["id"])]
                expected[str(t["id"])]["updated_at"] = epoch(
                    datetime.strptime(t["date_mod"], "%Y-%m-%d %H:%M:%S"))
        mock.stop()
        path = write_data(tmp, data)
        mock = Mock(tmp, path, name="glpi2")
        cfg = write_config(tmp, mock.port)
        rc, out, err = run(cfg, "sync")
        reqs = mock.requests()
        check(rc == 0, "incremental sync succeeds (rc %d): %s" % (rc, err))
        pages = [r for r in reqs if r["path"] == "/apirest.php/Ticket"]
        check([p["query"]["range"] for p in pages] == [["0-49"]],
              "incremental sync reads only the first page: %s" %
              [p["query"]["range"] for p in pages])
        logs = [r for r in reqs if r["path"].endswith("/Log")]
        check(3 <= len(logs) <= 10, "only the changed tickets' Logs are read (%d)" % len(logs))
        rows, wm = stored(tmp)
        compare_all(rows, expected, "incremental sync")
        check(wm == epoch(datetime(2026, 11, 20, 10, 45)),
              "watermark moved to the newest change (%s)" % wm)
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def scenario_credentials():
    tmp = tempfile.mkdtemp(prefix="ib-glpi-auth-")
    data, _ = make_data()
    data["tickets"] = data["tickets"][:5]
    mock = Mock(tmp, write_data(tmp, data))
    try:
        cfg = write_config(tmp, mock.port)
        rc, out, err = run(cfg, "sync", user="wrong-user-token-123")
        check(rc == 1, "a refused user_token fails the source (rc %d)" % rc)
        check("$GLPI_USER_TOKEN" in out + err and "$GLPI_APP_TOKEN" in out + err,
              "the refusal names the variables to check: %s" % (out + err))
        check("wrong-user-token-123" not in out + err, "the refused token is not shown")
        n = len(mock.requests())
        check(n <= 2, "a refused login is not retried (%d requests)" % n)

        rc, out, err = run(cfg, "sync", app="wrong-app-token-456")
        check(rc == 1 and "ERROR_WRONG_APP_TOKEN_PARAMETER" in err and "$GLPI_APP_TOKEN" in err,
              "a refused App-Token names GLPI's error and the variable: %s" % err)
        check("wrong-app-token-456" not in out + err, "the refused app token is not shown")

        rc, out, err = run(cfg, "sync", user=None)
        check(rc != 0 and "GLPI_USER_TOKEN" in err and "not set" in err,
              "an unset variable is named: %s" % err)

        rc, out, err = run(cfg, "sync")
        check(rc == 0 and "5 read, 5 new, 0 changed, 0 unchanged, 0 rejected" in out,
              "with the right tokens the sync works: %s %s" % (out, err))
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def scenario_entities():
    tmp = tempfile.mkdtemp(prefix="ib-glpi-ent-")
    data, _ = make_data()
    data["tickets"] = data["tickets"][:8]
    names = {"0": "Root entity", "1": "Root entity > Paris",
             "2": "Root entity > Paris > Site A", "3": "Root entity > Parisien"}
    data["dropdowns"]["entities_id"] = names
    for t in data["tickets"]:
        t["entities_id"] = t["id"] % 4
    mock = Mock(tmp, write_data(tmp, data))
    try:
        cfg = write_config(tmp, mock.port, 'entities = [ "Root entity > Paris" ];')
        rc, out, err = run(cfg, "sync")
        rows, _ = stored(tmp)
        check(rc == 0 and sorted(rows, key=int) == ["1", "2", "5", "6"],
              "entities keeps a entity and its sub-entities only: %s %s" % (sorted(rows), err))
        logs = [r for r in mock.requests() if r["path"].endswith("/Log")]
        check(len(logs) == 4, "no Log is read for the tickets left out (%d)" % len(logs))
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def scenario_purged_meanwhile():
    """Tickets purged between two pages: the next range starts past the new
    end and GLPI answers 400 ERROR_RANGE_EXCEED_TOTAL, which ends the read;
    since rows may have shifted past the cursor, the watermark stays."""
    tmp = tempfile.mkdtemp(prefix="ib-glpi-purge-")
    data, expected = make_data()
    data["tickets"] = data["tickets"][:120]
    mock = Mock(tmp, write_data(tmp, data), purge_after="2:30")
    try:
        cfg = write_config(tmp, mock.port)
        rc, out, err = run(cfg, "sync")
        pages = [r for r in mock.requests() if r["path"] == "/apirest.php/Ticket"]
        check([p["query"]["range"][0] for p in pages] == ["0-49", "50-99", "100-149"],
              "third range asked past the new end: %s" % [p["query"]["range"] for p in pages])
        rows, wm = stored(tmp)
        want = sum(1 for t in data["tickets"][:120] if expected[str(t["id"])] is not None)
        check(rc == 0 and len(rows) == want - sum(
            1 for t in sorted(data["tickets"], key=lambda t: t["date_mod"])[:20]
            if expected[str(t["id"])] is not None),
              "ERROR_RANGE_EXCEED_TOTAL ends the read (rc %d, %d rows): %s"
              % (rc, len(rows), err[-500:]))
        check(wm is None and "purged" in err,
              "rows may have shifted: the watermark does not move (%s), with a warning: %s"
              % (wm, err[-300:]))
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def rejected_ids(tmp):
    con = sqlite3.connect(os.path.join(tmp, "bridge.db"))
    ids = sorted(r[0] for r in con.execute(
        "select id from rejected where source = 'glpi-test'"))
    con.close()
    return ids


def scenario_rejected_refetch():
    """Tickets 30, 40 and 45 have a priority code (7) GLPI's defaults do not
    map: rejected. Once priorities maps it, the next sync -- incremental,
    its pages no longer reach them -- reads them again by id: 30 is stored;
    40 was purged meanwhile (404) and 45 moved out of the API user's reach
    (401 ERROR_RIGHT_MISSING): said on stderr, they stay listed."""
    tmp = tempfile.mkdtemp(prefix="ib-glpi-refetch-")
    data, _ = make_data()
    data["tickets"] = data["tickets"][:120]
    for t in data["tickets"]:
        if t["id"] in (30, 40, 45):
            t["priority"] = 7
            t["date_mod"] = "2026-09-01 10:00:00"   # older than every other change
    mock = Mock(tmp, write_data(tmp, data))
    try:
        cfg = write_config(tmp, mock.port)
        rc, out, err = run(cfg, "sync")
        rows, _ = stored(tmp)
        check(rc == 0 and not {"30", "40", "45"} & set(rows),
              "refetch: tickets 30, 40 and 45 rejected first (rc %d): %s" % (rc, out))
        check("priority 7 is not mapped" in out, "refetch: the reason is given: %s" % out)
        check(rejected_ids(tmp) == ["100", "30", "40", "45", "50"],
              "refetch: five rejected tickets listed: %s" % rejected_ids(tmp))
        mock.stop()
        data["tickets"] = [t for t in data["tickets"] if t["id"] != 40]
        mock = Mock(tmp, write_data(tmp, data), name="glpi2", hidden="45")
        cfg = write_config(tmp, mock.port, 'priorities = ( ("1", "P5"), ("2", "P4"), '
                           '("3", "P3"), ("4", "P2"), ("5", "P1"), ("6", "P1"), '
                           '("7", "P1") );')
        rc, out, err = run(cfg, "sync")
        reqs = mock.requests()
        check(rc == 0, "refetch: second sync succeeds (rc %d): %s" % (rc, err))
        pages = [r["query"]["range"][0] for r in reqs if r["path"] == "/apirest.php/Ticket"]
        check(pages == ["0-49"], "refetch: the second sync is incremental: %s" % pages)
        by_id = sorted({r["path"] for r in reqs
                        if r["path"].startswith("/apirest.php/Ticket/")
                        and not r["path"].endswith("/Log")})
        check(by_id == ["/apirest.php/Ticket/%d" % i for i in (100, 30, 40, 45, 50)],
              "refetch: the rejected tickets are read again by id: %s" % by_id)
        check(all(r["query"].get("expand_dropdowns") == ["true"] for r in reqs
                  if r["path"] == "/apirest.php/Ticket/30"),
              "refetch: by id with the list's expansions")
        logs = sorted(r["path"] for r in reqs if r["path"].endswith("/Log"))
        check("/apirest.php/Ticket/30/Log" in logs and
              not any(p.endswith(("/50/Log", "/100/Log")) for p in logs),
              "refetch: the Log is read for 30, not for tickets rejected anyway: %s" % logs)
        rows, _ = stored(tmp)
        check(rows.get("30", {}).get("priority") == 1,
              "refetch: ticket 30 stored with P1 after the fix: %s" % rows.get("30"))
        check("5 rejected earlier read again, 1 now stored" in out,
              "refetch: the summary says so: %s" % out)
        check("ticket 40" in err and "404" in err and "not found in GLPI" in err,
              "refetch: the 404 of ticket 40 is said on stderr: %s" % err)
        check("ticket 45" in err and "ERROR_RIGHT_MISSING" in err,
              "refetch: the 401 of ticket 45 is said on stderr: %s" % err)
        check("credentials" not in out + err and "FAILED" not in out,
              "refetch: a ticket the user may not read is no credentials "
              "failure: %s %s" % (out, err))
        check(rejected_ids(tmp) == ["100", "40", "45", "50"],
              "refetch: 40 and 45 stay listed, 30 leaves the list: %s" % rejected_ids(tmp))
        check(reqs[-1]["path"] == "/apirest.php/killSession",
              "refetch: the session is ended at the end")
        check(all(r["headers"].get("session-token") for r in reqs
                  if r["path"] != "/apirest.php/initSession"),
              "refetch: every call but initSession carries a Session-Token")
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def scenario_bad_url():
    tmp = tempfile.mkdtemp(prefix="ib-glpi-url-")
    try:
        cfg = write_config(tmp, 1)
        with open(cfg, encoding="utf-8") as f:
            text = f.read().replace("/apirest.php\"", "/api\"")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(text)
        rc, out, err = run(cfg, "sync")
        check(rc != 0 and "/apirest.php" in err, "a url not ending in /apirest.php is refused: %s" % err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    scenario_full_then_incremental()
    scenario_credentials()
    scenario_entities()
    scenario_purged_meanwhile()
    scenario_rejected_refetch()
    scenario_bad_url()
    if FAILURES:
        print("%d failed" % len(FAILURES))
        sys.exit(1)
    print("6 scenarios passed, 0 failed")


if __name__ == "__main__":
    main()
