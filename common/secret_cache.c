/*
 * What one process remembers of the client secrets it has verified, so
 * that a FastCGI responder pays for an operator secret's KDF once per
 * client rather than on every request (see crypto_secret_derive), and a
 * generated secret's two blocks of SHA-256 once per client too.
 *
 * An entry holds the client id, the stored hash it was verified against
 * (so a changed secret misses) and the secret's AES-CMAC (RFC 4493) under
 * a key drawn at random for this process: nothing in it outlives the
 * process or helps search a stolen database.  Only a secret that verified
 * is put in, so guessing still pays the KDF every time.  CMAC rather than
 * a keyed SHA-256: a cache that costs what the generated secret's own
 * hash costs would save nothing there, and AES has instructions of its
 * own on every CPU this runs on, SHA-256 not on all (16 bytes of MAC are
 * plenty for an equality that is never shown to anyone).
 *
 * One cache serves one thread at a time (each responder thread has its
 * own, fcgi_main.c): the CMAC context is reused from call to call.
 */
#include <stdlib.h>
#include <string.h>

#include <nettle/cmac.h>

#include "common.h"

#define SECRET_CACHE_MAC_LEN CMAC128_DIGEST_SIZE

struct secret_cache_entry {
	char id[CLIENT_ID_MAX + 1];
	unsigned char stored[SECRET_HASH_LEN];
	unsigned char mac[SECRET_CACHE_MAC_LEN];
	int used;
};

struct secret_cache {
	struct cmac_aes128_ctx cmac;	/* keyed at random, per process */
	struct secret_cache_entry entries[SECRET_CACHE_SIZE];
	size_t next;		/* the slot a new client takes */
};

/* The CMAC of secret under c's key; the context is left ready again. */
static void
secret_cache_mac(struct secret_cache *c, const char *secret, size_t len,
    unsigned char mac[SECRET_CACHE_MAC_LEN])
{
	cmac_aes128_update(&c->cmac, len, (const uint8_t *)secret);
	cmac_aes128_digest(&c->cmac, SECRET_CACHE_MAC_LEN, mac);
}

/* A new, empty cache with a fresh key; NULL when memory or RAND fails. */
struct secret_cache *
secret_cache_new(void)
{
	struct secret_cache *c;
	unsigned char key[AES128_KEY_SIZE];

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (crypto_random(key, sizeof(key)) == -1) {
		free(c);
		return NULL;
	}
	cmac_aes128_set_key(&c->cmac, key);
	crypto_wipe(key, sizeof(key));
	return c;
}

/* Wipes and frees c; NULL is allowed. */
void
secret_cache_free(struct secret_cache *c)
{
	if (c == NULL)
		return;
	crypto_wipe(c, sizeof(*c));
	free(c);
}

/* The entry of client id, or NULL. */
static struct secret_cache_entry *
secret_cache_find(struct secret_cache *c, const char *id)
{
	size_t i;

	for (i = 0; i < SECRET_CACHE_SIZE; i++)
		if (c->entries[i].used && strcmp(c->entries[i].id, id) == 0)
			return &c->entries[i];
	return NULL;
}

/*
 * 1 when secret (len bytes) is the one verified for client id while its
 * stored hash was stored; 0 when it is not known to be (a miss, a changed
 * secret, another secret), and the caller must run the KDF.  stored NULL
 * says there is no such client: 0, after the same MAC, so that a miss
 * costs what it costs for a client that exists.  c may be NULL: nothing
 * is remembered then.
 */
int
secret_cache_match(struct secret_cache *c, const char *id,
    const unsigned char stored[SECRET_HASH_LEN], const char *secret,
    size_t len)
{
	struct secret_cache_entry *e;
	unsigned char mac[SECRET_CACHE_MAC_LEN];
	int match;

	if (c == NULL)
		return 0;
	secret_cache_mac(c, secret, len, mac);
	match = stored != NULL && (e = secret_cache_find(c, id)) != NULL &&
	    crypto_equal(e->stored, stored, SECRET_HASH_LEN) &&
	    crypto_equal(mac, e->mac, sizeof(mac));
	crypto_wipe(mac, sizeof(mac));
	return match;
}

/*
 * Remembers that secret verified for client id against stored, replacing
 * what was known of id, or else the oldest entry.  Call it only after a
 * successful verification.  c may be NULL.
 */
void
secret_cache_put(struct secret_cache *c, const char *id,
    const unsigned char stored[SECRET_HASH_LEN], const char *secret,
    size_t len)
{
	struct secret_cache_entry *e;

	if (c == NULL || strlen(id) > CLIENT_ID_MAX)
		return;
	if ((e = secret_cache_find(c, id)) == NULL) {
		e = &c->entries[c->next];
		c->next = (c->next + 1) % SECRET_CACHE_SIZE;
	}
	secret_cache_mac(c, secret, len, e->mac);
	memcpy(e->id, id, strlen(id) + 1);
	memcpy(e->stored, stored, SECRET_HASH_LEN);
	e->used = 1;
}
