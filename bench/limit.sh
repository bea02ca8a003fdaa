#!/bin/sh
# fcgi-oauth against the limit of the stack, in one run (make bench):
#   1. wrk -t1 through nginx + spawn-fcgi (etc/nginx/oauth-spawn-fcgi.conf)
#      and through lighttpd mod_fastcgi (etc/lighttpd/oauth-fastcgi.conf),
#      two responders each, on 127.0.0.1: introspection and token issuance
#      (OAUTH_DB_SYNC=none and full; and with oauth.fcgi --threads
#      BENCH_LIMIT_THREADS, whose writes are committed in groups) beside
#      bench/hello_fcgi, a libfcgi
#      responder that reads the body and answers {"active":false}, behind
#      the same web server configuration, and beside the same hello-world
#      closing its connections as oauth.fcgi does (--plain-close, without
#      libfcgi's wait for the web server to close first); every
#      configuration beside its references, BENCH_LIMIT_REPS repetitions
#      interleaved, at each of BENCH_LIMIT_CONNECTIONS;
#      And node oidc-provider (bench/oidc-provider, installed with npm ci
#      when node and npm are there), one process with its in-memory
#      adapter, issuing client_credentials tokens at each connection count:
#      the peer durable issuance is held up to;
#   2. instructions per request, callgrind on the one spawn-fcgi child
#      behind nginx: N+1 requests less 1, divided by N, as bench/run.sh
#      counts the in-process figures;
#   3. CGI: oauth.fcgi and hello_fcgi (the same binary, run as CGI) through
#      lighttpd mod_cgi, and the instructions of one whole CGI process.
# The ratio of a configuration is its requests/s divided by the
# hello-world's requests/s of the same repetition, server and connections.
# Each FastCGI load also counts the CPU time (from /proc/PID/stat) its two
# responders spent in user space and in the kernel, and its web server
# spent, divided by the requests wrk made: what a request costs each,
# beside the hello-world's.
#
#   make BUILD=build/bench all build/bench/bench_handlers build/bench/hello_fcgi \
#       build/bench/sha256_speed
#   BUILD=build/bench sh bench/limit.sh
#
# Settings: BUILD (relative to the top of the tree, as bench/lib.sh wants
# it; default build), BENCH_SECONDS (each wrk load, 5),
# BENCH_LIMIT_CONNECTIONS ("16 64"), BENCH_LIMIT_REPS (3),
# BENCH_LIMIT_THREADS (8, the --threads of the threaded responders),
# BENCH_LIMIT_CG (N, 1000), BENCH_LIMIT_KEEP=1 (keep the temporary
# directory: wrk reports, server logs, callgrind files),
# BENCH_LIMIT_COMMIT (the commit the summary names, for a tree that is
# not a git checkout).  What is not
# installed is skipped, and said.  Everything started here is stopped when
# the script ends, on Ctrl-C too; every load has a time or a count limit,
# every wait a bound.  Results go to standard output, the summary last as
# a Markdown table; bench/README.md records a run.

set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BUILD=${BUILD:-build}
export BUILD
SECS=${BENCH_SECONDS:-5}
HZ=$(getconf CLK_TCK)
CONNS=${BENCH_LIMIT_CONNECTIONS:-16 64}
REPS=${BENCH_LIMIT_REPS:-3}
CG_N=${BENCH_LIMIT_CG:-1000}
THREADS=${BENCH_LIMIT_THREADS:-8}
# Enough for every token the loads issue (the map is sparse).
MAP=1073741824

FCGI=$PWD/$BUILD/oauth.fcgi
HELLO=$PWD/$BUILD/bench/hello_fcgi
for f in "$FCGI" "$HELLO" "$BUILD/bench/bench_handlers"; do
	if [ ! -x "$f" ]; then
		echo "bench/limit.sh: no $f: make BUILD=$BUILD all $BUILD/bench/bench_handlers $BUILD/bench/hello_fcgi" >&2
		exit 1
	fi
done
for tool in wrk curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "bench/limit.sh: skipped: $tool is not installed (apt-get install $tool)"
		exit 0
	fi
done
have() {
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]
}
servers=
if have nginx && have spawn-fcgi; then
	servers=nginx
else
	echo "bench/limit.sh: skipping nginx: nginx or spawn-fcgi is not installed"
fi
if have lighttpd; then
	servers="$servers lighttpd"
else
	echo "bench/limit.sh: skipping lighttpd (mod_fastcgi and mod_cgi): lighttpd is not installed"
