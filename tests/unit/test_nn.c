/* test_nn.c - unit tests of the emotion CNN engine: every kernel against a
 * naive reference and every layer's backward pass by central finite
 * differences (whole nets: test_nn_net.c; model files and whole-split
 * eval: test_nn_model.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "moodsync/nn.h"
#include "nn/kernels.h"
#include "nn/nn_internal.h"
#include "grad_check.h"
#include "nn_fixture.h"

/* ---- convolution ---- */

struct conv_case {
	int B, k, s, p;
	struct nn_shape in, out;
	float *x, *w, *b, *y, *r, *dx, *gw, *gb, *col, *dcol;
};

static void conv_setup(struct conv_case *c, int B, int cin, int h, int w,
		       int cout, int k, int s, int p)
{
	size_t nx, ny, nw;

	c->B = B;
	c->k = k;
	c->s = s;
	c->p = p;
	c->in = (struct nn_shape){cin, h, w};
	c->out = (struct nn_shape){cout, (h + 2 * p - k) / s + 1,
				   (w + 2 * p - k) / s + 1};
	nx = (size_t)cin * B * h * w;
	ny = (size_t)cout * B * c->out.h * c->out.w;
	nw = (size_t)cout * cin * k * k;
	c->x = calloc(nx, 4);
	c->dx = calloc(nx, 4);
	c->w = calloc(nw, 4);
	c->gw = calloc(nw, 4);
	c->b = calloc(cout, 4);
	c->gb = calloc(cout, 4);
	c->y = calloc(ny, 4);
	c->r = calloc(ny, 4);
	c->col = calloc(nn_conv_col_floats(B, c->in, c->out, k), 4);
	c->dcol = calloc(nn_conv_col_floats(B, c->in, c->out, k), 4);
	fill(c->x, nx, 1);
	fill(c->w, nw, 0.5f);
	fill(c->b, cout, 0.5f);
	fill(c->r, ny, 1);
}

static void conv_free(struct conv_case *c)
{
	free(c->x);
	free(c->dx);
	free(c->w);
	free(c->gw);
	free(c->b);
	free(c->gb);
	free(c->y);
	free(c->r);
	free(c->col);
	free(c->dcol);
}

static size_t conv_ny(const struct conv_case *c)
{
	return (size_t)c->out.c * c->B * c->out.h * c->out.w;
}

static double conv_loss(void *ctx)
{
	struct conv_case *c = ctx;

	nn_conv_forward(c->x, c->y, c->B, c->in, c->out, c->k, c->s, c->p, c->w,
			c->b, c->col);
	return dot(c->y, c->r, conv_ny(c));
}

static void conv_case_run(int B, int cin, int h, int w, int cout, int k, int s,
			  int p)
{
	struct conv_case c;

	conv_setup(&c, B, cin, h, w, cout, k, s, p);
	conv_loss(&c);
	/* naive reference, layout [C][B][H][W] */
	for (int co = 0; co < cout; co++)
		for (int n = 0; n < B; n++)
			for (int oy = 0; oy < c.out.h; oy++)
				for (int ox = 0; ox < c.out.w; ox++) {
					double sum = c.b[co];

					for (int ci = 0; ci < cin; ci++)
						for (int ky = 0; ky < k; ky++)
							for (int kx = 0; kx < k;
							     kx++) {
								int iy = oy * s -
									 p + ky,
								    ix = ox * s -
									 p + kx;

								if (iy < 0 ||
								    ix < 0 ||
								    iy >= h ||
								    ix >= w)
									continue;
								sum += (double)c.w
									       [((co * cin +
										  ci) * k +
										 ky) * k +
										kx] *
								       c.x[((size_t)(ci * B +
										     n) *
										    h +
									    iy) * w +
									   ix];
							}
					assert_float_equal(
						c.y[((size_t)(co * B + n) *
							     c.out.h +
						     oy) * c.out.w +
						    ox],
						sum, 1e-4);
				}
	nn_conv_backward(c.x, c.r, c.dx, B, c.in, c.out, k, s, p, c.w, c.gw,
			 c.gb, c.col, c.dcol);
	check_grad("conv dx", conv_loss, &c, c.x, c.dx, (size_t)cin * B * h * w,
		   1e-2f);
	check_grad("conv dw", conv_loss, &c, c.w, c.gw,
		   (size_t)cout * cin * k * k, 1e-2f);
	check_grad("conv db", conv_loss, &c, c.b, c.gb, (size_t)cout, 1e-2f);
	conv_free(&c);
}

