/*
 * The handlers in a loop, in one process, as a FastCGI responder runs them
 * (its secret and signing-key caches included), against a real LMDB
 * database:
 *
 *   token        client_credentials issuance, an opaque access token
 *                (client_secret_basic, one write transaction)
 *   token-jwt    the same for a --token-format jwt client: an RS256 JWT
 *   token-dpop   token with a DPoP proof (RFC 9449) by an ES256 key, made
 *                before the measure: the proof's verification and its
 *                jti spent, beside the issuance
 *   token-pkjwt  token for a client authenticating with private_key_jwt
 *                (RFC 7523): an ES256 assertion made before the measure,
 *                verified with the client's registered key and its jti
 *                spent, instead of a secret
 *   introspect   introspection of an opaque token (one read transaction)
 *   code         GET /authorize (REMOTE_USER set) and the code redeemed
 *                at /token, scope "read": two requests per count
 *   code-openid  the same with scope "openid read": an id_token besides
 *   sign-RS256, sign-ES256, sign-EdDSA
 *                jose_sign alone, with a parsed key of that algorithm, of
 *                the claims a JWT access token carries
 *
 *   bench_handlers DBDIR MODE COUNT
 *
 * The OAUTH_* configuration applies (OAUTH_DB_SYNC above all); DBDIR
 * stands in for OAUTH_DB.
 * Prints the requests per second it saw.  For numbers that do not depend
 * on the machine's load, run it under callgrind with
 * --toggle-collect=bench_loop and two COUNTs and divide the difference in
 * instructions (bench/run.sh does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../handlers/handlers.h"

#define BENCH_COUNT_MAX 1000000LL
#define BENCH_SECRET "bench-secret-0123456789abcdefghijklmnopq"
#define BENCH_REDIRECT "http://127.0.0.1:9/cb"
#define BENCH_REDIRECT_ENC "http%3A%2F%2F127.0.0.1%3A9%2Fcb"
#define BENCH_CODE_MAX 256	/* longest code taken from a Location */
#define BENCH_DPOP_MAX 200000LL	/* proofs token-dpop makes beforehand */
#define BENCH_ISSUER "http://127.0.0.1/oauth"
#define BENCH_TOKEN_URL BENCH_ISSUER "/token"

/* "Basic " and base64 of "bench:" and "benchjwt:" BENCH_SECRET. */
#define BENCH_AUTH "Basic YmVuY2g6YmVuY2gtc2VjcmV0LTAxMjM0NTY3ODlh" \
		   "YmNkZWZnaGlqa2xtbm9wcQ=="
#define BENCH_AUTH_JWT "Basic YmVuY2hqd3Q6YmVuY2gtc2VjcmV0LTAxMjM0NTY3" \
		       "ODlhYmNkZWZnaGlqa2xtbm9wcQ=="

/* The claims of a JWT access token, as token_jwt.c makes them. */
#define BENCH_CLAIMS "{\"iss\":\"http://127.0.0.1/oauth\",\"exp\":" \
	"1800003600,\"aud\":\"https://api.example.org/\",\"sub\":\"bench\"," \
	"\"client_id\":\"bench\",\"iat\":1800000000,\"jti\":" \
	"\"k3Jq0bWm0XoYJ3M7F5cYbA\",\"scope\":\"read write\"}"

enum bench_mode {
	BENCH_TOKEN = 0,
	BENCH_TOKEN_JWT,
	BENCH_TOKEN_DPOP,
	BENCH_TOKEN_PKJWT,
	BENCH_INTROSPECT,
	BENCH_CODE,
	BENCH_CODE_OPENID,
	BENCH_SIGN_RS256,
	BENCH_SIGN_ES256,
	BENCH_SIGN_EDDSA,
	BENCH__MAX
};

static const char *const bench_modes[BENCH__MAX] = {
	[BENCH_TOKEN] = "token",
	[BENCH_TOKEN_JWT] = "token-jwt",
	[BENCH_TOKEN_DPOP] = "token-dpop",
	[BENCH_TOKEN_PKJWT] = "token-pkjwt",
	[BENCH_INTROSPECT] = "introspect",
	[BENCH_CODE] = "code",
	[BENCH_CODE_OPENID] = "code-openid",
	[BENCH_SIGN_RS256] = "sign-RS256",
	[BENCH_SIGN_ES256] = "sign-ES256",
	[BENCH_SIGN_EDDSA] = "sign-EdDSA",
};

static int64_t
bench_now(void *ctx)
{
	(void)ctx;
	return (int64_t)time(NULL);
}

