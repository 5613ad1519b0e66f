/* test_nn_kernels.c - the fast paths (src/nn/kernels.c) against naive
 * references: blocked 3x3 convolution at odd sizes and channel counts in
 * fp32 and int8, its weight gradient, channel interleaving, blocked pooling
 * (and the max it reports), and whole models classified on the fast and the
 * portable path. Fast-path cases are skipped on CPUs without AVX-512 (int8
 * ones without VNNI). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "moodsync/nn.h"
#include "nn/kernels.h"
#include "nn/nn_internal.h"
#include "nn_fixture.h"

/* Blocked index of channel c, pixel (y, x) of a (., h, w) tensor. */
static size_t bidx(int c, int y, int x, int h, int w, int cb)
{
	return (((size_t)(c / cb) * (h + 2) + (size_t)(y + 1)) * (w + 2) +
		(size_t)(x + 1)) *
		       cb +
	       (size_t)(c % cb);
}

static float *to_blocked(const float *x, int c, int h, int w, int cb)
{
	float *b = calloc(nn_kern_blocked_floats(c, h, w, cb), sizeof(float));

	for (int ch = 0; ch < c; ch++)
		for (int y = 0; y < h; y++)
			for (int xx = 0; xx < w; xx++)
				b[bidx(ch, y, xx, h, w, cb)] =
					x[((size_t)ch * h + y) * w + xx];
	return b;
}

/* Every border float of a blocked tensor must be zero. */
static void check_border(const float *b, int c, int h, int w, int cb)
{
	for (int blk = 0; blk < c / cb; blk++)
		for (int y = 0; y < h + 2; y++)
			for (int x = 0; x < w + 2; x++) {
				const float *p =
					b +
					(((size_t)blk * (h + 2) + y) * (w + 2) +
					 x) * cb;

				if (y > 0 && y <= h && x > 0 && x <= w)
					continue;
				for (int j = 0; j < cb; j++)
					assert_true(p[j] == 0.0f);
			}
}

/* Output channel o of a blocked result: the reference for o < co, zero
 * for the padding up to a whole block. */
static void check_out(const float *yb, int o, int co, int y, int x, int h,
		      int w, double ref)
{
	float got = yb[bidx(o, y, x, h, w, 16)];

	if (o >= co)
		assert_true(got == 0.0f);
	else
		assert_float_equal(got, ref, 1e-4 * (1 + fabs(ref)));
}

static void conv_case(int ci, int co, int h, int w, int relu)
{
	int icb = ci == 1 ? 1 : NN_KERN_CB;
	int cip = ci == 1 ? 1 : nn_kern_cpad(ci), cop = nn_kern_cpad(co);
	size_t nx = (size_t)ci * h * w, nw = (size_t)co * ci * 9;
	float *x = malloc(nx * sizeof(float)), *wt = malloc(nw * sizeof(float));
	float *wp = malloc((size_t)cip * cop * 9 * sizeof(float));
	float *b = calloc((size_t)cop, sizeof(float));
	float *xb, *yb;
	size_t ny = nn_kern_blocked_floats(co, h, w, 16);

	fill(x, nx, 1);
	fill(wt, nw, 0.5f);
	fill(b, (size_t)co, 0.5f);
	xb = to_blocked(x, ci, h, w, icb);
	yb = malloc(ny * sizeof(float));
	for (size_t i = 0; i < ny; i++)
		yb[i] = NAN; /* stale data the kernel must overwrite */
	nn_kern_pack3x3(wt, ci, co, icb, wp);
	nn_kern_conv3x3(xb, cip, icb, h, w, wp, b, cop, relu, yb);
	for (int o = 0; o < cop; o++)
		for (int y = 0; y < h; y++)
			for (int xx = 0; xx < w; xx++) {
				double s = b[o];

				for (int i = 0; i < ci && o < co; i++)
					for (int t = 0; t < 9; t++) {
						int iy = y + t / 3 - 1,
						    ix = xx + t % 3 - 1;

						if (iy < 0 || iy >= h ||
						    ix < 0 || ix >= w)
							continue;
						s += (double)wt[((size_t)o *
									 ci +
								 i) * 9 +
								t] *
						     x[((size_t)i * h + iy) *
							       w +
						       ix];
					}
				if (relu && s < 0)
					s = 0;
				check_out(yb, o, co, y, xx, h, w, s);
			}
	check_border(yb, cop, h, w, 16);
	free(x), free(wt), free(wp), free(b), free(xb), free(yb);
}

