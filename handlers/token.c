/*
 * The token endpoint (RFC 6749 §3.2): client authentication, the grant
 * types, and minting tokens.  One write transaction per request.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

static enum oauth_error token_grant_client_credentials(
    const struct handler_env *, struct store_txn *, const struct params *,
    const struct client *, struct token_issue *, const char **);

static const struct token_grant {
	const char *name;
	unsigned bit;
	enum oauth_error (*grant)(const struct handler_env *,
	    struct store_txn *, const struct params *, const struct client *,
	    struct token_issue *, const char **);
} token_grants[] = {
	{"client_credentials", GRANT_CLIENT_CREDENTIALS,
	    token_grant_client_credentials},
	{"authorization_code", GRANT_AUTHORIZATION_CODE,
	    token_grant_authorization_code},
	{"refresh_token", GRANT_REFRESH_TOKEN, token_grant_refresh_token},
};

/*
 * Mints an opaque token of record's kind (token_string_mint) with a new
 * jti, and stores record under its key.  Writes the string to out.
 * Returns OAUTH_OK; or the error to answer when randomness or storage
 * fails, nothing having been written then.
 */
enum oauth_error
token_mint(const struct handler_env *env, struct store_txn *txn,
    const struct token *record, char out[TOKEN_STRING_LEN + 1])
{
	unsigned char key[TOKEN_HASH_LEN];
	struct token t = *record;
	enum store_status st;

	if (token_string_new_jti(env->random, env->ctx, t.jti) == -1 ||
	    token_string_mint(env->random, env->ctx, out, key) == -1)
		return OAUTH_SERVER_ERROR;
	t.has_jti = 1;
	st = store_token_put(txn, key, &t);
	crypto_wipe(key, sizeof(key));
	if (st != STORE_OK) {
		crypto_wipe(out, TOKEN_STRING_LEN + 1);
		return oauth_error_from_store(st);
	}
	return OAUTH_OK;
}

/*
 * The scope to grant (RFC 6749 §3.3): the requested one when it is
 * well-formed and within allowed, all of allowed when none was requested.
 * Returns OAUTH_OK with *out allocated (duplicates removed), or
 * OAUTH_INVALID_SCOPE / OAUTH_SERVER_ERROR with *why set.
 */
enum oauth_error
token_scope(const char *requested, const char *allowed, char **out,
    const char **why)
{
	*out = NULL;
	if (requested == NULL) {
		if ((*out = strdup(allowed != NULL ? allowed : "")) == NULL)
			goto nomem;
		return OAUTH_OK;
	}
	if (strlen(requested) > SCOPE_MAX || !scope_valid(requested)) {
		*why = "scope is malformed";
		return OAUTH_INVALID_SCOPE;
	}
	if (!scope_subset(requested, allowed != NULL ? allowed : "")) {
		*why = "scope exceeds what the client may have";
		return OAUTH_INVALID_SCOPE;
	}
	if ((*out = scope_normalize(requested)) == NULL)
		goto nomem;
	return OAUTH_OK;
nomem:
	*why = "out of memory";
	return OAUTH_SERVER_ERROR;
}

/*
 * RFC 6749 §4.4: a confidential client asks for a token for itself.  The
 * token's subject is the client; there is no refresh token (§4.4.3).
 */
static enum oauth_error
token_grant_client_credentials(const struct handler_env *env,
    struct store_txn *txn, const struct params *params,
    const struct client *client, struct token_issue *out, const char **why)
{
	struct token access;
	enum oauth_error err;
	int64_t now = env->now(env->ctx);

	if (client->is_public) {
		*why = "public clients may not use client_credentials";
		return OAUTH_UNAUTHORIZED_CLIENT;
	}
	if ((err = resource_requested(params, client, &out->audience, why)) !=
	    OAUTH_OK)
		return err;
	err = token_scope(params_get(params, "scope"), client->scope,
	    &out->scope, why);
	if (err != OAUTH_OK)
		return err;
	memset(&access, 0, sizeof(access));
	access.kind = TOKEN_ACCESS;
	access.state = TOKEN_STATE_ACTIVE;
	memcpy(access.client_id, client->id, sizeof(access.client_id));
	access.scope = out->scope;
	access.audience = (char *)out->audience;
	access.issued_at = now;
	access.expires_at = now + env->config->access_ttl;
	token_bind_holder(&access, out);
	out->expires_in = env->config->access_ttl;
	return token_mint_access(env, txn, client, &access, out, 0, out->access,
	    why);
}

