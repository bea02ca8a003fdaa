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
	unsigned char key[TOKEN_HASH_LEN];
	struct token old;
	struct grant grant;
	enum oauth_error err;

	memset(&grant, 0, sizeof(grant));
	/* RFC 9449 §5: a bound refresh token needs a proof by its key. */
	err = token_take(env, txn, params, TOKEN_REFRESH, client, key, &old,
	    out, why);
	/* RFC 6749 §6: the scope may only narrow that of the grant. */
	if (err == OAUTH_OK)
		err = token_scope(params_get(params, "scope"), old.scope,
		    &out->scope, why);
	/* RFC 8707 §2.2: so may the resource. */
	if (err == OAUTH_OK)
		err = resource_within(params, old.audience, why);
	if (err == OAUTH_OK)
		err = token_spend(txn, key, &old, &grant, why);
	out->audience = old.audience;
	if (err == OAUTH_OK)
		err = token_issue_grant(env, txn, client, &grant, out->scope,
		    old.scope, out, why);
	out->audience = NULL;
	token_free(&old);
	grant_free(&grant);
	crypto_wipe(key, sizeof(key));
	return err;
}
