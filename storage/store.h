/*
 * The storage interface: clients, tokens (access, refresh, authorization
 * codes), grants and signing keys.  Two backends keep it, chosen at open
 * from what OAUTH_DB names: a directory is an LMDB environment on this
 * machine (store_lmdb.c), a postgresql:// or postgres:// URI a PostgreSQL
 * database that many machines may share (store_pg.c).  Only the files of
 * storage/ know either exists; callers see enum store_status, never an
 * MDB_* code or a SQLSTATE.
 *
 * What every backend guarantees, whatever the number of processes and
 * machines using one database:
 *
 * - Every request is one transaction: begin, any number of gets and puts,
 *   then commit (write) or abort.  A write transaction's changes become
 *   visible to others all at once when its commit returns STORE_OK, and
 *   not at all when it fails or is aborted; a crash leaves the database
 *   as it was before or after it.  Once a commit has returned STORE_OK,
 *   every transaction begun afterwards, in any process on any machine,
 *   sees its changes: a token issued or revoked is seen so at once.
 *
 * - A get inside a write transaction of a token or a grant reads the
 *   latest committed record and keeps it from every other writer until
 *   this transaction ends; a second writer's get of the same record waits,
 *   then reads what the first committed.  That makes read, check, then
 *   put one indivisible step, which is what spends a code or a refresh
 *   token exactly once: of any number of transactions that get it, see it
 *   active and put it back used, one commits and the rest see it used.
 *   LMDB gives this for free, having one writer at a time.  PostgreSQL at
 *   READ COMMITTED does not (two transactions could both read the code
 *   active and both redeem it); its backend reads with SELECT ... FOR
 *   UPDATE, which locks the row and, after waiting, re-reads its newest
 *   version.  Clients and keys are read without that lock: only the
 *   operator writes them, and the last write wins.
 *
 * - A read transaction sees only committed data, but need not be one
 *   snapshot (PostgreSQL reads each statement at the latest state); no
 *   caller relies on two reads agreeing beyond what the records
 *   themselves say.
 *
 * - A failure that is worth retrying (the map or reader table full, the
 *   database unreachable, a lock conflict the database broke) is
 *   STORE_FULL or STORE_UNAVAILABLE: the request is answered 503, and
 *   nothing of its transaction was written.
 *
 * Records returned by a get are copied out of the database, owned by the
 * caller, and released with the matching _free.  Strings a backend reports
 * (store_detail) never hold a connection string, a password, a token or a
 * secret.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

enum store_status {
	STORE_OK = 0,
	STORE_NOTFOUND,	 /* no record under that key */
	STORE_EXISTS,	 /* put without replace found a record */
	STORE_FULL,	 /* map or reader table full: try later (503) */
	STORE_IOERR,	 /* the system failed us (500) */
	STORE_CORRUPT,	 /* a record we cannot decode (500) */
	STORE_INVALID,	 /* a record that breaks a limit; nothing written */
	STORE_NOMEM,	 /* allocation failed (500) */
	STORE_UNAVAILABLE, /* database unreachable or conflicted: retry (503) */
	STORE_MISSING,	 /* no database there yet: oauthctl init makes it */
	STORE_STATUS__MAX
};

#define STORE_SCOPES_MAX 256	/* scope values metadata lists */
#define STORE_NONCE_MAX 512	/* bytes of an OpenID Connect nonce */
#define STORE_CLAIMS_MAX 8192	/* bytes of a grant's claims */
#define STORE_META_MAX 65536	/* bytes of one derived record */
#define STORE_JWK_MAX 4096	/* bytes of a public JWK's JSON */
#define STORE_JWKS_MAX 16384	/* bytes of a client's JWK Set */
#define STORE_CHALLENGE_MAX 128	/* bytes of a PKCE code challenge */
/*
 * Expired single-use values (store_seen_put) a write of a new one deletes
 * on the way, so that the table stays as large as its window, not as its
 * history, between purges.
 */
#define STORE_SEEN_SWEEP 2

/* Grant types a client may use, as bits of struct client.grant_types. */
#define GRANT_CLIENT_CREDENTIALS 0x01u
#define GRANT_AUTHORIZATION_CODE 0x02u
#define GRANT_REFRESH_TOKEN 0x04u
#define GRANT_ALL 0x07u

/* How a client's TLS certificate authenticates it (RFC 8705 §2). */
enum client_tls_auth {
	CLIENT_TLS_NONE = 0,
	CLIENT_TLS_SUBJECT_DN,	/* tls_client_auth: a CA's, of that subject */
	CLIENT_TLS_SELF_SIGNED,	/* self_signed_tls_client_auth: that one */
	CLIENT_TLS__MAX
};
#define CLIENT_TLS_VALUE_MAX 1024	/* bytes of a subject DN */

