/*
 * The LMDB backend: one environment per process, three named databases,
 * records encoded by store_record.c.  Nothing outside storage/ sees an
 * MDB_* value.
 *
 * Many processes (mod_fcgid, spawn-fcgi children, oauthctl) share one
 * environment, so LMDB's own lock file coordinates them.  An environment
 * must not cross a fork: each process opens its own after it starts.
 */
/* For a writer-preferring rwlock (pthread_rwlockattr_setkind_np). */
#define _GNU_SOURCE

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "store_backend.h"

/* clients, tokens, grants, meta, keys, seen, seen_expiry */
#define STORE_LMDB_DBS 7
#define STORE_LMDB_SEEN_BATCH 512	/* expired values a purge txn deletes */
#define STORE_LMDB_SEEN_GROWS 8		/* map growths their purge may make */
/*
 * A long-lived process clears the reader slots of dead processes every so
 * many write transactions: a responder killed while it read pins the
 * snapshot it read, and no page freed after it can be reused until its
 * slot is cleared.
 */
#define STORE_LMDB_READER_CHECK_EVERY 16
#define STORE_LMDB_GROW_MIN ((size_t)1024 * 1024)	/* store_map_grow */
#define STORE_LMDB_FILE_MODE 0600
#define LS(s) ((struct store_lmdb *)(void *)(s))
#define LT(t) ((struct store_lmdb_txn *)(void *)(t))
#define STORE_LMDB_DIR_MODE 0700

struct store_lmdb {
	struct store base;
	MDB_env *env;
	MDB_dbi clients;
	MDB_dbi tokens;
	MDB_dbi grants;
	MDB_dbi meta;		/* derived data: the scopes in use */
	MDB_dbi keys;		/* signing keys, by kid */
	/*
	 * Single-use values (store_seen_put): their expiry, big-endian, by
	 * their hash; and the same as expiry || hash keys with no value, so
	 * that the expired are found first.
	 */
	MDB_dbi seen;
	MDB_dbi seen_expiry;
	pid_t pid;		/* the process that opened env */
	atomic_uint writes;	/* write transactions begun */
	/*
	 * STORE_OPEN_THREADS: LMDB changes the map's size only while no
	 * transaction of the process is open, so with threads every
	 * transaction holds this shared and a size change takes it
	 * exclusively.
	 */
	int threads;
	pthread_rwlock_t map_lock;
};

struct store_lmdb_txn {
	struct store_txn base;
	MDB_txn *txn;
	/*
	 * The first failed write: such a transaction may hold part of a
	 * change, so commit refuses it and aborts.
	 */
	enum store_status failed;
	/* A nested transaction's (store_lmdb_txn_begin_nested) parent. */
	struct store_lmdb_txn *parent;
	/* A nested one found the map full: recover when this one ends. */
	int nested_full;
};

static const struct store_ops store_lmdb_ops;
static enum store_status store_lmdb_status(int);
static enum store_status store_lmdb_write_status(struct store_txn *, int);
static enum store_status store_lmdb_dir(const char *, int);
static enum store_status store_lmdb_dbis(struct store *);
static enum store_status store_lmdb_get(struct store_txn *, MDB_dbi,
    const void *, size_t, MDB_val *);
static enum store_status store_lmdb_put(struct store_txn *, MDB_dbi,
    const void *, size_t, const struct buf *, unsigned);
static enum store_status store_lmdb_del(struct store_txn *, MDB_dbi,
    const void *, size_t);
static enum store_status store_lmdb_foreach(struct store_txn *, MDB_dbi,
    const void *, size_t, const struct store_each_fn *);

/* Maps an LMDB or errno code to our status. */
static enum store_status
store_lmdb_status(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return STORE_OK;
	case MDB_NOTFOUND:
		return STORE_NOTFOUND;
	case MDB_KEYEXIST:
		return STORE_EXISTS;
	case MDB_MAP_FULL:
	case MDB_READERS_FULL:
	case MDB_TXN_FULL:
		return STORE_FULL;
	case ENOMEM:
		return STORE_NOMEM;
	default:
		return STORE_IOERR;
	}
}

/*
 * Maps the result of a write and remembers a failure that may have left
 * part of a change in the transaction.  NOTFOUND and EXISTS change nothing.
 */
static enum store_status
store_lmdb_write_status(struct store_txn *t, int rc)
{
	enum store_status st = store_lmdb_status(rc);

	if (st != STORE_OK && st != STORE_NOTFOUND && st != STORE_EXISTS &&
	    LT(t)->failed == STORE_OK)
		LT(t)->failed = st;
	return st;
}

/*
 * Makes sure dir is a directory, creating it with mode 0700 when create is
 * set.  Returns STORE_IOERR with errno set (ENOENT for a missing directory
 * without create, ENOTDIR for something else in its place).
 */
static enum store_status
store_lmdb_dir(const char *dir, int create)
{
	struct stat sb;

	if (create && mkdir(dir, STORE_LMDB_DIR_MODE) == -1 &&
	    errno != EEXIST)
		return STORE_IOERR;
	if (stat(dir, &sb) == -1)
		return STORE_IOERR;
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return STORE_IOERR;
	}
	return STORE_OK;
}

/*
 * Opens the named databases in a transaction begun with txn_flags, passing
 * dbi_flags to each open.  Handles opened in a committed transaction stay
 * valid for the life of the environment.
 */
