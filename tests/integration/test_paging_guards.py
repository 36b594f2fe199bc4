#!/usr/bin/python3
"""test_paging_guards.py -- servers that never finish do not hold a sync.

With the real plugins against the loopback mocks told to misbehave
(tests/mock/apps/jira.py and servicenow.py options): a Jira Cloud
nextPageToken that never advances, a Cloud server serving the first page
again under new tokens, a Data Center server ignoring startAt, Data Center
totals that are not counts (1e12, -1, 1e300, "abc"), a ServiceNow server
ignoring the keyset filter (of the ticket table and of sys_audit). Each
ends with exit 1 and a message saying what did not advance, well inside the
subprocess timeout, and the pages committed before stay stored. A changelog
claiming 3e7 histories is read within a bounded number of requests.
Only 127.0.0.1 is contacted.
"""
import json
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

RUN_TIMEOUT_S = 60  # a looping sync is killed here and the case fails
failures = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


def jira_issue(n, same_time=False):
    t = "2026-10-01T09:00:00.000+0200" if same_time else \
        "2026-10-%02dT09:%02d:00.000+0200" % (1 + n // 50, n % 50)
    return {"id": str(500 + n), "key": "PG-%d" % (n + 1), "fields": {
        "summary": "Issue %d" % n, "issuetype": {"name": "Incident"},
        "priority": {"name": "High"},
        "status": {"id": "1", "name": "Open", "statusCategory": {"key": "new"}},
        "created": t, "updated": t, "resolutiondate": None, "components": [],
        "labels": []}, "changelog": {"histories": []}}


def sn_incident(n):
    t = "2026-10-01 09:%02d:00" % n
    return {"sys_id": "%032x" % (0xabc00 + n), "number": "INC%04d" % n,
            "short_description": "Incident %d" % n,
            "state": {"value": "2", "display_value": "In Progress"},
            "priority": {"value": "1", "display_value": "1 - Critical"},
            "opened_at": t, "resolved_at": "", "closed_at": "", "sys_updated_on": t,
            "sys_class_name": "incident",
            "business_service": {"value": "s1", "display_value": "ERP"},
            "assignment_group": {"value": "g1", "display_value": "Desk"}}


def sn_audit(n, doc):
    return {"sys_id": "a%031x" % n, "documentkey": doc, "tablename": "incident",
            "fieldname": "state", "oldvalue": "1", "newvalue": "2",
            "sys_created_on": "2026-10-01 09:%02d:30" % (n % 60)}


def run(tmp, name, source):
    cfg = os.path.join(tmp, name + ".cfg")
    with open(cfg, "w") as f:
        f.write('store = { path = "%s/%s.db"; };\nplugin_dir = "%s";\nsources = ( { %s } );\n'
                % (tmp, name, PLUGIN_DIR, source))
    env = dict(os.environ, U="bot", T="t0k-paging", no_proxy="127.0.0.1,localhost")
    try:
        p = subprocess.run([BIN, "-q", "-c", cfg, "sync"], capture_output=True, text=True,
                           env=env, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, "still running after %d s" % RUN_TIMEOUT_S
    return p.returncode, p.stdout + p.stderr


def stored(tmp, name):
    con = sqlite3.connect(os.path.join(tmp, name + ".db"))
    n = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
    err = con.execute("SELECT error FROM sync_runs ORDER BY rowid DESC LIMIT 1").fetchone()
    con.close()
    return n, err[0] if err else None


def jira_case(tmp, name, issues, options, api, expect_rc, words, expect_stored):
    data = os.path.join(tmp, name + ".json")
    with open(data, "w") as f:
        json.dump({"issues": issues}, f)
    with MockServer(tmp, app="jira", data=data, options=options, name=name,
                    quiet=True) as m:
        rc, out = run(tmp, name, 'name = "jira"; plugin = "jira"; url = "%s"; api = "%s"; '
                      'jql = "project = PG"; page_size = 10; '
                      'auth = { type = "basic"; user_env = "U"; token_env = "T"; }; '
                      'priorities = ( ("High", "P1") );' % (m.url, api))
        seen = m.requests()
    n, err = stored(tmp, name) if rc is not None else (None, None)
    check(rc == expect_rc and all(w in out for w in words),
          "%s: exit %s (want %d) with %s: %s" % (name, rc, expect_rc, words,
                                                 out.strip()[-300:]))
    check(n == expect_stored, "%s: %s tickets stored (want %d: the pages before)"
          % (name, n, expect_stored))
    if expect_rc == 1:
        check(err is not None and words[0] in err,
              "%s: sync_runs.error says it: %s" % (name, err))
    return seen


def main():
    tmp = tempfile.mkdtemp(prefix="ib-paging-")
    try:
        fifty = [jira_issue(n) for n in range(50)]
        jira_case(tmp, "cloud-stuck", fifty, {"api": "cloud", "cloud_paging": "stuck"},
                  "cloud", 1, ["nextPageToken did not advance"], 10)
        jira_case(tmp, "cloud-repeat", fifty, {"api": "cloud", "cloud_paging": "repeat"},
                  "cloud", 1, ["sent the previous page again"], 10)
        same = [jira_issue(n, same_time=True) for n in range(30)]
        jira_case(tmp, "dc-startat", same, {"api": "datacenter", "ignore_startat": "1"},
                  "datacenter", 1, ["sent the previous page again", "startAt=10"], 10)
        for i, total in enumerate(["1e12", "-1", "1e300", '"abc"', "2.5"]):
            jira_case(tmp, "dc-total-%d" % i, fifty,
                      {"api": "datacenter", "dc_total": total, "ignore_startat": "1"},
                      "datacenter", 1, ["is not a count"], 0)
        seen = jira_case(tmp, "changelog-3e7", [jira_issue(0)],
                         {"api": "cloud", "changelog_total": "3e7"}, "cloud", 0,
                         ["claims 30000000 histories"], 1)
        logs = [r for r in seen if r["path"].endswith("/changelog")]
        check(0 < len(logs) <= 100, "changelog of 3e7: %d requests (at most 100)" % len(logs))
        seen = jira_case(tmp, "changelog-1e300", [jira_issue(0)],
                         {"api": "cloud", "changelog_total": "1e300"}, "cloud", 0,
                         ["is not a count"], 1)
        check(not [r for r in seen if r["path"].endswith("/changelog")],
              "changelog total 1e300: no changelog request")

        incidents = [sn_incident(n) for n in range(5)]
        for name, table, expect in (("sn-tickets", "incident", 2), ("sn-audit", "sys_audit", 0)):
            data = os.path.join(tmp, name + ".json")
            with open(data, "w") as f:
                json.dump({"incident": incidents, "cmdb_ci_outage": [], "task_sla": [],
                           "sys_audit": [sn_audit(k, incidents[k % 5]["sys_id"])
                                         for k in range(12)]}, f)
            with MockServer(tmp, app="servicenow", data=data, name=name, quiet=True,
                            options={"repeat_first_page": table}) as m:
                rc, out = run(tmp, name, 'name = "sn"; plugin = "servicenow"; url = "%s"; '
                              'page_size = %d; '
                              'auth = { type = "basic"; user_env = "U"; token_env = "T"; };'
                              % (m.url, 2 if table == "incident" else 3))
            n, err = stored(tmp, name) if rc is not None else (None, None)
            check(rc == 1 and "keyset did not advance" in out and ("table %s" % table) in out,
                  "%s: exit %s, the keyset of %s did not advance: %s"
                  % (name, rc, table, out.strip()[-300:]))
            check(n == expect, "%s: %s tickets stored (want %d)" % (name, n, expect))
            check(err is not None and "keyset did not advance" in err,
                  "%s: sync_runs.error says it: %s" % (name, err))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(failures))
    return 1 if failures else 0


sys.exit(main())