static int
bench_random(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;
	return crypto_random(buf, len);
}

/*
 * Adds client id (secret BENCH_SECRET; client_credentials and
 * authorization_code, redirect BENCH_REDIRECT, scope "read write") with
 * access tokens of format.  Returns 0, or -1.
 */
static int
bench_client(struct store *store, const char *id,
    enum client_token_format format)
{
	struct client c;
	struct store_txn *txn;
	enum store_status st;

	memset(&c, 0, sizeof(c));
	strcpy(c.id, id);
	c.grant_types = GRANT_CLIENT_CREDENTIALS | GRANT_AUTHORIZATION_CODE;
	c.may_introspect = 1;
	c.scope = "read write";
	c.audience = "https://api.example.org/";
	c.redirect_uris[0] = BENCH_REDIRECT;
	c.redirect_uri_count = 1;
	c.token_format = format;
	if (crypto_random(c.secret_salt, sizeof(c.secret_salt)) == -1 ||
	    crypto_secret_hash(c.secret_salt, BENCH_SECRET,
		strlen(BENCH_SECRET), c.secret_hash) == -1)
		return -1;
	if (store_txn_begin(store, 1, &txn) != STORE_OK)
		return -1;
	st = store_client_put(txn, &c, 1);
	if (st != STORE_OK) {
		store_txn_abort(txn);
		return -1;
	}
	return store_txn_commit(txn) == STORE_OK ? 0 : -1;
}

/*
 * Makes a private key of alg into *pkey and, when store is not NULL,
 * stores it as the key that signs alg from the epoch on, as oauthctl key
 * generate would.  Returns 0, or -1.
 */
static int
bench_key(struct store *store, enum jose_alg alg, EVP_PKEY **pkey)
{
	struct buf pem = {0};
	struct store_txn *txn;
	struct key k;
	cJSON *jwk = NULL;
	int rv = -1;

	memset(&k, 0, sizeof(k));
	*pkey = NULL;
	if (jose_key_generate(alg, &pem) == -1 ||
	    jose_key_parse(alg, pem.data, pem.len, pkey) == -1 ||
	    jose_key_thumbprint(*pkey, alg, k.kid) == -1 ||
	    jose_jwk_public(*pkey, alg, k.kid, &jwk) == -1 ||
	    (k.jwk = cJSON_PrintUnformatted(jwk)) == NULL)
		goto out;
	k.pem = pem.data;
	k.alg = alg;
	if (store == NULL) {
		rv = 0;
		goto out;
	}
	if (store_txn_begin(store, 1, &txn) != STORE_OK)
		goto out;
	if (store_key_put(txn, &k) != STORE_OK) {
		store_txn_abort(txn);
		goto out;
	}
	rv = store_txn_commit(txn) == STORE_OK ? 0 : -1;
out:
	cJSON_Delete(jwk);
	cJSON_free(k.jwk);
	buf_free(&pem);
	return rv;
}

/*
 * Runs one request: POST of body (GET of query when body is NULL) to path,
 * authenticated with authorization (NULL: none) for remote_user (NULL:
 * none), with the DPoP proof bench_dpop (NULL: none).  Appends the
 * response body to out and copies its Location to location (when not
 * NULL).  Returns the status.
 */
static const char *bench_dpop;
/* token-pkjwt: the body of the next request, its assertion in it. */
static const char *bench_assertion;

static int
bench_request(const struct handler_env *env, const char *path,
    const char *body, const char *query, const char *authorization,
    const char *remote_user, struct buf *out, struct buf *location)
{
	struct request req;
	struct response resp;
	int status;

	memset(&req, 0, sizeof(req));
	req.path = path;
	if (body != NULL) {
		req.method = "POST";
		req.content_type = "application/x-www-form-urlencoded";
		req.body = body;
		req.body_len = strlen(body);
	} else {
		req.method = "GET";
		req.query = query;
	}
	req.authorization = authorization;
	req.remote_user = remote_user;
	req.dpop = bench_dpop;
	req.host = "127.0.0.1";
	req.script_name = "/oauth";
	response_init(&resp);
	handler_dispatch(env, &req, &resp);
	status = resp.status;
	if (out != NULL && resp.body.data != NULL)
		(void)buf_puts(out, resp.body.data);
	if (location != NULL && resp.location != NULL)
		(void)buf_puts(location, resp.location);
	response_free(&resp);
	return status;
}

/*
 * One authorization code grant: GET /authorize as user "alice" for scope
 * (already form-encoded), then the code redeemed at /token.  Returns 0
 * when both answered as they should (302, then 200 with an id_token when
 * want_id_token), else -1.
 */
