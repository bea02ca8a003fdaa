#!/usr/bin/python3
"""DPoP (RFC 9449) through oauth.fcgi as CGI, a process a request: each
loads the signing module only because the request carries a DPoP header
(or is at /token) and verifies the proof inside its sandbox.  Proofs are
made here with PyJWT and cryptography, apart from the program: ES256,
EdDSA (and Ed25519, its fully-specified name) and RS256 are taken; a
proof replayed by the next process is refused, and so is one for another
URL; a public client's code asked for with dpop_jkt, its tokens, /userinfo
with the DPoP scheme and ath, and a bound token sent as Bearer; then
oauthctl purge deletes the spent proofs once their window has passed, and
only then.  Every process runs at a pinned clock (OAUTH_TEST_NOW).

    FCGI=build/oauth.fcgi OAUTHCTL=build/oauthctl /usr/bin/python3 \\
        tests/cli/test_dpop_cgi.py

Skips when PyJWT or cryptography is missing.  Last line: N passed, M
failed.
"""
import hashlib
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cgi_lib  # noqa: E402
from cgi_lib import (ISSUER, NOW, REDIRECT, SECRET, Key, b64u, basic,  # noqa
                     cgi, check, ctl, form)

# How long a spent proof is kept: DPOP_IAT_PAST and DPOP_IAT_FUTURE.
KEPT = 300 + 60


