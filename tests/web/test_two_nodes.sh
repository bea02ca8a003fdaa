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
# - a refresh racing the revocation of its refresh token through the
#   other node ends as one of the two orders would, and the grant ends
#   either way, in the answers and in the database;
# - mixed rounds: two refreshes, the revocations of the refresh and the
#   access token, two replays of the code and introspections of one grant
#   at once across both nodes: no 5xx, at most one refresh wins, and every
#   token of the grant ends inactive (the replays revoke it);
# - a client secret changed, a client removed and a key generated with
#   oauthctl are seen so through both nodes at once;
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
# one OAUTH_TEST_BACKEND or OAUTH_TEST_PG would give lib_server.sh: it
# counts the server's connections.
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
nodes_py revokerace "$NODES_BASE_A" "$NODES_BASE_B" "$ROUNDS_RACE"
nodes_py mixed "$NODES_BASE_A" "$NODES_BASE_B" "$ROUNDS_RACE"

# What the operator changes with oauthctl is seen through both nodes at
# once: a new client secret (the old one refused, also by responders
# that had just verified it and keep it in their cache), a removed client
# (its tokens with it), a new signing key in /jwks.
ROT_SECRET=rot-secret-0123456789abcdefghijklmnopqr
ws_check "oauthctl client add rot" ws_quiet ws_ctl client add rot \
    --secret "$ROT_SECRET" --scope read --grant-types client_credentials
# warm BASE: four requests at once with rot's secret, so that both
# responders of the node are likely to have verified (and cached) it; the
# count of 200s in warm_ok.
warm() {
	wpids=
	for w in 1 2 3 4; do
		curl -s --noproxy '*' --max-time "$WS_CURL_TIMEOUT" \
		    -o /dev/null -w '%{http_code}\n' -u "rot:$ROT_SECRET" \
		    -d grant_type=client_credentials "$1/token" \
		    >"$ws_tmp/warm-$w" 2>/dev/null &
		wpids="$wpids $!"
	done
	for w in $wpids; do
		wait "$w"
	done
	warm_ok=$(cat "$ws_tmp"/warm-? | grep -c '^200$')
}
for n in A B; do
	eval "base=\$NODES_BASE_$n"
	warm "$base"
	ws_check "rot's secret works through $n (4 at once: $warm_ok x 200)" \
	    [ "$warm_ok" -eq 4 ]
	ws_http "$base/token" -u "rot:$ROT_SECRET" -d grant_type=client_credentials
	ws_expect "... and once more" 200 access_token=?
	eval "rot_tok_$n=\$(ws_json access_token)"
done
new_secret=$(ws_ctl client secret rot --json | "$WS_PYTHON" -c \
    'import json, sys; print(json.load(sys.stdin)["client_secret"])')
ws_check "oauthctl client secret rot gives a new secret" [ -n "$new_secret" ]
for n in A B; do
	eval "base=\$NODES_BASE_$n"
	warm "$base"
	ws_check "the old secret is refused through $n at once (4 at once: $warm_ok x 200)" \
	    [ "$warm_ok" -eq 0 ]
	ws_http "$base/token" -u "rot:$ROT_SECRET" -d grant_type=client_credentials
	ws_expect "... 401 invalid_client" 401 error=invalid_client
	ws_http "$base/token" -u "rot:$new_secret" -d grant_type=client_credentials
	ws_expect "the new secret works through $n at once" 200 access_token=?
done
ws_check "oauthctl client remove rot" ws_quiet ws_ctl client remove rot
for n in A B; do
	eval "base=\$NODES_BASE_$n"
	ws_http "$base/token" -u "rot:$new_secret" -d grant_type=client_credentials
	ws_expect "the removed client is refused through $n at once" 401 \
	    error=invalid_client
done
ws_http "$NODES_BASE_B/introspect" -u "rs:$WS_RS_SECRET" -d "token=$rot_tok_A"
ws_check "its token issued through A is inactive through B" \
    ws_body_is '{"active":false}'
ws_http "$NODES_BASE_A/introspect" -u "rs:$WS_RS_SECRET" -d "token=$rot_tok_B"
ws_check "its token issued through B is inactive through A" \
    ws_body_is '{"active":false}'
kid=$(ws_ctl key generate --alg ES256 2>/dev/null | tail -n 1)
ws_check "oauthctl key generate --alg ES256 prints a kid" [ -n "$kid" ]
for n in A B; do
	eval "base=\$NODES_BASE_$n"
	ws_http "$base/jwks"
	ws_check "the new key is in /jwks through $n at once" \
	    grep -qF "\"$kid\"" "$ws_tmp/body"
done

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
