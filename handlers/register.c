/*
 * Dynamic client registration (RFC 7591) and its management (RFC 7592),
 * off unless OAUTH_REGISTRATION says: "token", a client presents the
 * initial access token whose SHA-256 OAUTH_REGISTRATION_TOKEN_SHA256
 * holds, and may register any client; "open", anyone may register a
 * public client whose redirect URIs are on loopback (http://127.0.0.1,
 * http://[::1], RFC 8252 §7.3) or claimed https URIs (§7.2).  Metadata is
 * checked strictly; what is not understood is ignored (RFC 7591 §2).  A
 * client may register keys (private_key_jwt, with jwks) or a certificate
 * (tls_client_auth by its subject DN, self_signed_tls_client_auth by the
 * certificate in its jwks' x5c, RFC 8705 §2.1.2, §2.2.2).  The
 * registration access token is stored as its SHA-256 only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "handlers.h"

#define REGISTER_DEPTH 6		/* JSON nesting: to x5c's strings */
#define REGISTER_ID_PREFIX "dyn-"	/* the ids registration gives */
#define REGISTER_ID_RANDOM 16		/* random bytes in one */
#define REGISTER_PATH "/register"

/* The grant types by their names (RFC 7591 §2). */
static const struct {
	const char *name;
	unsigned bit;
} register_grants[] = {
	{"authorization_code", GRANT_AUTHORIZATION_CODE},
	{"refresh_token", GRANT_REFRESH_TOKEN},
	{"client_credentials", GRANT_CLIENT_CREDENTIALS},
};

/* What a registration asked for, checked. */
struct register_meta {
	struct client c;	/* the strings owned; client_free */
	int secret;		/* client_secret_basic or client_secret_post */
	const char *method;	/* its token_endpoint_auth_method */
};

/* The token_endpoint_auth_method values registration takes. */
static const char *const register_methods[] = {
	"none", "client_secret_basic", "client_secret_post",
	"private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth",
};

/* Schemes no redirect may go to, whoever registers them. */
static const char *const register_scheme_refused[] = {
	"javascript:", "data:", "vbscript:", "file:",
};

/* Makes resp the 400 of RFC 7591 §3.2.2 with code error ("invalid_..."). */
static void
register_fail(struct response *resp, const char *error, const char *why)
{
	struct json_writer w;

	response_free(resp);
	response_json_begin(resp, &w);
	json_write_str(&w, "error", error);
	json_write_str(&w, "error_description", why);
	(void)response_json_end(resp, &w, 400);
	resp->no_store = 1;
}

/*
 * Whether uri may be registered without an initial access token: https
 * (a claimed URI, RFC 8252 §7.2) or http on a loopback address (§7.3),
 * where what follows the address is a port or the path: never a userinfo
 * naming another host ("http://127.0.0.1:1@evil.example/").
 */
static int
register_uri_open(const char *uri)
{
	static const char *const loopback[] = {"http://127.0.0.1",
	    "http://[::1]"};
	const char *p;
	size_t i;

	/* No userinfo either: a claimed URI names its host plainly. */
	if (strncasecmp(uri, "https://", 8) == 0 && uri[8] != '\0' &&
	    uri[8] != '/')
		return memchr(uri + 8, '@', strcspn(uri + 8, "/?")) == NULL;
	for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		if (strncmp(uri, loopback[i], strlen(loopback[i])) != 0)
			continue;
		p = uri + strlen(loopback[i]);
		if (*p == ':')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		return *p == '/' || *p == '?' || *p == '\0';
	}
	return 0;
}

/* Whether uri's scheme is one no redirect may go to (RFC 9700 §4.1). */
static int
register_uri_refused(const char *uri)
{
	size_t i;

	for (i = 0; i < sizeof(register_scheme_refused) /
	    sizeof(register_scheme_refused[0]); i++)
		if (strncasecmp(uri, register_scheme_refused[i],
		    strlen(register_scheme_refused[i])) == 0)
			return 1;
	return 0;
}

