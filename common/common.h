/*
 * Shared helpers of oauth.fcgi and oauthctl: buffers, encodings, crypto,
 * configuration, scopes and logging.  Nothing here knows about FastCGI or
 * LMDB.  Functions carry their file's prefix; limits are named below.
 */
#ifndef COMMON_H
#define COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>	/* pid_t */

#include <openssl/types.h>	/* EVP_PKEY, for jose.c */

#define OAUTH_VERSION "0.1.0"

/* Hard limits on what a peer or an operator may hand us. */
#define CLIENT_ID_MAX 128	   /* bytes of a client identifier */
#define CLIENT_SECRET_MAX 512	   /* bytes of a presented client secret */
#define SCOPE_MAX 1024		   /* bytes of a scope string */
#define AUDIENCE_MAX 512	   /* bytes of a client's audience */
#define USERNAME_MAX 256	   /* bytes of REMOTE_USER */
#define REDIRECT_URI_MAX 2048	   /* bytes of one redirect URI */
#define REDIRECT_URIS_MAX 16	   /* redirect URIs of one client */
#define RESOURCES_MAX 8		   /* resources (RFC 8707) of one client */
#define TOKEN_PRESENTED_MAX 4096   /* bytes of a token a peer presents */
#define STATE_MAX 1024		   /* bytes of the authorize `state` */
#define AUTH_HEADER_MAX 8192	   /* bytes of an Authorization header */
#define HOST_MAX 255		   /* bytes of a Host header */

#define TOKEN_RANDOM_LEN 32	/* random bytes in a token or code */
#define TOKEN_STRING_LEN 43	/* base64url of TOKEN_RANDOM_LEN, no pad */
#define TOKEN_HASH_LEN 32	/* SHA-256: the storage key of a token */
#define SECRET_RANDOM_LEN 32	/* random bytes in a generated secret */
#define SECRET_SALT_LEN 16
#define SECRET_HASH_LEN 32
#define SECRET_KDF_ITERATIONS 100000	/* PBKDF2 rounds, operator secrets */
#define SECRET_KDF_ITERATIONS_MAX 10000000
#define SECRET_CACHE_SIZE 64	/* clients whose secret a process remembers */
#define GRANT_ID_LEN 16
#define TOKEN_JTI_RAW_LEN 16	/* random bytes of a jti */
#define JTI_LEN (2 * TOKEN_JTI_RAW_LEN)	/* hex characters of a jti */

#define CONFIG_BODY_DEFAULT 16384
#define CONFIG_BODY_LIMIT (64 * 1024 * 1024)
#define CONFIG_TTL_LIMIT (10LL * 366 * 24 * 3600)
#define CONFIG_GRANT_TTL_DEFAULT (90LL * 24 * 3600)
#define CONFIG_MAP_DEFAULT ((size_t)256 * 1024 * 1024)
#define CONFIG_CONN_TIMEOUT_DEFAULT 20	/* seconds a FastCGI peer may stall */
#define CONFIG_CONN_TIMEOUT_LIMIT 600

/* buf.c */

/*
 * A length-carrying byte buffer.  Invariants: when data is not NULL it holds
 * len bytes followed by a NUL, and len < cap; an all-zero struct buf is a
 * valid empty buffer.  Functions return 0 on success and -1 when memory runs
 * out, in which case the buffer is left as it was.
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

int buf_reserve(struct buf *, size_t);
int buf_append(struct buf *, const void *, size_t);
int buf_puts(struct buf *, const char *);
int buf_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
char *buf_steal(struct buf *);
void buf_free(struct buf *);

/* process_id.c */
pid_t process_id(void);

/* crypto.c */
int crypto_random_available(void);
int crypto_random(unsigned char *, size_t);
int crypto_sha256(const void *, size_t, unsigned char[TOKEN_HASH_LEN]);
int crypto_secret_hash(const unsigned char[SECRET_SALT_LEN], const char *,
    size_t, unsigned char[SECRET_HASH_LEN]);
