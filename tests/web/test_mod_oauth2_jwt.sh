#!/bin/sh
# fcgi-oauth's JWT access tokens (RFC 9068) verified where they are used:
# Apache with OpenIDC's mod_oauth2 (etc/apache2/oauth2-resource-server-jwt.conf)
# checks each Bearer token against fcgi-oauth's /jwks itself, fcgi-oauth
# being served by a second apache2 with etc/apache2/oauth-fcgid.conf, both
# as shipped (placeholders filled in) on free loopback ports.  A token of a
# `--token-format jwt` client with the API's audience reaches the API (200,
# REMOTE_USER and the claims from the token); none, an opaque one, a
# tampered one, an expired one, one for another audience, an id_token and
# one signed by a key that was retired and has left the JWKS get 401.
#
# Then key rotation, which the web servers cannot show (mod_oauth2 caches
# the JWKS): tokens minted before, during and after `oauthctl key rotate`
# are checked with PyJWT against the JWKS as it is at each moment, which is
# what a verifier caching it for the announced 600 s sees.
#
# No check depends on how long a second lasts: the tokens that must be
# expired or signed by a retired key are minted by oauth.fcgi run as a CGI
# program on the same database with its clock pinned (OAUTH_TEST_NOW) in
# the past, and the key history is written by oauthctl pinned likewise.
# Skips, with a visible line, when apache2, mod_fcgid, mod_oauth2 or
# python3-jwt is missing.  Last line: "N passed, M failed".

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_mod_oauth2_jwt
. tests/web/lib_server.sh

API_SECRET="api-secret-0123456789abcdefghijklmnop"
OTHER_SECRET="other-secret-0123456789abcdefghijklmn"
WS_AUDIENCE=https://api.example.org/
ACCESS_TTL=3600		# the responders' default OAUTH_ACCESS_TTL
JWKS_AGE=600		# JWKS_MAX_AGE: the JWKS cache lifetime /jwks announces

ws_need_common
ws_need_cmd apache2 apache2
ws_need_file /usr/lib/apache2/modules/mod_fcgid.so libapache2-mod-fcgid
ws_need_file /usr/lib/apache2/modules/mod_oauth2.so libapache2-mod-oauth2
"$WS_PYTHON" -c 'import jwt, cryptography' 2>/dev/null ||
    ws_skip "PyJWT with RSA missing (apt-get install python3-jwt python3-cryptography)"
ws_need_build
ws_init

# The clock of the pinned runs.  P0 is long enough ago that a key retired
# just after it has left the JWKS by now (retirement + ACCESS_TTL +
# JWKS_AGE); ROT, where the rotation happens, lies ahead, so the key it
# makes is in no JWKS the servers answer today.
NOW=$(date +%s)
P0=$((NOW - 100000))
ROT=$((NOW + 20000))

as_port=$WS_PORT
as_run=$WS_RUN
rs_port=$(ws_free_port) || { ws_notok "a second free port"; ws_finish; }
rs_run=$WS_RUN/rs
mkdir -p "$rs_run" && { [ -z "$ws_worker" ] || chown "$ws_worker:" "$rs_run"; }
WS_API_DIR=$ws_tmp/api
mkdir -p "$WS_API_DIR" && echo "hello from the API" >"$WS_API_DIR/hello.txt"
chmod -R a+rX "$WS_API_DIR"
WS_ISSUER=http://127.0.0.1:$as_port/oauth
WS_JWKS_URL=$WS_ISSUER/jwks
as=$WS_ISSUER
api=http://127.0.0.1:$rs_port/api/hello.txt

# oauthctl with its clock at $1.
ctl_at() {
	_t=$1
	shift
	# shellcheck disable=SC2086
	env OAUTH_TEST_NOW="$_t" $ws_runas "$WS_BIN/oauthctl" --db "$WS_DB" "$@"
}

