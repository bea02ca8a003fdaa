/*
 * GET /authorize (RFC 6749 §4.1.1, RFC 7636 §4.3): the authorization code
 * flow with PKCE.  The resource owner is REMOTE_USER, authenticated by the
 * web server in front.  Registered clients are trusted first-party clients:
 * there is no consent page.  One write transaction per request.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define AUTHORIZE_CHALLENGE_LEN 43	/* base64url of a SHA-256 */

/* What the request asked for, once client and redirect URI are known. */
struct authorize_request {
	const char *redirect_uri;	/* the one to answer at */
	const char *state;		/* echoed back, or NULL */
	const char *challenge;		/* PKCE S256 challenge, or NULL */
	const char *nonce;		/* OpenID Connect nonce, or NULL */
	char *scope;			/* granted scope, allocated */
	char *claims;			/* the user's, JSON; NULL: none */
	const char *audience;		/* RFC 8707: the resource, or NULL */
	/* RFC 9449 §10: dpop_jkt, the key the code's redemption proves. */
	int dpop_bound;
	unsigned char dpop_jkt[TOKEN_HASH_LEN];
};

/*
 * The user's claims that the web server passed in the variables
 * OAUTH_CLAIMS names, as a JSON object of strings kept with the grant
 * (valid UTF-8 values only), in *out; NULL when there are none or they
 * do not fit a grant.  Returns 0, or -1 when memory runs out.
 */
static int
authorize_claims(const struct handler_env *env, const struct request *req,
    char **out)
{
	const struct config *cfg = env->config;
	cJSON *o = NULL;
	size_t i;
	int any = 0;

	*out = NULL;
	for (i = 0; i < cfg->claim_count && i < CONFIG_CLAIMS_MAX; i++) {
		const char *v = req->claim_values[i];

		if (v == NULL || !utf8_valid(v, strlen(v)))
			continue;
		if (o == NULL && (o = cJSON_CreateObject()) == NULL)
			return -1;
		if (cJSON_AddStringToObject(o, cfg->claim_names[i], v) ==
		    NULL) {
			cJSON_Delete(o);
			return -1;
		}
		any = 1;
	}
	if (!any)
		return 0;
	*out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (*out == NULL)
		return -1;
	if (strlen(*out) > STORE_CLAIMS_MAX) {
		cJSON_free(*out);
		*out = NULL;
	}
	return 0;
}

/*
 * The OpenID Connect parameters of the request (Core 1.0 §3.1.2.1): nonce
 * bounded; prompt a set of known values, none alone; max_age a number of
 * seconds.  The user is whoever the web server authenticated for this
 * very request, so auth_time is now and any max_age holds; but the web
 * server cannot be made to log the user in again, so prompt=login is
 * login_required (§3.1.2.6).  Registered clients are first-party: consent
 * was given by registering them, so prompt=consent holds too.  Returns
 * OAUTH_OK, or the error to redirect with *why set.
 */
static enum oauth_error
authorize_check_openid(const struct params *params,
    struct authorize_request *ar, const char **why)
{
	const char *prompt = params_get(params, "prompt");
	const char *max_age = params_get(params, "max_age");
	const char *p, *end;
	size_t len, values = 0;
	int none = 0, login = 0;
	long long seconds;

	ar->nonce = params_get(params, "nonce");
	if (ar->nonce != NULL && strlen(ar->nonce) > STORE_NONCE_MAX) {
		*why = "nonce is too long";
		return OAUTH_INVALID_REQUEST;
	}
	if (max_age != NULL &&
	    config_parse_number(max_age, 0, LLONG_MAX, &seconds) == -1) {
		*why = "max_age is not a number of seconds";
		return OAUTH_INVALID_REQUEST;
	}
	for (p = prompt; p != NULL && *p != '\0'; p = end) {
		end = strchr(p, ' ');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		end = end != NULL ? end + 1 : p + len;
		if (len == 0)
			continue;
		values++;
		if (len == 4 && memcmp(p, "none", 4) == 0)
			none = 1;
		else if (len == 5 && memcmp(p, "login", 5) == 0)
			login = 1;
		else if (!(len == 7 && memcmp(p, "consent", 7) == 0) &&
		    !(len == 14 && memcmp(p, "select_account", 14) == 0)) {
			*why = "prompt has a value that is not defined";
			return OAUTH_INVALID_REQUEST;
		}
	}
	if (none && values > 1) {
		*why = "prompt=none goes with no other value";
		return OAUTH_INVALID_REQUEST;
	}
	if (login) {
		*why = "the web server authenticated the user; it cannot be "
		       "asked to log them in again";
		return OAUTH_LOGIN_REQUIRED;
	}
	return OAUTH_OK;
}

