/*
 * OpenID Connect: the ID Token of the code flow and of refresh (Core 1.0
 * §2, §3.1.3.6, §12.2), the openid parameters of /authorize (§3.1.2.1,
 * §3.1.2.6), the signing key set and its rotation, GET /jwks (RFC 7517),
 * discovery (Discovery 1.0 §3) and /userinfo (Core §5.3, RFC 6750 §3).
 * Every ID Token is verified with the public key /jwks publishes, rebuilt
 * from its n and e, never with the private key that signed it.
 */
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "handler_fixture.h"

#define OIDC_KEYS 2		/* RSA keys made once per run */
#define OIDC_PAST (UNIT_NOW - 86400)
#define OIDC_QUERY_MAX 4096
#define OIDC_AT_HASH_LEN 22	/* base64url of 16 bytes */
#define OIDC_OPENID_CONF "/.well-known/openid-configuration"
#define OIDC_WWW_INVALID "Bearer error=\"invalid_token\""

/* The private keys of the run: RSA generation takes ~100 ms each. */
static char *oidc_pems[OIDC_KEYS];

/* The PEM of key i, generated the first time it is asked for. */
static const char *
oidc_pem(size_t i)
{
	struct buf pem = {0};

	assert_true(i < OIDC_KEYS);
	if (oidc_pems[i] == NULL) {
		assert_int_equal(jose_key_generate(JOSE_ALG_RS256, &pem), 0);
		assert_non_null(oidc_pems[i] = buf_steal(&pem));
	}
	return oidc_pems[i];
}

/* Stores key i with times t and copies its kid to kid. */
static void
oidc_add_key(struct fx *f, size_t i, int64_t created_at, int64_t sign_from,
    int64_t drop_at, char kid[JOSE_KID_LEN + 1])
{
	const struct fx_key_times t = {created_at, sign_from, 0, drop_at};

	fx_add_key(f, JOSE_ALG_RS256, oidc_pem(i), &t, kid);
}

/* The standard fixture and key 0, published and signing since long ago. */
static int
oidc_setup(void **state)
{
	if (fx_setup(state) != 0)
		return -1;
	oidc_add_key(*state, 0, OIDC_PAST, OIDC_PAST, 0, NULL);
	return 0;
}

/* The kid of key i. */
static void
oidc_kid(size_t i, char kid[JOSE_KID_LEN + 1])
{
	EVP_PKEY *pkey;
	const char *pem = oidc_pem(i);

	assert_int_equal(jose_key_parse(JOSE_ALG_RS256, pem, strlen(pem),
	    &pkey), 0);
	assert_int_equal(jose_key_thumbprint(pkey, JOSE_ALG_RS256, kid), 0);
	jose_key_free(pkey);
}

/* GETs path with no other request field set. */
static void
oidc_get(struct fx *f, const char *path, struct fx_resp *out)
{
	fx_run(f, &(const struct fx_req){.method = "GET", .path = path}, out);
}

/* The member name of jwk decoded from base64url into a new BIGNUM. */
static BIGNUM *
oidc_bn(const cJSON *jwk, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(jwk, name);
	unsigned char bytes[JOSE_SIG_MAX];
	size_t len;
	BIGNUM *bn;

	if (!cJSON_IsString(v))
		fail_msg("JWK without \"%s\"", name);
	assert_int_equal(jose_b64url_decode(v->valuestring,
	    strlen(v->valuestring), bytes, sizeof(bytes), &len), 0);
	assert_non_null(bn = BN_bin2bn(bytes, (int)len, NULL));
	return bn;
}

/*
 * The public RSA key that GET /jwks publishes under kid, built from its n
 * and e alone.  Fails the test when /jwks does not list kid.
 */
static EVP_PKEY *
oidc_jwks_key(struct fx *f, const char *kid)
{
	struct fx_resp out;
	const cJSON *jwk, *found = NULL, *v;
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n, *e;

	oidc_get(f, "/jwks", &out);
	fx_assert_status(&out, 200);
	cJSON_ArrayForEach(jwk, cJSON_GetObjectItemCaseSensitive(out.json,
	    "keys")) {
		v = cJSON_GetObjectItemCaseSensitive(jwk, "kid");
		if (cJSON_IsString(v) && strcmp(v->valuestring, kid) == 0)
			found = jwk;
	}
	if (found == NULL)
		fail_msg("/jwks does not list %s: %s", kid, out.r.body.data);
	n = oidc_bn(found, "n");
	e = oidc_bn(found, "e");
	assert_non_null(bld = OSSL_PARAM_BLD_new());
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n),
	    1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e),
	    1);
	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_non_null(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	fx_resp_free(&out);
	return pkey;
}

/*
 * Verifies the ID Token jws with the key /jwks publishes under kid: RS256,
 * header kid and typ "JWT".  Returns its claims (the caller's to
 * cJSON_Delete).
 */
