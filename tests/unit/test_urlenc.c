/*
 * urlenc.c: form-urlencoded decoding, percent-encoding, UTF-8 validation.
 */
#include <errno.h>

#include "unit.h"

struct dec_case {
	int line;
	const char *in;
	size_t inlen;		/* 0: strlen(in) */
	const char *out;	/* NULL: must fail */
	size_t outlen;		/* 0: strlen(out) */
};

static const struct dec_case dec_cases[] = {
	{__LINE__, "", 0, "", 0},
	{__LINE__, "abc", 0, "abc", 0},
	{__LINE__, "a+b", 0, "a b", 0},
	{__LINE__, "+", 0, " ", 0},
	{__LINE__, "++", 0, "  ", 0},
	{__LINE__, "%2B", 0, "+", 0},
	{__LINE__, "%2b", 0, "+", 0},
	{__LINE__, "%20", 0, " ", 0},
	{__LINE__, "%41%42", 0, "AB", 0},
	{__LINE__, "%4a%4A", 0, "JJ", 0},
	{__LINE__, "100%25", 0, "100%", 0},
	{__LINE__, "%2525", 0, "%25", 0},
	{__LINE__, "a%3Db=c", 0, "a=b=c", 0},
	{__LINE__, "a&b", 0, "a&b", 0},
	{__LINE__, "%7F", 0, "\x7f", 0},
	{__LINE__, "%01", 0, "\x01", 0},
	{__LINE__, "%C3%A9", 0, "\xc3\xa9", 0},
	{__LINE__, "\xc3\xa9", 0, "\xc3\xa9", 0},
	{__LINE__, "%C2%80", 0, "\xc2\x80", 0},
	{__LINE__, "%DF%BF", 0, "\xdf\xbf", 0},
	{__LINE__, "%E0%A0%80", 0, "\xe0\xa0\x80", 0},
	{__LINE__, "%E2%82%AC", 0, "\xe2\x82\xac", 0},
	{__LINE__, "%ED%9F%BF", 0, "\xed\x9f\xbf", 0},	/* U+D7FF */
	{__LINE__, "%EE%80%80", 0, "\xee\x80\x80", 0},	/* U+E000 */
	{__LINE__, "%EF%BF%BF", 0, "\xef\xbf\xbf", 0},	/* U+FFFF */
	{__LINE__, "%F0%90%80%80", 0, "\xf0\x90\x80\x80", 0},
	{__LINE__, "%F0%9F%98%80", 0, "\xf0\x9f\x98\x80", 0},
	{__LINE__, "%F4%8F%BF%BF", 0, "\xf4\x8f\xbf\xbf", 0}, /* U+10FFFF */
	{__LINE__, "a%C3%A9+%E2%82%AC", 0, "a\xc3\xa9 \xe2\x82\xac", 0},
	/* Only the first len bytes count. */
	{__LINE__, "ab%zz", 2, "ab", 0},

	/* '%' needs two hex digits. */
	{__LINE__, "%", 0, NULL, 0},
	{__LINE__, "a%", 0, NULL, 0},
	{__LINE__, "%4", 0, NULL, 0},
	{__LINE__, "a%4", 0, NULL, 0},
	{__LINE__, "%0", 0, NULL, 0},
	{__LINE__, "%zz", 0, NULL, 0},
	{__LINE__, "%g0", 0, NULL, 0},
	{__LINE__, "%0g", 0, NULL, 0},
	{__LINE__, "% 41", 0, NULL, 0},
	{__LINE__, "%+41", 0, NULL, 0},
	{__LINE__, "%-1", 0, NULL, 0},
	{__LINE__, "%%41", 0, NULL, 0},
	{__LINE__, "%41%", 0, NULL, 0},
	{__LINE__, "%2", 1, NULL, 0},	/* the digits lie past len */
	{__LINE__, "%41", 2, NULL, 0},
	{__LINE__, "a%41", 3, NULL, 0},
	/* NUL, encoded or raw. */
	{__LINE__, "%00", 0, NULL, 0},
	{__LINE__, "a%00b", 0, NULL, 0},
	{__LINE__, "a\0b", 3, NULL, 0},
	{__LINE__, "\0", 1, NULL, 0},
	/* Invalid UTF-8, encoded or raw. */
	{__LINE__, "%80", 0, NULL, 0},
	{__LINE__, "%BF", 0, NULL, 0},
	{__LINE__, "%C3", 0, NULL, 0},
	{__LINE__, "\xc3", 0, NULL, 0},
	{__LINE__, "%C3%28", 0, NULL, 0},
	{__LINE__, "%C3%C3%A9", 0, NULL, 0},
	{__LINE__, "%C0%80", 0, NULL, 0},		/* overlong NUL */
	{__LINE__, "%C0%AF", 0, NULL, 0},		/* overlong '/' */
	{__LINE__, "%C1%BF", 0, NULL, 0},
	{__LINE__, "%E0%80%AF", 0, NULL, 0},
	{__LINE__, "%E0%9F%BF", 0, NULL, 0},
	{__LINE__, "%E2%82", 0, NULL, 0},
	{__LINE__, "%E2%28%A1", 0, NULL, 0},
	{__LINE__, "%E2%82%28", 0, NULL, 0},
	{__LINE__, "%ED%A0%80", 0, NULL, 0},		/* U+D800 */
	{__LINE__, "%ED%BF%BF", 0, NULL, 0},		/* U+DFFF */
	{__LINE__, "%ED%A0%BD%ED%B8%80", 0, NULL, 0},	/* CESU-8 pair */
	{__LINE__, "%F0%80%80%80", 0, NULL, 0},
	{__LINE__, "%F0%8F%BF%BF", 0, NULL, 0},
	{__LINE__, "%F0%9F%98", 0, NULL, 0},
	{__LINE__, "%F0%9F%98%28", 0, NULL, 0},
	{__LINE__, "%F4%90%80%80", 0, NULL, 0},	/* U+110000 */
	{__LINE__, "%F5%80%80%80", 0, NULL, 0},
	{__LINE__, "%F8%88%80%80%80", 0, NULL, 0},
	{__LINE__, "%FC%84%80%80%80%80", 0, NULL, 0},
	{__LINE__, "%FE", 0, NULL, 0},
	{__LINE__, "%FF", 0, NULL, 0},
	{__LINE__, "abc%FF", 0, NULL, 0},
};

