/*
 * Client authentication at the token, introspection and revocation
 * endpoints (RFC 6749 §2.3): client_secret_basic, client_secret_post,
 * private_key_jwt (RFC 7523 §2.2, client_assertion.c), or none for public
 * clients; and, at introspection only, an access token the client holds
 * for itself (RFC 7662 §2.1).
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define CLIENT_AUTH_REALM "Basic realm=\"oauth\""
#define CLIENT_AUTH_BEARER_CHALLENGE "Bearer error=\"invalid_token\""

/* Logs a failed authentication with the client id, never the secret. */
static void
client_auth_log(const char *id, const char *reason)
{
	struct buf quoted = {0};

	log_quote(&quoted, id);
	log_event("client authentication failed: client_id=%s: %s",
	    quoted.data != NULL ? quoted.data : "\"\"", reason);
	buf_free(&quoted);
}

/*
 * Checks secret against the stored hash of c in constant time, by the
 * scheme c's secret was stored with (crypto_secret_derive).  A secret this
 * process has verified before is matched from env's cache instead of
 * running the KDF or the hash again.  A client that does not exist is
 * looked up in the cache too and checked against a fixed salt with the
 * generated secrets' scheme, so that an unknown id costs what a wrong
 * secret of a client with a generated secret costs.
 *
 * What the time still tells: whether an id is registered with an
 * operator's own secret, whose PBKDF2 (tens of milliseconds) runs on a
 * wrong secret.  That is accepted: client ids are not secrets (RFC 6749
 * §2.2; they travel in authorization URLs), knowing one helps no guess of
 * its secret, and running the KDF for unknown ids too would let anyone
 * burn that CPU time with made-up ids, which a deployment using only
 * generated secrets does not allow today.  Returns 1 on a match.  With kdf
 * not NULL the KDF is not run: *kdf is set instead, and 0 returned.
 */
static int
client_auth_secret_matches(const struct handler_env *env,
    const struct client *c, const char *secret, int *kdf)
{
	static const unsigned char nobody_salt[SECRET_SALT_LEN];
	unsigned char hash[SECRET_HASH_LEN];
	size_t len = strlen(secret);
	int match;

	if (secret_cache_match(env->secret_cache, c != NULL ? c->id : "",
		c != NULL ? c->secret_hash : NULL, secret, len))
		return 1;
	if (kdf != NULL && c != NULL && c->secret_iterations > 0) {
		*kdf = 1;
		return 0;
	}
	if (crypto_secret_derive(c != NULL ? c->secret_salt : nobody_salt,
		secret, len, c != NULL ? c->secret_iterations : 0, hash) == -1)
		return 0;
	match = c != NULL && crypto_equal(hash, c->secret_hash, sizeof(hash));
	crypto_wipe(hash, sizeof(hash));
	if (match)
		secret_cache_put(env->secret_cache, c->id, c->secret_hash,
		    secret, len);
	return match;
}

/*
 * client_auth_presented of a request with client_assertion_type or
 * client_assertion (RFC 7521 §4.2): both, of type jwt-bearer, and no other
 * method beside.  *id is the assertion's subject, *secret the assertion.
 */
static enum oauth_error
client_auth_presented_assertion(const struct request *req,
    struct client_auth *out, const char *post_id, const char *post_secret,
    const char *atype, const char *assertion, char **id, char **secret,
    const char **why)
{
	enum oauth_error err;

	if (atype == NULL || assertion == NULL) {
		*why = "client_assertion and client_assertion_type go together";
		return OAUTH_INVALID_REQUEST;
	}
	if (strcmp(atype, CLIENT_ASSERTION_TYPE) != 0) {
		*why = "client_assertion_type is not " CLIENT_ASSERTION_TYPE;
		return OAUTH_INVALID_REQUEST;
	}
	if (post_secret != NULL || (out->used_header &&
	    params_auth_scheme(req->authorization, "basic") != NULL)) {
		*why = "the client authenticated with more than one method";
		return OAUTH_INVALID_REQUEST;
	}
	if ((err = client_assertion_subject(assertion, id, why)) != OAUTH_OK)
		return err;
	/* RFC 7523 §3: a client_id sent too must be the assertion's sub. */
	if (post_id != NULL && strcmp(post_id, *id) != 0) {
		free(*id);
		*id = NULL;
		*why = "client_id differs from the client assertion's sub";
		return OAUTH_INVALID_CLIENT;
	}
	if ((*secret = strdup(assertion)) == NULL) {
		free(*id);
		*id = NULL;
		*why = "out of memory";
		return OAUTH_SERVER_ERROR;
	}
	out->method = CLIENT_AUTH_JWT;
	return OAUTH_OK;
}

