/*
 * client_auth.c: client_secret_basic, client_secret_post and none (RFC 6749
 * §2.3), one method per request, and the 401 with WWW-Authenticate only
 * when the Authorization header was used (§5.2).
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "handler_fixture.h"

#define CA_ODD "my:client"
#define CA_ODD_SECRET "p:w+d&x=y%z \xc3\xa9-0123456789abcdef0123"
#define CA_ODD_ID_ENC "my%3Aclient"
#define CA_ODD_SECRET_ENC "p%3Aw%2Bd%26x%3Dy%25z+%C3%A9-0123456789abcdef0123"
#define CA_REALM "Basic realm=\"oauth\""

static int
ca_setup(void **state)
{
	static const struct fx_client odd = {CA_ODD, CA_ODD_SECRET, "read",
	    GRANT_CLIENT_CREDENTIALS, 0, NULL, {NULL}};

	if (fx_setup(state) != 0)
		return -1;
	fx_add_client(*state, &odd);
	return 0;
}

struct ca_case {
	int line;
	const char *basic;	/* "id:secret" to base64, or NULL */
	const char *header;	/* a literal Authorization, or NULL */
	const char *body;	/* form-urlencoded */
	enum oauth_error err;
	int used_header;
	int method;		/* CLIENT_AUTH_*, when err is OAUTH_OK */
	const char *id;		/* the client authenticated */
};

#define CA_CONF_POST "client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET
#define CA_POST_SUFFIX "&" CA_CONF_POST

