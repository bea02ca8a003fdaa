/*
 * b64.c: base64url encoding of what we mint, strict base64 decoding of
 * what HTTP Basic hands us.
 */
#include <openssl/evp.h>

#include "unit.h"

struct enc_case {
	int line;
	const char *in;
	size_t inlen;
	const char *out;
};

/* RFC 4648 §10 test vectors, then bytes that need the URL alphabet. */
static const struct enc_case enc_cases[] = {
	{__LINE__, "", 0, ""},
	{__LINE__, "f", 1, "Zg"},
	{__LINE__, "fo", 2, "Zm8"},
	{__LINE__, "foo", 3, "Zm9v"},
	{__LINE__, "foob", 4, "Zm9vYg"},
	{__LINE__, "fooba", 5, "Zm9vYmE"},
	{__LINE__, "foobar", 6, "Zm9vYmFy"},
	{__LINE__, "\xfb\xff", 2, "-_8"},
	{__LINE__, "\xfb\xef\xbe", 3, "----"},
	{__LINE__, "\xff\xff\xff", 3, "____"},
	{__LINE__, "\0\0", 2, "AAA"},
};

static void
test_encode_table(void **state)
{
	char out[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
		const struct enc_case *c = &enc_cases[i];

		memset(out, 'X', sizeof(out));
		n = b64url_encode((const unsigned char *)c->in, c->inlen, out,
		    sizeof(out));
		if (n != strlen(c->out) || strcmp(out, c->out) != 0)
			fail_msg("line %d: got %zu \"%s\", want \"%s\"", c->line,
			    n, out, c->out);
	}
}

/* The result and its NUL must fit exactly; one byte less writes nothing. */
static void
test_encode_outsize(void **state)
{
	char out[8];

	(void)state;
	memset(out, 'X', sizeof(out));
	assert_int_equal(b64url_encode((const unsigned char *)"foob", 4, out,
	    7), 6);
	assert_string_equal(out, "Zm9vYg");

	memset(out, 'X', sizeof(out));
	assert_int_equal(b64url_encode((const unsigned char *)"foob", 4, out,
	    6), 0);
	assert_memory_equal(out, "XXXXXXXX", 8);

	/* A padded encoding would need 9 bytes here: the tail goes aside. */
	memset(out, 'X', sizeof(out));
	assert_int_equal(b64url_encode((const unsigned char *)"fooba", 5, out,
	    8), 7);
	assert_string_equal(out, "Zm9vYmE");

	assert_int_equal(b64url_encode((const unsigned char *)"f", 1, out, 0),
	    0);
	assert_int_equal(b64url_encode((const unsigned char *)"f", 1, NULL, 8),
	    0);
	assert_int_equal(b64url_encode((const unsigned char *)"", 0, out, 1),
	    0);
	assert_string_equal(out, "");
}

