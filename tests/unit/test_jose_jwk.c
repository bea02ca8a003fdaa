/*
 * jose_jwk.c: public JWKs that come from outside (jose_jwk_parse) and the
 * JWS that carries its own key in its header, as a DPoP proof does (RFC
 * 9449 §4.2, §4.3: jose_verify_embedded).  jose_sign writes no "jwk", so
 * the proofs here are made without jose.c: the header is text written
 * here and the signature OpenSSL's, valid over it, so that the one check
 * under test is the only reason for a refusal.  Known answers from RFC
 * 7638 §3.1 and RFC 8037 Appendix A; every thumbprint handed back is also
 * recomputed here from the JWK's own members (RFC 7638 §3.2), which is
 * what the key's holder computes.
 */
#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "unit.h"

/* RFC 7638 §3.1: the RSA key of RFC 7517 Appendix A.1 and its thumbprint. */
#define RFC7638_N "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfA" \
	"AtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W" \
	"-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMi" \
	"cAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bF" \
	"TWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-k" \
	"EgU8awapJzKnqDKgw"
#define RFC7638_KID "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
/* The JWK exactly as §3.1 prints it, "alg" and "kid" included. */
#define RFC7638_JWK "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\"," \
	"\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}"

/* RFC 8037 Appendix A.1-A.3: an Ed25519 key and its thumbprint. */
#define RFC8037_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC8037_KID "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

/* The P-256 base point (SEC 2 §2.4.2) and the field prime. */
#define P256_GX "6B17D1F2E12C4247F8BCE6E563A440F2" \
	"77037D812DEB33A0F4A13945D898C296"
#define P256_GY "4FE342E2FE1A7F9B8EE7EB4A7C0F9E16" \
	"2BCE33576B315ECECBB6406837BF51F5"
#define P256_P "FFFFFFFF000000010000000000000000" \
	"00000000FFFFFFFFFFFFFFFFFFFFFFFF"

/* What a DPoP proof's header looks like (RFC 9449 §4.2). */
#define T_HDR "{\"typ\":\"dpop+jwt\",\"alg\":\"%s\",\"jwk\":%j}"
/*
 * A payload whose base64url has both '-' and '_' (bytes 0xfb 0xff), so
 * that the standard-alphabet mutation has something to change.
 */
#define T_PAYLOAD "{\"htm\":\"POST\",\"htu\":\"https://as.example/token\"," \
	"\"x\":\"\xfb\xff\xfb\xff\"}"
#define T_PAYLOAD_LEN (sizeof(T_PAYLOAD) - 1)

/* The base64url members of each kind of JWK ("e" is "AQAB" throughout). */
static const char *const t_b64_members[JOSE_ALG__MAX][3] = {
	[JOSE_ALG_RS256] = {"n", NULL},
	[JOSE_ALG_ES256] = {"x", "y", NULL},
	[JOSE_ALG_EDDSA] = {"x", NULL},
};

/*
 * Two keys of each algorithm, made once; the public JWK of the first as
 * jose_jwk_public writes it (kid, alg and use "sig" included) and its
 * thumbprint.
 */
static EVP_PKEY *t_key[JOSE_ALG__MAX];
static EVP_PKEY *t_other[JOSE_ALG__MAX];
static cJSON *t_jwk[JOSE_ALG__MAX];
static char t_kid[JOSE_ALG__MAX][JOSE_KID_LEN + 1];

static const char t_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

/* A new key for alg, through PEM as the server makes and reads its own. */
static EVP_PKEY *
t_keygen(enum jose_alg alg)
{
	struct buf pem = {0};
	EVP_PKEY *pkey = NULL;

	assert_int_equal(jose_key_generate(alg, &pem), 0);
	assert_int_equal(jose_key_parse(alg, pem.data, pem.len, &pkey), 0);
	crypto_wipe(pem.data, pem.cap);
	buf_free(&pem);
	return pkey;
}

/* Whether each base64url member of jwk has a '-' or a '_' to change. */
static int
t_url_chars(const cJSON *jwk, enum jose_alg alg)
{
	const char *const *m;
	const cJSON *v;

	for (m = t_b64_members[alg]; *m != NULL; m++) {
		v = cJSON_GetObjectItemCaseSensitive(jwk, *m);
		if (!cJSON_IsString(v) || strpbrk(v->valuestring, "-_") == NULL)
			return 0;
	}
	return 1;
}

static int
t_setup(void **state)
{
	unsigned a;
	int tries;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		/*
		 * A key whose members each have a URL-safe character, so the
		 * standard-alphabet cases below change every one of them
		 * (a 43-character value lacks both one time in four).
		 */
		for (tries = 0; tries < 64; tries++) {
			t_key[a] = t_keygen(a);
			if (jose_key_thumbprint(t_key[a], a, t_kid[a]) == -1 ||
			    jose_jwk_public(t_key[a], a, t_kid[a], &t_jwk[a]) ==
			    -1)
				return -1;
			if (t_url_chars(t_jwk[a], a))
				break;
			cJSON_Delete(t_jwk[a]);
			t_jwk[a] = NULL;
			jose_key_free(t_key[a]);
			t_key[a] = NULL;
		}
		if (t_key[a] == NULL)
			return -1;
		t_other[a] = t_keygen(a);
	}
	return 0;
}

static int
t_teardown(void **state)
{
	unsigned a;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		jose_key_free(t_key[a]);
		jose_key_free(t_other[a]);
		cJSON_Delete(t_jwk[a]);
	}
	return 0;
}

/*
 * The RFC 7638 thumbprint of jwk for alg, computed here from the strings
 * of its required members as they stand (§3.2: lexicographic order, no
 * whitespace), into kid.
 */
static void
t_jwk_thumb(const cJSON *jwk, enum jose_alg alg, char kid[JOSE_KID_LEN + 1])
{
	unsigned char digest[TOKEN_HASH_LEN];
	struct buf json = {0};
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(jwk, "e");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(jwk, "n");
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(jwk, "x");
	const cJSON *y = cJSON_GetObjectItemCaseSensitive(jwk, "y");

	switch (alg) {
	case JOSE_ALG_RS256:
		assert_true(cJSON_IsString(e) && cJSON_IsString(n));
		assert_int_equal(buf_printf(&json,
		    "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
		    e->valuestring, n->valuestring), 0);
		break;
	case JOSE_ALG_ES256:
		assert_true(cJSON_IsString(x) && cJSON_IsString(y));
		assert_int_equal(buf_printf(&json,
		    "{\"crv\":\"P-256\",\"kty\":\"EC\","
		    "\"x\":\"%s\",\"y\":\"%s\"}",
		    x->valuestring, y->valuestring), 0);
		break;
	case JOSE_ALG_EDDSA:
		assert_true(cJSON_IsString(x));
		assert_int_equal(buf_printf(&json,
		    "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}",
		    x->valuestring), 0);
		break;
	case JOSE_ALG__MAX:
		fail_msg("no algorithm");
	}
	assert_int_equal(crypto_sha256(json.data, json.len, digest), 0);
	assert_int_equal(b64url_encode(digest, sizeof(digest), kid,
	    JOSE_KID_LEN + 1), JOSE_KID_LEN);
	buf_free(&json);
}

/*
 * Expands a template into out: %s is the name of alg, %o that of another
 * of ours, %j the JSON text jwk, %k the same without its closing brace
 * (for members added after it).
 */
static void
t_expand(const char *tmpl, enum jose_alg alg, const char *jwk,
    struct buf *out)
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
		} else if (p[0] == '%' && (p[1] == 'j' || p[1] == 'k')) {
			assert_non_null(jwk);
			assert_int_equal(buf_append(out, jwk, strlen(jwk) -
			    (p[1] == 'k' ? 1 : 0)), 0);
			p++;
		} else
			assert_int_equal(buf_append(out, p, 1), 0);
	}
	/* Even an empty expansion is a string. */
	assert_int_equal(buf_puts(out, ""), 0);
}

/*
 * Appends to out a compact JWS of the header text hdr over len bytes of
 * pay, signed by pkey as sign_alg prescribes, through OpenSSL alone:
 * PKCS#1 v1.5 SHA-256, ECDSA SHA-256 converted from DER to R || S (RFC
 * 7518 §3.4), or Ed25519 over the message itself.
 */
