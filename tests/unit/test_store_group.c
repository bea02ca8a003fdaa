/*
 * Group commit (storage/store_group.c): the write transactions of the
 * threads of one process, on an LMDB store opened with
 * STORE_OPEN_THREADS, committed together.  A group is made certain by a
 * child process holding LMDB's write lock while the threads queue (the
 * committer waits for the lock; store_commit_counts says how many wait),
 * then letting go.
 *
 * What holds in a group: one commit for all; each member sees what the
 * ones before it wrote; one member's abort or full map leaves the others'
 * writes; a failed commit (fdatasync failing, below) fails every member
 * and keeps nothing of any; and the store serves again once it succeeds.
 * Threads racing for one code spend it once, grouped or, without
 * flushes, each in its own transaction.
 *
 *   test_store_group [GLOB]   a cmocka name glob: only the tests it names
 */
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "store_fixture.h"

#define GROUP_WRITERS 8		/* threads in the groups made below */
#define GROUP_WAIT_MAX 20	/* seconds a step may take: wide, not timed */
#define GROUP_SMALL_MAP ((size_t)1024 * 1024)	/* for the full-map test */

/*
 * While set, fdatasync(2) fails with EIO: LMDB flushes the data file with
 * it before writing the meta page, so a commit fails there and leaves the
 * environment as it was.  This definition is the one LMDB's calls reach.
 */
static atomic_int group_fail_sync;

int fdatasync(int);

int
fdatasync(int fd)
{
	if (atomic_load(&group_fail_sync)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fdatasync, fd);
}

struct group_fx {
	char dir[128];
	char db[SFX_URI_MAX];
	struct store *store;	/* opened with STORE_OPEN_THREADS */
	pid_t holder;		/* the child holding the write lock */
	int release;		/* its pipe: closing it lets go */
};

static int
group_setup(void **state)
{
	struct group_fx *g = calloc(1, sizeof(*g));
	struct store *s;

	assert_non_null(g);
	unit_tempdir(g->dir, sizeof(g->dir));
	(void)snprintf(g->db, sizeof(g->db), "%s/db", g->dir);
	assert_int_equal(store_open(g->db, 0, STORE_OPEN_CREATE, &s, NULL, 0),
	    STORE_OK);
	store_close(s);
	g->holder = -1;
	g->release = -1;
	*state = g;
	return 0;
}

static int
group_teardown(void **state)
{
	struct group_fx *g = *state;

	atomic_store(&group_fail_sync, 0);
	store_close(g->store);
	unit_rmdir(g->dir);
	free(g);
	return 0;
}

/* Opens g's database for threads. */
static void
group_open(struct group_fx *g)
{
	assert_int_equal(store_open(g->db, 0, STORE_OPEN_THREADS, &g->store,
	    NULL, 0), STORE_OK);
}

/*
 * Starts a child that opens the database itself and holds a write
 * transaction until g->release closes; returns once it holds it.
 */
