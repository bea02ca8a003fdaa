/*
 * Signed answers beyond the ID Token: JWT access tokens (RFC 9068), which
 * introspect and revoke like opaque ones, and signed introspection
 * responses (RFC 9701), each verified against the stored key.
 */
#include "handler_fixture.h"

#define SG_CONF_AUTH "&client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET

/* One RS256 key for the whole binary: RSA generation is slow. */
static struct buf sg_pem;

static int
sg_setup(void **state)
{
	static const struct fx_key_times always = {0, 0, 0, 0};

	if (sg_pem.data == NULL &&
	    jose_key_generate(JOSE_ALG_RS256, &sg_pem) == -1)
		return -1;
	if (fx_setup(state) != 0)
		return -1;
	fx_add_key(*state, JOSE_ALG_RS256, sg_pem.data, &always, NULL);
	return 0;
}

/* Verifies jws with the test key; *payload is the caller's (cJSON). */
static void
sg_verify(const char *jws, const char *typ, cJSON **payload)
{
	EVP_PKEY *pkey;
	cJSON *header = NULL;
	struct buf body = {0};

	assert_int_equal(jose_key_parse(JOSE_ALG_RS256, sg_pem.data,
	    sg_pem.len, &pkey), 0);
	assert_int_equal(jose_verify(pkey, JOSE_ALG_RS256, jws, strlen(jws),
	    &header, &body), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(header,
	    "typ")->valuestring, typ);
	assert_non_null(*payload = cJSON_Parse(body.data));
	cJSON_Delete(header);
	buf_free(&body);
	jose_key_free(pkey);
}

/* A string member of o, or NULL. */
static const char *
sg_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * With OAUTH_ACCESS_TOKEN_FORMAT=jwt (or a client's own choice) the access
 * token is an at+jwt carrying iss, sub, aud, exp, iat, jti, client_id and
 * scope; it introspects with the same jti, and once revoked introspects
 * exactly {"active":false}.
 */
static void
test_jwt_access_token(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	cJSON *claims;

	f->config.token_format = CONFIG_TOKEN_JWT;
	fx_cc_token(f, FX_CC, FX_CC_SECRET, NULL, token);
	assert_int_equal(strchr(strchr(token, '.') + 1, '.') != NULL, 1);
	sg_verify(token, "at+jwt", &claims);
	assert_string_equal(sg_str(claims, "iss"), FX_ISSUER);
	assert_string_equal(sg_str(claims, "sub"), FX_CC);
	assert_string_equal(sg_str(claims, "client_id"), FX_CC);
	assert_string_equal(sg_str(claims, "aud"), "https://api.example");
	assert_string_equal(sg_str(claims, "scope"), "read");
	assert_true(cJSON_GetObjectItemCaseSensitive(claims, "exp")->valuedouble
	    == (double)(f->now + FX_ACCESS_TTL));
	assert_true(cJSON_GetObjectItemCaseSensitive(claims, "iat")->valuedouble
	    == (double)f->now);

	fx_present(f, "/introspect", "&client_id=" FX_RS "&client_secret="
	    FX_RS_SECRET, token, NULL, &out);
	fx_assert_status(&out, 200);
	assert_string_equal(fx_str(&out, "jti"), sg_str(claims, "jti"));
	assert_string_equal(fx_str(&out, "client_id"), FX_CC);
	fx_resp_free(&out);

	fx_present(f, "/revoke", "&client_id=" FX_CC "&client_secret="
	    FX_CC_SECRET, token, NULL, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, token), 0);
	cJSON_Delete(claims);

	/* The default again: opaque. */
	f->config.token_format = CONFIG_TOKEN_OPAQUE;
	fx_cc_token(f, FX_CC, FX_CC_SECRET, NULL, token);
	assert_null(strchr(token, '.'));
}

/* A user's JWT access token names the user and when they logged in. */
static void
test_jwt_user_token(void **state)
{
	struct fx *f = *state;
	struct fx_tokens t;
	cJSON *claims;

	f->config.token_format = CONFIG_TOKEN_JWT;
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &t);
	sg_verify(t.access, "at+jwt", &claims);
	assert_string_equal(sg_str(claims, "sub"), FX_USER);
	assert_string_equal(sg_str(claims, "client_id"), FX_CONF);
	assert_string_equal(sg_str(claims, "aud"), FX_ISSUER);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(claims, "auth_time"));
	cJSON_Delete(claims);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.access),
	    1);
	/* Refresh tokens stay opaque. */
	assert_null(strchr(t.refresh, '.'));
}

/*
 * OAUTH_SIGNING_ALG picks the key JWT access tokens are signed with, for
 * throughput; without a key of that alg issuance fails with a clear 500.
 */
