/*
 * fcgi_listen.c and fcgi_sandbox.c: the --listen address parser, what the
 * request loop does after each accept(2) error, the back-off, and the
 * seccomp filter installed in a forked child that then tries what it must
 * not.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "../../fcgi/fcgi.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_SANITIZER 1
#endif
#endif
#ifndef TEST_SANITIZER
#define TEST_SANITIZER 0
#endif

struct verdict_case {
	int line;
	int err;
	enum fcgi_listen_verdict want;
};

static const struct verdict_case verdict_cases[] = {
	/* A signal, or the listening socket's time limit passing. */
	{__LINE__, EINTR, FCGI_LISTEN_RETRY},
	{__LINE__, EAGAIN, FCGI_LISTEN_RETRY},
	{__LINE__, EWOULDBLOCK, FCGI_LISTEN_RETRY},
	/* One connection's trouble, reported by accept(2) on Linux. */
	{__LINE__, ECONNABORTED, FCGI_LISTEN_RETRY},
	{__LINE__, ECONNRESET, FCGI_LISTEN_RETRY},
	{__LINE__, EPROTO, FCGI_LISTEN_RETRY},
	{__LINE__, ETIMEDOUT, FCGI_LISTEN_RETRY},
	{__LINE__, ENETDOWN, FCGI_LISTEN_RETRY},
	{__LINE__, ENETUNREACH, FCGI_LISTEN_RETRY},
	{__LINE__, EHOSTDOWN, FCGI_LISTEN_RETRY},
	{__LINE__, EHOSTUNREACH, FCGI_LISTEN_RETRY},
	{__LINE__, ENOPROTOOPT, FCGI_LISTEN_RETRY},
	{__LINE__, EOPNOTSUPP, FCGI_LISTEN_RETRY},
	{__LINE__, EPERM, FCGI_LISTEN_RETRY},
	/* Out of resources that may come back. */
	{__LINE__, EMFILE, FCGI_LISTEN_BACKOFF},
	{__LINE__, ENFILE, FCGI_LISTEN_BACKOFF},
	{__LINE__, ENOBUFS, FCGI_LISTEN_BACKOFF},
	{__LINE__, ENOMEM, FCGI_LISTEN_BACKOFF},
	/* Unknown: transient until proven otherwise. */
	{__LINE__, EIO, FCGI_LISTEN_BACKOFF},
	{__LINE__, 4095, FCGI_LISTEN_BACKOFF},
	/* lighttpd shut the socket down as it stops. */
	{__LINE__, ENOTCONN, FCGI_LISTEN_STOP},
	/* Not a usable listening socket: no retry mends it. */
	{__LINE__, EBADF, FCGI_LISTEN_FATAL},
	{__LINE__, ENOTSOCK, FCGI_LISTEN_FATAL},
	{__LINE__, EINVAL, FCGI_LISTEN_FATAL},
	{__LINE__, EFAULT, FCGI_LISTEN_FATAL},
	/* libfcgi's own codes carry no errno. */
	{__LINE__, 0, FCGI_LISTEN_FATAL},
	{__LINE__, -9999, FCGI_LISTEN_FATAL},
};

static void
test_accept_error_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(verdict_cases) / sizeof(verdict_cases[0]);
	    i++) {
		const struct verdict_case *c = &verdict_cases[i];
		enum fcgi_listen_verdict got;

		got = fcgi_listen_accept_error(c->err);
		if (got != c->want)
			fail_msg("line %d: errno %d: got %d, want %d", c->line,
			    c->err, (int)got, (int)c->want);
	}
}

struct backoff_case {
	int line;
	unsigned attempt;
	unsigned want_ms;
};

static const struct backoff_case backoff_cases[] = {
	{__LINE__, 0, FCGI_LISTEN_BACKOFF_MIN_MS},
	{__LINE__, 1, 2 * FCGI_LISTEN_BACKOFF_MIN_MS},
	{__LINE__, 2, 4 * FCGI_LISTEN_BACKOFF_MIN_MS},
	{__LINE__, 6, 640},
	{__LINE__, 7, FCGI_LISTEN_BACKOFF_MAX_MS},
	{__LINE__, 40, FCGI_LISTEN_BACKOFF_MAX_MS},
	{__LINE__, 4000000000U, FCGI_LISTEN_BACKOFF_MAX_MS},
};

