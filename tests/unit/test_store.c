/*
 * The LMDB store: each kind of record through put, get, delete and walks;
 * transactions that abort or fail leave nothing behind; a full map; file
 * modes; what makes a token active; several processes on one environment.
 *
 * Some tests write raw LMDB from a child process, to plant records the
 * store itself would never write; the store is always closed across fork.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <lmdb.h>

#include "unit.h"

#include "../../storage/store.h"

struct fixture {
	char dir[128];
	char db[160];
	struct store *store;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	unit_tempdir(f->dir, sizeof(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
	assert_int_equal(store_open(f->db, 0, 1, &f->store, NULL, 0), STORE_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->store);
	unit_rmdir(f->dir);
	free(f);
	return 0;
}

static void
key_of(unsigned char key[TOKEN_HASH_LEN], unsigned a, unsigned b)
{
	memset(key, 0, TOKEN_HASH_LEN);
	key[0] = (unsigned char)a;
	key[1] = (unsigned char)(b >> 8);
	key[2] = (unsigned char)b;
}

static void
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

static void
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

static void
make_grant(struct grant *g, unsigned char fill)
{
	memset(g, 0, sizeof(*g));
	memset(g->id, fill, sizeof(g->id));
	strcpy(g->client_id, "web");
	g->subject = "alice";
	g->created_at = UNIT_NOW;
	g->expires_at = UNIT_NOW + 7200;
}

static struct store_txn *
begin(struct store *s, int writable)
{
	struct store_txn *t;

	assert_int_equal(store_txn_begin(s, writable, &t), STORE_OK);
	assert_non_null(t);
	return t;
}

/* Fails unless the token under key is there, with scope. */
static void
expect_token(struct store_txn *t, const unsigned char *key, const char *scope)
{
	struct token got;

	assert_int_equal(store_token_get(t, key, &got), STORE_OK);
	assert_string_equal(got.scope, scope);
	token_free(&got);
}

/* fork(2), failing the test when it cannot. */
static pid_t
spawn(void)
{
	pid_t pid;

	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	return pid;
}

static void
test_open_modes(void **state)
{
	struct fixture *f = *state;
	struct stat sb;
	char path[256];

	assert_int_equal(stat(f->db, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", f->db);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/lock.mdb", f->db);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
}

static void
test_open_missing(void **state)
{
	struct fixture *f = *state;
	struct store *s = (struct store *)f;
	char path[256];

	snprintf(path, sizeof(path), "%s/absent", f->dir);
	errno = 0;
	assert_int_equal(store_open(path, 0, 0, &s, NULL, 0), STORE_MISSING);
	assert_int_equal(errno, ENOENT);
	assert_null(s);
	assert_int_equal(access(path, F_OK), -1);

	/* A file where the directory should be. */
	snprintf(path, sizeof(path), "%s/db/data.mdb", f->dir);
	s = (struct store *)f;
	errno = 0;
	assert_int_equal(store_open(path, 0, 1, &s, NULL, 0), STORE_IOERR);
	assert_int_equal(errno, ENOTDIR);
	assert_null(s);

	/* Only the last component is created. */
	snprintf(path, sizeof(path), "%s/no/such", f->dir);
	assert_int_equal(store_open(path, 0, 1, &s, NULL, 0), STORE_IOERR);
	assert_null(s);
}

static void
test_reopen(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct client c;

	make_client(&c, "kept");
	t = begin(f->store, 1);
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	store_close(f->store);
	f->store = NULL;

	/* An existing directory opens without create; data survives. */
	assert_int_equal(store_open(f->db, 4 * 1024 * 1024, 0, &f->store, NULL, 0),
	    STORE_OK);
	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "kept", &c), STORE_OK);
	assert_string_equal(c.scope, "read");
	client_free(&c);
	store_txn_abort(t);
}

static void
test_client_crud(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct client c, got;
	char longid[CLIENT_ID_MAX + 2];

	make_client(&c, "app");
	t = begin(f->store, 1);
	assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	c.scope = "other";
	assert_int_equal(store_client_put(t, &c, 0), STORE_EXISTS);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	/* EXISTS changed nothing; the transaction still committed. */
	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "app", &got), STORE_OK);
	assert_string_equal(got.id, "app");
	assert_string_equal(got.scope, "read");
	assert_string_equal(got.redirect_uris[0], "https://app.example.com/cb");
	assert_int_equal(got.redirect_uri_count, 1);
	assert_memory_equal(got.secret_hash, c.secret_hash, SECRET_HASH_LEN);
	client_free(&got);
	assert_int_equal(store_client_get(t, "ap", &got), STORE_NOTFOUND);
	assert_int_equal(store_client_get(t, "", &got), STORE_NOTFOUND);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(store_client_get(t, longid, &got), STORE_NOTFOUND);
	assert_null(got.scope);
	/* Writes in a read transaction are refused. */
	assert_int_equal(store_client_put(t, &c, 1), STORE_INVALID);
	assert_int_equal(store_client_delete(t, "app"), STORE_INVALID);
	store_txn_abort(t);

	t = begin(f->store, 1);
	assert_int_equal(store_client_put(t, &c, 1), STORE_OK);
	assert_int_equal(store_client_get(t, "app", &got), STORE_OK);
	assert_string_equal(got.scope, "other");
	client_free(&got);
	/* A client breaking a limit is refused whole. */
	c.grant_types = 0x80;
	assert_int_equal(store_client_put(t, &c, 1), STORE_INVALID);
	assert_int_equal(store_client_delete(t, "app"), STORE_OK);
	assert_int_equal(store_client_delete(t, "app"), STORE_NOTFOUND);
	assert_int_equal(store_client_get(t, "app", &got), STORE_NOTFOUND);
	assert_int_equal(store_txn_commit(t), STORE_OK);
}

