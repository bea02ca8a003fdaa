/*
 * The web-server adapter.  A CGI environment or a FastCGI request becomes
 * one struct request; handler_dispatch answers it; the struct response is
 * written back.  CGI and FastCGI differ only in the callbacks of struct
 * fcgi_source and struct fcgi_sink, so everything above them is shared.
 * Only the FastCGI side (fcgi_main.c, fcgi_loop.c, fcgi_threads.c)
 * includes fcgiapp.h.
 */
#ifndef FCGI_H
#define FCGI_H

#include <sys/types.h>
#include <sys/un.h>

#include <signal.h>
#include <stddef.h>

#include "../handlers/handlers.h"
#include "fcgi_sandbox_filters.h"

/* Caps on the CGI variables we copy (RFC 3875 §4.1); over a cap is a 400. */
#define FCGI_METHOD_MAX 16	    /* bytes of REQUEST_METHOD */
#define FCGI_PATH_MAX 1024	    /* bytes of PATH_INFO or SCRIPT_NAME */
#define FCGI_QUERY_MAX 8192	    /* bytes of QUERY_STRING (/authorize) */
#define FCGI_CONTENT_TYPE_MAX 256   /* bytes of CONTENT_TYPE */
#define FCGI_PORT_MAX 5		    /* bytes of SERVER_PORT: "65535" */
#define FCGI_FLAG_MAX 8		    /* bytes of HTTPS: "on", "off", "1" */
#define FCGI_ACCEPT_MAX 1024	    /* bytes of an Accept header */
#define FCGI_DPOP_MAX 8192	    /* bytes of a DPoP header (RFC 9449) */
#define FCGI_TLS_CERT_MAX 16384	    /* bytes of SSL_CLIENT_CERT */
#define FCGI_TLS_VERIFY_MAX 256	    /* bytes of SSL_CLIENT_VERIFY */

#define FCGI_LISTEN_BACKLOG 128	    /* listen(2) backlog of --listen */
#define FCGI_LISTEN_HOST_MAX 255    /* bytes of the host of --listen */
#define FCGI_LISTEN_PORT_MAX 65535  /* highest port of --listen */
#define FCGI_LISTEN_UMASK 0117	    /* a --listen unix socket is 0660 */
#define FCGI_LISTEN_BACKOFF_MIN_MS 10	/* first wait after EMFILE & co. */
#define FCGI_LISTEN_BACKOFF_MAX_MS 1000 /* longest wait between retries */

/*
 * Where a request comes from.  getparam returns the value of a CGI
 * variable or NULL when it is unset; the string is borrowed and may vanish
 * when the request ends.  read stores up to n body bytes in buf and returns
 * how many (0 at the end of the body) or -1 on error.
 */
struct fcgi_source {
	const char *(*getparam)(void *, const char *);
	ssize_t (*read)(void *, char *, size_t);
	void *ctx;
	/*
	 * Optional: every variable of the request as "NAME=value" strings,
	 * NULL-terminated, borrowed like getparam's, so that a request's
	 * variables are found in one pass over them rather than a scan of
	 * them all for each.
	 */
	char **(*vars)(void *);
	/*
	 * Optional: told once the whole body the request announced has been
	 * read (no body counts), so that the source knows nothing of the
	 * request is left unread when it ends the connection.
	 */
	void (*body_read)(void *);
};

/* Where a response goes: write sends all len bytes and returns 0, or -1. */
struct fcgi_sink {
	int (*write)(void *, const char *, size_t);
	void *ctx;
};

/*
 * A --listen address: the path of a unix socket, or a host (an IPv6
 * literal without its brackets) and a port.
 */
struct fcgi_listen_addr {
	int is_unix;
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	char host[FCGI_LISTEN_HOST_MAX + 1];
	unsigned port;			/* 1 to FCGI_LISTEN_PORT_MAX */
};

/* What the request loop does after a failed accept. */
enum fcgi_listen_verdict {
	FCGI_LISTEN_RETRY = 0,		/* accept again at once */
	FCGI_LISTEN_BACKOFF,		/* wait, then accept again */
	FCGI_LISTEN_STOP,		/* the socket was shut down: exit 0 */
	FCGI_LISTEN_FATAL,		/* the socket is unusable: exit 1 */
	FCGI_LISTEN_VERDICT__MAX
};

/* fcgi_listen.c */
int fcgi_listen_parse(const char *, struct fcgi_listen_addr *);
int fcgi_listen_open(const struct fcgi_listen_addr *);
int fcgi_listen_prepare(int, unsigned);
enum fcgi_listen_verdict fcgi_listen_accept_error(int);
unsigned fcgi_listen_backoff_ms(unsigned);

/* fcgi_jose.c */
int fcgi_jose_load(int);

/* fcgi_sandbox.c */
int fcgi_sandbox_enter(enum fcgi_sandbox_mode, int);

/* fcgi_request.c */
enum oauth_error fcgi_request_read(const struct fcgi_source *,
    const struct config *, struct request *, struct response *);

/* fcgi_response.c */
const char *fcgi_response_reason(int);
int fcgi_response_write(const struct response *, const struct fcgi_sink *);

/* fcgi_serve.c */
int fcgi_serve(const struct handler_env *, const struct fcgi_source *,
    const struct fcgi_sink *);

/* fcgi_loop.c */
struct FCGX_Request;
int fcgi_loop_signals(sigset_t *);
int fcgi_loop_stopping(void);
int fcgi_loop(const struct handler_env *, const sigset_t *,
    struct FCGX_Request *);

/* fcgi_threads.c */
int fcgi_threads_serve(const struct handler_env *, unsigned, int,
    const sigset_t *, int (*)(void *), void *);

#endif /* FCGI_H */
