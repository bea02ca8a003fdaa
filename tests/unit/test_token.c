/*
 * token.c, token_code.c, token_refresh.c: POST /token with its three
 * grants, scopes, single-use codes with PKCE, refresh rotation with reuse
 * detection, expiry, and what a full database leaves behind.
 */
#include "handler_fixture.h"

#define TK_CONF_AUTH "&client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET
#define TK_OTHER_AUTH "&client_id=" FX_OTHER "&client_secret=" FX_OTHER_SECRET
#define TK_CC "grant_type=client_credentials"
#define TK_CODE "grant_type=authorization_code&code=@CODE@"
#define TK_V "&code_verifier=" FX_VERIFIER
#define TK_REDIRECT_ENC "https%3A%2F%2Fapp.example%2Fcb"
#define TK_NOREFRESH "code-only"
#define TK_NOREFRESH_SECRET "code-only-secret-0123456789abcdef"
#define TK_PUBALL "pub-all"

static int
tk_setup(void **state)
{
	static const struct fx_client extra[] = {
		{TK_NOREFRESH, TK_NOREFRESH_SECRET, "read",
		    GRANT_AUTHORIZATION_CODE, 0, NULL, {FX_REDIRECT, NULL}},
		{TK_PUBALL, NULL, "read", GRANT_ALL, 0, NULL,
		    {FX_REDIRECT, NULL}},
	};
	size_t i;

	if (fx_setup(state) != 0)
		return -1;
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		fx_add_client(*state, &extra[i]);
	return 0;
}

/* Copies template to out with each "@CODE@" replaced by code. */
static void
tk_subst(const char *template, const char *code, char *out, size_t size)
{
	const char *p, *mark;
	size_t used = 0, n;

	for (p = template; (mark = strstr(p, "@CODE@")) != NULL; p = mark + 6) {
		n = (size_t)(mark - p);
		assert_true(used + n + strlen(code) < size);
		memcpy(out + used, p, n);
		memcpy(out + used + n, code, strlen(code));
		used += n + strlen(code);
	}
	assert_true(used + strlen(p) < size);
	strcpy(out + used, p);
}

/* A code for id from /authorize without PKCE. */
static void
tk_code_plain(struct fx *f, const char *id, char dst[TOKEN_PRESENTED_MAX + 1])
{
	char query[256];
	struct fx_resp out;

	snprintf(query, sizeof(query), "response_type=code&client_id=%s", id);
	fx_authorize(f, FX_USER, query, &out);
	fx_assert_status(&out, 302);
	if (!fx_location_param(&out, "code", dst, TOKEN_PRESENTED_MAX + 1))
		fail_msg("no code in %s", out.r.location);
	fx_resp_free(&out);
}

/* 1 when s is TOKEN_STRING_LEN characters of base64url. */
static int
tk_token_shaped(const char *s)
{
	return s != NULL && strlen(s) == TOKEN_STRING_LEN &&
	    fx_b64url(s, TOKEN_STRING_LEN);
}

/*
 * Checks a successful token response (RFC 6749 §5.1): the members, the
 * headers, the scope granted, and a refresh token exactly when wanted.
 */
static void
tk_check_issued(int line, const struct fx_resp *out, const char *scope,
    int refresh)
{
	fx_check_status(line, out, 200);
	if (out->r.content_type == NULL ||
	    strcmp(out->r.content_type, "application/json") != 0 ||
	    !out->r.no_store || !out->r.no_cache)
		fail_msg("line %d: headers of a token response", line);
	if (!tk_token_shaped(fx_str(out, "access_token")))
		fail_msg("line %d: access_token %s", line, out->r.body.data);
	if (fx_str(out, "token_type") == NULL ||
	    strcmp(fx_str(out, "token_type"), "Bearer") != 0)
		fail_msg("line %d: token_type %s", line, out->r.body.data);
	if (fx_num(out, "expires_in") != FX_ACCESS_TTL)
		fail_msg("line %d: expires_in %s", line, out->r.body.data);
	if (fx_str(out, "scope") == NULL ||
	    strcmp(fx_str(out, "scope"), scope) != 0)
		fail_msg("line %d: scope %s, want \"%s\"", line,
		    out->r.body.data, scope);
	if (refresh && !tk_token_shaped(fx_str(out, "refresh_token")))
		fail_msg("line %d: no refresh_token: %s", line,
		    out->r.body.data);
	if (!refresh && cJSON_GetObjectItem(out->json, "refresh_token") != NULL)
		fail_msg("line %d: unexpected refresh_token", line);
	if (fx_members(out) != 4 + refresh)
		fail_msg("line %d: members of %s", line, out->r.body.data);
	if (refresh && strcmp(fx_str(out, "access_token"),
	    fx_str(out, "refresh_token")) == 0)
		fail_msg("line %d: access and refresh token alike", line);
}

/*
 * Checks out as tk_check_issued does, with a refresh token, copies the
 * pair into t and releases out.
 */
