/*
 * What only the PostgreSQL store does: the schema it refuses (newer than
 * the program) or finds missing, inits racing to create it, STORE_OPEN_LAZY
 * with the server away, a connection lost in the middle of a transaction
 * (the transaction fails as STORE_UNAVAILABLE, nothing of it written, and
 * the next one connects again), a failing statement, the fork guard,
 * readers that take no lock, purge passing over rows a request holds, and
 * a store_detail that never repeats the password of the URI.
 *
 * Runs only when OAUTH_TEST_PG names a maintenance database (a libpq URI,
 * e.g. postgresql:///postgres?host=/tmp/x/pg/run&user=postgres), and says
 * it skipped otherwise.  Each test gets a database of its own, opened
 * with a URI that carries password=secretvalue: the trust authentication
 * of a test server ignores it, and no detail may show it.
 *
 *   test_store_pg [GLOB]   a cmocka name glob; without a ':' in it, it
 *                          matches the name after "postgresql: "
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "store_fixture.h"

#define PG_SECRET "secretvalue"
#define PG_EXTRA "password=" PG_SECRET

static int
pg_setup(void **state)
{
	struct sfx *f = calloc(1, sizeof(*f));
	char why[STORE_DETAIL_MAX];
	enum store_status st;

	assert_non_null(f);
	f->backend = SFX_PG;
	unit_tempdir(f->dir, sizeof(f->dir));
	sfx_pg_createdb(f, PG_EXTRA);
	assert_non_null(strstr(f->db, PG_SECRET));
	if ((st = store_open(f->db, 0, STORE_OPEN_CREATE, &f->store, why,
	    sizeof(why))) != STORE_OK)
		fail_msg("store_open: %s (%s)", store_strerror(st), why);
	*state = f;
	return 0;
}

/* Fails unless text says nothing of the URI db and its password. */
static void
expect_discreet(int line, const char *text, const char *db)
{
	if (strstr(text, PG_SECRET) != NULL || strstr(text, "password") !=
	    NULL || strstr(text, db) != NULL)
		fail_msg("line %d: \"%s\" shows the URI or its password", line,
		    text);
}

/* Runs sql on f's database, in a connection of its own. */
static void
pg_exec_db(struct sfx *f, const char *sql)
{
	sfx_pg_exec(f->db, sql);
}

/* The one value of the query sql on the maintenance database, as text. */
static void
pg_value(const char *sql, char *out, size_t size)
{
	PGconn *conn = sfx_pg_connect(sfx_pg_maint());
	PGresult *res = sfx_pg_query(conn, sql);

	if (PQntuples(res) != 1)
		fail_msg("%s: %d rows", sql, PQntuples(res));
	(void)snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
}

/*
 * The pid of the server process of the store's one session on f's
 * database; fails the test unless there is exactly one.
 */
static long
pg_store_backend(struct sfx *f)
{
	PGconn *conn = sfx_pg_connect(sfx_pg_maint());
	PGresult *res;
	char sql[256];
	long pid;

	(void)snprintf(sql, sizeof(sql), "SELECT pid FROM pg_stat_activity "
	    "WHERE datname = '%s' AND application_name = 'fcgi-oauth'",
	    f->dbname);
	res = sfx_pg_query(conn, sql);
	if (PQntuples(res) != 1)
		fail_msg("%d sessions of the store, want 1", PQntuples(res));
	pid = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	return pid;
}

/* Ends the session of server process pid, and waits until it has gone. */
static void
pg_terminate(long pid)
{
	char sql[128], got[8];

	(void)snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%ld, "
	    "30000)", pid);
	pg_value(sql, got, sizeof(got));
	assert_string_equal(got, "t");
}

/*
 * A schema newer than the program is refused, with or without create, and
 * the reason says which version without repeating the URI.
 */
static void
test_schema_newer(void **state)
{
	struct sfx *f = *state;
	struct store *s = (struct store *)f;
	char why[STORE_DETAIL_MAX];

	sfx_close(f);
	pg_exec_db(f, "UPDATE oauth_schema SET version = 99");
	assert_int_equal(store_open(f->db, 0, 0, &s, why, sizeof(why)),
	    STORE_INVALID);
	assert_null(s);
	assert_non_null(strstr(why, "99"));
	expect_discreet(__LINE__, why, f->db);
	assert_int_equal(store_open(f->db, 0, STORE_OPEN_CREATE, &s, why,
	    sizeof(why)), STORE_INVALID);
	assert_null(s);
	expect_discreet(__LINE__, why, f->db);
	/* Reachable: lazy opening changes nothing. */
	assert_int_equal(store_open(f->db, 0, STORE_OPEN_LAZY, &s, why,
	    sizeof(why)), STORE_INVALID);
	assert_null(s);
	/* No reason asked for: still refused. */
	assert_int_equal(store_open(f->db, 0, 0, &s, NULL, 0), STORE_INVALID);
	assert_null(s);

	pg_exec_db(f, "UPDATE oauth_schema SET version = 2");
	sfx_reopen(f);
}

