/* test_journey.c - unit tests of the journey (src/music/queue.c) over a
 * made-up library on a grid: bounded steps with monotone progress toward
 * the goal, no repeats, artists spread, likes pull, skips and "not this
 * mood" push, the listener's own points, matching that follows the mood. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "moodsync/library.h"
#include "moodsync/store.h"
#include "music/library_internal.h"

/* ---- the journey --------------------------------------------------------- */

#define GRID 21 /* points every 0.1 from -1 to 1 */

/* A dense library: one track per grid point; 7 artists, neighbours
 * differ. */
static struct music_cand *grid_library(int *n)
{
	struct music_cand *c = calloc(GRID * GRID, sizeof(*c));
	int k = 0;

	for (int i = 0; i < GRID; i++)
		for (int j = 0; j < GRID; j++, k++) {
			c[k].id = k + 1;
			c[k].point.valence = -1 + 0.1 * i;
			c[k].point.arousal = -1 + 0.1 * j;
			c[k].artist = (uint32_t)(1 + (3 * i + j) % 7);
		}
	*n = k;
	return c;
}

static double d2(struct music_va a, struct music_va b)
{
	return hypot(a.valence - b.valence, a.arousal - b.arousal);
}

static void journey(int goal, struct music_va start)
{
	struct music_listener l = {.point = start,
				   .feeling = MUSIC_FEEL_SAD,
				   .goal = goal,
				   .mood = -1};
	struct music_va g = music_goal_point(goal, start), prev = start;
	struct music_queue q;
	struct music_pick pk;
	double last = INFINITY;
	int n;
	struct music_cand *c = grid_library(&n);

	music_queue_init(&q);
	for (int k = 0; k < 12; k++) {
		struct music_va pt;

		assert_int_equal(music_queue_advance(&q, c, n, &l, &pk), MS_OK);
		pt = c[pk.index].point;
		/* near the journey's target (the nearest point may be the
		 * last artist's), a bounded step from the last target */
		assert_true(d2(pt, pk.target) <= 0.15);
		assert_true(d2(pk.target, prev) <= MUSIC_STEP + 1e-9);
		if (k == 0)
			assert_true(d2(pt, start) <= 0.1);
		/* monotone progress toward the goal */
		assert_true(d2(pk.target, g) <= last + 1e-9);
		last = d2(pk.target, g);
		prev = pk.target;
	}
	assert_true(last < 0.05); /* 12 steps of 0.25 reach any goal */
	free(c);
}

static void test_journeys(void **state)
{
	struct music_va sad = {-0.7, -0.45}, tense = {-0.65, 0.7};

	(void)state;
	journey(MUSIC_LIFT, sad);
	journey(MUSIC_ENERGISE, sad);
	journey(MUSIC_CALM, tense);
	journey(MUSIC_LIFT, tense);
}

static void test_no_repeats_and_artists(void **state)
{
	struct music_listener l = {
		.feeling = MUSIC_FEEL_NEUTRAL, .goal = MUSIC_MATCH, .mood = -1};
	struct music_cand c[12];
	struct music_queue q;
	struct music_pick pk;
	int seen[12] = {0};
	uint32_t last_artist = 0;

	(void)state;
	memset(c, 0, sizeof(c));
	for (int i = 0; i < 12; i++) { /* two artists, all at the centre */
		c[i].id = i + 1;
		c[i].artist = 1 + (uint32_t)(i < 6);
		c[i].point.valence = 0.01 * i;
	}
	music_queue_init(&q);
	for (int k = 0; k < 12; k++) {
		assert_int_equal(music_queue_advance(&q, c, 12, &l, &pk),
				 MS_OK);
		assert_int_equal(seen[pk.index], 0);
		seen[pk.index] = 1;
		assert_int_equal(q.now, c[pk.index].id);
		if (k > 0) /* artists alternate while both have tracks */
			assert_int_not_equal(c[pk.index].artist, last_artist);
		last_artist = c[pk.index].artist;
	}
	/* all played: a new round starts rather than nothing */
	assert_int_equal(music_queue_advance(&q, c, 12, &l, &pk), MS_OK);
	assert_int_equal(music_queue_advance(&q, c, 0, &l, &pk), MS_ENOTFOUND);
}

