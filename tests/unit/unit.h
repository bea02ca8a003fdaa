/*
 * What every unit test includes: cmocka in the order it needs, a pinned
 * clock, a deterministic random source, and a throw-away LMDB directory.
 */
#ifndef UNIT_H
#define UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/common.h"

#define UNIT_NOW 1700000000LL

/* A clock pinned at *(int64_t *)ctx when ctx is set, else at UNIT_NOW. */
static inline int64_t
unit_clock(void *ctx)
{
	return ctx != NULL ? *(int64_t *)ctx : UNIT_NOW;
}

/*
 * A deterministic random source: a counter run through SHA-256, so runs
 * repeat exactly while no two outputs are alike.
 */
static inline int
unit_random(void *ctx, unsigned char *out, size_t len)
{
	static uint64_t counter;
	unsigned char block[TOKEN_HASH_LEN];
	size_t n;

	(void)ctx;
	while (len > 0) {
		counter++;
		if (crypto_sha256(&counter, sizeof(counter), block) == -1)
			return -1;
		n = len < sizeof(block) ? len : sizeof(block);
		memcpy(out, block, n);
		out += n;
		len -= n;
	}
	return 0;
}

/*
 * Creates an empty directory under $TMPDIR (or /tmp) for a test database
 * and returns its path in dir (at least 64 bytes).  Fails the test on error.
 */
static inline void
unit_tempdir(char *dir, size_t size)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if ((size_t)snprintf(dir, size, "%s/oauth-unit-XXXXXX", base) >= size)
		fail_msg("TMPDIR too long");
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp failed");
}

/* Removes a directory made by unit_tempdir and the files in it. */
static inline void
unit_rmdir(const char *dir)
{
	char cmd[512];

	if ((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) <
	    sizeof(cmd))
		(void)!system(cmd);
}

#endif /* UNIT_H */
