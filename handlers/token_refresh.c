/*
 * The refresh_token grant (RFC 6749 §6) with rotation and reuse detection
 * (RFC 9700 §4.14.2).
 */
#include <string.h>

#include "handlers.h"

/*
 * Rotates a refresh token: the presented one ends, a new one with the same
 * scope is issued with a new access token whose scope may be narrower,
 * never wider.  A refresh token presented after it was rotated revokes the
 * whole grant.  The token is bound to its client.
 */
enum oauth_error
token_grant_refresh_token(const struct handler_env *env,
    struct store_txn *txn, const struct params *params,
    const struct client *client, struct token_issue *out, const char **why)
{
	const char *presented = params_get(params, "refresh_token");
	unsigned char key[TOKEN_HASH_LEN];
	struct token old;
	struct grant grant;
	enum store_status st;
	enum oauth_error err = OAUTH_INVALID_GRANT;

	memset(&grant, 0, sizeof(grant));
	if (presented == NULL) {
		*why = "refresh_token is required";
		return OAUTH_INVALID_REQUEST;
	}
	st = token_find(txn, presented, key, &old);
	if (st != STORE_OK && st != STORE_NOTFOUND) {
		*why = "the database failed";
		return oauth_error_from_store(st);
	}
	*why = "the refresh token is invalid, expired, revoked or was issued "
	       "to another client";
	if (st == STORE_NOTFOUND || old.kind != TOKEN_REFRESH ||
	    strcmp(old.client_id, client->id) != 0 || !old.has_grant)
		goto out;
	if (old.state == TOKEN_STATE_USED) {
		err = token_replayed(txn, &old, out, "refresh token", why);
		goto out;
	}
	if (!store_token_is_active(txn, &old, env->now(env->ctx)))
		goto out;
	/* RFC 6749 §6: the scope may only narrow that of the grant. */
	if ((err = token_scope(params_get(params, "scope"), old.scope,
		 &out->scope, why)) != OAUTH_OK)
		goto out;
	if ((st = store_grant_get(txn, old.grant_id, &grant)) != STORE_OK) {
		*why = "the database failed";
		err = st == STORE_NOTFOUND ? OAUTH_INVALID_GRANT
					   : oauth_error_from_store(st);
		goto out;
	}
	old.state = TOKEN_STATE_USED;
	if ((st = store_token_put(txn, key, &old)) != STORE_OK) {
		*why = "the database failed";
		err = oauth_error_from_store(st);
		goto out;
	}
	err = token_issue_grant(env, txn, client, &grant, out->scope,
	    old.scope, out, why);
out:
	token_free(&old);
	grant_free(&grant);
	crypto_wipe(key, sizeof(key));
	return err;
}
