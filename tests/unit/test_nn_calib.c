/* test_nn_calib.c - unit tests of per-person calibration (src/nn/calib.c):
 * the identity cases, a resting face read as the target, the running mean
 * and the moving average, the floor on tiny baselines, bad samples. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "moodsync/nn.h"

static float sum7(const float *p)
{
	float s = 0;

	for (int k = 0; k < NN_CLASSES; k++)
		s += p[k];
	return s;
}

static void test_identity(void **state)
{
	struct nn_calib c;
	float p[NN_CLASSES] = {0.1f, 0.05f, 0.05f, 0.4f, 0.2f, 0.1f, 0.1f};
	float out[NN_CLASSES];

	(void)state;
	nn_calib_init(&c);
	nn_calib_apply(&c, NULL, 1.0f, p, out); /* no baseline yet */
	for (int k = 0; k < NN_CLASSES; k++)
		assert_float_equal(out[k], p[k], 0);
	nn_calib_add(&c, p);
	nn_calib_apply(&c, NULL, 0.0f, p, out); /* strength 0 */
	for (int k = 0; k < NN_CLASSES; k++)
		assert_float_equal(out[k], p[k], 0);
}

/* The resting face itself reads as the target; a face that departs from
 * it towards a class gains that class. */
static void test_resting_face(void **state)
{
	struct nn_calib c;
	float rest[NN_CLASSES] = {0.05f, 0.01f, 0.1f, 0.04f,
				  0.5f,	 0.05f, 0.25f};
	float happy[NN_CLASSES] = {0.05f, 0.01f, 0.09f, 0.28f,
				   0.32f, 0.05f, 0.2f};
	float prior[NN_CLASSES] = {0.1f, 0.02f, 0.1f, 0.3f, 0.15f, 0.1f, 0.23f};
	float out[NN_CLASSES], raw_arg, cal_arg;

	(void)state;
	nn_calib_init(&c);
	for (int i = 0; i < 30; i++)
		nn_calib_add(&c, rest);
	for (int k = 0; k < NN_CLASSES; k++)
		assert_float_equal(c.base[k], rest[k], 1e-6);
	nn_calib_apply(&c, NULL, 1.0f, rest, out);
	for (int k = 0; k < NN_CLASSES; k++)
		assert_float_equal(out[k], 1.0f / NN_CLASSES, 1e-5);
	nn_calib_apply(&c, prior, 1.0f, rest, out);
	for (int k = 0; k < NN_CLASSES; k++)
		assert_float_equal(out[k], prior[k], 1e-5);
	/* raw: "sad" wins; relative to a sad-looking rest: "happy" */
	raw_arg = (float)nn_argmax(happy);
	nn_calib_apply(&c, NULL, 1.0f, happy, out);
	cal_arg = (float)nn_argmax(out);
	assert_int_equal((int)raw_arg, NN_SAD);
	assert_int_equal((int)cal_arg, NN_HAPPY);
	assert_float_equal(sum7(out), 1.0f, 1e-5);
	/* half strength lies between */
	nn_calib_apply(&c, NULL, 0.5f, happy, out);
	assert_true(out[NN_SAD] < happy[NN_SAD]);
	assert_true(out[NN_SAD] > 0.0f);
}

static void test_running_mean_and_track(void **state)
{
	struct nn_calib c;
	float a[NN_CLASSES] = {1, 0, 0, 0, 0, 0, 0};
	float b[NN_CLASSES] = {0, 0, 0, 0, 0, 0, 1};
	float bad[NN_CLASSES] = {NAN, 0, 0, 0, 0, 0, 1};

	(void)state;
	nn_calib_init(&c);
	nn_calib_add(&c, a);
	nn_calib_add(&c, b);
	nn_calib_add(&c, bad); /* ignored */
	assert_float_equal(c.weight, 2, 0);
	assert_float_equal(c.base[0], 0.5f, 1e-6);
	assert_float_equal(c.base[6], 0.5f, 1e-6);
	nn_calib_init(&c);
	nn_calib_track(&c, a, 10);
	assert_float_equal(c.base[0], 1.0f, 0);
	for (int i = 0; i < 9; i++)
		nn_calib_track(&c, b, 10);
	/* the first tau samples are a plain mean: a is 1 of 10 */
	assert_float_equal(c.base[0], 0.1f, 1e-6);
	for (int i = 0; i < 10; i++)
		nn_calib_track(&c, b, 10);
	/* then each sample weighs 1/tau: (1 - 1/10)^10 of that is left */
	assert_float_equal(c.base[0], 0.1f * powf(0.9f, 10), 1e-6);
	assert_float_equal(sum7(c.base), 1.0f, 1e-5);
}

/* A baseline with a near-zero class cannot blow that class up. */
static void test_floor(void **state)
{
	struct nn_calib c;
	float rest[NN_CLASSES] = {0, 0, 0, 0, 0, 0, 1};
	float p[NN_CLASSES] = {0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.94f};
	float out[NN_CLASSES];

	(void)state;
	nn_calib_init(&c);
	nn_calib_add(&c, rest);
	nn_calib_apply(&c, NULL, 1.0f, p, out);
	for (int k = 0; k < NN_CLASSES; k++)
		assert_true(isfinite(out[k]) && out[k] >= 0 && out[k] <= 1);
	assert_float_equal(sum7(out), 1.0f, 1e-5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_resting_face),
		cmocka_unit_test(test_running_mean_and_track),
		cmocka_unit_test(test_floor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
