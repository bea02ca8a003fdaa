/*
 * Building responses and releasing requests: the one place each is freed.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

/* Sets r to an empty 200 response with nothing to free. */
void
response_init(struct response *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
}

/*
 * Releases everything r owns and leaves it as response_init does.  The body
 * and Location may carry tokens or a code, so they are wiped first.
 */
void
response_free(struct response *r)
{
	if (r == NULL)
		return;
	if (r->location != NULL)
		crypto_wipe(r->location, strlen(r->location));
	if (r->body.data != NULL)
		crypto_wipe(r->body.data, r->body.len);
	free(r->location);
	free(r->www_authenticate);
	buf_free(&r->body);
	response_init(r);
}

/*
 * Turns r into the JSON error response of err (RFC 6749 §5.2):
 * {"error": code, "error_description": desc}, no-store.  Whatever r held is
 * dropped.  desc is shown to the peer: it must never hold a secret or token.
 */
void
response_error(struct response *r, enum oauth_error err, const char *desc)
{
	struct json_writer w;

	response_free(r);
	r->status = oauth_error_status(err);
	r->content_type = "application/json";
	r->no_store = 1;
	json_write_begin(&w, &r->body);
	json_write_str(&w, "error", oauth_error_code(err));
	if (desc != NULL)
		json_write_str(&w, "error_description", desc);
	if (json_write_end(&w) == 0)
		return;
	/* Out of memory: a fixed body needs no allocation beyond the buffer. */
	r->status = 500;
	buf_free(&r->body);
	(void)buf_puts(&r->body, "{\"error\":\"server_error\"}");
}

/*
 * The error response for a failed storage call, logged (rate-limited, one
 * line a minute for each kind of failure) so that an operator learns why
 * clients get 503s, and what to do.
 */
void
response_store_error(struct response *r, enum store_status st)
{
	static struct log_limit limits[STORE_STATUS__MAX];
	static const char *const advice[STORE_STATUS__MAX] = {
		[STORE_FULL] = "; free room with 'oauthctl purge', or raise "
			       "OAUTH_MAP_SIZE",
		[STORE_CORRUPT] = "; run 'oauthctl check'",
		[STORE_UNAVAILABLE] = "; is PostgreSQL running and reachable?",
		[STORE_MISSING] = "; run 'oauthctl init'",
	};

	if ((unsigned)st < STORE_STATUS__MAX)
		log_event_limited(&limits[st], "storage failure: %s, answered "
		    "%d%s", store_strerror(st),
		    oauth_error_status(oauth_error_from_store(st)),
		    advice[st] != NULL ? advice[st] : "");
	response_error(r, oauth_error_from_store(st),
	    st == STORE_FULL ? "the database is full or busy; try again later"
	    : st == STORE_UNAVAILABLE ? "the database is unavailable; try "
					"again later"
				      : "the database failed");
}

/* Wipes every string in the tree o: a token response holds tokens. */
static void
response_json_wipe(cJSON *o)
{
	cJSON *item;

	if (o == NULL)
		return;
	if (cJSON_IsString(o) && o->valuestring != NULL)
		crypto_wipe(o->valuestring, strlen(o->valuestring));
	cJSON_ArrayForEach(item, o)
		response_json_wipe(item);
}

/*
 * Makes r a JSON response of status with the body o, which this function
 * takes, wipes and deletes.  Returns 0; or -1 when o is NULL or printing
 * fails, r being a 500 error then.
 */
int
response_json(struct response *r, int status, cJSON *o)
{
	char *s;

	response_free(r);
	s = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
	response_json_wipe(o);
	cJSON_Delete(o);
	if (s == NULL || buf_puts(&r->body, s) == -1) {
		if (s != NULL)
			crypto_wipe(s, strlen(s));
		cJSON_free(s);
		response_error(r, OAUTH_SERVER_ERROR, "out of memory");
		return -1;
	}
	crypto_wipe(s, strlen(s));
	cJSON_free(s);
	r->status = status;
	r->content_type = "application/json";
	return 0;
}

/*
 * Begins r as a JSON object written with w (json_write_*) into its body,
 * for a response of a fixed shape: no tree is built.  End it with
 * response_json_end.
 */
void
response_json_begin(struct response *r, struct json_writer *w)
{
	response_free(r);
	json_write_begin(w, &r->body);
}

/*
 * Ends the object of response_json_begin and makes r its response of
 * status.  Returns 0; or -1 when memory ran out, r being a 500 error then.
 */
int
response_json_end(struct response *r, struct json_writer *w, int status)
{
	if (json_write_end(w) == -1) {
		response_error(r, OAUTH_SERVER_ERROR, "out of memory");
		return -1;
	}
	r->status = status;
	r->content_type = "application/json";
	return 0;
}

/*
 * Releases what req owns, its storage, wiped first: it holds the body and
 * the credentials.  Accepts NULL.
 */
void
request_free(struct request *req)
{
	if (req == NULL)
		return;
	if (req->storage != NULL) {
		crypto_wipe(req->storage, req->storage_size);
		free(req->storage);
	}
	memset(req, 0, sizeof(*req));
}

/*
 * Checks a CONTENT_LENGTH value before any body byte is read (RFC 3875
 * §4.1.2: 1*digit).  NULL or "" is an empty body.  Returns OAUTH_OK with
 * *len set; OAUTH_INVALID_REQUEST for anything but digits; or
 * OAUTH_BODY_TOO_LARGE when the value exceeds max, however many digits it
 * has.
 */
enum oauth_error
request_content_length(const char *value, size_t max, size_t *len)
{
	size_t n = 0;
	const char *p;

	if (value == NULL || *value == '\0') {
		*len = 0;
		return OAUTH_OK;
	}
	for (p = value; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return OAUTH_INVALID_REQUEST;
	for (p = value; *p != '\0'; p++) {
		size_t digit = (size_t)(*p - '0');

		if (digit > max || n > (max - digit) / 10)
			return OAUTH_BODY_TOO_LARGE;
		n = n * 10 + digit;
	}
	*len = n;
	return OAUTH_OK;
}
