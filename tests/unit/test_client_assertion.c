/*
 * private_key_jwt (RFC 7523 §2.2, §3; OpenID Connect Core §9) through
 * handler_dispatch: clients registered with a JWK Set authenticate at
 * /token, /introspect and /revoke with assertions signed here by
 * tests/unit/jws_fixture.h against OpenSSL directly, so that jose.c
 * cannot sign and verify alike.  Each claim rule of §3 is tried on its
 * own; a jti is spent once (§3 item 7), per client, and stays spent when
 * the request fails after the client authenticated; an assertion beside
 * another method is a 400; a refused assertion writes nothing.  The clock
 * is pinned at UNIT_NOW; a time knob "@+N" means UNIT_NOW + N.
 */
#include "handler_fixture.h"
#include "jws_fixture.h"

#define PKJ_ES "pkj-es"		/* one ES256 key; client_credentials */
#define PKJ_MULTI "pkj-multi"	/* RS256 and EdDSA keys; every grant */
/* CLIENT_ASSERTION_TYPE form-encoded, as text of a printf format. */
#define PKJ_TYPE "urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type" \
	"%%3Ajwt-bearer"
#define PKJ_AUD "\"" FX_ISSUER "\""
#define PKJ_OTHER_AS "https://other-as.example/oauth"
#define PKJ_TIME_MAX 48		/* a time claim's JSON text */
#define PKJ_CONF_POST "&client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET
#define PKJ_RS_POST "&client_id=" FX_RS "&client_secret=" FX_RS_SECRET

/* The keys of the run, made once: RSA generation is slow. */
enum {
	PKJ_K_ES256 = 0,	/* PKJ_ES's */
	PKJ_K_RS256,		/* PKJ_MULTI's */
	PKJ_K_EDDSA,		/* PKJ_MULTI's */
	PKJ_K_STRANGER,		/* an ES256 key no client registered */
	PKJ_K__MAX
};

static struct jws_key pkj_keys[PKJ_K__MAX];
static char *pkj_jwks_es;	/* {"keys":[ES256]} */
static char *pkj_jwks_multi;	/* {"keys":[RS256, EdDSA]} */

#define PKJ_K (&pkj_keys[PKJ_K_ES256])
#define PKJ_K_RS (&pkj_keys[PKJ_K_RS256])
#define PKJ_K_ED (&pkj_keys[PKJ_K_EDDSA])
#define PKJ_K_NOBODY (&pkj_keys[PKJ_K_STRANGER])

/* The JWK Set of the full public JWKs of the n keys k, allocated. */
static char *
pkj_jwks(const struct jws_key *const *k, size_t n)
{
	struct buf b = {0};
	size_t i;

	assert_int_equal(buf_puts(&b, "{\"keys\":["), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_printf(&b, "%s%s", i > 0 ? "," : "",
		    k[i]->jwk_full), 0);
	assert_int_equal(buf_puts(&b, "]}"), 0);
	return buf_steal(&b);
}

static int
pkj_group_setup(void **state)
{
	static const enum jose_alg algs[PKJ_K__MAX] = {
		JOSE_ALG_ES256, JOSE_ALG_RS256, JOSE_ALG_EDDSA, JOSE_ALG_ES256,
	};
	const struct jws_key *multi[] = {PKJ_K_RS, PKJ_K_ED};
	const struct jws_key *es[] = {PKJ_K};
	size_t i;

	(void)state;
	for (i = 0; i < PKJ_K__MAX; i++)
		jws_key_make(&pkj_keys[i], algs[i]);
	pkj_jwks_es = pkj_jwks(es, 1);
	pkj_jwks_multi = pkj_jwks(multi, 2);
	return 0;
}

static int
pkj_group_teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PKJ_K__MAX; i++)
		jws_key_free(&pkj_keys[i]);
	free(pkj_jwks_es);
	free(pkj_jwks_multi);
	pkj_jwks_es = pkj_jwks_multi = NULL;
	return 0;
}

/*
 * Registers a client of keys as oauthctl client add --jwks does: no
 * secret, not public, jwks its JWK Set.  struct fx_client cannot say so,
 * since fx_add_client makes a client without a secret a public one,
 * which may have no keys.
 */
static void
pkj_add_client(struct fx *f, const char *id, const char *jwks,
    unsigned grant_types, const char *scope, int may_introspect)
{
	struct store_txn *txn;
	struct client c;

	memset(&c, 0, sizeof(c));
	assert_true(strlen(id) <= CLIENT_ID_MAX);
	memcpy(c.id, id, strlen(id));
	c.grant_types = grant_types;
	c.may_introspect = may_introspect;
	c.scope = (char *)scope;
	c.jwks = (char *)jwks;
	if (grant_types & GRANT_AUTHORIZATION_CODE) {
		c.redirect_uris[0] = FX_REDIRECT;
		c.redirect_uri_count = 1;
	}
	c.created_at = UNIT_NOW;
	assert_int_equal(store_txn_begin(f->store, 1, &txn), STORE_OK);
	assert_int_equal(store_client_put(txn, &c, 1), STORE_OK);
	assert_int_equal(store_txn_commit(txn), STORE_OK);
}

/* The standard clients, PKJ_ES and PKJ_MULTI. */
static int
pkj_setup(void **state)
{
	struct fx *f;

	if (fx_setup(state) != 0)
		return -1;
	f = *state;
	pkj_add_client(f, PKJ_ES, pkj_jwks_es, GRANT_CLIENT_CREDENTIALS,
	    "read", 0);
	pkj_add_client(f, PKJ_MULTI, pkj_jwks_multi, GRANT_ALL, "read write",
	    0);
	return 0;
}

/*
 * An assertion to make.  The header is {"alg","typ","kid"}, the claims
 * {"iss","sub","aud","exp","nbf","iat","jti"} then extra, each string
 * knob JWS_OMIT to leave its member out.  A time knob is JSON text, or
 * "@+N" / "@-N" for UNIT_NOW plus N seconds, whatever follows N kept
 * verbatim ("@+300.5" is a fraction).
 */
