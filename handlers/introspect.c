/*
 * POST /introspect (RFC 7662): one read transaction per request.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

static const char *const introspect_token_use[TOKEN_KIND__MAX] = {
	[TOKEN_ACCESS] = "access_token",
	[TOKEN_REFRESH] = "refresh_token",
};

/*
 * Builds the active response (RFC 7662 §2.2) for tok, stored under key.
 * Returns the object, or NULL when memory runs out.
 */
static cJSON *
introspect_active(const struct token *tok, const unsigned char *key,
    const char *issuer)
{
	char jti[JTI_LEN + 1];
	cJSON *o = cJSON_CreateObject();
	int ok;

	store_token_jti(tok, key, jti);
	ok = o != NULL && cJSON_AddTrueToObject(o, "active") != NULL &&
	    cJSON_AddStringToObject(o, "scope", tok->scope != NULL ? tok->scope
								   : "") &&
	    cJSON_AddStringToObject(o, "client_id", tok->client_id) &&
	    cJSON_AddStringToObject(o, "sub", tok->subject != NULL
						   ? tok->subject
						   : tok->client_id) &&
	    cJSON_AddStringToObject(o, "token_type",
		tok->kind == TOKEN_ACCESS ? "Bearer" : "refresh_token") &&
	    cJSON_AddStringToObject(o, "token_use",
		introspect_token_use[tok->kind]) &&
	    cJSON_AddNumberToObject(o, "exp", (double)tok->expires_at) &&
	    cJSON_AddNumberToObject(o, "iat", (double)tok->issued_at) &&
	    cJSON_AddNumberToObject(o, "nbf", (double)tok->issued_at) &&
	    cJSON_AddStringToObject(o, "jti", jti) &&
	    (issuer == NULL || cJSON_AddStringToObject(o, "iss", issuer)) &&
	    (tok->audience == NULL ||
		cJSON_AddStringToObject(o, "aud", tok->audience)) &&
	    (tok->subject == NULL ||
		cJSON_AddStringToObject(o, "username", tok->subject));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/*
 * POST /introspect.  The caller authenticates as a client, or presents an
 * access token its client holds for itself (RFC 7662 §2.1).
 * A token is reported only when it is active and the caller may see it: the
 * client it was issued to, or a client with the introspect permission.
 * Everything else, codes included, is exactly {"active":false} (§2.2), so
 * the answer does not tell which tokens exist.
 */
void
handler_introspect(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	struct presented p;
	cJSON *o = NULL;
	char *issuer = NULL;

	if (presented_begin(env, req, resp, PRESENTED_BEARER, &p) == -1)
		goto out;
	if (p.found && store_token_is_active(p.txn, &p.token,
			   env->now(env->ctx)) &&
	    (strcmp(p.token.client_id, p.auth.client.id) == 0 ||
		p.auth.client.may_introspect)) {
		if ((issuer = handler_issuer(env, req)) == NULL ||
		    (o = introspect_active(&p.token, p.key, issuer)) == NULL) {
			response_error(resp, OAUTH_SERVER_ERROR,
			    "the response could not be built");
			goto out;
		}
	} else if ((o = cJSON_CreateObject()) == NULL ||
		   cJSON_AddFalseToObject(o, "active") == NULL) {
		cJSON_Delete(o);
		response_error(resp, OAUTH_SERVER_ERROR, "out of memory");
		goto out;
	}
	if (response_json(resp, 200, o) == 0)
		resp->no_store = 1;
out:
	presented_end(&p);
	free(issuer);
}
