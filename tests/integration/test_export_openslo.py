#!/usr/bin/python3
"""test_export_openslo.py -- `export --format openslo`.

The stream is parsed with python3-yaml (scripts/setup.sh --test) and every
document is checked against the required fields of OpenSLO v1 for its kind
(Service, SLO with an inline ratioMetric indicator): apiVersion, RFC 1123
names unique per kind, a Service for every SLO's spec.service, exactly one
calendar-aligned 1M time window in the configuration's timezone starting
on the exported month, a budgeting method, objectives with a target.
Then on the sample configuration: every availability entry and every
ticket SLA target (priority x first response/resolution, as `kpi --format
json` lists them) has its SLO with the configured objective, target
duration and calendar in annotations; and every query reads series the
openmetrics export of the same month holds. Hostile names stay data.
"""
import json
import os
import re
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_export_formats import (SMALL_AS_OF, make_sample_store,  # noqa: E402
                                 make_small_store, run)
from test_export_openmetrics import parse_openmetrics  # noqa: E402

RFC1123 = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
DURATION = re.compile(r"^[1-9][0-9]*[mhdwMQY]$")
ANN_KEY = re.compile(r"^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?/)?"
                     r"[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
ZONEINFO = "/usr/share/zoneinfo"


def need(d, key, typ, where):
    assert isinstance(d, dict) and key in d, f"{where}: '{key}' is required"
    assert isinstance(d[key], typ), f"{where}.{key}: {type(d[key]).__name__}, not {typ}"
    return d[key]


def validate(docs, zone, start):
    """Required fields of every document; returns (services, slos) by name."""
    services, slos = {}, {}
    for n, doc in enumerate(docs):
        where = f"document {n + 1}"
        assert need(doc, "apiVersion", str, where) == "openslo/v1", where
        kind = need(doc, "kind", str, where)
        meta = need(doc, "metadata", dict, where)
        name = need(meta, "name", str, where + ".metadata")
        assert RFC1123.match(name), f"{where}: name {name!r} is not RFC 1123"
        for key, value in (meta.get("annotations") or {}).items():
            assert ANN_KEY.match(key) and isinstance(value, str), (where, key, value)
        spec = need(doc, "spec", dict, where)
        if kind == "Service":
            assert name not in services, f"{where}: Service {name} twice"
            desc = spec.get("description", "")
            assert isinstance(desc, str) and len(desc) <= 1050, where
            services[name] = doc
            continue
        assert kind == "SLO", f"{where}: kind {kind}"
        assert name not in slos, f"{where}: SLO {name} twice"
        assert len(spec.get("description", "")) <= 1050, where
        svc = need(spec, "service", str, where)
        assert svc in services, f"{where}: service {svc} has no Service document before it"
        ind = need(spec, "indicator", dict, where)
        assert RFC1123.match(need(need(ind, "metadata", dict, where), "name", str, where))
        ratio = need(need(ind, "spec", dict, where), "ratioMetric", dict, where)
        assert need(ratio, "counter", bool, where) is False, where
        for part in ("good", "total"):
            src = need(need(ratio, part, dict, where), "metricSource", dict, where)
            assert need(src, "type", str, where) == "Prometheus", where
            need(need(src, "spec", dict, where), "query", str, where)
        assert "bad" not in ratio and "raw" not in ratio, where
        windows = need(spec, "timeWindow", list, where)
        assert len(windows) == 1, f"{where}: exactly one time window"
        w = windows[0]
        assert DURATION.match(need(w, "duration", str, where)) and w["duration"] == "1M", w
        assert need(w, "isRolling", bool, where) is False, w
        cal = need(w, "calendar", dict, where)
        assert need(cal, "startTime", str, where) == start, cal
        assert need(cal, "timeZone", str, where) == zone, cal
        assert os.path.exists(os.path.join(ZONEINFO, zone)), zone
        assert need(spec, "budgetingMethod", str, where) in ("Occurrences", "Timeslices",
                                                           "RatioTimeslices")
        objectives = need(spec, "objectives", list, where)
        assert objectives, f"{where}: no objective"
        for o in objectives:
            t = need(o, "target", (int, float), where)
            # OpenSLO writes [0, 1); 1 is "every ticket" (docs/exports.md)
            assert 0 <= t <= 1 and "targetPercent" not in o, (where, o)
            need(o, "displayName", str, where)
        slos[name] = doc
    return services, slos


def export(cfg, month, as_of, fmt, out):
    run(cfg, "export", "--format", fmt, "--out", out, "--month", month, "--as-of", as_of)


def series_of(query):
    """The selectors of a query as (metric, {label: value})."""
    out = []
    for m in re.finditer(r'(itsm_bridge_[a-z_]+)\{((?:[a-z_]+="(?:[^"\\]|\\.)*",?)*)\}', query):
        labels = dict((k, json.loads('"' + v + '"')) for k, v in
                      re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        out.append((m.group(1), labels))
    assert out, f"no selector in {query!r}"
    return out


def check_sample(tmp):
    cfg = make_sample_store(tmp)
    as_of = "2026-12-01T08:00:00Z"
    path, prom = os.path.join(tmp, "slo.yaml"), os.path.join(tmp, "m.prom")
    export(cfg, "2026-11", as_of, "openslo", path)
    export(cfg, "2026-11", as_of, "openmetrics", prom)
    docs = list(yaml.safe_load_all(open(path, encoding="utf-8")))
    services, slos = validate(docs, "Europe/Paris", "2026-11-01 00:00:00")
    samples = parse_openmetrics(open(prom, encoding="utf-8").read())
    have = {(n, frozenset(labels)) for n, labels in samples}
    for name, doc in slos.items():
        ratio = doc["spec"]["indicator"]["spec"]["ratioMetric"]
        for part in ("good", "total"):
            for metric, labels in series_of(ratio[part]["metricSource"]["spec"]["query"]):
                assert (metric, frozenset(labels.items())) in have, (name, metric, labels)
    kpi = json.loads(run(cfg, "kpi", "--month", "2026-11", "--as-of", as_of,
                         "--format", "json").stdout)
    ann = lambda d: d["metadata"]["annotations"]  # noqa: E731
    # every availability objective
    for a in kpi["availability"]:
        found = [d for d in slos.values() if ann(d).get("itsm-bridge/service") == a["service"]]
        assert len(found) == 1, (a["service"], list(slos))
        d = found[0]
        assert abs(d["spec"]["objectives"][0]["target"] - a["target_pct"] / 100) < 1e-9, d
        assert ann(d)["itsm-bridge/calendar"] == a["calendar"], d
        assert services[d["spec"]["service"]]["metadata"]["displayName"] == a["service"]
    # every ticket SLA target, with what OpenSLO cannot say in annotations
    n_ticket_slos = 0
    for s in kpi["slas"]:
        for p in s["by_priority"]:
            for which in ("first_response", "resolution"):
                target = p[which]["target_s"]
                if target is None:
                    continue
                found = [d for d in slos.values()
                         if ann(d).get("itsm-bridge/sla") == s["name"]
                         and ann(d).get("itsm-bridge/priority") == p["priority"]
                         and ann(d).get("itsm-bridge/kpi") == which]
                assert len(found) == 1, (s["name"], p["priority"], which)
                d = found[0]
                n_ticket_slos += 1
                a = ann(d)
                assert int(a["itsm-bridge/target-seconds"]) == target, a
                assert a["itsm-bridge/calendar"] == "office-paris", a
                assert a["itsm-bridge/calendar-timezone"] == "Europe/Paris", a
                assert "mon 08:00-12:30,13:30-18:00" in a["itsm-bridge/business-hours"], a
                assert "sat closed" in a["itsm-bridge/business-hours"], a
                assert "2026-11-11" in a["itsm-bridge/holidays"], a
                assert a["itsm-bridge/pauses"] == ("deducted" if which == "resolution"
                                                   else "not deducted"), a
                # no compliance objective configured: every ticket counts
                assert d["spec"]["objectives"][0]["target"] == 1, d
                svc = services[d["spec"]["service"]]
                assert svc["metadata"]["displayName"] == s["name"], svc
    assert n_ticket_slos == 10, n_ticket_slos  # support 3 x 2, requests 2 x 2
    assert len(slos) == n_ticket_slos + len(kpi["availability"]), sorted(slos)
    # the target durations in the configuration's words
    words = {ann(d)["itsm-bridge/target-duration"] for d in slos.values()
             if "itsm-bridge/target-duration" in ann(d)}
    assert {"30m", "4h", "1h", "8h", "3d", "2h", "2d", "5d"} <= words, words


def check_small_and_hostile(tmp):
    cfg = make_small_store(tmp)
    out = run(cfg, "export", "--format", "openslo", "--out", "-", "--month", "2026-10",
              "--as-of", SMALL_AS_OF).stdout
    validate(list(yaml.safe_load_all(out)), "UTC", "2026-10-01 00:00:00")
    # a service whose name has quotes, a newline and YAML-looking text
    text = open(cfg, encoding="utf-8").read()
    text = text.replace('service = "ERP"', 'service = "Desk\\n\\"SLA\\""')
    hostile = os.path.join(tmp, "hostile.cfg")
    with open(hostile, "w", encoding="utf-8") as f:
        f.write(text)
    out = run(hostile, "export", "--format", "openslo", "--out", "-", "--month", "2026-10",
              "--as-of", SMALL_AS_OF).stdout
    services, slos = validate(list(yaml.safe_load_all(out)), "UTC", "2026-10-01 00:00:00")
    shown = sorted(d["metadata"]["displayName"] for d in services.values())
    assert shown == sorted(['Desk\n"SLA"', "desk"]), shown
    # "desk-sla" twice (the service, and SLA desk's Service): made unique
    assert sorted(services) == ["desk-sla", "desk-sla-2"], sorted(services)
    assert len(services) == 2 and len(slos) == 1 + 4, (services.keys(), slos.keys())


def main():
    with tempfile.TemporaryDirectory() as tmp:
        check_small_and_hostile(tmp)
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
