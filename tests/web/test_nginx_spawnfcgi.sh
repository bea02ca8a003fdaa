#!/bin/sh
# fcgi-oauth behind nginx with spawn-fcgi, as etc/ ships them: the systemd
# unit etc/systemd/oauth-fcgi.service is checked (systemd-analyze verify,
# systemd-sysusers on a scratch root) and its ExecStart, which runs
# spawn-fcgi on a unix socket, is started as systemd would start it (no
# systemd runs here as init, so it cannot start the unit itself);
# etc/nginx/oauth-spawn-fcgi.conf, placeholders filled in, serves a free
# loopback port and the end-to-end cases of lib_server.sh run through it.
# Skips, with a visible line, when nginx or spawn-fcgi is missing.  Last
# line: "N passed, M failed".  OAUTH_TEST_BACKEND=postgresql: the same on
# a PostgreSQL database, named as an EnvironmentFile would (lib_server.sh).

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_nginx_spawnfcgi
. tests/web/lib_server.sh

ws_need_common
ws_need_cmd nginx nginx
ws_need_cmd spawn-fcgi spawn-fcgi
ws_need_build
ws_init

unit=$WS_RUN/oauth-fcgi.service
ws_check "etc/systemd/oauth-fcgi.service renders" \
    ws_render etc/systemd/oauth-fcgi.service "$unit"

# systemd-analyze verify exits 0 on unknown keys; it must say nothing.
verify_unit() {
	systemd-analyze verify "$unit" >"$WS_RUN/verify.out" 2>&1
	_rc=$?
	sed 's/^/#   /' "$WS_RUN/verify.out"
	[ $_rc -eq 0 ] && [ ! -s "$WS_RUN/verify.out" ]
}

# Without systemd-analyze: every line a comment, a [Section] or Key=Value.
syntax_unit() {
	! grep -nEv '^(#.*|\[[A-Za-z]+\]|[A-Za-z]+=.*|)$' "$unit"
}

sysusers() {
	mkdir -p "$ws_tmp/sysroot/etc" &&
	    : >"$ws_tmp/sysroot/etc/passwd" && : >"$ws_tmp/sysroot/etc/group" &&
	    ws_quiet systemd-sysusers --root="$ws_tmp/sysroot" - \
		<etc/systemd/oauth-fcgi.sysusers &&
	    grep -q '^oauth-fcgi:' "$ws_tmp/sysroot/etc/passwd" &&
	    grep -q '^oauth-fcgi:.*:www-data' "$ws_tmp/sysroot/etc/group"
}

if command -v systemd-analyze >/dev/null 2>&1; then
	ws_check "systemd-analyze verify finds nothing to say" verify_unit
else
	ws_check "unit syntax (systemd-analyze missing)" syntax_unit
fi
if command -v systemd-sysusers >/dev/null 2>&1; then
	ws_check "oauth-fcgi.sysusers makes the user, www-data in its group" \
	    sysusers
else
	echo "# systemd-sysusers missing: oauth-fcgi.sysusers not checked"
fi

ws_check "database with the test clients" ws_setup_db
ws_unit_start "$unit"
fpid=$ws_pid
ws_came_up "the unit's spawn-fcgi command listens on $WS_SOCKET" \
    listen "$WS_SOCKET" "$WS_RUN/unit.out"
# spawn-fcgi changes the mode just after bind(2), when the socket file is
# already there: the mode is waited for, a bounded while.
socket_mode() {
	_i=0
	while [ $_i -lt 50 ]; do
		[ "$(stat -c %a "$WS_SOCKET" 2>/dev/null)" = "$1" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
ws_check "the socket is mode 0660 (spawn-fcgi -M)" socket_mode 660
ws_check "spawn-fcgi -n left oauth.fcgi itself for systemd to supervise" \
    [ "$(ws_responders)" = "$fpid" ]

ws_serve nginx etc/nginx/oauth-spawn-fcgi.conf &&
    ws_oauth_cases "http://127.0.0.1:$WS_PORT"
ws_stop_server "$ws_pid" nginx "$fpid" oauth.fcgi -- "the test"

# The purge timer and its service: valid units, and the service's
# ExecStart, run as systemd would run it, purges the database the cases
# above filled.
purge=$WS_RUN/oauth-purge.service
ws_check "etc/systemd/oauth-purge.service renders" \
    ws_render etc/systemd/oauth-purge.service "$purge"
cp etc/systemd/oauth-purge.timer "$WS_RUN/oauth-purge.timer"
if command -v systemd-analyze >/dev/null 2>&1; then
	unit=$purge
	ws_check "systemd-analyze verify: oauth-purge.service" verify_unit
	unit=$WS_RUN/oauth-purge.timer
	ws_check "systemd-analyze verify: oauth-purge.timer" verify_unit
else
	unit=$purge
	ws_check "oauth-purge.service syntax (systemd-analyze missing)" \
	    syntax_unit
fi
purge_run() {
	_x=$(sed -n 's/^ExecStart=//p' "$purge" |
	    sed "s|%t|$WS_RT|g; s|%S|$WS_STATE|g")
	_e=$(ws_unit_env "$purge")
	set -f
	# shellcheck disable=SC2086
	env $_e $ws_runas $_x >"$WS_RUN/purge.out" 2>&1
	_rc=$?
	set +f
	[ $_rc -eq 0 ] && grep -q '^purged [0-9]* tokens' "$WS_RUN/purge.out"
}
ws_check "oauth-purge.service's ExecStart purges the database" purge_run
ws_finish