static int
bench_code(const struct handler_env *env, const char *scope,
    int want_id_token)
{
	struct buf q = {0}, loc = {0}, body = {0}, out = {0};
	const char *c;
	size_t n;
	int rv = -1;

	if (buf_printf(&q, "response_type=code&client_id=bench&redirect_uri="
		"%s&scope=%s&state=s", BENCH_REDIRECT_ENC, scope) == -1 ||
	    bench_request(env, "/authorize", NULL, q.data, NULL, "alice",
		NULL, &loc) != 302 || loc.data == NULL ||
	    (c = strstr(loc.data, "code=")) == NULL)
		goto out;
	c += strlen("code=");
	if ((n = strcspn(c, "&#")) == 0 || n > BENCH_CODE_MAX ||
	    buf_printf(&body, "grant_type=authorization_code&redirect_uri="
		"%s&code=%.*s", BENCH_REDIRECT_ENC, (int)n, c) == -1 ||
	    bench_request(env, "/token", body.data, NULL, BENCH_AUTH, NULL,
		&out, NULL) != 200 || out.data == NULL ||
	    (want_id_token && strstr(out.data, "\"id_token\"") == NULL))
		goto out;
	rv = 0;
out:
	buf_free(&q);
	buf_free(&loc);
	buf_free(&body);
	buf_free(&out);
	return rv;
}

/*
 * Makes count DPoP proofs by pkey (ES256) for POST BENCH_TOKEN_URL at now,
 * each with its own jti, into a NULL-terminated array; or, with
 * assertion set, count client_credentials bodies of the client "pkjwt"
 * authenticating with an ES256 assertion by pkey.  Returns it, or NULL.
 */
static char **
bench_proofs(EVP_PKEY *pkey, long long count, int assertion)
{
	struct buf hdr = {0}, claims = {0}, jws = {0};
	char **proofs;
	char *jwk_text = NULL;
	cJSON *jwk = NULL;
	long long i;

	if ((proofs = calloc((size_t)count + 1, sizeof(*proofs))) == NULL ||
	    jose_jwk_public(pkey, JOSE_ALG_ES256, NULL, &jwk) == -1 ||
	    (jwk_text = cJSON_PrintUnformatted(jwk)) == NULL ||
	    buf_printf(&hdr, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\","
		"\"jwk\":%s}", jwk_text) == -1)
		goto fail;
	if (assertion) {
		hdr.len = 0;
		if (buf_puts(&hdr, "{\"alg\":\"ES256\"}") == -1)
			goto fail;
	}
	for (i = 0; i < count; i++) {
		claims.len = 0;
		jws.len = 0;
		if ((assertion ? buf_printf(&claims, "{\"iss\":\"pkjwt\","
			"\"sub\":\"pkjwt\",\"aud\":\"" BENCH_ISSUER "\","
			"\"jti\":\"bench-%lld-%ld\",\"exp\":%lld}", i,
			(long)time(NULL), (long long)time(NULL) + 600) :
		    buf_printf(&claims, "{\"jti\":\"bench-%lld-%ld\",\"htm\":"
			"\"POST\",\"htu\":\"" BENCH_TOKEN_URL "\",\"iat\":%lld}",
			i, (long)time(NULL), (long long)time(NULL))) == -1 ||
		    jose_sign_header(pkey, JOSE_ALG_ES256, hdr.data,
			claims.data, claims.len, &jws) == -1)
			goto fail;
		if (assertion) {
			claims.len = 0;
			if (buf_printf(&claims, "grant_type=client_credentials&"
			    "client_assertion_type=urn%%3Aietf%%3Aparams%%3A"
			    "oauth%%3Aclient-assertion-type%%3Ajwt-bearer&"
			    "client_assertion=%.*s", (int)jws.len, jws.data) ==
			    -1 || (proofs[i] = strndup(claims.data,
			    claims.len)) == NULL)
				goto fail;
		} else if ((proofs[i] = strndup(jws.data, jws.len)) == NULL)
			goto fail;
	}
	goto out;
fail:
	for (i = 0; proofs != NULL && proofs[i] != NULL; i++)
		free(proofs[i]);
	free(proofs);
	proofs = NULL;
out:
	cJSON_free(jwk_text);
	cJSON_Delete(jwk);
	buf_free(&hdr);
	buf_free(&claims);
	buf_free(&jws);
	return proofs;
}

/*
 * Adds the client "pkjwt" (client_credentials, scope "read write") whose
 * one registered key is pkey's public half.  Returns 0, or -1.
 */
