/*
 * Writing a struct response as a CGI response (RFC 3875 §6): a Status
 * line, the header fields that are set, a blank line and the body.  FastCGI
 * responders write the same bytes to their stdout stream.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fcgi.h"

/* RFC 9110 §15: the statuses we answer with, and their reason phrases. */
static const struct {
	int status;
	const char *reason;
} fcgi_response_reasons[] = {
	{200, "OK"},
	{201, "Created"},
	{204, "No Content"},
	{301, "Moved Permanently"},
	{302, "Found"},
	{303, "See Other"},
	{307, "Temporary Redirect"},
	{400, "Bad Request"},
	{401, "Unauthorized"},
	{403, "Forbidden"},
	{404, "Not Found"},
	{405, "Method Not Allowed"},
	{406, "Not Acceptable"},
	{409, "Conflict"},
	{411, "Length Required"},
	{413, "Content Too Large"},
	{415, "Unsupported Media Type"},
	{429, "Too Many Requests"},
	{500, "Internal Server Error"},
	{501, "Not Implemented"},
	{503, "Service Unavailable"},
};

/* RFC 9110 §15.1: a client understands any status by its first digit. */
static const char *const fcgi_response_classes[] = {
	"Success", "Redirection", "Client Error", "Server Error",
};

#define FCGI_RESPONSE_STATUS_MIN 200
#define FCGI_RESPONSE_STATUS_MAX 599

/*
 * What is sent when even the 500 for a broken response cannot be built:
 * fixed bytes, so no allocation is needed.
 */
static const char fcgi_response_fallback[] =
    "Status: 500 Internal Server Error\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-store\r\n"
    "Content-Length: 24\r\n"
    "\r\n"
    "{\"error\":\"server_error\"}";

/*
 * The reason phrase of status: its own for the statuses of the table, the
 * name of its class for any other status from 200 to 599, and NULL for a
 * status we never send (below 200 or above 599).  The string is static.
 */
const char *
fcgi_response_reason(int status)
{
	size_t i;

	if (status < FCGI_RESPONSE_STATUS_MIN ||
	    status > FCGI_RESPONSE_STATUS_MAX)
		return NULL;
	for (i = 0; i < sizeof(fcgi_response_reasons) /
	    sizeof(fcgi_response_reasons[0]); i++)
		if (fcgi_response_reasons[i].status == status)
			return fcgi_response_reasons[i].reason;
	return fcgi_response_classes[status / 100 - 2];
}

/*
 * Returns 1 when v may be sent as a header field value.  RFC 9110 §5.5
 * calls CR, LF and NUL in a value invalid and dangerous; we refuse every
 * control byte but HTAB, so no value can end its line and start a header
 * of its own (header injection).  NULL (an unset header) is fine.
 */
