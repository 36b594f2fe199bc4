"""webhook.py -- a loopback webhook receiver for the alert tests.

Answers 200 "ok" to every POST (the harness's request log records each
request, headers and body included, for the test to read). Option
fail_file=PATH: while that file exists, every request gets 503, so a test
can take the receiver "down" for one run and back up for the next.
"""
import os


class App:
    def __init__(self, data_path, options):
        self.base_url = None
        self.fail_file = options.get("fail_file")

    def handle(self, method, path, query, headers, body):
        if self.fail_file and os.path.exists(self.fail_file):
            return 503, {"Content-Type": "text/plain"}, "down for maintenance"
        if method != "POST":
            return 405, {"Content-Type": "text/plain"}, "POST only"
        return 200, {"Content-Type": "text/plain"}, "ok"
