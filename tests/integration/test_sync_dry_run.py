#!/usr/bin/python3
"""test_sync_dry_run.py -- `sync --dry-run` runs the real plugins and prints
the normalised records as NDJSON without touching any store.

Covers, with the CSV sample (config/sample) and the loopback mock GLPI:
every line is JSON with "record" and "source"; the records equal what a
real sync then stores (compared with `export --format ndjson` and the
pauses table); rejected records go to stderr (source, position, id,
reason) and never to stdout; `--limit 2` prints 2 records per source and
the GLPI session is still ended; no store is created when there is none;
an existing store (db and -wal) is byte-identical afterwards; `--full` and
`--limit` without `--dry-run` are usage errors (exit 2).
Must not reach anything but 127.0.0.1 nor write outside its temp dirs.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timezone

BIN = os.environ["IB_BIN"]
PLUGIN_DIR = os.environ["IB_PLUGIN_DIR"]
SOURCE_DIR = os.environ["IB_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "mock"))
from harness import MockServer  # noqa: E402

FAILURES = []
USER_TOKEN = "dry-run-user-tok-5c2e8a"


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what)


def run(cwd, cfg, *args, env=None):
    p = subprocess.run([BIN, "-c", cfg, "--plugin-dir", PLUGIN_DIR] + list(args),
                       cwd=cwd, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, **(env or {})))
    return p.returncode, p.stdout, p.stderr


def parse_lines(out):
    """-> list of objects, or None when a line is not a JSON object."""
    recs = []
    for line in out.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        recs.append(obj)
    return recs


def digest(paths):
    out = {}
    for p in paths:
        if os.path.exists(p):
            with open(p, "rb") as f:
                out[p] = hashlib.sha256(f.read()).hexdigest()
    return out


def exported(cwd, cfg, tmp):
    """tickets and outages as export --format ndjson writes them, by
    (source, id)."""
    out_dir = os.path.join(tmp, "export")
    rc, out, err = run(cwd, cfg, "export", "--format", "ndjson", "--out", out_dir,
                       "--from", "2000-01-01", "--to", "2100-01-01")
    check(rc == 0, "export succeeds (rc %d): %s" % (rc, err))
    rows = {}
    for name in ("tickets", "outages"):
        path = os.path.join(out_dir, name + ".ndjson")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                o = json.loads(line)
                rows[(name, o["source"], o["id"])] = o
    return rows


def stored_pauses(db):
    con = sqlite3.connect(db)
    got = {}
    for src, tid, start, end in con.execute(
            "SELECT source, ticket_id, start, end FROM pauses ORDER BY start"):
        got.setdefault((src, tid), []).append((start, end))
    con.close()
    return got


def iso_epoch(text):
    if text is None:
        return None
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc).timestamp())


def compare_with_store(what, recs, cwd, cfg, tmp, db):
    """Every printed record equals the exported row of the same id, and its
    pause intervals the stored pauses; nothing exported is missing."""
    rows = exported(cwd, cfg, tmp)
    pauses = stored_pauses(db)
    seen, bad = set(), []
    for r in recs:
        table = "tickets" if r["record"] == "ticket" else "outages"
        key = (table, r["source"], r["id"])
        seen.add(key)
        mine = {k: v for k, v in r.items() if k not in ("record", "pause_intervals")}
        if rows.get(key) != mine:
            bad.append((key, mine, rows.get(key)))
        if table == "tickets":
            want = pauses.get((r["source"], r["id"]), [])
            got = [(iso_epoch(p["start"]), iso_epoch(p["end"]))
                   for p in r["pause_intervals"]]
            if got != want or r["pauses"] != len(want):
                bad.append((key, got, want))
    check(not bad, "%s: %d printed records differ from what sync stored, e.g. %s"
          % (what, len(bad), bad[:1]))
    check(set(rows) == seen, "%s: sync stored the records printed and no others "
          "(%d printed, %d exported)" % (what, len(seen), len(rows)))


# ---- CSV: config/sample ----------------------------------------------------


def scenario_csv():
    tmp = tempfile.mkdtemp(prefix="ib-dry-csv-")
    try:
        os.symlink(os.path.join(SOURCE_DIR, "config"), os.path.join(tmp, "config"))
        cfg = "config/sample/bridge.cfg"
        db = os.path.join(tmp, "var", "sample.db")

        rc, out, err = run(tmp, cfg, "sync", "--dry-run")
        check(rc == 0, "csv dry run succeeds (rc %d): %s" % (rc, err))
        recs = parse_lines(out)
        check(recs is not None, "csv: every stdout line is a JSON object: %s" % out[:300])
        recs = recs or []
        tickets = [r for r in recs if r.get("record") == "ticket"]
        outages = [r for r in recs if r.get("record") == "outage"]
        check(len(tickets) == 396 and all(r["source"] == "legacy" for r in tickets),
              "csv: the 396 good tickets of source legacy printed (%d)" % len(tickets))
        check(len(outages) == 19 and all(r["source"] == "legacy-outages" for r in outages),
              "csv: the 19 outages printed (%d)" % len(outages))
        by_id = {r["id"]: r for r in tickets}
        inc2 = by_id.get("INC000002", {})
        # opened 03/08/2026 09:04 in Paris (CEST) = 07:04Z; Basse -> P4
        check(inc2.get("created_at") == "2026-08-03T07:04:00Z" and
              inc2.get("priority") == "P4" and inc2.get("priority_raw") == "Basse" and
              inc2.get("status") == "closed" and inc2.get("kind") == "incident",
              "csv: INC000002 normalised as a sync stores it: %s" % inc2)
        check(any(r["pause_intervals"] for r in tickets),
              "csv: pause intervals are printed")
        for where, tid in (("line 43", "INC000041"), ("line 126", "INC000121"),
                           ("line 207", "DEM000201"), ("line 341", "INC000331")):
            lines = [l for l in err.splitlines()
                     if l.startswith("legacy: rejected %s (id %s): " % (where, tid))]
            check(len(lines) == 1, "csv: rejection of %s (%s) on stderr: %s"
                  % (tid, where, err))
            check(tid not in out, "csv: rejected %s not on stdout" % tid)
        check('"Urgente" has no mapping' in err, "csv: the reason is given: %s" % err)
        check(not os.path.exists(os.path.join(tmp, "var")),
              "csv: no store (nor its folder) is created by a dry run")

        rc, out, err = run(tmp, cfg, "sync", "--dry-run", "--limit", "2")
        recs = parse_lines(out) or []
        per = {}
        for r in recs:
            per[r["source"]] = per.get(r["source"], 0) + 1
        check(rc == 0 and per == {"legacy": 2, "legacy-outages": 2},
              "csv: --limit 2 prints 2 records per source (rc %d, %s): %s" % (rc, per, err))
        rc, out, err = run(tmp, cfg, "sync", "--dry-run", "--limit", "2",
                           "--source", "legacy-outages")
        recs = parse_lines(out) or []
        check(rc == 0 and [r["id"] for r in recs] == ["OUT-0001", "OUT-0002"],
              "csv: --source picks one source: %s" % [r.get("id") for r in recs])

        # A real sync, then the dry run again: the store does not change.
        rc, out, err = run(tmp, cfg, "sync")
        check(rc == 0, "csv: real sync succeeds (rc %d): %s" % (rc, err))
        rc, out_dry, err = run(tmp, cfg, "sync", "--dry-run")
        compare_with_store("csv", parse_lines(out_dry) or [], tmp, cfg, tmp, db)
        files = [db, db + "-wal"]
        before = digest(files)
        check(db in before, "csv: the store exists after the real sync")
        con = sqlite3.connect(db)
        runs = con.execute("SELECT count(*) FROM sync_runs").fetchone()[0]
        con.close()
        rc, out, err = run(tmp, cfg, "sync", "--dry-run", "--since", "2026-01-01")
        check(rc == 0 and len(parse_lines(out) or []) == 415,
              "csv: dry run with --since on an existing store (rc %d): %s" % (rc, err))
        rc, out, err = run(tmp, cfg, "sync", "--dry-run", "--limit", "3")
        check(digest(files) == before,
              "csv: the store (db, -wal) is byte-identical after dry runs")
        con = sqlite3.connect(db)
        check(con.execute("SELECT count(*) FROM sync_runs").fetchone()[0] == runs,
              "csv: no sync run recorded by a dry run")
        con.close()

        rc, out, err = run(tmp, cfg, "sync", "--dry-run", "--full")
        check(rc == 2 and "--full" in err and "store" in err and out == "",
              "csv: --dry-run --full is a usage error saying why (rc %d): %s" % (rc, err))
        rc, out, err = run(tmp, cfg, "sync", "--limit", "2")
        check(rc == 2 and "--dry-run" in err,
              "csv: --limit without --dry-run is a usage error (rc %d): %s" % (rc, err))
        check(digest(files) == before, "csv: refused runs leave the store alone")
        rc, out, err = run(tmp, cfg, "sync", "--help")
        check(rc == 0 and "--dry-run" in out and "--limit N" in out,
              "csv: sync --help documents --dry-run and --limit")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- GLPI: the mock, an HTTP plugin with a session -------------------------


def glpi_config(tmp, port):
    cfg = os.path.join(tmp, "bridge.cfg")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write("""
