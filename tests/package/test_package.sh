#!/bin/sh
# The Debian package (debian/) as its users get it: built with
# dpkg-buildpackage (make deb), installed with apt-get, enabled in a real
# Apache with the snippet it ships, upgraded to a rebuilt package of a
# higher version, removed and purged.  Between those: files, modes and
# owners; a client registered with the installed oauthctl as www-data; a
# token issued and introspected through that Apache; after the upgrade the
# same client and token still there; after purge the database gone.
#
# It installs and purges fcgi-oauth on this machine, so it runs as root on
# a machine that is not already running the package (CI's throwaway one):
# it skips, with a visible line, when not root, when fcgi-oauth is already
# installed, or when dpkg-buildpackage, debhelper, apache2 or mod_fcgid is
# missing.  The Apache is a separate instance on a free 127.0.0.1 port with
# its own configuration, never the system's apache2 service.  Whether it
# passes or fails, it stops what it started and purges the package.
# Last line: "N passed, M failed".

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_package
. tests/web/lib_server.sh

PKG=fcgi-oauth
DB=/var/lib/fcgi-oauth
CONF=/etc/fcgi-oauth/oauth.conf
SNIPPET=/etc/apache2/conf-available/fcgi-oauth.conf
SVC_SECRET=$WS_SVC_SECRET
RS_SECRET=$WS_RS_SECRET
BUILD_TIMEOUT=600	# seconds for one dpkg-buildpackage
APT_TIMEOUT=300		# seconds for one apt-get

[ "$(id -u)" -eq 0 ] || ws_skip "not root (the test installs a package)"
ws_need_cmd dpkg-buildpackage dpkg-dev
ws_need_file /usr/share/perl5/Debian/Debhelper/Dh_Lib.pm debhelper
ws_need_cmd apt-get apt
ws_need_cmd apache2 apache2
ws_need_file /usr/lib/apache2/modules/mod_fcgid.so libapache2-mod-fcgid
ws_need_cmd runuser util-linux
ws_need_common
if [ "$(dpkg-query -W -f='${Status}' $PKG 2>/dev/null)" = \
    "install ok installed" ]; then
	ws_skip "$PKG is installed on this machine; the test would purge it"
fi

ws_tmp=$(mktemp -d "${TMPDIR:-/tmp}/$WS_NAME.XXXXXX") || exit 1
chmod 0755 "$ws_tmp"
WS_RUN=$ws_tmp/run
WS_BIN=/usr/sbin	# ws_responders: the installed oauth.fcgi
WS_DB=$DB
WS_HTPASSWD=/etc/fcgi-oauth/htpasswd
pkg_installed=

# Stop what runs, purge what this test installed, remove the temp dir.
pkg_cleanup() {
	for _p in $ws_pids; do
		ws_stop "$_p"
	done
	ws_pids=
	ws_kill_strays >/dev/null
	if [ -n "$pkg_installed" ] && dpkg-query -W $PKG >/dev/null 2>&1; then
		pkg_apt purge $PKG >/dev/null 2>&1 ||
		    dpkg --purge $PKG >/dev/null 2>&1
	fi
	[ "${WS_KEEP:-0}" = 1 ] || rm -rf "$ws_tmp"
}
trap pkg_cleanup EXIT
trap 'exit 130' INT TERM HUP

pkg_apt() {
	DEBIAN_FRONTEND=noninteractive timeout "$APT_TIMEOUT" \
	    apt-get -y -q --no-install-recommends "$@" </dev/null
}

# pkg_log DESC LOG CMD...: CMD with its output in LOG, shown (the end)
# when it fails; one result line.
pkg_log() {
	_desc=$1 _log=$2
	shift 2
	if "$@" >"$_log" 2>&1 </dev/null; then
		ws_ok "$_desc"
		return 0
	fi
	ws_notok "$_desc"
	tail -n 25 "$_log" | sed 's/^/#   /'
	return 1
}

ctl() {
	runuser -u www-data -- oauthctl --db "$DB" "$@"
}

# pkg_mode PATH: owner:group and octal mode.
pkg_mode() {
	stat -c '%U:%G %a' "$1" 2>/dev/null
}

