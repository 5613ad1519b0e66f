/* test_nn_train.c - unit tests of the trainer's inputs and guarantees:
 * the soft-target cross-entropy (reference value and finite differences),
 * the FER+/FER target mix, the FER+ vote parser on good and hostile
 * files, the class-weight parser, and a resumed run that ends
 * bit-identical to an uninterrupted one (with FER+ targets, random
 * erasing, mixup and a class weight on); on a CPU with AMX the
 * same for a net whose convolutions run on the bf16 tiles, plus two
 * identical runs that must end bit-identical. */
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
#include "nn/kernels.h"
#include "nn/nn_internal.h"
#include "nn/train_internal.h"
#include "grad_check.h"

/* ---- soft-target cross-entropy ---- */

struct soft_case {
	float z[NN_CLASSES * 4], dz[NN_CLASSES * 4];
	float t[4 * NN_CLASSES];
	const float *cw; /* class weights, or NULL */
};

static double soft_loss(void *ctx)
{
	struct soft_case *c = ctx;

	return nn_softmax_ce_soft(c->z, c->t, 4, c->cw, NULL, NULL, NULL);
}

/* The loss against -sum_c w_c t_c log p_c computed in double, and its
 * gradient against finite differences (cw NULL: every w_c = 1). */
static void check_soft_ce(const float *cw)
{
	struct soft_case c = {.cw = cw};
	struct nn_rng r;
	uint8_t labels[4] = {1, 2, 3, 4};
	double ref = 0;
	int hits;

	nn_rng_seed(&r, 21);
	for (int i = 0; i < NN_CLASSES * 4; i++)
		c.z[i] = 6 * nn_rng_uniform(&r) - 3;
	for (int n = 0; n < 4; n++) {
		float sum = 0;

		for (int k = 0; k < NN_CLASSES; k++) {
			c.t[n * NN_CLASSES + k] = nn_rng_uniform(&r);
			sum += c.t[n * NN_CLASSES + k];
		}
		for (int k = 0; k < NN_CLASSES; k++)
			c.t[n * NN_CLASSES + k] /= sum;
	}
	for (int n = 0; n < 4; n++) {
		double s = 0;

		for (int k = 0; k < NN_CLASSES; k++)
			s += exp(c.z[k * 4 + n]);
		for (int k = 0; k < NN_CLASSES; k++)
			ref -= (cw ? cw[k] : 1.0) * c.t[n * NN_CLASSES + k] *
			       (c.z[k * 4 + n] - log(s));
	}
	assert_float_equal(
		nn_softmax_ce_soft(c.z, c.t, 4, cw, labels, c.dz, &hits),
		ref / 4, 1e-5);
	assert_true(hits >= 0 && hits <= 4);
	check_grad("soft ce dlogits", soft_loss, &c, c.z, c.dz, NN_CLASSES * 4,
		   1e-2f);
}

static void test_soft_ce(void **state)
{
	const float ones[NN_CLASSES] = {1, 1, 1, 1, 1, 1, 1};
	const float cw[NN_CLASSES] = {1, 1.5f, 2.5f, 0.5f, 1, 1, 0.8f};
	struct soft_case a = {0}, b = {0};

	(void)state;
	check_soft_ce(NULL);
	check_soft_ce(cw);
	/* weights of 1 are the unweighted loss, to the bit */
	for (int i = 0; i < NN_CLASSES * 4; i++) {
		a.z[i] = b.z[i] = (float)(i % 9) - 4;
		a.t[i] = b.t[i] = (float)(i % NN_CLASSES == i / NN_CLASSES);
	}
	assert_true(nn_softmax_ce_soft(a.z, a.t, 4, NULL, NULL, a.dz, NULL) ==
		    nn_softmax_ce_soft(b.z, b.t, 4, ones, NULL, b.dz, NULL));
	assert_memory_equal(a.dz, b.dz, sizeof(a.dz));
}

/* A one-hot target must give the same loss and gradient as the hard-label
 * cross-entropy with the same smoothing. */
