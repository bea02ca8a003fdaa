/*
 * JOSE: the signing keys, public JWKs and compact JWS of signed tokens
 * (RFC 7515, 7517, 7518, 7638, 8037), through OpenSSL 3 and cJSON: the one
 * part of the program that links libcrypto (oauth.fcgi loads it as a
 * module, fcgi/fcgi_jose.c, when a process may sign).  Three
 * algorithms and no others: RS256, ES256 and EdDSA over Ed25519, each bound
 * to one kind of key, so a key is never used with an algorithm it was not
 * made for.  jose_verify is written for hostile input: the length is capped
 * before anything is decoded, every part is strict base64url, the header is
 * strict JSON, and the algorithm is the caller's, never the token's.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common.h"

/* Characters of the unpadded base64url of n bytes (RFC 4648 §5, §3.2). */
#define JOSE_B64URL_LEN(n) ((n) / 3 * 4 + ((n) % 3 != 0 ? (n) % 3 + 1 : 0))

#define JOSE_EC_COORD_LEN 32	/* a P-256 coordinate, RFC 7518 §6.2.1.2 */
#define JOSE_ES256_SIG_LEN 64	/* R || S, RFC 7518 §3.4 */
#define JOSE_ED25519_KEY_LEN 32	/* RFC 8032 §5.1.5 */
#define JOSE_ED25519_SIG_LEN 64	/* RFC 8032 §5.1.6 */
#define JOSE_RSA_BYTES_MAX (JOSE_RSA_BITS_MAX / 8)
#define JOSE_SELF_TEST "jose_key_parse"	/* what a parsed key signs */

/* The public members of a key, base64url, as a JWK and RFC 7638 carry them. */
struct jose_pub {
	char n[JOSE_B64URL_LEN(JOSE_RSA_BYTES_MAX) + 1];	/* RSA */
	char e[JOSE_B64URL_LEN(JOSE_RSA_BYTES_MAX) + 1];	/* RSA */
	char x[JOSE_B64URL_LEN(JOSE_EC_COORD_LEN) + 1];	/* EC, OKP */
	char y[JOSE_B64URL_LEN(JOSE_EC_COORD_LEN) + 1];	/* EC */
};

static const EVP_MD *jose_md(void);
static int jose_no_password(char *, int, int, void *);
static int jose_bn_b64url(const EVP_PKEY *, const char *, size_t, char *,
    size_t);
static int jose_pub_get(const EVP_PKEY *, enum jose_alg, struct jose_pub *);
static int jose_buf_b64url(struct buf *, const unsigned char *, size_t);
static int jose_sig_make(EVP_PKEY *, enum jose_alg, const void *, size_t,
    unsigned char[JOSE_SIG_MAX], size_t *);
static int jose_sig_check(EVP_PKEY *, enum jose_alg, const void *, size_t,
    const unsigned char *, size_t);
static int jose_header_parse(const char *, size_t, enum jose_alg *,
    cJSON **);

static EVP_MD *jose_sha256_md;

/*
 * The SHA-256 of RS256 and ES256, fetched once per process so signing does
 * not pay for the provider lookup.  Returns NULL when OpenSSL has none.
 */
static const EVP_MD *
jose_md(void)
{
	if (jose_sha256_md == NULL)
		jose_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	return jose_sha256_md;
}

/*
 * Sets OpenSSL up for signing, once, before any other OpenSSL call of the
 * process and before its threads start: without openssl.cnf unless
 * load_config (it sets policy for TLS, which only libpq does here; reading
 * it cost a CGI process 15% of its instructions), and with the digest
 * fetched.  Returns 0, or -1 when OpenSSL cannot start or has no SHA-256.
 */
