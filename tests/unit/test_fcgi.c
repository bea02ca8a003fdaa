/*
 * The web-server adapter: the request filler driven by fake getparam and
 * read callbacks, the response writer checked byte for byte, and one
 * request end to end through handler_dispatch.
 */
#include "unit.h"

#include "../../fcgi/fcgi.h"

#define TEST_MAX_BODY 8		/* OAUTH_MAX_BODY of these tests */
#define TEST_VARS_MAX 16

struct fake_var {
	const char *name;
	const char *value;
};

/* A request source: variables, a body, and a record of the reads. */
struct fake_source {
	struct fake_var vars[TEST_VARS_MAX];
	const char *body;	/* NULL: a read fails */
	size_t body_len;
	size_t pos;
	size_t chunk;		/* most bytes one read returns; 0: no limit */
	size_t lie;		/* added to what a read claims to return */
	int reads;
	int body_told;		/* calls of the source's body_read */
};

#define TEST_READS_MAX 1000	/* a reader that loops forever fails */
#define TEST_VAR_BYTES (2 * 1024 * 1024)	/* the "NAME=value" strings */

/*
 * Set for the second run of every test: the source then also hands its
 * variables over as "NAME=value" strings (struct fcgi_source's vars), as
 * FastCGI and CGI do, instead of only one getparam call at a time.
 */
static int fake_one_pass;
static char fake_var_bytes[TEST_VAR_BYTES];
static char *fake_var_list[TEST_VARS_MAX + 1];

static const char *
fake_getparam(void *ctx, const char *name)
{
	struct fake_source *f = ctx;
	size_t i;

	for (i = 0; i < TEST_VARS_MAX && f->vars[i].name != NULL; i++)
		if (strcmp(f->vars[i].name, name) == 0)
			return f->vars[i].value;
	return NULL;
}

/*
 * The variables of f as "NAME=value" strings, rebuilt at each call; one
 * whose value is NULL as "NAME" alone, which no web server sends.
 */
static char **
fake_vars(void *ctx)
{
	struct fake_source *f = ctx;
	size_t i, used = 0;
	int n;

	for (i = 0; i < TEST_VARS_MAX && f->vars[i].name != NULL; i++) {
		n = snprintf(fake_var_bytes + used, sizeof(fake_var_bytes) - used,
		    "%s%s%s", f->vars[i].name, f->vars[i].value != NULL ? "=" :
		    "", f->vars[i].value != NULL ? f->vars[i].value : "");
		if (n < 0 || (size_t)n >= sizeof(fake_var_bytes) - used)
			fail_msg("the variables need more than %d bytes",
			    TEST_VAR_BYTES);
		fake_var_list[i] = fake_var_bytes + used;
		used += (size_t)n + 1;
	}
	fake_var_list[i] = NULL;
	return fake_var_list;
}

static ssize_t
fake_read(void *ctx, char *buf, size_t n)
{
	struct fake_source *f = ctx;
	size_t left;

	if (++f->reads > TEST_READS_MAX)
		fail_msg("read called %d times", f->reads);
	if (f->body == NULL)
		return -1;
	left = f->body_len - f->pos;
	if (n > left)
		n = left;
	if (f->chunk != 0 && n > f->chunk)
		n = f->chunk;
	memcpy(buf, f->body + f->pos, n);
	f->pos += n;
	return (ssize_t)(n + f->lie);
}

static void
fake_body_read(void *ctx)
{
	struct fake_source *f = ctx;

	f->body_told++;
}

/* A sink that keeps what it is given, and fails from write fail_at on. */
struct fake_sink {
	struct buf out;
	int writes;
	int fail_at;		/* 0: never fails */
};

static int
fake_write(void *ctx, const char *data, size_t len)
{
	struct fake_sink *s = ctx;

	s->writes++;
	if (s->fail_at != 0 && s->writes >= s->fail_at)
		return -1;
	return buf_append(&s->out, data, len);
}

static struct config
test_config(void)
{
	struct config c;

	memset(&c, 0, sizeof(c));
	c.max_body = TEST_MAX_BODY;
	c.access_ttl = 3600;
	c.refresh_ttl = 1209600;
	c.code_ttl = 60;
	return c;
}

/*
 * Empties f, then gives it REQUEST_METHOD method (NULL: unset) and body
 * (NULL: a read fails).
 */