/*
 * The x5t#S256 of the certificate a self-signed client registers (RFC
 * 8705 §2.2.2): its jwks, one key whose x5c's first member is the
 * certificate's DER, base64 (RFC 7517 §4.7); into m's tls_value.
 * Returns NULL, or the error code with *why set.
 */
static const char *
register_self_signed(const cJSON *jwks, struct register_meta *m,
    const char **why)
{
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(jwks, "keys");
	const cJSON *x5c, *first;
	unsigned char *der = NULL, digest[TOKEN_HASH_LEN];
	char text[JOSE_THUMBPRINT_LEN + 1];
	size_t len, derlen = 0;

	*why = "self_signed_tls_client_auth needs jwks of one key whose x5c "
	    "holds the certificate";
	if (!cJSON_IsArray(keys) || cJSON_GetArraySize(keys) != 1 ||
	    !cJSON_IsArray(x5c = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(keys, 0), "x5c")) ||
	    !cJSON_IsString(first = cJSON_GetArrayItem(x5c, 0)) ||
	    (len = strlen(first->valuestring)) == 0 || len % 4 != 0 ||
	    len > STORE_JWKS_MAX)
		return "invalid_client_metadata";
	if ((der = malloc(len / 4 * 3)) == NULL) {
		*why = "out of memory";
		return "server_error";
	}
	/* A DER certificate is a SEQUENCE (X.690 §8.9). */
	if (b64_decode(first->valuestring, len, der, len / 4 * 3, &derlen) ==
	    -1 || derlen == 0 || der[0] != 0x30) {
		free(der);
		return "invalid_client_metadata";
	}
	(void)crypto_sha256(der, derlen, digest);
	free(der);
	(void)b64url_encode(digest, sizeof(digest), text, sizeof(text));
	if ((m->c.tls_value = strdup(text)) == NULL) {
		*why = "out of memory";
		return "server_error";
	}
	m->c.tls_auth = CLIENT_TLS_SELF_SIGNED;
	return NULL;
}

/*
 * How a client registered with the method m->method proves itself, from
 * o into m: its jwks (private_key_jwt, checked as oauthctl checks keys,
 * jose_jwks_check), its subject DN (tls_client_auth), its certificate
 * (self_signed_tls_client_auth, register_self_signed).  jwks_uri is not
 * taken: the server fetches nothing.  Returns NULL, or the error code
 * with *why set.
 */
static const char *
register_credentials(const cJSON *o, struct register_meta *m,
    const char **why)
{
	const cJSON *jwks = cJSON_GetObjectItemCaseSensitive(o, "jwks");
	const cJSON *dn = cJSON_GetObjectItemCaseSensitive(o,
	    "tls_client_auth_subject_dn");
	int keys = strcmp(m->method, "private_key_jwt") == 0;
	int self_signed = strcmp(m->method, "self_signed_tls_client_auth") == 0;
	int subject = strcmp(m->method, "tls_client_auth") == 0;
	size_t index;
	int rc;

	if (cJSON_GetObjectItemCaseSensitive(o, "jwks_uri") != NULL) {
		*why = "jwks_uri is not supported: send the keys as jwks";
		return "invalid_client_metadata";
	}
	if (jwks != NULL && !keys && !self_signed) {
		*why = "jwks goes with private_key_jwt or "
		    "self_signed_tls_client_auth";
		return "invalid_client_metadata";
	}
	if (dn != NULL && !subject) {
		*why = "tls_client_auth_subject_dn goes with tls_client_auth";
		return "invalid_client_metadata";
	}
	if (subject) {
		if (!cJSON_IsString(dn) || dn->valuestring[0] == '\0' ||
		    strlen(dn->valuestring) > CLIENT_TLS_VALUE_MAX) {
			*why = "tls_client_auth needs "
			    "tls_client_auth_subject_dn, the certificate's "
			    "subject DN";
			return "invalid_client_metadata";
		}
		if ((m->c.tls_value = strdup(dn->valuestring)) == NULL) {
			*why = "out of memory";
			return "server_error";
		}
		m->c.tls_auth = CLIENT_TLS_SUBJECT_DN;
		return NULL;
	}
	if (self_signed)
		return register_self_signed(jwks, m, why);
	if (!keys)
		return NULL;
	if (!cJSON_IsObject(jwks) ||
	    (m->c.jwks = cJSON_PrintUnformatted(jwks)) == NULL) {
		*why = "private_key_jwt needs jwks, a JWK Set";
		return jwks == NULL || !cJSON_IsObject(jwks) ?
		    "invalid_client_metadata" : "server_error";
	}
	if (strlen(m->c.jwks) > STORE_JWKS_MAX) {
		*why = "jwks is too large";
		return "invalid_client_metadata";
	}
	if ((rc = jose_jwks_check(m->c.jwks, &index, why)) == 0)
		return NULL;
	if (rc == JOSE_UNAVAILABLE) {
		*why = "the server cannot check keys now";
		return "server_error";
	}
	*why = index > 0 ? "a key of jwks is not a public RSA (2048 to 4096 "
	    "bits), P-256 or Ed25519 JWK, or repeats a kid" :
	    "jwks is not a JWK Set of 1 to 8 keys";
	return "invalid_client_metadata";
}

