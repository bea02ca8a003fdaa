/*
 * jose.c: keys, thumbprints, public JWKs, compact JWS made and verified.
 * Known answers from RFC 7638 §3.1 and RFC 8037 Appendix A; hostile
 * tokens signed with a valid signature, so the check under test is the
 * only reason for a refusal; PyJWT as an independent implementation when
 * /usr/bin/python3 has it.
 */
#include <sys/stat.h>

#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "unit.h"

/* RFC 7638 §3.1: the RSA key of RFC 7517 Appendix A.1 and its thumbprint. */
#define RFC7638_N "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfA" \
	"AtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W" \
	"-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMi" \
	"cAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bF" \
	"TWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-k" \
	"EgU8awapJzKnqDKgw"
#define RFC7638_E "AQAB"
#define RFC7638_KID "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

/* RFC 8037 Appendix A.1-A.4: an Ed25519 key, its thumbprint, a JWS. */
#define RFC8037_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC8037_KID "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
#define RFC8037_PAYLOAD "Example of Ed25519 signing"
#define RFC8037_JWS "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc" \
	".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVs" \
	"Pt9g7sVvpAr_MuM0KAg"

#define T_PAYLOAD "{\"sub\":\"alice\",\"aud\":\"api\",\"exp\":1700003600}"

/* Two keys of each algorithm, made once for all the tests. */
static EVP_PKEY *t_key[JOSE_ALG__MAX];
static EVP_PKEY *t_other[JOSE_ALG__MAX];
static struct buf t_pem[JOSE_ALG__MAX];

static void
t_buf_wipe(struct buf *b)
{
	crypto_wipe(b->data, b->cap);
	buf_free(b);
}

/* Appends the base64url of len bytes of in to b, or fails the test. */
static void
t_b64(struct buf *b, const void *in, size_t len)
{
	char *tmp = malloc(len / 3 * 4 + 5);
	size_t n;

	assert_non_null(tmp);
	n = b64url_encode(in, len, tmp, len / 3 * 4 + 5);
	assert_true(n > 0 || len == 0);
	assert_int_equal(buf_append(b, tmp, n), 0);
	free(tmp);
}

/*
 * Makes a compact JWS of any header text, signed without jose.c: OpenSSL
 * directly, with the R || S conversion written again here (or skipped,
 * der set, to make the DER form RFC 7518 §3.4 forbids).
 */
static void
t_sign_raw(EVP_PKEY *pkey, enum jose_alg alg, const char *hdr, size_t hlen,
    const char *pay, size_t plen, int der, struct buf *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[1024], raw[64];
	const unsigned char *p;
	const BIGNUM *r, *s;
	ECDSA_SIG *ec;
	size_t n = sizeof(sig);

	assert_non_null(ctx);
	t_b64(out, hdr, hlen);
	assert_int_equal(buf_append(out, ".", 1), 0);
	t_b64(out, pay, plen);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL,
	    alg == JOSE_ALG_EDDSA ? NULL : EVP_sha256(), NULL, pkey), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &n,
	    (const unsigned char *)out->data, out->len), 1);
	EVP_MD_CTX_free(ctx);
	assert_int_equal(buf_append(out, ".", 1), 0);
	if (alg == JOSE_ALG_ES256 && !der) {
		p = sig;
		assert_non_null(ec = d2i_ECDSA_SIG(NULL, &p, (long)n));
		ECDSA_SIG_get0(ec, &r, &s);
		assert_int_equal(BN_bn2binpad(r, raw, 32), 32);
		assert_int_equal(BN_bn2binpad(s, raw + 32, 32), 32);
		ECDSA_SIG_free(ec);
		t_b64(out, raw, sizeof(raw));
	} else
		t_b64(out, sig, n);
}

/* The public half of pkey alone, as a peer would hold it. */
static EVP_PKEY *
t_public(EVP_PKEY *pkey)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pub;
	int n;

	assert_true((n = i2d_PUBKEY(pkey, &der)) > 0);
	p = der;
	assert_non_null(pub = d2i_PUBKEY(NULL, &p, n));
	OPENSSL_free(der);
	return pub;
}

/* The PKCS#8 PEM of pkey, appended to out. */
static void
t_pem_of(EVP_PKEY *pkey, struct buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0,
	    NULL, NULL), 1);
	n = BIO_get_mem_data(bio, &data);
	assert_true(n > 0);
	assert_int_equal(buf_append(out, data, (size_t)n), 0);
	BIO_free(bio);
}

static int
t_setup(void **state)
{
	struct buf pem = {0};
	unsigned i;

	(void)state;
	for (i = 0; i < JOSE_ALG__MAX; i++) {
		if (jose_key_generate(i, &t_pem[i]) == -1 ||
		    jose_key_parse(i, t_pem[i].data, t_pem[i].len, &t_key[i]) ==
		    -1 || jose_key_generate(i, &pem) == -1 ||
		    jose_key_parse(i, pem.data, pem.len, &t_other[i]) == -1)
			return -1;
		t_buf_wipe(&pem);
	}
	return 0;
}

static int
t_teardown(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < JOSE_ALG__MAX; i++) {
		jose_key_free(t_key[i]);
		jose_key_free(t_other[i]);
		t_buf_wipe(&t_pem[i]);
	}
	return 0;
}

struct alg_case {
	int line;
	const char *name;
	int ok;
	enum jose_alg alg;
};

static const struct alg_case alg_cases[] = {
	{__LINE__, "RS256", 1, JOSE_ALG_RS256},
	{__LINE__, "ES256", 1, JOSE_ALG_ES256},
	{__LINE__, "EdDSA", 1, JOSE_ALG_EDDSA},
	/* RFC 7515 §4.1.1: case-sensitive. */
	{__LINE__, "rs256", 0, JOSE_ALG__MAX},
	{__LINE__, "EDDSA", 0, JOSE_ALG__MAX},
	{__LINE__, "none", 0, JOSE_ALG__MAX},
	{__LINE__, "HS256", 0, JOSE_ALG__MAX},
	{__LINE__, "PS256", 0, JOSE_ALG__MAX},
	{__LINE__, "ES384", 0, JOSE_ALG__MAX},
	/* Taken in a JWS from outside only: jose_alg_parse_verify. */
	{__LINE__, "Ed25519", 0, JOSE_ALG__MAX},
	{__LINE__, "RS256 ", 0, JOSE_ALG__MAX},
	{__LINE__, "", 0, JOSE_ALG__MAX},
};

