# The storage backend a suite runs on, for the suites that run on both:
# OAUTH_TEST_BACKEND=lmdb (the default) or postgresql.  Sourced from the
# top of the source tree (it sources tests/lib_pg.sh):
#
#   . tests/lib_backend.sh
#   backend_start DIR || skip "$backend_why"  # a server to make databases on
#   db=$(backend_newdb NAME DIR)  # an LMDB directory DIR/NAME or the URI of
#                                 # a new, empty PostgreSQL database
#   backend_stop                  # drops them, stops a server it started
#   backend_suite DIR [NAME]      # backend_start (and backend_newdb into
#                                 # $db), or the suite's skip/fail and exit
#
# On PostgreSQL the databases are made on the server whose maintenance
# database OAUTH_TEST_PG names (tests/check.sh starts one for every suite)
# or, without it, on a private server of tests/lib_pg.sh started in DIR
# (a unix socket there, no TCP).  Database names carry the shell's pid and
# a random part, so that suites sharing a server do not meet.

# shellcheck disable=SC2034 # backend_why is the suites' to read
true
. tests/lib_pg.sh

BACKEND=${OAUTH_TEST_BACKEND:-lmdb}
backend_own=		# 1 when backend_start started the server
backend_maint=		# the maintenance URI
backend_list=		# the file of the databases backend_newdb made
backend_prefix=
backend_why=

# backend_start DIR: 0 when the backend can be used; 1 with the reason in
# backend_why (for the suite's "skipped" line) when not.  DIR must stay
# until backend_stop.  Not in a $(...): what it sets would be lost.
backend_start() {
	case $BACKEND in
	lmdb)
		return 0
		;;
	postgresql)
		;;
	*)
		backend_why="OAUTH_TEST_BACKEND=$BACKEND: unknown (lmdb or postgresql)"
		return 1
		;;
	esac
	backend_prefix=t$$_$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	backend_list=$1/backend-dbs
	: >"$backend_list" || return 1
	if [ -n "${OAUTH_TEST_PG:-}" ]; then
		backend_maint=$OAUTH_TEST_PG
		PG_BINDIR=${PG_BINDIR:-$(pg_bin)}
		if [ -z "$PG_BINDIR" ] || [ ! -x "$PG_BINDIR/psql" ]; then
			backend_why="PostgreSQL is not installed (psql not found)"
			return 1
		fi
		return 0
	fi
	if ! pg_start "$1" >"$1/pg_start.log" 2>&1; then
		backend_why="PostgreSQL could not start: $(tail -n 3 \
		    "$1/pg_start.log" | tr '\n' ' ')"
		pg_stop
		return 1
	fi
	backend_own=1
	backend_maint=$PG_URI
}

# backend_uri NAME: the maintenance URI with database NAME in its path.
backend_uri() {
	printf '%s\n' "$backend_maint" |
	    sed "s|^\([a-z]*://[^/?]*\)[^?]*|\1/$1|"
}

# backend_newdb NAME DIR [FROM]: prints where a new database is: DIR/NAME
# (LMDB, not made: oauthctl init makes it) or the URI of a new PostgreSQL
# database, empty (oauthctl init makes the schema) or a copy of the one
# of URI FROM (which nobody may be connected to), dropped by backend_stop.
backend_newdb() {
	if [ "$BACKEND" != postgresql ]; then
		echo "$2/$1"
		return 0
	fi
	_n=$(backend_name "$1")
	_from=
	[ $# -lt 3 ] || _from=" TEMPLATE \"$(backend_dbname "$3")\""
	backend_adopt database "$_n"
	backend_psql "$backend_maint" "CREATE DATABASE \"$_n\"$_from" >&2 ||
	    return 1
	backend_uri "$_n"
}

# backend_dbname URI: the database name in a URI's path.
backend_dbname() {
	printf '%s\n' "$1" | sed 's|^[a-z]*://[^/?]*/\([^?]*\).*|\1|'
}

# backend_adopt database|role NAME: backend_stop drops NAME, made by the
# suite itself (a role after every database).
backend_adopt() {
	echo "$1 $2" >>"$backend_list"
}

# backend_name LABEL: a name of this run for a database or a role.
backend_name() {
	printf '%s_%s' "$backend_prefix" "$1" | tr '[:upper:]' '[:lower:]' |
	    tr -c 'a-z0-9_\n' _ | cut -c 1-63
}

# backend_psql URI SQL: runs SQL on a database of the backend, prints
# the rows unaligned.
backend_psql() {
	"$PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2" \
	    </dev/null
}

# backend_suite DIR [NAME]: what a "N passed, M failed" suite does first:
# backend_start DIR, or the suite's skipped line and exit 0; with NAME,
# then db=$(backend_newdb NAME DIR), or a failed suite and exit 1.
backend_suite() {
	if ! backend_start "$1"; then
		echo "skipped: $BACKEND: $backend_why"
		echo "0 passed, 0 failed"
		exit 0
	fi
	[ $# -lt 2 ] && return 0
	if ! db=$(backend_newdb "$2" "$1"); then
		echo "not ok - a $BACKEND database"
		echo "0 passed, 1 failed"
		exit 1
	fi
}

# backend_stop: drops the databases made (FORCE ends connections left
# behind by a responder that was killed), or stops a private server.
backend_stop() {
	[ "$BACKEND" = postgresql ] || return 0
	if [ -n "$backend_own" ]; then
		pg_stop
		backend_own=
	elif [ -n "$backend_list" ] && [ -f "$backend_list" ]; then
		for _k in database role; do
			_w=
			[ "$_k" = database ] && _w=" WITH (FORCE)"
			sed -n "s/^$_k //p" "$backend_list" | while read -r _n; do
				backend_psql "$backend_maint" \
				    "DROP $_k IF EXISTS \"$_n\"$_w" >/dev/null 2>&1
			done
		done
		: >"$backend_list"
	fi
}

# A label for result lines: empty on LMDB, " (postgresql)" otherwise.
backend_label() {
	[ "$BACKEND" = lmdb ] || echo " ($BACKEND)"
}
