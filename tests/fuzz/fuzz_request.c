/*
 * The whole request path, fuzzed: each input is a short sequence of HTTP
 * requests, each one a CGI environment and a body, served by fcgi_serve
 * through the same source and sink callbacks CGI and FastCGI use, against
 * a real LMDB store made once per process with four clients.  The clock
 * and the random source are pinned, and the store is emptied of tokens
 * and grants after every input, so an input behaves the same however many
 * ran before it.
 *
 * The encoding lets the fuzzer reach the states behind a valid token.
 * Every request is twelve selector bytes (method, path, content type,
 * Authorization, Content-Length and read pattern, user, host, script name,
 * flags and Accept, clock, item counts, body mode), each followed by what
 * it may call for (a raw field: a length byte and that many bytes; or, for
 * a Bearer header, a value selector byte), then body items and query items
 * of three bytes each (name, value, flags), then the raw Content-Length
 * when its selector asked for one.  Names and values are picked from
 * tables of what the endpoints understand, or read raw.  Tokens, refresh
 * tokens and codes the earlier requests of the same input were answered
 * with are kept in rings, and value selectors can present them, as they
 * are or altered, so redemption, refresh, reuse detection, introspection
 * and revocation run with real tokens.  Bytes missing at the end of an
 * input read as 0.
 *
 * Every response is checked against the contract the README and the man
 * pages state; a broken promise prints the request and the response and
 * aborts: a status outside 200, 302, 400, 401, 404, 405 and 413 (a 500
 * only for /authorize without REMOTE_USER, which is the web server's
 * fault, and a 403 only at /userinfo); a Content-Length that is not the
 * body's; a JSON content type on a body that is not one JSON object, an
 * error body without its code and description, or an error code that does
 * not go with the status; a 401 to Basic authentication, or to a Bearer
 * token where one is taken, without WWW-Authenticate; a client secret in
 * any response or log line; a token in an error response or a log line.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../../fcgi/fcgi.h"

#define FZ_NOW 1700000000LL
#define FZ_MAP_SIZE ((size_t)64 * 1024 * 1024)
#define FZ_MAX_BODY 2048	/* OAUTH_MAX_BODY: small, so 413 is near */
#define FZ_ACCESS_TTL 3600
#define FZ_REFRESH_TTL 1209600
#define FZ_CODE_TTL 60
#define FZ_REQUESTS_MAX 8	/* requests in one input */
#define FZ_RING 4		/* tokens of each kind an input remembers */
#define FZ_SHOWN_MAX 2048	/* bytes of a response shown on a failure */
#define FZ_KEY_AGE 86400	/* the signing key signs from FZ_NOW - this */
#define FZ_KEY_PROBE 64		/* bytes of its PEM looked for in answers */

#define FZ_ISSUER "https://as.example/oauth"
#define FZ_SERVER_NAME "as.example"
#define FZ_REDIRECT "https://app.example/cb"
#define FZ_REDIRECT_QUERY "http://127.0.0.1:8080/cb?x=1"
/* RFC 7636 Appendix B: a verifier and its S256 challenge. */
#define FZ_VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define FZ_CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define FZ_FORM "application/x-www-form-urlencoded"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The CGI variables a request may set, in the order of fz_var_names. */
enum fz_var {
	FZ_VAR_METHOD = 0,
	FZ_VAR_PATH,
	FZ_VAR_QUERY,
	FZ_VAR_CONTENT_TYPE,
	FZ_VAR_CONTENT_LENGTH,
	FZ_VAR_AUTHORIZATION,
	FZ_VAR_REMOTE_USER,
	FZ_VAR_HOST,
	FZ_VAR_SERVER_NAME,
	FZ_VAR_SERVER_PORT,
	FZ_VAR_SCRIPT_NAME,
	FZ_VAR_HTTPS,
	FZ_VAR_ACCEPT,
	FZ_VAR__MAX
};

static const char *const fz_var_names[FZ_VAR__MAX] = {
	[FZ_VAR_METHOD] = "REQUEST_METHOD",
	[FZ_VAR_PATH] = "PATH_INFO",
	[FZ_VAR_QUERY] = "QUERY_STRING",
	[FZ_VAR_CONTENT_TYPE] = "CONTENT_TYPE",
	[FZ_VAR_CONTENT_LENGTH] = "CONTENT_LENGTH",
	[FZ_VAR_AUTHORIZATION] = "HTTP_AUTHORIZATION",
	[FZ_VAR_REMOTE_USER] = "REMOTE_USER",
	[FZ_VAR_HOST] = "HTTP_HOST",
	[FZ_VAR_SERVER_NAME] = "SERVER_NAME",
	[FZ_VAR_SERVER_PORT] = "SERVER_PORT",
	[FZ_VAR_SCRIPT_NAME] = "SCRIPT_NAME",
	[FZ_VAR_HTTPS] = "HTTPS",
	[FZ_VAR_ACCEPT] = "HTTP_ACCEPT",
};

/* A table entry that means "read a raw field from the input". */
static const char fz_raw[] = "";
#define FZ_RAW fz_raw
#define FZ_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const fz_methods[] = {
	"POST", "GET", "POST", "GET", "HEAD", "PUT", "DELETE", "post", "",
	NULL, FZ_RAW,
};

static const char *const fz_paths[] = {
	"/token", "/introspect", "/revoke", "/authorize",
	"/.well-known/oauth-authorization-server",
	"/.well-known/openid-configuration", "/jwks", "/userinfo", NULL, "",
	"/", "/token/", "/Token", "//token", "/introspect%00", FZ_RAW,
};

static const char *const fz_content_types[] = {
	FZ_FORM, FZ_FORM "; charset=UTF-8", "application/json",
	"application/json;charset=utf-8", "Application/JSON", NULL, "",
	"text/plain", "multipart/form-data; boundary=x",
	FZ_FORM "; charset=latin1", FZ_FORM ";", "application/jsonx", FZ_RAW,
};

static const char *const fz_users[] = {
	NULL, "alice", "bob@example.org", "", FZ_RAW,
};

static const char *const fz_hosts[] = {
	NULL, "as.example", "as.example:8443", "[::1]:8080", "evil.example/x",
	FZ_RAW,
};

static const char *const fz_scripts[] = {
	NULL, "/oauth", "", "/", "//oauth", "/o%20auth", "/oauth/../x", FZ_RAW,
};

static const char *const fz_https[] = {NULL, "on", "off", "1"};
static const char *const fz_ports[] = {"443", "80", "8080", NULL};

/* RFC 9701 §4: a signed introspection answer, asked for or refused. */
#define FZ_JWT_TYPE "application/token-introspection+jwt"
static const char *const fz_accepts[] = {
	NULL, FZ_JWT_TYPE, "application/json", "*/*",
	FZ_JWT_TYPE ";q=0", "application/json, " FZ_JWT_TYPE ";q=0.5",
	"APPLICATION/TOKEN-INTROSPECTION+JWT", "text/html, */*;q=0.1",
};

/* Offsets from FZ_NOW: either side of every lifetime. */
static const int64_t fz_clock_offsets[] = {
	0, 1, 30, FZ_CODE_TTL - 1, FZ_CODE_TTL, FZ_CODE_TTL + 1,
	FZ_ACCESS_TTL - 1, FZ_ACCESS_TTL, FZ_ACCESS_TTL + 1, 86400,
	FZ_REFRESH_TTL - 1, FZ_REFRESH_TTL, FZ_REFRESH_TTL + 1, -1, -3600,
	10LL * 366 * 86400,
};

static const char *const fz_param_names[] = {
	"grant_type", "client_id", "client_secret", "code", "code_verifier",
	"redirect_uri", "scope", "refresh_token", "token", "token_type_hint",
	"response_type", "code_challenge", "code_challenge_method", "state",
	"nonce", FZ_RAW,
};

