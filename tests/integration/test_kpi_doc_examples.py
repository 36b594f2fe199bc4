#!/usr/bin/python3
"""test_kpi_doc_examples.py -- every worked example of docs/kpi.md, built as
the page describes it (a configuration and a CSV export synced through the
real csv plugin into a fresh SQLite store), run through `itsm-bridge kpi
--format json`, with the figures the page states asserted here. When you
change an example in docs/kpi.md, change it here too (and the other way
round); the section names below are the page's headings.

The JSON shape section shows a whole document: that block is read from
docs/kpi.md itself and must equal the output of the statistics example.
Standard library only; run with /usr/bin/python3. Writes only in a
temporary directory.
"""
import atexit
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ.get("IB_BIN", "build/itsm-bridge")
PLUGINS = os.environ.get("IB_PLUGIN_DIR", "build/plugins")
SRC = os.environ.get("IB_SOURCE_DIR", ".")
ENV = dict(os.environ, TZDIR="/usr/share/zoneinfo")

TICKET_HEADER = ("id,title,kind,priority,status,service,created,first_response,"
                 "resolved,pause_start,pause_end")
OUTAGE_HEADER = "id,service,start,end,kind"

CFG = """store = {{ path = "{dir}/store.db"; }};
timezone = "{tz}";
plugin_dir = "{plugins}";
calendars = ( {calendars} );
sources = (
  {{ name = "desk"; plugin = "csv"; path = "{dir}/tickets.csv";
    statuses = ( ("open", "open"), ("resolved", "resolved") );
    kinds = ( ("Incident", "incident"), ("Request", "request") ); }}{outage_source}
);
slas = ( {slas} );
{availability}
"""

OUTAGE_SOURCE = """,
  { name = "desk-outages"; plugin = "csv"; records = "outages";
    path = "%s/outages.csv";
    kinds = ( ("outage", "outage"), ("degradation", "degradation"),
              ("planned", "planned") ); }"""

H24 = '{ name = "24x7"; timezone = "UTC"; }'
SUPPORT = """{ name = "support"; calendar = "24x7";
    targets = ( { priority = "P1"; first_response = "30m"; resolution = "4h"; } ); }"""

failures = []


def check(what, got, want):
    if isinstance(want, float) and isinstance(got, (int, float)) and \
            not isinstance(got, bool):
        ok = abs(got - want) < 1e-9
    else:
        ok = got == want
    if not ok:
        failures.append("%s: got %r, the page says %r" % (what, got, want))


class Example:
    """One worked example: its own directory, configuration and store."""

    def __init__(self, name, tickets, outages=None, tz="UTC", calendars=H24,
                 slas=SUPPORT, availability=""):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="kpi-doc-")
        atexit.register(shutil.rmtree, self.dir, True)  # even on sys.exit
        with open(os.path.join(self.dir, "tickets.csv"), "w") as f:
            f.write(TICKET_HEADER + "\n")
            for row in tickets:
                cells = list(row) + [""] * (11 - len(row))
                f.write(",".join(cells) + "\n")
        outage_source = ""
        if outages is not None:
            outage_source = OUTAGE_SOURCE % self.dir
            with open(os.path.join(self.dir, "outages.csv"), "w") as f:
                f.write(OUTAGE_HEADER + "\n")
                for row in outages:
                    f.write(",".join(row) + "\n")
        self.cfg = os.path.join(self.dir, "kpi.cfg")
        with open(self.cfg, "w") as f:
            f.write(CFG.format(dir=self.dir, tz=tz, plugins=PLUGINS,
                               calendars=calendars, outage_source=outage_source,
                               slas=slas, availability=availability))
        out = self.run("sync")
        if "0 rejected" not in out or "rejected" in out.replace("0 rejected", ""):
            failures.append("%s: sync rejected rows: %s" % (name, out))

    def run(self, *args):
        p = subprocess.run([BIN, "-c", self.cfg, "--plugin-dir", PLUGINS] + list(args),
                           capture_output=True, text=True, env=ENV)
        if p.returncode != 0:
            sys.exit("%s: itsm-bridge %s exited %d: %s" % (
                self.name, " ".join(args), p.returncode, p.stderr.strip()))
        self.stderr = p.stderr
        return p.stdout

    def kpi(self, *args):
        return json.loads(self.run("kpi", "--format", "json", *args))

    def store(self, sql, params=()):
        con = sqlite3.connect(os.path.join(self.dir, "store.db"))
        con.execute(sql, params)
        con.commit()
        con.close()


