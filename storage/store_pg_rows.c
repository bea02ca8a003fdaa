/*
 * The records of the PostgreSQL backend, and the set operations: each a
 * statement of store_pg_sql.c, run by store_pg_run; records in the
 * encoding of store_record.c, beside the columns the queries select by.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

/*
 * The record in column col of row 0 of res: 1 with *p and *len set, or 0
 * when there is none (no row, or NULL: a LEFT JOIN that found nothing).
 */
static int
store_pg_record(const PGresult *res, int col, const char **p, size_t *len)
{
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, col))
		return 0;
	*p = PQgetvalue(res, 0, col);
	*len = (size_t)PQgetlength(res, 0, col);
	return 1;
}

/* Runs a statement whose one parameter is len bytes at key. */
static enum store_status
store_pg_run_key(struct store_txn *t, enum store_pg_stmt stmt,
    const void *key, size_t len, PGresult **res)
{
	struct store_pg_params p = {0};

	store_pg_param(&p, key, len);
	return store_pg_run(t, stmt, &p, res);
}

/* A DELETE by key: STORE_NOTFOUND when it deleted nothing. */
static enum store_status
store_pg_delete(struct store_txn *t, enum store_pg_stmt stmt, const void *key,
    size_t len)
{
	PGresult *res;
	enum store_status st;

	if (!t->writable)
		return STORE_INVALID;
	if ((st = store_pg_run_key(t, stmt, key, len, &res)) != STORE_OK)
		return st;
	st = strcmp(PQcmdTuples(res), "0") == 0 ? STORE_NOTFOUND : STORE_OK;
	PQclear(res);
	return st;
}

enum store_status
store_pg_client_get(struct store_txn *t, const char *id, struct client *c)
{
	struct store_pg_params p = {0};
	char key[CLIENT_ID_MAX + 1];
	size_t len = strnlen(id, CLIENT_ID_MAX + 1);
	PGresult *res;
	const char *rec;
	size_t reclen;
	enum store_status st;

	if (len == 0 || len > CLIENT_ID_MAX) {
		memset(c, 0, sizeof(*c));
		return STORE_NOTFOUND;
	}
	/* A copy: id may point into *c, which is cleared next. */
	memcpy(key, id, len + 1);
	memset(c, 0, sizeof(*c));
	if (PT(t)->hinted) {
		/* The client, and the token hinted at with its grant. */
		PT(t)->hinted = 0;
		store_pg_param(&p, key, len);
		store_pg_param(&p, PT(t)->token_hash, TOKEN_HASH_LEN);
		if ((st = store_pg_run(t, PG_CLIENT_WITH_TOKEN, &p, &res)) !=
		    STORE_OK)
			return st;
		PT(t)->token_cached = PQntuples(res) == 1 &&
		    store_pg_keep(res, 1, &PT(t)->token_record) == 0 &&
		    store_pg_keep(res, 2, &PT(t)->token_grant) == 0;
	} else if ((st = store_pg_run_key(t, PG_CLIENT_GET, key, len,
	    &res)) != STORE_OK)
		return st;
	st = store_pg_record(res, 0, &rec, &reclen) ?
	    store_record_client_decode(rec, reclen, c) : STORE_NOTFOUND;
	PQclear(res);
	if (st == STORE_OK && strcmp(c->id, key) != 0) {
		client_free(c);
		return STORE_CORRUPT;
	}
	return st;
}

enum store_status
store_pg_client_put(struct store_txn *t, const struct client *c, int replace)
{
	struct store_pg_params p = {0};
	struct buf b = {0};
	PGresult *res;
	enum store_status st;

	if (!t->writable)
		return STORE_INVALID;
	if ((st = store_record_client_encode(c, &b)) != STORE_OK)
		return st;
	store_pg_param_str(&p, c->id);
	store_pg_param_bool(&p, c->is_public);
	store_pg_param_str(&p, c->scope != NULL ? c->scope : "");
	store_pg_param(&p, b.data, b.len);
	st = store_pg_run(t, replace ? PG_CLIENT_UPSERT : PG_CLIENT_INSERT, &p,
	    &res);
	buf_free(&b);
	if (st != STORE_OK)
		return st;
	if (strcmp(PQcmdTuples(res), "0") == 0)
		st = STORE_EXISTS;
	PQclear(res);
	return st;
}

enum store_status
store_pg_client_delete(struct store_txn *t, const char *id)
{
	size_t len = strnlen(id, CLIENT_ID_MAX + 1);

	if (len == 0 || len > CLIENT_ID_MAX)
		return t->writable ? STORE_NOTFOUND : STORE_INVALID;
	return store_pg_delete(t, PG_CLIENT_DELETE, id, len);
}