/*
 * Checks the metadata o and fills m (RFC 7591 §2): redirect_uris,
 * token_endpoint_auth_method (none, client_secret_basic,
 * client_secret_post), grant_types, response_types (code), scope (within
 * OAUTH_REGISTRATION_SCOPES), dpop_bound_access_tokens.  open limits it
 * to what anyone may register.  Returns NULL, or the RFC 7591 §3.2.2 error
 * code with *why set.
 */
static const char *
register_meta_check(const struct handler_env *env, const cJSON *o, int open,
    struct register_meta *m, const char **why)
{
	const cJSON *uris = cJSON_GetObjectItemCaseSensitive(o, "redirect_uris");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(o,
	    "token_endpoint_auth_method");
	const cJSON *grants = cJSON_GetObjectItemCaseSensitive(o, "grant_types");
	const cJSON *types = cJSON_GetObjectItemCaseSensitive(o,
	    "response_types");
	const cJSON *scope = cJSON_GetObjectItemCaseSensitive(o, "scope");
	const cJSON *dpop = cJSON_GetObjectItemCaseSensitive(o,
	    "dpop_bound_access_tokens");
	const char *allowed = env->config->registration_scopes;
	const cJSON *v;
	const char *bad;
	size_t i, n = 0;

	memset(m, 0, sizeof(*m));
	m->method = "client_secret_basic";
	if (method != NULL) {
		m->method = NULL;
		for (i = 0; i < sizeof(register_methods) /
		    sizeof(register_methods[0]); i++)
			if (cJSON_IsString(method) && strcmp(
			    method->valuestring, register_methods[i]) == 0)
				m->method = register_methods[i];
		if (m->method == NULL) {
			*why = "token_endpoint_auth_method is none, "
			    "client_secret_basic, client_secret_post, "
			    "private_key_jwt, tls_client_auth or "
			    "self_signed_tls_client_auth";
			return "invalid_client_metadata";
		}
	}
	m->c.is_public = strcmp(m->method, "none") == 0;
	m->secret = strncmp(m->method, "client_secret_", 14) == 0;
	if (open && !m->c.is_public) {
		*why = "without an initial access token only public clients "
		    "(token_endpoint_auth_method none) register";
		return "invalid_client_metadata";
	}
	if ((bad = register_credentials(o, m, why)) != NULL)
		return bad;
	/* RFC 7591 §2: authorization_code unless said otherwise. */
	if (grants == NULL)
		m->c.grant_types = GRANT_AUTHORIZATION_CODE;
	else if (!cJSON_IsArray(grants) || cJSON_GetArraySize(grants) == 0) {
		*why = "grant_types is not an array of grant types";
		return "invalid_client_metadata";
	}
	cJSON_ArrayForEach(v, grants) {
		for (i = 0; i < sizeof(register_grants) /
		    sizeof(register_grants[0]); i++)
			if (cJSON_IsString(v) && strcmp(v->valuestring,
			    register_grants[i].name) == 0)
				break;
		if (i == sizeof(register_grants) / sizeof(register_grants[0])) {
			*why = "grant_types names a grant type not supported";
			return "invalid_client_metadata";
		}
		m->c.grant_types |= register_grants[i].bit;
	}
	if (m->c.is_public && (m->c.grant_types & GRANT_CLIENT_CREDENTIALS)) {
		*why = "a public client cannot use client_credentials";
		return "invalid_client_metadata";
	}
	if (types != NULL && (!cJSON_IsArray(types) ||
	    cJSON_GetArraySize(types) != 1 ||
	    !cJSON_IsString(cJSON_GetArrayItem(types, 0)) ||
	    strcmp(cJSON_GetArrayItem(types, 0)->valuestring, "code") != 0 ||
	    !(m->c.grant_types & GRANT_AUTHORIZATION_CODE))) {
		*why = "response_types is [\"code\"], with authorization_code";
		return "invalid_client_metadata";
	}
	if (uris != NULL && !cJSON_IsArray(uris)) {
		*why = "redirect_uris is not an array";
		return "invalid_redirect_uri";
	}
	cJSON_ArrayForEach(v, uris) {
		if (n == REDIRECT_URIS_MAX || !cJSON_IsString(v) ||
		    !uri_absolute_valid(v->valuestring, REDIRECT_URI_MAX, &bad) ||
		    register_uri_refused(v->valuestring) ||
		    (open && !register_uri_open(v->valuestring))) {
			*why = open ? "a redirect URI is not an absolute URI "
			    "without fragment on loopback http or https" :
			    "a redirect URI is not an absolute URI without "
			    "fragment";
			return "invalid_redirect_uri";
		}
		for (i = 0; i < n; i++)
			if (strcmp(m->c.redirect_uris[i], v->valuestring) == 0) {
				*why = "a redirect URI is there twice";
				return "invalid_redirect_uri";
			}
		if ((m->c.redirect_uris[n] = strdup(v->valuestring)) == NULL)
			goto nomem;
		m->c.redirect_uri_count = ++n;
	}
	if ((m->c.grant_types & GRANT_AUTHORIZATION_CODE) && n == 0) {
		*why = "authorization_code needs redirect_uris";
		return "invalid_redirect_uri";
	}
	if (scope != NULL && (!cJSON_IsString(scope) ||
	    strlen(scope->valuestring) > SCOPE_MAX ||
	    !scope_valid(scope->valuestring) ||
	    !scope_subset(scope->valuestring, allowed != NULL ? allowed : ""))) {
		*why = "scope is not within what registration may give "
		    "(OAUTH_REGISTRATION_SCOPES)";
		return "invalid_client_metadata";
	}
	if ((m->c.scope = scope != NULL ? scope_normalize(scope->valuestring) :
	    strdup(allowed != NULL ? allowed : "")) == NULL)
		goto nomem;
	if (dpop != NULL && !cJSON_IsBool(dpop)) {
		*why = "dpop_bound_access_tokens is not a boolean";
		return "invalid_client_metadata";
	}
	m->c.dpop_bound = cJSON_IsTrue(dpop);
	return NULL;
nomem:
	*why = "out of memory";
	return "server_error";
}

