#!/usr/bin/python3
"""test_export_formats.py -- `export --format csv|json|ndjson [--excel]`.

Two stores, both filled by `sync` through the real csv plugin:
* a small hand-made month whose figures are computed by hand below;
* the sample data of config/sample, whose exports are re-read with the
  Python csv/json modules and checked against `kpi --format json` on the same
  store (same figures, same rounding).
Also imported by the openmetrics and report tests for its store builders.
Standard library only; run with /usr/bin/python3.
"""
import csv
import io
import json
import math
import os
import subprocess
import sys
import tempfile

BIN = os.environ.get("IB_BIN", "build/itsm-bridge")
PLUGINS = os.environ.get("IB_PLUGIN_DIR", "build/plugins")
SRC = os.environ.get("IB_SOURCE_DIR", ".")

# ---- the hand-made month ------------------------------------------------------

SMALL_TICKETS = [
    # id, title, kind, priority, status, service, created, first response, resolved
    ("T1", 'Imprimante "RDC", bloquée', "incident", "P1",
     "resolved", "ERP", "2026-10-05 10:00", "2026-10-05 10:20", "2026-10-05 13:00"),
    ("T2", 'Disque plein <script>alert("x")</script> & co', "incident", "P1",
     "resolved", "ERP",
     "2026-10-06 09:00", "2026-10-06 10:00", "2026-10-06 15:00"),
    ("T3", "=SUM(A1)", "incident", "P2", "resolved", "VPN",
     "2026-10-07 08:00", "2026-10-07 08:30", "2026-10-07 12:00"),
    ("T4", "Pas de réponse", "incident", "P2", "open", "VPN",
     "2026-10-20 08:00", "", ""),
]
SMALL_OUTAGES = [("O1", "ERP", "2026-10-10 10:00", "2026-10-10 14:00", "outage")]
SMALL_AS_OF = "2026-10-20T10:00:00Z"

SMALL_CFG = """
store = {{ path = "{dir}/bridge.db"; }};
timezone = "UTC";
plugin_dir = "{plugins}";
calendars = ( {{ name = "24x7"; timezone = "UTC"; }} );
sources = (
  {{ name = "desk"; plugin = "csv"; path = "{dir}/tickets.csv";
    date_format = "%Y-%m-%d %H:%M";
    columns = {{ id = "id"; title = "title"; kind = "kind"; priority = "priority";
                status = "status"; service = "service"; created = "created";
                first_response = "first_response"; resolved = "resolved"; }};
    priorities = ( ("P1", "P1"), ("P2", "P2") );
    statuses = ( ("open", "open"), ("resolved", "resolved") );
    kinds = ( ("incident", "incident") ); }},
  {{ name = "desk-outages"; plugin = "csv"; records = "outages";
    path = "{dir}/outages.csv"; date_format = "%Y-%m-%d %H:%M";
    columns = {{ id = "id"; service = "service"; start = "start"; end = "end";
                kind = "kind"; }};
    kinds = ( ("outage", "outage") ); }}
);
slas = (
  {{ name = "desk"; calendar = "24x7";
    targets = ( {{ priority = "P1"; first_response = "30m"; resolution = "4h"; }},
                {{ priority = "P2"; first_response = "1h"; resolution = "8h"; }} );
    penalty = {{ monthly_fee = 1000.0; currency = "EUR";
                per_response_breach_pct = 10.0; per_resolution_breach_pct = 5.0;
                cap_pct = 20.0; }}; }}
);
availability = (
  {{ service = "ERP"; target_pct = 99.5; calendar = "24x7"; monthly_fee = 3000.0;
    currency = "EUR"; credit = "proportional"; }}
);
"""


