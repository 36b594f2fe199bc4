#!/usr/bin/python3
"""test_auth_header.py -- the host's custom-header API keys (auth type
"header") end to end: a real plugin (servicenow.so) against the loopback
mock sends the key in the configured header on every request and nowhere
else, -v never shows it, an unset variable is named, and check-config
refuses half-written header auth with its line.
Must not reach anything but 127.0.0.1.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ["IB_BIN"]
PLUGIN_DIR = os.environ["IB_PLUGIN_DIR"]
SOURCE_DIR = os.environ["IB_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "mock"))
from harness import MockServer  # noqa: E402

KEY = "portal-key-5d1e9a77c0b2"
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what)


def write_config(tmp, port, auth):
    cfg = os.path.join(tmp, "bridge.cfg")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write("""store = { path = "%s/bridge.db"; };
plugin_dir = "%s";
sources = ( { name = "sn"; plugin = "servicenow"; url = "http://127.0.0.1:%d";
    %s } );
""" % (tmp, PLUGIN_DIR, port, auth))
    return cfg


def run(cfg, *args, key=KEY):
    env = dict(os.environ)
    env.pop("SN_KEY", None)
    if key is not None:
        env["SN_KEY"] = key
    p = subprocess.run([BIN, "-c", cfg] + list(args), capture_output=True, text=True,
                       env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def main():
    tmp = tempfile.mkdtemp(prefix="ib-authheader-")
    data = os.path.join(tmp, "sn.json")
    with open(data, "w", encoding="utf-8") as f:
        json.dump({"incident": [{"sys_id": "a" * 32, "number": "INC0000001",
                                 "short_description": "x", "state": "2", "priority": "3",
                                 "opened_at": "2026-10-01 09:00:00",
                                 "sys_updated_on": "2026-10-01 10:00:00",
                                 "sys_class_name": "incident"}], "sys_audit": []}, f)
    mock = MockServer(tmp, app="servicenow", data=data)
    try:
        auth = 'auth = { type = "header"; name = "X-Portal-Key"; value_env = "SN_KEY"; };'
        cfg = write_config(tmp, mock.port, auth)
        rc, out, err = run(cfg, "-v", "sync")
        reqs = mock.requests()
        check(rc == 0 and "1 new" in out, "sync with a header key works: %s %s" % (out, err[-800:]))
        check(reqs and all(r["headers"].get("x-portal-key") == KEY for r in reqs),
              "every request carries the key in X-Portal-Key")
        check(all("authorization" not in r["headers"] for r in reqs),
              "no Authorization header is sent")
        check(KEY not in out + err, "the key never appears in -v output")
        check("> X-Portal-Key: [redacted]" in err, "-v shows the header redacted")

        rc, out, err = run(cfg, "sync", key=None)
        check(rc != 0 and "SN_KEY" in out + err, "an unset key variable is named: %s" % err)

        for bad, want in [
                ('auth = { type = "header"; value_env = "SN_KEY"; };', "header auth is"),
                ('auth = { type = "header"; name = "X Key"; value_env = "SN_KEY"; };',
                 "not a header name"),
                ('auth = { type = "basic"; user_env = "U"; token_env = "T"; name = "X"; };',
                 "go with type")]:
            cfg = write_config(tmp, mock.port, bad)
            rc, out, err = run(cfg, "check-config")
            check(rc == 2 and want in err and "bridge.cfg:" in err,
                  "check-config refuses %s with its line: %s" % (bad, err))
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print("%d failed" % len(FAILURES))
        sys.exit(1)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