/*
 * Finds out which method the request used and the id and secret it
 * presented, without looking at storage.  RFC 6749 §2.3: a client must not
 * use more than one method in a request.  On OAUTH_OK *id and *secret are
 * allocated for the caller (*secret NULL for "none"); on error both are NULL
 * and *why says what was wrong.
 */
static enum oauth_error
client_auth_presented(const struct request *req, const struct params *params,
    struct client_auth *out, char **id, char **secret, const char **why)
{
	const char *post_id = params_get(params, "client_id");
	const char *post_secret = params_get(params, "client_secret");
	const char *atype = params_get(params, "client_assertion_type");
	const char *assertion = params_get(params, "client_assertion");
	enum oauth_error err;

	*id = *secret = NULL;
	if (req->authorization != NULL && req->authorization[0] != '\0')
		out->used_header = 1;
	if (atype != NULL || assertion != NULL)
		return client_auth_presented_assertion(req, out, post_id,
		    post_secret, atype, assertion, id, secret, why);
	/*
	 * A header of another scheme (a client's own Bearer token, sent by
	 * SDKs on every call) is not client authentication: the body is.
	 */
	if (out->used_header &&
	    params_auth_scheme(req->authorization, "basic") != NULL) {
		if (post_secret != NULL) {
			*why = "the client authenticated with more than one "
			       "method";
			return OAUTH_INVALID_REQUEST;
		}
		err = params_basic_credentials(req->authorization, id, secret);
		if (err != OAUTH_OK) {
			*why = "the Authorization header is not valid Basic "
			       "client authentication";
			return err;
		}
		if (post_id != NULL && strcmp(post_id, *id) != 0) {
			crypto_wipe(*secret, strlen(*secret));
			free(*secret);
			free(*id);
			*id = *secret = NULL;
			*why = "client_id differs from the Authorization header";
			return OAUTH_INVALID_REQUEST;
		}
		/* A public client may send Basic with an empty secret. */
		out->method = CLIENT_AUTH_BASIC;
		if ((*secret)[0] == '\0') {
			free(*secret);
			*secret = NULL;
			out->method = CLIENT_AUTH_NONE;
		}
		return OAUTH_OK;
	}
	if (post_id == NULL) {
		*why = post_secret != NULL ? "client_secret without client_id"
		    : out->used_header
		    ? "client authentication is required: Basic, or client_id "
		      "and client_secret in the body; an Authorization header "
		      "of another scheme is not client authentication"
		    : "client authentication is required";
		return post_secret != NULL ? OAUTH_INVALID_REQUEST
					   : OAUTH_INVALID_CLIENT;
	}
	if ((*id = strdup(post_id)) == NULL ||
	    (post_secret != NULL && (*secret = strdup(post_secret)) == NULL)) {
		free(*id);
		*id = NULL;
		*why = "out of memory";
		return OAUTH_SERVER_ERROR;
	}
	out->method = post_secret != NULL ? CLIENT_AUTH_POST : CLIENT_AUTH_NONE;
	return OAUTH_OK;
}

/*
 * Reads the client with the given id into *c in a read transaction of its
 * own, ended before returning, so that the caller can check a secret with
 * no transaction open: an operator secret's KDF takes tens of
 * milliseconds, and inside a write transaction it would hold every
 * writer of every process back (LMDB has one writer lock), inside a read
 * one it would pin a snapshot.  Returns STORE_OK or STORE_NOTFOUND, or the
 * failure; *c is the caller's to client_free.
 */
