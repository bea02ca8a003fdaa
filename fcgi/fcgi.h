/*
 * The web-server adapter.  A CGI environment or a FastCGI request becomes
 * one struct request; handler_dispatch answers it; the struct response is
 * written back.  CGI and FastCGI differ only in the callbacks of struct
 * fcgi_source and struct fcgi_sink, so everything above them is shared.
 * Only fcgi_main.c includes fcgiapp.h.
 */
#ifndef FCGI_H
#define FCGI_H

#include <sys/types.h>

#include <stddef.h>

#include "../handlers/handlers.h"

/* Caps on the CGI variables we copy (RFC 3875 §4.1); over a cap is a 400. */
#define FCGI_METHOD_MAX 16	    /* bytes of REQUEST_METHOD */
#define FCGI_PATH_MAX 1024	    /* bytes of PATH_INFO or SCRIPT_NAME */
#define FCGI_QUERY_MAX 8192	    /* bytes of QUERY_STRING (/authorize) */
#define FCGI_CONTENT_TYPE_MAX 256   /* bytes of CONTENT_TYPE */
#define FCGI_PORT_MAX 5		    /* bytes of SERVER_PORT: "65535" */
#define FCGI_FLAG_MAX 8		    /* bytes of HTTPS: "on", "off", "1" */

#define FCGI_LISTEN_BACKLOG 128	    /* listen(2) backlog of --listen */
#define FCGI_LISTEN_HOST_MAX 255    /* bytes of the host of --listen */

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
};

/* Where a response goes: write sends all len bytes and returns 0, or -1. */
struct fcgi_sink {
	int (*write)(void *, const char *, size_t);
	void *ctx;
};

/* fcgi_request.c */
enum oauth_error fcgi_request_read(const struct fcgi_source *,
    const struct config *, struct request *, struct response *);

/* fcgi_response.c */
const char *fcgi_response_reason(int);
int fcgi_response_write(const struct response *, const struct fcgi_sink *);

/* fcgi_serve.c */
int fcgi_serve(const struct handler_env *, const struct fcgi_source *,
    const struct fcgi_sink *);

#endif /* FCGI_H */
