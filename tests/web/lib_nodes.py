#!/usr/bin/python3
"""The clients of tests/web/test_two_nodes.sh and test_pg_faults.sh: HTTP
requests to the oauth.fcgi nodes those suites start, from threads, and the
database counts that back them up (psql on the suite's PostgreSQL).

    lib_nodes.py cross   BASE_A BASE_B ROUNDS
    lib_nodes.py coderace BASE_A BASE_B ROUNDS PER_NODE
    lib_nodes.py refreshrace BASE_A BASE_B ROUNDS PER_NODE
    lib_nodes.py revokerace BASE_A BASE_B ROUNDS
    lib_nodes.py mixed BASE_A BASE_B ROUNDS
    lib_nodes.py load BASE CLIENTS MIN_REQUESTS STATE_DIR
    lib_nodes.py verify BASE STATE_DIR

Each command prints one "ok - ..." or "not ok - ..." line per check (the
suite counts them), "# ..." lines with figures, and exits 0.  The clients'
secrets and the /authorize user are those of tests/web/lib_server.sh,
given in the environment (NODES_SVC_SECRET, ...); the database is
NODES_DB, psql is $PG_BINDIR/psql.  Every request has a timeout
(NODES_HTTP_TIMEOUT, 10 s), every loop a bound in count and in time.
"""

import base64
import hashlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

HTTP_TIMEOUT = float(os.environ.get("NODES_HTTP_TIMEOUT", "10"))
SVC = ("svc", os.environ.get("NODES_SVC_SECRET", ""))
RS = ("rs", os.environ.get("NODES_RS_SECRET", ""))
APP = ("app", os.environ.get("NODES_APP_SECRET", ""))
USER = (os.environ.get("NODES_USER_NAME", ""),
        os.environ.get("NODES_USER_PASS", ""))
REDIRECT = os.environ.get("NODES_REDIRECT", "")

passed = 0
failed = 0


def check(desc, cond, why=""):
    """One result line."""
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + desc)
    else:
        failed += 1
        print("not ok - " + desc)
        if why:
            for line in str(why).splitlines()[:20]:
                print("#   " + line)
    sys.stdout.flush()


def note(text):
    print("# " + text)
    sys.stdout.flush()


def basic(pair):
    raw = "%s:%s" % (urllib.parse.quote(pair[0], safe=""),
                     urllib.parse.quote(pair[1], safe=""))
    return "Basic " + base64.b64encode(raw.encode()).decode()


class Reply:
    """A response: status (0 when there was none), headers, body, the JSON
    object of the body or None, and what went wrong on the wire."""

    def __init__(self, status=0, headers=None, body=b"", error=None):
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.error = error
        try:
            doc = json.loads(body.decode()) if body else None
        except ValueError:
            doc = None
        self.json = doc if isinstance(doc, dict) else None

    def get(self, key):
        return self.json.get(key) if self.json is not None else None

    def __str__(self):
        if self.error:
            return "no response: %s" % self.error
        return "%d %s" % (self.status, self.body[:300].decode("utf-8",
                                                              "replace"))


