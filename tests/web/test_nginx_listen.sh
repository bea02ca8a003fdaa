#!/bin/sh
# fcgi-oauth behind nginx with oauth.fcgi opening its own FastCGI socket
# (oauth.fcgi --listen on a unix socket, no spawn-fcgi, configured by
# OAUTH_CONFIG=etc/oauth.conf), with etc/nginx/oauth-listen.conf as shipped
# (placeholders filled in): nginx on a free loopback port runs the
# end-to-end cases of lib_server.sh, then both stop on SIGTERM.  Skips,
# with a visible line, when nginx is missing.  Last line: "N passed, M
# failed".

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_nginx_listen
. tests/web/lib_server.sh

ws_need_common
ws_need_cmd nginx nginx
ws_need_build
ws_init

ws_check "database with the test clients" ws_setup_db
# The responder takes its configuration from etc/oauth.conf as shipped.
ws_check "etc/oauth.conf renders" ws_render etc/oauth.conf "$WS_RUN/oauth.conf"
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