/*
 * A database of the first version (no oauth_seen): refused without
 * create, with a reason that says to run oauthctl init, and migrated
 * with it, its records kept.
 */
static void
test_schema_migrate_v1(void **state)
{
	struct sfx *f = *state;
	struct store *s = (struct store *)f;
	struct store_txn *t;
	struct client c;
	unsigned char hash[TOKEN_HASH_LEN] = { 7 };
	char why[STORE_DETAIL_MAX];

	t = begin(f->store, 1);
	memset(&c, 0, sizeof(c));
	(void)snprintf(c.id, sizeof(c.id), "%s", "kept");
	c.is_public = 1;
	c.scope = "read";
	c.grant_types = GRANT_AUTHORIZATION_CODE;
	assert_int_equal(store_client_put(t, &c, 1), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	sfx_close(f);
	pg_exec_db(f, "DROP TABLE oauth_seen");
	pg_exec_db(f, "UPDATE oauth_schema SET version = 1");
	assert_int_equal(store_open(f->db, 0, 0, &s, why, sizeof(why)),
	    STORE_INVALID);
	assert_null(s);
	assert_non_null(strstr(why, "oauthctl init"));
	expect_discreet(__LINE__, why, f->db);
	assert_int_equal(store_open(f->db, 0, STORE_OPEN_CREATE, &f->store,
	    why, sizeof(why)), STORE_OK);
	t = begin(f->store, 1);
	assert_int_equal(store_client_get(t, "kept", &c), STORE_OK);
	client_free(&c);
	assert_int_equal(store_seen_put(t, hash, 100, 200), STORE_OK);
	assert_int_equal(store_seen_put(t, hash, 100, 200), STORE_EXISTS);
	store_txn_abort(t);
}

/*
 * An empty database has no schema: STORE_MISSING without create, and
 * create makes it, once, at the program's version.
 */
static void
test_schema_missing(void **state)
{
	struct sfx *f = *state;
	struct store *s = (struct store *)f;
	struct store_txn *t;
	struct client c;
	char why[STORE_DETAIL_MAX], got[16];
	PGconn *conn;
	PGresult *res;

	sfx_close(f);
	sfx_pg_dropdb(f);
	sfx_pg_createdb(f, PG_EXTRA);
	assert_int_equal(store_open(f->db, 0, 0, &s, why, sizeof(why)),
	    STORE_MISSING);
	assert_null(s);
	assert_true(why[0] != '\0');
	expect_discreet(__LINE__, why, f->db);
	assert_int_equal(store_open(f->db, 0, STORE_OPEN_LAZY, &s, why,
	    sizeof(why)), STORE_MISSING);
	assert_null(s);
	/* Nothing was created by looking. */
	conn = sfx_pg_connect(f->db);
	res = sfx_pg_query(conn, "SELECT count(*) FROM pg_tables WHERE "
	    "tablename LIKE 'oauth_%'");
	assert_string_equal(PQgetvalue(res, 0, 0), "0");
	PQclear(res);
	PQfinish(conn);

	assert_int_equal(store_open(f->db, 0, STORE_OPEN_CREATE, &f->store,
	    why, sizeof(why)), STORE_OK);
	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "nobody", &c), STORE_NOTFOUND);
	store_txn_abort(t);
	sfx_reopen(f);
	/* Creating again is a no-op. */
	sfx_close(f);
	assert_int_equal(store_open(f->db, 0, STORE_OPEN_CREATE, &f->store,
	    why, sizeof(why)), STORE_OK);
	conn = sfx_pg_connect(f->db);
	res = sfx_pg_query(conn, "SELECT count(*)::text || ' ' || "
	    "max(version)::text FROM oauth_schema");
	(void)snprintf(got, sizeof(got), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	assert_string_equal(got, "1 2");
}

