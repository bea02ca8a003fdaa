/*
 * introspect.c: POST /introspect (RFC 7662).  Active answers carry the
 * design's members; everything the caller may not see, or that is not a
 * live token, is exactly {"active":false}.
 */
#include "handler_fixture.h"

#define IN_INACTIVE "{\"active\":false}"
#define IN_CONF_AUTH "&client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET
#define IN_RS_AUTH "&client_id=" FX_RS "&client_secret=" FX_RS_SECRET

/* 1 when s is JTI_LEN lower-case hex digits. */
static int
in_jti_shaped(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != JTI_LEN)
		return 0;
	for (i = 0; i < JTI_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Fails unless the members of out are exactly the names listed. */
static void
in_check_members(int line, const struct fx_resp *out,
    const char *const *names)
{
	const cJSON *item;
	size_t i, n;

	for (n = 0; names[n] != NULL; n++)
		if (cJSON_GetObjectItemCaseSensitive(out->json, names[n]) ==
		    NULL)
			fail_msg("line %d: no \"%s\" in %s", line, names[n],
			    out->r.body.data);
	cJSON_ArrayForEach(item, out->json) {
		for (i = 0; i < n; i++)
			if (strcmp(item->string, names[i]) == 0)
				break;
		if (i == n)
			fail_msg("line %d: unexpected \"%s\" in %s", line,
			    item->string, out->r.body.data);
	}
	if ((size_t)fx_members(out) != n)
		fail_msg("line %d: members of %s", line, out->r.body.data);
}

/* Fails unless out is an introspection answer's frame: 200, JSON, no-store. */
static void
in_check_frame(int line, const struct fx_resp *out)
{
	fx_check_status(line, out, 200);
	if (out->r.content_type == NULL ||
	    strcmp(out->r.content_type, "application/json") != 0 ||
	    !out->r.no_store)
		fail_msg("line %d: headers of an introspection answer", line);
}

/* Fails unless out is an active answer. */
static void
in_check_active(int line, const struct fx_resp *out)
{
	in_check_frame(line, out);
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out->json,
	    "active")))
		fail_msg("line %d: not active: %s", line, out->r.body.data);
}

/* Fails unless out is exactly the inactive answer. */
static void
in_check_inactive(int line, const struct fx_resp *out)
{
	in_check_frame(line, out);
	if (out->r.body.data == NULL ||
	    strcmp(out->r.body.data, IN_INACTIVE) != 0)
		fail_msg("line %d: answer %s, want " IN_INACTIVE, line,
		    out->r.body.data != NULL ? out->r.body.data : "(empty)");
}

/* A client_credentials token: sub is the client, aud its audience. */
static void
test_active_client_token(void **state)
{
	static const char *const members[] = {"active", "scope", "client_id",
	    "sub", "token_type", "token_use", "exp", "iat", "nbf", "jti",
	    "iss", "aud", NULL};
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;

	fx_cc_token(f, FX_CC, FX_CC_SECRET, NULL, token);
	f->now += 10;
	fx_present(f, "/introspect",
	    "&client_id=" FX_CC "&client_secret=" FX_CC_SECRET, token, NULL,
	    &out);
	in_check_active(__LINE__, &out);
	in_check_members(__LINE__, &out, members);
	assert_string_equal(fx_str(&out, "scope"), "read");
	assert_string_equal(fx_str(&out, "client_id"), FX_CC);
	assert_string_equal(fx_str(&out, "sub"), FX_CC);
	assert_string_equal(fx_str(&out, "token_type"), "Bearer");
	assert_string_equal(fx_str(&out, "token_use"), "access_token");
	assert_true(fx_num(&out, "exp") == UNIT_NOW + FX_ACCESS_TTL);
	assert_true(fx_num(&out, "iat") == UNIT_NOW);
	assert_true(fx_num(&out, "nbf") == UNIT_NOW);
	assert_true(in_jti_shaped(fx_str(&out, "jti")));
	assert_string_equal(fx_str(&out, "iss"), FX_ISSUER);
	assert_string_equal(fx_str(&out, "aud"), "https://api.example");
	/* The answer never repeats the token. */
	assert_null(strstr(out.r.body.data, token));
	fx_resp_free(&out);
}

