/*
 * The handlers: functions of (environment, request) to response.  They need
 * no web server: fcgi/ fills a struct request from a CGI environment or a
 * FastCGI request, calls handler_dispatch, and writes the struct response.
 */
#ifndef HANDLERS_H
#define HANDLERS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../common/common.h"
#include "../storage/store.h"

#define PARAMS_MAX 32		/* parameters in one request */
/* Characters of a DPoP nonce: base64url of a period and a tag (dpop.c). */
#define DPOP_NONCE_LEN 32
#define PARAM_NAME_MAX 64	/* bytes of a parameter name */

/*
 * The OAuth errors we answer with.  OAUTH_OK is 0; every other value has a
 * row in the table of oauth_error.c giving its status and error code.
 */
enum oauth_error {
	OAUTH_OK = 0,
	OAUTH_INVALID_REQUEST,
	OAUTH_INVALID_CLIENT,
	OAUTH_INVALID_TOKEN,		/* 401: a bad bearer token, RFC 6750 */
	OAUTH_INVALID_GRANT,
	OAUTH_INVALID_DPOP_PROOF,	/* RFC 9449 §5 */
	OAUTH_USE_DPOP_NONCE,		/* RFC 9449 §8: DPoP-Nonce says which */
	OAUTH_INVALID_TARGET,		/* RFC 8707 §2: a resource refused */
	OAUTH_UNAUTHORIZED_CLIENT,
	OAUTH_UNSUPPORTED_GRANT_TYPE,
	OAUTH_INVALID_SCOPE,
	OAUTH_UNSUPPORTED_RESPONSE_TYPE,
	OAUTH_ACCESS_DENIED,
	OAUTH_LOGIN_REQUIRED,		/* OpenID Connect Core §3.1.2.6 */
	OAUTH_INSUFFICIENT_SCOPE,	/* 403, RFC 6750 §3.1 */
	OAUTH_BODY_TOO_LARGE,		/* 413, code invalid_request */
	OAUTH_NOT_FOUND,		/* 404, code invalid_request */
	OAUTH_METHOD_NOT_ALLOWED,	/* 405, code invalid_request */
	OAUTH_NO_REMOTE_USER,		/* 500: /authorize left unprotected */
	OAUTH_SERVER_ERROR,
	OAUTH_TEMPORARILY_UNAVAILABLE,
	OAUTH_ERROR__MAX
};

/*
 * One HTTP request, as the CGI variables of RFC 3875 describe it.  Each
 * string is NULL when the variable was unset; body holds body_len bytes
 * plus a NUL.  The strings are views: fcgi_request_read copies them all
 * into one allocation, storage, which request_free wipes and releases (a
 * request built by hand may point them anywhere and leave storage NULL).
 */
struct request {
	const char *method;		/* REQUEST_METHOD */
	const char *path;		/* PATH_INFO */
	const char *query;		/* QUERY_STRING */
	const char *content_type;	/* CONTENT_TYPE */
	const char *authorization;	/* HTTP_AUTHORIZATION */
	const char *remote_user;	/* REMOTE_USER */
	const char *host;		/* HTTP_HOST */
	const char *server_name;	/* SERVER_NAME */
	const char *server_port;	/* SERVER_PORT */
	const char *script_name;	/* SCRIPT_NAME */
	const char *https;		/* HTTPS */
	const char *accept;		/* HTTP_ACCEPT */
	const char *dpop;		/* HTTP_DPOP, RFC 9449 §4.1 */
	/*
	 * The client's TLS certificate as the web server took it (RFC 8705):
	 * SSL_CLIENT_CERT (PEM, or URL-encoded PEM from nginx),
	 * SSL_CLIENT_VERIFY ("SUCCESS" when a CA verified it) and
	 * SSL_CLIENT_S_DN (its subject, RFC 4514).  Server variables, never
	 * request headers (those are HTTP_*).
	 */
	const char *tls_cert;
	const char *tls_verify;
	const char *tls_subject;
	const char *body;
	size_t body_len;
	/*
	 * The values of the variables OAUTH_CLAIMS names, in its order
	 * (config->claim_vars); NULL when unset or over
	 * CONFIG_CLAIM_VALUE_MAX bytes.
	 */
	const char *claim_values[CONFIG_CLAIMS_MAX];
	char *storage;			/* what the views point into */
	size_t storage_size;
};

