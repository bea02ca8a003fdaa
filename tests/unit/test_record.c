/*
 * The record codec: round trips, the exact bytes of format version 1, and
 * every way a record can be malformed.  Decoders are always fed a heap copy
 * of exactly the bytes under test, so that AddressSanitizer catches a read
 * past the end.
 */
#include "unit.h"

#include "../../storage/store.h"

enum rec_type {
	REC_CLIENT,
	REC_TOKEN,
	REC_GRANT
};

/* A decoded record of any type, released by rec_free. */
union rec {
	struct client c;
	struct token t;
	struct grant g;
};

static char *
repeat(char ch, size_t len)
{
	char *s = malloc(len + 1);

	assert_non_null(s);
	memset(s, ch, len);
	s[len] = '\0';
	return s;
}

/* Decodes a private heap copy of exactly len bytes. */
static enum store_status
rec_decode(enum rec_type type, const void *p, size_t len, union rec *out)
{
	unsigned char *copy = malloc(len > 0 ? len : 1);
	enum store_status st = STORE_INVALID;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, p, len);
	switch (type) {
	case REC_CLIENT:
		st = store_record_client_decode(copy, len, &out->c);
		break;
	case REC_TOKEN:
		st = store_record_token_decode(copy, len, &out->t);
		break;
	case REC_GRANT:
		st = store_record_grant_decode(copy, len, &out->g);
		break;
	}
	free(copy);
	return st;
}

static void
rec_free(enum rec_type type, union rec *r)
{
	switch (type) {
	case REC_CLIENT:
		client_free(&r->c);
		break;
	case REC_TOKEN:
		token_free(&r->t);
		break;
	case REC_GRANT:
		grant_free(&r->g);
		break;
	}
}

static void
assert_opt_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void
assert_client_equal(const struct client *a, const struct client *b)
{
	size_t i;

	assert_string_equal(a->id, b->id);
	assert_int_equal(a->is_public != 0, b->is_public != 0);
	assert_memory_equal(a->secret_salt, b->secret_salt, SECRET_SALT_LEN);
	assert_memory_equal(a->secret_hash, b->secret_hash, SECRET_HASH_LEN);
	assert_int_equal(a->secret_iterations, b->secret_iterations);
	assert_int_equal(a->grant_types, b->grant_types);
	assert_int_equal(a->may_introspect != 0, b->may_introspect != 0);
	assert_string_equal(a->scope != NULL ? a->scope : "",
	    b->scope != NULL ? b->scope : "");
	assert_opt_equal(a->audience, b->audience);
	assert_int_equal(a->redirect_uri_count, b->redirect_uri_count);
	for (i = 0; i < a->redirect_uri_count; i++)
		assert_string_equal(a->redirect_uris[i], b->redirect_uris[i]);
	assert_true(a->created_at == b->created_at);
	assert_int_equal(a->dpop_bound != 0, b->dpop_bound != 0);
	assert_int_equal(a->token_format, b->token_format);
	assert_int_equal(a->resource_count, b->resource_count);
	for (i = 0; i < a->resource_count; i++)
		assert_string_equal(a->resources[i], b->resources[i]);
	assert_opt_equal(a->jwks, b->jwks);
	assert_int_equal(a->tls_auth, b->tls_auth);
	assert_opt_equal(a->tls_value, b->tls_value);
	assert_int_equal(a->has_registration != 0, b->has_registration != 0);
	if (a->has_registration)
		assert_memory_equal(a->registration_hash, b->registration_hash,
		    TOKEN_HASH_LEN);
}

static void
assert_token_equal(const struct token *a, const struct token *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->state, b->state);
	assert_string_equal(a->client_id, b->client_id);
	assert_opt_equal(a->subject, b->subject);
	assert_string_equal(a->scope != NULL ? a->scope : "",
	    b->scope != NULL ? b->scope : "");
	assert_opt_equal(a->audience, b->audience);
	assert_true(a->issued_at == b->issued_at);
	assert_true(a->expires_at == b->expires_at);
	assert_int_equal(a->has_grant != 0, b->has_grant != 0);
	if (a->has_grant)
		assert_memory_equal(a->grant_id, b->grant_id, GRANT_ID_LEN);
	assert_opt_equal(a->redirect_uri, b->redirect_uri);
	assert_opt_equal(a->code_challenge, b->code_challenge);
	assert_int_equal(a->has_jti != 0, b->has_jti != 0);
	if (a->has_jti)
		assert_memory_equal(a->jti, b->jti, TOKEN_JTI_RAW_LEN);
	assert_opt_equal(a->nonce, b->nonce);
	assert_true(a->auth_time == b->auth_time);
	assert_int_equal(a->bind, b->bind);
	if (a->bind != TOKEN_BIND_NONE)
		assert_memory_equal(a->bind_thumbprint, b->bind_thumbprint,
		    TOKEN_HASH_LEN);
}

static void
assert_grant_equal(const struct grant *a, const struct grant *b)
{
	assert_memory_equal(a->id, b->id, GRANT_ID_LEN);
	assert_string_equal(a->client_id, b->client_id);
	assert_opt_equal(a->subject, b->subject);
	assert_true(a->created_at == b->created_at);
	assert_true(a->expires_at == b->expires_at);
	assert_int_equal(a->revoked != 0, b->revoked != 0);
	assert_opt_equal(a->claims, b->claims);
	assert_true(a->auth_time == b->auth_time);
}

/* A client with every field set to something recognisable. */
static void
full_client(struct client *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	strcpy(c->id, "s6BhdRkqt3");
	c->may_introspect = 1;
	for (i = 0; i < SECRET_SALT_LEN; i++)
		c->secret_salt[i] = (unsigned char)(0xa0 + i);
	for (i = 0; i < SECRET_HASH_LEN; i++)
		c->secret_hash[i] = (unsigned char)(0xff - i);
	c->secret_iterations = SECRET_KDF_ITERATIONS_MAX;
	c->grant_types = GRANT_ALL;
	c->scope = "read write";
	c->audience = "https://api.example.com";
	c->redirect_uris[0] = "https://app.example.com/cb";
	c->redirect_uris[1] = "http://127.0.0.1:8080/cb";
	c->redirect_uri_count = 2;
	c->created_at = UNIT_NOW;
}

static void
full_token(struct token *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->kind = TOKEN_CODE;
	t->state = TOKEN_STATE_USED;
	strcpy(t->client_id, "s6BhdRkqt3");
	t->subject = "alice";
	t->scope = "read";
	t->audience = "https://api.example.com";
	t->issued_at = UNIT_NOW;
	t->expires_at = UNIT_NOW + 60;
	t->has_grant = 1;
	for (i = 0; i < GRANT_ID_LEN; i++)
		t->grant_id[i] = (unsigned char)(i + 1);
	t->redirect_uri = "https://app.example.com/cb";
	t->code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
}

/* Binds t to the thumbprint from, from + 1, ..., with a jti if it has none. */
static void
bind_dpop(struct token *t, unsigned from)
{
	size_t i;

	if (!t->has_jti) {
		t->has_jti = 1;
		memset(t->jti, 0xab, TOKEN_JTI_RAW_LEN);
	}
	t->bind = TOKEN_BIND_DPOP;
	for (i = 0; i < TOKEN_HASH_LEN; i++)
		t->bind_thumbprint[i] = (unsigned char)(from + i);
}

static void
full_grant(struct grant *g)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < GRANT_ID_LEN; i++)
		g->id[i] = (unsigned char)(0x10 + i);
	strcpy(g->client_id, "s6BhdRkqt3");
	g->subject = "alice";
	g->created_at = UNIT_NOW;
	g->expires_at = UNIT_NOW + 1209600;
	g->revoked = 1;
}

/* Fills r with a record of type whose every field is set. */
static void
rec_full(enum rec_type type, union rec *r)
{
	switch (type) {
	case REC_CLIENT:
		full_client(&r->c);
		break;
	case REC_TOKEN:
		full_token(&r->t);
		break;
	case REC_GRANT:
		full_grant(&r->g);
		break;
	}
}

/* Appends the encoding of r, a record of type, to b. */
static enum store_status
rec_encode(enum rec_type type, const union rec *r, struct buf *b)
{
	enum store_status st = STORE_CORRUPT;	/* no encoder returns it */

	switch (type) {
	case REC_CLIENT:
		st = store_record_client_encode(&r->c, b);
		break;
	case REC_TOKEN:
		st = store_record_token_encode(&r->t, b);
		break;
	case REC_GRANT:
		st = store_record_grant_encode(&r->g, b);
		break;
	}
	return st;
}

/*
 * Fails unless the len bytes at p, which decode as type, encode back to
 * exactly themselves: the encoding is canonical.
 */
