/*
 * What the storage tests share: a store on either backend, opened fresh
 * for each test, and the records, keys and child processes they build.
 *
 * LMDB: a directory under $TMPDIR.  PostgreSQL: a database of its own,
 * made with CREATE DATABASE on the maintenance database OAUTH_TEST_PG
 * names (a libpq URI, e.g. postgresql:///postgres?host=/tmp/x&user=u)
 * and dropped at teardown.  A test that forks opens the store again in
 * each child (sfx_open): nothing opened before fork is used after it.
 */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "unit.h"

#include "../../storage/store.h"

#define SFX_PG_ENV "OAUTH_TEST_PG"
#define SFX_URI_MAX 1024

enum sfx_backend {
	SFX_LMDB = 0,
	SFX_LMDB_THREADS,	/* LMDB opened with STORE_OPEN_THREADS */
	SFX_PG,
	SFX_BACKEND__MAX
};

static const char *const sfx_backend_names[SFX_BACKEND__MAX] = {
	[SFX_LMDB] = "lmdb",
	[SFX_LMDB_THREADS] = "lmdb-threads",
	[SFX_PG] = "postgresql",
};

/* The backends, as the initial state a test's setup receives. */
static enum sfx_backend sfx_backends[SFX_BACKEND__MAX] = {
	SFX_LMDB, SFX_LMDB_THREADS, SFX_PG
};

/*
 * The store_open flags of the backend under test, set by sfx_setup, for
 * every store a test and its children open.
 */
static unsigned sfx_flags;

struct sfx {
	enum sfx_backend backend;
	char dir[128];			/* a temporary directory, both backends */
	char db[SFX_URI_MAX];		/* what store_open is given */
	char dbname[64];		/* PostgreSQL: the test's database */
	struct store *store;
};

/* The maintenance database's URI, or NULL when PostgreSQL is not tested. */
static inline const char *
sfx_pg_maint(void)
{
	const char *uri = getenv(SFX_PG_ENV);

	return uri != NULL && *uri != '\0' ? uri : NULL;
}

/* Appends s to out, percent-encoding all but RFC 3986 unreserved bytes. */
static inline void
sfx_uri_encode(char *out, size_t size, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(out);

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (n + 4 > size)
			fail_msg("URI too long");
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			out[n++] = (char)c;
		else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

/*
 * Writes to out a postgresql:// URI of the database dbname on the server
 * of the maintenance URI maint, with its other settings, then extra (a
 * "key=value&..." string or NULL) appended.
 */
static inline void
sfx_pg_uri(char *out, size_t size, const char *maint, const char *dbname,
    const char *extra)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	int first = 1;

	if ((opts = PQconninfoParse(maint, &err)) == NULL)
		fail_msg("%s does not parse: %s", SFX_PG_ENV,
		    err != NULL ? err : "out of memory");
	(void)snprintf(out, size, "postgresql:///");
	sfx_uri_encode(out, size, dbname);
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || *o->val == '\0' ||
		    strcmp(o->keyword, "dbname") == 0)
			continue;
		if (strlen(out) + 2 > size)
			fail_msg("URI too long");
		strcat(out, first ? "?" : "&");
		first = 0;
		sfx_uri_encode(out, size, o->keyword);
		strcat(out, "=");
		sfx_uri_encode(out, size, o->val);
	}
	PQconninfoFree(opts);
	if (extra != NULL) {
		if (strlen(out) + strlen(extra) + 2 > size)
			fail_msg("URI too long");
		strcat(out, first ? "?" : "&");
		strcat(out, extra);
	}
}

/* Connects to conninfo with libpq, failing the test when it cannot. */
static inline PGconn *
sfx_pg_connect(const char *conninfo)
{
	PGconn *conn = PQconnectdb(conninfo);

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		fail_msg("cannot connect to the test server: %s",
		    conn != NULL ? PQerrorMessage(conn) : "out of memory");
	return conn;
}

/*
 * Runs sql on conn; fails the test unless it succeeds.  Returns the result
 * (PQclear), for queries.
 */
static inline PGresult *
sfx_pg_query(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType rs = PQresultStatus(res);

	if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(conn));
	return res;
}

