/*
 * Compact JWS made by hand (RFC 7515 §7.1), for tests that must send what
 * a peer may send: any protected header and any payload, as JSON text
 * taken verbatim (duplicate members, wrong types and all), signed with a
 * key of ours.  The signatures are made here against OpenSSL EVP, not
 * through jose_sign, so that a mistake in jose.c cannot sign and verify
 * alike and pass unseen: RS256 is PKCS#1 v1.5 over SHA-256, ES256 the
 * 64-byte R || S of RFC 7518 §3.4 (converted from OpenSSL's DER), EdDSA
 * pure Ed25519 over the signing input (RFC 8037 §3.1).
 *
 * On top of it, DPoP proofs (RFC 9449 §4.2) with a knob for each part.
 * Every helper fails the test on an error of its own; what it returns is
 * the caller's to free().
 */
#ifndef JWS_FIXTURE_H
#define JWS_FIXTURE_H

#include <inttypes.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "unit.h"

/* A knob's value that leaves its member out altogether. */
#define JWS_OMIT "\x01(omitted)"
#define JWS_SIG_BYTES_MAX 512	/* an RSA-4096 signature */
#define JWS_ES256_COORD 32	/* bytes of R, of S, of a P-256 scalar */

/* A copy of s; fails the test when memory runs out. */
static inline char *
jws_strdup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

/* Whether the knob s says "leave it out". */
static inline int
jws_omitted(const char *s)
{
	return s != NULL && strcmp(s, JWS_OMIT) == 0;
}

/*
 * A key pair of a test: its algorithm, the key, the RFC 7638 thumbprint
 * of its public half (what cnf.jkt and dpop_jkt say), and its JWK three
 * ways, as JSON text: bare (kty and the key's members, what a DPoP client
 * sends), full (with kid, alg and use "sig", as jose_jwk_public writes
 * it), and private (bare plus "d", what must never be taken).
 */
struct jws_key {
	enum jose_alg alg;
	EVP_PKEY *pkey;
	char jkt[JOSE_KID_LEN + 1];
	char *jwk;
	char *jwk_full;
	char *jwk_private;
};

/* Appends the unpadded base64url of the len bytes at p to b. */
static inline void
jws_b64url_append(struct buf *b, const void *p, size_t len)
{
	size_t need = len / 3 * 4 + 4;
	char *text;

	if (len == 0)
		return;
	assert_non_null(text = malloc(need + 1));
	assert_true(b64url_encode(p, len, text, need + 1) > 0);
	assert_int_equal(buf_puts(b, text), 0);
	free(text);
}

/* The base64url SHA-256 of the string s (an ath, RFC 9449 §4.2). */
static inline void
jws_sha256_b64url(const char *s, char out[JOSE_KID_LEN + 1])
{
	unsigned char digest[TOKEN_HASH_LEN];

	assert_int_equal(crypto_sha256(s, strlen(s), digest), 0);
	assert_int_equal(b64url_encode(digest, sizeof(digest), out,
	    JOSE_KID_LEN + 1), JOSE_KID_LEN);
}

/*
 * The private scalar of k as the JWK member "d" writes it (RFC 7518
 * §6.2.2.1, §6.3.2.1; RFC 8037 §2), base64url, into out.
 */
static inline void
jws_private_d(const struct jws_key *k, char *out, size_t size)
{
	unsigned char bytes[JWS_SIG_BYTES_MAX];
	BIGNUM *bn = NULL;
	size_t n = sizeof(bytes);
	int len;

	switch (k->alg) {
	case JOSE_ALG_EDDSA:
		assert_int_equal(EVP_PKEY_get_raw_private_key(k->pkey, bytes,
		    &n), 1);
		break;
	case JOSE_ALG_ES256:
		assert_int_equal(EVP_PKEY_get_bn_param(k->pkey,
		    OSSL_PKEY_PARAM_PRIV_KEY, &bn), 1);
		assert_int_equal(BN_bn2binpad(bn, bytes, JWS_ES256_COORD),
		    JWS_ES256_COORD);
		n = JWS_ES256_COORD;
		break;
	case JOSE_ALG_RS256:
		assert_int_equal(EVP_PKEY_get_bn_param(k->pkey,
		    OSSL_PKEY_PARAM_RSA_D, &bn), 1);
		assert_true((len = BN_num_bytes(bn)) > 0 &&
		    (size_t)len <= sizeof(bytes));
		n = (size_t)BN_bn2bin(bn, bytes);
		break;
	case JOSE_ALG__MAX:
		fail_msg("no such algorithm");
	}
	BN_clear_free(bn);
	assert_true(b64url_encode(bytes, n, out, size) > 0);
	OPENSSL_cleanse(bytes, sizeof(bytes));
}

