"""What the Python integration tests share: running the built binary with a
configuration (plugins from the build tree), recording checks, and the
final verdict. The binary and plugin folder come from ctest's environment
(IB_BIN, IB_PLUGIN_DIR)."""
import os
import subprocess
import sys

BIN = os.environ["IB_BIN"]
PLUGINS = os.environ["IB_PLUGIN_DIR"]
failures = []


def check(cond, what):
    """Records one assertion; prints ok/FAIL with what was seen."""
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


def run(cfg, *args, timeout=120):
    """Runs itsm-bridge -c cfg ARGS; (exit status, stdout, stderr)."""
    p = subprocess.run([BIN, "-c", cfg, "--plugin-dir", PLUGINS, *args],
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def finish():
    """Exits 1 naming how many checks failed, else prints PASS."""
    if failures:
        print(f"{len(failures)} failed")
        sys.exit(1)
    print("PASS")
