/* test_affect.c - unit tests for src/music/affect.c: the anchors sit in
 * the quadrants the circumplex model gives them, a probability vector maps
 * to the weighted mean of the anchors, and each named feeling is reached
 * by the vectors that should reach it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "moodsync/music.h"

/* Probabilities with `p` on mood `m` and the rest spread evenly. */
static void peaked(float *out, int m, float p)
{
	for (int i = 0; i < MUSIC_MOODS; i++)
		out[i] = (1.0f - p) / (MUSIC_MOODS - 1);
	out[m] = p;
}

static enum music_feeling feeling(const float *probs)
{
	return music_feeling_of(probs, music_affect_point(probs));
}

static void test_anchor_quadrants(void **state)
{
	(void)state;
	assert_true(music_mood_anchor[MUSIC_HAPPY].valence > 0.5);
	assert_true(music_mood_anchor[MUSIC_HAPPY].arousal > 0);
	assert_true(music_mood_anchor[MUSIC_SAD].valence < -0.5);
	assert_true(music_mood_anchor[MUSIC_SAD].arousal < 0);
	assert_true(music_mood_anchor[MUSIC_ANGRY].valence < 0);
	assert_true(music_mood_anchor[MUSIC_ANGRY].arousal > 0.5);
	assert_true(music_mood_anchor[MUSIC_FEAR].arousal > 0.5);
	assert_true(music_mood_anchor[MUSIC_SURPRISE].arousal >
		    music_mood_anchor[MUSIC_HAPPY].arousal);
	for (int i = 0; i < MUSIC_MOODS; i++) {
		assert_true(fabs(music_mood_anchor[i].valence) <= 1);
		assert_true(fabs(music_mood_anchor[i].arousal) <= 1);
	}
}

static void test_point_is_weighted_mean(void **state)
{
	float probs[MUSIC_MOODS] = {0};
	struct music_va p;

	(void)state;
	probs[MUSIC_HAPPY] = 3; /* not normalised on purpose */
	probs[MUSIC_SAD] = 1;
	p = music_affect_point(probs);
	assert_float_equal(p.valence,
			   0.75 * music_mood_anchor[MUSIC_HAPPY].valence +
				   0.25 * music_mood_anchor[MUSIC_SAD].valence,
			   1e-9);
	assert_float_equal(p.arousal,
			   0.75 * music_mood_anchor[MUSIC_HAPPY].arousal +
				   0.25 * music_mood_anchor[MUSIC_SAD].arousal,
			   1e-9);
}

static void test_bad_input_is_neutral(void **state)
{
	float zero[MUSIC_MOODS] = {0}, nan_in[MUSIC_MOODS] = {0};
	struct music_va p;

	(void)state;
	p = music_affect_point(zero);
	assert_float_equal(p.valence, music_mood_anchor[MUSIC_NEUTRAL].valence,
			   1e-12);
	assert_int_equal(music_feeling_of(zero, p), MUSIC_FEEL_NEUTRAL);
	nan_in[MUSIC_HAPPY] = NAN;
	p = music_affect_point(nan_in);
	assert_true(isfinite(p.valence) && isfinite(p.arousal));
	nan_in[MUSIC_HAPPY] = -1;
	assert_int_equal(music_feeling_of(nan_in, p), MUSIC_FEEL_NEUTRAL);
}

static void test_named_feelings(void **state)
{
	float probs[MUSIC_MOODS];

	(void)state;
	peaked(probs, MUSIC_HAPPY, 0.9f);
	assert_int_equal(feeling(probs), MUSIC_FEEL_EXCITED);
	memset(probs, 0, sizeof probs); /* a smile on a resting face */
	probs[MUSIC_HAPPY] = 0.5f;
	probs[MUSIC_NEUTRAL] = 0.5f;
	assert_int_equal(feeling(probs), MUSIC_FEEL_HAPPY);
	peaked(probs, MUSIC_SAD, 0.9f);
	assert_int_equal(feeling(probs), MUSIC_FEEL_SAD);
	peaked(probs, MUSIC_FEAR, 0.9f);
	assert_int_equal(feeling(probs), MUSIC_FEEL_ANXIOUS);
	peaked(probs, MUSIC_ANGRY, 0.9f);
	assert_int_equal(feeling(probs), MUSIC_FEEL_TENSE);
	peaked(probs, MUSIC_SURPRISE, 0.8f);
	assert_int_equal(feeling(probs), MUSIC_FEEL_SURPRISED);
	peaked(probs, MUSIC_NEUTRAL, 0.95f);
	assert_int_equal(feeling(probs), MUSIC_FEEL_NEUTRAL);

	/* A resting face with a little happiness reads as calm; with a
	 * little sadness, as tired: the finer moods the face classes lack. */
	memset(probs, 0, sizeof probs);
	probs[MUSIC_NEUTRAL] = 0.55f;
	probs[MUSIC_HAPPY] = 0.45f;
	assert_int_equal(music_feeling_of(probs, (struct music_va){0.3, -0.3}),
			 MUSIC_FEEL_CALM);
	probs[MUSIC_HAPPY] = 0;
	probs[MUSIC_SAD] = 0.45f;
	assert_int_equal(feeling(probs), MUSIC_FEEL_TIRED);
}

static void test_names_cover_enum(void **state)
{
	(void)state;
	for (int i = 0; i < MUSIC_FEELINGS; i++) {
		assert_non_null(music_feeling_names[i]);
		assert_true(strlen(music_feeling_names[i]) > 0);
	}
}

/* Every feeling's name parses back to it; anything else is refused. */
static void test_feeling_parse(void **state)
{
	int parsed = -1;

	(void)state;
	for (int f = 0; f < MUSIC_FEELINGS; f++) {
		assert_int_equal(
			music_feeling_parse(music_feeling_names[f], &parsed),
			MS_OK);
		assert_int_equal(parsed, f);
	}
	assert_int_equal(music_feeling_parse("gloomy", &parsed), MS_EINVAL);
	assert_int_equal(music_feeling_parse("Sad", &parsed), MS_EINVAL);
	assert_int_equal(music_feeling_parse(NULL, &parsed), MS_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anchor_quadrants),
		cmocka_unit_test(test_point_is_weighted_mean),
		cmocka_unit_test(test_bad_input_is_neutral),
		cmocka_unit_test(test_named_feelings),
		cmocka_unit_test(test_names_cover_enum),
		cmocka_unit_test(test_feeling_parse),
	};
	return cmocka_run_group_tests_name("affect", tests, NULL, NULL);
}