static void
t_sign_raw(EVP_PKEY *pkey, enum jose_alg sign_alg, const char *hdr,
    size_t hlen, const void *pay, size_t plen, struct buf *out)
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
	    sign_alg == JOSE_ALG_EDDSA ? NULL : EVP_sha256(), NULL, pkey), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &n,
	    (const unsigned char *)out->data, out->len), 1);
	EVP_MD_CTX_free(ctx);
	assert_int_equal(buf_append(out, ".", 1), 0);
	if (sign_alg == JOSE_ALG_ES256) {
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

/*
 * Appends to out a proof: the header tmpl expanded for hdr_alg and jwk
 * (which may be NULL when tmpl names none), over len bytes of pay, signed
 * by signer as sign_alg prescribes.
 */
static void
t_proof(EVP_PKEY *signer, enum jose_alg sign_alg, const char *tmpl,
    enum jose_alg hdr_alg, const cJSON *jwk, const void *pay, size_t plen,
    struct buf *out)
{
	struct buf hdr = {0};
	char *text = NULL;

	if (jwk != NULL)
		assert_non_null(text = cJSON_PrintUnformatted(jwk));
	t_expand(tmpl, hdr_alg, text, &hdr);
	t_sign_raw(signer, sign_alg, hdr.data, hdr.len, pay, plen, out);
	free(text);
	buf_free(&hdr);
}

/*
 * Runs jose_verify_embedded on len bytes at jws with every output preset
 * to what it must overwrite or keep, and checks the contract for the
 * expected outcome ok: on success the algorithm alg, the thumbprint kid,
 * a header naming alg, and exactly the payload appended after what the
 * buffer held; on failure no header, the buffer as it was and an empty
 * thumbprint.  Returns the header on success (the caller deletes it),
 * else NULL.
 */
static cJSON *
t_expect(int line, const char *what, const char *jws, size_t len, int ok,
    enum jose_alg alg, const char *kid, const void *pay, size_t plen)
{
	char tp[JOSE_KID_LEN + 1];
	struct buf payload = {0};
	enum jose_alg got = JOSE_ALG__MAX;
	cJSON *hdr = (cJSON *)&hdr;
	const cJSON *a;
	int rc;

	memset(tp, 'X', JOSE_KID_LEN);
	tp[JOSE_KID_LEN] = '\0';
	assert_int_equal(buf_puts(&payload, "kept"), 0);
	rc = jose_verify_embedded(jws, len, &hdr, &payload, &got, tp);
	if ((rc == 0) != ok)
		fail_msg("line %d (%s): %s", line, what, rc == 0 ?
		    "accepted" : "refused");
	if (!ok) {
		if (hdr != NULL)
			fail_msg("line %d (%s): a header on failure", line,
			    what);
		if (payload.len != 4 || memcmp(payload.data, "kept", 5) != 0)
			fail_msg("line %d (%s): payload written on failure",
			    line, what);
		if (strcmp(tp, "") != 0)
			fail_msg("line %d (%s): thumbprint \"%s\" on failure",
			    line, what, tp);
		buf_free(&payload);
		return NULL;
	}
	if (got != alg)
		fail_msg("line %d (%s): alg %d", line, what, (int)got);
	if (strcmp(tp, kid) != 0)
		fail_msg("line %d (%s): thumbprint %s, not %s", line, what, tp,
		    kid);
	if (hdr == NULL || !cJSON_IsObject(hdr))
		fail_msg("line %d (%s): no header", line, what);
	a = cJSON_GetObjectItemCaseSensitive(hdr, "alg");
	if (!cJSON_IsString(a) || (strcmp(a->valuestring,
	    jose_alg_name(alg)) != 0 && !(alg == JOSE_ALG_EDDSA &&
	    strcmp(a->valuestring, "Ed25519") == 0)))
		fail_msg("line %d (%s): header without its alg", line, what);
	if (payload.len != 4 + plen || memcmp(payload.data, "kept", 4) != 0 ||
	    memcmp(payload.data + 4, pay, plen) != 0)
		fail_msg("line %d (%s): payload not appended exactly", line,
		    what);
	buf_free(&payload);
	return hdr;
}

/* Sets member name of obj to v (owned by obj then), replacing or adding. */
static void
t_set(cJSON *obj, const char *name, cJSON *v)
{
	assert_non_null(v);
	if (cJSON_GetObjectItemCaseSensitive(obj, name) != NULL)
		assert_true(cJSON_ReplaceItemInObjectCaseSensitive(obj, name,
		    v));
	else
		assert_true(cJSON_AddItemToObject(obj, name, v));
}

/* How a case changes a JWK before it is imported. */
enum jwk_op {
	J_KEEP,		/* as jose_jwk_public made it */
	J_SET,		/* member name set to the JSON text value */
	J_DEL,		/* member name removed */
	J_PAD,		/* '=' padded to a multiple of 4, as base64 has it */
	J_STD,		/* '+' and '/' for '-' and '_' (RFC 4648 §4) */
	J_LOW_BITS,	/* the unused bits of the last character set */
	J_SPACE,	/* a space after the value */
	J_DROP_FIRST,	/* the value's first byte removed */
	J_ZERO_FIRST,	/* a zero byte before the value */
	J_ZERO_LAST,	/* a zero byte after the value */
};

/* Applies op to member name of jwk, for alg (a value may name it). */
static void
t_jwk_edit(cJSON *jwk, enum jose_alg alg, enum jwk_op op, const char *name,
    const char *value)
{
	unsigned char bytes[JOSE_RSA_BITS_MAX / 8 + 8];
	struct buf text = {0};
	const cJSON *m;
	const char *c;
	size_t len, n = 0, i, k, unused;

	switch (op) {
	case J_KEEP:
		return;
	case J_DEL:
		assert_non_null(cJSON_GetObjectItemCaseSensitive(jwk, name));
		cJSON_DeleteItemFromObjectCaseSensitive(jwk, name);
		return;
	case J_SET:
		t_expand(value, alg, NULL, &text);
		t_set(jwk, name, cJSON_Parse(text.data));
		buf_free(&text);
		return;
	case J_PAD:
	case J_STD:
	case J_LOW_BITS:
	case J_SPACE:
	case J_DROP_FIRST:
	case J_ZERO_FIRST:
	case J_ZERO_LAST:
		break;
	}
	m = cJSON_GetObjectItemCaseSensitive(jwk, name);
	assert_true(cJSON_IsString(m));
	len = strlen(m->valuestring);
	switch (op) {
	case J_KEEP:
	case J_SET:
	case J_DEL:
		break;
	case J_PAD:
		assert_int_equal(buf_puts(&text, m->valuestring), 0);
		while (text.len % 4 != 0)
			assert_int_equal(buf_puts(&text, "="), 0);
		assert_int_not_equal(text.len, len);
		break;
	case J_STD:
		assert_int_equal(buf_puts(&text, m->valuestring), 0);
		for (i = 0; i < text.len; i++)
			if (text.data[i] == '-')
				text.data[i] = '+';
			else if (text.data[i] == '_')
				text.data[i] = '/';
		assert_string_not_equal(text.data, m->valuestring);
		break;
	case J_LOW_BITS:
		/*
		 * RFC 4648 §3.5: the last character of 2 or 3 carries 4 or 2
		 * bits past the last byte; canonical, they are zero.  A lax
		 * decoder reads the same bytes with them set.
		 */
		assert_int_equal(buf_puts(&text, m->valuestring), 0);
		unused = len % 4 == 2 ? 4 : len % 4 == 3 ? 2 : 0;
		assert_true(unused > 0);
		assert_non_null(c = strchr(t_alphabet, text.data[len - 1]));
		k = (size_t)(c - t_alphabet);
		assert_int_equal(k & ((1u << unused) - 1), 0);
		text.data[len - 1] = t_alphabet[k | 1];
		break;
	case J_SPACE:
		assert_int_equal(buf_printf(&text, "%s ", m->valuestring), 0);
		break;
	case J_DROP_FIRST:
	case J_ZERO_FIRST:
	case J_ZERO_LAST:
		assert_int_equal(jose_b64url_decode(m->valuestring, len,
		    bytes + 1, sizeof(bytes) - 2, &n), 0);
		assert_true(n > 1);
		bytes[0] = 0;
		bytes[n + 1] = 0;
		if (op == J_DROP_FIRST)
			t_b64(&text, bytes + 2, n - 1);
		else if (op == J_ZERO_FIRST)
			t_b64(&text, bytes, n + 1);
		else
			t_b64(&text, bytes + 1, n + 1);
		break;
	}
	t_set(jwk, name, cJSON_CreateString(text.data));
	buf_free(&text);
}

/* What a case expects of the JWK it makes. */
enum jwk_want {
	W_REFUSED,	/* refused, and a proof carrying it too */
	W_SAME,		/* the signer's key: a proof carrying it verifies */
	W_OTHER,	/* a valid key, not the signer's: the proof fails */
};

#define T_ALL JOSE_ALG__MAX	/* a case of every algorithm */

struct jwk_case {
	int line;
	unsigned alg;
	enum jwk_op op;
	const char *name;
	const char *value;	/* JSON text for J_SET; %s and %o expand */
	enum jwk_want want;
};

static const struct jwk_case jwk_cases[] = {
	{__LINE__, T_ALL, J_KEEP, NULL, NULL, W_SAME},
	/* kid, alg and use are optional (RFC 7517 §4.2-4.5). */
	{__LINE__, T_ALL, J_DEL, "kid", NULL, W_SAME},
	{__LINE__, T_ALL, J_DEL, "alg", NULL, W_SAME},
	{__LINE__, T_ALL, J_DEL, "use", NULL, W_SAME},
	{__LINE__, T_ALL, J_SET, "kid", "\"anything\"", W_SAME},
	{__LINE__, T_ALL, J_SET, "alg", "\"%s\"", W_SAME},
	/* Unknown members are ignored (§4); names are case-sensitive. */
	{__LINE__, T_ALL, J_SET, "ext", "true", W_SAME},
	{__LINE__, T_ALL, J_SET, "key_ops", "[\"verify\"]", W_SAME},
	{__LINE__, T_ALL, J_SET, "D", "\"AQAB\"", W_SAME},
	{__LINE__, T_ALL, J_SET, "Use", "\"enc\"", W_SAME},
	/* A private or symmetric member, whatever its value: each one. */
	{__LINE__, T_ALL, J_SET, "d", "\"AQAB\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "p", "\"AQAB\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "q", "\"AQAB\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "dp", "\"AQAB\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "dq", "\"AQAB\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "qi", "\"AQAB\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "oth", "[{\"r\":\"AQAB\"}]", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "k", "\"AQAB\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "d", "null", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "d", "\"\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "oth", "[]", W_REFUSED},
	/* An "alg" other than the one the key is taken for (§4.4). */
	{__LINE__, T_ALL, J_SET, "alg", "\"%o\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "alg", "\"none\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "alg", "\"HS256\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "alg", "\"\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "alg", "1", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "alg", "null", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "alg", "[\"%s\"]", W_REFUSED},
	/* A key for encryption (§4.2), or a use not spelled "sig". */
	{__LINE__, T_ALL, J_SET, "use", "\"enc\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "use", "\"Sig\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "use", "\"\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "use", "1", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "use", "null", W_REFUSED},
	/* kty: required, a string, the one alg is defined for. */
	{__LINE__, T_ALL, J_DEL, "kty", NULL, W_REFUSED},
	{__LINE__, T_ALL, J_SET, "kty", "\"oct\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "kty", "\"\"", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "kty", "1", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "kty", "null", W_REFUSED},
	{__LINE__, T_ALL, J_SET, "kty", "{}", W_REFUSED},

	/* RS256: kty "RSA" (RFC 7518 §6.3.1), n and e. */
	{__LINE__, JOSE_ALG_RS256, J_SET, "kty", "\"EC\"", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "kty", "\"OKP\"", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "kty", "\"rsa\"", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "kty", "\"RSA \"", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_DEL, "n", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_DEL, "e", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "n", "1", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "n", "null", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "n", "[]", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "n", "\"\"", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "65537", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "true", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"\"", W_REFUSED},
	/* Base64url, unpadded and canonical (RFC 7515 §2). */
	{__LINE__, JOSE_ALG_RS256, J_PAD, "n", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_STD, "n", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_LOW_BITS, "n", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SPACE, "n", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"AQAB=\"", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"AQAB \"", W_REFUSED},
	/* RFC 7518 §6.3.1.1: no leading zero, in n or in e. */
	{__LINE__, JOSE_ALG_RS256, J_ZERO_FIRST, "n", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"AAEAAQ\"", W_REFUSED},
	/* An even exponent is no RSA key; 1 makes the signature the hash. */
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"AQAA\"", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"AQAC\"", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"Ag\"", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"AQ\"", W_REFUSED},
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"AA\"", W_REFUSED},
	/* Other odd exponents are keys, just not the signer's. */
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"Aw\"", W_OTHER},
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"AQAAAQ\"", W_OTHER},
	/* Eight bytes of exponent at most: it bounds a verification's cost. */
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"AQAAAAAAAAE\"", W_OTHER},
	{__LINE__, JOSE_ALG_RS256, J_SET, "e", "\"AQAAAAAAAAAB\"", W_REFUSED},

	/* ES256: kty "EC", crv "P-256" (RFC 7518 §6.2.1), x and y. */
	{__LINE__, JOSE_ALG_ES256, J_SET, "kty", "\"RSA\"", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "kty", "\"OKP\"", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "kty", "\"ec\"", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_DEL, "crv", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "crv", "\"P-384\"", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "crv", "\"P-521\"", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "crv", "\"secp256k1\"", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "crv", "\"p-256\"", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "crv", "\"prime256v1\"", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "crv", "\"Ed25519\"", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "crv", "256", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "crv", "null", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_DEL, "x", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_DEL, "y", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "x", "1", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "y", "[]", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "y", "null", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SET, "x", "\"\"", W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_PAD, "x", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_PAD, "y", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_STD, "x", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_STD, "y", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_LOW_BITS, "x", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_LOW_BITS, "y", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_SPACE, "x", NULL, W_REFUSED},
	/* §6.2.1.2: each coordinate in exactly 32 bytes. */
	{__LINE__, JOSE_ALG_ES256, J_DROP_FIRST, "x", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_DROP_FIRST, "y", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_ZERO_FIRST, "x", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_ZERO_FIRST, "y", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_ES256, J_ZERO_LAST, "x", NULL, W_REFUSED},

	/* EdDSA: kty "OKP", crv "Ed25519" (RFC 8037 §2), x. */
	{__LINE__, JOSE_ALG_EDDSA, J_SET, "kty", "\"EC\"", W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_SET, "kty", "\"RSA\"", W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_SET, "kty", "\"okp\"", W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_DEL, "crv", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_SET, "crv", "\"Ed448\"", W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_SET, "crv", "\"X25519\"", W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_SET, "crv", "\"ed25519\"", W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_SET, "crv", "\"P-256\"", W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_SET, "crv", "[\"Ed25519\"]", W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_DEL, "x", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_SET, "x", "1", W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_SET, "x", "{}", W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_SET, "x", "\"\"", W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_PAD, "x", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_STD, "x", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_LOW_BITS, "x", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_SPACE, "x", NULL, W_REFUSED},
	/* RFC 8032 §5.1.5: the public key is 32 bytes. */
	{__LINE__, JOSE_ALG_EDDSA, J_DROP_FIRST, "x", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_ZERO_FIRST, "x", NULL, W_REFUSED},
	{__LINE__, JOSE_ALG_EDDSA, J_ZERO_LAST, "x", NULL, W_REFUSED},
};

/*
 * Each case: jose_jwk_parse of the changed JWK, and the same JWK in the
 * header of a proof the original key signs, where only the JWK's checks
 * can refuse.  An accepted JWK's key has the thumbprint its members give.
 */
static void
test_jwk_cases(void **state)
{
	char kid[JOSE_KID_LEN + 1], want[JOSE_KID_LEN + 1];
	struct buf jws = {0};
	EVP_PKEY *pkey;
	cJSON *jwk, *hdr;
	size_t i, runs;
	unsigned a;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(jwk_cases) / sizeof(jwk_cases[0]); i++) {
		const struct jwk_case *c = &jwk_cases[i];

		runs = 0;
		for (a = 0; a < JOSE_ALG__MAX; a++) {
			if (c->alg != T_ALL && c->alg != a)
				continue;
			runs++;
			assert_non_null(jwk = cJSON_Duplicate(t_jwk[a], 1));
			t_jwk_edit(jwk, a, c->op, c->name, c->value);
			pkey = (EVP_PKEY *)&pkey;
			rc = jose_jwk_parse(jwk, a, &pkey);
			if ((rc == 0) != (c->want != W_REFUSED))
				fail_msg("line %d (%s): %s", c->line,
				    jose_alg_name(a), rc == 0 ? "accepted" :
				    "refused");
			if (rc != 0 && pkey != NULL)
				fail_msg("line %d (%s): a key on failure",
				    c->line, jose_alg_name(a));
			if (rc == 0) {
				assert_int_equal(jose_key_check(pkey, a), 0);
				assert_int_equal(jose_key_thumbprint(pkey, a,
				    kid), 0);
				t_jwk_thumb(jwk, a, want);
				if (strcmp(kid, want) != 0)
					fail_msg("line %d (%s): thumbprint %s "
					    "of the key, %s of the JWK",
					    c->line, jose_alg_name(a), kid,
					    want);
				/* EVP_PKEY_eq compares public halves. */
				if ((EVP_PKEY_eq(pkey, t_key[a]) == 1) !=
				    (c->want == W_SAME) ||
				    (strcmp(kid, t_kid[a]) == 0) !=
				    (c->want == W_SAME))
					fail_msg("line %d (%s): %s key",
					    c->line, jose_alg_name(a),
					    c->want == W_SAME ? "another" :
					    "the same");
			}
			jose_key_free(pkey);

			t_proof(t_key[a], a, T_HDR, a, jwk, T_PAYLOAD,
			    T_PAYLOAD_LEN, &jws);
			hdr = t_expect(c->line, jose_alg_name(a), jws.data,
			    jws.len, c->want == W_SAME, a, t_kid[a],
			    T_PAYLOAD, T_PAYLOAD_LEN);
			if (hdr != NULL)
				/* The JWK handed back is the one sent. */
				assert_true(cJSON_Compare(
				    cJSON_GetObjectItemCaseSensitive(hdr,
				    "jwk"), jwk, 1));
			cJSON_Delete(hdr);
			buf_free(&jws);
			cJSON_Delete(jwk);
		}
		if (runs == 0)
			fail_msg("line %d: no algorithm", c->line);
	}
}

