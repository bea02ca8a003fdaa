/*
 * The storage contract (storage/store.h), as every backend keeps it: each
 * test runs once on LMDB, once on LMDB opened for threads
 * (STORE_OPEN_THREADS: writes through the committer of store_group.c)
 * and, when OAUTH_TEST_PG names a maintenance database, once on
 * PostgreSQL, on a fresh database each time.  Records
 * through put, get, delete and walks; limits; transactions that abort or
 * fail leaving nothing behind; what one process commits seen by the next
 * transaction of another; revocation, purge, stats and scopes; records
 * that do not decode; a code or refresh token spent exactly once by
 * processes racing for it, and a token or grant a write transaction got
 * kept from every other writer until it ends; single-use values
 * (store_seen_put) taken exactly once the same way, swept and purged
 * once expired; tokens bound to a DPoP key.
 *
 * A test that forks closes its store first, or leaves it unused in the
 * children: every child opens the database itself (store.h: a store is
 * used only by the process that opened it).
 *
 *   test_store_contract [GLOB]   a cmocka name glob; without a ':' in
 *                                it, it matches the name on every backend
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "store_fixture.h"

#define SPEND_ROUNDS 20		/* rounds of the race to spend a code */
#define SPEND_RACERS 6		/* processes racing in each round */

static void
test_backend(void **state)
{
	struct sfx *f = *state;

	assert_string_equal(store_backend_name(f->store),
	    f->backend == SFX_PG ? "postgresql" : "lmdb");
	assert_string_equal(store_detail(f->store), "");
	if (f->backend == SFX_PG) {
		assert_int_equal(store_map_size(f->store), 0);
		assert_int_equal(store_map_grow(f->store), STORE_INVALID);
	} else
		assert_true(store_map_size(f->store) > 0);
}

static void
test_reopen(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct client c;

	make_client(&c, "kept");
	t = begin(f->store, 1);
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	store_close(f->store);
	f->store = NULL;

	/* An existing database opens without create; data survives. */
	assert_int_equal(store_open(f->db, 4 * 1024 * 1024, sfx_flags, &f->store,
	    NULL, 0), STORE_OK);
	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "kept", &c), STORE_OK);
	assert_string_equal(c.scope, "read");
	client_free(&c);
	store_txn_abort(t);
}

static void
test_client_crud(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct client c, got;
	char longid[CLIENT_ID_MAX + 2];

	make_client(&c, "app");
	t = begin(f->store, 1);
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	c.scope = "other";
	assert_int_equal(store_client_put(t, &c, 0), STORE_EXISTS);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	/* EXISTS changed nothing; the transaction still committed. */
	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "app", &got), STORE_OK);
	assert_string_equal(got.id, "app");
	assert_string_equal(got.scope, "read");
	assert_string_equal(got.redirect_uris[0], "https://app.example.com/cb");
	assert_int_equal(got.redirect_uri_count, 1);
	assert_memory_equal(got.secret_hash, c.secret_hash, SECRET_HASH_LEN);
	client_free(&got);
	assert_int_equal(store_client_get(t, "ap", &got), STORE_NOTFOUND);
	assert_int_equal(store_client_get(t, "", &got), STORE_NOTFOUND);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(store_client_get(t, longid, &got), STORE_NOTFOUND);
	assert_null(got.scope);
	/* Writes in a read transaction are refused. */
	assert_int_equal(store_client_put(t, &c, 1), STORE_INVALID);
	assert_int_equal(store_client_delete(t, "app"), STORE_INVALID);
	store_txn_abort(t);

	t = begin(f->store, 1);
	assert_int_equal(store_client_put(t, &c, 1), STORE_OK);
	assert_int_equal(store_client_get(t, "app", &got), STORE_OK);
	assert_string_equal(got.scope, "other");
	client_free(&got);
	/* A client breaking a limit is refused whole. */
	c.grant_types = 0x80;
	assert_int_equal(store_client_put(t, &c, 1), STORE_INVALID);
	assert_int_equal(store_client_delete(t, "app"), STORE_OK);
	assert_int_equal(store_client_delete(t, "app"), STORE_NOTFOUND);
	assert_int_equal(store_client_get(t, "app", &got), STORE_NOTFOUND);
	assert_int_equal(store_txn_commit(t), STORE_OK);
}

/* Every field of a client, public and with several redirect URIs. */
static void
test_client_fields(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct client c, got;

	make_client(&c, "spa");
	c.is_public = 1;
	memset(c.secret_hash, 0, sizeof(c.secret_hash));
	c.grant_types = GRANT_AUTHORIZATION_CODE | GRANT_REFRESH_TOKEN;
	c.may_introspect = 1;
	c.scope = "openid profile";
	c.audience = "https://api.example";
	c.redirect_uris[1] = "https://spa.example/b";
	c.redirect_uris[2] = "http://127.0.0.1/c";
	c.redirect_uri_count = 3;
	c.secret_iterations = 1000;
	c.token_format = CLIENT_TOKEN_JWT;
	t = begin(f->store, 1);
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "spa", &got), STORE_OK);
	assert_true(got.is_public);
	assert_int_equal(got.grant_types, c.grant_types);
	assert_true(got.may_introspect);
	assert_string_equal(got.scope, "openid profile");
	assert_string_equal(got.audience, "https://api.example");
	assert_int_equal(got.redirect_uri_count, 3);
	assert_string_equal(got.redirect_uris[2], "http://127.0.0.1/c");
	assert_null(got.redirect_uris[3]);
	assert_int_equal(got.secret_iterations, 1000);
	assert_int_equal(got.token_format, CLIENT_TOKEN_JWT);
	assert_true(got.created_at == UNIT_NOW);
	client_free(&got);
	store_txn_abort(t);
}

/*
 * A client's dpop_bound_access_tokens (RFC 9449 §5.2) survives put and
 * get, alone and beside the other flags, each flag its own; a put
 * replacing the client clears it.
 */
static void
test_client_dpop(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct client c, got;

	t = begin(f->store, 1);
	make_client(&c, "dpop");
	c.dpop_bound = 1;
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	make_client(&c, "all");
	c.dpop_bound = 1;
	c.is_public = 1;
	memset(c.secret_hash, 0, sizeof(c.secret_hash));
	c.may_introspect = 1;
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	make_client(&c, "plain");
	c.is_public = 1;
	memset(c.secret_hash, 0, sizeof(c.secret_hash));
	c.may_introspect = 1;
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "dpop", &got), STORE_OK);
	assert_true(got.dpop_bound);
	assert_false(got.is_public);
	assert_false(got.may_introspect);
	client_free(&got);
	assert_int_equal(store_client_get(t, "all", &got), STORE_OK);
	assert_true(got.dpop_bound);
	assert_true(got.is_public);
	assert_true(got.may_introspect);
	client_free(&got);
	assert_int_equal(store_client_get(t, "plain", &got), STORE_OK);
	assert_false(got.dpop_bound);
	assert_true(got.is_public);
	client_free(&got);
	store_txn_abort(t);

	t = begin(f->store, 1);
	make_client(&c, "dpop");
	assert_int_equal(store_client_put(t, &c, 1), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "dpop", &got), STORE_OK);
	assert_false(got.dpop_bound);
	client_free(&got);
	store_txn_abort(t);
}

/* A JWK Set of one Ed25519 key (RFC 8037 Appendix A.2). */
#define JWKS_ONE "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\"," \
	"\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}"

static char long_jwks[STORE_JWKS_MAX + 2];

/* A string of n bytes, n at most sizeof(long_jwks) - 1. */
static char *
long_jwks_string(size_t n)
{
	assert_true(n < sizeof(long_jwks));
	memset(long_jwks, 'k', n);
	long_jwks[n] = '\0';
	return long_jwks;
}

/* The keys a walk saw of client "keys", into the strdup'd *arg. */
static enum store_each
record_jwks(const struct client *c, void *arg)
{
	char **seen = arg;

	if (strcmp(c->id, "keys") == 0 && c->jwks != NULL) {
		free(*seen);
		*seen = strdup(c->jwks);
	}
	return STORE_EACH_NEXT;
}

/*
 * A client's registered keys (private_key_jwt) survive put and get, and
 * a walk, beside resources and a token format, at STORE_JWKS_MAX bytes,
 * and beside a registration; a put replacing the client without them
 * drops them.  A public client with keys, empty keys, and keys over
 * STORE_JWKS_MAX bytes are refused (STORE_INVALID), nothing written.
 */
static void
test_client_jwks(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct client c, got;
	char *seen = NULL;

	t = begin(f->store, 1);
	make_client(&c, "keys");
	c.jwks = JWKS_ONE;
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	make_client(&c, "keys-more");
	c.jwks = JWKS_ONE;
	c.token_format = CLIENT_TOKEN_JWT;
	c.resources[0] = "https://mcp.example/";
	c.resource_count = 1;
	c.has_registration = 1;
	memset(c.registration_hash, 0x5a, sizeof(c.registration_hash));
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	make_client(&c, "keys-max");
	c.jwks = long_jwks_string(STORE_JWKS_MAX);
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	make_client(&c, "no-keys");
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);

	/* Refused whole: nothing of them is written. */
	make_client(&c, "bad-public");
	c.is_public = 1;
	memset(c.secret_hash, 0, sizeof(c.secret_hash));
	c.jwks = JWKS_ONE;
	assert_int_equal(store_client_put(t, &c, 0), STORE_INVALID);
	make_client(&c, "bad-empty");
	c.jwks = "";
	assert_int_equal(store_client_put(t, &c, 0), STORE_INVALID);
	make_client(&c, "bad-long");
	c.jwks = long_jwks_string(STORE_JWKS_MAX + 1);
	assert_int_equal(store_client_put(t, &c, 0), STORE_INVALID);
	make_client(&c, "keys");
	c.is_public = 1;
	memset(c.secret_hash, 0, sizeof(c.secret_hash));
	c.jwks = JWKS_ONE;
	assert_int_equal(store_client_put(t, &c, 1), STORE_INVALID);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "keys", &got), STORE_OK);
	assert_string_equal(got.jwks, JWKS_ONE);
	assert_false(got.is_public);
	assert_int_equal(got.token_format, CLIENT_TOKEN_DEFAULT);
	assert_int_equal(got.resource_count, 0);
	client_free(&got);
	assert_int_equal(store_client_get(t, "keys-more", &got), STORE_OK);
	assert_string_equal(got.jwks, JWKS_ONE);
	assert_int_equal(got.token_format, CLIENT_TOKEN_JWT);
	assert_int_equal(got.resource_count, 1);
	assert_string_equal(got.resources[0], "https://mcp.example/");
	assert_true(got.has_registration);
	assert_int_equal(got.registration_hash[TOKEN_HASH_LEN - 1], 0x5a);
	assert_int_equal(got.tls_auth, CLIENT_TLS_NONE);
	client_free(&got);
	assert_int_equal(store_client_get(t, "keys-max", &got), STORE_OK);
	assert_non_null(got.jwks);
	assert_int_equal(strlen(got.jwks), STORE_JWKS_MAX);
	client_free(&got);
	assert_int_equal(store_client_get(t, "no-keys", &got), STORE_OK);
	assert_null(got.jwks);
	client_free(&got);
	assert_int_equal(store_client_get(t, "bad-public", &got),
	    STORE_NOTFOUND);
	assert_int_equal(store_client_get(t, "bad-empty", &got),
	    STORE_NOTFOUND);
	assert_int_equal(store_client_get(t, "bad-long", &got),
	    STORE_NOTFOUND);
	assert_int_equal(store_client_foreach(t, record_jwks, &seen),
	    STORE_OK);
	assert_non_null(seen);
	assert_string_equal(seen, JWKS_ONE);
	free(seen);
	store_txn_abort(t);

	/* Replaced without keys, the client has none. */
	t = begin(f->store, 1);
	make_client(&c, "keys");
	assert_int_equal(store_client_put(t, &c, 1), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "keys", &got), STORE_OK);
	assert_null(got.jwks);
	client_free(&got);
	store_txn_abort(t);
}

static enum store_each
count_clients(const struct client *c, void *arg)
{
	size_t *n = arg;

	(void)c;
	(*n)++;
	return STORE_EACH_NEXT;
}

static enum store_each
delete_b_clients(const struct client *c, void *arg)
{
	size_t *n = arg;

	(*n)++;
	return c->id[0] == 'b' ? STORE_EACH_DELETE : STORE_EACH_NEXT;
}

/* The ids a walk saw, in order, space-separated. */
struct id_walk {
	char seen[512];
	const char *stop_at;
};

static enum store_each
record_client(const struct client *c, void *arg)
{
	struct id_walk *w = arg;

	if (w->seen[0] != '\0')
		strcat(w->seen, " ");
	strcat(w->seen, c->id);
	return w->stop_at != NULL && strcmp(c->id, w->stop_at) == 0 ?
	    STORE_EACH_STOP : STORE_EACH_NEXT;
}

static void
test_client_foreach(void **state)
{
	struct sfx *f = *state;
	static const char *ids[] = { "a1", "b1", "a2", "b2", "b3", "a3" };
	struct store_txn *t;
	struct client c;
	struct id_walk w;
	size_t i, n;

	t = begin(f->store, 1);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		make_client(&c, ids[i]);
		assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	}
	/* Byte order: upper case before lower, a prefix before the rest. */
	make_client(&c, "Z");
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	make_client(&c, "a");
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_client_foreach(t, record_client, &w), STORE_OK);
	assert_string_equal(w.seen, "Z a a1 a2 a3 b1 b2 b3");
	memset(&w, 0, sizeof(w));
	w.stop_at = "a2";
	assert_int_equal(store_client_foreach(t, record_client, &w), STORE_OK);
	assert_string_equal(w.seen, "Z a a1 a2");
	n = 0;
	assert_int_equal(store_client_foreach(t, delete_b_clients, &n),
	    STORE_INVALID);
	assert_int_equal(n, 6);		/* Z a a1 a2 a3, then b1 stops it */
	store_txn_abort(t);

	t = begin(f->store, 1);
	n = 0;
	assert_int_equal(store_client_foreach(t, delete_b_clients, &n),
	    STORE_OK);
	assert_int_equal(n, 8);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	n = 0;
	assert_int_equal(store_client_foreach(t, count_clients, &n), STORE_OK);
	assert_int_equal(n, 5);
	assert_int_equal(store_client_get(t, "b2", &c), STORE_NOTFOUND);
	assert_int_equal(store_client_get(t, "a3", &c), STORE_OK);
	client_free(&c);
	store_txn_abort(t);
}

static void
test_token_crud(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct token tok, got;
	unsigned char key[TOKEN_HASH_LEN], other[TOKEN_HASH_LEN];

	key_of(key, 1, 1);
	key_of(other, 1, 2);
	make_token(&tok, TOKEN_CODE, "openid");
	tok.subject = "alice";
	tok.redirect_uri = "https://app.example.com/cb";
	tok.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
	t = begin(f->store, 1);
	assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, key, &got), STORE_OK);
	assert_int_equal(got.kind, TOKEN_CODE);
	assert_string_equal(got.subject, "alice");
	assert_string_equal(got.scope, "openid");
	assert_null(got.audience);
	assert_string_equal(got.code_challenge, tok.code_challenge);
	token_free(&got);
	assert_int_equal(store_token_get(t, other, &got), STORE_NOTFOUND);
	assert_int_equal(store_token_put(t, other, &tok), STORE_INVALID);
	assert_int_equal(store_token_delete(t, key), STORE_INVALID);
	store_txn_abort(t);

	/* Put replaces; a token breaking a limit is refused. */
	t = begin(f->store, 1);
	tok.state = TOKEN_STATE_USED;
	assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	assert_int_equal(store_token_get(t, key, &got), STORE_OK);
	assert_int_equal(got.state, TOKEN_STATE_USED);
	token_free(&got);
	tok.kind = TOKEN_KIND__MAX;
	assert_int_equal(store_token_put(t, other, &tok), STORE_INVALID);
	assert_int_equal(store_token_delete(t, key), STORE_OK);
	assert_int_equal(store_token_delete(t, key), STORE_NOTFOUND);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, key, &got), STORE_NOTFOUND);
	store_txn_abort(t);
}