/*
 * The token_endpoint_auth_method of client c; of a client of secrets,
 * client_secret_basic, the default, since both are taken from it (RFC
 * 7591 §3.2.1 lets the server say what it settled on).
 */
static const char *
register_method_of(const struct client *c)
{
	if (c->is_public)
		return "none";
	if (c->jwks != NULL)
		return "private_key_jwt";
	switch (c->tls_auth) {
	case CLIENT_TLS_SUBJECT_DN:
		return "tls_client_auth";
	case CLIENT_TLS_SELF_SIGNED:
		return "self_signed_tls_client_auth";
	case CLIENT_TLS_NONE:
	case CLIENT_TLS__MAX:
		break;
	}
	return "client_secret_basic";
}

/* Writes to w the array name of the n strings of list. */
static void
register_write_list(struct json_writer *w, const char *name,
    const char *const *list, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	char *text = NULL;
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(list[i]));
	if (a != NULL && (text = cJSON_PrintUnformatted(a)) != NULL)
		json_write_raw(w, name, text, strlen(text));
	cJSON_free(text);
	cJSON_Delete(a);
}

/*
 * Writes to w the client's registered metadata (RFC 7591 §3.2.1, RFC 7592
 * §3): how it authenticates and where it is managed, its grant and
 * response types, its redirect URIs and scope.
 */
