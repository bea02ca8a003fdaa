#!/bin/sh
# Runs oauthctl against throw-away databases and checks every command,
# option and exit status (0 success, 1 failure, 2 usage error).  Tokens,
# codes and grants come from build/oauth.fcgi run as CGI when it is there.
#
#   OAUTHCTL=build/asan/oauthctl OAUTH_FCGI=build/asan/oauth.fcgi \
#       sh tests/ctl/test_oauthctl.sh
#
# OAUTH_TEST_BACKEND=postgresql runs the same checks on PostgreSQL
# databases, one per group (tests/lib_backend.sh: on the server of
# OAUTH_TEST_PG, or a private one), with PostgreSQL's counterparts of the
# LMDB checks where there are some (no schema instead of no directory, a
# record that does not decode instead of a file of noise) and a "skipped"
# note for the LMDB-only ones (file modes, map size, mdb_dump).
#
# One "ok - ..." or "not ok - ..." line per check, then "N passed, M failed".
# Run from the top of the source tree.

set -u

OAUTHCTL=${OAUTHCTL:-build/oauthctl}
OAUTH_FCGI=${OAUTH_FCGI:-build/oauth.fcgi}
unset OAUTH_DB OAUTH_CONFIG OAUTH_ISSUER OAUTH_ACCESS_TTL OAUTH_REFRESH_TTL \
    OAUTH_CODE_TTL OAUTH_MAX_BODY OAUTH_MAP_SIZE

if [ ! -x "$OAUTHCTL" ]; then
	echo "not ok - $OAUTHCTL is not built"
	echo "0 passed, 1 failed"
	exit 1
fi

. tests/lib_backend.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauthctl-test.XXXXXX") || exit 1
trap 'backend_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
backend_suite "$tmp"

passed=0
failed=0
have_python=0
command -v python3 >/dev/null 2>&1 && have_python=1

ok() {
	passed=$((passed + 1))
	echo "ok - $*"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $*"
}

note() {
	echo "# $*"
}

# check DESC COMMAND...: ok when COMMAND succeeds.
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# run ARG...: oauthctl with stdout in $tmp/out, stderr in $tmp/err, $rc.
run() {
	"$OAUTHCTL" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

# run_in INPUT ARG...: as run, with INPUT on standard input.
run_in() {
	input=$1
	shift
	printf '%s' "$input" | "$OAUTHCTL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# The stderr rules: nothing on success; one line on failure, which on a
# usage error points at --help.  Sanitizer reports break them, too.
stderr_ok() {
	case $1 in
	0) [ ! -s "$tmp/err" ] ;;
	1) [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^oauthctl: ' "$tmp/err" &&
	    ! grep -q -- '--help' "$tmp/err" ;;
	2) [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^oauthctl: ' "$tmp/err" &&
	    grep -q -- '--help' "$tmp/err" ;;
	*) false ;;
	esac
}

# verdict WANT DESC: reports the last run.
verdict() {
	if [ "$rc" -eq "$1" ] && stderr_ok "$1"; then
		ok "$2 (exit $1)"
	else
		not_ok "$2: exit $rc, wanted $1"
		sed 's/^/#   /' "$tmp/err"
	fi
}

# expect WANT DESC ARG...: runs oauthctl ARG... and checks the exit.
expect() {
	want=$1
	desc=$2
	shift 2
	run "$@"
	verdict "$want" "$desc"
}

# expect_in WANT DESC INPUT ARG...: the same with INPUT on stdin.
expect_in() {
	want=$1
	desc=$2
	input=$3
	shift 3
	run_in "$input" "$@"
	verdict "$want" "$desc"
}

# json DESC PYTHON: evaluates PYTHON with d = the one JSON value printed
# by the last run (json.load refuses trailing data).
json() {
	if [ "$have_python" -eq 0 ]; then
		note "skipped: $1 (no python3)"
		return
	fi
	if python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$tmp/out" "$2" 2>"$tmp/pyerr"; then
		ok "$1"
	else
		not_ok "$1"
		sed 's/^/#   /' "$tmp/out" "$tmp/pyerr"
	fi
}

# out_has DESC TEXT: the last stdout has a line equal to TEXT.
out_has() {
	if grep -qxF -- "$2" "$tmp/out"; then
		ok "$1"
	else
		not_ok "$1"
		sed 's/^/#   /' "$tmp/out"
	fi
}

# newdb NAME: where a new database NAME is (an LMDB directory not yet
# made, or a new, empty PostgreSQL database); exits when it cannot be had.
newdb() {
	backend_newdb "$1" "$tmp" || {
		echo "not ok - a $BACKEND database $1"
		echo "$passed passed, $((failed + 1)) failed"
		exit 1
	}
}

# lmdb_only WHAT: true on LMDB; elsewhere says WHAT is skipped.
lmdb_only() {
	[ "$BACKEND" = lmdb ] && return 0
	note "skipped on $BACKEND: $* (LMDB only)"
	return 1
}

# pg SQL: runs SQL on the PostgreSQL database $db.
pg() {
	backend_psql "$db" "$1"
}

# stored FILE: what the database $db holds, for lacks: LMDB's data.mdb,
# or PostgreSQL's records with their printable bytes as they are.
stored() {
	if [ "$BACKEND" = lmdb ]; then
		cp "$db/data.mdb" "$1"
	else
		pg "SELECT encode(record, 'escape') FROM oauth_clients UNION ALL
		    SELECT encode(record, 'escape') FROM oauth_tokens" >"$1"
	fi
}

