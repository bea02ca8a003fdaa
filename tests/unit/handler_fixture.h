/*
 * What the handler tests share: a store in a throw-away directory, clients
 * written straight into it, requests built field by field and run through
 * handler_dispatch, and the JSON body parsed back.  The clock is pinned at
 * fx->now, which a test may move to see tokens expire.
 */
#ifndef HANDLER_FIXTURE_H
#define HANDLER_FIXTURE_H

#include <unistd.h>

#include <openssl/evp.h>

#include "unit.h"

#include "../../handlers/handlers.h"
#include "../../storage/store.h"

#define FX_ISSUER "https://as.example/oauth"
#define FX_MAP_DEFAULT ((size_t)16 * 1024 * 1024)
#define FX_MAP_TINY ((size_t)128 * 1024)
#define FX_ACCESS_TTL 3600
#define FX_REFRESH_TTL 1209600
#define FX_CODE_TTL 60
#define FX_GRANT_TTL (30 * 24 * 3600)
#define FX_BODY_MAX (2 * TOKEN_PRESENTED_MAX + 1024) /* a form body, fx_postf */
#define FX_HEADER_MAX (TOKEN_PRESENTED_MAX + 64) /* an Authorization header */

/* The clients of fx_add_standard: one of each kind a test needs. */
#define FX_CONF "conf"
#define FX_CONF_SECRET "conf-secret-0123456789abcdef0123"
#define FX_OTHER "other"
#define FX_OTHER_SECRET "other-secret-0123456789abcdef012"
#define FX_PUB "pub"
#define FX_RS "rs"
#define FX_RS_SECRET "rs-secret-0123456789abcdef012345"
#define FX_CC "cc-only"
#define FX_CC_SECRET "cc-secret-0123456789abcdef012345"
#define FX_REDIRECT "https://app.example/cb"
#define FX_USER "alice"

/* RFC 7636 Appendix B: a verifier and its S256 challenge. */
#define FX_VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define FX_CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

struct fx {
	char dir[256];
	struct store *store;
	struct config config;
	struct handler_env env;
	int64_t now;
	char issuer[sizeof(FX_ISSUER)];
};

/* A client to register; redirect_uris ends at the first NULL. */
struct fx_client {
	const char *id;
	const char *secret;		/* NULL: a public client */
	const char *scope;		/* NULL: "" */
	unsigned grant_types;
	int may_introspect;
	const char *audience;
	const char *redirect_uris[REDIRECT_URIS_MAX + 1];
};

/* A request; NULL fields are unset CGI variables. */
struct fx_req {
	const char *method;
	const char *path;
	const char *content_type;
	const char *body;
	const char *authorization;
	const char *remote_user;
	const char *query;
	const char *host;
	const char *script_name;
	const char *https;
	const char *server_name;
	const char *server_port;
};

