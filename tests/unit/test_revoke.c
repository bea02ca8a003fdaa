/*
 * revoke.c: POST /revoke (RFC 7009).  Unknown, expired or revoked tokens get
 * an empty 200; another client's live token is refused with invalid_grant
 * and stays live; a refresh token takes its grant's access tokens along.
 */
#include "handler_fixture.h"

#define RV_CONF_AUTH "&client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET
#define RV_OTHER_AUTH "&client_id=" FX_OTHER "&client_secret=" FX_OTHER_SECRET
#define RV_RS_AUTH "&client_id=" FX_RS "&client_secret=" FX_RS_SECRET

/* Fails unless out is the empty 200 of RFC 7009 §2.2. */
static void
rv_check_empty(int line, const struct fx_resp *out)
{
	fx_check_status(line, out, 200);
	if (out->r.body.len != 0 || out->r.content_type != NULL)
		fail_msg("line %d: a body or Content-Type on the 200: %s", line,
		    out->r.body.data != NULL ? out->r.body.data : "");
	if (out->r.location != NULL || out->r.www_authenticate != NULL ||
	    out->r.allow != NULL)
		fail_msg("line %d: stray headers on the 200", line);
}

#define rv_assert_empty(out) rv_check_empty(__LINE__, (out))

/* Revokes token (fx_present); fails unless the answer is the empty 200. */
static void
rv_check_revoked(int line, struct fx *f, const char *auth, const char *token,
    const char *extra)
{
	struct fx_resp out;

	fx_present(f, "/revoke", auth, token, extra, &out);
	rv_check_empty(line, &out);
	fx_resp_free(&out);
}

#define rv_assert_revoked(f, auth, token, extra)                              \
	rv_check_revoked(__LINE__, (f), (auth), (token), (extra))

/* Revokes token (fx_present); fails unless it is refused invalid_grant. */
static void
rv_check_refused(int line, struct fx *f, const char *auth, const char *token)
{
	struct fx_resp out;

	fx_present(f, "/revoke", auth, token, NULL, &out);
	fx_check_error(line, &out, 400, "invalid_grant");
	fx_resp_free(&out);
}

#define rv_assert_refused(f, auth, token)                                     \
	rv_check_refused(__LINE__, (f), (auth), (token))

/* The caller's own access token: revoked, and nothing else is. */
static void
test_revoke_access_token(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1], sibling[TOKEN_PRESENTED_MAX + 1];
	struct fx_tokens t;

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, sibling);
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &t);
	rv_assert_revoked(f, RV_CONF_AUTH, token, NULL);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, token), 0);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, token), 0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, sibling), 1);

	/* An access token of a grant goes alone; its refresh token lives. */
	rv_assert_revoked(f, RV_CONF_AUTH, t.access, NULL);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.access),
	    0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.refresh),
	    1);

	/* Revoking again: still the empty 200 (RFC 7009 §2.2). */
	rv_assert_revoked(f, RV_CONF_AUTH, token, NULL);
}

/*
 * A refresh token takes its whole grant: the access tokens issued with it
 * and before it in the rotation (RFC 7009 §2.1).
 */
static void
test_revoke_refresh_token(void **state)
{
	struct fx *f = *state;
	struct fx_tokens first, t, other;
	struct fx_resp out;

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &first);
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &other);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, first.refresh, NULL, &out);
	fx_assert_status(&out, 200);
	fx_copy(t.access, &out, "access_token");
	fx_copy(t.refresh, &out, "refresh_token");
	fx_resp_free(&out);

	rv_assert_revoked(f, RV_CONF_AUTH, t.refresh,
	    "&token_type_hint=refresh_token");
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.refresh),
	    0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.access),
	    0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET,
	    first.access), 0);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	/* Another grant of the same client is untouched. */
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET,
	    other.access), 1);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET,
	    other.refresh), 1);
}

/* token_type_hint is only a hint (RFC 7009 §2.1). */
static void
test_revoke_hint_ignored(void **state)
{
	static const char *const hints[] = {"&token_type_hint=refresh_token",
	    "&token_type_hint=access_token", "&token_type_hint=bogus"};
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1];
	struct fx_tokens t;
	size_t i;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
		rv_assert_revoked(f, RV_CONF_AUTH, token, hints[i]);
		assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET,
		    token), 0);
		fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &t);
		rv_assert_revoked(f, RV_CONF_AUTH, t.refresh, hints[i]);
		assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET,
		    t.access), 0);
	}
}

