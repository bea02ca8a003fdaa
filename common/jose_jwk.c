/*
 * Public keys that come from outside as JWKs (RFC 7517, RFC 7518 §6, RFC
 * 8037 §2), and the JWS they verify: a DPoP proof (RFC 9449 §4.2) is
 * signed by the key in its "jwk" header, whose thumbprint is what a token
 * is then bound to; a client's assertion (RFC 7523) by one of the keys it
 * registered, a JWK Set.  Everything here is hostile input: a JWK is
 * imported only when it is exactly a public key of the kind its algorithm
 * is defined for, with canonical members, so that its RFC 7638 thumbprint,
 * recomputed from the key, is the one its holder computes.
 */
#include <pthread.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "common.h"

#define JOSE_JWK_EC_COORD 32	/* a P-256 coordinate, RFC 7518 §6.2.1.2 */
#define JOSE_JWK_OKP_X 32	/* an Ed25519 public key, RFC 8037 §2 */
#define JOSE_JWK_RSA_E_MAX 8	/* bytes of a public exponent we take */
#define JOSE_JWK_RSA_N_MAX (JOSE_RSA_BITS_MAX / 8)

/*
 * The members that make a JWK private or symmetric (RFC 7518 §6.2.2,
 * §6.3.2, §6.4.1; RFC 8037 §2): a public key has none of them.
 */
static const char *const jose_jwk_secret_members[] = {
	"d", "p", "q", "dp", "dq", "qi", "oth", "k",
};

/*
 * Decodes the string member name of jwk, strict base64url, into out (of
 * size bytes), setting *len.  Returns 0, or -1 when it is missing, not a
 * string, not canonical base64url, empty or longer than size.
 */
static int
jose_jwk_bytes(const cJSON *jwk, const char *name, unsigned char *out,
    size_t size, size_t *len)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(jwk, name);
	size_t n;

	if (!cJSON_IsString(m) || m->valuestring == NULL)
		return -1;
	n = strlen(m->valuestring);
	if (n == 0 || n > JOSE_JWS_MAX ||
	    jose_b64url_decode(m->valuestring, n, out, size, len) == -1 ||
	    *len == 0)
		return -1;
	return 0;
}

/* Whether jwk's "alg" member is absent or names alg (jose_alg_parse). */
static int
jose_jwk_alg_is(const cJSON *jwk, enum jose_alg alg)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(jwk, "alg");
	enum jose_alg named;

	if (m == NULL)
		return 1;
	return cJSON_IsString(m) &&
	    jose_alg_parse_verify(m->valuestring, &named) == 0 &&
	    named == alg;
}

/* Whether the string member name of jwk is absent or equals want. */
static int
jose_jwk_member_is(const cJSON *jwk, const char *name, const char *want,
    int required)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(jwk, name);

	if (m == NULL)
		return !required;
	return cJSON_IsString(m) && m->valuestring != NULL &&
	    strcmp(m->valuestring, want) == 0;
}

/*
 * Adds to bld the parameters of the public key jwk describes for alg,
 * checking its members: kty (and crv) those of alg, n and e without the
 * leading zero bytes RFC 7518 §6.3.1.1 forbids, coordinates and keys of
 * their exact size (§6.2.1.2, RFC 8037 §2).  bytes holds what bld points
 * into until the key is made.  Returns 0, or -1.
 */