static void
test_backoff_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(backoff_cases) / sizeof(backoff_cases[0]);
	    i++) {
		const struct backoff_case *c = &backoff_cases[i];
		unsigned got = fcgi_listen_backoff_ms(c->attempt);

		if (got != c->want_ms)
			fail_msg("line %d: attempt %u: got %u ms, want %u",
			    c->line, c->attempt, got, c->want_ms);
	}
}

struct parse_case {
	int line;
	const char *in;
	int want_rc;
	int is_unix;
	const char *host_or_path;
	unsigned port;
};

static const struct parse_case parse_cases[] = {
	{__LINE__, "127.0.0.1:9000", 0, 0, "127.0.0.1", 9000},
	{__LINE__, "[::1]:9000", 0, 0, "::1", 9000},
	{__LINE__, "localhost:1", 0, 0, "localhost", 1},
	{__LINE__, "127.0.0.1:65535", 0, 0, "127.0.0.1", 65535},
	/* Leading zeros: as long as config_parse_number takes (19). */
	{__LINE__, "127.0.0.1:0000000000000009124", 0, 0, "127.0.0.1", 9124},
	{__LINE__, "127.0.0.1:00000000000000009124", -1, 0, NULL, 0},
	{__LINE__, "/run/oauth-fcgi/oauth.sock", 0, 1,
	    "/run/oauth-fcgi/oauth.sock", 0},
	{__LINE__, "./oauth.sock", 0, 1, "./oauth.sock", 0},
	{__LINE__, "oauth.sock", 0, 1, "oauth.sock", 0},
	{__LINE__, "", -1, 0, NULL, 0},
	{__LINE__, ":9000", -1, 0, NULL, 0},
	{__LINE__, "[]:9000", -1, 0, NULL, 0},
	{__LINE__, "127.0.0.1:0", -1, 0, NULL, 0},
	{__LINE__, "127.0.0.1:65536", -1, 0, NULL, 0},
	{__LINE__, "127.0.0.1:-1", -1, 0, NULL, 0},
	{__LINE__, "127.0.0.1:+80", -1, 0, NULL, 0},
	{__LINE__, "127.0.0.1:9x", -1, 0, NULL, 0},
	{__LINE__, "127.0.0.1:", -1, 0, NULL, 0},
};

static void
test_parse_table(void **state)
{
	struct fcgi_listen_addr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		int rc = fcgi_listen_parse(c->in, &a);

		if (rc != c->want_rc)
			fail_msg("line %d: \"%s\": got %d, want %d", c->line,
			    c->in, rc, c->want_rc);
		if (rc != 0)
			continue;
		if (a.is_unix != c->is_unix ||
		    strcmp(c->is_unix ? a.path : a.host, c->host_or_path) !=
		    0 || a.port != c->port)
			fail_msg("line %d: \"%s\": got %s %s port %u", c->line,
			    c->in, a.is_unix ? "path" : "host",
			    a.is_unix ? a.path : a.host, a.port);
	}
}

/* A path one byte too long for sockaddr_un is refused, one that fits not. */
static void
test_parse_path_limit(void **state)
{
	struct fcgi_listen_addr a;
	char path[sizeof(a.path) + 1];

	(void)state;
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[sizeof(a.path)] = '\0';
	assert_int_equal(fcgi_listen_parse(path, &a), -1);
	path[sizeof(a.path) - 1] = '\0';
	assert_int_equal(fcgi_listen_parse(path, &a), 0);
	assert_int_equal(a.is_unix, 1);
}

#define TEST_CHILD_ALLOWED 3	/* the child did what it may */
#define TEST_CHILD_REFUSED 4	/* a forbidden call failed with EPERM */
#define TEST_CHILD_RAN 5	/* a forbidden call went through */
#define TEST_CHILD_NO_FILTER 6	/* fcgi_sandbox_enter failed */

