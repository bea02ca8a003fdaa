/*
 * Client secrets: an operator's stored with PBKDF2, a generated one's with
 * SHA-256 (crypto_secret_derive), verified through client authentication,
 * and remembered per process by secret_cache.c so that only the first
 * request of a client pays the KDF or the hash.
 */
#include "handler_fixture.h"

#define SC_ID "op"
#define SC_SECRET "s3cret"		/* short: the KDF is what guards it */
#define SC_ROUNDS 1000			/* enough to take the PBKDF2 path */
#define SC_TOKEN_BODY "grant_type=client_credentials&client_id=" SC_ID \
	"&client_secret="

/* PBKDF2 is not the fast hash, and both are deterministic. */
static void
test_derive(void **state)
{
	static const unsigned char salt[SECRET_SALT_LEN] = {1, 2, 3};
	unsigned char fast[SECRET_HASH_LEN], slow[SECRET_HASH_LEN];
	unsigned char again[SECRET_HASH_LEN], plain[SECRET_HASH_LEN];

	(void)state;
	assert_int_equal(crypto_secret_derive(salt, SC_SECRET,
	    strlen(SC_SECRET), 0, fast), 0);
	assert_int_equal(crypto_secret_hash(salt, SC_SECRET, strlen(SC_SECRET),
	    plain), 0);
	assert_memory_equal(fast, plain, SECRET_HASH_LEN);
	assert_int_equal(crypto_secret_derive(salt, SC_SECRET,
	    strlen(SC_SECRET), SC_ROUNDS, slow), 0);
	assert_int_equal(crypto_secret_derive(salt, SC_SECRET,
	    strlen(SC_SECRET), SC_ROUNDS, again), 0);
	assert_memory_equal(slow, again, SECRET_HASH_LEN);
	assert_memory_not_equal(slow, fast, SECRET_HASH_LEN);
	assert_int_equal(crypto_secret_derive(salt, SC_SECRET,
	    strlen(SC_SECRET), SC_ROUNDS + 1, again), 0);
	assert_memory_not_equal(slow, again, SECRET_HASH_LEN);
}

/* The cache alone: hits only for the same client, stored hash, secret. */
static void
test_cache(void **state)
{
	static const unsigned char stored[SECRET_HASH_LEN] = {7};
	static const unsigned char other[SECRET_HASH_LEN] = {8};
	struct secret_cache *c;
	char id[32];
	int i;

	(void)state;
	assert_int_equal(secret_cache_match(NULL, "a", stored, "x", 1), 0);
	secret_cache_put(NULL, "a", stored, "x", 1);
	assert_non_null(c = secret_cache_new());
	assert_int_equal(secret_cache_match(c, "a", stored, "x", 1), 0);
	secret_cache_put(c, "a", stored, "x", 1);
	assert_int_equal(secret_cache_match(c, "a", stored, "x", 1), 1);
	assert_int_equal(secret_cache_match(c, "a", stored, "y", 1), 0);
	assert_int_equal(secret_cache_match(c, "a", stored, "xx", 2), 0);
	assert_int_equal(secret_cache_match(c, "b", stored, "x", 1), 0);
	/* A new secret was stored: what was verified before no longer is. */
	assert_int_equal(secret_cache_match(c, "a", other, "x", 1), 0);
	/* Putting id again replaces its entry. */
	secret_cache_put(c, "a", other, "z", 1);
	assert_int_equal(secret_cache_match(c, "a", other, "z", 1), 1);
	assert_int_equal(secret_cache_match(c, "a", stored, "x", 1), 0);
	/* No stored hash: no such client, whatever was remembered. */
	assert_int_equal(secret_cache_match(c, "a", NULL, "z", 1), 0);
	/* SECRET_CACHE_SIZE more clients push the first one out. */
	for (i = 0; i < SECRET_CACHE_SIZE; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		secret_cache_put(c, id, stored, "x", 1);
	}
	assert_int_equal(secret_cache_match(c, "a", other, "z", 1), 0);
	assert_int_equal(secret_cache_match(c, "c1", stored, "x", 1), 1);
	secret_cache_free(c);
	secret_cache_free(NULL);
}

/*
 * Registers SC_ID (client_credentials, scope "read") with secret, stored
 * as oauthctl stores one: a fresh salt and rounds of PBKDF2 (an
 * operator's, SC_ROUNDS here) or 0 (a generated one's SHA-256).
 */
static void
sc_add(struct fx *f, const char *secret, uint32_t rounds)
{
	struct client c;
	struct store_txn *txn;

	memset(&c, 0, sizeof(c));
	strcpy(c.id, SC_ID);
	c.grant_types = GRANT_CLIENT_CREDENTIALS;
	c.scope = "read";
	c.secret_iterations = rounds;
	assert_int_equal(crypto_random(c.secret_salt, sizeof(c.secret_salt)),
	    0);
	assert_int_equal(crypto_secret_derive(c.secret_salt, secret,
	    strlen(secret), c.secret_iterations, c.secret_hash), 0);
	assert_int_equal(store_txn_begin(f->store, 1, &txn), STORE_OK);
	assert_int_equal(store_client_put(txn, &c, 1), STORE_OK);
	assert_int_equal(store_txn_commit(txn), STORE_OK);
}

/* POSTs a client_credentials request as SC_ID with secret; the status. */
static int
sc_token(struct fx *f, const char *secret)
{
	struct fx_resp out;
	int status;

	fx_postf(f, "/token", NULL, &out, SC_TOKEN_BODY "%s", secret);
	status = out.r.status;
	fx_resp_free(&out);
	return status;
}

/*
 * Through the token endpoint, with and without a process cache, for an
 * operator's secret and a generated one's scheme: the right secret works,
 * a wrong one never does, and a changed secret takes effect at once
 * although the old one was remembered.
 */
static void
test_operator_secret(void **state)
{
	struct fx *f = *state;
	uint32_t rounds;
	int pass;

	for (pass = 0; pass < 4; pass++) {
		rounds = pass < 2 ? SC_ROUNDS : 0;
		f->env.secret_cache = pass % 2 == 0 ? NULL :
		    secret_cache_new();
		sc_add(f, SC_SECRET, rounds);
		assert_int_equal(sc_token(f, SC_SECRET), 200);
		assert_int_equal(sc_token(f, SC_SECRET), 200);
		assert_int_equal(sc_token(f, "s3creT"), 401);
		assert_int_equal(sc_token(f, SC_SECRET "x"), 401);
		assert_int_equal(sc_token(f, SC_SECRET), 200);
		/* oauthctl client secret: a new salt and hash. */
		sc_add(f, "n3w", rounds);
		assert_int_equal(sc_token(f, SC_SECRET), 401);
		assert_int_equal(sc_token(f, "n3w"), 200);
		assert_int_equal(sc_token(f, "n3w"), 200);
		secret_cache_free(f->env.secret_cache);
		f->env.secret_cache = NULL;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_cache),
		cmocka_unit_test_setup_teardown(test_operator_secret, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