static int
jose_jwk_params(const cJSON *jwk, enum jose_alg alg, OSSL_PARAM_BLD *bld,
    unsigned char bytes[JOSE_JWK_RSA_N_MAX + 1], BIGNUM **n_bn,
    BIGNUM **e_bn)
{
	unsigned char e[JOSE_JWK_RSA_E_MAX];
	unsigned char y[JOSE_JWK_EC_COORD];
	size_t n_len = 0, e_len = 0, x_len = 0, y_len = 0;

	switch (alg) {
	case JOSE_ALG_RS256:
		if (!jose_jwk_member_is(jwk, "kty", "RSA", 1) ||
		    jose_jwk_bytes(jwk, "n", bytes, JOSE_JWK_RSA_N_MAX,
		    &n_len) == -1 ||
		    jose_jwk_bytes(jwk, "e", e, sizeof(e), &e_len) == -1 ||
		    bytes[0] == 0 || e[0] == 0 || (e[e_len - 1] & 1) == 0)
			return -1;
		if ((*n_bn = BN_bin2bn(bytes, (int)n_len, NULL)) == NULL ||
		    (*e_bn = BN_bin2bn(e, (int)e_len, NULL)) == NULL ||
		    BN_is_one(*e_bn))
			return -1;
		return OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N,
		    *n_bn) == 1 && OSSL_PARAM_BLD_push_BN(bld,
		    OSSL_PKEY_PARAM_RSA_E, *e_bn) == 1 ? 0 : -1;
	case JOSE_ALG_ES256:
		/* The uncompressed point, 0x04 || x || y (SEC 1 §2.3.3). */
		if (!jose_jwk_member_is(jwk, "kty", "EC", 1) ||
		    !jose_jwk_member_is(jwk, "crv", "P-256", 1) ||
		    jose_jwk_bytes(jwk, "x", bytes + 1, JOSE_JWK_EC_COORD,
		    &x_len) == -1 || x_len != JOSE_JWK_EC_COORD ||
		    jose_jwk_bytes(jwk, "y", y, sizeof(y), &y_len) == -1 ||
		    y_len != JOSE_JWK_EC_COORD)
			return -1;
		bytes[0] = 0x04;
		memcpy(bytes + 1 + JOSE_JWK_EC_COORD, y, sizeof(y));
		return OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
		    OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, bytes,
		    1 + 2 * JOSE_JWK_EC_COORD) == 1 ? 0 : -1;
	case JOSE_ALG_EDDSA:
		if (!jose_jwk_member_is(jwk, "kty", "OKP", 1) ||
		    !jose_jwk_member_is(jwk, "crv", "Ed25519", 1) ||
		    jose_jwk_bytes(jwk, "x", bytes, JOSE_JWK_OKP_X,
		    &x_len) == -1 || x_len != JOSE_JWK_OKP_X)
			return -1;
		return OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, bytes, JOSE_JWK_OKP_X) == 1 ?
		    0 : -1;
	case JOSE_ALG__MAX:
		break;
	}
	return -1;
}

/*
 * Imports the public JWK jwk as a key for alg into *out (jose_key_free
 * releases it).  Refused: a JWK with any private or symmetric member, a
 * kty or crv that alg is not defined for, an "alg" member naming another
 * algorithm, a "use" other than "sig", members that are not canonical
 * base64url of their exact size, an RSA key outside JOSE_RSA_BITS_MIN to
 * JOSE_RSA_BITS_MAX bits or with an even exponent, and an EC point that is
 * not on P-256 (OpenSSL checks it on import; P-256 has cofactor 1, so a
 * point on the curve is in the group, and the order need not be checked
 * with a scalar multiplication).  Returns 0, or -1 with *out NULL.
 */
int
jose_jwk_parse(const cJSON *jwk, enum jose_alg alg, EVP_PKEY **out)
{
	static const char *const type_names[JOSE_ALG__MAX] = {
		[JOSE_ALG_RS256] = "RSA",
		[JOSE_ALG_ES256] = "EC",
		[JOSE_ALG_EDDSA] = "ED25519",
	};
	unsigned char bytes[JOSE_JWK_RSA_N_MAX + 1];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!cJSON_IsObject(jwk) || (unsigned)alg >= JOSE_ALG__MAX)
		return -1;
	for (i = 0; i < sizeof(jose_jwk_secret_members) /
	    sizeof(jose_jwk_secret_members[0]); i++)
		if (cJSON_GetObjectItemCaseSensitive(jwk,
		    jose_jwk_secret_members[i]) != NULL)
			return -1;
	if (!jose_jwk_alg_is(jwk, alg) ||
	    !jose_jwk_member_is(jwk, "use", "sig", 0))
		return -1;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    jose_jwk_params(jwk, alg, bld, bytes, &n, &e) == -1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type_names[alg],
	    NULL)) == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	if (jose_key_check(pkey, alg) == -1)
		goto out;
	*out = pkey;
	pkey = NULL;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	if (rc == -1)
		ERR_clear_error();
	return rc;
}

