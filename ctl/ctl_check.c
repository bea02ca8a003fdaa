/*
 * "check": reads every record of every database in one read transaction
 * and verifies that each decodes and that every reference it holds leads
 * to a record that exists.  A summary of what was checked goes to standard
 * output, each problem to standard error; the exit status is 1 when there
 * was any.  Tokens are named by the hex of the first JTI_LEN / 2 bytes of
 * the hash they are stored under, as their jti is: never by their string,
 * which the database does not hold anyway.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define CTL_CHECK_SHOWN_MAX 100	/* problems printed; the rest are counted */
#define CTL_CHECK_LINE_MAX 512	/* one problem's message */
#define CTL_CHECK_GRANT_HEX (GRANT_ID_LEN * 2 + 1)

/* The databases walked, in the order they are walked. */
enum ctl_check_db {
	CTL_CHECK_CLIENTS = 0,
	CTL_CHECK_TOKENS,
	CTL_CHECK_GRANTS,
	CTL_CHECK_KEYS,
	CTL_CHECK_DB__MAX
};

static const char *const ctl_check_db_names[CTL_CHECK_DB__MAX] = {
	[CTL_CHECK_CLIENTS] = "clients",
	[CTL_CHECK_TOKENS] = "tokens",
	[CTL_CHECK_GRANTS] = "grants",
	[CTL_CHECK_KEYS] = "keys",
};

/* What the walks found; the counts are those of records that decoded. */
struct ctl_check {
	const struct ctl *ctl;
	struct store_txn *txn;
	int64_t now;
	size_t clients;
	size_t keyed_clients;	/* of them, those of private_key_jwt */
	size_t tokens[TOKEN_KIND__MAX];	/* by kind; [0] unused */
	size_t grants;
	size_t keys;
	size_t orphans;		/* expired tokens whose grant was purged */
	size_t problems;
	/* The first failure that is not a problem of a record: stops all. */
	enum store_status failed;
	/*
	 * The key of the last record each walk handed over, so that a record
	 * that does not decode can be placed: it is the one after it.
	 */
	char last_client[CLIENT_ID_MAX + 1];
	char last_token[JTI_LEN + 1];
	char last_grant[CTL_CHECK_GRANT_HEX];
	char last_key[JOSE_KID_LEN + 1];
};

