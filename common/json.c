/*
 * What cJSON leaves unchecked of RFC 8259, for every parser of ours that
 * hands peer text to it: request bodies (params.c) and JWS headers
 * (jose.c).
 */
#include <string.h>

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
