/*
 * Filling a struct request from a CGI environment or a FastCGI request.
 * The source is abstract (getparam and read callbacks), so CGI and FastCGI
 * go through the same checks: every variable is copied and capped, and
 * CONTENT_LENGTH is checked against the configured maximum before a single
 * body byte is read.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi.h"

/*
 * What stands for an over-long method or path: neither is a method or a
 * path (no '/' first), so the router answers what it answers any other it
 * does not know, 405 with Allow or 404, as the contract wants however long
 * the original was.
 */
#define FCGI_REQUEST_OVERLONG "(too long)"

/* The variables we copy, where each goes, and how long it may be. */
static const struct fcgi_request_var {
	const char *name;	/* the CGI variable */
	size_t namelen;
	const char *what;	/* for the error description */
	size_t offset;		/* of the char * in struct request */
	size_t max;
	int routed;		/* over max: FCGI_REQUEST_OVERLONG, not 400 */
} fcgi_request_vars[] = {
	/* First: FCGI_REQUEST_METHOD. */
#define FCGI_REQUEST_VAR(name, what, field, max, routed) \
	{name, sizeof(name) - 1, what, offsetof(struct request, field), max, \
	    routed}
	FCGI_REQUEST_VAR("REQUEST_METHOD", "request method",
	    method, FCGI_METHOD_MAX, 1),
	FCGI_REQUEST_VAR("PATH_INFO", "path", path, FCGI_PATH_MAX, 1),
	FCGI_REQUEST_VAR("QUERY_STRING", "query string",
	    query, FCGI_QUERY_MAX, 0),
	FCGI_REQUEST_VAR("CONTENT_TYPE", "content type",
	    content_type, FCGI_CONTENT_TYPE_MAX, 0),
	FCGI_REQUEST_VAR("HTTP_AUTHORIZATION", "Authorization header",
	    authorization, AUTH_HEADER_MAX, 0),
	FCGI_REQUEST_VAR("REMOTE_USER", "user name",
	    remote_user, USERNAME_MAX, 0),
	FCGI_REQUEST_VAR("HTTP_HOST", "Host header", host, HOST_MAX, 0),
	FCGI_REQUEST_VAR("SERVER_NAME", "server name",
	    server_name, HOST_MAX, 0),
	FCGI_REQUEST_VAR("SERVER_PORT", "server port",
	    server_port, FCGI_PORT_MAX, 0),
	FCGI_REQUEST_VAR("SCRIPT_NAME", "script name",
	    script_name, FCGI_PATH_MAX, 0),
	FCGI_REQUEST_VAR("HTTPS", "HTTPS flag", https, FCGI_FLAG_MAX, 0),
	FCGI_REQUEST_VAR("HTTP_ACCEPT", "Accept header",
	    accept, FCGI_ACCEPT_MAX, 0),
	FCGI_REQUEST_VAR("HTTP_DPOP", "DPoP header", dpop, FCGI_DPOP_MAX, 0),
	FCGI_REQUEST_VAR("SSL_CLIENT_CERT", "client certificate",
	    tls_cert, FCGI_TLS_CERT_MAX, 0),
	FCGI_REQUEST_VAR("SSL_CLIENT_VERIFY", "client certificate check",
	    tls_verify, FCGI_TLS_VERIFY_MAX, 0),
	FCGI_REQUEST_VAR("SSL_CLIENT_S_DN", "client certificate subject",
	    tls_subject, CLIENT_TLS_VALUE_MAX, 0),
#undef FCGI_REQUEST_VAR
};

#define FCGI_REQUEST_VARS \
	(sizeof(fcgi_request_vars) / sizeof(fcgi_request_vars[0]))
#define FCGI_REQUEST_METHOD 0

/*
 * Where fcgi_request_find puts what it found: the variables of
 * fcgi_request_vars, then CONTENT_LENGTH, then the claims' variables.
 */
#define FCGI_REQUEST_CONTENT_LENGTH FCGI_REQUEST_VARS
#define FCGI_REQUEST_CLAIMS (FCGI_REQUEST_VARS + 1)
#define FCGI_REQUEST_FOUND (FCGI_REQUEST_CLAIMS + CONFIG_CLAIMS_MAX)