static void
register_meta_write(struct json_writer *w, const struct client *c,
    const char *issuer)
{
	const char *grants[sizeof(register_grants) / sizeof(register_grants[0])];
	static const char *const code[] = {"code"};
	struct buf url = {0};
	size_t i, n = 0, ilen = strlen(issuer);

	if (ilen > 0 && issuer[ilen - 1] == '/')
		ilen--;
	json_write_str(w, "client_id", c->id);
	json_write_int(w, "client_id_issued_at", c->created_at);
	json_write_str(w, "token_endpoint_auth_method", register_method_of(c));
	if (c->jwks != NULL)
		json_write_raw(w, "jwks", c->jwks, strlen(c->jwks));
	if (c->tls_auth == CLIENT_TLS_SUBJECT_DN)
		json_write_str(w, "tls_client_auth_subject_dn", c->tls_value);
	for (i = 0; i < sizeof(register_grants) / sizeof(register_grants[0]);
	    i++)
		if (c->grant_types & register_grants[i].bit)
			grants[n++] = register_grants[i].name;
	register_write_list(w, "grant_types", grants, n);
	if (c->grant_types & GRANT_AUTHORIZATION_CODE)
		register_write_list(w, "response_types", code, 1);
	register_write_list(w, "redirect_uris",
	    (const char *const *)c->redirect_uris, c->redirect_uri_count);
	json_write_str(w, "scope", c->scope != NULL ? c->scope : "");
	json_write_bool(w, "dpop_bound_access_tokens", c->dpop_bound);
	if (buf_append(&url, issuer, ilen) == 0 &&
	    buf_printf(&url, REGISTER_PATH "/%s", c->id) == 0)
		json_write_str(w, "registration_client_uri", url.data);
	buf_free(&url);
}

/*
 * Whether the request's "Authorization: Bearer" is the token whose
 * SHA-256 is hash.  Constant time.
 */
static int
register_bearer_is(const struct request *req,
    const unsigned char hash[TOKEN_HASH_LEN])
{
	unsigned char digest[TOKEN_HASH_LEN];
	const char *token;
	size_t len;

	if (params_bearer_token(req->authorization, &token, &len) != OAUTH_OK)
		return 0;
	(void)crypto_sha256(token, len, digest);
	return crypto_equal(digest, hash, TOKEN_HASH_LEN);
}

/*
 * Makes resp the 401 of a request without the right bearer token: RFC
 * 6750 §3.1 names no error in the challenge of one that sent none.
 */
static void
register_unauthorized(struct response *resp, const struct request *req,
    const char *why)
{
	int sent = req->authorization != NULL && req->authorization[0] != '\0';

	response_error(resp, OAUTH_INVALID_TOKEN, why);
	resp->www_authenticate = strdup(sent ? "Bearer error=\"invalid_token\""
	    : "Bearer");
}