static void
fake_init(struct fake_source *f, const char *method, const char *body)
{
	memset(f, 0, sizeof(*f));
	if (method != NULL)
		f->vars[0] = (struct fake_var){"REQUEST_METHOD", method};
	f->body = body;
	f->body_len = body != NULL ? strlen(body) : 0;
}

/* Reads the request f holds into req (zeroed first) and a fresh resp. */
static enum oauth_error
fake_request_read(struct fake_source *f, struct request *req,
    struct response *resp)
{
	struct config cfg = test_config();
	struct fcgi_source src = {fake_getparam, fake_read, f,
	    fake_one_pass ? fake_vars : NULL, fake_body_read};

	memset(req, 0, sizeof(*req));
	response_init(resp);
	return fcgi_request_read(&src, &cfg, req, resp);
}

/* Asserts that every field of req is unset, as after a failure. */
static void
assert_request_empty(const struct request *req, int line)
{
	static const struct request zero;

	if (memcmp(req, &zero, sizeof(zero)) != 0)
		fail_msg("line %d: request not released", line);
}

/* CONTENT_LENGTH, the body and the method, one row per case. */
static const struct read_case {
	int line;
	struct fake_var vars[4];
	const char *body;	/* NULL: the read callback fails */
	size_t chunk;
	enum oauth_error want;
	const char *want_body;	/* on OAUTH_OK */
	int want_reads;		/* -1: any number */
} read_cases[] = {
	{__LINE__, {{"REQUEST_METHOD", "GET"}}, "", 0, OAUTH_OK, "", 0},
	/* POST without CONTENT_LENGTH is an empty body, stdin unread. */
	{__LINE__, {{"REQUEST_METHOD", "POST"}}, "a=b", 0, OAUTH_OK, "", 0},
	/* RFC 3875 §4.1.2: an empty CONTENT_LENGTH is no body. */
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", ""}},
	    "a=b", 0, OAUTH_OK, "", 0},
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "0"}},
	    "a=b", 0, OAUTH_OK, "", 0},
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "5"}},
	    "hello", 0, OAUTH_OK, "hello", -1},
	/* Exactly CONTENT_LENGTH bytes, whatever follows. */
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "3"}},
	    "a=bc=d", 0, OAUTH_OK, "a=b", -1},
	/* A body that comes a byte at a time is still read whole. */
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "5"}},
	    "hello", 1, OAUTH_OK, "hello", 5},
	/* The maximum itself is accepted. */
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "8"}},
	    "12345678", 0, OAUTH_OK, "12345678", -1},
	/* Any method may carry a body. */
	{__LINE__, {{"REQUEST_METHOD", "GET"}, {"CONTENT_LENGTH", "3"}},
	    "x=y", 0, OAUTH_OK, "x=y", -1},
	/* Short body. */
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "5"}},
	    "hel", 0, OAUTH_INVALID_REQUEST, NULL, -1},
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "5"}},
	    "", 0, OAUTH_INVALID_REQUEST, NULL, 1},
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "5"}},
	    "hel", 1, OAUTH_INVALID_REQUEST, NULL, 4},
	/* The read fails. */
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "5"}},
	    NULL, 0, OAUTH_INVALID_REQUEST, NULL, 1},
	/* Malformed CONTENT_LENGTH: refused before any read. */
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "abc"}},
	    "abc", 0, OAUTH_INVALID_REQUEST, NULL, 0},
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "-1"}},
	    "abc", 0, OAUTH_INVALID_REQUEST, NULL, 0},
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "+3"}},
	    "abc", 0, OAUTH_INVALID_REQUEST, NULL, 0},
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", " 3"}},
	    "abc", 0, OAUTH_INVALID_REQUEST, NULL, 0},
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "3 "}},
	    "abc", 0, OAUTH_INVALID_REQUEST, NULL, 0},
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "0x3"}},
	    "abc", 0, OAUTH_INVALID_REQUEST, NULL, 0},
	/* Above the maximum: 413, and not one byte read. */
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "9"}},
	    "123456789", 0, OAUTH_BODY_TOO_LARGE, NULL, 0},
	{__LINE__, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "1000"}},
	    "abc", 0, OAUTH_BODY_TOO_LARGE, NULL, 0},
	{__LINE__, {{"REQUEST_METHOD", "POST"},
	    {"CONTENT_LENGTH", "18446744073709551616"}},
	    "abc", 0, OAUTH_BODY_TOO_LARGE, NULL, 0},
	{__LINE__, {{"REQUEST_METHOD", "POST"},
	    {"CONTENT_LENGTH", "99999999999999999999999999999999999999"}},
	    "abc", 0, OAUTH_BODY_TOO_LARGE, NULL, 0},
	/* RFC 3875 §4.1.12: no method, no request. */
	{__LINE__, {{"PATH_INFO", "/token"}}, "", 0, OAUTH_INVALID_REQUEST,
	    NULL, 0},
	{__LINE__, {{"REQUEST_METHOD", ""}, {"CONTENT_LENGTH", "3"}}, "a=b",
	    0, OAUTH_INVALID_REQUEST, NULL, 0},
};

