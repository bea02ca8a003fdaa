/*
 * The token commands: "token revoke" and "purge".  A token is only ever
 * handled as the SHA-256 it is stored under; its string is wiped as soon
 * as it has been hashed and never printed.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* What "purge" deleted. */
struct ctl_token_purge {
	int64_t now;
	size_t tokens;
	size_t codes;
	size_t grants;
};

static const char *ctl_token_kind_name(enum token_kind);
static enum store_each ctl_token_purge_one(const unsigned char *,
    const struct token *, void *);
static enum store_each ctl_token_purge_grant(const struct grant *, void *);

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

/*
 * Revokes the token given as the operand, or read from standard input for
 * "-".  Revoking a refresh token takes its grant down with it
 * (store_token_revoke).  Returns CTL_EXIT_FAIL with "no such token" for a
 * token the database does not know; the token is never echoed.
 */
enum ctl_exit
ctl_cmd_token_revoke(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	struct store_txn *txn;
	struct token tok;
	enum store_status st;
	enum ctl_exit rv;
	unsigned char hash[TOKEN_HASH_LEN];
	char buf[TOKEN_PRESENTED_MAX + 1];
	const char *operand = NULL;
	size_t len;
	char *v;
	int o, was_revoked;

	ctl_args_init(&a, ctl, NULL, 0, argc, argv);
	/* One token in 64 begins with '-' (base64url): not an option. */
	a.dash_operands = 1;
	while ((o = ctl_args_next(&a, &v)) != CTL_ARGS_END) {
		switch (o) {
		case CTL_ARGS_HELP:
			return ctl_help(ctl);
		case CTL_ARGS_OPERAND:
			if (ctl_args_operand(ctl, &operand, 1, v) !=
			    CTL_EXIT_OK)
				return CTL_EXIT_USAGE;
			break;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (operand == NULL)
		return ctl_usage_error(ctl, "missing TOKEN");

	if (strcmp(operand, "-") == 0) {
		if ((rv = ctl_read_line(ctl, "the token", buf, sizeof(buf),
		    &len)) != CTL_EXIT_OK)
			return rv;
	} else if ((len = strlen(operand)) == 0 || len > TOKEN_PRESENTED_MAX)
		return ctl_usage_error(ctl, "a token is 1 to "
		    CTL_STR(TOKEN_PRESENTED_MAX) " bytes");
	else
		memcpy(buf, operand, len + 1);
	if (crypto_sha256(buf, len, hash) == -1) {
		crypto_wipe(buf, sizeof(buf));
		return ctl_fail(ctl, "cannot hash the token");
	}
	crypto_wipe(buf, sizeof(buf));

	if ((rv = ctl_open(ctl, 0)) != CTL_EXIT_OK)
		return rv;
	if ((st = store_txn_begin(ctl->store, 1, &txn)) != STORE_OK)
		return ctl_store_fail(ctl, "begin", st);
	if ((st = store_token_get(txn, hash, &tok)) != STORE_OK) {
		store_txn_abort(txn);
		if (st == STORE_NOTFOUND)
			return ctl_fail(ctl, "no such token");
		return ctl_store_fail(ctl, "read the token", st);
	}
	was_revoked = tok.state == TOKEN_STATE_REVOKED;
	/* Again even when already revoked: it also ends a refresh grant. */
	if ((st = store_token_revoke(txn, hash, &tok)) != STORE_OK) {
		store_txn_abort(txn);
		rv = ctl_store_fail(ctl, "revoke", st);
		goto out;
	}
	if ((st = store_txn_commit(txn)) != STORE_OK) {
		rv = ctl_store_fail(ctl, "commit", st);
		goto out;
	}
	printf("%s %s of client %s\n", was_revoked ? "already revoked:" :
	    "revoked", ctl_token_kind_name(tok.kind), tok.client_id);
	rv = CTL_EXIT_OK;
out:
	token_free(&tok);
	return rv;
}

/* Deletes a token or code that has expired. */
static enum store_each
ctl_token_purge_one(const unsigned char *hash, const struct token *t,
    void *arg)
{
	struct ctl_token_purge *p = arg;

	(void)hash;
	if (t->expires_at > p->now)
		return STORE_EACH_NEXT;
	if (t->kind == TOKEN_CODE)
		p->codes++;
	else
		p->tokens++;
	return STORE_EACH_DELETE;
}

/*
 * Deletes a grant that has expired: its expiry is the latest of anything
 * issued under it, so nothing that still needs it is left behind.
 */
static enum store_each
ctl_token_purge_grant(const struct grant *g, void *arg)
{
	struct ctl_token_purge *p = arg;

	if (g->expires_at > p->now)
		return STORE_EACH_NEXT;
	p->grants++;
	return STORE_EACH_DELETE;
}

/*
 * Deletes, in one write transaction, every token and code whose expiry has
 * passed and every expired grant, and prints how many of each.  Revoked
 * and used records stay until they expire: a used refresh token must still
 * be recognised to detect its reuse (RFC 9700 §4.14.2).
 */
enum ctl_exit
ctl_cmd_purge(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_token_purge p;
	struct ctl_args a;
	struct store_txn *txn;
	enum store_status st;
	enum ctl_exit rv;
	char *v;
	int o;

	ctl_args_init(&a, ctl, NULL, 0, argc, argv);
	while ((o = ctl_args_next(&a, &v)) != CTL_ARGS_END) {
		switch (o) {
		case CTL_ARGS_HELP:
			return ctl_help(ctl);
		case CTL_ARGS_OPERAND:
			return ctl_usage_error(ctl, "too many arguments");
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if ((rv = ctl_open(ctl, 0)) != CTL_EXIT_OK)
		return rv;
	memset(&p, 0, sizeof(p));
	p.now = ctl->now;
	if ((st = store_txn_begin(ctl->store, 1, &txn)) != STORE_OK)
		return ctl_store_fail(ctl, "begin", st);
	st = store_token_foreach(txn, ctl_token_purge_one, &p);
	if (st == STORE_OK)
		st = store_grant_foreach(txn, ctl_token_purge_grant, &p);
	if (st != STORE_OK) {
		store_txn_abort(txn);
		return ctl_store_fail(ctl, "purge", st);
	}
	if ((st = store_txn_commit(txn)) != STORE_OK)
		return ctl_store_fail(ctl, "commit", st);
	printf("purged %zu tokens, %zu codes, %zu grants\n", p.tokens, p.codes,
	    p.grants);
	return CTL_EXIT_OK;
}
