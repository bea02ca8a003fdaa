/*
 * router.c, oauth_error.c and response.c: which handler a request reaches,
 * the 404 and 405 answers, the issuer identifier, the table of OAuth
 * errors, the shape of error responses, and CONTENT_LENGTH before a body
 * is read.
 */
#include "handler_fixture.h"

#define ROUTER_WELL_KNOWN "/.well-known/oauth-authorization-server"

struct method_case {
	int line;
	const char *path;
	const char *method;	/* NULL: REQUEST_METHOD unset */
	const char *allow;
};

/* Every other method on a known path: 405 with the one Allow. */
static const struct method_case method_cases[] = {
	{__LINE__, "/token", "GET", "POST"},
	{__LINE__, "/token", "PUT", "POST"},
	{__LINE__, "/token", "DELETE", "POST"},
	{__LINE__, "/token", "HEAD", "POST"},
	{__LINE__, "/token", "OPTIONS", "POST"},
	{__LINE__, "/token", "post", "POST"},
	{__LINE__, "/token", "", "POST"},
	{__LINE__, "/token", NULL, "POST"},
	{__LINE__, "/introspect", "GET", "POST"},
	{__LINE__, "/introspect", "PATCH", "POST"},
	{__LINE__, "/introspect", NULL, "POST"},
	{__LINE__, "/revoke", "GET", "POST"},
	{__LINE__, "/revoke", "DELETE", "POST"},
	{__LINE__, "/authorize", "POST", "GET"},
	{__LINE__, "/authorize", "HEAD", "GET"},
	{__LINE__, "/authorize", "get", "GET"},
	{__LINE__, ROUTER_WELL_KNOWN, "POST", "GET"},
	{__LINE__, ROUTER_WELL_KNOWN, "PUT", "GET"},
	{__LINE__, ROUTER_WELL_KNOWN, NULL, "GET"},
};

static void
test_method_not_allowed(void **state)
{
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(method_cases) / sizeof(method_cases[0]); i++) {
		const struct method_case *c = &method_cases[i];
		struct fx_req q = {0};
		struct fx_resp out;

		q.method = c->method;
		q.path = c->path;
		q.content_type = "application/x-www-form-urlencoded";
		q.body = "grant_type=client_credentials&client_id=" FX_CONF
			 "&client_secret=" FX_CONF_SECRET;
		q.query = "response_type=code&client_id=" FX_CONF;
		q.remote_user = FX_USER;
		fx_run(f, &q, &out);
		fx_check_error(c->line, &out, 405, "invalid_request");
		if (out.r.allow == NULL || strcmp(out.r.allow, c->allow) != 0)
			fail_msg("line %d: Allow %s, want %s", c->line,
			    out.r.allow != NULL ? out.r.allow : "(none)",
			    c->allow);
		fx_resp_free(&out);
	}
	/* Nothing was issued by a request refused for its method. */
	assert_int_equal(fx_token_count(f), 0);
}

struct path_case {
	int line;
	const char *path;	/* NULL: PATH_INFO unset */
};

/* Paths are compared exactly: no prefix, case folding or trailing slash. */
static const struct path_case path_cases[] = {
	{__LINE__, NULL},
	{__LINE__, ""},
	{__LINE__, "/"},
	{__LINE__, "/tokens"},
	{__LINE__, "/token/"},
	{__LINE__, "/TOKEN"},
	{__LINE__, "token"},
	{__LINE__, "//token"},
	{__LINE__, "/oauth/token"},
	{__LINE__, "/token?grant_type=client_credentials"},
	{__LINE__, "/token%00"},
	{__LINE__, "/introspection"},
	{__LINE__, "/revoke/x"},
	{__LINE__, "/authorize/"},
	{__LINE__, "/.well-known/openid-configuration/"},
	{__LINE__, "/jwks/"},
	{__LINE__, "/userinfo/"},
	{__LINE__, "/.well-known/oauth-authorization-server/"},
	{__LINE__, "/.well-known/"},
};

static void
test_not_found(void **state)
{
	static const char *const methods[] = {"GET", "POST", "PUT", NULL};
	struct fx *f = *state;
	size_t i, m;

	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			const struct path_case *c = &path_cases[i];
			struct fx_req q = {0};
			struct fx_resp out;

			q.method = methods[m];
			q.path = c->path;
			q.content_type = "application/x-www-form-urlencoded";
			q.body = "grant_type=client_credentials";
			fx_run(f, &q, &out);
			fx_check_error(c->line, &out, 404, "invalid_request");
			if (out.r.allow != NULL)
				fail_msg("line %d: 404 with Allow", c->line);
			fx_resp_free(&out);
		}
	}
}

