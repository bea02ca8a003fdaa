"""HTTP client of bench/auth_lock.sh, Python 3 standard library only.

    auth_lock.py victim PORT ID SECRET COUNT SECONDS
        COUNT sequential client_credentials token requests for client ID,
        after a few that are not counted; prints one line,
        "n=N p50=MS p90=MS p99=MS max=MS errors=E", and exits 1 when none
        succeeded.
    auth_lock.py attack PORT PATH ID COUNT SECONDS
        Wrong-secret requests for client ID to PATH (/oauth/token or
        /oauth/introspect), one after another, until COUNT were sent,
        SECONDS passed or SIGTERM came; prints "sent=N statuses=..." then.

Each loop uses one keep-alive connection to 127.0.0.1:PORT, as a busy
client does, so that the figures measure the server rather than TCP
set-up; a connection the server closed is opened again.  Every request,
and every loop, is bounded in time.
"""

import base64
import collections
import http.client
import signal
import sys
import time

TIMEOUT = 10.0  # seconds for one exchange
WARMUP = 5  # victim requests not counted: connection, page cache
WRONG_SECRET = "wrong-secret-0123456789abcdefghijklmnopqr"


class Loop:
    """One keep-alive connection POSTing one form with Basic credentials."""

    def __init__(self, port, path, client_id, secret, body):
        self.port = port
        self.path = path
        self.body = body.encode()
        cred = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.headers = {
            "Authorization": "Basic " + cred,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        self.conn = None

    def post(self):
        """Returns the status, or 0 when the exchange failed."""
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=TIMEOUT)
            try:
                self.conn.request("POST", self.path, self.body, self.headers)
                resp = self.conn.getresponse()
                resp.read()
                if resp.will_close:
                    self.close()
                return resp.status
            except (OSError, http.client.HTTPException):
                # A keep-alive connection the server closed between two
                # requests fails on first use: retry once on a new one.
                self.close()
        return 0

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def percentile(sorted_ms, p):
    """Nearest-rank percentile of a sorted, non-empty list."""
    rank = max(1, -(-len(sorted_ms) * p // 100))
    return sorted_ms[int(rank) - 1]


def victim(port, client_id, secret, count, seconds):
    loop = Loop(port, "/oauth/token", client_id, secret,
                "grant_type=client_credentials")
    deadline = time.monotonic() + seconds
    for _ in range(WARMUP):
        loop.post()
    ms = []
    errors = 0
    while len(ms) + errors < count and time.monotonic() < deadline:
        t0 = time.perf_counter()
        status = loop.post()
        t1 = time.perf_counter()
        if status == 200:
            ms.append((t1 - t0) * 1000.0)
        else:
            errors += 1
    loop.close()
    if not ms:
        print(f"n=0 errors={errors}")
        return 1
    ms.sort()
    print("n=%d p50=%.1f p90=%.1f p99=%.1f max=%.1f errors=%d" % (
        len(ms), percentile(ms, 50), percentile(ms, 90), percentile(ms, 99),
        ms[-1], errors))
    return 0


def attack(port, path, client_id, count, seconds):
    body = "grant_type=client_credentials"
    if path.endswith("/introspect"):
        body = "token=not-a-token-0123456789abcdefghijklmnopqr"
    loop = Loop(port, path, client_id, WRONG_SECRET, body)
    statuses = collections.Counter()
    stop = []
    # SIGTERM is how the script ends a loop once the victim is done: let
    # the loop finish its request and report, rather than die silently.
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(signum))
    t0 = time.monotonic()
    deadline = t0 + seconds
    sent = 0
    while sent < count and not stop and time.monotonic() < deadline:
        statuses[loop.post()] += 1
        sent += 1
    loop.close()
    took = time.monotonic() - t0
    print("sent=%d in %.1fs (%.1f/s) statuses=%s" % (
        sent, took, sent / took if took > 0 else 0.0,
        ",".join(f"{k}:{v}" for k, v in sorted(statuses.items()))))
    return 0


def main(argv):
    try:
        if len(argv) == 7 and argv[1] == "victim":
            return victim(int(argv[2]), argv[3], argv[4], int(argv[5]),
                          float(argv[6]))
        if len(argv) == 7 and argv[1] == "attack":
            return attack(int(argv[2]), argv[3], argv[4], int(argv[5]),
                          float(argv[6]))
    except ValueError:
        pass
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
