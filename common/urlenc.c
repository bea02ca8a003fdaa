/*
 * Percent-encoding: decoding application/x-www-form-urlencoded bodies and
 * query strings (the WHATWG URL standard's "urlencoded parser", made strict),
 * encoding redirect query components (RFC 3986 §2), and the UTF-8 check
 * both of them rely on (RFC 3629).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


#include "common.h"

/* Characters encoded per buf_append. */
#define URLENC_CHUNK 256

static int urlenc_hex(unsigned char);
static int urlenc_unreserved(unsigned char);

/* Returns the value of a hexadecimal digit, either case, or -1. */
static int
urlenc_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3986 §2.3: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" */
static int
urlenc_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/*
 * Decodes len bytes of one form-urlencoded name or value (urlenc_decode:
 * '+' is a space, as plus_is_space says) or of a percent-encoded string:
 * '%' must be followed by two hexadecimal digits, every other byte stands
 * for itself.  The result must be valid UTF-8 and hold no NUL byte, since
 * every consumer treats it as a C string.  On success stores a malloc'd,
 * NUL-terminated copy in *out (the caller frees it), its length in *outlen
 * when outlen is not NULL, and returns 0.  Returns -1 with errno EINVAL on
 * malformed input and ENOMEM when memory runs out; *out and *outlen are
 * untouched then.
 */
static int
urlenc_decode_as(const char *in, size_t len, int plus_is_space, char **out,
    size_t *outlen)
{
	char *d;
	size_t i, n;
	int hi, lo;

	if (len == SIZE_MAX || (d = malloc(len + 1)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	/*
	 * Most values have nothing to decode: copied whole, scanned by
	 * memchr rather than byte by byte.
	 */
	if (memchr(in, '%', len) == NULL &&
	    (!plus_is_space || memchr(in, '+', len) == NULL)) {
		if (memchr(in, '\0', len) != NULL)
			goto bad;
		memcpy(d, in, len);
		i = n = len;
	} else
		i = n = 0;
	for (; i < len; i++) {
		if (in[i] == '+' && plus_is_space)
			d[n++] = ' ';
		else if (in[i] != '%')
			d[n++] = in[i];
		else {
			if (len - i < 3 ||
			    (hi = urlenc_hex((unsigned char)in[i + 1])) == -1 ||
			    (lo = urlenc_hex((unsigned char)in[i + 2])) == -1)
				goto bad;
			d[n++] = (char)(hi << 4 | lo);
			i += 2;
		}
		/* Raw or encoded, a NUL would cut the value short later. */
		if (d[n - 1] == '\0')
			goto bad;
	}
	d[n] = '\0';
	if (!utf8_valid(d, n))
		goto bad;

	*out = d;
	if (outlen != NULL)
		*outlen = n;
	return 0;

bad:
	/* The bytes may be a client secret. */
	crypto_wipe(d, len + 1);
	free(d);
	errno = EINVAL;
	return -1;
}

int
urlenc_decode(const char *in, size_t len, char **out, size_t *outlen)
{
	return urlenc_decode_as(in, len, 1, out, outlen);
}

/*
 * urlenc_decode for a percent-encoded string that is no form value (RFC
 * 3986 §2.1): '+' stands for itself, as in the base64 of a PEM text.
 */
int
urlenc_percent_decode(const char *in, size_t len, char **out, size_t *outlen)
{
	return urlenc_decode_as(in, len, 0, out, outlen);
}

/*
 * Appends len bytes of s to b, percent-encoding every byte that is not
 * unreserved (RFC 3986 §2.3) with upper-case hexadecimal digits (§2.1), so
 * that the result is safe as a query component of a redirect URI.  Returns
 * 0, or -1 when memory runs out, with the contents of b as they were.
 */
int
urlenc_encode(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char chunk[URLENC_CHUNK];
	size_t i, n, old = b->len;
	unsigned char c;

	for (i = 0, n = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (urlenc_unreserved(c))
			chunk[n++] = (char)c;
		else {
			chunk[n++] = '%';
			chunk[n++] = hex[c >> 4];
			chunk[n++] = hex[c & 0x0f];
		}
		if (n > sizeof(chunk) - 3 || i + 1 == len) {
			if (buf_append(b, chunk, n) == -1)
				goto fail;
			n = 0;
		}
	}
	return 0;

fail:
	if (b->data != NULL) {
		b->len = old;
		b->data[old] = '\0';
	}
	return -1;
}

/*
 * Returns 1 when the len bytes of s are well-formed UTF-8 (RFC 3629 §4),
 * else 0: no stray continuation bytes, no truncated sequences, no overlong
 * forms (C0, C1, E0 80-9F, F0 80-8F), no UTF-16 surrogates (ED A0-BF) and
 * nothing above U+10FFFF (F4 90-BF, F5-FF).  NUL is valid UTF-8; callers
 * that cannot hold it check for it themselves.
 */
int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, k;
	unsigned char lo, hi;
	uint64_t word;

	while (i < len) {
		/* ASCII, the common case, eight bytes at a time. */
		if (len - i >= sizeof(word)) {
			memcpy(&word, p + i, sizeof(word));
			if ((word & UINT64_C(0x8080808080808080)) == 0) {
				i += sizeof(word);
				continue;
			}
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		/* Length of the sequence and the range of its second byte. */
		lo = 0x80;
		hi = 0xbf;
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 2;
		else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 3;
			if (p[i] == 0xe0)
				lo = 0xa0;
			else if (p[i] == 0xed)
				hi = 0x9f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 4;
			if (p[i] == 0xf0)
				lo = 0x90;
			else if (p[i] == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		if (len - i < n)
			return 0;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (k = 2; k < n; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return 0;
		i += n;
	}
	return 1;
}
