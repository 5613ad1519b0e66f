/* test_nn_amx.c - the AMX int8 convolution (src/nn/kernels_amx.c) against
 * the VNNI one it must match bit for bit: the quantized input, the conv
 * output at many shapes, whole random models, the shipped ensemble on
 * real FER faces (MOODSYNC_DATA), and classification on two threads at
 * once (tile configuration is per thread). Skipped without AMX. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "moodsync/nn.h"
#include "nn/kernels.h"
#include "nn/nn_internal.h"
#include "nn_fixture.h"

#define SHIPPED "models/emotion.msens"
#define FER_FACES 300 /* real faces compared across levels */

static const char *data_dir(void)
{
	const char *d = getenv("MOODSYNC_DATA");

	return d && *d ? d : "../shared/data";
}

/* Byte offset of channel c, padded pixel p in the AMX layout. */
static size_t amx_idx(int c, size_t p, size_t plane, int kb)
{
	return ((size_t)(c / kb) * plane + p) * (size_t)kb + (size_t)(c % kb);
}

/* Quantization and conv on both int8 paths, compared bit for bit. ci and
 * co are the real channel counts; a tenth of the inputs are zero, as
 * after a ReLU. */
static void conv_case(int ci, int co, int h, int w, int relu)
{
	int cip = nn_kern_cpad(ci), cop = nn_kern_cpad(co);
	size_t plane = (size_t)(h + 2) * (w + 2);
	size_t nx = nn_kern_blocked_floats(cip, h, w, 16);
	size_t ny = nn_kern_blocked_floats(cop, h, w, 16);
	size_t nw = (size_t)co * ci * 9, np = (size_t)cip * cop * 9;
	float *x = calloc(nx, sizeof(float)), *wt = malloc(nw * sizeof(float));
	float *b = calloc((size_t)cop, sizeof(float));
	float *wsc = malloc((size_t)cop * sizeof(float));
	float *yv = malloc(ny * sizeof(float)),
	      *ya = malloc(ny * sizeof(float));
	uint8_t *xv = malloc(nx);
	uint8_t *xa = malloc(nn_kern_amx_u8_bytes(cip, h, w));
	int8_t *wq = malloc(np), *wa = malloc(nn_kern_amx_w_bytes(cip, cop));
	uint8_t *yq = malloc(ny),
		*ya8 = malloc(nn_kern_amx_u8_bytes(cop, h, w));
	float sv, sa, ymax;

	for (int c = 0; c < ci; c++)
		for (int y = 1; y <= h; y++)
			for (int xx = 1; xx <= w; xx++) {
				float v = 3 * nn_rng_uniform(&rng);

				x[((size_t)(c / 16) * plane +
				   (size_t)y * (w + 2) + (size_t)xx) *
					  16 +
				  (size_t)(c % 16)] = v < 0.3f ? 0 : v;
			}
	for (size_t i = 0; i < nw; i++)
		wt[i] = nn_rng_uniform(&rng) - 0.5f;
	for (int o = 0; o < co; o++)
		b[o] = nn_rng_uniform(&rng) - 0.5f;
	/* stale bytes the kernel must not read as data */
	memset(xa, 0xa5, nn_kern_amx_u8_bytes(cip, h, w));
	nn_kern_quant_u8(x, cip, h, w, xv, &sv);
	nn_kern_quant_u8_amx(x, cip, h, w, NULL, xa, &sa);
	assert_true(sv == sa);
	for (int c = 0; c < cip; c++)
		for (size_t p = 0; p < plane; p++)
			assert_int_equal(
				xv[amx_idx(c, p, plane, 16)],
				xa[amx_idx(c, p, plane, nn_kern_amx_kb(cip))]);
	nn_kern_pack3x3_s8(wt, ci, co, wq, wsc);
	nn_kern_pack3x3_amx(wq, cip, cop, wa);
	for (size_t i = 0; i < ny; i++)
		yv[i] = ya[i] = NAN;
	nn_kern_conv3x3_s8(xv, sv, cip, h, w, wq, wsc, b, cop, relu, yv);
	nn_kern_amx_config(8, 16, 64);
	nn_kern_conv3x3_amx(xa, sa, cip, h, w, wa, wsc, b, cop, relu, ya,
			    &ymax);
	nn_kern_amx_release();
	if (memcmp(yv, ya, ny * sizeof(float)))
		fail_msg("ci %d co %d %dx%d relu %d: AMX differs from VNNI", ci,
			 co, h, w, relu);
	/* the max the next quantization would find, borders included */
	nn_kern_quant_u8(yv, cop, h, w, yq, &sv);
	nn_kern_quant_u8_amx(ya, cop, h, w, &ymax, ya8, &sa);
	assert_true(sv == sa);
	free(x), free(wt), free(b), free(wsc), free(yv), free(ya);
	free(xv), free(xa), free(wq), free(wa), free(yq), free(ya8);
}

