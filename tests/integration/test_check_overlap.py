#!/usr/bin/env python3
"""Two `check` runs that overlap send each notification once (the store's
notification lock, ib_store_lock_notify), and a running sync does not stop
a check from notifying (the locks are independent).

With a loopback webhook (tests/mock/apps/webhook.py) that holds its first
two answers for 2 s: check #1 starts and posts; while it waits, check #2
prints the alert (exit 3), says on stderr that another check (#1's pid) is
sending, and posts nothing; #1 ends; check #3 sends nothing new (the state
#1 wrote is read). The same overlap once the repeat is due, the second
check with -q --format json: the JSON is printed, stderr stays empty. Then
a sync of a Jira source (loopback mock holding its first answer for 3 s)
holds the sync lock — a second sync is refused — and a check run meanwhile
posts its message.

Runs on SQLite by default; with IB_OVERLAP_PG_URL set
(test_check_overlap_pg.sh) on the PostgreSQL store.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

BIN = os.environ["IB_BIN"]
PLUGINS = os.environ["IB_PLUGIN_DIR"]
PG_URL = os.environ.get("IB_OVERLAP_PG_URL")
sys.path.insert(0, os.path.join(os.environ["IB_SOURCE_DIR"], "tests", "mock"))
sys.path.insert(0, os.path.join(os.environ["IB_SOURCE_DIR"], "tests", "support"))
from harness import MockServer  # noqa: E402
from ib_stores import Postgres, Sqlite  # noqa: E402

HOLD_MS = 2000      # the webhook's first two answers
SYNC_HOLD_MS = 3000  # the Jira mock's first answer
T0 = "2026-10-20T09:10:00Z"
T0_5 = "2026-10-20T09:15:00Z"
T0_61 = "2026-10-20T10:11:00Z"   # repeat (1h) due
T0_122 = "2026-10-20T11:12:00Z"  # due again
failures = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


ENV = dict(os.environ, JIRA_USER="bot@example.com", JIRA_TOKEN="tok-overlap",
           ITSM_BRIDGE_BACKOFF_BASE="0.01",
           no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost",
           http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")


def argv(cfg, *args):
    return [BIN, "-c", cfg, "--plugin-dir", PLUGINS, *args]


def start(cfg, *args):
    return subprocess.Popen(argv(cfg, *args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV)


def finish(p):
    out, err = p.communicate(timeout=120)
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def run(cfg, *args):
    return finish(start(cfg, *args))


def posts(server):
    return [json.loads(r["body"]) for r in server.requests() if r["method"] == "POST"]


def wait_for(what, cond, timeout_s=60):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    check(False, f"timed out waiting for {what}")
    return False


def config(d, store, hook_url, jira_url):
    return store + f"""
