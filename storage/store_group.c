/*
 * Group commit for the threads of one process sharing one LMDB store
 * (STORE_OPEN_THREADS).  Every commit of LMDB costs its flushes, and a
 * process has one writer at a time; so one committer thread owns the
 * write transaction and runs the writes of many requests in it, each in a
 * transaction nested in it, then commits them all with one flush.
 *
 * A thread's write transaction waits in a queue until the committer
 * begins a nested transaction for it; every call the thread then makes on
 * it runs in the committer (LMDB's write transactions belong to the
 * thread that began them), while the thread waits.  Its commit joins the
 * nested transaction to the group and waits until the group is committed:
 * it returns what that commit returned, so a request is answered only
 * once what it wrote is as durable as OAUTH_DB_SYNC makes any commit, and
 * when that commit fails every request of the group gets the failure.  An
 * abort, or a failed write, discards that request's changes only.  The
 * group is committed once no more writers wait, or STORE_GROUP_MAX of
 * them have written: writers who come while it flushes form the next.
 *
 * The writes of one group are serial, as one writer's are: a code or a
 * refresh token is spent exactly once, and each request sees all that the
 * ones before it in the group wrote.  Read transactions go to the inner
 * store directly, in the reading thread.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

#define STORE_GROUP_MAX 64	/* write transactions in one commit */
#define GS(s) ((struct store_group *)(void *)(s))
#define GT(t) ((struct store_group_txn *)(void *)(t))

enum store_group_state {
	STORE_GROUP_QUEUED = 0,	/* waiting for the committer */
	STORE_GROUP_OPEN,	/* its nested transaction begun */
	STORE_GROUP_CALL,	/* a call waits to be run by the committer */
	STORE_GROUP_COMMIT,	/* asked to commit */
	STORE_GROUP_ABORT,	/* asked to abort */
	STORE_GROUP_ENDED	/* result is final; the owner may go */
};

/* The arguments of one call, as many as the widest of store_ops takes. */
struct store_group_args {
	const void *key;	/* id, hash, kid or the key to walk after */
	const void *record;	/* a record to store */
	void *out;		/* a record, a count or the scopes read */
	struct store_each_fn each;	/* a walk's callback */
	int64_t now;
	int flag;
};

typedef enum store_status (*store_group_fn)(struct store_txn *,
    struct store_group_args *);

struct store_group_txn {
	struct store_txn base;
	/* A read's own, or a write's nested one, which only the committer uses. */
	struct store_txn *inner;
	struct store_group_txn *next;	/* in the queue, or in the group */
	pthread_cond_t changed;	/* signalled when state changes */
	enum store_group_state state;
	store_group_fn fn;	/* STORE_GROUP_CALL's */
	struct store_group_args *args;
	enum store_status result;	/* of the call, the begin or the commit */
};

struct store_group {
	struct store base;
	struct store *inner;
	pthread_mutex_t lock;	/* guards everything below and each state */
	pthread_cond_t work;	/* the committer waits on it */
	pthread_t committer;
	struct store_group_txn *queue, *queue_last;
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
 * Serves the writer w in the group's transaction top, under g->lock,
 * which it lets go while it works: begins w's nested transaction, runs
 * w's calls, and ends it as w asks.  Returns 1 when w committed into top
 * and waits for top's commit, 0 when w is settled already.
 */
static int
store_group_serve(struct store_group *g, struct store_txn *top,
    struct store_group_txn *w)
{
	const struct store_ops *ops = g->inner->ops;
	struct store_txn *inner;
	enum store_group_state ask;
	enum store_status st;