static void test_soft_matches_hard(void **state)
{
	float z[NN_CLASSES * 3], d1[NN_CLASSES * 3], d2[NN_CLASSES * 3];
	float t[3 * NN_CLASSES];
	uint8_t labels[3] = {0, 5, 6};
	struct nn_rng r;

	(void)state;
	nn_rng_seed(&r, 3);
	for (int i = 0; i < NN_CLASSES * 3; i++)
		z[i] = 4 * nn_rng_uniform(&r) - 2;
	for (int n = 0; n < 3; n++)
		nn_target_mix(labels[n], NULL, 0.1f, 0.5f, t + n * NN_CLASSES);
	assert_float_equal(nn_softmax_ce_soft(z, t, 3, NULL, labels, d1, NULL),
			   nn_softmax_ce(z, labels, 3, 0.1f, d2, NULL), 1e-6);
	for (int i = 0; i < NN_CLASSES * 3; i++)
		assert_float_equal(d1[i], d2[i], 1e-6);
}

static void test_target_mix(void **state)
{
	float v[NN_CLASSES] = {0, 0, 0, 0.7f, 0, 0, 0.3f}, t[NN_CLASSES];
	float zero[NN_CLASSES] = {0}, sum = 0;

	(void)state;
	nn_target_mix(NN_SAD, v, 0.1f, 0.5f, t);
	for (int c = 0; c < NN_CLASSES; c++)
		sum += t[c];
	assert_float_equal(sum, 1.0f, 1e-6);
	assert_float_equal(t[NN_SAD], 0.5f * (0.9f + 0.1f / 7), 1e-6);
	assert_float_equal(t[NN_HAPPY], 0.5f * (0.1f / 7) + 0.35f, 1e-6);
	assert_float_equal(t[NN_NEUTRAL], 0.5f * (0.1f / 7) + 0.15f, 1e-6);
	/* share 1: the votes alone; no votes: the smoothed label alone */
	nn_target_mix(NN_SAD, v, 0.1f, 1.0f, t);
	assert_float_equal(t[NN_HAPPY], 0.7f, 1e-6);
	assert_float_equal(t[NN_SAD], 0.0f, 1e-6);
	nn_target_mix(NN_FEAR, zero, 0.0f, 0.5f, t);
	assert_float_equal(t[NN_FEAR], 1.0f, 1e-6);
}

/* ---- FER+ parser ---- */

static const char *good_file =
	"# index fer_label ferplus_png v_neutral v_happiness v_surprise "
	"v_sadness v_anger v_disgust v_fear v_contempt v_unknown v_nf\n"
	"0 0 fer0000001.png 2 0 0 1 7 0 0 0 0 0\n"   /* anger 7 */
	"1 3 fer0000002.png 0 5 0 0 0 0 0 0 0 5\n"   /* tie with NF */
	"2 0 - 0 0 0 0 0 0 0 0 0 0\n"		     /* no votes */
	"3 4 fer0000004.png 4 0 0 4 0 0 0 0 2 0\r\n" /* tie, CRLF */
	"4 6 fer0000005.png 1 0 0 0 0 0 0 1 8 0"     /* unknown wins */
	;

static void fake_split(struct nn_fer *set, size_t n, const uint8_t *labels)
{
	memset(set, 0, sizeof(*set));
	set->n = n;
	set->labels = malloc(n);
	set->pixels = calloc(n, NN_FER_SIDE * NN_FER_SIDE);
	assert_non_null(set->labels);
	assert_non_null(set->pixels);
	memcpy(set->labels, labels, n);
}

static int parse_str(const char *s, struct nn_fer *set)
{
	char err[MS_ERRLEN];

	return nn_ferplus_parse((const uint8_t *)s, strlen(s), set, err,
				sizeof(err));
}

