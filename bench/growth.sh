#!/bin/sh
# Token issuance as the database grows, in one run:
#   1. client_credentials issuance through lighttpd mod_fastcgi with the
#      shipped etc/lighttpd/oauth-fastcgi.conf (two responders, started as
#      bench/limit.sh starts them), wrk -t1 -c16 --latency, on
#        fresh  a new database (the client and a signing key, one token),
#        big    the same kind of database holding BENCH_GROWTH_TOKENS (10^6)
#               live access tokens (client_credentials tokens have no
#               grant), its file in the page cache, as on a server that
#               has been running,
#        cold   the big one with its file's pages dropped from the page
#               cache first (posix_fadvise DONTNEED, that file alone), as
#               after a reboot;
#        cp     the big one copied with cp rather than 4 KiB at a time
#               (see below);
#      with OAUTH_DB_SYNC=none and full, a new copy of the database and a
#      new lighttpd for each, and two loads of BENCH_SECONDS each: the
#      first right after the server started, then a later one.  Per load:
#      requests/s, latency percentiles and maximum, and the two
#      responders' CPU time and page faults per request (/proc/PID/stat).
#      BENCH_GROWTH_REPS repetitions interleaved (fresh, big, cold, cp,
#      fresh, big, ...);
#   2. the databases: the size of data.mdb and mdb_stat -ef (the map, the
#      free pages) with the tokens tree's depth and pages, as filled and
#      after the loads;
#   3. where the responders' CPU time goes (perf record -e cpu-clock,
#      when perf works: a software clock, no hardware counter needed), in
#      a third load of the last repetition with OAUTH_DB_SYNC=none, kernel
#      included;
#   4. callgrind, with a simulated cache, on one responder behind the same
#      lighttpd (max-procs 1) serving 1 and then N+1 requests on one
#      keep-alive connection, fresh and big: instructions and cache misses
#      per request (the difference divided by N), and the functions where
#      big and fresh differ most.
# The big database is filled once, in one process, by bench_handlers
# token (the handlers themselves, client_secret_basic, one write
# transaction a token, OAUTH_DB_SYNC=none), and copied for each run with
# dd bs=4096, 4 KiB at a time as LMDB writes its pages, so that the copy's
# page cache is what a database that grew under the server leaves there.
# cp writes in large chunks, and the kernel then caches the file in large
# folios, into each of which every 4 KiB pwrite of a commit costs more
# (ext4_block_write_begin walks all the folio's buffers): the cp kind
# measures that state, which a restored copy of a database is in.
#
#   make BUILD=build/growth all build/growth/bench/bench_handlers \
#       build/growth/bench/hello_fcgi
#   BUILD=build/growth sh bench/growth.sh
#
# Settings: BUILD (relative to the top of the tree; default build/growth),
# BENCH_SECONDS (each wrk load, 5), BENCH_GROWTH_REPS (3),
# BENCH_GROWTH_TOKENS (1000000, at most bench_handlers' 10^6),
# BENCH_GROWTH_SYNCS ("none full"), BENCH_GROWTH_KINDS ("fresh big cold
# cp"), BENCH_GROWTH_MAP (OAUTH_MAP_SIZE of every database, 1 GiB),
# BENCH_GROWTH_CG (N, 2000; 0 skips callgrind), BENCH_GROWTH_LL (the
# simulated last-level cache, "4194304,16,64": one core's L2 here),
# BENCH_GROWTH_PERF (1 when perf can sample cpu-clock: a third load of
# the last repetition with OAUTH_DB_SYNC=none, under perf record, says
# where the responders' time goes; 0 skips it), BENCH_GROWTH_KEEP=1 (keep the temporary directory: wrk reports,
# mdb_stat outputs, callgrind files), BENCH_GROWTH_COMMIT (the commit the
# summary names, for a tree that is not a git checkout).  It builds
# nothing.  Everything started here is stopped when the script ends, on
# Ctrl-C too; every load has a time or a count limit, every wait a bound.
# Results go to standard output, the summary last as Markdown tables;
# bench/README.md records a run.

set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BUILD=${BUILD:-build/growth}
export BUILD
SECS=${BENCH_SECONDS:-5}
REPS=${BENCH_GROWTH_REPS:-3}
TOKENS=${BENCH_GROWTH_TOKENS:-1000000}
SYNCS=${BENCH_GROWTH_SYNCS:-none full}
KINDS=${BENCH_GROWTH_KINDS:-fresh big cold cp}
MAP=${BENCH_GROWTH_MAP:-1073741824}
CG_N=${BENCH_GROWTH_CG:-2000}
LL=${BENCH_GROWTH_LL:-4194304,16,64}
CONNS=16
GRANT=grant_type=client_credentials

