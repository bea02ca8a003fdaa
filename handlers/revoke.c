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
 * with it the grant's access tokens.  token_type_hint is only a hint.
 */
void
handler_revoke(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	struct params params = {0};
	struct client_auth auth;
	struct token tok;
	struct store_txn *txn = NULL;
	unsigned char key[TOKEN_HASH_LEN];
	enum store_status st;
	enum oauth_error err;
	const char *why = NULL, *presented;

	memset(&tok, 0, sizeof(tok));
	if ((err = params_parse_body(req, &params, &why)) != OAUTH_OK) {
		response_error(resp, err, why);
		return;
	}
	if ((st = store_txn_begin(env->store, 1, &txn)) != STORE_OK) {
		response_store_error(resp, st);
		goto out;
	}
	if ((err = client_auth(txn, req, &params, &auth, &why)) != OAUTH_OK) {
		client_auth_fail(resp, req, err, why);
		goto out;
	}
	if ((presented = params_get(&params, "token")) == NULL) {
		response_error(resp, OAUTH_INVALID_REQUEST, "token is required");
		goto done;
	}
	st = token_find(txn, presented, key, &tok);
	if (st != STORE_OK && st != STORE_NOTFOUND) {
		response_store_error(resp, st);
		goto done;
	}
	if (st == STORE_NOTFOUND || tok.kind == TOKEN_CODE ||
	    !store_token_is_active(txn, &tok, env->now(env->ctx))) {
		response_init(resp);
		goto done;
	}
	if (strcmp(tok.client_id, auth.client.id) != 0) {
		response_error(resp, OAUTH_INVALID_GRANT,
		    "the token was issued to another client");
		goto done;
	}
	if ((st = store_token_revoke(txn, key, &tok)) != STORE_OK) {
		response_store_error(resp, st);
		goto done;
	}
	st = store_txn_commit(txn);
	txn = NULL;
	if (st != STORE_OK)
		response_store_error(resp, st);
	else
		response_init(resp);
done:
	client_free(&auth.client);
out:
	store_txn_abort(txn);
	token_free(&tok);
	crypto_wipe(key, sizeof(key));
	params_free(&params);
}
