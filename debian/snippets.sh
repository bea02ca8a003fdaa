#!/bin/sh
# Writes into debian/generated/ what the package ships under /etc and
# /lib/systemd, derived from the templates in etc/ (etc/README.md) with the
# Debian paths filled in: the responder in /usr/sbin, oauthctl in /usr/bin,
# the database in /var/lib/fcgi-oauth, the configuration in
# /etc/fcgi-oauth/oauth.conf.  The web server snippets keep only the
# template's part below "The authorization server" (the rest is a whole
# server, which Debian's apache2, lighttpd and nginx already are).
# Run by debian/rules from the top of the tree.

set -eu

DB=/var/lib/fcgi-oauth
CONF=/etc/fcgi-oauth/oauth.conf
HTPASSWD=/etc/fcgi-oauth/htpasswd
OUT=debian/generated

rm -rf "$OUT"
mkdir -p "$OUT"

# section FILE: the lines after "---- The authorization server".
section() {
	sed -n '/^# ---- The authorization server/,$p' "$1" | sed 1d
}

# Apache: the snippet counts only when mod_fcgid is loaded, so that an
# enabled snippet without the module serves nothing (it would otherwise
# hand out /usr/sbin/oauth.fcgi as a file).
{
	cat <<HEAD
# fcgi-oauth under Debian's Apache 2.4 with mod_fcgid: the endpoints at
# /oauth on every virtual host.  Enable with
#
#   a2enmod fcgid rewrite && a2enconf fcgi-oauth && systemctl reload apache2
#
# mod_fcgid starts /usr/sbin/oauth.fcgi as www-data, which owns the
# database $DB; settings are in $CONF.  /oauth/authorize
# signs users in with Basic authentication against $HTPASSWD
# (htpasswd -cB $HTPASSWD NAME).  Serve it over TLS: tokens and client
# secrets travel in these requests.  Derived from etc/apache2/oauth-fcgid.conf
# of the source.
HEAD
	echo '<IfModule mod_fcgid.c>'
	section etc/apache2/oauth-fcgid.conf |
	    sed -e '/^FcgidInitialEnv OAUTH_DB /d' \
		-e "s|^#FcgidInitialEnv OAUTH_CONFIG .*|FcgidInitialEnv OAUTH_CONFIG \"$CONF\"|" \
		-e "s|(etc/oauth.conf lists the|($CONF lists the|" \
		-e "s|@BUILD@|/usr/sbin|g" -e "s|@HTPASSWD@|$HTPASSWD|g"
	echo '</IfModule>'
} >"$OUT/apache2.conf"

# lighttpd: lighty-enable-mod enables the modules named in "depends".
{
	cat <<HEAD
# -*- depends: fastcgi auth rewrite -*-
# fcgi-oauth under Debian's lighttpd with mod_fastcgi: the endpoints at
# /oauth.  Enable with
#
#   lighty-enable-mod fcgi-oauth && systemctl reload lighttpd
#
# lighttpd starts /usr/sbin/oauth.fcgi as www-data, which owns the
# database $DB; settings are in $CONF.  /oauth/authorize
# signs users in with Basic authentication against $HTPASSWD.
# Serve it over TLS.  Derived from etc/lighttpd/oauth-fastcgi.conf of the
# source.

server.modules += ( "mod_authn_file" )
HEAD
	section etc/lighttpd/oauth-fastcgi.conf |
	    sed -e '/"OAUTH_DB" => /d' \
		-e "s|#\"OAUTH_CONFIG\" => .*|\"OAUTH_CONFIG\" => \"$CONF\",|" \
		-e "s|(etc/oauth.conf lists the|($CONF lists the|" \
		-e "s|@RUNDIR@/oauth.sock|/run/lighttpd/fcgi-oauth.sock|g" \
		-e 's|^fastcgi.server = (|fastcgi.server += (|' \
		-e 's|^auth.require = (|auth.require += (|' \
		-e 's| *Everything else stays denied (url.access-deny above).||' \
		-e "s|@BUILD@|/usr/sbin|g" -e "s|@HTPASSWD@|$HTPASSWD|g"
} >"$OUT/lighttpd.conf"

