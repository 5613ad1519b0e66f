/* eval_faces.c - `moodsync eval-faces` (placeholder until its component lands). */
#include <stdio.h>

#include "cli/cli.h"

int cmd_eval_faces(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "moodsync eval-faces: not built yet\n");
	return 1;
}
