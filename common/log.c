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
 * As log_event, for a failure that may repeat on every request (a full
 * database): at most one line per LOG_LIMIT_INTERVAL seconds for the state
 * *limit, which the caller keeps for the life of the process, the next
 * line saying how many were left out in between.
 */
void
log_event_limited(struct log_limit *limit, const char *fmt, ...)
{
	char line[1024];
	int64_t now = clock_now();
	va_list ap;
	int n;

	if (limit->logged && now >= limit->last &&
	    now - limit->last < LOG_LIMIT_INTERVAL) {
		limit->suppressed++;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (limit->suppressed > 0)
		fprintf(stderr, "oauth.fcgi: %s (%lu more since the last "
		    "report)\n", line, limit->suppressed);
	else
		fprintf(stderr, "oauth.fcgi: %s\n", line);
	fflush(stderr);
	limit->logged = 1;
	limit->last = now;
	limit->suppressed = 0;
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
