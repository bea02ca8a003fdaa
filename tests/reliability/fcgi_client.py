"""A small FastCGI client (the responder role, one request at a time over
one kept connection), enough to drive oauth.fcgi --listen for hundreds of
thousands of requests without a web server in between.  FastCGI 1.0:
records of an 8-byte header (version, type, request id, content length,
padding length), BEGIN_REQUEST with FCGI_KEEP_CONN, the CGI variables as
PARAMS, the body as STDIN, the answer as STDOUT until END_REQUEST.

Also the OAuth traffic the reliability suites share: the test clients, a
PKCE pair, and the requests built as CGI variables.
"""

import base64
import hashlib
import os
import socket
import struct
import urllib.parse

FCGI_VERSION = 1
FCGI_BEGIN_REQUEST = 1
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_STDERR = 7
FCGI_RESPONDER = 1
FCGI_KEEP_CONN = 1
RECORD_MAX = 65535          # content bytes one record carries
TIMEOUT = 30                # seconds for one exchange

# The clients of the test database (lib.sh: rel_setup_db).  Their secrets
# are generated ones, handed over in the environment: an operator's own
# secret is stored with PBKDF2, whose cost on every wrong secret would be
# what a long run measures.
SVC, SVC_SECRET = "svc", os.environ.get("REL_SVC_SECRET", "")
RS, RS_SECRET = "rs", os.environ.get("REL_RS_SECRET", "")
PUB = "pub"
REDIRECT = "https://app.example/cb"
USER = "alice"


class FcgiError(Exception):
    """The connection broke or the answer was not FastCGI."""


def _pair_len(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def encode_params(params):
    """The name-value pairs of a PARAMS stream (FastCGI 1.0 §3.4)."""
    out = bytearray()
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        out += _pair_len(len(k)) + _pair_len(len(v)) + k + v
    return bytes(out)


def _record(rtype, req_id, content=b""):
    pad = (8 - len(content) % 8) % 8
    return (struct.pack(">BBHHBx", FCGI_VERSION, rtype, req_id,
                        len(content), pad) + content + b"\0" * pad)


def _stream(rtype, req_id, data):
    out = bytearray()
    for i in range(0, len(data), RECORD_MAX):
        out += _record(rtype, req_id, data[i:i + RECORD_MAX])
    return bytes(out + _record(rtype, req_id))


class Connection:
    """One kept FastCGI connection to addr, a unix path or (host, port)."""

    def __init__(self, addr):
        if isinstance(addr, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(addr)
        self.buf = bytearray()
        self.req_id = 1

    def close(self):
        self.sock.close()

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise FcgiError("connection closed")
            self.buf += chunk
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def request(self, params, body=b""):
        """Runs one request; returns (status, headers dict, body bytes)."""
        rid = self.req_id
        self.req_id = self.req_id % 65535 + 1
        begin = struct.pack(">HB5x", FCGI_RESPONDER, FCGI_KEEP_CONN)
        self.sock.sendall(_record(FCGI_BEGIN_REQUEST, rid, begin) +
                          _stream(FCGI_PARAMS, rid, encode_params(params)) +
                          _stream(FCGI_STDIN, rid, body))
        out = bytearray()
        while True:
            ver, rtype, got, clen, pad = struct.unpack(">BBHHBx",
                                                       self._read(8))
            content = self._read(clen + pad)[:clen]
            if ver != FCGI_VERSION or got != rid:
                raise FcgiError("record of request %d, wanted %d" %
                                (got, rid))
            if rtype == FCGI_STDOUT:
                out += content
            elif rtype == FCGI_END_REQUEST:
                break
            elif rtype != FCGI_STDERR:
                raise FcgiError("unexpected record type %d" % rtype)
        return parse_cgi(bytes(out))


def parse_cgi(raw):
    """A CGI response: (status, {lower-case name: value}, body)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    headers = {}
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(headers.get("status", "200").split()[0])
    return status, headers, body


def cgi_params(method, path, body=b"", query="", extra=None):
    """The CGI variables of one request to the mount /oauth."""
    p = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "/oauth",
        "PATH_INFO": path,
        "REQUEST_URI": "/oauth" + path + ("?" + query if query else ""),
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
    }
    if body:
        p["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    if extra:
        p.update(extra)
    return p


def form(**kw):
    return urllib.parse.urlencode(kw).encode()


def pkce():
    """A verifier and its S256 challenge (RFC 7636 §4.1, §4.2)."""
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    v = b64(os.urandom(32))
    return v, b64(hashlib.sha256(v.encode()).digest())


def basic(user, secret):
    pair = "%s:%s" % (urllib.parse.quote(user, safe=""),
                      urllib.parse.quote(secret, safe=""))
    return "Basic " + base64.b64encode(pair.encode()).decode()
