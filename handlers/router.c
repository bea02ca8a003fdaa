/*
 * Routing by PATH_INFO (the mount point is the web server's business) and
 * the issuer identifier the responses report.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

static const struct route {
	const char *path;
	const char *method;
	const char *method2;	/* a second method, or NULL */
	const char *allow;
	void (*handler)(const struct handler_env *, const struct request *,
	    struct response *);
} routes[] = {
	{"/token", "POST", NULL, "POST", handler_token},
	{"/introspect", "POST", NULL, "POST", handler_introspect},
	{"/revoke", "POST", NULL, "POST", handler_revoke},
	{"/authorize", "GET", NULL, "GET", handler_authorize},
	{"/userinfo", "GET", "POST", "GET, POST", handler_userinfo},
	{"/jwks", "GET", NULL, "GET", handler_jwks},
	{"/register", "POST", NULL, "POST", handler_register},
	{"/.well-known/oauth-authorization-server", "GET", NULL, "GET",
	    handler_metadata},
	{"/.well-known/openid-configuration", "GET", NULL, "GET",
	    handler_openid_configuration},
};

/*
 * Answers req into resp: the route's handler, 405 with Allow for another
 * method on a known path, 404 for an unknown path.  resp must be fresh
 * (response_init); it always ends holding a complete response.
 */
void
handler_dispatch(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (req->path == NULL || strcmp(req->path, routes[i].path) != 0)
			continue;
		if (req->method == NULL ||
		    (strcmp(req->method, routes[i].method) != 0 &&
			(routes[i].method2 == NULL ||
			    strcmp(req->method, routes[i].method2) != 0))) {
			response_error(resp, OAUTH_METHOD_NOT_ALLOWED,
			    "method not allowed on this endpoint");
			resp->allow = routes[i].allow;
			return;
		}
		routes[i].handler(env, req, resp);
		return;
	}
	/* RFC 7592 §2: a registered client's own URL. */
	if (req->path != NULL &&
	    strncmp(req->path, "/register/", 10) == 0 && req->path[10] != '\0') {
		if (req->method == NULL || (strcmp(req->method, "GET") != 0 &&
		    strcmp(req->method, "PUT") != 0 &&
		    strcmp(req->method, "DELETE") != 0)) {
			response_error(resp, OAUTH_METHOD_NOT_ALLOWED,
			    "method not allowed on this endpoint");
			resp->allow = "GET, PUT, DELETE";
			return;
		}
		handler_register(env, req, resp);
		return;
	}
	response_error(resp, OAUTH_NOT_FOUND, "no such endpoint");
}

/*
 * Whether a request for path (PATH_INFO), with the Accept, DPoP and
 * Authorization headers accept, dpop and authorization, may need the
 * signing module: at /token (a JWT access token, an id_token, a client's
 * assertion), at /register (a client's keys to check), for a signed
 * introspection answer, wherever a DPoP proof
 * is to be verified, and at /introspect and /revoke unless the
 * Authorization header authenticates (Basic; Bearer at /introspect):
 * a header of another scheme is ignored there, and the client may
 * authenticate with an assertion in the body, which is read only later.
 * A CGI process loads
 * the module for these alone (fcgi/fcgi_main.c); for any other, what
 * signs or verifies would fail.
 */
int
handler_uses_jose(const char *path, const char *accept, const char *dpop,
    const char *authorization)
{
	int basic = params_auth_scheme(authorization, "basic") != NULL;
	int bearer = params_auth_scheme(authorization, "bearer") != NULL;

	if (path == NULL)
		return 0;
	return strcmp(path, "/token") == 0 || dpop != NULL ||
	    strncmp(path, "/register", 9) == 0 ||
	    (strcmp(path, "/introspect") == 0 && ((!basic && !bearer) ||
		handler_introspect_wants_jwt(accept))) ||
	    (strcmp(path, "/revoke") == 0 && !basic);
}

/* 1 when s is a host[:port] fit to put in a URL: letters, digits, "-._:[]". */
static int
router_host_valid(const char *s)
{
	size_t len;

	if (s == NULL || (len = strlen(s)) == 0 || len > HOST_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("-._:[]", *s) == NULL)
			return 0;
	return 1;
}

/*
 * 1 when s is a SCRIPT_NAME fit to put in a URL after the host: empty, or
 * "/" then unreserved characters and "/" (RFC 3875 §4.1.13).
 */
static int
router_path_valid(const char *s)
{
	if (strlen(s) > REDIRECT_URI_MAX || (*s != '\0' && *s != '/'))
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("-._~/%", *s) == NULL)
			return 0;
	return 1;
}

/*
 * The issuer identifier (RFC 8414 §2): OAUTH_ISSUER, or else derived from
 * the request as scheme://host plus SCRIPT_NAME, the mount point.  Host
 * comes from the peer, so it is used only when it is a plain host[:port];
 * deployments should set OAUTH_ISSUER.  Returns an allocated string, or NULL
 * when memory runs out or no usable host is known.
 */
char *
handler_issuer(const struct handler_env *env, const struct request *req)
{
	const char *scheme = "http", *host = NULL, *path = "", *port = NULL;
	struct buf b = {0};

	if (env->config->issuer != NULL)
		return strdup(env->config->issuer);
	if (req->https != NULL && (strcasecmp(req->https, "on") == 0 ||
				      strcmp(req->https, "1") == 0))
		scheme = "https";
	if (router_host_valid(req->host))
		host = req->host;
	else if (router_host_valid(req->server_name))
		host = req->server_name;
	if (host == NULL)
		return NULL;
	if (req->script_name != NULL && router_path_valid(req->script_name))
		path = req->script_name;
	while (*path == '/' && path[1] == '/')
		path++;
	if (strcmp(path, "/") == 0)
		path = "";
	/* SERVER_NAME carries no port; add a non-default one. */
	if (host == req->server_name && req->server_port != NULL &&
	    strcmp(req->server_port, strcmp(scheme, "https") == 0 ? "443"
								    : "80") != 0 &&
	    router_host_valid(req->server_port) && strchr(host, ':') == NULL)
		port = req->server_port;
	if (buf_puts(&b, scheme) == -1 || buf_puts(&b, "://") == -1 ||
	    buf_puts(&b, host) == -1 ||
	    (port != NULL && (buf_puts(&b, ":") == -1 ||
	    buf_puts(&b, port) == -1)) || buf_puts(&b, path) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}