FCGI=$PWD/$BUILD/oauth.fcgi
for f in "$FCGI" "$BUILD/bench/bench_handlers" "$BUILD/bench/hello_fcgi"; do
	if [ ! -x "$f" ]; then
		echo "bench/growth.sh: no $f: make BUILD=$BUILD all $BUILD/bench/bench_handlers $BUILD/bench/hello_fcgi" >&2
		exit 1
	fi
done
for tool in wrk curl python3 lighttpd mdb_stat; do
	if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]
	then
		echo "bench/growth.sh: skipped: $tool is not installed (apt-get install wrk curl python3 lighttpd lmdb-utils)"
		exit 0
	fi
done
case $TOKENS in
'' | *[!0-9]*)
	echo "bench/growth.sh: BENCH_GROWTH_TOKENS must be a count" >&2
	exit 1 ;;
esac
if [ "$CG_N" != 0 ] && ! command -v valgrind >/dev/null 2>&1; then
	echo "bench/growth.sh: skipping callgrind: valgrind is not installed"
	CG_N=0
fi
PERF=${BENCH_GROWTH_PERF:-}
if [ -z "$PERF" ]; then
	PERF=0
	command -v perf >/dev/null 2>&1 &&
	    perf record -q -e cpu-clock -o /dev/null -- true >/dev/null 2>&1 &&
	    PERF=1
fi
have_fincore=0
command -v fincore >/dev/null 2>&1 && have_fincore=1
TCK=$(getconf CLK_TCK)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauth-bench-growth-XXXXXX") || exit 1
chmod 0755 "$tmp"
cleanup() {
	# shellcheck disable=SC2086 # a list of process ids
	bench_stop_all $bench_pids
	if [ "${BENCH_GROWTH_KEEP:-0}" = 1 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM PIPE HUP

# ---- Measures ----------------------------------------------------------------

# proc_counts PID...: "utime stime minflt majflt" summed over the
# processes (clock ticks, faults), from /proc/PID/stat; one that is gone
# counts 0.
proc_counts() {
	for _p in "$@"; do
		# After the parenthesised command name, which may hold spaces:
		# minflt, majflt, utime and stime are fields 8, 10, 12, 13.
		sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null
	done | awk '{ u += $12; s += $13; mi += $8; ma += $10 }
	END { printf "%d %d %d %d\n", u, s, mi, ma }'
}

# wrk_figures FILE: "requests/s|requests|p50|p75|p90|p99|max|non-2xx|
# errors" of a wrk --latency report, latencies in ms.
wrk_figures() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return v * 0.001
		if (v ~ /ms$/) return v + 0
		if (v ~ /m$/) return v * 60000
		if (v ~ /s$/) return v * 1000
		return v + 0
	}
	$1 == "Latency" && NF >= 4 { max = ms($4) }
	$1 == "50%" { p50 = ms($2) }
	$1 == "75%" { p75 = ms($2) }
	$1 == "90%" { p90 = ms($2) }
	$1 == "99%" { p99 = ms($2) }
	$2 == "requests" && $3 == "in" { n = $1 }
	$1 == "Requests/sec:" { rps = $2 }
	/Non-2xx or 3xx responses:/ { bad = $NF }
	/Socket errors:/ {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^[0-9]+,?$/)
				err += $i
	}
	END {
		printf "%.0f|%d|%.2f|%.2f|%.2f|%.2f|%.2f|%d|%d\n", rps, n, p50,
		    p75, p90, p99, max, bad, err
	}' "$1"
}

results=$tmp/results
: >"$results"

