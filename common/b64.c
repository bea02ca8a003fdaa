/*
 * Base64 in the two shapes we need: unpadded base64url (RFC 4648 §5) for
 * the tokens and secrets we mint, and strict padded base64 (RFC 4648 §4)
 * for the credentials of HTTP Basic (RFC 7617 §2).  nettle encodes;
 * decoding is checked strictly here (alphabet, padding, leftover bits)
 * and done with the table the check uses.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <nettle/base64.h>

#include "common.h"

static int b64_value(unsigned char);

/*
 * 1 + the 6-bit value of each character of the standard alphabet (RFC
 * 4648 §4, table 1); 0 for anything else, '=' and whitespace included.
 */
static const unsigned char b64_values[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17,
	['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
	['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27,
	['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
	['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,
	['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47,
	['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52,
	['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
	['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62,
	['+'] = 63, ['/'] = 64,
};

/* The 6-bit value of c, or -1 when c is not of the alphabet. */
static int
b64_value(unsigned char c)
{
	return (int)b64_values[c] - 1;
}

/*
 * Encodes len bytes of in as base64url without padding (RFC 4648 §5, §3.2)
 * into out, which receives the characters and a NUL.  Returns the number of
 * characters written, not counting the NUL.  Returns 0 and leaves out
 * untouched when outsize cannot hold the whole result and its NUL; an empty
 * input also returns 0, with out set to "" when outsize allows.
 */
size_t
b64url_encode(const unsigned char *in, size_t len, char *out, size_t outsize)
{
	struct base64_encode_ctx ctx;
	char tail[BASE64_ENCODE_LENGTH(2) + BASE64_ENCODE_FINAL_LENGTH];
	size_t full, rem, need, n;

	full = len / 3;
	rem = len % 3;
	if (full > (SIZE_MAX - 4) / 4)
		return 0;
	need = full * 4 + (rem != 0 ? rem + 1 : 0);
	if (out == NULL || outsize == 0 || need > outsize - 1)
		return 0;

	/* Whole groups go straight into out, 4 characters per 3 bytes. */
	base64url_encode_init(&ctx);
	(void)base64_encode_update(&ctx, out, full * 3, in);
	/* The last 1 or 2 bytes would come out padded: encode aside. */
	if (rem != 0) {
		n = base64_encode_update(&ctx, tail, rem, in + full * 3);
		(void)base64_encode_final(&ctx, tail + n);
		memcpy(out + full * 4, tail, rem + 1);
	}
	out[need] = '\0';
	return need;
}

/*
 * Decodes len characters of strict base64 (RFC 4648 §4): the standard
 * alphabet only, no whitespace, length a multiple of 4, at most two '='
 * and only at the end, and the bits left over before the padding zero
 * (the canonical encoding of §3.5).  On success writes the bytes to out
 * (not NUL-terminated), their count to *outlen (if outlen is not NULL) and
 * returns 0.  Returns -1, with nothing written to out or *outlen, on
 * malformed input and when outsize is smaller than the decoded length.
 */
int
b64_decode(const char *in, size_t len, unsigned char *out, size_t outsize,
    size_t *outlen)
{
	uint32_t group = 0;
	size_t pad, need, i, k, o;
	int v, valid;

	/* RFC 4648 §4: the final group is always padded out to 4. */
	if (len % 4 != 0)
		return -1;
	if (len == 0) {
		if (outlen != NULL)
			*outlen = 0;
		return 0;
	}

	pad = 0;
	if (in[len - 1] == '=') {
		pad++;
		if (in[len - 2] == '=')
			pad++;
	}
	need = len / 4 * 3 - pad;
	if (need > outsize)
		return -1;
	/*
	 * The alphabet is checked before anything is written (a third '='
	 * fails it: b64_values has 0 for it, as for anything not of the
	 * alphabet); RFC 4648 §3.5: the bits of the last character that do
	 * not fit in a byte must be zero, or one byte string has several
	 * encodings.
	 */
	for (i = 0, valid = 1; i < len - pad; i++)
		valid &= b64_values[(unsigned char)in[i]] != 0;
	if (!valid)
		return -1;
	if (pad > 0) {
		v = b64_value((unsigned char)in[len - pad - 1]);
		if ((pad == 1 && (v & 0x03) != 0) ||
		    (pad == 2 && (v & 0x0f) != 0))
			return -1;
	}
	/* 24 bits a group; the padding's characters count as zero. */
	for (i = 0, o = 0; i + 4 <= len - pad; i += 4, o += 3) {
		group = (uint32_t)(b64_values[(unsigned char)in[i]] - 1) << 18 |
		    (uint32_t)(b64_values[(unsigned char)in[i + 1]] - 1) << 12 |
		    (uint32_t)(b64_values[(unsigned char)in[i + 2]] - 1) << 6 |
		    (uint32_t)(b64_values[(unsigned char)in[i + 3]] - 1);
		out[o] = (unsigned char)(group >> 16);
		out[o + 1] = (unsigned char)(group >> 8);
		out[o + 2] = (unsigned char)group;
	}
	if (pad > 0) {
		for (group = 0, k = 0; k < 4; k++)
			group = group << 6 | (in[i + k] == '=' ? 0 :
			    (uint32_t)b64_value((unsigned char)in[i + k]));
		out[o++] = (unsigned char)(group >> 16);
		if (o < need)
			out[o] = (unsigned char)(group >> 8);
	}
	crypto_wipe(&group, sizeof(group));

	if (outlen != NULL)
		*outlen = need;
	return 0;
}
