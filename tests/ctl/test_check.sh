#!/bin/sh
# "oauthctl check" on healthy databases and on databases damaged behind the
# tool's back: a record that does not decode, a client deleted without its
# tokens, a grant deleted while its tokens live.  The damage is done by
# dumping the database with mdb_dump, editing the dump and loading it into
# a new directory with mdb_load (lmdb-utils); tokens come from oauth.fcgi
# run as CGI with the clock pinned (OAUTH_TEST_NOW).
#
#   OAUTHCTL=build/asan/oauthctl OAUTH_FCGI=build/asan/oauth.fcgi \
#       sh tests/ctl/test_check.sh
#
# OAUTH_TEST_BACKEND=postgresql runs the same checks on PostgreSQL
# (tests/lib_backend.sh): there each damaged database is a copy of the
# healthy one (CREATE DATABASE ... TEMPLATE) with the same record deleted
# or garbled by SQL; the `record` columns hold what LMDB's values hold.
#
# One "ok - ..." or "not ok - ..." line per check, then "N passed, M failed".
# Run from the top of the source tree.

set -u

OAUTHCTL=${OAUTHCTL:-build/oauthctl}
OAUTH_FCGI=${OAUTH_FCGI:-build/oauth.fcgi}
unset OAUTH_DB OAUTH_CONFIG OAUTH_ISSUER OAUTH_ACCESS_TTL OAUTH_REFRESH_TTL \
    OAUTH_CODE_TTL OAUTH_MAX_BODY OAUTH_MAP_SIZE OAUTH_TEST_NOW

# The pinned clock: tokens are issued at NOW, and checked at NOW or later.
NOW=1800000000
LATER=$((NOW + 30 * 86400))	# past every lifetime of the defaults
export OAUTH_TEST_NOW=$NOW

for b in "$OAUTHCTL" "$OAUTH_FCGI"; do
	if [ ! -x "$b" ]; then
		echo "not ok - $b is not built"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
. tests/lib_backend.sh

if [ "$BACKEND" = lmdb ]; then
	for c in mdb_dump mdb_load; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "skipped: $c missing (apt-get install lmdb-utils)"
			echo "0 passed, 0 failed"
			exit 0
		fi
	done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-test.XXXXXX") || exit 1
trap 'backend_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
backend_suite "$tmp"

passed=0
failed=0

ok() {
	passed=$((passed + 1))
	echo "ok - $*"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $*"
}

# check DESC COMMAND...: ok when COMMAND succeeds.
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# run_check DB [VAR=value...]: "oauthctl check" on DB; stdout in
# $tmp/out, stderr in $tmp/err, exit status in $rc.
run_check() {
	_db=$1
	shift
	env "$@" "$OAUTHCTL" --db "$_db" check >"$tmp/out" 2>"$tmp/err" \
	    </dev/null
	rc=$?
}

# expect_rc DESC WANT: one result line for $rc, showing the output when
# it is not WANT.
expect_rc() {
	if [ "$rc" -eq "$2" ]; then
		ok "$1"
	else
		not_ok "$1 (exit $rc, wanted $2)"
		sed 's/^/#   out: /' "$tmp/out"
		sed 's/^/#   err: /' "$tmp/err"
	fi
}

has() {
	grep -qF -- "$2" "$1"
}

# None of the token strings in $tmp/tokens appears in FILE.
no_token_in() {
	while read -r _t; do
		[ -n "$_t" ] || continue
		if grep -qF -- "$_t" "$1"; then
			return 1
		fi
	done <"$tmp/tokens"
	return 0
}

# One line: stderr is empty.
quiet() {
	[ ! -s "$tmp/err" ]
}

