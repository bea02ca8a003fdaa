#!/bin/sh
# make fuzz: builds every harness of tests/fuzz (fuzz_*.c) as a libFuzzer
# target with AddressSanitizer and UndefinedBehaviorSanitizer, runs each
# for a bounded time on its committed corpus, merges the inputs that add
# coverage into tests/fuzz/corpus/NAME (libFuzzer -set_cover_merge=1, the
# -merge=1 that picks a near-smallest set, counting edges and not how
# often each ran: the corpus grows, yet only by the fewest inputs that
# reach code it did not), and prints per
# target the executions, the coverage (cov: edges, ft: features, from
# libFuzzer's final status line) and whether it crashed.
#
# Environment:
#   FUZZ_TIME         seconds each target runs (default 60)
#   FUZZ_TIME_NAME    seconds for target fuzz_NAME, overriding FUZZ_TIME
#                     (FUZZ_TIME_request=1200)
#   FUZZ_JOBS         targets running at once (default: the CPUs)
#   FUZZ_TARGETS      names to run (default every harness: "params basic")
#   FUZZ_MERGE=0      leave the committed corpora as they are
#   FUZZ_BUILD        build directory (default build/libfuzzer)
#   CC                the compiler (default clang)
#
# Logs, new inputs and crash artifacts stay in FUZZ_BUILD/run/NAME/; the
# summary also goes to FUZZ_BUILD/run/summary.txt.  Exits 1 when a target
# crashed (its input is named in the summary), 2 when it cannot build.

set -u
cd "$(dirname "$0")/../.." || exit 2

FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_BUILD=${FUZZ_BUILD:-build/libfuzzer}
FUZZ_MERGE=${FUZZ_MERGE:-1}
CC=${CC:-clang}
case $CC in cc | gcc*) CC=clang ;; esac	# make's default is not a fuzzer
RUN=$FUZZ_BUILD/run
SANITIZE=address,undefined

if [ -z "${FUZZ_JOBS:-}" ]; then
	FUZZ_JOBS=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