/* No JWK, or one that is not a JSON object; no algorithm of ours. */
static void
test_jwk_not_object(void **state)
{
	static const char *const values[] = {
		"null", "true", "1", "\"AQAB\"", "[]", "{}",
	};
	EVP_PKEY *pkey;
	cJSON *v, *arr;
	size_t i;
	unsigned a;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		pkey = (EVP_PKEY *)&pkey;
		assert_int_equal(jose_jwk_parse(NULL, a, &pkey), -1);
		assert_null(pkey);
		for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			assert_non_null(v = cJSON_Parse(values[i]));
			pkey = (EVP_PKEY *)&pkey;
			if (jose_jwk_parse(v, a, &pkey) != -1 || pkey != NULL)
				fail_msg("%s: %s taken for a JWK",
				    jose_alg_name(a), values[i]);
			cJSON_Delete(v);
		}
		/* The right JWK, wrapped in an array. */
		assert_non_null(arr = cJSON_CreateArray());
		assert_true(cJSON_AddItemToArray(arr,
		    cJSON_Duplicate(t_jwk[a], 1)));
		pkey = (EVP_PKEY *)&pkey;
		assert_int_equal(jose_jwk_parse(arr, a, &pkey), -1);
		assert_null(pkey);
		cJSON_Delete(arr);
		/* A good JWK, and no algorithm to take it for. */
		pkey = (EVP_PKEY *)&pkey;
		assert_int_equal(jose_jwk_parse(t_jwk[a], JOSE_ALG__MAX,
		    &pkey), -1);
		assert_null(pkey);
		pkey = (EVP_PKEY *)&pkey;
		assert_int_equal(jose_jwk_parse(t_jwk[a],
		    (enum jose_alg)(JOSE_ALG__MAX + 1), &pkey), -1);
		assert_null(pkey);
	}
}

