/* nn_fixture.h - what the nn unit tests share: one seeded generator, random
 * fills from it, a preset net with random weights AND random batch-norm
 * statistics, so that folding BN into the convolutions at load is
 * exercised, and a net folded into a model at a kernel level. Include
 * after <cmocka.h> and nn/nn_internal.h, once per test program;
 * everything here is static. */
#ifndef MOODSYNC_TESTS_NN_FIXTURE_H
#define MOODSYNC_TESTS_NN_FIXTURE_H

#include <string.h>

#include "nn/kernels.h"

static struct nn_rng rng;

/* p[0..n) uniform in (-scale, scale). */
static inline void fill(float *p, size_t n, float scale)
{
	for (size_t i = 0; i < n; i++)
		p[i] = scale * (2 * nn_rng_uniform(&rng) - 1);
}

/* A `preset` net (with gradients when `trainable`), side and crop replaced
 * when > 0: He-initialised weights, BN running variances in [0.5, 1.5),
 * the other BN parameters and the biases in (-0.5, 0.5). */
static inline struct nn_net *fixture_net(const char *preset, int side, int crop,
					 int trainable)
{
	struct nn_arch a;
	struct nn_net *net;
	char err[MS_ERRLEN];

	assert_int_equal(nn_arch_preset(preset, &a), MS_OK);
	if (side > 0) {
		a.side = side;
		a.crop = crop;
	}
	assert_int_equal(nn_net_new(&a, trainable, &net, err, sizeof(err)),
			 MS_OK);
	nn_net_init_weights(net, &rng);
	for (int i = 0; i < net->n_params; i++) {
		struct nn_param *p = &net->params[i];

		if (strstr(p->name, ".var"))
			for (size_t j = 0; j < p->n; j++)
				p->w[j] = 0.5f + nn_rng_uniform(&rng);
		else if (strstr(p->name, "gamma") || strstr(p->name, "beta") ||
			 strstr(p->name, "mean") || strstr(p->name, ".b"))
			fill(p->w, p->n, 0.5f);
	}
	return net;
}

/* `net` folded into a model packed for kernel level `level` (which stays
 * set: a model keeps only the weights its level reads). */
static inline struct nn_model *fixture_model_at(const struct nn_net *net,
						enum nn_kern_level level)
{
	struct nn_model *m;
	char err[MS_ERRLEN];

	assert_int_equal(nn_kern_set_level(level), level);
	assert_int_equal(nn_model_from_net(net, &m, err, sizeof(err)), MS_OK);
	return m;
}

#endif
