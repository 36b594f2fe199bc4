#!/usr/bin/python3
"""test_url_safety.py -- source URLs never send credentials or data in clear.

A url without a scheme ("host:port", which libcurl would read as plain
http), plain http:// to a non-loopback host, and credentials inside the URL
are configuration errors with file:line and exit 2, in check-config and in
sync, before any traffic. An https source whose server answers
"302 Location: http://..." is not followed: the sync fails with a message
naming the refused downgrade, and the plain-http server receives nothing.
Only 127.0.0.1 is contacted.
"""
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

failures = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


def write_cfg(tmp, url, extra=""):
    cfg = os.path.join(tmp, "bridge.cfg")
    with open(cfg, "w") as f:
        f.write("""store = { path = "%s/bridge.db"; };
plugin_dir = "%s";
sources = ( { name = "ops"; plugin = "jira"; api = "cloud"; jql = "project = OPS";
    url = "%s";
    auth = { type = "basic"; user_env = "JIRA_USER"; token_env = "JIRA_TOKEN"; };
    %s } );
""" % (tmp, PLUGIN_DIR, url, extra))
    return cfg


def run(cfg, *args):
    env = dict(os.environ, JIRA_USER="bot@example.com", JIRA_TOKEN="t0k-url-safety",
               no_proxy="127.0.0.1,localhost",
               # should a refusal regress, a proxy keeps traffic on loopback
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
    p = subprocess.run([BIN, "-c", cfg, *args], capture_output=True, text=True, env=env,
                       timeout=60)
    return p.returncode, p.stdout + p.stderr


def issue(n):
    t = "2026-10-01T09:%02d:00.000+0200" % n
    return {"id": str(100 + n), "key": "OPS-%d" % n, "fields": {
        "summary": "Issue %d" % n, "issuetype": {"name": "Incident"},
        "priority": {"name": "High"},
        "status": {"id": "1", "name": "Open", "statusCategory": {"key": "new"}},
        "created": t, "updated": t, "resolutiondate": None, "components": [],
        "labels": []}, "changelog": {"histories": []}}


def main():
    tmp = tempfile.mkdtemp(prefix="ib-url-")
    try:
        for url, words in (("127.0.0.1:8443", "has no https:// scheme"),
                           ("jira.example.com:443", "has no https:// scheme"),
                           ("http://jira.example.invalid", "plain http://"),
                           ("https://bob:hunter22@jira.example.invalid", "carries credentials")):
            cfg = write_cfg(tmp, url)
            for cmd in ("check-config", "sync"):
                rc, out = run(cfg, cmd)
                check(rc == 2 and words in out and "bridge.cfg:" in out,
                      "%s: url = %r refused with file:line (rc %d): %s"
                      % (cmd, url, rc, out.strip()[-160:]))
                check("hunter22" not in out, "%s: url credentials not echoed" % cmd)
        check(not os.path.exists(os.path.join(tmp, "bridge.db")),
              "nothing stored for refused URLs")

        data = os.path.join(tmp, "issues.json")
        with open(data, "w") as f:
            json.dump({"issues": [issue(n) for n in range(5)]}, f)
        with MockServer(tmp, app="jira", data=data, options={"api": "cloud"}, name="plain",
                        quiet=True) as plain:
            target = plain.url + "/rest/api/3/search/jql?jql=project%3DOPS"
            faults = [{"path": "/rest/api/3/search/jql", "status": 302, "times": -1,
                       "headers": {"Location": target}}]
            with MockServer(tmp, app="jira", data=data, options={"api": "cloud"},
                            faults=faults, tls=True, name="tls", quiet=True) as secure:
                cfg = write_cfg(tmp, secure.url, 'ca_file = "%s";' % secure.cert)
                rc, out = run(cfg, "-v", "sync")
                check(rc == 1, "redirect to http://: the sync fails (rc %d)" % rc)
                check("redirected to http://127.0.0.1" in out and "not https" in out,
                      "the message names the refused downgrade: %s" % out.strip()[-300:])
                check(any(r["path"] == "/rest/api/3/search/jql" for r in secure.requests()),
                      "the https server was asked")
            check(plain.requests() == [],
                  "the plain http server received no request (%d)" % len(plain.requests()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(failures))
    return 1 if failures else 0


sys.exit(main())
