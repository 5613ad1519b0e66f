/* grad_check.h - central finite differences against an analytic
 * gradient, for the nn unit tests. Include after <cmocka.h>; everything
 * here is static. */
#ifndef MOODSYNC_TESTS_GRAD_CHECK_H
#define MOODSYNC_TESTS_GRAD_CHECK_H

#include <math.h>
#include <stddef.h>

static inline double dot(const float *a, const float *b, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

/* Loss for finite differences: sum(y * r) over the layer output. */
typedef double (*loss_fn)(void *ctx);

/* Compares analytic gradient g of tensor v (n floats) with central
 * differences of f over every element (shapes are small). Fails when more
 * than `max_bad` elements disagree: a whole net with ReLU and max pooling
 * may cross a kink within +-eps for an element or two, a single layer
 * (inputs chosen away from kinks) may not. */
static inline void check_grad_n(const char *what, loss_fn f, void *ctx,
				float *v, const float *g, size_t n, float eps,
				size_t max_bad)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		float save = v[i];
		double lp, lm, num, err;

		v[i] = save + eps;
		lp = f(ctx);
		v[i] = save - eps;
		lm = f(ctx);
		v[i] = save;
		num = (lp - lm) / (2.0 * eps);
		err = fabs(num - g[i]) / (1e-2 + fabs(num) + fabs(g[i]));
		if (err > 2e-2) {
			print_message("# %s[%zu]: analytic %g numeric %g\n",
				      what, i, (double)g[i], num);
			bad++;
		}
	}
	if (bad > max_bad) {
		print_error("%s: %zu of %zu gradients disagree\n", what, bad,
			    n);
		fail();
	}
}

static inline void check_grad(const char *what, loss_fn f, void *ctx, float *v,
			      const float *g, size_t n, float eps)
{
	check_grad_n(what, f, ctx, v, g, n, eps, 0);
}

#endif
