/*
 * The one home of a token's string form: how an opaque token, refresh
 * token or code is minted (TOKEN_RANDOM_LEN random bytes, base64url), how
 * any presented string, opaque or a signed JWT, becomes the key it is
 * stored under (its SHA-256: the string itself is never stored), and how
 * a jti is written.
 */
#include <string.h>

#include "common.h"

/*
 * The storage key of the len bytes of presented: their SHA-256, whatever
 * the token's format.  Returns 0, or -1 when presented is empty or longer
 * than TOKEN_PRESENTED_MAX, which no token of ours is, or hashing fails.
 */
int
token_string_key(const char *presented, size_t len,
    unsigned char key[TOKEN_HASH_LEN])
{
	if (len == 0 || len > TOKEN_PRESENTED_MAX)
		return -1;
	return crypto_sha256(presented, len, key);
}

/*
 * Mints a new opaque string from random (TOKEN_RANDOM_LEN bytes, drawn
 * through the callback so that tests can pin it), writes it to out and
 * its storage key to key.  Returns 0, or -1 with out and key wiped when
 * randomness or hashing fails.
 */
int
token_string_mint(int (*random)(void *, unsigned char *, size_t), void *ctx,
    char out[TOKEN_STRING_LEN + 1], unsigned char key[TOKEN_HASH_LEN])
{
	unsigned char raw[TOKEN_RANDOM_LEN];
	int rc = -1;

	if (random(ctx, raw, sizeof(raw)) == 0 &&
	    b64url_encode(raw, sizeof(raw), out, TOKEN_STRING_LEN + 1) ==
		TOKEN_STRING_LEN &&
	    token_string_key(out, TOKEN_STRING_LEN, key) == 0)
		rc = 0;
	crypto_wipe(raw, sizeof(raw));
	if (rc == -1) {
		crypto_wipe(out, TOKEN_STRING_LEN + 1);
		crypto_wipe(key, TOKEN_HASH_LEN);
	}
	return rc;
}

/*
 * Draws a new jti (TOKEN_JTI_RAW_LEN random bytes) into raw.  It is kept
 * in the token's record, so that a signed token can carry it before its
 * string, and so its key, exists.  Returns 0 or -1.
 */
int
token_string_new_jti(int (*random)(void *, unsigned char *, size_t),
    void *ctx, unsigned char raw[TOKEN_JTI_RAW_LEN])
{
	return random(ctx, raw, TOKEN_JTI_RAW_LEN);
}

/* Writes the jti raw as JTI_LEN lower-case hex digits and a NUL. */
void
token_string_jti(const unsigned char raw[TOKEN_JTI_RAW_LEN],
    char out[JTI_LEN + 1])
{
	crypto_hex(raw, TOKEN_JTI_RAW_LEN, out);
}
