#!/bin/sh
# private_key_jwt (RFC 7523 §2.2) through lighttpd with
# etc/lighttpd/oauth-fastcgi.conf as shipped: openid-client (npm, on
# oauth4webapi, pinned in tests/web/oidc-client/package-lock.json) makes an
# ES256 and an Ed25519 key, whose public JWK Set the operator registers
# with oauthctl client add --jwks, then authenticates with assertions at
# /token, /introspect and /revoke (tests/web/oidc-client/pkjwt_test.mjs);
# a replayed assertion and one by an unregistered key are refused.  Skips,
# with a visible line, when lighttpd, node or npm is missing.  Last line:
# "N passed, M failed".

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_private_key_jwt
. tests/web/lib_server.sh

NPM_TIMEOUT=300		# seconds for npm ci, which may download
RUN_TIMEOUT=60		# seconds for the client's run
CLIENT_ID=pkjwt-svc

ws_need_common
ws_need_cmd lighttpd lighttpd
ws_need_cmd node nodejs
ws_need_cmd npm npm
ws_need_build
ws_init

rp=$ws_tmp/rp
mkdir -p "$rp/keys" &&
    cp tests/web/oidc-client/package.json \
    tests/web/oidc-client/package-lock.json \
    tests/web/oidc-client/pkjwt_test.mjs tests/web/oidc-client/client_lib.mjs "$rp/" || ws_finish
if timeout "$NPM_TIMEOUT" npm ci --prefix "$rp" --no-audit --no-fund \
    --ignore-scripts >"$ws_tmp/npm.out" 2>&1; then
	ws_ok "npm ci installs the pinned openid-client"
else
	ws_notok "npm ci installs the pinned openid-client"
	sed 's/^/#   /' "$ws_tmp/npm.out" | tail -n 20
	ws_finish
fi
ws_check "the client makes its keys" timeout "$RUN_TIMEOUT" \
    node "$rp/pkjwt_test.mjs" keys "$rp/keys"
chmod a+r "$rp/keys/public.jwks" 2>/dev/null
ws_check "database with the test clients" ws_setup_db
ws_check "oauthctl client add --jwks with the client's public keys" \
    ws_quiet ws_ctl client add "$CLIENT_ID" --jwks "$rp/keys/public.jwks" \
    --scope read --grant-types client_credentials
ws_ctl client show "$CLIENT_ID" >"$ws_tmp/show.out" 2>&1
ws_check "client show: authentication private_key_jwt" \
    grep -qx 'authentication: private_key_jwt' "$ws_tmp/show.out"
# private_key_jwt needs the issuer configured, as production sets it
# (etc/lighttpd/oauth-fastcgi.conf): the responders inherit it.
OAUTH_ISSUER=http://127.0.0.1:$WS_PORT/oauth
export OAUTH_ISSUER
ws_serve lighttpd etc/lighttpd/oauth-fastcgi.conf || ws_finish

ISSUER=$OAUTH_ISSUER CLIENT_ID=$CLIENT_ID \
    timeout "$RUN_TIMEOUT" node "$rp/pkjwt_test.mjs" run "$rp/keys" \
    >"$ws_tmp/run.out" 2>&1
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
