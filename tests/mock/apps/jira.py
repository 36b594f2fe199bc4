"""jira.py -- a mock Jira (Cloud and Data Center) for the jira plugin's tests.

Serves issues from a JSON file (or generated ones) through the search APIs,
the issue changelog API and the status catalogue. Emulates only what the
plugin relies on: JQL filtering by `updated >= <epoch ms>` (everything else
in the JQL is ignored) with results ordered by updated then key, Cloud
nextPageToken/isLast paging, Data Center startAt/maxResults/total paging, a
page-size cap, a capped embedded changelog, and an issue updated mid-sync.
It must not grow into a Jira: no JQL beyond that, no writes.

Data (--data FILE): {"issues": [issue, ...], "statuses": [status, ...]} or a
bare list of issues. Each issue is in Jira's search shape with its *whole*
changelog in changelog.histories (oldest first); the app caps what a search
embeds. Options (--option k=v):
  api=cloud|datacenter|both   which search endpoint exists (default both)
  page_cap=N                  at most N issues per search page (default 50)
  changelog_embed=N           histories embedded in a search (default 100)
  changelog_cap=N             histories per changelog page (default 100)
  touch=KEY@N                 before answering search request N (1-based),
                              KEY gets updated = latest updated + 1 minute
  generate=N                  serve N generated issues instead of --data
  require_auth=0|1            401 without an Authorization header (default 1)
Misbehaviours (a server that never finishes), for the paging guards:
  cloud_paging=stuck|repeat   Cloud: ignore nextPageToken and serve the first
                              page again, with the same token (stuck) or a
                              new token every time (repeat)
  ignore_startat=1            Data Center: ignore startAt (always serve from
                              0) but echo the startAt asked
  dc_total=JSON               Data Center: report this total instead (e.g.
                              1e12, -1, 1e300, "abc")
  changelog_total=JSON        the embedded changelog claims this total
"""

import base64
import bisect
import copy
import json
import re
import threading
from datetime import datetime, timedelta, timezone

