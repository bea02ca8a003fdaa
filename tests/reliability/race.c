/*
 * Races at scale: ROUNDS rounds of each of six races, in which 4 to 6
 * racers redeem one authorization code at once, or rotate one refresh
 * token at once.  The racers are processes, each with its own LMDB
 * environment, as the responders of mod_fcgid or spawn-fcgi are; or
 * threads of one process sharing one store opened with STORE_OPEN_THREADS,
 * whose writes are grouped into shared commits (store_group.c), as
 * oauth.fcgi --threads runs; or RACE_PROCS processes of RACE_PROC_THREADS
 * such threads, each process on its store, where LMDB's lock between
 * processes and the grouping within each are raced at once.  All racers
 * of a round are released together: processes by closing a pipe, threads
 * by a condition variable once all wait.  Every round must have exactly
 * one winner (200 with tokens) and losers that got 400 invalid_grant,
 * nothing else.  tests/unit/test_race.c does a few rounds; this does many.
 *
 *   build/tests/reliability/race [ROUNDS]     (default RACE_ROUNDS)
 *
 * Prints "ok - ..." or "not ok - ..." per race, the failing rounds, how
 * the threaded races' writes were grouped into commits, then "N passed,
 * M failed".  Bounded: RACE_TIME_MAX seconds in all, each racer process
 * RACE_CHILD_MAX seconds, and each round of threads in this process as
 * long: threads that do not return by then are a hang, reported, and end
 * the run (they still hold the store).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "../unit/unit.h"
#include "../unit/handler_fixture.h"

#define RACE_ROUNDS 1000
#define RACE_ROUNDS_MAX 100000
#define RACERS_MIN 4
#define RACERS_MAX 6
#define RACE_TIME_MAX 600	/* seconds for the whole program */
#define RACE_CHILD_MAX 30	/* seconds one racer may take */
#define RACE_SHOWN_MAX 10	/* failing rounds printed per race */
#define RACE_PROCS 2		/* processes of the race of threaded processes */
#define RACE_PROC_THREADS 3	/* racer threads in each of them */
#define RACE_HUNG (-2)		/* race_threads: a racer did not return */
#define RACE_STR_(x) #x
#define RACE_STR(x) RACE_STR_(x)

enum race_outcome {
	RACE_WON = 0,		/* 200 with tokens */
	RACE_LOST = 1,		/* 400 invalid_grant */
	RACE_OTHER = 2,		/* anything else, a crash or a timeout too */
	RACE_OUTCOME__MAX
};

/* What a race spends: one code, or one refresh token. */
enum race_kind {
	RACE_CODE = 0,
	RACE_REFRESH,
	RACE_KIND__MAX
};

/* What one race found over all its rounds. */
struct race_tally {
	const char *name;
	const char *racers;	/* who races, for the result line */
	long rounds;
	long bad_rounds;
	long outcomes[RACE_OUTCOME__MAX];
	/* Threaded races: how the racers' writes were grouped. */
	int threaded;
	unsigned long commits;
	unsigned long transactions;
	long grouped_rounds;	/* rounds with a commit of more than one */
};

/*
 * Where racer threads wait to be let go at once: each counts itself in,
 * and the runner lets them all go only once every one is waiting.
 */
struct race_gate {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int waiting;
	int done;		/* racers that have their outcome */
	int go;			/* 1: race; -1: leave without racing */
};

struct race_thread {
	pthread_t thread;
	struct race_gate *gate;
	struct handler_env env;
	const char *body;
	int outcome;
};

/* One round of threads: on the heap, so that a hang can leave it be. */
struct race_pack {
	struct race_gate gate;
	struct race_thread threads[RACERS_MAX];
};

/* What a child of the race of threaded processes sends back. */
struct race_record {
	long counts[RACE_OUTCOME__MAX];
	struct store_commit_counts commits;
};

static int race_random(void *, unsigned char *, size_t);
static void race_child(const char *, int, const char *)
    __attribute__((noreturn));
