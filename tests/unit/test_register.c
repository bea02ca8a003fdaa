/*
 * register.c: dynamic client registration (RFC 7591) and its management
 * (RFC 7592) through handler_dispatch.  The three modes of
 * OAUTH_REGISTRATION, the initial and the registration access tokens,
 * strict metadata, the open mode's limits on who and where, clients of
 * keys and of certificates, and what the store holds after every answer,
 * refusals included.
 */
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "handler_fixture.h"
#include "jws_fixture.h"

#define RG_INITIAL "initial-access-token-0123456789abcdefghij"
#define RG_JSON "application/json"
#define RG_LOOPBACK "http://127.0.0.1:8123/cb"
#define RG_CHOSEN "chosen-secret-0123456789abcdef0123"

/* One redirect URI, as most bodies carry it. */
#define RG_URIS "\"redirect_uris\":[\"" FX_REDIRECT "\"]"
/* A confidential client of every grant, scope "read". */
#define RG_CONF_BODY                                                          \
	"{" RG_URIS ",\"grant_types\":[\"authorization_code\","               \
	"\"refresh_token\",\"client_credentials\"],\"scope\":\"read\","      \
	"\"client_name\":\"ignored here\"}"
/* A public client on loopback, as a native app registers (RFC 8252). */
#define RG_PUB_BODY                                                           \
	"{\"redirect_uris\":[\"" RG_LOOPBACK "\"],"                           \
	"\"token_endpoint_auth_method\":\"none\"}"
#define RG_NONE "\"token_endpoint_auth_method\":\"none\""

/* What OAUTH_REGISTRATION_SCOPES holds in these tests. */
static char rg_scopes[] = "read write";

/* What a successful registration handed out. */
struct rg_reg {
	char id[CLIENT_ID_MAX + 1];
	char path[sizeof("/register/") + CLIENT_ID_MAX];
	char secret[TOKEN_PRESENTED_MAX + 1];	/* "": a public client */
	char access[TOKEN_PRESENTED_MAX + 1];
};

/* A row of a table: a body POSTed to /register and the answer. */
struct rg_case {
	int line;
	const char *body;
	int status;		/* 201, or 400 with error */
	const char *error;
};

static int
rg_setup_mode(void **state, enum config_registration mode, size_t map)
{
	struct fx *f;

	if (fx_setup_map(state, map) != 0)
		return -1;
	f = *state;
	f->config.registration = mode;
	f->config.registration_scopes = rg_scopes;
	if (crypto_sha256(RG_INITIAL, strlen(RG_INITIAL),
	    f->config.registration_hash) == -1)
		return -1;
	return 0;
}

static int
rg_setup_off(void **state)
{
	return rg_setup_mode(state, CONFIG_REGISTRATION_OFF, FX_MAP_DEFAULT);
}

static int
rg_setup_token(void **state)
{
	return rg_setup_mode(state, CONFIG_REGISTRATION_TOKEN, FX_MAP_DEFAULT);
}

static int
rg_setup_open(void **state)
{
	return rg_setup_mode(state, CONFIG_REGISTRATION_OPEN, FX_MAP_DEFAULT);
}

static int
rg_setup_token_tiny(void **state)
{
	return rg_setup_mode(state, CONFIG_REGISTRATION_TOKEN, FX_MAP_TINY);
}

/*
 * Sends method path with "Authorization: Bearer token" when token is set,
 * and body as JSON when it is set.
 */
static void
rg_call(struct fx *f, const char *method, const char *path,
    const char *token, const char *body, struct fx_resp *out)
{
	char authorization[FX_HEADER_MAX];
	struct fx_req q = {0};

	q.method = method;
	q.path = path;
	if (token != NULL) {
		assert_true((size_t)snprintf(authorization,
		    sizeof(authorization), "Bearer %s", token) <
		    sizeof(authorization));
		q.authorization = authorization;
	}
	if (body != NULL) {
		q.content_type = RG_JSON;
		q.body = body;
	}
	fx_run(f, &q, out);
}

/* How many clients the store holds. */
static enum store_each
rg_count_one(const struct client *c, void *arg)
{
	(void)c;
	(*(size_t *)arg)++;
	return STORE_EACH_NEXT;
}

static size_t
rg_client_count(struct fx *f)
{
	struct store_txn *txn;
	size_t n = 0;

	assert_int_equal(store_txn_begin(f->store, 0, &txn), STORE_OK);
	assert_int_equal(store_client_foreach(txn, rg_count_one, &n),
	    STORE_OK);
	store_txn_abort(txn);
	return n;
}

/* Reads the client id into *c (client_free); returns the store status. */
static enum store_status
rg_client_get(struct fx *f, const char *id, struct client *c)
{
	struct store_txn *txn;
	enum store_status st;

	assert_int_equal(store_txn_begin(f->store, 0, &txn), STORE_OK);
	st = store_client_get(txn, id, c);
	store_txn_abort(txn);
	return st;
}

/* The stored record of client id, as its bytes, into out (buf_free). */
static void
rg_record(struct fx *f, const char *id, struct buf *out)
{
	struct client c;

	memset(out, 0, sizeof(*out));
	assert_int_equal(rg_client_get(f, id, &c), STORE_OK);
	assert_int_equal(store_record_client_encode(&c, out), STORE_OK);
	client_free(&c);
}

/* Fails unless the record of id is still the bytes of before. */
static void
rg_check_unchanged(int line, struct fx *f, const char *id,
    const struct buf *before)
{
	struct buf now;

	rg_record(f, id, &now);
	if (now.len != before->len ||
	    memcmp(now.data, before->data, now.len) != 0)
		fail_msg("line %d: the record of %s changed", line, id);
	buf_free(&now);
}

/*
 * Checks that out is a 201 with a client's credentials and copies them to
 * reg.  A confidential client has a secret that does not expire.
 */
static void
rg_check_created(int line, const struct fx_resp *out, struct rg_reg *reg)
{
	const char *id = fx_str(out, "client_id");
	const char *secret = fx_str(out, "client_secret");
	const char *access = fx_str(out, "registration_access_token");

	fx_check_status(line, out, 201);
	if (out->r.content_type == NULL ||
	    strcmp(out->r.content_type, RG_JSON) != 0 || !out->r.no_store)
		fail_msg("line %d: headers of a registration", line);
	/* Who registered chooses nothing of the id: a prefix and 16 bytes. */
	if (id == NULL || strlen(id) != 4 + 22 ||
	    strncmp(id, "dyn-", 4) != 0 || !fx_b64url(id + 4, 22))
		fail_msg("line %d: client_id in %s", line, out->r.body.data);
	if (access == NULL || strlen(access) != 43 || !fx_b64url(access, 43))
		fail_msg("line %d: registration_access_token in %s", line,
		    out->r.body.data);
	memset(reg, 0, sizeof(*reg));
	memcpy(reg->id, id, strlen(id) + 1);
	(void)snprintf(reg->path, sizeof(reg->path), "/register/%s", id);
	memcpy(reg->access, access, strlen(access) + 1);
	if (secret != NULL) {
		/* RFC 7591 §3.2.1: client_secret_expires_at with a secret. */
		if (strlen(secret) != 43 || !fx_b64url(secret, 43) ||
		    fx_num(out, "client_secret_expires_at") != 0)
			fail_msg("line %d: client_secret in %s", line,
			    out->r.body.data);
		memcpy(reg->secret, secret, strlen(secret) + 1);
	} else if (cJSON_GetObjectItemCaseSensitive(out->json,
	    "client_secret_expires_at") != NULL)
		fail_msg("line %d: an expiry of no secret", line);
}

/* POSTs body to /register with token; it must register, into reg. */
static void
rg_register(int line, struct fx *f, const char *token, const char *body,
    struct rg_reg *reg)
{
	struct fx_resp out;

	rg_call(f, "POST", "/register", token, body, &out);
	rg_check_created(line, &out, reg);
	fx_resp_free(&out);
}

/*
 * Fails unless out is the 401 of a token that is not the right one; of a
 * request that sent none (sent 0), whose challenge names no error (RFC
 * 6750 §3.1).
 */
static void
rg_check_unauthorized(int line, const struct fx_resp *out, int sent)
{
	fx_check_error(line, out, 401, "invalid_token");
	if (out->r.www_authenticate == NULL ||
	    strcmp(out->r.www_authenticate, sent ?
	    "Bearer error=\"invalid_token\"" : "Bearer") != 0)
		fail_msg("line %d: WWW-Authenticate %s", line,
		    out->r.www_authenticate != NULL ? out->r.www_authenticate :
		    "(none)");
}

/* rg_check_unauthorized of a request that sent a token. */
static void
rg_check_invalid_token(int line, const struct fx_resp *out)
{
	rg_check_unauthorized(line, out, 1);
}

/*
 * Runs the rows of cases against POST /register with token: each is
 * registered or refused as the row says, and a refusal stores nothing.
 */
static void
rg_check_cases(struct fx *f, const char *token, const struct rg_case *cases,
    size_t n)
{
	struct rg_reg reg;
	struct fx_resp out;
	size_t i, before;

	for (i = 0; i < n; i++) {
		before = rg_client_count(f);
		rg_call(f, "POST", "/register", token, cases[i].body, &out);
		if (cases[i].status == 201) {
			rg_check_created(cases[i].line, &out, &reg);
			if (rg_client_count(f) != before + 1)
				fail_msg("line %d: not stored", cases[i].line);
		} else {
			fx_check_error(cases[i].line, &out, cases[i].status,
			    cases[i].error);
			if (rg_client_count(f) != before)
				fail_msg("line %d: a refusal stored a client",
				    cases[i].line);
		}
		fx_resp_free(&out);
	}
}

/*
 * Fails unless the member name of out is an array of exactly the strings
 * of want (NULL-terminated), each once, in any order.
 */
static void
rg_check_list(int line, const struct fx_resp *out, const char *name,
    const char *const *want)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(out->json, name);
	const cJSON *item;
	size_t n, seen;

	if (!cJSON_IsArray(a))
		fail_msg("line %d: no array %s in %s", line, name,
		    out->r.body.data);
	for (n = 0; want[n] != NULL; n++) {
		seen = 0;
		cJSON_ArrayForEach(item, a)
			if (cJSON_IsString(item) &&
			    strcmp(item->valuestring, want[n]) == 0)
				seen++;
		if (seen != 1)
			fail_msg("line %d: %s has \"%s\" %zu times: %s", line,
			    name, want[n], seen, out->r.body.data);
	}
	if ((size_t)cJSON_GetArraySize(a) != n)
		fail_msg("line %d: %s is not what was registered: %s", line,
		    name, out->r.body.data);
}

/* Fails unless the string member name of out is want. */
static void
rg_check_str(int line, const struct fx_resp *out, const char *name,
    const char *want)
{
	const char *got = fx_str(out, name);

	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("line %d: %s is not \"%s\": %s", line, name, want,
		    out->r.body.data);
}

/*
 * A client_credentials request for id with client_secret_basic, scope when
 * set; the answer is left in out.
 */
static void
rg_cc_basic(struct fx *f, const char *id, const char *secret,
    const char *scope, struct fx_resp *out)
{
	char pair[CLIENT_ID_MAX + TOKEN_PRESENTED_MAX + 2];
	char authorization[FX_HEADER_MAX];

	assert_true((size_t)snprintf(pair, sizeof(pair), "%s:%s", id, secret) <
	    sizeof(pair));
	fx_postf(f, "/token", fx_basic(authorization, pair), out,
	    "grant_type=client_credentials%s%s", scope != NULL ? "&scope=" : "",
	    scope != NULL ? scope : "");
}