	(void)pthread_mutex_unlock(&g->lock);
	st = ops->txn_begin_nested(top, &inner);
	(void)pthread_mutex_lock(&g->lock);
	if (st != STORE_OK) {
		store_group_settle(w, st);
		return 0;
	}
	w->inner = inner;
	w->state = STORE_GROUP_OPEN;
	(void)pthread_cond_signal(&w->changed);
	for (;;) {
		while (w->state == STORE_GROUP_OPEN)
			(void)pthread_cond_wait(&g->work, &g->lock);
		ask = w->state;
		(void)pthread_mutex_unlock(&g->lock);
		switch (ask) {
		case STORE_GROUP_CALL:
			st = w->fn(inner, w->args);
			break;
		case STORE_GROUP_ABORT:
			ops->txn_abort(inner);
			st = STORE_OK;
			break;
		case STORE_GROUP_COMMIT:
			st = ops->txn_commit(inner);
			break;
		case STORE_GROUP_QUEUED:
		case STORE_GROUP_OPEN:
		case STORE_GROUP_ENDED:
			st = STORE_INVALID;
			break;
		}
		(void)pthread_mutex_lock(&g->lock);
		if (ask == STORE_GROUP_CALL) {
			w->result = st;
			w->state = STORE_GROUP_OPEN;
			(void)pthread_cond_signal(&w->changed);
			continue;
		}
		if (ask == STORE_GROUP_COMMIT && st == STORE_OK)
			return 1;
		store_group_settle(w, st);
		return 0;
	}
}

/*
 * The committer: while writers wait, begins a transaction of the inner
 * store, serves them one after another in it, commits it, and gives the
 * commit's result to each writer that committed into it.
 */
static void *
store_group_committer(void *arg)
{
	struct store_group *g = arg;
	struct store_group_txn *w, *group, *next;
	struct store_txn *top;
	enum store_status st;
	unsigned long n;

	/*
	 * The thread's first allocation makes its malloc arena, which may
	 * read /sys: done before store_group_open returns, and so before a
	 * sandbox would forbid it.
	 */
	free(malloc(1));
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
		group = NULL;
		n = 0;
		while (g->queue != NULL && n < STORE_GROUP_MAX) {
			w = g->queue;
			if ((g->queue = w->next) == NULL)
				g->queue_last = NULL;
			w->next = NULL;
			if (st != STORE_OK)
				store_group_settle(w, st);
			else if (store_group_serve(g, top, w)) {
				w->next = group;
				group = w;
				n++;
			}
		}
		if (st != STORE_OK)
			continue;
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
		for (w = group; w != NULL; w = next) {
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

/* A read goes to the inner store; a write waits in the queue for its turn. */
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
	st = t->state == STORE_GROUP_OPEN ? STORE_OK : t->result;
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
 * Hands a write's step (a call, its commit or its abort) to the committer
 * and waits for it to be done: a call's or an abort's result comes at
 * once, a commit's once its group is committed.  Under g->lock.
 */
static enum store_status
store_group_ask(struct store_group *g, struct store_group_txn *t,
    enum store_group_state ask)
{
	t->state = ask;
	(void)pthread_cond_signal(&g->work);
	while (t->state == ask)
		(void)pthread_cond_wait(&t->changed, &g->lock);
	return t->result;
}

/*
 * Runs fn with a on t's inner transaction: directly for a read, or when
 * the committer itself calls (a walk's callback); otherwise in the
 * committer, the caller waiting.
 */
static enum store_status
store_group_run(struct store_txn *t, store_group_fn fn,
    struct store_group_args *a)
{
	struct store_group *g = GS(t->store);
	enum store_status st;

	if (!t->writable || pthread_equal(pthread_self(), g->committer))
		return fn(GT(t)->inner, a);
	(void)pthread_mutex_lock(&g->lock);
	GT(t)->fn = fn;
	GT(t)->args = a;
	st = store_group_ask(g, GT(t), STORE_GROUP_CALL);
	(void)pthread_mutex_unlock(&g->lock);
	return st;
}

/* Ends t as ask says (commit or abort) and frees it. */
static enum store_status
store_group_txn_end(struct store_txn *t, enum store_group_state ask)
{
	struct store_group *g = GS(t->store);
	enum store_status st = STORE_OK;

	if (!t->writable) {
		if (ask == STORE_GROUP_COMMIT)
			st = store_txn_commit(GT(t)->inner);
		else
			store_txn_abort(GT(t)->inner);
		free(t);
		return st;
	}
	(void)pthread_mutex_lock(&g->lock);
	st = store_group_ask(g, GT(t), ask);
	(void)pthread_mutex_unlock(&g->lock);
	(void)pthread_cond_destroy(&GT(t)->changed);
	free(t);
	return st;
}

static enum store_status
store_group_txn_commit(struct store_txn *t)
{
	return store_group_txn_end(t, STORE_GROUP_COMMIT);
}

static void
store_group_txn_abort(struct store_txn *t)
{
	if (t != NULL)
		(void)store_group_txn_end(t, STORE_GROUP_ABORT);
}

/*
 * Each call below packs its arguments, and its _in twin unpacks them and
 * calls the inner store, in whichever thread store_group_run picks.
 */

static enum store_status
store_group_hint_in(struct store_txn *in, struct store_group_args *a)
{
	store_txn_hint_token(in, a->key);
	return STORE_OK;
}

static void
store_group_txn_hint_token(struct store_txn *t, const unsigned char *hash)
{
	struct store_group_args a = {.key = hash};

	(void)store_group_run(t, store_group_hint_in, &a);
}

static enum store_status
store_group_client_get_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->client_get(in, a->key, a->out);
}

static enum store_status
store_group_client_get(struct store_txn *t, const char *id, struct client *c)
{
	struct store_group_args a = {.key = id, .out = c};

	return store_group_run(t, store_group_client_get_in, &a);
}

static enum store_status
store_group_client_put_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->client_put(in, a->record, a->flag);
}

static enum store_status
store_group_client_put(struct store_txn *t, const struct client *c,
    int replace)
{
	struct store_group_args a = {.record = c, .flag = replace};

	return store_group_run(t, store_group_client_put_in, &a);
}

static enum store_status
store_group_client_delete_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->client_delete(in, a->key);
}

static enum store_status
store_group_client_delete(struct store_txn *t, const char *id)
{
	struct store_group_args a = {.key = id};

	return store_group_run(t, store_group_client_delete_in, &a);
}

static enum store_status
store_group_client_foreach_in(struct store_txn *in,
    struct store_group_args *a)
{
	return in->store->ops->client_foreach(in, a->each.client, a->each.arg);
}

