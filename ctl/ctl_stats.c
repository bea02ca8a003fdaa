/*
 * "stats": how many clients, tokens, codes and grants there are, and in
 * which state, read in one read transaction so the numbers agree.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* The states a token, code or grant is counted in. */
enum ctl_stats_state {
	CTL_STATS_ACTIVE = 0,
	CTL_STATS_EXPIRED,
	CTL_STATS_REVOKED,
	CTL_STATS_USED,
	CTL_STATS_STATE__MAX
};

/* The rows of the report. */
enum ctl_stats_row {
	CTL_STATS_ACCESS = 0,
	CTL_STATS_REFRESH,
	CTL_STATS_CODES,
	CTL_STATS_GRANTS,
	CTL_STATS_ROW__MAX
};

static const char *const ctl_stats_state_names[CTL_STATS_STATE__MAX] = {
	[CTL_STATS_ACTIVE] = "active",
	[CTL_STATS_EXPIRED] = "expired",
	[CTL_STATS_REVOKED] = "revoked",
	[CTL_STATS_USED] = "used",
};

static const char *const ctl_stats_row_names[CTL_STATS_ROW__MAX] = {
	[CTL_STATS_ACCESS] = "access_tokens",
	[CTL_STATS_REFRESH] = "refresh_tokens",
	[CTL_STATS_CODES] = "codes",
	[CTL_STATS_GRANTS] = "grants",
};

/* Whether a row can be in the "used" state: rotated or redeemed. */
static const int ctl_stats_row_used[CTL_STATS_ROW__MAX] = {
	[CTL_STATS_REFRESH] = 1,
	[CTL_STATS_CODES] = 1,
};

struct ctl_stats {
	struct store_txn *txn;	/* for the grant of a token */
	int64_t now;
	size_t confidential;
	size_t public;
	size_t counts[CTL_STATS_ROW__MAX][CTL_STATS_STATE__MAX];
};

static enum store_each ctl_stats_client(const struct client *, void *);
static enum store_each ctl_stats_token(const unsigned char *,
    const struct token *, void *);
static enum store_each ctl_stats_grant(const struct grant *, void *);
static size_t ctl_stats_total(const struct ctl_stats *, enum ctl_stats_row);
static cJSON *ctl_stats_json(const struct ctl_stats *);
static void ctl_stats_print(const struct ctl_stats *);
static enum ctl_exit ctl_stats_txn(const struct ctl *, struct store_txn *,
    void *);

static enum store_each
ctl_stats_client(const struct client *c, void *arg)
{
	struct ctl_stats *s = arg;

	if (c->is_public)
		s->public++;
	else
		s->confidential++;
	return STORE_EACH_NEXT;
}

/*
 * Counts a token in one state.  Active is what the server would accept
 * (store_token_is_active); otherwise its own state, then its expiry, and
 * last its grant: a token whose grant was revoked counts as revoked.
 */
static enum store_each
ctl_stats_token(const unsigned char *hash, const struct token *t, void *arg)
{
	struct ctl_stats *s = arg;
	enum ctl_stats_row row;
	enum ctl_stats_state state;

	(void)hash;
	switch (t->kind) {
	case TOKEN_ACCESS:
		row = CTL_STATS_ACCESS;
		break;
	case TOKEN_REFRESH:
		row = CTL_STATS_REFRESH;
		break;
	case TOKEN_CODE:
		row = CTL_STATS_CODES;
		break;
	case TOKEN_KIND__MAX:
	default:
		return STORE_EACH_NEXT;
	}
	if (store_token_is_active(s->txn, t, s->now))
		state = CTL_STATS_ACTIVE;
	else if (t->state == TOKEN_STATE_USED && ctl_stats_row_used[row])
		state = CTL_STATS_USED;
	else if (t->state == TOKEN_STATE_REVOKED)
		state = CTL_STATS_REVOKED;
	else if (t->expires_at <= s->now)
		state = CTL_STATS_EXPIRED;
	else
		state = CTL_STATS_REVOKED;
	s->counts[row][state]++;
	return STORE_EACH_NEXT;
}

