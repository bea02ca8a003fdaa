/*
 * Feeds arbitrary bytes to the scope helpers (RFC 6749 §3.3) and checks
 * what must hold between them: a valid scope normalizes to a valid scope
 * that is a subset of it and it of the normal form; anything invalid is
 * refused by every helper.  The input is split at its first NUL byte into
 * a requested and an allowed scope.  Any difference aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_scope_check(int ok)
{
	if (!ok)
		abort();
}

/* The properties of one scope string s against another, allowed. */
static void
fuzz_scope_one(const char *s, const char *allowed)
{
	char *norm;
	int valid = scope_valid(s);

	norm = scope_normalize(s);
	if (!valid) {
		fuzz_scope_check(norm == NULL);
		fuzz_scope_check(!scope_subset(s, allowed));
		return;
	}
	fuzz_scope_check(norm != NULL);
	fuzz_scope_check(scope_valid(norm));
	fuzz_scope_check(strlen(norm) <= strlen(s));
	fuzz_scope_check(scope_subset(norm, s) && scope_subset(s, norm));
	fuzz_scope_check(scope_subset(s, s));
	/* Normalizing twice changes nothing. */
	{
		char *again = scope_normalize(norm);

		fuzz_scope_check(again != NULL && strcmp(again, norm) == 0);
		free(again);
	}
	if (scope_valid(allowed))
		fuzz_scope_check(scope_subset(s, allowed) ==
		    scope_subset(norm, allowed));
	free(norm);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;
	const char *allowed;
	size_t first;

	if ((copy = malloc(size + 2)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	copy[size + 1] = '\0';
	first = strlen(copy);
	allowed = first < size ? copy + first + 1 : "";
	fuzz_scope_one(copy, allowed);
	fuzz_scope_one(allowed, copy);
	free(copy);
	return 0;
}