static cJSON *
oidc_verify(int line, struct fx *f, const char *jws, const char *kid)
{
	EVP_PKEY *pkey = oidc_jwks_key(f, kid);
	struct buf payload = {0};
	cJSON *header = NULL, *claims;
	const cJSON *v;

	if (jose_verify(pkey, JOSE_ALG_RS256, jws, strlen(jws), &header,
	    &payload) != 0)
		fail_msg("line %d: the id_token does not verify with %s", line,
		    kid);
	v = cJSON_GetObjectItemCaseSensitive(header, "kid");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, kid) != 0)
		fail_msg("line %d: header kid is not %s", line, kid);
	v = cJSON_GetObjectItemCaseSensitive(header, "typ");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "JWT") != 0)
		fail_msg("line %d: header typ is not JWT", line);
	v = cJSON_GetObjectItemCaseSensitive(header, "alg");
	assert_true(cJSON_IsString(v) && strcmp(v->valuestring, "RS256") == 0);
	claims = cJSON_ParseWithLength(payload.data, payload.len);
	if (!cJSON_IsObject(claims))
		fail_msg("line %d: the payload is not a JSON object", line);
	cJSON_Delete(header);
	buf_free(&payload);
	jose_key_free(pkey);
	return claims;
}

/* The ID Token claims a test expects. */
struct oidc_want {
	const char *aud;	/* the client */
	const char *access;	/* the access token issued beside it */
	const char *nonce;	/* NULL: there must be none */
	int64_t iat;
	int64_t auth_time;
};

/* The string claim name of claims, or NULL. */
static const char *
oidc_claim_str(const cJSON *claims, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The number claim name of claims; fails when absent or not a number. */
static int64_t
oidc_claim_num(int line, const cJSON *claims, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);

	if (!cJSON_IsNumber(v))
		fail_msg("line %d: no number claim %s", line, name);
	return (int64_t)v->valuedouble;
}

/* at_hash (Core §3.1.3.6): base64url of the left half of SHA-256(access). */
static void
oidc_at_hash(const char *access, char out[OIDC_AT_HASH_LEN + 1])
{
	unsigned char digest[TOKEN_HASH_LEN];

	assert_int_equal(crypto_sha256(access, strlen(access), digest), 0);
	assert_int_equal(b64url_encode(digest, sizeof(digest) / 2, out,
	    OIDC_AT_HASH_LEN + 1), OIDC_AT_HASH_LEN);
}

/* Checks the claims of an ID Token against w (Core §2, §3.1.3.6). */
static void
oidc_check_claims(int line, const cJSON *claims, const struct oidc_want *w)
{
	char at_hash[OIDC_AT_HASH_LEN + 1];
	const char *s;

	if ((s = oidc_claim_str(claims, "iss")) == NULL ||
	    strcmp(s, FX_ISSUER) != 0)
		fail_msg("line %d: iss is %s", line, s != NULL ? s : "absent");
	if ((s = oidc_claim_str(claims, "sub")) == NULL ||
	    strcmp(s, FX_USER) != 0)
		fail_msg("line %d: sub is %s", line, s != NULL ? s : "absent");
	/* §2: aud holds the client_id, a string when it is the only one. */
	if ((s = oidc_claim_str(claims, "aud")) == NULL ||
	    strcmp(s, w->aud) != 0)
		fail_msg("line %d: aud is %s", line, s != NULL ? s : "absent");
	if (oidc_claim_num(line, claims, "iat") != w->iat)
		fail_msg("line %d: iat is not the clock", line);
	if (oidc_claim_num(line, claims, "exp") - w->iat != FX_ACCESS_TTL)
		fail_msg("line %d: exp - iat is not the access TTL", line);
	if (oidc_claim_num(line, claims, "auth_time") != w->auth_time)
		fail_msg("line %d: auth_time is not that of /authorize", line);
	s = oidc_claim_str(claims, "nonce");
	if (w->nonce == NULL && cJSON_GetObjectItemCaseSensitive(claims,
	    "nonce") != NULL)
		fail_msg("line %d: a nonce nobody sent", line);
	if (w->nonce != NULL && (s == NULL || strcmp(s, w->nonce) != 0))
		fail_msg("line %d: nonce is %s, want %s", line,
		    s != NULL ? s : "absent", w->nonce);
	oidc_at_hash(w->access, at_hash);
	if ((s = oidc_claim_str(claims, "at_hash")) == NULL ||
	    strcmp(s, at_hash) != 0)
		fail_msg("line %d: at_hash is %s, want %s", line,
		    s != NULL ? s : "absent", at_hash);
	if ((s = oidc_claim_str(claims, "azp")) != NULL &&
	    strcmp(s, w->aud) != 0)
		fail_msg("line %d: azp is %s", line, s);
}

