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

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "handler_fixture.h"

#define RACERS 6
#define RACERS_MIN 4		/* threads of the in-process race, at least */
#define RACE_TIMEOUT 30		/* seconds a racer, or a threaded test, may take */
#define RACE_ROUNDS 4		/* rounds of each threaded race */
#define RACE_PROCS 2		/* processes of the race of threaded processes */
#define RACE_PROC_THREADS 3	/* racer threads in each of them */
#define RACE_QUEUE_MAX 10	/* seconds the racers may take to queue */

enum race_outcome {
	RACE_WON = 0,		/* 200 with tokens */
	RACE_LOST = 1,		/* 400 invalid_grant */
	RACE_OTHER = 2,
};

/* What a race spends: one code, or one refresh token. */
enum race_kind {
	RACE_CODE = 0,
	RACE_REFRESH,
};

/*
 * Where racer threads wait to be let go at once: each counts itself in,
 * and the runner lets them all go only once every one is waiting.
 */
struct race_gate {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int waiting;
	int go;			/* 1: race; -1: leave without racing */
};

struct race_thread {
	pthread_t thread;
	struct race_gate *gate;
	struct handler_env env;
	const char *body;
	int outcome;
};

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

/* What a child of the race of threaded processes sends back. */
struct race_record {
	int counts[RACE_OTHER + 1];
	struct store_commit_counts commits;
};

static int
race_random(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	return crypto_random(out, len);
}

/*
 * In a child: waits for the start signal (the pipe closing), opens its
 * own store, presents body at /token, and exits with its outcome.
 */
static void
race_child(const char *dir, int start, const char *body)
{
	struct fx f;
	struct fx_resp out;
	char buf[1];
	const char *error;
	int outcome = RACE_OTHER;

	alarm(RACE_TIMEOUT);
	(void)!read(start, buf, sizeof(buf));
	memset(&f, 0, sizeof(f));
	if (store_open(dir, FX_MAP_DEFAULT, 0, &f.store, NULL, 0) != STORE_OK)
		_exit(RACE_OTHER);
	f.config.issuer = (char *)FX_ISSUER;
	f.config.access_ttl = FX_ACCESS_TTL;
	f.config.refresh_ttl = FX_REFRESH_TTL;
	f.config.code_ttl = FX_CODE_TTL;
	f.config.max_body = CONFIG_BODY_DEFAULT;
	f.now = UNIT_NOW;
	f.env.config = &f.config;
	f.env.store = f.store;
	f.env.now = unit_clock;
	f.env.random = race_random;
	f.env.ctx = &f.now;
	fx_post(&f, "/token", NULL, body, &out);
	if (out.r.status == 200 && fx_str(&out, "access_token") != NULL)
		outcome = RACE_WON;
	else if (out.r.status == 400 &&
	    (error = fx_str(&out, "error")) != NULL &&
	    strcmp(error, "invalid_grant") == 0)
		outcome = RACE_LOST;
	fx_resp_free(&out);
	store_close(f.store);
	_exit(outcome);
}

/*
 * Closes the parent's store (an environment must not cross fork), starts
 * RACERS processes presenting body at once, and counts their outcomes.
 * Reopens the parent's store before returning.
 */
static void
race_run(struct fx *f, const char *body, int counts[RACE_OTHER + 1])
{
	pid_t pids[RACERS];
	int fds[2], status, i;

	memset(counts, 0, sizeof(int) * (RACE_OTHER + 1));
	store_close(f->store);
	f->store = NULL;
	assert_int_equal(pipe(fds), 0);
	for (i = 0; i < RACERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] != -1);
		if (pids[i] == 0) {
			close(fds[1]);
			race_child(f->dir, fds[0], body);
		}
	}
	close(fds[0]);
	close(fds[1]);		/* the start signal: every read returns */
	for (i = 0; i < RACERS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (WIFEXITED(status) && WEXITSTATUS(status) <= RACE_OTHER)
			counts[WEXITSTATUS(status)]++;
		else
			counts[RACE_OTHER]++;
	}
	assert_int_equal(store_open(f->dir, FX_MAP_DEFAULT, 0, &f->store, NULL, 0),
	    STORE_OK);
	f->env.store = f->store;
}

