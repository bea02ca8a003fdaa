#!/bin/sh
# PostgreSQL as a remote database is reached: over TCP on 127.0.0.1 with
# TLS (sslmode=require, then verify-full against the test's own CA) and
# password authentication, the password in a passfile.  A FastCGI
# responder (oauth.fcgi --listen on a unix socket) serves through a server
# restart: the connection is opened again inside the seccomp sandbox, which
# must allow what libpq does then (the passfile, GSSAPI's and TLS's files)
# and nothing kills the process.  No password reaches a log or an answer.
# Skips when PostgreSQL or openssl is missing.  Last line: "N passed, M
# failed".
#
# Environment: FCGI, OAUTHCTL (binaries, default build/), LOG_DIR.

set -u
cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_pg_tls
. tests/web/lib_server.sh

PG_PASSWORD=tls-only-password-5b1e	# trust is off for TCP: this is used
RETRIES=60			# tenths of a second waited for a recovery

ws_need_cmd openssl openssl
ws_need_cmd "$WS_PYTHON" python3
[ -n "$(pg_bin)" ] || ws_skip "PostgreSQL is not installed (apt-get install postgresql)"
ws_need_build

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_pg_tls.XXXXXX") || exit 1
chmod 0755 "$tmp"
fpid=
cleanup() {
	[ -n "$fpid" ] && ws_stop "$fpid"
	pg_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# A CA, and a server certificate for 127.0.0.1 signed by it.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca \
    -keyout "$tmp/ca.key" -out "$tmp/ca.crt" >/dev/null 2>&1 &&
printf 'subjectAltName=IP:127.0.0.1\n' >"$tmp/san.ext" &&
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
    -keyout "$tmp/server.key" -out "$tmp/server.csr" >/dev/null 2>&1 &&
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" \
    -CAkey "$tmp/ca.key" -CAcreateserial -days 2 -extfile "$tmp/san.ext" \
    -out "$tmp/server.crt" >/dev/null 2>&1 ||
    { ws_notok "test certificates"; ws_finish; }
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca \
    -keyout "$tmp/other.key" -out "$tmp/other.crt" >/dev/null 2>&1

# Installed but unable to start is a failure, not a skip.
if ! pg_start "$tmp" >"$tmp/pg_start.log" 2>&1; then
	ws_notok "PostgreSQL starts: $(tail -n 2 "$tmp/pg_start.log" | tr '\n' ' ')"
	ws_finish
fi
port=$(ws_free_port) || { ws_notok "a free port"; ws_finish; }
data=$PG_DIR/data
cp "$tmp/server.key" "$tmp/server.crt" "$data/"
chmod 600 "$data/server.key"
[ "$(id -u)" -eq 0 ] && chown postgres "$data/server.key" "$data/server.crt"
cat >>"$data/postgresql.conf" <<EOF
ssl = on
listen_addresses = '127.0.0.1'
port = $port
password_encryption = 'scram-sha-256'
EOF
# TCP only with TLS and a password; the unix socket stays trusted for
# the test's own psql.
{
	echo "local all all trust"
	echo "hostssl all all 127.0.0.1/32 scram-sha-256"
} >"$data/pg_hba.conf"
if ! pg_stop_fast || ! pg_start_again; then
	ws_notok "PostgreSQL restarts with TLS on 127.0.0.1:$port"
	ws_finish
fi
psql_local() {
	"$PG_BINDIR/psql" -X -q -A -t -h "$PG_SOCKET_DIR" -p "$port" \
	    -U postgres "$@"
}
psql_local -d postgres -c "CREATE ROLE oauth LOGIN PASSWORD '$PG_PASSWORD'" &&
psql_local -d postgres -c "CREATE DATABASE oauth OWNER oauth" ||
    { ws_notok "role and database"; ws_finish; }
printf '127.0.0.1:%s:oauth:oauth:%s\n' "$port" "$PG_PASSWORD" >"$tmp/pgpass"
chmod 600 "$tmp/pgpass"

uri="postgresql://oauth@127.0.0.1:$port/oauth?sslmode=require&passfile=$tmp/pgpass"
ctl() {
	"$OAUTHCTL" --db "$uri" "$@"
}
ws_check "oauthctl init over TLS with a passfile" \
    ws_quiet ctl init
ctl client add svc --scope "read" --grant-types client_credentials \
    --secret "$WS_SVC_SECRET" >/dev/null 2>&1
ws_check "oauthctl client add over TLS" \
    sh -c "'$OAUTHCTL' --db '$uri' client list | grep -q '^svc'"

# A password in the URI is never repeated: a wrong one, in the URI.
bad="postgresql://oauth:not-the-password-77@127.0.0.1:$port/oauth?sslmode=require"
out=$("$OAUTHCTL" --db "$bad" stats 2>&1)
rc=$?
ws_check "a wrong password fails (exit 1)" test "$rc" -eq 1
case $out in
*not-the-password-77*) ws_notok "the failure does not repeat the password: $out" ;;
*"$bad"*) ws_notok "the failure does not repeat the URI: $out" ;;
*) ws_ok "the failure repeats neither password nor URI" ;;
esac