static void
test_read_cases(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(read_cases) / sizeof(read_cases[0]); i++) {
		const struct read_case *c = &read_cases[i];
		struct fake_source f;
		struct request req;
		struct response resp;
		enum oauth_error err;

		fake_init(&f, NULL, c->body);
		for (j = 0; j < 4 && c->vars[j].name != NULL; j++)
			f.vars[j] = c->vars[j];
		f.chunk = c->chunk;

		err = fake_request_read(&f, &req, &resp);
		if (err != c->want)
			fail_msg("line %d: error %d, want %d", c->line,
			    (int)err, (int)c->want);
		if (c->want_reads >= 0 && f.reads != c->want_reads)
			fail_msg("line %d: %d reads, want %d", c->line,
			    f.reads, c->want_reads);
		/*
		 * The source hears that the announced body was read whole
		 * exactly when the request was read, never after a 413 or a
		 * short body: FastCGI then keeps libfcgi's lingering close.
		 */
		if (f.body_told != (c->want == OAUTH_OK))
			fail_msg("line %d: body_read told %d times", c->line,
			    f.body_told);
		if (c->want == OAUTH_OK) {
			if (req.body == NULL ||
			    req.body_len != strlen(c->want_body) ||
			    memcmp(req.body, c->want_body, req.body_len) != 0 ||
			    req.body[req.body_len] != '\0')
				fail_msg("line %d: body not \"%s\"", c->line,
				    c->want_body);
			/* A request to dispatch leaves resp alone. */
			if (resp.status != 200 || resp.body.len != 0)
				fail_msg("line %d: response touched", c->line);
		} else {
			assert_request_empty(&req, c->line);
			if (resp.status != oauth_error_status(c->want) ||
			    resp.content_type == NULL ||
			    strcmp(resp.content_type,
				"application/json") != 0 ||
			    resp.body.data == NULL ||
			    strstr(resp.body.data,
				"\"error\":\"invalid_request\"") == NULL)
				fail_msg("line %d: status %d, body %s", c->line,
				    resp.status, resp.body.data);
		}
		request_free(&req);
		response_free(&resp);
	}
}

/*
 * Each capped variable: its cap is fine, a byte more is a 400; but an
 * over-long method or path (routed) is one the router does not know, so
 * that it answers 405 or 404 as for any other.
 */
static const struct cap_case {
	int line;
	const char *name;
	size_t max;
	size_t offset;
	int routed;
} cap_cases[] = {
	{__LINE__, "REQUEST_METHOD", FCGI_METHOD_MAX,
	    offsetof(struct request, method), 1},
	{__LINE__, "PATH_INFO", FCGI_PATH_MAX, offsetof(struct request, path),
	    1},
	{__LINE__, "QUERY_STRING", FCGI_QUERY_MAX,
	    offsetof(struct request, query), 0},
	{__LINE__, "CONTENT_TYPE", FCGI_CONTENT_TYPE_MAX,
	    offsetof(struct request, content_type), 0},
	{__LINE__, "HTTP_AUTHORIZATION", AUTH_HEADER_MAX,
	    offsetof(struct request, authorization), 0},
	{__LINE__, "REMOTE_USER", USERNAME_MAX,
	    offsetof(struct request, remote_user), 0},
	{__LINE__, "HTTP_HOST", HOST_MAX, offsetof(struct request, host), 0},
	{__LINE__, "SERVER_NAME", HOST_MAX,
	    offsetof(struct request, server_name), 0},
	{__LINE__, "SERVER_PORT", FCGI_PORT_MAX,
	    offsetof(struct request, server_port), 0},
	{__LINE__, "SCRIPT_NAME", FCGI_PATH_MAX,
	    offsetof(struct request, script_name), 0},
	{__LINE__, "HTTPS", FCGI_FLAG_MAX, offsetof(struct request, https), 0},
};

