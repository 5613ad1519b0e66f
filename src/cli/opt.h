/* opt.h - the CLI's option tables (in the manner of git's parse-options):
 * each subcommand declares its options once, in a table, and that table
 * drives parsing, validation (ranges, enum names) and --help, so the usage
 * text cannot drift from what the parser accepts.
 *
 * Adopting it in a subcommand (see src/cli/detect.c for a whole one):
 *
 *	int json = 0, threads = 2, arch = 0;
 *	const char *model = NULL;
 *	static const char *const archs[] = {"tiny", "small", NULL};
 *	const struct cli_opt opts[] = {
 *		CLI_OPT_FLAG("--json", &json, "print JSON"),
 *		CLI_OPT_STR("--model", "FILE", &model, "model file"),
 *		CLI_OPT_INT("--threads", "N", &threads, 1, 64, "threads"),
 *		CLI_OPT_ENUM("--arch", &arch, archs, "network shape"),
 *		CLI_OPT_END,
 *	};
 *	const struct cli_command cmd = {"eval", "[options] FILE...",
 *		"Scores a model.", opts, NULL, 1, -1};
 *	int first = cli_parse(&cmd, argc, argv);
 *	if (first < 0)
 *		return cli_parse_status(first);   // 0 after --help, else 2
 *	// argv[first..argc) are the positional arguments
 *
 * Values are written into the variables as the options are read, so
 * initialise them with the defaults first: --help prints those defaults
 * (unless the option's help text already says "default"). */
#ifndef MOODSYNC_CLI_OPT_H
#define MOODSYNC_CLI_OPT_H

#include <stdio.h>

enum cli_opt_kind {
	CLI_FLAG, /* no value; *(int *)out = 1 */
	CLI_STR,  /* *(const char **)out = the argument (borrowed from argv) */
	CLI_INT,  /* *(int *)out, an integer in [min, max] */
	CLI_NUM,  /* *(double *)out, a finite number in [min, max] */
	CLI_ENUM, /* *(int *)out = index of the argument in names[] */
};

struct cli_opt {
	enum cli_opt_kind kind;
	const char *name;	  /* "--min-size"; NULL ends the table */
	const char *arg;	  /* the value's name in --help ("PX") */
	void *out;		  /* see enum cli_opt_kind */
	double min, max;	  /* CLI_INT, CLI_NUM: inclusive range */
	const char *const *names; /* CLI_ENUM: NULL-terminated */
	const char *help;	  /* one line */
	int *given; /* NULL, or set to 1 when the option is used */
};

#define CLI_OPT_FLAG(name, out, help)                                          \
	{                                                                      \
		CLI_FLAG, name, NULL, out, 0, 0, NULL, help, NULL              \
	}
#define CLI_OPT_STR(name, arg, out, help)                                      \
	{                                                                      \
		CLI_STR, name, arg, out, 0, 0, NULL, help, NULL                \
	}
#define CLI_OPT_INT(name, arg, out, lo, hi, help)                              \
	{                                                                      \
		CLI_INT, name, arg, out, lo, hi, NULL, help, NULL              \
	}
#define CLI_OPT_NUM(name, arg, out, lo, hi, help)                              \
	{                                                                      \
		CLI_NUM, name, arg, out, lo, hi, NULL, help, NULL              \
	}
#define CLI_OPT_ENUM(name, out, names, help)                                   \
	{                                                                      \
		CLI_ENUM, name, NULL, out, 0, 0, names, help, NULL             \
	}
#define CLI_OPT_END                                                            \
	{                                                                      \
		CLI_FLAG, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL             \
	}

struct cli_command {
	const char *name;  /* "detect", as typed after `moodsync` */
	const char *usage; /* what follows the name on the usage line */
	const char *about; /* a paragraph under the usage line */
	const struct cli_opt *opts; /* terminated by CLI_OPT_END */
	const char *footer;	    /* printed after the options; may be NULL */
	int min_args, max_args;	    /* positional arguments; max -1: any */
};

#define CLI_PARSE_HELP (-1)  /* --help or -h: help printed to stdout */
#define CLI_PARSE_ERROR (-2) /* one line printed to stderr */

/* Parses argv[1..argc) (argv[0] is the command's name) against cmd->opts.
 * Options come before the positional arguments, as `--name value` or
 * `--name=value`; "--" ends them, and so does the first argument that is
 * not an option. Returns the index of the first positional argument, or
 * CLI_PARSE_HELP, or CLI_PARSE_ERROR for an unknown option, a missing or
 * bad value (the message names the option and what it accepts: the range
 * or the enum's names) or a wrong number of positional arguments. */
int cli_parse(const struct cli_command *cmd, int argc, char **argv);

/* The exit status for a negative cli_parse() result: 0 after --help, 2
 * after an error. */
int cli_parse_status(int parsed);

/* Prints the usage line, the about paragraph, one line per option (with
 * its range, names and default) and the footer. */
void cli_usage(const struct cli_command *cmd, FILE *f);

#endif