static void test_conv3x3(void **state)
{
	(void)state;
	if (!nn_kern_fast())
		skip();
	nn_rng_seed(&rng, 1);
	conv_case(1, 32, 44, 44, 1);  /* first layer of the presets */
	conv_case(1, 16, 7, 5, 0);    /* one output block, odd sides */
	conv_case(16, 48, 5, 5, 1);   /* a pair and a single block */
	conv_case(32, 32, 1, 1, 0);   /* fewer pixels than a tile */
	conv_case(16, 16, 3, 2, 1);   /* still fewer */
	conv_case(48, 64, 13, 11, 1); /* tiles across rows */
	conv_case(16, 32, 2, 17, 0);
	conv_case(1, 24, 9, 6, 1); /* padded to 32 outputs */
	conv_case(24, 8, 7, 7, 0); /* padded inputs and outputs */
}

/* The weight gradient of the blocked conv, accumulated over two images
 * onto a non-zero start, against the exact sums. */
static void wgrad_case(int ci, int co, int h, int w)
{
	int icb = ci == 1 ? 1 : NN_KERN_CB;
	int cip = ci == 1 ? 1 : nn_kern_cpad(ci), cop = nn_kern_cpad(co);
	size_t nx = (size_t)ci * h * w, ny = (size_t)co * h * w;
	size_t nw = (size_t)co * ci * 9, np = (size_t)cip * cop * 9;
	float *x[2], *dy[2], *xb[2], *db[2];
	float *g0 = malloc(nw * sizeof(float)),
	      *gp = malloc(np * sizeof(float));
	float *ref = malloc(np * sizeof(float));

	fill(g0, nw, 1);
	nn_kern_pack3x3(g0, ci, co, icb, gp);
	memcpy(ref, gp, np * sizeof(float));
	for (int n = 0; n < 2; n++) {
		x[n] = malloc(nx * sizeof(float));
		dy[n] = malloc(ny * sizeof(float));
		fill(x[n], nx, 1);
		fill(dy[n], ny, 1);
		xb[n] = to_blocked(x[n], ci, h, w, icb);
		db[n] = to_blocked(dy[n], co, h, w, 16);
		nn_kern_conv3x3_wgrad(xb[n], cip, icb, h, w, db[n], cop, gp);
	}
	for (int o = 0; o < co; o++)
		for (int i = 0; i < ci; i++)
			for (int t = 0; t < 9; t++) {
				double s = g0[((size_t)o * ci + i) * 9 + t];
				size_t blk = (size_t)(o / 16) * (cip / icb) +
					     (size_t)(i / icb);
				size_t at = ((blk * 9 + (size_t)t) * icb +
					     (size_t)(i % icb)) *
						    16 +
					    (size_t)(o % 16);

				for (int n = 0; n < 2; n++)
					for (int y = 0; y < h; y++)
						for (int xx = 0; xx < w; xx++) {
							int iy = y + t / 3 - 1,
							    ix = xx + t % 3 - 1;

							if (iy < 0 || iy >= h ||
							    ix < 0 || ix >= w)
								continue;
							s += (double)dy
								     [n]
								     [((size_t)o *
									       h +
								       y) * w +
								      xx] *
							     x[n]
							      [((size_t)i * h +
								iy) * w +
							       ix];
						}
				assert_float_equal(gp[at], s,
						   1e-4 * (1 + fabs(s)));
			}
	for (int n = 0; n < 2; n++)
		free(x[n]), free(dy[n]), free(xb[n]), free(db[n]);
	free(g0), free(gp), free(ref);
}

static void test_conv3x3_wgrad(void **state)
{
	(void)state;
	if (!nn_kern_fast())
		skip();
	nn_rng_seed(&rng, 5);
	wgrad_case(1, 32, 44, 44); /* first layer of the presets */
	wgrad_case(16, 48, 5, 5);
	wgrad_case(32, 16, 1, 1); /* a single pixel */
	wgrad_case(24, 8, 7, 9);  /* padded inputs and outputs */
	wgrad_case(1, 20, 3, 13);
}

/* Channel interleaving both ways, with fewer than 16 live lanes, for
 * fewer pixels than one transposed block of 16 and for two blocks and a
 * rest, planes further apart than their pixels. */
