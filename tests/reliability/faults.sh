#!/bin/sh
# Faults of the database under oauth.fcgi, run as CGI (one process a
# request, so each request meets the fault afresh) by an unprivileged user
# (nobody, through setpriv, when run as root: root ignores permissions),
# and once as a FastCGI responder started while the fault holds:
#
#   - a read-only database directory and files,
#   - a missing database directory,
#   - a database owned by another user,
#   - a map that fills (OAUTH_MAP_SIZE small).
#
# Each must answer a clear OAuth error (500 server_error or 503
# temporarily_unavailable, with a JSON body), lose nothing (a token issued
# before is active afterwards), and recover once the cause is gone (mode
# restored, directory back, owner restored, map grown or purged).  The
# clock is pinned (OAUTH_TEST_NOW) so that expiry is exact.
# Last line: "N passed, M failed".

set -u
cd "$(dirname "$0")/../.." || exit 1
REL_NAME=faults
. tests/reliability/lib.sh

NOW=1800000000
MAP_SMALL=$((64 * 1024))	# bytes: full after a few hundred tokens
MAP_GROWN=$((4 * 1024 * 1024))
FILL_MAX=5000			# token requests tried to fill the small map

command -v setpriv >/dev/null 2>&1 ||
    rel_skip "setpriv not installed (apt-get install util-linux)"
rel_init
as=
other=
if [ "$(id -u)" -eq 0 ]; then
	as="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
	other=nobody:nogroup
fi
# The binaries where nobody may run them.
mkdir -p "$rel_tmp/bin"
cp "$FCGI" "$rel_tmp/bin/oauth.fcgi" && cp "$OAUTHCTL" "$rel_tmp/bin/oauthctl" &&
    cp "$(dirname "$FCGI")/oauth-jose.so" "$rel_tmp/bin/"
chmod 0755 "$rel_tmp/bin" "$rel_tmp/bin/"*
FCGI=$rel_tmp/bin/oauth.fcgi OAUTHCTL=$rel_tmp/bin/oauthctl
chmod 0777 "$rel_tmp"

# ctl DB [VAR=value...] -- ARG...: oauthctl as the unprivileged user.
ctl() {
	_db=$1
	shift
	_env=
	while [ "$1" != -- ]; do
		_env="$_env $1"
		shift
	done
	shift
	# shellcheck disable=SC2086
	env OAUTH_TEST_NOW=$NOW $_env $as "$OAUTHCTL" --db "$_db" "$@"
}

# cgi DB METHOD PATH BODY [VAR=value...]: one request as the unprivileged
# user; the status in st, the body in $rel_tmp/body.
cgi() {
	_db=$1 _m=$2 _p=$3 _b=$4
	shift 4
	printf '%s' "$_b" | env OAUTH_DB="$_db" OAUTH_TEST_NOW=$NOW \
	    OAUTH_ISSUER=https://as.example/oauth REQUEST_METHOD="$_m" \
	    PATH_INFO="$_p" CONTENT_TYPE=application/x-www-form-urlencoded \
	    CONTENT_LENGTH=${#_b} "$@" $as "$FCGI" >"$rel_tmp/cgi" \
	    2>"$rel_tmp/cgi.err"
	st=$(sed -n '1s/^Status: \([0-9]*\).*/\1/p' "$rel_tmp/cgi")
	sed '1,/^\r\{0,1\}$/d' "$rel_tmp/cgi" >"$rel_tmp/body"
}

member() {
	"$REL_PYTHON" -c 'import json, sys
try:
    v = json.load(open(sys.argv[1])).get(sys.argv[2], "")
except ValueError:
    v = ""
print("true" if v is True else "false" if v is False else v)' \
	    "$rel_tmp/body" "$1"
}

# token DB [VAR=value...]: a client_credentials token, or nothing.
token() {
	_db=$1
	shift
	cgi "$_db" POST /token \
	    "grant_type=client_credentials&client_id=svc&client_secret=$svc_secret" \
	    "$@"
	[ "$st" = 200 ] && member access_token
}

# active DB TOKEN [VAR=value...]: TOKEN introspects active.
active() {
	_db=$1 _t=$2
	shift 2
	cgi "$_db" POST /introspect \
	    "token=$_t&client_id=svc&client_secret=$svc_secret" "$@"
	[ "$st" = 200 ] && [ "$(member active)" = true ]
}

# oauth_error: the last answer is a 500 server_error or a 503
# temporarily_unavailable with a JSON body; prints which.
oauth_error() {
	_e=$(member error)
	echo "$st $_e"
	case "$st $_e" in
	"500 server_error" | "503 temporarily_unavailable") return 0 ;;
	esac
	return 1
}

