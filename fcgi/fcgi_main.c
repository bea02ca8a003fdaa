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

#define FCGI_MAIN_PORT_MAX 65535

enum fcgi_main_args {
	FCGI_MAIN_RUN = 0,
	FCGI_MAIN_HELP,
	FCGI_MAIN_VERSION,
	FCGI_MAIN_USAGE,
	FCGI_MAIN_ARGS__MAX
};

/* Set by SIGTERM, SIGINT or SIGUSR1: finish the request, then exit. */
static volatile sig_atomic_t fcgi_main_quit;

static void
fcgi_main_usage(FILE *f)
{
	fprintf(f, "usage: oauth.fcgi [--listen host:port | --listen path]\n"
	    "       oauth.fcgi --help | --version\n");
}

/*
 * A --listen address: the path of a unix socket, or a host (an IPv6
 * literal in brackets) and a port.
 */
struct fcgi_main_addr {
	int is_unix;
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	char host[FCGI_LISTEN_HOST_MAX + 1];
	char port[sizeof("65535")];
};

/*
 * Splits s into *a.  A string that starts with '/' or '.', or holds no
 * colon, is a unix socket path; anything else is host:port, split at the
 * last colon.  Returns 0, or -1 when the path does not fit a sockaddr_un,
 * the host is empty or too long, or the port is not a number from 1 to
 * 65535.
 */
static int
fcgi_main_addr_parse(const char *s, struct fcgi_main_addr *a)
{
	const char *colon, *host;
	size_t hostlen;
	long long port;

	memset(a, 0, sizeof(*a));
	if (s[0] == '\0')
		return -1;
	if (s[0] == '/' || s[0] == '.' || (colon = strrchr(s, ':')) == NULL) {
		if (strlen(s) >= sizeof(a->path))
			return -1;
		a->is_unix = 1;
		memcpy(a->path, s, strlen(s) + 1);
		return 0;
	}
	if (config_parse_number(colon + 1, 1, FCGI_MAIN_PORT_MAX, &port) == -1)
		return -1;
	memcpy(a->port, colon + 1, strlen(colon + 1) + 1);
	host = s;
	hostlen = (size_t)(colon - s);
	if (hostlen >= 2 && host[0] == '[' && host[hostlen - 1] == ']') {
		host++;
		hostlen -= 2;
	}
	/*
	 * Whoever reaches the socket is trusted with REMOTE_USER and all:
	 * listening on every address must be asked for by name (0.0.0.0).
	 */
	if (hostlen == 0 || hostlen > FCGI_LISTEN_HOST_MAX)
		return -1;
	memcpy(a->host, host, hostlen);
	a->host[hostlen] = '\0';
	return 0;
}

/*
 * Reads argv.  Returns FCGI_MAIN_RUN with *addr filled when --listen was
 * given (*listening set to 1); FCGI_MAIN_HELP or FCGI_MAIN_VERSION when
 * asked; or FCGI_MAIN_USAGE for an unknown option, an operand, or a
 * missing or bad address, having said why on standard error.
 */
static enum fcgi_main_args
fcgi_main_parse_args(int argc, char *argv[], struct fcgi_main_addr *addr,
    int *listening)
{
	const char *arg, *value;
	int i;

	*listening = 0;
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
			return FCGI_MAIN_HELP;
		if (strcmp(arg, "--version") == 0)
			return FCGI_MAIN_VERSION;
		if (strcmp(arg, "--listen") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "oauth.fcgi: --listen needs "
				    "an address\n");
				return FCGI_MAIN_USAGE;
			}
			value = argv[++i];
		} else if (strncmp(arg, "--listen=", 9) == 0)
			value = arg + 9;
		else {
			fprintf(stderr, "oauth.fcgi: unknown argument: %s\n",
			    arg);
			return FCGI_MAIN_USAGE;
		}
		if (fcgi_main_addr_parse(value, addr) == -1) {
			fprintf(stderr, "oauth.fcgi: bad --listen address: "
			    "want host:port, the host named (127.0.0.1; "
			    "0.0.0.0 for every address) and a port from 1 to "
			    "%d, or a socket path of at most %zu bytes\n",
			    FCGI_MAIN_PORT_MAX, sizeof(addr->path) - 1);
			return FCGI_MAIN_USAGE;
		}
		*listening = 1;
	}
	return FCGI_MAIN_RUN;
}

