/*
 * What one process remembers of the client secrets it has verified, so
 * that a FastCGI responder pays for an operator secret's KDF once per
 * client rather than on every request (see crypto_secret_derive).
 *
 * An entry holds the client id, the stored hash it was verified against
 * (so a changed secret misses) and SHA-256(key || secret) under a key
 * drawn at random for this process: nothing in it outlives the process or
 * helps search a stolen database.  Only a secret that verified is put in,
 * so guessing still pays the KDF every time.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

struct secret_cache_entry {
	char id[CLIENT_ID_MAX + 1];
	unsigned char stored[SECRET_HASH_LEN];
	unsigned char digest[SECRET_HASH_LEN];
	int used;
};

struct secret_cache {
	unsigned char key[SECRET_SALT_LEN];
	struct secret_cache_entry entries[SECRET_CACHE_SIZE];
	size_t next;		/* the slot a new client takes */
};

/* A new, empty cache with a fresh key; NULL when memory or RAND fails. */
struct secret_cache *
secret_cache_new(void)
{
	struct secret_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (crypto_random(c->key, sizeof(c->key)) == -1) {
		free(c);
		return NULL;
	}
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
 * secret, another secret), and the caller must run the KDF.  c may be
 * NULL: nothing is remembered then.
 */
int
secret_cache_match(struct secret_cache *c, const char *id,
    const unsigned char stored[SECRET_HASH_LEN], const char *secret,
    size_t len)
{
	struct secret_cache_entry *e;
	unsigned char digest[SECRET_HASH_LEN];
	int match;

	if (c == NULL || (e = secret_cache_find(c, id)) == NULL ||
	    !crypto_equal(e->stored, stored, SECRET_HASH_LEN) ||
	    crypto_secret_hash(c->key, secret, len, digest) == -1)
		return 0;
	match = crypto_equal(digest, e->digest, SECRET_HASH_LEN);
	crypto_wipe(digest, sizeof(digest));
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
	if (crypto_secret_hash(c->key, secret, len, e->digest) == -1) {
		crypto_wipe(e, sizeof(*e));
		return;
	}
	memcpy(e->id, id, strlen(id) + 1);
	memcpy(e->stored, stored, SECRET_HASH_LEN);
	e->used = 1;
}