/* 1 when the n bytes of needle are anywhere in the store's data file. */
static int
rg_db_holds(struct fx *f, const char *needle)
{
	char path[sizeof(f->dir) + sizeof("/data.mdb")];
	size_t n = strlen(needle), len = 0, i;
	char *data = NULL, *grown;
	char chunk[65536];
	size_t got;
	FILE *fp;
	int found = 0;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/data.mdb",
	    f->dir) < sizeof(path));
	if ((fp = fopen(path, "rb")) == NULL)
		fail_msg("no %s", path);
	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		assert_non_null(grown = realloc(data, len + got));
		data = grown;
		memcpy(data + len, chunk, got);
		len += got;
	}
	fclose(fp);
	assert_true(len > 0);
	for (i = 0; !found && n <= len && i <= len - n; i++)
		found = data[i] == needle[0] && memcmp(data + i, needle, n) == 0;
	free(data);
	return found;
}

/* Registration is off unless configured: refused, and not advertised. */
static void
test_off_by_default(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;
	struct rg_reg reg;
	size_t before = rg_client_count(f);

	/* A configuration that says nothing says off. */
	assert_int_equal(CONFIG_REGISTRATION_OFF, 0);
	rg_call(f, "POST", "/register", RG_INITIAL, RG_CONF_BODY, &out);
	fx_assert_error(&out, 404, "invalid_request");
	fx_resp_free(&out);
	rg_call(f, "POST", "/register", NULL, RG_PUB_BODY, &out);
	fx_assert_error(&out, 404, "invalid_request");
	fx_resp_free(&out);
	assert_int_equal(rg_client_count(f), before);

	rg_call(f, "GET", "/.well-known/oauth-authorization-server", NULL,
	    NULL, &out);
	fx_assert_status(&out, 200);
	assert_null(cJSON_GetObjectItemCaseSensitive(out.json,
	    "registration_endpoint"));
	fx_resp_free(&out);

	/* Turned off again, a registered client cannot be managed either. */
	f->config.registration = CONFIG_REGISTRATION_TOKEN;
	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &reg);
	f->config.registration = CONFIG_REGISTRATION_OFF;
	rg_call(f, "GET", reg.path, reg.access, NULL, &out);
	fx_assert_error(&out, 404, "invalid_request");
	fx_resp_free(&out);
	rg_call(f, "DELETE", reg.path, reg.access, NULL, &out);
	fx_assert_error(&out, 404, "invalid_request");
	fx_resp_free(&out);
	assert_int_equal(rg_client_count(f), before + 1);
}

/* RFC 8414 §2: registration_endpoint exactly when registration is on. */
static void
test_metadata_endpoint(void **state)
{
	static const enum config_registration modes[] = {
		CONFIG_REGISTRATION_TOKEN, CONFIG_REGISTRATION_OPEN
	};
	struct fx *f = *state;
	struct fx_resp out;
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		f->config.registration = modes[i];
		rg_call(f, "GET", "/.well-known/oauth-authorization-server",
		    NULL, NULL, &out);
		fx_assert_status(&out, 200);
		rg_check_str(__LINE__, &out, "registration_endpoint",
		    FX_ISSUER "/register");
		fx_resp_free(&out);
	}
}

/* The routes: POST /register; GET, PUT, DELETE /register/ID. */
static void
test_routes(void **state)
{
	static const struct {
		int line;
		const char *method;
		const char *path;
		int status;
		const char *allow;
	} cases[] = {
		{__LINE__, "GET", "/register", 405, "POST"},
		{__LINE__, "PUT", "/register", 405, "POST"},
		{__LINE__, "DELETE", "/register", 405, "POST"},
		{__LINE__, "POST", "/register/" FX_CONF, 405,
		    "GET, PUT, DELETE"},
		{__LINE__, "PATCH", "/register/" FX_CONF, 405,
		    "GET, PUT, DELETE"},
		/* No id: no client's URL. */
		{__LINE__, "GET", "/register/", 404, NULL},
		{__LINE__, "POST", "/registerx", 404, NULL},
	};
	struct fx *f = *state;
	struct fx_resp out;
	size_t i, before = rg_client_count(f);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rg_call(f, cases[i].method, cases[i].path, RG_INITIAL,
		    RG_CONF_BODY, &out);
		fx_check_error(cases[i].line, &out, cases[i].status,
		    "invalid_request");
		if (cases[i].allow != NULL && (out.r.allow == NULL ||
		    strcmp(out.r.allow, cases[i].allow) != 0))
			fail_msg("line %d: Allow %s", cases[i].line,
			    out.r.allow != NULL ? out.r.allow : "(none)");
		fx_resp_free(&out);
	}
	assert_int_equal(rg_client_count(f), before);
}

/*
 * Mode token (RFC 7591 §3): without the initial access token, or with
 * anything else, 401 invalid_token and nothing stored; checked before the
 * body is looked at.
 */
static void
test_initial_token_refused(void **state)
{
	static const struct {
		int line;
		const char *authorization;
		const char *content_type;
	} cases[] = {
		{__LINE__, NULL, RG_JSON},
		{__LINE__, "Bearer wrong-token", RG_JSON},
		{__LINE__, "Bearer " RG_INITIAL "x", RG_JSON},
		{__LINE__, "Bearer initial-access-token", RG_JSON},
		{__LINE__, "Bearer", RG_JSON},
		{__LINE__, "Bearer ", RG_JSON},
		/* Not a b64token (RFC 6750 §2.1). */
		{__LINE__, "Bearer " RG_INITIAL "!", RG_JSON},
		{__LINE__, "Bearer \"" RG_INITIAL "\"", RG_JSON},
		/* The right token in another scheme. */
		{__LINE__, "Basic " RG_INITIAL, RG_JSON},
		{__LINE__, "DPoP " RG_INITIAL, RG_JSON},
		{__LINE__, RG_INITIAL, RG_JSON},
		/* The hash itself is not the token. */
		{__LINE__, "Bearer 0000000000000000000000000000000000000000000"
		    "000000000000000000000", RG_JSON},
		/* Authentication comes first: a bad body is not looked at. */
		{__LINE__, NULL, "text/plain"},
		{__LINE__, "Bearer wrong-token", NULL},
	};
	char hex[2 * TOKEN_HASH_LEN + sizeof("Bearer ")];
	struct fx *f = *state;
	struct fx_resp out;
	size_t i, j, before = rg_client_count(f);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx_run(f, &(const struct fx_req){.method = "POST",
		    .path = "/register", .content_type = cases[i].content_type,
		    .authorization = cases[i].authorization,
		    .body = RG_CONF_BODY}, &out);
		rg_check_unauthorized(cases[i].line, &out,
		    cases[i].authorization != NULL &&
		    cases[i].authorization[0] != '\0');
		fx_resp_free(&out);
	}
	/* OAUTH_REGISTRATION_TOKEN_SHA256 as configured, presented. */
	memcpy(hex, "Bearer ", 7);
	for (j = 0; j < TOKEN_HASH_LEN; j++)
		(void)snprintf(hex + 7 + 2 * j, 3, "%02x",
		    f->config.registration_hash[j]);
	fx_run(f, &(const struct fx_req){.method = "POST", .path = "/register",
	    .content_type = RG_JSON, .authorization = hex,
	    .body = RG_CONF_BODY}, &out);
	rg_check_invalid_token(__LINE__, &out);
	fx_resp_free(&out);
	assert_int_equal(rg_client_count(f), before);

	/* RFC 9110 §11.1: the scheme is case-insensitive. */
	fx_run(f, &(const struct fx_req){.method = "POST", .path = "/register",
	    .content_type = RG_JSON, .authorization = "bearer " RG_INITIAL,
	    .body = RG_CONF_BODY}, &out);
	fx_assert_status(&out, 201);
	fx_resp_free(&out);
	assert_int_equal(rg_client_count(f), before + 1);
}

/*
 * Mode token, a confidential client: 201 with its credentials and its
 * metadata (RFC 7591 §3.2.1, RFC 7592 §3); it then gets tokens with its
 * secret, and the store keeps neither the secret nor the registration
 * access token, only their hashes.
 */
static void
test_token_confidential(void **state)
{
	static const char *const grants[] = {"authorization_code",
	    "refresh_token", "client_credentials", NULL};
	static const char *const code[] = {"code", NULL};
	static const char *const uris[] = {FX_REDIRECT, NULL};
	unsigned char hash[TOKEN_HASH_LEN];
	struct fx *f = *state;
	struct fx_resp out;
	struct rg_reg reg, again;
	struct client c;
	size_t before = rg_client_count(f);

	f->now = UNIT_NOW + 4242;
	rg_call(f, "POST", "/register", RG_INITIAL, RG_CONF_BODY, &out);
	rg_check_created(__LINE__, &out, &reg);
	assert_true(reg.secret[0] != '\0');
	assert_true(fx_num(&out, "client_id_issued_at") == (double)f->now);
	rg_check_str(__LINE__, &out, "token_endpoint_auth_method",
	    "client_secret_basic");
	rg_check_list(__LINE__, &out, "grant_types", grants);
	rg_check_list(__LINE__, &out, "response_types", code);
	rg_check_list(__LINE__, &out, "redirect_uris", uris);
	rg_check_str(__LINE__, &out, "scope", "read");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(out.json,
	    "dpop_bound_access_tokens")));
	{
		char uri[sizeof(FX_ISSUER) + sizeof(reg.path)];

		(void)snprintf(uri, sizeof(uri), FX_ISSUER "%s", reg.path);
		rg_check_str(__LINE__, &out, "registration_client_uri", uri);
	}
	/* Metadata it did not understand is not echoed (RFC 7591 §2). */
	assert_null(cJSON_GetObjectItemCaseSensitive(out.json, "client_name"));
	assert_int_equal(fx_members(&out), 12);
	fx_resp_free(&out);
	assert_int_equal(rg_client_count(f), before + 1);

	/* The registered client at /token, client_secret_basic. */
	rg_cc_basic(f, reg.id, reg.secret, NULL, &out);
	fx_assert_status(&out, 200);
	rg_check_str(__LINE__, &out, "scope", "read");
	fx_resp_free(&out);
	rg_cc_basic(f, reg.id, "wrong-secret", NULL, &out);
	fx_assert_error(&out, 401, "invalid_client");
	fx_resp_free(&out);
	/* The registration access token is no access token. */
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, reg.access), 0);

	/* The record: what was asked, hashes only. */
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_false(c.is_public);
	assert_int_equal(c.grant_types, GRANT_ALL);
	assert_string_equal(c.scope, "read");
	assert_int_equal(c.redirect_uri_count, 1);
	assert_string_equal(c.redirect_uris[0], FX_REDIRECT);
	assert_true(c.created_at == f->now);
	assert_true(c.has_registration);
	assert_int_equal(crypto_sha256(reg.access, strlen(reg.access), hash),
	    0);
	assert_memory_equal(c.registration_hash, hash, TOKEN_HASH_LEN);
	assert_false(c.may_introspect);
	assert_null(c.audience);
	client_free(&c);
	assert_false(rg_db_holds(f, reg.access));
	assert_false(rg_db_holds(f, reg.secret));
	assert_true(rg_db_holds(f, reg.id));

	/* Each registration is a client of its own, with its own secrets. */
	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &again);
	assert_string_not_equal(again.id, reg.id);
	assert_string_not_equal(again.secret, reg.secret);
	assert_string_not_equal(again.access, reg.access);
	assert_int_equal(rg_client_count(f), before + 2);
}

/*
 * Mode token, public clients: no secret; a native app's private-use scheme
 * (RFC 8252 §7.1) and loopback registered; the client then runs the code
 * flow with PKCE and no secret.
 */
