/*
 * The PostgreSQL backend: one connection per process, opened once and
 * opened again when it is lost; each statement prepared once per
 * connection, on first use; parameters and results in binary form.
 *
 * Transactions (store.h).  A write transaction sends BEGIN with its first
 * statement and COMMIT at the end, at READ COMMITTED; its gets of tokens
 * and grants are SELECT ... FOR UPDATE, which is what makes spending a
 * code or a refresh token happen exactly once across processes and
 * machines.  A read transaction sends no BEGIN: each statement reads the
 * latest committed state, which is all its callers need, at one round
 * trip per read; a token is read with its grant in one statement.
 *
 * Failures.  A lost connection fails the transaction it happened in with
 * STORE_UNAVAILABLE (answered 503), nothing of it committed; the next
 * transaction connects again, at most once every STORE_PG_RETRY_MS while
 * the server stays away, so that a down server costs requests no wait.
 * What the server said is kept for store_detail and logged at most once a
 * minute, without parameters: no token hash, secret or connection string
 * reaches a log.
 */
#include <arpa/inet.h>
#include <poll.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store_pg.h"

#define STORE_PG_BATCH 256		/* rows a walk fetches at a time */
#define STORE_PG_PURGE_BATCH 512	/* rows one purge transaction deletes */
#define STORE_PG_RETRY_MS 1000		/* between attempts to reconnect */
#define STORE_PG_PARAMS_MAX 7
#define STORE_PG_REPLY_MS 20000		/* the longest wait for one reply */

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
	PG_STMT__MAX
};

/*
 * The numbers the queries compare with are those of store.h's enums;
 * these assertions keep the two the same.
 */
_Static_assert(TOKEN_ACCESS == 1 && TOKEN_REFRESH == 2 && TOKEN_CODE == 3,
    "token kinds as the queries number them");
_Static_assert(TOKEN_STATE_ACTIVE == 0 && TOKEN_STATE_REVOKED == 1 &&
    TOKEN_STATE_USED == 2, "token states as the queries number them");
_Static_assert(STORE_STATS_ACTIVE == 0 && STORE_STATS_EXPIRED == 1 &&
    STORE_STATS_REVOKED == 2 && STORE_STATS_USED == 3,
    "stats states as the queries number them");

