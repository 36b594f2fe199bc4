#!/usr/bin/python3
"""test_http_mockserver.py -- checks the mock server's own contract
(tests/mock/README.md): port file, static app, fault rules (after, times,
method, first match), request log, latency, TLS. Other tests build on it, so
it must behave exactly as documented. Standard library only.
"""

import http.client
import json
import os
import socket
import ssl
import sys
import tempfile
import time
import unittest

SOURCE_DIR = os.environ.get("IB_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "mock"))
from harness import MockServer  # noqa: E402


class Server(MockServer):
    """The static app, plus plain-client helpers to talk to it."""

    def __init__(self, tmp, faults=None, latency_ms=0, tls=False, data=None):
        super().__init__(tmp, data=data, faults=faults, tls=tls, latency_ms=latency_ms)

    def conn(self, timeout=5):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.cert)
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def log(self):
        return self.requests()


class MockServerTest(unittest.TestCase):
    def setUp(self):
        self.tmpdir = tempfile.TemporaryDirectory()
        self.tmp = self.tmpdir.name
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
        self.tmpdir.cleanup()

    def start(self, **kw):
        s = Server(self.tmp, **kw)
        self.servers.append(s)
        return s

    def test_static_files_and_endpoints(self):
        data = os.path.join(self.tmp, "data")
        os.makedirs(os.path.join(data, "api"))
        with open(os.path.join(data, "api", "page1.json"), "w") as f:
            f.write('{"n": 1}')
        with open(os.path.join(self.tmp, "secret.txt"), "w") as f:
            f.write("outside")
        s = self.start(data=data)
        status, headers, body = s.request("GET", "/api/page1.json")
        self.assertEqual((status, json.loads(body)), (200, {"n": 1}))
        self.assertEqual(headers["Content-Length"], str(len(body)))
        self.assertEqual(s.request("GET", "/api/none.json")[0], 404)
        self.assertEqual(s.request("GET", "/../secret.txt")[0], 404)
        self.assertEqual(s.request("GET", "/status/418")[0], 418)
        status, _, body = s.request("POST", "/echo?a=1&a=2&b=", body=b'{"x": 1}',
                                    headers={"X-Token": "t"})
        echo = json.loads(body)
        self.assertEqual(echo["method"], "POST")
        self.assertEqual(echo["query"], {"a": ["1", "2"], "b": [""]})
        self.assertEqual(echo["headers"]["x-token"], "t")
        self.assertEqual(echo["body"], '{"x": 1}')
        self.assertTrue(json.loads(s.request("GET", "/json")[2])["ok"])

    def test_fault_after_times_and_method(self):
        s = self.start(faults=[
            {"path": "/json", "method": "POST", "status": 500, "times": -1},
            {"path": "/json", "status": 503, "after": 1, "times": 2,
             "headers": {"Retry-After": "3"}, "body": "busy"},
        ])
        got = [s.request("GET", "/json") for _ in range(5)]
        self.assertEqual([g[0] for g in got], [200, 503, 503, 200, 200])
        self.assertEqual(got[1][1]["Retry-After"], "3")
        self.assertEqual(got[1][2], b"busy")
        # the POST rule never consumed GETs, and fires every time
        self.assertEqual(s.request("POST", "/json", body=b"{}")[0], 500)
        self.assertEqual(s.request("POST", "/json", body=b"{}")[0], 500)
        log = s.log()
        self.assertEqual([e["fault"] for e in log],
                         [None, "status", "status", None, None, "status", "status"])
        self.assertEqual([e["seq"] for e in log], list(range(1, 8)))

    def test_close_truncate_invalid_json(self):
        s = self.start(faults=[
            {"path": "/json", "close": True},
            {"path": "/json", "truncate": True},
            {"path": "/json", "invalid_json": True},
        ])
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            s.request("GET", "/json")
        with self.assertRaises(http.client.IncompleteRead):
            s.request("GET", "/json")
        status, _, body = s.request("GET", "/json")
        self.assertEqual(status, 200)
        with self.assertRaises(ValueError):
            json.loads(body)
        self.assertEqual(s.request("GET", "/json")[0], 200)

    def test_stall_and_delay(self):
        s = self.start(faults=[{"path": "/json", "stall_s": 2},
                               {"path": "/echo", "delay_ms": 300}])
        c = s.conn(timeout=0.5)
        c.request("GET", "/json")
        with self.assertRaises(socket.timeout):
            c.getresponse()
        c.close()
        t0 = time.monotonic()
        self.assertEqual(s.request("GET", "/echo")[0], 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual(s.request("GET", "/json")[0], 200)

    def test_in_flight_counts_concurrent_requests(self):
        import threading
        s = self.start(latency_ms=300)
        threads = [threading.Thread(target=s.request, args=("GET", "/json")) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(max(e["in_flight"] for e in s.log()), 3)
        s.request("GET", "/json")
        self.assertEqual(s.log()[-1]["in_flight"], 1)

    def test_tls(self):
        s = self.start(tls=True)
        self.assertEqual(s.request("GET", "/json")[0], 200)
        plain = ssl.create_default_context()
        c = http.client.HTTPSConnection("127.0.0.1", s.port, timeout=5, context=plain)
        with self.assertRaises(ssl.SSLCertVerificationError):
            c.request("GET", "/json")
        c.close()
        self.assertEqual(s.request("GET", "/json")[0], 200)  # still serving


if __name__ == "__main__":
    sys.exit(0 if unittest.main(exit=False, verbosity=1).result.wasSuccessful() else 1)