class Conn:
    """One keep-alive HTTP connection to BASE (http://127.0.0.1:PORT/oauth),
    opened again after the server closes it."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.c = None

    def open(self):
        if self.c is None:
            self.c = http.client.HTTPConnection(self.host, self.port,
                                                timeout=HTTP_TIMEOUT)
            self.c.connect()

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None

    def request(self, method, path, form=None, auth=None, query=None):
        """Sends one request; a Reply whatever happens."""
        headers = {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if auth is not None:
            headers["Authorization"] = basic(auth)
        url = self.path + path
        if query is not None:
            url += "?" + urllib.parse.urlencode(query)
        try:
            self.open()
            self.c.request(method, url, body=body, headers=headers)
            r = self.c.getresponse()
            data = r.read()
            reply = Reply(r.status, {k.lower(): v for k, v in
                                     r.getheaders()}, data)
            if r.will_close:
                self.close()
            return reply
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return Reply(error="%s: %s" % (type(e).__name__, e))

    def post(self, path, form, auth=None):
        return self.request("POST", path, form, auth)


def token_hash(tok):
    return hashlib.sha256(tok.encode()).hexdigest()


def psql(sql):
    """Runs sql on NODES_DB; its rows as lists of strings."""
    cmd = [os.path.join(os.environ["PG_BINDIR"], "psql"), "-X", "-q", "-A",
           "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d",
           os.environ["NODES_DB"], "-f", "-"]
    p = subprocess.run(cmd, input=sql.encode(), capture_output=True,
                       timeout=60)
    if p.returncode != 0:
        raise RuntimeError("psql: %s" % p.stderr.decode(errors="replace"))
    return [line.split("|") for line in p.stdout.decode().splitlines()
            if line]


def hash_table(name, hashes):
    """SQL making a temporary table NAME (h bytea) of the given hex hashes."""
    sql = "CREATE TEMP TABLE %s (h bytea PRIMARY KEY);\n" % name
    rows = sorted(set(hashes))
    for i in range(0, len(rows), 500):
        sql += "INSERT INTO %s VALUES %s;\n" % (name, ",".join(
            "('\\x%s')" % h for h in rows[i:i + 500]))
    return sql


def introspect_active(conn, tok):
    """True, False, or the Reply when introspection did not answer 200."""
    r = conn.post("/introspect", {"token": tok}, RS)
    if r.status != 200 or r.json is None:
        return r
    return r.get("active") is True


# ---- cross: issued or revoked through one node, seen so through the other

def cmd_cross(base_a, base_b, rounds):
    nodes = {"A": Conn(base_a), "B": Conn(base_b)}
    bad_issue, bad_seen, bad_revoke, bad_gone = [], [], [], []
    for i in range(rounds):
        src, dst = ("A", "B") if i % 2 == 0 else ("B", "A")
        r = nodes[src].post("/token", {"grant_type": "client_credentials"},
                            SVC)
        if r.status != 200 or not r.get("access_token"):
            bad_issue.append("round %d via %s: %s" % (i, src, r))
            continue
        tok = r.get("access_token")
        a = introspect_active(nodes[dst], tok)
        if a is not True:
            bad_seen.append("round %d %s->%s: %s" % (i, src, dst, a))
        # Every fifth round the token is revoked through one node and
        # must be inactive through the other at once.
        if i % 5 != 0 and i % 5 != 1:
            continue
        rv, chk = (src, dst) if i % 5 == 0 else (dst, src)
        r = nodes[rv].post("/revoke", {"token": tok}, SVC)
        if r.status != 200:
            bad_revoke.append("round %d revoke via %s: %s" % (i, rv, r))
            continue
        r = nodes[chk].post("/introspect", {"token": tok}, RS)
        if r.status != 200 or r.body.strip() != b'{"active":false}':
            bad_gone.append("round %d revoked via %s, through %s: %s"
                            % (i, rv, chk, r))
    revokes = sum(1 for i in range(rounds) if i % 5 in (0, 1))
    check("%d tokens issued, alternately through A and B" % rounds,
          not bad_issue, "\n".join(bad_issue))
    check("each introspects active through the other node at once "
          "(%d of %d)" % (rounds - len(bad_seen) - len(bad_issue), rounds),
          not bad_seen, "\n".join(bad_seen))
    check("%d revocations answered 200 (through A and through B)" % revokes,
          not bad_revoke, "\n".join(bad_revoke))
    check("each revoked token is {\"active\":false} through the other "
          "node at once (A->B and B->A)", not bad_gone, "\n".join(bad_gone))


# ---- races: one code, one refresh token, spent through both nodes at once

def authorize(conn):
    """A code for app through conn, or (None, why)."""
    r = conn.request("GET", "/authorize", auth=USER, query={
        "response_type": "code", "client_id": "app",
        "redirect_uri": REDIRECT, "scope": "read", "state": "s"})
    loc = r.headers.get("location", "")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
    if r.status != 302 or "code" not in q:
        return None, str(r)
    return q["code"][0], None


def redeem(conn, code):
    return conn.post("/token", {"grant_type": "authorization_code",
                                "code": code, "redirect_uri": REDIRECT}, APP)


def race(bases, per_node, form):
    """per_node requests to each base at once (POST /token form as app);
    [(node, Reply)].  Each thread connects first, then all wait on one
    barrier and send together."""
    slots = [(name, base) for name, base in bases for _ in range(per_node)]
    barrier = threading.Barrier(len(slots))
    out = [None] * len(slots)

    def one(i, name, base):
        c = Conn(base)
        try:
            c.open()
        except OSError as e:
            out[i] = (name, Reply(error=str(e)))
            try:
                barrier.wait(timeout=HTTP_TIMEOUT)
            except threading.BrokenBarrierError:
                pass
            return
        try:
            barrier.wait(timeout=HTTP_TIMEOUT)
        except threading.BrokenBarrierError:
            pass
        out[i] = (name, c.post("/token", form, APP))
        c.close()

    threads = [threading.Thread(target=one, args=(i, n, b))
               for i, (n, b) in enumerate(slots)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HTTP_TIMEOUT * 3)
    return [o if o is not None else ("?", Reply(error="thread hung"))
            for o in out]


def judge(results):
    """(winner node or None, description of what was wrong or None)."""
    wins = [(n, r) for n, r in results if r.status == 200]
    others = [(n, r) for n, r in results if r.status != 200]
    bad = [(n, r) for n, r in others
           if r.status != 400 or r.get("error") != "invalid_grant"]
    if len(wins) != 1 or bad:
        return None, "; ".join("%s: %s" % (n, r) for n, r in results)
    return wins[0][0], None


def cmd_coderace(base_a, base_b, rounds, per_node):
    nodes = {"A": Conn(base_a), "B": Conn(base_b)}
    bases = [("A", base_a), ("B", base_b)]
    wins = {"A": 0, "B": 0}
    bad_code, bad_race, bad_revoked = [], [], []
    codes, winners = [], []
    for i in range(rounds):
        src = "A" if i % 2 == 0 else "B"
        code, why = authorize(nodes[src])
        if code is None:
            bad_code.append("round %d via %s: %s" % (i, src, why))
            continue
        codes.append(code)
        results = race(bases, per_node, {
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": REDIRECT})
        winner, why = judge(results)
        if winner is None:
            bad_race.append("round %d: %s" % (i, why))
            continue
        wins[winner] += 1
        tok = [r for n, r in results if r.status == 200][0]
        winners.append(tok.get("access_token"))
        # RFC 6749 §4.1.2: the second use revokes what the code issued.
        other = nodes["B" if winner == "A" else "A"]
        for t in (tok.get("access_token"), tok.get("refresh_token")):
            a = introspect_active(other, t)
            if a is not False:
                bad_revoked.append("round %d: a token of the winner (%s) "
                                   "after the replays: %s" % (i, winner, a))
    n = per_node * 2
    note("code race: %d rounds of %d requests (%d to each node); "
         "winners: A %d, B %d" % (rounds, n, per_node, wins["A"], wins["B"]))
    check("%d codes from /authorize, alternately through A and B" % rounds,
          not bad_code, "\n".join(bad_code))
    check("each round: exactly one 200, %d x 400 invalid_grant "
          "(%d rounds)" % (n - 1, len(codes)), not bad_race,
          "\n".join(bad_race[:10]))
    check("the winner's tokens are inactive after the replays (§4.1.2)",
          not bad_revoked, "\n".join(bad_revoked[:10]))
    if not codes:
        return
    try:
        rows = psql(hash_table("c", map(token_hash, codes)) +
                    "SELECT count(*), count(*) FILTER (WHERE t.state = 2), "
                    "count(DISTINCT t.grant_id) FROM oauth_tokens t "
                    "JOIN c ON c.h = t.hash WHERE t.kind = 3;\n"
                    "SELECT count(*) FILTER (WHERE t.kind = 1), "
                    "count(*) FILTER (WHERE t.kind = 2) FROM oauth_tokens t "
                    "WHERE t.grant_id IN (SELECT t2.grant_id FROM "
                    "oauth_tokens t2 JOIN c ON c.h = t2.hash);\n")
        (ncode, nused, ngrant), (nacc, nref) = rows
    except (RuntimeError, ValueError, subprocess.SubprocessError) as e:
        check("the database counts of the code race", False, e)
        return
    k = len(codes)
    check("database: %s of %d codes stored, %s used, %s grants"
          % (ncode, k, nused, ngrant),
          int(ncode) == k and int(nused) == k and int(ngrant) == k)
    check("database: one access and one refresh token per code "
          "(%s and %s for %d codes)" % (nacc, nref, k),
          int(nacc) == k and int(nref) == k)


def cmd_refreshrace(base_a, base_b, rounds, per_node):
    nodes = {"A": Conn(base_a), "B": Conn(base_b)}
    bases = [("A", base_a), ("B", base_b)]
    wins = {"A": 0, "B": 0}
    bad_setup, bad_race, bad_revoked = [], [], []
    refreshes = []
    for i in range(rounds):
        src = "A" if i % 2 == 0 else "B"
        code, why = authorize(nodes[src])
        r = redeem(nodes[src], code) if code is not None else None
        if r is None or r.status != 200 or not r.get("refresh_token"):
            bad_setup.append("round %d via %s: %s" % (i, src, why or r))
            continue
        first_at, rt = r.get("access_token"), r.get("refresh_token")
        refreshes.append(rt)
        results = race(bases, per_node, {"grant_type": "refresh_token",
                                         "refresh_token": rt})
        winner, why = judge(results)
        if winner is None:
            bad_race.append("round %d: %s" % (i, why))
            continue
        wins[winner] += 1
        tok = [r for n, r in results if r.status == 200][0]
        # RFC 9700 §4.14.2: a replayed refresh token ends the grant, the
        # winner's new tokens with it.
        for node in ("A", "B"):
            for what, t in (("first access token", first_at),
                            ("winner's access token",
                             tok.get("access_token")),
                            ("winner's refresh token",
                             tok.get("refresh_token"))):
                a = introspect_active(nodes[node], t)
                if a is not False:
                    bad_revoked.append("round %d: the %s through %s: %s"
                                       % (i, what, node, a))
        r = nodes[winner].post("/token", {
            "grant_type": "refresh_token",
            "refresh_token": tok.get("refresh_token")}, APP)
        if r.status != 400 or r.get("error") != "invalid_grant":
            bad_revoked.append("round %d: the winner's refresh token "
                               "still refreshes: %s" % (i, r))
    n = per_node * 2
    note("refresh race: %d rounds of %d requests (%d to each node); "
         "winners: A %d, B %d" % (rounds, n, per_node, wins["A"], wins["B"]))
    check("%d grants with a refresh token, alternately through A and B"
          % rounds, not bad_setup, "\n".join(bad_setup))
    check("each round: exactly one 200, %d x 400 invalid_grant "
          "(%d rounds)" % (n - 1, len(refreshes)), not bad_race,
          "\n".join(bad_race[:10]))
    check("after each round the grant's tokens are inactive through both "
          "nodes and the new refresh token is refused (the replays revoke "
          "the grant)", not bad_revoked, "\n".join(bad_revoked[:10]))
    if not refreshes:
        return
    try:
        rows = psql(hash_table("r", map(token_hash, refreshes)) +
                    "CREATE TEMP TABLE g AS SELECT DISTINCT t.grant_id AS id "
                    "FROM oauth_tokens t JOIN r ON r.h = t.hash;\n"
                    "SELECT count(*), count(*) FILTER (WHERE t.state = 2) "
                    "FROM oauth_tokens t JOIN r ON r.h = t.hash "
                    "WHERE t.kind = 2;\n"
                    "SELECT count(*), count(*) FILTER (WHERE revoked) "
                    "FROM oauth_grants WHERE id IN (SELECT id FROM g);\n"
                    "SELECT count(*) FILTER (WHERE kind = 1), "
                    "count(*) FILTER (WHERE kind = 2), "
                    "count(*) FILTER (WHERE kind = 2 AND state = 2) "
                    "FROM oauth_tokens WHERE grant_id IN (SELECT id FROM g);"
                    "\n")
        (nrt, nused), (ngrant, nrevoked), (nacc, nref, nrefused) = rows
    except (RuntimeError, ValueError, subprocess.SubprocessError) as e:
        check("the database counts of the refresh race", False, e)
        return
    k = len(refreshes)
    check("database: the %d raced refresh tokens stored (%s), all used (%s)"
          % (k, nrt, nused), int(nrt) == k and int(nused) == k)
    check("database: %s grants, %s of them revoked" % (ngrant, nrevoked),
          int(ngrant) == k and int(nrevoked) == k)
    check("database: two access and two refresh tokens per grant, one "
          "rotation each (%s, %s, %s used for %d grants)"
          % (nacc, nref, nrefused, k),
          int(nacc) == 2 * k and int(nref) == 2 * k and int(nrefused) == k)


def cmd_revokerace(base_a, base_b, rounds):
    """Per round, a refresh of a grant's refresh token through one node
    and its revocation through the other, at once.  Either may go first,
    but the outcome must be one of the two orders, and either way the
    grant ends, since a logout must not lose to a refresh: revocation
    first, then the refresh is invalid_grant; refresh first, then it
    answered 200, the revocation found the rotated token and ended its
    grant as a replay would (RFC 9700 §4.14.2), so the new tokens are
    inactive too.  In the database the raced token is then revoked, or
    used, under a revoked grant.  (Two transactions that both saw the
    token active would leave it revoked, and the refresh answered 200,
    under a grant never revoked.)"""
    nodes = {"A": Conn(base_a), "B": Conn(base_b)}
    bases = {"A": base_a, "B": base_b}
    orders = {"revocation first": 0, "refresh first": 0}
    bad_setup, bad = [], []
    seen = []
    for i in range(rounds):
        src = "A" if i % 2 == 0 else "B"
        code, why = authorize(nodes[src])
        r = redeem(nodes[src], code) if code is not None else None
        if r is None or r.status != 200 or not r.get("refresh_token"):
            bad_setup.append("round %d via %s: %s" % (i, src, why or r))
            continue
        first_at, rt = r.get("access_token"), r.get("refresh_token")
        ref_node, rev_node = (src, "B" if src == "A" else "A")
        barrier = threading.Barrier(2)
        out = {}

        def one(what, node):
            c = Conn(bases[node])
            try:
                c.open()
            except OSError:
                pass
            try:
                barrier.wait(timeout=HTTP_TIMEOUT)
            except threading.BrokenBarrierError:
                pass
            if what == "refresh":
                out[what] = c.post("/token", {"grant_type": "refresh_token",
                                              "refresh_token": rt}, APP)
            else:
                out[what] = c.post("/revoke", {"token": rt}, APP)
            c.close()

        threads = [threading.Thread(target=one, args=("refresh", ref_node)),
                   threading.Thread(target=one, args=("revoke", rev_node))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(HTTP_TIMEOUT * 3)
        ref, rev = out.get("refresh", Reply(error="hung")), \
            out.get("revoke", Reply(error="hung"))
        if rev.status != 200:
            bad.append("round %d: the revocation: %s" % (i, rev))
            continue
        if ref.status == 400 and ref.get("error") == "invalid_grant":
            # Revocation first: nothing of the grant is active.
            a = introspect_active(nodes[ref_node], first_at)
            if a is not False:
                bad.append("round %d: refused refresh, yet the grant's "
                           "access token: %s" % (i, a))
            else:
                orders["revocation first"] += 1
                seen.append((rt, "revocation first"))
        elif ref.status == 200:
            # Refresh first: the revocation, of the rotated token, ended
            # the grant and with it the refresh's new tokens.
            a1 = introspect_active(nodes[rev_node], ref.get("access_token"))
            a2 = introspect_active(nodes[rev_node], ref.get("refresh_token"))
            if a1 is not False or a2 is not False:
                bad.append("round %d: refresh answered 200 before the "
                           "revocation, yet its tokens (access %s, refresh "
                           "%s) are still active" % (i, a1, a2))
            else:
                orders["refresh first"] += 1
                seen.append((rt, "refresh first"))
        else:
            bad.append("round %d: the refresh: %s" % (i, ref))
    note("refresh against revocation: %d rounds; %s"
         % (rounds, ", ".join("%s %d" % kv for kv in orders.items())))
    check("%d grants for the refresh-against-revocation race" % rounds,
          not bad_setup, "\n".join(bad_setup))
    check("each round's outcome is one of the two orders, and the grant "
          "ends either way (revocation first: refresh invalid_grant; "
          "refresh first: its new tokens inactive)", not bad,
          "\n".join(bad[:10]))
    if not seen:
        return
    # One table per order, then per order: token state, grant revoked.
    sql = (hash_table("rev", [token_hash(t) for t, o in seen
                              if o == "revocation first"] or ["00"]) +
           hash_table("ref", [token_hash(t) for t, o in seen
                              if o == "refresh first"] or ["00"]))
    for name in ("rev", "ref"):
        sql += ("SELECT '%s', t.state, g.revoked, count(*) FROM "
                "oauth_tokens t JOIN %s ON %s.h = t.hash LEFT JOIN "
                "oauth_grants g ON g.id = t.grant_id GROUP BY 2, 3;\n"
                % (name, name, name))
    try:
        rows = psql(sql)
    except (RuntimeError, subprocess.SubprocessError) as e:
        check("the database states of the refresh-against-revocation "
              "race", False, e)
        return
    expect = {("rev", "1", "t"): orders["revocation first"],
              ("ref", "2", "t"): orders["refresh first"]}
    got = {(r[0], r[1], r[2]): int(r[3]) for r in rows}
    check("database: each raced refresh token revoked (revocation first) "
          "or used (refresh first), under a revoked grant: "
          "%s" % ", ".join("%s state %s revoked %s: %d" % (k + (v,))
                           for k, v in sorted(got.items())),
          {k: v for k, v in expect.items() if v} == got)


def cmd_mixed(base_a, base_b, rounds):
    """Per round, everything that touches one grant at once, half through
    each node: two refreshes and a revocation of its refresh token, a
    revocation of its access token, two replays of its code and an
    introspection.  Every answer is a 200 or a 400 invalid_grant (no 5xx:
    no deadlock broken, no lock timeout); at most one refresh wins; the
    code replays revoke the grant, so that afterwards every token of it,
    old or new, is inactive through both nodes."""
    nodes = {"A": Conn(base_a), "B": Conn(base_b)}
    bases = {"A": base_a, "B": base_b}
    bad_setup, bad = [], []
    wins = 0
    for i in range(rounds):
        src = "A" if i % 2 == 0 else "B"
        code, why = authorize(nodes[src])
        r = redeem(nodes[src], code) if code is not None else None
        if r is None or r.status != 200 or not r.get("refresh_token"):
            bad_setup.append("round %d via %s: %s" % (i, src, why or r))
            continue
        at, rt = r.get("access_token"), r.get("refresh_token")
        jobs = [
            ("refresh", "A", "/token", {"grant_type": "refresh_token",
                                        "refresh_token": rt}, APP),
            ("refresh", "B", "/token", {"grant_type": "refresh_token",
                                        "refresh_token": rt}, APP),
            ("revoke refresh", "A", "/revoke", {"token": rt}, APP),
            ("revoke access", "B", "/revoke", {"token": at}, APP),
            ("code replay", "B", "/token", {
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": REDIRECT}, APP),
            ("code replay", "A", "/token", {
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": REDIRECT}, APP),
            ("introspect", "A", "/introspect", {"token": at}, RS),
            ("introspect", "B", "/introspect", {"token": rt}, RS),
        ]
        barrier = threading.Barrier(len(jobs))
        out = [None] * len(jobs)

        def one(k, node, path, form, auth):
            c = Conn(bases[node])
            try:
                c.open()
            except OSError:
                pass
            try:
                barrier.wait(timeout=HTTP_TIMEOUT)
            except threading.BrokenBarrierError:
                pass
            out[k] = c.post(path, form, auth)
            c.close()

        threads = [threading.Thread(target=one, args=(k,) + j[1:])
                   for k, j in enumerate(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(HTTP_TIMEOUT * 3)
        out = [o if o is not None else Reply(error="hung") for o in out]
        issued = []
        for (what, node, _, _, _), rep in zip(jobs, out):
            ok = rep.status == 200 or (rep.status == 400 and
                                       rep.get("error") == "invalid_grant")
            if what == "code replay" and rep.status != 400:
                ok = False
            if not ok:
                bad.append("round %d: %s through %s: %s"
                           % (i, what, node, rep))
            if what == "refresh" and rep.status == 200:
                issued += [rep.get("access_token"), rep.get("refresh_token")]
        if len(issued) > 2:
            bad.append("round %d: both refreshes answered 200" % i)
        wins += len(issued) // 2
        for t in [at, rt] + issued:
            for node in ("A", "B"):
                a = introspect_active(nodes[node], t)
                if a is not False:
                    bad.append("round %d: a token of the grant after the "
                               "code replays, through %s: %s" % (i, node, a))
    note("mixed: %d rounds of 8 requests on one grant; a refresh won in %d"
         % (rounds, wins))
    check("%d grants for the mixed rounds" % rounds, not bad_setup,
          "\n".join(bad_setup))
    check("mixed rounds: every answer 200 or 400 invalid_grant (no 5xx), "
          "at most one refresh won, and afterwards every token of the "
          "grant inactive through both nodes", not bad,
          "\n".join(bad[:10]))


# ---- load: tokens and introspection while PostgreSQL goes away and back

def phase_time(state, name):
    """When the suite wrote STATE/NAME (its content: seconds since the
    epoch), or None."""
    try:
        with open(os.path.join(state, name)) as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        return None


def cmd_load(base, clients, min_requests, state):
    """clients threads, each: POST /token (client_credentials as svc),
    then POST /introspect of what it got (as rs), again and again.  A
    thread stops once it has sent min_requests and, after the suite wrote
    STATE/restarted, seen 50 answers of 200; or after 3000 exchanges; or
    60 s after the restart, 120 s in all.  Writes STATE/warm once 200
    tokens were issued, and every exchange to STATE/log-N: time, endpoint,
    status, error code, token."""
    start = time.time()
    lock = threading.Lock()
    issued = [0]

    def client(n):
        conn = Conn(base)
        log = open(os.path.join(state, "log-%d" % n), "w")
        sent = after = 0
        rec = lambda ep, r, t0, tok="": log.write("%.6f %s %d %s %s %.4f\n"
                                                 % (time.time(), ep, r.status,
            (r.get("error") or "-") if r.status != 0 else
            (r.error or "?").replace(" ", "_"), tok or "-",
            time.time() - t0))
        while sent < 3000 and time.time() - start < 120:
            restarted = phase_time(state, "restarted")
            if restarted is not None:
                if sent >= min_requests and after >= 50:
                    break
                if time.time() - restarted > 60:
                    break
            t0 = time.time()
            r = conn.post("/token", {"grant_type": "client_credentials"},
                          SVC)
            sent += 1
            tok = r.get("access_token") if r.status == 200 else None
            rec("token", r, t0, tok)
            if r.status == 200:
                with lock:
                    issued[0] += 1
                    if issued[0] == 200:
                        with open(os.path.join(state, "warm"), "w") as f:
                            f.write("%.6f\n" % time.time())
                if restarted is not None:
                    after += 1
                t0 = time.time()
                r = conn.post("/introspect", {"token": tok}, RS)
                sent += 1
                rec("introspect", r, t0, "active" if r.get("active") is True
                    else "inactive")
                if r.status == 200 and restarted is not None:
                    after += 1
            if r.status != 200:
                # Not spending the exchanges while the database is
                # away: a 503 comes back at once.
                time.sleep(0.02)
        log.close()
        conn.close()

    threads = [threading.Thread(target=client, args=(n,))
               for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    note("load: %d clients, %.1f s" % (clients, time.time() - start))


def read_logs(state):
    rows = []
    for name in sorted(os.listdir(state)):
        if not name.startswith("log-"):
            continue
        with open(os.path.join(state, name)) as f:
            for line in f:
                t, ep, status, err, tok, dur = line.split()
                rows.append((float(t), ep, int(status), err, tok,
                             name[4:], float(dur)))
    return rows


def cmd_verify(base, state):
    """The checks of a load run: every answer 200 or 503
    temporarily_unavailable, recovery after the restart, every token
    issued with a 200 active now and stored."""
    rows = read_logs(state)
    stopping = phase_time(state, "stopping")
    stopped = phase_time(state, "stopped")
    starting = phase_time(state, "starting")
    restarted = phase_time(state, "restarted")
    if None in (stopping, restarted):
        check("the suite stopped and restarted PostgreSQL during the load",
              False)
        return
    bad = [r for r in rows if not (r[2] == 200 or
           (r[2] == 503 and r[3] == "temporarily_unavailable"))]
    n503 = [r for r in rows if r[2] == 503]
    before = [r for r in rows if r[0] < stopping]
    during = [r for r in rows if stopping <= r[0] < restarted]
    after = [r for r in rows if r[0] >= restarted]
    per = lambda rs: "%d requests, %d x 200, %d x 503" % (
        len(rs), sum(1 for r in rs if r[2] == 200),
        sum(1 for r in rs if r[2] == 503))
    note("before the stop: " + per(before))
    note("from the stop until the restart returned (%.1f s): %s"
         % (restarted - stopping, per(during)))
    note("after the restart: " + per(after))
    for code in (200, 503):
        d = sorted(r[6] for r in rows if r[2] == code)
        if d:
            note("%d answers of %d: median %.1f ms, slowest %.1f ms"
                 % (len(d), code, 1000 * d[len(d) // 2], 1000 * d[-1]))
    if stopped is not None and starting is not None:
        note("stopping took %.2f s, down %.2f s, starting %.2f s"
             % (stopped - stopping, starting - stopped,
                restarted - starting))
    check("%d answers, each 200 or 503 temporarily_unavailable "
          "(%d x 503; none 500, none reset, none past the timeout)"
          % (len(rows), len(n503)), not bad and rows,
          "\n".join("%s %s %d %s" % (r[5], r[1], r[2], r[3])
                    for r in bad[:20]))
    slow = [r for r in n503 if r[6] > 5]
    check("every 503 came at once, none slower than 5 s (%d slower)"
          % len(slow), not slow)
    check("the outage was seen: at least one 503 while PostgreSQL was "
          "down (%d)" % sum(1 for r in during if r[2] == 503),
          any(r[2] == 503 for r in during))
    # Recovery: per client, the first 200 after the restart returned.
    recov = []
    for n in sorted({r[5] for r in rows}):
        first = [r[0] for r in after if r[5] == n and r[2] == 200]
        recov.append((n, first[0] - restarted if first else None))
    text = ", ".join("client %s %s" % (n, "%.2f s" % d if d is not None
                                       else "never") for n, d in recov)
    note("first 200 after the restart returned: " + text)
    first503 = [r[0] for r in rows if r[0] >= stopping and r[2] == 503]
    last503 = [r[0] for r in rows if r[2] == 503]
    if first503:
        note("503s from %.2f s after the stop began until %.2f s after the "
             "restart returned" % (first503[0] - stopping,
                                   last503[-1] - restarted))
    check("every client got 200s again within 30 s of the restart (%s)"
          % text, recov and all(d is not None and d <= 30 for n, d in recov))
    after_503 = [r for r in after if r[2] == 503 and r[0] - restarted > 30]
    check("no 503 later than 30 s after the restart (%d)" % len(after_503),
          not after_503)
    # Every token answered with 200 is active now, and stored.
    toks = [r[4] for r in rows if r[1] == "token" and r[2] == 200]
    uniq = set(toks)
    check("%d tokens issued with 200, all distinct" % len(toks),
          toks and len(uniq) == len(toks))
    conn = Conn(base)
    inactive, failures = [], []
    deadline = time.time() + 90
    for tok in sorted(uniq):
        if time.time() > deadline:
            failures.append("verification took longer than 90 s")
            break
        a = introspect_active(conn, tok)
        if a is False:
            inactive.append(tok[:8])
        elif a is not True:
            failures.append(str(a))
    conn.close()
    check("every token issued with 200 introspects active afterwards "
          "(%d inactive, %d failed)" % (len(inactive), len(failures)),
          not inactive and not failures,
          "\n".join(failures[:5] + inactive[:5]))
    try:
        (cnt,), = psql(hash_table("t", map(token_hash, uniq)) +
                       "SELECT count(*) FROM oauth_tokens o JOIN t "
                       "ON t.h = o.hash WHERE o.kind = 1 AND o.state = 0;\n")
    except (RuntimeError, ValueError, subprocess.SubprocessError) as e:
        check("database count of the issued tokens", False, e)
        return
    check("database: %s of the %d tokens in oauth_tokens, active"
          % (cnt, len(uniq)), int(cnt) == len(uniq))
    # A 200 from /token whose introspection right after failed is fine
    # (the outage); one that answered inactive is not.
    badi = [r for r in rows if r[1] == "introspect" and r[2] == 200
            and r[4] != "active"]
    check("every introspection answered 200 during the load found its "
          "fresh token active (%d not)" % len(badi), not badi)


def main(argv):
    cmds = {
        "cross": (cmd_cross, (str, str, int)),
        "coderace": (cmd_coderace, (str, str, int, int)),
        "refreshrace": (cmd_refreshrace, (str, str, int, int)),
        "revokerace": (cmd_revokerace, (str, str, int)),
        "mixed": (cmd_mixed, (str, str, int)),
        "load": (cmd_load, (str, int, int, str)),
        "verify": (cmd_verify, (str, str)),
    }
    if len(argv) < 2 or argv[1] not in cmds or \
            len(argv) - 2 != len(cmds[argv[1]][1]):
        print(__doc__, file=sys.stderr)
        return 2
    fn, types = cmds[argv[1]]
    try:
        fn(*[t(a) for t, a in zip(types, argv[2:])])
    except Exception as e:  # a bug here is one failed check, not silence
        check("%s ran to the end" % argv[1], False,
              "%s: %s" % (type(e).__name__, e))
    if passed + failed:
        note("%s: %d passed, %d failed" % (argv[1], passed, failed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