/* Runs sql on the database conninfo names, in a connection of its own. */
static inline void
sfx_pg_exec(const char *conninfo, const char *sql)
{
	PGconn *conn = sfx_pg_connect(conninfo);

	PQclear(sfx_pg_query(conn, sql));
	PQfinish(conn);
}

/* Creates an empty database for f, its URI in f->db (extra appended). */
static inline void
sfx_pg_createdb(struct sfx *f, const char *extra)
{
	static unsigned counter;
	const char *maint = sfx_pg_maint();
	char sql[128];

	if (maint == NULL)
		fail_msg("%s is not set", SFX_PG_ENV);
	(void)snprintf(f->dbname, sizeof(f->dbname), "oauth_unit_%ld_%u",
	    (long)getpid(), ++counter);
	(void)snprintf(sql, sizeof(sql), "CREATE DATABASE %s", f->dbname);
	sfx_pg_exec(maint, sql);
	sfx_pg_uri(f->db, sizeof(f->db), maint, f->dbname, extra);
}

/* Drops f's database, ending any session still connected to it. */
static inline void
sfx_pg_dropdb(struct sfx *f)
{
	char sql[128];

	if (f->dbname[0] == '\0')
		return;
	(void)snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH "
	    "(FORCE)", f->dbname);
	sfx_pg_exec(sfx_pg_maint(), sql);
	f->dbname[0] = '\0';
}

/* Opens f's database again into f->store, without creating anything. */
static inline void
sfx_reopen(struct sfx *f)
{
	char why[STORE_DETAIL_MAX];
	enum store_status st;

	store_close(f->store);
	f->store = NULL;
	if ((st = store_open(f->db, 0, sfx_flags, &f->store, why,
	    sizeof(why))) != STORE_OK)
		fail_msg("store_open: %s (%s)", store_strerror(st), why);
}

/* Closes f's store, as before a fork whose children open their own. */
static inline void
sfx_close(struct sfx *f)
{
	store_close(f->store);
	f->store = NULL;
}

/*
 * The setup of a test on the backend its initial state names: a fresh,
 * empty database opened with STORE_OPEN_CREATE.
 */
static inline int
sfx_setup(void **state)
{
	const enum sfx_backend *backend = *state;
	struct sfx *f = calloc(1, sizeof(*f));
	char why[STORE_DETAIL_MAX];
	enum store_status st;

	assert_non_null(f);
	f->backend = backend != NULL ? *backend : SFX_LMDB;
	sfx_flags = f->backend == SFX_LMDB_THREADS ? STORE_OPEN_THREADS : 0;
	unit_tempdir(f->dir, sizeof(f->dir));
	if (f->backend == SFX_PG)
		sfx_pg_createdb(f, NULL);
	else
		(void)snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
	if ((st = store_open(f->db, 0, STORE_OPEN_CREATE | sfx_flags,
	    &f->store, why, sizeof(why))) != STORE_OK)
		fail_msg("store_open: %s (%s)", store_strerror(st), why);
	*state = f;
	return 0;
}

static inline int
sfx_teardown(void **state)
{
	struct sfx *f = *state;

	store_close(f->store);
	if (f->backend == SFX_PG)
		sfx_pg_dropdb(f);
	unit_rmdir(f->dir);
	free(f);
	return 0;
}

/* A token key: a in the first byte, b in the next two. */
static inline void
key_of(unsigned char key[TOKEN_HASH_LEN], unsigned a, unsigned b)
{
	memset(key, 0, TOKEN_HASH_LEN);
	key[0] = (unsigned char)a;
	key[1] = (unsigned char)(b >> 8);
	key[2] = (unsigned char)b;
}

static inline void
make_client(struct client *c, const char *id)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	memset(c->secret_salt, 0x11, sizeof(c->secret_salt));
	memset(c->secret_hash, 0x22, sizeof(c->secret_hash));
	c->grant_types = GRANT_CLIENT_CREDENTIALS;
	c->scope = "read";
	c->redirect_uris[0] = "https://app.example.com/cb";
	c->redirect_uri_count = 1;
	c->created_at = UNIT_NOW;
}