# load SYNC KIND REP WHICH PORT PIDS: one wrk load of BENCH_SECONDS on
# /oauth/token; appends "SYNC|KIND|REP|WHICH|requests/s|requests|p50|p75|
# p90|p99|max|non-2xx|errors|user us|system us|minor faults|major faults"
# (CPU time and faults of the responders PIDS, per request; major faults
# in all) to the results and prints the figures.
load() {
	_out=$tmp/wrk.$1.$2.$3.$4
	# shellcheck disable=SC2086 # a list of process ids
	_c0=$(proc_counts $6)
	BENCH_BODY=$GRANT BENCH_AUTH=$BENCH_AUTH \
	    timeout --foreground $((SECS + 30)) wrk -t1 -c"$CONNS" \
	    -d"${SECS}s" --timeout 5s --latency -s bench/wrk_post.lua \
	    "http://127.0.0.1:$5/oauth/token" >"$_out" 2>&1
	# shellcheck disable=SC2086 # a list of process ids
	_c1=$(proc_counts $6)
	_f=$(wrk_figures "$_out")
	echo "$1|$2|$3|$4|$_f|$_c0|$_c1" | awk -F'|' -v tck="$TCK" '{
		split($14, a, " "); split($15, b, " ")
		n = ($6 > 0) ? $6 : 1
		printf "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%.1f|%.1f|%.3f|%d\n",
		    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
		    (b[1] - a[1]) * 1e6 / tck / n, (b[2] - a[2]) * 1e6 / tck / n,
		    (b[3] - a[3]) / n, b[4] - a[4]
	}' >>"$results"
	tail -n 1 "$results" | awk -F'|' '{
	    printf "%-4s %-5s rep %s %-5s: %s requests/s; p50 %s p75 %s p90 %s p99 %s max %s ms; responders %s us user %s us system, %s minor faults a request, %s major faults; non-2xx %s, socket errors %s\n",
		$1, $2, $3, $4, $5, $7, $8, $9, $10, $11, $14, $15, $16, $17,
		$12, $13 }'
}

# db_stats DIR NAME: mdb_stat -ef and the tokens tree of DIR into
# NAME.stat, and "NAME|data.mdb bytes|pages used|map bytes|free pages|
# freelist entries|depth|branch pages|leaf pages|entries" to stats.
db_stats() {
	mdb_stat -ef -s tokens "$1" >"$tmp/$2.stat" 2>&1
	{
		printf '%s|%s|' "$2" "$(wc -c <"$1/data.mdb")"
		awk '
		/^Environment Info/ { part = "env" }
		/^Freelist Status/ { part = "free" }
		/^Status of tokens/ { part = "tokens" }
		part == "env" && /Number of pages used:/ { used = $NF }
		part == "env" && /Map size:/ { map = $NF }
		part == "free" && /^  Entries:/ { fe = $NF }
		part == "free" && /Free pages:/ { fp = $NF }
		part == "tokens" && /Tree depth:/ { d = $NF }
		part == "tokens" && /Branch pages:/ { br = $NF }
		part == "tokens" && /Leaf pages:/ { lf = $NF }
		part == "tokens" && /^  Entries:/ { n = $NF }
		END { printf "%s|%s|%s|%s|%s|%s|%s|%s\n", used, map, fp, fe, d,
		    br, lf, n }' "$tmp/$2.stat"
	} >>"$tmp/stats"
}

# resident FILE: the bytes of FILE in the page cache (fincore), or "?".
resident() {
	if [ "$have_fincore" = 1 ]; then
		fincore -nb -o RES "$1" 2>/dev/null | awk '{ print $1 }'
	else
		echo '?'
	fi
}

# perf_load KIND PORT PIDS: one more wrk load of BENCH_SECONDS while perf
# samples the responders PIDS at 1 kHz (one sample a millisecond of CPU);
# their samples by symbol, per 1000 requests (so microseconds a request),
# go to perf.KIND.
perf_load() {
	_pl=$(echo "$3" | awk '{ $1 = $1; gsub(/ /, ","); print }')
	timeout $((SECS + 60)) perf record -q -e cpu-clock -F 1000 -p "$_pl" \
	    -o "$tmp/perf.$1.data" -- sleep "$SECS" >/dev/null 2>&1 &
	_pp=$!
	BENCH_BODY=$GRANT BENCH_AUTH=$BENCH_AUTH \
	    timeout --foreground $((SECS + 30)) wrk -t1 -c"$CONNS" \
	    -d"${SECS}s" --timeout 5s -s bench/wrk_post.lua \
	    "http://127.0.0.1:$2/oauth/token" >"$tmp/wrk.perf.$1" 2>&1
	wait "$_pp"
	_n=$(wrk_figures "$tmp/wrk.perf.$1" | cut -d'|' -f2)
	perf report -i "$tmp/perf.$1.data" --stdio --no-children -n \
	    --sort dso,sym 2>/dev/null | awk -v n="$_n" '
	$1 ~ /%$/ && $2 ~ /^[0-9]+$/ {
		f = $0; sub(/^ *[^ ]+ +[0-9]+ +/, "", f)
		gsub(/  +/, " ", f)
		sub(/^\[kernel\.kallsyms\] /, "", f)
		printf "%.2f|%s\n", $2 * 1000 / (n > 0 ? n : 1), f
		t += $2
	}
	END { printf "%.2f|total\n", t * 1000 / (n > 0 ? n : 1) }' \
	    >"$tmp/perf.$1"
	echo "$1: under perf, $_n requests; $(tail -n 1 "$tmp/perf.$1" | cut -d'|' -f1) us of the responders' CPU a request"
}

