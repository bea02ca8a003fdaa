# Shared by the tests/web scripts that run fcgi-oauth under a real web
# server with a configuration shipped in etc/.  POSIX sh; source it from the
# top of the source tree:
#
#	cd "$(dirname "$0")/../.." || exit 1
#	WS_NAME=test_x
#	. tests/web/lib_server.sh
#
# It offers: result lines ("ok - ...", "not ok - ...", a closing "N passed,
# M failed", "skipped: reason" when a package is missing), a temp dir
# removed on exit, free loopback ports, bounded waits for a port or a
# socket, bounded stops, the rendering of an etc/ template and a web
# server (apache2, nginx, lighttpd) started on it, a database with test
# clients, and the end-to-end OAuth cases every server must pass.
#
# Environment: FCGI, OAUTHCTL (binaries, default build/), LOG_DIR (where
# the server logs of a failed run are kept, default build/test-logs/web),
# WS_KEEP=1 keeps the temp dir, OAUTH_TEST_BACKEND=postgresql makes WS_DB
# the URI of a new PostgreSQL database (tests/lib_backend.sh: on the
# server of OAUTH_TEST_PG, or a private one in the temp dir) instead of an
# LMDB directory; a suite that needs no database directly is unchanged.
#
# Run as root (as here and in CI), the web servers drop to www-data as
# Debian's do, so everything they touch belongs to www-data: the database
# is made by oauthctl run as www-data, the run dir is chowned to it, and
# the binaries are copied into the temp dir so that www-data can execute
# them wherever the tree is checked out.  Run as another user, everything
# is that user's and the servers' User lines are ignored.

FCGI=${FCGI:-build/oauth.fcgi}
OAUTHCTL=${OAUTHCTL:-build/oauthctl}
LOG_DIR=${LOG_DIR:-build/test-logs/web}
WS_NAME=${WS_NAME:-web}

. tests/lib_backend.sh

WS_START_TIMEOUT=15	# seconds for a server to answer
WS_STOP_TIMEOUT=5	# seconds for a process to exit after SIGTERM
WS_CURL_TIMEOUT=10	# seconds for one HTTP exchange
WS_PORT_TRIES=20	# ports tried before giving up

# Client secrets of the test database (oauthctl wants at least 32 chars).
WS_SVC_SECRET=svc-secret-0123456789abcdefghijklmnop
WS_RS_SECRET=rs-secret-0123456789abcdefghijklmnopq
WS_APP_SECRET=app-secret-0123456789abcdefghijklmnop
WS_RP_SECRET=rp-secret-0123456789abcdefghijklmnopq
WS_USER_NAME=alice
WS_USER_PASS=wonderland-pass
WS_REDIRECT=http://127.0.0.1:9/cb

# Debian's python3 when there is one: a version manager's shim in PATH
# costs a tenth of a second a call, and ws_json is called often.
WS_PYTHON=python3
[ -x /usr/bin/python3 ] && WS_PYTHON=/usr/bin/python3

ws_passed=0
ws_failed=0
ws_pids=
ws_tmp=
ws_worker=
ws_runas=
if [ "$(id -u)" -eq 0 ]; then
	ws_worker=www-data
	# A command prefix, used unquoted (none of its words has a space).
	ws_runas="setpriv --reuid=$ws_worker --regid=$ws_worker --clear-groups --"
fi

ws_ok() {
	ws_passed=$((ws_passed + 1))
	echo "ok - $*"
}

ws_notok() {
	ws_failed=$((ws_failed + 1))
	echo "not ok - $*"
}

# ws_check DESC CMD...: one result line for whether CMD succeeds.
ws_check() {
	_desc=$1
	shift
	if "$@"; then
		ws_ok "$_desc"
	else
		ws_notok "$_desc"
	fi
}

# A prerequisite is missing: say so visibly and count nothing.
ws_skip() {
	echo "skipped: $*"
	echo "0 passed, 0 failed"
	exit 0
}

# ws_need_cmd CMD PACKAGE: skip unless CMD is installed (sbin included).
ws_need_cmd() {
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] ||
	    ws_skip "$1 not installed (apt-get install $2)"
}

# ws_need_file PATH PACKAGE
ws_need_file() {
	[ -e "$1" ] || ws_skip "$1 missing (apt-get install $2)"
}

# What every script uses: curl for HTTP, python3 for JSON and PKCE, ss
# to see a FastCGI port listen.
ws_need_common() {
	ws_need_cmd curl curl
	ws_need_cmd "$WS_PYTHON" python3
	ws_need_cmd ss iproute2
	ws_need_cmd setsid util-linux
	[ -z "$ws_worker" ] || ws_need_cmd setpriv util-linux
}