# clients_dump FILE: the stored client records in hex (mdb_dump's, or
# PostgreSQL's); 1 when there is no way to dump them.
clients_dump() {
	if [ "$BACKEND" = postgresql ]; then
		pg "SELECT id, encode(record, 'hex') FROM oauth_clients
		    ORDER BY id" >"$1"
	elif command -v mdb_dump >/dev/null 2>&1; then
		mdb_dump -s clients "$db" >"$1" 2>/dev/null
	else
		return 1
	fi
}

# mode PATH: its permission string as ls shows it ("drwx------").
mode() {
	# shellcheck disable=SC2012 # our own paths; ls is the portable way
	ls -ld "$1" | cut -c1-10
}

# lacks FILE TEXT...: none of the TEXTs occurs in FILE.
lacks() {
	f=$1
	shift
	for t in "$@"; do
		! grep -qF -- "$t" "$f" || return 1
	done
}

# warned: the last run succeeded with a warning on stderr.
warned() {
	[ "$rc" -eq 0 ] && grep -q warning "$tmp/err"
}

# differ A B: the files are not the same.
differ() {
	! cmp -s "$1" "$2"
}

# secret_of: the client_secret in the last JSON output.
secret_of() {
	sed -n 's/.*"client_secret":"\([^"]*\)".*/\1/p' "$tmp/out"
}

repeat() {
	i=0
	s=
	while [ "$i" -lt "$2" ]; do
		s="$s$1"
		i=$((i + 1))
	done
	printf '%s' "$s"
}

# redirect_uris PREFIX N: " --redirect-uri PREFIX1 ... --redirect-uri
# PREFIXN", for word splitting.
redirect_uris() {
	i=1
	while [ "$i" -le "$2" ]; do
		printf ' --redirect-uri %s%s' "$1" "$i"
		i=$((i + 1))
	done
}

# ---------------------------------------------------------------- usage

expect 0 "--help" --help
check "--help prints the usage on stdout" grep -q '^usage: oauthctl' "$tmp/out"
named=1
for c in init "client add" "client list" "client show" "client remove" \
    "client secret" "token revoke" purge stats; do
	grep -qF "oauthctl [--db PATH] $c" "$tmp/out" || named=0
done
check "--help names every command" test "$named" -eq 1
expect 0 "--version" --version
check "--version prints a version" grep -q '^oauthctl [0-9]' "$tmp/out"
expect 2 "no command" 
expect 2 "unknown command" frobnicate
expect 2 "unknown global option" --frob stats
expect 2 "--db without a path" --db
expect 2 "--db with an empty path" --db= stats
expect 2 "a group without its command" client
expect 2 "an unknown client command" client frob
expect 2 "an unknown token command" token frob
expect 0 "client --help" client --help
check "client --help lists the client commands" grep -q 'client secret ID' "$tmp/out"
expect 0 "token --help" token --help
expect 0 "help client add" help client add
check "help client add shows its options" grep -q -- '--redirect-uri' "$tmp/out"
expect 0 "help alone" help
expect 2 "help of an unknown command" help frob
for c in init "client add" "client list" "client show" "client remove" \
    "client secret" "token revoke" purge stats; do
	# shellcheck disable=SC2086
	expect 0 "$c --help" $c --help
	check "$c --help prints its usage" \
	    grep -qF "usage: oauthctl [--db PATH] $c" "$tmp/out"
done
expect 0 "--help after arguments wins" --db "$tmp/none" client add x --help
check "help needs no database" test ! -e "$tmp/none"

# No database named anywhere: a usage error that names OAUTH_DB.
expect 2 "no --db and no OAUTH_DB" stats
check "the reason names OAUTH_DB" grep -q OAUTH_DB "$tmp/err"
check "usage errors write nothing on stdout" test ! -s "$tmp/out"

# ----------------------------------------------------------------- init

db=$(newdb db)
expect 1 "a command before init" --db "$db" client list
check "the reason says to run init" grep -q init "$tmp/err"
if [ "$BACKEND" = lmdb ]; then
	check "a failed command creates nothing" test ! -e "$db"
else
	check "a failed command creates no table" \
	    test "$(pg "SELECT count(*) FROM pg_tables
	        WHERE tablename LIKE 'oauth%'")" = 0
fi
expect 2 "init with an argument" --db "$db" init extra
expect 0 "init" --db "$db" init
if [ "$BACKEND" = lmdb ]; then
	check "init says where the database is" grep -qF "$db" "$tmp/out"
else
	# Never the URI, which may hold a password.
	check "init says which backend, not the URI" \
	    sh -c 'grep -q postgresql "$1" && ! grep -qF "$2" "$1"' sh \
	    "$tmp/out" "$db"
	check "init made the four tables" \
	    test "$(pg "SELECT count(*) FROM pg_tables WHERE tablename IN
	        ('oauth_clients', 'oauth_tokens', 'oauth_grants',
	        'oauth_keys')")" = 4