fi
have valgrind ||
    echo "bench/limit.sh: skipping the instruction counts: valgrind is not installed"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauth-bench-limit-XXXXXX") || exit 1
chmod 0755 "$tmp"
# Process ids to stop at the end, in bench_pids (bench/lib.sh): web
# servers, the responders they or spawn-fcgi started, valgrind.
cleanup() {
	# shellcheck disable=SC2086 # a list of process ids
	bench_stop_all $bench_pids
	if [ "${BENCH_LIMIT_KEEP:-0}" = 1 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM PIPE HUP

# ---- Servers ---------------------------------------------------------------

# nginx_render DIR PORT SOCKET: etc/nginx/oauth-spawn-fcgi.conf as shipped,
# placeholders filled, into DIR/nginx.conf, with two changes: enough
# worker_connections for 64 clients and as many FastCGI connections (the
# shipped 64 holds 32 of each), and, as root, workers that run as root
# (like lighttpd in bench/lib.sh), which can reach a socket spawn-fcgi
# made as root.
nginx_render() {
	sed -e "s|@PORT@|$2|g" -e "s|@RUNDIR@|$1|g" -e "s|@SOCKET@|$3|g" \
	    -e "s|@HTPASSWD@|$1/htpasswd|g" -e "s|@BUILD@|$PWD/$BUILD|g" \
	    -e 's|worker_connections 64;|worker_connections 1024;|' \
	    etc/nginx/oauth-spawn-fcgi.conf >"$1/nginx.conf" || return 1
	if [ "$(id -u)" -eq 0 ]; then
		sed -i 's|^user www-data;|user root;|' "$1/nginx.conf"
	else
		sed -i '/^user www-data;/d' "$1/nginx.conf"
	fi
}

# nginx_up DIR PORT: nginx in the foreground on DIR/nginx.conf, its pid
# added to bench_pids; 1 when it does not answer in 10 s.
nginx_up() {
	nginx -e "$1/error.log" -c "$1/nginx.conf" -g 'daemon off;' \
	    >"$1/nginx.out" 2>&1 </dev/null &
	nginx_pid=$!
	bench_pids="$bench_pids $nginx_pid"
	bench_wait_http "http://127.0.0.1:$2/oauth/" || {
		echo "bench/limit.sh: nginx did not start:" >&2
		tail -n 5 "$1/error.log" "$1/nginx.out" >&2
		return 1
	}
}

# spawn_wait SOCKET: wait up to 10 s for a FastCGI socket.
spawn_wait() {
	_i=0
	until [ -S "$1" ]; do
		[ $_i -ge 100 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# start_nginx NAME RESPONDER DB SYNC [ARGS]: spawn-fcgi starts two
# RESPONDER processes (with the words of ARGS as arguments) on a unix
# socket (-F 2: they share it, as -n would have one do), with OAUTH_DB=DB
# and OAUTH_DB_SYNC=SYNC; nginx in front on a free port, which is printed
# to NAME.port.  All pids are added to bench_pids.
start_nginx() {
	_d=$tmp/$1
	mkdir -p "$_d" && : >"$_d/htpasswd" || return 1
	_port=$(bench_port)
	# shellcheck disable=SC2086 # ARGS is words
	OAUTH_DB=$3 OAUTH_DB_SYNC=$4 OAUTH_MAP_SIZE=$MAP spawn-fcgi \
	    -s "$_d/fcgi.sock" -M 0660 -F 2 -P "$_d/spawn.pid" -- "$2" ${5:-} \
	    >"$_d/spawn.out" 2>&1 </dev/null || {
		cat "$_d/spawn.out" >&2
		return 1
	}
	bench_pids="$bench_pids $(tr '\n' ' ' <"$_d/spawn.pid" 2>/dev/null)"
	spawn_wait "$_d/fcgi.sock" || return 1
	nginx_render "$_d" "$_port" "$_d/fcgi.sock" && nginx_up "$_d" "$_port" ||
	    return 1
	tr '\n' ' ' <"$_d/spawn.pid" >"$tmp/$1.responders"
	echo "$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')" >"$tmp/$1.server"
	echo "$_port" >"$tmp/$1.port"
}

# start_lighttpd NAME RESPONDER DB SYNC [ARGS]: lighttpd mod_fastcgi,
# starting two RESPONDER processes itself (max-procs 2), ARGS after
# RESPONDER in bin-path (lighttpd splits it into words); the port in
# NAME.port.
start_lighttpd() {
	_d=$tmp/$1
	mkdir -p "$_d" || return 1
	_port=$(bench_port)
	bench_lighttpd_render "$_d" "$_port" "$2${5:+ $5}" "$3" "$4" "$MAP" &&
	    bench_lighttpd_up "$_d" "$_port" 2 || return 1
	# shellcheck disable=SC2154 # set by bench_lighttpd_up (bench/lib.sh)
	echo "$bench_lighttpd_children" >"$tmp/$1.responders"
	# shellcheck disable=SC2154 # the same
	echo "$bench_lighttpd_pid" >"$tmp/$1.server"
	echo "$_port" >"$tmp/$1.port"
}

# start_cgi NAME PROGRAM DB: lighttpd with mod_cgi, PROGRAM run for every
# request under /oauth (SCRIPT_NAME /oauth, the rest as PATH_INFO), as
# the shipped FastCGI configuration maps it; the port in NAME.port.
start_cgi() {
	_d=$tmp/$1
	mkdir -p "$_d/htdocs" || return 1
	_port=$(bench_port)
	cat >"$_d/lighttpd.conf" <<EOF
server.modules = ( "mod_alias", "mod_setenv", "mod_cgi" )
server.bind = "127.0.0.1"
server.port = $_port
server.pid-file = "$_d/lighttpd.pid"
server.errorlog = "$_d/error.log"
server.document-root = "$_d/htdocs"
alias.url = ( "/oauth" => "$2" )
cgi.assign = ( "" => "" )
setenv.add-environment = ( "OAUTH_DB" => "$3", "OAUTH_DB_SYNC" => "none",
    "OAUTH_MAP_SIZE" => "$MAP" )
EOF
	bench_lighttpd_up "$_d" "$_port" || return 1
	echo "$_port" >"$tmp/$1.port"
}

# start_oidc_provider NAME: bench/oidc-provider's server on a free port
# (its dependencies installed with npm ci first when missing), the port in
# NAME.port; 1, having said why, when node, npm or the install is missing.
start_oidc_provider() {
	_op=$PWD/bench/oidc-provider
	have node && have npm || {
		echo "bench/limit.sh: skipping oidc-provider: node or npm is not installed"
		return 1
	}
	if [ ! -d "$_op/node_modules/oidc-provider" ] &&
	    ! timeout 300 npm ci --prefix "$_op" --no-audit --no-fund \
	    >"$tmp/npm.log" 2>&1; then
		echo "bench/limit.sh: skipping oidc-provider: npm ci failed:"
		tail -n 5 "$tmp/npm.log"
		return 1
	fi
	_port=$(bench_port)
	BENCH_SECRET=$BENCH_SECRET node "$_op/server.js" "$_port" \
	    >"$tmp/$1.log" 2>&1 </dev/null &
	bench_pids="$bench_pids $!"
	bench_wait_http "http://127.0.0.1:$_port/.well-known/openid-configuration" || {
		echo "bench/limit.sh: skipping oidc-provider: it did not start:"
		tail -n 5 "$tmp/$1.log"
		return 1
	}
	echo "$_port" >"$tmp/$1.port"
}

# ---- Loads -----------------------------------------------------------------

results=$tmp/results
: >"$results"

# load SERVER CONNS WHAT REP PORT PATH BODY: one wrk -t1 load of
# BENCH_SECONDS; appends "SERVER|CONNS|WHAT|REP|requests/s|non-2xx|errors"
# and the CPU time a request ("|user|system|web server", microseconds; "-"
# where the responders cannot be counted) to the results.
load() {
	_out=$tmp/wrk.$1.$2.$3.$4
	# The configuration whose port this is, for the CPU time its
	# responders and its web server spend (a CGI one's responders are
	# gone before they could be counted, oidc-provider is its own).
	_cfg=$(grep -lx "$5" "$tmp"/*.port 2>/dev/null | head -n 1)
	_cfg=${_cfg%.port}
	_rpids=$(cat "$_cfg.responders" 2>/dev/null)
	_spids=$(cat "$_cfg.server" 2>/dev/null)
	# shellcheck disable=SC2086 # lists of process ids
	_r0=$(bench_cpu_split $_rpids) _s0=$(bench_cpu_split $_spids)
	BENCH_BODY=$7 BENCH_AUTH=$BENCH_AUTH timeout --foreground $((SECS + 30)) \
	    wrk -t1 -c"$2" -d"${SECS}s" --timeout 5s -s bench/wrk_post.lua \
	    "http://127.0.0.1:$5/oauth$6" >"$_out" 2>&1
	# shellcheck disable=SC2086 # lists of process ids
	_r1=$(bench_cpu_split $_rpids) _s1=$(bench_cpu_split $_spids)
	_n=$(awk '/requests in/ { print $1 }' "$_out")
	# Microseconds a request: the responders' user and system time, and
	# the web server's user and system time together.
	_cpu=$(echo "$_r0 $_r1 $_s0 $_s1" | awk -v n="${_n:-0}" -v hz="$HZ" \
	    -v has="${_rpids:+1}" '{
		if (has != 1 || n <= 0) { print "-|-|-"; exit }
		f = 1e6 / hz / n
		printf "%.1f|%.1f|%.1f\n", ($3 - $1) * f, ($4 - $2) * f,
		    ($7 + $8 - $5 - $6) * f }')
	_f=$(bench_figures "$_out" | tr -d ' ')
	echo "$1|$2|$3|$4|$_f|$_cpu" | awk -F'|' '{ print $1 "|" $2 "|" $3 "|" $4 "|" $5 "|" $7 "|" $8 "|" $9 "|" $10 "|" $11 }' \
	    >>"$results"
	echo "$_f|$_cpu" | awk -F'|' -v s="$1" -v c="$2" -v w="$3" -v r="$4" '{
	    printf "%-9s c=%-3s %-12s rep %s: %s requests/s, mean latency %s, non-2xx %s, socket errors %s, CPU us a request: responders %s user + %s system, web server %s\n",
		s, c, w, r, $1, $2, $3, $4, $5, $6, $7 }'
}

# probe PORT PATH BODY PATTERN: one request answers 200 with PATTERN in
# its body, so that every load measures the work it is meant to.
probe() {
	_b=$(curl -s --max-time 10 -u "bench:$BENCH_SECRET" -d "$3" \
	    "http://127.0.0.1:$1/oauth$2") && echo "$_b" | grep -q "$4" || {
		echo "bench/limit.sh: POST /oauth$2 on port $1 answered: $_b" >&2
		return 1
	}
}

port_of() {
	cat "$tmp/$1.port"
}

# ---- Instructions ------------------------------------------------------------

# cg_total FILE: the instructions a callgrind output file counted.
cg_total() {
	sed -n 's/^summary: //p; s/^totals: //p' "$1" | head -n 1
}

# cg_fcgi WHAT RESPONDER PATH BODY: the responder under callgrind as the one
# child spawn-fcgi starts behind the nginx of cg_port, serving 1 and then
# N+1 requests; prints the difference divided by N.
cg_fcgi() {
	for _n in 1 $((CG_N + 1)); do
		rm -f "$tmp/cg/fcgi.sock"
		OAUTH_DB=$tmp/db-cg OAUTH_DB_SYNC=none OAUTH_SANDBOX=0 \
		    spawn-fcgi -n -s "$tmp/cg/fcgi.sock" -M 0660 -- \
		    "$(command -v valgrind)" --tool=callgrind \
		    --callgrind-out-file="$tmp/cg.$1.$_n" "$2" \
		    >"$tmp/cg.$1.$_n.log" 2>&1 </dev/null &
		_vg=$!
		bench_pids="$bench_pids $_vg"
		spawn_wait "$tmp/cg/fcgi.sock" || return 1
		_bad=$(bench_requests "$cg_port" "$3" "$4" "$_n")
		bench_stop_all "$_vg"
		[ "$_bad" = 0 ] || {
			echo "bench/limit.sh: $1 under callgrind: $_bad of $_n not 200" >&2
			return 1
		}
	done
	_a=$(cg_total "$tmp/cg.$1.1")
	_b=$(cg_total "$tmp/cg.$1.$((CG_N + 1))")
	[ -n "$_a" ] && [ -n "$_b" ] || return 1
	echo $(((_b - _a) / CG_N))
}

# cg_where yes|no FILE1 FILEN: the functions of most instructions per
# request, inclusive of their callees (yes) or self (no), each function's
# count in FILEN less that in FILE1, divided by BENCH_LIMIT_CG: the
# start-up, the same in both, cancels out.
cg_where() {
	_inc=$1
	shift
	for _f in "$1" "$2"; do
		callgrind_annotate --inclusive="$_inc" --auto=no --threshold=100 \
		    --show-percs=no "$_f" 2>/dev/null | sed "s|^|$_f |"
	done | awk -v a="$1" -v n="$CG_N" -v inc="$_inc" '
	$2 ~ /^[0-9,]+$/ && NF >= 3 {
		c = $2; gsub(",", "", c)
		f = $0; sub(/^[^ ]+ +[0-9,]+ +/, "", f)
		l = ""
		if (match(f, / \[[^]]*\]$/)) {
			l = substr(f, RSTART + 2, RLENGTH - 3)
			f = substr(f, 1, RSTART - 1)
			sub(/^.*\//, "", l)
			l = " (" l ")"
		}
		sub(/^.*\//, "", f)
		if (f == "PROGRAM TOTALS" || f ~ /below main|__libc_start|:main$/)
			next
		if ($1 == a) x[f l] -= c; else x[f l] += c
		base[f l] = f
	}
	END {
		# An inclusive count listed twice (with and without its
		# object) is one function: the larger; self counts are
		# distinct.
		for (k in x) {
			b = (inc == "yes") ? base[k] : k
			if (!(b in best) || x[k] > best[b] ||
			    (x[k] == best[b] && length(k) > length(name[b]))) {
				best[b] = x[k]
				name[b] = k
			}
		}
		for (b in best)
			if (best[b] >= n)
				printf "%d %s\n", best[b] / n, name[b]
	}' | sort -rn | awk '$0 !~ /^[0-9]+ [?]+:0x[0-9a-f]+ [(]ld-linux/' | head -n 20
}

# cg_cgi WHAT PROGRAM PATH BODY: the instructions of one whole CGI process.
# The sandbox is off (OAUTH_SANDBOX=0): valgrind does not know the seccomp
# system call, so libseccomp's set-up of the filter is not counted.
cg_cgi() {
	printf '%s' "$4" | REQUEST_METHOD=POST PATH_INFO="$3" SCRIPT_NAME=/oauth \
	    CONTENT_TYPE=application/x-www-form-urlencoded \
	    CONTENT_LENGTH=${#4} HTTP_AUTHORIZATION="Basic $BENCH_AUTH" \
	    HTTP_HOST=127.0.0.1 GATEWAY_INTERFACE=CGI/1.1 OAUTH_SANDBOX=0 \
	    OAUTH_DB="$tmp/db-cgi" OAUTH_DB_SYNC=none timeout 120 \
	    valgrind --tool=callgrind --callgrind-out-file="$tmp/cgi.$1.cg" \
	    "$2" >"$tmp/cgi.$1.out" 2>"$tmp/cgi.$1.log" || return 1
	grep -q '^Status: 200' "$tmp/cgi.$1.out" || return 1
	cg_total "$tmp/cgi.$1.cg"
}

# ---- The run -------------------------------------------------------------------

start_date=$(date -u '+%Y-%m-%d %H:%M UTC')
start_s=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== against the limit of the stack: $(nproc) cores, load average $load_start, $start_date"
echo "== wrk -t1, ${SECS}s each, connections $CONNS, $REPS repetitions"

token=$(bench_fcgi_db "$tmp/db-none") &&
    bench_fcgi_db "$tmp/db-full" >/dev/null &&
    bench_fcgi_db "$tmp/db-tnone" >/dev/null &&
    bench_fcgi_db "$tmp/db-tfull" >/dev/null || {
	echo "bench/limit.sh: no token from oauth.fcgi" >&2
	exit 1
}
INTRO="token=$token"
GRANT=grant_type=client_credentials

# Every server stays up for the whole run: idle, it costs nothing, and
# each load then meets the same processes in each repetition.
for srv in $servers; do
	for inst in hello:"$HELLO":"$tmp/db-none":none: \
	    hclose:"$HELLO":"$tmp/db-none":none:--plain-close \
	    none:"$FCGI":"$tmp/db-none":none: full:"$FCGI":"$tmp/db-full":full: \
	    tnone:"$FCGI":"$tmp/db-tnone":none:"--threads $THREADS" \
	    tfull:"$FCGI":"$tmp/db-tfull":full:"--threads $THREADS"; do
		IFS=: read -r name prog db sync args <<EOF
$inst
EOF
		"start_$srv" "$srv-$name" "$prog" "$db" "$sync" "$args" || {
			echo "bench/limit.sh: $srv with $name did not start" >&2
			exit 1
		}
	done
done

peer=
if start_oidc_provider oidc-provider &&
    probe "$(port_of oidc-provider)" /token "$GRANT" access_token; then
	peer=oidc-provider
fi

for srv in $servers; do
	probe "$(port_of "$srv-hello")" /introspect "$INTRO" '"active":false' &&
	    probe "$(port_of "$srv-hclose")" /introspect "$INTRO" \
	    '"active":false' &&
	    probe "$(port_of "$srv-none")" /introspect "$INTRO" \
	    '"active":true' &&
	    probe "$(port_of "$srv-none")" /token "$GRANT" access_token &&
	    probe "$(port_of "$srv-full")" /token "$GRANT" access_token &&
	    probe "$(port_of "$srv-tnone")" /token "$GRANT" access_token &&
	    probe "$(port_of "$srv-tfull")" /token "$GRANT" access_token ||
	    exit 1
done

# The loads of one repetition, in one order in odd repetitions and in the
# reverse order in even ones, so that a drift of the machine's load does
# not always favour the same side.
rep=1
while [ "$rep" -le "$REPS" ]; do
	for srv in $servers; do
		for c in $CONNS; do
			order="hello hclose intro token-none token-full"
			order="$order token-tnone token-tfull"
			[ $((rep % 2)) -eq 0 ] &&
			    order="token-tfull token-tnone token-full token-none intro hclose hello"
			for what in $order; do
				case $what in
				hello)	load "$srv" "$c" hello "$rep" \
					    "$(port_of "$srv-hello")" \
					    /introspect "$INTRO" ;;
				hclose)	load "$srv" "$c" hello-close "$rep" \
					    "$(port_of "$srv-hclose")" \
					    /introspect "$INTRO" ;;
				intro)	load "$srv" "$c" introspect "$rep" \
					    "$(port_of "$srv-none")" \
					    /introspect "$INTRO" ;;
				token-none)
					load "$srv" "$c" token-none "$rep" \
					    "$(port_of "$srv-none")" /token \
					    "$GRANT" ;;
				token-full)
					load "$srv" "$c" token-full "$rep" \
					    "$(port_of "$srv-full")" /token \
					    "$GRANT" ;;
				token-tnone | token-tfull)
					load "$srv" "$c" "$what" "$rep" \
					    "$(port_of "$srv-${what#token-}")" \
					    /token "$GRANT" ;;
				esac
			done
		done
	done
	for c in $CONNS; do
		[ -n "$peer" ] && load peer "$c" oidc-provider "$rep" \
		    "$(port_of oidc-provider)" /token "$GRANT"
	done
	rep=$((rep + 1))
done
# shellcheck disable=SC2086 # a list of process ids
bench_stop_all $bench_pids

# CGI through lighttpd mod_cgi, at the first of the connection counts.
cgi_c=$(echo "$CONNS" | awk '{ print $1 }')
if echo "$servers" | grep -q lighttpd; then
	bench_fcgi_db "$tmp/db-cgi" >"$tmp/cgi.token" || exit 1
	start_cgi cgi-hello "$HELLO" "$tmp/db-cgi" &&
	    start_cgi cgi-fcgi "$FCGI" "$tmp/db-cgi" || exit 1
	CGI_INTRO="token=$(cat "$tmp/cgi.token")"
	probe "$(port_of cgi-hello)" /introspect "$CGI_INTRO" \
	    '"active":false' &&
	    probe "$(port_of cgi-fcgi)" /introspect "$CGI_INTRO" \
	    '"active":true' || exit 1
	rep=1
	while [ "$rep" -le "$REPS" ]; do
		order="hello introspect"
		[ $((rep % 2)) -eq 0 ] && order="introspect hello"
		for what in $order; do
			case $what in
			hello) p=$(port_of cgi-hello) ;;
			*) p=$(port_of cgi-fcgi) ;;
			esac
			load cgi "$cgi_c" "$what" "$rep" "$p" /introspect \
			    "$CGI_INTRO"
		done
		rep=$((rep + 1))
	done
	# shellcheck disable=SC2086 # a list of process ids
	bench_stop_all $bench_pids
fi

# Instructions: behind nginx, and per CGI process.
cg=$tmp/cg.table
: >"$cg"
if have valgrind; then
	echo "== instructions per request (callgrind, one responder behind nginx, $((CG_N + 1)) requests less 1, / $CG_N)"
	if echo "$servers" | grep -q nginx; then
		mkdir -p "$tmp/cg" && : >"$tmp/cg/htpasswd"
		token=$(bench_fcgi_db "$tmp/db-cg") || exit 1
		cg_port=$(bench_port)
		nginx_render "$tmp/cg" "$cg_port" "$tmp/cg/fcgi.sock" &&
		    nginx_up "$tmp/cg" "$cg_port" || exit 1
		for what in "hello:$HELLO:/introspect:token=$token" \
		    "introspect:$FCGI:/introspect:token=$token" \
		    token:"$FCGI":/token:"$GRANT"; do
			IFS=: read -r name prog path body <<EOF
$what
EOF
			n=$(cg_fcgi "$name" "$prog" "$path" "$body") || {
				echo "bench/limit.sh: callgrind of $name failed (see $tmp/cg.$name.*.log)" >&2
				exit 1
			}
			echo "$name: $n instructions per request"
			echo "fcgi|$name|$n" >>"$cg"
		done
		# shellcheck disable=SC2086 # a list of process ids
		bench_stop_all $bench_pids
		if have callgrind_annotate; then
			for inc in no yes; do
				echo "-- introspection behind nginx, where the instructions of a request go ($([ $inc = no ] && echo self || echo inclusive), per request: the two counts' difference / $CG_N):"
				cg_where "$inc" "$tmp/cg.introspect.1" \
				    "$tmp/cg.introspect.$((CG_N + 1))"
			done
		fi
	fi
	echo "== instructions per CGI process (callgrind, the whole process)"
	[ -s "$tmp/cgi.token" ] || bench_fcgi_db "$tmp/db-cgi" >"$tmp/cgi.token"
	for what in hello:"$HELLO" introspect:"$FCGI"; do
		n=$(cg_cgi "${what%%:*}" "${what#*:}" /introspect \
		    "token=$(cat "$tmp/cgi.token")") || {
			echo "bench/limit.sh: callgrind of CGI ${what%%:*} failed" >&2
			exit 1
		}
		echo "${what%%:*}: $n instructions per process"
		echo "cgi|${what%%:*}|$n" >>"$cg"
	done
fi

# callgrind hides the CPU's SHA extensions, so its counts of the digests
# are no guide to their speed: the digest of a request, timed natively.
if [ -x "$BUILD/bench/sha256_speed" ]; then
	echo "== SHA-256 natively (bench/sha256_speed)"
	"$BUILD/bench/sha256_speed"
fi

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== load average at the end: $load_end, after $(( $(date +%s) - start_s )) s"

# ---- The summary ---------------------------------------------------------------

# ratio SERVER CONNS WHAT [REFERENCE]: "median (rep 1, rep 2, ...)" of
# WHAT's requests/s over REFERENCE's (hello, or hello-close), repetitions
# in the order they ran.
ratio() {
	awk -F'|' -v s="$1" -v c="$2" -v w="$3" -v ref="${4:-hello}" '
	$1 == s && $2 == c && $3 == ref { h[$4] = $5 }
	$1 == s && $2 == c && $3 == w { x[$4] = $5; if ($4 > n) n = $4 }
	END {
		for (i = 1; i <= n; i++) {
			r[i] = (h[i] > 0) ? x[i] / h[i] : 0
			l = l (i > 1 ? ", " : "") sprintf("%.2f", r[i])
			v[i] = r[i]
		}
		for (i = 1; i <= n; i++)
			for (j = i + 1; j <= n; j++)
				if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		if (n > 0)
			printf "%.2f (%s)", m, l
	}' "$results"
}

# median SERVER CONNS WHAT FIELD FORMAT: the median of FIELD of WHAT's
# loads (5 requests/s; the CPU time a request in microseconds of the
# responders in user space 8, in the kernel 9, of the web server 10),
# printed with FORMAT; loads without the figure ("-") left out.
median() {
	awk -F'|' -v s="$1" -v c="$2" -v w="$3" -v f="$4" -v fmt="$5" '
	$1 == s && $2 == c && $3 == w && $f != "-" { v[++n] = $f }
	END {
		for (i = 1; i <= n; i++)
			for (j = i + 1; j <= n; j++)
				if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		if (n > 0)
			printf fmt, (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}' "$results"
}

# rate SERVER CONNS WHAT: the median requests/s of WHAT.
rate() {
	median "$1" "$2" "$3" 5 "%.0f"
}

# cpu SERVER CONNS WHAT FIELD: the median CPU time a request of FIELD.
cpu() {
	median "$1" "$2" "$3" "$4" "%.1f"
}

# label WHAT, server_name SERVER: how the tables name them.
label() {
	case $1 in
	hello-close) echo "hello-world, \`--plain-close\`" ;;
	introspect) echo "introspection" ;;
	token-none) echo "token, \`OAUTH_DB_SYNC=none\`" ;;
	token-full) echo "token, \`OAUTH_DB_SYNC=full\`" ;;
	token-tnone) echo "token, \`OAUTH_DB_SYNC=none\`, \`--threads $THREADS\`" ;;
	token-tfull) echo "token, \`OAUTH_DB_SYNC=full\`, \`--threads $THREADS\`" ;;
	esac
}

server_name() {
	case $1 in
	nginx) echo "nginx + spawn-fcgi" ;;
	*) echo "lighttpd mod_fastcgi" ;;
	esac
}

cgval() {
	awk -F'|' -v k="$1" -v w="$2" '$1 == k && $2 == w { print $3 }' "$cg"
}

bad=$(awk -F'|' '$6 + $7 > 0' "$results" | wc -l)
echo
echo "fcgi-oauth at ${BENCH_LIMIT_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo '?')}, $(nproc) cores, load average $load_start at the start, $load_end at the end; wrk -t1, ${SECS}s per load, $REPS repetitions."
echo "Ratio: a configuration's requests/s over the hello-world's of the same repetition (libfcgi's close; then the one closing as fcgi-oauth does, --plain-close; the first row is that hello-world's own against libfcgi's); the median, then each repetition in the order they ran. The last column: the median requests/s of the configuration, then of the hello-world, then of the hello-world with --plain-close."
echo
echo "| what | server | connections | ratio to hello-world | ratio to hello-world, \`--plain-close\` | requests/s |"
echo "|---|---|---|---|---|---|"
for what in hello-close introspect token-none token-full token-tnone token-tfull; do
	for srv in $servers; do
		for c in $CONNS; do
			if [ "$what" = hello-close ]; then
				vs_close="–"
			else
				vs_close=$(ratio "$srv" "$c" "$what" hello-close)
			fi
			echo "| $(label "$what") | $(server_name "$srv") | $c | $(ratio "$srv" "$c" "$what") | $vs_close | $(rate "$srv" "$c" "$what") / $(rate "$srv" "$c" hello) / $(rate "$srv" "$c" hello-close) |"
		done
	done
done
if [ -n "$peer" ]; then
	for c in $CONNS; do
		echo "| token, node oidc-provider $(node -p 'require(process.argv[1]).version' "$PWD/bench/oidc-provider/node_modules/oidc-provider/package.json" 2>/dev/null), in memory | none (node itself) | $c | – | – | $(rate peer "$c" oidc-provider) |"
	done
fi
if [ -s "$results" ] && grep -q '^cgi|' "$results"; then
	echo "| introspection, CGI | lighttpd mod_cgi | $cgi_c | $(ratio cgi "$cgi_c" introspect) | – | $(rate cgi "$cgi_c" introspect) / $(rate cgi "$cgi_c" hello) |"
fi
if awk -F'|' '$8 != "-" && $8 != ""' "$results" | grep -q .; then
	echo
	echo "CPU time a request (from /proc/PID/stat over each load), microseconds, medians: the configuration's / the libfcgi hello-world's."
	echo
	echo "| what | server | connections | the two responders, user | the two responders, system | the web server, user and system |"
	echo "|---|---|---|---|---|---|"
	for what in hello-close introspect token-none token-tnone; do
		for srv in $servers; do
			for c in $CONNS; do
				echo "| $(label "$what") | $(server_name "$srv") | $c | $(cpu "$srv" "$c" "$what" 8) / $(cpu "$srv" "$c" hello 8) | $(cpu "$srv" "$c" "$what" 9) / $(cpu "$srv" "$c" hello 9) | $(cpu "$srv" "$c" "$what" 10) / $(cpu "$srv" "$c" hello 10) |"
			done
		done
	done
fi
if [ -s "$cg" ]; then
	echo
	echo "| instructions (callgrind) | hello-world | introspection | token (\`none\`) |"
	echo "|---|---|---|---|"
	[ -n "$(cgval fcgi hello)" ] &&
	    echo "| per request, the responder behind nginx | $(cgval fcgi hello) | $(cgval fcgi introspect) | $(cgval fcgi token) |"
	echo "| per CGI process, the whole process | $(cgval cgi hello) | $(cgval cgi introspect) | – |"
fi
echo
echo "loads with a non-2xx answer or a socket error: $bad"
[ "$bad" -eq 0 ]