static const struct ca_case ca_cases[] = {
	/* The three methods. */
	{__LINE__, FX_CONF ":" FX_CONF_SECRET, NULL, "", OAUTH_OK, 1,
	    CLIENT_AUTH_BASIC, FX_CONF},
	{__LINE__, NULL, NULL, CA_CONF_POST, OAUTH_OK, 0, CLIENT_AUTH_POST,
	    FX_CONF},
	{__LINE__, NULL, NULL, "client_id=" FX_PUB, OAUTH_OK, 0,
	    CLIENT_AUTH_NONE, FX_PUB},
	/* none by Basic with an empty secret. */
	{__LINE__, FX_PUB ":", NULL, "", OAUTH_OK, 1, CLIENT_AUTH_NONE,
	    FX_PUB},
	{__LINE__, FX_PUB ":", NULL, "client_id=" FX_PUB, OAUTH_OK, 1,
	    CLIENT_AUTH_NONE, FX_PUB},
	/* client_id in the body may repeat the header's. */
	{__LINE__, FX_CONF ":" FX_CONF_SECRET, NULL, "client_id=" FX_CONF,
	    OAUTH_OK, 1, CLIENT_AUTH_BASIC, FX_CONF},
	/* The scheme is case-insensitive (RFC 9110 §11.1). */
	{__LINE__, NULL, "basic Y29uZjpjb25mLXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm"
	    "MDEyMw==", "", OAUTH_OK, 1, CLIENT_AUTH_BASIC, FX_CONF},
	{__LINE__, NULL, "BASIC Y29uZjpjb25mLXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm"
	    "MDEyMw==", "", OAUTH_OK, 1, CLIENT_AUTH_BASIC, FX_CONF},
	/* RFC 6749 §2.3.1: id and secret are form-urlencoded first. */
	{__LINE__, CA_ODD_ID_ENC ":" CA_ODD_SECRET_ENC, NULL, "", OAUTH_OK, 1,
	    CLIENT_AUTH_BASIC, CA_ODD},
	{__LINE__, NULL, NULL,
	    "client_id=" CA_ODD_ID_ENC "&client_secret=" CA_ODD_SECRET_ENC,
	    OAUTH_OK, 0, CLIENT_AUTH_POST, CA_ODD},
	/* An empty Authorization header is no header. */
	{__LINE__, NULL, "", CA_CONF_POST, OAUTH_OK, 0, CLIENT_AUTH_POST,
	    FX_CONF},

	/* Two methods in one request (RFC 6749 §2.3). */
	{__LINE__, FX_CONF ":" FX_CONF_SECRET, NULL,
	    "client_secret=" FX_CONF_SECRET, OAUTH_INVALID_REQUEST, 1, 0, NULL},
	{__LINE__, FX_CONF ":" FX_CONF_SECRET, NULL, CA_CONF_POST,
	    OAUTH_INVALID_REQUEST, 1, 0, NULL},
	{__LINE__, FX_PUB ":", NULL, "client_id=" FX_PUB "&client_secret=x",
	    OAUTH_INVALID_REQUEST, 1, 0, NULL},
	{__LINE__, FX_CONF ":" FX_CONF_SECRET, NULL, "client_id=" FX_OTHER,
	    OAUTH_INVALID_REQUEST, 1, 0, NULL},
	{__LINE__, NULL, "Bearer abc", "client_secret=x",
	    OAUTH_INVALID_REQUEST, 1, 0, NULL},
	/* A secret needs an id. */
	{__LINE__, NULL, NULL, "client_secret=" FX_CONF_SECRET,
	    OAUTH_INVALID_REQUEST, 0, 0, NULL},

	/* No authentication at all. */
	{__LINE__, NULL, NULL, "", OAUTH_INVALID_CLIENT, 0, 0, NULL},
	{__LINE__, NULL, NULL, "client_id=", OAUTH_INVALID_CLIENT, 0, 0, NULL},
	/* A confidential client without its secret. */
	{__LINE__, NULL, NULL, "client_id=" FX_CONF, OAUTH_INVALID_CLIENT, 0,
	    0, NULL},
	{__LINE__, NULL, NULL, "client_id=" FX_CONF "&client_secret=",
	    OAUTH_INVALID_CLIENT, 0, 0, NULL},
	{__LINE__, FX_CONF ":", NULL, "", OAUTH_INVALID_CLIENT, 1, 0, NULL},
	/* Wrong secrets: another's, a prefix, longer, another case. */
	{__LINE__, FX_CONF ":wrong", NULL, "", OAUTH_INVALID_CLIENT, 1, 0,
	    NULL},
	{__LINE__, NULL, NULL, "client_id=" FX_CONF "&client_secret=wrong",
	    OAUTH_INVALID_CLIENT, 0, 0, NULL},
	{__LINE__, NULL, NULL,
	    "client_id=" FX_CONF "&client_secret=" FX_OTHER_SECRET,
	    OAUTH_INVALID_CLIENT, 0, 0, NULL},
	{__LINE__, NULL, NULL,
	    "client_id=" FX_CONF
	    "&client_secret=conf-secret-0123456789abcdef012",
	    OAUTH_INVALID_CLIENT, 0, 0, NULL},
	{__LINE__, NULL, NULL,
	    "client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET "x",
	    OAUTH_INVALID_CLIENT, 0, 0, NULL},
	{__LINE__, NULL, NULL,
	    "client_id=" FX_CONF
	    "&client_secret=CONF-SECRET-0123456789ABCDEF0123",
	    OAUTH_INVALID_CLIENT, 0, 0, NULL},
	/* Client ids are compared exactly. */
	{__LINE__, NULL, NULL, "client_id=CONF&client_secret=" FX_CONF_SECRET,
	    OAUTH_INVALID_CLIENT, 0, 0, NULL},
	{__LINE__, "CONF:" FX_CONF_SECRET, NULL, "", OAUTH_INVALID_CLIENT, 1,
	    0, NULL},
	/* A public client must not present a secret (RFC 6749 §2.1). */
	{__LINE__, NULL, NULL, "client_id=" FX_PUB "&client_secret=x",
	    OAUTH_INVALID_CLIENT, 0, 0, NULL},
	{__LINE__, FX_PUB ":x", NULL, "", OAUTH_INVALID_CLIENT, 1, 0, NULL},
	/* Unknown clients, with and without a secret. */
	{__LINE__, NULL, NULL, "client_id=nobody", OAUTH_INVALID_CLIENT, 0, 0,
	    NULL},
	{__LINE__, NULL, NULL, "client_id=nobody&client_secret=x",
	    OAUTH_INVALID_CLIENT, 0, 0, NULL},
	{__LINE__, "nobody:x", NULL, "", OAUTH_INVALID_CLIENT, 1, 0, NULL},
	{__LINE__, "nobody:", NULL, "", OAUTH_INVALID_CLIENT, 1, 0, NULL},
	/*
	 * A header of another scheme is not client authentication: the
	 * body is, and without one the client has not authenticated.
	 */
	{__LINE__, NULL, "Bearer abc", "", OAUTH_INVALID_CLIENT, 1, 0, NULL},
	{__LINE__, NULL, "Bearer abc", "client_id=" FX_PUB, OAUTH_OK, 1,
	    CLIENT_AUTH_NONE, FX_PUB},
	{__LINE__, NULL, "Bearer abc", CA_CONF_POST, OAUTH_OK, 1,
	    CLIENT_AUTH_POST, FX_CONF},
	{__LINE__, NULL, "Digest username=\"conf\"", CA_CONF_POST, OAUTH_OK,
	    1, CLIENT_AUTH_POST, FX_CONF},
	{__LINE__, NULL, "Bearer abc", "client_id=" FX_CONF
	    "&client_secret=wrong", OAUTH_INVALID_CLIENT, 1, 0, NULL},
	/* An Authorization header that is not valid Basic. */
	{__LINE__, NULL, "Basic", "", OAUTH_INVALID_CLIENT, 1, 0, NULL},
	{__LINE__, NULL, "Basic ", "", OAUTH_INVALID_CLIENT, 1, 0, NULL},
	{__LINE__, NULL, "Basic !!!!", "", OAUTH_INVALID_CLIENT, 1, 0, NULL},
	{__LINE__, NULL, "Basicx Y29uZjp4", "", OAUTH_INVALID_CLIENT, 1, 0,
	    NULL},
	{__LINE__, FX_CONF, NULL, "", OAUTH_INVALID_CLIENT, 1, 0, NULL},
	{__LINE__, ":" FX_CONF_SECRET, NULL, "", OAUTH_INVALID_CLIENT, 1, 0,
	    NULL},
	{__LINE__, ":", NULL, "", OAUTH_INVALID_CLIENT, 1, 0, NULL},
	/* The id split at the first ':' of the decoded pair. */
	{__LINE__, CA_ODD ":" CA_ODD_SECRET_ENC, NULL, "",
	    OAUTH_INVALID_CLIENT, 1, 0, NULL},
	{__LINE__, FX_CONF ":%zz", NULL, "", OAUTH_INVALID_CLIENT, 1, 0, NULL},
};