/* Makes resp the successful token response (RFC 6749 §5.1). */
static void
token_respond(struct response *resp, const struct token_issue *issue)
{
	struct json_writer w;

	response_json_begin(resp, &w);
	json_write_str(&w, "access_token", issue->access);
	/* RFC 9449 §5: a DPoP-bound token is of type DPoP. */
	json_write_str(&w, "token_type", issue->dpop.present ? "DPoP"
							      : "Bearer");
	json_write_int(&w, "expires_in", issue->expires_in);
	json_write_str(&w, "scope", issue->scope != NULL ? issue->scope : "");
	if (issue->refresh[0] != '\0')
		json_write_str(&w, "refresh_token", issue->refresh);
	if (issue->id_token != NULL)
		json_write_str(&w, "id_token", issue->id_token);
	(void)response_json_end(resp, &w, 200);
}

/*
 * Makes issue empty for a request: zero, but for the 4 KiB of access
 * behind its first byte, which nothing reads before a grant writes its
 * token there as one string (zeroing them cost an issuance about 500
 * instructions).
 */
static void
token_issue_init(struct token_issue *issue, const struct request *req)
{
	size_t rest = offsetof(struct token_issue, access) +
	    sizeof(issue->access);

	issue->access[0] = '\0';
	memset((char *)issue + rest, 0, sizeof(*issue) - rest);
	issue->req = req;
}

/*
 * Releases what a grant put in issue, wiping the token strings: as far as
 * they were written (each is written as one string), not the whole 4 KiB
 * of access, which would cost a token request thousands of instructions.
 */
static void
token_issue_free(struct token_issue *issue)
{
	crypto_wipe(issue->access, strnlen(issue->access,
	    sizeof(issue->access)));
	crypto_wipe(issue->refresh, strnlen(issue->refresh,
	    sizeof(issue->refresh)));
	free(issue->scope);
	issue->scope = NULL;
	free(issue->id_token);
	issue->id_token = NULL;
	free(issue->issuer);
	issue->issuer = NULL;
}

/*
 * The issuer the tokens of issue name (handler_issuer of issue->req),
 * worked out once, when first asked; NULL when the request has none.
 */
const char *
token_issue_issuer(const struct handler_env *env, struct token_issue *issue)
{
	if (!issue->issuer_known) {
		issue->issuer = handler_issuer(env, issue->req);
		issue->issuer_known = 1;
	}
	return issue->issuer;
}

/*
 * POST /token.  The grant type is checked before the client is looked up;
 * the client authenticates, must be registered for the grant type (else
 * unauthorized_client), and the grant runs inside the same write
 * transaction, committed only when it succeeded or when it changed state
 * that must stick even though the request fails (a replayed code or
 * refresh token revokes its grant).
 */
