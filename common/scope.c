/*
 * Scopes as RFC 6749 §3.3 writes them:
 *
 *	scope       = scope-token *( SP scope-token )
 *	scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
 *
 * A scope string is a set: order carries no meaning and a token counts once.
 * The empty string is the empty set (no scope).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

static int scope_token_char(unsigned char);

/* RFC 6749 §3.3: any visible ASCII character but '"' and '\'. */
static int
scope_token_char(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/*
 * Returns 1 when s is a well-formed scope of at most SCOPE_MAX bytes: tokens
 * of the characters above, separated by exactly one space, with no space
 * before the first or after the last.  "" is valid (the empty set).  Returns
 * 0 otherwise, and for NULL.
 */
int
scope_valid(const char *s)
{
	size_t len, i;

	if (s == NULL)
		return 0;
	if ((len = strnlen(s, SCOPE_MAX + 1)) > SCOPE_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == ' ') {
			/* RFC 6749 §3.3: one SP between tokens, none around. */
			if (i == 0 || i + 1 == len || s[i + 1] == ' ')
				return 0;
		} else if (!scope_token_char((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/*
 * Returns 1 when the toklen bytes of token are one of the space-separated
 * tokens of set, else 0.  Tokens compare byte for byte (RFC 6749 §3.3: they
 * are case-sensitive).  An empty token is in no set; a NULL set is empty.
 */
int
scope_has(const char *set, const char *token, size_t toklen)
{
	const char *p, *sp;
	size_t n;

	if (set == NULL || toklen == 0)
		return 0;
	for (p = set; *p != '\0'; p = sp + 1) {
		sp = strchr(p, ' ');
		n = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (n == toklen && memcmp(p, token, n) == 0)
			return 1;
		if (sp == NULL)
			break;
	}
	return 0;
}

/*
 * Returns 1 when requested is a valid scope (see scope_valid) whose every
 * token is in allowed; the empty scope is a subset of anything.  Returns 0
 * otherwise, including for a malformed or NULL requested.  A NULL allowed
 * is the empty set.
 */
int
scope_subset(const char *requested, const char *allowed)
{
	const char *p, *sp;
	size_t n;

	if (!scope_valid(requested))
		return 0;
	for (p = requested; *p != '\0'; p += n + (sp != NULL)) {
		sp = strchr(p, ' ');
		n = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (!scope_has(allowed, p, n))
			return 0;
	}
	return 1;
}

/*
 * Returns a malloc'd copy of the valid scope s with every token after its
 * first occurrence removed and the order otherwise kept: "b a b" gives
 * "b a".  The caller frees it.  Returns NULL when s is not a valid scope
 * (see scope_valid) or memory runs out.
 */
char *
scope_normalize(const char *s)
{
	const char *p, *sp;
	char *out;
	size_t n, o;

	if (!scope_valid(s))
		return NULL;
	if ((out = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	out[0] = '\0';
	for (p = s, o = 0; *p != '\0'; p += n + (sp != NULL)) {
		sp = strchr(p, ' ');
		n = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (scope_has(out, p, n))
			continue;
		if (o > 0)
			out[o++] = ' ';
		memcpy(out + o, p, n);
		o += n;
		out[o] = '\0';
	}
	return out;
}