def run(cfg, *args, check=True):
    p = subprocess.run([BIN, "-c", cfg, *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


# The provider's edits after October (all detected by the re-sync, now):
# T1 downgraded P1 -> P2, T2's resolution back-dated 15:00 -> 11:00, T3
# removed from the export (deleted by --full), O1's end moved 14:00 -> 12:00.
SMALL_LATE = {
    ("T1", "priority"): ("priority_changed", "P1", "P2"),
    ("T2", "resolved_at"): ("resolution_moved", "2026-10-06T15:00:00Z",
                            "2026-10-06T11:00:00Z"),
    ("T3", "deleted_at"): ("deleted", "", None),
    ("O1", "end"): ("outage_changed", "2026-10-10T14:00:00Z", "2026-10-10T12:00:00Z"),
}


def make_small_late_changes(tmp, cfg):
    """Edits the small store's CSVs as SMALL_LATE says and re-syncs them."""
    edited = []
    for t in SMALL_TICKETS:
        t = list(t)
        if t[0] == "T3":
            continue
        if t[0] == "T1":
            t[3] = "P2"
        if t[0] == "T2":
            t[8] = "2026-10-06 11:00"
        edited.append(t)
    with open(os.path.join(tmp, "tickets.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", "kind", "priority", "status", "service",
                    "created", "first_response", "resolved"])
        w.writerows(edited)
    with open(os.path.join(tmp, "outages.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "service", "start", "end", "kind"])
        w.writerow(["O1", "ERP", "2026-10-10 10:00", "2026-10-10 12:00", "outage"])
    run(cfg, "sync", "--full", "--allow-mass-delete")


def make_small_store(tmp):
    """Writes the hand-made CSVs and config, syncs; returns the config path."""
    with open(os.path.join(tmp, "tickets.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", "kind", "priority", "status", "service",
                    "created", "first_response", "resolved"])
        w.writerows(SMALL_TICKETS)
    with open(os.path.join(tmp, "outages.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "service", "start", "end", "kind"])
        w.writerows(SMALL_OUTAGES)
    cfg = os.path.join(tmp, "bridge.cfg")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(SMALL_CFG.format(dir=tmp, plugins=PLUGINS))
    run(cfg, "sync")
    return cfg


SAMPLE_CFG = """
store = {{ path = "{dir}/bridge.db"; }};
timezone = "Europe/Paris";
plugin_dir = "{plugins}";
calendars = (
  {{ name = "24x7"; timezone = "UTC"; }},
  {{ name = "office-paris"; timezone = "Europe/Paris";
    hours = {{ mon = "08:00-12:30,13:30-18:00"; tue = "08:00-12:30,13:30-18:00";
              wed = "08:00-12:30,13:30-18:00"; thu = "08:00-12:30,13:30-18:00";
              fri = "08:00-12:30,13:30-17:00"; }};
    holidays = [ "2026-08-15", "2026-11-01", "2026-11-11", "2026-12-25" ]; }}
);
sources = (
  {{ name = "legacy"; plugin = "csv"; path = "{sample}/tickets.csv"; delimiter = ";";
    timezone = "Europe/Paris"; date_format = "%d/%m/%Y %H:%M";
    columns = {{ id = "N° ticket"; title = "Objet"; kind = "Type"; priority = "Priorité";
                status = "Statut"; service = "Service"; group = "Groupe";
                created = "Ouvert le"; first_response = "Pris en charge le";
                resolved = "Résolu le"; closed = "Clos le"; pause_start = "En attente le";
                pause_end = "Reprise le"; updated = "Mis à jour le"; }};
    priorities = ( ("Critique", "P1"), ("Haute", "P2"), ("Moyenne", "P3"), ("Basse", "P4") );
    statuses = ( ("Nouveau", "new"), ("En cours", "open"), ("En attente", "pending"),
                 ("Résolu", "resolved"), ("Clos", "closed"), ("Annulé", "cancelled") );
    kinds = ( ("Incident", "incident"), ("Demande", "request") ); }},
  {{ name = "legacy-outages"; plugin = "csv"; records = "outages";
    path = "{sample}/outages.csv"; delimiter = ";"; timezone = "Europe/Paris";
    date_format = "%d/%m/%Y %H:%M";
    columns = {{ id = "Réf"; service = "Service"; start = "Début"; end = "Fin"; kind = "Nature"; }};
    kinds = ( ("Panne", "outage"), ("Dégradation", "degradation"), ("Maintenance", "planned") ); }}
);
slas = (
  {{ name = "support"; kinds = [ "incident" ]; calendar = "office-paris";
    targets = ( {{ priority = "P1"; first_response = "30m"; resolution = "4h"; }},
                {{ priority = "P2"; first_response = "1h"; resolution = "8h"; }},
                {{ priority = "P3"; first_response = "4h"; resolution = "3d"; }} );
    penalty = {{ monthly_fee = 12000.0; currency = "EUR"; per_response_breach_pct = 5.0;
                per_resolution_breach_pct = 2.0; cap_pct = 20.0; }}; }},
  {{ name = "requests"; kinds = [ "request" ]; calendar = "office-paris";
    targets = ( {{ priority = "P2"; first_response = "2h"; resolution = "2d"; }},
                {{ priority = "P3"; first_response = "4h"; resolution = "5d"; }} ); }}
);
availability = (
  {{ service = "ERP"; target_pct = 99.5; calendar = "24x7"; monthly_fee = 3000.0;
    currency = "EUR"; credit = "proportional"; }},
  {{ service = "Messagerie"; target_pct = 99.9; calendar = "24x7"; count_degradation = true;
    monthly_fee = 1500.0; currency = "EUR"; credit = "proportional"; }},
  {{ service = "VPN"; target_pct = 99.0; calendar = "office-paris"; }}
);
"""


def make_sample_store(tmp):
    """The sample data of config/sample (August to November 2026), synced."""
    cfg = os.path.join(tmp, "bridge.cfg")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(SAMPLE_CFG.format(dir=tmp, plugins=PLUGINS,
                                  sample=os.path.join(SRC, "config", "sample")))
    run(cfg, "sync", check=False)  # the sample has deliberately bad rows: exit 1
    return cfg


# ---- reading exports back -----------------------------------------------------

def read_csv(path, excel=False):
    with open(path, encoding="utf-8-sig" if excel else "utf-8", newline="") as f:
        raw = f.read()
    if excel:
        assert open(path, "rb").read(3) == b"\xef\xbb\xbf", f"{path}: no BOM"
    assert raw.endswith("\r\n"), f"{path}: lines must end with CRLF (RFC 4180)"
    return list(csv.DictReader(io.StringIO(raw), delimiter=";" if excel else ","))


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_ndjson(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def csv_value(text):
    """A CSV cell as the typed JSON value it stands for."""
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def close(a, b, tol=1e-9):
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=tol)


TABLES = ["tickets", "ticket_sla", "kpi", "availability", "outages", "disagreements",
          "changes"]
CHANGES_HEADER = ("period,change_id,source,id,key,kind,field,category,old_value,"
                  "new_value,run_id,detected_at\r\n")

# ---- checks -------------------------------------------------------------------


def check_small(tmp):
    cfg = make_small_store(tmp)
    out = os.path.join(tmp, "csv")
    run(cfg, "export", "--format", "csv", "--out", out, "--month", "2026-10",
        "--as-of", SMALL_AS_OF)
    assert sorted(os.listdir(out)) == sorted(t + ".csv" for t in TABLES), os.listdir(out)
    # The CSV plugin reports no verdict of its own: nothing to disagree with,
    # the table is its header alone (its rows: test_disagreements.py).
    with open(os.path.join(out, "disagreements.csv"), encoding="utf-8", newline="") as f:
        assert f.read() == ("period,source,id,key,sla,priority,kpi,measured_s,target_s,"
                            "ours,theirs,reason\r\n")
    # Nothing changed since the first sync: no late change.
    with open(os.path.join(out, "changes.csv"), encoding="utf-8", newline="") as f:
        assert f.read() == CHANGES_HEADER

    tickets = {r["id"]: r for r in read_csv(os.path.join(out, "tickets.csv"))}
    assert set(tickets) == {"T1", "T2", "T3", "T4"}
    assert tickets["T2"]["title"] == 'Disque plein <script>alert("x")</script> & co'
    assert tickets["T1"]["title"] == 'Imprimante "RDC", bloquée'
    assert tickets["T1"]["created_at"] == "2026-10-05T10:00:00Z"
    assert tickets["T4"]["resolved_at"] == "" and tickets["T4"]["status"] == "open"
    raw = open(os.path.join(out, "tickets.csv"), encoding="utf-8").read()
    assert '"Imprimante ""RDC"", bloquée"' in raw, "RFC 4180 quoting"

    sla = {r["id"]: r for r in read_csv(os.path.join(out, "ticket_sla.csv"))}
    # T1: 20 min against 30 min, 3 h against 4 h: met, met
    assert (sla["T1"]["response_s"], sla["T1"]["response_verdict"]) == ("1200", "met")
    assert (sla["T1"]["resolution_s"], sla["T1"]["resolution_verdict"]) == ("10800", "met")
    # T2: 1 h against 30 min (over 30 min), 6 h against 4 h (over 2 h)
    assert (sla["T2"]["response_verdict"], sla["T2"]["response_over_s"]) == ("breached", "1800")
    assert (sla["T2"]["resolution_verdict"], sla["T2"]["resolution_over_s"]) == ("breached", "7200")
    assert sla["T2"]["response_target_s"] == "1800" and sla["T2"]["resolution_target_s"] == "14400"
    # T4: unanswered for 2 h at as-of against 1 h: breached; not resolved
    assert (sla["T4"]["response_s"], sla["T4"]["response_verdict"]) == ("7200", "breached")
    assert sla["T4"]["resolution_verdict"] == "" and sla["T4"]["open_breached"] == "false"
    assert sla["T1"]["response_reported_breached"] == ""  # not reported by CSV

    kpi = {(r["sla"], r["priority"], r["kpi"]): r["value"]
           for r in read_csv(os.path.join(out, "kpi.csv"))}
    assert kpi[("desk", "all", "first_response.compliance_pct")] == "50"  # 2 of 4
    assert kpi[("desk", "all", "resolution.compliance_pct")] == "66.667"  # 2 of 3
    assert kpi[("desk", "all", "resolution.mttr_s")] == "15600"  # (3h+6h+4h)/3
    assert kpi[("desk", "P1", "first_response.met")] == "1"
    # 2 response breaches x 10 % + 1 resolution breach x 5 % = 25 %, capped at 20 %
    assert kpi[("desk", "all", "penalty.credit_pct")] == "20"
    assert kpi[("desk", "all", "penalty.credit")] == "200"

    (av,) = read_csv(os.path.join(out, "availability.csv"))
    # October so far (as of 20 Oct 10:00): 19 d 10 h = 1677600 s of
    # service time, 4 h down
    assert av["service_time_s"] == "1677600" and av["downtime_s"] == "14400"
    assert av["availability_pct"] == "99.142"  # 100 * (1 - 14400/1677600)
    assert av["breached"] == "true" and av["credit"] == "25.75"  # 3000 * 14400/1677600

    (o,) = read_csv(os.path.join(out, "outages.csv"))
    assert (o["id"], o["kind"], o["duration_s"]) == ("O1", "outage", "14400")
    assert (o["start"], o["end"]) == ("2026-10-10T10:00:00Z", "2026-10-10T14:00:00Z")

    # the Excel variant: BOM, ';', decimal comma, formula guard
    xl = os.path.join(tmp, "excel")
    run(cfg, "export", "--format", "csv", "--excel", "--out", xl, "--month",
        "2026-10", "--as-of", SMALL_AS_OF)
    (av,) = read_csv(os.path.join(xl, "availability.csv"), excel=True)
    assert av["availability_pct"] == "99,142" and av["credit"] == "25,75"
    assert av["breached"] == "1"
    xt = {r["id"]: r for r in read_csv(os.path.join(xl, "tickets.csv"), excel=True)}
    assert xt["T3"]["title"] == "'=SUM(A1)", xt["T3"]["title"]
    assert xt["T1"]["created_at"] == "2026-10-05 10:00:00"

    # JSON and NDJSON carry the same rows, typed
    js = os.path.join(tmp, "json")
    run(cfg, "export", "--format", "json", "--out", js, "--month", "2026-10",
        "--as-of", SMALL_AS_OF)
    run(cfg, "export", "--format", "ndjson", "--out", js, "--month", "2026-10",
        "--as-of", SMALL_AS_OF)
    (av,) = read_json(os.path.join(js, "availability.json"))
    assert av["availability_pct"] == 99.142 and av["breached"] is True
    assert av["credit"] == 25.75
    sla = {r["id"]: r for r in read_json(os.path.join(js, "ticket_sla.json"))}
    assert sla["T4"]["resolution_verdict"] is None and sla["T4"]["response_s"] == 7200
    # no secret and no config value beyond the figures' own
    for name in os.listdir(js):
        assert "password" not in open(os.path.join(js, name), encoding="utf-8").read()


def check_small_late(tmp, cfg):
    """The provider's edits after the month are its late changes, in every
    format: the same rows in changes.csv, .json and .ndjson."""
    make_small_late_changes(tmp, cfg)
    out, js = os.path.join(tmp, "late-csv"), os.path.join(tmp, "late-json")
    for fmt, where in (("csv", out), ("json", js), ("ndjson", js)):
        run(cfg, "export", "--format", fmt, "--out", where, "--month", "2026-10",
            "--as-of", SMALL_AS_OF)
    rows = read_csv(os.path.join(out, "changes.csv"))
    got = {(r["id"], r["field"]): (r["category"], r["old_value"], r["new_value"]) for r in rows}
    assert len(rows) == len(SMALL_LATE), rows
    for k, (cat, old, new) in SMALL_LATE.items():
        assert k in got, (k, got)
        assert got[k][0] == cat and got[k][1] == old, (k, got[k])
        if new is not None:
            assert got[k][2] == new, (k, got[k])
    assert got[("T3", "deleted_at")][2].endswith("Z")  # the sync's time
    assert {r["period"] for r in rows} == {"2026-10"}
    assert {r["kind"] for r in rows if r["id"] == "O1"} == {"outage"}
    assert all(r["detected_at"] >= "2026-11-01T00:00:00Z" for r in rows)
    nd = read_ndjson(os.path.join(js, "changes.ndjson"))
    assert [(r["id"], r["category"], r["change_id"]) for r in nd] == \
        [(r["id"], r["category"], int(r["change_id"])) for r in rows]
    compare_tables(out, js)


def compare_tables(csv_dir, json_dir):
    """Every CSV table equals its JSON and NDJSON twin, cell by cell."""
    for t in TABLES:
        rows = read_csv(os.path.join(csv_dir, t + ".csv"))
        js = read_json(os.path.join(json_dir, t + ".json"))
        nd = read_ndjson(os.path.join(json_dir, t + ".ndjson"))
        assert js == nd, f"{t}: json and ndjson differ"
        assert len(rows) == len(js), f"{t}: {len(rows)} csv rows, {len(js)} json"
        for r, j in zip(rows, js):
            assert list(r.keys()) == list(j.keys()), f"{t}: columns differ"
            for k, v in r.items():
                jv = j[k]
                if isinstance(jv, str):
                    assert v == jv, f"{t}.{k}: {v!r} != {jv!r}"
                else:
                    cv = csv_value(v)
                    ok = cv == jv if isinstance(jv, bool) or jv is None else close(cv, jv)
                    assert ok, f"{t}.{k}: csv {v!r} != json {jv!r}"


def check_against_kpi(cfg, tmp, month):
    as_of = "2026-12-01T08:00:00Z"
    out, js = os.path.join(tmp, "csv-" + month), os.path.join(tmp, "json-" + month)
    run(cfg, "export", "--format", "csv", "--out", out, "--month", month, "--as-of", as_of)
    run(cfg, "export", "--format", "json", "--out", js, "--month", month, "--as-of", as_of)
    run(cfg, "export", "--format", "ndjson", "--out", js, "--month", month, "--as-of", as_of)
    doc = json.loads(run(cfg, "kpi", "--month", month, "--as-of", as_of,
                         "--format", "json").stdout)
    compare_tables(out, js)

    kpi = {(r["sla"], r["priority"], r["kpi"]): csv_value(r["value"])
           for r in read_csv(os.path.join(out, "kpi.csv"))}
    assert {r["period"] for r in read_csv(os.path.join(out, "kpi.csv"))} == {month}
    n_checked = 0
    sla_rows = read_csv(os.path.join(out, "ticket_sla.csv"))
    for s in doc["slas"]:
        groups = [(p["priority"], p) for p in s["by_priority"]] + [("all", s["total"])]
        for prio, g in groups:
            for which in ("first_response", "resolution"):
                for field, value in g[which].items():
                    got = kpi[(s["name"], prio, f"{which}.{field}")]
                    assert close(got, value), f"{s['name']} {prio} {which}.{field}: {got} != {value}"
                    n_checked += 1
        # the per-ticket rows add up to the KPI counts
        mine = [r for r in sla_rows if r["sla"] == s["name"]]
        for which, col in (("first_response", "response_verdict"),
                           ("resolution", "resolution_verdict")):
            for verdict in ("met", "breached"):
                n = sum(1 for r in mine if r[col] == verdict)
                assert n == s["total"][which][verdict], (s["name"], which, verdict, n)
        n = sum(1 for r in mine if r["response_verdict"] == "pending")
        assert n == s["total"]["first_response"]["pending"]
        n = sum(1 for r in mine if r["open_breached"] == "true")
        assert n == s["total"]["resolution"]["open_breached"]
        if s["penalty"] is not None:
            assert close(kpi[(s["name"], "all", "penalty.credit")], s["penalty"]["credit"])
    avail = {r["service"]: r for r in read_csv(os.path.join(out, "availability.csv"))}
    assert len(avail) == len(doc["availability"])
    for a in doc["availability"]:
        r = avail[a["service"]]
        for f in ("target_pct", "service_time_s", "downtime_s", "outages",
                  "availability_pct", "credit"):
            assert close(csv_value(r[f]), a[f]), (a["service"], f, r[f], a[f])
        assert csv_value(r["breached"]) == a["breached"]
    assert n_checked > 40, n_checked


def check_usage(cfg, tmp):
    p = run(cfg, "export", "--format", "xml", "--out", tmp, check=False)
    assert p.returncode == 2 and "--format" in p.stderr, p.stderr
    p = run(cfg, "export", "--format", "csv", check=False)
    assert p.returncode == 2 and "--out" in p.stderr, p.stderr
    p = run(cfg, "export", "--format", "json", "--excel", "--out", tmp, check=False)
    assert p.returncode == 2 and "--excel" in p.stderr, p.stderr
    p = run(cfg, "export", "--columns")
    assert "response_verdict" in p.stdout and "availability_pct" in p.stdout
    # a file in the way of the output directory: runtime failure, one line
    blocker = os.path.join(tmp, "blocker")
    open(blocker, "w").close()
    p = run(cfg, "export", "--format", "csv", "--out", blocker, "--month", "2026-10",
            check=False)
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr


def main():
    with tempfile.TemporaryDirectory() as tmp:
        check_small(tmp)
        check_small_late(tmp, os.path.join(tmp, "bridge.cfg"))
    with tempfile.TemporaryDirectory() as tmp:
        cfg = make_sample_store(tmp)
        for month in ("2026-09", "2026-10", "2026-11"):
            check_against_kpi(cfg, tmp, month)
        check_usage(cfg, tmp)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        sys.exit(1)
