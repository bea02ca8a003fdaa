# Shared by the tests/web suites that run oauth.fcgi nodes on one
# PostgreSQL database (test_two_nodes.sh, test_pg_faults.sh).  POSIX sh;
# source it from the top of the source tree after tests/web/lib_server.sh
# (whose result lines, temp dir, ports and process helpers it uses):
#
#	WS_NAME=test_x
#	. tests/web/lib_server.sh
#	. tests/web/lib_nodes.sh
#	nodes_init                  # ws_init, PostgreSQL, the test clients
#	nodes_lighttpd a            # node "a": lighttpd, two responders
#	nodes_nginx b               # node "b": nginx + spawn-fcgi -F 2
#	... "$NODES_BASE_a" "$NODES_BASE_b" ...
#	nodes_py SUBCOMMAND ARGS    # tests/web/lib_nodes.py, counted
#	ws_finish
#
# A node is a web server on its own free loopback port with the shipped
# configuration of etc/, its run dir in run/NAME, serving /oauth from
# oauth.fcgi processes whose OAUTH_DB is the same postgresql:// URI
# (NODES_DB) and whose OAUTH_ISSUER is the same (NODES_ISSUER).  Each node
# runs its own copy of the binary (bin-NAME/oauth.fcgi), so that its
# responders are told apart by their executable.  Everything started is
# stopped at exit, PostgreSQL last.

case $0 in
*lib_nodes.sh)	cd "$(dirname "$0")/../.." || exit 1 ;;
esac
. tests/lib_pg.sh

NODES_ISSUER=https://auth.nodes.test/oauth
NODES_NAMES=

# nodes_init: the temp dir, a PostgreSQL server of the test's own (skips
# when PostgreSQL is not installed), its database NODES_DB with the
# clients of ws_setup_db, and the exit trap.
nodes_init() {
	ws_init
	trap nodes_cleanup EXIT
	if ! pg_start "$ws_tmp" 2>"$ws_tmp/pg_start.err"; then
		nd_why=$(head -n 1 "$ws_tmp/pg_start.err")
		case $nd_why in
		*"not installed"*|*"no postgres user"*)
			ws_skip "PostgreSQL: $nd_why" ;;
		esac
		ws_notok "PostgreSQL starts"
		sed 's/^/#   /' "$ws_tmp/pg_start.err"
		ws_finish
	fi
	NODES_DB=$(pg_createdb oauth) || {
		ws_notok "createdb"
		ws_finish
	}
	WS_DB=$NODES_DB
	export NODES_DB
	if ws_quiet ws_setup_db; then
		ws_ok "oauthctl init and the test clients on PostgreSQL ($PG_BINDIR)"
	else
		ws_notok "oauthctl init and the test clients on PostgreSQL ($PG_BINDIR)"
		ws_finish
	fi
	export NODES_SVC_SECRET="$WS_SVC_SECRET" NODES_RS_SECRET="$WS_RS_SECRET"
	export NODES_APP_SECRET="$WS_APP_SECRET" NODES_USER_NAME="$WS_USER_NAME"
	export NODES_USER_PASS="$WS_USER_PASS" NODES_REDIRECT="$WS_REDIRECT"
}

# nodes_pg_tcp: the server listens on 127.0.0.1 too, on a free port
# (restarted for it); NODES_DB names that port for its unix socket, and
# NODES_DB_TCP is the same database over TCP.
nodes_pg_tcp() {
	nd_port=$(ws_free_port) || return 1
	printf "listen_addresses = '127.0.0.1'\nport = %s\n" "$nd_port" |
	    pg_as tee -a "$PG_DIR/data/postgresql.conf" >/dev/null &&
	    pg_stop_fast && pg_start_again || return 1
	NODES_DB="$NODES_DB&port=$nd_port"
	NODES_DB_TCP="postgresql://postgres@127.0.0.1:$nd_port/oauth"
	WS_DB=$NODES_DB
	export NODES_DB NODES_DB_TCP
}

nodes_cleanup() {
	for nd_p in $ws_pids; do
		ws_stop "$nd_p"
	done
	ws_pids=
	for nd_n in $NODES_NAMES; do
		nodes_kill_responders "$nd_n" >/dev/null
	done
	pg_stop
	ws_cleanup
}

