/*
 * What a storage backend provides: one table of functions, chosen once by
 * store_open, with the guarantees of store.h.  Only storage/ includes this.
 *
 * A backend's store and transaction structs begin with struct store and
 * struct store_txn, so that store.c can hand each call to the table the
 * store was opened with.  Every function returns a status of store.h and
 * leaves its out-parameters as the public function of the same name says.
 * A walk (foreach) decodes each record, hands it to the callback and frees
 * it after; STORE_EACH_DELETE deletes the record just seen (a read
 * transaction gets STORE_INVALID).  The set operations (drop_tokens,
 * stats, scopes, purge) are the backend's to do as it does best: a walk
 * over ordered keys in LMDB, a query in PostgreSQL.
 */
#ifndef STORE_BACKEND_H
#define STORE_BACKEND_H

#include "store.h"

struct store_ops;

struct store {
	const struct store_ops *ops;
	char detail[STORE_DETAIL_MAX];	/* the last failure, said safely */
};

struct store_txn {
	struct store *store;
	int writable;
};

typedef enum store_each (*store_client_fn)(const struct client *, void *);
typedef enum store_each (*store_token_fn)(const unsigned char *,
    const struct token *, void *);
typedef enum store_each (*store_grant_fn)(const struct grant *, void *);
typedef enum store_each (*store_key_fn)(const struct key *, void *);

/* The callback of a walk: exactly one of the four is set. */
struct store_each_fn {
	store_client_fn client;
	store_token_fn token;
	store_grant_fn grant;
	store_key_fn key;
	void *arg;
};

struct store_ops {
	const char *name;
	/* store_txn_blocks_others: 1 for LMDB, 0 for PostgreSQL. */
	int txn_blocks_others;
	void (*close)(struct store *);
	enum store_status (*txn_begin)(struct store *, int,
	    struct store_txn **);
	/* NULL where transactions do not nest (PostgreSQL). */
	enum store_status (*txn_begin_nested)(struct store_txn *,
	    struct store_txn **);
	enum store_status (*txn_commit)(struct store_txn *);
	/* NULL where hints do not help (LMDB). */
	void (*txn_hint_token)(struct store_txn *, const unsigned char *);
	void (*txn_abort)(struct store_txn *);

	enum store_status (*client_get)(struct store_txn *, const char *,
	    struct client *);
	enum store_status (*client_put)(struct store_txn *,
	    const struct client *, int);
	enum store_status (*client_delete)(struct store_txn *, const char *);
	enum store_status (*client_foreach)(struct store_txn *,
	    store_client_fn, void *);
	enum store_status (*client_drop_tokens)(struct store_txn *,
	    const char *, struct store_purged *);

	enum store_status (*token_get)(struct store_txn *,
	    const unsigned char *, struct token *);
	enum store_status (*token_put)(struct store_txn *,
	    const unsigned char *, const struct token *);
	enum store_status (*token_delete)(struct store_txn *,
	    const unsigned char *);
	enum store_status (*token_foreach_after)(struct store_txn *,
	    const unsigned char *, store_token_fn, void *);

	enum store_status (*grant_get)(struct store_txn *,
	    const unsigned char *, struct grant *);
	enum store_status (*grant_put)(struct store_txn *,
	    const struct grant *);
	enum store_status (*grant_foreach_after)(struct store_txn *,
	    const unsigned char *, store_grant_fn, void *);

	enum store_status (*key_get)(struct store_txn *, const char *,
	    struct key *);
	enum store_status (*key_put)(struct store_txn *, const struct key *);
	enum store_status (*key_delete)(struct store_txn *, const char *);
	enum store_status (*key_foreach)(struct store_txn *, store_key_fn,
	    void *);

	enum store_status (*seen_put)(struct store_txn *,
	    const unsigned char *, int64_t, int64_t);

	enum store_status (*scopes_get)(struct store_txn *, char **);
	enum store_status (*stats)(struct store_txn *, int64_t,
	    struct store_stats *);
	enum store_status (*purge)(struct store *, int64_t,
	    struct store_purged *);
	/* NULL where a database has no map to grow (PostgreSQL). */
	enum store_status (*map_grow)(struct store *);
	size_t (*map_size)(struct store *);
};

/* store_each.c */
enum store_status store_each_visit(const struct store_each_fn *,
    const void *, size_t, const void *, size_t, enum store_each *);

/* store_lmdb.c */
enum store_status store_lmdb_open(const char *, size_t, unsigned,
    struct store **, char *, size_t);

/* store_group.c: writes of a store's threads committed in groups. */
enum store_status store_group_open(struct store *, struct store **);

/* store_pg.c */
enum store_status store_pg_open(const char *, unsigned, struct store **,
    char *, size_t);

/* store_walk.c: set operations by walking every record, for LMDB. */
enum store_status store_walk_stats(struct store_txn *, int64_t,
    struct store_stats *);
enum store_status store_walk_drop_tokens(struct store_txn *, const char *,
    struct store_purged *);
enum store_status store_walk_purge(struct store *, int64_t,
    struct store_purged *);

/* store_lmdb.c: its derived records (the scopes in use). */
enum store_status store_meta_get(struct store_txn *, const char *,
    struct buf *);
enum store_status store_meta_put(struct store_txn *, const char *,
    const void *, size_t);

/* store_scopes.c: the scopes in use, kept as one derived LMDB record. */
enum store_status store_scopes_rebuild(struct store_txn *);
enum store_status store_scopes_record_get(struct store_txn *, char **);

/* store.c */
void store_set_detail(struct store *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* STORE_BACKEND_H */
