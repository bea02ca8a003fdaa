/*
 * The PostgreSQL backend's own pieces, shared by its files: store_pg.c
 * (the connection, statements, transactions), store_pg_rows.c (the
 * records and the set operations), store_pg_sql.c (the statements) and
 * store_pg_schema.c (the schema and its versions).
 */
#ifndef STORE_PG_H
#define STORE_PG_H

#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store_backend.h"

/*
 * store_pg_lib.c: libpq, loaded when a database is first opened rather
 * than linked, so that a process on LMDB (every CGI request, oauthctl)
 * does not map it and the thirty libraries it brings.  The calls of
 * store_pg*.c go through this table; the names below keep them reading
 * as libpq's own.
 */
#define STORE_PG_LIB_FUNCTIONS(X) \
	X(PGconn *, PQconnectdbParams, (const char *const *, const char *const *, int))\
	X(ConnStatusType, PQstatus, (const PGconn *))\
	X(char *, PQerrorMessage, (const PGconn *))\
	X(void, PQfinish, (PGconn *))\
	X(int, PQsocket, (const PGconn *))\
	X(PGresult *, PQexec, (PGconn *, const char *))\
	X(int, PQsendQuery, (PGconn *, const char *))\
	X(int, PQsendQueryParams, (PGconn *, const char *, int, const Oid *, const char *const *, const int *, const int *, int))\
	X(int, PQsendPrepare, (PGconn *, const char *, const char *, int, const Oid *))\
	X(int, PQsendQueryPrepared, (PGconn *, const char *, int, const char *const *, const int *, const int *, int))\
	X(PGresult *, PQgetResult, (PGconn *))\
	X(int, PQisBusy, (PGconn *))\
	X(int, PQconsumeInput, (PGconn *))\
	X(int, PQenterPipelineMode, (PGconn *))\
	X(int, PQexitPipelineMode, (PGconn *))\
	X(int, PQpipelineSync, (PGconn *))\
	X(ExecStatusType, PQresultStatus, (const PGresult *))\
	X(char *, PQresultErrorField, (const PGresult *, int))\
	X(char *, PQcmdStatus, (PGresult *))\
	X(char *, PQcmdTuples, (PGresult *))\
	X(int, PQntuples, (const PGresult *))\
	X(int, PQnfields, (const PGresult *))\
	X(char *, PQgetvalue, (const PGresult *, int, int))\
	X(int, PQgetlength, (const PGresult *, int, int))\
	X(int, PQgetisnull, (const PGresult *, int, int))\
	X(void, PQclear, (PGresult *))\
	X(PQconninfoOption *, PQconninfoParse, (const char *, char **))\
	X(void, PQconninfoFree, (PQconninfoOption *))\
	X(void, PQfreemem, (void *))

#define STORE_PG_LIB_FIELD(ret, name, args) ret (*name) args;
struct store_pg_lib {
	STORE_PG_LIB_FUNCTIONS(STORE_PG_LIB_FIELD)
};
#undef STORE_PG_LIB_FIELD

extern struct store_pg_lib store_pg_lib;
int store_pg_lib_load(char *, size_t);