static int
fcgi_response_value_ok(const char *v)
{
	const unsigned char *p;

	if (v == NULL)
		return 1;
	for (p = (const unsigned char *)v; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

/*
 * Appends "name: value\r\n" to b when value is set.  Returns 0, or -1 when
 * memory runs out.
 */
static int
fcgi_response_header(struct buf *b, const char *name, const char *value)
{
	size_t n, v;

	if (value == NULL)
		return 0;
	n = strlen(name);
	v = strlen(value);
	/* One reservation for the line, filled in place (buf_reserve). */
	if (v > SIZE_MAX - 4 || n > SIZE_MAX - 4 - v ||
	    buf_reserve(b, n + v + 4) == -1)
		return -1;
	memcpy(b->data + b->len, name, n);
	memcpy(b->data + b->len + n, ": ", 2);
	memcpy(b->data + b->len + n + 2, value, v);
	memcpy(b->data + b->len + n + 2 + v, "\r\n", 2);
	b->len += n + v + 4;
	b->data[b->len] = '\0';
	return 0;
}

/*
 * Appends v in decimal, then tail.  Returns 0, or -1 when memory runs
 * out.  (No printf: its machinery was a tenth of a request's work.)
 */
static int
fcgi_response_number(struct buf *b, size_t v, const char *tail)
{
	char num[24], *p = num + sizeof(num);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return buf_append(b, p, (size_t)(num + sizeof(num) - p)) == -1 ||
	    buf_puts(b, tail) == -1 ? -1 : 0;
}

/*
 * Writes r to sink without looking at its values: the caller has checked
 * them.  A response without a content type has no body (struct response).
 * Returns 0 when every byte was accepted by the sink; -1 when the sink
 * failed, or when memory ran out and the fixed 500 was sent instead.
 */
static int
fcgi_response_emit(const struct response *r, const char *reason,
    const struct fcgi_sink *sink)
{
	struct buf head = {0};
	size_t body_len = r->content_type != NULL ? r->body.len : 0;
	int rc = -1;

	/* The status is 200..599 (fcgi_response_reason), max_age not < 0. */
	if (buf_puts(&head, "Status: ") == -1 ||
	    fcgi_response_number(&head, (size_t)r->status, " ") == -1 ||
	    buf_puts(&head, reason) == -1 || buf_puts(&head, "\r\n") == -1 ||
	    fcgi_response_header(&head, "Content-Type", r->content_type) ||
	    (r->no_store ? fcgi_response_header(&head, "Cache-Control",
		"no-store") : r->max_age > 0 ? buf_puts(&head,
		"Cache-Control: public, max-age=") == -1 ||
		fcgi_response_number(&head, (size_t)r->max_age, "\r\n") ==
		-1 : 0) ||
	    fcgi_response_header(&head, "Pragma",
		r->no_cache ? "no-cache" : NULL) ||
	    fcgi_response_header(&head, "Location", r->location) ||
	    fcgi_response_header(&head, "WWW-Authenticate",
		r->www_authenticate) ||
	    fcgi_response_header(&head, "Allow", r->allow) ||
	    fcgi_response_header(&head, "DPoP-Nonce",
		r->dpop_nonce[0] != '\0' ? r->dpop_nonce : NULL) ||
	    buf_puts(&head, "Content-Length: ") == -1 ||
	    fcgi_response_number(&head, body_len, "\r\n\r\n") == -1) {
		buf_free(&head);
		(void)sink->write(sink->ctx, fcgi_response_fallback,
		    sizeof(fcgi_response_fallback) - 1);
		return -1;
	}
	if (sink->write(sink->ctx, head.data, head.len) == 0 &&
	    (body_len == 0 ||
		sink->write(sink->ctx, r->body.data, body_len) == 0))
		rc = 0;
	buf_free(&head);
	return rc;
}

/*
 * Writes r through sink as a CGI response: Status, then Content-Type,
 * Cache-Control, Pragma, Location, WWW-Authenticate, Allow and DPoP-Nonce
 * when set,
 * Content-Length, a blank line and the body.  A response that cannot be
 * sent as it is (a status outside 200..599, a header value holding a
 * control byte) is logged and replaced by a 500 server_error, so a bad
 * value never reaches the peer.  r is not changed.  Returns 0 when the
 * sink took every byte of what was sent, or -1 when it failed or memory
 * ran out.
 */
int
fcgi_response_write(const struct response *r, const struct fcgi_sink *sink)
{
	struct response fail;
	const char *reason;
	int rc;

	reason = fcgi_response_reason(r->status);
	if (reason != NULL && fcgi_response_value_ok(r->content_type) &&
	    fcgi_response_value_ok(r->location) &&
	    fcgi_response_value_ok(r->www_authenticate) &&
	    fcgi_response_value_ok(r->allow) &&
	    fcgi_response_value_ok(r->dpop_nonce))
		return fcgi_response_emit(r, reason, sink);

	if (reason == NULL)
		log_event("refused to send a response with status %d",
		    r->status);
	else
		log_event("refused to send a response header holding a "
		    "control byte");
	response_init(&fail);
	response_error(&fail, OAUTH_SERVER_ERROR,
	    "the server built an invalid response");
	rc = fcgi_response_emit(&fail, fcgi_response_reason(fail.status), sink);
	response_free(&fail);
	return rc;
}
