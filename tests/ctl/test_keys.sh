#!/bin/sh
# The signing key commands of oauthctl against a throw-away database, the
# clock pinned and moved by hand: init makes one RS256 key, generate and
# rotate publish before they sign, retire ends signing, and no private key
# is ever printed.  One "ok - ..." or "not ok - ..." line per check, then
# "N passed, M failed".
#
#   OAUTHCTL=build/oauthctl sh tests/ctl/test_keys.sh
#
# OAUTH_TEST_BACKEND=postgresql runs it on a PostgreSQL database
# (tests/lib_backend.sh).  Run from the top of the source tree.

set -u

OAUTHCTL=${OAUTHCTL:-build/oauthctl}
unset OAUTH_DB OAUTH_CONFIG OAUTH_ISSUER OAUTH_ACCESS_TTL OAUTH_MAP_SIZE
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
JWKS_MAX_AGE=600	# seconds a new key is published before it signs
ACCESS_TTL=3600		# the default access token lifetime

. tests/lib_backend.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauthctl-keys.XXXXXX") || exit 1
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
# run ARG...: oauthctl, stdout in $tmp/out, stderr in $tmp/err, $rc.
run() {
	"$OAUTHCTL" --db "$db" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}
expect() {
	want=$1 desc=$2
	shift 2
	run "$@"
	if [ "$rc" -eq "$want" ]; then
		ok "$desc (exit $want)"
	else
		not_ok "$desc: exit $rc, wanted $want"
		sed 's/^/#   /' "$tmp/err"
	fi
}
# keys PYTHON: evaluates PYTHON with k = "key list --json" as a dict by kid.
keys() {
	"$OAUTHCTL" --db "$db" key list --json >"$tmp/list" 2>/dev/null
	"$PY" -c 'import json, sys
k = {o["kid"]: o for o in json.load(open(sys.argv[1]))}
sys.exit(0 if eval(sys.argv[2]) else 1)' "$tmp/list" "$1"
}
# no_private FILE: nothing of a private key in FILE.
no_private() {
	! grep -q -e 'PRIVATE' -e '"d"' -e '"p"' -e '"q"' "$1"
}

expect 0 "init" init
check "init makes one RS256 key that signs" \
    keys 'len(k) == 1 and list(k.values())[0]["alg"] == "RS256" and list(k.values())[0]["state"] == "signing"'
first=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["kid"])' "$tmp/list")
check "its kid is a 43-character thumbprint" [ ${#first} -eq 43 ]
expect 0 "init again" init
check "init again makes no second key" keys 'len(k) == 1'

expect 0 "key generate --alg ES256" key generate --alg ES256
es=$(cat "$tmp/out")
check "it prints the kid alone" [ ${#es} -eq 43 ]
check "the first key of an alg signs at once" \
    keys "k['$es']['state'] == 'signing' and k['$es']['alg'] == 'ES256'"
expect 0 "key generate --alg EdDSA --json" key generate --alg EdDSA --json
check "--json prints kid, alg and sign_from" "$PY" -c 'import json,sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if set(o) == {"kid", "alg", "sign_from"} and o["alg"] == "EdDSA" else 1)' "$tmp/out"
expect 2 "key generate --alg HS256 is a usage error" key generate --alg HS256
expect 2 "key generate with an operand" key generate extra

expect 0 "key rotate" key rotate
new=$(cat "$tmp/out")
now=$OAUTH_TEST_NOW
check "the new key is published and does not sign yet" \
    keys "k['$new']['state'] == 'published' and k['$new']['sign_from'] == $now + $JWKS_MAX_AGE"
check "the old key signs until the new one takes over" \
    keys "k['$first']['state'] == 'signing' and k['$first']['retired_at'] == $now + $JWKS_MAX_AGE"
check "the old key stays published while its tokens live" \
    keys "k['$first']['published_until'] == $now + $JWKS_MAX_AGE + $ACCESS_TTL + $JWKS_MAX_AGE"
check "rotate leaves other algorithms alone" \
    keys "k['$es']['state'] == 'signing' and 'retired_at' not in k['$es']"

OAUTH_TEST_NOW=$((now + JWKS_MAX_AGE))
check "once the cache lifetime has passed the new key signs" \
    keys "k['$new']['state'] == 'signing' and k['$first']['state'] == 'retired'"
OAUTH_TEST_NOW=$((now + 2 * JWKS_MAX_AGE + ACCESS_TTL))
check "the old key is dropped once every token it signed has expired" \
    keys "k['$first']['state'] == 'dropped'"

expect 0 "key retire" key retire "$es"
check "a retired key no longer signs" keys "k['$es']['state'] == 'retired'"
expect 1 "key retire of an unknown kid" key retire \
    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
# A kid is base64url: one in 64 begins with "-", and is still a kid.
expect 1 "key retire of an unknown kid beginning with '-'" key retire \
    -AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
check "it says so" grep -q 'no such key' "$tmp/err"
expect 2 "key retire without a kid" key retire

# Two rotations in a row: the key still waiting for its turn is retired
# too, when the newer one takes over, and never signs after that.
expect 0 "key rotate" key rotate
r1=$(cat "$tmp/out")
OAUTH_TEST_NOW=$((OAUTH_TEST_NOW + 10))
expect 0 "key rotate again at once" key rotate
r2=$(cat "$tmp/out")
t2=$OAUTH_TEST_NOW
check "the waiting key retires when the newest one starts" \
    keys "k['$r1']['retired_at'] == $t2 + $JWKS_MAX_AGE and k['$r2']['sign_from'] == $t2 + $JWKS_MAX_AGE"
OAUTH_TEST_NOW=$((t2 + JWKS_MAX_AGE))
check "then the newest key alone signs" \
    keys "k['$r2']['state'] == 'signing' and k['$r1']['state'] == 'retired' and k['$new']['state'] == 'retired'"

expect 0 "key list" key list
check "key list prints one line a key" [ "$(wc -l <"$tmp/out")" -eq 6 ]
check "key list shows no private key" no_private "$tmp/out"
expect 0 "key list --json" key list --json
check "key list --json shows no private key" no_private "$tmp/out"
check "nothing was printed on standard error" [ ! -s "$tmp/err" ]
if [ "$BACKEND" = lmdb ]; then
	check "the database files are the owner's alone" \
	    sh -c '[ "$(stat -c %a "$1/data.mdb")" = 600 ]' sh "$db"
else
	echo "# skipped on $BACKEND: the mode of data.mdb (LMDB only)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
