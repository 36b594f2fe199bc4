#!/usr/bin/python3
"""kpi_ref.py -- an independent reference implementation of SPEC §6/§7.

Written from the specification, deliberately simple and slow: business time
is summed day by day from zoneinfo, never precomputed. It reads the SQLite
store directly and a JSON description of calendars, SLAs and availability,
and prints the itsm-bridge.kpi/1 document. Used only by the tests; it must
not share code or tricks with the C engine.

usage: kpi_ref.py --store DB --spec SPEC.json --from ISO --to ISO --as-of ISO

SPEC.json:
  {"calendars": [{"name", "timezone", "hours": {"mon": ["08:00-12:30", ...]}
                  or null (always open), "holidays": ["2026-11-11", ...]}],
   "slas": [{"name", "sources": [...] or null, "kinds": [...] or null,
             "calendar", "targets": {"P1": {"first_response": s or null,
             "resolution": s or null}}, "penalty": {...} or null}],
   "availability": [{"service", "target_pct", "calendar", "credit":
             "proportional" or null, "monthly_fee", "currency",
             "count_degradation", "from_tickets": {"kinds": [...] or null,
             "priorities": ["P1"] or null} or null}]}
"""
import argparse
import datetime as dt
import json
import math
import sqlite3
import sys
from zoneinfo import ZoneInfo

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def parse_instant(text):
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def iso(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Calendar:
    def __init__(self, spec):
        self.name = spec["name"]
        self.zone = ZoneInfo(spec.get("timezone") or "UTC")
        self.hours = spec.get("hours")
        self.holidays = set(spec.get("holidays") or [])

    def _day_intervals(self, day):
        """Open [start, end) instants of one local civil date."""
        if day.isoformat() in self.holidays:
            return []
        out = []
        for text in self.hours.get(DAYS[day.weekday()], []):
            a, b = text.split("-")
            ah, am = map(int, a.split(":"))
            bh, bm = map(int, b.split(":"))
            start = dt.datetime(day.year, day.month, day.day, ah, am, tzinfo=self.zone)
            if (bh, bm) == (24, 0):
                nxt = day + dt.timedelta(days=1)
                end = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=self.zone)
            else:
                end = dt.datetime(day.year, day.month, day.day, bh, bm, tzinfo=self.zone)
            s, e = int(start.timestamp()), int(end.timestamp())
            if e > s:
                out.append((s, e))
        return out

    def open(self, a, b):
        """Seconds of [a, b) during which the calendar is open."""
        if a is None or b is None or b <= a:
            return 0
        if self.hours is None:
            return b - a
        first = dt.datetime.fromtimestamp(a, self.zone).date() - dt.timedelta(days=1)
        last = dt.datetime.fromtimestamp(b, self.zone).date() + dt.timedelta(days=1)
        spans = []
        day = first
        while day <= last:
            spans.extend(self._day_intervals(day))
            day += dt.timedelta(days=1)
        return sum(e - s for s, e in union(clip(spans, a, b)))


def clip(spans, a, b):
    out = []
    for s, e in spans:
        s, e = max(s, a), min(e, b)
        if e > s:
            out.append((s, e))
    return out