struct pkj_jwt {
	const struct jws_key *key;	/* signs; NULL: PKJ_K */
	enum jws_sig sig;
	const char *mac_key;	/* JWS_SIG_HS256_JWK's */
	const char *alg;	/* NULL: the key's */
	const char *kid;	/* NULL: left out */
	const char *header;	/* the whole header text instead; NULL */
	const char *sub;	/* NULL: PKJ_ES */
	const char *iss;	/* NULL: sub */
	const char *aud;	/* JSON text; NULL: the issuer */
	const char *exp;	/* time; NULL: "@+300" */
	const char *nbf;	/* time; NULL: left out */
	const char *iat;	/* time; NULL: left out */
	const char *jti;	/* NULL: one not used before in this run */
	const char *extra;	/* ",\"name\":value..." appended to claims */
	const char *claims;	/* the whole claims text instead; NULL */
};

/* The JSON text of the time knob spec into out, or spec itself. */
static const char *
pkj_time(const char *spec, char out[PKJ_TIME_MAX])
{
	char *end;
	long long off;

	if (spec == NULL || spec[0] != '@')
		return spec;
	off = strtoll(spec + 1, &end, 10);
	assert_true(end != spec + 1);
	assert_true((size_t)snprintf(out, PKJ_TIME_MAX, "%lld%s",
	    (long long)UNIT_NOW + off, end) < PKJ_TIME_MAX);
	return out;
}

/* The compact JWS of the assertion j, the caller's to free(). */
static char *
pkj_assertion(const struct pkj_jwt *j)
{
	static uint64_t serial;
	const struct jws_key *k = j->key != NULL ? j->key : PKJ_K;
	const char *sub = j->sub != NULL ? j->sub : PKJ_ES;
	char jti[32], exp[PKJ_TIME_MAX], nbf[PKJ_TIME_MAX], iat[PKJ_TIME_MAX];
	struct buf h = {0}, c = {0};
	char *jws;

	snprintf(jti, sizeof(jti), "pkj-jti-%" PRIu64, ++serial);
	if (j->header != NULL)
		assert_int_equal(buf_puts(&h, j->header), 0);
	else {
		assert_int_equal(buf_puts(&h, "{"), 0);
		jws_member(&h, "alg", j->alg != NULL ? j->alg :
		    jose_alg_name(k->alg), 1);
		jws_member(&h, "typ", "JWT", 1);
		jws_member(&h, "kid", j->kid, 1);
		assert_int_equal(buf_puts(&h, "}"), 0);
	}
	if (j->claims != NULL)
		assert_int_equal(buf_puts(&c, j->claims), 0);
	else {
		assert_int_equal(buf_puts(&c, "{"), 0);
		jws_member(&c, "iss", j->iss != NULL ? j->iss : sub, 1);
		jws_member(&c, "sub", sub, 1);
		jws_member(&c, "aud", j->aud != NULL ? j->aud : PKJ_AUD, 0);
		jws_member(&c, "exp", pkj_time(j->exp != NULL ? j->exp :
		    "@+300", exp), 0);
		jws_member(&c, "nbf", pkj_time(j->nbf, nbf), 0);
		jws_member(&c, "iat", pkj_time(j->iat, iat), 0);
		jws_member(&c, "jti", j->jti != NULL ? j->jti : jti, 1);
		if (j->extra != NULL)
			assert_int_equal(buf_puts(&c, j->extra), 0);
		assert_int_equal(buf_puts(&c, "}"), 0);
	}
	jws = jws_compact(k->pkey, k->alg, j->sig, j->mac_key, h.data,
	    c.data);
	buf_free(&h);
	buf_free(&c);
	return jws;
}

static void pkj_post(struct fx *, const char *, const char *, const char *,
    struct fx_resp *, const char *, ...)
    __attribute__((format(printf, 6, 7)));

/*
 * POSTs the form body fmt... to path with the Authorization header
 * authorization (NULL: none), followed by client_assertion_type and
 * client_assertion when assertion is not NULL.
 */
static void
pkj_post(struct fx *f, const char *path, const char *authorization,
    const char *assertion, struct fx_resp *out, const char *fmt, ...)
{
	char body[FX_BODY_MAX];
	va_list ap;
	int n;
	size_t len;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(body));
	len = (size_t)n;
	if (assertion != NULL) {
		n = snprintf(body + len, sizeof(body) - len,
		    "%sclient_assertion_type=" PKJ_TYPE "&client_assertion=%s",
		    len > 0 ? "&" : "", assertion);
		assert_true(n >= 0 && (size_t)n < sizeof(body) - len);
	}
	fx_post(f, path, authorization, body, out);
}

/* A client_credentials request at /token with the assertion a. */
static void
pkj_cc(struct fx *f, const char *a, struct fx_resp *out)
{
	pkj_post(f, "/token", NULL, a, out, "grant_type=client_credentials");
}

/*
 * Checks that out is a Bearer token response without a refresh token
 * and that one token more than before is stored.
 */
static void
pkj_check_issued(int line, struct fx *f, const struct fx_resp *out,
    size_t before)
{
	const char *type = fx_str(out, "token_type");

	fx_check_status(line, out, 200);
	if (fx_str(out, "access_token") == NULL)
		fail_msg("line %d: no access_token: %s", line,
		    out->r.body.data);
	if (type == NULL || strcmp(type, "Bearer") != 0)
		fail_msg("line %d: token_type of %s", line, out->r.body.data);
	if (fx_str(out, "refresh_token") != NULL)
		fail_msg("line %d: client_credentials with a refresh token",
		    line);
	if (fx_token_count(f) != before + 1)
		fail_msg("line %d: %zu records stored, want %zu", line,
		    fx_token_count(f), before + 1);
}

/*
 * Checks that out is the error status/code with no token in it, none
 * stored since the store held before, and, the request having had no
 * Authorization header, no challenge (RFC 6749 §5.2).
 */
static void
pkj_check_refused(int line, struct fx *f, const struct fx_resp *out,
    size_t before, int status, const char *code)
{
	fx_check_error(line, out, status, code);
	if (fx_str(out, "access_token") != NULL)
		fail_msg("line %d: a token with the error", line);
	if (out->r.www_authenticate != NULL)
		fail_msg("line %d: a challenge without a header: %s", line,
		    out->r.www_authenticate);
	if (fx_token_count(f) != before)
		fail_msg("line %d: %zu records stored, want %zu", line,
		    fx_token_count(f), before);
}

