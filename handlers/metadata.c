/*
 * GET /.well-known/oauth-authorization-server (RFC 8414 §3): one read
 * transaction, for the scopes the registered clients use.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

static const char *const metadata_auth_methods[] = {
	"client_secret_basic", "client_secret_post", "none", NULL};
static const char *const metadata_grant_types[] = {
	"authorization_code", "client_credentials", "refresh_token", NULL};
static const char *const metadata_response_types[] = {"code", NULL};
static const char *const metadata_response_modes[] = {"query", NULL};
static const char *const metadata_pkce_methods[] = {"S256", NULL};

static const struct {
	const char *name;
	const char *path;
} metadata_endpoints[] = {
	{"authorization_endpoint", "/authorize"},
	{"token_endpoint", "/token"},
	{"introspection_endpoint", "/introspect"},
	{"revocation_endpoint", "/revoke"},
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

/* The scopes in use, gathered client by client. */
struct metadata_scopes {
	cJSON *array;
	int failed;		/* memory ran out: the list is partial */
};

/* Adds each scope token of a client to the list arg, once. */
static enum store_each
metadata_collect_scope(const struct client *c, void *arg)
{
	struct metadata_scopes *scopes = arg;
	cJSON *a = scopes->array, *item, *s;
	const char *p = c->scope, *end;
	size_t len;
	int seen;

	while (p != NULL && *p != '\0') {
		end = strchr(p, ' ');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		seen = 0;
		cJSON_ArrayForEach(item, a)
			if (strlen(item->valuestring) == len &&
			    memcmp(item->valuestring, p, len) == 0)
				seen = 1;
		if (!seen && len > 0) {
			char *token = strndup(p, len);

			if (token == NULL ||
			    (s = cJSON_CreateString(token)) == NULL) {
				free(token);
				scopes->failed = 1;
				return STORE_EACH_STOP;
			}
			free(token);
			cJSON_AddItemToArray(a, s);
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return STORE_EACH_NEXT;
}

/*
 * GET /.well-known/oauth-authorization-server: the issuer, every endpoint
 * under it, what each supports, and the scopes in use (RFC 8414 §2).
 */
void
handler_metadata(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	struct store_txn *txn = NULL;
	enum store_status st;
	char *issuer;
	struct metadata_scopes scopes = {NULL, 0};
	cJSON *o = NULL;
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
	    cJSON_AddTrueToObject(o,
		"authorization_response_iss_parameter_supported") == NULL ||
	    (scopes.array = cJSON_AddArrayToObject(o, "scopes_supported")) ==
		NULL)
		goto nomem;
	if ((st = store_txn_begin(env->store, 0, &txn)) != STORE_OK ||
	    (st = store_client_foreach(txn, metadata_collect_scope,
		 &scopes)) != STORE_OK) {
		response_store_error(resp, st);
		goto out;
	}
	if (scopes.failed)
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
	free(issuer);
}
