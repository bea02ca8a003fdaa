#!/usr/bin/env python3
"""A FastCGI client for the responder's tests, no web server needed.

  fcgi_client.py ADDR get PATH      one GET request; prints the CGI response
                                    (Status line, headers, body) and exits 0,
                                    or exits 1 when the connection is closed
                                    or times out before FCGI_END_REQUEST
  fcgi_client.py ADDR hold FILE     connect, send nothing, write "connected"
                                    to FILE, and hold the connection open
                                    until killed

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


def get(addr, path, timeout):
    params = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "GATEWAY_INTERFACE": "CGI/1.1",
    }
    body = b"".join(pair(k.encode(), v.encode()) for k, v in params.items())
    s = connect(addr, timeout)
    s.sendall(record(FCGI_BEGIN_REQUEST,
                     struct.pack(">HB5x", FCGI_RESPONDER, 0)) +
              record(FCGI_PARAMS, body) + record(FCGI_PARAMS, b"") +
              record(FCGI_STDIN, b""))
    data = b""
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionError):
            return 1
        if not chunk:
            return 1
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
                sys.stdout.write(out.decode("utf-8", "replace"))
                return 0


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
    ap.add_argument("what", choices=["get", "hold"])
    ap.add_argument("arg")
    a = ap.parse_args()
    try:
        if a.what == "get":
            return get(a.addr, a.arg, a.timeout)
        return hold(a.addr, a.arg)
    except OSError as e:
        print("fcgi_client: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
