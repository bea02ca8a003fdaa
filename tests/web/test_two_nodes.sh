#!/bin/sh
# Two machines on one PostgreSQL database, as SPEC.md's storage contract
# has them: node A is lighttpd with mod_fastcgi spawning two oauth.fcgi
# responders (etc/lighttpd/oauth-fastcgi.conf), node B is nginx in front
# of spawn-fcgi -F 2 (etc/nginx/oauth-spawn-fcgi.conf), each on its own
# loopback port, all four responders with the same OAUTH_DB
# (postgresql://, a server of the test's own from tests/lib_pg.sh) and the
# same OAUTH_ISSUER.  Checked through them (tests/web/lib_nodes.py):
#
# - a token issued through one node introspects active through the other
#   at once, ROUNDS_CROSS times alternating direction; one revoked through
#   one node is {"active":false} through the other at once, both ways;
# - one authorization code redeemed by PER_NODE requests to each node at
#   once: exactly one 200, the rest 400 invalid_grant, ROUNDS_RACE rounds,
#   and the winner's tokens revoked by the replays (RFC 6749 §4.1.2);
# - one refresh token rotated the same way: exactly one 200, the rest
#   invalid_grant, after which every token of the grant is inactive
#   through both nodes (RFC 9700 §4.14.2);
# - each of the four responders holds one connection to PostgreSQL;
# - the same counts in the database (psql): one used code and one token
#   pair per round, one rotation and a revoked grant per round.
#
# Skips, with a visible line, when PostgreSQL, lighttpd, nginx or
# spawn-fcgi is missing.  Last line: "N passed, M failed".
#
# Environment: FCGI, OAUTHCTL (binaries, default build/), LOG_DIR,
# ROUNDS_CROSS (100), ROUNDS_RACE (50), PER_NODE (3).

cd "$(dirname "$0")/../.." || exit 1
WS_NAME=test_two_nodes
# Always a PostgreSQL server of the suite's own (lib_nodes.sh), never the
# one OAUTH_TEST_BACKEND or OAUTH_TEST_PG would give lib_server.sh: this
# suite stops and restarts it, or counts its connections.
OAUTH_TEST_BACKEND=lmdb
. tests/web/lib_server.sh
. tests/web/lib_nodes.sh

ROUNDS_CROSS=${ROUNDS_CROSS:-100}
ROUNDS_RACE=${ROUNDS_RACE:-50}
PER_NODE=${PER_NODE:-3}

ws_need_common
ws_need_cmd lighttpd lighttpd
ws_need_cmd nginx nginx
ws_need_cmd spawn-fcgi spawn-fcgi
ws_need_build
nodes_init

nodes_lighttpd A || ws_finish
nodes_nginx B || ws_finish
ws_check "node A runs two responders under lighttpd" \
    [ "$(nodes_responders A | wc -l)" -eq 2 ]
a_before=$(nodes_responders A | sort | tr '\n' ' ')
b_before=$(nodes_responders B | sort | tr '\n' ' ')
echo "# node A: $NODES_BASE_A, responders $a_before"
echo "# node B: $NODES_BASE_B, responders $b_before"

nodes_py cross "$NODES_BASE_A" "$NODES_BASE_B" "$ROUNDS_CROSS"
nodes_py coderace "$NODES_BASE_A" "$NODES_BASE_B" "$ROUNDS_RACE" "$PER_NODE"
nodes_py refreshrace "$NODES_BASE_A" "$NODES_BASE_B" "$ROUNDS_RACE" \
    "$PER_NODE"

# Each responder keeps one connection, whatever it served.
conns=$(nodes_connections)
ws_check "PostgreSQL has one connection per responder: 4 ($conns)" \
    [ "$conns" = 4 ]

# Every responder served to the end: none died and was replaced.
ws_check "node A's responders are the ones it started ($a_before)" \
    [ "$(nodes_responders A | sort | tr '\n' ' ')" = "$a_before" ]
ws_check "node B's responders are the ones spawn-fcgi forked ($b_before)" \
    [ "$(nodes_responders B | sort | tr '\n' ' ')" = "$b_before" ]
crashes=$(nodes_crashes A)
ws_check "lighttpd's log tells of no responder dying" [ -z "$crashes" ]
[ -z "$crashes" ] || {
	echo "$crashes" | sed 's/^/#   /'
	nodes_seccomp A | sed 's/^/#   seccomp: /'
}
ws_check "oauthctl check passes on the shared database" \
    ws_quiet ws_ctl check

ws_check "node B's nginx stops on SIGTERM" ws_stop "$NODES_PID_B"
for p in $(nodes_responders B); do
	ws_check "node B's responder $p stops on SIGTERM" ws_stop "$p"
done
ws_check "node A's lighttpd stops on SIGTERM" ws_stop "$NODES_PID_A"
nodes_check_gone A "node A's lighttpd"
ws_finish