static void
assert_canonical(int line, enum rec_type type, const void *p, size_t len)
{
	struct buf b = { 0 };
	union rec d;

	assert_int_equal(rec_decode(type, p, len, &d), STORE_OK);
	assert_int_equal(rec_encode(type, &d, &b), STORE_OK);
	if (b.len != len || memcmp(b.data, p, len) != 0)
		fail_msg("line %d: %zu bytes decode and encode again to %zu "
		    "other bytes", line, len, b.len);
	rec_free(type, &d);
	buf_free(&b);
}

/*
 * Encodes r, decodes it back, and checks both agree, and that the bytes
 * encode again to themselves.
 */
static void
round_trip(enum rec_type type, const union rec *r)
{
	static const unsigned char zero[TOKEN_HASH_LEN];
	struct buf b = { 0 };
	union rec d;

	assert_int_equal(rec_encode(type, r, &b), STORE_OK);
	assert_int_equal(rec_decode(type, b.data, b.len, &d), STORE_OK);
	switch (type) {
	case REC_CLIENT:
		assert_client_equal(&r->c, &d.c);
		break;
	case REC_TOKEN:
		assert_token_equal(&r->t, &d.t);
		if (!r->t.has_grant)
			assert_memory_equal(d.t.grant_id, zero, GRANT_ID_LEN);
		/* Unbound: no thumbprint comes back. */
		if (r->t.bind == TOKEN_BIND_NONE)
			assert_memory_equal(d.t.bind_thumbprint, zero,
			    TOKEN_HASH_LEN);
		break;
	case REC_GRANT:
		assert_grant_equal(&r->g, &d.g);
		break;
	}
	rec_free(type, &d);
	assert_canonical(__LINE__, type, b.data, b.len);
	buf_free(&b);
}

static void
test_client_round_trip(void **state)
{
	union rec r;
	struct client *c = &r.c;

	(void)state;
	full_client(c);
	round_trip(REC_CLIENT, &r);

	/* Optional fields absent, a public client. */
	memset(c, 0, sizeof(*c));
	strcpy(c->id, "p");
	c->is_public = 1;
	c->scope = "";
	c->created_at = -1;
	round_trip(REC_CLIENT, &r);

	/* A NULL scope is stored as "". */
	c->scope = NULL;
	round_trip(REC_CLIENT, &r);

	/*
	 * dpop_bound_access_tokens (RFC 9449 §5.2), alone and beside the
	 * other flags: each flag is its own bit, none standing in for
	 * another.
	 */
	c->dpop_bound = 1;
	round_trip(REC_CLIENT, &r);
	c->is_public = 0;
	round_trip(REC_CLIENT, &r);
	full_client(c);
	c->is_public = 1;
	c->dpop_bound = 1;
	round_trip(REC_CLIENT, &r);
	c->token_format = CLIENT_TOKEN_JWT;
	round_trip(REC_CLIENT, &r);
}

static void check_decode(int, enum rec_type, const void *, size_t,
    enum store_status);

/*
 * A client's resources (RFC 8707) come back in their order, with the
 * default token format and with another; and the tail that holds them is
 * canonical: the default format is written only before resources, so a
 * record ending in it, a count of 0 or over RESOURCES_MAX, an empty
 * resource, or bytes after the resources are corrupt.
 */
static void
test_client_resources(void **state)
{
	static const struct {
		int line;
		const char *tail;
		size_t len;
		enum store_status want;
	} tails[] = {
		{__LINE__, "", 0, STORE_OK},
		{__LINE__, "\x02", 1, STORE_OK},	/* jwt, no resources */
		{__LINE__, "\x00", 1, STORE_CORRUPT},
		{__LINE__, "\x00\x00", 2, STORE_CORRUPT},
		{__LINE__, "\x00\x01\x00\x01x", 5, STORE_OK},
		{__LINE__, "\x02\x01\x00\x01x", 5, STORE_OK},
		{__LINE__, "\x00\x01\x00\x00", 4, STORE_CORRUPT},
		{__LINE__, "\x00\x01\x00\x01", 4, STORE_CORRUPT},
		{__LINE__, "\x00\x01\x00\x01xy", 6, STORE_CORRUPT},
		{__LINE__, "\x00\x09\x00\x01x", 5, STORE_CORRUPT},
		{__LINE__, "\x03\x01\x00\x01x", 5, STORE_CORRUPT},
	};
	union rec r, d;
	struct client *c = &r.c;
	struct buf b = {0}, t = {0};
	size_t i;

	(void)state;
	memset(c, 0, sizeof(*c));
	strcpy(c->id, "r");
	c->scope = "";
	c->resources[0] = "https://mcp.example/";
	c->resources[1] = "urn:example:ledger";
	c->resource_count = 2;
	round_trip(REC_CLIENT, &r);
	c->token_format = CLIENT_TOKEN_JWT;
	round_trip(REC_CLIENT, &r);
	for (i = 0; i < RESOURCES_MAX; i++)
		c->resources[i] = "https://r.example/";
	c->resource_count = RESOURCES_MAX;
	round_trip(REC_CLIENT, &r);
	c->resource_count = RESOURCES_MAX + 1;
	assert_int_equal(rec_encode(REC_CLIENT, &r, &b), STORE_INVALID);
	c->resource_count = 1;
	c->resources[0] = "";
	assert_int_equal(rec_encode(REC_CLIENT, &r, &b), STORE_INVALID);

	/* A client without tail, then each tail after its bytes. */
	c->resource_count = 0;
	c->token_format = CLIENT_TOKEN_DEFAULT;
	assert_int_equal(rec_encode(REC_CLIENT, &r, &b), STORE_OK);
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		t.len = 0;
		assert_int_equal(buf_append(&t, b.data, b.len), 0);
		if (tails[i].len > 0)
			assert_int_equal(buf_append(&t, tails[i].tail,
			    tails[i].len), 0);
		check_decode(tails[i].line, REC_CLIENT, t.data, t.len,
		    tails[i].want);
		if (tails[i].want == STORE_OK) {
			assert_int_equal(rec_decode(REC_CLIENT, t.data, t.len,
			    &d), STORE_OK);
			rec_free(REC_CLIENT, &d);
		}
	}
	buf_free(&b);
	buf_free(&t);
}

/*
 * The later tails of a client: its keys (private_key_jwt), its TLS method
 * (RFC 8705) and its registration (RFC 7591), each alone and together,
 * come back and encode canonically; each stands in for the ones before
 * it only as the encoding says ("" for no keys, a TLS method of 0 only
 * before a registration), so other spellings are corrupt; and a public
 * client with keys or a TLS method, or both methods at once, is refused.
 */