/*
 * /authorize for client id with S256 PKCE and extra, then /token: the
 * token response is left in out, 200 or not.
 */
static void
oidc_flow(struct fx *f, const char *id, const char *secret,
    const char *extra, struct fx_resp *out)
{
	char code[TOKEN_PRESENTED_MAX + 1];

	fx_code(f, id, extra, code);
	fx_redeem(f, id, secret, code, out);
}

/* Checks an ID Token response of the code flow for id and w. */
static void
oidc_check_response(int line, struct fx *f, const struct fx_resp *out,
    struct oidc_want *w)
{
	char kid[JOSE_KID_LEN + 1];
	const char *id_token;
	cJSON *claims;

	fx_check_status(line, out, 200);
	if ((id_token = fx_str(out, "id_token")) == NULL)
		fail_msg("line %d: no id_token in %s", line, out->r.body.data);
	w->access = fx_str(out, "access_token");
	assert_non_null(w->access);
	oidc_kid(0, kid);
	claims = oidc_verify(line, f, id_token, kid);
	oidc_check_claims(line, claims, w);
	cJSON_Delete(claims);
}

/* A public client with PKCE and a nonce; its scopes do not list openid. */
static void
test_public_client(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;
	struct oidc_want w = {FX_PUB, NULL, "n-0S6_WzA2Mj", UNIT_NOW,
	    UNIT_NOW};

	oidc_flow(f, FX_PUB, NULL, "scope=openid%20read&nonce=n-0S6_WzA2Mj",
	    &out);
	oidc_check_response(__LINE__, f, &out, &w);
	assert_string_equal(fx_str(&out, "scope"), "openid read");
	assert_non_null(fx_str(&out, "refresh_token"));
	fx_resp_free(&out);
}

/*
 * A confidential client without PKCE and without a nonce: none in the ID
 * Token.  auth_time is the moment of /authorize, iat that of /token.
 */
static void
test_confidential_client(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	struct oidc_want w = {FX_CONF, NULL, NULL, UNIT_NOW + 5, UNIT_NOW};

	fx_authorize(f, FX_USER, "response_type=code&client_id=" FX_CONF
	    "&scope=openid+read+write&state=s", &out);
	fx_assert_status(&out, 302);
	assert_true(fx_location_param(&out, "code", code, sizeof(code)));
	fx_resp_free(&out);
	f->now = UNIT_NOW + 5;
	fx_postf(f, "/token", NULL, &out, "grant_type=authorization_code"
	    "&code=%s&client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET,
	    code);
	oidc_check_response(__LINE__, f, &out, &w);
	fx_resp_free(&out);
}

/* Without openid there is no ID Token, and no key is needed. */
static void
test_no_openid(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;

	oidc_flow(f, FX_PUB, NULL, "scope=read&nonce=abc", &out);
	fx_assert_status(&out, 200);
	assert_null(cJSON_GetObjectItemCaseSensitive(out.json, "id_token"));
	fx_resp_free(&out);
	oidc_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &out);
	fx_assert_status(&out, 200);
	assert_null(cJSON_GetObjectItemCaseSensitive(out.json, "id_token"));
	fx_resp_free(&out);
}

/*
 * A refresh of an openid grant returns a new ID Token for the new access
 * token: the new iat, the auth_time of the authorization, and no nonce
 * (§12.2).
 */
static void
test_refresh(void **state)
{
	struct fx *f = *state;
	char refresh[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	struct oidc_want w = {FX_CONF, NULL, "abc", UNIT_NOW, UNIT_NOW};
	struct oidc_want w2 = {FX_CONF, NULL, NULL, UNIT_NOW + 600, UNIT_NOW};
	char first[TOKEN_PRESENTED_MAX + 1];

	oidc_flow(f, FX_CONF, FX_CONF_SECRET, "scope=openid%20read&nonce=abc",
	    &out);
	oidc_check_response(__LINE__, f, &out, &w);
	fx_copy(refresh, &out, "refresh_token");
	fx_copy(first, &out, "id_token");
	fx_resp_free(&out);

	f->now = UNIT_NOW + 600;
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, refresh, NULL, &out);
	oidc_check_response(__LINE__, f, &out, &w2);
	assert_string_not_equal(fx_str(&out, "id_token"), first);
	fx_copy(refresh, &out, "refresh_token");
	fx_resp_free(&out);

	/* And again, from the rotated refresh token. */
	f->now = UNIT_NOW + 1200;
	w2.iat = UNIT_NOW + 1200;
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, refresh, NULL, &out);
	oidc_check_response(__LINE__, f, &out, &w2);
	fx_resp_free(&out);
}

