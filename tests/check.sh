#!/bin/sh
# Every test suite, then the same suites again on the sanitizer build
# (make asan).  Each suite's output goes to build/test-logs/SUITE.log and
# is shown when the suite fails; one result line per suite, then the
# closing line "N passed, M failed" summing all.  Exit 1 if any failed.
#
# Run by `make check` after the builds; SUITE_TIMEOUT (seconds, default
# 900) bounds each suite.
#
# One PostgreSQL server (tests/lib_pg.sh, in the temp dir, a unix socket only)
# serves the whole run: its maintenance database's URI is OAUTH_TEST_PG
# in every suite's environment (the unit suites' PostgreSQL halves read
# it), and the suites labelled "pg ..." run on databases they make there
# (OAUTH_TEST_BACKEND=postgresql, or run_cases.py --backend postgresql):
# the CGI cases (sanitizer pass too), the oauthctl suites that know the
# backends, and lighttpd's cases, Authlib, openid-client and nginx with
# etc/postgresql through a web server.  When the server cannot start they
# say "skipped" and why.

set -u
cd "$(dirname "$0")/.." || exit 1

LOGS=build/test-logs
SUITE_TIMEOUT=${SUITE_TIMEOUT:-900}
SHOWN_LINES=150		# lines of a failing suite's log shown here
ASAN_ENV="ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"

total_passed=0
total_failed=0
total_skipped=0
mkdir -p "$LOGS"

# Nothing of the caller's configuration reaches the programs under test.
unset OAUTH_DB OAUTH_CONFIG OAUTH_ISSUER OAUTH_ACCESS_TTL OAUTH_REFRESH_TTL \
    OAUTH_CODE_TTL OAUTH_MAX_BODY OAUTH_MAP_SIZE OAUTH_TEST_BACKEND \
    OAUTH_TEST_PG

# The run's PostgreSQL server, stopped however the run ends.
. tests/lib_pg.sh
pg_tmp=
pg_why=
pg_cleanup() {
	[ -n "$pg_tmp" ] || return 0
	pg_stop
	rm -rf "$pg_tmp"
	pg_tmp=
}
trap pg_cleanup EXIT
trap 'exit 130' INT TERM HUP
# In the system's temp dir: the server runs as the postgres user, who
# may not be able to enter the checkout (under /root, say).  Installed
# but unable to start is a failure (pg_installed); only a machine without
# PostgreSQL skips.
pg_installed=
[ -n "$(pg_bin)" ] && pg_installed=1
if ! pg_tmp=$(mktemp -d "${TMPDIR:-/tmp}/fcgi-oauth-test-pg.XXXXXX"); then
	pg_why="no temp dir"
	pg_tmp=
elif ! pg_start "$pg_tmp" >"$LOGS/pg-server.log" 2>&1; then
	pg_why=$(tail -n 3 "$LOGS/pg-server.log" | tr '\n' ' ')
	pg_cleanup
else
	OAUTH_TEST_PG=$PG_URI
	export OAUTH_TEST_PG
fi

# suite LABEL KIND ENV CMD...: run CMD with the extra environment ENV
# (newline-separated KEY=VALUE) under the time bound, output to a log;
# KIND says how to count: cmocka (its [ PASSED ]/[ FAILED ] lines), count
# (a last "N passed, M failed" line) or one (exit status, one test).
suite() {
	label=$1 kind=$2 extra=$3
	shift 3
	log="$LOGS/$(echo "${label%% (*}" | sed 's/ --.*//' | tr ' /' '--').log"
	(
		IFS='
'
		# shellcheck disable=SC2086 # one KEY=VALUE a line
		[ -n "$extra" ] && export $extra
		exec timeout "$SUITE_TIMEOUT" "$@"
	) >"$log" 2>&1 </dev/null
	rc=$?
	p=0
	f=0
	case $kind in
	cmocka)
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" |
		    awk '{ s += $1 } END { print s + 0 }')
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" |
		    awk '{ s += $1 } END { print s + 0 }')
		;;
	count)
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" |
		    tail -n 1)
		if [ -n "$line" ]; then
			p=${line%% passed*}
			f=${line#*passed, }
			f=${f%% failed}
		fi
		;;
	one)
		[ $rc -eq 0 ] && p=1
		;;
	esac
	# A crash, a sanitizer report or a timeout counts even when the
	# suite printed no failure (or nothing at all).
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	# A suite that ran nothing failed, unless it said why it skipped.
	skipped=0
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		if grep -qi 'skipped' "$log"; then
			skipped=1
		else
			f=1
		fi
	fi
	total_skipped=$((total_skipped + skipped))
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
	note=
	[ $rc -eq 124 ] && note=" (timed out after ${SUITE_TIMEOUT}s)"
	printf '%-44s %s passed, %s failed%s\n' "$label" "$p" "$f" "$note"
	grep -i 'skipped' "$log" | sed 's/^/    /'
	if [ "$f" -ne 0 ]; then
		echo "---- $log (exit $rc), last $SHOWN_LINES lines but \"ok\" ones:"
		grep -v '^ok ' "$log" | tail -n "$SHOWN_LINES"
		echo "----"
	fi
}