static void
test_client_methods(void **state)
{
	union rec r;
	struct client *c = &r.c;
	struct buf b = {0}, t = {0};
	size_t i;

	(void)state;
	memset(c, 0, sizeof(*c));
	strcpy(c->id, "m");
	c->scope = "";
	c->jwks = "{\"keys\":[]}";
	round_trip(REC_CLIENT, &r);
	c->jwks = NULL;
	c->tls_auth = CLIENT_TLS_SUBJECT_DN;
	c->tls_value = "CN=m,O=Example";
	round_trip(REC_CLIENT, &r);
	c->tls_auth = CLIENT_TLS_SELF_SIGNED;
	c->tls_value = "thumbprint";
	c->has_registration = 1;
	memset(c->registration_hash, 0xab, sizeof(c->registration_hash));
	round_trip(REC_CLIENT, &r);
	c->tls_auth = CLIENT_TLS_NONE;
	c->tls_value = NULL;
	round_trip(REC_CLIENT, &r);
	c->is_public = 1;
	round_trip(REC_CLIENT, &r);
	c->resources[0] = "https://r.example/";
	c->resource_count = 1;
	c->token_format = CLIENT_TOKEN_JWT;
	round_trip(REC_CLIENT, &r);

	/* Refused at encoding. */
	c->tls_auth = CLIENT_TLS_SUBJECT_DN;
	c->tls_value = "CN=m";
	assert_int_equal(rec_encode(REC_CLIENT, &r, &b), STORE_INVALID);
	c->is_public = 0;
	c->jwks = "{\"keys\":[]}";
	assert_int_equal(rec_encode(REC_CLIENT, &r, &b), STORE_INVALID);
	c->jwks = NULL;
	c->tls_value = NULL;
	assert_int_equal(rec_encode(REC_CLIENT, &r, &b), STORE_INVALID);
	c->tls_auth = CLIENT_TLS__MAX;
	c->tls_value = "x";
	assert_int_equal(rec_encode(REC_CLIENT, &r, &b), STORE_INVALID);

	/* A client with every tail, then spellings the encoder never makes. */
	memset(c, 0, sizeof(*c));
	strcpy(c->id, "m");
	c->scope = "";
	assert_int_equal(rec_encode(REC_CLIENT, &r, &b), STORE_OK);
	{
		static const struct {
			int line;
			const char *tail;
			size_t len;
			enum store_status want;
		} tails[] = {
			/* format, no resources, no keys, TLS method 1 "x" */
			{__LINE__, "\0\0\0\0\x01\0\x01x", 8, STORE_OK},
			/* ... and a registration */
			{__LINE__, "\0\0\0\0\x01\0\x01x"
			    "\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab"
			    "\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab"
			    "\xab\xab\xab\xab\xab\xab\xab\xab", 40, STORE_OK},
			/* no keys, no TLS method, a registration */
			{__LINE__, "\0\0\0\0\0"
			    "\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab"
			    "\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab"
			    "\xab\xab\xab\xab\xab\xab\xab\xab", 37, STORE_OK},
			/* "" for keys with nothing after */
			{__LINE__, "\0\0\0\0", 4, STORE_CORRUPT},
			/* TLS method 0 with nothing after */
			{__LINE__, "\0\0\0\0\0", 5, STORE_CORRUPT},
			/* TLS method past the last */
			{__LINE__, "\0\0\0\0\x03\0\x01x", 8, STORE_CORRUPT},
			/* an empty TLS value */
			{__LINE__, "\0\0\0\0\x01\0\0", 7, STORE_CORRUPT},
			/* a registration cut short */
			{__LINE__, "\0\0\0\0\0\xab\xab", 7, STORE_CORRUPT},
			/* a registration and a byte more */
			{__LINE__, "\0\0\0\0\x01\0\x01x"
			    "\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab"
			    "\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab"
			    "\xab\xab\xab\xab\xab\xab\xab\xab\x00", 41,
			    STORE_CORRUPT},
		};

		for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
			t.len = 0;
			assert_int_equal(buf_append(&t, b.data, b.len), 0);
			assert_int_equal(buf_append(&t, tails[i].tail,
			    tails[i].len), 0);
			check_decode(tails[i].line, REC_CLIENT, t.data, t.len,
			    tails[i].want);
		}
	}
	buf_free(&b);
	buf_free(&t);
}

static void truncations(enum rec_type, const struct buf *);

/* A JWK Set of one Ed25519 key (RFC 8037 Appendix A.2), as stored. */
#define JWKS_ONE "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\"," \
	"\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}"

/*
 * Fails unless the record of c, a client, is the record of c without
 * tails followed by exactly the len bytes tail.
 */
static void
assert_client_tail(int line, const struct client *c, const char *tail,
    size_t len)
{
	union rec bare;
	struct buf a = {0}, b = {0};

	memcpy(&bare.c, c, sizeof(*c));
	bare.c.token_format = CLIENT_TOKEN_DEFAULT;
	bare.c.resource_count = 0;
	bare.c.jwks = NULL;
	bare.c.tls_auth = CLIENT_TLS_NONE;
	bare.c.tls_value = NULL;
	bare.c.has_registration = 0;
	assert_int_equal(rec_encode(REC_CLIENT, &bare, &a), STORE_OK);
	assert_int_equal(store_record_client_encode(c, &b), STORE_OK);
	if (b.len != a.len + len || memcmp(b.data, a.data, a.len) != 0 ||
	    memcmp(b.data + a.len, tail, len) != 0)
		fail_msg("line %d: %zu bytes, want %zu and %zu of tail", line,
		    b.len, a.len, len);
	buf_free(&a);
	buf_free(&b);
}

/*
 * A client's keys (private_key_jwt) with the tails before them: with and
 * without resources, with the default token format and another, beside
 * a registration, and at STORE_JWKS_MAX bytes, come back and encode
 * canonically, as exactly the tail the header comment describes (format,
 * resource count, resources, keys).  A record cut anywhere is corrupt
 * but where a tail begins, which is the same client without the tails
 * from there on, as a record written before them.  Refused at encoding:
 * keys for a public client, empty keys, keys over STORE_JWKS_MAX bytes.
 */
static void
test_client_jwks(void **state)
{
	union rec r, d;
	struct client *c = &r.c;
	struct buf b = {0}, cut[4];
	char *big = repeat('k', STORE_JWKS_MAX + 1);
	size_t i, len, boundary;

	(void)state;
	full_client(c);
	c->jwks = JWKS_ONE;
	round_trip(REC_CLIENT, &r);
	c->token_format = CLIENT_TOKEN_JWT;
	round_trip(REC_CLIENT, &r);
	c->resources[0] = "https://mcp.example/";
	c->resources[1] = "urn:example:ledger";
	c->resource_count = 2;
	round_trip(REC_CLIENT, &r);
	c->token_format = CLIENT_TOKEN_DEFAULT;
	round_trip(REC_CLIENT, &r);
	c->dpop_bound = 1;
	c->has_registration = 1;
	memset(c->registration_hash, 0x5a, sizeof(c->registration_hash));
	round_trip(REC_CLIENT, &r);
	c->resource_count = 0;
	round_trip(REC_CLIENT, &r);
	c->has_registration = 0;
	big[STORE_JWKS_MAX] = '\0';
	c->jwks = big;
	round_trip(REC_CLIENT, &r);

	/* The tail, byte for byte. */
	memset(c, 0, sizeof(*c));
	strcpy(c->id, "k");
	c->scope = "";
	c->jwks = "{}";
	assert_client_tail(__LINE__, c, "\0" "\0" "\0\x02{}", 6);
	c->token_format = CLIENT_TOKEN_JWT;
	assert_client_tail(__LINE__, c, "\x02" "\0" "\0\x02{}", 6);
	c->resources[0] = "x";
	c->resource_count = 1;
	assert_client_tail(__LINE__, c, "\x02" "\x01" "\0\x01x" "\0\x02{}",
	    9);
	c->token_format = CLIENT_TOKEN_DEFAULT;
	assert_client_tail(__LINE__, c, "\0" "\x01" "\0\x01x" "\0\x02{}", 9);
	c->resource_count = 0;
	c->has_registration = 1;
	memset(c->registration_hash, 0xab, sizeof(c->registration_hash));
	assert_client_tail(__LINE__, c, "\0" "\0" "\0\x02{}" "\0"
	    "\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab"
	    "\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab",
	    39);

	/*
	 * Cut at every length: the records of the same client with fewer
	 * tails (none; the format; the format and resources) are its
	 * prefixes, and the only ones that decode.
	 */
	full_client(c);
	c->token_format = CLIENT_TOKEN_JWT;
	c->resources[0] = "https://mcp.example/";
	c->resource_count = 1;
	c->jwks = JWKS_ONE;
	memset(cut, 0, sizeof(cut));
	for (i = 0; i < 4; i++) {
		union rec fewer = r;

		fewer.c.jwks = i < 3 ? NULL : c->jwks;
		fewer.c.resource_count = i < 2 ? 0 : c->resource_count;
		fewer.c.token_format = i < 1 ? CLIENT_TOKEN_DEFAULT :
		    c->token_format;
		assert_int_equal(rec_encode(REC_CLIENT, &fewer, &cut[i]),
		    STORE_OK);
	}
	b = cut[3];
	for (len = 0; len <= b.len; len++) {
		enum store_status st = rec_decode(REC_CLIENT, b.data, len, &d);

		for (boundary = 0; boundary < 4; boundary++)
			if (cut[boundary].len == len)
				break;
		if (boundary < 4) {
			if (st != STORE_OK || memcmp(cut[boundary].data, b.data,
			    len) != 0)
				fail_msg("cut at a tail's start (%zu of %zu "
				    "bytes): %d", len, b.len, (int)st);
			assert_int_equal(d.c.resource_count, boundary < 2 ? 0 :
			    1);
			assert_true((d.c.jwks != NULL) == (boundary == 3));
			rec_free(REC_CLIENT, &d);
			assert_canonical(__LINE__, REC_CLIENT, b.data, len);
		} else if (st != STORE_CORRUPT)
			fail_msg("cut to %zu of %zu bytes: %d", len, b.len,
			    (int)st);
	}
	for (i = 0; i < 4; i++)
		buf_free(&cut[i]);
	memset(&b, 0, sizeof(b));

	/* Refused at encoding, the buffer untouched. */
	full_client(c);
	assert_int_equal(buf_puts(&b, "xyz"), 0);
	c->jwks = JWKS_ONE;
	c->is_public = 1;
	assert_int_equal(rec_encode(REC_CLIENT, &r, &b), STORE_INVALID);
	c->is_public = 0;
	c->jwks = "";
	assert_int_equal(rec_encode(REC_CLIENT, &r, &b), STORE_INVALID);
	big[STORE_JWKS_MAX] = 'k';
	c->jwks = big;
	assert_int_equal(rec_encode(REC_CLIENT, &r, &b), STORE_INVALID);
	assert_int_equal(b.len, 3);
	buf_free(&b);
	free(big);
}

