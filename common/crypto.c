/*
 * Randomness, hashing and comparison for every request: the kernel's
 * generator (getrandom(2)) and nettle's SHA-256 and PBKDF2.  Nothing here
 * needs set-up, and none of it links OpenSSL, which only signing needs
 * (jose.c): a CGI process that signs nothing never maps libcrypto, whose
 * loading alone cost more than a whole CGI hello-world.
 */
#include <sys/random.h>

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/pbkdf2.h>
#include <nettle/sha2.h>

#include "common.h"

/*
 * Whether getrandom(2) is there (Linux 3.17 and later), without drawing:
 * random bytes come from nowhere else.
 */
int
crypto_random_available(void)
{
	unsigned char none[1];

	return getrandom(none, 0, GRND_NONBLOCK) == 0 || errno != ENOSYS;
}

/* Draws len bytes from the kernel's CSPRNG.  Returns 0, or -1. */
static int
crypto_random_draw(unsigned char *out, size_t len)
{
	ssize_t n;

	while (len > 0) {
		/* Blocks only until the kernel's pool is first seeded. */
		if ((n = getrandom(out, len, 0)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Each thread's store of random bytes drawn ahead: a token request makes
 * two or three small draws, and one system call for all of them is
 * cheaper.  A byte is handed out once and wiped as it is; the store is
 * dropped in a process other than the one that filled it, so that a fork
 * never hands both sides the same bytes.
 */
#define CRYPTO_POOL_SIZE 512
#define CRYPTO_POOL_MAX 64	/* larger requests draw directly */

static _Thread_local struct crypto_pool {
	unsigned char bytes[CRYPTO_POOL_SIZE];
	size_t left;		/* unused bytes, at the end of bytes */
	pid_t pid;		/* the process that filled it */
} crypto_pool;

/* Fills out with len bytes from the CSPRNG.  Returns 0, or -1. */
int
crypto_random(unsigned char *out, size_t len)
{
	struct crypto_pool *p = &crypto_pool;
	pid_t pid;

	if (len > CRYPTO_POOL_MAX)
		return crypto_random_draw(out, len);
	pid = process_id();
	if (p->pid != pid || p->left < len) {
		crypto_wipe(p->bytes, sizeof(p->bytes));
		p->left = 0;
		if (crypto_random_draw(p->bytes, sizeof(p->bytes)) == -1)
			return -1;
		p->left = sizeof(p->bytes);
		p->pid = pid;
	}
	p->left -= len;
	memcpy(out, p->bytes + p->left, len);
	crypto_wipe(p->bytes + p->left, len);
	return 0;
}

/* SHA-256 of two pieces concatenated, into out. */
static void
crypto_sha256_two(const void *a, size_t alen, const void *b, size_t blen,
    unsigned char out[TOKEN_HASH_LEN])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, alen, a);
	sha256_update(&ctx, blen, b);
	sha256_digest(&ctx, TOKEN_HASH_LEN, out);
	crypto_wipe(&ctx, sizeof(ctx));
}

/* SHA-256 of data into out: the storage key of a token.  Returns 0. */
int
crypto_sha256(const void *data, size_t len, unsigned char out[TOKEN_HASH_LEN])
{
	crypto_sha256_two(data, len, "", 0, out);
	return 0;
}

/*
 * HMAC-SHA256 (RFC 2104) of len bytes of msg under the keylen bytes of
 * key, into out: what makes a stateless DPoP nonce (dpop.c).
 */
void
crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
    size_t len, unsigned char out[TOKEN_HASH_LEN])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_set_key(&ctx, keylen, key);
	hmac_sha256_update(&ctx, len, msg);
	hmac_sha256_digest(&ctx, TOKEN_HASH_LEN, out);
	crypto_wipe(&ctx, sizeof(ctx));
}

/*
 * SHA-256(salt || secret): the stored form of a generated client secret.
 * Returns 0.
 */
int
crypto_secret_hash(const unsigned char salt[SECRET_SALT_LEN],
    const char *secret, size_t len, unsigned char out[SECRET_HASH_LEN])
{
	crypto_sha256_two(salt, SECRET_SALT_LEN, secret, len, out);
	return 0;
}

/*
 * The stored form of a client secret, by where the secret came from.
 *
 * Client authentication runs on every token, introspection and revocation
 * request, so it must cost microseconds: a password KDF on every request
 * caps a server near a hundred requests a second.  A KDF protects
 * guessable secrets, though, and only an operator's --secret can be one.
 * So a generated secret (256 random bits, iterations 0) is stored as
 * SHA-256(salt || secret): no stolen database can be searched for it.  An
 * operator's secret is stored as PBKDF2-HMAC-SHA256 with iterations rounds
 * (SECRET_KDF_ITERATIONS when written), and a FastCGI process pays for that
 * once per client: secret_cache.c remembers a secret it has verified (any
 * secret, so a generated one's hash too is paid once per client).
 * Returns 0, or -1 for an iteration count above INT_MAX (none is written).
 */
int
crypto_secret_derive(const unsigned char salt[SECRET_SALT_LEN],
    const char *secret, size_t len, uint32_t iterations,
    unsigned char out[SECRET_HASH_LEN])
{
	if (iterations == 0)
		return crypto_secret_hash(salt, secret, len, out);
	if (iterations > INT_MAX)
		return -1;
	pbkdf2_hmac_sha256(len, (const uint8_t *)secret, iterations,
	    SECRET_SALT_LEN, salt, SECRET_HASH_LEN, out);
	return 0;
}

/* Compares len bytes in time independent of their contents: 1 if equal. */
int
crypto_equal(const void *a, const void *b, size_t len)
{
	return memeql_sec(a, b, len);
}

/*
 * Overwrites len bytes in a way the compiler may not elide: glibc's
 * explicit_bzero is its memset behind a barrier, several times faster
 * than OPENSSL_cleanse on the few hundred bytes a request wipes.
 */
void
crypto_wipe(void *p, size_t len)
{
	if (p != NULL)
		explicit_bzero(p, len);
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