/* 1 when the n bytes of s are base64url characters (RFC 4648 §5). */
static inline int
fx_b64url(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* A response with its body parsed: json is NULL for an empty body. */
struct fx_resp {
	struct response r;
	cJSON *json;
};

/* A pair of tokens from one authorization; refresh is "" when none. */
struct fx_tokens {
	char access[TOKEN_PRESENTED_MAX + 1];
	char refresh[TOKEN_PRESENTED_MAX + 1];
};

/* Opens f on a fresh store with a map of map_size bytes. */
static inline void
fx_open(struct fx *f, size_t map_size)
{
	memset(f, 0, sizeof(*f));
	unit_tempdir(f->dir, sizeof(f->dir));
	assert_int_equal(store_open(f->dir, map_size, 1, &f->store, NULL, 0), STORE_OK);
	memcpy(f->issuer, FX_ISSUER, sizeof(FX_ISSUER));
	f->config.db_path = f->dir;
	f->config.issuer = f->issuer;
	f->config.access_ttl = FX_ACCESS_TTL;
	f->config.refresh_ttl = FX_REFRESH_TTL;
	f->config.code_ttl = FX_CODE_TTL;
	f->config.grant_ttl = FX_GRANT_TTL;
	f->config.max_body = CONFIG_BODY_DEFAULT;
	f->config.map_size = map_size;
	f->now = UNIT_NOW;
	f->env.config = &f->config;
	f->env.store = f->store;
	f->env.now = unit_clock;
	f->env.random = unit_random;
	f->env.ctx = &f->now;
}

/* Closes the store of f and removes its directory. */
static inline void
fx_close(struct fx *f)
{
	store_close(f->store);
	unit_rmdir(f->dir);
}

/* Registers a client, replacing one of the same id. */
static inline void
fx_add_client(struct fx *f, const struct fx_client *spec)
{
	struct client c;
	struct store_txn *txn;
	size_t i;

	memset(&c, 0, sizeof(c));
	assert_true(strlen(spec->id) <= CLIENT_ID_MAX);
	memcpy(c.id, spec->id, strlen(spec->id));
	c.is_public = spec->secret == NULL;
	if (!c.is_public) {
		assert_int_equal(unit_random(NULL, c.secret_salt,
		    sizeof(c.secret_salt)), 0);
		assert_int_equal(crypto_secret_hash(c.secret_salt, spec->secret,
		    strlen(spec->secret), c.secret_hash), 0);
	}
	c.grant_types = spec->grant_types;
	c.may_introspect = spec->may_introspect;
	c.scope = (char *)(spec->scope != NULL ? spec->scope : "");
	c.audience = (char *)spec->audience;
	for (i = 0; i < REDIRECT_URIS_MAX && spec->redirect_uris[i] != NULL;
	    i++)
		c.redirect_uris[i] = (char *)spec->redirect_uris[i];
	c.redirect_uri_count = i;
	c.created_at = UNIT_NOW;
	assert_int_equal(store_txn_begin(f->store, 1, &txn), STORE_OK);
	assert_int_equal(store_client_put(txn, &c, 1), STORE_OK);
	assert_int_equal(store_txn_commit(txn), STORE_OK);
}

/* When a signing key of fx_add_key is published and when it signs. */
struct fx_key_times {
	int64_t created_at;	/* published from */
	int64_t sign_from;	/* signs from */
	int64_t retired_at;	/* signs until; 0: not retired */
	int64_t drop_at;	/* published until; 0: for ever */
};

/*
 * Stores the private key pem (as jose_key_generate makes it for alg) as a
 * signing key with the times t, under its RFC 7638 thumbprint and with its
 * public JWK, as oauthctl key generate does, replacing one of the same
 * kid.  Copies the kid to kid when it is not NULL.  Fails the test on any
 * error.
 */
static inline void
fx_add_key(struct fx *f, enum jose_alg alg, const char *pem,
    const struct fx_key_times *t, char kid[JOSE_KID_LEN + 1])
{
	struct store_txn *txn;
	EVP_PKEY *pkey = NULL;
	cJSON *jwk = NULL;
	struct key k;

	memset(&k, 0, sizeof(k));
	assert_int_equal(jose_key_parse(alg, pem, strlen(pem), &pkey), 0);
	assert_int_equal(jose_key_thumbprint(pkey, alg, k.kid), 0);
	assert_int_equal(jose_jwk_public(pkey, alg, k.kid, &jwk), 0);
	assert_non_null(k.jwk = cJSON_PrintUnformatted(jwk));
	k.pem = (char *)pem;
	k.alg = alg;
	k.created_at = t->created_at;
	k.sign_from = t->sign_from;
	k.retired_at = t->retired_at;
	k.drop_at = t->drop_at;
	assert_int_equal(store_txn_begin(f->store, 1, &txn), STORE_OK);
	assert_int_equal(store_key_put(txn, &k), STORE_OK);
	assert_int_equal(store_txn_commit(txn), STORE_OK);
	if (kid != NULL)
		memcpy(kid, k.kid, JOSE_KID_LEN + 1);
	cJSON_free(k.jwk);
	cJSON_Delete(jwk);
	jose_key_free(pkey);
}

/*
 * conf: confidential, every grant, "read write admin", one redirect URI.
 * other: the same, under another id.  pub: public, code and refresh.
 * rs: a resource server that may introspect.  cc-only: client_credentials
 * alone, with an audience.
 */
static inline void
fx_add_standard(struct fx *f)
{
	const struct fx_client clients[] = {
		{FX_CONF, FX_CONF_SECRET, "read write admin", GRANT_ALL, 0,
		    NULL, {FX_REDIRECT, NULL}},
		{FX_OTHER, FX_OTHER_SECRET, "read write admin", GRANT_ALL, 0,
		    NULL, {FX_REDIRECT, NULL}},
		{FX_PUB, NULL, "read write",
		    GRANT_AUTHORIZATION_CODE | GRANT_REFRESH_TOKEN, 0, NULL,
		    {FX_REDIRECT, NULL}},
		{FX_RS, FX_RS_SECRET, "", GRANT_CLIENT_CREDENTIALS, 1, NULL,
		    {NULL}},
		{FX_CC, FX_CC_SECRET, "read", GRANT_CLIENT_CREDENTIALS, 0,
		    "https://api.example", {NULL}},
	};
	size_t i;

	for (i = 0; i < sizeof(clients) / sizeof(clients[0]); i++)
		fx_add_client(f, &clients[i]);
}

/* cmocka fixtures: *state is a struct fx with the standard clients. */
static inline int
fx_setup_map(void **state, size_t map_size)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	fx_open(f, map_size);
	fx_add_standard(f);
	*state = f;
	return 0;
}