/* The right method reaches each handler, whose own answers show it. */
static void
test_routes_reach_handlers(void **state)
{
	struct fx *f = *state;
	struct fx_req q = {0};
	struct fx_resp out;
	char token[TOKEN_PRESENTED_MAX + 1];

	fx_postf(f, "/token", NULL, &out, "grant_type=client_credentials"
	    "&client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET);
	fx_assert_status(&out, 200);
	assert_non_null(fx_str(&out, "access_token"));
	strcpy(token, fx_str(&out, "access_token"));
	fx_resp_free(&out);

	fx_postf(f, "/introspect", NULL, &out, "client_id=" FX_CONF
	    "&client_secret=" FX_CONF_SECRET "&token=%s", token);
	fx_assert_status(&out, 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out.json, "active")));
	fx_resp_free(&out);

	fx_postf(f, "/revoke", NULL, &out, "client_id=" FX_CONF
	    "&client_secret=" FX_CONF_SECRET "&token=%s", token);
	fx_assert_status(&out, 200);
	assert_int_equal(out.r.body.len, 0);
	fx_resp_free(&out);

	fx_authorize(f, FX_USER, "client_id=" FX_CONF, &out);
	fx_assert_status(&out, 302);
	fx_resp_free(&out);

	q.method = "GET";
	q.path = ROUTER_WELL_KNOWN;
	fx_run(f, &q, &out);
	fx_assert_status(&out, 200);
	assert_string_equal(fx_str(&out, "issuer"), FX_ISSUER);
	fx_resp_free(&out);
}

struct issuer_case {
	int line;
	const char *configured;	/* OAUTH_ISSUER */
	const char *https;
	const char *host;
	const char *server_name;
	const char *server_port;
	const char *script_name;
	const char *want;	/* NULL: no issuer can be named */
};

static char router_long_host[HOST_MAX + 2];
static char router_max_host[HOST_MAX + 1];
static char router_max_issuer[sizeof("http://") + HOST_MAX];

