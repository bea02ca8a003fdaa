/*
 * crypto_random hands out bytes each thread drew ahead (common/crypto.c):
 * never the same bytes twice, not across a fork either, and larger
 * requests drawn directly.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <unistd.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_distinct),
		cmocka_unit_test(test_random_after_fork),
		cmocka_unit_test(test_random_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