/* 1 when s is a well-formed S256 challenge: 43 base64url characters. */
static int
authorize_challenge_valid(const char *s)
{
	size_t i;

	if (strlen(s) != AUTHORIZE_CHALLENGE_LEN)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
			s[i] == '_'))
			return 0;
	return 1;
}

/* 1 when user is a REMOTE_USER we can record: bounded, UTF-8, no controls. */
static int
authorize_user_valid(const char *user)
{
	size_t i, len = strlen(user);

	if (len == 0 || len > USERNAME_MAX || !utf8_valid(user, len))
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
			return 0;
	return 1;
}

/*
 * The redirect URI to answer at (RFC 6749 §3.1.2.3): the one requested
 * when it matches a registered one exactly, or the client's only one when
 * none was requested.  Returns it (borrowed from c or params), or NULL.
 */
static const char *
authorize_redirect_uri(const struct client *c, const char *requested)
{
	size_t i;

	if (requested == NULL)
		return c->redirect_uri_count == 1 ? c->redirect_uris[0] : NULL;
	for (i = 0; i < c->redirect_uri_count; i++)
		if (strcmp(c->redirect_uris[i], requested) == 0)
			return c->redirect_uris[i];
	return NULL;
}

/*
 * Makes resp a 302 to redirect_uri carrying either a code or an error
 * (RFC 6749 §4.1.2, §4.1.2.1), with state and iss (RFC 9207).  The query
 * keeps any query the registered URI has.
 */
static void
authorize_redirect(struct response *resp, const char *redirect_uri,
    const char *code, enum oauth_error err, const char *why,
    const char *state, const char *issuer)
{
	struct buf b = {0};
	int fail;

	fail = buf_puts(&b, redirect_uri) == -1 ||
	    buf_puts(&b, strchr(redirect_uri, '?') != NULL ? "&" : "?") == -1;
	if (!fail && code != NULL)
		fail = buf_puts(&b, "code=") == -1 ||
		    urlenc_encode(&b, code, strlen(code)) == -1;
	if (!fail && code == NULL)
		fail = buf_puts(&b, "error=") == -1 ||
		    buf_puts(&b, oauth_error_code(err)) == -1 ||
		    buf_puts(&b, "&error_description=") == -1 ||
		    urlenc_encode(&b, why, strlen(why)) == -1;
	if (!fail && state != NULL)
		fail = buf_puts(&b, "&state=") == -1 ||
		    urlenc_encode(&b, state, strlen(state)) == -1;
	if (!fail && issuer != NULL)
		fail = buf_puts(&b, "&iss=") == -1 ||
		    urlenc_encode(&b, issuer, strlen(issuer)) == -1;
	if (fail) {
		buf_free(&b);
		response_error(resp, OAUTH_SERVER_ERROR, "out of memory");
		return;
	}
	response_free(resp);
	resp->status = 302;
	resp->no_store = 1;
	resp->location = buf_steal(&b);
}

/*
 * The scope to grant at /authorize: as token_scope decides, except that
 * openid, which asks for an ID Token rather than for access to anything,
 * may be requested by every client whether or not its scopes name it.
 */
static enum oauth_error
authorize_scope(const char *requested, const char *allowed, char **out,
    const char **why)
{
	struct buf with = {0};
	enum oauth_error err;

	if (requested == NULL || !scope_has(requested, "openid", 6) ||
	    scope_has(allowed, "openid", 6))
		return token_scope(requested, allowed, out, why);
	if (buf_puts(&with, allowed != NULL && *allowed != '\0' ? allowed
							     : "") == -1 ||
	    buf_puts(&with, with.len > 0 ? " openid" : "openid") == -1) {
		buf_free(&with);
		*why = "out of memory";
		return OAUTH_SERVER_ERROR;
	}
	err = token_scope(requested, with.data, out, why);
	buf_free(&with);
	return err;
}

/*
 * dpop_jkt (RFC 9449 §10): when sent, the base64url SHA-256 thumbprint of
 * a key, JOSE_THUMBPRINT_LEN characters that decode canonically to 32 bytes.
 * Returns OAUTH_OK, with ar's binding set when it was sent, or
 * OAUTH_INVALID_REQUEST with *why set.
 */
static enum oauth_error
authorize_check_dpop(const struct params *params,
    struct authorize_request *ar, const char **why)
{
	const char *jkt = params_get(params, "dpop_jkt");
	size_t n = 0;