int
jose_init(int load_config)
{
	if (!load_config &&
	    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
		return -1;
	return jose_md() != NULL ? 0 : -1;
}

/*
 * The PEM password callback: refuses.  Without it OpenSSL would prompt on
 * the terminal for an encrypted key; ours are stored unencrypted.
 */
static int
jose_no_password(char *pw, int size, int rwflag, void *u)
{
	(void)pw;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * Checks that pkey is the kind of key alg is defined for.  Public and
 * private keys both pass.  Returns 0, or -1.
 */
int
jose_key_check(const EVP_PKEY *pkey, enum jose_alg alg)
{
	char group[64];
	size_t n = 0;
	int bits, nid;

	if (pkey == NULL)
		return -1;
	switch (alg) {
	case JOSE_ALG_RS256:
		/*
		 * RFC 7518 §3.3: a key of 2048 bits or larger MUST be used.
		 * "RSA" only: an RSA-PSS key is restricted to PSS padding.
		 */
		if (!EVP_PKEY_is_a(pkey, "RSA"))
			return -1;
		bits = EVP_PKEY_get_bits(pkey);
		return bits >= JOSE_RSA_BITS_MIN && bits <= JOSE_RSA_BITS_MAX ?
		    0 : -1;
	case JOSE_ALG_ES256:
		/* RFC 7518 §3.4: ES256 is ECDSA over P-256 only. */
		if (!EVP_PKEY_is_a(pkey, "EC") ||
		    EVP_PKEY_get_group_name(pkey, group, sizeof(group), &n) != 1 ||
		    n >= sizeof(group))
			return -1;
		group[n] = '\0';
		nid = OBJ_sn2nid(group);
		if (nid == NID_undef)
			nid = EC_curve_nist2nid(group);
		return nid == NID_X9_62_prime256v1 ? 0 : -1;
	case JOSE_ALG_EDDSA:
		/* RFC 8037 §3.1: EdDSA here means Ed25519 (no Ed448 key). */
		return EVP_PKEY_is_a(pkey, "ED25519") ? 0 : -1;
	case JOSE_ALG__MAX:
		break;
	}
	return -1;
}

/*
 * Appends a new private key for alg to pem_out as unencrypted PKCS#8 PEM
 * ("BEGIN PRIVATE KEY"): RSA of JOSE_RSA_BITS_GENERATE bits with e = 65537
 * for RS256, P-256 for ES256, Ed25519 for EdDSA.  pem_out then holds secret
 * material: the caller stores it where only the server reads it and wipes
 * the buffer (crypto_wipe(data, cap)) before freeing it.  Returns 0, or -1
 * with pem_out unchanged.
 *
 * RSA 2048, not 3072: it is the least RFC 7518 §3.3 allows and what every
 * RS256 peer takes, good for 112-bit security (NIST SP 800-57) through
 * 2030, while a 3072-bit signature costs six times as much (2.7 ms against
 * 0.4 ms) on every token and ID token.  Tokens live minutes and keys
 * rotate, so a larger default later is one constant and a rotation.
 */
int
jose_key_generate(enum jose_alg alg, struct buf *pem_out)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	int rc = -1;

	switch (alg) {
	case JOSE_ALG_RS256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)JOSE_RSA_BITS_GENERATE);
		break;
	case JOSE_ALG_ES256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case JOSE_ALG_EDDSA:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case JOSE_ALG__MAX:
		break;
	}
	if (pkey == NULL || jose_key_check(pkey, alg) == -1)
		goto out;
	/* A secure-memory BIO: its bytes are cleared when it is freed. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	if ((n = BIO_get_mem_data(bio, &data)) <= 0 || data == NULL)
		goto out;
	if (buf_append(pem_out, data, (size_t)n) == -1)
		goto out;
	rc = 0;
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	if (rc == -1)
		ERR_clear_error();
	return rc;
}

/*
 * Parses len bytes of PEM holding one unencrypted private key (PKCS#8, or
 * the traditional RSA and EC forms) and checks that it suits alg: RSA of
 * JOSE_RSA_BITS_MIN to JOSE_RSA_BITS_MAX bits for RS256, P-256 for ES256,
 * Ed25519 for EdDSA, with a public half that matches the private one (a
 * damaged key would publish a JWK its signatures fail): the key signs a
 * constant and verifies it.  Decoding a key is slow in OpenSSL 3 (a few
 * milliseconds with the self-test): a process parses its keys once.  On
 * success sets *out to a key the caller frees with jose_key_free and
 * returns 0; returns -1 with *out NULL on malformed, encrypted, oversized
 * or unsuitable input.  pem is not modified; the caller wipes it.
 */