static enum store_each
count_clients(const struct client *c, void *arg)
{
	size_t *n = arg;

	(void)c;
	(*n)++;
	return STORE_EACH_NEXT;
}

static enum store_each
delete_b_clients(const struct client *c, void *arg)
{
	size_t *n = arg;

	(*n)++;
	return c->id[0] == 'b' ? STORE_EACH_DELETE : STORE_EACH_NEXT;
}

static void
test_client_foreach(void **state)
{
	struct fixture *f = *state;
	static const char *ids[] = { "a1", "b1", "a2", "b2", "b3", "a3" };
	struct store_txn *t;
	struct client c;
	size_t i, n;

	t = begin(f->store, 1);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		make_client(&c, ids[i]);
		assert_int_equal(store_client_put(t, &c, 0), STORE_OK);
	}
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	n = 0;
	assert_int_equal(store_client_foreach(t, count_clients, &n), STORE_OK);
	assert_int_equal(n, 6);
	n = 0;
	assert_int_equal(store_client_foreach(t, delete_b_clients, &n),
	    STORE_INVALID);
	assert_int_equal(n, 4);		/* a1 a2 a3, then b1 stops it */
	store_txn_abort(t);

	t = begin(f->store, 1);
	n = 0;
	assert_int_equal(store_client_foreach(t, delete_b_clients, &n),
	    STORE_OK);
	assert_int_equal(n, 6);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	n = 0;
	assert_int_equal(store_client_foreach(t, count_clients, &n), STORE_OK);
	assert_int_equal(n, 3);
	assert_int_equal(store_client_get(t, "b2", &c), STORE_NOTFOUND);
	assert_int_equal(store_client_get(t, "a3", &c), STORE_OK);
	client_free(&c);
	store_txn_abort(t);
}

static void
test_token_crud(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct token tok, got;
	unsigned char key[TOKEN_HASH_LEN], other[TOKEN_HASH_LEN];

	key_of(key, 1, 1);
	key_of(other, 1, 2);
	make_token(&tok, TOKEN_CODE, "openid");
	tok.subject = "alice";
	tok.redirect_uri = "https://app.example.com/cb";
	tok.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
	t = begin(f->store, 1);
	assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, key, &got), STORE_OK);
	assert_int_equal(got.kind, TOKEN_CODE);
	assert_string_equal(got.subject, "alice");
	assert_string_equal(got.scope, "openid");
	assert_null(got.audience);
	assert_string_equal(got.code_challenge, tok.code_challenge);
	token_free(&got);
	assert_int_equal(store_token_get(t, other, &got), STORE_NOTFOUND);
	assert_int_equal(store_token_put(t, other, &tok), STORE_INVALID);
	assert_int_equal(store_token_delete(t, key), STORE_INVALID);
	store_txn_abort(t);

	/* Put replaces; a token breaking a limit is refused. */
	t = begin(f->store, 1);
	tok.state = TOKEN_STATE_USED;
	assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	assert_int_equal(store_token_get(t, key, &got), STORE_OK);
	assert_int_equal(got.state, TOKEN_STATE_USED);
	token_free(&got);
	tok.kind = TOKEN_KIND__MAX;
	assert_int_equal(store_token_put(t, other, &tok), STORE_INVALID);
	assert_int_equal(store_token_delete(t, key), STORE_OK);
	assert_int_equal(store_token_delete(t, key), STORE_NOTFOUND);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, key, &got), STORE_NOTFOUND);
	store_txn_abort(t);
}

struct token_walk {
	size_t seen;
	size_t stop_after;
	unsigned char last[TOKEN_HASH_LEN];
};

/* Deletes the tokens whose key has an odd counter. */
static enum store_each
delete_odd(const unsigned char *key, const struct token *tok, void *arg)
{
	struct token_walk *w = arg;

	assert_string_equal(tok->client_id, "svc");
	memcpy(w->last, key, TOKEN_HASH_LEN);
	w->seen++;
	if (w->stop_after != 0)
		return w->seen == w->stop_after ? STORE_EACH_STOP :
		    STORE_EACH_NEXT;
	return key[2] & 1 ? STORE_EACH_DELETE : STORE_EACH_NEXT;
}

static void
test_token_foreach_delete(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct token tok, got;
	struct token_walk w;
	unsigned char key[TOKEN_HASH_LEN];
	unsigned i;

	/* Enough records to span several pages. */
	make_token(&tok, TOKEN_ACCESS, "read write admin");
	t = begin(f->store, 1);
	for (i = 0; i < 1000; i++) {
		key_of(key, 7, i);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	}
	assert_int_equal(store_txn_commit(t), STORE_OK);

	/* STOP ends the walk where asked, in key order. */
	t = begin(f->store, 0);
	memset(&w, 0, sizeof(w));
	w.stop_after = 10;
	assert_int_equal(store_token_foreach(t, delete_odd, &w), STORE_OK);
	assert_int_equal(w.seen, 10);
	key_of(key, 7, 9);
	assert_memory_equal(w.last, key, TOKEN_HASH_LEN);
	store_txn_abort(t);

	/* A read transaction refuses the first delete and stops there. */
	t = begin(f->store, 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_token_foreach(t, delete_odd, &w),
	    STORE_INVALID);
	assert_int_equal(w.seen, 2);
	store_txn_abort(t);

	t = begin(f->store, 1);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_token_foreach(t, delete_odd, &w), STORE_OK);
	assert_int_equal(w.seen, 1000);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_token_foreach(t, delete_odd, &w), STORE_OK);
	assert_int_equal(w.seen, 500);
	for (i = 0; i < 1000; i++) {
		key_of(key, 7, i);
		assert_int_equal(store_token_get(t, key, &got),
		    i & 1 ? STORE_NOTFOUND : STORE_OK);
		token_free(&got);
	}
	store_txn_abort(t);
}

