/* eval.c - `moodsync eval` (placeholder until its component lands). */
#include <stdio.h>

#include "cli/cli.h"

int cmd_eval(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "moodsync eval: not built yet\n");
	return 1;
}