static void
test_alg_names(void **state)
{
	enum jose_alg alg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(alg_cases) / sizeof(alg_cases[0]); i++) {
		const struct alg_case *c = &alg_cases[i];

		alg = JOSE_ALG__MAX;
		if ((jose_alg_parse(c->name, &alg) == 0) != c->ok ||
		    alg != c->alg)
			fail_msg("line %d: \"%s\"", c->line, c->name);
		if (c->ok && strcmp(jose_alg_name(c->alg), c->name) != 0)
			fail_msg("line %d: name of %d", c->line, c->alg);
	}
	assert_int_equal(jose_alg_parse(NULL, &alg), -1);
	/* RFC 9864 §2.2: EdDSA over Ed25519 by its fully-specified name. */
	assert_int_equal(jose_alg_parse_verify("Ed25519", &alg), 0);
	assert_int_equal(alg, JOSE_ALG_EDDSA);
	assert_int_equal(jose_alg_parse_verify("ES256", &alg), 0);
	assert_int_equal(alg, JOSE_ALG_ES256);
	assert_int_equal(jose_alg_parse_verify("ed25519", &alg), -1);
	assert_int_equal(jose_alg_parse_verify("none", &alg), -1);
	assert_int_equal(jose_alg_parse_verify(NULL, &alg), -1);
	assert_null(jose_alg_name(JOSE_ALG__MAX));
}

/*
 * Each algorithm: generate, parse, thumbprint, sign, verify with the
 * private and with a public-only key; header members in order.
 */
static void
test_roundtrip(void **state)
{
	struct buf jws = {0}, payload = {0}, want = {0};
	char kid[JOSE_KID_LEN + 1], kid2[JOSE_KID_LEN + 1];
	EVP_PKEY *again, *pub;
	cJSON *hdr;
	const char *dot;
	unsigned i;

	(void)state;
	for (i = 0; i < JOSE_ALG__MAX; i++) {
		assert_non_null(strstr(t_pem[i].data,
		    "-----BEGIN PRIVATE KEY-----"));
		assert_int_equal(jose_key_thumbprint(t_key[i], i, kid), 0);
		assert_int_equal(strlen(kid), JOSE_KID_LEN);
		/* Stable: the same PEM parsed again, and the public half. */
		assert_int_equal(jose_key_parse(i, t_pem[i].data, t_pem[i].len,
		    &again), 0);
		assert_int_equal(jose_key_thumbprint(again, i, kid2), 0);
		assert_string_equal(kid, kid2);
		pub = t_public(t_key[i]);
		assert_int_equal(jose_key_thumbprint(pub, i, kid2), 0);
		assert_string_equal(kid, kid2);
		/* Another key, another thumbprint. */
		assert_int_equal(jose_key_thumbprint(t_other[i], i, kid2), 0);
		assert_string_not_equal(kid, kid2);

		assert_int_equal(jose_sign(again, i, kid, "at+jwt", T_PAYLOAD,
		    strlen(T_PAYLOAD), &jws), 0);
		/* The header, exactly: alg, kid, typ in that order. */
		assert_int_equal(buf_printf(&want,
		    "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
		    jose_alg_name(i), kid), 0);
		dot = strchr(jws.data, '.');
		assert_non_null(dot);
		buf_free(&payload);
		t_b64(&payload, want.data, want.len);
		assert_int_equal((size_t)(dot - jws.data), payload.len);
		assert_memory_equal(jws.data, payload.data, payload.len);
		buf_free(&payload);

		assert_int_equal(jose_verify(t_key[i], i, jws.data, jws.len,
		    &hdr, &payload), 0);
		assert_string_equal(payload.data, T_PAYLOAD);
		assert_string_equal(cJSON_GetObjectItem(hdr, "alg")->valuestring,
		    jose_alg_name(i));
		assert_string_equal(cJSON_GetObjectItem(hdr, "kid")->valuestring,
		    kid);
		assert_string_equal(cJSON_GetObjectItem(hdr, "typ")->valuestring,
		    "at+jwt");
		cJSON_Delete(hdr);
		buf_free(&payload);
		assert_int_equal(jose_verify(pub, i, jws.data, jws.len, NULL,
		    NULL), 0);
		/* A public key cannot sign. */
		assert_int_equal(jose_sign(pub, i, NULL, NULL, "{}", 2, &want),
		    -1);

		jose_key_free(again);
		EVP_PKEY_free(pub);
		buf_free(&jws);
		buf_free(&want);
	}
}

/* RFC 7638 §3.1: the example RSA key, built from n and e alone. */
static void
test_rfc7638(void **state)
{
	unsigned char n[256], e[3];
	size_t nlen, elen;
	char kid[JOSE_KID_LEN + 1];
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn, *be;
	cJSON *jwk;
	struct buf out = {0};

	(void)state;
	assert_int_equal(jose_b64url_decode(RFC7638_N, strlen(RFC7638_N), n,
	    sizeof(n), &nlen), 0);
	assert_int_equal(nlen, 256);
	assert_int_equal(jose_b64url_decode(RFC7638_E, strlen(RFC7638_E), e,
	    sizeof(e), &elen), 0);
	assert_non_null(bn = BN_bin2bn(n, (int)nlen, NULL));
	assert_non_null(be = BN_bin2bn(e, (int)elen, NULL));
	assert_non_null(bld = OSSL_PARAM_BLD_new());
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N,
	    bn), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E,
	    be), 1);
	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_non_null(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY,
	    params), 1);

	assert_int_equal(jose_key_thumbprint(pkey, JOSE_ALG_RS256, kid), 0);
	assert_string_equal(kid, RFC7638_KID);
	/* The JWK gives n and e back as RFC 7517 A.1 has them. */
	assert_int_equal(jose_jwk_public(pkey, JOSE_ALG_RS256, kid, &jwk), 0);
	assert_string_equal(cJSON_GetObjectItem(jwk, "n")->valuestring,
	    RFC7638_N);
	assert_string_equal(cJSON_GetObjectItem(jwk, "e")->valuestring,
	    RFC7638_E);
	assert_string_equal(cJSON_GetObjectItem(jwk, "kid")->valuestring,
	    RFC7638_KID);
	cJSON_Delete(jwk);
	/* Not an EC or OKP key; and public only, so it cannot sign. */
	assert_int_equal(jose_key_thumbprint(pkey, JOSE_ALG_ES256, kid), -1);
	assert_string_equal(kid, "");
	assert_int_equal(jose_key_thumbprint(pkey, JOSE_ALG_EDDSA, kid), -1);
	assert_int_equal(jose_sign(pkey, JOSE_ALG_RS256, NULL, NULL, "{}", 2,
	    &out), -1);
	assert_null(out.data);

	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
}