/* Each JWK is a key for its own algorithm only. */
static void
test_jwk_kinds(void **state)
{
	EVP_PKEY *pkey;
	unsigned a, b;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++)
		for (b = 0; b < JOSE_ALG__MAX; b++) {
			cJSON *jwk = cJSON_Duplicate(t_jwk[a], 1);

			/* Without its "alg", only kty and crv can refuse. */
			assert_non_null(jwk);
			cJSON_DeleteItemFromObjectCaseSensitive(jwk, "alg");
			pkey = (EVP_PKEY *)&pkey;
			assert_int_equal(jose_jwk_parse(jwk, b, &pkey),
			    a == b ? 0 : -1);
			if (a != b)
				assert_null(pkey);
			jose_key_free(pkey);
			cJSON_Delete(jwk);
		}
}

/* {"kty":"RSA","n":...,"e":"AQAB"} with n of nlen bytes, the first lead. */
static cJSON *
t_rsa_jwk(size_t nlen, unsigned char lead)
{
	unsigned char n[JOSE_RSA_BITS_MAX / 8 + 1];
	struct buf b = {0};
	cJSON *jwk;

	assert_true(nlen <= sizeof(n));
	memset(n, 0xff, nlen);
	n[0] = lead;
	t_b64(&b, n, nlen);
	assert_non_null(jwk = cJSON_CreateObject());
	assert_non_null(cJSON_AddStringToObject(jwk, "kty", "RSA"));
	assert_non_null(cJSON_AddStringToObject(jwk, "n", b.data));
	assert_non_null(cJSON_AddStringToObject(jwk, "e", "AQAB"));
	buf_free(&b);
	return jwk;
}

struct rsa_size_case {
	int line;
	size_t bytes;
	unsigned char lead;
	int bits;
	int ok;
};

/* RFC 7518 §3.3: 2048 bits or more; JOSE_RSA_BITS_MAX at most. */
static const struct rsa_size_case rsa_size_cases[] = {
	{__LINE__, 255, 0xff, 2040, 0},
	{__LINE__, 256, 0x7f, 2047, 0},
	{__LINE__, 256, 0x80, 2048, 1},
	{__LINE__, 384, 0xc0, 3072, 1},
	{__LINE__, 512, 0xff, 4096, 1},
	{__LINE__, 513, 0x01, 4097, 0},
};

/*
 * The size of an RSA modulus, at the bounds: what is imported is only a
 * public key, so a number of the right size serves (no one needs its
 * factors here).  Then a real 1024-bit key, which signs its own proof.
 */
static void
test_jwk_rsa_size(void **state)
{
	char kid[JOSE_KID_LEN + 1];
	struct buf jws = {0}, b = {0};
	EVP_PKEY *pkey, *small;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char bytes[128];
	cJSON *jwk;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rsa_size_cases) / sizeof(rsa_size_cases[0]);
	    i++) {
		const struct rsa_size_case *c = &rsa_size_cases[i];

		jwk = t_rsa_jwk(c->bytes, c->lead);
		pkey = (EVP_PKEY *)&pkey;
		if ((jose_jwk_parse(jwk, JOSE_ALG_RS256, &pkey) == 0) != c->ok)
			fail_msg("line %d: %d bits %s", c->line, c->bits,
			    c->ok ? "refused" : "accepted");
		if (c->ok) {
			assert_int_equal(EVP_PKEY_get_bits(pkey), c->bits);
			assert_int_equal(jose_key_thumbprint(pkey,
			    JOSE_ALG_RS256, kid), 0);
		} else
			assert_null(pkey);
		jose_key_free(pkey);
		cJSON_Delete(jwk);
	}

	assert_non_null(small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)1024));
	assert_int_equal(EVP_PKEY_get_bn_param(small, OSSL_PKEY_PARAM_RSA_N,
	    &n), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(small, OSSL_PKEY_PARAM_RSA_E,
	    &e), 1);
	assert_non_null(jwk = cJSON_CreateObject());
	assert_non_null(cJSON_AddStringToObject(jwk, "kty", "RSA"));
	assert_int_equal(BN_bn2bin(n, bytes), 128);
	t_b64(&b, bytes, 128);
	assert_non_null(cJSON_AddStringToObject(jwk, "n", b.data));
	buf_free(&b);
	assert_int_equal(BN_bn2bin(e, bytes), 3);
	t_b64(&b, bytes, 3);
	assert_string_equal(b.data, "AQAB");
	assert_non_null(cJSON_AddStringToObject(jwk, "e", b.data));
	buf_free(&b);
	pkey = (EVP_PKEY *)&pkey;
	assert_int_equal(jose_jwk_parse(jwk, JOSE_ALG_RS256, &pkey), -1);
	assert_null(pkey);
	/* Its own valid signature does not make it acceptable. */
	t_proof(small, JOSE_ALG_RS256, T_HDR, JOSE_ALG_RS256, jwk, T_PAYLOAD,
	    T_PAYLOAD_LEN, &jws);
	t_expect(__LINE__, "RSA 1024", jws.data, jws.len, 0, JOSE_ALG_RS256,
	    NULL, NULL, 0);
	buf_free(&jws);
	cJSON_Delete(jwk);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(small);
}