static enum store_status
client_auth_lookup(const struct handler_env *env, const char *id,
    struct client *c)
{
	struct store_txn *txn;
	enum store_status st;

	memset(c, 0, sizeof(*c));
	if ((st = store_txn_begin(env->store, 0, &txn)) != STORE_OK)
		return st;
	st = store_client_get(txn, id, c);
	store_txn_abort(txn);
	return st;
}

/*
 * Authenticates the client of req.  With txn NULL the client is read in a
 * short read transaction and the secret checked after it ended
 * (client_auth_lookup): call this before beginning the request's own
 * transaction, then client_auth_confirm inside it.  With txn, the client
 * is read in txn, which must be one whose idle time costs nobody
 * (store_txn_blocks_others 0).  client_auth_begin does either, as the
 * store wants.  On OAUTH_OK out->client is the client's record, owned by
 * out (client_free(&out->client)).  On error out holds nothing to free,
 * *why is a description safe to show the peer, and OAUTH_INVALID_CLIENT
 * means the 401 of RFC 6749 §5.2.
 */
static enum oauth_error client_auth_read(const struct handler_env *,
    const struct request *, const struct params *, struct store_txn *,
    struct client_auth *, const char **, int *);

enum oauth_error
client_auth(const struct handler_env *env, const struct request *req,
    const struct params *params, struct store_txn *txn,
    struct client_auth *out, const char **why)
{
	return client_auth_read(env, req, params, txn, out, why, NULL);
}

/*
 * client_auth; with kdf not NULL, one that stops short of an operator
 * secret's KDF: *kdf is set then, out holds nothing, and the caller
 * checks the secret with no transaction open instead.
 */
static enum oauth_error
client_auth_read(const struct handler_env *env, const struct request *req,
    const struct params *params, struct store_txn *txn,
    struct client_auth *out, const char **why, int *kdf)
{
	enum oauth_error err;
	enum store_status st;
	char *id = NULL, *secret = NULL;
	int found;

	memset(out, 0, sizeof(*out));
	err = client_auth_presented(req, params, out, &id, &secret, why);
	if (err != OAUTH_OK)
		return err;
	if (strlen(id) > CLIENT_ID_MAX ||
	    (secret != NULL && out->method != CLIENT_AUTH_JWT &&
	    strlen(secret) > CLIENT_SECRET_MAX)) {
		client_auth_log("", "identifier or secret too long");
		*why = "client authentication failed";
		err = OAUTH_INVALID_CLIENT;
		goto out;
	}
	st = txn != NULL ? store_client_get(txn, id, &out->client)
			 : client_auth_lookup(env, id, &out->client);
	if (st != STORE_OK && st != STORE_NOTFOUND) {
		*why = "the database failed";
		err = oauth_error_from_store(st);
		goto out;
	}
	found = st == STORE_OK;
	if (out->method == CLIENT_AUTH_JWT) {
		/*
		 * A signature check is no KDF but no SHA-256 either: as one
		 * it runs with no LMDB transaction open (kdf).
		 */
		if (!found || out->client.jwks == NULL) {
			client_auth_log(id, found ? "an assertion from a client "
			    "without keys" : "unknown client");
			err = OAUTH_INVALID_CLIENT;
		} else if (kdf != NULL) {
			*kdf = 1;
			err = OAUTH_INVALID_CLIENT;
		} else if ((err = client_assertion_check(env, req,
		    &out->client, secret, out->assertion_replay,
		    &out->assertion_until, why)) != OAUTH_OK) {
			client_auth_log(id, *why);
			goto out;
		}
	} else if (found && out->client.tls_auth != CLIENT_TLS_NONE) {
		/* RFC 8705 §2: client_id names it, its certificate proves it. */
		if (secret != NULL) {
			client_auth_log(id, "a client of a certificate sent a "
			    "secret");
			err = OAUTH_INVALID_CLIENT;
		} else if ((err = tls_client_check(req, &out->client,
		    out->tls_thumbprint, why)) != OAUTH_OK) {
			client_auth_log(id, *why);
			goto out;
		} else
			out->method = CLIENT_AUTH_TLS;
	} else if (found && out->client.jwks != NULL) {
		/* RFC 7591 §2: one method a client, and its is its keys. */
		client_auth_log(id, "a client of keys sent no assertion");
		err = OAUTH_INVALID_CLIENT;
	} else if (found && out->client.is_public) {
		/* RFC 6749 §2.1: a public client has no secret to present. */
		if (secret == NULL)
			goto out;
		client_auth_log(id, "a public client sent a secret");
		err = OAUTH_INVALID_CLIENT;
	} else if (secret == NULL) {
		client_auth_log(id, found ? "confidential client sent no secret"
					  : "unknown client");
		err = OAUTH_INVALID_CLIENT;
	} else if (!client_auth_secret_matches(env,
		       found ? &out->client : NULL, secret, kdf)) {
		err = OAUTH_INVALID_CLIENT;
		if (kdf == NULL || !*kdf)
			client_auth_log(id, found ? "wrong secret" :
			    "unknown client");
	}
	if (err != OAUTH_OK)
		*why = "client authentication failed";
out:
	if (err != OAUTH_OK) {
		client_free(&out->client);
		out->method = CLIENT_AUTH_NONE;
	}
	if (secret != NULL) {
		crypto_wipe(secret, strlen(secret));
		free(secret);
	}
	free(id);
	return err;
}

