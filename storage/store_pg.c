/*
 * The PostgreSQL backend: one connection per process, opened once and
 * opened again when it is lost; each statement prepared once per
 * connection, on first use; parameters and results in binary form.
 *
 * Transactions (store.h).  A write transaction sends BEGIN with its first
 * statement and COMMIT at the end, at READ COMMITTED; its gets of tokens
 * and grants are SELECT ... FOR UPDATE, which is what makes spending a
 * code or a refresh token happen exactly once across processes and
 * machines.  Writes whose result nothing reads (token and grant upserts)
 * wait for the next statement or the COMMIT and go in its pipeline
 * (store_pg_defer), so an issuance is two round trips.  A read transaction sends no BEGIN: each statement reads the
 * latest committed state, which is all its callers need, at one round
 * trip per read; a token is read with its grant in one statement.
 *
 * Failures.  A lost connection fails the transaction it happened in with
 * STORE_UNAVAILABLE (answered 503), nothing of it committed, unless it was
 * lost before any of the transaction reached the server (between two
 * requests), when the statements go again on a new connection; the next
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

#define STORE_PG_RETRY_MS 1000		/* between attempts to reconnect */
#define STORE_PG_REPLY_MS 20000		/* the longest wait for one reply */

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
 * makes) the schema.  The defaults given beside the URI bound how long a
 * connection attempt, a statement, a lock wait and an idle transaction
 * may take, ask for READ COMMITTED, under which a lock wait ends in
 * the newest row rather than a serialization failure, and keep notices
 * (which libpq would print on standard error) to warnings; the URI may
 * set others.  (Under a stricter isolation spending stays exactly once; the
 * losers of a race get 503 instead of invalid_grant.)
 * Returns STORE_OK with s->conn set, or the failure with why set and
 * s->conn NULL.
 */