/*
 * The walk of one table in key order, STORE_PG_BATCH rows a statement,
 * each batch resuming after the last key of the one before; each row
 * (key, record) goes to store_each_visit, and STORE_EACH_DELETE deletes
 * it with the statement del.
 */
static enum store_status
store_pg_walk(struct store_txn *t, enum store_pg_stmt list,
    enum store_pg_stmt del, const void *after, size_t afterlen,
    const struct store_each_fn *each)
{
	struct buf last = {0};
	PGresult *res = NULL;
	enum store_status st = STORE_OK;
	enum store_each e;
	int rows, i;

	if (after != NULL && buf_append(&last, after, afterlen) == -1)
		return STORE_NOMEM;
	for (;;) {
		if ((st = store_pg_run_key(t, list, last.data != NULL ?
		    last.data : "", last.len, &res)) != STORE_OK)
			break;
		rows = PQntuples(res);
		for (i = 0; i < rows; i++) {
			if ((st = store_each_visit(each, PQgetvalue(res, i, 0),
			    (size_t)PQgetlength(res, i, 0),
			    PQgetvalue(res, i, 1),
			    (size_t)PQgetlength(res, i, 1), &e)) != STORE_OK ||
			    e == STORE_EACH_STOP || e == STORE_EACH__MAX)
				goto out;
			if (e == STORE_EACH_DELETE &&
			    (st = t->writable ? store_pg_delete(t, del,
			    PQgetvalue(res, i, 0),
			    (size_t)PQgetlength(res, i, 0)) : STORE_INVALID) !=
			    STORE_OK)
				goto out;
		}
		if (rows < STORE_PG_BATCH)
			goto out;
		last.len = 0;
		if (buf_append(&last, PQgetvalue(res, rows - 1, 0),
		    (size_t)PQgetlength(res, rows - 1, 0)) == -1) {
			st = STORE_NOMEM;
			goto out;
		}
		PQclear(res);
		res = NULL;
	}
out:
	PQclear(res);
	buf_free(&last);
	return st;
}

enum store_status
store_pg_client_foreach(struct store_txn *t, store_client_fn cb, void *arg)
{
	struct store_each_fn each = { .client = cb, .arg = arg };

	return store_pg_walk(t, PG_CLIENT_LIST, PG_CLIENT_DELETE, NULL, 0,
	    &each);
}

/* Runs a counting statement of one parameter; its row into a and b. */
static enum store_status
store_pg_count2(struct store_txn *t, enum store_pg_stmt stmt,
    const void *key, size_t len, int64_t *a, int64_t *b)
{
	PGresult *res;
	enum store_status st;

	if ((st = store_pg_run_key(t, stmt, key, len, &res)) != STORE_OK)
		return st;
	if (PQntuples(res) != 1 || PQnfields(res) < 1) {
		PQclear(res);
		return STORE_IOERR;
	}
	*a = store_pg_int(res, 0, 0);
	*b = PQnfields(res) > 1 ? store_pg_int(res, 0, 1) : 0;
	PQclear(res);
	return STORE_OK;
}

enum store_status
store_pg_client_drop_tokens(struct store_txn *t, const char *id,
    struct store_purged *out)
{
	int64_t codes, all, grants, unused;
	enum store_status st;

	if (!t->writable)
		return STORE_INVALID;
	if ((st = store_pg_count2(t, PG_CLIENT_DROP_TOKENS, id, strlen(id),
	    &codes, &all)) != STORE_OK ||
	    (st = store_pg_count2(t, PG_CLIENT_DROP_GRANTS, id, strlen(id),
	    &grants, &unused)) != STORE_OK)
		return st;
	out->codes += (size_t)codes;
	out->tokens += (size_t)(all - codes);
	out->grants += (size_t)grants;
	return STORE_OK;
}

enum store_status
store_pg_token_get(struct store_txn *t, const unsigned char *hash,
    struct token *tok)
{
	struct store_pg_txn *pt = PT(t);
	PGresult *res;
	const char *rec;
	size_t reclen;
	enum store_status st;
	int grant = !t->writable;

