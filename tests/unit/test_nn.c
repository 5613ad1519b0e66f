/* test_nn.c - unit tests of the emotion CNN engine: every kernel against a
 * naive reference, every backward pass by central finite differences, a
 * whole net's gradients, a tiny net that must overfit a batch, model file
 * round trips and rejection of malformed files, and whole-split eval. */
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
#include "nn_fixture.h"

static double dot(const float *a, const float *b, size_t n)
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
static void check_grad_n(const char *what, loss_fn f, void *ctx, float *v,
			 const float *g, size_t n, float eps, size_t max_bad)
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

static void check_grad(const char *what, loss_fn f, void *ctx, float *v,
		       const float *g, size_t n, float eps)
{
	check_grad_n(what, f, ctx, v, g, n, eps, 0);
}

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

/* ---- whole network ---- */

static void tiny_arch(struct nn_arch *a, int side, int crop)
{
	assert_int_equal(nn_arch_preset("tiny", a), MS_OK);
	a->side = side;
	a->crop = crop;
}

struct net_case {
	struct nn_net *net;
	struct nn_ws ws;
	float *input, *r;
	uint8_t labels[4];
	int B;
};

static double net_loss(void *ctx)
{
	struct net_case *c = ctx;
	struct nn_rng dr;
	int L = c->net->arch.n_layers;

	nn_rng_seed(&dr, 9); /* same dropout mask every evaluation */
	memcpy(c->ws.act[0], c->input,
	       sizeof(float) * c->B * c->net->arch.crop * c->net->arch.crop);
	nn_net_forward(c->net, &c->ws, c->B, 1, &dr);
	return nn_softmax_ce(c->ws.act[L], c->labels, c->B, 0.1f, c->ws.grad[L],
			     NULL);
}

/* Whole-net gradients; `smooth` drops ReLU and max pooling so that no kink
 * can be crossed and every element must agree. */
static void net_gradients(int smooth)
{
	struct nn_arch a;
	struct net_case c = {.labels = {1, 5, 2, 0}, .B = 4};
	char err[MS_ERRLEN];
	float *gcopy[NN_MAX_PARAMS];

	nn_rng_seed(&rng, 6);
	tiny_arch(&a, 10, 8);
	a.layers[a.n_layers - 2].p_milli = 250; /* exercise dropout */
	if (smooth) {
		int k = 0;

		for (int i = 0; i < a.n_layers; i++)
			if (a.layers[i].type != NN_LAYER_RELU &&
			    a.layers[i].type != NN_LAYER_MAXPOOL)
				a.layers[k++] = a.layers[i];
		a.n_layers = k;
	}
	assert_int_equal(a.layers[a.n_layers - 2].type, NN_LAYER_DROPOUT);
	assert_int_equal(nn_net_new(&a, 1, &c.net, err, sizeof(err)), MS_OK);
	nn_net_init_weights(c.net, &rng);
	assert_int_equal(nn_ws_init(&c.ws, c.net, 4), MS_OK);
	c.input = calloc(4 * 64, 4);
	fill(c.input, 4 * 64, 1.5f);
	net_loss(&c);
	nn_net_backward(c.net, &c.ws, 4);
	for (int i = 0; i < c.net->n_params; i++) {
		struct nn_param *p = &c.net->params[i];

		gcopy[i] = NULL;
		if (!p->trainable)
			continue;
		gcopy[i] = malloc(p->n * 4);
		memcpy(gcopy[i], p->g, p->n * 4);
	}
	for (int i = 0; i < c.net->n_params; i++) {
		struct nn_param *p = &c.net->params[i];

		if (!p->trainable)
			continue;
		check_grad_n(p->name, net_loss, &c, p->w, gcopy[i], p->n, 2e-3f,
			     smooth ? 0 : p->n / 16);
		free(gcopy[i]);
	}
	free(c.input);
	nn_ws_release(&c.ws);
	nn_net_free(c.net);
}

static void test_net_gradients(void **state)
{
	(void)state;
	net_gradients(1);
	net_gradients(0);
}

/* ---- training: a tiny net must overfit one batch ---- */

