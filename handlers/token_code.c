/*
 * The authorization_code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.6).
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define PKCE_VERIFIER_MIN 43	/* RFC 7636 §4.1 */
#define PKCE_VERIFIER_MAX 128
#define PKCE_S256_LEN 43	/* base64url of a SHA-256, no padding (§4.2) */

/*
 * 1 when verifier is a well-formed code_verifier (RFC 7636 §4.1: 43 to 128
 * unreserved characters) whose S256 transform is challenge (§4.6).  The
 * comparison takes the same time whichever byte differs.
 */
static int
token_code_verifier_matches(const char *verifier, const char *challenge)
{
	unsigned char digest[TOKEN_HASH_LEN];
	char computed[PKCE_S256_LEN + 1];
	size_t i, len = strlen(verifier);

	if (len < PKCE_VERIFIER_MIN || len > PKCE_VERIFIER_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((verifier[i] >= 'A' && verifier[i] <= 'Z') ||
			(verifier[i] >= 'a' && verifier[i] <= 'z') ||
			(verifier[i] >= '0' && verifier[i] <= '9') ||
			strchr("-._~", verifier[i]) != NULL))
			return 0;
	if (crypto_sha256(verifier, len, digest) == -1 ||
	    b64url_encode(digest, sizeof(digest), computed,
		sizeof(computed)) != PKCE_S256_LEN ||
	    strlen(challenge) != PKCE_S256_LEN)
		return 0;
	return crypto_equal(computed, challenge, PKCE_S256_LEN);
}

/*
 * 1 when the redirect_uri sent to the token endpoint fits the code: the
 * same string when /authorize had one (RFC 6749 §4.1.3), else absent or
 * one the client registered.
 */
static int
token_code_redirect_matches(const struct token *code,
    const struct client *client, const char *sent)
{
	size_t i;

	if (code->redirect_uri != NULL)
		return sent != NULL && strcmp(sent, code->redirect_uri) == 0;
	if (sent == NULL)
		return 1;
	for (i = 0; i < client->redirect_uri_count; i++)
		if (strcmp(sent, client->redirect_uris[i]) == 0)
			return 1;
	return 0;
}

/*
 * Redeems a code once: bound to its client, redirect URI and PKCE
 * challenge, and not expired.  A code presented again revokes its grant
 * and every token issued from it.  The tokens carry the code's scope and
 * resource owner.
 */
enum oauth_error
token_grant_authorization_code(const struct handler_env *env,
    struct store_txn *txn, const struct params *params,
    const struct client *client, struct token_issue *out, const char **why)
{
	const char *verifier = params_get(params, "code_verifier");
	unsigned char key[TOKEN_HASH_LEN];
	struct token code;
	struct grant grant;
	enum oauth_error err;

	memset(&grant, 0, sizeof(grant));
	err = token_take(env, txn, params, TOKEN_CODE, client, key, &code, out,
	    why);
	if (err != OAUTH_OK)
		goto out;
	/* RFC 9449 §10.1: token_take saw that a dpop_jkt code has its key. */
	err = OAUTH_INVALID_GRANT;
	if (!token_code_redirect_matches(&code, client,
		params_get(params, "redirect_uri"))) {
		*why = "redirect_uri does not match the authorization request";
		goto out;
	}
	if (code.code_challenge != NULL
		? verifier == NULL ||
		    !token_code_verifier_matches(verifier, code.code_challenge)
		: verifier != NULL) {
		*why = "code_verifier does not match the code_challenge";
		goto out;
	}
	/* RFC 8707 §2.2: the resource authorized, or nothing else. */
	if ((err = resource_within(params, code.audience, why)) != OAUTH_OK)
		goto out;
	if ((err = token_spend(txn, key, &code, &grant, why)) != OAUTH_OK)
		goto out;
	out->nonce = code.nonce;
	out->audience = code.audience;
	if ((out->scope = strdup(code.scope != NULL ? code.scope : "")) ==
	    NULL) {
		*why = "out of memory";
		err = OAUTH_SERVER_ERROR;
		goto out;
	}
	err = token_issue_grant(env, txn, client, &grant, out->scope,
	    out->scope, out, why);
	out->nonce = NULL;
	out->audience = NULL;
out:
	token_free(&code);
	grant_free(&grant);
	crypto_wipe(key, sizeof(key));
	return err;
}