/*
 * Runs what(mode) in a forked child under the filter of mode and returns
 * the child's wait status.  The child leaves by _exit, so nothing of the
 * parent's cmocka state is run twice.
 */
static int
sandboxed(enum fcgi_sandbox_mode mode, int (*what)(void))
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		if (fcgi_sandbox_enter(mode, 0) == -1)
			_exit(TEST_CHILD_NO_FILTER);
		_exit(what());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* What a responder does all the time: must go through. */
static int
child_allowed(void)
{
	char *big;

	if (getpid() <= 0 || write(STDERR_FILENO, "", 0) != 0 ||
	    time(NULL) == (time_t)-1)
		return 1;
	/* Large enough for malloc to map it rather than grow the heap. */
	if ((big = malloc(4 * 1024 * 1024)) == NULL)
		return 1;
	memset(big, 1, 4 * 1024 * 1024);
	free(big);
	return TEST_CHILD_ALLOWED;
}

static int
child_execve(void)
{
	char *const argv[] = {(char *)"true", NULL};
	char *const envp[] = {NULL};

	(void)execve("/bin/true", argv, envp);
	return errno == EPERM ? TEST_CHILD_REFUSED : TEST_CHILD_RAN;
}

static int
child_open(void)
{
	int fd = open("/etc/passwd", O_RDONLY);

	if (fd == -1)
		return errno == EPERM ? TEST_CHILD_REFUSED : TEST_CHILD_RAN;
	return TEST_CHILD_RAN;
}

static int
child_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd == -1)
		return errno == EPERM ? TEST_CHILD_REFUSED : TEST_CHILD_RAN;
	return TEST_CHILD_RAN;
}

/*
 * Checks that status is the end of a child whose forbidden call was
 * refused: killed by SIGSYS, or, in a sanitizer build (whose filter
 * answers EPERM so that a report is never cut short), TEST_CHILD_REFUSED.
 */
static void
assert_refused(int status, const char *what)
{
	if (TEST_SANITIZER) {
		if (!WIFEXITED(status) ||
		    WEXITSTATUS(status) != TEST_CHILD_REFUSED)
			fail_msg("%s: not refused with EPERM (status %#x)",
			    what, (unsigned)status);
		return;
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("%s: not killed by SIGSYS (status %#x)", what,
		    (unsigned)status);
}

static void
test_sandbox_allows(void **state)
{
	int mode, status;

	(void)state;
	for (mode = 0; mode < FCGI_SANDBOX_MODE__MAX; mode++) {
		status = sandboxed((enum fcgi_sandbox_mode)mode, child_allowed);
		if (!WIFEXITED(status) ||
		    WEXITSTATUS(status) != TEST_CHILD_ALLOWED)
			fail_msg("mode %d: status %#x", mode,
			    (unsigned)status);
	}
}

static void
test_sandbox_refuses_execve(void **state)
{
	(void)state;
	assert_refused(sandboxed(FCGI_SANDBOX_CGI, child_execve),
	    "CGI execve");
	assert_refused(sandboxed(FCGI_SANDBOX_FASTCGI, child_execve),
	    "FastCGI execve");
}

static void
test_sandbox_refuses_socket(void **state)
{
	(void)state;
	assert_refused(sandboxed(FCGI_SANDBOX_FASTCGI, child_socket),
	    "FastCGI socket");
}

/* The sanitizer runtime reads /proc, so its filter lets files open. */
static void
test_sandbox_refuses_open(void **state)
{
	(void)state;
	if (TEST_SANITIZER)
		skip();
	assert_refused(sandboxed(FCGI_SANDBOX_CGI, child_open), "CGI open");
	assert_refused(sandboxed(FCGI_SANDBOX_FASTCGI, child_open),
	    "FastCGI open");
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_error_table),
		cmocka_unit_test(test_backoff_table),
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_path_limit),
		cmocka_unit_test(test_sandbox_allows),
		cmocka_unit_test(test_sandbox_refuses_execve),
		cmocka_unit_test(test_sandbox_refuses_socket),
		cmocka_unit_test(test_sandbox_refuses_open),
	};

	/* A test name (a glob) as the argument runs only the tests it names. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