/* Every field of a token round-trips, the optional ones included. */
static void
test_token_fields(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct token tok, got;
	unsigned char key[TOKEN_HASH_LEN];

	key_of(key, 2, 1);
	make_token(&tok, TOKEN_CODE, "openid email");
	strcpy(tok.client_id, "web");
	tok.subject = "bob";
	tok.audience = "https://api.example";
	tok.issued_at = UNIT_NOW - 5;
	tok.expires_at = (int64_t)1 << 40;
	tok.has_grant = 1;
	memset(tok.grant_id, 0xab, GRANT_ID_LEN);
	tok.redirect_uri = "https://app.example/cb?x=1";
	tok.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
	tok.has_jti = 1;
	memset(tok.jti, 0xcd, TOKEN_JTI_RAW_LEN);
	tok.nonce = "n-0S6_WzA2Mj";
	tok.auth_time = UNIT_NOW - 60;
	t = begin(f->store, 1);
	assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, key, &got), STORE_OK);
	assert_int_equal(got.kind, TOKEN_CODE);
	assert_int_equal(got.state, TOKEN_STATE_ACTIVE);
	assert_string_equal(got.client_id, "web");
	assert_string_equal(got.subject, "bob");
	assert_string_equal(got.scope, "openid email");
	assert_string_equal(got.audience, "https://api.example");
	assert_true(got.issued_at == UNIT_NOW - 5);
	assert_true(got.expires_at == (int64_t)1 << 40);
	assert_true(got.has_grant);
	assert_memory_equal(got.grant_id, tok.grant_id, GRANT_ID_LEN);
	assert_string_equal(got.redirect_uri, tok.redirect_uri);
	assert_string_equal(got.code_challenge, tok.code_challenge);
	assert_true(got.has_jti);
	assert_memory_equal(got.jti, tok.jti, TOKEN_JTI_RAW_LEN);
	assert_string_equal(got.nonce, tok.nonce);
	assert_true(got.auth_time == UNIT_NOW - 60);
	token_free(&got);
	store_txn_abort(t);
}

/* Binds tok to a DPoP key whose thumbprint is from, from + 1, ... */
static void
bind_dpop(struct token *tok, unsigned from)
{
	size_t i;

	tok->has_jti = 1;
	memset(tok->jti, 0x4a, TOKEN_JTI_RAW_LEN);
	tok->bind = TOKEN_BIND_DPOP;
	for (i = 0; i < TOKEN_HASH_LEN; i++)
		tok->bind_thumbprint[i] = (unsigned char)(from + i);
}

/* Fails unless the token under key is bound as want is (thumbprint too). */
static void
expect_bind(int line, struct store_txn *t, const unsigned char *key,
    const struct token *want)
{
	static const unsigned char zero[TOKEN_HASH_LEN];
	struct token got;
	enum store_status st;

	if ((st = store_token_get(t, key, &got)) != STORE_OK)
		fail_msg("line %d: %s", line, store_strerror(st));
	if (got.bind != want->bind || got.has_jti != want->has_jti ||
	    memcmp(got.bind_thumbprint, want->bind == TOKEN_BIND_NONE ? zero :
	    want->bind_thumbprint, TOKEN_HASH_LEN) != 0)
		fail_msg("line %d: bind %d, want %d (or the thumbprint "
		    "differs)", line, (int)got.bind, (int)want->bind);
	assert_memory_equal(got.jti, want->jti, TOKEN_JTI_RAW_LEN);
	token_free(&got);
}

/*
 * A token bound to a DPoP key keeps the binding and the key's thumbprint
 * through put and get, in read and write transactions, with and without
 * the read hint; one unbound, with a jti or without, reads back unbound
 * with no thumbprint; a put replacing a bound token replaces its binding.
 */
