/* detect.c - `moodsync detect` (placeholder until its component lands). */
#include <stdio.h>

#include "cli/cli.h"

int cmd_detect(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "moodsync detect: not built yet\n");
	return 1;
}
