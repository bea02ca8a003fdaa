#!/bin/sh
# The reliability suites, run by `make reliability` after the build:
#
#   race      1,000 rounds of 4 to 6 processes racing for one code, and
#             for one refresh token; the same with threads sharing one
#             store (group commit), and with 2 processes of 3 threads
#             (build/tests/reliability/race)
#   killload  kill -9 of responders behind lighttpd under load
#   memory    valgrind memcheck over 10^5 requests, RSS over 10^6
#   faults    read-only, missing, foreign-owned database, a full map
#
# Each suite's output goes to build/test-logs/reliability/SUITE.log and is
# shown in full (the figures are the point); one result line per suite,
# then "N passed, M failed" summing all.  Exit 1 if any failed.  Suites
# may be named to run only those: sh tests/reliability/run.sh race faults.
# SUITE_TIMEOUT (seconds, default 3600) bounds each suite.

set -u
cd "$(dirname "$0")/../.." || exit 1

BUILD=${BUILD:-build}
export BUILD
LOGS=$BUILD/test-logs/reliability
SUITE_TIMEOUT=${SUITE_TIMEOUT:-3600}
SUITES=${*:-race killload memory faults}

mkdir -p "$LOGS"
total_passed=0
total_failed=0
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
for s in $SUITES; do
	case $s in
	race) cmd="$BUILD/tests/reliability/race" ;;
	killload | memory | faults) cmd="sh tests/reliability/$s.sh" ;;
	*)
		echo "run.sh: unknown suite $s" >&2
		exit 2
		;;
	esac
	log=$LOGS/$s.log
	start=$(date +%s)
	# shellcheck disable=SC2086 # cmd is words
	timeout "$SUITE_TIMEOUT" $cmd >"$log" 2>&1 </dev/null
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	p=0 f=0
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed}
	fi
	[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
	[ "$p" -eq 0 ] && [ "$f" -eq 0 ] && ! grep -q '^skipped' "$log" && f=1
	echo "==== $s ($(($(date +%s) - start)) s, exit $rc)"
	grep -E '^(ok|not ok|#|skipped)' "$log"
	echo "$s: $p passed, $f failed"
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
done
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
