#!/bin/sh
# oauth.fcgi --threads N behind real web servers, on one database:
#   1. spawn-fcgi -F 2 forking two responders of 8 threads each, behind
#      nginx as etc/nginx/oauth-spawn-fcgi.conf renders, OAUTH_DB_SYNC=full:
#      the end-to-end cases of lib_server.sh; 400 client_credentials
#      tokens from 24 concurrent clients, all distinct and active after,
#      in fewer LMDB commits than requests (mdb_stat's last transaction
#      id before and after: the group commit of storage/store_group.c);
#      one code, then one refresh token, spent by 8 requests at once,
#      round after round: exactly one wins, the replays revoke the grant;
#   2. oauth.fcgi --listen --threads 8 behind nginx (etc/nginx/
#      oauth-listen.conf, etc/oauth.conf): the cases, then SIGTERM while
#      requests are in flight, through nginx and held open on the socket:
#      every request the responder took is answered, only those it never
#      accepted get nginx's 502, and it exits 0 within 10 s;
#   3. lighttpd spawning two responders itself (etc/lighttpd/
#      oauth-fastcgi.conf) with "--threads 4" in its bin-path: the cases.
# Skips, with a visible line, when a web server or mdb_stat (lmdb-utils)
# is missing.  Last line: "N passed, M failed".
#
# OAUTH_TEST_BACKEND=postgresql: the same on a PostgreSQL database, where
# each thread has a connection of its own; the commit count, an LMDB
# figure, is not taken there.

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_threads
. tests/web/lib_server.sh

# Debian's web servers are in /usr/sbin, outside a user's PATH.
PATH=$PATH:/usr/sbin:/sbin

SPAWN_THREADS=8		# --threads of the spawn-fcgi and --listen responders
LIGHTTPD_THREADS=4	# --threads in lighttpd's bin-path
LOAD_TOKENS=400		# client_credentials requests of the commit count
# Concurrent clients sending them.  Not 32: nginx as etc/ ships it has 64
# worker_connections, of which its listener takes one and each request
# passed on two (the client's and the FastCGI one): 31 clients at most.
LOAD_CLIENTS=24
RACE_ROUNDS=30		# rounds of each race
RACE_REQUESTS=8		# requests spending one code or refresh token at once
STOP_CLIENTS=8		# clients through nginx while the responder stops
STOP_HELD=3		# requests held open on its socket across the stop
TL_PY_TIMEOUT=180	# seconds for one threads_load.py command

ws_need_common
ws_need_cmd nginx nginx
ws_need_cmd spawn-fcgi spawn-fcgi
ws_need_cmd lighttpd lighttpd
[ "$BACKEND" = postgresql ] || ws_need_cmd mdb_stat lmdb-utils
ws_need_build
ws_init

# threads_load.py reads them as tests/web/lib_nodes.py does.
export NODES_SVC_SECRET="$WS_SVC_SECRET" NODES_RS_SECRET="$WS_RS_SECRET"
export NODES_USER_NAME="$WS_USER_NAME" NODES_USER_PASS="$WS_USER_PASS"
export NODES_REDIRECT="$WS_REDIRECT"

# deploy NAME: WS_RUN becomes run/NAME (the worker's, as lighttpd and
# nginx's workers write there), with a socket and a port of its own, so
# that one deployment's leftovers never meet the next.
deploy() {
	WS_RUN=$ws_tmp/run/$1
	mkdir -p "$WS_RUN" || return 1
	[ -z "$ws_worker" ] || chown "$ws_worker:" "$WS_RUN"
	WS_SOCKET=$WS_RT/oauth-fcgi/$1.sock
	WS_PORT=$(ws_free_port)
}

# tasks PID: how many threads PID has.
tasks() {
	ls "/proc/$1/task" 2>/dev/null | wc -l
}

