/*
 * The start both introspection and revocation share: a client
 * authenticates and presents a token, which is looked up in one
 * transaction (RFC 7662 §2.1, RFC 7009 §2.1).
 */
#include <string.h>

#include "handlers.h"

/*
 * Parses req, authenticates the client, begins a transaction (a write one
 * when flags has PRESENTED_WRITE), confirms the client in it and looks up
 * the "token" parameter.  With PRESENTED_BEARER an "Authorization: Bearer"
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

	memset(p, 0, sizeof(*p));
	if ((err = params_parse_body(req, &p->params, &why)) != OAUTH_OK) {
		response_error(resp, err, why);
		return -1;
	}
	/* Authenticated before the transaction: see client_auth. */
	if (!bearer && (err = client_auth(env, req, &p->params, &p->auth,
			    &why)) != OAUTH_OK) {
		client_auth_fail(resp, req, err, why);
		return -1;
	}
	if ((st = store_txn_begin(env->store, writable, &p->txn)) != STORE_OK) {
		response_store_error(resp, st);
		return -1;
	}
	err = bearer ? client_auth_bearer(env, p->txn, req, &p->params,
			   &p->auth, &why)
		     : client_auth_confirm(p->txn, &p->auth, &why);
	if (err != OAUTH_OK) {
		client_auth_fail(resp, req, err, why);
		return -1;
	}
	if ((token = params_get(&p->params, "token")) == NULL) {
		response_error(resp, OAUTH_INVALID_REQUEST, "token is required");
		return -1;
	}
	st = token_find(p->txn, token, p->key, &p->token);
	if (st != STORE_OK && st != STORE_NOTFOUND) {
		response_store_error(resp, st);
		return -1;
	}
	/* A code is not a token: neither endpoint may tell it exists. */
	p->found = st == STORE_OK && p->token.kind != TOKEN_CODE;
	return 0;
}

/* Releases what presented_begin set up, aborting an open transaction. */
void
presented_end(struct presented *p)
{
	store_txn_abort(p->txn);
	p->txn = NULL;
	client_free(&p->auth.client);
	token_free(&p->token);
	crypto_wipe(p->key, sizeof(p->key));
	params_free(&p->params);
}