/* A user's tokens: sub and username are the user; refresh tokens say so. */
static void
test_active_user_tokens(void **state)
{
	static const char *const members[] = {"active", "scope", "client_id",
	    "sub", "token_type", "token_use", "exp", "iat", "nbf", "jti",
	    "iss", "username", NULL};
	struct fx *f = *state;
	struct fx_tokens t;
	struct fx_resp out;
	char jti[JTI_LEN + 1];

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, "scope=write+read", &t);
	fx_present(f, "/introspect", IN_CONF_AUTH, t.access, NULL, &out);
	in_check_active(__LINE__, &out);
	in_check_members(__LINE__, &out, members);
	assert_string_equal(fx_str(&out, "scope"), "write read");
	assert_string_equal(fx_str(&out, "client_id"), FX_CONF);
	assert_string_equal(fx_str(&out, "sub"), FX_USER);
	assert_string_equal(fx_str(&out, "username"), FX_USER);
	assert_string_equal(fx_str(&out, "token_type"), "Bearer");
	assert_string_equal(fx_str(&out, "token_use"), "access_token");
	assert_true(fx_num(&out, "exp") == UNIT_NOW + FX_ACCESS_TTL);
	assert_true(fx_num(&out, "iat") == UNIT_NOW);
	assert_true(in_jti_shaped(fx_str(&out, "jti")));
	strcpy(jti, fx_str(&out, "jti"));
	fx_resp_free(&out);

	fx_present(f, "/introspect", IN_CONF_AUTH, t.refresh, NULL, &out);
	in_check_active(__LINE__, &out);
	in_check_members(__LINE__, &out, members);
	assert_string_equal(fx_str(&out, "token_use"), "refresh_token");
	assert_non_null(fx_str(&out, "token_type"));
	assert_string_not_equal(fx_str(&out, "token_type"), "Bearer");
	assert_string_equal(fx_str(&out, "sub"), FX_USER);
	assert_string_equal(fx_str(&out, "scope"), "write read");
	assert_true(fx_num(&out, "exp") == UNIT_NOW + FX_REFRESH_TTL);
	assert_true(in_jti_shaped(fx_str(&out, "jti")));
	assert_string_not_equal(fx_str(&out, "jti"), jti);
	fx_resp_free(&out);

	/* The jti is the token's: the same for every caller and call. */
	fx_present(f, "/introspect", IN_RS_AUTH, t.access, NULL, &out);
	in_check_active(__LINE__, &out);
	assert_string_equal(fx_str(&out, "jti"), jti);
	assert_string_equal(fx_str(&out, "client_id"), FX_CONF);
	fx_resp_free(&out);
}

/* The issuer is derived from the request when OAUTH_ISSUER is unset. */
static void
test_active_derived_issuer(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1], body[FX_BODY_MAX];
	struct fx_req q = {0};
	struct fx_resp out;

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	f->config.issuer = NULL;
	snprintf(body, sizeof(body), "token=%s" IN_CONF_AUTH, token);
	q.method = "POST";
	q.path = "/introspect";
	q.content_type = "application/x-www-form-urlencoded";
	q.body = body;
	q.host = "as.example";
	q.https = "on";
	q.script_name = "/oauth.fcgi";
	fx_run(f, &q, &out);
	in_check_active(__LINE__, &out);
	assert_string_equal(fx_str(&out, "iss"),
	    "https://as.example/oauth.fcgi");
	fx_resp_free(&out);
}

/*
 * Who may see a token: the client it was issued to, or a resource server
 * (the introspect permission).  Anyone else gets {"active":false}, so the
 * answer does not tell which tokens exist.
 */
static void
test_visibility(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1];
	struct fx_tokens pub;
	struct fx_resp out;

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	fx_code_flow(f, FX_PUB, NULL, NULL, &pub);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, token), 1);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, token), 1);
	assert_int_equal(fx_introspect(f, FX_OTHER, FX_OTHER_SECRET, token), 0);
	assert_int_equal(fx_introspect(f, FX_CC, FX_CC_SECRET, token), 0);
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, token), 0);
	/* A public client sees its own, by client_id alone. */
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, pub.access), 1);
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, pub.refresh), 1);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, pub.access),
	    0);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, pub.refresh), 1);
	/* A resource server sees the owner, not itself, as client_id. */
	fx_present(f, "/introspect", IN_RS_AUTH, pub.access, NULL, &out);
	in_check_active(__LINE__, &out);
	assert_string_equal(fx_str(&out, "client_id"), FX_PUB);
	fx_resp_free(&out);
}