/*
 * Tails after a client without any, that the encoder never writes or
 * writes so: the keys' tail is corrupt ending at a resource count of 0,
 * with keys "" and nothing after, for a public client, with a TLS method
 * beside them, and with bytes after them that are no later tail; its
 * string cut short, holding a NUL, or longer than STORE_JWKS_MAX.
 */
static void
test_client_jwks_malformed(void **state)
{
#define JT(s) s, sizeof(s) - 1
#define REG16 "\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab"
#define REG32 REG16 REG16
	static const struct {
		int line;
		int is_public;
		const char *tail;
		size_t len;
		enum store_status want;
	} tails[] = {
		{__LINE__, 0, JT("\0" "\0" "\0\x02{}"), STORE_OK},
		{__LINE__, 0, JT("\x02" "\0" "\0\x02{}"), STORE_OK},
		{__LINE__, 0, JT("\0" "\x01" "\0\x01x" "\0\x02{}"), STORE_OK},
		{__LINE__, 0, JT("\0" "\0" "\0\x02{}" "\0" REG32), STORE_OK},
		/* A registered public client: "" for no keys is fine. */
		{__LINE__, 1, JT("\0" "\0" "\0\0" "\0" REG32), STORE_OK},
		/* Ending after a resource count of 0. */
		{__LINE__, 0, JT("\0" "\0"), STORE_CORRUPT},
		{__LINE__, 0, JT("\x02" "\0"), STORE_CORRUPT},
		/* Keys "" with nothing after. */
		{__LINE__, 0, JT("\0" "\0" "\0\0"), STORE_CORRUPT},
		{__LINE__, 0, JT("\0" "\x01" "\0\x01x" "\0\0"), STORE_CORRUPT},
		/* A public client with keys. */
		{__LINE__, 1, JT("\0" "\0" "\0\x02{}"), STORE_CORRUPT},
		{__LINE__, 1, JT("\0" "\0" "\0\x02{}" "\0" REG32),
		    STORE_CORRUPT},
		/* Keys and a TLS method. */
		{__LINE__, 0, JT("\0" "\0" "\0\x02{}" "\x01" "\0\x01x"),
		    STORE_CORRUPT},
		{__LINE__, 0, JT("\0" "\0" "\0\x02{}" "\x02" "\0\x01x"),
		    STORE_CORRUPT},
		/* Bytes after the keys that are no tail. */
		{__LINE__, 0, JT("\0" "\0" "\0\x02{}" "\0"), STORE_CORRUPT},
		{__LINE__, 0, JT("\0" "\0" "\0\x02{}" "\x07"), STORE_CORRUPT},
		{__LINE__, 0, JT("\0" "\0" "\0\x02{}" "xyz"), STORE_CORRUPT},
		{__LINE__, 0, JT("\0" "\0" "\0\x02{}" "\0" REG32 "\0"),
		    STORE_CORRUPT},
		/* The string cut short, or holding a NUL. */
		{__LINE__, 0, JT("\0" "\0" "\0\x03{}"), STORE_CORRUPT},
		{__LINE__, 0, JT("\0" "\0" "\0"), STORE_CORRUPT},
		{__LINE__, 0, JT("\0" "\0" "\0\x03{\0}"), STORE_CORRUPT},
	};
	union rec r;
	struct client *c = &r.c;
	struct buf base[2], t = {0};
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		memset(&base[i], 0, sizeof(base[i]));
		memset(c, 0, sizeof(*c));
		strcpy(c->id, "k");
		c->scope = "";
		c->is_public = (int)i;
		assert_int_equal(rec_encode(REC_CLIENT, &r, &base[i]),
		    STORE_OK);
	}
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		const struct buf *b = &base[tails[i].is_public];

		t.len = 0;
		assert_int_equal(buf_append(&t, b->data, b->len), 0);
		assert_int_equal(buf_append(&t, tails[i].tail, tails[i].len),
		    0);
		check_decode(tails[i].line, REC_CLIENT, t.data, t.len,
		    tails[i].want);
	}

	/* STORE_JWKS_MAX bytes of keys, then one more. */
	for (i = STORE_JWKS_MAX; i <= STORE_JWKS_MAX + 1; i++) {
		unsigned char head[4] = {0, 0, (unsigned char)(i >> 8),
		    (unsigned char)i};
		char *keys = repeat('k', i);

		t.len = 0;
		assert_int_equal(buf_append(&t, base[0].data, base[0].len), 0);
		assert_int_equal(buf_append(&t, head, sizeof(head)), 0);
		assert_int_equal(buf_append(&t, keys, i), 0);
		check_decode(__LINE__, REC_CLIENT, t.data, t.len,
		    i == STORE_JWKS_MAX ? STORE_OK : STORE_CORRUPT);
		free(keys);
	}
	buf_free(&base[0]);
	buf_free(&base[1]);
	buf_free(&t);
#undef JT
#undef REG16
#undef REG32
}

static void
test_client_max(void **state)
{
	union rec r;
	struct client *c = &r.c;
	char *scope = repeat('s', SCOPE_MAX);
	char *aud = repeat('a', AUDIENCE_MAX);
	char *uri = repeat('u', REDIRECT_URI_MAX);
	size_t i;

	(void)state;
	full_client(c);
	memset(c->id, 'i', CLIENT_ID_MAX);
	c->id[CLIENT_ID_MAX] = '\0';
	c->scope = scope;
	c->audience = aud;
	for (i = 0; i < REDIRECT_URIS_MAX; i++)
		c->redirect_uris[i] = uri;
	c->redirect_uri_count = REDIRECT_URIS_MAX;
	c->created_at = INT64_MAX;
	round_trip(REC_CLIENT, &r);
	free(scope);
	free(aud);
	free(uri);
}

static void
test_token_round_trip(void **state)
{
	union rec r;
	struct token *t = &r.t;

	(void)state;
	full_token(t);
	round_trip(REC_TOKEN, &r);

	/* A client_credentials access token: no subject, no grant. */
	memset(t, 0, sizeof(*t));
	t->kind = TOKEN_ACCESS;
	t->state = TOKEN_STATE_ACTIVE;
	strcpy(t->client_id, "svc");
	t->scope = "";
	t->issued_at = INT64_MIN;
	t->expires_at = -2;
	round_trip(REC_TOKEN, &r);

	/* A grant id without has_grant is neither stored nor returned. */
	t->kind = TOKEN_REFRESH;
	t->state = TOKEN_STATE_REVOKED;
	memset(t->grant_id, 0x55, GRANT_ID_LEN);
	round_trip(REC_TOKEN, &r);

	/* The later tail: a jti, and for a code a nonce and auth_time. */
	full_token(t);
	t->has_jti = 1;
	memset(t->jti, 0xab, TOKEN_JTI_RAW_LEN);
	round_trip(REC_TOKEN, &r);
	t->nonce = "n-0S6_WzA2Mj";
	t->auth_time = UNIT_NOW - 30;
	round_trip(REC_TOKEN, &r);

	/*
	 * After the jti tail, a binding: a code bound to the dpop_jkt of
	 * its request, then an access token without nonce or auth_time.
	 */
	bind_dpop(t, 0x40);
	round_trip(REC_TOKEN, &r);
	t->nonce = NULL;
	t->auth_time = 0;
	t->kind = TOKEN_ACCESS;
	t->state = TOKEN_STATE_ACTIVE;
	round_trip(REC_TOKEN, &r);
	/* A thumbprint of zeros is a thumbprint still. */
	memset(t->bind_thumbprint, 0, TOKEN_HASH_LEN);
	round_trip(REC_TOKEN, &r);
	/* Unbound, a thumbprint left in the struct is neither kept nor read. */
	bind_dpop(t, 0x60);
	t->bind = TOKEN_BIND_NONE;
	round_trip(REC_TOKEN, &r);
}

/*
 * Records written before the tails existed still read, without them; a
 * tail the encoder would not write (a nonce without a jti, a grant tail
 * holding nothing) is refused.
 */