static void test_ferplus_parse(void **state)
{
	const uint8_t labels[5] = {0, 3, 0, 4, 6};
	struct nn_fer set;

	(void)state;
	fake_split(&set, 5, labels);
	assert_int_equal(parse_str(good_file, &set), MS_OK);
	assert_int_equal(set.major[0], NN_ANGRY);
	assert_float_equal(set.votes[0 * NN_CLASSES + NN_ANGRY], 0.7f, 1e-6);
	assert_float_equal(set.votes[0 * NN_CLASSES + NN_NEUTRAL], 0.2f, 1e-6);
	assert_float_equal(set.votes[0 * NN_CLASSES + NN_SAD], 0.1f, 1e-6);
	assert_true(nn_fer_has_target(&set, 0));
	assert_int_equal(set.major[1], NN_FERPLUS_NONE);
	assert_false(nn_fer_has_target(&set, 1)); /* "not a face" ties */
	assert_int_equal(set.major[2], NN_FERPLUS_NONE);
	assert_false(nn_fer_has_target(&set, 2));
	assert_int_equal(set.major[3], NN_FERPLUS_NONE);
	assert_true(nn_fer_has_target(&set, 3));
	assert_float_equal(set.votes[3 * NN_CLASSES + NN_SAD], 0.5f, 1e-6);
	assert_int_equal(set.major[4], NN_FERPLUS_NONE);
	assert_float_equal(set.votes[4 * NN_CLASSES + NN_NEUTRAL], 1.0f, 1e-6);
	nn_fer_release(&set);
}

/* Each hostile variant of a one-record file must be refused, leaving the
 * split without votes. */
static void test_ferplus_hostile(void **state)
{
	static const char *bad[] = {
		"",
		"0 0 x.png 1 0 0 0 0 0 0 0 0 0\n",	/* no header */
		"#\n",					/* no records */
		"#\n1 0 x.png 1 0 0 0 0 0 0 0 0 0\n",	/* wrong index */
		"#\n0 1 x.png 1 0 0 0 0 0 0 0 0 0\n",	/* wrong label */
		"#\n0 0 x.png 1 0 0 0 0 0 0 0 0\n",	/* 9 votes */
		"#\n0 0 x.png 1 0 0 0 0 0 0 0 0 0 0\n", /* 11 votes */
		"#\n0 0 x.png 6 6 0 0 0 0 0 0 0 0\n",	/* 12 voters */
		"#\n0 0 x.png 11 0 0 0 0 0 0 0 0 0\n",	/* count > 10 */
		"#\n0 0 x.png -1 0 0 0 0 0 0 0 0 0\n",	/* negative */
		"#\n0 0 x.png 1x 0 0 0 0 0 0 0 0 0\n",	/* not a number */
		"#\n0 0 x.png 99999999999999999999 0 0 0 0 0 0 0 0 0\n",
		"#\n0 0 x/../y 1 0 0 0 0 0 0 0 0 0\n",	/* odd name */
		"#\n0 0 x.png 1 0 0 0 0 0 0 0 0 0\n\n", /* extra line */
		"#\n0 0 x.png 1 0 0 0 0 0 0 0 0 0\n1 0 - 0 0 0 0 0 0 0 0 0 0\n",
		"#\n0 0 x.png 1 0 0\0 0 0 0 0 0 0\n", /* NUL (cut) */
		"#\n0 0\n",			      /* truncated */
	};
	const uint8_t label = 0;
	char longline[600];
	struct nn_fer set;

	(void)state;
	fake_split(&set, 1, &label);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(parse_str(bad[i], &set), MS_OK);
		assert_null(set.votes);
		assert_null(set.major);
	}
	/* a NUL inside the buffer, and an over-long line */
	{
		static const char nul[] =
			"#\n0 0 x.png 1 0 0 0 0 0 0 0\0 0 0\n";
		char err[MS_ERRLEN];

		assert_int_equal(nn_ferplus_parse((const uint8_t *)nul,
						  sizeof(nul) - 1, &set, err,
						  sizeof(err)),
				 MS_EFORMAT);
	}
	memset(longline, ' ', sizeof(longline));
	memcpy(longline, "#\n0 0 x.png 1 0 0 0 0 0 0 0 0 0", 31);
	longline[sizeof(longline) - 1] = 0;
	assert_int_not_equal(parse_str(longline, &set), MS_OK);
	assert_null(set.votes);
	/* the good one-record file is accepted */
	assert_int_equal(parse_str("#\n0 0 x.png 1 0 0 0 0 0 0 0 0 9\n", &set),
			 MS_OK);
	assert_false(nn_fer_has_target(&set, 0)); /* not a face */
	nn_fer_release(&set);
}

