/*
 * What a URI must be where one names a place: a redirect URI (RFC 6749
 * §3.1.2) or a resource (RFC 8707 §2), both absolute (RFC 3986 §4.3) and
 * without a fragment.
 */
#include <string.h>

#include "common.h"

/*
 * Whether uri, of 1 to max bytes, is an absolute URI without fragment:
 * ASCII without spaces or controls (RFC 3986 §2), a scheme (§3.1: ALPHA
 * *( ALPHA / DIGIT / "+" / "-" / "." )), ":" and something after it, and
 * no "#".  Returns 1, or 0 with *why saying what it is not.
 */
int
uri_absolute_valid(const char *uri, size_t max, const char **why)
{
	size_t i, len = strnlen(uri, max + 1);

	if (len == 0 || len > max) {
		*why = "is empty or too long";
		return 0;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)uri[i] <= 0x20 ||
		    (unsigned char)uri[i] >= 0x7f) {
			*why = "contains a space, a control or a non-ASCII "
			    "character (RFC 3986 §2)";
			return 0;
		}
	}
	if (memchr(uri, '#', len) != NULL) {
		*why = "has a fragment";
		return 0;
	}
	if (!((uri[0] >= 'a' && uri[0] <= 'z') ||
	    (uri[0] >= 'A' && uri[0] <= 'Z'))) {
		*why = "is not an absolute URI with a scheme (RFC 3986 §4.3)";
		return 0;
	}
	for (i = 1; i < len && uri[i] != ':'; i++) {
		if (!((uri[i] >= 'a' && uri[i] <= 'z') ||
		    (uri[i] >= 'A' && uri[i] <= 'Z') ||
		    (uri[i] >= '0' && uri[i] <= '9') ||
		    uri[i] == '+' || uri[i] == '-' || uri[i] == '.')) {
			*why = "is not an absolute URI with a scheme "
			    "(RFC 3986 §4.3)";
			return 0;
		}
	}
	if (i >= len - 1) {
		*why = "is not an absolute URI with a scheme (RFC 3986 §4.3)";
		return 0;
	}
	return 1;
}
