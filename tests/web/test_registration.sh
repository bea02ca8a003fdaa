#!/bin/sh
# Dynamic client registration (RFC 7591, RFC 7592) through lighttpd with
# etc/lighttpd/oauth-fastcgi.conf as shipped, the responders started with
# OAUTH_REGISTRATION=token: openid-client (npm, on oauth4webapi, pinned in
# tests/web/oidc-client/package-lock.json) registers a confidential client,
# a client of keys (private_key_jwt) and a public client, uses them, and
# reads and deletes a registration
# (tests/web/oidc-client/dcr_test.mjs).  Skips, with a visible line, when
# lighttpd, node or npm is missing.  Last line: "N passed, M failed".

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_registration
. tests/web/lib_server.sh

NPM_TIMEOUT=300		# seconds for npm ci, which may download
RUN_TIMEOUT=60		# seconds for the client's run
INITIAL_TOKEN=initial-access-token-0123456789abcdefghijkl

ws_need_common
ws_need_cmd lighttpd lighttpd
ws_need_cmd node nodejs
ws_need_cmd npm npm
ws_need_build
ws_init

rp=$ws_tmp/rp
mkdir -p "$rp" &&
    cp tests/web/oidc-client/package.json \
    tests/web/oidc-client/package-lock.json \
    tests/web/oidc-client/dcr_test.mjs tests/web/oidc-client/client_lib.mjs \
    "$rp/" || ws_finish
if timeout "$NPM_TIMEOUT" npm ci --prefix "$rp" --no-audit --no-fund \
    --ignore-scripts >"$ws_tmp/npm.out" 2>&1; then
	ws_ok "npm ci installs the pinned openid-client"
else
	ws_notok "npm ci installs the pinned openid-client"
	sed 's/^/#   /' "$ws_tmp/npm.out" | tail -n 20
	ws_finish
fi
ws_check "database with the test clients" ws_setup_db
# The responders inherit lighttpd's environment.
OAUTH_REGISTRATION=token
OAUTH_REGISTRATION_TOKEN_SHA256=$(printf %s "$INITIAL_TOKEN" |
    sha256sum | cut -d' ' -f1)
OAUTH_REGISTRATION_SCOPES=read
# The issuer configured, as private_key_jwt needs.
OAUTH_ISSUER=http://127.0.0.1:$WS_PORT/oauth
export OAUTH_REGISTRATION OAUTH_REGISTRATION_TOKEN_SHA256 \
    OAUTH_REGISTRATION_SCOPES OAUTH_ISSUER
ws_serve lighttpd etc/lighttpd/oauth-fastcgi.conf || ws_finish

ISSUER=$OAUTH_ISSUER INITIAL_TOKEN=$INITIAL_TOKEN \
    USER_NAME=$WS_USER_NAME USER_PASS=$WS_USER_PASS \
    timeout "$RUN_TIMEOUT" node "$rp/dcr_test.mjs" >"$ws_tmp/run.out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ws_ok "openid-client: ${line#ok - }" ;;
	"not ok - "*) ws_notok "openid-client: ${line#not ok - }" ;;
	"#"*) echo "$line" ;;
	*) echo "# $line" ;;
	esac
done <"$ws_tmp/run.out"
ws_check "the client's run exits 0" [ "$rc" -eq 0 ]

ws_stop_server "$ws_pid" "lighttpd"
ws_finish
