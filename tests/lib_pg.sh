# A PostgreSQL server of the tests' own, sourced by the suites that use
# one: initdb and pg_ctl in a temporary directory, listening on a unix
# socket in that directory only (no TCP port), stopped by pg_stop.
#
#   . tests/lib_pg.sh
#   pg_start DIR || skip      # sets PG_URI, PG_DIR, PG_SOCKET_DIR
#   pg_createdb NAME          # prints the URI of a new database
#   pg_psql URI SQL           # runs SQL, prints the unaligned result
#   pg_stop_fast; pg_start_again   # an outage
#   pg_stop
#
# PostgreSQL refuses to run as root; as root the server runs as the
# postgres user the Debian package creates.  PG_BIN may name the
# directory of initdb and pg_ctl; by default the newest installed.

pg_bin() {
	if [ -n "${PG_BIN:-}" ]; then
		echo "$PG_BIN"
		return
	fi
	# shellcheck disable=SC2012 # version directories, no odd names
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

# Runs a command as the user the server runs as.
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start DIR: a new cluster in DIR/pg, its socket in DIR/pg/run.
# Returns 1 (and says why) when PostgreSQL is not installed.
pg_start() {
	PG_BINDIR=$(pg_bin)
	if [ -z "$PG_BINDIR" ]; then
		echo "PostgreSQL is not installed (initdb not found)" >&2
		return 1
	fi
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		echo "running as root and there is no postgres user" >&2
		return 1
	fi
	PG_DIR=$1/pg
	PG_SOCKET_DIR=$PG_DIR/run
	mkdir -p "$PG_DIR/data" "$PG_SOCKET_DIR"
	chmod 755 "$1" "$PG_DIR" "$PG_SOCKET_DIR"
	[ "$(id -u)" -eq 0 ] && chown -R postgres "$PG_DIR"
	chmod 700 "$PG_DIR/data"
	if ! pg_as "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U postgres \
	    --auth=trust -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1; then
		cat "$PG_DIR/initdb.log" >&2
		return 1
	fi
	# Small and quick: a test server, with fsync on as in production.
	cat >>"$PG_DIR/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$PG_SOCKET_DIR'
unix_socket_permissions = 0777
max_connections = 100
shared_buffers = 32MB
EOF
	if ! pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
	    -w -t 60 start >/dev/null 2>&1; then
		echo "PostgreSQL did not start:" >&2
		tail -n 20 "$PG_DIR/server.log" >&2
		return 1
	fi
	PG_URI="postgresql:///postgres?host=$PG_SOCKET_DIR&user=postgres"
	export PG_URI PG_DIR PG_SOCKET_DIR PG_BINDIR
}

# pg_createdb NAME: creates database NAME and prints its URI.
pg_createdb() {
	pg_as "$PG_BINDIR/createdb" -h "$PG_SOCKET_DIR" -U postgres "$1" ||
		return 1
	echo "postgresql:///$1?host=$PG_SOCKET_DIR&user=postgres"
}

# pg_psql URI SQL: runs SQL, prints the unaligned result.
pg_psql() {
	"$PG_BINDIR/psql" -X -q -A -t -d "$1" -c "$2"
}

# pg_stop_fast, pg_start_again: stop the server (fast: connections end)
# and start it again, as a test of an outage does.
pg_stop_fast() {
	pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop \
	    >/dev/null 2>&1
}

pg_start_again() {
	pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
	    -w -t 60 start >/dev/null 2>&1
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] || return 0
	pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 60 \
	    stop >/dev/null 2>&1 || true
}
