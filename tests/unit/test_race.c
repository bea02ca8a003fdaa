/*
 * Racers on one authorization code and on one refresh token, and exactly
 * one may win.  Processes, as the responders of mod_fcgid or spawn-fcgi
 * are: each opens the database itself.  Threads of one process sharing
 * one store opened with STORE_OPEN_THREADS, as oauth.fcgi --threads runs:
 * their writes are grouped into shared commits (store_group.c), which must
 * not let two of them spend the same credential; after their free rounds
 * one more is held so that all of them share one commit for certain.  And
 * two such processes at once, where both LMDB's lock between processes
 * and the grouping within each are raced.  All racers of a round are
 * released together.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "handler_fixture.h"
#include "race_fixture.h"

#define RACERS RACERS_MAX
#define RACERS_MIN 4		/* threads of the in-process race, at least */
#define RACE_TIMEOUT 30		/* seconds a threaded test or the holder */
#define RACE_ROUNDS 4		/* rounds of each threaded race */
#define RACE_QUEUE_MAX 10	/* seconds the racers may take to queue */

/* A child holding LMDB's write lock, and the pipe that lets it go. */
struct race_holder {
	pid_t pid;
	int release;
};

/* What race_queued waits for, and whether it came. */
struct race_queue {
	struct store *store;
	unsigned long want;	/* write transactions queued */
	struct race_holder *holder;
	int queued;
};

/*
 * race_body, failing the test when it cannot; for a refresh token, the
 * access token issued is checked active.
 */
static void
race_fresh(struct fx *f, enum race_kind kind, char body[FX_BODY_MAX],
    struct fx_tokens *t)
{
	assert_int_equal(race_body(f, kind, body, t), 0);
	if (kind == RACE_REFRESH)
		assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET,
		    t->access), 1);
}

/*
 * Fails the test unless one racer of the round won and the other
 * racers - 1 got invalid_grant.  Standard error is left alone while they
 * race, losers' events and all: a sanitizer's report goes there too.
 */
static void
race_check(int round, int racers, const long counts[RACE_OUTCOME__MAX])
{
	if (counts[RACE_WON] != 1 || counts[RACE_LOST] != racers - 1 ||
	    counts[RACE_OTHER] != 0)
		fail_msg("round %d, %d racers: %ld won, %ld lost, %ld other",
		    round, racers, counts[RACE_WON], counts[RACE_LOST],
		    counts[RACE_OTHER]);
}

/* One code, RACERS redemptions at once: one gets tokens, the rest fail. */
static void
test_race_code(void **state)
{
	struct fx *f = *state;
	char body[FX_BODY_MAX];
	long counts[RACE_OUTCOME__MAX];

	race_fresh(f, RACE_CODE, body, NULL);
	assert_int_equal(race_run(f, body, RACERS, 0, counts), 0);
	assert_int_equal(counts[RACE_WON], 1);
	assert_int_equal(counts[RACE_LOST], RACERS - 1);
	assert_int_equal(counts[RACE_OTHER], 0);
}

/*
 * One refresh token, RACERS rotations at once: one gets new tokens; the
 * others present a rotated token, which is reuse, so the whole grant ends
 * and even the original access token stops being active.
 */
static void
test_race_refresh(void **state)
{
	struct fx *f = *state;
	struct fx_tokens t;
	char body[FX_BODY_MAX];
	long counts[RACE_OUTCOME__MAX];

	race_fresh(f, RACE_REFRESH, body, &t);
	assert_int_equal(race_run(f, body, RACERS, 0, counts), 0);
	assert_int_equal(counts[RACE_WON], 1);
	assert_int_equal(counts[RACE_LOST], RACERS - 1);
	assert_int_equal(counts[RACE_OTHER], 0);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, t.access), 0);
}

/* Opens f's database again as f->store, with flags. */
static void
race_reopen(struct fx *f, unsigned flags)
{
	store_close(f->store);
	f->env.store = f->store = NULL;
	assert_int_equal(store_open(f->dir, FX_MAP_DEFAULT, flags, &f->store,
	    NULL, 0), STORE_OK);
	f->env.store = f->store;
}