/* Runs client_auth on one row and checks everything it promises. */
static void
ca_run_case(struct fx *f, const struct ca_case *c)
{
	char header[FX_HEADER_MAX];
	struct request req;
	struct params params;
	struct client_auth auth;
	const char *why = NULL;
	enum oauth_error err;

	memset(&req, 0, sizeof(req));
	req.content_type = "application/x-www-form-urlencoded";
	req.body = c->body;
	req.body_len = strlen(c->body);
	if (c->basic != NULL)
		req.authorization = fx_basic(header, c->basic);
	else
		req.authorization = c->header;
	if (params_parse_body(&req, &params, NULL) != OAUTH_OK)
		fail_msg("line %d: body does not parse", c->line);
	memset(&auth, 0xa5, sizeof(auth));
	err = client_auth(&f->env, &req, &params, NULL, &auth, &why);
	if (err != c->err)
		fail_msg("line %d: error %d (%s), want %d", c->line, (int)err,
		    why != NULL ? why : "", (int)c->err);
	if (auth.used_header != c->used_header)
		fail_msg("line %d: used_header %d", c->line, auth.used_header);
	if (err == OAUTH_OK) {
		if ((int)auth.method != c->method)
			fail_msg("line %d: method %d, want %d", c->line,
			    (int)auth.method, c->method);
		if (strcmp(auth.client.id, c->id) != 0)
			fail_msg("line %d: client %s", c->line, auth.client.id);
		assert_int_equal(auth.client.is_public,
		    c->method == CLIENT_AUTH_NONE);
		client_free(&auth.client);
	} else {
		/* A failure leaves nothing to free and says why. */
		if (why == NULL || *why == '\0')
			fail_msg("line %d: no description", c->line);
		if (auth.client.scope != NULL || auth.client.audience != NULL ||
		    auth.client.redirect_uri_count != 0)
			fail_msg("line %d: failure left a client", c->line);
		/* The description never carries what was presented. */
		if (strstr(why, "secret-0123") != NULL ||
		    strstr(why, "wrong") != NULL)
			fail_msg("line %d: description echoes input", c->line);
	}
	params_free(&params);
}

