"""servicenow.py -- mock ServiceNow Table API for the servicenow plugin tests.

GET /api/now/table/<table> over the tables of a JSON data file
({"incident": [rows], "sys_audit": [...], "cmdb_ci_outage": [...],
"task_sla": [...]}), with the encoded-query subset the plugin uses
(=, !=, >, >=, <, <=, IN, NOT IN, STARTSWITH, LIKE, ISEMPTY, ISNOTEMPTY,
^OR, ^NQ, ORDERBY/ORDERBYDESC), sysparm_fields, sysparm_limit,
sysparm_offset and sysparm_display_value (false | true | all).

A row field is a plain value or {"value": ..., "display_value": ...}.
Test hooks inside rows (never returned):
  "_acl_hidden": true   dropped from a page *after* the limit is applied,
                        as row-level ACLs do: pages come back short.
  "_update_after": {"requests": N, "fields": {...}, "audit": [rows]}
                        before the table's request N+1 is served, the row
                        gets these fields (e.g. a later sys_updated_on) and
                        the audit rows are appended: a row updated mid-sync.
Options: user=U password=P (Basic auth checked; 401 otherwise),
generate=N (N synthetic incidents with audit rows, task_sla rows and
outages, for the benchmark; the data file may then be omitted).
Misbehaviour (a server that never finishes), for the paging guards:
repeat_first_page=TABLE serves the first answer for TABLE again for every
later request of it, whatever the keyset filter asks.
Must not simulate HTTP faults or latency: that is mockserver's job.
"""

import base64
import bisect
import json
import threading

SN_ERROR_401 = {"error": {"message": "User Not Authenticated",
                          "detail": "Required to provide Auth information"},
                "status": "failure"}
OPERATORS = ["NOT IN", "ISNOTEMPTY", "ISEMPTY", "STARTSWITH", "ENDSWITH",
             "NOTLIKE", "LIKE", "IN", ">=", "<=", "!=", ">", "<", "="]


def value_of(field):
    if isinstance(field, dict):
        return field.get("value")
    return field


def display_of(field):
    if isinstance(field, dict):
        d = field.get("display_value")
        return d if d is not None else field.get("value")
    return field