/*
 * Sends the assertion a in a client_credentials request and checks the
 * answer: issued when status is 200, else refused with code.
 */
static void
pkj_cc_expect(int line, struct fx *f, const char *a, int status,
    const char *code)
{
	size_t before = fx_token_count(f);
	struct fx_resp out;

	pkj_cc(f, a, &out);
	if (status == 200)
		pkj_check_issued(line, f, &out, before);
	else
		pkj_check_refused(line, f, &out, before, status, code);
	fx_resp_free(&out);
}

/* pkj_cc_expect of the assertion j makes. */
static void
pkj_jwt_expect(int line, struct fx *f, const struct pkj_jwt *j, int status,
    const char *code)
{
	char *a = pkj_assertion(j);

	pkj_cc_expect(line, f, a, status, code);
	free(a);
}

/*
 * How many spent jtis the store holds, by purging them all: a purge at a
 * time past any assertion's window deletes every one and counts them.
 * It deletes expired tokens too, so a test calls it last.
 */
static size_t
pkj_seen_purged(struct fx *f)
{
	struct store_purged purged;

	assert_int_equal(store_purge(f->store, f->now + 100 *
	    (int64_t)CLIENT_ASSERTION_TTL_MAX, &purged), STORE_OK);
	return purged.seen;
}

/* A row of a table: an assertion and the answer to it at /token. */
struct pkj_case {
	int line;
	struct pkj_jwt jwt;
	int status;
	const char *code;	/* NULL with 200 */
};

/* Runs the n rows of cases through pkj_jwt_expect. */
static void
pkj_run_cases(struct fx *f, const struct pkj_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pkj_jwt_expect(cases[i].line, f, &cases[i].jwt,
		    cases[i].status, cases[i].code);
}

/*
 * A valid assertion gets a token for its client, which introspects as
 * that client's; aud may be the issuer, the token endpoint's URL, or an
 * array holding one of them (RFC 7523 §3 item 3), never another server.
 */
static void
test_valid_assertion(void **state)
{
	static const struct pkj_case cases[] = {
		{__LINE__, {.aud = PKJ_AUD}, 200, NULL},
		{__LINE__, {.aud = "\"" FX_ISSUER "/token\""}, 200, NULL},
		{__LINE__, {.aud = "[\"" PKJ_OTHER_AS "\",\"" FX_ISSUER "\"]"},
		    200, NULL},
		{__LINE__, {.aud = "[\"" FX_ISSUER "/token\"]"}, 200, NULL},
		{__LINE__, {.aud = "\"" PKJ_OTHER_AS "\""}, 401,
		    "invalid_client"},
		{__LINE__, {.aud = "\"" PKJ_OTHER_AS "/token\""}, 401,
		    "invalid_client"},
		{__LINE__, {.aud = "[\"" PKJ_OTHER_AS "\"]"}, 401,
		    "invalid_client"},
		{__LINE__, {.aud = "[]"}, 401, "invalid_client"},
		/* A prefix or a longer string of the issuer is another. */
		{__LINE__, {.aud = "\"https://as.example\""}, 401,
		    "invalid_client"},
		{__LINE__, {.aud = "\"" FX_ISSUER "x\""}, 401,
		    "invalid_client"},
		{__LINE__, {.aud = "\"" FX_ISSUER "/revoke\""}, 401,
		    "invalid_client"},
		{__LINE__, {.aud = JWS_OMIT}, 401, "invalid_client"},
		{__LINE__, {.aud = "42"}, 401, "invalid_client"},
		{__LINE__, {.aud = "[42]"}, 401, "invalid_client"},
	};
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	cJSON *claims;
	char *a;

	pkj_run_cases(f, cases, sizeof(cases) / sizeof(cases[0]));

	/* The token is the client's, with its scope. */
	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_cc(f, a, &out);
	fx_assert_status(&out, 200);
	assert_string_equal(fx_str(&out, "scope"), "read");
	assert_int_equal((int)fx_num(&out, "expires_in"), FX_ACCESS_TTL);
	assert_true(out.r.no_store);
	fx_copy(token, &out, "access_token");
	fx_resp_free(&out);
	free(a);
	fx_present(f, "/introspect", PKJ_RS_POST, token, NULL, &out);
	fx_assert_status(&out, 200);
	claims = out.json;
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(claims,
	    "active")));
	assert_string_equal(fx_str(&out, "client_id"), PKJ_ES);
	fx_resp_free(&out);

	/* client_id beside it, when it is the assertion's sub. */
	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_post(f, "/token", NULL, a, &out,
	    "grant_type=client_credentials&client_id=" PKJ_ES);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	free(a);
}

/*
 * Every algorithm of ours verifies with the client's set: RS256 and EdDSA
 * from one set, with the kid of the key or none (the set's keys of the
 * alg are tried); a kid of no key in the set is refused.
 */
static void
test_each_alg(void **state)
{
	static const struct pkj_case cases[] = {
		{__LINE__, {.key = PKJ_K_RS, .sub = PKJ_MULTI}, 200, NULL},
		{__LINE__, {.key = PKJ_K_ED, .sub = PKJ_MULTI}, 200, NULL},
		{__LINE__, {.key = PKJ_K_ED, .sub = PKJ_MULTI,
		    .kid = "no-such-kid"}, 401, "invalid_client"},
		{__LINE__, {.kid = "no-such-kid"}, 401, "invalid_client"},
		/* Another key's alg in the header: that key would verify. */
		{__LINE__, {.key = PKJ_K_RS, .sub = PKJ_MULTI,
		    .alg = "EdDSA"}, 401, "invalid_client"},
	};
	struct fx *f = *state;
	struct pkj_jwt j = {.sub = PKJ_MULTI};

	pkj_run_cases(f, cases, sizeof(cases) / sizeof(cases[0]));
	j.key = PKJ_K_RS;
	j.kid = PKJ_K_RS->jkt;
	pkj_jwt_expect(__LINE__, f, &j, 200, NULL);
	j.key = PKJ_K_ED;
	j.kid = PKJ_K_ED->jkt;
	pkj_jwt_expect(__LINE__, f, &j, 200, NULL);
	/* The kid of the set's other key: that key does not verify it. */
	j.kid = PKJ_K_RS->jkt;
	pkj_jwt_expect(__LINE__, f, &j, 401, "invalid_client");
	j = (struct pkj_jwt){.kid = PKJ_K->jkt};
	pkj_jwt_expect(__LINE__, f, &j, 200, NULL);
}