static const struct issuer_case issuer_cases[] = {
	/* OAUTH_ISSUER wins over anything the request says. */
	{__LINE__, "https://as.example", "on", "evil.example", "x", "1",
	    "/evil", "https://as.example"},
	{__LINE__, "https://as.example/o", NULL, NULL, NULL, NULL, NULL,
	    "https://as.example/o"},
	/* scheme://HTTP_HOST + SCRIPT_NAME. */
	{__LINE__, NULL, NULL, "as.example", NULL, NULL, "/oauth",
	    "http://as.example/oauth"},
	{__LINE__, NULL, "on", "as.example", NULL, NULL, "/oauth",
	    "https://as.example/oauth"},
	{__LINE__, NULL, "ON", "as.example", NULL, NULL, NULL,
	    "https://as.example"},
	{__LINE__, NULL, "1", "as.example", NULL, NULL, NULL,
	    "https://as.example"},
	{__LINE__, NULL, "off", "as.example", NULL, NULL, NULL,
	    "http://as.example"},
	{__LINE__, NULL, "", "as.example", NULL, NULL, NULL,
	    "http://as.example"},
	{__LINE__, NULL, "yes", "as.example", NULL, NULL, NULL,
	    "http://as.example"},
	{__LINE__, NULL, "on", "as.example:8443", "other", "443",
	    "/a/oauth.fcgi", "https://as.example:8443/a/oauth.fcgi"},
	{__LINE__, NULL, NULL, "[::1]:8080", NULL, NULL, NULL,
	    "http://[::1]:8080"},
	{__LINE__, NULL, NULL, "127.0.0.1", NULL, NULL, "/o-a_u.t~h%20x",
	    "http://127.0.0.1/o-a_u.t~h%20x"},
	/* SCRIPT_NAME "/" or "" is the root: no trailing slash. */
	{__LINE__, NULL, NULL, "as.example", NULL, NULL, "/",
	    "http://as.example"},
	{__LINE__, NULL, NULL, "as.example", NULL, NULL, "",
	    "http://as.example"},
	/* "//host" would turn the path into an authority. */
	{__LINE__, NULL, NULL, "as.example", NULL, NULL, "//evil.example/x",
	    "http://as.example/evil.example/x"},
	{__LINE__, NULL, NULL, "as.example", NULL, NULL, "///",
	    "http://as.example"},
	/* A SCRIPT_NAME unfit for a URL is left out. */
	{__LINE__, NULL, NULL, "as.example", NULL, NULL, "/o auth",
	    "http://as.example"},
	{__LINE__, NULL, NULL, "as.example", NULL, NULL, "/oauth?x=1",
	    "http://as.example"},
	{__LINE__, NULL, NULL, "as.example", NULL, NULL, "/oauth#f",
	    "http://as.example"},
	{__LINE__, NULL, NULL, "as.example", NULL, NULL, "/\"><script>",
	    "http://as.example"},
	/*
	 * SCRIPT_NAME is "" or begins with "/" (RFC 3875 §4.1.13), and
	 * router_path_valid promises exactly that; one without the slash must
	 * not be glued to the host, making "http://as.exampleoauth" (another
	 * host).
	 */
	{__LINE__, NULL, NULL, "as.example", NULL, NULL, ".evil.example/oauth",
	    "http://as.example"},
	/* A Host unfit for a URL falls back to SERVER_NAME. */
	{__LINE__, NULL, NULL, "evil.example/x", "as.example", "80", NULL,
	    "http://as.example"},
	{__LINE__, NULL, NULL, "user@evil.example", "as.example", "80", NULL,
	    "http://as.example"},
	{__LINE__, NULL, NULL, "a b", "as.example", "80", NULL,
	    "http://as.example"},
	{__LINE__, NULL, NULL, "evil\r\nX: y", "as.example", "80", NULL,
	    "http://as.example"},
	{__LINE__, NULL, NULL, "", "as.example", NULL, NULL,
	    "http://as.example"},
	/* HOST_MAX bytes of Host are used; one byte more falls back. */
	{__LINE__, NULL, NULL, router_max_host, NULL, NULL, NULL,
	    router_max_issuer},
	{__LINE__, NULL, NULL, router_long_host, "as.example", NULL, NULL,
	    "http://as.example"},
	{__LINE__, NULL, NULL, "h\xc3\xa9.example", "as.example", NULL, NULL,
	    "http://as.example"},
	/* SERVER_NAME carries no port: a non-default SERVER_PORT is added. */
	{__LINE__, NULL, NULL, NULL, "as.example", "8080", "/oauth",
	    "http://as.example:8080/oauth"},
	{__LINE__, NULL, NULL, NULL, "as.example", "80", "/oauth",
	    "http://as.example/oauth"},
	{__LINE__, NULL, "on", NULL, "as.example", "443", NULL,
	    "https://as.example"},
	{__LINE__, NULL, "on", NULL, "as.example", "80", NULL,
	    "https://as.example:80"},
	{__LINE__, NULL, NULL, NULL, "as.example", "443", NULL,
	    "http://as.example:443"},
	{__LINE__, NULL, NULL, NULL, "as.example:81", "8080", NULL,
	    "http://as.example:81"},
	{__LINE__, NULL, NULL, NULL, "as.example", "80/x", NULL,
	    "http://as.example"},
	{__LINE__, NULL, NULL, NULL, "as.example", NULL, NULL,
	    "http://as.example"},
	/* No usable host at all: no issuer. */
	{__LINE__, NULL, NULL, NULL, NULL, NULL, "/oauth", NULL},
	{__LINE__, NULL, NULL, "evil/x", NULL, "80", NULL, NULL},
	{__LINE__, NULL, NULL, "evil/x", "evil/y", "80", NULL, NULL},
	{__LINE__, NULL, "on", "", "", "443", NULL, NULL},
};