/* The 32-byte big-endian form of hex, as base64url, appended to out. */
static void
t_coord(const char *hex, struct buf *out)
{
	unsigned char raw[32];
	BIGNUM *bn = NULL;

	assert_true(BN_hex2bn(&bn, hex) > 0);
	assert_int_equal(BN_bn2binpad(bn, raw, sizeof(raw)), 32);
	t_b64(out, raw, sizeof(raw));
	BN_free(bn);
}

struct point_case {
	int line;
	const char *x, *y;	/* hex; NULL: the negated base point's y */
	int ok;
};

static const struct point_case point_cases[] = {
	/* The base point is a public key (the one of d = 1). */
	{__LINE__, P256_GX, P256_GY, 1},
	/* So is its negation, (x, p - y): on the curve too. */
	{__LINE__, P256_GX, NULL, 1},
	/* Invalid-curve points (SEC 1 §3.2.2.1), and out of the field. */
	{__LINE__, "1", "1", 0},
	{__LINE__, "0", "0", 0},
	{__LINE__, P256_GX, "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECE"
	    "CBB6406837BF51F4", 0},
	{__LINE__, P256_GY, P256_GX, 0},
	{__LINE__, P256_GX, P256_GX, 0},
	{__LINE__, P256_P, P256_GY, 0},
	{__LINE__, P256_GX, P256_P, 0},
	{__LINE__, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
	    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", P256_GY, 0},
};

/* An EC point is a key only when it is on P-256. */
static void
test_jwk_ec_point(void **state)
{
	char kid[JOSE_KID_LEN + 1], want[JOSE_KID_LEN + 1];
	struct buf x = {0}, y = {0};
	BIGNUM *p = NULL, *gy = NULL, *neg;
	char *neg_hex;
	EVP_PKEY *pkey;
	cJSON *jwk;
	size_t i;

	(void)state;
	assert_true(BN_hex2bn(&p, P256_P) > 0);
	assert_true(BN_hex2bn(&gy, P256_GY) > 0);
	assert_non_null(neg = BN_new());
	assert_int_equal(BN_sub(neg, p, gy), 1);
	assert_non_null(neg_hex = BN_bn2hex(neg));
	for (i = 0; i < sizeof(point_cases) / sizeof(point_cases[0]); i++) {
		const struct point_case *c = &point_cases[i];

		t_coord(c->x, &x);
		t_coord(c->y != NULL ? c->y : neg_hex, &y);
		assert_non_null(jwk = cJSON_CreateObject());
		assert_non_null(cJSON_AddStringToObject(jwk, "kty", "EC"));
		assert_non_null(cJSON_AddStringToObject(jwk, "crv", "P-256"));
		assert_non_null(cJSON_AddStringToObject(jwk, "x", x.data));
		assert_non_null(cJSON_AddStringToObject(jwk, "y", y.data));
		pkey = (EVP_PKEY *)&pkey;
		if ((jose_jwk_parse(jwk, JOSE_ALG_ES256, &pkey) == 0) != c->ok)
			fail_msg("line %d: %s", c->line, c->ok ? "refused" :
			    "accepted");
		if (c->ok) {
			assert_int_equal(jose_key_thumbprint(pkey,
			    JOSE_ALG_ES256, kid), 0);
			t_jwk_thumb(jwk, JOSE_ALG_ES256, want);
			assert_string_equal(kid, want);
		} else
			assert_null(pkey);
		jose_key_free(pkey);
		cJSON_Delete(jwk);
		buf_free(&x);
		buf_free(&y);
	}
	OPENSSL_free(neg_hex);
	BN_free(neg);
	BN_free(gy);
	BN_free(p);
}

/*
 * RFC 7518 §6.2.1.2: a coordinate that starts with a zero byte (one key
 * in 128 or so) is still sent in 32 bytes; in 31, the same number, it is
 * refused: the thumbprint is a hash of the full form, and a lax importer
 * would bind a token to a key its holder names otherwise.
 */
static void
test_jwk_ec_leading_zero(void **state)
{
	static const char *const coord[] = {OSSL_PKEY_PARAM_EC_PUB_X,
	    OSSL_PKEY_PARAM_EC_PUB_Y};
	char kid[JOSE_KID_LEN + 1];
	struct buf jws = {0};
	EVP_PKEY *k = NULL, *pkey;
	BIGNUM *bn;
	cJSON *jwk, *hdr;
	int tries, i, short_one = -1;

	(void)state;
	for (tries = 0; tries < 5000 && short_one == -1; tries++) {
		EVP_PKEY_free(k);
		assert_non_null(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    "P-256"));
		for (i = 0; i < 2 && short_one == -1; i++) {
			bn = NULL;
			assert_int_equal(EVP_PKEY_get_bn_param(k, coord[i],
			    &bn), 1);
			if (BN_num_bytes(bn) < 32)
				short_one = i;
			BN_free(bn);
		}
	}
	assert_int_not_equal(short_one, -1);
	assert_int_equal(jose_key_thumbprint(k, JOSE_ALG_ES256, kid), 0);
	assert_int_equal(jose_jwk_public(k, JOSE_ALG_ES256, NULL, &jwk), 0);

	pkey = NULL;
	assert_int_equal(jose_jwk_parse(jwk, JOSE_ALG_ES256, &pkey), 0);
	assert_int_equal(EVP_PKEY_eq(pkey, k), 1);
	jose_key_free(pkey);
	t_proof(k, JOSE_ALG_ES256, T_HDR, JOSE_ALG_ES256, jwk, T_PAYLOAD,
	    T_PAYLOAD_LEN, &jws);
	hdr = t_expect(__LINE__, "leading zero", jws.data, jws.len, 1,
	    JOSE_ALG_ES256, kid, T_PAYLOAD, T_PAYLOAD_LEN);
	cJSON_Delete(hdr);
	buf_free(&jws);

	t_jwk_edit(jwk, JOSE_ALG_ES256, J_DROP_FIRST, short_one == 0 ? "x" :
	    "y", NULL);
	pkey = (EVP_PKEY *)&pkey;
	assert_int_equal(jose_jwk_parse(jwk, JOSE_ALG_ES256, &pkey), -1);
	assert_null(pkey);
	t_proof(k, JOSE_ALG_ES256, T_HDR, JOSE_ALG_ES256, jwk, T_PAYLOAD,
	    T_PAYLOAD_LEN, &jws);
	t_expect(__LINE__, "31 bytes", jws.data, jws.len, 0, JOSE_ALG_ES256,
	    NULL, NULL, 0);
	buf_free(&jws);
	cJSON_Delete(jwk);
	EVP_PKEY_free(k);
}

/*
 * RFC 7638 §3.1: the example JWK, as printed there, is an RS256 key whose
 * thumbprint is the one given; it is no key for ES256 or EdDSA, and
 * a proof that names it but which our key signs fails.
 */
static void
test_rfc7638(void **state)
{
	char kid[JOSE_KID_LEN + 1];
	struct buf jws = {0};
	EVP_PKEY *pkey = NULL;
	cJSON *jwk;

	(void)state;
	assert_non_null(jwk = cJSON_Parse(RFC7638_JWK));
	assert_int_equal(jose_jwk_parse(jwk, JOSE_ALG_RS256, &pkey), 0);
	assert_int_equal(EVP_PKEY_get_bits(pkey), 2048);
	assert_int_equal(jose_key_thumbprint(pkey, JOSE_ALG_RS256, kid), 0);
	assert_string_equal(kid, RFC7638_KID);
	t_jwk_thumb(jwk, JOSE_ALG_RS256, kid);
	assert_string_equal(kid, RFC7638_KID);
	jose_key_free(pkey);
	pkey = (EVP_PKEY *)&pkey;
	assert_int_equal(jose_jwk_parse(jwk, JOSE_ALG_ES256, &pkey), -1);
	assert_null(pkey);
	pkey = (EVP_PKEY *)&pkey;
	assert_int_equal(jose_jwk_parse(jwk, JOSE_ALG_EDDSA, &pkey), -1);
	assert_null(pkey);

	t_proof(t_key[JOSE_ALG_RS256], JOSE_ALG_RS256, T_HDR, JOSE_ALG_RS256,
	    jwk, T_PAYLOAD, T_PAYLOAD_LEN, &jws);
	t_expect(__LINE__, "RFC 7638 key", jws.data, jws.len, 0,
	    JOSE_ALG_RS256, NULL, NULL, 0);
	buf_free(&jws);
	cJSON_Delete(jwk);
}