/* A nonce of exactly STORE_NONCE_MAX bytes is kept whole and echoed. */
static void
test_nonce_max(void **state)
{
	struct fx *f = *state;
	char extra[OIDC_QUERY_MAX], nonce[STORE_NONCE_MAX + 1];
	struct fx_resp out;
	struct oidc_want w = {FX_PUB, NULL, nonce, UNIT_NOW, UNIT_NOW};

	memset(nonce, 'x', STORE_NONCE_MAX);
	nonce[STORE_NONCE_MAX] = '\0';
	assert_true((size_t)snprintf(extra, sizeof(extra),
	    "scope=openid&nonce=%s", nonce) < sizeof(extra));
	oidc_flow(f, FX_PUB, NULL, extra, &out);
	oidc_check_response(__LINE__, f, &out, &w);
	fx_resp_free(&out);
}

/* A row of test_authorize_params: extra query, and the error or NULL. */
struct oidc_param_case {
	int line;
	const char *extra;
	const char *error;	/* NULL: a code */
};

/*
 * The openid parameters of /authorize (Core §3.1.2.1, §3.1.2.6): each
 * error goes back to the redirect URI with state, and stores nothing.
 */
static void
test_authorize_params(void **state)
{
	static char long_nonce[sizeof("nonce=") + STORE_NONCE_MAX + 1];
	const struct oidc_param_case cases[] = {
		{__LINE__, "prompt=login", "login_required"},
		{__LINE__, "prompt=consent%20login", "login_required"},
		{__LINE__, "prompt=none%20login", "invalid_request"},
		{__LINE__, "prompt=none+consent", "invalid_request"},
		{__LINE__, "prompt=none", NULL},
		{__LINE__, "prompt=consent", NULL},
		{__LINE__, "prompt=select_account", NULL},
		{__LINE__, "prompt=bogus", "invalid_request"},
		{__LINE__, "prompt=consent%20bogus", "invalid_request"},
		{__LINE__, "prompt=None", "invalid_request"},
		{__LINE__, "max_age=abc", "invalid_request"},
		{__LINE__, "max_age=-1", "invalid_request"},
		{__LINE__, "max_age=0", NULL},
		{__LINE__, "max_age=3600", NULL},
		{__LINE__, long_nonce, "invalid_request"},
		{__LINE__, "response_mode=fragment", "invalid_request"},
		{__LINE__, "response_mode=form_post", "invalid_request"},
		{__LINE__, "response_mode=query", NULL},
	};
	struct fx *f = *state;
	char query[OIDC_QUERY_MAX], value[OIDC_QUERY_MAX];
	struct fx_resp out;
	size_t i, before;

	memcpy(long_nonce, "nonce=", 6);
	memset(long_nonce + 6, 'n', STORE_NONCE_MAX + 1);
	long_nonce[6 + STORE_NONCE_MAX + 1] = '\0';
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct oidc_param_case *c = &cases[i];

		assert_true((size_t)snprintf(query, sizeof(query),
		    "response_type=code&client_id=" FX_PUB "&code_challenge="
		    FX_CHALLENGE "&code_challenge_method=S256&scope=openid"
		    "&state=st&%s", c->extra) < sizeof(query));
		before = fx_token_count(f);
		fx_authorize(f, FX_USER, query, &out);
		fx_check_status(c->line, &out, 302);
		if (strncmp(out.r.location, FX_REDIRECT "?",
		    sizeof(FX_REDIRECT)) != 0)
			fail_msg("line %d: redirected to %s", c->line,
			    out.r.location);
		if (!fx_location_param(&out, "state", value, sizeof(value)) ||
		    strcmp(value, "st") != 0)
			fail_msg("line %d: state not echoed", c->line);
		if (c->error == NULL) {
			if (!fx_location_param(&out, "code", value,
			    sizeof(value)))
				fail_msg("line %d: no code: %s", c->line,
				    out.r.location);
		} else {
			if (!fx_location_param(&out, "error", value,
			    sizeof(value)) || strcmp(value, c->error) != 0)
				fail_msg("line %d: want error=%s: %s", c->line,
				    c->error, out.r.location);
			if (fx_location_param(&out, "code", value,
			    sizeof(value)))
				fail_msg("line %d: a code with an error",
				    c->line);
			if (fx_token_count(f) != before)
				fail_msg("line %d: an error stored a record",
				    c->line);
		}
		fx_resp_free(&out);
	}
}

/*
 * With no signing key, redeeming an openid code is a 500 server_error that
 * tells the operator what to run, and commits nothing: the code is not
 * spent, no token is issued, and once a key is added the same code works.
 */