#define TEST_HUGE (1024 * 1024)

static void
test_read_caps(void **state)
{
	char *value;
	size_t i, extra;

	(void)state;
	if ((value = malloc(TEST_HUGE + 1)) == NULL)
		fail_msg("out of memory");
	for (i = 0; i < sizeof(cap_cases) / sizeof(cap_cases[0]); i++) {
		const struct cap_case *c = &cap_cases[i];

		/* extra: 0 at the cap, 1 past it, then far past it. */
		for (extra = 0; extra <= 2; extra++) {
			size_t len = extra == 2 ? TEST_HUGE : c->max + extra;
			struct fake_source f;
			struct request req;
			struct response resp;
			enum oauth_error err;
			char *got;

			memset(value, 'a', len);
			value[len] = '\0';
			fake_init(&f, "POST", "a=b");
			f.vars[1] = (struct fake_var){"CONTENT_LENGTH", "3"};
			f.vars[2] = (struct fake_var){c->name, value};
			if (strcmp(c->name, "REQUEST_METHOD") == 0)
				f.vars[0].name = "unused";

			err = fake_request_read(&f, &req, &resp);
			got = *(char **)(void *)((char *)&req + c->offset);
			if (extra == 0) {
				if (err != OAUTH_OK || got == NULL ||
				    strlen(got) != len)
					fail_msg("line %d: %s at its cap "
					    "refused", c->line, c->name);
			} else if (c->routed) {
				if (err != OAUTH_OK || got == NULL ||
				    strcmp(got, "(too long)") != 0)
					fail_msg("line %d: %s of %zu bytes: "
					    "error %d", c->line, c->name, len,
					    (int)err);
			} else {
				if (err != OAUTH_INVALID_REQUEST ||
				    resp.status != 400 || f.reads != 0)
					fail_msg("line %d: %s of %zu bytes: "
					    "error %d, %d reads", c->line,
					    c->name, len, (int)err, f.reads);
				assert_request_empty(&req, c->line);
				if (strstr(resp.body.data, "too long") == NULL)
					fail_msg("line %d: body %s", c->line,
					    resp.body.data);
			}
			request_free(&req);
			response_free(&resp);
		}
	}
	free(value);
}

/* Every variable arrives in its field, as a copy of its own. */
static void
test_read_copies(void **state)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
		{"REQUEST_METHOD", offsetof(struct request, method)},
		{"PATH_INFO", offsetof(struct request, path)},
		{"QUERY_STRING", offsetof(struct request, query)},
		{"CONTENT_TYPE", offsetof(struct request, content_type)},
		{"HTTP_AUTHORIZATION", offsetof(struct request, authorization)},
		{"REMOTE_USER", offsetof(struct request, remote_user)},
		{"HTTP_HOST", offsetof(struct request, host)},
		{"SERVER_NAME", offsetof(struct request, server_name)},
		{"SERVER_PORT", offsetof(struct request, server_port)},
		{"SCRIPT_NAME", offsetof(struct request, script_name)},
		{"HTTPS", offsetof(struct request, https)},
	};
	static const char *const values[] = {
		"POST", "/token", "a=1&b=2",
		"application/x-www-form-urlencoded",
		"Basic YTpi", "alice", "auth.example:8443", "auth.example",
		"8443", "/oauth", "on",
	};
	char storage[sizeof(fields) / sizeof(fields[0])][64];
	struct fake_source f;
	struct request req;
	struct response resp;
	size_t i, n = sizeof(fields) / sizeof(fields[0]);
	char *got;

	(void)state;
	fake_init(&f, NULL, "x=1&y=2");
	for (i = 0; i < n; i++) {
		(void)snprintf(storage[i], sizeof(storage[i]), "%s",
		    values[i]);
		f.vars[i].name = fields[i].name;
		f.vars[i].value = storage[i];
	}
	f.vars[n] = (struct fake_var){"CONTENT_LENGTH", "7"};
	assert_int_equal(fake_request_read(&f, &req, &resp), OAUTH_OK);
	/* libfcgi reuses its memory once the request ends. */
	for (i = 0; i < n; i++)
		memset(storage[i], 'X', sizeof(storage[i]) - 1);
	for (i = 0; i < n; i++) {
		got = *(char **)(void *)((char *)&req + fields[i].offset);
		if (got == NULL || got == storage[i] ||
		    strcmp(got, values[i]) != 0)
			fail_msg("%s: got %s, want %s", fields[i].name,
			    got != NULL ? got : "(null)", values[i]);
	}
	assert_int_equal(req.body_len, 7);
	assert_string_equal(req.body, "x=1&y=2");
	request_free(&req);
	response_free(&resp);
}

