/*
 * "stats": how many clients, tokens, codes and grants there are, and in
 * which state, counted by the backend (store_stats) in one read
 * transaction.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const char *const ctl_stats_state_names[STORE_STATS_STATE__MAX] = {
	[STORE_STATS_ACTIVE] = "active",
	[STORE_STATS_EXPIRED] = "expired",
	[STORE_STATS_REVOKED] = "revoked",
	[STORE_STATS_USED] = "used",
};

static const char *const ctl_stats_row_names[STORE_STATS_ROW__MAX] = {
	[STORE_STATS_ACCESS] = "access_tokens",
	[STORE_STATS_REFRESH] = "refresh_tokens",
	[STORE_STATS_CODES] = "codes",
	[STORE_STATS_GRANTS] = "grants",
};

/* Whether a row can be in the "used" state: rotated or redeemed. */
static const int ctl_stats_row_used[STORE_STATS_ROW__MAX] = {
	[STORE_STATS_REFRESH] = 1,
	[STORE_STATS_CODES] = 1,
};

struct ctl_stats {
	int64_t now;
	struct store_stats counted;
};

static size_t
ctl_stats_total(const struct store_stats *s, enum store_stats_row row)
{
	size_t n = 0;
	int st;

	for (st = 0; st < STORE_STATS_STATE__MAX; st++)
		n += s->counts[row][st];
	return n;
}

/* The report as one JSON object; NULL when memory runs out. */
static cJSON *
ctl_stats_json(const struct store_stats *s)
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
	for (row = 0; row < STORE_STATS_ROW__MAX; row++) {
		if ((sub = cJSON_AddObjectToObject(o,
		    ctl_stats_row_names[row])) == NULL ||
		    cJSON_AddNumberToObject(sub, "total",
		    (double)ctl_stats_total(s, (enum store_stats_row)row)) ==
		    NULL)
			goto fail;
		for (st = 0; st < STORE_STATS_STATE__MAX; st++) {
			if (st == STORE_STATS_USED && !ctl_stats_row_used[row])
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
ctl_stats_print(const struct store_stats *s)
{
	int row, st;

	printf("clients: %zu (confidential %zu, public %zu)\n",
	    s->confidential + s->public, s->confidential, s->public);
	for (row = 0; row < STORE_STATS_ROW__MAX; row++) {
		printf("%s: %zu (", ctl_stats_row_names[row],
		    ctl_stats_total(s, (enum store_stats_row)row));
		for (st = 0; st < STORE_STATS_STATE__MAX; st++) {
			if (st == STORE_STATS_USED && !ctl_stats_row_used[row])
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

	if ((st = store_stats(txn, s->now, &s->counted)) != STORE_OK)
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
		return ctl_json_print(ctl, ctl_stats_json(&s.counted), 0);
	ctl_stats_print(&s.counted);
	return CTL_EXIT_OK;
}