/*
 * One HTTP response.  The writer in fcgi/ emits Status, Content-Type, the
 * optional headers that are set, and the body.  Strings are owned by the
 * response and released by response_free.
 */
struct response {
	int status;
	const char *content_type;	/* static; NULL: no body */
	int no_store;			/* Cache-Control: no-store */
	int no_cache;			/* Pragma: no-cache */
	int max_age;			/* Cache-Control: max-age, seconds */
	char *location;
	char *www_authenticate;
	const char *allow;		/* static */
	char dpop_nonce[DPOP_NONCE_LEN + 1];	/* DPoP-Nonce; "": none */
	struct buf body;
};

struct param {
	char *name;
	char *value;
	size_t value_len;
};

/*
 * A request's parameters: unique names, non-empty values.  The names of
 * those sent empty, which count as omitted, are kept apart so that a repeat
 * of one is seen.
 */
struct params {
	struct param items[PARAMS_MAX];
	size_t count;
	char *omitted[PARAMS_MAX];
	size_t omitted_count;
};

/*
 * What a handler runs with.  now and random are injected so that tests can
 * pin the clock and the random source; log receives security events.
 */
struct handler_env {
	const struct config *config;
	struct store *store;
	int64_t (*now)(void *);
	int (*random)(void *, unsigned char *, size_t);
	void *ctx;
	struct secret_cache *secret_cache;	/* NULL: verify every time */
	struct signing_cache *signing;	/* NULL: parse keys every time */
};

/* The client a request authenticated as. */
struct client_auth {
	struct client client;
	int used_header;	/* an Authorization header was sent */
	enum {
		CLIENT_AUTH_NONE = 0,
		CLIENT_AUTH_BASIC,
		CLIENT_AUTH_POST,
		CLIENT_AUTH_BEARER,	/* an access token of the client */
		CLIENT_AUTH_JWT,	/* private_key_jwt, RFC 7523 §2.2 */
		CLIENT_AUTH_TLS,	/* its TLS certificate, RFC 8705 §2 */
		CLIENT_AUTH__MAX
	} method;
	/* CLIENT_AUTH_TLS: the certificate's x5t#S256, raw. */
	unsigned char tls_thumbprint[TOKEN_HASH_LEN];
	/* CLIENT_AUTH_JWT: its jti, to spend, and till when to keep it. */
	unsigned char assertion_replay[TOKEN_HASH_LEN];
	int64_t assertion_until;
};

/* oauth_error.c */
int oauth_error_status(enum oauth_error);
const char *oauth_error_code(enum oauth_error);
enum oauth_error oauth_error_from_store(enum store_status);

/* response.c */
void response_init(struct response *);
void response_free(struct response *);
void response_error(struct response *, enum oauth_error, const char *);
void response_store_error(struct response *, enum store_status);
int response_json(struct response *, int, cJSON *);
void response_json_begin(struct response *, struct json_writer *);
int response_json_end(struct response *, struct json_writer *, int);
void request_free(struct request *);
enum oauth_error request_content_length(const char *, size_t, size_t *);

/* params.c */
enum oauth_error params_parse_body(const struct request *, struct params *,
    const char **);
enum oauth_error params_parse_query(const char *, struct params *,
    const char **);
const char *params_get(const struct params *, const char *);
void params_free(struct params *);
enum oauth_error params_basic_credentials(const char *, char **, char **);
const char *params_auth_scheme(const char *, const char *);
enum oauth_error params_scheme_token(const char *, const char *,
    const char **, size_t *);
enum oauth_error params_bearer_token(const char *, const char **, size_t *);

/* client_assertion.c */
#define CLIENT_ASSERTION_TYPE \
	"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define CLIENT_ASSERTION_TTL_MAX 3600	/* seconds an assertion may live */
#define CLIENT_ASSERTION_JTI_MAX 256	/* bytes of its jti */

enum oauth_error client_assertion_subject(const char *, char **,
    const char **);
enum oauth_error client_assertion_check(const struct handler_env *,
    const struct request *, const struct client *, const char *,
    unsigned char[TOKEN_HASH_LEN], int64_t *, const char **);

/* tls_client.c */
enum oauth_error tls_client_check(const struct request *,
    const struct client *, unsigned char[TOKEN_HASH_LEN], const char **);
int tls_binding_holds(const struct token *, const struct request *);