static void
test_no_key(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	struct oidc_want w = {FX_PUB, NULL, "nk", UNIT_NOW, UNIT_NOW};
	const char *why;
	size_t before;

	fx_code(f, FX_PUB, "scope=openid%20read&nonce=nk", code);
	before = fx_token_count(f);
	fx_redeem(f, FX_PUB, NULL, code, &out);
	fx_assert_error(&out, 500, "server_error");
	why = fx_str(&out, "error_description");
	if (strstr(why, "oauthctl key generate") == NULL)
		fail_msg("the description does not say what to run: %s", why);
	fx_resp_free(&out);
	assert_int_equal(fx_token_count(f), before);

	/* The code is not spent: a retry is not a replay. */
	fx_redeem(f, FX_PUB, NULL, code, &out);
	fx_assert_error(&out, 500, "server_error");
	fx_resp_free(&out);
	assert_int_equal(fx_token_count(f), before);

	oidc_add_key(f, 0, OIDC_PAST, OIDC_PAST, 0, NULL);
	fx_redeem(f, FX_PUB, NULL, code, &out);
	oidc_check_response(__LINE__, f, &out, &w);
	fx_resp_free(&out);

	/* A code flow without openid never needed a key. */
	oidc_flow(f, FX_PUB, NULL, "scope=read", &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
}

/*
 * Without a key that signs, a refresh of an openid grant fails the same
 * way, and the refresh token stays unspent: presenting it again once a
 * key signs again is a refresh, not a reuse that revokes the grant.
 */
static void
test_no_key_refresh(void **state)
{
	struct fx *f = *state;
	char refresh[TOKEN_PRESENTED_MAX + 1], kid[JOSE_KID_LEN + 1];
	struct store_txn *txn;
	struct fx_resp out;
	struct fx_tokens t;
	size_t before;

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, "scope=openid", &t);
	oidc_kid(0, kid);
	assert_int_equal(store_txn_begin(f->store, 1, &txn), STORE_OK);
	assert_int_equal(store_key_delete(txn, kid), STORE_OK);
	assert_int_equal(store_txn_commit(txn), STORE_OK);
	before = fx_token_count(f);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_assert_error(&out, 500, "server_error");
	fx_resp_free(&out);
	assert_int_equal(fx_token_count(f), before);
	assert_true(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.access));

	oidc_add_key(f, 0, OIDC_PAST, OIDC_PAST, 0, NULL);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_assert_status(&out, 200);
	assert_non_null(fx_str(&out, "id_token"));
	fx_copy(refresh, &out, "refresh_token");
	fx_resp_free(&out);
	assert_true(fx_introspect(f, FX_CONF, FX_CONF_SECRET, t.access));
}

/* The kid in the header of the ID Token of one code flow. */
static void
oidc_signer(struct fx *f, char kid[JOSE_KID_LEN + 1])
{
	struct fx_resp out;
	const char *jws, *dot;
	unsigned char bytes[OIDC_QUERY_MAX];
	size_t len;
	cJSON *h;
	const cJSON *v;

	oidc_flow(f, FX_CONF, FX_CONF_SECRET, "scope=openid", &out);
	fx_assert_status(&out, 200);
	assert_non_null(jws = fx_str(&out, "id_token"));
	assert_non_null(dot = strchr(jws, '.'));
	assert_int_equal(jose_b64url_decode(jws, (size_t)(dot - jws), bytes,
	    sizeof(bytes), &len), 0);
	assert_non_null(h = cJSON_ParseWithLength((const char *)bytes, len));
	v = cJSON_GetObjectItemCaseSensitive(h, "kid");
	assert_true(cJSON_IsString(v) &&
	    strlen(v->valuestring) == JOSE_KID_LEN);
	memcpy(kid, v->valuestring, JOSE_KID_LEN + 1);
	/* And it verifies with the key /jwks publishes under that kid. */
	cJSON_Delete(oidc_verify(__LINE__, f, jws, kid));
	cJSON_Delete(h);
	fx_resp_free(&out);
}

/*
 * Rotation: a key published now but signing only later is in /jwks at
 * once and does not sign until its sign_from; the older key signs until
 * then, and the new one from that second on.  Run with a signing cache,
 * as FastCGI does, so the cache follows the key set.
 */
static void
test_rotation(void **state)
{
	struct fx *f = *state;
	char old[JOSE_KID_LEN + 1], new[JOSE_KID_LEN + 1];
	char got[JOSE_KID_LEN + 1];
	int64_t from = UNIT_NOW + JWKS_MAX_AGE;
	EVP_PKEY *pkey;

	f->env.signing = signing_cache_new();
	assert_non_null(f->env.signing);
	oidc_kid(0, old);
	oidc_add_key(f, 1, UNIT_NOW, from, 0, new);
	assert_string_not_equal(old, new);

	oidc_signer(f, got);
	assert_string_equal(got, old);
	/* Published before it signs. */
	pkey = oidc_jwks_key(f, new);
	jose_key_free(pkey);

	f->now = from - 1;
	oidc_signer(f, got);
	assert_string_equal(got, old);
	f->now = from;
	oidc_signer(f, got);
	assert_string_equal(got, new);
	f->now = from + 1;
	oidc_signer(f, got);
	assert_string_equal(got, new);
	signing_cache_free(f->env.signing);
	f->env.signing = NULL;
}

