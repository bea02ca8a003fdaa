#!/bin/sh
# fcgi-oauth as the authorization server of a resource server that people
# run: Apache with OpenIDC's mod_oauth2 (etc/apache2/oauth2-resource-server.conf)
# introspects the Bearer tokens it is given at fcgi-oauth, itself served by
# a second apache2 with etc/apache2/oauth-fcgid.conf, both as shipped
# (placeholders filled in) on free loopback ports.  An active token reaches
# the API (200, REMOTE_USER set from "sub"); none, a forged, a revoked or an
# expired one gets 401.  At the API's DPoP location, a DPoP-bound token
# reaches it only with a proof by its key for that request (RFC 9449),
# made with PyJWT (those checks skip without it).  Skips, with a visible
# line, when apache2,
# mod_fcgid or mod_oauth2 is missing.  Last line: "N passed, M failed".

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_mod_oauth2
. tests/web/lib_server.sh

SHORT_TTL=5	# OAUTH_ACCESS_TTL of the token left to expire, seconds

ws_need_common
ws_need_cmd apache2 apache2
ws_need_file /usr/lib/apache2/modules/mod_fcgid.so libapache2-mod-fcgid
ws_need_file /usr/lib/apache2/modules/mod_oauth2.so libapache2-mod-oauth2
ws_need_build
ws_init

as_port=$WS_PORT
as_run=$WS_RUN
rs_port=$(ws_free_port) || { ws_notok "a second free port"; ws_finish; }
rs_run=$WS_RUN/rs
mkdir -p "$rs_run" && { [ -z "$ws_worker" ] || chown "$ws_worker:" "$rs_run"; }
WS_API_DIR=$ws_tmp/api
mkdir -p "$WS_API_DIR" && echo "hello from the API" >"$WS_API_DIR/hello.txt"
chmod -R a+rX "$WS_API_DIR"
WS_INTROSPECT_URL=http://127.0.0.1:$as_port/oauth/introspect

ws_check "database with the test clients" ws_setup_db

# The authorization server.
ws_check "etc/apache2/oauth-fcgid.conf renders" \
    ws_render etc/apache2/oauth-fcgid.conf "$as_run/apache2.conf"
ws_start as apache2 -f "$as_run/apache2.conf" -DFOREGROUND
as_pid=$ws_pid
as_up=0
ws_came_up "authorization server (apache2 + mod_fcgid) on $as_port" \
    http "$as_port" "$as_run/as.out" "$as_run/error.log" && as_up=1

# The resource server: its own port and run dir.
WS_PORT=$rs_port WS_RUN=$rs_run ws_render \
    etc/apache2/oauth2-resource-server.conf "$rs_run/apache2.conf"
ws_check "etc/apache2/oauth2-resource-server.conf renders" [ $? -eq 0 ]
ws_check "apache2 -t accepts it" ws_quiet apache2 -t -f "$rs_run/apache2.conf"
ws_start rs apache2 -f "$rs_run/apache2.conf" -DFOREGROUND
rs_pid=$ws_pid
rs_up=0
ws_came_up "resource server (apache2 + mod_oauth2) on $rs_port" \
    http "$rs_port" "$WS_RUN/rs.out" "$rs_run/error.log" && rs_up=1

api=http://127.0.0.1:$rs_port/api/hello.txt
as=http://127.0.0.1:$as_port/oauth

# A token minted by oauth.fcgi run as a CGI program on the same database
# with a short access-token lifetime: the server's own processes keep the
# default, and LMDB lets both share the database.
mint_short_lived() {
	_form=grant_type=client_credentials
	printf '%s' "$_form" |
	    env -i PATH="$PATH" OAUTH_DB="$WS_DB" \
		OAUTH_ACCESS_TTL="$SHORT_TTL" REQUEST_METHOD=POST \
		PATH_INFO=/token SCRIPT_NAME=/oauth \
		HTTP_HOST="127.0.0.1:$as_port" \
		CONTENT_TYPE=application/x-www-form-urlencoded \
		CONTENT_LENGTH=${#_form} HTTP_AUTHORIZATION="Basic $(printf \
		'svc:%s' "$WS_SVC_SECRET" | base64 | tr -d '\n')" \
		$ws_runas "$WS_BIN/oauth.fcgi" |
	    sed '1,/^\r*$/d' >"$ws_tmp/body"
	ws_json access_token
}

api_served() {
	[ "$ws_status" = 200 ] && [ "$(ws_body)" = "hello from the API" ]
}

api_with() {
	ws_http "$api" -H "Authorization: Bearer $1"
}

