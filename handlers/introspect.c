/*
 * POST /introspect (RFC 7662): one read transaction per request; signed as
 * a JWT when the caller asks for it (RFC 9701).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"

#define INTROSPECT_JWT_TYPE "application/token-introspection+jwt"
#define INTROSPECT_JWT_TYP "token-introspection+jwt"	/* RFC 9701 §5 */

/*
 * Whether the media range of the n bytes at p (type, then parameters after
 * ';') is INTROSPECT_JWT_TYPE with a q that is not zero (RFC 9110 §12.5.1).
 */
static int
introspect_range_is_jwt(const char *p, size_t n)
{
	const char *end = p + n, *semi = memchr(p, ';', n), *q;
	size_t len = semi != NULL ? (size_t)(semi - p) : n;
	size_t i;

	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len != strlen(INTROSPECT_JWT_TYPE) ||
	    strncasecmp(p, INTROSPECT_JWT_TYPE, len) != 0)
		return 0;
	/* Each parameter after a ';', every read bounded by end. */
	for (q = semi; q != NULL && q < end;
	     q = q + 1 < end ? memchr(q + 1, ';', (size_t)(end - q - 1))
			     : NULL) {
		for (i = 1; q + i < end && (q[i] == ' ' || q[i] == '\t'); i++)
			;
		if (end - (q + i) < 3 || (q[i] != 'q' && q[i] != 'Q') ||
		    q[i + 1] != '=' || q[i + 2] != '0')
			continue;
		/* q=0, q=0.0, q=0.000: not acceptable. */
		for (i += 3; q + i < end && (q[i] == '0' || q[i] == '.'); i++)
			;
		if (q + i == end || q[i] == ' ' || q[i] == ';' ||
		    q[i] == '\t')
			return 0;
	}
	return 1;
}

/* Whether the Accept header asks for the signed answer (RFC 9701 §4). */
int
handler_introspect_wants_jwt(const char *accept)
{
	const char *p = accept, *end;
	size_t n;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n > 0 && introspect_range_is_jwt(p, n))
			return 1;
		p = end;
	}
	return 0;
}

/*
 * Makes resp the signed introspection response of RFC 9701 §5: a JWT of
 * typ token-introspection+jwt whose token_introspection claim is the len
 * bytes of the JSON object at inner, for the caller client aud, signed
 * with the OAUTH_SIGNING_ALG key that signs now.  Returns 0, or -1 with
 * resp the error.
 */
static int
introspect_respond_jwt(const struct handler_env *env, struct store_txn *txn,
    const char *issuer, const char *aud, const struct buf *inner,
    struct response *resp)
{
	struct buf claims = {0}, jws = {0};
	struct json_writer w;
	enum oauth_error err = OAUTH_SERVER_ERROR;
	const char *why = "out of memory";

	json_write_begin(&w, &claims);
	json_write_str(&w, "iss", issuer);
	json_write_str(&w, "aud", aud);
	json_write_int(&w, "iat", env->now(env->ctx));
	json_write_raw(&w, "token_introspection", inner->data, inner->len);
	if (json_write_end(&w) == 0)
		err = signing_sign_bytes(env, txn, env->config->signing_alg,
		    INTROSPECT_JWT_TYP, claims.data, claims.len, &jws, &why);
	if (claims.data != NULL)
		crypto_wipe(claims.data, claims.cap);
	buf_free(&claims);
	if (err != OAUTH_OK) {
		buf_free(&jws);
		response_error(resp, err, why);
		return -1;
	}
	response_free(resp);
	resp->status = 200;
	resp->content_type = INTROSPECT_JWT_TYPE;
	resp->body = jws;
	resp->no_store = 1;
	return 0;
}

static const char *const introspect_token_use[TOKEN_KIND__MAX] = {
	[TOKEN_ACCESS] = "access_token",
	[TOKEN_REFRESH] = "refresh_token",
};

/*
 * Writes the members of the active response (RFC 7662 §2.2) for tok,
 * stored under key, with w.
 */