def prio(doc, p, sla=0):
    for o in doc["slas"][sla]["by_priority"]:
        if o["priority"] == p:
            return o
    raise KeyError(p)


def periods():
    """## Periods, as_of and end"""
    ex = Example("periods", [], tz="Europe/Paris")
    doc = ex.kpi("--month", "2026-10", "--as-of", "2026-10-20T12:00:00Z")
    check("periods: --month from", doc["period"]["from"], "2026-09-30T22:00:00Z")
    check("periods: --month to", doc["period"]["to"], "2026-10-31T23:00:00Z")
    check("periods: as_of", doc["period"]["as_of"], "2026-10-20T12:00:00Z")
    doc = ex.kpi("--from", "2026-10-01", "--to", "2026-10-08",
                 "--as-of", "2026-10-20T12:00:00Z")
    check("periods: --from date", doc["period"]["from"], "2026-09-30T22:00:00Z")
    check("periods: --to date", doc["period"]["to"], "2026-10-07T22:00:00Z")


def cohorts():
    """## Cohorts"""
    ex = Example("cohorts", [
        ("A", "a", "Incident", "P1", "resolved", "", "2026-10-05T08:00:00Z",
         "2026-10-05T08:20:00Z", "2026-10-05T11:00:00Z"),
        ("B", "b", "Incident", "P1", "open", "", "2026-10-19T09:00:00Z", "", ""),
        ("C", "c", "Incident", "P1", "open", "", "2026-10-20T11:50:00Z", "", ""),
        ("D", "d", "Incident", "P1", "resolved", "", "2026-09-30T20:00:00Z",
         "2026-09-30T20:10:00Z", "2026-10-01T01:00:00Z"),
    ], tz="Europe/Paris")
    doc = ex.kpi("--month", "2026-10", "--as-of", "2026-10-20T12:00:00Z")
    fr, res = prio(doc, "P1")["first_response"], prio(doc, "P1")["resolution"]
    for k, v in (("tickets", 3), ("met", 1), ("breached", 1), ("pending", 1),
                 ("compliance_pct", 50.0), ("mean_s", 49200), ("median_s", 49200),
                 ("p90_s", 97200)):
        check("cohorts: first_response." + k, fr[k], v)
    for k, v in (("tickets", 2), ("met", 1), ("breached", 1), ("open_breached", 1),
                 ("compliance_pct", 50.0), ("mttr_s", 14400), ("median_s", 14400),
                 ("p90_s", 18000)):
        check("cohorts: resolution." + k, res[k], v)