static void
group_hold_lock(struct group_fx *g)
{
	int ready[2], go[2];
	char byte;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	if ((g->holder = spawn()) == 0) {
		struct store *s;
		struct store_txn *t;

		alarm(GROUP_WAIT_MAX * 3);
		close(ready[0]);
		close(go[1]);
		if (store_open(g->db, 0, 0, &s, NULL, 0) != STORE_OK ||
		    store_txn_begin(s, 1, &t) != STORE_OK)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		(void)!read(go[0], &byte, 1);
		store_txn_abort(t);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	g->release = go[1];
}

/* Lets the child go and reaps it. */
static void
group_release_lock(struct group_fx *g)
{
	close(g->release);
	g->release = -1;
	assert_int_equal(wait_child(g->holder), 0);
	g->holder = -1;
}

/* Waits until n write transactions are queued on g's store. */
static void
group_wait_queued(struct group_fx *g, unsigned long n)
{
	struct store_commit_counts c;
	struct timespec pause = {0, 2 * 1000 * 1000};
	long tries = GROUP_WAIT_MAX * 500L;

	while (tries-- > 0) {
		assert_int_equal(store_commit_counts(g->store, &c), 0);
		if (c.waiting >= n)
			return;
		(void)nanosleep(&pause, NULL);
	}
	fail_msg("%lu write transactions never queued", n);
}

/* What one writer thread does, and what it got. */
enum group_job {
	GROUP_PUT = 0,		/* put its token, commit */
	GROUP_PUT_ABORT,	/* put its token, abort */
	GROUP_READ_PREVIOUS,	/* read writer id-1's token, then put its own */
	GROUP_FILL,		/* put until the map is full, then abort */
	GROUP_JOB__MAX
};

struct group_writer {
	struct group_fx *g;
	pthread_t thread;
	unsigned id;
	enum group_job job;
	enum store_status begin, work, commit;
	int saw_previous;
};

static void *
group_writer_main(void *arg)
{
	struct group_writer *w = arg;
	struct store_txn *t;
	struct token tok, got;
	unsigned char key[TOKEN_HASH_LEN];
	unsigned i;

	make_token(&tok, TOKEN_ACCESS, "grouped");
	w->commit = STORE_INVALID;
	if ((w->begin = store_txn_begin(w->g->store, 1, &t)) != STORE_OK)
		return NULL;
	if (w->job == GROUP_READ_PREVIOUS) {
		key_of(key, 7, w->id - 1);
		if (store_token_get(t, key, &got) == STORE_OK) {
			w->saw_previous = 1;
			token_free(&got);
		}
	}
	key_of(key, 7, w->id);
	w->work = store_token_put(t, key, &tok);
	if (w->job == GROUP_FILL) {
		/* Big scopes fill a small map in a few hundred puts. */
		char *scope = malloc(SCOPE_MAX);

		assert_non_null(scope);
		memset(scope, 'f', SCOPE_MAX - 1);
		scope[SCOPE_MAX - 1] = '\0';
		tok.scope = scope;
		for (i = 1; i < 10000 && w->work == STORE_OK; i++) {
			key_of(key, 8, i);
			key[3] = (unsigned char)(i >> 16);
			w->work = store_token_put(t, key, &tok);
		}
		free(scope);
	}
	if (w->job == GROUP_PUT_ABORT || w->job == GROUP_FILL) {
		store_txn_abort(t);
		w->commit = STORE_OK;
	} else
		w->commit = store_txn_commit(t);
	return NULL;
}

/*
 * Runs count writers with jobs[i] in one group: queued in order (each
 * waits until the one before it has queued) behind a held write lock.
 */
static void
group_run(struct group_fx *g, struct group_writer *w, unsigned count,
    const enum group_job *jobs)
{
	unsigned i;

	group_hold_lock(g);
	for (i = 0; i < count; i++) {
		w[i].g = g;
		w[i].id = i;
		w[i].job = jobs[i];
		assert_int_equal(pthread_create(&w[i].thread, NULL,
		    group_writer_main, &w[i]), 0);
		/* All queue: the committer waits for the lock. */
		group_wait_queued(g, i + 1);
	}
	group_release_lock(g);
	for (i = 0; i < count; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
}

/* Whether the token of writer id is in the database. */
static int
group_has_token(struct group_fx *g, unsigned id)
{
	struct store_txn *t = begin(g->store, 0);
	unsigned char key[TOKEN_HASH_LEN];
	struct token got;
	enum store_status st;

	key_of(key, 7, id);
	st = store_token_get(t, key, &got);
	if (st == STORE_OK)
		token_free(&got);
	store_txn_abort(t);
	assert_true(st == STORE_OK || st == STORE_NOTFOUND);
	return st == STORE_OK;
}

/* Writers that queue together are one commit, and all of it is kept. */
static void
test_one_commit_for_all(void **state)
{
	struct group_fx *g = *state;
	struct group_writer w[GROUP_WRITERS];
	enum group_job jobs[GROUP_WRITERS];
	struct store_commit_counts c;
	unsigned i;

	memset(w, 0, sizeof(w));
	for (i = 0; i < GROUP_WRITERS; i++)
		jobs[i] = i == 0 ? GROUP_PUT : GROUP_READ_PREVIOUS;
	group_open(g);
	group_run(g, w, GROUP_WRITERS, jobs);
	for (i = 0; i < GROUP_WRITERS; i++) {
		assert_int_equal(w[i].begin, STORE_OK);
		assert_int_equal(w[i].work, STORE_OK);
		assert_int_equal(w[i].commit, STORE_OK);
		/* Serial within the group: each saw the one before. */
		if (i > 0)
			assert_true(w[i].saw_previous);
		assert_true(group_has_token(g, i));
	}
	assert_int_equal(store_commit_counts(g->store, &c), 0);
	assert_int_equal(c.commits, 1);
	assert_int_equal(c.transactions, GROUP_WRITERS);
	assert_int_equal(c.waiting, 0);

	/* Seen by another process, which opened the store its own way. */
	store_close(g->store);
	assert_int_equal(store_open(g->db, 0, 0, &g->store, NULL, 0),
	    STORE_OK);
	for (i = 0; i < GROUP_WRITERS; i++)
		assert_true(group_has_token(g, i));
	assert_int_equal(store_commit_counts(g->store, &c), -1);
}

/* An abort in a group discards that writer's put, and only it. */
static void
test_abort_in_group(void **state)
{
	struct group_fx *g = *state;
	struct group_writer w[3];
	const enum group_job jobs[3] = {GROUP_PUT, GROUP_PUT_ABORT,
	    GROUP_PUT};
	struct store_commit_counts c;

	memset(w, 0, sizeof(w));
	group_open(g);
	group_run(g, w, 3, jobs);
	assert_int_equal(w[0].commit, STORE_OK);
	assert_int_equal(w[2].commit, STORE_OK);
	assert_true(group_has_token(g, 0));
	assert_false(group_has_token(g, 1));
	assert_true(group_has_token(g, 2));
	assert_int_equal(store_commit_counts(g->store, &c), 0);
	assert_int_equal(c.commits, 1);
	assert_int_equal(c.transactions, 2);
}

/*
 * A writer that fills the map gets STORE_FULL and aborts; the writers
 * before and after it in the group keep their writes, and the map is
 * usable after.
 */
static void
test_full_in_group(void **state)
{
	struct group_fx *g = *state;
	struct group_writer w[3];
	const enum group_job jobs[3] = {GROUP_PUT, GROUP_FILL, GROUP_PUT};

	memset(w, 0, sizeof(w));
	/* A map is never smaller than the environment's: a new one. */
	unit_rmdir(g->db);
	assert_int_equal(store_open(g->db, GROUP_SMALL_MAP, STORE_OPEN_CREATE |
	    STORE_OPEN_THREADS, &g->store, NULL, 0), STORE_OK);
	group_run(g, w, 3, jobs);
	assert_int_equal(w[1].work, STORE_FULL);
	assert_int_equal(w[0].commit, STORE_OK);
	assert_int_equal(w[2].commit, STORE_OK);
	assert_true(group_has_token(g, 0));
	assert_false(group_has_token(g, 1));
	assert_true(group_has_token(g, 2));
	memset(w, 0, sizeof(w));
	w[0].g = g;
	w[0].id = 5;
	(void)group_writer_main(&w[0]);
	assert_int_equal(w[0].commit, STORE_OK);
	assert_true(group_has_token(g, 5));
}

/*
 * A commit that fails (the flush) fails every writer of the group, and
 * none of their writes is kept; the next group commits.
 */
static void
test_failed_commit_fails_all(void **state)
{
	struct group_fx *g = *state;
	struct group_writer w[GROUP_WRITERS];
	enum group_job jobs[GROUP_WRITERS];
	struct store_commit_counts c;
	unsigned i;

	memset(w, 0, sizeof(w));
	for (i = 0; i < GROUP_WRITERS; i++)
		jobs[i] = GROUP_PUT;
	group_open(g);
	atomic_store(&group_fail_sync, 1);
	group_run(g, w, GROUP_WRITERS, jobs);
	atomic_store(&group_fail_sync, 0);
	for (i = 0; i < GROUP_WRITERS; i++) {
		assert_int_equal(w[i].work, STORE_OK);
		assert_int_equal(w[i].commit, STORE_IOERR);
		assert_false(group_has_token(g, i));
	}
	assert_int_equal(store_commit_counts(g->store, &c), 0);
	assert_int_equal(c.commits, 1);

	memset(w, 0, sizeof(w));
	group_run(g, w, GROUP_WRITERS, jobs);
	for (i = 0; i < GROUP_WRITERS; i++) {
		assert_int_equal(w[i].commit, STORE_OK);
		assert_true(group_has_token(g, i));
	}
}

/* Reads go on beside a group held open, and see only what committed. */
static void
test_reads_beside_group(void **state)
{
	struct group_fx *g = *state;
	struct group_writer w[1];
	const enum group_job jobs[1] = {GROUP_PUT};

	memset(w, 0, sizeof(w));
	group_open(g);
	group_hold_lock(g);
	w[0].g = g;
	w[0].job = jobs[0];
	assert_int_equal(pthread_create(&w[0].thread, NULL,
	    group_writer_main, &w[0]), 0);
	group_wait_queued(g, 1);
	assert_false(group_has_token(g, 0));
	group_release_lock(g);
	assert_int_equal(pthread_join(w[0].thread, NULL), 0);
	assert_int_equal(w[0].commit, STORE_OK);
	assert_true(group_has_token(g, 0));
}

/* A racer: spends the code under key 9/0 once, if nobody has. */
struct group_racer {
	struct store *store;
	pthread_barrier_t *start;
	pthread_t thread;
	int won;
	enum store_status st;
};

static void *
group_racer_main(void *arg)
{
	struct group_racer *r = arg;
	struct store_txn *t;
	struct token tok;
	unsigned char key[TOKEN_HASH_LEN];

	key_of(key, 9, 0);
	(void)pthread_barrier_wait(r->start);
	if ((r->st = store_txn_begin(r->store, 1, &t)) != STORE_OK)
		return NULL;
	if ((r->st = store_token_get(t, key, &tok)) != STORE_OK) {
		store_txn_abort(t);
		return NULL;
	}
	if (tok.state == TOKEN_STATE_ACTIVE) {
		tok.state = TOKEN_STATE_USED;
		r->st = store_token_put(t, key, &tok);
		r->won = r->st == STORE_OK;
	}
	token_free(&tok);
	if (r->won)
		r->st = store_txn_commit(t);
	else
		store_txn_abort(t);
	return NULL;
}

/*
 * Threads racing to spend one code, ROUNDS times, on a store for threads
 * with flushes (grouped) and without (each thread its own transaction):
 * one winner each round.
 */
static void
test_spend_once_among_threads(void **state)
{
	struct group_fx *g = *state;
	const unsigned flags[2] = {0, STORE_OPEN_SYNC_NONE};
	struct group_racer r[GROUP_WRITERS];
	struct store_commit_counts c;
	pthread_barrier_t start;
	struct store_txn *t;
	struct token tok;
	unsigned char key[TOKEN_HASH_LEN];
	unsigned f, round, i, winners;

	key_of(key, 9, 0);
	for (f = 0; f < 2; f++) {
		assert_int_equal(store_open(g->db, 0, STORE_OPEN_THREADS |
		    flags[f], &g->store, NULL, 0), STORE_OK);
		/* Grouped with flushes; plain LMDB without. */
		assert_int_equal(store_commit_counts(g->store, &c),
		    f == 0 ? 0 : -1);
		for (round = 0; round < 20; round++) {
			make_token(&tok, TOKEN_CODE, "read");
			t = begin(g->store, 1);
			assert_int_equal(store_token_put(t, key, &tok),
			    STORE_OK);
			assert_int_equal(store_txn_commit(t), STORE_OK);
			assert_int_equal(pthread_barrier_init(&start, NULL,
			    GROUP_WRITERS), 0);
			for (i = 0; i < GROUP_WRITERS; i++) {
				memset(&r[i], 0, sizeof(r[i]));
				r[i].store = g->store;
				r[i].start = &start;
				assert_int_equal(pthread_create(&r[i].thread,
				    NULL, group_racer_main, &r[i]), 0);
			}
			winners = 0;
			for (i = 0; i < GROUP_WRITERS; i++) {
				assert_int_equal(pthread_join(r[i].thread,
				    NULL), 0);
				assert_int_equal(r[i].st, STORE_OK);
				winners += (unsigned)r[i].won;
			}
			(void)pthread_barrier_destroy(&start);
			if (winners != 1)
				fail_msg("round %u (flags %u): %u spent it",
				    round, flags[f], winners);
		}
		store_close(g->store);
		g->store = NULL;
	}
}

/* PostgreSQL connections are each thread's own: the flag is refused. */
static void
test_postgresql_refused(void **state)
{
	struct store *s = (struct store *)state;

	assert_int_equal(store_open("postgresql:///x?host=/nonexistent", 0,
	    STORE_OPEN_THREADS, &s, NULL, 0), STORE_INVALID);
	assert_null(s);
}

#define T(name) cmocka_unit_test_setup_teardown(name, group_setup, \
    group_teardown)

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		T(test_one_commit_for_all),
		T(test_abort_in_group),
		T(test_full_in_group),
		T(test_failed_commit_fails_all),
		T(test_reads_beside_group),
		T(test_spend_once_among_threads),
		T(test_postgresql_refused),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
