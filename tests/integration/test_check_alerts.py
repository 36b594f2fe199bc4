#!/usr/bin/env python3
"""`check` and alert notifications (SPEC §10, issue 14 points 1-3), with
the real csv.so and loopback webhook receivers (tests/mock/apps/webhook.py).

The rules that hold fire (exit 3, itsm-bridge.check/1 JSON) and the others
stay quiet; --no-notify sends nothing and writes no state; each firing
alert is posted once to each of its webhooks, with `Authorization: Bearer
<token>` where token_env is set; not again at the next run; again after
`repeat` (time moved with --as-of); an alert that stops firing is posted
once as resolved; a webhook answering 503, or a closed port, gets the
message at the next run (exit 1 meanwhile); the Slack and Teams bodies
have their tools' incoming-webhook shapes; the token is in no output, no
store dump and no export; configuration errors carry file:line.

Runs on SQLite by default; with IB_CHECK_PG_URL set (test_check_alerts_pg.sh)
on the PostgreSQL store.
"""
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ["IB_BIN"]
PLUGINS = os.environ["IB_PLUGIN_DIR"]
PG_URL = os.environ.get("IB_CHECK_PG_URL")
sys.path.insert(0, os.path.join(os.environ["IB_SOURCE_DIR"], "tests", "mock"))
from harness import MockServer  # noqa: E402

TOKEN = "s3cr3t-hook-t0ken-4711"
failures = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


