/* test_music.c - unit tests for src/music (mood.c, catalog.c): names,
 * smoothing and hysteresis (no flicker, switch only after the hold time
 * and past the margin, frame-rate independence), catalog seeding and the
 * two strategies. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "moodsync/music.h"
#include "moodsync/store.h"

/* Probabilities with `p` on mood `m` and the rest spread evenly. */
static void peaked(float *out, int m, float p)
{
	for (int i = 0; i < MUSIC_MOODS; i++)
		out[i] = (1.0f - p) / (MUSIC_MOODS - 1);
	out[m] = p;
}

static void test_names(void **state)
{
	int v = -1;

	(void)state;
	assert_int_equal(music_mood_parse("sad", &v), MS_OK);
	assert_int_equal(v, MUSIC_SAD);
	assert_int_equal(music_mood_parse("Sad", &v), MS_EINVAL);
	assert_int_equal(music_mood_parse(NULL, &v), MS_EINVAL);
	assert_int_equal(music_strategy_parse("lift", &v), MS_OK);
	assert_int_equal(v, MUSIC_LIFT);
	assert_int_equal(music_strategy_parse("", &v), MS_EINVAL);
}

static void test_search_url(void **state)
{
	char url[64];

	(void)state;
	assert_int_equal(music_search_url("sad & slow/ä", url, sizeof(url)),
			 MS_OK);
	assert_string_equal(url, "https://open.spotify.com/search/"
				 "sad%20%26%20slow%2F%C3%A4");
	assert_int_equal(music_search_url("a very long query that does not "
					  "fit",
					  url, 40),
			 MS_ELIMIT);
}

static void test_first_update_and_bad_input(void **state)
{
	struct music_mood m;
	float p[MUSIC_MOODS];

	(void)state;
	music_mood_init(&m, NULL);
	assert_int_equal(music_mood_leader(&m), -1);
	assert_int_equal(m.stable, -1);
	memset(p, 0, sizeof(p));
	assert_int_equal(music_mood_update(&m, p, 0.0), MS_EINVAL);
	p[0] = NAN;
	assert_int_equal(music_mood_update(&m, p, 0.0), MS_EINVAL);
	p[0] = -1.0f;
	assert_int_equal(music_mood_update(&m, p, 0.0), MS_EINVAL);
	assert_int_equal(m.samples, 0);
	/* unnormalized input is normalized; the first reading is stable */
	memset(p, 0, sizeof(p));
	p[MUSIC_HAPPY] = 3.0f;
	p[MUSIC_SAD] = 1.0f;
	assert_int_equal(music_mood_update(&m, p, 0.0), 1);
	assert_int_equal(m.stable, MUSIC_HAPPY);
	assert_float_equal(m.probs[MUSIC_HAPPY], 0.75f, 1e-6);
}

static void test_no_flicker(void **state)
{
	struct music_mood m;
	float happy[MUSIC_MOODS], sad[MUSIC_MOODS];
	int changes = 0;

	(void)state;
	music_mood_init(&m, NULL);
	peaked(happy, MUSIC_HAPPY, 0.7f);
	peaked(sad, MUSIC_SAD, 0.8f);
	music_mood_update(&m, happy, 0.0);
	/* 30 s at 10 fps: mostly happy, every third frame a sad outlier */
	for (int i = 1; i <= 300; i++)
		changes += music_mood_update(&m, i % 3 ? happy : sad,
					     i * 100.0) == 1;
	assert_int_equal(changes, 0);
	assert_int_equal(m.stable, MUSIC_HAPPY);
}

static void test_switch_after_hold(void **state)
{
	struct music_mood_params prm;
	struct music_mood m;
	float happy[MUSIC_MOODS], sad[MUSIC_MOODS];
	double t = 0.0, switched = -1.0;

	(void)state;
	music_mood_params_default(&prm);
	music_mood_init(&m, &prm);
	peaked(happy, MUSIC_HAPPY, 0.8f);
	peaked(sad, MUSIC_SAD, 0.8f);
	for (; t < 5000.0; t += 100.0)
		music_mood_update(&m, happy, t);
	assert_int_equal(m.stable, MUSIC_HAPPY);
	/* the face turns sad at t = 5000 */
	for (; t < 15000.0; t += 100.0)
		if (music_mood_update(&m, sad, t) == 1 && switched < 0)
			switched = t;
	assert_int_equal(m.stable, MUSIC_SAD);
	/* not before the hold time, and not much later than the EMA needs
	 * to cross plus the hold time */
	assert_true(switched >= 5000.0 + prm.hold_ms);
	assert_true(switched <= 5000.0 + prm.hold_ms + 4.0 * prm.tau_ms);
}

static void test_margin(void **state)
{
	struct music_mood m;
	float a[MUSIC_MOODS], b[MUSIC_MOODS];

	(void)state;
	music_mood_init(&m, NULL);
	memset(a, 0, sizeof(a));
	a[MUSIC_NEUTRAL] = 0.6f;
	a[MUSIC_HAPPY] = 0.4f;
	music_mood_update(&m, a, 0.0);
	assert_int_equal(m.stable, MUSIC_NEUTRAL);
	/* happy leads, but only by 0.04 < margin: for a whole minute */
	memset(b, 0, sizeof(b));
	b[MUSIC_NEUTRAL] = 0.48f;
	b[MUSIC_HAPPY] = 0.52f;
	for (double t = 100.0; t < 60000.0; t += 100.0)
		assert_int_not_equal(music_mood_update(&m, b, t), 1);
	assert_int_equal(m.stable, MUSIC_NEUTRAL);
	assert_int_equal(music_mood_leader(&m), MUSIC_HAPPY);
}