/* Public clients revoke their own tokens by client_id (RFC 7009 §2.1). */
static void
test_revoke_public(void **state)
{
	struct fx *f = *state;
	char header[FX_HEADER_MAX];
	struct fx_tokens t, u;
	struct fx_resp out;

	fx_code_flow(f, FX_PUB, NULL, NULL, &t);
	fx_code_flow(f, FX_PUB, NULL, NULL, &u);
	rv_assert_revoked(f, "&client_id=" FX_PUB, t.access, NULL);
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, t.access), 0);
	fx_post(f, "/revoke", fx_basic(header, FX_PUB ":"), "token=dummy",
	    &out);
	rv_assert_empty(&out);
	fx_resp_free(&out);
	fx_postf(f, "/revoke", fx_basic(header, FX_PUB ":"), &out, "token=%s",
	    u.refresh);
	rv_assert_empty(&out);
	fx_resp_free(&out);
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, u.access), 0);
	rv_assert_revoked(f, "&client_id=" FX_PUB, t.refresh, NULL);
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, t.refresh), 0);
}

/*
 * Another client's live token: 400 invalid_grant, and it stays live;
 * a resource server's introspect permission does not extend to revoking.
 */
static void
test_revoke_other_client(void **state)
{
	static const char *const callers[] = {RV_OTHER_AUTH, RV_RS_AUTH,
	    "&client_id=" FX_PUB};
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1], dead[TOKEN_PRESENTED_MAX + 1];
	struct fx_tokens t;
	struct fx_resp out;
	size_t i;

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &t);
	for (i = 0; i < sizeof(callers) / sizeof(callers[0]); i++) {
		rv_assert_refused(f, callers[i], token);
		rv_assert_refused(f, callers[i], t.access);
		rv_assert_refused(f, callers[i], t.refresh);
	}
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, token), 1);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.access),
	    1);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.refresh),
	    1);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);

	/* Another client's dead token tells nothing: the empty 200. */
	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, dead);
	rv_assert_revoked(f, RV_CONF_AUTH, dead, NULL);
	rv_assert_revoked(f, RV_OTHER_AUTH, dead, NULL);
}

/*
 * Nothing to revoke: unknown, over-long, expired, revoked, and codes (not
 * tokens).  All get the empty 200 (RFC 7009 §2.2) and change nothing.
 */
static void
test_revoke_nothing(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1], expired[TOKEN_PRESENTED_MAX + 1];
	char long_token[TOKEN_PRESENTED_MAX + 2];
	struct fx_resp out;
	struct {
		int line;
		const char *token;
	} cases[6];
	size_t i, n = 0, before;

	fx_code(f, FX_CONF, NULL, code);
	f->now -= FX_ACCESS_TTL;
	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, expired);
	f->now = UNIT_NOW;

	cases[n].line = __LINE__, cases[n++].token = "unknown";
	cases[n].line = __LINE__, cases[n++].token = fx_overlong_token(long_token);
	cases[n].line = __LINE__, cases[n++].token = code;
	cases[n].line = __LINE__, cases[n++].token = expired;
	before = fx_token_count(f);
	for (i = 0; i < n; i++)
		rv_check_revoked(cases[i].line, f, RV_CONF_AUTH, cases[i].token,
		    NULL);
	assert_int_equal(fx_token_count(f), before);
	/* The code was left alone: it is redeemed normally. */
	fx_redeem(f, FX_CONF, FX_CONF_SECRET, code, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
}

/*
 * A refresh token already rotated, revoked by its client (a logout with a
 * stale copy, or one racing the client's own refresh on another machine):
 * the empty 200, and the grant ends as a replay at /token would end it
 * (RFC 9700 §4.14.2), so that no refresh outlives the logout.  Presented
 * by another client it is only the empty 200, and changes nothing.
 */
