/* train_sgd.c - the trainer's loops over whole parameter arrays: the
 * optimizer step and the sum of the replicas' gradients (train.c calls
 * them between the parallel parts, on one thread). */
#include "nn/train_internal.h"

/* Elements a block of the loops below takes at a time: a fixed count,
 * so that GCC vectorises each block (the arithmetic of an element is the
 * same either way). */
#define VBLK 16

void nn_train_sgd_update(float *restrict w, float *restrict m,
			 const float *restrict g, size_t n, float wd, float mu,
			 float lr)
{
	size_t j = 0;

#define SGD_ONE(i)                                                             \
	do {                                                                   \
		float gi = g[i] + wd * w[i];                                   \
		m[i] = mu * m[i] + gi;                                         \
		w[i] -= lr * (gi + mu * m[i]);                                 \
	} while (0)
	for (; j + VBLK <= n; j += VBLK)
		for (int k = 0; k < VBLK; k++)
			SGD_ONE(j + k);
	for (; j < n; j++)
		SGD_ONE(j);
#undef SGD_ONE
}

void nn_train_add(float *restrict d, const float *restrict s, size_t n)
{
	size_t j = 0;

	for (; j + VBLK <= n; j += VBLK)
		for (int k = 0; k < VBLK; k++)
			d[j + k] += s[j + k];
	for (; j < n; j++)
		d[j] += s[j];
}