static void
test_token_bind(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct client c;
	struct token bound, code, plain, nojti;
	unsigned char kb[TOKEN_HASH_LEN], kc[TOKEN_HASH_LEN];
	unsigned char kp[TOKEN_HASH_LEN], kn[TOKEN_HASH_LEN];
	int writable;

	key_of(kb, 0x3b, 1);
	key_of(kc, 0x3b, 2);
	key_of(kp, 0x3b, 3);
	key_of(kn, 0x3b, 4);
	make_client(&c, "svc");
	make_token(&bound, TOKEN_ACCESS, "read");
	bind_dpop(&bound, 0x10);
	/* A code bound to its request's dpop_jkt, with a nonce. */
	make_token(&code, TOKEN_CODE, "openid");
	bind_dpop(&code, 0xe0);
	code.nonce = "n-0S6";
	code.auth_time = UNIT_NOW - 5;
	make_token(&plain, TOKEN_ACCESS, "read");
	plain.has_jti = 1;
	memset(plain.jti, 0x4a, TOKEN_JTI_RAW_LEN);
	/* A thumbprint left in an unbound token is not kept. */
	memset(plain.bind_thumbprint, 0x77, TOKEN_HASH_LEN);
	make_token(&nojti, TOKEN_REFRESH, "read");
	t = begin(f->store, 1);
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	assert_int_equal(store_token_put(t, kb, &bound), STORE_OK);
	assert_int_equal(store_token_put(t, kc, &code), STORE_OK);
	assert_int_equal(store_token_put(t, kp, &plain), STORE_OK);
	assert_int_equal(store_token_put(t, kn, &nojti), STORE_OK);
	/* Its own puts, read back inside it. */
	expect_bind(__LINE__, t, kb, &bound);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	for (writable = 0; writable <= 1; writable++) {
		t = begin(f->store, writable);
		expect_bind(__LINE__, t, kb, &bound);
		expect_bind(__LINE__, t, kc, &code);
		expect_bind(__LINE__, t, kp, &plain);
		expect_bind(__LINE__, t, kn, &nojti);
		store_txn_abort(t);
	}
	/* Read with the client, as introspection does. */
	t = begin(f->store, 0);
	store_txn_hint_token(t, kb);
	assert_int_equal(store_client_get(t, "svc", &c), STORE_OK);
	client_free(&c);
	expect_bind(__LINE__, t, kb, &bound);
	store_txn_abort(t);

	/* Replaced: bound to another key, then unbound. */
	t = begin(f->store, 1);
	bind_dpop(&bound, 0x90);
	assert_int_equal(store_token_put(t, kb, &bound), STORE_OK);
	code.bind = TOKEN_BIND_NONE;
	assert_int_equal(store_token_put(t, kc, &code), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	t = begin(f->store, 0);
	expect_bind(__LINE__, t, kb, &bound);
	expect_bind(__LINE__, t, kc, &code);
	store_txn_abort(t);
}

struct token_walk {
	size_t seen;
	size_t stop_after;
	unsigned char last[TOKEN_HASH_LEN];
	unsigned char first[TOKEN_HASH_LEN];
	int ordered;		/* every key after the one before */
};

/* Deletes the tokens whose key has an odd counter. */
static enum store_each
delete_odd(const unsigned char *key, const struct token *tok, void *arg)
{
	struct token_walk *w = arg;

	assert_string_equal(tok->client_id, "svc");
	if (w->seen == 0)
		memcpy(w->first, key, TOKEN_HASH_LEN);
	else if (memcmp(w->last, key, TOKEN_HASH_LEN) >= 0)
		w->ordered = 0;
	memcpy(w->last, key, TOKEN_HASH_LEN);
	w->seen++;
	if (w->stop_after != 0)
		return w->seen == w->stop_after ? STORE_EACH_STOP :
		    STORE_EACH_NEXT;
	return key[2] & 1 ? STORE_EACH_DELETE : STORE_EACH_NEXT;
}

static void
walk_reset(struct token_walk *w, size_t stop_after)
{
	memset(w, 0, sizeof(*w));
	w->stop_after = stop_after;
	w->ordered = 1;
}

static void
test_token_foreach_delete(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct token tok, got;
	struct token_walk w;
	unsigned char key[TOKEN_HASH_LEN];
	unsigned i;

	/* Enough records to span several pages, and several batches. */
	make_token(&tok, TOKEN_ACCESS, "read write admin");
	t = begin(f->store, 1);
	for (i = 0; i < 1000; i++) {
		key_of(key, 7, i);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	}
	assert_int_equal(store_txn_commit(t), STORE_OK);

	/* STOP ends the walk where asked, in key order. */
	t = begin(f->store, 0);
	walk_reset(&w, 10);
	assert_int_equal(store_token_foreach(t, delete_odd, &w), STORE_OK);
	assert_int_equal(w.seen, 10);
	key_of(key, 7, 9);
	assert_memory_equal(w.last, key, TOKEN_HASH_LEN);
	store_txn_abort(t);

	/* A read transaction refuses the first delete and stops there. */
	t = begin(f->store, 0);
	walk_reset(&w, 0);
	assert_int_equal(store_token_foreach(t, delete_odd, &w),
	    STORE_INVALID);
	assert_int_equal(w.seen, 2);
	store_txn_abort(t);

	t = begin(f->store, 1);
	walk_reset(&w, 0);
	assert_int_equal(store_token_foreach(t, delete_odd, &w), STORE_OK);
	assert_int_equal(w.seen, 1000);
	assert_true(w.ordered);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	walk_reset(&w, 0);
	assert_int_equal(store_token_foreach(t, delete_odd, &w), STORE_OK);
	assert_int_equal(w.seen, 500);
	assert_true(w.ordered);
	for (i = 0; i < 1000; i++) {
		key_of(key, 7, i);
		assert_int_equal(store_token_get(t, key, &got),
		    i & 1 ? STORE_NOTFOUND : STORE_OK);
		token_free(&got);
	}
	store_txn_abort(t);
}

/* The grant ids a walk saw: their first bytes. */
struct grant_walk {
	unsigned char seen[64];
	size_t count;
	size_t stop_after;
};

static enum store_each
record_grant(const struct grant *g, void *arg)
{
	struct grant_walk *w = arg;

	if (w->count < sizeof(w->seen))
		w->seen[w->count] = g->id[0];
	w->count++;
	return w->stop_after != 0 && w->count == w->stop_after ?
	    STORE_EACH_STOP : STORE_EACH_NEXT;
}

/*
 * A walk resumes after a given key, present or not, so that a long walk
 * can go on in a later transaction; walked in pieces, every record is
 * seen once, in order.
 */
static void
test_foreach_after(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct token tok;
	struct grant g;
	struct token_walk w;
	struct grant_walk gw;
	unsigned char key[TOKEN_HASH_LEN], after[TOKEN_HASH_LEN];
	unsigned char gid[GRANT_ID_LEN];
	size_t total, pieces;
	unsigned i;

	make_token(&tok, TOKEN_ACCESS, "");
	t = begin(f->store, 1);
	for (i = 0; i < 700; i++) {
		key_of(key, 7, i);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	}
	for (i = 1; i <= 5; i++) {
		make_grant(&g, (unsigned char)(i * 2));
		assert_int_equal(store_grant_put(t, &g), STORE_OK);
	}
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	/* After a stored key: the next one on. */
	key_of(after, 7, 4);
	walk_reset(&w, 0);
	assert_int_equal(store_token_foreach_after(t, after, delete_odd, &w) ==
	    STORE_INVALID, 1);	/* (7, 5) is odd: a read refuses it */
	assert_int_equal(w.seen, 1);
	key_of(key, 7, 5);
	assert_memory_equal(w.first, key, TOKEN_HASH_LEN);
	/* After a key between two stored ones. */
	key_of(after, 7, 5);
	after[TOKEN_HASH_LEN - 1] = 1;
	walk_reset(&w, 3);
	assert_int_equal(store_token_foreach_after(t, after, delete_odd, &w),
	    STORE_OK);
	key_of(key, 7, 6);
	assert_memory_equal(w.first, key, TOKEN_HASH_LEN);
	/* After the last: nothing. */
	key_of(after, 7, 699);
	walk_reset(&w, 0);
	assert_int_equal(store_token_foreach_after(t, after, delete_odd, &w),
	    STORE_OK);
	assert_int_equal(w.seen, 0);
	/* NULL: from the first. */
	walk_reset(&w, 1);
	assert_int_equal(store_token_foreach_after(t, NULL, delete_odd, &w),
	    STORE_OK);
	key_of(key, 7, 0);
	assert_memory_equal(w.first, key, TOKEN_HASH_LEN);
	store_txn_abort(t);

	/* In pieces of 100, each in a transaction of its own. */
	total = 0;
	pieces = 0;
	memset(after, 0, sizeof(after));
	for (;;) {
		t = begin(f->store, 0);
		walk_reset(&w, 100);
		assert_int_equal(store_token_foreach_after(t,
		    pieces == 0 ? NULL : after, delete_odd, &w), STORE_OK);
		store_txn_abort(t);
		assert_true(w.ordered);
		if (pieces > 0 && w.seen > 0)
			assert_true(memcmp(w.first, after, TOKEN_HASH_LEN) > 0);
		total += w.seen;
		pieces++;
		assert_true(pieces <= 10);
		if (w.seen < 100)
			break;
		memcpy(after, w.last, TOKEN_HASH_LEN);
	}
	assert_int_equal(total, 700);

	/* Grants the same way. */
	t = begin(f->store, 0);
	memset(&gw, 0, sizeof(gw));
	assert_int_equal(store_grant_foreach(t, record_grant, &gw), STORE_OK);
	assert_int_equal(gw.count, 5);
	assert_memory_equal(gw.seen, "\x02\x04\x06\x08\x0a", 5);
	memset(gid, 4, sizeof(gid));
	memset(&gw, 0, sizeof(gw));
	assert_int_equal(store_grant_foreach_after(t, gid, record_grant, &gw),
	    STORE_OK);
	assert_int_equal(gw.count, 3);
	assert_memory_equal(gw.seen, "\x06\x08\x0a", 3);
	memset(gid, 5, sizeof(gid));
	memset(&gw, 0, sizeof(gw));
	gw.stop_after = 1;
	assert_int_equal(store_grant_foreach_after(t, gid, record_grant, &gw),
	    STORE_OK);
	assert_int_equal(gw.count, 1);
	assert_int_equal(gw.seen[0], 6);
	memset(gid, 0xff, sizeof(gid));
	memset(&gw, 0, sizeof(gw));
	assert_int_equal(store_grant_foreach_after(t, gid, record_grant, &gw),
	    STORE_OK);
	assert_int_equal(gw.count, 0);
	memset(&gw, 0, sizeof(gw));
	assert_int_equal(store_grant_foreach_after(t, NULL, record_grant, &gw),
	    STORE_OK);
	assert_int_equal(gw.count, 5);
	store_txn_abort(t);
}

static enum store_each
count_grants(const struct grant *g, void *arg)
{
	size_t *n = arg;

	assert_string_equal(g->subject, "alice");
	(*n)++;
	return g->id[0] == 2 ? STORE_EACH_DELETE : STORE_EACH_NEXT;
}

static void
test_grant_crud(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct grant g, got;
	unsigned char absent[GRANT_ID_LEN];
	size_t n;
	unsigned char i;

	t = begin(f->store, 1);
	for (i = 1; i <= 3; i++) {
		make_grant(&g, i);
		assert_int_equal(store_grant_put(t, &g), STORE_OK);
	}
	g.client_id[0] = '\0';
	assert_int_equal(store_grant_put(t, &g), STORE_INVALID);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	make_grant(&g, 2);
	assert_int_equal(store_grant_get(t, g.id, &got), STORE_OK);
	assert_memory_equal(got.id, g.id, GRANT_ID_LEN);
	assert_string_equal(got.client_id, "web");
	assert_false(got.revoked);
	grant_free(&got);
	memset(absent, 9, sizeof(absent));
	assert_int_equal(store_grant_get(t, absent, &got), STORE_NOTFOUND);
	assert_int_equal(store_grant_put(t, &g), STORE_INVALID);
	store_txn_abort(t);

	t = begin(f->store, 1);
	n = 0;
	assert_int_equal(store_grant_foreach(t, count_grants, &n), STORE_OK);
	assert_int_equal(n, 3);
	assert_int_equal(store_grant_get(t, g.id, &got), STORE_NOTFOUND);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	t = begin(f->store, 0);
	n = 0;
	assert_int_equal(store_grant_foreach(t, count_grants, &n), STORE_OK);
	assert_int_equal(n, 2);
	store_txn_abort(t);

	/* Every field, and put replacing. */
	make_grant(&g, 7);
	g.revoked = 1;
	g.auth_time = UNIT_NOW - 30;
	g.claims = "{\"email\":\"alice@example.com\"}";
	g.expires_at = (int64_t)1 << 41;
	t = begin(f->store, 1);
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	g.subject = "alice2";
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	t = begin(f->store, 0);
	assert_int_equal(store_grant_get(t, g.id, &got), STORE_OK);
	assert_string_equal(got.subject, "alice2");
	assert_true(got.revoked);
	assert_true(got.auth_time == UNIT_NOW - 30);
	assert_true(got.created_at == UNIT_NOW);
	assert_true(got.expires_at == (int64_t)1 << 41);
	assert_string_equal(got.claims, g.claims);
	grant_free(&got);
	store_txn_abort(t);
}

/* A record that breaks a limit: how to build it, from a valid one. */
struct limit_row {
	int line;
	void (*spoil)(void *);
};

static char long_text[STORE_CLAIMS_MAX + 2];

/* A string of n bytes, n at most sizeof(long_text) - 1. */
static char *
long_string(size_t n)
{
	assert_true(n < sizeof(long_text));
	memset(long_text, 'x', n);
	long_text[n] = '\0';
	return long_text;
}

static void c_id_empty(void *p) { ((struct client *)p)->id[0] = '\0'; }
static void c_grants(void *p) { ((struct client *)p)->grant_types = 0x100; }
static void c_scope(void *p) { ((struct client *)p)->scope = long_string(SCOPE_MAX + 1); }
static void c_audience(void *p) { ((struct client *)p)->audience = long_string(AUDIENCE_MAX + 1); }
static void c_uris(void *p) { ((struct client *)p)->redirect_uri_count = REDIRECT_URIS_MAX + 1; }
static void c_uri_null(void *p) { ((struct client *)p)->redirect_uri_count = 2; }
static void c_uri_long(void *p) { ((struct client *)p)->redirect_uris[0] = long_string(REDIRECT_URI_MAX + 1); }
static void c_format(void *p) { ((struct client *)p)->token_format = CLIENT_TOKEN__MAX; }
static void c_iterations(void *p) { ((struct client *)p)->secret_iterations = SECRET_KDF_ITERATIONS_MAX + 1; }
static void c_jwks_public(void *p) { ((struct client *)p)->is_public = 1; memset(((struct client *)p)->secret_hash, 0, SECRET_HASH_LEN); ((struct client *)p)->jwks = JWKS_ONE; }
static void c_jwks_empty(void *p) { ((struct client *)p)->jwks = ""; }
static void c_jwks_long(void *p) { ((struct client *)p)->jwks = long_jwks_string(STORE_JWKS_MAX + 1); }

static const struct limit_row client_limits[] = {
	{ __LINE__, c_id_empty }, { __LINE__, c_grants },
	{ __LINE__, c_scope }, { __LINE__, c_audience },
	{ __LINE__, c_uris }, { __LINE__, c_uri_null },
	{ __LINE__, c_uri_long }, { __LINE__, c_format },
	{ __LINE__, c_iterations },
	{ __LINE__, c_jwks_public }, { __LINE__, c_jwks_empty },
	{ __LINE__, c_jwks_long },
};

static void t_kind0(void *p) { ((struct token *)p)->kind = 0; }
static void t_kind(void *p) { ((struct token *)p)->kind = TOKEN_KIND__MAX; }
static void t_state(void *p) { ((struct token *)p)->state = TOKEN_STATE__MAX; }
static void t_client(void *p) { ((struct token *)p)->client_id[0] = '\0'; }
static void t_subject(void *p) { ((struct token *)p)->subject = long_string(USERNAME_MAX + 1); }
static void t_scope(void *p) { ((struct token *)p)->scope = long_string(SCOPE_MAX + 1); }
static void t_audience(void *p) { ((struct token *)p)->audience = long_string(AUDIENCE_MAX + 1); }
static void t_uri(void *p) { ((struct token *)p)->redirect_uri = long_string(REDIRECT_URI_MAX + 1); }
static void t_challenge(void *p) { ((struct token *)p)->code_challenge = long_string(STORE_CHALLENGE_MAX + 1); }
static void t_nonce(void *p) { ((struct token *)p)->has_jti = 1; ((struct token *)p)->nonce = long_string(STORE_NONCE_MAX + 1); }
static void t_nonce_nojti(void *p) { ((struct token *)p)->nonce = "n"; }
static void t_auth_nojti(void *p) { ((struct token *)p)->auth_time = 1; }
static void t_bind_nojti(void *p) { ((struct token *)p)->bind = TOKEN_BIND_DPOP; }
static void t_bind_max(void *p) { ((struct token *)p)->has_jti = 1; ((struct token *)p)->bind = TOKEN_BIND__MAX; }
static void t_bind_negative(void *p) { int v = -1; ((struct token *)p)->has_jti = 1; memcpy(&((struct token *)p)->bind, &v, sizeof(v)); }

static const struct limit_row token_limits[] = {
	{ __LINE__, t_kind0 }, { __LINE__, t_kind }, { __LINE__, t_state },
	{ __LINE__, t_client }, { __LINE__, t_subject },
	{ __LINE__, t_scope }, { __LINE__, t_audience }, { __LINE__, t_uri },
	{ __LINE__, t_challenge }, { __LINE__, t_nonce },
	{ __LINE__, t_nonce_nojti }, { __LINE__, t_auth_nojti },
	{ __LINE__, t_bind_nojti }, { __LINE__, t_bind_max },
	{ __LINE__, t_bind_negative },
};

static void g_client(void *p) { ((struct grant *)p)->client_id[0] = '\0'; }
static void g_subject(void *p) { ((struct grant *)p)->subject = long_string(USERNAME_MAX + 1); }
static void g_claims(void *p) { ((struct grant *)p)->claims = long_string(STORE_CLAIMS_MAX + 1); }

static const struct limit_row grant_limits[] = {
	{ __LINE__, g_client }, { __LINE__, g_subject }, { __LINE__, g_claims },
};

static void k_kid(void *p) { ((struct key *)p)->kid[10] = '\0'; }
static void k_alg(void *p) { ((struct key *)p)->alg = JOSE_ALG__MAX; }
static void k_pem(void *p) { ((struct key *)p)->pem = ""; }
static void k_jwk(void *p) { ((struct key *)p)->jwk = "{"; }
static void k_jwk_long(void *p) { ((struct key *)p)->jwk = long_string(STORE_JWK_MAX + 1); }

static const struct limit_row key_limits[] = {
	{ __LINE__, k_kid }, { __LINE__, k_alg }, { __LINE__, k_pem },
	{ __LINE__, k_jwk }, { __LINE__, k_jwk_long },
};

#define ROWS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Each record breaking one limit is refused with STORE_INVALID, nothing
 * of it written, and the transaction it was tried in still commits what
 * else it did.
 */
static void
test_limits(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct client c;
	struct token tok;
	struct grant g;
	struct key k;
	unsigned char key[TOKEN_HASH_LEN];
	char kid[JOSE_KID_LEN + 1];
	size_t i, n;

	t = begin(f->store, 1);
	for (i = 0; i < ROWS(client_limits); i++) {
		make_client(&c, "bad");
		client_limits[i].spoil(&c);
		if (store_client_put(t, &c, 1) != STORE_INVALID)
			fail_msg("client row at line %d not refused",
			    client_limits[i].line);
	}
	for (i = 0; i < ROWS(token_limits); i++) {
		make_token(&tok, TOKEN_CODE, "read");
		token_limits[i].spoil(&tok);
		key_of(key, 0x33, (unsigned)i);
		if (store_token_put(t, key, &tok) != STORE_INVALID)
			fail_msg("token row at line %d not refused",
			    token_limits[i].line);
	}
	for (i = 0; i < ROWS(grant_limits); i++) {
		make_grant(&g, 0x33);
		grant_limits[i].spoil(&g);
		if (store_grant_put(t, &g) != STORE_INVALID)
			fail_msg("grant row at line %d not refused",
			    grant_limits[i].line);
	}
	for (i = 0; i < ROWS(key_limits); i++) {
		make_key(&k, 'q', JOSE_ALG_ES256, UNIT_NOW);
		key_limits[i].spoil(&k);
		if (store_key_put(t, &k) != STORE_INVALID)
			fail_msg("key row at line %d not refused",
			    key_limits[i].line);
	}
	/* At the limits themselves, records are taken. */
	make_client(&c, "good");
	memset(c.id, 'c', CLIENT_ID_MAX);
	c.id[CLIENT_ID_MAX] = '\0';
	c.scope = long_string(SCOPE_MAX);
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	make_token(&tok, TOKEN_CODE, "read");
	tok.code_challenge = long_string(STORE_CHALLENGE_MAX);
	key_of(key, 0x34, 0);
	assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	n = 0;
	assert_int_equal(store_client_foreach(t, count_clients, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_client_get(t, "bad", &c), STORE_NOTFOUND);
	assert_int_equal(store_client_get(t, long_string(CLIENT_ID_MAX), &c),
	    STORE_NOTFOUND);
	memset(long_text, 'c', CLIENT_ID_MAX);
	assert_int_equal(store_client_get(t, long_text, &c), STORE_OK);
	assert_int_equal(strlen(c.scope), SCOPE_MAX);
	client_free(&c);
	for (i = 0; i < ROWS(token_limits); i++) {
		key_of(key, 0x33, (unsigned)i);
		assert_int_equal(store_token_get(t, key, &tok), STORE_NOTFOUND);
	}
	make_grant(&g, 0x33);
	assert_int_equal(store_grant_get(t, g.id, &g), STORE_NOTFOUND);
	make_key(&k, 'q', JOSE_ALG_ES256, UNIT_NOW);
	memcpy(kid, k.kid, sizeof(kid));
	assert_int_equal(store_key_get(t, kid, &k), STORE_NOTFOUND);
	store_txn_abort(t);
}

/* A write transaction aborted, or never committed, leaves nothing. */
static void
test_abort_discards(void **state)
{
	struct sfx *f = *state;
	struct store_txn *w, *r;
	struct client c, got;
	struct token tok, tgot;
	struct grant g, ggot;
	struct key k, kgot;
	unsigned char key[TOKEN_HASH_LEN];

	make_client(&c, "ghost");
	make_token(&tok, TOKEN_ACCESS, "");
	make_grant(&g, 0x31);
	make_key(&k, 'g', JOSE_ALG_ES256, UNIT_NOW);
	key_of(key, 3, 3);

	w = begin(f->store, 1);
	assert_int_equal(store_client_put(w, &c, 0), STORE_OK);
	assert_int_equal(store_token_put(w, key, &tok), STORE_OK);
	assert_int_equal(store_grant_put(w, &g), STORE_OK);
	assert_int_equal(store_key_put(w, &k), STORE_OK);
	/* Its own writes are seen inside it. */
	assert_int_equal(store_client_get(w, "ghost", &got), STORE_OK);
	client_free(&got);
	expect_token(w, key, "");
	store_txn_abort(w);
	store_txn_abort(NULL);

	r = begin(f->store, 0);
	assert_int_equal(store_client_get(r, "ghost", &got), STORE_NOTFOUND);
	assert_int_equal(store_token_get(r, key, &tgot), STORE_NOTFOUND);
	assert_int_equal(store_grant_get(r, g.id, &ggot), STORE_NOTFOUND);
	assert_int_equal(store_key_get(r, k.kid, &kgot), STORE_NOTFOUND);
	store_txn_abort(r);

	/* Deletes are undone too. */
	w = begin(f->store, 1);
	assert_int_equal(store_client_put(w, &c, 0), STORE_OK);
	assert_int_equal(store_token_put(w, key, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(w), STORE_OK);
	w = begin(f->store, 1);
	assert_int_equal(store_client_delete(w, "ghost"), STORE_OK);
	assert_int_equal(store_token_delete(w, key), STORE_OK);
	store_txn_abort(w);
	r = begin(f->store, 0);
	assert_int_equal(store_client_get(r, "ghost", &got), STORE_OK);
	client_free(&got);
	expect_token(r, key, "");
	/* A read transaction commits, as it aborts. */
	assert_int_equal(store_txn_commit(r), STORE_OK);
}

/*
 * A child that reads on request: each byte from cmd asks whether client
 * "ghost" and the token of key (3, 3) are there, in a read transaction
 * begun then, and is answered with a byte on reply: 'n' neither, 'c'
 * the client only, 'y' both, 'e' a failure.
 */
static int
probe_child(const char *db, int cmd, int reply)
{
	struct store *s;
	struct store_txn *t;
	struct client c;
	struct token tok;
	unsigned char key[TOKEN_HASH_LEN];
	enum store_status cs, ts;
	char byte, answer;

	alarm(60);
	if (store_open(db, 0, sfx_flags, &s, NULL, 0) != STORE_OK)
		return 10;
	key_of(key, 3, 3);
	if (write(reply, "r", 1) != 1)
		return 11;
	while (read(cmd, &byte, 1) == 1) {
		if (store_txn_begin(s, 0, &t) != STORE_OK)
			return 12;
		cs = store_client_get(t, "ghost", &c);
		ts = store_token_get(t, key, &tok);
		client_free(&c);
		token_free(&tok);
		store_txn_abort(t);
		if ((cs != STORE_OK && cs != STORE_NOTFOUND) ||
		    (ts != STORE_OK && ts != STORE_NOTFOUND))
			answer = 'e';
		else if (cs == STORE_OK)
			answer = ts == STORE_OK ? 'y' : 'c';
		else
			answer = ts == STORE_OK ? 'e' : 'n';
		if (write(reply, &answer, 1) != 1)
			return 13;
	}
	store_close(s);
	return 0;
}

static char
probe(int cmd, int reply)
{
	char c;

	assert_int_equal(write(cmd, "?", 1), 1);
	assert_int_equal(read(reply, &c, 1), 1);
	return c;
}

/*
 * What a write transaction does is seen by no other process until it
 * commits, and by every transaction begun after its commit returned, in
 * this process and in another.
 */
static void
test_visibility_across_processes(void **state)
{
	struct sfx *f = *state;
	struct store_txn *w, *r;
	struct client c, got;
	struct token tok;
	unsigned char key[TOKEN_HASH_LEN];
	int cmd[2], reply[2];
	char byte;
	pid_t pid;

	sfx_close(f);
	if (pipe(cmd) == -1 || pipe(reply) == -1)
		fail_msg("pipe: %s", strerror(errno));
	if ((pid = spawn()) == 0) {
		close(cmd[1]);
		close(reply[0]);
		_exit(probe_child(f->db, cmd[0], reply[1]));
	}
	close(cmd[0]);
	close(reply[1]);
	assert_int_equal(read(reply[0], &byte, 1), 1);
	sfx_reopen(f);

	make_client(&c, "ghost");
	make_token(&tok, TOKEN_ACCESS, "");
	key_of(key, 3, 3);
	assert_int_equal(probe(cmd[1], reply[0]), 'n');

	/* Uncommitted, aborted: never seen. */
	w = begin(f->store, 1);
	assert_int_equal(store_client_put(w, &c, 0), STORE_OK);
	assert_int_equal(store_token_put(w, key, &tok), STORE_OK);
	assert_int_equal(probe(cmd[1], reply[0]), 'n');
	store_txn_abort(w);
	assert_int_equal(probe(cmd[1], reply[0]), 'n');

	/* Uncommitted: not seen; committed: seen at once, whole. */
	w = begin(f->store, 1);
	assert_int_equal(store_client_put(w, &c, 0), STORE_OK);
	assert_int_equal(probe(cmd[1], reply[0]), 'n');
	assert_int_equal(store_token_put(w, key, &tok), STORE_OK);
	assert_int_equal(probe(cmd[1], reply[0]), 'n');
	assert_int_equal(store_txn_commit(w), STORE_OK);
	assert_int_equal(probe(cmd[1], reply[0]), 'y');
	r = begin(f->store, 0);
	assert_int_equal(store_client_get(r, "ghost", &got), STORE_OK);
	client_free(&got);
	store_txn_abort(r);

	/* A delete the same way. */
	w = begin(f->store, 1);
	assert_int_equal(store_token_delete(w, key), STORE_OK);
	assert_int_equal(probe(cmd[1], reply[0]), 'y');
	assert_int_equal(store_txn_commit(w), STORE_OK);
	assert_int_equal(probe(cmd[1], reply[0]), 'c');

	close(cmd[1]);
	assert_int_equal(wait_child(pid), 0);
	close(reply[0]);
}

struct active_row {
	int line;
	enum token_state state;
	int64_t expires_in;
	int has_grant;
	int grant;		/* 0 none stored, 1 live, 2 revoked */
	int want;
};

static const struct active_row active_rows[] = {
	{ __LINE__, TOKEN_STATE_ACTIVE, 60, 0, 0, 1 },
	{ __LINE__, TOKEN_STATE_ACTIVE, 1, 0, 0, 1 },
	{ __LINE__, TOKEN_STATE_ACTIVE, 0, 0, 0, 0 },	/* expires now */
	{ __LINE__, TOKEN_STATE_ACTIVE, -1, 0, 0, 0 },
	{ __LINE__, TOKEN_STATE_REVOKED, 60, 0, 0, 0 },
	{ __LINE__, TOKEN_STATE_USED, 60, 0, 0, 0 },
	{ __LINE__, TOKEN_STATE_ACTIVE, 60, 1, 1, 1 },
	{ __LINE__, TOKEN_STATE_ACTIVE, 60, 1, 2, 0 },
	{ __LINE__, TOKEN_STATE_ACTIVE, 60, 1, 0, 0 },	/* grant missing */
	{ __LINE__, TOKEN_STATE_ACTIVE, -1, 1, 1, 0 },
	{ __LINE__, TOKEN_STATE_USED, 60, 1, 1, 0 },
	/* A revoked grant that the token does not claim is no concern. */
	{ __LINE__, TOKEN_STATE_ACTIVE, 60, 0, 2, 1 },
};

static void
test_is_active(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct token tok;
	struct grant g;
	unsigned char key[TOKEN_HASH_LEN];
	size_t i;
	int got;

	for (i = 0; i < sizeof(active_rows) / sizeof(active_rows[0]); i++) {
		const struct active_row *row = &active_rows[i];

		t = begin(f->store, 1);
		make_grant(&g, (unsigned char)(0x40 + i));
		if (row->grant != 0) {
			g.revoked = row->grant == 2;
			assert_int_equal(store_grant_put(t, &g), STORE_OK);
		}
		make_token(&tok, TOKEN_ACCESS, "read");
		tok.state = row->state;
		tok.expires_at = UNIT_NOW + row->expires_in;
		tok.has_grant = row->has_grant;
		memcpy(tok.grant_id, g.id, GRANT_ID_LEN);
		got = store_token_is_active(t, &tok, UNIT_NOW);
		if (got != row->want)
			fail_msg("row at line %d: got %d, want %d (in the "
			    "write transaction)", row->line, got, row->want);
		/* Committed, and read back in a read transaction. */
		key_of(key, 0x41, (unsigned)i);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
		assert_int_equal(store_txn_commit(t), STORE_OK);
		t = begin(f->store, 0);
		assert_int_equal(store_token_get(t, key, &tok), STORE_OK);
		got = store_token_is_active(t, &tok, UNIT_NOW);
		token_free(&tok);
		store_txn_abort(t);
		if (got != row->want)
			fail_msg("row at line %d: got %d, want %d", row->line,
			    got, row->want);
	}
	t = begin(f->store, 0);
	assert_false(store_token_is_active(t, NULL, UNIT_NOW));
	store_txn_abort(t);
}

static void
test_revoke(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct token access, refresh, other, got;
	struct grant g;
	unsigned char ka[TOKEN_HASH_LEN], kr[TOKEN_HASH_LEN];
	unsigned char ko[TOKEN_HASH_LEN];

	key_of(ka, 9, 1);
	key_of(kr, 9, 2);
	key_of(ko, 9, 3);
	make_grant(&g, 0x99);
	make_token(&access, TOKEN_ACCESS, "read");
	access.has_grant = 1;
	memcpy(access.grant_id, g.id, GRANT_ID_LEN);
	refresh = access;
	refresh.kind = TOKEN_REFRESH;
	refresh.expires_at = UNIT_NOW + 86400;
	other = access;
	t = begin(f->store, 1);
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	assert_int_equal(store_token_put(t, ka, &access), STORE_OK);
	assert_int_equal(store_token_put(t, kr, &refresh), STORE_OK);
	assert_int_equal(store_token_put(t, ko, &other), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	/* Revoking an access token leaves the grant and its siblings. */
	t = begin(f->store, 1);
	assert_int_equal(store_token_revoke(t, ka, &access), STORE_OK);
	assert_int_equal(access.state, TOKEN_STATE_REVOKED);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, ka, &got), STORE_OK);
	assert_int_equal(got.state, TOKEN_STATE_REVOKED);
	assert_false(store_token_is_active(t, &got, UNIT_NOW));
	token_free(&got);
	assert_true(store_token_is_active(t, &other, UNIT_NOW));
	store_txn_abort(t);

	/* Revoking the refresh token takes the grant's tokens down. */
	t = begin(f->store, 1);
	assert_int_equal(store_token_revoke(t, kr, &refresh), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	t = begin(f->store, 0);
	assert_int_equal(store_grant_get(t, g.id, &g), STORE_OK);
	assert_true(g.revoked);
	grant_free(&g);
	assert_int_equal(store_token_get(t, ko, &got), STORE_OK);
	assert_int_equal(got.state, TOKEN_STATE_ACTIVE);
	assert_false(store_token_is_active(t, &got, UNIT_NOW));
	token_free(&got);
	assert_int_equal(store_token_get(t, kr, &got), STORE_OK);
	assert_int_equal(got.state, TOKEN_STATE_REVOKED);
	token_free(&got);
	/* Writes in a read transaction fail and change nothing. */
	assert_int_equal(store_token_revoke(t, ko, &other), STORE_INVALID);
	store_txn_abort(t);
	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, ko, &got), STORE_OK);
	assert_int_equal(got.state, TOKEN_STATE_ACTIVE);
	token_free(&got);
	store_txn_abort(t);

	/* Revoking twice is harmless; a refresh token whose grant is gone. */
	t = begin(f->store, 1);
	make_grant(&g, 0x99);
	assert_int_equal(store_grant_revoke(t, g.id), STORE_OK);
	memset(refresh.grant_id, 0x77, GRANT_ID_LEN);
	refresh.state = TOKEN_STATE_ACTIVE;
	assert_int_equal(store_token_revoke(t, kr, &refresh), STORE_OK);
	assert_int_equal(store_grant_revoke(t, refresh.grant_id),
	    STORE_NOTFOUND);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	/* A revoked grant that is aborted stays live. */
	make_grant(&g, 0x98);
	t = begin(f->store, 1);
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	t = begin(f->store, 1);
	assert_int_equal(store_grant_revoke(t, g.id), STORE_OK);
	store_txn_abort(t);
	t = begin(f->store, 0);
	assert_int_equal(store_grant_get(t, g.id, &g), STORE_OK);
	assert_false(g.revoked);
	grant_free(&g);
	make_grant(&g, 0x98);
	assert_int_equal(store_grant_revoke(t, g.id), STORE_INVALID);
	store_txn_abort(t);
}

/* Each child writes its own tokens, one transaction each, then reads. */
static int
child_writer(const char *db, unsigned who, unsigned count)
{
	struct store *s;
	struct store_txn *t;
	struct token tok, got;
	unsigned char key[TOKEN_HASH_LEN];
	unsigned i;

	alarm(120);
	if (store_open(db, 0, sfx_flags, &s, NULL, 0) != STORE_OK)
		return 10;
	make_token(&tok, TOKEN_ACCESS, "concurrent");
	for (i = 0; i < count; i++) {
		key_of(key, who, i);
		if (store_txn_begin(s, 1, &t) != STORE_OK)
			return 11;
		if (store_token_put(t, key, &tok) != STORE_OK) {
			store_txn_abort(t);
			return 12;
		}
		if (store_txn_commit(t) != STORE_OK)
			return 13;
	}
	if (store_txn_begin(s, 0, &t) != STORE_OK)
		return 14;
	for (i = 0; i < count; i++) {
		key_of(key, who, i);
		if (store_token_get(t, key, &got) != STORE_OK)
			return 15;
		token_free(&got);
	}
	store_txn_abort(t);
	store_close(s);
	return 0;
}

static void
test_two_processes(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	unsigned char key[TOKEN_HASH_LEN];
	pid_t pid[2];
	unsigned i, who;
	const unsigned count = 200;

	/* Nothing open across fork: the children open their own. */
	sfx_close(f);
	for (who = 0; who < 2; who++) {
		if ((pid[who] = spawn()) == 0)
			_exit(child_writer(f->db, 0x20 + who, count));
	}
	assert_int_equal(wait_child(pid[0]), 0);
	assert_int_equal(wait_child(pid[1]), 0);

	sfx_reopen(f);
	t = begin(f->store, 0);
	for (who = 0; who < 2; who++)
		for (i = 0; i < count; i++) {
			key_of(key, 0x20 + who, i);
			expect_token(t, key, "concurrent");
		}
	store_txn_abort(t);
}

/*
 * What a redeeming request does: in one write transaction, get the token,
 * check it is active, mark it used, put it back, commit.  Returns 0 when
 * this process spent it, 1 when it found it used, else a failure.
 */
static int
spend(struct store *s, const unsigned char *key)
{
	struct store_txn *t;
	struct token tok;
	enum store_status st;

	if (store_txn_begin(s, 1, &t) != STORE_OK)
		return 20;
	if ((st = store_token_get(t, key, &tok)) != STORE_OK) {
		store_txn_abort(t);
		return st == STORE_UNAVAILABLE ? 21 : 22;
	}
	if (tok.state == TOKEN_STATE_USED) {
		token_free(&tok);
		store_txn_abort(t);
		return 1;
	}
	if (tok.state != TOKEN_STATE_ACTIVE) {
		token_free(&tok);
		store_txn_abort(t);
		return 23;
	}
	tok.state = TOKEN_STATE_USED;
	st = store_token_put(t, key, &tok);
	token_free(&tok);
	if (st != STORE_OK) {
		store_txn_abort(t);
		return 24;
	}
	return store_txn_commit(t) == STORE_OK ? 0 : 25;
}

/*
 * A racer: opens the store, says it is ready, waits for the start (the
 * end of go), then spends.
 */
static int
racer(const char *db, const unsigned char *key, int ready, int go)
{
	struct store *s;
	char byte;
	int rc;

	alarm(60);
	if (store_open(db, 0, sfx_flags, &s, NULL, 0) != STORE_OK)
		return 30;
	if (write(ready, "r", 1) != 1 || read(go, &byte, 1) != 0)
		return 31;
	rc = spend(s, key);
	store_close(s);
	return rc;
}

/*
 * Exactly once: in each round SPEND_RACERS processes, started together,
 * race to spend one code (or refresh token); exactly one spends it, and
 * every other finds it used.
 */
static void
test_spend_once_across_processes(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct token tok;
	unsigned char key[TOKEN_HASH_LEN];
	pid_t pid[SPEND_RACERS];
	int ready[2], go[2], rc, spent, used;
	unsigned round, i;
	char byte;

	for (round = 0; round < SPEND_ROUNDS; round++) {
		make_token(&tok, round % 2 ? TOKEN_REFRESH : TOKEN_CODE, "r");
		key_of(key, 0x50, round);
		t = begin(f->store, 1);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
		assert_int_equal(store_txn_commit(t), STORE_OK);
		sfx_close(f);

		if (pipe(ready) == -1 || pipe(go) == -1)
			fail_msg("pipe: %s", strerror(errno));
		for (i = 0; i < SPEND_RACERS; i++)
			if ((pid[i] = spawn()) == 0) {
				close(ready[0]);
				close(go[1]);
				_exit(racer(f->db, key, ready[1], go[0]));
			}
		close(ready[1]);
		close(go[0]);
		for (i = 0; i < SPEND_RACERS; i++)
			if (read(ready[0], &byte, 1) != 1)
				break;
		close(go[1]);		/* the start */
		close(ready[0]);
		spent = used = 0;
		for (i = 0; i < SPEND_RACERS; i++) {
			rc = wait_child(pid[i]);
			if (rc == 0)
				spent++;
			else if (rc == 1)
				used++;
			else
				fail_msg("round %u: racer %u failed (%d)",
				    round, i, rc);
		}
		if (spent != 1 || used != SPEND_RACERS - 1)
			fail_msg("round %u: %d spent it, %d found it used",
			    round, spent, used);

		sfx_reopen(f);
		t = begin(f->store, 0);
		assert_int_equal(store_token_get(t, key, &tok), STORE_OK);
		assert_int_equal(tok.state, TOKEN_STATE_USED);
		token_free(&tok);
		store_txn_abort(t);
	}
}

/*
 * Whether child pid waits on a lock of f's database: for PostgreSQL, a
 * session of the database waiting for a lock (pg_stat_activity); LMDB
 * shows no such thing, so the child must merely still be running.
 */
static int
waiting_for_lock(struct sfx *f, pid_t pid)
{
	PGconn *conn;
	PGresult *res;
	char sql[256];
	int n;

	if (waitpid(pid, NULL, WNOHANG) != 0)
		return -1;
	if (f->backend != SFX_PG)
		return 1;
	conn = sfx_pg_connect(sfx_pg_maint());
	(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM "
	    "pg_stat_activity WHERE datname = '%s' AND wait_event_type = "
	    "'Lock'", f->dbname);
	res = sfx_pg_query(conn, sql);
	n = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	return n > 0;
}

/*
 * A write transaction that got a token keeps it: another process's get
 * of it in a write transaction waits, then reads what the first
 * committed, and finds it used.
 */
static void
test_spend_waits_for_holder(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct token tok;
	unsigned char key[TOKEN_HASH_LEN];
	struct timespec pause_ts = { 0, 10 * 1000 * 1000 };
	int ready[2], go[2], w, i;
	char byte;
	pid_t pid;

	make_token(&tok, TOKEN_CODE, "r");
	key_of(key, 0x51, 1);
	t = begin(f->store, 1);
	assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	sfx_close(f);

	if (pipe(ready) == -1 || pipe(go) == -1)
		fail_msg("pipe: %s", strerror(errno));
	if ((pid = spawn()) == 0) {
		close(ready[0]);
		close(go[1]);
		_exit(racer(f->db, key, ready[1], go[0]));
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &byte, 1), 1);
	sfx_reopen(f);

	t = begin(f->store, 1);
	assert_int_equal(store_token_get(t, key, &tok), STORE_OK);
	assert_int_equal(tok.state, TOKEN_STATE_ACTIVE);
	close(go[1]);		/* the child's get now waits for this one */
	/*
	 * Bounded: PostgreSQL shows the wait; LMDB's writers queue on a
	 * mutex nothing shows, so ten looks find the child still waiting.
	 */
	for (i = 0; i < 3000; i++) {
		if ((w = waiting_for_lock(f, pid)) == -1)
			fail_msg("the child did not wait for the holder");
		if (w == 1 && (f->backend == SFX_PG || i >= 10))
			break;
		nanosleep(&pause_ts, NULL);
	}
	assert_true(i < 3000);
	tok.state = TOKEN_STATE_USED;
	assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	token_free(&tok);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	/* 1: it found the token used. */
	assert_int_equal(wait_child(pid), 1);
	close(ready[0]);
}

