/*
 * GET /.well-known/oauth-authorization-server (RFC 8414 §3): one read
 * transaction, for the one record that holds the scopes the registered
 * clients use (store_scopes.c).
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

static const char *const metadata_auth_methods[] = {
	"client_secret_basic", "client_secret_post", "private_key_jwt",
	"tls_client_auth", "self_signed_tls_client_auth", "none", NULL};
static const char *const metadata_grant_types[] = {
	"authorization_code", "client_credentials", "refresh_token", NULL};
static const char *const metadata_response_types[] = {"code", NULL};
static const char *const metadata_response_modes[] = {"query", NULL};
static const char *const metadata_pkce_methods[] = {"S256", NULL};

static const char *const metadata_subject_types[] = {"public", NULL};
static const char *const metadata_id_token_algs[] = {"RS256", NULL};
/*
 * Every algorithm a DPoP proof (RFC 9449 §5.1) or a client's assertion
 * (RFC 8414 §2, *_auth_signing_alg_values_supported) may be signed with;
 * Ed25519 is EdDSA by its fully-specified name (RFC 9864).
 */
static const char *const metadata_verify_algs[] = {"ES256", "EdDSA",
	"Ed25519", "RS256", NULL};
static const char *const metadata_claims[] = {"sub", "iss", "aud", "exp",
	"iat", "auth_time", "nonce", "at_hash", "azp", NULL};

static const struct {
	const char *name;
	const char *path;
} metadata_endpoints[] = {
	{"authorization_endpoint", "/authorize"},
	{"token_endpoint", "/token"},
	{"introspection_endpoint", "/introspect"},
	{"revocation_endpoint", "/revoke"},
	{"userinfo_endpoint", "/userinfo"},
	{"jwks_uri", "/jwks"},
};

/* Adds name: [strings...] to o.  Returns 0, or -1 when memory runs out. */
static int
metadata_add_list(cJSON *o, const char *name, const char *const *strings)
{
	cJSON *a = cJSON_AddArrayToObject(o, name);
	cJSON *s;

	if (a == NULL)
		return -1;
	for (; *strings != NULL; strings++) {
		if ((s = cJSON_CreateString(*strings)) == NULL)
			return -1;
		cJSON_AddItemToArray(a, s);
	}
	return 0;
}

/*
 * Adds the space-separated values of scopes (sorted and distinct, as
 * store_scopes_get gives them), but except when it is not NULL, to the
 * array a.  Returns 0, or -1 when memory runs out.
 */