# pkg_apache: a separate apache2 on a free loopback port: the whole-server
# part of etc/apache2/oauth-fcgid.conf (modules, run dir, User www-data)
# with the package's snippet Included, as a Debian apache2 would after
# `a2enconf fcgi-oauth`.  0 once it answers.
pkg_apache() {
	WS_PORT=$(ws_free_port) || { ws_notok "a free port"; return 1; }
	rm -rf "$WS_RUN"
	mkdir -p "$WS_RUN"
	chown www-data: "$WS_RUN"
	sed -n '1,/^# ---- The authorization server/p' \
	    etc/apache2/oauth-fcgid.conf >"$ws_tmp/head.conf"
	ws_render "$ws_tmp/head.conf" "$WS_RUN/apache2.conf" || return 1
	echo "Include $SNIPPET" >>"$WS_RUN/apache2.conf"
	ws_check "apache2 -t accepts the server with the package's snippet" \
	    ws_quiet apache2 -t -f "$WS_RUN/apache2.conf"
	ws_start apache2 apache2 -f "$WS_RUN/apache2.conf" -DFOREGROUND
	ws_came_up "apache2 answers on 127.0.0.1:$WS_PORT" http "$WS_PORT" \
	    "$WS_RUN/apache2.out" "$WS_RUN/error.log"
}

# ---- Build ---------------------------------------------------------------

pkg_log "make deb builds the package" "$ws_tmp/build1.log" \
    timeout "$BUILD_TIMEOUT" make --no-print-directory deb || ws_finish
DEB1=$(ls "$PWD"/build/${PKG}_*.deb 2>/dev/null | head -n 1)
ws_check "the .deb is in build/ ($(basename "${DEB1:-none}"))" [ -f "$DEB1" ]
[ -f "$DEB1" ] || ws_finish
V1=$(dpkg-deb -f "$DEB1" Version)

# The upgrade: the same tree rebuilt with a higher version, as a
# changelog entry (dch -l) would give it.
V2=$V1+pkgtest1
mkdir -p "$ws_tmp/v2"
cp -a build/deb/$PKG "$ws_tmp/v2/$PKG"
{
	echo "$PKG ($V2) unstable; urgency=medium"
	echo
	echo "  * Rebuilt by tests/package/test_package.sh to test upgrades."
	echo
	echo " -- fcgi-oauth maintainers <fcgi-oauth@example.org>  $(date -R)"
	echo
	cat "$ws_tmp/v2/$PKG/debian/changelog"
} >"$ws_tmp/changelog"
mv "$ws_tmp/changelog" "$ws_tmp/v2/$PKG/debian/changelog"
pkg_log "dpkg-buildpackage rebuilds it as $V2" "$ws_tmp/build2.log" \
    sh -c "cd '$ws_tmp/v2/$PKG' && DEB_BUILD_OPTIONS=nocheck \
	timeout $BUILD_TIMEOUT dpkg-buildpackage -us -uc -b"
DEB2=$(ls "$ws_tmp"/v2/${PKG}_"$V2"_*.deb 2>/dev/null | head -n 1)

if command -v lintian >/dev/null 2>&1; then
	lintian "$PWD"/build/deb/${PKG}_"$V1"_*.changes >"$ws_tmp/lintian.out" 2>&1
	grep -E '^[EWI]: ' "$ws_tmp/lintian.out" | sed 's/^/#   /'
	ws_check "lintian: no error or warning" \
	    sh -c "! grep -qE '^[EW]: ' '$ws_tmp/lintian.out'"
else
	echo "# lintian not installed: not run (apt-get install lintian)"
fi

# ---- Install -------------------------------------------------------------

pkg_installed=1
pkg_log "apt-get install ./$(basename "$DEB1")" "$ws_tmp/install1.log" \
    pkg_apt install "$DEB1" || ws_finish

ws_check "oauth.fcgi in /usr/sbin, 0755" \
    [ "$(pkg_mode /usr/sbin/oauth.fcgi)" = "root:root 755" ]
ws_check "oauthctl in /usr/bin, 0755" \
    [ "$(pkg_mode /usr/bin/oauthctl)" = "root:root 755" ]
ws_check "the signing module in /usr/lib/fcgi-oauth, 0644" \
    [ "$(pkg_mode /usr/lib/fcgi-oauth/oauth-jose.so)" = "root:root 644" ]
