#!/bin/sh
# A strict OpenID Connect relying party as a client of fcgi-oauth behind
# lighttpd with etc/lighttpd/oauth-fastcgi.conf as shipped: openid-client
# (npm, built on oauth4webapi; pinned in tests/web/oidc-client/
# package-lock.json and installed with npm ci) discovers the issuer, runs
# the authorization code flow with PKCE S256, state and nonce, validates
# the ID Token as it does (signature against /jwks, iss, aud, exp, iat,
# nonce), calls /userinfo and refreshes, and the new ID Token validates
# too (tests/web/oidc-client/rp_test.mjs).  Both ID Tokens are then
# checked again, apart from the library, with PyJWT against /jwks,
# at_hash included (tests/web/oidc-client/check_id_token.py).  Skips, with
# a visible line, when lighttpd, node, npm or python3-jwt is missing.  Last
# line: "N passed, M failed".

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_oidc_client
. tests/web/lib_server.sh

NPM_TIMEOUT=300		# seconds for npm ci, which may download
RP_TIMEOUT=60		# seconds for the relying party's run
RP_ID=oidc-rp
RP_SECRET=oidc-rp-secret-0123456789abcdefghijklmn

ws_need_common
ws_need_cmd lighttpd lighttpd
ws_need_cmd node nodejs
ws_need_cmd npm npm
"$WS_PYTHON" -c 'import jwt, cryptography' 2>/dev/null ||
    ws_skip "PyJWT with RSA missing (apt-get install python3-jwt python3-cryptography)"
ws_need_build
ws_init

rp_redirect=http://127.0.0.1:$WS_PORT/rp/callback
ws_check "database with the test clients" ws_setup_db
ws_check "an OpenID Connect client: oauthctl client add $RP_ID" \
    ws_quiet ws_ctl client add "$RP_ID" --secret "$RP_SECRET" \
    --scope "openid" --grant-types authorization_code,refresh_token \
    --redirect-uri "$rp_redirect"
ws_serve lighttpd etc/lighttpd/oauth-fastcgi.conf || ws_finish

rp=$ws_tmp/rp
mkdir -p "$rp/out" &&
    cp tests/web/oidc-client/package.json \
    tests/web/oidc-client/package-lock.json \
    tests/web/oidc-client/rp_test.mjs tests/web/oidc-client/client_lib.mjs "$rp/" || ws_finish
if timeout "$NPM_TIMEOUT" npm ci --prefix "$rp" --no-audit --no-fund \
    --ignore-scripts >"$ws_tmp/npm.out" 2>&1; then
	ws_ok "npm ci installs the pinned openid-client" \
	    "$(sed -n 's/.*"version": "\(.*\)".*/\1/p' \
	    "$rp/node_modules/openid-client/package.json")," \
	    "oauth4webapi $(sed -n 's/.*"version": "\(.*\)".*/\1/p' \
	    "$rp/node_modules/oauth4webapi/package.json")"
else
	ws_notok "npm ci installs the pinned openid-client"
	sed 's/^/#   /' "$ws_tmp/npm.out" | tail -n 20
	ws_finish
fi

issuer=http://127.0.0.1:$WS_PORT/oauth
ISSUER=$issuer CLIENT_ID=$RP_ID CLIENT_SECRET=$RP_SECRET \
    REDIRECT_URI=$rp_redirect USER_NAME=$WS_USER_NAME \
    USER_PASS=$WS_USER_PASS OUT_DIR=$rp/out \
    timeout "$RP_TIMEOUT" node "$rp/rp_test.mjs" >"$ws_tmp/rp.out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ws_ok "openid-client: ${line#ok - }" ;;
	"not ok - "*) ws_notok "openid-client: ${line#not ok - }" ;;
	"#"*) echo "$line" ;;
	*) echo "# $line" ;;
	esac
done <"$ws_tmp/rp.out"
ws_check "the relying party's run exits 0" [ "$rc" -eq 0 ]

# The same ID Tokens, checked apart from the library against /jwks.
ws_http "$issuer/jwks"
ws_expect "/jwks: a JWK Set" 200 keys=?
cp "$ws_tmp/body" "$rp/jwks.json"
for which in "" .refresh; do
	label="ID Token${which:+ from the refresh}"
	if [ ! -s "$rp/out/id_token$which" ]; then
		ws_notok "$label: received for the independent check"
		continue
	fi
	nonce=
	[ -z "$which" ] && nonce=$(cat "$rp/out/nonce")
	"$WS_PYTHON" tests/web/oidc-client/check_id_token.py "$label" \
	    "$rp/jwks.json" "$rp/out/id_token$which" \
	    "$rp/out/access_token$which" "$issuer" "$RP_ID" "$WS_USER_NAME" \
	    ${nonce:+"$nonce"} >"$ws_tmp/py.out" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok - "*) ws_ok "PyJWT: ${line#ok - }" ;;
		"not ok - "*) ws_notok "PyJWT: ${line#not ok - }" ;;
		*) echo "# $line" ;;
		esac
	done <"$ws_tmp/py.out"
done

ws_stop_server "$ws_pid" "lighttpd"
ws_finish
