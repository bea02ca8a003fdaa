/*
 * DPoP (RFC 9449): the proof a request carries in its DPoP header, checked
 * as §4.3 says, and its jti spent once across every process and machine
 * sharing the database (§11.1).  The signature is verified before any
 * transaction begins (dpop_check: no slow work under the writers' lock);
 * the jti is spent inside the request's write transaction (dpop_spend),
 * so that of two requests with one proof, one commits and the other fails.
 */
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "handlers.h"

#define DPOP_TYP "dpop+jwt"	/* RFC 9449 §4.2 */

/* The nonce is base64url of a period (8 bytes) and the tag, unpadded. */
_Static_assert(DPOP_NONCE_LEN == ((8 + DPOP_NONCE_TAG) * 4 + 2) / 3,
    "DPOP_NONCE_LEN is the length of a nonce");
#define DPOP_CLAIMS_DEPTH 4	/* nesting a proof's claims may have */
/* What a proof's URL may be: as long as a redirect URI. */
#define DPOP_HTU_MAX REDIRECT_URI_MAX
/* The domain of the hash a jti is remembered by (store_seen_put). */
#define DPOP_REPLAY_DOMAIN "fcgi-oauth DPoP jti"

/*
 * Whether every byte of the len at s may stand in a compact JWS: the
 * base64url alphabet and '.'.  Two DPoP headers joined by the web server
 * (", ") are not one proof (§4.3 check 1), nor is anything padded.
 */