/* ---- resumability ---- */

static void synthetic_split(struct nn_fer *set, size_t n, uint64_t seed)
{
	struct nn_rng r;

	memset(set, 0, sizeof(*set));
	nn_rng_seed(&r, seed);
	set->n = n;
	set->labels = malloc(n);
	set->pixels = malloc(n * NN_FER_SIDE * NN_FER_SIDE);
	set->votes = calloc(n * NN_CLASSES, sizeof(float));
	set->major = malloc(n);
	assert_non_null(set->labels);
	assert_non_null(set->pixels);
	assert_non_null(set->votes);
	assert_non_null(set->major);
	for (size_t i = 0; i < n; i++) {
		int c = (int)(i % NN_CLASSES);

		set->labels[i] = (uint8_t)c;
		for (int p = 0; p < NN_FER_SIDE * NN_FER_SIDE; p++)
			set->pixels[i * NN_FER_SIDE * NN_FER_SIDE + p] =
				(uint8_t)(nn_rng_below(&r, 80) +
					  ((p / NN_FER_SIDE) % 7 == c ? 120
								      : 0));
		/* every 5th record has no target and must be skipped */
		if (i % 5 == 4) {
			set->major[i] = NN_FERPLUS_NONE;
			continue;
		}
		set->votes[i * NN_CLASSES + c] = 0.8f;
		set->votes[i * NN_CLASSES + NN_NEUTRAL] += 0.2f;
		set->major[i] = (uint8_t)c;
	}
}