/*
 * The RFC 7638 thumbprint of the public JWK text jwk, computed here from
 * its members rather than by jose_key_thumbprint: SHA-256 of the required
 * members in lexicographic order, no whitespace (§3.2, §3.3; RFC 8037 §2
 * for OKP), base64url.
 */
static inline void
jws_jkt_of(const char *jwk, char out[JOSE_KID_LEN + 1])
{
	static const struct {
		const char *kty;
		const char *members[4];
	} required[] = {
		{"RSA", {"e", "kty", "n", NULL}},
		{"EC", {"crv", "kty", "x", "y"}},
		{"OKP", {"crv", "kty", "x", NULL}},
	};
	cJSON *o = cJSON_Parse(jwk);
	const cJSON *kty = cJSON_GetObjectItemCaseSensitive(o, "kty"), *m;
	struct buf b = {0};
	size_t i, j;

	assert_true(cJSON_IsString(kty));
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (strcmp(required[i].kty, kty->valuestring) == 0)
			break;
	assert_true(i < sizeof(required) / sizeof(required[0]));
	assert_int_equal(buf_puts(&b, "{"), 0);
	for (j = 0; j < 4 && required[i].members[j] != NULL; j++) {
		m = cJSON_GetObjectItemCaseSensitive(o,
		    required[i].members[j]);
		assert_true(cJSON_IsString(m));
		assert_int_equal(buf_printf(&b, "%s\"%s\":\"%s\"",
		    j > 0 ? "," : "", required[i].members[j], m->valuestring),
		    0);
	}
	assert_int_equal(buf_puts(&b, "}"), 0);
	jws_sha256_b64url(b.data, out);
	buf_free(&b);
	cJSON_Delete(o);
}

/*
 * Makes a new key pair for alg into k, as the server makes its own
 * (jose_key_generate, jose_key_parse), with its JWKs and its thumbprint,
 * which jose_key_thumbprint must agree with.
 */
static inline void
jws_key_make(struct jws_key *k, enum jose_alg alg)
{
	static const char *const meta[] = {"kid", "alg", "use"};
	char d[JWS_SIG_BYTES_MAX * 2], kid[JOSE_KID_LEN + 1];
	struct buf pem = {0};
	cJSON *jwk = NULL;
	size_t i;

	memset(k, 0, sizeof(*k));
	k->alg = alg;
	assert_int_equal(jose_key_generate(alg, &pem), 0);
	assert_int_equal(jose_key_parse(alg, pem.data, pem.len, &k->pkey), 0);
	crypto_wipe(pem.data, pem.cap);
	buf_free(&pem);
	assert_int_equal(jose_key_thumbprint(k->pkey, alg, kid), 0);
	assert_int_equal(jose_jwk_public(k->pkey, alg, kid, &jwk), 0);
	assert_non_null(k->jwk_full = cJSON_PrintUnformatted(jwk));
	for (i = 0; i < sizeof(meta) / sizeof(meta[0]); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(jwk, meta[i]);
	assert_non_null(k->jwk = cJSON_PrintUnformatted(jwk));
	/* The thumbprint as a client computes it, and the server agrees. */
	jws_jkt_of(k->jwk, k->jkt);
	assert_string_equal(k->jkt, kid);
	jws_private_d(k, d, sizeof(d));
	assert_non_null(cJSON_AddStringToObject(jwk, "d", d));
	assert_non_null(k->jwk_private = cJSON_PrintUnformatted(jwk));
	OPENSSL_cleanse(d, sizeof(d));
	cJSON_Delete(jwk);
}

/* Releases what jws_key_make made; a zeroed k is fine. */
static inline void
jws_key_free(struct jws_key *k)
{
	EVP_PKEY_free(k->pkey);
	cJSON_free(k->jwk);
	cJSON_free(k->jwk_full);
	if (k->jwk_private != NULL)
		OPENSSL_cleanse(k->jwk_private, strlen(k->jwk_private));
	cJSON_free(k->jwk_private);
	memset(k, 0, sizeof(*k));
}

/*
 * Signs the len bytes of tbs with pkey as alg prescribes, into sig, and
 * returns the signature's length.
 */
static inline size_t
jws_sign_bytes(EVP_PKEY *pkey, enum jose_alg alg, const void *tbs,
    size_t len, unsigned char sig[JWS_SIG_BYTES_MAX])
{
	unsigned char der[JWS_SIG_BYTES_MAX];
	const unsigned char *p = der;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *ctx;
	ECDSA_SIG *ec;
	const BIGNUM *r, *s;
	size_t n = sizeof(der);

	assert_non_null(ctx = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx,
	    alg == JOSE_ALG_EDDSA ? NULL : EVP_sha256(), NULL, pkey), 1);
	if (alg == JOSE_ALG_RS256)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PADDING), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &n, tbs, len), 1);
	EVP_MD_CTX_free(ctx);
	if (alg != JOSE_ALG_ES256) {
		memcpy(sig, der, n);
		return n;
	}
	/* RFC 7518 §3.4: R and S, each in 32 bytes, not DER. */
	assert_non_null(ec = d2i_ECDSA_SIG(NULL, &p, (long)n));
	ECDSA_SIG_get0(ec, &r, &s);
	assert_int_equal(BN_bn2binpad(r, sig, JWS_ES256_COORD),
	    JWS_ES256_COORD);
	assert_int_equal(BN_bn2binpad(s, sig + JWS_ES256_COORD,
	    JWS_ES256_COORD), JWS_ES256_COORD);
	ECDSA_SIG_free(ec);
	return 2 * JWS_ES256_COORD;
}