static void
test_token_public(void **state)
{
	static const char *const uris[] = {"com.example.app:/cb", RG_LOOPBACK,
	    NULL};
	struct fx *f = *state;
	struct fx_resp out;
	struct fx_tokens t;
	struct rg_reg reg;
	struct client c;

	rg_call(f, "POST", "/register", RG_INITIAL, "{\"redirect_uris\":["
	    "\"com.example.app:/cb\",\"" RG_LOOPBACK "\"]," RG_NONE "}", &out);
	rg_check_created(__LINE__, &out, &reg);
	assert_null(fx_str(&out, "client_secret"));
	rg_check_str(__LINE__, &out, "token_endpoint_auth_method", "none");
	rg_check_list(__LINE__, &out, "redirect_uris", uris);
	fx_resp_free(&out);
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_true(c.is_public);
	assert_int_equal(c.grant_types, GRANT_AUTHORIZATION_CODE);
	client_free(&c);

	rg_register(__LINE__, f, RG_INITIAL, "{" RG_URIS ",\"grant_types\":["
	    "\"authorization_code\",\"refresh_token\"]," RG_NONE "}", &reg);
	fx_code_flow(f, reg.id, NULL, NULL, &t);
	assert_true(t.refresh[0] != '\0');
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, t.access), 1);
}

/*
 * RFC 7591 §3.2.1: the response says how the client authenticates; the
 * method it names works, whatever was asked for.
 */
static void
test_auth_method_named_works(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;
	struct rg_reg reg;
	const char *method;

	rg_call(f, "POST", "/register", RG_INITIAL, "{\"grant_types\":["
	    "\"client_credentials\"],\"token_endpoint_auth_method\":"
	    "\"client_secret_post\"}", &out);
	rg_check_created(__LINE__, &out, &reg);
	method = fx_str(&out, "token_endpoint_auth_method");
	assert_non_null(method);
	if (strcmp(method, "client_secret_basic") == 0) {
		fx_resp_free(&out);
		rg_cc_basic(f, reg.id, reg.secret, NULL, &out);
	} else {
		assert_string_equal(method, "client_secret_post");
		fx_resp_free(&out);
		fx_postf(f, "/token", NULL, &out, "grant_type=client_credentials"
		    "&client_id=%s&client_secret=%s", reg.id, reg.secret);
	}
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
}

/*
 * RFC 7591 §2: what an omitted member means (authorization_code, code,
 * client_secret_basic), and a scope that is omitted (what registration
 * may give) or repeats itself.
 */
static void
test_defaults(void **state)
{
	static const char *const grants[] = {"authorization_code", NULL};
	static const char *const code[] = {"code", NULL};
	static const char *const none[] = {NULL};
	struct fx *f = *state;
	struct fx_resp out;
	struct rg_reg reg;
	struct client c;

	rg_call(f, "POST", "/register", RG_INITIAL, "{" RG_URIS "}", &out);
	rg_check_created(__LINE__, &out, &reg);
	rg_check_list(__LINE__, &out, "grant_types", grants);
	rg_check_list(__LINE__, &out, "response_types", code);
	rg_check_str(__LINE__, &out, "token_endpoint_auth_method",
	    "client_secret_basic");
	rg_check_str(__LINE__, &out, "scope", "read write");
	assert_true(reg.secret[0] != '\0');
	fx_resp_free(&out);
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_int_equal(c.grant_types, GRANT_AUTHORIZATION_CODE);
	assert_string_equal(c.scope, "read write");
	client_free(&c);

	/* client_credentials alone: no redirect URI, no response type. */
	rg_call(f, "POST", "/register", RG_INITIAL,
	    "{\"grant_types\":[\"client_credentials\"]}", &out);
	rg_check_created(__LINE__, &out, &reg);
	rg_check_list(__LINE__, &out, "redirect_uris", none);
	assert_null(cJSON_GetObjectItemCaseSensitive(out.json,
	    "response_types"));
	fx_resp_free(&out);

	rg_call(f, "POST", "/register", RG_INITIAL,
	    "{" RG_URIS ",\"scope\":\"write read write\"}", &out);
	rg_check_created(__LINE__, &out, &reg);
	rg_check_str(__LINE__, &out, "scope", "write read");
	fx_resp_free(&out);
	rg_call(f, "POST", "/register", RG_INITIAL,
	    "{" RG_URIS ",\"scope\":\"\"}", &out);
	rg_check_created(__LINE__, &out, &reg);
	rg_check_str(__LINE__, &out, "scope", "");
	fx_resp_free(&out);

	/* Without OAUTH_REGISTRATION_SCOPES a registered client gets none. */
	f->config.registration_scopes = NULL;
	rg_call(f, "POST", "/register", RG_INITIAL, "{" RG_URIS "}", &out);
	rg_check_created(__LINE__, &out, &reg);
	rg_check_str(__LINE__, &out, "scope", "");
	fx_resp_free(&out);
	rg_call(f, "POST", "/register", RG_INITIAL,
	    "{" RG_URIS ",\"scope\":\"read\"}", &out);
	fx_assert_error(&out, 400, "invalid_client_metadata");
	fx_resp_free(&out);
}

/*
 * Strict metadata (RFC 7591 §2, §3.2.2): every row is refused with its
 * error, and none stores a client.
 */