ws_check "the man pages oauth.fcgi(8), oauthctl(8)" \
    [ -f /usr/share/man/man8/oauth.fcgi.8.gz \
    -a -f /usr/share/man/man8/oauthctl.8.gz ]
ws_check "the example configurations under /usr/share/doc/$PKG/examples" \
    [ -f /usr/share/doc/$PKG/examples/apache2/oauth-fcgid.conf ]
for _f in $CONF $SNIPPET /etc/lighttpd/conf-available/50-fcgi-oauth.conf \
    /etc/nginx/snippets/fcgi-oauth.conf; do
	ws_check "$_f is a conffile" \
	    sh -c "dpkg-query -W -f='\${Conffiles}' $PKG | grep -q ' $_f '"
done
ws_check "systemd unit oauth-fcgi.service runs /usr/sbin/oauth.fcgi --threads 8" \
    grep -q '^ExecStart=.* /usr/sbin/oauth.fcgi --threads 8$' \
    /lib/systemd/system/oauth-fcgi.service
ws_check "systemd unit oauth-purge.service runs /usr/bin/oauthctl purge" \
    grep -q '^ExecStart=/usr/bin/oauthctl purge$' \
    /lib/systemd/system/oauth-purge.service
ws_check "systemd unit oauth-purge.timer" \
    grep -q '^OnCalendar=' /lib/systemd/system/oauth-purge.timer
ws_check "$CONF names the database" grep -qx "OAUTH_DB=$DB" "$CONF"
ws_check "no snippet is enabled by the package" \
    [ ! -e /etc/apache2/conf-enabled/fcgi-oauth.conf \
    -a ! -e /etc/lighttpd/conf-enabled/50-fcgi-oauth.conf ]
ws_check "$DB is www-data's, 0700 ($(pkg_mode $DB))" \
    [ "$(pkg_mode $DB)" = "www-data:www-data 700" ]
ws_check "its data.mdb is www-data's, 0600 ($(pkg_mode $DB/data.mdb))" \
    [ "$(pkg_mode $DB/data.mdb)" = "www-data:www-data 600" ]
ctl key list >"$ws_tmp/keys1" 2>&1
ws_check "postinst initialised it: a signing key" grep -q RS256 "$ws_tmp/keys1"

# The other two snippets, as lighty-enable-mod and an nginx server block
# would take them: accepted by the server's own syntax check.
if command -v lighttpd >/dev/null 2>&1; then
	cat >"$ws_tmp/lighttpd.conf" <<LIGHTTPD
server.modules = ( "mod_access" )
server.bind = "127.0.0.1"
server.port = 9
server.document-root = "$ws_tmp"
include "/etc/lighttpd/conf-available/10-fastcgi.conf"
include "/etc/lighttpd/conf-available/05-auth.conf"
include "/etc/lighttpd/conf-available/10-rewrite.conf"
include "/etc/lighttpd/conf-available/50-fcgi-oauth.conf"
LIGHTTPD
	ws_check "lighttpd -tt accepts 50-fcgi-oauth.conf with its depends" \
	    ws_quiet lighttpd -tt -f "$ws_tmp/lighttpd.conf"
fi
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
	cat >"$ws_tmp/nginx.conf" <<NGINX
pid $ws_tmp/nginx.pid;
error_log $ws_tmp/nginx-error.log;
events { worker_connections 16; }
http {
	server {
		listen 127.0.0.1:9;
		include /etc/nginx/snippets/fcgi-oauth.conf;
	}
}
NGINX
	ws_check "nginx -t accepts snippets/fcgi-oauth.conf in a server block" \
	    ws_quiet nginx -t -q -e "$ws_tmp/nginx-error.log" -c "$ws_tmp/nginx.conf"
fi

# ---- Under Apache ----------------------------------------------------------

ws_check "client svc registered with /usr/bin/oauthctl as www-data" \
    ws_quiet ctl client add svc --secret "$SVC_SECRET" --scope "read write" \
    --grant-types client_credentials
ws_check "client rs (--introspect) registered" \
    ws_quiet ctl client add rs --secret "$RS_SECRET" --scope read \
    --grant-types client_credentials --introspect
