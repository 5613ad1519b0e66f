/* test_nn_amx_train.c - the trainer's AMX bf16 convolutions (conv_amx.c,
 * kernels_amx_train.c) through nn_conv_forward/backward against naive sums of
 * the same bf16-rounded inputs in double: forward, input gradient and
 * weight gradient at the presets' sizes, odd sizes, padded channel counts
 * and several groups of images side by side; then the same batch at
 * level AMX against the fp32 kernels. Skipped on CPUs without AMX. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nn/kernels.h"
#include "nn/nn_internal.h"

static struct nn_rng rng;

struct amx_case {
	int B, ci, co, h, w;
	struct nn_shape in, out;
	float *x, *wt, *bias, *y, *dy, *dx, *gw, *gb, *col, *dcol;
};

static float *rnd(size_t n, float scale)
{
	float *p = malloc(n * sizeof(float));

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = scale * (2 * nn_rng_uniform(&rng) - 1);
	return p;
}

static void case_setup(struct amx_case *c, int B, int ci, int co, int h, int w)
{
	size_t nx = (size_t)ci * B * h * w, ny = (size_t)co * B * h * w;
	size_t ncol;

	c->B = B, c->ci = ci, c->co = co, c->h = h, c->w = w;
	c->in = (struct nn_shape){ci, h, w};
	c->out = (struct nn_shape){co, h, w};
	ncol = nn_conv_col_floats(B, c->in, c->out, 3);
	c->x = rnd(nx, 1);
	c->wt = rnd((size_t)co * ci * 9, 0.5f);
	c->bias = rnd((size_t)co, 0.5f);
	c->dy = rnd(ny, 1);
	c->y = rnd(ny, 1); /* stale data the convolution must overwrite */
	c->dx = rnd(nx, 1);
	c->gw = rnd((size_t)co * ci * 9, 1);
	c->gb = rnd((size_t)co, 1);
	c->col = calloc(ncol, sizeof(float));
	c->dcol = calloc(ncol, sizeof(float));
	assert_non_null(c->col);
	assert_non_null(c->dcol);
}

static void case_free(struct amx_case *c)
{
	free(c->x), free(c->wt), free(c->bias), free(c->y), free(c->dy);
	free(c->dx), free(c->gw), free(c->gb), free(c->col), free(c->dcol);
}

static void case_run(struct amx_case *c)
{
	nn_conv_forward(c->x, c->y, c->B, c->in, c->out, 3, 1, 1, c->wt,
			c->bias, c->col);
	nn_conv_backward(c->x, c->dy, c->dx, c->B, c->in, c->out, 3, 1, 1,
			 c->wt, c->gw, c->gb, c->col, c->dcol);
}

/* Element (ch, n, y, x) of a [C][B][H][W] tensor, bf16-rounded; zero
 * outside the image. */
static double at(const float *t, const struct amx_case *c, int ch, int n, int y,
		 int x)
{
	if (y < 0 || y >= c->h || x < 0 || x >= c->w)
		return 0;
	return nn_kern_bf16_round(
		t[(((size_t)ch * c->B + n) * c->h + y) * c->w + x]);
}

static double wat(const struct amx_case *c, int o, int i, int t)
{
	return nn_kern_bf16_round(c->wt[((size_t)o * c->ci + i) * 9 + t]);
}

/* fp32 sums of exact bf16 products: the error grows with the terms'
 * magnitudes, far below what unrounded inputs would differ by. */
static void near(float got, double ref, double mag)
{
	assert_float_equal(got, ref, 2e-5 * mag + 1e-6);
}

static void check_forward(const struct amx_case *c)
{
	for (int o = 0; o < c->co; o++)
		for (int n = 0; n < c->B; n++)
			for (int y = 0; y < c->h; y++)
				for (int x = 0; x < c->w; x++) {
					double s = c->bias[o], mag = fabs(s);

					for (int i = 0; i < c->ci; i++)
						for (int t = 0; t < 9; t++) {
							double p =
								wat(c, o, i,
								    t) *
								at(c->x, c, i,
								   n,
								   y + t / 3 -
									   1,
								   x + t % 3 -
									   1);

							s += p, mag += fabs(p);
						}
					near(c->y[(((size_t)o * c->B + n) *
							   c->h +
						   y) * c->w +
						  x],
					     s, mag);
				}
}