static void
tk_check_pair(int line, struct fx_resp *out, const char *scope,
    struct fx_tokens *t)
{
	tk_check_issued(line, out, scope, 1);
	fx_copy(t->access, out, "access_token");
	fx_copy(t->refresh, out, "refresh_token");
	fx_resp_free(out);
}

/* client_credentials: no refresh token even for a client that may refresh. */
static void
test_cc_issues(void **state)
{
	struct fx *f = *state;
	struct fx_resp out, again;

	fx_post(f, "/token", NULL, TK_CC TK_CONF_AUTH, &out);
	tk_check_issued(__LINE__, &out, "read write admin", 0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET,
	    fx_str(&out, "access_token")), 1);
	/* Each request mints a new token. */
	fx_post(f, "/token", NULL, TK_CC TK_CONF_AUTH, &again);
	tk_check_issued(__LINE__, &again, "read write admin", 0);
	assert_string_not_equal(fx_str(&out, "access_token"),
	    fx_str(&again, "access_token"));
	fx_resp_free(&again);
	fx_resp_free(&out);
	assert_int_equal(fx_token_count(f), 2);
}

struct scope_case {
	int line;
	const char *auth;
	const char *scope;	/* as sent, form-encoded; NULL: none */
	const char *granted;	/* NULL: invalid_scope */
};

/* RFC 6749 §3.3: a subset of the client's scopes, or all of them. */
static const struct scope_case scope_cases[] = {
	{__LINE__, TK_CONF_AUTH, NULL, "read write admin"},
	{__LINE__, TK_CONF_AUTH, "read", "read"},
	{__LINE__, TK_CONF_AUTH, "admin+read", "admin read"},
	{__LINE__, TK_CONF_AUTH, "read+write+admin", "read write admin"},
	{__LINE__, TK_CONF_AUTH, "read+read", "read"},
	{__LINE__, TK_CONF_AUTH, "write+read+write", "write read"},
	/* An empty scope is no scope (RFC 6749 §3.1). */
	{__LINE__, TK_CONF_AUTH, "", "read write admin"},
	{__LINE__, TK_CONF_AUTH, "delete", NULL},
	{__LINE__, TK_CONF_AUTH, "read+delete", NULL},
	{__LINE__, TK_CONF_AUTH, "READ", NULL},
	/* Malformed scopes (RFC 6749 §3.3: single spaces, scope-token). */
	{__LINE__, TK_CONF_AUTH, "read++write", NULL},
	{__LINE__, TK_CONF_AUTH, "+read", NULL},
	{__LINE__, TK_CONF_AUTH, "read+", NULL},
	{__LINE__, TK_CONF_AUTH, "read%09write", NULL},
	{__LINE__, TK_CONF_AUTH, "%22read%22", NULL},
	{__LINE__, TK_CONF_AUTH, "r%C3%A9ad", NULL},
	{__LINE__, TK_CONF_AUTH, "read%5Cwrite", NULL},
	/* A client with no scopes gets "", and nothing else. */
	{__LINE__, "&client_id=" FX_RS "&client_secret=" FX_RS_SECRET, NULL,
	    ""},
	{__LINE__, "&client_id=" FX_RS "&client_secret=" FX_RS_SECRET, "read",
	    NULL},
	{__LINE__, "&client_id=" FX_CC "&client_secret=" FX_CC_SECRET, "read",
	    "read"},
	{__LINE__, "&client_id=" FX_CC "&client_secret=" FX_CC_SECRET, "write",
	    NULL},
};

static void
test_cc_scope(void **state)
{
	struct fx *f = *state;
	size_t i, tokens = 0;

	for (i = 0; i < sizeof(scope_cases) / sizeof(scope_cases[0]); i++) {
		const struct scope_case *c = &scope_cases[i];
		struct fx_resp out;

		if (c->scope != NULL)
			fx_postf(f, "/token", NULL, &out, TK_CC "%s&scope=%s",
			    c->auth, c->scope);
		else
			fx_postf(f, "/token", NULL, &out, TK_CC "%s", c->auth);
		if (c->granted == NULL) {
			fx_check_error(c->line, &out, 400, "invalid_scope");
		} else {
			tk_check_issued(c->line, &out, c->granted, 0);
			tokens++;
		}
		fx_resp_free(&out);
	}
	/* A refused scope minted nothing. */
	assert_int_equal(fx_token_count(f), tokens);
}

/* SCOPE_MAX bytes of scope: the limit holds before any set logic. */
static void
test_cc_scope_too_long(void **state)
{
	struct fx *f = *state;
	char scope[SCOPE_MAX + 2];
	struct fx_resp out;

	memset(scope, 'a', SCOPE_MAX + 1);
	scope[SCOPE_MAX + 1] = '\0';
	fx_postf(f, "/token", NULL, &out, TK_CC TK_CONF_AUTH "&scope=%s",
	    scope);
	fx_assert_error(&out, 400, "invalid_scope");
	fx_resp_free(&out);
}