static void
test_metadata_refused(void **state)
{
#define ICM "invalid_client_metadata"
#define IRU "invalid_redirect_uri"
	static const struct rg_case cases[] = {
		/* grant_types: an array of the grants this server has. */
		{__LINE__, "{" RG_URIS ",\"grant_types\":[\"password\"]}", 400,
		    ICM},
		{__LINE__, "{" RG_URIS ",\"grant_types\":[\"implicit\"]}", 400,
		    ICM},
		{__LINE__, "{" RG_URIS ",\"grant_types\":[\"urn:ietf:params:"
		    "oauth:grant-type:jwt-bearer\"]}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"grant_types\":"
		    "[\"Authorization_code\"]}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"grant_types\":\"authorization_code\"}",
		    400, ICM},
		{__LINE__, "{" RG_URIS ",\"grant_types\":[]}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"grant_types\":[1]}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"grant_types\":[\"authorization_code\","
		    "null]}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"grant_types\":null}", 400, ICM},
		/* response_types: ["code"], with authorization_code (§2.1). */
		{__LINE__, "{" RG_URIS ",\"response_types\":[\"token\"]}", 400,
		    ICM},
		{__LINE__, "{" RG_URIS ",\"response_types\":[\"code\","
		    "\"token\"]}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"response_types\":[]}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"response_types\":\"code\"}", 400,
		    ICM},
		{__LINE__, "{" RG_URIS ",\"response_types\":[7]}", 400, ICM},
		{__LINE__, "{\"grant_types\":[\"client_credentials\"],"
		    "\"response_types\":[\"code\"]}", 400, ICM},
		/* scope: a valid scope within OAUTH_REGISTRATION_SCOPES. */
		{__LINE__, "{" RG_URIS ",\"scope\":\"admin\"}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"scope\":\"read admin\"}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"scope\":\"READ\"}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"scope\":\"read  write\"}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"scope\":\" read\"}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"scope\":\"read\\twrite\"}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"scope\":5}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"scope\":[\"read\"]}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"scope\":null}", 400, ICM},
		/* token_endpoint_auth_method: none or a secret. */
		{__LINE__, "{" RG_URIS ",\"token_endpoint_auth_method\":"
		    "\"private_key_jwt\"}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"token_endpoint_auth_method\":"
		    "\"client_secret_jwt\"}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"token_endpoint_auth_method\":"
		    "\"tls_client_auth\"}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"token_endpoint_auth_method\":"
		    "\"NONE\"}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"token_endpoint_auth_method\":\"\"}",
		    400, ICM},
		{__LINE__, "{" RG_URIS ",\"token_endpoint_auth_method\":1}", 400,
		    ICM},
		{__LINE__, "{" RG_URIS ",\"token_endpoint_auth_method\":null}",
		    400, ICM},
		/* A public client has nothing to authenticate with. */
		{__LINE__, "{" RG_NONE ",\"grant_types\":"
		    "[\"client_credentials\"]}", 400, ICM},
		{__LINE__, "{" RG_URIS "," RG_NONE ",\"grant_types\":"
		    "[\"authorization_code\",\"client_credentials\"]}", 400, ICM},
		/* dpop_bound_access_tokens: a boolean (RFC 9449 §5.2). */
		{__LINE__, "{" RG_URIS ",\"dpop_bound_access_tokens\":\"true\"}",
		    400, ICM},
		{__LINE__, "{" RG_URIS ",\"dpop_bound_access_tokens\":1}", 400,
		    ICM},
		{__LINE__, "{" RG_URIS ",\"dpop_bound_access_tokens\":null}", 400,
		    ICM},
		/* redirect_uris: absolute, no fragment (RFC 6749 §3.1.2). */
		{__LINE__, "{\"redirect_uris\":\"" FX_REDIRECT "\"}", 400, IRU},
		{__LINE__, "{\"redirect_uris\":{\"a\":\"" FX_REDIRECT "\"}}", 400,
		    IRU},
		{__LINE__, "{\"redirect_uris\":null}", 400, IRU},
		{__LINE__, "{\"redirect_uris\":[1]}", 400, IRU},
		{__LINE__, "{\"redirect_uris\":[null]}", 400, IRU},
		{__LINE__, "{\"redirect_uris\":[[\"" FX_REDIRECT "\"]]}", 400,
		    IRU},
		{__LINE__, "{\"redirect_uris\":[\"/cb\"]}", 400, IRU},
		{__LINE__, "{\"redirect_uris\":[\"cb\"]}", 400, IRU},
		{__LINE__, "{\"redirect_uris\":[\"https:\"]}", 400, IRU},
		{__LINE__, "{\"redirect_uris\":[\"1https://app.example/\"]}", 400,
		    IRU},
		{__LINE__, "{\"redirect_uris\":[\"\"]}", 400, IRU},
		{__LINE__, "{\"redirect_uris\":[\"https://app.example/#x\"]}", 400,
		    IRU},
		{__LINE__, "{\"redirect_uris\":[\"https://app.example/cb#\"]}",
		    400, IRU},
		{__LINE__, "{\"redirect_uris\":[\"https://app.example/c b\"]}",
		    400, IRU},
		{__LINE__, "{\"redirect_uris\":[\"https://app.example/\\t\"]}",
		    400, IRU},
		{__LINE__, "{\"redirect_uris\":[\"https://app.example/caf"
		    "\\u00e9\"]}", 400, IRU},
		{__LINE__, "{\"redirect_uris\":[\"" FX_REDIRECT "\",\"https://b."
		    "example/\",\"" FX_REDIRECT "\"]}", 400, IRU},
		{__LINE__, "{\"redirect_uris\":[\"" FX_REDIRECT "\",\"#\"]}", 400,
		    IRU},
		/* authorization_code needs somewhere to send the code. */
		{__LINE__, "{}", 400, IRU},
		{__LINE__, "{\"redirect_uris\":[]}", 400, IRU},
		{__LINE__, "{\"grant_types\":[\"authorization_code\","
		    "\"client_credentials\"]}", 400, IRU},
		/* The body: one JSON object, strictly (RFC 7591 §3.1). */
		{__LINE__, "", 400, ICM},
		{__LINE__, "[1, 2]", 400, ICM},
		{__LINE__, "\"" FX_REDIRECT "\"", 400, ICM},
		{__LINE__, "null", 400, ICM},
		{__LINE__, "redirect_uris=https%3A%2F%2Fapp.example%2Fcb", 400,
		    ICM},
		{__LINE__, "{" RG_URIS, 400, ICM},
		{__LINE__, "{" RG_URIS "}{}", 400, ICM},
		{__LINE__, "{" RG_URIS ",}", 400, ICM},
		{__LINE__, "{" RG_URIS "," RG_URIS "}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"scope\":\"read\",\"scope\":\"admin\"}",
		    400, ICM},
		{__LINE__, "{" RG_URIS ",\"client_name\":\"a\\u0000b\"}", 400,
		    ICM},
		{__LINE__, "{" RG_URIS ",\"client_name\":\"a\001b\"}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"client_name\":\"\xff\"}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"client_name\":\"\xc3\x28\"}", 400, ICM},
		/* Nesting beyond what metadata has (REGISTER_DEPTH). */
		{__LINE__, "{" RG_URIS ",\"x\":{\"y\":{\"z\":{\"v\":{\"u\":"
		    "{\"w\":1}}}}}}", 400, ICM},
		{__LINE__, "{" RG_URIS ",\"x\":[[[[[1]]]]]}", 400, ICM},
	};
#undef ICM
#undef IRU
	struct fx *f = *state;
	size_t before = rg_client_count(f);

	rg_check_cases(f, RG_INITIAL, cases, sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(rg_client_count(f), before);
}

/*
 * What is not understood is ignored (RFC 7591 §2), and none of it gives a
 * registered client what only the operator gives: the introspect
 * permission, an audience, keys, a certificate.
 */
static void
test_unknown_ignored(void **state)
{
	static const struct rg_case cases[] = {
		{__LINE__, "{" RG_URIS ",\"client_name\":\"x\",\"logo_uri\":5,"
		    "\"contacts\":[\"a@example.org\"],\"software_id\":null}", 201,
		    NULL},
		{__LINE__, "{" RG_URIS ",\"x\":{\"y\":{\"z\":{}}}}", 201, NULL},
		{__LINE__, "{" RG_URIS ",\"x\":[[1]]}", 201, NULL},
		/* redirect_uris with a query (RFC 6749 §3.1.2). */
		{__LINE__, "{\"redirect_uris\":[\"https://app.example/cb?a=b\"]}",
		    201, NULL},
		/* Bodies with blanks around the object. */
		{__LINE__, " \r\n\t{" RG_URIS "}\n", 201, NULL},
	};
	struct fx *f = *state;
	struct fx_resp out;
	struct rg_reg reg;
	struct client c;

	rg_check_cases(f, RG_INITIAL, cases, sizeof(cases) / sizeof(cases[0]));

	rg_call(f, "POST", "/register", RG_INITIAL, "{" RG_URIS ","
	    "\"may_introspect\":true,\"introspect\":true,\"audience\":"
	    "\"https://api.example\",\"client_id\":\"chosen\","
	    "\"client_secret\":\"" RG_CHOSEN "\",\"registration_access_token\":"
	    "\"chosen-token\",\"client_id_issued_at\":5}", &out);
	rg_check_created(__LINE__, &out, &reg);
	assert_string_not_equal(reg.id, "chosen");
	assert_string_not_equal(reg.secret, RG_CHOSEN);
	assert_string_not_equal(reg.access, "chosen-token");
	assert_true(fx_num(&out, "client_id_issued_at") == (double)f->now);
	fx_resp_free(&out);
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_false(c.may_introspect);
	assert_null(c.audience);
	assert_null(c.jwks);
	assert_int_equal(c.tls_auth, CLIENT_TLS_NONE);
	assert_null(c.tls_value);
	assert_int_equal(c.resource_count, 0);
	client_free(&c);
	assert_int_equal(rg_client_get(f, "chosen", &c), STORE_NOTFOUND);
}

/*
 * A body {"redirect_uris":[...]} of n distinct URIs of len bytes each,
 * which the caller frees.
 */
static char *
rg_uris_body(size_t n, size_t len)
{
	size_t size = n * (len + 3) + 64, used, i;
	char *body = malloc(size);
	int w;

	assert_non_null(body);
	used = (size_t)snprintf(body, size, "{\"redirect_uris\":[");
	for (i = 0; i < n; i++) {
		w = snprintf(body + used, size - used, "%s\"https://app.example/"
		    "%03zu", i > 0 ? "," : "", i);
		assert_true(w > 0 && len >= 23);
		used += (size_t)w;
		memset(body + used, 'a', len - 23);
		used += len - 23;
		body[used++] = '"';
	}
	assert_true(used + 3 < size);
	memcpy(body + used, "]}", 3);
	return body;
}

/*
 * The limits: REDIRECT_URIS_MAX URIs of REDIRECT_URI_MAX bytes at most, a
 * scope of SCOPE_MAX bytes, a body of JOSE_JWS_MAX; one past each is
 * refused with nothing stored.
 */
static void
test_metadata_limits(void **state)
{
	struct fx *f = *state;
	size_t before = rg_client_count(f), prefix, i;
	struct rg_reg reg;
	struct fx_resp out;
	char *body;

	body = rg_uris_body(REDIRECT_URIS_MAX, 40);
	rg_register(__LINE__, f, RG_INITIAL, body, &reg);
	free(body);
	body = rg_uris_body(REDIRECT_URIS_MAX + 1, 40);
	rg_call(f, "POST", "/register", RG_INITIAL, body, &out);
	fx_assert_error(&out, 400, "invalid_redirect_uri");
	fx_resp_free(&out);
	free(body);
	assert_int_equal(rg_client_count(f), before + 1);

	body = rg_uris_body(1, REDIRECT_URI_MAX);
	rg_register(__LINE__, f, RG_INITIAL, body, &reg);
	free(body);
	body = rg_uris_body(1, REDIRECT_URI_MAX + 1);
	rg_call(f, "POST", "/register", RG_INITIAL, body, &out);
	fx_assert_error(&out, 400, "invalid_redirect_uri");
	fx_resp_free(&out);
	free(body);
	assert_int_equal(rg_client_count(f), before + 2);

	/* "read" 205 times is SCOPE_MAX bytes; once more is too long. */
	assert_non_null(body = malloc(SCOPE_MAX + 256));
	for (i = 205; i <= 206; i++) {
		size_t used = (size_t)snprintf(body, SCOPE_MAX + 256,
		    "{" RG_URIS ",\"scope\":\"read");
		size_t k;

		for (k = 1; k < i; k++) {
			memcpy(body + used, " read", 5);
			used += 5;
		}
		memcpy(body + used, "\"}", 3);
		rg_call(f, "POST", "/register", RG_INITIAL, body, &out);
		if (i == 205) {
			rg_check_created(__LINE__, &out, &reg);
			rg_check_str(__LINE__, &out, "scope", "read");
		} else
			fx_assert_error(&out, 400, "invalid_client_metadata");
		fx_resp_free(&out);
	}
	free(body);
	assert_int_equal(rg_client_count(f), before + 3);

	/* A body of JOSE_JWS_MAX bytes parses; one more does not. */
	assert_non_null(body = malloc(JOSE_JWS_MAX + 2));
	prefix = (size_t)snprintf(body, JOSE_JWS_MAX, "{" RG_URIS
	    ",\"client_name\":\"");
	for (i = JOSE_JWS_MAX; i <= JOSE_JWS_MAX + 1; i++) {
		memset(body + prefix, 'n', i - prefix - 2);
		memcpy(body + i - 2, "\"}", 3);
		assert_int_equal(strlen(body), i);
		rg_call(f, "POST", "/register", RG_INITIAL, body, &out);
		if (i == JOSE_JWS_MAX)
			rg_check_created(__LINE__, &out, &reg);
		else
			fx_assert_error(&out, 400, "invalid_client_metadata");
		fx_resp_free(&out);
	}
	free(body);
	assert_int_equal(rg_client_count(f), before + 4);
}

/* RFC 7591 §3.1: metadata comes as application/json, and nothing else. */
static void
test_content_type(void **state)
{
	static const struct {
		int line;
		const char *content_type;
		int status;
	} cases[] = {
		{__LINE__, RG_JSON, 201},
		{__LINE__, "application/json; charset=utf-8", 201},
		{__LINE__, "application/json;charset=UTF-8", 201},
		{__LINE__, "Application/JSON", 201},
		{__LINE__, NULL, 400},
		{__LINE__, "", 400},
		{__LINE__, "text/plain", 400},
		{__LINE__, "application/x-www-form-urlencoded", 400},
		{__LINE__, "application/jsonx", 400},
		{__LINE__, "application/json-patch+json", 400},
		{__LINE__, "application/jwt", 400},
		{__LINE__, "application/jso", 400},
	};
	struct fx *f = *state;
	struct fx_resp out;
	size_t i, before;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		before = rg_client_count(f);
		fx_run(f, &(const struct fx_req){.method = "POST",
		    .path = "/register", .content_type = cases[i].content_type,
		    .authorization = "Bearer " RG_INITIAL,
		    .body = "{" RG_URIS "}"}, &out);
		if (cases[i].status == 201) {
			fx_check_status(cases[i].line, &out, 201);
			assert_int_equal(rg_client_count(f), before + 1);
		} else {
			fx_check_error(cases[i].line, &out, 400,
			    "invalid_request");
			assert_int_equal(rg_client_count(f), before);
		}
		fx_resp_free(&out);
	}
}

/*
 * RFC 9449 §5.2: dpop_bound_access_tokens is kept, and then every token
 * request of the client must carry a proof.
 */
static void
test_dpop_bound(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;
	struct rg_reg reg;
	struct client c;

	rg_call(f, "POST", "/register", RG_INITIAL, "{\"grant_types\":["
	    "\"client_credentials\"],\"dpop_bound_access_tokens\":true}", &out);
	rg_check_created(__LINE__, &out, &reg);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out.json,
	    "dpop_bound_access_tokens")));
	fx_resp_free(&out);
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_true(c.dpop_bound);
	client_free(&c);
	rg_cc_basic(f, reg.id, reg.secret, NULL, &out);
	fx_assert_error(&out, 400, "invalid_dpop_proof");
	assert_null(fx_str(&out, "access_token"));
	fx_resp_free(&out);
	assert_int_equal(fx_token_count(f), 0);

	rg_register(__LINE__, f, RG_INITIAL, "{\"grant_types\":["
	    "\"client_credentials\"],\"dpop_bound_access_tokens\":false}", &reg);
	rg_cc_basic(f, reg.id, reg.secret, NULL, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
}

/*
 * Mode open: anyone, without a token, registers a public client; a
 * confidential one, or one that would authenticate, is refused.
 */
static void
test_open_public_only(void **state)
{
#define ICM "invalid_client_metadata"
	static const struct rg_case cases[] = {
		{__LINE__, RG_PUB_BODY, 201, NULL},
		{__LINE__, "{\"redirect_uris\":[\"" RG_LOOPBACK "\"],"
		    "\"token_endpoint_auth_method\":\"client_secret_basic\"}", 400,
		    ICM},
		{__LINE__, "{\"redirect_uris\":[\"" RG_LOOPBACK "\"],"
		    "\"token_endpoint_auth_method\":\"client_secret_post\"}", 400,
		    ICM},
		/* The default method is a secret: confidential, refused. */
		{__LINE__, "{\"redirect_uris\":[\"" RG_LOOPBACK "\"]}", 400, ICM},
		{__LINE__, "{" RG_NONE ",\"grant_types\":"
		    "[\"client_credentials\"]}", 400, ICM},
		{__LINE__, "{\"redirect_uris\":[\"" RG_LOOPBACK "\"]," RG_NONE
		    ",\"scope\":\"admin\"}", 400, ICM},
		{__LINE__, "{\"redirect_uris\":[\"" RG_LOOPBACK "\"]," RG_NONE
		    ",\"grant_types\":[\"password\"]}", 400, ICM},
		{__LINE__, "[]", 400, ICM},
	};
#undef ICM
	struct fx *f = *state;
	struct fx_resp out;
	struct rg_reg reg;
	struct client c;

	rg_check_cases(f, NULL, cases, sizeof(cases) / sizeof(cases[0]));
	/* No token is asked for, so none is checked. */
	rg_call(f, "POST", "/register", "wrong-token", RG_PUB_BODY, &out);
	rg_check_created(__LINE__, &out, &reg);
	assert_null(fx_str(&out, "client_secret"));
	rg_check_str(__LINE__, &out, "token_endpoint_auth_method", "none");
	fx_resp_free(&out);
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_true(c.is_public);
	assert_true(c.has_registration);
	client_free(&c);
	/* Nor does the initial access token open the door wider. */
	rg_call(f, "POST", "/register", RG_INITIAL, RG_CONF_BODY, &out);
	fx_assert_error(&out, 400, "invalid_client_metadata");
	fx_resp_free(&out);
}