fi
if lmdb_only "file modes of the database, init under a missing parent," \
    "on a plain file, under umask 000, in an open directory"; then
	check "the database directory is 0700" test "$(mode "$db")" = drwx------
	files_0600=1
	n=0
	for f in "$db"/*; do
		n=$((n + 1))
		[ "$(mode "$f")" = -rw------- ] || files_0600=0
	done
	check "the database files ($n) are 0600" \
	    test "$files_0600" -eq 1 -a "$n" -gt 0
fi
expect 0 "init again is harmless" --db "$db" init
if [ "$BACKEND" = lmdb ]; then
	expect 1 "init under a missing parent" --db "$tmp/no/such/db" init
	: >"$tmp/file"
	expect 1 "init on a plain file" --db "$tmp/file" init

	loose=$tmp/loose
	(umask 000 && "$OAUTHCTL" --db "$loose" init >/dev/null 2>&1)
	check "init under umask 000 still makes a 0700 directory" \
	    test "$(mode "$loose")" = drwx------
	check "init under umask 000 still makes 0600 files" \
	    test "$(mode "$loose/data.mdb")" = -rw-------
	mkdir -m 755 "$tmp/open"
	run --db "$tmp/open" init
	check "init warns about a directory open to others" warned
else
	expect 1 "init of a database the server does not have" \
	    --db "$(backend_uri "${backend_prefix}_none")" init
	check "the reason does not echo the URI" lacks "$tmp/err" "$db"
fi

# Where the database comes from: OAUTH_DB, OAUTH_CONFIG's file, --db.
OAUTH_DB=$db "$OAUTHCTL" stats >/dev/null 2>&1
check "OAUTH_DB names the database" test $? -eq 0
OAUTH_DB=$tmp/no/such "$OAUTHCTL" --db "$db" stats >/dev/null 2>&1
check "--db wins over OAUTH_DB" test $? -eq 0
printf '# test\nOAUTH_DB=%s\n' "$db" >"$tmp/conf"
OAUTH_CONFIG=$tmp/conf "$OAUTHCTL" stats >/dev/null 2>&1
check "OAUTH_CONFIG's file names the database" test $? -eq 0
printf 'OAUTH_DB=%s\n' "$tmp/no/such" >"$tmp/badconf"
OAUTH_CONFIG=$tmp/badconf "$OAUTHCTL" --db "$db" stats >/dev/null 2>&1
check "--db wins over OAUTH_CONFIG" test $? -eq 0
printf 'OAUTH_BOGUS=1\n' >"$tmp/brokenconf"
OAUTH_CONFIG=$tmp/brokenconf "$OAUTHCTL" --db "$db" stats >"$tmp/out" \
    2>"$tmp/err"
rc=$?
verdict 1 "a broken OAUTH_CONFIG file"
if [ "$BACKEND" = lmdb ]; then
	mkdir "$tmp/corrupt"
	head -c 65536 /dev/urandom >"$tmp/corrupt/data.mdb"
	expect 1 "a corrupt database" --db "$tmp/corrupt" client list
else
	# A record that does not decode, as noise in data.mdb would give.
	corrupt=$(newdb corrupt)
	"$OAUTHCTL" --db "$corrupt" init >/dev/null 2>&1 &&
	    "$OAUTHCTL" --db "$corrupt" client add c >/dev/null 2>&1 &&
	    backend_psql "$corrupt" "UPDATE oauth_clients
		SET record = '\\x00ff00ff'::bytea" >/dev/null
	expect 1 "a corrupt record" --db "$corrupt" client list
	check "a corrupt record is reported as such" grep -q corrupt "$tmp/err"
	expect 1 "client show of a corrupt record" --db "$corrupt" client show c
fi

# A map too small for one client: the storage error, and nothing stored.
if lmdb_only "a map too small for one client"; then
	full=$tmp/full
	OAUTH_MAP_SIZE=32768 "$OAUTHCTL" --db "$full" init >/dev/null 2>&1
	big=$(redirect_uris "https://a.example/$(repeat a 2000)" 16)
	# shellcheck disable=SC2086
	OAUTH_MAP_SIZE=32768 "$OAUTHCTL" --db "$full" client add big \
	    --grant-types authorization_code $big >"$tmp/out" 2>"$tmp/err"
	rc=$?
	verdict 1 "a full database"
	check "a full database is reported as such" \
	    grep -q 'database full' "$tmp/err"
	check "a full database prints no secret" test ! -s "$tmp/out"
	expect 1 "a client that did not fit was not stored" --db "$full" \
	    client show big
fi

# ----------------------------------------------------------- client add

S32=0123456789abcdefghijklmnopqrstuv
ctl() { "$OAUTHCTL" --db "$db" "$@"; }

expect 0 "client add with a generated secret" --db "$db" client add svc \
    --scope "read write read"
check "client add prints client_id first" \
    test "$(sed -n 1p "$tmp/out")" = "client_id: svc"
check "client add prints a 43-character base64url secret" \
    grep -qE '^client_secret: [A-Za-z0-9_-]{43}$' "$tmp/out"
check "client add prints two lines" test "$(wc -l <"$tmp/out")" -eq 2
svc_secret=$(sed -n 's/^client_secret: //p' "$tmp/out")
stored "$tmp/stored"
check "the secret is not stored in plain text" \
    lacks "$tmp/stored" "$svc_secret"

expect 0 "client add --json" --db "$db" client add svc2 --json
json "--json prints one object with client_id and client_secret" \
    'set(d) == {"client_id", "client_secret"} and d["client_id"] == "svc2"'
json "the generated secret is base64url of 256 bits" \
    '__import__("re").fullmatch("[A-Za-z0-9_-]{43}", d["client_secret"])'
check "two generated secrets differ" test "$(secret_of)" != "$svc_secret"

expect 1 "client add of an existing id" --db "$db" client add svc
check "the existing client is named" grep -q "svc" "$tmp/err"

expect 0 "client add --secret S" --db "$db" client add given --secret "$S32" \
    --json
json "--secret is used as given" "d['client_secret'] == '$S32'"
expect 0 "client add --secret=S" --db "$db" client add given2 \
    --secret="$S32"
out_has "--secret=S is used as given" "client_secret: $S32"
expect_in 0 "client add --secret - reads standard input" "$S32
" --db "$db" client add fromstdin --secret - --json
json "the secret from standard input is used" "d['client_secret'] == '$S32'"
expect_in 2 "an empty secret on standard input" "" --db "$db" client add \
    e1 --secret -
# Any length is taken: an operator's secret is stored with a KDF instead.
expect 0 "a short operator secret" --db "$db" client add short \
    --secret=s3cret
expect 2 "an empty --secret" --db "$db" client add empty --secret=
check "the empty secret's refusal says why" grep -q 'secret' "$tmp/err"
expect 0 "a secret of 512 bytes" --db "$db" client add long512 \
    --secret "$(repeat 0123456789abcdef 32)"
expect 2 "a secret of 513 bytes" --db "$db" client add long513 \
    --secret "$(repeat 0123456789abcdef 32)x"
expect 2 "a secret with a control character" --db "$db" client add ctlsec \
    --secret "$(printf '0123456789abcdef\t0123456789abcdef')"
expect 2 "--secret without a value" --db "$db" client add nosecret --secret
expect 2 "--secret given twice" --db "$db" client add twice \
    --secret "$S32" --secret "$S32"

expect 2 "client add without an ID" --db "$db" client add
expect 2 "client add with two IDs" --db "$db" client add a b
expect 2 "an empty ID" --db "$db" client add ""
expect 2 "an ID with a space" --db "$db" client add "a b"
expect 2 "an ID with a non-ASCII byte" --db "$db" client add "$(printf 'caf\303\251')"
expect 2 "an ID of 129 bytes" --db "$db" client add "$(repeat x 129)"
expect 0 "an ID of 128 bytes" --db "$db" client add "$(repeat x 128)"
expect 0 "an ID after -- may begin with a dash" --db "$db" client add -- -dash
expect 2 "an unknown option" --db "$db" client add x --frob
expect 2 "an unknown option with a value is not echoed" --db "$db" \
    client add x --sekret=hunter2hunter2
check "the value of an unknown option is not echoed" \
    lacks "$tmp/err" hunter2
expect 2 "--json with a value" --db "$db" client add x --json=1

expect 2 "--public with --secret" --db "$db" client add p --public \
    --secret "$S32" --redirect-uri https://a.example/cb
expect 2 "--public defaults to authorization_code: needs a redirect URI" \
    --db "$db" client add p --public
expect 2 "--public with client_credentials" --db "$db" client add p \
    --public --grant-types client_credentials
expect 2 "--public with --introspect" --db "$db" client add p --public \
    --introspect --redirect-uri https://a.example/cb
expect 0 "client add --public" --db "$db" client add web --public \
    --redirect-uri https://app.example/cb --redirect-uri \
    com.example.app:/oauth --json
json "a public client gets no client_secret" 'd == {"client_id": "web"}'
expect 0 "client add --public, plain" --db "$db" client add web2 --public \
    --grant-types authorization_code --redirect-uri http://127.0.0.1:8080/cb
check "a public client prints only its id" \
    test "$(cat "$tmp/out")" = "client_id: web2"

expect 2 "an unknown grant type" --db "$db" client add g --grant-types implicit
expect 2 "an empty grant type in the list" --db "$db" client add g \
    --grant-types client_credentials,
expect 2 "an empty --grant-types" --db "$db" client add g --grant-types ""
expect 2 "authorization_code without a redirect URI" --db "$db" client add g \
    --grant-types client_credentials,authorization_code
expect 0 "all three grant types" --db "$db" client add allg --grant-types \
    client_credentials,authorization_code,refresh_token \
    --redirect-uri https://a.example/cb
run --db "$db" client add rtonly --grant-types refresh_token
check "refresh_token alone is accepted with a warning" warned

for bad in /relative/cb "https://a.example/cb#frag" "https://a.example/c b" \
    "https:" "1http://a.example/" "ht!tp://a.example/" "" \
    "https://a.example/$(printf '\001')" "https://a.example/$(repeat a 2031)"; do
	expect 2 "redirect URI '$(printf '%.40s' "$bad")' refused" --db "$db" \
	    client add r --grant-types authorization_code --redirect-uri "$bad"
done
expect 0 "a redirect URI of 2048 bytes" --db "$db" client add r2048 \
    --grant-types authorization_code \
    --redirect-uri "https://a.example/$(repeat a 2030)"
expect 2 "the same redirect URI twice" --db "$db" client add r \
    --grant-types authorization_code --redirect-uri https://a.example/cb \
    --redirect-uri https://a.example/cb
uris=$(redirect_uris https://a.example/cb 16)
# shellcheck disable=SC2086
expect 0 "16 redirect URIs" --db "$db" client add r16 \
    --grant-types authorization_code $uris
# shellcheck disable=SC2086
expect 2 "17 redirect URIs" --db "$db" client add r17 \
    --grant-types authorization_code $uris --redirect-uri https://a.example/x

expect 2 "a scope with two spaces" --db "$db" client add s --scope "a  b"
expect 2 "a scope with a quote" --db "$db" client add s --scope 'a"b'
expect 2 "a scope with a leading space" --db "$db" client add s --scope " a"
expect 2 "--scope given twice" --db "$db" client add s --scope a --scope b
expect 2 "--scope with an option as its value" --db "$db" client add s \
    --scope --json
expect 2 "an empty --audience" --db "$db" client add s --audience ""
expect 2 "an --audience with a control character" --db "$db" client add s \
    --audience "$(printf 'a\033b')"
expect 2 "an --audience of 513 bytes" --db "$db" client add s \
    --audience "$(repeat a 513)"
expect 2 "--introspect given twice" --db "$db" client add s --introspect \
    --introspect
expect 0 "a resource server" --db "$db" client add rs --introspect \
    --audience https://api.example --scope "read" --json
expect 1 "nothing was stored for the refused clients" --db "$db" \
    client show s

if [ -w /dev/full ]; then
	"$OAUTHCTL" --db "$db" client add lost >/dev/full 2>"$tmp/err"
	rc=$?
	verdict 1 "a secret that cannot be printed is a failure"
	check "the failure says how to get another secret" \
	    grep -q 'client secret lost' "$tmp/err"
	"$OAUTHCTL" --help >/dev/full 2>"$tmp/err"
	rc=$?
	verdict 1 "a write error on standard output is a failure"
	expect 0 "remove the client whose secret was lost" --db "$db" \
	    client remove lost
else
	note "skipped: write errors (no /dev/full)"
fi

# --------------------------------------------------- client show / list

expect 0 "client show" --db "$db" client show svc
out_has "show: client_id" "client_id: svc"
out_has "show: type" "type: confidential"
out_has "show: the scope, duplicates removed" "scope: read write"
out_has "show: grant_types" "grant_types: client_credentials"
out_has "show: introspect" "introspect: no"
check "show: created_at in ISO 8601" \
    grep -qE '^created_at: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "$tmp/out"
check "show prints no secret material" \
    lacks "$tmp/out" secret hash salt "$svc_secret"

expect 2 "client add --token-format with an unknown format" --db "$db" \
    client add fmt --token-format bogus
expect 0 "client add --token-format jwt" --db "$db" client add fmt \
    --token-format jwt
expect 0 "client show of a jwt client" --db "$db" client show fmt --json
json "show --json names its token format" 'd["token_format"] == "jwt"'
expect 0 "client remove of it" --db "$db" client remove fmt
expect 0 "client add --dpop" --db "$db" client add bound --public \
    --redirect-uri https://app.example/cb --dpop
expect 0 "client show of a DPoP-bound client" --db "$db" client show bound \
    --json
json "show --json says its tokens are DPoP-bound" \
    'd["dpop_bound_access_tokens"] is True'
expect 0 "client show of it, plain" --db "$db" client show bound
out_has "show: dpop required" "dpop: required"
expect 2 "client add --dpop twice" --db "$db" client add bound2 --dpop --dpop
expect 0 "client remove of it" --db "$db" client remove bound
expect 0 "client add --resource twice" --db "$db" client add mcp --public \
    --redirect-uri https://app.example/cb --resource https://mcp.example/ \
    --resource https://api.example/v1
expect 0 "client show of it" --db "$db" client show mcp --json
json "show --json lists its resources" \
    'd["resources"] == ["https://mcp.example/", "https://api.example/v1"]'
expect 0 "client show of it, plain" --db "$db" client show mcp
out_has "show: each resource" "resource: https://api.example/v1"
expect 0 "client remove of it" --db "$db" client remove mcp
expect 2 "client add --resource with a fragment" --db "$db" client add r1 \
    --resource "https://api.example/#x"
expect 2 "client add --resource that is relative" --db "$db" client add r2 \
    --resource /api
expect 2 "client add --resource repeated" --db "$db" client add r3 \
    --resource https://a.example/ --resource https://a.example/
expect 2 "client add with nine --resource" --db "$db" client add r4 \
    $(for i in 1 2 3 4 5 6 7 8 9; do printf -- '--resource https://r%s.example/ ' $i; done)
expect 0 "client show --json" --db "$db" client show web --json
json "show --json has exactly the public fields" 'set(d) == {"client_id",
    "public", "scope", "grant_types", "redirect_uris", "resources", "audience",
    "introspect", "token_format", "dpop_bound_access_tokens",
    "token_endpoint_auth_method", "jwks", "tls_client_auth_subject_dn",
    "tls_client_certificate_x5t#S256", "created_at"}'
json "show --json of a public client" 'd["public"] is True and
    d["dpop_bound_access_tokens"] is False and d["resources"] == [] and
    d["grant_types"] == ["authorization_code", "refresh_token"] and
    d["redirect_uris"] == ["https://app.example/cb", "com.example.app:/oauth"]
    and d["audience"] is None and d["introspect"] is False and
    d["scope"] == ""'
json "created_at is a recent epoch time" \
    'abs(d["created_at"] - __import__("time").time()) < 600'
expect 0 "client show --json of a resource server" --db "$db" client show \
    rs --json
json "audience, introspect and scope are shown" 'd["introspect"] is True and
    d["audience"] == "https://api.example" and d["scope"] == "read" and
    d["public"] is False and d["grant_types"] == ["client_credentials"]'
expect 0 "client show of a resource server, plain" --db "$db" client show rs
out_has "show: audience" "audience: https://api.example"
out_has "show: introspect yes" "introspect: yes"
expect 0 "client show of a public client, plain" --db "$db" client show web
out_has "show: public type" "type: public"
out_has "show: each redirect URI" "redirect_uri: com.example.app:/oauth"
expect 1 "client show of an unknown id" --db "$db" client show nobody
expect 2 "client show without an ID" --db "$db" client show
expect 2 "client show with an invalid ID" --db "$db" client show "a b"
expect 2 "client show with two IDs" --db "$db" client show svc web
expect 2 "client show with an unknown option" --db "$db" client show svc -x

expect 0 "client list" --db "$db" client list
nclients=$(wc -l <"$tmp/out")
check "client list prints one line per client ($nclients)" \
    test "$nclients" -eq 16
check "client list lines have four tab-separated fields" \
    awk -F '\t' 'NF != 4 { exit 1 }' "$tmp/out"
out_has "client list shows id, type, grant types and scope" \
    "$(printf 'svc\tconfidential\tclient_credentials\tread write')"
check "client list prints no secret" lacks "$tmp/out" "$svc_secret"
expect 0 "client list --json" --db "$db" client list --json
json "client list --json is an array of every client" \
    "isinstance(d, list) and len(d) == $nclients"
json "client list --json objects are those of show" 'all(set(c) ==
    {"client_id", "public", "scope", "grant_types", "redirect_uris",
    "resources", "audience", "introspect", "token_format",
    "dpop_bound_access_tokens", "token_endpoint_auth_method", "jwks",
    "tls_client_auth_subject_dn", "tls_client_certificate_x5t#S256",
    "created_at"} for c in d)'
json "client list --json carries the right values" \
    '[c for c in d if c["client_id"] == "web"][0]["public"] is True'
expect 2 "client list with an argument" --db "$db" client list extra
expect 2 "client list --json twice" --db "$db" client list --json --json

empty=$(newdb empty)
"$OAUTHCTL" --db "$empty" init >/dev/null 2>&1
expect 0 "client list of an empty database" --db "$empty" client list
check "client list of an empty database prints nothing" test ! -s "$tmp/out"
expect 0 "client list --json of an empty database" --db "$empty" client \
    list --json
json "client list --json of an empty database is []" 'd == []'

# -------------------------------------------------------- client secret

dumped=0
clients_dump "$tmp/before" && dumped=1
expect 0 "client secret" --db "$db" client secret svc
out_has "client secret prints the id" "client_id: svc"
check "client secret prints a new generated secret" \
    grep -qE '^client_secret: [A-Za-z0-9_-]{43}$' "$tmp/out"
new_secret=$(sed -n 's/^client_secret: //p' "$tmp/out")
check "the new secret differs from the old" test "$new_secret" != "$svc_secret"
if [ "$dumped" -eq 1 ] && clients_dump "$tmp/after"; then
	check "client secret changes the stored record" \
	    differ "$tmp/before" "$tmp/after"
	check "the stored record holds no plain secret" lacks "$tmp/after" \
	    "$(printf '%s' "$new_secret" | od -An -tx1 | tr -d ' \n')"
else
	note "skipped: stored hash comparison (mdb_dump from lmdb-utils missing)"
fi
expect 0 "client secret --json" --db "$db" client secret svc --json
json "client secret --json prints client_id and client_secret" \
    'set(d) == {"client_id", "client_secret"} and d["client_id"] == "svc"'
svc_secret=$(secret_of)
expect 1 "client secret of a public client" --db "$db" client secret web
expect 1 "client secret of an unknown client" --db "$db" client secret nobody
expect 2 "client secret without an ID" --db "$db" client secret
expect 2 "client secret with --secret" --db "$db" client secret svc \
    --secret "$S32"

# --------------------------------------------------------- token revoke

expect 1 "token revoke of an unknown token" --db "$db" token revoke \
    NotAToken0123456789
check "the reason is 'no such token'" grep -q 'no such token' "$tmp/err"
check "the token is not echoed" lacks "$tmp/err" NotAToken
expect 1 "token revoke of an unknown token beginning with '-'" --db "$db" \
    token revoke -NotAToken
expect_in 1 "token revoke - of an unknown token" "NotAToken
" --db "$db" token revoke -
check "a token from stdin is not echoed" lacks "$tmp/err" NotAToken
expect 2 "token revoke without a token" --db "$db" token revoke
expect 2 "token revoke with two tokens" --db "$db" token revoke a b
expect 2 "token revoke with an empty token" --db "$db" token revoke ""
expect 2 "token revoke with a token of 4097 bytes" --db "$db" token revoke \
    "$(repeat a 4097)"
expect_in 2 "token revoke - with nothing on stdin" "" --db "$db" \
    token revoke -

# ------------------------------------------------------ purge and stats

expect 0 "purge of a database without tokens" --db "$db" purge
out_has "purge reports what it deleted" "purged 0 tokens, 0 codes, 0 grants, 0 spent proofs"
expect 2 "purge with an argument" --db "$db" purge now

expect 0 "stats" --db "$db" stats
out_has "stats counts clients by type" \
    "clients: $nclients (confidential 14, public 2)"
out_has "stats counts access tokens" \
    "access_tokens: 0 (active 0, expired 0, revoked 0)"
out_has "stats counts refresh tokens" \
    "refresh_tokens: 0 (active 0, expired 0, revoked 0, used 0)"
out_has "stats counts codes" "codes: 0 (active 0, expired 0, revoked 0, used 0)"
out_has "stats counts grants" "grants: 0 (active 0, expired 0, revoked 0)"
expect 0 "stats --json" --db "$db" stats --json
json "stats --json is one object of counts" 'd["clients"] == {"total":
    '"$nclients"', "confidential": 14, "public": 2} and
    d["access_tokens"] == {"total": 0, "active": 0, "expired": 0,
    "revoked": 0} and set(d["refresh_tokens"]) == {"total", "active",
    "expired", "revoked", "used"} and set(d) == {"clients", "access_tokens",
    "refresh_tokens", "codes", "grants"}'
expect 2 "stats with an argument" --db "$db" stats x

# ------------------------------------------------------- client remove

expect 0 "client remove" --db "$db" client remove svc2
out_has "client remove says what went" \
    "removed client svc2: 0 tokens, 0 codes, 0 grants"
expect 1 "the removed client is gone" --db "$db" client show svc2
expect 1 "client remove of an unknown client" --db "$db" client remove svc2
expect 2 "client remove without an ID" --db "$db" client remove
expect 2 "client remove --json" --db "$db" client remove svc --json

# ------------------------------------- with tokens from the real server

# cgi METHOD PATH [BODY] [VAR=value...]: one CGI request to oauth.fcgi;
# the response lands in $tmp/cgi.
cgi() {
	method=$1
	path=$2
	body=$3
	shift 3
	printf '%s' "$body" | env OAUTH_DB="$db" \
	    OAUTH_ISSUER=https://as.example REQUEST_METHOD="$method" \
	    PATH_INFO="$path" CONTENT_TYPE=application/x-www-form-urlencoded \
	    CONTENT_LENGTH=${#body} "$@" "$OAUTH_FCGI" >"$tmp/cgi" 2>/dev/null
}

# token ID SECRET [VAR=value...]: a client_credentials access token.
token() {
	id=$1
	sec=$2
	shift 2
	cgi POST /token \
	    "grant_type=client_credentials&client_id=$id&client_secret=$sec" "$@"
	sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$tmp/cgi"
}

# code_flow CLIENT: runs /authorize and /token for the public client
# CLIENT; prints "ACCESS REFRESH".
verifier='verifier-0123456789-0123456789-0123456789-abc'
challenge=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary 2>/dev/null |
    openssl base64 -A 2>/dev/null | tr '+/' '-_' | tr -d '=')
code_flow() {
	cid=$1
	shift
	cgi GET /authorize "" REMOTE_USER=alice QUERY_STRING="response_type=code&client_id=$cid&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_challenge=$challenge&code_challenge_method=S256" "$@"
	code=$(sed -n 's/^Location: .*[?&]code=\([^&]*\).*/\1/p' "$tmp/cgi" |
	    tr -d '\r')
	[ -n "$code" ] || return
	cgi POST /token "grant_type=authorization_code&client_id=$cid&code=$code&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier=$verifier"
	sed -n 's/.*"access_token":"\([^"]*\)".*"refresh_token":"\([^"]*\)".*/\1 \2/p' \
	    "$tmp/cgi"
}