/* A random base64url string of n random bytes into out (of size bytes). */
static int
register_random(const struct handler_env *env, size_t n, char *out,
    size_t size)
{
	unsigned char raw[SECRET_RANDOM_LEN];

	if (n > sizeof(raw) || env->random(env->ctx, raw, n) == -1)
		return -1;
	(void)b64url_encode(raw, n, out, size);
	crypto_wipe(raw, sizeof(raw));
	return 0;
}

/*
 * The metadata of the request body, a JSON object (RFC 7591 §3.1), into
 * *out.  Returns 0, or -1 with resp the error.
 */
static int
register_body(const struct request *req, cJSON **out, struct response *resp)
{
	*out = NULL;
	if (req->content_type == NULL ||
	    strncasecmp(req->content_type, "application/json", 16) != 0 ||
	    (req->content_type[16] != '\0' && req->content_type[16] != ';' &&
	    req->content_type[16] != ' ')) {
		response_error(resp, OAUTH_INVALID_REQUEST,
		    "client metadata is sent as application/json");
		return -1;
	}
	if (json_parse_object(req->body, req->body_len, REGISTER_DEPTH,
	    out) == -1) {
		register_fail(resp, "invalid_client_metadata",
		    "the client metadata is not one JSON object");
		return -1;
	}
	return 0;
}

/* POST /register (RFC 7591 §3.1): a new client, 201 with its credentials. */
static void
register_create(const struct handler_env *env, const struct request *req,
    const char *issuer, struct response *resp)
{
	char secret[JOSE_THUMBPRINT_LEN + 1] = "", access[JOSE_THUMBPRINT_LEN +
	    1], id[sizeof(REGISTER_ID_PREFIX) + JOSE_THUMBPRINT_LEN];
	struct register_meta m;
	struct store_txn *txn = NULL;
	struct json_writer w;
	enum store_status st;
	const char *error, *why;
	int open = env->config->registration == CONFIG_REGISTRATION_OPEN;
	cJSON *o = NULL;

	memset(&m, 0, sizeof(m));
	/* RFC 7591 §3: the initial access token, as a bearer token. */
	if (!open && !register_bearer_is(req, env->config->registration_hash)) {
		register_unauthorized(resp, req,
		    "registration needs the initial access token");
		return;
	}
	if (register_body(req, &o, resp) == -1)
		goto out;
	if ((error = register_meta_check(env, o, open, &m, &why)) != NULL) {
		register_fail(resp, error, why);
		goto out;
	}
	memcpy(id, REGISTER_ID_PREFIX, sizeof(REGISTER_ID_PREFIX) - 1);
	if (register_random(env, REGISTER_ID_RANDOM, id +
	    sizeof(REGISTER_ID_PREFIX) - 1, sizeof(id) -
	    sizeof(REGISTER_ID_PREFIX) + 1) == -1 ||
	    register_random(env, SECRET_RANDOM_LEN, access, sizeof(access)) ==
	    -1 || (m.secret && register_random(env, SECRET_RANDOM_LEN, secret,
	    sizeof(secret)) == -1) ||
	    env->random(env->ctx, m.c.secret_salt, sizeof(m.c.secret_salt)) ==
	    -1) {
		response_error(resp, OAUTH_SERVER_ERROR, "no randomness");
		goto out;
	}
	(void)snprintf(m.c.id, sizeof(m.c.id), "%s", id);
	m.c.created_at = env->now(env->ctx);
	if (m.secret)
		(void)crypto_secret_hash(m.c.secret_salt, secret,
		    strlen(secret), m.c.secret_hash);
	m.c.has_registration = 1;
	(void)crypto_sha256(access, strlen(access), m.c.registration_hash);
	if ((st = store_txn_begin(env->store, 1, &txn)) == STORE_OK &&
	    (st = store_client_put(txn, &m.c, 0)) == STORE_OK) {
		/* A commit ends the transaction, failed or not. */
		st = store_txn_commit(txn);
		txn = NULL;
	}
	store_txn_abort(txn);
	txn = NULL;
	if (st != STORE_OK) {
		response_store_error(resp, st);
		goto out;
	}
	response_free(resp);
	response_json_begin(resp, &w);
	register_meta_write(&w, &m.c, issuer);
	if (m.secret) {
		json_write_str(&w, "client_secret", secret);
		json_write_int(&w, "client_secret_expires_at", 0);
	}
	json_write_str(&w, "registration_access_token", access);
	(void)response_json_end(resp, &w, 201);
	resp->no_store = 1;
out:
	crypto_wipe(secret, sizeof(secret));
	crypto_wipe(access, sizeof(access));
	cJSON_Delete(o);
	client_free(&m.c);
}

