#!/bin/sh
# PostgreSQL stopped and started again under load.  The test's own server
# (tests/lib_pg.sh), listening on its unix socket and on 127.0.0.1, and
# two lighttpd servers with mod_fastcgi spawning two oauth.fcgi responders
# each (etc/lighttpd/oauth-fastcgi.conf): node U whose OAUTH_DB reaches
# the database by the unix socket, node T by TCP.  LOAD_CLIENTS clients
# on U and LOAD_CLIENTS_TCP on T (tests/web/lib_nodes.py load) issue
# client_credentials tokens and introspect them, each at least
# LOAD_REQUESTS exchanges with a 10 s timeout, while the test stops
# PostgreSQL (pg_stop_fast: connections end), waits OUTAGE seconds and
# starts it again (pg_start_again); then the load runs out.  A second
# outage stops it at once instead (pg_stop, an immediate shutdown: no
# checkpoint, recovery from the WAL at the restart), as a crash of the
# database server would.  Checked, for both:
#
# - every answer is 200 or 503 with the JSON error temporarily_unavailable:
#   never a 500, a reset connection or no answer within the timeout, and
#   every 503 at once;
# - after the restart every client gets 200s again within 30 s;
# - every token answered with 200 introspects active afterwards, and is
#   in oauth_tokens (psql);
# - no connection is leaked; connections the server ends
#   (pg_terminate_backend) cost each responder one 503, then it reconnects;
# - a third lighttpd (node S, by TCP) started while the server is down
#   answers 503 temporarily_unavailable, and 200 once it is back;
# - the responders are the processes lighttpd started, or lighttpd's log
#   says why they were replaced; none died of a signal (a seccomp SIGSYS
#   while reconnecting among them);
# - as CGI, with the server down, a token request answers 503
#   temporarily_unavailable within CGI_TIMEOUT seconds, by either way of
#   reaching it, and 200 once it is back.
#
# The figures (503s during the outage, time to recover) are printed as
# "# " lines.  Skips, with a visible line, when PostgreSQL or lighttpd is
# missing.  Last line: "N passed, M failed".
#
# Environment: FCGI, OAUTHCTL (binaries, default build/), LOG_DIR,
# LOAD_CLIENTS (4), LOAD_CLIENTS_TCP (2), LOAD_REQUESTS (300), OUTAGE (2).

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_pg_faults
# Always a PostgreSQL server of the suite's own (lib_nodes.sh), never the
# one OAUTH_TEST_BACKEND or OAUTH_TEST_PG would give lib_server.sh: it
# stops and restarts the server.
OAUTH_TEST_BACKEND=lmdb
. tests/web/lib_server.sh
. tests/web/lib_nodes.sh

LOAD_CLIENTS=${LOAD_CLIENTS:-4}
LOAD_CLIENTS_TCP=${LOAD_CLIENTS_TCP:-2}
LOAD_REQUESTS=${LOAD_REQUESTS:-300}
OUTAGE=${OUTAGE:-2}
WARM_TIMEOUT=60		# seconds for the load to issue its first 200 tokens
LOAD_TIMEOUT=200	# seconds for the whole load (it bounds itself at 120)
CGI_TIMEOUT=10		# seconds for one CGI request
AFTER_KILL=12		# requests per node after the connections were ended

ws_need_common
ws_need_cmd lighttpd lighttpd
ws_need_build
nodes_init
ws_check "PostgreSQL listens on 127.0.0.1 too" nodes_pg_tcp

nodes_lighttpd U || ws_finish
unix_db=$WS_DB
WS_DB=$NODES_DB_TCP
nodes_lighttpd T || ws_finish
WS_DB=$unix_db
for n in U T; do
	ws_check "node $n: lighttpd runs two responders" \
	    [ "$(nodes_responders $n | wc -l)" -eq 2 ]
	eval "before_$n=\$(nodes_responders $n | sort | tr '\\n' ' ')"
done
echo "# node U (unix socket): $NODES_BASE_U, responders $before_U"
echo "# node T (TCP 127.0.0.1): $NODES_BASE_T, responders $before_T"