if [ ! -x "$OAUTH_FCGI" ]; then
	note "skipped: tests with real tokens ($OAUTH_FCGI is not built)"
else
	# The clock of both programs is pinned, and moved by hand, so that no
	# check depends on how long a second lasts.
	OAUTH_TEST_NOW=1700000000
	export OAUTH_TEST_NOW
	t1=$(token svc "$svc_secret")
	check "the current secret works at /token" test -n "$t1"
	check "the replaced secret fails at /token" \
	    test -z "$(token svc "$new_secret")"
	expect 0 "stats with one access token" --db "$db" stats --json
	json "the access token is active" \
	    'd["access_tokens"] == {"total": 1, "active": 1, "expired": 0,
	    "revoked": 0}'

	expect 0 "token revoke of an access token" --db "$db" token revoke "$t1"
	out_has "token revoke names the kind and the client" \
	    "revoked access token of client svc"
	check "token revoke does not print the token" lacks "$tmp/out" "$t1"
	cgi POST /introspect "token=$t1&client_id=svc&client_secret=$svc_secret"
	check "the revoked token introspects inactive" \
	    grep -q '^{"active":false}' "$tmp/cgi"
	expect 0 "token revoke again" --db "$db" token revoke "$t1"
	check "token revoke again says it already was" \
	    grep -q 'already revoked' "$tmp/out"
	t2=$(token svc "$svc_secret")
	expect_in 0 "token revoke - reads the token from stdin" "$t2