/*
 * RFC 8037 Appendix A: the key's public half (A.1, A.2), its thumbprint
 * (A.3), and the signature of A.4 byte for byte (Ed25519 is
 * deterministic), made through PEM and jose_key_parse; A.5 verifies.
 */
static void
test_rfc8037(void **state)
{
	unsigned char d[32], x[32], got[32];
	size_t dlen, xlen, glen = sizeof(got);
	char kid[JOSE_KID_LEN + 1];
	struct buf pem = {0}, jws = {0}, payload = {0};
	EVP_PKEY *raw, *pkey, *pub;
	cJSON *jwk, *hdr;

	(void)state;
	assert_int_equal(jose_b64url_decode(RFC8037_D, strlen(RFC8037_D), d,
	    sizeof(d), &dlen), 0);
	assert_int_equal(jose_b64url_decode(RFC8037_X, strlen(RFC8037_X), x,
	    sizeof(x), &xlen), 0);
	assert_non_null(raw = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519",
	    NULL, d, dlen));
	assert_int_equal(EVP_PKEY_get_raw_public_key(raw, got, &glen), 1);
	assert_memory_equal(got, x, 32);
	t_pem_of(raw, &pem);
	assert_int_equal(jose_key_parse(JOSE_ALG_EDDSA, pem.data, pem.len,
	    &pkey), 0);

	assert_int_equal(jose_key_thumbprint(pkey, JOSE_ALG_EDDSA, kid), 0);
	assert_string_equal(kid, RFC8037_KID);
	assert_int_equal(jose_jwk_public(pkey, JOSE_ALG_EDDSA, NULL, &jwk), 0);
	assert_string_equal(cJSON_GetObjectItem(jwk, "kty")->valuestring,
	    "OKP");
	assert_string_equal(cJSON_GetObjectItem(jwk, "crv")->valuestring,
	    "Ed25519");
	assert_string_equal(cJSON_GetObjectItem(jwk, "x")->valuestring,
	    RFC8037_X);
	assert_null(cJSON_GetObjectItem(jwk, "kid"));
	cJSON_Delete(jwk);

	/* A.4: the header is {"alg":"EdDSA"}: no kid, no typ. */
	assert_int_equal(jose_sign(pkey, JOSE_ALG_EDDSA, NULL, NULL,
	    RFC8037_PAYLOAD, strlen(RFC8037_PAYLOAD), &jws), 0);
	assert_string_equal(jws.data, RFC8037_JWS);

	/* A.5, with the public key alone. */
	assert_non_null(pub = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519",
	    NULL, x, xlen));
	assert_int_equal(jose_verify(pub, JOSE_ALG_EDDSA, RFC8037_JWS,
	    strlen(RFC8037_JWS), &hdr, &payload), 0);
	assert_string_equal(payload.data, RFC8037_PAYLOAD);
	assert_int_equal(cJSON_GetArraySize(hdr), 1);
	cJSON_Delete(hdr);
	/* The same token is no RS256 or ES256 token. */
	assert_int_equal(jose_verify(pub, JOSE_ALG_ES256, RFC8037_JWS,
	    strlen(RFC8037_JWS), NULL, NULL), -1);

	crypto_wipe(d, sizeof(d));
	t_buf_wipe(&pem);
	buf_free(&jws);
	buf_free(&payload);
	EVP_PKEY_free(raw);
	EVP_PKEY_free(pub);
	jose_key_free(pkey);
}

/*
 * The public JWK: exactly the members each type defines, never a private
 * one (RFC 7518 §6.3.2, §6.2.2, RFC 8037 §2 "d"), from a private key.
 */
static void
test_jwk_public(void **state)
{
	static const char *const want[JOSE_ALG__MAX][8] = {
		[JOSE_ALG_RS256] = {"kty", "n", "e", "kid", "alg", "use"},
		[JOSE_ALG_ES256] = {"kty", "crv", "x", "y", "kid", "alg", "use"},
		[JOSE_ALG_EDDSA] = {"kty", "crv", "x", "kid", "alg", "use"},
	};
	static const char *const private[] = {"d", "p", "q", "dp", "dq", "qi",
	    "oth", "k"};
	char kid[JOSE_KID_LEN + 1];
	const cJSON *m;
	cJSON *jwk;
	char *text;
	size_t k, count;
	unsigned i;

	(void)state;
	for (i = 0; i < JOSE_ALG__MAX; i++) {
		assert_int_equal(jose_key_thumbprint(t_key[i], i, kid), 0);
		assert_int_equal(jose_jwk_public(t_key[i], i, kid, &jwk), 0);
		count = 0;
		cJSON_ArrayForEach(m, jwk) {
			assert_true(cJSON_IsString(m));
			for (k = 0; want[i][k] != NULL; k++)
				if (strcmp(m->string, want[i][k]) == 0)
					break;
			if (want[i][k] == NULL)
				fail_msg("%s: unexpected member \"%s\"",
				    jose_alg_name(i), m->string);
			count++;
		}
		for (k = 0; want[i][k] != NULL; k++)
			;
		assert_int_equal(count, k);
		for (k = 0; k < sizeof(private) / sizeof(private[0]); k++)
			assert_null(cJSON_GetObjectItemCaseSensitive(jwk,
			    private[k]));
		assert_string_equal(cJSON_GetObjectItem(jwk, "alg")->valuestring,
		    jose_alg_name(i));
		assert_string_equal(cJSON_GetObjectItem(jwk, "use")->valuestring,
		    "sig");
		assert_string_equal(cJSON_GetObjectItem(jwk, "kid")->valuestring,
		    kid);
		if (i == JOSE_ALG_ES256) {
			/* RFC 7518 §6.2.1.2: 32 bytes, even with leading 0s. */
			assert_int_equal(strlen(cJSON_GetObjectItem(jwk,
			    "x")->valuestring), 43);
			assert_int_equal(strlen(cJSON_GetObjectItem(jwk,
			    "y")->valuestring), 43);
		}
		text = cJSON_PrintUnformatted(jwk);
		assert_null(strstr(text, "\"d\""));
		free(text);
		cJSON_Delete(jwk);
		/* A key of another kind has no JWK for this alg. */
		assert_int_equal(jose_jwk_public(t_key[(i + 1) % JOSE_ALG__MAX],
		    i, NULL, &jwk), -1);
		assert_null(jwk);
	}
}