# cgi METHOD PATH BODY [VAR=value...]: one CGI request to oauth.fcgi on
# $db; the response in $tmp/cgi.
cgi() {
	_m=$1 _p=$2 _body=$3
	shift 3
	printf '%s' "$_body" | env OAUTH_DB="$db" \
	    OAUTH_ISSUER=https://as.example REQUEST_METHOD="$_m" \
	    PATH_INFO="$_p" CONTENT_TYPE=application/x-www-form-urlencoded \
	    CONTENT_LENGTH=${#_body} "$@" "$OAUTH_FCGI" >"$tmp/cgi" 2>/dev/null
}

# member NAME: a string member of the JSON body in $tmp/cgi.
member() {
	sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$tmp/cgi"
}

# cc_token ID SECRET: a client_credentials access token, also kept in
# $tmp/tokens.
cc_token() {
	cgi POST /token \
	    "grant_type=client_credentials&client_id=$1&client_secret=$2"
	member access_token | tee -a "$tmp/tokens"
}

# code_flow CLIENT: /authorize and /token for the public client CLIENT;
# sets access and refresh, and keeps both in $tmp/tokens.
verifier='verifier-0123456789-0123456789-0123456789-abc'
challenge=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary |
    openssl base64 -A | tr '+/' '-_' | tr -d '=')
code_flow() {
	access= refresh=
	cgi GET /authorize "" REMOTE_USER=alice QUERY_STRING="response_type=code&client_id=$1&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_challenge=$challenge&code_challenge_method=S256"
	_code=$(sed -n 's/^Location: .*[?&]code=\([^&]*\).*/\1/p' "$tmp/cgi" |
	    tr -d '\r')
	[ -n "$_code" ] || return 1
	echo "$_code" >>"$tmp/tokens"
	cgi POST /token "grant_type=authorization_code&client_id=$1&code=$_code&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier=$verifier"
	access=$(member access_token)
	refresh=$(member refresh_token)
	printf '%s\n%s\n' "$access" "$refresh" >>"$tmp/tokens"
	[ -n "$access" ] && [ -n "$refresh" ]
}

# refresh CLIENT TOKEN: rotates TOKEN; sets access and refresh.
refresh() {
	cgi POST /token "grant_type=refresh_token&client_id=$1&refresh_token=$2"
	access=$(member access_token)
	refresh=$(member refresh_token)
	printf '%s\n%s\n' "$access" "$refresh" >>"$tmp/tokens"
	[ -n "$access" ] && [ -n "$refresh" ]
}

# jti TOKEN: the name check gives a token, the hex of the first half of
# its SHA-256 (what introspection reports as jti).
jti() {
	printf '%s' "$1" | openssl dgst -sha256 -hex | sed 's/.*= *//' |
	    cut -c1-32
}

# The PostgreSQL table of an LMDB named database, and its key as bytes.
pg_table() {
	case $1 in
	clients) echo "oauth_clients convert_to(id,'UTF8')" ;;
	tokens) echo "oauth_tokens hash" ;;
	grants) echo "oauth_grants id" ;;
	keys) echo "oauth_keys convert_to(kid,'UTF8')" ;;
	esac
}

# rewrite SRC DST DB KEY MODE: copies the database SRC to the new
# directory DST through mdb_dump and mdb_load, with the record KEY (hex)
# of the named database DB deleted (MODE drop) or given a value that
# decodes to nothing (MODE garble).  On PostgreSQL DST is a name: the copy
# is a new database, its URI in $copy.
rewrite() {
	if [ "$BACKEND" = postgresql ]; then
		# shellcheck disable=SC2046 # the table and its key expression
		set -- "$1" "$2" $(pg_table "$3") "$4" "$5"
		copy=$(backend_newdb "$2" "$tmp" "$1") || return 1
		if [ "$6" = drop ]; then
			_sql="DELETE FROM $3"
		else
			_sql="UPDATE $3 SET record = '\\x00ff'::bytea"
		fi
		# A rewrite that changes nothing is a failure, as in LMDB.
		[ -n "$(backend_psql "$copy" "$_sql
		    WHERE $4 = decode('$5', 'hex') RETURNING 1")" ]
		return
	fi
	copy=$2
	mdb_dump -a "$1" >"$tmp/dump" || return 1
	awk -v db="$3" -v key=" $4" -v mode="$5" '
	/^database=/ { cur = substr($0, 10) }
	/^ / {
		if (!inval) { k = $0; inval = 1; next }
		inval = 0
		if (cur == db && k == key) {
			if (mode == "drop")
				next
			print k
			print " 00ff"
			next
		}
		print k
		print
		next
	}
	{ print }' "$tmp/dump" >"$tmp/dump.new" || return 1
	cmp -s "$tmp/dump" "$tmp/dump.new" && return 1
	mkdir -p "$2" && chmod 0700 "$2" &&
	    mdb_load -f "$tmp/dump.new" "$2" 2>"$tmp/load.err"
}

