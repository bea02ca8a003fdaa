/*
 * DPoP (RFC 9449) through handler_dispatch: proofs at /token (§4.3, §5)
 * bind the tokens issued to the proof's key (token_type DPoP, cnf.jkt in
 * introspection and in JWT access tokens, §6), once per jti (§11.1);
 * clients that require a proof (§5.2); codes asked for with dpop_jkt
 * (§10); public clients' refresh tokens (§5); /userinfo with the DPoP
 * scheme and ath (§7); the algorithms metadata advertises (§5.1).  Every
 * proof is made by tests/unit/jws_fixture.h, signed with OpenSSL directly,
 * and the clock is pinned: iat is UNIT_NOW unless a row says otherwise.
 */
#include "handler_fixture.h"
#include "jws_fixture.h"

#define DP_TOKEN_URL FX_ISSUER "/token"
#define DP_USERINFO_URL FX_ISSUER "/userinfo"
#define DP_CONF_AUTH "&client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET
#define DP_CC "grant_type=client_credentials" DP_CONF_AUTH
#define DP_BOUND "dpop-only"	/* a client registered dpop_bound */
#define DP_BOUND_SECRET "dpop-only-secret-0123456789abcdef"
#define DP_JWT "jwt-cc"		/* a client of JWT access tokens */
#define DP_JWT_SECRET "jwt-cc-secret-0123456789abcdef01"
#define DP_ALGS "algs=\"ES256 EdDSA Ed25519 RS256\""
#define DP_WWW_PROOF "DPoP error=\"invalid_dpop_proof\", " DP_ALGS
#define DP_WWW_INVALID "DPoP error=\"invalid_token\", " DP_ALGS
#define DP_WWW_SCOPE \
	"DPoP error=\"insufficient_scope\", scope=\"openid\", " DP_ALGS
#define DP_WWW_BEARER_INVALID "Bearer error=\"invalid_token\""
#define DP_JTI_LONG 300		/* bytes of the longest jti of a row */
#define DP_BODY_MAX 2048	/* a decoded JWT payload */

/* The proof keys of the run, made once: RSA generation is slow. */
enum {
	DP_K_ES256 = 0,		/* the key most rows prove */
	DP_K_ES256_OTHER,	/* another key of the same kind */
	DP_K_EDDSA,
	DP_K_RS256,
	DP_K_RSA1024,		/* below RFC 7518 §3.3's 2048 bits */
	DP_K__MAX
};

static struct jws_key dp_keys[DP_K__MAX];
static char *dp_server_pem;	/* the server's RS256 signing key */

#define DP_K (&dp_keys[DP_K_ES256])
#define DP_K_OTHER (&dp_keys[DP_K_ES256_OTHER])

/* Makes the keys of the run. */
/*
 * A 1024-bit RSA key into k, which jose.c will neither make nor describe:
 * its bare JWK is written here from n and e.
 */
static void
dp_weak_rsa(struct jws_key *k)
{
	unsigned char bytes[JWS_SIG_BYTES_MAX];
	char n[JWS_SIG_BYTES_MAX * 2], e[16];
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	struct buf b = {0};

	memset(k, 0, sizeof(*k));
	k->alg = JOSE_ALG_RS256;
	assert_non_null(k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)1024));
	assert_int_equal(EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N,
	    &bn_n), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E,
	    &bn_e), 1);
	assert_true(b64url_encode(bytes, (size_t)BN_bn2bin(bn_n, bytes), n,
	    sizeof(n)) > 0);
	assert_true(b64url_encode(bytes, (size_t)BN_bn2bin(bn_e, bytes), e,
	    sizeof(e)) > 0);
	assert_int_equal(buf_printf(&b, "{\"kty\":\"RSA\",\"n\":\"%s\","
	    "\"e\":\"%s\"}", n, e), 0);
	k->jwk = buf_steal(&b);
	jws_jkt_of(k->jwk, k->jkt);
	BN_free(bn_n);
	BN_free(bn_e);
}

static int
dp_group_setup(void **state)
{
	static const enum jose_alg algs[DP_K_RSA1024] = {
		JOSE_ALG_ES256, JOSE_ALG_ES256, JOSE_ALG_EDDSA, JOSE_ALG_RS256,
	};
	struct buf pem = {0};
	size_t i;

	(void)state;
	for (i = 0; i < DP_K_RSA1024; i++)
		jws_key_make(&dp_keys[i], algs[i]);
	dp_weak_rsa(&dp_keys[DP_K_RSA1024]);
	if (jose_key_generate(JOSE_ALG_RS256, &pem) == -1)
		return -1;
	dp_server_pem = buf_steal(&pem);
	return 0;
}

static int
dp_group_teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < DP_K__MAX; i++)
		jws_key_free(&dp_keys[i]);
	free(dp_server_pem);
	dp_server_pem = NULL;
	return 0;
}

/*
 * Registers spec as fx_add_client does, then marks it dpop_bound and
 * gives it token_format, which struct fx_client cannot say.
 */
static void
dp_add_client(struct fx *f, const struct fx_client *spec, int dpop_bound,
    enum client_token_format token_format)
{
	struct store_txn *txn;
	struct client c;

	fx_add_client(f, spec);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_txn_begin(f->store, 1, &txn), STORE_OK);
	assert_int_equal(store_client_get(txn, spec->id, &c), STORE_OK);
	c.dpop_bound = dpop_bound;
	c.token_format = token_format;
	assert_int_equal(store_client_put(txn, &c, 1), STORE_OK);
	assert_int_equal(store_txn_commit(txn), STORE_OK);
	client_free(&c);
}

/*
 * The standard clients, DP_BOUND and DP_JWT (client_credentials), and the
 * server's RS256 key, which ID Tokens and JWT access tokens are signed
 * with.
 */
static int
dp_setup(void **state)
{
	static const struct fx_key_times always = {0, 0, 0, 0};
	struct fx *f;

	if (fx_setup(state) != 0)
		return -1;
	f = *state;
	fx_add_key(f, JOSE_ALG_RS256, dp_server_pem, &always, NULL);
	dp_add_client(f, &(const struct fx_client){DP_BOUND, DP_BOUND_SECRET,
	    "read", GRANT_CLIENT_CREDENTIALS, 0, NULL, {NULL}}, 1,
	    CLIENT_TOKEN_DEFAULT);
	dp_add_client(f, &(const struct fx_client){DP_JWT, DP_JWT_SECRET,
	    "read", GRANT_CLIENT_CREDENTIALS, 0, NULL, {NULL}}, 0,
	    CLIENT_TOKEN_JWT);
	return 0;
}

/*
 * fx_run with the DPoP header dpop (NULL: none), which struct fx_req
 * cannot carry.
 */
static void
dp_run(struct fx *f, const struct fx_req *q, const char *dpop,
    struct fx_resp *out)
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
	req.dpop = dpop;
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

/* POSTs the form body fmt... to /token with the DPoP header dpop. */
static void
dp_token(struct fx *f, const char *dpop, struct fx_resp *out,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
dp_token(struct fx *f, const char *dpop, struct fx_resp *out,
    const char *fmt, ...)
{
	char body[FX_BODY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(body));
	dp_run(f, &(const struct fx_req){.method = "POST", .path = "/token",
	    .content_type = "application/x-www-form-urlencoded",
	    .body = body}, dpop, out);
}

/* A proof by k for POST /token, as a well-behaved client makes it. */
static char *
dp_token_proof(const struct jws_key *k)
{
	return jws_dpop(&(const struct jws_dpop){.key = k, .htm = "POST",
	    .htu = DP_TOKEN_URL});
}

/* The string member name of o, or NULL. */
static const char *
dp_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * Checks that out is a token response of token_type type ("DPoP" or
 * "Bearer"); line names the caller's case.
 */
static void
dp_check_issued(int line, const struct fx_resp *out, const char *type)
{
	const char *got;

	fx_check_status(line, out, 200);
	if (fx_str(out, "access_token") == NULL)
		fail_msg("line %d: no access_token: %s", line,
		    out->r.body.data);
	got = fx_str(out, "token_type");
	if (got == NULL || strcmp(got, type) != 0)
		fail_msg("line %d: token_type of %s, want %s", line,
		    out->r.body.data, type);
}

/*
 * Checks that out is the 400 invalid_dpop_proof of /token (RFC 9449 §5),
 * with no token in it and none stored since the store held before.
 */
static void
dp_check_refused(int line, struct fx *f, const struct fx_resp *out,
    size_t before)
{
	fx_check_error(line, out, 400, "invalid_dpop_proof");
	if (fx_str(out, "access_token") != NULL)
		fail_msg("line %d: a token with the error", line);
	if (fx_token_count(f) != before)
		fail_msg("line %d: %zu records stored, want %zu", line,
		    fx_token_count(f), before);
}

/*
 * Introspects token as FX_RS into out (a JSON object the caller
 * releases); fails unless it is active.
 */
static void
dp_introspect(struct fx *f, const char *token, struct fx_resp *out)
{
	fx_present(f, "/introspect", "&client_id=" FX_RS "&client_secret="
	    FX_RS_SECRET, token, NULL, out);
	fx_assert_status(out, 200);
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out->json,
	    "active")))
		fail_msg("not active: %s", out->r.body.data);
}