static void
test_record_tails(void **state)
{
	struct token t, got;
	struct grant g, gg;
	struct buf b = { 0 };

	(void)state;
	full_token(&t);
	assert_int_equal(store_record_token_encode(&t, &b), STORE_OK);
	assert_int_equal(store_record_token_decode(b.data, b.len, &got),
	    STORE_OK);
	assert_false(got.has_jti);
	assert_null(got.nonce);
	token_free(&got);
	buf_free(&b);

	t.nonce = "n";
	assert_int_equal(store_record_token_encode(&t, &b), STORE_INVALID);

	full_grant(&g);
	assert_int_equal(store_record_grant_encode(&g, &b), STORE_OK);
	/* An empty tail: marker, no claims, auth_time 0. */
	assert_int_equal(buf_append(&b, "\1\0\0\0\0\0\0\0\0\0", 10), 0);
	assert_int_equal(store_record_grant_decode(b.data, b.len, &gg),
	    STORE_CORRUPT);
	buf_free(&b);
	g.claims = "{\"email\":\"alice@example.com\"}";
	g.auth_time = UNIT_NOW;
	assert_int_equal(store_record_grant_encode(&g, &b), STORE_OK);
	assert_int_equal(store_record_grant_decode(b.data, b.len, &gg),
	    STORE_OK);
	assert_string_equal(gg.claims, g.claims);
	grant_free(&gg);
	buf_free(&b);
}

static void
test_token_max(void **state)
{
	union rec r;
	struct token *t = &r.t;
	char *subject = repeat('u', USERNAME_MAX);
	char *scope = repeat('s', SCOPE_MAX);
	char *aud = repeat('a', AUDIENCE_MAX);
	char *uri = repeat('r', REDIRECT_URI_MAX);
	char *challenge = repeat('c', 128);

	(void)state;
	full_token(t);
	memset(t->client_id, 'i', CLIENT_ID_MAX);
	t->client_id[CLIENT_ID_MAX] = '\0';
	t->subject = subject;
	t->scope = scope;
	t->audience = aud;
	t->redirect_uri = uri;
	t->code_challenge = challenge;
	round_trip(REC_TOKEN, &r);
	free(subject);
	free(scope);
	free(aud);
	free(uri);
	free(challenge);
}

static void
test_grant_round_trip(void **state)
{
	union rec r;
	struct grant *g = &r.g;
	char *subject = repeat('u', USERNAME_MAX);

	(void)state;
	full_grant(g);
	round_trip(REC_GRANT, &r);

	g->subject = NULL;
	g->revoked = 0;
	round_trip(REC_GRANT, &r);

	memset(g->client_id, 'i', CLIENT_ID_MAX);
	g->client_id[CLIENT_ID_MAX] = '\0';
	g->subject = subject;
	round_trip(REC_GRANT, &r);
	g->claims = "{\"name\":\"Alice\"}";
	round_trip(REC_GRANT, &r);
	g->claims = NULL;
	g->auth_time = UNIT_NOW;
	round_trip(REC_GRANT, &r);
	free(subject);
}

/* Fails unless r, a record of type, encodes to exactly the len bytes want. */
static void
assert_encodes(enum rec_type type, const union rec *r,
    const unsigned char *want, size_t len)
{
	struct buf b = { 0 };

	assert_int_equal(rec_encode(type, r, &b), STORE_OK);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, want, len);
	buf_free(&b);
}

/* The bytes of format version 1 are a promise to every existing database. */
static void
test_golden(void **state)
{
	static const unsigned char grant_v1[] = {
		0x01, 0x03,
		0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
		0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
		0x00, 0x0a, 's', '6', 'B', 'h', 'd', 'R', 'k', 'q', 't', '3',
		0x01, 0x00, 0x05, 'a', 'l', 'i', 'c', 'e',
		0x00, 0x00, 0x00, 0x00, 0x65, 0x53, 0xf1, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x65, 0x66, 0x66, 0x00,
		0x01,
	};
	static const unsigned char token_v1[] = {
		0x01, 0x02, 0x01, 0x00,
		0x00, 0x03, 's', 'v', 'c',
		0x00,
		0x00, 0x01, 'a',
		0x00,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
		0x00,
		0x00,
		0x00,
	};
	/*
	 * The same token with the jti tail (jti, nonce "n", auth_time) and
	 * after it the binding: TOKEN_BIND_DPOP, then the thumbprint.
	 */
	static const unsigned char token_bound_v1[] = {
		0x01, 0x02, 0x01, 0x00,
		0x00, 0x03, 's', 'v', 'c',
		0x00,
		0x00, 0x01, 'a',
		0x00,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
		0x00,
		0x00,
		0x00,
		0x01,
		0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
		0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
		0x01, 0x00, 0x01, 'n',
		0x00, 0x00, 0x00, 0x00, 0x65, 0x53, 0xf1, 0x00,
		0x01,
		0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
		0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
		0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
		0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
	};
	/* A client with every flag: public, introspect, DPoP-bound. */
	static const unsigned char client_flags_v1[] = {
		0x01, 0x01,
		0x00, 0x01, 'c',
		0x07,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x02,
		0x00, 0x00,
		0x00,
		0x00,
		0x00, 0x00, 0x00, 0x00, 0x65, 0x53, 0xf1, 0x00,
	};
	union rec r;
	size_t i;

	(void)state;
	full_grant(&r.g);
	assert_encodes(REC_GRANT, &r, grant_v1, sizeof(grant_v1));

	memset(&r.t, 0, sizeof(r.t));
	r.t.kind = TOKEN_ACCESS;
	strcpy(r.t.client_id, "svc");
	r.t.scope = "a";
	r.t.issued_at = -1;
	r.t.expires_at = 256;
	assert_encodes(REC_TOKEN, &r, token_v1, sizeof(token_v1));

	r.t.has_jti = 1;
	for (i = 0; i < TOKEN_JTI_RAW_LEN; i++)
		r.t.jti[i] = (unsigned char)(0x10 + i);
	r.t.nonce = "n";
	r.t.auth_time = UNIT_NOW;
	r.t.bind = TOKEN_BIND_DPOP;
	for (i = 0; i < TOKEN_HASH_LEN; i++)
		r.t.bind_thumbprint[i] = (unsigned char)(0x20 + i);
	assert_encodes(REC_TOKEN, &r, token_bound_v1, sizeof(token_bound_v1));

	memset(&r.c, 0, sizeof(r.c));
	strcpy(r.c.id, "c");
	r.c.is_public = 1;
	r.c.may_introspect = 1;
	r.c.dpop_bound = 1;
	r.c.grant_types = GRANT_AUTHORIZATION_CODE;
	r.c.scope = "";
	r.c.created_at = UNIT_NOW;
	assert_encodes(REC_CLIENT, &r, client_flags_v1,
	    sizeof(client_flags_v1));
}

/* Encoding appends: what the buffer held before stays in front. */
static void
test_encode_appends(void **state)
{
	struct grant g;
	struct grant d;
	struct buf b = { 0 };

	(void)state;
	full_grant(&g);
	assert_int_equal(buf_puts(&b, "xyz"), 0);
	assert_int_equal(store_record_grant_encode(&g, &b), STORE_OK);
	assert_memory_equal(b.data, "xyz", 3);
	assert_int_equal(store_record_grant_decode(b.data + 3, b.len - 3, &d),
	    STORE_OK);
	assert_grant_equal(&g, &d);
	grant_free(&d);
	buf_free(&b);
}

/*
 * A client, token or grant that breaks one limit: the string at offset
 * made len bytes long, or, when mutate is set, what mutate() sets up.
 */
struct bad_encode {
	int line;
	enum rec_type type;
	void (*mutate)(union rec *, char *);
	size_t offset;
	size_t len;
};

#define BAD_FN(type, mutate) { __LINE__, type, mutate, 0, 0 }
#define BAD_STR(type, member, len) \
	{ __LINE__, type, NULL, offsetof(union rec, member), len }

static void
bad_client_id_empty(union rec *r, char *big)
{
	(void)big;
	r->c.id[0] = '\0';
}

static void
bad_client_id_long(union rec *r, char *big)
{
	(void)big;
	/* Fills the array including the terminator's place. */
	memset(r->c.id, 'x', sizeof(r->c.id));
}

static void
bad_client_grant_bits(union rec *r, char *big)
{
	(void)big;
	r->c.grant_types = GRANT_ALL + 1;
}

static void
bad_client_iterations(union rec *r, char *big)
{
	(void)big;
	r->c.secret_iterations = SECRET_KDF_ITERATIONS_MAX + 1;
}

static void
bad_client_uri_null(union rec *r, char *big)
{
	(void)big;
	r->c.redirect_uris[1] = NULL;
}

static void
bad_client_uri_count(union rec *r, char *big)
{
	size_t i;

	big[1] = '\0';
	for (i = 0; i < REDIRECT_URIS_MAX; i++)
		r->c.redirect_uris[i] = big;
	r->c.redirect_uri_count = REDIRECT_URIS_MAX + 1;
}