/*
 * A child that revokes a grant as a replayed code would: waits for the
 * start, then in a write transaction gets the grant; 1 when it finds it
 * revoked already, 0 when it revoked it, else a failure.
 */
static int
grant_revoker(const char *db, const unsigned char *id, int ready, int go)
{
	struct store *s;
	struct store_txn *t;
	struct grant g;
	char byte;
	int rc;

	alarm(60);
	if (store_open(db, 0, sfx_flags, &s, NULL, 0) != STORE_OK)
		return 30;
	if (write(ready, "r", 1) != 1 || read(go, &byte, 1) != 0)
		return 31;
	if (store_txn_begin(s, 1, &t) != STORE_OK)
		return 32;
	if (store_grant_get(t, id, &g) != STORE_OK) {
		store_txn_abort(t);
		return 33;
	}
	if (g.revoked) {
		grant_free(&g);
		store_txn_abort(t);
		rc = 1;
	} else {
		g.revoked = 1;
		rc = store_grant_put(t, &g) == STORE_OK &&
		    store_txn_commit(t) == STORE_OK ? 0 : 34;
		grant_free(&g);
	}
	store_close(s);
	return rc;
}

/* A grant got in a write transaction is kept from other writers too. */
static void
test_grant_waits_for_holder(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct grant g;
	unsigned char id[GRANT_ID_LEN];
	struct timespec pause_ts = { 0, 10 * 1000 * 1000 };
	int ready[2], go[2], w, i;
	char byte;
	pid_t pid;

	make_grant(&g, 0x52);
	memcpy(id, g.id, sizeof(id));
	t = begin(f->store, 1);
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	sfx_close(f);

	if (pipe(ready) == -1 || pipe(go) == -1)
		fail_msg("pipe: %s", strerror(errno));
	if ((pid = spawn()) == 0) {
		close(ready[0]);
		close(go[1]);
		_exit(grant_revoker(f->db, id, ready[1], go[0]));
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &byte, 1), 1);
	sfx_reopen(f);

	t = begin(f->store, 1);
	assert_int_equal(store_grant_get(t, id, &g), STORE_OK);
	assert_false(g.revoked);
	close(go[1]);
	for (i = 0; i < 3000; i++) {
		if ((w = waiting_for_lock(f, pid)) == -1)
			fail_msg("the child did not wait for the holder");
		if (w == 1 && (f->backend == SFX_PG || i >= 10))
			break;
		nanosleep(&pause_ts, NULL);
	}
	assert_true(i < 3000);
	g.revoked = 1;
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	grant_free(&g);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	assert_int_equal(wait_child(pid), 1);
	close(ready[0]);
}