static void check_dx(const struct amx_case *c)
{
	for (int i = 0; i < c->ci; i++)
		for (int n = 0; n < c->B; n++)
			for (int y = 0; y < c->h; y++)
				for (int x = 0; x < c->w; x++) {
					double s = 0, mag = 0;

					for (int o = 0; o < c->co; o++)
						for (int t = 0; t < 9; t++) {
							double p =
								wat(c, o, i,
								    t) *
								at(c->dy, c, o,
								   n,
								   y - t / 3 +
									   1,
								   x - t % 3 +
									   1);

							s += p, mag += fabs(p);
						}
					near(c->dx[(((size_t)i * c->B + n) *
							    c->h +
						    y) * c->w +
						   x],
					     s, mag);
				}
}

static void check_gw(const struct amx_case *c)
{
	for (int o = 0; o < c->co; o++)
		for (int i = 0; i < c->ci; i++)
			for (int t = 0; t < 9; t++) {
				double s = 0, mag = 0;

				for (int n = 0; n < c->B; n++)
					for (int y = 0; y < c->h; y++)
						for (int x = 0; x < c->w; x++) {
							double p =
								at(c->dy, c, o,
								   n, y, x) *
								at(c->x, c, i,
								   n,
								   y + t / 3 -
									   1,
								   x + t % 3 -
									   1);

							s += p, mag += fabs(p);
						}
				near(c->gw[((size_t)o * c->ci + i) * 9 + t], s,
				     mag);
			}
}

static void test_amx_conv(void **state)
{
	static const int cases[][5] = {
		/* B, ci, co, h, w */
		{4, 32, 64, 22, 22},  /* two groups of two */
		{7, 64, 128, 11, 11}, /* a group of five and one of two */
		{12, 128, 256, 5, 5}, /* groups of ten and two */
		{2, 256, 256, 5, 5},  {3, 16, 48, 7, 9},  {2, 17, 40, 3, 13},
		{3, 32, 16, 1, 1},    {1, 64, 32, 2, 70}, /* wider than a group
							   */
	};
	enum nn_kern_level best = nn_kern_level();

	(void)state;
	if (nn_kern_set_level(NN_KERN_AMX) < NN_KERN_AMX)
		skip();
	nn_rng_seed(&rng, 11);
	for (size_t k = 0; k < MS_ARRAY_LEN(cases); k++) {
		struct amx_case c;

		case_setup(&c, cases[k][0], cases[k][1], cases[k][2],
			   cases[k][3], cases[k][4]);
		case_run(&c);
		check_forward(&c);
		check_dx(&c);
		check_gw(&c);
		case_free(&c);
	}
	nn_kern_set_level(best);
}

/* Relative distance |a - b| / |b| of two vectors. */
static double rel_dist(const float *a, const float *b, size_t n)
{
	double d = 0, m = 0;

	for (size_t i = 0; i < n; i++) {
		d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
		m += (double)b[i] * b[i];
	}
	return sqrt(d / m);
}

/* The same batch at level AMX and on the fp32 kernels: bf16 inputs move
 * results by about 2^-9 relative; a wrong tap or channel would not. */
static void test_amx_vs_fp32(void **state)
{
	enum nn_kern_level best = nn_kern_level();
	struct amx_case c;
	size_t nx, ny, nw;
	float *y, *dx, *gw;

	(void)state;
	if (nn_kern_set_level(NN_KERN_AMX) < NN_KERN_AMX)
		skip();
	nn_rng_seed(&rng, 12);
	case_setup(&c, 6, 64, 64, 11, 11);
	nx = (size_t)64 * 6 * 121, ny = nx, nw = (size_t)64 * 64 * 9;
	case_run(&c);
	y = malloc(ny * 4), dx = malloc(nx * 4), gw = malloc(nw * 4);
	memcpy(y, c.y, ny * 4), memcpy(dx, c.dx, nx * 4);
	memcpy(gw, c.gw, nw * 4);
	nn_kern_set_level(NN_KERN_INT8);
	case_run(&c);
	assert_true(rel_dist(y, c.y, ny) < 1e-2);
	assert_true(rel_dist(dx, c.dx, nx) < 1e-2);
	assert_true(rel_dist(gw, c.gw, nw) < 1e-2);
	assert_true(rel_dist(y, c.y, ny) > 0); /* it did run in bf16 */
	free(y), free(dx), free(gw);
	case_free(&c);
	nn_kern_set_level(best);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amx_conv),
		cmocka_unit_test(test_amx_vs_fp32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