timezone = "UTC";
sources = (
  {{ name = "never"; plugin = "csv"; path = "{d}/never.csv";
    columns = {{ id = "id"; title = "title"; priority = "priority"; status = "status";
                created = "created"; }}; }},
  {{ name = "ops"; plugin = "jira"; url = "{jira_url}"; api = "cloud";
    jql = "project = OPS";
    auth = {{ type = "basic"; user_env = "JIRA_USER"; token_env = "JIRA_TOKEN"; }};
    priorities = ( ("High", "P1") ); }}
);
alerts = {{
  webhooks = ( {{ name = "slow"; url = "{hook_url}/hook"; format = "json"; }} );
  repeat = "1h";
  rules = ( {{ name = "stale"; type = "source_stale"; after = "26h";
              sources = [ "never" ]; notify = [ "slow" ]; }} );
}};
"""


def busy_line(err, pid):
    return (f"check: another check is sending notifications (pid {pid}, since "
            in err and "): this one only prints" in err and len(err.splitlines()) == 1)


with tempfile.TemporaryDirectory() as d:
    db = Postgres(PG_URL) if PG_URL else Sqlite(os.path.join(d, "store.db"))
    hooks = MockServer(d, app="webhook", name="hooks", quiet=True,
                       faults=[{"path": "/hook", "delay_ms": HOLD_MS, "times": 2}])
    jira = MockServer(d, app="jira", name="jira", quiet=True,
                      options={"api": "cloud", "generate": "5"},
                      faults=[{"path": "/rest", "delay_ms": SYNC_HOLD_MS, "times": 1}])
    try:
        cfg = os.path.join(d, "bridge.cfg")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(config(d, db.store(), hooks.url, jira.url))

        # --- #1 sends; #2 overlaps it: prints, sends nothing ------------------
        first = start(cfg, "check", "--as-of", T0)
        wait_for("check #1's message", lambda: len(posts(hooks)) == 1)
        rc, out, err = run(cfg, "check", "--as-of", T0)
        overlapped = first.poll() is None
        check(overlapped, "check #2 ran while check #1 was still sending")
        check(rc == 3 and "FIRING stale (source_stale)" in out and busy_line(err, first.pid),
              f"check #2: prints the alert, exit 3, one line naming #1 (pid {first.pid}) "
              f"({rc} {err.strip()!r})")
        rc1, out1, err1 = finish(first)
        sent = posts(hooks)
        check(rc1 == 3 and "FIRING stale" in out1 and err1 == "",
              f"check #1: exit 3, nothing on stderr ({rc1} {err1.strip()!r})")
        check(len(sent) == 1 and sent[0]["rule"] == "stale" and sent[0]["state"] == "firing"
              and sent[0]["since"] == T0,
              f"the webhook received exactly one message ({[(b['rule'], b['state']) for b in sent]})")

        # --- #3 after #1: the state #1 wrote holds: nothing new ---------------
        rc, out, err = run(cfg, "check", "--as-of", T0_5)
        check(rc == 3 and err == "" and len(posts(hooks)) == 1,
              f"check #3: nothing new sent, no line on stderr ({rc} {len(posts(hooks))} "
              f"{err.strip()!r})")
        check(str(db.scalar("SELECT count(*) FROM alert_state WHERE rule = 'stale' AND "
                            "webhook = 'slow' AND CAST(pending AS integer) = 0")) == "1",
              "the state row: stale/slow delivered")

        # --- repeat due: the same overlap, the second one -q --format json -----
        fourth = start(cfg, "check", "--as-of", T0_61)
        wait_for("check #4's message", lambda: len(posts(hooks)) == 2)
        rc, out, err = run(cfg, "-q", "check", "--as-of", T0_61, "--format", "json")
        doc = json.loads(out) if rc == 3 else {}
        check(fourth.poll() is None, "check #5 ran while check #4 was still sending")
        check(rc == 3 and [a["rule"] for a in doc.get("alerts", [])] == ["stale"]
              and doc["alerts"][0]["since"] == T0 and err == "",
              f"-q: the JSON printed, exit 3, nothing on stderr ({rc} {err.strip()!r})")
        rc4, _, err4 = finish(fourth)
        sent = posts(hooks)
        check(rc4 == 3 and len(sent) == 2 and sent[1]["state"] == "firing"
              and sent[1]["since"] == T0,
              f"the repeat is sent once ({rc4} {len(sent)} {err4.strip()!r})")

        # --- a sync holding the sync lock does not stop a check ---------------
        sync = start(cfg, "sync", "--source", "ops")
        wait_for("the sync's first request", lambda: len(jira.requests()) >= 1)
        rc, out, err = run(cfg, "sync", "--source", "ops")
        check(rc == 1 and "another sync is running" in err and sync.poll() is None,
              f"the sync holds its lock: a second sync is refused ({rc} {err.strip()!r})")
        rc, out, err = run(cfg, "check", "--as-of", T0_122)
        sent = posts(hooks)
        check(sync.poll() is None, "the check ran while the sync was still running")
        check(rc == 3 and err == "" and len(sent) == 3 and sent[2]["rule"] == "stale",
              f"a check during a sync notifies ({rc} {len(sent)} {err.strip()!r})")
        rcs, outs, errs = finish(sync)
        check(rcs == 0, f"the sync completes ({rcs} {errs.strip()!r})")
        check(len(posts(hooks)) == 3, "nothing else was sent")
    finally:
        hooks.stop()
        jira.stop()

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("all ok")