int crypto_secret_derive(const unsigned char[SECRET_SALT_LEN], const char *,
    size_t, uint32_t, unsigned char[SECRET_HASH_LEN]);
void crypto_hmac_sha256(const void *, size_t, const void *, size_t,
    unsigned char[TOKEN_HASH_LEN]);
int crypto_equal(const void *, const void *, size_t);
void crypto_wipe(void *, size_t);
void crypto_hex(const unsigned char *, size_t, char *);

/* token_string.c */
int token_string_key(const char *, size_t, unsigned char[TOKEN_HASH_LEN]);
int token_string_mint(int (*)(void *, unsigned char *, size_t), void *,
    char[TOKEN_STRING_LEN + 1], unsigned char[TOKEN_HASH_LEN]);
int token_string_new_jti(int (*)(void *, unsigned char *, size_t), void *,
    unsigned char[TOKEN_JTI_RAW_LEN]);
void token_string_jti(const unsigned char[TOKEN_JTI_RAW_LEN],
    char[JTI_LEN + 1]);

/* cert.c */
int cert_thumbprint(const char *, unsigned char[TOKEN_HASH_LEN]);

/* uri.c */
int uri_absolute_valid(const char *, size_t, const char **);

/* b64.c */
size_t b64url_encode(const unsigned char *, size_t, char *, size_t);
int b64_decode(const char *, size_t, unsigned char *, size_t, size_t *);

/* jose.c and jose_names.c */
#define JOSE_JWS_MAX 16384	  /* bytes of a compact JWS, made or verified */
#define JOSE_PEM_MAX 16384	  /* bytes of a private key's PEM */
#define JOSE_THUMBPRINT_LEN 43	  /* base64url of a SHA-256 */
#define JOSE_KID_LEN JOSE_THUMBPRINT_LEN /* kid: a key's RFC 7638 one */
#define JOSE_RSA_BITS_MIN 2048	  /* RFC 7518 §3.3 */
#define JOSE_RSA_BITS_MAX 4096	  /* bounds signatures and a key's cost */
#define JOSE_RSA_BITS_GENERATE 2048 /* the RS256 keys we make */
#define JOSE_SIG_MAX (JOSE_RSA_BITS_MAX / 8) /* bytes of any signature */
#define JOSE_HEADER_DEPTH_MAX 8	  /* nesting of a JWS header's JSON */
#define JOSE_JWKS_KEYS_MAX 8	  /* keys one client may register */
/*
 * What a verification answers, beside 0 and -1, when the signing module
 * is not loaded (fcgi/fcgi_jose.c): the server's failure, not the peer's.
 */
#define JOSE_UNAVAILABLE (-2)
/*
 * How long a verifier may cache the JWKS (its Cache-Control: max-age): a
 * new key is published this long before it signs.
 */
#define JWKS_MAX_AGE 600

/* The JWS algorithms we sign and verify with (RFC 7518 §3.1, RFC 8037). */
enum jose_alg {
	JOSE_ALG_RS256 = 0,	/* RSASSA-PKCS1-v1_5, SHA-256 */
	JOSE_ALG_ES256,		/* ECDSA P-256, SHA-256 */
	JOSE_ALG_EDDSA,		/* Ed25519 */
	JOSE_ALG__MAX
};

struct cJSON;

const char *jose_alg_name(enum jose_alg);
int jose_alg_parse(const char *, enum jose_alg *);
int jose_alg_parse_verify(const char *, enum jose_alg *);
int jose_init(int);
int jose_key_generate(enum jose_alg, struct buf *);
int jose_key_parse(enum jose_alg, const char *, size_t, EVP_PKEY **);
int jose_key_load(enum jose_alg, const char *, size_t, EVP_PKEY **);
void jose_key_free(EVP_PKEY *);
int jose_key_thumbprint(const EVP_PKEY *, enum jose_alg,
    char[JOSE_KID_LEN + 1]);
