#!/bin/sh
# The responder's command line and start-up: options, exit statuses, and
# the CGI answers it gives when it cannot start.  Last line:
# "N passed, M failed".
#
# It also runs the responder in FastCGI mode on loopback TCP ports and unix
# sockets, driven by tests/cli/fcgi_client.py: a silent connection must not
# hold it, FCGI_WEB_SERVER_ADDRS must be applied, a --listen unix socket
# must be 0660, running out of descriptors must not end it, and it must run
# in its seccomp sandbox.  Those parts skip, with a line saying so, without
# python3.
#
# Environment: FCGI (default build/oauth.fcgi).

set -u
cd "$(dirname "$0")/../.." || exit 1
FCGI=${FCGI:-build/oauth.fcgi}
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauth-cli-XXXXXX") || exit 1
pids=
trap 'for p in $pids; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$tmp"' \
    EXIT INT TERM
WAIT_TENTHS=300		# bound on each wait below: 30 s, never a window
CLIENT=tests/cli/fcgi_client.py
META=/.well-known/oauth-authorization-server

check() {
	if [ "$1" = "$2" ]; then
		echo "ok - $3"
		passed=$((passed + 1))
	else
		echo "not ok - $3 (got '$1', want '$2')"
		failed=$((failed + 1))
	fi
}

# run ARGS...: exit status of the responder, stdin closed, output kept.
run() {
	"$FCGI" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	echo $?
}

check "$(run --help)" 0 "--help exits 0"
check "$(grep -c 'usage: oauth.fcgi' "$tmp/out")" 1 "--help prints usage"
check "$(run --version)" 0 "--version exits 0"
check "$(grep -c '^oauth.fcgi [0-9]' "$tmp/out")" 1 "--version prints name and version"
check "$(run --bogus)" 2 "an unknown option is a usage error"
check "$(run operand)" 2 "an operand is a usage error"
check "$(run --listen)" 2 "--listen without an address is a usage error"
check "$(run --listen :9000)" 2 "--listen with no host is refused"
check "$(grep -c 'host named' "$tmp/err")" 1 "the refusal says the host must be named"
check "$(run --listen 127.0.0.1:0)" 2 "port 0 is refused"
check "$(run --listen 127.0.0.1:65536)" 2 "port 65536 is refused"
check "$(run --listen 127.0.0.1:9x)" 2 "a port with letters is refused"
# Leading zeros keep the number in range but make the string longer than
# any port: it is taken as 9124, and the start-up goes on to the
# configuration (none here: exit 1), with no overflow on the way.
check "$(env -u OAUTH_DB -u OAUTH_CONFIG "$FCGI" \
    --listen 127.0.0.1:0000000000000009124 </dev/null >/dev/null \
    2>"$tmp/err"; echo $?)" 1 "a port with 15 leading zeros is port 9124"
check "$(grep -c 'OAUTH_DB' "$tmp/err")" 1 \
    "a port with leading zeros gets as far as the configuration"
long=$(printf '/tmp/%0200d' 0)
check "$(run --listen "$long")" 2 "a socket path too long for sockaddr_un is refused"
check "$(run --threads)" 2 "--threads without a count is a usage error"
for bad in 0 65 -1 4x "" 007; do
	check "$(run --threads "$bad")" 2 "--threads '$bad' is refused"
done
check "$(grep -c 'from 1 to 64' "$tmp/err")" 1 "the refusal says the range"

# CGI mode with no database configured: a JSON 500 for the client, the
# reason (naming OAUTH_DB) for the log, exit 1.
env -u OAUTH_DB -u OAUTH_CONFIG REQUEST_METHOD=GET \
    PATH_INFO=/.well-known/oauth-authorization-server "$FCGI" \
    </dev/null >"$tmp/out" 2>"$tmp/err"
status=$(head -n 1 "$tmp/out" | tr -d '\r')
check "$status" "Status: 500 Internal Server Error" "no OAUTH_DB: CGI 500"
check "$(grep -c '"error":"server_error"' "$tmp/out")" 1 "no OAUTH_DB: JSON server_error"
check "$(grep -c 'OAUTH_DB' "$tmp/err")" 1 "no OAUTH_DB: the log names OAUTH_DB"