static int jose_key_read(enum jose_alg, const char *, size_t, int,
    EVP_PKEY **);

int
jose_key_parse(enum jose_alg alg, const char *pem, size_t len, EVP_PKEY **out)
{
	return jose_key_read(alg, pem, len, 1, out);
}

/*
 * As jose_key_parse, without the self-test signature: for a key the
 * database holds, which was self-tested when it was made (oauthctl key
 * generate) and which oauthctl check tests again.  The test is an RSA
 * signature, as much as the signature the key is loaded for, which a CGI
 * process would pay on every signed response.
 */
int
jose_key_load(enum jose_alg alg, const char *pem, size_t len, EVP_PKEY **out)
{
	return jose_key_read(alg, pem, len, 0, out);
}

/* jose_key_parse, and jose_key_load with selftest 0. */
static int
jose_key_read(enum jose_alg alg, const char *pem, size_t len, int selftest,
    EVP_PKEY **out)
{
	unsigned char sig[JOSE_SIG_MAX];
	size_t siglen = 0;
	EVP_PKEY *pkey;
	BIO *bio;
	int ok;

	*out = NULL;
	if (pem == NULL || len == 0 || len > JOSE_PEM_MAX)
		return -1;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return -1;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, jose_no_password, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		ERR_clear_error();
		return -1;
	}
	/*
	 * A signature the key's own public half verifies proves the halves
	 * match.  EVP_PKEY_pairwise_check would too, but for RSA it tests
	 * p and q for primality, some 60 ms: more than a CGI request may
	 * spend, where every request parses the key again.
	 */
	ok = jose_key_check(pkey, alg) == 0 && (!selftest ||
	    (jose_sig_make(pkey, alg, JOSE_SELF_TEST,
		sizeof(JOSE_SELF_TEST) - 1, sig, &siglen) == 0 &&
		jose_sig_check(pkey, alg, JOSE_SELF_TEST,
		    sizeof(JOSE_SELF_TEST) - 1, sig, siglen) == 0));
	if (!ok) {
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		return -1;
	}
	*out = pkey;
	return 0;
}

/* Frees a key of jose_key_parse; OpenSSL clears its secrets.  NULL is safe. */
void
jose_key_free(EVP_PKEY *pkey)
{
	EVP_PKEY_free(pkey);
}

/*
 * Writes the big-number parameter name of pkey as base64url of its
 * big-endian bytes into out: left-padded with zeros to pad bytes when pad is
 * not 0, else in the fewest bytes, without the leading zero some libraries
 * add (RFC 7518 §6.3.1.1, §6.2.1.2).  Returns 0, or -1 when the parameter
 * is missing, longer than pad or JOSE_RSA_BYTES_MAX, or out is too small.
 */
static int
jose_bn_b64url(const EVP_PKEY *pkey, const char *name, size_t pad, char *out,
    size_t outsize)
{
	unsigned char bytes[JOSE_RSA_BYTES_MAX];
	BIGNUM *bn = NULL;
	int n, rc = -1;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1 || bn == NULL)
		goto out;
	if (BN_is_negative(bn) || BN_is_zero(bn))
		goto out;
	n = BN_num_bytes(bn);
	if (n <= 0 || (size_t)n > sizeof(bytes) || (pad != 0 && (size_t)n > pad))
		goto out;
	if (pad != 0)
		n = BN_bn2binpad(bn, bytes, (int)pad);
	else
		n = BN_bn2bin(bn, bytes);
	if (n <= 0 || b64url_encode(bytes, (size_t)n, out, outsize) !=
	    JOSE_B64URL_LEN((size_t)n))
		goto out;
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

/*
 * Fills pub with the public members of pkey, which must suit alg: n and e
 * for RSA (RFC 7518 §6.3.1), x and y for P-256 (§6.2.1), x for Ed25519
 * (RFC 8037 §2).  The members alg does not use are left empty.  Returns 0,
 * or -1.
 */