/*
 * Mode open, where a code may be sent: loopback http (RFC 8252 §7.3) or
 * https (§7.2), absolute and without a fragment; nothing else.
 */
static void
test_open_redirect_uris(void **state)
{
#define RG_OPEN(uri) "{\"redirect_uris\":[\"" uri "\"]," RG_NONE "}"
#define IRU "invalid_redirect_uri"
	static const struct rg_case cases[] = {
		{__LINE__, RG_OPEN("http://127.0.0.1:8123/cb"), 201, NULL},
		{__LINE__, RG_OPEN("http://127.0.0.1/cb"), 201, NULL},
		{__LINE__, RG_OPEN("http://[::1]:8123/cb"), 201, NULL},
		{__LINE__, RG_OPEN("http://[::1]/cb"), 201, NULL},
		{__LINE__, RG_OPEN("http://127.0.0.1:8123/cb?x=1"), 201, NULL},
		{__LINE__, RG_OPEN("https://app.example/cb"), 201, NULL},
		{__LINE__, RG_OPEN("HTTPS://app.example/cb"), 201, NULL},
		{__LINE__, "{\"redirect_uris\":[\"" RG_LOOPBACK "\",\"https://"
		    "app.example/cb\"]," RG_NONE "}", 201, NULL},
		{__LINE__, RG_OPEN("http://app.example/cb"), 400, IRU},
		/* RFC 8252 §8.3: an address, not the name localhost. */
		{__LINE__, RG_OPEN("http://localhost:8123/cb"), 400, IRU},
		{__LINE__, RG_OPEN("http://127.0.0.2/cb"), 400, IRU},
		{__LINE__, RG_OPEN("http://127.0.0.1.evil.example/cb"), 400, IRU},
		{__LINE__, RG_OPEN("http://[::2]/cb"), 400, IRU},
		{__LINE__, RG_OPEN("http://[::1].evil.example/cb"), 400, IRU},
		{__LINE__, RG_OPEN("ftp://127.0.0.1/cb"), 400, IRU},
		{__LINE__, RG_OPEN("file:///etc/passwd"), 400, IRU},
		{__LINE__, RG_OPEN("com.example.app:/cb"), 400, IRU},
		{__LINE__, RG_OPEN("javascript:alert(1)"), 400, IRU},
		{__LINE__, RG_OPEN("data:text/html,x"), 400, IRU},
		{__LINE__, RG_OPEN("https://"), 400, IRU},
		{__LINE__, RG_OPEN("https:///cb"), 400, IRU},
		{__LINE__, RG_OPEN("https://app.example/cb#x"), 400, IRU},
		{__LINE__, RG_OPEN("http://127.0.0.1:8123/cb#x"), 400, IRU},
		/* One bad URI spoils the lot. */
		{__LINE__, "{\"redirect_uris\":[\"" RG_LOOPBACK "\",\"http://"
		    "app.example/cb\"]," RG_NONE "}", 400, IRU},
	};
	struct fx *f = *state;

	rg_check_cases(f, NULL, cases, sizeof(cases) / sizeof(cases[0]));
}

/*
 * Mode open: after the loopback prefix comes a port, not a userinfo
 * (RFC 3986 §3.2.1), which would make the host something else: the code
 * would go over plain http to another machine.
 */
static void
test_open_loopback_userinfo(void **state)
{
	static const struct rg_case cases[] = {
		{__LINE__, RG_OPEN("http://127.0.0.1:8080@evil.example/cb"), 400,
		    IRU},
		{__LINE__, RG_OPEN("http://127.0.0.1:@evil.example/cb"), 400, IRU},
		{__LINE__, RG_OPEN("http://[::1]:1@evil.example/cb"), 400, IRU},
	};
#undef RG_OPEN
#undef IRU
	struct fx *f = *state;

	rg_check_cases(f, NULL, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Mode open: the public client so registered runs the code flow. */
static void
test_open_code_flow(void **state)
{
	struct fx *f = *state;
	struct fx_tokens t;
	struct rg_reg reg;

	rg_register(__LINE__, f, NULL, "{\"redirect_uris\":[\"" RG_LOOPBACK
	    "\"]," RG_NONE ",\"grant_types\":[\"authorization_code\","
	    "\"refresh_token\"],\"scope\":\"read\"}", &reg);
	fx_code_flow(f, reg.id, NULL, NULL, &t);
	assert_true(t.refresh[0] != '\0');
	assert_int_equal(fx_introspect(f, reg.id, NULL, t.access), 1);
}

/*
 * RFC 7592 §2.1: GET with the registration access token gives the current
 * metadata, the same as registration did, without the secret.
 */
static void
test_read(void **state)
{
	static const char *const names[] = {"client_id", "client_id_issued_at",
	    "token_endpoint_auth_method", "grant_types", "response_types",
	    "redirect_uris", "scope", "dpop_bound_access_tokens",
	    "registration_client_uri", NULL};
	struct fx *f = *state;
	struct fx_resp created, out;
	struct rg_reg reg;
	char *a, *b;
	size_t i;

	rg_call(f, "POST", "/register", RG_INITIAL, RG_CONF_BODY, &created);
	rg_check_created(__LINE__, &created, &reg);
	f->now += 1000;
	rg_call(f, "GET", reg.path, reg.access, NULL, &out);
	fx_assert_status(&out, 200);
	assert_true(out.r.no_store);
	assert_string_equal(out.r.content_type, RG_JSON);
	for (i = 0; names[i] != NULL; i++) {
		a = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(
		    created.json, names[i]));
		b = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(
		    out.json, names[i]));
		if (a == NULL || b == NULL || strcmp(a, b) != 0)
			fail_msg("%s: registered %s, read %s", names[i],
			    a != NULL ? a : "(none)", b != NULL ? b : "(none)");
		cJSON_free(a);
		cJSON_free(b);
	}
	/* The secret was given once; only its hash is kept. */
	assert_null(cJSON_GetObjectItemCaseSensitive(out.json,
	    "client_secret"));
	fx_resp_free(&out);
	fx_resp_free(&created);
}

/*
 * RFC 7592 §3: the client information response that GET and PUT answer
 * with carries registration_access_token (REQUIRED), one that manages the
 * client.
 */
static void
test_read_update_carry_token(void **state)
{
	char body[512];
	const char *token;
	struct fx *f = *state;
	struct fx_resp out, again;
	struct rg_reg reg;

	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &reg);
	rg_call(f, "GET", reg.path, reg.access, NULL, &out);
	fx_assert_status(&out, 200);
	if ((token = fx_str(&out, "registration_access_token")) == NULL)
		fail_msg("RFC 7592 §3: GET without registration_access_token: "
		    "%s", out.r.body.data);
	rg_call(f, "GET", reg.path, token, NULL, &again);
	fx_assert_status(&again, 200);
	fx_resp_free(&again);
	fx_resp_free(&out);

	assert_true((size_t)snprintf(body, sizeof(body), "{\"client_id\":\"%s\","
	    RG_URIS "}", reg.id) < sizeof(body));
	rg_call(f, "PUT", reg.path, reg.access, body, &out);
	fx_assert_status(&out, 200);
	if ((token = fx_str(&out, "registration_access_token")) == NULL)
		fail_msg("RFC 7592 §3: PUT without registration_access_token: "
		    "%s", out.r.body.data);
	rg_call(f, "GET", reg.path, token, NULL, &again);
	fx_assert_status(&again, 200);
	fx_resp_free(&again);
	fx_resp_free(&out);
}

/*
 * RFC 7592 §2: only the client's own registration access token manages
 * it; a client not there, one made by the operator, another client's
 * token, the initial access token: all the same 401, which tells nothing
 * of which.
 */
static void
test_manage_refused(void **state)
{
	static const char *const methods[] = {"GET", "PUT", "DELETE"};
	char overlong[sizeof("/register/") + CLIENT_ID_MAX + 1];
	char other_path[sizeof("/register/") + CLIENT_ID_MAX];
	struct fx *f = *state;
	struct rg_reg reg, other;
	struct fx_resp out;
	struct buf before;
	struct client c;
	char *first = NULL;
	size_t m, i;

	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &reg);
	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &other);
	memcpy(other_path, other.path, sizeof(other_path));
	memcpy(overlong, "/register/", 10);
	memset(overlong + 10, 'd', CLIENT_ID_MAX + 1);
	overlong[sizeof(overlong) - 1] = '\0';
	rg_record(f, reg.id, &before);
	for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
		const struct {
			int line;
			const char *path;
			const char *token;
		} cases[] = {
			{__LINE__, reg.path, NULL},
			{__LINE__, reg.path, "wrong-token"},
			{__LINE__, reg.path, RG_INITIAL},
			{__LINE__, reg.path, other.access},
			{__LINE__, reg.path, reg.secret},
			{__LINE__, other_path, reg.access},
			{__LINE__, "/register/dyn-nobody", reg.access},
			{__LINE__, overlong, reg.access},
			/* Made by the operator: never managed this way. */
			{__LINE__, "/register/" FX_CONF, reg.access},
			{__LINE__, "/register/" FX_CONF, FX_CONF_SECRET},
			{__LINE__, "/register/" FX_PUB, ""},
		};

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			rg_call(f, methods[m], cases[i].path, cases[i].token,
			    strcmp(methods[m], "PUT") == 0 ? "{" RG_URIS "}" :
			    NULL, &out);
			rg_check_unauthorized(cases[i].line, &out,
			    cases[i].token != NULL);
			if (first == NULL)
				first = fx_strdup(out.r.body.data);
			else if (strcmp(first, out.r.body.data) != 0)
				fail_msg("line %d, %s: %s differs from %s",
				    cases[i].line, methods[m], out.r.body.data,
				    first);
			fx_resp_free(&out);
		}
	}
	free(first);
	rg_check_unchanged(__LINE__, f, reg.id, &before);
	buf_free(&before);
	rg_call(f, "GET", reg.path, reg.access, NULL, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	assert_int_equal(rg_client_get(f, FX_CONF, &c), STORE_OK);
	client_free(&c);
}

/*
 * RFC 7592 §2.2: PUT replaces the metadata (what is omitted goes back to
 * its default) and keeps the id, the secret, the registration access
 * token and when the id was issued.
 */
