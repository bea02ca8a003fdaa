#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz_jose into tests/fuzz/corpus/jose/
(seed-*): compact JWS signed with the harness's test keys (read from
tests/fuzz/fuzz_jose.c) by the openssl command, for each algorithm, and
broken ones around them: alg none, HS256 and a wrong case, crit, a
repeated member, padding, too few and too many parts, an empty payload, a
DER ECDSA signature, a truncated or altered signature, a header that is
not an object, and inputs that ask the harness for a round trip.

    python3 tests/fuzz/jose_seeds.py
"""
import base64
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "jose")


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def pems():
    """The PEM string literals of fuzz_jose.c, by variable name."""
    src = open(os.path.join(HERE, "fuzz_jose.c")).read()
    out = {}
    for m in re.finditer(r"static const char (fuzz_jose_\w+_pem)\[\] =(.*?);",
                         src, re.S):
        out[m.group(1)] = "".join(
            line + "\n" for line in re.findall(r'"([^"]*)\\n"', m.group(2)))
    return out


def der_to_raw(der):
    """An ECDSA-Sig-Value (DER) as R || S of 32 bytes each (RFC 7518 §3.4)."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 3
    parts = []
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        parts.append(int.from_bytes(der[i + 2:i + 2 + n], "big"))
        i += 2 + n
    return b"".join(p.to_bytes(32, "big") for p in parts)


def sign(alg, keyfile, tbs, tmp):
    path = os.path.join(tmp, "tbs")
    with open(path, "wb") as f:
        f.write(tbs)
    if alg == "EdDSA":
        cmd = ["openssl", "pkeyutl", "-sign", "-inkey", keyfile, "-rawin",
               "-in", path]
    else:
        cmd = ["openssl", "dgst", "-sha256", "-sign", keyfile, path]
    sig = subprocess.run(cmd, check=True, capture_output=True).stdout
    return sig


def jws(alg, keyfile, header, payload, tmp, der=False):
    h = header if isinstance(header, bytes) else \
        json.dumps(header, separators=(",", ":")).encode()
    tbs = b64u(h) + b"." + b64u(payload)
    sig = sign(alg, keyfile, tbs, tmp)
    if alg == "ES256" and not der:
        sig = der_to_raw(sig)
    return tbs + b"." + b64u(sig)


def main():
    keys = pems()
    os.makedirs(OUT, exist_ok=True)
    claims = json.dumps({"iss": "https://as.example", "sub": "alice",
                         "aud": "app", "exp": 1700003600, "iat": 1700000000,
                         "nonce": "n-0S6_WzA2Mj"},
                        separators=(",", ":")).encode()
    seeds = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for alg, name in (("RS256", "fuzz_jose_rsa_pem"),
                          ("ES256", "fuzz_jose_ec_pem"),
                          ("EdDSA", "fuzz_jose_ed_pem")):
            files[alg] = os.path.join(tmp, name + ".pem")
            with open(files[alg], "w") as f:
                f.write(keys[name])
        for alg in files:
            k = files[alg]
            a = alg.lower()
            good = jws(alg, k, {"alg": alg, "kid": "k1", "typ": "JWT"},
                       claims, tmp)
            seeds["seed-%s-valid" % a] = good
            seeds["seed-%s-minimal" % a] = jws(alg, k, {"alg": alg}, b"{}",
                                                tmp)
            seeds["seed-%s-at-jwt" % a] = jws(
                alg, k, {"alg": alg, "typ": "at+jwt"}, claims, tmp)
            h, p, s = good.split(b".")
            seeds["seed-%s-bad-sig" % a] = h + b"." + p + b"." + \
                (b"B" if s[:1] == b"A" else b"A") + s[1:]
            seeds["seed-%s-short-sig" % a] = h + b"." + p + b"." + s[:-4]
            seeds["seed-%s-padded" % a] = h + b"." + p + b"." + s + b"=="
            seeds["seed-%s-two-parts" % a] = h + b"." + p
            seeds["seed-%s-four-parts" % a] = good + b"." + s
            seeds["seed-%s-empty-payload" % a] = jws(alg, k, {"alg": alg},
                                                      b"", tmp)
            seeds["seed-%s-crit" % a] = jws(
                alg, k, {"alg": alg, "crit": ["b64"], "b64": False}, claims,
                tmp)
            seeds["seed-%s-dup-alg" % a] = jws(
                alg, k, ('{"alg":"%s","alg":"none"}' % alg).encode(), claims,
                tmp)
            seeds["seed-%s-lower" % a] = jws(
                alg, k, {"alg": alg.lower()}, claims, tmp)
            seeds["seed-%s-nul" % a] = jws(
                alg, k, ('{"alg":"%s","kid":"a\\u0000b"}' % alg).encode(),
                claims, tmp)
            seeds["seed-%s-ws" % a] = jws(
                alg, k, (' {"alg" : "%s"}\n' % alg).encode(), claims, tmp)
        seeds["seed-es256-der"] = jws("ES256", files["ES256"],
                                      {"alg": "ES256"}, claims, tmp, der=True)
    seeds["seed-none"] = b64u(b'{"alg":"none"}') + b"." + b64u(claims) + b"."
    seeds["seed-hs256"] = b64u(b'{"alg":"HS256"}') + b"." + b64u(claims) + \
        b"." + b64u(b"\x00" * 32)
    seeds["seed-array-header"] = b64u(b'["alg","RS256"]') + b"." + \
        b64u(claims) + b"." + b64u(b"\x00" * 256)
    seeds["seed-deep-header"] = b64u(b'{"alg":"EdDSA","x":' + b"[" * 12 +
                                     b"]" * 12 + b"}") + b"." + \
        b64u(claims) + b"." + b64u(b"\x00" * 64)
    seeds["seed-dots"] = b".."
    for i, alg in enumerate(("rs256", "es256", "eddsa")):
        seeds["seed-roundtrip-%s" % alg] = bytes([(i << 4) | 0x0f]) + claims
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(seeds), OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
