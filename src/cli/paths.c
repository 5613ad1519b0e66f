/* paths.c - where the CLI finds its inputs by default: the shared data
 * directory, the shipped emotion model and the database (see cli/cli.h).
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

const char *cli_default_model(int *explicit_model)
{
	static char path[4096];
	const char *env = getenv("MOODSYNC_MODEL");
	char exe[4096];
	ssize_t n;

	*explicit_model = env && *env;
	if (*explicit_model)
		return env;
	if (access(MS_DEFAULT_MODEL, R_OK) == 0)
		return MS_DEFAULT_MODEL;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;
		int up = 3; /* strip moodsync, MODE, build */

		exe[n] = '\0';
		while (up-- > 0 && (slash = strrchr(exe, '/')))
			*slash = '\0';
		if (snprintf(path, sizeof(path), "%.4000s/%s", exe,
			     MS_DEFAULT_MODEL) < (int)sizeof(path) &&
		    access(path, R_OK) == 0)
			return path;
	}
	return MS_DEFAULT_MODEL;
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
