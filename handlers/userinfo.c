/*
 * GET and POST /userinfo (OpenID Connect Core 1.0 §5.3): the claims of the
 * user an access token was issued for, the token presented as
 * "Authorization: Bearer" (RFC 6750 §2.1), one read transaction.
 */
#include <string.h>

#include "handlers.h"

#define USERINFO_CHALLENGE "Bearer"
#define USERINFO_INVALID "Bearer error=\"invalid_token\""
#define USERINFO_SCOPE \
	"Bearer error=\"insufficient_scope\", scope=\"openid\""

/* Makes resp the RFC 6750 §3 error err with the challenge www. */
static void
userinfo_fail(struct response *resp, enum oauth_error err, const char *why,
    const char *www)
{
	response_error(resp, err, why);
	resp->www_authenticate = strdup(www);
	resp->no_store = 1;
}

/*
 * Answers the claims of the user of the bearer token: sub, and what the
 * grant holds of the user as the token's scope allows.  No token: 401
 * with a bare challenge (RFC 6750 §3.1); a token that is not an active
 * access token: 401 invalid_token; one without openid, or of a client
 * acting for itself: 403 insufficient_scope.
 */
void
handler_userinfo(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	unsigned char key[TOKEN_HASH_LEN];
	struct store_txn *txn = NULL;
	struct token tok;
	struct grant grant;
	enum store_status st;
	enum oauth_error err;
	cJSON *o = NULL;

	memset(&tok, 0, sizeof(tok));
	memset(&grant, 0, sizeof(grant));
	if (params_auth_scheme(req->authorization, "bearer") == NULL) {
		/* §3.1: no error code in the challenge when none was sent. */
		userinfo_fail(resp, OAUTH_INVALID_TOKEN,
		    "a bearer access token is required", USERINFO_CHALLENGE);
		return;
	}
	if ((st = store_txn_begin(env->store, 0, &txn)) != STORE_OK) {
		response_store_error(resp, st);
		return;
	}
	if ((err = token_bearer(env, txn, req->authorization, key, &tok)) ==
	    OAUTH_INVALID_TOKEN) {
		userinfo_fail(resp, OAUTH_INVALID_TOKEN,
		    "the access token is invalid, expired or revoked",
		    USERINFO_INVALID);
		goto out;
	}
	if (err != OAUTH_OK) {
		response_error(resp, err, "the database failed");
		goto out;
	}
	if (!scope_has(tok.scope, "openid", 6) || tok.subject == NULL ||
	    !tok.has_grant) {
		userinfo_fail(resp, OAUTH_INSUFFICIENT_SCOPE,
		    "the access token was not granted the openid scope",
		    USERINFO_SCOPE);
		goto out;
	}
	if ((st = store_grant_get(txn, tok.grant_id, &grant)) != STORE_OK) {
		response_store_error(resp, st == STORE_NOTFOUND ? STORE_CORRUPT
								: st);
		goto out;
	}
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "sub", tok.subject) == NULL ||
	    id_token_add_user_claims(o, &grant, tok.scope) == -1) {
		cJSON_Delete(o);
		response_error(resp, OAUTH_SERVER_ERROR, "out of memory");
		goto out;
	}
	if (response_json(resp, 200, o) == 0)
		resp->no_store = 1;
out:
	store_txn_abort(txn);
	token_free(&tok);
	grant_free(&grant);
	crypto_wipe(key, sizeof(key));
}
