#!/bin/sh
# The request cases through a real web server: lighttpd on a free loopback
# port, mod_fastcgi spawning two oauth.fcgi processes that share one
# database.  One server per distinct case configuration (run_cases.py
# --list-configs), then a bounded concurrency check.  Skips, with a visible
# line, when lighttpd is missing.  Last line: "N passed, M failed".
#
# Environment: FCGI, OAUTHCTL (binaries, default build/), LIGHTTPD,
# LOG_DIR (default build/test-logs/web), OAUTH_TEST_BACKEND=postgresql to
# run on PostgreSQL databases (tests/lib_backend.sh: on the server of
# OAUTH_TEST_PG, or a private one) instead of LMDB directories,
# FCGI_THREADS=N to give each responder N threads (oauth.fcgi --threads,
# in bin-path, which lighttpd splits into words).

set -u
cd "$(dirname "$0")/../.." || exit 1

FCGI=${FCGI:-build/oauth.fcgi}
OAUTHCTL=${OAUTHCTL:-build/oauthctl}
LOG_DIR=${LOG_DIR:-build/test-logs/web}
START_TIMEOUT=10	# seconds for lighttpd to answer
STOP_TIMEOUT=5		# seconds for it to exit after SIGTERM
LOAD_REQUESTS=200
LOAD_WORKERS=8
LOAD_TIMEOUT=60		# seconds for the whole concurrency check

passed=0
failed=0
lpid=
tmp=

. tests/lib_backend.sh

want=${LIGHTTPD:-lighttpd}
LIGHTTPD=$(command -v "$want" 2>/dev/null) || LIGHTTPD=
# Debian's lighttpd is in /usr/sbin, outside a user's PATH.
if [ -z "$LIGHTTPD" ] && [ "$want" = lighttpd ] && [ -x /usr/sbin/lighttpd ]
then
	LIGHTTPD=/usr/sbin/lighttpd
fi
if [ -z "$LIGHTTPD" ]; then
	echo "test_lighttpd: skipped (lighttpd not installed)"
	echo "0 passed, 0 failed"
	exit 0
fi
for b in "$FCGI" "$OAUTHCTL"; do
	if [ ! -x "$b" ]; then
		echo "test_lighttpd: $b missing: run make first"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