static inline void
make_token(struct token *t, enum token_kind kind, const char *scope)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->state = TOKEN_STATE_ACTIVE;
	strcpy(t->client_id, "svc");
	t->scope = (char *)scope;
	t->issued_at = UNIT_NOW;
	t->expires_at = UNIT_NOW + 3600;
}

static inline void
make_grant(struct grant *g, unsigned char fill)
{
	memset(g, 0, sizeof(*g));
	memset(g->id, fill, sizeof(g->id));
	strcpy(g->client_id, "web");
	g->subject = "alice";
	g->created_at = UNIT_NOW;
	g->expires_at = UNIT_NOW + 7200;
}

/* Fills k as a key of alg whose kid is c repeated. */
static inline void
make_key(struct key *k, char c, enum jose_alg alg, int64_t sign_from)
{
	memset(k, 0, sizeof(*k));
	memset(k->kid, c, JOSE_KID_LEN);
	k->alg = alg;
	k->pem = "-----BEGIN PRIVATE KEY-----\nnot a real key\n";
	k->jwk = "{\"kty\":\"EC\"}";
	k->created_at = UNIT_NOW;
	k->sign_from = sign_from;
}

static inline struct store_txn *
begin(struct store *s, int writable)
{
	struct store_txn *t;
	enum store_status st;

	if ((st = store_txn_begin(s, writable, &t)) != STORE_OK)
		fail_msg("store_txn_begin: %s (%s)", store_strerror(st),
		    store_detail(s));
	assert_non_null(t);
	return t;
}

/* Fails unless the token under key is there, with scope. */
static inline void
expect_token(struct store_txn *t, const unsigned char *key, const char *scope)
{
	struct token got;

	assert_int_equal(store_token_get(t, key, &got), STORE_OK);
	assert_string_equal(got.scope, scope);
	token_free(&got);
}

/* fork(2), failing the test when it cannot. */
static inline pid_t
spawn(void)
{
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	return pid;
}

/* The exit status of child pid; 128 when it did not exit. */
static inline int
wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/*
 * Runs the tests of one table once per backend: each test is named
 * "BACKEND: name", and receives its backend as initial state.  The
 * PostgreSQL half runs only when OAUTH_TEST_PG is set, and says so
 * ("skipped") when it is not.  filter, when not NULL, is a cmocka glob;
 * one without a ':' matches a test's name on every backend.  Returns the
 * number of failed tests.
 */
static inline int
sfx_run(const char *title, const struct CMUnitTest *tests, size_t count,
    int (*setup)(void **), int (*teardown)(void **), const char *filter,
    int pg_only)
{
	struct CMUnitTest *run;
	char *names, glob[256];
	size_t i, b, namelen = 96;
	int failed = 0;

	if (filter != NULL) {
		if (strchr(filter, ':') == NULL)
			(void)snprintf(glob, sizeof(glob), "*: %s", filter);
		else
			(void)snprintf(glob, sizeof(glob), "%s", filter);
		cmocka_set_test_filter(glob);
	}
	run = calloc(count, sizeof(*run));
	names = calloc(count, namelen);
	assert_non_null(run);
	assert_non_null(names);
	for (b = pg_only ? SFX_PG : SFX_LMDB; b < SFX_BACKEND__MAX; b++) {
		char group[64];

		if (b == SFX_PG && sfx_pg_maint() == NULL) {
			printf("%s: the postgresql tests skipped: %s is not "
			    "set (a libpq URI of a maintenance database)\n",
			    title, SFX_PG_ENV);
			fflush(stdout);
			continue;
		}
		for (i = 0; i < count; i++) {
			(void)snprintf(names + i * namelen, namelen, "%s: %s",
			    sfx_backend_names[b], tests[i].name);
			run[i] = tests[i];
			run[i].name = names + i * namelen;
			run[i].setup_func = setup;
			run[i].teardown_func = teardown;
			run[i].initial_state = &sfx_backends[b];
		}
		(void)snprintf(group, sizeof(group), "%s (%s)", title,
		    sfx_backend_names[b]);
		failed += _cmocka_run_group_tests(group, run, count, NULL,
		    NULL);
	}
	free(names);
	free(run);
	return failed;
}

#endif /* STORE_FIXTURE_H */