/*
 * Confirms, inside the request's transaction txn, that the client auth
 * authenticated as (client_auth) still exists with the credentials that
 * were checked: an operator may have removed it or changed its secret in
 * between.  On OAUTH_OK auth->client is replaced by the record read in
 * txn, so the request runs on what txn sees.  On error auth->client is
 * released, *why is set, and OAUTH_INVALID_CLIENT means the 401.
 */
enum oauth_error
client_auth_confirm(struct store_txn *txn, struct client_auth *auth,
    const char **why)
{
	struct client now;
	enum store_status st;
	int same;

	st = store_client_get(txn, auth->client.id, &now);
	if (st != STORE_OK && st != STORE_NOTFOUND) {
		client_free(&auth->client);
		*why = "the database failed";
		return oauth_error_from_store(st);
	}
	same = st == STORE_OK && now.is_public == auth->client.is_public &&
	    (now.jwks == NULL) == (auth->client.jwks == NULL) &&
	    (now.jwks == NULL || strcmp(now.jwks, auth->client.jwks) == 0) &&
	    now.tls_auth == auth->client.tls_auth &&
	    (now.tls_value == NULL || strcmp(now.tls_value,
	    auth->client.tls_value) == 0) &&
	    now.secret_iterations == auth->client.secret_iterations &&
	    memcmp(now.secret_salt, auth->client.secret_salt,
		sizeof(now.secret_salt)) == 0 &&
	    memcmp(now.secret_hash, auth->client.secret_hash,
		sizeof(now.secret_hash)) == 0;
	if (!same) {
		client_auth_log(auth->client.id,
		    "the client changed while it authenticated");
		client_free(&now);
		client_free(&auth->client);
		*why = "client authentication failed";
		return OAUTH_INVALID_CLIENT;
	}
	client_free(&auth->client);
	auth->client = now;
	return OAUTH_OK;
}

/*
 * Authorizes an introspection request by the access token in its
 * "Authorization: Bearer" header (RFC 7662 §2.1, RFC 6750 §2.1), inside
 * txn: the token's client becomes the caller, in out->client (the
 * caller's to client_free), with the visibility that client has.  Any
 * active access token of a registered client will do, with no scope asked
 * for: a client that holds one could authenticate with its own
 * credentials anyway, and the Telnyx SDK presents the token it got with
 * client_credentials and the client's default scopes.  A token a user
 * delegated makes its client the caller without the introspect
 * permission: such a token travels to APIs, and whoever holds it must not
 * see every token a resource server may.  Returns OAUTH_OK;
 * OAUTH_INVALID_REQUEST when the body also carries client credentials or
 * an assertion (two methods); OAUTH_INVALID_TOKEN (401
 * with a Bearer challenge, RFC 6750 §3) for any other failure, with *why
 * set and nothing in out to free.
 */
