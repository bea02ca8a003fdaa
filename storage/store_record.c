/*
 * The binary records kept as LMDB values.  Every record starts with two
 * bytes, the format version and the record type, so that a later version
 * can read what an earlier one wrote and nothing is mistaken for another
 * kind.  Integers are big-endian and fixed-width; times are two's-complement
 * int64; strings are a u16 length followed by that many bytes, no NUL; an
 * optional string is a presence byte (0 or 1) followed, when 1, by a string.
 *
 *   client: ver type | id | flags u8 | salt[16] | hash[32] | iterations u32
 *           | grant_types u32 | scope | ?audience | n u8 | n x redirect_uri
 *           | created_at i64 | [token_format u8, when not the default or
 *              a tail follows [n u8 | n x resource, when there are any or
 *              a tail follows [jwks ("" when the client has none), when it
 *              has keys or a tail follows [tls u8 | tls_value unless tls
 *              is 0, when it has a TLS method or [registration[32], when
 *              it registered itself]]]]]
 *   token:  ver type | kind u8 | state u8 | client_id | ?subject | scope
 *           | ?audience | issued_at i64 | expires_at i64 | has_grant u8
 *           | [grant_id[16] when has_grant] | ?redirect_uri | ?code_challenge
 *           | [1 u8 | jti[16] | ?nonce | auth_time i64, when it has a jti
 *              [bind u8 | thumbprint[32], when it is bound]]
 *   grant:  ver type | id[16] | client_id | ?subject | created_at i64
 *           | expires_at i64 | revoked u8
 *           | [1 u8 | ?claims | auth_time i64, when either is set]
 *
 *   key:    ver type | kid | alg u8 | pem | jwk | created_at i64
 *           | sign_from i64 | retired_at i64 | drop_at i64
 *
 * The bracketed tails came later: a record written before them ends where
 * they begin and reads as it always did, and one that needs neither is
 * written without, so the encoding stays canonical.
 *
 * The encoding is canonical: every byte string a decoder accepts is exactly
 * what the encoder writes for the decoded struct.  The decoders treat their
 * input as hostile (a damaged or foreign map) and never read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define STORE_RECORD_VERSION 1

#define STORE_RECORD_CLIENT 1
#define STORE_RECORD_TOKEN 2
#define STORE_RECORD_GRANT 3
#define STORE_RECORD_KEY 4

#define STORE_RECORD_CLIENT_PUBLIC 0x01u
#define STORE_RECORD_CLIENT_INTROSPECT 0x02u
#define STORE_RECORD_CLIENT_DPOP 0x04u

/*
 * An S256 challenge is 43 characters (RFC 7636 §4.2); the bound leaves room
 * for a verifier-sized value (RFC 7636 §4.1: at most 128).
 */

/* Output under construction: after the first failure every put is a no-op. */
struct store_record_out {
	struct buf *b;
	size_t start;
	int failed;
};

/* Input being consumed: after the first failure every get returns zero. */
struct store_record_in {
	const unsigned char *p;
	size_t left;
	enum store_status status;
};

static void store_record_put(struct store_record_out *, const void *, size_t);
static void store_record_put_u8(struct store_record_out *, unsigned);
static void store_record_put_u16(struct store_record_out *, size_t);
static void store_record_put_u32(struct store_record_out *, uint32_t);
static void store_record_put_i64(struct store_record_out *, int64_t);
static void store_record_put_str(struct store_record_out *, const char *);
static void store_record_put_opt(struct store_record_out *, const char *);
static enum store_status store_record_finish(struct store_record_out *);
static const unsigned char *store_record_get(struct store_record_in *,
    size_t);
static unsigned store_record_get_u8(struct store_record_in *);
static unsigned store_record_get_bool(struct store_record_in *);
static size_t store_record_get_u16(struct store_record_in *);
static uint32_t store_record_get_u32(struct store_record_in *);
static int64_t store_record_get_i64(struct store_record_in *);
static void store_record_get_id(struct store_record_in *, char *, size_t);
static char *store_record_get_str(struct store_record_in *, size_t);
static char *store_record_get_opt(struct store_record_in *, size_t);
static void store_record_header(struct store_record_in *, unsigned);
static enum store_status store_record_end(struct store_record_in *);