/*
 * Presents body at /token through env and returns the outcome.  Safe in
 * any thread: it makes no cmocka assertion, whose failure would jump
 * into the test from a thread that is not the test's.
 */
static int
race_present(const struct handler_env *env, const char *body)
{
	struct request req;
	struct response resp;
	cJSON *json = NULL;
	const cJSON *error;
	int outcome = RACE_OTHER;

	memset(&req, 0, sizeof(req));
	response_init(&resp);
	req.method = strdup("POST");
	req.path = strdup("/token");
	req.content_type = strdup("application/x-www-form-urlencoded");
	req.body = strdup(body);
	req.body_len = strlen(body);
	if (req.method != NULL && req.path != NULL &&
	    req.content_type != NULL && req.body != NULL) {
		handler_dispatch(env, &req, &resp);
		if (resp.body.len > 0)
			json = cJSON_ParseWithLength(resp.body.data,
			    resp.body.len);
		error = cJSON_GetObjectItemCaseSensitive(json, "error");
		if (resp.status == 200 && cJSON_IsString(
		    cJSON_GetObjectItemCaseSensitive(json, "access_token")))
			outcome = RACE_WON;
		else if (resp.status == 400 && cJSON_IsString(error) &&
		    strcmp(error->valuestring, "invalid_grant") == 0)
			outcome = RACE_LOST;
	}
	cJSON_Delete(json);
	response_free(&resp);
	request_free(&req);
	return outcome;
}

static void *
race_thread(void *arg)
{
	struct race_thread *t = arg;
	struct race_gate *g = t->gate;
	int go;

	(void)pthread_mutex_lock(&g->lock);
	g->waiting++;
	(void)pthread_cond_broadcast(&g->changed);
	while (g->go == 0)
		(void)pthread_cond_wait(&g->changed, &g->lock);
	go = g->go;
	(void)pthread_mutex_unlock(&g->lock);
	t->outcome = go == 1 ? race_present(&t->env, t->body) : RACE_OTHER;
	return NULL;
}

/*
 * Starts n racer threads presenting body through copies of env, waits
 * until all of them wait at the gate, then, when ready is not -1, writes
 * a byte to it and, when start is not -1, waits for start to close; then
 * lets them all go, calls released(arg) when released is not NULL, joins
 * them and counts their outcomes.  Returns 0, or -1 when a thread could
 * not be started (the others are let go without racing).  No cmocka
 * assertion: a forked child runs it too, and a failure while racers run
 * would leave them running into the teardown.
 */
static int
race_threads(const struct handler_env *env, const char *body, int n,
    int ready, int start, void (*released)(void *), void *arg,
    int counts[RACE_OTHER + 1])
{
	struct race_thread threads[RACERS];
	struct race_gate gate;
	char buf[1];
	int i, started = 0;

	memset(counts, 0, sizeof(int) * (RACE_OTHER + 1));
	if (n > RACERS)
		return -1;
	memset(&gate, 0, sizeof(gate));
	(void)pthread_mutex_init(&gate.lock, NULL);
	(void)pthread_cond_init(&gate.changed, NULL);
	for (i = 0; i < n; i++) {
		threads[i].gate = &gate;
		threads[i].body = body;
		threads[i].outcome = RACE_OTHER;
		/*
		 * Each thread its own env: a secret or signing cache belongs
		 * to one thread, so a copy goes without them.  The randomness
		 * is real: unit_random's counter is shared and unguarded.
		 */
		threads[i].env = *env;
		threads[i].env.secret_cache = NULL;
		threads[i].env.signing = NULL;
		threads[i].env.random = race_random;
		if (pthread_create(&threads[i].thread, NULL, race_thread,
		    &threads[i]) != 0)
			break;
		started++;
	}
	(void)pthread_mutex_lock(&gate.lock);
	while (gate.waiting < started)
		(void)pthread_cond_wait(&gate.changed, &gate.lock);
	(void)pthread_mutex_unlock(&gate.lock);
	if (started == n) {
		if (ready != -1) {
			(void)!write(ready, "r", 1);
			close(ready);
		}
		if (start != -1)
			(void)!read(start, buf, sizeof(buf));
	}
	(void)pthread_mutex_lock(&gate.lock);
	gate.go = started == n ? 1 : -1;
	(void)pthread_cond_broadcast(&gate.changed);
	(void)pthread_mutex_unlock(&gate.lock);
	if (released != NULL)
		released(arg);
	for (i = 0; i < started; i++) {
		(void)pthread_join(threads[i].thread, NULL);
		counts[threads[i].outcome]++;
	}
	(void)pthread_cond_destroy(&gate.changed);
	(void)pthread_mutex_destroy(&gate.lock);
	return started == n ? 0 : -1;
}