ENV = dict(os.environ, OPS_HOOK_TOKEN=TOKEN, ITSM_BRIDGE_BACKOFF_BASE="0.01",
           no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost",
           http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
outputs = []  # every stdout/stderr, to look for the token at the end


def run(cfg, *args):
    p = subprocess.run([BIN, "-c", cfg, "--plugin-dir", PLUGINS, *args],
                       capture_output=True, timeout=120, env=ENV)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    outputs.append(out + err)
    return p.returncode, out, err


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def posts(server, path=None):
    return [r for r in server.requests()
            if r["method"] == "POST" and (path is None or r["path"] == path)]


def bodies(server, path=None):
    return [json.loads(r["body"]) for r in posts(server, path)]


T0 = "2026-10-20T09:10:00Z"        # T1 unanswered for 10 of its 30 minutes
T0_5 = "2026-10-20T09:15:00Z"
T0_61 = "2026-10-20T10:11:00Z"     # 61 min later: repeat (1h) is due

HEADER = "id,title,priority,status,created,first_response,resolved\n"
TICKETS = (HEADER
           + "T1,Printer on fire,Critique,Ouvert,2026-10-20T09:00:00Z,,\n"
           # two resolutions: one in 1 h (met), one in 6 h (breached): 50 %
           + "T2,Mail down,Critique,Resolu,2026-10-05T09:00:00Z,"
             "2026-10-05T09:10:00Z,2026-10-05T15:00:00Z\n"
           + "T3,VPN,Critique,Resolu,2026-10-06T09:00:00Z,"
             "2026-10-06T09:10:00Z,2026-10-06T10:00:00Z\n")
# ERP down 1 h of October's 744 h at 99 %: 7.44 h allowed, 13.4 % used.
OUTAGES = "id,service,start,end\nO1,ERP,2026-10-07T08:00:00Z,2026-10-07T09:00:00Z\n"


def config(d, store, hooks, down_url, extra_webhooks="", stale_notify="", risk_extra=""):
    return store + f"""
timezone = "UTC";
calendars = ( {{ name = "24x7"; }} );
sources = (
  {{ name = "desk"; plugin = "csv"; path = "{d}/tickets.csv";
    columns = {{ id = "id"; title = "title"; priority = "priority"; status = "status";
                created = "created"; first_response = "first_response";
                resolved = "resolved"; }};
    priorities = ( ("Critique", "P1") );
    statuses = ( ("Ouvert", "open"), ("Resolu", "resolved") ); }},
  {{ name = "desk-outages"; plugin = "csv"; records = "outages"; path = "{d}/outages.csv";
    columns = {{ id = "id"; service = "service"; start = "start"; end = "end"; }}; }},
  {{ name = "never"; plugin = "csv"; path = "{d}/never.csv";
    columns = {{ id = "id"; title = "title"; priority = "priority"; status = "status";
                created = "created"; }}; }}
);
slas = ( {{ name = "incidents"; calendar = "24x7";
           targets = ( {{ priority = "P1"; first_response = "30m"; resolution = "4h"; }} ); }} );
availability = ( {{ service = "ERP"; target_pct = 99.0; calendar = "24x7"; }} );
alerts = {{
  webhooks = (
    {{ name = "ops"; url = "{hooks}/ops"; format = "json"; token_env = "OPS_HOOK_TOKEN"; }},
    {{ name = "chat"; url = "{hooks}/slack"; format = "slack"; }},
    {{ name = "teams"; url = "{hooks}/teams"; format = "teams"; }},
    {{ name = "down"; url = "{down_url}"; format = "json"; }}{extra_webhooks}
  );
  repeat = "1h";
  rules = (
    {{ name = "p1-at-risk"; type = "ticket_at_risk"; sla = "incidents"; within = "30m";
      notify = [ "ops", "chat", "teams"{risk_extra} ]; }},
    {{ name = "resolution"; type = "compliance_below"; sla = "incidents";
      kpi = "resolution"; below_pct = 90.0; notify = [ "ops" ]; }},
    {{ name = "fr-ok"; type = "compliance_below"; sla = "incidents";
      kpi = "first_response"; below_pct = 10.0; notify = [ "ops" ]; }},
    {{ name = "erp-budget"; type = "availability_budget"; service = "ERP";
      consumed_pct = 10.0; notify = [ "down" ]; }},
    {{ name = "erp-budget-high"; type = "availability_budget"; service = "ERP";
      consumed_pct = 50.0; notify = [ "ops" ]; }},
    {{ name = "stale"; type = "source_stale"; after = "26h"; sources = [ "never" ];
      notify = [ {stale_notify} ]; }}
  );
}};
"""


def state_rows(d, db_path):
    if PG_URL:
        p = subprocess.run([os.path.join(os.environ["PG_BIN"], "psql"), "-X", "-At",
                            "-d", PG_URL, "-c",
                            "SELECT rule||'/'||webhook||'/'||pending::int FROM "
                            "itsm_bridge_store.alert_state ORDER BY 1"],
                           capture_output=True, text=True, timeout=60)
        return [l for l in p.stdout.split("\n") if l]
    con = sqlite3.connect(db_path)
    try:
        return [f"{r}/{w}/{p}" for r, w, p in con.execute(
            "SELECT rule, webhook, pending FROM alert_state ORDER BY 1")]
    finally:
        con.close()


def store_dump(db_path):
    if PG_URL:
        p = subprocess.run([os.path.join(os.environ["PG_BIN"], "pg_dump"), "-d", PG_URL],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0 or "alert_state" not in p.stdout:
            raise RuntimeError("pg_dump failed: " + p.stderr)
        return p.stdout
    con = sqlite3.connect(db_path)
    try:
        dump = "\n".join(con.iterdump())
        assert "alert_state" in dump
        return dump
    finally:
        con.close()


with tempfile.TemporaryDirectory() as d:
    db_path = os.path.join(d, "store.db")
    store = (f'store = {{ url = "{PG_URL}"; }};\n' if PG_URL
             else f'store = {{ path = "{db_path}"; }};\n')
    write(os.path.join(d, "tickets.csv"), TICKETS)
    write(os.path.join(d, "outages.csv"), OUTAGES)
    fail_file = os.path.join(d, "down-now")
    write(fail_file, "")
    hooks = MockServer(d, app="webhook", name="hooks", quiet=True)
    down = MockServer(d, app="webhook", name="down", quiet=True,
                      options={"fail_file": fail_file})
    try:
        cfg = os.path.join(d, "bridge.cfg")
        write(cfg, config(d, store, hooks.url, down.url + "/down"))
        rc, out, err = run(cfg, "sync", "--source", "desk", "--source", "desk-outages")
        check(rc == 0, f"sync ({out.strip()} {err.strip()})")

        # --- --no-notify: prints, exit 3, sends nothing, writes no state ----
        rc, out, err = run(cfg, "check", "--as-of", T0, "--format", "json", "--no-notify")
        doc = json.loads(out) if rc == 3 else {}
        firing = sorted(a["rule"] for a in doc.get("alerts", []))
        check(rc == 3 and doc.get("schema") == "itsm-bridge.check/1"
              and doc.get("as_of") == T0
              and firing == ["erp-budget", "p1-at-risk", "resolution", "stale"],
              f"--no-notify: exit 3, the rules that hold fire, the others not ({rc} {firing} {err.strip()})")
        risk = [a for a in doc.get("alerts", []) if a["rule"] == "p1-at-risk"]
        det = risk[0]["details"] if risk else []
        check(len(det) == 1 and det[0]["key"] == "T1" and det[0]["kpi"] == "first_response"
              and det[0]["remaining_s"] == 1200 and det[0]["due_at"] == "2026-10-20T09:30:00Z"
              and det[0]["source"] == "desk" and det[0]["priority"] == "P1"
              and risk[0]["type"] == "ticket_at_risk" and risk[0]["since"] == T0
              and risk[0]["summary"],
              f"ticket_at_risk details: T1, 20 min left, due 09:30 ({risk})")
        budget = [a for a in doc.get("alerts", []) if a["rule"] == "erp-budget"]
        bd = budget[0]["details"][0] if budget else {}
        check(abs(bd.get("consumed_pct", 0) - 13.44) < 0.01 and bd.get("downtime_s") == 3600
              and bd.get("allowed_s") == 26784 and bd.get("burn_rate") is not None,
              f"availability_budget details: 13.44 % used, burn rate ({bd})")
        check(posts(hooks) == [] and posts(down) == [] and state_rows(d, db_path) == [],
              "--no-notify posts nothing and writes no state")

        # --- first run: each firing alert once to each webhook; 'down' 503 --
        rc, out, err = run(cfg, "check", "--as-of", T0)
        check(rc == 1 and "FIRING p1-at-risk" in out and "webhook 'down' not reached" in err
              and "503" in err and down.url not in err,
              f"a webhook answering 503: exit 1, alerts still printed ({rc} {err.strip()})")
        ops = posts(hooks, "/ops")
        ops_b = [json.loads(r["body"]) for r in ops]
        check(sorted(b["rule"] for b in ops_b) == ["p1-at-risk", "resolution"]
              and all(r["headers"].get("authorization") == "Bearer " + TOKEN for r in ops)
              and all(r["headers"].get("content-type", "").startswith("application/json")
                      for r in ops),
              f"ops got each firing alert once, with its bearer token ({[b['rule'] for b in ops_b]})")
        a = [b for b in ops_b if b["rule"] == "p1-at-risk"]
        a = a[0] if a else {}
        check(a.get("schema") == "itsm-bridge.alert/1" and a.get("type") == "ticket_at_risk"
              and a.get("state") == "firing" and a.get("since") == T0 and a.get("summary")
              and a.get("details", [{}])[0].get("key") == "T1",
              f"json payload: itsm-bridge.alert/1 fields ({a})")
        slack = posts(hooks, "/slack")
        sb = json.loads(slack[0]["body"]) if len(slack) == 1 else {}
        blocks = sb.get("blocks", [])
        check(len(slack) == 1 and "authorization" not in slack[0]["headers"]
              and isinstance(sb.get("text"), str) and "p1-at-risk" in sb["text"]
              and [b["type"] for b in blocks] == ["header", "section", "section", "context"]
              and blocks[0]["text"]["type"] == "plain_text"
              and blocks[1]["text"]["type"] == "mrkdwn"
              and "T1 (desk) P1 first_response" in blocks[2]["text"]["text"]
              and blocks[3]["elements"][0]["type"] == "mrkdwn",
              f"slack: text + blocks (header, summary, ticket lines, context), no auth ({sb})")
        teams = posts(hooks, "/teams")
        tb = json.loads(teams[0]["body"]) if len(teams) == 1 else {}
        att = (tb.get("attachments") or [{}])[0]
        card = att.get("content", {})
        texts = [b.get("text", "") for b in card.get("body", [])]
        check(len(teams) == 1 and tb.get("type") == "message"
              and att.get("contentType") == "application/vnd.microsoft.card.adaptive"
              and "contentUrl" in att and card.get("type") == "AdaptiveCard"
              and card.get("version") and card.get("$schema", "").startswith("http://adaptivecards.io")
              and all(b.get("type") == "TextBlock" for b in card.get("body", []))
              and any("T1 (desk)" in t for t in texts) and "FIRING" in texts[0],
              f"teams: message with one Adaptive Card of TextBlocks ({tb})")
        n_down = len(posts(down))
        check(n_down >= 2 and all(r["fault"] is None for r in posts(down)),
              f"down was tried (and retried: {n_down} attempts)")
        rows = state_rows(d, db_path)
        check("erp-budget/down/1" in rows and "p1-at-risk/ops/0" in rows
              and "resolution/ops/0" in rows and not any(r.startswith("fr-ok") for r in rows),
              f"state: down pending, the others delivered ({rows})")

        # --- next run: down is back and gets it; nobody else gets anything --
        os.unlink(fail_file)
        before = len(posts(hooks))
        rc, out, err = run(cfg, "check", "--as-of", T0_5)
        got = bodies(down)[n_down:]
        check(rc == 3 and len(got) == 1 and got[0]["rule"] == "erp-budget"
              and got[0]["state"] == "firing" and got[0]["since"] == T0,
              f"the webhook down at one run receives it at the next, since T0 ({rc} {got} {err.strip()})")
        check(len(posts(hooks)) == before, "not posted again at the next run")

        # --- after repeat: still firing re-sent; stopped -> resolved once ---
        rc, out, err = run(cfg, "check", "--as-of", T0_61, "--format", "json")
        new = [json.loads(r["body"]) for r in posts(hooks)[before:]]
        ops_new = sorted((b["rule"], b["state"]) for b in new if "schema" in b)
        check(rc == 3 and ops_new == [("p1-at-risk", "resolved"), ("resolution", "firing")],
              f"after repeat: resolution re-sent, p1-at-risk resolved ({ops_new} {err.strip()})")
        res = [b for b in new if b.get("rule") == "p1-at-risk"]
        check(res and res[0]["since"] is None and res[0]["details"] == [],
              f"resolved payload: since null, no details ({res})")
        sl = [b for b in new if "blocks" in b]
        tm = [b for b in new if b.get("type") == "message"]
        check(len(sl) == 1 and "RESOLVED" in sl[0]["text"] and len(tm) == 1,
              f"slack and teams get the resolved message once ({len(sl)} {len(tm)})")
        resent = [b for b in new if b.get("rule") == "resolution"]
        check(resent and resent[0]["since"] == T0, "the repeat keeps the original since")
        check(len(bodies(down)) == n_down + 1, "erp-budget not repeated before its hour")
        before = len(posts(hooks))
        rc, out, err = run(cfg, "check", "--as-of", T0_61)
        check(rc == 3 and len(posts(hooks)) == before,
              f"the same run again sends nothing ({rc} {len(posts(hooks)) - before})")

        # --- a closed port: pending, then delivered once it listens ----------
        gone = f"http://127.0.0.1:{closed_port()}/gone"
        extra = f',\n    {{ name = "late"; url = "{gone}"; format = "json"; }}'
        write(cfg, config(d, store, hooks.url, down.url + "/down", extra, '"late"'))
        rc, out, err = run(cfg, "check", "--as-of", T0_61)
        check(rc == 1 and "webhook 'late' not reached" in err and gone not in err
              and "stale/late/1" in state_rows(d, db_path),
              f"closed port: exit 1, pending, URL not printed ({rc} {err.strip()})")
        extra = f',\n    {{ name = "late"; url = "{hooks.url}/late"; format = "json"; }}'
        write(cfg, config(d, store, hooks.url, down.url + "/down", extra, '"late"'))
        rc, out, err = run(cfg, "check", "--as-of", T0_61)
        late = bodies(hooks, "/late")
        check(rc == 3 and len(late) == 1 and late[0]["rule"] == "stale"
              and late[0]["details"][0]["source"] == "never"
              and late[0]["details"][0]["last_success"] is None,
              f"the pending message arrives at the next run ({rc} {late} {err.strip()})")

        # --- firing never delivered, then stopped: no "resolved" owed -------
        gone = f"http://127.0.0.1:{closed_port()}/gone2"
        extra += f',\n    {{ name = "late2"; url = "{gone}"; format = "json"; }}'
        write(cfg, config(d, store, hooks.url, down.url + "/down", extra, '"late"',
                          ', "late2"'))
        rc, out, err = run(cfg, "check", "--as-of", T0)
        check(rc == 1 and "webhook 'late2' not reached" in err
              and "p1-at-risk/late2/1" in state_rows(d, db_path),
              f"p1-at-risk fires again at T0; late2 unreachable: pending ({rc} {err.strip()})")
        rc, out, err = run(cfg, "check", "--as-of", T0_61)
        check(rc == 3 and "late2" not in err
              and "p1-at-risk/late2/0" in state_rows(d, db_path),
              f"stopped before late2 ever got it: no resolved attempted, nothing pending "
              f"({rc} {err.strip()} {state_rows(d, db_path)})")

        # --- the token is nowhere ---------------------------------------------
        rc, out, err = run(cfg, "export", "--format", "json", "--out",
                           os.path.join(d, "exp"), "--month", "2026-10")
        exported = ""
        for root, _, files in os.walk(os.path.join(d, "exp")):
            for f in files:
                with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
                    exported += fh.read()
        check(rc == 0 and exported, f"export ran ({rc} {err.strip()})")
        check(all(TOKEN not in o for o in outputs) and TOKEN not in store_dump(db_path)
              and TOKEN not in exported,
              "the webhook token is in no stdout/stderr, store dump or export")

        # --- table, help, usage ---------------------------------------------
        rc, out, err = run(cfg, "check", "--as-of", T0, "--no-notify")
        check(rc == 3 and "FIRING p1-at-risk (ticket_at_risk)" in out
              and "T1 (desk) P1 first_response: 20m 00s left, due 2026-10-20T09:30:00Z" in out
              and "quiet: fr-ok, erp-budget-high" in out,
              f"table for a person ({out})")
        rc, out, err = run(cfg, "check", "--help")
        check(rc == 0 and "--no-notify" in out and "3 something fires" in out, "check --help")
        rc, out, err = run(cfg, "check", "--format", "xml")
        check(rc == 2 and "--format" in err, f"usage error: exit 2 ({err.strip()})")
        rc, out, err = run(cfg, "check", "--as-of", "2026-07-01T00:00:00Z", "--no-notify")
        check(rc == 3 and "FIRING stale" in out and "FIRING p1-at-risk" not in out,
              f"July: only the never-synced source fires ({rc})")
    finally:
        hooks.stop()
        down.stop()

    # --- configuration errors: file:line, exit 2 ----------------------------
    good = config(d, store, "https://hooks.example.com", "https://hooks.example.com/d")
    bad_cases = [
        ('type = "source_stale"', 'type = "late_changez"', "unknown rule type 'late_changez'"),
        ('below_pct = 90.0', 'below_pct = 190.0', "below_pct must be between 0 and 100"),
        ('notify = [ "down" ]', 'notify = [ "nope" ]', "webhook 'nope', which alerts.webhooks"),
        ('within = "30m"', 'within = "soon"', "'within' must be a duration"),
        ('https://hooks.example.com/d', 'http://hooks.example.com/d', "use https://"),
        ('token_env = "OPS_HOOK_TOKEN"', 'token_env = "Bearer abc"', "token_env names an environment variable"),
        ('service = "ERP";\n      consumed_pct = 10.0', 'service = "CRM";\n      consumed_pct = 10.0',
         "unknown service 'CRM'"),
        ('sla = "incidents"; within', 'sla = "incidentz"; within', "unknown sla 'incidentz'"),
        ('repeat = "1h"', 'repeat = "1h"; bogus = 1', "unknown key 'bogus' in alerts"),
        ('name = "fr-ok"', 'name = "resolution"', "rule 'resolution' is defined twice"),
    ]
    bad = os.path.join(d, "bad.cfg")
    for old, new, msg in bad_cases:
        check(old in good, f"(test data) {old!r} is in the config")
        text = good.replace(old, new, 1)
        write(bad, text)
        rc, out, err = run(bad, "check-config")
        line = good[:good.index(old)].count("\n") + 1
        check(rc == 2 and err.startswith(f"{bad}:{line}: ") and msg in err,
              f"{new}: {bad}:{line}: ... {msg} ({err.strip()})")
    write(bad, good)
    rc, out, err = run(bad, "check-config")
    check(rc == 0, f"the good configuration passes ({err.strip()})")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("all ok")