/*
 * RFC 8037 Appendix A: a proof signed by the A.1 key with its A.2 public
 * JWK in the header verifies, and the thumbprint is the one of A.3.
 */
static void
test_rfc8037(void **state)
{
	unsigned char d[32];
	size_t dlen;
	struct buf jws = {0};
	EVP_PKEY *priv;
	cJSON *jwk, *hdr;

	(void)state;
	assert_int_equal(jose_b64url_decode(RFC8037_D, strlen(RFC8037_D), d,
	    sizeof(d), &dlen), 0);
	assert_non_null(priv = EVP_PKEY_new_raw_private_key_ex(NULL,
	    "ED25519", NULL, d, dlen));
	crypto_wipe(d, sizeof(d));
	assert_non_null(jwk = cJSON_Parse("{\"kty\":\"OKP\",\"crv\":"
	    "\"Ed25519\",\"x\":\"" RFC8037_X "\"}"));
	t_proof(priv, JOSE_ALG_EDDSA, T_HDR, JOSE_ALG_EDDSA, jwk, T_PAYLOAD,
	    T_PAYLOAD_LEN, &jws);
	hdr = t_expect(__LINE__, "RFC 8037", jws.data, jws.len, 1,
	    JOSE_ALG_EDDSA, RFC8037_KID, T_PAYLOAD, T_PAYLOAD_LEN);
	assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(hdr,
	    "jwk"), jwk, 1));
	cJSON_Delete(hdr);
	buf_free(&jws);
	cJSON_Delete(jwk);
	EVP_PKEY_free(priv);
}

/*
 * Good proofs, each algorithm: the thumbprint is the signer's
 * (jose_key_thumbprint, and the JWK's own), with or without the optional
 * members; the header is handed over whole; the payload is appended byte
 * for byte, a NUL and non-UTF-8 included; no header wanted is fine; only
 * len bytes are read.
 */
static void
test_embedded_ok(void **state)
{
	static const char bin[] = "{\"jti\":\"1\"}\0\xfb\xff\x80";
	char kid[JOSE_KID_LEN + 1], tp[JOSE_KID_LEN + 1];
	struct buf jws = {0}, payload = {0};
	enum jose_alg got;
	cJSON *minimal, *hdr, *other;
	const cJSON *typ;
	unsigned a;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		assert_int_equal(jose_key_thumbprint(t_key[a], a, kid), 0);
		assert_string_equal(kid, t_kid[a]);
		t_jwk_thumb(t_jwk[a], a, tp);
		assert_string_equal(kid, tp);

		t_proof(t_key[a], a, T_HDR, a, t_jwk[a], T_PAYLOAD,
		    T_PAYLOAD_LEN, &jws);
		hdr = t_expect(__LINE__, jose_alg_name(a), jws.data, jws.len,
		    1, a, kid, T_PAYLOAD, T_PAYLOAD_LEN);
		typ = cJSON_GetObjectItemCaseSensitive(hdr, "typ");
		assert_true(cJSON_IsString(typ));
		assert_string_equal(typ->valuestring, "dpop+jwt");
		assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(hdr,
		    "jwk"), t_jwk[a], 1));
		assert_int_equal(cJSON_GetArraySize(hdr), 3);
		cJSON_Delete(hdr);

		/* Without a header wanted: the same result. */
		memset(tp, 'X', JOSE_KID_LEN);
		tp[JOSE_KID_LEN] = '\0';
		got = JOSE_ALG__MAX;
		assert_int_equal(jose_verify_embedded(jws.data, jws.len, NULL,
		    &payload, &got, tp), 0);
		assert_int_equal(got, a);
		assert_string_equal(tp, kid);
		assert_int_equal(payload.len, T_PAYLOAD_LEN);
		assert_memory_equal(payload.data, T_PAYLOAD, T_PAYLOAD_LEN);
		buf_free(&payload);

		/* Only len bytes count: what follows them is not read. */
		assert_int_equal(buf_puts(&jws, ".e30 x"), 0);
		hdr = t_expect(__LINE__, "len", jws.data, jws.len - 6, 1, a,
		    kid, T_PAYLOAD, T_PAYLOAD_LEN);
		cJSON_Delete(hdr);
		buf_free(&jws);

		/* The required members alone: the same key, thumbprint. */
		assert_non_null(minimal = cJSON_Duplicate(t_jwk[a], 1));
		cJSON_DeleteItemFromObjectCaseSensitive(minimal, "kid");
		cJSON_DeleteItemFromObjectCaseSensitive(minimal, "alg");
		cJSON_DeleteItemFromObjectCaseSensitive(minimal, "use");
		t_proof(t_key[a], a, "{\"alg\":\"%s\",\"jwk\":%j}", a,
		    minimal, bin, sizeof(bin) - 1, &jws);
		hdr = t_expect(__LINE__, "minimal", jws.data, jws.len, 1, a,
		    kid, bin, sizeof(bin) - 1);
		assert_int_equal(cJSON_GetArraySize(hdr), 2);
		cJSON_Delete(hdr);
		buf_free(&jws);
		cJSON_Delete(minimal);

		/* Another key's proof: its thumbprint, not this one's. */
		assert_int_equal(jose_key_thumbprint(t_other[a], a, tp), 0);
		assert_string_not_equal(tp, kid);
		assert_int_equal(jose_jwk_public(t_other[a], a, NULL, &other),
		    0);
		t_proof(t_other[a], a, T_HDR, a, other, T_PAYLOAD,
		    T_PAYLOAD_LEN, &jws);
		hdr = t_expect(__LINE__, "other", jws.data, jws.len, 1, a, tp,
		    T_PAYLOAD, T_PAYLOAD_LEN);
		cJSON_Delete(hdr);
		buf_free(&jws);
		cJSON_Delete(other);
	}
}

/*
 * Headers over a valid signature by the key of their JWK: only the header
 * check refuses.  %s is the key's algorithm, %o another of ours, %j its
 * JWK, %k that JWK open for more members.
 */
struct hdr_case {
	int line;
	const char *hdr;
	int ok;
};

static const struct hdr_case hdr_cases[] = {
	{__LINE__, T_HDR, 1},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%j}", 1},
	{__LINE__, "{\"jwk\":%j,\"alg\":\"%s\"}", 1},
	{__LINE__, " {\"alg\" : \"%s\" ,\n\"jwk\" : %j }\r\n", 1},
	/* typ, kid, iat and the rest are the caller's to check. */
	{__LINE__, "{\"typ\":\"JWT\",\"alg\":\"%s\",\"jwk\":%j}", 1},
	{__LINE__, "{\"alg\":\"%s\",\"kid\":\"k\",\"jwk\":%j}", 1},
	/* RFC 8725 §3.1, §2.1; RFC 9449 §4.3 step 6: none, MACs, others. */
	{__LINE__, "{\"alg\":\"none\",\"jwk\":%j}", 0},
	{__LINE__, "{\"alg\":\"HS256\",\"jwk\":%j}", 0},
	{__LINE__, "{\"alg\":\"RS512\",\"jwk\":%j}", 0},
	{__LINE__, "{\"alg\":\"PS256\",\"jwk\":%j}", 0},
	{__LINE__, "{\"alg\":\"ES384\",\"jwk\":%j}", 0},
	{__LINE__, "{\"alg\":\"ES256K\",\"jwk\":%j}", 0},
	{__LINE__, "{\"alg\":\"\",\"jwk\":%j}", 0},
	{__LINE__, "{\"alg\":null,\"jwk\":%j}", 0},
	{__LINE__, "{\"alg\":[\"%s\"],\"jwk\":%j}", 0},
	{__LINE__, "{\"ALG\":\"%s\",\"jwk\":%j}", 0},
	{__LINE__, "{\"jwk\":%j}", 0},
	/* One of ours, but not the kind of the key. */
	{__LINE__, "{\"alg\":\"%o\",\"jwk\":%j}", 0},
	/* RFC 7515 §4.1.11: no extension is understood. */
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%j,\"crit\":[\"exp\"],\"exp\":1}",
	    0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%j,\"crit\":[]}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%j,\"crit\":null}", 0},
	/* RFC 7515 §5.2 step 4: duplicate names, even of equal values. */
	{__LINE__, "{\"alg\":\"%s\",\"alg\":\"%s\",\"jwk\":%j}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%j,\"alg\":\"none\"}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%j,\"jwk\":%j}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%k,\"use\":\"sig\"}}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%k,\"kty\":\"oct\"}}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%k,\"alg\":\"none\"}}", 0},
	/* A private member inside the key. */
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%k,\"d\":\"AQAB\"}}", 0},
	/* No "jwk", or one that is not an object. */
	{__LINE__, "{\"alg\":\"%s\"}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"JWK\":%j}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"x\":{\"jwk\":%j}}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":null}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":{}}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":[%j]}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":\"AQAB\"}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":1}", 0},
	/* Not one strict JSON object. */
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%j}x", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%j,}", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%j}{}", 0},
	{__LINE__, "[{\"alg\":\"%s\",\"jwk\":%j}]", 0},
	{__LINE__, "{\"alg\":\"%s\",\"jwk\":%j", 0},
	{__LINE__, "", 0},
};

