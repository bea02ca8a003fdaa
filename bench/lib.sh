# Shell functions shared by the benchmark scripts; sourced from the top of
# the source tree (". bench/lib.sh"), never run.  Every wait is bounded.
#
# Settings, read when a function runs:
#   BUILD              build directory (default build)
#   BENCH_SECONDS      duration of each wrk load (default 10)
#   BENCH_CONNECTIONS  wrk connections (default 16)

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

# Prints the CPU time, user and system, that processes $@ have used so
# far, in clock ticks (getconf CLK_TCK); a process that is gone counts 0.
bench_cpu_ticks() {
	_t=0
	for _p in "$@"; do
		# Fields 14 and 15 of /proc/PID/stat, after the parenthesised
		# command name, which may hold spaces.
		_f=$(sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null |
		    awk '{ print $12 + $13 }')
		_t=$((_t + ${_f:-0}))
	done
	echo "$_t"
}