/*
 * Checks that the confirmation cnf (a member of an introspection answer
 * or of JWT claims, RFC 7800 §3.1) is exactly {"jkt": jkt} (RFC 9449
 * §6), or absent when jkt is NULL.
 */
static void
dp_check_cnf(int line, const cJSON *o, const char *jkt)
{
	const cJSON *cnf = cJSON_GetObjectItemCaseSensitive(o, "cnf");
	const char *got;

	if (jkt == NULL) {
		if (cnf != NULL)
			fail_msg("line %d: cnf in an unbound token", line);
		return;
	}
	if (!cJSON_IsObject(cnf) || cJSON_GetArraySize(cnf) != 1 ||
	    (got = dp_str(cnf, "jkt")) == NULL || strcmp(got, jkt) != 0)
		fail_msg("line %d: cnf is not {\"jkt\":\"%s\"}", line, jkt);
}

/*
 * Checks how token introspects: token_type type and cnf.jkt jkt (NULL:
 * no cnf).
 */
static void
dp_check_introspected(int line, struct fx *f, const char *token,
    const char *type, const char *jkt)
{
	struct fx_resp out;
	const char *got;

	dp_introspect(f, token, &out);
	got = fx_str(&out, "token_type");
	if (got == NULL || strcmp(got, type) != 0)
		fail_msg("line %d: introspected %s, want token_type %s", line,
		    out.r.body.data, type);
	dp_check_cnf(line, out.json, jkt);
	fx_resp_free(&out);
}

/*
 * client_credentials with a valid proof (§5): 200, token_type DPoP, and
 * the token introspects as DPoP with cnf.jkt the RFC 7638 thumbprint of
 * the proof's key, as the client computes it (§6.1, §6.2).  Without a
 * proof the same request is what it always was: Bearer, no cnf.  The
 * answer's members are those of RFC 6749 §5.1, no more.
 */
static void
test_cc_bound(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	char *proof = dp_token_proof(DP_K);

	dp_token(f, proof, &out, DP_CC);
	dp_check_issued(__LINE__, &out, "DPoP");
	assert_int_equal(fx_members(&out), 4);
	assert_true(out.r.no_store);
	fx_copy(token, &out, "access_token");
	fx_resp_free(&out);
	free(proof);
	dp_check_introspected(__LINE__, f, token, "DPoP", DP_K->jkt);

	dp_token(f, NULL, &out, DP_CC);
	dp_check_issued(__LINE__, &out, "Bearer");
	fx_copy(token, &out, "access_token");
	fx_resp_free(&out);
	dp_check_introspected(__LINE__, f, token, "Bearer", NULL);
}

/* The claims of the JWT jwt, decoded without verifying (the caller's). */
static cJSON *
dp_jwt_claims(const char *jwt)
{
	unsigned char body[DP_BODY_MAX];
	const char *dot1 = strchr(jwt, '.'), *dot2;
	size_t n = 0;
	cJSON *claims;

	assert_non_null(dot1);
	assert_non_null(dot2 = strchr(dot1 + 1, '.'));
	assert_int_equal(jose_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 -
	    1), body, sizeof(body) - 1, &n), 0);
	body[n] = '\0';
	assert_non_null(claims = cJSON_Parse((const char *)body));
	return claims;
}

/*
 * A JWT access token issued with a proof carries cnf.jkt, the proof key's
 * thumbprint (RFC 9449 §6.1), so that a resource verifying it at the edge
 * can check the proof; introspected it says the same.  Issued without a
 * proof it carries no cnf.
 */
static void
test_jwt_cnf(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	cJSON *claims;
	char *proof = dp_token_proof(DP_K);

	dp_token(f, proof, &out, "grant_type=client_credentials&client_id="
	    DP_JWT "&client_secret=" DP_JWT_SECRET);
	dp_check_issued(__LINE__, &out, "DPoP");
	fx_copy(token, &out, "access_token");
	fx_resp_free(&out);
	free(proof);
	claims = dp_jwt_claims(token);
	assert_string_equal(dp_str(claims, "client_id"), DP_JWT);
	dp_check_cnf(__LINE__, claims, DP_K->jkt);
	cJSON_Delete(claims);
	dp_check_introspected(__LINE__, f, token, "DPoP", DP_K->jkt);

	dp_token(f, NULL, &out, "grant_type=client_credentials&client_id="
	    DP_JWT "&client_secret=" DP_JWT_SECRET);
	dp_check_issued(__LINE__, &out, "Bearer");
	fx_copy(token, &out, "access_token");
	fx_resp_free(&out);
	claims = dp_jwt_claims(token);
	dp_check_cnf(__LINE__, claims, NULL);
	cJSON_Delete(claims);
}

/* How a row of test_proof_rules turns its proof into the header sent. */
enum dp_mangle {
	DP_AS_MADE = 0,
	DP_TWICE,	/* two good proofs joined ", ", as proxies join */
	DP_TAMPERED,	/* the payload swapped for other good claims */
	DP_PADDED,	/* "=" after the signature */
	DP_FOUR_PARTS,	/* a fourth part after the signature */
	DP_RAW,		/* raw is sent instead */
};

/* A row of test_proof_rules: a proof at /token and whether it passes. */
struct dp_proof_case {
	int line;
	struct jws_dpop p;	/* key, htm and htu default as dp_fill says */
	enum dp_mangle mangle;
	const char *raw;
	int ok;
};

/*
 * The defaults of a row's proof: ES256 by DP_K, POST, DP_TOKEN_URL (the
 * row says JWS_OMIT to leave one out).
 */
static struct jws_dpop
dp_fill(const struct jws_dpop *p, const char *htm, const char *htu)
{
	struct jws_dpop q = *p;

	if (q.key == NULL)
		q.key = DP_K;
	if (q.htm == NULL)
		q.htm = htm;
	if (q.htu == NULL)
		q.htu = htu;
	return q;
}

/* The DPoP header a row of test_proof_rules sends. */
static char *
dp_case_header(const struct dp_proof_case *c)
{
	struct jws_dpop p = dp_fill(&c->p, "POST", DP_TOKEN_URL);
	char *proof, *other, *claims, *out;
	struct buf b = {0};

	if (c->mangle == DP_RAW)
		return jws_strdup(c->raw);
	proof = jws_dpop(&p);
	switch (c->mangle) {
	case DP_AS_MADE:
		return proof;
	case DP_TWICE:
		other = jws_dpop(&p);
		assert_int_equal(buf_printf(&b, "%s, %s", proof, other), 0);
		free(other);
		break;
	case DP_TAMPERED:
		/* Claims that would pass on their own: a new jti. */
		claims = jws_dpop_claims(&p);
		out = jws_replace_part(proof, 1, claims);
		free(claims);
		free(proof);
		return out;
	case DP_PADDED:
		assert_int_equal(buf_printf(&b, "%s=", proof), 0);
		break;
	case DP_FOUR_PARTS:
		assert_int_equal(buf_printf(&b, "%s.AAAA", proof), 0);
		break;
	case DP_RAW:
		break;
	}
	free(proof);
	return buf_steal(&b);
}

