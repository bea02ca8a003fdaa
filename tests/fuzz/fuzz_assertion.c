/*
 * Feeds arbitrary bytes, and the same bytes as the base64url payload of a
 * JWS, to client_assertion_subject: the unverified reading of a client
 * assertion (RFC 7523 §3) that decides whose keys are tried.  A subject it
 * names must be one an independent reading finds too: the payload decoded
 * by OpenSSL, parsed by cJSON, its iss and sub the same string of 1 to
 * CLIENT_ID_MAX bytes.  Any difference aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "../../handlers/handlers.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_assertion_check(int ok)
{
	if (!ok)
		abort();
}

/* Whether the payload of jws names id as both its iss and its sub. */
static int
fuzz_assertion_names(const char *jws, const char *id)
{
	const char *dot1 = strchr(jws, '.'), *dot2;
	size_t len, i, n;
	unsigned char *raw;
	char *b64;
	cJSON *o;
	const char *iss, *sub;
	int out, ok = 0;

	if (dot1 == NULL || (dot2 = strchr(dot1 + 1, '.')) == NULL)
		return 0;
	len = (size_t)(dot2 - dot1 - 1);
	if ((b64 = malloc(len + 4)) == NULL || (raw = malloc(len + 4)) == NULL)
		abort();
	for (i = 0; i < len; i++)
		b64[i] = dot1[1 + i] == '-' ? '+' : dot1[1 + i] == '_' ? '/' :
		    dot1[1 + i];
	for (n = len; n % 4 != 0; n++)
		b64[n] = '=';
	out = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	if (out >= 0) {
		out -= (int)(n - len);
		o = cJSON_ParseWithLength((const char *)raw, (size_t)out);
		iss = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
		    "iss"));
		sub = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
		    "sub"));
		ok = iss != NULL && sub != NULL && strcmp(iss, id) == 0 &&
		    strcmp(sub, id) == 0;
		cJSON_Delete(o);
	}
	free(b64);
	free(raw);
	return ok;
}

/* client_assertion_subject of text, checked. */
static void
fuzz_assertion_run(const char *text)
{
	const char *why = NULL;
	char *id = NULL;
	enum oauth_error e;

	e = client_assertion_subject(text, &id, &why);
	fuzz_assertion_check(why != NULL);
	if (e != OAUTH_OK) {
		fuzz_assertion_check(e == OAUTH_INVALID_CLIENT && id == NULL);
		return;
	}
	fuzz_assertion_check(id != NULL && id[0] != '\0' &&
	    strlen(id) <= CLIENT_ID_MAX);
	fuzz_assertion_check(fuzz_assertion_names(text, id));
	free(id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "eyJhbGciOiJFUzI1NiJ9.";
	char *text;
	size_t n;

	if (size > JOSE_JWS_MAX || memchr(data, '\0', size) != NULL)
		return 0;
	/* The bytes as they are, then as the payload of a JWS. */
	if ((text = malloc(sizeof(head) + size / 3 * 4 + 8)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	fuzz_assertion_run(text);
	memcpy(text, head, sizeof(head) - 1);
	n = b64url_encode(data, size, text + sizeof(head) - 1,
	    size / 3 * 4 + 5);
	if (n > 0 || size == 0) {
		memcpy(text + sizeof(head) - 1 + n, ".c2ln", 6);
		fuzz_assertion_run(text);
	}
	free(text);
	return 0;
}