static enum store_each
count_grants(const struct grant *g, void *arg)
{
	size_t *n = arg;

	assert_string_equal(g->subject, "alice");
	(*n)++;
	return g->id[0] == 2 ? STORE_EACH_DELETE : STORE_EACH_NEXT;
}

static void
test_grant_crud(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct grant g, got;
	unsigned char absent[GRANT_ID_LEN];
	size_t n;
	unsigned char i;

	t = begin(f->store, 1);
	for (i = 1; i <= 3; i++) {
		make_grant(&g, i);
		assert_int_equal(store_grant_put(t, &g), STORE_OK);
	}
	g.client_id[0] = '\0';
	assert_int_equal(store_grant_put(t, &g), STORE_INVALID);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	make_grant(&g, 2);
	assert_int_equal(store_grant_get(t, g.id, &got), STORE_OK);
	assert_memory_equal(got.id, g.id, GRANT_ID_LEN);
	assert_string_equal(got.client_id, "web");
	assert_false(got.revoked);
	grant_free(&got);
	memset(absent, 9, sizeof(absent));
	assert_int_equal(store_grant_get(t, absent, &got), STORE_NOTFOUND);
	assert_int_equal(store_grant_put(t, &g), STORE_INVALID);
	store_txn_abort(t);

	t = begin(f->store, 1);
	n = 0;
	assert_int_equal(store_grant_foreach(t, count_grants, &n), STORE_OK);
	assert_int_equal(n, 3);
	assert_int_equal(store_grant_get(t, g.id, &got), STORE_NOTFOUND);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	t = begin(f->store, 0);
	n = 0;
	assert_int_equal(store_grant_foreach(t, count_grants, &n), STORE_OK);
	assert_int_equal(n, 2);
	store_txn_abort(t);
}

static void
test_abort_and_isolation(void **state)
{
	struct fixture *f = *state;
	struct store_txn *w, *r;
	struct client c, got;
	struct token tok, tgot;
	unsigned char key[TOKEN_HASH_LEN];

	make_client(&c, "ghost");
	make_token(&tok, TOKEN_ACCESS, "");
	key_of(key, 3, 3);

	w = begin(f->store, 1);
	assert_int_equal(store_client_put(w, &c, 0), STORE_OK);
	assert_int_equal(store_token_put(w, key, &tok), STORE_OK);
	/* A reader in the middle of a write sees the state before it. */
	r = begin(f->store, 0);
	assert_int_equal(store_client_get(r, "ghost", &got), STORE_NOTFOUND);
	assert_int_equal(store_token_get(r, key, &tgot), STORE_NOTFOUND);
	store_txn_abort(w);
	store_txn_abort(r);
	store_txn_abort(NULL);

	r = begin(f->store, 0);
	assert_int_equal(store_client_get(r, "ghost", &got), STORE_NOTFOUND);
	assert_int_equal(store_token_get(r, key, &tgot), STORE_NOTFOUND);
	store_txn_abort(r);

	/* A reader begun before a commit keeps its snapshot. */
	r = begin(f->store, 0);
	w = begin(f->store, 1);
	assert_int_equal(store_client_put(w, &c, 0), STORE_OK);
	assert_int_equal(store_txn_commit(w), STORE_OK);
	assert_int_equal(store_client_get(r, "ghost", &got), STORE_NOTFOUND);
	store_txn_abort(r);
	r = begin(f->store, 0);
	assert_int_equal(store_client_get(r, "ghost", &got), STORE_OK);
	client_free(&got);
	assert_int_equal(store_txn_commit(r), STORE_OK);
}