/* How a JWS of jws_compact is signed. */
enum jws_sig {
	JWS_SIG_KEY = 0,	/* by the key, as its alg says */
	JWS_SIG_EMPTY,		/* no signature: "header.payload." */
	/* HMAC-SHA256 keyed with the header's jwk text: RFC 8725 §2.1 */
	JWS_SIG_HS256_JWK,
};

/*
 * The compact JWS of the protected header text header and the payload
 * text payload, both taken as they are, signed as sig says (with pkey as
 * alg for JWS_SIG_KEY; with mac_key for JWS_SIG_HS256_JWK).
 */
static inline char *
jws_compact(EVP_PKEY *pkey, enum jose_alg alg, enum jws_sig how,
    const char *mac_key, const char *header, const char *payload)
{
	unsigned char sig[JWS_SIG_BYTES_MAX];
	struct buf b = {0};
	size_t n = 0;

	jws_b64url_append(&b, header, strlen(header));
	assert_int_equal(buf_puts(&b, "."), 0);
	jws_b64url_append(&b, payload, strlen(payload));
	switch (how) {
	case JWS_SIG_KEY:
		n = jws_sign_bytes(pkey, alg, b.data, b.len, sig);
		break;
	case JWS_SIG_EMPTY:
		break;
	case JWS_SIG_HS256_JWK:
		assert_non_null(mac_key);
		assert_int_equal(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL,
		    mac_key, strlen(mac_key), (const unsigned char *)b.data,
		    b.len, sig, sizeof(sig), &n) != NULL, 1);
		break;
	}
	assert_int_equal(buf_puts(&b, "."), 0);
	jws_b64url_append(&b, sig, n);
	return buf_steal(&b);
}

/*
 * jws with its part-th part (0: the header, 1: the payload) replaced by
 * the base64url of text, the other parts kept byte for byte: a token
 * whose signature is no longer over what it says.
 */
static inline char *
jws_replace_part(const char *jws, int part, const char *text)
{
	const char *dot1 = strchr(jws, '.'), *dot2;
	struct buf b = {0};

	assert_non_null(dot1);
	assert_non_null(dot2 = strchr(dot1 + 1, '.'));
	if (part == 0) {
		jws_b64url_append(&b, text, strlen(text));
		assert_int_equal(buf_puts(&b, dot1), 0);
	} else {
		assert_int_equal(buf_append(&b, jws, (size_t)(dot1 + 1 - jws)),
		    0);
		jws_b64url_append(&b, text, strlen(text));
		assert_int_equal(buf_puts(&b, dot2), 0);
	}
	return buf_steal(&b);
}

/*
 * A DPoP proof to make (RFC 9449 §4.2).  The header is {"typ","alg",
 * "jwk"} and the claims {"jti","htm","htu","iat","ath"}, in that order,
 * then the extras.  Each string knob is JSON text put in quotes with no
 * escaping (the tests' values need none), JWS_OMIT to leave the member
 * out; a NULL one has the default given.
 */