# nginx: what goes in a server block, talking to the responder that
# oauth-fcgi.service runs on /run/fcgi-oauth/oauth.sock.
{
	cat <<HEAD
# fcgi-oauth behind Debian's nginx: the endpoints at /oauth.  Put
#
#   include snippets/fcgi-oauth.conf;
#
# in a server block (served over TLS), then
#
#   systemctl enable --now oauth-fcgi && systemctl reload nginx
#
# oauth-fcgi.service (spawn-fcgi) runs /usr/sbin/oauth.fcgi as www-data on
# the socket /run/fcgi-oauth/oauth.sock; settings are in $CONF.
# /oauth/authorize signs users in with Basic authentication against
# $HTPASSWD.  Derived from etc/nginx/oauth-spawn-fcgi.conf of the source.

HEAD
	sed -n '/^		client_max_body_size/,/^		# Nothing else is served/p' \
	    etc/nginx/oauth-spawn-fcgi.conf | sed '$d' |
	    sed -e 's|^		||' -e "s|@SOCKET@|/run/fcgi-oauth/oauth.sock|g" \
		-e "s|@HTPASSWD@|$HTPASSWD|g"
} >"$OUT/nginx.conf"

# The systemd units: the paths of the package, and www-data, which owns
# the database, instead of the dedicated user of the templates (the web
# servers' own responders run as www-data and use the same database).
units() {
	sed -e "s|@BUILD@/oauth.fcgi|/usr/sbin/oauth.fcgi|g" \
	    -e "s|@BUILD@/oauthctl|/usr/bin/oauthctl|g" \
	    -e 's|^User=oauth-fcgi|User=www-data|' \
	    -e 's|^Group=oauth-fcgi|Group=www-data|' \
	    -e 's|%S/oauth-fcgi|%S/fcgi-oauth|g' \
	    -e 's|%t/oauth-fcgi|%t/fcgi-oauth|g' \
	    -e 's|^StateDirectory=oauth-fcgi|StateDirectory=fcgi-oauth|' \
	    -e 's|^RuntimeDirectory=oauth-fcgi|RuntimeDirectory=fcgi-oauth|' \
	    -e "s|/etc/oauth-fcgi/oauth.conf|$CONF|g" "$1" |
	    # The template's opening comment is about a source install.
	    sed '1,/^$/d'
}
{
	cat <<HEAD
# fcgi-oauth as a FastCGI service for nginx (/etc/nginx/snippets/
# fcgi-oauth.conf): spawn-fcgi binds /run/fcgi-oauth/oauth.sock (0660,
# owned by www-data, so nginx's workers connect), puts it on the standard
# input of oauth.fcgi and execs it, as www-data, which owns the database
# $DB.  Not enabled by the package:
#
#   systemctl enable --now oauth-fcgi
#
# Apache (mod_fcgid) and lighttpd start their own oauth.fcgi and do not
# need it.  Derived from etc/systemd/oauth-fcgi.service of the source.

HEAD
	units etc/systemd/oauth-fcgi.service
} >"$OUT/oauth-fcgi.service"
{
	cat <<HEAD
# Drops expired tokens, codes and grants from the fcgi-oauth database
# $DB, so that it does not grow without bound; started hourly by
# oauth-purge.timer.  It runs as www-data, which owns the database, with
# the configuration file of the responders ($CONF): LMDB lets it work
# beside them, in short write transactions.

HEAD
	units etc/systemd/oauth-purge.service
} >"$OUT/oauth-purge.service"
cp etc/systemd/oauth-purge.timer "$OUT/oauth-purge.timer"

# The conffile: the keys of etc/oauth.conf, the database filled in.
sed -e "s|^OAUTH_DB=@DB@|OAUTH_DB=$DB|" \
    -e "s|(e.g. /etc/oauth-fcgi/oauth.conf)|($CONF)|" \
    -e "s|/etc/oauth-fcgi/oauth.conf|$CONF|g" etc/oauth.conf >"$OUT/oauth.conf"

if grep -n '@[A-Z_]*@' "$OUT"/*; then
	echo "snippets.sh: a placeholder is left" >&2
	exit 1
fi
