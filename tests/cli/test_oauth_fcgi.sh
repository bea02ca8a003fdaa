#!/bin/sh
# The responder's command line and start-up: options, exit statuses, and
# the CGI answers it gives when it cannot start.  Last line:
# "N passed, M failed".
#
# Environment: FCGI (default build/oauth.fcgi).

set -u
cd "$(dirname "$0")/../.." || exit 1
FCGI=${FCGI:-build/oauth.fcgi}
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauth-cli-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

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
long=$(printf '/tmp/%0200d' 0)
check "$(run --listen "$long")" 2 "a socket path too long for sockaddr_un is refused"

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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