fi
if [ -z "${FUZZ_TARGETS:-}" ]; then
	FUZZ_TARGETS=$(for f in tests/fuzz/fuzz_*.c; do
		n=${f##*/fuzz_}
		echo "${n%.c}"
	done)
fi

# have_fuzzer: 0 when $CC links a libFuzzer program.
have_fuzzer() {
	t=$(mktemp -d) || return 1
	printf '%s\n' '#include <stdint.h>' '#include <stddef.h>' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
	    '{ (void)d; (void)n; return 0; }' >"$t/t.c"
	"$CC" -fsanitize=fuzzer,$SANITIZE -o "$t/t" "$t/t.c" \
	    >/dev/null 2>&1
	rc=$?
	rm -rf "$t"
	return $rc
}

# The toolchain: clang and its runtime libraries (libclang-rt-N-dev on
# Debian).  Installed when this is Debian and root or sudo is at hand,
# named otherwise.  make check needs neither.
if ! have_fuzzer; then
	need=
	command -v "$CC" >/dev/null 2>&1 || need=clang
	if [ -z "$need" ]; then
		major=$("$CC" -dumpversion 2>/dev/null | cut -d. -f1)
		need="libclang-rt-${major:-14}-dev"
	fi
	as_root=
	[ "$(id -u)" -eq 0 ] || as_root=sudo
	if command -v apt-get >/dev/null 2>&1 &&
	    { [ -z "$as_root" ] || command -v sudo >/dev/null 2>&1; }; then
		echo "fuzz: installing $need"
		$as_root env DEBIAN_FRONTEND=noninteractive apt-get install \
		    -y -q --no-install-recommends "$need" >/dev/null
	fi
	if ! have_fuzzer; then
		echo "fuzz: $CC cannot build libFuzzer targets; install $need" \
		    "(Debian: clang and libclang-rt-N-dev)" >&2
		exit 2
	fi
fi

bins=
for n in $FUZZ_TARGETS; do
	bins="$bins $FUZZ_BUILD/fuzz/fuzz_$n"
done
# -B: objects left by a build with other flags would lack coverage.
# fuzzer-no-link instruments the library the harnesses call, not only
# the harnesses, so the fuzzer sees the edges of the code under test.
echo "fuzz: building$bins"
mkdir -p "$RUN"
instrument="-fsanitize=$SANITIZE,fuzzer-no-link"
instrument="$instrument -fno-sanitize-recover=undefined"
# shellcheck disable=SC2086
if ! make -B --no-print-directory CC="$CC" BUILD="$FUZZ_BUILD" \
    CFLAGS="-O1 -g -fno-omit-frame-pointer" EXTRA_CFLAGS="$instrument" \
    FUZZ_CFLAGS="-fsanitize=fuzzer,$SANITIZE" $bins >"$RUN/build.log" 2>&1; then
	tail -n 30 "$RUN/build.log"
	echo "fuzz: the build failed; see $RUN/build.log" >&2
	exit 2
fi

# seconds NAME: how long target fuzz_NAME runs.
seconds() {
	eval "s=\${FUZZ_TIME_$1:-$FUZZ_TIME}"
	echo "$s"
}

# fuzz_one NAME: runs fuzz_NAME, merges, and writes RUN/NAME/result, one
# line: name seconds executions cov ft before after status.
fuzz_one() {
	name=$1
	bin=$FUZZ_BUILD/fuzz/fuzz_$name
	dir=$RUN/$name
	corpus=tests/fuzz/corpus/$name
	secs=$(seconds "$name")
	rm -rf "$dir"
	mkdir -p "$dir/new" "$corpus"
	before=$(ls "$corpus" | wc -l)
	# New inputs go to the first directory, never to the committed one
	# directly: only the merge below may add to it.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
	    -artifact_prefix="$dir/" "$dir/new" "$corpus" >"$dir/fuzz.log" 2>&1
	rc=$?
	status=ok
	crash=$(ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* \
	    "$dir"/oom-* 2>/dev/null | head -n 1)
	if [ $rc -ne 0 ] || [ -n "$crash" ]; then
		status="CRASH(${crash:-exit $rc; see $dir/fuzz.log})"
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    "$dir/fuzz.log" | tail -n 1)
	# The last status line: "#N ... cov: C ft: F corp: ...".
	last=$(grep -E '^#[0-9]+.* cov: [0-9]+ ft: [0-9]+' "$dir/fuzz.log" |
	    tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	# Hit counts would keep hundreds of inputs per run that a fuzzer
	# finds again in seconds; the committed corpus keeps the edges.
	if [ "$FUZZ_MERGE" = 1 ] && [ "$(ls "$dir/new" | wc -l)" -gt 0 ]; then
		"$bin" -set_cover_merge=1 -use_counters=0 "$corpus" "$dir/new" \
		    >"$dir/merge.log" 2>&1 ||
		    status="$status merge-failed"
	fi
	after=$(ls "$corpus" | wc -l)
	echo "$name $secs ${execs:-0} ${cov:-?} ${ft:-?} $before $after" \
	    "$status" >"$dir/result"
}

# worker NAME...: the targets of one job slot, one after the other.
worker() {
	for w in "$@"; do
		fuzz_one "$w"
	done
}

# Longest first, each to the slot with the least work so far.
order=$(for n in $FUZZ_TARGETS; do
	echo "$(seconds "$n") $n"
done | sort -rn | awk '{ print $2 }')
i=0
while [ $i -lt "$FUZZ_JOBS" ]; do
	eval "slot_$i=; load_$i=0"
	i=$((i + 1))
done
for n in $order; do
	best=0
	i=0
	while [ $i -lt "$FUZZ_JOBS" ]; do
		l=$(eval "echo \$load_$i")
		b=$(eval "echo \$load_$best")
		[ "$l" -lt "$b" ] && best=$i
		i=$((i + 1))
	done
	s=$(seconds "$n")
	eval "slot_$best=\"\$slot_$best $n\"; load_$best=\$((load_$best + s))"
done
echo "fuzz: $(echo "$FUZZ_TARGETS" | wc -w) targets, $FUZZ_JOBS at once," \
    "started $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
i=0
pids=
while [ $i -lt "$FUZZ_JOBS" ]; do
	eval "s=\$slot_$i"
	if [ -n "$s" ]; then
		# shellcheck disable=SC2086 # one name a word
		worker $s &
		pids="$pids $!"
	fi
	i=$((i + 1))
done
trap 'kill $pids 2>/dev/null; exit 130' INT TERM
# shellcheck disable=SC2086
wait $pids
trap - INT TERM

{
	printf '%-8s %7s %12s %9s %6s %7s  %-15s %s\n' target seconds \
	    executions exec/s cov ft corpus result
	total=0
	for n in $FUZZ_TARGETS; do
		if [ ! -f "$RUN/$n/result" ]; then
			printf '%-8s did not finish\n' "$n"
			continue
		fi
		read -r name secs execs cov ft before after status \
		    <"$RUN/$n/result"
		printf '%-8s %7s %12s %9s %6s %7s  %-15s %s\n' "$name" "$secs" \
		    "$execs" $((execs / (secs > 0 ? secs : 1))) "$cov" "$ft" \
		    "$before -> $after" "$status"
		total=$((total + execs))
	done
	commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	echo "total executions: $total; commit $commit"
} | tee "$RUN/summary.txt"
# The table was printed in a subshell: its verdict is read back.
if grep -q 'CRASH\|did not finish\|merge-failed' "$RUN/summary.txt"; then
	exit 1
fi
exit 0