/* What purge should find: a token, where it is, and whether it goes. */
struct purge_row {
	int line;
	enum token_kind kind;
	enum token_state state;
	int64_t expires_in;	/* from the purge's now */
	int grant;		/* 0 none, else the fill of a grant below */
	int gone;
};

#define PURGE_NOW (UNIT_NOW + 100000)
#define G_LIVE 0x61		/* expires after now */
#define G_EXPIRED 0x62		/* expired: purged first */
#define G_REVOKED 0x63		/* revoked, not yet expired */
#define G_MISSING 0x64		/* never stored */

static const struct purge_row purge_rows[] = {
	{ __LINE__, TOKEN_ACCESS, TOKEN_STATE_ACTIVE, -1, 0, 1 },
	{ __LINE__, TOKEN_ACCESS, TOKEN_STATE_ACTIVE, 0, 0, 1 },
	{ __LINE__, TOKEN_ACCESS, TOKEN_STATE_ACTIVE, 1, 0, 0 },
	{ __LINE__, TOKEN_ACCESS, TOKEN_STATE_REVOKED, -1, 0, 1 },
	{ __LINE__, TOKEN_ACCESS, TOKEN_STATE_REVOKED, 10, 0, 0 },
	{ __LINE__, TOKEN_ACCESS, TOKEN_STATE_ACTIVE, -1, G_LIVE, 1 },
	{ __LINE__, TOKEN_CODE, TOKEN_STATE_ACTIVE, -1, G_LIVE, 1 },
	/* Spent while the grant lives: kept, for replay detection. */
	{ __LINE__, TOKEN_CODE, TOKEN_STATE_USED, -1, G_LIVE, 0 },
	{ __LINE__, TOKEN_REFRESH, TOKEN_STATE_USED, -1, G_LIVE, 0 },
	/* The grant gone, expired or revoked: nothing left to detect. */
	{ __LINE__, TOKEN_CODE, TOKEN_STATE_USED, -1, G_EXPIRED, 1 },
	{ __LINE__, TOKEN_REFRESH, TOKEN_STATE_USED, -1, G_REVOKED, 1 },
	{ __LINE__, TOKEN_CODE, TOKEN_STATE_USED, -1, G_MISSING, 1 },
	{ __LINE__, TOKEN_CODE, TOKEN_STATE_USED, -1, 0, 1 },
	{ __LINE__, TOKEN_REFRESH, TOKEN_STATE_ACTIVE, 3600, G_LIVE, 0 },
	{ __LINE__, TOKEN_CODE, TOKEN_STATE_USED, 60, G_EXPIRED, 0 },
	{ __LINE__, TOKEN_REFRESH, TOKEN_STATE_REVOKED, -5, G_REVOKED, 1 },
};

static void
purge_grant(struct grant *g, int fill)
{
	make_grant(g, (unsigned char)fill);
	g->expires_at = fill == G_EXPIRED ? PURGE_NOW - 1 : PURGE_NOW + 1000;
	g->revoked = fill == G_REVOKED;
}

/*
 * Purge deletes what has expired, keeps a spent code or rotated refresh
 * token while its grant lives, deletes expired grants, and counts each.
 */
static void
test_purge(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct store_purged p;
	struct token tok;
	struct grant g;
	unsigned char key[TOKEN_HASH_LEN];
	size_t i, tokens = 0, codes = 0;
	static const int fills[] = { G_LIVE, G_EXPIRED, G_REVOKED };

	t = begin(f->store, 1);
	for (i = 0; i < sizeof(fills) / sizeof(fills[0]); i++) {
		purge_grant(&g, fills[i]);
		assert_int_equal(store_grant_put(t, &g), STORE_OK);
	}
	for (i = 0; i < ROWS(purge_rows); i++) {
		const struct purge_row *row = &purge_rows[i];

		make_token(&tok, row->kind, "read");
		tok.state = row->state;
		tok.expires_at = PURGE_NOW + row->expires_in;
		if (row->grant != 0) {
			tok.has_grant = 1;
			memset(tok.grant_id, row->grant, GRANT_ID_LEN);
		}
		key_of(key, 0x60, (unsigned)i);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
		if (row->gone && row->kind == TOKEN_CODE)
			codes++;
		else if (row->gone)
			tokens++;
	}
	assert_int_equal(store_txn_commit(t), STORE_OK);

	memset(&p, 0x5a, sizeof(p));
	assert_int_equal(store_purge(f->store, PURGE_NOW, &p), STORE_OK);
	assert_int_equal(p.grants, 1);
	assert_int_equal(p.tokens, tokens);
	assert_int_equal(p.codes, codes);
	assert_int_equal(p.grown, 0);

	t = begin(f->store, 0);
	for (i = 0; i < ROWS(purge_rows); i++) {
		enum store_status st;

		key_of(key, 0x60, (unsigned)i);
		st = store_token_get(t, key, &tok);
		token_free(&tok);
		if (st != (purge_rows[i].gone ? STORE_NOTFOUND : STORE_OK))
			fail_msg("row at line %d: %s after purge",
			    purge_rows[i].line, store_strerror(st));
	}
	purge_grant(&g, G_EXPIRED);
	assert_int_equal(store_grant_get(t, g.id, &g), STORE_NOTFOUND);
	purge_grant(&g, G_LIVE);
	assert_int_equal(store_grant_get(t, g.id, &g), STORE_OK);
	grant_free(&g);
	purge_grant(&g, G_REVOKED);
	assert_int_equal(store_grant_get(t, g.id, &g), STORE_OK);
	grant_free(&g);
	store_txn_abort(t);

	/* Nothing more to do: a second purge deletes nothing. */
	assert_int_equal(store_purge(f->store, PURGE_NOW, &p), STORE_OK);
	assert_int_equal(p.grants + p.tokens + p.codes, 0);
	/* An empty database purges too. */
	sfx_close(f);
	if (f->backend == SFX_PG) {
		sfx_pg_dropdb(f);
		sfx_pg_createdb(f, NULL);
	} else {
		unit_rmdir(f->db);
	}
	assert_int_equal(store_open(f->db, 0, STORE_OPEN_CREATE | sfx_flags,
	    &f->store, NULL, 0), STORE_OK);
	assert_int_equal(store_purge(f->store, PURGE_NOW, &p), STORE_OK);
	assert_int_equal(p.grants + p.tokens + p.codes, 0);
}

/* More than one batch of each kind: purge goes on to the end. */
static void
test_purge_batches(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct store_purged p;
	struct token tok;
	struct grant g;
	struct token_walk w;
	unsigned char key[TOKEN_HASH_LEN];
	unsigned i;

	t = begin(f->store, 1);
	for (i = 0; i < 1300; i++) {
		make_token(&tok, i % 3 == 0 ? TOKEN_CODE : TOKEN_ACCESS, "");
		/* Every fourth one lives on. */
		tok.expires_at = i % 4 == 3 ? PURGE_NOW + 1 : PURGE_NOW - 1;
		key_of(key, 0x70, i);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	}
	for (i = 0; i < 600; i++) {
		make_grant(&g, 0);
		g.id[0] = 0x71;
		g.id[1] = (unsigned char)(i >> 8);
		g.id[2] = (unsigned char)i;
		g.expires_at = PURGE_NOW - 1;
		assert_int_equal(store_grant_put(t, &g), STORE_OK);
	}
	assert_int_equal(store_txn_commit(t), STORE_OK);

	assert_int_equal(store_purge(f->store, PURGE_NOW, &p), STORE_OK);
	assert_int_equal(p.grants, 600);
	/* i % 4 != 3: 975 of 1300; codes among them: i % 3 == 0. */
	assert_int_equal(p.tokens + p.codes, 975);
	for (i = 0, w.seen = 0; i < 1300; i++)
		if (i % 4 != 3 && i % 3 == 0)
			w.seen++;
	assert_int_equal(p.codes, w.seen);

	t = begin(f->store, 0);
	walk_reset(&w, 100000);
	assert_int_equal(store_token_foreach(t, delete_odd, &w), STORE_OK);
	assert_int_equal(w.seen, 325);
	store_txn_abort(t);
}

/*
 * The single-use values (store_seen_put): a DPoP proof's jti, by its
 * hash, taken once while its record lives.
 */
#define SEEN_NOW (UNIT_NOW + 200000)
#define SEEN_ROUNDS 50		/* rounds of the race to take a value */
#define SEEN_RACERS 4		/* processes racing in each round */
#define SEEN_OLD (4 * STORE_SEEN_SWEEP + 2)	/* expired, for the sweep */

/* The hash of single-use value n of family a. */
static void
seen_hash(unsigned char hash[TOKEN_HASH_LEN], unsigned a, unsigned n)
{
	key_of(hash, a, n);
	hash[TOKEN_HASH_LEN - 1] = 0x5e;	/* not a token key */
}

/* store_seen_put in a write transaction of its own, committed whatever. */
static enum store_status
seen_put_committed(struct store *s, const unsigned char *hash, int64_t now,
    int64_t expires_at)
{
	struct store_txn *t = begin(s, 1);
	enum store_status st = store_seen_put(t, hash, now, expires_at);

	assert_int_equal(store_txn_commit(t), STORE_OK);
	return st;
}

/* Fails unless a purge at now deletes want seen records and nothing else. */
static void
expect_seen_purged(int line, struct store *s, int64_t now, size_t want)
{
	struct store_purged p;
	enum store_status st;

	memset(&p, 0x5a, sizeof(p));
	if ((st = store_purge(s, now, &p)) != STORE_OK)
		fail_msg("line %d: purge: %s", line, store_strerror(st));
	if (p.seen != want || p.tokens + p.codes + p.grants != 0 ||
	    p.grown != 0)
		fail_msg("line %d: purge deleted %zu seen records, want %zu "
		    "(and %zu others)", line, p.seen, want,
		    p.tokens + p.codes + p.grants);
}

/* One put of a value, and what it must return. */
struct seen_row {
	int line;
	int64_t now;
	int64_t expires_at;
	enum store_status want;
};

static const struct seen_row seen_rows[] = {
	{ __LINE__, SEEN_NOW, SEEN_NOW + 60, STORE_OK },
	{ __LINE__, SEEN_NOW, SEEN_NOW + 60, STORE_EXISTS },
	/* EXISTS writes nothing: not this later expiry either, */
	{ __LINE__, SEEN_NOW + 59, SEEN_NOW + 1000, STORE_EXISTS },
	/* so at the first expiry (now >= expires_at) it is taken again, */
	{ __LINE__, SEEN_NOW + 60, SEEN_NOW + 120, STORE_OK },
	{ __LINE__, SEEN_NOW + 60, SEEN_NOW + 120, STORE_EXISTS },
	/* and lives by the new expiry, not the old. */
	{ __LINE__, SEEN_NOW + 119, SEEN_NOW + 500, STORE_EXISTS },
	/* A negative expiry is refused, nothing written: */
	{ __LINE__, SEEN_NOW + 119, -1, STORE_INVALID },
	{ __LINE__, SEEN_NOW + 119, INT64_MIN, STORE_INVALID },
	/* still seen, at a clock gone back too. */
	{ __LINE__, SEEN_NOW + 119, SEEN_NOW + 119, STORE_EXISTS },
	{ __LINE__, SEEN_NOW - 100000, SEEN_NOW + 1, STORE_EXISTS },
	{ __LINE__, SEEN_NOW + 120, SEEN_NOW + 121, STORE_OK },
	/* Expiry and now at the ends of their range. */
	{ __LINE__, SEEN_NOW + 121, INT64_MAX, STORE_OK },
	{ __LINE__, INT64_MAX - 1, 0, STORE_EXISTS },
	{ __LINE__, INT64_MAX - 1, -1, STORE_INVALID },
};