# A database directory that does not exist: 500 or 503, never a crash.
status=$(env OAUTH_DB="$tmp/missing" REQUEST_METHOD=GET PATH_INFO=/token \
    "$FCGI" </dev/null 2>/dev/null | head -n 1 | tr -d '\r')
case $status in
"Status: 500"* | "Status: 503"*) got=ok ;;
*) got=$status ;;
esac
check "$got" ok "a missing database: CGI 500 or 503"

# A bad value in the configuration file: refused with the key named.
printf 'OAUTH_ACCESS_TTL=soon\n' >"$tmp/oauth.conf"
env OAUTH_DB="$tmp/db" OAUTH_CONFIG="$tmp/oauth.conf" REQUEST_METHOD=GET \
    PATH_INFO=/token "$FCGI" </dev/null >/dev/null 2>"$tmp/err"
check "$?" 1 "a bad OAUTH_ACCESS_TTL: exit 1"
check "$(grep -c 'OAUTH_ACCESS_TTL' "$tmp/err")" 1 "a bad OAUTH_ACCESS_TTL is named"

# ---- FastCGI mode ----------------------------------------------------------

if ! command -v python3 >/dev/null 2>&1; then
	echo "skipped: the FastCGI checks (python3 not installed)"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi
mkdir "$tmp/db"

# A free TCP port on 127.0.0.1, the kernel's pick.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_for CMD...: until CMD succeeds, at most WAIT_TENTHS tenths of a
# second.
wait_for() {
	_i=0
	while ! "$@"; do
		_i=$((_i + 1))
		[ $_i -ge $WAIT_TENTHS ] && return 1
		sleep 0.1
	done
}

listening() {
	case $1 in
	/*) [ -S "$1" ] ;;
	*) python3 -c 'import socket, sys
h, _, p = sys.argv[1].rpartition(":")
socket.create_connection((h.strip("[]"), int(p)), 1).close()' "$1" \
	    2>/dev/null ;;
	esac
}

# start ADDR [VAR=VALUE...]: the responder on --listen ADDR with the
# extra environment and the arguments in fcgi_args, stderr in
# $tmp/fcgi.err; its pid in fpid.
fcgi_args=
start() {
	_addr=$1
	shift
	# shellcheck disable=SC2086 # fcgi_args is words
	env OAUTH_DB="$tmp/db" "$@" "$FCGI" --listen "$_addr" $fcgi_args \
	    </dev/null >/dev/null 2>"$tmp/fcgi.err" &
	fpid=$!
	pids="$pids $fpid"
	wait_for listening "$_addr"
}

# stop: SIGTERM; the exit status in stopped.
stop() {
	kill -TERM "$fpid" 2>/dev/null
	wait "$fpid"
	stopped=$?
}

alive() {
	kill -0 "$fpid" 2>/dev/null
}

# get ADDR: the status line of a GET of the metadata, or "none".
get() {
	python3 "$CLIENT" --timeout $((WAIT_TENTHS / 10)) "$1" get "$META" \
	    >"$tmp/get.out" 2>/dev/null &&
	    head -n 1 "$tmp/get.out" | tr -d '\r' || echo none
}

# held_get DESC: a connection that says nothing held open on addr (its
# pid in hpid), then a GET that must be answered 200 all the same.
held_get() {
	rm -f "$tmp/held"
	python3 "$CLIENT" "$addr" hold "$tmp/held" &
	hpid=$!
	pids="$pids $hpid"
	wait_for [ -s "$tmp/held" ]
	check "$(get "$addr")" "Status: 200 OK" "$1"
}

port=$(free_port)
addr=127.0.0.1:$port

# The sandbox is on in a running FastCGI responder (2: a filter), off with
# OAUTH_SANDBOX=0, and a CGI run answers with it on.
start "$addr"
check "$(get "$addr")" "Status: 200 OK" "FastCGI over --listen answers"
check "$(sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/$fpid/status")" 2 \
    "a FastCGI responder runs under a seccomp filter"
stop
check "$stopped" 0 "it stops on SIGTERM with status 0"
start "$addr" OAUTH_SANDBOX=0
check "$(sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/$fpid/status")" 0 \
    "OAUTH_SANDBOX=0 leaves it off"
stop
check "$stopped" 0 "unsandboxed, it stops on SIGTERM with status 0"
check "$(env OAUTH_DB="$tmp/db" REQUEST_METHOD=GET PATH_INFO="$META" \
    SERVER_NAME=localhost SERVER_PORT=80 "$FCGI" </dev/null 2>/dev/null |
    head -n 1 | tr -d '\r')" "Status: 200 OK" "a sandboxed CGI run answers"

# The signing module (oauth-jose.so, fcgi/fcgi_jose.c): a CGI request that
# cannot sign never maps libcrypto; one to /token, asking for a signed
# introspection answer, or authenticating in the body (perhaps with an
# assertion), loads the module and libcrypto with it; so does a
# FastCGI process, at start.  Without the module a request is still
# answered, and the log says why signing cannot be done.
# cgi_libs PATH [VAR=VALUE...]: what the dynamic linker loaded for a CGI
# request to PATH, one file a line.
cgi_libs() {
	_path=$1
	shift
	env OAUTH_DB="$tmp/db" REQUEST_METHOD=POST PATH_INFO="$_path" \
	    LD_DEBUG=files "$@" "$FCGI" </dev/null 2>&1 >/dev/null |
	    sed -n 's/.*file=\([^ ]*\).*/\1/p' | sort -u
}
cgi_libs /introspect HTTP_AUTHORIZATION="Basic cnM6eA==" \
    >"$tmp/libs.introspect"