/* token_type_hint is only a hint (RFC 7662 §2.1). */
static void
test_hint_ignored(void **state)
{
	static const char *const hints[] = {
	    "&token_type_hint=access_token", "&token_type_hint=refresh_token",
	    "&token_type_hint=authorization_code", "&token_type_hint=bogus",
	    NULL};
	struct fx *f = *state;
	struct fx_tokens t;
	struct fx_resp out;
	size_t i;

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &t);
	for (i = 0; hints[i] != NULL; i++) {
		fx_present(f, "/introspect", IN_CONF_AUTH, t.access, hints[i], &out);
		in_check_active(__LINE__, &out);
		assert_string_equal(fx_str(&out, "token_use"), "access_token");
		fx_resp_free(&out);
		fx_present(f, "/introspect", IN_CONF_AUTH, t.refresh, hints[i], &out);
		in_check_active(__LINE__, &out);
		assert_string_equal(fx_str(&out, "token_use"), "refresh_token");
		fx_resp_free(&out);
		fx_present(f, "/introspect", IN_CONF_AUTH, "unknown", hints[i], &out);
		in_check_inactive(__LINE__, &out);
		fx_resp_free(&out);
	}
}

/*
 * Not live tokens: unknown, over-long, codes, revoked, rotated, expired,
 * and tokens of a revoked grant.  Each is exactly {"active":false}, also to
 * a resource server.
 */
static void
test_inactive(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1], revoked[TOKEN_PRESENTED_MAX + 1];
	char expiring[TOKEN_PRESENTED_MAX + 1];
	char long_token[TOKEN_PRESENTED_MAX + 2];
	struct fx_tokens rotated, dead;
	struct fx_resp out;
	struct {
		int line;
		const char *token;
	} cases[10];
	size_t n = 0, i;

	fx_code(f, FX_CONF, NULL, code);
	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, revoked);
	fx_postf(f, "/revoke", NULL, &out, "token=%s" IN_CONF_AUTH, revoked);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &rotated);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, rotated.refresh, NULL, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	/* Revoking a refresh token ends its grant's access tokens. */
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &dead);
	fx_postf(f, "/revoke", NULL, &out, "token=%s" IN_CONF_AUTH,
	    dead.refresh);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);

	cases[n].line = __LINE__, cases[n++].token = "unknown";
	cases[n].line = __LINE__, cases[n++].token = fx_overlong_token(long_token);
	cases[n].line = __LINE__, cases[n++].token = code;
	cases[n].line = __LINE__, cases[n++].token = revoked;
	cases[n].line = __LINE__, cases[n++].token = rotated.refresh;
	cases[n].line = __LINE__, cases[n++].token = dead.access;
	cases[n].line = __LINE__, cases[n++].token = dead.refresh;
	for (i = 0; i < n; i++) {
		fx_present(f, "/introspect", IN_CONF_AUTH, cases[i].token, NULL, &out);
		in_check_inactive(cases[i].line, &out);
		fx_resp_free(&out);
		fx_present(f, "/introspect", IN_RS_AUTH, cases[i].token, NULL, &out);
		in_check_inactive(cases[i].line, &out);
		fx_resp_free(&out);
	}
	/* The code is still a code: being introspected did not use it. */
	{
		struct fx_resp r;

		fx_redeem(f, FX_CONF, FX_CONF_SECRET, code, &r);
		fx_assert_status(&r, 200);
		fx_resp_free(&r);
	}

	/* Expiry: active until exp, inactive from exp on. */
	f->now = UNIT_NOW + 100;
	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, expiring);
	f->now = UNIT_NOW + 100 + FX_ACCESS_TTL - 1;
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, expiring),
	    1);
	f->now = UNIT_NOW + 100 + FX_ACCESS_TTL;
	fx_present(f, "/introspect", IN_CONF_AUTH, expiring, NULL, &out);
	in_check_inactive(__LINE__, &out);
	fx_resp_free(&out);
}

