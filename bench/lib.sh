# Shell functions shared by the benchmark scripts; sourced from the top of
# the source tree (". bench/lib.sh"), never run.  Every wait is bounded.
#
# Settings, read when a function runs:
#   BUILD              build directory (default build)
#   BENCH_SECONDS      duration of each wrk load (default 10)
#   BENCH_CONNECTIONS  wrk connections (default 16)

# The responders run as the shipped configurations start them (etc/README.md):
# with glibc keeping 64 freed blocks of a size, for libfcgi's allocations.
# The hello-world, and every other process started here, gets the same.
# GLIBC_TUNABLES= (set, empty) measures without it.
GLIBC_TUNABLES=${GLIBC_TUNABLES-glibc.malloc.tcache_count=64}
export GLIBC_TUNABLES

BENCH_SECRET=bench-secret-0123456789abcdefghijklmnopq
BENCH_AUTH=$(printf 'bench:%s' "$BENCH_SECRET" | base64 -w0)

# Prints a TCP port on 127.0.0.1 that was free a moment ago.
bench_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Sends SIGTERM to process $1 and waits up to 5 s before SIGKILL, so that
# no server outlives the script.  An empty $1 does nothing.
bench_stop() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# Waits up to 10 s for an HTTP answer, any status, from $1; returns 1 when
# none came.
bench_wait_http() {
	_i=0
	until curl -s -o /dev/null "$1"; do
		[ $_i -ge 100 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 0
}

# Creates the LMDB database $1 holding the client "bench" (secret
# BENCH_SECRET, made the way oauthctl makes clients) and prints one access
# token issued to it by oauth.fcgi run as a CGI program.  Prints nothing
# and returns 1 on failure.
bench_fcgi_db() {
	OAUTH_DB_SYNC=none "${BUILD:-build}/bench/bench_handlers" "$1" \
	    introspect 1 >/dev/null || return 1
	printf 'grant_type=client_credentials' | REQUEST_METHOD=POST \
	    PATH_INFO=/token CONTENT_TYPE=application/x-www-form-urlencoded \
	    CONTENT_LENGTH=29 HTTP_AUTHORIZATION="Basic $BENCH_AUTH" \
	    HTTP_HOST=127.0.0.1 OAUTH_DB="$1" "${BUILD:-build}/oauth.fcgi" |
	    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' | grep .
}

# Starts lighttpd in the foreground, in the background of this shell, with
# the shipped etc/lighttpd configuration on 127.0.0.1 port $1, run
# directory $2, database $3 (a directory or a postgresql:// URI) and
# OAUTH_DB_SYNC=$4; sets bench_lighttpd_pid.  Returns 1, with nothing left
# running, when it does not answer in 10 s.
bench_lighttpd_start() {
	mkdir -p "$2/htdocs" || return 1
	: >"$2/htpasswd"
	# A URI holds "&", which a sed replacement reads as the match.
	_db=$(printf '%s' "$3" | sed 's/[\\&|]/\\&/g')
	sed -e "s|\"OAUTH_DB\" => \"@DB@\",|&\"OAUTH_DB_SYNC\" => \"$4\",|" \
	    -e "s|@PORT@|$1|g" -e "s|@RUNDIR@|$2|g" \
	    -e "s|@BUILD@|$PWD/${BUILD:-build}|g" -e "s|@DB@|$_db|g" \
	    -e "s|@HTPASSWD@|$2/htpasswd|g" \
	    etc/lighttpd/oauth-fastcgi.conf >"$2/lighttpd.conf" || return 1
	# As root, lighttpd would switch to www-data, which cannot read $2.
	sed -i -e '/^server.username/d' -e '/^server.groupname/d' \
	    "$2/lighttpd.conf"
	lighttpd -D -f "$2/lighttpd.conf" &
	bench_lighttpd_pid=$!
	if ! bench_wait_http "http://127.0.0.1:$1/oauth/"; then
		bench_stop "$bench_lighttpd_pid"
		bench_lighttpd_pid=
		return 1
	fi
	return 0
}

# Runs wrk for BENCH_SECONDS with BENCH_CONNECTIONS connections, POSTing
# body $1 with Basic credentials $2 (base64) to URL $3; prints wrk's report
# and, given a file $4, keeps a copy there for bench_figures.
bench_wrk() {
	BENCH_BODY=$1 BENCH_AUTH=$2 wrk -t2 -c"${BENCH_CONNECTIONS:-16}" \
	    -d"${BENCH_SECONDS:-10}s" -s bench/wrk_post.lua "$3" |
	    tee "${4:-/dev/null}"
}

# Prints "requests/s | mean latency | non-2xx | socket errors" from wrk
# report $1; wrk prints the last two lines only when they are not zero.
bench_figures() {
	awk '
	$1 == "Latency" { lat = $2 }
	$1 == "Requests/sec:" { rps = $2 }
	/Non-2xx or 3xx responses:/ { bad = $NF }
	/Socket errors:/ {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^[0-9]+,?$/)
				err += $i
	}
	END { printf "%s | %s | %d | %d\n", rps, lat, bad, err }' "$1"
}

