#!/bin/sh
# The user's claims from the web server (OAUTH_CLAIMS): oauth.fcgi run as
# CGI, as a web server runs it, with the variables an authentication module
# sets (mod_authnz_ldap's AUTHENTICATE_*), on a database oauthctl made.
# The claims land in the id_token and /userinfo as the granted scopes
# allow, and in the discovery document.  One "ok - ..." or "not ok - ..."
# line per check, then "N passed, M failed".
#
#   OAUTHCTL=build/oauthctl OAUTH_FCGI=build/oauth.fcgi sh tests/ctl/test_claims.sh
#
# OAUTH_TEST_BACKEND=postgresql runs it on a PostgreSQL database
# (tests/lib_backend.sh).  Run from the top of the source tree.

set -u

OAUTHCTL=${OAUTHCTL:-build/oauthctl}
OAUTH_FCGI=${OAUTH_FCGI:-build/oauth.fcgi}
unset OAUTH_DB OAUTH_CONFIG OAUTH_ISSUER OAUTH_ACCESS_TTL OAUTH_MAP_SIZE \
    OAUTH_CLAIMS
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
SECRET=web-secret-0123456789abcdefghijklmnop
REDIRECT=https%3A%2F%2Fapp.example%2Fcb
CLAIMS="email=AUTHENTICATE_MAIL name=AUTHENTICATE_CN"

. tests/lib_backend.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauth-claims.XXXXXX") || exit 1
trap 'backend_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
# OAUTH_TEST_BACKEND=postgresql: the same on a PostgreSQL database.
backend_suite "$tmp" db
passed=0
failed=0
OAUTH_TEST_NOW=1800000000
export OAUTH_TEST_NOW

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# cgi METHOD PATH BODY [VAR=value...]: one CGI request; body in $tmp/body.
cgi() {
	method=$1 path=$2 body=$3
	shift 3
	printf '%s' "$body" | env OAUTH_DB="$db" \
	    OAUTH_ISSUER=https://as.example/oauth OAUTH_CLAIMS="$CLAIMS" \
	    REQUEST_METHOD="$method" PATH_INFO="$path" \
	    CONTENT_TYPE=application/x-www-form-urlencoded \
	    CONTENT_LENGTH=${#body} "$@" "$OAUTH_FCGI" >"$tmp/cgi" 2>"$tmp/err"
	sed '1,/^\r*$/d' "$tmp/cgi" >"$tmp/body"
}

# json PYTHON: evaluates PYTHON with d = the last response body.
json() {
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$tmp/body" "$1" 2>/dev/null
}

# payload FIELD: the claims of the JWT in the last body's FIELD, as JSON.
payload() {
	"$PY" -c 'import base64, json, sys
t = json.load(open(sys.argv[1]))[sys.argv[2]].split(".")[1]
print(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)).decode())' \
	    "$tmp/body" "$1" >"$tmp/payload"
}

# login SCOPE: /authorize as alice with her LDAP attributes, then /token;
# the token response in $tmp/body.
login() {
	cgi GET /authorize "" REMOTE_USER=alice \
	    AUTHENTICATE_MAIL=alice@example.com \
	    AUTHENTICATE_CN="Alice Liddell" \
	    QUERY_STRING="response_type=code&client_id=web&redirect_uri=$REDIRECT&scope=$1"
	code=$(sed -n 's/^Location: .*[?&]code=\([^&]*\).*/\1/p' "$tmp/cgi" |
	    tr -d '\r')
	cgi POST /token "grant_type=authorization_code&code=$code&redirect_uri=$REDIRECT&client_id=web&client_secret=$SECRET"
}

"$OAUTHCTL" --db "$db" init >/dev/null 2>&1 &&
    "$OAUTHCTL" --db "$db" client add web --secret "$SECRET" \
    --scope "email profile" --grant-types authorization_code,refresh_token \
    --redirect-uri https://app.example/cb >/dev/null 2>&1
check "a database with a signing key and a client" [ $? -eq 0 ]

login "openid%20email"
check "the code flow with openid and email succeeds" json '"id_token" in d'
payload id_token
check "the id_token carries the email the web server passed" \
    sh -c "$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get(\"email\") == \"alice@example.com\" else 1)' '$tmp/payload'"
check "but not the name, which needs profile" \
    sh -c "! grep -q Alice '$tmp/payload'"
access=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$tmp/body")
cgi GET /userinfo "" HTTP_AUTHORIZATION="Bearer $access"
check "/userinfo answers sub and email" \
    json 'd == {"sub": "alice", "email": "alice@example.com"}'

login "openid%20profile"
cgi GET /userinfo "" HTTP_AUTHORIZATION="Bearer $("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$tmp/body")"
check "with profile, /userinfo answers the name" \
    json 'd == {"sub": "alice", "name": "Alice Liddell"}'

login "openid"
payload id_token
check "with openid alone, no claim of the user but sub" \
    sh -c "! grep -q -e alice@ -e Alice '$tmp/payload'"

# A value over CONFIG_CLAIM_VALUE_MAX (1024 bytes) is left out, and the
# user still logs in.
long=$("$PY" -c 'print("a" * 1025 + "@example.com")')
cgi GET /authorize "" REMOTE_USER=alice AUTHENTICATE_MAIL="$long" \
    QUERY_STRING="response_type=code&client_id=web&redirect_uri=$REDIRECT&scope=openid%20email"
code=$(sed -n 's/^Location: .*[?&]code=\([^&]*\).*/\1/p' "$tmp/cgi" | tr -d '\r')
cgi POST /token "grant_type=authorization_code&code=$code&redirect_uri=$REDIRECT&client_id=web&client_secret=$SECRET"
payload id_token
check "an over-long claim value is left out of the id_token" \
    sh -c "! grep -q '\"email\"' '$tmp/payload'"

cgi GET /.well-known/openid-configuration ""
check "discovery lists the mapped claims" \
    json '"email" in d["claims_supported"] and "name" in d["claims_supported"]'

CLAIMS="sub=REMOTE_USER"
cgi GET /.well-known/openid-configuration ""
check "a map that names sub is refused at start" \
    grep -q 'OAUTH_CLAIMS may not map sub' "$tmp/err"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