static void test_conv_amx(void **state)
{
	const int ch[] = {16, 32, 64, 128, 256};
	const int hw[][2] = {{5, 5}, {11, 11}, {22, 22}, {7, 13},
			     {1, 1}, {3, 2},   {2, 9}};

	(void)state;
	if (nn_kern_level() < NN_KERN_AMX)
		skip();
	nn_rng_seed(&rng, 5);
	for (size_t i = 0; i < MS_ARRAY_LEN(ch); i++)
		for (size_t o = 0; o < MS_ARRAY_LEN(ch); o++)
			for (size_t s = 0; s < MS_ARRAY_LEN(hw); s++)
				conv_case(ch[i], ch[o], hw[s][0], hw[s][1],
					  (int)(i + o + s) % 2);
	/* channel counts the padding rounds up: 48 and 96 inputs take the
	 * 16- and 32-channel layouts */
	conv_case(24, 40, 6, 9, 1);
	conv_case(48, 80, 11, 11, 1);
	conv_case(96, 48, 22, 22, 0);
	conv_case(320, 16, 4, 4, 1);
}

/* nn_classify of `faces` (n faces of side x side) by model m, probs
 * (n, 7), on a new context. */
static void classify_all(const struct nn_model *m, const uint8_t *faces,
			 size_t n, int side, float *probs)
{
	struct nn_ctx *ctx = nn_ctx_new(m);

	assert_non_null(ctx);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(nn_classify(ctx, faces + i * side * side,
					     NN_TTA_FLIP,
					     probs + i * NN_CLASSES),
				 MS_OK);
	nn_ctx_free(ctx);
}

/* The model at `path` loaded with the kernel level capped at `level`
 * (a model keeps only the weights of its level), then the level back at
 * AMX. */
static struct nn_model *load_at(const char *path, enum nn_kern_level level)
{
	struct nn_model *m = NULL;
	char err[MS_ERRLEN];

	assert_int_equal(nn_kern_set_level(level), level);
	if (nn_model_load(path, &m, err, sizeof(err)))
		fail_msg("%s", err);
	nn_kern_set_level(NN_KERN_AMX);
	return m;
}

/* Random faces through random preset nets, packed for AMX and for VNNI:
 * the same probabilities, to the bit. */
static void test_models_amx(void **state)
{
	const char *archs[] = {"tiny", "small", "wide", "large"};
	enum { N = 4 };

	(void)state;
	if (nn_kern_level() < NN_KERN_AMX)
		skip();
	nn_rng_seed(&rng, 6);
	for (size_t k = 0; k < MS_ARRAY_LEN(archs); k++) {
		struct nn_arch a;
		struct nn_net *net;
		struct nn_model *m, *mv;
		char err[MS_ERRLEN];
		float pa[N * NN_CLASSES], pv[N * NN_CLASSES];
		uint8_t *faces;
		int side;

		assert_int_equal(nn_arch_preset(archs[k], &a), MS_OK);
		assert_int_equal(nn_net_new(&a, 0, &net, err, sizeof(err)),
				 MS_OK);
		nn_net_init_weights(net, &rng);
		m = fixture_model_at(net, NN_KERN_AMX);
		mv = fixture_model_at(net, NN_KERN_INT8);
		nn_kern_set_level(NN_KERN_AMX);
		nn_net_free(net);
		side = nn_model_input_size(m);
		faces = malloc((size_t)N * side * side);
		for (int i = 0; i < N * side * side; i++)
			faces[i] = (uint8_t)(nn_rng_next(&rng) >> 56);
		classify_all(m, faces, N, side, pa);
		classify_all(mv, faces, N, side, pv);
		assert_memory_equal(pa, pv, sizeof(pa));
		free(faces);
		nn_model_free(m);
		nn_model_free(mv);
	}
}