def calendars():
    """## Business calendars"""
    cals = """{ name = "office-paris"; timezone = "Europe/Paris";
    hours = { mon = "08:00-12:30,13:30-18:00"; tue = "08:00-18:00"; wed = "08:00-18:00";
              thu = "08:00-18:00"; fri = "08:00-17:00"; };
    holidays = [ "2026-11-11" ]; },
  { name = "night"; timezone = "UTC";
    hours = { sat = "20:00-24:00"; sun = "00:00-06:00"; }; }"""
    slas = """{ name = "office"; calendar = "office-paris"; kinds = [ "incident" ];
    targets = ( { priority = "P1"; resolution = "100h"; },
                { priority = "P2"; resolution = "100h"; },
                { priority = "P3"; resolution = "100h"; } ); },
  { name = "night"; calendar = "night"; kinds = [ "request" ];
    targets = ( { priority = "P4"; resolution = "100h"; } ); }"""
    ex = Example("calendars", [
        ("L", "lunch", "Incident", "P1", "resolved", "", "2026-11-02T11:00:00Z", "",
         "2026-11-02T13:00:00Z"),
        ("S", "dst", "Incident", "P2", "resolved", "", "2026-10-23T14:00:00Z", "",
         "2026-10-26T09:00:00Z"),
        ("H", "holiday", "Incident", "P3", "resolved", "", "2026-11-10T16:00:00Z", "",
         "2026-11-12T08:00:00Z"),
        ("N", "night", "Request", "P4", "resolved", "", "2026-10-10T23:00:00Z", "",
         "2026-10-11T01:00:00Z"),
    ], calendars=cals, slas=slas)
    doc = ex.kpi("--from", "2026-10-01T00:00:00Z", "--to", "2026-12-01T00:00:00Z",
                 "--as-of", "2026-12-05T00:00:00Z")
    check("calendars: L (lunch)", prio(doc, "P1")["resolution"]["mttr_s"], 3600)
    check("calendars: S (DST, weekend)", prio(doc, "P2")["resolution"]["mttr_s"], 10800)
    check("calendars: H (holiday)", prio(doc, "P3")["resolution"]["mttr_s"], 7200)
    check("calendars: N (24:00)", prio(doc, "P4", sla=1)["resolution"]["mttr_s"], 7200)


def pauses():
    """## Pauses"""
    slas = """{ name = "support"; calendar = "24x7";
    targets = ( { priority = "P1"; first_response = "30m"; resolution = "4h"; },
                { priority = "P2"; first_response = "30m"; resolution = "4h"; } ); }"""
    ex = Example("pauses", [
        ("Q1", "paused", "Incident", "P1", "resolved", "", "2026-10-05T08:00:00Z",
         "2026-10-05T08:40:00Z", "2026-10-05T13:00:00Z", "2026-10-05T09:00:00Z",
         "2026-10-05T11:00:00Z"),
        ("Q2", "waiting", "Incident", "P2", "open", "", "2026-10-20T06:00:00Z",
         "2026-10-20T06:10:00Z", "", "2026-10-20T08:00:00Z", ""),
    ], slas=slas)
    doc = ex.kpi("--month", "2026-10", "--as-of", "2026-10-20T12:00:00Z")
    p1, p2 = prio(doc, "P1"), prio(doc, "P2")
    check("pauses: Q1 resolution", p1["resolution"]["mttr_s"], 10800)
    check("pauses: Q1 resolution met", p1["resolution"]["met"], 1)
    check("pauses: Q1 first response", p1["first_response"]["mean_s"], 2400)
    check("pauses: Q1 first response breached", p1["first_response"]["breached"], 1)
    check("pauses: Q2 not at risk", p2["resolution"]["open_breached"], 0)
    # Without its running pause Q2 would be at risk (6 h > 4 h): the same
    # ticket with the pause ended at 08:00 is.
    ex.store("UPDATE pauses SET end = start")
    doc = ex.kpi("--month", "2026-10", "--as-of", "2026-10-20T12:00:00Z")
    check("pauses: Q2 without pause at risk", prio(doc, "P2")["resolution"]["open_breached"], 1)


STATS_TICKETS = [
    ("S1", "s1", "Incident", "P1", "resolved", "", "2026-10-05T08:00:00Z",
     "2026-10-05T08:05:00Z", "2026-10-05T08:10:00Z"),
    ("S2", "s2", "Incident", "P1", "resolved", "", "2026-10-06T08:00:00Z",
     "2026-10-06T08:05:00Z", "2026-10-06T08:20:00Z"),
    ("S3", "s3", "Incident", "P1", "resolved", "", "2026-10-07T08:00:00Z",
     "2026-10-07T08:05:00Z", "2026-10-07T08:50:00Z"),
    ("S4", "s4", "Incident", "P1", "resolved", "", "2026-10-08T08:00:00Z",
     "2026-10-08T08:05:00Z", "2026-10-08T09:40:00Z"),
]
STATS_SLA = """{ name = "support"; calendar = "24x7";
    targets = ( { priority = "P1"; first_response = "30m"; resolution = "1h"; } ); }"""