/* What a client's access tokens are. */
enum client_token_format {
	CLIENT_TOKEN_DEFAULT = 0,	/* OAUTH_ACCESS_TOKEN_FORMAT decides */
	CLIENT_TOKEN_OPAQUE,
	CLIENT_TOKEN_JWT,
	CLIENT_TOKEN__MAX
};

struct client {
	char id[CLIENT_ID_MAX + 1];
	int is_public;			/* authenticates with "none" */
	unsigned char secret_salt[SECRET_SALT_LEN];
	unsigned char secret_hash[SECRET_HASH_LEN]; /* zero for public clients */
	uint32_t secret_iterations;	/* 0: generated secret, see crypto.c */
	unsigned grant_types;		/* GRANT_* bits */
	int may_introspect;		/* a resource server: sees all tokens */
	char *scope;			/* allowed scopes, "" when none */
	char *audience;			/* NULL when none */
	char *redirect_uris[REDIRECT_URIS_MAX];
	size_t redirect_uri_count;
	/*
	 * The resources (RFC 8707) the client may ask tokens for, besides
	 * its audience: absolute URIs of at most AUDIENCE_MAX bytes, each
	 * what a token's aud then is.
	 */
	char *resources[RESOURCES_MAX];
	size_t resource_count;
	/*
	 * The public keys the client signs its assertions with, as the JSON
	 * text of a JWK Set (RFC 7517 §5); NULL when it has none.  A client
	 * with keys authenticates with private_key_jwt (RFC 7523 §2.2) and
	 * has no secret.
	 */
	char *jwks;
	/*
	 * RFC 8705 §2: a client authenticated by the certificate the web
	 * server took, with tls_value the subject DN (RFC 4514, as the web
	 * server's SSL_CLIENT_S_DN says it) or the certificate's SHA-256
	 * thumbprint, base64url (x5t#S256); NULL with CLIENT_TLS_NONE.  Such
	 * a client has no secret, and its access tokens are bound to its
	 * certificate.
	 */
	enum client_tls_auth tls_auth;
	char *tls_value;
	/*
	 * A client that registered itself (RFC 7591): the SHA-256 of its
	 * registration access token, which manages it (RFC 7592).
	 */
	int has_registration;
	unsigned char registration_hash[TOKEN_HASH_LEN];
	int64_t created_at;
	enum client_token_format token_format;
	/*
	 * RFC 9449 §5.2, dpop_bound_access_tokens: every token request must
	 * carry a DPoP proof, so that all its tokens are bound to a key.
	 */
	int dpop_bound;
};

enum token_kind {
	TOKEN_ACCESS = 1,
	TOKEN_REFRESH,
	TOKEN_CODE,
	TOKEN_KIND__MAX
};

/* What a token is bound to, so that only its holder may use it. */
enum token_bind {
	TOKEN_BIND_NONE = 0,	/* a bearer token */
	TOKEN_BIND_DPOP,	/* a DPoP key: cnf.jkt, RFC 9449 §6 */
	TOKEN_BIND_MTLS,	/* a TLS certificate: cnf.x5t#S256, RFC 8705 §3 */
	TOKEN_BIND__MAX
};

enum token_state {
	TOKEN_STATE_ACTIVE = 0,
	TOKEN_STATE_REVOKED,
	TOKEN_STATE_USED,	/* a redeemed code or a rotated refresh token */
	TOKEN_STATE__MAX
};

/*
 * A token, refresh token or authorization code.  It is stored under the
 * SHA-256 of its string: the string itself is never stored.
 */
struct token {
	enum token_kind kind;
	enum token_state state;
	char client_id[CLIENT_ID_MAX + 1];
	char *subject;		/* resource owner; NULL for client tokens */
	char *scope;		/* granted scope, "" when none */
	char *audience;		/* NULL when none */
	int64_t issued_at;
	int64_t expires_at;
	int has_grant;
	unsigned char grant_id[GRANT_ID_LEN];
	char *redirect_uri;	/* codes: as sent to /authorize, or NULL */
	char *code_challenge;	/* codes: the S256 challenge, or NULL */
	/*
	 * The jti, drawn when the token is minted; records written before
	 * it existed have none, and their jti is derived from their key
	 * (store_token_jti).
	 */
	int has_jti;
	unsigned char jti[TOKEN_JTI_RAW_LEN];
	char *nonce;		/* codes: OpenID Connect nonce, or NULL */
	int64_t auth_time;	/* codes: when the user logged in, 0: unknown */
	/*
	 * The key the token is bound to, by its SHA-256 thumbprint (RFC
	 * 7638): a token's holder must prove it on every use; a code's is
	 * the dpop_jkt of the authorization request (RFC 9449 §10), which
	 * its redemption must prove.  Only a token with a jti is bound.
	 */
	enum token_bind bind;
	unsigned char bind_thumbprint[TOKEN_HASH_LEN];
};