static enum store_each
ctl_stats_grant(const struct grant *g, void *arg)
{
	struct ctl_stats *s = arg;

	if (g->revoked)
		s->counts[CTL_STATS_GRANTS][CTL_STATS_REVOKED]++;
	else if (g->expires_at <= s->now)
		s->counts[CTL_STATS_GRANTS][CTL_STATS_EXPIRED]++;
	else
		s->counts[CTL_STATS_GRANTS][CTL_STATS_ACTIVE]++;
	return STORE_EACH_NEXT;
}

static size_t
ctl_stats_total(const struct ctl_stats *s, enum ctl_stats_row row)
{
	size_t n = 0;
	int st;

	for (st = 0; st < CTL_STATS_STATE__MAX; st++)
		n += s->counts[row][st];
	return n;
}

/* The report as one JSON object; NULL when memory runs out. */
static cJSON *
ctl_stats_json(const struct ctl_stats *s)
{
	cJSON *o, *sub;
	int row, st;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if ((sub = cJSON_AddObjectToObject(o, "clients")) == NULL ||
	    cJSON_AddNumberToObject(sub, "total",
	    (double)(s->confidential + s->public)) == NULL ||
	    cJSON_AddNumberToObject(sub, "confidential",
	    (double)s->confidential) == NULL ||
	    cJSON_AddNumberToObject(sub, "public", (double)s->public) == NULL)
		goto fail;
	for (row = 0; row < CTL_STATS_ROW__MAX; row++) {
		if ((sub = cJSON_AddObjectToObject(o,
		    ctl_stats_row_names[row])) == NULL ||
		    cJSON_AddNumberToObject(sub, "total",
		    (double)ctl_stats_total(s, (enum ctl_stats_row)row)) ==
		    NULL)
			goto fail;
		for (st = 0; st < CTL_STATS_STATE__MAX; st++) {
			if (st == CTL_STATS_USED && !ctl_stats_row_used[row])
				continue;
			if (cJSON_AddNumberToObject(sub,
			    ctl_stats_state_names[st],
			    (double)s->counts[row][st]) == NULL)
				goto fail;
		}
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* The report as lines: "NAME: TOTAL (state n, ...)". */
static void
ctl_stats_print(const struct ctl_stats *s)
{
	int row, st;

	printf("clients: %zu (confidential %zu, public %zu)\n",
	    s->confidential + s->public, s->confidential, s->public);
	for (row = 0; row < CTL_STATS_ROW__MAX; row++) {
		printf("%s: %zu (", ctl_stats_row_names[row],
		    ctl_stats_total(s, (enum ctl_stats_row)row));
		for (st = 0; st < CTL_STATS_STATE__MAX; st++) {
			if (st == CTL_STATS_USED && !ctl_stats_row_used[row])
				continue;
			printf("%s%s %zu", st > 0 ? ", " : "",
			    ctl_stats_state_names[st], s->counts[row][st]);
		}
		printf(")\n");
	}
}

/* The transaction of "stats": arg is the struct ctl_stats to fill. */
static enum ctl_exit
ctl_stats_txn(const struct ctl *ctl, struct store_txn *txn, void *arg)
{
	struct ctl_stats *s = arg;
	enum store_status st;

	s->txn = txn;
	st = store_client_foreach(txn, ctl_stats_client, s);
	if (st == STORE_OK)
		st = store_token_foreach(txn, ctl_stats_token, s);
	if (st == STORE_OK)
		st = store_grant_foreach(txn, ctl_stats_grant, s);
	s->txn = NULL;
	if (st != STORE_OK)
		return ctl_store_fail(ctl, "stats", st);
	return CTL_EXIT_OK;
}

enum ctl_exit
ctl_cmd_stats(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_stats s;
	struct ctl_line l;
	enum ctl_exit rv;

	if ((rv = ctl_args_line(ctl, argc, argv, CTL_LINE_JSON, NULL, &l)) !=
	    CTL_EXIT_OK || l.helped)
		return rv;
	memset(&s, 0, sizeof(s));
	s.now = ctl->now;
	if ((rv = ctl_txn(ctl, 0, ctl_stats_txn, &s)) != CTL_EXIT_OK)
		return rv;
	if (l.json)
		return ctl_json_print(ctl, ctl_stats_json(&s), 0);
	ctl_stats_print(&s);
	return CTL_EXIT_OK;
}