/*
 * The RFC 7638 thumbprint of jwk, a JWK jose_jwk_parse took for alg, from
 * its own members: SHA-256 over the required ones in lexicographic order
 * (§3.2, §3.3), base64url, into out.  What the parse demanded (canonical
 * base64url, no leading zero, exact sizes) makes it the thumbprint
 * jose_key_thumbprint would compute from the key, without asking OpenSSL
 * for coordinates, which for EC costs a field inversion.  Returns 0, or
 * -1 with out "".
 */
static int
jose_jwk_thumbprint(const cJSON *jwk, enum jose_alg alg,
    char out[JOSE_KID_LEN + 1])
{
	const char *n = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(jwk, "n"));
	const char *e = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(jwk, "e"));
	const char *x = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(jwk, "x"));
	const char *y = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(jwk, "y"));
	unsigned char digest[TOKEN_HASH_LEN];
	struct buf json = {0};
	int p = -1;

	out[0] = '\0';
	switch (alg) {
	case JOSE_ALG_RS256:
		if (n != NULL && e != NULL)
			p = buf_printf(&json, "{\"e\":\"%s\",\"kty\":\"RSA\","
			    "\"n\":\"%s\"}", e, n);
		break;
	case JOSE_ALG_ES256:
		if (x != NULL && y != NULL)
			p = buf_printf(&json, "{\"crv\":\"P-256\",\"kty\":"
			    "\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
		break;
	case JOSE_ALG_EDDSA:
		if (x != NULL)
			p = buf_printf(&json, "{\"crv\":\"Ed25519\",\"kty\":"
			    "\"OKP\",\"x\":\"%s\"}", x);
		break;
	case JOSE_ALG__MAX:
		break;
	}
	if (p == -1 || crypto_sha256(json.data, json.len, digest) == -1 ||
	    b64url_encode(digest, sizeof(digest), out, JOSE_KID_LEN + 1) !=
	    JOSE_KID_LEN)
		p = -1;
	buf_free(&json);
	if (p == -1)
		out[0] = '\0';
	return p == -1 ? -1 : 0;
}

/*
 * Verifies the compact JWS of len bytes at jws with the public key its
 * own header carries as "jwk" (RFC 9449 §4.3 steps 5 to 7): the header's
 * "alg" must be one of ours (so never "none" nor a MAC), its "jwk" a
 * public key for that algorithm (jose_jwk_parse), and the signature valid
 * by it (jose_verify, as strict as for our own tokens).  This proves only
 * that the sender holds the key it names; what the key is trusted for is
 * the caller's to decide, by *thumbprint.  On success sets *alg_out, the
 * RFC 7638 thumbprint of the key in thumbprint, *header_out (when not
 * NULL; the caller frees it with cJSON_Delete), appends the payload to
 * payload_out and returns 0.  Returns -1 on any failure, with *header_out
 * NULL and payload_out unchanged.
 */
int
jose_verify_embedded(const char *jws, size_t len, cJSON **header_out,
    struct buf *payload_out, enum jose_alg *alg_out,
    char thumbprint[JOSE_KID_LEN + 1])
{
	enum jose_alg alg = JOSE_ALG__MAX;
	const cJSON *jwk;
	cJSON *header = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = -1;

	if (header_out != NULL)
		*header_out = NULL;
	thumbprint[0] = '\0';
	if (jose_header_decode(jws, len, &alg, &header) == -1 ||
	    (jwk = cJSON_GetObjectItemCaseSensitive(header, "jwk")) == NULL ||
	    jose_jwk_parse(jwk, alg, &pkey) == -1)
		goto out;
	/* The thumbprint first: past the verification nothing may fail. */
	if (jose_jwk_thumbprint(jwk, alg, thumbprint) == -1 ||
	    jose_verify(pkey, alg, jws, len, NULL, payload_out) == -1) {
		thumbprint[0] = '\0';
		goto out;
	}
	*alg_out = alg;
	if (header_out != NULL) {
		*header_out = header;
		header = NULL;
	}
	rc = 0;
out:
	cJSON_Delete(header);
	jose_key_free(pkey);
	return rc;
}

