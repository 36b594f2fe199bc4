#!/usr/bin/python3
"""kpi_gen.py -- random but reproducible KPI test data for the reference test
and the benchmark: writes a bridge .cfg, the matching JSON spec for
kpi_ref.py, and fills an (already created) SQLite store with tickets,
pauses and outages. Never touches anything outside --dir / --store.

usage: kpi_gen.py config --dir DIR
       kpi_gen.py data --store DB --seed N [--tickets N] [--outages N]
       kpi_gen.py background --store DB --tickets N [--from-epoch S --to-epoch S]
"""
import argparse
import json
import os
import random
import sqlite3

CFG = """store = { path = "%(store)s"; };
timezone = "Europe/Paris";
# The sources only name the tickets' origins here: the store is filled directly.
sources = (
  { name = "provider-a"; plugin = "csv"; path = "provider-a.csv"; },
  { name = "provider-b"; plugin = "csv"; path = "provider-b.csv"; },
  { name = "legacy"; plugin = "csv"; path = "legacy.csv"; }
);
calendars = (
  { name = "24x7"; timezone = "UTC"; },
  { name = "office-paris"; timezone = "Europe/Paris";
    hours = { mon = "08:00-12:30,13:30-18:00"; tue = "08:00-18:00"; wed = "08:00-18:00";
              thu = "08:00-18:00"; fri = "08:00-17:00"; };
    holidays = [ "2026-10-15", "2026-11-11" ]; },
  { name = "ny-ext"; timezone = "America/New_York";
    hours = { mon = "07:00-22:00"; tue = "07:00-22:00"; wed = "07:00-22:00";
              thu = "07:00-22:00"; fri = "07:00-22:00";
              sat = "00:00-06:00,20:00-24:00"; sun = "00:00-03:00,10:00-14:00"; }; }
);
slas = (
  { name = "support"; sources = [ "provider-a", "legacy" ]; kinds = [ "incident" ];
    calendar = "office-paris";
    targets = ( { priority = "P1"; first_response = "30m"; resolution = "4h"; },
                { priority = "P2"; first_response = "1h";  resolution = "8h"; },
                { priority = "P3"; resolution = "16h"; } );
    penalty = { monthly_fee = 12000.0; currency = "EUR";
                per_response_breach_pct = 5.0; per_resolution_breach_pct = 2.0; cap_pct = 20.0; }; },
  { name = "infra"; calendar = "ny-ext";
    targets = ( { priority = "P1"; first_response = "15m"; resolution = "2h"; },
                { priority = "P4"; first_response = "4h"; } ); },
  { name = "follow"; kinds = [ "request", "change" ]; calendar = "24x7";
    targets = ( { priority = "P2"; first_response = "1h"; resolution = "1d"; },
                { priority = "P5"; first_response = "2h"; resolution = "3d"; } );
    penalty = { monthly_fee = 500.0; currency = "USD"; per_response_breach_pct = 1.5;
                cap_pct = 10.0; }; }
);
availability = (
  { service = "ERP"; target_pct = 99.5; calendar = "24x7";
    monthly_fee = 3000.0; currency = "EUR"; credit = "proportional"; },
  { service = "CRM"; target_pct = 99.0; calendar = "office-paris"; count_degradation = true;
    monthly_fee = 1000.0; currency = "EUR"; credit = "proportional";
    from_tickets = { kinds = [ "incident" ]; priorities = [ "P1", "P2" ]; }; },
  { service = "WEB"; target_pct = 99.9; calendar = "24x7"; }
);
"""

OFFICE = {"mon": ["08:00-12:30", "13:30-18:00"], "tue": ["08:00-18:00"],
          "wed": ["08:00-18:00"], "thu": ["08:00-18:00"], "fri": ["08:00-17:00"]}
NY = {d: ["07:00-22:00"] for d in ["mon", "tue", "wed", "thu", "fri"]}
NY["sat"] = ["00:00-06:00", "20:00-24:00"]
NY["sun"] = ["00:00-03:00", "10:00-14:00"]