static void
test_jwt_signing_alg(void **state)
{
	static const struct fx_key_times always = {0, 0, 0, 0};
	struct fx *f = *state;
	struct buf pem = {0};
	char token[TOKEN_PRESENTED_MAX + 1], kid[JOSE_KID_LEN + 1];
	struct fx_resp out;
	EVP_PKEY *pkey;
	cJSON *header = NULL;
	struct buf body = {0};

	f->config.token_format = CONFIG_TOKEN_JWT;
	f->config.signing_alg = JOSE_ALG_ES256;
	fx_post(f, "/token", NULL, "grant_type=client_credentials"
	    "&client_id=" FX_CC "&client_secret=" FX_CC_SECRET, &out);
	fx_assert_error(&out, 500, "server_error");
	assert_non_null(strstr(fx_str(&out, "error_description"),
	    "oauthctl key generate"));
	fx_resp_free(&out);

	assert_int_equal(jose_key_generate(JOSE_ALG_ES256, &pem), 0);
	fx_add_key(f, JOSE_ALG_ES256, pem.data, &always, kid);
	fx_cc_token(f, FX_CC, FX_CC_SECRET, NULL, token);
	assert_int_equal(jose_key_parse(JOSE_ALG_ES256, pem.data, pem.len,
	    &pkey), 0);
	assert_int_equal(jose_verify(pkey, JOSE_ALG_ES256, token,
	    strlen(token), &header, &body), 0);
	assert_string_equal(sg_str(header, "kid"), kid);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, token), 1);
	cJSON_Delete(header);
	buf_free(&body);
	jose_key_free(pkey);
	crypto_wipe(pem.data, pem.len);
	buf_free(&pem);
}

struct accept_case {
	int line;
	const char *accept;
	int signed_answer;
};

static const struct accept_case accept_cases[] = {
	{__LINE__, NULL, 0},
	{__LINE__, "application/json", 0},
	{__LINE__, "application/token-introspection+jwt", 1},
	{__LINE__, "Application/Token-Introspection+JWT", 1},
	{__LINE__, "application/json, application/token-introspection+jwt", 1},
	{__LINE__, "application/token-introspection+jwt;q=0.5", 1},
	{__LINE__, "application/token-introspection+jwt ; q=1", 1},
	{__LINE__, "application/token-introspection+jwt;q=0", 0},
	{__LINE__, "application/token-introspection+jwt; q=0.000", 0},
	{__LINE__, "application/token-introspection+jwtx", 0},
	{__LINE__, "application/token-introspection", 0},
	{__LINE__, "*/*", 0},
	/* Parameters cut short: every read stays within the header. */
	{__LINE__, "application/token-introspection+jwt;", 1},
	{__LINE__, "application/token-introspection+jwt; ", 1},
	{__LINE__, "application/token-introspection+jwt;q=1;", 1},
	{__LINE__, "application/token-introspection+jwt;q", 1},
	{__LINE__, "application/token-introspection+jwt;q=", 1},
	{__LINE__, "application/token-introspection+jwt;q=0;x=1", 0},
	{__LINE__, "application/token-introspection+jwt;q=0.5;", 1},
};

/*
 * RFC 9701: Accept: application/token-introspection+jwt is answered with
 * a JWT of typ token-introspection+jwt for the caller, whose
 * token_introspection claim is the answer, active or not.
 */
static void
test_signed_introspection(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1], body[FX_BODY_MAX];
	struct fx_req q = {0};
	struct fx_resp out;
	cJSON *claims, *ti;
	size_t i;

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	snprintf(body, sizeof(body), "token=%s" SG_CONF_AUTH, token);
	q.method = "POST";
	q.path = "/introspect";
	q.content_type = "application/x-www-form-urlencoded";
	q.body = body;
	for (i = 0; i < sizeof(accept_cases) / sizeof(accept_cases[0]); i++) {
		const struct accept_case *c = &accept_cases[i];
		struct request req;

		memset(&req, 0, sizeof(req));
		req.method = q.method;
		req.path = q.path;
		req.content_type = q.content_type;
		req.body = body;
		req.body_len = strlen(body);
		req.accept = c->accept;
		response_init(&out.r);
		handler_dispatch(&f->env, &req, &out.r);
		request_free(&req);
		if (out.r.status != 200)
			fail_msg("line %d: status %d", c->line, out.r.status);
		if (c->signed_answer != (out.r.content_type != NULL &&
		    strcmp(out.r.content_type,
			"application/token-introspection+jwt") == 0))
			fail_msg("line %d: content type %s", c->line,
			    out.r.content_type);
		if (c->signed_answer) {
			assert_true(out.r.no_store);
			sg_verify(out.r.body.data, "token-introspection+jwt",
			    &claims);
			assert_string_equal(sg_str(claims, "iss"), FX_ISSUER);
			assert_string_equal(sg_str(claims, "aud"), FX_CONF);
			ti = cJSON_GetObjectItemCaseSensitive(claims,
			    "token_introspection");
			assert_true(cJSON_IsTrue(
			    cJSON_GetObjectItemCaseSensitive(ti, "active")));
			assert_string_equal(sg_str(ti, "client_id"), FX_CONF);
			cJSON_Delete(claims);
		}
		response_free(&out.r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_jwt_access_token, sg_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_jwt_user_token, sg_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_jwt_signing_alg, sg_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_signed_introspection,
		    sg_setup, fx_teardown),
	};
	int rc;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (sg_pem.data != NULL)
		crypto_wipe(sg_pem.data, sg_pem.len);
	buf_free(&sg_pem);
	return rc;
}