static void
test_decode_table(void **state)
{
	char sentinel[] = "untouched", *out;
	size_t i, inlen, outlen, want;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(dec_cases) / sizeof(dec_cases[0]); i++) {
		const struct dec_case *c = &dec_cases[i];

		inlen = c->inlen != 0 ? c->inlen : strlen(c->in);
		out = sentinel;
		outlen = 777;
		errno = 0;
		rc = urlenc_decode(c->in, inlen, &out, &outlen);
		if (c->out == NULL) {
			if (rc != -1)
				fail_msg("line %d: accepted", c->line);
			if (errno != EINVAL)
				fail_msg("line %d: errno %d", c->line, errno);
			if (out != sentinel || outlen != 777)
				fail_msg("line %d: outputs touched", c->line);
			continue;
		}
		want = c->outlen != 0 ? c->outlen : strlen(c->out);
		if (rc != 0)
			fail_msg("line %d: refused", c->line);
		if (outlen != want || memcmp(out, c->out, want) != 0 ||
		    out[want] != '\0')
			fail_msg("line %d: got \"%s\" (%zu)", c->line, out,
			    outlen);
		free(out);
	}
}

static void
test_decode_no_outlen(void **state)
{
	char *out = NULL;

	(void)state;
	assert_int_equal(urlenc_decode("a+%41", 5, &out, NULL), 0);
	assert_string_equal(out, "a A");
	free(out);
}

struct utf8_case {
	int line;
	const char *s;
	size_t len;		/* 0: strlen(s) */
	int valid;
};