/* client_auth.c */
enum oauth_error client_auth(const struct handler_env *,
    const struct request *, const struct params *, struct store_txn *,
    struct client_auth *, const char **);
int client_auth_begin(const struct handler_env *, const struct request *,
    const struct params *, int, const unsigned char *, struct store_txn **,
    struct client_auth *, struct response *);
enum oauth_error client_auth_confirm(struct store_txn *, struct client_auth *,
    const char **);
enum oauth_error client_auth_bearer(const struct handler_env *,
    struct store_txn *, const struct request *, const struct params *,
    struct client_auth *, const char **);
void client_auth_fail(struct response *, const struct request *,
    enum oauth_error, const char *);
void client_auth_spend_refused(const struct handler_env *,
    const struct client_auth *);

/* router.c */
void handler_dispatch(const struct handler_env *, const struct request *,
    struct response *);
char *handler_issuer(const struct handler_env *, const struct request *);
int handler_uses_jose(const char *, const char *, const char *,
    const char *);
int handler_introspect_wants_jwt(const char *);

/* dpop.c */
#define DPOP_IAT_PAST 300	/* seconds a proof is taken after its iat */
#define DPOP_IAT_FUTURE 60	/* and before it: clocks differ */
#define DPOP_JTI_MAX 256	/* bytes of a proof's jti */
#define DPOP_NONCE_PERIOD 300	/* seconds of one nonce, at least */
#define DPOP_NONCE_TAG 16	/* bytes of a nonce's HMAC tag */

/* A DPoP proof that dpop_check has verified (RFC 9449 §4.3). */
struct dpop_proof {
	int present;		/* the request carried one */
	unsigned char jkt[TOKEN_HASH_LEN];	/* the key's thumbprint */
	char jkt_text[JOSE_KID_LEN + 1];	/* as cnf.jkt says it */
	unsigned char replay[TOKEN_HASH_LEN];	/* its jti, for the store */
	int64_t iat;
	char nonce[DPOP_NONCE_LEN + 1];	/* its nonce claim; "": none */
};

enum oauth_error dpop_check(const struct handler_env *,
    const struct request *, const char *, const char *, size_t,
    struct dpop_proof *, const char **);
enum oauth_error dpop_spend(const struct handler_env *, struct store_txn *,
    const struct dpop_proof *, const char **);
enum oauth_error dpop_nonce_check(const struct handler_env *,
    struct store_txn *, const struct dpop_proof *, char[DPOP_NONCE_LEN + 1],
    const char **);
int dpop_binding_holds(const struct token *, const struct dpop_proof *);
void dpop_bind(struct token *, const struct dpop_proof *);

/* resource.c */
enum oauth_error resource_requested(const struct params *,
    const struct client *, const char **, const char **);
enum oauth_error resource_within(const struct params *, const char *,
    const char **);

/* What a grant hands back to the token endpoint. */
struct token_issue {
	char access[TOKEN_PRESENTED_MAX + 1];	/* opaque or a JWT */
	char refresh[TOKEN_STRING_LEN + 1];	/* "" when none */
	char *scope;				/* granted scope */
	char *id_token;				/* NULL when none */
	const char *nonce;	/* the code's OpenID nonce, borrowed */
	const char *audience;	/* what the grant's tokens are for, borrowed */
	/*
	 * For a signed token: token_issue_issuer works it out from req the
	 * first time one is signed, since an opaque token never needs it.
	 */
	const struct request *req;
	char *issuer;
	int issuer_known;
	int64_t expires_in;
	int commit_anyway;	/* failed, but what it revoked must stay */
	/* The request's DPoP proof: its tokens are bound to its key. */
	struct dpop_proof dpop;
	/* Else the client's TLS certificate (RFC 8705 §3), when it is set. */
	int tls_bound;
	unsigned char tls_thumbprint[TOKEN_HASH_LEN];
};

/* token.c */
enum oauth_error token_mint(const struct handler_env *, struct store_txn *,
    const struct token *, char[TOKEN_STRING_LEN + 1]);
enum oauth_error token_scope(const char *, const char *, char **,
    const char **);
enum store_status token_find(struct store_txn *, const char *,
    unsigned char[TOKEN_HASH_LEN], struct token *);
enum oauth_error token_presented_access(const struct handler_env *,
    struct store_txn *, const struct request *, const struct dpop_proof *,
    unsigned char[TOKEN_HASH_LEN], struct token *);