def statistics():
    """## Statistics"""
    ex = Example("statistics", STATS_TICKETS, slas=STATS_SLA)
    doc = ex.kpi("--month", "2026-10", "--as-of", "2026-11-05T00:00:00Z")
    res = prio(doc, "P1")["resolution"]
    for k, v in (("tickets", 4), ("met", 3), ("breached", 1), ("compliance_pct", 75.0),
                 ("mttr_s", 2700), ("median_s", 2100), ("p90_s", 6000)):
        check("statistics: resolution." + k, res[k], v)
    check("statistics: first_response.mean_s", prio(doc, "P1")["first_response"]["mean_s"],
          300)
    return doc


def disagreements():
    """## Reported disagreements"""
    ex = Example("disagreements", [
        ("R1", "r1", "Incident", "P1", "resolved", "", "2026-10-05T08:00:00Z",
         "2026-10-05T08:20:00Z", "2026-10-05T09:00:00Z"),
        ("R2", "r2", "Incident", "P1", "resolved", "", "2026-10-06T08:00:00Z",
         "2026-10-06T08:45:00Z", "2026-10-06T09:00:00Z"),
        ("R3", "r3", "Incident", "P1", "open", "", "2026-10-31T22:00:00Z", "", ""),
    ])
    # The csv plugin has no column for a provider's own verdict (Jira and
    # ServiceNow report them): written in the store as their sync would.
    for key, verdict in (("R1", 1), ("R2", 1), ("R3", 0)):
        ex.store("UPDATE tickets SET reported_response_breached = ? WHERE id = ?",
                 (verdict, key))
    doc = ex.kpi("--month", "2026-10", "--as-of", "2026-11-05T00:00:00Z")
    fr = prio(doc, "P1")["first_response"]
    check("disagreements: met", fr["met"], 1)
    check("disagreements: breached", fr["breached"], 2)
    check("disagreements: reported_disagreements", fr["reported_disagreements"], 2)
    check("disagreements: total", doc["slas"][0]["total"]["first_response"]
          ["reported_disagreements"], 2)
    check("disagreements: resolution", prio(doc, "P1")["resolution"]
          ["reported_disagreements"], 0)


def disagreement_reasons():
    """### Why they disagree"""
    cals = """{ name = "office"; timezone = "UTC";
    hours = { mon = "09:00-17:00"; tue = "09:00-17:00"; wed = "09:00-17:00";
              thu = "09:00-17:00"; fri = "09:00-17:00"; }; }"""
    slas = """{ name = "support"; calendar = "office";
    targets = ( { priority = "P1"; first_response = "30m"; resolution = "4h"; } ); }"""
    ex = Example("reasons", [
        ("W1", "w1", "Incident", "P1", "resolved", "", "2026-10-05T09:00:00Z",
         "2026-10-05T09:10:00Z", "2026-10-05T14:30:00Z", "2026-10-05T10:00:00Z",
         "2026-10-05T12:00:00Z"),
        ("W2", "w2", "Incident", "P1", "resolved", "", "2026-10-09T16:00:00Z",
         "2026-10-09T16:10:00Z", "2026-10-12T10:00:00Z"),
        ("W3", "w3", "Incident", "P1", "resolved", "", "2026-10-07T09:00:00Z",
         "", "2026-10-07T09:20:00Z"),
        ("W4", "w4", "Incident", "P1", "resolved", "", "2026-10-08T09:00:00Z",
         "2026-10-08T09:05:00Z", "2026-10-08T10:00:00Z"),
    ], calendars=cals, slas=slas)
    # The provider's verdicts, written in the store as a sync would.
    for column, key in (("reported_resolution_breached", "W1"),
                        ("reported_resolution_breached", "W2"),
                        ("reported_response_breached", "W3"),
                        ("reported_response_breached", "W4")):
        ex.store("UPDATE tickets SET %s = 1 WHERE id = ?" % column, (key,))
    period = ("--month", "2026-10", "--as-of", "2026-11-05T00:00:00Z")
    doc = json.loads(ex.run("kpi", "--disagreements", "--format", "json", *period))
    got = {(r["id"], r["kpi"]): (r["measured_s"], r["ours"], r["theirs"], r["reason"])
           for r in doc["disagreements"]}
    check("reasons: listed", got, {
        ("W1", "resolution"): (12600, "met", "breached", "pauses"),
        ("W2", "resolution"): (7200, "met", "breached", "calendar"),
        ("W3", "first_response"): (1200, "met", "breached", "response_from_resolution"),
        ("W4", "first_response"): (300, "met", "breached", "unexplained"),
    })
    kpi = ex.kpi(*period)
    check("reasons: first response counted",
          prio(kpi, "P1")["first_response"]["reported_disagreements"], 2)
    check("reasons: resolution counted",
          prio(kpi, "P1")["resolution"]["reported_disagreements"], 2)


