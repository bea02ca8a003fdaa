/*
 * The scopes in use: the union of the scopes every client may have, which
 * the metadata endpoint lists as scopes_supported (RFC 8414 §2).  They are
 * kept as one derived record, rebuilt whenever a client is written or
 * deleted (by the operator, rarely), so that the unauthenticated metadata
 * endpoint reads one record rather than decoding every client.
 * LMDB's: PostgreSQL asks its clients table instead (store_pg.c).
 */
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

#define STORE_SCOPES_KEY "scopes"

/* The distinct scope values seen so far, sorted, at most STORE_SCOPES_MAX. */
struct store_scopes_set {
	char *items[STORE_SCOPES_MAX];
	size_t count;
	int failed;		/* memory ran out */
};

/*
 * Adds the len bytes of s to set, keeping it sorted and distinct (a binary
 * search, then one move).  Past STORE_SCOPES_MAX values, the largest are
 * left out: RFC 8414 §2 lets a server leave some scopes unlisted.
 */
static void
store_scopes_add(struct store_scopes_set *set, const char *s, size_t len)
{
	size_t lo = 0, hi = set->count, mid;
	char *copy;
	int cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strncmp(set->items[mid], s, len);
		if (cmp == 0 && set->items[mid][len] == '\0')
			return;
		if (cmp < 0 || (cmp == 0 && set->items[mid][len] == '\0'))
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Full: the bytewise smallest are kept, as PostgreSQL lists them. */
	if (set->count == STORE_SCOPES_MAX) {
		if (lo == set->count)
			return;
		free(set->items[--set->count]);
	}
	if ((copy = strndup(s, len)) == NULL) {
		set->failed = 1;
		return;
	}
	memmove(&set->items[lo + 1], &set->items[lo],
	    (set->count - lo) * sizeof(set->items[0]));
	set->items[lo] = copy;
	set->count++;
}

/* Adds each scope value of client c to the set arg. */
static enum store_each
store_scopes_collect(const struct client *c, void *arg)
{
	struct store_scopes_set *set = arg;
	const char *p = c->scope, *end;
	size_t len;

	while (p != NULL && *p != '\0' && !set->failed) {
		end = strchr(p, ' ');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len > 0)
			store_scopes_add(set, p, len);
		p = end != NULL ? end + 1 : NULL;
	}
	return set->failed ? STORE_EACH_STOP : STORE_EACH_NEXT;
}

/*
 * Walks the clients of t and writes their scopes to *out, sorted, distinct
 * and separated by single spaces ("" when none), allocated for the caller.
 * Returns STORE_OK, STORE_NOMEM, or the failure of the walk.
 */
static enum store_status
store_scopes_compute(struct store_txn *t, char **out)
{
	struct store_scopes_set set;
	struct buf b = {0};
	enum store_status st;
	size_t i;

	*out = NULL;
	memset(&set, 0, sizeof(set));
	st = store_client_foreach(t, store_scopes_collect, &set);
	if (st == STORE_OK && set.failed)
		st = STORE_NOMEM;
	for (i = 0; i < set.count; i++) {
		/* Bounded as a record must be; the rest go unlisted. */
		if (st == STORE_OK &&
		    b.len + 1 + strlen(set.items[i]) <= STORE_META_MAX &&
		    ((b.len > 0 && buf_puts(&b, " ") == -1) ||
			buf_puts(&b, set.items[i]) == -1))
			st = STORE_NOMEM;
		free(set.items[i]);
	}
	if (st == STORE_OK && (*out = b.data != NULL ? buf_steal(&b)
						     : strdup("")) == NULL)
		st = STORE_NOMEM;
	buf_free(&b);
	return st;
}

/*
 * Rebuilds the scopes record from the clients, in the write transaction t.
 * The LMDB client writes call this after a change.  Returns
 * STORE_OK, or a failure after which the caller must abort.
 */
enum store_status
store_scopes_rebuild(struct store_txn *t)
{
	enum store_status st;
	char *scopes;

	if ((st = store_scopes_compute(t, &scopes)) != STORE_OK)
		return st;
	st = store_meta_put(t, STORE_SCOPES_KEY, scopes, strlen(scopes));
	free(scopes);
	return st;
}

/*
 * The scopes in use, as store_scopes_compute writes them, in *out for the
 * caller to free.  A database written before the record existed has it
 * computed from the clients instead.  Returns STORE_OK, STORE_CORRUPT for
 * a record that is not text, or another failure, *out NULL then.
 */
enum store_status
store_scopes_record_get(struct store_txn *t, char **out)
{
	struct buf b = {0};
	enum store_status st;

	*out = NULL;
	st = store_meta_get(t, STORE_SCOPES_KEY, &b);
	if (st == STORE_NOTFOUND)
		return store_scopes_compute(t, out);
	if (st != STORE_OK)
		return st;
	if (b.data == NULL)
		*out = strdup("");
	else if (strlen(b.data) != b.len) {
		buf_free(&b);
		return STORE_CORRUPT;
	} else
		*out = buf_steal(&b);
	return *out != NULL ? STORE_OK : STORE_NOMEM;
}