static enum store_status
store_lmdb_dbis_in(struct store *s, unsigned txn_flags, unsigned dbi_flags)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(LS(s)->env, NULL, txn_flags, &txn)) != 0)
		return store_lmdb_status(rc);
	if ((rc = mdb_dbi_open(txn, "clients", dbi_flags, &LS(s)->clients)) != 0 ||
	    (rc = mdb_dbi_open(txn, "tokens", dbi_flags, &LS(s)->tokens)) != 0 ||
	    (rc = mdb_dbi_open(txn, "grants", dbi_flags, &LS(s)->grants)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", dbi_flags, &LS(s)->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "keys", dbi_flags, &LS(s)->keys)) != 0 ||
	    (rc = mdb_dbi_open(txn, "seen", dbi_flags, &LS(s)->seen)) != 0 ||
	    (rc = mdb_dbi_open(txn, "seen_expiry", dbi_flags,
	    &LS(s)->seen_expiry)) != 0) {
		mdb_txn_abort(txn);
		return store_lmdb_status(rc);
	}
	return store_lmdb_status(mdb_txn_commit(txn));
}

/*
 * Opens the named databases, creating those missing.  They exist but in a
 * new environment, so a read transaction is tried first: a CGI process that
 * only reads (introspection) then never waits for the writers' lock.
 */
static enum store_status
store_lmdb_dbis(struct store *s)
{
	enum store_status st;

	st = store_lmdb_dbis_in(s, MDB_RDONLY, 0);
	if (st != STORE_NOTFOUND)
		return st;
	return store_lmdb_dbis_in(s, 0, MDB_CREATE);
}

/*
 * Maps at least want bytes, and more when the environment's stored size
 * is larger: processes configured with different sizes then agree on the
 * larger, and one with a smaller OAUTH_MAP_SIZE than the data still works.
 * No transaction of this process may be open.  Returns an LMDB code.
 */
static int
store_lmdb_adopt_map(struct store *s, size_t want)
{
	MDB_envinfo info;
	int rc;

	/* Size 0 takes the size stored in the environment's meta page. */
	if ((rc = mdb_env_set_mapsize(LS(s)->env, 0)) != 0 ||
	    (rc = mdb_env_info(LS(s)->env, &info)) != 0)
		return rc;
	if (info.me_mapsize < want)
		rc = mdb_env_set_mapsize(LS(s)->env, want);
	return rc;
}

/* Frees the reader slots of processes that died in a read transaction. */
static void
store_lmdb_clear_readers(struct store *s)
{
	int dead;

	(void)mdb_reader_check(LS(s)->env, &dead);
}

/*
 * Takes the map lock exclusively, with threads: what changes the map's
 * size runs between the two calls.  The calling thread holds no
 * transaction.
 */
static void
store_lmdb_map_exclusive(struct store *s)
{
	if (LS(s)->threads)
		(void)pthread_rwlock_wrlock(&LS(s)->map_lock);
}

/* Takes the map lock shared, with threads, for a transaction's life. */
static void
store_lmdb_map_shared(struct store *s)
{
	if (LS(s)->threads)
		(void)pthread_rwlock_rdlock(&LS(s)->map_lock);
}

/* Gives up either hold of the map lock. */
static void
store_lmdb_map_release(struct store *s)
{
	if (LS(s)->threads)
		(void)pthread_rwlock_unlock(&LS(s)->map_lock);
}

/*
 * After a transaction failed with STORE_FULL, and before the 503 that
 * follows: frees dead readers' slots, whose snapshots may be what filled
 * the map, and adopts a map that another process has grown since, so that
 * the next request can succeed.  The calling thread holds no transaction.
 */
static void
store_lmdb_after_full(struct store *s)
{
	MDB_envinfo info;

	store_lmdb_clear_readers(s);
	store_lmdb_map_exclusive(s);
	if (mdb_env_info(LS(s)->env, &info) == 0)
		(void)store_lmdb_adopt_map(s, info.me_mapsize);
	store_lmdb_map_release(s);
}

/*
 * Makes the map lock of a store shared by threads.  It prefers the
 * writer, so that a size change waits for the transactions open now but
 * not for a stream of new ones; a thread therefore holds one transaction
 * at a time, as every request does.  Returns 0 or an errno value.
 */
static int
store_lmdb_map_lock_init(pthread_rwlock_t *lock)
{
	pthread_rwlockattr_t attr;
	int rc;

	if ((rc = pthread_rwlockattr_init(&attr)) != 0)
		return rc;
#ifdef PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP
	(void)pthread_rwlockattr_setkind_np(&attr,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
	rc = pthread_rwlock_init(lock, &attr);
	(void)pthread_rwlockattr_destroy(&attr);
	return rc;
}

/*
 * Opens the environment in dir with a map of map_size bytes (0: the
 * default), or the size the environment was last grown to when that is
 * larger, creating dir (mode 0700) when flags has STORE_OPEN_CREATE, and
 * flushing commits as the STORE_OPEN_SYNC_* bits of flags say; the files are
 * created with mode 0600.  Readers left behind by crashed processes are
 * cleared.  On success *sp is the caller's, released with store_close.
 * Returns STORE_IOERR (errno set) when dir is missing or unusable,
 * STORE_FULL when a new environment does not fit the map, STORE_NOMEM.
 * *sp is NULL on failure.
 */
/*
 * STORE_OPEN_PREWARM: asks the kernel to read the data file ahead
 * (POSIX_FADV_WILLNEED starts the reads and returns), when it is at most
 * a quarter of the machine's memory; a larger one would push other
 * files out for pages that may never be read.  Linux reads no more for
 * one call than the device's readahead window (read_ahead_kb, often 128
 * KiB), so the file is asked for a window at a time.  Best effort: a
 * failure only leaves the file as cold as it was.
 */
#define STORE_LMDB_PREWARM_STEP (128 * 1024)

static void
store_lmdb_prewarm(MDB_env *env)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	struct stat st;
	off_t at;
	int fd;

	if (pages <= 0 || size <= 0 || mdb_env_get_fd(env, &fd) != 0 ||
	    fstat(fd, &st) != 0 || st.st_size <= 0 ||
	    (uintmax_t)st.st_size > (uintmax_t)pages / 4 * (uintmax_t)size)
		return;
	for (at = 0; at < st.st_size; at += STORE_LMDB_PREWARM_STEP)
		if (posix_fadvise(fd, at, STORE_LMDB_PREWARM_STEP,
		    POSIX_FADV_WILLNEED) != 0)
			return;
}

