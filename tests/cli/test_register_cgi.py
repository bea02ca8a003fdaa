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
Clients register keys (private_key_jwt with jwks: this CGI process loads
the signing module to check them) and certificates (tls_client_auth by
subject DN, self_signed_tls_client_auth by the x5c of their jwks), and
then authenticate with them at /token.  Every process runs at a pinned clock (OAUTH_TEST_NOW).

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
from test_mtls_cgi import make_certs, tls, x5t  # noqa: E402

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


def credentials(db, tmp):
    """Clients of keys and of certificates register and authenticate."""
    cc = {"grant_types": ["client_credentials"], "scope": "read"}
    if cgi_lib.MISSING is None:
        key = cgi_lib.Key("ES256")
        st, _, doc = register(db, dict(
            cc, token_endpoint_auth_method="private_key_jwt",
            jwks={"keys": [key.public_jwk()]}), TOKEN_ENV)
        check("a client of keys registers (private_key_jwt, jwks): no "
              "secret, its keys in the answer",
              st == 201 and "client_secret" not in doc and
              doc.get("token_endpoint_auth_method") == "private_key_jwt" and
              len(doc.get("jwks", {}).get("keys", [])) == 1, f"{st} {doc}")
        cid = doc.get("client_id", "")
        st, _, tok = cgi(db, "POST", "/token", form(
            grant_type="client_credentials",
            client_assertion_type="urn:ietf:params:oauth:client-assertion-"
            "type:jwt-bearer", client_assertion=key.assertion(cid)))
        check("... and gets a token with an assertion", st == 200 and
              "access_token" in tok, f"{st} {tok}")
        private = dict(key.public_jwk(), d="AAAA")
        st, _, doc = register(db, dict(
            cc, token_endpoint_auth_method="private_key_jwt",
            jwks={"keys": [private]}), TOKEN_ENV)
        check("a private key as jwks: invalid_client_metadata",
              st == 400 and doc.get("error") == "invalid_client_metadata",
              f"{st} {doc}")
    else:
        print(f"# skipped the client of keys: {cgi_lib.MISSING}")
    if shutil.which("openssl") is None or not make_certs(tmp):
        print("# skipped the clients of certificates: no openssl")
        return
    st, _, doc = register(db, dict(
        cc, token_endpoint_auth_method="tls_client_auth",
        tls_client_auth_subject_dn="CN=mtls-client,O=Example"), TOKEN_ENV)
    check("a client of a CA's certificate registers (tls_client_auth)",
          st == 201 and "client_secret" not in doc, f"{st} {doc}")
    cid = doc.get("client_id", "")
    client_pem = os.path.join(tmp, "client.pem")
    st, _, tok = cgi(db, "POST", "/token", form(
        grant_type="client_credentials", client_id=cid), env=tls(
            client_pem, subject="CN=mtls-client,O=Example"))
    check("... and gets a token bound to its certificate", st == 200 and
          tok.get("token_type") == "Bearer", f"{st} {tok}")
    st, _, tok = cgi(db, "POST", "/token", form(
        grant_type="client_credentials", client_id=cid), env=tls(
            client_pem, verify="FAILED:unable to verify",
            subject="CN=mtls-client,O=Example"))
    check("... not with a certificate the web server did not verify",
          st == 401, f"{st} {tok}")
    self_pem = os.path.join(tmp, "self.pem")
    with open(self_pem) as f:
        der_b64 = "".join(f.read().split("-----")[2].split())
    st, _, doc = register(db, dict(
        cc, token_endpoint_auth_method="self_signed_tls_client_auth",
        jwks={"keys": [{"kty": "EC", "x5c": [der_b64]}]}), TOKEN_ENV)
    check("a client of a self-signed certificate registers (x5c)",
          st == 201 and "client_secret" not in doc, f"{st} {doc}")
    cid = doc.get("client_id", "")
    st, _, tok = cgi(db, "POST", "/token", form(
        grant_type="client_credentials", client_id=cid),
        env=tls(self_pem, verify="FAILED:self-signed"))
    check("... and gets a token with that certificate", st == 200, f"{st} "
          f"{tok}")
    st, _, tok = cgi(db, "POST", "/token", form(
        grant_type="client_credentials", client_id=cid),
        env=tls(os.path.join(tmp, "other.pem"), verify="FAILED:x"))
    check("... not with another", st == 401, f"{st} {tok}")
    r = ctl(db, "client", "show", cid)
    check("oauthctl client show: its certificate's thumbprint",
          r.returncode == 0 and x5t(self_pem) in r.stdout, r.stdout)


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
        credentials(db, tmp)
        r = ctl(db, "check")
        check("oauthctl check passes", r.returncode == 0, r.stdout + r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cgi_lib.finish()


if __name__ == "__main__":
    sys.exit(main())
