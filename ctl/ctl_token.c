/*
 * The token commands: "token revoke" and "purge".  A token
 * is only ever handled as the SHA-256 it is stored under; its string is
 * wiped as soon as it has been hashed and never printed.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* What "token revoke" revokes, and what it found. */
struct ctl_token_revoke {
	unsigned char hash[TOKEN_HASH_LEN];
	struct token tok;	/* read in the transaction; token_free */
	int was_revoked;
};

static const char *ctl_token_kind_name(enum token_kind);
static enum ctl_exit ctl_token_revoke_txn(const struct ctl *,
    struct store_txn *, void *);

/* What to call a token of kind k in a message. */
static const char *
ctl_token_kind_name(enum token_kind k)
{
	switch (k) {
	case TOKEN_ACCESS:
		return "access token";
	case TOKEN_REFRESH:
		return "refresh token";
	case TOKEN_CODE:
		return "authorization code";
	case TOKEN_KIND__MAX:
		break;
	}
	return "token";
}

/* The transaction of "token revoke": arg is a struct ctl_token_revoke. */
static enum ctl_exit
ctl_token_revoke_txn(const struct ctl *ctl, struct store_txn *txn, void *arg)
{
	struct ctl_token_revoke *r = arg;
	enum store_status st;

	if ((st = store_token_get(txn, r->hash, &r->tok)) == STORE_NOTFOUND)
		return ctl_fail(ctl, "no such token");
	if (st != STORE_OK)
		return ctl_store_fail(ctl, "read the token", st);
	r->was_revoked = r->tok.state == TOKEN_STATE_REVOKED;
	/* Again even when already revoked: it also ends a refresh grant. */
	if ((st = store_token_revoke(txn, r->hash, &r->tok)) != STORE_OK)
		return ctl_store_fail(ctl, "revoke", st);
	return CTL_EXIT_OK;
}

/*
 * Revokes the token given as the operand, or read from standard input for
 * "-".  Revoking a refresh token takes its grant down with it
 * (store_token_revoke).  Returns CTL_EXIT_FAIL with "no such token" for a
 * token the database does not know; the token is never echoed.
 */
enum ctl_exit
ctl_cmd_token_revoke(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_token_revoke r;
	struct ctl_line l;
	enum ctl_exit rv;
	char buf[TOKEN_PRESENTED_MAX + 1];
	size_t len;

	/* One token in 64 begins with '-' (base64url): not an option. */
	if ((rv = ctl_args_line(ctl, argc, argv, CTL_LINE_DASH, "TOKEN",
	    &l)) != CTL_EXIT_OK || l.helped)
		return rv;
	if (strcmp(l.operand, "-") == 0) {
		if ((rv = ctl_read_line(ctl, "the token", buf, sizeof(buf),
		    &len)) != CTL_EXIT_OK)
			return rv;
	} else if ((len = strlen(l.operand)) == 0 || len > TOKEN_PRESENTED_MAX)
		return ctl_usage_error(ctl, "a token is 1 to "
		    CTL_STR(TOKEN_PRESENTED_MAX) " bytes");
	else
		memcpy(buf, l.operand, len + 1);
	memset(&r, 0, sizeof(r));
	if (token_string_key(buf, len, r.hash) == -1) {
		crypto_wipe(buf, sizeof(buf));
		return ctl_fail(ctl, "cannot hash the token");
	}
	crypto_wipe(buf, sizeof(buf));

	if ((rv = ctl_txn(ctl, 1, ctl_token_revoke_txn, &r)) == CTL_EXIT_OK)
		printf("%s %s of client %s\n", r.was_revoked ?
		    "already revoked:" : "revoked",
		    ctl_token_kind_name(r.tok.kind), r.tok.client_id);
	token_free(&r.tok);
	return rv;
}

/*
 * Deletes every token and code whose expiry has passed, every expired
 * grant, and the spent DPoP proofs whose window has passed, in short
 * transactions (store_purge), and prints how many of each.
 * Revoked records stay until they expire, spent codes and rotated refresh
 * tokens until their grant ends: presenting one again must still be seen
 * as a replay (RFC 6749 §4.1.2, RFC 9700 §4.14.2).  A full database is
 * purged too: the map then grows as much as the purge needs, which is
 * said on standard error.
 */
enum ctl_exit
ctl_cmd_purge(struct ctl *ctl, int argc, char **argv)
{
	struct store_purged p;
	struct ctl_line l;
	enum store_status st;
	enum ctl_exit rv;

	if ((rv = ctl_args_line(ctl, argc, argv, 0, NULL, &l)) != CTL_EXIT_OK ||
	    l.helped)
		return rv;
	if ((rv = ctl_open(ctl, 0)) != CTL_EXIT_OK)
		return rv;
	st = store_purge(ctl->store, ctl->now, &p);
	if (p.grown > 0)
		fprintf(stderr, "oauthctl: purge: the database was full; its "
		    "map grew to %zu bytes (set OAUTH_MAP_SIZE at least that "
		    "large for every process)\n", store_map_size(ctl->store));
	if (st != STORE_OK) {
		if (p.tokens + p.codes + p.grants > 0)
			fprintf(stderr, "oauthctl: purge: %zu tokens, %zu codes, "
			    "%zu grants purged before the failure\n", p.tokens,
			    p.codes, p.grants);
		return ctl_store_fail(ctl, "purge", st);
	}
	printf("purged %zu tokens, %zu codes, %zu grants, %zu spent proofs\n",
	    p.tokens, p.codes, p.grants, p.seen);
	return CTL_EXIT_OK;
}
