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
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "../unit/unit.h"
#include "../unit/handler_fixture.h"
#include "../unit/race_fixture.h"

#define RACE_ROUNDS 1000
#define RACE_ROUNDS_MAX 100000
#define RACERS_MIN 4
#define RACE_TIME_MAX 600	/* seconds for the whole program */
#define RACE_SHOWN_MAX 10	/* failing rounds printed per race */
#define RACE_STR_(x) #x
#define RACE_STR(x) RACE_STR_(x)

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
		rc = race_threads(&f->env, body, racers, -1, -1, NULL, NULL,
		    counts);
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
		    race_run_threads(f, body, 1, counts, commits) == -1)
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
	if (jose_init(1) == -1) {
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
		    race_run(&f, body, racers, 1, counts) == -1)
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
		    race_run(&f, body, racers, 1, counts) == -1)
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