/* Processes that create the schema at once: one does, all succeed. */
static void
test_schema_create_race(void **state)
{
	struct sfx *f = *state;
	enum { RACERS = 4 };
	pid_t pid[RACERS];
	int go[2], i;
	char byte, got[16];
	PGconn *conn;
	PGresult *res;

	sfx_close(f);
	sfx_pg_dropdb(f);
	sfx_pg_createdb(f, PG_EXTRA);
	if (pipe(go) == -1)
		fail_msg("pipe: %s", strerror(errno));
	for (i = 0; i < RACERS; i++)
		if ((pid[i] = spawn()) == 0) {
			struct store *s;

			alarm(60);
			close(go[1]);
			if (read(go[0], &byte, 1) != 0)
				_exit(2);
			_exit(store_open(f->db, 0, STORE_OPEN_CREATE, &s, NULL,
			    0) == STORE_OK ? 0 : 1);
		}
	close(go[0]);
	close(go[1]);
	for (i = 0; i < RACERS; i++)
		assert_int_equal(wait_child(pid[i]), 0);
	conn = sfx_pg_connect(f->db);
	res = sfx_pg_query(conn, "SELECT count(*)::text || ' ' || "
	    "max(version)::text FROM oauth_schema");
	(void)snprintf(got, sizeof(got), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	assert_string_equal(got, "1 2");
	sfx_reopen(f);
}

/*
 * The server away: opening fails as STORE_UNAVAILABLE, unless lazy, when
 * each transaction fails so until the server is back, and then one
 * connects.
 */
static void
test_lazy_unreachable(void **state)
{
	struct sfx *f = *state;
	struct store *s = (struct store *)f;
	struct store_txn *t = (struct store_txn *)f;
	struct client c;
	PQconninfoOption *opts, *o;
	struct timespec pause_ts = { 0, 20 * 1000 * 1000 };
	char link[256], extra[512], uri[SFX_URI_MAX], why[STORE_DETAIL_MAX];
	const char *host = NULL;
	enum store_status st;
	int i;

	(void)snprintf(link, sizeof(link), "%s/sock", f->dir);
	(void)snprintf(extra, sizeof(extra), PG_EXTRA "&host=");
	sfx_uri_encode(extra, sizeof(extra), link);
	sfx_pg_uri(uri, sizeof(uri), sfx_pg_maint(), f->dbname, extra);

	assert_int_equal(store_open(uri, 0, 0, &s, why, sizeof(why)),
	    STORE_UNAVAILABLE);
	assert_null(s);
	assert_true(why[0] != '\0');
	expect_discreet(__LINE__, why, uri);

	assert_int_equal(store_open(uri, 0, STORE_OPEN_LAZY, &s, why,
	    sizeof(why)), STORE_OK);
	assert_non_null(s);
	expect_discreet(__LINE__, why, uri);
	expect_discreet(__LINE__, store_detail(s), uri);
	assert_int_equal(store_txn_begin(s, 0, &t), STORE_UNAVAILABLE);
	assert_null(t);
	assert_true(store_detail(s)[0] != '\0');
	expect_discreet(__LINE__, store_detail(s), uri);
	assert_int_equal(store_txn_begin(s, 1, &t), STORE_UNAVAILABLE);
	assert_null(t);

	/* The server's socket directory appears: the store connects. */
	if ((opts = PQconninfoParse(sfx_pg_maint(), NULL)) == NULL)
		fail_msg("%s does not parse", SFX_PG_ENV);
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "host") == 0 && o->val != NULL &&
		    o->val[0] == '/')
			host = o->val;
	if (host == NULL) {
		PQconninfoFree(opts);
		store_close(s);
		skip();
	}
	if (symlink(host, link) == -1)
		fail_msg("symlink: %s", strerror(errno));
	PQconninfoFree(opts);
	/* Bounded: at most one attempt a second while it was away. */
	for (i = 0; i < 1500; i++) {
		if ((st = store_txn_begin(s, 0, &t)) == STORE_OK)
			break;
		assert_int_equal(st, STORE_UNAVAILABLE);
		nanosleep(&pause_ts, NULL);
	}
	assert_int_equal(st, STORE_OK);
	assert_int_equal(store_client_get(t, "nobody", &c), STORE_NOTFOUND);
	store_txn_abort(t);
	store_close(s);
}

/*
 * The session ends in the middle of a write transaction: every later
 * operation of it fails as STORE_UNAVAILABLE, its commit too, nothing of
 * it is written, and the next transaction connects again at once.
 */