static void
test_embedded_headers(void **state)
{
	struct buf jws = {0};
	cJSON *hdr;
	size_t i;
	unsigned a;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++)
		for (i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
			const struct hdr_case *c = &hdr_cases[i];

			t_proof(t_key[a], a, c->hdr, a, t_jwk[a], T_PAYLOAD,
			    T_PAYLOAD_LEN, &jws);
			hdr = t_expect(c->line, jose_alg_name(a), jws.data,
			    jws.len, c->ok, a, t_kid[a], T_PAYLOAD,
			    T_PAYLOAD_LEN);
			cJSON_Delete(hdr);
			buf_free(&jws);
		}
}

/*
 * "Ed25519", EdDSA's fully-specified name (RFC 9864 §2.2, what
 * oauth4webapi signs DPoP proofs with), is EdDSA: taken for an Ed25519
 * key, in the header and as the JWK's alg, and refused for any other.
 */
static void
test_embedded_ed25519_name(void **state)
{
	static const char tmpl[] = "{\"alg\":\"Ed25519\",\"jwk\":%j}";
	struct buf jws = {0};
	cJSON *hdr, *jwk;
	unsigned a;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		t_proof(t_key[a], a, tmpl, a, t_jwk[a], T_PAYLOAD,
		    T_PAYLOAD_LEN, &jws);
		hdr = t_expect(__LINE__, jose_alg_name(a), jws.data, jws.len,
		    a == JOSE_ALG_EDDSA, a, t_kid[a], T_PAYLOAD, T_PAYLOAD_LEN);
		cJSON_Delete(hdr);
		buf_free(&jws);
	}
	assert_non_null(jwk = cJSON_Duplicate(t_jwk[JOSE_ALG_EDDSA], 1));
	cJSON_DeleteItemFromObjectCaseSensitive(jwk, "alg");
	assert_non_null(cJSON_AddStringToObject(jwk, "alg", "Ed25519"));
	t_proof(t_key[JOSE_ALG_EDDSA], JOSE_ALG_EDDSA, tmpl, JOSE_ALG_EDDSA,
	    jwk, T_PAYLOAD, T_PAYLOAD_LEN, &jws);
	hdr = t_expect(__LINE__, "EdDSA, JWK alg Ed25519", jws.data, jws.len,
	    1, JOSE_ALG_EDDSA, t_kid[JOSE_ALG_EDDSA], T_PAYLOAD, T_PAYLOAD_LEN);
	cJSON_Delete(hdr);
	buf_free(&jws);
	cJSON_Delete(jwk);
}

/*
 * The key, the algorithm and the signature must agree: a proof signed by
 * another key than its JWK, and every pairing of a header's algorithm
 * with a key of another kind, whoever signs (an ES256 header with an RSA
 * JWK, and so on), is refused.
 */
static void
test_embedded_mismatch(void **state)
{
	struct buf jws = {0};
	cJSON *other;
	unsigned a, b;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		/* This key's JWK, the other key's signature. */
		t_proof(t_other[a], a, T_HDR, a, t_jwk[a], T_PAYLOAD,
		    T_PAYLOAD_LEN, &jws);
		t_expect(__LINE__, jose_alg_name(a), jws.data, jws.len, 0, a,
		    NULL, NULL, 0);
		buf_free(&jws);
		/* The other key's JWK, this key's signature. */
		assert_int_equal(jose_jwk_public(t_other[a], a, NULL, &other),
		    0);
		t_proof(t_key[a], a, T_HDR, a, other, T_PAYLOAD,
		    T_PAYLOAD_LEN, &jws);
		t_expect(__LINE__, jose_alg_name(a), jws.data, jws.len, 0, a,
		    NULL, NULL, 0);
		buf_free(&jws);
		cJSON_Delete(other);

		for (b = 0; b < JOSE_ALG__MAX; b++) {
			if (b == a)
				continue;
			/* Header alg b, JWK of a, signed by a's key as a. */
			t_proof(t_key[a], a, T_HDR, b, t_jwk[a], T_PAYLOAD,
			    T_PAYLOAD_LEN, &jws);
			t_expect(__LINE__, jose_alg_name(b), jws.data, jws.len,
			    0, b, NULL, NULL, 0);
			buf_free(&jws);
			/* The same, signed by b's key as b. */
			t_proof(t_key[b], b, T_HDR, b, t_jwk[a], T_PAYLOAD,
			    T_PAYLOAD_LEN, &jws);
			t_expect(__LINE__, jose_alg_name(b), jws.data, jws.len,
			    0, b, NULL, NULL, 0);
			buf_free(&jws);
			/* Header alg a, JWK of b, signed by a's key. */
			t_proof(t_key[a], a, T_HDR, a, t_jwk[b], T_PAYLOAD,
			    T_PAYLOAD_LEN, &jws);
			t_expect(__LINE__, jose_alg_name(a), jws.data, jws.len,
			    0, a, NULL, NULL, 0);
			buf_free(&jws);
		}
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
	MUT_SIG_PADDED,		/* "==" after the signature */
	MUT_TRAILING_DOT,
	MUT_LEADING_DOT,
	MUT_EXTRA_PART,		/* four parts */
	MUT_TWO_PARTS,		/* no signature part */
	MUT_ONE_PART,		/* the header alone */
	MUT_EMPTY_PAYLOAD,	/* header ".." signature */
	MUT_EMPTY_SIG,		/* header "." payload "." */
	MUT_LEADING_SPACE,
	MUT_TRAILING_SPACE,
	MUT_SPACE,		/* a space inside the payload */
	MUT_TAB_AFTER_DOT,
	MUT_NEWLINE,		/* a newline after the token */
	MUT_CRLF,
	MUT_NUL,		/* a NUL after the token, within len */
	MUT_STD_ALPHABET,	/* '+' and '/' for '-' and '_' */
	MUT_CUT,		/* the last character left out of len */
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
	{__LINE__, MUT_TRAILING_DOT, 0},
	{__LINE__, MUT_LEADING_DOT, 0},
	{__LINE__, MUT_EXTRA_PART, 0},
	{__LINE__, MUT_TWO_PARTS, 0},
	{__LINE__, MUT_ONE_PART, 0},
	{__LINE__, MUT_EMPTY_PAYLOAD, 0},
	{__LINE__, MUT_EMPTY_SIG, 0},
	{__LINE__, MUT_LEADING_SPACE, 0},
	{__LINE__, MUT_TRAILING_SPACE, 0},
	{__LINE__, MUT_SPACE, 0},
	{__LINE__, MUT_TAB_AFTER_DOT, 0},
	{__LINE__, MUT_NEWLINE, 0},
	{__LINE__, MUT_CRLF, 0},
	{__LINE__, MUT_NUL, 0},
	{__LINE__, MUT_STD_ALPHABET, 0},
	{__LINE__, MUT_CUT, 0},
};

/* Replaces the character at p by the next one of the alphabet. */
static void
t_flip(char *p)
{
	const char *c = strchr(t_alphabet, *p);

	assert_non_null(c);
	*p = t_alphabet[(c - t_alphabet + 1) % 64];
}

/*
 * Applies m to the valid proof in, into out, and sets *len to the length
 * to verify.
 */