static void
bad_token_kind_zero(union rec *r, char *big)
{
	(void)big;
	r->t.kind = (enum token_kind)0;
}

static void
bad_token_kind_max(union rec *r, char *big)
{
	(void)big;
	r->t.kind = TOKEN_KIND__MAX;
}

static void
bad_token_kind_negative(union rec *r, char *big)
{
	int v = -1;

	(void)big;
	memcpy(&r->t.kind, &v, sizeof(v));
}

static void
bad_token_state(union rec *r, char *big)
{
	(void)big;
	r->t.state = TOKEN_STATE__MAX;
}

static void
bad_token_client(union rec *r, char *big)
{
	(void)big;
	r->t.client_id[0] = '\0';
}

static void
bad_token_client_long(union rec *r, char *big)
{
	(void)big;
	memset(r->t.client_id, 'x', sizeof(r->t.client_id));
}

static void
bad_token_bind_nojti(union rec *r, char *big)
{
	(void)big;
	/* full_token has no jti: only a token with one may be bound. */
	r->t.bind = TOKEN_BIND_DPOP;
}

static void
bad_token_bind_max(union rec *r, char *big)
{
	(void)big;
	bind_dpop(&r->t, 0);
	r->t.bind = TOKEN_BIND__MAX;
}

static void
bad_token_bind_negative(union rec *r, char *big)
{
	int v = -1;

	(void)big;
	bind_dpop(&r->t, 0);
	memcpy(&r->t.bind, &v, sizeof(v));
}

static void
bad_grant_client(union rec *r, char *big)
{
	(void)big;
	r->g.client_id[0] = '\0';
}

static void
bad_grant_client_long(union rec *r, char *big)
{
	(void)big;
	memset(r->g.client_id, 'x', sizeof(r->g.client_id));
}

static const struct bad_encode bad_encodes[] = {
	BAD_FN(REC_CLIENT, bad_client_id_empty),
	BAD_FN(REC_CLIENT, bad_client_id_long),
	BAD_FN(REC_CLIENT, bad_client_grant_bits),
	BAD_FN(REC_CLIENT, bad_client_iterations),
	BAD_STR(REC_CLIENT, c.scope, SCOPE_MAX + 1),
	BAD_STR(REC_CLIENT, c.audience, AUDIENCE_MAX + 1),
	BAD_STR(REC_CLIENT, c.redirect_uris[1], REDIRECT_URI_MAX + 1),
	BAD_FN(REC_CLIENT, bad_client_uri_null),
	BAD_FN(REC_CLIENT, bad_client_uri_count),
	BAD_FN(REC_TOKEN, bad_token_kind_zero),
	BAD_FN(REC_TOKEN, bad_token_kind_max),
	BAD_FN(REC_TOKEN, bad_token_kind_negative),
	BAD_FN(REC_TOKEN, bad_token_state),
	BAD_FN(REC_TOKEN, bad_token_client),
	BAD_FN(REC_TOKEN, bad_token_client_long),
	BAD_STR(REC_TOKEN, t.subject, USERNAME_MAX + 1),
	BAD_STR(REC_TOKEN, t.scope, SCOPE_MAX + 1),
	BAD_STR(REC_TOKEN, t.audience, AUDIENCE_MAX + 1),
	BAD_STR(REC_TOKEN, t.redirect_uri, REDIRECT_URI_MAX + 1),
	BAD_STR(REC_TOKEN, t.code_challenge, 129),
	BAD_FN(REC_TOKEN, bad_token_bind_nojti),
	BAD_FN(REC_TOKEN, bad_token_bind_max),
	BAD_FN(REC_TOKEN, bad_token_bind_negative),
	BAD_FN(REC_GRANT, bad_grant_client),
	BAD_FN(REC_GRANT, bad_grant_client_long),
	BAD_STR(REC_GRANT, g.subject, USERNAME_MAX + 1),
};

static void
test_encode_invalid(void **state)
{
	const size_t bigsize = REDIRECT_URI_MAX + 2;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_encodes) / sizeof(bad_encodes[0]); i++) {
		const struct bad_encode *row = &bad_encodes[i];
		char *big = repeat('b', bigsize - 1);
		struct buf b = { 0 };
		union rec r;
		enum store_status st;

		rec_full(row->type, &r);
		if (row->mutate != NULL)
			row->mutate(&r, big);
		else {
			assert_true(row->len < bigsize);
			big[row->len] = '\0';
			*(char **)(void *)((char *)&r + row->offset) = big;
		}
		assert_int_equal(buf_puts(&b, "xyz"), 0);
		st = rec_encode(row->type, &r, &b);
		if (st != STORE_INVALID || b.len != 3 ||
		    strcmp(b.data, "xyz") != 0)
			fail_msg("row at line %d: status %d, buffer length %zu",
			    row->line, (int)st, b.len);
		buf_free(&b);
		free(big);
	}
}

/* Every proper prefix of a valid record is corrupt, the empty one too. */
static void
truncations(enum rec_type type, const struct buf *b)
{
	union rec r;
	size_t len;

	for (len = 0; len < b->len; len++) {
		enum store_status st = rec_decode(type, b->data, len, &r);

		if (st != STORE_CORRUPT)
			fail_msg("type %d truncated to %zu of %zu bytes: %d",
			    (int)type, len, b->len, (int)st);
		/* A failed decode leaves nothing to free. */
		assert_null(type == REC_CLIENT ? r.c.scope :
		    type == REC_TOKEN ? r.t.scope : r.g.subject);
	}
	assert_int_equal(rec_decode(type, b->data, b->len, &r), STORE_OK);
	rec_free(type, &r);
}

static void
test_truncated(void **state)
{
	static const enum rec_type types[] = {REC_CLIENT, REC_TOKEN, REC_GRANT};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct buf b = { 0 };
		union rec r;

		rec_full(types[i], &r);
		assert_int_equal(rec_encode(types[i], &r, &b), STORE_OK);
		truncations(types[i], &b);
		buf_free(&b);
	}
}

/*
 * A bound token cut inside its binding is corrupt: the bind byte alone,
 * or part of the thumbprint.  Cut where the binding begins, it is the
 * same token unbound, as a record written before bindings existed.
 */
static void
test_truncated_bind(void **state)
{
	struct buf b = { 0 }, unbound = { 0 };
	union rec r, d;
	size_t len;

	(void)state;
	full_token(&r.t);
	bind_dpop(&r.t, 0x80);
	assert_int_equal(rec_encode(REC_TOKEN, &r, &b), STORE_OK);
	r.t.bind = TOKEN_BIND_NONE;
	assert_int_equal(rec_encode(REC_TOKEN, &r, &unbound), STORE_OK);
	assert_int_equal(b.len, unbound.len + 1 + TOKEN_HASH_LEN);
	assert_memory_equal(b.data, unbound.data, unbound.len);
	for (len = unbound.len + 1; len < b.len; len++)
		if (rec_decode(REC_TOKEN, b.data, len, &d) != STORE_CORRUPT)
			fail_msg("cut to %zu of %zu bytes: not corrupt", len,
			    b.len);
	assert_int_equal(rec_decode(REC_TOKEN, b.data, unbound.len, &d),
	    STORE_OK);
	assert_int_equal(d.t.bind, TOKEN_BIND_NONE);
	assert_true(d.t.has_jti);
	rec_free(REC_TOKEN, &d);
	assert_int_equal(rec_decode(REC_TOKEN, b.data, b.len, &d), STORE_OK);
	assert_int_equal(d.t.bind, TOKEN_BIND_DPOP);
	assert_int_equal(d.t.bind_thumbprint[TOKEN_HASH_LEN - 1],
	    0x80 + TOKEN_HASH_LEN - 1);
	rec_free(REC_TOKEN, &d);
	buf_free(&b);
	buf_free(&unbound);
}

/*
 * Hand-written records.  The first rows of each type are valid, so the
 * rows after them differ from a good record in one place only.
 */
#define Z8 "\0\0\0\0\0\0\0\0"
#define Z16 Z8 Z8
#define Z32 Z16 Z16
#define T8 "\0\0\0\0\x65\x53\xf1\0"	/* UNIT_NOW */

/* version, type, id "c", flags, salt, hash, KDF iterations, grant types */
#define CLIENT_HEAD_ITER(flags, iterations, types) \
	"\x01\x01" "\0\x01" "c" flags Z16 Z32 iterations "\0\0\0" types
#define CLIENT_HEAD(flags, types) CLIENT_HEAD_ITER(flags, "\0\0\0\0", types)
#define CLIENT(flags, types, tail) \
	CLIENT_HEAD(flags, types) tail
#define CLIENT_TAIL "\0\0" "\0" "\0" T8		/* scope "", no aud, 0 uris */