static enum store_status
store_pg_connect(struct store_pg *s, char *why, size_t whylen)
{
	static const char ours[] =
	    "-c statement_timeout=15000 -c lock_timeout=10000 "
	    "-c idle_in_transaction_session_timeout=60000 "
	    "-c default_transaction_isolation=read\\ committed "
	    "-c client_min_messages=warning";
	static const char *const keys[] = {
		"connect_timeout", "application_name", "dbname", "options",
		NULL
	};
	const char *values[5] = { "10", "fcgi-oauth", s->uri, ours, NULL };
	PQconninfoOption *parsed, *o;
	struct buf options = {0};
	char *err = NULL;
	enum store_status st;

	/*
	 * Given after the URI, ours would replace the URI's own options:
	 * the two are joined instead, the URI's last, so that they win.
	 */
	if ((parsed = PQconninfoParse(s->uri, &err)) != NULL) {
		for (o = parsed; o->keyword != NULL; o++)
			if (strcmp(o->keyword, "options") == 0 &&
			    o->val != NULL && *o->val != '\0') {
				if (buf_puts(&options, ours) == -1 ||
				    buf_puts(&options, " ") == -1 ||
				    buf_puts(&options, o->val) == -1) {
					buf_free(&options);
					PQconninfoFree(parsed);
					(void)snprintf(why, whylen,
					    "out of memory");
					return STORE_NOMEM;
				}
				values[3] = options.data;
			}
		PQconninfoFree(parsed);
	}
	PQfreemem(err);
	memset(s->prepared, 0, sizeof(s->prepared));
	s->conn = PQconnectdbParams(keys, values, 1);
	buf_free(&options);
	if (s->conn == NULL) {
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
	if (store_pg_lib_load(why, whylen) == -1)
		return STORE_IOERR;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return STORE_NOMEM;
	s->base.ops = &store_pg_ops;
	s->flags = flags;
	s->pid = process_id();
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
	if (s->conn != NULL && s->pid == process_id())
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

/*
 * One command of a pipeline (store_pg_batch): a text command (BEGIN,
 * COMMIT) when sql is set, else the prepared statement stmt with its
 * parameters, prepared first when the connection has not.
 */
struct store_pg_cmd {
	const char *sql;
	enum store_pg_stmt stmt;
	const struct store_pg_params *params;
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

/* The name a statement is prepared under. */
static void
store_pg_stmt_name(enum store_pg_stmt stmt, char name[16])
{
	(void)snprintf(name, 16, "oauth_%d", (int)stmt);
}

/*
 * Sends the n commands of cmds in one pipeline, one round trip for all,
 * and reads their results in order, marking the statements the server
 * now has prepared and *begun when a BEGIN among them succeeded.  Returns
 * NULL with *res the last command's result (the caller's to PQclear), or
 * the first failed result (or NULL when the connection gave none) in
 * *res with a nonzero return.  After a failure the commands after it did
 * not run (the server aborts the rest of a pipeline).
 */
static int
store_pg_batch(struct store_pg *s, const struct store_pg_cmd *cmds, size_t n,
    int *begun, PGresult **res)
{
	char name[16];
	PGresult *r, *bad = NULL, *last = NULL;
	unsigned char preparing[PG_STMT__MAX];
	size_t i;
	int ok;

	*res = NULL;
	memset(preparing, 0, sizeof(preparing));
	if (s->conn == NULL || !PQenterPipelineMode(s->conn))
		return -1;
	for (i = 0; i < n; i++) {
		const struct store_pg_cmd *c = &cmds[i];

		if (c->sql != NULL) {
			ok = PQsendQueryParams(s->conn, c->sql, 0, NULL, NULL,
			    NULL, NULL, 0);
		} else {
			store_pg_stmt_name(c->stmt, name);
			ok = 1;
			if (!s->prepared[c->stmt] && !preparing[c->stmt]) {
				preparing[c->stmt] = 1;
				ok = PQsendPrepare(s->conn, name,
				    store_pg_stmts[c->stmt].sql,
				    store_pg_stmts[c->stmt].nparams, NULL);
			}
			ok = ok && PQsendQueryPrepared(s->conn, name,
			    c->params->count, c->params->values,
			    c->params->lengths, c->params->formats, 1);
		}
		if (!ok) {
			(void)PQexitPipelineMode(s->conn);
			return -1;
		}
	}
	if (!PQpipelineSync(s->conn)) {
		(void)PQexitPipelineMode(s->conn);
		return -1;
	}
	/* Results come in the order sent: a PREPARE's before its run's. */
	memset(preparing, 0, sizeof(preparing));
	for (i = 0; i < n; i++) {
		const struct store_pg_cmd *c = &cmds[i];

		if (c->sql == NULL && !s->prepared[c->stmt] &&
		    !preparing[c->stmt]) {
			preparing[c->stmt] = 1;
			r = store_pg_results(s);
			if (store_pg_piped_ok(r, 1))
				s->prepared[c->stmt] = 1;
			else if (bad == NULL)
				bad = r, r = NULL;
			PQclear(r);
		}
		r = store_pg_results(s);
		if (store_pg_piped_ok(r, 0)) {
			if (c->sql != NULL && strcmp(c->sql, "BEGIN") == 0)
				*begun = 1;
			PQclear(last);
			last = r;
		} else if (bad == NULL)
			bad = r;
		else
			PQclear(r);
	}
	/* The sync point, then the connection is idle again. */
	if ((r = store_pg_next(s)) != NULL)
		PQclear(r);
	if (s->conn != NULL)
		(void)PQexitPipelineMode(s->conn);
	if (bad != NULL || last == NULL || s->conn == NULL) {
		PQclear(last);
		*res = bad;
		return -1;
	}
	*res = last;
	return 0;
}

/*
 * Appends to cmds what must go before a statement of t: BEGIN when t
 * writes and has not begun, then the puts t deferred.  Returns how many.
 */
static size_t
store_pg_before(struct store_txn *t, struct store_pg_cmd *cmds)
{
	size_t n = 0;
	int i;

	if (t->writable && !PT(t)->begun)
		cmds[n++].sql = "BEGIN";
	for (i = 0; i < PT(t)->ndeferred; i++) {
		cmds[n].sql = NULL;
		cmds[n].stmt = PT(t)->deferred[i].stmt;
		cmds[n++].params = &PT(t)->deferred[i].params;
	}
	return n;
}

/* Forgets the puts t deferred, once they ran. */
static void
store_pg_deferred_clear(struct store_pg_txn *t)
{
	int i;

	for (i = 0; i < t->ndeferred; i++) {
		if (t->deferred[i].bytes.data != NULL)
			crypto_wipe(t->deferred[i].bytes.data,
			    t->deferred[i].bytes.cap);
		buf_free(&t->deferred[i].bytes);
	}
	t->ndeferred = 0;
}

/*
 * Sends final (a prepared statement, or a text command such as COMMIT)
 * of t, in one round trip with what must go before it (store_pg_before),
 * and forgets the deferred puts once they ran.  A connection found lost
 * when nothing of t had reached the server yet (a restart or an idle
 * timeout between two requests; a BEGIN sent in the batch ended with the
 * connection) costs nothing: connected again, the batch goes once more.
 * Returns STORE_OK with *out the result of final (PQclear), or the
 * failure, said in the store's detail and log.
 */
static enum store_status
store_pg_send(struct store_txn *t, const struct store_pg_cmd *final,
    PGresult **out)
{
	struct store_pg *s = PS(t->store);
	struct store_pg_cmd cmds[STORE_PG_DEFER_MAX + 2];
	char name[16], why[STORE_DETAIL_MAX];
	PGresult *res;
	enum store_status st;
	size_t n;
	int failed, retried = 0;

	*out = NULL;
	for (;;) {
		if (s->conn == NULL)
			return STORE_UNAVAILABLE;
		n = store_pg_before(t, cmds);
		cmds[n++] = *final;
		if (n > 1 || (final->sql == NULL && !s->prepared[final->stmt]))
			failed = store_pg_batch(s, cmds, n, &PT(t)->begun,
			    &res) != 0;
		else {
			/* Alone and prepared: no pipeline needed. */
			if (final->sql != NULL)
				res = PQsendQuery(s->conn, final->sql) ?
				    store_pg_results(s) : NULL;
			else {
				store_pg_stmt_name(final->stmt, name);
				res = PQsendQueryPrepared(s->conn, name,
				    final->params->count, final->params->values,
				    final->params->lengths,
				    final->params->formats, 1) ?
				    store_pg_results(s) : NULL;
			}
			failed = !store_pg_piped_ok(res, 0);
		}
		if (!failed) {
			store_pg_deferred_clear(PT(t));
			PT(t)->ran++;
			*out = res;
			return STORE_OK;
		}
		st = store_pg_status(s->conn, res);
		store_pg_say(s->conn, res, why, sizeof(why));
		PQclear(res);
		if (retried || PT(t)->ran != 0 ||
		    (s->conn != NULL && PQstatus(s->conn) == CONNECTION_OK))
			break;
		retried = 1;
		PT(t)->begun = 0;
		if (store_pg_live(s) != STORE_OK)
			break;
	}
	store_pg_note(s, why);
	return st;
}

/*
 * Runs the statement stmt with params in t (store_pg_send).  Returns
 * STORE_OK with *out the result (PQclear), or the failure, remembered in
 * t so that commit refuses.
 */
enum store_status
store_pg_run(struct store_txn *t, enum store_pg_stmt stmt,
    const struct store_pg_params *p, PGresult **out)
{
	struct store_pg_cmd c = { NULL, stmt, p };
	enum store_status st;

	*out = NULL;
	if (PT(t)->failed != STORE_OK)
		return PT(t)->failed;
	if ((st = store_pg_send(t, &c, out)) != STORE_OK)
		PT(t)->failed = st;
	return st;
}

/* Adds a parameter of len bytes at v (NULL: SQL NULL). */
void
store_pg_param(struct store_pg_params *p, const void *v, size_t len)
{
	p->values[p->count] = v;
	p->lengths[p->count] = (int)len;
	p->formats[p->count] = 1;
	p->count++;
}

void
store_pg_param_str(struct store_pg_params *p, const char *s)
{
	store_pg_param(p, s, strlen(s));
}

/* An integer of size bytes (2 or 8), in network order. */
void
store_pg_param_int(struct store_pg_params *p, int64_t v, size_t size)
{
	unsigned char *b = p->ints[p->count];
	uint64_t u = (uint64_t)v;
	size_t i;

	for (i = 0; i < size; i++)
		b[i] = (unsigned char)(u >> (8 * (size - 1 - i)));
	store_pg_param(p, b, size);
}

void
store_pg_param_bool(struct store_pg_params *p, int v)
{
	unsigned char *b = p->ints[p->count];

	b[0] = v != 0;
	store_pg_param(p, b, 1);
}

/* An integer result of 2, 4 or 8 bytes; 0 for NULL or another size. */
int64_t
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
enum store_status
store_pg_txn_begin(struct store *base, int writable, struct store_txn **tp)
{
	struct store_pg *s = PS(base);
	struct store_pg_txn *t;
	enum store_status st;

	if (s->pid != process_id())
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

/*
 * Ends t on the server, with COMMIT (with the puts it deferred, in one
 * round trip) when commit is set and ROLLBACK otherwise or when the
 * commit failed, and frees it.  A failed commit sets *st.
 */
static void
store_pg_txn_end(struct store_pg_txn *t, int commit, enum store_status *st)
{
	static const struct store_pg_cmd commit_cmd = { "COMMIT", 0, NULL };
	struct store_pg *s = PS(t->base.store);
	PGresult *res = NULL;
	enum store_status sent;

	if (commit && (t->begun || t->ndeferred > 0)) {
		sent = store_pg_send(&t->base, &commit_cmd, &res);
		/* COMMIT of a transaction the server aborted answers ROLLBACK. */
		if (sent == STORE_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
			store_pg_note(s, "the server rolled the transaction back");
			sent = STORE_UNAVAILABLE;
		}
		if (sent == STORE_OK)
			t->begun = 0;
		else
			*st = sent;
		PQclear(res);
	}
	if (t->begun && s->conn != NULL) {
		res = PQsendQuery(s->conn, "ROLLBACK") ? store_pg_results(s)
						       : NULL;
		PQclear(res);
	}
	store_pg_deferred_clear(t);
	buf_free(&t->cached_record);
	buf_free(&t->token_record);
	buf_free(&t->token_grant);
	free(t);
}

/*
 * Queues the statement stmt with params, a write whose result nothing
 * needs (an upsert), to go with t's next statement or its COMMIT, in the
 * same round trip; its parameters are copied.  A failure of it is
 * reported by that statement or the commit.  When the queue is full the
 * statement runs now.  Returns STORE_OK, or the failure.
 */
enum store_status
store_pg_defer(struct store_txn *t, enum store_pg_stmt stmt,
    const struct store_pg_params *p)
{
	struct store_pg_txn *pt = PT(t);
	struct store_pg_deferred *d;
	PGresult *res;
	size_t at[STORE_PG_PARAMS_MAX];
	enum store_status st;
	int i;

	if (pt->failed != STORE_OK)
		return pt->failed;
	if (pt->ndeferred == STORE_PG_DEFER_MAX) {
		if ((st = store_pg_run(t, stmt, p, &res)) == STORE_OK)
			PQclear(res);
		return st;
	}
	d = &pt->deferred[pt->ndeferred];
	memset(d, 0, sizeof(*d));
	d->stmt = stmt;
	for (i = 0; i < p->count; i++) {
		at[i] = d->bytes.len;
		if (p->values[i] != NULL &&
		    buf_append(&d->bytes, p->values[i], (size_t)p->lengths[i]) ==
		    -1) {
			buf_free(&d->bytes);
			pt->failed = STORE_NOMEM;
			return STORE_NOMEM;
		}
	}
	/* Pointers into the copy only now: appending may move it. */
	for (i = 0; i < p->count; i++) {
		d->params.values[i] = p->values[i] != NULL ?
		    d->bytes.data + at[i] : NULL;
		d->params.lengths[i] = p->lengths[i];
		d->params.formats[i] = 1;
	}
	d->params.count = p->count;
	pt->ndeferred++;
	return STORE_OK;
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
int
store_pg_keep(const PGresult *res, int col, struct buf *b)
{
	b->len = 0;
	if (PQgetisnull(res, 0, col))
		return 0;
	return buf_append(b, PQgetvalue(res, 0, col),
	    (size_t)PQgetlength(res, 0, col));
}

enum store_status
store_pg_txn_commit(struct store_txn *base)
{
	struct store_pg_txn *t = PT(base);
	enum store_status st = t->failed;

	store_pg_txn_end(t, st == STORE_OK, &st);
	return st;
}

void
store_pg_txn_abort(struct store_txn *base)
{
	enum store_status ignored = STORE_OK;

	store_pg_txn_end(PT(base), 0, &ignored);
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
	.seen_put = store_pg_seen_put,
	.scopes_get = store_pg_scopes_get,
	.stats = store_pg_stats,
	.purge = store_pg_purge,
	.map_grow = NULL,
	.map_size = NULL,
};