/* A row without an error code issues a token. */
static const struct fx_error_case request_cases[] = {
	{__LINE__, "application/x-www-form-urlencoded", TK_CC TK_CONF_AUTH,
	    200, NULL},
	{__LINE__, "application/x-www-form-urlencoded; charset=UTF-8",
	    TK_CC TK_CONF_AUTH, 200, NULL},
	{__LINE__, "application/json",
	    "{\"grant_type\":\"client_credentials\",\"client_id\":\"" FX_CONF
	    "\",\"client_secret\":\"" FX_CONF_SECRET "\"}", 200, NULL},
	/* grant_type: required, and one of three, compared exactly. */
	{__LINE__, "application/x-www-form-urlencoded", TK_CONF_AUTH + 1, 400,
	    "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "grant_type=" TK_CONF_AUTH, 400, "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "grant_type=password&username=a&password=b" TK_CONF_AUTH, 400,
	    "unsupported_grant_type"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "grant_type=implicit" TK_CONF_AUTH, 400, "unsupported_grant_type"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "grant_type=CLIENT_CREDENTIALS" TK_CONF_AUTH, 400,
	    "unsupported_grant_type"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "grant_type=client_credentials+" TK_CONF_AUTH, 400,
	    "unsupported_grant_type"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
	    TK_CONF_AUTH, 400, "unsupported_grant_type"},
	/* The grant type is judged before the client: no 401 for it. */
	{__LINE__, "application/x-www-form-urlencoded", "grant_type=password",
	    400, "unsupported_grant_type"},
	{__LINE__, "application/x-www-form-urlencoded", TK_CC, 401,
	    "invalid_client"},
	/* Repeated parameters (RFC 6749 §3.2). */
	{__LINE__, "application/x-www-form-urlencoded",
	    TK_CC "&" TK_CC TK_CONF_AUTH, 400, "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded",
	    TK_CC TK_CONF_AUTH "&scope=read&scope=write", 400,
	    "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded",
	    TK_CC TK_CONF_AUTH "&client_id=" FX_CONF, 400, "invalid_request"},
	/* Content types other than the two. */
	{__LINE__, NULL, TK_CC TK_CONF_AUTH, 400, "invalid_request"},
	{__LINE__, "", TK_CC TK_CONF_AUTH, 400, "invalid_request"},
	{__LINE__, "text/plain", TK_CC TK_CONF_AUTH, 400, "invalid_request"},
	{__LINE__, "multipart/form-data; boundary=x", TK_CC TK_CONF_AUTH, 400,
	    "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded; charset=latin1",
	    TK_CC TK_CONF_AUTH, 400, "invalid_request"},
	{__LINE__, "application/json", TK_CC TK_CONF_AUTH, 400,
	    "invalid_request"},
	{__LINE__, "application/json", "[\"client_credentials\"]", 400,
	    "invalid_request"},
	{__LINE__, "application/json",
	    "{\"grant_type\":\"client_credentials\",\"client_id\":\"" FX_CONF
	    "\",\"client_secret\":7}", 400, "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded", "", 400,
	    "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded", "grant_type", 400,
	    "invalid_request"},
	/* Grant types the client is not registered for. */
	{__LINE__, "application/x-www-form-urlencoded",
	    TK_CC "&client_id=" FX_PUB, 400, "unauthorized_client"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "grant_type=refresh_token&refresh_token=x&client_id=" FX_RS
	    "&client_secret=" FX_RS_SECRET, 400, "unauthorized_client"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "grant_type=authorization_code&code=x&client_id=" FX_CC
	    "&client_secret=" FX_CC_SECRET, 400, "unauthorized_client"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "grant_type=refresh_token&refresh_token=x&client_id=" TK_NOREFRESH
	    "&client_secret=" TK_NOREFRESH_SECRET, 400, "unauthorized_client"},
	/* Public clients never use client_credentials (RFC 6749 §4.4). */
	{__LINE__, "application/x-www-form-urlencoded",
	    TK_CC "&client_id=" TK_PUBALL, 400, "unauthorized_client"},
	/* Each grant's own required parameter. */
	{__LINE__, "application/x-www-form-urlencoded",
	    "grant_type=authorization_code" TK_CONF_AUTH TK_V, 400,
	    "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "grant_type=authorization_code&code=" TK_CONF_AUTH TK_V, 400,
	    "invalid_request"},
	{__LINE__, "application/x-www-form-urlencoded",
	    "grant_type=refresh_token" TK_CONF_AUTH, 400, "invalid_request"},
};

static void
test_token_requests(void **state)
{
	struct fx *f = *state;
	size_t i, issued = 0;

	for (i = 0; i < sizeof(request_cases) / sizeof(request_cases[0]); i++) {
		const struct fx_error_case *c = &request_cases[i];
		struct fx_resp out;

		fx_post_type(f, "/token", c->content_type, c->body, &out);
		if (c->code == NULL) {
			tk_check_issued(c->line, &out, "read write admin", 0);
			issued++;
		} else {
			fx_check_error(c->line, &out, c->status, c->code);
		}
		fx_resp_free(&out);
	}
	assert_int_equal(fx_token_count(f), issued);
}