static inline int
fx_setup(void **state)
{
	return fx_setup_map(state, FX_MAP_DEFAULT);
}

static inline int
fx_setup_tiny(void **state)
{
	return fx_setup_map(state, FX_MAP_TINY);
}

static inline int
fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f != NULL) {
		fx_close(f);
		free(f);
	}
	return 0;
}

static inline char *
fx_strdup(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	assert_non_null(d);
	return d;
}

/* Releases what fx_run left in out. */
static inline void
fx_resp_free(struct fx_resp *out)
{
	cJSON_Delete(out->json);
	out->json = NULL;
	response_free(&out->r);
}

/*
 * Builds the request q describes, dispatches it and parses a non-empty
 * body as JSON (a body that is not JSON fails the test).
 */
static inline void
fx_run(struct fx *f, const struct fx_req *q, struct fx_resp *out)
{
	struct request req;

	memset(&req, 0, sizeof(req));
	req.method = q->method;
	req.path = q->path;
	req.query = q->query;
	req.content_type = q->content_type;
	req.authorization = q->authorization;
	req.remote_user = q->remote_user;
	req.host = q->host;
	req.server_name = q->server_name;
	req.server_port = q->server_port;
	req.script_name = q->script_name;
	req.https = q->https;
	if (q->body != NULL) {
		req.body = q->body;
		req.body_len = strlen(q->body);
	}
	out->json = NULL;
	response_init(&out->r);
	handler_dispatch(&f->env, &req, &out->r);
	request_free(&req);
	if (out->r.body.len > 0) {
		out->json = cJSON_ParseWithLength(out->r.body.data,
		    out->r.body.len);
		if (out->json == NULL)
			fail_msg("body is not JSON: %s", out->r.body.data);
	}
}

/* POSTs a form body to path, with an Authorization header when set. */
static inline void
fx_post(struct fx *f, const char *path, const char *authorization,
    const char *body, struct fx_resp *out)
{
	struct fx_req q = {0};

	q.method = "POST";
	q.path = path;
	q.content_type = "application/x-www-form-urlencoded";
	q.authorization = authorization;
	q.body = body;
	fx_run(f, &q, out);
}

static inline void fx_postf(struct fx *, const char *, const char *,
    struct fx_resp *, const char *, ...)
    __attribute__((format(printf, 5, 6)));

/* fx_post with the body formatted by fmt. */
static inline void
fx_postf(struct fx *f, const char *path, const char *authorization,
    struct fx_resp *out, const char *fmt, ...)
{
	char body[FX_BODY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(body));
	fx_post(f, path, authorization, body, out);
}

/*
 * Writes "Basic " and the base64 of pair, which the caller has already
 * form-urlencoded as RFC 6749 §2.3.1 wants ("id:secret").
 */
static inline const char *
fx_basic(char out[FX_HEADER_MAX], const char *pair)
{
	size_t len = strlen(pair);

	assert_true(6 + (len + 2) / 3 * 4 < FX_HEADER_MAX);
	memcpy(out, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)pair,
	    (int)len);
	return out;
}