static int
jose_pub_get(const EVP_PKEY *pkey, enum jose_alg alg, struct jose_pub *pub)
{
	unsigned char raw[JOSE_ED25519_KEY_LEN];
	size_t n = 0;

	memset(pub, 0, sizeof(*pub));
	if (jose_key_check(pkey, alg) == -1)
		return -1;
	switch (alg) {
	case JOSE_ALG_RS256:
		return jose_bn_b64url(pkey, OSSL_PKEY_PARAM_RSA_N, 0, pub->n,
		    sizeof(pub->n)) == 0 &&
		    jose_bn_b64url(pkey, OSSL_PKEY_PARAM_RSA_E, 0, pub->e,
		    sizeof(pub->e)) == 0 ? 0 : -1;
	case JOSE_ALG_ES256:
		/* RFC 7518 §6.2.1.2: each coordinate in its full 32 bytes. */
		return jose_bn_b64url(pkey, OSSL_PKEY_PARAM_EC_PUB_X,
		    JOSE_EC_COORD_LEN, pub->x, sizeof(pub->x)) == 0 &&
		    jose_bn_b64url(pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
		    JOSE_EC_COORD_LEN, pub->y, sizeof(pub->y)) == 0 ? 0 : -1;
	case JOSE_ALG_EDDSA:
		if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY,
		    raw, sizeof(raw), &n) != 1 || n != sizeof(raw))
			return -1;
		return b64url_encode(raw, n, pub->x, sizeof(pub->x)) ==
		    JOSE_B64URL_LEN(sizeof(raw)) ? 0 : -1;
	case JOSE_ALG__MAX:
		break;
	}
	return -1;
}

/*
 * Writes the RFC 7638 JWK thumbprint of the public half of pkey to kid:
 * SHA-256 over the required members in lexicographic order with no
 * whitespace (§3.2, §3.3), base64url, JOSE_KID_LEN characters and a NUL.
 * It depends on the public key only, so it names a key stably across
 * processes and restarts: fit for "kid".  Returns 0, or -1 when pkey does
 * not suit alg (kid is then "").
 */
int
jose_key_thumbprint(const EVP_PKEY *pkey, enum jose_alg alg,
    char kid[JOSE_KID_LEN + 1])
{
	struct jose_pub pub;
	struct buf json = {0};
	unsigned char digest[TOKEN_HASH_LEN];
	int rc = -1, p = -1;

	kid[0] = '\0';
	if (jose_pub_get(pkey, alg, &pub) == -1)
		return -1;
	/* Base64url needs no JSON escaping: the members go in as they are. */
	switch (alg) {
	case JOSE_ALG_RS256:
		p = buf_printf(&json, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
		    pub.e, pub.n);
		break;
	case JOSE_ALG_ES256:
		p = buf_printf(&json, "{\"crv\":\"P-256\",\"kty\":\"EC\","
		    "\"x\":\"%s\",\"y\":\"%s\"}", pub.x, pub.y);
		break;
	case JOSE_ALG_EDDSA:
		/* RFC 8037 §2: OKP, whose required members are crv, kty, x. */
		p = buf_printf(&json, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
		    "\"x\":\"%s\"}", pub.x);
		break;
	case JOSE_ALG__MAX:
		break;
	}
	if (p == -1 || crypto_sha256(json.data, json.len, digest) == -1)
		goto out;
	if (b64url_encode(digest, sizeof(digest), kid, JOSE_KID_LEN + 1) !=
	    JOSE_KID_LEN) {
		kid[0] = '\0';
		goto out;
	}
	rc = 0;
out:
	buf_free(&json);
	return rc;
}

/*
 * Sets *out to the public JWK of pkey (RFC 7517 §4, RFC 7518 §6, RFC 8037
 * §2): kty, crv where the type has one, n and e, x and y, or x, then kid
 * (when kid is not NULL), alg and use "sig".  Only public members are ever
 * written, whether pkey is private or not.  The caller frees *out with
 * cJSON_Delete.  Returns 0, or -1 with *out NULL.
 */
int
jose_jwk_public(const EVP_PKEY *pkey, enum jose_alg alg, const char *kid,
    struct cJSON **out)
{
	struct jose_pub pub;
	cJSON *jwk;
	int ok = 0;