static void
test_client_auth_table(void **state)
{
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(ca_cases) / sizeof(ca_cases[0]); i++)
		ca_run_case(f, &ca_cases[i]);
}

/* Ids and secrets over their limits fail before any lookup. */
static void
test_client_auth_limits(void **state)
{
	struct fx *f = *state;
	struct fx_client longest = {NULL, NULL, "read",
	    GRANT_CLIENT_CREDENTIALS, 0, NULL, {NULL}};
	char id[CLIENT_ID_MAX + 2], secret[CLIENT_SECRET_MAX + 2];
	char body[FX_BODY_MAX];
	struct ca_case c;

	memset(id, 'i', CLIENT_ID_MAX);
	id[CLIENT_ID_MAX] = '\0';
	memset(secret, 's', CLIENT_SECRET_MAX);
	secret[CLIENT_SECRET_MAX] = '\0';
	longest.id = id;
	longest.secret = secret;
	fx_add_client(f, &longest);

	/* CLIENT_ID_MAX and CLIENT_SECRET_MAX bytes: accepted. */
	memset(&c, 0, sizeof(c));
	c.line = __LINE__;
	snprintf(body, sizeof(body), "client_id=%s&client_secret=%s", id,
	    secret);
	c.body = body;
	c.err = OAUTH_OK;
	c.method = CLIENT_AUTH_POST;
	c.id = id;
	ca_run_case(f, &c);

	/* One byte more of either: invalid_client. */
	c.line = __LINE__;
	snprintf(body, sizeof(body), "client_id=%si&client_secret=%s", id,
	    secret);
	c.err = OAUTH_INVALID_CLIENT;
	ca_run_case(f, &c);
	c.line = __LINE__;
	snprintf(body, sizeof(body), "client_id=%s&client_secret=%ss", id,
	    secret);
	ca_run_case(f, &c);
	c.line = __LINE__;
	snprintf(body, sizeof(body), "client_id=%si", id);
	ca_run_case(f, &c);
}

struct endpoint {
	const char *path;
	const char *rest;	/* the endpoint's own parameters */
};

static const struct endpoint ca_endpoints[] = {
	{"/token", "grant_type=client_credentials"},
	{"/introspect", "token=abc"},
	{"/revoke", "token=abc"},
};

struct www_case {
	int line;
	const char *basic;
	const char *header;
	const char *body;	/* after the endpoint's own parameters */
	int status;
	const char *code;
	int www;		/* WWW-Authenticate expected */
};

static const struct www_case www_cases[] = {
	{__LINE__, FX_CONF ":wrong", NULL, "", 401, "invalid_client", 1},
	{__LINE__, "nobody:x", NULL, "", 401, "invalid_client", 1},
	{__LINE__, FX_PUB ":x", NULL, "", 401, "invalid_client", 1},
	{__LINE__, FX_CONF ":", NULL, "", 401, "invalid_client", 1},
	{__LINE__, NULL, "Basic !!!!", "", 401, "invalid_client", 1},
	{__LINE__, NULL, NULL, "&client_id=" FX_CONF "&client_secret=wrong",
	    401, "invalid_client", 0},
	{__LINE__, NULL, NULL, "&client_id=nobody", 401, "invalid_client", 0},
	{__LINE__, NULL, NULL, "&client_id=" FX_CONF, 401, "invalid_client",
	    0},
	{__LINE__, NULL, NULL, "&client_id=" FX_PUB "&client_secret=x", 401,
	    "invalid_client", 0},
	{__LINE__, NULL, NULL, "", 401, "invalid_client", 0},
	{__LINE__, NULL, "", "", 401, "invalid_client", 0},
	/* Not an authentication failure: no challenge. */
	{__LINE__, FX_CONF ":" FX_CONF_SECRET, NULL,
	    "&client_secret=" FX_CONF_SECRET, 400, "invalid_request", 0},
	{__LINE__, FX_CONF ":" FX_CONF_SECRET, NULL, "&client_id=" FX_OTHER,
	    400, "invalid_request", 0},
	{__LINE__, NULL, NULL, "&client_secret=x", 400, "invalid_request", 0},
};