static const struct fx_error_case error_cases[] = {
	{__LINE__, "application/x-www-form-urlencoded", IN_CONF_AUTH + 1, 400,
	    "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "token=" IN_CONF_AUTH, 400, "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "token=a&token=b" IN_CONF_AUTH, 400, "invalid_request"},
	{__LINE__, "text/plain", "token=a" IN_CONF_AUTH, 400,
	    "invalid_request"},
	{__LINE__, NULL, "token=a" IN_CONF_AUTH, 400, "invalid_request"},
	{__LINE__, "application/json", "token=a" IN_CONF_AUTH, 400,
	    "invalid_request"},
	/* The caller authenticates first (RFC 7662 §2.1). */
	{__LINE__, "application/x-www-form-urlencoded", "token=a", 401,
	    "invalid_client"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "token=a&client_id=" FX_CONF "&client_secret=x", 401,
	    "invalid_client"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "token=a&client_id=nobody", 401, "invalid_client"},
	{__LINE__, "application/x-www-form-urlencoded", "client_id=nobody", 401,
	    "invalid_client"},
};

static void
test_errors(void **state)
{
	fx_check_error_cases(*state, "/introspect", error_cases,
	    sizeof(error_cases) / sizeof(error_cases[0]));
}

/* A JSON body works like a form. */
static void
test_json_body(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1], body[FX_BODY_MAX];
	struct fx_resp out;

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, "read", token);
	snprintf(body, sizeof(body), "{\"token\":\"%s\",\"client_id\":\""
	    FX_RS "\",\"client_secret\":\"" FX_RS_SECRET "\"}", token);
	fx_post_type(f, "/introspect", "application/json", body, &out);
	in_check_active(__LINE__, &out);
	assert_string_equal(fx_str(&out, "scope"), "read");
	fx_resp_free(&out);
}

/* POSTs token=<token> to /introspect with "Authorization: Bearer <bearer>". */
static void
in_bearer(struct fx *f, const char *bearer, const char *token,
    const char *extra, struct fx_resp *out)
{
	char header[FX_HEADER_MAX];

	snprintf(header, sizeof(header), "Bearer %s", bearer);
	fx_postf(f, "/introspect", header, out, "token=%s%s", token,
	    extra != NULL ? extra : "");
}

/*
 * RFC 7662 §2.1: an access token the client obtained for itself
 * authorizes introspection as that client, as the Telnyx SDK does it: its
 * own tokens are visible, others' are not, and a resource server's token
 * sees every token.
 */
