/* train.c - `moodsync train` (placeholder until its component lands). */
#include <stdio.h>

#include "cli/cli.h"

int cmd_train(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "moodsync train: not built yet\n");
	return 1;
}
