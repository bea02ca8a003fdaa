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
. bench/lib.sh

BUILD=${BUILD:-build}
BENCH=$BUILD/bench/bench_handlers

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauth-bench-XXXXXX") || exit 1
bench_lighttpd_pid=
cleanup() {
	bench_stop "$bench_lighttpd_pid"
	rm -rf "$tmp"
}
trap cleanup EXIT
# A signal, or a reader that went away, ends the run (and so runs cleanup).
trap 'exit 1' INT TERM PIPE

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
echo "== wrk through lighttpd + 2 oauth.fcgi, ${BENCH_CONNECTIONS:-16} connections, ${BENCH_SECONDS:-10}s each"
port=$(bench_port)
token=$(bench_fcgi_db "$tmp/db-web") || {
	echo "bench: no token from oauth.fcgi" >&2
	exit 1
}
for sync in none full; do
	bench_lighttpd_start "$port" "$tmp/run-$sync" "$tmp/db-web" "$sync" ||
	    exit 1
	echo "-- POST /oauth/token, OAUTH_DB_SYNC=$sync"
	bench_wrk grant_type=client_credentials "$BENCH_AUTH" \
	    "http://127.0.0.1:$port/oauth/token"
	if [ "$sync" = none ]; then
		echo "-- POST /oauth/introspect"
		bench_wrk "token=$token" "$BENCH_AUTH" \
		    "http://127.0.0.1:$port/oauth/introspect"
	fi
	bench_stop "$bench_lighttpd_pid"
	bench_lighttpd_pid=
done
