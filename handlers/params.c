/*
 * Request parameters: the body (form-urlencoded or JSON), the query string,
 * and the client credentials of an Authorization: Basic header.  Whatever a
 * handler reads went through here: unique names of printable ASCII, values
 * that are non-empty UTF-8 without NUL bytes.  Error descriptions are static
 * text and never quote the input, which may hold a secret.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "handlers.h"

#define PARAMS_TYPE_FORM "application/x-www-form-urlencoded"
#define PARAMS_TYPE_JSON "application/json"

enum params_kind {
	PARAMS_KIND_FORM = 0,
	PARAMS_KIND_JSON,
	PARAMS_KIND__MAX
};

static int params_ieq(const char *, size_t, const char *);
static int params_tchar(unsigned char);
static int params_content_type(const char *, enum params_kind *);
static enum oauth_error params_add(struct params *, char *, size_t, char *,
    size_t, const char **);
static enum oauth_error params_decode_error(const char **);
static enum oauth_error params_parse_form(const char *, size_t,
    struct params *, const char **);
static enum oauth_error params_parse_json(const char *, size_t,
    struct params *, const char **);

/* Sets *why when the caller asked for it; s is always a static string. */
#define PARAMS_WHY(why, s)                                                     \
	do {                                                                   \
		if ((why) != NULL)                                             \
			*(why) = (s);                                          \
	} while (0)

/* Compares n bytes of a with the lower-case ASCII b, ignoring ASCII case. */
static int
params_ieq(const char *a, size_t n, const char *b)
{
	size_t i;
	unsigned char c;

	if (strlen(b) != n)
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)a[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)b[i])
			return 0;
	}
	return 1;
}

/* RFC 9110 §5.6.2: tchar. */
static int
params_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

/*
 * Parses a Content-Type (RFC 9110 §8.3): the media type, compared without
 * regard to case, then parameters, of which only charset=utf-8 (any case,
 * optionally quoted) is accepted.  Empty parameters and whitespace around
 * the semicolons are allowed (RFC 9110 §5.6.6).  Stores the kind of body in
 * *kind and returns 0, or returns -1 for any other type or parameter.
 */
static int
params_content_type(const char *ct, enum params_kind *kind)
{
	const char *p = ct, *t, *v;
	size_t tlen, vlen;

	while (*p == ' ' || *p == '\t')
		p++;
	for (t = p; *p != '\0' && *p != ';' && *p != ' ' && *p != '\t'; p++)
		;
	tlen = (size_t)(p - t);
	if (params_ieq(t, tlen, PARAMS_TYPE_FORM))
		*kind = PARAMS_KIND_FORM;
	else if (params_ieq(t, tlen, PARAMS_TYPE_JSON))
		*kind = PARAMS_KIND_JSON;
	else
		return -1;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;
		if (*p++ != ';')
			return -1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == ';')
			continue;
		for (t = p; params_tchar((unsigned char)*p); p++)
			;
		tlen = (size_t)(p - t);
		if (*p++ != '=')
			return -1;
		if (*p == '"') {
			/*
			 * A quoted-string.  Quoted-pairs are left escaped:
			 * no client spells utf-8 with them.
			 */
			for (v = ++p; *p != '\0' && *p != '"'; p++)
				;
			if (*p != '"')
				return -1;
			vlen = (size_t)(p++ - v);
		} else {
			for (v = p; params_tchar((unsigned char)*p); p++)
				;
			vlen = (size_t)(p - v);
		}
		if (!params_ieq(t, tlen, "charset") ||
		    !params_ieq(v, vlen, "utf-8"))
			return -1;
	}
}

/*
 * Adds one decoded parameter, taking ownership of name and value (malloc'd,
 * NUL-terminated, namelen and vlen bytes).  An empty value is dropped as if
 * the parameter were absent (RFC 6749 §3.1), but only after the name was
 * checked.  Returns OAUTH_OK, or OAUTH_INVALID_REQUEST with *why set, having
 * freed name and value, for a bad name, a repeated name or one parameter too
 * many.
 */
