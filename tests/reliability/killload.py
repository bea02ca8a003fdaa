"""Load through lighttpd while responders are being killed, then the
audit of everything that was answered.

    python3 killload.py load BASE OUT WORKERS SECONDS REQUESTS STOPFILE
    python3 killload.py audit BASE OUT

load: WORKERS threads issue client_credentials tokens, run the
authorization code flow with two refresh rotations per grant, and revoke
some tokens, until STOPFILE exists, SECONDS have passed or REQUESTS
requests were made.  Every token answered with 200 is recorded with what
it must be afterwards: active, or inactive (revoked with a 200, or a
rotated refresh token).  A request that failed (a 502 or 503 from
lighttpd while a responder was killed, a reset connection) is counted;
what it would have decided is then unknown, so the tokens it concerns
are not judged: a refresh that may or may not have rotated, a revocation
that may or may not have happened.  Nothing is retried, since presenting
a refresh token twice is reuse and would rightly end its grant.  The
record goes to OUT as JSON.

audit: introspects every recorded token, as the resource server, and
prints the tokens whose state is not the one recorded.  Last line: one
JSON object of counts.  Exit 1 on any mismatch.
"""

import base64
import hashlib
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import fcgi_client as fc  # noqa: E402

TIMEOUT = 10            # seconds for one exchange
SHOWN_MAX = 10


