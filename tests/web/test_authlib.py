#!/usr/bin/env python3
"""fcgi-oauth driven by a real OAuth client library: Authlib's
OAuth2Session (Debian's python3-authlib, on python3-requests) against
lighttpd serving etc/lighttpd/oauth-fastcgi.conf as shipped.

Run as a program, it hands over to tests/web/lib_server.sh, which makes
the database, starts lighttpd on a free loopback port and runs this file
again with WS_BASE_URL set (the client half); the shell half counts the
client's "ok -" lines with its own, runs lib_server.sh's end-to-end cases
through the same lighttpd and stops it.  Without authlib
or requests (in this interpreter or Debian's /usr/bin/python3) it prints a
visible "skipped: ..." line.  Last line: "N passed, M failed".
"""

import os
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TIMEOUT = 10    # seconds for one HTTP exchange


def has_authlib(python):
    """Whether PYTHON can import Authlib's requests client."""
    try:
        return subprocess.run(
            [python, "-c",
             "import authlib.integrations.requests_client, requests"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def server_half():
    """Start the server through lib_server.sh and run the client half."""
    python = None
    for p in (sys.executable, "/usr/bin/python3"):
        if p and has_authlib(p):
            python = p
            break
    if python is None:
        print("skipped: authlib or requests missing "
              "(apt-get install python3-authlib python3-requests)")
        print("0 passed, 0 failed")
        return 0
    script = r'''
WS_NAME=test_authlib
. tests/web/lib_server.sh
ws_need_common
ws_need_cmd lighttpd lighttpd
ws_need_build
ws_init
ws_check "database with the test clients" ws_setup_db
if ws_serve lighttpd etc/lighttpd/oauth-fastcgi.conf; then
	WS_BASE_URL=http://127.0.0.1:$WS_PORT WS_USER_NAME=$WS_USER_NAME \
	    WS_USER_PASS=$WS_USER_PASS WS_REDIRECT=$WS_REDIRECT \
	    WS_SVC_SECRET=$WS_SVC_SECRET WS_RS_SECRET=$WS_RS_SECRET \
	    WS_APP_SECRET=$WS_APP_SECRET \
	    timeout 300 "$1" "$2" >"$ws_tmp/client.out" 2>&1
	rc=$?
	cat "$ws_tmp/client.out"
	n=$(grep -c '^ok - ' "$ws_tmp/client.out")
	m=$(grep -c '^not ok - ' "$ws_tmp/client.out")
	ws_passed=$((ws_passed + n))
	ws_failed=$((ws_failed + m))
	ws_check "the Authlib client finished (exit $rc)" [ "$rc" -eq 0 ]
	# The same server through the cases every configuration must pass.
	ws_oauth_cases "http://127.0.0.1:$WS_PORT"
fi
ws_stop_server "$ws_pid" lighttpd
ws_finish
'''
    return subprocess.run(["sh", "-c", script, "sh", python,
                           os.path.abspath(__file__)], cwd=ROOT).returncode


class Client:
    """The client half: every check prints one "ok -"/"not ok -" line."""

    def __init__(self):
        self.base = os.environ["WS_BASE_URL"]
        self.failed = 0
        self.env = os.environ

    def check(self, desc, cond, detail=""):
        print(("ok - " if cond else "not ok - ") + desc)
        if not cond:
            self.failed += 1
            if detail:
                print("#   " + str(detail)[:400])
        sys.stdout.flush()
        return cond

    def run(self, desc, fn):
        """Run FN(); an exception is a failed check, not a crash."""
        try:
            return fn()
        except Exception as e:  # any library error is a failure to report
            self.check(desc, False, "%s: %s" % (type(e).__name__, e))
            traceback.print_exc(limit=3, file=sys.stdout)
            return None


def client_half():
    import requests
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session

    c = Client()
    env = os.environ
    user = (env["WS_USER_NAME"], env["WS_USER_PASS"])
    redirect = env["WS_REDIRECT"]

    # Discovery: the endpoints come from the RFC 8414 metadata.
    def discover():
        r = requests.get(c.base +
                         "/.well-known/oauth-authorization-server/oauth",
                         timeout=TIMEOUT)
        r.raise_for_status()
        return r.json()
    meta = c.run("metadata at the RFC 8414 path", discover)
    if not c.check("metadata at the RFC 8414 path names the issuer",
                   meta is not None and
                   meta.get("issuer") == c.base + "/oauth", meta):
        return 1
    token_url = meta["token_endpoint"]
    introspect_url = meta["introspection_endpoint"]
    revoke_url = meta["revocation_endpoint"]
    authorize_url = meta["authorization_endpoint"]

    def session(cid, secret, method, **kw):
        return OAuth2Session(cid, secret, token_endpoint_auth_method=method,
                             revocation_endpoint_auth_method=method,
                             default_timeout=TIMEOUT, **kw)

    rs = session("rs", env["WS_RS_SECRET"], "client_secret_basic")

    def introspect(token):
        r = rs.introspect_token(introspect_url, token=token)
        r.raise_for_status()
        return r.json()

    # client_credentials, both ways of sending the secret.
    tokens = {}
    for method in ("client_secret_basic", "client_secret_post"):
        s = session("svc", env["WS_SVC_SECRET"], method)
        t = c.run("fetch_token (%s)" % method,
                  lambda: s.fetch_token(token_url,
                                        grant_type="client_credentials",
                                        scope="read"))
        if c.check("fetch_token client_credentials with %s" % method,
                   t is not None and t.get("token_type") == "Bearer" and
                   t.get("scope") == "read" and "refresh_token" not in t, t):
            tokens[method] = (s, t)

    if "client_secret_basic" in tokens:
        s, t = tokens["client_secret_basic"]
        i = c.run("introspect_token", lambda: introspect(t["access_token"]))
        c.check("introspect_token by the resource server: active",
                i is not None and i.get("active") is True and
                i.get("client_id") == "svc" and i.get("scope") == "read", i)

        def revoke():
            r = s.revoke_token(revoke_url, token=t["access_token"],
                               token_type_hint="access_token")
            return r.status_code
        c.check("revoke_token by the owner: 200",
                c.run("revoke_token", revoke) == 200)
        i = c.run("introspect_token", lambda: introspect(t["access_token"]))
        c.check("introspect_token after revoke_token: inactive",
                i == {"active": False}, i)
    if "client_secret_post" in tokens:
        s, t = tokens["client_secret_post"]
        i = c.run("introspect_token", lambda: introspect(t["access_token"]))
        c.check("the client_secret_post token stays active",
                i is not None and i.get("active") is True, i)

    # Authorization code + PKCE, a confidential and a public client.
    for cid, secret, method in (("app", env["WS_APP_SECRET"],
                                 "client_secret_basic"),
                                ("pub", None, "none")):
        s = session(cid, secret, method, scope="read write",
                    redirect_uri=redirect, code_challenge_method="S256")
        verifier = generate_token(48)
        uri, state = s.create_authorization_url(authorize_url,
                                                code_verifier=verifier)

        def follow():
            return requests.get(uri, auth=user, allow_redirects=False,
                                timeout=TIMEOUT)
        r = c.run("GET /authorize", follow)
        loc = r.headers.get("Location", "") if r is not None else ""
        if not c.check("%s: /authorize as %s redirects back with a code"
                       % (cid, user[0]),
                       r is not None and r.status_code == 302 and
                       loc.startswith(redirect + "?") and "code=" in loc,
                       r is not None and (r.status_code, loc, r.text)):
            continue
        t = c.run("fetch_token", lambda: s.fetch_token(
            token_url, authorization_response=loc, code_verifier=verifier))
        c.check("%s: fetch_token redeems the code with the PKCE verifier"
                % cid, t is not None and "access_token" in t and
                "refresh_token" in t and t.get("scope") == "read write", t)
        if t is None:
            continue
        i = c.run("introspect_token", lambda: introspect(t["access_token"]))
        c.check("%s: the token is the user's" % cid,
                i is not None and i.get("active") is True and
                i.get("sub") == user[0] and i.get("client_id") == cid, i)
        old_refresh = t["refresh_token"]
        n = c.run("refresh_token", lambda: s.refresh_token(token_url))
        c.check("%s: refresh_token rotates the refresh token" % cid,
                n is not None and "access_token" in n and
                n.get("refresh_token") not in (None, old_refresh), n)
        if n is None:
            continue

        def revoke_refresh():
            return s.revoke_token(revoke_url, token=n["refresh_token"],
                                  token_type_hint="refresh_token").status_code
        c.check("%s: revoke_token of the refresh token: 200" % cid,
                c.run("revoke_token", revoke_refresh) == 200)
        i = c.run("introspect_token", lambda: introspect(n["access_token"]))
        c.check("%s: ... which ends the access token of the grant" % cid,
                i == {"active": False}, i)
    return 1 if c.failed else 0


if __name__ == "__main__":
    if os.environ.get("WS_BASE_URL"):
        sys.exit(client_half())
    sys.exit(server_half())
