#!/usr/bin/python3
"""The clients of tests/web/test_threads.sh: concurrent HTTP requests to
threaded oauth.fcgi responders behind a web server, and FastCGI requests
sent straight to a responder's socket.

    threads_load.py tokens BASE TOTAL CLIENTS FILE
    threads_load.py active BASE CLIENTS FILE
    threads_load.py coderace BASE ROUNDS RACERS
    threads_load.py refreshrace BASE ROUNDS RACERS
    threads_load.py stop BASE SOCKET PID WORKERS CLIENTS HELD

BASE is http://127.0.0.1:PORT/oauth.  Each command prints one "ok - ..."
or "not ok - ..." line per check (the suite counts them), "# ..." lines
with figures, and exits 0.  The secrets and the /authorize user are those
of tests/web/lib_server.sh, from the environment as tests/web/lib_nodes.py
reads them (NODES_SVC_SECRET, NODES_RS_SECRET, NODES_USER_NAME,
NODES_USER_PASS, NODES_REDIRECT); its check, note, basic, Reply and Conn
serve here too.  Every request has a timeout (NODES_HTTP_TIMEOUT, 10 s),
every loop a bound in count and in time.
"""

import base64
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The settings (NODES_*), the result lines and the HTTP client.
from lib_nodes import HTTP_TIMEOUT, SVC, USER, REDIRECT  # noqa: E402
from lib_nodes import check, note, basic, Reply, Conn  # noqa: E402
from lib_nodes import introspect_active  # noqa: E402

STOP_EXIT_BOUND = 10.0	# seconds a stopped responder has to exit
LOAD_BOUND = 120.0	# seconds any one command's load may run


def run_threads(count, target):
    """target(i) in count threads, all joined within LOAD_BOUND seconds;
    how many did not finish."""
    threads = [threading.Thread(target=target, args=(i,), daemon=True)
               for i in range(count)]
    for t in threads:
        t.start()
    end = time.monotonic() + LOAD_BOUND
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    return sum(1 for t in threads if t.is_alive())


def spread(base, total, clients, fn):
    """fn(conn, i) for i in 0..total-1 from clients threads, each with a
    connection of its own, all starting together; the results by i."""
    out = [None] * total
    lock = threading.Lock()
    todo = iter(range(total))
    barrier = threading.Barrier(clients)
    end = time.monotonic() + LOAD_BOUND

    def worker(_):
        c = Conn(base)
        try:
            barrier.wait(timeout=HTTP_TIMEOUT)
        except threading.BrokenBarrierError:
            pass
        while time.monotonic() < end:
            with lock:
                i = next(todo, None)
            if i is None:
                break
            out[i] = fn(c, i)
        c.close()

    hung = run_threads(clients, worker)
    if hung:
        note("%d of %d client threads did not finish" % (hung, clients))
    return out


# ---- tokens, active: many client_credentials tokens at once

def cmd_tokens(base, total, clients, path):
    start = time.monotonic()
    replies = spread(base, total, clients, lambda c, i: c.post(
        "/token", {"grant_type": "client_credentials", "scope": "read"},
        SVC))
    elapsed = time.monotonic() - start
    bad = ["request %d: %s" % (i, r) for i, r in enumerate(replies)
           if r is None or r.status != 200 or not r.get("access_token")]
    tokens = [r.get("access_token") for r in replies
              if r is not None and r.status == 200 and r.get("access_token")]
    note("%d token requests from %d clients in %.1f s" % (total, clients,
                                                         elapsed))
    check("%d client_credentials requests from %d concurrent clients: all "
          "200 (%d were not)" % (total, clients, len(bad)), not bad,
          "\n".join(bad[:10]))
    check("... with %d distinct access tokens" % len(set(tokens)),
          len(set(tokens)) == total)
    with open(path, "w") as f:
        for t in tokens:
            f.write(t + "\n")


def cmd_active(base, clients, path):
    with open(path) as f:
        tokens = [line.strip() for line in f if line.strip()]
    states = spread(base, len(tokens), clients,
                    lambda c, i: introspect_active(c, tokens[i]))
    bad = ["token %d: %s" % (i, s) for i, s in enumerate(states)
           if s is not True]
    check("each of the %d tokens introspects active afterwards (%d not)"
          % (len(tokens), len(bad)), tokens and not bad, "\n".join(bad[:10]))


# ---- races: one code, one refresh token, spent by many requests at once

def pkce():
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    v = b64(os.urandom(32))
    return v, b64(hashlib.sha256(v.encode()).digest())