int jose_jwk_public(const EVP_PKEY *, enum jose_alg, const char *,
    struct cJSON **);
int jose_sign(EVP_PKEY *, enum jose_alg, const char *, const char *,
    const char *, size_t, struct buf *);
int jose_sign_header(EVP_PKEY *, enum jose_alg, const char *, const char *,
    size_t, struct buf *);
int jose_verify(EVP_PKEY *, enum jose_alg, const char *, size_t,
    struct cJSON **, struct buf *);
int jose_b64url_decode(const char *, size_t, unsigned char *, size_t,
    size_t *);
int jose_key_check(const EVP_PKEY *, enum jose_alg);
int jose_header_decode(const char *, size_t, enum jose_alg *,
    struct cJSON **);
/* jose_jwk.c */
int jose_jwk_parse(const struct cJSON *, enum jose_alg, EVP_PKEY **);
int jose_verify_embedded(const char *, size_t, struct cJSON **, struct buf *,
    enum jose_alg *, char[JOSE_KID_LEN + 1]);
int jose_verify_jwks(const char *, size_t, const char *, size_t,
    struct cJSON **, struct buf *, enum jose_alg *);
enum jose_alg jose_jwk_alg(const struct cJSON *);
int jose_jwks_check(const char *, size_t *, const char **);

/*
 * What oauth.fcgi calls of jose.c, which it loads as a module
 * (JOSE_MODULE_SYMBOL, fcgi/fcgi_jose.c) so that a process which
 * signs nothing never maps libcrypto; oauthctl and the tests link jose.c.
 */
struct jose_ops {
	unsigned abi;			/* JOSE_MODULE_ABI */
	int (*init)(int);
	int (*key_load)(enum jose_alg, const char *, size_t, EVP_PKEY **);
	void (*key_free)(EVP_PKEY *);
	int (*sign)(EVP_PKEY *, enum jose_alg, const char *, const char *,
	    const char *, size_t, struct buf *);
	int (*verify_embedded)(const char *, size_t, struct cJSON **,
	    struct buf *, enum jose_alg *, char[JOSE_KID_LEN + 1]);
	int (*verify_jwks)(const char *, size_t, const char *, size_t,
	    struct cJSON **, struct buf *, enum jose_alg *);
	int (*jwks_check)(const char *, size_t *, const char **);
};
#define JOSE_MODULE_SYMBOL "jose_module_ops"
/* What a module and the program agree on: changed with struct jose_ops,
 * struct buf and enum jose_alg. */
#define JOSE_MODULE_ABI 4

/* json.c */
int json_prescan(const char *, size_t);
int json_parse_object(const char *, size_t, int, struct cJSON **);

/* json_write.c: one JSON object written into a buffer, field by field. */
struct json_writer {
	struct buf *b;
	size_t fields;
	int failed;		/* memory ran out: json_write_end says -1 */
};

void json_write_begin(struct json_writer *, struct buf *);
void json_write_str(struct json_writer *, const char *, const char *);
void json_write_int(struct json_writer *, const char *, int64_t);
void json_write_bool(struct json_writer *, const char *, int);
void json_write_raw(struct json_writer *, const char *, const char *,
    size_t);
int json_write_end(struct json_writer *);

/* urlenc.c */
int urlenc_decode(const char *, size_t, char **, size_t *);
int urlenc_percent_decode(const char *, size_t, char **, size_t *);
int urlenc_encode(struct buf *, const char *, size_t);
int utf8_valid(const char *, size_t);

/* scope.c */
int scope_valid(const char *);
int scope_has(const char *, const char *, size_t);
int scope_subset(const char *, const char *);
char *scope_normalize(const char *);

/* secret_cache.c */
struct secret_cache;

struct secret_cache *secret_cache_new(void);
void secret_cache_free(struct secret_cache *);
int secret_cache_match(struct secret_cache *, const char *,
    const unsigned char[SECRET_HASH_LEN], const char *, size_t);