static void
test_full(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct store_txn *t;
	struct token tok, got;
	unsigned char key[TOKEN_HASH_LEN];
	char path[256], *scope;
	enum store_status st = STORE_OK;
	unsigned committed = 0, i;

	snprintf(path, sizeof(path), "%s/small", f->dir);
	assert_int_equal(store_open(path, 64 * 1024, 1, &s, NULL, 0), STORE_OK);
	scope = malloc(256 + 1);
	assert_non_null(scope);
	memset(scope, 's', 256);
	scope[256] = '\0';
	make_token(&tok, TOKEN_ACCESS, scope);

	/*
	 * One transaction too big for the map: the put that fails poisons
	 * it, so that even a commit writes none of it.
	 */
	t = begin(s, 1);
	for (i = 0; i < 1000; i++) {
		key_of(key, 6, i);
		if ((st = store_token_put(t, key, &tok)) != STORE_OK)
			break;
	}
	assert_int_equal(st, STORE_FULL);
	assert_int_equal(store_txn_commit(t), STORE_FULL);
	t = begin(s, 0);
	key_of(key, 6, 0);
	assert_int_equal(store_token_get(t, key, &got), STORE_NOTFOUND);
	store_txn_abort(t);

	/* Two tokens a transaction, until the map will take no more. */
	for (;;) {
		t = begin(s, 1);
		key_of(key, 5, 2 * committed);
		st = store_token_put(t, key, &tok);
		if (st == STORE_OK) {
			key_of(key, 5, 2 * committed + 1);
			st = store_token_put(t, key, &tok);
		}
		if (st != STORE_OK) {
			/* A failed put poisons the transaction. */
			assert_int_equal(store_txn_commit(t), st);
			break;
		}
		if ((st = store_txn_commit(t)) != STORE_OK)
			break;
		committed++;
		assert_true(committed < 1000);
	}
	assert_int_equal(st, STORE_FULL);
	assert_true(committed >= 2);

	/* Everything committed is still there, nothing of the failed one. */
	t = begin(s, 0);
	for (i = 0; i < 2 * committed; i++) {
		key_of(key, 5, i);
		expect_token(t, key, scope);
	}
	key_of(key, 5, 2 * committed);
	assert_int_equal(store_token_get(t, key, &got), STORE_NOTFOUND);
	store_txn_abort(t);

	/* And the store still takes writes that free space. */
	t = begin(s, 1);
	key_of(key, 5, 0);
	assert_int_equal(store_token_delete(t, key), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	store_close(s);

	/* Reopened, the data is intact. */
	assert_int_equal(store_open(path, 64 * 1024, 0, &s, NULL, 0), STORE_OK);
	t = begin(s, 0);
	key_of(key, 5, 1);
	expect_token(t, key, scope);
	store_txn_abort(t);
	store_close(s);
	free(scope);
}

struct active_row {
	int line;
	enum token_state state;
	int64_t expires_in;
	int has_grant;
	int grant;		/* 0 none stored, 1 live, 2 revoked */
	int want;
};

static const struct active_row active_rows[] = {
	{ __LINE__, TOKEN_STATE_ACTIVE, 60, 0, 0, 1 },
	{ __LINE__, TOKEN_STATE_ACTIVE, 1, 0, 0, 1 },
	{ __LINE__, TOKEN_STATE_ACTIVE, 0, 0, 0, 0 },	/* expires now */
	{ __LINE__, TOKEN_STATE_ACTIVE, -1, 0, 0, 0 },
	{ __LINE__, TOKEN_STATE_REVOKED, 60, 0, 0, 0 },
	{ __LINE__, TOKEN_STATE_USED, 60, 0, 0, 0 },
	{ __LINE__, TOKEN_STATE_ACTIVE, 60, 1, 1, 1 },
	{ __LINE__, TOKEN_STATE_ACTIVE, 60, 1, 2, 0 },
	{ __LINE__, TOKEN_STATE_ACTIVE, 60, 1, 0, 0 },	/* grant missing */
	{ __LINE__, TOKEN_STATE_ACTIVE, -1, 1, 1, 0 },
	{ __LINE__, TOKEN_STATE_USED, 60, 1, 1, 0 },
	/* A revoked grant that the token does not claim is no concern. */
	{ __LINE__, TOKEN_STATE_ACTIVE, 60, 0, 2, 1 },
};

static void
test_is_active(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct token tok;
	struct grant g;
	size_t i;

	for (i = 0; i < sizeof(active_rows) / sizeof(active_rows[0]); i++) {
		const struct active_row *row = &active_rows[i];
		int got;

		t = begin(f->store, 1);
		make_grant(&g, (unsigned char)(0x40 + i));
		if (row->grant != 0) {
			g.revoked = row->grant == 2;
			assert_int_equal(store_grant_put(t, &g), STORE_OK);
		}
		make_token(&tok, TOKEN_ACCESS, "read");
		tok.state = row->state;
		tok.expires_at = UNIT_NOW + row->expires_in;
		tok.has_grant = row->has_grant;
		memcpy(tok.grant_id, g.id, GRANT_ID_LEN);
		got = store_token_is_active(t, &tok, UNIT_NOW);
		store_txn_abort(t);
		if (got != row->want)
			fail_msg("row at line %d: got %d, want %d", row->line,
			    got, row->want);
	}
	t = begin(f->store, 0);
	assert_false(store_token_is_active(t, NULL, UNIT_NOW));
	store_txn_abort(t);
}

static void
test_revoke(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct token access, refresh, other, got;
	struct grant g;
	unsigned char ka[TOKEN_HASH_LEN], kr[TOKEN_HASH_LEN];
	unsigned char ko[TOKEN_HASH_LEN];

	key_of(ka, 9, 1);
	key_of(kr, 9, 2);
	key_of(ko, 9, 3);
	make_grant(&g, 0x99);
	make_token(&access, TOKEN_ACCESS, "read");
	access.has_grant = 1;
	memcpy(access.grant_id, g.id, GRANT_ID_LEN);
	refresh = access;
	refresh.kind = TOKEN_REFRESH;
	refresh.expires_at = UNIT_NOW + 86400;
	other = access;
	t = begin(f->store, 1);
	assert_int_equal(store_grant_put(t, &g), STORE_OK);
	assert_int_equal(store_token_put(t, ka, &access), STORE_OK);
	assert_int_equal(store_token_put(t, kr, &refresh), STORE_OK);
	assert_int_equal(store_token_put(t, ko, &other), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	/* Revoking an access token leaves the grant and its siblings. */
	t = begin(f->store, 1);
	assert_int_equal(store_token_revoke(t, ka, &access), STORE_OK);
	assert_int_equal(access.state, TOKEN_STATE_REVOKED);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, ka, &got), STORE_OK);
	assert_int_equal(got.state, TOKEN_STATE_REVOKED);
	assert_false(store_token_is_active(t, &got, UNIT_NOW));
	token_free(&got);
	assert_true(store_token_is_active(t, &other, UNIT_NOW));
	store_txn_abort(t);

	/* Revoking the refresh token takes the grant's tokens down. */
	t = begin(f->store, 1);
	assert_int_equal(store_token_revoke(t, kr, &refresh), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	t = begin(f->store, 0);
	assert_int_equal(store_grant_get(t, g.id, &g), STORE_OK);
	assert_true(g.revoked);
	grant_free(&g);
	assert_int_equal(store_token_get(t, ko, &got), STORE_OK);
	assert_int_equal(got.state, TOKEN_STATE_ACTIVE);
	assert_false(store_token_is_active(t, &got, UNIT_NOW));
	token_free(&got);
	assert_int_equal(store_token_get(t, kr, &got), STORE_OK);
	assert_int_equal(got.state, TOKEN_STATE_REVOKED);
	token_free(&got);
	/* Writes in a read transaction fail and change nothing. */
	assert_int_equal(store_token_revoke(t, ko, &other), STORE_INVALID);
	store_txn_abort(t);

	/* Revoking twice is harmless; a refresh token whose grant is gone. */
	t = begin(f->store, 1);
	make_grant(&g, 0x99);
	assert_int_equal(store_grant_revoke(t, g.id), STORE_OK);
	memset(refresh.grant_id, 0x77, GRANT_ID_LEN);
	refresh.state = TOKEN_STATE_ACTIVE;
	assert_int_equal(store_token_revoke(t, kr, &refresh), STORE_OK);
	assert_int_equal(store_grant_revoke(t, refresh.grant_id),
	    STORE_NOTFOUND);
	assert_int_equal(store_txn_commit(t), STORE_OK);
}

/* Each child writes its own tokens, one transaction each, then reads. */
static int
child_writer(const char *db, unsigned who, unsigned count)
{
	struct store *s;
	struct store_txn *t;
	struct token tok, got;
	unsigned char key[TOKEN_HASH_LEN];
	unsigned i;

	if (store_open(db, 0, 0, &s, NULL, 0) != STORE_OK)
		return 10;
	make_token(&tok, TOKEN_ACCESS, "concurrent");
	for (i = 0; i < count; i++) {
		key_of(key, who, i);
		if (store_txn_begin(s, 1, &t) != STORE_OK)
			return 11;
		if (store_token_put(t, key, &tok) != STORE_OK) {
			store_txn_abort(t);
			return 12;
		}
		if (store_txn_commit(t) != STORE_OK)
			return 13;
	}
	if (store_txn_begin(s, 0, &t) != STORE_OK)
		return 14;
	for (i = 0; i < count; i++) {
		key_of(key, who, i);
		if (store_token_get(t, key, &got) != STORE_OK)
			return 15;
		token_free(&got);
	}
	store_txn_abort(t);
	store_close(s);
	return 0;
}

static int
wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void
test_two_processes(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	unsigned char key[TOKEN_HASH_LEN];
	pid_t pid[2];
	unsigned i, who;
	const unsigned count = 200;

	/* Nothing open across fork: the children open their own. */
	store_close(f->store);
	f->store = NULL;
	for (who = 0; who < 2; who++) {
		if ((pid[who] = spawn()) == 0)
			_exit(child_writer(f->db, 0x20 + who, count));
	}
	assert_int_equal(wait_child(pid[0]), 0);
	assert_int_equal(wait_child(pid[1]), 0);

	assert_int_equal(store_open(f->db, 0, 0, &f->store, NULL, 0), STORE_OK);
	t = begin(f->store, 0);
	for (who = 0; who < 2; who++)
		for (i = 0; i < count; i++) {
			key_of(key, 0x20 + who, i);
			expect_token(t, key, "concurrent");
		}
	store_txn_abort(t);
}

/* A store opened before fork is refused in the child. */
static void
test_fork_guard(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	pid_t pid;

	if ((pid = spawn()) == 0) {
		if (store_txn_begin(f->store, 0, &t) != STORE_IOERR ||
		    t != NULL)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(wait_child(pid), 0);
	t = begin(f->store, 0);
	store_txn_abort(t);
}

/*
 * In a child, opens the environment with LMDB directly and writes value
 * under key in the named database.
 */
static int
raw_put(const char *db, const char *name, const void *key, size_t keylen,
    const void *value, size_t len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { keylen, (void *)key }, v = { len, (void *)value };

	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 3) != 0 ||
	    mdb_env_open(env, db, 0, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, name, 0, &dbi) != 0 ||
	    mdb_put(txn, dbi, &k, &v, 0) != 0 || mdb_txn_commit(txn) != 0)
		return 1;
	mdb_env_close(env);
	return 0;
}