#ifndef STORE_PG_LIB_DEFINING
#define PQconnectdbParams store_pg_lib.PQconnectdbParams
#define PQstatus store_pg_lib.PQstatus
#define PQerrorMessage store_pg_lib.PQerrorMessage
#define PQfinish store_pg_lib.PQfinish
#define PQsocket store_pg_lib.PQsocket
#define PQexec store_pg_lib.PQexec
#define PQsendQuery store_pg_lib.PQsendQuery
#define PQsendQueryParams store_pg_lib.PQsendQueryParams
#define PQsendPrepare store_pg_lib.PQsendPrepare
#define PQsendQueryPrepared store_pg_lib.PQsendQueryPrepared
#define PQgetResult store_pg_lib.PQgetResult
#define PQisBusy store_pg_lib.PQisBusy
#define PQconsumeInput store_pg_lib.PQconsumeInput
#define PQenterPipelineMode store_pg_lib.PQenterPipelineMode
#define PQexitPipelineMode store_pg_lib.PQexitPipelineMode
#define PQpipelineSync store_pg_lib.PQpipelineSync
#define PQresultStatus store_pg_lib.PQresultStatus
#define PQresultErrorField store_pg_lib.PQresultErrorField
#define PQcmdStatus store_pg_lib.PQcmdStatus
#define PQcmdTuples store_pg_lib.PQcmdTuples
#define PQntuples store_pg_lib.PQntuples
#define PQnfields store_pg_lib.PQnfields
#define PQgetvalue store_pg_lib.PQgetvalue
#define PQgetlength store_pg_lib.PQgetlength
#define PQgetisnull store_pg_lib.PQgetisnull
#define PQclear store_pg_lib.PQclear
#define PQconninfoParse store_pg_lib.PQconninfoParse
#define PQconninfoFree store_pg_lib.PQconninfoFree
#define PQfreemem store_pg_lib.PQfreemem
#endif

#define STORE_PG_BATCH 256		/* rows a walk fetches at a time */
#define STORE_PG_PURGE_BATCH 512	/* rows one purge transaction deletes */
#define STORE_PG_DEFER_MAX 8		/* puts that wait for the next round trip */
#define STORE_PG_PARAMS_MAX 7

/* The statements, prepared under their index's name on first use. */
enum store_pg_stmt {
	PG_CLIENT_GET = 0,
	PG_CLIENT_WITH_TOKEN,
	PG_CLIENT_INSERT,
	PG_CLIENT_UPSERT,
	PG_CLIENT_DELETE,
	PG_CLIENT_LIST,
	PG_CLIENT_DROP_TOKENS,
	PG_CLIENT_DROP_GRANTS,
	PG_TOKEN_GET_LOCKED,
	PG_TOKEN_GET_WITH_GRANT,
	PG_TOKEN_PUT,
	PG_TOKEN_DELETE,
	PG_TOKEN_LIST,
	PG_GRANT_GET,
	PG_GRANT_GET_LOCKED,
	PG_GRANT_PUT,
	PG_GRANT_DELETE,
	PG_GRANT_LIST,
	PG_KEY_GET,
	PG_KEY_PUT,
	PG_KEY_DELETE,
	PG_KEY_LIST,
	PG_SCOPES,
	PG_STATS_CLIENTS,
	PG_STATS_TOKENS,
	PG_STATS_GRANTS,
	PG_PURGE_GRANTS,
	PG_PURGE_TOKENS,
	PG_SEEN_PUT,
	PG_PURGE_SEEN,
	PG_STMT__MAX
};


/* store_pg_sql.c: each statement's text and number of parameters. */
struct store_pg_sql {
	const char *sql;
	int nparams;
};
extern const struct store_pg_sql store_pg_stmts[PG_STMT__MAX];

struct store_pg {
	struct store base;
	PGconn *conn;		/* NULL while the server is away */
	char *uri;		/* may hold a password: wiped at close */
	unsigned flags;
	pid_t pid;		/* the process that connected */
	unsigned char prepared[PG_STMT__MAX];
	struct timespec next_try;	/* no reconnection before it */
	struct log_limit log_limit;
};

/* The parameters of one statement, all in binary form. */
struct store_pg_params {
	const char *values[STORE_PG_PARAMS_MAX];
	int lengths[STORE_PG_PARAMS_MAX];
	int formats[STORE_PG_PARAMS_MAX];
	int count;
	unsigned char ints[STORE_PG_PARAMS_MAX][8];
};

/* A put store_pg_defer queued, with its own copy of the parameters. */
struct store_pg_deferred {
	enum store_pg_stmt stmt;
	struct store_pg_params params;	/* values point into bytes */
	struct buf bytes;
};

