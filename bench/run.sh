#!/bin/sh
# Benchmarks anyone can rerun (make bench):
#   1. the handlers in one process (bench_handlers), wall-clock rates for
#      token issuance under each OAUTH_DB_SYNC and for introspection;
#   2. instructions per request under callgrind, stable on a busy machine;
#   3. wrk through lighttpd and two FastCGI responders on 127.0.0.1, with
#      the shipped etc/lighttpd configuration.
# Every run is bounded: fixed counts, and wrk for BENCH_SECONDS each.
# Results go to standard output; bench/README.md records a run.

set -u
cd "$(dirname "$0")/.." || exit 1

BUILD=${BUILD:-build}
BENCH=$BUILD/bench/bench_handlers
SECONDS_EACH=${BENCH_SECONDS:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
SECRET=bench-secret-0123456789abcdefghijklmnopq
AUTH=$(printf 'bench:%s' "$SECRET" | base64 -w0)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauth-bench-XXXXXX") || exit 1
lpid=
cleanup() {
	if [ -n "$lpid" ]; then
		kill "$lpid" 2>/dev/null
		i=0
		while kill -0 "$lpid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$lpid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

echo "== in-process handlers ($(nproc) cores)"
for sync in full data none; do
	printf 'OAUTH_DB_SYNC=%-5s ' "$sync"
	OAUTH_DB_SYNC=$sync "$BENCH" "$tmp/db-$sync" token \
	    "$([ "$sync" = none ] && echo 20000 || echo 300)" || exit 1
done
OAUTH_DB_SYNC=none "$BENCH" "$tmp/db-none" introspect 100000 || exit 1

if command -v valgrind >/dev/null 2>&1; then
	echo "== instructions per request (callgrind, 1000 requests less 1)"
	for what in token introspect; do
		for n in 1 1001; do
			OAUTH_DB_SYNC=none valgrind --tool=callgrind \
			    --callgrind-out-file="$tmp/cg.$what.$n" \
			    "$BENCH" "$tmp/db-cg-$what" "$what" "$n" \
			    >/dev/null 2>"$tmp/cg.$what.$n.log" || exit 1
		done
		a=$(sed -n 's/^summary: //p' "$tmp/cg.$what.1")
		b=$(sed -n 's/^summary: //p' "$tmp/cg.$what.1001")
		echo "$what: $(( (b - a) / 1000 )) instructions per request"
	done
else
	echo "== callgrind skipped: valgrind not installed"
fi

if ! command -v wrk >/dev/null 2>&1 || ! command -v lighttpd >/dev/null 2>&1
then
	echo "== wrk skipped: wrk or lighttpd not installed"
	exit 0
fi
echo "== wrk through lighttpd + 2 oauth.fcgi, $CONNECTIONS connections, ${SECONDS_EACH}s each"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/run/htdocs"
: >"$tmp/run/htpasswd"
# The benchmark client, made the way oauthctl makes clients.
OAUTH_DB_SYNC=none "$BENCH" "$tmp/db-web" introspect 1 >/dev/null || exit 1
token=$(printf 'grant_type=client_credentials' | REQUEST_METHOD=POST \
    PATH_INFO=/token CONTENT_TYPE=application/x-www-form-urlencoded \
    CONTENT_LENGTH=29 HTTP_AUTHORIZATION="Basic $AUTH" HTTP_HOST=127.0.0.1 \
    OAUTH_DB="$tmp/db-web" "$BUILD/oauth.fcgi" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
for sync in none full; do
	sed -e "s|@PORT@|$port|g" -e "s|@RUNDIR@|$tmp/run|g" \
	    -e "s|@BUILD@|$PWD/$BUILD|g" -e "s|@DB@|$tmp/db-web|g" \
	    -e "s|@HTPASSWD@|$tmp/run/htpasswd|g" \
	    -e "s|\"OAUTH_DB\" => \"$tmp/db-web\",|&\"OAUTH_DB_SYNC\" => \"$sync\",|" \
	    etc/lighttpd/oauth-fastcgi.conf >"$tmp/run/lighttpd.conf"
	# As root, lighttpd would switch to www-data, which cannot read $tmp.
	sed -i -e '/^server.username/d' -e '/^server.groupname/d' \
	    "$tmp/run/lighttpd.conf"
	lighttpd -D -f "$tmp/run/lighttpd.conf" &
	lpid=$!
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$port/oauth/" ||
	    [ $i -ge 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "-- POST /oauth/token, OAUTH_DB_SYNC=$sync"
	BENCH_BODY=grant_type=client_credentials BENCH_AUTH=$AUTH \
	    wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" \
	    -s bench/wrk_post.lua "http://127.0.0.1:$port/oauth/token"
	if [ "$sync" = none ]; then
		echo "-- POST /oauth/introspect"
		BENCH_BODY="token=$token" BENCH_AUTH=$AUTH \
		    wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" \
		    -s bench/wrk_post.lua \
		    "http://127.0.0.1:$port/oauth/introspect"
	fi
	kill "$lpid"
	wait "$lpid" 2>/dev/null
	lpid=
done