static void test_feedback_effects(void **state)
{
	struct music_listener l = {.point = {0.5, 0.5},
				   .feeling = MUSIC_FEEL_EXCITED,
				   .goal = MUSIC_MATCH,
				   .mood = -1};
	struct music_cand c[2];
	struct music_queue q;
	struct music_pick pk;

	(void)state;
	memset(c, 0, sizeof(c));
	c[0].id = 1;
	c[0].point = (struct music_va){0.5, 0.5}; /* exactly there */
	c[1].id = 2;
	c[1].point = (struct music_va){0.62, 0.5}; /* 0.12 away */
	music_queue_init(&q);
	assert_int_equal(music_queue_advance(&q, c, 2, &l, &pk), MS_OK);
	assert_int_equal(pk.index, 0);
	/* a like pulls the farther one in */
	c[1].liked = 1;
	music_queue_init(&q);
	assert_int_equal(music_queue_advance(&q, c, 2, &l, &pk), MS_OK);
	assert_int_equal(pk.index, 1);
	assert_non_null(strstr(pk.why, "you liked it"));
	/* one early skip outweighs a like */
	c[1].early_skips = 1;
	music_queue_init(&q);
	assert_int_equal(music_queue_advance(&q, c, 2, &l, &pk), MS_OK);
	assert_int_equal(pk.index, 0);
	/* a late skip pushes less than an early one */
	c[1].liked = 0;
	c[1].early_skips = 0;
	c[0].skips = 1;
	music_queue_init(&q);
	assert_int_equal(music_queue_advance(&q, c, 2, &l, &pk), MS_OK);
	assert_int_equal(pk.index, 0);
	c[0].skips = 2; /* 0.2 > 0.12 */
	music_queue_init(&q);
	assert_int_equal(music_queue_advance(&q, c, 2, &l, &pk), MS_OK);
	assert_int_equal(pk.index, 1);
	/* "not this mood" counts only near the mood it was said in */
	c[0].skips = 0;
	c[0].not_mood = 1;
	c[0].not_mood_at = (struct music_va){0.4, 0.5};
	music_queue_init(&q);
	assert_int_equal(music_queue_advance(&q, c, 2, &l, &pk), MS_OK);
	assert_int_equal(pk.index, 1);
	c[0].not_mood_at = (struct music_va){-0.7, -0.5};
	music_queue_init(&q);
	assert_int_equal(music_queue_advance(&q, c, 2, &l, &pk), MS_OK);
	assert_int_equal(pk.index, 0);
}

static void test_match_follows_mood(void **state)
{
	struct music_listener l = {.point = {0.8, 0.45},
				   .feeling = MUSIC_FEEL_EXCITED,
				   .goal = MUSIC_MATCH,
				   .mood = -1};
	struct music_queue q;
	struct music_pick pk, next[3];
	int n, k = 0;
	struct music_cand *c = grid_library(&n);

	(void)state;
	music_queue_init(&q);
	assert_int_equal(music_queue_advance(&q, c, n, &l, &pk), MS_OK);
	assert_true(d2(c[pk.index].point, l.point) <= 0.1);
	assert_non_null(strstr(pk.why, "matches your excited mood"));
	/* the face turns sad: the next track follows */
	l.point = (struct music_va){-0.7, -0.45};
	l.feeling = MUSIC_FEEL_SAD;
	music_queue_peek(&q, c, n, &l, next, 3, &k);
	assert_int_equal(k, 3);
	assert_int_equal(q.now, c[pk.index].id); /* peek changes nothing */
	assert_int_equal(music_queue_advance(&q, c, n, &l, &pk), MS_OK);
	assert_int_equal(pk.index, next[0].index);
	assert_true(d2(c[pk.index].point, l.point) <= 0.1);
	assert_non_null(strstr(pk.why, "sad"));
	/* under "calm" the why says where it goes */
	l.goal = MUSIC_CALM;
	l.feeling = MUSIC_FEEL_TIRED;
	music_queue_init(&q);
	assert_int_equal(music_queue_advance(&q, c, n, &l, &pk), MS_OK);
	assert_int_equal(music_queue_advance(&q, c, n, &l, &pk), MS_OK);
	assert_non_null(strstr(pk.why, "your tired mood; moving toward calm"));
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journeys),
		cmocka_unit_test(test_no_repeats_and_artists),
		cmocka_unit_test(test_feedback_effects),
		cmocka_unit_test(test_match_follows_mood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
