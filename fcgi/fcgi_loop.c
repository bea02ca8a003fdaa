/*
 * The FastCGI request loop, run by the one thread of a responder or by
 * each worker of fcgi_threads.c: accept, serve, finish, until a stop
 * signal (SIGTERM, SIGINT, or SIGUSR1, Apache's graceful stop) or a
 * socket that cannot be used.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <fcgiapp.h>

#include "fcgi.h"

/*
 * Set by a stop signal: each loop finishes its request, then returns.
 * Lock-free, so that a signal handler may set it and every thread see it.
 */
static atomic_int fcgi_loop_quit;

/* The request being served, as the source of fcgi_serve sees it. */
struct fcgi_loop_request {
	FCGX_Request *req;
	int body_read;		/* all of the announced body was read */
};

/* FastCGI: the variables of the request, borrowed until FCGX_Finish_r. */
static const char *
fcgi_loop_param(void *ctx, const char *name)
{
	const struct fcgi_loop_request *lr = ctx;

	return FCGX_GetParam(name, lr->req->envp);
}

/* FastCGI: every variable of the request, borrowed the same way. */
static char **
fcgi_loop_vars(void *ctx)
{
	const struct fcgi_loop_request *lr = ctx;

	return lr->req->envp;
}

static void
fcgi_loop_body_read(void *ctx)
{
	struct fcgi_loop_request *lr = ctx;

	lr->body_read = 1;
}

/* FastCGI: the FCGI_STDIN stream of the request. */
static ssize_t
fcgi_loop_read(void *ctx, char *buf, size_t n)
{
	FCGX_Request *r = ((const struct fcgi_loop_request *)ctx)->req;
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
fcgi_loop_write(void *ctx, const char *data, size_t len)
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

static void
fcgi_loop_signal(int sig)
{
	(void)sig;
	atomic_store(&fcgi_loop_quit, 1);
	/* libfcgi checks this right before accept(2): it narrows the race. */
	FCGX_ShutdownPending();
}

/* Whether a stop signal has come. */
int
fcgi_loop_stopping(void)
{
	return atomic_load(&fcgi_loop_quit);
}

/*
 * Makes SIGTERM, SIGINT and SIGUSR1 stop the loops, and fills *stop with
 * them.  No SA_RESTART: a blocked accept(2) must return.  Returns 0, or -1
 * when a handler cannot be installed.
 */
int
fcgi_loop_signals(sigset_t *stop)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fcgi_loop_signal;
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
 * Sleeps ms milliseconds with the stop signals let through, so that a
 * stop asked for during a back-off is taken at once.
 */
static void
fcgi_loop_backoff(const sigset_t *stop, unsigned ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	(void)pthread_sigmask(SIG_UNBLOCK, stop, NULL);
	if (!fcgi_loop_stopping())
		(void)nanosleep(&ts, NULL);
	(void)pthread_sigmask(SIG_BLOCK, stop, NULL);
}

/*
 * Accepts the next request into req with the stop signals let through.
 * Threads call it at once on one socket: libfcgi's accept keeps no state
 * of its own, and Linux hands each connection to one of them, so a
 * connection that is slow to send its request holds up only the thread
 * that took it.  Returns what FCGX_Accept_r returns, or -1 when a stop
 * came first.
 */
static int
fcgi_loop_accept(const sigset_t *stop, FCGX_Request *req)
{
	int rc = -1;

	/* A signal that came during the last request lands here. */
	(void)pthread_sigmask(SIG_UNBLOCK, stop, NULL);
	if (!fcgi_loop_stopping())
		rc = FCGX_Accept_r(req);
	(void)pthread_sigmask(SIG_BLOCK, stop, NULL);
	return rc;
}

/*
 * Ends the request lr served.  libfcgi's close shuts the socket for
 * sending and then waits for the web server to close its end, reading
 * whatever it still sends, so that a TCP reset cannot destroy an answer
 * the web server has not read: on every request, a sleep until the web
 * server has taken the answer, and three more system calls.  It is needed
 * only while the web server may still be sending.  Once FCGI_STDIN has
 * been read to its closing record, a web server that does not keep the
 * connection has nothing more to send, nothing unread stays behind, and
 * a plain close is enough.
 *
 * The answer and FCGI_END_REQUEST go out first (FCGX_FClose, which
 * FCGX_Finish_r repeats harmlessly), so that looking for the closing
 * record never holds an answer back.  It is looked for only when the
 * whole announced body was read: it is then the web server's next
 * record, sent right behind the body, usually within the same read.  A
 * body left unread (a 413, a request refused before its body) keeps
 * libfcgi's close, which lets the web server finish sending and gives up
 * after two seconds of silence.
 */
static void
fcgi_loop_finish(const struct fcgi_loop_request *lr)
{
	FCGX_Request *req = lr->req;

	(void)FCGX_FClose(req->err);
	(void)FCGX_FClose(req->out);
	if (lr->body_read && !req->keepConnection && req->in != NULL &&
	    (FCGX_HasSeenEOF(req->in) == EOF || FCGX_GetChar(req->in) == EOF) &&
	    FCGX_GetError(req->in) == 0)
		(void)FCGX_Detach(req);
	FCGX_Finish_r(req);
}

/*
 * Serves FastCGI requests with req (set up on the listening socket) until
 * a signal asks us to stop.  The stop signals are blocked in the calling
 * thread while a request is served, so one arriving then neither cuts
 * the request's reads short nor is lost: it is taken when we come back
 * to accept.  A failed accept is retried or backed off from as
 * fcgi_listen_accept_error says; only a stop, a shut-down socket or an
 * unusable one ends the loop.  Returns the exit status: 0 after a stop,
 * 1 when the socket cannot be used.
 */
int
fcgi_loop(const struct handler_env *env, const sigset_t *stop,
    struct FCGX_Request *req)
{
	struct fcgi_loop_request lr = {req, 0};
	struct fcgi_source src = {fcgi_loop_param, fcgi_loop_read, &lr,
	    fcgi_loop_vars, fcgi_loop_body_read};
	struct fcgi_sink sink = {fcgi_loop_write, req};
	unsigned failures = 0;
	int rc, err;

	for (;;) {
		rc = fcgi_loop_accept(stop, req);
		if (rc >= 0) {
			failures = 0;
			lr.body_read = 0;
			(void)fcgi_serve(env, &src, &sink);
			fcgi_loop_finish(&lr);
			continue;
		}
		if (fcgi_loop_stopping())
			return 0;
		/* libfcgi returns -errno, or a code of its own below -1000. */
		err = rc > -1000 ? -rc : 0;
		switch (fcgi_listen_accept_error(err)) {
		case FCGI_LISTEN_RETRY:
			break;
		case FCGI_LISTEN_BACKOFF:
			/* One line per run of failures, not one per retry. */
			if (failures == 0)
				log_event("cannot accept a FastCGI request: %s; "
				    "retrying", strerror(err));
			fcgi_loop_backoff(stop, fcgi_listen_backoff_ms(failures));
			if (failures < UINT_MAX)
				failures++;
			break;
		case FCGI_LISTEN_STOP:
			/*
			 * lighttpd shuts the listening socket down as it
			 * stops: that is the end of work, not an error.
			 */
			return 0;
		case FCGI_LISTEN_FATAL:
		case FCGI_LISTEN_VERDICT__MAX:
			log_event("cannot accept a FastCGI request: %s",
			    err != 0 ? strerror(err) : "libfcgi error");
			return 1;
		}
	}
}