/* Whether the name of namelen bytes is name, of len bytes. */
static int
fcgi_request_name_is(const char *var, size_t namelen, const char *name,
    size_t len)
{
	return namelen == len && memcmp(var, name, len) == 0;
}

/*
 * The names of found[0 .. FCGI_REQUEST_CLAIMS - 1] by their length, so
 * that each of the thirty-odd variables a web server passes is compared
 * with the one or two of its length, not with all of them: by_len[n] is
 * 1 + the first index of a name of n bytes (0: none), next[i] 1 + the
 * next one after i.
 */
#define FCGI_REQUEST_NAME_MAX 31
static unsigned char fcgi_request_by_len[FCGI_REQUEST_NAME_MAX + 1];
static unsigned char fcgi_request_next[FCGI_REQUEST_CLAIMS];
static pthread_once_t fcgi_request_index_once = PTHREAD_ONCE_INIT;

static const char *
fcgi_request_name(size_t i, size_t *len)
{
	if (i == FCGI_REQUEST_CONTENT_LENGTH) {
		*len = sizeof("CONTENT_LENGTH") - 1;
		return "CONTENT_LENGTH";
	}
	*len = fcgi_request_vars[i].namelen;
	return fcgi_request_vars[i].name;
}

static void
fcgi_request_index(void)
{
	size_t i, len;

	for (i = FCGI_REQUEST_CLAIMS; i-- > 0;) {
		(void)fcgi_request_name(i, &len);
		/* None is longer: the bound only guards the index. */
		if (len > FCGI_REQUEST_NAME_MAX)
			continue;
		fcgi_request_next[i] = fcgi_request_by_len[len];
		fcgi_request_by_len[len] = (unsigned char)(i + 1);
	}
}

/*
 * Finds the variables the request is read from into found (indexes
 * above): in one pass over src->vars when the source has them, the
 * first of a name winning as with getparam; otherwise by getparam, one
 * name at a time.  Unset ones are NULL.
 */
static void
fcgi_request_find(const struct fcgi_source *src, const struct config *config,
    const char *found[FCGI_REQUEST_FOUND])
{
	size_t claims = config->claim_count < CONFIG_CLAIMS_MAX ?
	    config->claim_count : CONFIG_CLAIMS_MAX;
	char **var;
	size_t i, len;
	const char *name;

	memset(found, 0, sizeof(*found) * FCGI_REQUEST_FOUND);
	if (src->vars == NULL || (var = src->vars(src->ctx)) == NULL) {
		for (i = 0; i < FCGI_REQUEST_CLAIMS; i++)
			found[i] = src->getparam(src->ctx,
			    fcgi_request_name(i, &len));
		for (i = 0; i < claims; i++)
			found[FCGI_REQUEST_CLAIMS + i] = src->getparam(src->ctx,
			    config->claim_vars[i]);
		return;
	}
	(void)pthread_once(&fcgi_request_index_once, fcgi_request_index);
	for (; *var != NULL; var++) {
		const char *eq = strchr(*var, '='), *value;
		size_t namelen;
		unsigned at;

		if (eq == NULL)
			continue;
		namelen = (size_t)(eq - *var);
		value = eq + 1;
		at = namelen <= FCGI_REQUEST_NAME_MAX ?
		    fcgi_request_by_len[namelen] : 0;
		for (; at != 0; at = fcgi_request_next[at - 1]) {
			name = fcgi_request_name(at - 1, &len);
			if (memcmp(*var, name, len) == 0)
				break;
		}
		if (at != 0) {
			if (found[at - 1] == NULL)
				found[at - 1] = value;
			continue;
		}
		for (i = 0; i < claims; i++)
			if (found[FCGI_REQUEST_CLAIMS + i] == NULL &&
			    fcgi_request_name_is(*var, namelen,
			    config->claim_vars[i], strlen(config->claim_vars[i])))
				found[FCGI_REQUEST_CLAIMS + i] = value;
	}
}

