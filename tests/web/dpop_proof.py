#!/usr/bin/python3
"""A DPoP proof (RFC 9449 §4.2) for the shell tests, made with PyJWT and
cryptography, apart from fcgi-oauth.

    dpop_proof.py KEYFILE HTM HTU [ACCESS_TOKEN]

Prints one proof, ES256, by the P-256 key in KEYFILE (created there, PEM,
when the file does not exist), for method HTM and URL HTU, with a fresh
jti and the current time as iat, and with ath when ACCESS_TOKEN is given.

    dpop_proof.py KEYFILE --jkt

Prints the key's RFC 7638 thumbprint.  Exits 2 with a message when
PyJWT or cryptography is missing.
"""
import base64
import hashlib
import json
import os
import sys
import time
import uuid

try:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
except ImportError as e:
    if os.path.realpath(sys.executable) != os.path.realpath(
            "/usr/bin/python3") and os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    sys.exit(f"dpop_proof.py: {e}")


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def load_key(path):
    if os.path.exists(path):
        with open(path, "rb") as f:
            return serialization.load_pem_private_key(f.read(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return key


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    key = load_key(argv[1])
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    if argv[2] == "--jkt":
        canon = json.dumps({m: jwk[m] for m in ("crv", "kty", "x", "y")},
                           separators=(",", ":"))
        print(b64u(hashlib.sha256(canon.encode()).digest()))
        return 0
    if len(argv) not in (4, 5):
        sys.exit(__doc__)
    claims = {"jti": str(uuid.uuid4()), "htm": argv[2], "htu": argv[3],
              "iat": int(time.time())}
    if len(argv) == 5:
        claims["ath"] = b64u(hashlib.sha256(argv[4].encode()).digest())
    print(jwt.encode(claims, key, algorithm="ES256",
                     headers={"typ": "dpop+jwt", "jwk": jwk}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
