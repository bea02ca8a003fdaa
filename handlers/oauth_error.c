/*
 * The OAuth errors (RFC 6749 §4.1.2.1, §5.2; RFC 7009 §2.2.1) and the HTTP
 * status each is answered with.
 */
#include "handlers.h"

static const struct {
	int status;
	const char *code;
} oauth_errors[OAUTH_ERROR__MAX] = {
	[OAUTH_OK] = {200, NULL},
	[OAUTH_INVALID_REQUEST] = {400, "invalid_request"},
	[OAUTH_INVALID_CLIENT] = {401, "invalid_client"},
	[OAUTH_INVALID_TOKEN] = {401, "invalid_token"},
	[OAUTH_INVALID_GRANT] = {400, "invalid_grant"},
	/* RFC 9449 §5, §7.1: a resource answers it 401, with a challenge. */
	[OAUTH_INVALID_DPOP_PROOF] = {400, "invalid_dpop_proof"},
	[OAUTH_USE_DPOP_NONCE] = {400, "use_dpop_nonce"},	/* RFC 9449 §8 */
	[OAUTH_INVALID_TARGET] = {400, "invalid_target"},	/* RFC 8707 §2 */
	[OAUTH_UNAUTHORIZED_CLIENT] = {400, "unauthorized_client"},
	[OAUTH_UNSUPPORTED_GRANT_TYPE] = {400, "unsupported_grant_type"},
	[OAUTH_INVALID_SCOPE] = {400, "invalid_scope"},
	[OAUTH_UNSUPPORTED_RESPONSE_TYPE] = {400, "unsupported_response_type"},
	[OAUTH_ACCESS_DENIED] = {403, "access_denied"},
	[OAUTH_LOGIN_REQUIRED] = {400, "login_required"},
	[OAUTH_INSUFFICIENT_SCOPE] = {403, "insufficient_scope"},
	[OAUTH_BODY_TOO_LARGE] = {413, "invalid_request"},
	[OAUTH_NOT_FOUND] = {404, "invalid_request"},
	[OAUTH_METHOD_NOT_ALLOWED] = {405, "invalid_request"},
	/*
	 * The web server must authenticate /authorize; a request without
	 * REMOTE_USER means it does not, which is the server's fault.  Not a
	 * 401: that would need a challenge this program cannot answer.
	 */
	[OAUTH_NO_REMOTE_USER] = {500, "server_error"},
	[OAUTH_SERVER_ERROR] = {500, "server_error"},
	[OAUTH_TEMPORARILY_UNAVAILABLE] = {503, "temporarily_unavailable"},
};

/* The HTTP status of err; 500 for a value outside the enum. */
int
oauth_error_status(enum oauth_error err)
{
	if ((unsigned)err >= OAUTH_ERROR__MAX)
		return 500;
	return oauth_errors[err].status;
}

/* The "error" code of err; "server_error" for OAUTH_OK or an unknown value. */
const char *
oauth_error_code(enum oauth_error err)
{
	if ((unsigned)err >= OAUTH_ERROR__MAX || oauth_errors[err].code == NULL)
		return "server_error";
	return oauth_errors[err].code;
}

/*
 * The error a storage failure is answered with: a full map or reader table,
 * or a database that cannot be reached now, is worth retrying (503), anything else is the server's fault (500).
 */
enum oauth_error
oauth_error_from_store(enum store_status st)
{
	switch (st) {
	case STORE_OK:
		return OAUTH_OK;
	case STORE_FULL:
	case STORE_UNAVAILABLE:
		return OAUTH_TEMPORARILY_UNAVAILABLE;
	case STORE_NOTFOUND:
	case STORE_EXISTS:
	case STORE_IOERR:
	case STORE_CORRUPT:
	case STORE_INVALID:
	case STORE_NOMEM:
	case STORE_MISSING:
	case STORE_STATUS__MAX:
		break;
	}
	return OAUTH_SERVER_ERROR;
}