# nodes_responders NAME: the pids of node NAME's live responders.
nodes_responders() {
	for nd_d in /proc/[0-9]*; do
		[ "$(readlink "$nd_d/exe" 2>/dev/null)" = "$ws_tmp/bin-$1/oauth.fcgi" ] &&
		    ws_alive "${nd_d#/proc/}" && echo "${nd_d#/proc/}"
	done
}

# nodes_kill_responders NAME: SIGKILL them by pid; prints how many.
nodes_kill_responders() {
	nd_k=0
	for nd_p in $(nodes_responders "$1"); do
		kill -KILL "$nd_p" 2>/dev/null
		nd_k=$((nd_k + 1))
	done
	echo $nd_k
}

# nodes_sed_escape TEXT: TEXT as a sed replacement between | delimiters.
nodes_sed_escape() {
	printf '%s' "$1" | sed 's/[\\&|]/\\&/g'
}

# nodes_render TEMPLATE OUT: ws_render with the database URI (whose & a
# plain sed replacement would mangle) put in afterwards, and the issuer
# line of the lighttpd template enabled.
nodes_render() {
	nd_db=$WS_DB
	WS_DB=NODES-DB-URI
	ws_render "$1" "$2.in"
	nd_rc=$?
	WS_DB=$nd_db
	[ $nd_rc -eq 0 ] || return 1
	sed -e "s|NODES-DB-URI|$(nodes_sed_escape "$WS_DB")|g" \
	    -e "s|^\([[:space:]]*\)#\(\"OAUTH_ISSUER\" => \)\"[^\"]*\"|\1\2\"$NODES_ISSUER\"|" \
	    "$2.in" >"$2" && rm -f "$2.in"
}

# nodes_dir NAME: run/NAME and bin-NAME/oauth.fcgi, owned by the worker.
nodes_dir() {
	mkdir -p "$ws_tmp/run/$1" "$ws_tmp/bin-$1" &&
	    cp "$FCGI" "$ws_tmp/bin-$1/oauth.fcgi" &&
	    cp "$(dirname "$FCGI")/oauth-jose.so" "$ws_tmp/bin-$1/" || return 1
	[ -z "$ws_worker" ] || chown "$ws_worker:" "$ws_tmp/run/$1"
	NODES_NAMES="$NODES_NAMES $1"
}

# nodes_lighttpd NAME [--no-wait]: node NAME is lighttpd with mod_fastcgi
# spawning two responders (etc/lighttpd/oauth-fastcgi.conf, "max-procs"
# => 2).  Sets NODES_BASE_NAME (http://127.0.0.1:PORT/oauth) and
# NODES_PID_NAME; one result line per step; returns 1 when the node does
# not come up (with --no-wait, when it does not start).
nodes_lighttpd() {
	nodes_dir "$1" || return 1
	nd_port=$(ws_free_port) || { ws_notok "a free port for $1"; return 1; }
	nd_run=$ws_tmp/run/$1
	nd_conf=$nd_run/lighttpd.conf
	(WS_RUN=$nd_run WS_PORT=$nd_port WS_BIN=$ws_tmp/bin-$1 \
	    nodes_render etc/lighttpd/oauth-fastcgi.conf "$nd_conf")
	ws_check "node $1: etc/lighttpd/oauth-fastcgi.conf renders" \
	    [ -s "$nd_conf" ]
	ws_check "node $1: its responders get OAUTH_DB and OAUTH_ISSUER" \
	    grep -q "\"OAUTH_ISSUER\" => \"$NODES_ISSUER\"" "$nd_conf"
	ws_check "node $1: lighttpd -tt accepts it" \
	    ws_quiet lighttpd -tt -f "$nd_conf"
	nd_out=$WS_RUN
	WS_RUN=$nd_run
	ws_start lighttpd lighttpd -D -f "$nd_conf"
	WS_RUN=$nd_out
	eval "NODES_PID_$1=\$ws_pid NODES_BASE_$1=http://127.0.0.1:$nd_port/oauth"
	[ "${2:-}" = --no-wait ] && return 0
	nodes_up "$1" "lighttpd on 127.0.0.1:$nd_port" "$nd_run/lighttpd.out" \
	    "$nd_run/error.log"
}

