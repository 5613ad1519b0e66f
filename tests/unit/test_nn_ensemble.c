/* test_nn_ensemble.c - unit tests of ensembles and test-time augmentation:
 * an ensemble of two random nets gives the weighted mean of their outputs,
 * the manifest parser accepts what the spec allows and rejects the rest,
 * loading refuses nested, missing or mismatched members, and ten-crop TTA
 * is the mean of its ten views classified one by one. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "moodsync/nn.h"
#include "nn/nn_internal.h"
#include "nn_fixture.h"

#define SIDE 20
#define CROP 16

static char dir[] = "/tmp/test_nn_ensemble_XXXXXX";

/* A "tiny" net with random weights and batch-norm statistics, saved as
 * dir/name. */
static void save_random_net(const char *name, int side, int crop)
{
	struct nn_net *net = fixture_net("tiny", side, crop, 1);
	char err[MS_ERRLEN], path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(nn_net_save(net, path, err, sizeof(err)), MS_OK);
	nn_net_free(net);
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int load(const char *name, struct nn_model **m)
{
	char path[256], err[MS_ERRLEN];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = nn_model_load(path, m, err, sizeof(err));
	if (rc)
		print_message("# %s: %s\n", name, err);
	return rc;
}

static void classify(const struct nn_model *m, const uint8_t *face, int tta,
		     float p[NN_CLASSES])
{
	struct nn_ctx *ctx = nn_ctx_new(m);

	assert_non_null(ctx);
	assert_int_equal(nn_classify(ctx, face, tta, p), MS_OK);
	nn_ctx_free(ctx);
}

static int setup(void **state)
{
	(void)state;
	nn_rng_seed(&rng, 7);
	if (!mkdtemp(dir))
		return -1;
	save_random_net("a.msnn", SIDE, CROP);
	save_random_net("b.msnn", SIDE, CROP);
	save_random_net("c.msnn", SIDE + 4, CROP);
	return 0;
}

static int teardown(void **state)
{
	static const char *const names[] = {
		"a.msnn",    "b.msnn",	   "c.msnn",	 "pair.msens",
		"abs.msens", "nest.msens", "gone.msens", "mixed.msens"};
	char path[256];

	(void)state;
	for (size_t i = 0; i < MS_ARRAY_LEN(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	return rmdir(dir);
}

static void test_ensemble_mean(void **state)
{
	struct nn_model *a, *b, *e, *e2;
	struct nn_model_info ia, ib, ie;
	uint8_t face[SIDE * SIDE];
	float pa[NN_CLASSES], pb[NN_CLASSES], pe[NN_CLASSES], w, sum;
	char text[512];

	(void)state;
	write_file("pair.msens", "msens 1\r\n# two nets\n\n"
				 "member a.msnn 3\n\tmember  b.msnn\r\n");
	snprintf(text, sizeof(text), "msens 1\nmember %s/b.msnn 2\n", dir);
	write_file("abs.msens", text);
	assert_int_equal(load("a.msnn", &a), MS_OK);
	assert_int_equal(load("b.msnn", &b), MS_OK);
	assert_int_equal(load("pair.msens", &e), MS_OK);
	assert_int_equal(load("abs.msens", &e2), MS_OK);
	assert_int_equal(nn_model_members(a), 1);
	assert_ptr_equal(nn_model_member(a, 0, &w), a);
	assert_null(nn_model_member(a, 1, NULL));
	assert_int_equal(nn_model_members(e), 2);
	assert_int_equal(nn_model_members(e2), 1);
	assert_int_equal(nn_model_input_size(e), SIDE);
	assert_non_null(nn_model_member(e, 0, &w));
	assert_float_equal(w, 0.75f, 1e-6);
	assert_non_null(nn_model_member(e, 1, &w));
	assert_float_equal(w, 0.25f, 1e-6);
	assert_null(nn_model_member(e, 2, NULL));
	nn_model_info(a, &ia);
	nn_model_info(b, &ib);
	nn_model_info(e, &ie);
	assert_int_equal(ie.members, 2);
	assert_int_equal(ie.params, ia.params + ib.params);
	assert_float_equal(ie.macs, ia.macs + ib.macs, 1);
	assert_int_equal(ie.side, SIDE);
	assert_int_equal(ie.crop, CROP);
	for (int i = 0; i < SIDE * SIDE; i++)
		face[i] = (uint8_t)((i * 37 + (i >> 3)) % 256);
	for (int tta = 0; tta < NN_TTA_MODES; tta++) {
		classify(a, face, tta, pa);
		classify(b, face, tta, pb);
		classify(e, face, tta, pe);
		sum = 0;
		for (int c = 0; c < NN_CLASSES; c++) {
			assert_float_equal(pe[c], 0.75f * pa[c] + 0.25f * pb[c],
					   1e-5);
			sum += pe[c];
		}
		assert_float_equal(sum, 1, 1e-5);
		classify(e2, face, tta, pe);
		assert_memory_equal(pe, pb, sizeof(pb));
	}
	/* the members differ, so the test above can tell them apart */
	assert_true(fabsf(pa[0] - pb[0]) > 1e-4f);
	nn_model_free(e2);
	nn_model_free(e);
	nn_model_free(b);
	nn_model_free(a);
}

static void test_ensemble_load_errors(void **state)
{
	struct nn_model *m = NULL;
	char err[MS_ERRLEN];
	static const char text[] = "msens 1\nmember a.msnn\n";

	(void)state;
	write_file("nest.msens", "msens 1\nmember a.msnn\nmember pair.msens\n");
	write_file("gone.msens", "msens 1\nmember a.msnn\nmember none.msnn\n");
	write_file("mixed.msens", "msens 1\nmember a.msnn\nmember c.msnn\n");
	write_file("pair.msens", "msens 1\nmember a.msnn\n");
	assert_int_equal(load("nest.msens", &m), MS_EFORMAT);
	assert_int_equal(load("gone.msens", &m), MS_ENOTFOUND);
	assert_int_equal(load("mixed.msens", &m), MS_EFORMAT);
	assert_null(m);
	/* a buffer cannot name files relative to anything */
	assert_int_equal(nn_model_parse((const uint8_t *)text, sizeof(text) - 1,
					&m, err, sizeof(err)),
			 MS_EFORMAT);
	assert_null(m);
}

static int parse(const char *text, size_t len, struct nn_manifest *mf)
{
	char err[MS_ERRLEN];

	return nn_manifest_parse((const uint8_t *)text, len, mf, err,
				 sizeof(err));
}

static void test_manifest_parse(void **state)
{
	static const struct {
		const char *text;
		int rc;
	} bad[] = {
		{"", MS_EFORMAT},
		{"msens 2\nmember a\n", MS_EFORMAT},
		{"msens 1x\nmember a\n", MS_EFORMAT},
		{" msens 1\nmember a\n", MS_EFORMAT},
		{"msens 1\n", MS_EFORMAT},
		{"msens 1\n# only a comment\n", MS_EFORMAT},
		{"msens 1\nmember\n", MS_EFORMAT},
		{"msens 1\nmember a 1 2\n", MS_EFORMAT},
		{"msens 1\nmember a 0\n", MS_EFORMAT},
		{"msens 1\nmember a -1\n", MS_EFORMAT},
		{"msens 1\nmember a nan\n", MS_EFORMAT},
		{"msens 1\nmember a inf\n", MS_EFORMAT},
		{"msens 1\nmember a 1001\n", MS_EFORMAT},
		{"msens 1\nmember a 1x\n", MS_EFORMAT},
		{"msens 1\nmembers a\n", MS_EFORMAT},
		{"msens 1\nmember a\nweight 2\n", MS_EFORMAT},
		{"msens 1\nmember \x80\x81\n", MS_EFORMAT},
		{"msens 1\nmember a\x7f\n", MS_EFORMAT},
	};
	struct nn_manifest mf;
	char *big;
	size_t n;

	(void)state;
	for (size_t i = 0; i < MS_ARRAY_LEN(bad); i++) {
		mf.n = -1;
		assert_int_equal(parse(bad[i].text, strlen(bad[i].text), &mf),
				 bad[i].rc);
		assert_int_equal(mf.n, -1); /* untouched on failure */
	}
	assert_int_equal(parse("msens 1\nmember a\0b\n", 18, &mf), MS_EFORMAT);
	big = malloc(20000);
	assert_non_null(big);
	/* nine members, a 512-byte name, a long line, a big file */
	n = (size_t)snprintf(big, 20000, "msens 1\n");
	for (int i = 0; i < 9; i++)
		n += (size_t)snprintf(big + n, 20000 - n, "member m%d\n", i);
	assert_int_equal(parse(big, n, &mf), MS_ELIMIT);
	n = (size_t)snprintf(big, 20000, "msens 1\nmember ");
	memset(big + n, 'x', 512);
	assert_int_equal(parse(big, n + 512, &mf), MS_ELIMIT);
	assert_int_equal(parse(big, n + 511, &mf), MS_OK);
	assert_int_equal(strlen(mf.path[0]), 511);
	n = (size_t)snprintf(big, 20000, "msens 1\nmember a\n#");
	memset(big + n, ' ', 1100);
	assert_int_equal(parse(big, n + 1100, &mf), MS_ELIMIT);
	memset(big + n, '\n', 20000 - n);
	assert_int_equal(parse(big, 20000, &mf), MS_ELIMIT);
	assert_int_equal(parse(big, 16384, &mf), MS_OK);
	free(big);
	/* what the spec allows: CRLF, comments, blanks, tabs, no final
	 * newline, weights normalised */
	{
		static const char ok[] = "msens 1\r\n  # c\r\n\t\nmember "
					 "x.msnn 1.5\r\nmember\t../y.msnn\t0.5";

		assert_int_equal(parse(ok, sizeof(ok) - 1, &mf), MS_OK);
	}
	assert_int_equal(mf.n, 2);
	assert_string_equal(mf.path[0], "x.msnn");
	assert_string_equal(mf.path[1], "../y.msnn");
	assert_float_equal(mf.weight[0], 0.75f, 1e-6);
	assert_float_equal(mf.weight[1], 0.25f, 1e-6);
}

/* nn_classify of the face `face` seen through window (x0, y0), mirrored
 * when `flip`: a face whose centre window holds those pixels. */
static void classify_window(const struct nn_model *m, const uint8_t *face,
			    int x0, int y0, int flip, float p[NN_CLASSES])
{
	uint8_t moved[SIDE * SIDE];
	int off = (SIDE - CROP) / 2;

	memset(moved, 0, sizeof(moved));
	for (int y = 0; y < CROP; y++)
		for (int x = 0; x < CROP; x++)
			moved[(y + off) * SIDE + x + off] =
				face[(y + y0) * SIDE + x0 +
				     (flip ? CROP - 1 - x : x)];
	classify(m, moved, NN_TTA_NONE, p);
}

static void test_crops_tta(void **state)
{
	static const int org[5][2] = {{2, 2}, {0, 0}, {4, 0}, {0, 4}, {4, 4}};
	struct nn_model *m;
	struct nn_ctx *ctx;
	uint8_t face[SIDE * SIDE];
	float p[NN_CLASSES], mean[NN_CLASSES] = {0}, got[NN_CLASSES], flip;

	(void)state;
	assert_int_equal(load("a.msnn", &m), MS_OK);
	for (int i = 0; i < SIDE * SIDE; i++)
		face[i] = (uint8_t)((i * 71 + (i / SIDE) * 13) % 256);
	for (int v = 0; v < 5; v++)
		for (int f = 0; f < 2; f++) {
			classify_window(m, face, org[v][0], org[v][1], f, p);
			for (int c = 0; c < NN_CLASSES; c++)
				mean[c] += p[c] / 10;
		}
	classify(m, face, NN_TTA_CROPS, got);
	for (int c = 0; c < NN_CLASSES; c++)
		assert_float_equal(got[c], mean[c], 1e-5);
	/* flip is the centre window and its mirror */
	classify(m, face, NN_TTA_FLIP, got);
	for (int c = 0; c < NN_CLASSES; c++) {
		classify_window(m, face, 2, 2, 0, p);
		flip = p[c];
		classify_window(m, face, 2, 2, 1, p);
		assert_float_equal(got[c], 0.5f * (flip + p[c]), 1e-5);
	}
	ctx = nn_ctx_new(m);
	assert_int_equal(nn_classify(ctx, face, NN_TTA_MODES, p), MS_EINVAL);
	assert_int_equal(nn_classify(ctx, face, -1, p), MS_EINVAL);
	nn_ctx_free(ctx);
	assert_string_equal(nn_tta_names[NN_TTA_CROPS], "crops");
	assert_null(nn_tta_names[NN_TTA_MODES]);
	nn_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ensemble_mean),
		cmocka_unit_test(test_ensemble_load_errors),
		cmocka_unit_test(test_manifest_parse),
		cmocka_unit_test(test_crops_tta),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