static const struct {
	const char *sql;
	int nparams;
} store_pg_stmts[PG_STMT__MAX] = {
	[PG_CLIENT_GET] = {"SELECT record FROM oauth_clients WHERE id = $1::text",
	    1},
	/* One round trip for all that introspection reads. */
	[PG_CLIENT_WITH_TOKEN] = {"SELECT c.record, t.record, g.record "
	    "FROM (SELECT 1) AS one "
	    "LEFT JOIN oauth_clients c ON c.id = $1::text "
	    "LEFT JOIN oauth_tokens t ON t.hash = $2::bytea "
	    "LEFT JOIN oauth_grants g ON g.id = t.grant_id", 2},
	[PG_CLIENT_INSERT] = {"INSERT INTO oauth_clients (id, is_public, scope, "
	    "record) VALUES ($1::text, $2::boolean, $3::text, $4::bytea) "
	    "ON CONFLICT (id) DO NOTHING", 4},
	[PG_CLIENT_UPSERT] = {"INSERT INTO oauth_clients (id, is_public, scope, "
	    "record) VALUES ($1::text, $2::boolean, $3::text, $4::bytea) "
	    "ON CONFLICT (id) DO UPDATE SET is_public = EXCLUDED.is_public, "
	    "scope = EXCLUDED.scope, record = EXCLUDED.record", 4},
	[PG_CLIENT_DELETE] = {"DELETE FROM oauth_clients WHERE id = $1::text",
	    1},
	[PG_CLIENT_LIST] = {"SELECT id, record FROM oauth_clients "
	    "WHERE id > $1::text ORDER BY id LIMIT 256", 1},
	[PG_CLIENT_DROP_TOKENS] = {"WITH d AS (DELETE FROM oauth_tokens "
	    "WHERE client_id = $1::text RETURNING kind) "
	    "SELECT count(*) FILTER (WHERE kind = 3), count(*) FROM d", 1},
	[PG_CLIENT_DROP_GRANTS] = {"WITH d AS (DELETE FROM oauth_grants "
	    "WHERE client_id = $1::text RETURNING 1) SELECT count(*) FROM d",
	    1},
	[PG_TOKEN_GET_LOCKED] = {"SELECT record FROM oauth_tokens "
	    "WHERE hash = $1::bytea FOR UPDATE", 1},
	[PG_TOKEN_GET_WITH_GRANT] = {"SELECT t.record, g.id, g.record "
	    "FROM oauth_tokens t LEFT JOIN oauth_grants g ON g.id = t.grant_id "
	    "WHERE t.hash = $1::bytea", 1},
	[PG_TOKEN_PUT] = {"INSERT INTO oauth_tokens (hash, kind, state, "
	    "client_id, grant_id, expires_at, record) VALUES ($1::bytea, "
	    "$2::smallint, $3::smallint, $4::text, $5::bytea, $6::bigint, "
	    "$7::bytea) ON CONFLICT (hash) DO UPDATE SET kind = EXCLUDED.kind, "
	    "state = EXCLUDED.state, client_id = EXCLUDED.client_id, "
	    "grant_id = EXCLUDED.grant_id, expires_at = EXCLUDED.expires_at, "
	    "record = EXCLUDED.record", 7},
	[PG_TOKEN_DELETE] = {"DELETE FROM oauth_tokens WHERE hash = $1::bytea",
	    1},
	[PG_TOKEN_LIST] = {"SELECT hash, record FROM oauth_tokens "
	    "WHERE hash > $1::bytea ORDER BY hash LIMIT 256", 1},
	[PG_GRANT_GET] = {"SELECT record FROM oauth_grants "
	    "WHERE id = $1::bytea", 1},
	[PG_GRANT_GET_LOCKED] = {"SELECT record FROM oauth_grants "
	    "WHERE id = $1::bytea FOR UPDATE", 1},
	[PG_GRANT_PUT] = {"INSERT INTO oauth_grants (id, client_id, revoked, "
	    "expires_at, record) VALUES ($1::bytea, $2::text, $3::boolean, "
	    "$4::bigint, $5::bytea) ON CONFLICT (id) DO UPDATE SET "
	    "client_id = EXCLUDED.client_id, revoked = EXCLUDED.revoked, "
	    "expires_at = EXCLUDED.expires_at, record = EXCLUDED.record", 5},
	[PG_GRANT_DELETE] = {"DELETE FROM oauth_grants WHERE id = $1::bytea",
	    1},
	[PG_GRANT_LIST] = {"SELECT id, record FROM oauth_grants "
	    "WHERE id > $1::bytea ORDER BY id LIMIT 256", 1},
	[PG_KEY_GET] = {"SELECT record FROM oauth_keys WHERE kid = $1::text", 1},
	[PG_KEY_PUT] = {"INSERT INTO oauth_keys (kid, record) VALUES "
	    "($1::text, $2::bytea) ON CONFLICT (kid) DO UPDATE SET "
	    "record = EXCLUDED.record", 2},
	[PG_KEY_DELETE] = {"DELETE FROM oauth_keys WHERE kid = $1::text", 1},
	[PG_KEY_LIST] = {"SELECT kid, record FROM oauth_keys "
	    "WHERE kid > $1::text ORDER BY kid LIMIT 256", 1},
	/* Bytewise, distinct, at most STORE_SCOPES_MAX (store.h). */
	[PG_SCOPES] = {"SELECT DISTINCT s COLLATE \"C\" FROM oauth_clients, "
	    "regexp_split_to_table(scope, ' ') AS s WHERE s <> '' "
	    "ORDER BY 1 LIMIT 256", 0},
	[PG_STATS_CLIENTS] = {"SELECT count(*) FILTER (WHERE NOT is_public), "
	    "count(*) FILTER (WHERE is_public) FROM oauth_clients", 0},
	/* The order of store_walk_count_token, as one GROUP BY. */
	[PG_STATS_TOKENS] = {"SELECT t.kind::integer, CASE "
	    "WHEN t.state = 0 AND t.expires_at > $1::bigint AND "
	    "(t.grant_id IS NULL OR (g.id IS NOT NULL AND NOT g.revoked)) "
	    "THEN 0 WHEN t.state = 2 AND t.kind IN (2, 3) THEN 3 "
	    "WHEN t.state = 1 THEN 2 WHEN t.expires_at <= $1::bigint THEN 1 "
	    "ELSE 2 END, count(*) FROM oauth_tokens t LEFT JOIN oauth_grants g "
	    "ON g.id = t.grant_id GROUP BY 1, 2", 1},
	[PG_STATS_GRANTS] = {"SELECT CASE WHEN revoked THEN 2 "
	    "WHEN expires_at <= $1::bigint THEN 1 ELSE 0 END, count(*) "
	    "FROM oauth_grants GROUP BY 1", 1},
	/*
	 * Purge: what store_walk_purge deletes, a batch at a time; rows a
	 * request holds are passed over until the next purge.
	 */
	[PG_PURGE_GRANTS] = {"WITH d AS (DELETE FROM oauth_grants WHERE id IN "
	    "(SELECT id FROM oauth_grants WHERE expires_at <= $1::bigint "
	    "LIMIT 512 FOR UPDATE SKIP LOCKED) RETURNING 1) "
	    "SELECT count(*) FROM d", 1},
	[PG_PURGE_TOKENS] = {"WITH d AS (DELETE FROM oauth_tokens WHERE hash IN "
	    "(SELECT t.hash FROM oauth_tokens t LEFT JOIN oauth_grants g "
	    "ON g.id = t.grant_id WHERE t.expires_at <= $1::bigint AND "
	    "(t.state <> 2 OR t.grant_id IS NULL OR g.id IS NULL OR g.revoked "
	    "OR g.expires_at <= $1::bigint) LIMIT 512 FOR UPDATE OF t "
	    "SKIP LOCKED) RETURNING kind) "
	    "SELECT count(*) FILTER (WHERE kind = 3), count(*) FROM d", 1},
};