static int
bench_jwks_client(struct store *store, EVP_PKEY *pkey)
{
	struct client c;
	struct store_txn *txn;
	cJSON *jwk = NULL, *set = NULL, *keys;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	strcpy(c.id, "pkjwt");
	c.grant_types = GRANT_CLIENT_CREDENTIALS;
	c.scope = "read write";
	if (jose_jwk_public(pkey, JOSE_ALG_ES256, NULL, &jwk) == -1 ||
	    (set = cJSON_CreateObject()) == NULL ||
	    (keys = cJSON_AddArrayToObject(set, "keys")) == NULL)
		goto out;
	cJSON_AddItemToArray(keys, jwk);
	jwk = NULL;
	if ((c.jwks = cJSON_PrintUnformatted(set)) == NULL ||
	    store_txn_begin(store, 1, &txn) != STORE_OK)
		goto out;
	if (store_client_put(txn, &c, 1) != STORE_OK)
		store_txn_abort(txn);
	else if (store_txn_commit(txn) == STORE_OK)
		rc = 0;
out:
	cJSON_free(c.jwks);
	cJSON_Delete(jwk);
	cJSON_Delete(set);
	return rc;
}

/* One jose_sign of BENCH_CLAIMS; returns 0, or -1. */
static int
bench_sign(EVP_PKEY *pkey, enum jose_alg alg)
{
	struct buf jws = {0};
	int rc;

	rc = jose_sign(pkey, alg, "bench-kid", "at+jwt", BENCH_CLAIMS,
	    strlen(BENCH_CLAIMS), &jws);
	buf_free(&jws);
	return rc;
}

/* One request of mode m; returns 0 when it answered as it should. */
static int
bench_once(const struct handler_env *env, enum bench_mode m,
    const char *body, EVP_PKEY *pkey)
{
	switch (m) {
	case BENCH_TOKEN:
		return bench_request(env, "/token", body, NULL, BENCH_AUTH,
		    NULL, NULL, NULL) == 200 ? 0 : -1;
	case BENCH_TOKEN_JWT:
		return bench_request(env, "/token", body, NULL,
		    BENCH_AUTH_JWT, NULL, NULL, NULL) == 200 ? 0 : -1;
	case BENCH_TOKEN_DPOP:
		return bench_request(env, "/token", body, NULL, BENCH_AUTH,
		    NULL, NULL, NULL) == 200 ? 0 : -1;
	case BENCH_TOKEN_PKJWT:
		return bench_request(env, "/token", bench_assertion, NULL,
		    NULL, NULL, NULL, NULL) == 200 ? 0 : -1;
	case BENCH_INTROSPECT:
		return bench_request(env, "/introspect", body, NULL,
		    BENCH_AUTH, NULL, NULL, NULL) == 200 ? 0 : -1;
	case BENCH_CODE:
		return bench_code(env, "read", 0);
	case BENCH_CODE_OPENID:
		return bench_code(env, "openid%20read", 1);
	case BENCH_SIGN_RS256:
		return bench_sign(pkey, JOSE_ALG_RS256);
	case BENCH_SIGN_ES256:
		return bench_sign(pkey, JOSE_ALG_ES256);
	case BENCH_SIGN_EDDSA:
		return bench_sign(pkey, JOSE_ALG_EDDSA);
	case BENCH__MAX:
		break;
	}
	return -1;
}

/*
 * The measured loop: count requests of mode m.  Kept out of line so that
 * callgrind counts it alone (--toggle-collect=bench_loop), without the
 * set-up, whose key generation costs a random number of instructions.
 * Returns 0, or -1 after saying which request failed.
 */
