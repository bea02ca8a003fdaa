#!/bin/sh
# fcgi-oauth beside a peer authorization server, Glewlwyd 2.7 from Debian
# (package glewlwyd), on this machine: client_credentials token issuance
# and token introspection, each driven by the same wrk script
# (bench/wrk_post.lua, Basic client authentication) on 127.0.0.1.
#
#   sh bench/peer_glewlwyd.sh    # BENCH_SECONDS=10 BENCH_CONNECTIONS=16
#
# Glewlwyd runs in the foreground as a child of this script, with a
# configuration made from bench/peer/glewlwyd.conf.in and a SQLite database
# in a temporary directory, configured through its admin REST API; then
# fcgi-oauth runs behind lighttpd as bench/run.sh runs it, with
# OAUTH_DB_SYNC=full and none.  Every wait is bounded and every server is
# stopped on exit.  bench/README.md records a run.

set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BUILD=${BUILD:-build}
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-16}
export BUILD BENCH_SECONDS BENCH_CONNECTIONS
SCHEMA=/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3
SCHEMA_DOC=/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz
PLUGIN=glwd
PW_AUTH=$(printf 'benchpw:%s' "$BENCH_SECRET" | base64 -w0)

for tool in wrk lighttpd curl python3 pgrep; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$tool is needed: apt-get install $tool" >&2
		exit 1
	fi
done
if [ ! -x "$BUILD/oauth.fcgi" ] || [ ! -x "$BUILD/bench/bench_handlers" ]
then
	echo "build first: make all $BUILD/bench/bench_handlers" >&2
	exit 1
fi

