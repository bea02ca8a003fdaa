/*
 * private_key_jwt (RFC 7523 §2.2, §3; OpenID Connect Core §9): a client
 * authenticates with a JWT it signed with one of the keys it registered
 * (oauthctl client add --jwks).  Its jti is spent once through the store
 * by client_auth_begin, as a DPoP proof's is.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "handlers.h"

#define CLIENT_ASSERTION_DEPTH 4	/* nesting its claims may have */
#define CLIENT_ASSERTION_SKEW 60	/* seconds clocks may differ by */
/* The domain of the hash a jti is remembered by (store_seen_put). */
#define CLIENT_ASSERTION_DOMAIN "fcgi-oauth client assertion jti"

/*
 * The claims of the compact JWS assertion, unverified, into *out
 * (cJSON_Delete frees it).  Returns 0, or -1 when it is not three parts of
 * base64url with a JSON object in the middle.
 */
static int
client_assertion_claims(const char *assertion, cJSON **out)
{
	const char *dot1, *dot2;
	unsigned char *raw;
	size_t len = strlen(assertion), plen, n = 0;
	int rc = -1;

	*out = NULL;
	if (len == 0 || len > JOSE_JWS_MAX ||
	    (dot1 = memchr(assertion, '.', len)) == NULL ||
	    (dot2 = memchr(dot1 + 1, '.',
	    len - (size_t)(dot1 + 1 - assertion))) == NULL)
		return -1;
	plen = (size_t)(dot2 - dot1 - 1);
	if ((raw = malloc(plen / 4 * 3 + 3)) == NULL)
		return -1;
	if (jose_b64url_decode(dot1 + 1, plen, raw, plen / 4 * 3 + 2,
	    &n) == 0 && json_parse_object((const char *)raw, n,
	    CLIENT_ASSERTION_DEPTH, out) == 0)
		rc = 0;
	crypto_wipe(raw, plen / 4 * 3 + 3);
	free(raw);
	return rc;
}

/* The string claim name of claims, or NULL. */
static const char *
client_assertion_str(const cJSON *claims, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(claims,
	    name));
}

/*
 * The client an assertion says it is from (RFC 7523 §3: its sub, which
 * must equal its iss), into *id (allocated), before anything is verified:
 * what decides whose keys verify it.  Returns OAUTH_OK, or
 * OAUTH_INVALID_CLIENT with *why set.
 */
enum oauth_error
client_assertion_subject(const char *assertion, char **id, const char **why)
{
	const char *iss, *sub;
	cJSON *claims;

	*id = NULL;
	*why = "the client assertion is not a JWT";
	if (client_assertion_claims(assertion, &claims) == -1)
		return OAUTH_INVALID_CLIENT;
	iss = client_assertion_str(claims, "iss");
	sub = client_assertion_str(claims, "sub");
	*why = "the client assertion's iss and sub are not one client_id";
	if (iss != NULL && sub != NULL && strcmp(iss, sub) == 0 &&
	    sub[0] != '\0' && strlen(sub) <= CLIENT_ID_MAX) {
		if ((*id = strdup(sub)) == NULL)
			*why = "out of memory";
	}
	cJSON_Delete(claims);
	return *id != NULL ? OAUTH_OK : OAUTH_INVALID_CLIENT;
}

/*
 * Whether one string of aud (a string, or an array of them) is the
 * issuer, the token endpoint's URL, or the URL of the endpoint the
 * request is at (RFC 7523 §3 item 3; OpenID Connect Core §9 names the
 * token endpoint, the current drafts the issuer).
 */
static int
client_assertion_aud_ok(const cJSON *aud, const char *issuer,
    const char *path)
{
	struct buf token = {0}, here = {0};
	const cJSON *a;
	size_t ilen;
	int ok = 0;

	if (issuer == NULL)
		return 0;
	ilen = strlen(issuer);
	if (ilen > 0 && issuer[ilen - 1] == '/')
		ilen--;
	if (buf_append(&token, issuer, ilen) == -1 ||
	    buf_puts(&token, "/token") == -1 ||
	    buf_append(&here, issuer, ilen) == -1 ||
	    (path != NULL && buf_puts(&here, path) == -1))
		goto out;
	if (cJSON_IsString(aud)) {
		ok = strcmp(aud->valuestring, issuer) == 0 ||
		    strcmp(aud->valuestring, token.data) == 0 ||
		    strcmp(aud->valuestring, here.data) == 0;
		goto out;
	}
	if (!cJSON_IsArray(aud))
		goto out;
	cJSON_ArrayForEach(a, aud)
		if (cJSON_IsString(a) && (strcmp(a->valuestring, issuer) == 0 ||
		    strcmp(a->valuestring, token.data) == 0 ||
		    strcmp(a->valuestring, here.data) == 0))
			ok = 1;
out:
	buf_free(&token);
	buf_free(&here);
	return ok;
}

/*
 * Whether the number claim name of claims is a whole number of seconds,
 * into *out; absent when not required is 1 with *out untouched.
 */