static void
introspect_active(struct json_writer *w, const struct token *tok,
    const unsigned char *key, const char *issuer)
{
	char jti[JTI_LEN + 1];
	char cnf[sizeof("{\"x5t#S256\":\"\"}") + JOSE_THUMBPRINT_LEN];
	size_t n;

	store_token_jti(tok, key, jti);
	json_write_bool(w, "active", 1);
	json_write_str(w, "scope", tok->scope != NULL ? tok->scope : "");
	json_write_str(w, "client_id", tok->client_id);
	json_write_str(w, "sub", tok->subject != NULL ? tok->subject
						  : tok->client_id);
	json_write_str(w, "token_type", tok->kind != TOKEN_ACCESS ?
	    "refresh_token" : tok->bind == TOKEN_BIND_DPOP ? "DPoP" : "Bearer");
	json_write_str(w, "token_use", introspect_token_use[tok->kind]);
	json_write_int(w, "exp", tok->expires_at);
	json_write_int(w, "iat", tok->issued_at);
	json_write_int(w, "nbf", tok->issued_at);
	json_write_str(w, "jti", jti);
	if (issuer != NULL)
		json_write_str(w, "iss", issuer);
	if (tok->audience != NULL)
		json_write_str(w, "aud", tok->audience);
	if (tok->subject != NULL)
		json_write_str(w, "username", tok->subject);
	/*
	 * What a resource must see the token's holder prove: the DPoP key
	 * (RFC 9449 §6.2) or the TLS certificate (RFC 8705 §3.2).
	 */
	if (tok->bind == TOKEN_BIND_DPOP || tok->bind == TOKEN_BIND_MTLS) {
		const char *name = tok->bind == TOKEN_BIND_DPOP ? "jkt" :
		    "x5t#S256";
		size_t m = strlen(name);

		cnf[0] = '{';
		cnf[1] = '"';
		memcpy(cnf + 2, name, m);
		memcpy(cnf + 2 + m, "\":\"", 3);
		n = b64url_encode(tok->bind_thumbprint,
		    sizeof(tok->bind_thumbprint), cnf + 5 + m,
		    sizeof(cnf) - 5 - m);
		memcpy(cnf + 5 + m + n, "\"}", 3);
		json_write_raw(w, "cnf", cnf, 5 + m + n + 2);
	}
}

/*
 * POST /introspect.  The caller authenticates as a client, or presents an
 * access token its client holds for itself (RFC 7662 §2.1).
 * A token is reported only when it is active and the caller may see it: the
 * client it was issued to, or a client with the introspect permission.
 * Everything else, codes included, is exactly {"active":false} (§2.2), so
 * the answer does not tell which tokens exist.
 */
void
handler_introspect(const struct handler_env *env, const struct request *req,
    struct response *resp)
{
	struct presented p;
	struct json_writer w;
	struct buf inner = {0};
	char *issuer = NULL;
	int jwt = handler_introspect_wants_jwt(req->accept);

	if (presented_begin(env, req, resp, PRESENTED_BEARER, &p) == -1)
		goto out;
	if (jwt && (issuer = handler_issuer(env, req)) == NULL) {
		response_error(resp, OAUTH_SERVER_ERROR,
		    "no issuer: set OAUTH_ISSUER");
		goto out;
	}
	json_write_begin(&w, &inner);
	if (p.found && store_token_is_active(p.txn, &p.token,
			   env->now(env->ctx)) &&
	    (strcmp(p.token.client_id, p.auth.client.id) == 0 ||
		p.auth.client.may_introspect)) {
		if (issuer == NULL &&
		    (issuer = handler_issuer(env, req)) == NULL) {
			response_error(resp, OAUTH_SERVER_ERROR,
			    "the response could not be built");
			goto out;
		}
		introspect_active(&w, &p.token, p.key, issuer);
	} else
		json_write_bool(&w, "active", 0);
	if (json_write_end(&w) == -1)
		response_error(resp, OAUTH_SERVER_ERROR, "out of memory");
	else if (jwt)
		(void)introspect_respond_jwt(env, p.txn, issuer,
		    p.auth.client.id, &inner, resp);
	else {
		response_free(resp);
		resp->body = inner;
		memset(&inner, 0, sizeof(inner));
		resp->status = 200;
		resp->content_type = "application/json";
		resp->no_store = 1;
	}
out:
	if (inner.data != NULL)
		crypto_wipe(inner.data, inner.cap);
	buf_free(&inner);
	presented_end(&p, resp);
	free(issuer);
}