static void
test_update(void **state)
{
	static const char *const grants[] = {"authorization_code",
	    "client_credentials", NULL};
	static const char *const uris[] = {"https://b.example/cb", NULL};
	char body[1024];
	struct fx *f = *state;
	struct fx_resp out, got;
	struct rg_reg reg;
	struct client c;
	int64_t issued = f->now;
	size_t before = rg_client_count(f);

	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &reg);
	f->now += 100;
	assert_true((size_t)snprintf(body, sizeof(body), "{\"client_id\":\"%s\","
	    "\"redirect_uris\":[\"https://b.example/cb\"],\"grant_types\":["
	    "\"authorization_code\",\"client_credentials\"],\"scope\":"
	    "\"write\"}", reg.id) < sizeof(body));
	rg_call(f, "PUT", reg.path, reg.access, body, &out);
	fx_assert_status(&out, 200);
	assert_true(out.r.no_store);
	rg_check_str(__LINE__, &out, "client_id", reg.id);
	rg_check_list(__LINE__, &out, "grant_types", grants);
	rg_check_list(__LINE__, &out, "redirect_uris", uris);
	rg_check_str(__LINE__, &out, "scope", "write");
	assert_true(fx_num(&out, "client_id_issued_at") == (double)issued);
	assert_null(fx_str(&out, "client_secret"));
	fx_resp_free(&out);

	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_int_equal(c.grant_types,
	    GRANT_AUTHORIZATION_CODE | GRANT_CLIENT_CREDENTIALS);
	assert_string_equal(c.scope, "write");
	assert_int_equal(c.redirect_uri_count, 1);
	assert_string_equal(c.redirect_uris[0], "https://b.example/cb");
	assert_true(c.created_at == issued);
	assert_true(c.has_registration);
	client_free(&c);
	assert_int_equal(rg_client_count(f), before + 1);
	/* The secret still works, for what the client may now have. */
	rg_cc_basic(f, reg.id, reg.secret, "write", &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	rg_cc_basic(f, reg.id, reg.secret, "read", &out);
	fx_assert_error(&out, 400, "invalid_scope");
	fx_resp_free(&out);

	/* GET shows it; sent back as read, it changes nothing. */
	rg_call(f, "GET", reg.path, reg.access, NULL, &got);
	fx_assert_status(&got, 200);
	rg_check_str(__LINE__, &got, "scope", "write");
	rg_call(f, "PUT", reg.path, reg.access, got.r.body.data, &out);
	fx_assert_status(&out, 200);
	assert_string_equal(out.r.body.data, got.r.body.data);
	fx_resp_free(&out);
	fx_resp_free(&got);

	/* Omitted is deleted: the scope is registration's default again. */
	assert_true((size_t)snprintf(body, sizeof(body), "{\"client_id\":\"%s\","
	    "\"grant_types\":[\"client_credentials\"]}", reg.id) <
	    sizeof(body));
	rg_call(f, "PUT", reg.path, reg.access, body, &out);
	fx_assert_status(&out, 200);
	rg_check_str(__LINE__, &out, "scope", "read write");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
	    out.json, "redirect_uris")), 0);
	fx_resp_free(&out);

	/* The current secret may be sent back (§2.2), and stays. */
	assert_true((size_t)snprintf(body, sizeof(body), "{\"client_id\":\"%s\","
	    "\"client_secret\":\"%s\",\"grant_types\":[\"client_credentials\"]}",
	    reg.id, reg.secret) < sizeof(body));
	rg_call(f, "PUT", reg.path, reg.access, body, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	rg_cc_basic(f, reg.id, reg.secret, NULL, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
}

/*
 * A PUT that is refused changes nothing: bad metadata, a switch between
 * public and confidential, a body that is not JSON metadata.
 */
static void
test_update_refused(void **state)
{
	struct fx *f = *state;
	struct rg_reg conf, pub;
	struct fx_resp out;
	struct buf before;
	char body[1024];
	size_t i;

	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &conf);
	rg_register(__LINE__, f, RG_INITIAL, RG_PUB_BODY, &pub);
	{
		const struct {
			int line;
			const struct rg_reg *reg;
			const char *body;	/* after "client_id" */
			const char *content_type;
			const char *error;
		} cases[] = {
			{__LINE__, &conf, "," RG_URIS ",\"grant_types\":"
			    "[\"password\"]}", RG_JSON, "invalid_client_metadata"},
			{__LINE__, &conf, ",\"redirect_uris\":[\"/cb\"]}", RG_JSON,
			    "invalid_redirect_uri"},
			{__LINE__, &conf, "," RG_URIS ",\"scope\":\"admin\"}",
			    RG_JSON, "invalid_client_metadata"},
			{__LINE__, &conf, "}", RG_JSON, "invalid_redirect_uri"},
			{__LINE__, &conf, "," RG_URIS "," RG_NONE "}", RG_JSON,
			    "invalid_client_metadata"},
			{__LINE__, &conf, "," RG_URIS "}", "text/plain",
			    "invalid_request"},
			{__LINE__, &conf, "," RG_URIS "}", NULL, "invalid_request"},
			{__LINE__, &conf, "," RG_URIS, RG_JSON,
			    "invalid_client_metadata"},
			/* A public client stays public (no secret to keep). */
			{__LINE__, &pub, ",\"redirect_uris\":[\"" RG_LOOPBACK
			    "\"]}", RG_JSON, "invalid_client_metadata"},
			{__LINE__, &pub, ",\"redirect_uris\":[\"" RG_LOOPBACK
			    "\"],\"token_endpoint_auth_method\":"
			    "\"client_secret_post\"}", RG_JSON,
			    "invalid_client_metadata"},
		};
		char authorization[FX_HEADER_MAX];

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			assert_true((size_t)snprintf(body, sizeof(body),
			    "{\"client_id\":\"%s\"%s", cases[i].reg->id,
			    cases[i].body) < sizeof(body));
			assert_true((size_t)snprintf(authorization,
			    sizeof(authorization), "Bearer %s",
			    cases[i].reg->access) < sizeof(authorization));
			rg_record(f, cases[i].reg->id, &before);
			fx_run(f, &(const struct fx_req){.method = "PUT",
			    .path = cases[i].reg->path,
			    .content_type = cases[i].content_type,
			    .authorization = authorization, .body = body}, &out);
			fx_check_error(cases[i].line, &out, 400,
			    cases[i].error);
			fx_resp_free(&out);
			rg_check_unchanged(cases[i].line, f, cases[i].reg->id,
			    &before);
			buf_free(&before);
		}
	}
	rg_cc_basic(f, conf.id, conf.secret, NULL, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
}

/*
 * What the server provisions is not the client's to set in a PUT (RFC
 * 7592 §2.2): sent anyway, the registration access token, the issue time
 * and the client's URL stay as they were.
 */
static void
test_update_server_fields(void **state)
{
	char body[1024], uri[sizeof(FX_ISSUER) + sizeof(((struct rg_reg *)0)->path)];
	struct fx *f = *state;
	struct fx_resp out;
	struct rg_reg reg;
	struct client c;

	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &reg);
	assert_true((size_t)snprintf(body, sizeof(body), "{\"client_id\":\"%s\","
	    RG_URIS ",\"registration_access_token\":\"chosen-token\","
	    "\"registration_client_uri\":\"https://evil.example/register/x\","
	    "\"client_id_issued_at\":5,\"client_secret_expires_at\":99}",
	    reg.id) < sizeof(body));
	rg_call(f, "PUT", reg.path, reg.access, body, &out);
	if (out.r.status == 200) {
		assert_true(fx_num(&out, "client_id_issued_at") ==
		    (double)UNIT_NOW);
		(void)snprintf(uri, sizeof(uri), FX_ISSUER "%s", reg.path);
		rg_check_str(__LINE__, &out, "registration_client_uri", uri);
	} else
		fx_assert_error(&out, 400, "invalid_request");
	fx_resp_free(&out);
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_true(c.created_at == UNIT_NOW);
	client_free(&c);
	rg_call(f, "GET", reg.path, "chosen-token", NULL, &out);
	rg_check_invalid_token(__LINE__, &out);
	fx_resp_free(&out);
	rg_call(f, "GET", reg.path, reg.access, NULL, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
}

/*
 * RFC 7592 §2.2 names no error code for these; what matters is a 400
 * about the request, and a record left as it was.
 */
static void
rg_check_put_refused(int line, const struct fx_resp *out)
{
	const char *error = fx_str(out, "error");

	if (error != NULL && strcmp(error, "invalid_request") == 0)
		fx_check_error(line, out, 400, "invalid_request");
	else
		fx_check_error(line, out, 400, "invalid_client_metadata");
}

/*
 * RFC 7592 §2.2: the client_id of a PUT "MUST be the same as its currently
 * issued client identifier"; another one is refused, and neither client
 * changes.
 */
static void
test_update_client_id_mismatch(void **state)
{
	static const char *const ids[] = {"\"" FX_OTHER "\"", "\"dyn-other\"",
	    "7", NULL};
	char body[1024];
	struct fx *f = *state;
	struct buf before, other;
	struct fx_resp out;
	struct rg_reg reg;
	size_t i;

	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &reg);
	rg_record(f, reg.id, &before);
	rg_record(f, FX_OTHER, &other);
	for (i = 0; ids[i] != NULL; i++) {
		assert_true((size_t)snprintf(body, sizeof(body),
		    "{\"client_id\":%s,\"redirect_uris\":[\"https://b.example/"
		    "cb\"],\"scope\":\"write\"}", ids[i]) < sizeof(body));
		rg_call(f, "PUT", reg.path, reg.access, body, &out);
		rg_check_put_refused(__LINE__, &out);
		fx_resp_free(&out);
		rg_check_unchanged(__LINE__, f, reg.id, &before);
		rg_check_unchanged(__LINE__, f, FX_OTHER, &other);
	}
	buf_free(&before);
	buf_free(&other);
}

/*
 * RFC 7592 §2.2: a client_secret in a PUT "MUST match the currently issued
 * client secret", and a client may not choose its own.
 */
static void
test_update_client_secret_mismatch(void **state)
{
	char body[1024];
	struct fx *f = *state;
	struct fx_resp out;
	struct buf before;
	struct rg_reg reg;

	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &reg);
	rg_record(f, reg.id, &before);
	assert_true((size_t)snprintf(body, sizeof(body), "{\"client_id\":\"%s\","
	    "\"client_secret\":\"" RG_CHOSEN "\",\"grant_types\":["
	    "\"client_credentials\"],\"scope\":\"write\"}", reg.id) <
	    sizeof(body));
	rg_call(f, "PUT", reg.path, reg.access, body, &out);
	/* Whatever the answer, the chosen secret is no secret of it. */
	{
		int status = out.r.status;

		fx_resp_free(&out);
		rg_cc_basic(f, reg.id, RG_CHOSEN, NULL, &out);
		fx_assert_error(&out, 401, "invalid_client");
		fx_resp_free(&out);
		rg_cc_basic(f, reg.id, reg.secret, NULL, &out);
		fx_assert_status(&out, 200);
		fx_resp_free(&out);
		if (status != 400)
			fail_msg("RFC 7592 §2.2: a PUT with another "
			    "client_secret answered %d, not 400", status);
	}
	rg_call(f, "PUT", reg.path, reg.access, body, &out);
	rg_check_put_refused(__LINE__, &out);
	fx_resp_free(&out);
	rg_check_unchanged(__LINE__, f, reg.id, &before);
	buf_free(&before);
}

/* Mode open: a PUT is held to what an open registration may be. */
static void
test_update_open(void **state)
{
	static const struct {
		int line;
		const char *body;	/* after "client_id" */
		int status;
		const char *error;
	} cases[] = {
		{__LINE__, ",\"redirect_uris\":[\"http://app.example/cb\"],"
		    RG_NONE "}", 400, "invalid_redirect_uri"},
		{__LINE__, ",\"redirect_uris\":[\"com.example.app:/cb\"],"
		    RG_NONE "}", 400, "invalid_redirect_uri"},
		{__LINE__, ",\"redirect_uris\":[\"" RG_LOOPBACK "\"]}", 400,
		    "invalid_client_metadata"},
		{__LINE__, ",\"redirect_uris\":[\"" RG_LOOPBACK "\"]," RG_NONE
		    ",\"scope\":\"admin\"}", 400, "invalid_client_metadata"},
		{__LINE__, ",\"redirect_uris\":[\"https://b.example/cb\"],"
		    RG_NONE ",\"scope\":\"read\"}", 200, NULL},
	};
	char body[1024];
	struct fx *f = *state;
	struct fx_resp out;
	struct buf before;
	struct rg_reg reg;
	size_t i;

	rg_register(__LINE__, f, NULL, RG_PUB_BODY, &reg);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true((size_t)snprintf(body, sizeof(body),
		    "{\"client_id\":\"%s\"%s", reg.id, cases[i].body) <
		    sizeof(body));
		rg_record(f, reg.id, &before);
		rg_call(f, "PUT", reg.path, reg.access, body, &out);
		if (cases[i].status == 200) {
			fx_check_status(cases[i].line, &out, 200);
			rg_check_str(cases[i].line, &out, "scope", "read");
		} else {
			fx_check_error(cases[i].line, &out, cases[i].status,
			    cases[i].error);
			rg_check_unchanged(cases[i].line, f, reg.id, &before);
		}
		fx_resp_free(&out);
		buf_free(&before);
	}
}

