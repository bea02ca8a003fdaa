/*
 * The storage interface: clients, tokens (access, refresh, authorization
 * codes) and grants, kept in LMDB.  This header and the files of storage/
 * are the only code that knows LMDB exists; callers see enum store_status,
 * never an MDB_* code.
 *
 * Every request is one transaction: begin, any number of gets and puts,
 * then commit (write) or abort.  Records returned by a get are copied out of
 * the map, owned by the caller, and released with the matching _free.
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
	STORE_STATUS__MAX
};

#define STORE_SCOPES_MAX 256	/* scope values metadata lists */
#define STORE_NONCE_MAX 512	/* bytes of an OpenID Connect nonce */
#define STORE_CLAIMS_MAX 8192	/* bytes of a grant's claims */
#define STORE_META_MAX 65536	/* bytes of one derived record */

/* Grant types a client may use, as bits of struct client.grant_types. */
#define GRANT_CLIENT_CREDENTIALS 0x01u
#define GRANT_AUTHORIZATION_CODE 0x02u
#define GRANT_REFRESH_TOKEN 0x04u
#define GRANT_ALL 0x07u

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
	int64_t created_at;
	enum client_token_format token_format;
};

enum token_kind {
	TOKEN_ACCESS = 1,
	TOKEN_REFRESH,
	TOKEN_CODE,
	TOKEN_KIND__MAX
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
#define STORE_OPEN_CREATE 0x01u		/* create the directory if missing */
#define STORE_OPEN_SYNC_DATA 0x02u	/* one flush a commit, not two */
#define STORE_OPEN_SYNC_NONE 0x04u	/* leave flushing to the OS */

/* store_lmdb.c */
unsigned store_open_sync_flags(enum config_sync);
enum store_status store_open(const char *, size_t, unsigned, struct store **);
void store_close(struct store *);
enum store_status store_txn_begin(struct store *, int, struct store_txn **);
enum store_status store_txn_commit(struct store_txn *);
void store_txn_abort(struct store_txn *);
enum store_status store_client_get(struct store_txn *, const char *,
    struct client *);
enum store_status store_client_put(struct store_txn *, const struct client *,
    int);
enum store_status store_client_delete(struct store_txn *, const char *);
enum store_status store_client_foreach(struct store_txn *,
    enum store_each (*)(const struct client *, void *), void *);
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
enum store_status store_meta_get(struct store_txn *, const char *,
    struct buf *);
enum store_status store_meta_put(struct store_txn *, const char *,
    const void *, size_t);
enum store_status store_map_grow(struct store *);
size_t store_map_size(struct store *);
const char *store_strerror(enum store_status);

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
void key_free(struct key *);
void client_free(struct client *);
void token_free(struct token *);
void grant_free(struct grant *);

/* What store_purge deleted. */
struct store_purged {
	size_t tokens;		/* access and refresh tokens */
	size_t codes;
	size_t grants;
	int grown;		/* times the map had to grow for it */
};

/* store_purge.c */
enum store_status store_purge(struct store *, int64_t, struct store_purged *);

/* store_keyset.c */
int store_key_published(const struct key *, int64_t);
int store_key_signing(const struct key *, int64_t);
enum store_status store_key_signer(struct store_txn *, enum jose_alg, int64_t,
    struct key *);

/* store_scopes.c */
enum store_status store_scopes_rebuild(struct store_txn *);
enum store_status store_scopes_get(struct store_txn *, char **);

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
