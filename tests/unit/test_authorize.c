/*
 * authorize.c: GET /authorize (RFC 6749 §4.1.1, RFC 7636, RFC 9207).
 * Before the redirect URI is trusted errors are 400 JSON; without
 * REMOTE_USER 500 JSON (the web server must authenticate); after, errors
 * are 302s to the redirect URI with error, error_description, state and
 * iss; success is a 302 with code, state and iss.
 */
#include "handler_fixture.h"

#define AZ_MULTI "multi"
#define AZ_MULTI_A "https://app.example/a"
#define AZ_MULTI_B "https://app.example/b?x=1"
#define AZ_NOREDIRECT "no-redirect"
#define AZ_CCREDIR "cc-redirect"
#define AZ_OK "response_type=code&code_challenge=" FX_CHALLENGE \
	"&code_challenge_method=S256"
#define AZ_REDIRECT_ENC "https%3A%2F%2Fapp.example%2Fcb"
#define AZ_USER_SPECIAL "al ice@example.org \xc3\xa9"

static int
az_setup_map(void **state, size_t map_size)
{
	static const struct fx_client extra[] = {
		{AZ_MULTI, "multi-secret-0123456789abcdef01234", "read",
		    GRANT_AUTHORIZATION_CODE, 0, NULL,
		    {AZ_MULTI_A, AZ_MULTI_B, NULL}},
		{AZ_NOREDIRECT, "no-redirect-secret-0123456789abcdef", "read",
		    GRANT_AUTHORIZATION_CODE, 0, NULL, {NULL}},
		{AZ_CCREDIR, "cc-redirect-secret-0123456789abcdef", "read",
		    GRANT_CLIENT_CREDENTIALS, 0, NULL, {FX_REDIRECT, NULL}},
	};
	size_t i;

	if (fx_setup_map(state, map_size) != 0)
		return -1;
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		fx_add_client(*state, &extra[i]);
	return 0;
}

static int
az_setup(void **state)
{
	return az_setup_map(state, FX_MAP_DEFAULT);
}

static int
az_setup_tiny(void **state)
{
	return az_setup_map(state, FX_MAP_TINY);
}

static enum store_each
az_count_grant(const struct grant *g, void *arg)
{
	(void)g;
	(*(size_t *)arg)++;
	return STORE_EACH_NEXT;
}

/* How many grants the store holds. */
static size_t
az_grant_count(struct fx *f)
{
	struct store_txn *txn;
	size_t n = 0;

	assert_int_equal(store_txn_begin(f->store, 0, &txn), STORE_OK);
	assert_int_equal(store_grant_foreach(txn, az_count_grant, &n),
	    STORE_OK);
	store_txn_abort(txn);
	return n;
}

/* A redirect's frame: 302, Location under base, no body, no-store. */
static void
az_check_redirect(int line, const struct fx_resp *out, const char *base)
{
	fx_check_status(line, out, 302);
	if (out->r.location == NULL ||
	    strncmp(out->r.location, base, strlen(base)) != 0 ||
	    (out->r.location[strlen(base)] != '?' &&
		out->r.location[strlen(base)] != '&'))
		fail_msg("line %d: Location %s, want %s?...", line,
		    out->r.location != NULL ? out->r.location : "(none)", base);
	if (out->r.body.len != 0 || out->r.content_type != NULL)
		fail_msg("line %d: a redirect with a body", line);
	if (!out->r.no_store)
		fail_msg("line %d: a redirect without no-store", line);
	if (out->r.www_authenticate != NULL || out->r.allow != NULL)
		fail_msg("line %d: stray headers on a redirect", line);
}

/* The parameter name of the Location of out, or "" when absent. */
static const char *
az_param(const struct fx_resp *out, const char *name)
{
	static char value[STATE_MAX * 4];

	if (!fx_location_param(out, name, value, sizeof(value)))
		value[0] = '\0';
	return value;
}