enum store_status
store_lmdb_open(const char *dir, size_t map_size, unsigned flags,
    struct store **sp, char *why, size_t whylen)
{
	struct store_lmdb *s;
	enum store_status st;
	unsigned env_flags = MDB_NOTLS;
	int rc, dead, saved;

	/*
	 * LMDB's default flushes data and meta page on every commit.  Without
	 * the meta flush an OS crash may undo the last commit; without any,
	 * recent commits, yet a process crash loses nothing either way.
	 */
	if (flags & STORE_OPEN_SYNC_DATA)
		env_flags |= MDB_NOMETASYNC;
	if (flags & STORE_OPEN_SYNC_NONE)
		env_flags |= MDB_NOSYNC;
	*sp = NULL;
	if ((st = store_lmdb_dir(dir, (flags & STORE_OPEN_CREATE) != 0)) !=
	    STORE_OK) {
		saved = errno;
		(void)snprintf(why, whylen, "%s", strerror(saved));
		errno = saved;
		return saved == ENOENT && !(flags & STORE_OPEN_CREATE) ?
		    STORE_MISSING : st;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return STORE_NOMEM;
	s->base.ops = &store_lmdb_ops;
	LS(s)->pid = process_id();
	if ((flags & STORE_OPEN_THREADS) &&
	    store_lmdb_map_lock_init(&LS(s)->map_lock) != 0) {
		free(s);
		return STORE_NOMEM;
	}
	LS(s)->threads = (flags & STORE_OPEN_THREADS) != 0;
	if ((rc = mdb_env_create(&LS(s)->env)) != 0) {
		st = store_lmdb_status(rc);
		saved = rc;
		goto fail_free;
	}
	if (map_size == 0)
		map_size = CONFIG_MAP_DEFAULT;
	/*
	 * MDB_NOTLS ties a reader slot to its transaction rather than to the
	 * thread, so one thread may hold two read transactions.  The size
	 * set before opening is that of a new environment; an existing one
	 * is compared with its stored size once open.
	 */
	if ((rc = mdb_env_set_mapsize(LS(s)->env, map_size)) != 0 ||
	    (rc = mdb_env_set_maxdbs(LS(s)->env, STORE_LMDB_DBS)) != 0 ||
	    (rc = mdb_env_open(LS(s)->env, dir, env_flags,
	    STORE_LMDB_FILE_MODE)) != 0 ||
	    (rc = store_lmdb_adopt_map(&s->base, map_size)) != 0) {
		st = store_lmdb_status(rc);
		saved = rc;
		goto fail_close;
	}
	if ((rc = mdb_reader_check(LS(s)->env, &dead)) != 0) {
		st = store_lmdb_status(rc);
		saved = rc;
		goto fail_close;
	}
	if ((st = store_lmdb_dbis(&s->base)) != STORE_OK) {
		saved = EIO;
		goto fail_close;
	}
	if (flags & STORE_OPEN_PREWARM)
		store_lmdb_prewarm(LS(s)->env);
	*sp = &s->base;
	return STORE_OK;
fail_close:
	mdb_env_close(LS(s)->env);
fail_free:
	if (LS(s)->threads)
		(void)pthread_rwlock_destroy(&LS(s)->map_lock);
	free(s);
	/* LMDB's own codes are negative: no errno describes them. */
	errno = saved > 0 ? saved : EIO;
	(void)snprintf(why, whylen, "%s",
	    saved > 0 ? strerror(saved) : mdb_strerror(saved));
	errno = saved > 0 ? saved : EIO;
	return st;
}

/* Closes the environment.  Accepts NULL.  No transaction may be open. */
static void
store_lmdb_close(struct store *s)
{
	if (s == NULL)
		return;
	mdb_env_close(LS(s)->env);
	if (LS(s)->threads)
		(void)pthread_rwlock_destroy(&LS(s)->map_lock);
	free(s);
}

/*
 * Begins a transaction, read-only unless writable is set.  A write
 * transaction waits for the writers of other processes; one process must
 * not begin a second while it holds one (LMDB would deadlock).  On
 * success *tp is ended by store_txn_commit or store_txn_abort.  Returns
 * STORE_FULL when the reader table is full, STORE_IOERR when the store was
 * opened by another process (an environment must not cross fork), and NULL
 * in *tp on failure.
 */
static enum store_status
store_lmdb_txn_begin(struct store *s, int writable, struct store_txn **tp)
{
	struct store_txn *t;
	unsigned flags = writable ? 0 : MDB_RDONLY;
	int rc;

	*tp = NULL;
	if (LS(s)->pid != process_id())
		return STORE_IOERR;
	if ((t = calloc(1, sizeof(struct store_lmdb_txn))) == NULL)
		return STORE_NOMEM;
	t->store = s;
	t->writable = writable != 0;
	LT(t)->failed = STORE_OK;
	if (writable && (atomic_fetch_add(&LS(s)->writes, 1) + 1) %
	    STORE_LMDB_READER_CHECK_EVERY == 0)
		store_lmdb_clear_readers(s);
	store_lmdb_map_shared(s);
	rc = mdb_txn_begin(LS(s)->env, NULL, flags, &LT(t)->txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size and retry. */
		store_lmdb_map_release(s);
		store_lmdb_map_exclusive(s);
		rc = mdb_env_set_mapsize(LS(s)->env, 0);
		store_lmdb_map_release(s);
		store_lmdb_map_shared(s);
		if (rc == 0)
			rc = mdb_txn_begin(LS(s)->env, NULL, flags,
			    &LT(t)->txn);
	} else if (rc == MDB_READERS_FULL) {
		/* Dead processes may hold the slots: free them and retry. */
		store_lmdb_clear_readers(s);
		rc = mdb_txn_begin(LS(s)->env, NULL, flags, &LT(t)->txn);
	}
	if (rc != 0) {
		store_lmdb_map_release(s);
		free(t);
		return store_lmdb_status(rc);
	}
	*tp = t;
	return STORE_OK;
}

/*
 * Begins a write transaction nested in the write transaction parent, for
 * the committer of store_group.c: its changes join parent's when it
 * commits and vanish when it aborts, parent going on either way.  Until
 * it ends, parent must not be used.  Returns STORE_NOMEM, or what LMDB
 * says; NULL in *tp on failure.
 */
static enum store_status
store_lmdb_txn_begin_nested(struct store_txn *parent, struct store_txn **tp)
{
	struct store_txn *t;
	int rc;

	*tp = NULL;
	if (!parent->writable)
		return STORE_INVALID;
	if ((t = calloc(1, sizeof(struct store_lmdb_txn))) == NULL)
		return STORE_NOMEM;
	t->store = parent->store;
	t->writable = 1;
	LT(t)->failed = STORE_OK;
	LT(t)->parent = LT(parent);
	if ((rc = mdb_txn_begin(LS(t->store)->env, LT(parent)->txn, 0,
	    &LT(t)->txn)) != 0) {
		free(t);
		return store_lmdb_status(rc);
	}
	*tp = t;
	return STORE_OK;
}

/*
 * Frees t once its LMDB transaction has ended.  A full map is recovered
 * from (store_lmdb_after_full) when the outermost transaction ends, since
 * no transaction may be open then; a nested one hands it to its parent.
 */
static void
store_lmdb_txn_end(struct store_txn *t, int full)
{
	struct store *s = t->store;
	struct store_lmdb_txn *parent = LT(t)->parent;

	full = full || LT(t)->nested_full;
	free(t);
	if (parent != NULL) {
		parent->nested_full |= full;
		return;
	}
	store_lmdb_map_release(s);
	if (full)
		store_lmdb_after_full(s);
}

/*
 * Commits t and ends it in every case.  A write transaction in which a
 * put or delete failed is aborted instead, returning that failure, so
 * that a half-done change is never written.  Returns STORE_FULL or
 * STORE_IOERR when the commit itself fails; nothing is written then.
 * After STORE_FULL the store has done what it can for the next
 * transaction to succeed (store_lmdb_after_full).
 */
static enum store_status
store_lmdb_txn_commit(struct store_txn *t)
{
	enum store_status st;

	if (LT(t)->failed != STORE_OK) {
		st = LT(t)->failed;
		mdb_txn_abort(LT(t)->txn);
	} else
		st = store_lmdb_status(mdb_txn_commit(LT(t)->txn));
	store_lmdb_txn_end(t, st == STORE_FULL);
	return st;
}

/* Ends t, discarding its writes.  Accepts NULL. */
static void
store_lmdb_txn_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(LT(t)->txn);
	store_lmdb_txn_end(t, LT(t)->failed == STORE_FULL);
}

