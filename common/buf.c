/*
 * A length-carrying byte buffer (see the invariants in common.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/*
 * A buffer's first allocation: most of them (a response, its head, a
 * record) stay within it, where growing from less would copy, wipe and
 * free the smaller ones on the way.
 */
#define BUF_FIRST_CAP 512

/*
 * Makes room for extra more bytes plus the NUL, so that a writer may fill
 * data + len directly, then move len and write the NUL.  Returns 0, or -1
 * when the size would overflow or memory runs out; the buffer is
 * unchanged then.
 */
int
buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap > 0 ? b->cap : BUF_FIRST_CAP;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/*
	 * Not realloc: buffers carry tokens and codes, and realloc would
	 * leave a copy of them in freed memory.
	 */
	if ((p = malloc(cap)) == NULL)
		return -1;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len + 1);
		crypto_wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

/* Appends len bytes of data.  Returns 0, or -1 with the buffer unchanged. */
int
buf_append(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return -1;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

/* Appends a C string.  Returns 0, or -1 with the buffer unchanged. */
int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

/*
 * Appends printf-formatted text.  Returns 0, or -1 with the buffer unchanged
 * on a formatting error or when memory runs out.
 */
int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->data[b->len] = '\0';
		return -1;
	}
	b->len += (size_t)n;
	return 0;
}

/*
 * Hands the contents to the caller, who frees them, and leaves the buffer
 * empty.  Returns an empty allocated string for an empty buffer, or NULL
 * when memory runs out.
 */
char *
buf_steal(struct buf *b)
{
	char *p;

	if (b->data == NULL)
		return strdup("");
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* Releases the contents; safe on an empty buffer. */
void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