/* The JSON object text jwk with the members text added at its end. */
static const char *
dp_jwk_with(char *buf, size_t size, const char *jwk, const char *members)
{
	size_t len = strlen(jwk);

	assert_true(len > 0 && jwk[len - 1] == '}');
	assert_true((size_t)snprintf(buf, size, "%.*s%s}", (int)(len - 1), jwk,
	    members) < size);
	return buf;
}

/* A jti of len bytes of 'j', in buf. */
static const char *
dp_jti_of(char buf[DP_JTI_LONG + 1], size_t len)
{
	assert_true(len <= DP_JTI_LONG);
	memset(buf, 'j', len);
	buf[len] = '\0';
	return buf;
}

/* The number text of t in buf. */
static const char *
dp_num(char buf[32], int64_t t)
{
	snprintf(buf, 32, "%" PRId64, t);
	return buf;
}

/*
 * Every check of RFC 9449 §4.3 at /token, one row each, against a
 * client_credentials request that is otherwise good: each failure is 400
 * invalid_dpop_proof with no token issued nor stored (§5), and the rows
 * next to each failure that must pass show where the line is drawn.
 *   1  one proof: two joined by ", " are not one; nor is anything not a
 *      compact JWS (two or four parts, padding, JSON serialization);
 *   4  typ dpop+jwt (a media type: case-insensitive, RFC 7515 §4.1.9);
 *   5  alg asymmetric and ours (Ed25519 too, EdDSA's RFC 9864 name;
 *      names are case-sensitive): not "none", not HS256 (RFC 8725 §2.1:
 *      a MAC keyed with the public key, nor with an "oct" jwk), not one
 *      the jwk is not for, and no "crit";
 *   6  the signature verifies with the header's jwk, and no other: not a
 *      key other than the signer's, not a payload it was not made over;
 *   7  jwk a public key of at least 2048 bits for RSA, with no "d"; the
 *      members jose_jwk_public writes (kid, alg, use "sig") pass,
 *      "use":"enc" or another "alg" does not;
 *   3  the claims an object of unique members (a second htu would be
 *      read by cJSON as the first, by another parser as the last);
 *   8  htm this request's method, exactly;
 *   9  htu this endpoint as metadata advertises it (the issuer, then
 *      PATH_INFO) after RFC 3986 §6 normalisation: scheme and host case
 *      and the default port do not matter, the query and fragment are
 *      left out; another host, path, scheme, port or a trailing "/" do;
 *   11 iat an integer within 300 s before now and 60 s after, both ends
 *      included;
 *   and a jti of 1 to 256 bytes.
 */
static void
test_proof_rules(void **state)
{
	char jti_max[DP_JTI_LONG + 1], jti_over[DP_JTI_LONG + 1];
	char past[32], past_over[32], ahead[32], ahead_over[32];
	char big[JOSE_JWS_MAX], jwk_enc[512], jwk_rs[512], jwk_eddsa[512];
	const struct dp_proof_case cases[] = {
		/* A good proof of each kind of key, and as it may vary. */
		{__LINE__, {0}, DP_AS_MADE, NULL, 1},
		{__LINE__, {.key = &dp_keys[DP_K_EDDSA]}, DP_AS_MADE, NULL, 1},
		{__LINE__, {.key = &dp_keys[DP_K_RS256]}, DP_AS_MADE, NULL, 1},
		{__LINE__, {.key = &dp_keys[DP_K_EDDSA], .alg = "Ed25519"},
		    DP_AS_MADE, NULL, 1},
		{__LINE__, {.typ = "DPoP+JWT"}, DP_AS_MADE, NULL, 1},
		{__LINE__, {.jwk = DP_K->jwk_full}, DP_AS_MADE, NULL, 1},
		{__LINE__, {.extra = ",\"nonce\":\"n\",\"x\":[1,{\"y\":2}]"},
		    DP_AS_MADE, NULL, 1},
		/* 1: one compact JWS. */
		{__LINE__, {0}, DP_TWICE, NULL, 0},
		{__LINE__, {0}, DP_RAW, "", 0},
		{__LINE__, {0}, DP_RAW, "not-a-jws", 0},
		{__LINE__, {0}, DP_RAW, "e30.e30", 0},
		{__LINE__, {0}, DP_RAW,
		    "{\"payload\":\"e30\",\"signatures\":[]}", 0},
		{__LINE__, {0}, DP_PADDED, NULL, 0},
		{__LINE__, {0}, DP_FOUR_PARTS, NULL, 0},
		/* 4: typ. */
		{__LINE__, {.typ = JWS_OMIT}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.typ = "jwt"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.typ = "at+jwt"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.header_extra = ",\"typ\":\"dpop+jwt\""},
		    DP_AS_MADE, NULL, 0},
		/* 5: alg. */
		{__LINE__, {.alg = "none", .sig = JWS_SIG_EMPTY}, DP_AS_MADE,
		    NULL, 0},
		{__LINE__, {.alg = "HS256", .sig = JWS_SIG_HS256_JWK},
		    DP_AS_MADE, NULL, 0},
		{__LINE__, {.alg = JWS_OMIT}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.alg = "RS256"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.alg = "EdDSA"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.alg = "Ed25519"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.alg = "ed25519", .key = &dp_keys[DP_K_EDDSA]},
		    DP_AS_MADE, NULL, 0},
		{__LINE__, {.alg = "Ed448", .key = &dp_keys[DP_K_EDDSA]},
		    DP_AS_MADE, NULL, 0},
		{__LINE__, {.header_extra = ",\"crit\":[\"exp\"]"}, DP_AS_MADE,
		    NULL, 0},
		/* 6, 7: jwk and signature. */
		{__LINE__, {.jwk = JWS_OMIT}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.jwk = "\"" "not-a-jwk" "\""}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.jwk = DP_K->jwk_private}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.jwk = dp_jwk_with(jwk_enc, sizeof(jwk_enc),
		    DP_K->jwk, ",\"use\":\"enc\"")}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.jwk = dp_jwk_with(jwk_rs, sizeof(jwk_rs),
		    DP_K->jwk, ",\"alg\":\"RS256\"")}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.key = &dp_keys[DP_K_EDDSA], .alg = "Ed25519",
		    .jwk = dp_jwk_with(jwk_eddsa, sizeof(jwk_eddsa),
		    dp_keys[DP_K_EDDSA].jwk, ",\"alg\":\"EdDSA\"")},
		    DP_AS_MADE, NULL, 1},
		{__LINE__, {.jwk_key = DP_K_OTHER}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.jwk_key = &dp_keys[DP_K_EDDSA]}, DP_AS_MADE, NULL,
		    0},
		{__LINE__, {0}, DP_TAMPERED, NULL, 0},
		{__LINE__, {.key = &dp_keys[DP_K_RSA1024]}, DP_AS_MADE, NULL,
		    0},
		{__LINE__, {.jwk = "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",
		    .alg = "HS256", .sig = JWS_SIG_HS256_JWK}, DP_AS_MADE, NULL,
		    0},
		/* 3: the claims. */
		{__LINE__, {.claims = "[]"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.claims = "\"" DP_TOKEN_URL "\""}, DP_AS_MADE, NULL,
		    0},
		{__LINE__, {.claims = "{\"jti\":\"a\""}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.extra = ",\"htu\":\"https://evil.example/token\""},
		    DP_AS_MADE, NULL, 0},
		{__LINE__, {.extra = ",\"htu\":\"" DP_TOKEN_URL "\""},
		    DP_AS_MADE, NULL, 0},
		{__LINE__, {.extra = ",\"x\":{\"a\":1,\"a\":2}"}, DP_AS_MADE,
		    NULL, 0},
		/* 1 again: longer than any JWS is taken (JOSE_JWS_MAX). */
		{__LINE__, {.extra = big}, DP_AS_MADE, NULL, 0},
		/* 8: htm. */
		{__LINE__, {.htm = "GET"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.htm = "post"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.htm = JWS_OMIT}, DP_AS_MADE, NULL, 0},
		/* 9: htu. */
		{__LINE__, {.htu = "https://as.example:443/oauth/token"},
		    DP_AS_MADE, NULL, 1},
		{__LINE__, {.htu = "HTTPS://AS.Example/oauth/token"},
		    DP_AS_MADE, NULL, 1},
		{__LINE__, {.htu = DP_TOKEN_URL "?grant_type=x"}, DP_AS_MADE,
		    NULL, 1},
		{__LINE__, {.htu = DP_TOKEN_URL "#f"}, DP_AS_MADE, NULL, 1},
		{__LINE__, {.htu = "https://evil.example/oauth/token"},
		    DP_AS_MADE, NULL, 0},
		{__LINE__, {.htu = "https://as.example.evil/oauth/token"},
		    DP_AS_MADE, NULL, 0},
		{__LINE__, {.htu = FX_ISSUER "/introspect"}, DP_AS_MADE, NULL,
		    0},
		{__LINE__, {.htu = "https://as.example/token"}, DP_AS_MADE,
		    NULL, 0},
		{__LINE__, {.htu = "https://as.example/OAUTH/token"},
		    DP_AS_MADE, NULL, 0},
		{__LINE__, {.htu = "http://as.example/oauth/token"}, DP_AS_MADE,
		    NULL, 0},
		{__LINE__, {.htu = "https://as.example:8443/oauth/token"},
		    DP_AS_MADE, NULL, 0},
		{__LINE__, {.htu = "https://as.example:80/oauth/token"},
		    DP_AS_MADE, NULL, 0},
		{__LINE__, {.htu = DP_TOKEN_URL "/"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.htu = "https://user@as.example/oauth/token"},
		    DP_AS_MADE, NULL, 0},
		{__LINE__, {.htu = "/oauth/token"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.htu = JWS_OMIT}, DP_AS_MADE, NULL, 0},
		/* 11: iat. */
		{__LINE__, {.iat = dp_num(past, UNIT_NOW - DPOP_IAT_PAST)},
		    DP_AS_MADE, NULL, 1},
		{__LINE__, {.iat = dp_num(past_over,
		    UNIT_NOW - DPOP_IAT_PAST - 1)}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.iat = dp_num(ahead, UNIT_NOW + DPOP_IAT_FUTURE)},
		    DP_AS_MADE, NULL, 1},
		{__LINE__, {.iat = dp_num(ahead_over,
		    UNIT_NOW + DPOP_IAT_FUTURE + 1)}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.iat = "\"1700000000\""}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.iat = "1700000000.5"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.iat = "null"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.iat = "-1700000000"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.iat = "1e300"}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.iat = JWS_OMIT}, DP_AS_MADE, NULL, 0},
		/* jti. */
		{__LINE__, {.jti = dp_jti_of(jti_max, DPOP_JTI_MAX)},
		    DP_AS_MADE, NULL, 1},
		{__LINE__, {.jti = dp_jti_of(jti_over, DPOP_JTI_MAX + 1)},
		    DP_AS_MADE, NULL, 0},
		{__LINE__, {.jti = ""}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.jti = JWS_OMIT}, DP_AS_MADE, NULL, 0},
		{__LINE__, {.jti = JWS_OMIT, .extra = ",\"jti\":42"},
		    DP_AS_MADE, NULL, 0},
	};
	struct fx *f = *state;
	size_t i, before;

	/* Claims whose base64url alone is over JOSE_JWS_MAX characters. */
	memcpy(big, ",\"pad\":\"", 8);
	memset(big + 8, 'p', sizeof(big) * 3 / 4);
	memcpy(big + 8 + sizeof(big) * 3 / 4, "\"", 2);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dpop = dp_case_header(&cases[i]);
		struct fx_resp out;

		before = fx_token_count(f);
		dp_token(f, dpop, &out, DP_CC);
		if (cases[i].ok)
			dp_check_issued(cases[i].line, &out, "DPoP");
		else
			dp_check_refused(cases[i].line, f, &out, before);
		fx_resp_free(&out);
		free(dpop);
	}
}

