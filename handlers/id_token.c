/*
 * The OpenID Connect ID Token (OpenID Connect Core 1.0 §2, §3.1.3.6): a
 * JWT signed with the RS256 key that signs now, issued beside the access
 * token of an authorization that was granted the openid scope, at code
 * redemption and again at each refresh (§12.2).
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define ID_TOKEN_ALG JOSE_ALG_RS256	/* Discovery §3: RS256 available */

/*
 * at_hash (§3.1.3.6): the base64url of the left half of the SHA-256 of
 * the access token's ASCII, for an RS256 token.  Writes it to out.
 * Returns 0 or -1.
 */
static int
id_token_at_hash(const char *access, char out[TOKEN_STRING_LEN + 1])
{
	unsigned char digest[TOKEN_HASH_LEN];

	if (crypto_sha256(access, strlen(access), digest) == -1)
		return -1;
	b64url_encode(digest, sizeof(digest) / 2, out, TOKEN_STRING_LEN + 1);
	return 0;
}

/*
 * Adds to o the claims of the user that the grant keeps (grant->claims, a
 * JSON object captured at /authorize) and that scope allows: email and
 * email_verified under "email", the rest under "profile" (§5.4).  Returns
 * 0, or -1 when memory runs out.
 */
int
id_token_add_user_claims(cJSON *o, const struct grant *grant,
    const char *scope)
{
	cJSON *claims, *item, *copy;
	int email = scope_has(scope, "email", 5);
	int profile = scope_has(scope, "profile", 7);
	int is_email, rc = 0;

	if (grant->claims == NULL || (!email && !profile))
		return 0;
	if ((claims = cJSON_Parse(grant->claims)) == NULL)
		return 0;
	cJSON_ArrayForEach(item, claims) {
		if (item->string == NULL ||
		    cJSON_GetObjectItemCaseSensitive(o, item->string) != NULL)
			continue;
		is_email = strcmp(item->string, "email") == 0 ||
		    strcmp(item->string, "email_verified") == 0;
		if (is_email ? !email : !profile)
			continue;
		if ((copy = cJSON_Duplicate(item, 1)) == NULL) {
			rc = -1;
			break;
		}
		cJSON_AddItemToObject(o, item->string, copy);
	}
	cJSON_Delete(claims);
	return rc;
}

/*
 * Issues out->id_token when scope holds openid: iss, sub (the user), aud
 * (the client), exp and iat, auth_time when the grant knows it, nonce
 * when the authorization request sent one (out->nonce; never on a
 * refresh, §12.2), at_hash of out->access, and the user's claims as the
 * scope allows.  Returns OAUTH_OK (nothing to do without openid, or for a
 * grant without a user), or the error of signing, with *why set.
 */
enum oauth_error
id_token_issue(const struct handler_env *env, struct store_txn *txn,
    const struct client *client, const struct grant *grant,
    const char *scope, struct token_issue *out, const char **why)
{
	char at_hash[TOKEN_STRING_LEN + 1];
	struct buf jws = {0};
	enum oauth_error err = OAUTH_SERVER_ERROR;
	int64_t now = env->now(env->ctx);
	const char *issuer;
	cJSON *o;

	if (!scope_has(scope, "openid", 6) || grant->subject == NULL)
		return OAUTH_OK;
	*why = "no issuer: set OAUTH_ISSUER";
	if ((issuer = token_issue_issuer(env, out)) == NULL)
		return OAUTH_SERVER_ERROR;
	*why = "out of memory";
	if (id_token_at_hash(out->access, at_hash) == -1)
		return OAUTH_SERVER_ERROR;
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "iss", issuer) == NULL ||
	    cJSON_AddStringToObject(o, "sub", grant->subject) == NULL ||
	    cJSON_AddStringToObject(o, "aud", client->id) == NULL ||
	    cJSON_AddNumberToObject(o, "exp",
		(double)(now + env->config->access_ttl)) == NULL ||
	    cJSON_AddNumberToObject(o, "iat", (double)now) == NULL ||
	    (grant->auth_time != 0 && cJSON_AddNumberToObject(o, "auth_time",
		(double)grant->auth_time) == NULL) ||
	    (out->nonce != NULL &&
		cJSON_AddStringToObject(o, "nonce", out->nonce) == NULL) ||
	    cJSON_AddStringToObject(o, "at_hash", at_hash) == NULL ||
	    cJSON_AddStringToObject(o, "azp", client->id) == NULL ||
	    id_token_add_user_claims(o, grant, scope) == -1)
		goto out;
	if ((err = signing_sign(env, txn, ID_TOKEN_ALG, "JWT", o, &jws,
		 why)) != OAUTH_OK)
		goto out;
	if ((out->id_token = buf_steal(&jws)) == NULL) {
		*why = "out of memory";
		err = OAUTH_SERVER_ERROR;
	}
out:
	buf_free(&jws);
	cJSON_Delete(o);
	return err;
}
