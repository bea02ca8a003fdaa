/*
 * Purge: deleting the tokens, codes and grants that nothing needs any
 * more, in bounded batches of one write transaction each, so that a purge
 * of a large database never holds the writers' lock for long, and so that
 * it works on a database whose map is full, which is when it is needed
 * most.  LMDB's purge: PostgreSQL deletes with queries (store_pg.c).
 */
#include <string.h>

#include "store_backend.h"

#define STORE_PURGE_BATCH 512	/* deletions one transaction starts with */
#define STORE_PURGE_GROWS 8	/* map growths one purge may make */

/* One batch of a walk: where it resumes, what it may still delete. */
struct store_purge_batch {
	struct store_txn *txn;
	int64_t now;
	size_t limit;		/* deletions this batch may make */
	size_t deleted;		/* made so far */
	size_t codes;		/* of which authorization codes */
	int more;		/* stopped at the limit: records are left */
	unsigned char last[TOKEN_HASH_LEN]; /* the last key seen */
	int has_last;
};

/* Deletes a token or code that store_token_purgeable picks. */
static enum store_each
store_purge_token(const unsigned char *key, const struct token *tok,
    void *arg)
{
	struct store_purge_batch *b = arg;

	if (b->deleted == b->limit) {
		b->more = 1;
		return STORE_EACH_STOP;
	}
	memcpy(b->last, key, TOKEN_HASH_LEN);
	b->has_last = 1;
	if (!store_token_purgeable(b->txn, tok, b->now))
		return STORE_EACH_NEXT;
	b->deleted++;
	if (tok->kind == TOKEN_CODE)
		b->codes++;
	return STORE_EACH_DELETE;
}

/*
 * Deletes an expired grant: its expiry is the latest of anything issued
 * under it, so nothing that still needs it is left behind.
 */
static enum store_each
store_purge_grant(const struct grant *g, void *arg)
{
	struct store_purge_batch *b = arg;

	if (b->deleted == b->limit) {
		b->more = 1;
		return STORE_EACH_STOP;
	}
	memcpy(b->last, g->id, GRANT_ID_LEN);
	b->has_last = 1;
	if (g->expires_at > b->now)
		return STORE_EACH_NEXT;
	b->deleted++;
	return STORE_EACH_DELETE;
}

/*
 * Runs the walk of grants (when grants is set) or of tokens to its end, in
 * batches of one write transaction each, resuming after the last key a
 * batch saw.  A batch refused for a full map is tried again smaller, and
 * once it is down to one deletion the map is grown (store_map_grow), at
 * most STORE_PURGE_GROWS times in all (*grows counts them).  Adds what was
 * deleted to *deleted and *codes.  Returns STORE_OK, or the failure that
 * stopped it; every batch before it stays committed.
 */
static enum store_status
store_purge_walk(struct store *s, int64_t now, int grants, size_t *deleted,
    size_t *codes, int *grows)
{
	struct store_purge_batch b;
	unsigned char after[TOKEN_HASH_LEN];
	size_t limit = STORE_PURGE_BATCH;
	enum store_status st;
	int has_after = 0;

	for (;;) {
		memset(&b, 0, sizeof(b));
		b.now = now;
		b.limit = limit;
		if ((st = store_txn_begin(s, 1, &b.txn)) != STORE_OK)
			return st;
		if (grants)
			st = store_grant_foreach_after(b.txn,
			    has_after ? after : NULL, store_purge_grant, &b);
		else
			st = store_token_foreach_after(b.txn,
			    has_after ? after : NULL, store_purge_token, &b);
		if (st == STORE_OK)
			st = store_txn_commit(b.txn);
		else
			store_txn_abort(b.txn);
		if (st == STORE_FULL) {
			/* Deleting copies pages too: fewer, then room. */
			if (limit > 1) {
				limit /= 4;
				if (limit == 0)
					limit = 1;
				continue;
			}
			if (*grows == STORE_PURGE_GROWS)
				return STORE_FULL;
			(*grows)++;
			if ((st = store_map_grow(s)) != STORE_OK)
				return st;
			continue;
		}
		if (st != STORE_OK)
			return st;
		*deleted += b.deleted;
		*codes += b.codes;
		if (!b.more)
			return STORE_OK;
		/* Room was found: batches grow back, for fewer commits. */
		if (limit < STORE_PURGE_BATCH)
			limit = limit * 2 < STORE_PURGE_BATCH ? limit * 2
							      : STORE_PURGE_BATCH;
		memcpy(after, b.last, sizeof(after));
		has_after = 1;
	}
}

/*
 * Deletes every grant that has expired at now, then every token and code
 * that store_token_purgeable picks, and counts them in *out.  Works on a
 * full database (store_purge_walk).  Returns STORE_OK, or the failure that
 * stopped it, with *out counting what was deleted before.
 */
enum store_status
store_walk_purge(struct store *s, int64_t now, struct store_purged *out)
{
	enum store_status st;
	size_t tokens = 0, unused = 0;
	int grows = 0;

	memset(out, 0, sizeof(*out));
	/*
	 * Grants first: a spent code whose grant has just gone is then
	 * deleted in the same purge.
	 */
	st = store_purge_walk(s, now, 1, &out->grants, &unused, &grows);
	if (st == STORE_OK)
		st = store_purge_walk(s, now, 0, &tokens, &out->codes, &grows);
	out->tokens = tokens - out->codes;
	out->grown = grows;
	return st;
}