__attribute__((noinline)) static int
bench_loop(const struct handler_env *env, enum bench_mode m, const char *body,
    EVP_PKEY *pkey, char **proofs, long long count)
{
	long long i;

	for (i = 0; i < count; i++) {
		if (proofs != NULL && m == BENCH_TOKEN_PKJWT)
			bench_assertion = proofs[i];
		else if (proofs != NULL)
			bench_dpop = proofs[i];
		if (bench_once(env, m, body, pkey) == -1) {
			fprintf(stderr, "bench_handlers: request %lld failed\n",
			    i);
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static const enum jose_alg sign_alg[BENCH__MAX] = {
		[BENCH_SIGN_ES256] = JOSE_ALG_ES256,
		[BENCH_SIGN_EDDSA] = JOSE_ALG_EDDSA,
	};
	struct config cfg;
	char err[256];
	struct store *store;
	struct handler_env env;
	struct buf first = {0}, body = {0};
	struct timespec t0, t1;
	EVP_PKEY *rsa = NULL, *pkey = NULL, *holder = NULL;
	char **proofs = NULL;
	enum bench_mode m;
	long long count;
	cJSON *o;
	double secs;

	for (m = 0; m < BENCH__MAX && argc == 4; m++)
		if (strcmp(argv[2], bench_modes[m]) == 0)
			break;
	if (argc != 4 || m == BENCH__MAX ||
	    config_parse_number(argv[3], 1, BENCH_COUNT_MAX, &count) == -1) {
		fprintf(stderr, "usage: bench_handlers DBDIR token|token-jwt|"
				"token-dpop|token-pkjwt|introspect|code|"
				"code-openid|sign-RS256|sign-ES256|sign-EdDSA "
				"COUNT\n");
		return 2;
	}
	/* What the assertions name as their aud (private_key_jwt). */
	if (setenv("OAUTH_ISSUER", BENCH_ISSUER, 0) == -1 ||
	    setenv("OAUTH_DB", argv[1], 1) == -1 ||
	    config_load(&cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_handlers: %s\n", err);
		return 1;
	}
	if (jose_init(1) == -1 ||
	    store_open(argv[1], cfg.map_size,
		STORE_OPEN_CREATE | store_open_sync_flags(cfg.db_sync),
		&store, NULL, 0) != STORE_OK ||
	    bench_client(store, "bench", CLIENT_TOKEN_OPAQUE) == -1 ||
	    bench_client(store, "benchjwt", CLIENT_TOKEN_JWT) == -1 ||
	    bench_key(store, JOSE_ALG_RS256, &rsa) == -1 ||
	    (m >= BENCH_SIGN_ES256 &&
		bench_key(NULL, sign_alg[m], &pkey) == -1)) {
		fprintf(stderr, "bench_handlers: cannot set up %s\n", argv[1]);
		return 1;
	}
	if (pkey == NULL)
		pkey = rsa;
	memset(&env, 0, sizeof(env));
	env.config = &cfg;
	env.store = store;
	env.now = bench_now;
	env.random = bench_random;
	env.ctx = NULL;
	env.secret_cache = secret_cache_new();
	env.signing = signing_cache_new();

	/* A first request outside the measure: caches filled, pages read. */
	if (bench_request(&env, "/token", "grant_type=client_credentials",
		NULL, BENCH_AUTH, NULL, &first, NULL) != 200)
		return 1;
	(void)buf_puts(&body, "grant_type=client_credentials");
	if (m == BENCH_INTROSPECT) {
		o = cJSON_Parse(first.data);
		buf_free(&body);
		(void)buf_printf(&body, "token=%s",
		    cJSON_GetStringValue(cJSON_GetObjectItem(o,
			"access_token")));
		cJSON_Delete(o);
	}
	/* The client's proofs, one for the first request and one each. */
	if ((m == BENCH_TOKEN_DPOP || m == BENCH_TOKEN_PKJWT) &&
	    (count >= BENCH_DPOP_MAX ||
		bench_key(NULL, JOSE_ALG_ES256, &holder) == -1 ||
		(m == BENCH_TOKEN_PKJWT &&
		    bench_jwks_client(store, holder) == -1) ||
		(proofs = bench_proofs(holder, count + 1,
		    m == BENCH_TOKEN_PKJWT)) == NULL)) {
		fprintf(stderr, "bench_handlers: no proofs (at most %lld)\n",
		    BENCH_DPOP_MAX - 1);
		return 1;
	}
	if (m == BENCH_TOKEN_PKJWT)
		bench_assertion = proofs[count];
	else
		bench_dpop = proofs != NULL ? proofs[count] : NULL;
	if (bench_once(&env, m, body.data, pkey) == -1) {
		fprintf(stderr, "bench_handlers: the first %s failed\n",
		    bench_modes[m]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (bench_loop(&env, m, body.data, pkey, proofs, count) == -1)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%s: %lld requests in %.3f s: %.0f requests/s, %.1f us each\n",
	    argv[2], count, secs, (double)count / secs, secs * 1e6 /
	    (double)count);
	for (count = 0; proofs != NULL && proofs[count] != NULL; count++)
		free(proofs[count]);
	free(proofs);
	jose_key_free(holder);
	if (pkey != rsa)
		jose_key_free(pkey);
	jose_key_free(rsa);
	signing_cache_free(env.signing);
	secret_cache_free(env.secret_cache);
	buf_free(&first);
	buf_free(&body);
	store_close(store);
	config_free(&cfg);
	return 0;
}
