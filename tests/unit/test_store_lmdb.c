/*
 * What only the LMDB store does: the directory and file modes it makes, a
 * missing directory, one snapshot a read transaction, a full map and its
 * growth, map sizes agreed between processes, the fork guard, reader
 * slots left by dead processes, opening beside a writer, and the scopes
 * kept as one derived record.  What every backend does is
 * test_store_contract.c's.
 *
 * Some tests write raw LMDB from a child process, to plant records the
 * store itself would never write; the store is always closed across fork.
 *
 *   test_store_lmdb [GLOB]   a cmocka name glob: only the tests it names
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <lmdb.h>

#include "store_fixture.h"

static void
test_open_modes(void **state)
{
	struct sfx *f = *state;
	struct stat sb;
	char path[SFX_URI_MAX + 16];

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
	struct sfx *f = *state;
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
test_abort_and_isolation(void **state)
{
	struct sfx *f = *state;
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
	struct sfx *f = *state;
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

/* A store opened before fork is refused in the child. */
static void
test_fork_guard(void **state)
{
	struct sfx *f = *state;
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
plant(struct sfx *f, const char *name, const void *key, size_t keylen,
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
	struct sfx *f = *state;
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
 * Opening an environment whose databases exist, and reading from it, never
 * waits for the writers' lock: a CGI introspection request must not queue
 * behind a token being written.  A child holds a write transaction open
 * while this process opens and reads; SIGALRM fails the test if it blocks.
 */
static void
test_open_beside_writer(void **state)
{
	struct sfx *f = *state;
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

/*
 * A responder killed in a read transaction leaves a slot that pins its
 * snapshot; a long-lived process, which opened the store before that
 * death, must clear it as it goes, or no page freed since can be reused
 * and a small map fills with commits that need a few pages each.
 */
static void
test_dead_reader_long_lived(void **state)
{
	struct sfx *f = *state;
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
	struct sfx *f = *state;
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

/* Grows the map a quarter at a time, at least a MiB. */
static void
test_map_grow(void **state)
{
	struct sfx *f = *state;
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
	struct sfx *f = *state;
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

/*
 * Purge works on a full map, which is when it is needed most: deleting
 * copies pages too, so it goes in smaller batches and, if need be, grows
 * the map (store_purged.grown counts that).
 */
static void
test_purge_full_map(void **state)
{
	struct sfx *f = *state;
	struct store *s;
	struct store_txn *t;
	struct store_purged p;
	struct token tok;
	unsigned char key[TOKEN_HASH_LEN];
	char path[256], scope[201];
	enum store_status st = STORE_OK;
	unsigned committed = 0;

	snprintf(path, sizeof(path), "%s/full", f->dir);
	assert_int_equal(store_open(path, 64 * 1024, STORE_OPEN_CREATE, &s,
	    NULL, 0), STORE_OK);
	memset(scope, 's', sizeof(scope) - 1);
	scope[sizeof(scope) - 1] = '\0';
	make_token(&tok, TOKEN_ACCESS, scope);
	tok.expires_at = UNIT_NOW - 1;
	while (st == STORE_OK) {
		t = begin(s, 1);
		key_of(key, 4, committed);
		if ((st = store_token_put(t, key, &tok)) == STORE_OK)
			st = store_txn_commit(t);
		else
			store_txn_abort(t);
		if (st == STORE_OK)
			committed++;
		assert_true(committed < 100000);
	}
	assert_int_equal(st, STORE_FULL);
	assert_true(committed > 10);

	assert_int_equal(store_purge(s, UNIT_NOW, &p), STORE_OK);
	assert_int_equal(p.tokens, committed);
	assert_int_equal(p.codes + p.grants, 0);
	assert_true(p.grown >= 0 && p.grown <= 8);
	/* Room again. */
	t = begin(s, 1);
	key_of(key, 4, 0);
	assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	assert_int_equal(store_txn_commit(t), STORE_OK);
	store_close(s);
}

/* Each OAUTH_DB_SYNC setting opens and writes. */
static void
test_open_sync_flags(void **state)
{
	struct sfx *f = *state;
	static const enum config_sync syncs[] = {
		CONFIG_SYNC_FULL, CONFIG_SYNC_DATA, CONFIG_SYNC_NONE,
	};
	struct store *s;
	char path[256];
	size_t i;

	assert_int_equal(store_open_sync_flags(CONFIG_SYNC_FULL), 0);
	assert_int_equal(store_open_sync_flags(CONFIG_SYNC_DATA),
	    STORE_OPEN_SYNC_DATA);
	assert_int_equal(store_open_sync_flags(CONFIG_SYNC_NONE),
	    STORE_OPEN_SYNC_NONE);
	for (i = 0; i < sizeof(syncs) / sizeof(syncs[0]); i++) {
		snprintf(path, sizeof(path), "%s/sync%zu", f->dir, i);
		assert_int_equal(store_open(path, 0, STORE_OPEN_CREATE |
		    store_open_sync_flags(syncs[i]), &s, NULL, 0), STORE_OK);
		put_scoped_client(s, "c1", "read");
		store_close(s);
		assert_int_equal(store_open(path, 0,
		    store_open_sync_flags(syncs[i]), &s, NULL, 0), STORE_OK);
		expect_scopes(__LINE__, s, "read");
		store_close(s);
	}
}

/* How many of the pages of the file fd, of size bytes, are in memory. */
static size_t
resident_pages(int fd, size_t size, size_t *pages)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), i, n = 0;
	unsigned char *vec;
	void *map;

	*pages = (size + page - 1) / page;
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(map != MAP_FAILED);
	vec = malloc(*pages);
	assert_non_null(vec);
	assert_int_equal(mincore(map, size, vec), 0);
	for (i = 0; i < *pages; i++)
		n += vec[i] & 1;
	free(vec);
	(void)munmap(map, size);
	return n;
}

/*
 * STORE_OPEN_PREWARM: a database whose file left the page cache is read
 * back into it by the open, before any transaction.  (Where the file
 * system keeps its files in memory anyway, tmpfs, there is nothing to see:
 * only the open is checked.)
 */
static void
test_open_prewarm(void **state)
{
	struct sfx *f = *state;
	struct store *s;
	struct store_txn *t;
	struct token tok;
	unsigned char key[TOKEN_HASH_LEN];
	char path[256], file[300];
	struct stat st;
	size_t pages, in, tenths;
	unsigned i;
	int fd;

	snprintf(path, sizeof(path), "%s/warm", f->dir);
	assert_int_equal(store_open(path, 0, STORE_OPEN_CREATE, &s, NULL, 0),
	    STORE_OK);
	make_token(&tok, TOKEN_ACCESS, "read");
	t = begin(s, 1);
	for (i = 0; i < 300000; i++) {
		assert_int_equal(crypto_sha256(&i, sizeof(i), key), 0);
		assert_int_equal(store_token_put(t, key, &tok), STORE_OK);
	}
	assert_int_equal(store_txn_commit(t), STORE_OK);
	store_close(s);

	snprintf(file, sizeof(file), "%s/data.mdb", path);
	assert_true((fd = open(file, O_RDONLY)) >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	/*
	 * Larger than any readahead of an open, and than what one
	 * POSIX_FADV_WILLNEED reads (the device's window: 8 MiB here).
	 */
	assert_true(st.st_size >= 24 * 1024 * 1024);
	assert_int_equal(fdatasync(fd), 0);
	assert_int_equal(posix_fadvise(fd, 0, st.st_size,
	    POSIX_FADV_DONTNEED), 0);
	in = resident_pages(fd, (size_t)st.st_size, &pages);

	assert_int_equal(store_open(path, 0, STORE_OPEN_PREWARM, &s, NULL, 0),
	    STORE_OK);
	if (in == pages)
		print_message("# the file system keeps %s in memory: "
		    "nothing dropped, nothing to read back\n", file);
	else {
		/* The reads run on their own: wait for them, 10 s at most. */
		for (tenths = 0; tenths < 100 &&
		    resident_pages(fd, (size_t)st.st_size, &pages) < pages;
		    tenths++)
			(void)usleep(100000);
		assert_int_equal(resident_pages(fd, (size_t)st.st_size,
		    &pages), pages);
	}
	store_close(s);
	(void)close(fd);
}

#define T(name) cmocka_unit_test_setup_teardown(name, sfx_setup, sfx_teardown)

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		T(test_open_modes),
		T(test_open_missing),
		T(test_abort_and_isolation),
		T(test_full),
		T(test_fork_guard),
		T(test_stale_readers),
		T(test_open_beside_writer),
		T(test_dead_reader_long_lived),
		T(test_map_size_adopted),
		T(test_map_grow),
		T(test_scopes_record),
		T(test_purge_full_map),
		T(test_open_sync_flags),
		T(test_open_prewarm),
	};

	/* A test name (a glob) as the argument runs only the tests it names. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