static int race_run(struct fx *, const char *, int,
    long[RACE_OUTCOME__MAX]);
static int race_present(const struct handler_env *, const char *);
static void *race_thread(void *);
static int race_threads(const struct handler_env *, const char *, int, int,
    int, long[RACE_OUTCOME__MAX]);
static void race_child_threads(const char *, int, int, int, const char *)
    __attribute__((noreturn));
static int race_read_full(int, void *, size_t);
static int race_run_threads(struct fx *, const char *,
    long[RACE_OUTCOME__MAX], struct store_commit_counts[RACE_PROCS]);
static int race_body(struct fx *, enum race_kind, char[FX_BODY_MAX],
    struct fx_tokens *);
static void race_round(struct race_tally *, long, int,
    const long[RACE_OUTCOME__MAX]);
static void race_grouped(struct race_tally *,
    const struct store_commit_counts *, int);
static void race_survived(struct race_tally *, long, struct fx *,
    const struct fx_tokens *);
static int race_in_process(struct fx *, struct race_tally *, enum race_kind,
    long);
static void race_processes(struct fx *, struct race_tally *, enum race_kind,
    long);
static int race_report(const struct race_tally *);

/* The racers' randomness: real, so no two racers mint the same token. */
static int
race_random(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	return crypto_random(out, len);
}

/*
 * In a child: waits for the start (the pipe closing), opens its own
 * store, presents body at /token, and exits with its outcome.
 */