#define TOKEN(kind, state, mid, tail) \
	"\x01\x02" kind state "\0\x01" "c" mid tail
#define TOKEN_MID "\0" "\0\0" "\0" T8 T8	/* no subject, scope "", ... */
#define TOKEN_TAIL "\0" "\0" "\0"		/* no grant, uri, challenge */
#define TOKEN_JTI "\x01" Z16 "\0" Z8		/* jti, no nonce, auth_time 0 */
#define THUMB "\x01\x02\x03\x04\x05\x06\x07\x08" Z8 Z16 /* 32 bytes */

#define GRANT_HEAD "\x01\x03" Z16
#define GRANT_TAIL "\0" T8 T8 "\0"		/* no subject, times, live */

/* Fails unless the len bytes at p decode as type to want. */
static void
check_decode(int line, enum rec_type type, const void *p, size_t len,
    enum store_status want)
{
	union rec r;
	enum store_status st;

	st = rec_decode(type, p, len, &r);
	if (st != want)
		fail_msg("row at line %d: got %d, want %d", line, (int)st,
		    (int)want);
	rec_free(type, &r);
	/* What decodes is what the encoder writes, byte for byte. */
	if (want == STORE_OK)
		assert_canonical(line, type, p, len);
}

struct bad_decode {
	int line;
	enum rec_type type;
	const char *bytes;
	size_t len;
	enum store_status want;
};

#define ROW(type, s, want) { __LINE__, type, s, sizeof(s) - 1, want }

static const struct bad_decode bad_decodes[] = {
	/* Valid baselines. */
	ROW(REC_CLIENT, CLIENT("\0", "\x07", CLIENT_TAIL), STORE_OK),
	/* PBKDF2 rounds of an operator secret, up to the limit (10^7). */
	ROW(REC_CLIENT, CLIENT_HEAD_ITER("\0", "\0\x01\x86\xa0", "\x07")
	    CLIENT_TAIL, STORE_OK),
	ROW(REC_CLIENT, CLIENT_HEAD_ITER("\0", "\0\x98\x96\x80", "\x07")
	    CLIENT_TAIL, STORE_OK),
	ROW(REC_CLIENT, CLIENT_HEAD_ITER("\0", "\0\x98\x96\x81", "\x07")
	    CLIENT_TAIL, STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT_HEAD_ITER("\0", "\xff\xff\xff\xff", "\x07")
	    CLIENT_TAIL, STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT("\x03", "\0", "\0\x01" "r" "\x01" "\0\x01" "a"
	    "\x01" "\0\x01" "u" T8), STORE_OK),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL), STORE_OK),
	ROW(REC_TOKEN, TOKEN("\x03", "\x02", "\x01" "\0\x01" "s" "\0\0"
	    "\x01" "\0\x01" "a" T8 T8, "\x01" Z16 "\x01" "\0\x01" "u"
	    "\x01" "\0\x01" "x"), STORE_OK),
	ROW(REC_GRANT, GRANT_HEAD "\0\x01" "c" GRANT_TAIL, STORE_OK),
	ROW(REC_GRANT, GRANT_HEAD "\0\x01" "c" "\x01" "\0\x01" "s" T8 T8
	    "\x01", STORE_OK),
	/* Client flags: public, introspect, DPoP-bound, each and all. */
	ROW(REC_CLIENT, CLIENT("\x04", "\x07", CLIENT_TAIL), STORE_OK),
	ROW(REC_CLIENT, CLIENT("\x07", "\x07", CLIENT_TAIL), STORE_OK),
	/* A token with a jti, unbound (written before bindings), bound. */
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL TOKEN_JTI),
	    STORE_OK),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL TOKEN_JTI
	    "\x01" THUMB), STORE_OK),
	ROW(REC_TOKEN, TOKEN("\x02", "\0", TOKEN_MID, TOKEN_TAIL TOKEN_JTI
	    "\x01" Z32), STORE_OK),

	/* Version and type. */
	ROW(REC_CLIENT, "\x00\x01", STORE_CORRUPT),
	ROW(REC_GRANT, "\x02\x03" Z16 "\0\x01" "c" GRANT_TAIL, STORE_CORRUPT),
	ROW(REC_GRANT, "\0\x03" Z16 "\0\x01" "c" GRANT_TAIL, STORE_CORRUPT),
	ROW(REC_GRANT, "\xff\x03" Z16 "\0\x01" "c" GRANT_TAIL, STORE_CORRUPT),
	ROW(REC_GRANT, "\x01\x02" Z16 "\0\x01" "c" GRANT_TAIL, STORE_CORRUPT),
	ROW(REC_GRANT, "\x01\x04" Z16 "\0\x01" "c" GRANT_TAIL, STORE_CORRUPT),
	ROW(REC_TOKEN, GRANT_HEAD "\0\x01" "c" GRANT_TAIL, STORE_CORRUPT),
	ROW(REC_CLIENT, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL),
	    STORE_CORRUPT),
	ROW(REC_TOKEN, CLIENT("\0", "\x07", CLIENT_TAIL), STORE_CORRUPT),

	/* Trailing bytes. */
	ROW(REC_CLIENT, CLIENT("\0", "\x07", CLIENT_TAIL "\0"),
	    STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL "\0"),
	    STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL TOKEN_JTI
	    "\x01" THUMB "\0"), STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL TOKEN_JTI
	    "\x01" THUMB "\x01" THUMB), STORE_CORRUPT),
	ROW(REC_GRANT, GRANT_HEAD "\0\x01" "c" GRANT_TAIL "x", STORE_CORRUPT),

	/* Length prefixes running past the end, and empty ids. */
	ROW(REC_GRANT, GRANT_HEAD "\xff\xff" "c" GRANT_TAIL, STORE_CORRUPT),
	ROW(REC_GRANT, GRANT_HEAD "\0\x02" "c" GRANT_TAIL, STORE_CORRUPT),
	ROW(REC_GRANT, GRANT_HEAD "\0\0" GRANT_TAIL, STORE_CORRUPT),
	ROW(REC_TOKEN, "\x01\x02\x01\0" "\0\0" TOKEN_MID TOKEN_TAIL,
	    STORE_CORRUPT),
	ROW(REC_CLIENT, "\x01\x01" "\0\0" "\0" Z16 Z32 "\0\0\0\0" "\0\0\0\x07"
	    CLIENT_TAIL, STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT("\0", "\x07", "\xff\xff" "\0" "\0" T8),
	    STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", "\x01" "\x10\0" "\0\0" "\0" T8 T8,
	    TOKEN_TAIL), STORE_CORRUPT),

	/* NUL inside strings. */
	ROW(REC_GRANT, GRANT_HEAD "\0\x02" "c\0" GRANT_TAIL, STORE_CORRUPT),
	ROW(REC_GRANT, GRANT_HEAD "\0\x01" "c" "\x01" "\0\x02" "\0s" T8 T8
	    "\0", STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT("\0", "\x07", "\0\x03" "a\0b" "\0" "\0" T8),
	    STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT("\0", "\x07", "\0\0" "\x01" "\0\x01" "\0" "\0"
	    T8), STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT("\0", "\x07", "\0\0" "\0" "\x01" "\0\x01" "\0"
	    T8), STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", "\0" "\0\x02" "a\0" "\0" T8 T8,
	    TOKEN_TAIL), STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, "\0" "\x01" "\0\x01"
	    "\0" "\0"), STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, "\0" "\0" "\x01"
	    "\0\x01" "\0"), STORE_CORRUPT),

	/* Enumerations, flags and presence bytes out of range. */
	ROW(REC_TOKEN, TOKEN("\0", "\0", TOKEN_MID, TOKEN_TAIL),
	    STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x04", "\0", TOKEN_MID, TOKEN_TAIL),
	    STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\xff", "\0", TOKEN_MID, TOKEN_TAIL),
	    STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\x03", TOKEN_MID, TOKEN_TAIL),
	    STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", "\x02" "\0\0" "\0" T8 T8,
	    TOKEN_TAIL), STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", "\0" "\0\0" "\x02" T8 T8,
	    TOKEN_TAIL), STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, "\x02" Z16 "\0" "\0"),
	    STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, "\0" "\x02" "\0"),
	    STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, "\0" "\0" "\xff"),
	    STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT("\x08", "\x07", CLIENT_TAIL), STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT("\x0c", "\x07", CLIENT_TAIL), STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT("\x80", "\x07", CLIENT_TAIL), STORE_CORRUPT),
	/*
	 * The binding: unbound is written as nothing, so a bind byte of 0 is
	 * corrupt, as is one past TOKEN_BIND__MAX; a thumbprint cut short or
	 * missing; a binding without the jti tail before it.
	 */
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL TOKEN_JTI
	    "\0" THUMB), STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL TOKEN_JTI
	    "\x03" THUMB), STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL TOKEN_JTI
	    "\xff" THUMB), STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL TOKEN_JTI
	    "\x01" Z16 Z8 "\0\0\0\0\0\0\0"), STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL TOKEN_JTI
	    "\x01"), STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL TOKEN_JTI
	    "\0"), STORE_CORRUPT),
	ROW(REC_TOKEN, TOKEN("\x01", "\0", TOKEN_MID, TOKEN_TAIL "\x01"
	    THUMB), STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT("\0", "\x08", CLIENT_TAIL), STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT_HEAD_ITER("\0", "\0\0\0\0", "\x07")
	    CLIENT_TAIL, STORE_OK),
	ROW(REC_CLIENT, "\x01\x01" "\0\x01" "c" "\0" Z16 Z32 "\0\0\0\0"
	    "\x01\0\0\x07" CLIENT_TAIL, STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT("\0", "\x07", "\0\0" "\x02" "\0" T8),
	    STORE_CORRUPT),
	ROW(REC_CLIENT, CLIENT("\0", "\x07", "\0\0" "\0" "\x11" T8),
	    STORE_CORRUPT),
	ROW(REC_GRANT, GRANT_HEAD "\0\x01" "c" "\x02" T8 T8 "\0",
	    STORE_CORRUPT),
	ROW(REC_GRANT, GRANT_HEAD "\0\x01" "c" "\0" T8 T8 "\x02",
	    STORE_CORRUPT),
};