/*
 * Starts a child that opens f's database itself and holds a write
 * transaction, and with it LMDB's write lock, until h->release closes;
 * returns once it holds it.  f's store must be closed, so that the fork
 * is of a process with no store open and no committer thread.
 */
static void
race_hold_lock(struct fx *f, struct race_holder *h)
{
	int ready[2], go[2];
	char byte;

	assert_null(f->store);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	fflush(NULL);
	h->pid = fork();
	assert_true(h->pid != -1);
	if (h->pid == 0) {
		struct store *s;
		struct store_txn *t;

		alarm(RACE_TIMEOUT);
		close(ready[0]);
		close(go[1]);
		if (store_open(f->dir, FX_MAP_DEFAULT, 0, &s, NULL, 0) !=
		    STORE_OK || store_txn_begin(s, 1, &t) != STORE_OK)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		(void)!read(go[0], &byte, 1);
		store_txn_abort(t);
		store_close(s);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	h->release = go[1];
}

/*
 * race_threads' released: waits, RACE_QUEUE_MAX seconds at most, until
 * q->want write transactions are queued on q->store, then lets the holder
 * go, whether they queued or not, so that the racers can finish.
 */
static void
race_queued(void *arg)
{
	struct race_queue *q = arg;
	struct store_commit_counts c;
	struct timespec pause = {0, 2 * 1000 * 1000};
	long tries = RACE_QUEUE_MAX * 500L;

	while (!q->queued && tries-- > 0) {
		if (store_commit_counts(q->store, &c) == 0 &&
		    c.waiting >= q->want)
			q->queued = 1;
		else
			(void)nanosleep(&pause, NULL);
	}
	close(q->holder->release);
	q->holder->release = -1;
}

/*
 * A round of RACERS threads made certain to share one commit: a child
 * holds LMDB's write lock while they race, so the committer waits for it
 * and every racer's write queues (store_commit_counts says when all
 * have); let go, the committer begins one transaction and lets all of
 * them into it in turn, then commits once.  That one commit must hold
 * more than one write transaction (the winner's and the losers', each of
 * which revokes the grant), and still only one racer may win.
 */
static void
race_held_round(struct fx *f, enum race_kind kind)
{
	struct store_commit_counts c;
	struct race_holder holder;
	struct race_queue q;
	struct fx_tokens t;
	char body[FX_BODY_MAX];
	long counts[RACE_OUTCOME__MAX];
	int status;

	race_fresh(f, kind, body, &t);
	store_close(f->store);
	f->env.store = f->store = NULL;
	race_hold_lock(f, &holder);
	/* Its named databases exist: opening them takes no write lock. */
	race_reopen(f, STORE_OPEN_THREADS);
	memset(&q, 0, sizeof(q));
	q.store = f->store;
	q.want = RACERS;
	q.holder = &holder;
	assert_int_equal(race_threads(&f->env, body, RACERS, -1, -1,
	    race_queued, &q, counts), 0);
	assert_int_equal(waitpid(holder.pid, &status, 0), holder.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!q.queued)
		fail_msg("%d write transactions never queued", RACERS);
	race_check(RACE_ROUNDS, RACERS, counts);
	/* The store is new since the fork: only this round's commits. */
	assert_int_equal(store_commit_counts(f->store, &c), 0);
	assert_int_equal(c.commits, 1);
	assert_true(c.transactions > 1);
	assert_true(c.transactions <= RACERS);
	print_message("held round: 1 group commit held %lu write "
	    "transactions\n", c.transactions);
	if (kind == RACE_REFRESH)
		assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET,
		    t.access), 0);
}

/*
 * RACE_ROUNDS rounds of RACERS_MIN to RACERS threads sharing one store
 * opened with STORE_OPEN_THREADS, spending one credential of kind at once,
 * then race_held_round.
 *
 * In the free rounds which writes share a commit is the scheduler's
 * choice, so they assert only what is certain (a racer's write, the
 * winner's at least, is committed; no commit holds none; no write but the
 * racers' is made during a round); the held round makes a commit of more
 * than one certain.
 */
