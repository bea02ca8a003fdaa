"""An ID Token checked with PyJWT (Debian python3-jwt), apart from the
relying party that received it: the key its header names, taken from a
JWK Set (the server's /jwks), the RS256 signature, iss, aud, exp, iat,
sub, nonce when given, and at_hash against the access token issued with
it (OpenID Connect Core 1.0 §3.1.3.6); and a copy with one byte of its
signature or payload changed is refused.  Prints one "ok - ..." or
"not ok - ..." line per check, prefixed by LABEL; exit 1 if one failed.

    check_id_token.py LABEL JWKS_FILE ID_TOKEN_FILE ACCESS_TOKEN_FILE
        ISSUER AUDIENCE SUBJECT [NONCE]
"""
import base64
import hashlib
import json
import sys

import jwt

failures = 0


def check(desc, cond, detail=""):
    global failures
    if cond:
        print("ok - %s" % desc)
    else:
        failures += 1
        print("not ok - %s%s" % (desc, " (%s)" % detail if detail else ""))
    return cond


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def flip(token, part):
    """token with one character of part (1 payload, 2 signature) changed."""
    parts = token.split(".")
    s = parts[part]
    mid = len(s) // 2
    parts[part] = s[:mid] + ("A" if s[mid] != "A" else "B") + s[mid + 1:]
    return ".".join(parts)


def main():
    label, jwks_file, id_file, at_file, issuer, audience, subject = \
        sys.argv[1:8]
    nonce = sys.argv[8] if len(sys.argv) > 8 else None
    with open(jwks_file) as f:
        jwks = json.load(f)
    with open(id_file) as f:
        token = f.read().strip()
    with open(at_file) as f:
        access = f.read().strip()

    header = jwt.get_unverified_header(token)
    check("%s: header alg RS256 with a kid" % label,
          header.get("alg") == "RS256" and bool(header.get("kid")),
          json.dumps(header))
    keys = [k for k in jwt.PyJWKSet.from_dict(jwks).keys
            if k.key_id == header.get("kid")]
    if not check("%s: its kid is in /jwks" % label, len(keys) == 1,
                 "%d keys match" % len(keys)):
        return
    key = keys[0].key

    def decode(t):
        return jwt.decode(t, key, algorithms=["RS256"], audience=audience,
                          issuer=issuer,
                          options={"require": ["iss", "sub", "aud", "exp",
                                               "iat"]})

    try:
        claims = decode(token)
        check("%s: signature, iss, aud, exp and iat verify (PyJWT)" % label,
              True)
    except jwt.PyJWTError as e:
        check("%s: signature, iss, aud, exp and iat verify (PyJWT)" % label,
              False, "%s: %s" % (type(e).__name__, e))
        return
    check("%s: sub is the user" % label, claims.get("sub") == subject,
          claims.get("sub"))
    if nonce is not None:
        check("%s: nonce is the one sent" % label,
              claims.get("nonce") == nonce)
    want = b64url(hashlib.sha256(access.encode()).digest()[:16])
    check("%s: at_hash is that of the access token" % label,
          claims.get("at_hash") == want,
          "%s, wanted %s" % (claims.get("at_hash"), want))
    for part, what in ((2, "signature"), (1, "payload")):
        try:
            decode(flip(token, part))
            check("%s: a changed %s is refused" % (label, what), False,
                  "accepted")
        except jwt.PyJWTError:
            check("%s: a changed %s is refused" % (label, what), True)


if __name__ == "__main__":
    main()
    sys.exit(1 if failures else 0)
