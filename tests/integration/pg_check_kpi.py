#!/usr/bin/python3
"""pg_check_kpi.py -- checks that the PostgreSQL export holds exactly the
figures of `kpi --format json` (itsm-bridge.kpi/1) for one period: every
KPI of every SLA, priority and total, the penalties and the availability,
in the kpi table and in the availability table. Reads the database with
psql only (standard library); must not write to it.

usage: pg_check_kpi.py KPI.json PSQL SCHEMA PERIOD
(psql connects through the PG* environment variables)."""
import json
import subprocess
import sys


def psql(psql_bin, sql, **variables):
    """Rows of one query; values come in as psql variables (:'name')."""
    args = [psql_bin, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
    for name, value in variables.items():
        args += ["-v", "%s=%s" % (name, value)]
    run = subprocess.run(args + ["-f", "-"], input=sql, capture_output=True,
                         text=True)
    if run.returncode != 0:
        sys.exit("pg_check_kpi: psql failed: " + run.stderr.strip())
    out = run.stdout
    return [line.split("\t") for line in out.splitlines() if line]


def same(json_value, db_text):
    """A JSON figure (number, bool or null) against psql's text."""
    if json_value is None:
        return db_text == ""
    if isinstance(json_value, bool):
        return db_text in (("t", "true", "1") if json_value else ("f", "false", "0"))
    if db_text == "":
        return False
    return abs(float(db_text) - float(json_value)) < 1e-9


def expected_kpi_rows(doc):
    """(sla, priority, kpi) -> value, named like the tidy kpi table."""
    rows = {}
    for sla in doc["slas"]:
        groups = [(p["priority"], p) for p in sla["by_priority"]]
        groups.append(("all", sla["total"]))
        for prio, obj in groups:
            for kpi in ("first_response", "resolution"):
                for field, value in obj[kpi].items():
                    rows[(sla["name"], prio, "%s.%s" % (kpi, field))] = value
        if sla["penalty"] is not None:
            for field in ("credit_pct", "credit"):
                rows[(sla["name"], "all", "penalty." + field)] = sla["penalty"][field]
    for av in doc["availability"]:
        for field in ("target_pct", "service_time_s", "downtime_s", "outages",
                      "availability_pct", "breached", "credit"):
            rows[(av["service"], "all", "availability." + field)] = av[field]
    return rows


def main():
    kpi_json, psql_bin, schema, period = sys.argv[1:5]
    with open(kpi_json, encoding="utf-8") as f:
        doc = json.load(f)
    problems = []

    expected = expected_kpi_rows(doc)
    got = {(r[0], r[1], r[2]): r[3] for r in psql(psql_bin,
           "SELECT sla, priority, kpi, coalesce(value::text, '') FROM :\"schema\".kpi "
           "WHERE period = :'period'", schema=schema, period=period)}
    for key in sorted(set(expected) | set(got)):
        if key not in got:
            problems.append("kpi row %s missing from the database" % (key,))
        elif key not in expected:
            problems.append("kpi row %s in the database but not in kpi --format json" % (key,))
        elif not same(expected[key], got[key]):
            problems.append("kpi %s: json %r, database %r" % (key, expected[key], got[key]))

    cols = ("calendar", "target_pct", "service_time_s", "downtime_s", "outages",
            "availability_pct", "breached", "currency", "credit")
    got_av = {r[0]: dict(zip(cols, r[1:])) for r in psql(psql_bin,
              "SELECT service, %s FROM :\"schema\".availability WHERE period = :'period'"
              % ", ".join("coalesce(%s::text, '')" % c for c in cols),
              schema=schema, period=period)}
    for av in doc["availability"]:
        row = got_av.pop(av["service"], None)
        if row is None:
            problems.append("availability of %s missing" % av["service"])
            continue
        for c in cols:
            if c in ("calendar", "currency"):
                if (av[c] or "") != row[c]:
                    problems.append("availability %s.%s: json %r, database %r"
                                    % (av["service"], c, av[c], row[c]))
            elif not same(av[c], row[c]):
                problems.append("availability %s.%s: json %r, database %r"
                                % (av["service"], c, av[c], row[c]))
    for service in got_av:
        problems.append("availability of %s in the database only" % service)

    for p in problems:
        print("MISMATCH: " + p, file=sys.stderr)
    print("pg_check_kpi: %d kpi rows, %d availability rows compared, %d mismatches"
          % (len(expected), len(doc["availability"]), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
