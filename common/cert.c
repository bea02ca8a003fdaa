/*
 * A client's X.509 certificate as PEM text (RFC 7468 §5), named by the
 * SHA-256 of its DER: what RFC 8705 calls x5t#S256, which binds tokens to
 * it and registers a self-signed one.  Nothing is parsed past the
 * outer SEQUENCE: the web server verified what needs verifying.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define CERT_PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define CERT_PEM_END "-----END CERTIFICATE-----"
#define CERT_PEM_BEGIN_ESCAPED "-----BEGIN%20CERTIFICATE-----"

/*
 * The SHA-256 of the DER of the first certificate of the PEM text cert
 * (RFC 7468 §5; percent-encoded, as nginx's $ssl_client_escaped_cert is,
 * when its label is so: text before it is allowed either way), into out:
 * RFC 8705 §3.1's x5t#S256.  Returns 0, or -1 when there is no
 * well-formed certificate.
 */
int
cert_thumbprint(const char *cert, unsigned char out[TOKEN_HASH_LEN])
{
	const char *begin, *end;
	char *decoded = NULL, *b64 = NULL;
	unsigned char *der = NULL;
	size_t len = strlen(cert), n = 0, derlen = 0;
	int rc = -1;

	/*
	 * Decoded only when encoded: a '+' of the base64 is itself, never
	 * the space a form would make of it.
	 */
	if (strstr(cert, CERT_PEM_BEGIN) == NULL &&
	    strstr(cert, CERT_PEM_BEGIN_ESCAPED) != NULL) {
		if (urlenc_percent_decode(cert, len, &decoded, &len) == -1)
			return -1;
		cert = decoded;
	}
	/* The end label after the whole begin label, not inside it. */
	if ((begin = strstr(cert, CERT_PEM_BEGIN)) == NULL ||
	    (end = strstr(begin + strlen(CERT_PEM_BEGIN), CERT_PEM_END)) ==
	    NULL)
		goto out;
	begin += strlen(CERT_PEM_BEGIN);
	/* The base64 lines, without the line ends and blanks between. */
	if ((b64 = malloc((size_t)(end - begin) + 1)) == NULL)
		goto out;
	for (; begin < end; begin++)
		if (*begin != '\n' && *begin != '\r' && *begin != ' ' &&
		    *begin != '\t')
			b64[n++] = *begin;
	if (n == 0 || n % 4 != 0 || (der = malloc(n / 4 * 3)) == NULL ||
	    b64_decode(b64, n, der, n / 4 * 3, &derlen) == -1 || derlen == 0)
		goto out;
	/* A DER certificate is a SEQUENCE (X.690 §8.9). */
	if (der[0] != 0x30)
		goto out;
	(void)crypto_sha256(der, derlen, out);
	rc = 0;
out:
	free(decoded);
	free(b64);
	free(der);
	return rc;
}

