#!/bin/sh
# `make run`: a working fcgi-oauth on 127.0.0.1:${PORT:-8080}/oauth, served
# by lighttpd through mod_fastcgi, with a database in ./demo/db holding a
# machine client, a resource server and a public app.  Prints curl lines
# with the real secrets filled in, then serves in the foreground until
# Ctrl-C.  Run again, it keeps the database and issues new secrets.

set -eu
cd "$(dirname "$0")/.."

PORT=${PORT:-8080}
BASE="http://127.0.0.1:$PORT/oauth"
DEMO=$(pwd)/demo
FCGI=$(pwd)/build/oauth.fcgi
OAUTHCTL=build/oauthctl
# RFC 7636 Appendix B's verifier and its S256 challenge.
VERIFIER=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk
CHALLENGE=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
REDIRECT=https://app.example/cb

LIGHTTPD=$(command -v lighttpd 2>/dev/null || echo /usr/sbin/lighttpd)
if [ ! -x "$LIGHTTPD" ]; then
	echo "demo: lighttpd is not installed (apt-get install lighttpd)" >&2
	exit 1
fi
for b in "$FCGI" "$OAUTHCTL"; do
	[ -x "$b" ] || { echo "demo: $b missing: run make" >&2; exit 1; }
done

mkdir -p "$DEMO/www"
[ -d "$DEMO/db" ] || "$OAUTHCTL" --db "$DEMO/db" init >/dev/null

# secret_of: the client_secret of oauthctl's --json output on stdin.
secret_of() {
	sed -n 's/.*"client_secret" *: *"\([^"]*\)".*/\1/p'
}

# confidential ID OPTIONS...: register ID, or give it a new secret when it
# exists; print the secret.
confidential() {
	id=$1
	shift
	if "$OAUTHCTL" --db "$DEMO/db" client show "$id" >/dev/null 2>&1; then
		"$OAUTHCTL" --db "$DEMO/db" client secret "$id" --json | secret_of
	else
		"$OAUTHCTL" --db "$DEMO/db" client add "$id" "$@" --json |
		    secret_of
	fi
}

DEMO_SECRET=$(confidential demo --scope "read write" \
    --grant-types client_credentials)
RS_SECRET=$(confidential demo-rs --introspect \
    --grant-types client_credentials)
if ! "$OAUTHCTL" --db "$DEMO/db" client show demo-app >/dev/null 2>&1; then
	"$OAUTHCTL" --db "$DEMO/db" client add demo-app --public \
	    --scope "read write" \
	    --grant-types authorization_code,refresh_token \
	    --redirect-uri "$REDIRECT" >/dev/null
fi
if [ -z "$DEMO_SECRET" ] || [ -z "$RS_SECRET" ]; then
	echo "demo: oauthctl gave no secret" >&2
	exit 1
fi

# The resource owner of /authorize is whoever lighttpd authenticates.
ALICE_PW=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
umask 077
echo "alice:$ALICE_PW" >"$DEMO/users"

cat >"$DEMO/lighttpd.conf" <<EOF
server.document-root = "$DEMO/www"
server.bind = "127.0.0.1"
server.port = $PORT
server.modules += ( "mod_auth", "mod_authn_file", "mod_fastcgi",
    "mod_accesslog" )
accesslog.filename = "/dev/stderr"

auth.backend = "plain"
auth.backend.plain.userfile = "$DEMO/users"
auth.require = ( "/oauth/authorize" => ( "method" => "basic",
    "realm" => "fcgi-oauth demo", "require" => "valid-user" ) )

\$HTTP["url"] =~ "^/oauth(/|\$)" {
	fastcgi.server = ( "/oauth" => ( (
		"bin-path" => "$FCGI",
		"socket" => "$DEMO/oauth.sock",
		"check-local" => "disable",
		"max-procs" => 2,
		"bin-environment" => ( "OAUTH_DB" => "$DEMO/db" ),
		"bin-copy-environment" => ( "PATH" ),
	) ) )
}
EOF

cat <<EOF
fcgi-oauth demo on $BASE (database in demo/db; Ctrl-C stops it)

# A token for the machine client "demo" (client_credentials):
TOKEN=\$(curl -s -u 'demo:$DEMO_SECRET' -d grant_type=client_credentials -d scope=read $BASE/token | sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p'); echo "\$TOKEN"

# Introspect it as the resource server "demo-rs":
curl -s -u 'demo-rs:$RS_SECRET' -d "token=\$TOKEN" $BASE/introspect; echo

# Revoke it as its owner, then introspect again: {"active":false}
curl -s -u 'demo:$DEMO_SECRET' -d "token=\$TOKEN" $BASE/revoke
curl -s -u 'demo-rs:$RS_SECRET' -d "token=\$TOKEN" $BASE/introspect; echo

# The public app "demo-app": authorization code with PKCE, signed in as alice by the web server:
curl -s -u 'alice:$ALICE_PW' -o /dev/null -w '%{redirect_url}\\n' '$BASE/authorize?response_type=code&client_id=demo-app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid%20read&state=xyz&nonce=n-0S6&code_challenge=$CHALLENGE&code_challenge_method=S256'
# then, with the code from that URL (scope openid: an id_token comes with the tokens):
curl -s -d grant_type=authorization_code -d client_id=demo-app -d code=CODE -d redirect_uri=$REDIRECT -d code_verifier=$VERIFIER $BASE/token; echo

# Metadata, OpenID Connect discovery and the signing keys:
curl -s $BASE/.well-known/oauth-authorization-server; echo
curl -s $BASE/.well-known/openid-configuration; echo
curl -s $BASE/jwks; echo

EOF
exec "$LIGHTTPD" -D -f "$DEMO/lighttpd.conf"
