/*
 * Base64 in the two shapes we need: unpadded base64url (RFC 4648 §5) for
 * the tokens and secrets we mint, and strict padded base64 (RFC 4648 §4)
 * for the credentials of HTTP Basic (RFC 7617 §2).  OpenSSL does the bit
 * shuffling; the checks OpenSSL does not make (alphabet, padding, leftover
 * bits) are made here first.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "common.h"

/*
 * EVP_EncodeBlock and EVP_DecodeBlock take an int length: feed them chunks
 * that are whole groups (3 bytes in, 4 characters out) and far below
 * INT_MAX.
 */
#define B64_ENCODE_CHUNK (3 * 4096)
#define B64_DECODE_CHUNK (4 * 4096)

static int b64_value(unsigned char);

/*
 * Returns the 6-bit value of a character of the standard alphabet (RFC 4648
 * §4, table 1), or -1 for anything else, '=' and whitespace included.
 */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
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
	unsigned char tail[5];	/* one group of 4 and EVP's NUL */
	size_t full, rem, need, n, i, o;

	full = len / 3;
	rem = len % 3;
	if (full > (SIZE_MAX - 4) / 4)
		return 0;
	need = full * 4 + (rem != 0 ? rem + 1 : 0);
	if (out == NULL || outsize == 0 || need > outsize - 1)
		return 0;

	/*
	 * Whole groups go straight into out: EVP_EncodeBlock writes 4
	 * characters per 3 bytes plus a NUL, which fits while need + 1 does.
	 */
	for (i = 0, o = 0; i < full * 3; i += n, o += n / 3 * 4) {
		n = full * 3 - i;
		if (n > B64_ENCODE_CHUNK)
			n = B64_ENCODE_CHUNK;
		(void)EVP_EncodeBlock((unsigned char *)out + o, in + i, (int)n);
	}
	/* The last 1 or 2 bytes would come out padded: encode aside. */
	if (rem != 0) {
		(void)EVP_EncodeBlock(tail, in + full * 3, (int)rem);
		memcpy(out + o, tail, rem + 1);
	}
	out[need] = '\0';

	for (i = 0; i < need; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
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
	unsigned char last[3];
	size_t pad, need, n, i, o;
	int v;

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
	/*
	 * EVP_DecodeBlock skips whitespace and stops at '=' anywhere, so the
	 * alphabet is checked here; a third '=' fails this check.
	 */
	for (i = 0; i < len - pad; i++)
		if (b64_value((unsigned char)in[i]) == -1)
			return -1;
	/*
	 * RFC 4648 §3.5: the bits of the last character that do not fit in
	 * a byte must be zero, or one byte string has several encodings.
	 */
	if (pad > 0) {
		v = b64_value((unsigned char)in[len - pad - 1]);
		if ((pad == 1 && (v & 0x03) != 0) ||
		    (pad == 2 && (v & 0x0f) != 0))
			return -1;
	}

	need = len / 4 * 3 - pad;
	if (need > outsize)
		return -1;

	/*
	 * EVP_DecodeBlock returns 3 bytes for every group, padding included:
	 * decode all but the last group into out, and the last one aside.
	 */
	for (i = 0, o = 0; i < len - 4; i += n, o += n / 4 * 3) {
		n = len - 4 - i;
		if (n > B64_DECODE_CHUNK)
			n = B64_DECODE_CHUNK;
		if (EVP_DecodeBlock(out + o, (const unsigned char *)in + i,
		    (int)n) != (int)(n / 4 * 3))
			return -1;
	}
	if (EVP_DecodeBlock(last, (const unsigned char *)in + len - 4, 4) != 3)
		return -1;
	memcpy(out + o, last, 3 - pad);
	crypto_wipe(last, sizeof(last));

	if (outlen != NULL)
		*outlen = need;
	return 0;
}
