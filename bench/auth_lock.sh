#!/bin/sh
# Whether failed client authentication holds other clients back
# (sh bench/auth_lock.sh; bench/README.md records a run).
#
# An operator secret (oauthctl client add ID --secret S) is stored with
# PBKDF2, so a wrong one costs the responder tens of milliseconds of CPU.
# Were that spent inside the write transaction of /token or /revoke, it
# would hold LMDB's one writer lock, and every process's writes would wait
# behind it.  This script starts lighttpd with AUTH_LOCK_PROCS oauth.fcgi
# responders on a free port of 127.0.0.1 and a fresh database, then times
# AUTH_LOCK_COUNT sequential client_credentials requests of a victim client
# (a generated secret, checked in microseconds) in three configurations:
#
#   alone       nothing else runs;
#   introspect  beside AUTH_LOCK_LOOPS loops of wrong-secret requests for
#               the operator-secret client to /introspect, which takes no
#               write lock: what the PBKDF2 costs in CPU and responders;
#   token       beside the same loops on /token: that cost, plus the lock
#               when authentication runs under it.
#
# The token/introspect ratio is the point: the lock's cost beyond the CPU.
# Each configuration runs AUTH_LOCK_RUNS times, interleaved so that a
# change in the machine's load falls on all three alike; every run and the
# median are printed.
#
# Settings (environment):
#   BUILD               directory of the binaries (default build)
#   FCGI, OAUTHCTL      the binaries (default BUILD/oauth.fcgi, BUILD/oauthctl);
#                       point them at another build to compare two commits
#   AUTH_LOCK_COUNT     victim requests per run (default 300)
#   AUTH_LOCK_LOOPS     wrong-secret loops (default 4)
#   AUTH_LOCK_PROCS     oauth.fcgi processes (default AUTH_LOCK_LOOPS + 2):
#                       more than the loops, so that the victim's request
#                       finds a responder free rather than queueing behind
#                       a wrong secret's PBKDF2, and the introspect column
#                       measures the CPU cost, not a queue
#   AUTH_LOCK_RUNS      runs of each configuration (default 3)
#   AUTH_LOCK_SECONDS   cap on one run of the victim, in seconds (default 120)
#   AUTH_LOCK_SYNC      OAUTH_DB_SYNC of the responders (default full, the
#                       server's own default)
#   AUTH_LOCK_KEEP=1    keeps the temporary directory (logs, configuration)
# Needs lighttpd, curl and python3.  Everything it starts is stopped when
# it ends, however it ends.

set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BUILD=${BUILD:-build}
FCGI=${FCGI:-$BUILD/oauth.fcgi}
OAUTHCTL=${OAUTHCTL:-$BUILD/oauthctl}
COUNT=${AUTH_LOCK_COUNT:-300}
LOOPS=${AUTH_LOCK_LOOPS:-4}
PROCS=${AUTH_LOCK_PROCS:-}
RUNS=${AUTH_LOCK_RUNS:-3}
CAP=${AUTH_LOCK_SECONDS:-120}
SYNC=${AUTH_LOCK_SYNC:-full}
# An attack loop's own bounds: far more requests than a run needs, and the
# victim's cap plus its start, so that one outlives a run only if the
# script itself is killed with SIGKILL.
ATTACK_COUNT=1000000
ATTACK_SECONDS=$((CAP + 15))
# An operator secret of 40 characters: stored with PBKDF2 (oauthctl).
KNOWN_SECRET=operator-secret-0123456789abcdefghijklmn

# Debian's python3 when there is one: a version manager's shim in PATH
# adds a tenth of a second to each start.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

for _n in "$COUNT" "$LOOPS" "${PROCS:-1}" "$RUNS" "$CAP"; do
	case $_n in
	'' | *[!0-9]* | 0*)
		echo "auth_lock: AUTH_LOCK_* settings are positive integers" >&2
		exit 2
		;;
	esac
done
PROCS=${PROCS:-$((LOOPS + 2))}
for _c in lighttpd curl "$PY"; do
	command -v "$_c" >/dev/null 2>&1 || [ -x "/usr/sbin/$_c" ] || {
		echo "auth_lock: $_c is not installed" >&2
		exit 1
	}
done
for _b in "$FCGI" "$OAUTHCTL"; do
	[ -x "$_b" ] || {
		echo "auth_lock: $_b is not built (make all)" >&2
		exit 1
	}
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oauth-auth-lock-XXXXXX") || exit 1
bench_lighttpd_pid=
attack_pids=
victim_pid=