/*
 * Names that are almost ours are not ours: one a character longer, one of
 * the same length, one far longer than any, and one without "=" at all
 * (unset, as getparam has it); of two of a name, the first counts.
 */
static void
test_read_near_names(void **state)
{
	static const char long_name[] =
	    "HTTP_X_A_NAME_LONGER_THAN_ANY_OF_OURS_BY_FAR";
	struct fake_source f;
	struct request req;
	struct response resp;

	(void)state;
	fake_init(&f, "POST", "");
	f.vars[1] = (struct fake_var){"PATH_INFO_X", "/longer"};
	f.vars[2] = (struct fake_var){"PATH_INFX", "/same-length"};
	f.vars[3] = (struct fake_var){long_name, "/long"};
	f.vars[4] = (struct fake_var){"HTTP_HOST", NULL};
	f.vars[5] = (struct fake_var){"PATH_INFO", "/token"};
	f.vars[6] = (struct fake_var){"PATH_INFO", "/second"};
	f.vars[7] = (struct fake_var){"CONTENT_LENGTH", "0"};
	assert_int_equal(fake_request_read(&f, &req, &resp), OAUTH_OK);
	assert_string_equal(req.path, "/token");
	assert_null(req.host);
	assert_string_equal(req.method, "POST");
	assert_int_equal(req.body_len, 0);
	request_free(&req);
	response_free(&resp);
}

/* An unset variable stays NULL; an empty one is copied as "". */
static void
test_read_unset(void **state)
{
	struct fake_source f;
	struct request req;
	struct response resp;

	(void)state;
	fake_init(&f, "GET", "");
	f.vars[1] = (struct fake_var){"QUERY_STRING", ""};
	assert_int_equal(fake_request_read(&f, &req, &resp), OAUTH_OK);
	assert_non_null(req.query);
	assert_string_equal(req.query, "");
	assert_null(req.path);
	assert_null(req.authorization);
	assert_null(req.remote_user);
	assert_non_null(req.body);
	assert_int_equal(req.body_len, 0);
	request_free(&req);
	response_free(&resp);
}

/* A source claiming more bytes than it was asked for is not trusted. */
static void
test_read_source_lies(void **state)
{
	struct fake_source f;
	struct request req;
	struct response resp;

	(void)state;
	fake_init(&f, "POST", "a=b");
	f.vars[1] = (struct fake_var){"CONTENT_LENGTH", "3"};
	f.lie = 1;
	assert_int_equal(fake_request_read(&f, &req, &resp),
	    OAUTH_SERVER_ERROR);
	assert_int_equal(resp.status, 500);
	assert_int_equal(f.reads, 1);
	assert_request_empty(&req, __LINE__);
	response_free(&resp);
}

/* Writes r into s, emptied first; fails the test when the write fails. */
static void
fake_write_response(const struct response *r, struct fake_sink *s, int line)
{
	struct fcgi_sink sink = {fake_write, s};

	memset(s, 0, sizeof(*s));
	if (fcgi_response_write(r, &sink) != 0)
		fail_msg("line %d: write failed", line);
}

/* Writes r through a collecting sink and compares every byte. */
static void
assert_written(const struct response *r, const char *want, size_t want_len,
    int line)
{
	struct fake_sink s;

	fake_write_response(r, &s, line);
	if (s.out.len != want_len || memcmp(s.out.data, want, want_len) != 0)
		fail_msg("line %d: wrote\n%s\nwant\n%s", line,
		    s.out.data != NULL ? s.out.data : "", want);
	buf_free(&s.out);
}

#define ASSERT_WRITTEN(r, lit) \
	assert_written((r), (lit), sizeof(lit) - 1, __LINE__)

static void
test_write_json_error(void **state)
{
	struct response r;

	(void)state;
	response_init(&r);
	response_error(&r, OAUTH_INVALID_REQUEST, "bad thing");
	ASSERT_WRITTEN(&r,
	    "Status: 400 Bad Request\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Length: 59\r\n"
	    "\r\n"
	    "{\"error\":\"invalid_request\","
	    "\"error_description\":\"bad thing\"}");
	response_free(&r);
}