/* 1 when the Location of out has the parameter name. */
static int
az_has(const struct fx_resp *out, const char *name)
{
	char value[STATE_MAX * 4];

	return fx_location_param(out, name, value, sizeof(value));
}

/* Success: code, state and iss, back at the registered URI. */
static void
test_success(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;
	char code[TOKEN_PRESENTED_MAX + 1];
	size_t tokens = fx_token_count(f), grants = az_grant_count(f);

	fx_authorize(f, FX_USER, AZ_OK "&client_id=" FX_CONF
	    "&state=xyz-123&redirect_uri=" AZ_REDIRECT_ENC, &out);
	az_check_redirect(__LINE__, &out, FX_REDIRECT);
	assert_int_equal(strncmp(out.r.location, FX_REDIRECT "?code=",
	    strlen(FX_REDIRECT "?code=")), 0);
	strcpy(code, az_param(&out, "code"));
	assert_int_equal(strlen(code), TOKEN_STRING_LEN);
	assert_string_equal(az_param(&out, "state"), "xyz-123");
	assert_string_equal(az_param(&out, "iss"), FX_ISSUER);
	assert_false(az_has(&out, "error"));
	assert_false(az_has(&out, "error_description"));
	fx_resp_free(&out);
	/* One code and its grant were stored. */
	assert_int_equal(fx_token_count(f), tokens + 1);
	assert_int_equal(az_grant_count(f), grants + 1);

	/* Without state there is none to echo; every code is new. */
	fx_authorize(f, FX_USER, AZ_OK "&client_id=" FX_CONF, &out);
	az_check_redirect(__LINE__, &out, FX_REDIRECT);
	assert_false(az_has(&out, "state"));
	assert_string_equal(az_param(&out, "iss"), FX_ISSUER);
	assert_string_not_equal(az_param(&out, "code"), code);
	fx_resp_free(&out);

	/* A confidential client may leave PKCE out. */
	fx_authorize(f, FX_USER, "response_type=code&client_id=" FX_CONF,
	    &out);
	az_check_redirect(__LINE__, &out, FX_REDIRECT);
	assert_true(az_has(&out, "code"));
	fx_resp_free(&out);
}

/* state and the user name travel intact, whatever they hold. */
static void
test_success_encoding(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;
	char code[TOKEN_PRESENTED_MAX + 1];

	fx_authorize(f, AZ_USER_SPECIAL, AZ_OK "&client_id=" FX_PUB
	    "&state=a+b%26c%3Dd%2F%C3%A9%23%3F%25", &out);
	az_check_redirect(__LINE__, &out, FX_REDIRECT);
	assert_string_equal(az_param(&out, "state"),
	    "a b&c=d/\xc3\xa9#?%");
	/* Nothing but the query: no fragment was opened. */
	assert_null(strchr(out.r.location, '#'));
	assert_null(strchr(out.r.location, ' '));
	strcpy(code, az_param(&out, "code"));
	fx_resp_free(&out);

	fx_redeem(f, FX_PUB, NULL, code, &out);
	fx_assert_status(&out, 200);
	{
		struct fx_resp in;

		fx_postf(f, "/introspect", NULL, &in,
		    "client_id=" FX_PUB "&token=%s",
		    fx_str(&out, "access_token"));
		assert_string_equal(fx_str(&in, "sub"), AZ_USER_SPECIAL);
		assert_string_equal(fx_str(&in, "username"), AZ_USER_SPECIAL);
		fx_resp_free(&in);
	}
	fx_resp_free(&out);
}