struct store_pg_txn {
	struct store_txn base;
	int begun;		/* BEGIN succeeded */
	int ran;		/* statements that succeeded */
	enum store_status failed;	/* the first failure; commit refuses */
	/* Read transactions: the grant read with the last token. */
	int cached;
	unsigned char cached_id[GRANT_ID_LEN];
	struct buf cached_record;	/* empty: there is no such grant */
	/* The token store_txn_hint_token named, read with the client. */
	int hinted;			/* not read yet */
	int token_cached;		/* read: in token_record */
	unsigned char token_hash[TOKEN_HASH_LEN];
	struct buf token_record;	/* empty: there is no such token */
	struct buf token_grant;		/* its grant's record, or empty */
	/* Puts that go with the next statement or COMMIT (store_pg_defer). */
	struct store_pg_deferred deferred[STORE_PG_DEFER_MAX];
	int ndeferred;
};


#define PS(s) ((struct store_pg *)(void *)(s))
#define PT(t) ((struct store_pg_txn *)(void *)(t))

#define PS(s) ((struct store_pg *)(void *)(s))
#define PT(t) ((struct store_pg_txn *)(void *)(t))

/* store_pg.c */
void store_pg_say(const PGconn *, const PGresult *, char *, size_t);
enum store_status store_pg_run(struct store_txn *, enum store_pg_stmt,
    const struct store_pg_params *, PGresult **);
enum store_status store_pg_defer(struct store_txn *, enum store_pg_stmt,
    const struct store_pg_params *);
void store_pg_param(struct store_pg_params *, const void *, size_t);
void store_pg_param_str(struct store_pg_params *, const char *);
void store_pg_param_int(struct store_pg_params *, int64_t, size_t);
void store_pg_param_bool(struct store_pg_params *, int);
int64_t store_pg_int(const PGresult *, int, int);
int store_pg_keep(const PGresult *, int, struct buf *);
enum store_status store_pg_txn_begin(struct store *, int,
    struct store_txn **);
enum store_status store_pg_txn_commit(struct store_txn *);
void store_pg_txn_abort(struct store_txn *);

/* store_pg_rows.c */
enum store_status store_pg_client_get(struct store_txn *, const char *,
    struct client *);
enum store_status store_pg_client_put(struct store_txn *,
    const struct client *, int);
enum store_status store_pg_client_delete(struct store_txn *, const char *);
enum store_status store_pg_client_foreach(struct store_txn *,
    store_client_fn, void *);
enum store_status store_pg_client_drop_tokens(struct store_txn *,
    const char *, struct store_purged *);
enum store_status store_pg_token_get(struct store_txn *,
    const unsigned char *, struct token *);
enum store_status store_pg_token_put(struct store_txn *,
    const unsigned char *, const struct token *);
enum store_status store_pg_token_delete(struct store_txn *,
    const unsigned char *);
enum store_status store_pg_token_foreach_after(struct store_txn *,
    const unsigned char *, store_token_fn, void *);
enum store_status store_pg_grant_get(struct store_txn *,
    const unsigned char *, struct grant *);
enum store_status store_pg_grant_put(struct store_txn *,
    const struct grant *);
enum store_status store_pg_grant_foreach_after(struct store_txn *,
    const unsigned char *, store_grant_fn, void *);
enum store_status store_pg_key_get(struct store_txn *, const char *,
    struct key *);
enum store_status store_pg_key_put(struct store_txn *, const struct key *);
enum store_status store_pg_key_delete(struct store_txn *, const char *);
enum store_status store_pg_key_foreach(struct store_txn *, store_key_fn,
    void *);
enum store_status store_pg_seen_put(struct store_txn *,
    const unsigned char *, int64_t, int64_t);
enum store_status store_pg_scopes_get(struct store_txn *, char **);
enum store_status store_pg_stats(struct store_txn *, int64_t,
    struct store_stats *);
enum store_status store_pg_purge(struct store *, int64_t,
    struct store_purged *);

/* store_pg_schema.c */
int store_pg_schema_version(void);
enum store_status store_pg_schema_ensure(PGconn *, int, char *, size_t);

#endif /* STORE_PG_H */
