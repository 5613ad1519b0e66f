/* library.c - `moodsync library VERB ...`: the music library commands.
 * Verbs come from one table, so a new verb is one line. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "moodsync/common.h"

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct verb verbs[] = {
	{"scan", cmd_library_scan, "scan music folders into the library"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: moodsync library VERB [ARGS]\n\nverbs:\n");
	for (size_t i = 0; i < MS_ARRAY_LEN(verbs); i++)
		fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "\n`moodsync library VERB --help` describes each verb.\n");
}

int cmd_library(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < MS_ARRAY_LEN(verbs); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "moodsync library: unknown verb '%s' (try --help)\n",
		argv[1]);
	return 2;
}