/*
 * A grant: everything descended from one authorization.  Revoking it ends
 * every token that carries its id.
 */
struct grant {
	unsigned char id[GRANT_ID_LEN];
	char client_id[CLIENT_ID_MAX + 1];
	char *subject;
	int64_t created_at;
	int64_t expires_at;	/* latest expiry of anything issued under it */
	int revoked;
	int64_t auth_time;	/* when the user logged in, 0: unknown */
	char *claims;		/* the user's claims as a JSON object, or NULL */
};

/*
 * A signing key (oauthctl key ...).  It is published (in /jwks) from
 * created_at until drop_at, and signs from sign_from until retired_at, so
 * that a new key is seen by every verifier before it signs and an old one
 * stays visible until everything it signed has expired.  The private key
 * is kept as PKCS#8 PEM: what protects it at rest is what protects every
 * record, the database directory's mode 0700 and its files' 0600, owned by
 * the user the responders run as.
 */
struct key {
	char kid[JOSE_KID_LEN + 1];	/* RFC 7638 thumbprint */
	enum jose_alg alg;
	char *pem;		/* the private key: secret; key_free wipes it */
	char *jwk;		/* the public JWK, as JSON */
	int64_t created_at;	/* published from */
	int64_t sign_from;	/* signs from */
	int64_t retired_at;	/* signs until; 0: not retired */
	int64_t drop_at;	/* published until; 0: not retired */
};

/* What a foreach callback asks of the walk. */
enum store_each {
	STORE_EACH_NEXT = 0,
	STORE_EACH_DELETE,	/* delete this record (write txn only), go on */
	STORE_EACH_STOP,
	STORE_EACH__MAX
};

struct store;
struct store_txn;

/* How store_open opens: bits of its flags. */
#define STORE_OPEN_CREATE 0x01u	/* create (or migrate) what is missing */
#define STORE_OPEN_SYNC_DATA 0x02u	/* LMDB: one flush a commit, not two */
#define STORE_OPEN_SYNC_NONE 0x04u	/* LMDB: leave flushing to the OS */
#define STORE_OPEN_LAZY 0x08u	/* PostgreSQL: unreachable now is no failure */
/*
 * LMDB: one store for every thread of the process, whose write
 * transactions are committed in groups by one committer thread
 * (store_group.c), or, with STORE_OPEN_SYNC_NONE, each in its own thread.
 * PostgreSQL refuses it: each thread opens its own.
 */
#define STORE_OPEN_THREADS 0x10u
/*
 * LMDB: have the kernel read the database into the page cache now (when
 * it is at most a quarter of the memory), so that a long-lived process
 * started on a cold file does not take its page faults inside write
 * transactions, where they would hold LMDB's one writer lock.
 */
#define STORE_OPEN_PREWARM 0x20u

#define STORE_DETAIL_MAX 256	/* bytes of a backend's failure text */

/* The states stats counts a token, code or grant in. */
enum store_stats_state {
	STORE_STATS_ACTIVE = 0,
	STORE_STATS_EXPIRED,
	STORE_STATS_REVOKED,
	STORE_STATS_USED,
	STORE_STATS_STATE__MAX
};

/* The kinds of record stats counts. */
enum store_stats_row {
	STORE_STATS_ACCESS = 0,
	STORE_STATS_REFRESH,
	STORE_STATS_CODES,
	STORE_STATS_GRANTS,
	STORE_STATS_ROW__MAX
};

/*
 * How many records there are, by kind and state, as of one moment.  A
 * token is active when store_token_is_active says so; otherwise used (a
 * spent code or rotated refresh token), revoked (itself or its grant),
 * or expired, in that order.  A grant is revoked, expired or active.
 */
struct store_stats {
	size_t confidential;	/* clients */
	size_t public;
	size_t counts[STORE_STATS_ROW__MAX][STORE_STATS_STATE__MAX];
};

/* What a purge or a client's removal deleted. */
struct store_purged {
	size_t tokens;		/* access and refresh tokens */
	size_t codes;
	size_t grants;
	size_t seen;		/* single-use values past their window */
	int grown;		/* LMDB: times the map had to grow for it */
};

/* What the group commits of a STORE_OPEN_THREADS store have held. */
struct store_commit_counts {
	unsigned long commits;		/* commits of the inner store */
	unsigned long transactions;	/* write transactions they held */
	unsigned long waiting;		/* write transactions queued now */
};

/* store.c: the interface, handed to the backend OAUTH_DB names. */
int store_is_uri(const char *);
unsigned store_open_sync_flags(enum config_sync);
enum store_status store_open(const char *, size_t, unsigned, struct store **,
    char *, size_t);