enum oauth_error
client_auth_bearer(const struct handler_env *env, struct store_txn *txn,
    const struct request *req, const struct params *params,
    struct client_auth *out, const char **why)
{
	unsigned char key[TOKEN_HASH_LEN];
	struct token tok;
	enum store_status st;
	enum oauth_error err;

	memset(out, 0, sizeof(*out));
	memset(&tok, 0, sizeof(tok));
	out->used_header = 1;
	out->method = CLIENT_AUTH_BEARER;
	if (params_get(params, "client_id") != NULL ||
	    params_get(params, "client_secret") != NULL ||
	    params_get(params, "client_assertion") != NULL ||
	    params_get(params, "client_assertion_type") != NULL) {
		*why = "the client authenticated with more than one method";
		return OAUTH_INVALID_REQUEST;
	}
	*why = "the bearer token is not an active access token";
	if ((err = token_bearer(env, txn, req, key, &tok)) !=
	    OAUTH_OK) {
		if (err != OAUTH_INVALID_TOKEN)
			*why = "the database failed";
		goto out;
	}
	err = OAUTH_INVALID_TOKEN;
	st = store_client_get(txn, tok.client_id, &out->client);
	if (st == STORE_OK) {
		if (tok.subject != NULL)
			out->client.may_introspect = 0;
		err = OAUTH_OK;
	} else if (st != STORE_NOTFOUND) {
		*why = "the database failed";
		err = oauth_error_from_store(st);
	}
out:
	if (err == OAUTH_INVALID_TOKEN)
		client_auth_log(tok.client_id, "a bearer token was refused");
	token_free(&tok);
	crypto_wipe(key, sizeof(key));
	return err;
}

/*
 * Authenticates the client of req and begins the request's transaction
 * (a write one when writable is set) in the order the store wants
 * (store_txn_blocks_others): on PostgreSQL inside the transaction; on
 * LMDB inside it too unless the client's secret needs a KDF, which never
 * runs under the writer lock or pins a snapshot: then the client first,
 * in a short read of its own, and confirmed inside the transaction.  hint, when not NULL, is the storage key
 * of the token the request will read (store_txn_hint_token).  Returns 0
 * with *txn begun and auth->client the caller's; or -1 with resp holding
 * the error, auth holding nothing, and *txn, when not NULL, the caller's
 * to abort.
 */
static int client_auth_spend(const struct handler_env *, struct store_txn *,
    const struct request *, struct client_auth *, struct response *);

int
client_auth_begin(const struct handler_env *env, const struct request *req,
    const struct params *params, int writable, const unsigned char *hint,
    struct store_txn **txn, struct client_auth *auth, struct response *resp)
{
	const char *why = NULL;
	enum store_status st;
	enum oauth_error err;
	int first = store_txn_blocks_others(env->store), kdf = 0;
	int assertion = 0;

	*txn = NULL;
	/*
	 * An assertion's jti is spent in the request's transaction, and on
	 * LMDB its signature is checked as an operator's secret is, with no
	 * transaction open: straight away, not after a first try inside.
	 */
	if (params_get(params, "client_assertion") != NULL)
		writable = assertion = 1;
	/*
	 * A generated secret's check is one SHA-256, microseconds: on LMDB
	 * too it runs inside the request's transaction, one transaction and
	 * one read less.  An operator's secret needs its KDF, which must
	 * neither hold LMDB's writer lock nor pin a snapshot for its tens of
	 * milliseconds: for it the transaction is given up, the secret
	 * checked with none open, and the client confirmed in a new one.
	 */
	if (first && !assertion) {
		if ((st = store_txn_begin(env->store, writable, txn)) !=
		    STORE_OK) {
			response_store_error(resp, st);
			return -1;
		}
		if (hint != NULL)
			store_txn_hint_token(*txn, hint);
		err = client_auth_read(env, req, params, *txn, auth, &why,
		    &kdf);
		if (!kdf) {
			if (err == OAUTH_OK)
				return client_auth_spend(env, *txn, req, auth,
				    resp);
			client_auth_fail(resp, req, err, why);
			return -1;
		}
		store_txn_abort(*txn);
		*txn = NULL;
	}
	if (first && (err = client_auth(env, req, params, NULL, auth, &why)) !=
	    OAUTH_OK) {
		client_auth_fail(resp, req, err, why);
		return -1;
	}
	if ((st = store_txn_begin(env->store, writable, txn)) != STORE_OK) {
		response_store_error(resp, st);
		if (first)
			client_free(&auth->client);
		return -1;
	}
	if (hint != NULL)
		store_txn_hint_token(*txn, hint);
	err = first ? client_auth_confirm(*txn, auth, &why)
		    : client_auth(env, req, params, *txn, auth, &why);
	if (err != OAUTH_OK) {
		client_auth_fail(resp, req, err, why);
		return -1;
	}
	return client_auth_spend(env, *txn, req, auth, resp);
}