void
handler_token(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	struct params params = {0};
	struct client_auth auth;
	struct token_issue issue;
	const struct token_grant *grant = NULL;
	struct store_txn *txn = NULL;
	enum store_status st;
	enum oauth_error err;
	const char *why = NULL, *name;
	char nonce[DPOP_NONCE_LEN + 1] = "";
	size_t i;

	token_issue_init(&issue, req);
	if ((err = params_parse_body(req, &params, &why)) != OAUTH_OK) {
		response_error(resp, err, why);
		goto out;
	}
	if ((name = params_get(&params, "grant_type")) == NULL) {
		response_error(resp, OAUTH_INVALID_REQUEST,
		    "grant_type is required");
		goto out;
	}
	for (i = 0; i < sizeof(token_grants) / sizeof(token_grants[0]); i++)
		if (strcmp(name, token_grants[i].name) == 0)
			grant = &token_grants[i];
	if (grant == NULL) {
		response_error(resp, OAUTH_UNSUPPORTED_GRANT_TYPE,
		    "grant_type is not supported");
		goto out;
	}
	/*
	 * The issuer a signed token names; none (no usable Host) only fails
	 * a request that signs, or sends a proof.
	 */
	/* The proof's signature is verified before the lock, as a KDF is. */
	if ((err = dpop_check(env, req, req->dpop != NULL ?
	    token_issue_issuer(env, &issue) : NULL, NULL, 0, &issue.dpop,
	    &why)) != OAUTH_OK) {
		response_error(resp, err, why);
		goto out;
	}
	/* Never a KDF under the write lock: see client_auth_begin. */
	if (client_auth_begin(env, req, &params, 1, NULL, &txn, &auth,
		resp) == -1)
		goto out;
	/* RFC 8705 §3: a client of a certificate gets tokens bound to it. */
	if (auth.method == CLIENT_AUTH_TLS) {
		issue.tls_bound = 1;
		memcpy(issue.tls_thumbprint, auth.tls_thumbprint,
		    sizeof(issue.tls_thumbprint));
	}
	if ((auth.client.grant_types & grant->bit) == 0) {
		err = OAUTH_UNAUTHORIZED_CLIENT;
		why = "the client may not use this grant_type";
	} else if (auth.client.dpop_bound && !issue.dpop.present) {
		/* RFC 9449 §5.2: dpop_bound_access_tokens. */
		err = OAUTH_INVALID_DPOP_PROOF;
		why = "this client must send a DPoP proof";
	} else if ((err = dpop_nonce_check(env, txn, &issue.dpop, nonce,
	    &why)) == OAUTH_OK &&
	    (err = dpop_spend(env, txn, &issue.dpop, &why)) == OAUTH_OK)
		err = grant->grant(env, txn, &params, &auth.client, &issue,
		    &why);
	if (err == OAUTH_OK) {
		st = store_txn_commit(txn);
		txn = NULL;
		if (st != STORE_OK)
			response_store_error(resp, st);
		else
			token_respond(resp, &issue);
	} else {
		response_error(resp, err, why);
		/* A refused grant writes nothing but what must stick. */
		if (issue.commit_anyway) {
			st = store_txn_commit(txn);
			txn = NULL;
			if (st != STORE_OK)
				response_store_error(resp, st);
		} else {
			store_txn_abort(txn);
			txn = NULL;
			/*
			 * An assertion verified is spent (RFC 7523 §3 item
			 * 7), but for the retry RFC 9449 §8 asks for.
			 */
			if (oauth_error_status(err) < 500 &&
			    err != OAUTH_USE_DPOP_NONCE)
				client_auth_spend_refused(env, &auth);
		}
	}
	client_free(&auth.client);
out:
	/* RFC 6749 §5.1, §5.2: no cache keeps a token answer, or an error. */
	resp->no_store = 1;
	resp->no_cache = 1;
	/* RFC 9449 §8: the nonce for the next proof, whatever the answer. */
	memcpy(resp->dpop_nonce, nonce, sizeof(resp->dpop_nonce));
	store_txn_abort(txn);
	token_issue_free(&issue);
	params_free(&params);
}

/*
 * Looks up the token a peer presented, of any format, under its key
 * (token_string_key).  A string that cannot be one of ours (empty, longer
 * than TOKEN_PRESENTED_MAX) is STORE_NOTFOUND without a lookup.  On
 * STORE_OK *out is owned by the caller (token_free) and key holds the
 * storage key.
 */
