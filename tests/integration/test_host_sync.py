#!/usr/bin/env python3
"""End-to-end host behaviour with the real binary and the real csv.so:
two sources on one plugin, idempotent re-sync, a plugin refused while the
other sources still run, configuration errors with file:line, the sync
lock, kill -9 in the middle of a large sync, and --full deletion marking.
"""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

BIN = os.environ["IB_BIN"]
PLUGINS = os.environ["IB_PLUGIN_DIR"]
BUILD = os.environ["IB_BINARY_DIR"]
failures = []


def check(cond, what):
    if cond:
        print("ok   -", what)
    else:
        print("FAIL -", what)
        failures.append(what)


def run(cfg, *args, timeout=300):
    p = subprocess.run([BIN, "-c", cfg, *args], capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def write_csv(path, n, start=0, skip=()):
    with open(path, "w", encoding="utf-8") as f:
        f.write("id,title,kind,priority,status,created,first_response,resolved,updated\n")
        for i in range(start, start + n):
            if i in skip:
                continue
            day = 1 + i % 28
            hour = 8 + i % 9
            created = f"2026-10-{day:02d}T{hour:02d}:00:00Z"
            fr = f"2026-10-{day:02d}T{hour:02d}:20:00Z"
            resolved = f"2026-10-{day:02d}T{hour + 2:02d}:00:00Z" if i % 3 else ""
            status = "resolved" if resolved else "open"
            updated = resolved or fr
            f.write(f'{i},"Ticket {i}, ""quoted""",incident,P{1 + i % 4},'
                    f"{status},{created},{fr},{resolved},{updated}\n")


def dump(db):
    con = sqlite3.connect(db)
    out = []
    for table in ("tickets", "pauses", "outages", "sync_state"):
        out += [(table,) + tuple(r) for r in
                con.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]
    con.close()
    return out


def config(d, sources, plugin_dir=PLUGINS, db="store.db"):
    path = os.path.join(d, db.replace(".db", "") + f"-{len(os.listdir(d))}.cfg")
    with open(path, "w") as f:
        f.write(f'store = {{ path = "{d}/{db}"; }};\nplugin_dir = "{plugin_dir}";\n')
        f.write("sources = (\n" + ",\n".join(sources) + "\n);\n")
    return path


def csv_source(name, path):
    return f'  {{ name = "{name}"; plugin = "csv"; path = "{path}"; }}'


with tempfile.TemporaryDirectory() as d:
    data = os.path.join(d, "t.csv")
    write_csv(data, 300)

    # Two sources on one csv.so, then a second sync that changes nothing.
    cfg = config(d, [csv_source("a", data), csv_source("b", data)])
    rc, out, err = run(cfg, "sync")
    check(rc == 0, f"two sources on one plugin sync (rc={rc}) {err.strip()}")
    check("a: 300 read, 300 new, 0 changed, 0 unchanged, 0 rejected" in out,
          "source a counts printed")
    check("b: 300 read, 300 new, 0 changed, 0 unchanged, 0 rejected" in out,
          "source b counts printed")
    first = dump(os.path.join(d, "store.db"))
    check(len([r for r in first if r[0] == "tickets"]) == 600, "600 tickets stored")
    rc, out, err = run(cfg, "sync")
    check(rc == 0 and dump(os.path.join(d, "store.db")) == first,
          "running sync twice changes nothing")
    check("a: 1 read, 0 new, 0 changed, 1 unchanged, 0 rejected" in out,
          f"the second sync finds the record read again unchanged ({out.strip()})")

    # status reports both sources.
    rc, out, err = run(cfg, "status")
    check(rc == 0 and "a " in out and "2026-10-" in out, "status shows watermark")
    # Global options may also follow the command.
    p = subprocess.run([BIN, "status", "-q", "--config", cfg], capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0 and "2026-10-" in p.stdout and
          len(p.stdout.splitlines()) == len(out.splitlines()) == 3,
          "global options after the command")

    # A source key the plugin does not declare: exit 2, file:line.
    bad = config(d, [csv_source("a", data),
                     '  { name = "c"; plugin = "csv";\n    path = "x.csv"; colour = "red"; }'])
    rc, out, err = run(bad, "check-config")
    check(rc == 2 and f"{bad}:6: source 'c': unknown key 'colour'" in err,
          f"unknown plugin key refused with file:line ({err.strip()})")
    bad = config(d, ['  { name = "c"; plugin = "csv";\n    delimiter = 5; path = "x"; }'])
    rc, out, err = run(bad, "sync")
    check(rc == 2 and ":5: source 'c': 'delimiter' must be a string" in err,
          f"wrong type refused with file:line ({err.strip()})")
    bad = config(d, ['  { name = "c";\n    plugin = "nosuch"; }'])
    rc, out, err = run(bad, "check-config")
    check(rc == 2 and "unknown plugin 'nosuch'" in err and ":5:" in err,
          f"unknown plugin is a configuration error ({err.strip()})")
    bad = config(d, ['  { name = "c"; plugin = "csv"; }'])
    rc, out, err = run(bad, "check-config")
    check(rc == 2 and "missing required key 'path'" in err,
          f"missing required plugin key ({err.strip()})")

    # A plugin built wrong is refused; the other source still syncs.
    pdir = os.path.join(d, "plugins")
    os.mkdir(pdir)
    shutil.copy(os.path.join(PLUGINS, "csv.so"), pdir)
    shutil.copy(os.path.join(BUILD, "test-plugins", "bad_abi.so"), pdir)
    mixed = config(d, ['  { name = "broken"; plugin = "bad_abi"; }',
                       csv_source("good", data)], plugin_dir=pdir, db="mixed.db")
    rc, out, err = run(mixed, "sync")
    check(rc == 1, f"a refused plugin fails the run (rc={rc})")
    check("bad_abi.so: incompatible plugin: ABI version differs (host has 1, plugin has 2)"
          in err, f"refusal names file and field ({err.strip()})")
    check("good: 300 read, 300 new" in out, "the other source still ran")
    rc, out, err = run(mixed, "plugins")
    check("bad_abi" in out and "REFUSED" in out and "csv" in out,
          "plugins lists the refused plugin")

    # Crash safety: kill -9 in the middle of a large sync, then sync again.
    big = os.path.join(d, "big.csv")
    write_csv(big, 200000)
    ref_cfg = config(d, [csv_source("big", big)], db="ref.db")
    rc, out, err = run(ref_cfg, "sync")
    check(rc == 0, "uninterrupted large sync")
    reference = dump(os.path.join(d, "ref.db"))
    crash_cfg = config(d, [csv_source("big", big)], db="crash.db")
    killed_mid_sync = False
    for f in ("crash.db", "crash.db-wal", "crash.db-shm"):
        if os.path.exists(os.path.join(d, f)):
            os.remove(os.path.join(d, f))
    p = subprocess.Popen([BIN, "-c", crash_cfg, "sync"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    # Kill as soon as a first page is committed (whatever the build's speed).
    deadline = time.time() + 120
    n = 0
    while time.time() < deadline and p.poll() is None:
        try:
            con = sqlite3.connect(os.path.join(d, "crash.db"), timeout=0.1)
            n = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
            con.close()
        except sqlite3.Error:
            n = 0
        if n > 0:
            p.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    p.wait()
    con = sqlite3.connect(os.path.join(d, "crash.db"))
    n = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
    con.close()
    killed_mid_sync = p.returncode == -signal.SIGKILL and 0 < n < 200000
    check(killed_mid_sync, "sync was killed with part of the data committed")
    rc, out, err = run(crash_cfg, "sync")
    check(rc == 0 and dump(os.path.join(d, "crash.db")) == reference,
          "kill -9 then sync gives exactly the uninterrupted store")

    # Ctrl-C: the page in progress is dropped, the summary counts only what
    # was committed, exit 1, and the next sync completes.
    int_cfg = config(d, [csv_source("big", big)], db="int.db")
    p = subprocess.Popen([BIN, "-c", int_cfg, "sync"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        try:
            con = sqlite3.connect(os.path.join(d, "int.db"), timeout=0.1)
            n = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
            con.close()
        except sqlite3.Error:
            n = 0
        if n > 0:
            p.send_signal(signal.SIGINT)
            break
        time.sleep(0.01)
    out, err = p.communicate(timeout=120)
    con = sqlite3.connect(os.path.join(d, "int.db"))
    n = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
    con.close()
    check(p.returncode == 1 and "interrupted" in err and 0 < n < 200000,
          f"SIGINT stops the sync with exit 1 ({p.returncode}, {n} rows)")
    check(f" {n} new, 0 changed, 0 unchanged" in out,
          f"the summary counts only the committed rows ({out.strip()})")
    rc, out, err = run(int_cfg, "sync")
    check(rc == 0 and dump(os.path.join(d, "int.db")) == reference,
          "after SIGINT, the next sync gives the uninterrupted store")

    # Lock: a second sync while one runs is refused with pid and time.
    lock_cfg = config(d, [csv_source("big", big)], db="lock.db")
    p = subprocess.Popen([BIN, "-c", lock_cfg, "sync"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    # Wait until it has committed a page (so it surely holds the lock),
    # however loaded the machine is.
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        try:
            con = sqlite3.connect(os.path.join(d, "lock.db"), timeout=0.1)
            n = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
            con.close()
        except sqlite3.Error:
            n = 0
        if n > 0:
            break
        time.sleep(0.01)
    # Paused while the second one runs: a fast machine would otherwise let
    # it finish first. A stopped process still holds its lock.
    still_running = p.poll() is None
    if still_running:
        os.kill(p.pid, signal.SIGSTOP)
    rc, out, err = run(lock_cfg, "sync")
    if still_running:
        os.kill(p.pid, signal.SIGCONT)
    p.communicate(timeout=120)
    check(still_running and rc == 1 and
          f"another sync is running (pid {p.pid}, since 20" in err,
          f"second sync refused ({err.strip()})")

    # --full marks vanished tickets deleted; they leave the store's live set.
    write_csv(data, 300, skip={5, 6})
    rc, out, err = run(cfg, "sync", "--source", "a", "--full")
    check(rc == 0 and "2 marked deleted" in out, f"--full marks 2 deleted ({out.strip()} {err.strip()})")
    con = sqlite3.connect(os.path.join(d, "store.db"))
    deleted = con.execute("SELECT id FROM tickets WHERE source='a' AND deleted_at "
                          "IS NOT NULL ORDER BY id").fetchall()
    con.close()
    check(deleted == [("5",), ("6",)], f"the vanished ones are marked ({deleted})")
    rc, out, err = run(cfg, "sync", "--source", "nope")
    check(rc == 2 and "no source named 'nope'" in err, "unknown --source is a usage error")

print(f"{len(failures)} failed" if failures else "all host checks passed")
sys.exit(1 if failures else 0)