/* RFC 7523 §3 item 7: a jti is spent by its first use at /token. */
static void
test_replay_token(void **state)
{
	struct fx *f = *state;
	char *a = pkj_assertion(&(const struct pkj_jwt){0});
	size_t before;
	struct fx_resp out;

	pkj_cc_expect(__LINE__, f, a, 200, NULL);
	pkj_cc_expect(__LINE__, f, a, 401, "invalid_client");
	/* Nor is it taken at the endpoints sharing its jti's store. */
	before = fx_token_count(f);
	pkj_post(f, "/revoke", NULL, a, &out, "token=unknown");
	pkj_check_refused(__LINE__, f, &out, before, 401, "invalid_client");
	fx_resp_free(&out);
	pkj_post(f, "/introspect", NULL, a, &out, "token=unknown");
	pkj_check_refused(__LINE__, f, &out, before, 401, "invalid_client");
	fx_resp_free(&out);
	free(a);

	/* A new assertion with the spent jti is the same replay. */
	pkj_jwt_expect(__LINE__, f, &(const struct pkj_jwt){.jti = "once"},
	    200, NULL);
	pkj_jwt_expect(__LINE__, f, &(const struct pkj_jwt){.jti = "once",
	    .exp = "@+600"}, 401, "invalid_client");
	assert_int_equal(pkj_seen_purged(f), 2);
}

/*
 * A jti spent at /introspect or /revoke is spent for /token too: the
 * endpoints share one store of them.
 */
static void
test_replay_across_endpoints(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	size_t before;
	char *a;

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_post(f, "/introspect", NULL, a, &out, "token=%s", token);
	fx_assert_status(&out, 200);
	/* Not the caller's token, and it may not introspect others. */
	assert_string_equal(out.r.body.data, "{\"active\":false}");
	fx_resp_free(&out);
	pkj_cc_expect(__LINE__, f, a, 401, "invalid_client");
	free(a);

	/* aud the URL of the endpoint it is sent to. */
	a = pkj_assertion(&(const struct pkj_jwt){.aud =
	    "\"" FX_ISSUER "/revoke\""});
	pkj_post(f, "/revoke", NULL, a, &out, "token=unknown");
	fx_assert_status(&out, 200);
	assert_int_equal(out.r.body.len, 0);
	fx_resp_free(&out);
	before = fx_token_count(f);
	pkj_post(f, "/revoke", NULL, a, &out, "token=unknown");
	pkj_check_refused(__LINE__, f, &out, before, 401, "invalid_client");
	fx_resp_free(&out);
	free(a);

	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_cc_expect(__LINE__, f, a, 200, NULL);
	pkj_post(f, "/introspect", NULL, a, &out, "token=%s", token);
	pkj_check_refused(__LINE__, f, &out, before + 1, 401,
	    "invalid_client");
	fx_resp_free(&out);
	free(a);
}

/* A jti is remembered by client: another's identical one is its own. */
static void
test_replay_per_client(void **state)
{
	struct fx *f = *state;
	const struct pkj_jwt es = {.jti = "shared"};
	const struct pkj_jwt multi = {.key = PKJ_K_RS, .sub = PKJ_MULTI,
	    .jti = "shared"};

	pkj_jwt_expect(__LINE__, f, &es, 200, NULL);
	pkj_jwt_expect(__LINE__, f, &multi, 200, NULL);
	pkj_jwt_expect(__LINE__, f, &multi, 401, "invalid_client");
	pkj_jwt_expect(__LINE__, f, &es, 401, "invalid_client");
	assert_int_equal(pkj_seen_purged(f), 2);
}

/*
 * The times of RFC 7523 §3 items 4 to 6 with CLIENT_ASSERTION_SKEW of
 * leeway, and exp at most CLIENT_ASSERTION_TTL_MAX ahead; the jti of
 * item 7.  Each bound from both sides.
 */
static void
test_claim_rules(void **state)
{
	static const struct pkj_case cases[] = {
		/* exp: required, a whole number, not long past. */
		{__LINE__, {.exp = JWS_OMIT}, 401, "invalid_client"},
		{__LINE__, {.exp = "@-61"}, 401, "invalid_client"},
		{__LINE__, {.exp = "@-60"}, 401, "invalid_client"},
		{__LINE__, {.exp = "@-59"}, 200, NULL},
		{__LINE__, {.exp = "@-3600"}, 401, "invalid_client"},
		{__LINE__, {.exp = "@+0"}, 200, NULL},
		{__LINE__, {.exp = "@+3600"}, 200, NULL},
		{__LINE__, {.exp = "@+3601"}, 401, "invalid_client"},
		{__LINE__, {.exp = "@+86400"}, 401, "invalid_client"},
		{__LINE__, {.exp = "@+300.5"}, 401, "invalid_client"},
		{__LINE__, {.exp = "\"1700000300\""}, 401, "invalid_client"},
		{__LINE__, {.exp = "null"}, 401, "invalid_client"},
		{__LINE__, {.exp = "true"}, 401, "invalid_client"},
		{__LINE__, {.exp = "[1700000300]"}, 401, "invalid_client"},
		{__LINE__, {.exp = "-1"}, 401, "invalid_client"},
		{__LINE__, {.exp = "1e300"}, 401, "invalid_client"},
		/* nbf and iat: optional, not ahead of now. */
		{__LINE__, {.nbf = "@+61"}, 401, "invalid_client"},
		{__LINE__, {.nbf = "@+60"}, 200, NULL},
		{__LINE__, {.nbf = "@-600"}, 200, NULL},
		{__LINE__, {.nbf = "@+3000"}, 401, "invalid_client"},
		{__LINE__, {.nbf = "@+0.5"}, 401, "invalid_client"},
		{__LINE__, {.nbf = "\"now\""}, 401, "invalid_client"},
		{__LINE__, {.iat = "@+61"}, 401, "invalid_client"},
		{__LINE__, {.iat = "@+60"}, 200, NULL},
		{__LINE__, {.iat = "@-10"}, 200, NULL},
		{__LINE__, {.iat = "@+0.25"}, 401, "invalid_client"},
		{__LINE__, {.iat = "\"1700000000\""}, 401, "invalid_client"},
		{__LINE__, {.nbf = "@-10", .iat = "@-10"}, 200, NULL},
		/* jti: a non-empty string. */
		{__LINE__, {.jti = JWS_OMIT}, 401, "invalid_client"},
		{__LINE__, {.jti = ""}, 401, "invalid_client"},
		{__LINE__, {.jti = JWS_OMIT, .extra = ",\"jti\":12345"}, 401,
		    "invalid_client"},
		{__LINE__, {.jti = JWS_OMIT, .extra = ",\"jti\":null"}, 401,
		    "invalid_client"},
	};
	char jti[CLIENT_ASSERTION_JTI_MAX + 2];
	struct fx *f = *state;

	pkj_run_cases(f, cases, sizeof(cases) / sizeof(cases[0]));
	memset(jti, 'j', sizeof(jti) - 1);
	jti[sizeof(jti) - 1] = '\0';
	pkj_jwt_expect(__LINE__, f, &(const struct pkj_jwt){.jti = jti}, 401,
	    "invalid_client");
	jti[CLIENT_ASSERTION_JTI_MAX] = '\0';
	pkj_jwt_expect(__LINE__, f, &(const struct pkj_jwt){.jti = jti}, 200,
	    NULL);
}

