#!/bin/sh
# Install the Debian packages that building, testing and the demo use,
# only those missing.  One short line when all are there.  Elsewhere, say
# what is needed and succeed when pkg-config finds the libraries.
#
# That includes the web servers tests/web drives (Apache, nginx,
# spawn-fcgi); their daemons are kept from starting at install, since the
# tests start their own on loopback ports.  WEB_SERVERS=0 leaves them out
# (their tests then skip).

set -u

# Building: compiler, make, pkg-config and the seven libraries.
BUILD_PKGS="gcc make pkg-config libc6-dev libfcgi-dev libcjson-dev
liblmdb-dev nettle-dev libssl-dev libseccomp-dev libpq-dev"
# Testing and the demo: cmocka units, lighttpd for tests/web and make run,
# python3 for run_cases.py, curl to poll the test server, lmdb-utils for
# mdb_dump in tests/ctl.
TEST_PKGS="libcmocka-dev lighttpd python3 curl lmdb-utils"
# tests/web beyond lighttpd: lib_server.sh needs ss and setsid; PyJWT
# checks ID Tokens, mod_auth_openidc is a relying party; PostgreSQL for
# the suites that run on it (tests/lib_pg.sh starts its own server).
WEB_PKGS="apache2 libapache2-mod-fcgid libapache2-mod-oauth2
libapache2-mod-auth-openidc nginx spawn-fcgi python3-authlib
python3-requests python3-jwt iproute2 util-linux postgresql"
# make reliability (RELIABILITY=1) also: valgrind for the memory suite,
# setpriv (util-linux) for the faults suite; lighttpd, lmdb-utils and
# python3 are in TEST_PKGS already.
RELIABILITY_PKGS="valgrind util-linux"
# make check-package (PACKAGE=1) also: dpkg-buildpackage with debhelper,
# and lintian; Apache and mod_fcgid are in WEB_PKGS.
PACKAGE_PKGS="debhelper dpkg-dev fakeroot lintian"
PKGS=$(echo $BUILD_PKGS $TEST_PKGS)
[ "${WEB_SERVERS:-1}" = 1 ] && PKGS=$(echo $PKGS $WEB_PKGS)
[ "${RELIABILITY:-0}" = 1 ] && PKGS=$(echo $PKGS $RELIABILITY_PKGS)
[ "${PACKAGE:-0}" = 1 ] && PKGS=$(echo $PKGS $PACKAGE_PKGS)
LIBS="fcgi libcjson lmdb nettle libcrypto libseccomp libpq cmocka"

if ! command -v dpkg-query >/dev/null 2>&1 ||
    ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: not a Debian system; needed (Debian names): $PKGS"
	if command -v pkg-config >/dev/null 2>&1 &&
	    pkg-config --exists $LIBS 2>/dev/null; then
		echo "deps: pkg-config finds $LIBS"
		exit 0
	fi
	echo "deps: pkg-config does not find all of: $LIBS" >&2
	exit 1
fi

# missing PACKAGE...: those not installed.
missing() {
	for p in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
		[ "$status" = "install ok installed" ] || printf ' %s' "$p"
	done
}

core=$(missing $BUILD_PKGS $TEST_PKGS)
[ "${RELIABILITY:-0}" = 1 ] && core="$core$(missing $RELIABILITY_PKGS)"
[ "${PACKAGE:-0}" = 1 ] && core="$core$(missing $PACKAGE_PKGS)"
web=
[ "${WEB_SERVERS:-1}" = 1 ] && web=$(missing $WEB_PKGS)
if [ -z "$core$web" ]; then
	echo "deps: all $(echo $PKGS | wc -w) packages installed"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	as_root=
elif command -v sudo >/dev/null 2>&1; then
	as_root=sudo
else
	echo "deps: not root and no sudo: as root, run" >&2
	echo "  apt-get install --no-install-recommends$core$web" >&2
	exit 1
fi
apt() {
	$as_root env DEBIAN_FRONTEND=noninteractive apt-get "$@"
}

echo "deps: installing$core$web"
apt update -q || exit 1
if [ -n "$core" ]; then
	# shellcheck disable=SC2086
	apt install -y -q --no-install-recommends $core || exit 1
fi
if [ -n "$web" ]; then
	# policy-rc.d answering 101 keeps Debian's maintainer scripts from
	# starting the daemons (they would compete for port 80); it is ours
	# only while we install, and only when the machine had none.
	policy=/usr/sbin/policy-rc.d
	own_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | $as_root tee "$policy" >/dev/null &&
		    $as_root chmod 0755 "$policy" && own_policy=1
	fi
	# shellcheck disable=SC2086
	apt install -y -q --no-install-recommends $web ||
	    echo "deps: some of$web failed to install; their tests skip"
	[ -n "$own_policy" ] && $as_root rm -f "$policy"
fi
exit 0
