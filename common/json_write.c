/*
 * Writing the JSON objects the endpoints answer with, straight into a
 * buffer: no tree is built and printed for a response of a fixed shape.
 * Parsing stays with cJSON.  Strings are escaped as RFC 8259 §7 requires
 * (quotation mark, reverse solidus, control characters) and otherwise
 * copied as they are, as cJSON prints them; integers are printed exactly.
 */
#include <stdint.h>
#include <string.h>

#include "common.h"

/* Appends len bytes; marks the writer failed when memory runs out. */
static void
json_write_bytes(struct json_writer *w, const char *p, size_t len)
{
	if (!w->failed && buf_append(w->b, p, len) == -1)
		w->failed = 1;
}

/* Begins an object at the end of b. */
void
json_write_begin(struct json_writer *w, struct buf *b)
{
	w->b = b;
	w->failed = 0;
	w->fields = 0;
	json_write_bytes(w, "{", 1);
}

/*
 * The bytes a JSON string must escape (RFC 8259 §7): the control
 * characters, quotation mark and reverse solidus.  A table, since every
 * byte of every string is looked up.
 */
static const unsigned char json_write_escape[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
};

static int
json_write_escaped(unsigned char c)
{
	return json_write_escape[c];
}

/*
 * Appends the len bytes of s as a JSON string, quoted and escaped.  A
 * string with nothing to escape, the usual one, is one copy.
 */
static void
json_write_string(struct json_writer *w, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run;
	unsigned char c;

	if (w->failed)
		return;
	while (i < len && !json_write_escaped(u[i]))
		i++;
	if (i == len) {
		if (buf_reserve(w->b, len + 2) == -1) {
			w->failed = 1;
			return;
		}
		w->b->data[w->b->len] = '"';
		memcpy(w->b->data + w->b->len + 1, s, len);
		w->b->data[w->b->len + 1 + len] = '"';
		w->b->len += len + 2;
		w->b->data[w->b->len] = '\0';
		return;
	}
	json_write_bytes(w, "\"", 1);
	for (run = 0; i < len; i++) {
		c = u[i];
		if (!json_write_escaped(c))
			continue;
		json_write_bytes(w, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			json_write_bytes(w, "\\\"", 2);
			break;
		case '\\':
			json_write_bytes(w, "\\\\", 2);
			break;
		case '\n':
			json_write_bytes(w, "\\n", 2);
			break;
		case '\r':
			json_write_bytes(w, "\\r", 2);
			break;
		case '\t':
			json_write_bytes(w, "\\t", 2);
			break;
		case '\b':
			json_write_bytes(w, "\\b", 2);
			break;
		case '\f':
			json_write_bytes(w, "\\f", 2);
			break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			json_write_bytes(w, esc, sizeof(esc));
			break;
		}
	}
	json_write_bytes(w, s + run, len - run);
	json_write_bytes(w, "\"", 1);
}

/*
 * The separator and the quoted name of the next field.  Names are the
 * program's own constants, with nothing to escape.
 */
static void
json_write_name(struct json_writer *w, const char *name)
{
	size_t len = strlen(name), at;

	if (w->failed)
		return;
	if (buf_reserve(w->b, len + 4) == -1) {
		w->failed = 1;
		return;
	}
	at = w->b->len;
	if (w->fields++ > 0)
		w->b->data[at++] = ',';
	w->b->data[at++] = '"';
	memcpy(w->b->data + at, name, len);
	at += len;
	w->b->data[at++] = '"';
	w->b->data[at++] = ':';
	w->b->data[at] = '\0';
	w->b->len = at;
}

/* Adds "name":"value", value a C string. */
void
json_write_str(struct json_writer *w, const char *name, const char *value)
{
	json_write_name(w, name);
	json_write_string(w, value, strlen(value));
}

/* Adds "name":value, an integer, in decimal. */
void
json_write_int(struct json_writer *w, const char *name, int64_t value)
{
	char num[24], *p = num + sizeof(num);
	/* Through unsigned, so that INT64_MIN has a magnitude too. */
	uint64_t u = value < 0 ? -(uint64_t)value : (uint64_t)value;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (value < 0)
		*--p = '-';
	json_write_name(w, name);
	json_write_bytes(w, p, (size_t)(num + sizeof(num) - p));
}

/* Adds "name":true or "name":false. */
void
json_write_bool(struct json_writer *w, const char *name, int value)
{
	json_write_name(w, name);
	if (value)
		json_write_bytes(w, "true", 4);
	else
		json_write_bytes(w, "false", 5);
}

/*
 * Adds "name": and the len bytes at json, which must be one JSON value
 * already (an object written by another writer, say), as they are.
 */
void
json_write_raw(struct json_writer *w, const char *name, const char *json,
    size_t len)
{
	json_write_name(w, name);
	json_write_bytes(w, json, len);
}

/*
 * Ends the object.  Returns 0, or -1 when memory ran out at any step: the
 * buffer then holds part of an object, for the caller to discard.
 */
int
json_write_end(struct json_writer *w)
{
	json_write_bytes(w, "}", 1);
	return w->failed ? -1 : 0;
}