static void test_overfit(void **state)
{
	struct nn_arch a;
	struct nn_net *net;
	struct nn_ws ws;
	struct nn_rng r;
	char err[MS_ERRLEN];
	uint8_t labels[16];
	float *x;
	int L, hits = 0;
	float loss0 = 0, loss = 0;

	(void)state;
	nn_rng_seed(&rng, 7);
	nn_rng_seed(&r, 8);
	tiny_arch(&a, 16, 12);
	a.layers[a.n_layers - 2].p_milli = 0;
	assert_int_equal(nn_net_new(&a, 1, &net, err, sizeof(err)), MS_OK);
	nn_net_init_weights(net, &rng);
	assert_int_equal(nn_ws_init(&ws, net, 16), MS_OK);
	L = net->arch.n_layers;
	x = malloc(sizeof(float) * 16 * 144);
	fill(x, 16 * 144, 1);
	for (int i = 0; i < 16; i++)
		labels[i] = (uint8_t)(i % NN_CLASSES);
	for (int step = 0; step < 300; step++) {
		memcpy(ws.act[0], x, sizeof(float) * 16 * 144);
		nn_net_forward(net, &ws, 16, 1, &r);
		loss = nn_softmax_ce(ws.act[L], labels, 16, 0, ws.grad[L],
				     NULL);
		if (step == 0)
			loss0 = loss;
		nn_net_backward(net, &ws, 16);
		for (int i = 0; i < net->n_params; i++) {
			struct nn_param *p = &net->params[i];

			for (size_t j = 0; p->trainable && j < p->n; j++) {
				p->m[j] = 0.9f * p->m[j] + p->g[j];
				p->w[j] -= 0.05f * p->m[j];
			}
		}
	}
	memcpy(ws.act[0], x, sizeof(float) * 16 * 144);
	nn_net_forward(net, &ws, 16, 1, &r);
	nn_softmax_ce(ws.act[L], labels, 16, 0, NULL, &hits);
	print_message("# overfit: loss %.3f -> %.3f, %d/16 right\n",
		      (double)loss0, (double)loss, hits);
	assert_true(loss < 0.25f * loss0);
	assert_int_equal(hits, 16);
	free(x);
	nn_ws_release(&ws);
	nn_net_free(net);
}

/* ---- model files ---- */

static struct nn_net *random_net(const char *preset, int side, int crop)
{
	return fixture_net(preset, side, crop, 1);
}

static void test_model_roundtrip(void **state)
{
	struct nn_net *net, *back;
	struct nn_model *m;
	struct nn_ctx *ctx;
	struct nn_ws ws;
	uint8_t *buf, face[20 * 20];
	size_t len;
	uint32_t kind;
	char err[MS_ERRLEN];
	float probs[NN_CLASSES], z[NN_CLASSES], mx, sum = 0;
	int L;

	(void)state;
	nn_rng_seed(&rng, 10);
	net = random_net("tiny", 20, 16);
	assert_int_equal(
		nn_net_serialize(net, NN_FILE_MODEL, NULL, 0, &buf, &len),
		MS_OK);
	assert_int_equal(nn_net_parse(buf, len, 0, &back, &kind, NULL, NULL,
				      err, sizeof(err)),
			 MS_OK);
	assert_int_equal(kind, NN_FILE_MODEL);
	assert_int_equal(back->n_params, net->n_params);
	for (int i = 0; i < net->n_params; i++)
		assert_memory_equal(back->params[i].w, net->params[i].w,
				    net->params[i].n * sizeof(float));
	nn_net_free(back);
	/* folded inference (BN into conv, ReLU fused) == unfolded eval net */
	assert_int_equal(nn_model_parse(buf, len, &m, err, sizeof(err)), MS_OK);
	assert_int_equal(nn_model_input_size(m), 20);
	ctx = nn_ctx_new(m);
	assert_non_null(ctx);
	for (int i = 0; i < 400; i++)
		face[i] = (uint8_t)((i * 53) % 256);
	assert_int_equal(nn_classify(ctx, face, 0, probs), MS_OK);
	assert_int_equal(nn_ws_init(&ws, net, 1), MS_OK);
	nn_prep_center(&net->arch, face, 0, ws.act[0]);
	nn_net_forward(net, &ws, 1, 0, NULL);
	L = net->arch.n_layers;
	mx = ws.act[L][0];
	for (int c = 0; c < NN_CLASSES; c++)
		mx = fmaxf(mx, ws.act[L][c]);
	for (int c = 0; c < NN_CLASSES; c++)
		sum += (z[c] = expf(ws.act[L][c] - mx));
	for (int c = 0; c < NN_CLASSES; c++)
		assert_float_equal(probs[c], z[c] / sum, 1e-5);
	/* flip TTA averages the face and its mirror */
	{
		float pf[NN_CLASSES], pt[NN_CLASSES];
		uint8_t mirror[20 * 20];

		for (int y = 0; y < 20; y++)
			for (int x = 0; x < 20; x++)
				mirror[y * 20 + x] = face[y * 20 + 19 - x];
		nn_classify(ctx, mirror, 0, pf);
		nn_classify(ctx, face, 1, pt);
		for (int c = 0; c < NN_CLASSES; c++)
			assert_float_equal(pt[c], 0.5f * (probs[c] + pf[c]),
					   1e-5);
	}
	nn_ws_release(&ws);
	nn_ctx_free(ctx);
	nn_model_free(m);
	free(buf);
	/* a checkpoint carries momenta and the state blob */
	fill(net->params[0].m, net->params[0].n, 1);
	assert_int_equal(nn_net_serialize(net, NN_FILE_CHECKPOINT,
					  (const uint8_t *)"state", 5, &buf,
					  &len),
			 MS_OK);
	{
		uint8_t *st;
		size_t st_len;

		assert_int_equal(nn_net_parse(buf, len, 1, &back, &kind, &st,
					      &st_len, err, sizeof(err)),
				 MS_OK);
		assert_int_equal(kind, NN_FILE_CHECKPOINT);
		assert_int_equal(st_len, 5);
		assert_memory_equal(st, "state", 5);
		assert_memory_equal(back->params[0].m, net->params[0].m,
				    net->params[0].n * sizeof(float));
		free(st);
		nn_net_free(back);
	}
	free(buf);
	nn_net_free(net);
}