static void
test_revoke_rotated_refresh(void **state)
{
	struct fx *f = *state;
	struct fx_tokens rotated, other;
	char access[TOKEN_PRESENTED_MAX + 1], refresh[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &rotated);
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &other);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, rotated.refresh, NULL, &out);
	fx_assert_status(&out, 200);
	fx_copy(access, &out, "access_token");
	fx_copy(refresh, &out, "refresh_token");
	fx_resp_free(&out);

	rv_assert_revoked(f, RV_OTHER_AUTH, rotated.refresh, NULL);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, access), 1);

	rv_assert_revoked(f, RV_CONF_AUTH, rotated.refresh, NULL);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, access), 0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, refresh), 0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET,
	    rotated.access), 0);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, refresh, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	/* The client's other grant lives on; revoking again changes nothing. */
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET,
	    other.access), 1);
	rv_assert_revoked(f, RV_CONF_AUTH, rotated.refresh, NULL);
}

static const struct fx_error_case error_cases[] = {
	{__LINE__, "application/x-www-form-urlencoded", RV_CONF_AUTH + 1, 400,
	    "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded", "token=" RV_CONF_AUTH,
	    400, "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "token=a&token=b" RV_CONF_AUTH, 400, "invalid_request"},
	{__LINE__, "text/plain", "token=a" RV_CONF_AUTH, 400,
	    "invalid_request"},
	{__LINE__, NULL, "token=a" RV_CONF_AUTH, 400, "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded", "token=a", 401,
	    "invalid_client"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "token=a&client_id=" FX_CONF, 401, "invalid_client"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "token=a&client_id=nobody", 401, "invalid_client"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "token=a&client_id=" FX_CONF "&client_secret=" FX_OTHER_SECRET, 401,
	    "invalid_client"},
};

static void
test_revoke_errors(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1], body[FX_BODY_MAX];

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	fx_check_error_cases(f, "/revoke", error_cases,
	    sizeof(error_cases) / sizeof(error_cases[0]));
	/* An unauthenticated request cannot revoke a token it knows. */
	{
		struct fx_resp out;

		snprintf(body, sizeof(body), "token=%s&client_id=" FX_CONF,
		    token);
		fx_post(f, "/revoke", NULL, body, &out);
		fx_assert_error(&out, 401, "invalid_client");
		fx_resp_free(&out);
	}
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, token), 1);
}

/*
 * A full map: revocation answers 503 temporarily_unavailable and the token
 * stays active, or succeeds; never anything in between.  The map is filled
 * with tokens first, then with revocations, until one is refused.
 */
static void
test_revoke_full_map(void **state)
{
	struct fx *f = *state;
	char **tokens;
	struct fx_tokens t;
	struct fx_resp out;
	size_t n, i, refused = 0;

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &t);
	n = fx_fill(f, &tokens);
	assert_true(n > 0);

	for (i = 0; i < n; i++) {
		fx_present(f, "/revoke", RV_CONF_AUTH, tokens[i], NULL, &out);
		if (out.r.status == 200) {
			rv_assert_empty(&out);
			assert_int_equal(fx_introspect(f, FX_CONF,
			    FX_CONF_SECRET, tokens[i]), 0);
		} else {
			fx_assert_error(&out, 503, "temporarily_unavailable");
			assert_int_equal(fx_introspect(f, FX_CONF,
			    FX_CONF_SECRET, tokens[i]), 1);
			refused++;
		}
		fx_resp_free(&out);
	}
	/* A refresh token's revocation writes two records, or none. */
	fx_present(f, "/revoke", RV_CONF_AUTH, t.refresh, NULL, &out);
	if (out.r.status == 200) {
		rv_assert_empty(&out);
		assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET,
		    t.access), 0);
	} else {
		fx_assert_error(&out, 503, "temporarily_unavailable");
		assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET,
		    t.refresh), 1);
		assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET,
		    t.access), 1);
		refused++;
	}
	fx_resp_free(&out);
	print_message("revocations refused on a full map: %zu\n", refused);
	assert_true(refused > 0);
	fx_fill_free(tokens);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_revoke_access_token,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_refresh_token,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_hint_ignored,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_public, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_other_client,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_nothing, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_rotated_refresh,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_errors, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_full_map,
		    fx_setup_tiny, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