def availability():
    """## Availability"""
    av = """availability = (
  { service = "ERP"; target_pct = 99.5; calendar = "24x7";
    monthly_fee = 3000.0; currency = "EUR"; credit = "proportional";
    from_tickets = { kinds = [ "incident" ]; priorities = [ "P1" ]; }; }
);"""
    ex = Example("availability", [
        ("T1", "erp down", "Incident", "P1", "resolved", "ERP", "2026-10-10T08:00:00Z",
         "2026-10-10T08:05:00Z", "2026-10-10T09:30:00Z"),
        ("T2", "erp slow", "Incident", "P2", "resolved", "ERP", "2026-10-11T08:00:00Z",
         "2026-10-11T08:05:00Z", "2026-10-11T12:00:00Z"),
    ], outages=[
        ("O1", "ERP", "2026-10-05T10:00:00Z", "2026-10-05T12:00:00Z", "outage"),
        ("O2", "ERP", "2026-10-05T11:00:00Z", "2026-10-05T13:00:00Z", "outage"),
        ("O3", "ERP", "2026-10-07T00:00:00Z", "2026-10-07T06:00:00Z", "degradation"),
        ("O4", "ERP", "2026-10-08T00:00:00Z", "2026-10-08T04:00:00Z", "planned"),
        ("O5", "ERP", "2026-09-30T23:00:00Z", "2026-10-01T01:00:00Z", "outage"),
        ("O6", "ERP", "2026-10-15T22:00:00Z", "", "outage"),
        ("O7", "ERP", "2026-10-17T00:00:00Z", "2026-10-17T01:00:00Z", "outage"),
    ], slas=SUPPORT, availability=av)
    doc = ex.kpi("--month", "2026-10", "--as-of", "2026-10-16T00:00:00Z")
    a = doc["availability"][0]
    for k, v in (("service_time_s", 1296000), ("downtime_s", 27000), ("outages", 5),
                 ("availability_pct", 97.917), ("breached", True), ("credit", 62.5)):
        check("availability: " + k, a[k], v)
    # as_of before the period: nothing elapsed, no percentage, no credit.
    doc = ex.kpi("--month", "2026-10", "--as-of", "2026-09-20T00:00:00Z")
    a = doc["availability"][0]
    for k, v in (("service_time_s", 0), ("downtime_s", 0), ("outages", 0),
                 ("availability_pct", None), ("breached", False), ("credit", 0.0)):
        check("availability before the period: " + k, a[k], v)


