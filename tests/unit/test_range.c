/* test_range.c - unit tests for the HTTP Range parser (src/server/range.c):
 * the three accepted forms, clipping, unsatisfiable ranges (416) and the
 * forms that are ignored (whole file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/range.h"

static void expect(const char *v, uint64_t size, enum srv_range want,
		   uint64_t start, uint64_t len)
{
	uint64_t s = 777, l = 777;

	assert_int_equal(srv_range_parse(v, size, &s, &l), want);
	if (want == SRV_RANGE_OK) {
		assert_int_equal(s, start);
		assert_int_equal(l, len);
	}
}

static void test_forms(void **state)
{
	(void)state;
	expect("bytes=0-99", 1000, SRV_RANGE_OK, 0, 100);
	expect("bytes=100-", 1000, SRV_RANGE_OK, 100, 900);
	expect("bytes=-200", 1000, SRV_RANGE_OK, 800, 200);
	expect("bytes=-5000", 1000, SRV_RANGE_OK, 0, 1000);    /* whole file */
	expect("bytes=990-5000", 1000, SRV_RANGE_OK, 990, 10); /* clipped */
	expect("bytes=999-999", 1000, SRV_RANGE_OK, 999, 1);
	expect(" Bytes = 5-9 ", 1000, SRV_RANGE_OK, 5, 5);
}

static void test_unsatisfiable(void **state)
{
	(void)state;
	expect("bytes=1000-", 1000, SRV_RANGE_UNSATISFIABLE, 0, 0);
	expect("bytes=1000-2000", 1000, SRV_RANGE_UNSATISFIABLE, 0, 0);
	expect("bytes=-0", 1000, SRV_RANGE_UNSATISFIABLE, 0, 0);
	expect("bytes=0-", 0, SRV_RANGE_UNSATISFIABLE, 0, 0);
	expect("bytes=-10", 0, SRV_RANGE_UNSATISFIABLE, 0, 0);
}

static void test_ignored(void **state)
{
	(void)state;
	expect(NULL, 1000, SRV_RANGE_NONE, 0, 0);
	expect("", 1000, SRV_RANGE_NONE, 0, 0);
	expect("bytes=", 1000, SRV_RANGE_NONE, 0, 0);
	expect("bytes=-", 1000, SRV_RANGE_NONE, 0, 0);
	expect("bytes=9-3", 1000, SRV_RANGE_NONE, 0, 0);
	expect("bytes=0-1,5-6", 1000, SRV_RANGE_NONE, 0, 0);
	expect("items=0-1", 1000, SRV_RANGE_NONE, 0, 0);
	expect("bytes=a-b", 1000, SRV_RANGE_NONE, 0, 0);
	expect("bytes=+1-2", 1000, SRV_RANGE_NONE, 0, 0);
	expect("bytes=99999999999999999999-", 1000, SRV_RANGE_NONE, 0, 0);
	expect("bytes=18446744073709551615-", 1000, SRV_RANGE_NONE, 0, 0);
	expect("bytes=1234567890123456789-", 1000, SRV_RANGE_UNSATISFIABLE, 0,
	       0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_unsatisfiable),
		cmocka_unit_test(test_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
