/*
 * The statements of the PostgreSQL backend, each prepared once per
 * connection under its number's name.  Parameters are typed by casts,
 * since they travel in binary form.
 */
#include "store_pg.h"

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

const struct store_pg_sql store_pg_stmts[PG_STMT__MAX] = {
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
	/*
	 * store_seen_put: a row inserted, or an expired one taken over,
	 * counts 1; a live one, 0, and then nothing is written.  A second
	 * inserter of one hash waits for the first to end, then finds its
	 * row.  The sweep runs only with a put, and passes over the row
	 * being put and rows others hold.
	 */
	[PG_SEEN_PUT] = {"WITH put AS (INSERT INTO oauth_seen (hash, "
	    "expires_at) VALUES ($1::bytea, $3::bigint) ON CONFLICT (hash) "
	    "DO UPDATE SET expires_at = EXCLUDED.expires_at "
	    "WHERE oauth_seen.expires_at <= $2::bigint RETURNING 1), "
	    "swept AS (DELETE FROM oauth_seen WHERE EXISTS (SELECT 1 FROM put) "
	    "AND hash IN (SELECT hash FROM oauth_seen "
	    "WHERE expires_at <= $2::bigint AND hash <> $1::bytea "
	    "ORDER BY expires_at LIMIT 2 FOR UPDATE SKIP LOCKED)) "
	    "SELECT count(*) FROM put", 3},
	[PG_PURGE_SEEN] = {"WITH d AS (DELETE FROM oauth_seen WHERE hash IN "
	    "(SELECT hash FROM oauth_seen WHERE expires_at <= $1::bigint "
	    "LIMIT 512 FOR UPDATE SKIP LOCKED) RETURNING 1) "
	    "SELECT count(*), count(*) FROM d", 1},
};

_Static_assert(STORE_PG_BATCH == 256 && STORE_PG_PURGE_BATCH == 512 &&
    STORE_SCOPES_MAX == 256 && STORE_SEEN_SWEEP == 2,
    "the LIMITs written in the queries");

