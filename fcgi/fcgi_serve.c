/*
 * One request, start to end: the step CGI and FastCGI share once their
 * source and sink are set up.
 */
#include <string.h>

#include "fcgi.h"

/*
 * Reads a request from src, answers it with handler_dispatch (or with the
 * error fcgi_request_read chose, the handlers then never seeing it), writes
 * the response to sink, and releases both, so nothing outlives the request.
 * Returns 0 when the whole response was written, or -1 when the sink
 * failed (the peer went away); the caller carries on either way.
 */
int
fcgi_serve(const struct handler_env *env, const struct fcgi_source *src,
    const struct fcgi_sink *sink)
{
	struct request req;
	struct response resp;
	int rc;

	memset(&req, 0, sizeof(req));
	response_init(&resp);
	if (fcgi_request_read(src, env->config, &req, &resp) == OAUTH_OK)
		handler_dispatch(env, &req, &resp);
	rc = fcgi_response_write(&resp, sink);
	request_free(&req);
	response_free(&resp);
	return rc;
}