/* The edges of RFC 3629 §4, byte by byte. */
static const struct utf8_case utf8_cases[] = {
	{__LINE__, "", 0, 1},
	{__LINE__, "plain ascii ~", 0, 1},
	{__LINE__, "a\0b", 3, 1},
	{__LINE__, "\x7f", 0, 1},
	{__LINE__, "\x80", 0, 0},
	{__LINE__, "\xc1\xbf", 0, 0},
	{__LINE__, "\xc2\x80", 0, 1},
	{__LINE__, "\xc2\x7f", 0, 0},
	{__LINE__, "\xc2\xc0", 0, 0},
	{__LINE__, "\xdf\xbf", 0, 1},
	{__LINE__, "\xe0\x9f\xbf", 0, 0},
	{__LINE__, "\xe0\xa0\x80", 0, 1},
	{__LINE__, "\xe1\x80\x80", 0, 1},
	{__LINE__, "\xec\xbf\xbf", 0, 1},
	{__LINE__, "\xed\x80\x80", 0, 1},
	{__LINE__, "\xed\x9f\xbf", 0, 1},
	{__LINE__, "\xed\xa0\x80", 0, 0},
	{__LINE__, "\xee\x80\x80", 0, 1},
	{__LINE__, "\xef\xbf\xbf", 0, 1},
	{__LINE__, "\xef\xbf\x7f", 0, 0},
	{__LINE__, "\xef\xbf", 0, 0},
	{__LINE__, "\xf0\x8f\xbf\xbf", 0, 0},
	{__LINE__, "\xf0\x90\x80\x80", 0, 1},
	{__LINE__, "\xf3\xbf\xbf\xbf", 0, 1},
	{__LINE__, "\xf4\x8f\xbf\xbf", 0, 1},
	{__LINE__, "\xf4\x90\x80\x80", 0, 0},
	{__LINE__, "\xf4\x8f\xbf\xc0", 0, 0},
	{__LINE__, "\xf4\x8f\xbf", 0, 0},
	{__LINE__, "\xf5\x80\x80\x80", 0, 0},
	{__LINE__, "\xff", 0, 0},
	/* A sequence cut by len, though more bytes follow in memory. */
	{__LINE__, "\xc3\xa9", 1, 0},
	{__LINE__, "\xe2\x82\xac", 2, 0},
};

static void
test_utf8_table(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		const struct utf8_case *c = &utf8_cases[i];

		len = c->len != 0 ? c->len : strlen(c->s);
		if (utf8_valid(c->s, len) != c->valid)
			fail_msg("line %d: want %d", c->line, c->valid);
	}
}

struct enc_case {
	int line;
	const char *in;
	size_t inlen;		/* 0: strlen(in) */
	const char *out;
};

static const struct enc_case enc_cases[] = {
	{__LINE__, "", 0, ""},
	{__LINE__, "abcXYZ019-._~", 0, "abcXYZ019-._~"},
	{__LINE__, " ", 0, "%20"},
	{__LINE__, "a+b", 0, "a%2Bb"},
	{__LINE__, "/?#&=%", 0, "%2F%3F%23%26%3D%25"},
	{__LINE__, ":@!$'()*,;", 0, "%3A%40%21%24%27%28%29%2A%2C%3B"},
	{__LINE__, "\"<>\\^`{|}", 0, "%22%3C%3E%5C%5E%60%7B%7C%7D"},
	{__LINE__, "\xc3\xa9", 0, "%C3%A9"},
	{__LINE__, "\0", 1, "%00"},
	{__LINE__, "\n\r\x7f\xff", 0, "%0A%0D%7F%FF"},
	{__LINE__, "https://c.example/cb?x=1", 0,
	    "https%3A%2F%2Fc.example%2Fcb%3Fx%3D1"},
};

static void
test_encode_table(void **state)
{
	struct buf b;
	size_t i, inlen;

	(void)state;
	for (i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
		const struct enc_case *c = &enc_cases[i];

		memset(&b, 0, sizeof(b));
		inlen = c->inlen != 0 ? c->inlen : strlen(c->in);
		if (urlenc_encode(&b, c->in, inlen) != 0)
			fail_msg("line %d: failed", c->line);
		if (b.len != strlen(c->out) ||
		    (b.len > 0 && strcmp(b.data, c->out) != 0))
			fail_msg("line %d: got \"%s\"", c->line,
			    b.data != NULL ? b.data : "");
		buf_free(&b);
	}
}

/* Appends after what the buffer holds, across the internal chunks. */
static void
test_encode_append_long(void **state)
{
	struct buf b;
	char in[1000], *out;
	size_t i;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(buf_puts(&b, "state="), 0);
	for (i = 0; i < sizeof(in); i++)
		in[i] = i % 3 == 0 ? 'a' : '/';
	assert_int_equal(urlenc_encode(&b, in, sizeof(in)), 0);
	assert_memory_equal(b.data, "state=", 6);
	assert_int_equal(b.len, 6 + 334 + 666 * 3);
	assert_int_equal(strlen(b.data), b.len);

	/* What was encoded decodes back to the input. */
	assert_int_equal(urlenc_decode(b.data + 6, b.len - 6, &out, &i), 0);
	assert_int_equal(i, sizeof(in));
	assert_memory_equal(out, in, sizeof(in));
	free(out);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_no_outlen),
		cmocka_unit_test(test_utf8_table),
		cmocka_unit_test(test_encode_table),
		cmocka_unit_test(test_encode_append_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