/*
 * Every client-authenticated endpoint answers a failure alike: 401
 * invalid_client, and WWW-Authenticate: Basic realm="oauth" exactly when
 * the request used the Authorization header (RFC 6749 §5.2).
 */
static void
test_endpoints_challenge(void **state)
{
	struct fx *f = *state;
	char header[FX_HEADER_MAX], body[FX_BODY_MAX];
	size_t i, e;

	for (e = 0; e < sizeof(ca_endpoints) / sizeof(ca_endpoints[0]); e++) {
		for (i = 0; i < sizeof(www_cases) / sizeof(www_cases[0]); i++) {
			const struct www_case *c = &www_cases[i];
			struct fx_resp out;
			const char *auth = c->header;

			if (c->basic != NULL)
				auth = fx_basic(header, c->basic);
			snprintf(body, sizeof(body), "%s%s",
			    ca_endpoints[e].rest, c->body);
			fx_post(f, ca_endpoints[e].path, auth, body, &out);
			fx_check_error(c->line, &out, c->status, c->code);
			if (c->www && (out.r.www_authenticate == NULL ||
			    strcmp(out.r.www_authenticate, CA_REALM) != 0))
				fail_msg("line %d: %s: WWW-Authenticate %s",
				    c->line, ca_endpoints[e].path,
				    out.r.www_authenticate != NULL
					? out.r.www_authenticate : "(none)");
			if (!c->www && out.r.www_authenticate != NULL)
				fail_msg("line %d: %s: unexpected "
				    "WWW-Authenticate", c->line,
				    ca_endpoints[e].path);
			fx_resp_free(&out);
		}
	}
	/* No failed authentication issued anything. */
	assert_int_equal(fx_token_count(f), 0);
}