/*
 * Measures what req will hold of the variables found: the length of each
 * variable of fcgi_request_vars into len[i] (a routed one over its cap
 * becomes FCGI_REQUEST_OVERLONG in found[i]), and of the claims' values kept
 * (one over CONFIG_CLAIM_VALUE_MAX bytes, or empty, is left out rather
 * than refused: the web server set it, not the peer, and the user should
 * still be able to log in).  Adds the bytes all of them need, NULs
 * included, to *size.  Returns OAUTH_OK, or OAUTH_INVALID_REQUEST when a
 * variable is longer than its cap, with *what naming it.
 */
static enum oauth_error
fcgi_request_measure(const char **found, const struct config *config,
    size_t len[FCGI_REQUEST_FOUND], size_t *size, const char **what)
{
	const struct fcgi_request_var *v;
	size_t i;

	for (i = 0; i < FCGI_REQUEST_VARS; i++) {
		v = &fcgi_request_vars[i];
		if (found[i] == NULL)
			continue;
		/* Look no further than the cap: the value may be huge. */
		len[i] = strnlen(found[i], v->max + 1);
		if (len[i] > v->max && v->routed) {
			found[i] = FCGI_REQUEST_OVERLONG;
			len[i] = sizeof(FCGI_REQUEST_OVERLONG) - 1;
		} else if (len[i] > v->max) {
			*what = v->what;
			return OAUTH_INVALID_REQUEST;
		}
		*size += len[i] + 1;
	}
	for (i = FCGI_REQUEST_CLAIMS; i < FCGI_REQUEST_CLAIMS +
	    config->claim_count && i < FCGI_REQUEST_FOUND; i++) {
		if (found[i] == NULL)
			continue;
		len[i] = strnlen(found[i], CONFIG_CLAIM_VALUE_MAX + 1);
		if (len[i] > CONFIG_CLAIM_VALUE_MAX || len[i] == 0)
			found[i] = NULL;
		else
			*size += len[i] + 1;
	}
	return OAUTH_OK;
}

/*
 * Copies the len bytes of value into the storage at *at, NUL-terminated,
 * and moves *at past them.  Returns the copy.
 */
static const char *
fcgi_request_store(char **at, const char *value, size_t len)
{
	char *copy = *at;

	memcpy(copy, value, len);
	copy[len] = '\0';
	*at += len + 1;
	return copy;
}

/*
 * Copies the variables measured by fcgi_request_measure into req's
 * storage, which has room for them, from *at on; *at ends past them.
 */
static void
fcgi_request_copy(const char *const *found, const size_t *len,
    struct request *req, char **at)
{
	size_t i;

	for (i = 0; i < FCGI_REQUEST_VARS; i++)
		if (found[i] != NULL)
			*(const char **)(void *)((char *)req +
			    fcgi_request_vars[i].offset) =
			    fcgi_request_store(at, found[i], len[i]);
	for (i = FCGI_REQUEST_CLAIMS; i < FCGI_REQUEST_FOUND; i++)
		if (found[i] != NULL)
			req->claim_values[i - FCGI_REQUEST_CLAIMS] =
			    fcgi_request_store(at, found[i], len[i]);
}

/*
 * Reads exactly len body bytes from src into body, which has room for
 * them and a NUL.  Returns OAUTH_OK; OAUTH_INVALID_REQUEST when the body
 * ends early or cannot be read; or OAUTH_SERVER_ERROR when the source
 * hands back more than it was asked for.
 */
static enum oauth_error
fcgi_request_read_body(const struct fcgi_source *src, char *body, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = src->read(src->ctx, body + got, len - got);
		if (n <= 0)
			return OAUTH_INVALID_REQUEST;
		if ((size_t)n > len - got)
			return OAUTH_SERVER_ERROR;
		got += (size_t)n;
	}
	body[len] = '\0';
	return OAUTH_OK;
}

/*
 * Fills req, which must be all zero, from src.  Every variable is copied
 * (a FastCGI request's memory is gone after FCGX_Finish_r) and capped: an
 * over-long one is refused, never cut.  CONTENT_LENGTH is checked against
 * config->max_body before any body byte is read; then exactly that many
 * bytes are read and NUL-terminated, so body is never NULL on success.
 *
 * Returns OAUTH_OK when req is ready for handler_dispatch and resp is
 * untouched.  Otherwise returns the error and resp holds its JSON error
 * response: OAUTH_INVALID_REQUEST (400) for a missing REQUEST_METHOD, an
 * over-long variable, a malformed CONTENT_LENGTH, or a body shorter than
 * announced; OAUTH_BODY_TOO_LARGE (413) for a CONTENT_LENGTH above the
 * maximum, no byte of the body having been read; OAUTH_SERVER_ERROR (500)
 * when memory runs out.  On failure req is released and zero again.
 */
