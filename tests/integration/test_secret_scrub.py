#!/usr/bin/python3
"""test_secret_scrub.py -- no secret of a run reaches an output or the store.

A server (or proxy) on loopback answers every request with a 500 whose body
echoes the Authorization header, the decoded credentials and their
percent-encoded form (tests/mock/apps/leaky.py). The Jira plugin (Basic
auth) and the ServiceNow plugin (bearer token) print that body's message;
with and without -q and -v, neither the token, nor the base64 Basic
credential, nor the encoded token may appear in stdout, stderr or any byte
of the SQLite store (main file and -wal). A token pasted into token_env
instead of a variable name is a configuration error (exit 2) that does not
echo it. Only 127.0.0.1 is contacted.
"""
import base64
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

BIN = os.environ["IB_BIN"]
PLUGIN_DIR = os.environ["IB_PLUGIN_DIR"]
sys.path.insert(0, os.path.join(os.environ["IB_SOURCE_DIR"], "tests", "mock"))
from harness import MockServer  # noqa: E402

USER = "bot@example.com"
# '/' and '+' so that the percent-encoded form differs from the raw one
TOKEN = "tok/" + secrets.token_hex(12) + "+Z"
BASIC = base64.b64encode(("%s:%s" % (USER, TOKEN)).encode()).decode()
FORMS = [TOKEN, BASIC, urllib.parse.quote(TOKEN, safe=""),
         urllib.parse.quote(TOKEN, safe="").lower()]
failures = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


def write_cfg(tmp, url, token_env="SECRET_TOKEN"):
    cfg = os.path.join(tmp, "bridge.cfg")
    with open(cfg, "w") as f:
        f.write("""store = { path = "%s/bridge.db"; };
plugin_dir = "%s";
sources = (
  { name = "jira"; plugin = "jira"; url = "%s"; api = "cloud"; jql = "project = X";
    auth = { type = "basic"; user_env = "SECRET_USER"; token_env = "%s"; }; },
  { name = "snow"; plugin = "servicenow"; url = "%s";
    auth = { type = "bearer"; token_env = "%s"; }; } );
""" % (tmp, PLUGIN_DIR, url, token_env, url, token_env))
    return cfg


def run(cfg, *args):
    env = dict(os.environ, SECRET_USER=USER, SECRET_TOKEN=TOKEN,
               ITSM_BRIDGE_BACKOFF_BASE="0.05", no_proxy="127.0.0.1,localhost")
    p = subprocess.run([BIN, *args, "-c", cfg, "sync"], capture_output=True, text=True,
                       env=env, timeout=120)
    return p.returncode, p.stdout + p.stderr


def leaked(text):
    return [f for f in FORMS if f in text]


def echo_store(tmp):
    import json
    sub = os.path.join(tmp, "echo")
    os.mkdir(sub)
    issue = {"id": "10001", "key": "SUP-1", "fields": {
        "summary": "VPN down, my token is %s (Basic %s)" % (TOKEN, BASIC),
        "issuetype": {"name": "Incident"}, "priority": {"name": "High"},
        "status": {"id": "1", "name": "Open", "statusCategory": {"key": "new"}},
        "created": "2026-10-05T09:00:00.000+0000", "updated": "2026-10-05T09:00:00.000+0000",
        "resolutiondate": None, "components": [{"name": "VPN %s" % TOKEN}], "labels": []},
        "changelog": {"histories": []}}
    data = os.path.join(sub, "issues.json")
    with open(data, "w") as f:
        json.dump({"issues": [issue]}, f)
    with MockServer(sub, app="jira", data=data, options={"api": "cloud"}, quiet=True) as m:
        cfg = os.path.join(sub, "bridge.cfg")
        with open(cfg, "w") as f:
            f.write("""store = { path = "%s/bridge.db"; };
plugin_dir = "%s";
sources = ( { name = "jira"; plugin = "jira"; url = "%s"; api = "cloud"; jql = "project = X";
    auth = { type = "basic"; user_env = "SECRET_USER"; token_env = "SECRET_TOKEN"; };
    priorities = ( ("High", "P1") ); } );
""" % (sub, PLUGIN_DIR, m.url))
        rc, out = run(cfg)
    check(rc == 0, "echoed into a ticket: the sync stores it (rc %d): %s" % (rc, out[-300:]))
    blobs = b""
    for f in os.listdir(sub):
        if f.startswith("bridge.db"):
            with open(os.path.join(sub, f), "rb") as fh:
                blobs += fh.read()
    check(b"VPN down, my token is [redacted]" in blobs, "the title is stored, scrubbed")
    bad = [x for x in FORMS if x.encode() in blobs]
    check(not bad, "no secret form in the store's ticket fields (%s)" % bad)


def main():
    tmp = tempfile.mkdtemp(prefix="ib-scrub-")
    try:
        with MockServer(tmp, app="leaky", quiet=True) as m:
            cfg = write_cfg(tmp, m.url)
            for flags in ([], ["-q"], ["-v"]):
                rc, out = run(cfg, *flags)
                check(rc == 1, "%s: both sources fail on the 500 (rc %d)" % (flags, rc))
                check("proxy error" in out, "%s: the server's message is still shown" % flags)
                check("[redacted]" in out, "%s: the secrets are marked [redacted]" % flags)
                check(not leaked(out), "%s: no secret form in stdout/stderr (%s)"
                      % (flags, [out[max(0, out.find(f) - 80):out.find(f) + 40]
                                 for f in leaked(out)]))
            seen = m.requests()
            check(any((r["headers"].get("authorization") or "").endswith(BASIC) for r in seen),
                  "the mock really received the Basic credential")
        files = [f for f in os.listdir(tmp) if f.startswith("bridge.db")]
        check(files, "the store exists (%s)" % files)
        for f in files:
            with open(os.path.join(tmp, f), "rb") as fh:
                blob = fh.read()
            bad = [x for x in FORMS if x.encode() in blob]
            check(not bad, "no secret form in store file %s (%s)" % (f, bad))

        # A server that echoes the token into a ticket's fields: the ticket is
        # stored, its title scrubbed.
        echo_store(tmp)

        # A token pasted where a variable name belongs: refused, not echoed.
        os.unlink(cfg)
        for f in files:
            os.unlink(os.path.join(tmp, f))
        cfg = write_cfg(tmp, "https://127.0.0.1:9", token_env=TOKEN)
        for cmd in (["sync"], ["check-config"]):
            env = dict(os.environ, SECRET_USER=USER)
            p = subprocess.run([BIN, "-c", cfg, *cmd], capture_output=True, text=True,
                               env=env, timeout=60)
            out = p.stdout + p.stderr
            check(p.returncode == 2, "%s: token in token_env is a configuration error (rc %d)"
                  % (cmd[0], p.returncode))
            check("auth.token_env must name an environment variable" in out and
                  "bridge.cfg:" in out, "%s: the message names the key and file:line: %s"
                  % (cmd[0], out.strip()[-200:]))
            check(not leaked(out), "%s: the pasted token is not echoed" % cmd[0])
        check(not any(f.startswith("bridge.db") for f in os.listdir(tmp)),
              "nothing was stored for the refused configuration")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(failures))
    return 1 if failures else 0


sys.exit(main())
