/*
 * Randomness, hashing and comparison, all through OpenSSL 3.  crypto_init
 * fetches the digest once per process so requests do not pay for the
 * provider lookup.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common.h"

static EVP_MD *crypto_sha256_md;

/*
 * Fetches the SHA-256 implementation once.  Returns 0, or -1 when OpenSSL
 * has none; the other functions call it themselves when needed.
 */
int
crypto_init(void)
{
	if (crypto_sha256_md != NULL)
		return 0;
	crypto_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	return crypto_sha256_md != NULL ? 0 : -1;
}

/* Fills out with len bytes from the CSPRNG.  Returns 0, or -1. */
int
crypto_random(unsigned char *out, size_t len)
{
	while (len > 0) {
		int n = len > 1024 * 1024 ? 1024 * 1024 : (int)len;

		if (RAND_bytes(out, n) != 1)
			return -1;
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * SHA-256 of two pieces concatenated, into out.  Returns 0, or -1 when the
 * digest fails (out is then unspecified).
 */
static int
crypto_sha256_two(const void *a, size_t alen, const void *b, size_t blen,
    unsigned char out[TOKEN_HASH_LEN])
{
	EVP_MD_CTX *ctx;
	unsigned int outlen = 0;
	int ok;

	if (crypto_init() == -1 || (ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, crypto_sha256_md, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    EVP_DigestUpdate(ctx, b, blen) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, &outlen) == 1 &&
	    outlen == TOKEN_HASH_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* SHA-256 of data into out: the storage key of a token.  Returns 0, or -1. */
int
crypto_sha256(const void *data, size_t len, unsigned char out[TOKEN_HASH_LEN])
{
	return crypto_sha256_two(data, len, "", 0, out);
}

/*
 * The stored form of a client secret: SHA-256(salt || secret).
 *
 * A fast hash is deliberate.  Client authentication runs on every token,
 * introspection and revocation request; a slow KDF (PBKDF2, scrypt, Argon2)
 * would cost milliseconds each time and cap a server at about a hundred
 * requests a second.  A KDF protects guessable passwords, and client secrets
 * are not that: generated ones carry 256 random bits, and oauthctl refuses an
 * operator's --secret shorter than CLIENT_SECRET_SUPPLIED_MIN bytes, so a
 * leaked database cannot be searched for them.  The salt keeps equal secrets
 * from having equal hashes.  Returns 0, or -1.
 */
int
crypto_secret_hash(const unsigned char salt[SECRET_SALT_LEN],
    const char *secret, size_t len, unsigned char out[SECRET_HASH_LEN])
{
	return crypto_sha256_two(salt, SECRET_SALT_LEN, secret, len, out);
}

/* Compares len bytes in time independent of their contents: 1 if equal. */
int
crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

/* Overwrites len bytes in a way the compiler may not elide. */
void
crypto_wipe(void *p, size_t len)
{
	if (p != NULL)
		OPENSSL_cleanse(p, len);
}

/* Writes 2 * len lowercase hex digits and a NUL to out. */
void
crypto_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}