/* Every case on im2col + GEMM, then (where the CPU has AVX-512) again on
 * the direct kernels that 3x3 stride-1 pad-1 convolutions take there. */
static void test_conv(void **state)
{
	enum nn_kern_level best = nn_kern_level();

	(void)state;
	nn_rng_seed(&rng, 1);
	for (int level = NN_KERN_PORTABLE; level <= NN_KERN_FP32; level++) {
		if ((int)nn_kern_set_level((enum nn_kern_level)level) != level)
			break;
		conv_case_run(2, 2, 5, 6, 3, 3, 1, 1);
		conv_case_run(3, 1, 7, 7, 2, 3, 2, 1);
		conv_case_run(2, 3, 6, 5, 2, 2, 1, 0);
		conv_case_run(1, 2, 4, 4, 4, 1, 1, 0);
		/* enough images that the im2col chunking splits the batch */
		conv_case_run(5, 1, 40, 40, 2, 3, 1, 1);
		/* whole channel blocks, padded ones, a one-channel input */
		conv_case_run(2, 16, 4, 3, 16, 3, 1, 1);
		conv_case_run(2, 17, 3, 4, 18, 3, 1, 1);
		conv_case_run(2, 1, 6, 5, 20, 3, 1, 1);
	}
	nn_kern_set_level(best);
}

/* The direct-kernel convolution (forward, input and weight gradients)
 * against im2col + GEMM on the same random batch at the trainer's sizes;
 * the two differ only in the order of the sums. */
static void test_conv_fast_vs_gemm(void **state)
{
	static const int cases[][4] = {
		/* B, ci, side, co */
		{4, 1, 44, 32},	  {3, 32, 22, 64}, {2, 64, 11, 128},
		{3, 128, 5, 256}, {2, 24, 9, 40},
	};
	enum nn_kern_level best = nn_kern_level();

	(void)state;
	if (nn_kern_set_level(NN_KERN_FP32) < NN_KERN_FP32)
		skip();
	nn_rng_seed(&rng, 7);
	for (size_t k = 0; k < MS_ARRAY_LEN(cases); k++) {
		int B = cases[k][0], ci = cases[k][1], hw = cases[k][2];
		struct conv_case c;
		size_t nx = (size_t)ci * B * hw * hw, ny, nw;
		float *y0, *dx0, *gw0, *gb0;

		conv_setup(&c, B, ci, hw, hw, cases[k][3], 3, 1, 1);
		ny = conv_ny(&c);
		nw = (size_t)cases[k][3] * ci * 9;
		y0 = malloc(ny * 4), dx0 = malloc(nx * 4);
		gw0 = malloc(nw * 4), gb0 = malloc((size_t)cases[k][3] * 4);
		for (int pass = 0; pass < 2; pass++) {
			nn_kern_set_level(pass ? NN_KERN_FP32
					       : NN_KERN_PORTABLE);
			conv_loss(&c);
			nn_conv_backward(c.x, c.r, c.dx, B, c.in, c.out, 3, 1,
					 1, c.w, c.gw, c.gb, c.col, c.dcol);
			if (!pass) {
				memcpy(y0, c.y, ny * 4),
					memcpy(dx0, c.dx, nx * 4);
				memcpy(gw0, c.gw, nw * 4);
				memcpy(gb0, c.gb, (size_t)cases[k][3] * 4);
				continue;
			}
			for (size_t i = 0; i < ny; i++)
				assert_float_equal(c.y[i], y0[i],
						   1e-4 * (1 + fabsf(y0[i])));
			for (size_t i = 0; i < nx; i++)
				assert_float_equal(c.dx[i], dx0[i],
						   1e-4 * (1 + fabsf(dx0[i])));
			for (size_t i = 0; i < nw; i++)
				assert_float_equal(c.gw[i], gw0[i],
						   1e-3 * (1 + fabsf(gw0[i])));
			for (int i = 0; i < cases[k][3]; i++)
				assert_true(c.gb[i] == gb0[i]);
		}
		free(y0), free(dx0), free(gw0), free(gb0);
		conv_free(&c);
	}
	nn_kern_set_level(best);
}

