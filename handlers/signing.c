/*
 * Signing for the handlers: the key that signs now (store_key_signer),
 * parsed once per process and kept by kid in a small cache, since OpenSSL
 * 3 takes milliseconds to decode a private key.  A CGI process has no
 * cache and parses the key it needs once for its one request.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define SIGNING_CACHE_SIZE 8	/* parsed keys a process keeps */

struct signing_slot {
	char kid[JOSE_KID_LEN + 1];
	enum jose_alg alg;
	EVP_PKEY *pkey;
};

struct signing_cache {
	struct signing_slot slots[SIGNING_CACHE_SIZE];
	size_t next;		/* the slot the next new key replaces */
	/* The last signing_secret: the key it came from, and it. */
	char secret_kid[JOSE_KID_LEN + 1];
	unsigned char secret[TOKEN_HASH_LEN];
};

/* A new, empty cache; NULL when memory runs out (signing still works). */
struct signing_cache *
signing_cache_new(void)
{
	return calloc(1, sizeof(struct signing_cache));
}

/* Frees c and every key it holds.  Accepts NULL. */
void
signing_cache_free(struct signing_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < SIGNING_CACHE_SIZE; i++)
		jose_key_free(c->slots[i].pkey);
	crypto_wipe(c->secret, sizeof(c->secret));
	free(c);
}

/*
 * The parsed key of k: from c when it holds k's kid, else parsed from k's
 * PEM and, when c is not NULL, kept there (replacing the oldest entry).
 * *owned is set when the caller must jose_key_free the result (no cache).
 * Returns NULL when the key does not parse.
 */
static EVP_PKEY *
signing_key_of(struct signing_cache *c, const struct key *k, int *owned)
{
	struct signing_slot *slot;
	EVP_PKEY *pkey;
	size_t i;

	*owned = 0;
	for (i = 0; c != NULL && i < SIGNING_CACHE_SIZE; i++)
		if (c->slots[i].pkey != NULL && c->slots[i].alg == k->alg &&
		    strcmp(c->slots[i].kid, k->kid) == 0)
			return c->slots[i].pkey;
	if (jose_key_load(k->alg, k->pem, strlen(k->pem), &pkey) == -1)
		return NULL;
	if (c == NULL) {
		*owned = 1;
		return pkey;
	}
	slot = &c->slots[c->next];
	c->next = (c->next + 1) % SIGNING_CACHE_SIZE;
	jose_key_free(slot->pkey);
	memcpy(slot->kid, k->kid, sizeof(slot->kid));
	slot->alg = k->alg;
	slot->pkey = pkey;
	return pkey;
}

/*
 * The key that signs alg now (store_key_signer) into *k, the caller's to
 * key_free.  Returns OAUTH_OK; OAUTH_SERVER_ERROR with *why naming what
 * is missing ("oauthctl key generate"); or the error of a storage
 * failure.
 */
static enum oauth_error
signing_key_now(const struct handler_env *env, struct store_txn *txn,
    enum jose_alg alg, struct key *k, const char **why)
{
	enum store_status st;

	st = store_key_signer(txn, alg, env->now(env->ctx), k);
	if (st == STORE_NOTFOUND) {
		*why = "no key signs with this algorithm: the operator must "
		       "run 'oauthctl key generate'";
		return OAUTH_SERVER_ERROR;
	}
	if (st != STORE_OK) {
		*why = "the database failed";
		return oauth_error_from_store(st);
	}
	return OAUTH_OK;
}

/*
 * Signs the len bytes of payload (the claims, a JSON object) as a compact
 * JWS with the key that signs alg now, header typ typ (NULL: none),
 * appending it to out.  Returns OAUTH_OK; OAUTH_SERVER_ERROR with *why
 * naming what is missing ("no signing key": run oauthctl key generate) or
 * what failed; or the error of a storage failure.  Nothing secret is ever
 * in *why.
 */
enum oauth_error
signing_sign_bytes(const struct handler_env *env, struct store_txn *txn,
    enum jose_alg alg, const char *typ, const char *payload, size_t len,
    struct buf *out, const char **why)
{
	struct key k;
	enum oauth_error err;
	EVP_PKEY *pkey;
	int owned, rc;

	if ((err = signing_key_now(env, txn, alg, &k, why)) != OAUTH_OK)
		return err;
	if ((pkey = signing_key_of(env->signing, &k, &owned)) == NULL) {
		key_free(&k);
		*why = "the signing key does not load";
		return OAUTH_SERVER_ERROR;
	}
	rc = jose_sign(pkey, alg, k.kid, typ, payload, len, out);
	*why = "the token could not be signed";
	if (owned)
		jose_key_free(pkey);
	key_free(&k);
	return rc == 0 ? OAUTH_OK : OAUTH_SERVER_ERROR;
}

/* As signing_sign_bytes, of claims printed here. */
enum oauth_error
signing_sign(const struct handler_env *env, struct store_txn *txn,
    enum jose_alg alg, const char *typ, const cJSON *claims, struct buf *out,
    const char **why)
{
	enum oauth_error err;
	char *payload;

	if ((payload = cJSON_PrintUnformatted(claims)) == NULL) {
		*why = "out of memory";
		return OAUTH_SERVER_ERROR;
	}
	err = signing_sign_bytes(env, txn, alg, typ, payload, strlen(payload),
	    out, why);
	crypto_wipe(payload, strlen(payload));
	cJSON_free(payload);
	return err;
}

/*
 * A secret that every process on every machine sharing the database
 * derives alike, and nobody without the database can: SHA-256 of a
 * domain and the private key that signs alg now, in out.  It changes when
 * that key does (oauthctl key rotate), which ends what it made: a DPoP
 * nonce (dpop.c) is then asked for again.  Kept per process with the kid
 * it came from.  Returns OAUTH_OK, or the error of signing_sign_bytes
 * with *why set.
 */
enum oauth_error
signing_secret(const struct handler_env *env, struct store_txn *txn,
    enum jose_alg alg, unsigned char out[TOKEN_HASH_LEN], const char **why)
{
	static const char domain[] = "fcgi-oauth DPoP nonce key";
	struct signing_cache *c = env->signing;
	struct key k;
	enum oauth_error err;
	struct buf in = {0};

	if ((err = signing_key_now(env, txn, alg, &k, why)) != OAUTH_OK)
		return err;
	if (c != NULL && strcmp(c->secret_kid, k.kid) == 0) {
		memcpy(out, c->secret, TOKEN_HASH_LEN);
		key_free(&k);
		return OAUTH_OK;
	}
	if (buf_append(&in, domain, sizeof(domain)) == -1 ||
	    buf_puts(&in, k.pem) == -1) {
		if (in.data != NULL)
			crypto_wipe(in.data, in.cap);
		buf_free(&in);
		key_free(&k);
		*why = "out of memory";
		return OAUTH_SERVER_ERROR;
	}
	(void)crypto_sha256(in.data, in.len, out);
	crypto_wipe(in.data, in.cap);
	buf_free(&in);
	if (c != NULL) {
		memcpy(c->secret_kid, k.kid, sizeof(c->secret_kid));
		memcpy(c->secret, out, TOKEN_HASH_LEN);
	}
	key_free(&k);
	return OAUTH_OK;
}