def credits():
    """## Credits"""
    sla = """{ name = "support"; calendar = "24x7";
    targets = ( { priority = "P1"; first_response = "30m"; resolution = "4h"; } );
    penalty = { monthly_fee = 12000.0; currency = "EUR"; per_response_breach_pct = 5.0;
                per_resolution_breach_pct = 2.0; cap_pct = 20.0; }; }"""
    rows = []
    for day in (5, 6, 7, 8):
        d = "2026-10-%02d" % day
        rows.append(("K%d" % day, "late", "Incident", "P1", "resolved", "",
                     d + "T08:00:00Z", d + "T09:00:00Z", d + "T13:00:00Z"))
    ex = Example("credits", rows, slas=sla)
    doc = ex.kpi("--month", "2026-10", "--as-of", "2026-11-05T00:00:00Z")
    tot = doc["slas"][0]["total"]
    check("credits: response breaches", tot["first_response"]["breached"], 4)
    check("credits: resolution breaches", tot["resolution"]["breached"], 4)
    pen = doc["slas"][0]["penalty"]
    check("credits: credit_pct", pen["credit_pct"], 20.0)
    check("credits: credit", pen["credit"], 2400.0)
    check("credits: currency", pen["currency"], "EUR")


def impossible():
    """## Impossible times"""
    ex = Example("impossible", [
        ("G1", "sound", "Incident", "P1", "resolved", "", "2026-10-05T10:00:00Z",
         "2026-10-05T10:20:00Z", "2026-10-05T12:00:00Z"),
        ("X1", "clock", "Incident", "P1", "resolved", "", "2026-11-02T10:00:00Z", "",
         "2026-10-30T10:00:00Z"),
    ])
    doc = ex.kpi("--month", "2026-10", "--as-of", "2026-12-05T00:00:00Z")
    res = prio(doc, "P1")["resolution"]
    check("impossible: October resolution tickets", res["tickets"], 2)
    check("impossible: October mttr_s", res["mttr_s"], 3600)
    check("impossible: October first_response tickets",
          prio(doc, "P1")["first_response"]["tickets"], 1)
    want = ("warning: ticket X1 (source desk) created 2026-11-02T10:00:00Z: resolved "
            "2026-10-30T10:00:00Z, before its creation; such spans count as 0 s "
            "(fix the record in the source tool)")
    check("impossible: October warning", ex.stderr.strip(), want)
    doc = ex.kpi("--month", "2026-11", "--as-of", "2026-12-05T00:00:00Z")
    fr = prio(doc, "P1")["first_response"]
    check("impossible: November first_response tickets", fr["tickets"], 1)
    check("impossible: November first_response met", fr["met"], 1)
    check("impossible: November first_response mean_s", fr["mean_s"], 0)
    check("impossible: November warning", ex.stderr.strip(), want)


def read_page():
    try:
        with open(os.path.join(SRC, "docs", "kpi.md"), encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        failures.append("docs/kpi.md: %s" % e)
        return ""


def json_shape(stats_doc):
    """## The JSON document: the block in docs/kpi.md is the statistics
    example's output, exactly."""
    page = read_page()
    m = re.search(r"<!-- json-example -->\s*```json\n(.*?)\n```", page, re.S)
    if m is None:
        failures.append("docs/kpi.md: no ```json block after <!-- json-example -->")
        return
    shown = json.loads(m.group(1))
    # Same keys in the same order, same values (dumps keeps the order).
    if json.dumps(shown) != json.dumps(stats_doc):
        failures.append("json: the page's document differs from the output:\n%s"
                        % json.dumps(stats_doc, indent=2))


def examples_named_in_page():
    """Each example's heading exists on the page and names this test."""
    page = read_page()
    if "tests/integration/test_kpi_doc_examples.py" not in page:
        failures.append("docs/kpi.md does not name the test that checks it")
    for fn in (periods, cohorts, calendars, pauses, statistics, disagreements,
               disagreement_reasons, availability, credits, impossible, json_shape):
        heading = fn.__doc__.split("\n")[0].split(":")[0].strip()
        if heading not in page:
            failures.append("docs/kpi.md has no heading %r" % heading)


def main():
    periods()
    cohorts()
    calendars()
    pauses()
    stats_doc = statistics()
    disagreements()
    disagreement_reasons()
    availability()
    credits()
    impossible()
    json_shape(stats_doc)
    examples_named_in_page()
    for line in failures:
        print("FAIL " + line)
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