struct code_case {
	int line;
	const char *id;		/* client that asks /authorize */
	int pkce;		/* FX_CHALLENGE sent to /authorize */
	const char *extra;	/* more /authorize parameters, or NULL */
	const char *body;	/* /token body, "@CODE@" for the code */
	const char *code;	/* NULL: tokens issued */
	int status;
};

static const struct code_case code_cases[] = {
	{__LINE__, FX_CONF, 1, NULL, TK_CODE TK_CONF_AUTH TK_V, NULL, 200},
	{__LINE__, FX_PUB, 1, NULL, TK_CODE "&client_id=" FX_PUB TK_V, NULL,
	    200},
	{__LINE__, FX_CONF, 0, NULL, TK_CODE TK_CONF_AUTH, NULL, 200},
	/* PKCE (RFC 7636 §4.6): the verifier must hash to the challenge. */
	{__LINE__, FX_CONF, 1, NULL, TK_CODE TK_CONF_AUTH, "invalid_grant",
	    400},
	{__LINE__, FX_PUB, 1, NULL, TK_CODE "&client_id=" FX_PUB,
	    "invalid_grant", 400},
	{__LINE__, FX_CONF, 1, NULL, TK_CODE TK_CONF_AUTH
	    "&code_verifier=eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
	    "invalid_grant", 400},
	{__LINE__, FX_CONF, 1, NULL, TK_CODE TK_CONF_AUTH "&code_verifier="
	    FX_CHALLENGE, "invalid_grant", 400},
	{__LINE__, FX_CONF, 1, NULL, TK_CODE TK_CONF_AUTH "&code_verifier="
	    FX_VERIFIER "A", "invalid_grant", 400},
	{__LINE__, FX_CONF, 1, NULL, TK_CODE TK_CONF_AUTH
	    "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX",
	    "invalid_grant", 400},
	/* A verifier where no challenge was made is refused too. */
	{__LINE__, FX_CONF, 0, NULL, TK_CODE TK_CONF_AUTH TK_V,
	    "invalid_grant", 400},
	/* The code is bound to its client. */
	{__LINE__, FX_CONF, 1, NULL, TK_CODE TK_OTHER_AUTH TK_V,
	    "invalid_grant", 400},
	{__LINE__, FX_PUB, 1, NULL, TK_CODE TK_CONF_AUTH TK_V,
	    "invalid_grant", 400},
	{__LINE__, FX_CONF, 1, NULL, TK_CODE "&client_id=" FX_CONF TK_V,
	    "invalid_client", 401},
	/* redirect_uri (RFC 6749 §4.1.3). */
	{__LINE__, FX_CONF, 1, NULL,
	    TK_CODE TK_CONF_AUTH TK_V "&redirect_uri=" TK_REDIRECT_ENC, NULL,
	    200},
	{__LINE__, FX_CONF, 1, NULL, TK_CODE TK_CONF_AUTH TK_V
	    "&redirect_uri=https%3A%2F%2Fapp.example%2Fother",
	    "invalid_grant", 400},
	{__LINE__, FX_CONF, 1, "redirect_uri=" TK_REDIRECT_ENC,
	    TK_CODE TK_CONF_AUTH TK_V "&redirect_uri=" TK_REDIRECT_ENC, NULL,
	    200},
	{__LINE__, FX_CONF, 1, "redirect_uri=" TK_REDIRECT_ENC,
	    TK_CODE TK_CONF_AUTH TK_V, "invalid_grant", 400},
	{__LINE__, FX_CONF, 1, "redirect_uri=" TK_REDIRECT_ENC,
	    TK_CODE TK_CONF_AUTH TK_V "&redirect_uri=" TK_REDIRECT_ENC "%2F",
	    "invalid_grant", 400},
	{__LINE__, FX_CONF, 1, "redirect_uri=" TK_REDIRECT_ENC,
	    TK_CODE TK_CONF_AUTH TK_V
	    "&redirect_uri=HTTPS%3A%2F%2Fapp.example%2Fcb", "invalid_grant",
	    400},
	/* Codes that are not codes. */
	{__LINE__, FX_CONF, 1, NULL,
	    "grant_type=authorization_code&code=@CODE@x" TK_CONF_AUTH TK_V,
	    "invalid_grant", 400},
	{__LINE__, FX_CONF, 1, NULL,
	    "grant_type=authorization_code&code=x@CODE@" TK_CONF_AUTH TK_V,
	    "invalid_grant", 400},
	{__LINE__, FX_CONF, 1, NULL,
	    "grant_type=authorization_code&code=abc" TK_CONF_AUTH TK_V,
	    "invalid_grant", 400},
	{__LINE__, FX_CONF, 1, NULL,
	    "grant_type=refresh_token&refresh_token=@CODE@" TK_CONF_AUTH,
	    "invalid_grant", 400},
};

