#!/usr/bin/env python3
"""Store access (issue 11.8), SQLite:
* the store file, its lock and its -wal/-shm are created 0600 (ticket
  data is not for every local user);
* after kill -9 of a sync, `status` reports the run that never finished
  and exits 1, until a sync completes (while it runs: "a sync is running");
* the read-only commands (kpi, status, export, report) work for a user
  who may read the store but not write its folder (a reporting user; as
  root the test runs them as nobody, otherwise in a folder made
  read-only), with the same figures.
"""
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

BIN = os.environ["IB_BIN"]
PLUGINS = os.environ["IB_PLUGIN_DIR"]
failures = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def run(cfg, *args, as_nobody=False):
    cmd = [BIN, "-c", cfg, "--plugin-dir", PLUGINS, *args]
    if as_nobody:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def write_csv(path, n):
    with open(path, "w") as f:
        f.write("id,priority,created,resolved\n")
        for i in range(n):
            day = 1 + i % 28
            f.write(f"{i},P{1 + i % 4},2026-10-{day:02d}T08:00:00Z,"
                    f"2026-10-{day:02d}T{9 + i % 9:02d}:00:00Z\n")


with tempfile.TemporaryDirectory() as top:
    d = os.path.join(top, "store")
    os.mkdir(d)
    csv = os.path.join(top, "t.csv")
    cfg = os.path.join(top, "b.cfg")
    db = os.path.join(d, "b.db")
    with open(cfg, "w") as f:
        f.write(f'store = {{ path = "{db}"; }};\n'
                'calendars = ( { name = "24x7"; } );\n'
                f'sources = ( {{ name = "s"; plugin = "csv"; path = "{csv}"; commit_every = 500;\n'
                '  columns = { id = "id"; priority = "priority"; created = "created";'
                ' resolved = "resolved"; }; } );\n'
                'slas = ( { name = "sla"; calendar = "24x7";\n'
                '  targets = ( { priority = "P1"; resolution = "4h"; } ); } );\n')

    # --- kill -9 in the middle of a sync -----------------------------------
    write_csv(csv, 200000)
    p = subprocess.Popen([BIN, "-c", cfg, "--plugin-dir", PLUGINS, "sync"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline, n = time.time() + 120, 0
    while time.time() < deadline and p.poll() is None:
        if not os.path.exists(db + "-wal"):  # let the sync create the files
            time.sleep(0.01)
            continue
        try:
            con = sqlite3.connect(db, timeout=0.1)
            n = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
            con.close()
        except sqlite3.Error:
            n = 0
        if n > 0:
            rc, running, err = run(cfg, "status")
            p.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    p.wait()
    check(p.returncode == -signal.SIGKILL, "the sync was killed mid-way")
    check("a sync is running (since 20" in running and "interrupted" not in running,
          f"status during the sync says it is running ({running.strip()})")
    for suffix in ("", "-wal", "-shm", ".lock"):
        path = db + suffix
        if os.path.exists(path):
            check(mode(path) == 0o600, f"{os.path.basename(path)} is 0600 ({oct(mode(path))})")
        elif suffix in ("", ".lock"):
            check(False, f"{path} exists")
    rc, out, err = run(cfg, "status")
    check(rc == 1 and "interrupted at 20" in out and
          "the next sync resumes from the last committed page" in out,
          f"status reports the interrupted run ({rc}: {out.strip()} {err.strip()})")

    write_csv(csv, 300)
    rc, out, err = run(cfg, "sync", "--full", "--allow-mass-delete")
    check(rc == 0, f"a complete sync ({out.strip()} {err.strip()})")
    rc, out, err = run(cfg, "status")
    check(rc == 0 and "interrupted" not in out, f"status is clean again ({out.strip()})")
    check(mode(db) == 0o600, "the store is still 0600")

    # --- read-only access ---------------------------------------------------
    period = ["--month", "2026-10", "--as-of", "2026-11-10T00:00:00Z"]
    rc, ref, err = run(cfg, "kpi", *period, "--format", "json")
    check(rc == 0, "kpi as the owner")
    # A read-only connection leaves -wal/-shm behind; the last read-write
    # one removes them: the reader below must do without.
    rc, out, err = run(cfg, "sync")
    check(rc == 0, f"a last sync ({out.strip()} {err.strip()})")
    out_dir = os.path.join(top, "out")
    os.mkdir(out_dir)
    os.chmod(out_dir, 0o777)
    os.chmod(top, 0o755)
    os.chmod(cfg, 0o644)
    os.chmod(db, 0o644)  # a reporting user may read it...
    as_nobody = os.geteuid() == 0
    if as_nobody:
        os.chmod(d, 0o755)  # ...but not write its folder
        who = "nobody"
    else:
        os.chmod(d, 0o555)  # the folder (read-only media) takes no -shm
        who = "this user in a read-only folder"
    # Whatever a reader left, the log holds no page the main file lacks.
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    for f in ("-wal", "-shm"):
        if os.path.exists(db + f):
            os.chmod(db + f, 0o600)  # root's own: nobody cannot use them
    check(not os.path.exists(db + "-wal") or os.path.getsize(db + "-wal") == 0,
          "no committed page waits in a -wal")
    before = sorted(os.listdir(d))
    rc, out, err = run(cfg, "kpi", *period, "--format", "json", as_nobody=as_nobody)
    check(rc == 0 and out == ref, f"kpi as {who} gives the same figures ({err.strip()})")
    rc, out, err = run(cfg, "status", as_nobody=as_nobody)
    check(rc == 0 and " 300 " in out, f"status as {who} ({out.strip()} {err.strip()})")
    rc, out, err = run(cfg, "export", "--format", "json", "--out", out_dir, *period,
                       as_nobody=as_nobody)
    check(rc == 0 and os.path.exists(os.path.join(out_dir, "tickets.json")),
          f"export as {who} ({err.strip()})")
    rc, out, err = run(cfg, "report", "--month", "2026-10", "--out",
                       os.path.join(out_dir, "r.html"), as_nobody=as_nobody)
    check(rc == 0, f"report as {who} ({err.strip()})")
    check(sorted(os.listdir(d)) == before,
          f"nothing was created beside the store ({sorted(os.listdir(d))})")
    os.chmod(d, 0o755)

sys.exit(1 if failures else 0)