def main():
    tmp = tempfile.mkdtemp(prefix="test_dpop_cgi.")
    db = os.path.join(tmp, "db")
    spent = 0
    try:
        check("oauthctl init", ctl(db, "init").returncode == 0)
        check("a confidential client",
              ctl(db, "client", "add", "svc", "--secret", SECRET, "--scope",
                  "read", "--grant-types", "client_credentials")
              .returncode == 0)
        check("a public OpenID Connect client",
              ctl(db, "client", "add", "app", "--public", "--scope",
                  "openid", "--redirect-uri", REDIRECT).returncode == 0)
        token_url = ISSUER + "/token"
        auth = {"Authorization": basic("svc", SECRET)}
        cc = form(grant_type="client_credentials")

        for alg, header_alg in (("ES256", None), ("EdDSA", None),
                                ("EdDSA", "Ed25519"), ("RS256", None)):
            key = Key(alg, header_alg)
            name = header_alg or alg
            proof = key.proof("POST", token_url)
            st, _, doc = cgi(db, "POST", "/token", cc,
                             headers={**auth, "DPoP": proof})
            check(f"/token with an {name} proof: a DPoP token",
                  st == 200 and doc.get("token_type") == "DPoP", f"{st} {doc}")
            spent += st == 200
            if alg == "ES256" and st == 200:
                st, _, info = cgi(db, "POST", "/introspect",
                                  form(token=doc["access_token"]),
                                  headers=auth)
                check("introspection: cnf.jkt is the key's RFC 7638 "
                      "thumbprint", info.get("cnf") == {"jkt": key.jkt} and
                      info.get("token_type") == "DPoP", f"{info}")
                st, _, doc = cgi(db, "POST", "/token", cc,
                                 headers={**auth, "DPoP": proof})
                check("the same proof in the next process: "
                      "invalid_dpop_proof", st == 400 and
                      doc.get("error") == "invalid_dpop_proof", f"{st} {doc}")
        key = Key("ES256")
        st, _, doc = cgi(db, "POST", "/token", cc, headers={
            **auth, "DPoP": key.proof("POST", "https://other.example/oauth/"
                                      "token")})
        check("a proof for another server's URL: invalid_dpop_proof",
              st == 400 and doc.get("error") == "invalid_dpop_proof", f"{doc}")
        st, _, doc = cgi(db, "POST", "/token", cc, headers={
            **auth, "DPoP": key.proof("POST", token_url, iat=NOW - 301)})
        check("a proof 301 s old: invalid_dpop_proof", st == 400 and
              doc.get("error") == "invalid_dpop_proof", f"{doc}")

        # A public client's code, bound to its key by dpop_jkt.
        ed = Key("EdDSA", "Ed25519")
        verifier = b64u(os.urandom(32))
        challenge = b64u(hashlib.sha256(verifier.encode()).digest())
        st, hdrs, _ = cgi(db, "GET", "/authorize", query=form(
            response_type="code", client_id="app", redirect_uri=REDIRECT,
            scope="openid", code_challenge=challenge,
            code_challenge_method="S256", dpop_jkt=ed.jkt), user="alice")
        loc = hdrs.get("location", "")
        code = dict(p.split("=", 1) for p in loc.split("?", 1)[-1]
                    .split("&") if "=" in p).get("code")
        check("/authorize with dpop_jkt: a code", st == 302 and code, loc)
        redeem = form(grant_type="authorization_code", code=code or "",
                      client_id="app", redirect_uri=REDIRECT,
                      code_verifier=verifier)
        st, _, doc = cgi(db, "POST", "/token", redeem)
        check("the code without a proof: invalid_grant",
              st == 400 and doc.get("error") == "invalid_grant", f"{doc}")
        st, _, doc = cgi(db, "POST", "/token", redeem,
                         headers={"DPoP": ed.proof("POST", token_url)})
        spent += st == 200
        check("the code with a proof by its key: a DPoP token",
              st == 200 and doc.get("token_type") == "DPoP", f"{st} {doc}")
        access = doc.get("access_token", "")
        info_url = ISSUER + "/userinfo"
        proof = ed.proof("GET", info_url, ath=access)
        st, hdrs, doc = cgi(db, "GET", "/userinfo", headers={
            "Authorization": "DPoP " + access, "DPoP": proof})
        spent += st == 200
        check("/userinfo with the DPoP scheme, a proof and its ath",
              st == 200 and doc.get("sub") == "alice", f"{st} {doc}")
        st, hdrs, doc = cgi(db, "GET", "/userinfo", headers={
            "Authorization": "DPoP " + access, "DPoP": proof})
        check("/userinfo with that proof again: 401 invalid_dpop_proof",
              st == 401 and hdrs.get("www-authenticate", "").startswith(
                  'DPoP error="invalid_dpop_proof"'), f"{st} {hdrs}")
        st, hdrs, doc = cgi(db, "GET", "/userinfo", headers={
            "Authorization": "DPoP " + access,
            "DPoP": ed.proof("GET", info_url)})
        check("/userinfo with a proof without ath: 401 invalid_dpop_proof",
              st == 401 and doc.get("error") == "invalid_dpop_proof",
              f"{st} {doc}")
        st, hdrs, doc = cgi(db, "GET", "/userinfo",
                            headers={"Authorization": "Bearer " + access})
        check("/userinfo with the bound token as Bearer: 401 invalid_token",
              st == 401 and 'error="invalid_token"' in
              hdrs.get("www-authenticate", ""), f"{st} {hdrs}")

        # Spent proofs stay while a replay would be in its window.
        r = ctl(db, "purge", now=NOW + KEPT)
        check("oauthctl purge inside the window keeps every spent proof",
              r.returncode == 0 and r.stdout.strip().endswith(
                  ", 0 spent proofs"), r.stdout + r.stderr)
        r = ctl(db, "purge", now=NOW + KEPT + 1)
        check(f"oauthctl purge after it deletes the {spent} spent proofs",
              r.returncode == 0 and r.stdout.strip().endswith(
                  f", {spent} spent proofs"), r.stdout + r.stderr)
        r = ctl(db, "purge", now=NOW + KEPT + 1)
        check("a second purge finds none", r.returncode == 0 and
              r.stdout.strip().endswith(", 0 spent proofs"), r.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cgi_lib.finish()


if __name__ == "__main__":
    cgi_lib.skip_if_missing()
    sys.exit(main())