/* A token: TOKEN_RANDOM_LEN bytes make TOKEN_STRING_LEN characters. */
static void
test_encode_token(void **state)
{
	unsigned char raw[TOKEN_RANDOM_LEN];
	char out[TOKEN_STRING_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 37 + 11);
	assert_int_equal(b64url_encode(raw, sizeof(raw), out, sizeof(out)),
	    TOKEN_STRING_LEN);
	assert_int_equal(strlen(out), TOKEN_STRING_LEN);
	assert_int_equal(strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_"), TOKEN_STRING_LEN);
	/* One byte short of the NUL. */
	assert_int_equal(b64url_encode(raw, sizeof(raw), out, sizeof(out) - 1),
	    0);
}

struct dec_case {
	int line;
	const char *in;
	size_t inlen;		/* 0: strlen(in) */
	int ok;
	const char *out;
	size_t outlen;
};

static const struct dec_case dec_cases[] = {
	/* RFC 4648 §10 */
	{__LINE__, "", 0, 1, "", 0},
	{__LINE__, "Zg==", 0, 1, "f", 1},
	{__LINE__, "Zm8=", 0, 1, "fo", 2},
	{__LINE__, "Zm9v", 0, 1, "foo", 3},
	{__LINE__, "Zm9vYg==", 0, 1, "foob", 4},
	{__LINE__, "Zm9vYmE=", 0, 1, "fooba", 5},
	{__LINE__, "Zm9vYmFy", 0, 1, "foobar", 6},
	/* RFC 7617 §2 */
	{__LINE__, "QWxhZGRpbjpvcGVuIHNlc2FtZQ==", 0, 1, "Aladdin:open sesame",
	    19},
	{__LINE__, "+/8=", 0, 1, "\xfb\xff", 2},
	{__LINE__, "AAAA", 0, 1, "\0\0\0", 3},
	{__LINE__, "AA==", 0, 1, "\0", 1},
	/* Padding is required and must be right. */
	{__LINE__, "Zg", 0, 0, NULL, 0},
	{__LINE__, "Zm8", 0, 0, NULL, 0},
	{__LINE__, "Zg=", 0, 0, NULL, 0},
	{__LINE__, "Zg===", 0, 0, NULL, 0},
	{__LINE__, "Z===", 0, 0, NULL, 0},
	{__LINE__, "====", 0, 0, NULL, 0},
	{__LINE__, "Zm9v====", 0, 0, NULL, 0},
	{__LINE__, "Zm=v", 0, 0, NULL, 0},
	{__LINE__, "=Zm9", 0, 0, NULL, 0},
	{__LINE__, "Zg==Zg==", 0, 0, NULL, 0},
	{__LINE__, "Zm9vYmFy=", 0, 0, NULL, 0},
	/* Bits after the last byte must be zero (RFC 4648 §3.5). */
	{__LINE__, "Zh==", 0, 0, NULL, 0},
	{__LINE__, "Zm9=", 0, 0, NULL, 0},
	{__LINE__, "Zm8=", 0, 1, "fo", 2},
	/* Whitespace, which OpenSSL alone would skip. */
	{__LINE__, " Zm9v", 0, 0, NULL, 0},
	{__LINE__, "Zm9 ", 0, 0, NULL, 0},
	{__LINE__, "Zm9v\n", 0, 0, NULL, 0},
	{__LINE__, "Zm9v\nZm9v", 0, 0, NULL, 0},
	{__LINE__, "Zm\t9", 0, 0, NULL, 0},
	/* Outside the standard alphabet. */
	{__LINE__, "Zm9-", 0, 0, NULL, 0},
	{__LINE__, "Zm9_", 0, 0, NULL, 0},
	{__LINE__, "Zm9.", 0, 0, NULL, 0},
	{__LINE__, "Zm9v\0AAA", 8, 0, NULL, 0},
	{__LINE__, "\xc3\xa9" "AA", 0, 0, NULL, 0},
	{__LINE__, "Zm9\x80", 0, 0, NULL, 0},
};

static void
test_decode_table(void **state)
{
	unsigned char out[64];
	size_t i, inlen, outlen;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(dec_cases) / sizeof(dec_cases[0]); i++) {
		const struct dec_case *c = &dec_cases[i];

		inlen = c->inlen != 0 ? c->inlen : strlen(c->in);
		memset(out, 0xa5, sizeof(out));
		outlen = 12345;
		rc = b64_decode(c->in, inlen, out, sizeof(out), &outlen);
		if (!c->ok) {
			if (rc != -1)
				fail_msg("line %d: accepted", c->line);
			if (outlen != 12345 || out[0] != 0xa5)
				fail_msg("line %d: wrote on failure", c->line);
			continue;
		}
		if (rc != 0)
			fail_msg("line %d: refused", c->line);
		if (outlen != c->outlen || memcmp(out, c->out, outlen) != 0)
			fail_msg("line %d: wrong bytes (%zu)", c->line, outlen);
		/* Nothing written past the decoded length. */
		if (out[outlen] != 0xa5)
			fail_msg("line %d: wrote past the end", c->line);
	}
}

