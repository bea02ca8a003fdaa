/*
 * The PostgreSQL schema and its versions.  Each version is the list of
 * statements that takes the schema from the one before to it; "oauthctl
 * init" applies the missing ones in one transaction, under an advisory
 * lock so that two inits do not race, and a program refuses a schema newer
 * than it knows.
 *
 * Tokens, codes and secrets are stored exactly as LMDB stores them: a
 * token under the SHA-256 of its string, a client's secret as its hash,
 * each record in the encoding of store_record.c.  Beside the record, a
 * table carries as columns what a query selects by: a token's kind,
 * state, client, grant and expiry, so that purge and stats are queries.
 * The expiry indexes keep purge a range scan however large a table grows.
 * There are no foreign keys: a token whose grant is gone is inactive, as
 * in LMDB, and purge removes grants before the tokens that name them.
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_pg.h"

/* An arbitrary constant: the advisory lock "oauthctl init" holds. */
#define STORE_PG_SCHEMA_LOCK 0x6f61757468LL

static const char *const store_pg_schema_v1[] = {
	"CREATE TABLE oauth_clients ("
	" id text COLLATE \"C\" PRIMARY KEY,"
	" is_public boolean NOT NULL,"
	" scope text COLLATE \"C\" NOT NULL,"
	" record bytea NOT NULL)",
	"CREATE TABLE oauth_grants ("
	" id bytea PRIMARY KEY,"
	" client_id text COLLATE \"C\" NOT NULL,"
	" revoked boolean NOT NULL,"
	" expires_at bigint NOT NULL,"
	" record bytea NOT NULL)",
	"CREATE INDEX oauth_grants_expiry ON oauth_grants (expires_at)",
	"CREATE TABLE oauth_tokens ("
	" hash bytea PRIMARY KEY,"
	" kind smallint NOT NULL,"
	" state smallint NOT NULL,"
	" client_id text COLLATE \"C\" NOT NULL,"
	" grant_id bytea,"
	" expires_at bigint NOT NULL,"
	" record bytea NOT NULL)",
	"CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at)",
	"CREATE TABLE oauth_keys ("
	" kid text COLLATE \"C\" PRIMARY KEY,"
	" record bytea NOT NULL)",
	NULL
};

/* Single-use values (store_seen_put), by hash, until they expire. */
static const char *const store_pg_schema_v2[] = {
	"CREATE TABLE oauth_seen ("
	" hash bytea PRIMARY KEY,"
	" expires_at bigint NOT NULL)",
	"CREATE INDEX oauth_seen_expiry ON oauth_seen (expires_at)",
	NULL
};

/* The versions, in order: index i takes version i to i + 1. */
static const char *const *const store_pg_schema_steps[] = {
	store_pg_schema_v1,
	store_pg_schema_v2,
};

#define STORE_PG_SCHEMA_VERSION \
	((int)(sizeof(store_pg_schema_steps) / sizeof(store_pg_schema_steps[0])))

/* The version this program reads and writes. */
int
store_pg_schema_version(void)
{
	return STORE_PG_SCHEMA_VERSION;
}

/*
 * Runs one statement without parameters.  Returns 0, or -1 with why set
 * to the server's primary message and *sqlstate to its code.
 */
static int
store_pg_schema_exec(PGconn *conn, const char *sql, char *why, size_t whylen,
    char sqlstate[6])
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType rs = PQresultStatus(res);
	const char *code;

	if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK) {
		PQclear(res);
		return 0;
	}
	code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	(void)snprintf(sqlstate, 6, "%s", code != NULL ? code : "");
	store_pg_say(conn, res, why, whylen);
	PQclear(res);
	return -1;
}

/*
 * The version of the schema conn's database holds: 0 when there is none.
 * Returns 0 with *version set, or -1 with why set.
 */
