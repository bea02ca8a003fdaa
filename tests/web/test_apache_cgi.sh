#!/bin/sh
# fcgi-oauth under Apache 2.4 + mod_cgi with etc/apache2/oauth-cgi.conf as
# shipped (placeholders filled in): a foreground apache2 on a free
# loopback port runs the end-to-end cases of lib_server.sh, each request
# a fresh oauth.fcgi answering as a CGI program.  Skips, with a visible
# line, when apache2 or mod_cgi is missing.  Last line: "N passed, M failed".

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_apache_cgi
. tests/web/lib_server.sh

ws_need_common
ws_need_cmd apache2 apache2
ws_need_file /usr/lib/apache2/modules/mod_cgi.so apache2
ws_need_build
ws_init

ws_check "database with the test clients" ws_setup_db
ws_serve apache2 etc/apache2/oauth-cgi.conf &&
    ws_oauth_cases "http://127.0.0.1:$WS_PORT"
ws_stop_server "$ws_pid" apache2
ws_finish