# threaded COUNT MIN: whether exactly COUNT responders of this run are up,
# each with at least MIN threads, within WS_START_TIMEOUT seconds (their
# workers start after the socket is there).  Their pids in responders,
# "pid:threads" each in threads_seen.
threaded() {
	_i=0
	while :; do
		responders=$(ws_responders | sort -n | tr '\n' ' ')
		threads_seen=
		_short=0
		for _p in $responders; do
			_t=$(tasks "$_p")
			threads_seen="$threads_seen $_p:$_t"
			[ "$_t" -ge "$2" ] || _short=1
		done
		[ "$(echo "$responders" | wc -w)" -eq "$1" ] && [ $_short -eq 0 ] &&
		    return 0
		[ $_i -lt $((WS_START_TIMEOUT * 10)) ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# has_args PID WORDS...: whether PID's command line ends with WORDS.
has_args() {
	_p=$1
	shift
	case "$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)" in
	*" $* ")	return 0 ;;
	esac
	return 1
}

# last_txn: the last transaction id of the LMDB environment.
last_txn() {
	ws_as_worker mdb_stat -e "$WS_DB" 2>/dev/null |
	    sed -n 's/^ *Last transaction ID: *\([0-9]*\)$/\1/p'
}

# fewer TXN0 TXN1 N: whether the transaction ids were read and fewer
# than N commits, but at least one, lie between them.
fewer() {
	[ -n "$1" ] && [ -n "$2" ] && [ $(($2 - $1)) -gt 0 ] &&
	    [ $(($2 - $1)) -lt "$3" ]
}

# tl_py COMMAND ARGS...: tests/web/threads_load.py, bounded by
# TL_PY_TIMEOUT; its result lines shown and counted.
tl_py() {
	timeout "$TL_PY_TIMEOUT" "$WS_PYTHON" tests/web/threads_load.py "$@" \
	    >"$ws_tmp/py.out" 2>&1
	_rc=$?
	cat "$ws_tmp/py.out"
	_p=$(grep -c '^ok - ' "$ws_tmp/py.out")
	_f=$(grep -c '^not ok - ' "$ws_tmp/py.out")
	ws_passed=$((ws_passed + _p))
	ws_failed=$((ws_failed + _f))
	if [ $_rc -ne 0 ] || [ $((_p + _f)) -eq 0 ]; then
		ws_notok "threads_load.py $1 ran to its end (exit $_rc)"
	fi
}

ws_check "database with the test clients" ws_setup_db
# The workers and the main thread; on LMDB a committer besides.
min_spawn=$((SPAWN_THREADS + 1))
min_lighttpd=$((LIGHTTPD_THREADS + 1))

# ---- 1. spawn-fcgi -F 2, nginx --------------------------------------------

echo "# spawn-fcgi -F 2 -- oauth.fcgi --threads $SPAWN_THREADS, nginx"
deploy spawn
# shellcheck disable=SC2086
env OAUTH_DB="$WS_DB" OAUTH_DB_SYNC=full $ws_runas \
    spawn-fcgi -s "$WS_SOCKET" -M 0660 -F 2 -- "$WS_BIN/oauth.fcgi" \
    --threads "$SPAWN_THREADS" >"$WS_RUN/spawn-fcgi.out" 2>&1 </dev/null
if threaded 2 "$min_spawn"; then
	ws_ok "spawn-fcgi forked 2 responders with $min_spawn+ threads each" \
	    "(pid:threads$threads_seen)"
else
	ws_notok "spawn-fcgi forked 2 responders with $min_spawn+ threads" \
	    "each (pid:threads$threads_seen)"
	ws_server_log "$WS_RUN/spawn-fcgi.out"
fi
spawned=$responders
base=http://127.0.0.1:$WS_PORT
if ws_serve nginx etc/nginx/oauth-spawn-fcgi.conf; then
	ws_oauth_cases "$base"

	# The commit count needs nothing else writing meanwhile: the cases
	# are done, and only this load reaches the two responders.
	if [ "$BACKEND" = lmdb ]; then
		txn0=$(last_txn)
		tl_py tokens "$base/oauth" "$LOAD_TOKENS" "$LOAD_CLIENTS" \
		    "$ws_tmp/tokens"
		txn1=$(last_txn)
		commits=$(( ${txn1:-0} - ${txn0:-0} ))
		ws_check "group commit: $LOAD_TOKENS token requests in $commits LMDB commits (last transaction id $txn0 -> $txn1), fewer than requests" \
		    fewer "$txn0" "$txn1" "$LOAD_TOKENS"
	else
		tl_py tokens "$base/oauth" "$LOAD_TOKENS" "$LOAD_CLIENTS" \
		    "$ws_tmp/tokens"
		echo "# group commit count skipped on PostgreSQL: there is no LMDB transaction id, and each thread commits on its own connection"
	fi
	tl_py active "$base/oauth" "$LOAD_CLIENTS" "$ws_tmp/tokens"
	tl_py coderace "$base/oauth" "$RACE_ROUNDS" "$RACE_REQUESTS"
	tl_py refreshrace "$base/oauth" "$RACE_ROUNDS" "$RACE_REQUESTS"
fi
set --
for p in $spawned; do
	set -- "$@" "$p" "responder $p of spawn-fcgi"
done
ws_stop_server "$ws_pid" nginx "$@" -- "spawn-fcgi and nginx"

# ---- 2. oauth.fcgi --listen --threads, nginx; SIGTERM under load ----------

echo "# oauth.fcgi --listen --threads $SPAWN_THREADS, nginx"
deploy listen
ws_check "etc/oauth.conf renders" ws_render etc/oauth.conf "$WS_RUN/oauth.conf"
# shellcheck disable=SC2086
ws_start oauth env -u OAUTH_DB OAUTH_CONFIG="$WS_RUN/oauth.conf" $ws_runas \
    "$WS_BIN/oauth.fcgi" --listen "$WS_SOCKET" --threads "$SPAWN_THREADS"
fpid=$ws_pid
ws_came_up "oauth.fcgi --listen $WS_SOCKET --threads $SPAWN_THREADS listens" \
    listen "$WS_SOCKET" "$WS_RUN/oauth.out"
if threaded 1 "$min_spawn"; then
	ws_ok "one responder with $min_spawn+ threads (pid:threads$threads_seen)"
else
	ws_notok "one responder with $min_spawn+ threads (pid:threads$threads_seen)"
fi
base=http://127.0.0.1:$WS_PORT
if ws_serve nginx etc/nginx/oauth-listen.conf; then
	ws_oauth_cases "$base"
	tl_py stop "$base/oauth" "$WS_SOCKET" "$fpid" "$SPAWN_THREADS" \
	    "$STOP_CLIENTS" "$STOP_HELD"
	# Reaped here for its exit status, so no longer stopped at exit.
	if ws_alive "$fpid"; then
		ws_stop "$fpid"
		ws_notok "oauth.fcgi --threads exits 0 on SIGTERM (still running)"
	else
		wait "$fpid"
		rc=$?
		ws_check "oauth.fcgi --threads exits 0 on SIGTERM (exit $rc)" \
		    [ "$rc" -eq 0 ]
	fi
	ws_pids=$(echo " $ws_pids " | sed "s/ $fpid / /")
	ws_stop_server "$ws_pid" nginx -- "oauth.fcgi --listen --threads"
else
	ws_stop_server "$ws_pid" nginx "$fpid" "oauth.fcgi --listen" -- \
	    "oauth.fcgi --listen --threads"
fi

# ---- 3. lighttpd spawning with --threads in bin-path ----------------------

echo "# lighttpd, bin-path oauth.fcgi --threads $LIGHTTPD_THREADS"
deploy lighttpd
# lighttpd splits bin-path at spaces into the program and its arguments.
# Whatever arguments the shipped line has give way to this test's.
lt_bin='^\([[:space:]]*"bin-path" => "@BUILD@/oauth.fcgi\)'
sed "s|$lt_bin[^\"]*\"|\1 --threads $LIGHTTPD_THREADS\"|" \
    etc/lighttpd/oauth-fastcgi.conf >"$ws_tmp/oauth-fastcgi-threads.conf"
ws_check "etc/lighttpd/oauth-fastcgi.conf: its one bin-path given --threads $LIGHTTPD_THREADS" \
    [ "$(grep -c "^[[:space:]]*\"bin-path\" => \"@BUILD@/oauth.fcgi --threads $LIGHTTPD_THREADS\"" \
	"$ws_tmp/oauth-fastcgi-threads.conf")" -eq 1 ]
if ws_serve lighttpd "$ws_tmp/oauth-fastcgi-threads.conf"; then
	if threaded 2 "$min_lighttpd"; then
		ws_ok "lighttpd spawned 2 responders with $min_lighttpd+ threads each (pid:threads$threads_seen)"
	else
		ws_notok "lighttpd spawned 2 responders with $min_lighttpd+ threads each (pid:threads$threads_seen)"
	fi
	for p in $responders; do
		ws_check "responder $p runs with --threads $LIGHTTPD_THREADS" \
		    has_args "$p" --threads "$LIGHTTPD_THREADS"
	done
	ws_oauth_cases "http://127.0.0.1:$WS_PORT"
fi
ws_stop_server "$ws_pid" lighttpd -- "lighttpd"
ws_finish