# The binaries are the project's own: missing is a failure, not a skip.
ws_need_build() {
	for _b in "$FCGI" "$OAUTHCTL"; do
		if [ ! -x "$_b" ]; then
			ws_notok "$_b is built (run make first)"
			ws_finish
		fi
	done
}

# The closing line; on failure the server logs are kept under LOG_DIR.
ws_finish() {
	if [ "$ws_failed" -gt 0 ] && [ -n "$ws_tmp" ] && [ -d "$ws_tmp/run" ]
	then
		mkdir -p "$LOG_DIR/$WS_NAME" 2>/dev/null &&
		for _f in $(find "$ws_tmp/run" -maxdepth 2 -type f \
		    \( -name '*.log' -o -name '*.out' \)); do
			_r=${_f#"$ws_tmp/run/"}
			cp "$_f" "$LOG_DIR/$WS_NAME/$(echo "$_r" | tr / -)"
		done 2>/dev/null &&
		    echo "# server logs kept in $LOG_DIR/$WS_NAME"
	fi
	echo "$ws_passed passed, $ws_failed failed"
	[ "$ws_failed" -eq 0 ]
	exit
}

# ws_quiet CMD...: run CMD, showing its output only when it fails.
ws_quiet() {
	"$@" >"$ws_tmp/quiet.out" 2>&1 && return 0
	_rc=$?
	sed 's/^/#   /' "$ws_tmp/quiet.out"
	return $_rc
}

# Run a command as the user the servers' workers run as.
ws_as_worker() {
	# shellcheck disable=SC2086
	$ws_runas "$@"
}

ws_ctl() {
	ws_as_worker "$WS_BIN/oauthctl" --db "$WS_DB" "$@"
}

# The temp dir and the paths of the placeholders (etc/README.md).
ws_init() {
	ws_tmp=$(mktemp -d "${TMPDIR:-/tmp}/$WS_NAME.XXXXXX") || exit 1
	trap ws_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	chmod 0755 "$ws_tmp"
	# Laid out as systemd would for etc/systemd/oauth-fcgi.service:
	# WS_STATE for %S (/var/lib), WS_RT for %t (/run).
	WS_RUN=$ws_tmp/run
	WS_STATE=$ws_tmp/lib
	WS_DB=$WS_STATE/oauth-fcgi
	WS_RT=$WS_RUN/rt
	WS_SOCKET=$WS_RT/oauth-fcgi/oauth.sock
	WS_BIN=$ws_tmp/bin
	WS_HTPASSWD=$ws_tmp/htpasswd
	mkdir -p "$WS_RUN" "$WS_DB" "$WS_RT/oauth-fcgi" "$WS_BIN"
	# oauth-jose.so beside the program, where it looks for it first.
	cp "$FCGI" "$WS_BIN/oauth.fcgi" && cp "$OAUTHCTL" "$WS_BIN/oauthctl" &&
	    cp "$(dirname "$FCGI")/oauth-jose.so" "$WS_BIN/" || exit 1
	chmod 0700 "$WS_DB"
	chmod 0750 "$WS_RT/oauth-fcgi"
	[ -n "$ws_worker" ] &&
	    chown "$ws_worker:" "$WS_RUN" "$WS_DB" "$WS_RT/oauth-fcgi"
	backend_start "$ws_tmp" || ws_skip "$backend_why"
	if [ "$BACKEND" = postgresql ]; then
		WS_DB=$(backend_newdb oauth "$WS_STATE") ||
		    { ws_notok "a PostgreSQL database"; ws_finish; }
		echo "# database: $WS_DB"
	fi
	WS_PORT=$(ws_free_port) || { ws_notok "a free port"; ws_finish; }
}

ws_cleanup() {
	for _p in $ws_pids; do
		ws_stop "$_p"
	done
	ws_pids=
	ws_kill_strays >/dev/null
	backend_stop
	if [ -n "$ws_tmp" ] && [ "${WS_KEEP:-0}" != 1 ]; then
		rm -rf "$ws_tmp"
	fi
}

# A free TCP port on 127.0.0.1, not WS_PORT: the kernel's pick, or random
# ones that nothing listens on.
ws_free_port() {
	_i=0
	while [ $_i -lt $WS_PORT_TRIES ]; do
		_i=$((_i + 1))
		_p=$("$WS_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null) ||
		    _p=$(( $(od -An -N2 -tu2 /dev/urandom) % 20000 + 30000 ))
		[ "$_p" != "${WS_PORT:-}" ] || continue
		if [ -z "$(ss -Htln "sport = :$_p" 2>/dev/null)" ]; then
			echo "$_p"
			return 0
		fi
	done
	return 1
}

# ws_start NAME CMD...: run CMD in the background, output in
# run/NAME.out; its pid in ws_pid, and stopped at exit.  It gets a session
# of its own: a foreground apache2 with the prefork MPM signals its whole
# process group when it stops, which would otherwise include this script.
# (A background child of a non-interactive shell leads no group, so
# setsid execs in place and ws_pid is the server's pid.)
ws_start() {
	_name=$1
	shift
	setsid "$@" >"$WS_RUN/$_name.out" 2>&1 </dev/null &
	ws_pid=$!
	ws_pids="$ws_pid $ws_pids"
}

# ws_stop PID: SIGTERM, then SIGKILL after WS_STOP_TIMEOUT seconds.
# Returns 1 when SIGKILL was needed.
ws_stop() {
	kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
	kill -TERM "$1" 2>/dev/null
	_i=0
	while kill -0 "$1" 2>/dev/null && ws_alive "$1" &&
	    [ $_i -lt $((WS_STOP_TIMEOUT * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	_rc=0
	if ws_alive "$1"; then
		kill -KILL "$1" 2>/dev/null
		_rc=1
	fi
	wait "$1" 2>/dev/null
	return $_rc
}

# Whether PID runs (a zombie awaiting wait does not).
ws_alive() {
	[ -d "/proc/$1" ] && ! grep -q ') Z ' "/proc/$1/stat" 2>/dev/null
}

# The pids of live oauth.fcgi processes started from this test's copy of
# the binary (the path is unique to the run, so no other process matches).
ws_responders() {
	for _d in /proc/[0-9]*; do
		[ "$(readlink "$_d/exe" 2>/dev/null)" = "$WS_BIN/oauth.fcgi" ] &&
		    ws_alive "${_d#/proc/}" && echo "${_d#/proc/}"
	done
}

# Kill, by pid, responders of this run that outlived their server; print
# how many there were.
ws_kill_strays() {
	[ -n "$ws_tmp" ] || { echo 0; return; }
	_n=0
	for _p in $(ws_responders); do
		kill -KILL "$_p" 2>/dev/null
		_n=$((_n + 1))
	done
	echo $_n
}

# ws_stop_server PID DESC [PID DESC]... [-- WHAT]: stop each in turn,
# one result line each, then check that no responder outlives WHAT (the
# last DESC by default) for more than WS_STOP_TIMEOUT seconds.
ws_stop_server() {
	_what=
	while [ $# -gt 0 ]; do
		if [ "$1" = -- ]; then
			_what=$2
			break
		fi
		ws_check "$2 stops on SIGTERM" ws_stop "$1"
		_what=$2
		shift 2
	done
	ws_check_strays "$_what"
}

# ws_check_strays DESC: no responder of this run is left, within
# WS_STOP_TIMEOUT seconds.
ws_check_strays() {
	_i=0
	while [ -n "$(ws_responders)" ] && [ $_i -lt $((WS_STOP_TIMEOUT * 10)) ]
	do
		sleep 0.1
		_i=$((_i + 1))
	done
	_n=$(ws_kill_strays)
	ws_check "no oauth.fcgi outlives $1 ($_n left)" [ "$_n" -eq 0 ]
}

# ws_wait_http PORT PID: wait until an HTTP server answers on PORT, or PID
# died, or WS_START_TIMEOUT seconds passed.
ws_wait_http() {
	_i=0
	while [ $_i -lt $((WS_START_TIMEOUT * 10)) ]; do
		ws_alive "$2" || return 1
		curl -s --noproxy '*' -o /dev/null --max-time 1 \
		    "http://127.0.0.1:$1/" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# ws_wait_listen PORT|PATH PID: wait until a TCP port or a unix socket
# listens (FastCGI: no HTTP to probe with).
ws_wait_listen() {
	_i=0
	while [ $_i -lt $((WS_START_TIMEOUT * 10)) ]; do
		ws_alive "$2" || return 1
		case $1 in
		/*)	[ -S "$1" ] && return 0 ;;
		*)	[ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ] &&
			    return 0 ;;
		esac
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# ws_render TEMPLATE OUT: replace the placeholders, nothing else; fails if
# one is left unknown.
ws_render() {
	# A PostgreSQL URI has a & that sed would replace by the match.
	_db=$(printf '%s\n' "$WS_DB" | sed 's/[&|\\]/\\&/g')
	sed -e "s|@PORT@|${WS_PORT:-}|g" \
	    -e "s|@RUNDIR@|$WS_RUN|g" \
	    -e "s|@DB@|$_db|g" \
	    -e "s|@BUILD@|$WS_BIN|g" \
	    -e "s|@HTPASSWD@|$WS_HTPASSWD|g" \
	    -e "s|@SOCKET@|$WS_SOCKET|g" \
	    -e "s|@FCGI_PORT@|${WS_FCGI_PORT:-}|g" \
	    -e "s|@INTROSPECT_URL@|${WS_INTROSPECT_URL:-}|g" \
	    -e "s|@RS_ID@|rs|g" \
	    -e "s|@RS_SECRET@|$WS_RS_SECRET|g" \
	    -e "s|@API_DIR@|${WS_API_DIR:-}|g" \
	    -e "s|@OIDC_METADATA_URL@|${WS_OIDC_METADATA_URL:-}|g" \
	    -e "s|@RP_ID@|rp|g" \
	    -e "s|@RP_SECRET@|$WS_RP_SECRET|g" \
	    -e "s|@JWKS_URL@|${WS_JWKS_URL:-}|g" \
	    -e "s|@ISSUER@|${WS_ISSUER:-}|g" \
	    -e "s|@AUDIENCE@|${WS_AUDIENCE:-}|g" \
	    -e "s|@TLS_CERT@|${WS_TLS_CERT:-}|g" \
	    -e "s|@TLS_KEY@|${WS_TLS_KEY:-}|g" \
	    -e "s|@TLS_CA@|${WS_TLS_CA:-}|g" \
	    "$1" >"$2" || return 1
	if grep -n '@[A-Z_]*@' "$2" >&2; then
		echo "# $1: placeholder left unrendered" >&2
		return 1
	fi
}

# The clients the cases use, and the Basic-auth user of /authorize.
#   svc  confidential, client_credentials, scopes read write
#   rs   a resource server: may introspect any token
#   app  confidential, authorization_code + refresh_token
#   pub  public (no secret, PKCE), authorization_code + refresh_token
ws_setup_db() {
	ws_ctl init >/dev/null &&
	ws_ctl client add svc --secret "$WS_SVC_SECRET" --scope "read write" \
	    --grant-types client_credentials >/dev/null &&
	ws_ctl client add rs --secret "$WS_RS_SECRET" --scope "read" \
	    --grant-types client_credentials --introspect >/dev/null &&
	ws_ctl client add app --secret "$WS_APP_SECRET" --scope "read write" \
	    --grant-types authorization_code,refresh_token \
	    --redirect-uri "$WS_REDIRECT" >/dev/null &&
	ws_ctl client add pub --public --scope "read write" \
	    --grant-types authorization_code,refresh_token \
	    --redirect-uri "$WS_REDIRECT" >/dev/null || return 1
	if command -v htpasswd >/dev/null 2>&1; then
		htpasswd -cbB "$WS_HTPASSWD" "$WS_USER_NAME" "$WS_USER_PASS" \
		    2>/dev/null
	else
		printf '%s:%s\n' "$WS_USER_NAME" \
		    "$(openssl passwd -apr1 "$WS_USER_PASS")" >"$WS_HTPASSWD"
	fi || return 1
	chmod 0644 "$WS_HTPASSWD"
}

# ws_unit_start UNIT: start what a rendered systemd unit's ExecStart runs,
# as systemd would but without it (it is not init here): %t and %S
# expanded to WS_RT and WS_STATE, Environment= lines exported, UMask=
# applied, User= replaced by the worker user (the unit's user does not
# exist here).  Nothing of the unit is quoted, so plain word splitting is
# how systemd splits it too.
ws_unit_start() {
	_x=$(sed -n 's/^ExecStart=//p' "$1" |
	    sed "s|%t|$WS_RT|g; s|%S|$WS_STATE|g")
	_e=$(ws_unit_env "$1")
	_u=$(sed -n 's/^UMask=//p' "$1")
	[ -n "$_x" ] || return 1
	_old_umask=$(umask)
	umask "${_u:-0022}"
	# No globbing: a PostgreSQL URI has a "?".
	set -f
	# shellcheck disable=SC2086
	ws_start unit env $_e $ws_runas $_x
	set +f
	umask "$_old_umask"
}

# ws_unit_env UNIT: the unit's Environment= values, %t and %S expanded,
# then what its EnvironmentFile (etc/oauth.conf, read after them) sets
# here: on PostgreSQL, OAUTH_DB, the URI of WS_DB.
ws_unit_env() {
	sed -n 's/^Environment=//p' "$1" |
	    sed "s|%t|$WS_RT|g; s|%S|$WS_STATE|g"
	[ "$BACKEND" = lmdb ] || echo "OAUTH_DB=$WS_DB"
}

# ws_came_up DESC http|listen PORT|PATH LOG...: one result line DESC for
# whether what ws_start just started (ws_pid) comes up: an HTTP server on
# PORT (ws_wait_http), or a FastCGI socket (ws_wait_listen).  When it does
# not, the end of each LOG is shown and 1 returned.
ws_came_up() {
	_desc=$1 _how=$2 _where=$3
	shift 3
	if "ws_wait_$_how" "$_where" "$ws_pid"; then
		ws_ok "$_desc"
		return 0
	fi
	ws_notok "$_desc"
	ws_server_log "$@"
	return 1
}

# ws_serve apache2|nginx|lighttpd TEMPLATE: the web server with the etc/
# TEMPLATE rendered into run/SERVER.conf, checked by the server's own
# syntax test and run in the foreground on WS_PORT, a result line for each
# of the three; 0 once it answers, its pid in ws_pid either way.  (lighttpd
# opens its error log after dropping to www-data, hence the run dir's
# owner.)
ws_serve() {
	_srv=$1 _conf=$WS_RUN/$1.conf
	ws_check "$2 renders" ws_render "$2" "$_conf"
	case $_srv in
	apache2)
		ws_check "apache2 -t accepts it" ws_quiet apache2 -t -f "$_conf"
		ws_start apache2 apache2 -f "$_conf" -DFOREGROUND
		;;
	nginx)
		ws_check "nginx -t accepts it" ws_quiet \
		    nginx -t -q -e "$WS_RUN/error.log" -c "$_conf"
		ws_start nginx nginx -e "$WS_RUN/error.log" -c "$_conf" \
		    -g 'daemon off;'
		;;
	lighttpd)
		ws_check "lighttpd -tt accepts it" ws_quiet \
		    lighttpd -tt -f "$_conf"
		ws_start lighttpd lighttpd -D -f "$_conf"
		;;
	*)
		ws_notok "$_srv is a web server lib_server.sh knows"
		return 1
		;;
	esac
	ws_came_up "$_srv answers on 127.0.0.1:$WS_PORT" http "$WS_PORT" \
	    "$WS_RUN/$_srv.out" "$WS_RUN/error.log"
}

# ---- HTTP ----------------------------------------------------------------

# ws_http URL [CURL ARGS...]: the status in ws_status, the body in
# $ws_tmp/body, the headers in $ws_tmp/headers.  No redirect is followed.
ws_http() {
	_url=$1
	shift
	ws_status=$(curl -sS --noproxy '*' --max-time "$WS_CURL_TIMEOUT" \
	    -o "$ws_tmp/body" -D "$ws_tmp/headers" -w '%{http_code}' \
	    "$@" "$_url" 2>"$ws_tmp/curl.err") || ws_status=000
}

# ws_header NAME: the value of a response header (the last one).
ws_header() {
	tr -d '\r' <"$ws_tmp/headers" |
	    sed -n "s/^$1:[[:space:]]*//Ip" | tail -n 1
}

# ws_json KEY: a top-level member of the JSON body, strings unquoted,
# booleans as true/false; empty when absent; fails if the body is not a
# JSON object.
ws_json() {
	"$WS_PYTHON" -c 'import json, sys
o = json.load(open(sys.argv[1]))
if not isinstance(o, dict):
	sys.exit(1)
v = o.get(sys.argv[2])
if v is None:
	print("")
elif isinstance(v, bool):
	print("true" if v else "false")
else:
	print(v)' "$ws_tmp/body" "$1" 2>/dev/null
}

ws_body() {
	cat "$ws_tmp/body"
}

# ws_expect DESC STATUS [KEY=VALUE...]: one result line: the status and
# each JSON member as given ("KEY=" asks for an absent or empty member,
# "KEY=?" for a present one).  What differed is shown on failure.
ws_expect() {
	_desc=$1 _want=$2
	shift 2
	_bad=
	[ "$ws_status" = "$_want" ] ||
	    _bad="status $ws_status, wanted $_want"
	for _kv in "$@"; do
		_k=${_kv%%=*} _v=${_kv#*=}
		_got=$(ws_json "$_k") || { _bad="$_bad; body is not JSON"; break; }
		if [ "$_v" = "?" ]; then
			[ -n "$_got" ] || _bad="$_bad; no $_k"
		elif [ "$_got" != "$_v" ]; then
			_bad="$_bad; $_k is '$_got', wanted '$_v'"
		fi
	done
	if [ -z "$_bad" ]; then
		ws_ok "$_desc"
	else
		ws_notok "$_desc"
		echo "#   ${_bad#; }"
		echo "#   body: $(head -c 400 "$ws_tmp/body" 2>/dev/null)"
		[ -s "$ws_tmp/curl.err" ] && echo "#   curl: $(cat "$ws_tmp/curl.err")"
	fi
}

# PKCE (RFC 7636 §4.1, §4.2): a verifier and its S256 challenge.
ws_pkce() {
	set -- $("$WS_PYTHON" -c 'import base64, hashlib, os
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
v = b64(os.urandom(32))
print(v, b64(hashlib.sha256(v.encode()).digest()))')
	ws_verifier=$1 ws_challenge=$2
}

# ws_location_param NAME: a query parameter of the Location header.
ws_location_param() {
	ws_header Location | sed -n "s/.*[?&]$1=\([^&#]*\).*/\1/p"
}

# ---- The cases -----------------------------------------------------------

# ws_authorize: a fresh PKCE pair and GET /authorize as the Basic user for
# the public client; the code in ws_code.
ws_authorize() {
	ws_pkce
	ws_http "$ws_as/authorize" -G -u "$WS_USER_NAME:$WS_USER_PASS" \
	    -d response_type=code -d client_id=pub \
	    --data-urlencode "redirect_uri=$WS_REDIRECT" -d scope=read \
	    -d state=xyz-state -d code_challenge_method=S256 \
	    -d "code_challenge=$ws_challenge"
	ws_code=$(ws_location_param code)
}

# ws_oauth_cases BASE: everything a deployment must get right, through the
# server at BASE (http://127.0.0.1:PORT), the endpoints under BASE/oauth.
ws_oauth_cases() {
	_base=$1
	ws_as=$_base/oauth

	# Metadata, under the mount and at the RFC 8414 §3 path.
	ws_http "$ws_as/.well-known/oauth-authorization-server"
	ws_expect "metadata under /oauth names the issuer and endpoints" 200 \
	    "issuer=$ws_as" "token_endpoint=$ws_as/token" \
	    "introspection_endpoint=$ws_as/introspect"
	ws_http "$_base/.well-known/oauth-authorization-server/oauth"
	ws_expect "RFC 8414 well-known path serves the same issuer" 200 \
	    "issuer=$ws_as" "authorization_endpoint=$ws_as/authorize"

	# client_credentials with client_secret_basic and client_secret_post.
	ws_http "$ws_as/token" -u "svc:$WS_SVC_SECRET" \
	    -d grant_type=client_credentials -d scope=read
	ws_expect "token with client_secret_basic" 200 \
	    access_token=? token_type=Bearer scope=read refresh_token=
	_tok1=$(ws_json access_token)
	ws_check "token response is JSON with Cache-Control: no-store" \
	    ws_headers_are "application/json" "no-store"
	ws_http "$ws_as/token" -d grant_type=client_credentials \
	    -d client_id=svc -d "client_secret=$WS_SVC_SECRET"
	ws_expect "token with client_secret_post" 200 \
	    access_token=? token_type=Bearer "scope=read write"
	_tok2=$(ws_json access_token)

	# Introspection by the resource server and by the owner.
	ws_http "$ws_as/introspect" -u "rs:$WS_RS_SECRET" -d "token=$_tok1"
	ws_expect "introspect by the resource server: active" 200 \
	    active=true client_id=svc sub=svc scope=read "iss=$ws_as"
	ws_http "$ws_as/introspect" -d client_id=svc \
	    -d "client_secret=$WS_SVC_SECRET" -d "token=$_tok2"
	ws_expect "introspect by the owning client (post): active" 200 \
	    active=true client_id=svc "scope=read write"

	# Revocation, then the token is inactive; the other one is not.
	ws_http "$ws_as/revoke" -u "svc:$WS_SVC_SECRET" -d "token=$_tok1"
	ws_expect "revoke the token" 200
	ws_http "$ws_as/introspect" -u "rs:$WS_RS_SECRET" -d "token=$_tok1"
	ws_check "introspect after revoke: exactly {\"active\":false}" \
	    ws_body_is '{"active":false}'
	ws_http "$ws_as/introspect" -u "rs:$WS_RS_SECRET" -d "token=$_tok2"
	ws_expect "the other token stays active" 200 active=true

	# A bad secret: 401, and WWW-Authenticate only because the request
	# used the Authorization header, which proves the server passed it.
	ws_http "$ws_as/token" -u "svc:wrong-secret-0123456789abcdefghijkl" \
	    -d grant_type=client_credentials
	ws_expect "bad secret in Authorization: 401 invalid_client" 401 \
	    error=invalid_client
	ws_check "... with WWW-Authenticate: Basic (header reached oauth.fcgi)" \
	    ws_header_matches WWW-Authenticate '^Basic realm='
	ws_http "$ws_as/token" -d grant_type=client_credentials \
	    -d client_id=svc -d client_secret=wrong-secret-0123456789abcdefg
	ws_expect "bad secret in the body: 401 invalid_client" 401 \
	    error=invalid_client
	ws_check "... without WWW-Authenticate" \
	    ws_header_absent WWW-Authenticate

	# Routing errors are JSON from oauth.fcgi, not the server's pages.
	ws_http "$ws_as/no-such-endpoint"
	ws_expect "unknown path under /oauth: 404 JSON" 404 error=?
	ws_check "... with Content-Type: application/json" \
	    ws_header_matches Content-Type '^application/json'
	ws_http "$ws_as/token"
	ws_expect "GET /token: 405 JSON" 405 error=?
	ws_check "... with Allow: POST" ws_header_matches Allow 'POST'

	# A body over OAUTH_MAX_BODY (16 KiB) but under the server's cap.
	head -c 20000 /dev/zero | tr '\0' 'a' | sed 's/^/grant_type=/' \
	    >"$ws_tmp/big"
	ws_http "$ws_as/token" -u "svc:$WS_SVC_SECRET" \
	    -H 'Content-Type: application/x-www-form-urlencoded' \
	    --data-binary "@$ws_tmp/big"
	ws_expect "a 20000-byte body: 413 from oauth.fcgi" 413 error=?
	head -c 70000 /dev/zero | tr '\0' 'a' | sed 's/^/grant_type=/' \
	    >"$ws_tmp/big"
	ws_http "$ws_as/token" -u "svc:$WS_SVC_SECRET" \
	    -H 'Content-Type: application/x-www-form-urlencoded' \
	    --data-binary "@$ws_tmp/big"
	ws_check "a 70000-byte body: 413 from the server's 64 KiB cap" \
	    [ "$ws_status" = 413 ]

	# /authorize: the server authenticates the user (Basic), the
	# responder redirects with a code; the code is redeemed with PKCE.
	ws_http "$ws_as/authorize?response_type=code&client_id=pub"
	ws_check "/authorize without credentials: 401 from the server" \
	    [ "$ws_status" = 401 ]
	ws_http "$ws_as/authorize?response_type=code&client_id=pub" \
	    -u "$WS_USER_NAME:not-the-password"
	ws_check "/authorize with a wrong password: 401 from the server" \
	    [ "$ws_status" = 401 ]
	# The server must authenticate every way of reaching /authorize,
	# never pass an unchecked Basic name on as REMOTE_USER.
	for _p in "/oauth/authorize/" "/oauth//authorize" "/oauth/./authorize" \
	    "/oauth/%61uthorize" "/oauth/authorize;x"; do
		ws_pkce
		ws_http "$_base$_p" -G --path-as-is \
		    -u "$WS_USER_NAME:not-the-password" \
		    -d response_type=code -d client_id=pub \
		    --data-urlencode "redirect_uri=$WS_REDIRECT" \
		    -d code_challenge_method=S256 \
		    -d "code_challenge=$ws_challenge"
		ws_check "$_p with a wrong password issues no code ($ws_status)" \
		    ws_no_code
	done
	ws_authorize
	ws_check "/authorize as a Basic-authenticated user: 302 with a code" \
	    ws_redirected_with_code
	ws_check "... back to the registered redirect_uri with the state" \
	    ws_location_is_redirect
	_verifier=$ws_verifier _code=$ws_code
	ws_http "$ws_as/token" -d grant_type=authorization_code \
	    -d client_id=pub -d "code=$_code" \
	    --data-urlencode "redirect_uri=$WS_REDIRECT" \
	    -d "code_verifier=$_verifier"
	ws_expect "the code redeemed with its PKCE verifier" 200 \
	    access_token=? refresh_token=? scope=read
	_utok=$(ws_json access_token)
	_rtok=$(ws_json refresh_token)
	ws_http "$ws_as/introspect" -u "rs:$WS_RS_SECRET" -d "token=$_utok"
	ws_expect "the user's token names the user from REMOTE_USER" 200 \
	    active=true client_id=pub "sub=$WS_USER_NAME"
	ws_http "$ws_as/token" -d grant_type=refresh_token -d client_id=pub \
	    -d "refresh_token=$_rtok"
	ws_expect "the refresh token rotates" 200 access_token=? refresh_token=?
	_utok=$(ws_json access_token)
	ws_http "$ws_as/token" -d grant_type=authorization_code \
	    -d client_id=pub -d "code=$_code" \
	    --data-urlencode "redirect_uri=$WS_REDIRECT" \
	    -d "code_verifier=$_verifier"
	ws_expect "the same code again: invalid_grant" 400 error=invalid_grant
	ws_http "$ws_as/introspect" -u "rs:$WS_RS_SECRET" -d "token=$_utok"
	ws_check "... which revokes the tokens issued from it" \
	    ws_body_is '{"active":false}'
	ws_authorize
	ws_http "$ws_as/token" -d grant_type=authorization_code \
	    -d client_id=pub -d "code=$ws_code" \
	    --data-urlencode "redirect_uri=$WS_REDIRECT" \
	    -d "code_verifier=$_verifier"
	ws_expect "a code with another code's verifier: invalid_grant" 400 \
	    error=invalid_grant

	# OpenID Connect through the same server: discovery, the keys, an
	# id_token for the openid scope, and /userinfo with its access token.
	ws_http "$ws_as/.well-known/openid-configuration"
	ws_expect "OpenID Connect discovery names the keys and userinfo" 200 \
	    jwks_uri="$ws_as/jwks" userinfo_endpoint="$ws_as/userinfo"
	ws_http "$ws_as/jwks"
	ws_check "/jwks answers 200, cacheable for 600 s ($ws_status)" \
	    ws_header_matches Cache-Control 'max-age=600'
	ws_pkce
	ws_http "$ws_as/authorize" -G -u "$WS_USER_NAME:$WS_USER_PASS" \
	    -d response_type=code -d client_id=pub \
	    --data-urlencode "redirect_uri=$WS_REDIRECT" \
	    --data-urlencode "scope=openid read" -d nonce=n-ws \
	    -d code_challenge_method=S256 -d "code_challenge=$ws_challenge"
	ws_code=$(ws_location_param code)
	ws_http "$ws_as/token" -d grant_type=authorization_code \
	    -d client_id=pub -d "code=$ws_code" \
	    --data-urlencode "redirect_uri=$WS_REDIRECT" \
	    -d "code_verifier=$ws_verifier"
	ws_expect "scope openid: the tokens come with an id_token" 200 \
	    id_token=? access_token=?
	_otok=$(ws_json access_token)
	ws_http "$ws_as/userinfo" -H "Authorization: Bearer $_otok"
	ws_expect "/userinfo with that access token names the user" 200 \
	    sub="$WS_USER_NAME"
	ws_http "$ws_as/userinfo"
	ws_check "/userinfo without a token: 401 with a Bearer challenge" \
	    ws_header_matches WWW-Authenticate '^Bearer'
}

ws_headers_are() {
	ws_header_matches Content-Type "^$1" &&
	    ws_header_matches Cache-Control "$2"
}

ws_header_matches() {
	ws_header "$1" | grep -q -- "$2"
}

ws_header_absent() {
	! grep -qi "^$1:" "$ws_tmp/headers"
}

ws_body_is() {
	[ "$ws_status" = 200 ] && [ "$(cat "$ws_tmp/body")" = "$1" ]
}

ws_no_code() {
	[ "$ws_status" != 000 ] && [ -z "$(ws_location_param code)" ]
}

ws_redirected_with_code() {
	[ "$ws_status" = 302 ] && [ -n "$ws_code" ]
}

ws_location_is_redirect() {
	_loc=$(ws_header Location)
	case $_loc in
	"$WS_REDIRECT?"*) ;;
	*)	return 1 ;;
	esac
	[ "$(ws_location_param state)" = xyz-state ]
}

# ws_server_log FILE: show the end of a server log after a failed start.
ws_server_log() {
	for _f in "$@"; do
		[ -s "$_f" ] && tail -n 15 "$_f" |
		    sed "s|^|#   $(basename "$_f"): |"
	done
	return 0
}

# ---- Run rather than sourced ---------------------------------------------

# tests/check.sh runs every tests/web/*.sh, this file included.  Run, it
# checks what needs no server: each file of etc/ renders with nothing left
# unfilled, and each is used by a test of tests/web.
ws_lint_etc() {
	ws_tmp=$(mktemp -d "${TMPDIR:-/tmp}/lib_server.XXXXXX") || exit 1
	trap ws_cleanup EXIT
	WS_RUN=$ws_tmp/run WS_DB=$ws_tmp/db WS_BIN=$ws_tmp/bin
	WS_HTPASSWD=$ws_tmp/htpasswd WS_SOCKET=$ws_tmp/oauth.sock
	WS_PORT=8080 WS_FCGI_PORT=9000 WS_API_DIR=$ws_tmp/api
	WS_INTROSPECT_URL=http://127.0.0.1:8080/oauth/introspect
	WS_OIDC_METADATA_URL=http://127.0.0.1:8080/oauth/.well-known/openid-configuration
	WS_JWKS_URL=http://127.0.0.1:8080/oauth/jwks
	WS_ISSUER=http://127.0.0.1:8080/oauth WS_AUDIENCE=https://api.example.org/
	for _f in $(find etc -type f ! -name README.md | sort); do
		ws_check "$_f: every placeholder is a known one" \
		    ws_quiet ws_render "$_f" "$ws_tmp/out"
		ws_check "$_f: run by a test of tests/web" \
		    grep -q "$_f" tests/web/test_*
		ws_check "$_f: listed in etc/README.md" \
		    grep -q "${_f#etc/}" etc/README.md
	done
	ws_finish
}

case $0 in
*lib_server.sh)
	cd "$(dirname "$0")/../.." || exit 1
	ws_lint_etc
	;;
esac
