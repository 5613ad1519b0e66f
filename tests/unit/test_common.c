/* test_common.c - unit tests for src/common: buffers, parsing, sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "moodsync/common.h"

static void test_buf_bounded(void **state)
{
	struct ms_buf b;

	(void)state;
	ms_buf_init(&b, 10);
	assert_int_equal(ms_buf_puts(&b, "hello"), MS_OK);
	assert_int_equal(ms_buf_printf(&b, "%d", 1234), MS_OK);
	assert_string_equal(b.data, "hello1234");
	/* 2 more bytes would pass the limit: refused, buffer unchanged */
	assert_int_equal(ms_buf_puts(&b, "ab"), MS_ELIMIT);
	assert_int_equal(b.len, 9);
	assert_string_equal(b.data, "hello1234");
	assert_int_equal(ms_buf_printf(&b, "%s", "xy"), MS_ELIMIT);
	assert_int_equal(ms_buf_puts(&b, "!"), MS_OK);
	assert_int_equal(b.len, 10);
	ms_buf_release(&b);
	assert_null(b.data);
}

static void test_buf_json_str(void **state)
{
	struct ms_buf b;

	(void)state;
	ms_buf_init(&b, 100);
	assert_int_equal(ms_buf_json_str(&b, "a\"b\\c\n\x01"), MS_OK);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\u000a\\u0001\"");
	ms_buf_release(&b);
	ms_buf_init(&b, 5); /* too small: nothing half-written is left */
	assert_int_equal(ms_buf_puts(&b, "x"), MS_OK);
	assert_int_equal(ms_buf_json_str(&b, "abcdef"), MS_ELIMIT);
	assert_string_equal(b.data, "x");
	ms_buf_release(&b);
}

static void test_parse_int(void **state)
{
	int v = 7;
	int64_t w;
	double d;

	(void)state;
	assert_int_equal(ms_parse_int("42", 0, 100, &v), MS_OK);
	assert_int_equal(v, 42);
	assert_int_equal(ms_parse_int("-3", -5, 5, &v), MS_OK);
	assert_int_equal(v, -3);
	assert_int_equal(ms_parse_int("", 0, 100, &v), MS_EINVAL);
	assert_int_equal(ms_parse_int("12x", 0, 100, &v), MS_EINVAL);
	assert_int_equal(ms_parse_int(" 1", 0, 100, &v), MS_EINVAL);
	assert_int_equal(ms_parse_int("101", 0, 100, &v), MS_ELIMIT);
	assert_int_equal(ms_parse_int("99999999999999999999", 0, 100, &v),
			 MS_ELIMIT);
	assert_int_equal(v, -3); /* untouched on failure */
	assert_int_equal(ms_parse_i64_n("123456", 3, 0, 1000, &w), MS_OK);
	assert_int_equal(w, 123);
	assert_int_equal(ms_parse_double("1.5", 1, 2, &d), MS_OK);
	assert_true(d == 1.5);
	assert_int_equal(ms_parse_double("nan", 0, 1, &d), MS_EINVAL);
	assert_int_equal(ms_parse_double("3", 1, 2, &d), MS_ELIMIT);
}

static void test_size_arith(void **state)
{
	size_t out = 0;

	(void)state;
	assert_int_equal(ms_size_mul(SIZE_MAX / 2, 2, &out), MS_OK);
	assert_int_equal(ms_size_mul(SIZE_MAX / 2, 3, &out), MS_ELIMIT);
	assert_int_equal(ms_size_add(SIZE_MAX, 1, &out), MS_ELIMIT);
	assert_int_equal(ms_size_mul3(1000, 1000, 1000, &out), MS_OK);
	assert_int_equal(out, 1000000000u);
	assert_null(ms_mallocarray(SIZE_MAX / 4, 8));
}

static void test_rect_iou(void **state)
{
	struct ms_rect a = {0, 0, 10, 10}, b = {5, 0, 10, 10};
	struct ms_rect far = {100, 100, 5, 5}, empty = {0, 0, 0, 10};

	(void)state;
	assert_float_equal(ms_rect_iou(a, a), 1.0, 1e-12);
	assert_float_equal(ms_rect_iou(a, b), 50.0 / 150.0, 1e-12);
	assert_float_equal(ms_rect_iou(a, far), 0.0, 1e-12);
	assert_float_equal(ms_rect_iou(a, empty), 0.0, 1e-12);
}

static void test_errf_and_strerror(void **state)
{
	char err[8];

	(void)state;
	assert_int_equal(
		ms_errf(err, sizeof(err), MS_EFORMAT, "bad %s", "magic number"),
		MS_EFORMAT);
	assert_string_equal(err, "bad mag"); /* truncated, terminated */
	assert_int_equal(ms_errf(NULL, 0, MS_EIO, "x"), MS_EIO);
	assert_string_equal(ms_strerror(MS_ENOMEM), "out of memory");
	assert_string_equal(ms_strerror(12345), "unknown error");
}