/* The clients of the store; the secrets are generated at start. */
enum fz_client {
	FZ_CONF = 0,	/* confidential, every grant, one redirect URI */
	FZ_PUB,		/* public: code + PKCE and refresh, two URIs */
	FZ_RS,		/* resource server: may introspect every token */
	FZ_CC,		/* client_credentials only, with an audience */
	FZ_CLIENT__MAX
};

/* The kinds of token an input remembers. */
enum fz_kind {
	FZ_KIND_ACCESS = 0,
	FZ_KIND_REFRESH,
	FZ_KIND_CODE,
	FZ_KIND__MAX
};

/* What a value selector may stand for. */
enum fz_value_kind {
	FZ_VALUE_STATIC = 0,	/* s */
	FZ_VALUE_SECRET,	/* the secret of client a */
	FZ_VALUE_RING,		/* token b places back in ring a */
	FZ_VALUE_ALTERED,	/* the newest of ring a, last byte changed */
	FZ_VALUE_PREFIX,	/* the newest of ring a, last byte dropped */
	FZ_VALUE_RAW,		/* a raw field */
	FZ_VALUE_KIND__MAX
};

static const struct fz_value {
	enum fz_value_kind kind;
	const char *s;
	int a, b;
} fz_values[] = {
	{FZ_VALUE_STATIC, "client_credentials", 0, 0},
	{FZ_VALUE_STATIC, "authorization_code", 0, 0},
	{FZ_VALUE_STATIC, "refresh_token", 0, 0},
	{FZ_VALUE_STATIC, "password", 0, 0},
	{FZ_VALUE_STATIC, "conf", 0, 0},
	{FZ_VALUE_STATIC, "pub", 0, 0},
	{FZ_VALUE_STATIC, "rs", 0, 0},
	{FZ_VALUE_STATIC, "cc", 0, 0},
	{FZ_VALUE_STATIC, "unknown", 0, 0},
	{FZ_VALUE_SECRET, NULL, FZ_CONF, 0},
	{FZ_VALUE_SECRET, NULL, FZ_RS, 0},
	{FZ_VALUE_SECRET, NULL, FZ_CC, 0},
	{FZ_VALUE_STATIC, "wrong-secret", 0, 0},
	{FZ_VALUE_STATIC, "code", 0, 0},
	{FZ_VALUE_STATIC, "token", 0, 0},
	{FZ_VALUE_STATIC, "S256", 0, 0},
	{FZ_VALUE_STATIC, "plain", 0, 0},
	{FZ_VALUE_STATIC, FZ_VERIFIER, 0, 0},
	{FZ_VALUE_STATIC, FZ_CHALLENGE, 0, 0},
	{FZ_VALUE_STATIC, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX", 0, 0},
	{FZ_VALUE_STATIC, FZ_REDIRECT, 0, 0},
	{FZ_VALUE_STATIC, FZ_REDIRECT_QUERY, 0, 0},
	{FZ_VALUE_STATIC, "https://evil.example/cb", 0, 0},
	{FZ_VALUE_STATIC, "read", 0, 0},
	{FZ_VALUE_STATIC, "read write", 0, 0},
	{FZ_VALUE_STATIC, "write admin", 0, 0},
	{FZ_VALUE_STATIC, "openid read", 0, 0},
	{FZ_VALUE_STATIC, "bogus", 0, 0},
	{FZ_VALUE_STATIC, "read  write", 0, 0},
	{FZ_VALUE_STATIC, "read read", 0, 0},
	{FZ_VALUE_STATIC, "access_token", 0, 0},
	{FZ_VALUE_STATIC, "xyz", 0, 0},
	{FZ_VALUE_STATIC, "", 0, 0},
	{FZ_VALUE_RING, NULL, FZ_KIND_ACCESS, 0},
	{FZ_VALUE_RING, NULL, FZ_KIND_ACCESS, 1},
	{FZ_VALUE_RING, NULL, FZ_KIND_ACCESS, 2},
	{FZ_VALUE_RING, NULL, FZ_KIND_ACCESS, 3},
	{FZ_VALUE_RING, NULL, FZ_KIND_REFRESH, 0},
	{FZ_VALUE_RING, NULL, FZ_KIND_REFRESH, 1},
	{FZ_VALUE_RING, NULL, FZ_KIND_REFRESH, 2},
	{FZ_VALUE_RING, NULL, FZ_KIND_REFRESH, 3},
	{FZ_VALUE_RING, NULL, FZ_KIND_CODE, 0},
	{FZ_VALUE_RING, NULL, FZ_KIND_CODE, 1},
	{FZ_VALUE_RING, NULL, FZ_KIND_CODE, 2},
	{FZ_VALUE_RING, NULL, FZ_KIND_CODE, 3},
	{FZ_VALUE_ALTERED, NULL, FZ_KIND_ACCESS, 0},
	{FZ_VALUE_ALTERED, NULL, FZ_KIND_REFRESH, 0},
	{FZ_VALUE_ALTERED, NULL, FZ_KIND_CODE, 0},
	{FZ_VALUE_PREFIX, NULL, FZ_KIND_ACCESS, 0},
	{FZ_VALUE_PREFIX, NULL, FZ_KIND_CODE, 0},
	{FZ_VALUE_RAW, NULL, 0, 0},
};

/* How the Authorization header of a request is made. */
enum fz_auth {
	FZ_AUTH_NONE = 0,
	FZ_AUTH_EMPTY,		/* set, but empty */
	FZ_AUTH_CONF,		/* Basic conf:secret */
	FZ_AUTH_CONF_WRONG,	/* Basic conf:a wrong secret */
	FZ_AUTH_PUB,		/* Basic pub: (public, empty secret) */
	FZ_AUTH_PUB_SECRET,	/* Basic pub:x (a public client's secret) */
	FZ_AUTH_RS,		/* Basic rs:secret */
	FZ_AUTH_CC,		/* Basic cc:secret */
	FZ_AUTH_UNKNOWN,	/* Basic unknown:x */
	FZ_AUTH_CONF_ENCODED,	/* Basic %63onf:secret, the id form-encoded */
	FZ_AUTH_CONF_LOWER,	/* basic conf:secret */
	FZ_AUTH_B64_RAW,	/* Basic base64(raw) */
	FZ_AUTH_BASIC_RAW,	/* Basic raw */
	FZ_AUTH_RAW,		/* raw */
	FZ_AUTH_BEARER,		/* Bearer value (a value selector) */
	FZ_AUTH_BEARER_RAW,	/* Bearer raw */
	FZ_AUTH__MAX
};

/* Content-Length against the body sent. */
enum fz_length {
	FZ_LENGTH_EXACT = 0,
	FZ_LENGTH_UNSET,
	FZ_LENGTH_LONGER,	/* one more than sent: the body ends early */
	FZ_LENGTH_SHORTER,	/* one less: the last byte is not read */
	FZ_LENGTH_EMPTY,
	FZ_LENGTH_ZERO,
	FZ_LENGTH_HUGE,
	FZ_LENGTH_OVER_MAX,	/* FZ_MAX_BODY + 1 */
	FZ_LENGTH_LEADING_ZEROS,
	FZ_LENGTH_RAW,
	FZ_LENGTH__MAX
};

/* How the source hands the body over. */
enum fz_reads {
	FZ_READS_WHOLE = 0,
	FZ_READS_BYTES,		/* one byte a call */
	FZ_READS_SEVEN,		/* seven bytes a call */
	FZ_READS_FAIL,		/* 16 bytes, then a read error */
	FZ_READS__MAX
};

/* Bits of an item's flags byte. */
#define FZ_ITEM_VERBATIM 0x01	/* no percent- or JSON-escaping */
#define FZ_ITEM_EMPTY 0x02	/* the value sent empty */
#define FZ_ITEM_BARE 0x04	/* the name alone: no '=' or ':' */
#define FZ_ITEM_UNQUOTED 0x08	/* JSON: the value without quotes */

/* Bits of a request's flags and body mode bytes. */
#define FZ_FLAG_DERIVED 0x04	/* no OAUTH_ISSUER: derived per request */
#define FZ_BODY_SWAP 0x01	/* form for a JSON type, JSON for the rest */
#define FZ_BODY_TAIL 0x02	/* a raw field after the items */
#define FZ_BODY_RAW 0x04	/* the body is one raw field, up to 64 KiB */

/* The input, read front to back; bytes past its end read as 0. */
struct fz_in {
	const uint8_t *p;
	size_t left;
};

/* Tokens seen in the answers of this input, newest at next - 1. */
struct fz_ring {
	char s[FZ_RING][TOKEN_PRESENTED_MAX + 1];
	size_t next, count;
};

/* One request: its variables (borrowed or in own) and its body. */
struct fz_req {
	const char *vars[FZ_VAR__MAX];
	struct buf own[FZ_VAR__MAX];
	struct buf body;
	size_t sent;		/* body bytes the source handed over */
	enum fz_reads reads;
	int derived;
};

/* A CGI response as the sink received it, split. */
struct fz_resp {
	struct buf raw;
	int status;
	const char *ctype, *cache, *pragma, *location, *www, *allow;
	size_t ctype_len, cache_len, pragma_len, location_len, www_len,
	    allow_len;
	long long content_length;
	const char *body;
	size_t body_len;
	cJSON *json;
};

/* What lives as long as the process: the store and its clients. */
static struct {
	int ready;
	int trace;		/* FUZZ_REQUEST_TRACE set: show each exchange */
	char dir[256];
	struct store *store;
	struct config fixed, derived;
	struct secret_cache *cache;
	struct signing_cache *signing;
	char key_probe[FZ_KEY_PROBE + 1];	/* of the private key's PEM */
	int64_t now;
	uint64_t counter;
	char secrets[FZ_CLIENT__MAX][TOKEN_STRING_LEN + 1];
	struct fz_ring rings[FZ_KIND__MAX];
} fz;

static void fz_fail(const struct fz_req *, const struct fz_resp *,
    const char *, ...) __attribute__((format(printf, 3, 4)));
static int64_t fz_clock(void *);
static int fz_random(void *, unsigned char *, size_t);
static void fz_cleanup(void);
static void fz_add_client(enum fz_client, const char *, const char *,
    unsigned, int, const char *, const char *, const char *);
static void fz_add_key(void);
static void fz_init(void);
static void fz_purge(void);
static unsigned fz_byte(struct fz_in *);
static void fz_field(struct fz_in *, size_t, struct buf *);
static void fz_var(struct fz_in *, struct fz_req *, enum fz_var,
    const char *const *, size_t);
static void fz_value(struct fz_in *, struct buf *);
static void fz_json_string(struct buf *, const char *, size_t);
static void fz_items(struct fz_in *, struct buf *, unsigned, int);
static void fz_basic(struct buf *, const char *, size_t);
static void fz_authorization(struct fz_in *, struct fz_req *);
static void fz_content_length(struct fz_in *, struct fz_req *, unsigned);
static void fz_build(struct fz_in *, struct fz_req *);
static const char *fz_getparam(void *, const char *);
static ssize_t fz_read(void *, char *, size_t);
static int fz_write(void *, const char *, size_t);
static int fz_contains(const char *, size_t, const char *, size_t);
static int fz_is(const char *, size_t, const char *);
static int fz_scheme(const char *, const char *);
static int fz_jws(const char *, size_t);
static void fz_mask(char *, size_t, const char *, const char *);
static void fz_parse(const struct fz_req *, struct fz_resp *);
static void fz_check_secrets(const struct fz_req *, const struct fz_resp *,
    const char *, size_t, int);
static int fz_error_status_ok(const char *, int);
static void fz_check_shown(const struct fz_req *, const struct fz_resp *);
static void fz_check(const struct fz_req *, struct fz_resp *);
static void fz_ring_add(enum fz_kind, const char *);
static void fz_harvest(const struct fz_resp *);
static void fz_show(const struct fz_req *, const struct fz_resp *);
static void fz_serve(struct fz_req *, struct fz_resp *);
static void fz_req_free(struct fz_req *);

/*
 * Prints why the response broke the contract, the request and the
 * response, and aborts: the fuzzer reports the input as a crash.
 */
static void
fz_fail(const struct fz_req *q, const struct fz_resp *r, const char *fmt,
    ...)
{
	va_list ap;
	size_t i;

	fprintf(stderr, "fuzz_request: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	for (i = 0; q != NULL && i < FZ_VAR__MAX; i++)
		if (q->vars[i] != NULL)
			fprintf(stderr, "  %s=%s\n", fz_var_names[i],
			    q->vars[i]);
	if (q != NULL && q->body.data != NULL)
		fprintf(stderr, "  body (%zu bytes): %.*s\n", q->body.len,
		    (int)(q->body.len < FZ_SHOWN_MAX ? q->body.len
						     : FZ_SHOWN_MAX),
		    q->body.data);
	if (r != NULL && r->raw.data != NULL)
		fprintf(stderr, "  response (%zu bytes):\n%.*s\n", r->raw.len,
		    (int)(r->raw.len < FZ_SHOWN_MAX ? r->raw.len
						    : FZ_SHOWN_MAX),
		    r->raw.data);
	fflush(stderr);
	abort();
}

/* The pinned clock of the handlers. */
static int64_t
fz_clock(void *ctx)
{
	(void)ctx;
	return fz.now;
}

/*
 * A deterministic random source: a counter run through SHA-256, as the
 * unit tests have it, so no two tokens are alike and a run repeats.
 */
static int
fz_random(void *ctx, unsigned char *out, size_t len)
{
	unsigned char block[TOKEN_HASH_LEN];
	size_t n;

	(void)ctx;
	while (len > 0) {
		fz.counter++;
		if (crypto_sha256(&fz.counter, sizeof(fz.counter), block) ==
		    -1)
			return -1;
		n = len < sizeof(block) ? len : sizeof(block);
		memcpy(out, block, n);
		out += n;
		len -= n;
	}
	return 0;
}

/* At exit: closes the store and removes its directory. */
static void
fz_cleanup(void)
{
	char path[sizeof(fz.dir) + 16];

	if (!fz.ready)
		return;
	store_close(fz.store);
	secret_cache_free(fz.cache);
	signing_cache_free(fz.signing);
	(void)snprintf(path, sizeof(path), "%s/data.mdb", fz.dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/lock.mdb", fz.dir);
	(void)unlink(path);
	(void)rmdir(fz.dir);
	fz.ready = 0;
}

/*
 * Registers client which under id: confidential with a generated secret
 * (256 random bits, stored as oauthctl stores it) unless public.
 */
static void
fz_add_client(enum fz_client which, const char *id, const char *scope,
    unsigned grant_types, int may_introspect, const char *audience,
    const char *uri1, const char *uri2)
{
	unsigned char raw[SECRET_RANDOM_LEN];
	struct client c;
	struct store_txn *txn;

	memset(&c, 0, sizeof(c));
	memcpy(c.id, id, strlen(id));
	c.is_public = which == FZ_PUB;
	if (!c.is_public) {
		if (fz_random(NULL, raw, sizeof(raw)) == -1 ||
		    b64url_encode(raw, sizeof(raw), fz.secrets[which],
			sizeof(fz.secrets[which])) != TOKEN_STRING_LEN ||
		    fz_random(NULL, c.secret_salt, sizeof(c.secret_salt)) ==
			-1 ||
		    crypto_secret_hash(c.secret_salt, fz.secrets[which],
			TOKEN_STRING_LEN, c.secret_hash) == -1)
			fz_fail(NULL, NULL, "cannot make a secret");
	}
	c.grant_types = grant_types;
	c.may_introspect = may_introspect;
	/* Both kinds of access token: RFC 9068 JWTs for two of them. */
	c.token_format = CLIENT_TOKEN_DEFAULT;
	if (which == FZ_CONF || which == FZ_CC)
		c.token_format = CLIENT_TOKEN_JWT;
	c.scope = (char *)scope;
	c.audience = (char *)audience;
	c.redirect_uris[0] = (char *)uri1;
	c.redirect_uris[1] = (char *)uri2;
	c.redirect_uri_count = uri1 == NULL ? 0 : uri2 == NULL ? 1 : 2;
	c.created_at = FZ_NOW;
	if (store_txn_begin(fz.store, 1, &txn) != STORE_OK ||
	    store_client_put(txn, &c, 1) != STORE_OK ||
	    store_txn_commit(txn) != STORE_OK)
		fz_fail(NULL, NULL, "cannot register client %s", id);
}

/*
 * Stores a new RS256 signing key, as oauthctl key generate does, that
 * signs at every time the clock selectors reach, for ID Tokens and JWT
 * access tokens.  Keeps a line of its private PEM to look for in every
 * answer: the key must never be shown.
 */
static void
fz_add_key(void)
{
	struct buf pem = {0};
	struct store_txn *txn;
	EVP_PKEY *pkey = NULL;
	cJSON *jwk = NULL;
	const char *line;
	struct key k;

	memset(&k, 0, sizeof(k));
	if (jose_key_generate(JOSE_ALG_RS256, &pem) == -1 ||
	    jose_key_parse(JOSE_ALG_RS256, pem.data, pem.len, &pkey) == -1 ||
	    jose_key_thumbprint(pkey, JOSE_ALG_RS256, k.kid) == -1 ||
	    jose_jwk_public(pkey, JOSE_ALG_RS256, k.kid, &jwk) == -1 ||
	    (k.jwk = cJSON_PrintUnformatted(jwk)) == NULL)
		fz_fail(NULL, NULL, "cannot make a signing key");
	k.pem = pem.data;
	k.alg = JOSE_ALG_RS256;
	k.created_at = k.sign_from = FZ_NOW - FZ_KEY_AGE;
	if (store_txn_begin(fz.store, 1, &txn) != STORE_OK ||
	    store_key_put(txn, &k) != STORE_OK ||
	    store_txn_commit(txn) != STORE_OK)
		fz_fail(NULL, NULL, "cannot store the signing key");
	/* The line after "-----BEGIN PRIVATE KEY-----": base64 of the key. */
	if ((line = memchr(pem.data, '\n', pem.len)) == NULL ||
	    pem.len - (size_t)(line + 1 - pem.data) < FZ_KEY_PROBE)
		fz_fail(NULL, NULL, "the signing key's PEM is not as expected");
	memcpy(fz.key_probe, line + 1, FZ_KEY_PROBE);
	crypto_wipe(pem.data, pem.len);
	buf_free(&pem);
	cJSON_free(k.jwk);
	cJSON_Delete(jwk);
	jose_key_free(pkey);
}

/*
 * Opens the store in a fresh directory under $TMPDIR (or /tmp), registers
 * the clients and sets up both configurations: one with OAUTH_ISSUER, one
 * deriving the issuer from each request.  Commits are not flushed to disk:
 * the store is thrown away at exit.
 */
static void
fz_init(void)
{
	const char *base = getenv("TMPDIR");
	struct config *c;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if ((size_t)snprintf(fz.dir, sizeof(fz.dir), "%s/oauth-fuzz-XXXXXX",
		base) >= sizeof(fz.dir) ||
	    mkdtemp(fz.dir) == NULL)
		fz_fail(NULL, NULL, "cannot make a directory under %s", base);
	if (jose_init(1) == -1 ||
	    store_open(fz.dir, FZ_MAP_SIZE, STORE_OPEN_SYNC_NONE, &fz.store, NULL, 0) !=
		STORE_OK)
		fz_fail(NULL, NULL, "cannot open a store in %s", fz.dir);
	fz.ready = 1;
	fz.trace = getenv("FUZZ_REQUEST_TRACE") != NULL;
	atexit(fz_cleanup);
	fz.cache = secret_cache_new();
	fz.signing = signing_cache_new();
	fz_add_key();
	fz_add_client(FZ_CONF, "conf", "read write admin", GRANT_ALL, 0, NULL,
	    FZ_REDIRECT, NULL);
	fz_add_client(FZ_PUB, "pub", "read write openid",
	    GRANT_AUTHORIZATION_CODE | GRANT_REFRESH_TOKEN, 0, NULL,
	    FZ_REDIRECT, FZ_REDIRECT_QUERY);
	fz_add_client(FZ_RS, "rs", "", GRANT_CLIENT_CREDENTIALS, 1, NULL, NULL,
	    NULL);
	fz_add_client(FZ_CC, "cc", "read", GRANT_CLIENT_CREDENTIALS, 0,
	    "https://api.example", NULL, NULL);
	c = &fz.fixed;
	c->db_path = fz.dir;
	c->issuer = (char *)FZ_ISSUER;
	c->access_ttl = FZ_ACCESS_TTL;
	c->refresh_ttl = FZ_REFRESH_TTL;
	c->code_ttl = FZ_CODE_TTL;
	c->max_body = FZ_MAX_BODY;
	c->map_size = FZ_MAP_SIZE;
	c->db_sync = CONFIG_SYNC_NONE;
	fz.derived = fz.fixed;
	fz.derived.issuer = NULL;
}

/* Deletes every record a foreach walk shows. */
static enum store_each
fz_purge_token(const unsigned char *key, const struct token *t, void *arg)
{
	(void)key;
	(void)t;
	(void)arg;
	return STORE_EACH_DELETE;
}

static enum store_each
fz_purge_grant(const struct grant *g, void *arg)
{
	(void)g;
	(void)arg;
	return STORE_EACH_DELETE;
}

/*
 * Empties the store of tokens, codes and grants, leaving the clients: the
 * next input starts where the first did, and the map stays small.
 */
static void
fz_purge(void)
{
	struct store_txn *txn;

	if (store_txn_begin(fz.store, 1, &txn) != STORE_OK ||
	    store_token_foreach(txn, fz_purge_token, NULL) != STORE_OK ||
	    store_grant_foreach(txn, fz_purge_grant, NULL) != STORE_OK ||
	    store_txn_commit(txn) != STORE_OK)
		fz_fail(NULL, NULL, "cannot empty the store");
}

/* The next byte of the input, or 0 past its end. */
static unsigned
fz_byte(struct fz_in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

/*
 * Appends a raw field to out: a length (one byte, or two little-endian
 * when wide is 2) and that many bytes, fewer when the input ends first.
 */
static void
fz_field(struct fz_in *in, size_t wide, struct buf *out)
{
	size_t len = fz_byte(in);

	if (wide == 2)
		len |= (size_t)fz_byte(in) << 8;
	if (len > in->left)
		len = in->left;
	if (len > 0 && buf_append(out, in->p, len) == -1)
		fz_fail(NULL, NULL, "out of memory");
	in->p += len;
	in->left -= len;
}

/* Sets variable v from a selector byte into table (n entries). */
static void
fz_var(struct fz_in *in, struct fz_req *q, enum fz_var v,
    const char *const *table, size_t n)
{
	const char *s = table[fz_byte(in) % n];

	if (s != FZ_RAW) {
		q->vars[v] = s;
		return;
	}
	fz_field(in, 1, &q->own[v]);
	q->vars[v] = q->own[v].data != NULL ? q->own[v].data : "";
}

/* Appends the value a selector byte picks (see fz_values) to out. */
static void
fz_value(struct fz_in *in, struct buf *out)
{
	const struct fz_value *v = &fz_values[fz_byte(in) % FZ_LEN(fz_values)];
	const struct fz_ring *ring = NULL;
	const char *s = NULL;
	char altered[TOKEN_PRESENTED_MAX + 1];
	size_t len;

	switch (v->kind) {
	case FZ_VALUE_STATIC:
		s = v->s;
		break;
	case FZ_VALUE_SECRET:
		s = fz.secrets[v->a];
		break;
	case FZ_VALUE_RING:
	case FZ_VALUE_ALTERED:
	case FZ_VALUE_PREFIX:
		ring = &fz.rings[v->a];
		/* Nothing seen yet: a token that was never issued. */
		s = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
		if ((size_t)v->b < ring->count)
			s = ring->s[(ring->next + FZ_RING - 1 - (size_t)v->b) %
			    FZ_RING];
		break;
	case FZ_VALUE_RAW:
		fz_field(in, 1, out);
		return;
	case FZ_VALUE_KIND__MAX:
		break;
	}
	len = strlen(s);
	if (v->kind == FZ_VALUE_ALTERED && len > 0) {
		memcpy(altered, s, len + 1);
		altered[len - 1] = altered[len - 1] == 'A' ? 'B' : 'A';
		s = altered;
	} else if (v->kind == FZ_VALUE_PREFIX && len > 0)
		len--;
	if (buf_append(out, s, len) == -1)
		fz_fail(NULL, NULL, "out of memory");
}

/* Appends s as a JSON string, quotes and escapes included. */
static void
fz_json_string(struct buf *out, const char *s, size_t len)
{
	size_t i;
	int fail;

	fail = buf_append(out, "\"", 1);
	for (i = 0; i < len && fail == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fail = buf_printf(out, "\\%c", c);
		else if (c < 0x20)
			fail = buf_printf(out, "\\u%04x", c);
		else
			fail = buf_append(out, &s[i], 1);
	}
	if (fail != 0 || buf_append(out, "\"", 1) == -1)
		fz_fail(NULL, NULL, "out of memory");
}

/*
 * Reads n items (name, value, flags) and appends them to out as a form
 * (name=value&...) or, when json is set, as one JSON object.
 */
static void
fz_items(struct fz_in *in, struct buf *out, unsigned n, int json)
{
	struct buf name = {0}, value = {0};
	const char *s;
	unsigned i, flags;
	int fail = 0;

	if (json)
		fail = buf_append(out, "{", 1);
	for (i = 0; i < n && fail == 0; i++) {
		name.len = value.len = 0;
		s = fz_param_names[fz_byte(in) % FZ_LEN(fz_param_names)];
		if (s == FZ_RAW)
			fz_field(in, 1, &name);
		else if (buf_puts(&name, s) == -1)
			fz_fail(NULL, NULL, "out of memory");
		fz_value(in, &value);
		flags = fz_byte(in);
		if (flags & FZ_ITEM_EMPTY)
			value.len = 0;
		if (i > 0)
			fail = buf_append(out, json ? "," : "&", 1);
		if (fail == 0 && json) {
			if (flags & FZ_ITEM_VERBATIM)
				fail = buf_append(out, name.data, name.len);
			else
				fz_json_string(out, name.data, name.len);
			if (fail == 0 && !(flags & FZ_ITEM_BARE))
				fail = buf_append(out, ":", 1);
			if (fail == 0 && (flags & FZ_ITEM_UNQUOTED))
				fail = buf_append(out, value.data, value.len);
			else if (fail == 0)
				fz_json_string(out, value.data, value.len);
		} else if (fail == 0) {
			fail = (flags & FZ_ITEM_VERBATIM)
			    ? buf_append(out, name.data, name.len)
			    : urlenc_encode(out, name.data, name.len);
			if (fail == 0 && !(flags & FZ_ITEM_BARE))
				fail = buf_append(out, "=", 1);
			if (fail == 0)
				fail = (flags & FZ_ITEM_VERBATIM)
				    ? buf_append(out, value.data, value.len)
				    : urlenc_encode(out, value.data, value.len);
		}
	}
	if (fail == 0 && json)
		fail = buf_append(out, "}", 1);
	buf_free(&name);
	buf_free(&value);
	if (fail != 0)
		fz_fail(NULL, NULL, "out of memory");
}

/* Appends the base64 of the len bytes of pair to out. */
static void
fz_basic(struct buf *out, const char *pair, size_t len)
{
	unsigned char *b64;
	int n;

	if ((b64 = malloc((len + 2) / 3 * 4 + 1)) == NULL)
		fz_fail(NULL, NULL, "out of memory");
	n = EVP_EncodeBlock(b64, (const unsigned char *)pair, (int)len);
	if (n < 0 || buf_append(out, b64, (size_t)n) == -1)
		fz_fail(NULL, NULL, "out of memory");
	free(b64);
}

/* Sets HTTP_AUTHORIZATION from a selector byte (see enum fz_auth). */
static void
fz_authorization(struct fz_in *in, struct fz_req *q)
{
	struct buf *h = &q->own[FZ_VAR_AUTHORIZATION];
	struct buf pair = {0};
	enum fz_auth a = (enum fz_auth)(fz_byte(in) % FZ_AUTH__MAX);
	int fail = 0;

	switch (a) {
	case FZ_AUTH_NONE:
		return;
	case FZ_AUTH_EMPTY:
		q->vars[FZ_VAR_AUTHORIZATION] = "";
		return;
	case FZ_AUTH_CONF:
	case FZ_AUTH_CONF_LOWER:
		fail = buf_printf(&pair, "conf:%s", fz.secrets[FZ_CONF]);
		break;
	case FZ_AUTH_CONF_WRONG:
		fail = buf_puts(&pair, "conf:wrong-secret");
		break;
	case FZ_AUTH_PUB:
		fail = buf_puts(&pair, "pub:");
		break;
	case FZ_AUTH_PUB_SECRET:
		fail = buf_puts(&pair, "pub:x");
		break;
	case FZ_AUTH_RS:
		fail = buf_printf(&pair, "rs:%s", fz.secrets[FZ_RS]);
		break;
	case FZ_AUTH_CC:
		fail = buf_printf(&pair, "cc:%s", fz.secrets[FZ_CC]);
		break;
	case FZ_AUTH_UNKNOWN:
		fail = buf_puts(&pair, "unknown:x");
		break;
	case FZ_AUTH_CONF_ENCODED:
		fail = buf_printf(&pair, "%%63onf:%s", fz.secrets[FZ_CONF]);
		break;
	case FZ_AUTH_B64_RAW:
		fz_field(in, 1, &pair);
		break;
	case FZ_AUTH_BASIC_RAW:
		fail = buf_puts(h, "Basic ");
		fz_field(in, 1, h);
		break;
	case FZ_AUTH_RAW:
		fz_field(in, 1, h);
		break;
	case FZ_AUTH_BEARER:
		fail = buf_puts(h, "Bearer ");
		fz_value(in, h);
		break;
	case FZ_AUTH_BEARER_RAW:
		fail = buf_puts(h, "Bearer ");
		fz_field(in, 1, h);
		break;
	case FZ_AUTH__MAX:
		break;
	}
	if (fail == 0 && a != FZ_AUTH_BASIC_RAW && a != FZ_AUTH_RAW &&
	    a != FZ_AUTH_BEARER && a != FZ_AUTH_BEARER_RAW) {
		fail = buf_puts(h,
		    a == FZ_AUTH_CONF_LOWER ? "basic " : "Basic ");
		if (fail == 0)
			fz_basic(h, pair.data != NULL ? pair.data : "",
			    pair.len);
	}
	if (pair.data != NULL)
		crypto_wipe(pair.data, pair.len);
	buf_free(&pair);
	if (fail != 0)
		fz_fail(NULL, NULL, "out of memory");
	q->vars[FZ_VAR_AUTHORIZATION] = h->data != NULL ? h->data : "";
}

/* Sets CONTENT_LENGTH as mode (enum fz_length) says, from the body. */
static void
fz_content_length(struct fz_in *in, struct fz_req *q, unsigned mode)
{
	struct buf *v = &q->own[FZ_VAR_CONTENT_LENGTH];
	size_t len = q->body.len;
	int fail = 0;

	switch ((enum fz_length)(mode % FZ_LENGTH__MAX)) {
	case FZ_LENGTH_EXACT:
		fail = buf_printf(v, "%zu", len);
		break;
	case FZ_LENGTH_UNSET:
		return;
	case FZ_LENGTH_LONGER:
		fail = buf_printf(v, "%zu", len + 1);
		break;
	case FZ_LENGTH_SHORTER:
		fail = buf_printf(v, "%zu", len > 0 ? len - 1 : 0);
		break;
	case FZ_LENGTH_EMPTY:
		q->vars[FZ_VAR_CONTENT_LENGTH] = "";
		return;
	case FZ_LENGTH_ZERO:
		q->vars[FZ_VAR_CONTENT_LENGTH] = "0";
		return;
	case FZ_LENGTH_HUGE:
		q->vars[FZ_VAR_CONTENT_LENGTH] = "184467440737095516160";
		return;
	case FZ_LENGTH_OVER_MAX:
		fail = buf_printf(v, "%d", FZ_MAX_BODY + 1);
		break;
	case FZ_LENGTH_LEADING_ZEROS:
		fail = buf_printf(v, "00%zu", len);
		break;
	case FZ_LENGTH_RAW:
		fz_field(in, 1, v);
		break;
	case FZ_LENGTH__MAX:
		break;
	}
	if (fail != 0)
		fz_fail(NULL, NULL, "out of memory");
	q->vars[FZ_VAR_CONTENT_LENGTH] = v->data != NULL ? v->data : "";
}

/*
 * Reads one request from in, in the order the comment at the top gives:
 * selectors with their raw fields, body items, query items.
 */
static void
fz_build(struct fz_in *in, struct fz_req *q)
{
	unsigned length, flags, counts, mode;
	int json;

	fz_var(in, q, FZ_VAR_METHOD, fz_methods, FZ_LEN(fz_methods));
	fz_var(in, q, FZ_VAR_PATH, fz_paths, FZ_LEN(fz_paths));
	fz_var(in, q, FZ_VAR_CONTENT_TYPE, fz_content_types,
	    FZ_LEN(fz_content_types));
	fz_authorization(in, q);
	length = fz_byte(in);
	q->reads = (enum fz_reads)((length >> 4) % FZ_READS__MAX);
	fz_var(in, q, FZ_VAR_REMOTE_USER, fz_users, FZ_LEN(fz_users));
	fz_var(in, q, FZ_VAR_HOST, fz_hosts, FZ_LEN(fz_hosts));
	fz_var(in, q, FZ_VAR_SCRIPT_NAME, fz_scripts, FZ_LEN(fz_scripts));
	flags = fz_byte(in);
	q->vars[FZ_VAR_HTTPS] = fz_https[flags & 0x03];
	q->derived = (flags & FZ_FLAG_DERIVED) != 0;
	q->vars[FZ_VAR_SERVER_PORT] = fz_ports[(flags >> 3) & 0x03];
	q->vars[FZ_VAR_ACCEPT] = fz_accepts[(flags >> 5) & 0x07];
	/* RFC 3875 §4.1.14: the server always sets SERVER_NAME. */
	q->vars[FZ_VAR_SERVER_NAME] = FZ_SERVER_NAME;
	fz.now = FZ_NOW + fz_clock_offsets[fz_byte(in) %
	    FZ_LEN(fz_clock_offsets)];
	counts = fz_byte(in);
	mode = fz_byte(in);

	json = q->vars[FZ_VAR_CONTENT_TYPE] != NULL &&
	    strncasecmp(q->vars[FZ_VAR_CONTENT_TYPE], "application/json",
		16) == 0;
	if (mode & FZ_BODY_SWAP)
		json = !json;
	if (mode & FZ_BODY_RAW)
		fz_field(in, 2, &q->body);
	else
		fz_items(in, &q->body, counts & 0x0f, json);
	if (mode & FZ_BODY_TAIL)
		fz_field(in, 1, &q->body);
	if (counts >> 4) {
		fz_items(in, &q->own[FZ_VAR_QUERY], counts >> 4, 0);
		q->vars[FZ_VAR_QUERY] = q->own[FZ_VAR_QUERY].data != NULL
		    ? q->own[FZ_VAR_QUERY].data
		    : "";
	}
	fz_content_length(in, q, length & 0x0f);
}

/* The source's getparam: the variable q set, or NULL when it is unset. */
static const char *
fz_getparam(void *ctx, const char *name)
{
	const struct fz_req *q = ctx;
	size_t i;

	for (i = 0; i < FZ_VAR__MAX; i++)
		if (strcmp(fz_var_names[i], name) == 0)
			return q->vars[i];
	return NULL;
}

/* Hands over the body in the pieces q->reads asks for; 0 at its end. */
static ssize_t
fz_read(void *ctx, char *buf, size_t n)
{
	struct fz_req *q = ctx;
	size_t left = q->body.len - q->sent;

	switch (q->reads) {
	case FZ_READS_WHOLE:
		break;
	case FZ_READS_BYTES:
		n = n < 1 ? n : 1;
		break;
	case FZ_READS_SEVEN:
		n = n < 7 ? n : 7;
		break;
	case FZ_READS_FAIL:
		if (q->sent > 0)
			return -1;
		n = n < 16 ? n : 16;
		break;
	case FZ_READS__MAX:
		break;
	}
	if (n > left)
		n = left;
	if (n > 0)
		memcpy(buf, q->body.data + q->sent, n);
	q->sent += n;
	return (ssize_t)n;
}

/* The sink's write: keeps every byte; -1 only when memory runs out. */
static int
fz_write(void *ctx, const char *data, size_t len)
{
	return buf_append(&((struct fz_resp *)ctx)->raw, data, len);
}

/* 1 when the nlen bytes of needle occur in the hlen bytes of hay. */
static int
fz_contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	size_t i;

	if (nlen == 0 || hay == NULL || nlen > hlen)
		return 0;
	for (i = 0; i + nlen <= hlen; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
			return 1;
	return 0;
}

/* 1 when the len bytes at p are exactly s. */
static int
fz_is(const char *p, size_t len, const char *s)
{
	return p != NULL && len == strlen(s) && memcmp(p, s, len) == 0;
}

/*
 * 1 when the Authorization header value h is of scheme (RFC 9110 §11.4:
 * case-insensitive, then a space or nothing).
 */
static int
fz_scheme(const char *h, const char *scheme)
{
	size_t n = strlen(scheme);

	return h != NULL && strncasecmp(h, scheme, n) == 0 &&
	    (h[n] == ' ' || h[n] == '\0');
}

/*
 * 1 when the len bytes at s are a compact JWS (RFC 7515 §7.1): three
 * non-empty base64url parts joined by dots.
 */
static int
fz_jws(const char *s, size_t len)
{
	size_t i, dots = 0, part = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (part == 0)
				return 0;
			dots++;
			part = 0;
		} else if (isalnum((unsigned char)s[i]) || s[i] == '-' ||
		    s[i] == '_')
			part++;
		else
			return 0;
	}
	return dots == 2 && part > 0;
}

/*
 * Overwrites with '*' the bytes after each occurrence of prefix in the len
 * bytes at s, up to the next byte of stops: a value the peer sent and the
 * server may echo, such as the state of a redirect.
 */
static void
fz_mask(char *s, size_t len, const char *prefix, const char *stops)
{
	size_t i, plen = strlen(prefix);

	for (i = 0; i + plen <= len; i++) {
		if (memcmp(s + i, prefix, plen) != 0)
			continue;
		for (i += plen; i < len && strchr(stops, s[i]) == NULL; i++)
			s[i] = '*';
	}
}

/*
 * Splits the CGI response in r->raw (RFC 3875 §6): the Status line, the
 * header lines up to the blank line, the body.  A malformed response is a
 * failure: every line must end in CRLF and hold no other CR or LF.
 */
static void
fz_parse(const struct fz_req *q, struct fz_resp *r)
{
	const char *p = r->raw.data, *end, *eol, *colon, *v;
	size_t vlen;
	char *num_end;

	r->content_length = -1;
	if (p == NULL || r->raw.len < 15 || memcmp(p, "Status: ", 8) != 0)
		fz_fail(q, r, "the response does not start with Status");
	end = p + r->raw.len;
	r->status = (int)strtol(p + 8, &num_end, 10);
	if (num_end != p + 11 || *num_end != ' ')
		fz_fail(q, r, "the Status line is malformed");
	for (;;) {
		for (eol = p; eol < end && *eol != '\r' && *eol != '\n'; eol++)
			;
		if (eol + 1 >= end || eol[0] != '\r' || eol[1] != '\n')
			fz_fail(q, r, "a header line does not end in CRLF");
		if (eol == p)
			break;
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL ||
		    colon + 1 >= eol || colon[1] != ' ')
			fz_fail(q, r, "a header line is not \"Name: value\"");
		v = colon + 2;
		vlen = (size_t)(eol - v);
#define FZ_HEADER(name, field)                                                \
	if ((size_t)(colon - p) == strlen(name) &&                            \
	    strncasecmp(p, name, strlen(name)) == 0) {                        \
		if (r->field != NULL)                                         \
			fz_fail(q, r, "header %s twice", name);               \
		r->field = v;                                                 \
		r->field##_len = vlen;                                        \
	}
		FZ_HEADER("Content-Type", ctype)
		FZ_HEADER("Cache-Control", cache)
		FZ_HEADER("Pragma", pragma)
		FZ_HEADER("Location", location)
		FZ_HEADER("WWW-Authenticate", www)
		FZ_HEADER("Allow", allow)
#undef FZ_HEADER
		if ((size_t)(colon - p) == 14 &&
		    strncasecmp(p, "Content-Length", 14) == 0)
			r->content_length = strtoll(v, NULL, 10);
		p = eol + 2;
	}
	r->body = eol + 2;
	r->body_len = (size_t)(end - r->body);
	if (r->content_length < 0 ||
	    (unsigned long long)r->content_length != r->body_len)
		fz_fail(q, r, "Content-Length is not the body's length");
}

/*
 * Fails when the len bytes at s hold a client secret of the store, or,
 * with tokens set, a token this input was issued (where: what s is).
 */
static void
fz_check_secrets(const struct fz_req *q, const struct fz_resp *r,
    const char *s, size_t len, int tokens)
{
	size_t i, k;

	for (i = 0; i < FZ_CLIENT__MAX; i++)
		if (fz.secrets[i][0] != '\0' && fz_contains(s, len,
		    fz.secrets[i], strlen(fz.secrets[i])))
			fz_fail(q, r, "a client secret was shown");
	if (fz_contains(s, len, fz.key_probe, strlen(fz.key_probe)))
		fz_fail(q, r, "the private signing key was shown");
	for (k = 0; tokens && k < FZ_KIND__MAX; k++)
		for (i = 0; i < fz.rings[k].count; i++)
			if (fz_contains(s, len, fz.rings[k].s[i],
			    strlen(fz.rings[k].s[i])))
				fz_fail(q, r, "a token was shown");
}

/* 1 when an error response of status may carry code (oauth_error.c). */
static int
fz_error_status_ok(const char *code, int status)
{
	if (strcmp(code, "invalid_request") == 0)
		return status == 400 || status == 404 || status == 405 ||
		    status == 413;
	if (strcmp(code, "invalid_client") == 0 ||
	    strcmp(code, "invalid_token") == 0)
		return status == 401;
	if (strcmp(code, "insufficient_scope") == 0)
		return status == 403;
	if (strcmp(code, "invalid_grant") == 0 ||
	    strcmp(code, "unauthorized_client") == 0 ||
	    strcmp(code, "unsupported_grant_type") == 0 ||
	    strcmp(code, "invalid_scope") == 0 ||
	    strcmp(code, "unsupported_response_type") == 0)
		return status == 400;
	if (strcmp(code, "server_error") == 0)
		return status == 500;
	if (strcmp(code, "temporarily_unavailable") == 0)
		return status == 503;
	return 0;
}

/*
 * Fails when the response r shows a client secret, leaving aside the
 * state a redirect echoes (RFC 6749 §4.1.2), which the request chose.
 */
static void
fz_check_shown(const struct fz_req *q, const struct fz_resp *r)
{
	char *copy;

	if ((copy = malloc(r->raw.len)) == NULL)
		fz_fail(NULL, NULL, "out of memory");
	memcpy(copy, r->raw.data, r->raw.len);
	if (r->location != NULL)
		fz_mask(copy + (r->location - r->raw.data), r->location_len,
		    "state=", "&#");
	fz_check_secrets(q, r, copy, r->raw.len, 0);
	free(copy);
}

/* Checks the response r to q against the contract; see the top. */
static void
fz_check(const struct fz_req *q, struct fz_resp *r)
{
	const char *path, *auth = q->vars[FZ_VAR_AUTHORIZATION];
	const char *user = q->vars[FZ_VAR_REMOTE_USER];
	const cJSON *err = NULL, *desc = NULL;
	int unprotected;

	path = q->vars[FZ_VAR_PATH] != NULL ? q->vars[FZ_VAR_PATH] : "";
	unprotected = strcmp(path, "/authorize") == 0 &&
	    (user == NULL || user[0] == '\0');
	fz_parse(q, r);
	fz_check_shown(q, r);
	switch (r->status) {
	case 200:
	case 302:
	case 400:
	case 401:
	case 404:
	case 405:
	case 413:
		break;
	case 403:
		/* RFC 6750 §3.1: a bearer token without the scope needed. */
		if (strcmp(path, "/userinfo") == 0)
			break;
		fz_fail(q, r, "status 403");
		break;
	case 500:
		if (unprotected)
			break;
		fz_fail(q, r, "status 500 for a request the server can answer");
		break;
	default:
		fz_fail(q, r, "status %d", r->status);
	}
	if (r->ctype == NULL) {
		/* Only the empty 200 of /revoke and the redirects lack one. */
		if (r->body_len != 0)
			fz_fail(q, r, "a body without Content-Type");
		if (!(r->status == 200 && strcmp(path, "/revoke") == 0) &&
		    r->status != 302)
			fz_fail(q, r, "status %d without a body", r->status);
	} else if (fz_is(r->ctype, r->ctype_len, FZ_JWT_TYPE)) {
		if (r->status != 200 || strcmp(path, "/introspect") != 0 ||
		    !fz_is(r->cache, r->cache_len, "no-store") ||
		    !fz_jws(r->body, r->body_len))
			fz_fail(q, r, "a signed answer off contract");
	} else {
		if (!fz_is(r->ctype, r->ctype_len, "application/json"))
			fz_fail(q, r, "Content-Type is not application/json");
		r->json = cJSON_ParseWithLength(r->body, r->body_len);
		if (!cJSON_IsObject(r->json))
			fz_fail(q, r, "the body is not a JSON object");
	}
	if (r->status >= 400) {
		err = cJSON_GetObjectItemCaseSensitive(r->json, "error");
		desc = cJSON_GetObjectItemCaseSensitive(r->json,
		    "error_description");
		if (!cJSON_IsString(err) || !cJSON_IsString(desc) ||
		    desc->valuestring[0] == '\0' ||
		    cJSON_GetArraySize(r->json) != 2)
			fz_fail(q, r, "an error without error and description");
		if (!fz_error_status_ok(err->valuestring, r->status))
			fz_fail(q, r, "error %s with status %d",
			    err->valuestring, r->status);
		/* The one 500 allowed must say what the operator must fix. */
		if (r->status == 500 &&
		    strstr(desc->valuestring, "REMOTE_USER") == NULL)
			fz_fail(q, r, "status 500 for a request the server "
				      "can answer");
		if (!fz_is(r->cache, r->cache_len, "no-store"))
			fz_fail(q, r, "an error without no-store");
		fz_check_secrets(q, r, r->body, r->body_len, 1);
	}
	if (r->status == 405 && r->allow == NULL)
		fz_fail(q, r, "405 without Allow");
	if (r->status == 302) {
		if (strcmp(path, "/authorize") != 0 || r->location == NULL)
			fz_fail(q, r, "a redirect that is not /authorize's");
		if (!((r->location_len > strlen(FZ_REDIRECT) &&
			  memcmp(r->location, FZ_REDIRECT "?",
			      strlen(FZ_REDIRECT) + 1) == 0) ||
			(r->location_len > strlen(FZ_REDIRECT_QUERY) &&
			    memcmp(r->location, FZ_REDIRECT_QUERY "&",
				strlen(FZ_REDIRECT_QUERY) + 1) == 0)))
			fz_fail(q, r, "a redirect to an unregistered URI");
	}
	/*
	 * RFC 6749 §5.2: a client that tried Basic authentication gets a
	 * challenge with its 401; so does a Bearer token where one is taken,
	 * at /introspect (RFC 7662 §2.1) and /userinfo (RFC 6750 §3).  Other
	 * schemes authenticate no client.
	 */
	if (r->status == 401 && r->www == NULL &&
	    (fz_scheme(auth, "Basic") || (fz_scheme(auth, "Bearer") &&
	    (strcmp(path, "/introspect") == 0 ||
	    strcmp(path, "/userinfo") == 0))))
		fz_fail(q, r, "401 to the Authorization header without "
			      "WWW-Authenticate");
	if (r->status == 200 && strcmp(path, "/token") == 0) {
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(r->json,
		    "access_token");
		const cJSON *tt = cJSON_GetObjectItemCaseSensitive(r->json,
		    "token_type");

		if (!cJSON_IsString(at) || !cJSON_IsString(tt) ||
		    strcmp(tt->valuestring, "Bearer") != 0 ||
		    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r->json,
			"expires_in")) ||
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r->json,
			"scope")))
			fz_fail(q, r, "a token response without its members");
		if (!fz_is(r->cache, r->cache_len, "no-store") ||
		    !fz_is(r->pragma, r->pragma_len, "no-cache"))
			fz_fail(q, r, "a token response that may be cached");
	}
	if (r->status == 200 && strcmp(path, "/jwks") == 0) {
		const cJSON *keys = cJSON_GetObjectItemCaseSensitive(r->json,
		    "keys"), *key;

		if (!cJSON_IsArray(keys))
			fz_fail(q, r, "a JWK Set without keys");
		/* RFC 7518 §6.3.2: "d" and the CRT members are private. */
		cJSON_ArrayForEach(key, keys) {
			if (cJSON_HasObjectItem(key, "d") ||
			    cJSON_HasObjectItem(key, "p"))
				fz_fail(q, r, "a private key member in /jwks");
		}
	}
	if (r->status == 200 && strcmp(path, "/introspect") == 0 &&
	    r->json != NULL) {
		const cJSON *active = cJSON_GetObjectItemCaseSensitive(r->json,
		    "active");

		if (!fz_is(r->cache, r->cache_len, "no-store"))
			fz_fail(q, r, "an introspection that may be cached");
		if (cJSON_IsFalse(active) ? !fz_is(r->body, r->body_len,
						"{\"active\":false}")
					  : !cJSON_IsTrue(active) ||
			!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
			    r->json, "client_id")) ||
			!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
			    r->json, "iss")))
			fz_fail(q, r, "an introspection answer off contract");
	}
}