if [ $as_up -eq 1 ] && [ $rs_up -eq 1 ]; then
	ws_http "$as/token" -u "svc:$WS_SVC_SECRET" \
	    -d grant_type=client_credentials
	ws_expect "a token from fcgi-oauth" 200 access_token=?
	tok=$(ws_json access_token)

	api_with "$tok"
	ws_check "an active token reaches the API: 200" api_served
	ws_check "... as REMOTE_USER svc (the token's sub)" \
	    [ "$(ws_header X-Remote-User)" = svc ]

	ws_http "$api"
	ws_check "no token: 401" [ "$ws_status" = 401 ]
	ws_check "... with WWW-Authenticate: Bearer" \
	    ws_header_matches WWW-Authenticate '^Bearer'
	api_with "forged-0123456789abcdefghijklmnopqrstuvwxyzABC"
	ws_check "a forged token: 401" [ "$ws_status" = 401 ]

	ws_http "$as/revoke" -u "svc:$WS_SVC_SECRET" -d "token=$tok"
	ws_check "revoke the token at fcgi-oauth: 200" [ "$ws_status" = 200 ]
	api_with "$tok"
	ws_check "the revoked token: 401" [ "$ws_status" = 401 ]

	short=$(mint_short_lived)
	ws_check "a token that lives $SHORT_TTL s, minted by oauth.fcgi as CGI" \
	    [ -n "$short" ]
	api_with "$short"
	ws_check "... reaches the API while it lives: 200" api_served
	sleep $((SHORT_TTL + 1))
	api_with "$short"
	ws_check "... and once expired: 401" [ "$ws_status" = 401 ]
	ws_http "$as/introspect" -u "rs:$WS_RS_SECRET" -d "token=$short"
	ws_check "... which introspection reports as {\"active\":false}" \
	    ws_body_is '{"active":false}'
fi

# DPoP (RFC 9449): a token bound to a key, at the API's DPoP location,
# where mod_oauth2 checks each request's proof against the introspected
# cnf.jkt.  The proofs are made with PyJWT (tests/web/dpop_proof.py).
proof() {
	"$WS_PYTHON" tests/web/dpop_proof.py "$@"
}
dpop_api=http://127.0.0.1:$rs_port/dpop-api/hello.txt
if [ $as_up -eq 1 ] && [ $rs_up -eq 1 ] &&
    proof "$ws_tmp/dpop.key" --jkt >"$ws_tmp/jkt" 2>"$ws_tmp/proof.err"; then
	ws_http "$as/token" -u "svc:$WS_SVC_SECRET" \
	    -H "DPoP: $(proof "$ws_tmp/dpop.key" POST "$as/token")" \
	    -d grant_type=client_credentials
	ws_expect "a DPoP-bound token from fcgi-oauth" 200 token_type=DPoP
	bound=$(ws_json access_token)
	p1=$(proof "$ws_tmp/dpop.key" GET "$dpop_api" "$bound")
	ws_http "$dpop_api" -H "Authorization: DPoP $bound" -H "DPoP: $p1"
	ws_check "mod_oauth2: the bound token with a proof by its key: 200" \
	    api_served
	ws_check "... as REMOTE_USER svc" [ "$(ws_header X-Remote-User)" = svc ]
	ws_http "$dpop_api" -H "Authorization: DPoP $bound" -H "DPoP: $p1"
	ws_check "mod_oauth2: the same proof again: 401" [ "$ws_status" = 401 ]
	ws_http "$dpop_api" -H "Authorization: DPoP $bound" \
	    -H "DPoP: $(proof "$ws_tmp/other.key" GET "$dpop_api" "$bound")"
	ws_check "mod_oauth2: a proof by another key: 401" [ "$ws_status" = 401 ]
	ws_http "$dpop_api" -H "Authorization: DPoP $bound" \
	    -H "DPoP: $(proof "$ws_tmp/dpop.key" GET "$api" "$bound")"
	ws_check "mod_oauth2: a proof for another URL: 401" [ "$ws_status" = 401 ]
	ws_http "$dpop_api" -H "Authorization: DPoP $bound"
	ws_check "mod_oauth2: the bound token without a proof: 401" \
	    [ "$ws_status" = 401 ]
	ws_http "$as/token" -u "svc:$WS_SVC_SECRET" \
	    -d grant_type=client_credentials
	plain=$(ws_json access_token)
	ws_http "$dpop_api" -H "Authorization: DPoP $plain" \
	    -H "DPoP: $(proof "$ws_tmp/dpop.key" GET "$dpop_api" "$plain")"
	ws_check "mod_oauth2: a bearer token (no cnf.jkt) as DPoP: 401" \
	    [ "$ws_status" = 401 ]
elif [ $as_up -eq 1 ] && [ $rs_up -eq 1 ]; then
	echo "# skipped the DPoP checks: $(cat "$ws_tmp/proof.err")"
fi

ws_stop_server "$rs_pid" "resource server" "$as_pid" "authorization server"
ws_finish
