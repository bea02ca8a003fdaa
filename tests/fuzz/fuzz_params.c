/*
 * Feeds arbitrary bytes to the request parameter parsers: as a form body,
 * as a JSON body, as a query string, and split at the first newline into a
 * Content-Type and a body.  Whatever is accepted must keep the promises of
 * struct params (unique printable names, non-empty UTF-8 values without
 * NUL), and a form result encoded back with urlenc_encode must parse to the
 * same parameters.  Any broken promise aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../handlers/handlers.h"

#define FUZZ_FORM "application/x-www-form-urlencoded"
#define FUZZ_JSON "application/json"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void fuzz_params_check(int);
static void fuzz_params_valid(enum oauth_error, const struct params *,
    const char *);
static void fuzz_params_roundtrip(const struct params *);
static void fuzz_params_body(const char *, const uint8_t *, size_t, int);

static void
fuzz_params_check(int ok)
{
	if (!ok)
		abort();
}

/* The promises of a parse: a valid set on success, an empty one on error. */
static void
fuzz_params_valid(enum oauth_error e, const struct params *p, const char *why)
{
	size_t i, j, n;

	if (e != OAUTH_OK) {
		fuzz_params_check(e == OAUTH_INVALID_REQUEST ||
		    e == OAUTH_SERVER_ERROR);
		fuzz_params_check(why != NULL && *why != '\0');
		fuzz_params_check(p->count == 0);
		return;
	}
	fuzz_params_check(p->count <= PARAMS_MAX);
	for (i = 0; i < p->count; i++) {
		const struct param *a = &p->items[i];

		n = strlen(a->name);
		fuzz_params_check(n > 0 && n <= PARAM_NAME_MAX);
		for (j = 0; j < n; j++)
			fuzz_params_check((unsigned char)a->name[j] >= 0x20 &&
			    (unsigned char)a->name[j] <= 0x7e);
		fuzz_params_check(a->value_len > 0 &&
		    a->value_len == strlen(a->value));
		fuzz_params_check(utf8_valid(a->value, a->value_len));
		for (j = 0; j < i; j++)
			fuzz_params_check(strcmp(p->items[j].name, a->name) !=
			    0);
		fuzz_params_check(params_get(p, a->name) == a->value);
	}
}

/* Encodes p as a query string, parses it, and expects p back. */
static void
fuzz_params_roundtrip(const struct params *p)
{
	struct buf b;
	struct params q;
	const char *why = NULL, *v;
	size_t i;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < p->count; i++) {
		if ((i > 0 && buf_append(&b, "&", 1) == -1) ||
		    urlenc_encode(&b, p->items[i].name,
		    strlen(p->items[i].name)) == -1 ||
		    buf_append(&b, "=", 1) == -1 ||
		    urlenc_encode(&b, p->items[i].value,
		    p->items[i].value_len) == -1) {
			buf_free(&b);
			return;
		}
	}
	if (params_parse_query(b.data, &q, &why) == OAUTH_SERVER_ERROR) {
		buf_free(&b);
		return;
	}
	fuzz_params_check(q.count == p->count);
	for (i = 0; i < p->count; i++) {
		v = params_get(&q, p->items[i].name);
		fuzz_params_check(v != NULL && strcmp(v, p->items[i].value) ==
		    0);
	}
	params_free(&q);
	buf_free(&b);
}

/* Parses len bytes of data as a body of type ctype. */
static void
fuzz_params_body(const char *ctype, const uint8_t *data, size_t len,
    int roundtrip)
{
	struct request req;
	struct params p;
	const char *why = NULL;
	enum oauth_error e;
	char *body;

	memset(&req, 0, sizeof(req));
	/* As fcgi/ hands it over: body_len bytes and a NUL. */
	if ((body = malloc(len + 1)) == NULL)
		return;
	if (len > 0)
		memcpy(body, data, len);
	body[len] = '\0';
	req.body = body;
	req.body_len = len;
	req.content_type = ctype;
	e = params_parse_body(&req, &p, &why);
	fuzz_params_valid(e, &p, why);
	if (e == OAUTH_OK && roundtrip)
		fuzz_params_roundtrip(&p);
	params_free(&p);
	fuzz_params_check(p.count == 0);
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct params p;
	const char *why = NULL;
	const uint8_t *nl;
	char *s;
	enum oauth_error e;

	fuzz_params_body(FUZZ_FORM, data, size, 1);
	fuzz_params_body(FUZZ_JSON, data, size, 1);

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	e = params_parse_query(s, &p, &why);
	fuzz_params_valid(e, &p, why);
	params_free(&p);

	/* "Content-Type\nbody": the media type parser gets its turn. */
	if ((nl = memchr(data, '\n', size)) != NULL) {
		s[nl - data] = '\0';
		fuzz_params_body(s, nl + 1, size - (size_t)(nl - data) - 1, 0);
	}
	free(s);
	return 0;
}