# copy_db KIND DIR: a database of KIND in DIR: a new one for fresh, a
# copy of the big one made by cp for cp, else one made 4 KiB at a time.
copy_db() {
	case $1 in
	fresh)	bench_fcgi_db "$2" >/dev/null ;;
	cp)	cp -r "$tmp/big" "$2" ;;
	*)	mkdir -p "$2" && dd if="$tmp/big/data.mdb" of="$2/data.mdb" \
		    bs=4096 status=none ;;
	esac
}

# run SYNC KIND REP: a new copy of the database of KIND, a new lighttpd
# with two responders on it with OAUTH_DB_SYNC=SYNC, two loads, all
# stopped and removed again; the database's figures after the loads
# kept as SYNC.KIND.REP.
run() {
	_d=$tmp/run
	rm -rf "$_d"
	mkdir -p "$_d" || return 1
	copy_db "$2" "$_d/db" || return 1
	# On disk before the server starts, so that no writeback of the copy
	# and no first flush of it is measured; then, for cold, out of the
	# page cache (DONTNEED drops clean pages only).
	sync "$_d/db/data.mdb" || return 1
	if [ "$2" = cold ]; then
		dd if="$_d/db/data.mdb" iflag=nocache count=0 status=none ||
		    return 1
	fi
	echo "$1 $2 rep $3: data.mdb $(wc -c <"$_d/db/data.mdb") bytes, $(resident "$_d/db/data.mdb") in the page cache"
	_port=$(bench_port)
	bench_lighttpd_render "$_d" "$_port" "$FCGI" "$_d/db" "$1" "$MAP" &&
	    bench_lighttpd_up "$_d" "$_port" 2 || return 1
	_kids=$bench_lighttpd_children
	[ "$(echo "$_kids" | wc -w)" -eq 2 ] || {
		echo "bench/growth.sh: lighttpd started $(echo "$_kids" | wc -w) responders, not 2" >&2
		return 1
	}
	load "$1" "$2" "$3" first "$_port" "$_kids"
	load "$1" "$2" "$3" later "$_port" "$_kids"
	if [ "$PERF" = 1 ] && [ "$1" = none ] && [ "$3" = "$REPS" ]; then
		perf_load "$2" "$_port" "$_kids"
	fi
	# shellcheck disable=SC2086 # a list of process ids
	bench_stop_all $bench_pids
	db_stats "$_d/db" "$1.$2.$3"
	rm -rf "$_d"
}

# ---- Callgrind -----------------------------------------------------------------

# cg_total FILE: the summary line of a callgrind output file, its counts
# in the order of its events line.
cg_total() {
	sed -n 's/^summary: //p; s/^totals: //p' "$1" | head -n 1
}

# cg_run KIND N: one responder under callgrind (with the cache simulated)
# behind lighttpd with max-procs 1, on a new copy of the database of
# KIND, serving N token requests one after another; its output is
# cg.KIND.N.  The sandbox is off (OAUTH_SANDBOX=0): valgrind does not
# know the seccomp system call.
cg_run() {
	_d=$tmp/cg-$1-$2
	rm -rf "$_d"
	mkdir -p "$_d" || return 1
	copy_db "$1" "$_d/db" || return 1
	sync "$_d/db/data.mdb" || return 1
	_port=$(bench_port)
	bench_lighttpd_render "$_d" "$_port" "$(command -v valgrind) --tool=callgrind --cache-sim=yes --LL=$LL --callgrind-out-file=$_d/cg.%p $FCGI" \
	    "$_d/db" none "$MAP" || return 1
	sed -i -e 's|"max-procs" => 2,|"max-procs" => 1,|' \
	    -e 's|"OAUTH_DB" => |"OAUTH_SANDBOX" => "0","OAUTH_DB" => |' \
	    "$_d/lighttpd.conf" || return 1
	bench_lighttpd_up "$_d" "$_port" 1 || return 1
	_kid=$(echo "$bench_lighttpd_children" | awk '{ print $1 }')
	_bad=$(bench_requests "$_port" /token "$GRANT" "$2")
	# lighttpd first, which stops its responder rather than start
	# another; callgrind writes its file as the responder exits.
	bench_stop_all "$bench_lighttpd_pid" "$_kid"
	mv "$_d/cg.$_kid" "$tmp/cg.$1.$2" 2>/dev/null || {
		echo "bench/growth.sh: no callgrind output from $_kid in $_d" >&2
		return 1
	}
	rm -rf "$_d/db"
	[ "$_bad" = 0 ] || {
		echo "bench/growth.sh: $1 under callgrind: $_bad of $2 not 200" >&2
		return 1
	}
}