	if (jkt == NULL)
		return OAUTH_OK;
	if (strlen(jkt) != JOSE_THUMBPRINT_LEN ||
	    jose_b64url_decode(jkt, JOSE_THUMBPRINT_LEN, ar->dpop_jkt,
	    sizeof(ar->dpop_jkt), &n) == -1 || n != sizeof(ar->dpop_jkt)) {
		*why = "dpop_jkt is not a base64url SHA-256 thumbprint";
		return OAUTH_INVALID_REQUEST;
	}
	ar->dpop_bound = 1;
	return OAUTH_OK;
}

/*
 * Checks what may only be checked once the redirect URI is trusted, whose
 * errors go back to it (RFC 6749 §4.1.2.1).  Fills ar's scope on OAUTH_OK.
 */
static enum oauth_error
authorize_check(const struct client *c, const struct params *params,
    struct authorize_request *ar, const char **why)
{
	const char *type = params_get(params, "response_type");
	const char *method = params_get(params, "code_challenge_method");
	const char *mode = params_get(params, "response_mode");
	enum oauth_error err;

	if (type == NULL) {
		*why = "response_type is required";
		return OAUTH_INVALID_REQUEST;
	}
	if (strcmp(type, "code") != 0) {
		*why = "only response_type=code is supported";
		return OAUTH_UNSUPPORTED_RESPONSE_TYPE;
	}
	if (mode != NULL && strcmp(mode, "query") != 0) {
		*why = "only response_mode=query is supported";
		return OAUTH_INVALID_REQUEST;
	}
	if ((c->grant_types & GRANT_AUTHORIZATION_CODE) == 0) {
		*why = "the client may not use the authorization code flow";
		return OAUTH_UNAUTHORIZED_CLIENT;
	}
	/* RFC 7636 §4.3: no method means plain, which we refuse (§4.4.1). */
	if (ar->challenge != NULL || method != NULL) {
		if (ar->challenge == NULL) {
			*why = "code_challenge_method without code_challenge";
			return OAUTH_INVALID_REQUEST;
		}
		if (method == NULL || strcmp(method, "S256") != 0) {
			*why = "code_challenge_method must be S256";
			return OAUTH_INVALID_REQUEST;
		}
		if (!authorize_challenge_valid(ar->challenge)) {
			*why = "code_challenge is not a base64url SHA-256";
			return OAUTH_INVALID_REQUEST;
		}
	} else if (c->is_public) {
		*why = "public clients must use PKCE (code_challenge, S256)";
		return OAUTH_INVALID_REQUEST;
	}
	if ((err = resource_requested(params, c, &ar->audience, why)) !=
	    OAUTH_OK ||
	    (err = authorize_check_dpop(params, ar, why)) != OAUTH_OK ||
	    (err = authorize_check_openid(params, ar, why)) != OAUTH_OK)
		return err;
	return authorize_scope(params_get(params, "scope"), c->scope,
	    &ar->scope, why);
}

/*
 * Records the grant and its code in txn and writes the code to code.
 * Returns OAUTH_OK, or the error to answer with nothing committed.
 */
static enum oauth_error
authorize_issue(const struct handler_env *env, struct store_txn *txn,
    const struct client *c, const char *user, const char *requested_uri,
    const struct authorize_request *ar, char code[TOKEN_STRING_LEN + 1])
{
	struct grant grant;
	struct token record;
	enum store_status st;
	int64_t now = env->now(env->ctx);

	memset(&grant, 0, sizeof(grant));
	memset(&record, 0, sizeof(record));
	if (env->random(env->ctx, grant.id, sizeof(grant.id)) == -1)
		return OAUTH_SERVER_ERROR;
	memcpy(grant.client_id, c->id, sizeof(grant.client_id));
	grant.subject = (char *)user;
	grant.created_at = now;
	grant.expires_at = now + env->config->code_ttl;
	/* The web server authenticated the user for this request. */
	grant.auth_time = now;
	grant.claims = ar->claims;
	if ((st = store_grant_put(txn, &grant)) != STORE_OK)
		return oauth_error_from_store(st);
	record.kind = TOKEN_CODE;
	record.state = TOKEN_STATE_ACTIVE;
	memcpy(record.client_id, c->id, sizeof(record.client_id));
	record.subject = (char *)user;
	record.scope = ar->scope;
	record.audience = (char *)ar->audience;
	record.issued_at = now;
	record.expires_at = now + env->config->code_ttl;
	record.has_grant = 1;
	memcpy(record.grant_id, grant.id, sizeof(record.grant_id));
	record.redirect_uri = (char *)requested_uri;
	record.code_challenge = (char *)ar->challenge;
	record.nonce = (char *)ar->nonce;
	record.auth_time = now;
	if (ar->dpop_bound) {
		record.bind = TOKEN_BIND_DPOP;
		memcpy(record.bind_thumbprint, ar->dpop_jkt,
		    sizeof(record.bind_thumbprint));
	}
	return token_mint(env, txn, &record, code);
}

