/* fuzz_cli_opts.c - libFuzzer harness for src/cli/opt.c, the option-table
 * parser every subcommand runs on its command line. The input is split at
 * NUL bytes into at most 32 arguments; the table has one option of each
 * kind. Messages go to stdout/stderr, which the fuzzer discards. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/opt.h"
#include "moodsync/common.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static const char *const names[] = {"tiny", "small", "large", NULL};
	char *copy = malloc(len + 1), *argv[MAX_ARGS + 1];
	const char *s = "default";
	int argc = 1, flag = 0, n = 5, e = 0, first;
	double x = 1.0;

	if (!copy)
		return 0;
	memcpy(copy, buf, len);
	copy[len] = '\0';
	argv[0] = (char *)"fuzz";
	for (size_t i = 0; i <= len && argc < MAX_ARGS;) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	argv[argc] = NULL;
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG("--flag", &flag, "a flag"),
		CLI_OPT_INT("--n", "N", &n, -3, 1000, "an integer"),
		CLI_OPT_NUM("--x", "F", &x, 0.01, 4.0, "a number"),
		CLI_OPT_STR("--s", "S", &s, "a string"),
		CLI_OPT_ENUM("--e", &e, names, "one of three"),
		CLI_OPT_END,
	};
	const struct cli_command cmd = {
		"fuzz", "[options] [FILE]", "Fuzzes the parser.", opts, NULL, 0,
		1};

	first = cli_parse(&cmd, argc, argv);
	ms_assert(first < 0 || (first >= 1 && first <= argc));
	ms_assert(n >= -3 && n <= 1000 && x >= 0.01 && x <= 4.0);
	ms_assert(e >= 0 && e < 3 && s != NULL);
	free(copy);
	return 0;
}