static void test_file_read_limits(void **state)
{
	char err[MS_ERRLEN];
	uint8_t *data = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(ms_file_read("/nonexistent/x", 10, &data, &len, err,
				      sizeof(err)),
			 MS_ENOTFOUND);
	assert_non_null(strstr(err, "/nonexistent/x"));
	assert_int_equal(
		ms_file_read("Makefile", 10, &data, &len, err, sizeof(err)),
		MS_ELIMIT);
	assert_null(data);
	assert_int_equal(ms_file_read("Makefile", 1 << 20, &data, &len, err,
				      sizeof(err)),
			 MS_OK);
	assert_true(len > 100);
	assert_int_equal(data[len], 0);
	free(data);
}

static void test_log_limit(void **state)
{
	long held = -1;
	int out = 0;

	(void)state;
	/* a burst goes out, the rest of the window is held back */
	for (int i = 0; i < 100; i++)
		out += ms_log_limit_check("test-key", 1000.0 + i, &held);
	assert_int_equal(out, MS_LOG_BURST);
	/* another key is not affected */
	assert_int_equal(ms_log_limit_check("other-key", 1100.0, &held), 1);
	assert_int_equal(held, 0);
	/* the next window: one line, which reports the count held back */
	assert_int_equal(ms_log_limit_check("test-key",
					    1000.0 + MS_LOG_WINDOW_MS, &held),
			 1);
	assert_int_equal(held, 100 - MS_LOG_BURST);
	assert_int_equal(ms_log_limit_check("test-key",
					    1001.0 + MS_LOG_WINDOW_MS, &held),
			 1);
	assert_int_equal(held, 0);
}

static void test_log_level_parse(void **state)
{
	enum ms_log_level l;

	(void)state;
	assert_int_equal(ms_log_level_parse("warn", &l), MS_OK);
	assert_int_equal(l, MS_LOG_WARN);
	assert_int_equal(ms_log_level_parse("loud", &l), MS_EINVAL);
}

static void test_json_writer(void **state)
{
	static const char *const names[] = {"a", "b"};
	struct ms_json j;
	struct ms_buf b;

	(void)state;
	ms_buf_init(&b, 4096);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_str(&j, "s", "q\"\\\n");
	ms_json_str(&j, "null_str", NULL);
	ms_json_int(&j, "i", -42);
	ms_json_num(&j, "x", 0.123456, 3);
	ms_json_num(&j, "nan", NAN, 3);
	ms_json_bool(&j, "t", 1);
	ms_json_name(&j, "n1", 1, names, 2);
	ms_json_name(&j, "n9", 9, names, 2);
	ms_json_arr_open(&j, "arr");
	ms_json_int(&j, NULL, 1);
	ms_json_obj_open(&j, NULL);
	ms_json_null(&j, "z");
	ms_json_obj_close(&j);
	ms_json_arr_open(&j, NULL);
	ms_json_arr_close(&j);
	ms_json_arr_close(&j);
	ms_json_obj_close(&j);
	assert_int_equal(ms_json_finish(&j), MS_OK);
	assert_string_equal(b.data,
			    "{\"s\":\"q\\\"\\\\\\u000a\",\"null_str\":null,"
			    "\"i\":-42,\"x\":0.123,\"nan\":null,\"t\":true,"
			    "\"n1\":\"b\",\"n9\":null,"
			    "\"arr\":[1,{\"z\":null},[]]}");
	ms_buf_release(&b);
}

/* The first error sticks: later appends write nothing, finish reports it. */
static void test_json_writer_errors(void **state)
{
	struct ms_json j;
	struct ms_buf b;
	size_t len;

	(void)state;
	ms_buf_init(&b, 16);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_str(&j, "key", "a value longer than the buffer");
	len = b.len;
	ms_json_int(&j, "k", 1);
	ms_json_obj_close(&j);
	assert_int_equal(b.len, len);
	assert_int_equal(ms_json_finish(&j), MS_ELIMIT);
	ms_buf_release(&b);

	ms_buf_init(&b, 4096); /* left open */
	ms_json_init(&j, &b);
	ms_json_arr_open(&j, NULL);
	assert_int_equal(ms_json_finish(&j), MS_EINVAL);
	ms_buf_release(&b);

	ms_json_init(&j, &b); /* closed twice */
	ms_json_obj_open(&j, NULL);
	ms_json_obj_close(&j);
	ms_json_obj_close(&j);
	assert_int_equal(ms_json_finish(&j), MS_EINVAL);
	ms_buf_release(&b);

	ms_json_init(&j, &b); /* too deep */
	for (int i = 0; i < MS_JSON_MAX_DEPTH + 2; i++)
		ms_json_arr_open(&j, NULL);
	assert_int_equal(ms_json_finish(&j), MS_ELIMIT);
	ms_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_bounded),
		cmocka_unit_test(test_buf_json_str),
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_size_arith),
		cmocka_unit_test(test_rect_iou),
		cmocka_unit_test(test_errf_and_strerror),
		cmocka_unit_test(test_file_read_limits),
		cmocka_unit_test(test_log_level_parse),
		cmocka_unit_test(test_log_limit),
		cmocka_unit_test(test_json_writer),
		cmocka_unit_test(test_json_writer_errors),
	};
	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
