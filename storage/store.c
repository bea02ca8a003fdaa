/*
 * The storage interface itself: store_open picks the backend OAUTH_DB
 * names, and every other call goes to the table of the store it is made
 * on.  The status texts live here, shared by both backends.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store_backend.h"

static const char *const store_messages[STORE_STATUS__MAX] = {
	[STORE_OK] = "success",
	[STORE_NOTFOUND] = "no such record",
	[STORE_EXISTS] = "record already exists",
	[STORE_FULL] = "database full or busy",
	[STORE_IOERR] = "database I/O error",
	[STORE_CORRUPT] = "corrupt database record",
	[STORE_INVALID] = "invalid record or operation",
	[STORE_NOMEM] = "out of memory",
	[STORE_UNAVAILABLE] = "database unavailable",
	[STORE_MISSING] = "no database there",
};

/*
 * Whether db names a PostgreSQL database: a URI of the postgresql: or
 * postgres: scheme, as libpq reads them.  Anything else is a directory.
 */
int
store_is_uri(const char *db)
{
	return strncasecmp(db, "postgresql://", 13) == 0 ||
	    strncasecmp(db, "postgres://", 11) == 0;
}

/* The store_open flags that carry out an OAUTH_DB_SYNC setting. */
unsigned
store_open_sync_flags(enum config_sync sync)
{
	switch (sync) {
	case CONFIG_SYNC_DATA:
		return STORE_OPEN_SYNC_DATA;
	case CONFIG_SYNC_NONE:
		return STORE_OPEN_SYNC_NONE;
	case CONFIG_SYNC_FULL:
	case CONFIG_SYNC__MAX:
		break;
	}
	return 0;
}

/*
 * Opens the database db names (store_is_uri): an LMDB environment in a
 * directory, with a map of map_size bytes (0: the default), or a
 * PostgreSQL database, whose schema must exist unless flags has
 * STORE_OPEN_CREATE (which creates the LMDB directory, or creates and
 * migrates the schema).  On success *sp is the caller's, released with
 * store_close.  On failure *sp is NULL and, when why is not NULL, it holds
 * what went wrong in words that never repeat a password or the whole
 * connection string.  With STORE_OPEN_THREADS an LMDB store serves every
 * thread and groups their commits (store_group.c) unless it flushes
 * none (STORE_OPEN_SYNC_NONE); PostgreSQL gets STORE_INVALID.  Returns STORE_MISSING when there is no database yet,
 * STORE_UNAVAILABLE when PostgreSQL cannot be reached, STORE_INVALID for a
 * schema newer than this program, or the failure of the backend.
 */
enum store_status
store_open(const char *db, size_t map_size, unsigned flags,
    struct store **sp, char *why, size_t whylen)
{
	char scratch[STORE_DETAIL_MAX];
	struct store *inner;
	enum store_status st;

	*sp = NULL;
	if (why == NULL || whylen == 0) {
		why = scratch;
		whylen = sizeof(scratch);
	}
	*why = '\0';
	if (store_is_uri(db))
		return (flags & STORE_OPEN_THREADS) ? STORE_INVALID :
		    store_pg_open(db, flags, sp, why, whylen);
	/*
	 * Without flushes there is nothing for a group to share: each thread
	 * then writes in a transaction of its own, LMDB's lock ordering them.
	 */
	if ((st = store_lmdb_open(db, map_size, flags, &inner, why,
	    whylen)) != STORE_OK || !(flags & STORE_OPEN_THREADS) ||
	    (flags & STORE_OPEN_SYNC_NONE)) {
		*sp = inner;
		return st;
	}
	if ((st = store_group_open(inner, sp)) != STORE_OK)
		store_close(inner);
	return st;
}

/* Closes the store.  Accepts NULL.  No transaction may be open. */
void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

/* "lmdb" or "postgresql". */
const char *
store_backend_name(const struct store *s)
{
	return s->ops->name;
}

/*
 * What the backend last said about a failure, for an operator: "" when
 * nothing.  Never a password, a token or a secret.
 */
const char *
store_detail(const struct store *s)
{
	return s->detail;
}

/* Sets the text store_detail returns. */
void
store_set_detail(struct store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
}

/*
 * Whether an open transaction costs other processes something before it
 * has written: LMDB's write transaction holds the one writer lock from
 * its begin, and its read transaction pins a snapshot that keeps freed
 * pages from reuse; PostgreSQL's transactions lock only the rows they
 * lock.  Where it is 1, slow work (a secret's KDF) belongs before the
 * transaction; where 0, inside it, saving a read.
 */
int
store_txn_blocks_others(const struct store *s)
{
	return s->ops->txn_blocks_others;
}

/*
 * Tells the read transaction t that it is about to read the token stored
 * under hash: a backend with round trips may fetch it, and its grant,
 * together with the next read (PostgreSQL: with the client's record, one
 * statement for all of introspection).  What the reads return is the
 * same with or without the hint.
 */