static void ctl_check_problem(struct ctl_check *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void ctl_check_quote(const char *, char *, size_t);
static const char *ctl_check_kind_name(enum token_kind);
static int ctl_check_client_ref(struct ctl_check *, const char *,
    const char *, const char *);
static void ctl_check_token_grant(struct ctl_check *, const char *,
    const struct token *);
static enum store_each ctl_check_client(const struct client *, void *);
static enum store_each ctl_check_token(const unsigned char *,
    const struct token *, void *);
static enum store_each ctl_check_grant(const struct grant *, void *);
static void ctl_check_walked(struct ctl_check *, enum ctl_check_db,
    enum store_status);
static enum ctl_exit ctl_check_txn(const struct ctl *, struct store_txn *,
    void *);

/*
 * Counts one problem and prints it on standard error, as "oauthctl:
 * check: message", while fewer than CTL_CHECK_SHOWN_MAX have been printed:
 * a database broken everywhere must not bury the summary.
 */
static void
ctl_check_problem(struct ctl_check *c, const char *fmt, ...)
{
	char line[CTL_CHECK_LINE_MAX];
	va_list ap;

	if (c->problems++ >= CTL_CHECK_SHOWN_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	(void)ctl_fail(c->ctl, "%s", line);
}

/*
 * Writes id into out (size bytes) quoted as the log quotes it, so that a
 * client id read from a damaged record cannot forge a line; "?" when
 * memory runs out.  A client id is no secret.
 */
static void
ctl_check_quote(const char *id, char *out, size_t size)
{
	struct buf b = { 0 };

	log_quote(&b, id);
	snprintf(out, size, "%s", b.data != NULL ? b.data : "?");
	buf_free(&b);
}

static const char *
ctl_check_kind_name(enum token_kind k)
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
	return "token of unknown kind";
}

/*
 * Checks that the client id a record names (what names it, e.g. "access
 * token 0a1b...") exists and decodes.  Returns 1 when it does, 0 when a
 * problem was counted or the read failed (c->failed is then set).
 */
static int
ctl_check_client_ref(struct ctl_check *c, const char *what, const char *label,
    const char *client_id)
{
	struct client cl;
	enum store_status st;
	char q[CLIENT_ID_MAX * 4 + 3];

	st = store_client_get(c->txn, client_id, &cl);
	client_free(&cl);
	if (st == STORE_OK)
		return 1;
	ctl_check_quote(client_id, q, sizeof(q));
	switch (st) {
	case STORE_NOTFOUND:
		ctl_check_problem(c, "%s %s names client %s, which does not "
		    "exist", what, label, q);
		break;
	case STORE_CORRUPT:
		ctl_check_problem(c, "%s %s names client %s, whose record "
		    "does not decode", what, label, q);
		break;
	case STORE_OK:
	case STORE_EXISTS:
	case STORE_FULL:
	case STORE_UNAVAILABLE:
	case STORE_MISSING:
	case STORE_IOERR:
	case STORE_INVALID:
	case STORE_NOMEM:
	case STORE_STATUS__MAX:
	default:
		c->failed = st;
		break;
	}
	return 0;
}

/*
 * Checks the grant a token carries: it exists, belongs to the token's
 * client, and expires no earlier than the token, since purge drops a grant
 * once the grant's expiry has passed and counts on that expiry being the
 * latest of its tokens' (handlers/token.c moves it forward at each issue).
 *
 * A missing grant is a problem unless the token has itself expired by now.
 * The only deleter of grants by age is purge, which deletes a grant when
 * its expiry is at or before purge's clock; a token of that grant expires
 * no later than the grant, so a token whose grant was purged has expired
 * too, is refused anyway and goes at the next purge.  An unexpired token
 * whose grant is missing is another thing: it would be refused before its
 * time (store_token_is_active treats a missing grant as inactive), and a
 * used refresh token would lose its reuse detection.  That holds for every
 * state: a revoked or used token still needs its grant until it expires.
 */
static void
ctl_check_token_grant(struct ctl_check *c, const char *label,
    const struct token *t)
{
	struct grant g;
	enum store_status st;
	char gid[CTL_CHECK_GRANT_HEX], q[CLIENT_ID_MAX * 4 + 3];
	const char *what = ctl_check_kind_name(t->kind);

	crypto_hex(t->grant_id, GRANT_ID_LEN, gid);
	st = store_grant_get(c->txn, t->grant_id, &g);
	switch (st) {
	case STORE_OK:
		if (strcmp(g.client_id, t->client_id) != 0) {
			ctl_check_quote(g.client_id, q, sizeof(q));
			ctl_check_problem(c, "%s %s names grant %s, which "
			    "belongs to another client (%s)", what, label,
			    gid, q);
		} else if (t->expires_at > g.expires_at)
			ctl_check_problem(c, "%s %s expires after its grant "
			    "%s: purge would delete the grant while the "
			    "token lives", what, label, gid);
		grant_free(&g);
		break;
	case STORE_NOTFOUND:
		if (t->expires_at <= c->now)
			c->orphans++;
		else
			ctl_check_problem(c, "%s %s names grant %s, which "
			    "does not exist, and has not expired", what,
			    label, gid);
		break;
	case STORE_CORRUPT:
		ctl_check_problem(c, "%s %s names grant %s, whose record "
		    "does not decode", what, label, gid);
		break;
	case STORE_EXISTS:
	case STORE_FULL:
	case STORE_UNAVAILABLE:
	case STORE_MISSING:
	case STORE_IOERR:
	case STORE_INVALID:
	case STORE_NOMEM:
	case STORE_STATUS__MAX:
	default:
		c->failed = st;
		break;
	}
}

/* A client decoded and sits under its own id (the walk saw to both). */
static enum store_each
ctl_check_client(const struct client *cl, void *arg)
{
	struct ctl_check *c = arg;
	char q[CLIENT_ID_MAX * 4 + 3];
	const char *why;
	size_t index;

	c->clients++;
	snprintf(c->last_client, sizeof(c->last_client), "%s", cl->id);
	if ((cl->grant_types & ~GRANT_ALL) != 0) {
		ctl_check_quote(cl->id, q, sizeof(q));
		ctl_check_problem(c, "client %s has unknown grant types "
		    "(0x%x)", q, cl->grant_types);
	}
	c->keyed_clients += cl->jwks != NULL;
	/* Keys the server would refuse leave the client unable to log in. */
	if (cl->jwks != NULL &&
	    jose_jwks_check(cl->jwks, &index, &why) != 0) {
		ctl_check_quote(cl->id, q, sizeof(q));
		if (index > 0)
			ctl_check_problem(c, "client %s: its key #%zu %s", q,
			    index, why);
		else
			ctl_check_problem(c, "client %s: its key set %s", q,
			    why);
	}
	return STORE_EACH_NEXT;
}

/*
 * A token decoded: its kind and state are in range, it expires after it
 * was issued, and its client and grant exist.  Refresh tokens and codes
 * always carry a grant: reuse detection revokes through it.
 */
static enum store_each
ctl_check_token(const unsigned char *hash, const struct token *t, void *arg)
{
	struct ctl_check *c = arg;
	const char *what;

	crypto_hex(hash, JTI_LEN / 2, c->last_token);
	switch (t->kind) {
	case TOKEN_ACCESS:
	case TOKEN_REFRESH:
	case TOKEN_CODE:
		c->tokens[t->kind]++;
		break;
	case TOKEN_KIND__MAX:
	default:
		ctl_check_problem(c, "token %s is of unknown kind %d",
		    c->last_token, (int)t->kind);
		return STORE_EACH_NEXT;
	}
	what = ctl_check_kind_name(t->kind);
	switch (t->state) {
	case TOKEN_STATE_ACTIVE:
	case TOKEN_STATE_REVOKED:
	case TOKEN_STATE_USED:
		break;
	case TOKEN_STATE__MAX:
	default:
		ctl_check_problem(c, "%s %s is in unknown state %d", what,
		    c->last_token, (int)t->state);
		break;
	}
	if (t->expires_at <= t->issued_at)
		ctl_check_problem(c, "%s %s expires (%lld) no later than it "
		    "was issued (%lld)", what, c->last_token,
		    (long long)t->expires_at, (long long)t->issued_at);
	if (!ctl_check_client_ref(c, what, c->last_token, t->client_id) &&
	    c->failed != STORE_OK)
		return STORE_EACH_STOP;
	if (t->has_grant)
		ctl_check_token_grant(c, c->last_token, t);
	else if (t->kind != TOKEN_ACCESS)
		ctl_check_problem(c, "%s %s carries no grant", what,
		    c->last_token);
	return c->failed == STORE_OK ? STORE_EACH_NEXT : STORE_EACH_STOP;
}

/* A grant decoded under its own id: its client exists, its times agree. */
static enum store_each
ctl_check_grant(const struct grant *g, void *arg)
{
	struct ctl_check *c = arg;

	c->grants++;
	crypto_hex(g->id, GRANT_ID_LEN, c->last_grant);
	/* Equal is allowed: a grant issued with a zero code lifetime. */
	if (g->expires_at < g->created_at)
		ctl_check_problem(c, "grant %s expires (%lld) before it was "
		    "created (%lld)", c->last_grant, (long long)g->expires_at,
		    (long long)g->created_at);
	(void)ctl_check_client_ref(c, "grant", c->last_grant, g->client_id);
	return c->failed == STORE_OK ? STORE_EACH_NEXT : STORE_EACH_STOP;
}

/*
 * A signing key decoded under its own kid: its private key parses for its
 * algorithm, the kid is the thumbprint of its public key, and its times
 * come in order.  The key itself is never shown.
 */
static enum store_each
ctl_check_key(const struct key *k, void *arg)
{
	struct ctl_check *c = arg;
	char kid[JOSE_KID_LEN + 1];
	EVP_PKEY *pkey = NULL;

	c->keys++;
	memcpy(c->last_key, k->kid, sizeof(c->last_key));
	if (jose_key_parse(k->alg, k->pem, strlen(k->pem), &pkey) == -1)
		ctl_check_problem(c, "key %s: the private key does not parse "
		    "as %s", k->kid, jose_alg_name(k->alg));
	else if (jose_key_thumbprint(pkey, k->alg, kid) == -1 ||
	    strcmp(kid, k->kid) != 0)
		ctl_check_problem(c, "key %s: the kid is not the thumbprint "
		    "of its key", k->kid);
	jose_key_free(pkey);
	if ((k->retired_at != 0 && k->retired_at < k->sign_from) ||
	    (k->drop_at != 0 && k->retired_at != 0 &&
		k->drop_at < k->retired_at))
		ctl_check_problem(c, "key %s: it stops before it starts",
		    k->kid);
	return c->failed == STORE_OK ? STORE_EACH_NEXT : STORE_EACH_STOP;
}

/*
 * Takes the end of the walk over db.  STORE_CORRUPT is a problem, placed
 * after the last record the walk handed over: the walk cannot go past
 * such a record, so the records after it go unchecked, and the message
 * says so.  Any other failure is remembered in c->failed.
 */
static void
ctl_check_walked(struct ctl_check *c, enum ctl_check_db db,
    enum store_status st)
{
	const char *last = "";
	char q[CLIENT_ID_MAX * 4 + 3];

	if (st == STORE_OK || c->failed != STORE_OK)
		return;
	if (st != STORE_CORRUPT) {
		c->failed = st;
		return;
	}
	switch (db) {
	case CTL_CHECK_CLIENTS:
		if (c->last_client[0] != '\0') {
			ctl_check_quote(c->last_client, q, sizeof(q));
			last = q;
		}
		break;
	case CTL_CHECK_TOKENS:
		last = c->last_token;
		break;
	case CTL_CHECK_GRANTS:
		last = c->last_grant;
		break;
	case CTL_CHECK_KEYS:
		last = c->last_key;
		break;
	case CTL_CHECK_DB__MAX:
	default:
		break;
	}
	if (*last == '\0')
		ctl_check_problem(c, "%s: the first record does not decode or "
		    "does not match its key; the records after it were not "
		    "checked", ctl_check_db_names[db]);
	else
		ctl_check_problem(c, "%s: the record after %s does not decode "
		    "or does not match its key; the records after it were not "
		    "checked", ctl_check_db_names[db], last);
}

/* The transaction of "check": arg is the struct ctl_check to fill. */
static enum ctl_exit
ctl_check_txn(const struct ctl *ctl, struct store_txn *txn, void *arg)
{
	struct ctl_check *c = arg;

	c->ctl = ctl;
	c->txn = txn;
	ctl_check_walked(c, CTL_CHECK_CLIENTS,
	    store_client_foreach(txn, ctl_check_client, c));
	if (c->failed == STORE_OK)
		ctl_check_walked(c, CTL_CHECK_TOKENS,
		    store_token_foreach(txn, ctl_check_token, c));
	if (c->failed == STORE_OK)
		ctl_check_walked(c, CTL_CHECK_GRANTS,
		    store_grant_foreach(txn, ctl_check_grant, c));
	if (c->failed == STORE_OK)
		ctl_check_walked(c, CTL_CHECK_KEYS,
		    store_key_foreach(txn, ctl_check_key, c));
	c->txn = NULL;
	if (c->failed != STORE_OK)
		return ctl_store_fail(ctl, "read", c->failed);
	return CTL_EXIT_OK;
}

/*
 * Verifies the whole database in one read transaction, so that what it
 * sees is one state even while responders write.  Prints the counts of
 * what was checked on standard output and each problem on standard error.
 * Returns CTL_EXIT_OK when there was none, CTL_EXIT_FAIL when there was
 * any or the database could not be read.
 */
enum ctl_exit
ctl_cmd_check(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_check c;
	struct ctl_line l;
	enum ctl_exit rv;

	if ((rv = ctl_args_line(ctl, argc, argv, 0, NULL, &l)) != CTL_EXIT_OK ||
	    l.helped)
		return rv;
	memset(&c, 0, sizeof(c));
	c.now = ctl->now;
	if ((rv = ctl_txn(ctl, 0, ctl_check_txn, &c)) != CTL_EXIT_OK)
		return rv;
	printf("checked %zu clients, %zu access tokens, %zu refresh tokens, "
	    "%zu codes, %zu grants\n", c.clients, c.tokens[TOKEN_ACCESS],
	    c.tokens[TOKEN_REFRESH], c.tokens[TOKEN_CODE], c.grants);
	printf("checked %zu signing keys\n", c.keys);
	if (c.orphans > 0)
		printf("%zu expired tokens outlived their grant (purge "
		    "deletes them)\n", c.orphans);
	/*
	 * Only a warning: the responders' configuration may well set what
	 * this shell's does not.
	 */
	if (c.keyed_clients > 0 && ctl->config.issuer == NULL)
		fprintf(stderr, "oauthctl: check: warning: %zu clients "
		    "authenticate with private_key_jwt, which the server "
		    "refuses unless OAUTH_ISSUER is set; it is not set here\n",
		    c.keyed_clients);
	if (c.problems > CTL_CHECK_SHOWN_MAX)
		(void)ctl_fail(ctl, "%zu more problems not shown",
		    c.problems - CTL_CHECK_SHOWN_MAX);
	printf("%zu problems\n", c.problems);
	return c.problems == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}