_Static_assert(STORE_PG_BATCH == 256 && STORE_PG_PURGE_BATCH == 512 &&
    STORE_SCOPES_MAX == 256, "the LIMITs written in the queries");

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

struct store_pg_txn {
	struct store_txn base;
	int begun;		/* BEGIN was sent */
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
};

/* The parameters of one statement, all in binary form. */
struct store_pg_params {
	const char *values[STORE_PG_PARAMS_MAX];
	int lengths[STORE_PG_PARAMS_MAX];
	int formats[STORE_PG_PARAMS_MAX];
	int count;
	unsigned char ints[STORE_PG_PARAMS_MAX][8];
};

#define PS(s) ((struct store_pg *)(void *)(s))
#define PT(t) ((struct store_pg_txn *)(void *)(t))

static const struct store_ops store_pg_ops;

/*
 * Writes what the server or libpq said, its first line only, into why:
 * the SQLSTATE and primary message of res, else conn's message.  Neither
 * holds parameters or the connection string.
 */
void
store_pg_say(const PGconn *conn, const PGresult *res, char *why,
    size_t whylen)
{
	const char *code = NULL, *msg = NULL;
	size_t len;

	if (res != NULL) {
		code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	}
	if (msg == NULL)
		msg = conn != NULL ? PQerrorMessage(conn) : "";
	if (msg == NULL || *msg == '\0')
		msg = "the server did not say";
	len = strcspn(msg, "\n");
	(void)snprintf(why, whylen, "%s%s%.*s", code != NULL ? code : "",
	    code != NULL ? ": " : "", (int)len, msg);
}

/* Whether the clock has reached when. */
static int
store_pg_time_reached(const struct timespec *when)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 1;
	return now.tv_sec > when->tv_sec ||
	    (now.tv_sec == when->tv_sec && now.tv_nsec >= when->tv_nsec);
}

/* Keeps why as the store's detail and logs it, at most once a minute. */
static void
store_pg_note(struct store_pg *s, const char *why)
{
	store_set_detail(&s->base, "%s", why);
	log_event_limited(&s->log_limit, "postgresql: %s", why);
}

/*
 * Connects to the server the URI names and checks (or, with create,
 * makes) the schema.  The defaults given before the URI bound how long a
 * connection attempt, a statement, a lock wait and an idle transaction
 * may take, and ask for READ COMMITTED, under which a lock wait ends in
 * the newest row rather than a serialization failure; the URI may set
 * others.  (Under a stricter isolation spending stays exactly once; the
 * losers of a race get 503 instead of invalid_grant.)
 * Returns STORE_OK with s->conn set, or the failure with why set and
 * s->conn NULL.
 */
static enum store_status
store_pg_connect(struct store_pg *s, char *why, size_t whylen)
{
	static const char *const keys[] = {
		"connect_timeout", "application_name", "options", "dbname",
		NULL
	};
	const char *values[] = {
		"10", "fcgi-oauth",
		"-c statement_timeout=15000 -c lock_timeout=10000 "
		"-c idle_in_transaction_session_timeout=60000 "
		"-c default_transaction_isolation=read\\ committed",
		s->uri, NULL
	};
	enum store_status st;

	memset(s->prepared, 0, sizeof(s->prepared));
	if ((s->conn = PQconnectdbParams(keys, values, 1)) == NULL) {
		(void)snprintf(why, whylen, "out of memory");
		return STORE_NOMEM;
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		store_pg_say(s->conn, NULL, why, whylen);
		PQfinish(s->conn);
		s->conn = NULL;
		return STORE_UNAVAILABLE;
	}
	st = store_pg_schema_ensure(s->conn,
	    (s->flags & STORE_OPEN_CREATE) != 0, why, whylen);
	if (st != STORE_OK) {
		PQfinish(s->conn);
		s->conn = NULL;
	}
	return st;
}

/*
 * Makes sure s has a live connection before a transaction: one lost is
 * opened again, unless the last attempt failed less than
 * STORE_PG_RETRY_MS ago.  Returns STORE_OK or STORE_UNAVAILABLE (or the
 * failure of the schema check).
 */
static enum store_status
store_pg_live(struct store_pg *s)
{
	char why[STORE_DETAIL_MAX];
	enum store_status st;

	if (s->conn != NULL && PQstatus(s->conn) == CONNECTION_OK)
		return STORE_OK;
	if (s->conn != NULL) {
		PQfinish(s->conn);
		s->conn = NULL;
	}
	if (!store_pg_time_reached(&s->next_try))
		return STORE_UNAVAILABLE;
	if ((st = store_pg_connect(s, why, sizeof(why))) == STORE_OK)
		return STORE_OK;
	store_pg_note(s, why);
	if (clock_gettime(CLOCK_MONOTONIC, &s->next_try) == 0) {
		s->next_try.tv_nsec += (long)STORE_PG_RETRY_MS % 1000 * 1000000;
		s->next_try.tv_sec += STORE_PG_RETRY_MS / 1000 +
		    s->next_try.tv_nsec / 1000000000;
		s->next_try.tv_nsec %= 1000000000;
	}
	return st;
}

