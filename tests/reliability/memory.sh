#!/bin/sh
# Long-run memory of one FastCGI responder (oauth.fcgi --listen on a unix
# socket), fed mixed traffic by tests/reliability/mixed.py over one kept
# FastCGI connection: tokens, introspection, revocation, the code flow,
# refresh rotation, metadata and errors.
#
#  1. REL_MEMCHECK_REQUESTS (10^5) requests under valgrind memcheck
#     (--leak-check=full --error-exitcode=1): no error, no leak, when the
#     responder exits on SIGTERM.
#  2. Without valgrind, the responder's private memory (RssAnon of
#     /proc/PID/status) after REL_RSS_FIRST (10^4) and after
#     REL_RSS_REQUESTS (10^6) requests grows by at most REL_RSS_SLACK_KB.
#     RSS as a whole also counts the pages of the LMDB map the process has
#     touched (RssFile, or RssShmem when the database is on tmpfs), which
#     follow the size of the database, not leaks: they are reported, not
#     bounded.
#
# Every answer is checked by mixed.py; each phase is bounded in requests
# and in seconds.  Last line: "N passed, M failed".

set -u
cd "$(dirname "$0")/../.." || exit 1
REL_NAME=memory
. tests/reliability/lib.sh

REL_MEMCHECK_REQUESTS=${REL_MEMCHECK_REQUESTS:-100000}
REL_MEMCHECK_SECONDS=${REL_MEMCHECK_SECONDS:-2400}
REL_RSS_FIRST=${REL_RSS_FIRST:-10000}
REL_RSS_REQUESTS=${REL_RSS_REQUESTS:-1000000}
REL_RSS_SECONDS=${REL_RSS_SECONDS:-1800}
# Allowed growth of private memory between the two readings: what libc's
# allocator keeps in its arenas once a larger request or record has been
# seen, and OpenSSL's and libfcgi's lazily built tables, all of which
# reach a fixed size early; a leak of even 16 bytes a request would be
# 15 MiB here.
REL_RSS_SLACK_KB=${REL_RSS_SLACK_KB:-512}
# Room for the records of 10^6 requests (about 7 for every 12 requests).
REL_MAP_SIZE=$((2 * 1024 * 1024 * 1024))

command -v valgrind >/dev/null 2>&1 ||
    rel_skip "valgrind not installed (apt-get install valgrind)"
rel_init

# serve NAME DB CMD...: a responder on $rel_tmp/NAME.sock run by CMD
# (the binary, or valgrind and the binary); its pid in rel_pid.
serve() {
	_n=$1 _db=$2
	shift 2
	rel_start "$_n" env OAUTH_DB="$_db" OAUTH_DB_SYNC=none \
	    OAUTH_MAP_SIZE=$REL_MAP_SIZE OAUTH_ISSUER=https://as.example/oauth \
	    "$@" --listen "$rel_tmp/$_n.sock"
	rel_wait_socket "$rel_tmp/$_n.sock" "$rel_pid"
}

# no_leak LOG: nothing lost, or every block freed.
no_leak() {
	grep -q 'All heap blocks were freed' "$1" && return 0
	for _k in definitely indirectly possibly; do
		grep -qE "$_k lost: 0 bytes" "$1" || return 1
	done
}

# ---- 1. valgrind memcheck ------------------------------------------------