/*
 * GET /authorize.  client_id and redirect_uri are checked first, and a bad
 * one is a 400 shown to the user, never a redirect (RFC 6749 §4.1.2.1).
 * Then REMOTE_USER must be set: the web server authenticates this location.
 * Every later error is redirected with error, error_description and state;
 * success is a 302 with code, state and iss.
 */
void
handler_authorize(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	struct params params = {0};
	struct authorize_request ar;
	struct client client;
	struct store_txn *txn = NULL;
	enum store_status st;
	enum oauth_error err;
	const char *why = NULL, *client_id, *requested_uri;
	char code[TOKEN_STRING_LEN + 1];
	char *issuer = NULL;

	memset(&ar, 0, sizeof(ar));
	memset(&client, 0, sizeof(client));
	if ((err = params_parse_query(req->query, &params, &why)) != OAUTH_OK) {
		response_error(resp, err, why);
		return;
	}
	if ((client_id = params_get(&params, "client_id")) == NULL ||
	    strlen(client_id) > CLIENT_ID_MAX) {
		response_error(resp, OAUTH_INVALID_REQUEST,
		    "client_id is missing or invalid");
		goto out;
	}
	if ((issuer = handler_issuer(env, req)) == NULL) {
		response_error(resp, OAUTH_SERVER_ERROR,
		    "no issuer: set OAUTH_ISSUER");
		goto out;
	}
	if ((st = store_txn_begin(env->store, 1, &txn)) != STORE_OK) {
		response_store_error(resp, st);
		goto out;
	}
	st = store_client_get(txn, client_id, &client);
	if (st == STORE_NOTFOUND) {
		response_error(resp, OAUTH_INVALID_REQUEST, "unknown client_id");
		goto out;
	} else if (st != STORE_OK) {
		response_store_error(resp, st);
		goto out;
	}
	requested_uri = params_get(&params, "redirect_uri");
	if ((ar.redirect_uri = authorize_redirect_uri(&client,
		 requested_uri)) == NULL) {
		response_error(resp, OAUTH_INVALID_REQUEST,
		    requested_uri != NULL
			? "redirect_uri is not registered for this client"
			: "redirect_uri is required for this client");
		goto out;
	}
	if (req->remote_user == NULL || req->remote_user[0] == '\0') {
		response_error(resp, OAUTH_NO_REMOTE_USER,
		    "no authenticated user: the web server must authenticate "
		    "this location and set REMOTE_USER");
		goto out;
	}
	if (!authorize_user_valid(req->remote_user)) {
		response_error(resp, OAUTH_INVALID_REQUEST,
		    "REMOTE_USER is not a usable user name");
		goto out;
	}
	ar.state = params_get(&params, "state");
	ar.challenge = params_get(&params, "code_challenge");
	if (ar.state != NULL && strlen(ar.state) > STATE_MAX) {
		ar.state = NULL;
		err = OAUTH_INVALID_REQUEST;
		why = "state is too long";
	} else
		err = authorize_check(&client, &params, &ar, &why);
	if (err == OAUTH_OK && authorize_claims(env, req, &ar.claims) == -1) {
		err = OAUTH_SERVER_ERROR;
		why = "out of memory";
	}
	if (err == OAUTH_OK && (err = authorize_issue(env, txn, &client,
				    req->remote_user, requested_uri, &ar,
				    code)) != OAUTH_OK)
		why = "the authorization could not be stored";
	if (err == OAUTH_OK) {
		st = store_txn_commit(txn);
		txn = NULL;
		if (st != STORE_OK) {
			err = oauth_error_from_store(st);
			why = "the authorization could not be stored";
		}
	}
	authorize_redirect(resp, ar.redirect_uri, err == OAUTH_OK ? code : NULL,
	    err, why, ar.state, issuer);
	crypto_wipe(code, sizeof(code));
out:
	store_txn_abort(txn);
	client_free(&client);
	free(ar.scope);
	cJSON_free(ar.claims);
	free(issuer);
	params_free(&params);
}