/* Remembers token s of kind k as the newest of its ring. */
static void
fz_ring_add(enum fz_kind k, const char *s)
{
	struct fz_ring *ring = &fz.rings[k];
	size_t len = strlen(s);

	if (len == 0 || len > TOKEN_PRESENTED_MAX)
		return;
	memcpy(ring->s[ring->next], s, len + 1);
	ring->next = (ring->next + 1) % FZ_RING;
	if (ring->count < FZ_RING)
		ring->count++;
}

/* Keeps the tokens and the code r hands out, for later requests. */
static void
fz_harvest(const struct fz_resp *r)
{
	const cJSON *item;
	struct params params;
	const char *qm, *code;
	char *location;

	if (r->status == 200 && r->json != NULL) {
		item = cJSON_GetObjectItemCaseSensitive(r->json,
		    "access_token");
		if (cJSON_IsString(item))
			fz_ring_add(FZ_KIND_ACCESS, item->valuestring);
		item = cJSON_GetObjectItemCaseSensitive(r->json,
		    "refresh_token");
		if (cJSON_IsString(item))
			fz_ring_add(FZ_KIND_REFRESH, item->valuestring);
	}
	if (r->status != 302 || r->location == NULL)
		return;
	if ((location = malloc(r->location_len + 1)) == NULL)
		fz_fail(NULL, NULL, "out of memory");
	memcpy(location, r->location, r->location_len);
	location[r->location_len] = '\0';
	if ((qm = strchr(location, '?')) != NULL &&
	    params_parse_query(qm + 1, &params, NULL) == OAUTH_OK) {
		if ((code = params_get(&params, "code")) != NULL)
			fz_ring_add(FZ_KIND_CODE, code);
		params_free(&params);
	}
	free(location);
}