static void
t_mutate(const char *in, enum mutation m, struct buf *out, size_t *len)
{
	const char *d1 = strchr(in, '.'), *d2 = strrchr(in, '.');
	size_t n, k;
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
		 * Every signature here is 3k + 1 bytes long (256 or 64), so
		 * the last character carries 4 unused bits.
		 */
		k = (size_t)(strchr(t_alphabet, p[out->len - 1]) - t_alphabet);
		assert_int_equal(k & 0x0f, 0);
		p[out->len - 1] = t_alphabet[k | 1];
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
	case MUT_ONE_PART:
		out->len = (size_t)(d1 - in);
		p[out->len] = '\0';
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
	case MUT_LEADING_SPACE:
		buf_free(out);
		assert_int_equal(buf_printf(out, " %s", in), 0);
		break;
	case MUT_TRAILING_SPACE:
		assert_int_equal(buf_puts(out, " "), 0);
		break;
	case MUT_SPACE:
		buf_free(out);
		assert_int_equal(buf_append(out, in, (size_t)(d1 - in) + 3), 0);
		assert_int_equal(buf_puts(out, " "), 0);
		assert_int_equal(buf_puts(out, d1 + 3), 0);
		break;
	case MUT_TAB_AFTER_DOT:
		buf_free(out);
		assert_int_equal(buf_append(out, in, (size_t)(d2 - in) + 1), 0);
		assert_int_equal(buf_puts(out, "\t"), 0);
		assert_int_equal(buf_puts(out, d2 + 1), 0);
		break;
	case MUT_NEWLINE:
		assert_int_equal(buf_puts(out, "\n"), 0);
		break;
	case MUT_CRLF:
		assert_int_equal(buf_puts(out, "\r\n"), 0);
		break;
	case MUT_NUL:
		assert_int_equal(buf_append(out, "", 1), 0);
		break;
	case MUT_STD_ALPHABET:
		for (n = 0, k = 0; n < out->len; n++)
			if (p[n] == '-') {
				p[n] = '+';
				k++;
			} else if (p[n] == '_') {
				p[n] = '/';
				k++;
			}
		assert_true(k > 0);
		break;
	case MUT_CUT:
		*len = out->len - 1;
		return;
	}
	*len = out->len;
}

static void
test_embedded_mutations(void **state)
{
	struct buf jws = {0}, bad = {0};
	cJSON *hdr;
	size_t i, len;
	unsigned a;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		t_proof(t_key[a], a, T_HDR, a, t_jwk[a], T_PAYLOAD,
		    T_PAYLOAD_LEN, &jws);
		for (i = 0; i < sizeof(mut_cases) / sizeof(mut_cases[0]); i++) {
			const struct mut_case *c = &mut_cases[i];

			t_mutate(jws.data, c->m, &bad, &len);
			hdr = t_expect(c->line, jose_alg_name(a), bad.data, len,
			    c->ok, a, t_kid[a], T_PAYLOAD, T_PAYLOAD_LEN);
			cJSON_Delete(hdr);
			buf_free(&bad);
		}
		buf_free(&jws);
	}
}

/*
 * An empty payload, validly signed: legal JWS, but no DPoP proof has one
 * (RFC 9449 §4.2: the claims are required).  The same over one byte
 * verifies.
 */
static void
test_embedded_empty_payload(void **state)
{
	struct buf jws = {0};
	cJSON *hdr;
	unsigned a;

	(void)state;
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		t_proof(t_key[a], a, T_HDR, a, t_jwk[a], "", 0, &jws);
		assert_non_null(strstr(jws.data, ".."));
		t_expect(__LINE__, jose_alg_name(a), jws.data, jws.len, 0, a,
		    NULL, NULL, 0);
		buf_free(&jws);
		t_proof(t_key[a], a, T_HDR, a, t_jwk[a], "x", 1, &jws);
		hdr = t_expect(__LINE__, jose_alg_name(a), jws.data, jws.len,
		    1, a, t_kid[a], "x", 1);
		cJSON_Delete(hdr);
		buf_free(&jws);
	}
}

/*
 * JOSE_JWS_MAX: a proof of exactly that many bytes verifies, one byte
 * more does not, whatever else is right with it.
 */
static void
test_embedded_length(void **state)
{
	struct buf hdr = {0}, jws = {0};
	char *pay, *jwk;
	size_t target, plen, hb, sb, pb, extra;
	cJSON *h;
	unsigned a;

	(void)state;
	assert_non_null(pay = malloc(JOSE_JWS_MAX));
	memset(pay, 'a', JOSE_JWS_MAX);
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		assert_non_null(jwk = cJSON_PrintUnformatted(t_jwk[a]));
		for (target = JOSE_JWS_MAX; target <= JOSE_JWS_MAX + 1;
		    target++) {
			sb = a == JOSE_ALG_RS256 ?
			    (size_t)EVP_PKEY_get_size(t_key[a]) : 64;
			sb = sb / 3 * 4 + (sb % 3 != 0 ? sb % 3 + 1 : 0);
			/* Trailing spaces in the header make every size. */
			for (extra = 0;; extra++) {
				buf_free(&hdr);
				assert_int_equal(buf_printf(&hdr,
				    "{\"alg\":\"%s\",\"jwk\":%s}%*s",
				    jose_alg_name(a), jwk, (int)extra, ""), 0);
				hb = hdr.len / 3 * 4 + (hdr.len % 3 != 0 ?
				    hdr.len % 3 + 1 : 0);
				pb = target - hb - sb - 2;
				if (pb % 4 != 1)
					break;
			}
			plen = pb / 4 * 3 + (pb % 4 != 0 ? pb % 4 - 1 : 0);
			t_sign_raw(t_key[a], a, hdr.data, hdr.len, pay, plen,
			    &jws);
			assert_int_equal(jws.len, target);
			h = t_expect(__LINE__, jose_alg_name(a), jws.data,
			    jws.len, target <= JOSE_JWS_MAX, a, t_kid[a], pay,
			    plen);
			cJSON_Delete(h);
			buf_free(&jws);
		}
		free(jwk);
	}
	buf_free(&hdr);
	free(pay);
}

/* No token at all: nothing to read, and the outputs say so. */
static void
test_embedded_args(void **state)
{
	struct buf jws = {0}, payload = {0};
	char tp[JOSE_KID_LEN + 1];
	enum jose_alg got;

	(void)state;
	t_expect(__LINE__, "NULL", NULL, 0, 0, JOSE_ALG_RS256, NULL, NULL, 0);
	t_expect(__LINE__, "empty", "", 0, 0, JOSE_ALG_RS256, NULL, NULL, 0);
	t_expect(__LINE__, "dots", "..", 2, 0, JOSE_ALG_RS256, NULL, NULL, 0);
	t_proof(t_key[JOSE_ALG_ES256], JOSE_ALG_ES256, T_HDR, JOSE_ALG_ES256,
	    t_jwk[JOSE_ALG_ES256], T_PAYLOAD, T_PAYLOAD_LEN, &jws);
	t_expect(__LINE__, "len 0", jws.data, 0, 0, JOSE_ALG_ES256, NULL,
	    NULL, 0);
	/* Without a header wanted, a failure is still a failure. */
	memset(tp, 'X', JOSE_KID_LEN);
	tp[JOSE_KID_LEN] = '\0';
	assert_int_equal(jose_verify_embedded(jws.data, jws.len - 1, NULL,
	    &payload, &got, tp), -1);
	assert_string_equal(tp, "");
	assert_null(payload.data);
	buf_free(&jws);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwk_cases),
		cmocka_unit_test(test_jwk_not_object),
		cmocka_unit_test(test_jwk_kinds),
		cmocka_unit_test(test_jwk_rsa_size),
		cmocka_unit_test(test_jwk_ec_point),
		cmocka_unit_test(test_jwk_ec_leading_zero),
		cmocka_unit_test(test_rfc7638),
		cmocka_unit_test(test_rfc8037),
		cmocka_unit_test(test_embedded_ok),
		cmocka_unit_test(test_embedded_headers),
		cmocka_unit_test(test_embedded_ed25519_name),
		cmocka_unit_test(test_embedded_mismatch),
		cmocka_unit_test(test_embedded_mutations),
		cmocka_unit_test(test_embedded_empty_payload),
		cmocka_unit_test(test_embedded_length),
		cmocka_unit_test(test_embedded_args),
	};

	/* A test name (a glob) as the argument runs only the tests it names. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, t_setup, t_teardown);
}
