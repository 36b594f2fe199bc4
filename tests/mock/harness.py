"""harness.py -- starts tests/mock/mockserver.py for a test and reads what
it saw. One place for what every integration test needs: pick a free port
(the server writes it to a file), script faults, optional TLS with a fresh
self-signed certificate, and the request log. Loopback only.

    from harness import MockServer
    with MockServer(tmp, app="jira", data=path, options={"api": "cloud"},
                    faults=[{"path": "/rest", "status": 429, "times": 2}]) as m:
        ... m.port, m.url, m.requests() ...
"""
import json
import os
import subprocess
import time

MOCKSERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mockserver.py")
START_TIMEOUT_S = 20


def self_signed_cert(tmp, name="mock"):
    """Writes a certificate for 127.0.0.1 and its key; returns both paths."""
    cert, key = os.path.join(tmp, name + "-cert.pem"), os.path.join(tmp, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class MockServer:
    def __init__(self, tmp, app=None, data=None, options=None, faults=None, tls=False,
                 latency_ms=0, name="mock", quiet=False):
        self.tmp = tmp
        self.log_path = os.path.join(tmp, name + "-requests.jsonl")
        port_file = os.path.join(tmp, name + ".port")
        for f in (self.log_path, port_file):
            if os.path.exists(f):
                os.unlink(f)
        args = ["/usr/bin/python3", MOCKSERVER, "--port-file", port_file,
                "--request-log", self.log_path]
        if app:
            args += ["--app", app]
        if data:
            args += ["--data", data]
        for k, v in (options or {}).items():
            args += ["--option", "%s=%s" % (k, v)]
        if latency_ms:
            args += ["--latency-ms", str(latency_ms)]
        if faults is not None:
            path = os.path.join(tmp, name + "-faults.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(faults, f)
            args += ["--faults", path]
        self.tls = tls
        self.cert = None
        if tls:
            self.cert, key = self_signed_cert(tmp, name)
            args += ["--tls-cert", self.cert, "--tls-key", key]
        self.proc = subprocess.Popen(args, stderr=subprocess.DEVNULL if quiet else None)
        deadline = time.time() + START_TIMEOUT_S
        while not (os.path.exists(port_file) and os.path.getsize(port_file) > 0):
            if time.time() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("mock server did not start: " + " ".join(args))
            time.sleep(0.02)
        with open(port_file, encoding="utf-8") as f:
            self.port = int(f.read().strip())
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)

    def requests(self):
        """Every request seen so far (method, path, query, headers, fault...)."""
        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