/*
 * Parsed keys of JWK Sets, kept per process with a reference each so that
 * a key evicted while another thread verifies with it lives until that
 * thread is done: a client's registered keys cost their parse once, then
 * one signature verification per assertion.
 */
#define JOSE_JWKS_CACHE 16

static struct {
	unsigned char set[TOKEN_HASH_LEN];	/* SHA-256 of the set's text */
	size_t index;				/* of the key in "keys" */
	enum jose_alg alg;
	EVP_PKEY *pkey;
} jose_jwks_cache[JOSE_JWKS_CACHE];
static size_t jose_jwks_next;
static pthread_mutex_t jose_jwks_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The key at index of the set whose text hashes to set, imported from jwk
 * for alg: from the cache, or parsed and kept.  Returns it with a
 * reference of the caller's (jose_key_free), or NULL.
 */
static EVP_PKEY *
jose_jwks_key(const unsigned char set[TOKEN_HASH_LEN], size_t index,
    const cJSON *jwk, enum jose_alg alg)
{
	EVP_PKEY *pkey = NULL, *old = NULL;
	size_t i;

	(void)pthread_mutex_lock(&jose_jwks_lock);
	for (i = 0; i < JOSE_JWKS_CACHE; i++)
		if (jose_jwks_cache[i].pkey != NULL &&
		    jose_jwks_cache[i].index == index &&
		    jose_jwks_cache[i].alg == alg &&
		    memcmp(jose_jwks_cache[i].set, set, TOKEN_HASH_LEN) == 0) {
			pkey = jose_jwks_cache[i].pkey;
			if (EVP_PKEY_up_ref(pkey) != 1)
				pkey = NULL;
			break;
		}
	(void)pthread_mutex_unlock(&jose_jwks_lock);
	if (i < JOSE_JWKS_CACHE)
		return pkey;
	if (jose_jwk_parse(jwk, alg, &pkey) == -1)
		return NULL;
	(void)pthread_mutex_lock(&jose_jwks_lock);
	if (EVP_PKEY_up_ref(pkey) == 1) {
		i = jose_jwks_next;
		jose_jwks_next = (jose_jwks_next + 1) % JOSE_JWKS_CACHE;
		old = jose_jwks_cache[i].pkey;
		memcpy(jose_jwks_cache[i].set, set, TOKEN_HASH_LEN);
		jose_jwks_cache[i].index = index;
		jose_jwks_cache[i].alg = alg;
		jose_jwks_cache[i].pkey = pkey;
	}
	(void)pthread_mutex_unlock(&jose_jwks_lock);
	EVP_PKEY_free(old);
	return pkey;
}

/* The algorithm a JWK's kty (and crv) is for, or JOSE_ALG__MAX. */
enum jose_alg
jose_jwk_alg(const cJSON *jwk)
{
	if (jose_jwk_member_is(jwk, "kty", "RSA", 1))
		return JOSE_ALG_RS256;
	if (jose_jwk_member_is(jwk, "kty", "EC", 1) &&
	    jose_jwk_member_is(jwk, "crv", "P-256", 1))
		return JOSE_ALG_ES256;
	if (jose_jwk_member_is(jwk, "kty", "OKP", 1) &&
	    jose_jwk_member_is(jwk, "crv", "Ed25519", 1))
		return JOSE_ALG_EDDSA;
	return JOSE_ALG__MAX;
}

/*
 * Checks the JWK Set whose JSON text is set as a client's registered keys
 * (oauthctl client add --jwks, dynamic registration): 1 to
 * JOSE_JWKS_KEYS_MAX public keys, each an RSA (2048 to 4096 bits), P-256
 * or Ed25519 key that jose_jwk_parse takes (a private one is refused),
 * with distinct kids where they have kids.  Returns 0; or -1 with *why
 * saying what is wrong, and the key's number in *index (from 1; 0 when it
 * is the set).
 */
