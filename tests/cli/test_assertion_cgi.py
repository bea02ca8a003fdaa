#!/usr/bin/python3
"""private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9) through
oauth.fcgi as CGI: clients registered with their public keys (oauthctl
client add --jwks) authenticate at /token, /introspect and /revoke with
assertions made here with PyJWT, apart from the program; a CGI process
at /introspect or /revoke loads the signing module for a request without
an Authorization header, whose body may hold one.  Every rejection rule is
tried: a replayed jti (by the next process), another key's signature, a
wrong aud, iss or sub, an expired or too long-lived assertion, no jti, a
client_id that is not the assertion's, two methods at once, another
assertion type, a secret from a client of keys.  Then oauthctl: the
client shows its keys, has no secret to renew, refuses a private key and
a set of no key; and purge deletes the spent jtis once they expired.
Every process runs at a pinned clock (OAUTH_TEST_NOW).

    FCGI=build/oauth.fcgi OAUTHCTL=build/oauthctl python3 \\
        tests/cli/test_assertion_cgi.py

Skips when PyJWT or cryptography is missing.  Last line: N passed, M
failed.
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cgi_lib  # noqa: E402
from cgi_lib import ISSUER, NOW, SECRET, Key, basic, cgi, check, ctl, form  # noqa

TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SKEW = 60               # CLIENT_ASSERTION_SKEW


def with_assertion(assertion, **kv):
    return form(client_assertion_type=TYPE, client_assertion=assertion, **kv)


def refused(desc, st, doc, status=401, error="invalid_client"):
    check(desc, st == status and doc.get("error") == error, f"{st} {doc}")


def main():
    tmp = tempfile.mkdtemp(prefix="test_assertion_cgi.")
    db = os.path.join(tmp, "db")
    es, rs, ed, other = Key("ES256"), Key("RS256"), Key("EdDSA"), Key("ES256")
    spent = 0
    try:
        check("oauthctl init", ctl(db, "init").returncode == 0)
        one = os.path.join(tmp, "one.jwk")
        with open(one, "w") as f:
            json.dump(es.public_jwk(), f)
        two = os.path.join(tmp, "two.jwks")
        with open(two, "w") as f:
            json.dump({"keys": [rs.public_jwk("r1"), ed.public_jwk("e1")]}, f)
        r = ctl(db, "client", "add", "pkj", "--jwks", one, "--scope", "read",
                "--grant-types", "client_credentials", "--json")
        check("client add --jwks with one JWK prints no secret",
              r.returncode == 0 and json.loads(r.stdout) ==
              {"client_id": "pkj"}, r.stdout + r.stderr)
        check("client add --jwks with a set of two keys",
              ctl(db, "client", "add", "pkr", "--jwks", two, "--scope",
                  "read", "--grant-types", "client_credentials").returncode
              == 0)
        check("a resource server", ctl(db, "client", "add", "rs", "--secret",
                                       SECRET, "--introspect").returncode == 0)
        r = ctl(db, "client", "show", "pkr", "--json")
        shown = json.loads(r.stdout) if r.returncode == 0 else {}
        check("client show: private_key_jwt and the two public keys",
              shown.get("token_endpoint_auth_method") == "private_key_jwt"
              and len(shown.get("jwks", {}).get("keys", [])) == 2 and
              all("d" not in k for k in shown["jwks"]["keys"]), r.stdout)
        r = ctl(db, "check", env={"OAUTH_ISSUER": ISSUER})
        check("oauthctl check passes the clients and their keys",
              r.returncode == 0 and "warning" not in r.stderr,
              r.stdout + r.stderr)
        r = ctl(db, "check", env={"OAUTH_ISSUER": None})
        check("... and warns of them without OAUTH_ISSUER", r.returncode == 0
              and "2 clients authenticate with private_key_jwt" in r.stderr
              and "OAUTH_ISSUER" in r.stderr, r.stdout + r.stderr)
        r = ctl(db, "client", "secret", "pkj")
        check("client secret of a client of keys: refused",
              r.returncode == 1 and "private_key_jwt" in r.stderr, r.stderr)
        bad = os.path.join(tmp, "private.jwk")
        with open(bad, "w") as f:
            json.dump({**es.public_jwk(), "d": "AAAA"}, f)
        check("client add --jwks of a private key: refused",
              ctl(db, "client", "add", "x1", "--jwks", bad).returncode == 1)
        empty = os.path.join(tmp, "empty.jwks")
        with open(empty, "w") as f:
            json.dump({"keys": []}, f)
        check("client add --jwks of no key: refused",
              ctl(db, "client", "add", "x2", "--jwks", empty).returncode == 1)
        check("client add --jwks with --secret: a usage error",
              ctl(db, "client", "add", "x3", "--jwks", one, "--secret",
                  SECRET).returncode == 2)

        cc = {"grant_type": "client_credentials"}
        a = es.assertion("pkj")
        st, _, doc = cgi(db, "POST", "/token", with_assertion(a, **cc))
        check("/token with an ES256 assertion (aud the issuer): a token",
              st == 200 and "access_token" in doc, f"{st} {doc}")
        spent += st == 200
        st, _, doc = cgi(db, "POST", "/token", with_assertion(a, **cc))
        refused("the same assertion in the next process: invalid_client",
                st, doc)
        for desc, key, client, kw in (
                ("RS256, aud the token endpoint, by kid", rs, "pkr",
                 {"aud": ISSUER + "/token", "kid": "r1"}),
                ("EdDSA, aud a list holding the issuer", ed, "pkr",
                 {"aud": ["https://other.example", ISSUER]}),
                ("EdDSA without a kid: the set's keys are tried", ed, "pkr",
                 {})):
            st, _, doc = cgi(db, "POST", "/token", with_assertion(
                key.assertion(client, **kw), **cc))
            check(f"/token with an assertion, {desc}: a token", st == 200,
                  f"{st} {doc}")
            spent += st == 200
        st, _, doc = cgi(db, "POST", "/token", with_assertion(
            es.assertion("pkj"), client_id="pkj", **cc))
        check("client_id beside the assertion, the same: a token",
              st == 200, f"{st} {doc}")
        spent += st == 200

        for desc, assertion in (
                ("signed by another key", other.assertion("pkj")),
                ("of another client's key", rs.assertion("pkj")),
                ("naming a kid the set lacks", rs.assertion("pkr", kid="zz")),
                ("for another audience",
                 es.assertion("pkj", aud="https://other.example")),
                ("for the introspection endpoint, at /token",
                 es.assertion("pkj", aud=ISSUER + "/introspect")),
                ("expired", es.assertion("pkj", exp=NOW - SKEW)),
                ("living longer than an hour",
                 es.assertion("pkj", exp=NOW + 3601)),
                ("without exp", es.assertion("pkj", claims={"exp": None})),
                ("without jti", es.assertion("pkj", claims={"jti": None})),
                ("not valid yet (nbf)",
                 es.assertion("pkj", claims={"nbf": NOW + SKEW + 1})),
                ("whose iss is not its sub",
                 es.assertion("pkj", claims={"iss": "pkr"})),
                ("of an unknown client", es.assertion("nobody")),
                ("from a client of secrets", es.assertion("rs")),
                ("that is no JWT", "not.a.jwt")):
            st, _, doc = cgi(db, "POST", "/token",
                             with_assertion(assertion, **cc))
            refused(f"an assertion {desc}: invalid_client", st, doc)
        st, _, doc = cgi(db, "POST", "/token", with_assertion(
            es.assertion("pkj"), client_id="pkr", **cc))
        refused("client_id other than the assertion's sub: invalid_client",
                st, doc)
        st, _, doc = cgi(db, "POST", "/token", with_assertion(
            es.assertion("pkj"), **cc), headers={
                "Authorization": basic("pkj", SECRET)})
        refused("an assertion and Basic: two methods", st, doc, 400,
                "invalid_request")
        st, _, doc = cgi(db, "POST", "/token", form(
            client_assertion_type="urn:example:saml", client_assertion="x",
            **cc))
        refused("another assertion type: invalid_request", st, doc, 400,
                "invalid_request")
        st, _, doc = cgi(db, "POST", "/token", form(
            client_id="pkj", client_secret=SECRET, **cc))
        refused("a client of keys with a secret: invalid_client", st, doc)

        # The other endpoints, whose CGI processes load the module for it.
        st, _, tok = cgi(db, "POST", "/token", with_assertion(
            es.assertion("pkj"), **cc))
        spent += st == 200
        token = tok.get("access_token", "")
        st, _, doc = cgi(db, "POST", "/introspect", with_assertion(
            es.assertion("pkj", aud=ISSUER + "/introspect"), token=token))
        check("/introspect authenticated with an assertion: active",
              st == 200 and doc.get("active") is True and
              doc.get("client_id") == "pkj", f"{st} {doc}")
        spent += st == 200
        st, _, doc = cgi(db, "POST", "/revoke", with_assertion(
            es.assertion("pkj"), token=token))
        check("/revoke authenticated with an assertion: 200", st == 200,
              f"{st} {doc}")
        spent += st == 200
        st, _, doc = cgi(db, "POST", "/introspect", form(token=token),
                         headers={"Authorization": basic("rs", SECRET)})
        check("... and the token is revoked", doc == {"active": False},
              f"{doc}")

        # A verified assertion is spent whatever the answer, and nothing
        # else the refused request began sticks.
        for desc, kv in (
                ("a grant_type the client is not registered for",
                 {"grant_type": "refresh_token", "refresh_token": "x"}),
                ("a scope the client may not ask for",
                 {"grant_type": "client_credentials", "scope": "write"})):
            a = es.assertion("pkj")
            st, _, doc = cgi(db, "POST", "/token", with_assertion(a, **kv))
            check(f"/token, {desc}: refused after authentication",
                  st == 400 and doc.get("error") in (
                      "unauthorized_client", "invalid_scope"), f"{st} {doc}")
            spent += 1
            st, _, doc = cgi(db, "POST", "/token", with_assertion(a, **cc))
            refused(f"... and its assertion, spent: invalid_client", st, doc)
        a = es.assertion("pkj", aud=ISSUER + "/introspect")
        st, _, doc = cgi(db, "POST", "/introspect", with_assertion(a))
        refused("/introspect without a token: invalid_request", st, doc, 400,
                "invalid_request")
        spent += 1
        st, _, doc = cgi(db, "POST", "/introspect",
                         with_assertion(a, token=token))
        refused("... and its assertion, spent: invalid_client", st, doc)
        # A Bearer header is no client authentication at /revoke: the
        # process loads the module for the body's assertion.
        st, _, doc = cgi(db, "POST", "/revoke", with_assertion(
            es.assertion("pkj"), token="unknown"),
            headers={"Authorization": "Bearer abc"})
        check("/revoke with a Bearer header and an assertion: 200",
              st == 200, f"{st} {doc}")
        spent += st == 200
        st, _, rst = cgi(db, "POST", "/token", form(**cc), headers={
            "Authorization": basic("rs", SECRET)})
        a = es.assertion("pkj", aud=ISSUER + "/introspect")
        st, _, doc = cgi(db, "POST", "/introspect", with_assertion(
            a, token=token), headers={
                "Authorization": "Bearer " + rst.get("access_token", "")})
        refused("/introspect with a Bearer token and an assertion: two "
                "methods", st, doc, 400, "invalid_request")
        st, _, doc = cgi(db, "POST", "/introspect",
                         with_assertion(a, token=token))
        check("... the assertion, not verified then, still authenticates",
              st == 200 and doc.get("active") is False, f"{st} {doc}")
        spent += st == 200
        # RFC 9449 §8: the retry a nonce asks for may resend the assertion.
        a = es.assertion("pkj")
        nonce_env = {"OAUTH_DPOP_NONCE": "on"}
        st, hdrs, doc = cgi(db, "POST", "/token", with_assertion(a, **cc),
                            headers={"DPoP": other.proof(
                                "POST", ISSUER + "/token")}, env=nonce_env)
        check("a DPoP proof without the nonce: use_dpop_nonce and a nonce",
              st == 400 and doc.get("error") == "use_dpop_nonce" and
              hdrs.get("dpop-nonce"), f"{st} {doc}")
        st, _, doc = cgi(db, "POST", "/token", with_assertion(a, **cc),
                         headers={"DPoP": other.proof(
                             "POST", ISSUER + "/token",
                             nonce=hdrs.get("dpop-nonce"))}, env=nonce_env)
        check("... the retry with the nonce and the same assertion: a "
              "DPoP token", st == 200 and doc.get("token_type") == "DPoP",
              f"{st} {doc}")
        spent += st == 200
        # The issuer an assertion names must be the configured one: one
        # derived from Host is the peer's to choose.
        no_issuer = {"OAUTH_ISSUER": None}
        st, _, doc = cgi(db, "POST", "/token", with_assertion(
            es.assertion("pkj"), **cc), env=no_issuer)
        refused("without OAUTH_ISSUER an assertion: server_error", st, doc,
                500, "server_error")
        st, _, doc = cgi(db, "POST", "/token", form(**cc), env=no_issuer,
                         headers={"Authorization": basic("rs", SECRET)})
        check("... while a client of secrets gets its token", st == 200,
              f"{st} {doc}")

        r = ctl(db, "purge", now=NOW)
        check("purge keeps the spent jtis while their assertions live",
              r.returncode == 0 and r.stdout.strip().endswith(
                  ", 0 spent proofs"), r.stdout + r.stderr)
        r = ctl(db, "purge", now=NOW + 60 + SKEW)
        check(f"purge after they expired deletes the {spent} spent jtis",
              r.returncode == 0 and r.stdout.strip().endswith(
                  f", {spent} spent proofs"), r.stdout + r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cgi_lib.finish()


if __name__ == "__main__":
    cgi_lib.skip_if_missing()
    sys.exit(main())
