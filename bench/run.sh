#!/bin/sh
# Benchmarks anyone can rerun (make bench):
#   1. the handlers in one process (bench_handlers), wall-clock rates for
#      token issuance under each OAUTH_DB_SYNC and for introspection, then
#      JWT access tokens, id_tokens and each signature algorithm alone;
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
# Signed tokens: a JWT access token (RS256) against the opaque token
# above, a DPoP-bound one (an ES256 proof checked), one for a client that
# authenticates with an ES256 assertion (private_key_jwt), an id_token (a code
# redeemed with openid) against a code without, and one signature of each
# algorithm alone.
for what in token-jwt:2000 token-dpop:20000 token-pkjwt:20000 \
    code:20000 code-openid:2000 \
    sign-RS256:2000 sign-ES256:20000 sign-EdDSA:20000; do
	OAUTH_DB_SYNC=none "$BENCH" "$tmp/db-none" "${what%:*}" \
	    "${what#*:}" || exit 1
done

if command -v valgrind >/dev/null 2>&1; then
	echo "== instructions per request (callgrind, N+1 requests less 1, / N)"
	# Only bench_loop is counted: the set-up generates keys, whose cost
	# varies.  RSA signatures are slow under valgrind: 100 of those.
	for what in token:1000 introspect:1000 token-jwt:100 token-dpop:200 \
	    token-pkjwt:200 \
	    code:1000 code-openid:100 sign-RS256:100 sign-ES256:1000 \
	    sign-EdDSA:1000; do
		n=${what#*:} what=${what%:*}
		for c in 1 $((n + 1)); do
			OAUTH_DB_SYNC=none valgrind --tool=callgrind \
			    --toggle-collect=bench_loop \
			    --callgrind-out-file="$tmp/cg.$what.$c" \
			    "$BENCH" "$tmp/db-cg-$what" "$what" "$c" \
			    >/dev/null 2>"$tmp/cg.$what.$c.log" || exit 1
		done
		a=$(sed -n 's/^summary: //p' "$tmp/cg.$what.1")
		b=$(sed -n 's/^summary: //p' "$tmp/cg.$what.$((n + 1))")
		echo "$what: $(( (b - a) / n )) instructions per request ($n)"
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