static void
test_write_token(void **state)
{
	struct response r;

	(void)state;
	response_init(&r);
	assert_int_equal(response_json(&r, 200,
	    cJSON_Parse("{\"access_token\":\"x\"}")), 0);
	r.no_store = 1;
	r.no_cache = 1;
	ASSERT_WRITTEN(&r,
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "Pragma: no-cache\r\n"
	    "Content-Length: 20\r\n"
	    "\r\n"
	    "{\"access_token\":\"x\"}");
	response_free(&r);
}

static void
test_write_redirect(void **state)
{
	struct response r;

	(void)state;
	response_init(&r);
	r.status = 302;
	r.location = strdup("https://client.example/cb?code=abc&state=x%20y");
	assert_non_null(r.location);
	ASSERT_WRITTEN(&r,
	    "Status: 302 Found\r\n"
	    "Location: https://client.example/cb?code=abc&state=x%20y\r\n"
	    "Content-Length: 0\r\n"
	    "\r\n");
	response_free(&r);
}

static void
test_write_unauthorized(void **state)
{
	struct response r;

	(void)state;
	response_init(&r);
	response_error(&r, OAUTH_INVALID_CLIENT,
	    "client authentication failed");
	r.www_authenticate = strdup("Basic realm=\"oauth\"");
	assert_non_null(r.www_authenticate);
	ASSERT_WRITTEN(&r,
	    "Status: 401 Unauthorized\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "WWW-Authenticate: Basic realm=\"oauth\"\r\n"
	    "Content-Length: 77\r\n"
	    "\r\n"
	    "{\"error\":\"invalid_client\","
	    "\"error_description\":\"client authentication failed\"}");
	response_free(&r);
}

/* The empty 200 of /revoke: no type, no body. */
static void
test_write_empty(void **state)
{
	struct response r;

	(void)state;
	response_init(&r);
	ASSERT_WRITTEN(&r, "Status: 200 OK\r\nContent-Length: 0\r\n\r\n");
	/* Without a content type a stray body is not sent (struct response). */
	assert_int_equal(buf_puts(&r.body, "stray"), 0);
	ASSERT_WRITTEN(&r, "Status: 200 OK\r\nContent-Length: 0\r\n\r\n");
	response_free(&r);
}

#define SERVER_ERROR_500 \
	"Status: 500 Internal Server Error\r\n" \
	"Content-Type: application/json\r\n" \
	"Cache-Control: no-store\r\n" \
	"Content-Length: 83\r\n" \
	"\r\n" \
	"{\"error\":\"server_error\"," \
	"\"error_description\":\"the server built an invalid response\"}"

enum test_header {
	TEST_LOCATION = 0,
	TEST_WWW_AUTHENTICATE,
	TEST_ALLOW,
	TEST_CONTENT_TYPE,
	TEST_HEADER__MAX
};

/* Header values: a control byte turns the response into a 500. */
static const struct header_case {
	int line;
	enum test_header header;
	const char *value;
	int ok;
} header_cases[] = {
	{__LINE__, TEST_LOCATION, "https://c.example/cb\r\nSet-Cookie: a=b",
	    0},
	{__LINE__, TEST_LOCATION, "https://c.example/cb\nSet-Cookie: a=b", 0},
	{__LINE__, TEST_LOCATION, "https://c.example/cb\r", 0},
	{__LINE__, TEST_LOCATION, "\r\n\r\n<html>", 0},
	{__LINE__, TEST_LOCATION, "https://c.example/\x01", 0},
	{__LINE__, TEST_LOCATION, "https://c.example/\x7f", 0},
	{__LINE__, TEST_WWW_AUTHENTICATE, "Basic realm=\"a\"\r\nX-A: b", 0},
	{__LINE__, TEST_WWW_AUTHENTICATE, "Basic realm=\"a\nb\"", 0},
	{__LINE__, TEST_ALLOW, "POST\r\nX-A: b", 0},
	{__LINE__, TEST_CONTENT_TYPE, "application/json\nX-A: b", 0},
	/* HTAB and bytes above 0x7f are field content (RFC 9110 §5.5). */
	{__LINE__, TEST_WWW_AUTHENTICATE, "Basic\trealm=\"a\"", 1},
	{__LINE__, TEST_LOCATION, "https://c.example/\xc3\xa9", 1},
	{__LINE__, TEST_ALLOW, "GET, POST", 1},
};

