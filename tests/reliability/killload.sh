#!/bin/sh
# kill -9 under load: lighttpd on a free 127.0.0.1 port with mod_fastcgi
# spawning REL_PROCS oauth.fcgi responders (bin-path, max-procs) on one
# database; tests/reliability/killload.py loads it from REL_WORKERS
# threads (client_credentials tokens, the code flow with refresh
# rotation, revocations) while this script kills a random responder with
# SIGKILL REL_KILLS times, which lighttpd restarts.  Afterwards:
#
#  - every token answered with 200 introspects as recorded: active, or
#    inactive when revoked with a 200 or rotated (the access tokens of a
#    rotated grant stay active); requests that failed while a responder
#    died are counted and reported, and what they would have decided is
#    not judged;
#  - oauthctl check passes;
#  - the database stays within a bound of its live records (below), and
#    no reader slot is left behind by the killed processes.
#
# Bounded: REL_KILLS kills, the load by REL_LOAD_SECONDS and
# REL_LOAD_REQUESTS.  Last line: "N passed, M failed".

set -u
cd "$(dirname "$0")/../.." || exit 1
REL_NAME=killload
. tests/reliability/lib.sh

REL_PROCS=${REL_PROCS:-4}
REL_WORKERS=${REL_WORKERS:-4}
REL_KILLS=${REL_KILLS:-50}
REL_LOAD_SECONDS=${REL_LOAD_SECONDS:-240}
REL_LOAD_REQUESTS=${REL_LOAD_REQUESTS:-200000}
REL_RESPAWN_WAIT=10	# seconds for lighttpd to have a responder again
REL_AFTER_KILLS=3	# seconds of load after the last kill
REL_START_WAIT=30	# seconds for the load's first answer
# The size bound.  A record is a 32-byte key (a token's hash, a 16-byte
# grant id or a client id) and a value of at most ~300 bytes here (scope,
# subject, client id, times), under 512 bytes with LMDB's node header; a
# B-tree page splits when full and so stays at least half full, so the
# leaves take at most records * 512 * 2 bytes.  REL_SLACK_PAGES covers the
# branch pages, the roots of the databases, the free list, and the pages
# LMDB keeps from the last transactions for readers that may still see
# them.  Pages lost by a writer killed mid-transaction, or pinned by the
# stale reader slot of a killed process, would break it.
REL_RECORD_BYTES=512
REL_SLACK_PAGES=256
REL_PAGE=4096

LIGHTTPD=$(command -v lighttpd 2>/dev/null) || LIGHTTPD=
[ -z "$LIGHTTPD" ] && [ -x /usr/sbin/lighttpd ] && LIGHTTPD=/usr/sbin/lighttpd
[ -n "$LIGHTTPD" ] || rel_skip "lighttpd not installed (apt-get install lighttpd)"
command -v mdb_stat >/dev/null 2>&1 ||
    rel_skip "mdb_stat not installed (apt-get install lmdb-utils)"
rel_init

db=$rel_tmp/db
rel_check "the test database" rel_setup_db "$db"
fcgi=$(cd "$(dirname "$FCGI")" && pwd)/$(basename "$FCGI")
mkdir -p "$rel_tmp/www"
echo "alice:alice" >"$rel_tmp/users"

port=$("$REL_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])') || { rel_notok "a free port"; rel_finish; }
cat >"$rel_tmp/lighttpd.conf" <<EOF
server.document-root = "$rel_tmp/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$rel_tmp/error.log"
server.max-connections = 256
server.modules += ( "mod_auth", "mod_authn_file", "mod_fastcgi" )
auth.backend = "plain"
auth.backend.plain.userfile = "$rel_tmp/users"
auth.require = ( "/oauth/authorize" => ( "method" => "basic",
    "realm" => "test", "require" => "valid-user" ) )
\$HTTP["url"] =~ "^/oauth(/|\$)" {
	fastcgi.server = ( "/oauth" => ( (
		"bin-path" => "$fcgi",
		"socket" => "$rel_tmp/oauth.sock",
		"check-local" => "disable",
		"max-procs" => $REL_PROCS,
		"bin-environment" => ( "OAUTH_DB" => "$db",
		    "OAUTH_ISSUER" => "https://as.example/oauth" ),
	) ) )
}
EOF
base=http://127.0.0.1:$port/oauth
rel_start lighttpd "$LIGHTTPD" -D -f "$rel_tmp/lighttpd.conf"
lpid=$rel_pid

# The responders lighttpd runs: its children named oauth.fcgi.
responders() {
	for _d in /proc/[0-9]*; do
		_s=$(cat "$_d/stat" 2>/dev/null) || continue
		case $_s in
		*"(oauth.fcgi) "[!Z]" $lpid "*) echo "${_d#/proc/}" ;;
		esac
	done
}

