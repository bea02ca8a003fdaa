/*
 * Security events, one line each on standard error, which every web server
 * we run under keeps in its error log.  Callers pass identifiers, never a
 * secret or a token.
 */
#include <stdarg.h>
#include <stdio.h>

#include "common.h"

/* Writes "oauth.fcgi: <message>\n" to standard error in one write. */
void
log_event(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	fprintf(stderr, "oauth.fcgi: %s\n", line);
	fflush(stderr);
}

/*
 * Appends s to b in double quotes, with bytes outside printable ASCII and
 * the quote and backslash escaped, so a peer-chosen identifier cannot forge
 * log lines.  At most CLIENT_ID_MAX bytes of s are shown.
 */
void
log_quote(struct buf *b, const char *s)
{
	size_t i;

	(void)buf_puts(b, "\"");
	for (i = 0; s != NULL && s[i] != '\0' && i < CLIENT_ID_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			(void)buf_printf(b, "\\x%02x", c);
		else
			(void)buf_append(b, &s[i], 1);
	}
	(void)buf_puts(b, "\"");
}
