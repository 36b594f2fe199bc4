"""static.py -- mock app: files under --data by path, plus fixed test endpoints.

  GET /echo[...]    the request as JSON (method, path, query, headers, body)
  GET /json         a small valid JSON object
  GET /status/NNN   an empty answer with status NNN
  anything else     the file <data>/<path>, or 404
Must not hold state between requests: fault scripting is mockserver's job.
"""

import json
import mimetypes
import os


class App:
    def __init__(self, data_path, options):
        self.root = os.path.realpath(data_path) if data_path else None
        self.options = options
        self.base_url = None  # set by mockserver once the port is known

    def handle(self, method, path, query, headers, body):
        if path == "/echo" or path.startswith("/echo/"):
            return 200, {"Content-Type": "application/json"}, {
                "method": method, "path": path, "query": query,
                "headers": {k.lower(): v for k, v in headers.items()},
                "body": body.decode("utf-8", "replace")}
        if path == "/json":
            return 200, {"Content-Type": "application/json"}, {
                "ok": True, "items": [1, 2, 3], "text": "caf\u00e9"}
        if path.startswith("/status/"):
            try:
                return int(path[len("/status/"):]), {}, b""
            except ValueError:
                return 400, {"Content-Type": "text/plain"}, "bad status in path"
        return self.serve_file(path)

    def serve_file(self, path):
        if self.root is None:
            return 404, {"Content-Type": "text/plain"}, "no --data directory"
        full = os.path.realpath(os.path.join(self.root, path.lstrip("/")))
        if not (full == self.root or full.startswith(self.root + os.sep)) or not os.path.isfile(full):
            return 404, {"Content-Type": "text/plain"}, "not found: " + path
        ctype = mimetypes.guess_type(full)[0] or "application/octet-stream"
        with open(full, "rb") as f:
            return 200, {"Content-Type": ctype}, f.read()
