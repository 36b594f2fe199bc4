"""glpi.py -- mock GLPI legacy REST API (apirest.php) for the glpi plugin tests.

Serves, under /apirest.php, what GLPI's apirest.md documents:
  GET initSession   "Authorization: user_token T" (+ "App-Token: A" when the
                    app_token option is set) -> 200 {"session_token": ...};
                    a wrong user token -> 401 ["ERROR_GLPI_LOGIN_USER_TOKEN", ...],
                    a wrong/missing App-Token -> 400 ["ERROR_WRONG_APP_TOKEN_PARAMETER", ...]
  GET killSession   ends the session
  GET Ticket        range=a-b (inclusive), sort=<field>, order=ASC|DESC,
                    expand_dropdowns=true (dropdown ids -> complete names);
                    Content-Range "a-b/total", Accept-Range "Ticket 990";
                    200 when the range reaches the end, 206 when partial,
                    400 ["ERROR_RANGE_EXCEED_TOTAL", ...] when a >= total
  GET Ticket/:id    one ticket (same fields and expand_dropdowns as the
                    list, also when in the trash: is_deleted 1); an id GLPI
                    does not have -> 404 ["ERROR_ITEM_NOT_FOUND", ...]; one
                    the user may not read (option hidden) -> 401
                    ["ERROR_RIGHT_MISSING", ...], as GLPI's getItem answers
  GET Ticket/:id/Log  the ticket's Log rows, same range rules
Every call but initSession needs a valid Session-Token (else 401
["ERROR_SESSION_TOKEN_INVALID", ...], or 400 ..._MISSING) and the App-Token.

Data: a JSON file {"tickets": [rows with dropdown *ids*], "logs": {"<id>":
[rows]}, "dropdowns": {"itilcategories_id": {"3": "Réseau > Wifi"}, ...}},
or option generate=N (synthetic tickets and logs, for the benchmark).
Options: user_token=T, app_token=A, expire_after=N (a session is refused
with ERROR_SESSION_TOKEN_INVALID after serving N calls: expired sessions),
purge_after=N:K (after N Ticket list calls, the K oldest tickets are
purged: later ranges may start past the new end), hidden=ID,ID (tickets
in an entity the API user does not see: left out of lists, 401 by id).
Must not simulate HTTP faults or latency: that is mockserver's job.
"""

import json
import random
import secrets
import threading

MAX_RANGE = 990


def error(status, code, message):
    return status, {"Content-Type": "application/json"}, [code, message]


def generate(n, seed=7):
    """N tickets over October 2026 with Logs; deterministic."""
    rnd = random.Random(seed)
    tickets, logs = [], {}
    for i in range(1, n + 1):
        day, hour = 1 + (i % 28), 8 + (i % 10)
        created = "2026-10-%02d %02d:%02d:00" % (day, hour, i % 60)
        status = rnd.choice([1, 2, 3, 4, 5, 6])
        solved = "2026-10-%02d %02d:59:00" % (day, hour + 2) if status >= 5 else None
        tickets.append({
            "id": i, "entities_id": 0, "name": "Ticket %d" % i, "date": created,
            "date_mod": "2026-10-%02d %02d:59:30" % (day, hour + 3), "status": status,
            "priority": rnd.randint(1, 6), "type": rnd.choice([1, 2]),
            "itilcategories_id": rnd.choice([0, 1, 2]), "locations_id": 0,
            "takeintoaccountdate": "2026-10-%02d %02d:30:00" % (day, hour + 1),
            "takeintoaccount_delay_stat": 0, "solvedate": solved,
            "closedate": solved if status == 6 else None,
            "time_to_own": None, "time_to_resolve": None, "is_deleted": 0})
        logs[str(i)] = [{"id": 10 * i, "itemtype": "Ticket", "items_id": i,
                         "itemtype_link": "", "linked_action": 0, "user_name": "glpi (2)",
                         "date_mod": "2026-10-%02d %02d:40:00" % (day, hour + 1),
                         "id_search_option": 12, "old_value": "1", "new_value": "2"}]
    return {"tickets": tickets, "logs": logs,
            "dropdowns": {"entities_id": {"0": "Root entity"},
                          "itilcategories_id": {"1": "Réseau", "2": "Réseau > Wifi"}}}


