/*
 * GET and POST /userinfo (OpenID Connect Core 1.0 §5.3): the claims of the
 * user an access token was issued for, the token presented as
 * "Authorization: Bearer" (RFC 6750 §2.1) or, bound to a key, as "DPoP"
 * with a proof (RFC 9449 §7).
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define USERINFO_CHALLENGE "Bearer"
#define USERINFO_INVALID "Bearer error=\"invalid_token\""
#define USERINFO_SCOPE \
	"Bearer error=\"insufficient_scope\", scope=\"openid\""
/* RFC 9449 §7.1: the DPoP scheme's challenges name the algorithms. */
#define USERINFO_DPOP_ALGS "algs=\"ES256 EdDSA Ed25519 RS256\""
#define USERINFO_DPOP_INVALID \
	"DPoP error=\"invalid_token\", " USERINFO_DPOP_ALGS
#define USERINFO_DPOP_PROOF \
	"DPoP error=\"invalid_dpop_proof\", " USERINFO_DPOP_ALGS
#define USERINFO_DPOP_NONCE \
	"DPoP error=\"use_dpop_nonce\", " USERINFO_DPOP_ALGS
#define USERINFO_DPOP_SCOPE \
	"DPoP error=\"insufficient_scope\", scope=\"openid\", " \
	USERINFO_DPOP_ALGS

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
 * The access token of the request, in txn: as Bearer, or as DPoP with the
 * proof dpop_check made of the DPoP header for it (RFC 9449 §7.1), its
 * jti then spent.  Returns 0 with *tok set, or -1 with resp the error,
 * whose challenge is of the scheme the request used.
 */
static int
userinfo_token(const struct handler_env *env, const struct request *req,
    struct store_txn *txn, const struct dpop_proof *proof,
    unsigned char key[TOKEN_HASH_LEN], struct token *tok,
    char nonce[DPOP_NONCE_LEN + 1], struct response *resp)
{
	enum oauth_error err;
	const char *why = "the database failed";

	err = token_presented_access(env, txn, req, proof, key,
	    tok);
	if (err == OAUTH_INVALID_TOKEN) {
		userinfo_fail(resp, err,
		    "the access token is invalid, expired or revoked, or bound "
		    "to another key", proof != NULL ? USERINFO_DPOP_INVALID
						     : USERINFO_INVALID);
		return -1;
	}
	if (err == OAUTH_OK && proof != NULL &&
	    (err = dpop_nonce_check(env, txn, proof, nonce, &why)) ==
	    OAUTH_USE_DPOP_NONCE) {
		/* RFC 9449 §9: a resource's nonce challenge is a 401. */
		userinfo_fail(resp, err, why, USERINFO_DPOP_NONCE);
		resp->status = 401;
		return -1;
	}
	if (err == OAUTH_OK && proof != NULL &&
	    (err = dpop_spend(env, txn, proof, &why)) ==
	    OAUTH_INVALID_DPOP_PROOF) {
		userinfo_fail(resp, err, why, USERINFO_DPOP_PROOF);
		resp->status = 401;
		return -1;
	}
	if (err != OAUTH_OK) {
		response_error(resp, err, why);
		return -1;
	}
	return 0;
}

/*
 * Checks the DPoP proof of a request whose token is presented as DPoP,
 * into *proof: it must be there, valid, and made for that token (ath).
 * Returns 0, or -1 with resp the 401 invalid_dpop_proof challenge (RFC
 * 9449 §7.1) or the server's error.
 */
static int
userinfo_proof(const struct handler_env *env, const struct request *req,
    struct dpop_proof *proof, struct response *resp)
{
	const char *token, *why = "a DPoP proof is required";
	char *issuer;
	size_t len;
	enum oauth_error err = OAUTH_INVALID_DPOP_PROOF;

	if (params_scheme_token(req->authorization, "dpop", &token, &len) !=
	    OAUTH_OK) {
		userinfo_fail(resp, OAUTH_INVALID_TOKEN,
		    "the DPoP access token is malformed", USERINFO_DPOP_INVALID);
		return -1;
	}
	if ((issuer = handler_issuer(env, req)) == NULL) {
		response_error(resp, OAUTH_SERVER_ERROR,
		    "no issuer: set OAUTH_ISSUER");
		return -1;
	}
	if (req->dpop != NULL)
		err = dpop_check(env, req, issuer, token, len, proof, &why);
	free(issuer);
	if (err == OAUTH_OK)
		return 0;
	if (err != OAUTH_INVALID_DPOP_PROOF) {
		response_error(resp, err, why);
		return -1;
	}
	userinfo_fail(resp, err, why, USERINFO_DPOP_PROOF);
	resp->status = 401;
	return -1;
}

/*
 * Answers the claims of the user of the access token: sub, and what the
 * grant holds of the user as the token's scope allows.  No token: 401
 * with a bare challenge (RFC 6750 §3.1); a token that is not an active
 * access token, or a DPoP-bound one presented as Bearer or with a proof
 * by another key: 401 invalid_token; a DPoP proof that fails RFC 9449
 * §4.3: 401 invalid_dpop_proof; a token without openid, or of a client
 * acting for itself: 403 insufficient_scope.  One transaction: a write
 * when a DPoP proof's jti is to be spent, else a read.
 */
void
handler_userinfo(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	unsigned char key[TOKEN_HASH_LEN];
	struct store_txn *txn = NULL;
	struct dpop_proof proof;
	struct token tok;
	struct grant grant;
	enum store_status st;
	int dpop = params_auth_scheme(req->authorization, "dpop") != NULL;
	char nonce[DPOP_NONCE_LEN + 1] = "";
	cJSON *o = NULL;

	memset(&tok, 0, sizeof(tok));
	memset(&grant, 0, sizeof(grant));
	memset(&proof, 0, sizeof(proof));
	if (!dpop && params_auth_scheme(req->authorization, "bearer") == NULL) {
		/* §3.1: no error code in the challenge when none was sent. */
		userinfo_fail(resp, OAUTH_INVALID_TOKEN,
		    "an access token is required", USERINFO_CHALLENGE);
		return;
	}
	if (dpop && userinfo_proof(env, req, &proof, resp) == -1)
		return;
	if ((st = store_txn_begin(env->store, dpop, &txn)) != STORE_OK) {
		response_store_error(resp, st);
		return;
	}
	if (userinfo_token(env, req, txn, dpop ? &proof : NULL, key, &tok,
	    nonce, resp) == -1)
		goto out;
	if (!scope_has(tok.scope, "openid", 6) || tok.subject == NULL ||
	    !tok.has_grant) {
		userinfo_fail(resp, OAUTH_INSUFFICIENT_SCOPE,
		    "the access token was not granted the openid scope",
		    dpop ? USERINFO_DPOP_SCOPE : USERINFO_SCOPE);
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
	/* The proof's jti is spent only with the answer. */
	if (dpop) {
		st = store_txn_commit(txn);
		txn = NULL;
		if (st != STORE_OK) {
			cJSON_Delete(o);
			response_store_error(resp, st);
			goto out;
		}
	}
	if (response_json(resp, 200, o) == 0)
		resp->no_store = 1;
out:
	memcpy(resp->dpop_nonce, nonce, sizeof(resp->dpop_nonce));
	store_txn_abort(txn);
	token_free(&tok);
	grant_free(&grant);
	crypto_wipe(key, sizeof(key));
}