check "$(grep -c 'libcrypto\|oauth-jose' "$tmp/libs.introspect")" 0 \
    "a CGI introspection with Basic maps neither oauth-jose.so nor libcrypto"
check "$(grep -c 'libnettle' "$tmp/libs.introspect")" 1 \
    "... it has nettle's SHA-256"
cgi_libs /introspect HTTP_ACCEPT=application/token-introspection+jwt \
    >"$tmp/libs.jwt"
check "$(grep -c '^/.*/oauth-jose.so$' "$tmp/libs.jwt")" 1 \
    "a CGI introspection asking for a signed answer loads oauth-jose.so"
cgi_libs /introspect >"$tmp/libs.body"
check "$(grep -c '^/.*/oauth-jose.so$' "$tmp/libs.body")" 1 \
    "a CGI introspection without an Authorization header (its body may hold a client assertion) loads oauth-jose.so"
cgi_libs /token >"$tmp/libs.token"
check "$(grep -c '^/.*/oauth-jose.so$' "$tmp/libs.token")" 1 \
    "a CGI /token loads oauth-jose.so"
check "$(grep -c 'libcrypto' "$tmp/libs.token")" 1 "... and libcrypto"
mkdir "$tmp/alone"
cp "$FCGI" "$tmp/alone/oauth.fcgi"
status=$(env OAUTH_DB="$tmp/db" REQUEST_METHOD=POST PATH_INFO=/token \
    "$tmp/alone/oauth.fcgi" </dev/null 2>"$tmp/alone.err" | head -n 1 |
    tr -d '\r')
check "$status" "Status: 400 Bad Request" \
    "without the module a CGI /token is still answered (here 400)"
status=$(printf grant_type=client_credentials | env OAUTH_DB="$tmp/db" \
    REQUEST_METHOD=POST PATH_INFO=/token HTTP_DPOP=a.b.c \
    CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH=29 \
    "$tmp/alone/oauth.fcgi" 2>/dev/null | head -n 1 | tr -d '\r')
check "$status" "Status: 500 Internal Server Error" \
    "... and a DPoP proof it cannot check is the server's failure, not the client's"
check "$(grep -c 'cannot load the signing module oauth-jose.so' \
    "$tmp/alone.err")" 1 "... and the log says the module is missing"
