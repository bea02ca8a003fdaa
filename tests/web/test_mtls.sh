#!/bin/sh
# Mutual TLS (RFC 8705) through Apache 2.4 + mod_fcgid with
# etc/apache2/oauth-fcgid-mtls.conf, then nginx with
# etc/nginx/oauth-listen-mtls.conf (oauth.fcgi --listen), as shipped
# (placeholders filled in), on a free loopback port, with certificates
# made here with openssl: a CA, the server's certificate, a client
# certificate the CA signed and a self-signed one.  Two clients run
# through each server.  curl: a client registered by its certificate's
# subject (tls_client_auth) gets a token with the CA's certificate, bound
# to it (cnf.x5t#S256, as introspection says); a client registered by its
# self-signed certificate gets one with that certificate; another
# certificate, none, or a certificate the CA did not sign for the
# subject's client are refused; a bound token authorizes an introspection
# as Bearer only over a connection with its certificate.  openid-client
# (npm, on oauth4webapi, pinned in tests/web/oidc-client/package-lock.json;
# tests/web/oidc-client/mtls_test.mjs), a strict client, authenticating
# with TlsClientAuth over node:https with each certificate: the
# discovered metadata offers both methods and bound tokens;
# client_credentials gives each client a Bearer token, which
# introspection, authenticated by the same certificate, reports active
# and bound to that certificate, and which revocation ends; the subject's
# client presenting the self-signed certificate, or either client none,
# is refused with invalid_client.  Skips, with a visible line, when
# apache2, mod_fcgid, mod_ssl, nginx or openssl is missing; skips only the
# openid-client runs, with a visible line, when node or npm is.  Last
# line: "N passed, M failed".

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_mtls
. tests/web/lib_server.sh

SUBJECT="CN=mtls-client,O=Example"
NPM_TIMEOUT=300		# seconds for npm ci, which may download
RUN_TIMEOUT=60		# seconds for one run of openid-client

ws_need_common
ws_need_cmd apache2 apache2
ws_need_cmd openssl openssl
ws_need_cmd nginx nginx
ws_need_file /usr/lib/apache2/modules/mod_fcgid.so libapache2-mod-fcgid
ws_need_file /usr/lib/apache2/modules/mod_ssl.so apache2
ws_need_build
ws_init