/* The string member name of the body, or NULL. */
static inline const char *
fx_str(const struct fx_resp *out, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(out->json, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* The number member name of the body; fails the test when absent. */
static inline double
fx_num(const struct fx_resp *out, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(out->json, name);

	if (!cJSON_IsNumber(item))
		fail_msg("no number \"%s\" in %s", name,
		    out->r.body.data != NULL ? out->r.body.data : "(empty)");
	return item->valuedouble;
}

/* The number of members of the body object. */
static inline int
fx_members(const struct fx_resp *out)
{
	return cJSON_IsObject(out->json) ? cJSON_GetArraySize(out->json) : -1;
}

/*
 * Checks that out is the JSON error response of the contract: status,
 * Content-Type, no-store, exactly error and error_description, the
 * description a non-empty string.  line names the caller's case.
 */
static inline void
fx_check_error(int line, const struct fx_resp *out, int status,
    const char *code)
{
	const char *got = fx_str(out, "error");
	const char *body = out->r.body.data != NULL ? out->r.body.data : "";

	if (out->r.status != status)
		fail_msg("line %d: status %d, want %d: %s", line, out->r.status,
		    status, body);
	if (got == NULL || strcmp(got, code) != 0)
		fail_msg("line %d: error %s, want %s", line, body, code);
	if (out->r.content_type == NULL ||
	    strcmp(out->r.content_type, "application/json") != 0)
		fail_msg("line %d: error without Content-Type JSON", line);
	if (!out->r.no_store)
		fail_msg("line %d: error without Cache-Control: no-store",
		    line);
	if (fx_str(out, "error_description") == NULL ||
	    fx_str(out, "error_description")[0] == '\0' ||
	    fx_members(out) != 2)
		fail_msg("line %d: want error and error_description: %s", line,
		    body);
	if (out->r.location != NULL)
		fail_msg("line %d: an error response with Location", line);
}

#define fx_assert_error(out, status, code)                                    \
	fx_check_error(__LINE__, (out), (status), (code))

/* Fails the test unless out has status; shows the body. */
static inline void
fx_check_status(int line, const struct fx_resp *out, int status)
{
	if (out->r.status != status)
		fail_msg("line %d: status %d, want %d: %s", line, out->r.status,
		    status, out->r.body.data != NULL ? out->r.body.data : "");
}

#define fx_assert_status(out, status)                                         \
	fx_check_status(__LINE__, (out), (status))

/* Copies the string member name of out into dst; fails when absent. */
static inline void
fx_copy(char dst[TOKEN_PRESENTED_MAX + 1], const struct fx_resp *out,
    const char *name)
{
	const char *s = fx_str(out, name);

	if (s == NULL || strlen(s) > TOKEN_PRESENTED_MAX)
		fail_msg("no \"%s\" in %s", name,
		    out->r.body.data != NULL ? out->r.body.data : "(empty)");
	strcpy(dst, s);
}

/*
 * A client_credentials token for id (client_secret_post), with scope when
 * set.  Fails the test unless it is issued.
 */
static inline void
fx_cc_token(struct fx *f, const char *id, const char *secret,
    const char *scope, char dst[TOKEN_PRESENTED_MAX + 1])
{
	struct fx_resp out;

	fx_postf(f, "/token", NULL, &out,
	    "grant_type=client_credentials&client_id=%s&client_secret=%s%s%s",
	    id, secret, scope != NULL ? "&scope=" : "",
	    scope != NULL ? scope : "");
	fx_assert_status(&out, 200);
	fx_copy(dst, &out, "access_token");
	fx_resp_free(&out);
}

/*
 * Introspects token as id (client_secret_post; public when secret is
 * NULL).  Returns 1 when active, 0 when the answer is exactly
 * {"active":false}; anything else fails the test.
 */
static inline int
fx_introspect(struct fx *f, const char *id, const char *secret,
    const char *token)
{
	struct fx_resp out;
	int active = 0;

	if (secret != NULL)
		fx_postf(f, "/introspect", NULL, &out,
		    "client_id=%s&client_secret=%s&token=%s", id, secret,
		    token);
	else
		fx_postf(f, "/introspect", NULL, &out, "client_id=%s&token=%s",
		    id, token);
	fx_assert_status(&out, 200);
	if (out.r.body.data == NULL)
		fail_msg("introspection answered with no body");
	if (strcmp(out.r.body.data, "{\"active\":false}") == 0)
		active = 0;
	else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out.json,
	    "active")))
		active = 1;
	else
		fail_msg("introspection answered %s", out.r.body.data);
	fx_resp_free(&out);
	return active;
}

/* How many tokens, refresh tokens and codes the store holds. */
static inline enum store_each
fx_count_one(const unsigned char *key, const struct token *t, void *arg)
{
	(void)key;
	(void)t;
	(*(size_t *)arg)++;
	return STORE_EACH_NEXT;
}

static inline size_t
fx_token_count(struct fx *f)
{
	struct store_txn *txn;
	size_t n = 0;

	assert_int_equal(store_txn_begin(f->store, 0, &txn), STORE_OK);
	assert_int_equal(store_token_foreach(txn, fx_count_one, &n), STORE_OK);
	store_txn_abort(txn);
	return n;
}