/*
 * The authorization_code grant, one fresh code per row; the code's scope
 * is the client's whole scope and a refresh token comes with it.
 */
static void
test_code_table(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1], body[FX_BODY_MAX];
	size_t i;

	for (i = 0; i < sizeof(code_cases) / sizeof(code_cases[0]); i++) {
		const struct code_case *c = &code_cases[i];
		struct fx_resp out;
		size_t before;

		if (c->pkce)
			fx_code(f, c->id, c->extra, code);
		else
			tk_code_plain(f, c->id, code);
		before = fx_token_count(f);
		tk_subst(c->body, code, body, sizeof(body));
		fx_post(f, "/token", NULL, body, &out);
		if (c->code == NULL) {
			tk_check_issued(c->line, &out,
			    strcmp(c->id, FX_PUB) == 0 ? "read write"
						       : "read write admin",
			    1);
			assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET,
			    fx_str(&out, "access_token")), 1);
			if (fx_token_count(f) != before + 2)
				fail_msg("line %d: %zu tokens, want %zu",
				    c->line, fx_token_count(f), before + 2);
		} else {
			fx_check_error(c->line, &out, c->status, c->code);
			/* A refused redemption wrote nothing. */
			if (fx_token_count(f) != before)
				fail_msg("line %d: tokens written", c->line);
		}
		fx_resp_free(&out);
	}
}

/* The tokens of a code carry its user, and the scope asked for. */
static void
test_code_scope_and_user(void **state)
{
	struct fx *f = *state;
	struct fx_tokens t;
	struct fx_resp out;
	char code[TOKEN_PRESENTED_MAX + 1];

	fx_code(f, FX_CONF, "scope=admin", code);
	fx_redeem(f, FX_CONF, FX_CONF_SECRET, code, &out);
	tk_check_issued(__LINE__, &out, "admin", 1);
	fx_resp_free(&out);

	/* A client that may not refresh gets no refresh token. */
	fx_code_flow(f, TK_NOREFRESH, TK_NOREFRESH_SECRET, NULL, &t);
	assert_true(tk_token_shaped(t.access));
	assert_string_equal(t.refresh, "");
	fx_postf(f, "/introspect", NULL, &out, "client_id=" TK_NOREFRESH
	    "&client_secret=" TK_NOREFRESH_SECRET "&token=%s", t.access);
	fx_assert_status(&out, 200);
	assert_string_equal(fx_str(&out, "sub"), FX_USER);
	assert_string_equal(fx_str(&out, "username"), FX_USER);
	assert_string_equal(fx_str(&out, "scope"), "read");
	fx_resp_free(&out);
}

/*
 * A code works once; a second use is invalid_grant and revokes what the
 * first use issued, and what was refreshed from it (RFC 6749 §4.1.2).
 */
static void
test_code_replay_revokes(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1];
	struct fx_tokens first, rotated, unrelated;
	struct fx_resp out;

	fx_code_flow(f, FX_PUB, NULL, NULL, &unrelated);
	fx_code(f, FX_PUB, NULL, code);
	fx_redeem(f, FX_PUB, NULL, code, &out);
	tk_check_pair(__LINE__, &out, "read write", &first);
	fx_refresh(f, FX_PUB, NULL, first.refresh, NULL, &out);
	tk_check_pair(__LINE__, &out, "read write", &rotated);
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, first.access), 1);
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, rotated.access), 1);

	fx_redeem(f, FX_PUB, NULL, code, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, first.access), 0);
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, rotated.access), 0);
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, rotated.refresh), 0);
	fx_refresh(f, FX_PUB, NULL, rotated.refresh, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	/* A third use is refused the same way. */
	fx_redeem(f, FX_PUB, NULL, code, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	/* Another authorization of the same user and client is untouched. */
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, unrelated.access), 1);
	assert_int_equal(fx_introspect(f, FX_PUB, NULL, unrelated.refresh), 1);
}