/* The kids /jwks lists, space-separated in kid order, into out. */
static void
oidc_jwks_kids(struct fx *f, char *out, size_t size)
{
	static const char *const private[] = {"d", "p", "q", "dp", "dq", "qi",
	    "oth", "k"};
	struct fx_resp resp;
	const cJSON *keys, *jwk, *v;
	size_t i;

	oidc_get(f, "/jwks", &resp);
	fx_assert_status(&resp, 200);
	assert_string_equal(resp.r.content_type, "application/json");
	assert_int_equal(resp.r.max_age, JWKS_MAX_AGE);
	assert_null(resp.r.www_authenticate);
	assert_int_equal(fx_members(&resp), 1);
	keys = cJSON_GetObjectItemCaseSensitive(resp.json, "keys");
	assert_true(cJSON_IsArray(keys));
	out[0] = '\0';
	cJSON_ArrayForEach(jwk, keys) {
		assert_true(cJSON_IsObject(jwk));
		for (i = 0; i < sizeof(private) / sizeof(private[0]); i++)
			if (cJSON_GetObjectItemCaseSensitive(jwk,
			    private[i]) != NULL)
				fail_msg("/jwks shows private member %s",
				    private[i]);
		v = cJSON_GetObjectItemCaseSensitive(jwk, "kty");
		assert_true(cJSON_IsString(v) &&
		    strcmp(v->valuestring, "RSA") == 0);
		v = cJSON_GetObjectItemCaseSensitive(jwk, "alg");
		assert_true(cJSON_IsString(v) &&
		    strcmp(v->valuestring, "RS256") == 0);
		v = cJSON_GetObjectItemCaseSensitive(jwk, "use");
		assert_true(cJSON_IsString(v) &&
		    strcmp(v->valuestring, "sig") == 0);
		assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
		    jwk, "n")));
		assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
		    jwk, "e")));
		v = cJSON_GetObjectItemCaseSensitive(jwk, "kid");
		assert_true(cJSON_IsString(v));
		assert_true(strlen(out) + strlen(v->valuestring) + 2 < size);
		if (out[0] != '\0')
			strcat(out, " ");
		strcat(out, v->valuestring);
	}
	fx_resp_free(&resp);
}

/* 1 when kid is one of the space-separated kids. */
static int
oidc_listed(const char *kids, const char *kid)
{
	return strstr(kids, kid) != NULL;
}

/*
 * GET /jwks: the published keys only, public members only, cacheable for
 * JWKS_MAX_AGE.  Key 0 is published; key 1 is published from a later
 * time, then dropped.
 */
static void
test_jwks(void **state)
{
	struct fx *f = *state;
	char kids[4 * (JOSE_KID_LEN + 1)];
	char k0[JOSE_KID_LEN + 1], k1[JOSE_KID_LEN + 1];
	const int64_t created = UNIT_NOW + 100, dropped = UNIT_NOW + 1000;
	struct fx_resp out;

	/* An empty key set is an empty list, not an error. */
	oidc_get(f, "/jwks", &out);
	fx_assert_status(&out, 200);
	assert_string_equal(out.r.body.data, "{\"keys\":[]}");
	fx_resp_free(&out);

	oidc_add_key(f, 0, OIDC_PAST, OIDC_PAST, 0, k0);
	oidc_add_key(f, 1, created, created, dropped, k1);
	oidc_jwks_kids(f, kids, sizeof(kids));
	assert_string_equal(kids, k0);
	f->now = created - 1;
	oidc_jwks_kids(f, kids, sizeof(kids));
	assert_false(oidc_listed(kids, k1));
	f->now = created;
	oidc_jwks_kids(f, kids, sizeof(kids));
	assert_true(oidc_listed(kids, k0) && oidc_listed(kids, k1));
	f->now = dropped - 1;
	oidc_jwks_kids(f, kids, sizeof(kids));
	assert_true(oidc_listed(kids, k1));
	f->now = dropped;
	oidc_jwks_kids(f, kids, sizeof(kids));
	assert_string_equal(kids, k0);

	fx_run(f, &(const struct fx_req){.method = "POST", .path = "/jwks",
	    .content_type = "application/x-www-form-urlencoded", .body = "a=b"},
	    &out);
	fx_assert_status(&out, 405);
	assert_string_equal(out.r.allow, "GET");
	fx_resp_free(&out);
}

/* Fails unless the array member name of out holds the string value. */
static void
oidc_check_contains(int line, const struct fx_resp *out, const char *name,
    const char *value)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(out->json, name);
	const cJSON *item;

	if (!cJSON_IsArray(a))
		fail_msg("line %d: %s is not an array", line, name);
	cJSON_ArrayForEach(item, a)
		if (cJSON_IsString(item) && strcmp(item->valuestring,
		    value) == 0)
			return;
	fail_msg("line %d: %s lacks \"%s\"", line, name, value);
}