	*out = NULL;
	if (jose_pub_get(pkey, alg, &pub) == -1 ||
	    (jwk = cJSON_CreateObject()) == NULL)
		return -1;
	switch (alg) {
	case JOSE_ALG_RS256:
		ok = cJSON_AddStringToObject(jwk, "kty", "RSA") != NULL &&
		    cJSON_AddStringToObject(jwk, "n", pub.n) != NULL &&
		    cJSON_AddStringToObject(jwk, "e", pub.e) != NULL;
		break;
	case JOSE_ALG_ES256:
		ok = cJSON_AddStringToObject(jwk, "kty", "EC") != NULL &&
		    cJSON_AddStringToObject(jwk, "crv", "P-256") != NULL &&
		    cJSON_AddStringToObject(jwk, "x", pub.x) != NULL &&
		    cJSON_AddStringToObject(jwk, "y", pub.y) != NULL;
		break;
	case JOSE_ALG_EDDSA:
		ok = cJSON_AddStringToObject(jwk, "kty", "OKP") != NULL &&
		    cJSON_AddStringToObject(jwk, "crv", "Ed25519") != NULL &&
		    cJSON_AddStringToObject(jwk, "x", pub.x) != NULL;
		break;
	case JOSE_ALG__MAX:
		break;
	}
	ok = ok && (kid == NULL ||
	    cJSON_AddStringToObject(jwk, "kid", kid) != NULL) &&
	    cJSON_AddStringToObject(jwk, "alg", jose_alg_name(alg)) != NULL &&
	    cJSON_AddStringToObject(jwk, "use", "sig") != NULL;
	if (!ok) {
		cJSON_Delete(jwk);
		return -1;
	}
	*out = jwk;
	return 0;
}

/*
 * Appends the unpadded base64url of len bytes of in to b.  len is at most
 * JOSE_JWS_MAX here.  Returns 0, or -1 with b unchanged.
 */
static int
jose_buf_b64url(struct buf *b, const unsigned char *in, size_t len)
{
	size_t need = JOSE_B64URL_LEN(len);
	char *tmp;
	int rc;

	if (len > JOSE_JWS_MAX || (tmp = malloc(need + 1)) == NULL)
		return -1;
	rc = b64url_encode(in, len, tmp, need + 1) == need &&
	    buf_append(b, tmp, need) == 0 ? 0 : -1;
	free(tmp);
	return rc;
}

/*
 * Signs len bytes of tbs with pkey as alg prescribes, into sig, and sets
 * *siglen: PKCS#1 v1.5 with SHA-256 for RS256 (RFC 7518 §3.3), ECDSA P-256
 * SHA-256 as the 64-byte R || S for ES256 (§3.4: OpenSSL makes DER, which
 * is converted), pure Ed25519 over the message itself for EdDSA (RFC 8037
 * §3.1: no digest).  Returns 0, or -1 with sig unspecified.
 */
static int
jose_sig_make(EVP_PKEY *pkey, enum jose_alg alg, const void *tbs,
    size_t tbslen, unsigned char sig[JOSE_SIG_MAX], size_t *siglen)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = NULL;
	ECDSA_SIG *ec = NULL;
	unsigned char der[JOSE_SIG_MAX];
	const unsigned char *p;
	const BIGNUM *r, *s;
	size_t n = sizeof(der);
	int rc = -1;

	if (alg == JOSE_ALG_RS256 || alg == JOSE_ALG_ES256) {
		if ((md = jose_md()) == NULL)
			return -1;
	}
	/* The RSA signature has the modulus' size, within JOSE_SIG_MAX. */
	if (EVP_PKEY_get_size(pkey) <= 0 ||
	    (size_t)EVP_PKEY_get_size(pkey) > sizeof(der))
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey) != 1)
		goto out;
	if (alg == JOSE_ALG_RS256 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	if (EVP_DigestSign(ctx, der, &n, tbs, tbslen) != 1)
		goto out;

	switch (alg) {
	case JOSE_ALG_RS256:
	case JOSE_ALG_EDDSA:
		memcpy(sig, der, n);
		*siglen = n;
		break;
	case JOSE_ALG_ES256:
		p = der;
		if ((ec = d2i_ECDSA_SIG(NULL, &p, (long)n)) == NULL)
			goto out;
		ECDSA_SIG_get0(ec, &r, &s);
		if (BN_bn2binpad(r, sig, JOSE_EC_COORD_LEN) != JOSE_EC_COORD_LEN ||
		    BN_bn2binpad(s, sig + JOSE_EC_COORD_LEN, JOSE_EC_COORD_LEN) !=
		    JOSE_EC_COORD_LEN)
			goto out;
		*siglen = JOSE_ES256_SIG_LEN;
		break;
	case JOSE_ALG__MAX:
		goto out;
	}
	rc = 0;
out:
	ECDSA_SIG_free(ec);
	EVP_MD_CTX_free(ctx);
	if (rc == -1)
		ERR_clear_error();
	return rc;
}

