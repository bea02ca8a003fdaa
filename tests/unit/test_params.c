/*
 * params.c: request bodies, query strings and Basic credentials.
 */
#include <openssl/evp.h>

#include "unit.h"
#include "../../handlers/handlers.h"

#define FORM "application/x-www-form-urlencoded"
#define JSON "application/json"
#define KV_MAX 4

struct kv {
	const char *name;
	const char *value;
};

struct body_case {
	int line;
	const char *ctype;	/* NULL: no Content-Type */
	const char *body;
	size_t bodylen;		/* 0: strlen(body) */
	enum oauth_error err;
	size_t count;
	struct kv kv[KV_MAX];
};

static const struct body_case body_cases[] = {
	/* Form bodies. */
	{__LINE__, FORM, "", 0, OAUTH_OK, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "grant_type=client_credentials", 0, OAUTH_OK, 1,
	    {{"grant_type", "client_credentials"}}},
	{__LINE__, FORM, "a=1&b=2", 0, OAUTH_OK, 2, {{"a", "1"}, {"b", "2"}}},
	{__LINE__, FORM, "a=x+y", 0, OAUTH_OK, 1, {{"a", "x y"}}},
	{__LINE__, FORM, "a=+", 0, OAUTH_OK, 1, {{"a", " "}}},
	{__LINE__, FORM, "a=%2B", 0, OAUTH_OK, 1, {{"a", "+"}}},
	{__LINE__, FORM, "a=b=c", 0, OAUTH_OK, 1, {{"a", "b=c"}}},
	{__LINE__, FORM, "a=%26%3D", 0, OAUTH_OK, 1, {{"a", "&="}}},
	{__LINE__, FORM, "a=%C3%A9", 0, OAUTH_OK, 1, {{"a", "\xc3\xa9"}}},
	{__LINE__, FORM, "redirect_uri=https%3A%2F%2Fc.example%2Fcb%3Fx%3D1", 0,
	    OAUTH_OK, 1, {{"redirect_uri", "https://c.example/cb?x=1"}}},
	{__LINE__, FORM, "a+b=1", 0, OAUTH_OK, 1, {{"a b", "1"}}},
	{__LINE__, FORM, "%61=1", 0, OAUTH_OK, 1, {{"a", "1"}}},
	{__LINE__, FORM, "a=1&A=2", 0, OAUTH_OK, 2, {{"a", "1"}, {"A", "2"}}},
	/* Empty pairs are skipped. */
	{__LINE__, FORM, "a=1&", 0, OAUTH_OK, 1, {{"a", "1"}}},
	{__LINE__, FORM, "&a=1", 0, OAUTH_OK, 1, {{"a", "1"}}},
	{__LINE__, FORM, "a=1&&b=2", 0, OAUTH_OK, 2, {{"a", "1"}, {"b", "2"}}},
	{__LINE__, FORM, "&", 0, OAUTH_OK, 0, {{NULL, NULL}}},
	/* RFC 6749 §3.1: an empty value is an omitted parameter... */
	{__LINE__, FORM, "a=", 0, OAUTH_OK, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=&b=2", 0, OAUTH_OK, 1, {{"b", "2"}}},
	/* ...yet sending it twice is still a repetition (§3.1). */
	{__LINE__, FORM, "a=&a=1", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=1&a=", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=&a=", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=&b=&a=2", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	/* Only body_len bytes are the body. */
	{__LINE__, FORM, "a=1&b=%zz", 3, OAUTH_OK, 1, {{"a", "1"}}},
	/* RFC 6749 §3.1: repeated parameters. */
	{__LINE__, FORM, "a=1&a=2", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=1&a=1", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=1&%61=2", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "a=1&b=2&a=3", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	/* Pairs without '=' or without a name. */
	{__LINE__, FORM, "a", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=1&b", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=1&b&c=2", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "=1", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "=", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=1&=2", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	/* Bad percent-encoding, NUL, invalid UTF-8, in values or names. */
	{__LINE__, FORM, "a=%", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=%0", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=%0&b=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "a=%zz", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=%00", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=1%002", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "a=1\0b=2", 7, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "a%00=1", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "%zz=1", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=%C3%28", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "a=%C0%AF", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "a=%E0%80%AF", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "a=%ED%A0%80", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "a=%F4%90%80%80", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "a=\xff", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "a=%FF", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	/* Names are printable ASCII, even with an empty value. */
	{__LINE__, FORM, "a%01=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "a%7F=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "%C3%A9=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM, "a%0A=", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},

	/* Content types. */
	{__LINE__, "APPLICATION/X-WWW-FORM-URLENCODED", "a=1", 0, OAUTH_OK, 1,
	    {{"a", "1"}}},
	{__LINE__, FORM "; charset=UTF-8", "a=1", 0, OAUTH_OK, 1, {{"a", "1"}}},
	{__LINE__, FORM ";charset=utf-8", "a=1", 0, OAUTH_OK, 1, {{"a", "1"}}},
	{__LINE__, FORM " ; CharSet=\"Utf-8\"", "a=1", 0, OAUTH_OK, 1,
	    {{"a", "1"}}},
	{__LINE__, FORM "; charset=utf-8;", "a=1", 0, OAUTH_OK, 1,
	    {{"a", "1"}}},
	{__LINE__, FORM ";", "a=1", 0, OAUTH_OK, 1, {{"a", "1"}}},
	{__LINE__, FORM ";;charset=utf-8", "a=1", 0, OAUTH_OK, 1,
	    {{"a", "1"}}},
	{__LINE__, FORM "; ; charset=utf-8 ;", "a=1", 0, OAUTH_OK, 1,
	    {{"a", "1"}}},
	{__LINE__, " " FORM "\t", "a=1", 0, OAUTH_OK, 1, {{"a", "1"}}},
	{__LINE__, FORM "; charset=iso-8859-1", "a=1", 0,
	    OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM "; charset=utf8", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM "; charset=utf-16", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM "; charset=", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM "; charset", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM "; charset = utf-8", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM "; charset=\"utf-8", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM "; charset=\"utf\\-8\"", "a=1", 0,
	    OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM "; charset=utf-8 x", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM "; charset=utf-8; foo=bar", "a=1", 0,
	    OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM "; boundary=x", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM "; format=utf-8", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM "; =utf-8", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM "; charset=\"utf-8\\\"", "a=1", 0,
	    OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM " charset=utf-8", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, FORM "x", "a=1", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, "application/x-www-form", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, "text/plain", "a=1", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, "multipart/form-data; boundary=x", "a=1", 0,
	    OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, "application/json-patch+json", "{}", 0,
	    OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, "application/jsonx", "{}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, "", "a=1", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, NULL, "a=1", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, NULL, "", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},

	/* JSON bodies. */
	{__LINE__, JSON, "{}", 0, OAUTH_OK, 0, {{NULL, NULL}}},
	{__LINE__, "Application/JSON; charset=utf-8", "{\"a\":\"1\"}", 0,
	    OAUTH_OK, 1, {{"a", "1"}}},
	{__LINE__, JSON, "{\"grant_type\":\"client_credentials\","
	    "\"scope\":\"read write\"}", 0, OAUTH_OK, 2,
	    {{"grant_type", "client_credentials"}, {"scope", "read write"}}},
	{__LINE__, JSON, " \r\n\t{ \"a\" : \"1\" }\r\n\t ", 0, OAUTH_OK, 1,
	    {{"a", "1"}}},
	{__LINE__, JSON, "{\"a\":\"x\\u00e9\\n\\\"\\\\/+\"}", 0, OAUTH_OK, 1,
	    {{"a", "x\xc3\xa9\n\"\\/+"}}},
	{__LINE__, JSON, "{\"a\":\"\\ud83d\\ude00\"}", 0, OAUTH_OK, 1,
	    {{"a", "\xf0\x9f\x98\x80"}}},
	{__LINE__, JSON, "{\"a\":\"\xc3\xa9\"}", 0, OAUTH_OK, 1,
	    {{"a", "\xc3\xa9"}}},
	{__LINE__, JSON, "{\"a\":\"%41+\"}", 0, OAUTH_OK, 1, {{"a", "%41+"}}},
	/* An escaped backslash, then the text u0000: no NUL here. */
	{__LINE__, JSON, "{\"a\":\"\\\\u0000\"}", 0, OAUTH_OK, 1,
	    {{"a", "\\u0000"}}},
	{__LINE__, JSON, "{\"a\":\"\",\"b\":\"1\"}", 0, OAUTH_OK, 1,
	    {{"b", "1"}}},
	{__LINE__, JSON, "{\"a\":\"\",\"a\":\"1\"}", 0,
	    OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"1\",\"a\":\"2\"}", 0, OAUTH_INVALID_REQUEST,
	    0, {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"1\",\"a\":\"1\"}", 0, OAUTH_INVALID_REQUEST,
	    0, {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"1\",\"\\u0061\":\"2\"}", 0,
	    OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	/* Not an object. */
	{__LINE__, JSON, "", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "   ", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "[]", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "[{\"a\":\"1\"}]", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "\"a=1\"", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "1", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "null", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "true", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "a=1", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	/* Members that are not strings. */
	{__LINE__, JSON, "{\"a\":{\"b\":\"c\"}}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":[\"x\"]}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":1}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"b\":\"1\",\"a\":1.5}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":true}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":null}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	/* Trailing data. */
	{__LINE__, JSON, "{}x", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "{} {}", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"1\"},", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{}\0", 3, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "{}\0{}", 5, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	/* Malformed JSON. */
	{__LINE__, JSON, "{", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\"}", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"1\",}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{'a':'1'}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"1\"", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"1}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"1\\", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"\\x41\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	/* NUL, raw or escaped, in values and names. */
	{__LINE__, JSON, "{\"a\":\"\\u0000\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"x\\u0000y\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\\u0000b\":\"1\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"x\0y\"}", 11, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	/* Control characters, raw in strings or around the value. */
	{__LINE__, JSON, "{\"a\":\"x\ny\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"x\ty\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "\x01{}", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "{}\x0b", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\x0c\"1\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	/* Invalid UTF-8 and surrogates. */
	{__LINE__, JSON, "{\"a\":\"\xff\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"\xc0\xaf\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"\xed\xa0\x80\"}", 0, OAUTH_INVALID_REQUEST,
	    0, {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"\\ud800\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"a\":\"\\udc00\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	/* Names: present, printable ASCII. */
	{__LINE__, JSON, "{\"\":\"1\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"\\u0001\":\"1\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, JSON, "{\"\xc3\xa9\":\"1\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	/* A form body is not JSON, and the other way round. */
	{__LINE__, JSON, "a=1", 0, OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, FORM, "{\"a\":\"1\"}", 0, OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
};

/* Checks the outcome of a parse against what a row expects. */
static void
check_params(int line, enum oauth_error got, const struct params *p,
    const char *why, enum oauth_error want, size_t count, const struct kv *kv,
    const char *input)
{
	size_t i;

	if (got != want)
		fail_msg("line %d: got error %d, want %d (%s)", line, (int)got,
		    (int)want, why != NULL ? why : "");
	if (got != OAUTH_OK) {
		if (why == NULL || *why == '\0')
			fail_msg("line %d: no description", line);
		if (input != NULL && strlen(input) >= 3 &&
		    strstr(why, input) != NULL)
			fail_msg("line %d: description quotes the input", line);
		if (p->count != 0 || p->items[0].name != NULL ||
		    p->items[0].value != NULL)
			fail_msg("line %d: params not left empty", line);
		return;
	}
	if (p->count != count)
		fail_msg("line %d: %zu parameters, want %zu", line, p->count,
		    count);
	for (i = 0; i < count && i < KV_MAX; i++) {
		const char *v = params_get(p, kv[i].name);

		if (v == NULL || strcmp(v, kv[i].value) != 0)
			fail_msg("line %d: %s is \"%s\"", line, kv[i].name,
			    v != NULL ? v : "(absent)");
	}
	for (i = 0; i < p->count; i++) {
		if (p->items[i].value_len == 0 ||
		    p->items[i].value_len != strlen(p->items[i].value))
			fail_msg("line %d: bad value_len of %s", line,
			    p->items[i].name);
	}
}

static void
test_body_table(void **state)
{
	struct request req;
	struct params p;
	const char *why;
	enum oauth_error e;
	size_t i, len;
	char *body;

	(void)state;
	for (i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
		const struct body_case *c = &body_cases[i];

		memset(&req, 0, sizeof(req));
		len = c->bodylen != 0 ? c->bodylen : strlen(c->body);
		/* An exact copy, so that ASan sees a read past body_len. */
		body = malloc(len + 1);
		assert_non_null(body);
		memcpy(body, c->body, len);
		body[len] = '\0';
		req.body = body;
		req.body_len = len;
		req.content_type = c->ctype;
		why = NULL;
		memset(&p, 0x5a, sizeof(p));	/* need not be initialized */
		e = params_parse_body(&req, &p, &why);
		check_params(c->line, e, &p, why, c->err, c->count, c->kv,
		    c->body);
		params_free(&p);
		free(body);
	}
}

/* A missing body (NULL) is an empty one. */
static void
test_body_null(void **state)
{
	struct request req;
	struct params p;
	const char *why = NULL;

	(void)state;
	memset(&req, 0, sizeof(req));
	req.content_type = FORM;
	assert_int_equal(params_parse_body(&req, &p, &why), OAUTH_OK);
	assert_int_equal(p.count, 0);
	req.content_type = JSON;
	assert_int_equal(params_parse_body(&req, &p, &why),
	    OAUTH_INVALID_REQUEST);
	assert_non_null(why);
	/* why may be NULL. */
	assert_int_equal(params_parse_body(&req, &p, NULL),
	    OAUTH_INVALID_REQUEST);
}

struct query_case {
	int line;
	const char *query;
	enum oauth_error err;
	size_t count;
	struct kv kv[KV_MAX];
};

static const struct query_case query_cases[] = {
	{__LINE__, NULL, OAUTH_OK, 0, {{NULL, NULL}}},
	{__LINE__, "", OAUTH_OK, 0, {{NULL, NULL}}},
	{__LINE__, "response_type=code&client_id=c1&state=x%20y", OAUTH_OK, 3,
	    {{"response_type", "code"}, {"client_id", "c1"},
	    {"state", "x y"}}},
	{__LINE__, "scope=read+write&", OAUTH_OK, 1,
	    {{"scope", "read write"}}},
	{__LINE__, "state=&client_id=c1", OAUTH_OK, 1, {{"client_id", "c1"}}},
	{__LINE__, "client_id=c1&client_id=c2", OAUTH_INVALID_REQUEST, 0,
	    {{NULL, NULL}}},
	{__LINE__, "client_id", OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, "state=%", OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, "state=%C3", OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
	{__LINE__, "=x", OAUTH_INVALID_REQUEST, 0, {{NULL, NULL}}},
};

static void
test_query_table(void **state)
{
	struct params p;
	const char *why;
	enum oauth_error e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
		const struct query_case *c = &query_cases[i];

		why = NULL;
		memset(&p, 0x5a, sizeof(p));
		e = params_parse_query(c->query, &p, &why);
		check_params(c->line, e, &p, why, c->err, c->count, c->kv,
		    c->query);
		params_free(&p);
	}
}

/* Parses a NUL-terminated form or JSON body. */
static enum oauth_error
parse(const char *ctype, const char *body, struct params *p)
{
	struct request req;
	const char *why = NULL;

	memset(&req, 0, sizeof(req));
	req.content_type = ctype;
	req.body = body;
	req.body_len = strlen(body);
	return params_parse_body(&req, p, &why);
}

/* PARAMS_MAX parameters pass; one more does not, unless it is empty. */
static void
test_params_max(void **state)
{
	struct buf form, json;
	struct params p;
	size_t i;

	(void)state;
	memset(&form, 0, sizeof(form));
	memset(&json, 0, sizeof(json));
	assert_int_equal(buf_puts(&json, "{"), 0);
	for (i = 0; i < PARAMS_MAX; i++) {
		assert_int_equal(buf_printf(&form, "%sp%zu=v", i ? "&" : "", i),
		    0);
		assert_int_equal(buf_printf(&json, "%s\"p%zu\":\"v\"",
		    i ? "," : "", i), 0);
	}
	assert_int_equal(parse(FORM, form.data, &p), OAUTH_OK);
	assert_int_equal(p.count, PARAMS_MAX);
	assert_string_equal(params_get(&p, "p31"), "v");
	params_free(&p);

	assert_int_equal(buf_puts(&json, "}"), 0);
	assert_int_equal(parse(JSON, json.data, &p), OAUTH_OK);
	assert_int_equal(p.count, PARAMS_MAX);
	params_free(&p);
	json.data[--json.len] = '\0';

	/* An empty parameter counts toward the limit too. */
	assert_int_equal(buf_puts(&form, "&empty="), 0);
	assert_int_equal(parse(FORM, form.data, &p), OAUTH_INVALID_REQUEST);
	assert_int_equal(p.count, 0);

	assert_int_equal(buf_puts(&form, "&one=more"), 0);
	assert_int_equal(parse(FORM, form.data, &p), OAUTH_INVALID_REQUEST);
	assert_int_equal(p.count, 0);

	assert_int_equal(buf_puts(&json, ",\"one\":\"more\"}"), 0);
	assert_int_equal(parse(JSON, json.data, &p), OAUTH_INVALID_REQUEST);
	assert_int_equal(p.count, 0);

	buf_free(&form);
	buf_free(&json);
}

/* PARAM_NAME_MAX bytes of name pass, one more does not. */
static void
test_name_max(void **state)
{
	char name[PARAM_NAME_MAX + 2], body[PARAM_NAME_MAX + 16];
	struct params p;

	(void)state;
	memset(name, 'n', PARAM_NAME_MAX);
	name[PARAM_NAME_MAX] = '\0';
	snprintf(body, sizeof(body), "%s=1", name);
	assert_int_equal(parse(FORM, body, &p), OAUTH_OK);
	assert_string_equal(params_get(&p, name), "1");
	params_free(&p);
	snprintf(body, sizeof(body), "{\"%s\":\"1\"}", name);
	assert_int_equal(parse(JSON, body, &p), OAUTH_OK);
	params_free(&p);

	strcat(name, "n");
	snprintf(body, sizeof(body), "%s=1", name);
	assert_int_equal(parse(FORM, body, &p), OAUTH_INVALID_REQUEST);
	/* Even when the value is empty. */
	snprintf(body, sizeof(body), "%s=", name);
	assert_int_equal(parse(FORM, body, &p), OAUTH_INVALID_REQUEST);
	snprintf(body, sizeof(body), "{\"%s\":\"1\"}", name);
	assert_int_equal(parse(JSON, body, &p), OAUTH_INVALID_REQUEST);
}

/* The description of an error never quotes a secret. */
static void
test_why_static(void **state)
{
	static const char *bodies[] = {
		"client_secret=s3cr3tvalue&client_secret=s3cr3tvalue",
		"client_secret=s3cr3tvalue%",
		"client_secret=s3cr3tvalue&s3cr3tvalue",
	};
	struct params p;
	struct request req;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.content_type = FORM;
		req.body = bodies[i];
		req.body_len = strlen(bodies[i]);
		why = NULL;
		assert_int_equal(params_parse_body(&req, &p, &why),
		    OAUTH_INVALID_REQUEST);
		assert_non_null(why);
		assert_null(strstr(why, "s3cr3t"));
	}
}

static void
test_get_free(void **state)
{
	struct params p;

	(void)state;
	assert_int_equal(parse(FORM, "a=1&b=2", &p), OAUTH_OK);
	assert_string_equal(params_get(&p, "a"), "1");
	assert_null(params_get(&p, "c"));
	assert_null(params_get(&p, "A"));
	assert_null(params_get(&p, NULL));
	assert_null(params_get(NULL, "a"));
	params_free(&p);
	assert_int_equal(p.count, 0);
	assert_null(p.items[0].name);
	assert_null(params_get(&p, "a"));
	/* Twice, and NULL, are harmless. */
	params_free(&p);
	params_free(NULL);
}

struct basic_case {
	int line;
	const char *prefix;	/* NULL: header is used as it is */
	const char *plain;	/* base64-encoded after prefix */
	size_t plainlen;	/* 0: strlen(plain) */
	const char *suffix;
	enum oauth_error err;
	const char *id;
	const char *secret;
};

static const struct basic_case basic_cases[] = {
	{__LINE__, "Basic ", "client:secret", 0, "", OAUTH_OK, "client",
	    "secret"},
	/* RFC 7617 §2 */
	{__LINE__, NULL, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", 0, "", OAUTH_OK,
	    "Aladdin", "open sesame"},
	{__LINE__, "basic ", "c:s", 0, "", OAUTH_OK, "c", "s"},
	{__LINE__, "BASIC ", "c:s", 0, "", OAUTH_OK, "c", "s"},
	{__LINE__, "bAsIc ", "c:s", 0, "", OAUTH_OK, "c", "s"},
	{__LINE__, "Basic    ", "c:s", 0, "", OAUTH_OK, "c", "s"},
	{__LINE__, "Basic ", "c:s", 0, "  \t", OAUTH_OK, "c", "s"},
	/* RFC 6749 §2.3.1: both halves are form-urlencoded. */
	{__LINE__, "Basic ", "a%3Ab:s", 0, "", OAUTH_OK, "a:b", "s"},
	{__LINE__, "Basic ", "c:s%3At", 0, "", OAUTH_OK, "c", "s:t"},
	{__LINE__, "Basic ", "c:se:cret", 0, "", OAUTH_OK, "c", "se:cret"},
	{__LINE__, "Basic ", "c:a+b", 0, "", OAUTH_OK, "c", "a b"},
	{__LINE__, "Basic ", "c:a%2Bb", 0, "", OAUTH_OK, "c", "a+b"},
	{__LINE__, "Basic ", "my+client:s", 0, "", OAUTH_OK, "my client", "s"},
	{__LINE__, "Basic ", "c:%C3%A9", 0, "", OAUTH_OK, "c", "\xc3\xa9"},
	/* A public client: empty secret. */
	{__LINE__, "Basic ", "c:", 0, "", OAUTH_OK, "c", ""},
	/* Not Basic, or no space after the scheme. */
	{__LINE__, NULL, "", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, NULL, "Basic", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, NULL, "Basic ", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, NULL, "Basic    ", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basic", "c:s", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basic\t", "c:s", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, " Basic ", "c:s", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Bearer ", "c:s", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basi ", "c:s", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basicx ", "c:s", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Digest ", "c:s", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	/* Bad base64. */
	{__LINE__, NULL, "Basic Yzpz", 0, "", OAUTH_OK, "c", "s"},
	{__LINE__, NULL, "Basic YzpzZQ", 0, "", OAUTH_INVALID_CLIENT, NULL,
	    NULL},
	{__LINE__, NULL, "Basic YzpzZQ=", 0, "", OAUTH_INVALID_CLIENT, NULL,
	    NULL},
	{__LINE__, NULL, "Basic YzpzZR==", 0, "", OAUTH_INVALID_CLIENT, NULL,
	    NULL},
	{__LINE__, NULL, "Basic Yz pz", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, NULL, "Basic Yzpz\n", 0, "", OAUTH_INVALID_CLIENT, NULL,
	    NULL},
	{__LINE__, NULL, "Basic @@@@", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, NULL, "Basic Yzp-", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, NULL, "Basic Yzpz Yzpz", 0, "", OAUTH_INVALID_CLIENT, NULL,
	    NULL},
	{__LINE__, NULL, "Basic realm=\"x\"", 0, "", OAUTH_INVALID_CLIENT, NULL,
	    NULL},
	/* No colon, empty id. */
	{__LINE__, "Basic ", "client", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basic ", "client%3Asecret", 0, "", OAUTH_INVALID_CLIENT,
	    NULL, NULL},
	{__LINE__, "Basic ", ":secret", 0, "", OAUTH_INVALID_CLIENT, NULL,
	    NULL},
	{__LINE__, "Basic ", ":", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	/* Bad form-urlencoding in either half. */
	{__LINE__, "Basic ", "c%zz:s", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basic ", "c:s%", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basic ", "c:%00", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basic ", "\xff:s", 0, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basic ", "c:\xc0\xaf", 0, "", OAUTH_INVALID_CLIENT, NULL,
	    NULL},
	/* NUL among the decoded bytes, before or after the colon. */
	{__LINE__, "Basic ", "c\0x:s", 5, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basic ", "c\0:s", 4, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basic ", "\0:s", 3, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basic ", "c:s\0", 4, "", OAUTH_INVALID_CLIENT, NULL, NULL},
	{__LINE__, "Basic ", "c:\0", 3, "", OAUTH_INVALID_CLIENT, NULL, NULL},
};

static void
test_basic_table(void **state)
{
	char header[512], *id, *secret;
	size_t i, plen, n;
	enum oauth_error e;

	(void)state;
	for (i = 0; i < sizeof(basic_cases) / sizeof(basic_cases[0]); i++) {
		const struct basic_case *c = &basic_cases[i];

		if (c->prefix == NULL)
			snprintf(header, sizeof(header), "%s", c->plain);
		else {
			plen = c->plainlen != 0 ? c->plainlen : strlen(c->plain);
			n = strlen(c->prefix);
			memcpy(header, c->prefix, n);
			n += (size_t)EVP_EncodeBlock((unsigned char *)header + n,
			    (const unsigned char *)c->plain, (int)plen);
			snprintf(header + n, sizeof(header) - n, "%s",
			    c->suffix);
		}
		id = secret = (char *)"sentinel";
		e = params_basic_credentials(header, &id, &secret);
		if (e != c->err)
			fail_msg("line %d: got error %d, want %d", c->line,
			    (int)e, (int)c->err);
		if (e != OAUTH_OK) {
			if (id != NULL || secret != NULL)
				fail_msg("line %d: outputs not NULL", c->line);
			continue;
		}
		if (strcmp(id, c->id) != 0 || strcmp(secret, c->secret) != 0)
			fail_msg("line %d: got \"%s\" \"%s\"", c->line, id,
			    secret);
		free(id);
		free(secret);
	}
}

/* Builds "Basic " and the base64 of plain into a malloc'd string. */
static char *
basic_header(const char *plain, size_t spaces)
{
	size_t len = strlen(plain), n;
	char *h;

	h = malloc(5 + spaces + (len + 2) / 3 * 4 + 1);
	assert_non_null(h);
	memcpy(h, "Basic", 5);
	memset(h + 5, ' ', spaces);
	n = 5 + spaces;
	n += (size_t)EVP_EncodeBlock((unsigned char *)h + n,
	    (const unsigned char *)plain, (int)len);
	h[n] = '\0';
	return h;
}

/* CLIENT_ID_MAX, CLIENT_SECRET_MAX and AUTH_HEADER_MAX are inclusive. */
static void
test_basic_limits(void **state)
{
	char plain[CLIENT_SECRET_MAX + CLIENT_ID_MAX + 8], *h, *id, *secret;
	size_t spaces;

	(void)state;
	memset(plain, 'i', CLIENT_ID_MAX);
	plain[CLIENT_ID_MAX] = ':';
	memset(plain + CLIENT_ID_MAX + 1, 's', CLIENT_SECRET_MAX);
	plain[CLIENT_ID_MAX + 1 + CLIENT_SECRET_MAX] = '\0';
	h = basic_header(plain, 1);
	assert_int_equal(params_basic_credentials(h, &id, &secret), OAUTH_OK);
	assert_int_equal(strlen(id), CLIENT_ID_MAX);
	assert_int_equal(strlen(secret), CLIENT_SECRET_MAX);
	free(id);
	free(secret);
	free(h);

	/* One more byte of secret. */
	strcat(plain, "s");
	h = basic_header(plain, 1);
	assert_int_equal(params_basic_credentials(h, &id, &secret),
	    OAUTH_INVALID_CLIENT);
	assert_null(id);
	assert_null(secret);
	free(h);

	/* One more byte of id. */
	memset(plain, 'i', CLIENT_ID_MAX + 1);
	plain[CLIENT_ID_MAX + 1] = ':';
	plain[CLIENT_ID_MAX + 2] = 's';
	plain[CLIENT_ID_MAX + 3] = '\0';
	h = basic_header(plain, 1);
	assert_int_equal(params_basic_credentials(h, &id, &secret),
	    OAUTH_INVALID_CLIENT);
	free(h);

	/* A valid header padded with spaces to exactly AUTH_HEADER_MAX... */
	spaces = AUTH_HEADER_MAX - 5 - 4;	/* "c:s" is 4 characters */
	h = basic_header("c:s", spaces);
	assert_int_equal(strlen(h), AUTH_HEADER_MAX);
	assert_int_equal(params_basic_credentials(h, &id, &secret), OAUTH_OK);
	assert_string_equal(id, "c");
	free(id);
	free(secret);
	free(h);
	/* ...and one byte longer. */
	h = basic_header("c:s", spaces + 1);
	assert_int_equal(params_basic_credentials(h, &id, &secret),
	    OAUTH_INVALID_CLIENT);
	free(h);

	assert_int_equal(params_basic_credentials(NULL, &id, &secret),
	    OAUTH_INVALID_CLIENT);
	assert_null(id);
	assert_null(secret);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_table),
		cmocka_unit_test(test_body_null),
		cmocka_unit_test(test_query_table),
		cmocka_unit_test(test_params_max),
		cmocka_unit_test(test_name_max),
		cmocka_unit_test(test_why_static),
		cmocka_unit_test(test_get_free),
		cmocka_unit_test(test_basic_table),
		cmocka_unit_test(test_basic_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
