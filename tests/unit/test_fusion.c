/* test_fusion.c - unit tests for src/music/fusion.c: weights and decay of
 * each source, the exclusive override, the source table's naming, skipped
 * bad readings, and the fused point and feeling coming from affect.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "moodsync/music.h"

static void one_hot(struct music_reading *r, int mood, double age_s)
{
	memset(r, 0, sizeof(*r));
	r->present = 1;
	r->probs[mood] = 1.0f;
	r->age_s = age_s;
}

static void test_nothing_is_neutral(void **state)
{
	struct music_fusion_params p;
	struct music_reading in[MUSIC_SOURCES] = {{0}};
	struct music_fused f;

	(void)state;
	music_fusion_params_default(&p);
	music_fusion_fuse(&p, in, &f);
	assert_int_equal(f.any, 0);
	assert_int_equal(f.mood, MUSIC_NEUTRAL);
	assert_int_equal(f.feeling, MUSIC_FEEL_NEUTRAL);
	assert_string_equal(music_fused_source_name(&f), "none");
}

static void test_single_source_names_itself(void **state)
{
	struct music_fusion_params p;
	struct music_reading in[MUSIC_SOURCES] = {{0}};
	struct music_fused f;

	(void)state;
	music_fusion_params_default(&p);
	one_hot(&in[MUSIC_SRC_FACE], MUSIC_SAD, 0);
	music_fusion_fuse(&p, in, &f);
	assert_int_equal(f.any, 1);
	assert_int_equal(f.source, MUSIC_SRC_FACE);
	assert_string_equal(music_fused_source_name(&f), "face");
	assert_int_equal(f.mood, MUSIC_SAD);
	assert_float_equal(f.share[MUSIC_SRC_FACE], 1.0, 1e-9);
}

/* Fresh face and text: shares follow the weights; the mean is weighted. */
static void test_weights(void **state)
{
	struct music_fusion_params p;
	struct music_reading in[MUSIC_SOURCES] = {{0}};
	struct music_fused f;
	double wf, wt;

	(void)state;
	music_fusion_params_default(&p);
	wf = p.src[MUSIC_SRC_FACE].weight;
	wt = p.src[MUSIC_SRC_TEXT].weight;
	one_hot(&in[MUSIC_SRC_FACE], MUSIC_HAPPY, 0);
	one_hot(&in[MUSIC_SRC_TEXT], MUSIC_SAD, 0);
	music_fusion_fuse(&p, in, &f);
	assert_float_equal(f.share[MUSIC_SRC_TEXT], wt / (wf + wt), 1e-6);
	assert_float_equal(f.probs[MUSIC_SAD], wt / (wf + wt), 1e-6);
	assert_float_equal(f.probs[MUSIC_HAPPY], wf / (wf + wt), 1e-6);
	assert_int_equal(f.source, -1);
	assert_string_equal(music_fused_source_name(&f), "fused");
	/* text weighs more than a face: the sad words lead */
	assert_int_equal(f.mood, MUSIC_SAD);
}

/* The text fades with exp(-age/tau) and is gone after max_age. */
static void test_decay(void **state)
{
	struct music_fusion_params p;
	struct music_reading in[MUSIC_SOURCES] = {{0}};
	struct music_fused f;
	double tau, wt, wf, expect;

	(void)state;
	music_fusion_params_default(&p);
	tau = p.src[MUSIC_SRC_TEXT].tau_s;
	wt = p.src[MUSIC_SRC_TEXT].weight;
	wf = p.src[MUSIC_SRC_FACE].weight;
	one_hot(&in[MUSIC_SRC_FACE], MUSIC_HAPPY, 0);
	one_hot(&in[MUSIC_SRC_TEXT], MUSIC_SAD, 2 * tau);
	music_fusion_fuse(&p, in, &f);
	expect = wt * exp(-2.0) / (wt * exp(-2.0) + wf);
	assert_float_equal(f.share[MUSIC_SRC_TEXT], expect, 1e-6);
	assert_int_equal(f.mood, MUSIC_HAPPY); /* the old words faded */

	in[MUSIC_SRC_TEXT].age_s = p.src[MUSIC_SRC_TEXT].max_age_s + 1;
	music_fusion_fuse(&p, in, &f);
	assert_float_equal(f.share[MUSIC_SRC_TEXT], 0.0, 1e-12);
	assert_int_equal(f.source, MUSIC_SRC_FACE);

	/* shares are monotone in age */
	{
		double prev = 1.0;

		for (double age = 0; age < 600; age += 30) {
			in[MUSIC_SRC_TEXT].age_s = age;
			music_fusion_fuse(&p, in, &f);
			assert_true(f.share[MUSIC_SRC_TEXT] <= prev + 1e-12);
			prev = f.share[MUSIC_SRC_TEXT];
		}
	}
}

static void test_override_is_exclusive(void **state)
{
	struct music_fusion_params p;
	struct music_reading in[MUSIC_SOURCES] = {{0}};
	struct music_fused f;

	(void)state;
	music_fusion_params_default(&p);
	one_hot(&in[MUSIC_SRC_FACE], MUSIC_HAPPY, 0);
	one_hot(&in[MUSIC_SRC_TEXT], MUSIC_HAPPY, 0);
	one_hot(&in[MUSIC_SRC_OVERRIDE], MUSIC_FEAR, 3600);
	music_fusion_fuse(&p, in, &f);
	assert_int_equal(f.source, MUSIC_SRC_OVERRIDE);
	assert_int_equal(f.mood, MUSIC_FEAR);
	assert_float_equal(f.probs[MUSIC_FEAR], 1.0, 1e-6);
	assert_int_equal(f.feeling, MUSIC_FEEL_ANXIOUS);
}

