/*
 * Feeds arbitrary bytes to the Authorization: Basic parser: as the whole
 * header value, after "Basic ", and base64-encoded after "Basic " so that
 * the bytes reach the id/secret split.  The last form is checked against an
 * independent reading of RFC 6749 §2.3.1 (split at the first ':', decode
 * each half); the raw bytes also go to b64_decode, whose output must encode
 * back to exactly the input (the strict, canonical form).  Any difference
 * aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../../handlers/handlers.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void fuzz_basic_check(int);
static enum oauth_error fuzz_basic_run(const char *, char **, char **);
static void fuzz_basic_expect(const uint8_t *, size_t, size_t,
    enum oauth_error, const char *, const char *);
static void fuzz_basic_b64(const uint8_t *, size_t);

static void
fuzz_basic_check(int ok)
{
	if (!ok)
		abort();
}

/* Parses header; on success checks the limits and keeps id and secret. */
static enum oauth_error
fuzz_basic_run(const char *header, char **id, char **secret)
{
	enum oauth_error e;

	e = params_basic_credentials(header, id, secret);
	if (e != OAUTH_OK) {
		fuzz_basic_check(e == OAUTH_INVALID_CLIENT ||
		    e == OAUTH_SERVER_ERROR);
		fuzz_basic_check(*id == NULL && *secret == NULL);
		return e;
	}
	fuzz_basic_check(*id != NULL && *secret != NULL);
	fuzz_basic_check(**id != '\0' && strlen(*id) <= CLIENT_ID_MAX);
	fuzz_basic_check(strlen(*secret) <= CLIENT_SECRET_MAX);
	fuzz_basic_check(utf8_valid(*id, strlen(*id)));
	fuzz_basic_check(utf8_valid(*secret, strlen(*secret)));
	return e;
}

/*
 * What the credentials base64-encoded from the len bytes of plain, in a
 * header of hlen bytes, must be: e and, on success, id and secret are
 * compared with a reading of our own.
 */
static void
fuzz_basic_expect(const uint8_t *plain, size_t len, size_t hlen,
    enum oauth_error e, const char *id, const char *secret)
{
	const uint8_t *colon;
	char *i = NULL, *s = NULL;
	size_t ilen, slen;
	int ok;

	if (e == OAUTH_SERVER_ERROR)
		return;
	errno = 0;
	colon = memchr(plain, ':', len);
	ok = hlen <= AUTH_HEADER_MAX && colon != NULL &&
	    urlenc_decode((const char *)plain, (size_t)(colon - plain), &i,
	    &ilen) == 0 &&
	    urlenc_decode((const char *)colon + 1, len - (size_t)(colon -
	    plain) - 1, &s, &slen) == 0 &&
	    ilen > 0 && ilen <= CLIENT_ID_MAX && slen <= CLIENT_SECRET_MAX;
	if (!ok && errno == ENOMEM) {
		free(i);
		free(s);
		return;
	}
	fuzz_basic_check(ok == (e == OAUTH_OK));
	if (ok)
		fuzz_basic_check(strcmp(i, id) == 0 && strcmp(s, secret) == 0);
	free(i);
	free(s);
}

/* Strict base64 decodes only what encodes back to the same text. */
static void
fuzz_basic_b64(const uint8_t *data, size_t size)
{
	unsigned char *out, *again;
	size_t outsize = size / 4 * 3, outlen;
	int n;

	if (size > AUTH_HEADER_MAX)
		return;
	if ((out = malloc(outsize > 0 ? outsize : 1)) == NULL)
		return;
	if (b64_decode((const char *)data, size, out, outsize, &outlen) == 0) {
		fuzz_basic_check(outlen <= outsize);
		if ((again = malloc(size + 1)) != NULL) {
			n = EVP_EncodeBlock(again, out, (int)outlen);
			fuzz_basic_check(n >= 0 && (size_t)n == size &&
			    memcmp(again, data, size) == 0);
			free(again);
		}
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h, *id, *secret;
	size_t n;
	enum oauth_error e;

	fuzz_basic_b64(data, size);
	/* 3 bytes of text per 4 of base64, "Basic ", and the NUL. */
	if (size > AUTH_HEADER_MAX)
		return 0;
	if ((h = malloc(6 + (size + 2) / 3 * 4 + 1)) == NULL)
		return 0;

	memcpy(h, data, size);
	h[size] = '\0';
	if (fuzz_basic_run(h, &id, &secret) == OAUTH_OK) {
		free(id);
		free(secret);
	}

	memcpy(h, "Basic ", 6);
	memcpy(h + 6, data, size);
	h[6 + size] = '\0';
	if (fuzz_basic_run(h, &id, &secret) == OAUTH_OK) {
		free(id);
		free(secret);
	}

	n = (size_t)EVP_EncodeBlock((unsigned char *)h + 6, data, (int)size);
	h[6 + n] = '\0';
	e = fuzz_basic_run(h, &id, &secret);
	fuzz_basic_expect(data, size, 6 + n, e, id, secret);
	if (e == OAUTH_OK) {
		free(id);
		free(secret);
	}
	free(h);
	return 0;
}