/* Discovery 1.0 §3: the members the contract names. */
static void
test_discovery(void **state)
{
	static const struct {
		int line;
		const char *name;
		const char *value;
	} lists[] = {
		{__LINE__, "response_types_supported", "code"},
		{__LINE__, "subject_types_supported", "public"},
		{__LINE__, "id_token_signing_alg_values_supported", "RS256"},
		{__LINE__, "scopes_supported", "openid"},
		{__LINE__, "claims_supported", "sub"},
		{__LINE__, "claims_supported", "iss"},
		{__LINE__, "claims_supported", "aud"},
		{__LINE__, "claims_supported", "exp"},
		{__LINE__, "claims_supported", "iat"},
		{__LINE__, "code_challenge_methods_supported", "S256"},
	};
	static const struct {
		const char *name;
		const char *value;
	} strings[] = {
		{"issuer", FX_ISSUER},
		{"authorization_endpoint", FX_ISSUER "/authorize"},
		{"token_endpoint", FX_ISSUER "/token"},
		{"userinfo_endpoint", FX_ISSUER "/userinfo"},
		{"jwks_uri", FX_ISSUER "/jwks"},
	};
	struct fx *f = *state;
	struct fx_resp out;
	const cJSON *a, *item;
	size_t i;

	oidc_get(f, OIDC_OPENID_CONF, &out);
	fx_assert_status(&out, 200);
	assert_string_equal(out.r.content_type, "application/json");
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const char *s = fx_str(&out, strings[i].name);

		if (s == NULL || strcmp(s, strings[i].value) != 0)
			fail_msg("%s is %s, want %s", strings[i].name,
			    s != NULL ? s : "absent", strings[i].value);
	}
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		oidc_check_contains(lists[i].line, &out, lists[i].name,
		    lists[i].value);
	/* RS256 is the only algorithm an ID Token is signed with here. */
	a = cJSON_GetObjectItemCaseSensitive(out.json,
	    "id_token_signing_alg_values_supported");
	cJSON_ArrayForEach(item, a)
		assert_string_not_equal(item->valuestring, "none");
	fx_resp_free(&out);
}

/* The Bearer header for token, in buf. */
static const char *
oidc_bearer(char buf[FX_HEADER_MAX], const char *token)
{
	assert_true((size_t)snprintf(buf, FX_HEADER_MAX, "Bearer %s", token) <
	    FX_HEADER_MAX);
	return buf;
}

/* A row of test_userinfo: a presented token and the answer. */
struct oidc_userinfo_case {
	int line;
	const char *method;
	const char *authorization;	/* NULL: none */
	int status;
	const char *error;		/* NULL: 200 {"sub":FX_USER} */
	const char *www;		/* the exact challenge, or NULL */
	const char *www_has;		/* a part the challenge must hold */
};

/* Runs one /userinfo case against its expectations. */
static void
oidc_userinfo_check(struct fx *f, const struct oidc_userinfo_case *c)
{
	struct fx_resp out;
	struct fx_req q = {0};

	q.method = c->method;
	q.path = "/userinfo";
	q.authorization = c->authorization;
	if (strcmp(c->method, "POST") == 0) {
		q.content_type = "application/x-www-form-urlencoded";
		q.body = "";
	}
	fx_run(f, &q, &out);
	if (c->error == NULL) {
		fx_check_status(c->line, &out, 200);
		assert_string_equal(out.r.content_type, "application/json");
		if (strcmp(out.r.body.data, "{\"sub\":\"" FX_USER "\"}") != 0)
			fail_msg("line %d: userinfo is %s", c->line,
			    out.r.body.data);
	} else
		fx_check_error(c->line, &out, c->status, c->error);
	if (c->www != NULL && (out.r.www_authenticate == NULL ||
	    strcmp(out.r.www_authenticate, c->www) != 0))
		fail_msg("line %d: WWW-Authenticate is %s, want %s", c->line,
		    out.r.www_authenticate != NULL ? out.r.www_authenticate
						   : "absent", c->www);
	if (c->www_has != NULL && (out.r.www_authenticate == NULL ||
	    strncmp(out.r.www_authenticate, "Bearer ", 7) != 0 ||
	    strstr(out.r.www_authenticate, c->www_has) == NULL))
		fail_msg("line %d: WWW-Authenticate is %s, want Bearer with %s",
		    c->line, out.r.www_authenticate != NULL
			? out.r.www_authenticate : "absent", c->www_has);
	if (c->error == NULL && out.r.www_authenticate != NULL)
		fail_msg("line %d: a challenge on success", c->line);
	fx_resp_free(&out);
}