static enum store_status
store_group_client_foreach(struct store_txn *t, store_client_fn fn,
    void *arg)
{
	struct store_group_args a = {.each = {.client = fn, .arg = arg}};

	return store_group_run(t, store_group_client_foreach_in, &a);
}

static enum store_status
store_group_drop_tokens_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->client_drop_tokens(in, a->key, a->out);
}

static enum store_status
store_group_client_drop_tokens(struct store_txn *t, const char *id,
    struct store_purged *out)
{
	struct store_group_args a = {.key = id, .out = out};

	return store_group_run(t, store_group_drop_tokens_in, &a);
}

static enum store_status
store_group_token_get_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->token_get(in, a->key, a->out);
}

static enum store_status
store_group_token_get(struct store_txn *t, const unsigned char *hash,
    struct token *tok)
{
	struct store_group_args a = {.key = hash, .out = tok};

	return store_group_run(t, store_group_token_get_in, &a);
}

static enum store_status
store_group_token_put_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->token_put(in, a->key, a->record);
}

static enum store_status
store_group_token_put(struct store_txn *t, const unsigned char *hash,
    const struct token *tok)
{
	struct store_group_args a = {.key = hash, .record = tok};

	return store_group_run(t, store_group_token_put_in, &a);
}

static enum store_status
store_group_token_delete_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->token_delete(in, a->key);
}

static enum store_status
store_group_token_delete(struct store_txn *t, const unsigned char *hash)
{
	struct store_group_args a = {.key = hash};

	return store_group_run(t, store_group_token_delete_in, &a);
}

static enum store_status
store_group_token_foreach_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->token_foreach_after(in, a->key, a->each.token,
	    a->each.arg);
}

static enum store_status
store_group_token_foreach_after(struct store_txn *t,
    const unsigned char *after, store_token_fn fn, void *arg)
{
	struct store_group_args a = {.key = after,
	    .each = {.token = fn, .arg = arg}};

	return store_group_run(t, store_group_token_foreach_in, &a);
}

static enum store_status
store_group_grant_get_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->grant_get(in, a->key, a->out);
}

static enum store_status
store_group_grant_get(struct store_txn *t, const unsigned char *id,
    struct grant *g)
{
	struct store_group_args a = {.key = id, .out = g};

	return store_group_run(t, store_group_grant_get_in, &a);
}

static enum store_status
store_group_grant_put_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->grant_put(in, a->record);
}

static enum store_status
store_group_grant_put(struct store_txn *t, const struct grant *g)
{
	struct store_group_args a = {.record = g};

	return store_group_run(t, store_group_grant_put_in, &a);
}

static enum store_status
store_group_grant_foreach_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->grant_foreach_after(in, a->key, a->each.grant,
	    a->each.arg);
}

static enum store_status
store_group_grant_foreach_after(struct store_txn *t,
    const unsigned char *after, store_grant_fn fn, void *arg)
{
	struct store_group_args a = {.key = after,
	    .each = {.grant = fn, .arg = arg}};

	return store_group_run(t, store_group_grant_foreach_in, &a);
}

static enum store_status
store_group_key_get_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->key_get(in, a->key, a->out);
}

static enum store_status
store_group_key_get(struct store_txn *t, const char *kid, struct key *k)
{
	struct store_group_args a = {.key = kid, .out = k};

	return store_group_run(t, store_group_key_get_in, &a);
}

static enum store_status
store_group_key_put_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->key_put(in, a->record);
}

static enum store_status
store_group_key_put(struct store_txn *t, const struct key *k)
{
	struct store_group_args a = {.record = k};

	return store_group_run(t, store_group_key_put_in, &a);
}

static enum store_status
store_group_key_delete_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->key_delete(in, a->key);
}

static enum store_status
store_group_key_delete(struct store_txn *t, const char *kid)
{
	struct store_group_args a = {.key = kid};

	return store_group_run(t, store_group_key_delete_in, &a);
}

static enum store_status
store_group_key_foreach_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->key_foreach(in, a->each.key, a->each.arg);
}

static enum store_status
store_group_key_foreach(struct store_txn *t, store_key_fn fn, void *arg)
{
	struct store_group_args a = {.each = {.key = fn, .arg = arg}};

	return store_group_run(t, store_group_key_foreach_in, &a);
}

static enum store_status
store_group_scopes_get_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->scopes_get(in, a->out);
}

static enum store_status
store_group_scopes_get(struct store_txn *t, char **out)
{
	struct store_group_args a = {.out = out};

	return store_group_run(t, store_group_scopes_get_in, &a);
}

static enum store_status
store_group_stats_in(struct store_txn *in, struct store_group_args *a)
{
	return in->store->ops->stats(in, a->now, a->out);
}

static enum store_status
store_group_stats(struct store_txn *t, int64_t now, struct store_stats *out)
{
	struct store_group_args a = {.now = now, .out = out};

	return store_group_run(t, store_group_stats_in, &a);
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
	.scopes_get = store_group_scopes_get,
	.stats = store_group_stats,
	.purge = store_group_purge,
	.map_grow = store_group_map_grow,
	.map_size = store_group_map_size,
};