static void
plant(struct fixture *f, const char *name, const void *key, size_t keylen,
    const void *value, size_t len)
{
	pid_t pid;

	store_close(f->store);
	f->store = NULL;
	if ((pid = spawn()) == 0)
		_exit(raw_put(f->db, name, key, keylen, value, len));
	assert_int_equal(wait_child(pid), 0);
	assert_int_equal(store_open(f->db, 0, 0, &f->store, NULL, 0), STORE_OK);
}

static enum store_each
never(const unsigned char *key, const struct token *tok, void *arg)
{
	(void)key;
	(void)tok;
	(void)arg;
	fail_msg("callback reached for a corrupt record");
	return STORE_EACH_STOP;
}

static enum store_each
never_client(const struct client *c, void *arg)
{
	(void)c;
	(void)arg;
	fail_msg("callback reached for a corrupt client");
	return STORE_EACH_STOP;
}

static void
test_corrupt_records(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct token tok;
	struct client c;
	struct grant g;
	struct buf b = { 0 };
	unsigned char key[TOKEN_HASH_LEN];
	unsigned char gid[GRANT_ID_LEN];

	/* Garbage under a token key. */
	key_of(key, 1, 0);
	plant(f, "tokens", key, sizeof(key), "\x01\x02", 2);
	t = begin(f->store, 0);
	assert_int_equal(store_token_get(t, key, &tok), STORE_CORRUPT);
	assert_null(tok.scope);
	assert_int_equal(store_token_foreach(t, never, NULL), STORE_CORRUPT);
	store_txn_abort(t);

	/* A valid token under a key of the wrong length. */
	make_token(&tok, TOKEN_ACCESS, "");
	assert_int_equal(store_record_token_encode(&tok, &b), STORE_OK);
	plant(f, "tokens", "\0short", 6, b.data, b.len);
	buf_free(&b);
	t = begin(f->store, 0);
	assert_int_equal(store_token_foreach(t, never, NULL), STORE_CORRUPT);
	store_txn_abort(t);

	/* A client record under another client's id. */
	make_client(&c, "alpha");
	assert_int_equal(store_record_client_encode(&c, &b), STORE_OK);
	plant(f, "clients", "beta", 4, b.data, b.len);
	buf_free(&b);
	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "beta", &c), STORE_CORRUPT);
	assert_null(c.scope);
	store_txn_abort(t);

	/* A client record that is a grant. */
	make_grant(&g, 4);
	assert_int_equal(store_record_grant_encode(&g, &b), STORE_OK);
	plant(f, "clients", "gamma", 5, b.data, b.len);
	t = begin(f->store, 0);
	assert_int_equal(store_client_get(t, "gamma", &c), STORE_CORRUPT);
	assert_int_equal(store_client_foreach(t, never_client, NULL),
	    STORE_CORRUPT);
	store_txn_abort(t);

	/* A grant stored under another id. */
	memset(gid, 5, sizeof(gid));
	plant(f, "grants", gid, sizeof(gid), b.data, b.len);
	buf_free(&b);
	t = begin(f->store, 0);
	assert_int_equal(store_grant_get(t, gid, &g), STORE_CORRUPT);
	assert_null(g.subject);
	/* Revocation is not fooled into writing a corrupt grant back. */
	store_txn_abort(t);
	t = begin(f->store, 1);
	assert_int_equal(store_grant_revoke(t, gid), STORE_CORRUPT);
	store_txn_abort(t);
}