/* A registered URI's own query is kept; the answer is appended. */
static void
test_success_redirect_choice(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;

	fx_authorize(f, FX_USER, AZ_OK "&client_id=" AZ_MULTI
	    "&redirect_uri=https%3A%2F%2Fapp.example%2Fb%3Fx%3D1&state=s",
	    &out);
	az_check_redirect(__LINE__, &out, AZ_MULTI_B);
	assert_int_equal(strncmp(out.r.location, AZ_MULTI_B "&code=",
	    strlen(AZ_MULTI_B "&code=")), 0);
	assert_string_equal(az_param(&out, "x"), "1");
	assert_string_equal(az_param(&out, "state"), "s");
	fx_resp_free(&out);

	fx_authorize(f, FX_USER, AZ_OK "&client_id=" AZ_MULTI
	    "&redirect_uri=https%3A%2F%2Fapp.example%2Fa", &out);
	az_check_redirect(__LINE__, &out, AZ_MULTI_A);
	assert_true(az_has(&out, "code"));
	fx_resp_free(&out);

	/* Errors go to the chosen URI too. */
	fx_authorize(f, FX_USER, "client_id=" AZ_MULTI
	    "&redirect_uri=https%3A%2F%2Fapp.example%2Fb%3Fx%3D1", &out);
	az_check_redirect(__LINE__, &out, AZ_MULTI_B);
	assert_string_equal(az_param(&out, "error"), "invalid_request");
	assert_string_equal(az_param(&out, "x"), "1");
	fx_resp_free(&out);
}

/* The scope asked for is the code's, and its tokens'. */
static void
test_success_scope(void **state)
{
	struct fx *f = *state;
	struct fx_tokens t;
	struct fx_resp out;

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, "scope=admin+read+admin", &t);
	fx_postf(f, "/introspect", NULL, &out, "client_id=" FX_CONF
	    "&client_secret=" FX_CONF_SECRET "&token=%s", t.access);
	assert_string_equal(fx_str(&out, "scope"), "admin read");
	fx_resp_free(&out);
	fx_postf(f, "/introspect", NULL, &out, "client_id=" FX_CONF
	    "&client_secret=" FX_CONF_SECRET "&token=%s", t.refresh);
	assert_string_equal(fx_str(&out, "scope"), "admin read");
	fx_resp_free(&out);
}

/* The issuer in iss follows the request when OAUTH_ISSUER is unset. */
static void
test_success_derived_issuer(void **state)
{
	struct fx *f = *state;
	struct fx_req q = {0};
	struct fx_resp out;

	f->config.issuer = NULL;
	q.method = "GET";
	q.path = "/authorize";
	q.query = AZ_OK "&client_id=" FX_CONF;
	q.remote_user = FX_USER;
	q.host = "as.example";
	q.https = "on";
	q.script_name = "/oauth";
	fx_run(f, &q, &out);
	az_check_redirect(__LINE__, &out, FX_REDIRECT);
	assert_string_equal(az_param(&out, "iss"), "https://as.example/oauth");
	fx_resp_free(&out);
}

struct early_case {
	int line;
	const char *user;	/* REMOTE_USER, NULL: unset */
	const char *query;
	int status;
	const char *code;
};

static char az_long_client[CLIENT_ID_MAX + 2 + sizeof("client_id=")];
static char az_long_user[USERNAME_MAX + 2];
static char az_max_user[USERNAME_MAX + 1];

/*
 * Before the redirect URI is trusted: a 400 JSON error, never a redirect
 * (RFC 6749 §4.1.2.1); then 500 when the web server named no user.
 */