/*
 * Grows the map by a quarter, at least STORE_LMDB_GROW_MIN bytes, for a
 * process that must write to a full database (oauthctl purge: deleting
 * copies pages too).  The new size is stored with the next commit, and
 * every other process adopts it.  No transaction of this process may be
 * open.  Returns STORE_OK, STORE_FULL when the size would overflow, or
 * the failure of the new mapping (STORE_IOERR, STORE_NOMEM).
 */
static enum store_status
store_lmdb_map_grow(struct store *s)
{
	MDB_envinfo info;
	size_t step;
	int rc;

	if ((rc = mdb_env_info(LS(s)->env, &info)) != 0)
		return store_lmdb_status(rc);
	step = info.me_mapsize / 4;
	if (step < STORE_LMDB_GROW_MIN)
		step = STORE_LMDB_GROW_MIN;
	if (info.me_mapsize > SIZE_MAX - step)
		return STORE_FULL;
	store_lmdb_map_exclusive(s);
	rc = mdb_env_set_mapsize(LS(s)->env, info.me_mapsize + step);
	store_lmdb_map_release(s);
	return store_lmdb_status(rc);
}

/* The bytes of the map this process has, for messages and tests. */
static size_t
store_lmdb_map_size(struct store *s)
{
	MDB_envinfo info;

	if (mdb_env_info(LS(s)->env, &info) != 0)
		return 0;
	return info.me_mapsize;
}