# alive PID [COMM]: whether PID runs (an unreaped zombie does not), as
# COMM when given.
alive() {
	[ -r "/proc/$1/stat" ] && ! grep -q ') Z ' "/proc/$1/stat" 2>/dev/null &&
	    { [ $# -lt 2 ] || grep -qx "$2" "/proc/$1/comm" 2>/dev/null; }
}

stop_server() {
	[ -n "$lpid" ] || return 0
	children=$(responders)
	kill "$lpid" 2>/dev/null
	i=0
	while alive "$lpid" && [ $i -lt $((STOP_TIMEOUT * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if alive "$lpid"; then
		echo "test_lighttpd: lighttpd ignored SIGTERM, killing it"
		kill -9 "$lpid" 2>/dev/null
	fi
	wait "$lpid" 2>/dev/null
	lpid=
	# lighttpd ends its responders; make sure none outlives the test.
	for c in $children; do
		i=0
		while alive "$c" oauth.fcgi &&
		    [ $i -lt $((STOP_TIMEOUT * 10)) ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if alive "$c" oauth.fcgi; then
			result "responder $c stops with lighttpd" FAIL
			kill -9 "$c" 2>/dev/null
		fi
	done
}

cleanup() {
	stop_server
	backend_stop
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_lighttpd.XXXXXX") || exit 1
mkdir -p "$tmp/www" "$LOG_DIR"
if ! backend_start "$tmp"; then
	echo "test_lighttpd: skipped ($backend_why)"
	echo "0 passed, 0 failed"
	exit 0
fi
abs_fcgi=$(cd "$(dirname "$FCGI")" && pwd)/$(basename "$FCGI")

# The test server asks for Basic NAME:NAME on /authorize, which becomes
# REMOTE_USER; run_cases.py sends that for a case's remote-user.
{
	echo "tester:tester"
	python3 tests/run_cases.py --list-users | sed 's/.*/&:&/'
} >"$tmp/users"

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Quote a value for a lighttpd configuration string.
lq() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

# write_conf DIR PORT DB [KEY=VALUE...]
write_conf() {
	dir=$1 port=$2 db=$3
	shift 3
	env_entries="\"OAUTH_DB\" => $(lq "$db")"
	for kv in "$@"; do
		env_entries="$env_entries, $(lq "${kv%%=*}") => $(lq "${kv#*=}")"
	done
	cat >"$dir/lighttpd.conf" <<EOF
server.document-root = $(lq "$tmp/www")
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = $(lq "$dir/error.log")
server.modules += ( "mod_auth", "mod_authn_file", "mod_fastcgi" )

# REMOTE_USER for /authorize, only when credentials come: a request
# without them reaches the responder, whose own answer the cases check.
auth.backend = "plain"
auth.backend.plain.userfile = $(lq "$tmp/users")
\$REQUEST_HEADER["Authorization"] =~ "^Basic " {
	auth.require = ( "/oauth/authorize" => ( "method" => "basic",
	    "realm" => "test", "require" => "valid-user" ) )
}

# Mounted at a prefix, not at "/": lighttpd then passes SCRIPT_NAME=/oauth
# and PATH_INFO=/token itself, so neither fix-root-scriptname (for a "/"
# mount) nor broken-scriptfilename (PHP's SCRIPT_FILENAME) applies.  The
# condition keeps /oauthx from matching the prefix.
\$HTTP["url"] =~ "^/oauth(/|\$)" {
	fastcgi.server = ( "/oauth" => ( (
		"bin-path" => $(lq "$abs_fcgi${FCGI_THREADS:+ --threads $FCGI_THREADS}"),
		"socket" => $(lq "$dir/oauth.sock"),
		"check-local" => "disable",
		"max-procs" => 2,
		"bin-environment" => ( $env_entries ),
		"bin-copy-environment" => ( "PATH", "ASAN_OPTIONS",
		    "UBSAN_OPTIONS", "LSAN_OPTIONS", "TMPDIR" ),
	) ) )
}
EOF
}

# start_server DIR DB [KEY=VALUE...]: sets lpid and base, or fails.
start_server() {
	dir=$1 db=$2
	shift 2
	mkdir -p "$dir"
	for attempt in 1 2 3; do
		port=$(free_port) || return 1
		write_conf "$dir" "$port" "$db" "$@"
		if ! timeout 10 "$LIGHTTPD" -tt -f "$dir/lighttpd.conf" \
		    >"$dir/check.out" 2>&1; then
			cat "$dir/check.out"
			return 1
		fi
		"$LIGHTTPD" -D -f "$dir/lighttpd.conf" </dev/null \
		    >"$dir/stdout" 2>&1 &
		lpid=$!
		base="http://127.0.0.1:$port/oauth"
		i=0
		while [ $i -lt $((START_TIMEOUT * 10)) ]; do
			kill -0 "$lpid" 2>/dev/null || break
			code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' \
			    "$base/.well-known/oauth-authorization-server")
			[ "$code" = 200 ] && return 0
			sleep 0.1
			i=$((i + 1))
		done
		stop_server
		# Another process may have taken the port: try a new one.
		grep -q 'Address already in use' "$dir/error.log" \
		    "$dir/stdout" 2>/dev/null || break
	done
	echo "test_lighttpd: lighttpd did not serve $base"
	cat "$dir/stdout" "$dir/error.log" 2>/dev/null | tail -n 30
	return 1
}

# Children of $lpid running oauth.fcgi, their pids on one line.
responders() {
	python3 - "$lpid" <<'EOF'
import os, sys
pids = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open("/proc/%s/stat" % pid) as f:
            stat = f.read()
    except OSError:
        continue
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    ppid = stat[stat.rindex(")") + 2:].split()[1]
    if ppid == sys.argv[1] and comm == "oauth.fcgi":
        pids.append(pid)
print(" ".join(pids))
EOF
}

# result NAME OK|FAIL: count one check.
result() {
	if [ "$2" = ok ]; then
		passed=$((passed + 1))
		echo "ok   $1"
	else
		failed=$((failed + 1))
		echo "FAIL $1"
	fi
}

python3 tests/run_cases.py --list-configs >"$tmp/configs" || {
	echo "test_lighttpd: run_cases.py --list-configs failed"
	echo "0 passed, 1 failed"
	exit 1
}

n=0
# The list comes on fd 3 so that nothing in the loop eats it from stdin.
while read -r cfg <&3; do
	n=$((n + 1))
	[ "$cfg" = - ] && cfg=
	if ! db=$(backend_newdb "db-$n" "$tmp"); then
		result "a database$(backend_label)" FAIL
		continue
	fi
	if ! timeout 30 "$OAUTHCTL" --db "$db" init >"$tmp/init.out" 2>&1; then
		cat "$tmp/init.out"
		result "oauthctl init" FAIL
		continue
	fi
	# shellcheck disable=SC2086 # cfg is a list of KEY=VALUE words
	if ! start_server "$tmp/server-$n" "$db" $cfg; then
		result "lighttpd start (${cfg:-default configuration})" FAIL
		continue
	fi
	echo "lighttpd $lpid on $base (${cfg:-default configuration}," \
	    "$BACKEND)"

	if [ $n = 1 ]; then
		count=$(responders | wc -w)
		if [ "$count" -ge 2 ]; then
			result "$count oauth.fcgi processes under lighttpd" ok
		else
			result "2 oauth.fcgi processes under lighttpd (found $count)" FAIL
		fi
		if [ -n "${FCGI_THREADS:-}" ]; then
			# Its workers, the main thread, and the committer on LMDB.
			for r in $(responders); do
				t=$(ls "/proc/$r/task" | wc -l)
				if [ "$t" -gt "$FCGI_THREADS" ]; then
					result "responder $r runs $t threads (--threads $FCGI_THREADS)" ok
				else
					result "responder $r runs more than $FCGI_THREADS threads (found $t)" FAIL
				fi
			done
		fi
	fi

	server_config=
	for kv in $cfg; do
		server_config="$server_config --server-config $kv"
	done
	# shellcheck disable=SC2086
	timeout 600 python3 tests/run_cases.py --url "$base" --db "$db" \
	    --oauthctl "$OAUTHCTL" --log-dir "$LOG_DIR/cases-$n" \
	    $server_config >"$tmp/cases.out" 2>&1
	grep -v '^ok ' "$tmp/cases.out"
	line=$(tail -n 1 "$tmp/cases.out")
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then
		result "run_cases.py --url (no result line)" FAIL
	else
		passed=$((passed + p))
		failed=$((failed + f))
	fi

	if [ $n = 1 ]; then
		timeout 30 "$OAUTHCTL" --db "$db" client add load \
		    --scope "read write" \
		    --grant-types client_credentials \
		    --secret load-secret-0123456789abcdefghijklmnopqrst \
		    >/dev/null &&
		timeout 30 "$OAUTHCTL" --db "$db" client add loadrs \
		    --introspect \
		    --grant-types client_credentials \
		    --secret loadrs-secret-0123456789abcdefghijklmnopq \
		    >/dev/null
		if timeout $((LOAD_TIMEOUT + 10)) python3 - "$base" \
		    "$LOAD_REQUESTS" "$LOAD_WORKERS" "$LOAD_TIMEOUT" <<'EOF'
# Token requests from parallel workers; every token must be distinct and
# introspect active, all within the time bound.
import base64, concurrent.futures, json, sys, time, urllib.request
base, total, workers, bound = sys.argv[1], *map(int, sys.argv[2:])

def post(path, body, user, secret):
    auth = base64.b64encode(("%s:%s" % (user, secret)).encode()).decode()
    req = urllib.request.Request(base + path, data=body.encode(), headers={
        "Authorization": "Basic " + auth,
        "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.load(r)

def one(i):
    status, doc = post("/token", "grant_type=client_credentials", "load",
                       "load-secret-0123456789abcdefghijklmnopqrst")
    if status != 200:
        return "token %d: status %d" % (i, status), None
    tok = doc["access_token"]
    status, doc = post("/introspect", "token=" + tok, "loadrs",
                       "loadrs-secret-0123456789abcdefghijklmnopq")
    if status != 200 or doc.get("active") is not True:
        return "introspect %d: %d %s" % (i, status, doc), tok
    return None, tok

start = time.time()
errors, tokens = [], set()
with concurrent.futures.ThreadPoolExecutor(workers) as pool:
    for fut in [pool.submit(one, i) for i in range(total)]:
        try:
            err, tok = fut.result()
        except Exception as e:
            err, tok = "request: %s" % e, None
        if err:
            errors.append(err)
        if tok:
            tokens.add(tok)
elapsed = time.time() - start
for e in errors[:10]:
    print("  " + e)
print("  %d requests over %d workers: %d errors, %d distinct tokens, %.1fs"
      % (total, workers, len(errors), len(tokens), elapsed))
sys.exit(0 if not errors and len(tokens) == total and elapsed <= bound
         else 1)
EOF
		then
			result "concurrency: $LOAD_REQUESTS tokens, $LOAD_WORKERS workers" ok
		else
			result "concurrency: $LOAD_REQUESTS tokens, $LOAD_WORKERS workers" FAIL
		fi
	fi

	if grep -qiE 'signal|died|segfault' "$tmp/server-$n/error.log" \
	    2>/dev/null; then
		grep -iE 'signal|died|segfault' "$tmp/server-$n/error.log"
		result "no responder crash in lighttpd's log" FAIL
	fi
	stop_server
	if [ "$(cat "$tmp/server-$n/error.log" 2>/dev/null | wc -l)" -gt 0 ]; then
		cp "$tmp/server-$n/error.log" "$LOG_DIR/error-$n.log"
	fi
done 3<"$tmp/configs"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