static const struct early_case early_cases[] = {
	{__LINE__, FX_USER, NULL, 400, "invalid_request"},
	{__LINE__, FX_USER, "", 400, "invalid_request"},
	{__LINE__, FX_USER, AZ_OK, 400, "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=", 400, "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=nobody", 400, "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=CONF", 400, "invalid_request"},
	{__LINE__, FX_USER, az_long_client, 400, "invalid_request"},
	/* redirect_uri: exactly a registered one (RFC 6749 §3.1.2.3). */
	{__LINE__, FX_USER, AZ_OK "&client_id=" FX_CONF
	    "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb", 400,
	    "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=" FX_CONF
	    "&redirect_uri=" AZ_REDIRECT_ENC "%2Fx", 400, "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=" FX_CONF
	    "&redirect_uri=https%3A%2F%2Fapp.example%2Fc", 400,
	    "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=" FX_CONF
	    "&redirect_uri=HTTPS%3A%2F%2Fapp.example%2Fcb", 400,
	    "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=" FX_CONF
	    "&redirect_uri=" AZ_REDIRECT_ENC "%3Fx%3D1", 400,
	    "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=" FX_CONF
	    "&redirect_uri=" AZ_REDIRECT_ENC "%23f", 400, "invalid_request"},
	/* Another client's registered URI is not this client's. */
	{__LINE__, FX_USER, AZ_OK "&client_id=" FX_CONF
	    "&redirect_uri=https%3A%2F%2Fapp.example%2Fa", 400,
	    "invalid_request"},
	/* None sent: only a client with exactly one may leave it out. */
	{__LINE__, FX_USER, AZ_OK "&client_id=" AZ_MULTI, 400,
	    "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=" AZ_NOREDIRECT, 400,
	    "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=" AZ_NOREDIRECT
	    "&redirect_uri=" AZ_REDIRECT_ENC, 400, "invalid_request"},
	/* A query that does not parse (RFC 6749 §3.1). */
	{__LINE__, FX_USER, AZ_OK "&client_id=" FX_CONF "&client_id=" FX_CONF,
	    400, "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=" FX_CONF "&state=a&state=b",
	    400, "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=" FX_CONF "&%zz=1", 400,
	    "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=" FX_CONF "&state=%zz", 400,
	    "invalid_request"},
	{__LINE__, FX_USER, AZ_OK "&client_id=" FX_CONF "&state", 400,
	    "invalid_request"},
	/* A bad client is reported before a missing user. */
	{__LINE__, NULL, AZ_OK "&client_id=nobody", 400, "invalid_request"},
	{__LINE__, NULL, AZ_OK "&client_id=" FX_CONF
	    "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb", 400,
	    "invalid_request"},
	/* No user: the web server did not authenticate this location. */
	{__LINE__, NULL, AZ_OK "&client_id=" FX_CONF, 500, "server_error"},
	{__LINE__, "", AZ_OK "&client_id=" FX_CONF, 500, "server_error"},
	{__LINE__, NULL, "client_id=" FX_CONF, 500, "server_error"},
	/* A user name we cannot record. */
	{__LINE__, "al\nice", AZ_OK "&client_id=" FX_CONF, 400,
	    "invalid_request"},
	{__LINE__, "alice\x7f", AZ_OK "&client_id=" FX_CONF, 400,
	    "invalid_request"},
	{__LINE__, "\xff\xfe", AZ_OK "&client_id=" FX_CONF, 400,
	    "invalid_request"},
	{__LINE__, az_long_user, AZ_OK "&client_id=" FX_CONF, 400,
	    "invalid_request"},
};

static void
test_early_errors(void **state)
{
	struct fx *f = *state;
	size_t i, tokens = fx_token_count(f), grants = az_grant_count(f);
	struct fx_resp out;

	strcpy(az_long_client, "client_id=");
	memset(az_long_client + strlen("client_id="), 'c', CLIENT_ID_MAX + 1);
	memset(az_long_user, 'u', USERNAME_MAX + 1);
	for (i = 0; i < sizeof(early_cases) / sizeof(early_cases[0]); i++) {
		const struct early_case *c = &early_cases[i];

		fx_authorize(f, c->user, c->query, &out);
		fx_check_error(c->line, &out, c->status, c->code);
		fx_resp_free(&out);
	}
	assert_int_equal(fx_token_count(f), tokens);
	assert_int_equal(az_grant_count(f), grants);

	/* USERNAME_MAX bytes of user name are fine. */
	memset(az_max_user, 'u', USERNAME_MAX);
	fx_authorize(f, az_max_user, AZ_OK "&client_id=" FX_CONF, &out);
	az_check_redirect(__LINE__, &out, FX_REDIRECT);
	assert_true(az_has(&out, "code"));
	fx_resp_free(&out);
}