static void
store_record_put(struct store_record_out *o, const void *p, size_t len)
{
	if (o->failed || len == 0)
		return;
	if (buf_append(o->b, p, len) == -1)
		o->failed = 1;
}

static void
store_record_put_u8(struct store_record_out *o, unsigned v)
{
	unsigned char c = (unsigned char)v;

	store_record_put(o, &c, 1);
}

static void
store_record_put_u16(struct store_record_out *o, size_t v)
{
	unsigned char c[2];

	c[0] = (unsigned char)(v >> 8);
	c[1] = (unsigned char)v;
	store_record_put(o, c, sizeof(c));
}

static void
store_record_put_u32(struct store_record_out *o, uint32_t v)
{
	unsigned char c[4];
	size_t i;

	for (i = 0; i < sizeof(c); i++)
		c[i] = (unsigned char)(v >> (8 * (sizeof(c) - 1 - i)));
	store_record_put(o, c, sizeof(c));
}

static void
store_record_put_i64(struct store_record_out *o, int64_t v)
{
	uint64_t u = (uint64_t)v;	/* well defined: modulo 2^64 */
	unsigned char c[8];
	size_t i;

	for (i = 0; i < sizeof(c); i++)
		c[i] = (unsigned char)(u >> (8 * (sizeof(c) - 1 - i)));
	store_record_put(o, c, sizeof(c));
}

/* The caller has checked the length with store_record_str_ok. */
static void
store_record_put_str(struct store_record_out *o, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	store_record_put_u16(o, len);
	store_record_put(o, s, len);
}

static void
store_record_put_opt(struct store_record_out *o, const char *s)
{
	store_record_put_u8(o, s != NULL);
	if (s != NULL)
		store_record_put_str(o, s);
}

/*
 * Ends an encoding: on allocation failure the buffer gets back the length
 * it had when the encoding began and STORE_NOMEM is returned.
 */
static enum store_status
store_record_finish(struct store_record_out *o)
{
	if (!o->failed)
		return STORE_OK;
	o->b->len = o->start;
	if (o->b->data != NULL)
		o->b->data[o->start] = '\0';
	return STORE_NOMEM;
}

/*
 * Takes len bytes off the input, or marks it corrupt and returns NULL when
 * fewer are left.
 */
static const unsigned char *
store_record_get(struct store_record_in *in, size_t len)
{
	const unsigned char *p;

	if (in->status != STORE_OK)
		return NULL;
	if (len > in->left) {
		in->status = STORE_CORRUPT;
		return NULL;
	}
	p = in->p;
	in->p += len;
	in->left -= len;
	return p;
}

static unsigned
store_record_get_u8(struct store_record_in *in)
{
	const unsigned char *p = store_record_get(in, 1);

	return p != NULL ? p[0] : 0;
}

/* A flag byte: anything but 0 or 1 is corrupt, which keeps it canonical. */
static unsigned
store_record_get_bool(struct store_record_in *in)
{
	unsigned v = store_record_get_u8(in);

	if (v > 1) {
		in->status = STORE_CORRUPT;
		return 0;
	}
	return v;
}

static size_t
store_record_get_u16(struct store_record_in *in)
{
	const unsigned char *p = store_record_get(in, 2);

	return p != NULL ? ((size_t)p[0] << 8 | p[1]) : 0;
}

static uint32_t
store_record_get_u32(struct store_record_in *in)
{
	const unsigned char *p = store_record_get(in, 4);
	uint32_t v = 0;
	size_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i < 4; i++)
		v = v << 8 | p[i];
	return v;
}

static int64_t
store_record_get_i64(struct store_record_in *in)
{
	const unsigned char *p = store_record_get(in, 8);
	uint64_t u = 0;
	size_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i < 8; i++)
		u = u << 8 | p[i];
	/* Converting an out-of-range value to int64_t is not portable. */
	if (u > (uint64_t)INT64_MAX)
		return -(int64_t)(UINT64_MAX - u) - 1;
	return (int64_t)u;
}

/*
 * Reads a client id (1 to max bytes, no NUL) into the array out of max + 1
 * bytes.
 */