/* Looks up a key; *v is borrowed from the map until the transaction ends. */
static enum store_status
store_lmdb_get(struct store_txn *t, MDB_dbi dbi, const void *key,
    size_t keylen, MDB_val *v)
{
	MDB_val k = { keylen, (void *)key };

	return store_lmdb_status(mdb_get(LT(t)->txn, dbi, &k, v));
}

/*
 * Stores the record in b under key.  Returns STORE_INVALID in a read-only
 * transaction, STORE_EXISTS when flags has MDB_NOOVERWRITE and the key is
 * taken, STORE_FULL when the map is full.
 */
static enum store_status
store_lmdb_put(struct store_txn *t, MDB_dbi dbi, const void *key,
    size_t keylen, const struct buf *b, unsigned flags)
{
	MDB_val k = { keylen, (void *)key };
	MDB_val v = { b->len, b->data };

	if (!t->writable)
		return STORE_INVALID;
	return store_lmdb_write_status(t, mdb_put(LT(t)->txn, dbi, &k, &v, flags));
}

static enum store_status
store_lmdb_del(struct store_txn *t, MDB_dbi dbi, const void *key,
    size_t keylen)
{
	MDB_val k = { keylen, (void *)key };

	if (!t->writable)
		return STORE_INVALID;
	return store_lmdb_write_status(t, mdb_del(LT(t)->txn, dbi, &k, NULL));
}

/*
 * Reads the client with the given id into *c, which the caller then owns
 * (client_free).  Returns STORE_NOTFOUND for an unknown id (an empty or
 * over-long one included), STORE_CORRUPT when the record does not decode
 * or names another id; *c is zeroed on failure.
 */
static enum store_status
store_lmdb_client_get(struct store_txn *t, const char *id, struct client *c)
{
	MDB_val v;
	enum store_status st;
	char key[CLIENT_ID_MAX + 1];
	size_t len = strnlen(id, CLIENT_ID_MAX + 1);

	if (len == 0 || len > CLIENT_ID_MAX) {
		memset(c, 0, sizeof(*c));
		return STORE_NOTFOUND;
	}
	/* A copy: id may point into *c, which is cleared next. */
	memcpy(key, id, len + 1);
	memset(c, 0, sizeof(*c));
	if ((st = store_lmdb_get(t, LS(t->store)->clients, key, len, &v)) !=
	    STORE_OK)
		return st;
	if ((st = store_record_client_decode(v.mv_data, v.mv_size, c)) !=
	    STORE_OK)
		return st;
	if (strcmp(c->id, key) != 0) {
		client_free(c);
		return STORE_CORRUPT;
	}
	return STORE_OK;
}

/*
 * Stores c under its id, replacing a record already there only when
 * replace is set (STORE_EXISTS otherwise).  Returns STORE_INVALID for a
 * client breaking a limit or a read-only transaction, STORE_FULL when the
 * map is full: the caller must then abort.
 */
static enum store_status
store_lmdb_client_put(struct store_txn *t, const struct client *c, int replace)
{
	struct buf b = { 0 };
	enum store_status st;

	if ((st = store_record_client_encode(c, &b)) == STORE_OK)
		st = store_lmdb_put(t, LS(t->store)->clients, c->id,
		    strlen(c->id), &b, replace ? 0 : MDB_NOOVERWRITE);
	buf_free(&b);
	if (st == STORE_OK)
		st = store_scopes_rebuild(t);
	return st;
}

/*
 * Deletes a client, and updates the scopes in use.  Returns STORE_NOTFOUND
 * when there was none.
 */
static enum store_status
store_lmdb_client_delete(struct store_txn *t, const char *id)
{
	size_t len = strnlen(id, CLIENT_ID_MAX + 1);
	enum store_status st;

	if (!t->writable)
		return STORE_INVALID;
	if (len == 0 || len > CLIENT_ID_MAX)
		return STORE_NOTFOUND;
	if ((st = store_lmdb_del(t, LS(t->store)->clients, id, len)) != STORE_OK)
		return st;
	return store_scopes_rebuild(t);
}

/*
 * Reads the signing key kid into *k, owned by the caller (key_free, which
 * wipes its private key).  Returns STORE_NOTFOUND, or STORE_CORRUPT when
 * the record does not decode or names another kid.
 */
static enum store_status
store_lmdb_key_get(struct store_txn *t, const char *kid, struct key *k)
{
	MDB_val v;
	enum store_status st;
	char copy[JOSE_KID_LEN + 1];
	size_t len = strnlen(kid, JOSE_KID_LEN + 1);

	/* A copy first: kid may point into *k, which is cleared next. */
	if (len == JOSE_KID_LEN)
		memcpy(copy, kid, len + 1);
	memset(k, 0, sizeof(*k));
	if (len != JOSE_KID_LEN)
		return STORE_NOTFOUND;
	if ((st = store_lmdb_get(t, LS(t->store)->keys, copy, len, &v)) !=
	    STORE_OK)
		return st;
	if ((st = store_record_key_decode(v.mv_data, v.mv_size, k)) !=
	    STORE_OK)
		return st;
	if (strcmp(k->kid, copy) != 0) {
		key_free(k);
		return STORE_CORRUPT;
	}
	return STORE_OK;
}

/*
 * Stores k under its kid, replacing what was there.  Returns STORE_INVALID
 * or STORE_FULL as store_token_put does.  The encoded record, which holds
 * the private key, is wiped once written.
 */
