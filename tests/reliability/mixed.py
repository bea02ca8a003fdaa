"""Mixed OAuth traffic through one FastCGI connection to oauth.fcgi
--listen: client_credentials tokens, introspection, revocation, the
authorization code flow, refresh rotation, metadata, and errors (a bad
secret, an unknown path, a wrong method, an unsupported grant type, a
replayed refresh token).  Every answer is checked against what it must
be; the first few mismatches are printed.

    python3 mixed.py ADDR COUNT [--pid PID --rss-at N,N...] [--seconds S]

ADDR is a unix socket path.  Bounded: COUNT requests, and at most S
seconds (default 3600).  With --pid, the responder's memory
(/proc/PID/status: VmRSS, RssAnon, RssFile, RssShmem) is printed after
each listed number of requests.  Last line: one JSON object of the counts.
"""

import json
import sys
import time
import urllib.parse

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import fcgi_client as fc  # noqa: E402

SHOWN_MAX = 10


def memory(pid):
    vals = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
                vals[k] = int(v.split()[0])
    return vals


class Mix:
    def __init__(self, conn):
        self.conn = conn
        self.n = 0
        self.bad = 0
        self.statuses = {}
        self.auth_svc = fc.basic(fc.SVC, fc.SVC_SECRET)
        self.auth_rs = fc.basic(fc.RS, fc.RS_SECRET)

    def call(self, method, path, body=b"", query="", auth=None, user=None,
             want=200):
        extra = {}
        if auth:
            extra["HTTP_AUTHORIZATION"] = auth
        if user:
            extra["REMOTE_USER"] = user
            extra["AUTH_TYPE"] = "Basic"
        status, headers, out = self.conn.request(
            fc.cgi_params(method, path, body, query, extra), body)
        self.n += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status != want:
            self.fail("%s %s: %d, wanted %d: %s" %
                      (method, path, status, want, out[:200]))
        doc = None
        if out and headers.get("content-type", "").startswith(
                "application/json"):
            doc = json.loads(out)
        return status, headers, doc

    def fail(self, what):
        self.bad += 1
        if self.bad <= SHOWN_MAX:
            print("# " + what, flush=True)

    def introspect(self, token, active):
        _, _, doc = self.call("POST", "/introspect", fc.form(token=token),
                              auth=self.auth_rs)
        if doc is None or doc.get("active") is not active:
            self.fail("introspect: %s, wanted active %s" % (doc, active))

    def cycle(self, i):
        """Twelve requests; which error comes depends on i."""
        _, _, doc = self.call("POST", "/token",
                              fc.form(grant_type="client_credentials"),
                              auth=self.auth_svc)
        tok = doc["access_token"] if doc else ""
        self.introspect(tok, True)
        self.call("POST", "/revoke", fc.form(token=tok), auth=self.auth_svc)
        self.introspect(tok, False)

        verifier, challenge = fc.pkce()
        q = urllib.parse.urlencode({
            "response_type": "code", "client_id": fc.PUB,
            "redirect_uri": fc.REDIRECT, "scope": "read",
            "code_challenge": challenge, "code_challenge_method": "S256",
            "state": "s"})
        _, headers, _ = self.call("GET", "/authorize", query=q, user=fc.USER,
                                  want=302)
        loc = urllib.parse.urlparse(headers.get("location", ""))
        code = urllib.parse.parse_qs(loc.query).get("code", [""])[0]
        _, _, doc = self.call("POST", "/token", fc.form(
            grant_type="authorization_code", code=code, client_id=fc.PUB,
            redirect_uri=fc.REDIRECT, code_verifier=verifier))
        access = doc.get("access_token", "") if doc else ""
        refresh = doc.get("refresh_token", "") if doc else ""
        _, _, doc = self.call("POST", "/token", fc.form(
            grant_type="refresh_token", refresh_token=refresh,
            client_id=fc.PUB))
        new_access = doc.get("access_token", "") if doc else ""
        # The access token of a rotated grant stays active.
        self.introspect(access, True)
        self.call("GET", "/.well-known/oauth-authorization-server")
        self.introspect("not-a-token-%d" % i, False)
        kind = i % 5
        if kind == 0:
            self.call("POST", "/token",
                      fc.form(grant_type="client_credentials"),
                      auth=fc.basic(fc.SVC, "wrong-secret-0123456789abcdefgh"),
                      want=401)
        elif kind == 1:
            self.call("GET", "/no-such-endpoint", want=404)
        elif kind == 2:
            self.call("GET", "/token", want=405)
        elif kind == 3:
            self.call("POST", "/token", fc.form(grant_type="password"),
                      auth=self.auth_svc, want=400)
        else:
            # Reuse of the rotated refresh token ends the whole grant.
            self.call("POST", "/token", fc.form(
                grant_type="refresh_token", refresh_token=refresh,
                client_id=fc.PUB), want=400)
            self.introspect(new_access, False)
            return
        self.introspect(new_access, True)


def main():
    args = sys.argv[1:]
    addr, count = args[0], int(args[1])
    pid, marks, seconds = None, [], 3600.0
    i = 2
    while i < len(args):
        if args[i] == "--pid":
            pid = int(args[i + 1])
        elif args[i] == "--rss-at":
            marks = sorted(int(x) for x in args[i + 1].split(","))
        elif args[i] == "--seconds":
            seconds = float(args[i + 1])
        i += 2
    conn = fc.Connection(addr)
    mix = Mix(conn)
    start = time.time()
    rss = {}
    c = 0
    while mix.n < count and time.time() - start < seconds:
        mix.cycle(c)
        c += 1
        while pid and marks and mix.n >= marks[0]:
            rss[marks[0]] = memory(pid)
            print("# after %d requests: %s" % (mix.n, rss[marks[0]]),
                  flush=True)
            marks.pop(0)
    conn.close()
    print(json.dumps({"requests": mix.n, "bad": mix.bad,
                      "statuses": mix.statuses,
                      "seconds": round(time.time() - start, 1),
                      "rss": rss}))
    sys.exit(0 if mix.bad == 0 and mix.n >= count else 1)


if __name__ == "__main__":
    main()
