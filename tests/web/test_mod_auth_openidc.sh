#!/bin/sh
# fcgi-oauth as the OpenID Connect provider of a relying party that people
# run: Apache with mod_auth_openidc (etc/apache2/oidc-relying-party.conf)
# protects /private, and fcgi-oauth is served by a second apache2 with
# etc/apache2/oauth-fcgid.conf, both as shipped (placeholders filled in)
# on free loopback ports.  curl with a cookie jar plays the browser: the
# protected page redirects to fcgi-oauth's /authorize (PKCE S256, state,
# nonce), where the user signs in with Basic; the code comes back to the
# relying party's redirect URI, which redeems it, validates the ID Token
# and starts a session; the page is then served as the user.  A changed
# state and a code used twice start no session.  Skips, with a visible
# line, when apache2, mod_fcgid or mod_auth_openidc is missing.  Last
# line: "N passed, M failed".

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_mod_auth_openidc
. tests/web/lib_server.sh

ws_need_common
ws_need_cmd apache2 apache2
ws_need_file /usr/lib/apache2/modules/mod_fcgid.so libapache2-mod-fcgid
ws_need_file /usr/lib/apache2/modules/mod_auth_openidc.so \
    libapache2-mod-auth-openidc
ws_need_build
ws_init

as_port=$WS_PORT
as_run=$WS_RUN
rp_port=$(ws_free_port) || { ws_notok "a second free port"; ws_finish; }
rp_run=$WS_RUN/rp
mkdir -p "$rp_run" && { [ -z "$ws_worker" ] || chown "$ws_worker:" "$rp_run"; }
WS_API_DIR=$ws_tmp/private
mkdir -p "$WS_API_DIR" && echo "the private page" >"$WS_API_DIR/whoami"
chmod -R a+rX "$WS_API_DIR"
as=http://127.0.0.1:$as_port/oauth
rp=http://127.0.0.1:$rp_port
rp_redirect=$rp/private/redirect_uri
WS_OIDC_METADATA_URL=$as/.well-known/openid-configuration

ws_check "database with the test clients" ws_setup_db
ws_check "the relying party's client: oauthctl client add rp" \
    ws_quiet ws_ctl client add rp --secret "$WS_RP_SECRET" --scope openid \
    --grant-types authorization_code,refresh_token \
    --redirect-uri "$rp_redirect"

# The provider.
ws_check "etc/apache2/oauth-fcgid.conf renders" \
    ws_render etc/apache2/oauth-fcgid.conf "$as_run/apache2.conf"
ws_start as apache2 -f "$as_run/apache2.conf" -DFOREGROUND
as_pid=$ws_pid
as_up=0
ws_came_up "provider (apache2 + mod_fcgid) on $as_port" \
    http "$as_port" "$as_run/as.out" "$as_run/error.log" && as_up=1

# The relying party: its own port and run dir.
WS_PORT=$rp_port WS_RUN=$rp_run ws_render \
    etc/apache2/oidc-relying-party.conf "$rp_run/apache2.conf"
ws_check "etc/apache2/oidc-relying-party.conf renders" [ $? -eq 0 ]
ws_check "apache2 -t accepts it" ws_quiet apache2 -t -f "$rp_run/apache2.conf"
ws_start rp apache2 -f "$rp_run/apache2.conf" -DFOREGROUND
rp_pid=$ws_pid
rp_up=0
ws_came_up "relying party (apache2 + mod_auth_openidc) on $rp_port" \
    http "$rp_port" "$WS_RUN/rp.out" "$rp_run/error.log" && rp_up=1

# browse URL JAR [CURL ARGS...]: one request of the browser whose cookies
# are in JAR; no redirect followed.
browse() {
	_u=$1 _jar=$2
	shift 2
	ws_http "$_u" -b "$_jar" -c "$_jar" "$@"
}

location() {
	ws_header Location
}

# Whether the response is the redirect to the provider's /authorize that
# the relying party sends to start a sign-in.
to_provider() {
	[ "$ws_status" = 302 ] || return 1
	case $(location) in
	"$as/authorize?"*) ;;
	*)	return 1 ;;
	esac
}

# start JAR: the protected page, and the redirect to the provider; the
# authorization request in auth_url.
start() {
	browse "$rp/private/whoami" "$1"
	auth_url=$(location)
	to_provider
}

# sign_in: the authorization request sent as the signed-in user; the
# redirect back in callback.
sign_in() {
	ws_http "$auth_url" -u "$WS_USER_NAME:$WS_USER_PASS"
	callback=$(location)
	[ "$ws_status" = 302 ] || return 1
	case $callback in
	"$rp_redirect?"*code=*) ;;
	*)	return 1 ;;
	esac
}

