#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz_request into a directory.

Each seed is a short sequence of requests in the encoding that
tests/fuzz/fuzz_request.c describes: twelve selector bytes with the raw
fields they call for, then (name, value, flags) items.  The tables
below mirror the harness's by position; when one changes there, change it
here.  Usage: request_seeds.py DIR (default tests/fuzz/corpus/request).
"""

import os
import sys

METHODS = {"POST": 0, "GET": 1, "HEAD": 4, "PUT": 5}
PATHS = {"/token": 0, "/introspect": 1, "/revoke": 2, "/authorize": 3,
         "/.well-known/oauth-authorization-server": 4,
         "/.well-known/openid-configuration": 5, "/jwks": 6,
         "/userinfo": 7, None: 8, "/nowhere": 15}
TYPES = {"form": 0, "form-charset": 1, "json": 2, None: 5,
         "text/plain": 7}
AUTH = {None: 0, "empty": 1, "conf": 2, "conf-wrong": 3, "pub": 4,
        "pub-secret": 5, "rs": 6, "cc": 7, "unknown": 8,
        "conf-encoded": 9, "conf-lower": 10, "bearer": 14}
LENGTH = {"exact": 0, "unset": 1, "longer": 2, "shorter": 3,
          "huge": 6, "over": 7, "zeros": 8}
READS = {"whole": 0, "bytes": 1, "seven": 2, "fail": 3}
USERS = {None: 0, "alice": 1, "bob@example.org": 2, "": 3}
HOSTS = {None: 0, "as.example": 1, "as.example:8443": 2}
SCRIPTS = {None: 0, "/oauth": 1, "": 2}
CLOCK = {0: 0, 61: 5, 3601: 8, 1209601: 12}
ACCEPT = {None: 0, "jwt": 1, "json": 2, "jwt-refused": 4}
NAMES = ["grant_type", "client_id", "client_secret", "code",
         "code_verifier", "redirect_uri", "scope", "refresh_token",
         "token", "token_type_hint", "response_type", "code_challenge",
         "code_challenge_method", "state", "nonce"]
VALUES = ["client_credentials", "authorization_code", "refresh_token",
          "password", "conf", "pub", "rs", "cc", "unknown",
          "$conf", "$rs", "$cc", "wrong-secret", "code", "token", "S256",
          "plain", "verifier", "challenge", "wrong-verifier", "redirect",
          "redirect-query", "evil", "read", "read write", "write admin",
          "openid read", "bogus", "read  write", "read read",
          "access_token", "xyz", ""]
for kind in ("access", "refresh", "code"):
    for i in range(4):
        VALUES.append("@%s%d" % (kind, i))
VALUES += ["~access", "~refresh", "~code", "-access", "-code"]


def value(v):
    return VALUES.index(v)


def request(method="POST", path="/token", ctype="form", auth=None,
            bearer=None, length="exact", reads="whole", user=None,
            host=None, script=None, https=0, derived=False, accept=None,
            clock=0,
            body=(), query=(), json_swap=False, tail=None):
    """One request; body and query are lists of (name, value[, flags])."""
    out = bytearray([METHODS[method], PATHS[path], TYPES[ctype],
                     AUTH[auth]])
    if auth == "bearer":
        out.append(value(bearer))
    out.append(LENGTH[length] | READS[reads] << 4)
    out += bytes([USERS[user], HOSTS[host], SCRIPTS[script],
                  https | (4 if derived else 0) | ACCEPT[accept] << 5,
                  CLOCK[clock],
                  len(body) | len(query) << 4,
                  (1 if json_swap else 0) | (2 if tail is not None else 0)])
    for items in (body, query):
        for item in items:
            name, val = item[0], item[1]
            flags = item[2] if len(item) > 2 else 0
            out += bytes([NAMES.index(name), value(val), flags])
        if items is body and tail is not None:
            out += bytes([len(tail)]) + tail
    return bytes(out)


AUTHZ = [("response_type", "code"), ("client_id", "pub"),
         ("code_challenge", "challenge"),
         ("code_challenge_method", "S256"), ("state", "xyz"),
         ("scope", "read write"), ("redirect_uri", "redirect")]
AUTHZ_CONF = [("response_type", "code"), ("client_id", "conf"),
              ("redirect_uri", "redirect")]
REDEEM = [("grant_type", "authorization_code"), ("code", "@code0"),
          ("client_id", "pub"), ("code_verifier", "verifier"),
          ("redirect_uri", "redirect")]
REDEEM_CONF = [("grant_type", "authorization_code"), ("code", "@code0"),
               ("redirect_uri", "redirect")]
CC_POST = [("grant_type", "client_credentials"), ("client_id", "conf"),
           ("client_secret", "$conf")]


def seeds():
    s = {}
    s["cc-post"] = request(body=CC_POST)
    s["cc-basic-scope"] = request(auth="conf", body=[
        ("grant_type", "client_credentials"), ("scope", "read write")])
    s["cc-json"] = request(ctype="json", body=CC_POST)
    s["cc-wrong-secret-basic"] = request(auth="conf-wrong", body=[
        ("grant_type", "client_credentials")])
    s["cc-two-methods"] = request(auth="conf", body=CC_POST)
    s["cc-audience-introspect"] = (
        request(auth="cc", body=[("grant_type", "client_credentials")]) +
        request(path="/introspect", auth="rs", body=[
            ("token", "@access0")]))
    s["token-repeated-param"] = request(body=CC_POST + [
        ("grant_type", "client_credentials")])
    s["token-unsupported-grant"] = request(auth="conf", body=[
        ("grant_type", "password")])
    s["token-text-plain"] = request(ctype="text/plain", body=CC_POST)
    s["token-too-large"] = request(length="over", body=CC_POST)
    s["token-short-body"] = request(length="longer", reads="bytes",
                                    body=CC_POST)
    s["token-read-fails"] = request(reads="fail", body=CC_POST + [
        ("scope", "read")])
    s["code-pkce-flow"] = (
        request(method="GET", path="/authorize", ctype=None,
                user="alice", query=AUTHZ) +
        request(body=REDEEM) +
        request(body=[("grant_type", "refresh_token"),
                      ("refresh_token", "@refresh0"),
                      ("client_id", "pub"), ("scope", "read")]) +
        request(path="/introspect", body=[("token", "@access0"),
                                          ("client_id", "pub")]) +
        request(path="/revoke", body=[("token", "@refresh0"),
                                      ("client_id", "pub")]) +
        request(path="/introspect", auth="rs", body=[
            ("token", "@access1")]))
    s["code-replayed"] = (
        request(method="GET", path="/authorize", ctype=None,
                user="alice", query=AUTHZ) +
        request(body=REDEEM) + request(body=REDEEM) +
        request(path="/introspect", auth="rs", body=[
            ("token", "@access0")]))
    s["code-confidential-derived"] = (
        request(method="GET", path="/authorize", ctype=None,
                user="bob@example.org", host="as.example:8443",
                script="/oauth", https=1, derived=True, query=AUTHZ_CONF) +
        request(auth="conf", body=REDEEM_CONF) +
        request(path="/introspect", auth="conf", derived=True,
                host="as.example", body=[("token", "@access0"),
                                         ("token_type_hint",
                                          "refresh_token")]))
    s["code-expired"] = (
        request(method="GET", path="/authorize", ctype=None,
                user="alice", query=AUTHZ) +
        request(clock=61, body=REDEEM))
    s["refresh-reuse"] = (
        request(method="GET", path="/authorize", ctype=None,
                user="alice", query=AUTHZ) +
        request(body=REDEEM) +
        request(body=[("grant_type", "refresh_token"),
                      ("refresh_token", "@refresh0"),
                      ("client_id", "pub")]) +
        request(body=[("grant_type", "refresh_token"),
                      ("refresh_token", "@refresh1"),
                      ("client_id", "pub")]) +
        request(path="/introspect", auth="rs", body=[
            ("token", "@refresh0")]))
    s["authorize-plain-pkce"] = request(
        method="GET", path="/authorize", ctype=None, user="alice",
        query=[("response_type", "code"), ("client_id", "pub"),
               ("code_challenge", "challenge"),
               ("code_challenge_method", "plain"),
               ("redirect_uri", "redirect")])
    s["authorize-no-user"] = request(method="GET", path="/authorize",
                                     ctype=None, query=AUTHZ)
    s["authorize-bad-redirect"] = request(
        method="GET", path="/authorize", ctype=None, user="alice",
        query=[("response_type", "code"), ("client_id", "pub"),
               ("redirect_uri", "evil")])
    s["authorize-query-redirect"] = request(
        method="GET", path="/authorize", ctype=None, user="alice",
        query=[("response_type", "token"), ("client_id", "pub"),
               ("redirect_uri", "redirect-query"), ("state", "xyz")])
    s["introspect-bearer"] = (
        request(body=CC_POST) +
        request(path="/introspect", auth="bearer", bearer="@access0",
                body=[("token", "@access0")]))
    s["introspect-other-client"] = (
        request(body=CC_POST) +
        request(path="/introspect", auth="cc", body=[
            ("token", "@access0")]))
    s["revoke-other-client"] = (
        request(body=CC_POST) +
        request(path="/revoke", auth="cc", body=[("token", "@access0")]) +
        request(path="/revoke", auth="conf", body=[
            ("token", "@access0")]) +
        request(path="/introspect", auth="conf", body=[
            ("token", "@access0")]))
    s["revoke-json-unknown"] = request(path="/revoke", ctype="json",
                                       auth="pub", body=[
                                           ("token", "~access")])
    s["openid-flow"] = (
        request(method="GET", path="/authorize", ctype=None,
                user="alice", query=[
                    ("response_type", "code"), ("client_id", "pub"),
                    ("code_challenge", "challenge"),
                    ("code_challenge_method", "S256"),
                    ("scope", "openid read"), ("nonce", "xyz"),
                    ("redirect_uri", "redirect")]) +
        request(body=REDEEM) +
        request(method="GET", path="/userinfo", ctype=None,
                auth="bearer", bearer="@access0") +
        request(path="/userinfo", auth="bearer", bearer="@access0") +
        request(body=[("grant_type", "refresh_token"),
                      ("refresh_token", "@refresh0"),
                      ("client_id", "pub")]) +
        request(method="GET", path="/jwks", ctype=None))
    s["jwt-access-token"] = (
        request(auth="cc", body=[("grant_type", "client_credentials")]) +
        request(path="/introspect", auth="rs", body=[
            ("token", "@access0")]) +
        request(path="/introspect", auth="bearer", bearer="@access0",
                body=[("token", "@access0")]) +
        request(path="/revoke", auth="cc", body=[("token", "@access0")]) +
        request(path="/introspect", auth="rs", body=[
            ("token", "~access")]))
    s["introspect-signed"] = (
        request(auth="cc", body=[("grant_type", "client_credentials")]) +
        request(path="/introspect", auth="rs", accept="jwt", body=[
            ("token", "@access0")]) +
        request(path="/introspect", auth="rs", accept="jwt-refused", body=[
            ("token", "@access0")]) +
        request(path="/introspect", auth="conf", accept="jwt", body=[
            ("token", "~access")]))
    s["metadata"] = (
        request(method="GET", path="/.well-known/oauth-authorization-server",
                ctype=None) +
        request(method="GET", path="/.well-known/openid-configuration",
                ctype=None, derived=True, host="as.example", https=1))
    s["other-routes"] = (
        request(method="GET", path="/jwks", ctype=None) +
        request(method="GET", path="/userinfo", ctype=None,
                auth="bearer", bearer="@access0") +
        request(method="PUT", path="/token") +
        request(method="GET", path="/nowhere", ctype=None) +
        request(method="POST", path=None))
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "request")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