/*
 * RFC 7592 §2.3: DELETE ends the client and everything it was given; its
 * tokens no longer introspect, it no longer authenticates, its
 * registration access token no longer works.  Other clients keep theirs.
 */
static void
test_delete(void **state)
{
	char cc[TOKEN_PRESENTED_MAX + 1], keep[TOKEN_PRESENTED_MAX + 1];
	struct fx *f = *state;
	struct fx_tokens t;
	struct fx_resp out;
	struct rg_reg reg;
	struct client c;
	size_t before = rg_client_count(f);

	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &reg);
	fx_cc_token(f, reg.id, reg.secret, NULL, cc);
	fx_code_flow(f, reg.id, reg.secret, NULL, &t);
	assert_true(t.refresh[0] != '\0');
	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, keep);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, cc), 1);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, t.access), 1);

	rg_call(f, "DELETE", reg.path, reg.access, NULL, &out);
	fx_assert_status(&out, 204);
	assert_int_equal(out.r.body.len, 0);
	assert_null(out.json);
	fx_resp_free(&out);

	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_NOTFOUND);
	assert_int_equal(rg_client_count(f), before);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, cc), 0);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, t.access), 0);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, t.refresh), 0);
	assert_int_equal(fx_introspect(f, FX_RS, FX_RS_SECRET, keep), 1);
	/* Its code, access and refresh tokens are gone; FX_CONF's is not. */
	assert_int_equal(fx_token_count(f), 1);

	rg_cc_basic(f, reg.id, reg.secret, NULL, &out);
	fx_assert_error(&out, 401, "invalid_client");
	fx_resp_free(&out);
	fx_refresh(f, reg.id, reg.secret, t.refresh, NULL, &out);
	fx_assert_error(&out, 401, "invalid_client");
	fx_resp_free(&out);
	rg_call(f, "GET", reg.path, reg.access, NULL, &out);
	rg_check_invalid_token(__LINE__, &out);
	fx_resp_free(&out);
	rg_call(f, "DELETE", reg.path, reg.access, NULL, &out);
	rg_check_invalid_token(__LINE__, &out);
	fx_resp_free(&out);
	assert_int_equal(rg_client_count(f), before);
}

/*
 * registration_client_uri (RFC 7592 §3) is the issuer's: OAUTH_ISSUER with
 * or without its trailing slash, or the issuer derived from the request;
 * with no issuer at all nothing is registered.
 */
static void
test_client_uri_issuer(void **state)
{
	static char slash[] = FX_ISSUER "/";
	char want[sizeof(FX_ISSUER) + sizeof("/register/") + CLIENT_ID_MAX];
	struct fx *f = *state;
	struct fx_resp out;
	struct rg_reg reg;
	size_t before;

	f->config.issuer = slash;
	rg_call(f, "POST", "/register", RG_INITIAL, RG_CONF_BODY, &out);
	rg_check_created(__LINE__, &out, &reg);
	(void)snprintf(want, sizeof(want), FX_ISSUER "%s", reg.path);
	rg_check_str(__LINE__, &out, "registration_client_uri", want);
	fx_resp_free(&out);

	f->config.issuer = NULL;
	fx_run(f, &(const struct fx_req){.method = "POST", .path = "/register",
	    .content_type = RG_JSON, .authorization = "Bearer " RG_INITIAL,
	    .body = RG_CONF_BODY, .host = "as.example", .https = "on",
	    .script_name = "/oauth"}, &out);
	rg_check_created(__LINE__, &out, &reg);
	(void)snprintf(want, sizeof(want), "https://as.example/oauth%s",
	    reg.path);
	rg_check_str(__LINE__, &out, "registration_client_uri", want);
	fx_resp_free(&out);

	before = rg_client_count(f);
	rg_call(f, "POST", "/register", RG_INITIAL, RG_CONF_BODY, &out);
	fx_assert_error(&out, 500, "server_error");
	fx_resp_free(&out);
	assert_int_equal(rg_client_count(f), before);
	f->config.issuer = f->issuer;
}

/* Fails the rg_fail_at'th call (counting from 1), and those after. */
static int rg_fail_at, rg_calls;

static int
rg_random_failing(void *ctx, unsigned char *out, size_t len)
{
	if (++rg_calls >= rg_fail_at)
		return -1;
	return unit_random(ctx, out, len);
}

/* The same bytes every time: every id is the same id. */
static int
rg_random_stuck(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	memset(out, 0x5a, len);
	return 0;
}

/*
 * Without randomness there is no id, token or secret: 500, and nothing
 * stored, whichever of them it was.
 */
static void
test_no_randomness(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;
	size_t before = rg_client_count(f);

	f->env.random = rg_random_failing;
	for (rg_fail_at = 1; rg_fail_at <= 4; rg_fail_at++) {
		rg_calls = 0;
		rg_call(f, "POST", "/register", RG_INITIAL, RG_CONF_BODY, &out);
		fx_assert_error(&out, 500, "server_error");
		fx_resp_free(&out);
		assert_int_equal(rg_client_count(f), before);
	}
	/* A public client draws no secret: three draws are enough. */
	rg_fail_at = 4;
	rg_calls = 0;
	rg_call(f, "POST", "/register", RG_INITIAL, RG_PUB_BODY, &out);
	fx_assert_status(&out, 201);
	fx_resp_free(&out);
	f->env.random = unit_random;
}

/*
 * A registration never replaces a client: should an id come out twice,
 * the second registration fails and the first client is as it was.
 */
static void
test_id_collision(void **state)
{
	struct fx *f = *state;
	struct fx_resp out;
	struct rg_reg reg;
	struct buf before;
	size_t n;

	f->env.random = rg_random_stuck;
	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &reg);
	rg_record(f, reg.id, &before);
	n = rg_client_count(f);
	f->now += 60;
	rg_call(f, "POST", "/register", RG_INITIAL,
	    "{\"grant_types\":[\"client_credentials\"],\"scope\":\"write\"}",
	    &out);
	fx_assert_error(&out, 500, "server_error");
	fx_resp_free(&out);
	f->env.random = unit_random;
	rg_check_unchanged(__LINE__, f, reg.id, &before);
	buf_free(&before);
	assert_int_equal(rg_client_count(f), n);
}

/*
 * A full map: a registration, a PUT and a DELETE each either happen whole
 * or answer 503 and leave the store as it was.
 */
static void
test_full_map(void **state)
{
	char body[512];
	struct fx *f = *state;
	struct fx_resp out;
	struct buf before;
	struct rg_reg reg, late;
	struct client c;
	size_t n;

	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &reg);
	(void)fx_fill(f, NULL);

	n = rg_client_count(f);
	rg_call(f, "POST", "/register", RG_INITIAL, RG_CONF_BODY, &out);
	if (out.r.status == 201) {
		rg_check_created(__LINE__, &out, &late);
		n++;
	} else
		fx_assert_error(&out, 503, "temporarily_unavailable");
	fx_resp_free(&out);
	assert_int_equal(rg_client_count(f), n);

	rg_record(f, reg.id, &before);
	assert_true((size_t)snprintf(body, sizeof(body), "{\"client_id\":\"%s\","
	    "\"redirect_uris\":[\"https://b.example/cb\"],\"scope\":\"write\"}",
	    reg.id) < sizeof(body));
	rg_call(f, "PUT", reg.path, reg.access, body, &out);
	if (out.r.status == 200) {
		assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
		assert_string_equal(c.scope, "write");
		client_free(&c);
	} else {
		fx_assert_error(&out, 503, "temporarily_unavailable");
		rg_check_unchanged(__LINE__, f, reg.id, &before);
	}
	fx_resp_free(&out);
	buf_free(&before);

	rg_call(f, "DELETE", reg.path, reg.access, NULL, &out);
	if (out.r.status == 204)
		assert_int_equal(rg_client_get(f, reg.id, &c), STORE_NOTFOUND);
	else {
		fx_assert_error(&out, 503, "temporarily_unavailable");
		assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
		client_free(&c);
	}
	fx_resp_free(&out);
}

#define RG_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define RG_CC_GRANT "\"grant_types\":[\"client_credentials\"]"

/* The body of a private_key_jwt registration of the JWK Set jwks. */
static char *
rg_keys_body(const char *jwks)
{
	struct buf b = {0};

	assert_int_equal(buf_printf(&b, "{" RG_CC_GRANT ","
	    "\"token_endpoint_auth_method\":\"private_key_jwt\",\"jwks\":%s}",
	    jwks), 0);
	return buf_steal(&b);
}

/* A JWK Set of the one public JWK jwk. */
static char *
rg_set_of(const char *jwk)
{
	struct buf b = {0};

	assert_int_equal(buf_printf(&b, "{\"keys\":[%s]}", jwk), 0);
	return buf_steal(&b);
}

/* client_credentials for id by an assertion k signed with jti. */
static void
rg_cc_assertion(struct fx *f, const char *id, const struct jws_key *k,
    const char *jti, struct fx_resp *out)
{
	struct buf claims = {0};
	char *jws;

	assert_int_equal(buf_printf(&claims, "{\"iss\":\"%s\",\"sub\":\"%s\","
	    "\"aud\":\"%s\",\"exp\":%lld,\"jti\":\"%s\"}", id, id, FX_ISSUER,
	    (long long)(f->now + 60), jti), 0);
	jws = jws_compact(k->pkey, k->alg, JWS_SIG_KEY, NULL,
	    "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", claims.data);
	fx_postf(f, "/token", NULL, out, "grant_type=client_credentials&"
	    "client_assertion_type=%s&client_assertion=%s", RG_ASSERTION_TYPE,
	    jws);
	free(jws);
	buf_free(&claims);
}

/*
 * private_key_jwt (RFC 7591 §2: jwks): registered with its keys, checked
 * as oauthctl checks them, no secret given; the client then authenticates
 * with an assertion, and its metadata shows the keys.
 */
static void
test_register_keys(void **state)
{
	struct fx *f = *state;
	struct jws_key k, other;
	struct fx_resp out;
	struct rg_reg reg;
	struct client c;
	char *set, *body, *path;

	jws_key_make(&k, JOSE_ALG_ES256);
	jws_key_make(&other, JOSE_ALG_ES256);
	set = rg_set_of(k.jwk);
	body = rg_keys_body(set);
	rg_call(f, "POST", "/register", RG_INITIAL, body, &out);
	rg_check_created(__LINE__, &out, &reg);
	assert_null(fx_str(&out, "client_secret"));
	rg_check_str(__LINE__, &out, "token_endpoint_auth_method",
	    "private_key_jwt");
	assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(out.json,
	    "jwks")));
	fx_resp_free(&out);
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_non_null(c.jwks);
	assert_string_equal(c.jwks, set);
	assert_false(c.is_public);
	client_free(&c);

	rg_cc_assertion(f, reg.id, &k, "j1", &out);
	fx_check_status(__LINE__, &out, 200);
	fx_resp_free(&out);
	rg_cc_assertion(f, reg.id, &other, "j2", &out);
	fx_check_error(__LINE__, &out, 401, "invalid_client");
	fx_resp_free(&out);

	/* RFC 7592 §2.2: a PUT may rotate the keys, not the method. */
	free(body);
	free(set);
	set = rg_set_of(other.jwk);
	body = rg_keys_body(set);
	rg_call(f, "PUT", reg.path, reg.access, body, &out);
	fx_check_status(__LINE__, &out, 200);
	rg_check_str(__LINE__, &out, "registration_access_token", reg.access);
	fx_resp_free(&out);
	rg_cc_assertion(f, reg.id, &other, "j3", &out);
	fx_check_status(__LINE__, &out, 200);
	fx_resp_free(&out);
	rg_cc_assertion(f, reg.id, &k, "j4", &out);
	fx_check_error(__LINE__, &out, 401, "invalid_client");
	fx_resp_free(&out);
	path = reg.path;
	rg_call(f, "PUT", path, reg.access, "{" RG_CC_GRANT "}", &out);
	fx_check_error(__LINE__, &out, 400, "invalid_client_metadata");
	fx_resp_free(&out);
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_string_equal(c.jwks, set);
	client_free(&c);
	free(body);
	free(set);
	jws_key_free(&k);
	jws_key_free(&other);
}