/*
 * Opens a listening unix socket at path.  A socket left there by a process
 * that is gone is replaced; one that still answers, or a file of another
 * kind, is not.  Returns the descriptor, or -1 with errno set.
 */
static int
fcgi_main_listen_unix(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, probe, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if ((probe = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
			return -1;
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			(void)close(probe);
			errno = EADDRINUSE;
			return -1;
		}
		(void)close(probe);
		if (unlink(path) == -1)
			return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, FCGI_LISTEN_BACKLOG) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * Opens a listening TCP socket on host (NULL: every address) and port.
 * IPv4 addresses are tried before IPv6 ones, so "localhost" means
 * 127.0.0.1 as it does to most FastCGI clients.  Returns the descriptor,
 * or -1 with *why set to a static message.
 */
static int
fcgi_main_listen_inet(const char *host, const char *port, const char **why)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, on = 1, rc, pass;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		*why = gai_strerror(rc);
		return -1;
	}
	*why = "no usable address";
	for (pass = 0; pass < 2 && fd == -1; pass++) {
		for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
			if ((ai->ai_family == AF_INET) != (pass == 0))
				continue;
			if ((fd = socket(ai->ai_family, ai->ai_socktype,
			    ai->ai_protocol)) == -1) {
				*why = strerror(errno);
				continue;
			}
			/* A restart must not wait for TIME_WAIT to pass. */
			if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
			    sizeof(on)) == -1 ||
			    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
			    listen(fd, FCGI_LISTEN_BACKLOG) == -1) {
				*why = strerror(errno);
				(void)close(fd);
				fd = -1;
			}
		}
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * Opens the listening socket of --listen, rather than through
 * FCGX_OpenSocket, which exits the process when bind(2) fails and copies
 * its argument into a fixed buffer.  Returns the descriptor, or -1 having
 * logged why.
 */