JIRA_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"
UPDATED_GE = re.compile(r"updated\s*>=\s*(-?\d+)")
CHANGELOG_PATH = re.compile(r"^/rest/api/(2|3)/issue/([^/]+)/changelog$")
ISSUE_PATH = re.compile(r"^/rest/api/(2|3)/issue/([^/]+)$")
DEFAULT_STATUSES = [
    {"id": "1", "name": "Open", "statusCategory": {"key": "new"}},
    {"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}},
    {"id": "10001", "name": "Waiting for customer", "statusCategory": {"key": "indeterminate"}},
    {"id": "5", "name": "Resolved", "statusCategory": {"key": "done"}},
    {"id": "4", "name": "Reopened", "statusCategory": {"key": "indeterminate"}},
    {"id": "6", "name": "Closed", "statusCategory": {"key": "done"}},
]


def parse_jira_time(text):
    return datetime.strptime(text, JIRA_TIME)


def format_jira_time(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000%z")


def epoch_ms(text):
    return int(parse_jira_time(text).timestamp() * 1000)


def key_order(key):
    project, _, number = key.rpartition("-")
    return (project, int(number) if number.isdigit() else 0, key)


def generated_issues(n):
    """n issues, one a minute, each with a realistic short history."""
    base = datetime(2026, 10, 1, 8, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    prios = ["Highest", "High", "Medium", "Low"]
    out = []
    for i in range(n):
        created = base + timedelta(minutes=i)
        t1 = created + timedelta(minutes=20)
        t2 = created + timedelta(hours=3)
        done = i % 3 != 0
        histories = [{"id": str(100000 + 2 * i), "created": format_jira_time(t1),
                      "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                                 "from": "1", "fromString": "Open",
                                 "to": "3", "toString": "In Progress"}]}]
        if done:
            histories.append({"id": str(100001 + 2 * i), "created": format_jira_time(t2),
                              "items": [{"field": "status", "fieldtype": "jira",
                                         "fieldId": "status", "from": "3",
                                         "fromString": "In Progress",
                                         "to": "5", "toString": "Resolved"}]})
        status = DEFAULT_STATUSES[3 if done else 1]
        out.append({
            "id": str(30000 + i), "key": "GEN-%d" % (i + 1),
            "fields": {
                "summary": "Generated issue %d with a summary of ordinary length" % (i + 1),
                "issuetype": {"name": "Incident" if i % 2 else "Service Request"},
                "priority": {"name": prios[i % len(prios)]},
                "status": status,
                "created": format_jira_time(created),
                "updated": format_jira_time(t2 if done else t1),
                "resolutiondate": format_jira_time(t2) if done else None,
                "components": [{"name": "ERP" if i % 4 == 0 else "Mail"}],
                "labels": ["svc-ERP"],
            },
            "changelog": {"histories": histories},
        })
    return out


class App:
    def __init__(self, data_path, options):
        self.base_url = None
        self.lock = threading.Lock()
        self.api = options.get("api", "both")
        self.page_cap = int(options.get("page_cap", "50"))
        self.changelog_embed = int(options.get("changelog_embed", "100"))
        self.changelog_cap = int(options.get("changelog_cap", "100"))
        self.require_auth = options.get("require_auth", "1") == "1"
        self.touch_key, self.touch_at = None, 0
        if options.get("touch"):
            self.touch_key, at = options["touch"].split("@")
            self.touch_at = int(at)
        self.searches = 0
        self.cloud_paging = options.get("cloud_paging")
        self.ignore_startat = options.get("ignore_startat") == "1"
        self.dc_total = json.loads(options["dc_total"]) if "dc_total" in options else None
        self.changelog_total = (json.loads(options["changelog_total"])
                                if "changelog_total" in options else None)
        statuses = DEFAULT_STATUSES
        if options.get("generate"):
            issues = generated_issues(int(options["generate"]))
        else:
            with open(data_path, encoding="utf-8") as f:
                data = json.load(f)
            if isinstance(data, dict):
                issues = data["issues"]
                statuses = data.get("statuses", DEFAULT_STATUSES)
            else:
                issues = data
        self.statuses = statuses
        self.issues = {i["key"]: i for i in issues}
        # Pre-rendered embedded form, so that big generated sets stay fast.
        self.rendered = {}
        self.sorted_rows = None

    # ---- helpers ---------------------------------------------------------

    def ordered(self, since_ms):
        """Issues with updated >= since_ms, by (updated, key); cached until
        an issue changes, so that big generated sets stay fast."""
        if self.sorted_rows is None:
            rows = [(epoch_ms(i["fields"]["updated"]), key_order(i["key"]), i)
                    for i in self.issues.values()]
            rows.sort(key=lambda r: (r[0], r[1]))
            self.sorted_rows = rows
        if since_ms is None:
            return self.sorted_rows
        lo = bisect.bisect_left([r[0] for r in self.sorted_rows], since_ms)
        return self.sorted_rows[lo:]

    def embedded(self, issue):
        key = (issue["key"], issue["fields"]["updated"])
        if key not in self.rendered:
            out = copy.copy(issue)
            histories = issue.get("changelog", {}).get("histories", [])
            kept = histories[: self.changelog_embed]
            total = len(histories) if self.changelog_total is None else self.changelog_total
            out["changelog"] = {"startAt": 0, "maxResults": len(kept),
                                "total": total, "histories": kept}
            self.rendered[key] = out
        return self.rendered[key]

    def touch(self):
        issue = self.issues[self.touch_key]
        latest = max(parse_jira_time(i["fields"]["updated"]) for i in self.issues.values())
        issue["fields"]["updated"] = format_jira_time(latest + timedelta(minutes=1))
        self.sorted_rows = None

    @staticmethod
    def page_size(query, default):
        return max(0, int(query.get("maxResults", [str(default)])[0]))

    @staticmethod
    def since(query):
        m = UPDATED_GE.search(query.get("jql", [""])[0])
        return int(m.group(1)) if m else None

    # ---- endpoints -------------------------------------------------------

    def search_cloud(self, query):
        size = min(self.page_size(query, 50), self.page_cap)
        rows = self.ordered(self.since(query))
        token = query.get("nextPageToken", [None])[0]
        if self.cloud_paging:
            token = None
        if token:
            cursor = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
            after = (cursor[0], tuple(cursor[1]))
            rows = [r for r in rows if (r[0], r[1]) > after]
        page = rows[:size]
        body = {"issues": [self.embedded(r[2]) for r in page],
                "isLast": len(rows) <= size}
        if not body["isLast"]:
            last = page[-1]
            cursor = json.dumps([last[0], list(last[1])]).encode()
            body["nextPageToken"] = base64.urlsafe_b64encode(cursor).decode()
            if self.cloud_paging == "repeat":
                body["nextPageToken"] += "-%d" % self.searches
        return 200, {}, body

    def search_datacenter(self, query):
        size = min(self.page_size(query, 50), self.page_cap)
        start = int(query.get("startAt", ["0"])[0])
        rows = self.ordered(self.since(query))
        served = 0 if self.ignore_startat else start
        page = rows[served:served + size]
        total = len(rows) if self.dc_total is None else self.dc_total
        return 200, {}, {"startAt": start, "maxResults": size, "total": total,
                         "issues": [self.embedded(r[2]) for r in page]}

    def changelog(self, key, query):
        issue = self.issues.get(key) or next(
            (i for i in self.issues.values() if i.get("id") == key), None)
        if issue is None:
            return 404, {}, {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}
        histories = issue.get("changelog", {}).get("histories", [])
        start = int(query.get("startAt", ["0"])[0])
        size = min(self.page_size(query, 100), self.changelog_cap)
        values = histories[start:start + size]
        return 200, {}, {"startAt": start, "maxResults": size, "total": len(histories),
                         "isLast": start + len(values) >= len(histories), "values": values}

    def issue(self, id_or_key):
        """GET /rest/api/N/issue/{id}?expand=changelog: one issue as the
        search embeds it; 404 when the site has no such issue."""
        issue = self.issues.get(id_or_key) or next(
            (i for i in self.issues.values() if i.get("id") == id_or_key), None)
        if issue is None:
            return 404, {}, {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}
        return 200, {}, self.embedded(issue)

    def handle(self, method, path, query, headers, body):
        if self.require_auth and not headers.get("Authorization"):
            return 401, {}, {"errorMessages": ["You are not authenticated."]}
        if method != "GET":
            return 405, {}, {"errorMessages": ["method not allowed"]}
        with self.lock:
            if path in ("/rest/api/3/search/jql", "/rest/api/2/search"):
                self.searches += 1
                if self.touch_key and self.searches == self.touch_at:
                    self.touch()
            if path == "/rest/api/3/search/jql" and self.api in ("cloud", "both"):
                return self.search_cloud(query)
            if path == "/rest/api/2/search" and self.api in ("datacenter", "both"):
                return self.search_datacenter(query)
            if path in ("/rest/api/2/status", "/rest/api/3/status"):
                return 200, {}, self.statuses
            m = CHANGELOG_PATH.match(path)
            if m:
                return self.changelog(m.group(2), query)
            m = ISSUE_PATH.match(path)
            if m:
                return self.issue(m.group(2))
        return 404, {}, {"errorMessages": ["no such endpoint in the mock: " + path]}