static void
test_connection_lost_write(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct token tok, got;
	unsigned char ka[TOKEN_HASH_LEN], kb[TOKEN_HASH_LEN];
	long pid, again;

	key_of(ka, 1, 1);
	key_of(kb, 1, 2);
	make_token(&tok, TOKEN_CODE, "read");
	/*
	 * A read begins the transaction on the server; the puts wait for
	 * the next round trip (store_pg_defer), which finds the connection
	 * gone.
	 */
	t = begin(f->store, 1);
	assert_int_equal(store_token_get(t, kb, &got), STORE_NOTFOUND);
	assert_int_equal(store_token_put(t, ka, &tok), STORE_OK);
	pid = pg_store_backend(f);
	pg_terminate(pid);
	assert_int_equal(store_token_put(t, kb, &tok), STORE_OK);
	assert_int_equal(store_token_get(t, ka, &got), STORE_UNAVAILABLE);
	assert_int_equal(store_token_put(t, kb, &tok), STORE_UNAVAILABLE);
	assert_null(got.scope);
	assert_int_equal(store_txn_commit(t), STORE_UNAVAILABLE);
	assert_true(store_detail(f->store)[0] != '\0');
	expect_discreet(__LINE__, store_detail(f->store), f->db);

	/* Connected again, at once: nothing of it was written. */
	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, ka, &got), STORE_NOTFOUND);
	assert_int_equal(store_token_get(t, kb, &got), STORE_NOTFOUND);
	store_txn_abort(t);
	again = pg_store_backend(f);
	assert_true(again != pid);

	/*
	 * Lost before the transaction's first statement, as between two
	 * requests: nothing of it had reached the server, so the statement
	 * goes again on a new connection and the transaction succeeds.
	 */
	t = begin(f->store, 1);
	pg_terminate(again);
	assert_int_equal(store_token_put(t, ka, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	assert_true(pg_store_backend(f) != again);
	t = begin(f->store, 0);
	expect_token(t, ka, "read");
	store_txn_abort(t);

	/* Lost after it: the transaction fails whole, as above. */
	t = begin(f->store, 1);
	assert_int_equal(store_token_get(t, kb, &got), STORE_NOTFOUND);
	assert_int_equal(store_token_put(t, kb, &tok), STORE_OK);
	pg_terminate(pg_store_backend(f));
	assert_int_equal(store_token_get(t, ka, &got), STORE_UNAVAILABLE);
	assert_int_equal(store_txn_commit(t), STORE_UNAVAILABLE);
	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, kb, &got), STORE_NOTFOUND);
	store_txn_abort(t);
}

/* Lost in a read transaction, and while no transaction was open. */
static void
test_connection_lost_read(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct token tok, got;
	unsigned char key[TOKEN_HASH_LEN];
	enum store_status st;

	key_of(key, 2, 1);
	make_token(&tok, TOKEN_ACCESS, "read");
	t = begin(f->store, 1);
	assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	expect_token(t, key, "read");
	pg_terminate(pg_store_backend(f));
	assert_int_equal(store_token_get(t, key, &got), STORE_UNAVAILABLE);
	assert_null(got.scope);
	assert_int_equal(store_txn_commit(t), STORE_UNAVAILABLE);
	expect_discreet(__LINE__, store_detail(f->store), f->db);
	t = begin(f->store, 0);
	expect_token(t, key, "read");
	store_txn_abort(t);

	/*
	 * Between transactions: the next one finds out, failing as
	 * STORE_UNAVAILABLE (or connecting again at once).
	 */
	pg_terminate(pg_store_backend(f));
	t = begin(f->store, 0);
	st = store_token_get(t, key, &got);
	token_free(&got);
	assert_true(st == STORE_UNAVAILABLE || st == STORE_OK);
	store_txn_abort(t);
	t = begin(f->store, 0);
	expect_token(t, key, "read");
	store_txn_abort(t);
}

/*
 * A statement the server refuses (a table dropped behind the store's
 * back) is STORE_IOERR: its transaction fails whole, the session lives
 * on, and the detail names the SQLSTATE without the URI.
 */
static void
test_statement_fails(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct client c;
	struct key k, got;
	long pid;

	pid = pg_store_backend(f);
	pg_exec_db(f, "DROP TABLE oauth_keys");
	make_key(&k, 'a', JOSE_ALG_ES256, UNIT_NOW);
	t = begin(f->store, 0);
	assert_int_equal(store_key_get(t, k.kid, &got), STORE_IOERR);
	store_txn_abort(t);
	assert_non_null(strstr(store_detail(f->store), "42P01"));
	expect_discreet(__LINE__, store_detail(f->store), f->db);

	t = begin(f->store, 1);
	make_client(&c, "app");
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	assert_int_equal(store_key_put(t, &k), STORE_IOERR);
	assert_int_equal(store_client_put(t, &c, 1), STORE_IOERR);
	assert_int_equal(store_txn_commit(t), STORE_IOERR);

	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "app", &c), STORE_NOTFOUND);
	store_txn_abort(t);
	assert_true(pg_store_backend(f) == pid);
}

