/*
 * Opening the database, the one transaction of a command, and "init",
 * which creates the database.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/*
 * Loads the configuration (OAUTH_CONFIG's file and the environment, with
 * --db put in front of both) and opens the store, creating it when create
 * is set; a store already open is kept.  Returns CTL_EXIT_OK with
 * ctl->store open, CTL_EXIT_USAGE when no database was named at all,
 * CTL_EXIT_FAIL with a reason otherwise.
 */
enum ctl_exit
ctl_open(struct ctl *ctl, int create)
{
	char err[256], why[STORE_DETAIL_MAX];
	enum store_status st;
	const char *env, *name;

	/* Open already: one environment per process, as LMDB wants. */
	if (ctl->store != NULL)
		return CTL_EXIT_OK;
	/*
	 * The configuration takes the environment over its file, so --db
	 * placed in the environment wins over both, as it should.
	 */
	if (ctl->db_arg != NULL && setenv("OAUTH_DB", ctl->db_arg, 1) == -1)
		return ctl_fail(ctl, "setenv: %s", strerror(errno));
	if (config_load(&ctl->config, err, sizeof(err)) == -1) {
		env = getenv("OAUTH_DB");
		if ((env == NULL || *env == '\0') &&
		    getenv("OAUTH_CONFIG") == NULL)
			return ctl_usage_error(ctl, "no database: give --db "
			    "PATH or set OAUTH_DB");
		return ctl_fail(ctl, "configuration: %s", err);
	}
	st = store_open(ctl->config.db_path, ctl->config.map_size,
	    create ? STORE_OPEN_CREATE : 0, &ctl->store, why, sizeof(why));
	if (st == STORE_OK)
		return CTL_EXIT_OK;
	/* A URI may hold a password: it is never repeated. */
	name = store_is_uri(ctl->config.db_path) ? "OAUTH_DB"
						 : ctl->config.db_path;
	if (st == STORE_MISSING)
		return ctl_fail(ctl, "%s: no database there (run 'oauthctl "
		    "init' first)%s%s", name, *why != '\0' ? ": " : "", why);
	if (*why != '\0')
		return ctl_fail(ctl, "%s: %s: %s", name, store_strerror(st),
		    why);
	return ctl_store_fail(ctl, name, st);
}

/*
 * Opens the store and runs fn(ctl, txn, arg) in one transaction, a write
 * transaction when write is set.  fn reports its own failures; a write
 * transaction is committed only when fn returns CTL_EXIT_OK, a read one is
 * always ended without writing.  Returns what fn returned; or, reported,
 * what ctl_open returned, or CTL_EXIT_FAIL when the transaction could not
 * begin or commit: nothing was then written.
 */
enum ctl_exit
ctl_txn(struct ctl *ctl, int write, ctl_txn_fn fn, void *arg)
{
	struct store_txn *txn;
	enum store_status st;
	enum ctl_exit rv;

	if ((rv = ctl_open(ctl, 0)) != CTL_EXIT_OK)
		return rv;
	if ((st = store_txn_begin(ctl->store, write, &txn)) != STORE_OK)
		return ctl_store_fail(ctl, "begin", st);
	if ((rv = fn(ctl, txn, arg)) != CTL_EXIT_OK || !write) {
		store_txn_abort(txn);
		return rv;
	}
	if ((st = store_txn_commit(txn)) != STORE_OK)
		return ctl_store_fail(ctl, "commit", st);
	return CTL_EXIT_OK;
}

/*
 * Creates the database if it is missing: the LMDB directory (0700) and
 * environment (0600), or the PostgreSQL schema, migrated to this
 * program's version when older.  Prints where the database is.
 * Idempotent: an existing database is opened and left as it was.
 */
enum ctl_exit
ctl_cmd_init(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_line l;
	struct stat sb;
	enum ctl_exit rv;
	char *real;

	if ((rv = ctl_args_line(ctl, argc, argv, 0, NULL, &l)) != CTL_EXIT_OK ||
	    l.helped)
		return rv;
	if ((rv = ctl_open(ctl, 1)) != CTL_EXIT_OK ||
	    (rv = ctl_key_init(ctl)) != CTL_EXIT_OK)
		return rv;
	if (store_is_uri(ctl->config.db_path)) {
		printf("database ready (%s)\n",
		    store_backend_name(ctl->store));
		return CTL_EXIT_OK;
	}
	/*
	 * A directory made by someone else may be open to others; the
	 * files in it are ours alone, but say so before anyone relies on it.
	 */
	if (stat(ctl->config.db_path, &sb) == 0 &&
	    (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		fprintf(stderr, "oauthctl: init: warning: %s is accessible to "
		    "group or others (mode %03o); chmod 700 it\n",
		    ctl->config.db_path, (unsigned)(sb.st_mode & 0777));
	real = realpath(ctl->config.db_path, NULL);
	printf("database ready in %s\n",
	    real != NULL ? real : ctl->config.db_path);
	free(real);
	return CTL_EXIT_OK;
}