/*
 * Headers signed with a valid signature over them: only the header check
 * refuses.  %s is the algorithm verified with, %o another one.
 */
struct hdr_case {
	int line;
	const char *hdr;
	int ok;
};

static const struct hdr_case hdr_cases[] = {
	{__LINE__, "{\"alg\":\"%s\"}", 1},
	{__LINE__, "{\"alg\":\"%s\",\"kid\":\"k\",\"typ\":\"JWT\"}", 1},
	{__LINE__, " {\"alg\" : \"%s\"}\r\n\t", 1},
	{__LINE__, "{\"\\u0061lg\":\"%s\"}", 1},
	{__LINE__, "{\"alg\":\"%s\",\"x\":[[[[[[1]]]]]]}", 1},
	{__LINE__, "{\"alg\":\"%s\",\"x\":\"\xc3\xa9\"}", 1},
	/* RFC 8725 §3.1, §2.1: never none, never HMAC. */
	{__LINE__, "{\"alg\":\"none\"}", 0},
	{__LINE__, "{\"alg\":\"None\"}", 0},
	{__LINE__, "{\"alg\":\"HS256\"}", 0},
	{__LINE__, "{\"alg\":\"%o\"}", 0},
	{__LINE__, "{\"alg\":\"\"}", 0},
	{__LINE__, "{\"ALG\":\"%s\"}", 0},
	{__LINE__, "{\"typ\":\"JWT\"}", 0},
	{__LINE__, "{\"alg\":[\"%s\"]}", 0},
	{__LINE__, "{\"alg\":null}", 0},
	{__LINE__, "{\"alg\":\"%s\\u0000\"}", 0},
	{__LINE__, "{\"alg\":\"%s \"}", 0},
	/* RFC 7515 §5.2 step 4: duplicate names, either order. */
	{__LINE__, "{\"alg\":\"%s\",\"alg\":\"none\"}", 0},
	{__LINE__, "{\"alg\":\"none\",\"alg\":\"%s\"}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"\\u0061lg\":\"%s\"}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":{\"x\":1,\"x\":2}}", 0},
	/* RFC 7515 §4.1.11: no extension is understood. */
	{__LINE__, "{\"alg\":\"%s\",\"crit\":[\"exp\"],\"exp\":1}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"b64\":false,\"crit\":[\"b64\"]}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"x\":[[[[[[[[1]]]]]]]]}", 0},
	/* Not one JSON object, or not strict JSON. */
	{__LINE__, "[{\"alg\":\"%s\"}]", 0},
	{__LINE__, "\"%s\"", 0},
	{__LINE__, "{\"alg\":\"%s\"}x", 0},
	{__LINE__, "{\"alg\":\"%s\"}{}", 0},
	{__LINE__, "{\"alg\":\"%s\",}", 0},
	{__LINE__, "{\"alg\":\"%s\"", 0},
	{__LINE__, "\x01{\"alg\":\"%s\"}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"x\":\"\x01\"}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"x\":\"\xc3\"}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"x\":\"\xed\xa0\x80\"}", 0},
	{__LINE__, "", 0},
};

/* Expands %s and %o of a hdr_case for alg into out. */
static void
t_hdr_expand(const char *tmpl, enum jose_alg alg, struct buf *out)
{
	const char *p;

	for (p = tmpl; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 's') {
			assert_int_equal(buf_puts(out, jose_alg_name(alg)), 0);
			p++;
		} else if (p[0] == '%' && p[1] == 'o') {
			assert_int_equal(buf_puts(out,
			    jose_alg_name((alg + 1) % JOSE_ALG__MAX)), 0);
			p++;
		} else
			assert_int_equal(buf_append(out, p, 1), 0);
	}
}

static void
test_verify_headers(void **state)
{
	struct buf hdr = {0}, jws = {0}, payload = {0};
	cJSON *h;
	size_t i;
	unsigned a;
	int rc;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++)
		for (i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
			const struct hdr_case *c = &hdr_cases[i];

			t_hdr_expand(c->hdr, a, &hdr);
			t_sign_raw(t_key[a], a, hdr.data != NULL ? hdr.data :
			    "", hdr.len, T_PAYLOAD, strlen(T_PAYLOAD), 0, &jws);
			h = (cJSON *)&h;
			assert_int_equal(buf_puts(&payload, "kept"), 0);
			rc = jose_verify(t_key[a], a, jws.data, jws.len, &h,
			    &payload);
			if ((rc == 0) != c->ok)
				fail_msg("line %d (%s): %s", c->line,
				    jose_alg_name(a), rc == 0 ? "accepted" :
				    "refused");
			if (c->ok)
				assert_string_equal(payload.data,
				    "kept" T_PAYLOAD);
			else {
				/* Nothing handed back on failure. */
				assert_null(h);
				assert_string_equal(payload.data, "kept");
			}
			cJSON_Delete(h);
			buf_free(&hdr);
			buf_free(&jws);
			buf_free(&payload);
		}
}

enum mutation {
	MUT_NONE,
	MUT_FLIP_HEADER,	/* one character of the header changed */
	MUT_FLIP_PAYLOAD,
	MUT_FLIP_SIG,
	MUT_SIG_LOW_BITS,	/* the unused bits of the last character set */
	MUT_SIG_SHORT,		/* four characters, three bytes, fewer */
	MUT_SIG_LONG,		/* four characters, three bytes, more */
	MUT_SIG_PADDED,		/* "=" after the signature */
	MUT_PAYLOAD_PADDED,	/* "=" inside, at the payload's end */
	MUT_TRAILING_DOT,
	MUT_LEADING_DOT,
	MUT_EXTRA_PART,
	MUT_TWO_PARTS,
	MUT_EMPTY_HEADER,
	MUT_EMPTY_PAYLOAD,
	MUT_EMPTY_SIG,
	MUT_SPACE,		/* a space inside the payload */
	MUT_NEWLINE,		/* a newline after the token */
	MUT_NUL,		/* a NUL after the token, within len */
	MUT_STD_ALPHABET,	/* '+' and '/' for '-' and '_' */
	MUT_SIG_EMPTY_PARTS,	/* ".." */
};

struct mut_case {
	int line;
	enum mutation m;
	int ok;
};