ws_check "client jwt (--token-format jwt) registered" \
    ws_quiet ctl client add jwt --secret "$SVC_SECRET" --scope read \
    --grant-types client_credentials --token-format jwt

tok=
if pkg_apache; then
	ws_as=http://127.0.0.1:$WS_PORT/oauth
	ws_http "$ws_as/.well-known/oauth-authorization-server"
	ws_expect "metadata at /oauth names the issuer" 200 "issuer=$ws_as" \
	    "token_endpoint=$ws_as/token"
	ws_http "$ws_as/token" -u "svc:$SVC_SECRET" \
	    -d grant_type=client_credentials -d scope=read
	ws_expect "POST /oauth/token through Apache: a token" 200 \
	    access_token=? token_type=Bearer scope=read
	tok=$(ws_json access_token)
	ws_http "$ws_as/introspect" -u "rs:$RS_SECRET" -d "token=$tok"
	ws_expect "POST /oauth/introspect through Apache: active" 200 \
	    active=true client_id=svc scope=read
	# Signed by the module the package puts in /usr/lib/fcgi-oauth.
	ws_http "$ws_as/token" -u "jwt:$SVC_SECRET" \
	    -d grant_type=client_credentials
	ws_expect "a JWT access token through Apache" 200 access_token=?
	ws_check "... signed: header.claims.signature" sh -c \
	    "echo '$(ws_json access_token)' | grep -qE '^[^.]+[.][^.]+[.][^.]+\$'"
	_u=$(for _p in $(ws_responders); do
		stat -c %U "/proc/$_p"; done | sort -u | tr '\n' ' ')
	ws_check "mod_fcgid runs /usr/sbin/oauth.fcgi as www-data (${_u% })" \
	    [ "$_u" = "www-data " ]
fi
ws_stop_server "$ws_pid" apache2

# ---- Upgrade ---------------------------------------------------------------

echo "# operator's line" >>"$CONF"
if [ -f "$DEB2" ] && pkg_log "apt-get install ./$(basename "$DEB2") (upgrade)" \
    "$ws_tmp/install2.log" pkg_apt install "$DEB2"; then
	ws_check "version $V2 installed" [ "$(dpkg-query -W \
	    -f='${Version}' $PKG)" = "$V2" ]
	ws_check "the operator's edit of $CONF is kept" \
	    grep -qx "# operator's line" "$CONF"
	ws_check "$DB still www-data's, 0700" \
	    [ "$(pkg_mode $DB)" = "www-data:www-data 700" ]
	ws_check "client svc survives the upgrade" ws_quiet ctl client show svc
	ctl key list >"$ws_tmp/keys2" 2>&1
	ws_check "the signing keys survive it, none added" \
	    cmp -s "$ws_tmp/keys1" "$ws_tmp/keys2"
	ws_check "oauthctl check finds the database sound" ws_quiet ctl check
	if pkg_apache; then
		ws_as=http://127.0.0.1:$WS_PORT/oauth
		ws_http "$ws_as/introspect" -u "rs:$RS_SECRET" -d "token=$tok"
		ws_expect "the token issued before the upgrade is still active" \
		    200 active=true client_id=svc
		ws_http "$ws_as/token" -u "svc:$SVC_SECRET" \
		    -d grant_type=client_credentials
		ws_expect "a new token after the upgrade" 200 access_token=?
	fi
	ws_stop_server "$ws_pid" apache2
else
	ws_notok "the upgrade is installed"
fi

# ---- Remove and purge ------------------------------------------------------

pkg_log "apt-get remove $PKG" "$ws_tmp/remove.log" pkg_apt remove $PKG
ws_check "remove keeps the database" [ -f $DB/data.mdb ]
ws_check "remove keeps the conffiles" [ -f "$CONF" ]
pkg_log "apt-get purge $PKG" "$ws_tmp/purge.log" pkg_apt purge $PKG
ws_check "purge says it removes the database" \
    grep -q "purge removes the database $DB" "$ws_tmp/purge.log"
ws_check "purge removes $DB" [ ! -e $DB ]
ws_check "purge removes /etc/fcgi-oauth and the snippets" \
    [ ! -e /etc/fcgi-oauth -a ! -e "$SNIPPET" ]
ws_check "www-data (base-passwd's) stays" ws_quiet getent passwd www-data
ws_finish