enum store_status
token_find(struct store_txn *txn, const char *presented,
    unsigned char key[TOKEN_HASH_LEN], struct token *out)
{
	memset(out, 0, sizeof(*out));
	if (token_string_key(presented, strlen(presented), key) == -1)
		return STORE_NOTFOUND;
	return store_token_get(txn, key, out);
}

/* The expiry of a token issued at now for ttl seconds, at most end. */
static int64_t
token_expiry(int64_t now, int64_t ttl, int64_t end)
{
	return now > end - ttl ? end : now + ttl;
}

/*
 * Finds the access token presented in authorization as its scheme
 * ("Authorization: Bearer", RFC 6750 §2.1, or "DPoP", RFC 9449 §7.1), in
 * txn, and checks it may be used so: a DPoP-bound token only as DPoP, by
 * the holder of the checked proof (§7.2), which must then have been made
 * for this token (its ath, dpop_check); a bearer token only as Bearer,
 * and a certificate-bound one as Bearer from that certificate's holder.
 * Returns OAUTH_OK with *tok, the caller's to
 * token_free whatever the result, and key set to its storage key;
 * OAUTH_INVALID_TOKEN for a malformed header or a token that is unknown,
 * expired, revoked, not an access token or bound to another key; or the
 * error of a storage failure.  The copy of the presented string is wiped.
 */
enum oauth_error
token_presented_access(const struct handler_env *env, struct store_txn *txn,
    const struct request *req, const struct dpop_proof *proof,
    unsigned char key[TOKEN_HASH_LEN], struct token *tok)
{
	const char *authorization = req->authorization;
	char copy[TOKEN_PRESENTED_MAX + 1];
	const char *presented;
	enum store_status st;
	size_t len;

	memset(tok, 0, sizeof(*tok));
	if (params_scheme_token(authorization, proof != NULL ? "dpop" :
	    "bearer", &presented, &len) != OAUTH_OK)
		return OAUTH_INVALID_TOKEN;
	memcpy(copy, presented, len);
	copy[len] = '\0';
	st = token_find(txn, copy, key, tok);
	crypto_wipe(copy, len);
	if (st != STORE_OK && st != STORE_NOTFOUND)
		return oauth_error_from_store(st);
	if (st == STORE_NOTFOUND || tok->kind != TOKEN_ACCESS ||
	    !store_token_is_active(txn, tok, env->now(env->ctx)))
		return OAUTH_INVALID_TOKEN;
	/* RFC 8705 §3: a certificate-bound token is a Bearer one. */
	if (proof == NULL ? tok->bind == TOKEN_BIND_DPOP ||
		    !tls_binding_holds(tok, req)
			  : tok->bind != TOKEN_BIND_DPOP ||
		    !dpop_binding_holds(tok, proof))
		return OAUTH_INVALID_TOKEN;
	return OAUTH_OK;
}

/* token_presented_access of "Authorization: Bearer". */
enum oauth_error
token_bearer(const struct handler_env *env, struct store_txn *txn,
    const struct request *req, unsigned char key[TOKEN_HASH_LEN],
    struct token *tok)
{
	return token_presented_access(env, txn, req, NULL, key, tok);
}

/*
 * Binds the token record t to its holder's key: the DPoP proof of the
 * request that issues it, or else the certificate its client
 * authenticated with (RFC 8705 §3); an unbound token else.
 */
void
token_bind_holder(struct token *t, const struct token_issue *issue)
{
	if (issue->dpop.present) {
		dpop_bind(t, &issue->dpop);
		return;
	}
	if (!issue->tls_bound)
		return;
	t->bind = TOKEN_BIND_MTLS;
	memcpy(t->bind_thumbprint, issue->tls_thumbprint,
	    sizeof(t->bind_thumbprint));
}