SPEC = {
    "calendars": [
        {"name": "24x7", "timezone": "UTC", "hours": None, "holidays": []},
        {"name": "office-paris", "timezone": "Europe/Paris", "hours": OFFICE,
         "holidays": ["2026-10-15", "2026-11-11"]},
        {"name": "ny-ext", "timezone": "America/New_York", "hours": NY, "holidays": []},
    ],
    "slas": [
        {"name": "support", "sources": ["provider-a", "legacy"], "kinds": ["incident"],
         "calendar": "office-paris",
         "targets": {"P1": {"first_response": 1800, "resolution": 14400},
                     "P2": {"first_response": 3600, "resolution": 28800},
                     "P3": {"first_response": None, "resolution": 57600}},
         "penalty": {"monthly_fee": 12000.0, "currency": "EUR", "per_response_breach_pct": 5.0,
                     "per_resolution_breach_pct": 2.0, "cap_pct": 20.0}},
        {"name": "infra", "sources": None, "kinds": None, "calendar": "ny-ext",
         "targets": {"P1": {"first_response": 900, "resolution": 7200},
                     "P4": {"first_response": 14400, "resolution": None}},
         "penalty": None},
        {"name": "follow", "sources": None, "kinds": ["request", "change"], "calendar": "24x7",
         "targets": {"P2": {"first_response": 3600, "resolution": 86400},
                     "P5": {"first_response": 7200, "resolution": 259200}},
         "penalty": {"monthly_fee": 500.0, "currency": "USD", "per_response_breach_pct": 1.5,
                     "cap_pct": 10.0}},
    ],
    "availability": [
        {"service": "ERP", "target_pct": 99.5, "calendar": "24x7", "credit": "proportional",
         "monthly_fee": 3000.0, "currency": "EUR", "count_degradation": False,
         "from_tickets": None},
        {"service": "CRM", "target_pct": 99.0, "calendar": "office-paris",
         "credit": "proportional", "monthly_fee": 1000.0, "currency": "EUR",
         "count_degradation": True,
         "from_tickets": {"kinds": ["incident"], "priorities": ["P1", "P2"]}},
        {"service": "WEB", "target_pct": 99.9, "calendar": "24x7", "credit": None,
         "currency": "EUR", "count_degradation": False, "from_tickets": None},
    ],
}

# Around October 2026 in Paris (both DST weekends nearby: 25 Oct in Europe,
# 1 Nov in New York).
T0 = 1789862400  # 2026-09-20T00:00:00Z
T1 = 1793836800  # 2026-11-05T00:00:00Z
SOURCES = ["provider-a", "provider-b", "legacy"]
KINDS = ["incident"] * 6 + ["request"] * 2 + ["change", "problem", "other"]
SERVICES = ["ERP", "CRM", "WEB", None]


def delay(rng, scale):
    """A positive delay with a long tail, in seconds."""
    return int(rng.expovariate(1.0 / scale))


def ticket(rng, source, n, t0, t1, anomalies=True):
    created = rng.randint(t0, t1)
    fr = resolved = None
    if rng.random() < 0.8:
        fr = created + delay(rng, 4 * 3600)
        if anomalies and rng.random() < 0.04:
            fr = created - rng.randint(1, 3600)  # reversed: counts 0
        if rng.random() < 0.03:
            fr = created  # zero length
    if rng.random() < 0.7:
        resolved = max(created, fr or created) + delay(rng, 30 * 3600)
        if anomalies and rng.random() < 0.03:
            # reversed, up to 10 days: often in the month before its creation
            resolved = created - rng.randint(1, 10 * 86400)
    status = "cancelled" if rng.random() < 0.05 else (
        rng.choice(["resolved", "closed"]) if resolved is not None
        else rng.choice(["new", "open", "pending"]))
    prio = rng.choice([1, 1, 2, 2, 3, 4, 5, None])
    rep = lambda: rng.choice([None, None, 0, 1])
    pauses = []
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        s = created + delay(rng, 10 * 3600)
        e = s + delay(rng, 5 * 3600)
        r = rng.random()
        if r < 0.1:
            e = None  # still running
        elif anomalies and r < 0.13:
            e = s - 60  # reversed
        pauses.append((s, e))
    tid = "%s-%d" % (source, n)
    row = (source, tid, "K-%d" % n, "ticket %d" % n, rng.choice(KINDS), None, prio,
           None if prio is None else "P%d" % prio, status, status,
           rng.choice(SERVICES), "grp", created, fr, resolved, None, created,
           None, rep(), rep())
    return row, [(source, tid, s, e) for s, e in pauses]