static const struct mut_case mut_cases[] = {
	{__LINE__, MUT_NONE, 1},
	{__LINE__, MUT_FLIP_HEADER, 0},
	{__LINE__, MUT_FLIP_PAYLOAD, 0},
	{__LINE__, MUT_FLIP_SIG, 0},
	{__LINE__, MUT_SIG_LOW_BITS, 0},
	{__LINE__, MUT_SIG_SHORT, 0},
	{__LINE__, MUT_SIG_LONG, 0},
	{__LINE__, MUT_SIG_PADDED, 0},
	{__LINE__, MUT_PAYLOAD_PADDED, 0},
	{__LINE__, MUT_TRAILING_DOT, 0},
	{__LINE__, MUT_LEADING_DOT, 0},
	{__LINE__, MUT_EXTRA_PART, 0},
	{__LINE__, MUT_TWO_PARTS, 0},
	{__LINE__, MUT_EMPTY_HEADER, 0},
	{__LINE__, MUT_EMPTY_PAYLOAD, 0},
	{__LINE__, MUT_EMPTY_SIG, 0},
	{__LINE__, MUT_SPACE, 0},
	{__LINE__, MUT_NEWLINE, 0},
	{__LINE__, MUT_NUL, 0},
	{__LINE__, MUT_STD_ALPHABET, 0},
	{__LINE__, MUT_SIG_EMPTY_PARTS, 0},
};

static const char t_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Replaces the character at p by the next one of the alphabet. */
static void
t_flip(char *p)
{
	const char *c = strchr(t_alphabet, *p);

	assert_non_null(c);
	*p = t_alphabet[(c - t_alphabet + 1) % 64];
}

/* Applies m to the valid token in (made from a payload with '-' or '_'). */
static void
t_mutate(const char *in, enum mutation m, struct buf *out)
{
	const char *d1 = strchr(in, '.'), *d2 = strrchr(in, '.');
	size_t len = strlen(in), n;
	char *p;

	assert_int_equal(buf_puts(out, in), 0);
	p = out->data;
	switch (m) {
	case MUT_NONE:
		break;
	case MUT_FLIP_HEADER:
		t_flip(p + (d1 - in) / 2);
		break;
	case MUT_FLIP_PAYLOAD:
		t_flip(p + (d1 - in) + 2);
		break;
	case MUT_FLIP_SIG:
		t_flip(p + (d2 - in) + 10);
		break;
	case MUT_SIG_LOW_BITS:
		/*
		 * Every signature here is 3k + 1 bytes long, so the last
		 * character carries 4 unused bits: a lax decoder reads the
		 * same signature and accepts.
		 */
		n = (size_t)(strchr(t_alphabet, p[len - 1]) - t_alphabet);
		assert_int_equal(n & 0x0f, 0);
		p[len - 1] = t_alphabet[n | 1];
		break;
	case MUT_SIG_SHORT:
		out->len -= 4;
		p[out->len] = '\0';
		break;
	case MUT_SIG_LONG:
		assert_int_equal(buf_puts(out, "AAAA"), 0);
		break;
	case MUT_SIG_PADDED:
		assert_int_equal(buf_puts(out, "=="), 0);
		break;
	case MUT_PAYLOAD_PADDED:
		buf_free(out);
		assert_int_equal(buf_append(out, in, (size_t)(d2 - in)), 0);
		assert_int_equal(buf_puts(out, "="), 0);
		assert_int_equal(buf_puts(out, d2), 0);
		break;
	case MUT_TRAILING_DOT:
		assert_int_equal(buf_puts(out, "."), 0);
		break;
	case MUT_LEADING_DOT:
		buf_free(out);
		assert_int_equal(buf_printf(out, ".%s", in), 0);
		break;
	case MUT_EXTRA_PART:
		assert_int_equal(buf_puts(out, ".e30"), 0);
		break;
	case MUT_TWO_PARTS:
		out->len = (size_t)(d2 - in);
		p[out->len] = '\0';
		break;
	case MUT_EMPTY_HEADER:
		buf_free(out);
		assert_int_equal(buf_puts(out, d1), 0);
		break;
	case MUT_EMPTY_PAYLOAD:
		buf_free(out);
		assert_int_equal(buf_append(out, in, (size_t)(d1 - in) + 1), 0);
		assert_int_equal(buf_puts(out, d2), 0);
		break;
	case MUT_EMPTY_SIG:
		out->len = (size_t)(d2 - in) + 1;
		p[out->len] = '\0';
		break;
	case MUT_SPACE:
		buf_free(out);
		assert_int_equal(buf_append(out, in, (size_t)(d1 - in) + 3), 0);
		assert_int_equal(buf_puts(out, " "), 0);
		assert_int_equal(buf_puts(out, d1 + 3), 0);
		break;
	case MUT_NEWLINE:
		assert_int_equal(buf_puts(out, "\n"), 0);
		break;
	case MUT_NUL:
		assert_int_equal(buf_append(out, "", 1), 0);
		break;
	case MUT_STD_ALPHABET:
		for (n = 0; n < out->len; n++)
			if (p[n] == '-')
				p[n] = '+';
			else if (p[n] == '_')
				p[n] = '/';
		break;
	case MUT_SIG_EMPTY_PARTS:
		buf_free(out);
		assert_int_equal(buf_append(out, in, (size_t)(d1 - in)), 0);
		assert_int_equal(buf_puts(out, ".."), 0);
		assert_int_equal(buf_puts(out, d2 + 1), 0);
		break;
	}
}

/*
 * A payload whose base64url has both '-' and '_' (bytes 0xfb 0xff), so
 * the standard-alphabet case has something to change.
 */
#define T_URL_PAYLOAD "{\"x\":\"\xfb\xff\xfb\xff\"}"

static void
test_verify_mutations(void **state)
{
	struct buf jws = {0}, bad = {0};
	size_t i;
	unsigned a;
	int rc;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		assert_int_equal(jose_sign(t_key[a], a, "k1", "JWT",
		    T_URL_PAYLOAD, strlen(T_URL_PAYLOAD), &jws), 0);
		assert_non_null(strchr(jws.data, '-'));
		for (i = 0; i < sizeof(mut_cases) / sizeof(mut_cases[0]); i++) {
			const struct mut_case *c = &mut_cases[i];

			t_mutate(jws.data, c->m, &bad);
			rc = jose_verify(t_key[a], a, bad.data, bad.len, NULL,
			    NULL);
			if ((rc == 0) != c->ok)
				fail_msg("line %d (%s): %s", c->line,
				    jose_alg_name(a), rc == 0 ? "accepted" :
				    "refused");
			buf_free(&bad);
		}
		/* The wrong key of the right kind, and keys of other kinds. */
		assert_int_equal(jose_verify(t_other[a], a, jws.data, jws.len,
		    NULL, NULL), -1);
		assert_int_equal(jose_verify(t_key[(a + 1) % JOSE_ALG__MAX], a,
		    jws.data, jws.len, NULL, NULL), -1);
		assert_int_equal(jose_verify(t_key[(a + 1) % JOSE_ALG__MAX],
		    (a + 1) % JOSE_ALG__MAX, jws.data, jws.len, NULL, NULL),
		    -1);
		assert_int_equal(jose_verify(NULL, a, jws.data, jws.len, NULL,
		    NULL), -1);
		assert_int_equal(jose_verify(t_key[a], JOSE_ALG__MAX, jws.data,
		    jws.len, NULL, NULL), -1);
		assert_int_equal(jose_verify(t_key[a], a, NULL, 0, NULL, NULL),
		    -1);
		assert_int_equal(jose_verify(t_key[a], a, jws.data, 0, NULL,
		    NULL), -1);
		buf_free(&jws);
	}
}

