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
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

try:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
except ImportError as e:
    # Debian's python3-jwt is for Debian's interpreter, which may not be
    # the one on PATH.
    if os.path.realpath(sys.executable) != os.path.realpath(
            "/usr/bin/python3") and os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    print(f"skipped: {e} (apt-get install python3-jwt python3-cryptography)")
    print("0 passed, 0 failed")
    sys.exit(0)

FCGI = os.environ.get("FCGI", "build/oauth.fcgi")
OAUTHCTL = os.environ.get("OAUTHCTL", "build/oauthctl")
ISSUER = "https://as.example/oauth"
NOW = 1700000000
IAT_PAST = 300          # DPOP_IAT_PAST: how long a spent proof is kept
SECRET = "svc-secret-0123456789abcdefghijklmnopqrstuv"
REDIRECT = "https://app.example/cb"
TIMEOUT = 30            # seconds for one process

passed = failed = 0


def check(desc, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {desc}")
    else:
        failed += 1
        print(f"not ok - {desc}" + (f"\n#   {detail}" if detail else ""))
    return cond


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Key:
    """A client's key pair, its public JWK and RFC 7638 thumbprint."""

    def __init__(self, alg, header_alg=None):
        self.alg = alg
        self.header_alg = header_alg or alg
        if alg == "ES256":
            self.priv = ec.generate_private_key(ec.SECP256R1())
            self.jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(
                self.priv.public_key()))
            members = ("crv", "kty", "x", "y")
        elif alg == "RS256":
            self.priv = rsa.generate_private_key(65537, 2048)
            self.jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(
                self.priv.public_key()))
            members = ("e", "kty", "n")
        else:
            self.priv = ed25519.Ed25519PrivateKey.generate()
            raw = self.priv.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
            members = ("crv", "kty", "x")
        canon = json.dumps({m: self.jwk[m] for m in members},
                           separators=(",", ":"), sort_keys=True)
        self.jkt = b64u(hashlib.sha256(canon.encode()).digest())

    def proof(self, htm, htu, ath=None, iat=NOW, jti=None):
        claims = {"jti": jti or str(uuid.uuid4()), "htm": htm, "htu": htu,
                  "iat": iat}
        if ath is not None:
            claims["ath"] = b64u(hashlib.sha256(ath.encode()).digest())
        # PyJWT signs Ed25519 as EdDSA; the name in the header is ours.
        sign_alg = "EdDSA" if self.alg == "EdDSA" else self.alg
        token = jwt.encode(claims, self.priv, algorithm=sign_alg,
                           headers={"typ": "dpop+jwt", "jwk": self.jwk})
        if self.header_alg != sign_alg:
            head, pay, sig = token.split(".")
            h = json.loads(base64.urlsafe_b64decode(head + "=="))
            h["alg"] = self.header_alg
            head = b64u(json.dumps(h, separators=(",", ":")).encode())
            signing_input = f"{head}.{pay}".encode()
            sig = b64u(self.priv.sign(signing_input))
            token = f"{head}.{pay}.{sig}"
        return token


def cgi(db, method, path, body="", query="", headers=None, user=None,
        now=NOW):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method,
           "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "/oauth",
           "SERVER_NAME": "as.example", "SERVER_PORT": "443", "HTTPS": "on",
           "HTTP_HOST": "as.example", "OAUTH_DB": db, "OAUTH_ISSUER": ISSUER,
           "OAUTH_TEST_NOW": str(now)}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    if body:
        env["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        env["CONTENT_LENGTH"] = str(len(body))
    if user:
        env["REMOTE_USER"] = user
    for name, value in (headers or {}).items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    out = subprocess.run([FCGI], input=body.encode(), env=env,
                         capture_output=True, timeout=TIMEOUT).stdout
    head, _, payload = out.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("Status:") \
        else 200
    hdrs = {}
    for line in lines:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    try:
        doc = json.loads(payload) if payload else {}
    except ValueError:
        doc = {"raw": payload.decode(errors="replace")}
    return status, hdrs, doc


def ctl(db, *args, now=NOW):
    env = dict(os.environ, OAUTH_TEST_NOW=str(now))
    return subprocess.run([OAUTHCTL, "--db", db, *args], env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)


def form(**kv):
    from urllib.parse import urlencode
    return urlencode(kv)


def basic(client, secret):
    return "Basic " + base64.b64encode(f"{client}:{secret}".encode()).decode()


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
        r = ctl(db, "purge", now=NOW + IAT_PAST)
        check("oauthctl purge inside the window keeps every spent proof",
              r.returncode == 0 and r.stdout.strip().endswith(
                  ", 0 spent proofs"), r.stdout + r.stderr)
        r = ctl(db, "purge", now=NOW + IAT_PAST + 1)
        check(f"oauthctl purge after it deletes the {spent} spent proofs",
              r.returncode == 0 and r.stdout.strip().endswith(
                  f", {spent} spent proofs"), r.stdout + r.stderr)
        r = ctl(db, "purge", now=NOW + IAT_PAST + 1)
        check("a second purge finds none", r.returncode == 0 and
              r.stdout.strip().endswith(", 0 spent proofs"), r.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