struct jws_dpop {
	const struct jws_key *key;	/* signs; required */
	const struct jws_key *jwk_key;	/* whose bare jwk; NULL: key's */
	enum jws_sig sig;
	const char *typ;	/* NULL: "dpop+jwt" */
	const char *alg;	/* NULL: the key's algorithm */
	const char *jwk;	/* the member's JSON text; NULL: jwk_key's */
	const char *header_extra;	/* ",\"name\":value..." appended */
	const char *header;	/* the whole header text instead; NULL */
	const char *jti;	/* NULL: one not used before in this run */
	const char *htm;	/* NULL: left out */
	const char *htu;	/* NULL: left out */
	const char *iat;	/* its JSON text; NULL: iat_at as a number */
	int64_t iat_at;		/* 0: UNIT_NOW */
	const char *ath;	/* NULL: from ath_token, else left out */
	const char *ath_token;	/* the access token ath hashes */
	const char *extra;	/* ",\"name\":value..." appended to claims */
	const char *claims;	/* the whole claims text instead; NULL */
};

/* Appends ,"name":"value" (or the first member, without the comma). */
static inline void
jws_member(struct buf *b, const char *name, const char *value, int quote)
{
	if (value == NULL || jws_omitted(value))
		return;
	assert_int_equal(buf_printf(b, "%s\"%s\":%s%s%s", b->len > 1 ? "," :
	    "", name, quote ? "\"" : "", value, quote ? "\"" : ""), 0);
}

/* The header text of the proof p. */
static inline char *
jws_dpop_header(const struct jws_dpop *p)
{
	const struct jws_key *jk = p->jwk_key != NULL ? p->jwk_key : p->key;
	struct buf b = {0};

	if (p->header != NULL)
		return jws_strdup(p->header);
	assert_int_equal(buf_puts(&b, "{"), 0);
	jws_member(&b, "typ", p->typ != NULL ? p->typ : "dpop+jwt", 1);
	jws_member(&b, "alg", p->alg != NULL ? p->alg :
	    jose_alg_name(p->key->alg), 1);
	jws_member(&b, "jwk", p->jwk != NULL ? p->jwk : jk->jwk, 0);
	if (p->header_extra != NULL)
		assert_int_equal(buf_puts(&b, p->header_extra), 0);
	assert_int_equal(buf_puts(&b, "}"), 0);
	return buf_steal(&b);
}

/* The claims text of the proof p. */
static inline char *
jws_dpop_claims(const struct jws_dpop *p)
{
	static uint64_t serial;
	char jti[32], iat[32], ath[JOSE_KID_LEN + 1];
	struct buf b = {0};

	if (p->claims != NULL)
		return jws_strdup(p->claims);
	snprintf(jti, sizeof(jti), "jti-%" PRIu64, ++serial);
	snprintf(iat, sizeof(iat), "%" PRId64,
	    p->iat_at != 0 ? p->iat_at : (int64_t)UNIT_NOW);
	if (p->ath == NULL && p->ath_token != NULL)
		jws_sha256_b64url(p->ath_token, ath);
	assert_int_equal(buf_puts(&b, "{"), 0);
	jws_member(&b, "jti", p->jti != NULL ? p->jti : jti, 1);
	jws_member(&b, "htm", p->htm, 1);
	jws_member(&b, "htu", p->htu, 1);
	jws_member(&b, "iat", p->iat != NULL ? p->iat : iat, 0);
	jws_member(&b, "ath", p->ath != NULL ? p->ath :
	    p->ath_token != NULL ? ath : NULL, 1);
	if (p->extra != NULL)
		assert_int_equal(buf_puts(&b, p->extra), 0);
	assert_int_equal(buf_puts(&b, "}"), 0);
	return buf_steal(&b);
}

/* The compact JWS of the proof p. */
static inline char *
jws_dpop(const struct jws_dpop *p)
{
	const struct jws_key *jk = p->jwk_key != NULL ? p->jwk_key : p->key;
	char *header, *claims, *jws;

	assert_non_null(p->key);
	header = jws_dpop_header(p);
	claims = jws_dpop_claims(p);
	jws = jws_compact(p->key->pkey, p->key->alg, p->sig,
	    p->jwk != NULL && !jws_omitted(p->jwk) ? p->jwk : jk->jwk, header,
	    claims);
	free(header);
	free(claims);
	return jws;
}

#endif /* JWS_FIXTURE_H */
