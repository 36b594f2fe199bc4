#!/usr/bin/python3
"""mockserver.py -- a scriptable loopback HTTP(S) server for the tests.

Serves an *app* (tests/mock/apps/NAME.py) on 127.0.0.1, with optional fault
injection, latency and a JSON-lines request log. Python standard library
only; it must never listen on anything but 127.0.0.1. See README.md here.
"""

import argparse
import importlib.util
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
HANDLER_IDLE_TIMEOUT_S = 30  # a silent keep-alive connection is dropped after this
INVALID_JSON_BODY = b'{"broken": [1, 2, '


def load_app(name, data_path, options):
    """Imports apps/NAME.py (or NAME itself when it is a path to a .py file)."""
    if name.endswith(".py") or os.sep in name:
        path = name
    else:
        path = os.path.join(HERE, "apps", name + ".py")
    if not os.path.isfile(path):
        sys.exit("mockserver: no app %r (looked for %s)" % (name, path))
    spec = importlib.util.spec_from_file_location("mock_app_" + os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(path))
    spec.loader.exec_module(module)
    return module.App(data_path, options)


class Faults:
    """Fault rules, applied before the app. First firing rule wins.

    A rule counts the requests that match its path prefix (and method) and
    reach it (not taken by an earlier rule that fired). It fires for the
    matching requests number after+1 .. after+times (times -1: forever).
    """

    def __init__(self, rules):
        self.rules = rules
        self.seen = [0] * len(rules)
        self.lock = threading.Lock()

    def pick(self, method, path):
        with self.lock:
            for i, rule in enumerate(self.rules):
                if not path.startswith(rule.get("path", "/")):
                    continue
                if "method" in rule and rule["method"].upper() != method:
                    continue
                n = self.seen[i]
                self.seen[i] += 1
                after = int(rule.get("after", 0))
                times = int(rule.get("times", 1))
                if n < after:
                    continue
                if times >= 0 and n >= after + times:
                    continue
                return rule
        return None


def fault_name(rule):
    if rule is None:
        return None
    for key in ("close", "stall_s", "truncate", "invalid_json", "status", "delay_ms"):
        if key in rule:
            return key
    return "unknown"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "itsm-bridge-mock/1"
    timeout = HANDLER_IDLE_TIMEOUT_S

    def log_message(self, fmt, *args):  # quiet unless --verbose
        if self.server.verbose:
            sys.stderr.write("mockserver: " + (fmt % args) + "\n")

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def do_PUT(self):
        self.serve("PUT")

    def do_PATCH(self):
        self.serve("PATCH")

    def do_DELETE(self):
        self.serve("DELETE")

    def do_HEAD(self):
        self.serve("HEAD")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def serve(self, method):
        srv = self.server
        arrival = time.time()
        with srv.lock:
            srv.in_flight += 1
            in_flight = srv.in_flight
            srv.seq += 1
            seq = srv.seq
        self.counted = True
        try:
            self.serve_counted(method, arrival, in_flight, seq)
        finally:
            self.leave()

    def leave(self):
        """Leaves the server's in-flight count, once per request."""
        if self.counted:
            self.counted = False
            with self.server.lock:
                self.server.in_flight -= 1

    def serve_counted(self, method, arrival, in_flight, seq):
        srv = self.server
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        body = self.read_body()
        rule = srv.faults.pick(method, path) if srv.faults else None
        srv.log_request_line({
            "seq": seq, "time": arrival, "method": method, "path": path,
            "query": query, "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"), "in_flight": in_flight,
            "fault": fault_name(rule)})

        if rule is not None and rule.get("close"):
            self.leave()
            self.drop()
            return
        if rule is not None and "stall_s" in rule:
            time.sleep(float(rule["stall_s"]))
            self.leave()
            self.drop()
            return
        if rule is not None and "delay_ms" in rule:
            time.sleep(float(rule["delay_ms"]) / 1000.0)

        if rule is not None and "status" in rule:
            status = int(rule["status"])
            headers = dict(rule.get("headers", {}))
            payload = rule.get("body", "")
        elif rule is not None and rule.get("invalid_json"):
            status, headers, payload = 200, {"Content-Type": "application/json"}, INVALID_JSON_BODY
        else:
            try:
                status, headers, payload = srv.app.handle(method, path, query, self.headers, body)
            except Exception as exc:  # an app bug must show up in the test output
                sys.stderr.write("mockserver: app failed on %s %s: %r\n" % (method, self.path, exc))
                status, headers, payload = 500, {"Content-Type": "text/plain"}, ("app error: %r" % exc)
        payload = to_bytes(payload, headers)

        if srv.latency_s > 0:
            time.sleep(srv.latency_s)

        truncate = rule is not None and rule.get("truncate")
        # Leave the in-flight count before the client can see the answer, so
        # that its next request never overlaps this one in the count.
        self.leave()
        self.send_response(status)
        declared = len(payload) * 2 + 16 if truncate else len(payload)
        for name, value in headers.items():
            if name.lower() != "content-length":
                self.send_header(name, str(value))
        self.send_header("Content-Length", str(declared))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()
        if truncate:
            self.drop()

    def drop(self):
        """Closes the connection without (the rest of) a response."""
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def to_bytes(payload, headers):
    if isinstance(payload, (dict, list)):
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(payload).encode("utf-8")
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if payload is None:
        return b""
    return bytes(payload)


class MockServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app, faults, latency_ms, log_path, tls_context, verbose):
        super().__init__(("127.0.0.1", 0), Handler)
        self.app = app
        self.faults = faults
        self.latency_s = latency_ms / 1000.0
        self.tls_context = tls_context
        self.verbose = verbose
        self.lock = threading.Lock()
        self.in_flight = 0
        self.seq = 0
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None

    def log_request_line(self, entry):
        if self.log_file is None:
            return
        line = json.dumps(entry, sort_keys=True)
        with self.lock:
            self.log_file.write(line + "\n")
            self.log_file.flush()

    def finish_request(self, request, client_address):
        # Runs in the request's thread: a slow or refused TLS handshake must
        # not block the accept loop.
        if self.tls_context is not None:
            try:
                request.settimeout(HANDLER_IDLE_TIMEOUT_S)
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                if self.verbose:
                    sys.stderr.write("mockserver: TLS handshake failed: %s\n" % exc)
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def parse_options(pairs):
    options = {}
    for pair in pairs:
        if "=" not in pair:
            sys.exit("mockserver: --option wants k=v, got %r" % pair)
        key, value = pair.split("=", 1)
        options[key] = value
    return options


def main():
    ap = argparse.ArgumentParser(description="loopback mock HTTP(S) server for itsm-bridge tests")
    ap.add_argument("--port-file", required=True, help="written with the port once listening")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--app", default="static")
    ap.add_argument("--data", default=None)
    ap.add_argument("--option", action="append", default=[], metavar="K=V")
    ap.add_argument("--faults", help="JSON list of fault rules")
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--request-log", help="one JSON line per request")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    faults = None
    if args.faults:
        with open(args.faults, encoding="utf-8") as f:
            faults = Faults(json.load(f))
    tls_context = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            sys.exit("mockserver: --tls-cert and --tls-key go together")
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)

    app = load_app(args.app, args.data, parse_options(args.option))
    server = MockServer(app, faults, args.latency_ms, args.request_log, tls_context, args.verbose)
    port = server.server_address[1]
    app.base_url = "%s://127.0.0.1:%d" % ("https" if tls_context else "http", port)

    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % port)
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
