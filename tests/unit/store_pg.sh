#!/bin/sh
# The storage tests against PostgreSQL: starts a private server
# (tests/lib_pg.sh, a unix socket in a temporary directory, no TCP),
# points OAUTH_TEST_PG at its maintenance database and runs the binaries
# that read it, then stops the server and removes the directory.
#
#   sh tests/unit/store_pg.sh [BUILD [GLOB]]   BUILD: build (default)
#
# The binaries need only OAUTH_TEST_PG: a libpq URI of a database on which
# the user may CREATE DATABASE, see other sessions in pg_stat_activity and
# end them (pg_terminate_backend), e.g.
# postgresql:///postgres?host=/tmp/x/pg/run&user=postgres (PostgreSQL 14
# or later).  Says "skipped" and exits 0 when PostgreSQL is not installed.

set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${1:-build}
GLOB=${2:-}

. tests/lib_pg.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauth-store-pg-XXXXXX") || exit 1
cleanup() {
	pg_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! pg_start "$tmp"; then
	echo "store_pg.sh: skipped: no PostgreSQL server could be started"
	exit 0
fi
OAUTH_TEST_PG=$PG_URI
export OAUTH_TEST_PG

rc=0
for t in test_store_contract test_store_pg; do
	echo "== $BUILD/tests/$t"
	if [ -n "$GLOB" ]; then
		"$BUILD/tests/$t" "$GLOB" || rc=1
	else
		"$BUILD/tests/$t" || rc=1
	fi
done
exit $rc
