/* test_cli.c - the CLI's option tables (src/cli/opt.c): values, ranges,
 * enum names, flags, `--name=value`, "--", positional counts, --help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/opt.h"
#include "moodsync/common.h"

static const char *const shapes[] = {"tiny", "small", "large", NULL};

struct vals {
	int flag, n, shape, n_given;
	double x;
	const char *s;
};

static int parse(struct vals *v, int argc, const char **args)
{
	char *argv[16];
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG("--flag", &v->flag, "a flag"),
		{CLI_INT, "--n", "N", &v->n, 1, 10, NULL, "a count",
		 &v->n_given},
		CLI_OPT_NUM("--x", "F", &v->x, 0.5, 2.0, "a number"),
		CLI_OPT_STR("--s", "S", &v->s, "a string"),
		CLI_OPT_ENUM("--shape", &v->shape, shapes, "a shape"),
		CLI_OPT_END,
	};
	const struct cli_command cmd = {
		"test", "[options] FILE...", "Tests.", opts, NULL, 1, 2};

	memset(v, 0, sizeof(*v));
	v->n = 3;
	v->x = 1.0;
	argv[0] = (char *)"test";
	for (int i = 0; i < argc; i++)
		argv[i + 1] = (char *)args[i];
	return cli_parse(&cmd, argc + 1, argv);
}

static void test_values(void **state)
{
	const char *a[] = {"--flag", "--n",	"7",	 "--x=1.5", "--s",
			   "hi",     "--shape", "large", "f1"};
	struct vals v;

	(void)state;
	assert_int_equal(parse(&v, 9, a), 9);
	assert_int_equal(v.flag, 1);
	assert_int_equal(v.n, 7);
	assert_int_equal(v.n_given, 1);
	assert_true(v.x == 1.5);
	assert_string_equal(v.s, "hi");
	assert_int_equal(v.shape, 2);
}

static void test_defaults_and_positionals(void **state)
{
	const char *one[] = {"f1"};
	const char *dash[] = {"--", "--flag"};
	const char *three[] = {"a", "b", "c"};
	struct vals v;

	(void)state;
	assert_int_equal(parse(&v, 1, one), 1);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.n_given, 0);
	assert_int_equal(v.flag, 0);
	/* after "--", "--flag" is a file name */
	assert_int_equal(parse(&v, 2, dash), 2);
	assert_int_equal(v.flag, 0);
	assert_int_equal(parse(&v, 0, one), CLI_PARSE_ERROR);
	assert_int_equal(parse(&v, 3, three), CLI_PARSE_ERROR);
}

static void test_bad_values(void **state)
{
	const char *cases[][3] = {
		{"--n", "0", "f"},	  /* below the range */
		{"--n", "11", "f"},	  /* above */
		{"--n", "3x", "f"},	  /* not a number */
		{"--x", "nan", "f"},	  /* not finite */
		{"--x", "2.5", "f"},	  /* out of range */
		{"--shape", "huge", "f"}, /* not one of the names */
		{"--bogus", "1", "f"},	  /* unknown option */
		{"--flag=1", "f", "g"},	  /* a flag takes no value */
		{"f", "--n", ""},	  /* options come first: 3 files */
	};
	const char *missing[] = {"--s"};
	struct vals v;

	(void)state;
	for (size_t i = 0; i < MS_ARRAY_LEN(cases); i++)
		assert_int_equal(parse(&v, 3, cases[i]), CLI_PARSE_ERROR);
	assert_int_equal(parse(&v, 1, missing), CLI_PARSE_ERROR);
	assert_int_equal(cli_parse_status(CLI_PARSE_ERROR), 2);
}

static void test_help(void **state)
{
	const char *a[] = {"--n", "bad", "--help"};
	struct vals v;

	(void)state;
	/* --help wins over anything else on the line */
	assert_int_equal(parse(&v, 3, a), CLI_PARSE_HELP);
	assert_int_equal(cli_parse_status(CLI_PARSE_HELP), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_defaults_and_positionals),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
