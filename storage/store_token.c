/*
 * What a token's state means: whether it is still good, and how revoking it
 * reaches the rest of its grant.  Backend-neutral: only the store_*
 * interface is used here.
 */
#include <stdint.h>

#include "store.h"

/*
 * Whether tok is usable at time now: active, not expired, and, when it
 * belongs to a grant, that grant still exists and is not revoked.  Any
 * failure to read the grant counts as inactive, so an error never makes a
 * token good.  Returns 1 or 0.
 */
int
store_token_is_active(struct store_txn *t, const struct token *tok,
    int64_t now)
{
	struct grant g;
	int active;

	if (tok == NULL || tok->state != TOKEN_STATE_ACTIVE ||
	    tok->expires_at <= now)
		return 0;
	if (!tok->has_grant)
		return 1;
	if (store_grant_get(t, tok->grant_id, &g) != STORE_OK)
		return 0;
	active = !g.revoked;
	grant_free(&g);
	return active;
}

/*
 * The jti of tok, stored under key, as JTI_LEN hex digits: the one drawn
 * when it was minted, or for a record written before jtis were kept, the
 * first TOKEN_JTI_RAW_LEN bytes of its key, as it was always reported.
 */
void
store_token_jti(const struct token *tok, const unsigned char key[TOKEN_HASH_LEN],
    char out[JTI_LEN + 1])
{
	token_string_jti(tok->has_jti ? tok->jti : key, out);
}

/*
 * Whether purge may delete tok at time now: it has expired, and it is not
 * a spent code or a rotated refresh token whose grant still lives.  Those
 * are kept until the grant ends, so that presenting one again is still
 * recognised as a replay and ends the grant (RFC 6749 §4.1.2, RFC 9700
 * §4.14.2); a revoked grant needs no more detection.  A grant that cannot
 * be read counts as living, so an error never deletes what detection
 * needs.  Returns 1 or 0.
 */
int
store_token_purgeable(struct store_txn *t, const struct token *tok,
    int64_t now)
{
	struct grant g;
	enum store_status st;
	int lives;

	if (tok->expires_at > now)
		return 0;
	if (tok->state != TOKEN_STATE_USED || !tok->has_grant)
		return 1;
	if ((st = store_grant_get(t, tok->grant_id, &g)) == STORE_NOTFOUND)
		return 1;
	if (st != STORE_OK)
		return 0;
	lives = !g.revoked && g.expires_at > now;
	grant_free(&g);
	return !lives;
}

/*
 * Marks tok, stored under hash, revoked and writes it back; tok is changed
 * in place.  A refresh token also takes its grant down, and with it every
 * access token of the grant (RFC 7009 §2.1); a grant already gone is no
 * failure, since its tokens are inactive anyway.  Returns the status of
 * the first failed write (STORE_FULL, STORE_INVALID, ...), after which the
 * caller must abort.
 */
enum store_status
store_token_revoke(struct store_txn *t,
    const unsigned char hash[TOKEN_HASH_LEN], struct token *tok)
{
	enum store_status st;

	tok->state = TOKEN_STATE_REVOKED;
	if ((st = store_token_put(t, hash, tok)) != STORE_OK)
		return st;
	if (tok->kind != TOKEN_REFRESH || !tok->has_grant)
		return STORE_OK;
	st = store_grant_revoke(t, tok->grant_id);
	return st == STORE_NOTFOUND ? STORE_OK : st;
}

/*
 * Marks the grant revoked, which makes every token carrying its id
 * inactive.  A grant already revoked is left as it is.  Returns
 * STORE_NOTFOUND for an unknown grant, STORE_CORRUPT, or the failure of
 * the write (after which the caller must abort).
 */
enum store_status
store_grant_revoke(struct store_txn *t, const unsigned char id[GRANT_ID_LEN])
{
	struct grant g;
	enum store_status st;

	if ((st = store_grant_get(t, id, &g)) != STORE_OK)
		return st;
	if (!g.revoked) {
		g.revoked = 1;
		st = store_grant_put(t, &g);
	}
	grant_free(&g);
	return st;
}