/*
 * A single-use value is taken once while its record lives: the first put
 * OK, every later one EXISTS, writing nothing, until now reaches
 * expires_at; then it is taken again and lives by the new expiry.  The
 * same whether each put is a transaction of its own or all are one: a
 * transaction sees its own puts.
 */
static void
test_seen_put(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	unsigned char own[TOKEN_HASH_LEN], one[TOKEN_HASH_LEN];
	const struct seen_row *bad;
	enum store_status st = STORE_OK;
	size_t i;

	seen_hash(own, 0xa0, 1);
	seen_hash(one, 0xa0, 2);
	for (i = 0; i < ROWS(seen_rows); i++) {
		const struct seen_row *row = &seen_rows[i];

		st = seen_put_committed(f->store, own, row->now,
		    row->expires_at);
		if (st != row->want)
			fail_msg("row at line %d: %s, want %s", row->line,
			    store_strerror(st), store_strerror(row->want));
	}
	/* Failing after the commit: never with a transaction open. */
	t = begin(f->store, 1);
	for (i = 0, bad = NULL; i < ROWS(seen_rows) && bad == NULL; i++) {
		st = store_seen_put(t, one, seen_rows[i].now,
		    seen_rows[i].expires_at);
		if (st != seen_rows[i].want)
			bad = &seen_rows[i];
	}
	assert_int_equal(store_txn_commit(t), STORE_OK);
	if (bad != NULL)
		fail_msg("row at line %d: %s, want %s (in one transaction)",
		    bad->line, store_strerror(st), store_strerror(bad->want));
	/* Both live until the end of time. */
	assert_int_equal(seen_put_committed(f->store, own, INT64_MAX - 1,
	    INT64_MAX), STORE_EXISTS);
	assert_int_equal(seen_put_committed(f->store, one, INT64_MAX - 1,
	    INT64_MAX), STORE_EXISTS);
}

/*
 * Puts that must leave nothing: one in a read transaction (refused), one
 * with a negative expiry (refused), one whose transaction aborts.  Each
 * value is taken afterwards as if never put; values are independent.
 */
