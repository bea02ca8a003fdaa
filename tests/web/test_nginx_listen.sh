#!/bin/sh
# fcgi-oauth behind nginx with oauth.fcgi opening its own FastCGI socket
# (oauth.fcgi --listen on a unix socket, no spawn-fcgi, configured by
# OAUTH_CONFIG=etc/oauth.conf), with etc/nginx/oauth-listen.conf as shipped
# (placeholders filled in): nginx on a free loopback port runs the
# end-to-end cases of lib_server.sh, then both stop on SIGTERM.  Skips,
# with a visible line, when nginx is missing.  Last line: "N passed, M
# failed".
#
# OAUTH_TEST_BACKEND=postgresql: the deployment etc/postgresql describes
# instead, on the test's server: the role and database made by
# etc/postgresql/create-database.sql (under a name of this run), the
# responder connecting as that role and configured by
# etc/postgresql/oauth.conf, its OAUTH_DB and OAUTH_ISSUER this test's.

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_nginx_listen
. tests/web/lib_server.sh

ws_need_common
ws_need_cmd nginx nginx
ws_need_build
ws_init

# pg_create NAME: etc/postgresql/create-database.sql run as the server's
# superuser, its role and database called NAME.
pg_create() {
	sed '/^--/!s/\<oauth\>/'"$1"'/g' etc/postgresql/create-database.sql \
	    >"$WS_RUN/create-database.sql" &&
	    "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d "$backend_maint" \
		-f "$WS_RUN/create-database.sql" </dev/null
}

# pg_conf: etc/postgresql/oauth.conf with this test's database and issuer;
# both lines must be there to be replaced.
pg_conf() {
	grep -q '^OAUTH_DB=' etc/postgresql/oauth.conf &&
	    grep -q '^OAUTH_ISSUER=' etc/postgresql/oauth.conf || return 1
	_db=$(printf '%s\n' "$WS_DB" | sed 's/[&|\\]/\\&/g')
	sed -e "s|^OAUTH_DB=.*|OAUTH_DB=$_db|" \
	    -e "s|^OAUTH_ISSUER=.*|OAUTH_ISSUER=http://127.0.0.1:$WS_PORT/oauth|" \
	    etc/postgresql/oauth.conf >"$WS_RUN/oauth.conf"
}

if [ "$BACKEND" = postgresql ]; then
	pg_name=$(backend_name deploy)
	backend_adopt database "$pg_name"
	backend_adopt role "$pg_name"
	ws_check "etc/postgresql/create-database.sql makes the role and database" \
	    ws_quiet pg_create "$pg_name"
	# The same server, as the role that owns the database.
	WS_DB=$(backend_uri "$pg_name" |
	    sed "s/\([?&]user=\)[^&]*/\1$pg_name/")
fi
ws_check "database with the test clients" ws_setup_db
if [ "$BACKEND" = postgresql ]; then
	ws_check "oauthctl init made the tables, the role owns them all" \
	    [ "$(backend_psql "$WS_DB" "SELECT count(*) >= 4 AND
		bool_and(tableowner = current_user) FROM pg_tables
		WHERE tablename LIKE 'oauth%'" 2>/dev/null)" = t ]
	ws_check "etc/postgresql/oauth.conf renders" pg_conf
else
	# The responder takes its configuration from etc/oauth.conf as shipped.
	ws_check "etc/oauth.conf renders" \
	    ws_render etc/oauth.conf "$WS_RUN/oauth.conf"
fi
# shellcheck disable=SC2086
ws_start oauth env -u OAUTH_DB OAUTH_CONFIG="$WS_RUN/oauth.conf" $ws_runas \
    "$WS_BIN/oauth.fcgi" --listen "$WS_SOCKET"
fpid=$ws_pid
ws_came_up "oauth.fcgi --listen $WS_SOCKET listens" \
    listen "$WS_SOCKET" "$WS_RUN/oauth.out"
ws_check "the socket is created 0660" \
    [ "$(stat -c %a "$WS_SOCKET" 2>/dev/null)" = 660 ]

ws_serve nginx etc/nginx/oauth-listen.conf &&
    ws_oauth_cases "http://127.0.0.1:$WS_PORT"
ws_stop_server "$ws_pid" nginx "$fpid" "oauth.fcgi --listen" -- "the test"
ws_finish
