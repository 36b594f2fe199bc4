"""oddtext.py -- mock app: Jira Cloud and ServiceNow pages whose strings hold
what real servers sometimes send: raw bytes that are not UTF-8, a UTF-8
sequence cut short, lone UTF-16 surrogates (\ud800, \udc00), a valid
surrogate pair, an escaped NUL (\u0000). One issue / incident per odd
string (U-0.., INC0..), one page each, no auth check. For
test_payload_bytes.py; must not grow into a Jira or a ServiceNow.
"""
import json
def issue(n, summary):
    t = "2026-10-01T09:%02d:00.000+0200" % n
    return {"id": str(700 + n), "key": "U-%d" % n, "fields": {
        "summary": summary, "issuetype": {"name": "Incident"},
        "priority": {"name": "High"},
        "status": {"id": "1", "name": "Open", "statusCategory": {"key": "new"}},
        "created": t, "updated": t, "resolutiondate": None, "components": [{"name": "SVC-B"}],
        "labels": []}, "changelog": {"histories": []}}
def incident(n, text):
    t = "2026-10-01 09:%02d:00" % n
    return {"sys_id": "%032x" % (0xdd00 + n), "number": "INC%d" % n,
            "short_description": text,
            "state": {"value": "2", "display_value": "In Progress"},
            "priority": {"value": "1", "display_value": "1 - Critical"},
            "opened_at": t, "resolved_at": "", "closed_at": "", "sys_updated_on": t,
            "sys_class_name": "incident",
            "business_service": {"value": "s1", "display_value": "SVC-B"},
            "assignment_group": {"value": "g1", "display_value": "Desk"}}
BAD = [b"raw \xff\xfe bytes", b"cut \xc3", b"lone \\ud800 high", b"lone \\udc00 low", b"pair \\ud83d\\ude00 ok", b"nul \\u0000 inside"]
def render(objs):
    text = json.dumps(objs).encode()
    for i, b in enumerate(BAD):
        text = text.replace(("@BAD%d@" % i).encode(), b)
    return text
class App:
    def __init__(self, data_path, options):
        self.base_url = None
        self.sn_done = False
    def handle(self, method, path, query, headers, body):
        h = {"Content-Type": "application/json"}
        if path.endswith("/status"):
            return 200, h, []
        if path == "/rest/api/3/search/jql":
            return 200, h, render({"issues": [issue(i, "@BAD%d@" % i) for i in range(len(BAD))], "isLast": True})
        if path == "/api/now/table/incident":
            if "sys_id>" in query.get("sysparm_query", [""])[0]:
                return 200, h, {"result": []}
            return 200, h, render({"result": [incident(i, "@BAD%d@" % i) for i in range(len(BAD))]})
        if path.startswith("/api/now/table/"):
            return 200, h, {"result": []}
        return 404, h, {}