static void
test_issuer_table(void **state)
{
	struct config config;
	struct handler_env env;
	char configured[REDIRECT_URI_MAX + 1];
	size_t i;

	(void)state;
	memset(router_long_host, 'a', HOST_MAX + 1);
	memset(router_max_host, 'h', HOST_MAX);
	(void)snprintf(router_max_issuer, sizeof(router_max_issuer),
	    "http://%s", router_max_host);
	for (i = 0; i < sizeof(issuer_cases) / sizeof(issuer_cases[0]); i++) {
		const struct issuer_case *c = &issuer_cases[i];
		struct request req;
		char *got;

		memset(&config, 0, sizeof(config));
		memset(&env, 0, sizeof(env));
		memset(&req, 0, sizeof(req));
		if (c->configured != NULL) {
			strcpy(configured, c->configured);
			config.issuer = configured;
		}
		env.config = &config;
		req.https = c->https;
		req.host = c->host;
		req.server_name = c->server_name;
		req.server_port = c->server_port;
		req.script_name = c->script_name;
		got = handler_issuer(&env, &req);
		if (c->want == NULL && got != NULL)
			fail_msg("line %d: issuer %s, want none", c->line, got);
		if (c->want != NULL &&
		    (got == NULL || strcmp(got, c->want) != 0))
			fail_msg("line %d: issuer %s, want %s", c->line,
			    got != NULL ? got : "(none)", c->want);
		free(got);
	}
}

/* The issuer the handlers report is the derived one when none is set. */
static void
test_issuer_reaches_metadata(void **state)
{
	struct fx *f = *state;
	struct fx_req q = {0};
	struct fx_resp out;

	f->config.issuer = NULL;
	q.method = "GET";
	q.path = ROUTER_WELL_KNOWN;
	q.host = "as.example:8443";
	q.https = "on";
	q.script_name = "/oauth";
	fx_run(f, &q, &out);
	fx_assert_status(&out, 200);
	assert_string_equal(fx_str(&out, "issuer"),
	    "https://as.example:8443/oauth");
	assert_string_equal(fx_str(&out, "token_endpoint"),
	    "https://as.example:8443/oauth/token");
	fx_resp_free(&out);

	/* No usable host and no OAUTH_ISSUER: a 500 that says what to set. */
	q.host = "bad host";
	q.server_name = NULL;
	fx_run(f, &q, &out);
	fx_assert_error(&out, 500, "server_error");
	assert_non_null(strstr(fx_str(&out, "error_description"),
	    "OAUTH_ISSUER"));
	fx_resp_free(&out);
}

struct error_case {
	int line;
	enum oauth_error err;
	int status;
	const char *code;
};

/* The contract's error table, and the design's 401/404/405/413. */
static const struct error_case error_cases[] = {
	{__LINE__, OAUTH_INVALID_REQUEST, 400, "invalid_request"},
	{__LINE__, OAUTH_INVALID_CLIENT, 401, "invalid_client"},
	{__LINE__, OAUTH_INVALID_TOKEN, 401, "invalid_token"},
	{__LINE__, OAUTH_INVALID_GRANT, 400, "invalid_grant"},
	{__LINE__, OAUTH_INVALID_DPOP_PROOF, 400, "invalid_dpop_proof"},
	{__LINE__, OAUTH_USE_DPOP_NONCE, 400, "use_dpop_nonce"},
	{__LINE__, OAUTH_INVALID_TARGET, 400, "invalid_target"},
	{__LINE__, OAUTH_UNAUTHORIZED_CLIENT, 400, "unauthorized_client"},
	{__LINE__, OAUTH_UNSUPPORTED_GRANT_TYPE, 400, "unsupported_grant_type"},
	{__LINE__, OAUTH_INVALID_SCOPE, 400, "invalid_scope"},
	{__LINE__, OAUTH_UNSUPPORTED_RESPONSE_TYPE, 400,
	    "unsupported_response_type"},
	{__LINE__, OAUTH_ACCESS_DENIED, 403, "access_denied"},
	{__LINE__, OAUTH_LOGIN_REQUIRED, 400, "login_required"},
	{__LINE__, OAUTH_INSUFFICIENT_SCOPE, 403, "insufficient_scope"},
	{__LINE__, OAUTH_BODY_TOO_LARGE, 413, "invalid_request"},
	{__LINE__, OAUTH_NOT_FOUND, 404, "invalid_request"},
	{__LINE__, OAUTH_METHOD_NOT_ALLOWED, 405, "invalid_request"},
	{__LINE__, OAUTH_NO_REMOTE_USER, 500, "server_error"},
	{__LINE__, OAUTH_SERVER_ERROR, 500, "server_error"},
	{__LINE__, OAUTH_TEMPORARILY_UNAVAILABLE, 503,
	    "temporarily_unavailable"},
};

