/*
 * json_write.c: the responses written without a tree must be the bytes
 * cJSON prints for the same object, escapes and numbers included, and a
 * JSON object that cJSON parses back to the same values.
 */
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "unit.h"

/* Fails unless the writer's object is what cJSON prints of expect. */
static void
jw_check(int line, struct buf *got, cJSON *expect)
{
	char *want = cJSON_PrintUnformatted(expect);

	assert_non_null(want);
	if (got->len != strlen(want) || memcmp(got->data, want, got->len) != 0)
		fail_msg("line %d: wrote %s, cJSON prints %s", line,
		    got->data != NULL ? got->data : "(nothing)", want);
	cJSON_free(want);
	cJSON_Delete(expect);
	buf_free(got);
}

static const struct {
	int line;
	const char *value;
} jw_strings[] = {
	{__LINE__, ""},
	{__LINE__, "read write"},
	{__LINE__, "say \"hi\""},
	{__LINE__, "back\\slash"},
	{__LINE__, "\n\r\t\b\f"},
	{__LINE__, "\x01\x1f\x7f"},
	{__LINE__, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"},
	{__LINE__, "</script>"},
	{__LINE__, "ends with an escape\n"},
	{__LINE__, "\"at the start"},
};

static void
test_strings(void **state)
{
	struct json_writer w;
	struct buf b = {0};
	cJSON *o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(jw_strings) / sizeof(jw_strings[0]); i++) {
		json_write_begin(&w, &b);
		json_write_str(&w, "v", jw_strings[i].value);
		assert_int_equal(json_write_end(&w), 0);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "v", jw_strings[i].value);
		jw_check(jw_strings[i].line, &b, o);
	}
}

static void
test_numbers_and_booleans(void **state)
{
	/* Where cJSON prints integers as integers: within int's range. */
	static const int64_t nums[] = {0, 1, -1, 3600, 1796149540,
	    2147483647, -2147483647};
	struct json_writer w;
	struct buf b = {0};
	cJSON *o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		json_write_begin(&w, &b);
		json_write_int(&w, "n", nums[i]);
		json_write_bool(&w, "t", 1);
		json_write_bool(&w, "f", 0);
		assert_int_equal(json_write_end(&w), 0);
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "n", (double)nums[i]);
		cJSON_AddTrueToObject(o, "t");
		cJSON_AddFalseToObject(o, "f");
		jw_check(__LINE__, &b, o);
	}
	/* Beyond: exact digits, where cJSON switches to rounded %g. */
	json_write_begin(&w, &b);
	json_write_int(&w, "y2038", 2147483648LL);
	json_write_int(&w, "max", INT64_MAX);
	json_write_int(&w, "min", INT64_MIN);
	assert_int_equal(json_write_end(&w), 0);
	assert_string_equal(b.data, "{\"y2038\":2147483648,"
	    "\"max\":9223372036854775807,\"min\":-9223372036854775808}");
	buf_free(&b);
}

/* An empty object, a raw member, and an object after what b held. */
static void
test_shapes(void **state)
{
	struct json_writer w, inner;
	struct buf b = {0}, in = {0};

	(void)state;
	json_write_begin(&w, &b);
	assert_int_equal(json_write_end(&w), 0);
	assert_string_equal(b.data, "{}");
	buf_free(&b);

	json_write_begin(&inner, &in);
	json_write_bool(&inner, "active", 0);
	assert_int_equal(json_write_end(&inner), 0);
	assert_int_equal(buf_puts(&b, "prefix"), 0);
	json_write_begin(&w, &b);
	json_write_str(&w, "iss", "https://i.test");
	json_write_raw(&w, "token_introspection", in.data, in.len);
	assert_int_equal(json_write_end(&w), 0);
	assert_string_equal(b.data, "prefix{\"iss\":\"https://i.test\","
	    "\"token_introspection\":{\"active\":false}}");
	buf_free(&b);
	buf_free(&in);
}

/*
 * Random strings of every byte value but NUL, written and printed by
 * cJSON: the same bytes each time, and they parse back to the string.
 */
static void
test_random_strings(void **state)
{
	struct json_writer w;
	struct buf b = {0};
	char s[64];
	cJSON *o, *back;
	unsigned seed = 20261201;
	int round;
	size_t i, len;

	(void)state;
	for (round = 0; round < 2000; round++) {
		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % (sizeof(s) - 1);
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			/* Mostly the bytes that need escapes, and some others. */
			s[i] = (char)((seed >> 16) % 4 == 0 ? 1 + (seed >> 20) % 255
							    : (seed >> 20) % 40 + 1);
		}
		s[len] = '\0';
		json_write_begin(&w, &b);
		json_write_str(&w, "s", s);
		assert_int_equal(json_write_end(&w), 0);
		back = cJSON_ParseWithLength(b.data, b.len);
		assert_non_null(back);
		assert_string_equal(cJSON_GetObjectItem(back, "s")->valuestring,
		    s);
		cJSON_Delete(back);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "s", s);
		jw_check(__LINE__, &b, o);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_numbers_and_booleans),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_random_strings),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