/*
 * Opens the database uri names (store_open).  With STORE_OPEN_LAZY a
 * server that cannot be reached now is no failure: the first transaction
 * connects.  The URI is kept for reconnecting, and wiped at close.
 */
enum store_status
store_pg_open(const char *uri, unsigned flags, struct store **sp, char *why,
    size_t whylen)
{
	struct store_pg *s;
	enum store_status st;

	*sp = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return STORE_NOMEM;
	s->base.ops = &store_pg_ops;
	s->flags = flags;
	s->pid = getpid();
	if ((s->uri = strdup(uri)) == NULL) {
		free(s);
		return STORE_NOMEM;
	}
	st = store_pg_connect(s, why, whylen);
	if (st == STORE_UNAVAILABLE && (flags & STORE_OPEN_LAZY)) {
		store_pg_note(s, why);
		st = STORE_OK;
	}
	if (st != STORE_OK) {
		crypto_wipe(s->uri, strlen(s->uri));
		free(s->uri);
		free(s);
		return st;
	}
	*sp = &s->base;
	return STORE_OK;
}

static void
store_pg_close(struct store *base)
{
	struct store_pg *s = PS(base);

	/*
	 * A connection inherited across fork is the parent's: closing it
	 * here would end the parent's session.
	 */
	if (s->conn != NULL && s->pid == getpid())
		PQfinish(s->conn);
	crypto_wipe(s->uri, strlen(s->uri));
	free(s->uri);
	free(s);
}

/*
 * Maps a failed result to a status: what is worth retrying (the
 * connection, a conflict the server broke, a timeout, a server shutting
 * down or full of connections) is STORE_UNAVAILABLE; a full disk
 * STORE_FULL; everything else STORE_IOERR.
 */
static enum store_status
store_pg_status(const PGconn *conn, const PGresult *res)
{
	const char *code = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(conn) != CONNECTION_OK || code == NULL ||
	    strncmp(code, "08", 2) == 0 || strcmp(code, "40001") == 0 ||
	    strcmp(code, "40P01") == 0 || strcmp(code, "55P03") == 0 ||
	    strcmp(code, "57014") == 0 || strncmp(code, "57P", 3) == 0 ||
	    strcmp(code, "53300") == 0)
		return STORE_UNAVAILABLE;
	if (strncmp(code, "53", 2) == 0)
		return STORE_FULL;
	return STORE_IOERR;
}

/* What a pipeline of store_pg_pipeline did, command by command. */
struct store_pg_piped {
	int begun;		/* BEGIN succeeded */
	int prepared;		/* the statement is prepared on the server */
	PGresult *res;		/* the statement's result, or the failure */
	int failed;
};

/* Whether res is a success, or the refusal to prepare a name twice. */
static int
store_pg_piped_ok(const PGresult *res, int preparing)
{
	ExecStatusType rs = PQresultStatus(res);
	const char *code;

	if (res != NULL && (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK))
		return 1;
	/* 42P05, duplicate_prepared_statement: it is there. */
	return preparing && res != NULL &&
	    (code = PQresultErrorField(res, PG_DIAG_SQLSTATE)) != NULL &&
	    strcmp(code, "42P05") == 0;
}

/* Milliseconds from now to when; 0 once it has passed. */
static int
store_pg_ms_until(const struct timespec *when)
{
	struct timespec now;
	long long ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 0;
	ms = (long long)(when->tv_sec - now.tv_sec) * 1000 +
	    (when->tv_nsec - now.tv_nsec) / 1000000;
	return ms <= 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/*
 * The next result on s's connection, NULL at the end of a command's
 * results.  libpq would wait for ever on a server that stopped answering
 * without closing the connection; this waits at most STORE_PG_REPLY_MS
 * for each reply (the server's own statement_timeout, 15 s, ends a slow
 * statement first), then closes the connection, so that the request is
 * answered 503 and the next one connects again.
 */
static PGresult *
store_pg_next(struct store_pg *s)
{
	struct timespec deadline;
	struct pollfd pfd;
	int ms;

	if (s->conn == NULL)
		return NULL;
	if (clock_gettime(CLOCK_MONOTONIC, &deadline) == 0)
		deadline.tv_sec += STORE_PG_REPLY_MS / 1000;
	while (PQisBusy(s->conn)) {
		if ((ms = store_pg_ms_until(&deadline)) == 0) {
			store_pg_note(s, "no answer from the server in time: "
			    "connection closed");
			PQfinish(s->conn);
			s->conn = NULL;
			return NULL;
		}
		pfd.fd = PQsocket(s->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, ms) == -1 && errno != EINTR)
			break;
		/* A failure is read as a result or a bad connection. */
		if (!PQconsumeInput(s->conn))
			break;
	}
	return PQgetResult(s->conn);
}

/*
 * The results of one command, up to the NULL that ends them: the first
 * failed one, else the last.  NULL when the connection gave none.
 */
