/*
 * The JOSE parts every process needs, with no cryptography: the names of
 * the JWS algorithms (RFC 7518 §3.1, RFC 8037) and strict base64url.  The
 * rest of jose.c links OpenSSL; these stay in the core, which does not.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const char *const jose_alg_names[JOSE_ALG__MAX] = {
	[JOSE_ALG_RS256] = "RS256",
	[JOSE_ALG_ES256] = "ES256",
	[JOSE_ALG_EDDSA] = "EdDSA",
};

/*
 * Returns the name of alg as JWS spells it ("RS256", "ES256", "EdDSA"), or
 * NULL when alg is out of range.
 */
const char *
jose_alg_name(enum jose_alg alg)
{
	if ((unsigned)alg >= JOSE_ALG__MAX)
		return NULL;
	return jose_alg_names[alg];
}

/*
 * Sets *alg from its JWS name, compared exactly: algorithm names are
 * case-sensitive (RFC 7515 §4.1.1).  Returns 0, or -1 with *alg unchanged
 * for any other name, "none" and the HMAC algorithms included.
 */
int
jose_alg_parse(const char *name, enum jose_alg *alg)
{
	unsigned i;

	if (name == NULL)
		return -1;
	for (i = 0; i < JOSE_ALG__MAX; i++)
		if (strcmp(name, jose_alg_names[i]) == 0) {
			*alg = (enum jose_alg)i;
			return 0;
		}
	return -1;
}

/*
 * jose_alg_parse of what a JWS from outside may name: also "Ed25519", the
 * fully-specified name of EdDSA over Ed25519 (RFC 9864 §2.2), which is
 * JOSE_ALG_EDDSA, the one curve our EdDSA means.  Only verification takes
 * it; what we sign, and configure, is named as jose_alg_name says.
 */
int
jose_alg_parse_verify(const char *name, enum jose_alg *alg)
{
	if (name != NULL && strcmp(name, "Ed25519") == 0) {
		*alg = JOSE_ALG_EDDSA;
		return 0;
	}
	return jose_alg_parse(name, alg);
}

/*
 * Decodes len characters of strict unpadded base64url (RFC 7515 §2, RFC
 * 4648 §5): the URL-safe alphabet only, no '=', no whitespace, a length
 * that is not 1 modulo 4, and zero bits after the last byte (RFC 4648
 * §3.5), so each byte string has exactly one encoding.  On success writes
 * the bytes to out (not NUL-terminated) and their count to *outlen (when
 * outlen is not NULL) and returns 0.  Returns -1, with nothing written to
 * out or *outlen, on malformed input, on more than JOSE_JWS_MAX characters
 * or when outsize is too small.
 */
int
jose_b64url_decode(const char *in, size_t len, unsigned char *out,
    size_t outsize, size_t *outlen)
{
	char *std;
	size_t i, padded;
	unsigned char c;
	int rc = -1;

	if (len % 4 == 1 || len > JOSE_JWS_MAX)
		return -1;
	if (len == 0) {
		if (outlen != NULL)
			*outlen = 0;
		return 0;
	}
	/* Map onto the standard alphabet and pad, then decode strictly. */
	padded = (len + 3) / 4 * 4;
	if ((std = malloc(padded)) == NULL)
		return -1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))
			std[i] = (char)c;
		else if (c == '-')
			std[i] = '+';
		else if (c == '_')
			std[i] = '/';
		else
			goto out;
	}
	for (; i < padded; i++)
		std[i] = '=';
	rc = b64_decode(std, padded, out, outsize, outlen);
out:
	/* The text may be a secret (a JWK's d): do not leave a copy. */
	crypto_wipe(std, padded);
	free(std);
	return rc;
}