db=$rel_tmp/db-memcheck
rel_check "the database of the memcheck run" rel_setup_db "$db"
vlog=$rel_tmp/valgrind.log
# valgrind does not implement seccomp(2), so the responder's sandbox is
# off under it (OAUTH_SANDBOX=0); the RSS run below keeps it on.
if serve memcheck "$db" env OAUTH_SANDBOX=0 valgrind --leak-check=full \
    --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible \
    --error-exitcode=1 --log-file="$vlog" "$FCGI"; then
	rel_ok "oauth.fcgi --listen under valgrind listens"
	vpid=$rel_pid
	timeout $((REL_MEMCHECK_SECONDS + 60)) "$REL_PYTHON" \
	    tests/reliability/mixed.py "$rel_tmp/memcheck.sock" \
	    "$REL_MEMCHECK_REQUESTS" --seconds "$REL_MEMCHECK_SECONDS" \
	    >"$rel_tmp/mixed-memcheck.out" 2>&1
	rc=$?
	grep '^#' "$rel_tmp/mixed-memcheck.out"
	summary=$(tail -n 1 "$rel_tmp/mixed-memcheck.out")
	rel_note "memcheck traffic: $summary"
	rel_check "$REL_MEMCHECK_REQUESTS mixed requests under valgrind, each answered as it must be" \
	    [ "$rc" -eq 0 ]
	rel_stop "$vpid"
	rel_check "the responder under valgrind exits 0 on SIGTERM (error-exitcode 1)" \
	    [ "$rel_status" -eq 0 ]
	grep -E 'in use at exit|total heap usage|lost:|reachable:|All heap|ERROR SUMMARY' \
	    "$vlog" | sed 's/^==[0-9]*== */#   valgrind: /'
	rel_check "valgrind reports no error" \
	    grep -q 'ERROR SUMMARY: 0 errors' "$vlog"
	rel_check "valgrind reports no leak (definite, indirect, possible)" \
	    no_leak "$vlog"
	if ! grep -q 'ERROR SUMMARY: 0 errors' "$vlog"; then
		sed 's/^/#   /' "$vlog" | tail -n 60
	fi
else
	rel_notok "oauth.fcgi --listen under valgrind listens"
	sed 's/^/#   /' "$rel_tmp/memcheck.out" "$vlog" 2>/dev/null | tail -n 20
fi

# ---- 2. RSS after 10^4 and after 10^6 requests ---------------------------

db=$rel_tmp/db-rss
rel_check "the database of the RSS run" rel_setup_db "$db"
if serve rss "$db" "$FCGI"; then
	rel_ok "oauth.fcgi --listen listens"
	rpid=$rel_pid
	timeout $((REL_RSS_SECONDS + 60)) "$REL_PYTHON" \
	    tests/reliability/mixed.py "$rel_tmp/rss.sock" \
	    "$REL_RSS_REQUESTS" --seconds "$REL_RSS_SECONDS" --pid "$rpid" \
	    --rss-at "$REL_RSS_FIRST,$REL_RSS_REQUESTS" \
	    >"$rel_tmp/mixed-rss.out" 2>&1
	rc=$?
	grep '^#' "$rel_tmp/mixed-rss.out"
	summary=$(tail -n 1 "$rel_tmp/mixed-rss.out")
	rel_note "RSS traffic: $summary"
	rel_check "$REL_RSS_REQUESTS mixed requests, each answered as it must be" \
	    [ "$rc" -eq 0 ]
	growth=$(printf '%s' "$summary" | "$REL_PYTHON" -c 'import json, sys
d = json.load(sys.stdin)["rss"]
a, b = sorted(d, key=int)
print(d[b]["RssAnon"] - d[a]["RssAnon"])' 2>/dev/null) || growth=
	if [ -n "$growth" ]; then
		rel_check "private memory grows by ${growth} KiB from $REL_RSS_FIRST to $REL_RSS_REQUESTS requests (at most $REL_RSS_SLACK_KB)" \
		    [ "$growth" -le "$REL_RSS_SLACK_KB" ]
	else
		rel_notok "RSS read after $REL_RSS_FIRST and $REL_RSS_REQUESTS requests"
	fi
	set -- $(rel_pages "$db")
	rel_note "database after the RSS run: $1 pages used, $2 free"
	rel_stop "$rpid"
	rel_check "the responder exits 0 on SIGTERM" [ "$rel_status" -eq 0 ]
else
	rel_notok "oauth.fcgi --listen listens"
	sed 's/^/#   /' "$rel_tmp/rss.out" | tail -n 20
fi

rel_finish
