#!/usr/bin/python3
"""test_jira_sync.py -- the real jira.so against the loopback mock Jira.

Covers: Cloud (nextPageToken) and Data Center (startAt, re-queried) paging
with a server that returns fewer issues than asked; an issue updated during
the sync is not skipped; a changelog longer than what the search embeds
(and than one changelog page); an unmapped priority reported with its key;
429 then success; 401 with a clear message; and `kpi --format json` against
an independent implementation of SPEC §6 over the same issues.
Must not reach anything but 127.0.0.1.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone

BIN = os.environ["IB_BIN"]
PLUGIN_DIR = os.environ["IB_PLUGIN_DIR"]
SOURCE_DIR = os.environ["IB_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "mock"))
from harness import MockServer  # noqa: E402
PLUS2 = timezone(timedelta(hours=2))
FAILURES = []

# ---- the issues (times +0200, October 2026) -----------------------------

STATUS = {"Open": ("1", "new"), "In Progress": ("3", "indeterminate"),
          "Waiting for customer": ("10001", "indeterminate"),
          "Resolved": ("5", "done"), "Reopened": ("4", "indeterminate")}
PAUSE = "Waiting for customer"


def at(day, hh, mm=0):
    return datetime(2026, 10, day, hh, mm, tzinfo=PLUS2)


def jtime(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000%z")


def sla_field(breached, completed):
    cyc = {"breached": breached}
    if completed:
        return {"completedCycles": [cyc], "ongoingCycle": None}
    return {"completedCycles": [], "ongoingCycle": cyc}


# key, priority, created, [(time, to_status)], reported response verdict
SPECS = [
    ("SUP-1", "High", at(5, 9), [(at(5, 9, 20), "In Progress"), (at(5, 11), "Resolved")],
     sla_field(False, True)),
    ("SUP-2", "Medium", at(5, 10), [(at(5, 10, 10), PAUSE), (at(5, 12, 10), "In Progress"),
                                    (at(5, 14, 10), "Resolved")], None),
    ("SUP-3", "High", at(6, 8), [(at(6, 8, 45), "In Progress"), (at(6, 9), PAUSE),
                                 (at(6, 10), "In Progress"), (at(6, 11), "Resolved"),
                                 (at(6, 13), "Reopened"), (at(6, 13, 30), "In Progress"),
                                 (at(6, 16), "Resolved")], None),
    ("SUP-4", "Medium", at(7, 9), [], None),
    ("SUP-5", "High", at(8, 9), [(at(8, 11), "In Progress")], sla_field(False, False)),
    ("SUP-6", "Urgent", at(8, 10), [], None),
]


def make_issue(n, key, prio, created, changes, reported):
    histories, cur = [], "Open"
    for i, (t, to) in enumerate(changes):
        histories.append({"id": str(1000 * n + i), "created": jtime(t), "items": [
            {"field": "status", "fieldtype": "jira", "fieldId": "status",
             "from": STATUS[cur][0], "fromString": cur, "to": STATUS[to][0], "toString": to}]})
        # noise the plugin must ignore
        histories.append({"id": str(1000 * n + 500 + i), "created": jtime(t), "items": [
            {"field": "assignee", "fieldtype": "jira", "fieldId": "assignee",
             "from": None, "fromString": None, "to": "x", "toString": "Agent"}]})
        cur = to
    updated = changes[-1][0] if changes else created
    fields = {"summary": "Ticket " + key, "issuetype": {"name": "[System] Incident"},
              "priority": {"name": prio},
              "status": {"id": STATUS[cur][0], "name": cur,
                         "statusCategory": {"key": STATUS[cur][1]}},
              "created": jtime(created), "updated": jtime(updated),
              "resolutiondate": jtime(changes[-1][0]) if cur == "Resolved" else None,
              "components": [{"name": "ERP"}], "labels": []}
    if reported is not None:
        fields["customfield_10030"] = reported
    return {"id": str(20000 + n), "key": key, "fields": fields,
            "changelog": {"histories": histories}}


ISSUES = [make_issue(n, *spec) for n, spec in enumerate(SPECS, 1)]

# ---- harness --------------------------------------------------------------


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what)


def Mock(tmp, options, faults=None):
    """The mock Jira serving ISSUES (tests/mock/apps/jira.py)."""
    data = os.path.join(tmp, "issues.json")
    with open(data, "w", encoding="utf-8") as f:
        json.dump({"issues": ISSUES}, f)
    return MockServer(tmp, app="jira", data=data, options=options, faults=faults)


def write_config(tmp, port, api, page_size, extra=""):
    cfg = os.path.join(tmp, "bridge.cfg")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write("""