static void
race_child(const char *dir, int start, const char *body)
{
	struct fx f;
	struct fx_resp out;
	char buf[1];
	const char *error;
	int outcome = RACE_OTHER, fd;

	alarm(RACE_CHILD_MAX);
	/* The losers' security events would be thousands of lines. */
	if ((fd = open("/dev/null", O_WRONLY)) != -1) {
		(void)dup2(fd, STDERR_FILENO);
		close(fd);
	}
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
 * racers processes presenting body at once and counts their outcomes into
 * counts.  Reopens the parent's store before returning.  Returns 0, or -1
 * when a process could not be started or the store not reopened.
 */
static int
race_run(struct fx *f, const char *body, int racers,
    long counts[RACE_OUTCOME__MAX])
{
	pid_t pids[RACERS_MAX];
	int fds[2], status, i, started = 0, rv = 0;

	memset(counts, 0, sizeof(long) * RACE_OUTCOME__MAX);
	store_close(f->store);
	f->store = NULL;
	if (pipe(fds) == -1)
		return -1;
	for (i = 0; i < racers; i++) {
		if ((pids[i] = fork()) == -1) {
			rv = -1;
			break;
		}
		if (pids[i] == 0) {
			close(fds[1]);
			race_child(f->dir, fds[0], body);
		}
		started++;
	}
	close(fds[0]);
	close(fds[1]);		/* the start signal: every read returns */
	for (i = 0; i < started; i++) {
		if (waitpid(pids[i], &status, 0) == pids[i] &&
		    WIFEXITED(status) && WEXITSTATUS(status) < RACE_OTHER)
			counts[WEXITSTATUS(status)]++;
		else
			counts[RACE_OTHER]++;
	}
	if (store_open(f->dir, FX_MAP_DEFAULT, 0, &f->store, NULL, 0) != STORE_OK)
		return -1;
	f->env.store = f->store;
	return rv;
}

/*
 * Presents body at /token through env and returns the outcome.  Safe in
 * any thread: no cmocka assertion, whose failure would end the run from a
 * racer's thread.
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
	int go, outcome = RACE_OTHER;

	(void)pthread_mutex_lock(&g->lock);
	g->waiting++;
	(void)pthread_cond_broadcast(&g->changed);
	while (g->go == 0)
		(void)pthread_cond_wait(&g->changed, &g->lock);
	go = g->go;
	(void)pthread_mutex_unlock(&g->lock);
	if (go == 1)
		outcome = race_present(&t->env, t->body);
	(void)pthread_mutex_lock(&g->lock);
	t->outcome = outcome;
	g->done++;
	(void)pthread_cond_broadcast(&g->changed);
	(void)pthread_mutex_unlock(&g->lock);
	return NULL;
}

/*
 * Starts n racer threads presenting body through copies of env, waits
 * until all of them wait at the gate, then, when ready is not -1, writes
 * a byte to it and, when start is not -1, waits for start to close; then
 * lets them all go, joins them and counts their outcomes into counts.
 * Returns 0; -1 when a thread could not be started (the others are let go
 * without racing); RACE_HUNG when they have not all returned within
 * RACE_CHILD_MAX seconds, and are left running with what they use.
 */
static int
race_threads(const struct handler_env *env, const char *body, int n,
    int ready, int start, long counts[RACE_OUTCOME__MAX])
{
	struct race_pack *p;
	struct race_gate *g;
	struct timespec until;
	char buf[1];
	int i, started = 0, hung = 0;

	memset(counts, 0, sizeof(long) * RACE_OUTCOME__MAX);
	if (n > RACERS_MAX || (p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	g = &p->gate;
	(void)pthread_mutex_init(&g->lock, NULL);
	(void)pthread_cond_init(&g->changed, NULL);
	for (i = 0; i < n; i++) {
		struct race_thread *t = &p->threads[i];

		t->gate = g;
		t->body = body;
		/*
		 * Each thread its own env: a secret or signing cache belongs
		 * to one thread, so a copy goes without them.
		 */
		t->env = *env;
		t->env.secret_cache = NULL;
		t->env.signing = NULL;
		t->env.random = race_random;
		if (pthread_create(&t->thread, NULL, race_thread, t) != 0)
			break;
		started++;
	}
	(void)pthread_mutex_lock(&g->lock);
	while (g->waiting < started)
		(void)pthread_cond_wait(&g->changed, &g->lock);
	(void)pthread_mutex_unlock(&g->lock);
	if (started == n) {
		if (ready != -1) {
			(void)!write(ready, "r", 1);
			close(ready);
		}
		if (start != -1)
			(void)!read(start, buf, sizeof(buf));
	}
	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += RACE_CHILD_MAX;
	(void)pthread_mutex_lock(&g->lock);
	g->go = started == n ? 1 : -1;
	(void)pthread_cond_broadcast(&g->changed);
	while (g->done < started && !hung)
		hung = pthread_cond_timedwait(&g->changed, &g->lock, &until) ==
		    ETIMEDOUT && g->done < started;
	(void)pthread_mutex_unlock(&g->lock);
	if (hung)
		return RACE_HUNG;
	for (i = 0; i < started; i++) {
		(void)pthread_join(p->threads[i].thread, NULL);
		counts[p->threads[i].outcome]++;
	}
	(void)pthread_cond_destroy(&g->changed);
	(void)pthread_mutex_destroy(&g->lock);
	free(p);
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
	int rc, fd;

	alarm(RACE_CHILD_MAX);
	/* The losers' security events would be thousands of lines. */
	if ((fd = open("/dev/null", O_WRONLY)) != -1) {
		(void)dup2(fd, STDERR_FILENO);
		close(fd);
	}
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
	rc = race_threads(&env, body, RACE_PROC_THREADS, ready, start,
	    rec.counts);
	/* A hang leaves threads in the store: _exit without closing it. */
	if (rc == RACE_HUNG)
		_exit(1);
	/* One write, under PIPE_BUF: the records of two children never mix. */
	rc = rc == 0 && store_commit_counts(store, &rec.commits) == 0 &&
	    write(out, &rec, sizeof(rec)) == (ssize_t)sizeof(rec) ? 0 : 1;
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
 * Closes the parent's store (an environment must not cross fork, and a
 * STORE_OPEN_THREADS store's committer thread is joined so), starts
 * RACE_PROCS processes of RACE_PROC_THREADS racer threads presenting body,
 * lets them all go once every process's threads wait, and counts the
 * outcomes into counts: the racers of a process that sent no record, or
 * did not exit 0, are RACE_OTHER.  commits gets each process's group
 * commit counts, zero for one that sent none.  Reopens the parent's store
 * (without threads).  Returns 0, or -1 when the pipes or a process could
 * not be made or the store not reopened.
 */
static int
race_run_threads(struct fx *f, const char *body,
    long counts[RACE_OUTCOME__MAX],
    struct store_commit_counts commits[RACE_PROCS])
{
	pid_t pids[RACE_PROCS];
	struct race_record rec;
	int start[2], ready[2], results[2], status, i, j, got = 0;
	int started = 0, rv = 0;
	char byte;

	memset(counts, 0, sizeof(long) * RACE_OUTCOME__MAX);
	memset(commits, 0, sizeof(*commits) * RACE_PROCS);
	store_close(f->store);
	f->store = NULL;
	if (pipe(start) == -1)
		return -1;
	if (pipe(ready) == -1) {
		close(start[0]);
		close(start[1]);
		return -1;
	}
	if (pipe(results) == -1) {
		close(start[0]);
		close(start[1]);
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	for (i = 0; i < RACE_PROCS; i++) {
		if ((pids[i] = fork()) == -1) {
			rv = -1;
			break;
		}
		if (pids[i] == 0) {
			close(start[1]);
			close(ready[0]);
			close(results[0]);
			race_child_threads(f->dir, ready[1], start[0],
			    results[1], body);
		}
		started++;
	}
	close(start[0]);
	close(ready[1]);
	close(results[1]);
	/* A child that died early only shortens the wait: its end closed. */
	for (i = 0; i < started && race_read_full(ready[0], &byte, 1); i++)
		;
	close(start[1]);	/* the start signal: every read returns */
	while (got < started && race_read_full(results[0], &rec,
	    sizeof(rec))) {
		for (j = 0; j < RACE_OUTCOME__MAX; j++)
			counts[j] += rec.counts[j];
		commits[got++] = rec.commits;
	}
	counts[RACE_OTHER] += (long)(started - got) * RACE_PROC_THREADS;
	close(ready[0]);
	close(results[0]);
	for (i = 0; i < started; i++)
		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			counts[RACE_OTHER]++;
	if (store_open(f->dir, FX_MAP_DEFAULT, 0, &f->store, NULL, 0) != STORE_OK)
		return -1;
	f->env.store = f->store;
	return rv;
}

/*
 * Issues a fresh credential of kind and writes into body the /token
 * request that spends it; for a refresh token, t gets the pair issued.
 * Returns 0, or -1 when there is no store or the body does not fit.
 */
static int
race_body(struct fx *f, enum race_kind kind, char body[FX_BODY_MAX],
    struct fx_tokens *t)
{
	char c[TOKEN_PRESENTED_MAX + 1];

	if (f->store == NULL)
		return -1;
	if (kind == RACE_CODE) {
		fx_code(f, FX_PUB, NULL, c);
		return (size_t)snprintf(body, FX_BODY_MAX,
		    "grant_type=authorization_code&code=%s&client_id=" FX_PUB
		    "&code_verifier=" FX_VERIFIER, c) < FX_BODY_MAX ? 0 : -1;
	}
	fx_code_flow(f, FX_PUB, NULL, NULL, t);
	if (t->refresh[0] == '\0')
		return -1;
	return (size_t)snprintf(body, FX_BODY_MAX,
	    "grant_type=refresh_token&refresh_token=%s&client_id=" FX_PUB,
	    t->refresh) < FX_BODY_MAX ? 0 : -1;
}

/* Adds one round to t: one winner and racers - 1 losers, or a bad round. */
static void
race_round(struct race_tally *t, long round, int racers,
    const long counts[RACE_OUTCOME__MAX])
{
	int i;

	t->rounds++;
	for (i = 0; i < RACE_OUTCOME__MAX; i++)
		t->outcomes[i] += counts[i];
	if (counts[RACE_WON] == 1 && counts[RACE_LOST] == racers - 1 &&
	    counts[RACE_OTHER] == 0)
		return;
	if (t->bad_rounds++ < RACE_SHOWN_MAX)
		printf("# %s round %ld, %d racers: %ld won, %ld lost, "
		    "%ld other\n", t->name, round, racers, counts[RACE_WON],
		    counts[RACE_LOST], counts[RACE_OTHER]);
}

/*
 * Adds to t the commits of one round's racers on each of the n stores of
 * c: a store's commits held more than one write transaction, one of them
 * at least, when they held more transactions than there were commits.
 */
static void
race_grouped(struct race_tally *t, const struct store_commit_counts *c,
    int n)
{
	int i, grouped = 0;

	for (i = 0; i < n; i++) {
		t->commits += c[i].commits;
		t->transactions += c[i].transactions;
		if (c[i].transactions > c[i].commits)
			grouped = 1;
	}
	t->grouped_rounds += grouped;
}

/*
 * The losers of a refresh round presented a rotated token: reuse, which
 * ends the grant, so even the first access token of tok must be inactive.
 * A round where it is not is bad.
 */
static void
race_survived(struct race_tally *t, long round, struct fx *f,
    const struct fx_tokens *tok)
{
	if (fx_introspect(f, FX_RS, FX_RS_SECRET, tok->access) != 0 &&
	    t->bad_rounds++ < RACE_SHOWN_MAX)
		printf("# %s round %ld: the grant survived the reuse\n",
		    t->name, round);
}

/*
 * rounds rounds of RACERS_MIN to RACERS_MAX threads of this process, on
 * f's store opened again with STORE_OPEN_THREADS, spending one credential
 * of kind at once; the store is left so.  Returns 0, or RACE_HUNG after a
 * round whose threads did not return (reported; they still run).
 */
static int
race_in_process(struct fx *f, struct race_tally *t, enum race_kind kind,
    long rounds)
{
	struct store_commit_counts before, after, round;
	struct fx_tokens tok;
	char body[FX_BODY_MAX];
	long counts[RACE_OUTCOME__MAX], r;
	int racers, rc, saved, quiet;

	t->threaded = 1;
	store_close(f->store);
	f->env.store = f->store = NULL;
	if (store_open(f->dir, FX_MAP_DEFAULT, STORE_OPEN_THREADS, &f->store,
	    NULL, 0) != STORE_OK)
		return 0;
	f->env.store = f->store;
	/*
	 * The losers' security events would be thousands of lines: standard
	 * error goes to /dev/null while racers run, and comes back between.
	 */
	saved = dup(STDERR_FILENO);
	quiet = open("/dev/null", O_WRONLY);
	for (r = 0; r < rounds; r++) {
		racers = RACERS_MIN + (int)(r % (RACERS_MAX - RACERS_MIN + 1));
		if (race_body(f, kind, body, &tok) == -1 ||
		    store_commit_counts(f->store, &before) == -1)
			break;
		if (saved != -1 && quiet != -1)
			(void)dup2(quiet, STDERR_FILENO);
		rc = race_threads(&f->env, body, racers, -1, -1, counts);
		if (saved != -1 && quiet != -1)
			(void)dup2(saved, STDERR_FILENO);
		if (rc == RACE_HUNG) {
			t->rounds++;
			t->bad_rounds++;
			printf("# %s round %ld, %d racers: not every racer "
			    "returned within %d seconds\n", t->name, r,
			    racers, RACE_CHILD_MAX);
			return RACE_HUNG;
		}
		if (rc == -1)
			break;
		/* Only the racers wrote meanwhile: the difference is theirs. */
		(void)store_commit_counts(f->store, &after);
		round.commits = after.commits - before.commits;
		round.transactions = after.transactions - before.transactions;
		race_round(t, r, racers, counts);
		race_grouped(t, &round, 1);
		if (kind == RACE_REFRESH)
			race_survived(t, r, f, &tok);
	}
	if (saved != -1)
		close(saved);
	if (quiet != -1)
		close(quiet);
	return 0;
}

/*
 * rounds rounds of RACE_PROCS processes of RACE_PROC_THREADS threads,
 * each process on a STORE_OPEN_THREADS store of its own, spending one
 * credential of kind at once: one winner among them all.
 */
static void
race_processes(struct fx *f, struct race_tally *t, enum race_kind kind,
    long rounds)
{
	struct store_commit_counts commits[RACE_PROCS];
	struct fx_tokens tok;
	char body[FX_BODY_MAX];
	long counts[RACE_OUTCOME__MAX], r;

	t->threaded = 1;
	for (r = 0; r < rounds; r++) {
		if (race_body(f, kind, body, &tok) == -1 ||
		    race_run_threads(f, body, counts, commits) == -1)
			break;
		race_round(t, r, RACE_PROCS * RACE_PROC_THREADS, counts);
		/* A child's store held only its racers' writes. */
		race_grouped(t, commits, RACE_PROCS);
		if (kind == RACE_REFRESH)
			race_survived(t, r, f, &tok);
	}
}

/* Prints the result line of a race.  Returns 1 when it passed. */
static int
race_report(const struct race_tally *t)
{
	int passed = t->rounds > 0 && t->bad_rounds == 0;

	printf("%s - %s: %ld rounds of %s, %ld winners, "
	    "%ld invalid_grant, %ld other, %ld bad rounds\n",
	    passed ? "ok" : "not ok", t->name, t->rounds, t->racers,
	    t->outcomes[RACE_WON], t->outcomes[RACE_LOST],
	    t->outcomes[RACE_OTHER], t->bad_rounds);
	/*
	 * Which writes share a commit is up to the scheduler, so this is a
	 * figure, not a check; a round with more than one shows the
	 * grouping was raced, not only a writer at a time.
	 */
	if (t->threaded)
		printf("# %s: the racers' %lu write transactions went in %lu "
		    "group commits; %ld of %ld rounds had a commit of more "
		    "than one\n", t->name, t->transactions, t->commits,
		    t->grouped_rounds, t->rounds);
	return passed;
}

int
main(int argc, char *argv[])
{
	struct fx f;
	struct fx_tokens tok;
	struct race_tally code = { .name = "one code redeemed at once",
	    .racers = RACE_STR(RACERS_MIN) " to " RACE_STR(RACERS_MAX)
	    " processes" };
	struct race_tally refresh = { .name = "one refresh token rotated "
	    "at once", .racers = RACE_STR(RACERS_MIN) " to "
	    RACE_STR(RACERS_MAX) " processes" };
	struct race_tally threads[RACE_KIND__MAX] = {
		[RACE_CODE] = { .name = "one code redeemed at once by "
		    "threads", .racers = RACE_STR(RACERS_MIN) " to "
		    RACE_STR(RACERS_MAX) " threads of one process" },
		[RACE_REFRESH] = { .name = "one refresh token rotated at "
		    "once by threads", .racers = RACE_STR(RACERS_MIN) " to "
		    RACE_STR(RACERS_MAX) " threads of one process" },
	};
	struct race_tally procs[RACE_KIND__MAX] = {
		[RACE_CODE] = { .name = "one code redeemed at once by "
		    "threads of processes", .racers = RACE_STR(RACE_PROCS)
		    " processes of " RACE_STR(RACE_PROC_THREADS) " threads" },
		[RACE_REFRESH] = { .name = "one refresh token rotated at "
		    "once by threads of processes", .racers =
		    RACE_STR(RACE_PROCS) " processes of "
		    RACE_STR(RACE_PROC_THREADS) " threads" },
	};
	char c[TOKEN_PRESENTED_MAX + 1], body[FX_BODY_MAX];
	long counts[RACE_OUTCOME__MAX], rounds = RACE_ROUNDS, r;
	int racers, passed = 0, failed = 0, k, j;
	time_t start = time(NULL);
	char *end;

	if (argc > 1) {
		rounds = strtol(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || rounds < 1 ||
		    rounds > RACE_ROUNDS_MAX) {
			fprintf(stderr, "usage: race [ROUNDS (1 to %d)]\n",
			    RACE_ROUNDS_MAX);
			return 2;
		}
	}
	/*
	 * Every line out before the next fork: a child must not inherit
	 * lines still buffered, which a runtime that flushes at _exit (the
	 * ThreadSanitizer's does) would print once more per child.
	 */
	(void)setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	/* The bound of the whole run: SIGALRM ends it, which counts. */
	alarm(RACE_TIME_MAX);
	if (crypto_init() == -1) {
		printf("not ok - OpenSSL offers SHA-256\n0 passed, 1 failed\n");
		return 1;
	}
	fx_open(&f, FX_MAP_DEFAULT);
	fx_add_standard(&f);

	for (r = 0; r < rounds; r++) {
		racers = RACERS_MIN + (int)(r % (RACERS_MAX - RACERS_MIN + 1));
		fx_code(&f, FX_PUB, NULL, c);
		if ((size_t)snprintf(body, sizeof(body),
		    "grant_type=authorization_code&code=%s&client_id=" FX_PUB
		    "&code_verifier=" FX_VERIFIER, c) >= sizeof(body) ||
		    race_run(&f, body, racers, counts) == -1)
			break;
		race_round(&code, r, racers, counts);
	}
	if (race_report(&code))
		passed++;
	else
		failed++;

	for (r = 0; r < rounds; r++) {
		racers = RACERS_MIN + (int)(r % (RACERS_MAX - RACERS_MIN + 1));
		fx_code_flow(&f, FX_PUB, NULL, NULL, &tok);
		if (tok.refresh[0] == '\0' ||
		    (size_t)snprintf(body, sizeof(body),
		    "grant_type=refresh_token&refresh_token=%s&client_id="
		    FX_PUB, tok.refresh) >= sizeof(body) ||
		    race_run(&f, body, racers, counts) == -1)
			break;
		race_round(&refresh, r, racers, counts);
		/*
		 * The losers presented a rotated token: reuse, which ends the
		 * grant, so even the first access token is inactive now.
		 */
		if (fx_introspect(&f, FX_RS, FX_RS_SECRET, tok.access) != 0 &&
		    refresh.bad_rounds++ < RACE_SHOWN_MAX)
			printf("# refresh round %ld: the grant survived the "
			    "reuse\n", r);
	}
	if (race_report(&refresh))
		passed++;
	else
		failed++;

	for (k = 0; k < RACE_KIND__MAX; k++) {
		if (race_in_process(&f, &threads[k], (enum race_kind)k,
		    rounds) == RACE_HUNG) {
			/*
			 * The hung threads still hold the store and the
			 * committer: nothing more can run in this process,
			 * nor may the store be closed under them.
			 */
			(void)race_report(&threads[k]);
			failed++;
			for (j = k + 1; j < RACE_KIND__MAX; j++, failed++)
				printf("not ok - %s: not run after a hang\n",
				    threads[j].name);
			for (j = 0; j < RACE_KIND__MAX; j++, failed++)
				printf("not ok - %s: not run after a hang\n",
				    procs[j].name);
			printf("# %ld seconds\n", (long)(time(NULL) - start));
			printf("%d passed, %d failed\n", passed, failed);
			fflush(stdout);
			_exit(1);
		}
		if (race_report(&threads[k]))
			passed++;
		else
			failed++;
	}

	for (k = 0; k < RACE_KIND__MAX; k++) {
		race_processes(&f, &procs[k], (enum race_kind)k, rounds);
		if (race_report(&procs[k]))
			passed++;
		else
			failed++;
	}

	fx_close(&f);
	printf("# %ld seconds\n", (long)(time(NULL) - start));
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
