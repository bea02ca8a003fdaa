/*
 * Group commit for the threads of one process sharing one LMDB store
 * (STORE_OPEN_THREADS).  Every commit of LMDB costs its flushes, and a
 * process has one writer at a time; so one committer thread begins an
 * LMDB write transaction and lets the writers of many requests into it,
 * one after another, each in a transaction nested in it, then commits
 * them all with one flush.
 *
 * A thread's write transaction waits in a queue for its turn.  In its
 * turn it works in its own nested transaction, in its own thread: LMDB
 * ties only the outermost write transaction to a thread (the one holding
 * the writer lock, the committer), a nested one has no thread of its own,
 * and the group's lock orders each hand-over, so one thread at a time
 * touches the transactions of a group.  Its commit joins the nested
 * transaction to the group, hands the turn to the next writer (or back to
 * the committer), and waits until the group is committed: it returns what
 * that commit returned, so a request is answered only once what it wrote
 * is as durable as OAUTH_DB_SYNC makes any commit, and when that commit
 * fails every request of the group gets the failure.  An abort, or a
 * failed write, discards that request's changes only.  The group is
 * committed once no more writers wait, or STORE_GROUP_MAX of them have
 * written: writers who come while it flushes form the next.
 *
 * The writes of one group are serial, as one writer's are: a code or a
 * refresh token is spent exactly once, and each request sees all that the
 * ones before it in the group wrote.  Read transactions go to the inner
 * store directly.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

#define STORE_GROUP_MAX 64	/* write transactions in one commit */
#define GS(s) ((struct store_group *)(void *)(s))
#define GT(t) ((struct store_group_txn *)(void *)(t))
#define GIN(t) (GT(t)->inner)
#define GOPS(t) (GIN(t)->store->ops)

enum store_group_state {
	STORE_GROUP_QUEUED = 0,	/* waiting for its turn */
	STORE_GROUP_TURN,	/* its turn: it may begin its nested one */
	STORE_GROUP_JOINED,	/* committed into the group, waiting for it */
	STORE_GROUP_ENDED	/* result is final; the owner may go */
};

struct store_group_txn {
	struct store_txn base;
	/* A read's own transaction, or a write's nested one. */
	struct store_txn *inner;
	struct store_group_txn *next;	/* in the queue, or in the group */
	pthread_cond_t changed;	/* signalled when state changes */
	enum store_group_state state;
	enum store_status result;	/* of the begin or the group's commit */
};

struct store_group {
	struct store base;
	struct store *inner;
	pthread_mutex_t lock;	/* guards everything below and each state */
	pthread_cond_t work;	/* the committer waits on it */
	pthread_t committer;
	struct store_group_txn *queue, *queue_last;
	struct store_txn *top;	/* the open group's transaction */
	struct store_group_txn *turn;	/* the writer whose turn it is */
	struct store_group_txn *joined;	/* those waiting for its commit */
	unsigned long members;	/* how many joined */
	int started;		/* the committer is running */
	int stopping;
	struct store_commit_counts counts;
};

static const struct store_ops store_group_ops;

/* Makes w's result final and wakes its owner.  Under g->lock. */
static void
store_group_settle(struct store_group_txn *w, enum store_status st)
{
	w->result = st;
	w->state = STORE_GROUP_ENDED;
	(void)pthread_cond_signal(&w->changed);
}

/*
 * Gives the turn to the next queued writer while the group has room, or
 * back to the committer to commit the group.  Under g->lock, the group
 * open and nobody's turn.
 */
static void
store_group_next_turn(struct store_group *g)
{
	struct store_group_txn *w = g->queue;

	if (w == NULL || g->members >= STORE_GROUP_MAX) {
		g->turn = NULL;
		(void)pthread_cond_signal(&g->work);
		return;
	}
	if ((g->queue = w->next) == NULL)
		g->queue_last = NULL;
	w->next = NULL;
	w->state = STORE_GROUP_TURN;
	g->turn = w;
	(void)pthread_cond_signal(&w->changed);
}

/*
 * The committer: while writers wait, begins a transaction of the inner
 * store, lets them write in it one after another (each hands the turn on
 * when it ends), commits it, and gives the commit's result to each
 * writer that joined it.
 */