store = { path = "%s/bridge.db"; };
plugin_dir = "%s";
calendars = ( { name = "24x7"; timezone = "UTC"; } );
sources = ( { name = "jira-test"; plugin = "jira"; url = "http://127.0.0.1:%d";
    api = "%s"; jql = "project = SUP"; page_size = %d;
    auth = { type = "basic"; user_env = "JIRA_USER"; token_env = "JIRA_TOKEN"; };
    priorities = ( ("High", "P1"), ("Medium", "P2"), ("Low", "P3") );
    pause_statuses = [ "Waiting for customer" ];
    sla_fields = { first_response = "customfield_10030"; };
    %s } );
slas = ( { name = "support"; calendar = "24x7";
    targets = ( { priority = "P1"; first_response = "30m"; resolution = "4h"; },
                { priority = "P2"; first_response = "1h";  resolution = "8h"; } ); } );
""" % (tmp, PLUGIN_DIR, port, api, page_size, extra))
    return cfg


def run(cfg, *args):
    env = dict(os.environ, JIRA_USER="bot@example.com", JIRA_TOKEN="s3cret")
    p = subprocess.run([BIN, "-c", cfg] + list(args), capture_output=True, text=True,
                       env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def status_column(cfg, column):
    rc, out, err = run(cfg, "status")
    lines = out.splitlines()
    # A column ends where its header ends (numbers are right-aligned).
    end = lines[0].index(column) + len(column)
    for line in lines[1:]:
        if line.startswith("jira-test"):
            return int(line[:end].split()[-1])
    raise AssertionError("no status line for jira-test: " + out + err)


def stored_tickets(cfg):
    return status_column(cfg, "TICKETS")


def fresh_tmp(name):
    tmp = tempfile.mkdtemp(prefix="ib-jira-%s-" % name)
    return tmp


# ---- scenarios ------------------------------------------------------------


def scenario_paging(api):
    tmp = fresh_tmp(api)
    # page_cap 2 < page_size 3: the server returns fewer than asked. SUP-1
    # (seen on page 1) is updated before the 2nd search: offsets would now
    # skip one issue. The embedded changelog holds 2 histories and the
    # changelog API gives 3 per call, so SUP-3 (14) needs several calls.
    mock = Mock(tmp, {"api": api, "page_cap": 2, "touch": "SUP-1@2",
                      "changelog_embed": 2, "changelog_cap": 3})
    try:
        cfg = write_config(tmp, mock.port, api, 3)
        rc, out, err = run(cfg, "sync")
        reqs = mock.requests()
        check(rc in (0, 1), "%s: sync ran (rc %d): %s" % (api, rc, err))
        check('SUP-6' in out + err and 'unmapped priority "Urgent"' in out + err,
              "%s: unmapped priority reported with its key: %s" % (api, err))
        check(stored_tickets(cfg) == 5, "%s: 5 of 6 issues stored (SUP-6 rejected)" % api)
        search_path = "/rest/api/3/search/jql" if api == "cloud" else "/rest/api/2/search"
        searches = [r for r in reqs if r["path"] == search_path]
        check(len(searches) >= 3, "%s: several search pages (%d)" % (api, len(searches)))
        jql0 = searches[0]["query"]["jql"][0]
        check("updated >=" not in jql0 and "ORDER BY updated ASC" in jql0,
              "%s: first sync has no updated clause: %s" % (api, jql0))
        if api == "cloud":
            check(any("nextPageToken" in r["query"] for r in searches),
                  "cloud: pages follow nextPageToken")
        else:
            check(any("updated >=" in r["query"]["jql"][0] for r in searches[1:]),
                  "datacenter: later pages re-query from the last updated seen")
        cl = [r for r in reqs if r["path"].endswith("/SUP-3/changelog")]
        check(len(cl) >= 5, "%s: SUP-3's 14 histories paged (%d calls)" % (api, len(cl)))
        check(all(r["headers"].get("authorization", "").startswith("Basic ") for r in reqs),
              "%s: every request authenticated" % api)
        # Second sync is incremental: epoch milliseconds.
        rc, out, err = run(cfg, "sync")
        jql = [r for r in mock.requests() if r["path"] == search_path][len(searches)]
        check("updated >= " in jql["query"]["jql"][0],
              "%s: incremental JQL uses updated >= <ms>: %s" % (api, jql["query"]["jql"][0]))
        check(stored_tickets(cfg) == 5, "%s: second sync is idempotent" % api)
        if api == "datacenter":
            scenario_kpi(cfg)
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def scenario_rejected_refetch(api):
    """SUP-6 is rejected for its unmapped priority; once the mapping is
    fixed, the next incremental sync (whose JQL no longer reaches SUP-6)
    reads it again by id and stores it: no --full needed."""
    tmp = fresh_tmp("refetch-" + api)
    mock = Mock(tmp, {"api": api})
    try:
        cfg = write_config(tmp, mock.port, api, 100)
        rc, out, err = run(cfg, "sync")
        check(stored_tickets(cfg) == 5, "%s refetch: SUP-6 rejected first" % api)
        check(status_column(cfg, "REJECTED") == 1,
              "%s refetch: status counts 1 rejected record" % api)
        with open(cfg, encoding="utf-8") as f:
            text = f.read()
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(text.replace('("Low", "P3")', '("Low", "P3"), ("Urgent", "P1")'))
        n_before = len(mock.requests())
        rc, out, err = run(cfg, "sync")
        check(rc == 0, "%s refetch: second sync succeeds (rc %d): %s" % (api, rc, err))
        later = mock.requests()[n_before:]
        search_path = "/rest/api/3/search/jql" if api == "cloud" else "/rest/api/2/search"
        jqls = [r["query"]["jql"][0] for r in later if r["path"] == search_path]
        check(jqls and all("updated >=" in q for q in jqls),
              "%s refetch: the second sync is incremental: %s" % (api, jqls))
        check(any(r["path"].endswith("/issue/20006") for r in later),
              "%s refetch: SUP-6 read again by id" % api)
        check(stored_tickets(cfg) == 6, "%s refetch: SUP-6 stored after the fix" % api)
        check("1 now stored" in out, "%s refetch: summary says so: %s" % (api, out))
        check(status_column(cfg, "REJECTED") == 0, "%s refetch: nothing left rejected" % api)
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def scenario_429():
    tmp = fresh_tmp("429")
    faults = [{"path": "/rest/api/3/search/jql", "status": 429,
               "headers": {"Retry-After": "1"}, "times": 2}]
    mock = Mock(tmp, {"api": "cloud"}, faults)
    try:
        cfg = write_config(tmp, mock.port, "cloud", 100)
        rc, out, err = run(cfg, "sync")
        reqs = [r for r in mock.requests() if r["path"] == "/rest/api/3/search/jql"]
        check(sum(1 for r in reqs if r["fault"] == "status") == 2, "429: two refusals seen")
        check(len(reqs) >= 3, "429: retried until success")
        check(stored_tickets(cfg) == 5, "429: issues stored after the retries")
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def scenario_401():
    tmp = fresh_tmp("401")
    faults = [{"path": "/rest", "status": 401, "times": -1,
               "body": "{\"errorMessages\":[\"You are not authenticated.\"]}"}]
    mock = Mock(tmp, {"api": "cloud"}, faults)
    try:
        cfg = write_config(tmp, mock.port, "cloud", 100)
        rc, out, err = run(cfg, "sync")
        check(rc == 1, "401: sync fails with status 1 (got %d)" % rc)
        check("jira-test" in err and "401" in err,
              "401: one clear message naming the source and the status: %s" % err)
        check("$JIRA_USER/$JIRA_TOKEN (auth.user_env/auth.token_env" in err,
              "401: the message names the variables and their keys: %s" % err)
        check(len(mock.requests()) <= 2, "401: not retried")
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)


# ---- SPEC §6 recomputed independently over SPECS (24x7 calendar) ---------

TARGETS = {"P1": (1800, 14400), "P2": (3600, 28800)}
PRIO = {"High": "P1", "Medium": "P2"}


def expected_kpis(frm, to, as_of):
    end = min(to, as_of)
    fr = {p: {"met": 0, "breached": 0, "pending": 0, "d": [], "disagree": 0} for p in TARGETS}
    rs = {p: {"met": 0, "breached": 0, "d": []} for p in TARGETS}
    for key, prio, created, changes, reported in SPECS:
        p = PRIO.get(prio)
        if p is None:
            continue
        fr_t, res_t = TARGETS[p]
        first = changes[0][0] if changes else None
        resolved = changes[-1][0] if changes and changes[-1][1] == "Resolved" else None
        pauses, start, cur = [], None, "Open"
        for t, to_status in changes:
            if to_status == PAUSE:
                start = t
            elif cur == PAUSE:
                pauses.append((start, t))
            cur = to_status
        if frm <= created < to:
            r = first or resolved
            if r is not None:
                d = (r - created).total_seconds()
                verdict = "met" if d <= fr_t else "breached"
                fr[p]["d"].append(d)
            else:
                # SPEC §6: only pending tickets leave the statistics; an
                # unanswered breach counts with its open time so far.
                e = (end - created).total_seconds()
                verdict = "breached" if e > fr_t else "pending"
                if verdict == "breached":
                    fr[p]["d"].append(e)
            fr[p][verdict] += 1
            if reported is not None and verdict != "pending":
                cycles = reported["completedCycles"]
                rb = (cycles[-1] if cycles else reported["ongoingCycle"])["breached"]
                fr[p]["disagree"] += int(rb != (verdict == "breached"))
        if resolved is not None and frm <= resolved < to:
            paused = sum((min(b, resolved) - max(a, created)).total_seconds()
                         for a, b in pauses if min(b, resolved) > max(a, created))
            d = (resolved - created).total_seconds() - paused
            rs[p]["met" if d <= res_t else "breached"] += 1
            rs[p]["d"].append(d)
    return fr, rs


def scenario_kpi(cfg):
    frm = datetime(2026, 10, 1, tzinfo=timezone.utc)
    to = datetime(2026, 11, 1, tzinfo=timezone.utc)
    rc, out, err = run(cfg, "kpi", "--from", "2026-10-01T00:00:00Z", "--to",
                       "2026-11-01T00:00:00Z", "--as-of", "2026-11-01T00:00:00Z",
                       "--format", "json")
    check(rc == 0, "kpi ran: %s" % err)
    if rc != 0:
        return
    doc = json.loads(out)
    fr, rs = expected_kpis(frm, to, to)
    sla = doc["slas"][0]
    for row in sla["by_priority"]:
        p = row["priority"]
        if p not in TARGETS:
            continue
        got, want = row["first_response"], fr[p]
        for k in ("met", "breached", "pending"):
            check(got[k] == want[k], "kpi %s first_response.%s: %s != %s" % (p, k, got[k], want[k]))
        mean = sum(want["d"]) / len(want["d"]) if want["d"] else None
        check(got["mean_s"] == mean or abs(got["mean_s"] - mean) < 1e-6,
              "kpi %s first_response.mean_s: %s != %s" % (p, got["mean_s"], mean))
        check(got.get("reported_disagreements") == want["disagree"],
              "kpi %s first_response.reported_disagreements: %s != %s"
              % (p, got.get("reported_disagreements"), want["disagree"]))
        got, want = row["resolution"], rs[p]
        for k in ("met", "breached"):
            check(got[k] == want[k], "kpi %s resolution.%s: %s != %s" % (p, k, got[k], want[k]))
        mttr = sum(want["d"]) / len(want["d"]) if want["d"] else None
        check(got["mttr_s"] == mttr or abs(got["mttr_s"] - mttr) < 1e-6,
              "kpi %s resolution.mttr_s: %s != %s" % (p, got["mttr_s"], mttr))


def main():
    if not os.path.exists(os.path.join(PLUGIN_DIR, "jira.so")):
        print("jira.so not built")
        return 1
    scenario_paging("cloud")
    scenario_paging("datacenter")
    scenario_rejected_refetch("cloud")
    scenario_rejected_refetch("datacenter")
    scenario_429()
    scenario_401()
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        return 1
    print("all jira integration checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
