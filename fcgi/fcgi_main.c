/*
 * oauth.fcgi: the OAuth 2.0 authorization server as a FastCGI responder or
 * a CGI program.  main reads the arguments, loads the configuration, opens
 * the database once, then answers one CGI request or loops over FastCGI
 * requests until told to stop.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi.h"

enum fcgi_main_args {
	FCGI_MAIN_RUN = 0,
	FCGI_MAIN_HELP,
	FCGI_MAIN_VERSION,
	FCGI_MAIN_USAGE,
	FCGI_MAIN_ARGS__MAX
};

/* The most worker threads --threads starts. */
#define FCGI_MAIN_THREADS_MAX 64

static void
fcgi_main_usage(FILE *f)
{
	fprintf(f, "usage: oauth.fcgi [--listen host:port | --listen path] "
	    "[--threads N]\n"
	    "       oauth.fcgi --help | --version\n");
}

/*
 * Reads a --threads count: 1 to FCGI_MAIN_THREADS_MAX, in decimal.
 * Returns it, or 0 when value is not one.
 */
static unsigned
fcgi_main_parse_threads(const char *value)
{
	unsigned n = 0;

	if (*value == '\0' || strlen(value) > 2)
		return 0;
	for (; *value != '\0'; value++) {
		if (*value < '0' || *value > '9')
			return 0;
		n = n * 10 + (unsigned)(*value - '0');
	}
	return n <= FCGI_MAIN_THREADS_MAX ? n : 0;
}

/*
 * The value of option name (--name VALUE or --name=VALUE) at argv[*i],
 * advancing *i past it; NULL when argv[*i] is not that option, or when
 * its value is missing (*missing set then).
 */
static const char *
fcgi_main_option(int argc, char *argv[], int *i, const char *name,
    int *missing)
{
	size_t len = strlen(name);
	const char *arg = argv[*i];

	if (strncmp(arg, name, len) != 0)
		return NULL;
	if (arg[len] == '=')
		return arg + len + 1;
	if (arg[len] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

/*
 * Reads argv.  Returns FCGI_MAIN_RUN with *addr filled when --listen was
 * given (*listening set to 1) and *threads the --threads count (1 when
 * not given); FCGI_MAIN_HELP or FCGI_MAIN_VERSION when asked; or
 * FCGI_MAIN_USAGE for an unknown option, an operand, or a missing or bad
 * value, having said why on standard error.
 */
static enum fcgi_main_args
fcgi_main_parse_args(int argc, char *argv[], struct fcgi_listen_addr *addr,
    int *listening, unsigned *threads)
{
	const char *arg, *value;
	int i, missing = 0;

	*listening = 0;
	*threads = 1;
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
			return FCGI_MAIN_HELP;
		if (strcmp(arg, "--version") == 0)
			return FCGI_MAIN_VERSION;
		if ((value = fcgi_main_option(argc, argv, &i, "--threads",
		    &missing)) != NULL) {
			if ((*threads = fcgi_main_parse_threads(value)) == 0) {
				fprintf(stderr, "oauth.fcgi: bad --threads: "
				    "want a number from 1 to %d\n",
				    FCGI_MAIN_THREADS_MAX);
				return FCGI_MAIN_USAGE;
			}
			continue;
		}
		if ((value = fcgi_main_option(argc, argv, &i, "--listen",
		    &missing)) == NULL) {
			if (missing)
				fprintf(stderr, "oauth.fcgi: %s needs a "
				    "value\n", arg);
			else
				fprintf(stderr, "oauth.fcgi: unknown "
				    "argument: %s\n", arg);
			return FCGI_MAIN_USAGE;
		}
		if (fcgi_listen_parse(value, addr) == -1) {
			fprintf(stderr, "oauth.fcgi: bad --listen address: "
			    "want host:port, the host named (127.0.0.1; "
			    "0.0.0.0 for every address) and a port from 1 to "
			    "%d, or a socket path of at most %zu bytes\n",
			    FCGI_LISTEN_PORT_MAX, sizeof(addr->path) - 1);
			return FCGI_MAIN_USAGE;
		}
		*listening = 1;
	}
	return FCGI_MAIN_RUN;
}

/*
 * Opens /dev/null on whichever of descriptors 0, 1 and 2 is closed, so that
 * no file we open later (the LMDB data and lock files) lands on one of
 * them and receives a response or a log line.  Returns 0, or -1 when a
 * descriptor cannot be filled.
 */
static int
fcgi_main_stdio(void)
{
	int fd, nul;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* open(2) returns the lowest free descriptor: this one. */
		if ((nul = open("/dev/null", O_RDWR)) == -1)
			return -1;
		if (nul != fd) {
			(void)close(nul);
			return -1;
		}
	}
	return 0;
}