/*
 * Shows one exchange on standard error, for whoever writes seeds: the
 * method and path, the query, the body and the whole response.
 */
static void
fz_show(const struct fz_req *q, const struct fz_resp *r)
{
	fprintf(stderr, "> %s %s?%s\n> %.*s\n%.*s\n\n",
	    q->vars[FZ_VAR_METHOD] != NULL ? q->vars[FZ_VAR_METHOD] : "(unset)",
	    q->vars[FZ_VAR_PATH] != NULL ? q->vars[FZ_VAR_PATH] : "(unset)",
	    q->vars[FZ_VAR_QUERY] != NULL ? q->vars[FZ_VAR_QUERY] : "",
	    (int)(q->body.len < FZ_SHOWN_MAX ? q->body.len : FZ_SHOWN_MAX),
	    q->body.data != NULL ? q->body.data : "",
	    (int)(r->raw.len < FZ_SHOWN_MAX ? r->raw.len : FZ_SHOWN_MAX),
	    r->raw.data != NULL ? r->raw.data : "");
}

/*
 * Serves q through fcgi_serve into r, with the log lines of the request
 * captured where the C library lets stderr be replaced, and checks them:
 * no secret, no token of this input.
 */
static void
fz_serve(struct fz_req *q, struct fz_resp *r)
{
	struct handler_env env;
	struct fcgi_source src = {fz_getparam, fz_read, q, NULL, NULL};
	struct fcgi_sink sink = {fz_write, r};
#ifdef __GLIBC__
	FILE *saved = stderr, *log;
	char *logged = NULL;
	size_t logged_len = 0;
#endif

	memset(&env, 0, sizeof(env));
	env.config = q->derived ? &fz.derived : &fz.fixed;
	env.store = fz.store;
	env.now = fz_clock;
	env.random = fz_random;
	env.secret_cache = fz.cache;
	env.signing = fz.signing;
#ifdef __GLIBC__
	if ((log = open_memstream(&logged, &logged_len)) != NULL)
		stderr = log;
#endif
	(void)fcgi_serve(&env, &src, &sink);
#ifdef __GLIBC__
	if (log != NULL) {
		stderr = saved;
		fclose(log);
	}
#endif
	if (fz.trace)
		fz_show(q, r);
	fz_check(q, r);
	fz_harvest(r);
#ifdef __GLIBC__
	if (logged != NULL) {
		/* The log names the client a request claimed to be. */
		fz_mask(logged, logged_len, "client_id=\"", "\"");
		fz_check_secrets(q, r, logged, logged_len, 1);
		free(logged);
	}
#endif
}

/* Releases what fz_build allocated for q. */
static void
fz_req_free(struct fz_req *q)
{
	size_t i;

	for (i = 0; i < FZ_VAR__MAX; i++)
		buf_free(&q->own[i]);
	buf_free(&q->body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	struct fz_req q;
	struct fz_resp r;
	int n;

	if (!fz.ready)
		fz_init();
	memset(fz.rings, 0, sizeof(fz.rings));
	for (n = 0; n < FZ_REQUESTS_MAX && (n == 0 || in.left > 0); n++) {
		memset(&q, 0, sizeof(q));
		memset(&r, 0, sizeof(r));
		fz_build(&in, &q);
		fz_serve(&q, &r);
		cJSON_Delete(r.json);
		buf_free(&r.raw);
		fz_req_free(&q);
	}
	fz_purge();
	return 0;
}