# nodes_nginx NAME: node NAME is nginx (etc/nginx/oauth-spawn-fcgi.conf)
# in front of spawn-fcgi -F 2: two responders forked on one unix socket,
# started as the worker user with the database and issuer in their
# environment.
nodes_nginx() {
	nodes_dir "$1" || return 1
	nd_port=$(ws_free_port) || { ws_notok "a free port for $1"; return 1; }
	nd_run=$ws_tmp/run/$1
	nd_conf=$nd_run/nginx.conf
	nd_sock=$nd_run/oauth.sock
	(WS_RUN=$nd_run WS_PORT=$nd_port WS_SOCKET=$nd_sock WS_BIN=$ws_tmp/bin-$1 \
	    nodes_render etc/nginx/oauth-spawn-fcgi.conf "$nd_conf")
	ws_check "node $1: etc/nginx/oauth-spawn-fcgi.conf renders" \
	    [ -s "$nd_conf" ]
	# shellcheck disable=SC2086
	env OAUTH_DB="$NODES_DB" OAUTH_ISSUER="$NODES_ISSUER" $ws_runas \
	    spawn-fcgi -s "$nd_sock" -M 0660 -F 2 -- "$ws_tmp/bin-$1/oauth.fcgi" \
	    >"$nd_run/spawn-fcgi.out" 2>&1 </dev/null
	nd_i=0
	while [ "$(nodes_responders "$1" | wc -l)" -lt 2 ] && [ $nd_i -lt 100 ]
	do
		sleep 0.1
		nd_i=$((nd_i + 1))
	done
	ws_check "node $1: spawn-fcgi -F 2 forked two responders on $nd_sock" \
	    nodes_forked "$1" "$nd_sock"
	ws_check "node $1: nginx -t accepts it" \
	    ws_quiet nginx -t -q -e "$nd_run/error.log" -c "$nd_conf"
	nd_out=$WS_RUN
	WS_RUN=$nd_run
	ws_start nginx nginx -e "$nd_run/error.log" -c "$nd_conf" -g 'daemon off;'
	WS_RUN=$nd_out
	eval "NODES_PID_$1=\$ws_pid NODES_BASE_$1=http://127.0.0.1:$nd_port/oauth"
	nodes_up "$1" "nginx on 127.0.0.1:$nd_port" "$nd_run/nginx.out" \
	    "$nd_run/error.log" "$nd_run/spawn-fcgi.out"
}

nodes_forked() {
	[ "$(nodes_responders "$1" | wc -l)" -eq 2 ] && [ -S "$2" ]
}

# nodes_up NAME DESC LOG...: one result line for whether node NAME's
# metadata answers 200 with the shared issuer, within WS_START_TIMEOUT.
nodes_up() {
	nd_n=$1 nd_desc=$2
	shift 2
	eval "nd_base=\$NODES_BASE_$nd_n nd_pid=\$NODES_PID_$nd_n"
	nd_i=0
	while [ $nd_i -lt $((WS_START_TIMEOUT * 10)) ]; do
		ws_alive "$nd_pid" || break
		ws_http "$nd_base/.well-known/oauth-authorization-server"
		[ "$ws_status" = 200 ] && break
		sleep 0.1
		nd_i=$((nd_i + 1))
	done
	if [ "$ws_status" = 200 ] && [ "$(ws_json issuer)" = "$NODES_ISSUER" ]
	then
		ws_ok "node $nd_n: $nd_desc serves the metadata of $NODES_ISSUER"
		return 0
	fi
	ws_notok "node $nd_n: $nd_desc serves the metadata of $NODES_ISSUER"
	echo "#   last answer: $ws_status $(head -c 300 "$ws_tmp/body" 2>/dev/null)"
	ws_server_log "$@"
	return 1
}

# nodes_py SUBCOMMAND ARGS...: tests/web/lib_nodes.py, bounded by
# NODES_PY_TIMEOUT seconds (240); its result lines shown and counted.
nodes_py() {
	timeout "${NODES_PY_TIMEOUT:-240}" "$WS_PYTHON" tests/web/lib_nodes.py \
	    "$@" >"$ws_tmp/py.out" 2>&1
	nd_rc=$?
	cat "$ws_tmp/py.out"
	nd_p=$(grep -c '^ok - ' "$ws_tmp/py.out")
	nd_f=$(grep -c '^not ok - ' "$ws_tmp/py.out")
	ws_passed=$((ws_passed + nd_p))
	ws_failed=$((ws_failed + nd_f))
	if [ $nd_rc -ne 0 ] || [ $((nd_p + nd_f)) -eq 0 ]; then
		ws_notok "lib_nodes.py $1 ran to its end (exit $nd_rc)"
	fi
}