/* The clock of struct handler_env: the system's. */
static int64_t
fcgi_main_now(void *ctx)
{
	(void)ctx;
	return clock_now();
}

/* The random source of struct handler_env: the kernel's (crypto.c). */
static int
fcgi_main_random(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	return crypto_random(out, len);
}

/* CGI: the variables are the process environment (RFC 3875 §4.1). */
static const char *
fcgi_main_cgi_param(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

/* CGI: every variable is in the environment. */
static char **
fcgi_main_cgi_vars(void *ctx)
{
	extern char **environ;

	(void)ctx;
	return environ;
}

/* CGI: the body is standard input (RFC 3875 §4.2). */
static ssize_t
fcgi_main_cgi_read(void *ctx, char *buf, size_t n)
{
	ssize_t got;

	(void)ctx;
	do
		got = read(STDIN_FILENO, buf, n);
	while (got == -1 && errno == EINTR);
	return got;
}

/* CGI: the response goes to standard output (RFC 3875 §6). */
static int
fcgi_main_cgi_write(void *ctx, const char *data, size_t len)
{
	ssize_t n;

	(void)ctx;
	while (len > 0) {
		n = write(STDOUT_FILENO, data, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Answers a request that arrived while the server cannot serve (bad
 * configuration, no database) with the JSON error resp, in CGI mode, so the
 * client still gets an OAuth error rather than a web server's error page.
 */
static void
fcgi_main_cgi_fail(struct response *resp)
{
	struct fcgi_sink sink = {fcgi_main_cgi_write, NULL};

	(void)fcgi_response_write(resp, &sink);
	response_free(resp);
}

/*
 * Makes ready to serve FastCGI on a socket opened on addr, or on the
 * listening socket the web server passed as standard input when addr is
 * NULL: the socket opened and given a time limit of timeout seconds
 * (fcgi_listen_prepare), libfcgi set up, the stop signals handled and
 * blocked.  All of it opens or changes what the sandbox later forbids.
 * Returns 0 with *sock and *req filled, or -1 having logged why and
 * closed what it opened.
 */
static int
fcgi_main_fastcgi_open(const struct fcgi_listen_addr *addr, unsigned timeout,
    sigset_t *stop, int *sock, FCGX_Request *req)
{
	*sock = STDIN_FILENO;
	if (FCGX_Init() != 0) {
		log_event("cannot initialise libfcgi");
		return -1;
	}
	if (addr != NULL && (*sock = fcgi_listen_open(addr)) == -1)
		return -1;
	if (fcgi_listen_prepare(*sock, timeout) == -1)
		goto fail;
	if (FCGX_InitRequest(req, *sock, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_event("cannot set up a FastCGI request");
		goto fail;
	}
	if (fcgi_loop_signals(stop) == -1 ||
	    pthread_sigmask(SIG_BLOCK, stop, NULL) != 0) {
		log_event("cannot install signal handlers: %s",
		    strerror(errno));
		FCGX_Free(req, 0);
		goto fail;
	}
	return 0;
fail:
	if (*sock != STDIN_FILENO)
		(void)close(*sock);
	return -1;
}

/* Answers the one request of the CGI environment.  Returns the exit status. */
static int
fcgi_main_cgi(const struct handler_env *env)
{
	struct fcgi_source src = {fcgi_main_cgi_param, fcgi_main_cgi_read,
	    NULL, fcgi_main_cgi_vars, NULL};
	struct fcgi_sink sink = {fcgi_main_cgi_write, NULL};

	return fcgi_serve(env, &src, &sink) == 0 ? 0 : 1;
}

/*
 * Narrows the process to what serving needs (fcgi_sandbox.c), unless
 * OAUTH_SANDBOX is "0", the switch for debugging with tools the filter
 * would stop (strace attaching is fine; gdb calling functions may not
 * be).  Random bytes come from getrandom(2), which opens no file: a
 * FastCGI process fills its first store of them now, and a kernel
 * without getrandom (before Linux 3.17) cannot serve.  Returns 0, or -1
 * when the sandbox cannot be entered, which the caller takes as a reason
 * not to serve.
 */
static int
fcgi_main_narrow(enum fcgi_sandbox_mode mode, int postgresql)
{
	const char *off = getenv("OAUTH_SANDBOX");
	unsigned char warm[1];

	if (!crypto_random_available() || (mode != FCGI_SANDBOX_CGI &&
	    crypto_random(warm, sizeof(warm)) == -1)) {
		log_event("no random bytes: getrandom(2) fails");
		return -1;
	}
	if (off != NULL && strcmp(off, "0") == 0)
		return 0;
	return fcgi_sandbox_enter(mode, postgresql);
}

/* fcgi_main_narrow for the threads of fcgi_threads_serve. */
static int
fcgi_main_narrow_threads(void *postgresql)
{
	return fcgi_main_narrow(FCGI_SANDBOX_THREADS, *(int *)postgresql);
}

/*
 * Serves sock with count worker threads (fcgi_threads.c), each with the
 * settings of env and caches of its own.  On LMDB they share env's store,
 * opened for threads; on PostgreSQL the first has it and each other opens
 * a connection of its own, before the sandbox.  Returns the exit status.
 */
static int
fcgi_main_threads(const struct handler_env *env, unsigned count, int sock,
    const sigset_t *stop)
{
	const char *db = env->config->db_path;
	int postgresql = store_is_uri(db);
	struct handler_env *envs;
	char why[STORE_DETAIL_MAX];
	enum store_status st;
	unsigned i, made;
	int rc = 0;

	if ((envs = calloc(count, sizeof(*envs))) == NULL) {
		log_event("cannot start %u threads: out of memory", count);
		return 1;
	}
	for (made = 0; made < count; made++) {
		envs[made] = *env;
		envs[made].secret_cache = secret_cache_new();
		envs[made].signing = signing_cache_new();
		if (!postgresql || made == 0)
			continue;
		if ((st = store_open(db, 0, store_open_sync_flags(
		    env->config->db_sync) | STORE_OPEN_LAZY, &envs[made].store,
		    why, sizeof(why))) != STORE_OK) {
			log_event("cannot open the database of OAUTH_DB for "
			    "thread %u: %s%s%s", made + 1, store_strerror(st),
			    *why != '\0' ? ": " : "", why);
			rc = 1;
			made++;
			break;
		}
	}
	if (rc == 0)
		rc = fcgi_threads_serve(envs, count, sock, stop,
		    fcgi_main_narrow_threads, &postgresql);
	for (i = 0; i < made; i++) {
		signing_cache_free(envs[i].signing);
		secret_cache_free(envs[i].secret_cache);
		if (postgresql && i > 0)
			store_close(envs[i].store);
	}
	free(envs);
	return rc;
}

/*
 * The privilege story: read the arguments and the configuration, open the
 * database and, for FastCGI, the socket; then enter the sandbox, in which
 * no file can be opened and no program run; then serve.
 */
int
main(int argc, char *argv[])
{
	struct config cfg;
	struct store *store = NULL;
	struct handler_env env;
	struct response resp;
	enum store_status st;
	char why[STORE_DETAIL_MAX];
	struct fcgi_listen_addr addr;
	FCGX_Request req;
	sigset_t stop;
	char err[256];
	unsigned threads;
	int cgi, listening, rc, sock;

	if (fcgi_main_stdio() == -1)
		return 1;
	switch (fcgi_main_parse_args(argc, argv, &addr, &listening,
	    &threads)) {
	case FCGI_MAIN_RUN:
		break;
	case FCGI_MAIN_HELP:
		fcgi_main_usage(stdout);
		printf("\nAn OAuth 2.0 authorization server.  Run by a web "
		    "server as CGI, or as FastCGI\nwith a listening socket "
		    "on standard input or --listen.  Configured by\nOAUTH_* "
		    "environment variables; see oauth.fcgi(8).\n");
		return 0;
	case FCGI_MAIN_VERSION:
		printf("oauth.fcgi %s\n", OAUTH_VERSION);
		return 0;
	case FCGI_MAIN_USAGE:
	case FCGI_MAIN_ARGS__MAX:
		fcgi_main_usage(stderr);
		return 2;
	}

	/* A peer that goes away must cost a write error, not the process. */
	(void)signal(SIGPIPE, SIG_IGN);
	/* A listening socket on standard input means FastCGI. */
	cgi = !listening && FCGX_IsCGI();
	if (cgi)
		threads = 1;
	response_init(&resp);

	if (config_load(&cfg, err, sizeof(err)) == -1) {
		log_event("%s", err);
		if (cgi) {
			response_error(&resp, OAUTH_SERVER_ERROR,
			    "the server is not configured");
			fcgi_main_cgi_fail(&resp);
		}
		return 1;
	}
	/*
	 * One environment or connection per process, opened before any
	 * request; a PostgreSQL server down now is connected to later, its
	 * requests answered 503 meanwhile.  A URI may hold a password: it
	 * is never logged.  A FastCGI process has the kernel read an LMDB
	 * file into the page cache as it starts (STORE_OPEN_PREWARM).
	 */
	if ((st = store_open(cfg.db_path, cfg.map_size,
	    store_open_sync_flags(cfg.db_sync) | STORE_OPEN_LAZY |
	    (cgi ? 0 : STORE_OPEN_PREWARM) |
	    (threads > 1 && !store_is_uri(cfg.db_path) ? STORE_OPEN_THREADS :
	    0), &store,
	    why, sizeof(why))) != STORE_OK) {
		log_event("cannot open the database %s: %s%s%s",
		    store_is_uri(cfg.db_path) ? "of OAUTH_DB" : cfg.db_path,
		    store_strerror(st), *why != '\0' ? ": " : "", why);
		if (cgi) {
			response_store_error(&resp, st);
			fcgi_main_cgi_fail(&resp);
		}
		config_free(&cfg);
		return 1;
	}

	/*
	 * Signing's module, before the sandbox and the threads: in every
	 * FastCGI process, in a CGI process only for a request that may
	 * sign.  openssl.cnf sets policy for TLS, which only libpq does
	 * here: it is read with PostgreSQL, or when OPENSSL_CONF names one
	 * (a FIPS configuration, say).  Without the module the rest serves.
	 */
	if (!cgi || handler_uses_jose(getenv("PATH_INFO"),
	    getenv("HTTP_ACCEPT"), getenv("HTTP_DPOP"),
	    getenv("HTTP_AUTHORIZATION")))
		(void)fcgi_jose_load(getenv("OPENSSL_CONF") != NULL ||
		    store_is_uri(cfg.db_path));

	memset(&env, 0, sizeof(env));
	env.config = &cfg;
	env.store = store;
	env.now = fcgi_main_now;
	env.random = fcgi_main_random;
	if (cgi) {
		if (fcgi_main_narrow(FCGI_SANDBOX_CGI,
		    store_is_uri(cfg.db_path)) == -1) {
			response_error(&resp, OAUTH_SERVER_ERROR,
			    "the server cannot start");
			fcgi_main_cgi_fail(&resp);
			rc = 1;
		} else
			rc = fcgi_main_cgi(&env);
	} else if (fcgi_main_fastcgi_open(listening ? &addr : NULL,
	    cfg.conn_timeout, &stop, &sock, &req) == -1)
		rc = 1;
	else if (threads > 1) {
		rc = fcgi_main_threads(&env, threads, sock, &stop);
		FCGX_Free(&req, 1);
		if (sock != STDIN_FILENO)
			(void)close(sock);
	} else {
		/*
		 * A long-lived process remembers the operator secrets it has
		 * verified; without the cache (no memory) it only runs slower.
		 */
		env.secret_cache = secret_cache_new();
		/* And the signing keys it has parsed, by kid. */
		env.signing = signing_cache_new();
		if (fcgi_main_narrow(FCGI_SANDBOX_FASTCGI,
		    store_is_uri(cfg.db_path)) == -1)
			rc = 1;
		else
			rc = fcgi_loop(&env, &stop, &req);
		signing_cache_free(env.signing);
		secret_cache_free(env.secret_cache);
		FCGX_Free(&req, 1);
		if (sock != STDIN_FILENO)
			(void)close(sock);
	}

	store_close(store);
	config_free(&cfg);
	return rc;
}
