/*
 * The racers of tests/unit/test_race.c and tests/reliability/race.c: one
 * /token request presented at once by processes, each with its own LMDB
 * environment, or by threads of one process sharing a store opened with
 * STORE_OPEN_THREADS, or by threads of several such processes.  All racers
 * of a round are released together: processes by closing a pipe, threads
 * by a condition variable once all wait.  Nothing here makes a cmocka
 * assertion (a racer's thread or a forked child runs most of it): each
 * function returns what it found, and the program judges and reports.
 */
#ifndef RACE_FIXTURE_H
#define RACE_FIXTURE_H

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "handler_fixture.h"

#define RACERS_MAX 6		/* racers of one round, at most */
#define RACE_CHILD_MAX 30	/* seconds a racer, or a round of threads */
#define RACE_PROCS 2		/* processes of threads in their race */
#define RACE_PROC_THREADS 3	/* racer threads in each of them */
#define RACE_HUNG (-2)		/* race_threads: a racer did not return */

enum race_outcome {
	RACE_WON = 0,		/* 200 with tokens */
	RACE_LOST = 1,		/* 400 invalid_grant */
	RACE_OTHER = 2,		/* anything else, a crash or timeout too */
	RACE_OUTCOME__MAX
};

/* What a race spends: one code, or one refresh token. */
enum race_kind {
	RACE_CODE = 0,
	RACE_REFRESH,
	RACE_KIND__MAX
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

static inline void race_child(const char *, int, const char *, int)
    __attribute__((noreturn));
static inline void race_child_threads(const char *, int, int, int,
    const char *, int) __attribute__((noreturn));

/* The racers' randomness: real, so no two racers mint the same token. */
static inline int
race_random(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	return crypto_random(out, len);
}

/* Sends this process's standard error to /dev/null. */
static inline void
race_quiet(void)
{
	int fd;

	if ((fd = open("/dev/null", O_WRONLY)) != -1) {
		(void)dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

/*
 * In a child: waits for the start (the pipe closing), opens its own
 * store, presents body at /token, and exits with its outcome.  When quiet
 * is set, its standard error (the losers' security events) goes to
 * /dev/null.
 */
static inline void
race_child(const char *dir, int start, const char *body, int quiet)
{
	struct fx f;
	struct fx_resp out;
	char buf[1];
	const char *error;
	int outcome = RACE_OTHER;

	alarm(RACE_CHILD_MAX);
	if (quiet)
		race_quiet();
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
 * racers processes (RACERS_MAX at most) presenting body at once and counts
 * their outcomes into counts; quiet as race_child's.  Reopens the parent's
 * store before returning.  Returns 0, or -1 when a process could not be
 * started or the store not reopened.
 */
static inline int
race_run(struct fx *f, const char *body, int racers, int quiet,
    long counts[RACE_OUTCOME__MAX])
{
	pid_t pids[RACERS_MAX];
	int fds[2], status, i, started = 0, rv = 0;

	memset(counts, 0, sizeof(long) * RACE_OUTCOME__MAX);
	if (racers > RACERS_MAX)
		return -1;
	store_close(f->store);
	f->store = NULL;
	if (pipe(fds) == -1)
		return -1;
	fflush(NULL);		/* no child may inherit unwritten output */
	for (i = 0; i < racers; i++) {
		if ((pids[i] = fork()) == -1) {
			rv = -1;
			break;
		}
		if (pids[i] == 0) {
			close(fds[1]);
			race_child(f->dir, fds[0], body, quiet);
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
 * any thread: it makes no cmocka assertion, whose failure would jump
 * into the test from a thread that is not the test's.
 */
static inline int
race_present(const struct handler_env *env, const char *body)
{
	struct request req;
	struct response resp;
	cJSON *json = NULL;
	const cJSON *error;
	int outcome = RACE_OTHER;

	memset(&req, 0, sizeof(req));
	response_init(&resp);
	req.method = "POST";
	req.path = "/token";
	req.content_type = "application/x-www-form-urlencoded";
	req.body = body;
	req.body_len = strlen(body);
	handler_dispatch(env, &req, &resp);
	if (resp.body.len > 0)
		json = cJSON_ParseWithLength(resp.body.data, resp.body.len);
	error = cJSON_GetObjectItemCaseSensitive(json, "error");
	if (resp.status == 200 && cJSON_IsString(
	    cJSON_GetObjectItemCaseSensitive(json, "access_token")))
		outcome = RACE_WON;
	else if (resp.status == 400 && cJSON_IsString(error) &&
	    strcmp(error->valuestring, "invalid_grant") == 0)
		outcome = RACE_LOST;
	cJSON_Delete(json);
	response_free(&resp);
	request_free(&req);
	return outcome;
}

static inline void *
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
 * Starts n racer threads (RACERS_MAX at most) presenting body through
 * copies of env, waits until all of them wait at the gate, then, when
 * ready is not -1, writes a byte to it and, when start is not -1, waits
 * for start to close; then lets them all go, calls released(arg) when
 * released is not NULL, joins them and counts their outcomes into counts.
 * Returns 0; -1 when a thread could not be started (the others are let go
 * without racing); RACE_HUNG when they have not all returned within
 * RACE_CHILD_MAX seconds after released, and are left running with what
 * they use.
 */
static inline int
race_threads(const struct handler_env *env, const char *body, int n,
    int ready, int start, void (*released)(void *), void *arg,
    long counts[RACE_OUTCOME__MAX])
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
		t->outcome = RACE_OTHER;
		/*
		 * Each thread its own env: a secret or signing cache belongs
		 * to one thread, so a copy goes without them.  The randomness
		 * is real: unit_random's counter is shared and unguarded.
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
	(void)pthread_mutex_lock(&g->lock);
	g->go = started == n ? 1 : -1;
	(void)pthread_cond_broadcast(&g->changed);
	(void)pthread_mutex_unlock(&g->lock);
	if (released != NULL)
		released(arg);
	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += RACE_CHILD_MAX;
	(void)pthread_mutex_lock(&g->lock);
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
 * out and exits: 0 when it ran its race, 1 when not; quiet as
 * race_child's.
 */
static inline void
race_child_threads(const char *dir, int ready, int start, int out,
    const char *body, int quiet)
{
	struct race_record rec;
	struct config config;
	struct handler_env env;
	struct store *store;
	int64_t now = UNIT_NOW;
	int rc;

	alarm(RACE_CHILD_MAX);
	if (quiet)
		race_quiet();
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
	rc = race_threads(&env, body, RACE_PROC_THREADS, ready, start, NULL,
	    NULL, rec.counts);
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
static inline int
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
 * did not exit 0, are RACE_OTHER; quiet as race_child's.  commits gets
 * each process's group commit counts, zero for one that sent none.
 * Reopens the parent's store (without threads).  Returns 0, or -1 when
 * the pipes or a process could not be made or the store not reopened.
 */
static inline int
race_run_threads(struct fx *f, const char *body, int quiet,
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
	fflush(NULL);		/* no child may inherit unwritten output */
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
			    results[1], body, quiet);
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
static inline int
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

#endif