def union(spans):
    out = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def stats(durations, met, breached):
    n = len(durations)
    d = sorted(durations)
    res = {"compliance_pct": None, "mean": None, "median": None, "p90": None}
    if met + breached:
        res["compliance_pct"] = round(100.0 * met / (met + breached), 3)
    if n:
        res["mean"] = round(sum(d) / n, 3)
        res["median"] = d[n // 2] if n % 2 else (d[n // 2 - 1] + d[n // 2]) / 2
        res["p90"] = d[-(-9 * n // 10) - 1]
    return res


def fr_object(c, with_target, target):
    s = stats(c["d"], c["met"], c["breached"])
    o = {}
    if with_target:
        o["target_s"] = target
    o.update({"tickets": c["met"] + c["breached"] + c["pending"], "met": c["met"],
              "breached": c["breached"], "pending": c["pending"],
              "compliance_pct": s["compliance_pct"], "mean_s": s["mean"],
              "median_s": s["median"], "p90_s": s["p90"],
              "reported_disagreements": c["dis"]})
    return o


def res_object(c, with_target, target):
    s = stats(c["d"], c["met"], c["breached"])
    o = {}
    if with_target:
        o["target_s"] = target
    o.update({"tickets": c["met"] + c["breached"], "met": c["met"],
              "breached": c["breached"], "open_breached": c["open_breached"],
              "compliance_pct": s["compliance_pct"], "mttr_s": s["mean"],
              "median_s": s["median"], "p90_s": s["p90"],
              "reported_disagreements": c["dis"]})
    return o


def new_cohort():
    return {"d": [], "met": 0, "breached": 0, "pending": 0, "open_breached": 0, "dis": 0}


def paused(cal, pauses, a, b):
    """Open time of the union of pauses within [a, b); running ones end at b."""
    spans = [(s, b if e is None else e) for s, e in pauses if e is None or e >= s]
    return sum(cal.open(s, e) for s, e in union(clip(spans, a, b)))


def disagree(reported, breached):
    return reported is not None and bool(reported) != breached


def compute_sla(sla, cals, tickets, frm, to, end):
    cal = cals[sla["calendar"]]
    targets = sla["targets"]
    prios = [p for p in ["P1", "P2", "P3", "P4", "P5"] if p in targets]
    fr = {p: new_cohort() for p in prios}
    rs = {p: new_cohort() for p in prios}
    for t in tickets:
        prio = "P%d" % t["priority"] if t["priority"] else None
        if t["status"] == "cancelled" or prio not in targets:
            continue
        if sla.get("sources") is not None and t["source"] not in sla["sources"]:
            continue
        if sla.get("kinds") is not None and t["kind"] not in sla["kinds"]:
            continue
        c, resolved = t["created_at"], t["resolved_at"]
        fr_target = targets[prio].get("first_response")
        res_target = targets[prio].get("resolution")
        if fr_target is not None and frm <= c < to:
            r = t["first_response_at"] if t["first_response_at"] is not None else resolved
            co = fr[prio]
            if r is not None:
                d = cal.open(c, r)
                br = d > fr_target
                co["d"].append(d)
                co["breached" if br else "met"] += 1
                co["dis"] += disagree(t["rep_fr"], br)
            else:
                e = cal.open(c, end)
                if e > fr_target:
                    co["d"].append(e)
                    co["breached"] += 1
                    co["dis"] += disagree(t["rep_fr"], True)
                else:
                    co["pending"] += 1
        if res_target is None:
            continue
        if resolved is not None and frm <= resolved < to:
            d = max(0, cal.open(c, resolved) - paused(cal, t["pauses"], c, resolved))
            br = d > res_target
            co = rs[prio]
            co["d"].append(d)
            co["breached" if br else "met"] += 1
            co["dis"] += disagree(t["rep_res"], br)
        if c < end and (resolved is None or resolved >= end):
            if cal.open(c, end) - paused(cal, t["pauses"], c, end) > res_target:
                rs[prio]["open_breached"] += 1

    by = []
    for p in prios:
        by.append({"priority": p,
                   "first_response": fr_object(fr[p], True, targets[p].get("first_response")),
                   "resolution": res_object(rs[p], True, targets[p].get("resolution"))})
    tot_fr, tot_rs = new_cohort(), new_cohort()
    for p in prios:
        for tot, co in ((tot_fr, fr[p]), (tot_rs, rs[p])):
            for k in co:
                tot[k] += co[k]
    out = {"name": sla["name"], "calendar": sla["calendar"], "by_priority": by,
           "total": {"first_response": fr_object(tot_fr, False, None),
                     "resolution": res_object(tot_rs, False, None)}}
    pen = sla.get("penalty")
    if pen is None:
        out["penalty"] = None
    else:
        pct = min(pen.get("cap_pct", 100.0),
                  pen.get("per_response_breach_pct", 0.0) * tot_fr["breached"]
                  + pen.get("per_resolution_breach_pct", 0.0) * tot_rs["breached"])
        out["penalty"] = {"currency": pen.get("currency", "EUR"),
                          "monthly_fee": pen["monthly_fee"],
                          "credit_pct": round(pct, 3),
                          "credit": round(pen["monthly_fee"] * pct / 100.0, 2)}
    return out


def compute_availability(av, cals, tickets, outages, frm, to, end):
    cal = cals[av["calendar"]]
    spans = []
    for o in outages:
        if o["service"] != av["service"] or o["kind"] == "planned":
            continue
        if o["kind"] == "degradation" and not av.get("count_degradation"):
            continue
        spans.append((o["start"], end if o["end"] is None else o["end"]))
    ft = av.get("from_tickets")
    if ft is not None:
        for t in tickets:
            if t["service"] != av["service"] or t["status"] == "cancelled":
                continue
            if ft.get("kinds") is not None and t["kind"] not in ft["kinds"]:
                continue
            if ft.get("priorities") is not None and (
                    not t["priority"] or "P%d" % t["priority"] not in ft["priorities"]):
                continue
            spans.append((t["created_at"], end if t["resolved_at"] is None else t["resolved_at"]))
    counted = clip(spans, frm, end)
    down = sum(cal.open(s, e) for s, e in union(counted))
    # The period so far: [from, end), empty when as_of is before from.
    service = cal.open(frm, end)
    pct = 100.0 * (1 - down / service) if service else None
    breached = pct is not None and pct < av["target_pct"]
    credit = None
    if av.get("credit") == "proportional":
        credit = round(av.get("monthly_fee", 0.0) * down / service, 2) if breached else 0.0
    return {"service": av["service"], "calendar": av["calendar"],
            "target_pct": av["target_pct"], "service_time_s": service,
            "downtime_s": down, "outages": len(counted),
            "availability_pct": None if pct is None else round(pct, 3),
            "breached": breached, "currency": av.get("currency"), "credit": credit}


def load(db):
    """Every ticket that is not deleted: the cohort rules alone decide what
    counts (no period filter here, unlike the store, so that a ticket the
    store would wrongly leave out shows up as a difference)."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    tickets = []
    pauses = {}
    for r in con.execute("SELECT source, ticket_id, start, end FROM pauses"):
        pauses.setdefault((r["source"], r["ticket_id"]), []).append((r["start"], r["end"]))
    for r in con.execute("SELECT * FROM tickets WHERE deleted_at IS NULL"):
        t = dict(r)
        t["pauses"] = pauses.get((t["source"], t["id"]), [])
        t["rep_fr"] = t["reported_response_breached"]
        t["rep_res"] = t["reported_resolution_breached"]
        tickets.append(t)
    outages = [dict(r) for r in con.execute("SELECT * FROM outages WHERE deleted_at IS NULL")]
    con.close()
    return tickets, outages


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--from", dest="frm", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--as-of", dest="as_of", required=True)
    a = ap.parse_args()
    with open(a.spec) as f:
        spec = json.load(f)
    frm, to, as_of = parse_instant(a.frm), parse_instant(a.to), parse_instant(a.as_of)
    end = min(to, as_of)
    cals = {c["name"]: Calendar(c) for c in spec["calendars"]}
    tickets, outages = load(a.store)
    doc = {"schema": "itsm-bridge.kpi/1",
           "period": {"from": iso(frm), "to": iso(to), "as_of": iso(as_of)},
           "slas": [compute_sla(s, cals, tickets, frm, to, end) for s in spec["slas"]],
           "availability": [compute_availability(v, cals, tickets, outages, frm, to, end)
                            for v in spec.get("availability", [])]}
    json.dump(doc, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
