"""What the CGI tests of signed requests share: a key pair of each of our
algorithms and its JWK and RFC 7638 thumbprint, DPoP proofs and client
assertions made with PyJWT and cryptography (apart from the program),
oauth.fcgi run as CGI at a pinned clock (OAUTH_TEST_NOW), oauthctl, and
the ok/not ok lines with their count.  Imported by tests/cli/test_*_cgi.py,
which skip when PyJWT or cryptography is missing (cgi_lib.MISSING).
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
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
    MISSING = f"{e} (apt-get install python3-jwt python3-cryptography)"
else:
    MISSING = None

FCGI = os.environ.get("FCGI", "build/oauth.fcgi")
OAUTHCTL = os.environ.get("OAUTHCTL", "build/oauthctl")
ISSUER = "https://as.example/oauth"
NOW = 1700000000
IAT_PAST = 300          # DPOP_IAT_PAST: how long a spent proof is kept
SECRET = "svc-secret-0123456789abcdefghijklmnopqrstuv"
REDIRECT = "https://app.example/cb"
TIMEOUT = 30            # seconds for one process

COUNTS = {"passed": 0, "failed": 0}


def check(desc, cond, detail=""):
    if cond:
        COUNTS["passed"] += 1
        print(f"ok - {desc}")
    else:
        COUNTS["failed"] += 1
        print(f"not ok - {desc}" + (f"\n#   {detail}" if detail else ""))
    return cond


def skip_if_missing():
    if MISSING is not None:
        print(f"skipped: {MISSING}")
        print("0 passed, 0 failed")
        sys.exit(0)


def finish():
    print(f"{COUNTS['passed']} passed, {COUNTS['failed']} failed")
    return 1 if COUNTS["failed"] else 0


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

    def proof(self, htm, htu, ath=None, iat=NOW, jti=None, nonce=None):
        claims = {"jti": jti or str(uuid.uuid4()), "htm": htm, "htu": htu,
                  "iat": iat}
        if nonce is not None:
            claims["nonce"] = nonce
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


    def public_jwk(self, kid=None):
        jwk = dict(self.jwk)
        if kid is not None:
            jwk["kid"] = kid
        return jwk

    def assertion(self, client_id, aud=ISSUER, exp=None, jti=None,
                  kid=None, claims=None, iat=NOW):
        """A private_key_jwt client assertion (RFC 7523 §3) by this key."""
        body = {"iss": client_id, "sub": client_id, "aud": aud,
                "exp": NOW + 60 if exp is None else exp,
                "jti": jti or str(uuid.uuid4()), "iat": iat}
        if claims:
            body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        headers = {"kid": kid} if kid is not None else None
        sign_alg = "EdDSA" if self.alg == "EdDSA" else self.alg
        return jwt.encode(body, self.priv, algorithm=sign_alg,
                          headers=headers)


def cgi(db, method, path, body="", query="", headers=None, user=None,
        now=NOW, env=None):
    """oauth.fcgi as CGI: headers become HTTP_* variables, env holds the
    web server's own (SSL_CLIENT_CERT, ...); None there unsets one."""
    server = env or {}
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
    env.update(server)
    env = {k: v for k, v in env.items() if v is not None}
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


def ctl(db, *args, now=NOW, env=None):
    env = dict(os.environ, OAUTH_TEST_NOW=str(now), **(env or {}))
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run([OAUTHCTL, "--db", db, *args], env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)


def form(**kv):
    from urllib.parse import urlencode
    return urlencode(kv)


def basic(client, secret):
    return "Basic " + base64.b64encode(f"{client}:{secret}".encode()).decode()