static enum store_status
store_lmdb_key_put(struct store_txn *t, const struct key *k)
{
	struct buf b = { 0 };
	enum store_status st;

	if ((st = store_record_key_encode(k, &b)) == STORE_OK)
		st = store_lmdb_put(t, LS(t->store)->keys, k->kid, strlen(k->kid),
		    &b, 0);
	if (b.data != NULL)
		crypto_wipe(b.data, b.cap);
	buf_free(&b);
	return st;
}

/* Deletes a signing key.  Returns STORE_NOTFOUND when there was none. */
static enum store_status
store_lmdb_key_delete(struct store_txn *t, const char *kid)
{
	size_t len = strnlen(kid, JOSE_KID_LEN + 1);

	if (!t->writable)
		return STORE_INVALID;
	if (len != JOSE_KID_LEN)
		return STORE_NOTFOUND;
	return store_lmdb_del(t, LS(t->store)->keys, kid, len);
}

/* Walks the signing keys in kid order, as store_client_foreach does. */
static enum store_status
store_lmdb_key_foreach(struct store_txn *t,
    enum store_each (*cb)(const struct key *, void *), void *arg)
{
	struct store_each_fn each = { .key = cb, .arg = arg };

	return store_lmdb_foreach(t, LS(t->store)->keys, NULL, 0, &each);
}

/*
 * Reads the derived record stored under name into *out (a copy, with a
 * NUL after its bytes).  Returns STORE_NOTFOUND, STORE_NOMEM, or STORE_OK.
 */
enum store_status
store_meta_get(struct store_txn *t, const char *name, struct buf *out)
{
	MDB_val v;
	enum store_status st;

	if ((st = store_lmdb_get(t, LS(t->store)->meta, name, strlen(name), &v)) !=
	    STORE_OK)
		return st;
	if (buf_append(out, v.mv_data, v.mv_size) == -1)
		return STORE_NOMEM;
	return STORE_OK;
}

/*
 * Stores len bytes of data under name in the derived records, replacing
 * what was there.  Returns STORE_INVALID in a read-only transaction or for
 * a value over STORE_META_MAX bytes, STORE_FULL when the map is full.
 */
enum store_status
store_meta_put(struct store_txn *t, const char *name, const void *data,
    size_t len)
{
	struct buf b = { (char *)data, len, len + 1 };

	if (len > STORE_META_MAX)
		return STORE_INVALID;
	return store_lmdb_put(t, LS(t->store)->meta, name, strlen(name), &b, 0);
}

/*
 * Walks a database in key order, from the first key or, when after is not
 * NULL, from the first key that sorts after the afterlen bytes of after,
 * handing each decoded record to the one callback of each that is set.  The record is freed after the callback:
 * it must copy what it keeps, and may read through t but not write.
 * STORE_EACH_DELETE deletes the record just seen (a read transaction gets
 * STORE_INVALID and the walk stops).  Returns STORE_OK at the end or on
 * STORE_EACH_STOP, STORE_CORRUPT at a record that does not decode or does
 * not match its key, or the LMDB failure.
 */
static enum store_status
store_lmdb_foreach(struct store_txn *t, MDB_dbi dbi, const void *after,
    size_t afterlen, const struct store_each_fn *each)
{
	MDB_cursor *cur;
	MDB_val k, v;
	enum store_status st = STORE_OK;
	enum store_each next = STORE_EACH_NEXT;
	int rc;

	if ((rc = mdb_cursor_open(LT(t)->txn, dbi, &cur)) != 0)
		return store_lmdb_status(rc);
	if (after == NULL)
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	else {
		k.mv_size = afterlen;
		k.mv_data = (void *)after;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && k.mv_size == afterlen &&
		    memcmp(k.mv_data, after, afterlen) == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((st = store_each_visit(each, k.mv_data, k.mv_size,
		    v.mv_data, v.mv_size, &next)) != STORE_OK)
			break;
		switch (next) {
		case STORE_EACH_NEXT:
			continue;
		case STORE_EACH_DELETE:
			if (!t->writable) {
				st = STORE_INVALID;
				break;
			}
			/*
			 * After a delete the cursor rests on the successor,
			 * which MDB_NEXT then returns.
			 */
			st = store_lmdb_write_status(t,
			    mdb_cursor_del(cur, 0));
			if (st == STORE_OK)
				continue;
			break;
		case STORE_EACH_STOP:
		case STORE_EACH__MAX:
			break;
		}
		break;
	}
	if (st == STORE_OK && rc != 0 && rc != MDB_NOTFOUND)
		st = store_lmdb_status(rc);
	mdb_cursor_close(cur);
	return st;
}

/*
 * Walks the clients in id order; the callback and its answers are those of
 * store_lmdb_foreach.  Returns STORE_CORRUPT at an undecodable record.
 */
static enum store_status
store_lmdb_client_foreach(struct store_txn *t,
    enum store_each (*cb)(const struct client *, void *), void *arg)
{
	struct store_each_fn each = { .client = cb, .arg = arg };

	return store_lmdb_foreach(t, LS(t->store)->clients, NULL, 0, &each);
}

/*
 * Reads the token stored under hash into *tok, owned by the caller
 * (token_free).  Returns STORE_NOTFOUND or STORE_CORRUPT with *tok zeroed.
 */
static enum store_status
store_lmdb_token_get(struct store_txn *t, const unsigned char hash[TOKEN_HASH_LEN],
    struct token *tok)
{
	MDB_val v;
	enum store_status st;