# Prints "USER SYSTEM", the clock ticks (getconf CLK_TCK) processes $@
# have spent so far in user space and in the kernel: fields 14 and 15 of
# /proc/PID/stat, after the parenthesised command name, which may hold
# spaces.  A process that is gone counts 0.
bench_cpu_split() {
	for _p in "$@"; do
		sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null
	done | awk '{ u += $12; k += $13 } END { printf "%d %d\n", u, k }'
}

# Prints the CPU time, user and system, that processes $@ have used so
# far, in clock ticks.
bench_cpu_ticks() {
	# shellcheck disable=SC2046 # "USER SYSTEM", two words
	set -- $(bench_cpu_split "$@")
	echo $(($1 + $2))
}

# Process ids for bench_stop_all to stop at the end of a script: what
# bench_lighttpd_up starts, and whatever the script adds itself.
bench_pids=

# bench_alive PID: whether PID runs (a zombie, which nobody may reap when
# spawn-fcgi's parent was init, does not).
bench_alive() {
	[ -d "/proc/$1" ] && ! grep -q ') Z ' "/proc/$1/stat" 2>/dev/null
}

# bench_stop_all PID...: SIGTERM to each, up to 5 s for all of them to
# exit, then SIGKILL to what is left; each is reaped when it is ours, and
# removed from bench_pids.
bench_stop_all() {
	for _s in "$@"; do
		kill "$_s" 2>/dev/null
	done
	_i=0
	for _s in "$@"; do
		while bench_alive "$_s" && [ $_i -lt 50 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
	done
	for _s in "$@"; do
		bench_alive "$_s" && kill -9 "$_s" 2>/dev/null
		wait "$_s" 2>/dev/null
		bench_pids=$(echo " $bench_pids " | sed "s/ $_s / /")
	done
	return 0
}

# bench_lighttpd_render DIR PORT RESPONDER DB SYNC MAP:
# etc/lighttpd/oauth-fastcgi.conf as shipped, placeholders filled, into
# DIR/lighttpd.conf, with RESPONDER as bin-path, OAUTH_DB_SYNC=SYNC and
# OAUTH_MAP_SIZE=MAP added to bin-environment, and no user switch (as
# bench_lighttpd_start has it).
bench_lighttpd_render() {
	mkdir -p "$1/htdocs" && : >"$1/htpasswd" || return 1
	sed -e "s|\"OAUTH_DB\" => \"@DB@\",|&\"OAUTH_DB_SYNC\" => \"$5\",\"OAUTH_MAP_SIZE\" => \"$6\",|" \
	    -e "s|\"@BUILD@/oauth.fcgi\"|\"$3\"|" \
	    -e "s|@PORT@|$2|g" -e "s|@RUNDIR@|$1|g" -e "s|@DB@|$4|g" \
	    -e "s|@HTPASSWD@|$1/htpasswd|g" \
	    -e '/^server.username/d' -e '/^server.groupname/d' \
	    etc/lighttpd/oauth-fastcgi.conf >"$1/lighttpd.conf"
}

# bench_lighttpd_up DIR PORT [RESPONDERS]: lighttpd in the foreground on
# DIR/lighttpd.conf; its pid added to bench_pids, and those of the
# RESPONDERS processes it starts (waited for up to 10 s), which are
# stopped on their own too.  Sets bench_lighttpd_pid, and
# bench_lighttpd_children to the responders' pids.  Returns 1, having
# said why, when lighttpd does not answer in 10 s.
bench_lighttpd_up() {
	lighttpd -D -f "$1/lighttpd.conf" >"$1/lighttpd.out" 2>&1 </dev/null &
	bench_lighttpd_pid=$!
	bench_lighttpd_children=
	bench_pids="$bench_pids $bench_lighttpd_pid"
	bench_wait_http "http://127.0.0.1:$2/oauth/" || {
		echo "$0: lighttpd did not start:" >&2
		tail -n 5 "$1/error.log" "$1/lighttpd.out" >&2
		return 1
	}
	_i=0
	while [ "$(pgrep -P "$bench_lighttpd_pid" | wc -l)" -lt "${3:-0}" ] &&
	    [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	bench_lighttpd_children=$(pgrep -P "$bench_lighttpd_pid" | tr '\n' ' ')
	bench_pids="$bench_pids $bench_lighttpd_children"
}

# bench_requests PORT PATH BODY N: N POSTs of BODY to /oauth$PATH (PATH
# begins with a slash) on 127.0.0.1:PORT with the Basic credentials
# BENCH_AUTH, one after another on one keep-alive connection, within
# 300 s; prints how many were not answered 200.
bench_requests() {
	timeout 300 python3 - "$@" "$BENCH_AUTH" <<'PY'
import http.client, sys
port, path, body, n, auth = sys.argv[1:6]
c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
bad = 0
for _ in range(int(n)):
    c.request("POST", "/oauth" + path, body, {
        "Authorization": "Basic " + auth,
        "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    r.read()
    bad += r.status != 200
print(bad)
PY
}