static PGresult *
store_pg_results(struct store_pg *s)
{
	PGresult *res, *keep = NULL;

	while ((res = store_pg_next(s)) != NULL) {
		if (keep != NULL && !store_pg_piped_ok(keep, 0)) {
			PQclear(res);
			continue;
		}
		PQclear(keep);
		keep = res;
	}
	return keep;
}

/*
 * Sends BEGIN when begin is set, PREPARE when prepare is set, then the
 * statement, in one pipeline: one round trip for all three.  Fills *out:
 * what took, and the statement's result or the first failure (res NULL
 * when the connection gave none).
 */
static void
store_pg_pipeline(struct store_pg *s, int begin, int prepare,
    const char *name, enum store_pg_stmt stmt,
    const struct store_pg_params *p, struct store_pg_piped *out)
{
	PGconn *conn = s->conn;
	PGresult *res;

	memset(out, 0, sizeof(*out));
	out->failed = 1;
	if (!PQenterPipelineMode(conn))
		return;
	if ((begin && !PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL,
	    NULL, 0)) ||
	    (prepare && !PQsendPrepare(conn, name, store_pg_stmts[stmt].sql,
	    store_pg_stmts[stmt].nparams, NULL)) ||
	    !PQsendQueryPrepared(conn, name, p->count, p->values, p->lengths,
	    p->formats, 1) || !PQpipelineSync(conn)) {
		(void)PQexitPipelineMode(conn);
		return;
	}
	if (begin) {
		res = store_pg_results(s);
		out->begun = store_pg_piped_ok(res, 0);
		if (!out->begun)
			out->res = res;
		else
			PQclear(res);
	}
	if (prepare) {
		res = store_pg_results(s);
		out->prepared = store_pg_piped_ok(res, 1);
		if (!out->prepared && out->res == NULL)
			out->res = res;
		else
			PQclear(res);
	} else
		out->prepared = 1;
	res = store_pg_results(s);
	if (out->res == NULL && store_pg_piped_ok(res, 0)) {
		out->res = res;
		out->failed = 0;
	} else if (out->res == NULL)
		out->res = res;
	else
		PQclear(res);
	/* The sync point, then the connection is idle again. */
	if ((res = store_pg_next(s)) != NULL)
		PQclear(res);
	if (s->conn != NULL)
		(void)PQexitPipelineMode(s->conn);
}

/*
 * Runs the statement stmt with params in t, beginning t on the server
 * first when it is a write transaction not yet begun, and preparing stmt
 * when this connection has not: those travel with the statement in one
 * pipeline.  Returns STORE_OK with *out the result (PQclear), or the
 * failure, remembered in t so that commit refuses.
 */
static enum store_status
store_pg_run(struct store_txn *t, enum store_pg_stmt stmt,
    const struct store_pg_params *p, PGresult **out)
{
	struct store_pg *s = PS(t->store);
	char name[16], why[STORE_DETAIL_MAX];
	PGresult *res;
	struct store_pg_piped piped;
	enum store_status st;
	int begin, prepare, failed;

	*out = NULL;
	if (PT(t)->failed != STORE_OK)
		return PT(t)->failed;
	if (s->conn == NULL) {
		st = STORE_UNAVAILABLE;
		goto fail;
	}
	(void)snprintf(name, sizeof(name), "oauth_%d", (int)stmt);
	begin = t->writable && !PT(t)->begun;
	prepare = !s->prepared[stmt];
	if (begin || prepare) {
		store_pg_pipeline(s, begin, prepare, name, stmt, p, &piped);
		s->prepared[stmt] = (unsigned char)piped.prepared;
		PT(t)->begun |= piped.begun;
		res = piped.res;
		failed = piped.failed;
	} else {
		res = PQsendQueryPrepared(s->conn, name, p->count, p->values,
		    p->lengths, p->formats, 1) ? store_pg_results(s) : NULL;
		failed = !store_pg_piped_ok(res, 0);
	}
	if (!failed) {
		*out = res;
		return STORE_OK;
	}
	st = store_pg_status(s->conn, res);
	store_pg_say(s->conn, res, why, sizeof(why));
	store_pg_note(s, why);
	PQclear(res);
fail:
	PT(t)->failed = st;
	return st;
}

/* Adds a parameter of len bytes at v (NULL: SQL NULL). */
static void
store_pg_param(struct store_pg_params *p, const void *v, size_t len)
{
	p->values[p->count] = v;
	p->lengths[p->count] = (int)len;
	p->formats[p->count] = 1;
	p->count++;
}

static void
store_pg_param_str(struct store_pg_params *p, const char *s)
{
	store_pg_param(p, s, strlen(s));
}

/* An integer of size bytes (2 or 8), in network order. */
static void
store_pg_param_int(struct store_pg_params *p, int64_t v, size_t size)
{
	unsigned char *b = p->ints[p->count];
	uint64_t u = (uint64_t)v;
	size_t i;

	for (i = 0; i < size; i++)
		b[i] = (unsigned char)(u >> (8 * (size - 1 - i)));
	store_pg_param(p, b, size);
}

static void
store_pg_param_bool(struct store_pg_params *p, int v)
{
	unsigned char *b = p->ints[p->count];

	b[0] = v != 0;
	store_pg_param(p, b, 1);
}