# keys DB DBNAME: the keys (hex) of a named database, in order.
keys() {
	if [ "$BACKEND" = postgresql ]; then
		# shellcheck disable=SC2046
		set -- "$1" $(pg_table "$2")
		backend_psql "$1" "SELECT encode($3, 'hex') FROM $2 ORDER BY $3"
		return
	fi
	mdb_dump -s "$2" "$1" | awk '
	/^HEADER=END/ { on = 1; next }
	/^DATA=END/ { on = 0 }
	on && /^ / { if (!inval) { print substr($0, 2); inval = 1 } else inval = 0 }'
}

hex() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

: >"$tmp/tokens"
how="mdb_dump | mdb_load"
[ "$BACKEND" = lmdb ] || how="SQL on a copy"

# ---------------------------------------------------------------- usage

"$OAUTHCTL" check --help >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc "check --help exits 0" 0
check "check --help shows the usage" has "$tmp/out" "oauthctl [--db PATH] check"
"$OAUTHCTL" --db "$tmp/none" check extra >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc "check with an operand is a usage error" 2
# On PostgreSQL: a database without the schema.
missing=$(backend_newdb missing "$tmp")
run_check "$missing"
expect_rc "check of a missing database fails" 1
check "... saying there is no database" has "$tmp/err" "no database there"

# ---------------------------------------------------------------- healthy

db=$(backend_newdb db "$tmp")
"$OAUTHCTL" --db "$db" init >/dev/null 2>&1 || not_ok "oauthctl init"
run_check "$db"
expect_rc "an empty database passes" 0
check "... counting nothing" has "$tmp/out" \
    "checked 0 clients, 0 access tokens, 0 refresh tokens, 0 codes, 0 grants"
check "... with nothing on standard error" quiet

svc_secret=svc-secret-0123456789abcdefghijklmnop
"$OAUTHCTL" --db "$db" client add svc --secret "$svc_secret" \
    --scope "read write" >/dev/null &&
"$OAUTHCTL" --db "$db" client add pub --public --scope read \
    --redirect-uri https://app.example/cb >/dev/null &&
"$OAUTHCTL" --db "$db" client add gone --public --scope read \
    --redirect-uri https://app.example/cb >/dev/null ||
    not_ok "clients added"

t1=$(cc_token svc "$svc_secret")
t2=$(cc_token svc "$svc_secret")
check "client_credentials tokens issued" test -n "$t1" -a -n "$t2"
check "a code flow for pub" code_flow pub
pub_refresh=$refresh
check "pub's refresh token rotates" refresh pub "$pub_refresh"
check "a code flow for gone" code_flow gone
gone_access=$access
cgi POST /revoke "token=$t2&client_id=svc&client_secret=$svc_secret"
run_check "$db"
expect_rc "a database with tokens, codes, rotations and revocations passes" 0
check "... counting every record" has "$tmp/out" \
    "checked 3 clients, 5 access tokens, 3 refresh tokens, 2 codes, 2 grants"
check "... and no problem" has "$tmp/out" "0 problems"
check "... with nothing on standard error" quiet
run_check "$db" OAUTH_TEST_NOW=$LATER
expect_rc "the same database passes once everything has expired" 0

# ------------------------------------------------- a client gone behind

gone_key=$(hex gone)
if rewrite "$db" "$tmp/db-noclient" clients "$gone_key" drop; then
	run_check "$copy"
	expect_rc "a token whose client was deleted fails" 1
	check "... naming the token by its jti and the missing client" has \
	    "$tmp/err" "access token $(jti "$gone_access") names client \"gone\", which does not exist"
	check "... and the grant whose client is missing" grep -q \
	    '^oauthctl: check: grant [0-9a-f]* names client "gone", which does not exist$' \
	    "$tmp/err"
	check "... counting the problems in the summary" has "$tmp/out" \
	    "4 problems"
	check "... never printing a token" no_token_in "$tmp/err"
	check "... nor on standard output" no_token_in "$tmp/out"
else
	not_ok "the client 'gone' deleted by $how"
fi

# ---------------------------------------------- a grant gone behind

