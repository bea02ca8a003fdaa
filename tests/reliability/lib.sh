# Shared by the suites of tests/reliability.  POSIX sh; source it from the
# top of the source tree after setting REL_NAME:
#
#	cd "$(dirname "$0")/../.." || exit 1
#	REL_NAME=memory
#	. tests/reliability/lib.sh
#
# It offers result lines ("ok - ...", "not ok - ...", "# ..." notes and a
# closing "N passed, M failed"), a temp dir removed on exit (on tmpfs when
# there is one: the suites measure the server, not the disk), a database
# with the test clients, a responder on a unix socket with bounded waits,
# and the page counts of an LMDB environment.
#
# Environment: BUILD (default build), or FCGI and OAUTHCTL; REL_KEEP=1
# keeps the temp dir.

BUILD=${BUILD:-build}
FCGI=${FCGI:-$BUILD/oauth.fcgi}
OAUTHCTL=${OAUTHCTL:-$BUILD/oauthctl}
REL_NAME=${REL_NAME:-reliability}
REL_WAIT=15		# seconds for a responder to listen or to stop
REL_PYTHON=python3
[ -x /usr/bin/python3 ] && REL_PYTHON=/usr/bin/python3

unset OAUTH_DB OAUTH_CONFIG OAUTH_ISSUER OAUTH_ACCESS_TTL OAUTH_REFRESH_TTL \
    OAUTH_CODE_TTL OAUTH_MAX_BODY OAUTH_MAP_SIZE OAUTH_DB_SYNC OAUTH_TEST_NOW

rel_passed=0
rel_failed=0
rel_pids=
rel_tmp=

rel_ok() {
	rel_passed=$((rel_passed + 1))
	echo "ok - $*"
}

rel_notok() {
	rel_failed=$((rel_failed + 1))
	echo "not ok - $*"
}

rel_note() {
	echo "# $*"
}

# rel_check DESC CMD...: one result line for whether CMD succeeds.
rel_check() {
	_desc=$1
	shift
	if "$@"; then rel_ok "$_desc"; else rel_notok "$_desc"; fi
}

rel_skip() {
	echo "skipped: $*"
	echo "0 passed, 0 failed"
	exit 0
}

rel_finish() {
	echo "$rel_passed passed, $rel_failed failed"
	[ "$rel_failed" -eq 0 ]
	exit
}

rel_cleanup() {
	for _p in $rel_pids; do
		rel_stop "$_p"
	done
	rel_pids=
	if [ -n "$rel_tmp" ] && [ "${REL_KEEP:-0}" != 1 ]; then
		rm -rf "$rel_tmp"
	fi
}

# The temp dir: /dev/shm when it is a tmpfs we may write, else TMPDIR.
rel_init() {
	for _b in "$FCGI" "$OAUTHCTL"; do
		if [ ! -x "$_b" ]; then
			rel_notok "$_b is built (run make first)"
			rel_finish
		fi
	done
	_base=${TMPDIR:-/tmp}
	[ -d /dev/shm ] && [ -w /dev/shm ] && _base=/dev/shm
	rel_tmp=$(mktemp -d "$_base/rel-$REL_NAME.XXXXXX") || exit 1
	chmod 0755 "$rel_tmp"
	trap rel_cleanup EXIT
	trap 'exit 130' INT TERM HUP
}

# rel_ctl DB ARG...: oauthctl on DB.
rel_ctl() {
	_db=$1
	shift
	"$OAUTHCTL" --db "$_db" "$@"
}

# rel_setup_db DB: the clients the drivers use (fcgi_client.py): svc
# (client_credentials, "read write"), rs (may introspect), pub (public,
# code and refresh, "read write").  Generated secrets, exported as
# REL_SVC_SECRET and REL_RS_SECRET.
rel_setup_db() {
	rel_ctl "$1" init >/dev/null || return 1
	REL_SVC_SECRET=$(rel_ctl "$1" client add svc --scope "read write" \
	    --json | rel_json client_secret) || return 1
	REL_RS_SECRET=$(rel_ctl "$1" client add rs --introspect --json |
	    rel_json client_secret) || return 1
	rel_ctl "$1" client add pub --public --scope "read write" \
	    --redirect-uri https://app.example/cb >/dev/null || return 1
	export REL_SVC_SECRET REL_RS_SECRET
}

# rel_json KEY: a member of the JSON object on standard input.
rel_json() {
	"$REL_PYTHON" -c 'import json, sys
print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# rel_start NAME CMD...: CMD in the background, output in NAME.out in the
# temp dir; its pid in rel_pid, stopped at exit.
rel_start() {
	_name=$1
	shift
	"$@" >"$rel_tmp/$_name.out" 2>&1 </dev/null &
	rel_pid=$!
	rel_pids="$rel_pid $rel_pids"
}

# rel_alive PID: it runs (a zombie does not).
rel_alive() {
	[ -d "/proc/$1" ] && ! grep -q ') Z ' "/proc/$1/stat" 2>/dev/null
}

# rel_wait_socket PATH PID: until PATH is a socket, PID died, or REL_WAIT
# seconds passed.
rel_wait_socket() {
	_i=0
	while [ $_i -lt $((REL_WAIT * 10)) ]; do
		rel_alive "$2" || return 1
		[ -S "$1" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# rel_stop PID: SIGTERM, SIGKILL after REL_WAIT seconds; reaps it and
# leaves its exit status in rel_status.
rel_stop() {
	rel_status=0
	if rel_alive "$1"; then
		kill -TERM "$1" 2>/dev/null
		_i=0
		while rel_alive "$1" && [ $_i -lt $((REL_WAIT * 10)) ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		rel_alive "$1" && kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	rel_status=$?
	_rest=
	for _p in $rel_pids; do
		[ "$_p" = "$1" ] || _rest="$_rest $_p"
	done
	rel_pids=$_rest
	return 0
}

# rel_pages DB: "USED FREE" pages of the environment: the pages up to the
# highest one ever written (mdb_stat -e, what data.mdb occupies) and
# those of them on the free list (mdb_stat -f), ready for reuse.
rel_pages() {
	_used=$(mdb_stat -e "$1" | sed -n 's/^ *Number of pages used: //p')
	_free=$(mdb_stat -ef "$1" | sed -n 's/^ *Free pages: //p')
	echo "${_used:-0} ${_free:-0}"
}