/*
 * Issues the tokens of an authorization: an access token with
 * access_scope, and when the client may refresh, a refresh token with
 * refresh_scope (RFC 6749 §6: a rotated refresh token keeps its scope),
 * both for out->audience (the authorized resource, RFC 8707).
 * Both carry the grant and subject; the grant's expiry is moved to the
 * latest of them so purge keeps it while they live.  No token outlives
 * the grant's absolute lifetime (OAUTH_GRANT_TTL, counted from the
 * authorization), and once it has passed nothing more is issued:
 * invalid_grant, so the user must authorize again.  Writes the token
 * strings and expires_in to out (out->scope is the caller's).  Returns
 * OAUTH_OK or the error to answer, with *why set.
 */
enum oauth_error
token_issue_grant(const struct handler_env *env, struct store_txn *txn,
    const struct client *client, struct grant *grant,
    const char *access_scope, const char *refresh_scope,
    struct token_issue *out, const char **why)
{
	struct token t;
	enum oauth_error err;
	enum store_status st;
	int64_t now = env->now(env->ctx), end = INT64_MAX;

	/* 0, in a configuration built by hand, sets no limit. */
	if (env->config->grant_ttl > 0 &&
	    grant->created_at <= INT64_MAX - env->config->grant_ttl)
		end = grant->created_at + env->config->grant_ttl;
	if (now >= end) {
		*why = "the grant has reached its maximum lifetime";
		return OAUTH_INVALID_GRANT;
	}
	memset(&t, 0, sizeof(t));
	t.kind = TOKEN_ACCESS;
	t.state = TOKEN_STATE_ACTIVE;
	memcpy(t.client_id, client->id, sizeof(t.client_id));
	t.subject = grant->subject;
	t.scope = (char *)access_scope;
	t.audience = (char *)out->audience;
	t.issued_at = now;
	t.expires_at = token_expiry(now, env->config->access_ttl, end);
	t.has_grant = 1;
	memcpy(t.grant_id, grant->id, sizeof(t.grant_id));
	token_bind_holder(&t, out);
	if ((err = token_mint_access(env, txn, client, &t, out,
		 grant->auth_time, out->access, why)) != OAUTH_OK)
		return err;
	*why = "the token could not be stored";
	out->expires_in = t.expires_at - now;
	if (grant->expires_at < t.expires_at)
		grant->expires_at = t.expires_at;
	if (client->grant_types & GRANT_REFRESH_TOKEN) {
		t.kind = TOKEN_REFRESH;
		t.scope = (char *)refresh_scope;
		/*
		 * RFC 9449 §5: a public client's refresh token is bound to
		 * its key, since nothing else proves who presents it; a
		 * confidential client authenticates instead.
		 */
		if (!client->is_public)
			t.bind = TOKEN_BIND_NONE;
		t.expires_at = token_expiry(now, env->config->refresh_ttl,
		    end);
		if ((err = token_mint(env, txn, &t, out->refresh)) != OAUTH_OK)
			return err;
		if (grant->expires_at < t.expires_at)
			grant->expires_at = t.expires_at;
	}
	if ((st = store_grant_put(txn, grant)) != STORE_OK)
		return oauth_error_from_store(st);
	return id_token_issue(env, txn, client, grant, access_scope, out, why);
}

/*
 * Ends a grant whose code or refresh token was presented again (RFC 6749
 * §4.1.2, RFC 9700 §4.14.2): every token descended from it stops being
 * active.  Marks issue so the token endpoint commits this although the
 * request fails.  Returns OAUTH_INVALID_GRANT, or the storage error.
 */
enum oauth_error
token_replayed(struct store_txn *txn, const struct token *tok,
    struct token_issue *issue, const char *what, const char **why)
{
	struct buf quoted = {0};
	enum store_status st;