/* A code lives OAUTH_CODE_TTL seconds. */
static void
test_code_expires(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;

	fx_code(f, FX_CONF, NULL, code);
	f->now += FX_CODE_TTL - 1;
	fx_redeem(f, FX_CONF, FX_CONF_SECRET, code, &out);
	tk_check_issued(__LINE__, &out, "read write admin", 1);
	fx_resp_free(&out);

	fx_code(f, FX_CONF, NULL, code);
	f->now += FX_CODE_TTL;
	fx_redeem(f, FX_CONF, FX_CONF_SECRET, code, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
}

/* A code refused for a mistake stays good for the right request. */
static void
test_code_survives_refusal(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1], body[FX_BODY_MAX];
	struct fx_resp out;

	fx_code(f, FX_CONF, NULL, code);
	tk_subst(TK_CODE TK_OTHER_AUTH TK_V, code, body, sizeof(body));
	fx_post(f, "/token", NULL, body, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	fx_redeem(f, FX_CONF, FX_CONF_SECRET, code, &out);
	tk_check_issued(__LINE__, &out, "read write admin", 1);
	fx_resp_free(&out);
}

/* Access tokens live OAUTH_ACCESS_TTL seconds; refresh tokens longer. */
static void
test_token_expiry(void **state)
{
	struct fx *f = *state;
	char cc[TOKEN_PRESENTED_MAX + 1];
	struct fx_tokens t;
	struct fx_resp out;

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, cc);
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &t);
	f->now = UNIT_NOW + FX_ACCESS_TTL - 1;
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, cc), 1);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.access),
	    1);
	f->now = UNIT_NOW + FX_ACCESS_TTL;
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, cc), 0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.access),
	    0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.refresh),
	    1);

	/* The refresh token still works, until its own end. */
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	tk_check_issued(__LINE__, &out, "read write admin", 1);
	fx_copy(t.refresh, &out, "refresh_token");
	fx_resp_free(&out);
	f->now += FX_REFRESH_TTL;
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
}

/*
 * Refresh tokens rotate: each use returns a new pair; presenting a used one
 * is invalid_grant and revokes the grant (RFC 9700 §4.14.2).
 */
static void
test_refresh_rotation_and_reuse(void **state)
{
	struct fx *f = *state;
	struct fx_tokens a, b, c, other;
	struct fx_resp out;

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &a);
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &other);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, a.refresh, NULL, &out);
	tk_check_pair(__LINE__, &out, "read write admin", &b);
	assert_string_not_equal(a.refresh, b.refresh);
	assert_string_not_equal(a.access, b.access);
	/* The old refresh token is no longer active; its access token is. */
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, a.refresh),
	    0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, a.access),
	    1);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, b.refresh, NULL, &out);
	tk_check_pair(__LINE__, &out, "read write admin", &c);

	/* Reuse of a: the whole grant ends. */
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, a.refresh, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, a.access),
	    0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, b.access),
	    0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, c.access),
	    0);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, c.refresh),
	    0);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, c.refresh, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	/* Another grant of the same client is untouched. */
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET,
	    other.access), 1);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, other.refresh, NULL, &out);
	tk_check_issued(__LINE__, &out, "read write admin", 1);
	fx_resp_free(&out);
}

/* A refresh may narrow the scope, never widen it (RFC 6749 §6). */
static void
test_refresh_scope(void **state)
{
	struct fx *f = *state;
	struct fx_tokens t;
	struct fx_resp out;
	char narrowed[TOKEN_PRESENTED_MAX + 1];

	fx_code_flow(f, FX_PUB, NULL, "scope=read+write", &t);
	fx_refresh(f, FX_PUB, NULL, t.refresh, "write+admin", &out);
	fx_assert_error(&out, 400, "invalid_scope");
	fx_resp_free(&out);
	fx_refresh(f, FX_PUB, NULL, t.refresh, "read%09write", &out);
	fx_assert_error(&out, 400, "invalid_scope");
	fx_resp_free(&out);
	/* Refused for its scope, the refresh token was not used up. */
	fx_refresh(f, FX_PUB, NULL, t.refresh, "read", &out);
	tk_check_issued(__LINE__, &out, "read", 1);
	fx_copy(narrowed, &out, "access_token");
	fx_copy(t.refresh, &out, "refresh_token");
	fx_resp_free(&out);
	{
		struct fx_resp in;

		fx_postf(f, "/introspect", NULL, &in,
		    "client_id=" FX_PUB "&token=%s", narrowed);
		assert_string_equal(fx_str(&in, "scope"), "read");
		fx_resp_free(&in);
		/* The new refresh token keeps the grant's scope. */
		fx_postf(f, "/introspect", NULL, &in,
		    "client_id=" FX_PUB "&token=%s", t.refresh);
		assert_string_equal(fx_str(&in, "scope"), "read write");
		fx_resp_free(&in);
	}
	fx_refresh(f, FX_PUB, NULL, t.refresh, NULL, &out);
	tk_check_issued(__LINE__, &out, "read write", 1);
	fx_copy(t.refresh, &out, "refresh_token");
	fx_resp_free(&out);

	/* A narrower authorization cannot be widened by refreshing. */
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, "scope=read", &t);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, "read+write", &out);
	fx_assert_error(&out, 400, "invalid_scope");
	fx_resp_free(&out);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, "read+read", &out);
	tk_check_issued(__LINE__, &out, "read", 1);
	fx_resp_free(&out);
}