/*
 * In a child: opens a store of its own for threads (after the fork: an
 * environment never crosses one), races RACE_PROC_THREADS threads on it
 * once every process's are ready and start closes, sends its record to
 * out and exits: 0 when it ran its race, 1 when not.
 */
static void
race_child_threads(const char *dir, int ready, int start, int out,
    const char *body)
{
	struct race_record rec;
	struct config config;
	struct handler_env env;
	struct store *store;
	int64_t now = UNIT_NOW;
	int rc = 1;

	alarm(RACE_TIMEOUT);
	if (store_open(dir, FX_MAP_DEFAULT, STORE_OPEN_THREADS, &store, NULL,
	    0) != STORE_OK)
		_exit(1);
	memset(&config, 0, sizeof(config));
	config.issuer = (char *)FX_ISSUER;
	config.access_ttl = FX_ACCESS_TTL;
	config.refresh_ttl = FX_REFRESH_TTL;
	config.code_ttl = FX_CODE_TTL;
	config.max_body = CONFIG_BODY_DEFAULT;
	memset(&env, 0, sizeof(env));
	env.config = &config;
	env.store = store;
	env.now = unit_clock;
	env.random = race_random;
	env.ctx = &now;
	memset(&rec, 0, sizeof(rec));
	/* One write, under PIPE_BUF: the records of two children never mix. */
	if (race_threads(&env, body, RACE_PROC_THREADS, ready, start, NULL,
	    NULL, rec.counts) == 0 &&
	    store_commit_counts(store, &rec.commits) == 0 &&
	    write(out, &rec, sizeof(rec)) == (ssize_t)sizeof(rec))
		rc = 0;
	/* Only now: every thread that used the store has been joined. */
	store_close(store);
	_exit(rc);
}

/* Reads len bytes into p.  Returns 1, or 0 at the end or on an error. */
static int
race_read_full(int fd, void *p, size_t len)
{
	unsigned char *b = p;
	ssize_t n;

	while (len > 0) {
		n = read(fd, b, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		b += n;
		len -= (size_t)n;
	}
	return 1;
}

/*
 * Closes the parent's store, starts RACE_PROCS processes of
 * RACE_PROC_THREADS racer threads presenting body, lets them all go once
 * every process's threads are waiting, and counts the outcomes (a racer
 * that sent none is RACE_OTHER); commits gets each process's group commit
 * counts, zero for one that sent none.  Reopens the parent's store.
 */
static void
race_run_threads(struct fx *f, const char *body, int counts[RACE_OTHER + 1],
    struct store_commit_counts commits[RACE_PROCS])
{
	pid_t pids[RACE_PROCS];
	struct race_record rec;
	int start[2], ready[2], results[2], status, i, j, got = 0;
	char byte;

	memset(counts, 0, sizeof(int) * (RACE_OTHER + 1));
	memset(commits, 0, sizeof(*commits) * RACE_PROCS);
	store_close(f->store);
	f->store = NULL;
	assert_int_equal(pipe(start), 0);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(results), 0);
	fflush(NULL);		/* no child may inherit unwritten output */
	for (i = 0; i < RACE_PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] != -1);
		if (pids[i] == 0) {
			close(start[1]);
			close(ready[0]);
			close(results[0]);
			race_child_threads(f->dir, ready[1], start[0],
			    results[1], body);
		}
	}
	close(start[0]);
	close(ready[1]);
	close(results[1]);
	/* A child that died early only shortens the wait: its end closed. */
	for (i = 0; i < RACE_PROCS && race_read_full(ready[0], &byte, 1); i++)
		;
	close(start[1]);	/* the start signal: every read returns */
	while (got < RACE_PROCS && race_read_full(results[0], &rec,
	    sizeof(rec))) {
		for (j = 0; j <= RACE_OTHER; j++)
			counts[j] += rec.counts[j];
		commits[got++] = rec.commits;
	}
	counts[RACE_OTHER] += (RACE_PROCS - got) * RACE_PROC_THREADS;
	close(ready[0]);
	close(results[0]);
	for (i = 0; i < RACE_PROCS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			counts[RACE_OTHER]++;
	}
	assert_int_equal(store_open(f->dir, FX_MAP_DEFAULT, 0, &f->store, NULL,
	    0), STORE_OK);
	f->env.store = f->store;
}