	memset(tok, 0, sizeof(*tok));
	if (grant && pt->token_cached &&
	    memcmp(pt->token_hash, hash, TOKEN_HASH_LEN) == 0) {
		/* Read with the client (store_pg_txn_hint_token). */
		pt->token_cached = 0;
		pt->cached = 0;
		if (pt->token_record.len == 0)
			return STORE_NOTFOUND;
		st = store_record_token_decode(pt->token_record.data,
		    pt->token_record.len, tok);
		if (st == STORE_OK && tok->has_grant) {
			pt->cached_record.len = 0;
			if (buf_append(&pt->cached_record, pt->token_grant.data,
			    pt->token_grant.len) == 0) {
				memcpy(pt->cached_id, tok->grant_id,
				    GRANT_ID_LEN);
				pt->cached = 1;
			}
		}
		return st;
	}
	if ((st = store_pg_run_key(t, !grant ? PG_TOKEN_GET_LOCKED :
	    PG_TOKEN_GET_WITH_GRANT, hash, TOKEN_HASH_LEN, &res)) != STORE_OK)
		return st;
	st = store_pg_record(res, 0, &rec, &reclen) ?
	    store_record_token_decode(rec, reclen, tok) : STORE_NOTFOUND;
	/* The grant read with it, for store_token_is_active's next get. */
	pt->cached = 0;
	if (st == STORE_OK && grant && tok->has_grant) {
		pt->cached_record.len = 0;
		if (!PQgetisnull(res, 0, 2) &&
		    buf_append(&pt->cached_record, PQgetvalue(res, 0, 2),
		    (size_t)PQgetlength(res, 0, 2)) == -1) {
			PQclear(res);
			return STORE_OK;
		}
		memcpy(pt->cached_id, tok->grant_id, GRANT_ID_LEN);
		pt->cached = 1;
	}
	PQclear(res);
	return st;
}

enum store_status
store_pg_token_put(struct store_txn *t, const unsigned char *hash,
    const struct token *tok)
{
	struct store_pg_params p = {0};
	struct buf b = {0};
	enum store_status st;

	if (!t->writable)
		return STORE_INVALID;
	if ((st = store_record_token_encode(tok, &b)) != STORE_OK)
		return st;
	store_pg_param(&p, hash, TOKEN_HASH_LEN);
	store_pg_param_int(&p, tok->kind, 2);
	store_pg_param_int(&p, tok->state, 2);
	store_pg_param_str(&p, tok->client_id);
	store_pg_param(&p, tok->has_grant ? tok->grant_id : NULL,
	    tok->has_grant ? GRANT_ID_LEN : 0);
	store_pg_param_int(&p, tok->expires_at, 8);
	store_pg_param(&p, b.data, b.len);
	/* Nothing is read back: it goes with the next round trip. */
	st = store_pg_defer(t, PG_TOKEN_PUT, &p);
	buf_free(&b);
	return st;
}

enum store_status
store_pg_token_delete(struct store_txn *t, const unsigned char *hash)
{
	return store_pg_delete(t, PG_TOKEN_DELETE, hash, TOKEN_HASH_LEN);
}

enum store_status
store_pg_token_foreach_after(struct store_txn *t, const unsigned char *after,
    store_token_fn cb, void *arg)
{
	struct store_each_fn each = { .token = cb, .arg = arg };

	return store_pg_walk(t, PG_TOKEN_LIST, PG_TOKEN_DELETE, after,
	    after != NULL ? TOKEN_HASH_LEN : 0, &each);
}

enum store_status
store_pg_grant_get(struct store_txn *t, const unsigned char *id,
    struct grant *g)
{
	struct store_pg_txn *pt = PT(t);
	unsigned char key[GRANT_ID_LEN];
	PGresult *res;
	const char *rec;
	size_t reclen;
	enum store_status st;

	/* A copy: id may point into *g, which is cleared next. */
	memcpy(key, id, sizeof(key));
	memset(g, 0, sizeof(*g));
	if (!t->writable && pt->cached &&
	    memcmp(pt->cached_id, key, sizeof(key)) == 0) {
		if (pt->cached_record.len == 0)
			return STORE_NOTFOUND;
		st = store_record_grant_decode(pt->cached_record.data,
		    pt->cached_record.len, g);
	} else {
		if ((st = store_pg_run_key(t, t->writable ?
		    PG_GRANT_GET_LOCKED : PG_GRANT_GET, key, sizeof(key),
		    &res)) != STORE_OK)
			return st;
		st = store_pg_record(res, 0, &rec, &reclen) ?
	    store_record_grant_decode(rec, reclen, g) : STORE_NOTFOUND;
		PQclear(res);
	}
	if (st == STORE_OK && memcmp(g->id, key, sizeof(key)) != 0) {
		grant_free(g);
		return STORE_CORRUPT;
	}
	return st;
}

