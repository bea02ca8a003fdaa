#!/usr/bin/env python3
"""Round trips to PostgreSQL per request, from strace.

    pg_trace.py [--since EPOCH] [--until EPOCH] [--cgi] TRACE...

Each TRACE is the output of strace for one oauth.fcgi process, written with
-ttt (times), -xx (every byte in hex) and -yy (sockets named by kind):

    strace -ttt -xx -yy -s 65535 -e trace=read,sendto,recvfrom -o F -p PID

libpq talks to the server with sendto and recvfrom on a UNIX-STREAM socket
(a unix-socket connection); libfcgi reads and writes the FastCGI socket with
read and write, and syslog sends on a UNIX-DGRAM socket, so the sendto and
recvfrom calls on a stream socket are the database's alone.

A round trip is one sendto followed by a recvfrom before the next sendto:
what the process sent, then the wait for the answer.  A sendto that no
recvfrom follows (Terminate when a process exits) is no round trip.  In a
FastCGI process a request begins at the first read() after the last
database call (the process reads its next request from its socket), and
only requests whose first database call comes at or after --since (and
before --until) count.
With --cgi each trace is one request, the connection's set-up included.

The frontend messages of each sendto are decoded (PostgreSQL protocol 3:
a type byte and a length) and named: a prepared statement by the verb and
tables of the SQL its Parse message carried (prepared once per
connection, so the trace must include the first use), a simple query by
its first word.  Prints, for each distinct sequence of round trips, how
many requests had it and the mean time each round trip waited for its
answer (inflated by strace, but not on the server's side), then one
line: "requests N round-trips R per-request X".
"""

import re
import sys
from collections import Counter


def label(sql):
    """A statement named by its verb and tables: "SELECT oauth_clients"."""
    words = sql.split()
    if not words:
        return "?"
    tables = []
    for t in re.findall(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+(\w+)", sql, re.I):
        if t.upper() != "SET" and t not in tables:
            tables.append(t)
    out = " ".join([words[0].upper()] + ["+".join(tables)] if tables else
                   [words[0].upper()])
    if re.search(r"\bFOR\s+UPDATE\b", sql, re.I):
        out += " FOR UPDATE"
    return out


def hex_bytes(line):
    """The bytes of the first string argument of a strace -xx line."""
    m = re.search(r'"((?:\\x[0-9a-f]{2})*)"', line)
    if m is None:
        return b""
    return bytes.fromhex(m.group(1).replace("\\x", ""))


def cstring(b, i):
    """The NUL-terminated string at b[i:], and the index past its NUL."""
    j = b.find(b"\0", i)
    if j < 0:
        return b[i:].decode("latin-1"), len(b)
    return b[i:j].decode("latin-1"), j + 1


def parse(b):
    """The frontend messages of a buffer, as (type, body) pairs."""
    # A startup message has no type byte: a length, then protocol 3.0.
    if len(b) >= 8 and b[4:8] == b"\x00\x03\x00\x00":
        return [("startup", b"")]
    out = []
    i = 0
    while i + 5 <= len(b):
        length = int.from_bytes(b[i + 1:i + 5], "big")
        out.append((chr(b[i]), b[i + 5:i + 1 + length]))
        i += 1 + length
    return out


def prepared(b, names):
    """Adds to names what the Parse messages of buffer b prepare."""
    for kind, body in parse(b):
        if kind == "P":
            name, i = cstring(body, 0)
            if name:
                names[name] = label(cstring(body, i)[0])


def messages(b, names):
    """Names what a buffer of frontend messages carries."""
    out = []
    for kind, body in parse(b):
        if kind == "startup":
            out.append("connect")
        elif kind == "Q":
            out.append(label(cstring(body, 0)[0]).split()[0])
        elif kind == "P":
            name, i = cstring(body, 0)
            sql = label(cstring(body, i)[0])
            # The unnamed statement is run at once: no "prepare".
            out.append("prepare " + sql if name else sql.split()[0])
        elif kind == "B":
            name = cstring(body, cstring(body, 0)[1])[0]
            if name:
                out.append(names.get(name, name))
        elif kind == "X":
            out.append("terminate")
        elif kind == "p":
            out.append("password")
        # D(escribe), E(xecute), S(ync), H(flush): parts of the above.
    return out


def lines(path):
    """The (time, call, line) of each line of a trace."""
    with open(path, encoding="latin-1") as f:
        for line in f:
            t, _, rest = line.partition(" ")
            try:
                yield float(t), rest
            except ValueError:
                yield 0.0, line


def requests(path, names, since, until, cgi):
    """The requests of one trace: each a list of round trips, each a pair
    (what was sent, seconds from the first sendto to the first answer)."""
    reqs = []
    cur = []		# round trips of the request being read
    sent = None	# what the last sendto carried, until its answer
    sent_at = 0.0
    began = None	# when the request's first sendto came

    def end():
        if sent is not None and sent != ["terminate"]:
            cur.append((sent + ["(no answer)"], 0.0))
        if began is not None and since <= began < until:
            reqs.append(cur)

    for t, line in lines(path):
        if line.startswith("read(") and not cgi:
            if began is not None:
                end()
                cur, sent, began = [], None, None
        elif line.startswith("sendto(") and "UNIX-STREAM" in line:
            if began is None:
                began = t
            what = messages(hex_bytes(line), names)
            if sent is not None:
                sent += what	# sent again before any answer
            else:
                sent, sent_at = what, t
        elif (line.startswith("recvfrom(") and "UNIX-STREAM" in line and
              " = -1 " not in line):	# EAGAIN is no answer yet
            if sent is not None:
                cur.append((sent, t - sent_at))
                sent = None
    end()
    return reqs


def main():
    args = sys.argv[1:]
    since, until, cgi = 0.0, float("inf"), False
    while args and args[0].startswith("--"):
        if args[0] == "--since" and len(args) > 1:
            since = float(args[1])
            args = args[2:]
        elif args[0] == "--until" and len(args) > 1:
            until = float(args[1])
            args = args[2:]
        elif args[0] == "--cgi":
            cgi = True
            args = args[1:]
        else:
            break
    if not args:
        print("usage: pg_trace.py [--since EPOCH] [--until EPOCH] [--cgi] "
              "TRACE...",
              file=sys.stderr)
        return 2
    names = {}
    for path in args:
        for _, line in lines(path):
            if line.startswith("sendto(") and "UNIX-STREAM" in line:
                prepared(hex_bytes(line), names)
    seqs = Counter()
    waits = {}		# sequence -> summed wait of each round trip
    total = 0
    for path in args:
        for req in requests(path, names, since, until, cgi):
            seq = tuple(tuple(what) for what, _ in req)
            seqs[seq] += 1
            w = waits.setdefault(seq, [0.0] * len(seq))
            for i, (_, wait) in enumerate(req):
                w[i] += wait
            total += len(req)
    n = sum(seqs.values())
    for seq, count in seqs.most_common():
        print("%d x %d round trips: %s" % (count, len(seq), " ".join(
            "[" + ", ".join(rt) + "]" for rt in seq)))
        print("  mean wait of each (ms, the process under strace): %s" %
              " ".join("%.2f" % (w * 1e3 / count) for w in waits[seq]))
    print("requests %d round-trips %d per-request %s" % (
        n, total, "%.2f" % (total / n) if n else "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
