#!/usr/bin/python3
"""Dynamic client registration (RFC 7591) and its management (RFC 7592)
through oauth.fcgi as CGI.  Off by default (404, and no
registration_endpoint in the metadata); with OAUTH_REGISTRATION=token a
client with the initial access token registers confidential and public
clients, gets its credentials once, and reads, replaces and deletes its
registration with the registration access token, which nothing else
does; with OAUTH_REGISTRATION=open anyone registers a public client with
loopback or https redirect URIs, and nothing else.  Metadata is checked
strictly (RFC 7591 §3.2.2's invalid_redirect_uri and
invalid_client_metadata), and a registered client then gets tokens.
Every process runs at a pinned clock (OAUTH_TEST_NOW).

    FCGI=build/oauth.fcgi OAUTHCTL=build/oauthctl python3 \\
        tests/cli/test_register_cgi.py

Last line: N passed, M failed.
"""
import hashlib
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cgi_lib  # noqa: E402
from cgi_lib import ISSUER, basic, cgi, check, ctl, form  # noqa: E402

INITIAL = "initial-access-token-0123456789abcdefghij"
TOKEN_ENV = {"OAUTH_REGISTRATION": "token",
             "OAUTH_REGISTRATION_TOKEN_SHA256":
             hashlib.sha256(INITIAL.encode()).hexdigest(),
             "OAUTH_REGISTRATION_SCOPES": "openid read write"}
OPEN_ENV = {"OAUTH_REGISTRATION": "open",
            "OAUTH_REGISTRATION_SCOPES": "openid read"}
JSON = "application/json"


def register(db, meta, env, token=INITIAL, path="/register",
             method="POST", ctype=JSON):
    headers = {"Authorization": "Bearer " + token} if token else {}
    body = meta if isinstance(meta, str) else json.dumps(meta)
    return cgi(db, method, path, body if method in ("POST", "PUT") else "",
               headers=headers, env=dict(env, CONTENT_TYPE=ctype)
               if method in ("POST", "PUT") else env)


