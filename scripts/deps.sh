#!/bin/sh
# Install the Debian packages that building, testing and the demo use,
# only those missing.  One short line when all are there.  Elsewhere, say
# what is needed and succeed when pkg-config finds the libraries.
#
# WEB_SERVERS=1 adds what the Apache and nginx tests of tests/web use
# (they skip without it).  Not by default: on a machine with an init
# system, installing them starts daemons that compete for port 80.

set -u

# Building: compiler, make, pkg-config and the four libraries.
BUILD_PKGS="gcc make pkg-config libc6-dev libfcgi-dev libcjson-dev
liblmdb-dev libssl-dev"
# Testing and the demo: cmocka units, lighttpd for tests/web and make run,
# python3 for run_cases.py, curl to poll the test server, lmdb-utils for
# mdb_dump in tests/ctl.
TEST_PKGS="libcmocka-dev lighttpd python3 curl lmdb-utils"
# tests/web beyond lighttpd: lib_server.sh needs ss and setsid.
WEB_PKGS="apache2 libapache2-mod-fcgid libapache2-mod-oauth2 nginx
spawn-fcgi python3-authlib python3-requests iproute2 util-linux"
PKGS=$(echo $BUILD_PKGS $TEST_PKGS)
[ "${WEB_SERVERS:-0}" = 1 ] && PKGS=$(echo $PKGS $WEB_PKGS)
LIBS="fcgi libcjson lmdb libcrypto cmocka"

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
web=
[ "${WEB_SERVERS:-0}" = 1 ] && web=$(missing $WEB_PKGS)
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
	# Best effort: a web server whose daemon fails to start at install
	# (port 80 taken) must not stop the build; its tests then skip.
	# shellcheck disable=SC2086
	apt install -y -q --no-install-recommends $web ||
	    echo "deps: some of$web failed to install; their tests skip"
fi
exit 0