/* An integer result of 2, 4 or 8 bytes; 0 for NULL or another size. */
static int64_t
store_pg_int(const PGresult *res, int row, int col)
{
	const unsigned char *b = (const unsigned char *)PQgetvalue(res, row, col);
	int len = PQgetlength(res, row, col), i;
	uint64_t u = 0;

	if (PQgetisnull(res, row, col) || (len != 2 && len != 4 && len != 8))
		return 0;
	for (i = 0; i < len; i++)
		u = u << 8 | b[i];
	if (len < 8 && (b[0] & 0x80))
		u |= ~(uint64_t)0 << (8 * len);
	return (int64_t)u;
}

/* A read transaction begins nothing on the server; a write one lazily. */
static enum store_status
store_pg_txn_begin(struct store *base, int writable, struct store_txn **tp)
{
	struct store_pg *s = PS(base);
	struct store_pg_txn *t;
	enum store_status st;

	if (s->pid != getpid())
		return STORE_IOERR;
	if ((st = store_pg_live(s)) != STORE_OK)
		return st;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return STORE_NOMEM;
	t->base.store = base;
	t->base.writable = writable != 0;
	t->failed = STORE_OK;
	*tp = &t->base;
	return STORE_OK;
}

/* Ends t on the server when it was begun there, and frees it. */
static void
store_pg_txn_end(struct store_pg_txn *t, int commit, enum store_status *st)
{
	struct store_pg *s = PS(t->base.store);
	char why[STORE_DETAIL_MAX];
	PGresult *res;

	if (t->begun && s->conn != NULL) {
		res = PQsendQuery(s->conn, commit ? "COMMIT" : "ROLLBACK") ?
		    store_pg_results(s) : NULL;
		/* COMMIT of a failed transaction answers ROLLBACK. */
		if (commit && (res == NULL ||
		    PQresultStatus(res) != PGRES_COMMAND_OK ||
		    strcmp(PQcmdStatus(res), "COMMIT") != 0)) {
			*st = store_pg_status(s->conn, res);
			store_pg_say(s->conn, res, why, sizeof(why));
			store_pg_note(s, why);
		}
		PQclear(res);
	}
	buf_free(&t->cached_record);
	buf_free(&t->token_record);
	buf_free(&t->token_grant);
	free(t);
}

/* Remembers the token a read transaction will read (store_txn_hint_token). */
static void
store_pg_txn_hint_token(struct store_txn *base, const unsigned char *hash)
{
	struct store_pg_txn *t = PT(base);

	if (base->writable)
		return;
	memcpy(t->token_hash, hash, TOKEN_HASH_LEN);
	t->hinted = 1;
	t->token_cached = 0;
}

/* Copies column col of row 0 of res into b: empty for NULL. */
static int
store_pg_keep(const PGresult *res, int col, struct buf *b)
{
	b->len = 0;
	if (PQgetisnull(res, 0, col))
		return 0;
	return buf_append(b, PQgetvalue(res, 0, col),
	    (size_t)PQgetlength(res, 0, col));
}

static enum store_status
store_pg_txn_commit(struct store_txn *base)
{
	struct store_pg_txn *t = PT(base);
	enum store_status st = t->failed;

	store_pg_txn_end(t, st == STORE_OK, &st);
	return st;
}

static void
store_pg_txn_abort(struct store_txn *base)
{
	enum store_status ignored = STORE_OK;

	store_pg_txn_end(PT(base), 0, &ignored);
}

/*
 * Decodes the record in column col of row 0 of res with decode, when
 * there is a row.  Returns STORE_NOTFOUND for none.
 */
static enum store_status
store_pg_decode(const PGresult *res, int col,
    enum store_status (*decode)(const void *, size_t, void *), void *out)
{
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, col))
		return STORE_NOTFOUND;
	return decode(PQgetvalue(res, 0, col), (size_t)PQgetlength(res, 0, col),
	    out);
}

/* The decoders, under one type for store_pg_decode. */
static enum store_status
store_pg_decode_client(const void *p, size_t len, void *out)
{
	return store_record_client_decode(p, len, out);
}

static enum store_status
store_pg_decode_token(const void *p, size_t len, void *out)
{
	return store_record_token_decode(p, len, out);
}

static enum store_status
store_pg_decode_grant(const void *p, size_t len, void *out)
{
	return store_record_grant_decode(p, len, out);
}