/*
 * In a child, opens the environment with LMDB directly and reports through
 * its exit status how many stale reader slots a check clears.
 */
static int
raw_stale_readers(const char *db)
{
	MDB_env *env;
	int dead = -1;

	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 3) != 0 ||
	    mdb_env_open(env, db, MDB_RDONLY, 0600) != 0 ||
	    mdb_reader_check(env, &dead) != 0)
		return 100;
	mdb_env_close(env);
	return dead;
}

/* A child that dies holding a read transaction, as a crash would. */
static void
crash_reader(const char *db)
{
	struct store *s;
	struct store_txn *t;
	pid_t pid;

	if ((pid = spawn()) == 0) {
		if (store_open(db, 0, 0, &s, NULL, 0) != STORE_OK ||
		    store_txn_begin(s, 0, &t) != STORE_OK)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(wait_child(pid), 0);
}

static int
count_stale(const char *db)
{
	pid_t pid;

	if ((pid = spawn()) == 0)
		_exit(raw_stale_readers(db));
	return wait_child(pid);
}

/*
 * The first process to open an environment resets its reader table, so a
 * stale slot only matters while others keep the environment open, as the
 * processes of a FastCGI pool do.  A holder child plays that pool.
 */
static void
test_stale_readers(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	int ready[2], release[2];
	char c;
	pid_t holder;

	store_close(f->store);
	f->store = NULL;
	if (pipe(ready) == -1 || pipe(release) == -1)
		fail_msg("pipe: %s", strerror(errno));
	if ((holder = spawn()) == 0) {
		close(ready[0]);
		close(release[1]);
		if (store_open(f->db, 0, 0, &s, NULL, 0) != STORE_OK)
			_exit(1);
		if (write(ready[1], "r", 1) != 1 ||
		    read(release[0], &c, 1) != 0)
			_exit(2);
		store_close(s);
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);

	/* Left alone, a crashed reader's slot stays taken. */
	crash_reader(f->db);
	assert_int_equal(count_stale(f->db), 1);

	/* Opening the store clears it. */
	crash_reader(f->db);
	assert_int_equal(store_open(f->db, 0, 0, &f->store, NULL, 0), STORE_OK);
	assert_int_equal(count_stale(f->db), 0);

	close(release[1]);
	close(ready[0]);
	assert_int_equal(wait_child(holder), 0);
}

/*
 * A responder killed in a read transaction leaves a slot that pins its
 * snapshot; a long-lived process, which opened the store before that
 * death, must clear it as it goes, or no page freed since can be reused
 * and a small map fills with commits that need a few pages each.
 */
static void
test_dead_reader_long_lived(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct store_txn *t;
	struct token tok;
	unsigned char key[TOKEN_HASH_LEN];
	char path[256], scope[1001], c;
	int ready[2];
	unsigned i;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/pinned", f->dir);
	assert_int_equal(store_open(path, 1024 * 1024, 1, &s, NULL, 0), STORE_OK);
	store_close(s);
	if (pipe(ready) == -1)
		fail_msg("pipe: %s", strerror(errno));
	if ((pid = spawn()) == 0) {
		close(ready[0]);
		if (store_open(path, 0, 0, &s, NULL, 0) != STORE_OK ||
		    store_txn_begin(s, 0, &t) != STORE_OK ||
		    write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	/* Opened while the reader lives: opening cannot clear its slot. */
	assert_int_equal(store_open(path, 1024 * 1024, 0, &s, NULL, 0), STORE_OK);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);

	memset(scope, 's', sizeof(scope) - 1);
	scope[sizeof(scope) - 1] = '\0';
	make_token(&tok, TOKEN_ACCESS, scope);
	for (i = 0; i < 1000; i++) {
		key_of(key, 7, i % 8);
		t = begin(s, 1);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
		if (store_txn_commit(t) != STORE_OK)
			fail_msg("commit %u of 1000 failed", i + 1);
	}
	store_close(s);
}

/*
 * Processes configured with different map sizes agree on the larger: one
 * configured smaller than the data an earlier one wrote still writes.
 */
static void
test_map_size_adopted(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct store_txn *t;
	struct token tok;
	unsigned char key[TOKEN_HASH_LEN];
	char path[256], scope[1001];
	unsigned i;

	snprintf(path, sizeof(path), "%s/sized", f->dir);
	memset(scope, 's', sizeof(scope) - 1);
	scope[sizeof(scope) - 1] = '\0';
	make_token(&tok, TOKEN_ACCESS, scope);
	assert_int_equal(store_open(path, 2 * 1024 * 1024, 1, &s, NULL, 0), STORE_OK);
	t = begin(s, 1);
	for (i = 0; i < 400; i++) {
		key_of(key, 8, i);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	}
	assert_int_equal(store_txn_commit(t), STORE_OK);
	store_close(s);

	assert_int_equal(store_open(path, 64 * 1024, 0, &s, NULL, 0), STORE_OK);
	assert_true(store_map_size(s) >= 2 * 1024 * 1024);
	t = begin(s, 1);
	for (i = 400; i < 500; i++) {
		key_of(key, 8, i);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	}
	assert_int_equal(store_txn_commit(t), STORE_OK);
	store_close(s);

	/* A larger configured size wins over the stored one. */
	assert_int_equal(store_open(path, 8 * 1024 * 1024, 0, &s, NULL, 0), STORE_OK);
	assert_int_equal(store_map_size(s), 8 * 1024 * 1024);
	store_close(s);
}

static void put_scoped_client(struct store *, const char *, const char *);

/* Grows the map a quarter at a time, at least a MiB. */
static void
test_map_grow(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	char path[256];

	snprintf(path, sizeof(path), "%s/grown", f->dir);
	assert_int_equal(store_open(path, 64 * 1024, 1, &s, NULL, 0), STORE_OK);
	assert_int_equal(store_map_grow(s), STORE_OK);
	assert_int_equal(store_map_size(s), 64 * 1024 + 1024 * 1024);
	/* The next commit stores the new size for every process. */
	put_scoped_client(s, "c1", "read");
	store_close(s);
	assert_int_equal(store_open(path, 64 * 1024, 1, &s, NULL, 0), STORE_OK);
	assert_int_equal(store_map_size(s), 64 * 1024 + 1024 * 1024);
	store_close(s);
}

/* Registers a client with the given id and scope in its own transaction. */
static void
put_scoped_client(struct store *s, const char *id, const char *scope)
{
	struct store_txn *t;
	struct client c;

	make_client(&c, id);
	c.scope = (char *)scope;
	t = begin(s, 1);
	assert_int_equal(store_client_put(t, &c, 1), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
}

/* Fails unless the scopes record of s reads want. */
static void
expect_scopes(int line, struct store *s, const char *want)
{
	struct store_txn *t = begin(s, 0);
	char *got;

	assert_int_equal(store_scopes_get(t, &got), STORE_OK);
	if (strcmp(got, want) != 0)
		fail_msg("line %d: scopes \"%s\", want \"%s\"", line, got,
		    want);
	free(got);
	store_txn_abort(t);
}

/*
 * The scopes in use are one record, rebuilt as clients change: sorted,
 * distinct, bounded, and read without decoding any client (a corrupt one
 * planted behind the store's back does not break the read).
 */
static void
test_scopes_record(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct client c;
	struct buf b = { 0 };
	char id[32], scope[32];
	char *got;
	size_t n;
	int i;

	expect_scopes(__LINE__, f->store, "");
	put_scoped_client(f->store, "c1", "write read");
	put_scoped_client(f->store, "c2", "read admin urn:x:y");
	put_scoped_client(f->store, "c3", "");
	expect_scopes(__LINE__, f->store, "admin read urn:x:y write");
	t = begin(f->store, 1);
	assert_int_equal(store_client_delete(t, "c2"), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	expect_scopes(__LINE__, f->store, "read write");

	/* A record that does not decode, planted raw: not read at all. */
	make_client(&c, "alpha");
	assert_int_equal(store_record_client_encode(&c, &b), STORE_OK);
	plant(f, "clients", "beta", 4, b.data, b.len);
	buf_free(&b);
	expect_scopes(__LINE__, f->store, "read write");

	/* Bounded: past STORE_SCOPES_MAX values some go unlisted. */
	t = begin(f->store, 1);
	assert_int_equal(store_client_delete(t, "beta"), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	for (i = 0; i < STORE_SCOPES_MAX + 10; i++) {
		snprintf(id, sizeof(id), "many%03d", i);
		snprintf(scope, sizeof(scope), "s%03d", i);
		put_scoped_client(f->store, id, scope);
	}
	t = begin(f->store, 0);
	assert_int_equal(store_scopes_get(t, &got), STORE_OK);
	store_txn_abort(t);
	for (n = 1, i = 0; got[i] != '\0'; i++)
		n += got[i] == ' ';
	assert_int_equal(n, STORE_SCOPES_MAX);
	free(got);
}

/* Fills k as a key of alg whose kid starts with c. */
static void
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

/*
 * Signing keys round-trip, and the key that signs an alg at a time is the
 * one that began signing last among those not retired then.
 */
static void
test_keys(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct key k, got;
	char kid[JOSE_KID_LEN + 1];

	t = begin(f->store, 1);
	make_key(&k, 'a', JOSE_ALG_RS256, UNIT_NOW);
	assert_int_equal(store_key_put(t, &k), STORE_OK);
	make_key(&k, 'b', JOSE_ALG_RS256, UNIT_NOW + 600);
	assert_int_equal(store_key_put(t, &k), STORE_OK);
	make_key(&k, 'c', JOSE_ALG_ES256, UNIT_NOW);
	k.retired_at = UNIT_NOW + 100;
	k.drop_at = UNIT_NOW + 5000;
	assert_int_equal(store_key_put(t, &k), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);

	t = begin(f->store, 0);
	memset(kid, 'c', JOSE_KID_LEN);
	kid[JOSE_KID_LEN] = '\0';
	assert_int_equal(store_key_get(t, kid, &got), STORE_OK);
	assert_int_equal(got.alg, JOSE_ALG_ES256);
	assert_true(got.drop_at == UNIT_NOW + 5000);
	assert_string_equal(got.jwk, "{\"kty\":\"EC\"}");
	key_free(&got);
	assert_int_equal(store_key_get(t, "short", &got), STORE_NOTFOUND);

	assert_int_equal(store_key_signer(t, JOSE_ALG_RS256, UNIT_NOW, &got),
	    STORE_OK);
	assert_int_equal(got.kid[0], 'a');
	key_free(&got);
	assert_int_equal(store_key_signer(t, JOSE_ALG_RS256, UNIT_NOW + 600,
	    &got), STORE_OK);
	assert_int_equal(got.kid[0], 'b');
	key_free(&got);
	assert_int_equal(store_key_signer(t, JOSE_ALG_ES256, UNIT_NOW + 99,
	    &got), STORE_OK);
	key_free(&got);
	assert_int_equal(store_key_signer(t, JOSE_ALG_ES256, UNIT_NOW + 100,
	    &got), STORE_NOTFOUND);
	assert_int_equal(store_key_signer(t, JOSE_ALG_EDDSA, UNIT_NOW, &got),
	    STORE_NOTFOUND);
	store_txn_abort(t);

	/* A key breaking a limit is refused, nothing written. */
	t = begin(f->store, 1);
	make_key(&k, 'd', JOSE_ALG_ES256, UNIT_NOW);
	k.kid[10] = '\0';
	assert_int_equal(store_key_put(t, &k), STORE_INVALID);
	make_key(&k, 'd', JOSE_ALG__MAX, UNIT_NOW);
	assert_int_equal(store_key_put(t, &k), STORE_INVALID);
	make_key(&k, 'd', JOSE_ALG_ES256, UNIT_NOW);
	k.jwk = "";
	assert_int_equal(store_key_put(t, &k), STORE_INVALID);
	store_txn_abort(t);

	make_key(&k, 'c', JOSE_ALG_ES256, UNIT_NOW);
	assert_true(store_key_published(&k, UNIT_NOW));
	assert_false(store_key_published(&k, UNIT_NOW - 1));
	k.drop_at = UNIT_NOW + 10;
	assert_false(store_key_published(&k, UNIT_NOW + 10));
}

static void
test_strerror(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < STORE_STATUS__MAX; i++) {
		const char *s = store_strerror((enum store_status)i);

		assert_non_null(s);
		assert_true(*s != '\0');
		for (j = 0; j < i; j++)
			assert_string_not_equal(s,
			    store_strerror((enum store_status)j));
	}
	assert_string_equal(store_strerror(STORE_STATUS__MAX),
	    "unknown storage status");
	assert_string_equal(store_strerror((enum store_status)-1),
	    "unknown storage status");
}

/*
 * Opening an environment whose databases exist, and reading from it, never
 * waits for the writers' lock: a CGI introspection request must not queue
 * behind a token being written.  A child holds a write transaction open
 * while this process opens and reads; SIGALRM fails the test if it blocks.
 */
static void
test_open_beside_writer(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct store_txn *t;
	struct client c;
	int ready[2], release[2];
	char byte;
	pid_t writer;

	store_close(f->store);
	f->store = NULL;
	if (pipe(ready) == -1 || pipe(release) == -1)
		fail_msg("pipe: %s", strerror(errno));
	if ((writer = spawn()) == 0) {
		alarm(30);
		if (store_open(f->db, 0, 0, &s, NULL, 0) != STORE_OK ||
		    store_txn_begin(s, 1, &t) != STORE_OK ||
		    write(ready[1], "w", 1) != 1 ||
		    read(release[0], &byte, 1) != 1)
			_exit(1);
		store_txn_abort(t);
		store_close(s);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &byte, 1), 1);
	alarm(10);
	assert_int_equal(store_open(f->db, 0, 0, &s, NULL, 0), STORE_OK);
	assert_int_equal(store_txn_begin(s, 0, &t), STORE_OK);
	assert_int_equal(store_client_get(t, "nobody", &c), STORE_NOTFOUND);
	store_txn_abort(t);
	alarm(0);
	assert_int_equal(write(release[1], "r", 1), 1);
	assert_int_equal(wait_child(writer), 0);
	close(ready[0]);
	close(ready[1]);
	close(release[0]);
	close(release[1]);
	f->store = s;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_modes),
		T(test_open_missing),
		T(test_reopen),
		T(test_client_crud),
		T(test_client_foreach),
		T(test_token_crud),
		T(test_token_foreach_delete),
		T(test_grant_crud),
		T(test_abort_and_isolation),
		T(test_full),
		T(test_is_active),
		T(test_revoke),
		T(test_two_processes),
		T(test_fork_guard),
		T(test_corrupt_records),
		T(test_stale_readers),
		T(test_open_beside_writer),
		T(test_dead_reader_long_lived),
		T(test_map_size_adopted),
		T(test_map_grow),
		T(test_scopes_record),
		T(test_keys),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