enum store_status
store_pg_grant_put(struct store_txn *t, const struct grant *g)
{
	struct store_pg_params p = {0};
	struct buf b = {0};
	enum store_status st;

	if (!t->writable)
		return STORE_INVALID;
	if ((st = store_record_grant_encode(g, &b)) != STORE_OK)
		return st;
	store_pg_param(&p, g->id, GRANT_ID_LEN);
	store_pg_param_str(&p, g->client_id);
	store_pg_param_bool(&p, g->revoked);
	store_pg_param_int(&p, g->expires_at, 8);
	store_pg_param(&p, b.data, b.len);
	st = store_pg_defer(t, PG_GRANT_PUT, &p);
	buf_free(&b);
	return st;
}

enum store_status
store_pg_grant_foreach_after(struct store_txn *t, const unsigned char *after,
    store_grant_fn cb, void *arg)
{
	struct store_each_fn each = { .grant = cb, .arg = arg };

	return store_pg_walk(t, PG_GRANT_LIST, PG_GRANT_DELETE, after,
	    after != NULL ? GRANT_ID_LEN : 0, &each);
}

enum store_status
store_pg_key_get(struct store_txn *t, const char *kid, struct key *k)
{
	char copy[JOSE_KID_LEN + 1];
	size_t len = strnlen(kid, JOSE_KID_LEN + 1);
	PGresult *res;
	const char *rec;
	size_t reclen;
	enum store_status st;

	/* A copy first: kid may point into *k, which is cleared next. */
	if (len == JOSE_KID_LEN)
		memcpy(copy, kid, len + 1);
	memset(k, 0, sizeof(*k));
	if (len != JOSE_KID_LEN)
		return STORE_NOTFOUND;
	if ((st = store_pg_run_key(t, PG_KEY_GET, copy, len, &res)) !=
	    STORE_OK)
		return st;
	st = store_pg_record(res, 0, &rec, &reclen) ?
	    store_record_key_decode(rec, reclen, k) : STORE_NOTFOUND;
	PQclear(res);
	if (st == STORE_OK && strcmp(k->kid, copy) != 0) {
		key_free(k);
		return STORE_CORRUPT;
	}
	return st;
}

enum store_status
store_pg_key_put(struct store_txn *t, const struct key *k)
{
	struct store_pg_params p = {0};
	struct buf b = {0};
	PGresult *res;
	enum store_status st;

	if (!t->writable)
		return STORE_INVALID;
	if ((st = store_record_key_encode(k, &b)) == STORE_OK) {
		store_pg_param_str(&p, k->kid);
		store_pg_param(&p, b.data, b.len);
		if ((st = store_pg_run(t, PG_KEY_PUT, &p, &res)) == STORE_OK)
			PQclear(res);
	}
	/* The record holds the private key. */
	if (b.data != NULL)
		crypto_wipe(b.data, b.cap);
	buf_free(&b);
	return st;
}

enum store_status
store_pg_key_delete(struct store_txn *t, const char *kid)
{
	size_t len = strnlen(kid, JOSE_KID_LEN + 1);

	if (len != JOSE_KID_LEN)
		return t->writable ? STORE_NOTFOUND : STORE_INVALID;
	return store_pg_delete(t, PG_KEY_DELETE, kid, len);
}

enum store_status
store_pg_key_foreach(struct store_txn *t, store_key_fn cb, void *arg)
{
	struct store_each_fn each = { .key = cb, .arg = arg };

	return store_pg_walk(t, PG_KEY_LIST, PG_KEY_DELETE, NULL, 0, &each);
}

/* The scopes in use, asked of the clients table (store_scopes_get). */
enum store_status
store_pg_scopes_get(struct store_txn *t, char **out)
{
	struct store_pg_params p = {0};
	struct buf b = {0};
	PGresult *res;
	enum store_status st;
	int i, rows;

	if ((st = store_pg_run(t, PG_SCOPES, &p, &res)) != STORE_OK)
		return st;
	rows = PQntuples(res);
	for (i = 0; i < rows && st == STORE_OK; i++)
		if ((b.len > 0 && buf_puts(&b, " ") == -1) ||
		    buf_append(&b, PQgetvalue(res, i, 0),
		    (size_t)PQgetlength(res, i, 0)) == -1)
			st = STORE_NOMEM;
	PQclear(res);
	if (st == STORE_OK && (*out = b.data != NULL ? buf_steal(&b)
						     : strdup("")) == NULL)
		st = STORE_NOMEM;
	buf_free(&b);
	return st;
}

