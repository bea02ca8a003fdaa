/*
 * What cJSON leaves unchecked of RFC 8259, for every parser of ours that
 * hands peer text to it: request bodies (params.c), JWS headers (jose.c)
 * and the claims of a DPoP proof (dpop.c).
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "common.h"

/*
 * The checks of RFC 8259 that cJSON does not make, on the len bytes of raw
 * text s: no control characters outside strings but JSON whitespace
 * (cJSON skips any byte up to space), none unescaped inside strings (§7),
 * and no \u0000, which cJSON would decode into a NUL that silently cuts a
 * value short.  Returns 0 when the text passes, else -1.
 */
int
json_prescan(const char *s, size_t len)
{
	size_t i;
	int in_string = 0;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (!in_string) {
			if (c == '"')
				in_string = 1;
			else if (c < 0x20 && c != '\t' && c != '\n' &&
			    c != '\r')
				return -1;
			continue;
		}
		if (c < 0x20)
			return -1;
		if (c == '"')
			in_string = 0;
		else if (c == '\\') {
			if (len - i < 2)
				return -1;
			if (s[i + 1] == 'u' && len - i >= 6 &&
			    memcmp(s + i + 2, "0000", 4) == 0)
				return -1;
			i++;
		}
	}
	return 0;
}

/*
 * Checks a parsed value and what it holds: no deeper than depth_max, and
 * no object with two members of one name (RFC 7515 §5.2 step 4, RFC 7519
 * §4 let a JOSE reader refuse them; cJSON would keep the first, another
 * parser the last, and that difference is how a claim gets smuggled).
 * The text was at most JOSE_JWS_MAX bytes, which bounds the pairwise
 * compare.  Returns 0, or -1.
 */
static int
json_members_check(const cJSON *v, int depth, int depth_max)
{
	const cJSON *a, *b;

	if (depth > depth_max)
		return -1;
	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return 0;
	for (a = v->child; a != NULL; a = a->next) {
		if (cJSON_IsObject(v)) {
			if (a->string == NULL)
				return -1;
			for (b = a->next; b != NULL; b = b->next)
				if (b->string == NULL ||
				    strcmp(a->string, b->string) == 0)
					return -1;
		}
		if (json_members_check(a, depth + 1, depth_max) == -1)
			return -1;
	}
	return 0;
}

/*
 * Parses the len bytes at s, at most JOSE_JWS_MAX, as strict JSON text
 * that is exactly one object (RFC 8259 §2: whitespace around it and
 * nothing else), UTF-8, passing json_prescan, nested no deeper than
 * depth_max, with no member name twice in any object.  Returns 0 with
 * *out set (the caller frees it with cJSON_Delete), or -1 with *out NULL.
 */
int
json_parse_object(const char *s, size_t len, int depth_max, cJSON **out)
{
	const char *end = NULL;
	cJSON *root;

	*out = NULL;
	if (len == 0 || len > JOSE_JWS_MAX || !utf8_valid(s, len) ||
	    json_prescan(s, len) == -1)
		return -1;
	if ((root = cJSON_ParseWithLengthOpts(s, len, &end, 0)) == NULL)
		return -1;
	while (end != NULL && end < s + len &&
	    (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (end != s + len || !cJSON_IsObject(root) ||
	    json_members_check(root, 1, depth_max) == -1) {
		cJSON_Delete(root);
		return -1;
	}
	*out = root;
	return 0;
}