static void
test_seen_refused(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	unsigned char h[TOKEN_HASH_LEN], other[TOKEN_HASH_LEN];

	seen_hash(h, 0xa1, 1);
	seen_hash(other, 0xa1, 2);
	t = begin(f->store, 0);
	assert_int_equal(store_seen_put(t, h, SEEN_NOW, SEEN_NOW + 60),
	    STORE_INVALID);
	assert_int_equal(store_seen_put(t, h, SEEN_NOW, -1), STORE_INVALID);
	store_txn_abort(t);

	t = begin(f->store, 1);
	assert_int_equal(store_seen_put(t, h, SEEN_NOW, -1), STORE_INVALID);
	assert_int_equal(store_seen_put(t, h, SEEN_NOW, INT64_MIN),
	    STORE_INVALID);
	assert_int_equal(store_seen_put(t, h, SEEN_NOW, SEEN_NOW + 60),
	    STORE_OK);
	assert_int_equal(store_seen_put(t, other, SEEN_NOW, SEEN_NOW + 60),
	    STORE_OK);
	assert_int_equal(store_seen_put(t, h, SEEN_NOW, SEEN_NOW + 60),
	    STORE_EXISTS);
	store_txn_abort(t);

	/* The aborted puts are gone; so is a put never committed. */
	t = begin(f->store, 1);
	assert_int_equal(store_seen_put(t, h, SEEN_NOW, SEEN_NOW + 60),
	    STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	assert_int_equal(seen_put_committed(f->store, other, SEEN_NOW,
	    SEEN_NOW + 60), STORE_OK);
	assert_int_equal(seen_put_committed(f->store, h, SEEN_NOW,
	    SEEN_NOW + 60), STORE_EXISTS);
	assert_int_equal(seen_put_committed(f->store, other, SEEN_NOW,
	    SEEN_NOW + 60), STORE_EXISTS);
	/* Nothing left behind for the purge, aborted or refused. */
	expect_seen_purged(__LINE__, f->store, SEEN_NOW + 60, 2);
}

/*
 * A seen racer: opens the store, says it is ready, waits for the start
 * (the end of go), then puts hash in a write transaction and commits it,
 * whatever the put said, as a request would.  0 when it took the value,
 * 1 when it found it seen, else a failure.
 */
static int
seen_racer(const char *db, const unsigned char *hash, int64_t now,
    int64_t expires_at, int ready, int go)
{
	struct store *s;
	struct store_txn *t;
	enum store_status st;
	char byte;

	alarm(60);
	if (store_open(db, 0, sfx_flags, &s, NULL, 0) != STORE_OK)
		return 30;
	if (write(ready, "r", 1) != 1 || read(go, &byte, 1) != 0)
		return 31;
	if (store_txn_begin(s, 1, &t) != STORE_OK)
		return 32;
	st = store_seen_put(t, hash, now, expires_at);
	if (st != STORE_OK && st != STORE_EXISTS) {
		store_txn_abort(t);
		return 40 + (int)st;
	}
	if (store_txn_commit(t) != STORE_OK)
		return 33;
	store_close(s);
	return st == STORE_OK ? 0 : 1;
}

/* Forks a seen_racer; *ready and *go are the parent's ends. */
static pid_t
spawn_seen_racer(struct sfx *f, const unsigned char *hash, int64_t now,
    int64_t expires_at, int *ready, int *go)
{
	int r[2], g[2];
	pid_t pid;

	if (pipe(r) == -1 || pipe(g) == -1)
		fail_msg("pipe: %s", strerror(errno));
	if ((pid = spawn()) == 0) {
		close(r[0]);
		close(g[1]);
		_exit(seen_racer(f->db, hash, now, expires_at, r[1], g[0]));
	}
	close(r[1]);
	close(g[0]);
	*ready = r[0];
	*go = g[1];
	return pid;
}

/*
 * A committed put is seen by every transaction begun after the commit,
 * in this process and in another, and what another process commits is
 * seen here.
 */
static void
test_seen_visibility(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	unsigned char mine[TOKEN_HASH_LEN], theirs[TOKEN_HASH_LEN];
	int ready, go;
	char byte;
	pid_t pid;

	seen_hash(mine, 0xa2, 1);
	seen_hash(theirs, 0xa2, 2);
	t = begin(f->store, 1);
	assert_int_equal(store_seen_put(t, mine, SEEN_NOW, SEEN_NOW + 60),
	    STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	t = begin(f->store, 1);
	assert_int_equal(store_seen_put(t, mine, SEEN_NOW + 1, SEEN_NOW + 61),
	    STORE_EXISTS);
	store_txn_abort(t);

	sfx_close(f);
	pid = spawn_seen_racer(f, mine, SEEN_NOW + 1, SEEN_NOW + 61, &ready,
	    &go);
	assert_int_equal(read(ready, &byte, 1), 1);
	close(go);
	assert_int_equal(wait_child(pid), 1);	/* seen */
	close(ready);
	pid = spawn_seen_racer(f, theirs, SEEN_NOW, SEEN_NOW + 60, &ready,
	    &go);
	assert_int_equal(read(ready, &byte, 1), 1);
	close(go);
	assert_int_equal(wait_child(pid), 0);	/* taken */
	close(ready);
	sfx_reopen(f);
	assert_int_equal(seen_put_committed(f->store, theirs, SEEN_NOW + 1,
	    SEEN_NOW + 61), STORE_EXISTS);
}

/*
 * A put waits for a write transaction of another process that put the
 * same value, then answers by how that one ended: EXISTS after its
 * commit, OK after its abort.  This is what makes the value taken once.
 */
static void
test_seen_waits_for_holder(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	unsigned char h[TOKEN_HASH_LEN];
	struct timespec pause_ts = { 0, 10 * 1000 * 1000 };
	int ready, go, w, i, commit;
	char byte;
	pid_t pid;

	for (commit = 1; commit >= 0; commit--) {
		seen_hash(h, 0xa3, (unsigned)commit);
		sfx_close(f);
		pid = spawn_seen_racer(f, h, SEEN_NOW + 1, SEEN_NOW + 61,
		    &ready, &go);
		assert_int_equal(read(ready, &byte, 1), 1);
		sfx_reopen(f);

		t = begin(f->store, 1);
		assert_int_equal(store_seen_put(t, h, SEEN_NOW, SEEN_NOW + 60),
		    STORE_OK);
		close(go);	/* the child's put now waits for this one */
		for (i = 0; i < 3000; i++) {
			if ((w = waiting_for_lock(f, pid)) == -1)
				fail_msg("the child did not wait for the "
				    "holder (commit %d)", commit);
			if (w == 1 && (f->backend == SFX_PG || i >= 10))
				break;
			nanosleep(&pause_ts, NULL);
		}
		assert_true(i < 3000);
		if (commit) {
			assert_int_equal(store_txn_commit(t), STORE_OK);
			assert_int_equal(wait_child(pid), 1);	/* seen */
		} else {
			store_txn_abort(t);
			assert_int_equal(wait_child(pid), 0);	/* taken */
		}
		close(ready);
		/* Either way the value is taken now, once. */
		assert_int_equal(seen_put_committed(f->store, h, SEEN_NOW + 2,
		    SEEN_NOW + 62), STORE_EXISTS);
	}
}

/*
 * Exactly once: in each round SEEN_RACERS processes, started together,
 * put one value in write transactions they commit; exactly one takes it
 * and every other finds it seen.  Each round's now is past the expiry of
 * the value two rounds before, so that the racers' puts sweep as they
 * race; every round's sweep commits, which leaves the last two values
 * for the purge at the end.
 */
static void
test_seen_once_across_processes(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	unsigned char h[TOKEN_HASH_LEN];
	pid_t pid[SEEN_RACERS];
	int ready[2], go[2], rc, took, seen;
	int64_t now;
	unsigned round, i;
	char byte;

	for (round = 0; round < SEEN_ROUNDS; round++) {
		seen_hash(h, 0xa4, round);
		now = SEEN_NOW + 10 * (int64_t)round;
		sfx_close(f);
		if (pipe(ready) == -1 || pipe(go) == -1)
			fail_msg("pipe: %s", strerror(errno));
		for (i = 0; i < SEEN_RACERS; i++)
			if ((pid[i] = spawn()) == 0) {
				close(ready[0]);
				close(go[1]);
				_exit(seen_racer(f->db, h, now, now + 15,
				    ready[1], go[0]));
			}
		close(ready[1]);
		close(go[0]);
		for (i = 0; i < SEEN_RACERS; i++)
			if (read(ready[0], &byte, 1) != 1)
				break;
		close(go[1]);		/* the start */
		close(ready[0]);
		took = seen = 0;
		for (i = 0; i < SEEN_RACERS; i++) {
			rc = wait_child(pid[i]);
			if (rc == 0)
				took++;
			else if (rc == 1)
				seen++;
			else
				fail_msg("round %u: racer %u failed (%d)",
				    round, i, rc);
		}
		if (took != 1 || seen != SEEN_RACERS - 1)
			fail_msg("round %u: %d took the value, %d found it "
			    "seen", round, took, seen);
		/* Taken for good: seen by a put that aborts, sweeping none. */
		sfx_reopen(f);
		t = begin(f->store, 1);
		assert_int_equal(store_seen_put(t, h, now, now + 15),
		    STORE_EXISTS);
		store_txn_abort(t);
	}
	expect_seen_purged(__LINE__, f->store, SEEN_NOW + 10 * SEEN_ROUNDS +
	    1000, 2);
}

/*
 * A put deletes on the way up to STORE_SEEN_SWEEP other values that have
 * expired at its now, so that the records stay as many as the window
 * holds between purges; never a live one, and nothing when it aborts.
 * Which expired ones go is the backend's choice, how many is not: the
 * purge after counts the rest.
 */
static void
test_seen_sweep(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	unsigned char h[TOKEN_HASH_LEN];
	const int64_t end = SEEN_NOW + 100;	/* the old values' expiry */
	unsigned i;

	t = begin(f->store, 1);
	for (i = 0; i < SEEN_OLD; i++) {
		seen_hash(h, 0xa5, i);
		assert_int_equal(store_seen_put(t, h, SEEN_NOW, end), STORE_OK);
	}
	seen_hash(h, 0xa6, 0);		/* live through it all */
	assert_int_equal(store_seen_put(t, h, SEEN_NOW, end + 1000), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	/* Before their expiry, nothing goes. */
	seen_hash(h, 0xa6, 1);
	assert_int_equal(seen_put_committed(f->store, h, end - 1, end + 1000),
	    STORE_OK);
	/* Aborted, the sweep is undone. */
	t = begin(f->store, 1);
	seen_hash(h, 0xa6, 2);
	assert_int_equal(store_seen_put(t, h, end, end + 1000), STORE_OK);
	store_txn_abort(t);
	/* One put, then two in one transaction: three sweeps. */
	seen_hash(h, 0xa6, 3);
	assert_int_equal(seen_put_committed(f->store, h, end, end + 1000),
	    STORE_OK);
	t = begin(f->store, 1);
	seen_hash(h, 0xa6, 4);
	assert_int_equal(store_seen_put(t, h, end, end + 1000), STORE_OK);
	seen_hash(h, 0xa6, 5);
	assert_int_equal(store_seen_put(t, h, end + 1, end + 1000), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	expect_seen_purged(__LINE__, f->store, end,
	    SEEN_OLD - 3 * STORE_SEEN_SWEEP);
	/* The live ones were spared by the sweeps and by the purge. */
	t = begin(f->store, 1);
	for (i = 0; i <= 5; i++) {
		seen_hash(h, 0xa6, i);
		assert_int_equal(store_seen_put(t, h, end, end + 2000),
		    i == 2 ? STORE_OK : STORE_EXISTS);
	}
	store_txn_abort(t);
	expect_seen_purged(__LINE__, f->store, end, 0);
}

/*
 * EXISTS writes nothing: a put of a value still live deletes no expired
 * other, so that a replayed proof costs no write, on every backend alike.
 */
static void
test_seen_exists_sweeps_nothing(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	unsigned char h[TOKEN_HASH_LEN], live[TOKEN_HASH_LEN];
	const int64_t end = SEEN_NOW + 100;
	unsigned i;

	t = begin(f->store, 1);
	for (i = 0; i < SEEN_OLD; i++) {
		seen_hash(h, 0xa7, i);
		assert_int_equal(store_seen_put(t, h, SEEN_NOW, end), STORE_OK);
	}
	seen_hash(live, 0xa8, 0);
	assert_int_equal(store_seen_put(t, live, SEEN_NOW, end + 1000),
	    STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	for (i = 0; i < 3; i++)
		assert_int_equal(seen_put_committed(f->store, live, end,
		    end + 1000), STORE_EXISTS);
	expect_seen_purged(__LINE__, f->store, end, SEEN_OLD);
}

/*
 * The sweep deletes others: not the value being put, even when the
 * expiry it is given has passed at its now already (a clock ahead of
 * the one that set the window).  Its record stays, seen at a now before
 * that expiry (a clock behind), and waits for the purge as any other.
 */
static void
test_seen_sweep_spares_own(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	unsigned char h[TOKEN_HASH_LEN];
	const int64_t end = SEEN_NOW + 100;
	enum store_status st;

	seen_hash(h, 0xa9, 0);
	assert_int_equal(seen_put_committed(f->store, h, SEEN_NOW, end),
	    STORE_OK);
	/* Expired when put: the other swept, itself kept. */
	seen_hash(h, 0xa9, 1);
	assert_int_equal(seen_put_committed(f->store, h, end + 10, end + 5),
	    STORE_OK);
	/* Checked after the abort: a failure never leaves it open. */
	t = begin(f->store, 1);
	st = store_seen_put(t, h, end + 4, end + 64);
	store_txn_abort(t);
	if (st != STORE_EXISTS)
		fail_msg("a value put with its expiry past: %s at a now "
		    "before that expiry, want EXISTS", store_strerror(st));
	expect_seen_purged(__LINE__, f->store, end + 10, 1);
}

/*
 * Purge deletes exactly the seen records expired at its now (expires_at
 * <= now), more than one batch of them, counts them in .seen apart from
 * tokens, and leaves the live ones: each is still seen afterwards.
 */
static void
test_seen_purge(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct token tok;
	struct store_purged p;
	unsigned char h[TOKEN_HASH_LEN], key[TOKEN_HASH_LEN];
	const int64_t at = SEEN_NOW + 5000;
	unsigned i;

	t = begin(f->store, 1);
	for (i = 0; i < 1100; i++) {
		seen_hash(h, 0xaa, i);
		assert_int_equal(store_seen_put(t, h, SEEN_NOW, at - (i % 2)),
		    STORE_OK);
	}
	for (i = 0; i < 40; i++) {
		seen_hash(h, 0xab, i);
		assert_int_equal(store_seen_put(t, h, SEEN_NOW, at + 1 + i),
		    STORE_OK);
	}
	/* A token expired at the same time, counted apart. */
	make_token(&tok, TOKEN_ACCESS, "");
	tok.expires_at = at;
	key_of(key, 0xac, 0);
	assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	memset(&p, 0x5a, sizeof(p));
	assert_int_equal(store_purge(f->store, at, &p), STORE_OK);
	assert_int_equal(p.seen, 1100);
	assert_int_equal(p.tokens, 1);
	assert_int_equal(p.codes + p.grants, 0);
	t = begin(f->store, 1);
	for (i = 0; i < 40; i++) {
		seen_hash(h, 0xab, i);
		assert_int_equal(store_seen_put(t, h, at, at + 5000),
		    STORE_EXISTS);
	}
	store_txn_abort(t);
	expect_seen_purged(__LINE__, f->store, at, 0);
	/* The boundary: expiring at now is expired. */
	expect_seen_purged(__LINE__, f->store, at + 1, 1);
	expect_seen_purged(__LINE__, f->store, at + 40, 39);
	t = begin(f->store, 1);
	seen_hash(h, 0xab, 0);
	assert_int_equal(store_seen_put(t, h, at + 40, at + 41), STORE_OK);
	store_txn_abort(t);
}

/* Counts as store_stats should report them. */
static void
test_stats(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct store_stats s;
	struct client c;
	struct token tok;
	struct grant g;
	unsigned char key[TOKEN_HASH_LEN];
	unsigned n = 0;
	static const struct {
		enum token_kind kind;
		enum token_state state;
		int64_t expires_in;
		int grant;		/* 0 none, 1 live, 2 revoked, 3 missing */
		enum store_stats_row row;
		enum store_stats_state want;
	} rows[] = {
		{ TOKEN_ACCESS, TOKEN_STATE_ACTIVE, 60, 0,
		    STORE_STATS_ACCESS, STORE_STATS_ACTIVE },
		{ TOKEN_ACCESS, TOKEN_STATE_ACTIVE, 60, 1,
		    STORE_STATS_ACCESS, STORE_STATS_ACTIVE },
		{ TOKEN_ACCESS, TOKEN_STATE_ACTIVE, 0, 0,
		    STORE_STATS_ACCESS, STORE_STATS_EXPIRED },
		{ TOKEN_ACCESS, TOKEN_STATE_REVOKED, 60, 0,
		    STORE_STATS_ACCESS, STORE_STATS_REVOKED },
		{ TOKEN_ACCESS, TOKEN_STATE_REVOKED, -60, 0,
		    STORE_STATS_ACCESS, STORE_STATS_REVOKED },
		{ TOKEN_ACCESS, TOKEN_STATE_ACTIVE, 60, 2,
		    STORE_STATS_ACCESS, STORE_STATS_REVOKED },
		{ TOKEN_ACCESS, TOKEN_STATE_ACTIVE, 60, 3,
		    STORE_STATS_ACCESS, STORE_STATS_REVOKED },
		{ TOKEN_ACCESS, TOKEN_STATE_ACTIVE, -60, 2,
		    STORE_STATS_ACCESS, STORE_STATS_EXPIRED },
		/* An access token is never "used". */
		{ TOKEN_ACCESS, TOKEN_STATE_USED, 60, 0,
		    STORE_STATS_ACCESS, STORE_STATS_REVOKED },
		{ TOKEN_ACCESS, TOKEN_STATE_USED, -60, 0,
		    STORE_STATS_ACCESS, STORE_STATS_EXPIRED },
		{ TOKEN_REFRESH, TOKEN_STATE_ACTIVE, 60, 1,
		    STORE_STATS_REFRESH, STORE_STATS_ACTIVE },
		{ TOKEN_REFRESH, TOKEN_STATE_USED, 60, 1,
		    STORE_STATS_REFRESH, STORE_STATS_USED },
		{ TOKEN_REFRESH, TOKEN_STATE_USED, -60, 2,
		    STORE_STATS_REFRESH, STORE_STATS_USED },
		{ TOKEN_REFRESH, TOKEN_STATE_ACTIVE, -1, 1,
		    STORE_STATS_REFRESH, STORE_STATS_EXPIRED },
		{ TOKEN_REFRESH, TOKEN_STATE_REVOKED, -1, 1,
		    STORE_STATS_REFRESH, STORE_STATS_REVOKED },
		{ TOKEN_CODE, TOKEN_STATE_ACTIVE, 60, 1,
		    STORE_STATS_CODES, STORE_STATS_ACTIVE },
		{ TOKEN_CODE, TOKEN_STATE_USED, 60, 1,
		    STORE_STATS_CODES, STORE_STATS_USED },
		{ TOKEN_CODE, TOKEN_STATE_ACTIVE, -60, 1,
		    STORE_STATS_CODES, STORE_STATS_EXPIRED },
		{ TOKEN_CODE, TOKEN_STATE_ACTIVE, 60, 3,
		    STORE_STATS_CODES, STORE_STATS_REVOKED },
	};
	size_t want[STORE_STATS_ROW__MAX][STORE_STATS_STATE__MAX] = { { 0 } };
	size_t i;
	int r, k;

	t = begin(f->store, 0);
	assert_int_equal(store_stats(t, UNIT_NOW, &s), STORE_OK);
	store_txn_abort(t);
	assert_int_equal(s.confidential + s.public, 0);
	for (r = 0; r < STORE_STATS_ROW__MAX; r++)
		for (k = 0; k < STORE_STATS_STATE__MAX; k++)
			assert_int_equal(s.counts[r][k], 0);

	t = begin(f->store, 1);
	make_client(&c, "conf1");
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	make_client(&c, "conf2");
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	make_client(&c, "pub");
	c.is_public = 1;
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	/* Grants: live, revoked, expired, revoked and expired. */
	make_grant(&g, 1);
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	make_grant(&g, 2);
	g.revoked = 1;
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	make_grant(&g, 4);
	g.expires_at = UNIT_NOW;
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	make_grant(&g, 5);
	g.expires_at = UNIT_NOW - 1;
	g.revoked = 1;
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	want[STORE_STATS_GRANTS][STORE_STATS_ACTIVE] = 1;
	want[STORE_STATS_GRANTS][STORE_STATS_REVOKED] = 2;
	want[STORE_STATS_GRANTS][STORE_STATS_EXPIRED] = 1;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		make_token(&tok, rows[i].kind, "");
		tok.state = rows[i].state;
		tok.expires_at = UNIT_NOW + rows[i].expires_in;
		if (rows[i].grant != 0) {
			tok.has_grant = 1;
			memset(tok.grant_id, rows[i].grant, GRANT_ID_LEN);
		}
		key_of(key, 0x80, n++);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
		want[rows[i].row][rows[i].want]++;
	}
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	assert_int_equal(store_stats(t, UNIT_NOW, &s), STORE_OK);
	store_txn_abort(t);
	assert_int_equal(s.confidential, 2);
	assert_int_equal(s.public, 1);
	for (r = 0; r < STORE_STATS_ROW__MAX; r++)
		for (k = 0; k < STORE_STATS_STATE__MAX; k++)
			if (s.counts[r][k] != want[r][k])
				fail_msg("row %d state %d: %zu, want %zu", r, k,
				    s.counts[r][k], want[r][k]);

	/* In a write transaction, its own writes counted. */
	t = begin(f->store, 1);
	make_client(&c, "pub2");
	c.is_public = 1;
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	assert_int_equal(store_stats(t, UNIT_NOW, &s), STORE_OK);
	assert_int_equal(s.public, 2);
	store_txn_abort(t);
}

/* Deleting a client's tokens, codes and grants, and no one else's. */
static void
test_client_drop_tokens(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct store_purged p;
	struct token tok;
	struct grant g;
	unsigned char key[TOKEN_HASH_LEN];
	unsigned i;
	size_t n;
	static const struct {
		const char *client;
		enum token_kind kind;
	} rows[] = {
		{ "web", TOKEN_ACCESS }, { "svc", TOKEN_ACCESS },
		{ "web", TOKEN_REFRESH }, { "web", TOKEN_CODE },
		{ "web2", TOKEN_ACCESS }, { "web", TOKEN_ACCESS },
		{ "we", TOKEN_CODE },
	};

	t = begin(f->store, 1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		make_token(&tok, rows[i].kind, "");
		strcpy(tok.client_id, rows[i].client);
		key_of(key, 0x90, i);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	}
	make_grant(&g, 1);
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	make_grant(&g, 2);
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	make_grant(&g, 3);
	strcpy(g.client_id, "svc");
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	/* A read transaction may not. */
	t = begin(f->store, 0);
	memset(&p, 0, sizeof(p));
	assert_int_equal(store_client_drop_tokens(t, "web", &p), STORE_INVALID);
	store_txn_abort(t);

	t = begin(f->store, 1);
	memset(&p, 0, sizeof(p));
	assert_int_equal(store_client_drop_tokens(t, "web", &p), STORE_OK);
	assert_int_equal(p.tokens, 3);
	assert_int_equal(p.codes, 1);
	assert_int_equal(p.grants, 2);
	/* It adds to what *out held. */
	assert_int_equal(store_client_drop_tokens(t, "svc", &p), STORE_OK);
	assert_int_equal(p.tokens, 4);
	assert_int_equal(p.codes, 1);
	assert_int_equal(p.grants, 3);
	assert_int_equal(store_client_drop_tokens(t, "nobody", &p), STORE_OK);
	assert_int_equal(p.tokens + p.codes + p.grants, 8);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int kept = strcmp(rows[i].client, "web") != 0 &&
		    strcmp(rows[i].client, "svc") != 0;

		key_of(key, 0x90, i);
		assert_int_equal(store_token_get(t, key, &tok),
		    kept ? STORE_OK : STORE_NOTFOUND);
		token_free(&tok);
	}
	n = 0;
	assert_int_equal(store_grant_foreach(t, count_grants, &n), STORE_OK);
	assert_int_equal(n, 0);
	store_txn_abort(t);

	/* Aborted, nothing is dropped. */
	t = begin(f->store, 1);
	memset(&p, 0, sizeof(p));
	assert_int_equal(store_client_drop_tokens(t, "web2", &p), STORE_OK);
	assert_int_equal(p.tokens, 1);
	store_txn_abort(t);
	t = begin(f->store, 0);
	key_of(key, 0x90, 4);
	assert_int_equal(store_token_get(t, key, &tok), STORE_OK);
	token_free(&tok);
	store_txn_abort(t);
}

/* Registers a client with the given id and scope in its own transaction. */
static void
put_scoped_client(struct store *s, const char *id, const char *scope)
{
	struct store_txn *t;
	struct client c;

	make_client(&c, id);
	c.scope = (char *)scope;
	t = begin(s, 1);
	assert_int_equal(store_client_put(t, &c, 1), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
}

/* Fails unless the scopes of s read want. */
static void
expect_scopes(int line, struct store *s, const char *want)
{
	struct store_txn *t = begin(s, 0);
	char *got;

	assert_int_equal(store_scopes_get(t, &got), STORE_OK);
	if (strcmp(got, want) != 0)
		fail_msg("line %d: scopes \"%s\", want \"%s\"", line, got,
		    want);
	free(got);
	store_txn_abort(t);
}

/*
 * The scopes in use: sorted bytewise, distinct, single spaces, following
 * the clients as they change, at most STORE_SCOPES_MAX of them.
 */
static void
test_scopes(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	char id[32], scope[32];
	char *got, *p, *prev, *next;
	size_t n;
	int i;

	expect_scopes(__LINE__, f->store, "");
	put_scoped_client(f->store, "c1", "write read");
	put_scoped_client(f->store, "c2", "read admin urn:x:y");
	put_scoped_client(f->store, "c3", "");
	expect_scopes(__LINE__, f->store, "admin read urn:x:y write");
	/* Bytewise, not by a locale: "Zeta" before "alpha". */
	put_scoped_client(f->store, "c4", "alpha Zeta _x ~end read:all rea");
	expect_scopes(__LINE__, f->store,
	    "Zeta _x admin alpha rea read read:all urn:x:y write ~end");
	t = begin(f->store, 1);
	assert_int_equal(store_client_delete(t, "c2"), STORE_OK);
	assert_int_equal(store_client_delete(t, "c4"), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	expect_scopes(__LINE__, f->store, "read write");
	/* Replacing a client replaces its scopes. */
	put_scoped_client(f->store, "c1", "profile");
	expect_scopes(__LINE__, f->store, "profile");
	/* Inside a write transaction, its own change is seen. */
	t = begin(f->store, 1);
	assert_int_equal(store_client_delete(t, "c1"), STORE_OK);
	assert_int_equal(store_scopes_get(t, &got), STORE_OK);
	assert_string_equal(got, "");
	free(got);
	store_txn_abort(t);
	expect_scopes(__LINE__, f->store, "profile");

	/* Bounded: past STORE_SCOPES_MAX values some go unlisted. */
	for (i = 0; i < STORE_SCOPES_MAX + 10; i++) {
		snprintf(id, sizeof(id), "many%03d", i);
		snprintf(scope, sizeof(scope), "s%03d s%03d", i,
		    (i * 7) % (STORE_SCOPES_MAX + 10));
		put_scoped_client(f->store, id, scope);
	}
	t = begin(f->store, 0);
	assert_int_equal(store_scopes_get(t, &got), STORE_OK);
	store_txn_abort(t);
	/* Each listed one is a real scope, in order, once. */
	n = 0;
	prev = NULL;
	for (p = got; p != NULL; p = next) {
		if ((next = strchr(p, ' ')) != NULL)
			*next++ = '\0';
		assert_true(*p != '\0');
		assert_true(strcmp(p, "profile") == 0 ||
		    (p[0] == 's' && strlen(p) == 4 &&
		    atoi(p + 1) < STORE_SCOPES_MAX + 10));
		if (prev != NULL)
			assert_true(strcmp(prev, p) < 0);
		prev = p;
		n++;
	}
	assert_int_equal(n, STORE_SCOPES_MAX);
	free(got);
}

/*
 * Signing keys round-trip, and the key that signs an alg at a time is the
 * one that began signing last among those not retired then.
 */
static void
test_keys(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct key k, got;
	char kid[JOSE_KID_LEN + 1];

	t = begin(f->store, 1);
	make_key(&k, 'a', JOSE_ALG_RS256, UNIT_NOW);
	assert_int_equal(store_key_put(t, &k), STORE_OK);
	make_key(&k, 'b', JOSE_ALG_RS256, UNIT_NOW + 600);
	assert_int_equal(store_key_put(t, &k), STORE_OK);
	make_key(&k, 'c', JOSE_ALG_ES256, UNIT_NOW);
	k.retired_at = UNIT_NOW + 100;
	k.drop_at = UNIT_NOW + 5000;
	assert_int_equal(store_key_put(t, &k), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	memset(kid, 'c', JOSE_KID_LEN);
	kid[JOSE_KID_LEN] = '\0';
	assert_int_equal(store_key_get(t, kid, &got), STORE_OK);
	assert_int_equal(got.alg, JOSE_ALG_ES256);
	assert_true(got.drop_at == UNIT_NOW + 5000);
	assert_true(got.retired_at == UNIT_NOW + 100);
	assert_string_equal(got.jwk, "{\"kty\":\"EC\"}");
	assert_string_equal(got.pem, k.pem);
	key_free(&got);
	assert_int_equal(store_key_get(t, "short", &got), STORE_NOTFOUND);

	assert_int_equal(store_key_signer(t, JOSE_ALG_RS256, UNIT_NOW, &got),
	    STORE_OK);
	assert_int_equal(got.kid[0], 'a');
	key_free(&got);
	assert_int_equal(store_key_signer(t, JOSE_ALG_RS256, UNIT_NOW + 600,
	    &got), STORE_OK);
	assert_int_equal(got.kid[0], 'b');
	key_free(&got);
	assert_int_equal(store_key_signer(t, JOSE_ALG_ES256, UNIT_NOW + 99,
	    &got), STORE_OK);
	key_free(&got);
	assert_int_equal(store_key_signer(t, JOSE_ALG_ES256, UNIT_NOW + 100,
	    &got), STORE_NOTFOUND);
	assert_int_equal(store_key_signer(t, JOSE_ALG_EDDSA, UNIT_NOW, &got),
	    STORE_NOTFOUND);
	store_txn_abort(t);

	/* A key breaking a limit is refused, nothing written. */
	t = begin(f->store, 1);
	make_key(&k, 'd', JOSE_ALG_ES256, UNIT_NOW);
	k.kid[10] = '\0';
	assert_int_equal(store_key_put(t, &k), STORE_INVALID);
	make_key(&k, 'd', JOSE_ALG__MAX, UNIT_NOW);
	assert_int_equal(store_key_put(t, &k), STORE_INVALID);
	make_key(&k, 'd', JOSE_ALG_ES256, UNIT_NOW);
	k.jwk = "";
	assert_int_equal(store_key_put(t, &k), STORE_INVALID);
	store_txn_abort(t);

	make_key(&k, 'c', JOSE_ALG_ES256, UNIT_NOW);
	assert_true(store_key_published(&k, UNIT_NOW));
	assert_false(store_key_published(&k, UNIT_NOW - 1));
	k.drop_at = UNIT_NOW + 10;
	assert_false(store_key_published(&k, UNIT_NOW + 10));
}

static enum store_each
record_key(const struct key *k, void *arg)
{
	char *seen = arg;
	size_t n = strlen(seen);

	seen[n] = k->kid[0];
	seen[n + 1] = '\0';
	return k->kid[0] == 'b' ? STORE_EACH_DELETE : STORE_EACH_NEXT;
}

/* Keys walk in kid order, replace, and delete. */
static void
test_key_foreach_delete(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct key k, got;
	char seen[16];

	t = begin(f->store, 1);
	make_key(&k, 'c', JOSE_ALG_ES256, UNIT_NOW);
	assert_int_equal(store_key_put(t, &k), STORE_OK);
	make_key(&k, 'a', JOSE_ALG_ES256, UNIT_NOW);
	assert_int_equal(store_key_put(t, &k), STORE_OK);
	make_key(&k, 'b', JOSE_ALG_RS256, UNIT_NOW);
	assert_int_equal(store_key_put(t, &k), STORE_OK);
	/* Put replaces. */
	make_key(&k, 'a', JOSE_ALG_ES256, UNIT_NOW + 7);
	assert_int_equal(store_key_put(t, &k), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	seen[0] = '\0';
	assert_int_equal(store_key_foreach(t, record_key, seen),
	    STORE_INVALID);
	assert_string_equal(seen, "ab");
	make_key(&k, 'a', JOSE_ALG_ES256, UNIT_NOW);
	assert_int_equal(store_key_get(t, k.kid, &got), STORE_OK);
	assert_true(got.sign_from == UNIT_NOW + 7);
	key_free(&got);
	assert_int_equal(store_key_delete(t, k.kid), STORE_INVALID);
	store_txn_abort(t);

	t = begin(f->store, 1);
	seen[0] = '\0';
	assert_int_equal(store_key_foreach(t, record_key, seen), STORE_OK);
	assert_string_equal(seen, "abc");
	make_key(&k, 'c', JOSE_ALG_ES256, UNIT_NOW);
	assert_int_equal(store_key_delete(t, k.kid), STORE_OK);
	assert_int_equal(store_key_delete(t, k.kid), STORE_NOTFOUND);
	assert_int_equal(store_key_delete(t, "short"), STORE_NOTFOUND);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	seen[0] = '\0';
	assert_int_equal(store_key_foreach(t, record_key, seen), STORE_OK);
	assert_string_equal(seen, "a");
	store_txn_abort(t);
}

/* Where a planted record goes. */
enum plant_table {
	PLANT_TOKENS = 0,
	PLANT_CLIENTS,
	PLANT_GRANTS,
	PLANT__MAX
};

/*
 * In a child, opens the environment with LMDB directly and writes value
 * under key in the named database.
 */
static int
raw_put(const char *db, const char *name, const void *key, size_t keylen,
    const void *value, size_t len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { keylen, (void *)key }, v = { len, (void *)value };

	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 3) != 0 ||
	    mdb_env_open(env, db, 0, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, name, 0, &dbi) != 0 ||
	    mdb_put(txn, dbi, &k, &v, 0) != 0 || mdb_txn_commit(txn) != 0)
		return 1;
	mdb_env_close(env);
	return 0;
}

/*
 * Writes value under key behind the store's back, as a bug or a disk
 * might: raw LMDB in a child, or SQL with the record's columns made up.
 * The store is opened again afterwards.
 */
static void
plant(struct sfx *f, enum plant_table table, const void *key, size_t keylen,
    const void *value, size_t len)
{
	static const char *const lmdb_names[PLANT__MAX] = {
		[PLANT_TOKENS] = "tokens",
		[PLANT_CLIENTS] = "clients",
		[PLANT_GRANTS] = "grants",
	};
	static const char *const sql[PLANT__MAX] = {
		[PLANT_TOKENS] = "INSERT INTO oauth_tokens (hash, kind, state, "
		    "client_id, grant_id, expires_at, record) VALUES ($1::bytea, "
		    "1, 0, 'svc', NULL, 0, $2::bytea) ON CONFLICT (hash) DO "
		    "UPDATE SET record = EXCLUDED.record",
		[PLANT_CLIENTS] = "INSERT INTO oauth_clients (id, is_public, "
		    "scope, record) VALUES ($1::text, false, '', $2::bytea) "
		    "ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record",
		[PLANT_GRANTS] = "INSERT INTO oauth_grants (id, client_id, "
		    "revoked, expires_at, record) VALUES ($1::bytea, 'web', "
		    "false, 0, $2::bytea) ON CONFLICT (id) DO UPDATE SET "
		    "record = EXCLUDED.record",
	};
	const char *values[2] = { key, value };
	int lengths[2] = { (int)keylen, (int)len }, formats[2] = { 1, 1 };
	PGconn *conn;
	PGresult *res;
	pid_t pid;

	sfx_close(f);
	if (f->backend == SFX_PG) {
		conn = sfx_pg_connect(f->db);
		res = PQexecParams(conn, sql[table], 2, NULL, values, lengths,
		    formats, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			fail_msg("plant: %s", PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
	} else {
		if ((pid = spawn()) == 0)
			_exit(raw_put(f->db, lmdb_names[table], key, keylen,
			    value, len));
		assert_int_equal(wait_child(pid), 0);
	}
	sfx_reopen(f);
}

static enum store_each
never(const unsigned char *key, const struct token *tok, void *arg)
{
	(void)key;
	(void)tok;
	(void)arg;
	fail_msg("callback reached for a corrupt record");
	return STORE_EACH_STOP;
}

static enum store_each
never_client(const struct client *c, void *arg)
{
	(void)c;
	(void)arg;
	fail_msg("callback reached for a corrupt client");
	return STORE_EACH_STOP;
}

static enum store_each
never_grant(const struct grant *g, void *arg)
{
	(void)g;
	(void)arg;
	fail_msg("callback reached for a corrupt grant");
	return STORE_EACH_STOP;
}

/*
 * Records that do not decode, or that sit under a key they do not name,
 * are STORE_CORRUPT wherever they are read, and never reach a callback.
 */
static void
test_corrupt_records(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct token tok;
	struct client c;
	struct grant g;
	struct buf b = { 0 };
	unsigned char key[TOKEN_HASH_LEN];
	unsigned char gid[GRANT_ID_LEN];

	/* Garbage under a token key. */
	key_of(key, 1, 0);
	plant(f, PLANT_TOKENS, key, sizeof(key), "\x01\x02", 2);
	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, key, &tok), STORE_CORRUPT);
	assert_null(tok.scope);
	assert_int_equal(store_token_foreach(t, never, NULL), STORE_CORRUPT);
	store_txn_abort(t);
	t = begin(f->store, 1);
	assert_int_equal(store_token_get(t, key, &tok), STORE_CORRUPT);
	assert_null(tok.scope);
	store_txn_abort(t);

	/* A bound token whose bind byte is past TOKEN_BIND__MAX. */
	make_token(&tok, TOKEN_ACCESS, "");
	tok.has_jti = 1;
	tok.bind = TOKEN_BIND_DPOP;
	assert_int_equal(store_record_token_encode(&tok, &b), STORE_OK);
	b.data[b.len - TOKEN_HASH_LEN - 1] = TOKEN_BIND__MAX;
	key_of(key, 1, 1);
	plant(f, PLANT_TOKENS, key, sizeof(key), b.data, b.len);
	buf_free(&b);
	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, key, &tok), STORE_CORRUPT);
	assert_null(tok.scope);
	store_txn_abort(t);

	/* A valid token under a key of the wrong length. */
	make_token(&tok, TOKEN_ACCESS, "");
	assert_int_equal(store_record_token_encode(&tok, &b), STORE_OK);
	plant(f, PLANT_TOKENS, "\0short", 6, b.data, b.len);
	buf_free(&b);
	t = begin(f->store, 0);
	assert_int_equal(store_token_foreach(t, never, NULL), STORE_CORRUPT);
	store_txn_abort(t);

	/* A client record under another client's id. */
	make_client(&c, "alpha");
	assert_int_equal(store_record_client_encode(&c, &b), STORE_OK);
	plant(f, PLANT_CLIENTS, "beta", 4, b.data, b.len);
	buf_free(&b);
	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "beta", &c), STORE_CORRUPT);
	assert_null(c.scope);
	store_txn_abort(t);

	/* A client record that is a grant. */
	make_grant(&g, 4);
	assert_int_equal(store_record_grant_encode(&g, &b), STORE_OK);
	plant(f, PLANT_CLIENTS, "gamma", 5, b.data, b.len);
	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "gamma", &c), STORE_CORRUPT);
	assert_int_equal(store_client_foreach(t, never_client, NULL),
	    STORE_CORRUPT);
	store_txn_abort(t);

	/* A grant stored under another id. */
	memset(gid, 5, sizeof(gid));
	plant(f, PLANT_GRANTS, gid, sizeof(gid), b.data, b.len);
	buf_free(&b);
	t = begin(f->store, 0);
	assert_int_equal(store_grant_get(t, gid, &g), STORE_CORRUPT);
	assert_null(g.subject);
	assert_int_equal(store_grant_foreach(t, never_grant, NULL),
	    STORE_CORRUPT);
	/* A token of that grant is not active. */
	make_token(&tok, TOKEN_ACCESS, "");
	tok.has_grant = 1;
	memcpy(tok.grant_id, gid, GRANT_ID_LEN);
	assert_false(store_token_is_active(t, &tok, UNIT_NOW));
	store_txn_abort(t);
	/* Revocation is not fooled into writing a corrupt grant back. */
	t = begin(f->store, 1);
	assert_int_equal(store_grant_revoke(t, gid), STORE_CORRUPT);
	store_txn_abort(t);
}

