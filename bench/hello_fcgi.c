/*
 * hello_fcgi: the least a FastCGI responder can do, the reference against
 * which bench/limit.sh measures oauth.fcgi behind the same web server.
 *
 * Each request: its body is read to the end (as oauth.fcgi reads a form),
 * then "Status: 200 OK", "Content-Type: application/json", a
 * Content-Length and {"active":false} are written: the answer oauth.fcgi
 * gives to the introspection of an unknown token, without looking
 * anything up.  Run by a web server as FastCGI (a listening socket on
 * standard input, as lighttpd and spawn-fcgi start it), it serves requests
 * until it is told to stop; run as CGI (FCGX_IsCGI), it answers the one
 * request of its environment and exits, so the same binary is the
 * reference of CGI mode.  It calls libfcgi and libc only; nothing of
 * fcgi-oauth is in it, which is why it is the one file outside fcgi/
 * that includes fcgiapp.h.
 *
 * It ends a connection with libfcgi's close, which shuts the socket for
 * sending and waits for the web server to close its end.  With
 * --plain-close it ends one whose request it read to the end as
 * oauth.fcgi does (fcgi/fcgi_loop.c): closed at once.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

#define HELLO_BODY "{\"active\":false}"
#define HELLO_HEAD \
	"Status: 200 OK\r\n" \
	"Content-Type: application/json\r\n" \
	"Content-Length: %d\r\n" \
	"\r\n"

/* Set by SIGTERM or SIGINT: finish the request, then exit. */
static volatile sig_atomic_t hello_stop;

static void
hello_on_signal(int sig)
{
	(void)sig;
	hello_stop = 1;
	/* libfcgi retries an interrupted accept(2) unless told this. */
	FCGX_ShutdownPending();
}

/*
 * Reads the body of request req to its end and writes the answer.
 * Returns 0, or -1 when the answer could not be written.
 */
static int
hello_serve(FCGX_Request *req)
{
	char buf[4096];

	while (FCGX_GetStr(buf, (int)sizeof(buf), req->in) > 0)
		continue;
	return FCGX_FPrintF(req->out, HELLO_HEAD "%s", (int)strlen(HELLO_BODY),
	    HELLO_BODY) < 0 ? -1 : 0;
}

/*
 * The one request of a CGI environment: standard input read to its end
 * (the web server closes it after CONTENT_LENGTH bytes), the answer on
 * standard output.  Returns the exit status.
 */
static int
hello_cgi(void)
{
	char buf[4096];

	while (fread(buf, 1, sizeof(buf), stdin) > 0)
		continue;
	if (printf(HELLO_HEAD "%s", (int)strlen(HELLO_BODY), HELLO_BODY) < 0 ||
	    fflush(stdout) != 0)
		return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	FCGX_Request req;
	struct sigaction sa;
	int plain_close = 0;

	if (argc == 2 && strcmp(argv[1], "--plain-close") == 0)
		plain_close = 1;
	else if (argc != 1) {
		fprintf(stderr, "usage: hello_fcgi [--plain-close]\n");
		return 2;
	}

	/* libfcgi's own test: standard input is not a listening socket. */
	if (FCGX_IsCGI())
		return hello_cgi();
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hello_on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal ends a blocked accept. */
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	while (!hello_stop && FCGX_Accept_r(&req) >= 0) {
		(void)hello_serve(&req);
		if (plain_close && !req.keepConnection &&
		    FCGX_HasSeenEOF(req.in) == EOF && FCGX_GetError(req.in) == 0)
			(void)FCGX_Detach(&req);
		FCGX_Finish_r(&req);
	}
	return 0;
}