static void *
store_group_committer(void *arg)
{
	struct store_group *g = arg;
	struct store_group_txn *w, *next;
	struct store_txn *top;
	enum store_status st;
	unsigned long n;
	sigset_t all;

	/*
	 * The thread's first allocation makes its malloc arena, which may
	 * read /sys: done before store_group_open returns, and so before a
	 * sandbox would forbid it.
	 */
	free(malloc(1));
	/* Signals are for the threads that serve, never for this one. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, NULL);
	(void)pthread_mutex_lock(&g->lock);
	g->started = 1;
	(void)pthread_cond_broadcast(&g->work);
	for (;;) {
		while (g->queue == NULL && !g->stopping)
			(void)pthread_cond_wait(&g->work, &g->lock);
		if (g->queue == NULL)
			break;
		(void)pthread_mutex_unlock(&g->lock);
		st = g->inner->ops->txn_begin(g->inner, 1, &top);
		(void)pthread_mutex_lock(&g->lock);
		if (st != STORE_OK) {
			while ((w = g->queue) != NULL) {
				g->queue = w->next;
				store_group_settle(w, st);
			}
			g->queue_last = NULL;
			continue;
		}
		g->top = top;
		g->joined = NULL;
		g->members = 0;
		store_group_next_turn(g);
		while (g->turn != NULL)
			(void)pthread_cond_wait(&g->work, &g->lock);
		n = g->members;
		w = g->joined;
		g->top = NULL;
		(void)pthread_mutex_unlock(&g->lock);
		if (n > 0)
			st = g->inner->ops->txn_commit(top);
		else
			g->inner->ops->txn_abort(top);
		(void)pthread_mutex_lock(&g->lock);
		if (n > 0) {
			g->counts.commits++;
			g->counts.transactions += n;
		}
		for (; w != NULL; w = next) {
			next = w->next;
			store_group_settle(w, st);
		}
	}
	(void)pthread_mutex_unlock(&g->lock);
	return NULL;
}

/*
 * Wraps inner, an open store whose transactions nest, so that the threads
 * of the process share it and their commits are grouped.  On success *sp
 * is the caller's and owns inner; on failure inner is still the
 * caller's.  Returns STORE_INVALID for a store that cannot nest,
 * STORE_NOMEM when the committer cannot start.
 */
enum store_status
store_group_open(struct store *inner, struct store **sp)
{
	struct store_group *g;

	*sp = NULL;
	if (inner->ops->txn_begin_nested == NULL)
		return STORE_INVALID;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return STORE_NOMEM;
	g->base.ops = &store_group_ops;
	g->inner = inner;
	if (pthread_mutex_init(&g->lock, NULL) != 0)
		goto fail_free;
	if (pthread_cond_init(&g->work, NULL) != 0)
		goto fail_mutex;
	if (pthread_create(&g->committer, NULL, store_group_committer, g) != 0)
		goto fail_cond;
	(void)pthread_mutex_lock(&g->lock);
	while (!g->started)
		(void)pthread_cond_wait(&g->work, &g->lock);
	(void)pthread_mutex_unlock(&g->lock);
	*sp = &g->base;
	return STORE_OK;
fail_cond:
	(void)pthread_cond_destroy(&g->work);
fail_mutex:
	(void)pthread_mutex_destroy(&g->lock);
fail_free:
	free(g);
	return STORE_NOMEM;
}

/*
 * Stops the committer once every queued writer is served, then closes the
 * inner store.  No transaction may be open or begun meanwhile.
 */
static void
store_group_close(struct store *s)
{
	struct store_group *g = GS(s);

	(void)pthread_mutex_lock(&g->lock);
	g->stopping = 1;
	(void)pthread_cond_signal(&g->work);
	(void)pthread_mutex_unlock(&g->lock);
	(void)pthread_join(g->committer, NULL);
	(void)pthread_cond_destroy(&g->work);
	(void)pthread_mutex_destroy(&g->lock);
	store_close(g->inner);
	free(g);
}

/*
 * How many group commits s has made, how many write transactions they
 * held, and how many wait for the committer now, for tests and
 * benchmarks.  Returns -1, *out zeroed, for a store
 * that does not group (not opened with STORE_OPEN_THREADS).
 */
int
store_commit_counts(struct store *s, struct store_commit_counts *out)
{
	struct store_group_txn *w;

	memset(out, 0, sizeof(*out));
	if (s->ops != &store_group_ops)
		return -1;
	(void)pthread_mutex_lock(&GS(s)->lock);
	*out = GS(s)->counts;
	for (w = GS(s)->queue; w != NULL; w = w->next)
		out->waiting++;
	(void)pthread_mutex_unlock(&GS(s)->lock);
	return 0;
}

/*
 * A read goes to the inner store; a write waits in the queue for its
 * turn, then begins its transaction nested in the group's.
 */
static enum store_status
store_group_txn_begin(struct store *s, int writable, struct store_txn **tp)
{
	struct store_group *g = GS(s);
	struct store_group_txn *t;
	enum store_status st;

	*tp = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return STORE_NOMEM;
	t->base.store = s;
	t->base.writable = writable != 0;
	if (!writable) {
		if ((st = g->inner->ops->txn_begin(g->inner, 0, &t->inner)) !=
		    STORE_OK) {
			free(t);
			return st;
		}
		*tp = &t->base;
		return STORE_OK;
	}
	if (pthread_cond_init(&t->changed, NULL) != 0) {
		free(t);
		return STORE_NOMEM;
	}
	(void)pthread_mutex_lock(&g->lock);
	t->state = STORE_GROUP_QUEUED;
	if (g->queue_last != NULL)
		g->queue_last->next = t;
	else
		g->queue = t;
	g->queue_last = t;
	(void)pthread_cond_signal(&g->work);
	while (t->state == STORE_GROUP_QUEUED)
		(void)pthread_cond_wait(&t->changed, &g->lock);
	if (t->state == STORE_GROUP_TURN) {
		/* The group's transaction waits while this one is open. */
		st = g->inner->ops->txn_begin_nested(g->top, &t->inner);
		if (st != STORE_OK)
			store_group_next_turn(g);
	} else
		st = t->result;
	(void)pthread_mutex_unlock(&g->lock);
	if (st != STORE_OK) {
		(void)pthread_cond_destroy(&t->changed);
		free(t);
		return st;
	}
	*tp = &t->base;
	return STORE_OK;
}

/*
 * Ends t: a read in the inner store; a write's nested transaction
 * committed into the group (then waiting for the group's commit, whose
 * result it returns) or aborted, the turn handed on either way.
 */
static enum store_status
store_group_txn_end(struct store_txn *t, int commit)
{
	struct store_group *g = GS(t->store);
	struct store_group_txn *w = GT(t);
	enum store_status st = STORE_OK;

	if (!t->writable) {
		if (commit)
			st = store_txn_commit(w->inner);
		else
			store_txn_abort(w->inner);
		free(w);
		return st;
	}
	(void)pthread_mutex_lock(&g->lock);
	if (commit)
		st = store_txn_commit(w->inner);
	else
		store_txn_abort(w->inner);
	if (commit && st == STORE_OK) {
		w->state = STORE_GROUP_JOINED;
		w->next = g->joined;
		g->joined = w;
		g->members++;
	}
	store_group_next_turn(g);
	while (w->state == STORE_GROUP_JOINED)
		(void)pthread_cond_wait(&w->changed, &g->lock);
	if (commit && st == STORE_OK)
		st = w->result;
	(void)pthread_mutex_unlock(&g->lock);
	(void)pthread_cond_destroy(&w->changed);
	free(w);
	return st;
}

static enum store_status
store_group_txn_commit(struct store_txn *t)
{
	return store_group_txn_end(t, 1);
}

static void
store_group_txn_abort(struct store_txn *t)
{
	if (t != NULL)
		(void)store_group_txn_end(t, 0);
}

/* The rest goes to the inner transaction, in the calling thread. */

static void
store_group_txn_hint_token(struct store_txn *t, const unsigned char *hash)
{
	store_txn_hint_token(GIN(t), hash);
}

static enum store_status
store_group_client_get(struct store_txn *t, const char *id, struct client *c)
{
	return GOPS(t)->client_get(GIN(t), id, c);
}

static enum store_status
store_group_client_put(struct store_txn *t, const struct client *c,
    int replace)
{
	return GOPS(t)->client_put(GIN(t), c, replace);
}

static enum store_status
store_group_client_delete(struct store_txn *t, const char *id)
{
	return GOPS(t)->client_delete(GIN(t), id);
}

static enum store_status
store_group_client_foreach(struct store_txn *t, store_client_fn fn,
    void *arg)
{
	return GOPS(t)->client_foreach(GIN(t), fn, arg);
}

static enum store_status
store_group_client_drop_tokens(struct store_txn *t, const char *id,
    struct store_purged *out)
{
	return GOPS(t)->client_drop_tokens(GIN(t), id, out);
}

static enum store_status
store_group_token_get(struct store_txn *t, const unsigned char *hash,
    struct token *tok)
{
	return GOPS(t)->token_get(GIN(t), hash, tok);
}

static enum store_status
store_group_token_put(struct store_txn *t, const unsigned char *hash,
    const struct token *tok)
{
	return GOPS(t)->token_put(GIN(t), hash, tok);
}

static enum store_status
store_group_token_delete(struct store_txn *t, const unsigned char *hash)
{
	return GOPS(t)->token_delete(GIN(t), hash);
}

static enum store_status
store_group_seen_put(struct store_txn *t, const unsigned char *hash,
    int64_t now, int64_t expires_at)
{
	return GOPS(t)->seen_put(GIN(t), hash, now, expires_at);
}

static enum store_status
store_group_token_foreach_after(struct store_txn *t,
    const unsigned char *after, store_token_fn fn, void *arg)
{
	return GOPS(t)->token_foreach_after(GIN(t), after, fn, arg);
}

static enum store_status
store_group_grant_get(struct store_txn *t, const unsigned char *id,
    struct grant *g)
{
	return GOPS(t)->grant_get(GIN(t), id, g);
}

static enum store_status
store_group_grant_put(struct store_txn *t, const struct grant *g)
{
	return GOPS(t)->grant_put(GIN(t), g);
}

static enum store_status
store_group_grant_foreach_after(struct store_txn *t,
    const unsigned char *after, store_grant_fn fn, void *arg)
{
	return GOPS(t)->grant_foreach_after(GIN(t), after, fn, arg);
}

static enum store_status
store_group_key_get(struct store_txn *t, const char *kid, struct key *k)
{
	return GOPS(t)->key_get(GIN(t), kid, k);
}

static enum store_status
store_group_key_put(struct store_txn *t, const struct key *k)
{
	return GOPS(t)->key_put(GIN(t), k);
}

static enum store_status
store_group_key_delete(struct store_txn *t, const char *kid)
{
	return GOPS(t)->key_delete(GIN(t), kid);
}

static enum store_status
store_group_key_foreach(struct store_txn *t, store_key_fn fn, void *arg)
{
	return GOPS(t)->key_foreach(GIN(t), fn, arg);
}

static enum store_status
store_group_scopes_get(struct store_txn *t, char **out)
{
	return GOPS(t)->scopes_get(GIN(t), out);
}

static enum store_status
store_group_stats(struct store_txn *t, int64_t now, struct store_stats *out)
{
	return GOPS(t)->stats(GIN(t), now, out);
}

/*
 * A purge runs its own transactions on the inner store, in the calling
 * thread; LMDB's lock puts them between the committer's.
 */
static enum store_status
store_group_purge(struct store *s, int64_t now, struct store_purged *out)
{
	struct store *inner = GS(s)->inner;

	return inner->ops->purge(inner, now, out);
}

static enum store_status
store_group_map_grow(struct store *s)
{
	struct store *inner = GS(s)->inner;

	return inner->ops->map_grow(inner);
}

static size_t
store_group_map_size(struct store *s)
{
	struct store *inner = GS(s)->inner;

	return inner->ops->map_size(inner);
}

static const struct store_ops store_group_ops = {
	.name = "lmdb",
	.txn_blocks_others = 1,
	.close = store_group_close,
	.txn_begin = store_group_txn_begin,
	.txn_commit = store_group_txn_commit,
	.txn_hint_token = store_group_txn_hint_token,
	.txn_abort = store_group_txn_abort,
	.client_get = store_group_client_get,
	.client_put = store_group_client_put,
	.client_delete = store_group_client_delete,
	.client_foreach = store_group_client_foreach,
	.client_drop_tokens = store_group_client_drop_tokens,
	.token_get = store_group_token_get,
	.token_put = store_group_token_put,
	.token_delete = store_group_token_delete,
	.token_foreach_after = store_group_token_foreach_after,
	.grant_get = store_group_grant_get,
	.grant_put = store_group_grant_put,
	.grant_foreach_after = store_group_grant_foreach_after,
	.key_get = store_group_key_get,
	.key_put = store_group_key_put,
	.key_delete = store_group_key_delete,
	.key_foreach = store_group_key_foreach,
	.seen_put = store_group_seen_put,
	.scopes_get = store_group_scopes_get,
	.stats = store_group_stats,
	.purge = store_group_purge,
	.map_grow = store_group_map_grow,
	.map_size = store_group_map_size,
};