def as_text(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def compare(a, b):
    """Numbers compare as numbers, everything else as text."""
    try:
        fa, fb = float(a), float(b)
        return (fa > fb) - (fa < fb)
    except (TypeError, ValueError):
        a, b = as_text(a), as_text(b)
        return (a > b) - (a < b)


def parse_condition(term):
    i = 0
    while i < len(term) and (term[i].islower() or term[i].isdigit() or term[i] in "_."):
        i += 1
    field, rest = term[:i], term[i:]
    for op in OPERATORS:
        if rest.startswith(op):
            return field, op, rest[len(op):]
    raise ValueError("unsupported encoded query term %r" % term)


def parse_query(text):
    """-> (groups, order): groups is a list (OR of ^NQ groups) of lists (AND)
    of lists (OR via ^OR) of conditions; order is [(field, descending)]."""
    groups, order = [], []
    for gtext in text.split("^NQ") if text else []:
        group = []
        for term in gtext.split("^"):
            if not term:
                continue
            if term.startswith("ORDERBYDESC"):
                order.append((term[len("ORDERBYDESC"):], True))
            elif term.startswith("ORDERBY"):
                order.append((term[len("ORDERBY"):], False))
            elif term.startswith("OR") and group:
                group[-1].append(parse_condition(term[2:]))
            else:
                group.append([parse_condition(term)])
        groups.append(group)
    return groups, order


def row_value(row, field):
    if field in row:
        return value_of(row[field])
    if "." in field:  # a dot-walk we do not model: compare with the display
        return display_of(row.get(field.split(".")[0]))
    return None


def matches(row, cond):
    field, op, arg = cond
    v = as_text(row_value(row, field))
    if op == "=":
        return compare(v, arg) == 0 if v != "" else arg == ""
    if op == "!=":
        return v != arg
    if op in (">", ">=", "<", "<="):
        if v == "":
            return False
        c = compare(v, arg)
        return {">": c > 0, ">=": c >= 0, "<": c < 0, "<=": c <= 0}[op]
    if op == "IN":
        return v in arg.split(",")
    if op == "NOT IN":
        return v not in arg.split(",")
    if op == "STARTSWITH":
        return v.startswith(arg)
    if op == "ENDSWITH":
        return v.endswith(arg)
    if op == "LIKE":
        return arg.lower() in v.lower()
    if op == "NOTLIKE":
        return arg.lower() not in v.lower()
    if op == "ISEMPTY":
        return v == ""
    if op == "ISNOTEMPTY":
        return v != ""
    raise ValueError(op)


def group_matches(row, group):
    return all(any(matches(row, c) for c in ors) for ors in group)


def generate(n):
    """n incidents updated one a minute from 2026-01-01, each with audit rows
    (New -> In Progress, assignment, every 10th On Hold for an hour),
    task_sla rows, and one outage per 100 incidents."""
    import datetime
    base = datetime.datetime(2026, 1, 1)
    fmt = "%Y-%m-%d %H:%M:%S"
    data = {"incident": [], "sys_audit": [], "task_sla": [], "cmdb_ci_outage": []}
    kinds = ["outage", "planned", "degradation"]
    for i in range(n):
        sid = "%032x" % (0x5e0000 + i)
        opened = base + datetime.timedelta(minutes=i)
        t = lambda m: (opened + datetime.timedelta(minutes=m)).strftime(fmt)
        data["incident"].append({
            "sys_id": sid, "number": "INC%07d" % i,
            "short_description": "Generated incident %d" % i,
            "state": {"value": "7", "display_value": "Closed"},
            "priority": {"value": str(1 + i % 5), "display_value": str(1 + i % 5)},
            "opened_at": t(0), "resolved_at": t(240), "closed_at": t(300),
            "sys_updated_on": t(300),
            "business_service": {"value": "s%d" % (i % 3),
                                 "display_value": "Service %d" % (i % 3)},
            "assignment_group": {"value": "g1", "display_value": "Service Desk"},
            "sys_class_name": "incident"})
        audit = [("assigned_to", "", "u1", 5), ("state", "1", "2", 20)]
        if i % 10 == 0:
            audit += [("state", "2", "3", 60), ("state", "3", "2", 120)]
        audit.append(("state", "2", "6", 240))
        for k, (f, o, nv, m) in enumerate(audit):
            data["sys_audit"].append({
                "sys_id": "a%031x" % (i * 16 + k), "documentkey": sid,
                "tablename": "incident", "fieldname": f, "oldvalue": o,
                "newvalue": nv, "sys_created_on": t(m)})
        for k, target in enumerate(["response", "resolution"]):
            data["task_sla"].append({
                "sys_id": "b%031x" % (i * 2 + k), "task": sid,
                "sla.target": target, "has_breached": "false",
                "start_time": t(0), "stage": "completed"})
        if i % 100 == 0:
            data["cmdb_ci_outage"].append({
                "sys_id": "%032x" % (0x7a0000 + i),
                "cmdb_ci": {"value": "ci1", "display_value": "ERP"},
                "type": kinds[(i // 100) % 3], "begin": t(0), "end": t(30),
                "sys_updated_on": t(30)})
    return data


class App:
    def __init__(self, data_path, options):
        self.base_url = None
        self.options = options
        self.lock = threading.Lock()
        if "generate" in options:
            self.tables = generate(int(options["generate"]))
        else:
            with open(data_path, encoding="utf-8") as f:
                self.tables = json.load(f)
        self.requests = {}   # table -> requests served
        self.version = {}    # table -> bumps when rows change
        self.sorted = {}     # (table, order) -> (version, rows)
        self.index = {}      # (table, field) -> (version, {value: [rows]})
        self.pending = {t: [r for r in rows if "_update_after" in r]
                        for t, rows in self.tables.items()}
        self.repeat_table = options.get("repeat_first_page")
        self.first_answer = None

    def check_auth(self, headers):
        user = self.options.get("user")
        if user is None:
            return True
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (user, self.options.get("password", ""))).encode()).decode()
        return headers.get("Authorization") == want

    def apply_updates(self, table):
        for row in self.pending.get(table, []):
            upd = row.get("_update_after")
            if upd and self.requests[table] > int(upd["requests"]) and not upd.get("_done"):
                row.update(upd.get("fields", {}))
                self.tables.setdefault("sys_audit", []).extend(upd.get("audit", []))
                upd["_done"] = True
                self.version[table] = self.version.get(table, 0) + 1
                self.version["sys_audit"] = self.version.get("sys_audit", 0) + 1

    def ordered(self, table, order):
        key = (table, tuple(order))
        ver = self.version.get(table, 0)
        hit = self.sorted.get(key)
        if hit and hit[0] == ver:
            return hit[1]
        rows = list(self.tables.get(table, []))
        for field, desc in reversed(order):
            rows.sort(key=lambda r: as_text(row_value(r, field)), reverse=desc)
        keys = [as_text(row_value(r, order[0][0])) for r in rows] if order else None
        self.sorted[key] = (ver, rows, keys)
        return rows

    def scan_range(self, table, group, order, n):
        """[lo, hi) of the ordered rows a group can match: conditions on the
        first (ascending, non-numeric) order field bound the scan."""
        lo, hi = 0, n
        if not order or order[0][1]:
            return lo, hi
        keys = self.sorted.get((table, tuple(order)))[2]
        for ors in group:
            if len(ors) != 1 or ors[0][0] != order[0][0]:
                continue
            field, op, arg = ors[0]
            try:
                float(arg)
                continue
            except ValueError:
                pass
            if op in (">=", "="):
                lo = max(lo, bisect.bisect_left(keys, arg))
            if op == ">":
                lo = max(lo, bisect.bisect_right(keys, arg))
            if op in ("<=", "="):
                hi = min(hi, bisect.bisect_right(keys, arg))
            if op == "<":
                hi = min(hi, bisect.bisect_left(keys, arg))
        return lo, hi

    def candidates(self, table, group, order):
        """(rows that may match, already ordered?): an IN condition uses an
        index, anything else scans the table in the requested order."""
        for ors in group:
            if len(ors) == 1 and ors[0][1] == "IN":
                field = ors[0][0]
                ver = self.version.get(table, 0)
                hit = self.index.get((table, field))
                if not hit or hit[0] != ver:
                    idx = {}
                    for r in self.tables.get(table, []):
                        idx.setdefault(as_text(row_value(r, field)), []).append(r)
                    hit = (ver, idx)
                    self.index[(table, field)] = hit
                out = []
                for v in ors[0][2].split(","):
                    out.extend(hit[1].get(v, []))
                return out, False
        return self.ordered(table, order), True

    def render(self, row, fields, display):
        out = {}
        for f in fields or [k for k in row if not k.startswith("_")]:
            if f not in row:
                continue
            v, d = value_of(row[f]), display_of(row[f])
            if display == "all":
                out[f] = {"display_value": as_text(d), "value": as_text(v)}
            elif display == "true":
                out[f] = as_text(d)
            else:
                out[f] = as_text(v)
        return out

    def handle(self, method, path, query, headers, body):
        if not self.check_auth(headers):
            return 401, {"Content-Type": "application/json"}, SN_ERROR_401
        prefix = "/api/now/table/"
        if method != "GET" or not path.startswith(prefix):
            return 404, {}, {"error": {"message": "Invalid URL"}, "status": "failure"}
        table = path[len(prefix):]
        q = lambda k, d=None: query.get(k, [d])[0]
        with self.lock:
            if table not in self.tables:
                return 400, {}, {"error": {"message": "Invalid table " + table},
                                 "status": "failure"}
            self.requests[table] = self.requests.get(table, 0) + 1
            if table == self.repeat_table and self.first_answer is not None:
                return 200, {"Content-Type": "application/json"}, self.first_answer
            self.apply_updates(table)
            try:
                groups, order = parse_query(q("sysparm_query", "") or "")
            except ValueError as e:
                return 400, {}, {"error": {"message": str(e)}, "status": "failure"}
            if not groups:
                groups = [[]]
            offset = int(q("sysparm_offset", "0") or 0)
            limit = int(q("sysparm_limit", "10000") or 10000)
            seen, rows, in_order = set(), [], len(groups) == 1
            for g in groups:
                cands, ordered = self.candidates(table, g, order)
                in_order = in_order and ordered
                found = 0
                # In order, a group's first offset+limit rows are all the
                # union can need from it.
                lo, hi = (self.scan_range(table, g, order, len(cands)) if ordered
                          else (0, len(cands)))
                for i in range(lo, hi):
                    r = cands[i]
                    if group_matches(r, g):
                        found += 1
                        if id(r) not in seen:
                            seen.add(id(r))
                            rows.append(r)
                        if ordered and found >= offset + limit:
                            break
            if not in_order:
                for field, desc in reversed(order):
                    rows.sort(key=lambda r: as_text(row_value(r, field)), reverse=desc)
            page = rows[offset:offset + limit]
            page = [r for r in page if not r.get("_acl_hidden")]
            fields = [f for f in (q("sysparm_fields", "") or "").split(",") if f]
            display = (q("sysparm_display_value", "false") or "false").lower()
            result = [self.render(r, fields, display) for r in page]
            if table == self.repeat_table:
                self.first_answer = {"result": result}
        return 200, {"Content-Type": "application/json"}, {"result": result}