class App:
    def __init__(self, data_path, options):
        self.options = options
        self.base_url = None
        if data_path:
            with open(data_path, encoding="utf-8") as f:
                self.data = json.load(f)
        else:
            self.data = generate(int(options.get("generate", "100")))
        self.user_token = options.get("user_token", "user-token-0123456789")
        self.app_token = options.get("app_token")
        self.expire_after = int(options.get("expire_after", "0"))
        self.sessions = {}  # token -> calls served
        purge = options.get("purge_after", "")
        self.purge_after, self.purge_count = (int(x) for x in purge.split(":")) if purge else (0, 0)
        self.list_calls = 0
        self.hidden = {x for x in options.get("hidden", "").split(",") if x}
        self.lock = threading.Lock()

    # ---- helpers ----------------------------------------------------------

    def header(self, headers, name):
        for k, v in headers.items():
            if k.lower() == name.lower():
                return v
        return None

    def check_app_token(self, headers):
        if self.app_token is None:
            return None
        if self.header(headers, "App-Token") != self.app_token:
            return error(400, "ERROR_WRONG_APP_TOKEN_PARAMETER",
                         "parameter app_token seems wrong")
        return None

    def check_session(self, headers):
        bad = self.check_app_token(headers)
        if bad:
            return bad
        tok = self.header(headers, "Session-Token")
        if not tok:
            return error(400, "ERROR_SESSION_TOKEN_MISSING",
                         "parameter session_token is missing or empty")
        with self.lock:
            calls = self.sessions.get(tok)
            if calls is None or (self.expire_after and calls >= self.expire_after):
                self.sessions.pop(tok, None)
                return error(401, "ERROR_SESSION_TOKEN_INVALID",
                             "session_token seems invalid")
            self.sessions[tok] = calls + 1
        return None

    def expand(self, row, expand):
        out = dict(row)
        for field, names in self.data.get("dropdowns", {}).items():
            if field in out:
                v = out[field]
                if expand:
                    out[field] = names.get(str(v), "&nbsp;" if not v else str(v))
        return out

    def ranged(self, rows, query, itemtype):
        """GLPI's range answer over rows (already sorted)."""
        text = query.get("range", ["0-49"])[0]
        try:
            a, b = (int(x) for x in text.split("-", 1))
        except ValueError:
            return error(400, "ERROR_RANGE_EXCEED_TOTAL", "bad range")
        total = len(rows)
        if a >= total or a > b:
            return error(400, "ERROR_RANGE_EXCEED_TOTAL",
                         "Provided range exceed total count of data: %d" % total)
        b = min(b, a + MAX_RANGE - 1, total - 1)
        status = 200 if b >= total - 1 else 206
        headers = {"Content-Type": "application/json",
                   "Content-Range": "%d-%d/%d" % (a, b, total),
                   "Accept-Range": "%s %d" % (itemtype, MAX_RANGE)}
        return status, headers, rows[a:b + 1]

    # ---- endpoints --------------------------------------------------------

    def handle(self, method, path, query, headers, body):
        if not path.startswith("/apirest.php/"):
            return 404, {"Content-Type": "text/plain"}, "not GLPI"
        route = path[len("/apirest.php/"):].strip("/")
        if route == "initSession":
            bad = self.check_app_token(headers)
            if bad:
                return bad
            if self.header(headers, "Authorization") != "user_token " + self.user_token:
                return error(401, "ERROR_GLPI_LOGIN_USER_TOKEN",
                             "parameter user_token seems invalid")
            tok = secrets.token_hex(20)
            with self.lock:
                self.sessions[tok] = 0
            return 200, {"Content-Type": "application/json"}, {"session_token": tok}
        bad = self.check_session(headers)
        if bad:
            return bad
        if route == "killSession":
            with self.lock:
                self.sessions.pop(self.header(headers, "Session-Token"), None)
            return 200, {"Content-Type": "application/json"}, True
        parts = route.split("/")
        if parts[0] == "Ticket" and len(parts) == 1:
            with self.lock:
                self.list_calls += 1
                if self.purge_after and self.list_calls == self.purge_after + 1:
                    oldest = sorted(self.data["tickets"], key=lambda t: t["date_mod"])
                    gone = {t["id"] for t in oldest[:self.purge_count]}
                    self.data["tickets"] = [t for t in self.data["tickets"]
                                            if t["id"] not in gone]
            field = query.get("sort", ["id"])[0]
            desc = query.get("order", ["ASC"])[0].upper() == "DESC"
            rows = [t for t in self.data["tickets"]
                    if not t.get("is_deleted") and str(t["id"]) not in self.hidden]
            rows.sort(key=lambda t: (str(t.get(field) or ""), t["id"]), reverse=desc)
            expand = query.get("expand_dropdowns", ["false"])[0] == "true"
            return self.ranged([self.expand(t, expand) for t in rows], query, "Ticket")
        if parts[0] == "Ticket" and len(parts) == 2:
            found = [t for t in self.data["tickets"] if str(t["id"]) == parts[1]]
            if not found:
                return error(404, "ERROR_ITEM_NOT_FOUND", "Item not found")
            if parts[1] in self.hidden:
                return error(401, "ERROR_RIGHT_MISSING",
                             "You don't have permission to perform this action.")
            expand = query.get("expand_dropdowns", ["false"])[0] == "true"
            return 200, {"Content-Type": "application/json"}, self.expand(found[0], expand)
        if parts[0] == "Ticket" and len(parts) == 3 and parts[2] == "Log":
            if not any(str(t["id"]) == parts[1] for t in self.data["tickets"]):
                return error(404, "ERROR_ITEM_NOT_FOUND", "Item not found")
            rows = sorted(self.data.get("logs", {}).get(parts[1], []), key=lambda r: -r["id"])
            return self.ranged(rows, query, "Log")
        return error(400, "ERROR_ITEMTYPE_NOT_FOUND_NOR_COMMONDBTM",
                     "resource not found or not an instance of CommonDBTM")
