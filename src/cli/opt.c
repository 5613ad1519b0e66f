/* opt.c - parsing and --help from a subcommand's option table (see
 * cli/opt.h). Every message is one line on stderr that starts with
 * "moodsync <command>:". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/opt.h"
#include "moodsync/common.h"

static const struct cli_opt *opt_find(const struct cli_opt *opts,
				      const char *name, size_t len)
{
	for (const struct cli_opt *o = opts; o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

/* What the option accepts, for messages and --help: "1..64",
 * "one of tiny, small", or "" for flags and strings. */
static void opt_accepts(const struct cli_opt *o, char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
	if (o->kind == CLI_INT)
		snprintf(out, outlen, "an integer %.0f..%.0f", o->min, o->max);
	else if (o->kind == CLI_NUM)
		snprintf(out, outlen, "a number %g..%g", o->min, o->max);
	if (o->kind != CLI_ENUM)
		return;
	n = (size_t)snprintf(out, outlen, "one of");
	for (int i = 0; o->names[i] && n < outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, "%s %s",
				      i ? "," : "", o->names[i]);
}

/* The option's current value as text (its default, before parsing). */
static void opt_value(const struct cli_opt *o, char *out, size_t outlen)
{
	const char *s;

	out[0] = '\0';
	switch (o->kind) {
	case CLI_STR:
		s = *(const char *const *)o->out;
		if (s)
			snprintf(out, outlen, "%s", s);
		break;
	case CLI_INT:
		snprintf(out, outlen, "%d", *(const int *)o->out);
		break;
	case CLI_NUM:
		snprintf(out, outlen, "%g", *(const double *)o->out);
		break;
	case CLI_ENUM:
		snprintf(out, outlen, "%s", o->names[*(const int *)o->out]);
		break;
	default:
		break;
	}
}

static int opt_set(const struct cli_command *cmd, const struct cli_opt *o,
		   const char *v)
{
	char accepts[256];
	double d;
	int k;

	switch (o->kind) {
	case CLI_STR:
		*(const char **)o->out = v;
		return MS_OK;
	case CLI_INT:
		if (ms_parse_int(v, (int)o->min, (int)o->max, &k) == MS_OK) {
			*(int *)o->out = k;
			return MS_OK;
		}
		break;
	case CLI_NUM:
		if (ms_parse_double(v, o->min, o->max, &d) == MS_OK &&
		    isfinite(d)) {
			*(double *)o->out = d;
			return MS_OK;
		}
		break;
	case CLI_ENUM:
		for (k = 0; o->names[k]; k++)
			if (strcmp(o->names[k], v) == 0) {
				*(int *)o->out = k;
				return MS_OK;
			}
		break;
	default:
		break;
	}
	opt_accepts(o, accepts, sizeof(accepts));
	fprintf(stderr, "moodsync %s: bad value for %s: '%s' (%s)\n", cmd->name,
		o->name, v, accepts);
	return MS_EINVAL;
}

static int is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Reads the option at argv[*i] (and its value); advances *i past them. */
static int parse_one(const struct cli_command *cmd, int argc, char **argv,
		     int *i)
{
	const char *a = argv[*i], *eq = strchr(a, '=');
	size_t len = eq ? (size_t)(eq - a) : strlen(a);
	const struct cli_opt *o = opt_find(cmd->opts, a, len);
	const char *v = eq ? eq + 1 : NULL;

	if (!o) {
		fprintf(stderr,
			"moodsync %s: unknown option '%.*s' (try "
			"--help)\n",
			cmd->name, (int)len, a);
		return MS_EINVAL;
	}
	if (o->given)
		*o->given = 1;
	if (o->kind == CLI_FLAG) {
		if (v) {
			fprintf(stderr, "moodsync %s: %s takes no value\n",
				cmd->name, o->name);
			return MS_EINVAL;
		}
		*(int *)o->out = 1;
		return MS_OK;
	}
	if (!v) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "moodsync %s: %s needs a value (%s)\n",
				cmd->name, o->name,
				o->arg ? o->arg : "see --help");
			return MS_EINVAL;
		}
		v = argv[++*i];
	}
	return opt_set(cmd, o, v);
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv)
{
	int i, npos;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (is_help(argv[i])) {
			cli_usage(cmd, stdout);
			return CLI_PARSE_HELP;
		}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			break; /* the first positional argument */
		if (parse_one(cmd, argc, argv, &i))
			return CLI_PARSE_ERROR;
	}
	npos = argc - i;
	if (npos < cmd->min_args ||
	    (cmd->max_args >= 0 && npos > cmd->max_args)) {
		fprintf(stderr, "moodsync %s: %s; usage: moodsync %s %s\n",
			cmd->name,
			npos < cmd->min_args ? "missing arguments"
					     : "too many arguments",
			cmd->name, cmd->usage);
		return CLI_PARSE_ERROR;
	}
	return i;
}

int cli_parse_status(int parsed)
{
	return parsed == CLI_PARSE_HELP ? 0 : 2;
}

#define HELP_COL 21   /* where an option's description starts */
#define HELP_WIDTH 79 /* lines are wrapped before this column */

/* Prints `text` from column `col`, wrapped at word boundaries; a word
 * longer than the line is printed whole. */
static void print_wrapped(FILE *f, const char *text, int col)
{
	int at = col;

	while (*text) {
		size_t w = strcspn(text, " ");

		if (at > col && at + 1 + (int)w > HELP_WIDTH) {
			fprintf(f, "\n%*s", col, "");
			at = col;
		} else if (at > col) {
			fputc(' ', f);
			at++;
		}
		fprintf(f, "%.*s", (int)w, text);
		at += (int)w;
		text += w;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

void cli_usage(const struct cli_command *cmd, FILE *f)
{
	char left[64], accepts[256], def[256], line[1024];

	fprintf(f, "usage: moodsync %s %s\n\n", cmd->name, cmd->usage);
	print_wrapped(f, cmd->about, 0);
	if (cmd->opts->name)
		fprintf(f, "\noptions:\n");
	for (const struct cli_opt *o = cmd->opts; o->name; o++) {
		snprintf(left, sizeof(left), "%s%s%s", o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		opt_accepts(o, accepts, sizeof(accepts));
		opt_value(o, def, sizeof(def));
		if (strstr(o->help, "default"))
			def[0] = '\0';
		snprintf(line, sizeof(line), "%s%s%s%s%s%s%s", o->help,
			 accepts[0] || def[0] ? " (" : "", accepts,
			 accepts[0] && def[0] ? "; " : "",
			 def[0] ? "default " : "", def,
			 accepts[0] || def[0] ? ")" : "");
		fprintf(f, "  %-*s", HELP_COL - 2, left);
		if ((int)strlen(left) > HELP_COL - 3)
			fprintf(f, "\n%*s", HELP_COL, "");
		print_wrapped(f, line, HELP_COL);
	}
	fprintf(f, "  %-*s%s\n", HELP_COL - 2, "--help", "this text");
	if (cmd->footer) {
		fputc('\n', f);
		print_wrapped(f, cmd->footer, 0);
	}
}