void store_close(struct store *);
/* store_group.c */
int store_commit_counts(struct store *, struct store_commit_counts *);
const char *store_backend_name(const struct store *);
const char *store_detail(const struct store *);
int store_txn_blocks_others(const struct store *);
enum store_status store_txn_begin(struct store *, int, struct store_txn **);
void store_txn_hint_token(struct store_txn *,
    const unsigned char[TOKEN_HASH_LEN]);
enum store_status store_txn_commit(struct store_txn *);
void store_txn_abort(struct store_txn *);
enum store_status store_client_get(struct store_txn *, const char *,
    struct client *);
enum store_status store_client_put(struct store_txn *, const struct client *,
    int);
enum store_status store_client_delete(struct store_txn *, const char *);
enum store_status store_client_foreach(struct store_txn *,
    enum store_each (*)(const struct client *, void *), void *);
enum store_status store_client_drop_tokens(struct store_txn *, const char *,
    struct store_purged *);
enum store_status store_token_get(struct store_txn *,
    const unsigned char[TOKEN_HASH_LEN], struct token *);
enum store_status store_token_put(struct store_txn *,
    const unsigned char[TOKEN_HASH_LEN], const struct token *);
enum store_status store_token_delete(struct store_txn *,
    const unsigned char[TOKEN_HASH_LEN]);
enum store_status store_token_foreach(struct store_txn *,
    enum store_each (*)(const unsigned char *, const struct token *, void *),
    void *);
enum store_status store_token_foreach_after(struct store_txn *,
    const unsigned char *,
    enum store_each (*)(const unsigned char *, const struct token *, void *),
    void *);
enum store_status store_grant_get(struct store_txn *,
    const unsigned char[GRANT_ID_LEN], struct grant *);
enum store_status store_grant_put(struct store_txn *, const struct grant *);
enum store_status store_grant_foreach(struct store_txn *,
    enum store_each (*)(const struct grant *, void *), void *);
enum store_status store_grant_foreach_after(struct store_txn *,
    const unsigned char *, enum store_each (*)(const struct grant *, void *),
    void *);
enum store_status store_key_get(struct store_txn *, const char *,
    struct key *);
enum store_status store_key_put(struct store_txn *, const struct key *);
enum store_status store_key_delete(struct store_txn *, const char *);
enum store_status store_key_foreach(struct store_txn *,
    enum store_each (*)(const struct key *, void *), void *);
enum store_status store_seen_put(struct store_txn *,
    const unsigned char[TOKEN_HASH_LEN], int64_t, int64_t);
enum store_status store_scopes_get(struct store_txn *, char **);
enum store_status store_stats(struct store_txn *, int64_t,
    struct store_stats *);
enum store_status store_purge(struct store *, int64_t, struct store_purged *);
enum store_status store_map_grow(struct store *);
size_t store_map_size(struct store *);
const char *store_strerror(enum store_status);

/* store_limits.c: what a record may hold, checked by every backend. */
enum store_status store_client_check(const struct client *);
enum store_status store_token_check(const struct token *);
enum store_status store_grant_check(const struct grant *);
enum store_status store_key_check(const struct key *);
void key_free(struct key *);
void client_free(struct client *);
void token_free(struct token *);
void grant_free(struct grant *);

/* store_record.c */
enum store_status store_record_client_encode(const struct client *,
    struct buf *);
enum store_status store_record_client_decode(const void *, size_t,
    struct client *);
enum store_status store_record_token_encode(const struct token *,
    struct buf *);
enum store_status store_record_token_decode(const void *, size_t,
    struct token *);
enum store_status store_record_grant_encode(const struct grant *,
    struct buf *);
enum store_status store_record_grant_decode(const void *, size_t,
    struct grant *);
enum store_status store_record_key_encode(const struct key *, struct buf *);
enum store_status store_record_key_decode(const void *, size_t, struct key *);

/* store_keyset.c */
int store_key_published(const struct key *, int64_t);
int store_key_signing(const struct key *, int64_t);
enum store_status store_key_signer(struct store_txn *, enum jose_alg, int64_t,
    struct key *);


/* store_token.c */
int store_token_is_active(struct store_txn *, const struct token *, int64_t);
void store_token_jti(const struct token *, const unsigned char[TOKEN_HASH_LEN],
    char[JTI_LEN + 1]);
int store_token_purgeable(struct store_txn *, const struct token *, int64_t);
enum store_status store_token_revoke(struct store_txn *,
    const unsigned char[TOKEN_HASH_LEN], struct token *);
enum store_status store_grant_revoke(struct store_txn *,
    const unsigned char[GRANT_ID_LEN]);

#endif /* STORE_H */
