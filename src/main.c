/* main.c - the `moodsync` entry point: picks the subcommand and hands it
 * the rest of argv. Wiring only; the work lives in the components. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "moodsync/common.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{"serve", cmd_serve, "run the web app (default 127.0.0.1:5000)"},
	{"detect", cmd_detect, "find faces (and emotions) in image files"},
	{"eval-faces", cmd_eval_faces,
	 "score face detection against annotated photos"},
	{"train", cmd_train, "train the emotion CNN on FER-2013"},
	{"eval", cmd_eval, "score an emotion model on a FER-2013 split"},
	{"library", cmd_library, "analyse music files (features, mood)"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: moodsync [--log-level L] COMMAND [ARGS]\n"
		   "       moodsync --version\n\n"
		   "Emotion-aware music player: reads the mood on your face "
		   "and plays music for it.\n\ncommands:\n");
	for (size_t i = 0; i < MS_ARRAY_LEN(commands); i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`moodsync COMMAND --help` describes each command.\n"
		   "--log-level debug|info|warn|error|quiet (default info; "
		   "env MOODSYNC_LOG)\n");
}

int main(int argc, char **argv)
{
	enum ms_log_level level;
	const char *env = getenv("MOODSYNC_LOG");
	int i = 1;

	if (env && ms_log_level_parse(env, &level) == MS_OK)
		ms_log_set_level(level);
	if (i + 1 < argc && strcmp(argv[i], "--log-level") == 0) {
		if (ms_log_level_parse(argv[i + 1], &level)) {
			fprintf(stderr, "moodsync: bad log level '%s'\n",
				argv[i + 1]);
			return 2;
		}
		ms_log_set_level(level);
		i += 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
	    strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[i], "--version") == 0) {
		printf("moodsync %s\n", MOODSYNC_VERSION);
		return 0;
	}
	for (size_t c = 0; c < MS_ARRAY_LEN(commands); c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].run(argc - i, argv + i);
	fprintf(stderr, "moodsync: unknown command '%s' (try --help)\n",
		argv[i]);
	return 2;
}