# nodes_check_gone NAME DESC: one result line for whether node NAME's
# responders are all gone within WS_STOP_TIMEOUT seconds (those left are
# killed).
nodes_check_gone() {
	nd_i=0
	while [ -n "$(nodes_responders "$1")" ] &&
	    [ $nd_i -lt $((WS_STOP_TIMEOUT * 10)) ]; do
		sleep 0.1
		nd_i=$((nd_i + 1))
	done
	nd_k=$(nodes_kill_responders "$1")
	ws_check "no responder of node $1 outlives $2 ($nd_k left)" [ "$nd_k" -eq 0 ]
}

# nodes_connections: how many connections the responders (and any other
# fcgi-oauth process) hold to NODES_DB now.
nodes_connections() {
	pg_psql "$NODES_DB" "SELECT count(*) FROM pg_stat_activity
	    WHERE application_name = 'fcgi-oauth'
	    AND datname = current_database() AND pid <> pg_backend_pid()"
}

# nodes_crashes NAME: the lines of node NAME's error log telling of a
# responder that died of a signal or exited unasked.
nodes_crashes() {
	grep -iE 'signal|SIGSYS|died|segfault|core dumped|exited|terminated' \
	    "$ws_tmp/run/$1/error.log" 2>/dev/null
}

# nodes_seccomp NAME: the kernel's audit lines (where dmesg may be read)
# of node NAME's responders killed by the seccomp filter: the syscall
# number says which call the sandbox lacks.
nodes_seccomp() {
	dmesg 2>/dev/null | grep 'type=1326' |
	    grep -F "exe=\"$ws_tmp/bin-$1/oauth.fcgi\"" |
	    sed 's/.* pid=\([0-9]*\) .* sig=\([0-9]*\) .* syscall=\([0-9]*\) .*/pid \1 killed by signal \2 at syscall \3/'
}

# ---- Run rather than sourced ---------------------------------------------

# tests/check.sh runs every tests/web/*.sh, this file included.  Run, it
# checks what needs no server: a URI with the characters sed and the
# configurations care about renders verbatim into both templates, the
# issuer line is enabled, and the suites and lib_nodes.py parse.
nodes_lint() {
	WS_NAME=lib_nodes
	. tests/web/lib_server.sh
	ws_tmp=$(mktemp -d "${TMPDIR:-/tmp}/lib_nodes.XXXXXX") || exit 1
	trap ws_cleanup EXIT
	WS_RUN=$ws_tmp/run WS_BIN=$ws_tmp/bin WS_HTPASSWD=$ws_tmp/htpasswd
	WS_SOCKET=$ws_tmp/oauth.sock WS_PORT=8080
	WS_DB='postgresql:///oauth?host=/tmp/a|b&user=x\\y&sslmode=disable'
	for nd_t in etc/lighttpd/oauth-fastcgi.conf etc/nginx/oauth-spawn-fcgi.conf
	do
		ws_check "$nd_t renders with a postgresql:// URI" \
		    nodes_render "$nd_t" "$ws_tmp/out"
		case $nd_t in
		*lighttpd*)
			ws_check "... the URI verbatim in OAUTH_DB" \
			    grep -qF "\"OAUTH_DB\" => \"$WS_DB\"" "$ws_tmp/out"
			ws_check "... and OAUTH_ISSUER enabled" grep -qF \
			    "\"OAUTH_ISSUER\" => \"$NODES_ISSUER\"" "$ws_tmp/out"
			;;
		esac
	done
	for nd_s in tests/web/test_two_nodes.sh tests/web/test_pg_faults.sh; do
		ws_check "$nd_s parses (sh -n)" sh -n "$nd_s"
	done
	ws_check "tests/web/lib_nodes.py compiles" "$WS_PYTHON" -c \
	    'import ast, sys; ast.parse(open(sys.argv[1]).read())' \
	    tests/web/lib_nodes.py
	ws_finish
}

case $0 in
*lib_nodes.sh)	nodes_lint ;;
esac
