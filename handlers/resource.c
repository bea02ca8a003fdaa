/*
 * Resource indicators (RFC 8707): the resource a client names at
 * /authorize or /token, which its access token is then for (its aud).
 * One resource a request: the parameter, like every other, may be sent
 * once.
 */
#include <string.h>

#include "handlers.h"

/* Whether client may ask for a token for resource: registered, or its aud. */
static int
resource_allowed(const struct client *client, const char *resource)
{
	size_t i;

	if (client->audience != NULL && strcmp(client->audience, resource) == 0)
		return 1;
	for (i = 0; i < client->resource_count; i++)
		if (strcmp(client->resources[i], resource) == 0)
			return 1;
	return 0;
}

/*
 * The audience of the tokens a request of client asks for (RFC 8707 §2):
 * its resource parameter, when sent, which must be an absolute URI
 * without fragment of at most AUDIENCE_MAX bytes that client may ask for
 * (one of its --resource, or its --audience); else the client's audience
 * (NULL when none).  On OAUTH_OK *audience points into params or client.
 * Returns OAUTH_OK, or OAUTH_INVALID_TARGET with *why set.
 */
enum oauth_error
resource_requested(const struct params *params, const struct client *client,
    const char **audience, const char **why)
{
	const char *resource = params_get(params, "resource");
	const char *bad;

	*audience = client->audience;
	if (resource == NULL)
		return OAUTH_OK;
	if (!uri_absolute_valid(resource, AUDIENCE_MAX, &bad)) {
		*why = "resource is not an absolute URI without fragment";
		return OAUTH_INVALID_TARGET;
	}
	if (!resource_allowed(client, resource)) {
		*why = "resource is not one the client may ask for";
		return OAUTH_INVALID_TARGET;
	}
	*audience = resource;
	return OAUTH_OK;
}

/*
 * Checks the resource parameter of a request that spends a code or a
 * refresh token, whose tokens are for granted (NULL: none): absent, or
 * that very resource, since a token's audience may narrow what was
 * authorized but never widen it (RFC 8707 §2.2), and what was authorized
 * is one resource.  Returns OAUTH_OK, or OAUTH_INVALID_TARGET with *why
 * set.
 */
enum oauth_error
resource_within(const struct params *params, const char *granted,
    const char **why)
{
	const char *resource = params_get(params, "resource");

	if (resource == NULL ||
	    (granted != NULL && strcmp(resource, granted) == 0))
		return OAUTH_OK;
	*why = "resource is not the one that was authorized";
	return OAUTH_INVALID_TARGET;
}