# A module of another version (its table's ABI number is not the
# program's) is refused, not called.
if command -v cc >/dev/null 2>&1; then
	cat >"$tmp/other.c" <<'EOF_C'
struct other_ops { unsigned abi; void *fn[4]; };
static const struct other_ops other = { 999, { 0, 0, 0, 0 } };
const struct other_ops *jose_module_ops(void) { return &other; }
EOF_C
	cc -shared -fPIC -o "$tmp/alone/oauth-jose.so" "$tmp/other.c"
	status=$(env OAUTH_DB="$tmp/db" REQUEST_METHOD=POST PATH_INFO=/token \
	    "$tmp/alone/oauth.fcgi" </dev/null 2>"$tmp/other.err" |
	    head -n 1 | tr -d '\r')
	check "$status" "Status: 400 Bad Request" \
	    "with a module of another version a CGI /token is still answered"
	check "$(grep -c "oauth-jose.so is not this program's" \
	    "$tmp/other.err")" 1 "... and the log says the module is refused"
else
	echo "skipped: the check of a module of another version (no cc)"
fi

# --threads: one process, its workers and the committer, every thread
# under the filter; a silent connection holds one worker only; SIGTERM
# stops them all.
fcgi_args="--threads 4"
start "$addr"
fcgi_args=
check "$(get "$addr")" "Status: 200 OK" "with --threads 4 it answers"
check "$(grep -c '/oauth-jose.so$' "/proc/$fpid/maps" | awk '{ print ($1 > 0) }')" 1 \
    "a FastCGI process has the signing module loaded from its start"
check "$(ls "/proc/$fpid/task" | wc -l | tr -d ' ')" 6 \
    "--threads 4: the main thread, 4 workers and the committer"
check "$(cat /proc/"$fpid"/task/*/status | grep -c '^Seccomp:[[:space:]]*2')" 6 \
    "every thread runs under the seccomp filter"
held_get "with a silent connection held by one worker, another answers"
stop
check "$stopped" 0 "a threaded responder stops on SIGTERM with status 0"
kill -KILL "$hpid" 2>/dev/null

# One connection that says nothing must not hold the responder, which
# serves one connection at a time: the time limit drops it, then the
# waiting request is served.  The limit is the least allowed, 1 s; the
# request may wait WAIT_TENTHS (30 s) for it, so no window is timed.
start "$addr" OAUTH_CONN_TIMEOUT=1
held_get "with a silent connection open, a request is still answered"
kill -KILL "$hpid" 2>/dev/null
stop
check "$stopped" 0 "the responder stops after the silent connection"

# FCGI_WEB_SERVER_ADDRS: a peer not on the list is closed unanswered and
# the responder goes on; one on the list is served.
start "$addr" FCGI_WEB_SERVER_ADDRS=127.0.0.2
check "$(get "$addr")" none "a peer not on FCGI_WEB_SERVER_ADDRS is turned away"
alive
check "$?" 0 "the responder goes on after turning a peer away"
stop
start "$addr" FCGI_WEB_SERVER_ADDRS=127.0.0.2,127.0.0.1
check "$(get "$addr")" "Status: 200 OK" "a peer on FCGI_WEB_SERVER_ADDRS is served"
stop
# libfcgi cannot apply the list to IPv6 peers: refused rather than ignored.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null; then
	# (Bounded: a responder that took the socket would serve forever.)
	timeout $((WAIT_TENTHS / 10)) env OAUTH_DB="$tmp/db" \
	    FCGI_WEB_SERVER_ADDRS=127.0.0.1 "$FCGI" --listen "[::1]:$port" \
	    </dev/null >/dev/null 2>"$tmp/err"
	check "$?" 1 "FCGI_WEB_SERVER_ADDRS with an IPv6 --listen is refused"
	check "$(grep -c 'IPv6' "$tmp/err")" 1 "the refusal says why"
else
	echo "skipped: the IPv6 check (no ::1)"
fi