static void
test_error_table(void **state)
{
	int seen[OAUTH_ERROR__MAX] = {0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *c = &error_cases[i];
		struct fx_resp out;

		seen[c->err] = 1;
		if (oauth_error_status(c->err) != c->status)
			fail_msg("line %d: status %d", c->line,
			    oauth_error_status(c->err));
		if (strcmp(oauth_error_code(c->err), c->code) != 0)
			fail_msg("line %d: code %s", c->line,
			    oauth_error_code(c->err));
		/* response_error builds the contract's body from the row. */
		response_init(&out.r);
		response_error(&out.r, c->err, "why \"quoted\"");
		out.json = cJSON_Parse(out.r.body.data);
		fx_check_error(c->line, &out, c->status, c->code);
		assert_string_equal(fx_str(&out, "error_description"),
		    "why \"quoted\"");
		assert_int_equal(out.r.no_cache, 0);
		assert_null(out.r.www_authenticate);
		fx_resp_free(&out);
	}
	/* Every value of the enum has a row here. */
	for (i = OAUTH_OK + 1; i < OAUTH_ERROR__MAX; i++)
		if (!seen[i])
			fail_msg("enum oauth_error %zu has no test row", i);
	/* OAUTH_OK and values outside the enum are a server error. */
	assert_int_equal(oauth_error_status(OAUTH_OK), 200);
	assert_string_equal(oauth_error_code(OAUTH_OK), "server_error");
	assert_int_equal(oauth_error_status(OAUTH_ERROR__MAX), 500);
	assert_string_equal(oauth_error_code(OAUTH_ERROR__MAX), "server_error");
	assert_int_equal(oauth_error_status((enum oauth_error)-1), 500);
	assert_string_equal(oauth_error_code((enum oauth_error)1000),
	    "server_error");
}

struct store_error_case {
	int line;
	enum store_status st;
	enum oauth_error err;
	int status;
};

/* A full map is worth retrying (503); anything else is our fault (500). */
static const struct store_error_case store_error_cases[] = {
	{__LINE__, STORE_OK, OAUTH_OK, 0},
	{__LINE__, STORE_FULL, OAUTH_TEMPORARILY_UNAVAILABLE, 503},
	{__LINE__, STORE_NOTFOUND, OAUTH_SERVER_ERROR, 500},
	{__LINE__, STORE_EXISTS, OAUTH_SERVER_ERROR, 500},
	{__LINE__, STORE_IOERR, OAUTH_SERVER_ERROR, 500},
	{__LINE__, STORE_CORRUPT, OAUTH_SERVER_ERROR, 500},
	{__LINE__, STORE_INVALID, OAUTH_SERVER_ERROR, 500},
	{__LINE__, STORE_NOMEM, OAUTH_SERVER_ERROR, 500},
	{__LINE__, STORE_STATUS__MAX, OAUTH_SERVER_ERROR, 500},
};

static void
test_store_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(store_error_cases) /
	    sizeof(store_error_cases[0]); i++) {
		const struct store_error_case *c = &store_error_cases[i];
		struct fx_resp out;

		if (oauth_error_from_store(c->st) != c->err)
			fail_msg("line %d: error %d", c->line,
			    (int)oauth_error_from_store(c->st));
		if (c->st == STORE_OK)
			continue;
		response_init(&out.r);
		response_store_error(&out.r, c->st);
		out.json = cJSON_Parse(out.r.body.data);
		fx_check_error(c->line, &out, c->status,
		    oauth_error_code(c->err));
		fx_resp_free(&out);
	}
}

