/*
 * Security events reach standard error, which the web server keeps in its
 * error log: a replayed authorization code and a reused refresh token are
 * logged with the client id, and no code or token ever is.
 */
#include "handler_fixture.h"

#define LOG_MAX 8192

/* A code redeemed twice: the second use is logged as a replay. */
static void
test_code_replay_logged(void **state)
{
	struct fx *f = *state;
	char code[TOKEN_PRESENTED_MAX + 1], log[LOG_MAX];
	struct fx_capture capture;
	struct fx_resp out;

	fx_code(f, FX_PUB, NULL, code);
	fx_redeem(f, FX_PUB, NULL, code, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);

	fx_capture_begin(&capture);
	fx_redeem(f, FX_PUB, NULL, code, &out);
	fx_capture_end(&capture, log, sizeof(log));
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	assert_non_null(strstr(log, "authorization code replayed"));
	assert_non_null(strstr(log, "client_id=\"" FX_PUB "\""));
	assert_null(strstr(log, code));
}

/* A rotated refresh token presented again: logged as a replay. */
static void
test_refresh_reuse_logged(void **state)
{
	struct fx *f = *state;
	char log[LOG_MAX];
	struct fx_capture capture;
	struct fx_tokens t;
	struct fx_resp out;

	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &t);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);

	fx_capture_begin(&capture);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_capture_end(&capture, log, sizeof(log));
	fx_assert_error(&out, 400, "invalid_grant");
	fx_resp_free(&out);
	assert_non_null(strstr(log, "refresh token replayed"));
	assert_non_null(strstr(log, "client_id=\"" FX_CONF "\""));
	assert_null(strstr(log, t.refresh));
	assert_null(strstr(log, t.access));
	assert_null(strstr(log, FX_CONF_SECRET));
}

/* Successful requests log nothing: the log holds events, not traffic. */
static void
test_success_silent(void **state)
{
	struct fx *f = *state;
	char log[LOG_MAX];
	struct fx_capture capture;
	struct fx_tokens t;
	struct fx_resp out;

	fx_capture_begin(&capture);
	fx_code_flow(f, FX_CONF, FX_CONF_SECRET, NULL, &t);
	fx_refresh(f, FX_CONF, FX_CONF_SECRET, t.refresh, NULL, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	fx_capture_end(&capture, log, sizeof(log));
	assert_string_equal(log, "");
}

/*
 * A full database is logged, with what to do about it, once however many
 * requests it refuses: one line a minute at most, so that a flood of 503s
 * does not become a flood of log lines.
 */
static void
test_full_map_logged_once(void **state)
{
	struct fx *f = *state;
	char log[LOG_MAX];
	struct fx_capture capture;
	struct fx_resp out;
	const char *p;
	int i, lines = 0;

	fx_capture_begin(&capture);
	(void)fx_fill(f, NULL);
	for (i = 0; i < 20; i++) {
		fx_post(f, "/token", NULL, "grant_type=client_credentials"
		    "&client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET,
		    &out);
		fx_resp_free(&out);
	}
	fx_capture_end(&capture, log, sizeof(log));
	for (p = log; (p = strstr(p, "storage failure")) != NULL; p++)
		lines++;
	assert_int_equal(lines, 1);
	assert_non_null(strstr(log, "answered 503"));
	assert_non_null(strstr(log, "oauthctl purge"));
	assert_null(strstr(log, FX_CONF_SECRET));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_map_logged_once,
		    fx_setup_tiny, fx_teardown),
		cmocka_unit_test_setup_teardown(test_code_replay_logged,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_refresh_reuse_logged,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_success_silent, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