# verify-full: our CA passes, another CA is refused.
good="postgresql://oauth@127.0.0.1:$port/oauth?sslmode=verify-full&sslrootcert=$tmp/ca.crt&passfile=$tmp/pgpass"
other="postgresql://oauth@127.0.0.1:$port/oauth?sslmode=verify-full&sslrootcert=$tmp/other.crt&passfile=$tmp/pgpass"
ws_check "verify-full with the server's CA works" \
    ws_quiet "$OAUTHCTL" --db "$good" stats
ws_check "verify-full with another CA is refused" \
    sh -c "! '$OAUTHCTL' --db '$other' stats >/dev/null 2>&1"

# CGI over TLS.
cgi() {
	_body=$1
	printf '%s' "$_body" | env OAUTH_DB="$good" \
	    OAUTH_ISSUER=https://issuer.test REQUEST_METHOD=POST \
	    PATH_INFO=/token CONTENT_TYPE=application/x-www-form-urlencoded \
	    CONTENT_LENGTH=${#_body} \
	    HTTP_AUTHORIZATION="Basic $(printf 'svc:%s' "$WS_SVC_SECRET" |
	    base64 | tr -d '\n')" "$FCGI"
}
out=$(cgi grant_type=client_credentials 2>"$tmp/cgi.err")
case $out in
"Status: 200"*access_token*) ws_ok "CGI issues a token over TLS" ;;
*) ws_notok "CGI issues a token over TLS: $(echo "$out" | head -n 1) $(cat "$tmp/cgi.err")" ;;
esac

# FastCGI through a restart of the server.
sock=$tmp/oauth.sock
env OAUTH_DB="$good" OAUTH_ISSUER=https://issuer.test "$FCGI" \
    --listen "$sock" >"$tmp/fcgi.out" 2>"$tmp/fcgi.err" </dev/null &
fpid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
get() {
	"$WS_PYTHON" tests/cli/fcgi_client.py --timeout 20 "$sock" get \
	    /.well-known/oauth-authorization-server 2>/dev/null | head -n 1 |
	    tr -d '\r'
}
ws_check "the responder answers over TLS" \
    test "$(get)" = "Status: 200 OK"
ssl=$(psql_local -d oauth -c "SELECT count(*) FROM pg_stat_ssl s JOIN \
pg_stat_activity a USING (pid) WHERE a.application_name = 'fcgi-oauth' \
AND s.ssl")
ws_check "the responder's session is TLS" test "$ssl" = 1

pg_stop_fast
down=$(get)
ws_check "with the server down: 503 (got '$down')" \
    test "$down" = "Status: 503 Service Unavailable"
pg_start_again
i=0
up=
while [ $i -lt $RETRIES ]; do
	up=$(get)
	[ "$up" = "Status: 200 OK" ] && break
	sleep 0.1
	i=$((i + 1))
done
ws_check "after the restart the responder answers 200 again" \
    test "$up" = "Status: 200 OK"
ws_check "the same responder process serves (no SIGSYS)" \
    kill -0 "$fpid"
ws_check "no sandbox kill in its log" \
    sh -c "! grep -qi 'bad system call\|SIGSYS' '$tmp/fcgi.err'"
# A server that stops answering without closing the connection (its
# backend process stopped): the responder gives up on it after its reply
# bound (20 s), and, the statement being its transaction's first, sends it
# again on a new connection: answered, not hung (the client waits 90 s).
backend=$(psql_local -d oauth -c "SELECT pid FROM pg_stat_activity WHERE \
application_name = 'fcgi-oauth' AND backend_type = 'client backend'" |
    head -n 1)
if [ -n "$backend" ] && kill -STOP "$backend" 2>/dev/null; then
	hung=$("$WS_PYTHON" tests/cli/fcgi_client.py --timeout 90 "$sock" get \
	    /.well-known/oauth-authorization-server 2>/dev/null | head -n 1 |
	    tr -d '\r')
	now=$(psql_local -d oauth -c "SELECT pid FROM pg_stat_activity WHERE \
application_name = 'fcgi-oauth' AND backend_type = 'client backend' AND \
pid <> $backend" | head -n 1)
	kill -CONT "$backend" 2>/dev/null
	ws_check "a server that stops answering: answered on a new connection, not hung (got '$hung')" \
	    test "$hung" = "Status: 200 OK"
	ws_check "the responder left the stopped session for a new one" \
	    test -n "$now"
	ws_check "then the responder serves on" \
	    test "$(get)" = "Status: 200 OK"
else
	ws_notok "the responder's server process is found and stopped"
fi

ws_check "its log names no password or URI" \
    sh -c "! grep -q -e '$PG_PASSWORD' -e 'passfile=' -e 'sslrootcert' \
        '$tmp/fcgi.err' '$tmp/cgi.err'"

ws_finish
