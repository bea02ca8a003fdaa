/*
 * POST /revoke (RFC 7009): one write transaction per request.
 */
#include <string.h>

#include "handlers.h"

/*
 * POST /revoke.  The caller authenticates (public clients by client_id
 * alone, RFC 7009 §2.1).  An unknown, expired or already revoked token is
 * answered 200 with an empty body (§2.2), as is a code, which is not a
 * token.  An active token of another client is refused with invalid_grant
 * and left active (§2.1).  Revoking a refresh token revokes its grant, and
 * with it the grant's access tokens; so does revoking one that was already
 * rotated, as presenting it at /token would (RFC 9700 §4.14.2), so that a
 * client logging out with a stale copy, or racing its own refresh, still
 * ends the grant.
 */
void
handler_revoke(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	struct presented p;
	enum store_status st;

	if (presented_begin(env, req, resp, PRESENTED_WRITE, &p) == -1)
		goto out;
	if (p.found && p.token.kind == TOKEN_REFRESH &&
	    p.token.state == TOKEN_STATE_USED && p.token.has_grant &&
	    strcmp(p.token.client_id, p.auth.client.id) == 0) {
		st = store_grant_revoke(p.txn, p.token.grant_id);
		if (st == STORE_OK) {
			st = store_txn_commit(p.txn);
			p.txn = NULL;
		}
		/* A grant already gone has nothing left to end. */
		if (st != STORE_OK && st != STORE_NOTFOUND)
			response_store_error(resp, st);
		else
			response_init(resp);
		goto out;
	}
	if (!p.found ||
	    !store_token_is_active(p.txn, &p.token, env->now(env->ctx))) {
		response_init(resp);
		goto out;
	}
	if (strcmp(p.token.client_id, p.auth.client.id) != 0) {
		response_error(resp, OAUTH_INVALID_GRANT,
		    "the token was issued to another client");
		goto out;
	}
	if ((st = store_token_revoke(p.txn, p.key, &p.token)) != STORE_OK) {
		response_store_error(resp, st);
		goto out;
	}
	st = store_txn_commit(p.txn);
	p.txn = NULL;
	if (st != STORE_OK)
		response_store_error(resp, st);
	else
		response_init(resp);
out:
	presented_end(&p, resp);
}
