/*
 * GET /jwks (RFC 7517 §5): the public keys of every signing key that is
 * published now, from one read transaction.  Each record carries its
 * public JWK, so no private key is read or parsed here.  Verifiers may
 * cache the answer for JWKS_MAX_AGE seconds, which is why a new key is
 * published that long before it signs.
 */
#include <string.h>

#include "handlers.h"

/* The walk over the keys: the array of JWKs so far. */
struct jwks_walk {
	cJSON *keys;
	int64_t now;
	int failed;
};

/* Adds the public JWK of k to the array when k is published. */
static enum store_each
jwks_add(const struct key *k, void *arg)
{
	struct jwks_walk *w = arg;
	cJSON *jwk;

	if (!store_key_published(k, w->now))
		return STORE_EACH_NEXT;
	if ((jwk = cJSON_Parse(k->jwk)) == NULL || !cJSON_IsObject(jwk)) {
		cJSON_Delete(jwk);
		w->failed = 1;
		return STORE_EACH_STOP;
	}
	cJSON_AddItemToArray(w->keys, jwk);
	return STORE_EACH_NEXT;
}

void
handler_jwks(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	struct store_txn *txn = NULL;
	struct jwks_walk w;
	enum store_status st;
	cJSON *o;

	(void)req;
	memset(&w, 0, sizeof(w));
	w.now = env->now(env->ctx);
	if ((o = cJSON_CreateObject()) == NULL ||
	    (w.keys = cJSON_AddArrayToObject(o, "keys")) == NULL) {
		cJSON_Delete(o);
		response_error(resp, OAUTH_SERVER_ERROR, "out of memory");
		return;
	}
	if ((st = store_txn_begin(env->store, 0, &txn)) != STORE_OK ||
	    (st = store_key_foreach(txn, jwks_add, &w)) != STORE_OK) {
		store_txn_abort(txn);
		cJSON_Delete(o);
		response_store_error(resp, st);
		return;
	}
	store_txn_abort(txn);
	if (w.failed) {
		cJSON_Delete(o);
		response_error(resp, OAUTH_SERVER_ERROR,
		    "a stored public key does not parse");
		return;
	}
	if (response_json(resp, 200, o) == 0)
		resp->max_age = JWKS_MAX_AGE;
}