# A --listen unix socket is 0660 whatever the umask.
sock=$tmp/oauth.sock
(umask 000 && start "$sock" && stat -c %a "$sock" >"$tmp/mode" &&
    get "$sock" >"$tmp/unix.status" && stop)
check "$(cat "$tmp/mode")" 660 "a --listen unix socket is created 0660"
check "$(cat "$tmp/unix.status")" "Status: 200 OK" "FastCGI over a unix socket answers"

# The end of a connection.  A request read to the end of its FCGI_STDIN
# is closed at once: a byte sent after the answer meets a closed socket,
# where libfcgi's own close would still be reading, waiting for the web
# server to close first.  The answer goes out before the responder looks
# for FCGI_STDIN's closing record: a web server that sends that record
# only after the answer still gets the answer.  A request whose body the
# responder left unread (413) keeps libfcgi's close and reads the body
# the web server goes on sending, so the web server can send all of it
# (4 MiB) and then read the answer; a plain close would fail its
# sending.  And a web server that sends none of that body holds the
# responder only until libfcgi's close gives up, not until the body
# comes: the next request is answered.  (OAUTH_CONN_TIMEOUT=600, so that
# on TCP too only the close can end that wait within WAIT_TENTHS.)
for where in "$addr" "$sock"; do
	start "$where" OAUTH_MAX_BODY=1024 OAUTH_CONN_TIMEOUT=600
	check "$(python3 "$CLIENT" --timeout $((WAIT_TENTHS / 10)) "$where" \
	    after "$META" 2>"$tmp/after.err")" closed \
	    "$where: once a request is read to its end, the responder closes its socket at once"
	check "$(python3 "$CLIENT" --timeout $((WAIT_TENTHS / 10)) "$where" \
	    late "$META" 2>/dev/null | head -n 1 | tr -d '\r')" \
	    "Status: 200 OK" \
	    "$where: the answer comes before FCGI_STDIN's closing record is sent"
	python3 "$CLIENT" --timeout $((WAIT_TENTHS / 10)) "$where" big 4194304 \
	    >"$tmp/big.out" 2>"$tmp/big.err"
	check "$?" 0 "$where: a body left unread (413) can still be sent whole"
	check "$(head -n 1 "$tmp/big.out" | tr -d '\r')" \
	    "Status: 413 Content Too Large" "$where: ... and its 413 is read after it"
	rm -f "$tmp/unread"
	python3 "$CLIENT" --timeout $((WAIT_TENTHS / 10)) "$where" unread \
	    "$tmp/unread" 2>/dev/null &
	upid=$!
	pids="$pids $upid"
	wait_for [ -s "$tmp/unread" ]
	check "$(tr -d '\r' <"$tmp/unread")" "Status: 413 Content Too Large" \
	    "$where: a 413 is answered before any of its body is sent"
	check "$(get "$where")" "Status: 200 OK" \
	    "$where: with that body never sent, the next request is answered"
	kill -KILL "$upid" 2>/dev/null
	stop
done

# Out of descriptors, accept(2) fails with EMFILE: the responder waits and
# retries, and serves the request once descriptors can be had again.  The
# limit is set on the running process to its lowest free descriptor.
if command -v prlimit >/dev/null 2>&1; then
	start "$addr"
	n=0
	while [ -e "/proc/$fpid/fd/$n" ]; do
		n=$((n + 1))
	done
	prlimit --pid "$fpid" --nofile="$n:"
	get "$addr" >"$tmp/emfile.status" &
	gpid=$!
	pids="$pids $gpid"
	wait_for grep -q 'Too many open files; retrying' "$tmp/fcgi.err"
	check "$?" 0 "EMFILE on accept is logged as retried"
	alive
	check "$?" 0 "the responder lives on through EMFILE"
	prlimit --pid "$fpid" --nofile=1024:
	wait "$gpid"
	check "$(cat "$tmp/emfile.status")" "Status: 200 OK" \
	    "once descriptors are free the waiting request is answered"
	stop
	check "$stopped" 0 "it stops on SIGTERM after EMFILE"
else
	echo "skipped: the EMFILE check (prlimit not installed)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