void
store_txn_hint_token(struct store_txn *t,
    const unsigned char hash[TOKEN_HASH_LEN])
{
	if (t->store->ops->txn_hint_token != NULL)
		t->store->ops->txn_hint_token(t, hash);
}

/*
 * Begins a transaction, read-only unless writable is set.  One process
 * holds at most one transaction of a store at a time.  On success *tp is
 * ended by store_txn_commit or store_txn_abort; NULL on failure.
 */
enum store_status
store_txn_begin(struct store *s, int writable, struct store_txn **tp)
{
	*tp = NULL;
	return s->ops->txn_begin(s, writable, tp);
}

/*
 * Commits t and ends it in every case.  A write transaction in which a put
 * or delete failed is aborted instead and returns that failure, so that a
 * half-done change is never written.  A failed commit wrote nothing.
 */
enum store_status
store_txn_commit(struct store_txn *t)
{
	return t->store->ops->txn_commit(t);
}

/* Ends t, discarding its writes.  Accepts NULL. */
void
store_txn_abort(struct store_txn *t)
{
	if (t != NULL)
		t->store->ops->txn_abort(t);
}

/*
 * Reads the client with the given id into *c, which the caller then owns
 * (client_free).  Returns STORE_NOTFOUND for an unknown id (an empty or
 * over-long one included), STORE_CORRUPT when the record does not decode
 * or names another id; *c is zeroed on failure.
 */
enum store_status
store_client_get(struct store_txn *t, const char *id, struct client *c)
{
	return t->store->ops->client_get(t, id, c);
}

/*
 * Stores c under its id, replacing a record already there only when
 * replace is set (STORE_EXISTS otherwise).  Returns STORE_INVALID for a
 * client breaking a limit (store_client_check) or a read-only transaction;
 * after any failure the caller must abort.
 */
enum store_status
store_client_put(struct store_txn *t, const struct client *c, int replace)
{
	return t->store->ops->client_put(t, c, replace);
}

/* Deletes a client.  Returns STORE_NOTFOUND when there was none. */
enum store_status
store_client_delete(struct store_txn *t, const char *id)
{
	return t->store->ops->client_delete(t, id);
}

/*
 * Walks the clients in id order (byte order).  The record is freed after
 * the callback, which must copy what it keeps and may read through t but
 * not write.  Returns STORE_OK at the end or on STORE_EACH_STOP,
 * STORE_CORRUPT at an undecodable record, or the backend's failure.
 */
enum store_status
store_client_foreach(struct store_txn *t,
    enum store_each (*cb)(const struct client *, void *), void *arg)
{
	return t->store->ops->client_foreach(t, cb, arg);
}

/*
 * Deletes, in the write transaction t, every token, code and grant of the
 * client id, adding how many to *out.  Returns STORE_OK, or a failure
 * after which the caller must abort.
 */
enum store_status
store_client_drop_tokens(struct store_txn *t, const char *id,
    struct store_purged *out)
{
	return t->store->ops->client_drop_tokens(t, id, out);
}

/*
 * Reads the token stored under hash into *tok, owned by the caller
 * (token_free); in a write transaction, keeps it from other writers until
 * t ends (store.h).  Returns STORE_NOTFOUND or STORE_CORRUPT with *tok
 * zeroed.
 */
enum store_status
store_token_get(struct store_txn *t, const unsigned char hash[TOKEN_HASH_LEN],
    struct token *tok)
{
	return t->store->ops->token_get(t, hash, tok);
}

/*
 * Stores tok under hash, replacing what was there.  Returns STORE_INVALID
 * for a token breaking a limit (store_token_check) or a read-only
 * transaction; after any failure the caller must abort.
 */
enum store_status
store_token_put(struct store_txn *t, const unsigned char hash[TOKEN_HASH_LEN],
    const struct token *tok)
{
	return t->store->ops->token_put(t, hash, tok);
}

/* Deletes a token.  Returns STORE_NOTFOUND when there was none. */
enum store_status
store_token_delete(struct store_txn *t,
    const unsigned char hash[TOKEN_HASH_LEN])
{
	return t->store->ops->token_delete(t, hash);
}

/* As store_client_foreach, in key order; cb also gets the key. */
enum store_status
store_token_foreach(struct store_txn *t,
    enum store_each (*cb)(const unsigned char *, const struct token *, void *),
    void *arg)
{
	return t->store->ops->token_foreach_after(t, NULL, cb, arg);
}

/*
 * As store_token_foreach, starting after the key after (NULL: at the
 * first), so that a long walk can go on in a later transaction.
 */
enum store_status
store_token_foreach_after(struct store_txn *t, const unsigned char *after,
    enum store_each (*cb)(const unsigned char *, const struct token *, void *),
    void *arg)
{
	return t->store->ops->token_foreach_after(t, after, cb, arg);
}

/*
 * Reads the grant with the given id into *g, owned by the caller
 * (grant_free); in a write transaction, keeps it from other writers until
 * t ends.  Returns STORE_NOTFOUND, or STORE_CORRUPT; *g is zeroed on
 * failure.
 */