# The package's debconf default ("Personalized") sets up a database through
# dbconfig-common, and with dbconfig-no-thanks its postinst then fails; this
# script brings its own database, so it answers "No configuration".
install_glewlwyd() {
	if command -v glewlwyd >/dev/null 2>&1 &&
	    command -v sqlite3 >/dev/null 2>&1; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "glewlwyd is not installed; as root:" >&2
		echo "  apt-get install --no-install-recommends glewlwyd" \
		    "dbconfig-no-thanks sqlite3" >&2
		return 1
	fi
	echo 'glewlwyd glewlwyd/config_type select No configuration' |
	    debconf-set-selections || return 1
	set -- glewlwyd dbconfig-no-thanks sqlite3
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends "$@"; then
		apt-get update || return 1
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
		    --no-install-recommends "$@" || return 1
	fi
	# The package enables its own service; the benchmark runs a private
	# instance and leaves no daemon behind.
	if [ -d /run/systemd/system ]; then
		systemctl disable --now glewlwyd.service
	fi
	return 0
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauth-peer-XXXXXX") || exit 1
shm=
gpid=
bench_lighttpd_pid=
cleanup() {
	bench_stop "$gpid"
	bench_stop "$bench_lighttpd_pid"
	rm -rf "$tmp"
	[ -n "$shm" ] && rm -rf "$shm"
}
trap cleanup EXIT
# A closed output pipe (| head) must stop the servers too.
trap 'exit 1' INT TERM HUP PIPE

# Starts Glewlwyd with its database in directory $1; sets gpid and gurl.
gw_start() {
	if [ -r "$SCHEMA" ]; then
		sqlite3 "$1/glewlwyd.db" <"$SCHEMA" || return 1
	else
		gzip -dc "$SCHEMA_DOC" | sqlite3 "$1/glewlwyd.db" || return 1
	fi
	gport=$(bench_port) || return 1
	sed -e "s|@PORT@|$gport|g" -e "s|@DB@|$1/glewlwyd.db|g" \
	    bench/peer/glewlwyd.conf.in >"$1/glewlwyd.conf" || return 1
	glewlwyd -c "$1/glewlwyd.conf" >"$1/glewlwyd.log" 2>&1 &
	gpid=$!
	gurl=http://127.0.0.1:$gport/api
	if ! bench_wait_http "http://127.0.0.1:$gport/config"; then
		cat "$1/glewlwyd.log" >&2
		return 1
	fi
	return 0
}

# Calls the admin API: method $1, path $2, JSON template $3 (bench/peer/),
# with the session cookie of $tmp/jar.  Returns 1 unless the status is 200.
gw_admin() {
	code=$(sed "s|@SECRET@|$BENCH_SECRET|g" "bench/peer/$3" |
	    curl -s -m 30 -b "$tmp/jar" -c "$tmp/jar" -X "$1" \
	    -H 'Content-Type: application/json' --data-binary @- \
	    -o "$tmp/admin.out" -w '%{http_code}' "$gurl$2")
	if [ "$code" != 200 ]; then
		echo "glewlwyd: $1 $2 ($3): HTTP $code" >&2
		cat "$tmp/admin.out" >&2
		echo >&2
		return 1
	fi
	return 0
}

# The packaged database holds the administrator admin/password; through
# its session, adds the scope, the OAuth2 plugin instance and two
# confidential clients: "bench" with a client secret, kept as it is, and
# "benchpw" with a client password, kept as a PBKDF2 digest.
gw_configure() {
	code=$(curl -s -m 30 -c "$tmp/jar" -H 'Content-Type: application/json' \
	    -d '{"username":"admin","password":"password"}' \
	    -o "$tmp/admin.out" -w '%{http_code}' "$gurl/auth/")
	if [ "$code" != 200 ]; then
		echo "glewlwyd: admin login: HTTP $code" >&2
		return 1
	fi
	gw_admin POST /scope/ scope.json &&
	    gw_admin POST /mod/plugin/ plugin-oauth2.json &&
	    gw_admin POST /client/ client-secret.json &&
	    gw_admin POST /client/ client-password.json
}

# Prints the answer of Glewlwyd's token endpoint to client $1 (Basic
# credentials, base64) and keeps it in $tmp/token.json.
gw_token() {
	curl -s -m 30 -H "Authorization: Basic $1" \
	    -d "grant_type=client_credentials&scope=bench" \
	    -w ' HTTP %{http_code}, %{time_total} s\n' \
	    "$gurl/$PLUGIN/token" | tee "$tmp/token.json"
}

# Prints how many fsync and fdatasync calls processes $3... make per
# request while serving 10 POSTs of body $2 with the client "bench" to URL
# $1, or nothing when strace is missing or cannot attach.
flushes() {
	command -v strace >/dev/null 2>&1 || return 0
	url=$1
	body=$2
	shift 2
	for p in "$@"; do
		set -- "$@" -p "$p"
		shift
	done
	strace -f -c -o "$tmp/strace.out" -e trace=fsync,fdatasync "$@" \
	    2>/dev/null &
	spid=$!
	sleep 1
	kill -0 "$spid" 2>/dev/null || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		curl -s -m 30 -o /dev/null -d "$body" \
		    -H "Authorization: Basic $BENCH_AUTH" "$url"
	done
	kill -INT "$spid"
	wait "$spid"
	awk '$NF == "fsync" || $NF == "fdatasync" { n += $4 }
	    END { printf "%.1f\n", n / 10 }' "$tmp/strace.out"
}

# Runs one wrk load, reported in $tmp/w.$1, of body $4 with Basic
# credentials $5 to URL $6, measures the CPU time the server processes
# $srvpids spend on it, and appends a row to the final table for server
# $srv, request $2, durability $3.  $srvpids is a list, split on purpose.
# shellcheck disable=SC2086
load() {
	echo "-- $srv: $2, $3"
	before=$(bench_cpu_ticks $srvpids)
	bench_wrk "$4" "$5" "$6" "$tmp/w.$1"
	after=$(bench_cpu_ticks $srvpids)
	cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" '
	    /requests in/ { n = $1 }
	    END {
		if (n > 0)
			printf "%.0f µs\n", t / hz * 1e6 / n
		else
			print "-"
	    }' "$tmp/w.$1")
	printf '| %s | %s | %s | %s | %s |\n' "$srv" "$2" "$3" \
	    "$(bench_figures "$tmp/w.$1")" "$cpu" >>"$tmp/table"
}

install_glewlwyd || exit 1
echo "== versions"
echo "glewlwyd $(dpkg-query -W -f '${Version}' glewlwyd)," \
    "libsqlite3 $(sqlite3 -version | cut -d' ' -f1)," \
    "lighttpd $(lighttpd -v | sed -n 's|^lighttpd/\([^ ]*\).*|\1|p')," \
    "$(wrk -v 2>&1 | sed -n '1s/ \[.*//p'), $(nproc) cores"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$tmp" <<'EOF'
# The disk's flush latency: what a durable commit waits for.
import os, sys, time
path = os.path.join(sys.argv[1], "flush")
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
start = time.monotonic()
for i in range(50):
    os.pwrite(fd, b"x" * 4096, 4096 * i)
    os.fdatasync(fd)
print("fdatasync of 4 KiB in %s: %.2f ms" %
      (sys.argv[1], (time.monotonic() - start) / 50 * 1000))
os.close(fd)
os.unlink(path)
EOF

echo "== Glewlwyd, database on disk ($tmp)"
mkdir "$tmp/gw" && gw_start "$tmp/gw" && gw_configure || exit 1
echo "-- one token, client secret:"
gw_token "$BENCH_AUTH"
gwtoken=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$tmp/token.json")
if [ -z "$gwtoken" ]; then
	echo "glewlwyd issued no token" >&2
	cat "$tmp/gw/glewlwyd.log" >&2
	exit 1
fi
echo "-- one token, client password:"
gw_token "$PW_AUTH"
echo "-- introspection of the first:"
curl -s -m 30 -H "Authorization: Basic $BENCH_AUTH" -d "token=$gwtoken" \
    -w ' HTTP %{http_code}\n' "$gurl/$PLUGIN/introspect"
jmode=$(sqlite3 "$tmp/gw/glewlwyd.db" 'PRAGMA journal_mode')
dsync=$(sqlite3 :memory: 'PRAGMA compile_options' |
    sed -n 's/^DEFAULT_SYNCHRONOUS=//p')
case $dsync in
0) dsync=OFF ;;
1) dsync=NORMAL ;;
3) dsync=EXTRA ;;
*) dsync=FULL ;;
esac
# Glewlwyd 2.7.5 sets only PRAGMA foreign_keys: SQLite's defaults stand.
gdur="SQLite journal_mode=$jmode, synchronous=$dsync"
echo "Glewlwyd's database: $gdur"
n=$(flushes "$gurl/$PLUGIN/token" \
    "grant_type=client_credentials&scope=bench" "$gpid")