/*
 * Who the assertion is from (RFC 7523 §3 items 1, 2): iss and sub one
 * registered client, which a client_id beside it must name too.
 */
static void
test_subject_rules(void **state)
{
	static const struct pkj_case cases[] = {
		{__LINE__, {.iss = PKJ_MULTI}, 401, "invalid_client"},
		{__LINE__, {.iss = JWS_OMIT}, 401, "invalid_client"},
		{__LINE__, {.iss = PKJ_ES, .sub = JWS_OMIT}, 401,
		    "invalid_client"},
		{__LINE__, {.iss = "", .sub = ""}, 401, "invalid_client"},
		{__LINE__, {.iss = "nobody", .sub = "nobody"}, 401,
		    "invalid_client"},
		/* The signature of another client's key does not pass. */
		{__LINE__, {.sub = PKJ_MULTI}, 401, "invalid_client"},
		{__LINE__, {.iss = JWS_OMIT, .extra = ",\"iss\":7"}, 401,
		    "invalid_client"},
	};
	struct fx *f = *state;
	size_t before = fx_token_count(f);
	struct fx_resp out;
	char *a;

	pkj_run_cases(f, cases, sizeof(cases) / sizeof(cases[0]));
	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_post(f, "/token", NULL, a, &out,
	    "grant_type=client_credentials&client_id=" PKJ_MULTI);
	pkj_check_refused(__LINE__, f, &out, before, 401, "invalid_client");
	fx_resp_free(&out);
	pkj_post(f, "/token", NULL, a, &out,
	    "grant_type=client_credentials&client_id=" FX_CONF);
	pkj_check_refused(__LINE__, f, &out, before, 401, "invalid_client");
	fx_resp_free(&out);
	free(a);
}

/*
 * The request's form (RFC 7521 §4.2, RFC 6749 §2.3): client_assertion
 * and a client_assertion_type of jwt-bearer together, and no other method
 * beside them; else 400 invalid_request, before any client is read.
 */
static void
test_request_form(void **state)
{
	struct fx *f = *state;
	char basic[FX_HEADER_MAX];
	size_t before = fx_token_count(f);
	struct fx_resp out;
	char *a = pkj_assertion(&(const struct pkj_jwt){0});

	pkj_post(f, "/token", NULL, NULL, &out,
	    "grant_type=client_credentials&client_assertion=%s", a);
	pkj_check_refused(__LINE__, f, &out, before, 400, "invalid_request");
	fx_resp_free(&out);
	pkj_post(f, "/token", NULL, NULL, &out,
	    "grant_type=client_credentials&client_assertion_type=" PKJ_TYPE
	    "&client_id=" PKJ_ES);
	pkj_check_refused(__LINE__, f, &out, before, 400, "invalid_request");
	fx_resp_free(&out);
	/* RFC 6749 §3.1: an empty value is an absent one. */
	pkj_post(f, "/token", NULL, NULL, &out,
	    "grant_type=client_credentials&client_assertion_type=" PKJ_TYPE
	    "&client_assertion=");
	pkj_check_refused(__LINE__, f, &out, before, 400, "invalid_request");
	fx_resp_free(&out);
	pkj_post(f, "/token", NULL, NULL, &out,
	    "grant_type=client_credentials&client_assertion_type="
	    "urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3Asaml2"
	    "-bearer&client_assertion=%s", a);
	pkj_check_refused(__LINE__, f, &out, before, 400, "invalid_request");
	fx_resp_free(&out);
	pkj_post(f, "/token", NULL, NULL, &out,
	    "grant_type=client_credentials&client_assertion_type=jwt-bearer"
	    "&client_assertion=%s", a);
	pkj_check_refused(__LINE__, f, &out, before, 400, "invalid_request");
	fx_resp_free(&out);
	pkj_post(f, "/token", NULL, a, &out,
	    "grant_type=client_credentials&client_assertion=%s", a);
	pkj_check_refused(__LINE__, f, &out, before, 400, "invalid_request");
	fx_resp_free(&out);

	/* Two methods: a secret in the body, or Basic. */
	pkj_post(f, "/token", NULL, a, &out,
	    "grant_type=client_credentials&client_secret=whatever");
	pkj_check_refused(__LINE__, f, &out, before, 400, "invalid_request");
	fx_resp_free(&out);
	pkj_post(f, "/token", NULL, a, &out,
	    "grant_type=client_credentials" PKJ_CONF_POST);
	fx_assert_error(&out, 400, "invalid_request");
	assert_int_equal(fx_token_count(f), before);
	fx_resp_free(&out);
	pkj_post(f, "/token", fx_basic(basic, FX_CONF ":" FX_CONF_SECRET), a,
	    &out, "grant_type=client_credentials");
	fx_assert_error(&out, 400, "invalid_request");
	assert_null(fx_str(&out, "access_token"));
	assert_int_equal(fx_token_count(f), before);
	fx_resp_free(&out);
	pkj_post(f, "/token", fx_basic(basic, PKJ_ES ":"), a, &out,
	    "grant_type=client_credentials");
	fx_assert_error(&out, 400, "invalid_request");
	assert_int_equal(fx_token_count(f), before);
	fx_resp_free(&out);
	pkj_post(f, "/introspect", NULL, a, &out,
	    "token=unknown&client_secret=whatever");
	pkj_check_refused(__LINE__, f, &out, before, 400, "invalid_request");
	fx_resp_free(&out);
	pkj_post(f, "/revoke", fx_basic(basic, FX_CONF ":" FX_CONF_SECRET), a,
	    &out, "token=unknown");
	fx_assert_error(&out, 400, "invalid_request");
	fx_resp_free(&out);

	/* None of that spent the jti. */
	pkj_cc_expect(__LINE__, f, a, 200, NULL);
	free(a);
}

