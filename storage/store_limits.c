/*
 * What a record may hold, checked by every backend before it writes one,
 * and the release of the records a get returns.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* Whether s (NULL counting as "") is between min and max bytes long. */
static int
store_limits_str_ok(const char *s, size_t min, size_t max)
{
	size_t len = s != NULL ? strnlen(s, max + 1) : 0;

	return len >= min && len <= max;
}

static int
store_limits_opt_ok(const char *s, size_t max)
{
	return s == NULL || store_limits_str_ok(s, 0, max);
}

/*
 * Whether c may be stored: an id of 1 to CLIENT_ID_MAX bytes, known grant
 * type bits and token format, a scope, audience and redirect URIs within
 * their limits, at most REDIRECT_URIS_MAX of them and no NULL among them.
 * Returns STORE_OK or STORE_INVALID.
 */
enum store_status
store_client_check(const struct client *c)
{
	size_t i;

	if (!store_limits_str_ok(c->id, 1, CLIENT_ID_MAX) ||
	    (c->grant_types & ~GRANT_ALL) != 0 ||
	    c->secret_iterations > SECRET_KDF_ITERATIONS_MAX ||
	    !store_limits_str_ok(c->scope, 0, SCOPE_MAX) ||
	    !store_limits_opt_ok(c->audience, AUDIENCE_MAX) ||
	    c->redirect_uri_count > REDIRECT_URIS_MAX ||
	    c->resource_count > RESOURCES_MAX ||
	    !store_limits_opt_ok(c->jwks, STORE_JWKS_MAX) ||
	    (c->jwks != NULL && (c->jwks[0] == '\0' || c->is_public)) ||
	    (unsigned)c->tls_auth >= CLIENT_TLS__MAX ||
	    (c->tls_auth == CLIENT_TLS_NONE) != (c->tls_value == NULL) ||
	    !store_limits_opt_ok(c->tls_value, CLIENT_TLS_VALUE_MAX) ||
	    (c->tls_value != NULL && (c->tls_value[0] == '\0' ||
	    c->is_public || c->jwks != NULL)) ||
	    (unsigned)c->token_format >= CLIENT_TOKEN__MAX)
		return STORE_INVALID;
	for (i = 0; i < c->redirect_uri_count; i++)
		if (c->redirect_uris[i] == NULL ||
		    !store_limits_str_ok(c->redirect_uris[i], 0,
		    REDIRECT_URI_MAX))
			return STORE_INVALID;
	for (i = 0; i < c->resource_count; i++)
		if (c->resources[i] == NULL ||
		    !store_limits_str_ok(c->resources[i], 1, AUDIENCE_MAX))
			return STORE_INVALID;
	return STORE_OK;
}

/*
 * Whether t may be stored: a known kind and state, a client id of 1 to
 * CLIENT_ID_MAX bytes, a subject, scope, audience, redirect URI, code
 * challenge and nonce within their limits, and no nonce or auth_time on a
 * record without a jti.  Returns STORE_OK or STORE_INVALID.
 */
enum store_status
store_token_check(const struct token *t)
{
	if ((unsigned)t->kind < TOKEN_ACCESS ||
	    (unsigned)t->kind >= TOKEN_KIND__MAX ||
	    (unsigned)t->state >= TOKEN_STATE__MAX ||
	    !store_limits_str_ok(t->client_id, 1, CLIENT_ID_MAX) ||
	    !store_limits_opt_ok(t->subject, USERNAME_MAX) ||
	    !store_limits_str_ok(t->scope, 0, SCOPE_MAX) ||
	    !store_limits_opt_ok(t->audience, AUDIENCE_MAX) ||
	    !store_limits_opt_ok(t->redirect_uri, REDIRECT_URI_MAX) ||
	    !store_limits_opt_ok(t->code_challenge,
	    STORE_CHALLENGE_MAX) ||
	    !store_limits_opt_ok(t->nonce, STORE_NONCE_MAX) ||
	    (!t->has_jti && (t->nonce != NULL || t->auth_time != 0)) ||
	    (unsigned)t->bind >= TOKEN_BIND__MAX ||
	    (!t->has_jti && t->bind != TOKEN_BIND_NONE))
		return STORE_INVALID;
	return STORE_OK;
}

/*
 * Whether g may be stored: a client id of 1 to CLIENT_ID_MAX bytes, a
 * subject and claims within their limits.  Returns STORE_OK or
 * STORE_INVALID.
 */
enum store_status
store_grant_check(const struct grant *g)
{
	if (!store_limits_str_ok(g->client_id, 1, CLIENT_ID_MAX) ||
	    !store_limits_opt_ok(g->subject, USERNAME_MAX) ||
	    !store_limits_opt_ok(g->claims, STORE_CLAIMS_MAX))
		return STORE_INVALID;
	return STORE_OK;
}

/*
 * Whether k may be stored: a kid of JOSE_KID_LEN bytes, a known alg, a PEM
 * and a public JWK within their limits.  Returns STORE_OK or
 * STORE_INVALID.
 */
enum store_status
store_key_check(const struct key *k)
{
	if (!store_limits_str_ok(k->kid, JOSE_KID_LEN, JOSE_KID_LEN) ||
	    (unsigned)k->alg >= JOSE_ALG__MAX ||
	    !store_limits_str_ok(k->pem, 1, JOSE_PEM_MAX) ||
	    !store_limits_str_ok(k->jwk, 2, STORE_JWK_MAX))
		return STORE_INVALID;
	return STORE_OK;
}

/* Frees what k owns, wiping the private key, and zeroes it.  Accepts NULL. */
void
key_free(struct key *k)
{
	if (k == NULL)
		return;
	if (k->pem != NULL) {
		crypto_wipe(k->pem, strlen(k->pem));
		free(k->pem);
	}
	free(k->jwk);
	memset(k, 0, sizeof(*k));
}

/*
 * Frees what c owns, every redirect URI slot included, and zeroes it.
 * Accepts NULL and a zeroed struct.
 */
void
client_free(struct client *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->scope);
	free(c->audience);
	for (i = 0; i < REDIRECT_URIS_MAX; i++)
		free(c->redirect_uris[i]);
	for (i = 0; i < RESOURCES_MAX; i++)
		free(c->resources[i]);
	free(c->jwks);
	free(c->tls_value);
	crypto_wipe(c, sizeof(*c));
}

/* Frees what t owns and zeroes it.  Accepts NULL and a zeroed struct. */
void
token_free(struct token *t)
{
	if (t == NULL)
		return;
	free(t->subject);
	free(t->scope);
	free(t->audience);
	free(t->redirect_uri);
	free(t->code_challenge);
	free(t->nonce);
	memset(t, 0, sizeof(*t));
}

/* Frees what g owns and zeroes it.  Accepts NULL and a zeroed struct. */
void
grant_free(struct grant *g)
{
	if (g == NULL)
		return;
	free(g->subject);
	free(g->claims);
	memset(g, 0, sizeof(*g));
}