# new_db NAME [VAR=value...]: a database made by the unprivileged user
# with the client svc; its path in db.
new_db() {
	db=$rel_tmp/$1
	shift
	ctl "$db" "$@" -- init >/dev/null &&
	svc_secret=$(ctl "$db" "$@" -- client add svc --scope read --json |
	    rel_json client_secret) && [ -n "$svc_secret" ]
}

# expect_error DESC: one result line for oauth_error, the answer shown.
expect_error() {
	_got=$(oauth_error)
	if [ $? -eq 0 ]; then
		rel_ok "$1: $_got"
	else
		rel_notok "$1: $_got"
		sed 's/^/#   /' "$rel_tmp/cgi" "$rel_tmp/cgi.err" | head -n 10
	fi
}

# ---- read-only directory -------------------------------------------------

if [ -z "$as" ] && [ "$(id -u)" -eq 0 ]; then
	rel_skip "root without setpriv: permissions would not apply"
fi
rel_check "a database of the unprivileged user" new_db ro
t0=$(token "$db")
rel_check "a token issued before the fault" [ -n "$t0" ]
chmod 0500 "$db" && chmod 0400 "$db"/*.mdb
token "$db" >/dev/null
expect_error "read-only database: /token answers an OAuth error"
# The responder opens the database before it routes, so even metadata
# answers the error: worth knowing, not a requirement.
cgi "$db" GET /.well-known/oauth-authorization-server ""
rel_note "read-only database: metadata answers $st"
chmod 0700 "$db" && chmod 0600 "$db"/*.mdb
rel_check "mode restored: the token from before is active" active "$db" "$t0"
t1=$(token "$db")
rel_check "mode restored: a new token is issued" [ -n "$t1" ]

# ---- missing directory ---------------------------------------------------

mv "$db" "$db.away"
token "$db" >/dev/null
expect_error "missing database directory: /token answers an OAuth error"
active "$db" "$t0"
expect_error "missing database directory: /introspect answers an OAuth error"
# A FastCGI responder started while the directory is missing.
rel_start missing env OAUTH_DB="$db" OAUTH_TEST_NOW=$NOW \
    OAUTH_ISSUER=https://as.example/oauth $as "$FCGI" \
    --listen "$rel_tmp/missing.sock"
fpid=$rel_pid
if rel_wait_socket "$rel_tmp/missing.sock" "$fpid"; then
	"$REL_PYTHON" - "$rel_tmp/missing.sock" "$t0" >"$rel_tmp/fcgi.out" \
	    2>&1 <<'EOF'
import sys
sys.path.insert(0, "tests/reliability")
import fcgi_client as fc
c = fc.Connection(sys.argv[1])
st, h, body = c.request(fc.cgi_params("POST", "/token",
    fc.form(grant_type="client_credentials")),
    fc.form(grant_type="client_credentials"))
print(st, body.decode())
EOF
	rel_note "FastCGI responder started without its directory: $(cat "$rel_tmp/fcgi.out")"
	rel_check "... answers a request with an OAuth error, without dying" \
	    grep -qE '^(500 .*server_error|503 .*temporarily_unavailable)' \
	    "$rel_tmp/fcgi.out"
else
	rel_note "FastCGI responder started without its directory: exit, $(tail -n 1 "$rel_tmp/missing.out")"
	rel_ok "... refuses to start, saying why"
fi
mv "$db.away" "$db"
if rel_alive "$fpid"; then
	"$REL_PYTHON" - "$rel_tmp/missing.sock" "$t0" >"$rel_tmp/fcgi.out" \
	    2>&1 <<EOF
import sys
sys.path.insert(0, "tests/reliability")
import fcgi_client as fc
c = fc.Connection(sys.argv[1])
body = fc.form(grant_type="client_credentials", client_id="svc",
    client_secret="$svc_secret")
st, h, out = c.request(fc.cgi_params("POST", "/token", body), body)
print(st)
EOF
	rel_note "the same FastCGI responder once the directory is back: $(cat "$rel_tmp/fcgi.out")"
	if grep -q '^200' "$rel_tmp/fcgi.out"; then
		rel_ok "... recovers by itself"
	else
		rel_note "XXX it keeps failing until restarted: the store is opened once per process"
	fi
fi
rel_stop "$fpid"
rel_check "directory back: the token from before is active" active "$db" "$t0"
rel_check "directory back: a new token is issued" test -n "$(token "$db")"

# ---- owned by another user -----------------------------------------------

if [ -n "$other" ]; then
	chown -R root:root "$db"
	token "$db" >/dev/null
	expect_error "database owned by another user: /token answers an OAuth error"
	grep -q "$svc_secret" "$rel_tmp/cgi.err" "$rel_tmp/body" &&
	    rel_notok "the error messages hold the client secret"
	chown -R "$other" "$db"
	rel_check "owner restored: the token from before is active" \
	    active "$db" "$t0"
	rel_check "owner restored: a new token is issued" \
	    test -n "$(token "$db")"
else
	rel_note "not root: the database owned by another user is not tried"
fi

# ---- a map that fills ----------------------------------------------------

rel_check "a database with a $MAP_SMALL-byte map" \
    new_db full OAUTH_MAP_SIZE=$MAP_SMALL
t0=$(token "$db" OAUTH_MAP_SIZE=$MAP_SMALL OAUTH_ACCESS_TTL=60)
rel_check "a token issued before the map fills" [ -n "$t0" ]
i=0 issued=1
while [ $i -lt $FILL_MAX ]; do
	i=$((i + 1))
	token "$db" OAUTH_MAP_SIZE=$MAP_SMALL OAUTH_ACCESS_TTL=60 >/dev/null ||
	    break
	issued=$((issued + 1))
done
rel_note "the map filled after $issued tokens"
expect_error "full map: /token answers an OAuth error"
rel_check "full map: the token from before is still active" \
    active "$db" "$t0" OAUTH_MAP_SIZE=$MAP_SMALL
ctl "$db" OAUTH_MAP_SIZE=$MAP_SMALL -- check >"$rel_tmp/check.out" 2>&1
rel_check "full map: oauthctl check passes" [ $? -eq 0 ]
set -- $(rel_pages "$db")
rel_note "full map: $1 pages used, $2 free"

# Recovery by purge: every token has expired an hour later.
cp -a "$db" "$db.copy"
later=$((NOW + 3600))
env OAUTH_TEST_NOW=$later OAUTH_MAP_SIZE=$MAP_SMALL $as "$OAUTHCTL" \
    --db "$db" purge >"$rel_tmp/purge.out" 2>&1
rc=$?
rel_note "oauthctl purge on the full map: exit $rc: $(head -n 1 "$rel_tmp/purge.out")"
if [ $rc -eq 0 ]; then
	rel_ok "oauthctl purge works on a full map"
	rel_check "after purge: a new token is issued" test -n "$(token "$db" \
	    OAUTH_MAP_SIZE=$MAP_SMALL OAUTH_TEST_NOW=$later)"
else
	rel_notok "oauthctl purge works on a full map (known: being fixed in storage/)"
fi

# Recovery by growing the map, on the copy taken while full.
rel_check "map grown: the token from before is active" \
    active "$db.copy" "$t0" OAUTH_MAP_SIZE=$MAP_GROWN
rel_check "map grown: a new token is issued" test -n "$(token "$db.copy" \
    OAUTH_MAP_SIZE=$MAP_GROWN)"
ctl "$db.copy" OAUTH_MAP_SIZE=$MAP_GROWN -- check >"$rel_tmp/check.out" 2>&1
rel_check "map grown: oauthctl check passes" [ $? -eq 0 ]

rel_finish