enum oauth_error
fcgi_request_read(const struct fcgi_source *src, const struct config *config,
    struct request *req, struct response *resp)
{
	const char *found[FCGI_REQUEST_FOUND];
	size_t vlen[FCGI_REQUEST_FOUND];
	enum oauth_error err;
	const char *what = NULL, *desc = NULL;
	char msg[96], *at, *body;
	size_t len = 0, size = 0;

	fcgi_request_find(src, config, found);
	if (fcgi_request_measure(found, config, vlen, &size, &what) !=
	    OAUTH_OK) {
		(void)snprintf(msg, sizeof(msg), "the %s is too long", what);
		err = OAUTH_INVALID_REQUEST;
		desc = msg;
		goto fail;
	}
	/* RFC 3875 §4.1.12: the server always sets REQUEST_METHOD. */
	if (found[FCGI_REQUEST_METHOD] == NULL ||
	    found[FCGI_REQUEST_METHOD][0] == '\0') {
		err = OAUTH_INVALID_REQUEST;
		desc = "the request method is missing";
		goto fail;
	}
	/*
	 * RFC 3875 §4.1.2: an unset or empty CONTENT_LENGTH means no body,
	 * for POST as for any method.
	 */
	err = request_content_length(found[FCGI_REQUEST_CONTENT_LENGTH],
	    config->max_body, &len);
	switch (err) {
	case OAUTH_OK:
		break;
	case OAUTH_BODY_TOO_LARGE:
		desc = "the request body is too large";
		goto fail;
	case OAUTH_INVALID_REQUEST:
	case OAUTH_INVALID_CLIENT:
	case OAUTH_INVALID_TOKEN:
	case OAUTH_INVALID_GRANT:
	case OAUTH_INVALID_DPOP_PROOF:
	case OAUTH_USE_DPOP_NONCE:
	case OAUTH_INVALID_TARGET:
	case OAUTH_UNAUTHORIZED_CLIENT:
	case OAUTH_UNSUPPORTED_GRANT_TYPE:
	case OAUTH_INVALID_SCOPE:
	case OAUTH_UNSUPPORTED_RESPONSE_TYPE:
	case OAUTH_ACCESS_DENIED:
	case OAUTH_LOGIN_REQUIRED:
	case OAUTH_INSUFFICIENT_SCOPE:
	case OAUTH_NOT_FOUND:
	case OAUTH_METHOD_NOT_ALLOWED:
	case OAUTH_NO_REMOTE_USER:
	case OAUTH_SERVER_ERROR:
	case OAUTH_TEMPORARILY_UNAVAILABLE:
	case OAUTH_ERROR__MAX:
		err = OAUTH_INVALID_REQUEST;
		desc = "the Content-Length is not a number";
		goto fail;
	}
	/*
	 * Everything in one allocation, read and checked before any body
	 * byte is: the variables, then the body.
	 */
	if (len > SIZE_MAX - size - 1 ||
	    (req->storage = malloc(size + len + 1)) == NULL) {
		err = OAUTH_SERVER_ERROR;
		desc = "the request body could not be stored";
		goto fail;
	}
	req->storage_size = size + len + 1;
	at = req->storage;
	fcgi_request_copy(found, vlen, req, &at);
	body = at;
	if ((err = fcgi_request_read_body(src, body, len)) != OAUTH_OK) {
		desc = err == OAUTH_INVALID_REQUEST ?
		    "the request body is shorter than its Content-Length" :
		    "the request body could not be stored";
		goto fail;
	}
	req->body = body;
	req->body_len = len;
	if (src->body_read != NULL)
		src->body_read(src->ctx);
	return OAUTH_OK;

fail:
	request_free(req);
	response_error(resp, err, desc);
	return err;
}