" --db "$db" token revoke -
	expect 0 "stats after two revocations" --db "$db" stats --json
	json "stats counts the revoked tokens" \
	    'd["access_tokens"]["revoked"] == 2 and
	    d["access_tokens"]["active"] == 0'

	# Tokens that expire: purge counts them.  The clock is pinned
	# (OAUTH_TEST_NOW) and moved past their 60 s lifetime, far past it.
	token svc "$svc_secret" OAUTH_ACCESS_TTL=60 >/dev/null
	token svc "$svc_secret" OAUTH_ACCESS_TTL=60 >/dev/null
	t3=$(token svc "$svc_secret")
	OAUTH_TEST_NOW=$((OAUTH_TEST_NOW + 120))
	expect 0 "stats with expired tokens" --db "$db" stats --json
	json "stats counts expired tokens" 'd["access_tokens"] == {"total": 5,
	    "active": 1, "expired": 2, "revoked": 2}'
	expect 0 "purge with expired tokens" --db "$db" purge
	out_has "purge counts the expired tokens" \
	    "purged 2 tokens, 0 codes, 0 grants, 0 spent proofs"
	expect 0 "stats after purge" --db "$db" stats --json
	json "purge left the live and revoked tokens" \
	    'd["access_tokens"] == {"total": 3, "active": 1, "expired": 0,
	    "revoked": 2}'
	expect 0 "purge again" --db "$db" purge
	out_has "purge again finds nothing" "purged 0 tokens, 0 codes, 0 grants, 0 spent proofs"

	# Codes, refresh tokens and grants from the code flow.
	if [ -z "$challenge" ]; then
		note "skipped: code flow (openssl command missing)"
	else
		pair=$(code_flow web)
		check "the code flow issues access and refresh tokens" \
		    test -n "$pair"
		code_flow web OAUTH_CODE_TTL=60 >/dev/null
		cgi GET /authorize "" REMOTE_USER=alice OAUTH_CODE_TTL=60 \
		    QUERY_STRING="response_type=code&client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_challenge=$challenge&code_challenge_method=S256"
		OAUTH_TEST_NOW=$((OAUTH_TEST_NOW + 120))
		expect 0 "stats with codes and grants" --db "$db" stats --json
		json "stats counts refresh tokens, codes and grants" \
		    'd["refresh_tokens"]["active"] == 2 and
		    d["codes"]["used"] == 2 and d["codes"]["expired"] == 1 and
		    d["grants"]["total"] == 3 and d["grants"]["expired"] == 1'
		expect 0 "purge of an unused expired code" --db "$db" purge
		out_has "purge drops an expired code and its grant, and keeps a used one while its grant lives" \
		    "purged 0 tokens, 1 codes, 1 grants, 0 spent proofs"
		refresh=${pair#* }
		expect 0 "token revoke of a refresh token" --db "$db" \
		    token revoke "$refresh"
		out_has "token revoke names a refresh token" \
		    "revoked refresh token of client web"
		expect 0 "stats after revoking a refresh token" --db "$db" \
		    stats --json
		json "its grant and access token are revoked with it" \
		    'd["grants"]["revoked"] == 1 and
		    d["refresh_tokens"]["revoked"] == 1 and
		    d["access_tokens"]["revoked"] == 3'
		expect 0 "client remove of a client with tokens" --db "$db" \
		    client remove web
		out_has "client remove counts what it deleted" \
		    "removed client web: 4 tokens, 2 codes, 2 grants"
		expect 0 "stats after client remove" --db "$db" stats --json
		json "nothing of the removed client is left" \
		    'd["refresh_tokens"]["total"] == 0 and
		    d["codes"]["total"] == 0 and d["grants"]["total"] == 0'
	fi
	# A full database: issuance is refused until purge makes room, which
	# it does however full the map is (growing it when it must).
	if lmdb_only "a full map: 503, then purge makes room"; then
		fdb=$tmp/full
		OAUTH_MAP_SIZE=65536
		export OAUTH_MAP_SIZE
		expect 0 "init of a 64 KiB database" --db "$fdb" init
		expect 0 "a client in it" --db "$fdb" client add filler --json
		filler_secret=$(secret_of)
		issued=0
		while [ "$issued" -lt 5000 ]; do
			cgi POST /token "grant_type=client_credentials&client_id=filler&client_secret=$filler_secret" \
			    OAUTH_DB="$fdb" OAUTH_ACCESS_TTL=60
			grep -q '^Status: 503' "$tmp/cgi" && break
			issued=$((issued + 1))
		done
		check "issuance into a 64 KiB map ends in 503 ($issued issued)" \
		    grep -q '"temporarily_unavailable"' "$tmp/cgi"
		OAUTH_TEST_NOW=$((OAUTH_TEST_NOW + 120))
		run --db "$fdb" purge
		check "purge of a full database succeeds" test "$rc" -eq 0
		out_has "purge of a full database drops every expired token" \
		    "purged $issued tokens, 0 codes, 0 grants, 0 spent proofs"
		check "purge says whether the map had to grow" \
		    sh -c '[ ! -s "$1" ] || grep -q "OAUTH_MAP_SIZE" "$1"' sh "$tmp/err"
		cgi POST /token "grant_type=client_credentials&client_id=filler&client_secret=$filler_secret" \
		    OAUTH_DB="$fdb"
		check "issuance works again after the purge" \
		    grep -q '"access_token"' "$tmp/cgi"
		expect 0 "stats of the purged database" --db "$fdb" stats --json
		json "one token is left" 'd["access_tokens"]["total"] == 1'
		unset OAUTH_MAP_SIZE
	fi

	expect 0 "client remove of svc" --db "$db" client remove svc
	out_has "client remove deletes svc's tokens" \
	    "removed client svc: 3 tokens, 0 codes, 0 grants"
	expect 1 "a token of a removed client is unknown" --db "$db" \
	    token revoke "$t3"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