/*
 * A proof of each algorithm metadata names (ES256, EdDSA, Ed25519,
 * RS256) is taken, and binds the token to that key's own thumbprint
 * (the same for an Ed25519 key whichever name its proof's alg uses).
 */
static void
test_each_alg(void **state)
{
	static const struct {
		size_t key;
		const char *alg;
	} algs[] = {
		{DP_K_ES256, "ES256"},
		{DP_K_EDDSA, "EdDSA"},
		{DP_K_EDDSA, "Ed25519"},
		{DP_K_RS256, "RS256"},
	};
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		const struct jws_key *k = &dp_keys[algs[i].key];
		char *proof = jws_dpop(&(const struct jws_dpop){.key = k,
		    .alg = algs[i].alg, .htm = "POST", .htu = DP_TOKEN_URL});

		dp_token(f, proof, &out, DP_CC);
		dp_check_issued(__LINE__, &out, "DPoP");
		fx_copy(token, &out, "access_token");
		fx_resp_free(&out);
		free(proof);
		dp_check_introspected(__LINE__, f, token, "DPoP", k->jkt);
	}
}

/*
 * htu is the endpoint under the issuer, never under the Host the request
 * came with: with OAUTH_ISSUER set, a proof made for the Host a request
 * names (another server's) fails even when the request names it.  Without
 * OAUTH_ISSUER the issuer is derived from the request (scheme, host,
 * SCRIPT_NAME), and htu is checked against that.
 */
static void
test_htu_issuer(void **state)
{
	struct fx *f = *state;
	const struct fx_req other_host = {.method = "POST", .path = "/token",
	    .content_type = "application/x-www-form-urlencoded", .body = DP_CC,
	    .host = "other.example", .https = "on", .script_name = "/oauth"};
	struct fx_resp out;
	char *proof;
	size_t before = fx_token_count(f);

	proof = jws_dpop(&(const struct jws_dpop){.key = DP_K, .htm = "POST",
	    .htu = "https://other.example/oauth/token"});
	dp_run(f, &other_host, proof, &out);
	dp_check_refused(__LINE__, f, &out, before);
	fx_resp_free(&out);

	/* No OAUTH_ISSUER: the very same proof names this request's URL. */
	f->config.issuer = NULL;
	dp_run(f, &other_host, proof, &out);
	dp_check_issued(__LINE__, &out, "DPoP");
	fx_resp_free(&out);
	free(proof);
	/* Then not the configured one's any more, nor http for https. */
	before = fx_token_count(f);
	proof = dp_token_proof(DP_K);
	dp_run(f, &other_host, proof, &out);
	dp_check_refused(__LINE__, f, &out, before);
	fx_resp_free(&out);
	free(proof);
	proof = jws_dpop(&(const struct jws_dpop){.key = DP_K, .htm = "POST",
	    .htu = "http://other.example/oauth/token"});
	dp_run(f, &other_host, proof, &out);
	dp_check_refused(__LINE__, f, &out, before);
	fx_resp_free(&out);
	free(proof);
}

/*
 * A proof is good for one request (§11.1): the same proof again is 400
 * invalid_dpop_proof with nothing issued, and so is another proof by the
 * same key with the same jti; the jti is remembered with the key, so
 * another key's proof with that jti passes (one key cannot spend
 * another's jti first).  The memory lasts as long as the iat window: a
 * proof used as early as it may be (iat 60 s ahead) is still refused as
 * a replay at the last second its iat is taken (300 s after it); once
 * that window is over, the jti is forgotten.
 */