# cg_per KIND: "Ir D1 LL" per request of KIND: the counts of N+1
# requests less those of 1, divided by N; D1 and LL add read and write
# misses.
cg_per() {
	{
		cg_total "$tmp/cg.$1.1"
		cg_total "$tmp/cg.$1.$((CG_N + 1))"
	} | awk -v n="$CG_N" '
	NR == 1 { for (i = 1; i <= NF; i++) a[i] = $i }
	NR == 2 { for (i = 1; i <= NF; i++) b[i] = $i - a[i] }
	END {
		# Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
		printf "%.0f %.1f %.1f\n", b[1] / n, (b[5] + b[6]) / n,
		    (b[8] + b[9]) / n
	}'
}

# cg_diff EVENT: the functions whose self count of EVENT (Ir, DLmr) per
# request (N+1 requests less 1, divided by N) differs most between big
# and fresh, with both counts.
cg_diff() {
	for _k in fresh big; do
		for _n in 1 $((CG_N + 1)); do
			callgrind_annotate --auto=no --threshold=100 \
			    --show="$1" --sort="$1" --show-percs=no \
			    "$tmp/cg.$_k.$_n" 2>/dev/null | sed "s|^|$_k $_n |"
		done
	done | awk -v n="$CG_N" '
	$3 ~ /^[0-9,]+$/ && NF >= 4 {
		c = $3; gsub(",", "", c)
		f = $0; sub(/^[^ ]+ +[^ ]+ +[0-9,]+ +/, "", f)
		if (f ~ /PROGRAM TOTALS/)
			next
		# "file:function [object]", without their directories.
		o = ""
		if (match(f, / \[[^]]*\]$/)) {
			o = substr(f, RSTART + 2, RLENGTH - 3)
			f = substr(f, 1, RSTART - 1)
			sub(/^.*\//, "", o)
			o = " (" o ")"
		}
		sub(/^.*\//, "", f)
		f = f o
		# Per request: the count of N+1 requests less that of 1.
		c = ($2 == 1) ? -c : c
		if ($1 == "fresh") a[f] += c; else b[f] += c
		all[f] = 1
	}
	END {
		for (f in all)
			printf "%.1f|%.1f|%.1f|%s\n", (b[f] - a[f]) / n, a[f] / n,
			    b[f] / n, f
	}' | sort -t'|' -k1,1 -rn | head -n 8 | awk -F'|' '{
	    printf "  %+9.1f  (fresh %9.1f, big %9.1f)  %s\n", $1, $2, $3, $4 }'
}

# ---- The run -------------------------------------------------------------------

commit=${BENCH_GROWTH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo '?')}
start_date=$(date -u '+%Y-%m-%d %H:%M UTC')
start_s=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== issuance as the database grows: $(nproc) cores, load average $load_start, $start_date"
echo "== wrk -t1 -c$CONNS --latency, ${SECS}s each, $REPS repetitions, OAUTH_DB_SYNC $SYNCS, databases $KINDS"