/*
 * What no key of the client signed is refused (RFC 7523 §3 item 9): a
 * stranger's key, even under the kid of the client's; "none"; HS256
 * keyed with the client's public keys (RFC 8725 §2.1); a payload changed
 * after signing; JWS that are not one.
 */
static void
test_signature_rules(void **state)
{
	static const char *const malformed[] = {
		"x", "a.b", "a.b.c", "..", "...", "e30.e30.", "e30.e30.e30",
		"!!!.e30.AAAA",
	};
	struct fx *f = *state;
	struct pkj_jwt j = {.key = PKJ_K_NOBODY};
	char *a, *changed;
	size_t i;

	pkj_jwt_expect(__LINE__, f, &j, 401, "invalid_client");
	j.kid = PKJ_K->jkt;
	pkj_jwt_expect(__LINE__, f, &j, 401, "invalid_client");
	j = (struct pkj_jwt){.sig = JWS_SIG_EMPTY, .alg = "none"};
	pkj_jwt_expect(__LINE__, f, &j, 401, "invalid_client");
	j.alg = NULL;
	pkj_jwt_expect(__LINE__, f, &j, 401, "invalid_client");
	j = (struct pkj_jwt){.sig = JWS_SIG_HS256_JWK, .alg = "HS256",
	    .mac_key = pkj_jwks_es};
	pkj_jwt_expect(__LINE__, f, &j, 401, "invalid_client");
	j.mac_key = PKJ_K->jwk_full;
	pkj_jwt_expect(__LINE__, f, &j, 401, "invalid_client");
	j.mac_key = PKJ_K->jwk;
	pkj_jwt_expect(__LINE__, f, &j, 401, "invalid_client");
	j = (struct pkj_jwt){.claims = "[\"" PKJ_ES "\"]"};
	pkj_jwt_expect(__LINE__, f, &j, 401, "invalid_client");
	j = (struct pkj_jwt){.header = "{\"alg\":\"ES256\",\"crit\":[\"x\"],"
	    "\"x\":1}"};
	pkj_jwt_expect(__LINE__, f, &j, 401, "invalid_client");

	a = pkj_assertion(&(const struct pkj_jwt){.jti = "changed"});
	changed = jws_replace_part(a, 1, "{\"iss\":\"" PKJ_ES "\",\"sub\":\""
	    PKJ_ES "\",\"aud\":" PKJ_AUD ",\"exp\":1700000600,\"jti\":"
	    "\"changed\"}");
	pkj_cc_expect(__LINE__, f, changed, 401, "invalid_client");
	free(changed);
	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		pkj_cc_expect(__LINE__, f, malformed[i], 401, "invalid_client");
	/* None of it spent the jti its claims name. */
	pkj_cc_expect(__LINE__, f, a, 200, NULL);
	free(a);
}

/*
 * One method a client (RFC 7591 §2): a client of a secret sending an
 * assertion, and a client of keys sending a secret or nothing, are 401.
 */
static void
test_method_of_client(void **state)
{
	struct fx *f = *state;
	char basic[FX_HEADER_MAX];
	size_t before = fx_token_count(f);
	struct fx_resp out;

	/* conf has a secret and no keys; PKJ_K signs as conf. */
	pkj_jwt_expect(__LINE__, f, &(const struct pkj_jwt){.sub = FX_CONF},
	    401, "invalid_client");
	pkj_jwt_expect(__LINE__, f, &(const struct pkj_jwt){.sub = FX_PUB},
	    401, "invalid_client");

	fx_post(f, "/token", NULL, "grant_type=client_credentials&client_id="
	    PKJ_ES "&client_secret=whatever", &out);
	pkj_check_refused(__LINE__, f, &out, before, 401, "invalid_client");
	fx_resp_free(&out);
	fx_post(f, "/token", NULL, "grant_type=client_credentials&client_id="
	    PKJ_ES, &out);
	pkj_check_refused(__LINE__, f, &out, before, 401, "invalid_client");
	fx_resp_free(&out);
	/* With the header, the 401 names Basic (RFC 6749 §5.2). */
	fx_post(f, "/token", fx_basic(basic, PKJ_ES ":whatever"),
	    "grant_type=client_credentials", &out);
	fx_assert_error(&out, 401, "invalid_client");
	assert_non_null(out.r.www_authenticate);
	assert_string_equal(out.r.www_authenticate, "Basic realm=\"oauth\"");
	assert_int_equal(fx_token_count(f), before);
	fx_resp_free(&out);
	fx_post(f, "/token", fx_basic(basic, PKJ_ES ":"),
	    "grant_type=client_credentials", &out);
	fx_assert_error(&out, 401, "invalid_client");
	fx_resp_free(&out);
	fx_post(f, "/introspect", NULL, "token=unknown&client_id=" PKJ_ES
	    "&client_secret=whatever", &out);
	pkj_check_refused(__LINE__, f, &out, before, 401, "invalid_client");
	fx_resp_free(&out);
	fx_post(f, "/revoke", NULL, "token=unknown&client_id=" PKJ_ES, &out);
	pkj_check_refused(__LINE__, f, &out, before, 401, "invalid_client");
	fx_resp_free(&out);
}

/*
 * The other grants by assertion: a code redeemed and its refresh token
 * used, each with an assertion of its own.
 */