/*
 * A store opened before fork is refused in the child, and closing it
 * there leaves the parent's session alone.
 */
static void
test_fork_guard(void **state)
{
	struct sfx *f = *state;
	struct store_txn *t;
	struct client c;
	long pid;
	pid_t child;

	pid = pg_store_backend(f);
	if ((child = spawn()) == 0) {
		t = (struct store_txn *)f;
		if (store_txn_begin(f->store, 0, &t) != STORE_IOERR ||
		    t != NULL)
			_exit(1);
		store_close(f->store);
		_exit(0);
	}
	assert_int_equal(wait_child(child), 0);
	t = begin(f->store, 1);
	make_client(&c, "after-fork");
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	assert_true(pg_store_backend(f) == pid);
}

/*
 * Reads with no write transaction see each commit as soon as it returns,
 * in one session, and a write transaction's lock on a token does not
 * block a reader of it (read transactions take no lock).
 */
static void
test_reader_not_blocked(void **state)
{
	struct sfx *f = *state;
	struct store *other;
	struct store_txn *w, *r;
	struct token tok, got;
	unsigned char key[TOKEN_HASH_LEN];

	key_of(key, 3, 1);
	make_token(&tok, TOKEN_CODE, "read");
	w = begin(f->store, 1);
	assert_int_equal(store_token_put(w, key, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(w), STORE_OK);

	assert_int_equal(store_open(f->db, 0, 0, &other, NULL, 0), STORE_OK);
	w = begin(f->store, 1);
	assert_int_equal(store_token_get(w, key, &got), STORE_OK);
	token_free(&got);
	/* Another session reads the locked row: no wait, the old state. */
	r = begin(other, 0);
	assert_int_equal(store_token_get(r, key, &got), STORE_OK);
	assert_int_equal(got.state, TOKEN_STATE_ACTIVE);
	token_free(&got);
	tok.state = TOKEN_STATE_USED;
	assert_int_equal(store_token_put(w, key, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(w), STORE_OK);
	/* The same read transaction sees the commit at its next statement. */
	assert_int_equal(store_token_get(r, key, &got), STORE_OK);
	assert_int_equal(got.state, TOKEN_STATE_USED);
	token_free(&got);
	store_txn_abort(r);
	store_close(other);
}

/*
 * Purge passes over the rows a request holds, rather than waiting for
 * it, and deletes them at the next purge.
 */
static void
test_purge_skips_held(void **state)
{
	struct sfx *f = *state;
	struct store *other;
	struct store_txn *t;
	struct store_purged p;
	struct token tok, got;
	unsigned char held[TOKEN_HASH_LEN], free_key[TOKEN_HASH_LEN];

	key_of(held, 4, 1);
	key_of(free_key, 4, 2);
	make_token(&tok, TOKEN_ACCESS, "read");
	tok.expires_at = UNIT_NOW - 1;
	t = begin(f->store, 1);
	assert_int_equal(store_token_put(t, held, &tok), STORE_OK);
	assert_int_equal(store_token_put(t, free_key, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	assert_int_equal(store_open(f->db, 0, 0, &other, NULL, 0), STORE_OK);
	t = begin(f->store, 1);
	assert_int_equal(store_token_get(t, held, &got), STORE_OK);
	token_free(&got);
	assert_int_equal(store_purge(other, UNIT_NOW, &p), STORE_OK);
	assert_int_equal(p.tokens, 1);
	store_txn_abort(t);
	assert_int_equal(store_purge(other, UNIT_NOW, &p), STORE_OK);
	assert_int_equal(p.tokens, 1);
	t = begin(other, 0);
	assert_int_equal(store_token_get(t, held, &got), STORE_NOTFOUND);
	assert_int_equal(store_token_get(t, free_key, &got), STORE_NOTFOUND);
	store_txn_abort(t);
	store_close(other);
}

#define P(name) cmocka_unit_test(name)

int
main(int argc, char *argv[])
{
	static const struct CMUnitTest tests[] = {
		P(test_schema_newer),
		P(test_schema_migrate_v1),
		P(test_schema_missing),
		P(test_schema_create_race),
		P(test_lazy_unreachable),
		P(test_connection_lost_write),
		P(test_connection_lost_read),
		P(test_statement_fails),
		P(test_fork_guard),
		P(test_reader_not_blocked),
		P(test_purge_skips_held),
	};

	/* A test name (a glob) as the argument runs only the tests it names. */
	return sfx_run("store postgresql", tests,
	    sizeof(tests) / sizeof(tests[0]), pg_setup, sfx_teardown,
	    argc > 1 ? argv[1] : NULL, 1) != 0;
}