/*
 * Finds the query parameter name of the Location of out and copies its
 * decoded value to dst.  Returns 1, or 0 when it is absent.
 */
static inline int
fx_location_param(const struct fx_resp *out, const char *name, char *dst,
    size_t size)
{
	struct params params;
	const char *q, *v;
	int found = 0;

	assert_non_null(out->r.location);
	q = strchr(out->r.location, '?');
	assert_non_null(q);
	assert_int_equal(params_parse_query(q + 1, &params, NULL), OAUTH_OK);
	if ((v = params_get(&params, name)) != NULL) {
		assert_true(strlen(v) < size);
		strcpy(dst, v);
		found = 1;
	}
	params_free(&params);
	return found;
}

/* GET /authorize?query as user (NULL: no REMOTE_USER). */
static inline void
fx_authorize(struct fx *f, const char *user, const char *query,
    struct fx_resp *out)
{
	struct fx_req q = {0};

	q.method = "GET";
	q.path = "/authorize";
	q.query = query;
	q.remote_user = user;
	fx_run(f, &q, out);
}

/*
 * Runs /authorize for client id as FX_USER with S256 PKCE (FX_CHALLENGE)
 * and the extra query parameters given, and copies the code to dst.
 * Fails the test unless the answer is a redirect carrying a code.
 */
static inline void
fx_code(struct fx *f, const char *id, const char *extra,
    char dst[TOKEN_PRESENTED_MAX + 1])
{
	char query[FX_BODY_MAX];
	struct fx_resp out;

	assert_true((size_t)snprintf(query, sizeof(query),
	    "response_type=code&client_id=%s&code_challenge=" FX_CHALLENGE
	    "&code_challenge_method=S256%s%s", id,
	    extra != NULL ? "&" : "", extra != NULL ? extra : "") <
	    sizeof(query));
	fx_authorize(f, FX_USER, query, &out);
	fx_assert_status(&out, 302);
	if (!fx_location_param(&out, "code", dst, TOKEN_PRESENTED_MAX + 1))
		fail_msg("no code in %s", out.r.location);
	fx_resp_free(&out);
}

/*
 * Redeems code at /token for id (client_secret_post, or public when
 * secret is NULL) with FX_VERIFIER; the answer is left in out.
 */
static inline void
fx_redeem(struct fx *f, const char *id, const char *secret, const char *code,
    struct fx_resp *out)
{
	if (secret != NULL)
		fx_postf(f, "/token", NULL, out,
		    "grant_type=authorization_code&code=%s&client_id=%s"
		    "&client_secret=%s&code_verifier=" FX_VERIFIER,
		    code, id, secret);
	else
		fx_postf(f, "/token", NULL, out,
		    "grant_type=authorization_code&code=%s&client_id=%s"
		    "&code_verifier=" FX_VERIFIER, code, id);
}

/*
 * The whole code flow for id: /authorize (with the extra parameters) then
 * /token.  Fails the test unless tokens are issued.
 */
