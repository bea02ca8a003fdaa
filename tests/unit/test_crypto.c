/*
 * crypto_random hands out bytes each thread drew ahead (common/crypto.c):
 * never the same bytes twice, not across a fork either, and larger
 * requests drawn directly.  The digests of common/crypto.c (nettle) give
 * what OpenSSL's give, byte for byte, so that every secret stored before
 * still verifies; and its constant-time comparison compares.  The
 * process id that tells a forked child (common/process_id.c) follows forks.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "unit.h"

#define DRAWS 2000
#define DRAW_LEN 32

/* Many small draws: no two alike, none all zero. */
static void
test_random_distinct(void **state)
{
	static unsigned char got[DRAWS][DRAW_LEN];
	static const unsigned char zero[DRAW_LEN];
	size_t i, j;

	(void)state;
	for (i = 0; i < DRAWS; i++) {
		assert_int_equal(crypto_random(got[i], DRAW_LEN), 0);
		assert_memory_not_equal(got[i], zero, DRAW_LEN);
	}
	for (i = 0; i < DRAWS; i++)
		for (j = i + 1; j < DRAWS; j++)
			assert_memory_not_equal(got[i], got[j], DRAW_LEN);
}

/*
 * A child forked after the parent drew draws bytes of its own: the
 * parent's next bytes and the child's first differ.
 */
static void
test_random_after_fork(void **state)
{
	unsigned char warm[8], mine[DRAW_LEN], theirs[DRAW_LEN];
	int fds[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(crypto_random(warm, sizeof(warm)), 0);
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		if (crypto_random(mine, sizeof(mine)) != 0 ||
		    write(fds[1], mine, sizeof(mine)) != (ssize_t)sizeof(mine))
			_exit(1);
		_exit(0);
	}
	assert_true(pid > 0);
	close(fds[1]);
	assert_int_equal(crypto_random(mine, sizeof(mine)), 0);
	assert_int_equal(read(fds[0], theirs, sizeof(theirs)),
	    (ssize_t)sizeof(theirs));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_memory_not_equal(mine, theirs, sizeof(mine));
}

/*
 * process_id, which the random pool and the stores ask, follows forks: a
 * child and its own child each get their id, not the one cached before.
 */
static void
test_process_id_after_fork(void **state)
{
	pid_t parent, pid;
	int status;

	(void)state;
	parent = process_id();
	assert_int_equal(parent, getpid());
	assert_int_equal(process_id(), parent);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		pid_t child = process_id(), grandchild;
		int st;

		if (child != getpid() || child == parent)
			_exit(1);
		if ((grandchild = fork()) == 0)
			_exit(process_id() == getpid() && process_id() != child ?
			    0 : 1);
		if (grandchild < 0 || waitpid(grandchild, &st, 0) != grandchild ||
		    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			_exit(2);
		_exit(process_id() == child ? 0 : 3);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(process_id(), parent);
}

/* A request larger than the store ahead, and one of every small size. */
static void
test_random_sizes(void **state)
{
	static unsigned char big[4096];
	static const unsigned char zero[sizeof(big)];
	unsigned char small[64];
	size_t n;

	(void)state;
	assert_int_equal(crypto_random(big, sizeof(big)), 0);
	assert_memory_not_equal(big, zero, sizeof(big));
	for (n = 0; n <= sizeof(small); n++)
		assert_int_equal(crypto_random(small, n), 0);
}

/* SHA-256 of every length 0..300, and of FIPS 180-2's "abc". */
static void
test_sha256_as_openssl(void **state)
{
	static const unsigned char abc[TOKEN_HASH_LEN] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41,
		0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3,
		0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
		0x15, 0xad,
	};
	unsigned char data[300], ours[TOKEN_HASH_LEN], theirs[EVP_MAX_MD_SIZE];
	unsigned int len;
	size_t n;

	(void)state;
	assert_int_equal(crypto_sha256("abc", 3, ours), 0);
	assert_memory_equal(ours, abc, sizeof(abc));
	assert_int_equal(crypto_random(data, sizeof(data)), 0);
	for (n = 0; n <= sizeof(data); n++) {
		assert_int_equal(crypto_sha256(data, n, ours), 0);
		assert_int_equal(EVP_Digest(data, n, theirs, &len,
		    EVP_sha256(), NULL), 1);
		assert_int_equal(len, TOKEN_HASH_LEN);
		assert_memory_equal(ours, theirs, TOKEN_HASH_LEN);
	}
}

/*
 * Both stored forms of a client secret: SHA-256(salt || secret) for a
 * generated one, PBKDF2-HMAC-SHA256 for an operator's, against OpenSSL's
 * for secrets of several lengths and iteration counts.
 */
static void
test_secret_derive_as_openssl(void **state)
{
	static const uint32_t iterations[] = {0, 1, 2, 1000};
	unsigned char salt[SECRET_SALT_LEN], ours[SECRET_HASH_LEN];
	unsigned char theirs[SECRET_HASH_LEN], both[SECRET_SALT_LEN + 100];
	char secret[100];
	unsigned int len;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(iterations) / sizeof(iterations[0]); i++)
		for (n = 0; n < sizeof(secret); n += 33) {
			assert_int_equal(crypto_random(salt, sizeof(salt)), 0);
			memset(secret, 'a' + (int)(n % 26), n);
			assert_int_equal(crypto_secret_derive(salt, secret, n,
			    iterations[i], ours), 0);
			if (iterations[i] == 0) {
				memcpy(both, salt, sizeof(salt));
				memcpy(both + sizeof(salt), secret, n);
				assert_int_equal(EVP_Digest(both,
				    sizeof(salt) + n, theirs, &len,
				    EVP_sha256(), NULL), 1);
			} else
				assert_int_equal(PKCS5_PBKDF2_HMAC(secret,
				    (int)n, salt, sizeof(salt),
				    (int)iterations[i], EVP_sha256(),
				    sizeof(theirs), theirs), 1);
			assert_memory_equal(ours, theirs, sizeof(ours));
		}
}

/* crypto_equal: 1 for equal bytes, 0 for one bit apart anywhere. */
static void
test_equal(void **state)
{
	unsigned char a[64], b[64];
	size_t i;

	(void)state;
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	memcpy(b, a, sizeof(a));
	assert_int_equal(crypto_equal(a, b, sizeof(a)), 1);
	assert_int_equal(crypto_equal(a, b, 0), 1);
	for (i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		assert_int_equal(crypto_equal(a, b, sizeof(a)), 0);
		b[i] ^= 0x80;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_distinct),
		cmocka_unit_test(test_random_after_fork),
		cmocka_unit_test(test_process_id_after_fork),
		cmocka_unit_test(test_random_sizes),
		cmocka_unit_test(test_sha256_as_openssl),
		cmocka_unit_test(test_secret_derive_as_openssl),
		cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
