#!/bin/sh
# fcgi-oauth behind nginx with oauth.fcgi opening its own FastCGI socket
# (oauth.fcgi --listen 127.0.0.1:PORT, no spawn-fcgi, configured by
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

WS_FCGI_PORT=$(ws_free_port) || { ws_notok "a second free port"; ws_finish; }

ws_check "database with the test clients" ws_setup_db
# The responder takes its configuration from etc/oauth.conf as shipped.
ws_check "etc/oauth.conf renders" ws_render etc/oauth.conf "$WS_RUN/oauth.conf"
# shellcheck disable=SC2086
ws_start oauth env -u OAUTH_DB OAUTH_CONFIG="$WS_RUN/oauth.conf" $ws_runas \
    "$WS_BIN/oauth.fcgi" --listen "127.0.0.1:$WS_FCGI_PORT"
fpid=$ws_pid
if ws_wait_listen "$WS_FCGI_PORT" "$fpid"; then
	ws_ok "oauth.fcgi --listen 127.0.0.1:$WS_FCGI_PORT listens"
else
	ws_notok "oauth.fcgi --listen 127.0.0.1:$WS_FCGI_PORT listens"
	ws_server_log "$WS_RUN/oauth.out"
fi

ws_check "etc/nginx/oauth-listen.conf renders" \
    ws_render etc/nginx/oauth-listen.conf "$WS_RUN/nginx.conf"
ws_check "nginx -t accepts it" ws_quiet \
    nginx -t -q -e "$WS_RUN/error.log" -c "$WS_RUN/nginx.conf"
ws_start nginx nginx -e "$WS_RUN/error.log" -c "$WS_RUN/nginx.conf" \
    -g 'daemon off;'
npid=$ws_pid
if ws_wait_http "$WS_PORT" "$npid"; then
	ws_ok "nginx answers on 127.0.0.1:$WS_PORT"
	ws_oauth_cases "http://127.0.0.1:$WS_PORT"
else
	ws_notok "nginx answers on 127.0.0.1:$WS_PORT"
	ws_server_log "$WS_RUN/nginx.out" "$WS_RUN/error.log"
fi

ws_check "nginx stops on SIGTERM" ws_stop "$npid"
ws_check "oauth.fcgi --listen stops on SIGTERM" ws_stop "$fpid"
ws_check_strays "the test"
ws_finish
