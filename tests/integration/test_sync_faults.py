#!/usr/bin/python3
"""test_sync_faults.py -- the sync engine against a misbehaving server.

With the real jira.so and the loopback mock: a 500 and invalid JSON in the
middle of a sync fail that source with a clear message while the pages
before stay committed and the watermark is never ahead of the data, and
the next sync completes to exactly the store of an undisturbed run; a
truncated body and a stalled response are retried; a self-signed server is
refused unless its CA is configured; plain http:// to a non-loopback host is
refused before any traffic; the token of the run is never found in any
output, log or store file. Only 127.0.0.1 is contacted.
"""
import base64
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ["IB_BIN"]
PLUGIN_DIR = os.environ["IB_PLUGIN_DIR"]
sys.path.insert(0, os.path.join(os.environ["IB_SOURCE_DIR"], "tests", "mock"))
from harness import MockServer  # noqa: E402
USER = "bot@example.com"
TOKEN = "tok-" + secrets.token_hex(16)
SEEN_OUTPUT = []  # everything the binary printed, searched for the token
failures = []
passed = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    (passed if cond else failures).append(what)


def issue(n):
    day, minute = 1 + n // 40, n % 40
    t = "2026-10-%02dT09:%02d:00.000+0200" % (day, minute)
    return {"id": str(30000 + n), "key": "OPS-%d" % n, "fields": {
        "summary": "Issue %d" % n, "issuetype": {"name": "Incident"},
        "priority": {"name": "High"},
        "status": {"id": "1", "name": "Open", "statusCategory": {"key": "new"}},
        "created": t, "updated": t, "resolutiondate": None,
        "components": [], "labels": []}, "changelog": {"histories": []}}


def jira_mock(tmp, faults=None, tls=False):
    data = os.path.join(tmp, "issues.json")
    with open(data, "w") as f:
        json.dump({"issues": [issue(n) for n in range(50)]}, f)
    return MockServer(tmp, app="jira", data=data, options={"api": "cloud"},
                      faults=faults, tls=tls, quiet=True)


def write_cfg(tmp, db, url, extra=""):
    cfg = os.path.join(tmp, db + ".cfg")
    with open(cfg, "w") as f:
        f.write("""store = { path = "%s/%s.db"; };
plugin_dir = "%s";
sources = ( { name = "ops"; plugin = "jira"; url = "%s"; api = "cloud"; page_size = 10;
    auth = { type = "basic"; user_env = "JIRA_USER"; token_env = "JIRA_TOKEN"; };
    priorities = ( ("High", "P1") ); %s } );
""" % (tmp, db, PLUGIN_DIR, url, extra))
    return cfg


def run(cfg, *args, env_extra=None):
    env = dict(os.environ, JIRA_USER=USER, JIRA_TOKEN=TOKEN,
               ITSM_BRIDGE_BACKOFF_BASE="0.05", no_proxy="127.0.0.1,localhost")
    env.update(env_extra or {})
    p = subprocess.run([BIN, "-v", "-c", cfg, *args], capture_output=True, text=True,
                       env=env, timeout=120)
    SEEN_OUTPUT.append(p.stdout + p.stderr)
    return p.returncode, p.stdout, p.stderr


def store(tmp, db):
    con = sqlite3.connect(os.path.join(tmp, db + ".db"))
    tickets = con.execute("SELECT * FROM tickets ORDER BY source, id").fetchall()
    wm = con.execute("SELECT watermark FROM sync_state WHERE source='ops'").fetchone()
    newest = con.execute("SELECT max(updated_at) FROM tickets").fetchone()[0]
    con.close()
    return tickets, (wm[0] if wm else None), newest


def interrupted(tmp, name, fault, message):
    """A fault on the 3rd search page: 2 pages stay, watermark not ahead."""
    with jira_mock(tmp, [dict(fault, path="/rest/api/3/search/jql", after=2)]) as m:
        rc, out, err = run(write_cfg(tmp, name, m.url), "sync")
    check(rc == 1 and message in err, "%s: source fails with a clear message (rc %d): %s"
          % (name, rc, err.strip().splitlines()[-1:] if err.strip() else ""))
    tickets, wm, newest = store(tmp, name)
    check(len(tickets) == 20, "%s: the two pages before the fault stay committed (%d)"
          % (name, len(tickets)))
    check(wm is not None and wm <= newest, "%s: watermark %s not ahead of data %s"
          % (name, wm, newest))
    with jira_mock(tmp) as m:
        rc, out, err = run(write_cfg(tmp, name, m.url), "sync")
    check(rc == 0, "%s: the next sync succeeds" % name)
    return store(tmp, name)[0]


def main():
    tmp = tempfile.mkdtemp(prefix="ib-faults-")
    try:
        with jira_mock(tmp) as m:
            rc, out, err = run(write_cfg(tmp, "reference", m.url), "sync")
        reference = store(tmp, "reference")[0]
        check(rc == 0 and len(reference) == 50, "undisturbed sync stores 50 issues")

        got = interrupted(tmp, "http500", {"status": 500, "body": "oops"}, "HTTP 500")
        check(got == reference, "after a 500 mid-sync, re-sync gives the undisturbed store")
        got = interrupted(tmp, "badjson", {"invalid_json": True}, "not valid JSON")
        check(got == reference, "after invalid JSON mid-sync, re-sync gives the undisturbed store")

        for name, fault, extra in (("truncated", {"truncate": True}, ""),
                                   ("stall", {"stall_s": 3}, 'timeout = "1s";')):
            with jira_mock(tmp, [dict(fault, path="/rest/api/3/search/jql", after=1)]) as m:
                rc, out, err = run(write_cfg(tmp, name, m.url, extra), "sync")
            check(rc == 0 and store(tmp, name)[0] == reference,
                  "%s response is retried and the sync completes (rc %d)" % (name, rc))

        # TLS: a self-signed server is refused unless its CA is configured.
        with jira_mock(tmp, tls=True) as m:
            rc, out, err = run(write_cfg(tmp, "tls-refused", m.url), "sync")
            check(rc == 1 and "certificate" in err.lower(),
                  "self-signed server refused without ca_file: %s" % err.strip()[-200:])
            rc, out, err = run(write_cfg(tmp, "tls-ok", m.url, 'ca_file = "%s";' % m.cert),
                               "sync")
            check(rc == 0 and len(store(tmp, "tls-ok")[0]) == 50,
                  "self-signed server accepted with its CA in ca_file")

        # Should the refusal ever regress, the proxy keeps the request on
        # loopback (a closed port), and no name is resolved.
        rc, out, err = run(write_cfg(tmp, "plain", "http://jira.example.invalid"), "sync",
                           env_extra={"http_proxy": "http://127.0.0.1:9", "no_proxy": ""})
        check(rc == 2 and "plain http://" in err,
              "plain http:// to a non-loopback host refused: %s" % err.strip()[-200:])

        basic = base64.b64encode(("%s:%s" % (USER, TOKEN)).encode()).decode()
        leaks = [i for i, text in enumerate(SEEN_OUTPUT) if TOKEN in text or basic in text]
        check(not leaks, "the token is in no output of %d runs (%s)" % (len(SEEN_OUTPUT), leaks))
        for f in os.listdir(tmp):
            if ".db" in f:
                with open(os.path.join(tmp, f), "rb") as fh:
                    blob = fh.read()
                check(TOKEN.encode() not in blob and basic.encode() not in blob,
                      "the token is not in store file %s" % f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (len(passed), len(failures)))
    return 1 if failures else 0


sys.exit(main())