static void
test_replay(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;
	char *proof, *again;
	size_t before;

	proof = dp_token_proof(DP_K);
	dp_token(f, proof, &out, DP_CC);
	dp_check_issued(__LINE__, &out, "DPoP");
	fx_resp_free(&out);
	before = fx_token_count(f);
	dp_token(f, proof, &out, DP_CC);
	dp_check_refused(__LINE__, f, &out, before);
	fx_resp_free(&out);
	free(proof);

	/* One jti: by the same key with another iat, then by another key. */
	proof = jws_dpop(&(const struct jws_dpop){.key = DP_K, .htm = "POST",
	    .htu = DP_TOKEN_URL, .jti = "shared-jti"});
	again = jws_dpop(&(const struct jws_dpop){.key = DP_K, .htm = "POST",
	    .htu = DP_TOKEN_URL, .jti = "shared-jti", .iat_at = UNIT_NOW - 1});
	dp_token(f, proof, &out, DP_CC);
	dp_check_issued(__LINE__, &out, "DPoP");
	fx_resp_free(&out);
	before = fx_token_count(f);
	dp_token(f, again, &out, DP_CC);
	dp_check_refused(__LINE__, f, &out, before);
	fx_resp_free(&out);
	free(again);
	free(proof);
	proof = jws_dpop(&(const struct jws_dpop){.key = DP_K_OTHER,
	    .htm = "POST", .htu = DP_TOKEN_URL, .jti = "shared-jti"});
	dp_token(f, proof, &out, DP_CC);
	dp_check_issued(__LINE__, &out, "DPoP");
	fx_resp_free(&out);
	free(proof);

	/* The window's two ends. */
	proof = jws_dpop(&(const struct jws_dpop){.key = DP_K, .htm = "POST",
	    .htu = DP_TOKEN_URL, .iat_at = UNIT_NOW + DPOP_IAT_FUTURE});
	dp_token(f, proof, &out, DP_CC);
	dp_check_issued(__LINE__, &out, "DPoP");
	fx_resp_free(&out);
	f->now = UNIT_NOW + DPOP_IAT_FUTURE + DPOP_IAT_PAST;
	before = fx_token_count(f);
	dp_token(f, proof, &out, DP_CC);
	dp_check_refused(__LINE__, f, &out, before);
	fx_resp_free(&out);
	f->now++;
	dp_token(f, proof, &out, DP_CC);
	dp_check_refused(__LINE__, f, &out, before);
	fx_resp_free(&out);
	free(proof);

	/*
	 * Once its first proof's window is over, and the skew another
	 * machine's clock may have, a jti may serve again: the store
	 * remembers a window's worth, not every jti ever seen.
	 */
	f->now = UNIT_NOW + DPOP_IAT_PAST + DPOP_IAT_FUTURE;
	proof = jws_dpop(&(const struct jws_dpop){.key = DP_K, .htm = "POST",
	    .htu = DP_TOKEN_URL, .jti = "shared-jti", .iat_at = f->now});
	before = fx_token_count(f);
	dp_token(f, proof, &out, DP_CC);
	dp_check_refused(__LINE__, f, &out, before);
	fx_resp_free(&out);
	free(proof);
	f->now = UNIT_NOW + DPOP_IAT_PAST + DPOP_IAT_FUTURE + 1;
	proof = jws_dpop(&(const struct jws_dpop){.key = DP_K, .htm = "POST",
	    .htu = DP_TOKEN_URL, .jti = "shared-jti", .iat_at = f->now});
	dp_token(f, proof, &out, DP_CC);
	dp_check_issued(__LINE__, &out, "DPoP");
	fx_resp_free(&out);
	free(proof);
}

/*
 * A client registered dpop_bound (dpop_bound_access_tokens, §5.2) gets
 * no token without a proof: 400 invalid_dpop_proof, nothing stored; with
 * one, its token is DPoP-bound.
 */
static void
test_dpop_bound_client(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	size_t before = fx_token_count(f);
	char *proof;

	dp_token(f, NULL, &out, "grant_type=client_credentials&client_id="
	    DP_BOUND "&client_secret=" DP_BOUND_SECRET);
	dp_check_refused(__LINE__, f, &out, before);
	fx_resp_free(&out);

	proof = dp_token_proof(DP_K);
	dp_token(f, proof, &out, "grant_type=client_credentials&client_id="
	    DP_BOUND "&client_secret=" DP_BOUND_SECRET);
	dp_check_issued(__LINE__, &out, "DPoP");
	fx_copy(token, &out, "access_token");
	fx_resp_free(&out);
	free(proof);
	dp_check_introspected(__LINE__, f, token, "DPoP", DP_K->jkt);
}

/* Redeems code for id (public when secret is NULL) with the proof dpop. */
static void
dp_redeem(struct fx *f, const char *id, const char *secret, const char *code,
    const char *dpop, struct fx_resp *out)
{
	dp_token(f, dpop, out, "grant_type=authorization_code&code=%s"
	    "&client_id=%s%s%s&code_verifier=" FX_VERIFIER, code, id,
	    secret != NULL ? "&client_secret=" : "",
	    secret != NULL ? secret : "");
}

/* Refreshes refresh for id (public when secret is NULL) with dpop. */
static void
dp_refresh(struct fx *f, const char *id, const char *secret,
    const char *refresh, const char *dpop, struct fx_resp *out)
{
	dp_token(f, dpop, out, "grant_type=refresh_token&refresh_token=%s"
	    "&client_id=%s%s%s", refresh, id,
	    secret != NULL ? "&client_secret=" : "",
	    secret != NULL ? secret : "");
}

/*
 * The code flow for id with extra at /authorize, redeemed with a proof by
 * k (NULL: none); fails unless tokens are issued of the type that says.
 */
static void
dp_code_flow(struct fx *f, const char *id, const char *secret,
    const char *extra, const struct jws_key *k, struct fx_tokens *t)
{
	char code[TOKEN_PRESENTED_MAX + 1];
	struct fx_resp out;
	char *proof = k != NULL ? dp_token_proof(k) : NULL;

	fx_code(f, id, extra, code);
	dp_redeem(f, id, secret, code, proof, &out);
	dp_check_issued(__LINE__, &out, k != NULL ? "DPoP" : "Bearer");
	fx_copy(t->access, &out, "access_token");
	t->refresh[0] = '\0';
	if (fx_str(&out, "refresh_token") != NULL)
		fx_copy(t->refresh, &out, "refresh_token");
	fx_resp_free(&out);
	free(proof);
}

/*
 * A code asked for with dpop_jkt (§10) is bound to that key: redeemed
 * without a proof, or with a good proof by another key, it is 400
 * invalid_grant and stays unspent; with a proof by the key, 200 and the
 * tokens are bound to it.  A dpop_jkt that is not the base64url of 32
 * bytes is invalid_request, sent back to the redirect URI (RFC 6749
 * §4.1.2.1) with no code.
 */
static void
test_code_dpop_jkt(void **state)
{
	static const char *const malformed[] = {
		"abc",
		/* 42 and 44 characters */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		/* 43 with a character outside base64url, then padding */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%2B",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D",
		/* 43 whose last character leaves bits over: not canonical */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
	};
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1], extra[128];
	char query[512], err[64];
	char *proof;
	struct fx_resp out;
	size_t i;

	snprintf(extra, sizeof(extra), "dpop_jkt=%s", DP_K->jkt);
	fx_code(f, FX_PUB, extra, code);
	dp_redeem(f, FX_PUB, NULL, code, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	proof = dp_token_proof(DP_K_OTHER);
	dp_redeem(f, FX_PUB, NULL, code, proof, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	free(proof);
	proof = dp_token_proof(DP_K);
	dp_redeem(f, FX_PUB, NULL, code, proof, &out);
	dp_check_issued(__LINE__, &out, "DPoP");
	dp_check_introspected(__LINE__, f, fx_str(&out, "access_token"),
	    "DPoP", DP_K->jkt);
	fx_resp_free(&out);
	free(proof);

	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		assert_true((size_t)snprintf(query, sizeof(query),
		    "response_type=code&client_id=" FX_PUB "&code_challenge="
		    FX_CHALLENGE "&code_challenge_method=S256&dpop_jkt=%s",
		    malformed[i]) < sizeof(query));
		fx_authorize(f, FX_USER, query, &out);
		if (out.r.status != 302 ||
		    !fx_location_param(&out, "error", err, sizeof(err)) ||
		    strcmp(err, "invalid_request") != 0 ||
		    fx_location_param(&out, "code", code, sizeof(code)))
			fail_msg("dpop_jkt=%s: %d %s", malformed[i],
			    out.r.status, out.r.location != NULL ?
			    out.r.location : "");
		fx_resp_free(&out);
	}
}

