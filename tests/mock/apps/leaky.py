"""leaky.py -- mock app: a server (or proxy) that echoes credentials.

Every request gets a 500 whose JSON body quotes the request's Authorization
header, the credentials decoded from it, and their percent-encoded form, in
the places the Jira ("errorMessages") and ServiceNow ("error.message")
plugins print. For the secret-scrubbing tests; must not hold state.
"""

import base64
import urllib.parse


class App:
    def __init__(self, data_path, options):
        self.base_url = None

    def handle(self, method, path, query, headers, body):
        auth = headers.get("Authorization") or ""
        secret = auth.split(" ", 1)[1] if " " in auth else auth
        if auth.startswith("Basic "):
            try:
                secret = base64.b64decode(secret).decode("utf-8", "replace")
            except ValueError:
                pass
        quoted = urllib.parse.quote(secret, safe="")
        text = "proxy error for %s (header: %s, credentials %s, encoded %s)" % (
            path, auth, secret, quoted)
        return 500, {"Content-Type": "application/json"}, {
            "errorMessages": [text], "error": {"message": text, "detail": text},
            "status": "failure"}
