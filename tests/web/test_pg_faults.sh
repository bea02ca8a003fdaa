#!/bin/sh
# PostgreSQL stopped and started again under load.  lighttpd with
# mod_fastcgi spawning two oauth.fcgi responders
# (etc/lighttpd/oauth-fastcgi.conf) on a postgresql:// OAUTH_DB, a server
# of the test's own (tests/lib_pg.sh).  LOAD_CLIENTS clients
# (tests/web/lib_nodes.py load) issue client_credentials tokens and
# introspect them, each at least LOAD_REQUESTS exchanges with a 10 s
# timeout, while the test stops PostgreSQL (pg_stop_fast: connections
# end), waits OUTAGE seconds and starts it again (pg_start_again); then
# the load runs out.  Checked:
#
# - every answer is 200 or 503 with the JSON error temporarily_unavailable:
#   never a 500, a reset connection or no answer within the timeout;
# - after the restart every client gets 200s again within 30 s;
# - every token answered with 200 introspects active afterwards, and is
#   in oauth_tokens (psql);
# - the responders are the processes lighttpd started, or lighttpd's log
#   says why they were replaced; none died of a signal (a seccomp SIGSYS
#   while reconnecting among them);
# - no connection is leaked; connections the server ends
#   (pg_terminate_backend) cost each responder one 503, then it reconnects;
# - as CGI, with the server down, a token request answers 503
#   temporarily_unavailable within CGI_TIMEOUT seconds, and 200 once it is
#   back.
#
# The figures (503s during the outage, time to recover) are printed as
# "# " lines.  Skips, with a visible line, when PostgreSQL or lighttpd is
# missing.  Last line: "N passed, M failed".
#
# Environment: FCGI, OAUTHCTL (binaries, default build/), LOG_DIR,
# LOAD_CLIENTS (4), LOAD_REQUESTS (300), OUTAGE (2).

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_pg_faults
. tests/web/lib_server.sh
. tests/web/lib_nodes.sh

LOAD_CLIENTS=${LOAD_CLIENTS:-4}
LOAD_REQUESTS=${LOAD_REQUESTS:-300}
OUTAGE=${OUTAGE:-2}
WARM_TIMEOUT=60		# seconds for the load to issue its first 200 tokens
LOAD_TIMEOUT=200	# seconds for the whole load (it bounds itself at 120)
CGI_TIMEOUT=10		# seconds for one CGI request

ws_need_common
ws_need_cmd lighttpd lighttpd
ws_need_build
nodes_init

nodes_lighttpd L || ws_finish
ws_check "lighttpd runs two responders" \
    [ "$(nodes_responders L | wc -l)" -eq 2 ]
before=$(nodes_responders L | sort | tr '\n' ' ')
echo "# lighttpd $NODES_PID_L on $NODES_BASE_L, responders $before"