/* ES256 in the DER form OpenSSL makes is refused (RFC 7518 §3.4). */
static void
test_verify_es256_der(void **state)
{
	static const char hdr[] = "{\"alg\":\"ES256\"}";
	struct buf jws = {0};

	(void)state;
	t_sign_raw(t_key[JOSE_ALG_ES256], JOSE_ALG_ES256, hdr, strlen(hdr),
	    T_PAYLOAD, strlen(T_PAYLOAD), 1, &jws);
	assert_int_equal(jose_verify(t_key[JOSE_ALG_ES256], JOSE_ALG_ES256,
	    jws.data, jws.len, NULL, NULL), -1);
	buf_free(&jws);
	/* The same, as R || S: signed without jose.c, verified by it. */
	t_sign_raw(t_key[JOSE_ALG_ES256], JOSE_ALG_ES256, hdr, strlen(hdr),
	    T_PAYLOAD, strlen(T_PAYLOAD), 0, &jws);
	assert_int_equal(jose_verify(t_key[JOSE_ALG_ES256], JOSE_ALG_ES256,
	    jws.data, jws.len, NULL, NULL), 0);
	buf_free(&jws);
}

/*
 * An empty payload, validly signed: legal JWS, but no token we take has
 * one.  The empty-payload mutation above keeps a signature that fails.
 */
static void
test_verify_empty_payload(void **state)
{
	struct buf hdr = {0}, jws = {0};
	unsigned a;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		assert_int_equal(buf_printf(&hdr, "{\"alg\":\"%s\"}",
		    jose_alg_name(a)), 0);
		t_sign_raw(t_key[a], a, hdr.data, hdr.len, "", 0, 0, &jws);
		assert_non_null(strstr(jws.data, ".."));
		assert_int_equal(jose_verify(t_key[a], a, jws.data, jws.len,
		    NULL, NULL), -1);
		buf_free(&jws);
		/* The same header over one byte verifies. */
		t_sign_raw(t_key[a], a, hdr.data, hdr.len, "x", 1, 0, &jws);
		assert_int_equal(jose_verify(t_key[a], a, jws.data, jws.len,
		    NULL, NULL), 0);
		buf_free(&jws);
		buf_free(&hdr);
	}
}

/*
 * RFC 7518 §6.2.1.2: a P-256 coordinate is always 32 bytes, even when it
 * starts with a zero byte (one key in 128 or so); the thumbprint hashes
 * that full form.  Keys are made until one has such a coordinate.
 */
static void
test_jwk_ec_leading_zero(void **state)
{
	static const char *const coord[] = {OSSL_PKEY_PARAM_EC_PUB_X,
	    OSSL_PKEY_PARAM_EC_PUB_Y};
	char kid[JOSE_KID_LEN + 1];
	unsigned char raw[32];
	struct buf tp = {0};
	unsigned char digest[TOKEN_HASH_LEN];
	char want[JOSE_KID_LEN + 1];
	EVP_PKEY *k = NULL;
	BIGNUM *bn;
	cJSON *jwk;
	size_t n;
	int tries, i, short_one = -1;

	(void)state;
	for (tries = 0; tries < 5000 && short_one == -1; tries++) {
		EVP_PKEY_free(k);
		assert_non_null(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    "P-256"));
		for (i = 0; i < 2; i++) {
			bn = NULL;
			assert_int_equal(EVP_PKEY_get_bn_param(k, coord[i],
			    &bn), 1);
			if (BN_num_bytes(bn) < 32)
				short_one = i;
			BN_free(bn);
		}
	}
	assert_int_not_equal(short_one, -1);
	assert_int_equal(jose_jwk_public(k, JOSE_ALG_ES256, NULL, &jwk), 0);
	for (i = 0; i < 2; i++) {
		const char *v = cJSON_GetObjectItem(jwk, i == 0 ? "x" :
		    "y")->valuestring;

		assert_int_equal(jose_b64url_decode(v, strlen(v), raw,
		    sizeof(raw), &n), 0);
		assert_int_equal(n, 32);
		if (i == short_one)
			assert_int_equal(raw[0], 0);
	}
	/* The thumbprint, computed here from the JWK's own members. */
	assert_int_equal(buf_printf(&tp,
	    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
	    cJSON_GetObjectItem(jwk, "x")->valuestring,
	    cJSON_GetObjectItem(jwk, "y")->valuestring), 0);
	assert_int_equal(crypto_sha256(tp.data, tp.len, digest), 0);
	assert_int_equal(b64url_encode(digest, sizeof(digest), want,
	    sizeof(want)), JOSE_KID_LEN);
	assert_int_equal(jose_key_thumbprint(k, JOSE_ALG_ES256, kid), 0);
	assert_string_equal(kid, want);
	buf_free(&tp);
	cJSON_Delete(jwk);
	EVP_PKEY_free(k);
}

/*
 * JOSE_JWS_MAX: a token of exactly that many bytes verifies, one byte
 * more does not, and jose_sign makes none longer.
 */