int
jose_jwks_check(const char *set, size_t *index, const char **why)
{
	const cJSON *keys, *jwk, *kid, *other;
	cJSON *root = NULL;
	EVP_PKEY *pkey;
	enum jose_alg alg;
	size_t count = 0;

	*index = 0;
	*why = NULL;
	if (json_parse_object(set, strlen(set), JOSE_HEADER_DEPTH_MAX,
	    &root) == -1) {
		*why = "is not a JSON object";
		return -1;
	}
	keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
	if (!cJSON_IsArray(keys)) {
		*why = "has no \"keys\" array";
		goto out;
	}
	cJSON_ArrayForEach(jwk, keys) {
		*index = ++count;
		if (count > JOSE_JWKS_KEYS_MAX) {
			*why = "has more than 8 keys";
			goto out;
		}
		if ((alg = jose_jwk_alg(jwk)) == JOSE_ALG__MAX ||
		    jose_jwk_parse(jwk, alg, &pkey) == -1) {
			*why = "is not a public RSA (2048 to 4096 bits), P-256 "
			    "or Ed25519 JWK";
			goto out;
		}
		jose_key_free(pkey);
		kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid");
		for (other = keys->child; kid != NULL && other != jwk;
		    other = other->next)
			if (cJSON_IsString(kid) && cJSON_IsString(
			    cJSON_GetObjectItemCaseSensitive(other, "kid")) &&
			    strcmp(kid->valuestring, cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(other, "kid"))) ==
			    0) {
				*why = "repeats a kid";
				goto out;
			}
	}
	*index = 0;
	if (count == 0)
		*why = "has no key";
out:
	cJSON_Delete(root);
	return *why == NULL ? 0 : -1;
}

/*
 * Verifies the compact JWS of len bytes at jws with one of the public keys
 * of the JWK Set whose JSON text is the setlen bytes at set (RFC 7517 §5:
 * {"keys": [...]}), as a client's registered keys verify its assertions
 * (RFC 7523 §3): the header's "alg" one of ours, and a key of the set of
 * that kind (and of that "kid", when the header names one) whose
 * signature check passes (jose_verify).  Keys are parsed once per process
 * (jose_jwks_key).  On success sets *alg_out, *header_out (when not
 * NULL; cJSON_Delete frees it), appends the payload to payload_out and
 * returns 0.  Returns -1, with *header_out NULL and payload_out unchanged,
 * when no key verifies it or anything is malformed.
 */
int
jose_verify_jwks(const char *jws, size_t len, const char *set, size_t setlen,
    cJSON **header_out, struct buf *payload_out, enum jose_alg *alg_out)
{
	unsigned char digest[TOKEN_HASH_LEN];
	enum jose_alg alg = JOSE_ALG__MAX;
	const cJSON *keys, *jwk, *kid, *their;
	cJSON *header = NULL, *root = NULL;
	EVP_PKEY *pkey;
	size_t index = 0;
	int rc = -1;

	if (header_out != NULL)
		*header_out = NULL;
	if (jose_header_decode(jws, len, &alg, &header) == -1 ||
	    json_parse_object(set, setlen, JOSE_HEADER_DEPTH_MAX, &root) == -1 ||
	    !cJSON_IsArray(keys = cJSON_GetObjectItemCaseSensitive(root,
	    "keys")) || crypto_sha256(set, setlen, digest) == -1)
		goto out;
	kid = cJSON_GetObjectItemCaseSensitive(header, "kid");
	if (kid != NULL && !cJSON_IsString(kid))
		goto out;
	cJSON_ArrayForEach(jwk, keys) {
		index++;
		if (jose_jwk_alg(jwk) != alg)
			continue;
		their = cJSON_GetObjectItemCaseSensitive(jwk, "kid");
		if (kid != NULL && (!cJSON_IsString(their) ||
		    strcmp(their->valuestring, kid->valuestring) != 0))
			continue;
		if ((pkey = jose_jwks_key(digest, index - 1, jwk, alg)) == NULL)
			continue;
		rc = jose_verify(pkey, alg, jws, len, NULL, payload_out);
		EVP_PKEY_free(pkey);
		if (rc == 0)
			break;
	}
	if (rc == 0) {
		*alg_out = alg;
		if (header_out != NULL) {
			*header_out = header;
			header = NULL;
		}
	}
out:
	cJSON_Delete(header);
	cJSON_Delete(root);
	return rc;
}