/*
 * Verifies siglen bytes of sig over len bytes of tbs with pkey for alg.
 * The length each algorithm defines is required exactly first: the RSA
 * modulus' size (RFC 8017 §8.2.2 step 1), 64 bytes of R || S for ES256
 * (RFC 7518 §3.4, so a DER signature is refused), 64 for Ed25519.
 * Returns 0 when the signature is valid, else -1.
 */
static int
jose_sig_check(EVP_PKEY *pkey, enum jose_alg alg, const void *tbs,
    size_t tbslen, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = NULL;
	ECDSA_SIG *ec = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	const unsigned char *check = sig;
	size_t checklen = siglen;
	int n, rc = -1;

	switch (alg) {
	case JOSE_ALG_RS256:
		if (EVP_PKEY_get_size(pkey) <= 0 ||
		    siglen != (size_t)EVP_PKEY_get_size(pkey))
			return -1;
		md = jose_md();
		break;
	case JOSE_ALG_ES256:
		if (siglen != JOSE_ES256_SIG_LEN)
			return -1;
		md = jose_md();
		/* Back to the DER that OpenSSL verifies. */
		if ((ec = ECDSA_SIG_new()) == NULL ||
		    (r = BN_bin2bn(sig, JOSE_EC_COORD_LEN, NULL)) == NULL ||
		    (s = BN_bin2bn(sig + JOSE_EC_COORD_LEN, JOSE_EC_COORD_LEN,
		    NULL)) == NULL)
			goto out;
		if (ECDSA_SIG_set0(ec, r, s) != 1)
			goto out;
		r = s = NULL;	/* owned by ec now */
		if ((n = i2d_ECDSA_SIG(ec, &der)) <= 0)
			goto out;
		check = der;
		checklen = (size_t)n;
		break;
	case JOSE_ALG_EDDSA:
		if (siglen != JOSE_ED25519_SIG_LEN)
			return -1;
		break;
	case JOSE_ALG__MAX:
		return -1;
	}
	if (alg != JOSE_ALG_EDDSA && md == NULL)
		goto out;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) != 1)
		goto out;
	if (alg == JOSE_ALG_RS256 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	/* 1 is valid; 0 is a bad signature and below 0 an error. */
	if (EVP_DigestVerify(ctx, check, checklen, tbs, tbslen) == 1)
		rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	ECDSA_SIG_free(ec);
	BN_free(r);
	BN_free(s);
	if (rc == -1)
		ERR_clear_error();
	return rc;
}

/*
 * Appends to out the compact JWS (RFC 7515 §7.1) of len bytes of payload
 * signed with the private key pkey for alg, under the protected header
 * whose JSON text is header (the caller's, and its "alg" must name alg):
 * base64url of the header, ".", base64url of the payload, ".", base64url
 * of the signature.  Fails, rather than make a JWS jose_verify would
 * refuse, when it would exceed JOSE_JWS_MAX.  Returns 0, or -1 with out
 * unchanged (pkey not private or not suited to alg, too long, out of
 * memory).
 */