/*
 * /userinfo (Core §5.3, RFC 6750 §3): by GET and by POST, the sub of an
 * openid access token; 401 without a token (a bare "Bearer" challenge,
 * §3.1) or with one that is not an active access token (invalid_token);
 * 403 insufficient_scope for a token without openid or of a client alone.
 */
static void
test_userinfo(void **state)
{
	static const char *const methods[] = {"GET", "POST"};
	struct fx *f = *state;
	struct fx_tokens oidc, plain, revoked;
	char cc[TOKEN_PRESENTED_MAX + 1];
	char h_ok[FX_HEADER_MAX], h_refresh[FX_HEADER_MAX];
	char h_plain[FX_HEADER_MAX], h_cc[FX_HEADER_MAX];
	char h_revoked[FX_HEADER_MAX], h_code[FX_HEADER_MAX];
	char code[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	size_t i, j;

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, "scope=openid%20read", &oidc);
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, "scope=read", &plain);
	fx_code_flow(f, FX_PUB, NULL, "scope=openid", &revoked);
	/* A client_credentials token even with openid: it has no user. */
	fx_add_client(f, &(const struct fx_client){"cc-oidc", FX_CC_SECRET,
	    "openid read", GRANT_CLIENT_CREDENTIALS, 0, NULL, {NULL}});
	fx_postf(f, "/token", NULL, &out, "grant_type=client_credentials"
	    "&client_id=cc-oidc&client_secret=" FX_CC_SECRET "&scope=openid");
	fx_assert_status(&out, 200);
	assert_null(cJSON_GetObjectItemCaseSensitive(out.json, "id_token"));
	fx_copy(cc, &out, "access_token");
	fx_resp_free(&out);
	fx_code(f, FX_PUB, "scope=openid", code);
	fx_present(f, "/revoke", "&client_id=" FX_PUB, revoked.access, NULL,
	    &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	for (j = 0; j < sizeof(methods) / sizeof(methods[0]); j++) {
		const char *m = methods[j];
		const struct oidc_userinfo_case cases[] = {
			{__LINE__, m, oidc_bearer(h_ok, oidc.access), 200, NULL,
			    NULL, NULL},
			{__LINE__, m, NULL, 401, "invalid_token", "Bearer",
			    NULL},
			{__LINE__, m, "Basic Y29uZjpzZWNyZXQ=", 401,
			    "invalid_token", "Bearer", NULL},
			{__LINE__, m, "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			    "AAAAAAAAAAAA", 401, "invalid_token", NULL,
			    "error=\"invalid_token\""},
			{__LINE__, m, oidc_bearer(h_revoked, revoked.access),
			    401, "invalid_token", NULL,
			    "error=\"invalid_token\""},
			{__LINE__, m, oidc_bearer(h_refresh, oidc.refresh), 401,
			    "invalid_token", NULL, "error=\"invalid_token\""},
			{__LINE__, m, oidc_bearer(h_code, code), 401,
			    "invalid_token", NULL, "error=\"invalid_token\""},
			{__LINE__, m, oidc_bearer(h_plain, plain.access), 403,
			    "insufficient_scope", NULL,
			    "error=\"insufficient_scope\""},
			{__LINE__, m, oidc_bearer(h_cc, cc), 403,
			    "insufficient_scope", NULL,
			    "error=\"insufficient_scope\""},
		};

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			oidc_userinfo_check(f, &cases[i]);
	}

	/* An expired token, at the second it expires. */
	f->now = UNIT_NOW + FX_ACCESS_TTL - 1;
	oidc_userinfo_check(f, &(const struct oidc_userinfo_case){__LINE__,
	    "GET", h_ok, 200, NULL, NULL, NULL});
	f->now = UNIT_NOW + FX_ACCESS_TTL;
	oidc_userinfo_check(f, &(const struct oidc_userinfo_case){__LINE__,
	    "GET", h_ok, 401, "invalid_token", NULL,
	    "error=\"invalid_token\""});

	fx_run(f, &(const struct fx_req){.method = "PUT", .path = "/userinfo",
	    .authorization = h_ok}, &out);
	fx_assert_status(&out, 405);
	assert_string_equal(out.r.allow, "GET, POST");
	fx_resp_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_public_client, oidc_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_confidential_client,
		    oidc_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_openid, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_refresh, oidc_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_nonce_max, oidc_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_authorize_params,
		    oidc_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_key, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_key_refresh, oidc_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_rotation, oidc_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_jwks, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_discovery, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_userinfo, oidc_setup,
		    fx_teardown),
	};
	size_t i;
	int rc;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	for (i = 0; i < OIDC_KEYS; i++) {
		if (oidc_pems[i] != NULL)
			crypto_wipe(oidc_pems[i], strlen(oidc_pems[i]));
		free(oidc_pems[i]);
	}
	return rc;
}