struct late_case {
	int line;
	const char *query;	/* state=st is added */
	const char *error;
};

static char az_long_state[sizeof("client_id=" FX_CONF "&state=") +
    STATE_MAX + 1];

/*
 * Once the redirect URI is trusted and the user known, errors go back to
 * the client (RFC 6749 §4.1.2.1) with state and iss (RFC 9207).
 */
static const struct late_case late_cases[] = {
	{__LINE__, "client_id=" FX_CONF, "invalid_request"},
	{__LINE__, "client_id=" FX_CONF "&response_type=token",
	    "unsupported_response_type"},
	{__LINE__, "client_id=" FX_CONF "&response_type=code+token",
	    "unsupported_response_type"},
	{__LINE__, "client_id=" FX_CONF "&response_type=CODE",
	    "unsupported_response_type"},
	{__LINE__, "client_id=" FX_CONF "&response_type=id_token",
	    "unsupported_response_type"},
	{__LINE__, AZ_OK "&client_id=" AZ_CCREDIR, "unauthorized_client"},
	/* PKCE: S256 only (RFC 7636 §4.4.1), and a well-formed challenge. */
	{__LINE__, "response_type=code&client_id=" FX_CONF
	    "&code_challenge=" FX_CHALLENGE "&code_challenge_method=plain",
	    "invalid_request"},
	{__LINE__, "response_type=code&client_id=" FX_CONF
	    "&code_challenge=" FX_CHALLENGE, "invalid_request"},
	{__LINE__, "response_type=code&client_id=" FX_CONF
	    "&code_challenge_method=S256", "invalid_request"},
	{__LINE__, "response_type=code&client_id=" FX_CONF
	    "&code_challenge=" FX_CHALLENGE "&code_challenge_method=s256",
	    "invalid_request"},
	{__LINE__, "response_type=code&client_id=" FX_CONF
	    "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"
	    "&code_challenge_method=S256", "invalid_request"},
	{__LINE__, "response_type=code&client_id=" FX_CONF
	    "&code_challenge=" FX_CHALLENGE "M&code_challenge_method=S256",
	    "invalid_request"},
	{__LINE__, "response_type=code&client_id=" FX_CONF
	    "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw%2BcM"
	    "&code_challenge_method=S256", "invalid_request"},
	{__LINE__, "response_type=code&client_id=" FX_CONF
	    "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw%3DcM"
	    "&code_challenge_method=S256", "invalid_request"},
	/* Public clients must use PKCE. */
	{__LINE__, "response_type=code&client_id=" FX_PUB, "invalid_request"},
	{__LINE__, "response_type=code&client_id=" FX_PUB
	    "&code_challenge=" FX_CHALLENGE "&code_challenge_method=plain",
	    "invalid_request"},
	/* Scope (RFC 6749 §3.3). */
	{__LINE__, AZ_OK "&client_id=" FX_CONF "&scope=delete",
	    "invalid_scope"},
	{__LINE__, AZ_OK "&client_id=" FX_PUB "&scope=read+admin",
	    "invalid_scope"},
	{__LINE__, AZ_OK "&client_id=" FX_CONF "&scope=read%09write",
	    "invalid_scope"},
	{__LINE__, AZ_OK "&client_id=" FX_CONF "&scope=read++write",
	    "invalid_scope"},
};

