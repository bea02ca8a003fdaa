#!/bin/sh
# DPoP (RFC 9449) through lighttpd with etc/lighttpd/oauth-fastcgi.conf as
# shipped (two FastCGI processes): openid-client (npm, on oauth4webapi,
# pinned in tests/web/oidc-client/package-lock.json) binds a
# client_credentials token to an ES256 key and a public client's code,
# tokens and refresh token to an EdDSA key, calls /userinfo with the DPoP
# scheme, and sends one proof from several connections at once
# (tests/web/oidc-client/dpop_test.mjs).  Then, apart from the library:
# introspection reports the binding (token_type DPoP, cnf.jkt the key's
# thumbprint) and the JWT access token carries it; a request with two
# DPoP headers, or a proof for another endpoint, is refused; and the
# database keeps the spent proofs until a purge after their window.  The
# library's run is made again with OAUTH_DPOP_NONCE=on: it is asked for
# nonces and sends them.
# Skips, with a visible line, when lighttpd, node or npm is missing.  Last
# line: "N passed, M failed".

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_dpop
. tests/web/lib_server.sh

NPM_TIMEOUT=300		# seconds for npm ci, which may download
RUN_TIMEOUT=90		# seconds for the client's run
CONF_ID=dpop-svc
CONF_SECRET=dpop-svc-secret-0123456789abcdefghijklmn
PUB_ID=dpop-pub

ws_need_common
ws_need_cmd lighttpd lighttpd
ws_need_cmd node nodejs
ws_need_cmd npm npm
ws_need_build
ws_init

redirect=http://127.0.0.1:$WS_PORT/rp/callback
ws_check "database with the test clients" ws_setup_db
ws_check "a confidential client of JWT access tokens: $CONF_ID" \
    ws_quiet ws_ctl client add "$CONF_ID" --secret "$CONF_SECRET" \
    --scope "read" --grant-types client_credentials --token-format jwt
ws_check "a public OpenID Connect client: $PUB_ID" \
    ws_quiet ws_ctl client add "$PUB_ID" --public --scope "openid" \
    --grant-types authorization_code,refresh_token --redirect-uri "$redirect" \
    --resource https://mcp.example/
ws_check "a client that must use DPoP: oauthctl client add --dpop" \
    ws_quiet ws_ctl client add dpop-only --secret "$CONF_SECRET" \
    --scope "read" --grant-types client_credentials --dpop
ws_serve lighttpd etc/lighttpd/oauth-fastcgi.conf || ws_finish

rp=$ws_tmp/rp
mkdir -p "$rp/out" &&
    cp tests/web/oidc-client/package.json \
    tests/web/oidc-client/package-lock.json \
    tests/web/oidc-client/dpop_test.mjs tests/web/oidc-client/client_lib.mjs "$rp/" || ws_finish
if timeout "$NPM_TIMEOUT" npm ci --prefix "$rp" --no-audit --no-fund \
    --ignore-scripts >"$ws_tmp/npm.out" 2>&1; then
	ws_ok "npm ci installs the pinned openid-client"
else
	ws_notok "npm ci installs the pinned openid-client"
	sed 's/^/#   /' "$ws_tmp/npm.out" | tail -n 20
	ws_finish
fi

issuer=http://127.0.0.1:$WS_PORT/oauth
# dpop_client LABEL [NONCE]: the library's run, its lines counted.
dpop_client() {
	mkdir -p "$rp/out" &&
	ISSUER=$issuer CONF_ID=$CONF_ID CONF_SECRET=$CONF_SECRET \
	    PUB_ID=$PUB_ID REDIRECT_URI=$redirect USER_NAME=$WS_USER_NAME \
	    USER_PASS=$WS_USER_PASS OUT_DIR=$rp/out NONCE=${2:-off} \
	    timeout "$RUN_TIMEOUT" node "$rp/dpop_test.mjs" \
	    >"$ws_tmp/run.out" 2>&1
	_rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ws_ok "$1: ${line#ok - }" ;;
		"not ok - "*) ws_notok "$1: ${line#not ok - }" ;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done <"$ws_tmp/run.out"
	ws_check "$1: the client's run exits 0" [ "$_rc" -eq 0 ]
}
dpop_client openid-client