static enum oauth_error
params_add(struct params *params, char *name, size_t namelen, char *value,
    size_t vlen, const char **why)
{
	const char *msg;
	size_t i;

	if (namelen == 0) {
		msg = "a parameter has no name";
		goto bad;
	}
	if (namelen > PARAM_NAME_MAX) {
		msg = "a parameter name is too long";
		goto bad;
	}
	for (i = 0; i < namelen; i++)
		if ((unsigned char)name[i] < 0x20 ||
		    (unsigned char)name[i] > 0x7e) {
			msg = "a parameter name is not printable ASCII";
			goto bad;
		}
	/*
	 * RFC 6749 §3.1: parameters MUST NOT be included more than once, and
	 * one sent empty counts as omitted; its name is remembered so that
	 * "a=&a=x" is still a repeat.
	 */
	if (params_get(params, name) != NULL) {
		msg = "a parameter is repeated";
		goto bad;
	}
	for (i = 0; i < params->omitted_count; i++)
		if (strcmp(params->omitted[i], name) == 0) {
			msg = "a parameter is repeated";
			goto bad;
		}
	if (params->count + params->omitted_count == PARAMS_MAX) {
		msg = "too many parameters";
		goto bad;
	}
	if (vlen == 0) {
		params->omitted[params->omitted_count++] = name;
		free(value);
		return OAUTH_OK;
	}
	params->items[params->count].name = name;
	params->items[params->count].value = value;
	params->items[params->count].value_len = vlen;
	params->count++;
	return OAUTH_OK;

bad:
	free(name);
	crypto_wipe(value, vlen);
	free(value);
	PARAMS_WHY(why, msg);
	return OAUTH_INVALID_REQUEST;
}

/* Maps a failed urlenc_decode to our error, by its errno. */
static enum oauth_error
params_decode_error(const char **why)
{
	if (errno == ENOMEM) {
		PARAMS_WHY(why, "out of memory");
		return OAUTH_SERVER_ERROR;
	}
	PARAMS_WHY(why, "a parameter is badly percent-encoded or not UTF-8");
	return OAUTH_INVALID_REQUEST;
}

/*
 * Parses len bytes of application/x-www-form-urlencoded text into params,
 * which must be empty.  Pairs are separated by '&'; empty pairs are skipped
 * as the WHATWG urlencoded parser does, so a trailing '&' is harmless; every
 * other pair must be name=value, split at its first '='.  Returns OAUTH_OK,
 * OAUTH_INVALID_REQUEST for malformed text, or OAUTH_SERVER_ERROR when
 * memory runs out, with *why set; params holds what was added before the
 * error, for the caller to free.
 */
static enum oauth_error
params_parse_form(const char *s, size_t len, struct params *params,
    const char **why)
{
	const char *p = s, *end = s + len, *amp, *eq;
	char *name, *value;
	size_t namelen, vlen;
	enum oauth_error e;

	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp > p) {
			if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL) {
				PARAMS_WHY(why, "a parameter has no '='");
				return OAUTH_INVALID_REQUEST;
			}
			if (urlenc_decode(p, (size_t)(eq - p), &name,
			    &namelen) == -1)
				return params_decode_error(why);
			if (urlenc_decode(eq + 1, (size_t)(amp - eq - 1), &value,
			    &vlen) == -1) {
				e = params_decode_error(why);
				free(name);
				return e;
			}
			if ((e = params_add(params, name, namelen, value, vlen,
			    why)) != OAUTH_OK)
				return e;
		}
		if (amp == end)
			break;
		p = amp + 1;
	}
	return OAUTH_OK;
}

/*
 * Parses len bytes of JSON into params, which must be empty: the text must
 * be exactly one object (whitespace aside) whose members all have string
 * values; names and values go through the same rules as form parameters.
 * Returns like params_parse_form.
 */
