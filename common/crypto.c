/*
 * Randomness, hashing and comparison, all through OpenSSL 3.  crypto_init
 * fetches the digest once per process so requests do not pay for the
 * provider lookup.
 */
#include <sys/random.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

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

/*
 * crypto_init, for a process that needs no system-wide OpenSSL
 * configuration when load_config is 0: reading and applying openssl.cnf
 * is about 15% of what a CGI introspection costs, and it configures nothing
 * that digests, signatures and the random generator need.  Must come
 * before any other OpenSSL call of the process.  Returns what crypto_init
 * returns.
 */
int
crypto_init_config(int load_config)
{
	if (!load_config &&
	    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
		return -1;
	return crypto_init();
}

/*
 * Whether OpenSSL's first draw can seed from getrandom(2), which opens no
 * file (a kernel without it makes OpenSSL read /dev/urandom).  A process
 * that is about to lose the right to open files must then draw once
 * first; otherwise it may leave the seeding, and its cost, to a draw it
 * may never make.
 */
int
crypto_seeds_without_files(void)
{
	unsigned char none[1];

	return getrandom(none, 0, GRND_NONBLOCK) == 0 || errno != ENOSYS;
}

/* Draws len bytes from OpenSSL's CSPRNG.  Returns 0, or -1. */
static int
crypto_random_draw(unsigned char *out, size_t len)
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
 * Each thread's store of random bytes drawn ahead: one draw of OpenSSL's
 * generator costs what hashing three blocks does whatever its length (a
 * cipher set up, parameters looked up), and a token request makes two or
 * three small ones.  A byte is handed out once and wiped as it is; the
 * store is dropped in a process other than the one that filled it, so
 * that a fork never hands both sides the same bytes.
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
	pid = getpid();
	if (p->pid != pid || p->left < len) {
		OPENSSL_cleanse(p->bytes, sizeof(p->bytes));
		p->left = 0;
		if (crypto_random_draw(p->bytes, sizeof(p->bytes)) == -1)
			return -1;
		p->left = sizeof(p->bytes);
		p->pid = pid;
	}
	p->left -= len;
	memcpy(out, p->bytes + p->left, len);
	OPENSSL_cleanse(p->bytes + p->left, len);
	return 0;
}

/*
 * Each thread's digest context, made at its first digest and freed when
 * the thread ends: a context made and freed for every digest cost as much
 * as hashing a block.
 */
static pthread_once_t crypto_ctx_once = PTHREAD_ONCE_INIT;
static pthread_key_t crypto_ctx_key;
static int crypto_ctx_keyed;

static void
crypto_ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void
crypto_ctx_key_make(void)
{
	crypto_ctx_keyed = pthread_key_create(&crypto_ctx_key,
	    crypto_ctx_free) == 0;
}

/* The calling thread's digest context, or NULL when it cannot have one. */
static EVP_MD_CTX *
crypto_thread_ctx(void)
{
	EVP_MD_CTX *ctx;

	if (pthread_once(&crypto_ctx_once, crypto_ctx_key_make) != 0 ||
	    !crypto_ctx_keyed)
		return NULL;
	if ((ctx = pthread_getspecific(crypto_ctx_key)) != NULL)
		return ctx;
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    pthread_setspecific(crypto_ctx_key, ctx) != 0) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/*
 * SHA-256 of two pieces concatenated, into out.  Returns 0, or -1 when the
 * digest fails (out is then unspecified).
 */
static int
crypto_sha256_two(const void *a, size_t alen, const void *b, size_t blen,
    unsigned char out[TOKEN_HASH_LEN])
{
	EVP_MD_CTX *ctx, *own = NULL;
	unsigned int outlen = 0;
	int ok;

	if (crypto_init() == -1)
		return -1;
	if ((ctx = crypto_thread_ctx()) == NULL &&
	    (ctx = own = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, crypto_sha256_md, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    EVP_DigestUpdate(ctx, b, blen) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, &outlen) == 1 &&
	    outlen == TOKEN_HASH_LEN;
	EVP_MD_CTX_free(own);
	return ok ? 0 : -1;
}

/* SHA-256 of data into out: the storage key of a token.  Returns 0, or -1. */
int
crypto_sha256(const void *data, size_t len, unsigned char out[TOKEN_HASH_LEN])
{
	return crypto_sha256_two(data, len, "", 0, out);
}

/*
 * SHA-256(salt || secret): the stored form of a generated client secret,
 * and the keyed digest of secret_cache.c.  Returns 0, or -1.
 */
int
crypto_secret_hash(const unsigned char salt[SECRET_SALT_LEN],
    const char *secret, size_t len, unsigned char out[SECRET_HASH_LEN])
{
	return crypto_sha256_two(salt, SECRET_SALT_LEN, secret, len, out);
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
 * once per client: secret_cache.c remembers a secret it has verified.
 * Returns 0, or -1.
 */
int
crypto_secret_derive(const unsigned char salt[SECRET_SALT_LEN],
    const char *secret, size_t len, uint32_t iterations,
    unsigned char out[SECRET_HASH_LEN])
{
	if (iterations == 0)
		return crypto_secret_hash(salt, secret, len, out);
	if (crypto_init() == -1 || len > INT_MAX || iterations > INT_MAX)
		return -1;
	return PKCS5_PBKDF2_HMAC(secret, (int)len, salt, SECRET_SALT_LEN,
	    (int)iterations, crypto_sha256_md, SECRET_HASH_LEN, out) == 1 ? 0
									 : -1;
}

/* Compares len bytes in time independent of their contents: 1 if equal. */
int
crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
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
