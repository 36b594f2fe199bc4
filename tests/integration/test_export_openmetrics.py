#!/usr/bin/python3
"""test_export_openmetrics.py -- `export --format openmetrics --out FILE`.

The file must pass `promtool check metrics` (Debian's prometheus package;
the test FAILS when promtool is missing) and the strict OpenMetrics checker
below (HELP/TYPE before samples, families contiguous, no duplicate series,
escaped label values, `# EOF` last). Its figures are checked against the
hand-computed month of test_export_formats (its error budget and burn
rate included) and against `kpi --format json` on the sample data. Standard library only.
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_export_formats import (SMALL_AS_OF, SMALL_LATE,  # noqa: E402
                                 make_sample_store, make_small_late_changes,
                                 make_small_store, run)

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{({LABEL}(?:,{LABEL})*)?\}})? (\S+)$")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"')
TYPES = {"gauge", "counter", "stateset", "info", "histogram",
         "gaugehistogram", "summary", "unknown"}


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


def parse_openmetrics(text):
    """Strict parse; returns {(name, frozenset(labels)): value}. Raises
    AssertionError naming the line on any violation."""
    assert text.endswith("# EOF\n"), "must end with '# EOF' and a newline"
    lines = text[:-1].split("\n")
    assert lines[-1] == "# EOF" and "# EOF" not in lines[:-1], "one # EOF, last"
    families, seen_done, current = {}, set(), None
    samples = {}
    for n, line in enumerate(lines[:-1], 1):
        assert line and line == line.strip(), f"line {n}: blank or padded line"
        if line.startswith("#"):
            m = re.match(rf"^# (HELP|TYPE|UNIT) ({NAME}) (.*)$", line)
            assert m, f"line {n}: malformed metadata {line!r}"
            kind, fam, rest = m.groups()
            if fam != current:
                assert fam not in seen_done and fam not in families, \
                    f"line {n}: family {fam} is not contiguous"
                if current:
                    seen_done.add(current)
                current = fam
                families[fam] = {}
            assert kind not in families[fam], f"line {n}: second {kind} for {fam}"
            assert not families[fam].get("samples"), f"line {n}: metadata after samples"
            if kind == "TYPE":
                assert rest in TYPES, f"line {n}: unknown type {rest}"
            if kind == "HELP":
                assert not re.search(r'\\[^\\n"]', rest), f"line {n}: bad escape in HELP"
            families[fam][kind] = rest
            continue
        m = SAMPLE.match(line)
        assert m, f"line {n}: malformed sample {line!r}"
        name, labels, value = m.groups()
        assert name == current, f"line {n}: sample {name} outside its family {current}"
        assert families[current].get("TYPE") == "gauge", f"line {n}: gauge expected"
        assert "HELP" in families[current], f"line {n}: no HELP for {name}"
        families[current]["samples"] = True
        pairs = LABEL_RE.findall(labels or "")
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"line {n}: repeated label"
        v = float(value)  # raises on junk
        assert not math.isnan(v), f"line {n}: NaN written for a null figure"
        key = (name, frozenset((k, unescape(x)) for k, x in pairs))
        assert key not in samples, f"line {n}: duplicate series"
        samples[key] = v
    return samples


def get(samples, name, **labels):
    key = ("itsm_bridge_" + name, frozenset(labels.items()))
    assert key in samples, f"missing {name}{labels}"
    return samples[key]


def promtool(path):
    exe = shutil.which("promtool")
    assert exe, "promtool not found: install Debian's prometheus package (scripts/setup.sh)"
    with open(path, "rb") as f:
        p = subprocess.run([exe, "check", "metrics"], stdin=f, capture_output=True, text=True)
    assert p.returncode == 0, f"promtool check metrics: {p.stdout}{p.stderr}"


def check_small(tmp):
    cfg = make_small_store(tmp)
    prom = os.path.join(tmp, "itsm.prom")
    run(cfg, "export", "--format", "openmetrics", "--out", prom, "--month",
        "2026-10", "--as-of", SMALL_AS_OF)
    promtool(prom)
    text = open(prom, encoding="utf-8").read()
    s = parse_openmetrics(text)
    assert [f for f in os.listdir(tmp) if f.startswith(".itsm.prom")] == [], "temp file left"
    # hand-computed: see test_export_formats
    assert get(s, "sla_compliance_ratio", sla="desk", priority="all", kpi="first_response") == 0.5
    assert get(s, "sla_compliance_ratio", sla="desk", priority="P1", kpi="resolution") == 0.5
    assert get(s, "sla_target_seconds", sla="desk", priority="P2", kpi="resolution") == 28800
    assert get(s, "sla_breached_tickets", sla="desk", priority="all", kpi="first_response") == 2
    assert get(s, "sla_mttr_seconds", sla="desk", priority="all") == 15600
    assert get(s, "sla_first_response_mean_seconds", sla="desk", priority="P1") == 2400
    assert get(s, "sla_credit", sla="desk", currency="EUR") == 200
    assert get(s, "sla_credit_ratio", sla="desk") == 0.2
    assert get(s, "availability_ratio", service="ERP") == 0.991416  # 1 - 14400/1677600 (October so far)
    assert get(s, "availability_target_ratio", service="ERP") == 0.995
    assert get(s, "availability_downtime_seconds", service="ERP") == 14400
    assert get(s, "availability_credit", service="ERP", currency="EUR") == 25.75
    assert get(s, "kpi_as_of_timestamp_seconds") == 1792490400  # 2026-10-20T10:00Z
    ok = get(s, "sync_last_success_timestamp_seconds", source="desk")
    assert abs(ok - __import__("time").time()) < 3600, ok
    assert get(s, "sla_resolution_p90_seconds", sla="desk", priority="P2") == 14400
    check_error_budget(s, text)
    # the file is replaced whole: a second export over it works
    run(cfg, "export", "--format", "openmetrics", "--out", prom, "--month",
        "2026-10", "--as-of", SMALL_AS_OF)
    assert open(prom, encoding="utf-8").read() == text
    # no late change yet: every category written, at 0
    for cat in ("priority_changed", "resolution_moved", "deleted", "outage_changed"):
        assert get(s, "late_changes", category=cat) == 0, cat

    # the provider edits October after it ended: one late change per edit
    make_small_late_changes(tmp, cfg)
    run(cfg, "export", "--format", "openmetrics", "--out", prom, "--month",
        "2026-10", "--as-of", SMALL_AS_OF)
    promtool(prom)
    s = parse_openmetrics(open(prom, encoding="utf-8").read())
    want = {}
    for cat, _, _ in SMALL_LATE.values():
        want[cat] = want.get(cat, 0) + 1
    for cat, n in want.items():
        assert get(s, "late_changes", category=cat) == n, (cat, n)
    assert get(s, "late_changes", category="created_backdated") == 0
    total = sum(v for (name, _), v in s.items() if name == "itsm_bridge_late_changes")
    assert total == len(SMALL_LATE), total


def check_error_budget(s, text):
    """ERP, 99.5 % on 24x7, October so far (as of 20 Oct 10:00): the whole
    month is 31 * 86400 = 2678400 s, so the budget is 0.005 * 2678400 =
    13392 s; 14400 s down uses 14400 / 13392 = 1.075269 of it (exhausted:
    remaining -0.075269); 1677600 s of the month have elapsed, so the burn
    rate is (14400 / 1677600) / 0.005 = 1.716738."""
    assert get(s, "availability_objective_ratio", service="ERP") == 0.995
    assert get(s, "availability_error_budget_ratio", service="ERP") == 0.005
    assert get(s, "availability_period_seconds", service="ERP") == 2678400
    assert get(s, "availability_error_budget_seconds", service="ERP") == 13392
    assert get(s, "availability_error_budget_consumed_ratio", service="ERP") == 1.075269
    assert get(s, "availability_error_budget_remaining_ratio", service="ERP") == -0.075269
    assert get(s, "availability_burn_rate_ratio", service="ERP") == 1.716738
    # base units said in UNIT lines, which OpenMetrics ties to the suffix
    for fam, unit in (("availability_error_budget_remaining_ratio", "ratio"),
                      ("availability_burn_rate_ratio", "ratio"),
                      ("availability_period_seconds", "seconds"),
                      ("availability_error_budget_seconds", "seconds")):
        assert f"# UNIT itsm_bridge_{fam} {unit}\n" in text, fam
    for line in text.split("\n"):
        if line.startswith("# UNIT "):
            _, _, fam, unit = line.split(" ")
            assert fam.endswith("_" + unit), line


def check_sample(tmp):
    cfg = make_sample_store(tmp)
    as_of = "2026-12-01T08:00:00Z"
    prom = os.path.join(tmp, "sample.prom")
    run(cfg, "export", "--format", "openmetrics", "--out", prom, "--month",
        "2026-10", "--as-of", as_of)
    promtool(prom)
    s = parse_openmetrics(open(prom, encoding="utf-8").read())
    doc = json.loads(run(cfg, "kpi", "--month", "2026-10", "--as-of", as_of,
                         "--format", "json").stdout)
    for sla in doc["slas"]:
        groups = [(p["priority"], p) for p in sla["by_priority"]] + [("all", sla["total"])]
        for prio, g in groups:
            for which in ("first_response", "resolution"):
                pct = g[which]["compliance_pct"]
                key = ("itsm_bridge_sla_compliance_ratio",
                       frozenset({"sla": sla["name"], "priority": prio, "kpi": which}.items()))
                if pct is None:
                    assert key not in s, key
                else:
                    assert math.isclose(s[key], pct / 100, abs_tol=1e-5), (key, s[key], pct)
            mttr = g["resolution"]["mttr_s"]
            if mttr is not None:
                assert math.isclose(get(s, "sla_mttr_seconds", sla=sla["name"], priority=prio),
                                    mttr, abs_tol=1e-3)
    for a in doc["availability"]:
        assert math.isclose(get(s, "availability_ratio", service=a["service"]),
                            a["availability_pct"] / 100, abs_tol=1e-5)
        assert get(s, "availability_outages", service=a["service"]) == a["outages"]
        # the budget agrees with the JSON figures it is made of
        budget = (1 - a["target_pct"] / 100) * get(s, "availability_period_seconds",
                                                    service=a["service"])
        assert math.isclose(get(s, "availability_error_budget_consumed_ratio",
                                service=a["service"]), a["downtime_s"] / budget,
                            abs_tol=1e-6)


def check_parser_is_strict():
    good = ('# HELP itsm_bridge_x x.\n# TYPE itsm_bridge_x gauge\n'
            'itsm_bridge_x{a="q\\"b"} 1\n# EOF\n')
    assert parse_openmetrics(good)
    for bad in (good.replace("# EOF\n", ""),
                good.replace('a="q\\"b"', 'a="q"b"'),
                good + "itsm_bridge_x 2\n",
                good.replace(" 1\n", " NaN\n"),
                good.replace("# TYPE itsm_bridge_x gauge\n", "")):
        try:
            parse_openmetrics(bad)
        except (AssertionError, ValueError):
            continue
        raise AssertionError(f"the checker accepted {bad!r}")


def main():
    check_parser_is_strict()
    with tempfile.TemporaryDirectory() as tmp:
        check_small(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        check_sample(tmp)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        sys.exit(1)
