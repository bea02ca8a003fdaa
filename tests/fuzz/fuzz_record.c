/*
 * Feeds arbitrary bytes to the three record decoders.  A decoder must never
 * read past its input, and the format is canonical: whatever decodes must
 * encode back to exactly the same bytes, and decode again to an equal
 * record.  Any difference aborts, which the fuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../storage/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void fuzz_record_check(int);
static int fuzz_record_str_equal(const char *, const char *);
static void fuzz_record_same_bytes(const struct buf *, const uint8_t *,
    size_t);
static void fuzz_record_client(const uint8_t *, size_t);
static void fuzz_record_token(const uint8_t *, size_t);
static void fuzz_record_grant(const uint8_t *, size_t);

static void
fuzz_record_check(int ok)
{
	if (!ok)
		abort();
}

static int
fuzz_record_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
fuzz_record_same_bytes(const struct buf *b, const uint8_t *data, size_t len)
{
	fuzz_record_check(b->len == len);
	fuzz_record_check(len == 0 || memcmp(b->data, data, len) == 0);
}

static void
fuzz_record_client(const uint8_t *data, size_t len)
{
	struct client a, b;
	struct buf enc = { 0 };
	size_t i;

	if (store_record_client_decode(data, len, &a) != STORE_OK) {
		/* A failed decode leaves nothing behind. */
		fuzz_record_check(a.scope == NULL && a.audience == NULL &&
		    a.redirect_uri_count == 0);
		return;
	}
	fuzz_record_check(store_record_client_encode(&a, &enc) == STORE_OK);
	fuzz_record_same_bytes(&enc, data, len);
	fuzz_record_check(store_record_client_decode(enc.data, enc.len, &b) ==
	    STORE_OK);
	fuzz_record_check(strcmp(a.id, b.id) == 0 &&
	    a.is_public == b.is_public && a.may_introspect == b.may_introspect &&
	    memcmp(a.secret_salt, b.secret_salt, sizeof(a.secret_salt)) == 0 &&
	    memcmp(a.secret_hash, b.secret_hash, sizeof(a.secret_hash)) == 0 &&
	    a.secret_iterations == b.secret_iterations &&
	    a.grant_types == b.grant_types &&
	    fuzz_record_str_equal(a.scope, b.scope) &&
	    fuzz_record_str_equal(a.audience, b.audience) &&
	    a.redirect_uri_count == b.redirect_uri_count &&
	    a.created_at == b.created_at);
	for (i = 0; i < a.redirect_uri_count; i++)
		fuzz_record_check(fuzz_record_str_equal(a.redirect_uris[i],
		    b.redirect_uris[i]));
	client_free(&a);
	client_free(&b);
	buf_free(&enc);
}

static void
fuzz_record_token(const uint8_t *data, size_t len)
{
	struct token a, b;
	struct buf enc = { 0 };

	if (store_record_token_decode(data, len, &a) != STORE_OK) {
		fuzz_record_check(a.subject == NULL && a.scope == NULL &&
		    a.audience == NULL && a.redirect_uri == NULL &&
		    a.code_challenge == NULL);
		return;
	}
	fuzz_record_check(store_record_token_encode(&a, &enc) == STORE_OK);
	fuzz_record_same_bytes(&enc, data, len);
	fuzz_record_check(store_record_token_decode(enc.data, enc.len, &b) ==
	    STORE_OK);
	fuzz_record_check(a.kind == b.kind && a.state == b.state &&
	    strcmp(a.client_id, b.client_id) == 0 &&
	    fuzz_record_str_equal(a.subject, b.subject) &&
	    fuzz_record_str_equal(a.scope, b.scope) &&
	    fuzz_record_str_equal(a.audience, b.audience) &&
	    a.issued_at == b.issued_at && a.expires_at == b.expires_at &&
	    a.has_grant == b.has_grant &&
	    memcmp(a.grant_id, b.grant_id, sizeof(a.grant_id)) == 0 &&
	    fuzz_record_str_equal(a.redirect_uri, b.redirect_uri) &&
	    fuzz_record_str_equal(a.code_challenge, b.code_challenge));
	token_free(&a);
	token_free(&b);
	buf_free(&enc);
}

static void
fuzz_record_grant(const uint8_t *data, size_t len)
{
	struct grant a, b;
	struct buf enc = { 0 };

	if (store_record_grant_decode(data, len, &a) != STORE_OK) {
		fuzz_record_check(a.subject == NULL);
		return;
	}
	fuzz_record_check(store_record_grant_encode(&a, &enc) == STORE_OK);
	fuzz_record_same_bytes(&enc, data, len);
	fuzz_record_check(store_record_grant_decode(enc.data, enc.len, &b) ==
	    STORE_OK);
	fuzz_record_check(memcmp(a.id, b.id, sizeof(a.id)) == 0 &&
	    strcmp(a.client_id, b.client_id) == 0 &&
	    fuzz_record_str_equal(a.subject, b.subject) &&
	    a.created_at == b.created_at && a.expires_at == b.expires_at &&
	    a.revoked == b.revoked);
	grant_free(&a);
	grant_free(&b);
	buf_free(&enc);
}

/*
 * Every input goes to all three decoders, so a record of one type is also
 * tried as the other two; a heap copy of exactly len bytes lets
 * AddressSanitizer see any read past the end.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t *copy;

	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		return 0;
	if (len > 0)
		memcpy(copy, data, len);
	fuzz_record_client(copy, len);
	fuzz_record_token(copy, len);
	fuzz_record_grant(copy, len);
	free(copy);
	return 0;
}