static int files_equal(const char *a, const char *b)
{
	uint8_t *x, *y;
	size_t nx, ny;
	char err[MS_ERRLEN];
	int eq;

	assert_int_equal(ms_file_read(a, 64u << 20, &x, &nx, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(ms_file_read(b, 64u << 20, &y, &ny, err, sizeof(err)),
			 MS_OK);
	eq = nx == ny && memcmp(x, y, nx) == 0;
	free(x);
	free(y);
	return eq;
}

/* A checkpoint exported as a model holds the checkpoint's net exactly
 * (every parameter, BN statistics too) and loads for inference; a model
 * or a missing file is refused and leaves `out` unwritten. */
static void check_export(const char *ckpt, const char *model, const char *dir)
{
	struct nn_train_state s;
	struct nn_net *want, *got;
	struct nn_model *m;
	char out[128], err[MS_ERRLEN];

	snprintf(out, sizeof(out), "%s/e.msnn", dir);
	assert_int_equal(nn_train_ckpt_export(ckpt, out, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(nn_train_ckpt_load(ckpt, &want, &s, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(nn_net_load_weights(out, &got, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(want->n_params, got->n_params);
	for (int i = 0; i < want->n_params; i++) {
		assert_int_equal(want->params[i].n, got->params[i].n);
		assert_memory_equal(want->params[i].w, got->params[i].w,
				    want->params[i].n * sizeof(float));
	}
	nn_net_free(want);
	nn_net_free(got);
	assert_int_equal(nn_model_load(out, &m, err, sizeof(err)), MS_OK);
	nn_model_free(m);
	unlink(out);
	assert_int_equal(nn_train_ckpt_export(model, out, err, sizeof(err)),
			 MS_EFORMAT);
	assert_int_equal(access(out, F_OK), -1);
	assert_int_not_equal(nn_train_ckpt_export("/nonexistent/ckpt", out, err,
						  sizeof(err)),
			     MS_OK);
	assert_int_equal(access(out, F_OK), -1);
}

/* Options of a short run of `arch` at two threads, batch 16. */
static void run_opts(struct nn_train_opts *o, const char *arch, int epochs)
{
	nn_train_opts_init(o);
	o->arch = arch;
	o->epochs = epochs;
	o->batch = 16;
	o->threads = 2;
}

static void test_resume_identical(void **state)
{
	struct nn_fer train, val;
	struct nn_train_opts o;
	char dir[] = "/tmp/test_nn_train_XXXXXX", a[128], ca[128], b[128],
	     cb[128], err[MS_ERRLEN];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a.msnn", dir);
	snprintf(ca, sizeof(ca), "%s/a.ckpt", dir);
	snprintf(b, sizeof(b), "%s/b.msnn", dir);
	snprintf(cb, sizeof(cb), "%s/b.ckpt", dir);
	synthetic_split(&train, 160, 1);
	synthetic_split(&val, 40, 2);
	run_opts(&o, "tiny", 3);
	o.ferplus_share = 0.5f;
	o.erase = 0.5f;
	o.mixup = 0.2f;
	o.class_weight[NN_FEAR] = 2.0f; /* kept by the checkpoint */
	o.out_path = a;
	o.ckpt_path = ca;
	assert_int_equal(nn_train_run(&o, &train, &val, err, sizeof(err)),
			 MS_OK);
	o.out_path = b;
	o.ckpt_path = cb;
	o.stop_after = 1;
	assert_int_equal(nn_train_run(&o, &train, &val, err, sizeof(err)),
			 MS_OK);
	assert_false(files_equal(ca, cb)); /* one epoch is not three */
	o.stop_after = 0;
	o.resume = cb;
	assert_int_equal(nn_train_run(&o, &train, &val, err, sizeof(err)),
			 MS_OK);
	assert_true(files_equal(ca, cb));
	assert_true(files_equal(a, b));
	check_export(ca, b, dir);
	/* FER+ targets without votes are refused */
	free(train.votes);
	train.votes = NULL;
	o.resume = NULL;
	assert_int_equal(nn_train_run(&o, &train, &val, err, sizeof(err)),
			 MS_EINVAL);
	unlink(a);
	unlink(ca);
	unlink(b);
	unlink(cb);
	rmdir(dir);
	nn_fer_release(&train);
	nn_fer_release(&val);
}

static void test_class_weights(void **state)
{
	static const char *const bad[] = {
		"fear",	    "fear=",	"fear=x",    "fear=0",
		"fear=101", "feat=2",	"fear=2,",   "fear=2x",
		"fear=nan", "fear=inf", "=2",	     "fear=2,,",
		",fear=2",  "fear=-1",	"fearful=2", "fear=2;sad=1",
	};
	struct nn_fer train, val;
	struct nn_train_opts o;
	float w[NN_CLASSES];
	char dir[] = "/tmp/test_nn_train_XXXXXX", a[128], b[128],
	     err[MS_ERRLEN];

	(void)state;
	assert_int_equal(nn_class_weights_parse("fear=2,disgust=1.5", w, err,
						sizeof(err)),
			 MS_OK);
	for (int c = 0; c < NN_CLASSES; c++)
		assert_true(w[c] == (c == NN_FEAR      ? 2.0f
				     : c == NN_DISGUST ? 1.5f
						       : 1.0f));
	assert_int_equal(nn_class_weights_parse("", w, err, sizeof(err)),
			 MS_OK);
	assert_true(w[NN_FEAR] == 1.0f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(
			nn_class_weights_parse(bad[i], w, err, sizeof(err)),
			MS_EINVAL);
		assert_non_null(strstr(err, "class weights"));
	}
	/* a weighted run learns something else than an unweighted one, and
	 * a weight out of range is refused */
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a.msnn", dir);
	snprintf(b, sizeof(b), "%s/b.msnn", dir);
	synthetic_split(&train, 64, 5);
	synthetic_split(&val, 16, 6);
	run_opts(&o, "tiny", 1);
	o.out_path = a;
	o.ckpt_path = NULL;
	assert_int_equal(nn_train_run(&o, &train, &val, err, sizeof(err)),
			 MS_OK);
	o.out_path = b;
	o.class_weight[NN_SAD] = 3.0f;
	assert_int_equal(nn_train_run(&o, &train, &val, err, sizeof(err)),
			 MS_OK);
	assert_false(files_equal(a, b));
	o.class_weight[NN_SAD] = 0.0f;
	assert_int_equal(nn_train_run(&o, &train, &val, err, sizeof(err)),
			 MS_EINVAL);
	assert_non_null(strstr(err, "sad"));
	unlink(a);
	unlink(b);
	rmdir(dir);
	nn_fer_release(&train);
	nn_fer_release(&val);
}

/* The "small" preset's convolutions of 16+ input channels take the AMX
 * bf16 kernels: its weights after two epochs must not depend on the run
 * (two runs), nor on a stop after the first epoch (resume). */
static void test_amx_identical(void **state)
{
	struct nn_fer train, val;
	struct nn_train_opts o;
	char dir[] = "/tmp/test_nn_train_XXXXXX", p[4][128], err[MS_ERRLEN];

	(void)state;
	if (nn_kern_level() < NN_KERN_AMX)
		skip();
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < 4; i++)
		snprintf(p[i], sizeof(p[i]), "%s/%d", dir, i);
	synthetic_split(&train, 48, 3);
	synthetic_split(&val, 16, 4);
	run_opts(&o, "small", 2);
	o.out_path = p[0];
	o.ckpt_path = p[3];
	assert_int_equal(nn_train_run(&o, &train, &val, err, sizeof(err)),
			 MS_OK);
	o.out_path = p[1];
	assert_int_equal(nn_train_run(&o, &train, &val, err, sizeof(err)),
			 MS_OK);
	assert_true(files_equal(p[0], p[1]));
	o.out_path = p[2];
	o.stop_after = 1;
	assert_int_equal(nn_train_run(&o, &train, &val, err, sizeof(err)),
			 MS_OK);
	o.stop_after = 0;
	o.resume = p[3];
	assert_int_equal(nn_train_run(&o, &train, &val, err, sizeof(err)),
			 MS_OK);
	assert_true(files_equal(p[0], p[2]));
	for (int i = 0; i < 4; i++)
		unlink(p[i]);
	rmdir(dir);
	nn_fer_release(&train);
	nn_fer_release(&val);
}

/* ---- presets: the nets the model card describes ---- */

static size_t trainable_params(const char *preset)
{
	struct nn_arch a;
	struct nn_net *net;
	char err[MS_ERRLEN];
	size_t n = 0;

	assert_int_equal(nn_arch_preset(preset, &a), MS_OK);
	assert_int_equal(nn_net_new(&a, 1, &net, err, sizeof(err)), MS_OK);
	for (int i = 0; i < net->n_params; i++)
		if (net->params[i].trainable)
			n += net->params[i].n;
	nn_net_free(net);
	return n;
}

static void test_presets(void **state)
{
	struct nn_arch a;

	(void)state;
	/* large: models/HISTORY.md's count; xl: 2x(64,128,256,512) 3x3 convs
	 * (4,682,304 weights), their BN scales and shifts, a 512x7 dense */
	assert_int_equal(trainable_params("large"), 1165159);
	assert_int_equal(trainable_params("xl"), 4682304 + 3840 + 3584 + 7);
	assert_int_not_equal(nn_arch_preset("xxl", &a), MS_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soft_ce),
		cmocka_unit_test(test_soft_matches_hard),
		cmocka_unit_test(test_target_mix),
		cmocka_unit_test(test_ferplus_parse),
		cmocka_unit_test(test_ferplus_hostile),
		cmocka_unit_test(test_resume_identical),
		cmocka_unit_test(test_class_weights),
		cmocka_unit_test(test_amx_identical),
		cmocka_unit_test(test_presets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
