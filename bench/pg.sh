#!/bin/sh
# LMDB and PostgreSQL through the same web server, in one run:
#   1. wrk against lighttpd (the shipped etc/lighttpd configuration, two
#      oauth.fcgi responders) on 127.0.0.1: token issuance
#      (client_credentials, client_secret_basic) and introspection, with
#      LMDB under OAUTH_DB_SYNC=full and none, and with PostgreSQL on a
#      unix socket under synchronous_commit=on (the default) and off;
#   2. round trips to PostgreSQL per request, counted: strace on both
#      responders while BENCH_PG_COUNT requests go through lighttpd one
#      after another (bench/pg_trace.py reads the trace), and the calls
#      pg_stat_statements recorded for the same requests;
#   3. oauth.fcgi as a CGI program, one process per request, BENCH_PG_CGI
#      times each, LMDB against PostgreSQL (a connection per request).
#
#   make BUILD=build/bench-pg all build/bench-pg/bench/bench_handlers
#   BUILD=build/bench-pg sh bench/pg.sh
#
# Settings: BUILD (relative to the top of the tree, as bench/lib.sh wants
# it; default build), BENCH_SECONDS (each wrk load, 10),
# BENCH_CONNECTIONS (16), BENCH_PG_COUNT (requests traced, 200),
# BENCH_PG_CGI (CGI runs of each load, 100), BENCH_PG_KEEP=1 (keep the
# temporary directory and its logs).  The PostgreSQL server is the tests'
# own (tests/lib_pg.sh): a new cluster in the temporary directory,
# listening on a unix socket there and nowhere else.  Everything started
# here is stopped when the script ends, on Ctrl-C too.  Results go to
# standard output, the summary last as a Markdown table; bench/README.md
# records a run.

set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
# shellcheck source=tests/lib_pg.sh
. tests/lib_pg.sh

BUILD=${BUILD:-build}
export BUILD
COUNT=${BENCH_PG_COUNT:-200}
CGI=${BENCH_PG_CGI:-100}

for tool in wrk lighttpd strace curl python3 pgrep; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "bench/pg.sh: $tool is not installed" >&2
		exit 1
	fi
done
for f in "$BUILD/oauth.fcgi" "$BUILD/bench/bench_handlers"; do
	if [ ! -x "$f" ]; then
		echo "bench/pg.sh: no $f: make BUILD=$BUILD all $BUILD/bench/bench_handlers" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauth-bench-pg-XXXXXX") || exit 1
