/*
 * One record of a walk, the same for every backend: decoded, checked
 * against the key it is stored under, handed to the walk's callback, and
 * freed.
 */
#include <string.h>

#include "store_backend.h"

/*
 * Decodes the len bytes at rec, stored under the keylen bytes at key,
 * with the decoder of whichever callback of each is set, and hands the
 * record to it; *next is its answer.  A record that does not decode, or
 * names another key than it is stored under, is STORE_CORRUPT and reaches
 * no callback.  The callback gets its own copy of a token's key, so that
 * nothing it keeps points into the backend's buffers.  Returns STORE_OK
 * or the failure, with *next STORE_EACH_STOP then.
 */
enum store_status
store_each_visit(const struct store_each_fn *each, const void *key,
    size_t keylen, const void *rec, size_t len, enum store_each *next)
{
	union {
		struct client c;
		struct token t;
		struct grant g;
		struct key k;
	} r;
	unsigned char hash[TOKEN_HASH_LEN];
	enum store_status st;

	*next = STORE_EACH_STOP;
	if (each->client != NULL) {
		if ((st = store_record_client_decode(rec, len, &r.c)) !=
		    STORE_OK)
			return st;
		if (keylen != strlen(r.c.id) ||
		    memcmp(key, r.c.id, keylen) != 0) {
			client_free(&r.c);
			return STORE_CORRUPT;
		}
		*next = each->client(&r.c, each->arg);
		client_free(&r.c);
	} else if (each->token != NULL) {
		if (keylen != sizeof(hash))
			return STORE_CORRUPT;
		if ((st = store_record_token_decode(rec, len, &r.t)) !=
		    STORE_OK)
			return st;
		memcpy(hash, key, sizeof(hash));
		*next = each->token(hash, &r.t, each->arg);
		token_free(&r.t);
	} else if (each->key != NULL) {
		if ((st = store_record_key_decode(rec, len, &r.k)) != STORE_OK)
			return st;
		if (keylen != strlen(r.k.kid) ||
		    memcmp(key, r.k.kid, keylen) != 0) {
			key_free(&r.k);
			return STORE_CORRUPT;
		}
		*next = each->key(&r.k, each->arg);
		key_free(&r.k);
	} else {
		if ((st = store_record_grant_decode(rec, len, &r.g)) !=
		    STORE_OK)
			return st;
		if (keylen != sizeof(r.g.id) ||
		    memcmp(key, r.g.id, keylen) != 0) {
			grant_free(&r.g);
			return STORE_CORRUPT;
		}
		*next = each->grant(&r.g, each->arg);
		grant_free(&r.g);
	}
	return STORE_OK;
}