static int
client_assertion_time(const cJSON *claims, const char *name, int required,
    int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);

	if (v == NULL)
		return !required;
	/* Within a century either way, which NaN fails too. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 &&
	    v->valuedouble <= 4102444800.0) ||
	    (double)(int64_t)v->valuedouble != v->valuedouble)
		return 0;
	*out = (int64_t)v->valuedouble;
	return 1;
}

/*
 * Verifies the assertion of client c for the request req (RFC 7523 §3):
 * signed by one of c's keys (jose_verify_jwks, with an algorithm of
 * ours); iss and sub c's id; aud the issuer or an endpoint's URL
 * (client_assertion_aud_ok); exp in the future but at most
 * CLIENT_ASSERTION_TTL_MAX seconds off, nbf and iat not ahead of now (both
 * by CLIENT_ASSERTION_SKEW); a jti of at most CLIENT_ASSERTION_JTI_MAX
 * bytes.  On success writes the jti's replay key, for store_seen_put, to
 * replay, and till when it must be remembered to *until.  Returns
 * OAUTH_OK; OAUTH_INVALID_CLIENT with *why saying what is wrong, which
 * never holds the assertion; or OAUTH_SERVER_ERROR when the signing
 * module is not loaded or no OAUTH_ISSUER is configured.
 */
enum oauth_error
client_assertion_check(const struct handler_env *env,
    const struct request *req, const struct client *c, const char *assertion,
    unsigned char replay[TOKEN_HASH_LEN], int64_t *until, const char **why)
{
	unsigned char seen[sizeof(CLIENT_ASSERTION_DOMAIN) + CLIENT_ID_MAX + 1 +
	    CLIENT_ASSERTION_JTI_MAX];
	struct buf payload = {0};
	int64_t now = env->now(env->ctx), exp = 0, nbf = 0, iat = 0;
	const char *jti;
	char *issuer = NULL;
	cJSON *claims = NULL;
	enum jose_alg alg;
	size_t idlen, jtilen, n;
	enum oauth_error err = OAUTH_INVALID_CLIENT;
	int rc = -1;

	/*
	 * An issuer derived from the Host header is the peer's to choose:
	 * an assertion made for another server would pass as made for us.
	 */
	if (env->config->issuer == NULL) {
		*why = "private_key_jwt needs OAUTH_ISSUER set";
		return OAUTH_SERVER_ERROR;
	}
	*why = "the client assertion is not signed by a key of the client";
	if (c->jwks == NULL || (rc = jose_verify_jwks(assertion,
	    strlen(assertion), c->jwks, strlen(c->jwks), NULL, &payload,
	    &alg)) != 0) {
		if (c->jwks != NULL && rc == JOSE_UNAVAILABLE) {
			*why = "the server cannot check client assertions now";
			err = OAUTH_SERVER_ERROR;
		}
		goto out;
	}
	*why = "the client assertion's claims are not a JSON object";
	if (json_parse_object(payload.data, payload.len,
	    CLIENT_ASSERTION_DEPTH, &claims) == -1)
		goto out;
	*why = "the client assertion's iss and sub are not the client_id";
	if (client_assertion_str(claims, "iss") == NULL ||
	    strcmp(client_assertion_str(claims, "iss"), c->id) != 0 ||
	    client_assertion_str(claims, "sub") == NULL ||
	    strcmp(client_assertion_str(claims, "sub"), c->id) != 0)
		goto out;
	*why = "the client assertion's aud is not this server";
	if ((issuer = handler_issuer(env, req)) == NULL ||
	    !client_assertion_aud_ok(cJSON_GetObjectItemCaseSensitive(claims,
	    "aud"), issuer, req->path))
		goto out;
	*why = "the client assertion has expired, lives too long, or is not "
	       "valid yet";
	if (!client_assertion_time(claims, "exp", 1, &exp) ||
	    !client_assertion_time(claims, "nbf", 0, &nbf) ||
	    !client_assertion_time(claims, "iat", 0, &iat) ||
	    exp + CLIENT_ASSERTION_SKEW <= now ||
	    exp > now + CLIENT_ASSERTION_TTL_MAX ||
	    nbf > now + CLIENT_ASSERTION_SKEW ||
	    iat > now + CLIENT_ASSERTION_SKEW)
		goto out;
	*why = "the client assertion has no usable jti";
	if ((jti = client_assertion_str(claims, "jti")) == NULL ||
	    (jtilen = strlen(jti)) == 0 || jtilen > CLIENT_ASSERTION_JTI_MAX)
		goto out;
	/* Remembered by client: one's jti cannot spend another's. */
	idlen = strlen(c->id);
	n = 0;
	memcpy(seen, CLIENT_ASSERTION_DOMAIN, sizeof(CLIENT_ASSERTION_DOMAIN));
	n += sizeof(CLIENT_ASSERTION_DOMAIN);
	memcpy(seen + n, c->id, idlen + 1);
	n += idlen + 1;
	memcpy(seen + n, jti, jtilen);
	n += jtilen;
	(void)crypto_sha256(seen, n, replay);
	*until = exp + CLIENT_ASSERTION_SKEW;
	err = OAUTH_OK;
out:
	cJSON_Delete(claims);
	if (payload.data != NULL)
		crypto_wipe(payload.data, payload.cap);
	buf_free(&payload);
	free(issuer);
	return err;
}