/*
 * Issues a fresh credential of kind and writes into body the /token
 * request that spends it; for a refresh token, t gets the pair issued,
 * its access token checked active.
 */
static void
race_body(struct fx *f, enum race_kind kind, char body[FX_BODY_MAX],
    struct fx_tokens *t)
{
	char code[TOKEN_PRESENTED_MAX + 1];

	if (kind == RACE_CODE) {
		fx_code(f, FX_PUB, NULL, code);
		assert_true((size_t)snprintf(body, FX_BODY_MAX,
		    "grant_type=authorization_code&code=%s&client_id=" FX_PUB
		    "&code_verifier=" FX_VERIFIER, code) < FX_BODY_MAX);
		return;
	}
	fx_code_flow(f, FX_PUB, NULL, NULL, t);
	assert_true(t->refresh[0] != '\0');
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, t->access), 1);
	assert_true((size_t)snprintf(body, FX_BODY_MAX,
	    "grant_type=refresh_token&refresh_token=%s&client_id=" FX_PUB,
	    t->refresh) < FX_BODY_MAX);
}

/*
 * Fails the test unless one racer of the round won and the other
 * racers - 1 got invalid_grant.  Standard error is left alone while they
 * race, losers' events and all: a sanitizer's report goes there too.
 */
static void
race_check(int round, int racers, const int counts[RACE_OTHER + 1])
{
	if (counts[RACE_WON] != 1 || counts[RACE_LOST] != racers - 1 ||
	    counts[RACE_OTHER] != 0)
		fail_msg("round %d, %d racers: %d won, %d lost, %d other",
		    round, racers, counts[RACE_WON], counts[RACE_LOST],
		    counts[RACE_OTHER]);
}

/* One code, RACERS redemptions at once: one gets tokens, the rest fail. */
static void
test_race_code(void **state)
{
	struct fx *f = *state;
	char body[FX_BODY_MAX];
	int counts[RACE_OTHER + 1];

	race_body(f, RACE_CODE, body, NULL);
	race_run(f, body, counts);
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
	int counts[RACE_OTHER + 1];

	race_body(f, RACE_REFRESH, body, &t);
	race_run(f, body, counts);
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
	int counts[RACE_OTHER + 1], status;

	race_body(f, kind, body, &t);
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
	int counts[RACE_OTHER + 1], round, racers;

	race_reopen(f, STORE_OPEN_THREADS);
	/*
	 * A thread that never returns must fail the run, not stall it;
	 * race_teardown disarms it, however the test ends.
	 */
	alarm(RACE_TIMEOUT);
	for (round = 0; round < RACE_ROUNDS; round++) {
		racers = RACERS_MIN + round % (RACERS - RACERS_MIN + 1);
		race_body(f, kind, body, &t);
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
	int counts[RACE_OTHER + 1], round, i;
	unsigned long total;

	for (round = 0; round < RACE_ROUNDS; round++) {
		race_body(f, kind, body, &t);
		race_run_threads(f, body, counts, commits);
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