# pg_suite LABEL KIND ENV CMD...: suite, on the run's PostgreSQL server;
# without one, a result line that says it is skipped and why.
pg_suite() {
	if [ -n "${OAUTH_TEST_PG:-}" ]; then
		suite "$@"
	elif [ -n "$pg_installed" ]; then
		suite "$1" count "" sh -c 'echo "not ok - PostgreSQL is installed but did not start: $1"
echo "0 passed, 1 failed"' sh "$pg_why"
	else
		suite "$1" count "" sh -c 'echo "skipped: no PostgreSQL: $1"
echo "0 passed, 0 failed"' sh "$pg_why"
	fi
}

# The CGI cases of DIR's responder on PostgreSQL, labelled TAG.
pg_cases() {
	dir=$1 prefix=${2:+$2 } env=$3
	pg_suite "${prefix}pg cases run_cases.py --cgi" count "$env" \
	    python3 tests/run_cases.py --cgi "$dir/oauth.fcgi" \
	    --oauthctl "$dir/oauthctl" --backend postgresql \
	    --pg-uri "${OAUTH_TEST_PG:-}" \
	    --log-dir "$LOGS/${2:+$2-}pg-cases-cgi"
}

# run_all DIR TAG ENV: the suites on the binaries of DIR, labelled TAG.
run_all() {
	dir=$1 prefix=${2:+$2 } env=$3
	for t in "$dir"/tests/test_*; do
		[ -x "$t" ] || continue
		suite "${prefix}unit $(basename "$t")" cmocka "$env" "$t"
	done
	for z in "$dir"/fuzz/fuzz_*; do
		[ -x "$z" ] || continue
		name=$(basename "$z")
		corpus=tests/fuzz/corpus/${name#fuzz_}
		if [ -d "$corpus" ]; then
			suite "${prefix}fuzz $name ($(ls "$corpus" | wc -l) inputs)" \
			    one "$env" "$z" "$corpus"
		else
			suite "${prefix}fuzz $name (no corpus: empty input)" \
			    one "$env" "$z" /dev/null
		fi
	done
	for c in tests/ctl/*.sh; do
		[ -f "$c" ] || continue
		suite "${prefix}ctl $(basename "$c")" count \
		    "${env:+$env
}OAUTHCTL=$dir/oauthctl
OAUTH_FCGI=$dir/oauth.fcgi" sh "$c"
	done
	suite "${prefix}cli test_oauth_fcgi.sh" count "${env:+$env
}FCGI=$dir/oauth.fcgi" sh tests/cli/test_oauth_fcgi.sh
	suite "${prefix}cli test_dpop_cgi.py" count "${env:+$env
}FCGI=$dir/oauth.fcgi
OAUTHCTL=$dir/oauthctl" python3 tests/cli/test_dpop_cgi.py
	suite "${prefix}cli test_assertion_cgi.py" count "${env:+$env
}FCGI=$dir/oauth.fcgi
OAUTHCTL=$dir/oauthctl" python3 tests/cli/test_assertion_cgi.py
	suite "${prefix}cli test_mtls_cgi.py" count "${env:+$env
}FCGI=$dir/oauth.fcgi
OAUTHCTL=$dir/oauthctl" python3 tests/cli/test_mtls_cgi.py
	suite "${prefix}cli test_register_cgi.py" count "${env:+$env
}FCGI=$dir/oauth.fcgi
OAUTHCTL=$dir/oauthctl" python3 tests/cli/test_register_cgi.py
	suite "${prefix}cases run_cases.py --cgi" count "$env" \
	    python3 tests/run_cases.py --cgi "$dir/oauth.fcgi" \
	    --oauthctl "$dir/oauthctl" --log-dir "$LOGS/${2:+$2-}cases-cgi"
	pg_cases "$dir" "$2" "$env"
}

run_all build "" ""
# The oauthctl suites that know both backends (tests/lib_backend.sh), on
# PostgreSQL.
for c in tests/ctl/*.sh; do
	grep -q 'lib_backend\.sh' "$c" || continue
	pg_suite "pg ctl $(basename "$c")" count "OAUTH_TEST_BACKEND=postgresql
OAUTHCTL=build/oauthctl
OAUTH_FCGI=build/oauth.fcgi" sh "$c"
done
# Web server suites: shell scripts, and Python programs (test_*.py).
for w in tests/web/*.sh tests/web/test_*.py; do
	[ -f "$w" ] || continue
	case $w in
	*.py) run=python3 ;;
	*) run=sh ;;
	esac
	suite "web $(basename "$w")" count "FCGI=build/oauth.fcgi
OAUTHCTL=build/oauthctl
LOG_DIR=$LOGS/web" "$run" "$w"
done
# The request cases again, through responders with threads (group commit).
suite "web test_lighttpd.sh, --threads 4" count "FCGI=build/oauth.fcgi
OAUTHCTL=build/oauthctl
FCGI_THREADS=4
LOG_DIR=$LOGS/web-threads" sh tests/web/test_lighttpd.sh
# Through a web server on PostgreSQL: the cases behind lighttpd, every
# real client (Authlib, openid-client, the Telnyx SDK, mod_oauth2 as a
# resource server, mod_auth_openidc as a relying party), and nginx on the
# deployment etc/postgresql describes.  The other web suites run on it
# too (OAUTH_TEST_BACKEND=postgresql); they add deployments, not clients.
for w in tests/web/test_lighttpd.sh tests/web/test_authlib.py \
    tests/web/test_oidc_client.sh tests/web/test_nginx_listen.sh \
    tests/web/test_telnyx_sdk.sh tests/web/test_mod_oauth2.sh \
    tests/web/test_mod_oauth2_jwt.sh tests/web/test_mod_auth_openidc.sh \
    tests/web/test_dpop.sh tests/web/test_private_key_jwt.sh \
    tests/web/test_mtls.sh tests/web/test_registration.sh; do
	case $w in
	*.py) run=python3 ;;
	*) run=sh ;;
	esac
	pg_suite "pg web $(basename "$w")" count "OAUTH_TEST_BACKEND=postgresql
FCGI=build/oauth.fcgi
OAUTHCTL=build/oauthctl
LOG_DIR=$LOGS/pg-web" "$run" "$w"
done
if [ -x build/asan/oauth.fcgi ]; then
	run_all build/asan asan "$ASAN_ENV"
	# The sanitized responder in long FastCGI loops behind lighttpd:
	# reports, leaks found at exit among them, land in files that must
	# not exist afterwards.
	reports=$PWD/$LOGS/asan-web
	rm -rf "$reports"
	mkdir -p "$reports"
	suite "asan web test_lighttpd.sh" count "ASAN_OPTIONS=detect_leaks=1:log_path=$reports/report
UBSAN_OPTIONS=print_stacktrace=1:log_path=$reports/report
FCGI=build/asan/oauth.fcgi
OAUTHCTL=build/asan/oauthctl
LOG_DIR=$LOGS/asan-web" sh tests/web/test_lighttpd.sh
	suite "asan web sanitizer reports" one "" sh -c \
	    "for r in '$reports'/report.*; do [ -e \"\$r\" ] || exit 0; cat \"\$r\"; done; exit 1"
else
	printf '%-44s 0 passed, 1 failed\n' "asan build/asan/oauth.fcgi missing"
	total_failed=$((total_failed + 1))
fi

if [ "$total_skipped" -gt 0 ]; then
	echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
else
	echo "$total_passed passed, $total_failed failed"
fi
[ "$total_failed" -eq 0 ]