up() {
	_i=0
	while [ $_i -lt $((REL_WAIT * 10)) ]; do
		rel_alive "$lpid" || return 1
		_c=$(curl -s -m 2 -o /dev/null -w '%{http_code}' \
		    "$base/.well-known/oauth-authorization-server")
		[ "$_c" = 200 ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
if ! up; then
	rel_notok "lighttpd serves $base"
	sed 's/^/#   /' "$rel_tmp/error.log" "$rel_tmp/lighttpd.out" 2>/dev/null |
	    tail -n 20
	rel_finish
fi
rel_ok "lighttpd serves $base"
n=$(responders | wc -l)
rel_check "lighttpd runs $REL_PROCS responders ($n)" [ "$n" -eq "$REL_PROCS" ]
set -- $(rel_pages "$db")
rel_note "database before the load: $1 pages used, $2 free"

stop=$rel_tmp/stop
"$REL_PYTHON" tests/reliability/killload.py load "$base" "$rel_tmp/load.json" \
    "$REL_WORKERS" "$REL_LOAD_SECONDS" "$REL_LOAD_REQUESTS" "$stop" \
    >"$rel_tmp/load.out" 2>&1 &
load=$!
# The kills begin once the load has its first answer (not after a fixed
# second, which a busy machine may not honour), within REL_START_WAIT.
i=0
while [ ! -e "$rel_tmp/load.json.started" ] && kill -0 "$load" 2>/dev/null &&
    [ $i -lt $((REL_START_WAIT * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
rel_check "the load is answered before the kills" \
    [ -e "$rel_tmp/load.json.started" ]

# The kills: a random responder each time, at random intervals of 0.1 to
# 0.6 s; when lighttpd has none running at that moment (it is restarting
# one), wait for one, up to REL_RESPAWN_WAIT seconds.
kills=0 waited=0
while [ $kills -lt "$REL_KILLS" ] && kill -0 "$load" 2>/dev/null; do
	set -- $(responders)
	if [ $# -eq 0 ]; then
		waited=$((waited + 1))
		[ $waited -gt $((REL_RESPAWN_WAIT * 10)) ] && break
		sleep 0.1
		continue
	fi
	waited=0
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	shift $((r % $#))
	kill -KILL "$1" 2>/dev/null && kills=$((kills + 1))
	sleep "0.$((r % 6 + 1))"
done
rel_check "$kills of $REL_KILLS responders killed with SIGKILL under load" \
    [ "$kills" -eq "$REL_KILLS" ]
sleep $REL_AFTER_KILLS
: >"$stop"
wait "$load"
rc=$?
summary=$(tail -n 1 "$rel_tmp/load.out")
rel_note "load: $summary"
rel_check "the load ran to its end" [ "$rc" -eq 0 ]

# lighttpd restarts what was killed: back to REL_PROCS, and serving.
i=0
while [ "$(responders | wc -l)" -lt "$REL_PROCS" ] &&
    [ $i -lt $((REL_RESPAWN_WAIT * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
n=$(responders | wc -l)
rel_check "lighttpd has $REL_PROCS responders again ($n)" \
    [ "$n" -ge "$REL_PROCS" ]
rel_check "lighttpd still serves after the kills" up

"$REL_PYTHON" tests/reliability/killload.py audit "$base" \
    "$rel_tmp/load.json" >"$rel_tmp/audit.out" 2>&1
rc=$?
grep '^#' "$rel_tmp/audit.out"
rel_note "audit: $(tail -n 1 "$rel_tmp/audit.out")"
rel_check "every token answered with 200 introspects as recorded (revoked and rotated ones inactive, the rest active)" \
    [ "$rc" -eq 0 ]
fails=$(printf '%s' "$summary" | "$REL_PYTHON" -c 'import json, sys
d = json.load(sys.stdin)
n = sum(v for k, v in d["statuses"].items() if k not in ("200", "302"))
print(n + sum(d["failures"].values()))' 2>/dev/null) || fails=?
rel_note "requests that failed while responders were killed: $fails"

rel_ctl "$db" check >"$rel_tmp/check.out" 2>&1
rc=$?
sed 's/^/#   /' "$rel_tmp/check.out" | head -n 20
rel_check "oauthctl check passes" [ "$rc" -eq 0 ]
records=$(sed -n 's/^checked \([0-9]*\) clients, \([0-9]*\) access tokens, \([0-9]*\) refresh tokens, \([0-9]*\) codes, \([0-9]*\) grants$/\1 \2 \3 \4 \5/p' \
    "$rel_tmp/check.out" | awk '{ print $1 + $2 + $3 + $4 + $5 }')
set -- $(rel_pages "$db")
used=$1 free=$2
bound=$(( ${records:-0} * REL_RECORD_BYTES * 2 / REL_PAGE + REL_SLACK_PAGES ))
rel_note "database after: ${records:-?} records, $used pages used ($((used * REL_PAGE / 1024)) KiB), $free free; data.mdb $(du -k "$db/data.mdb" | cut -f1) KiB on disk"
rel_check "the database stays bounded: $used pages used, at most $bound" \
    [ -n "$records" ] && [ "$used" -le "$bound" ]
readers=$(mdb_stat -r "$db" | awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9a-f]+$/ { n++ } END { print n + 0 }')
rel_note "reader slots in use with lighttpd's responders running: $readers"

rel_stop "$lpid"
rel_check "lighttpd stops" [ "$rel_status" -ne 255 ]
i=0
while [ -n "$(responders)" ] && [ $i -lt $((REL_WAIT * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
left=$(responders)
for p in $left; do
	kill -KILL "$p" 2>/dev/null
done
rel_check "no responder outlives lighttpd" [ -z "$left" ]
if grep -qiE 'segfault|signal 11|abort' "$rel_tmp/error.log"; then
	grep -iE 'segfault|signal 11|abort' "$rel_tmp/error.log" | head -n 5 |
	    sed 's/^/#   /'
	rel_notok "no responder crashed by itself"
fi

rel_finish