pki=$ws_tmp/pki
mkdir -p "$pki"
# mkcert NAME SUBJECT [ca [EXTFILE]]: a P-256 key and certificate, signed
# by the CA (ca.pem and ca.key in $pki, with EXTFILE's extensions) or
# self-signed.
mkcert() {
	if [ $# -eq 2 ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$pki/$1.key" -out "$pki/$1.pem" -days 2 \
		    -subj "$2" >/dev/null 2>&1
	else
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "$2" \
		    >/dev/null 2>&1 &&
		openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" \
		    -CAkey "$pki/ca.key" -CAcreateserial -out "$pki/$1.pem" \
		    -days 2 ${4:+-extfile "$4"} >/dev/null 2>&1
	fi
}
printf 'subjectAltName=IP:127.0.0.1\n' >"$pki/server.ext"
# make_pki: every certificate of the test.
make_pki() {
	mkcert ca "/CN=Test CA" &&
	    mkcert server "/CN=127.0.0.1" ca "$pki/server.ext" &&
	    mkcert client "/O=Example/CN=mtls-client" ca &&
	    mkcert self "/CN=self-signed client" && mkcert other "/CN=another"
}
ws_check "openssl makes a CA, the server's, a client's and a self-signed certificate" \
    make_pki
chmod a+r "$pki"/*.pem "$pki"/*.key
# cnf_is FILE THUMBPRINT: whether the introspection answer in FILE is
# active and bound to the certificate of that x5t#S256.
cnf_is() {
	"$WS_PYTHON" -c 'import json, sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if o.get("active") and o.get("cnf") == {"x5t#S256": sys.argv[2]}
    else 1)' "$1" "$2"
}
thumb() {
	openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -binary |
	    base64 | tr '+/' '-_' | tr -d '=\n'
}

ws_check "database with the test clients" ws_setup_db
ws_check "oauthctl client add --tls-subject" ws_quiet ws_ctl client add \
    dn-client --tls-subject "$SUBJECT" --scope read
ws_check "oauthctl client add --tls-cert" ws_quiet ws_ctl client add \
    self-client --tls-cert "$pki/self.pem" --scope read

# openid-client in $rp, installed from the pinned lock file; rp stays
# empty, and its runs are left out, when node or npm is missing or the
# install fails.
rp=
if ! command -v node >/dev/null 2>&1; then
	echo "# skipped the openid-client runs: node not installed" \
	    "(apt-get install nodejs)"
elif ! command -v npm >/dev/null 2>&1; then
	echo "# skipped the openid-client runs: npm not installed" \
	    "(apt-get install npm)"
elif mkdir -p "$ws_tmp/rp" && cp tests/web/oidc-client/package.json \
    tests/web/oidc-client/package-lock.json \
    tests/web/oidc-client/mtls_test.mjs \
    tests/web/oidc-client/client_lib.mjs "$ws_tmp/rp/" &&
    timeout "$NPM_TIMEOUT" npm ci --prefix "$ws_tmp/rp" --no-audit \
    --no-fund --ignore-scripts >"$ws_tmp/npm.out" 2>&1; then
	ws_ok "npm ci installs the pinned openid-client"
	rp=$ws_tmp/rp
else
	ws_notok "npm ci installs the pinned openid-client"
	sed 's/^/#   /' "$ws_tmp/npm.out" 2>/dev/null | tail -n 20
fi

# client_run LABEL: openid-client's run (mtls_test.mjs) against the
# server on $base as dn-client and self-client with their certificates,
# each of its result lines one here, under LABEL; nothing without $rp.
client_run() {
	[ -n "$rp" ] || return 0
	ISSUER=$base PKI=$pki DN_ID=dn-client SELF_ID=self-client \
	    timeout "$RUN_TIMEOUT" node "$rp/mtls_test.mjs" \
	    >"$ws_tmp/run.out" 2>&1
	_rc=$?
	while IFS= read -r _line; do
		case $_line in
		"ok - "*) ws_ok "$1: openid-client: ${_line#ok - }" ;;
		"not ok - "*)
			ws_notok "$1: openid-client: ${_line#not ok - }" ;;
		"#"*) echo "$_line" ;;
		*) echo "# $_line" ;;
		esac
	done <"$ws_tmp/run.out"
	ws_check "$1: openid-client: the run exits 0 (in ${RUN_TIMEOUT} s)" \
	    [ "$_rc" -eq 0 ]
}

WS_TLS_CERT=$pki/server.pem WS_TLS_KEY=$pki/server.key WS_TLS_CA=$pki/ca.pem
export WS_TLS_CERT WS_TLS_KEY WS_TLS_CA
# tls NAME URL [CURL ARGS]: a request over TLS with NAME's certificate
# ("" for none), the server checked against the CA.
tls() {
	_who=$1 _url=$2
	shift 2
	ws_http "$_url" --cacert "$pki/ca.pem" \
	    ${_who:+--cert "$pki/$_who.pem" --key "$pki/$_who.key"} "$@"
}

# The client certificate URL-encoded, as a header could carry it.
escaped=$("$WS_PYTHON" -c 'import sys, urllib.parse
print(urllib.parse.quote(open(sys.argv[1]).read(), safe=""))' \
    "$pki/client.pem")

# mtls_checks LABEL: every check, through the server on $base.
mtls_checks() {
	tls client "$base/token" -d grant_type=client_credentials -d client_id=dn-client
	ws_expect "$1: tls_client_auth: the CA's certificate of the subject gets a token" \
	    200 token_type=Bearer
	bound=$(ws_json access_token)
	ws_http "$base/introspect" --cacert "$pki/ca.pem" -u "rs:$WS_RS_SECRET" \
	    --data-urlencode "token=$bound"
	ws_check "$1: introspection: cnf.x5t#S256 is the client certificate's" \
	    cnf_is "$ws_tmp/body" "$(thumb "$pki/client.pem")"
	tls client "$base/introspect" -H "Authorization: Bearer $bound" \
	    --data-urlencode "token=$bound"
	ws_expect "$1: the bound token as Bearer over its certificate's connection" \
	    200 active=true
	tls "" "$base/introspect" -H "Authorization: Bearer $bound" \
	    --data-urlencode "token=$bound"
	ws_expect "$1: ... and without the certificate: 401" 401 error=invalid_token
	tls self "$base/token" -d grant_type=client_credentials -d client_id=dn-client
	ws_expect "$1: tls_client_auth with a certificate the CA did not sign: refused" \
	    401 error=invalid_client
	tls "" "$base/token" -d grant_type=client_credentials -d client_id=dn-client
	ws_expect "$1: tls_client_auth without a certificate: refused" 401 \
	    error=invalid_client
	tls "" "$base/token" -H "SSL_CLIENT_CERT: $escaped" \
	    -H "SSL_CLIENT_VERIFY: SUCCESS" -H "SSL_CLIENT_S_DN: $SUBJECT" \
	    -d grant_type=client_credentials -d client_id=dn-client
	ws_expect "$1: the certificate and its verdict sent as request headers: refused" \
	    401 error=invalid_client

	tls self "$base/token" -d grant_type=client_credentials -d client_id=self-client
	ws_expect "$1: self_signed_tls_client_auth: its certificate gets a token" 200 \
	    token_type=Bearer
	ws_http "$base/introspect" --cacert "$pki/ca.pem" -u "rs:$WS_RS_SECRET" \
	    --data-urlencode "token=$(ws_json access_token)"
	ws_check "$1: ... bound to that certificate" \
	    cnf_is "$ws_tmp/body" "$(thumb "$pki/self.pem")"
	tls other "$base/token" -d grant_type=client_credentials \
	    -d client_id=self-client
	ws_expect "$1: self_signed_tls_client_auth with another certificate: refused" \
	    401 error=invalid_client
	tls client "$base/token" -d grant_type=client_credentials \
	    -d client_id=self-client
	ws_expect "$1: ... with a CA-signed one not registered: refused" 401 \
	    error=invalid_client
	tls "" "$base/.well-known/oauth-authorization-server"
	ws_expect "$1: metadata: tls_client_certificate_bound_access_tokens" 200 \
	    tls_client_certificate_bound_access_tokens=true

	client_run "$1"
}

base=https://127.0.0.1:$WS_PORT/oauth
ws_check "etc/apache2/oauth-fcgid-mtls.conf renders" \
    ws_render etc/apache2/oauth-fcgid-mtls.conf "$WS_RUN/apache2.conf"
ws_check "apache2 -t accepts it" ws_quiet apache2 -t -f "$WS_RUN/apache2.conf"
ws_start apache2 apache2 -f "$WS_RUN/apache2.conf" -DFOREGROUND
ws_came_up "apache2 answers on 127.0.0.1:$WS_PORT" http "$WS_PORT" \
    "$WS_RUN/apache2.out" "$WS_RUN/error.log" || ws_finish

mtls_checks apache2
ws_stop_server "$ws_pid" apache2

# The same behind nginx, oauth.fcgi on its own socket (--listen).
# shellcheck disable=SC2086
ws_start oauth env OAUTH_DB="$WS_DB" $ws_runas "$WS_BIN/oauth.fcgi" \
    --listen "$WS_SOCKET"
fpid=$ws_pid
if ws_came_up "oauth.fcgi --listen $WS_SOCKET listens" listen "$WS_SOCKET" \
    "$WS_RUN/oauth.out" && ws_serve nginx etc/nginx/oauth-listen-mtls.conf
then
	mtls_checks nginx
fi
ws_stop_server "$ws_pid" nginx "$fpid" "oauth.fcgi --listen"
ws_finish