void secret_cache_put(struct secret_cache *, const char *,
    const unsigned char[SECRET_HASH_LEN], const char *, size_t);

/* config.c */

/* OAUTH_DB_SYNC: how a commit reaches the disk before the response. */
enum config_sync {
	CONFIG_SYNC_FULL = 0,	/* data and meta page flushed */
	CONFIG_SYNC_DATA,	/* data flushed; an OS crash may undo the last */
	CONFIG_SYNC_NONE,	/* the OS flushes; an OS crash may lose recent */
	CONFIG_SYNC__MAX
};

#define CONFIG_CLAIMS_MAX 16	/* claims OAUTH_CLAIMS may map */
#define CONFIG_CLAIM_NAME_MAX 64	/* bytes of a claim or variable name */
#define CONFIG_CLAIM_VALUE_MAX 1024	/* bytes of a claim's value */

/* OAUTH_ACCESS_TOKEN_FORMAT: what access tokens are, unless a client says. */
enum config_token_format {
	CONFIG_TOKEN_OPAQUE = 0,	/* 256 random bits, looked up */
	CONFIG_TOKEN_JWT,		/* RFC 9068, verifiable at the edge */
	CONFIG_TOKEN__MAX
};

/* OAUTH_REGISTRATION: who may register a client (RFC 7591). */
enum config_registration {
	CONFIG_REGISTRATION_OFF = 0,
	CONFIG_REGISTRATION_TOKEN,	/* with the initial access token */
	CONFIG_REGISTRATION_OPEN,	/* anyone: public, loopback or https */
	CONFIG_REGISTRATION__MAX
};

struct config {
	char *db_path;		/* OAUTH_DB, required */
	char *issuer;		/* OAUTH_ISSUER, NULL: derived per request */
	int64_t access_ttl;	/* OAUTH_ACCESS_TTL */
	int64_t refresh_ttl;	/* OAUTH_REFRESH_TTL */
	int64_t code_ttl;	/* OAUTH_CODE_TTL */
	int64_t grant_ttl;	/* OAUTH_GRANT_TTL: the longest a grant lives */
	size_t max_body;	/* OAUTH_MAX_BODY */
	size_t map_size;	/* OAUTH_MAP_SIZE, bytes of the LMDB map */
	enum config_sync db_sync; /* OAUTH_DB_SYNC */
	unsigned conn_timeout;	/* OAUTH_CONN_TIMEOUT, seconds */
	enum config_token_format token_format; /* OAUTH_ACCESS_TOKEN_FORMAT */
	enum jose_alg signing_alg;	/* OAUTH_SIGNING_ALG */
	int dpop_nonce;		/* OAUTH_DPOP_NONCE: proofs carry our nonce */
	/* Dynamic client registration (RFC 7591): OAUTH_REGISTRATION... */
	enum config_registration registration;
	unsigned char registration_hash[TOKEN_HASH_LEN];
	char *registration_scopes;	/* NULL: none */
	/*
	 * OAUTH_CLAIMS: the user's claims and the CGI variables the web
	 * server puts them in ("email=AUTHENTICATE_MAIL ..."), claim_count
	 * of each; the strings are owned by the config.
	 */
	char *claim_names[CONFIG_CLAIMS_MAX];
	char *claim_vars[CONFIG_CLAIMS_MAX];
	size_t claim_count;
};

int config_load(struct config *, char *, size_t);
void config_free(struct config *);
int config_parse_number(const char *, long long, long long, long long *);

/* clock.c */
#define CLOCK_PIN_MAX 4102444800LL	/* OAUTH_TEST_NOW: up to year 2100 */

int64_t clock_now(void);

/* log.c */
#define LOG_LIMIT_INTERVAL 60	/* seconds between two limited lines */

/* What log_event_limited remembers of one kind of line. */
struct log_limit {
	int logged;
	int64_t last;
	unsigned long suppressed;
};

void log_event(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_event_limited(struct log_limit *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void log_quote(struct buf *, const char *);

#endif /* COMMON_H */