static void
test_strerror(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < STORE_STATUS__MAX; i++) {
		const char *s = store_strerror((enum store_status)i);

		assert_non_null(s);
		assert_true(*s != '\0');
		for (j = 0; j < i; j++)
			assert_string_not_equal(s,
			    store_strerror((enum store_status)j));
	}
	assert_string_equal(store_strerror(STORE_OK), "success");
	assert_string_equal(store_strerror(STORE_STATUS__MAX),
	    "unknown storage status");
	assert_string_equal(store_strerror((enum store_status)-1),
	    "unknown storage status");
}

#define C(name) cmocka_unit_test(name)

int
main(int argc, char *argv[])
{
	static const struct CMUnitTest tests[] = {
		C(test_backend),
		C(test_reopen),
		C(test_client_crud),
		C(test_client_fields),
		C(test_client_dpop),
		C(test_client_jwks),
		C(test_client_foreach),
		C(test_token_crud),
		C(test_token_fields),
		C(test_token_bind),
		C(test_token_foreach_delete),
		C(test_foreach_after),
		C(test_grant_crud),
		C(test_limits),
		C(test_abort_discards),
		C(test_visibility_across_processes),
		C(test_is_active),
		C(test_revoke),
		C(test_two_processes),
		C(test_spend_once_across_processes),
		C(test_spend_waits_for_holder),
		C(test_grant_waits_for_holder),
		C(test_purge),
		C(test_purge_batches),
		C(test_seen_put),
		C(test_seen_refused),
		C(test_seen_visibility),
		C(test_seen_waits_for_holder),
		C(test_seen_once_across_processes),
		C(test_seen_sweep),
		C(test_seen_exists_sweeps_nothing),
		C(test_seen_sweep_spares_own),
		C(test_seen_purge),
		C(test_stats),
		C(test_client_drop_tokens),
		C(test_scopes),
		C(test_keys),
		C(test_key_foreach_delete),
		C(test_corrupt_records),
		C(test_strerror),
	};

	/* A test name (a glob) as the argument runs only the tests it names. */
	return sfx_run("store contract", tests, ROWS(tests), sfx_setup,
	    sfx_teardown, argc > 1 ? argv[1] : NULL, 0) != 0;
}