static void
test_verify_length(void **state)
{
	struct buf hdr = {0}, jws = {0};
	char *pay;
	size_t target, plen, hb, sb, pb, extra;
	unsigned a;

	(void)state;
	pay = malloc(JOSE_JWS_MAX);
	assert_non_null(pay);
	memset(pay, 'a', JOSE_JWS_MAX);
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		for (target = JOSE_JWS_MAX; target <= JOSE_JWS_MAX + 1;
		    target++) {
			sb = a == JOSE_ALG_RS256 ?
			    (size_t)EVP_PKEY_get_size(t_key[a]) : 64;
			sb = sb / 3 * 4 + (sb % 3 != 0 ? sb % 3 + 1 : 0);
			/* Trailing spaces in the header make every size. */
			for (extra = 0;; extra++) {
				buf_free(&hdr);
				assert_int_equal(buf_printf(&hdr,
				    "{\"alg\":\"%s\"}%*s", jose_alg_name(a),
				    (int)extra, ""), 0);
				hb = hdr.len / 3 * 4 + (hdr.len % 3 != 0 ?
				    hdr.len % 3 + 1 : 0);
				pb = target - hb - sb - 2;
				if (pb % 4 != 1)
					break;
			}
			plen = pb / 4 * 3 + (pb % 4 != 0 ? pb % 4 - 1 : 0);
			t_sign_raw(t_key[a], a, hdr.data, hdr.len, pay, plen, 0,
			    &jws);
			assert_int_equal(jws.len, target);
			assert_int_equal(jose_verify(t_key[a], a, jws.data,
			    jws.len, NULL, NULL), target <= JOSE_JWS_MAX ? 0 :
			    -1);
			buf_free(&jws);
		}
		assert_int_equal(jose_sign(t_key[a], a, NULL, NULL, pay,
		    JOSE_JWS_MAX / 4 * 3, &jws), -1);
		assert_null(jws.data);
		assert_int_equal(jose_sign(t_key[a], a, NULL, NULL, pay,
		    JOSE_JWS_MAX + 1, &jws), -1);
	}
	buf_free(&hdr);
	free(pay);
}

struct dec_case {
	int line;
	const char *in;
	int ok;
	const char *out;
	size_t outlen;
};

static const struct dec_case dec_cases[] = {
	{__LINE__, "", 1, "", 0},
	{__LINE__, "Zg", 1, "f", 1},
	{__LINE__, "Zm8", 1, "fo", 2},
	{__LINE__, "Zm9v", 1, "foo", 3},
	{__LINE__, "-_8", 1, "\xfb\xff", 2},
	{__LINE__, "Z", 0, NULL, 0},
	{__LINE__, "Zm9vY", 0, NULL, 0},
	{__LINE__, "Zg==", 0, NULL, 0},
	{__LINE__, "Zm8=", 0, NULL, 0},
	{__LINE__, "+/8", 0, NULL, 0},
	{__LINE__, "Zh", 0, NULL, 0},	/* RFC 4648 §3.5 */
	{__LINE__, "Zm9", 0, NULL, 0},
	{__LINE__, "Zm 9v", 0, NULL, 0},
	{__LINE__, "Zm9v\n", 0, NULL, 0},
	{__LINE__, "Zm.v", 0, NULL, 0},
	{__LINE__, "Zm9\xc3\xa9", 0, NULL, 0},
};

static void
test_b64url_decode(void **state)
{
	unsigned char out[16];
	size_t i, outlen;

	(void)state;
	for (i = 0; i < sizeof(dec_cases) / sizeof(dec_cases[0]); i++) {
		const struct dec_case *c = &dec_cases[i];
		int rc;

		memset(out, 0xa5, sizeof(out));
		outlen = 99;
		rc = jose_b64url_decode(c->in, strlen(c->in), out, sizeof(out),
		    &outlen);
		if ((rc == 0) != c->ok)
			fail_msg("line %d: %s", c->line, rc == 0 ? "accepted" :
			    "refused");
		if (!c->ok && (outlen != 99 || out[0] != 0xa5))
			fail_msg("line %d: wrote on failure", c->line);
		if (c->ok && (outlen != c->outlen ||
		    memcmp(out, c->out, outlen) != 0))
			fail_msg("line %d: wrong bytes", c->line);
	}
	/* Too small an output, and an embedded NUL. */
	assert_int_equal(jose_b64url_decode("Zm9v", 4, out, 2, &outlen), -1);
	assert_int_equal(jose_b64url_decode("Zm9v\0AAA", 8, out, sizeof(out),
	    &outlen), -1);
}

/* Keys jose_key_parse refuses for one algorithm or for all. */
static void
test_key_parse_refuses(void **state)
{
	struct buf pem = {0};
	EVP_PKEY *pkey, *k;
	BIO *bio;
	char *data;
	long n;
	unsigned a, b;

	(void)state;
	/* Each key for its own algorithm only. */
	for (a = 0; a < JOSE_ALG__MAX; a++)
		for (b = 0; b < JOSE_ALG__MAX; b++) {
			pkey = (EVP_PKEY *)&pkey;
			assert_int_equal(jose_key_parse(b, t_pem[a].data,
			    t_pem[a].len, &pkey), a == b ? 0 : -1);
			if (a != b)
				assert_null(pkey);
			jose_key_free(pkey);
		}
	assert_int_equal(jose_key_parse(JOSE_ALG__MAX, t_pem[0].data,
	    t_pem[0].len, &pkey), -1);
	assert_int_equal(jose_key_parse(JOSE_ALG_RS256, "", 0, &pkey), -1);
	assert_int_equal(jose_key_parse(JOSE_ALG_RS256, "junk", 4, &pkey), -1);
	/* Cut short, and over JOSE_PEM_MAX. */
	assert_int_equal(jose_key_parse(JOSE_ALG_RS256, t_pem[0].data,
	    t_pem[0].len / 2, &pkey), -1);
	assert_int_equal(jose_key_parse(JOSE_ALG_RS256, t_pem[0].data,
	    JOSE_PEM_MAX + 1, &pkey), -1);

	/* RSA under 2048 bits (RFC 7518 §3.3), P-384, Ed448. */
	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	t_pem_of(k, &pem);
	EVP_PKEY_free(k);
	assert_int_equal(jose_key_parse(JOSE_ALG_RS256, pem.data, pem.len,
	    &pkey), -1);
	t_buf_wipe(&pem);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	t_pem_of(k, &pem);
	EVP_PKEY_free(k);
	assert_int_equal(jose_key_parse(JOSE_ALG_ES256, pem.data, pem.len,
	    &pkey), -1);
	t_buf_wipe(&pem);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
	t_pem_of(k, &pem);
	EVP_PKEY_free(k);
	assert_int_equal(jose_key_parse(JOSE_ALG_EDDSA, pem.data, pem.len,
	    &pkey), -1);
	t_buf_wipe(&pem);

	/* A public key, and an encrypted key (no terminal prompt). */
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PUBKEY(bio, t_key[JOSE_ALG_ES256]), 1);
	n = BIO_get_mem_data(bio, &data);
	assert_int_equal(jose_key_parse(JOSE_ALG_ES256, data, (size_t)n,
	    &pkey), -1);
	BIO_free(bio);
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio,
	    t_key[JOSE_ALG_ES256], EVP_aes_128_cbc(), NULL, 0, NULL,
	    (void *)"secret"), 1);
	n = BIO_get_mem_data(bio, &data);
	assert_non_null(strstr(data, "ENCRYPTED"));
	assert_int_equal(jose_key_parse(JOSE_ALG_ES256, data, (size_t)n,
	    &pkey), -1);
	assert_null(pkey);
	BIO_free(bio);

	/* A key whose public half is another key's: the self-test fails. */
	{
		BIGNUM *d = NULL;
		OSSL_PARAM_BLD *bld;
		OSSL_PARAM *params;
		EVP_PKEY_CTX *ctx;
		unsigned char pub[65];
		size_t publen = 0;

		assert_int_equal(EVP_PKEY_get_bn_param(t_key[JOSE_ALG_ES256],
		    OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
		assert_int_equal(EVP_PKEY_get_octet_string_param(
		    t_other[JOSE_ALG_ES256], OSSL_PKEY_PARAM_PUB_KEY, pub,
		    sizeof(pub), &publen), 1);
		assert_non_null(bld = OSSL_PARAM_BLD_new());
		assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0), 1);
		assert_int_equal(OSSL_PARAM_BLD_push_BN(bld,
		    OSSL_PKEY_PARAM_PRIV_KEY, d), 1);
		assert_int_equal(OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, pub, publen), 1);
		assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
		assert_non_null(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC",
		    NULL));
		assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
		k = NULL;
		assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEYPAIR,
		    params), 1);
		t_pem_of(k, &pem);
		assert_int_equal(jose_key_parse(JOSE_ALG_ES256, pem.data,
		    pem.len, &pkey), -1);
		t_buf_wipe(&pem);
		EVP_PKEY_free(k);
		EVP_PKEY_CTX_free(ctx);
		OSSL_PARAM_free(params);
		OSSL_PARAM_BLD_free(bld);
		BN_clear_free(d);
	}
}