/* The shipped model on the first FER_FACES PublicTest faces, loaded for
 * AMX and for VNNI: the same probabilities, to the bit. */
static void test_shipped_amx(void **state)
{
	struct nn_model *m, *mv;
	struct nn_ctx *ctx;
	struct nn_fer fer;
	char err[MS_ERRLEN], path[512];
	float *pa, *pv;
	size_t n;

	(void)state;
	if (nn_kern_level() < NN_KERN_AMX)
		skip();
	snprintf(path, sizeof(path), "%s/fer2013/publictest.bin", data_dir());
	if (nn_fer_load(path, &fer, err, sizeof(err)))
		fail_msg("%s (set MOODSYNC_DATA)", err);
	m = load_at(SHIPPED, NN_KERN_AMX);
	mv = load_at(SHIPPED, NN_KERN_INT8);
	n = MS_MIN(fer.n, (size_t)FER_FACES);
	pa = malloc(n * NN_CLASSES * sizeof(float));
	pv = malloc(n * NN_CLASSES * sizeof(float));
	classify_all(m, fer.pixels, n, NN_FER_SIDE, pa);
	classify_all(mv, fer.pixels, n, NN_FER_SIDE, pv);
	assert_memory_equal(pa, pv, n * NN_CLASSES * sizeof(float));
	/* loaded for AMX, it keeps only the tile layout: a level lowered
	 * after loading is refused */
	ctx = nn_ctx_new(m);
	assert_non_null(ctx);
	nn_kern_set_level(NN_KERN_INT8);
	assert_int_equal(nn_classify(ctx, fer.pixels, NN_TTA_FLIP, pv),
			 MS_EUNSUPPORTED);
	nn_kern_set_level(NN_KERN_AMX);
	free(pa), free(pv);
	nn_ctx_free(ctx);
	nn_model_free(m);
	nn_model_free(mv);
	nn_fer_release(&fer);
}

struct worker {
	const struct nn_model *m;
	const uint8_t *faces;
	size_t n;
	float *probs;
	int rc;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct nn_ctx *ctx = nn_ctx_new(w->m);

	w->rc = ctx ? MS_OK : MS_ENOMEM;
	for (size_t i = 0; i < w->n && !w->rc; i++)
		w->rc = nn_classify(ctx,
				    w->faces + i * NN_FER_SIDE * NN_FER_SIDE,
				    NN_TTA_FLIP, w->probs + i * NN_CLASSES);
	nn_ctx_free(ctx);
	return NULL;
}

/* Two threads classifying at once, each configuring its own tiles, give
 * what one thread gives at the VNNI level. */
static void test_threads_amx(void **state)
{
	enum { N = 40 };
	struct nn_model *m, *mv;
	struct worker w[2];
	pthread_t t[2];
	uint8_t *faces = malloc((size_t)N * NN_FER_SIDE * NN_FER_SIDE);
	float ref[N * NN_CLASSES], got[2][N * NN_CLASSES];

	(void)state;
	if (nn_kern_level() < NN_KERN_AMX)
		skip();
	m = load_at(SHIPPED, NN_KERN_AMX);
	mv = load_at(SHIPPED, NN_KERN_INT8);
	nn_rng_seed(&rng, 7);
	for (size_t i = 0; i < (size_t)N * NN_FER_SIDE * NN_FER_SIDE; i++)
		faces[i] = (uint8_t)(nn_rng_next(&rng) >> 56);
	classify_all(mv, faces, N, NN_FER_SIDE, ref);
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){m, faces, N, got[i], -1};
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].rc, MS_OK);
		assert_memory_equal(got[i], ref, sizeof(ref));
	}
	free(faces);
	nn_model_free(m);
	nn_model_free(mv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv_amx),
		cmocka_unit_test(test_models_amx),
		cmocka_unit_test(test_shipped_amx),
		cmocka_unit_test(test_threads_amx),
	};

	nn_set_threads(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
