#!/usr/bin/env python3
"""Closed months (SPEC §9, issue 12 parts 2-3), with the real csv.so.

`close` freezes an edition whose --out file hashes (sha256sum) to the
printed hash and is its own canonical form (Python re-serialises it to the
same bytes); `verify` on an untouched store exits 0. The provider then
downgrades a breached P1 ticket to P3 and moves a resolution: `verify`
exits 1 and names the changed figures, the two tickets with their old and
new results and the recorded field changes that explain them, and the
credit difference. A restatement makes a new edition naming the one it
replaces, chained to the last one; verify is clean again. Editions refuse
UPDATE; one edited behind the store's back breaks the chain (exit 1).
Usage errors: a month not over, closed twice without --restate, --restate
of a month never closed, verify of a month never closed.

Runs on SQLite; with IB_CLOSE_PG_URL (test_close_verify_pg.sh, a throwaway
server) on the PostgreSQL store.
"""
import hashlib
import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["IB_SOURCE_DIR"], "tests", "support"))
from ib_stores import Postgres, Sqlite  # noqa: E402
from ibtest import check, finish, run, write  # noqa: E402

PG_URL = os.environ.get("IB_CLOSE_PG_URL")

HEADER = "id,priority,status,created,first_response,resolved\n"


def ticket(tid, prio, created, response, resolved):
    return f"{tid},{prio},Resolu,{created},{response},{resolved}\n"


# October 2026, a 24x7 calendar so that every figure is plain arithmetic.
# P1: respond within 30 min, resolve within 4 h; P3: 8 h and 3 days.
# T1 (P1) answered after 40 min: breached. T2 (P1) resolved after 5 h:
# breached. T3 (P3) fine. Penalty: 5 % of 1000 EUR per response breach,
# 10 % per resolution breach.
T1 = ("T1", "2026-10-05T09:00:00Z", "2026-10-05T09:40:00Z", "2026-10-05T11:00:00Z")
T2 = ("T2", "2026-10-06T09:00:00Z", "2026-10-06T09:10:00Z", "2026-10-06T14:00:00Z")
T3 = ("T3", "2026-10-07T09:00:00Z", "2026-10-07T10:00:00Z", "2026-10-08T09:00:00Z")
T4 = ("T4", "2026-10-09T09:00:00Z", "2026-10-09T09:20:00Z", "2026-10-09T10:00:00Z")


def csv_text(p1="Critique", t2_resolved=T2[3], with_t3=True):
    return (HEADER + ticket(T1[0], p1, *T1[1:])
            + ticket(T2[0], "Critique", T2[1], T2[2], t2_resolved)
            + (ticket(T3[0], "Basse", *T3[1:]) if with_t3 else "")
            + ticket(T4[0], "Basse", *T4[1:]))


def hash_of(out):
    m = re.search(r"edition ([0-9a-f]{64})", out)
    return m.group(1) if m else None