static int
dpop_compact_chars(const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

/*
 * Appends to out the len bytes of the URL at url as RFC 9449 §4.3 check 9
 * compares them (RFC 3986 §6.2.2, §6.2.3): scheme and host in lower case,
 * the scheme's default port dropped, an empty path as "/", and the query
 * and fragment left out.  Only absolute http and https URLs without user
 * information pass.  Returns 0, or -1.
 */
static int
dpop_url_normal(const char *url, size_t len, struct buf *out)
{
	const char *p, *end = url + len, *host, *path;
	size_t i, scheme_len, host_len;
	int https;

	if ((p = memchr(url, ':', len)) == NULL)
		return -1;
	scheme_len = (size_t)(p - url);
	if (scheme_len == 5 && strncasecmp(url, "https", 5) == 0)
		https = 1;
	else if (scheme_len == 4 && strncasecmp(url, "http", 4) == 0)
		https = 0;
	else
		return -1;
	if (end - p < 3 || p[1] != '/' || p[2] != '/')
		return -1;
	host = p + 3;
	for (path = host; path < end && *path != '/' && *path != '?' &&
	    *path != '#'; path++)
		if (*path == '@')
			return -1;
	host_len = (size_t)(path - host);
	/* The default port, or an empty one (§6.2.3), says nothing. */
	if (host_len >= 4 && https && memcmp(path - 4, ":443", 4) == 0)
		host_len -= 4;
	else if (host_len >= 3 && !https && memcmp(path - 3, ":80", 3) == 0)
		host_len -= 3;
	else if (host_len >= 1 && host[host_len - 1] == ':')
		host_len--;
	if (host_len == 0)
		return -1;
	if (buf_puts(out, https ? "https://" : "http://") == -1)
		return -1;
	for (i = 0; i < host_len; i++) {
		char c = host[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (buf_append(out, &c, 1) == -1)
			return -1;
	}
	for (p = path; p < end && *p != '?' && *p != '#'; p++)
		;
	if (p == path)
		return buf_puts(out, "/");
	return buf_append(out, path, (size_t)(p - path));
}

/*
 * Whether the proof's htu names this endpoint as metadata advertises it:
 * the issuer, without a trailing "/", then PATH_INFO.  With OAUTH_ISSUER
 * set that is the configured URL, whatever Host the request came with, so
 * a proof made for another server does not pass here; without it the
 * issuer is derived from the request's Host (handler_issuer), which the
 * sender chooses: deployments set OAUTH_ISSUER.
 */
static int
dpop_htu_matches(const char *htu, const char *issuer, const char *path)
{
	struct buf want = {0}, got = {0}, url = {0};
	size_t ilen;
	int ok = 0;

	if (issuer == NULL || path == NULL)
		return 0;
	ilen = strlen(issuer);
	if (ilen > 0 && issuer[ilen - 1] == '/')
		ilen--;
	if (buf_append(&url, issuer, ilen) == 0 && buf_puts(&url, path) == 0 &&
	    dpop_url_normal(url.data, url.len, &want) == 0 &&
	    dpop_url_normal(htu, strlen(htu), &got) == 0)
		ok = want.len == got.len &&
		    memcmp(want.data, got.data, want.len) == 0;
	buf_free(&url);
	buf_free(&want);
	buf_free(&got);
	return ok;
}

/* The string claim name of claims, or NULL when missing or not a string. */
static const char *
dpop_claim(const cJSON *claims, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * Whether ath, the proof's access token hash, is the base64url SHA-256 of
 * the len bytes of token (RFC 9449 §4.2, §4.3 check 12), compared in
 * constant time.
 */
static int
dpop_ath_matches(const char *ath, const char *token, size_t len)
{
	unsigned char digest[TOKEN_HASH_LEN];
	char want[JOSE_THUMBPRINT_LEN + 1];

	if (ath == NULL || strlen(ath) != JOSE_THUMBPRINT_LEN ||
	    crypto_sha256(token, len, digest) == -1 ||
	    b64url_encode(digest, sizeof(digest), want, sizeof(want)) !=
	    JOSE_THUMBPRINT_LEN)
		return 0;
	return crypto_equal(want, ath, JOSE_THUMBPRINT_LEN);
}

/*
 * Checks the claims of a proof whose signature has been verified (§4.3
 * checks 3, 8, 9, 11, 12) and fills out's iat and replay key.  Returns
 * NULL, or what is wrong.
 */
static const char *
dpop_claims_check(const struct handler_env *env, const struct request *req,
    const char *issuer, const cJSON *claims, const char *token,
    size_t token_len, struct dpop_proof *out)
{
	const cJSON *iat = cJSON_GetObjectItemCaseSensitive(claims, "iat");
	const char *jti = dpop_claim(claims, "jti");
	const char *htm = dpop_claim(claims, "htm");
	const char *htu = dpop_claim(claims, "htu");
	const char *nonce;
	int64_t now = env->now(env->ctx);
	unsigned char seen[sizeof(DPOP_REPLAY_DOMAIN) + TOKEN_HASH_LEN +
	    DPOP_JTI_MAX];
	size_t jti_len;

	if (jti == NULL || (jti_len = strlen(jti)) == 0 ||
	    jti_len > DPOP_JTI_MAX)
		return "the DPoP proof has no usable jti";
	if (htm == NULL || req->method == NULL || strcmp(htm, req->method) != 0)
		return "the DPoP proof's htm is not this request's method";
	if (htu == NULL || strlen(htu) > DPOP_HTU_MAX ||
	    !dpop_htu_matches(htu, issuer, req->path))
		return "the DPoP proof's htu is not this endpoint's URL";
	/* An integer number of seconds within the window; NaN fails both. */
	if (!cJSON_IsNumber(iat) ||
	    !(iat->valuedouble >= (double)(now - DPOP_IAT_PAST) &&
	    iat->valuedouble <= (double)(now + DPOP_IAT_FUTURE)) ||
	    (double)(int64_t)iat->valuedouble != iat->valuedouble)
		return "the DPoP proof's iat is missing or not recent";
	out->iat = (int64_t)iat->valuedouble;
	/* Ours or not is for dpop_nonce_check, when nonces are on. */
	if ((nonce = dpop_claim(claims, "nonce")) != NULL &&
	    strlen(nonce) == DPOP_NONCE_LEN)
		memcpy(out->nonce, nonce, DPOP_NONCE_LEN + 1);
	if (token != NULL &&
	    !dpop_ath_matches(dpop_claim(claims, "ath"), token, token_len))
		return "the DPoP proof's ath is not the access token's hash";
	/*
	 * The jti is remembered with the key that signed it: another key's
	 * proof cannot spend it first, and the hash is of a fixed size.
	 */
	memcpy(seen, DPOP_REPLAY_DOMAIN, sizeof(DPOP_REPLAY_DOMAIN));
	memcpy(seen + sizeof(DPOP_REPLAY_DOMAIN), out->jkt, sizeof(out->jkt));
	memcpy(seen + sizeof(DPOP_REPLAY_DOMAIN) + sizeof(out->jkt), jti,
	    jti_len);
	if (crypto_sha256(seen, sizeof(DPOP_REPLAY_DOMAIN) + sizeof(out->jkt) +
	    jti_len, out->replay) == -1)
		return "the DPoP proof could not be checked";
	return NULL;
}

/*
 * Checks the DPoP proof of req, if it has one, as RFC 9449 §4.3 says: one
 * compact JWS of at most JOSE_JWS_MAX bytes; its header's typ dpop+jwt,
 * an asymmetric alg of ours and a public jwk that verifies the signature
 * (jose_verify_embedded); its claims jti, htm (this method), htu (this
 * endpoint's URL under issuer), iat (DPOP_IAT_PAST seconds old at most,
 * DPOP_IAT_FUTURE ahead) and, when token is not NULL (the token_len bytes
 * of the access token the request presents), ath.  The jti is not spent
 * here: dpop_spend does that in the request's transaction.  Without a
 * header, returns OAUTH_OK with out->present 0.  Returns OAUTH_OK with
 * *out filled, OAUTH_INVALID_DPOP_PROOF with *why saying what is wrong, or
 * OAUTH_SERVER_ERROR.  Nothing of the proof is ever in *why.
 */
enum oauth_error
dpop_check(const struct handler_env *env, const struct request *req,
    const char *issuer, const char *token, size_t token_len,
    struct dpop_proof *out, const char **why)
{
	struct buf payload = {0};
	cJSON *header = NULL, *claims = NULL;
	const char *typ;
	size_t len, n = 0;
	enum jose_alg alg;
	enum oauth_error err = OAUTH_INVALID_DPOP_PROOF;
	int rc;

	memset(out, 0, sizeof(*out));
	if (req->dpop == NULL)
		return OAUTH_OK;
	len = strlen(req->dpop);
	*why = "the DPoP header is not one compact JWS";
	if (len == 0 || len > JOSE_JWS_MAX ||
	    !dpop_compact_chars(req->dpop, len))
		return err;
	*why = "the DPoP proof's algorithm, key or signature is not valid";
	if ((rc = jose_verify_embedded(req->dpop, len, &header, &payload, &alg,
	    out->jkt_text)) != 0) {
		if (rc == JOSE_UNAVAILABLE) {
			*why = "the server cannot check DPoP proofs now";
			err = OAUTH_SERVER_ERROR;
		}
		goto out;
	}
	typ = dpop_claim(header, "typ");
	*why = "the DPoP proof's typ is not dpop+jwt";
	if (typ == NULL || strcasecmp(typ, DPOP_TYP) != 0)
		goto out;
	*why = "the DPoP proof's claims are not a JSON object";
	if (json_parse_object(payload.data, payload.len, DPOP_CLAIMS_DEPTH,
	    &claims) == -1)
		goto out;
	*why = "the DPoP proof could not be checked";
	if (jose_b64url_decode(out->jkt_text, strlen(out->jkt_text), out->jkt,
	    sizeof(out->jkt), &n) == -1 || n != sizeof(out->jkt)) {
		err = OAUTH_SERVER_ERROR;
		goto out;
	}
	if ((*why = dpop_claims_check(env, req, issuer, claims, token,
	    token_len, out)) != NULL)
		goto out;
	(void)alg;
	out->present = 1;
	err = OAUTH_OK;
out:
	if (err != OAUTH_OK)
		memset(out, 0, sizeof(*out));
	cJSON_Delete(claims);
	cJSON_Delete(header);
	buf_free(&payload);
	return err;
}

/*
 * Spends the jti of the checked proof p in txn, a write transaction
 * (store_seen_put), remembered until the proof's iat has left the window:
 * a proof seen before, in any process, is OAUTH_INVALID_DPOP_PROOF.  No
 * proof: OAUTH_OK.  Returns OAUTH_OK, that, or the error of a storage
 * failure, with *why set.
 */
enum oauth_error
dpop_spend(const struct handler_env *env, struct store_txn *txn,
    const struct dpop_proof *p, const char **why)
{
	enum store_status st;

	if (!p->present)
		return OAUTH_OK;
	/*
	 * Past the window by the skew allowed ahead too: a machine whose
	 * clock runs that far ahead must not sweep it while another's would
	 * still take the proof.
	 */
	st = store_seen_put(txn, p->replay, env->now(env->ctx),
	    p->iat + DPOP_IAT_PAST + DPOP_IAT_FUTURE + 1);
	if (st == STORE_EXISTS) {
		*why = "the DPoP proof was used before";
		return OAUTH_INVALID_DPOP_PROOF;
	}
	if (st != STORE_OK) {
		*why = "the database failed";
		return oauth_error_from_store(st);
	}
	return OAUTH_OK;
}

/*
 * The nonce of the period that holds t, into out (DPOP_NONCE_LEN
 * characters): base64url of the period's number (t / DPOP_NONCE_PERIOD,
 * eight bytes big-endian) and the first DPOP_NONCE_TAG bytes of its
 * HMAC-SHA256 under key.  Stateless: every process and machine with the
 * database's key makes the same, and none need remember one.
 */
static void
dpop_nonce_make(const unsigned char key[TOKEN_HASH_LEN], int64_t t,
    char out[DPOP_NONCE_LEN + 1])
{
	unsigned char raw[8 + DPOP_NONCE_TAG], mac[TOKEN_HASH_LEN];
	uint64_t period = (uint64_t)(t / DPOP_NONCE_PERIOD);
	size_t i;

	for (i = 0; i < 8; i++)
		raw[i] = (unsigned char)(period >> (56 - 8 * i));
	crypto_hmac_sha256(key, TOKEN_HASH_LEN, raw, 8, mac);
	memcpy(raw + 8, mac, DPOP_NONCE_TAG);
	(void)b64url_encode(raw, sizeof(raw), out, DPOP_NONCE_LEN + 1);
}

/*
 * RFC 9449 §8, when OAUTH_DPOP_NONCE is on and the request carries the
 * checked proof p: writes the nonce a client must put in its next proofs
 * to current, and checks p's: the nonce of this period or the one before
 * (so that one lives DPOP_NONCE_PERIOD to twice that), compared in
 * constant time.  Off, or without a proof, current is "" and nothing is
 * read or checked.
 * Returns OAUTH_OK; OAUTH_USE_DPOP_NONCE when the proof has no nonce of
 * ours (answered with current in DPoP-Nonce); or the error of a failure
 * to derive the key (signing_secret), with *why set.
 */
enum oauth_error
dpop_nonce_check(const struct handler_env *env, struct store_txn *txn,
    const struct dpop_proof *p, char current[DPOP_NONCE_LEN + 1],
    const char **why)
{
	unsigned char key[TOKEN_HASH_LEN];
	char before[DPOP_NONCE_LEN + 1];
	int64_t now = env->now(env->ctx);
	enum oauth_error err;
	int ok;

	current[0] = '\0';
	/* Nothing to do for a request without a proof, not even a read. */
	if (!env->config->dpop_nonce || !p->present)
		return OAUTH_OK;
	if ((err = signing_secret(env, txn, env->config->signing_alg, key,
	    why)) != OAUTH_OK)
		return err;
	dpop_nonce_make(key, now, current);
	dpop_nonce_make(key, now - DPOP_NONCE_PERIOD, before);
	crypto_wipe(key, sizeof(key));
	ok = (crypto_equal(p->nonce, current, DPOP_NONCE_LEN) |
	    crypto_equal(p->nonce, before, DPOP_NONCE_LEN)) &&
	    p->nonce[0] != '\0';
	if (ok)
		return OAUTH_OK;
	*why = "the DPoP proof must carry the nonce of the DPoP-Nonce header";
	return OAUTH_USE_DPOP_NONCE;
}

/*
 * Whether tok may be used by the holder of the checked proof p: an
 * unbound token by anyone, a DPoP-bound one only with a proof by its key.
 */
int
dpop_binding_holds(const struct token *tok, const struct dpop_proof *p)
{
	switch (tok->bind) {
	case TOKEN_BIND_NONE:
		return 1;
	case TOKEN_BIND_DPOP:
		return p->present && crypto_equal(tok->bind_thumbprint, p->jkt,
		    sizeof(p->jkt));
	case TOKEN_BIND_MTLS:
		/* A certificate's binding is tls_binding_holds's to check. */
		return 1;
	case TOKEN_BIND__MAX:
		break;
	}
	return 0;
}

/* Binds the token record t to the key of the checked proof p, if any. */
void
dpop_bind(struct token *t, const struct dpop_proof *p)
{
	if (!p->present)
		return;
	t->bind = TOKEN_BIND_DPOP;
	memcpy(t->bind_thumbprint, p->jkt, sizeof(t->bind_thumbprint));
}
