#!/usr/bin/env python3
"""A FastCGI client for the responder's tests, no web server needed.

  fcgi_client.py ADDR get PATH      one GET request; prints the CGI response
                                    (Status line, headers, body) and exits 0,
                                    or exits 1 when the connection is closed
                                    or times out before FCGI_END_REQUEST
  fcgi_client.py ADDR hold FILE     connect, send nothing, write "connected"
                                    to FILE, and hold the connection open
                                    until killed
  fcgi_client.py ADDR after PATH    one GET request, read to the responder's
                                    end of the stream; then a byte sent every
                                    0.1 s, 50 at most: prints "closed" when a
                                    send fails (the responder closed its
                                    socket), "open" when all went through
                                    (it still reads, as libfcgi's lingering
                                    close does)
  fcgi_client.py ADDR big SIZE      a POST to /token announcing and sending a
                                    body of SIZE bytes, the whole body sent
                                    while the response is read; prints the
                                    Status line, or exits 1 when sending
                                    failed (the responder closed without
                                    reading what it had left unread)
  fcgi_client.py ADDR late PATH     one GET request whose closing FCGI_STDIN
                                    record is sent only once the answer has
                                    come; prints the answer, or exits 1 when
                                    none comes
  fcgi_client.py ADDR unread FILE   a POST to /token announcing a body of
                                    4 MiB and sending none of it; writes the
                                    answer's Status line to FILE once it has
                                    come, then holds the connection open,
                                    silent, until killed

ADDR is HOST:PORT (127.0.0.1:9000, [::1]:9000) or a unix socket path.
--timeout SECONDS bounds each wait of get (default 30).
"""
import argparse
import socket
import struct
import sys
import time

FCGI_BEGIN_REQUEST = 1
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_RESPONDER = 1


def connect(addr, timeout):
    """A socket connected to ADDR."""
    if addr.startswith("/") or addr.startswith("."):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = addr
    else:
        host, _, port = addr.rpartition(":")
        host = host.strip("[]")
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        target = (host, int(port))
    s.settimeout(timeout)
    s.connect(target)
    return s


def record(rtype, content, req_id=1):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBB", 1, rtype, req_id, len(content), pad, 0) + \
        content + b"\0" * pad


def pair(name, value):
    out = b""
    for n in (len(name), len(value)):
        out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return out + name + value


def begin(params):
    """BEGIN_REQUEST and the PARAMS stream of one request."""
    base = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "GATEWAY_INTERFACE": "CGI/1.1",
    }
    base.update(params)
    body = b"".join(pair(k.encode(), v.encode()) for k, v in base.items())
    return record(FCGI_BEGIN_REQUEST,
                  struct.pack(">HB5x", FCGI_RESPONDER, 0)) + \
        record(FCGI_PARAMS, body) + record(FCGI_PARAMS, b"")


def response(s):
    """The STDOUT of the response read from s up to FCGI_END_REQUEST, or
    None when the connection ends or times out first."""
    data = b""
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionError):
            return None
        if not chunk:
            return None
        data += chunk
        while len(data) >= 8:
            _, rtype, _, clen, plen, _ = struct.unpack(">BBHHBB", data[:8])
            if len(data) < 8 + clen + plen:
                break
            content = data[8:8 + clen]
            data = data[8 + clen + plen:]
            if rtype == FCGI_STDOUT:
                out += content
            elif rtype == FCGI_END_REQUEST:
                return out


def token_post(size):
    """The start of a POST to /token announcing a body of SIZE bytes."""
    return begin({"REQUEST_METHOD": "POST", "PATH_INFO": "/token",
                  "CONTENT_TYPE": "application/x-www-form-urlencoded",
                  "CONTENT_LENGTH": str(size)})


def show(out):
    """Prints the answer OUT and returns 0; 1 when none came (None)."""
    if out is None:
        return 1
    sys.stdout.write(out.decode("utf-8", "replace"))
    return 0


def get(addr, path, timeout):
    s = connect(addr, timeout)
    s.sendall(begin({"PATH_INFO": path}) + record(FCGI_STDIN, b""))
    return show(response(s))


def after(addr, path, timeout):
    s = connect(addr, timeout)
    s.sendall(begin({"PATH_INFO": path}) + record(FCGI_STDIN, b""))
    if response(s) is None:
        return 1
    try:
        while s.recv(65536):
            pass
    except (socket.timeout, ConnectionError):
        return 1
    for _ in range(50):
        try:
            s.send(b"x")
        except OSError:
            print("closed")
            return 0
        time.sleep(0.1)
    print("open")
    return 0


def big(addr, size, timeout):
    s = connect(addr, timeout)
    s.sendall(token_post(size))
    chunk = record(FCGI_STDIN, b"a" * 32768)
    sent = 0
    try:
        while sent < size:
            n = min(32768, size - sent)
            s.sendall(chunk if n == 32768 else record(FCGI_STDIN, b"a" * n))
            sent += n
        s.sendall(record(FCGI_STDIN, b""))
    except OSError as e:
        print("fcgi_client: sending the body: %s" % e, file=sys.stderr)
        return 1
    return show(response(s))


def late(addr, path, timeout):
    s = connect(addr, timeout)
    s.sendall(begin({"PATH_INFO": path}))
    out = response(s)
    if out is not None:
        s.sendall(record(FCGI_STDIN, b""))
    return show(out)


def unread(addr, flag, timeout):
    s = connect(addr, timeout)
    s.sendall(token_post(4 * 1024 * 1024))
    out = response(s)
    if out is None:
        return 1
    with open(flag, "w") as f:
        f.write(out.decode("utf-8", "replace").split("\r\n")[0] + "\n")
    while True:
        time.sleep(60)


def hold(addr, flag):
    s = connect(addr, 30)
    with open(flag, "w") as f:
        f.write("connected\n")
    while True:
        time.sleep(60)
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("addr")
    ap.add_argument("what",
                    choices=["get", "hold", "after", "big", "late", "unread"])
    ap.add_argument("arg")
    a = ap.parse_args()
    try:
        if a.what == "get":
            return get(a.addr, a.arg, a.timeout)
        if a.what == "after":
            return after(a.addr, a.arg, a.timeout)
        if a.what == "big":
            return big(a.addr, int(a.arg), a.timeout)
        if a.what == "late":
            return late(a.addr, a.arg, a.timeout)
        if a.what == "unread":
            return unread(a.addr, a.arg, a.timeout)
        return hold(a.addr, a.arg)
    except OSError as e:
        print("fcgi_client: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