	memset(tok, 0, sizeof(*tok));
	if ((st = store_lmdb_get(t, LS(t->store)->tokens, hash, TOKEN_HASH_LEN,
	    &v)) != STORE_OK)
		return st;
	return store_record_token_decode(v.mv_data, v.mv_size, tok);
}

/*
 * Stores tok under hash, replacing what was there.  Returns STORE_INVALID
 * for a token breaking a limit or a read-only transaction, STORE_FULL when
 * the map is full: the caller must then abort.
 */
static enum store_status
store_lmdb_token_put(struct store_txn *t, const unsigned char hash[TOKEN_HASH_LEN],
    const struct token *tok)
{
	struct buf b = { 0 };
	enum store_status st;

	if ((st = store_record_token_encode(tok, &b)) == STORE_OK)
		st = store_lmdb_put(t, LS(t->store)->tokens, hash, TOKEN_HASH_LEN,
		    &b, 0);
	buf_free(&b);
	return st;
}

/* Deletes a token.  Returns STORE_NOTFOUND when there was none. */
static enum store_status
store_lmdb_token_delete(struct store_txn *t,
    const unsigned char hash[TOKEN_HASH_LEN])
{
	return store_lmdb_del(t, LS(t->store)->tokens, hash, TOKEN_HASH_LEN);
}

/* The big-endian bytes of a seen record's expiry, which sort as it does. */
static void
store_lmdb_seen_time(int64_t t, unsigned char out[8])
{
	size_t i;

	for (i = 0; i < 8; i++)
		out[i] = (unsigned char)((uint64_t)t >> (56 - 8 * i));
}

static int64_t
store_lmdb_seen_time_of(const unsigned char in[8])
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return (int64_t)v;
}

/*
 * Deletes up to max seen records that have expired at now, oldest first,
 * counting them in *deleted.  Returns STORE_OK, STORE_CORRUPT for a key
 * that is not expiry || hash, or a write failure.
 */
static enum store_status
store_lmdb_seen_sweep(struct store_txn *t, int64_t now, size_t max,
    size_t *deleted)
{
	unsigned char hash[TOKEN_HASH_LEN];
	MDB_cursor *cur;
	MDB_val k, v;
	enum store_status st = STORE_OK;
	int rc;

	if ((rc = mdb_cursor_open(LT(t)->txn, LS(t->store)->seen_expiry,
	    &cur)) != 0)
		return store_lmdb_status(rc);
	while (*deleted < max) {
		/* The first again: a deletion moves the cursor. */
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) ==
		    MDB_NOTFOUND)
			break;
		if (rc != 0) {
			st = store_lmdb_status(rc);
			break;
		}
		if (k.mv_size != 8 + TOKEN_HASH_LEN) {
			st = STORE_CORRUPT;
			break;
		}
		if (store_lmdb_seen_time_of(k.mv_data) > now)
			break;
		memcpy(hash, (unsigned char *)k.mv_data + 8, sizeof(hash));
		if ((st = store_lmdb_write_status(t, mdb_cursor_del(cur, 0))) !=
		    STORE_OK)
			break;
		st = store_lmdb_del(t, LS(t->store)->seen, hash, sizeof(hash));
		if (st != STORE_OK && st != STORE_NOTFOUND)
			break;
		st = STORE_OK;
		(*deleted)++;
	}
	mdb_cursor_close(cur);
	return st;
}

/* store_seen_put: a read of the hash, then the two puts and a sweep. */
static enum store_status
store_lmdb_seen_put(struct store_txn *t, const unsigned char *hash,
    int64_t now, int64_t expires_at)
{
	unsigned char key[8 + TOKEN_HASH_LEN];
	struct buf value = { 0 }, none = { 0 };
	size_t swept = 0;
	enum store_status st;
	MDB_val v;

	if (expires_at < 0)
		return STORE_INVALID;
	st = store_lmdb_get(t, LS(t->store)->seen, hash, TOKEN_HASH_LEN, &v);
	if (st == STORE_OK) {
		if (v.mv_size != 8)
			return STORE_CORRUPT;
		memcpy(key, v.mv_data, 8);
		if (store_lmdb_seen_time_of(key) > now)
			return STORE_EXISTS;
		/* Seen once, long enough ago: its old expiry goes. */
		memcpy(key + 8, hash, TOKEN_HASH_LEN);
		st = store_lmdb_del(t, LS(t->store)->seen_expiry, key,
		    sizeof(key));
		if (st != STORE_OK && st != STORE_NOTFOUND)
			return st;
	} else if (st != STORE_NOTFOUND)
		return st;
	/* Before the put, so that the sweep can never take this one. */
	if ((st = store_lmdb_seen_sweep(t, now, STORE_SEEN_SWEEP, &swept)) !=
	    STORE_OK)
		return st;
	store_lmdb_seen_time(expires_at, key);
	memcpy(key + 8, hash, TOKEN_HASH_LEN);
	if (buf_append(&value, key, 8) == -1)
		return STORE_NOMEM;
	st = store_lmdb_put(t, LS(t->store)->seen, hash, TOKEN_HASH_LEN,
	    &value, 0);
	buf_free(&value);
	if (st == STORE_OK)
		st = store_lmdb_put(t, LS(t->store)->seen_expiry, key,
		    sizeof(key), &none, 0);
	return st;
}

/*
 * The purge of LMDB: store_walk_purge, then the expired seen records in
 * batches of one write transaction each, smaller and then with the map
 * grown when the map is full, as store_purge.c does.
 */