/* response_error drops what the response held; desc may be left out. */
static void
test_response_error_replaces(void **state)
{
	struct response r;
	cJSON *o;

	(void)state;
	response_init(&r);
	assert_int_equal(r.status, 200);
	assert_null(r.content_type);
	r.location = strdup("https://app.example/cb?code=x");
	r.www_authenticate = strdup("Basic realm=\"oauth\"");
	assert_int_equal(buf_puts(&r.body, "{\"access_token\":\"x\"}"), 0);
	response_error(&r, OAUTH_INVALID_GRANT, NULL);
	assert_int_equal(r.status, 400);
	assert_null(r.location);
	assert_null(r.www_authenticate);
	assert_string_equal(r.body.data, "{\"error\":\"invalid_grant\"}");
	response_free(&r);
	assert_int_equal(r.status, 200);
	assert_null(r.body.data);
	response_free(&r);
	response_free(NULL);

	/* response_json takes o, and a NULL o is a 500. */
	o = cJSON_CreateObject();
	assert_non_null(cJSON_AddStringToObject(o, "a", "b"));
	assert_int_equal(response_json(&r, 201, o), 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(r.body.data, "{\"a\":\"b\"}");
	assert_int_equal(response_json(&r, 200, NULL), -1);
	assert_int_equal(r.status, 500);
	response_free(&r);
}

/*
 * handler_uses_jose: /token, /introspect when the Accept header asks for
 * the signed answer, any request with a DPoP proof to verify (at
 * /userinfo, say), and /introspect and /revoke unless the Authorization
 * header authenticates (an assertion may be in the body); nothing else,
 * whatever the Accept header.
 */
static void
test_uses_jose(void **state)
{
	static const char jwt[] = "application/token-introspection+jwt";

	(void)state;
	assert_int_equal(handler_uses_jose("/token", NULL, NULL, "Basic x"), 1);
	assert_int_equal(handler_uses_jose("/token", "application/json", NULL,
	    "Basic x"), 1);
	assert_int_equal(handler_uses_jose("/introspect", jwt, NULL,
	    "Basic x"), 1);
	assert_int_equal(handler_uses_jose("/introspect",
	    "application/json, application/token-introspection+jwt", NULL,
	    "Basic x"), 1);
	assert_int_equal(handler_uses_jose("/introspect", NULL, NULL,
	    "Basic x"), 0);
	assert_int_equal(handler_uses_jose("/introspect", "application/json",
	    NULL, "Basic x"), 0);
	assert_int_equal(handler_uses_jose("/revoke", jwt, NULL, "Basic x"), 0);
	assert_int_equal(handler_uses_jose("/userinfo", NULL, NULL, "Basic x"),
	    0);
	assert_int_equal(handler_uses_jose("/userinfo", NULL, "e.y.z",
	    "Basic x"), 1);
	assert_int_equal(handler_uses_jose("/introspect", NULL, "", "Basic x"),
	    1);
	assert_int_equal(handler_uses_jose("/jwks", NULL, NULL, "Basic x"), 0);
	assert_int_equal(handler_uses_jose("/tokens", NULL, NULL, "Basic x"), 0);
	assert_int_equal(handler_uses_jose(NULL, jwt, "e.y.z", "Basic x"),
	    0);
	/* A client that authenticates in the body may send an assertion. */
	assert_int_equal(handler_uses_jose("/introspect", NULL, NULL, NULL), 1);
	assert_int_equal(handler_uses_jose("/revoke", NULL, NULL, ""), 1);
	assert_int_equal(handler_uses_jose("/revoke", NULL, NULL, "Basic x"),
	    0);
	assert_int_equal(handler_uses_jose("/revoke", NULL, NULL, "basic  x"),
	    0);
	/* A header of another scheme leaves the body to authenticate. */
	assert_int_equal(handler_uses_jose("/revoke", NULL, NULL, "Bearer t"),
	    1);
	assert_int_equal(handler_uses_jose("/revoke", NULL, NULL, "DPoP t"),
	    1);
	assert_int_equal(handler_uses_jose("/introspect", NULL, NULL,
	    "Negotiate t"), 1);
	assert_int_equal(handler_uses_jose("/introspect", NULL, NULL,
	    "Bearer t"), 0);
	assert_int_equal(handler_uses_jose("/introspect", jwt, NULL,
	    "Bearer t"), 1);
	assert_int_equal(handler_uses_jose("/userinfo", NULL, NULL, NULL), 0);
	assert_int_equal(handler_uses_jose("/jwks", NULL, NULL, NULL), 0);
	/* Registration checks the keys a client registers. */
	assert_int_equal(handler_uses_jose("/register", NULL, NULL, NULL), 1);
	assert_int_equal(handler_uses_jose("/register/dyn-x", NULL, NULL,
	    "Bearer t"), 1);
}

/*
 * request_free wipes and releases the storage (ASan checks the release),
 * clears every view, and accepts NULL and a request built by hand.
 */
static void
test_request_free(void **state)
{
	struct request req;
	char *storage;

	(void)state;
	request_free(NULL);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.body = "{}";
	req.body_len = 2;
	request_free(&req);
	assert_null(req.method);
	assert_null(req.body);
	storage = strdup("POST\0/token\0{}");
	assert_non_null(storage);
	req.storage = storage;
	req.storage_size = sizeof("POST\0/token\0{}");
	req.method = storage;
	req.path = storage + 5;
	req.body = storage + 12;
	req.body_len = 2;
	request_free(&req);
	assert_null(req.method);
	assert_null(req.path);
	assert_null(req.body);
	assert_null(req.storage);
	assert_int_equal(req.body_len, 0);
	assert_int_equal(req.storage_size, 0);
}

struct length_case {
	int line;
	const char *value;
	size_t max;
	enum oauth_error err;
	size_t len;
};

static const struct length_case length_cases[] = {
	{__LINE__, NULL, 16384, OAUTH_OK, 0},
	{__LINE__, "", 16384, OAUTH_OK, 0},
	{__LINE__, "0", 16384, OAUTH_OK, 0},
	{__LINE__, "1", 16384, OAUTH_OK, 1},
	{__LINE__, "16384", 16384, OAUTH_OK, 16384},
	{__LINE__, "0000016384", 16384, OAUTH_OK, 16384},
	{__LINE__, "16385", 16384, OAUTH_BODY_TOO_LARGE, 0},
	{__LINE__, "20000", 16384, OAUTH_BODY_TOO_LARGE, 0},
	{__LINE__, "163840", 16384, OAUTH_BODY_TOO_LARGE, 0},
	{__LINE__, "99999999999999999999999999999999", 16384,
	    OAUTH_BODY_TOO_LARGE, 0},
	{__LINE__, "18446744073709551616", SIZE_MAX, OAUTH_BODY_TOO_LARGE, 0},
	{__LINE__, "18446744073709551615", SIZE_MAX, OAUTH_OK, SIZE_MAX},
	{__LINE__, "0", 0, OAUTH_OK, 0},
	{__LINE__, "1", 0, OAUTH_BODY_TOO_LARGE, 0},
	{__LINE__, "9", 9, OAUTH_OK, 9},
	{__LINE__, "10", 9, OAUTH_BODY_TOO_LARGE, 0},
	{__LINE__, "10", 10, OAUTH_OK, 10},
	{__LINE__, "11", 10, OAUTH_BODY_TOO_LARGE, 0},
	{__LINE__, "19", 15, OAUTH_BODY_TOO_LARGE, 0},
	/* RFC 3875 §4.1.2: 1*digit and nothing else. */
	{__LINE__, "-1", 16384, OAUTH_INVALID_REQUEST, 0},
	{__LINE__, "+1", 16384, OAUTH_INVALID_REQUEST, 0},
	{__LINE__, " 1", 16384, OAUTH_INVALID_REQUEST, 0},
	{__LINE__, "1 ", 16384, OAUTH_INVALID_REQUEST, 0},
	{__LINE__, "1a", 16384, OAUTH_INVALID_REQUEST, 0},
	{__LINE__, "0x10", 16384, OAUTH_INVALID_REQUEST, 0},
	{__LINE__, "1.0", 16384, OAUTH_INVALID_REQUEST, 0},
	{__LINE__, "1e3", 16384, OAUTH_INVALID_REQUEST, 0},
	{__LINE__, "12,3", 16384, OAUTH_INVALID_REQUEST, 0},
	{__LINE__, " ", 16384, OAUTH_INVALID_REQUEST, 0},
	/* Malformed beats too large, whatever the digits say. */
	{__LINE__, "99999999999999999999999x", 16384, OAUTH_INVALID_REQUEST,
	    0},
};

static void
test_content_length(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(length_cases) / sizeof(length_cases[0]); i++) {
		const struct length_case *c = &length_cases[i];
		enum oauth_error err;

		len = 12345;
		err = request_content_length(c->value, c->max, &len);
		if (err != c->err)
			fail_msg("line %d: error %d, want %d", c->line,
			    (int)err, (int)c->err);
		if (err == OAUTH_OK && len != c->len)
			fail_msg("line %d: length %zu, want %zu", c->line,
			    len, c->len);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_method_not_allowed,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_not_found, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_routes_reach_handlers,
		    fx_setup, fx_teardown),
		cmocka_unit_test(test_issuer_table),
		cmocka_unit_test_setup_teardown(test_issuer_reaches_metadata,
		    fx_setup, fx_teardown),
		cmocka_unit_test(test_error_table),
		cmocka_unit_test(test_store_errors),
		cmocka_unit_test(test_response_error_replaces),
		cmocka_unit_test(test_request_free),
		cmocka_unit_test(test_uses_jose),
		cmocka_unit_test(test_content_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