/* Keys and credentials registration refuses, each storing nothing. */
static void
test_register_keys_refused(void **state)
{
	struct fx *f = *state;
	struct jws_key k, rsa;
	struct fx_resp out;
	char *bodies[12];
	size_t i, n = 0, before = rg_client_count(f);
	struct buf b = {0};

	jws_key_make(&k, JOSE_ALG_ES256);
	jws_key_make(&rsa, JOSE_ALG_RS256);
	/* No keys, keys that are none, a private key, a symmetric one. */
	bodies[n++] = fx_strdup("{" RG_CC_GRANT ",\"token_endpoint_auth_method\":"
	    "\"private_key_jwt\"}");
	bodies[n++] = rg_keys_body("[]");
	bodies[n++] = rg_keys_body("{\"keys\":[]}");
	bodies[n++] = rg_keys_body("{\"keys\":{}}");
	assert_int_equal(buf_printf(&b, "{\"keys\":[%s]}", k.jwk_private), 0);
	bodies[n++] = rg_keys_body(b.data);
	buf_free(&b);
	bodies[n++] = rg_keys_body("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}");
	assert_int_equal(buf_printf(&b, "{\"keys\":[%s,%s,%s,%s,%s,%s,%s,%s,"
	    "%s]}", k.jwk, rsa.jwk, k.jwk, rsa.jwk, k.jwk, rsa.jwk, k.jwk,
	    rsa.jwk, k.jwk), 0);
	bodies[n++] = rg_keys_body(b.data);
	buf_free(&b);
	/* What the server would have to fetch; keys beside a secret. */
	bodies[n++] = fx_strdup("{" RG_CC_GRANT ",\"token_endpoint_auth_method\":"
	    "\"private_key_jwt\",\"jwks_uri\":\"https://app.example/jwks\"}");
	assert_int_equal(buf_printf(&b, "{" RG_CC_GRANT ",\"jwks\":{\"keys\":"
	    "[%s]}}", k.jwk), 0);
	bodies[n++] = buf_steal(&b);
	/* A certificate's client without its DN, or with a DN not its. */
	bodies[n++] = fx_strdup("{" RG_CC_GRANT ",\"token_endpoint_auth_method\":"
	    "\"tls_client_auth\"}");
	bodies[n++] = fx_strdup("{" RG_CC_GRANT ",\"token_endpoint_auth_method\":"
	    "\"tls_client_auth\",\"tls_client_auth_subject_dn\":\"\"}");
	bodies[n++] = fx_strdup("{" RG_CC_GRANT ",\"tls_client_auth_subject_dn\":"
	    "\"CN=x\"}");
	for (i = 0; i < n; i++) {
		rg_call(f, "POST", "/register", RG_INITIAL, bodies[i], &out);
		fx_check_error(__LINE__ + (int)i, &out, 400,
		    "invalid_client_metadata");
		fx_resp_free(&out);
		free(bodies[i]);
	}
	assert_int_equal(rg_client_count(f), before);
	jws_key_free(&k);
	jws_key_free(&rsa);
}

/* A self-signed certificate's DER, base64 (x5c) and its x5t#S256. */
static void
rg_certificate(char **x5c, char thumbprint[JOSE_THUMBPRINT_LEN + 1])
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	unsigned char *der = NULL, digest[TOKEN_HASH_LEN];
	int len;

	assert_non_null(key);
	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"self", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	assert_true((len = i2d_X509(x, &der)) > 0);
	assert_non_null(*x5c = malloc((size_t)len / 3 * 4 + 8));
	(void)EVP_EncodeBlock((unsigned char *)*x5c, der, len);
	(void)crypto_sha256(der, (size_t)len, digest);
	(void)b64url_encode(digest, sizeof(digest), thumbprint,
	    JOSE_THUMBPRINT_LEN + 1);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
}

/*
 * RFC 8705 §2.1.2, §2.2.2: tls_client_auth by its subject DN, and
 * self_signed_tls_client_auth by the certificate of its jwks' x5c, which
 * the server keeps as its thumbprint; neither is given a secret.
 */
static void
test_register_certificates(void **state)
{
	char thumbprint[JOSE_THUMBPRINT_LEN + 1], *x5c;
	struct fx *f = *state;
	struct fx_resp out;
	struct rg_reg reg;
	struct client c;
	struct buf b = {0};
	size_t before;

	rg_call(f, "POST", "/register", RG_INITIAL, "{" RG_CC_GRANT ","
	    "\"token_endpoint_auth_method\":\"tls_client_auth\","
	    "\"tls_client_auth_subject_dn\":\"CN=svc,O=Example\"}", &out);
	rg_check_created(__LINE__, &out, &reg);
	assert_null(fx_str(&out, "client_secret"));
	rg_check_str(__LINE__, &out, "tls_client_auth_subject_dn",
	    "CN=svc,O=Example");
	fx_resp_free(&out);
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_int_equal(c.tls_auth, CLIENT_TLS_SUBJECT_DN);
	assert_string_equal(c.tls_value, "CN=svc,O=Example");
	client_free(&c);
	rg_call(f, "GET", reg.path, reg.access, NULL, &out);
	rg_check_str(__LINE__, &out, "token_endpoint_auth_method",
	    "tls_client_auth");
	fx_resp_free(&out);

	rg_certificate(&x5c, thumbprint);
	assert_int_equal(buf_printf(&b, "{" RG_CC_GRANT ","
	    "\"token_endpoint_auth_method\":\"self_signed_tls_client_auth\","
	    "\"jwks\":{\"keys\":[{\"kty\":\"EC\",\"x5c\":[\"%s\"]}]}}", x5c),
	    0);
	rg_call(f, "POST", "/register", RG_INITIAL, b.data, &out);
	rg_check_created(__LINE__, &out, &reg);
	rg_check_str(__LINE__, &out, "token_endpoint_auth_method",
	    "self_signed_tls_client_auth");
	fx_resp_free(&out);
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_int_equal(c.tls_auth, CLIENT_TLS_SELF_SIGNED);
	assert_string_equal(c.tls_value, thumbprint);
	assert_null(c.jwks);
	client_free(&c);
	buf_free(&b);

	before = rg_client_count(f);
	rg_call(f, "POST", "/register", RG_INITIAL, "{" RG_CC_GRANT ","
	    "\"token_endpoint_auth_method\":\"self_signed_tls_client_auth\","
	    "\"jwks\":{\"keys\":[{\"kty\":\"EC\",\"x5c\":[\"aGVsbG8gd29ybGQh\"]}"
	    "]}}", &out);
	fx_check_error(__LINE__, &out, 400, "invalid_client_metadata");
	fx_resp_free(&out);
	rg_call(f, "POST", "/register", RG_INITIAL, "{" RG_CC_GRANT ","
	    "\"token_endpoint_auth_method\":\"self_signed_tls_client_auth\","
	    "\"jwks\":{\"keys\":[{\"kty\":\"EC\",\"x5c\":[\"*\"]}]}}", &out);
	fx_check_error(__LINE__, &out, 400, "invalid_client_metadata");
	fx_resp_free(&out);
	rg_call(f, "POST", "/register", RG_INITIAL, "{" RG_CC_GRANT ","
	    "\"token_endpoint_auth_method\":\"self_signed_tls_client_auth\"}",
	    &out);
	fx_check_error(__LINE__, &out, 400, "invalid_client_metadata");
	fx_resp_free(&out);
	assert_int_equal(rg_client_count(f), before);
	free(x5c);
}

/*
 * A PUT replaces what registration sets and keeps what an operator set
 * on the client since (oauthctl): its introspection permission, audience,
 * resources, token format and the KDF of its secret.
 */
static void
test_update_keeps_operator_settings(void **state)
{
	struct fx *f = *state;
	struct store_txn *txn;
	struct fx_resp out;
	struct rg_reg reg;
	struct client c;

	rg_register(__LINE__, f, RG_INITIAL, RG_CONF_BODY, &reg);
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	c.may_introspect = 1;
	c.audience = fx_strdup("https://api.example/");
	c.resources[0] = fx_strdup("https://other.example/");
	c.resource_count = 1;
	c.token_format = CLIENT_TOKEN_JWT;
	assert_int_equal(store_txn_begin(f->store, 1, &txn), STORE_OK);
	assert_int_equal(store_client_put(txn, &c, 1), STORE_OK);
	assert_int_equal(store_txn_commit(txn), STORE_OK);
	client_free(&c);
	rg_call(f, "PUT", reg.path, reg.access, "{" RG_URIS ","
	    "\"scope\":\"read\"}", &out);
	fx_check_status(__LINE__, &out, 200);
	fx_resp_free(&out);
	assert_int_equal(rg_client_get(f, reg.id, &c), STORE_OK);
	assert_string_equal(c.scope, "read");
	assert_true(c.may_introspect);
	assert_string_equal(c.audience, "https://api.example/");
	assert_int_equal(c.resource_count, 1);
	assert_string_equal(c.resources[0], "https://other.example/");
	assert_int_equal(c.token_format, CLIENT_TOKEN_JWT);
	client_free(&c);
	/* The secret still authenticates. */
	rg_cc_basic(f, reg.id, reg.secret, NULL, &out);
	fx_resp_free(&out);
}

#define RG_TEST(name, setup) cmocka_unit_test_setup_teardown(name, setup, \
	fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		RG_TEST(test_off_by_default, rg_setup_off),
		RG_TEST(test_metadata_endpoint, rg_setup_off),
		RG_TEST(test_routes, rg_setup_token),
		RG_TEST(test_initial_token_refused, rg_setup_token),
		RG_TEST(test_token_confidential, rg_setup_token),
		RG_TEST(test_token_public, rg_setup_token),
		RG_TEST(test_auth_method_named_works, rg_setup_token),
		RG_TEST(test_defaults, rg_setup_token),
		RG_TEST(test_metadata_refused, rg_setup_token),
		RG_TEST(test_unknown_ignored, rg_setup_token),
		RG_TEST(test_metadata_limits, rg_setup_token),
		RG_TEST(test_content_type, rg_setup_token),
		RG_TEST(test_dpop_bound, rg_setup_token),
		RG_TEST(test_open_public_only, rg_setup_open),
		RG_TEST(test_open_redirect_uris, rg_setup_open),
		RG_TEST(test_open_loopback_userinfo, rg_setup_open),
		RG_TEST(test_open_code_flow, rg_setup_open),
		RG_TEST(test_read, rg_setup_token),
		RG_TEST(test_read_update_carry_token, rg_setup_token),
		RG_TEST(test_manage_refused, rg_setup_token),
		RG_TEST(test_update, rg_setup_token),
		RG_TEST(test_update_refused, rg_setup_token),
		RG_TEST(test_update_server_fields, rg_setup_token),
		RG_TEST(test_update_client_id_mismatch, rg_setup_token),
		RG_TEST(test_update_client_secret_mismatch, rg_setup_token),
		RG_TEST(test_update_open, rg_setup_open),
		RG_TEST(test_delete, rg_setup_token),
		RG_TEST(test_client_uri_issuer, rg_setup_token),
		RG_TEST(test_no_randomness, rg_setup_token),
		RG_TEST(test_id_collision, rg_setup_token),
		RG_TEST(test_full_map, rg_setup_token_tiny),
		RG_TEST(test_register_keys, rg_setup_token),
		RG_TEST(test_register_keys_refused, rg_setup_token),
		RG_TEST(test_register_certificates, rg_setup_token),
		RG_TEST(test_update_keeps_operator_settings, rg_setup_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