# cgi_token NAME: POST /token (client_credentials as svc) to the test's
# copy of oauth.fcgi run as a CGI program, as the worker user, with the
# same OAUTH_DB; its output in run/NAME.cgi, the status in cgi_status,
# the error member in cgi_error, the seconds it took in cgi_secs.
cgi_token() {
	cgi_name=$1
	cg_body=grant_type=client_credentials
	printf '%s' "$cg_body" >"$ws_tmp/cgi.body"
	cg_auth=$(printf 'svc:%s' "$WS_SVC_SECRET" | base64 -w0)
	cg_t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	timeout "$CGI_TIMEOUT" env -i PATH=/usr/bin:/bin \
	    OAUTH_DB="$NODES_DB" OAUTH_ISSUER="$NODES_ISSUER" \
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

cgi_token cgi-up
ws_check "CGI with PostgreSQL up: 200 (${cgi_secs} s)" \
    cgi_issued

# mark NAME: the time, for lib_nodes.py, written whole (a rename).
state=$ws_tmp/state
mkdir -p "$state"
mark() {
	date +%s.%N >"$state/.$1" && mv "$state/.$1" "$state/$1"
}

"$WS_PYTHON" tests/web/lib_nodes.py load "$NODES_BASE_L" "$LOAD_CLIENTS" \
    "$LOAD_REQUESTS" "$state" >"$ws_tmp/load.out" 2>&1 &
load=$!
i=0
while [ ! -e "$state/warm" ] && ws_alive "$load" &&
    [ $i -lt $((WARM_TIMEOUT * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
ws_check "the load issued 200 tokens before the stop" [ -e "$state/warm" ]

mark stopping
ws_check "PostgreSQL stops (pg_stop_fast) under the load" pg_stop_fast
mark stopped
cgi_token cgi-down
ws_check "CGI with PostgreSQL down: 503 temporarily_unavailable within $CGI_TIMEOUT s (${cgi_secs} s)" \
    [ "$cgi_status" = 503 -a "$cgi_error" = temporarily_unavailable ]
[ "$cgi_status" = 503 ] ||
    sed 's/^/#   /' "$WS_RUN/cgi-down.cgi" "$WS_RUN/cgi-down.cgi.err"
sleep "$OUTAGE"
mark starting
ws_check "PostgreSQL starts again (pg_start_again)" pg_start_again
mark restarted

# The load bounds itself (120 s, 60 s after the restart); this is the
# backstop.
i=0
while ws_alive "$load" && [ $i -lt $((LOAD_TIMEOUT * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
if ws_alive "$load"; then
	kill -KILL "$load" 2>/dev/null
	ws_notok "the load ends within $LOAD_TIMEOUT s"
else
	ws_ok "the load ends within $LOAD_TIMEOUT s"
fi
wait "$load" 2>/dev/null
cat "$ws_tmp/load.out"

nodes_py verify "$NODES_BASE_L" "$state"

cgi_token cgi-again
ws_check "CGI after the restart: 200 (${cgi_secs} s)" \
    cgi_issued

conns=$(nodes_connections)
ws_check "no connection leaked: at most one per responder ($conns)" \
    [ "${conns:-9}" -le 2 ]

# The responders' connections ended by the server (pg_terminate_backend)
# while PostgreSQL stays up: the next request of each responder fails
# with 503, the one after reconnects.
ended=$(pg_psql "$NODES_DB" "SELECT count(pg_terminate_backend(pid))
    FROM pg_stat_activity WHERE application_name = 'fcgi-oauth'
    AND datname = current_database() AND pid <> pg_backend_pid()")
n200=0 n503=0 nbad=0
i=0
while [ $i -lt 12 ]; do
	ws_http "$NODES_BASE_L/token" -u "svc:$WS_SVC_SECRET" \
	    -d grant_type=client_credentials
	case $ws_status in
	200)	n200=$((n200 + 1)) ;;
	503)	if [ "$(ws_json error)" = temporarily_unavailable ]; then
			n503=$((n503 + 1))
		else
			nbad=$((nbad + 1))
		fi ;;
	*)	nbad=$((nbad + 1))
		echo "#   $ws_status $(head -c 200 "$ws_tmp/body")" ;;
	esac
	i=$((i + 1))
done
echo "# $ended connections ended by pg_terminate_backend; then 12 requests: $n200 x 200, $n503 x 503, $nbad other"
ws_check "connections ended by the server: at most one 503 per connection, then 200s ($n503 x 503 for $ended, $nbad other)" \
    [ "$nbad" -eq 0 -a "$n503" -le "${ended:-0}" -a "$n200" -ge $((12 - ${ended:-0})) ]

after=$(nodes_responders L | sort | tr '\n' ' ')
if [ "$after" = "$before" ]; then
	echo "# the responders are the ones lighttpd started: $after"
else
	echo "# the responders changed: $before before, $after after"
fi
ws_check "two responders serve after the outage ($after)" \
    [ "$(nodes_responders L | wc -l)" -eq 2 ]
crashes=$(nodes_crashes L)
ws_check "lighttpd's log tells of no responder dying (SIGSYS or other)" \
    [ -z "$crashes" ]
[ -z "$crashes" ] || echo "$crashes" | sed 's/^/#   /'
ws_check "the same responders served throughout, none restarted" \
    [ "$after" = "$before" ]
ws_check "oauthctl check passes" ws_quiet ws_ctl check

ws_check "lighttpd stops on SIGTERM" ws_stop "$NODES_PID_L"
nodes_check_gone L lighttpd
ws_finish