/* A bad reading is skipped, not propagated. */
static void test_bad_readings_skipped(void **state)
{
	struct music_fusion_params p;
	struct music_reading in[MUSIC_SOURCES] = {{0}};
	struct music_fused f;

	(void)state;
	music_fusion_params_default(&p);
	one_hot(&in[MUSIC_SRC_FACE], MUSIC_ANGRY, 0);
	one_hot(&in[MUSIC_SRC_TEXT], MUSIC_SAD, 0);
	in[MUSIC_SRC_TEXT].probs[MUSIC_HAPPY] = NAN;
	music_fusion_fuse(&p, in, &f);
	assert_int_equal(f.source, MUSIC_SRC_FACE);
	memset(in[MUSIC_SRC_TEXT].probs, 0, sizeof(in[0].probs));
	music_fusion_fuse(&p, in, &f);
	assert_int_equal(f.source, MUSIC_SRC_FACE);
	one_hot(&in[MUSIC_SRC_TEXT], MUSIC_SAD, -5);
	music_fusion_fuse(&p, in, &f);
	assert_int_equal(f.source, MUSIC_SRC_FACE);
	for (int i = 0; i < MUSIC_MOODS; i++)
		assert_true(isfinite(f.probs[i]));
}

/* The point and the feeling are affect.c's, of the fused vector. */
static void test_naming_via_affect(void **state)
{
	struct music_fusion_params p;
	struct music_reading in[MUSIC_SOURCES] = {{0}};
	struct music_fused f;
	struct music_va va;

	(void)state;
	music_fusion_params_default(&p);
	one_hot(&in[MUSIC_SRC_FACE], MUSIC_NEUTRAL, 0);
	one_hot(&in[MUSIC_SRC_TEXT], MUSIC_SAD, 0);
	music_fusion_fuse(&p, in, &f);
	va = music_affect_point(f.probs);
	assert_float_equal(f.va.valence, va.valence, 1e-9);
	assert_float_equal(f.va.arousal, va.arousal, 1e-9);
	assert_int_equal(f.feeling, music_feeling_of(f.probs, va));
	assert_true(f.va.valence < 0 && f.va.arousal < 0);
	assert_int_equal(f.feeling, MUSIC_FEEL_SAD);
	/* calm face + happy text: positive valence */
	one_hot(&in[MUSIC_SRC_TEXT], MUSIC_HAPPY, 0);
	music_fusion_fuse(&p, in, &f);
	assert_true(f.va.valence > 0);
}

/* Each feeling's mix is named that feeling, and fused alone as an
 * override it stays so. */
static void test_feeling_probs(void **state)
{
	struct music_fusion_params p;
	struct music_reading in[MUSIC_SOURCES] = {{0}};
	struct music_fused f;

	(void)state;
	music_fusion_params_default(&p);
	one_hot(&in[MUSIC_SRC_FACE], MUSIC_HAPPY, 0);
	for (int k = 0; k < MUSIC_FEELINGS; k++) {
		float probs[MUSIC_MOODS], sum = 0;

		music_feeling_probs((enum music_feeling)k, probs);
		for (int i = 0; i < MUSIC_MOODS; i++)
			sum += probs[i];
		assert_float_equal(sum, 1.0, 1e-6);
		assert_int_equal(
			music_feeling_of(probs, music_affect_point(probs)), k);
		in[MUSIC_SRC_OVERRIDE].present = 1;
		memcpy(in[MUSIC_SRC_OVERRIDE].probs, probs, sizeof(probs));
		music_fusion_fuse(&p, in, &f);
		assert_int_equal(f.feeling, k);
	}
	music_feeling_probs((enum music_feeling)99, in[0].probs);
	assert_float_equal(in[0].probs[MUSIC_NEUTRAL], 0.8, 1e-6);
}

static void test_source_table(void **state)
{
	struct music_fusion_params p;

	(void)state;
	music_fusion_params_default(&p);
	for (int s = 0; s < MUSIC_SOURCES; s++) {
		assert_non_null(music_source_names[s]);
		assert_true(p.src[s].weight > 0);
		assert_true(p.src[s].tau_s >= 0);
	}
	assert_true(p.src[MUSIC_SRC_TEXT].weight >
		    p.src[MUSIC_SRC_FACE].weight);
	assert_true(p.src[MUSIC_SRC_OVERRIDE].exclusive);
	/* a source added with a custom row joins the fusion */
	p.src[MUSIC_SRC_TEXT].weight = 0.5;
	{
		struct music_reading in[MUSIC_SOURCES] = {{0}};
		struct music_fused f;

		one_hot(&in[MUSIC_SRC_FACE], MUSIC_HAPPY, 0);
		one_hot(&in[MUSIC_SRC_TEXT], MUSIC_SAD, 0);
		music_fusion_fuse(&p, in, &f);
		assert_int_equal(f.mood, MUSIC_HAPPY);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_is_neutral),
		cmocka_unit_test(test_single_source_names_itself),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_decay),
		cmocka_unit_test(test_override_is_exclusive),
		cmocka_unit_test(test_bad_readings_skipped),
		cmocka_unit_test(test_naming_via_affect),
		cmocka_unit_test(test_feeling_probs),
		cmocka_unit_test(test_source_table),
	};
	return cmocka_run_group_tests_name("fusion", tests, NULL, NULL);
}