static void
test_late_errors(void **state)
{
	struct fx *f = *state;
	char query[FX_BODY_MAX];
	size_t i, tokens = fx_token_count(f), grants = az_grant_count(f);
	struct fx_resp out;

	for (i = 0; i < sizeof(late_cases) / sizeof(late_cases[0]); i++) {
		const struct late_case *c = &late_cases[i];

		snprintf(query, sizeof(query), "%s&state=st%%2B1", c->query);
		fx_authorize(f, FX_USER, query, &out);
		az_check_redirect(c->line, &out, FX_REDIRECT);
		if (strcmp(az_param(&out, "error"), c->error) != 0)
			fail_msg("line %d: Location %s, want error=%s",
			    c->line, out.r.location, c->error);
		if (az_param(&out, "error_description")[0] == '\0' ||
		    strcmp(az_param(&out, "state"), "st+1") != 0 ||
		    strcmp(az_param(&out, "iss"), FX_ISSUER) != 0 ||
		    az_has(&out, "code"))
			fail_msg("line %d: Location %s", c->line,
			    out.r.location);
		fx_resp_free(&out);
	}
	assert_int_equal(fx_token_count(f), tokens);
	assert_int_equal(az_grant_count(f), grants);

	/* A state over STATE_MAX is an error and is not echoed. */
	snprintf(az_long_state, sizeof(az_long_state),
	    "client_id=" FX_CONF "&state=");
	memset(az_long_state + strlen(az_long_state), 's', STATE_MAX + 1);
	snprintf(query, sizeof(query), AZ_OK "&%s", az_long_state);
	fx_authorize(f, FX_USER, query, &out);
	az_check_redirect(__LINE__, &out, FX_REDIRECT);
	assert_string_equal(az_param(&out, "error"), "invalid_request");
	assert_false(az_has(&out, "state"));
	assert_false(az_has(&out, "code"));
	assert_string_equal(az_param(&out, "iss"), FX_ISSUER);
	fx_resp_free(&out);
	/* STATE_MAX bytes are echoed whole. */
	az_long_state[strlen(az_long_state) - 1] = '\0';
	snprintf(query, sizeof(query), AZ_OK "&%s", az_long_state);
	fx_authorize(f, FX_USER, query, &out);
	az_check_redirect(__LINE__, &out, FX_REDIRECT);
	assert_true(az_has(&out, "code"));
	assert_int_equal(strlen(az_param(&out, "state")), STATE_MAX);
	fx_resp_free(&out);
}

/* No issuer can be named: a 500 that says to set OAUTH_ISSUER. */
static void
test_no_issuer(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;

	f->config.issuer = NULL;
	fx_authorize(f, FX_USER, AZ_OK "&client_id=" FX_CONF, &out);
	fx_assert_error(&out, 500, "server_error");
	assert_non_null(strstr(fx_str(&out, "error_description"),
	    "OAUTH_ISSUER"));
	fx_resp_free(&out);
	assert_int_equal(fx_token_count(f), 0);
}

/*
 * A full map: a 302 with temporarily_unavailable, and neither the grant
 * nor the code is left behind.
 */
static void
test_full_map(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;
	size_t tokens, grants;

	(void)fx_fill(f, NULL);
	tokens = fx_token_count(f);
	grants = az_grant_count(f);

	fx_authorize(f, FX_USER, AZ_OK "&client_id=" FX_CONF "&state=full",
	    &out);
	az_check_redirect(__LINE__, &out, FX_REDIRECT);
	assert_string_equal(az_param(&out, "error"), "temporarily_unavailable");
	assert_string_equal(az_param(&out, "state"), "full");
	assert_string_equal(az_param(&out, "iss"), FX_ISSUER);
	assert_false(az_has(&out, "code"));
	fx_resp_free(&out);
	assert_int_equal(fx_token_count(f), tokens);
	assert_int_equal(az_grant_count(f), grants);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_success, az_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_success_encoding,
		    az_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_success_redirect_choice,
		    az_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_success_scope, az_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_success_derived_issuer,
		    az_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_early_errors, az_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_late_errors, az_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_issuer, az_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_full_map, az_setup_tiny,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