bench_lighttpd_pid=
strace_pid=
cleanup() {
	if [ -n "$strace_pid" ]; then
		kill "$strace_pid" 2>/dev/null
		wait "$strace_pid" 2>/dev/null
	fi
	bench_stop "$bench_lighttpd_pid"
	pg_stop
	if [ "${BENCH_PG_KEEP:-0}" = 1 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM PIPE

table=$tmp/table
: >"$table"
tck=$(getconf CLK_TCK)

# The server's processes: the postmaster and its children, the backends
# of the responders' connections among them.
pg_pids() {
	_pm=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null)
	[ -n "$_pm" ] || return 0
	echo "$_pm" $(pgrep -P "$_pm")
}

# Sets web_pids: lighttpd and its responders, waiting up to 10 s for two.
web_pids() {
	_i=0
	while [ "$(pgrep -P "$bench_lighttpd_pid" | wc -l)" -lt 2 ] &&
	    [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	responders=$(pgrep -P "$bench_lighttpd_pid" | tr '\n' ' ')
	web_pids="$bench_lighttpd_pid $responders"
}

# load LABEL DB DURABILITY PATH BODY PG: one wrk load through lighttpd, and
# the server CPU it took (lighttpd and the responders, and with PG=1 the
# PostgreSQL processes) per request; appends a row to the table.
load() {
	_pids=$web_pids
	[ "$6" = 1 ] && _pids="$_pids $(pg_pids)"
	echo "-- $1: POST /oauth$4, $2, $3"
	# shellcheck disable=SC2086 # a list of process ids
	_t0=$(bench_cpu_ticks $_pids)
	bench_wrk "$5" "$BENCH_AUTH" "http://127.0.0.1:$port/oauth$4" \
	    "$tmp/wrk.out"
	# shellcheck disable=SC2086 # a list of process ids
	_t1=$(bench_cpu_ticks $_pids)
	_n=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
	_f=$(bench_figures "$tmp/wrk.out" | tr -d ' ')
	_cpu=$(awk -v t=$((_t1 - _t0)) -v n="${_n:-0}" -v h="$tck" \
	    'BEGIN { if (n > 0) printf "%.0f", t / h * 1e6 / n; else print "-" }')
	echo "server CPU per request: $_cpu us"
	printf '%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$_f" "$_cpu" >>"$table"
}

# cgi_loop LABEL PROGRAM DB PATH BODY: PROGRAM as a CGI program,
# BENCH_PG_CGI runs one after another (Python's subprocess: one fork and
# exec each, no shell in between), each bounded to 10 s; appends
# "LABEL|ms each|requests/s|not 200" to $tmp/cgi-runs.  With PROGRAM
# /bin/true it is the cost of starting a process.
cgi_loop() {
	timeout 300 python3 - "$@" "$BENCH_AUTH" "$CGI" <<'EOF' \
	    >>"$tmp/cgi-runs"
import os, subprocess, sys, time
label, prog, db, path, body, auth, n = sys.argv[1:8]
env = dict(os.environ, REQUEST_METHOD="POST", PATH_INFO=path,
           CONTENT_TYPE="application/x-www-form-urlencoded",
           CONTENT_LENGTH=str(len(body)), HTTP_AUTHORIZATION="Basic " + auth,
           HTTP_HOST="127.0.0.1", OAUTH_DB=db, OAUTH_DB_SYNC="none")
bad = 0
t0 = time.monotonic()
for _ in range(int(n)):
    r = subprocess.run([prog], input=body.encode(), env=env,
                       stdout=subprocess.PIPE, timeout=10)
    bad += not r.stdout.startswith(b"Status: 200")
t = time.monotonic() - t0
print("%s|%.2f|%.0f|%s" % (label, t * 1e3 / int(n), int(n) / t,
                           "-" if prog == "/bin/true" else bad))
EOF
	tail -n 1 "$tmp/cgi-runs" | awk -F'|' '{
	    printf "%s: %s ms each, %s requests/s, %s not 200\n", $1, $2, $3, $4 }'
}

# cgi_trace LABEL PATH BODY: one CGI run on PostgreSQL under strace; the
# round trips it made, the connection's set-up included.
cgi_trace() {
	rm -f "$tmp"/cgitrace.*
	printf '%s' "$3" | REQUEST_METHOD=POST PATH_INFO="$2" \
	    CONTENT_TYPE=application/x-www-form-urlencoded \
	    CONTENT_LENGTH=${#3} HTTP_AUTHORIZATION="Basic $BENCH_AUTH" \
	    HTTP_HOST=127.0.0.1 OAUTH_DB="$uri" timeout 20 \
	    strace -f -ttt -xx -yy -s 65535 -e trace=read,sendto,recvfrom \
	    -ff -o "$tmp/cgitrace" "$BUILD/oauth.fcgi" >/dev/null
	echo "-- $1 as CGI on PostgreSQL, round trips (strace):"
	python3 bench/pg_trace.py --cgi "$tmp"/cgitrace.* | tee "$tmp/rt.$1"
}

# trace_start: strace follows both responders from now on, into
# $tmp/st.PID, until trace_stop.
trace_start() {
	rm -f "$tmp"/st.*
	_args=
	for _p in $responders; do
		_args="$_args -p $_p"
	done
	# shellcheck disable=SC2086 # one -p PID pair per responder
	strace -ttt -xx -yy -s 65535 -e trace=read,sendto,recvfrom -ff \
	    -o "$tmp/st" $_args 2>"$tmp/strace.log" &
	strace_pid=$!
	_i=0
	while [ "$(grep -c attached "$tmp/strace.log")" -lt 2 ] &&
	    [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

trace_stop() {
	kill "$strace_pid"
	wait "$strace_pid" 2>/dev/null
	strace_pid=
}

# trace LABEL PATH BODY: BENCH_PG_COUNT requests, one after another on one
# keep-alive connection, while pg_stat_statements counts the statements;
# prints those, and keeps the times the requests began and ended in
# $tmp/when.LABEL for bench/pg_trace.py.
trace() {
	pg_psql "$uri" "SELECT pg_stat_statements_reset()" >/dev/null
	_since=$(date +%s.%N)
	_bad=$(timeout 120 python3 - "$port" "$2" "$3" "$BENCH_AUTH" "$COUNT" <<'EOF'
import http.client, sys
port, path, body, auth, n = sys.argv[1:6]
c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
bad = 0
for _ in range(int(n)):
    c.request("POST", "/oauth" + path, body, {
        "Authorization": "Basic " + auth,
        "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    r.read()
    bad += r.status != 200
print(bad)
EOF
)
	echo "$_since $(date +%s.%N)" >"$tmp/when.$1"
	echo "-- $1: $COUNT requests through lighttpd, ${_bad:-?} not 200"
	echo "pg_stat_statements, calls per request:"
	pg_psql "$uri" "SELECT round(calls::numeric / $COUNT, 2) || ' ' ||
	    regexp_replace(left(query, 70), '\\s+', ' ', 'g')
	    FROM pg_stat_statements
	    WHERE query NOT LIKE '%pg_stat_statements%'
	    ORDER BY calls DESC, query" | sed 's/^/  /'
	pg_psql "$uri" "SELECT round(sum(calls)::numeric / $COUNT, 2)
	    FROM pg_stat_statements
	    WHERE query NOT LIKE '%pg_stat_statements%'" >"$tmp/stm.$1"
	echo "statements per request: $(cat "$tmp/stm.$1")"
}

# rt_count LABEL: the round trips of the requests trace LABEL sent.
rt_count() {
	read -r _s _u <"$tmp/when.$1"
	echo "-- $1 through lighttpd, round trips (strace):"
	python3 bench/pg_trace.py --since "$_s" --until "$_u" "$tmp"/st.* |
	    tee "$tmp/rt.$1"
}

# rt LABEL: the round trips per request counted for LABEL.
rt() {
	sed -n 's/.* per-request \(.*\)/\1/p' "$tmp/rt.$1" 2>/dev/null
}

echo "== $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(git describe --always --dirty 2>/dev/null)"
# What a flush of this disk costs now: 200 overwrites of 4 KiB with O_DSYNC
# (a WAL commit and an LMDB commit each wait for one or two of these).
dd if=/dev/zero of="$tmp/flush" bs=4096 count=200 2>/dev/null
dd if=/dev/zero of="$tmp/flush" bs=4096 count=200 oflag=dsync \
    conv=notrunc 2>&1 | awk '/copied/ {
	for (i = 1; i <= NF; i++) if ($i == "s," || $i == "s") s = $(i - 1)
	printf "disk: %.2f ms per O_DSYNC write of 4 KiB\n", s * 1000 / 200 }'

pg_start "$tmp" || exit 1
echo "PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{ print $3 }'), lighttpd $(lighttpd -v | sed -n 's/^lighttpd\/\([^ ]*\).*/\1/p'), $(wrk -v 2>&1 | awk 'NR == 1 { print $1, $2 }')"
uri=$(pg_createdb oauth) || exit 1
# Options in the URI replace those the responder gives libpq before it
# (store_pg_connect: statement, lock and idle timeouts, read committed),
# so the second URI repeats them beside synchronous_commit=off.
o="-c synchronous_commit=off -c statement_timeout=15000"
o="$o -c lock_timeout=10000 -c idle_in_transaction_session_timeout=60000"
o="$o -c default_transaction_isolation=read\\ committed"
uri_off="$uri&options=$(printf '%s' "$o" | sed -e 's/%/%25/g' -e 's/ /%20/g' \
    -e 's/=/%3D/g' -e 's/\\/%5C/g')"
echo "second URI: $(pg_psql "$uri_off" "SELECT current_setting('synchronous_commit') || ', ' || current_setting('statement_timeout') || ', ' || current_setting('default_transaction_isolation')")"

if ! token_lmdb=$(bench_fcgi_db "$tmp/db-lmdb") ||
    ! token_pg=$(bench_fcgi_db "$uri"); then
	echo "bench/pg.sh: no token from oauth.fcgi" >&2
	exit 1
fi

echo "== wrk through lighttpd + 2 oauth.fcgi, ${BENCH_CONNECTIONS:-16} connections, ${BENCH_SECONDS:-10}s each"
port=$(bench_port)
for conf in lmdb:full lmdb:none pg:on pg:off; do
	case $conf in
	lmdb:*) db=$tmp/db-lmdb sync=${conf#*:} pg=0 token=$token_lmdb
		name=LMDB what="OAUTH_DB_SYNC=$sync" ;;
	pg:on) db=$uri sync=full pg=1 token=$token_pg
		name=PostgreSQL what="synchronous_commit=on" ;;
	pg:off) db=$uri_off sync=full pg=1 token=$token_pg
		name=PostgreSQL what="synchronous_commit=off" ;;
	esac
	bench_lighttpd_start "$port" "$tmp/run-${conf#*:}-$pg" "$db" "$sync" ||
	    exit 1
	web_pids
	load token "$name" "$what" /token grant_type=client_credentials "$pg"
	load introspection "$name" "$what" /introspect "token=$token" "$pg"
	bench_stop "$bench_lighttpd_pid"
	bench_lighttpd_pid=
done

echo "== round trips to PostgreSQL per request"
# pg_stat_statements is loaded only now, so that it cost the loads nothing.
echo "shared_preload_libraries = 'pg_stat_statements'" \
    >>"$PG_DIR/data/postgresql.conf"
pg_stop_fast && pg_start_again || exit 1
pg_psql "$uri" "CREATE EXTENSION pg_stat_statements" || exit 1
bench_lighttpd_start "$port" "$tmp/run-trace" "$uri" full || exit 1
web_pids
trace_start
# Both responders prepare their statements first, under strace, so that
# bench/pg_trace.py learns their SQL: four connections at once reach both.
# Then nothing is prepared any more in what is counted.
BENCH_SECONDS=1 BENCH_CONNECTIONS=4 bench_wrk grant_type=client_credentials \
    "$BENCH_AUTH" "http://127.0.0.1:$port/oauth/token" >/dev/null
BENCH_SECONDS=1 BENCH_CONNECTIONS=4 bench_wrk "token=$token_pg" \
    "$BENCH_AUTH" "http://127.0.0.1:$port/oauth/introspect" >/dev/null
# wrk may leave a request with lighttpd when it stops: let it end first.
sleep 1
trace token /token grant_type=client_credentials
trace introspection /introspect "token=$token_pg"
trace_stop
bench_stop "$bench_lighttpd_pid"
bench_lighttpd_pid=
rt_count token
rt_count introspection

echo "== CGI: one process per request, $CGI runs each, one at a time"
: >"$tmp/cgi-runs"
cgi_loop "process start (/bin/true)" /bin/true "" /token x
cgi_loop "token, LMDB" "$BUILD/oauth.fcgi" "$tmp/db-lmdb" /token \
    grant_type=client_credentials
cgi_loop "token, PostgreSQL" "$BUILD/oauth.fcgi" "$uri" /token \
    grant_type=client_credentials
cgi_loop "introspection, LMDB" "$BUILD/oauth.fcgi" "$tmp/db-lmdb" \
    /introspect "token=$token_lmdb"
cgi_loop "introspection, PostgreSQL" "$BUILD/oauth.fcgi" "$uri" \
    /introspect "token=$token_pg"
cgi_trace cgi-token /token grant_type=client_credentials
cgi_trace cgi-introspection /introspect "token=$token_pg"

echo "== summary"
echo "| load | database | durability | requests/s | mean latency | statements per request | round trips per request | server CPU per request |"
echo "|---|---|---|---|---|---|---|---|"
while IFS='|' read -r l db what rps lat bad err cpu; do
	r="–" n="–"
	if [ "$db" = PostgreSQL ]; then
		r=$(rt "$l")
		n=$(cat "$tmp/stm.$l" 2>/dev/null)
	fi
	extra=
	[ "$bad" != 0 ] && extra=" ($bad non-2xx)"
	[ "$err" != 0 ] && extra="$extra ($err socket errors)"
	echo "| $l | $db | \`$what\` | $rps$extra | $lat | $n | $r | $cpu µs |"
done <"$table"
echo
echo "| CGI, one process per request | time per request | requests/s | round trips per request | not 200 |"
echo "|---|---|---|---|---|"
while IFS='|' read -r l ms rps bad; do
	case $l in
	token,\ PostgreSQL) r=$(rt cgi-token) ;;
	introspection,\ PostgreSQL) r=$(rt cgi-introspection) ;;
	*) r="–" ;;
	esac
	echo "| $l | $ms ms | $rps | $r | $bad |"
done <"$tmp/cgi-runs"