/* What is not a live refresh token of this client is invalid_grant. */
static void
test_refresh_refused(void **state)
{
	struct fx *f = *state;
	struct fx_tokens t;
	struct fx_resp out;
	char cc[TOKEN_PRESENTED_MAX + 1], code[TOKEN_PRESENTED_MAX + 1];
	char long_token[TOKEN_PRESENTED_MAX + 2];
	const struct {
		int line;
		const char *id, *secret, *token;
	} cases[] = {
		/* Another client's: refused, and left good for its owner. */
		{__LINE__, FX_OTHER, FX_OTHER_SECRET, t.refresh},
		/* Access tokens and codes are not refresh tokens. */
		{__LINE__, FX_CONF, FX_CONF_SECRET, t.access},
		{__LINE__, FX_CONF, FX_CONF_SECRET, cc},
		{__LINE__, FX_CONF, FX_CONF_SECRET, code},
		{__LINE__, FX_CONF, FX_CONF_SECRET, "unknown"},
		{__LINE__, FX_CONF, FX_CONF_SECRET, long_token},
	};
	size_t i;

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &t);
	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, cc);
	fx_code(f, FX_CONF, NULL, code);
	fx_overlong_token(long_token);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx_refresh(f, cases[i].id, cases[i].secret, cases[i].token,
		    NULL, &out);
		fx_check_error(cases[i].line, &out, 400, "invalid_grant");
		fx_resp_free(&out);
	}
	/* None of that used up the real one, nor the code. */
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.access),
	    1);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	tk_check_issued(__LINE__, &out, "read write admin", 1);
	fx_copy(t.refresh, &out, "refresh_token");
	fx_resp_free(&out);
	fx_redeem(f, FX_CONF, FX_CONF_SECRET, code, &out);
	tk_check_issued(__LINE__, &out, "read write admin", 1);
	fx_resp_free(&out);

	/* A revoked refresh token is refused. */
	fx_postf(f, "/revoke", NULL, &out,
	    "token=%s" TK_CONF_AUTH, t.refresh);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
}

/*
 * Makes room: a full map cannot even free pages (deleting is a write), so
 * the environment is reopened with a larger map, as an operator would.
 */
static void
tk_grow(struct fx *f)
{
	store_close(f->store);
	assert_int_equal(store_open(f->dir, FX_MAP_DEFAULT, 0, &f->store, NULL, 0),
	    STORE_OK);
	f->env.store = f->store;
}

/*
 * A full map: token issuance is 503 temporarily_unavailable, nothing
 * half-written remains, and what was issued before still works.
 */
static void
test_full_map_client_credentials(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;
	char **tokens;
	size_t n, i;

	n = fx_fill(f, &tokens);
	assert_true(n > 0);
	/* The failed request left no token behind. */
	assert_int_equal(fx_token_count(f), n);
	for (i = 0; i < n; i++)
		if (!fx_introspect(f, FX_CONF, FX_CONF_SECRET, tokens[i]))
			fail_msg("token %zu of %zu inactive", i, n);
	/*
	 * The store tidies up after a full map (stale readers, a map grown
	 * elsewhere), so a retry may find the room the failed request
	 * lacked; either way it stays consistent.
	 */
	fx_post(f, "/token", NULL, TK_CC TK_CONF_AUTH, &out);
	if (out.r.status == 200)
		n++;
	else
		fx_assert_error(&out, 503, "temporarily_unavailable");
	fx_resp_free(&out);
	assert_int_equal(fx_token_count(f), n);
	/* Room made, issuance resumes and the earlier tokens are there. */
	tk_grow(f);
	fx_post(f, "/token", NULL, TK_CC TK_CONF_AUTH, &out);
	tk_check_issued(__LINE__, &out, "read write admin", 0);
	fx_resp_free(&out);
	assert_int_equal(fx_token_count(f), n + 1);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, tokens[0]),
	    1);
	fx_fill_free(tokens);
}

/*
 * A full map during a code redemption and a refresh: 503, the code is not
 * used up, the refresh token not rotated, and both work once there is
 * room again.
 */
static void
test_full_map_code_and_refresh(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1];
	struct fx_tokens t;
	struct fx_resp out;
	char **tokens;
	size_t before;

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &t);
	fx_code(f, FX_CONF, NULL, code);
	assert_true(fx_fill(f, &tokens) > 0);
	before = fx_token_count(f);

	fx_redeem(f, FX_CONF, FX_CONF_SECRET, code, &out);
	fx_assert_error(&out, 503, "temporarily_unavailable");
	fx_resp_free(&out);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_assert_error(&out, 503, "temporarily_unavailable");
	fx_resp_free(&out);
	assert_int_equal(fx_token_count(f), before);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.access),
	    1);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.refresh),
	    1);

	tk_grow(f);
	fx_fill_free(tokens);
	/* Neither failed request counted as a use: no reuse detection. */
	fx_redeem(f, FX_CONF, FX_CONF_SECRET, code, &out);
	tk_check_issued(__LINE__, &out, "read write admin", 1);
	fx_resp_free(&out);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	tk_check_issued(__LINE__, &out, "read write admin", 1);
	fx_resp_free(&out);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.access),
	    1);
}

struct token_scope_case {
	int line;
	const char *requested;
	const char *allowed;
	enum oauth_error err;
	const char *granted;
};

