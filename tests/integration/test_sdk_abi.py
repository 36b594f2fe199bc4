#!/usr/bin/python3
"""test_sdk_abi.py -- growth of the SDK is compatible: a plugin built
against the first SDK version (tests/plugins/v1_http.c: the first, shorter
descriptor and ib_http_response, responses passed as an array) still loads
and syncs, the host filling and freeing its responses by their own size
and stride. Run under the sanitizers, an overflow fails it.
Must not reach anything but 127.0.0.1.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ["IB_BIN"]
BUILD = os.environ["IB_BINARY_DIR"]
SOURCE_DIR = os.environ["IB_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "mock"))
from harness import MockServer  # noqa: E402


def main():
    tmp = tempfile.mkdtemp(prefix="ib-abi-")
    pdir = os.path.join(tmp, "plugins")
    os.mkdir(pdir)
    shutil.copy(os.path.join(BUILD, "test-plugins", "v1_http.so"), pdir)
    failures = []
    with MockServer(tmp) as mock:
        cfg = os.path.join(tmp, "bridge.cfg")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write('store = { path = "%s/s.db"; };\nplugin_dir = "%s";\n'
                    'sources = ( { name = "old"; plugin = "v1_http"; url = "%s"; } );\n'
                    % (tmp, pdir, mock.url))
        p = subprocess.run([BIN, "-c", cfg, "sync"], capture_output=True, text=True,
                           timeout=60)
        if p.returncode != 0 or "1 new" not in p.stdout:
            failures.append("the first-version plugin syncs: %s %s" % (p.stdout, p.stderr))
        con = sqlite3.connect(os.path.join(tmp, "s.db"))
        row = con.execute("select title from tickets where id = 'v1-1'").fetchone()
        con.close()
        # statuses of both requests of the array, the 2nd body, and the
        # struct_size the plugin finds in its (shorter) response
        want = "204 200 echo %d" % (5 * 8)
        if row is None or row[0] != want:
            failures.append("responses filled by the plugin's stride: %r, want %r" % (row, want))
    shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL: " + f)
    if failures:
        sys.exit(1)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