# The page served, as the user, with the module's claim.
served_as_user() {
	[ "$ws_status" = 200 ] && [ "$(ws_body)" = "the private page" ] &&
	    [ "$(ws_header X-Remote-User)" = "$WS_USER_NAME" ] &&
	    [ "$(ws_header X-OIDC-Sub)" = "$WS_USER_NAME" ]
}

# provider_served PATH...: the provider's access log has a 200 for each.
provider_served() {
	for _p in "$@"; do
		grep -q "\"GET $_p HTTP/1.1\" 200 " "$as_run/access.log" ||
		    return 1
	done
}

# A query parameter of auth_url.
auth_param() {
	echo "$auth_url" | sed -n "s/.*[?&]$1=\([^&#]*\).*/\1/p"
}

code_flow() {
	[ "$(auth_param response_type)" = code ] &&
	    [ "$(auth_param client_id)" = rp ] &&
	    [ "$(auth_param scope)" = openid ] &&
	    [ "$(auth_param redirect_uri)" = "$(printf %s "$rp_redirect" |
		sed 's|:|%3A|g; s|/|%2F|g')" ]
}

pkce_state_nonce() {
	[ "$(auth_param code_challenge_method)" = S256 ] &&
	    [ -n "$(auth_param code_challenge)" ] &&
	    [ -n "$(auth_param state)" ] && [ -n "$(auth_param nonce)" ]
}

# The redirect to the protected page that ends a sign-in.
to_page() {
	[ "$ws_status" = 302 ] && [ "$(location)" = "$rp/private/whoami" ]
}

not_to_page() {
	[ "$ws_status" != 000 ] && ! to_page
}

# Whether the relying party's error log gained a line matching ERE since
# it had LINES lines.
logged_since() {
	tail -n "+$(($1 + 1))" "$rp_run/error.log" 2>/dev/null | grep -Eq "$2"
}

log_lines() {
	wc -l <"$rp_run/error.log" 2>/dev/null || echo 0
}

# Show what the relying party logged since LINES, as comments.
show_log_since() {
	tail -n "+$(($1 + 1))" "$rp_run/error.log" 2>/dev/null |
	    cut -c 1-400 | sed 's/^/#   rp error.log: /'
}

if [ $as_up -eq 1 ] && [ $rp_up -eq 1 ]; then
	jar=$ws_tmp/cookies
	: >"$jar"
	ws_check "/private/whoami without a session: 302 to the provider's /authorize" \
	    start "$jar"
	ws_check "... for the code flow of client rp, scope openid" code_flow
	ws_check "... with PKCE S256, a state and a nonce" pkce_state_nonce
	ws_http "$auth_url"
	ws_check "the provider's /authorize without credentials: 401" \
	    [ "$ws_status" = 401 ]
	ws_check "signed in with Basic: 302 back to the relying party with a code" \
	    sign_in
	cp "$jar" "$ws_tmp/cookies.before"
	first_callback=$callback
	n=$(log_lines)
	browse "$callback" "$jar"
	ws_check "the redirect URI redeems the code and validates the ID Token: 302 to the page" \
	    to_page
	[ "$ws_status" = 302 ] || show_log_since "$n"
	browse "$rp/private/whoami" "$jar"
	ws_check "the page is served in the session, as REMOTE_USER $WS_USER_NAME (OIDC_CLAIM_sub too)" \
	    served_as_user
	[ "$ws_status" = 200 ] || show_log_since "$n"
	ws_check "... after the relying party read /jwks and /userinfo (provider's access.log)" \
	    provider_served /oauth/jwks /oauth/userinfo

	# A state that is not the one the relying party sent.
	jar2=$ws_tmp/cookies2
	: >"$jar2"
	if start "$jar2" && sign_in; then
		state=$(echo "$callback" | sed -n 's/.*[?&]state=\([^&#]*\).*/\1/p')
		n=$(log_lines)
		browse "$(echo "$callback" | sed "s|state=$state|state=x$state|")" \
		    "$jar2"
		ws_check "a changed state: no session starts ($ws_status)" \
		    not_to_page
		show_log_since "$n"
		browse "$rp/private/whoami" "$jar2"
		ws_check "... the page still redirects to the provider" to_provider
	else
		ws_notok "a second sign-in, for the changed state"
	fi

	# The first code again, with the state cookie it came with: the
	# relying party presents it to fcgi-oauth, which refuses it.
	n=$(log_lines)
	browse "$first_callback" "$ws_tmp/cookies.before"
	ws_check "the first code again: no session starts ($ws_status)" \
	    not_to_page
	ws_check "... because fcgi-oauth answered invalid_grant (error.log)" \
	    logged_since "$n" invalid_grant
	show_log_since "$n"
	browse "$rp/private/whoami" "$ws_tmp/cookies.before"
	ws_check "... the page still redirects to the provider" to_provider
fi

ws_stop_server "$rp_pid" "relying party" "$as_pid" "provider"
ws_finish