static enum store_status
store_pg_decode_key(const void *p, size_t len, void *out)
{
	return store_record_key_decode(p, len, out);
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

static enum store_status
store_pg_client_get(struct store_txn *t, const char *id, struct client *c)
{
	struct store_pg_params p = {0};
	char key[CLIENT_ID_MAX + 1];
	size_t len = strnlen(id, CLIENT_ID_MAX + 1);
	PGresult *res;
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
	st = store_pg_decode(res, 0, store_pg_decode_client, c);
	PQclear(res);
	if (st == STORE_OK && strcmp(c->id, key) != 0) {
		client_free(c);
		return STORE_CORRUPT;
	}
	return st;
}

static enum store_status
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

static enum store_status
store_pg_client_delete(struct store_txn *t, const char *id)
{
	size_t len = strnlen(id, CLIENT_ID_MAX + 1);

	if (len == 0 || len > CLIENT_ID_MAX)
		return t->writable ? STORE_NOTFOUND : STORE_INVALID;
	return store_pg_delete(t, PG_CLIENT_DELETE, id, len);
}

/*
 * The walk of one table in key order, STORE_PG_BATCH rows a statement,
 * each batch resuming after the last key of the one before.  visit gets
 * each row's key and record; it returns the callback's answer, or
 * STORE_EACH__MAX after it set *st to a failure.
 */
static enum store_status
store_pg_walk(struct store_txn *t, enum store_pg_stmt list,
    enum store_pg_stmt del, const void *after, size_t afterlen,
    enum store_each (*visit)(const char *, size_t, const char *, size_t,
    void *, enum store_status *), void *arg)
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
			e = visit(PQgetvalue(res, i, 0),
			    (size_t)PQgetlength(res, i, 0),
			    PQgetvalue(res, i, 1),
			    (size_t)PQgetlength(res, i, 1), arg, &st);
			if (e == STORE_EACH__MAX)
				goto out;
			if (e == STORE_EACH_STOP)
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

/* What a walk hands its visit function: the caller's callback. */
struct store_pg_each {
	union {
		store_client_fn client;
		store_token_fn token;
		store_grant_fn grant;
		store_key_fn key;
	} cb;
	void *arg;
};

static enum store_each
store_pg_visit_client(const char *key, size_t keylen, const char *rec,
    size_t len, void *arg, enum store_status *st)
{
	struct store_pg_each *each = arg;
	struct client c;
	enum store_each e;

	if ((*st = store_record_client_decode(rec, len, &c)) != STORE_OK)
		return STORE_EACH__MAX;
	if (strlen(c.id) != keylen || memcmp(c.id, key, keylen) != 0) {
		client_free(&c);
		*st = STORE_CORRUPT;
		return STORE_EACH__MAX;
	}
	e = each->cb.client(&c, each->arg);
	client_free(&c);
	return e;
}

static enum store_each
store_pg_visit_token(const char *key, size_t keylen, const char *rec,
    size_t len, void *arg, enum store_status *st)
{
	struct store_pg_each *each = arg;
	struct token tok;
	enum store_each e;

	if (keylen != TOKEN_HASH_LEN) {
		*st = STORE_CORRUPT;
		return STORE_EACH__MAX;
	}
	if ((*st = store_record_token_decode(rec, len, &tok)) != STORE_OK)
		return STORE_EACH__MAX;
	e = each->cb.token((const unsigned char *)key, &tok, each->arg);
	token_free(&tok);
	return e;
}

static enum store_each
store_pg_visit_grant(const char *key, size_t keylen, const char *rec,
    size_t len, void *arg, enum store_status *st)
{
	struct store_pg_each *each = arg;
	struct grant g;
	enum store_each e;

	if ((*st = store_record_grant_decode(rec, len, &g)) != STORE_OK)
		return STORE_EACH__MAX;
	if (keylen != GRANT_ID_LEN || memcmp(g.id, key, keylen) != 0) {
		grant_free(&g);
		*st = STORE_CORRUPT;
		return STORE_EACH__MAX;
	}
	e = each->cb.grant(&g, each->arg);
	grant_free(&g);
	return e;
}

static enum store_each
store_pg_visit_key(const char *key, size_t keylen, const char *rec,
    size_t len, void *arg, enum store_status *st)
{
	struct store_pg_each *each = arg;
	struct key k;
	enum store_each e;

	if ((*st = store_record_key_decode(rec, len, &k)) != STORE_OK)
		return STORE_EACH__MAX;
	if (strlen(k.kid) != keylen || memcmp(k.kid, key, keylen) != 0) {
		key_free(&k);
		*st = STORE_CORRUPT;
		return STORE_EACH__MAX;
	}
	e = each->cb.key(&k, each->arg);
	key_free(&k);
	return e;
}

static enum store_status
store_pg_client_foreach(struct store_txn *t, store_client_fn cb, void *arg)
{
	struct store_pg_each each = { .cb.client = cb, .arg = arg };

	return store_pg_walk(t, PG_CLIENT_LIST, PG_CLIENT_DELETE, NULL, 0,
	    store_pg_visit_client, &each);
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

static enum store_status
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

static enum store_status
store_pg_token_get(struct store_txn *t, const unsigned char *hash,
    struct token *tok)
{
	struct store_pg_txn *pt = PT(t);
	PGresult *res;
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
	st = store_pg_decode(res, 0, store_pg_decode_token, tok);
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

static enum store_status
store_pg_token_put(struct store_txn *t, const unsigned char *hash,
    const struct token *tok)
{
	struct store_pg_params p = {0};
	struct buf b = {0};
	PGresult *res;
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
	st = store_pg_run(t, PG_TOKEN_PUT, &p, &res);
	buf_free(&b);
	if (st == STORE_OK)
		PQclear(res);
	return st;
}

static enum store_status
store_pg_token_delete(struct store_txn *t, const unsigned char *hash)
{
	return store_pg_delete(t, PG_TOKEN_DELETE, hash, TOKEN_HASH_LEN);
}

static enum store_status
store_pg_token_foreach_after(struct store_txn *t, const unsigned char *after,
    store_token_fn cb, void *arg)
{
	struct store_pg_each each = { .cb.token = cb, .arg = arg };

	return store_pg_walk(t, PG_TOKEN_LIST, PG_TOKEN_DELETE, after,
	    after != NULL ? TOKEN_HASH_LEN : 0, store_pg_visit_token, &each);
}

static enum store_status
store_pg_grant_get(struct store_txn *t, const unsigned char *id,
    struct grant *g)
{
	struct store_pg_txn *pt = PT(t);
	unsigned char key[GRANT_ID_LEN];
	PGresult *res;
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
		st = store_pg_decode(res, 0, store_pg_decode_grant, g);
		PQclear(res);
	}
	if (st == STORE_OK && memcmp(g->id, key, sizeof(key)) != 0) {
		grant_free(g);
		return STORE_CORRUPT;
	}
	return st;
}

static enum store_status
store_pg_grant_put(struct store_txn *t, const struct grant *g)
{
	struct store_pg_params p = {0};
	struct buf b = {0};
	PGresult *res;
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
	st = store_pg_run(t, PG_GRANT_PUT, &p, &res);
	buf_free(&b);
	if (st == STORE_OK)
		PQclear(res);
	return st;
}

static enum store_status
store_pg_grant_foreach_after(struct store_txn *t, const unsigned char *after,
    store_grant_fn cb, void *arg)
{
	struct store_pg_each each = { .cb.grant = cb, .arg = arg };

	return store_pg_walk(t, PG_GRANT_LIST, PG_GRANT_DELETE, after,
	    after != NULL ? GRANT_ID_LEN : 0, store_pg_visit_grant, &each);
}

static enum store_status
store_pg_key_get(struct store_txn *t, const char *kid, struct key *k)
{
	char copy[JOSE_KID_LEN + 1];
	size_t len = strnlen(kid, JOSE_KID_LEN + 1);
	PGresult *res;
	enum store_status st;

	memset(k, 0, sizeof(*k));
	if (len != JOSE_KID_LEN)
		return STORE_NOTFOUND;
	memcpy(copy, kid, len + 1);
	if ((st = store_pg_run_key(t, PG_KEY_GET, copy, len, &res)) !=
	    STORE_OK)
		return st;
	st = store_pg_decode(res, 0, store_pg_decode_key, k);
	PQclear(res);
	if (st == STORE_OK && strcmp(k->kid, copy) != 0) {
		key_free(k);
		return STORE_CORRUPT;
	}
	return st;
}

static enum store_status
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

static enum store_status
store_pg_key_delete(struct store_txn *t, const char *kid)
{
	size_t len = strnlen(kid, JOSE_KID_LEN + 1);

	if (len != JOSE_KID_LEN)
		return t->writable ? STORE_NOTFOUND : STORE_INVALID;
	return store_pg_delete(t, PG_KEY_DELETE, kid, len);
}

static enum store_status
store_pg_key_foreach(struct store_txn *t, store_key_fn cb, void *arg)
{
	struct store_pg_each each = { .cb.key = cb, .arg = arg };

	return store_pg_walk(t, PG_KEY_LIST, PG_KEY_DELETE, NULL, 0,
	    store_pg_visit_key, &each);
}

/* The scopes in use, asked of the clients table (store_scopes_get). */
static enum store_status
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
static enum store_status
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
		if ((stmt == PG_PURGE_GRANTS ? first : second) <
		    STORE_PG_PURGE_BATCH)
			return STORE_OK;
	}
}