/* Each method works end to end at each endpoint. */
static void
test_endpoints_accept(void **state)
{
	struct fx *f = *state;
	char header[FX_HEADER_MAX];
	struct fx_resp out;

	fx_post(f, "/token", fx_basic(header, FX_CONF ":" FX_CONF_SECRET),
	    "grant_type=client_credentials", &out);
	fx_assert_status(&out, 200);
	assert_null(out.r.www_authenticate);
	fx_resp_free(&out);
	fx_post(f, "/token", fx_basic(header, CA_ODD_ID_ENC ":"
	    CA_ODD_SECRET_ENC), "grant_type=client_credentials", &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	fx_post(f, "/introspect", fx_basic(header, FX_PUB ":"), "token=abc",
	    &out);
	fx_assert_status(&out, 200);
	assert_string_equal(out.r.body.data, "{\"active\":false}");
	fx_resp_free(&out);
	fx_post(f, "/revoke", NULL, "client_id=" FX_PUB "&token=abc", &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	/* JSON bodies carry client_secret_post as well. */
	{
		struct fx_req q = {0};

		q.method = "POST";
		q.path = "/token";
		q.content_type = "application/json; charset=utf-8";
		q.body = "{\"grant_type\":\"client_credentials\","
			 "\"client_id\":\"" FX_CONF "\","
			 "\"client_secret\":\"" FX_CONF_SECRET "\"}";
		fx_run(f, &q, &out);
		fx_assert_status(&out, 200);
		fx_resp_free(&out);
	}
}

/*
 * Failed authentications are logged with the client id, quoted so a peer
 * cannot forge lines, and never with the secret presented.
 */
static void
test_failure_log(void **state)
{
	struct fx *f = *state;
	char header[FX_HEADER_MAX], log[8192];
	struct fx_capture capture;
	struct fx_resp out;

	fx_capture_begin(&capture);
	fx_post(f, "/token", NULL, "grant_type=client_credentials&client_id="
	    FX_CONF "&client_secret=hunter2-presented-secret", &out);
	fx_resp_free(&out);
	fx_post(f, "/token", fx_basic(header, FX_CONF ":basic-presented-pw"),
	    "grant_type=client_credentials", &out);
	fx_resp_free(&out);
	fx_post(f, "/token", NULL, "grant_type=client_credentials"
	    "&client_id=evil%0Aoauth.fcgi:+forged&client_secret=x", &out);
	fx_resp_free(&out);
	fx_capture_end(&capture, log, sizeof(log));
	assert_true(log[0] != '\0');
	assert_non_null(strstr(log, "\"" FX_CONF "\""));
	assert_null(strstr(log, "hunter2"));
	assert_null(strstr(log, "basic-presented-pw"));
	/* One line per failure: the newline in the id was escaped. */
	assert_null(strstr(log, "\noauth.fcgi: forged"));
	assert_non_null(strstr(log, "evil\\x0a"));
}

/* client_auth_fail adds the challenge only to invalid_client. */
static void
test_client_auth_fail(void **state)
{
	struct request req;
	struct fx_resp out;

	(void)state;
	memset(&req, 0, sizeof(req));
	req.authorization = "Basic eDp5";
	response_init(&out.r);
	client_auth_fail(&out.r, &req, OAUTH_INVALID_CLIENT, "failed");
	out.json = cJSON_Parse(out.r.body.data);
	fx_assert_error(&out, 401, "invalid_client");
	assert_string_equal(out.r.www_authenticate, CA_REALM);
	fx_resp_free(&out);

	client_auth_fail(&out.r, &req, OAUTH_INVALID_REQUEST, "two methods");
	out.json = cJSON_Parse(out.r.body.data);
	fx_assert_error(&out, 400, "invalid_request");
	assert_null(out.r.www_authenticate);
	fx_resp_free(&out);

	client_auth_fail(&out.r, &req, OAUTH_TEMPORARILY_UNAVAILABLE, "busy");
	out.json = cJSON_Parse(out.r.body.data);
	fx_assert_error(&out, 503, "temporarily_unavailable");
	assert_null(out.r.www_authenticate);
	fx_resp_free(&out);

	req.authorization = NULL;
	client_auth_fail(&out.r, &req, OAUTH_INVALID_CLIENT, "failed");
	assert_int_equal(out.r.status, 401);
	assert_null(out.r.www_authenticate);
	response_free(&out.r);
}

/*
 * Registers id with an operator secret stored at iterations PBKDF2
 * rounds: secret's, or, when secret is NULL, random bytes that no secret
 * matches (a wrong secret costs the full KDF all the same).
 */
static void
ca_add_slow_client(struct fx *f, const char *id, uint32_t iterations,
    const char *secret)
{
	struct client c;
	struct store_txn *txn;

	memset(&c, 0, sizeof(c));
	memcpy(c.id, id, strlen(id));
	assert_int_equal(unit_random(NULL, c.secret_salt,
	    sizeof(c.secret_salt)), 0);
	if (secret != NULL)
		assert_int_equal(crypto_secret_derive(c.secret_salt, secret,
		    strlen(secret), iterations, c.secret_hash), 0);
	else
		assert_int_equal(unit_random(NULL, c.secret_hash,
		    sizeof(c.secret_hash)), 0);
	c.secret_iterations = iterations;
	c.grant_types = GRANT_CLIENT_CREDENTIALS;
	c.scope = (char *)"read";
	c.created_at = UNIT_NOW;
	assert_int_equal(store_txn_begin(f->store, 1, &txn), STORE_OK);
	assert_int_equal(store_client_put(txn, &c, 1), STORE_OK);
	assert_int_equal(store_txn_commit(txn), STORE_OK);
}

/*
 * A client that presents a wrong secret for a client stored with the
 * slowest KDF does not hold back another client's token request: the KDF
 * runs outside the write transaction, so the victim's request completes
 * while the attacker's is still deriving.  No clock is read: the attacker
 * says on a pipe when its request has returned, and that must not have
 * happened when the victim's request is done (the KDF takes seconds, the
 * victim's request milliseconds).
 */
static void
test_kdf_outside_write_lock(void **state)
{
	struct fx *f = *state;
	char header[FX_HEADER_MAX];
	struct fx_resp out;
	struct pollfd pfd;
	struct timespec pause = {0, 200 * 1000 * 1000};
	int started[2], done[2], status;
	char byte;
	pid_t pid;

	ca_add_slow_client(f, "slow", SECRET_KDF_ITERATIONS_MAX, NULL);
	store_close(f->store);
	f->store = NULL;
	assert_int_equal(pipe(started), 0);
	assert_int_equal(pipe(done), 0);
	if ((pid = fork()) == 0) {
		struct fx_resp att;

		close(started[0]);
		close(done[0]);
		if (store_open(f->dir, FX_MAP_DEFAULT, 0, &f->store, NULL, 0) !=
		    STORE_OK)
			_exit(2);
		f->env.store = f->store;
		(void)!write(started[1], "s", 1);
		fx_post(f, "/token", fx_basic(header, "slow:wrong"),
		    "grant_type=client_credentials", &att);
		(void)!write(done[1], "d", 1);
		_exit(att.r.status == 401 ? 0 : 1);
	}
	assert_true(pid > 0);
	close(started[1]);
	close(done[1]);
	assert_int_equal(store_open(f->dir, FX_MAP_DEFAULT, 0, &f->store, NULL, 0),
	    STORE_OK);
	f->env.store = f->store;
	assert_int_equal(read(started[0], &byte, 1), 1);
	/* Let the attacker reach its KDF: a fraction of its length. */
	(void)nanosleep(&pause, NULL);
	fx_post(f, "/token", fx_basic(header, FX_CONF ":" FX_CONF_SECRET),
	    "grant_type=client_credentials", &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	pfd.fd = done[0];
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 0), 0);
	/* The attacker fails as it should, in its own time. */
	assert_int_equal(read(done[0], &byte, 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(started[0]);
	close(done[0]);
}

/*
 * The secret is checked outside the request's transaction, so
 * client_auth_confirm must refuse a client whose secret changed, or that
 * was removed, after client_auth read it; and must hand over the record
 * the transaction sees when nothing that was checked changed.
 */
static void
test_confirm_sees_changes(void **state)
{
	struct fx *f = *state;
	static const struct fx_client renewed = {FX_CONF, "a-new-secret",
	    "read", GRANT_CLIENT_CREDENTIALS, 0, NULL, {NULL}};
	char header[FX_HEADER_MAX];
	struct request req;
	struct params params;
	struct client_auth auth;
	struct store_txn *txn;
	const char *why = NULL;

	memset(&req, 0, sizeof(req));
	req.content_type = "application/x-www-form-urlencoded";
	req.body = "";
	req.authorization = fx_basic(header,
	    FX_CONF ":" FX_CONF_SECRET);
	assert_int_equal(params_parse_body(&req, &params, NULL), OAUTH_OK);

	/* Unchanged: confirmed, with the record of the transaction. */
	assert_int_equal(client_auth(&f->env, &req, &params, NULL, &auth, &why),
	    OAUTH_OK);
	assert_int_equal(store_txn_begin(f->store, 1, &txn), STORE_OK);
	assert_int_equal(client_auth_confirm(txn, &auth, &why), OAUTH_OK);
	assert_string_equal(auth.client.id, FX_CONF);
	store_txn_abort(txn);
	client_free(&auth.client);

	/* The secret changed in between: refused. */
	assert_int_equal(client_auth(&f->env, &req, &params, NULL, &auth, &why),
	    OAUTH_OK);
	fx_add_client(f, &renewed);
	assert_int_equal(store_txn_begin(f->store, 1, &txn), STORE_OK);
	assert_int_equal(client_auth_confirm(txn, &auth, &why),
	    OAUTH_INVALID_CLIENT);
	assert_null(auth.client.scope);
	store_txn_abort(txn);

	/* Removed in between: refused. */
	req.authorization = fx_basic(header,
	    FX_OTHER ":" FX_OTHER_SECRET);
	assert_int_equal(client_auth(&f->env, &req, &params, NULL, &auth, &why),
	    OAUTH_OK);
	assert_int_equal(store_txn_begin(f->store, 1, &txn), STORE_OK);
	assert_int_equal(store_client_delete(txn, FX_OTHER), STORE_OK);
	assert_int_equal(client_auth_confirm(txn, &auth, &why),
	    OAUTH_INVALID_CLIENT);
	store_txn_abort(txn);
	params_free(&params);
}

/*
 * At /token and /revoke an Authorization header of another scheme, such
 * as the SDK's own Bearer token, is not client authentication: the body's
 * credentials are, and a bearer token alone mints nothing.
 */
static void
test_other_scheme_not_auth(void **state)
{
	struct fx *f = *state;
	char token[TOKEN_PRESENTED_MAX + 1], header[FX_HEADER_MAX];
	struct fx_resp out;

	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	snprintf(header, sizeof(header), "Bearer %s", token);

	fx_post(f, "/token", header, "grant_type=client_credentials"
	    "&client_id=" FX_CONF "&client_secret=" FX_CONF_SECRET, &out);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	fx_post(f, "/token", header, "grant_type=client_credentials", &out);
	fx_assert_error(&out, 401, "invalid_client");
	assert_string_equal(out.r.www_authenticate, CA_REALM);
	assert_non_null(strstr(fx_str(&out, "error_description"),
	    "client_secret"));
	fx_resp_free(&out);
	fx_post(f, "/token", header, "grant_type=client_credentials"
	    "&client_id=" FX_CONF "&client_secret=wrong", &out);
	fx_assert_error(&out, 401, "invalid_client");
	fx_resp_free(&out);

	fx_postf(f, "/revoke", header, &out, "token=%s" CA_POST_SUFFIX, token);
	fx_assert_status(&out, 200);
	fx_resp_free(&out);
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, token), 0);
	fx_postf(f, "/revoke", header, &out, "token=%s", token);
	fx_assert_error(&out, 401, "invalid_client");
	fx_resp_free(&out);
}

/*
 * A request authenticates its client inside its own transaction (a token
 * request's write one, an introspection's read one), except when an
 * operator's secret needs the KDF: that is checked with no transaction
 * open, then confirmed in a new one.  Both ways answer alike, and a wrong
 * secret is a 401 either way.
 */
static void
test_auth_ways(void **state)
{
	static const char secret[] = "an operator's own secret, long";
	struct fx *f = *state;
	struct fx_resp out;
	char token[TOKEN_PRESENTED_MAX + 1], own[TOKEN_PRESENTED_MAX + 1];

	ca_add_slow_client(f, "opsec", 1000, secret);
	fx_cc_token(f, FX_CONF, FX_CONF_SECRET, NULL, token);
	/* A generated secret: checked in the read transaction. */
	assert_int_equal(fx_introspect(f, FX_CONF, FX_CONF_SECRET, token), 1);
	/* An operator's: its KDF outside them, each time (no cache here). */
	fx_cc_token(f, "opsec", secret, NULL, own);
	assert_int_equal(fx_introspect(f, "opsec", secret, own), 1);
	assert_int_equal(fx_introspect(f, "opsec", secret, own), 1);
	/* Authenticated, but not the token's client: inactive to it. */
	assert_int_equal(fx_introspect(f, "opsec", secret, token), 0);
	fx_postf(f, "/introspect", NULL, &out,
	    "client_id=opsec&client_secret=wrong&token=%s", token);
	fx_assert_error(&out, 401, "invalid_client");
	fx_resp_free(&out);
	fx_postf(f, "/introspect", NULL, &out,
	    "client_id=" FX_CONF "&client_secret=wrong&token=%s", token);
	fx_assert_error(&out, 401, "invalid_client");
	fx_resp_free(&out);
	fx_postf(f, "/introspect", NULL, &out,
	    "client_id=nobody&client_secret=wrong&token=%s", token);
	fx_assert_error(&out, 401, "invalid_client");
	fx_resp_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_client_auth_table,
		    ca_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_auth_limits,
		    ca_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_endpoints_challenge,
		    ca_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_endpoints_accept,
		    ca_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_failure_log, ca_setup,
		    fx_teardown),
		cmocka_unit_test(test_client_auth_fail),
		cmocka_unit_test_setup_teardown(test_kdf_outside_write_lock,
		    ca_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_confirm_sees_changes,
		    ca_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_other_scheme_not_auth,
		    ca_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_auth_ways,
		    ca_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