static enum store_status
store_lmdb_purge(struct store *s, int64_t now, struct store_purged *out)
{
	struct store_txn *t;
	size_t limit = STORE_LMDB_SEEN_BATCH, deleted;
	enum store_status st;
	int grows = 0;

	if ((st = store_walk_purge(s, now, out)) != STORE_OK)
		return st;
	for (;;) {
		deleted = 0;
		if ((st = store_txn_begin(s, 1, &t)) != STORE_OK)
			return st;
		st = store_lmdb_seen_sweep(t, now, limit, &deleted);
		if (st == STORE_OK)
			st = store_txn_commit(t);
		else
			store_txn_abort(t);
		if (st == STORE_FULL) {
			if (limit > 1) {
				limit = limit / 4 > 0 ? limit / 4 : 1;
				continue;
			}
			if (grows++ == STORE_LMDB_SEEN_GROWS ||
			    (st = store_map_grow(s)) != STORE_OK)
				return st;
			out->grown++;
			continue;
		}
		if (st != STORE_OK)
			return st;
		out->seen += deleted;
		if (deleted < limit)
			return STORE_OK;
	}
}

/*
 * As store_token_foreach, starting after the key after (NULL: at the
 * first), so that a long walk can go on in a later transaction.
 */
static enum store_status
store_lmdb_token_foreach_after(struct store_txn *t,
    const unsigned char *after,
    enum store_each (*cb)(const unsigned char *, const struct token *, void *),
    void *arg)
{
	struct store_each_fn each = { .token = cb, .arg = arg };

	return store_lmdb_foreach(t, LS(t->store)->tokens, after, TOKEN_HASH_LEN,
	    &each);
}

/*
 * Reads the grant with the given id into *g, owned by the caller
 * (grant_free).  Returns STORE_NOTFOUND, or STORE_CORRUPT when the record
 * does not decode or carries another id; *g is zeroed on failure.
 */
static enum store_status
store_lmdb_grant_get(struct store_txn *t, const unsigned char id[GRANT_ID_LEN],
    struct grant *g)
{
	MDB_val v;
	enum store_status st;
	unsigned char key[GRANT_ID_LEN];

	/* A copy: id may point into *g, which is cleared next. */
	memcpy(key, id, sizeof(key));
	memset(g, 0, sizeof(*g));
	if ((st = store_lmdb_get(t, LS(t->store)->grants, key, sizeof(key), &v)) !=
	    STORE_OK)
		return st;
	if ((st = store_record_grant_decode(v.mv_data, v.mv_size, g)) !=
	    STORE_OK)
		return st;
	if (memcmp(g->id, key, sizeof(key)) != 0) {
		grant_free(g);
		return STORE_CORRUPT;
	}
	return STORE_OK;
}

/*
 * Stores g under its id, replacing what was there.  Returns STORE_INVALID
 * or STORE_FULL as store_token_put does.
 */
static enum store_status
store_lmdb_grant_put(struct store_txn *t, const struct grant *g)
{
	struct buf b = { 0 };
	enum store_status st;

	if ((st = store_record_grant_encode(g, &b)) == STORE_OK)
		st = store_lmdb_put(t, LS(t->store)->grants, g->id, GRANT_ID_LEN,
		    &b, 0);
	buf_free(&b);
	return st;
}

/* As store_grant_foreach, starting after the id after (NULL: the first). */
static enum store_status
store_lmdb_grant_foreach_after(struct store_txn *t, const unsigned char *after,
    enum store_each (*cb)(const struct grant *, void *), void *arg)
{
	struct store_each_fn each = { .grant = cb, .arg = arg };

	return store_lmdb_foreach(t, LS(t->store)->grants, after, GRANT_ID_LEN,
	    &each);
}

/* The scopes in use: the derived record store_scopes.c keeps. */
static enum store_status
store_lmdb_scopes_get(struct store_txn *t, char **out)
{
	return store_scopes_record_get(t, out);
}

static const struct store_ops store_lmdb_ops = {
	.name = "lmdb",
	.txn_blocks_others = 1,
	.close = store_lmdb_close,
	.txn_begin = store_lmdb_txn_begin,
	.txn_begin_nested = store_lmdb_txn_begin_nested,
	.txn_commit = store_lmdb_txn_commit,
	.txn_abort = store_lmdb_txn_abort,
	.client_get = store_lmdb_client_get,
	.client_put = store_lmdb_client_put,
	.client_delete = store_lmdb_client_delete,
	.client_foreach = store_lmdb_client_foreach,
	.client_drop_tokens = store_walk_drop_tokens,
	.token_get = store_lmdb_token_get,
	.token_put = store_lmdb_token_put,
	.token_delete = store_lmdb_token_delete,
	.token_foreach_after = store_lmdb_token_foreach_after,
	.grant_get = store_lmdb_grant_get,
	.grant_put = store_lmdb_grant_put,
	.grant_foreach_after = store_lmdb_grant_foreach_after,
	.key_get = store_lmdb_key_get,
	.key_put = store_lmdb_key_put,
	.key_delete = store_lmdb_key_delete,
	.key_foreach = store_lmdb_key_foreach,
	.seen_put = store_lmdb_seen_put,
	.scopes_get = store_lmdb_scopes_get,
	.stats = store_walk_stats,
	.purge = store_lmdb_purge,
	.map_grow = store_lmdb_map_grow,
	.map_size = store_lmdb_map_size,
};
