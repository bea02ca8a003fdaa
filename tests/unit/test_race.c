/*
 * Processes racing on one authorization code and on one refresh token, as
 * the responders of mod_fcgid or spawn-fcgi do: each process opens the
 * database itself, all are released at once, and exactly one may win.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <unistd.h>

#include "unit.h"
#include "handler_fixture.h"

#define RACERS 6
#define RACE_TIMEOUT 30		/* seconds a racer may take */

enum race_outcome {
	RACE_WON = 0,		/* 200 with tokens */
	RACE_LOST = 1,		/* 400 invalid_grant */
	RACE_OTHER = 2,
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

/* One code, RACERS redemptions at once: one gets tokens, the rest fail. */
static void
test_race_code(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1], body[FX_BODY_MAX];
	int counts[RACE_OTHER + 1];

	fx_code(f, FX_PUB, NULL, code);
	assert_true((size_t)snprintf(body, sizeof(body),
	    "grant_type=authorization_code&code=%s&client_id=" FX_PUB
	    "&code_verifier=" FX_VERIFIER, code) < sizeof(body));
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

	fx_code_flow(f, FX_PUB, NULL, NULL, &t);
	assert_true(t.refresh[0] != '\0');
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, t.access), 1);
	assert_true((size_t)snprintf(body, sizeof(body),
	    "grant_type=refresh_token&refresh_token=%s&client_id=" FX_PUB,
	    t.refresh) < sizeof(body));
	race_run(f, body, counts);
	assert_int_equal(counts[RACE_WON], 1);
	assert_int_equal(counts[RACE_LOST], RACERS - 1);
	assert_int_equal(counts[RACE_OTHER], 0);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, t.access), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_race_code, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_race_refresh, fx_setup,
		    fx_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
