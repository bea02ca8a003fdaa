/*
 * scope.c: RFC 6749 §3.3 scope strings as sets.
 */
#include "unit.h"

struct valid_case {
	int line;
	const char *s;
	int valid;
};

static const struct valid_case valid_cases[] = {
	{__LINE__, "", 1},
	{__LINE__, "read", 1},
	{__LINE__, "read write", 1},
	{__LINE__, "a b c d", 1},
	{__LINE__, "read read", 1},
	{__LINE__, "urn:example:x https://api.example/read", 1},
	{__LINE__, "!#$%&'()*+,-./:;<=>?@[]^_`{|}~", 1},
	{__LINE__, "A-Z_0.9", 1},
	/* Spaces: exactly one, between tokens. */
	{__LINE__, " ", 0},
	{__LINE__, " read", 0},
	{__LINE__, "read ", 0},
	{__LINE__, "read  write", 0},
	{__LINE__, "read\twrite", 0},
	{__LINE__, "read\nwrite", 0},
	/* Characters outside scope-token. */
	{__LINE__, "\"read\"", 0},
	{__LINE__, "re\\ad", 0},
	{__LINE__, "read\x7f", 0},
	{__LINE__, "read\x01", 0},
	{__LINE__, "r\xc3\xa9" "ad", 0},
	{__LINE__, "\x80", 0},
};

static void
test_valid_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		const struct valid_case *c = &valid_cases[i];

		if (scope_valid(c->s) != c->valid)
			fail_msg("line %d: want %d", c->line, c->valid);
	}
	assert_int_equal(scope_valid(NULL), 0);
}

/* SCOPE_MAX bytes pass, one more does not. */
static void
test_valid_max(void **state)
{
	char s[SCOPE_MAX + 2];

	(void)state;
	memset(s, 'a', SCOPE_MAX);
	s[SCOPE_MAX] = '\0';
	assert_int_equal(scope_valid(s), 1);
	s[SCOPE_MAX] = 'a';
	s[SCOPE_MAX + 1] = '\0';
	assert_int_equal(scope_valid(s), 0);
	/* scope_subset and scope_normalize refuse what scope_valid does. */
	assert_int_equal(scope_subset(s, s), 0);
	assert_null(scope_normalize(s));
}

struct has_case {
	int line;
	const char *set;
	const char *token;
	size_t toklen;		/* 0: strlen(token) */
	int has;
};

static const struct has_case has_cases[] = {
	{__LINE__, "read write", "read", 0, 1},
	{__LINE__, "read write", "write", 0, 1},
	{__LINE__, "read", "read", 0, 1},
	{__LINE__, "read write", "rea", 0, 0},
	{__LINE__, "read write", "reads", 0, 0},
	{__LINE__, "read write", "ead", 0, 0},
	{__LINE__, "read write", "Read", 0, 0},
	{__LINE__, "read write", "read write", 0, 0},
	{__LINE__, "readwrite", "read", 0, 0},
	{__LINE__, "", "read", 0, 0},
	{__LINE__, "read", "", 0, 0},
	{__LINE__, "", "", 0, 0},
	/* Only toklen bytes of the token count. */
	{__LINE__, "read write", "readX", 4, 1},
	{__LINE__, "read write", "writeable", 5, 1},
	{__LINE__, "read write", "wri", 3, 0},
	{__LINE__, "readwrite", "readwrite", 4, 0},
};

static void
test_has_table(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(has_cases) / sizeof(has_cases[0]); i++) {
		const struct has_case *c = &has_cases[i];

		len = c->toklen != 0 ? c->toklen : strlen(c->token);
		if (scope_has(c->set, c->token, len) != c->has)
			fail_msg("line %d: want %d", c->line, c->has);
	}
	assert_int_equal(scope_has(NULL, "read", 4), 0);
}

struct subset_case {
	int line;
	const char *requested;
	const char *allowed;
	int subset;
};

static const struct subset_case subset_cases[] = {
	{__LINE__, "", "", 1},
	{__LINE__, "", "read", 1},
	{__LINE__, "read", "read write", 1},
	{__LINE__, "write read", "read write", 1},
	{__LINE__, "read read", "read", 1},
	{__LINE__, "read write", "read write", 1},
	{__LINE__, "read", "", 0},
	{__LINE__, "read admin", "read write", 0},
	{__LINE__, "rea", "read", 0},
	{__LINE__, "read", "read:all", 0},
	{__LINE__, "READ", "read", 0},
	/* A malformed request is never a subset. */
	{__LINE__, " read", "read", 0},
	{__LINE__, "read ", "read", 0},
	{__LINE__, "read  read", "read", 0},
	{__LINE__, "re\"ad", "re\"ad", 0},
};

static void
test_subset_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(subset_cases) / sizeof(subset_cases[0]); i++) {
		const struct subset_case *c = &subset_cases[i];

		if (scope_subset(c->requested, c->allowed) != c->subset)
			fail_msg("line %d: want %d", c->line, c->subset);
	}
	assert_int_equal(scope_subset(NULL, "read"), 0);
	assert_int_equal(scope_subset("read", NULL), 0);
	assert_int_equal(scope_subset("", NULL), 1);
}

struct norm_case {
	int line;
	const char *in;
	const char *out;	/* NULL: refused */
};

static const struct norm_case norm_cases[] = {
	{__LINE__, "", ""},
	{__LINE__, "read", "read"},
	{__LINE__, "read write", "read write"},
	{__LINE__, "write read", "write read"},
	{__LINE__, "read read", "read"},
	{__LINE__, "b a b", "b a"},
	{__LINE__, "a b a c b a", "a b c"},
	{__LINE__, "a aa a aa", "a aa"},
	{__LINE__, "aa a", "aa a"},
	{__LINE__, " read", NULL},
	{__LINE__, "read ", NULL},
	{__LINE__, "a  b", NULL},
	{__LINE__, "a\\b", NULL},
};

static void
test_normalize_table(void **state)
{
	char *out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		const struct norm_case *c = &norm_cases[i];

		out = scope_normalize(c->in);
		if (c->out == NULL) {
			if (out != NULL)
				fail_msg("line %d: accepted", c->line);
			continue;
		}
		if (out == NULL || strcmp(out, c->out) != 0)
			fail_msg("line %d: got \"%s\"", c->line,
			    out != NULL ? out : "(null)");
		assert_int_equal(scope_valid(out), 1);
		free(out);
	}
	assert_null(scope_normalize(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_table),
		cmocka_unit_test(test_valid_max),
		cmocka_unit_test(test_has_table),
		cmocka_unit_test(test_subset_table),
		cmocka_unit_test(test_normalize_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