	log_quote(&quoted, tok->client_id);
	log_event("%s replayed: client_id=%s: grant revoked", what,
	    quoted.data != NULL ? quoted.data : "\"\"");
	buf_free(&quoted);
	st = store_grant_revoke(txn, tok->grant_id);
	if (st != STORE_OK && st != STORE_NOTFOUND) {
		*why = "the database failed";
		return oauth_error_from_store(st);
	}
	issue->commit_anyway = 1;
	*why = "the grant was already used; it is now revoked";
	return OAUTH_INVALID_GRANT;
}

/* What a failed token_take says of each kind of single-use credential. */
static const struct {
	const char *param;
	const char *name;
	const char *missing;
	const char *invalid;
	const char *unproved;
} token_take_kinds[TOKEN_KIND__MAX] = {
	[TOKEN_REFRESH] = {"refresh_token", "refresh token",
	    "refresh_token is required",
	    "the refresh token is invalid, expired, revoked or was issued to "
	    "another client",
	    "the refresh token is bound to a DPoP key this request does not "
	    "prove"},
	[TOKEN_CODE] = {"code", "authorization code", "code is required",
	    "the code is invalid, expired or was issued to another client",
	    "the code is bound to a DPoP key this request does not prove"},
};

/*
 * Finds the code or refresh token (kind) that the request presents for
 * client, and checks it may be spent: it exists, is of that kind, belongs
 * to client, has a grant, is proved by the key it is bound to (RFC 9449
 * §5, §10.1) and is active.  One already spent is a replay, which revokes
 * its grant (token_replayed); but only when its key is proved, so that
 * one who copied a bound token without the key cannot end the grant of
 * its holder with it.  Returns OAUTH_OK with *tok
 * and key set; *tok is the caller's to token_free whatever the result.
 */
enum oauth_error
token_take(const struct handler_env *env, struct store_txn *txn,
    const struct params *params, enum token_kind kind,
    const struct client *client, unsigned char key[TOKEN_HASH_LEN],
    struct token *tok, struct token_issue *out, const char **why)
{
	const char *presented = params_get(params, token_take_kinds[kind].param);
	enum store_status st;

	memset(tok, 0, sizeof(*tok));
	if (presented == NULL) {
		*why = token_take_kinds[kind].missing;
		return OAUTH_INVALID_REQUEST;
	}
	st = token_find(txn, presented, key, tok);
	if (st != STORE_OK && st != STORE_NOTFOUND) {
		*why = "the database failed";
		return oauth_error_from_store(st);
	}
	*why = token_take_kinds[kind].invalid;
	if (st == STORE_NOTFOUND || tok->kind != kind ||
	    strcmp(tok->client_id, client->id) != 0 || !tok->has_grant)
		return OAUTH_INVALID_GRANT;
	if (!dpop_binding_holds(tok, &out->dpop)) {
		*why = token_take_kinds[kind].unproved;
		return OAUTH_INVALID_GRANT;
	}
	if (tok->state == TOKEN_STATE_USED)
		return token_replayed(txn, tok, out,
		    token_take_kinds[kind].name, why);
	if (!store_token_is_active(txn, tok, env->now(env->ctx)))
		return OAUTH_INVALID_GRANT;
	return OAUTH_OK;
}

/*
 * Spends tok, stored under key: marks it used, so that presenting it again
 * is a replay, and loads its grant into *grant (the caller's to
 * grant_free).  Returns OAUTH_OK, or the error to answer.
 */
enum oauth_error
token_spend(struct store_txn *txn, const unsigned char key[TOKEN_HASH_LEN],
    struct token *tok, struct grant *grant, const char **why)
{
	enum store_status st;

	*why = "the database failed";
	if ((st = store_grant_get(txn, tok->grant_id, grant)) != STORE_OK)
		return st == STORE_NOTFOUND ? OAUTH_INVALID_GRANT
					    : oauth_error_from_store(st);
	tok->state = TOKEN_STATE_USED;
	if ((st = store_token_put(txn, key, tok)) != STORE_OK)
		return oauth_error_from_store(st);
	return OAUTH_OK;
}