enum oauth_error token_bearer(const struct handler_env *, struct store_txn *,
    const struct request *, unsigned char[TOKEN_HASH_LEN], struct token *);
void token_bind_holder(struct token *, const struct token_issue *);
const char *token_issue_issuer(const struct handler_env *,
    struct token_issue *);
enum oauth_error token_issue_grant(const struct handler_env *,
    struct store_txn *, const struct client *, struct grant *, const char *,
    const char *, struct token_issue *, const char **);
enum oauth_error token_replayed(struct store_txn *, const struct token *,
    struct token_issue *, const char *, const char **);
enum oauth_error token_take(const struct handler_env *, struct store_txn *,
    const struct params *, enum token_kind, const struct client *,
    unsigned char[TOKEN_HASH_LEN], struct token *, struct token_issue *,
    const char **);
enum oauth_error token_spend(struct store_txn *,
    const unsigned char[TOKEN_HASH_LEN], struct token *, struct grant *,
    const char **);

/* token_jwt.c */
int token_jwt_wanted(const struct handler_env *, const struct client *);
enum oauth_error token_jwt_mint(const struct handler_env *, struct store_txn *,
    const struct token *, const char *, int64_t, char[TOKEN_PRESENTED_MAX + 1],
    const char **);
enum oauth_error token_mint_access(const struct handler_env *,
    struct store_txn *, const struct client *, const struct token *,
    struct token_issue *, int64_t, char[TOKEN_PRESENTED_MAX + 1],
    const char **);

/* token_code.c */
enum oauth_error token_grant_authorization_code(const struct handler_env *,
    struct store_txn *, const struct params *, const struct client *,
    struct token_issue *, const char **);

/* token_refresh.c */
enum oauth_error token_grant_refresh_token(const struct handler_env *,
    struct store_txn *, const struct params *, const struct client *,
    struct token_issue *, const char **);
void handler_token(const struct handler_env *, const struct request *,
    struct response *);

/* A client presenting a token, as introspection and revocation see it. */
struct presented {
	struct params params;
	struct store_txn *txn;
	struct client_auth auth;
	struct token token;
	unsigned char key[TOKEN_HASH_LEN];
	int found;		/* token holds an access or refresh token */
};

/* presented.c */
/* How presented_begin runs: bits of its flags. */
#define PRESENTED_WRITE 0x01u	/* a write transaction */
#define PRESENTED_BEARER 0x02u	/* a bearer access token may authorize */

int presented_begin(const struct handler_env *, const struct request *,
    struct response *, unsigned, struct presented *);
void presented_end(struct presented *, struct response *);

/* introspect.c */
void handler_introspect(const struct handler_env *, const struct request *,
    struct response *);

/* revoke.c */
void handler_revoke(const struct handler_env *, const struct request *,
    struct response *);

/* authorize.c */
void handler_authorize(const struct handler_env *, const struct request *,
    struct response *);

/* metadata.c */
void handler_metadata(const struct handler_env *, const struct request *,
    struct response *);
void handler_openid_configuration(const struct handler_env *,
    const struct request *, struct response *);

/* jwks.c */
void handler_jwks(const struct handler_env *, const struct request *,
    struct response *);

/* register.c */
void handler_register(const struct handler_env *, const struct request *,
    struct response *);

/* userinfo.c */
void handler_userinfo(const struct handler_env *, const struct request *,
    struct response *);

/* signing.c */
struct signing_cache;

struct signing_cache *signing_cache_new(void);
void signing_cache_free(struct signing_cache *);
enum oauth_error signing_sign_bytes(const struct handler_env *,
    struct store_txn *, enum jose_alg, const char *, const char *, size_t,
    struct buf *, const char **);
enum oauth_error signing_sign(const struct handler_env *, struct store_txn *,
    enum jose_alg, const char *, const cJSON *, struct buf *, const char **);
enum oauth_error signing_secret(const struct handler_env *, struct store_txn *,
    enum jose_alg, unsigned char[TOKEN_HASH_LEN], const char **);

/* id_token.c */
enum oauth_error id_token_issue(const struct handler_env *, struct store_txn *,
    const struct client *, const struct grant *, const char *,
    struct token_issue *, const char **);
int id_token_add_user_claims(cJSON *, const struct grant *, const char *);

#endif /* HANDLERS_H */