/*
 * Carries over to the client to of a PUT what registration does not set
 * but an operator may have (oauthctl): the introspection permission, the
 * audience and resources, the token format, the secret's KDF.  Returns 0,
 * or -1 when memory runs out.
 */
static int
register_keep(struct client *to, const struct client *from)
{
	size_t i;

	to->may_introspect = from->may_introspect;
	to->token_format = from->token_format;
	to->secret_iterations = from->secret_iterations;
	if (from->audience != NULL &&
	    (to->audience = strdup(from->audience)) == NULL)
		return -1;
	for (i = 0; i < from->resource_count; i++) {
		if ((to->resources[i] = strdup(from->resources[i])) == NULL)
			return -1;
		to->resource_count = i + 1;
	}
	return 0;
}

/*
 * Whether the client_id and client_secret a PUT sends, when it sends
 * them, are the client c's (RFC 7592 §2.2: the client may not change
 * them).  The secret is compared by its hash, in constant time.
 */
static int
register_put_same(const cJSON *o, const struct client *c)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "client_id");
	const cJSON *secret = cJSON_GetObjectItemCaseSensitive(o,
	    "client_secret");
	unsigned char hash[SECRET_HASH_LEN];
	int same;

	if (id != NULL && (!cJSON_IsString(id) ||
	    strcmp(id->valuestring, c->id) != 0))
		return 0;
	if (secret == NULL)
		return 1;
	if (!cJSON_IsString(secret) || c->is_public || c->jwks != NULL ||
	    c->tls_auth != CLIENT_TLS_NONE ||
	    strlen(secret->valuestring) > CLIENT_SECRET_MAX ||
	    crypto_secret_derive(c->secret_salt, secret->valuestring,
	    strlen(secret->valuestring), c->secret_iterations, hash) == -1)
		return 0;
	same = crypto_equal(hash, c->secret_hash, sizeof(hash));
	crypto_wipe(hash, sizeof(hash));
	return same;
}

/*
 * GET, PUT and DELETE /register/CLIENT_ID (RFC 7592 §2), authorized by
 * the client's registration access token; a client that is not there, or
 * another token, is 401 (§2: nothing tells which).  GET and PUT answer
 * the metadata with the token (§3).
 */