static void
test_grants_by_assertion(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1], refresh[TOKEN_PRESENTED_MAX + 1];
	size_t before;
	struct fx_resp out;
	char *a;

	fx_code(f, PKJ_MULTI, "scope=read", code);
	a = pkj_assertion(&(const struct pkj_jwt){.key = PKJ_K_ED,
	    .sub = PKJ_MULTI});
	pkj_post(f, "/token", NULL, a, &out, "grant_type=authorization_code"
	    "&code=%s&code_verifier=" FX_VERIFIER, code);
	fx_assert_status(&out, 200);
	assert_string_equal(fx_str(&out, "scope"), "read");
	fx_copy(refresh, &out, "refresh_token");
	fx_resp_free(&out);
	free(a);

	a = pkj_assertion(&(const struct pkj_jwt){.key = PKJ_K_RS,
	    .sub = PKJ_MULTI});
	pkj_post(f, "/token", NULL, a, &out,
	    "grant_type=refresh_token&refresh_token=%s", refresh);
	fx_assert_status(&out, 200);
	assert_non_null(fx_str(&out, "refresh_token"));
	fx_resp_free(&out);
	free(a);

	/* A refresh token of a client of keys needs its assertion. */
	before = fx_token_count(f);
	fx_postf(f, "/token", NULL, &out, "grant_type=refresh_token"
	    "&refresh_token=%s&client_id=" PKJ_MULTI, refresh);
	pkj_check_refused(__LINE__, f, &out, before, 401, "invalid_client");
	fx_resp_free(&out);
}

/*
 * POSTs body to path with the assertion a, expecting the refusal
 * status/code after the client authenticated; then a client_credentials
 * request with the same assertion, which must find its jti spent.
 */
static void
pkj_refused_then_replayed(int line, struct fx *f, const char *path,
    const char *a, const char *body, int status, const char *code)
{
	size_t before = fx_token_count(f);
	struct fx_resp out;

	pkj_post(f, path, NULL, a, &out, "%s", body);
	pkj_check_refused(line, f, &out, before, status, code);
	fx_resp_free(&out);
	pkj_cc(f, a, &out);
	pkj_check_refused(line, f, &out, before, 401, "invalid_client");
	fx_resp_free(&out);
}

/*
 * RFC 7523 §3 item 7: the jti is spent once the client authenticated,
 * whatever /token answers next: a grant_type the client may not use, a
 * bad code or refresh token, a scope beyond its own.
 */
static void
test_spent_after_refusal_token(void **state)
{
	struct fx *f = *state;
	char *a;

	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_refused_then_replayed(__LINE__, f, "/token", a,
	    "grant_type=authorization_code&code=nothing&code_verifier="
	    FX_VERIFIER, 400, "unauthorized_client");
	free(a);
	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_refused_then_replayed(__LINE__, f, "/token", a,
	    "grant_type=refresh_token&refresh_token=nothing", 400,
	    "unauthorized_client");
	free(a);
	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_refused_then_replayed(__LINE__, f, "/token", a,
	    "grant_type=client_credentials&scope=admin", 400,
	    "invalid_scope");
	free(a);

	/* PKJ_MULTI may use every grant; what it presents is wrong. */
	a = pkj_assertion(&(const struct pkj_jwt){.key = PKJ_K_RS,
	    .sub = PKJ_MULTI});
	pkj_refused_then_replayed(__LINE__, f, "/token", a,
	    "grant_type=refresh_token&refresh_token=nothing", 400,
	    "invalid_grant");
	free(a);
	a = pkj_assertion(&(const struct pkj_jwt){.key = PKJ_K_ED,
	    .sub = PKJ_MULTI});
	pkj_refused_then_replayed(__LINE__, f, "/token", a,
	    "grant_type=authorization_code&code=nothing&code_verifier="
	    FX_VERIFIER, 400, "invalid_grant");
	free(a);
}

/* The same at /revoke and /introspect. */
static void
test_spent_after_refusal_presented(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1], body[TOKEN_PRESENTED_MAX + 16];
	char *a;

	/* RFC 7009 §2.1: another client's token is not PKJ_ES's to end. */
	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	assert_true((size_t)snprintf(body, sizeof(body), "token=%s", token) <
	    sizeof(body));
	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_refused_then_replayed(__LINE__, f, "/revoke", a, body, 400,
	    "invalid_grant");
	free(a);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, token), 1);
	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_refused_then_replayed(__LINE__, f, "/revoke", a,
	    "token_type_hint=access_token", 400, "invalid_request");
	free(a);
	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_refused_then_replayed(__LINE__, f, "/introspect", a,
	    "token_type_hint=access_token", 400, "invalid_request");
	free(a);
}

/*
 * RFC 7662 §2.1: at /introspect an "Authorization: Bearer" token
 * authorizes; with an assertion in the body too, that is two methods.
 * At /token and /revoke a Bearer header is no client authentication,
 * so the assertion alone is.
 */
static void
test_bearer_beside_assertion(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1], bearer[FX_HEADER_MAX];
	size_t before;
	struct fx_resp out;
	char *a;

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	assert_true((size_t)snprintf(bearer, sizeof(bearer), "Bearer %s",
	    token) < sizeof(bearer));
	before = fx_token_count(f);
	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_post(f, "/introspect", bearer, a, &out, "token=%s", token);
	fx_assert_error(&out, 400, "invalid_request");
	assert_null(fx_str(&out, "active"));
	fx_resp_free(&out);
	pkj_post(f, "/introspect", bearer, NULL, &out,
	    "token=%s&client_assertion_type=" PKJ_TYPE, token);
	fx_assert_error(&out, 400, "invalid_request");
	fx_resp_free(&out);
	assert_int_equal(fx_token_count(f), before);
	/* Refused before the assertion was looked at: its jti is unspent. */
	pkj_post(f, "/token", bearer, a, &out, "grant_type=client_credentials");
	pkj_check_issued(__LINE__, f, &out, before);
	fx_resp_free(&out);
	free(a);

	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_post(f, "/revoke", bearer, a, &out, "token=unknown");
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	free(a);
}

/*
 * Without OAUTH_ISSUER the server cannot tell which aud is its own: a
 * Host is the peer's to choose, and an assertion made for another server
 * would pass.  An assertion is refused as the server's failure then,
 * nothing written, while clients of secrets carry on.
 */