static void
test_decode_outsize(void **state)
{
	unsigned char out[8];
	size_t outlen = 99;

	(void)state;
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(b64_decode("Zm9vYmFy", 8, out, 5, &outlen), -1);
	assert_int_equal(outlen, 99);
	assert_int_equal(out[0], 0xa5);
	assert_int_equal(b64_decode("Zm9vYmFy", 8, out, 6, &outlen), 0);
	assert_int_equal(outlen, 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(out[6], 0xa5);

	/* Padded: room for the real bytes is enough. */
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(b64_decode("Zg==", 4, out, 1, &outlen), 0);
	assert_int_equal(outlen, 1);
	assert_int_equal(out[0], 'f');
	assert_int_equal(out[1], 0xa5);
	assert_int_equal(b64_decode("Zg==", 4, out, 0, &outlen), -1);

	/* outlen is optional. */
	assert_int_equal(b64_decode("Zm8=", 4, out, sizeof(out), NULL), 0);
	assert_memory_equal(out, "fo", 2);
}

/*
 * Long inputs cross the chunks handed to OpenSSL: encode, turn base64url
 * into padded base64, decode, compare.
 */
static void
test_roundtrip_long(void **state)
{
	size_t lens[] = {0, 1, 2, 3, 12287, 12288, 12289, 16384, 50000};
	unsigned char *raw, *back;
	char *enc;
	size_t i, k, len, n, elen, outlen;

	(void)state;
	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		len = lens[k];
		raw = malloc(len + 1);
		back = malloc(len + 1);
		enc = malloc(len / 3 * 4 + 8);
		assert_non_null(raw);
		assert_non_null(back);
		assert_non_null(enc);
		for (i = 0; i < len; i++)
			raw[i] = (unsigned char)(i * 131 + i / 251);
		n = b64url_encode(raw, len, enc, len / 3 * 4 + 8);
		assert_int_equal(n, len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0));
		for (i = 0; i < n; i++)
			enc[i] = enc[i] == '-' ? '+' : enc[i] == '_' ? '/' :
			    enc[i];
		elen = n;
		while (elen % 4 != 0)
			enc[elen++] = '=';
		assert_int_equal(b64_decode(enc, elen, back, len, &outlen), 0);
		assert_int_equal(outlen, len);
		if (len > 0)
			assert_memory_equal(raw, back, len);
		free(raw);
		free(back);
		free(enc);
	}
}

/*
 * Strict base64 is the canonical encoding: b64_decode accepts a string
 * exactly when OpenSSL decodes it and encodes the bytes back to the same
 * string, and then gives the same bytes.  Random strings of the alphabet,
 * '=' and a few others, of every length up to 24, drawn with a fixed seed.
 */
static void
test_decode_is_canonical(void **state)
{
	static const char chars[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	    "==== \n-_*";
	char in[25], back[40];
	unsigned char ours[24], theirs[24];
	unsigned long seed = 12345;
	size_t len, outlen, i, pad = 0;
	int n, rounds, accepted = 0, canonical;

	(void)state;
	for (rounds = 0; rounds < 200000; rounds++) {
		len = (size_t)rounds % 25;
		for (i = 0; i < len; i++) {
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			/* Mostly the alphabet, so that some strings are valid. */
			in[i] = chars[(seed >> 33) % ((seed >> 20) % 8 == 0 ?
			    sizeof(chars) - 1 : 64)];
		}
		/* And a valid-looking tail of padding now and then. */
		if (len >= 4 && (seed >> 40) % 3 == 0)
			in[len - 1] = '=';
		if (len >= 4 && (seed >> 42) % 5 == 0)
			in[len - 2] = '=';
		in[len] = '\0';
		canonical = 0;
		if (len % 4 == 0 && len > 0 && strspn(in, chars) == len &&
		    (n = EVP_DecodeBlock(theirs, (const unsigned char *)in,
		    (int)len)) >= 0) {
			pad = in[len - 1] == '=' ? in[len - 2] == '=' ? 2 : 1 : 0;
			(void)EVP_EncodeBlock((unsigned char *)back, theirs,
			    n - (int)pad);
			canonical = strcmp(back, in) == 0;
		}
		if (len == 0)
			canonical = 1;
		assert_int_equal(b64_decode(in, len, ours, sizeof(ours),
		    &outlen) == 0, canonical);
		if (canonical && len > 0) {
			accepted++;
			assert_int_equal(outlen, len / 4 * 3 - pad);
			assert_memory_equal(ours, theirs, outlen);
		}
	}
	/* The draw is meant to hit both sides. */
	assert_true(accepted > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_table),
		cmocka_unit_test(test_encode_outsize),
		cmocka_unit_test(test_encode_token),
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_outsize),
		cmocka_unit_test(test_roundtrip_long),
		cmocka_unit_test(test_decode_is_canonical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