/*
 * PyJWT (over python3-cryptography) as an independent implementation:
 * it verifies our tokens with the key taken from our public JWK, and
 * signs tokens we verify.  Skipped when /usr/bin/python3 lacks it.
 */
static const char t_python[] =
    "import json, sys\n"
    "import jwt\n"
    "d = sys.argv[1]\n"
    "for alg in ('RS256', 'ES256', 'EdDSA'):\n"
    "    jwk = json.load(open(d + '/' + alg + '.jwk'))\n"
    "    tok = open(d + '/' + alg + '.jws').read()\n"
    "    key = jwt.PyJWK(jwk).key\n"
    "    got = jwt.decode(tok, key, algorithms=[alg],\n"
    "                     options={'verify_aud': False,\n"
    "                              'verify_exp': False})\n"
    "    assert got['sub'] == 'alice', got\n"
    "    assert jwt.get_unverified_header(tok)['kid'] == jwk['kid']\n"
    "    priv = open(d + '/' + alg + '.pem').read()\n"
    "    out = jwt.encode({'sub': 'bob'}, priv, algorithm=alg)\n"
    "    open(d + '/' + alg + '.py', 'w').write(out)\n";

static void
t_write(const char *dir, const char *name, const char *data, size_t len)
{
	char path[256];
	FILE *f;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) <
	    sizeof(path));
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
test_pyjwt(void **state)
{
	char dir[128], path[256], cmd[512], kid[JOSE_KID_LEN + 1];
	char tok[JOSE_JWS_MAX + 1];
	struct buf jws = {0}, payload = {0};
	cJSON *jwk;
	char *text;
	FILE *f;
	size_t n;
	unsigned a;
	int rc;

	(void)state;
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import jwt, cryptography' "
	    ">/dev/null 2>&1") != 0) {
		skip();
		return;
	}
	unit_tempdir(dir, sizeof(dir));
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		assert_int_equal(jose_key_thumbprint(t_key[a], a, kid), 0);
		assert_int_equal(jose_jwk_public(t_key[a], a, kid, &jwk), 0);
		assert_non_null(text = cJSON_PrintUnformatted(jwk));
		snprintf(path, sizeof(path), "%s.jwk", jose_alg_name(a));
		t_write(dir, path, text, strlen(text));
		free(text);
		cJSON_Delete(jwk);
		assert_int_equal(jose_sign(t_key[a], a, kid, "at+jwt",
		    T_PAYLOAD, strlen(T_PAYLOAD), &jws), 0);
		snprintf(path, sizeof(path), "%s.jws", jose_alg_name(a));
		t_write(dir, path, jws.data, jws.len);
		buf_free(&jws);
		snprintf(path, sizeof(path), "%s.pem", jose_alg_name(a));
		t_write(dir, path, t_pem[a].data, t_pem[a].len);
	}
	snprintf(path, sizeof(path), "%s/check.py", dir);
	t_write(dir, "check.py", t_python, strlen(t_python));
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' '%s'", path, dir);
	rc = system(cmd);
	if (rc != 0) {
		unit_rmdir(dir);
		fail_msg("PyJWT refused a token of ours (%d)", rc);
	}
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		snprintf(path, sizeof(path), "%s/%s.py", dir, jose_alg_name(a));
		assert_non_null(f = fopen(path, "r"));
		n = fread(tok, 1, sizeof(tok) - 1, f);
		fclose(f);
		tok[n] = '\0';
		if (jose_verify(t_key[a], a, tok, n, NULL, &payload) != 0) {
			unit_rmdir(dir);
			fail_msg("%s: PyJWT's token refused", jose_alg_name(a));
		}
		assert_string_equal(payload.data, "{\"sub\":\"bob\"}");
		buf_free(&payload);
	}
	unit_rmdir(dir);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_rfc7638),
		cmocka_unit_test(test_rfc8037),
		cmocka_unit_test(test_jwk_public),
		cmocka_unit_test(test_jwk_ec_leading_zero),
		cmocka_unit_test(test_verify_headers),
		cmocka_unit_test(test_verify_mutations),
		cmocka_unit_test(test_verify_es256_der),
		cmocka_unit_test(test_verify_empty_payload),
		cmocka_unit_test(test_verify_length),
		cmocka_unit_test(test_b64url_decode),
		cmocka_unit_test(test_key_parse_refuses),
		cmocka_unit_test(test_pyjwt),
	};

	/* A test name (a glob) as the argument runs only the tests it names. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, t_setup, t_teardown);
}