[ -n "$n" ] && echo "fsync+fdatasync per token request: $n"

srv=Glewlwyd
srvpids=$gpid
load gw.token "token, client secret" "$gdur" \
    "grant_type=client_credentials&scope=bench" "$BENCH_AUTH" \
    "$gurl/$PLUGIN/token"
load gw.tokenpw "token, client password (PBKDF2)" "$gdur" \
    "grant_type=client_credentials&scope=bench" "$PW_AUTH" \
    "$gurl/$PLUGIN/token"
load gw.introspect introspection "reads only" \
    "token=$gwtoken" "$BENCH_AUTH" "$gurl/$PLUGIN/introspect"
bench_stop "$gpid"
gpid=

# On tmpfs a flush returns at once: Glewlwyd's nearest counterpart to
# OAUTH_DB_SYNC=none, which it has no setting for.
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
    shm=$(mktemp -d /dev/shm/oauth-peer-XXXXXX); then
	echo "== Glewlwyd, database on tmpfs ($shm)"
	gw_start "$shm" && gw_configure || exit 1
	gw_token "$BENCH_AUTH"
	srvpids=$gpid
	load gwshm.token "token, client secret" \
	    "SQLite on tmpfs: flushes do nothing" \
	    "grant_type=client_credentials&scope=bench" "$BENCH_AUTH" \
	    "$gurl/$PLUGIN/token"
	bench_stop "$gpid"
	gpid=
fi

echo "== fcgi-oauth: lighttpd + 2 oauth.fcgi"
token=$(bench_fcgi_db "$tmp/db-web") || {
	echo "oauth.fcgi issued no token" >&2
	exit 1
}
port=$(bench_port) || exit 1
furl=http://127.0.0.1:$port/oauth
srv=fcgi-oauth
for sync in full none; do
	bench_lighttpd_start "$port" "$tmp/run" "$tmp/db-web" "$sync" || {
		echo "lighttpd did not start" >&2
		cat "$tmp/run/error.log" >&2
		exit 1
	}
	echo "-- one token, OAUTH_DB_SYNC=$sync:"
	curl -s -m 30 -H "Authorization: Basic $BENCH_AUTH" \
	    -d grant_type=client_credentials \
	    -w ' HTTP %{http_code}, %{time_total} s\n' "$furl/token"
	# lighttpd and the oauth.fcgi processes it started.
	srvpids="$bench_lighttpd_pid $(pgrep -P "$bench_lighttpd_pid")"
	# shellcheck disable=SC2086
	n=$(flushes "$furl/token" grant_type=client_credentials $srvpids)
	# LMDB writes its meta page through an O_DSYNC descriptor instead.
	[ -n "$n" ] && [ "$sync" = full ] &&
	    n="$n, and one O_DSYNC write of the meta page"
	[ -n "$n" ] && echo "fsync+fdatasync per token request: $n"
	load "fcgi.token.$sync" "token, client secret" \
	    "LMDB, OAUTH_DB_SYNC=$sync" \
	    grant_type=client_credentials "$BENCH_AUTH" "$furl/token"
	if [ "$sync" = none ]; then
		load fcgi.introspect introspection "reads only" \
		    "token=$token" "$BENCH_AUTH" "$furl/introspect"
	fi
	bench_stop "$bench_lighttpd_pid"
	bench_lighttpd_pid=
	# lighttpd signals its oauth.fcgi processes and does not wait.
	for p in $srvpids; do
		bench_stop "$p"
	done
done

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== summary: wrk -t2 -c$BENCH_CONNECTIONS -d${BENCH_SECONDS}s" \
    "on 127.0.0.1, $(nproc) cores shared by wrk and the server"
echo "| server | request | durability | requests/s | mean latency |" \
    "non-2xx | socket errors | server CPU per request |"
echo "|---|---|---|---|---|---|---|---|"
cat "$tmp/table"