def authorize(conn):
    """(code, verifier) for the public client pub, or (None, why)."""
    verifier, challenge = pkce()
    r = conn.request("GET", "/authorize", auth=USER, query={
        "response_type": "code", "client_id": "pub",
        "redirect_uri": REDIRECT, "scope": "read", "state": "s",
        "code_challenge_method": "S256", "code_challenge": challenge})
    loc = r.headers.get("location", "")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
    if r.status != 302 or "code" not in q:
        return None, str(r)
    return q["code"][0], verifier


def redeem_form(code, verifier):
    return {"grant_type": "authorization_code", "client_id": "pub",
            "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}


def race(base, racers, form):
    """racers POST /token form at once: each thread connects first, then
    all wait on one barrier and send together.  The Replies."""
    barrier = threading.Barrier(racers)
    out = [None] * racers

    def one(i):
        c = Conn(base)
        try:
            c.open()
        except OSError as e:
            out[i] = Reply(error=str(e))
        try:
            barrier.wait(timeout=HTTP_TIMEOUT)
        except threading.BrokenBarrierError:
            pass
        if out[i] is None:
            out[i] = c.post("/token", form)
        c.close()

    run_threads(racers, one)
    return [r if r is not None else Reply(error="thread hung") for r in out]


def judge(results):
    """(the winner's Reply or None, what was wrong or None)."""
    wins = [r for r in results if r.status == 200]
    bad = [r for r in results if r.status != 200 and
           (r.status != 400 or r.get("error") != "invalid_grant")]
    if len(wins) != 1 or bad:
        return None, "; ".join(str(r) for r in results)
    return wins[0], None


def cmd_coderace(base, rounds, racers):
    conn = Conn(base)
    bad_code, bad_race, bad_revoked = [], [], []
    for i in range(rounds):
        code, verifier = authorize(conn)
        if code is None:
            bad_code.append("round %d: %s" % (i, verifier))
            continue
        winner, why = judge(race(base, racers, redeem_form(code, verifier)))
        if winner is None:
            bad_race.append("round %d: %s" % (i, why))
            continue
        # RFC 6749 §4.1.2: the code presented again revokes what it issued.
        for what in ("access_token", "refresh_token"):
            a = introspect_active(conn, winner.get(what))
            if a is not False:
                bad_revoked.append("round %d: the winner's %s: %s"
                                   % (i, what, a))
    check("%d codes from /authorize (PKCE)" % rounds, not bad_code,
          "\n".join(bad_code[:10]))
    check("%d rounds of one code redeemed by %d requests at once: exactly "
          "one 200, %d x 400 invalid_grant" % (rounds - len(bad_code),
                                               racers, racers - 1),
          not bad_race, "\n".join(bad_race[:10]))
    check("after each round the winner's tokens are inactive (the replays "
          "revoke the grant)", not bad_revoked, "\n".join(bad_revoked[:10]))


def cmd_refreshrace(base, rounds, racers):
    conn = Conn(base)
    bad_setup, bad_race, bad_revoked = [], [], []
    for i in range(rounds):
        code, verifier = authorize(conn)
        r = conn.post("/token", redeem_form(code, verifier)) \
            if code is not None else None
        if r is None or r.status != 200 or not r.get("refresh_token"):
            bad_setup.append("round %d: %s" % (i, r or verifier))
            continue
        first = r.get("access_token")
        winner, why = judge(race(base, racers, {
            "grant_type": "refresh_token", "client_id": "pub",
            "refresh_token": r.get("refresh_token")}))
        if winner is None:
            bad_race.append("round %d: %s" % (i, why))
            continue
        # RFC 9700 §4.14.2, handlers/token_refresh.c: a rotated refresh
        # token presented again revokes the whole grant, the winner's new
        # tokens with it.
        for what, t in (("first access token", first),
                        ("winner's access token", winner.get("access_token")),
                        ("winner's refresh token",
                         winner.get("refresh_token"))):
            a = introspect_active(conn, t)
            if a is not False:
                bad_revoked.append("round %d: the %s: %s" % (i, what, a))
        r = conn.post("/token", {"grant_type": "refresh_token",
                                 "client_id": "pub",
                                 "refresh_token": winner.get("refresh_token")})
        if r.status != 400 or r.get("error") != "invalid_grant":
            bad_revoked.append("round %d: the winner's refresh token still "
                               "refreshes: %s" % (i, r))
    check("%d grants with a refresh token" % rounds, not bad_setup,
          "\n".join(bad_setup[:10]))
    check("%d rounds of one refresh token rotated by %d requests at once: "
          "exactly one 200, %d x 400 invalid_grant"
          % (rounds - len(bad_setup), racers, racers - 1), not bad_race,
          "\n".join(bad_race[:10]))
    check("after each round the grant's tokens are inactive and the "
          "winner's refresh token is refused (reuse revokes the grant)",
          not bad_revoked, "\n".join(bad_revoked[:10]))


# ---- stop: SIGTERM while requests are in flight

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, \
    FCGI_STDOUT = 1, 3, 4, 5, 6


def fcgi_record(kind, content, req_id=1):
    return struct.pack(">BBHHBB", 1, kind, req_id, len(content), 0, 0) + \
        content


def fcgi_pairs(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        for n in (len(k), len(v)):
            out += struct.pack("B", n) if n < 128 else \
                struct.pack(">I", n | 0x80000000)
        out += k + v
    return out


class Held:
    """A POST /token sent straight to the responder's FastCGI socket, its
    body cut in two: the responder cannot answer it before finish()."""

    BODY = b"grant_type=client_credentials&scope=read"

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(HTTP_TIMEOUT)
        self.s.connect(path)
        params = {
            "REQUEST_METHOD": "POST", "SCRIPT_NAME": "/oauth",
            "PATH_INFO": "/token", "REQUEST_URI": "/oauth/token",
            "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1",
            "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(self.BODY)),
            "HTTP_AUTHORIZATION": basic(SVC)}
        half = len(self.BODY) // 2
        self.rest = self.BODY[half:]
        self.s.sendall(
            fcgi_record(FCGI_BEGIN_REQUEST, struct.pack(">HB5x", 1, 0)) +
            fcgi_record(FCGI_PARAMS, fcgi_pairs(params)) +
            fcgi_record(FCGI_PARAMS, b"") +
            fcgi_record(FCGI_STDIN, self.BODY[:half]))

    def finish(self):
        """Sends the rest of the body; (HTTP status, JSON body) from the
        responder's FCGI_STDOUT, or (0, why)."""
        try:
            self.s.sendall(fcgi_record(FCGI_STDIN, self.rest) +
                           fcgi_record(FCGI_STDIN, b""))
            data = b""
            end = time.monotonic() + HTTP_TIMEOUT
            while time.monotonic() < end:
                chunk = self.s.recv(65536)
                if not chunk:
                    break
                data += chunk
            out, ended = b"", False
            while len(data) >= 8:
                _, kind, _, n, pad, _ = struct.unpack(">BBHHBB", data[:8])
                if kind == FCGI_STDOUT:
                    out += data[8:8 + n]
                elif kind == FCGI_END_REQUEST:
                    ended = True
                data = data[8 + n + pad:]
            head, _, body = out.partition(b"\r\n\r\n")
            status = 200
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"status:"):
                    status = int(line.split()[1])
            if not ended:
                return 0, "no FCGI_END_REQUEST; got %r" % out[:200]
            try:
                doc = json.loads(body.decode())
            except ValueError:
                doc = None
            return status, doc
        except (OSError, ValueError) as e:
            return 0, "%s: %s" % (type(e).__name__, e)
        finally:
            self.s.close()


def tasks(pid):
    try:
        return len(os.listdir("/proc/%d/task" % pid))
    except OSError:
        return 0


def running(pid):
    """Whether pid runs: neither gone nor a zombie awaiting wait."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def queued(sock):
    """How many connections wait on the listening socket sock, accepted by
    no one (its Recv-Q), or None when ss does not show it."""
    try:
        out = subprocess.run(["ss", "-Hxl", "src", sock], timeout=10,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 5 and f[4] == sock:
            return int(f[2])
    return None


def cmd_stop(base, sock, pid, workers, clients, held_n):
    """Load through the web server and held_n requests held open on the
    responder's own socket; then SIGTERM.  Every request the responder
    took must be answered, the held ones among them; only those it never
    accepted may fail; and it must exit within STOP_EXIT_BOUND seconds.

    A request a client sent just before the signal may still be on its way
    and reach the socket after the responder has stopped accepting, as one
    sent after it would: what sets the two kinds apart is not the clock
    but whether the responder accepted it.  So after the signal, once
    every idle worker has left, the requests still unanswered are counted
    against the connections waiting unaccepted on the socket (ss Recv-Q):
    when the two are equal, every unanswered request is one of those, and
    those are exactly the ones allowed to fail."""
    lock = threading.Lock()
    log = []		# (t_sent, Reply) through the web server
    busy = [None] * clients	# the t_sent of each client's open request
    quit_load = threading.Event()
    end = time.monotonic() + LOAD_BOUND

    def loader(i):
        c = Conn(base)
        n = 0
        while not quit_load.is_set() and time.monotonic() < end and \
                n < 20000:
            t = time.monotonic()
            with lock:
                busy[i] = t
            r = c.post("/token", {"grant_type": "client_credentials"}, SVC)
            with lock:
                busy[i] = None
                log.append((t, r))
            n += 1
        c.close()

    def answered():
        with lock:
            return len(log)

    def unanswered():
        with lock:
            return sum(1 for b in busy if b is not None)

    base_tasks = tasks(pid)
    try:
        held = [Held(sock) for _ in range(held_n)]
    except OSError as e:
        check("%d requests held open on %s" % (held_n, sock), False, e)
        return
    threads = [threading.Thread(target=loader, args=(i,), daemon=True)
               for i in range(clients)]
    for t in threads:
        t.start()
    # The held requests were sent before the load began, and a listening
    # socket hands out its connections in order: once any load request is
    # answered, each held one has a worker, which reads it up to the
    # missing half of its body and waits there, the stop signals blocked.
    until = time.monotonic() + 30
    while answered() < 100 and time.monotonic() < until:
        time.sleep(0.01)
    with lock:
        early_bad = [r for _, r in log if r.status != 200]
    check("load through the web server before the stop: %d answers, all 200"
          % answered(), answered() >= 100 and not early_bad,
          "\n".join(str(r) for r in early_bad[:5]))

    t_stop = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    # Every worker without a request leaves; those holding one stay,
    # beside the threads that are not workers.  Then nothing accepts, and
    # every request still open ends up waiting on the socket.
    want = base_tasks - workers + held_n
    waiting = None
    while running(pid) and time.monotonic() < t_stop + STOP_EXIT_BOUND:
        if tasks(pid) <= want:
            waiting = queued(sock)
            if waiting is not None and waiting == unanswered():
                break
        time.sleep(0.01)
    left = tasks(pid)
    open_now = unanswered()
    check("after SIGTERM the idle workers leave and the %d busy stay "
          "(threads %d -> %d), the responder still running" % (
              held_n, base_tasks, left), left <= want and running(pid))
    check("... and every request through the web server still open (%d) "
          "waits unaccepted on the socket (%s)" % (open_now, waiting),
          waiting is not None and waiting == open_now)
    quit_load.set()
    results = [h.finish() for h in held]
    bad = [str(r) for r in results
           if r[0] != 200 or not isinstance(r[1], dict) or
           not r[1].get("access_token")]
    check("the %d requests in flight at the stop are answered 200 with a "
          "token" % held_n, not bad, "\n".join(bad))

    while running(pid) and time.monotonic() < t_stop + STOP_EXIT_BOUND:
        time.sleep(0.02)
    took = time.monotonic() - t_stop
    check("the responder exits within %.0f s of SIGTERM (%.2f s)"
          % (STOP_EXIT_BOUND, took), not running(pid))
    hung = 0
    for t in threads:
        t.join(HTTP_TIMEOUT * 2)
        hung += t.is_alive()
    with lock:
        failed_reqs = [(t - t_stop, r) for t, r in log if r.status != 200]
        n_before = sum(1 for t, _ in log if t < t_stop)
    bad_kind = [r for _, r in failed_reqs if r.status != 502]
    early = [d for d, _ in failed_reqs if d < 0]
    note("through the web server: %d requests sent before the signal, %d "
         "after; %d not answered 200, of which %d sent before it (by up to "
         "%.1f ms)" % (n_before, len(log) - n_before, len(failed_reqs),
                       len(early), -min(early, default=0) * 1000))
    check("every request through the web server got 200 but the %s never "
          "accepted, which got the web server's 502 (%d failed, %d not "
          "with 502)" % (waiting, len(failed_reqs), len(bad_kind)),
          waiting is not None and len(failed_reqs) == waiting and
          not bad_kind and not hung,
          "\n".join("sent %+.1f ms: %s" % (d * 1000, r)
                    for d, r in failed_reqs[:10]))


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "tokens":
        cmd_tokens(args[0], int(args[1]), int(args[2]), args[3])
    elif cmd == "active":
        cmd_active(args[0], int(args[1]), args[2])
    elif cmd == "coderace":
        cmd_coderace(args[0], int(args[1]), int(args[2]))
    elif cmd == "refreshrace":
        cmd_refreshrace(args[0], int(args[1]), int(args[2]))
    elif cmd == "stop":
        cmd_stop(args[0], args[1], int(args[2]), int(args[3]), int(args[4]),
                 int(args[5]))
    else:
        print("not ok - threads_load.py: unknown command %s" % cmd)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
