/* test_server_calib.c - unit tests of a session's calibration state
 * (src/server/calib.c): counted and timed steps, a step that sees too few
 * faces keeping the old baseline, clear, the automatic baseline's warm-up
 * and its place behind the explicit one, the view the API reports, and
 * the step's request body. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/calib.h"

/* A resting face that reads mostly sad, as the listeners say. */
static const float sadish[NN_CLASSES] = {0.10f, 0.02f, 0.18f, 0.05f,
					 0.45f, 0.02f, 0.18f};
static const float happy[NN_CLASSES] = {0.02f, 0.01f, 0.02f, 0.85f,
					0.03f, 0.03f, 0.04f};

static const struct srv_calib_params on1 = {1.0f, 0};

static void test_counted_step(void **state)
{
	struct srv_calib c;
	struct srv_calib_view v;
	const struct nn_calib *act;
	float out[NN_CLASSES];
	int automatic;

	(void)state;
	srv_calib_init(&c);
	assert_null(srv_calib_active(&c, &on1, &automatic));
	srv_calib_start(&c, 0, 3, 1000);
	assert_int_equal(srv_calib_frame(&c, &on1, sadish, 1100), 1);
	assert_int_equal(srv_calib_frame(&c, &on1, NULL, 1200),
			 1); /* no face */
	assert_int_equal(srv_calib_frame(&c, &on1, sadish, 1300), 1);
	srv_calib_view(&c, &on1, 1300, &v);
	assert_int_equal(v.state, SRV_CALIB_RUNNING);
	assert_int_equal(v.frames, 2);
	assert_float_equal(v.progress, 2.0 / 3.0, 1e-6);
	assert_int_equal(v.applied, 0);
	assert_int_equal(srv_calib_take_fresh(&c), 0);
	assert_int_equal(srv_calib_frame(&c, &on1, sadish, 1400), 1);
	assert_int_equal(c.state, SRV_CALIB_ON);
	assert_int_equal(srv_calib_take_fresh(&c), 1);
	assert_int_equal(srv_calib_take_fresh(&c), 0);
	/* afterwards frames are readings, no longer samples */
	assert_int_equal(srv_calib_frame(&c, &on1, happy, 1500), 0);
	act = srv_calib_active(&c, &on1, &automatic);
	assert_non_null(act);
	assert_int_equal(automatic, 0);
	/* at strength 1 the resting face reads as the crowd's neutral */
	srv_calib_apply(act, &on1, sadish, out);
	for (int k = 0; k < NN_CLASSES; k++)
		assert_float_equal(out[k], srv_calib_rest[k], 1e-4);
	assert_int_equal(nn_argmax(out), NN_NEUTRAL);
	/* a clear smile still reads happy */
	srv_calib_apply(act, &on1, happy, out);
	assert_int_equal(nn_argmax(out), NN_HAPPY);
	srv_calib_view(&c, &on1, 1500, &v);
	assert_string_equal(srv_calib_state_names[v.state], "on");
	assert_int_equal(v.applied, 1);
	assert_int_equal(v.frames, 3);
	assert_float_equal(v.base[4], sadish[4], 1e-6);
}

static void test_timed_step(void **state)
{
	struct srv_calib c;
	struct srv_calib_view v;
	int automatic;

	(void)state;
	srv_calib_init(&c);
	srv_calib_start(&c, 3.0, 0, 10000);
	srv_calib_view(&c, &on1, 11500, &v);
	assert_float_equal(v.progress, 0.5, 1e-6);
	assert_float_equal(v.seconds_left, 1.5, 1e-6);
	for (int t = 0; t < 5; t++)
		assert_int_equal(
			srv_calib_frame(&c, &on1, sadish, 10100 + 500 * t), 1);
	srv_calib_tick(&c, 12999);
	assert_int_equal(c.state, SRV_CALIB_RUNNING);
	srv_calib_tick(&c, 13000);
	assert_int_equal(c.state, SRV_CALIB_ON);
	assert_float_equal(c.base.weight, 5, 0);
	/* a second step that sees one face fails and keeps the baseline */
	srv_calib_start(&c, 1.0, 0, 20000);
	assert_non_null(srv_calib_active(&c, &on1, &automatic));
	srv_calib_frame(&c, &on1, happy, 20100);
	srv_calib_frame(&c, &on1, NULL, 21000); /* time is up: a reading */
	assert_int_equal(c.state, SRV_CALIB_ON);
	assert_float_equal(c.base.base[4], sadish[4], 1e-6);
	/* with no baseline before, a failed step says so */
	srv_calib_init(&c);
	srv_calib_start(&c, 1.0, 0, 0);
	srv_calib_tick(&c, 1000);
	assert_int_equal(c.state, SRV_CALIB_FAILED);
	assert_null(srv_calib_active(&c, &on1, &automatic));
}

