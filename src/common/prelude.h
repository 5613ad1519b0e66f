/* prelude.h - force-included first into every translation unit by the
 * Makefile: the libc headers that declare banned functions come in before
 * banned.h poisons those names, so only our own calls trip it. */
#ifndef MOODSYNC_PRELUDE_H
#define MOODSYNC_PRELUDE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/banned.h"

#endif