int
jose_sign_header(EVP_PKEY *pkey, enum jose_alg alg, const char *header,
    const char *payload, size_t len, struct buf *out)
{
	struct buf jws = {0};
	unsigned char sig[JOSE_SIG_MAX];
	size_t siglen = 0, hlen;
	int rc = -1;

	if (jose_key_check(pkey, alg) == -1 || header == NULL ||
	    (payload == NULL && len > 0) || len > JOSE_JWS_MAX ||
	    (hlen = strlen(header)) > JOSE_JWS_MAX ||
	    JOSE_B64URL_LEN(hlen) + JOSE_B64URL_LEN(len) + 2 > JOSE_JWS_MAX)
		return -1;
	if (jose_buf_b64url(&jws, (const unsigned char *)header, hlen) == -1 ||
	    buf_append(&jws, ".", 1) == -1 ||
	    jose_buf_b64url(&jws, (const unsigned char *)payload, len) == -1)
		goto out;
	/* RFC 7515 §5.1 step 8: the input is ASCII(header "." payload). */
	if (jose_sig_make(pkey, alg, jws.data, jws.len, sig, &siglen) == -1)
		goto out;
	if (buf_append(&jws, ".", 1) == -1 ||
	    jose_buf_b64url(&jws, sig, siglen) == -1 ||
	    jws.len > JOSE_JWS_MAX)
		goto out;
	if (buf_append(out, jws.data, jws.len) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&jws);
	return rc;
}

/*
 * jose_sign_header of the header {"alg","kid","typ"}, in that order, kid
 * or typ left out when NULL: the tokens this server signs.
 */