/* Counts by GROUP BY: each row is (state) or (kind, state), count. */
enum store_status
store_pg_stats(struct store_txn *t, int64_t now, struct store_stats *out)
{
	struct store_pg_params p = {0};
	PGresult *res;
	enum store_status st;
	int64_t kind, state, n;
	int i;

	if ((st = store_pg_run(t, PG_STATS_CLIENTS, &p, &res)) != STORE_OK)
		return st;
	if (PQntuples(res) == 1) {
		out->confidential = (size_t)store_pg_int(res, 0, 0);
		out->public = (size_t)store_pg_int(res, 0, 1);
	}
	PQclear(res);
	store_pg_param_int(&p, now, 8);
	if ((st = store_pg_run(t, PG_STATS_TOKENS, &p, &res)) != STORE_OK)
		return st;
	for (i = 0; i < PQntuples(res); i++) {
		kind = store_pg_int(res, i, 0);
		state = store_pg_int(res, i, 1);
		n = store_pg_int(res, i, 2);
		if (kind >= TOKEN_ACCESS && kind < TOKEN_KIND__MAX &&
		    state >= 0 && state < STORE_STATS_STATE__MAX)
			out->counts[kind - TOKEN_ACCESS][state] += (size_t)n;
	}
	PQclear(res);
	if ((st = store_pg_run(t, PG_STATS_GRANTS, &p, &res)) != STORE_OK)
		return st;
	for (i = 0; i < PQntuples(res); i++) {
		state = store_pg_int(res, i, 0);
		if (state >= 0 && state < STORE_STATS_STATE__MAX)
			out->counts[STORE_STATS_GRANTS][state] +=
			    (size_t)store_pg_int(res, i, 1);
	}
	PQclear(res);
	return STORE_OK;
}

enum store_status
store_pg_seen_put(struct store_txn *t, const unsigned char *hash, int64_t now,
    int64_t expires_at)
{
	struct store_pg_params p = {0};
	enum store_status st;
	PGresult *res;

	if (!t->writable || expires_at < 0)
		return STORE_INVALID;
	store_pg_param(&p, hash, TOKEN_HASH_LEN);
	store_pg_param_int(&p, now, 8);
	store_pg_param_int(&p, expires_at, 8);
	if ((st = store_pg_run(t, PG_SEEN_PUT, &p, &res)) != STORE_OK)
		return st;
	st = PQntuples(res) == 1 && store_pg_int(res, 0, 0) == 1 ? STORE_OK :
	    PQntuples(res) == 1 && store_pg_int(res, 0, 0) == 0 ?
	    STORE_EXISTS : STORE_CORRUPT;
	PQclear(res);
	return st;
}

/*
 * Runs one purge statement in batches of one transaction each until a
 * batch deletes fewer than STORE_PG_PURGE_BATCH rows; adds the first and
 * second counts of each batch to *a and *b.
 */
static enum store_status
store_pg_purge_batches(struct store *s, enum store_pg_stmt stmt, int64_t now,
    size_t *a, size_t *b)
{
	struct store_txn *t;
	int64_t first, second;
	enum store_status st;
	unsigned char be[8];
	size_t i;

	for (i = 0; i < sizeof(be); i++)
		be[i] = (unsigned char)((uint64_t)now >> (56 - 8 * i));
	for (;;) {
		if ((st = store_pg_txn_begin(s, 1, &t)) != STORE_OK)
			return st;
		st = store_pg_count2(t, stmt, be, sizeof(be), &first, &second);
		if (st == STORE_OK)
			st = store_pg_txn_commit(t);
		else
			store_pg_txn_abort(t);
		if (st != STORE_OK)
			return st;
		*a += (size_t)first;
		*b += (size_t)second;
		if ((stmt == PG_PURGE_TOKENS ? second : first) <
		    STORE_PG_PURGE_BATCH)
			return STORE_OK;
	}
}

/* As store_walk_purge: grants first, then tokens and codes. */
enum store_status
store_pg_purge(struct store *s, int64_t now, struct store_purged *out)
{
	size_t unused = 0, all = 0;
	enum store_status st;

	st = store_pg_purge_batches(s, PG_PURGE_GRANTS, now, &out->grants,
	    &unused);
	if (st == STORE_OK)
		st = store_pg_purge_batches(s, PG_PURGE_TOKENS, now,
		    &out->codes, &all);
	out->tokens = all - out->codes;
	if (st == STORE_OK)
		st = store_pg_purge_batches(s, PG_PURGE_SEEN, now, &out->seen,
		    &unused);
	return st;
}