# cgi_at NOW PATH [FORM [CLIENT SECRET [VAR=VALUE...]]]: oauth.fcgi run
# once as a CGI program on the test database with its clock at NOW, as
# the web server would run it for http://127.0.0.1:AS_PORT/oauth/PATH: a
# POST of FORM (with Basic client authentication when CLIENT is given),
# else a GET.  The body goes to $ws_tmp/body.
cgi_at() {
	_t=$1 _path=$2 _form=${3-} _cid=${4-} _sec=${5-}
	shift $(($# < 5 ? $# : 5))
	set -- OAUTH_TEST_NOW="$_t" PATH_INFO="/$_path" "$@"
	if [ -n "$_cid" ]; then
		set -- HTTP_AUTHORIZATION="Basic $(printf '%s:%s' "$_cid" \
		    "$_sec" | base64 | tr -d '\n')" "$@"
	fi
	if [ -n "$_form" ]; then
		set -- REQUEST_METHOD=POST CONTENT_LENGTH=${#_form} \
		    CONTENT_TYPE=application/x-www-form-urlencoded "$@"
	else
		set -- REQUEST_METHOD=GET "$@"
	fi
	# shellcheck disable=SC2086
	printf '%s' "$_form" |
	    env -i PATH="$PATH" OAUTH_DB="$WS_DB" SCRIPT_NAME=/oauth \
		HTTP_HOST="127.0.0.1:$as_port" "$@" \
		$ws_runas "$WS_BIN/oauth.fcgi" |
	    sed '1,/^\r*$/d' >"$ws_tmp/body"
}

# mint_at NOW [VAR=VALUE...]: a client_credentials token of client api
# minted at NOW (scope read); prints it, empty on failure.
mint_at() {
	_t=$1
	shift
	cgi_at "$_t" token "grant_type=client_credentials&scope=read" \
	    api "$API_SECRET" "$@"
	ws_json access_token
}

# The kid in a JWT's header.
jwt_kid() {
	"$WS_PYTHON" -c 'import jwt, sys
print(jwt.get_unverified_header(sys.argv[1]).get("kid", ""))' "$1" \
	    2>/dev/null
}

# jwt_tamper TOKEN payload|signature: TOKEN with its payload's sub
# changed (the signature kept), or one character of its signature
# changed (one that carries only signature bits, not base64 padding).
jwt_tamper() {
	"$WS_PYTHON" -c 'import base64, json, sys
h, p, s = sys.argv[1].split(".")
if sys.argv[2] == "payload":
	o = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
	o["sub"] = "mallory"
	p = base64.urlsafe_b64encode(json.dumps(o,
	    separators=(",", ":")).encode()).rstrip(b"=").decode()
else:
	i = len(s) // 2
	s = s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:]
print(".".join((h, p, s)))' "$1" "$2"
}

# jwt_verify TOKEN_FILE JWKS_FILE: whether the token is an at+jwt whose
# kid is in the JWKS and whose signature that key verifies, issued by
# fcgi-oauth for the API (RFC 9068 §4).  Time claims are not checked: the
# tokens of the rotation carry pinned times.  Why not on stderr.
jwt_verify() {
	"$WS_PYTHON" -c 'import json, sys, jwt
tok = open(sys.argv[1]).read().strip()
jwks = json.load(open(sys.argv[2]))
h = jwt.get_unverified_header(tok)
if h.get("typ") != "at+jwt":
	sys.exit("typ is %r" % h.get("typ"))
keys = dict((k.get("kid"), k) for k in jwks.get("keys", []))
if h.get("kid") not in keys:
	sys.exit("kid %s is not in the JWKS" % h.get("kid"))
jwk = jwt.PyJWK(keys[h["kid"]])
jwt.decode(tok, jwk.key, algorithms=[h["alg"]], audience=sys.argv[3],
    issuer=sys.argv[4], options={"verify_exp": False, "verify_iat": False,
    "verify_nbf": False})' "$1" "$2" "$WS_AUDIENCE" "$WS_ISSUER"
}

# jwks_has FILE KID: whether the JWKS in FILE holds KID.
jwks_has() {
	"$WS_PYTHON" -c 'import json, sys
sys.exit(0 if sys.argv[2] in [k.get("kid") for k in
    json.load(open(sys.argv[1]))["keys"]] else 1)' "$1" "$2" 2>/dev/null
}

api_with() {
	ws_http "$api" -H "Authorization: Bearer $1"
}

api_served() {
	[ "$ws_status" = 200 ] && [ "$(ws_body)" = "hello from the API" ]
}

# ---- The database and its key history, all before any server runs ------

# At P0: the clients, and the first key (oauthctl init makes it).
#   api    client_credentials, JWT access tokens for the API
#   other  the same, for another API
#   jpub   public, authorization_code, JWT access tokens for the API
# (ws_setup_db's svc, rs, app and pub get opaque tokens.)
setup_db() {
	OAUTH_TEST_NOW=$P0
	export OAUTH_TEST_NOW
	ws_setup_db &&
	ws_ctl client add api --secret "$API_SECRET" --scope "read write" \
	    --grant-types client_credentials --token-format jwt \
	    --audience "$WS_AUDIENCE" >/dev/null &&
	ws_ctl client add other --secret "$OTHER_SECRET" --scope read \
	    --grant-types client_credentials --token-format jwt \
	    --audience https://other.example.org/ >/dev/null &&
	ws_ctl client add jpub --public --scope "read write" \
	    --grant-types authorization_code --token-format jwt \
	    --audience "$WS_AUDIENCE" --redirect-uri "$WS_REDIRECT" >/dev/null
	_rc=$?
	unset OAUTH_TEST_NOW
	return $_rc
}
ws_check "database with the test clients, made at $P0" setup_db
k1=$(ctl_at "$P0" key list --json | "$WS_PYTHON" -c 'import json, sys
print(json.load(sys.stdin)[0]["kid"])' 2>/dev/null)
ws_check "oauthctl init made one key (${k1:-none})" [ -n "$k1" ]

# The retired key: K1 signs a token at P0+10 that lives long enough to be
# unexpired today (OAUTH_ACCESS_TTL given to that run only), K2 is
# generated at P0+20 (signing from P0+20+600), and K1 retired at P0+700.
# K1 then stays published until P0+700+ACCESS_TTL+600: long ago today.
old=$(mint_at $((P0 + 10)) OAUTH_ACCESS_TTL=200000)
ws_check "a token minted at P0+10, living 200000 s" [ -n "$old" ]
ws_check "... signed by K1" [ "$(jwt_kid "$old")" = "$k1" ]
k2=$(ctl_at $((P0 + 20)) key generate)
ws_check "key generate at P0+20: K2 (${k2:-none})" \
    eval '[ -n "$k2" ] && [ "$k2" != "$k1" ]'
ws_check "key retire K1 at P0+700" ctl_at $((P0 + 700)) key retire "$k1"
ctl_at "$NOW" key list >"$ws_tmp/keys" 2>&1
ws_check "key list today: K1 dropped" \
    grep -q "^${k1}[[:space:]].*[[:space:]]dropped[[:space:]]" "$ws_tmp/keys"
ws_check "key list today: K2 signing" \
    grep -q "^${k2}[[:space:]].*[[:space:]]signing[[:space:]]" "$ws_tmp/keys"

# Expired: minted two lifetimes ago by K2, which signs then and now.
expired=$(mint_at $((NOW - 2 * ACCESS_TTL)))
ws_check "a token minted 2 x $ACCESS_TTL s ago (expired an hour ago)" \
    [ -n "$expired" ]
ws_check "... signed by K2" [ "$(jwt_kid "$expired")" = "$k2" ]

# ---- The two servers ----------------------------------------------------

ws_check "etc/apache2/oauth-fcgid.conf renders" \
    ws_render etc/apache2/oauth-fcgid.conf "$as_run/apache2.conf"
ws_start as apache2 -f "$as_run/apache2.conf" -DFOREGROUND
as_pid=$ws_pid
as_up=0
ws_came_up "authorization server (apache2 + mod_fcgid) on $as_port" \
    http "$as_port" "$as_run/as.out" "$as_run/error.log" && as_up=1

WS_PORT=$rs_port WS_RUN=$rs_run ws_render \
    etc/apache2/oauth2-resource-server-jwt.conf "$rs_run/apache2.conf"
ws_check "etc/apache2/oauth2-resource-server-jwt.conf renders" [ $? -eq 0 ]
ws_check "apache2 -t accepts it" ws_quiet apache2 -t -f "$rs_run/apache2.conf"
ws_start rs apache2 -f "$rs_run/apache2.conf" -DFOREGROUND
rs_pid=$ws_pid
rs_up=0
ws_came_up "resource server (apache2 + mod_oauth2, jwks_uri) on $rs_port" \
    http "$rs_port" "$WS_RUN/rs.out" "$rs_run/error.log" && rs_up=1

if [ $as_up -eq 1 ] && [ $rs_up -eq 1 ]; then
	ws_http "$as/jwks"
	ws_expect "GET /jwks at the authorization server" 200
	cp "$ws_tmp/body" "$ws_tmp/jwks-now"
	ws_check "... holds K2" jwks_has "$ws_tmp/jwks-now" "$k2"
	ws_check "... and no longer K1" eval '! jwks_has "$ws_tmp/jwks-now" "$k1"'
	ws_check "... with Cache-Control max-age=$JWKS_AGE" \
	    ws_header_matches Cache-Control "max-age=$JWKS_AGE"

	ws_http "$as/token" -u "api:$API_SECRET" \
	    -d grant_type=client_credentials -d scope=read
	ws_expect "a JWT access token from fcgi-oauth" 200 access_token=? \
	    token_type=Bearer
	tok=$(ws_json access_token)
	printf '%s\n' "$tok" >"$ws_tmp/tok"
	ws_check "... an at+jwt for the API signed by K2 (PyJWT, /jwks)" \
	    jwt_verify "$ws_tmp/tok" "$ws_tmp/jwks-now"

	api_with "$tok"
	ws_check "the JWT reaches the API: 200" api_served
	ws_check "... as REMOTE_USER api (the token's sub)" \
	    [ "$(ws_header X-Remote-User)" = api ]
	ws_check "... with the claims client_id api and scope read" eval \
	    '[ "$(ws_header X-Token-Client)" = api ] &&
	    [ "$(ws_header X-Token-Scope)" = read ]'
	api_with "$tok"
	ws_check "... and again (JWKS from mod_oauth2's cache): 200" api_served

	ws_http "$api"
	ws_check "no token: 401" [ "$ws_status" = 401 ]
	ws_check "... with WWW-Authenticate: Bearer" \
	    ws_header_matches WWW-Authenticate '^Bearer'
	ws_http "$as/token" -u "svc:$WS_SVC_SECRET" \
	    -d grant_type=client_credentials
	api_with "$(ws_json access_token)"
	ws_check "an opaque token (client svc): 401" [ "$ws_status" = 401 ]
	api_with "$(jwt_tamper "$tok" payload)"
	ws_check "the JWT with its payload changed (sub): 401" \
	    [ "$ws_status" = 401 ]
	api_with "$(jwt_tamper "$tok" signature)"
	ws_check "the JWT with its signature changed: 401" \
	    [ "$ws_status" = 401 ]
	api_with "$expired"
	ws_check "the JWT that expired an hour ago: 401" [ "$ws_status" = 401 ]
	api_with "$old"
	ws_check "an unexpired JWT signed by K1, retired and dropped: 401" \
	    [ "$ws_status" = 401 ]
	printf '%s\n' "$old" >"$ws_tmp/old"
	ws_check "... which PyJWT refuses against /jwks too" \
	    eval '! jwt_verify "$ws_tmp/old" "$ws_tmp/jwks-now" 2>/dev/null'

	ws_http "$as/token" -u "other:$OTHER_SECRET" \
	    -d grant_type=client_credentials
	ws_expect "a JWT for another API (client other)" 200 access_token=?
	api_with "$(ws_json access_token)"
	ws_check "... at this API: 401 (aud https://other.example.org/)" \
	    [ "$ws_status" = 401 ]

	# A user's JWT, and the id_token beside it.
	ws_pkce
	ws_http "$as/authorize" -G -u "$WS_USER_NAME:$WS_USER_PASS" \
	    -d response_type=code -d client_id=jpub \
	    --data-urlencode "redirect_uri=$WS_REDIRECT" \
	    --data-urlencode "scope=openid read" -d state=s \
	    -d code_challenge_method=S256 -d "code_challenge=$ws_challenge"
	code=$(ws_location_param code)
	ws_http "$as/token" -d grant_type=authorization_code \
	    -d client_id=jpub -d "code=$code" \
	    --data-urlencode "redirect_uri=$WS_REDIRECT" \
	    -d "code_verifier=$ws_verifier"
	ws_expect "the user's code redeemed: a JWT and an id_token" 200 \
	    access_token=? id_token=?
	utok=$(ws_json access_token)
	idtok=$(ws_json id_token)
	api_with "$utok"
	ws_check "the user's JWT reaches the API: 200" api_served
	ws_check "... as REMOTE_USER $WS_USER_NAME" \
	    [ "$(ws_header X-Remote-User)" = "$WS_USER_NAME" ]
	api_with "$idtok"
	ws_check "the id_token as a Bearer token: 401 (aud is the client)" \
	    [ "$ws_status" = 401 ]
fi

ws_stop_server "$rs_pid" "resource server" "$as_pid" "authorization server"

# ---- Rotation, step by step ----------------------------------------------

# `key rotate` at ROT: K3 is published at once and signs from ROT+600,
# when K2 stops; K2 stays published until ROT+600+ACCESS_TTL+600.  A
# token minted at m must verify against every JWKS fetched at f with
# m-600 < f < m+ACCESS_TTL: one fetched before m that a verifier may still
# hold, or one fetched while the token lives.
ROT_MINTS="-10 1 599 600 601 1200"
ROT_FETCHES="-601 -10 0 1 300 599 600 601 1200 3599 4199 4799 4800"

k3=$(ctl_at "$ROT" key rotate)
ws_check "key rotate at ROT: K3 (${k3:-none})" \
    eval '[ -n "$k3" ] && [ "$k3" != "$k2" ]'
for f in $ROT_FETCHES; do
	cgi_at $((ROT + f)) jwks
	cp "$ws_tmp/body" "$ws_tmp/jwks$f"
done
ws_check "the JWKS before ROT holds K2 only" \
    eval 'jwks_has "$ws_tmp/jwks-10" "$k2" &&
    ! jwks_has "$ws_tmp/jwks-10" "$k3"'
# jwks_both F...: whether the JWKS fetched at ROT+F holds K2 and K3, each F.
jwks_both() {
	for _f in "$@"; do
		jwks_has "$ws_tmp/jwks$_f" "$k2" &&
		    jwks_has "$ws_tmp/jwks$_f" "$k3" || return 1
	done
}
ws_check "the JWKS from ROT to ROT+4799 holds K2 and K3" \
    jwks_both 0 1 300 599 600 601 1200 3599 4199 4799
ws_check "the JWKS at ROT+4800 holds K3 and no longer K2" \
    eval 'jwks_has "$ws_tmp/jwks4800" "$k3" &&
    ! jwks_has "$ws_tmp/jwks4800" "$k2"'

# ROT+N as text: "ROT-10", "ROT+600".
rot() {
	case $1 in
	-*)	echo "ROT$1" ;;
	*)	echo "ROT+$1" ;;
	esac
}

for m in $ROT_MINTS; do
	t=$(mint_at $((ROT + m)))
	printf '%s\n' "$t" >"$ws_tmp/rot$m"
	want=$k2
	[ "$m" -lt "$JWKS_AGE" ] || want=$k3
	# shellcheck disable=SC2034
	kid=$(jwt_kid "$t")		# read by the eval below
	name=K3
	[ "$want" != "$k2" ] || name=K2
	ws_check "a token minted at $(rot "$m") is signed by $name" \
	    eval '[ -n "$t" ] && [ "$kid" = "$want" ]'
	n=0 bad=
	for f in $ROT_FETCHES; do
		[ "$f" -gt $((m - JWKS_AGE)) ] &&
		    [ "$f" -lt $((m + ACCESS_TTL)) ] || continue
		n=$((n + 1))
		jwt_verify "$ws_tmp/rot$m" "$ws_tmp/jwks$f" \
		    2>"$ws_tmp/why" || bad="$bad $(rot "$f") ($(cat "$ws_tmp/why"))"
	done
	ws_check "... and verifies against each of the $n JWKS fetched from\
 $(rot $((m - JWKS_AGE + 1))) on while it lives" [ -z "$bad" ]
	[ -z "$bad" ] || echo "#   refused with the JWKS of$bad"
done
# What the window protects against: a JWKS older than 600 s does not
# know the key that signs after the rotation.
ws_check "(a JWKS fetched at ROT-10 cannot verify the token of ROT+600)" \
    eval '! jwt_verify "$ws_tmp/rot600" "$ws_tmp/jwks-10" 2>/dev/null'

ws_finish
