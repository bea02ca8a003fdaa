/*
 * JWT access tokens (RFC 9068): for a client that asks for them, or when
 * OAUTH_ACCESS_TOKEN_FORMAT says so, the access token is a JWT signed with
 * the key of OAUTH_SIGNING_ALG (RS256 unless set) that signs now, which a resource server can verify at the
 * edge against /jwks.  It is stored like an opaque token, under the
 * SHA-256 of its string with the jti it carries, so it introspects and
 * revokes exactly as one; a verifier that only checks the signature learns
 * of a revocation when the token expires.
 */
#include <string.h>

#include "handlers.h"

#define TOKEN_JWT_TYP "at+jwt"		/* RFC 9068 §2.1 */

/* Whether client's access tokens are JWTs under env's configuration. */
int
token_jwt_wanted(const struct handler_env *env, const struct client *client)
{
	switch (client->token_format) {
	case CLIENT_TOKEN_JWT:
		return 1;
	case CLIENT_TOKEN_OPAQUE:
		return 0;
	case CLIENT_TOKEN_DEFAULT:
	case CLIENT_TOKEN__MAX:
		break;
	}
	return env->config->token_format == CONFIG_TOKEN_JWT;
}

/*
 * Adds to the claims o the confirmation of the key t is bound to (RFC
 * 7800 §3.1): cnf.jkt for DPoP (RFC 9449 §6.1), cnf.x5t#S256 for a
 * certificate (RFC 8705 §3.1); nothing for a bearer token.  Returns 0, or
 * -1.
 */
static int
token_jwt_add_cnf(cJSON *o, const struct token *t)
{
	char jkt[JOSE_THUMBPRINT_LEN + 1];
	cJSON *cnf;

	if (t->bind != TOKEN_BIND_DPOP && t->bind != TOKEN_BIND_MTLS)
		return 0;
	if (b64url_encode(t->bind_thumbprint, sizeof(t->bind_thumbprint), jkt,
	    sizeof(jkt)) != JOSE_THUMBPRINT_LEN ||
	    (cnf = cJSON_AddObjectToObject(o, "cnf")) == NULL ||
	    cJSON_AddStringToObject(cnf, t->bind == TOKEN_BIND_DPOP ? "jkt" :
	    "x5t#S256", jkt) == NULL)
		return -1;
	return 0;
}

/*
 * Mints an access token of record (a TOKEN_ACCESS record, its jti not yet
 * drawn) as a JWT: iss, exp, aud (the client's audience, or else the
 * issuer), sub (the user, or the client acting for itself), client_id,
 * iat, jti, scope, auth_time for a user's token (RFC 9068 §2.2), and
 * cnf for a bound one.
 * Stores the record under its key and writes the JWT to out.  Returns
 * OAUTH_OK, or the error to answer with *why set, nothing stored then.
 */
enum oauth_error
token_jwt_mint(const struct handler_env *env, struct store_txn *txn,
    const struct token *record, const char *issuer, int64_t auth_time,
    char out[TOKEN_PRESENTED_MAX + 1], const char **why)
{
	unsigned char key[TOKEN_HASH_LEN];
	char jti[JTI_LEN + 1];
	struct token t = *record;
	struct buf jws = {0};
	enum oauth_error err = OAUTH_SERVER_ERROR;
	enum store_status st;
	cJSON *o;

	*why = "no issuer: set OAUTH_ISSUER";
	if (issuer == NULL)
		return OAUTH_SERVER_ERROR;
	*why = "out of memory";
	if (token_string_new_jti(env->random, env->ctx, t.jti) == -1)
		return OAUTH_SERVER_ERROR;
	t.has_jti = 1;
	token_string_jti(t.jti, jti);
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "iss", issuer) == NULL ||
	    cJSON_AddNumberToObject(o, "exp", (double)t.expires_at) == NULL ||
	    cJSON_AddStringToObject(o, "aud",
		t.audience != NULL ? t.audience : issuer) == NULL ||
	    cJSON_AddStringToObject(o, "sub",
		t.subject != NULL ? t.subject : t.client_id) == NULL ||
	    cJSON_AddStringToObject(o, "client_id", t.client_id) == NULL ||
	    cJSON_AddNumberToObject(o, "iat", (double)t.issued_at) == NULL ||
	    cJSON_AddStringToObject(o, "jti", jti) == NULL ||
	    cJSON_AddStringToObject(o, "scope",
		t.scope != NULL ? t.scope : "") == NULL ||
	    (t.subject != NULL && auth_time != 0 &&
		cJSON_AddNumberToObject(o, "auth_time", (double)auth_time) ==
		    NULL) ||
	    token_jwt_add_cnf(o, &t) == -1)
		goto out;
	if ((err = signing_sign(env, txn, env->config->signing_alg,
		 TOKEN_JWT_TYP, o, &jws, why)) != OAUTH_OK)
		goto out;
	err = OAUTH_SERVER_ERROR;
	*why = "the token is too long";
	if (jws.len > TOKEN_PRESENTED_MAX ||
	    token_string_key(jws.data, jws.len, key) == -1)
		goto out;
	if ((st = store_token_put(txn, key, &t)) != STORE_OK) {
		*why = "the token could not be stored";
		err = oauth_error_from_store(st);
		goto out;
	}
	memcpy(out, jws.data, jws.len + 1);
	err = OAUTH_OK;
out:
	if (jws.data != NULL)
		crypto_wipe(jws.data, jws.len);
	buf_free(&jws);
	cJSON_Delete(o);
	crypto_wipe(key, sizeof(key));
	return err;
}

/*
 * Mints the access token of record for client in the format it wants
 * (token_jwt_wanted): a JWT, or an opaque string (token_mint).  Returns
 * OAUTH_OK, or the error to answer with *why set.
 */
enum oauth_error
token_mint_access(const struct handler_env *env, struct store_txn *txn,
    const struct client *client, const struct token *record,
    struct token_issue *issue, int64_t auth_time,
    char out[TOKEN_PRESENTED_MAX + 1], const char **why)
{
	enum oauth_error err;

	if (token_jwt_wanted(env, client))
		return token_jwt_mint(env, txn, record,
		    token_issue_issuer(env, issue),
		    auth_time, out, why);
	*why = "the token could not be stored";
	err = token_mint(env, txn, record, out);
	return err;
}
