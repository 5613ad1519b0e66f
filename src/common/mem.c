/* mem.c - overflow-checked size arithmetic and allocation helpers. */
#include <stdlib.h>

#include "moodsync/common.h"

int ms_size_add(size_t a, size_t b, size_t *out)
{
	if (a > SIZE_MAX - b)
		return MS_ELIMIT;
	*out = a + b;
	return MS_OK;
}

int ms_size_mul(size_t a, size_t b, size_t *out)
{
	if (a && b > SIZE_MAX / a)
		return MS_ELIMIT;
	*out = a * b;
	return MS_OK;
}

int ms_size_mul3(size_t a, size_t b, size_t c, size_t *out)
{
	size_t ab;

	if (ms_size_mul(a, b, &ab))
		return MS_ELIMIT;
	return ms_size_mul(ab, c, out);
}

void *ms_calloc(size_t n, size_t size)
{
	size_t total;

	if (ms_size_mul(n, size, &total))
		return NULL;
	return calloc(total ? n : 1, total ? size : 1);
}

void *ms_mallocarray(size_t n, size_t size)
{
	size_t total;

	if (ms_size_mul(n, size, &total))
		return NULL;
	return malloc(total ? total : 1);
}