static int
metadata_add_scopes(cJSON *a, const char *scopes, const char *except)
{
	const char *p = scopes, *end;
	cJSON *s;
	char *value;
	size_t len;

	while (p != NULL && *p != '\0') {
		end = strchr(p, ' ');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (except != NULL && strlen(except) == len &&
		    memcmp(p, except, len) == 0) {
			p = end != NULL ? end + 1 : NULL;
			continue;
		}
		if ((value = strndup(p, len)) == NULL)
			return -1;
		s = cJSON_CreateString(value);
		free(value);
		if (s == NULL)
			return -1;
		cJSON_AddItemToArray(a, s);
		p = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

/* Adds name: [the name of alg] to o.  Returns 0, or -1 on no memory. */
static int
metadata_add_alg(cJSON *o, const char *name, enum jose_alg alg)
{
	const char *const list[2] = {jose_alg_name(alg), NULL};

	return metadata_add_list(o, name, list);
}

/*
 * Adds what OpenID Connect Discovery 1.0 §3 asks beyond RFC 8414 to o.
 * Returns 0, or -1 when memory runs out.
 */
static int
metadata_add_openid(const struct config *cfg, cJSON *o)
{
	cJSON *claims, *s;
	size_t i;

	if (metadata_add_list(o, "subject_types_supported",
		metadata_subject_types) == -1 ||
	    metadata_add_list(o, "id_token_signing_alg_values_supported",
		metadata_id_token_algs) == -1 ||
	    metadata_add_list(o, "claims_supported", metadata_claims) == -1 ||
	    (claims = cJSON_GetObjectItemCaseSensitive(o, "claims_supported")) ==
		NULL)
		return -1;
	/* And the user's claims the web server passes on (OAUTH_CLAIMS). */
	for (i = 0; i < cfg->claim_count; i++) {
		if ((s = cJSON_CreateString(cfg->claim_names[i])) == NULL)
			return -1;
		cJSON_AddItemToArray(claims, s);
	}
	if (cJSON_AddFalseToObject(o, "claims_parameter_supported") == NULL ||
	    cJSON_AddFalseToObject(o, "request_parameter_supported") == NULL ||
	    /* §3: true unless said otherwise; we take no request_uri. */
	    cJSON_AddFalseToObject(o, "request_uri_parameter_supported") ==
		NULL)
		return -1;
	return 0;
}

/*
 * The metadata document: the issuer, every endpoint under it, what each
 * supports, and the scopes in use, openid among them (RFC 8414 §2); with
 * openid set, what OpenID Connect Discovery adds too.
 */
static void
metadata_respond(const struct handler_env *env, const struct request *req,
    struct response *resp, int openid)
{
	struct store_txn *txn = NULL;
	enum store_status st;
	char *issuer;
	char *scopes = NULL;
	cJSON *o = NULL, *scope_list;
	struct buf url = {0};
	size_t i, slash;

	if ((issuer = handler_issuer(env, req)) == NULL) {
		response_error(resp, OAUTH_SERVER_ERROR,
		    "no issuer: set OAUTH_ISSUER");
		return;
	}
	/* An issuer may end in "/": the endpoints then must not repeat it. */
	slash = issuer[0] != '\0' && issuer[strlen(issuer) - 1] == '/';
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "issuer", issuer) == NULL)
		goto nomem;
	for (i = 0; i < sizeof(metadata_endpoints) / sizeof(metadata_endpoints[0]);
	     i++) {
		buf_free(&url);
		if (buf_printf(&url, "%s%s", issuer,
			metadata_endpoints[i].path + slash) == -1 ||
		    cJSON_AddStringToObject(o, metadata_endpoints[i].name,
			url.data) == NULL)
			goto nomem;
	}
	/* RFC 8414 §2: registration_endpoint, when registration is on. */
	buf_free(&url);
	if (env->config->registration != CONFIG_REGISTRATION_OFF &&
	    (buf_printf(&url, "%s%s", issuer, "/register" + slash) == -1 ||
	    cJSON_AddStringToObject(o, "registration_endpoint", url.data) ==
	    NULL))
		goto nomem;
	if (metadata_add_list(o, "response_types_supported",
		metadata_response_types) == -1 ||
	    metadata_add_list(o, "response_modes_supported",
		metadata_response_modes) == -1 ||
	    metadata_add_list(o, "grant_types_supported",
		metadata_grant_types) == -1 ||
	    metadata_add_list(o, "token_endpoint_auth_methods_supported",
		metadata_auth_methods) == -1 ||
	    metadata_add_list(o, "introspection_endpoint_auth_methods_supported",
		metadata_auth_methods) == -1 ||
	    metadata_add_list(o, "revocation_endpoint_auth_methods_supported",
		metadata_auth_methods) == -1 ||
	    metadata_add_list(o, "code_challenge_methods_supported",
		metadata_pkce_methods) == -1 ||
	    metadata_add_list(o, "dpop_signing_alg_values_supported",
		metadata_verify_algs) == -1 ||
	    metadata_add_list(o, "token_endpoint_auth_signing_alg_values_"
		"supported", metadata_verify_algs) == -1 ||
	    metadata_add_list(o, "introspection_endpoint_auth_signing_alg_"
		"values_supported", metadata_verify_algs) == -1 ||
	    metadata_add_list(o, "revocation_endpoint_auth_signing_alg_"
		"values_supported", metadata_verify_algs) == -1 ||
	    /* RFC 9701 §6: the signed introspection responses we make. */
	    metadata_add_alg(o, "introspection_signing_alg_values_supported",
		env->config->signing_alg) == -1 ||
	    cJSON_AddTrueToObject(o,
		"authorization_response_iss_parameter_supported") == NULL ||
	    /* RFC 8705 §3.3: a client of a certificate gets bound tokens. */
	    cJSON_AddTrueToObject(o,
		"tls_client_certificate_bound_access_tokens") == NULL ||
	    (scope_list = cJSON_AddArrayToObject(o, "scopes_supported")) ==
		NULL)
		goto nomem;
	if ((st = store_txn_begin(env->store, 0, &txn)) != STORE_OK ||
	    (st = store_scopes_get(txn, &scopes)) != STORE_OK) {
		response_store_error(resp, st);
		goto out;
	}
	/* openid is always there: the server supports it for every client. */
	if (metadata_add_scopes(scope_list, "openid", NULL) == -1 ||
	    metadata_add_scopes(scope_list, scopes, "openid") == -1 ||
	    (openid && metadata_add_openid(env->config, o) == -1))
		goto nomem;
	response_json(resp, 200, o);
	o = NULL;
	goto out;
nomem:
	response_error(resp, OAUTH_SERVER_ERROR, "out of memory");
out:
	store_txn_abort(txn);
	cJSON_Delete(o);
	buf_free(&url);
	free(scopes);
	free(issuer);
}

/* GET /.well-known/oauth-authorization-server (RFC 8414 §3). */
void
handler_metadata(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	metadata_respond(env, req, resp, 0);
}

/* GET /.well-known/openid-configuration (OpenID Connect Discovery §4). */
void
handler_openid_configuration(const struct handler_env *env,
    const struct request *req, struct response *resp)
{
	metadata_respond(env, req, resp, 1);
}
