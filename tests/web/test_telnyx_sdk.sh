#!/bin/sh
# The official Telnyx SDK (npm "telnyx", pinned in tests/web/telnyx/
# package-lock.json and installed with npm ci) as a client of fcgi-oauth
# behind lighttpd with etc/lighttpd/oauth-fastcgi.conf as shipped: its
# oauth.token (body credentials beside its own Bearer token) and
# oauth.introspect (authorized by that Bearer token) calls, a revoked
# token, and a wrong secret.  The SDK's requests for the Telnyx API are
# sent to the loopback server by its fetch option.  Skips, with a visible
# line, when lighttpd, node or npm is missing.  Last line: "N passed, M
# failed".

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_telnyx_sdk
. tests/web/lib_server.sh

NPM_TIMEOUT=300		# seconds for npm ci, which may download
SDK_TIMEOUT=60		# seconds for the SDK run

ws_need_common
ws_need_cmd lighttpd lighttpd
ws_need_cmd node nodejs
ws_need_cmd npm npm
ws_need_build
ws_init

ws_check "database with the test clients" ws_setup_db
ws_serve lighttpd etc/lighttpd/oauth-fastcgi.conf || ws_finish

sdk=$ws_tmp/sdk
mkdir -p "$sdk" &&
    cp tests/web/telnyx/package.json tests/web/telnyx/package-lock.json \
    tests/web/telnyx/sdk_test.js "$sdk/" || ws_finish
if timeout "$NPM_TIMEOUT" npm ci --prefix "$sdk" --no-audit --no-fund \
    --ignore-scripts >"$ws_tmp/npm.out" 2>&1; then
	ws_ok "npm ci installs the pinned telnyx package"
else
	ws_notok "npm ci installs the pinned telnyx package"
	sed 's/^/#   /' "$ws_tmp/npm.out" | tail -n 20
	ws_finish
fi

OAUTH_BASE=http://127.0.0.1:$WS_PORT CLIENT_ID=svc \
    CLIENT_SECRET=$WS_SVC_SECRET timeout "$SDK_TIMEOUT" \
    node "$sdk/sdk_test.js" >"$ws_tmp/sdk.out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ws_ok "telnyx: ${line#ok - }" ;;
	"not ok - "*) ws_notok "telnyx: ${line#not ok - }" ;;
	*) echo "# $line" ;;
	esac
done <"$ws_tmp/sdk.out"
ws_check "the SDK run exits 0" [ "$rc" -eq 0 ]
ws_finish