def fill(db, seed, n_tickets, n_outages, t0=T0, t1=T1, deleted=True, anomalies=True):
    rng = random.Random(seed)
    con = sqlite3.connect(db)
    cols = ("source,id,key,title,kind,kind_raw,priority,priority_raw,status,status_raw,"
            "service,grp,created_at,first_response_at,resolved_at,closed_at,updated_at,"
            "deleted_at,reported_response_breached,reported_resolution_breached")
    tsql = "INSERT INTO tickets(%s) VALUES(%s)" % (cols, ",".join("?" * 20))
    psql = "INSERT INTO pauses(source,ticket_id,start,end) VALUES(?,?,?,?)"
    batch, pbatch = [], []
    for n in range(n_tickets):
        row, pauses = ticket(rng, rng.choice(SOURCES), n, t0, t1, anomalies)
        if deleted and rng.random() < 0.02:
            row = row[:17] + (row[12] + 10,) + row[18:]
        batch.append(row)
        pbatch.extend(pauses)
        if len(batch) >= 50000:
            con.executemany(tsql, batch)
            con.executemany(psql, pbatch)
            batch, pbatch = [], []
    con.executemany(tsql, batch)
    con.executemany(psql, pbatch)
    osql = ("INSERT INTO outages(source,id,service,kind,kind_raw,start,end,updated_at,"
            "deleted_at) VALUES(?,?,?,?,?,?,?,?,?)")
    for n in range(n_outages):
        start = rng.randint(t0, t1)
        end = None if rng.random() < 0.04 else start + delay(rng, 3 * 3600)
        kind = rng.choice(["outage", "outage", "degradation", "planned"])
        dele = start + 5 if deleted and rng.random() < 0.05 else None
        con.execute(osql, ("provider-b", "O%d" % n, rng.choice(SERVICES[:3]), kind, kind,
                           start, end, start, dele))
    con.commit()
    con.close()


def background(db, n, b0, b1):
    """N resolved tickets of the past, created in [b0, b1) in storage order
    and resolved at most 4 days later (closed a day after that), six in ten
    with one pause: a store's history that no period after b1 + 5 days
    touches. Written in SQL (seconds for millions); random, not seeded."""
    con = sqlite3.connect(db)
    step = max((b1 - b0) // max(n, 1), 1)
    con.execute("""
      WITH RECURSIVE i(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM i WHERE k + 1 < ?1),
      g AS (SELECT k, ?2 + k * ?3 + abs(random() % ?3) AS c,
                   abs(random() % 14400) AS fr, abs(random() % 345600) AS res FROM i)
      INSERT INTO tickets(source, id, key, title, kind, priority, status, service,
                          grp, created_at, first_response_at, resolved_at, closed_at,
                          updated_at)
      SELECT CASE k % 3 WHEN 0 THEN 'provider-a' WHEN 1 THEN 'provider-b'
                        ELSE 'legacy' END,
             'bg-' || k, 'B-' || k, 'background ticket ' || k,
             CASE WHEN k % 10 < 6 THEN 'incident' ELSE 'request' END,
             1 + k % 5, 'closed', 'ERP', 'N1', c, c + min(fr, res), c + res,
             c + res + 86400, c + res + 86400
      FROM g""", (n, b0, step))
    con.execute("""
      INSERT INTO pauses(source, ticket_id, start, end)
      SELECT source, id, created_at + (resolved_at - created_at) / 4,
             created_at + (resolved_at - created_at) / 2
      FROM tickets WHERE id LIKE 'bg-%' AND rowid % 5 < 3""")
    con.commit()
    con.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["config", "data", "background"])
    ap.add_argument("--dir")
    ap.add_argument("--store")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tickets", type=int, default=400)
    ap.add_argument("--outages", type=int, default=40)
    ap.add_argument("--from-epoch", type=int, default=1735689600)  # 2025-01-01
    ap.add_argument("--to-epoch", type=int, default=1788220800)  # 2026-09-01
    a = ap.parse_args()
    if a.what == "config":
        with open(os.path.join(a.dir, "kpi.cfg"), "w") as f:
            f.write(CFG % {"store": os.path.join(a.dir, "store.db")})
        with open(os.path.join(a.dir, "spec.json"), "w") as f:
            json.dump(SPEC, f, indent=1)
    elif a.what == "background":
        background(a.store, a.tickets, a.from_epoch, a.to_epoch)
    else:
        fill(a.store, a.seed, a.tickets, a.outages)


if __name__ == "__main__":
    main()