static void
store_record_get_id(struct store_record_in *in, char *out, size_t max)
{
	size_t len = store_record_get_u16(in);
	const unsigned char *p;

	if (in->status != STORE_OK)
		return;
	if (len == 0 || len > max) {
		in->status = STORE_CORRUPT;
		return;
	}
	if ((p = store_record_get(in, len)) == NULL)
		return;
	if (memchr(p, '\0', len) != NULL) {
		in->status = STORE_CORRUPT;
		return;
	}
	memcpy(out, p, len);
	out[len] = '\0';
}

/*
 * Reads a string of at most max bytes into a new NUL-terminated copy.
 * Returns NULL after marking the input corrupt (too long, truncated, NUL
 * inside) or out of memory.
 */
static char *
store_record_get_str(struct store_record_in *in, size_t max)
{
	size_t len = store_record_get_u16(in);
	const unsigned char *p;
	char *s;

	if (in->status != STORE_OK)
		return NULL;
	if (len > max) {
		in->status = STORE_CORRUPT;
		return NULL;
	}
	if ((p = store_record_get(in, len)) == NULL)
		return NULL;
	if (memchr(p, '\0', len) != NULL) {
		in->status = STORE_CORRUPT;
		return NULL;
	}
	if ((s = malloc(len + 1)) == NULL) {
		in->status = STORE_NOMEM;
		return NULL;
	}
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static char *
store_record_get_opt(struct store_record_in *in, size_t max)
{
	if (!store_record_get_bool(in))
		return NULL;
	return store_record_get_str(in, max);
}

static void
store_record_header(struct store_record_in *in, unsigned type)
{
	if (store_record_get_u8(in) != STORE_RECORD_VERSION ||
	    store_record_get_u8(in) != type)
		in->status = STORE_CORRUPT;
}

/* A record followed by anything is not one we wrote. */
static enum store_status
store_record_end(struct store_record_in *in)
{
	if (in->status == STORE_OK && in->left != 0)
		in->status = STORE_CORRUPT;
	return in->status;
}

/*
 * Appends the record of c to b.  Returns STORE_INVALID, with b untouched,
 * when c breaks a limit: an id empty or longer than CLIENT_ID_MAX, unknown
 * grant type bits, an over-long scope, audience or redirect URI, more than
 * REDIRECT_URIS_MAX redirect URIs or a NULL among them.  A NULL scope is
 * written as "".  Returns STORE_NOMEM, with b as it was, when memory runs out.
 */
enum store_status
store_record_client_encode(const struct client *c, struct buf *b)
{
	struct store_record_out o = { b, b->len, 0 };
	enum store_status st;
	unsigned flags = 0;
	size_t i;
	int tls;

	if ((st = store_client_check(c)) != STORE_OK)
		return st;

	if (c->is_public)
		flags |= STORE_RECORD_CLIENT_PUBLIC;
	if (c->may_introspect)
		flags |= STORE_RECORD_CLIENT_INTROSPECT;
	if (c->dpop_bound)
		flags |= STORE_RECORD_CLIENT_DPOP;

	store_record_put_u8(&o, STORE_RECORD_VERSION);
	store_record_put_u8(&o, STORE_RECORD_CLIENT);
	store_record_put_str(&o, c->id);
	store_record_put_u8(&o, flags);
	store_record_put(&o, c->secret_salt, sizeof(c->secret_salt));
	store_record_put(&o, c->secret_hash, sizeof(c->secret_hash));
	store_record_put_u32(&o, c->secret_iterations);
	store_record_put_u32(&o, c->grant_types);
	store_record_put_str(&o, c->scope);
	store_record_put_opt(&o, c->audience);
	store_record_put_u8(&o, (unsigned)c->redirect_uri_count);
	for (i = 0; i < c->redirect_uri_count; i++)
		store_record_put_str(&o, c->redirect_uris[i]);
	store_record_put_i64(&o, c->created_at);
	tls = c->tls_auth != CLIENT_TLS_NONE || c->has_registration;
	if (c->token_format != CLIENT_TOKEN_DEFAULT || c->resource_count > 0 ||
	    c->jwks != NULL || tls)
		store_record_put_u8(&o, (unsigned)c->token_format);
	if (c->resource_count > 0 || c->jwks != NULL || tls) {
		store_record_put_u8(&o, (unsigned)c->resource_count);
		for (i = 0; i < c->resource_count; i++)
			store_record_put_str(&o, c->resources[i]);
	}
	if (c->jwks != NULL || tls)
		store_record_put_str(&o, c->jwks != NULL ? c->jwks : "");
	if (tls) {
		store_record_put_u8(&o, (unsigned)c->tls_auth);
		if (c->tls_auth != CLIENT_TLS_NONE)
			store_record_put_str(&o, c->tls_value);
	}
	if (c->has_registration)
		store_record_put(&o, c->registration_hash,
		    sizeof(c->registration_hash));
	return store_record_finish(&o);
}

/*
 * Decodes the len bytes at p into *c, which the caller owns afterwards and
 * releases with client_free; *c is overwritten, not freed.  Returns
 * STORE_CORRUPT for anything the encoder would not have written and
 * STORE_NOMEM when memory runs out; on either, *c is left zeroed.
 */
enum store_status
store_record_client_decode(const void *p, size_t len, struct client *c)
{
	struct store_record_in in = { p, len, STORE_OK };
	unsigned flags;
	const unsigned char *bytes;
	size_t i, n;

	memset(c, 0, sizeof(*c));
	store_record_header(&in, STORE_RECORD_CLIENT);
	store_record_get_id(&in, c->id, CLIENT_ID_MAX);
	flags = store_record_get_u8(&in);
	if ((flags & ~(STORE_RECORD_CLIENT_PUBLIC |
	    STORE_RECORD_CLIENT_INTROSPECT | STORE_RECORD_CLIENT_DPOP)) != 0)
		in.status = STORE_CORRUPT;
	c->is_public = (flags & STORE_RECORD_CLIENT_PUBLIC) != 0;
	c->may_introspect = (flags & STORE_RECORD_CLIENT_INTROSPECT) != 0;
	c->dpop_bound = (flags & STORE_RECORD_CLIENT_DPOP) != 0;
	if ((bytes = store_record_get(&in, sizeof(c->secret_salt))) != NULL)
		memcpy(c->secret_salt, bytes, sizeof(c->secret_salt));
	if ((bytes = store_record_get(&in, sizeof(c->secret_hash))) != NULL)
		memcpy(c->secret_hash, bytes, sizeof(c->secret_hash));
	c->secret_iterations = store_record_get_u32(&in);
	if (c->secret_iterations > SECRET_KDF_ITERATIONS_MAX)
		in.status = STORE_CORRUPT;
	c->grant_types = store_record_get_u32(&in);
	if ((c->grant_types & ~GRANT_ALL) != 0)
		in.status = STORE_CORRUPT;
	c->scope = store_record_get_str(&in, SCOPE_MAX);
	c->audience = store_record_get_opt(&in, AUDIENCE_MAX);
	n = store_record_get_u8(&in);
	if (n > REDIRECT_URIS_MAX)
		in.status = STORE_CORRUPT;
	for (i = 0; i < n && in.status == STORE_OK; i++) {
		c->redirect_uris[i] = store_record_get_str(&in,
		    REDIRECT_URI_MAX);
		c->redirect_uri_count = i + 1;
	}
	c->created_at = store_record_get_i64(&in);
	if (in.status == STORE_OK && in.left > 0) {
		n = store_record_get_u8(&in);
		/* The default is written only before resources: canonical. */
		if (n >= CLIENT_TOKEN__MAX ||
		    (n == CLIENT_TOKEN_DEFAULT && in.left == 0))
			in.status = STORE_CORRUPT;
		else
			c->token_format = (enum client_token_format)n;
	}
	if (in.status == STORE_OK && in.left > 0) {
		n = store_record_get_u8(&in);
		/* None written only before keys: canonical. */
		if ((n == 0 && in.left == 0) || n > RESOURCES_MAX)
			in.status = STORE_CORRUPT;
		for (i = 0; i < n && in.status == STORE_OK; i++) {
			c->resources[i] = store_record_get_str(&in,
			    AUDIENCE_MAX);
			c->resource_count = i + 1;
			if (c->resources[i] != NULL &&
			    c->resources[i][0] == '\0')
				in.status = STORE_CORRUPT;
		}
	}
	if (in.status == STORE_OK && in.left > 0) {
		c->jwks = store_record_get_str(&in, STORE_JWKS_MAX);
		/* "" stands for none only before a TLS method: canonical. */
		if (c->jwks != NULL && c->jwks[0] == '\0' && in.left > 0) {
			free(c->jwks);
			c->jwks = NULL;
		} else if (c->jwks != NULL && (c->jwks[0] == '\0' ||
		    c->is_public))
			in.status = STORE_CORRUPT;
	}
	if (in.status == STORE_OK && in.left > 0) {
		n = store_record_get_u8(&in);
		/* None written only before a registration: canonical. */
		if (n >= CLIENT_TLS__MAX ||
		    (n == CLIENT_TLS_NONE && in.left != sizeof(
		    c->registration_hash)))
			in.status = STORE_CORRUPT;
		else
			c->tls_auth = (enum client_tls_auth)n;
		if (in.status == STORE_OK && n != CLIENT_TLS_NONE) {
			c->tls_value = store_record_get_str(&in,
			    CLIENT_TLS_VALUE_MAX);
			if (c->tls_value != NULL && (c->tls_value[0] == '\0' ||
			    c->is_public || c->jwks != NULL))
				in.status = STORE_CORRUPT;
		}
	}
	if (in.status == STORE_OK && in.left > 0) {
		if ((bytes = store_record_get(&in,
		    sizeof(c->registration_hash))) != NULL) {
			memcpy(c->registration_hash, bytes,
			    sizeof(c->registration_hash));
			c->has_registration = 1;
		}
	}
	if (store_record_end(&in) != STORE_OK)
		client_free(c);
	return in.status;
}

/*
 * Appends the record of t to b.  Returns STORE_INVALID, with b untouched,
 * for an unknown kind or state, a client id empty or over CLIENT_ID_MAX, or
 * an over-long subject, scope, audience, redirect URI or code challenge.  A
 * NULL scope is written as "".  Returns STORE_NOMEM, with b as it was, when
 * memory runs out.
 */
enum store_status
store_record_token_encode(const struct token *t, struct buf *b)
{
	struct store_record_out o = { b, b->len, 0 };
	enum store_status st;

	/* Through unsigned, so that a negative value is out of range too. */
	if ((st = store_token_check(t)) != STORE_OK)
		return st;

	store_record_put_u8(&o, STORE_RECORD_VERSION);
	store_record_put_u8(&o, STORE_RECORD_TOKEN);
	store_record_put_u8(&o, (unsigned)t->kind);
	store_record_put_u8(&o, (unsigned)t->state);
	store_record_put_str(&o, t->client_id);
	store_record_put_opt(&o, t->subject);
	store_record_put_str(&o, t->scope);
	store_record_put_opt(&o, t->audience);
	store_record_put_i64(&o, t->issued_at);
	store_record_put_i64(&o, t->expires_at);
	store_record_put_u8(&o, t->has_grant != 0);
	if (t->has_grant)
		store_record_put(&o, t->grant_id, sizeof(t->grant_id));
	store_record_put_opt(&o, t->redirect_uri);
	store_record_put_opt(&o, t->code_challenge);
	if (t->has_jti) {
		store_record_put_u8(&o, 1);
		store_record_put(&o, t->jti, sizeof(t->jti));
		store_record_put_opt(&o, t->nonce);
		store_record_put_i64(&o, t->auth_time);
		if (t->bind != TOKEN_BIND_NONE) {
			store_record_put_u8(&o, (unsigned)t->bind);
			store_record_put(&o, t->bind_thumbprint,
			    sizeof(t->bind_thumbprint));
		}
	}
	return store_record_finish(&o);
}

/*
 * Decodes the len bytes at p into *t, owned by the caller afterwards and
 * released with token_free; *t is overwritten, not freed.  grant_id is zero
 * when has_grant is not set.  Returns STORE_CORRUPT or STORE_NOMEM, with *t
 * zeroed, as store_record_client_decode does.
 */
enum store_status
store_record_token_decode(const void *p, size_t len, struct token *t)
{
	struct store_record_in in = { p, len, STORE_OK };
	const unsigned char *bytes;
	unsigned kind, state;

	memset(t, 0, sizeof(*t));
	store_record_header(&in, STORE_RECORD_TOKEN);
	kind = store_record_get_u8(&in);
	state = store_record_get_u8(&in);
	if (kind < TOKEN_ACCESS || kind >= TOKEN_KIND__MAX ||
	    state >= TOKEN_STATE__MAX)
		in.status = STORE_CORRUPT;
	else {
		t->kind = (enum token_kind)kind;
		t->state = (enum token_state)state;
	}
	store_record_get_id(&in, t->client_id, CLIENT_ID_MAX);
	t->subject = store_record_get_opt(&in, USERNAME_MAX);
	t->scope = store_record_get_str(&in, SCOPE_MAX);
	t->audience = store_record_get_opt(&in, AUDIENCE_MAX);
	t->issued_at = store_record_get_i64(&in);
	t->expires_at = store_record_get_i64(&in);
	t->has_grant = (int)store_record_get_bool(&in);
	if (t->has_grant &&
	    (bytes = store_record_get(&in, sizeof(t->grant_id))) != NULL)
		memcpy(t->grant_id, bytes, sizeof(t->grant_id));
	t->redirect_uri = store_record_get_opt(&in, REDIRECT_URI_MAX);
	t->code_challenge = store_record_get_opt(&in,
	    STORE_CHALLENGE_MAX);
	if (in.status == STORE_OK && in.left > 0) {
		if (store_record_get_u8(&in) != 1)
			in.status = STORE_CORRUPT;
		t->has_jti = 1;
		if ((bytes = store_record_get(&in, sizeof(t->jti))) != NULL)
			memcpy(t->jti, bytes, sizeof(t->jti));
		t->nonce = store_record_get_opt(&in, STORE_NONCE_MAX);
		t->auth_time = store_record_get_i64(&in);
	}
	if (in.status == STORE_OK && in.left > 0) {
		/* Unbound is written as nothing: canonical. */
		kind = store_record_get_u8(&in);
		if (kind == TOKEN_BIND_NONE || kind >= TOKEN_BIND__MAX)
			in.status = STORE_CORRUPT;
		else
			t->bind = (enum token_bind)kind;
		if ((bytes = store_record_get(&in,
		    sizeof(t->bind_thumbprint))) != NULL)
			memcpy(t->bind_thumbprint, bytes,
			    sizeof(t->bind_thumbprint));
	}
	if (store_record_end(&in) != STORE_OK)
		token_free(t);
	return in.status;
}

/*
 * Appends the record of g to b.  Returns STORE_INVALID, with b untouched,
 * for a client id empty or over CLIENT_ID_MAX or a subject over
 * USERNAME_MAX, and STORE_NOMEM, with b as it was, when memory runs out.
 */
enum store_status
store_record_grant_encode(const struct grant *g, struct buf *b)
{
	struct store_record_out o = { b, b->len, 0 };
	enum store_status st;

	if ((st = store_grant_check(g)) != STORE_OK)
		return st;

	store_record_put_u8(&o, STORE_RECORD_VERSION);
	store_record_put_u8(&o, STORE_RECORD_GRANT);
	store_record_put(&o, g->id, sizeof(g->id));
	store_record_put_str(&o, g->client_id);
	store_record_put_opt(&o, g->subject);
	store_record_put_i64(&o, g->created_at);
	store_record_put_i64(&o, g->expires_at);
	store_record_put_u8(&o, g->revoked != 0);
	if (g->claims != NULL || g->auth_time != 0) {
		store_record_put_u8(&o, 1);
		store_record_put_opt(&o, g->claims);
		store_record_put_i64(&o, g->auth_time);
	}
	return store_record_finish(&o);
}

/*
 * Decodes the len bytes at p into *g, owned by the caller afterwards and
 * released with grant_free; *g is overwritten, not freed.  Returns
 * STORE_CORRUPT or STORE_NOMEM, with *g zeroed, as
 * store_record_client_decode does.
 */
enum store_status
store_record_grant_decode(const void *p, size_t len, struct grant *g)
{
	struct store_record_in in = { p, len, STORE_OK };
	const unsigned char *bytes;

	memset(g, 0, sizeof(*g));
	store_record_header(&in, STORE_RECORD_GRANT);
	if ((bytes = store_record_get(&in, sizeof(g->id))) != NULL)
		memcpy(g->id, bytes, sizeof(g->id));
	store_record_get_id(&in, g->client_id, CLIENT_ID_MAX);
	g->subject = store_record_get_opt(&in, USERNAME_MAX);
	g->created_at = store_record_get_i64(&in);
	g->expires_at = store_record_get_i64(&in);
	g->revoked = (int)store_record_get_bool(&in);
	if (in.status == STORE_OK && in.left > 0) {
		if (store_record_get_u8(&in) != 1)
			in.status = STORE_CORRUPT;
		g->claims = store_record_get_opt(&in, STORE_CLAIMS_MAX);
		g->auth_time = store_record_get_i64(&in);
		/* A tail that holds nothing is not what the encoder writes. */
		if (g->claims == NULL && g->auth_time == 0)
			in.status = STORE_CORRUPT;
	}
	if (store_record_end(&in) != STORE_OK)
		grant_free(g);
	return in.status;
}

/*
 * Appends the record of k to b.  Returns STORE_INVALID, with b untouched,
 * for a kid that is not JOSE_KID_LEN bytes, an unknown alg, an empty or
 * over-long PEM or JWK; STORE_NOMEM, with b as it was, when memory runs
 * out.  b then holds a private key: the caller wipes it.
 */
enum store_status
store_record_key_encode(const struct key *k, struct buf *b)
{
	struct store_record_out o = { b, b->len, 0 };
	enum store_status st;

	if ((st = store_key_check(k)) != STORE_OK)
		return st;
	store_record_put_u8(&o, STORE_RECORD_VERSION);
	store_record_put_u8(&o, STORE_RECORD_KEY);
	store_record_put_str(&o, k->kid);
	store_record_put_u8(&o, (unsigned)k->alg);
	store_record_put_str(&o, k->pem);
	store_record_put_str(&o, k->jwk);
	store_record_put_i64(&o, k->created_at);
	store_record_put_i64(&o, k->sign_from);
	store_record_put_i64(&o, k->retired_at);
	store_record_put_i64(&o, k->drop_at);
	return store_record_finish(&o);
}

/*
 * Decodes the len bytes at p into *k, owned by the caller afterwards and
 * released with key_free.  Returns STORE_CORRUPT or STORE_NOMEM, with *k
 * zeroed, as store_record_client_decode does.
 */
enum store_status
store_record_key_decode(const void *p, size_t len, struct key *k)
{
	struct store_record_in in = { p, len, STORE_OK };
	unsigned alg;

	memset(k, 0, sizeof(*k));
	store_record_header(&in, STORE_RECORD_KEY);
	store_record_get_id(&in, k->kid, JOSE_KID_LEN);
	if (in.status == STORE_OK && strlen(k->kid) != JOSE_KID_LEN)
		in.status = STORE_CORRUPT;
	alg = store_record_get_u8(&in);
	if (alg >= JOSE_ALG__MAX)
		in.status = STORE_CORRUPT;
	k->alg = (enum jose_alg)(alg < JOSE_ALG__MAX ? alg : 0);
	k->pem = store_record_get_str(&in, JOSE_PEM_MAX);
	k->jwk = store_record_get_str(&in, STORE_JWK_MAX);
	k->created_at = store_record_get_i64(&in);
	k->sign_from = store_record_get_i64(&in);
	k->retired_at = store_record_get_i64(&in);
	k->drop_at = store_record_get_i64(&in);
	if (in.status == STORE_OK && (k->pem[0] == '\0' || strlen(k->jwk) < 2))
		in.status = STORE_CORRUPT;
	if (store_record_end(&in) != STORE_OK)
		key_free(k);
	return in.status;
}