class Load:
    def __init__(self, base, startedfile=None):
        u = urllib.parse.urlsplit(base)
        self.startedfile = startedfile  # made at the first answer
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.lock = threading.Lock()
        self.tokens = []        # [token, kind, expected]
        self.requests = 0
        self.failures = {}      # what failed: count
        self.statuses = {}
        self.revocations = 0
        self.rotations = 0
        self.auth_svc = fc.basic(fc.SVC, fc.SVC_SECRET)

    def http(self, method, path, body=None, headers=None):
        """(status, headers, body) or (None, None, None) on a failure of
        the connection, counted either way."""
        h = {"Host": "127.0.0.1"}
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        with self.lock:
            self.requests += 1
        conn = http.client.HTTPConnection(self.host, self.port,
                                          timeout=TIMEOUT)
        try:
            conn.request(method, self.path + path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            status, rh = r.status, {k.lower(): v for k, v in
                                    r.getheaders()}
        except (OSError, http.client.HTTPException) as e:
            with self.lock:
                k = "connection: " + type(e).__name__
                self.failures[k] = self.failures.get(k, 0) + 1
            return None, None, None
        finally:
            conn.close()
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if self.startedfile is not None:
                open(self.startedfile, "w").close()
                self.startedfile = None
        return status, rh, data

    def record(self, token, kind, expected):
        with self.lock:
            self.tokens.append([token, kind, expected])

    def token_json(self, status, data):
        if status != 200:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None

    def client_credentials(self, i):
        status, _, data = self.http("POST", "/token", fc.form(
            grant_type="client_credentials"),
            {"Authorization": self.auth_svc})
        doc = self.token_json(status, data)
        if doc is None:
            return
        tok = doc["access_token"]
        if i % 4 != 0:
            self.record(tok, "client_credentials", "active")
            return
        status, _, _ = self.http("POST", "/revoke", fc.form(token=tok),
                                 {"Authorization": self.auth_svc})
        if status == 200:
            with self.lock:
                self.revocations += 1
            self.record(tok, "client_credentials revoked", "inactive")
        else:
            self.record(tok, "client_credentials revocation failed",
                        "unknown")

    def code_flow(self, i):
        verifier, challenge = fc.pkce()
        q = urllib.parse.urlencode({
            "response_type": "code", "client_id": fc.PUB,
            "redirect_uri": fc.REDIRECT, "scope": "read",
            "code_challenge": challenge, "code_challenge_method": "S256"})
        status, h, _ = self.http("GET", "/authorize?" + q, headers={
            "Authorization": fc.basic(fc.USER, fc.USER)})
        if status != 302:
            return
        loc = urllib.parse.urlparse(h.get("location", ""))
        code = urllib.parse.parse_qs(loc.query).get("code", [""])[0]
        status, _, data = self.http("POST", "/token", fc.form(
            grant_type="authorization_code", code=code, client_id=fc.PUB,
            redirect_uri=fc.REDIRECT, code_verifier=verifier))
        doc = self.token_json(status, data)
        if doc is None:
            return
        grant = [[doc["access_token"], "grant access", "active"]]
        refresh = doc["refresh_token"]
        settled = True
        for _ in range(2):
            status, _, data = self.http("POST", "/token", fc.form(
                grant_type="refresh_token", refresh_token=refresh,
                client_id=fc.PUB))
            doc = self.token_json(status, data)
            if doc is None:
                # Rotated or not, nobody knows: not judged, not retried.
                grant.append([refresh, "refresh, rotation failed",
                              "unknown"])
                settled = False
                break
            with self.lock:
                self.rotations += 1
            grant.append([refresh, "rotated refresh", "inactive"])
            grant.append([doc["access_token"], "grant access", "active"])
            refresh = doc["refresh_token"]
        if settled:
            grant.append([refresh, "current refresh", "active"])
        if settled and i % 5 == 0:
            # Revoking the refresh token ends the whole grant (RFC 7009
            # §2.1): every access token of it too.
            status, _, _ = self.http("POST", "/revoke", fc.form(
                token=refresh, client_id=fc.PUB))
            if status == 200:
                with self.lock:
                    self.revocations += 1
                for t in grant:
                    t[2] = "inactive"
                    t[1] += ", grant revoked"
            else:
                for t in grant:
                    if t[2] == "active":
                        t[2] = "unknown"
        for t in grant:
            self.record(*t)

    def worker(self, n, seconds, budget, stopfile, start):
        i = n
        while (time.time() - start < seconds and self.requests < budget
               and not os.path.exists(stopfile)):
            self.client_credentials(i)
            self.code_flow(i)
            i += 1


def load(base, out, workers, seconds, budget, stopfile):
    # OUT.started tells the caller the load is answered: kills start then.
    ld = Load(base, out + ".started")
    start = time.time()
    threads = [threading.Thread(target=ld.worker,
                                args=(n, seconds, budget, stopfile, start))
               for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    doc = {"requests": ld.requests, "statuses": ld.statuses,
           "failures": ld.failures, "revocations": ld.revocations,
           "rotations": ld.rotations, "tokens": ld.tokens,
           "seconds": round(time.time() - start, 1)}
    with open(out, "w") as f:
        json.dump(doc, f)
    counts = {k: v for k, v in doc.items() if k != "tokens"}
    counts["tokens"] = len(ld.tokens)
    print(json.dumps(counts))


def jti(token):
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def audit(base, out):
    with open(out) as f:
        doc = json.load(f)
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT)
    auth = fc.basic(fc.RS, fc.RS_SECRET)
    counts = {"active_ok": 0, "inactive_ok": 0, "unknown": 0, "wrong": 0,
              "errors": 0}
    for token, kind, expected in doc["tokens"]:
        if expected == "unknown":
            counts["unknown"] += 1
            continue
        try:
            conn.request("POST", u.path + "/introspect",
                         body=fc.form(token=token), headers={
                             "Authorization": auth,
                             "Content-Type":
                             "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            body = r.read()
            active = r.status == 200 and json.loads(body).get("active")
        except (OSError, http.client.HTTPException, ValueError) as e:
            counts["errors"] += 1
            print("# introspect failed: %s" % e)
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port,
                                              timeout=TIMEOUT)
            continue
        if bool(active) == (expected == "active"):
            counts["active_ok" if active else "inactive_ok"] += 1
        else:
            counts["wrong"] += 1
            if counts["wrong"] <= SHOWN_MAX:
                # The jti, never the token.
                print("# %s %s is %s, recorded %s" % (
                    kind, jti(token), "active" if active else "inactive",
                    expected))
    conn.close()
    print(json.dumps(counts))
    sys.exit(0 if counts["wrong"] == 0 and counts["errors"] == 0 else 1)


def main():
    a = sys.argv[1:]
    if a[0] == "load":
        load(a[1], a[2], int(a[3]), float(a[4]), int(a[5]), a[6])
    elif a[0] == "audit":
        audit(a[1], a[2])
    else:
        sys.exit("usage: killload.py load|audit ...")


if __name__ == "__main__":
    main()