static void test_rate_independent(void **state)
{
	struct music_mood slow, fast;
	float a[MUSIC_MOODS], b[MUSIC_MOODS];

	(void)state;
	music_mood_init(&slow, NULL);
	music_mood_init(&fast, NULL);
	peaked(a, MUSIC_NEUTRAL, 0.9f);
	peaked(b, MUSIC_SURPRISE, 0.9f);
	music_mood_update(&slow, a, 0.0);
	music_mood_update(&fast, a, 0.0);
	for (double t = 200.0; t <= 1000.0; t += 200.0)
		music_mood_update(&slow, b, t); /* 5 fps */
	for (double t = 50.0; t <= 1000.0; t += 50.0)
		music_mood_update(&fast, b, t); /* 20 fps */
	assert_float_equal(slow.probs[MUSIC_SURPRISE],
			   fast.probs[MUSIC_SURPRISE], 1e-4);
}

static void test_catalog_seed(void **state)
{
	struct store *s = NULL;
	struct store_playlist list[16];
	char err[MS_ERRLEN];
	int added = -1, n;

	(void)state;
	assert_int_equal(store_open(":memory:", &s, err, sizeof(err)), MS_OK);
	assert_int_equal(music_catalog_seed(s, &added, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(added, (int)music_catalog_builtin_count());
	assert_int_equal(music_catalog_seed(s, &added, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(added, 0); /* second run: already seeded */
	for (int m = 0; m < MUSIC_MOODS; m++) {
		for (int st = 0; st < MUSIC_STRATEGIES; st++) {
			char want[STORE_URL_MAX];

			assert_int_equal(
				store_catalog_list(
					s, music_mood_names[m],
					music_strategy_names
						[music_strategy_catalog(st)],
					list, 16, &n),
				MS_OK);
			assert_true(n >= 3);
			for (int i = 0; i < n; i++) {
				assert_true(list[i].name[0]);
				assert_true(list[i].description[0]);
				assert_int_equal(music_search_url(list[i].query,
								  want,
								  sizeof(want)),
						 MS_OK);
				assert_string_equal(list[i].url, want);
			}
			assert_true(music_target_describe(m, st)[0]);
		}
	}
	store_close(s);
}

static void test_strategies_differ(void **state)
{
	struct store *s = NULL;
	struct store_playlist match[8], lift[8];
	char err[MS_ERRLEN];
	int added, nm, nl;

	(void)state;
	assert_int_equal(store_open(":memory:", &s, err, sizeof(err)), MS_OK);
	assert_int_equal(music_catalog_seed(s, &added, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(store_catalog_list(s, "sad", "match", match, 8, &nm),
			 MS_OK);
	assert_int_equal(store_catalog_list(s, "sad", "lift", lift, 8, &nl),
			 MS_OK);
	for (int i = 0; i < nm; i++)
		for (int j = 0; j < nl; j++)
			assert_string_not_equal(match[i].query, lift[j].query);
	assert_string_equal(music_target_describe(MUSIC_SAD, MUSIC_LIFT),
			    "gently uplifting");
	assert_string_equal(music_target_describe(99, MUSIC_LIFT), "");
	store_close(s);
}

/* The policy lists the catalog's rows for the mood (neutral before any
 * mood) and leads with row (seconds of the mood change) mod n. */
static void test_recommend(void **state)
{
	struct store *s = NULL;
	struct store_playlist cat[MUSIC_REC_MAX];
	struct music_rec *rec = malloc(sizeof(*rec));
	char err[MS_ERRLEN];
	int added, n;

	(void)state;
	assert_non_null(rec);
	assert_int_equal(store_open(":memory:", &s, err, sizeof(err)), MS_OK);
	assert_int_equal(music_catalog_seed(s, &added, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(
		store_catalog_list(s, "sad", "lift", cat, MUSIC_REC_MAX, &n),
		MS_OK);
	assert_true(n > 1);
	for (int64_t since = 0; since < 5000; since += 1000) {
		assert_int_equal(music_recommend(s, MUSIC_SAD, MUSIC_LIFT,
						 since + 999, rec, err,
						 sizeof(err)),
				 MS_OK);
		assert_int_equal(rec->mood, MUSIC_SAD);
		assert_int_equal(rec->based_on, MUSIC_SAD);
		assert_int_equal(rec->n, n);
		assert_int_equal(rec->primary, (int)(since / 1000 % n));
		for (int i = 0; i < n; i++)
			assert_string_equal(rec->items[i].query, cat[i].query);
	}
	assert_int_equal(
		music_recommend(s, -1, MUSIC_MATCH, 0, rec, err, sizeof(err)),
		MS_OK);
	assert_int_equal(rec->mood, -1);
	assert_int_equal(rec->based_on, MUSIC_NEUTRAL);
	assert_string_equal(rec->items[0].mood, "neutral");
	assert_int_equal(
		music_recommend(s, MUSIC_SAD, 7, 0, rec, err, sizeof(err)),
		MS_EINVAL);
	store_close(s);
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_search_url),
		cmocka_unit_test(test_first_update_and_bad_input),
		cmocka_unit_test(test_no_flicker),
		cmocka_unit_test(test_switch_after_hold),
		cmocka_unit_test(test_margin),
		cmocka_unit_test(test_rate_independent),
		cmocka_unit_test(test_catalog_seed),
		cmocka_unit_test(test_strategies_differ),
		cmocka_unit_test(test_recommend),
	};

	ms_log_set_level(MS_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