static int
fcgi_main_listen(const struct fcgi_main_addr *a)
{
	const char *why = NULL;
	int fd;

	if (a->is_unix) {
		if ((fd = fcgi_main_listen_unix(a->path)) == -1)
			log_event("cannot listen on %s: %s", a->path,
			    strerror(errno));
		return fd;
	}
	if ((fd = fcgi_main_listen_inet(a->host[0] != '\0' ? a->host : NULL,
	    a->port, &why)) == -1)
		log_event("cannot listen on %s:%s: %s", a->host, a->port, why);
	return fd;
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

/* The random source of struct handler_env: OpenSSL's. */
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

/* FastCGI: the variables of the request, borrowed until FCGX_Finish_r. */
static const char *
fcgi_main_fcgx_param(void *ctx, const char *name)
{
	FCGX_Request *r = ctx;

	return FCGX_GetParam(name, r->envp);
}

/* FastCGI: the FCGI_STDIN stream of the request. */
static ssize_t
fcgi_main_fcgx_read(void *ctx, char *buf, size_t n)
{
	FCGX_Request *r = ctx;
	int got;

	if (n > INT_MAX)
		n = INT_MAX;
	got = FCGX_GetStr(buf, (int)n, r->in);
	if (got <= 0 && FCGX_GetError(r->in) != 0)
		return -1;
	return got;
}

/* FastCGI: the FCGI_STDOUT stream of the request. */
static int
fcgi_main_fcgx_write(void *ctx, const char *data, size_t len)
{
	FCGX_Request *r = ctx;
	int n;

	while (len > 0) {
		n = len > INT_MAX ? INT_MAX : (int)len;
		if (FCGX_PutStr(data, n, r->out) != n)
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

static void
fcgi_main_signal(int sig)
{
	(void)sig;
	fcgi_main_quit = 1;
	/* libfcgi checks this right before accept(2): it closes the race. */
	FCGX_ShutdownPending();
}

/*
 * Makes SIGTERM, SIGINT and SIGUSR1 (Apache's graceful stop) set
 * fcgi_main_quit.  No SA_RESTART: a blocked accept(2) must return.
 * Returns 0, or -1 when a handler cannot be installed.
 */
static int
fcgi_main_signals(sigset_t *stop)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fcgi_main_signal;
	sigemptyset(stop);
	sigaddset(stop, SIGTERM);
	sigaddset(stop, SIGINT);
	sigaddset(stop, SIGUSR1);
	sa.sa_mask = *stop;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1)
		return -1;
	return 0;
}

/*
 * Serves FastCGI requests on a socket opened on addr, or on the listening
 * socket the web server passed as standard input when addr is NULL, until a
 * signal asks us to stop.  The stop signals are blocked while a request is
 * served, so one arriving then neither cuts the request's reads short nor
 * is lost: it is taken when we come back to accept.  Returns the exit
 * status: 0 after a stop signal, 1 when the socket cannot be used.
 */
static int
fcgi_main_fastcgi(const struct handler_env *env,
    const struct fcgi_main_addr *addr)
{
	FCGX_Request req;
	struct fcgi_source src = {fcgi_main_fcgx_param, fcgi_main_fcgx_read,
	    &req};
	struct fcgi_sink sink = {fcgi_main_fcgx_write, &req};
	sigset_t stop;
	int sock = STDIN_FILENO, rc;

	if (FCGX_Init() != 0) {
		log_event("cannot initialise libfcgi");
		return 1;
	}
	if (addr != NULL && (sock = fcgi_main_listen(addr)) == -1)
		return 1;
	if (FCGX_InitRequest(&req, sock, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_event("cannot set up a FastCGI request");
		rc = 1;
		goto out;
	}
	if (fcgi_main_signals(&stop) == -1 ||
	    sigprocmask(SIG_BLOCK, &stop, NULL) == -1) {
		log_event("cannot install signal handlers: %s",
		    strerror(errno));
		rc = 1;
		goto out;
	}
	for (;;) {
		/* A signal that came during the last request lands here. */
		(void)sigprocmask(SIG_UNBLOCK, &stop, NULL);
		if (fcgi_main_quit) {
			rc = 0;
			break;
		}
		rc = FCGX_Accept_r(&req);
		(void)sigprocmask(SIG_BLOCK, &stop, NULL);
		if (rc < 0) {
			/*
			 * lighttpd shuts the listening socket down as it
			 * stops: that is the end of work, not an error.
			 */
			if (fcgi_main_quit || rc == -ENOTCONN) {
				rc = 0;
				break;
			}
			log_event("cannot accept a FastCGI request: %s",
			    rc > -1000 ? strerror(-rc) : "libfcgi error");
			rc = 1;
			break;
		}
		(void)fcgi_serve(env, &src, &sink);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
out:
	if (sock != STDIN_FILENO)
		(void)close(sock);
	return rc;
}

/* Answers the one request of the CGI environment.  Returns the exit status. */
static int
fcgi_main_cgi(const struct handler_env *env)
{
	struct fcgi_source src = {fcgi_main_cgi_param, fcgi_main_cgi_read,
	    NULL};
	struct fcgi_sink sink = {fcgi_main_cgi_write, NULL};

	return fcgi_serve(env, &src, &sink) == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	struct config cfg;
	struct store *store = NULL;
	struct handler_env env;
	struct response resp;
	enum store_status st;
	struct fcgi_main_addr addr;
	char err[256];
	int cgi, listening, rc;

	if (fcgi_main_stdio() == -1)
		return 1;
	switch (fcgi_main_parse_args(argc, argv, &addr, &listening)) {
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
	if (crypto_init() == -1) {
		log_event("cannot initialise the crypto library");
		if (cgi) {
			response_error(&resp, OAUTH_SERVER_ERROR,
			    "the server cannot start");
			fcgi_main_cgi_fail(&resp);
		}
		config_free(&cfg);
		return 1;
	}
	/* One environment per process, opened before any request. */
	if ((st = store_open(cfg.db_path, cfg.map_size,
	    store_open_sync_flags(cfg.db_sync), &store)) !=
	    STORE_OK) {
		log_event("cannot open the database in %s: %s%s%s",
		    cfg.db_path, store_strerror(st),
		    st == STORE_IOERR ? ": " : "",
		    st == STORE_IOERR ? strerror(errno) : "");
		if (cgi) {
			response_store_error(&resp, st);
			fcgi_main_cgi_fail(&resp);
		}
		config_free(&cfg);
		return 1;
	}

	memset(&env, 0, sizeof(env));
	env.config = &cfg;
	env.store = store;
	env.now = fcgi_main_now;
	env.random = fcgi_main_random;
	if (cgi)
		rc = fcgi_main_cgi(&env);
	else {
		/*
		 * A long-lived process remembers the operator secrets it has
		 * verified; without the cache (no memory) it only runs slower.
		 */
		env.secret_cache = secret_cache_new();
		rc = fcgi_main_fastcgi(&env, listening ? &addr : NULL);
		secret_cache_free(env.secret_cache);
	}

	store_close(store);
	config_free(&cfg);
	return rc;
}