static void fix_crc(uint8_t *b, size_t len)
{
	uint32_t c = nn_crc32(b, len - 4);

	for (int i = 0; i < 4; i++)
		b[len - 4 + i] = (uint8_t)(c >> (8 * i));
}

static void expect_reject(const uint8_t *b, size_t len, const char *why)
{
	struct nn_model *m = NULL;
	char err[MS_ERRLEN] = "";
	int rc = nn_model_parse(b, len, &m, err, sizeof(err));

	if (rc == MS_OK) {
		print_error("accepted a bad file (%s)\n", why);
		nn_model_free(m);
		fail();
	}
	assert_true(err[0] != 0);
	assert_null(m);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_model_malformed(void **state)
{
	struct nn_net *net;
	uint8_t *buf, *b;
	size_t len, off;
	struct nn_model *m;
	char err[MS_ERRLEN];
	float nan_v = NAN;

	(void)state;
	nn_rng_seed(&rng, 11);
	net = random_net("tiny", 48, 44);
	assert_int_equal(
		nn_net_serialize(net, NN_FILE_MODEL, NULL, 0, &buf, &len),
		MS_OK);
	assert_int_equal(nn_model_parse(buf, len, &m, err, sizeof(err)), MS_OK);
	nn_model_free(m);
	b = malloc(len + 8);
	/* every truncation */
	for (size_t n = 0; n < len; n += (n < 64 ? 1 : 37))
		expect_reject(buf, n, "truncated");
	/* flipped bits without a valid checksum */
	memcpy(b, buf, len);
	b[len / 2] ^= 0x10;
	expect_reject(b, len, "bad crc");
	memcpy(b, buf, len);
	b[0] = 'X';
	fix_crc(b, len);
	expect_reject(b, len, "magic");
	memcpy(b, buf, len);
	put_le32(b + 4, 2);
	fix_crc(b, len);
	expect_reject(b, len, "version");
	memcpy(b, buf, len);
	put_le32(b + 28, 1000); /* layer count */
	fix_crc(b, len);
	expect_reject(b, len, "layer count");
	memcpy(b, buf, len);
	put_le32(b + 32, 99); /* first layer type */
	fix_crc(b, len);
	expect_reject(b, len, "layer type");
	memcpy(b, buf, len);
	put_le32(b + 32 + 4, 5); /* conv channels 4 -> 5: shape mismatch */
	fix_crc(b, len);
	expect_reject(b, len, "shape");
	memcpy(b, buf, len);
	put_le32(b + 12, 4096); /* side */
	fix_crc(b, len);
	expect_reject(b, len, "side");
	/* a NaN in the first tensor's data (after name and dims) */
	off = 32 + 28 * (size_t)net->arch.n_layers + 4;
	off += 1 + b[off] + 2 + 4 * 4; /* "L0.w", 4 dims */
	memcpy(b, buf, len);
	memcpy(b + off, &nan_v, 4);
	fix_crc(b, len);
	expect_reject(b, len, "nan");
	/* trailing garbage */
	memcpy(b, buf, len - 4);
	memset(b + len - 4, 0, 8);
	fix_crc(b, len + 4);
	expect_reject(b, len + 4, "trailing");
	/* a checkpoint is not accepted where a model is wanted without
	 * momenta, and a model file is not a checkpoint */
	memcpy(b, buf, len);
	put_le32(b + 8, 1);
	fix_crc(b, len);
	expect_reject(b, len, "checkpoint without momenta");
	assert_int_not_equal(
		nn_model_load("/nonexistent/model.msnn", &m, err, sizeof(err)),
		MS_OK);
	free(b);
	free(buf);
	nn_net_free(net);
}

/* ---- whole-split evaluation against a hand count ---- */

static void test_eval_fer(void **state)
{
	struct nn_model *m;
	struct nn_ctx *ctx;
	struct nn_fer set;
	char err[MS_ERRLEN], path[] = "/tmp/test_nn_fer_XXXXXX";
	uint8_t rec[NN_FER_RECORD];
	int conf[NN_CLASSES][NN_CLASSES], fd, hand = 0, hits = 0;
	int pred[40];
	FILE *f;

	(void)state;
	assert_int_equal(
		nn_model_load("tests/data/tiny.msnn", &m, err, sizeof(err)),
		MS_OK);
	ctx = nn_ctx_new(m);
	assert_non_null(ctx);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "wb");
	nn_rng_seed(&rng, 12);
	for (int i = 0; i < 40; i++) {
		float p[NN_CLASSES];
		int best = 0;

		for (int j = 1; j < NN_FER_RECORD; j++)
			rec[j] = (uint8_t)(nn_rng_below(&rng, 64) +
					   (j % 48) * 4 * (i % 3));
		nn_classify(ctx, rec + 1, 0, p);
		for (int c = 1; c < NN_CLASSES; c++)
			if (p[c] > p[best])
				best = c;
		pred[i] = best;
		/* half the labels agree with the model by construction */
		rec[0] = (uint8_t)(i % 2 ? best
					 : (best + 1 + i % 6) % NN_CLASSES);
		hand += i % 2;
		assert_int_equal(fwrite(rec, 1, NN_FER_RECORD, f),
				 NN_FER_RECORD);
	}
	fclose(f);
	assert_int_equal(nn_fer_load(path, &set, err, sizeof(err)), MS_OK);
	assert_int_equal(set.n, 40);
	assert_int_equal(nn_eval_fer(m, &set, 0, 3, conf), MS_OK);
	for (int c = 0; c < NN_CLASSES; c++)
		hits += conf[c][c];
	assert_int_equal(hits, hand);
	assert_int_equal(conf[set.labels[1]][pred[1]] > 0, 1);
	nn_fer_release(&set);
	/* a file that is not whole records, and one with a bad label */
	f = fopen(path, "ab");
	fputc(1, f);
	fclose(f);
	assert_int_equal(nn_fer_load(path, &set, err, sizeof(err)), MS_EFORMAT);
	f = fopen(path, "wb");
	rec[0] = 7;
	fwrite(rec, 1, NN_FER_RECORD, f);
	fclose(f);
	assert_int_equal(nn_fer_load(path, &set, err, sizeof(err)), MS_EFORMAT);
	unlink(path);
	nn_ctx_free(ctx);
	nn_model_free(m);
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
		cmocka_unit_test(test_net_gradients),
		cmocka_unit_test(test_overfit),
		cmocka_unit_test(test_model_roundtrip),
		cmocka_unit_test(test_model_malformed),
		cmocka_unit_test(test_eval_fer),
	};

	nn_set_threads(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