static void test_gather_scatter(void **state)
{
	enum { S = 41 };
	float src[16 * S], blk[S * 16], back[16 * S];
	const size_t cases[][2] = {{7, 7}, {37, S}};

	(void)state;
	nn_rng_seed(&rng, 6);
	for (size_t c = 0; c < MS_ARRAY_LEN(cases); c++)
		for (int nch = 1; nch <= 16; nch += 5) {
			size_t n = cases[c][0], st = cases[c][1];

			fill(src, MS_ARRAY_LEN(src), 1);
			memset(back, 0, sizeof(back));
			nn_kern_gather16(src, st, nch, n, blk);
			for (size_t p = 0; p < n; p++)
				for (int j = 0; j < 16; j++)
					assert_true(blk[p * 16 + j] ==
						    (j < nch ? src[j * st + p]
							     : 0.0f));
			nn_kern_scatter16(blk, n, nch, st, back);
			for (size_t i = 0; i < 16 * st; i++)
				assert_true(back[i] ==
					    (i / st < (size_t)nch && i % st < n
						     ? src[i]
						     : 0.0f));
		}
}

/* The max that nn_kern_maxpool2 reports, on the path the CPU takes and on
 * the portable one: the largest float of y, zero border included. */
static void pool_max_check(const float *xb, int c, int h, int w,
			   const float *yb)
{
	size_t n = nn_kern_blocked_floats(c, h / 2, w / 2, 16);
	float *y2 = malloc(n * sizeof(float)), want = 0, got;
	enum nn_kern_level best = nn_kern_level();

	for (size_t i = 0; i < n; i++)
		want = fmaxf(want, yb[i]);
	for (int pass = 0; pass < 2; pass++) {
		nn_kern_set_level(pass ? NN_KERN_PORTABLE : best);
		nn_kern_maxpool2(xb, c, h, w, y2, &got);
		assert_true(got == want);
		assert_memory_equal(y2, yb, n * sizeof(float));
	}
	nn_kern_set_level(best);
	free(y2);
}

static void test_pool_gap(void **state)
{
	const int sizes[][2] = {{5, 5}, {11, 11}, {4, 7}, {2, 3}};

	(void)state;
	nn_rng_seed(&rng, 2);
	for (size_t k = 0; k < MS_ARRAY_LEN(sizes); k++) {
		int c = 32, h = sizes[k][0], w = sizes[k][1];
		int oh = h / 2, ow = w / 2;
		size_t n = (size_t)c * h * w;
		float *x = malloc(n * sizeof(float)), *xb, *yb, g[32];

		fill(x, n, 1);
		xb = to_blocked(x, c, h, w, 16);
		yb = malloc(nn_kern_blocked_floats(c, oh, ow, 16) *
			    sizeof(float));
		nn_kern_maxpool2(xb, c, h, w, yb, NULL);
		check_border(yb, c, oh, ow, 16);
		pool_max_check(xb, c, h, w, yb);
		for (int ch = 0; ch < c; ch++)
			for (int y = 0; y < oh; y++)
				for (int xx = 0; xx < ow; xx++) {
					const float *p =
						x +
						((size_t)ch * h + 2 * y) * w +
						2 * xx;
					float m = fmaxf(fmaxf(p[0], p[1]),
							fmaxf(p[w], p[w + 1]));

					assert_true(yb[bidx(ch, y, xx, oh, ow,
							    16)] == m);
				}
		nn_kern_gap(xb, c, h, w, g);
		for (int ch = 0; ch < c; ch++) {
			double s = 0;

			for (int i = 0; i < h * w; i++)
				s += x[(size_t)ch * h * w + i];
			assert_float_equal(g[ch], s / (h * w), 1e-5);
		}
		free(x), free(xb), free(yb);
	}
}