store = { path = "%s/store/bridge.db"; };
sources = ( { name = "glpi-dry"; plugin = "glpi"; url = "http://127.0.0.1:%d/apirest.php";
    timezone = "Europe/Paris"; user_token_env = "DRY_GLPI_USER_TOKEN";
    page_size = 50; pauses = "log"; } );
""" % (tmp, port))
    return cfg


def scenario_glpi():
    tmp = tempfile.mkdtemp(prefix="ib-dry-glpi-")
    mock = MockServer(tmp, app="glpi", name="glpi-dry",
                      options={"generate": "120", "user_token": USER_TOKEN})
    env = {"DRY_GLPI_USER_TOKEN": USER_TOKEN}
    try:
        cfg = glpi_config(tmp, mock.port)
        db = os.path.join(tmp, "store", "bridge.db")
        rc, out, err = run(tmp, cfg, "-v", "sync", "--dry-run", env=env)
        recs = parse_lines(out)
        check(rc == 0 and recs is not None and len(recs) == 120,
              "glpi: dry run prints the 120 tickets (rc %d, %s): %s"
              % (rc, len(recs or []), err[-500:]))
        recs = recs or []
        check(all(r["record"] == "ticket" and r["source"] == "glpi-dry" for r in recs),
              "glpi: records are tickets of source glpi-dry")
        check(USER_TOKEN not in out + err, "glpi: no token on stdout or stderr")
        check(not os.path.exists(os.path.join(tmp, "store")),
              "glpi: no store is created by a dry run")
        reqs = mock.requests()
        check(reqs and reqs[-1]["path"] == "/apirest.php/killSession",
              "glpi: the session is ended after a dry run")

        n0 = len(mock.requests())
        rc, out, err = run(tmp, cfg, "sync", "--dry-run", "--limit", "2", env=env)
        later = mock.requests()[n0:]
        check(rc == 0 and len(parse_lines(out) or []) == 2,
              "glpi: --limit 2 prints 2 tickets (rc %d): %s" % (rc, err))
        pages = [r["query"]["range"][0] for r in later if r["path"] == "/apirest.php/Ticket"]
        check(pages == ["0-49"], "glpi: --limit stops the plugin after its first page: %s"
              % pages)
        check(later and later[-1]["path"] == "/apirest.php/killSession",
              "glpi: the plugin stopped cleanly and ended its session")
        check("FAILED" not in err and "error" not in err,
              "glpi: stopping at --limit is no error: %s" % err)

        rc, out, err = run(tmp, cfg, "sync", env=env)
        check(rc == 0, "glpi: real sync succeeds (rc %d): %s" % (rc, err))
        compare_with_store("glpi", recs, tmp, cfg, tmp, db)
        files = [db, db + "-wal"]
        before = digest(files)
        rc, out, err = run(tmp, cfg, "sync", "--dry-run", env=env)
        check(rc == 0 and len(parse_lines(out) or []) == 120,
              "glpi: a dry run on an existing store reads everything (rc %d)" % rc)
        check(digest(files) == before, "glpi: the store is byte-identical after a dry run")
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    scenario_csv()
    scenario_glpi()
    if FAILURES:
        print("%d failed" % len(FAILURES))
        sys.exit(1)
    print("2 scenarios passed, 0 failed")


if __name__ == "__main__":
    main()
