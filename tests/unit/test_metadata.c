/*
 * metadata.c: GET /.well-known/oauth-authorization-server (RFC 8414).
 */
#include "handler_fixture.h"

#define MD_PATH "/.well-known/oauth-authorization-server"

/* GETs the metadata document with the request fields q sets. */
static void
md_get(struct fx *f, struct fx_req *q, struct fx_resp *out)
{
	q->method = "GET";
	q->path = MD_PATH;
	fx_run(f, q, out);
}

/*
 * Fails unless the member name of out is an array of exactly the strings
 * listed, in any order, each once.
 */
static void
md_check_set(int line, const struct fx_resp *out, const char *name,
    const char *const *want)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(out->json, name);
	const cJSON *item;
	size_t n, i, seen;

	if (!cJSON_IsArray(a))
		fail_msg("line %d: %s is not an array", line, name);
	for (n = 0; want[n] != NULL; n++) {
		seen = 0;
		cJSON_ArrayForEach(item, a)
			if (cJSON_IsString(item) &&
			    strcmp(item->valuestring, want[n]) == 0)
				seen++;
		if (seen != 1)
			fail_msg("line %d: %s has \"%s\" %zu times", line, name,
			    want[n], seen);
	}
	i = (size_t)cJSON_GetArraySize(a);
	if (i != n)
		fail_msg("line %d: %s has %zu members, want %zu", line, name,
		    i, n);
}

static void
test_document(void **state)
{
	static const char *const grants[] = {"authorization_code",
	    "client_credentials", "refresh_token", NULL};
	static const char *const methods[] = {"client_secret_basic",
	    "client_secret_post", "private_key_jwt", "tls_client_auth",
	    "self_signed_tls_client_auth", "none", NULL};
	static const char *const algs[] = {"ES256", "EdDSA", "Ed25519",
	    "RS256", NULL};
	static const char *const code[] = {"code", NULL};
	static const char *const query[] = {"query", NULL};
	static const char *const s256[] = {"S256", NULL};
	static const char *const scopes[] = {"openid", "read", "write", "admin", NULL};
	struct fx *f = *state;
	struct fx_req q = {0};
	struct fx_resp out;

	md_get(f, &q, &out);
	fx_assert_status(&out, 200);
	assert_string_equal(out.r.content_type, "application/json");
	assert_null(out.r.location);
	assert_null(out.r.www_authenticate);
	assert_string_equal(fx_str(&out, "issuer"), FX_ISSUER);
	assert_string_equal(fx_str(&out, "authorization_endpoint"),
	    FX_ISSUER "/authorize");
	assert_string_equal(fx_str(&out, "token_endpoint"), FX_ISSUER "/token");
	assert_string_equal(fx_str(&out, "introspection_endpoint"),
	    FX_ISSUER "/introspect");
	assert_string_equal(fx_str(&out, "revocation_endpoint"),
	    FX_ISSUER "/revoke");
	md_check_set(__LINE__, &out, "response_types_supported", code);
	md_check_set(__LINE__, &out, "response_modes_supported", query);
	md_check_set(__LINE__, &out, "grant_types_supported", grants);
	md_check_set(__LINE__, &out, "token_endpoint_auth_methods_supported",
	    methods);
	md_check_set(__LINE__, &out,
	    "introspection_endpoint_auth_methods_supported", methods);
	md_check_set(__LINE__, &out,
	    "revocation_endpoint_auth_methods_supported", methods);
	/* RFC 8414 §2: what private_key_jwt assertions may be signed with. */
	md_check_set(__LINE__, &out,
	    "token_endpoint_auth_signing_alg_values_supported", algs);
	md_check_set(__LINE__, &out,
	    "introspection_endpoint_auth_signing_alg_values_supported", algs);
	md_check_set(__LINE__, &out,
	    "revocation_endpoint_auth_signing_alg_values_supported", algs);
	/* RFC 7636 §4.4.1: plain is refused, so only S256 is listed. */
	md_check_set(__LINE__, &out, "code_challenge_methods_supported", s256);
	/* RFC 9207 §3: iss is sent with every authorization response. */
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out.json,
	    "authorization_response_iss_parameter_supported")));
	/* Every scope some client may have, once. */
	md_check_set(__LINE__, &out, "scopes_supported", scopes);
	fx_resp_free(&out);

	/* A query string changes nothing. */
	q.query = "x=1&x=2";
	md_get(f, &q, &out);
	fx_assert_status(&out, 200);
	assert_string_equal(fx_str(&out, "issuer"), FX_ISSUER);
	fx_resp_free(&out);
}