int
jose_sign(EVP_PKEY *pkey, enum jose_alg alg, const char *kid, const char *typ,
    const char *payload, size_t len, struct buf *out)
{
	cJSON *hdr = NULL;
	char *hjson = NULL;
	int rc = -1;

	if (jose_key_check(pkey, alg) == -1)
		return -1;
	if ((hdr = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(hdr, "alg", jose_alg_name(alg)) == NULL ||
	    (kid != NULL && cJSON_AddStringToObject(hdr, "kid", kid) == NULL) ||
	    (typ != NULL && cJSON_AddStringToObject(hdr, "typ", typ) == NULL) ||
	    (hjson = cJSON_PrintUnformatted(hdr)) == NULL)
		goto out;
	rc = jose_sign_header(pkey, alg, hjson, payload, len, out);
out:
	free(hjson);
	cJSON_Delete(hdr);
	return rc;
}

/*
 * Parses len decoded bytes of a protected header (RFC 7515 §5.2 steps 2-5):
 * UTF-8 JSON text that is exactly one object, with no "crit" (§4.1.11: we
 * implement no extension, so one marked critical must be refused; that
 * also refuses RFC 7797's unencoded payloads), and its "alg" one of ours:
 * the name of *alg, or, when *alg is JOSE_ALG__MAX, any of enum jose_alg,
 * which *alg is then set to.  On success sets *out to the object (the
 * caller frees it with cJSON_Delete) and returns 0; returns -1 with *out
 * NULL.
 */
static int
jose_header_parse(const char *s, size_t len, enum jose_alg *alg, cJSON **out)
{
	const cJSON *a;
	cJSON *root;
	enum jose_alg named;

	*out = NULL;
	if (json_parse_object(s, len, JOSE_HEADER_DEPTH_MAX, &root) == -1)
		return -1;
	/*
	 * The caller's algorithm or one of ours, never whatever the token
	 * names: "none" (RFC 8725 §3.1) and HMAC with a public key as secret
	 * (§2.1) are neither.  Case-sensitive lookup: cJSON_GetObjectItem
	 * would take "ALG".
	 */
	a = cJSON_GetObjectItemCaseSensitive(root, "alg");
	if (!cJSON_IsString(a) || a->valuestring == NULL ||
	    jose_alg_parse_verify(a->valuestring, &named) == -1 ||
	    (*alg != JOSE_ALG__MAX && named != *alg))
		goto bad;
	if (cJSON_GetObjectItemCaseSensitive(root, "crit") != NULL)
		goto bad;
	*alg = named;
	*out = root;
	return 0;
bad:
	cJSON_Delete(root);
	return -1;
}

/*
 * Decodes and parses the protected header of the compact JWS of len bytes
 * at jws (the part before its first '.') as jose_header_parse does, with
 * *alg as it takes it.  Only the header is looked at: nothing is
 * verified.  Returns 0 with *out set (cJSON_Delete frees it), or -1 with
 * *out NULL.
 */
int
jose_header_decode(const char *jws, size_t len, enum jose_alg *alg,
    cJSON **out)
{
	const char *dot;
	char *hdr;
	size_t hlen, hdrlen = 0;
	int rc;

	*out = NULL;
	if (jws == NULL || len == 0 || len > JOSE_JWS_MAX ||
	    (dot = memchr(jws, '.', len)) == NULL || dot == jws)
		return -1;
	hlen = (size_t)(dot - jws);
	if ((hdr = malloc(hlen / 4 * 3 + 3)) == NULL)
		return -1;
	rc = jose_b64url_decode(jws, hlen, (unsigned char *)hdr,
	    hlen / 4 * 3 + 2, &hdrlen);
	if (rc == 0) {
		hdr[hdrlen] = '\0';
		rc = jose_header_parse(hdr, hdrlen, alg, out);
	}
	free(hdr);
	return rc;
}

/*
 * Verifies len bytes of a compact JWS (RFC 7515 §5.2, §7.1) with pkey,
 * public or private, for alg, which the caller chose: the token's own
 * "alg" must equal it.  Strict: at most JOSE_JWS_MAX bytes, checked before
 * anything is decoded; three non-empty parts; unpadded canonical
 * base64url; a header as jose_header_parse requires; a signature of the
 * exact length alg defines.  The payload is not interpreted.  On success
 * sets *header_out (when not NULL) to the decoded header, which the caller
 * frees with cJSON_Delete, appends the decoded payload to payload_out
 * (when not NULL) and returns 0.  Returns -1 on any failure, with
 * *header_out NULL and payload_out unchanged.
 */
int
jose_verify(EVP_PKEY *pkey, enum jose_alg alg, const char *jws, size_t len,
    struct cJSON **header_out, struct buf *payload_out)
{
	const char *dot1, *dot2;
	unsigned char sig[JOSE_SIG_MAX];
	char *hdr = NULL;
	unsigned char *pay = NULL;
	size_t hlen, plen, slen, hdrlen = 0, paylen = 0, siglen = 0;
	cJSON *root = NULL;
	int rc = -1;

	if (header_out != NULL)
		*header_out = NULL;
	if (jws == NULL || len == 0 || len > JOSE_JWS_MAX ||
	    jose_key_check(pkey, alg) == -1)
		return -1;
	/* RFC 7515 §7.1: header "." payload "." signature, and no more. */
	if ((dot1 = memchr(jws, '.', len)) == NULL ||
	    (dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jws))) ==
	    NULL ||
	    memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jws)) != NULL)
		return -1;
	hlen = (size_t)(dot1 - jws);
	plen = (size_t)(dot2 - dot1 - 1);
	slen = len - (size_t)(dot2 + 1 - jws);
	/*
	 * An empty payload is legal JWS but no token of ours, nor a DPoP
	 * proof or client assertion, has one: refuse it with the rest.
	 */
	if (hlen == 0 || plen == 0 || slen == 0)
		return -1;

	if (jose_b64url_decode(dot2 + 1, slen, sig, sizeof(sig), &siglen) ==
	    -1)
		goto out;
	if ((hdr = malloc(hlen / 4 * 3 + 3)) == NULL ||
	    jose_b64url_decode(jws, hlen, (unsigned char *)hdr, hlen / 4 * 3 + 2,
	    &hdrlen) == -1)
		goto out;
	hdr[hdrlen] = '\0';
	if (jose_header_parse(hdr, hdrlen, &alg, &root) == -1)
		goto out;
	if ((pay = malloc(plen / 4 * 3 + 3)) == NULL ||
	    jose_b64url_decode(dot1 + 1, plen, pay, plen / 4 * 3 + 2,
	    &paylen) == -1)
		goto out;
	/* RFC 7515 §5.2 step 8: over the encoded header "." payload. */
	if (jose_sig_check(pkey, alg, jws, (size_t)(dot2 - jws), sig,
	    siglen) == -1)
		goto out;
	if (payload_out != NULL && buf_append(payload_out, pay, paylen) == -1)
		goto out;
	if (header_out != NULL) {
		*header_out = root;
		root = NULL;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	free(hdr);
	if (pay != NULL) {
		/* A payload may carry claims the caller holds secret. */
		crypto_wipe(pay, plen / 4 * 3 + 3);
		free(pay);
	}
	return rc;
}
