/* tmpdir.h - a scratch folder for a group of unit tests: tmpdir_setup
 * makes a fresh one (its path in `tmpdir`), tmpdir_remove deletes it and
 * all in it; pass them to cmocka_run_group_tests. Everything here is
 * static. */
#ifndef MOODSYNC_TESTS_TMPDIR_H
#define MOODSYNC_TESTS_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char tmpdir[256];

static int tmpdir_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/moodsync_test.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int tmpdir_remove(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