# The responders run from a copy of the binary in tmp, so that any left
# behind by lighttpd are found by their path and by nothing else's.
stray_responders() {
	for _d in /proc/[0-9]*; do
		[ "$(readlink "$_d/exe" 2>/dev/null)" = "$tmp/bin/oauth.fcgi" ] &&
		    echo "${_d#/proc/}"
	done
}

stop_attacks() {
	for _p in $attack_pids; do
		bench_stop "$_p"
	done
	attack_pids=
}

cleanup() {
	bench_stop "$victim_pid"
	stop_attacks
	bench_stop "$bench_lighttpd_pid"
	bench_lighttpd_pid=
	for _p in $(stray_responders); do
		kill -9 "$_p" 2>/dev/null
	done
	if [ "${AUTH_LOCK_KEEP:-0}" = 1 ]; then
		echo "auth_lock: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
# A signal, or a reader that went away, ends the run (and so runs cleanup).
trap 'exit 130' INT TERM HUP
trap 'exit 1' PIPE

mkdir -p "$tmp/bin" "$tmp/db" "$tmp/run/htdocs" &&
    cp "$FCGI" "$tmp/bin/oauth.fcgi" && cp "$OAUTHCTL" "$tmp/bin/oauthctl" &&
    cp "$(dirname "$FCGI")/oauth-jose.so" "$tmp/bin/" &&
    chmod 0700 "$tmp/db" || exit 1
: >"$tmp/htpasswd"

ctl() {
	"$tmp/bin/oauthctl" --db "$tmp/db" "$@"
}
ctl init >/dev/null || exit 1
victim_secret=$(ctl client add victim --scope read \
    --grant-types client_credentials --json |
    sed -n 's/.*"client_secret":"\([^"]*\)".*/\1/p')
[ -n "$victim_secret" ] || {
	echo "auth_lock: oauthctl printed no secret for the victim" >&2
	exit 1
}
ctl client add known --secret "$KNOWN_SECRET" --scope read \
    --grant-types client_credentials >/dev/null || exit 1

# The shipped configuration, with PROCS responders from the start and the
# chosen durability.  Left to itself, lighttpd starts min-procs (4) and
# adds more only past max-load-per-proc queued requests each, so that
# the victim would queue behind the loops however high max-procs is.  As root, lighttpd would switch to www-data, which cannot
# read tmp: the user lines go.
port=$(bench_port) || exit 1
sed -e "s|@PORT@|$port|g" -e "s|@RUNDIR@|$tmp/run|g" \
    -e "s|@BUILD@|$tmp/bin|g" -e "s|@DB@|$tmp/db|g" \
    -e "s|@HTPASSWD@|$tmp/htpasswd|g" \
    -e "s|\"max-procs\" => [0-9]*,|\"min-procs\" => $PROCS, \"max-procs\" => $PROCS,|" \
    -e "s|\"OAUTH_DB\" => \"$tmp/db\",|&\"OAUTH_DB_SYNC\" => \"$SYNC\",|" \
    -e '/^server.username/d' -e '/^server.groupname/d' \
    etc/lighttpd/oauth-fastcgi.conf >"$tmp/lighttpd.conf" || exit 1
grep -q "\"max-procs\" => $PROCS" "$tmp/lighttpd.conf" &&
    grep -q "\"OAUTH_DB_SYNC\" => \"$SYNC\"" "$tmp/lighttpd.conf" || {
	echo "auth_lock: etc/lighttpd/oauth-fastcgi.conf changed shape" >&2
	exit 1
}
lighttpd -tt -f "$tmp/lighttpd.conf" >"$tmp/lighttpd.out" 2>&1 || {
	cat "$tmp/lighttpd.out" >&2
	exit 1
}
lighttpd -D -f "$tmp/lighttpd.conf" >>"$tmp/lighttpd.out" 2>&1 &
bench_lighttpd_pid=$!
bench_wait_http "http://127.0.0.1:$port/oauth/" || {
	echo "auth_lock: lighttpd did not answer on 127.0.0.1:$port" >&2
	cat "$tmp/lighttpd.out" "$tmp/run/error.log" >&2 2>/dev/null
	exit 1
}
# Every responder must be up before the clock starts (see PROCS).
_i=0
while [ "$(stray_responders | wc -l)" -lt "$PROCS" ] && [ $_i -lt 50 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
[ "$(stray_responders | wc -l)" -eq "$PROCS" ] || {
	echo "auth_lock: lighttpd started $(stray_responders | wc -l)" \
	    "oauth.fcgi, not $PROCS" >&2
	exit 1
}

# One run of configuration $1 (alone, introspect or token), number $2: its
# victim line in tmp/res.$1.$2, the loops' lines in tmp/att.$1.$2.*.
run_one() {
	if [ "$1" != alone ]; then
		_i=1
		while [ $_i -le "$LOOPS" ]; do
			"$PY" bench/auth_lock.py attack "$port" "/oauth/$1" known \
			    "$ATTACK_COUNT" "$ATTACK_SECONDS" \
			    >"$tmp/att.$1.$2.$_i" 2>&1 &
			attack_pids="$attack_pids $!"
			_i=$((_i + 1))
		done
		# Let every loop reach the server before the clock starts.
		sleep 1
	fi
	# In the background and waited for: a shell runs its traps only
	# once a foreground command ends, while wait returns on a signal.
	"$PY" bench/auth_lock.py victim "$port" victim "$victim_secret" \
	    "$COUNT" "$CAP" >"$tmp/res.$1.$2" 2>&1 &
	victim_pid=$!
	wait "$victim_pid"
	_rc=$?
	victim_pid=
	stop_attacks
	printf '%-10s run %d: %s' "$1" "$2" "$(cat "$tmp/res.$1.$2")"
	if [ "$1" != alone ]; then
		# The load the loops made, so that runs can be compared.
		cat "$tmp/att.$1.$2".* | awk '
		{ for (i = 1; i <= NF; i++) if ($i ~ /^sent=/) n += substr($i, 6)
		  if (match($0, /\(([0-9.]+)\/s\)/)) r += substr($0, RSTART + 1,
		      RLENGTH - 4)
		  # A wrong secret must be refused; any other answer means the
		  # loop did not load the server as intended.
		  if (match($0, /statuses=.*/)) {
			k = split(substr($0, RSTART + 9), st, ",")
			for (i = 1; i <= k; i++) {
				split(st[i], sv, ":")
				if (sv[1] != 401)
					bad += sv[2]
			}
		  } }
		END { printf "; loops sent %d (%.1f/s), %d not 401", n, r, bad }'
	fi
	echo
	return $_rc
}

# The checkout the binaries sit in, as a hint: it may have moved on since
# they were built.
tree=$(git -C "$(dirname "$FCGI")" rev-parse --short HEAD 2>/dev/null)
echo "== victim token latency, ms: $COUNT sequential requests per run," \
    "$LOOPS wrong-secret loops, lighttpd + $PROCS oauth.fcgi," \
    "OAUTH_DB_SYNC=$SYNC"
echo "binaries: $FCGI${tree:+ (its checkout is at $tree now)}"
echo "machine: $(nproc) cores, $(uname -sr), load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
r=1
while [ $r -le "$RUNS" ]; do
	for cfg in alone introspect token; do
		run_one "$cfg" "$r" || {
			echo "auth_lock: the victim's requests failed" >&2
			exit 1
		}
	done
	r=$((r + 1))
done

# The medians (for an even number of runs, the mean of the middle two).
echo
echo "| configuration | p50 | p90 | p99 | runs (p50/p90/p99) |"
echo "|---|---|---|---|---|"
for cfg in alone introspect token; do
	cat "$tmp/res.$cfg".* | awk -v cfg="$cfg" '
	function med(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			v[kv[1], NR] = kv[2]
		}
		runs = runs (NR > 1 ? ", " : "") v["p50", NR] "/" v["p90", NR] \
		    "/" v["p99", NR]
	}
	END {
		for (k = 50; k <= 99; k += (k == 50 ? 40 : 9)) {
			for (i = 1; i <= NR; i++)
				a[i] = v["p" k, i]
			m[k] = med(a, NR)
		}
		printf "| %s | %.1f | %.1f | %.1f | %s |\n", cfg, m[50], m[90],
		    m[99], runs
		printf "%s %f %f %f\n", cfg, m[50], m[90], m[99] >"/dev/stderr"
	}' 2>>"$tmp/medians"
done
awk '
$1 == "introspect" { i50 = $2; i99 = $4 }
$1 == "token" { t50 = $2; t99 = $4 }
END {
	if (i50 > 0 && i99 > 0)
		printf "\ntoken / introspect: %.1fx at p50, %.1fx at p99\n",
		    t50 / i50, t99 / i99
}' "$tmp/medians"