echo "== filling the big database: $TOKENS tokens, bench_handlers token, OAUTH_DB_SYNC=none"
fill_s0=$(date +%s.%N)
OAUTH_DB_SYNC=none OAUTH_MAP_SIZE=$MAP timeout 900 \
    "$BUILD/bench/bench_handlers" "$tmp/big" token "$TOKENS" || {
	echo "bench/growth.sh: the fill failed" >&2
	exit 1
}
fill_s=$(echo "$fill_s0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
sync "$tmp/big/data.mdb"
: >"$tmp/stats"
db_stats "$tmp/big" filled
echo "filled in $fill_s s (the whole process, set-up included):"
cat "$tmp/filled.stat"

rep=1
while [ "$rep" -le "$REPS" ]; do
	for sync in $SYNCS; do
		for kind in $KINDS; do
			run "$sync" "$kind" "$rep" || {
				echo "bench/growth.sh: $sync $kind rep $rep failed" >&2
				exit 1
			}
		done
	done
	rep=$((rep + 1))
done

if [ "$CG_N" != 0 ]; then
	echo "== callgrind, one responder behind lighttpd, $((CG_N + 1)) requests less 1, / $CG_N; cache simulated: D1 as this machine's, LL $LL"
	for kind in fresh big; do
		for n in 1 $((CG_N + 1)); do
			cg_run "$kind" "$n" || exit 1
		done
		echo "$kind: $(cg_per "$kind" | awk '{ printf "%s instructions, %s D1 misses, %s LL misses a request", $1, $2, $3 }')"
	done
	if command -v callgrind_annotate >/dev/null 2>&1; then
		echo "-- instructions a request, big less fresh, by function (self):"
		cg_diff Ir
		echo "-- LL read misses a request, big less fresh, by function (self):"
		cg_diff DLmr
	fi
fi

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== load average at the end: $load_end, after $(( $(date +%s) - start_s )) s"

# ---- The summary ---------------------------------------------------------------

# med SYNC KIND WHICH FIELD [list]: the median of FIELD of the results of
# SYNC, KIND and WHICH over the repetitions; with "list", followed by
# each repetition's in the order they ran.
med() {
	awk -F'|' -v s="$1" -v k="$2" -v w="$3" -v f="$4" -v l="${5:-}" '
	$1 == s && $2 == k && $4 == w { v[++n] = $f; r[n] = $f }
	END {
		if (n == 0) { printf "–"; exit }
		for (i = 1; i <= n; i++)
			for (j = i + 1; j <= n; j++)
				if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		printf "%g", m
		if (l != "") {
			printf " ("
			for (i = 1; i <= n; i++)
				printf "%s%g", (i > 1 ? ", " : ""), r[i]
			printf ")"
		}
	}' "$results"
}

# ratio SYNC KIND WHICH: "median (rep 1, ...)" of KIND's requests/s over
# fresh's of the same repetition, durability setting and load.
ratio() {
	awk -F'|' -v s="$1" -v k="$2" -v w="$3" '
	$1 == s && $4 == w && $2 == "fresh" { f[$3] = $5 }
	$1 == s && $4 == w && $2 == k { x[$3] = $5; if ($3 > n) n = $3 }
	END {
		for (i = 1; i <= n; i++) {
			r[i] = (f[i] > 0) ? x[i] / f[i] : 0
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

label() {
	case $1 in
	fresh) echo "fresh" ;;
	big) echo "$TOKENS tokens" ;;
	cold) echo "$TOKENS tokens, file not in the page cache" ;;
	cp) echo "$TOKENS tokens, copied by cp" ;;
	esac
}

# stat_row NAME LABEL: a row of the database table.
stat_row() {
	awk -F'|' -v n="$1" -v l="$2" '$1 == n {
		printf "| %s | %.1f MB | %s | %.0f MiB | %s (%s entries) | %s | %s / %s | %s |\n",
		    l, $2 / 1e6, $3, $4 / 1048576, $5, $6, $7, $8, $9, $10
	}' "$tmp/stats"
}

bad=$(awk -F'|' '$12 + $13 > 0' "$results" | wc -l)
echo
echo "fcgi-oauth at $commit, $(nproc) cores, load average $load_start at the start, $load_end at the end; lighttpd mod_fastcgi, two responders, client_credentials tokens, wrk -t1 -c$CONNS --latency, ${SECS}s per load, $REPS repetitions interleaved; OAUTH_MAP_SIZE $MAP. The big database: $TOKENS tokens issued in one process by bench_handlers in $fill_s s."
echo "Medians, then each repetition in the order they ran. Ratio: requests/s over fresh's of the same repetition and load. First: the load right after lighttpd started its responders; later: the next one."
echo
echo "| \`OAUTH_DB_SYNC\` | database | first load, requests/s | later load, requests/s | ratio to fresh, first | ratio to fresh, later |"
echo "|---|---|---|---|---|---|"
for sync in $SYNCS; do
	for kind in $KINDS; do
		if [ "$kind" = fresh ]; then
			r1=– r2=–
		else
			r1=$(ratio "$sync" "$kind" first)
			r2=$(ratio "$sync" "$kind" later)
		fi
		echo "| $sync | $(label "$kind") | $(med "$sync" "$kind" first 5 list) | $(med "$sync" "$kind" later 5 list) | $r1 | $r2 |"
	done
