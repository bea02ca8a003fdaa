/*
 * Set operations done by walking every record in key order: the way for a
 * backend without queries (LMDB).  Only the store_* interface is used.
 */
#include <string.h>

#include "store_backend.h"

/* A walk of stats: the transaction, for a token's grant, and the count. */
struct store_walk_count {
	struct store_txn *txn;
	int64_t now;
	struct store_stats *out;
};

/* A walk of drop_tokens: the client and what was deleted. */
struct store_walk_drop {
	const char *client_id;
	struct store_purged *out;
};

/* Whether a row can be in the "used" state: rotated or redeemed. */
static const int store_walk_row_used[STORE_STATS_ROW__MAX] = {
	[STORE_STATS_REFRESH] = 1,
	[STORE_STATS_CODES] = 1,
};

static enum store_each
store_walk_count_client(const struct client *c, void *arg)
{
	struct store_walk_count *w = arg;

	if (c->is_public)
		w->out->public++;
	else
		w->out->confidential++;
	return STORE_EACH_NEXT;
}

/*
 * Counts a token in one state.  Active is what the server would accept
 * (store_token_is_active); otherwise its own state, then its expiry, and
 * last its grant: a token whose grant was revoked counts as revoked.
 */
static enum store_each
store_walk_count_token(const unsigned char *hash, const struct token *t,
    void *arg)
{
	struct store_walk_count *w = arg;
	enum store_stats_row row;
	enum store_stats_state state;

	(void)hash;
	switch (t->kind) {
	case TOKEN_ACCESS:
		row = STORE_STATS_ACCESS;
		break;
	case TOKEN_REFRESH:
		row = STORE_STATS_REFRESH;
		break;
	case TOKEN_CODE:
		row = STORE_STATS_CODES;
		break;
	case TOKEN_KIND__MAX:
	default:
		return STORE_EACH_NEXT;
	}
	if (store_token_is_active(w->txn, t, w->now))
		state = STORE_STATS_ACTIVE;
	else if (t->state == TOKEN_STATE_USED && store_walk_row_used[row])
		state = STORE_STATS_USED;
	else if (t->state == TOKEN_STATE_REVOKED)
		state = STORE_STATS_REVOKED;
	else if (t->expires_at <= w->now)
		state = STORE_STATS_EXPIRED;
	else
		state = STORE_STATS_REVOKED;
	w->out->counts[row][state]++;
	return STORE_EACH_NEXT;
}

static enum store_each
store_walk_count_grant(const struct grant *g, void *arg)
{
	struct store_walk_count *w = arg;
	size_t *counts = w->out->counts[STORE_STATS_GRANTS];

	if (g->revoked)
		counts[STORE_STATS_REVOKED]++;
	else if (g->expires_at <= w->now)
		counts[STORE_STATS_EXPIRED]++;
	else
		counts[STORE_STATS_ACTIVE]++;
	return STORE_EACH_NEXT;
}

/* Counts every record of t as of now into *out (struct store_stats). */
enum store_status
store_walk_stats(struct store_txn *t, int64_t now, struct store_stats *out)
{
	struct store_walk_count w = { t, now, out };
	enum store_status st;

	if ((st = store_client_foreach(t, store_walk_count_client, &w)) ==
	    STORE_OK &&
	    (st = store_token_foreach(t, store_walk_count_token, &w)) ==
	    STORE_OK)
		st = store_grant_foreach(t, store_walk_count_grant, &w);
	return st;
}

static enum store_each
store_walk_drop_token(const unsigned char *hash, const struct token *t,
    void *arg)
{
	struct store_walk_drop *d = arg;

	(void)hash;
	if (strcmp(t->client_id, d->client_id) != 0)
		return STORE_EACH_NEXT;
	if (t->kind == TOKEN_CODE)
		d->out->codes++;
	else
		d->out->tokens++;
	return STORE_EACH_DELETE;
}

static enum store_each
store_walk_drop_grant(const struct grant *g, void *arg)
{
	struct store_walk_drop *d = arg;

	if (strcmp(g->client_id, d->client_id) != 0)
		return STORE_EACH_NEXT;
	d->out->grants++;
	return STORE_EACH_DELETE;
}

/*
 * Deletes, in the write transaction t, every token, code and grant of the
 * client id, adding how many to *out.  Returns STORE_OK, or the failure of
 * a walk, after which the caller must abort.
 */
enum store_status
store_walk_drop_tokens(struct store_txn *t, const char *id,
    struct store_purged *out)
{
	struct store_walk_drop d = { id, out };
	enum store_status st;

	if ((st = store_token_foreach(t, store_walk_drop_token, &d)) !=
	    STORE_OK)
		return st;
	return store_grant_foreach(t, store_walk_drop_grant, &d);
}