/* scopes_supported follows the clients registered, without repeats. */
static void
test_scopes(void **state)
{
	static const struct fx_client clients[] = {
		{"c1", NULL, "a b", GRANT_AUTHORIZATION_CODE, 0, NULL,
		    {FX_REDIRECT, NULL}},
		{"c2", NULL, "b c", GRANT_AUTHORIZATION_CODE, 0, NULL,
		    {FX_REDIRECT, NULL}},
		{"c3", NULL, "c a urn:x:y", GRANT_AUTHORIZATION_CODE, 0, NULL,
		    {FX_REDIRECT, NULL}},
		{"c4", NULL, "", GRANT_AUTHORIZATION_CODE, 0, NULL,
		    {FX_REDIRECT, NULL}},
	};
	static const char *const none[] = {"openid", NULL};
	static const char *const abc[] = {"openid", "a", "b", "c", "urn:x:y", NULL};
	struct fx f;
	struct fx_req q = {0};
	struct fx_resp out;
	size_t i;

	(void)state;
	fx_open(&f, FX_MAP_DEFAULT);
	md_get(&f, &q, &out);
	fx_assert_status(&out, 200);
	md_check_set(__LINE__, &out, "scopes_supported", none);
	fx_resp_free(&out);
	for (i = 0; i < sizeof(clients) / sizeof(clients[0]); i++)
		fx_add_client(&f, &clients[i]);
	md_get(&f, &q, &out);
	fx_assert_status(&out, 200);
	md_check_set(__LINE__, &out, "scopes_supported", abc);
	fx_resp_free(&out);
	fx_close(&f);
}

/* Without OAUTH_ISSUER every URL follows the request. */
static void
test_derived_issuer(void **state)
{
	struct fx *f = *state;
	struct fx_req q = {0};
	struct fx_resp out;

	f->config.issuer = NULL;
	q.host = "127.0.0.1:8080";
	q.script_name = "/cgi-bin/oauth.fcgi";
	md_get(f, &q, &out);
	fx_assert_status(&out, 200);
	assert_string_equal(fx_str(&out, "issuer"),
	    "http://127.0.0.1:8080/cgi-bin/oauth.fcgi");
	assert_string_equal(fx_str(&out, "authorization_endpoint"),
	    "http://127.0.0.1:8080/cgi-bin/oauth.fcgi/authorize");
	assert_string_equal(fx_str(&out, "revocation_endpoint"),
	    "http://127.0.0.1:8080/cgi-bin/oauth.fcgi/revoke");
	fx_resp_free(&out);

	q.host = NULL;
	md_get(f, &q, &out);
	fx_assert_error(&out, 500, "server_error");
	fx_resp_free(&out);
}

/*
 * OAUTH_ISSUER "https://as.example/oauth/": either config_load refuses it,
 * or the endpoints built from it are ones the router answers, i.e. not
 * ".../oauth//token" (PATH_INFO "//token" is a 404).
 */
static void
test_issuer_trailing_slash(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct fx_req q = {0};
	struct fx_resp out;
	char err[256], shown[256];
	int rc;

	unsetenv("OAUTH_CONFIG");
	setenv("OAUTH_DB", f->dir, 1);
	setenv("OAUTH_ISSUER", "https://as.example/oauth/", 1);
	rc = config_load(&cfg, err, sizeof(err));
	unsetenv("OAUTH_DB");
	unsetenv("OAUTH_ISSUER");
	if (rc == -1) {
		assert_non_null(strstr(err, "OAUTH_ISSUER"));
		return;
	}
	f->config.issuer = cfg.issuer;
	md_get(f, &q, &out);
	f->config.issuer = f->issuer;
	fx_assert_status(&out, 200);
	snprintf(shown, sizeof(shown), "%s", fx_str(&out, "token_endpoint"));
	fx_resp_free(&out);
	config_free(&cfg);
	if (strstr(shown, "//token") != NULL)
		fail_msg("token_endpoint %s: the issuer's trailing slash "
		    "doubled", shown);
	/* The issuer's own path, once, then the endpoint. */
	assert_string_equal(shown, "https://as.example/oauth/token");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_document, fx_setup,
		    fx_teardown),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test_setup_teardown(test_derived_issuer, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_issuer_trailing_slash,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