with tempfile.TemporaryDirectory() as d:
    db = Sqlite(os.path.join(d, "store.db")) if PG_URL is None else Postgres(PG_URL)
    tickets = os.path.join(d, "tickets.csv")
    cfg = os.path.join(d, "bridge.cfg")
    write(cfg, db.store() + f"""
timezone = "UTC";
calendars = ( {{ name = "24x7"; timezone = "UTC"; }} );
sources = (
  {{ name = "desk"; plugin = "csv"; path = "{tickets}"; max_delete_pct = 100;
    columns = {{ id = "id"; priority = "priority"; status = "status";
                created = "created"; first_response = "first_response";
                resolved = "resolved"; }};
    priorities = ( ("Critique", "P1"), ("Basse", "P3") );
    statuses = ( ("Resolu", "resolved") ); }}
);
slas = (
  {{ name = "support"; calendar = "24x7";
    targets = ( {{ priority = "P1"; first_response = "30m"; resolution = "4h"; }},
                {{ priority = "P3"; first_response = "8h"; resolution = "3d"; }} );
    penalty = {{ monthly_fee = 1000.0; currency = "EUR"; per_response_breach_pct = 5.0;
                per_resolution_breach_pct = 10.0; cap_pct = 50.0; }}; }}
);
alerts = {{ rules = ( {{ name = "late"; type = "late_changes"; }} ); }};
""")
    write(tickets, csv_text())
    rc, out, err = run(cfg, "sync")
    check(rc == 0 and "4 new" in out, f"first sync ({out.strip()} {err.strip()})")

    # --- usage errors -----------------------------------------------------------
    rc, out, err = run(cfg, "verify", "--month", "2026-10")
    check(rc == 2 and "has not been closed" in err, f"verify before close: exit 2 ({rc} {err.strip()})")
    rc, out, err = run(cfg, "close", "--month", "2026-10", "--as-of", "2026-10-20T00:00:00Z")
    check(rc == 2 and "not over" in err, f"a month not over is not closed ({rc} {err.strip()})")
    rc, out, err = run(cfg, "close", "--month", "2026-10", "--restate", "why")
    check(rc == 2 and "never been closed" in err, f"--restate of a month never closed ({rc} {err.strip()})")
    rc, out, err = run(cfg, "close")
    check(rc == 2 and "--month" in err, f"close without a month ({rc} {err.strip()})")

    # --- close October --------------------------------------------------------
    ed1 = os.path.join(d, "2026-10.json")
    rc, out, err = run(cfg, "close", "--month", "2026-10", "--as-of",
                       "2026-11-05T00:00:00Z", "--out", ed1)
    h1 = hash_of(out)
    check(rc == 0 and h1, f"close: exit 0, prints the hash ({rc} {out.strip()} {err.strip()})")
    raw = open(ed1, "rb").read()
    check(hashlib.sha256(raw).hexdigest() == h1, "sha256sum of --out is the edition's hash")
    doc = json.loads(raw)
    canon = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    check(canon == raw, "the file is its own canonical form (json.dumps sort_keys, no spaces)")
    check(doc["schema"] == "itsm-bridge.edition/1" and doc["month"] == "2026-10"
          and doc["period"]["as_of"] == "2026-11-05T00:00:00Z" and doc["prev_hash"] is None
          and doc["replaces"] is None and doc["engine"].startswith("itsm-bridge ")
          and re.fullmatch(r"[0-9a-f]{64}", doc["definitions_sha256"])
          and doc["inputs"]["tickets"] == 4 and re.fullmatch(r"[0-9a-f]{64}", doc["inputs"]["sha256"]),
          "the edition carries month, period, engine, chain, digests of definitions and inputs")
    defs = json.dumps(doc["definitions"], sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()
    check(hashlib.sha256(defs).hexdigest() == doc["definitions_sha256"],
          "definitions_sha256 is the SHA-256 of the definitions' canonical text")
    rows = {(r["id"], r["kpi"]): r for r in doc["tickets"]}
    check(len(rows) == 8 and rows[("T1", "first_response")]["verdict"] == "breached"
          and rows[("T1", "first_response")]["measured_s"] == 2400
          and rows[("T1", "first_response")]["target_s"] == 1800
          and rows[("T2", "resolution")]["verdict"] == "breached"
          and rows[("T2", "resolution")]["measured_s"] == 18000
          and rows[("T3", "resolution")]["priority"] == "P3",
          f"per-ticket results frozen ({sorted(rows)})")
    pen = doc["kpi"]["slas"][0]["penalty"]
    check(pen["credit"] == 150 and pen["credit_pct"] == 15,
          f"the frozen KPI document has the credit (1 response + 1 resolution breach: 15 %) ({pen})")

    rc, out, err = run(cfg, "verify", "--month", "2026-10", "--format", "json")
    v = json.loads(out) if rc in (0, 1) and out.strip() else {}
    check(rc == 0 and v.get("schema") == "itsm-bridge.verify/1" and v["unchanged"] is True
          and v["chain_ok"] is True and v["figures"] == [] and v["tickets"] == []
          and v["credit_delta"] == [] and v["edition"]["hash"] == h1
          and v["edition"]["as_of"] == "2026-11-05T00:00:00Z",
          f"verify on an untouched store: exit 0, unchanged ({rc} {out[:300]} {err.strip()})")
    report = os.path.join(d, "report.html")
    rc, out, err = run(cfg, "report", "--month", "2026-10", "--out", report, "--lang", "en")
    html = open(report, encoding="utf-8").read() if rc == 0 else ""
    check(rc == 0 and f'<code id="edition-hash">{h1}</code>' in html
          and 'data-state="as-frozen"' in html and 'id="edition-chain" data-ok="1"' in html
          and "2026-11-05" in html,
          f"the report of a closed month names its edition, as frozen, measured at its as_of ({rc} {err.strip()})")
    rc, out, err = run(cfg, "check", "--no-notify", "--format", "json")
    check(rc == 0 and json.loads(out)["alerts"] == [],
          f"late_changes: quiet while nothing changed since the close ({rc} {out.strip()} {err.strip()})")
    rc, out, err = run(cfg, "close", "--month", "2026-10", "--as-of", "2026-11-05T00:00:00Z")
    check(rc == 2 and "already closed" in err and h1[:12] in err,
          f"closing twice needs --restate ({rc} {err.strip()})")

    # --- the provider rewrites history after the month -------------------------
    # T1 P1 -> P3 (its 40-min response now meets 8 h); T2's resolution moved
    # back to 12:00 (3 h: now met). Both breaches disappear. T3 vanishes
    # from the source (a --full sync marks it deleted). T4 stays as it was.
    write(tickets, csv_text(p1="Basse", t2_resolved="2026-10-06T12:00:00Z", with_t3=False))
    rc, out, err = run(cfg, "sync", "--full")
    check(rc == 0 and "2 changed" in out and "1 marked deleted" in out,
          f"re-sync records the edits and the deletion ({out.strip()} {err.strip()})")
    rc, out, err = run(cfg, "verify", "--month", "2026-10", "--format", "json")
    v = json.loads(out) if out.strip() else {}
    check(rc == 1 and v.get("unchanged") is False and v.get("chain_ok") is True,
          f"verify after the edits: exit 1, restated ({rc} {err.strip()})")
    figs = {f["path"]: (f["old"], f["new"]) for f in v.get("figures", [])}
    check(figs.get("slas[support].penalty.credit") == (150, 0)
          and figs.get("slas[support].by_priority[P1].first_response.breached") == (1, 0),
          f"changed figures named by path, old -> new ({list(figs.items())[:6]})")
    tk = {(t["id"], t["kpi"]): t for t in v.get("tickets", [])}
    t1 = tk.get(("T1", "first_response"), {})
    check(t1.get("old") == {"priority": "P1", "target_s": 1800, "measured_s": 2400, "verdict": "breached"}
          and t1.get("new") == {"priority": "P3", "target_s": 28800, "measured_s": 2400, "verdict": "met"},
          f"T1's result old and new ({t1})")
    ch = [(c["field"], c["old"], c["new"]) for c in t1.get("changes", [])]
    check(("priority", "P1", "P3") in ch and all("detected_at" in c for c in t1["changes"]),
          f"T1 comes with the recorded change that explains it ({ch})")
    t2 = tk.get(("T2", "resolution"), {})
    ch2 = [(c["field"], c["old"], c["new"]) for c in t2.get("changes", [])]
    check(t2.get("old", {}).get("verdict") == "breached" and t2.get("new", {}).get("verdict") == "met"
          and ("resolved_at", "2026-10-06T14:00:00Z", "2026-10-06T12:00:00Z") in ch2,
          f"T2: resolution moved, recorded ({t2.get('old')} {t2.get('new')} {ch2})")
    t3 = tk.get(("T3", "resolution"), {})
    check(t3.get("old", {}).get("verdict") == "met" and t3.get("new") is None
          and any(c["field"] == "deleted_at" and c["old"] is None and c["new"]
                  for c in t3.get("changes", [])),
          f"T3 deleted: it left the cohort (new null), deleted_at recorded ({t3})")
    check(sorted({t["id"] for t in v.get("tickets", [])}) == ["T1", "T2", "T3"],
          f"exactly the edited tickets are listed, not the unchanged T4 ({sorted(tk)})")
    check(v.get("credit_delta") == [{"sla_or_service": "support", "currency": "EUR", "old": 150, "new": 0}],
          f"the credit difference ({v.get('credit_delta')})")
    rc, out, err = run(cfg, "check", "--no-notify", "--format", "json")
    fired = json.loads(out)["alerts"] if out.strip() else []
    lines = {(x["key"], x["field"], x["old"], x["new"], x["category"])
             for a in fired for x in a["details"]}
    check(rc == 3 and len(fired) == 1 and fired[0]["type"] == "late_changes"
          and ("T1", "priority", "P1", "P3", "priority_changed") in lines
          and ("T2", "resolved_at", "2026-10-06T14:00:00Z", "2026-10-06T12:00:00Z",
               "resolution_moved") in lines and "2026-10" in fired[0]["summary"],
          f"late_changes fires with the changes since the close (exit 3) ({rc} {out.strip()[:600]} {err.strip()})")
    rc, out, err = run(cfg, "verify", "--month", "2026-10")
    check(rc == 1 and "RESTATED" in out and "priority P1 -> P3" in out and "150 -> 0 EUR" in out,
          f"the table says it in words ({out.strip()[:800]})")

    rc, out, err = run(cfg, "report", "--month", "2026-10", "--out", report, "--lang", "fr")
    html = open(report, encoding="utf-8").read() if rc == 0 else ""
    tickets_table = html[html.find('id="edition-tickets"'):]
    tickets_table = tickets_table[:tickets_table.find("</table>")]
    check(rc == 0 and 'data-state="restated"' in html and "Mois clos" in html
          and "T1" in tickets_table and "priority P1 → P3" in tickets_table
          and "resolved_at 2026-10-06T14:00:00Z → 2026-10-06T12:00:00Z" in tickets_table
          and 'id="edition-credits"' in html,
          f"the report of a restated month lists the frozen values and the recorded changes ({rc} {err.strip()})")

    # --- restatement ------------------------------------------------------------
    # Instants are whole seconds: a change detected in the second of a close
    # counts as after it (reported rather than hidden), so step past it.
    time.sleep(1.1)
    ed2 = os.path.join(d, "2026-10-b.json")
    rc, out, err = run(cfg, "close", "--month", "2026-10", "--as-of", "2026-11-05T00:00:00Z",
                       "--restate", "provider downgraded T1, moved T2", "--out", ed2)
    h2 = hash_of(out)
    doc2 = json.loads(open(ed2, "rb").read()) if rc == 0 else {}
    check(rc == 0 and h2 and h2 != h1 and doc2.get("replaces") == h1
          and doc2.get("prev_hash") == h1 and doc2.get("reason") == "provider downgraded T1, moved T2",
          f"--restate: a new edition naming the one it replaces ({rc} {out.strip()} {err.strip()})")
    rc, out, err = run(cfg, "verify", "--month", "2026-10", "--format", "json")
    v = json.loads(out) if out.strip() else {}
    check(rc == 0 and v["edition"]["hash"] == h2 and v["unchanged"] is True,
          f"verify checks against the latest edition ({rc} {err.strip()})")
    rc, out, err = run(cfg, "check", "--no-notify", "--format", "json")
    check(rc == 0, f"late_changes: quiet again once the month is restated ({rc} {out.strip()[:300]})")
    # A second month chains onto the last edition of the store.
    rc, out, err = run(cfg, "close", "--month", "2026-09", "--as-of", "2026-11-05T00:00:00Z")
    h3 = hash_of(out)
    check(rc == 0 and h2[:12] in out, f"September chains to the last edition ({out.strip()} {err.strip()})")

    # --- someone edits an edition behind the store's back ------------------------
    refusal = db.tamper_edition(1, '"credit":150', '"credit":15')
    check("append-only" in refusal, f"editions refuse UPDATE ({refusal.strip()[:200]})")
    rc, out, err = run(cfg, "verify", "--month", "2026-09", "--format", "json")
    v = json.loads(out) if out.strip() else {}
    check(rc == 1 and v.get("chain_ok") is False and v.get("unchanged") is True
          and "altered" in err,
          f"an altered edition breaks the chain: exit 1 even when the month checked is unchanged ({rc} {err.strip()})")
    rc, out, err = run(cfg, "verify", "--month", "2026-09")
    check(rc == 1 and "Chain: BROKEN" in out and "was altered" in out,
          f"the table names the altered edition ({out.strip()[:400]})")

finish()