def main():
    tmp = tempfile.mkdtemp(prefix="test_register_cgi.")
    db = os.path.join(tmp, "db")
    try:
        check("oauthctl init", ctl(db, "init").returncode == 0)
        conf = {"redirect_uris": ["https://app.example/cb"],
                "grant_types": ["authorization_code", "refresh_token",
                                "client_credentials"],
                "scope": "read", "client_name": "ignored here"}
        st, _, doc = register(db, conf, {})
        check("registration off by default: 404", st == 404, f"{st} {doc}")
        st, _, doc = cgi(db, "GET",
                         "/.well-known/oauth-authorization-server")
        check("... and no registration_endpoint in the metadata",
              "registration_endpoint" not in doc, f"{doc}")
        st, _, doc = cgi(db, "GET",
                         "/.well-known/oauth-authorization-server",
                         env=TOKEN_ENV)
        check("OAUTH_REGISTRATION=token: registration_endpoint",
              doc.get("registration_endpoint") == ISSUER + "/register",
              f"{doc}")
        st, hdrs, doc = register(db, conf, TOKEN_ENV, token=None)
        check("without the initial access token: 401 invalid_token",
              st == 401 and doc.get("error") == "invalid_token", f"{st} {doc}")
        st, _, doc = register(db, conf, TOKEN_ENV, token="wrong-token")
        check("with another token: 401", st == 401, f"{st} {doc}")
        st, hdrs, reg = register(db, conf, TOKEN_ENV)
        check("a confidential client registers: 201 with its credentials",
              st == 201 and reg.get("client_id", "").startswith("dyn-") and
              len(reg.get("client_secret", "")) == 43 and
              reg.get("client_secret_expires_at") == 0 and
              len(reg.get("registration_access_token", "")) == 43 and
              hdrs.get("cache-control") == "no-store", f"{st} {reg}")
        check("... and its metadata, as registered",
              reg.get("redirect_uris") == conf["redirect_uris"] and
              reg.get("grant_types") == conf["grant_types"] and
              reg.get("response_types") == ["code"] and
              reg.get("scope") == "read" and
              reg.get("token_endpoint_auth_method") == "client_secret_basic"
              and reg.get("registration_client_uri") ==
              ISSUER + "/register/" + reg.get("client_id", ""), f"{reg}")
        cid, secret = reg.get("client_id", ""), reg.get("client_secret", "")
        st, _, doc = cgi(db, "POST", "/token", form(
            grant_type="client_credentials"), headers={
                "Authorization": basic(cid, secret)})
        check("the registered client gets a token with its secret",
              st == 200 and doc.get("scope") == "read", f"{st} {doc}")
        r = ctl(db, "client", "show", cid, "--json")
        check("oauthctl client show knows it",
              r.returncode == 0 and json.loads(r.stdout)["client_id"] == cid,
              r.stdout + r.stderr)

        uri = "/register/" + cid
        access = reg.get("registration_access_token", "")
        st, _, doc = register(db, None, TOKEN_ENV, token=access, path=uri,
                              method="GET")
        check("RFC 7592 GET with the registration access token: 200",
              st == 200 and doc.get("client_id") == cid and
              "client_secret" not in doc, f"{st} {doc}")
        for desc, token in (("the initial access token", INITIAL),
                            ("another token", "x" * 43), ("none", None)):
            st, _, doc = register(db, None, TOKEN_ENV, token=token,
                                  path=uri, method="GET")
            check(f"RFC 7592 GET with {desc}: 401", st == 401, f"{st} {doc}")
        st, _, doc = register(db, None, TOKEN_ENV, token=access,
                              path="/register/dyn-nobody", method="GET")
        check("RFC 7592 GET of a client that is not there: 401", st == 401)
        st, _, doc = register(db, dict(conf, scope="read write",
                                       redirect_uris=["https://b.example/"]),
                              TOKEN_ENV, token=access, path=uri, method="PUT")
        check("RFC 7592 PUT replaces the metadata",
              st == 200 and doc.get("scope") == "read write" and
              doc.get("redirect_uris") == ["https://b.example/"], f"{st} {doc}")
        st, _, doc = cgi(db, "POST", "/token", form(
            grant_type="client_credentials", scope="write"), headers={
                "Authorization": basic(cid, secret)})
        check("... and the secret still works, with the new scope",
              st == 200, f"{st} {doc}")
        st, _, doc = register(db, dict(conf, token_endpoint_auth_method="none",
                                       grant_types=["authorization_code"]),
                              TOKEN_ENV, token=access, path=uri, method="PUT")
        check("RFC 7592 PUT may not make it public: invalid_client_metadata",
              st == 400 and doc.get("error") == "invalid_client_metadata",
              f"{st} {doc}")
        st, _, doc = register(db, None, TOKEN_ENV, token=access, path=uri,
                              method="DELETE")
        check("RFC 7592 DELETE: 204", st == 204, f"{st} {doc}")
        st, _, doc = cgi(db, "POST", "/token", form(
            grant_type="client_credentials"), headers={
                "Authorization": basic(cid, secret)})
        check("... the client is gone: invalid_client", st == 401)
        st, _, doc = register(db, None, TOKEN_ENV, token=access, path=uri,
                              method="GET")
        check("... and so is its registration: 401", st == 401)

        for desc, meta, error in (
                ("a relative redirect URI", {"redirect_uris": ["/cb"]},
                 "invalid_redirect_uri"),
                ("a redirect URI with a fragment",
                 {"redirect_uris": ["https://a.example/#x"]},
                 "invalid_redirect_uri"),
                ("no redirect URI for authorization_code", {},
                 "invalid_redirect_uri"),
                ("redirect_uris as a string",
                 {"redirect_uris": "https://a.example/"},
                 "invalid_redirect_uri"),
                ("an unknown grant type",
                 {"redirect_uris": ["https://a.example/"],
                  "grant_types": ["password"]}, "invalid_client_metadata"),
                ("a response type other than code",
                 {"redirect_uris": ["https://a.example/"],
                  "response_types": ["token"]}, "invalid_client_metadata"),
                ("a scope registration may not give",
                 {"redirect_uris": ["https://a.example/"], "scope": "admin"},
                 "invalid_client_metadata"),
                ("an auth method not supported",
                 {"redirect_uris": ["https://a.example/"],
                  "token_endpoint_auth_method": "client_secret_jwt"},
                 "invalid_client_metadata"),
                ("a public client of client_credentials",
                 {"token_endpoint_auth_method": "none",
                  "grant_types": ["client_credentials"]},
                 "invalid_client_metadata"),
                ("metadata that is not an object", "[1, 2]",
                 "invalid_client_metadata"),
                ("metadata with a member twice",
                 '{"scope":"read","scope":"admin"}',
                 "invalid_client_metadata")):
            st, _, doc = register(db, meta, TOKEN_ENV)
            check(f"{desc}: 400 {error}", st == 400 and
                  doc.get("error") == error, f"{st} {doc}")
        st, _, doc = register(db, conf, TOKEN_ENV, ctype="text/plain")
        check("metadata not as JSON: 400 invalid_request", st == 400 and
              doc.get("error") == "invalid_request", f"{st} {doc}")

        pub = {"redirect_uris": ["http://127.0.0.1:8123/cb",
                                 "https://app.example/cb"],
               "token_endpoint_auth_method": "none", "scope": "openid"}
        st, _, doc = register(db, pub, OPEN_ENV, token=None)
        check("OAUTH_REGISTRATION=open: a public client with loopback and "
              "https redirect URIs registers, no secret",
              st == 201 and "client_secret" not in doc and
              doc.get("token_endpoint_auth_method") == "none", f"{st} {doc}")
        for desc, meta in (
                ("a confidential client", dict(
                    pub, token_endpoint_auth_method="client_secret_basic")),
                ("an http redirect URI off loopback", dict(
                    pub, redirect_uris=["http://app.example/cb"])),
                ("a custom scheme", dict(
                    pub, redirect_uris=["com.example.app:/cb"])),
                ("a scope beyond OAUTH_REGISTRATION_SCOPES", dict(
                    pub, scope="write"))):
            st, _, doc = register(db, meta, OPEN_ENV, token=None)
            check(f"open registration of {desc}: refused",
                  st == 400, f"{st} {doc}")
        r = ctl(db, "check")
        check("oauthctl check passes", r.returncode == 0, r.stdout + r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cgi_lib.finish()


if __name__ == "__main__":
    sys.exit(main())
