/*
 * The start both introspection and revocation share: a client
 * authenticates and presents a token, which is looked up in one
 * transaction (RFC 7662 §2.1, RFC 7009 §2.1).
 */
#include <string.h>

#include "handlers.h"

/*
 * Parses req, authenticates the client and begins a transaction (a write
 * one when flags has PRESENTED_WRITE) as client_auth_begin does, and
 * looks up the "token" parameter.  With PRESENTED_BEARER an "Authorization: Bearer"
 * access token authorizes instead, checked inside the transaction
 * (client_auth_bearer).  token_type_hint is only a
 * hint: one lookup finds every kind.  Returns 0 with p ready, p->found
 * telling whether the token exists; or -1 with resp holding the error.
 * Either way p is released with presented_end.
 */
int
presented_begin(const struct handler_env *env, const struct request *req,
    struct response *resp, unsigned flags, struct presented *p)
{
	int writable = (flags & PRESENTED_WRITE) != 0;
	int bearer = (flags & PRESENTED_BEARER) != 0 &&
	    params_auth_scheme(req->authorization, "bearer") != NULL;
	enum store_status st;
	enum oauth_error err;
	const char *why = NULL, *token;
	int keyed;

	memset(p, 0, sizeof(*p));
	if ((err = params_parse_body(req, &p->params, &why)) != OAUTH_OK) {
		response_error(resp, err, why);
		return -1;
	}
	token = params_get(&p->params, "token");
	keyed = token != NULL &&
	    token_string_key(token, strlen(token), p->key) == 0;
	if (bearer) {
		if ((st = store_txn_begin(env->store, writable, &p->txn)) !=
		    STORE_OK) {
			response_store_error(resp, st);
			return -1;
		}
		if ((err = client_auth_bearer(env, p->txn, req, &p->params,
			 &p->auth, &why)) != OAUTH_OK) {
			client_auth_fail(resp, req, err, why);
			return -1;
		}
	} else if (client_auth_begin(env, req, &p->params, writable,
		       keyed ? p->key : NULL, &p->txn, &p->auth, resp) == -1)
		return -1;
	if (token == NULL) {
		response_error(resp, OAUTH_INVALID_REQUEST, "token is required");
		return -1;
	}
	/* A string that cannot be one of ours is not looked up. */
	st = keyed ? store_token_get(p->txn, p->key, &p->token)
		   : STORE_NOTFOUND;
	if (st != STORE_OK && st != STORE_NOTFOUND) {
		response_store_error(resp, st);
		return -1;
	}
	/* A code is not a token: neither endpoint may tell it exists. */
	p->found = st == STORE_OK && p->token.kind != TOKEN_CODE;
	return 0;
}

/*
 * Releases what presented_begin set up, aborting an open transaction;
 * but committing it when the client authenticated with an assertion and
 * resp is no failure of the server's, so that its jti stays spent (RFC
 * 7523 §3 item 7) whatever the answer was: the transaction then holds
 * only that.  A failed commit makes resp the storage error.
 */
void
presented_end(struct presented *p, struct response *resp)
{
	enum store_status st;

	if (p->txn != NULL && p->auth.method == CLIENT_AUTH_JWT &&
	    resp->status < 500) {
		st = store_txn_commit(p->txn);
		p->txn = NULL;
		if (st != STORE_OK)
			response_store_error(resp, st);
	}
	store_txn_abort(p->txn);
	p->txn = NULL;
	client_free(&p->auth.client);
	token_free(&p->token);
	crypto_wipe(p->key, sizeof(p->key));
	params_free(&p->params);
}