static void
test_write_header_injection(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
		const struct header_case *c = &header_cases[i];
		struct fake_sink s;
		struct response r;
		const char *want = SERVER_ERROR_500;

		response_init(&r);
		response_error(&r, OAUTH_INVALID_CLIENT, "x");
		switch (c->header) {
		case TEST_LOCATION:
			r.location = strdup(c->value);
			break;
		case TEST_WWW_AUTHENTICATE:
			r.www_authenticate = strdup(c->value);
			break;
		case TEST_ALLOW:
			r.allow = c->value;
			break;
		case TEST_CONTENT_TYPE:
			r.content_type = c->value;
			break;
		case TEST_HEADER__MAX:
			fail_msg("line %d: no header", c->line);
		}
		fake_write_response(&r, &s, c->line);
		if (c->ok) {
			if (strncmp(s.out.data, "Status: 401 ", 12) != 0 ||
			    strstr(s.out.data, c->value) == NULL)
				fail_msg("line %d: refused\n%s", c->line,
				    s.out.data);
		} else if (s.out.len != strlen(want) ||
		    memcmp(s.out.data, want, s.out.len) != 0)
			fail_msg("line %d: wrote\n%s", c->line, s.out.data);
		/* The response itself is left as it was. */
		if (r.status != 401)
			fail_msg("line %d: response changed", c->line);
		buf_free(&s.out);
		response_free(&r);
	}
}

/* Statuses and reasons; one we never send becomes a 500. */
static const struct status_case {
	int line;
	int status;
	const char *reason;	/* NULL: refused */
} status_cases[] = {
	{__LINE__, 200, "OK"},
	{__LINE__, 302, "Found"},
	{__LINE__, 400, "Bad Request"},
	{__LINE__, 401, "Unauthorized"},
	{__LINE__, 403, "Forbidden"},
	{__LINE__, 404, "Not Found"},
	{__LINE__, 405, "Method Not Allowed"},
	{__LINE__, 413, "Content Too Large"},
	{__LINE__, 500, "Internal Server Error"},
	{__LINE__, 503, "Service Unavailable"},
	{__LINE__, 299, "Success"},
	{__LINE__, 418, "Client Error"},
	{__LINE__, 599, "Server Error"},
	{__LINE__, 0, NULL},
	{__LINE__, -400, NULL},
	{__LINE__, 100, NULL},
	{__LINE__, 199, NULL},
	{__LINE__, 600, NULL},
	{__LINE__, 4000, NULL},
};

static void
test_write_status(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
		const struct status_case *c = &status_cases[i];
		const char *got = fcgi_response_reason(c->status);
		struct fake_sink s;
		struct response r;
		char line[64];

		if (c->reason == NULL ? got != NULL :
		    got == NULL || strcmp(got, c->reason) != 0)
			fail_msg("line %d: reason %s", c->line,
			    got != NULL ? got : "(null)");
		response_init(&r);
		r.status = c->status;
		fake_write_response(&r, &s, c->line);
		if (c->reason != NULL)
			(void)snprintf(line, sizeof(line), "Status: %d %s\r\n",
			    c->status, c->reason);
		else
			(void)snprintf(line, sizeof(line),
			    "Status: 500 Internal Server Error\r\n");
		if (strncmp(s.out.data, line, strlen(line)) != 0)
			fail_msg("line %d: wrote %s", c->line, s.out.data);
		buf_free(&s.out);
		response_free(&r);
	}
}

/* A sink that fails on its first or second write is reported. */
static void
test_write_sink_fails(void **state)
{
	struct response r;
	int at;

	(void)state;
	response_init(&r);
	response_error(&r, OAUTH_INVALID_REQUEST, "bad thing");
	for (at = 1; at <= 2; at++) {
		struct fake_sink s = {{0}, 0, at};
		struct fcgi_sink sink = {fake_write, &s};

		assert_int_equal(fcgi_response_write(&r, &sink), -1);
		buf_free(&s.out);
	}
	response_free(&r);
}