/* The int8 conv against the exact sum of its quantized operands. */
static void conv_s8_case(int ci, int co, int h, int w, int relu)
{
	int cip = nn_kern_cpad(ci), cop = nn_kern_cpad(co);
	size_t nx = nn_kern_blocked_floats(ci, h, w, 16);
	size_t nw = (size_t)co * ci * 9, np = (size_t)cip * cop * 9;
	float *x = calloc(nx, sizeof(float)), *wt = malloc(nw * sizeof(float));
	float *b = calloc((size_t)cop, sizeof(float));
	float *wsc = malloc((size_t)cop * sizeof(float));
	float *y = malloc(nn_kern_blocked_floats(co, h, w, 16) * sizeof(float));
	uint8_t *xq = malloc(nx);
	int8_t *wq = malloc(np);
	float xs;

	for (int c = 0; c < ci; c++)
		for (int yy = 0; yy < h; yy++)
			for (int xx = 0; xx < w; xx++)
				x[bidx(c, yy, xx, h, w, 16)] =
					3 * nn_rng_uniform(&rng);
	fill(wt, nw, 0.5f);
	fill(b, (size_t)co, 0.5f);
	nn_kern_quant_u8(x, cip, h, w, xq, &xs);
	for (size_t i = 0; i < nx; i++) /* round(x / xs), up to ties */
		assert_true(fabs(xq[i] * xs - x[i]) <= 0.5001 * xs);
	nn_kern_pack3x3_s8(wt, ci, co, wq, wsc);
	nn_kern_conv3x3_s8(xq, xs, cip, h, w, wq, wsc, b, cop, relu, y);
	for (int o = 0; o < cop; o++)
		for (int yy = 0; yy < h; yy++)
			for (int xx = 0; xx < w; xx++) {
				long acc = 0;
				double s;

				for (int i = 0; i < ci && o < co; i++)
					for (int t = 0; t < 9; t++) {
						size_t k = ((size_t)o * ci +
							    i) * 9 +
							   t;
						long q = lrintf(wt[k] / wsc[o]);

						assert_true(labs(q) <= 127);
						acc += q *
						       xq[bidx(i,
							       yy + t / 3 - 1,
							       xx + t % 3 - 1,
							       h, w, 16)];
					}
				s = (double)acc * xs * wsc[o] + b[o];
				if (relu && s < 0)
					s = 0;
				check_out(y, o, co, yy, xx, h, w, s);
			}
	check_border(y, cop, h, w, 16);
	free(x), free(wt), free(b), free(wsc), free(y), free(xq), free(wq);
}

static void test_conv3x3_s8(void **state)
{
	(void)state;
	if (nn_kern_level() < NN_KERN_INT8)
		skip();
	nn_rng_seed(&rng, 4);
	conv_s8_case(16, 32, 44, 44, 1);
	conv_s8_case(16, 48, 5, 5, 0);
	conv_s8_case(32, 16, 1, 1, 1);
	conv_s8_case(48, 64, 13, 11, 1);
	conv_s8_case(32, 48, 4, 5, 1);	/* rows of 5 in pairs, h even */
	conv_s8_case(16, 48, 7, 22, 0); /* tiles of 11, two a row */
	conv_s8_case(16, 32, 3, 33, 1); /* a multiple of 11 walked flat */
	conv_s8_case(64, 32, 3, 2, 0);
	conv_s8_case(24, 40, 6, 9, 1); /* padded inputs and outputs */
}

/* nn_classify of `face` on a new context of `m` at `level`. */
static int classify_at(struct nn_model *m, enum nn_kern_level level,
		       const uint8_t *face, int tta, float probs[NN_CLASSES])
{
	struct nn_ctx *ctx = nn_ctx_new(m);
	int rc;

	assert_non_null(ctx);
	assert_int_equal(nn_kern_set_level(level), level);
	rc = nn_classify(ctx, face, tta, probs);
	nn_ctx_free(ctx);
	return rc;
}

/* A preset net with random weights and BN statistics, loaded at the best
 * level, at fp32 and at portable: fp32 and portable agree to rounding,
 * int8 within its quantisation error; the fp32 one run at portable (its
 * context allocates the portable scratch then) as the portable one. A
 * model loaded for int8 keeps no fp32 weights for its int8 convs (nor,
 * loaded for AMX, the VNNI layout), so a level lowered below its own
 * after loading it is refused, not run on missing weights. */
