"""mysource_app.py -- a mock of the API mysource.c reads, for the template's
test (run by itsm-bridge's mock server: --app path/to/mysource_app.py).

GET /api/tickets?updated_since=EPOCH&page=N : tickets updated at or after
EPOCH, oldest update first, PAGE_SIZE per page, "next_page" or null.
GET /api/tickets/ID : one ticket, 404 when unknown.
--data: a JSON list of tickets (see the test). Loopback only, stdlib only.
"""
import json
import threading
from datetime import datetime

PAGE_SIZE = 2


def epoch(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


class App:
    def __init__(self, data_path, options):
        self.base_url = None
        self.lock = threading.Lock()
        with open(data_path, encoding="utf-8") as f:
            self.tickets = json.load(f)

    def handle(self, method, path, query, headers, body):
        if method != "GET":
            return 405, {}, {"error": "method not allowed"}
        with self.lock:
            if path == "/api/tickets":
                since = int(query.get("updated_since", ["0"])[0])
                page = int(query.get("page", ["1"])[0])
                rows = sorted((t for t in self.tickets if epoch(t["updated"]) >= since),
                              key=lambda t: (epoch(t["updated"]), t["id"]))
                chunk = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
                more = page * PAGE_SIZE < len(rows)
                return 200, {}, {"tickets": chunk, "next_page": page + 1 if more else None}
            if path.startswith("/api/tickets/"):
                wanted = path[len("/api/tickets/"):]
                for t in self.tickets:
                    if t["id"] == wanted:
                        return 200, {}, t
                return 404, {}, {"error": "no such ticket"}
        return 404, {}, {"error": "no such endpoint"}