static void
register_manage(const struct handler_env *env, const struct request *req,
    const char *id, const char *issuer, struct response *resp)
{
	char access[TOKEN_PRESENTED_MAX + 1];
	struct register_meta m;
	struct store_txn *txn = NULL;
	struct store_purged purged;
	struct client c;
	struct json_writer w;
	enum store_status st;
	const char *error, *why, *token;
	size_t len;
	cJSON *o = NULL;

	memset(&c, 0, sizeof(c));
	memset(&m, 0, sizeof(m));
	if ((st = store_txn_begin(env->store, strcmp(req->method, "GET") != 0,
	    &txn)) != STORE_OK) {
		response_store_error(resp, st);
		return;
	}
	st = store_client_get(txn, id, &c);
	if (st != STORE_OK && st != STORE_NOTFOUND) {
		response_store_error(resp, st);
		goto out;
	}
	if (st == STORE_NOTFOUND || !c.has_registration ||
	    !register_bearer_is(req, c.registration_hash) ||
	    params_bearer_token(req->authorization, &token, &len) != OAUTH_OK ||
	    len >= sizeof(access)) {
		register_unauthorized(resp, req,
		    "the registration access token is not this client's");
		goto out;
	}
	memcpy(access, token, len);
	access[len] = '\0';
	if (strcmp(req->method, "DELETE") == 0) {
		/* §2.3: the client and everything it was given. */
		if ((st = store_client_delete(txn, id)) == STORE_OK &&
		    (st = store_client_drop_tokens(txn, id, &purged)) ==
		    STORE_OK) {
			st = store_txn_commit(txn);
			txn = NULL;
		}
		if (st != STORE_OK) {
			response_store_error(resp, st);
			goto out;
		}
		response_init(resp);
		resp->status = 204;
		goto out;
	}
	if (strcmp(req->method, "PUT") == 0) {
		/* §2.2: the new metadata replaces the old, id and keys kept. */
		if (register_body(req, &o, resp) == -1)
			goto out;
		if (!register_put_same(o, &c)) {
			register_fail(resp, "invalid_client_metadata",
			    "client_id and client_secret may not change");
			goto out;
		}
		if ((error = register_meta_check(env, o,
		    env->config->registration == CONFIG_REGISTRATION_OPEN &&
		    c.is_public, &m, &why)) != NULL) {
			register_fail(resp, error, why);
			goto out;
		}
		if (strcmp(m.method, register_method_of(&c)) != 0 &&
		    !(m.secret && strcmp(register_method_of(&c),
		    "client_secret_basic") == 0)) {
			register_fail(resp, "invalid_client_metadata",
			    "token_endpoint_auth_method may not change");
			goto out;
		}
		if (register_keep(&m.c, &c) == -1) {
			response_error(resp, OAUTH_SERVER_ERROR,
			    "out of memory");
			goto out;
		}
		memcpy(m.c.id, c.id, sizeof(m.c.id));
		memcpy(m.c.secret_salt, c.secret_salt, sizeof(c.secret_salt));
		memcpy(m.c.secret_hash, c.secret_hash, sizeof(c.secret_hash));
		m.c.created_at = c.created_at;
		m.c.has_registration = 1;
		memcpy(m.c.registration_hash, c.registration_hash,
		    sizeof(c.registration_hash));
		if ((st = store_client_put(txn, &m.c, 1)) == STORE_OK) {
			st = store_txn_commit(txn);
			txn = NULL;
		}
		if (st != STORE_OK) {
			response_store_error(resp, st);
			goto out;
		}
	}
	response_free(resp);
	response_json_begin(resp, &w);
	register_meta_write(&w, o != NULL ? &m.c : &c, issuer);
	json_write_str(&w, "registration_access_token", access);
	(void)response_json_end(resp, &w, 200);
	resp->no_store = 1;
out:
	crypto_wipe(access, sizeof(access));
	store_txn_abort(txn);
	cJSON_Delete(o);
	client_free(&c);
	client_free(&m.c);
}

/* POST /register, and GET, PUT, DELETE /register/CLIENT_ID. */
void
handler_register(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	char *issuer;

	if (env->config->registration == CONFIG_REGISTRATION_OFF) {
		response_error(resp, OAUTH_NOT_FOUND,
		    "client registration is not enabled (OAUTH_REGISTRATION)");
		return;
	}
	if ((issuer = handler_issuer(env, req)) == NULL) {
		response_error(resp, OAUTH_SERVER_ERROR,
		    "no issuer: set OAUTH_ISSUER");
		return;
	}
	if (strcmp(req->path, REGISTER_PATH) == 0)
		register_create(env, req, issuer, resp);
	else
		register_manage(env, req, req->path + sizeof(REGISTER_PATH),
		    issuer, resp);
	free(issuer);
}
