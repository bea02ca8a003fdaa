#!/usr/bin/python3
"""Mutual TLS (RFC 8705) through oauth.fcgi as CGI, the certificate given
as a web server gives it: SSL_CLIENT_CERT (PEM as Apache and lighttpd
export it, URL-encoded as nginx's $ssl_client_escaped_cert), with
SSL_CLIENT_VERIFY and SSL_CLIENT_S_DN.  The certificates are made here
with openssl: a CA, a client certificate it signed, a self-signed one.
tls_client_auth takes the CA-verified certificate of the registered
subject, self_signed_tls_client_auth the registered certificate itself;
the tokens carry cnf.x5t#S256 (introspection, JWT access tokens) and a
bound token is taken as Bearer only from the same certificate.  Refused:
no certificate, one the web server did not verify (for a subject), another
subject, another self-signed certificate, a secret from such a client, and
SSL_* sent as request headers (HTTP_SSL_CLIENT_*), which is no server's
word.  Every process runs at a pinned clock (OAUTH_TEST_NOW).

    FCGI=build/oauth.fcgi OAUTHCTL=build/oauthctl python3 \\
        tests/cli/test_mtls_cgi.py

Skips when openssl is missing.  Last line: N passed, M failed.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cgi_lib  # noqa: E402
from cgi_lib import SECRET, basic, cgi, check, ctl, form  # noqa: E402

SUBJECT = "CN=mtls-client,O=Example"


def openssl(*args, cwd):
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True,
                          timeout=60).returncode == 0


def make_certs(d):
    """A CA, a client certificate it signed, and a self-signed one."""
    ok = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
                 "-out", "ca.pem", "-days", "2", "-subj", "/CN=Test CA",
                 cwd=d)
    ok = ok and openssl("req", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                        "client.key", "-out", "client.csr", "-subj",
                        "/O=Example/CN=mtls-client", cwd=d)
    ok = ok and openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem",
                        "-CAkey", "ca.key", "-CAcreateserial", "-out",
                        "client.pem", "-days", "2", cwd=d)
    for name in ("self", "other"):
        ok = ok and openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                            f"{name}.key", "-out", f"{name}.pem", "-days",
                            "2", "-subj", f"/CN={name}", cwd=d)
    return ok


def x5t(pem_path):
    with open(pem_path) as f:
        pem = f.read()
    body = "".join(pem.split("-----")[2].split())
    der = base64.b64decode(body)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()) \
        .rstrip(b"=").decode()


def tls(pem_path, verify="SUCCESS", subject=None, escaped=False):
    with open(pem_path) as f:
        pem = f.read()
    env = {"SSL_CLIENT_CERT": quote(pem, safe="") if escaped else pem,
           "SSL_CLIENT_VERIFY": verify}
    if subject is not None:
        env["SSL_CLIENT_S_DN"] = subject
    return env


def main():
    if shutil.which("openssl") is None:
        print("skipped: openssl is missing")
        print("0 passed, 0 failed")
        return 0
    tmp = tempfile.mkdtemp(prefix="test_mtls_cgi.")
    db = os.path.join(tmp, "db")
    try:
        if not check("openssl makes a CA and three certificates",
                     make_certs(tmp)):
            return cgi_lib.finish()
        check("oauthctl init", ctl(db, "init").returncode == 0)
        check("client add --tls-subject",
              ctl(db, "client", "add", "dn", "--tls-subject", SUBJECT,
                  "--scope", "read", "--token-format", "jwt").returncode == 0)
        r = ctl(db, "client", "add", "self", "--tls-cert",
                os.path.join(tmp, "self.pem"), "--scope", "read", "--json")
        check("client add --tls-cert prints no secret",
              r.returncode == 0 and json.loads(r.stdout) ==
              {"client_id": "self"}, r.stdout + r.stderr)
        r = ctl(db, "client", "show", "self", "--json")
        shown = json.loads(r.stdout) if r.returncode == 0 else {}
        check("client show: self_signed_tls_client_auth and the thumbprint",
              shown.get("token_endpoint_auth_method") ==
              "self_signed_tls_client_auth" and
              shown.get("tls_client_certificate_x5t#S256") ==
              x5t(os.path.join(tmp, "self.pem")), r.stdout)
        check("a resource server", ctl(db, "client", "add", "rs", "--secret",
                                       SECRET, "--introspect").returncode == 0)
        check("client add --tls-subject with --secret: a usage error",
              ctl(db, "client", "add", "x", "--tls-subject", SUBJECT,
                  "--secret", SECRET).returncode == 2)
        check("client secret of a client of a certificate: refused",
              ctl(db, "client", "secret", "dn").returncode == 1)

        client_pem = os.path.join(tmp, "client.pem")
        cc = form(grant_type="client_credentials", client_id="dn")
        st, _, doc = cgi(db, "POST", "/token", cc,
                         headers=None, env=tls(client_pem, subject=SUBJECT))
        check("tls_client_auth: the CA-verified certificate of the subject",
              st == 200 and doc.get("token_type") == "Bearer", f"{st} {doc}")
        token = doc.get("access_token", "")
        claims = json.loads(base64.urlsafe_b64decode(
            token.split(".")[1] + "==")) if token.count(".") == 2 else {}
        check("... its JWT access token carries cnf.x5t#S256",
              claims.get("cnf") == {"x5t#S256": x5t(client_pem)}, f"{claims}")
        st, _, info = cgi(db, "POST", "/introspect", form(token=token),
                          headers={"Authorization": basic("rs", SECRET)})
        check("... introspection reports cnf.x5t#S256",
              info.get("active") is True and info.get("cnf") ==
              {"x5t#S256": x5t(client_pem)}, f"{info}")
        st, _, doc = cgi(db, "POST", "/token", cc,
                         env=tls(client_pem, subject=SUBJECT, escaped=True))
        check("... the certificate URL-encoded, as nginx passes it",
              st == 200, f"{st} {doc}")
        # The bound token as Bearer authorizes introspection only from
        # the certificate it is bound to.
        st, _, doc = cgi(db, "POST", "/introspect", form(token=token),
                         headers={"Authorization": "Bearer " + token},
                         env=tls(client_pem, subject=SUBJECT))
        check("the bound token as Bearer, with its certificate: taken",
              st == 200 and doc.get("active") is True, f"{st} {doc}")
        st, hdrs, doc = cgi(db, "POST", "/introspect", form(token=token),
                            headers={"Authorization": "Bearer " + token})
        check("the bound token as Bearer, without it: 401 invalid_token",
              st == 401 and doc.get("error") == "invalid_token", f"{st} {doc}")

        for desc, env, extra in (
                ("no certificate", {}, {}),
                ("one the web server did not verify",
                 tls(client_pem, verify="GENEROUS", subject=SUBJECT), {}),
                ("one that failed verification",
                 tls(client_pem, verify="FAILED:unknown CA",
                     subject=SUBJECT), {}),
                ("of another subject",
                 tls(client_pem, subject="CN=someone-else,O=Example"), {}),
                ("and a secret", tls(client_pem, subject=SUBJECT),
                 {"client_secret": SECRET}),
                ("that is no PEM", {"SSL_CLIENT_CERT": "garbage",
                                    "SSL_CLIENT_VERIFY": "SUCCESS",
                                    "SSL_CLIENT_S_DN": SUBJECT}, {})):
            st, _, doc = cgi(db, "POST", "/token", form(
                grant_type="client_credentials", client_id="dn", **extra),
                env=env)
            check(f"tls_client_auth with {desc}: invalid_client",
                  st == 401 and doc.get("error") == "invalid_client",
                  f"{st} {doc}")
        with open(client_pem) as f:
            pem = f.read()
        st, _, doc = cgi(db, "POST", "/token", cc, headers={
            "SSL_CLIENT_CERT": pem.replace("\n", " "),
            "SSL_CLIENT_VERIFY": "SUCCESS", "SSL_CLIENT_S_DN": SUBJECT})
        check("SSL_* as request headers (HTTP_SSL_*): invalid_client",
              st == 401 and doc.get("error") == "invalid_client",
              f"{st} {doc}")

        self_pem = os.path.join(tmp, "self.pem")
        scc = form(grant_type="client_credentials", client_id="self")
        for verify in ("GENEROUS", "FAILED:self-signed certificate",
                       "SUCCESS"):
            st, _, doc = cgi(db, "POST", "/token", scc,
                             env=tls(self_pem, verify=verify))
            check(f"self_signed_tls_client_auth, the registered certificate "
                  f"({verify}): a token", st == 200, f"{st} {doc}")
        st, _, info = cgi(db, "POST", "/introspect",
                          form(token=doc.get("access_token", "")),
                          headers={"Authorization": basic("rs", SECRET)})
        check("... bound to it", info.get("cnf") ==
              {"x5t#S256": x5t(self_pem)}, f"{info}")
        st, _, doc = cgi(db, "POST", "/token", scc,
                         env=tls(os.path.join(tmp, "other.pem"),
                                 verify="GENEROUS"))
        check("self_signed_tls_client_auth, another certificate: "
              "invalid_client", st == 401 and
              doc.get("error") == "invalid_client", f"{st} {doc}")
        st, _, doc = cgi(db, "POST", "/token", scc)
        check("self_signed_tls_client_auth without a certificate: "
              "invalid_client", st == 401, f"{st} {doc}")
        r = ctl(db, "check")
        check("oauthctl check passes", r.returncode == 0, r.stdout + r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cgi_lib.finish()


if __name__ == "__main__":
    sys.exit(main())