/* As store_walk_purge: grants first, then tokens and codes. */
static enum store_status
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
	return st;
}

static const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.txn_blocks_others = 0,
	.close = store_pg_close,
	.txn_begin = store_pg_txn_begin,
	.txn_commit = store_pg_txn_commit,
	.txn_hint_token = store_pg_txn_hint_token,
	.txn_abort = store_pg_txn_abort,
	.client_get = store_pg_client_get,
	.client_put = store_pg_client_put,
	.client_delete = store_pg_client_delete,
	.client_foreach = store_pg_client_foreach,
	.client_drop_tokens = store_pg_client_drop_tokens,
	.token_get = store_pg_token_get,
	.token_put = store_pg_token_put,
	.token_delete = store_pg_token_delete,
	.token_foreach_after = store_pg_token_foreach_after,
	.grant_get = store_pg_grant_get,
	.grant_put = store_pg_grant_put,
	.grant_foreach_after = store_pg_grant_foreach_after,
	.key_get = store_pg_key_get,
	.key_put = store_pg_key_put,
	.key_delete = store_pg_key_delete,
	.key_foreach = store_pg_key_foreach,
	.scopes_get = store_pg_scopes_get,
	.stats = store_pg_stats,
	.purge = store_pg_purge,
	.map_grow = NULL,
	.map_size = NULL,
};