/* ---- batch norm ---- */

struct bn_case {
	int C;
	size_t n;
	float *x, *y, *r, *dx, *g, *b, *gg, *gb, *mean, *invstd;
};

static double bn_loss(void *ctx)
{
	struct bn_case *c = ctx;

	nn_bn_forward_train(c->x, c->y, c->C, c->n, c->g, c->b, c->mean,
			    c->invstd, NULL, NULL);
	return dot(c->y, c->r, c->C * c->n);
}

static void test_batchnorm(void **state)
{
	struct bn_case c = {.C = 3, .n = 10};
	size_t N = c.C * c.n;
	float rmean[3] = {0}, rvar[3] = {1, 1, 1}, ye[30];

	(void)state;
	nn_rng_seed(&rng, 2);
	c.x = calloc(N, 4);
	c.y = calloc(N, 4);
	c.r = calloc(N, 4);
	c.dx = calloc(N, 4);
	c.g = calloc(3, 4);
	c.b = calloc(3, 4);
	c.gg = calloc(3, 4);
	c.gb = calloc(3, 4);
	c.mean = calloc(3, 4);
	c.invstd = calloc(3, 4);
	fill(c.x, N, 2);
	fill(c.r, N, 1);
	fill(c.g, 3, 1);
	fill(c.b, 3, 1);
	bn_loss(&c);
	for (int ch = 0; ch < c.C; ch++) {
		double m = 0, v = 0;

		for (size_t i = 0; i < c.n; i++)
			m += c.x[ch * c.n + i];
		m /= c.n;
		for (size_t i = 0; i < c.n; i++)
			v += (c.x[ch * c.n + i] - m) * (c.x[ch * c.n + i] - m);
		v /= c.n;
		for (size_t i = 0; i < c.n; i++)
			assert_float_equal(c.y[ch * c.n + i],
					   (c.x[ch * c.n + i] - m) /
							   sqrt(v + NN_BN_EPS) *
							   c.g[ch] +
						   c.b[ch],
					   1e-4);
	}
	nn_bn_backward(c.x, c.r, c.dx, c.C, c.n, c.g, c.mean, c.invstd, c.gg,
		       c.gb);
	check_grad("bn dx", bn_loss, &c, c.x, c.dx, N, 1e-2f);
	check_grad("bn dgamma", bn_loss, &c, c.g, c.gg, 3, 1e-2f);
	check_grad("bn dbeta", bn_loss, &c, c.b, c.gb, 3, 1e-2f);
	/* running stats move towards the batch stats; eval mode uses them */
	nn_bn_forward_train(c.x, c.y, c.C, c.n, c.g, c.b, c.mean, c.invstd,
			    rmean, rvar);
	assert_float_equal(rmean[0], NN_BN_MOMENTUM * c.mean[0], 1e-6);
	nn_bn_forward_eval(c.x, ye, c.C, c.n, c.g, c.b, rmean, rvar);
	assert_float_equal(ye[0],
			   (c.x[0] - rmean[0]) / sqrtf(rvar[0] + NN_BN_EPS) *
					   c.g[0] +
				   c.b[0],
			   1e-5);
	free(c.x);
	free(c.y);
	free(c.r);
	free(c.dx);
	free(c.g);
	free(c.b);
	free(c.gg);
	free(c.gb);
	free(c.mean);
	free(c.invstd);
}

/* The fused batch norm + ReLU against the two kernels one after the
 * other, forward and backward, on a channel length that is not a whole
 * number of lanes; then its gradients by finite differences. */
static double bn_relu_loss(void *ctx)
{
	struct bn_case *c = ctx;

	nn_bn_relu_forward_train(c->x, c->y, c->C, c->n, c->g, c->b, c->mean,
				 c->invstd, NULL, NULL, 1);
	return dot(c->y, c->r, c->C * c->n);
}