static void
test_decode_malformed(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_decodes) / sizeof(bad_decodes[0]); i++) {
		const struct bad_decode *row = &bad_decodes[i];

		check_decode(row->line, row->type, row->bytes, row->len,
		    row->want);
	}
}

/*
 * A byte writer for records whose strings are too long to write out by
 * hand: one string of each record at its limit decodes, one byte more is
 * corrupt even though every byte is present.
 */
struct writer {
	unsigned char *p;
	size_t len;
};

static void
w_bytes(struct writer *w, const void *p, size_t len)
{
	memcpy(w->p + w->len, p, len);
	w->len += len;
}

static void
w_u8(struct writer *w, unsigned v)
{
	w->p[w->len++] = (unsigned char)v;
}

static void
w_str(struct writer *w, size_t len)
{
	w_u8(w, (unsigned)(len >> 8));
	w_u8(w, (unsigned)(len & 0xff));
	memset(w->p + w->len, 'x', len);
	w->len += len;
}

struct lengths {
	int line;
	enum rec_type type;
	size_t id, subject, scope, audience, uris, uri, challenge;
	enum store_status want;
};

static const struct lengths length_rows[] = {
	{ __LINE__, REC_CLIENT, CLIENT_ID_MAX, 0, SCOPE_MAX, AUDIENCE_MAX,
	    REDIRECT_URIS_MAX, REDIRECT_URI_MAX, 0, STORE_OK },
	{ __LINE__, REC_CLIENT, CLIENT_ID_MAX + 1, 0, 1, 1, 1, 1, 0,
	    STORE_CORRUPT },
	{ __LINE__, REC_CLIENT, 1, 0, SCOPE_MAX + 1, 1, 1, 1, 0,
	    STORE_CORRUPT },
	{ __LINE__, REC_CLIENT, 1, 0, 1, AUDIENCE_MAX + 1, 1, 1, 0,
	    STORE_CORRUPT },
	{ __LINE__, REC_CLIENT, 1, 0, 1, 1, REDIRECT_URIS_MAX + 1, 1, 0,
	    STORE_CORRUPT },
	{ __LINE__, REC_CLIENT, 1, 0, 1, 1, 1, REDIRECT_URI_MAX + 1, 0,
	    STORE_CORRUPT },
	{ __LINE__, REC_TOKEN, CLIENT_ID_MAX, USERNAME_MAX, SCOPE_MAX,
	    AUDIENCE_MAX, 0, REDIRECT_URI_MAX, 128, STORE_OK },
	{ __LINE__, REC_TOKEN, CLIENT_ID_MAX + 1, 1, 1, 1, 0, 1, 1,
	    STORE_CORRUPT },
	{ __LINE__, REC_TOKEN, 1, USERNAME_MAX + 1, 1, 1, 0, 1, 1,
	    STORE_CORRUPT },
	{ __LINE__, REC_TOKEN, 1, 1, SCOPE_MAX + 1, 1, 0, 1, 1,
	    STORE_CORRUPT },
	{ __LINE__, REC_TOKEN, 1, 1, 1, AUDIENCE_MAX + 1, 0, 1, 1,
	    STORE_CORRUPT },
	{ __LINE__, REC_TOKEN, 1, 1, 1, 1, 0, REDIRECT_URI_MAX + 1, 1,
	    STORE_CORRUPT },
	{ __LINE__, REC_TOKEN, 1, 1, 1, 1, 0, 1, 129, STORE_CORRUPT },
	{ __LINE__, REC_GRANT, CLIENT_ID_MAX, USERNAME_MAX, 0, 0, 0, 0, 0,
	    STORE_OK },
	{ __LINE__, REC_GRANT, CLIENT_ID_MAX + 1, 1, 0, 0, 0, 0, 0,
	    STORE_CORRUPT },
	{ __LINE__, REC_GRANT, 1, USERNAME_MAX + 1, 0, 0, 0, 0, 0,
	    STORE_CORRUPT },
};

static void
write_record(struct writer *w, const struct lengths *row)
{
	static const unsigned char zeros[SECRET_HASH_LEN];
	size_t i;

	w_u8(w, 1);
	switch (row->type) {
	case REC_CLIENT:
		w_u8(w, 1);
		w_str(w, row->id);
		w_u8(w, 0);
		w_bytes(w, zeros, SECRET_SALT_LEN);
		w_bytes(w, zeros, SECRET_HASH_LEN);
		w_bytes(w, zeros, 4);		/* KDF iterations */
		w_bytes(w, "\0\0\0\x07", 4);
		w_str(w, row->scope);
		w_u8(w, 1);
		w_str(w, row->audience);
		w_u8(w, (unsigned)row->uris);
		for (i = 0; i < row->uris; i++)
			w_str(w, row->uri);
		w_bytes(w, zeros, 8);
		break;
	case REC_TOKEN:
		w_bytes(w, "\x02\x03\x00", 3);
		w_str(w, row->id);
		w_u8(w, 1);
		w_str(w, row->subject);
		w_str(w, row->scope);
		w_u8(w, 1);
		w_str(w, row->audience);
		w_bytes(w, zeros, 16);
		w_u8(w, 0);
		w_u8(w, 1);
		w_str(w, row->uri);
		w_u8(w, 1);
		w_str(w, row->challenge);
		break;
	case REC_GRANT:
		w_u8(w, 3);
		w_bytes(w, zeros, GRANT_ID_LEN);
		w_str(w, row->id);
		w_u8(w, 1);
		w_str(w, row->subject);
		w_bytes(w, zeros, 16);
		w_u8(w, 0);
		break;
	}
}

static void
test_decode_lengths(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(length_rows) / sizeof(length_rows[0]); i++) {
		const struct lengths *row = &length_rows[i];
		struct writer w = { malloc(64 * 1024), 0 };

		assert_non_null(w.p);
		write_record(&w, row);
		check_decode(row->line, row->type, w.p, w.len, row->want);
		free(w.p);
	}
}

static void
test_free_null(void **state)
{
	struct client c;
	struct token t;
	struct grant g;

	(void)state;
	client_free(NULL);
	token_free(NULL);
	grant_free(NULL);
	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	memset(&g, 0, sizeof(g));
	client_free(&c);
	token_free(&t);
	grant_free(&g);
	/* Freeing twice is harmless: free leaves the struct zeroed. */
	full_grant(&g);
	g.subject = repeat('a', 3);
	grant_free(&g);
	assert_null(g.subject);
	grant_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_round_trip),
		cmocka_unit_test(test_client_resources),
		cmocka_unit_test(test_client_methods),
		cmocka_unit_test(test_client_jwks),
		cmocka_unit_test(test_client_jwks_malformed),
		cmocka_unit_test(test_client_max),
		cmocka_unit_test(test_token_round_trip),
		cmocka_unit_test(test_record_tails),
		cmocka_unit_test(test_token_max),
		cmocka_unit_test(test_grant_round_trip),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_encode_appends),
		cmocka_unit_test(test_encode_invalid),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_truncated_bind),
		cmocka_unit_test(test_decode_malformed),
		cmocka_unit_test(test_decode_lengths),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