static void
test_bearer_authorizes(void **state)
{
	struct fx *f = *state;
	char mine[TOKEN_PRESENTED_MAX + 1], other[TOKEN_PRESENTED_MAX + 1];
	char rs[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, "read", mine);
	fx_cc_token(f, FX_OTHER, FX_OTHER_SECRET, NULL, other);
	fx_cc_token(f, FX_RS, FX_RS_SECRET, NULL, rs);

	in_bearer(f, mine, mine, NULL, &out);
	in_check_frame(__LINE__, &out);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out.json,
	    "active")));
	assert_string_equal(fx_str(&out, "client_id"), FX_CONF);
	assert_string_equal(fx_str(&out, "scope"), "read");
	assert_null(out.r.www_authenticate);
	fx_resp_free(&out);

	in_bearer(f, mine, other, NULL, &out);
	in_check_frame(__LINE__, &out);
	assert_string_equal(out.r.body.data, IN_INACTIVE);
	fx_resp_free(&out);

	in_bearer(f, rs, other, "&token_type_hint=access_token", &out);
	in_check_frame(__LINE__, &out);
	assert_string_equal(fx_str(&out, "client_id"), FX_OTHER);
	fx_resp_free(&out);

	/* A token a user delegated to the client makes it the caller too. */
	{
		struct fx_tokens user;

		fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &user);
		in_bearer(f, user.access, mine, NULL, &out);
		in_check_frame(__LINE__, &out);
		assert_string_equal(fx_str(&out, "client_id"), FX_CONF);
		fx_resp_free(&out);
	}

	/*
	 * A user's token of a resource server makes it the caller, but
	 * without the introspect permission: it sees its own tokens only.
	 */
	{
		static const struct fx_client rsweb = {"rs-web",
		    "rs-web-secret-0123456789abcdefghij", "read", GRANT_ALL, 1,
		    NULL, {FX_REDIRECT, NULL}};
		struct fx_tokens user;
		char own[TOKEN_PRESENTED_MAX + 1];

		fx_add_client(f, &rsweb);
		fx_cc_token(f, "rs-web", rsweb.secret, NULL, own);
		fx_code_flow(f, "rs-web", rsweb.secret, NULL, &user);
		in_bearer(f, user.access, other, NULL, &out);
		in_check_frame(__LINE__, &out);
		assert_string_equal(out.r.body.data, IN_INACTIVE);
		fx_resp_free(&out);
		in_bearer(f, user.access, own, NULL, &out);
		in_check_frame(__LINE__, &out);
		assert_string_equal(fx_str(&out, "client_id"), "rs-web");
		fx_resp_free(&out);
		in_bearer(f, own, other, NULL, &out);
		in_check_frame(__LINE__, &out);
		assert_string_equal(fx_str(&out, "client_id"), FX_OTHER);
		fx_resp_free(&out);
	}

	/* The scheme is case-insensitive (RFC 9110 §11.1). */
	{
		char header[FX_HEADER_MAX];

		snprintf(header, sizeof(header), "bEaReR %s", mine);
		fx_postf(f, "/introspect", header, &out, "token=%s", mine);
		in_check_frame(__LINE__, &out);
		assert_string_equal(fx_str(&out, "client_id"), FX_CONF);
		fx_resp_free(&out);
	}
}

/*
 * A bearer token that does not authorize: 401 invalid_token with the
 * challenge of RFC 6750 §3, never invalid_client; and bearer plus client
 * credentials is two methods, 400.
 */
static void
test_bearer_refused(void **state)
{
	struct fx *f = *state;
	char good[TOKEN_PRESENTED_MAX + 1], revoked[TOKEN_PRESENTED_MAX + 1];
	char over[TOKEN_PRESENTED_MAX + 2];
	struct fx_tokens user;
	struct fx_resp out;
	const char *bad[8];
	size_t i;

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, good);
	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, revoked);
	fx_present(f, "/revoke", IN_CONF_AUTH, revoked, NULL, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &user);
	memset(over, 'a', sizeof(over) - 1);
	over[sizeof(over) - 1] = '\0';

	bad[0] = "unknown-token";
	bad[1] = revoked;
	bad[2] = user.refresh;	/* not an access token */
	bad[3] = user.refresh;
	bad[4] = over;
	bad[5] = "";
	bad[6] = "a b";
	bad[7] = "=abc";
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		in_bearer(f, bad[i], good, NULL, &out);
		fx_check_error(__LINE__, &out, 401, "invalid_token");
		if (out.r.www_authenticate == NULL ||
		    strcmp(out.r.www_authenticate,
			"Bearer error=\"invalid_token\"") != 0)
			fail_msg("bearer %zu: WWW-Authenticate %s", i,
			    out.r.www_authenticate != NULL
				? out.r.www_authenticate : "(none)");
		fx_resp_free(&out);
	}
	/* Expired: the clock moves past the token's lifetime. */
	f->now += FX_ACCESS_TTL;
	in_bearer(f, good, good, NULL, &out);
	fx_check_error(__LINE__, &out, 401, "invalid_token");
	fx_resp_free(&out);
	f->now -= FX_ACCESS_TTL;

	in_bearer(f, good, good, IN_CONF_AUTH, &out);
	fx_check_error(__LINE__, &out, 400, "invalid_request");
	fx_resp_free(&out);
	in_bearer(f, good, good, "&client_id=" FX_CONF, &out);
	fx_check_error(__LINE__, &out, 400, "invalid_request");
	fx_resp_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_active_client_token,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_active_user_tokens,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_active_derived_issuer,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_visibility, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_hint_ignored, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_inactive, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_bearer_authorizes,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bearer_refused, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_errors, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_json_body, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