/*
 * A public client's refresh token issued with a proof is bound to the
 * proof's key (§5): refreshed without a proof, or with a good one by
 * another key, it is 400 invalid_grant and stays usable; with the key,
 * 200 DPoP, and the refresh token it rotates to is bound to the key too.
 * A spent one replayed without the key ends nothing; with it, the grant.
 */
static void
test_refresh_public_bound(void **state)
{
	struct fx *f = *state;
	char refresh[TOKEN_PRESENTED_MAX + 1];
	struct fx_tokens t;
	struct fx_resp out;
	char *proof;

	dp_code_flow(f, FX_PUB, NULL, NULL, DP_K, &t);
	assert_true(t.refresh[0] != '\0');
	dp_refresh(f, FX_PUB, NULL, t.refresh, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	proof = dp_token_proof(DP_K_OTHER);
	dp_refresh(f, FX_PUB, NULL, t.refresh, proof, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	free(proof);

	proof = dp_token_proof(DP_K);
	dp_refresh(f, FX_PUB, NULL, t.refresh, proof, &out);
	dp_check_issued(__LINE__, &out, "DPoP");
	fx_copy(refresh, &out, "refresh_token");
	dp_check_introspected(__LINE__, f, fx_str(&out, "access_token"),
	    "DPoP", DP_K->jkt);
	fx_resp_free(&out);
	free(proof);

	/* The new refresh token: bound as well. */
	dp_refresh(f, FX_PUB, NULL, refresh, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	proof = dp_token_proof(DP_K_OTHER);
	dp_refresh(f, FX_PUB, NULL, refresh, proof, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	free(proof);
	proof = dp_token_proof(DP_K);
	dp_refresh(f, FX_PUB, NULL, refresh, proof, &out);
	dp_check_issued(__LINE__, &out, "DPoP");
	fx_copy(refresh, &out, "refresh_token");
	fx_resp_free(&out);
	free(proof);

	/*
	 * The spent one, replayed by someone without the key, is refused and
	 * revokes nothing: the holder's newest refresh token still works.
	 * Replayed with the key, it is reuse (RFC 9700 §4.14.2): the grant
	 * ends, and with it that newest token.
	 */
	proof = dp_token_proof(DP_K_OTHER);
	dp_refresh(f, FX_PUB, NULL, t.refresh, proof, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	free(proof);
	dp_refresh(f, FX_PUB, NULL, t.refresh, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	proof = dp_token_proof(DP_K);
	dp_refresh(f, FX_PUB, NULL, refresh, proof, &out);
	dp_check_issued(__LINE__, &out, "DPoP");
	fx_copy(refresh, &out, "refresh_token");
	fx_resp_free(&out);
	free(proof);
	proof = dp_token_proof(DP_K);
	dp_refresh(f, FX_PUB, NULL, t.refresh, proof, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	free(proof);
	proof = dp_token_proof(DP_K);
	dp_refresh(f, FX_PUB, NULL, refresh, proof, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	free(proof);
}

/*
 * A public client's tokens from a code without dpop_jkt, redeemed with a
 * proof, are bound all the same: the access token to the key, and so is
 * the refresh token.
 */
static void
test_code_proof_binds(void **state)
{
	struct fx *f = *state;
	struct fx_tokens t;
	struct fx_resp out;

	dp_code_flow(f, FX_PUB, NULL, NULL, DP_K, &t);
	dp_check_introspected(__LINE__, f, t.access, "DPoP", DP_K->jkt);
	dp_refresh(f, FX_PUB, NULL, t.refresh, NULL, &out);
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
}

/*
 * A confidential client's refresh token is not bound, though its access
 * token is (§5: it is sender-constrained by the client's authentication):
 * refreshed without a proof it is 200 and the new access token is a
 * Bearer token.
 */
static void
test_refresh_confidential_unbound(void **state)
{
	struct fx *f = *state;
	struct fx_tokens t;
	struct fx_resp out;

	dp_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, DP_K, &t);
	dp_check_introspected(__LINE__, f, t.access, "DPoP", DP_K->jkt);
	dp_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	dp_check_issued(__LINE__, &out, "Bearer");
	dp_check_introspected(__LINE__, f, fx_str(&out, "access_token"),
	    "Bearer", NULL);
	fx_resp_free(&out);
}

/* A row of test_userinfo. */
struct dp_userinfo_case {
	int line;
	const char *method;
	const char *scheme;	/* "DPoP" or "Bearer" */
	const char *token;
	int proof;		/* send p, filled as dp_userinfo_proof says */
	struct jws_dpop p;
	int status;
	const char *error;	/* NULL: 200 {"sub":FX_USER} */
	const char *www;	/* the exact challenge; NULL: none */
};

/*
 * The proof of a /userinfo row: by DP_K unless it says, for its method
 * and DP_USERINFO_URL, with the ath of its token unless it says.
 */
static char *
dp_userinfo_proof(const struct dp_userinfo_case *c)
{
	struct jws_dpop p = dp_fill(&c->p, c->method, DP_USERINFO_URL);

	if (p.ath == NULL && p.ath_token == NULL)
		p.ath_token = c->token;
	return jws_dpop(&p);
}

/* Runs c, with dpop as its DPoP header, and checks the answer. */
static void
dp_userinfo_run(struct fx *f, const struct dp_userinfo_case *c,
    const char *dpop)
{
	char authorization[FX_HEADER_MAX];
	struct fx_req q = {0};
	struct fx_resp out;

	assert_true((size_t)snprintf(authorization, sizeof(authorization),
	    "%s %s", c->scheme, c->token) < sizeof(authorization));
	q.method = c->method;
	q.path = "/userinfo";
	q.authorization = authorization;
	if (strcmp(c->method, "POST") == 0) {
		q.content_type = "application/x-www-form-urlencoded";
		q.body = "";
	}
	dp_run(f, &q, dpop, &out);
	if (c->error == NULL) {
		fx_check_status(c->line, &out, 200);
		if (strcmp(out.r.body.data, "{\"sub\":\"" FX_USER "\"}") != 0)
			fail_msg("line %d: userinfo is %s", c->line,
			    out.r.body.data);
	} else
		fx_check_error(c->line, &out, c->status, c->error);
	if (c->www == NULL ? out.r.www_authenticate != NULL :
	    out.r.www_authenticate == NULL ||
	    strcmp(out.r.www_authenticate, c->www) != 0)
		fail_msg("line %d: WWW-Authenticate %s, want %s", c->line,
		    out.r.www_authenticate != NULL ? out.r.www_authenticate :
		    "absent", c->www != NULL ? c->www : "none");
	fx_resp_free(&out);
}

/* Runs c with the proof it describes, or none. */
static void
dp_userinfo_check(struct fx *f, const struct dp_userinfo_case *c)
{
	char *dpop = c->proof ? dp_userinfo_proof(c) : NULL;

	dp_userinfo_run(f, c, dpop);
	free(dpop);
}

/*
 * /userinfo with a DPoP-bound token (§7): "Authorization: DPoP" and a
 * proof for this request (htm, htu) by the token's key with ath, the
 * token's hash, is 200 by GET and by POST.  Without a proof, without ath
 * or with another token's, for the other method or endpoint, or a proof
 * seen before: 401 with the challenge DPoP error="invalid_dpop_proof"
 * naming the algorithms (§7.1).  A good proof by another key, or an
 * unbound token presented as DPoP: 401 DPoP error="invalid_token".  The
 * bound token as Bearer: 401 Bearer error="invalid_token" (§7.2: it must
 * not be usable as a bearer token).  A bound token without openid: 403
 * with the DPoP scheme's challenge.  An unbound token as Bearer still
 * works.
 */
static void
test_userinfo(void **state)
{
	struct fx *f = *state;
	struct fx_tokens bound, plain, bound_read;
	char *replayed;

	dp_code_flow(f, FX_PUB, NULL, "scope=openid", DP_K, &bound);
	dp_code_flow(f, FX_CONF, FX_CONF_SECRET, "scope=openid", NULL, &plain);
	dp_code_flow(f, FX_CONF, FX_CONF_SECRET, "scope=read", DP_K,
	    &bound_read);
	{
		const char *b = bound.access;
		const struct dp_userinfo_case cases[] = {
			{__LINE__, "GET", "DPoP", b, 1, {0}, 200, NULL, NULL},
			{__LINE__, "POST", "DPoP", b, 1, {0}, 200, NULL, NULL},
			{__LINE__, "GET", "dpop", b, 1, {0}, 200, NULL, NULL},
			{__LINE__, "GET", "DPoP", b, 1,
			    {.key = DP_K, .htu = "https://AS.example:443"
			    "/oauth/userinfo?x=1"}, 200, NULL, NULL},
			{__LINE__, "GET", "DPoP", b, 0, {0}, 401,
			    "invalid_dpop_proof", DP_WWW_PROOF},
			{__LINE__, "GET", "DPoP", b, 1, {.ath = JWS_OMIT}, 401,
			    "invalid_dpop_proof", DP_WWW_PROOF},
			{__LINE__, "GET", "DPoP", b, 1,
			    {.ath_token = plain.access}, 401,
			    "invalid_dpop_proof", DP_WWW_PROOF},
			{__LINE__, "GET", "DPoP", b, 1,
			    {.ath = "not-the-hash"}, 401,
			    "invalid_dpop_proof", DP_WWW_PROOF},
			{__LINE__, "GET", "DPoP", b, 1, {.htm = "POST"}, 401,
			    "invalid_dpop_proof", DP_WWW_PROOF},
			{__LINE__, "POST", "DPoP", b, 1, {.htm = "GET"}, 401,
			    "invalid_dpop_proof", DP_WWW_PROOF},
			{__LINE__, "GET", "DPoP", b, 1, {.htu = DP_TOKEN_URL},
			    401, "invalid_dpop_proof", DP_WWW_PROOF},
			{__LINE__, "GET", "DPoP", b, 1, {.typ = "jwt"}, 401,
			    "invalid_dpop_proof", DP_WWW_PROOF},
			{__LINE__, "GET", "DPoP", b, 1,
			    {.iat_at = UNIT_NOW - DPOP_IAT_PAST - 1}, 401,
			    "invalid_dpop_proof", DP_WWW_PROOF},
			{__LINE__, "GET", "DPoP", b, 1, {.key = DP_K_OTHER},
			    401, "invalid_token", DP_WWW_INVALID},
			{__LINE__, "GET", "DPoP", plain.access, 1, {0}, 401,
			    "invalid_token", DP_WWW_INVALID},
			{__LINE__, "GET", "Bearer", b, 0, {0}, 401,
			    "invalid_token", DP_WWW_BEARER_INVALID},
			{__LINE__, "GET", "Bearer", b, 1, {0}, 401,
			    "invalid_token", DP_WWW_BEARER_INVALID},
			{__LINE__, "GET", "DPoP", bound_read.access, 1, {0},
			    403, "insufficient_scope", DP_WWW_SCOPE},
			{__LINE__, "GET", "Bearer", plain.access, 0, {0}, 200,
			    NULL, NULL},
		};
		size_t i;

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			dp_userinfo_check(f, &cases[i]);
	}

	/* One proof, twice: the second is a replay. */
	{
		const struct dp_userinfo_case once = {__LINE__, "GET", "DPoP",
		    bound.access, 1, {0}, 200, NULL, NULL};
		const struct dp_userinfo_case twice = {__LINE__, "GET", "DPoP",
		    bound.access, 1, {0}, 401, "invalid_dpop_proof",
		    DP_WWW_PROOF};

		replayed = dp_userinfo_proof(&once);
		dp_userinfo_run(f, &once, replayed);
		dp_userinfo_run(f, &twice, replayed);
		free(replayed);
	}

	/* A JWT access token is bound and presented the same way. */
	f->config.token_format = CONFIG_TOKEN_JWT;
	dp_code_flow(f, FX_PUB, NULL, "scope=openid", DP_K, &bound);
	assert_non_null(strchr(bound.access, '.'));
	{
		const struct dp_userinfo_case cases[] = {
			{__LINE__, "GET", "DPoP", bound.access, 1, {0}, 200,
			    NULL, NULL},
			{__LINE__, "GET", "DPoP", bound.access, 1,
			    {.key = DP_K_OTHER}, 401, "invalid_token",
			    DP_WWW_INVALID},
			{__LINE__, "GET", "Bearer", bound.access, 0, {0}, 401,
			    "invalid_token", DP_WWW_BEARER_INVALID},
		};
		size_t i;

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			dp_userinfo_check(f, &cases[i]);
	}
}

/*
 * A DPoP-bound access token is no bearer token anywhere (§7.2): where an
 * access token may authenticate a client as Bearer (/introspect, RFC 7662
 * §2.1), a bound one is 401 invalid_token; the same client's unbound one
 * works.
 */
static void
test_bound_not_bearer(void **state)
{
	struct fx *f = *state;
	char header[FX_HEADER_MAX], bound[TOKEN_PRESENTED_MAX + 1];
	char plain[TOKEN_PRESENTED_MAX + 1], log[512];
	struct fx_capture capture;
	struct fx_resp out;
	char *proof = dp_token_proof(DP_K);

	dp_token(f, proof, &out, "grant_type=client_credentials&client_id="
	    FX_RS "&client_secret=" FX_RS_SECRET);
	dp_check_issued(__LINE__, &out, "DPoP");
	fx_copy(bound, &out, "access_token");
	fx_resp_free(&out);
	free(proof);
	fx_cc_token(f, FX_RS, FX_RS_SECRET, NULL, plain);

	snprintf(header, sizeof(header), "Bearer %s", bound);
	fx_capture_begin(&capture);
	fx_postf(f, "/introspect", header, &out, "token=%s", plain);
	fx_capture_end(&capture, log, sizeof(log));
	fx_assert_error(&out, 401, "invalid_token");
	assert_non_null(strstr(log, "a bearer token was refused"));
	fx_resp_free(&out);
	snprintf(header, sizeof(header), "Bearer %s", plain);
	fx_postf(f, "/introspect", header, &out, "token=%s", bound);
	fx_assert_status(&out, 200);
	assert_string_equal(fx_str(&out, "token_type"), "DPoP");
	fx_resp_free(&out);
}

/* The array name of the document at path is exactly want, in order. */
static void
dp_check_list(struct fx *f, const char *path, const char *name,
    const char *const *want, size_t n)
{
	const cJSON *a, *item;
	struct fx_resp out;
	size_t i = 0;

	fx_run(f, &(const struct fx_req){.method = "GET", .path = path}, &out);
	fx_assert_status(&out, 200);
	a = cJSON_GetObjectItemCaseSensitive(out.json, name);
	if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != n)
		fail_msg("%s: %s is not %zu long", path, name, n);
	cJSON_ArrayForEach(item, a) {
		if (!cJSON_IsString(item) ||
		    strcmp(item->valuestring, want[i]) != 0)
			fail_msg("%s: %s[%zu] is not %s", path, name, i,
			    want[i]);
		i++;
	}
	fx_resp_free(&out);
}

/*
 * Both metadata documents (RFC 8414, OpenID Discovery) name the
 * algorithms a proof may be signed with, dpop_signing_alg_values_supported
 * (§5.1): ES256, EdDSA, Ed25519 (EdDSA's fully-specified name, RFC 9864,
 * which a25c081 added), RS256, in the order the challenges of /userinfo
 * name them (DP_ALGS).
 */
static void
test_metadata(void **state)
{
	static const char *const algs[] = {"ES256", "EdDSA", "Ed25519",
		"RS256"};
	struct fx *f = *state;

	dp_check_list(f, "/.well-known/oauth-authorization-server",
	    "dpop_signing_alg_values_supported", algs, 4);
	dp_check_list(f, "/.well-known/openid-configuration",
	    "dpop_signing_alg_values_supported", algs, 4);
}

/* A proof by DP_K for POST /token at f's clock, with the nonce given. */
static char *
dp_nonce_proof(const struct fx *f, const char *nonce)
{
	char extra[64];

	assert_true((size_t)snprintf(extra, sizeof(extra), ",\"nonce\":\"%s\"",
	    nonce) < sizeof(extra));
	return jws_dpop(&(const struct jws_dpop){.key = DP_K, .htm = "POST",
	    .htu = DP_TOKEN_URL, .iat_at = f->now,
	    .extra = nonce != NULL ? extra : NULL});
}

/*
 * Sends a client_credentials request with dp_nonce_proof(nonce) and
 * checks the answer: 200 DPoP when ok, else 400 use_dpop_nonce with no
 * token stored; either way with a DPoP-Nonce header (RFC 9449 §8), which
 * is copied to got.
 */
static void
dp_nonce_try(int line, struct fx *f, const char *nonce, int ok,
    char got[DPOP_NONCE_LEN + 1])
{
	struct fx_resp out;
	size_t before = fx_token_count(f);
	char *proof = dp_nonce_proof(f, nonce);

	dp_token(f, proof, &out, "%s", DP_CC);
	if (ok)
		dp_check_issued(line, &out, "DPoP");
	else {
		fx_check_error(line, &out, 400, "use_dpop_nonce");
		if (fx_token_count(f) != before)
			fail_msg("line %d: a token stored", line);
	}
	if (strlen(out.r.dpop_nonce) != DPOP_NONCE_LEN)
		fail_msg("line %d: DPoP-Nonce \"%s\"", line, out.r.dpop_nonce);
	memcpy(got, out.r.dpop_nonce, DPOP_NONCE_LEN + 1);
	fx_resp_free(&out);
	free(proof);
}

/*
 * OAUTH_DPOP_NONCE=on (RFC 9449 §8): a proof without the server's nonce,
 * or with one it did not make, is 400 use_dpop_nonce with the nonce to
 * use in DPoP-Nonce, and nothing is issued; with it, a token, and the
 * header again.  A nonce is taken through the period after its own
 * (DPOP_NONCE_PERIOD), not after that.  Off (the default), a proof's
 * nonce is not looked at and no header is sent.
 */
static void
test_nonce_token(void **state)
{
	struct fx *f = *state;
	char first[DPOP_NONCE_LEN + 1], next[DPOP_NONCE_LEN + 1];
	char bad[DPOP_NONCE_LEN + 1];
	struct fx_resp out;
	char *proof;

	proof = dp_nonce_proof(f, "not-one-of-ours");
	dp_token(f, proof, &out, "%s", DP_CC);
	dp_check_issued(__LINE__, &out, "DPoP");
	assert_string_equal(out.r.dpop_nonce, "");
	fx_resp_free(&out);
	free(proof);

	f->config.dpop_nonce = 1;
	dp_nonce_try(__LINE__, f, NULL, 0, first);
	dp_nonce_try(__LINE__, f, first, 1, next);
	assert_string_equal(next, first);
	/* One character changed, in the period and in the tag. */
	memcpy(bad, first, sizeof(bad));
	bad[3] = bad[3] == 'A' ? 'B' : 'A';
	dp_nonce_try(__LINE__, f, bad, 0, next);
	memcpy(bad, first, sizeof(bad));
	bad[DPOP_NONCE_LEN - 2] = bad[DPOP_NONCE_LEN - 2] == 'A' ? 'B' : 'A';
	dp_nonce_try(__LINE__, f, bad, 0, next);
	dp_nonce_try(__LINE__, f, "short", 0, next);
	/* The next period: a new nonce, the old one still taken. */
	f->now += DPOP_NONCE_PERIOD;
	dp_nonce_try(__LINE__, f, first, 1, next);
	assert_string_not_equal(next, first);
	dp_nonce_try(__LINE__, f, next, 1, bad);
	/* Two periods on: the first is refused, the second taken. */
	f->now += DPOP_NONCE_PERIOD;
	dp_nonce_try(__LINE__, f, first, 0, bad);
	dp_nonce_try(__LINE__, f, next, 1, bad);
	/* A request without a proof needs no nonce, and is given none. */
	dp_token(f, NULL, &out, "%s", DP_CC);
	dp_check_issued(__LINE__, &out, "Bearer");
	assert_string_equal(out.r.dpop_nonce, "");
	fx_resp_free(&out);
	/*
	 * With no key of OAUTH_SIGNING_ALG, nonces cannot be made: a proof
	 * is a server error, a request without one is served as ever.
	 */
	f->config.signing_alg = JOSE_ALG_ES256;
	dp_token(f, NULL, &out, "%s", DP_CC);
	dp_check_issued(__LINE__, &out, "Bearer");
	fx_resp_free(&out);
	proof = dp_nonce_proof(f, next);
	dp_token(f, proof, &out, "%s", DP_CC);
	fx_check_error(__LINE__, &out, 500, "server_error");
	fx_resp_free(&out);
	free(proof);
}

/*
 * At /userinfo, a DPoP proof without the nonce is a 401 whose challenge
 * is DPoP error="use_dpop_nonce" (RFC 9449 §9), with DPoP-Nonce; with it,
 * the claims.
 */
static void
test_nonce_userinfo(void **state)
{
	struct fx *f = *state;
	struct fx_tokens bound;
	char authorization[FX_HEADER_MAX], extra[64], nonce[DPOP_NONCE_LEN + 1];
	struct fx_resp out;
	char *proof;

	dp_code_flow(f, FX_PUB, NULL, "scope=openid", DP_K, &bound);
	f->config.dpop_nonce = 1;
	assert_true((size_t)snprintf(authorization, sizeof(authorization),
	    "DPoP %s", bound.access) < sizeof(authorization));
	proof = jws_dpop(&(const struct jws_dpop){.key = DP_K, .htm = "GET",
	    .htu = DP_USERINFO_URL, .ath_token = bound.access});
	dp_run(f, &(const struct fx_req){.method = "GET", .path = "/userinfo",
	    .authorization = authorization}, proof, &out);
	fx_check_error(__LINE__, &out, 401, "use_dpop_nonce");
	assert_string_equal(out.r.www_authenticate,
	    "DPoP error=\"use_dpop_nonce\", " DP_ALGS);
	assert_int_equal(strlen(out.r.dpop_nonce), DPOP_NONCE_LEN);
	memcpy(nonce, out.r.dpop_nonce, sizeof(nonce));
	fx_resp_free(&out);
	free(proof);

	assert_true((size_t)snprintf(extra, sizeof(extra), ",\"nonce\":\"%s\"",
	    nonce) < sizeof(extra));
	proof = jws_dpop(&(const struct jws_dpop){.key = DP_K, .htm = "GET",
	    .htu = DP_USERINFO_URL, .ath_token = bound.access, .extra = extra});
	dp_run(f, &(const struct fx_req){.method = "GET", .path = "/userinfo",
	    .authorization = authorization}, proof, &out);
	fx_check_status(__LINE__, &out, 200);
	assert_string_equal(out.r.dpop_nonce, nonce);
	fx_resp_free(&out);
	free(proof);
}

#define DP_TEST(name) cmocka_unit_test_setup_teardown(name, dp_setup, \
	fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		DP_TEST(test_cc_bound),
		DP_TEST(test_jwt_cnf),
		DP_TEST(test_proof_rules),
		DP_TEST(test_each_alg),
		DP_TEST(test_htu_issuer),
		DP_TEST(test_replay),
		DP_TEST(test_dpop_bound_client),
		DP_TEST(test_code_dpop_jkt),
		DP_TEST(test_refresh_public_bound),
		DP_TEST(test_code_proof_binds),
		DP_TEST(test_refresh_confidential_unbound),
		DP_TEST(test_userinfo),
		DP_TEST(test_bound_not_bearer),
		DP_TEST(test_metadata),
		DP_TEST(test_nonce_token),
		DP_TEST(test_nonce_userinfo),
	};

	return cmocka_run_group_tests(tests, dp_group_setup,
	    dp_group_teardown);
}