/* Serves the request f holds into s; returns what fcgi_serve returns. */
static int
fake_serve(struct fake_source *f, struct fake_sink *s)
{
	struct config cfg = test_config();
	struct handler_env env;
	struct fcgi_source src = {fake_getparam, fake_read, f,
	    fake_one_pass ? fake_vars : NULL, fake_body_read};
	struct fcgi_sink sink = {fake_write, s};

	memset(&env, 0, sizeof(env));
	env.config = &cfg;
	env.now = unit_clock;
	env.random = unit_random;
	return fcgi_serve(&env, &src, &sink);
}

/* Runs one request through fcgi_serve and compares the bytes written. */
static void
assert_served(struct fake_source *f, const char *want, size_t want_len,
    int line)
{
	struct fake_sink s = {{0}, 0, 0};

	if (fake_serve(f, &s) != 0)
		fail_msg("line %d: serve failed", line);
	if (s.out.len != want_len || memcmp(s.out.data, want, want_len) != 0)
		fail_msg("line %d: wrote\n%s", line,
		    s.out.data != NULL ? s.out.data : "");
	buf_free(&s.out);
}

#define ASSERT_SERVED(f, lit) \
	assert_served((f), (lit), sizeof(lit) - 1, __LINE__)

/* A body over the maximum is answered 413 without reading it. */
static void
test_serve_too_large(void **state)
{
	struct fake_source f;

	(void)state;
	fake_init(&f, "POST", "grant_type=client_credentials");
	f.vars[1] = (struct fake_var){"PATH_INFO", "/token"};
	f.vars[2] = (struct fake_var){"CONTENT_LENGTH", "100000"};
	ASSERT_SERVED(&f,
	    "Status: 413 Content Too Large\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Length: 79\r\n"
	    "\r\n"
	    "{\"error\":\"invalid_request\","
	    "\"error_description\":\"the request body is too large\"}");
	assert_int_equal(f.reads, 0);
}

/* Through handler_dispatch: an unknown path, a wrong method. */
static void
test_serve_dispatch(void **state)
{
	struct fake_source f;

	(void)state;
	fake_init(&f, "GET", "");
	f.vars[1] = (struct fake_var){"PATH_INFO", "/nope"};
	ASSERT_SERVED(&f,
	    "Status: 404 Not Found\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Length: 66\r\n"
	    "\r\n"
	    "{\"error\":\"invalid_request\","
	    "\"error_description\":\"no such endpoint\"}");

	f.vars[1] = (struct fake_var){"PATH_INFO", "/token"};
	ASSERT_SERVED(&f,
	    "Status: 405 Method Not Allowed\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "Allow: POST\r\n"
	    "Content-Length: 85\r\n"
	    "\r\n"
	    "{\"error\":\"invalid_request\","
	    "\"error_description\":\"method not allowed on this endpoint\"}");
}

/* A peer gone mid-response costs a -1, not a leak (see make asan). */
static void
test_serve_sink_fails(void **state)
{
	struct fake_source f;
	struct fake_sink s = {{0}, 0, 1};

	(void)state;
	fake_init(&f, "POST", "a=b");
	f.vars[1] = (struct fake_var){"PATH_INFO", "/nope"};
	f.vars[2] = (struct fake_var){"CONTENT_LENGTH", "3"};
	assert_int_equal(fake_serve(&f, &s), -1);
	buf_free(&s.out);
}

int
main(void)
{
	int failed;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_cases),
		cmocka_unit_test(test_read_caps),
		cmocka_unit_test(test_read_copies),
		cmocka_unit_test(test_read_unset),
		cmocka_unit_test(test_read_near_names),
		cmocka_unit_test(test_read_source_lies),
		cmocka_unit_test(test_write_json_error),
		cmocka_unit_test(test_write_token),
		cmocka_unit_test(test_write_redirect),
		cmocka_unit_test(test_write_unauthorized),
		cmocka_unit_test(test_write_empty),
		cmocka_unit_test(test_write_header_injection),
		cmocka_unit_test(test_write_status),
		cmocka_unit_test(test_write_sink_fails),
		cmocka_unit_test(test_serve_too_large),
		cmocka_unit_test(test_serve_dispatch),
		cmocka_unit_test(test_serve_sink_fails),
	};

	failed = cmocka_run_group_tests_name("fcgi, variables by name", tests,
	    NULL, NULL);
	fake_one_pass = 1;
	failed += cmocka_run_group_tests_name("fcgi, variables in one pass",
	    tests, NULL, NULL);
	return failed;
}