# What the server says of the bound token, to a resource server.
if [ -s "$rp/out/cc_token" ] && [ -s "$rp/out/cc_jkt" ]; then
	token=$(cat "$rp/out/cc_token") jkt=$(cat "$rp/out/cc_jkt")
	ws_http "$issuer/introspect" -u "rs:$WS_RS_SECRET" \
	    --data-urlencode "token=$token"
	ws_expect "introspection: active, token_type DPoP" 200 active=true \
	    token_type=DPoP
	ws_check "introspection: cnf.jkt is the key's thumbprint" \
	    "$WS_PYTHON" -c 'import json, sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if o.get("cnf") == {"jkt": sys.argv[2]} else 1)' \
	    "$ws_tmp/body" "$jkt"
	ws_check "the JWT access token carries cnf.jkt (RFC 9449 §6.1)" \
	    "$WS_PYTHON" -c 'import base64, json, sys
p = sys.argv[1].split(".")[1]
c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
sys.exit(0 if c.get("cnf") == {"jkt": sys.argv[2]} else 1)' "$token" "$jkt"
	ws_http "$issuer/introspect" -u "$CONF_ID:$CONF_SECRET" \
	    -H "Authorization: Bearer $token" --data-urlencode "token=$token"
	ws_check "the bound token as a bearer credential: refused" \
	    [ "$ws_status" != 200 ]
else
	ws_notok "the client left the bound token for the checks"
fi
if [ -s "$rp/out/pub_token" ]; then
	ws_http "$issuer/introspect" -u "rs:$WS_RS_SECRET" \
	    --data-urlencode "token=$(cat "$rp/out/pub_token")"
	ws_expect "the public client's token is for the resource it named" \
	    200 active=true aud=https://mcp.example/ token_type=DPoP
else
	ws_notok "the client left the public client's token for the checks"
fi

# Refusals a library would never send.
ws_http "$issuer/token" -u "$CONF_ID:$CONF_SECRET" \
    -H "DPoP: a.b.c, d.e.f" -d grant_type=client_credentials
ws_expect "two DPoP headers joined: 400 invalid_dpop_proof" 400 \
    error=invalid_dpop_proof
ws_http "$issuer/token" -u "$CONF_ID:$CONF_SECRET" \
    -H "DPoP: not-a-jws" -d grant_type=client_credentials
ws_expect "a DPoP header that is no JWS: 400 invalid_dpop_proof" 400 \
    error=invalid_dpop_proof
ws_http "$issuer/token" -u "dpop-only:$CONF_SECRET" \
    -d grant_type=client_credentials
ws_expect "a client registered for DPoP, without a proof: refused" 400 \
    error=invalid_dpop_proof
ws_http "$issuer/.well-known/oauth-authorization-server"
ws_expect "RFC 8414 metadata lists the DPoP algorithms" 200 \
    dpop_signing_alg_values_supported=?

# Every proof above is inside its window: a purge keeps them all.
ws_ctl purge >"$ws_tmp/purge.out" 2>&1
ws_check "oauthctl purge keeps the spent proofs still in their window" \
    grep -q ', 0 spent proofs$' "$ws_tmp/purge.out"

ws_stop_server "$ws_pid" "lighttpd"

# Again with nonces (RFC 9449 §8): the responders inherit the variable.
OAUTH_DPOP_NONCE=on
export OAUTH_DPOP_NONCE
ws_serve lighttpd etc/lighttpd/oauth-fastcgi.conf || ws_finish
ws_http "$issuer/token" -u "dpop-only:$CONF_SECRET" \
    -d grant_type=client_credentials
ws_expect "OAUTH_DPOP_NONCE=on: a request without a proof needs no nonce" \
    400 error=invalid_dpop_proof
dpop_client "openid-client, OAUTH_DPOP_NONCE=on" on
ws_stop_server "$ws_pid" "lighttpd"
unset OAUTH_DPOP_NONCE
ws_finish
