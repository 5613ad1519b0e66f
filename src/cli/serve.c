/* serve.c - `moodsync serve` (placeholder until its component lands). */
#include <stdio.h>

#include "cli/cli.h"

int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "moodsync serve: not built yet\n");
	return 1;
}