static enum oauth_error
params_parse_json(const char *s, size_t len, struct params *params,
    const char **why)
{
	cJSON *root, *item;
	const char *end = NULL;
	char *name, *value;
	size_t namelen, vlen;
	enum oauth_error e = OAUTH_OK;

	if (s == NULL || len == 0 || json_prescan(s, len) == -1) {
		PARAMS_WHY(why, "the body is not valid JSON");
		return OAUTH_INVALID_REQUEST;
	}
	/*
	 * XXX cJSON reports running out of memory as a parse error, so that
	 * answers invalid_request rather than server_error.
	 */
	if ((root = cJSON_ParseWithLengthOpts(s, len, &end, 0)) == NULL) {
		PARAMS_WHY(why, "the body is not valid JSON");
		return OAUTH_INVALID_REQUEST;
	}
	/* RFC 8259 §2: JSON-text = ws value ws, and nothing after. */
	while (end < s + len &&
	    (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (end != s + len) {
		PARAMS_WHY(why, "the body has data after the JSON value");
		e = OAUTH_INVALID_REQUEST;
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		PARAMS_WHY(why, "the body is not a JSON object");
		e = OAUTH_INVALID_REQUEST;
		goto out;
	}
	cJSON_ArrayForEach(item, root) {
		if (!cJSON_IsString(item) || item->valuestring == NULL ||
		    item->string == NULL) {
			PARAMS_WHY(why, "a JSON member is not a string");
			e = OAUTH_INVALID_REQUEST;
			goto out;
		}
		namelen = strlen(item->string);
		vlen = strlen(item->valuestring);
		/* cJSON copies the bytes of a string as they came. */
		if (!utf8_valid(item->valuestring, vlen)) {
			PARAMS_WHY(why, "a parameter is not UTF-8");
			e = OAUTH_INVALID_REQUEST;
			goto out;
		}
		if ((name = strdup(item->string)) == NULL ||
		    (value = strdup(item->valuestring)) == NULL) {
			free(name);
			PARAMS_WHY(why, "out of memory");
			e = OAUTH_SERVER_ERROR;
			goto out;
		}
		if ((e = params_add(params, name, namelen, value, vlen,
		    why)) != OAUTH_OK)
			goto out;
	}

out:
	/* The tree holds copies of every value, a client secret among them. */
	cJSON_ArrayForEach(item, root)
		if (cJSON_IsString(item) && item->valuestring != NULL)
			crypto_wipe(item->valuestring,
			    strlen(item->valuestring));
	cJSON_Delete(root);
	return e;
}

/*
 * Parses the body of req into params by its Content-Type: form-urlencoded
 * or JSON, charset utf-8 allowed (see params_content_type).  An empty form
 * body is an empty set; an empty JSON body is not an object.  params need
 * not be initialized and is overwritten.  Returns OAUTH_OK, or on failure
 * leaves params empty, sets *why (when why is not NULL) to a static
 * description, and returns OAUTH_INVALID_REQUEST for a missing or other
 * content type and for a malformed body, or OAUTH_SERVER_ERROR when memory
 * runs out.
 */
enum oauth_error
params_parse_body(const struct request *req, struct params *params,
    const char **why)
{
	enum params_kind kind;
	enum oauth_error e = OAUTH_INVALID_REQUEST;

	memset(params, 0, sizeof(*params));
	if (req->content_type == NULL) {
		PARAMS_WHY(why, "the request has no content type");
		return OAUTH_INVALID_REQUEST;
	}
	if (params_content_type(req->content_type, &kind) == -1) {
		PARAMS_WHY(why, "unsupported content type");
		return OAUTH_INVALID_REQUEST;
	}
	switch (kind) {
	case PARAMS_KIND_FORM:
		e = params_parse_form(req->body, req->body != NULL ?
		    req->body_len : 0, params, why);
		break;
	case PARAMS_KIND_JSON:
		e = params_parse_json(req->body, req->body != NULL ?
		    req->body_len : 0, params, why);
		break;
	case PARAMS_KIND__MAX:
		PARAMS_WHY(why, "unsupported content type");
		e = OAUTH_INVALID_REQUEST;
		break;
	}
	if (e != OAUTH_OK)
		params_free(params);
	return e;
}

/*
 * Parses a query string (RFC 3986 §3.4) with the form-urlencoded rules of
 * params_parse_body; NULL and "" are no parameters.  params need not be
 * initialized and is overwritten.  Returns OAUTH_OK, or on failure leaves
 * params empty, sets *why when why is not NULL, and returns
 * OAUTH_INVALID_REQUEST, or OAUTH_SERVER_ERROR when memory runs out.
 */
enum oauth_error
params_parse_query(const char *query, struct params *params,
    const char **why)
{
	enum oauth_error e;

	memset(params, 0, sizeof(*params));
	if (query == NULL)
		return OAUTH_OK;
	if ((e = params_parse_form(query, strlen(query), params, why)) !=
	    OAUTH_OK)
		params_free(params);
	return e;
}

/*
 * Returns the value of the parameter called name (names are case-sensitive,
 * RFC 6749 §3.1), borrowed from params, or NULL when it is absent.
 */
const char *
params_get(const struct params *params, const char *name)
{
	size_t i;

	if (params == NULL || name == NULL)
		return NULL;
	for (i = 0; i < params->count; i++)
		if (strcmp(params->items[i].name, name) == 0)
			return params->items[i].value;
	return NULL;
}

/*
 * Releases every parameter, wiping the values (one may be a client secret),
 * and leaves params empty.  NULL is allowed.
 */
void
params_free(struct params *params)
{
	size_t i;

	if (params == NULL)
		return;
	for (i = 0; i < params->count; i++) {
		free(params->items[i].name);
		if (params->items[i].value != NULL)
			crypto_wipe(params->items[i].value,
			    params->items[i].value_len);
		free(params->items[i].value);
	}
	for (i = 0; i < params->omitted_count; i++)
		free(params->omitted[i]);
	memset(params, 0, sizeof(*params));
}

/*
 * Whether the Authorization header value header uses the authentication
 * scheme scheme (lower case): RFC 9110 §11.1, the scheme is a token
 * compared without regard to case, then one or more spaces or the end.
 * Returns the credentials after the spaces ("" when none), or NULL for
 * another scheme, an empty header, or one over AUTH_HEADER_MAX bytes.
 */
const char *
params_auth_scheme(const char *header, const char *scheme)
{
	size_t n = strlen(scheme), hlen;

	if (header == NULL ||
	    (hlen = strnlen(header, AUTH_HEADER_MAX + 1)) > AUTH_HEADER_MAX ||
	    hlen < n || !params_ieq(header, n, scheme) ||
	    (header[n] != ' ' && header[n] != '\0'))
		return NULL;
	for (header += n; *header == ' '; header++)
		;
	return header;
}

/*
 * The token of an "Authorization: Bearer" header (RFC 6750 §2.1), or of
 * another scheme that carries one the same way ("DPoP", RFC 9449 §7.1):
 * after the scheme, compared without regard to case, a b64token (1*(
 * ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="), trailing
 * blanks aside, of at most TOKEN_PRESENTED_MAX bytes.  On OAUTH_OK *token
 * points into header and *len is its length.  Returns OAUTH_INVALID_TOKEN
 * for another scheme or a token that is missing, malformed or too long.
 */
enum oauth_error
params_scheme_token(const char *header, const char *scheme,
    const char **token, size_t *len)
{
	const char *p = params_auth_scheme(header, scheme);
	size_t n, i;

	*token = NULL;
	*len = 0;
	if (p == NULL)
		return OAUTH_INVALID_TOKEN;
	for (n = strlen(p); n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t');
	     n--)
		;
	if (n == 0 || n > TOKEN_PRESENTED_MAX)
		return OAUTH_INVALID_TOKEN;
	for (i = 0; i < n && p[i] != '='; i++)
		if (!isalnum((unsigned char)p[i]) &&
		    strchr("-._~+/", p[i]) == NULL)
			return OAUTH_INVALID_TOKEN;
	if (i == 0)
		return OAUTH_INVALID_TOKEN;
	for (; i < n; i++)
		if (p[i] != '=')
			return OAUTH_INVALID_TOKEN;
	*token = p;
	*len = n;
	return OAUTH_OK;
}

/* params_scheme_token of the "Bearer" scheme. */
enum oauth_error
params_bearer_token(const char *header, const char **token, size_t *len)
{
	return params_scheme_token(header, "bearer", token, len);
}

/*
 * Extracts client_secret_basic credentials from an Authorization header
 * value (RFC 6749 §2.3.1, RFC 7617 §2): the scheme "Basic" in any case, one
 * or more spaces, then strict base64 of "id:secret", where id and secret are
 * each form-urlencoded and split at the first ':' of the decoded bytes.  The
 * id must be non-empty and at most CLIENT_ID_MAX bytes; the secret may be
 * empty (a public client) and is at most CLIENT_SECRET_MAX bytes.
 *
 * On OAUTH_OK, *id and *secret are malloc'd NUL-terminated strings that the
 * caller frees (wiping the secret).  A header that is not Basic, or Basic
 * but malformed, is a failed client authentication: OAUTH_INVALID_CLIENT.
 * OAUTH_SERVER_ERROR means memory ran out.  On failure *id and *secret are
 * NULL.
 */
enum oauth_error
params_basic_credentials(const char *header, char **id, char **secret)
{
	const char *p, *end;
	unsigned char *dec = NULL, *colon;
	char *i = NULL, *s = NULL;
	size_t hlen, declen, n, ilen, slen = 0, off;
	enum oauth_error e = OAUTH_INVALID_CLIENT;

	*id = NULL;
	*secret = NULL;
	if (header == NULL)
		return OAUTH_INVALID_CLIENT;
	/* Capped before the length is used for anything. */
	if ((hlen = strnlen(header, AUTH_HEADER_MAX + 1)) > AUTH_HEADER_MAX)
		return OAUTH_INVALID_CLIENT;
	/* RFC 9110 §11.1: the scheme is case-insensitive; then 1*SP. */
	if (hlen < 6 || !params_ieq(header, 5, "basic") || header[5] != ' ')
		return OAUTH_INVALID_CLIENT;
	for (p = header + 5; *p == ' '; p++)
		;
	/* RFC 9110 §5.5: a field value carries no trailing whitespace. */
	for (end = header + hlen; end > p && (end[-1] == ' ' ||
	    end[-1] == '\t'); end--)
		;

	declen = (size_t)(end - p) / 4 * 3;
	if ((dec = malloc(declen > 0 ? declen : 1)) == NULL)
		return OAUTH_SERVER_ERROR;
	if (b64_decode(p, (size_t)(end - p), dec, declen, &n) == -1)
		goto out;
	/* Decoded bytes are not a C string: search them by length. */
	if ((colon = memchr(dec, ':', n)) == NULL)
		goto out;
	off = (size_t)(colon - dec);
	if (urlenc_decode((const char *)dec, off, &i, &ilen) == -1 ||
	    urlenc_decode((const char *)colon + 1, n - off - 1, &s,
	    &slen) == -1) {
		if (errno == ENOMEM)
			e = OAUTH_SERVER_ERROR;
		goto out;
	}
	if (ilen == 0 || ilen > CLIENT_ID_MAX || slen > CLIENT_SECRET_MAX)
		goto out;

	*id = i;
	*secret = s;
	i = s = NULL;
	e = OAUTH_OK;

out:
	free(i);
	if (s != NULL) {
		crypto_wipe(s, slen);
		free(s);
	}
	crypto_wipe(dec, declen > 0 ? declen : 1);
	free(dec);
	return e;
}