/*
 * Spends, in txn, the jti of the assertion auth authenticated with (RFC
 * 7523 §3 item 7: single use), remembered until it expires: a second use,
 * in any process, is 401 invalid_client.  Other methods spend nothing.
 * Returns 0, or -1 with resp the error and auth->client released.
 */
static int
client_auth_spend(const struct handler_env *env, struct store_txn *txn,
    const struct request *req, struct client_auth *auth,
    struct response *resp)
{
	enum store_status st;

	if (auth->method != CLIENT_AUTH_JWT)
		return 0;
	st = store_seen_put(txn, auth->assertion_replay, env->now(env->ctx),
	    auth->assertion_until);
	if (st == STORE_OK)
		return 0;
	if (st == STORE_EXISTS) {
		client_auth_log(auth->client.id, "a client assertion replayed");
		client_auth_fail(resp, req, OAUTH_INVALID_CLIENT,
		    "the client assertion was used before");
	} else
		response_store_error(resp, st);
	client_free(&auth->client);
	auth->method = CLIENT_AUTH_NONE;
	return -1;
}

/*
 * Spends, in a write transaction of its own, the jti of the assertion
 * auth authenticated with, after the request it came with was refused
 * and its transaction given up: whatever the answer, a verified
 * assertion is used (RFC 7523 §3 item 7), while what the refused request
 * began to write must not stick.  Other methods spend nothing.  A jti
 * spent meanwhile by another request is no failure; others are logged,
 * the refusal already being the answer.
 */
void
client_auth_spend_refused(const struct handler_env *env,
    const struct client_auth *auth)
{
	struct store_txn *txn;
	enum store_status st;

	if (auth->method != CLIENT_AUTH_JWT)
		return;
	if ((st = store_txn_begin(env->store, 1, &txn)) != STORE_OK) {
		log_event("a refused request's client assertion could not be "
		    "spent: %s", store_strerror(st));
		return;
	}
	st = store_seen_put(txn, auth->assertion_replay, env->now(env->ctx),
	    auth->assertion_until);
	if (st == STORE_OK)
		st = store_txn_commit(txn);
	else
		store_txn_abort(txn);
	if (st != STORE_OK && st != STORE_EXISTS)
		log_event("a refused request's client assertion could not be "
		    "spent: %s", store_strerror(st));
}

/*
 * Makes r the error response for a failed request whose client may have
 * tried the Authorization header: RFC 6749 §5.2 wants WWW-Authenticate on
 * a 401 invalid_client then, naming Basic, the scheme a client can use
 * here; a refused bearer token gets the challenge of RFC 6750 §3.
 */
void
client_auth_fail(struct response *r, const struct request *req,
    enum oauth_error err, const char *why)
{
	response_error(r, err, why);
	if (err == OAUTH_INVALID_TOKEN)
		r->www_authenticate = strdup(CLIENT_AUTH_BEARER_CHALLENGE);
	else if (err == OAUTH_INVALID_CLIENT && req->authorization != NULL &&
	    req->authorization[0] != '\0')
		r->www_authenticate = strdup(CLIENT_AUTH_REALM);
}