if [ "$BACKEND" = postgresql ]; then
	gone_grant=$(backend_psql "$db" "SELECT encode(id, 'hex')
	    FROM oauth_grants WHERE client_id = 'gone' ORDER BY id LIMIT 1")
else
	gone_grant=$(keys "$db" grants | while read -r k; do
		# The grant of "gone": its record carries the client id.
		mdb_dump -s grants "$db" | grep -A1 "^ $k\$" | tail -n 1 |
		    grep -q "$gone_key" && echo "$k"
	done | head -n 1)
fi
if [ -n "$gone_grant" ] &&
    rewrite "$db" "$tmp/db-nogrant" grants "$gone_grant" drop; then
	run_check "$copy"
	expect_rc "a live token whose grant is missing fails" 1
	check "... naming the token and the grant" has "$tmp/err" \
	    "access token $(jti "$gone_access") names grant $gone_grant, which does not exist, and has not expired"
	run_check "$copy" OAUTH_TEST_NOW=$LATER
	expect_rc "the same tokens once expired pass (a purged grant)" 0
	check "... and are counted as outliving their grant" has "$tmp/out" \
	    "3 expired tokens outlived their grant"
else
	not_ok "the grant of 'gone' deleted by $how"
fi

# ------------------------------------------------- records that do not decode

set -- $(keys "$db" tokens)
if [ $# -ge 3 ] && rewrite "$db" "$tmp/db-badtoken" tokens "$2" garble; then
	run_check "$copy"
	expect_rc "a token record that does not decode fails" 1
	first=$(printf '%s' "$1" | cut -c1-32)
	check "... placing it after the record before it" has "$tmp/err" \
	    "tokens: the record after $first does not decode"
	check "... never printing a token" no_token_in "$tmp/err"
else
	not_ok "a token record garbled by $how"
fi
if rewrite "$db" "$tmp/db-badfirst" tokens "$1" garble; then
	run_check "$copy"
	expect_rc "a first token record that does not decode fails" 1
	check "... saying it is the first" has "$tmp/err" \
	    "tokens: the first record does not decode"
else
	not_ok "the first token record garbled by $how"
fi
if rewrite "$db" "$tmp/db-badclient" clients "$(hex pub)" garble; then
	run_check "$copy"
	expect_rc "a client record that does not decode fails" 1
	check "... placing it after the client before it" has "$tmp/err" \
	    "clients: the record after \"gone\" does not decode"
	check "... and naming the tokens of that client" grep -q \
	    "names client \"pub\", whose record does not decode" "$tmp/err"
else
	not_ok "a client record garbled by $how"
fi
set -- $(keys "$db" grants)
if rewrite "$db" "$tmp/db-badgrant" grants "$1" garble; then
	run_check "$copy"
	expect_rc "a grant record that does not decode fails" 1
	check "... saying so" grep -q \
	    "grants: the first record does not decode" "$tmp/err"
	check "... and naming the tokens of that grant" grep -q \
	    "names grant $1, whose record does not decode" "$tmp/err"
else
	not_ok "a grant record garbled by $how"
fi

# A signing key record that does not decode.
set -- $(keys "$db" keys)
if [ $# -ge 1 ] && rewrite "$db" "$tmp/db-badkey" keys "$1" garble; then
	run_check "$copy"
	expect_rc "a signing key record that does not decode fails" 1
	check "... saying so" grep -q "keys: the first record does not decode" \
	    "$tmp/err"
	check "... and showing no key material" sh -c \
	    '! grep -q -e PRIVATE -e BEGIN "$1"' sh "$tmp/err"
else
	not_ok "a signing key record garbled by $how"
fi
run_check "$db"
check "the keys are counted" has "$tmp/out" "checked 1 signing keys"

# A copy through mdb_dump | mdb_load (or CREATE DATABASE) that changes
# nothing passes: the failures above come from the damage, not the copy.
if [ "$BACKEND" = postgresql ]; then
	copy=$(backend_newdb db-copy "$tmp" "$db")
else
	copy=$tmp/db-copy
	mdb_dump -a "$db" >"$tmp/dump" && mkdir -p "$copy" &&
	    mdb_load -f "$tmp/dump" "$copy" 2>"$tmp/load.err"
fi
run_check "$copy"
expect_rc "an undamaged copy passes" 0

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