enum store_status
store_grant_get(struct store_txn *t, const unsigned char id[GRANT_ID_LEN],
    struct grant *g)
{
	return t->store->ops->grant_get(t, id, g);
}

/* Stores g under its id, replacing what was there, as store_token_put. */
enum store_status
store_grant_put(struct store_txn *t, const struct grant *g)
{
	return t->store->ops->grant_put(t, g);
}

/* Walks the grants in id order, as store_client_foreach does. */
enum store_status
store_grant_foreach(struct store_txn *t,
    enum store_each (*cb)(const struct grant *, void *), void *arg)
{
	return t->store->ops->grant_foreach_after(t, NULL, cb, arg);
}

/* As store_grant_foreach, starting after the id after (NULL: the first). */
enum store_status
store_grant_foreach_after(struct store_txn *t, const unsigned char *after,
    enum store_each (*cb)(const struct grant *, void *), void *arg)
{
	return t->store->ops->grant_foreach_after(t, after, cb, arg);
}

/*
 * Reads the signing key kid into *k, owned by the caller (key_free, which
 * wipes its private key).  Returns STORE_NOTFOUND, or STORE_CORRUPT.
 */
enum store_status
store_key_get(struct store_txn *t, const char *kid, struct key *k)
{
	return t->store->ops->key_get(t, kid, k);
}

/*
 * Stores k under its kid, replacing what was there, as store_token_put;
 * every copy of the private key made on the way is wiped.
 */
enum store_status
store_key_put(struct store_txn *t, const struct key *k)
{
	return t->store->ops->key_put(t, k);
}

/* Deletes a signing key.  Returns STORE_NOTFOUND when there was none. */
enum store_status
store_key_delete(struct store_txn *t, const char *kid)
{
	return t->store->ops->key_delete(t, kid);
}

/* Walks the signing keys in kid order, as store_client_foreach does. */
enum store_status
store_key_foreach(struct store_txn *t,
    enum store_each (*cb)(const struct key *, void *), void *arg)
{
	return t->store->ops->key_foreach(t, cb, arg);
}

/*
 * Records, in a write transaction, that the single-use value whose
 * SHA-256 is hash (a DPoP proof's jti, RFC 9449 §11.1; a client
 * assertion's, RFC 7523 §3) has been seen, until expires_at: returns
 * STORE_EXISTS, writing nothing, when it was seen before and its record
 * has not expired at now, so that of any number of transactions, in any
 * process on any machine, that put one value, exactly one commits
 * STORE_OK (a second waits for the first as a token's get does).  An
 * expired record of it is replaced, and up to STORE_SEEN_SWEEP others
 * that have expired are deleted.  Returns STORE_INVALID in a read
 * transaction, or a failure of the backend.
 */
enum store_status
store_seen_put(struct store_txn *t, const unsigned char hash[TOKEN_HASH_LEN],
    int64_t now, int64_t expires_at)
{
	if (!t->writable)
		return STORE_INVALID;
	return t->store->ops->seen_put(t, hash, now, expires_at);
}

/*
 * The scope values the clients may have, sorted bytewise, distinct,
 * separated by single spaces ("" when none), at most STORE_SCOPES_MAX of
 * them (RFC 8414 §2 lets a server leave some unlisted), in *out for the
 * caller to free.  Returns STORE_OK, or a failure with *out NULL.
 */
enum store_status
store_scopes_get(struct store_txn *t, char **out)
{
	*out = NULL;
	return t->store->ops->scopes_get(t, out);
}

/* Counts the records as of now into *out (struct store_stats). */
enum store_status
store_stats(struct store_txn *t, int64_t now, struct store_stats *out)
{
	memset(out, 0, sizeof(*out));
	return t->store->ops->stats(t, now, out);
}

/*
 * Deletes what nothing needs any more at time now: expired tokens and
 * codes (store_token_purgeable keeps spent ones while their grant lives,
 * for replay detection) and expired grants, in bounded batches of one
 * transaction each, so that no lock is held for long.  Adds what was
 * deleted to *out.  Returns STORE_OK, or the failure that stopped it;
 * every batch before it stays deleted.
 */
enum store_status
store_purge(struct store *s, int64_t now, struct store_purged *out)
{
	memset(out, 0, sizeof(*out));
	return s->ops->purge(s, now, out);
}

/*
 * Grows LMDB's map by a quarter for a process that must write to a full
 * database.  Returns STORE_INVALID on a backend without a map.
 */
enum store_status
store_map_grow(struct store *s)
{
	return s->ops->map_grow != NULL ? s->ops->map_grow(s) : STORE_INVALID;
}

/* The bytes of LMDB's map this process has; 0 without a map. */
size_t
store_map_size(struct store *s)
{
	return s->ops->map_size != NULL ? s->ops->map_size(s) : 0;
}

/* A short text for st; never NULL. */
const char *
store_strerror(enum store_status st)
{
	if ((unsigned)st >= STORE_STATUS__MAX || store_messages[st] == NULL)
		return "unknown storage status";
	return store_messages[st];
}