done
echo
echo "Latency in ms (wrk --latency), medians; the p99 and the maximum of each repetition after them."
echo
echo "| \`OAUTH_DB_SYNC\` | database | load | p50 | p75 | p90 | p99 | max |"
echo "|---|---|---|---|---|---|---|---|"
for sync in $SYNCS; do
	for kind in $KINDS; do
		for which in first later; do
			echo "| $sync | $(label "$kind") | $which | $(med "$sync" "$kind" "$which" 7) | $(med "$sync" "$kind" "$which" 8) | $(med "$sync" "$kind" "$which" 9) | $(med "$sync" "$kind" "$which" 10 list) | $(med "$sync" "$kind" "$which" 11 list) |"
		done
	done
done
echo
echo "The two responders' CPU time and page faults (/proc/PID/stat), per request, medians; major faults are of the whole load."
echo
echo "| \`OAUTH_DB_SYNC\` | database | load | user µs | system µs | minor faults | major faults |"
echo "|---|---|---|---|---|---|---|"
for sync in $SYNCS; do
	for kind in $KINDS; do
		for which in first later; do
			echo "| $sync | $(label "$kind") | $which | $(med "$sync" "$kind" "$which" 14) | $(med "$sync" "$kind" "$which" 15) | $(med "$sync" "$kind" "$which" 16) | $(med "$sync" "$kind" "$which" 17 list) |"
		done
	done
done
echo
echo "The databases (mdb_stat -ef -s tokens): the last repetition's, after its two loads."
echo
echo "| database | data.mdb | pages used | map | free pages | tokens: depth | branch / leaf pages | tokens |"
echo "|---|---|---|---|---|---|---|---|"
stat_row filled "$TOKENS tokens, as filled"
for sync in $SYNCS; do
	for kind in $KINDS; do
		stat_row "$sync.$kind.$REPS" "$(label "$kind"), after the loads, \`$sync\`"
	done
done
if [ "$PERF" = 1 ] && [ -s "$tmp/perf.fresh" ]; then
	echo
	echo "Where the responders' CPU time goes, \`OAUTH_DB_SYNC=none\`: µs a request (perf samples of 1 ms per 1000 requests) in a third load of the last repetition; the symbols of the most time in any database, the kernel's marked [k] (liblmdb has no symbols: its functions are addresses)."
	echo
	printf '| symbol |'
	for kind in $KINDS; do
		printf ' %s |' "$(label "$kind")"
	done
	echo
	printf '|---|'
	for kind in $KINDS; do
		printf -- '---|'
	done
	echo
	for kind in $KINDS; do
		sed "s/^/$kind|/" "$tmp/perf.$kind"
	done | awk -F'|' '
	{ if ($2 > top[$3]) top[$3] = $2; seen[$3] = 1 }
	END {
		for (s in seen)
			print top[s] "|" s
	}' | sort -t'|' -k1,1 -rn | head -n 16 | cut -d'|' -f2- |
	while IFS= read -r sym; do
		printf '| %s |' "$sym"
		for kind in $KINDS; do
			printf ' %s |' "$(awk -F'|' -v s="$sym" '$2 == s { print $1; f = 1 } END { if (!f) print "0" }' "$tmp/perf.$kind")"
		done
		echo
	done
fi
if [ "$CG_N" != 0 ]; then
	echo
	echo "| callgrind, one responder, per request | fresh | $TOKENS tokens | difference |"
	echo "|---|---|---|---|"
	f=$(cg_per fresh) b=$(cg_per big)
	echo "$f $b" | awk -v ll="$LL" '{
		printf "| instructions | %s | %s | %+d |\n", $1, $4, $4 - $1
		printf "| D1 misses | %s | %s | %+.1f |\n", $2, $5, $5 - $2
		printf "| LL misses (simulated %s) | %s | %s | %+.1f |\n", ll, $3, $6, $6 - $3
	}'
fi
echo
echo "loads with a non-2xx answer or a socket error: $bad"
[ "$bad" -eq 0 ]