static void test_bn_relu_fused(void **state)
{
	enum { C = 3, N = 37 };
	static float x[C * N], y[C * N], r[C * N], dx[C * N], t[C * N],
		u[C * N], dx2[C * N];
	float g[C], b[C], gg[C], gb[C], gg2[C], gb2[C], mean[C], invstd[C];
	float rm[C] = {0}, rv[C] = {1, 1, 1}, rm2[C] = {0}, rv2[C] = {1, 1, 1};
	struct bn_case c = {.C = C,
			    .n = N,
			    .x = x,
			    .y = y,
			    .r = r,
			    .dx = dx,
			    .g = g,
			    .b = b,
			    .gg = gg,
			    .gb = gb,
			    .mean = mean,
			    .invstd = invstd};

	(void)state;
	nn_rng_seed(&rng, 11);
	fill(x, C * N, 2);
	fill(r, C * N, 1);
	fill(g, C, 1);
	fill(b, C, 1);
	nn_bn_relu_forward_train(x, y, C, N, g, b, mean, invstd, rm, rv, 1);
	nn_bn_forward_train(x, t, C, N, g, b, mean, invstd, rm2, rv2);
	nn_relu_forward(t, u, C * N);
	for (int i = 0; i < C * N; i++)
		assert_true(y[i] == u[i]);
	for (int i = 0; i < C; i++)
		assert_true(rm[i] == rm2[i] && rv[i] == rv2[i]);
	nn_bn_relu_forward_eval(x, y, C, N, g, b, rm, rv, 1);
	nn_bn_forward_eval(x, t, C, N, g, b, rm, rv);
	nn_relu_forward(t, u, C * N);
	for (int i = 0; i < C * N; i++)
		assert_true(y[i] == u[i]);
	bn_relu_loss(&c);
	nn_bn_relu_backward(x, y, r, dx, C, N, g, mean, invstd, gg, gb);
	nn_relu_backward(y, r, t, C * N);
	nn_bn_backward(x, t, dx2, C, N, g, mean, invstd, gg2, gb2);
	for (int i = 0; i < C * N; i++)
		assert_float_equal(dx[i], dx2[i], 1e-6);
	for (int i = 0; i < C; i++) {
		assert_float_equal(gg[i], gg2[i], 1e-6);
		assert_float_equal(gb[i], gb2[i], 1e-6);
	}
	check_grad_n("bn+relu dx", bn_relu_loss, &c, x, dx, C * N, 1e-3f, 2);
	check_grad("bn+relu dgamma", bn_relu_loss, &c, g, gg, C, 1e-3f);
	check_grad("bn+relu dbeta", bn_relu_loss, &c, b, gb, C, 1e-3f);
}

/* ---- relu, maxpool, gap ---- */

struct pw_case {
	int type; /* 0 relu, 1 maxpool 2x2/2, 2 gap, 3 maxpool 3x3/2 */
	int planes;
	struct nn_shape in, out;
	float x[2 * 3 * 7 * 7], y[2 * 3 * 7 * 7], r[2 * 3 * 7 * 7],
		dx[2 * 3 * 7 * 7];
	int32_t idx[2 * 3 * 7 * 7];
};

static double pw_loss(void *ctx)
{
	struct pw_case *c = ctx;
	size_t ni = (size_t)c->planes * c->in.h * c->in.w;
	size_t no = (size_t)c->planes * c->out.h * c->out.w;

	if (c->type == 0)
		nn_relu_forward(c->x, c->y, ni);
	else if (c->type == 2)
		nn_gap_forward(c->x, c->y, c->planes, c->in.h * c->in.w);
	else
		nn_maxpool_forward(c->x, c->y, c->idx, c->planes, c->in, c->out,
				   c->type == 1 ? 2 : 3, 2);
	return dot(c->y, c->r, no);
}