static void test_clear(void **state)
{
	struct srv_calib c;
	int automatic;

	(void)state;
	srv_calib_init(&c);
	srv_calib_start(&c, 0, 3, 0);
	for (int i = 0; i < 3; i++)
		srv_calib_frame(&c, &on1, sadish, 0);
	(void)srv_calib_take_fresh(&c);
	srv_calib_clear(&c);
	assert_int_equal(c.state, SRV_CALIB_OFF);
	assert_null(srv_calib_active(&c, &on1, &automatic));
	assert_int_equal(srv_calib_take_fresh(&c), 1);
}

static void test_auto(void **state)
{
	const struct srv_calib_params au = {0.5f, 100};
	const struct srv_calib_params off = {0.5f, 0};
	struct srv_calib c;
	struct srv_calib_view v;
	const struct nn_calib *act;
	int automatic, i;

	(void)state;
	srv_calib_init(&c);
	for (i = 0; i < 200; i++)
		assert_int_equal(srv_calib_frame(&c, &off, sadish, i), 0);
	assert_null(srv_calib_active(&c, &off, &automatic));
	for (i = 1; i < SRV_CALIB_AUTO_WARMUP; i++)
		srv_calib_frame(&c, &au, sadish, i);
	assert_null(srv_calib_active(&c, &au, &automatic));
	srv_calib_frame(&c, &au, sadish, i);
	act = srv_calib_active(&c, &au, &automatic);
	assert_non_null(act);
	assert_int_equal(automatic, 1);
	assert_float_equal(act->base[4], sadish[4], 1e-5);
	srv_calib_view(&c, &au, i, &v);
	assert_int_equal(v.applied && v.automatic && v.auto_on, 1);
	assert_int_equal(v.frames, SRV_CALIB_AUTO_WARMUP);
	/* an explicit baseline wins over the automatic one */
	srv_calib_start(&c, 0, 3, 0);
	for (int k = 0; k < 3; k++)
		srv_calib_frame(&c, &au, happy, 0);
	act = srv_calib_active(&c, &au, &automatic);
	assert_int_equal(automatic, 0);
	assert_float_equal(act->base[3], happy[3], 1e-6);
}

static void test_parse(void **state)
{
	static const char *const bad[] = {
		"{\"seconds\": 0}",
		"{\"seconds\": 30.5}",
		"{\"seconds\": \"3\"}",
		"{\"seconds\": null}",
		"{\"frames\": 0}",
		"{\"frames\": 301}",
		"{\"frames\": 2.5}",
		"{\"frames\": 3, \"seconds\": 1}",
		"{\"seconds\": 1e999}",
		"{\"Seconds\": 3}",
		"[3]",
		"3",
		"{\"seconds\": 3",
		"{\"seconds\": -1e-300}",
	};
	char msg[160];
	double sec;
	int fr;

	(void)state;
	assert_int_equal(srv_calib_parse("", 0, &sec, &fr, msg, sizeof(msg)),
			 MS_OK);
	assert_true(sec == SRV_CALIB_DEFAULT_SECONDS && fr == 0);
	assert_int_equal(srv_calib_parse("{}", 2, &sec, &fr, msg, sizeof(msg)),
			 MS_OK);
	assert_int_equal(srv_calib_parse("{\"seconds\": 0.5}", 16, &sec, &fr,
					 msg, sizeof(msg)),
			 MS_OK);
	assert_true(sec == 0.5 && fr == 0);
	assert_int_equal(srv_calib_parse("{\"frames\": 300}", 15, &sec, &fr,
					 msg, sizeof(msg)),
			 MS_OK);
	assert_int_equal(fr, 300);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg[0] = '\0';
		assert_int_equal(srv_calib_parse(bad[i], strlen(bad[i]), &sec,
						 &fr, msg, sizeof(msg)),
				 MS_EINVAL);
		assert_true(msg[0] != '\0');
		assert_int_equal(fr, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counted_step),
		cmocka_unit_test(test_timed_step),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_auto),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