static void test_model_paths(void **state)
{
	/* tiny and wide have channel counts that are not multiples of 16 */
	const char *archs[] = {"tiny", "small", "wide", "large"};
	enum nn_kern_level best = nn_kern_level();

	(void)state;
	if (!nn_kern_fast())
		skip();
	nn_rng_seed(&rng, 3);
	for (size_t k = 0; k < MS_ARRAY_LEN(archs); k++) {
		struct nn_net *net = fixture_net(archs[k], 0, 0, 0);
		struct nn_model *mq = fixture_model_at(net, best);
		struct nn_model *mf = fixture_model_at(net, NN_KERN_FP32);
		struct nn_model *mp = fixture_model_at(net, NN_KERN_PORTABLE);
		int side = nn_model_input_size(mq);
		uint8_t *face = malloc((size_t)side * side);
		float pq[NN_CLASSES], pf[NN_CLASSES], pp[NN_CLASSES],
			pb[NN_CLASSES];

		for (int i = 0; i < side * side; i++)
			face[i] = (uint8_t)(nn_rng_next(&rng) >> 56);
		for (int tta = 0; tta < NN_TTA_MODES; tta++) {
			assert_int_equal(classify_at(mq, best, face, tta, pq),
					 MS_OK);
			assert_int_equal(
				classify_at(mf, NN_KERN_FP32, face, tta, pf),
				MS_OK);
			assert_int_equal(classify_at(mp, NN_KERN_PORTABLE, face,
						     tta, pp),
					 MS_OK);
			/* packed for fp32 kernels, run on the portable path:
			 * its context gets the im2col scratch then */
			assert_int_equal(classify_at(mf, NN_KERN_PORTABLE, face,
						     tta, pb),
					 MS_OK);
			for (int c = 0; c < NN_CLASSES; c++) {
				assert_float_equal(pb[c], pp[c], 1e-6);
				assert_float_equal(pf[c], pp[c], 1e-4);
				/* int8 error of random weights, 7 layers */
				assert_float_equal(pq[c], pp[c], 0.05);
			}
		}
		/* large (76 M multiply-adds) takes int8 where the CPU has it */
		if (best >= NN_KERN_INT8 && !strcmp(archs[k], "large")) {
			assert_int_equal(
				classify_at(mq, NN_KERN_FP32, face, 0, pf),
				MS_EUNSUPPORTED);
			/* loaded for AMX, it keeps only the tile layout */
			assert_int_equal(
				classify_at(mq, NN_KERN_INT8, face, 0, pf),
				best >= NN_KERN_AMX ? MS_EUNSUPPORTED : MS_OK);
		}
		nn_kern_set_level(best);
		free(face);
		nn_model_free(mq);
		nn_model_free(mf);
		nn_model_free(mp);
		nn_net_free(net);
	}
}

/* The trainer's vector 2x2 pooling against the plain loop (level
 * portable): the same maxima, indices (ties: the first in window order)
 * and input gradients, bit for bit, at odd and multi-vector widths. */
static void test_maxpool2_planes(void **state)
{
	static const int sides[][2] = {{11, 11}, {22, 22}, {5, 5}, {7, 70}};
	enum nn_kern_level best = nn_kern_level();

	(void)state;
	if (!nn_kern_fast())
		skip();
	nn_rng_seed(&rng, 9);
	for (size_t k = 0; k < MS_ARRAY_LEN(sides); k++) {
		struct nn_shape in = {1, sides[k][0], sides[k][1]};
		struct nn_shape out = {1, in.h / 2, in.w / 2};
		size_t ni = (size_t)3 * in.h * in.w,
		       no = (size_t)3 * out.h * out.w;
		float *x = malloc(ni * 4), *dy = malloc(no * 4);
		float *y[2] = {malloc(no * 4), malloc(no * 4)};
		float *dx[2] = {malloc(ni * 4), malloc(ni * 4)};
		int32_t *ix[2] = {malloc(no * 4), malloc(no * 4)};

		fill(x, ni, 1);
		fill(dy, no, 1);
		for (size_t i = 0; i < ni; i += 3)
			x[i] = x[i / 2]; /* ties */
		for (int pass = 0; pass < 2; pass++) {
			nn_kern_set_level(pass ? best : NN_KERN_PORTABLE);
			nn_maxpool_forward(x, y[pass], ix[pass], 3, in, out, 2,
					   2);
			nn_maxpool_backward(dy, ix[pass], dx[pass], 3, in, out,
					    2, 2);
		}
		assert_memory_equal(y[0], y[1], no * 4);
		assert_memory_equal(ix[0], ix[1], no * 4);
		assert_memory_equal(dx[0], dx[1], ni * 4);
		free(x), free(dy), free(y[0]), free(y[1]), free(dx[0]);
		free(dx[1]), free(ix[0]), free(ix[1]);
	}
	nn_kern_set_level(best);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv3x3),
		cmocka_unit_test(test_conv3x3_s8),
		cmocka_unit_test(test_conv3x3_wgrad),
		cmocka_unit_test(test_gather_scatter),
		cmocka_unit_test(test_pool_gap),
		cmocka_unit_test(test_maxpool2_planes),
		cmocka_unit_test(test_model_paths),
	};

	nn_set_threads(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