# cgi_token NAME DB: POST /token (client_credentials as svc) to the
# test's copy of oauth.fcgi run as a CGI program, as the worker user, on
# OAUTH_DB=DB; its output in run/NAME.cgi, the status in cgi_status, the
# error member in cgi_error, the seconds it took in cgi_secs.
cgi_token() {
	cgi_name=$1
	cg_body=grant_type=client_credentials
	printf '%s' "$cg_body" >"$ws_tmp/cgi.body"
	cg_auth=$(printf 'svc:%s' "$WS_SVC_SECRET" | base64 -w0)
	cg_t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	timeout "$CGI_TIMEOUT" env -i PATH=/usr/bin:/bin \
	    OAUTH_DB="$2" OAUTH_ISSUER="$NODES_ISSUER" \
	    GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 \
	    REQUEST_METHOD=POST SCRIPT_NAME=/oauth PATH_INFO=/token \
	    REQUEST_URI=/oauth/token HTTP_HOST=127.0.0.1 \
	    SERVER_NAME=127.0.0.1 SERVER_PORT=80 REMOTE_ADDR=127.0.0.1 \
	    CONTENT_TYPE=application/x-www-form-urlencoded \
	    CONTENT_LENGTH=${#cg_body} HTTP_AUTHORIZATION="Basic $cg_auth" \
	    $ws_runas "$WS_BIN/oauth.fcgi" <"$ws_tmp/cgi.body" \
	    >"$WS_RUN/$1.cgi" 2>"$WS_RUN/$1.cgi.err"
	cg_rc=$?
	cg_t1=$(date +%s.%N)
	cgi_secs=$(echo "$cg_t0 $cg_t1" | awk '{ printf "%.2f", $2 - $1 }')
	cgi_status=$(tr -d '\r' <"$WS_RUN/$1.cgi" |
	    sed -n 's/^Status: \([0-9]*\).*/\1/p' | head -n 1)
	[ $cg_rc -eq 124 ] && cgi_status=timeout
	cgi_error=$("$WS_PYTHON" -c 'import json, sys
head, sep, body = open(sys.argv[1], "rb").read().partition(b"\r\n\r\n")
print(json.loads(body).get("error") or "")' "$WS_RUN/$1.cgi" 2>/dev/null)
}

# cgi_issued: the last CGI answer was a token (no Status line: 200).
cgi_issued() {
	[ "${cgi_status:-200}" = 200 ] && [ -z "$cgi_error" ] &&
	    grep -q '"access_token"' "$WS_RUN/$cgi_name.cgi"
}

# cgi_refused: the last CGI answer was 503 temporarily_unavailable.
cgi_refused() {
	[ "$cgi_status" = 503 ] && [ "$cgi_error" = temporarily_unavailable ]
}

# cgi_case NAME DESC up|down: one CGI request on each way to the database.
cgi_case() {
	for cg_via in unix tcp; do
		cg_db=$NODES_DB
		[ $cg_via = tcp ] && cg_db=$NODES_DB_TCP
		cgi_token "$1-$cg_via" "$cg_db"
		if [ "$3" = up ]; then
			cg_desc="CGI by $cg_via, $2: 200 (${cgi_secs} s)"
			cg_check=cgi_issued
		else
			cg_desc="CGI by $cg_via, $2: 503 temporarily_unavailable within $CGI_TIMEOUT s (${cgi_secs} s)"
			cg_check=cgi_refused
		fi
		if $cg_check; then
			ws_ok "$cg_desc"
		else
			ws_notok "$cg_desc"
			sed 's/^/#   /' "$WS_RUN/$1-$cg_via.cgi" \
			    "$WS_RUN/$1-$cg_via.cgi.err"
		fi
	done
}

cgi_case cgi-up "PostgreSQL up" up

# mark NAME: the time, for lib_nodes.py, written whole (a rename) into
# the state directory of each load of this outage.
mark() {
	for st in $states; do
		date +%s.%N >"$st/.$1" && mv "$st/.$1" "$st/$1"
	done
}

# outage N fast|immediate HOOK: LOAD_CLIENTS clients on node U and
# LOAD_CLIENTS_TCP on node T (their records in state-N-U and state-N-T);
# once both have issued 200 tokens, PostgreSQL is stopped, with
# pg_stop_fast (connections end, everything flushed) or pg_stop
# (immediate: the server's processes quit at once, as in a crash, and the
# restart recovers from the WAL); HOOK runs, then OUTAGE seconds pass and
# the server starts again; the loads run out, and what they were
# answered is checked (lib_nodes.py verify).
outage() {
	on=$1 mode=$2 hook=$3
	states="$ws_tmp/state-$on-U $ws_tmp/state-$on-T"
	mkdir -p $states
	"$WS_PYTHON" tests/web/lib_nodes.py load "$NODES_BASE_U" \
	    "$LOAD_CLIENTS" "$LOAD_REQUESTS" "$ws_tmp/state-$on-U" \
	    >"$ws_tmp/load-$on-U.out" 2>&1 &
	load_U=$!
	"$WS_PYTHON" tests/web/lib_nodes.py load "$NODES_BASE_T" \
	    "$LOAD_CLIENTS_TCP" "$LOAD_REQUESTS" "$ws_tmp/state-$on-T" \
	    >"$ws_tmp/load-$on-T.out" 2>&1 &
	load_T=$!
	# Stopped at exit with the servers, should the test end before.
	ws_pids="$load_U $load_T $ws_pids"
	i=0
	while { [ ! -e "$ws_tmp/state-$on-U/warm" ] ||
	    [ ! -e "$ws_tmp/state-$on-T/warm" ]; } &&
	    ws_alive "$load_U" && ws_alive "$load_T" &&
	    [ $i -lt $((WARM_TIMEOUT * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	ws_check "outage $on: the loads issued 200 tokens each before the stop" \
	    [ -e "$ws_tmp/state-$on-U/warm" -a -e "$ws_tmp/state-$on-T/warm" ]
	mark stopping
	if [ "$mode" = fast ]; then
		ws_check "outage $on: PostgreSQL stops (pg_stop_fast) under the load" \
		    pg_stop_fast
	else
		ws_check "outage $on: PostgreSQL stops at once (pg_stop, immediate) under the load" \
		    pg_stop
	fi
	mark stopped
	$hook
	sleep "$OUTAGE"
	mark starting
	ws_check "outage $on: PostgreSQL starts again (pg_start_again)" \
	    pg_start_again
	mark restarted
	# The loads bound themselves (120 s, 60 s after the restart); this
	# is the backstop.
	i=0
	while { ws_alive "$load_U" || ws_alive "$load_T"; } &&
	    [ $i -lt $((LOAD_TIMEOUT * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	for n in U T; do
		eval "pid=\$load_$n"
		if ws_alive "$pid"; then
			kill -KILL "$pid" 2>/dev/null
			ws_notok "outage $on: the load on node $n ends within $LOAD_TIMEOUT s"
		else
			ws_ok "outage $on: the load on node $n ends within $LOAD_TIMEOUT s"
		fi
		wait "$pid" 2>/dev/null
	done
	for n in U T; do
		echo "# outage $on ($mode), node $n:"
		cat "$ws_tmp/load-$on-$n.out"
		eval "base=\$NODES_BASE_$n"
		nodes_py verify "$base" "$ws_tmp/state-$on-$n"
	done
}

# late_token: POST /token through node S; 0 when it answered 200.
late_token() {
	ws_http "$NODES_BASE_S/token" -u "svc:$WS_SVC_SECRET" \
	    -d grant_type=client_credentials
	[ "$ws_status" = 200 ]
}

# While the first outage lasts: CGI requests, and a node started while
# the database is away, whose responders open it lazily and must answer
# 503.
first_outage() {
	cgi_case cgi-down "PostgreSQL down" down
	WS_DB=$NODES_DB_TCP
	nodes_lighttpd S --no-wait
	WS_DB=$unix_db
	i=0
	late=
	while [ $i -lt 50 ] && ws_alive "$NODES_PID_S"; do
		late_token
		late="$ws_status $(ws_json error)"
		[ "$late" = "503 temporarily_unavailable" ] && break
		sleep 0.2
		i=$((i + 1))
	done
	ws_check "node S, started with PostgreSQL down, answers 503 temporarily_unavailable (${late:-nothing})" \
	    [ "$late" = "503 temporarily_unavailable" ]
	before_S=$(nodes_responders S | sort | tr '\n' ' ')
}

outage 1 fast first_outage

# Node S: 200 within 30 s (150 tries, 0.2 s apart).
i=0
while [ $i -lt 150 ] && ! late_token; do
	sleep 0.2
	i=$((i + 1))
done
echo "# node S: tried again after the loads ended: 200 after $i retries"
ws_check "node S serves once PostgreSQL is back ($ws_status after $i retries)" \
    [ "$ws_status" = 200 ]

outage 2 immediate :

cgi_case cgi-again "after the restart" up

conns=$(nodes_connections)
ws_check "no connection leaked: at most one per responder ($conns for 6)" \
    [ "${conns:-9}" -le 6 ]

# The responders' connections ended by the server (pg_terminate_backend)
# while PostgreSQL stays up: the next request of each responder fails
# with 503, the one after reconnects.
ended=$(pg_psql "$NODES_DB" "SELECT count(pg_terminate_backend(pid))
    FROM pg_stat_activity WHERE application_name = 'fcgi-oauth'
    AND datname = current_database() AND pid <> pg_backend_pid()")
n200=0 n503=0 nbad=0
for n in U T; do
	eval "base=\$NODES_BASE_$n"
	i=0
	while [ $i -lt $AFTER_KILL ]; do
		ws_http "$base/token" -u "svc:$WS_SVC_SECRET" \
		    -d grant_type=client_credentials
		case $ws_status in
		200)	n200=$((n200 + 1)) ;;
		503)	if [ "$(ws_json error)" = temporarily_unavailable ]
			then
				n503=$((n503 + 1))
			else
				nbad=$((nbad + 1))
			fi ;;
		*)	nbad=$((nbad + 1))
			echo "#   node $n: $ws_status $(head -c 200 "$ws_tmp/body")"
			;;
		esac
		i=$((i + 1))
	done
done
echo "# $ended connections ended by pg_terminate_backend; then $AFTER_KILL requests to each node: $n200 x 200, $n503 x 503, $nbad other"
ws_check "connections ended by the server: at most one 503 per connection, then 200s ($n503 x 503 for $ended, $nbad other)" \
    [ "$nbad" -eq 0 -a "$n503" -le "${ended:-0}" -a \
    "$n200" -ge $((2 * AFTER_KILL - ${ended:-0})) ]

for n in U T S; do
	eval "before=\$before_$n"
	after=$(nodes_responders $n | sort | tr '\n' ' ')
	if [ "$after" = "$before" ]; then
		echo "# node $n: the responders are the ones lighttpd started: $after"
	else
		echo "# node $n: the responders changed: $before before, $after after"
	fi
	ws_check "node $n: two responders serve after the outage ($after)" \
	    [ "$(nodes_responders $n | wc -l)" -eq 2 ]
	crashes=$(nodes_crashes $n)
	ws_check "node $n: lighttpd's log tells of no responder dying (SIGSYS or other)" \
	    [ -z "$crashes" ]
	[ -z "$crashes" ] || {
		echo "$crashes" | sed 's/^/#   /'
		nodes_seccomp $n | sed 's/^/#   seccomp: /'
	}
	ws_check "node $n: the same responders served throughout, none restarted" \
	    [ "$after" = "$before" ]
done
ws_check "oauthctl check passes" ws_quiet ws_ctl check

for n in U T S; do
	eval "pid=\$NODES_PID_$n"
	ws_check "node $n: lighttpd stops on SIGTERM" ws_stop "$pid"
	nodes_check_gone $n lighttpd
done
ws_finish