static inline void
fx_code_flow(struct fx *f, const char *id, const char *secret,
    const char *extra, struct fx_tokens *t)
{
	char code[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;

	fx_code(f, id, extra, code);
	fx_redeem(f, id, secret, code, &out);
	fx_assert_status(&out, 200);
	fx_copy(t->access, &out, "access_token");
	t->refresh[0] = '\0';
	if (fx_str(&out, "refresh_token") != NULL)
		fx_copy(t->refresh, &out, "refresh_token");
	fx_resp_free(&out);
}

/* POSTs a refresh_token grant for id (client_secret_post). */
static inline void
fx_refresh(struct fx *f, const char *id, const char *secret,
    const char *refresh, const char *scope, struct fx_resp *out)
{
	fx_postf(f, "/token", NULL, out,
	    "grant_type=refresh_token&refresh_token=%s&client_id=%s%s%s%s%s",
	    refresh, id, secret != NULL ? "&client_secret=" : "",
	    secret != NULL ? secret : "", scope != NULL ? "&scope=" : "",
	    scope != NULL ? scope : "");
}

/*
 * POSTs "token=TOKEN" to path (/introspect or /revoke) with the caller's
 * authentication auth ("&client_id=...") and extra parameters (or NULL).
 */
static inline void
fx_present(struct fx *f, const char *path, const char *auth,
    const char *token, const char *extra, struct fx_resp *out)
{
	fx_postf(f, path, NULL, out, "token=%s%s%s", token, auth,
	    extra != NULL ? extra : "");
}

/* Standard error, captured into a file while a test runs requests. */
struct fx_capture {
	char path[sizeof("/tmp/oauth-unit-log-XXXXXX")];
	int fd;
	int saved;
};

/* Sends standard error to a fresh temporary file until fx_capture_end. */
static inline void
fx_capture_begin(struct fx_capture *c)
{
	memcpy(c->path, "/tmp/oauth-unit-log-XXXXXX", sizeof(c->path));
	assert_true((c->fd = mkstemp(c->path)) != -1);
	fflush(stderr);
	assert_true((c->saved = dup(STDERR_FILENO)) != -1);
	assert_true(dup2(c->fd, STDERR_FILENO) != -1);
}

/*
 * Restores standard error and copies what was written to it into log
 * (NUL-terminated, at most size - 1 bytes); removes the file.
 */
static inline void
fx_capture_end(struct fx_capture *c, char *log, size_t size)
{
	ssize_t n;

	fflush(stderr);
	assert_true(dup2(c->saved, STDERR_FILENO) != -1);
	close(c->saved);
	assert_true(lseek(c->fd, 0, SEEK_SET) == 0);
	n = read(c->fd, log, size - 1);
	close(c->fd);
	unlink(c->path);
	assert_true(n >= 0);
	log[n] = '\0';
}

/* POSTs body to path as content_type (NULL: unset), unlike fx_post's form. */
static inline void
fx_post_type(struct fx *f, const char *path, const char *content_type,
    const char *body, struct fx_resp *out)
{
	fx_run(f, &(const struct fx_req){.method = "POST", .path = path,
	    .content_type = content_type, .body = body}, out);
}

/* A row of a request table: body POSTed as content_type, and the answer. */
struct fx_error_case {
	int line;
	const char *content_type;	/* NULL: unset */
	const char *body;
	int status;
	const char *code;		/* NULL: not an error; the table says */
};

/* POSTs each of the n cases to path; each must be its error response. */
static inline void
fx_check_error_cases(struct fx *f, const char *path,
    const struct fx_error_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct fx_resp out;

		fx_post_type(f, path, cases[i].content_type, cases[i].body,
		    &out);
		fx_check_error(cases[i].line, &out, cases[i].status,
		    cases[i].code);
		fx_resp_free(&out);
	}
}

/* Writes into dst a token one byte longer than any presented token. */
static inline const char *
fx_overlong_token(char dst[TOKEN_PRESENTED_MAX + 2])
{
	memset(dst, 'A', TOKEN_PRESENTED_MAX + 1);
	dst[TOKEN_PRESENTED_MAX + 1] = '\0';
	return dst;
}

#define FX_FILL_MAX 20000	/* tokens fx_fill may issue before it fails */

/*
 * Issues client_credentials tokens to FX_CONF until the map is full; the
 * refused request must be the contract's 503, with no token.  Returns how
 * many were issued.  When tokens is not NULL, *tokens is set to their
 * strings, which the caller releases with fx_fill_free.
 */
static inline size_t
fx_fill(struct fx *f, char ***tokens)
{
	char token[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	size_t n = 0;

	if (tokens != NULL) {
		*tokens = calloc(FX_FILL_MAX, sizeof(**tokens));
		assert_non_null(*tokens);
	}
	for (;;) {
		assert_true(n < FX_FILL_MAX);
		fx_post(f, "/token", NULL, "grant_type=client_credentials"
		    "&client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET,
		    &out);
		if (out.r.status != 200)
			break;
		fx_copy(token, &out, "access_token");
		if (tokens != NULL)
			(*tokens)[n] = fx_strdup(token);
		n++;
		fx_resp_free(&out);
	}
	fx_assert_error(&out, 503, "temporarily_unavailable");
	assert_null(fx_str(&out, "access_token"));
	fx_resp_free(&out);
	return n;
}

/* Releases the strings fx_fill left; accepts NULL. */
static inline void
fx_fill_free(char **tokens)
{
	size_t i;

	if (tokens == NULL)
		return;
	for (i = 0; i < FX_FILL_MAX && tokens[i] != NULL; i++)
		free(tokens[i]);
	free(tokens);
}

#endif /* HANDLER_FIXTURE_H */
