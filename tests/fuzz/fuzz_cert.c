/*
 * Feeds arbitrary bytes to cert_thumbprint, as the PEM text a web server
 * passes in SSL_CLIENT_CERT.  What it accepts is checked against an
 * independent reading: the text between the first labels (percent-decoded
 * first when only the encoded label is there), blanks taken out, decoded
 * by OpenSSL's base64, a DER SEQUENCE, and its SHA-256.  Any difference
 * aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../../common/common.h"

#define FUZZ_CERT_MAX 65536
#define FUZZ_CERT_BEGIN "-----BEGIN CERTIFICATE-----"
#define FUZZ_CERT_END "-----END CERTIFICATE-----"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_cert_check(int ok)
{
	if (!ok)
		abort();
}

static int
fuzz_cert_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s percent-decoded ('+' itself) into out; 0, or -1 on a bad escape. */
static int
fuzz_cert_unescape(const char *s, char *out)
{
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			*out++ = *s;
			continue;
		}
		if ((hi = fuzz_cert_hex(s[1])) == -1 ||
		    (lo = fuzz_cert_hex(s[2])) == -1 || (hi == 0 && lo == 0))
			return -1;
		*out++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*out = '\0';
	return 0;
}

/*
 * The thumbprint of text as RFC 7468 reads it, into digest: 1 when there
 * is a certificate, 0 when there is none.
 */
static int
fuzz_cert_expect(const char *text, unsigned char digest[TOKEN_HASH_LEN])
{
	const char *begin = strstr(text, FUZZ_CERT_BEGIN), *end;
	unsigned char *der;
	char *b64;
	size_t n = 0, pad = 0;
	int len, ok = 0;

	if (begin == NULL)
		return 0;
	begin += strlen(FUZZ_CERT_BEGIN);
	if ((end = strstr(begin, FUZZ_CERT_END)) == NULL)
		return 0;
	if ((b64 = malloc((size_t)(end - begin) + 1)) == NULL)
		abort();
	for (; begin < end; begin++)
		if (strchr("\r\n\t ", *begin) == NULL)
			b64[n++] = *begin;
	if (n > 0 && n % 4 == 0 && (der = malloc(n / 4 * 3)) != NULL) {
		len = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)n);
		pad = (b64[n - 1] == '=') + (n > 1 && b64[n - 2] == '=');
		/* EVP_DecodeBlock counts the padding's zero bytes in. */
		if (len > 0 && (size_t)len - pad > 0 && der[0] == 0x30 &&
		    memchr(b64, '=', n - pad) == NULL) {
			EVP_Digest(der, (size_t)len - pad, digest, NULL,
			    EVP_sha256(), NULL);
			ok = 1;
		}
		free(der);
	}
	free(b64);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char got[TOKEN_HASH_LEN], want[TOKEN_HASH_LEN];
	char *text, *plain;
	int rc, expected;

	if (size > FUZZ_CERT_MAX || memchr(data, '\0', size) != NULL)
		return 0;
	if ((text = malloc(size + 1)) == NULL ||
	    (plain = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	rc = cert_thumbprint(text, got);
	fuzz_cert_check(rc == 0 || rc == -1);
	if (strstr(text, FUZZ_CERT_BEGIN) != NULL)
		expected = fuzz_cert_expect(text, want);
	else if (strstr(text, "-----BEGIN%20CERTIFICATE-----") != NULL &&
	    fuzz_cert_unescape(text, plain) == 0 &&
	    utf8_valid(plain, strlen(plain)))
		expected = fuzz_cert_expect(plain, want);
	else
		expected = 0;
	/*
	 * cert_thumbprint is the stricter of the two on the base64 (RFC 4648
	 * canonical form): what it takes, the reading takes the same way.
	 */
	if (rc == 0)
		fuzz_cert_check(expected &&
		    memcmp(got, want, sizeof(got)) == 0);
	free(text);
	free(plain);
	return 0;
}