static void
test_no_issuer(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1];
	size_t before;
	struct fx_resp out;
	char *a;

	f->config.issuer = NULL;
	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	before = fx_token_count(f);
	a = pkj_assertion(&(const struct pkj_jwt){0});
	pkj_cc(f, a, &out);
	pkj_check_refused(__LINE__, f, &out, before, 500, "server_error");
	fx_resp_free(&out);
	pkj_post(f, "/introspect", NULL, a, &out, "token=%s", token);
	pkj_check_refused(__LINE__, f, &out, before, 500, "server_error");
	fx_resp_free(&out);
	pkj_post(f, "/revoke", NULL, a, &out, "token=%s", token);
	pkj_check_refused(__LINE__, f, &out, before, 500, "server_error");
	fx_resp_free(&out);
	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	assert_int_equal(fx_token_count(f), before + 1);

	/*
	 * Nothing was spent or revoked: once configured (introspection
	 * names the issuer too), the token is active and the same
	 * assertion works.
	 */
	f->config.issuer = f->issuer;
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, token), 1);
	pkj_cc_expect(__LINE__, f, a, 200, NULL);
	free(a);
}

/* The same with a Host, whose issuer the assertion names. */
static void
test_no_issuer_host(void **state)
{
	struct fx *f = *state;
	size_t before = fx_token_count(f);
	struct fx_resp out;
	char body[FX_BODY_MAX];
	char *a;

	f->config.issuer = NULL;
	a = pkj_assertion(&(const struct pkj_jwt){.aud =
	    "\"https://as.example\""});
	assert_true((size_t)snprintf(body, sizeof(body),
	    "grant_type=client_credentials&client_assertion_type=" PKJ_TYPE
	    "&client_assertion=%s", a) < sizeof(body));
	fx_run(f, &(const struct fx_req){.method = "POST", .path = "/token",
	    .content_type = "application/x-www-form-urlencoded", .body = body,
	    .host = "as.example", .https = "on"}, &out);
	pkj_check_refused(__LINE__, f, &out, before, 500, "server_error");
	fx_resp_free(&out);
	fx_run(f, &(const struct fx_req){.method = "POST", .path = "/token",
	    .content_type = "application/x-www-form-urlencoded",
	    .body = "grant_type=client_credentials" PKJ_CONF_POST,
	    .host = "as.example", .https = "on"}, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	free(a);
}

/*
 * A refused request writes nothing: after every way of refusing
 * assertions that share one jti, no token and no spent jti is stored,
 * and an assertion with that jti then works.  A request refused before
 * the client is authenticated (no or an unknown grant_type) does not
 * spend its assertion's jti either.
 */
static void
test_refused_writes_nothing(void **state)
{
	static const struct pkj_case cases[] = {
		{__LINE__, {.jti = "kept", .key = PKJ_K_NOBODY}, 401,
		    "invalid_client"},
		{__LINE__, {.jti = "kept", .aud = "\"" PKJ_OTHER_AS "\""}, 401,
		    "invalid_client"},
		{__LINE__, {.jti = "kept", .exp = "@-61"}, 401,
		    "invalid_client"},
		{__LINE__, {.jti = "kept", .exp = "@+3601"}, 401,
		    "invalid_client"},
		{__LINE__, {.jti = "kept", .nbf = "@+61"}, 401,
		    "invalid_client"},
		{__LINE__, {.jti = "kept", .iss = PKJ_MULTI}, 401,
		    "invalid_client"},
		{__LINE__, {.jti = "kept", .sig = JWS_SIG_EMPTY,
		    .alg = "none"}, 401, "invalid_client"},
		{__LINE__, {.jti = "kept", .sub = FX_CONF}, 401,
		    "invalid_client"},
	};
	struct fx *f = *state;
	size_t before = fx_token_count(f);
	struct fx_resp out;
	char *a;

	pkj_run_cases(f, cases, sizeof(cases) / sizeof(cases[0]));
	a = pkj_assertion(&(const struct pkj_jwt){.jti = "kept"});
	pkj_post(f, "/token", NULL, a, &out,
	    "grant_type=client_credentials&client_id=" PKJ_MULTI);
	pkj_check_refused(__LINE__, f, &out, before, 401, "invalid_client");
	fx_resp_free(&out);
	pkj_post(f, "/token", NULL, a, &out,
	    "grant_type=client_credentials&client_secret=x");
	pkj_check_refused(__LINE__, f, &out, before, 400, "invalid_request");
	fx_resp_free(&out);
	pkj_post(f, "/token", NULL, a, &out, "grant_type=password");
	pkj_check_refused(__LINE__, f, &out, before, 400,
	    "unsupported_grant_type");
	fx_resp_free(&out);
	pkj_post(f, "/token", NULL, a, &out, "scope=read");
	pkj_check_refused(__LINE__, f, &out, before, 400, "invalid_request");
	fx_resp_free(&out);
	assert_int_equal(fx_token_count(f), before);
	assert_int_equal(pkj_seen_purged(f), 0);

	pkj_cc_expect(__LINE__, f, a, 200, NULL);
	pkj_cc_expect(__LINE__, f, a, 401, "invalid_client");
	free(a);
	assert_int_equal(pkj_seen_purged(f), 1);
}

#define PKJ_TEST(name) cmocka_unit_test_setup_teardown(name, pkj_setup, \
	fx_teardown)

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		PKJ_TEST(test_valid_assertion),
		PKJ_TEST(test_each_alg),
		PKJ_TEST(test_replay_token),
		PKJ_TEST(test_replay_across_endpoints),
		PKJ_TEST(test_replay_per_client),
		PKJ_TEST(test_claim_rules),
		PKJ_TEST(test_subject_rules),
		PKJ_TEST(test_request_form),
		PKJ_TEST(test_signature_rules),
		PKJ_TEST(test_method_of_client),
		PKJ_TEST(test_grants_by_assertion),
		PKJ_TEST(test_spent_after_refusal_token),
		PKJ_TEST(test_spent_after_refusal_presented),
		PKJ_TEST(test_bearer_beside_assertion),
		PKJ_TEST(test_no_issuer),
		PKJ_TEST(test_no_issuer_host),
		PKJ_TEST(test_refused_writes_nothing),
	};

	/* A test name (a glob) as the argument runs only the tests it names. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, pkj_group_setup,
	    pkj_group_teardown);
}