static void
race_in_process(struct fx *f, enum race_kind kind)
{
	struct store_commit_counts before, after, all;
	struct fx_tokens t;
	char body[FX_BODY_MAX];
	long counts[RACE_OUTCOME__MAX];
	int round, racers;

	race_reopen(f, STORE_OPEN_THREADS);
	/*
	 * A thread that never returns must fail the run, not stall it;
	 * race_teardown disarms it, however the test ends.
	 */
	alarm(RACE_TIMEOUT);
	for (round = 0; round < RACE_ROUNDS; round++) {
		racers = RACERS_MIN + round % (RACERS - RACERS_MIN + 1);
		race_fresh(f, kind, body, &t);
		assert_int_equal(store_commit_counts(f->store, &before), 0);
		assert_int_equal(race_threads(&f->env, body, racers, -1, -1,
		    NULL, NULL, counts), 0);
		race_check(round, racers, counts);
		assert_int_equal(store_commit_counts(f->store, &after), 0);
		assert_true(after.commits > before.commits);
		assert_true(after.transactions - before.transactions >=
		    after.commits - before.commits);
		assert_true(after.transactions - before.transactions <=
		    (unsigned long)racers);
		if (kind == RACE_REFRESH)
			assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET,
			    t.access), 0);
	}
	assert_int_equal(store_commit_counts(f->store, &all), 0);
	assert_true(all.commits >= 1);
	assert_true(all.transactions >= all.commits);
	print_message("free rounds: %lu group commits held %lu write "
	    "transactions\n", all.commits, all.transactions);
	race_held_round(f, kind);
}

/*
 * fx_teardown, after every racer thread has been joined (a failed
 * assertion comes only from the test's own thread, once race_threads has
 * returned), so closing the shared store is safe.
 */
static int
race_teardown(void **state)
{
	alarm(0);
	return fx_teardown(state);
}

static void
test_race_threads_code(void **state)
{
	race_in_process(*state, RACE_CODE);
}

static void
test_race_threads_refresh(void **state)
{
	race_in_process(*state, RACE_REFRESH);
}

/*
 * RACE_ROUNDS rounds of RACE_PROCS processes, each of RACE_PROC_THREADS
 * threads on a STORE_OPEN_THREADS store of its own, spending one
 * credential of kind at once: one winner among them all.
 */
static void
race_processes(struct fx *f, enum race_kind kind)
{
	struct store_commit_counts commits[RACE_PROCS];
	struct fx_tokens t;
	char body[FX_BODY_MAX];
	long counts[RACE_OUTCOME__MAX];
	int round, i;
	unsigned long total;

	for (round = 0; round < RACE_ROUNDS; round++) {
		race_fresh(f, kind, body, &t);
		assert_int_equal(race_run_threads(f, body, 0, counts,
		    commits), 0);
		race_check(round, RACE_PROCS * RACE_PROC_THREADS, counts);
		total = 0;
		for (i = 0; i < RACE_PROCS; i++) {
			assert_true(commits[i].transactions >=
			    commits[i].commits);
			assert_true(commits[i].transactions <=
			    RACE_PROC_THREADS);
			total += commits[i].commits;
		}
		assert_true(total >= 1);
		if (kind == RACE_REFRESH)
			assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET,
			    t.access), 0);
	}
}

static void
test_race_processes_threads_code(void **state)
{
	race_processes(*state, RACE_CODE);
}

static void
test_race_processes_threads_refresh(void **state)
{
	race_processes(*state, RACE_REFRESH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_race_code, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_race_refresh, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_race_threads_code,
		    fx_setup, race_teardown),
		cmocka_unit_test_setup_teardown(test_race_threads_refresh,
		    fx_setup, race_teardown),
		cmocka_unit_test_setup_teardown(
		    test_race_processes_threads_code, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_race_processes_threads_refresh, fx_setup,
		    fx_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