static void test_pointwise(void **state)
{
	(void)state;
	nn_rng_seed(&rng, 3);
	for (int type = 0; type < 4; type++) {
		struct pw_case c;
		size_t ni;

		memset(&c, 0, sizeof(c));
		c.type = type;
		c.planes = 6;
		c.in = (struct nn_shape){1, 7, 7};
		c.out = type == 0   ? c.in
			: type == 2 ? (struct nn_shape){1, 1, 1}
			: type == 1 ? (struct nn_shape){1, 3, 3}
				    : (struct nn_shape){1, 3, 3};
		ni = (size_t)c.planes * 49;
		/* distinct values away from 0 so kinks are not crossed */
		for (size_t i = 0; i < ni; i++)
			c.x[i] = (float)((i * 37) % ni) / (float)ni * 2 - 1 +
				 0.0034f;
		fill(c.r, sizeof(c.r) / 4, 1);
		pw_loss(&c);
		if (type == 1) /* naive 2x2 max of plane 0 at (1,2) */
			assert_float_equal(
				c.y[1 * 3 + 2],
				fmaxf(fmaxf(c.x[2 * 7 + 4], c.x[2 * 7 + 5]),
				      fmaxf(c.x[3 * 7 + 4], c.x[3 * 7 + 5])),
				0);
		if (type == 2) {
			double m = 0;

			for (int i = 0; i < 49; i++)
				m += c.x[49 + i];
			assert_float_equal(c.y[1], m / 49, 1e-5);
		}
		if (type == 0)
			nn_relu_backward(c.y, c.r, c.dx, ni);
		else if (type == 2)
			nn_gap_backward(c.r, c.dx, c.planes, 49);
		else
			nn_maxpool_backward(c.r, c.idx, c.dx, c.planes, c.in,
					    c.out, c.type == 1 ? 2 : 3, 2);
		check_grad("pointwise dx", pw_loss, &c, c.x, c.dx, ni, 1e-3f);
	}
}

/* ---- dense and softmax cross-entropy ---- */

struct dense_case {
	float x[5 * 3], w[4 * 5], b[4], y[4 * 3], r[4 * 3], dx[5 * 3],
		gw[4 * 5], gb[4];
};

static double dense_loss(void *ctx)
{
	struct dense_case *c = ctx;

	nn_dense_forward(c->x, c->y, 3, 5, 4, c->w, c->b);
	return dot(c->y, c->r, 12);
}

static void test_dense(void **state)
{
	struct dense_case c;

	(void)state;
	nn_rng_seed(&rng, 4);
	fill(c.x, 15, 1);
	fill(c.w, 20, 1);
	fill(c.b, 4, 1);
	fill(c.r, 12, 1);
	dense_loss(&c);
	for (int o = 0; o < 4; o++)
		for (int n = 0; n < 3; n++) {
			double s = c.b[o];

			for (int i = 0; i < 5; i++)
				s += c.w[o * 5 + i] * c.x[i * 3 + n];
			assert_float_equal(c.y[o * 3 + n], s, 1e-5);
		}
	nn_dense_backward(c.x, c.r, c.dx, 3, 5, 4, c.w, c.gw, c.gb);
	check_grad("dense dx", dense_loss, &c, c.x, c.dx, 15, 1e-2f);
	check_grad("dense dw", dense_loss, &c, c.w, c.gw, 20, 1e-2f);
	check_grad("dense db", dense_loss, &c, c.b, c.gb, 4, 1e-2f);
}

struct ce_case {
	float z[NN_CLASSES * 4], dz[NN_CLASSES * 4];
	uint8_t labels[4];
	float smoothing;
};

static double ce_loss(void *ctx)
{
	struct ce_case *c = ctx;

	return nn_softmax_ce(c->z, c->labels, 4, c->smoothing, NULL, NULL);
}

static void test_softmax_ce(void **state)
{
	struct ce_case c = {.labels = {0, 3, 6, 3}, .smoothing = 0.1f};
	double ref = 0;
	int hits;

	(void)state;
	nn_rng_seed(&rng, 5);
	fill(c.z, NN_CLASSES * 4, 3);
	for (int n = 0; n < 4; n++) {
		double s = 0;

		for (int k = 0; k < NN_CLASSES; k++)
			s += exp(c.z[k * 4 + n]);
		for (int k = 0; k < NN_CLASSES; k++) {
			double q =
				0.1 / NN_CLASSES + (k == c.labels[n] ? 0.9 : 0);

			ref -= q * (c.z[k * 4 + n] - log(s));
		}
	}
	assert_float_equal(nn_softmax_ce(c.z, c.labels, 4, 0.1f, c.dz, &hits),
			   ref / 4, 1e-5);
	assert_true(hits >= 0 && hits <= 4);
	check_grad("ce dlogits", ce_loss, &c, c.z, c.dz, NN_CLASSES * 4, 1e-2f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv),
		cmocka_unit_test(test_conv_fast_vs_gemm),
		cmocka_unit_test(test_batchnorm),
		cmocka_unit_test(test_bn_relu_fused),
		cmocka_unit_test(test_pointwise),
		cmocka_unit_test(test_dense),
		cmocka_unit_test(test_softmax_ce),
	};

	nn_set_threads(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