static int
store_pg_schema_read(PGconn *conn, int *version, char *why, size_t whylen)
{
	PGresult *res = PQexec(conn, "SELECT max(version) FROM oauth_schema");
	const char *code;
	int rv = 0;

	*version = 0;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
		    sscanf(PQgetvalue(res, 0, 0), "%d", version) != 1)
			rv = -1;
	} else if ((code = PQresultErrorField(res, PG_DIAG_SQLSTATE)) == NULL ||
		   strcmp(code, "42P01") != 0) {
		/* 42P01, undefined_table: no schema yet. */
		store_pg_say(conn, res, why, whylen);
		rv = -1;
	}
	PQclear(res);
	return rv;
}

/*
 * Makes sure conn's database holds this program's schema: with create
 * set, creating it or applying the missing versions in one transaction;
 * without, only checking.  Returns STORE_OK; STORE_MISSING when there is
 * no schema and create is not set; STORE_INVALID for a schema newer than
 * this program, or older without create; STORE_UNAVAILABLE or STORE_IOERR
 * when the server fails; why then says what happened.
 */
enum store_status
store_pg_schema_ensure(PGconn *conn, int create, char *why, size_t whylen)
{
	char sqlstate[6] = "", lock[64];
	int version, i, j;

	if (store_pg_schema_read(conn, &version, why, whylen) == -1)
		return PQstatus(conn) == CONNECTION_OK ? STORE_IOERR
						       : STORE_UNAVAILABLE;
	if (version > STORE_PG_SCHEMA_VERSION) {
		(void)snprintf(why, whylen, "the schema is version %d, newer "
		    "than this program's %d: upgrade fcgi-oauth", version,
		    STORE_PG_SCHEMA_VERSION);
		return STORE_INVALID;
	}
	if (version == STORE_PG_SCHEMA_VERSION)
		return STORE_OK;
	if (!create) {
		if (version == 0) {
			(void)snprintf(why, whylen, "no schema in the "
			    "database");
			return STORE_MISSING;
		}
		(void)snprintf(why, whylen, "the schema is version %d, older "
		    "than this program's %d: run 'oauthctl init' to migrate it",
		    version, STORE_PG_SCHEMA_VERSION);
		return STORE_INVALID;
	}
	(void)snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%lld)",
	    STORE_PG_SCHEMA_LOCK);
	if (store_pg_schema_exec(conn, "BEGIN", why, whylen, sqlstate) == -1)
		goto fail;
	if (store_pg_schema_exec(conn, lock, why, whylen, sqlstate) == -1 ||
	    store_pg_schema_exec(conn, "CREATE TABLE IF NOT EXISTS oauth_schema "
	    "(version integer NOT NULL)", why, whylen, sqlstate) == -1 ||
	    store_pg_schema_read(conn, &version, why, whylen) == -1)
		goto rollback;
	/* Another init may have migrated while this one waited. */
	for (i = version; i < STORE_PG_SCHEMA_VERSION; i++)
		for (j = 0; store_pg_schema_steps[i][j] != NULL; j++)
			if (store_pg_schema_exec(conn,
			    store_pg_schema_steps[i][j], why, whylen,
			    sqlstate) == -1)
				goto rollback;
	(void)snprintf(lock, sizeof(lock), "INSERT INTO oauth_schema "
	    "VALUES (%d)", STORE_PG_SCHEMA_VERSION);
	if (version < STORE_PG_SCHEMA_VERSION &&
	    (store_pg_schema_exec(conn, "DELETE FROM oauth_schema", why,
	    whylen, sqlstate) == -1 ||
	    store_pg_schema_exec(conn, lock, why, whylen, sqlstate) == -1))
		goto rollback;
	if (store_pg_schema_exec(conn, "COMMIT", why, whylen, sqlstate) == -1)
		goto fail;
	return STORE_OK;
rollback:
	{
		char ignored[STORE_DETAIL_MAX], code[6];

		(void)store_pg_schema_exec(conn, "ROLLBACK", ignored,
		    sizeof(ignored), code);
	}
fail:
	return PQstatus(conn) == CONNECTION_OK ? STORE_IOERR
					       : STORE_UNAVAILABLE;
}