static const struct token_scope_case token_scope_cases[] = {
	{__LINE__, NULL, "a b", OAUTH_OK, "a b"},
	{__LINE__, NULL, "", OAUTH_OK, ""},
	{__LINE__, NULL, NULL, OAUTH_OK, ""},
	{__LINE__, "b", "a b", OAUTH_OK, "b"},
	{__LINE__, "b a b", "a b", OAUTH_OK, "b a"},
	{__LINE__, "c", "a b", OAUTH_INVALID_SCOPE, NULL},
	{__LINE__, "a", "", OAUTH_INVALID_SCOPE, NULL},
	{__LINE__, "a", NULL, OAUTH_INVALID_SCOPE, NULL},
	{__LINE__, "a  b", "a b", OAUTH_INVALID_SCOPE, NULL},
	{__LINE__, "a\"", "a\"", OAUTH_INVALID_SCOPE, NULL},
};

/* token_scope: the rule shared by every grant and /authorize. */
static void
test_token_scope(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(token_scope_cases) /
	    sizeof(token_scope_cases[0]); i++) {
		const struct token_scope_case *c = &token_scope_cases[i];
		const char *why = NULL;
		char *got = (char *)"unset";
		enum oauth_error err;

		err = token_scope(c->requested, c->allowed, &got, &why);
		if (err != c->err)
			fail_msg("line %d: error %d", c->line, (int)err);
		if (err == OAUTH_OK && strcmp(got, c->granted) != 0)
			fail_msg("line %d: granted \"%s\"", c->line, got);
		if (err != OAUTH_OK && (got != NULL || why == NULL))
			fail_msg("line %d: failure output", c->line);
		free(got);
	}
}

/*
 * A code presented again after its lifetime, and after a purge, is still
 * recognised as a replay and ends the grant (RFC 6749 §4.1.2): purge keeps
 * a spent code while its grant lives, and drops it with the grant.
 */
static void
test_code_replay_after_purge(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1], access[TOKEN_PRESENTED_MAX + 1];
	struct store_purged p;
	struct fx_resp out;

	fx_code(f, FX_CONF, NULL, code);
	fx_redeem(f, FX_CONF, FX_CONF_SECRET, code, &out);
	fx_assert_status(&out, 200);
	fx_copy(access, &out, "access_token");
	fx_resp_free(&out);

	f->now += FX_CODE_TTL + 10;
	assert_int_equal(store_purge(f->store, f->now, &p), STORE_OK);
	assert_int_equal(p.codes, 0);
	fx_redeem(f, FX_CONF, FX_CONF_SECRET, code, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, access), 0);

	/* Once the grant has expired, purge drops the grant and the code. */
	f->now += FX_REFRESH_TTL + 10;
	assert_int_equal(store_purge(f->store, f->now, &p), STORE_OK);
	assert_int_equal(p.codes, 1);
	assert_int_equal(p.grants, 1);
	assert_int_equal(fx_token_count(f), 0);
}

/*
 * Refresh tokens slide, but not past the grant's absolute lifetime
 * (OAUTH_GRANT_TTL): tokens issued near its end expire at it, and a
 * refresh after it is invalid_grant.
 */
static void
test_grant_lifetime(void **state)
{
	struct fx *f = *state;
	struct fx_tokens t;
	struct fx_resp out;
	int64_t end = f->now + FX_GRANT_TTL, day = 24 * 3600;

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &t);
	while (f->now + 10 * day < end) {
		f->now += 10 * day;
		fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
		fx_assert_status(&out, 200);
		fx_copy(t.refresh, &out, "refresh_token");
		fx_copy(t.access, &out, "access_token");
		fx_resp_free(&out);
	}
	/* Twenty days in: the refresh token expires with the grant. */
	fx_present(f, "/introspect", "&client_id=" FX_CONF
	    "&client_secret=" FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_assert_status(&out, 200);
	assert_true(fx_num(&out, "exp") == (double)end);
	fx_resp_free(&out);
	/* An hour before the end, the access token gets what is left. */
	f->now = end - 1800;
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_assert_status(&out, 200);
	assert_true(fx_num(&out, "expires_in") == 1800.0);
	fx_copy(t.refresh, &out, "refresh_token");
	fx_resp_free(&out);
	/* At the end: no more tokens from this grant. */
	f->now = end;
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cc_issues, tk_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_cc_scope, tk_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_cc_scope_too_long,
		    tk_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_token_requests, tk_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_code_table, tk_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_code_scope_and_user,
		    tk_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_code_replay_revokes,
		    tk_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_code_expires, tk_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_code_survives_refusal,
		    tk_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_token_expiry, tk_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_refresh_rotation_and_reuse, tk_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_refresh_scope, tk_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_refresh_refused, tk_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_full_map_client_credentials, fx_setup_tiny,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_full_map_code_and_refresh, fx_setup_tiny, fx_teardown),
		cmocka_unit_test(test_token_scope),
		cmocka_unit_test_setup_teardown(test_code_replay_after_purge,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_grant_lifetime, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
