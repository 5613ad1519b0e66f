/* paths.c - where the CLI finds its inputs by default: the shared data
 * directory, the shipped emotion and text models and the database, and
 * whether faces are aligned (see cli/cli.h).
 * Environment first, then the working directory, then the repository the binary
 * was built in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "moodsync/common.h"

const char *cli_data_dir(void)
{
	const char *d = getenv("MOODSYNC_DATA");

	return d && *d ? d : MS_DEFAULT_DATA;
}

/* A shipped file: $env if set (*explicit_set = 1), else `rel` under the
 * working directory or under the repository the binary was built in
 * (build/MODE/moodsync -> ../..), else `rel` as is. The result lives in
 * `path` (or is env/rel). */
static const char *find_shipped(const char *env_name, const char *rel,
				int *explicit_set, char *path, size_t len)
{
	const char *env = getenv(env_name);
	char exe[4096];
	ssize_t n;

	*explicit_set = env && *env;
	if (*explicit_set)
		return env;
	if (access(rel, R_OK) == 0)
		return rel;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;
		int up = 3; /* strip moodsync, MODE, build */

		exe[n] = '\0';
		while (up-- > 0 && (slash = strrchr(exe, '/')))
			*slash = '\0';
		if (snprintf(path, len, "%.4000s/%s", exe, rel) < (int)len &&
		    access(path, R_OK) == 0)
			return path;
	}
	return rel;
}

const char *cli_default_model(int *explicit_model)
{
	static char path[4096];

	return find_shipped("MOODSYNC_MODEL", MS_DEFAULT_MODEL, explicit_model,
			    path, sizeof(path));
}

const char *cli_default_text_model(void)
{
	static char path[4096];
	int explicit_set;

	return find_shipped("MOODSYNC_TEXT_MODEL", MS_DEFAULT_TEXT_MODEL,
			    &explicit_set, path, sizeof(path));
}

const char *cli_default_db(char *buf, size_t len)
{
	const char *env = getenv("MOODSYNC_DB");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;

	if (env && *env)
		return env;
	if (xdg && *xdg == '/')
		n = snprintf(buf, len, "%s/moodsync/moodsync.db", xdg);
	else if (home && *home)
		n = snprintf(buf, len, "%s/.local/share/moodsync/moodsync.db",
			     home);
	else
		return NULL;
	return n > 0 && (size_t)n < len ? buf : NULL;
}

int cli_align_choice(const char *cmd, int on, int off)
{
	if (on && off) {
		fprintf(stderr,
			"moodsync %s: --align and --no-align together\n", cmd);
		return -1;
	}
	return on || (MS_DEFAULT_ALIGN && !off);
}
