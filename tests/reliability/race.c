/*
 * Races at scale: ROUNDS rounds of 4 to 6 processes redeeming one
 * authorization code at once, and ROUNDS rounds of as many rotating one
 * refresh token at once.  Each racer is its own process with its own LMDB
 * environment, as the responders of mod_fcgid or spawn-fcgi are; all are
 * released together by closing a pipe.  Every round must have exactly one
 * winner (200 with tokens) and losers that got 400 invalid_grant, nothing
 * else.  tests/unit/test_race.c does a few rounds; this does many.
 *
 *   build/tests/reliability/race [ROUNDS]     (default RACE_ROUNDS)
 *
 * Prints "ok - ..." or "not ok - ..." per race, the failing rounds, then
 * "N passed, M failed".  Bounded: RACE_TIME_MAX seconds in all, and each
 * racer RACE_CHILD_MAX seconds.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
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

enum race_outcome {
	RACE_WON = 0,		/* 200 with tokens */
	RACE_LOST = 1,		/* 400 invalid_grant */
	RACE_OTHER = 2,		/* anything else, a crash or a timeout too */
	RACE_OUTCOME__MAX
};

/* What one race found over all its rounds. */
struct race_tally {
	const char *name;
	long rounds;
	long bad_rounds;
	long outcomes[RACE_OUTCOME__MAX];
};

static int race_random(void *, unsigned char *, size_t);
static void race_child(const char *, int, const char *)
    __attribute__((noreturn));
static int race_run(struct fx *, const char *, int,
    long[RACE_OUTCOME__MAX]);
static void race_round(struct race_tally *, long, int,
    const long[RACE_OUTCOME__MAX]);
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

/* Prints the result line of a race.  Returns 1 when it passed. */
static int
race_report(const struct race_tally *t)
{
	int passed = t->rounds > 0 && t->bad_rounds == 0;

	printf("%s - %s: %ld rounds of %d to %d processes, %ld winners, "
	    "%ld invalid_grant, %ld other, %ld bad rounds\n",
	    passed ? "ok" : "not ok", t->name, t->rounds, RACERS_MIN,
	    RACERS_MAX, t->outcomes[RACE_WON], t->outcomes[RACE_LOST],
	    t->outcomes[RACE_OTHER], t->bad_rounds);
	return passed;
}

int
main(int argc, char *argv[])
{
	struct fx f;
	struct fx_tokens tok;
	struct race_tally code = { .name = "one code redeemed at once" };
	struct race_tally refresh = { .name = "one refresh token rotated "
	    "at once" };
	char c[TOKEN_PRESENTED_MAX + 1], body[FX_BODY_MAX];
	long counts[RACE_OUTCOME__MAX], rounds = RACE_ROUNDS, r;
	int racers, passed = 0, failed = 0;
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

	fx_close(&f);
	printf("# %ld seconds\n", (long)(time(NULL) - start));
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
