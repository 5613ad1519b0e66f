/* test_vision.c - unit tests for the detector half of src/vision:
 * integral images against naive sums, window evaluation of a tiny
 * hand-computed cascade, the real cascade on shared photos (MOODSYNC_DATA;
 * boxes must equal OpenCV 4.6's), hostile cascade XML, and the scoring
 * rule. The decoders are in test_vision_image.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "moodsync/vision.h"

#define CASCADE                                                                \
	"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
#define CASCADE_TILTED                                                         \
	"/usr/share/opencv4/haarcascades/haarcascade_eye_tree_eyeglasses.xml"

/* ---- helpers ---------------------------------------------------------- */

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
	rng_state = rng_state * 1664525u + 1013904223u;
	return rng_state >> 8;
}

static const char *data_dir(void)
{
	const char *d = getenv("MOODSYNC_DATA");

	return d && *d ? d : "../shared/data";
}

/* ---- integral images -------------------------------------------------- */

static void test_integral_naive(void **state)
{
	enum { W = 37, H = 23, S = W + 5 };
	uint8_t px[W * H];
	uint32_t *sum = calloc((H + 1) * S, 4), *sq = calloc((H + 1) * S, 4);
	uint32_t *ti = calloc((H + 1) * S, 4);

	(void)state;
	for (int i = 0; i < W * H; i++)
		px[i] = (uint8_t)rng();
	assert_int_equal(vis_integral(px, W, H, W, sum, sq, ti, S), MS_OK);
	for (int Y = 0; Y <= H; Y++)
		for (int X = 0; X <= W; X++) {
			uint32_t s = 0, q = 0, t = 0;

			for (int y = 0; y < Y; y++)
				for (int x = 0; x < X; x++) {
					s += px[y * W + x];
					q += px[y * W + x] * px[y * W + x];
				}
			/* OpenCV's tilted sum: y < Y, |x - X + 1| <= Y-y-1 */
			for (int y = 0; y < Y; y++)
				for (int x = 0; x < W; x++)
					if (abs(x - X + 1) <= Y - y - 1)
						t += px[y * W + x];
			assert_int_equal(sum[Y * S + X], s);
			assert_int_equal(sq[Y * S + X], q);
			assert_int_equal(ti[Y * S + X], t);
		}
	free(sum);
	free(sq);
	free(ti);
}

/* ---- a tiny cascade, evaluated by hand -------------------------------- */

/* 8x8 window. Feature 0: right half minus left half; feature 1: left minus
 * right; feature 2: a tilted pair. */
static const char tiny_xml[] =
	"<?xml version=\"1.0\"?>\n<!-- tiny -->\n<opencv_storage>\n"
	"<cascade type_id=\"opencv-cascade-classifier\">"
	"<stageType>BOOST</stageType><featureType>HAAR</featureType>"
	"<height>8</height><width>8</width>"
	"<stageParams><maxWeakCount>2</maxWeakCount></stageParams>"
	"<featureParams><maxCatCount>0</maxCatCount></featureParams>"
	"<stageNum>3</stageNum><stages>"
	/* stage 0: two stumps; A goes right (+1.0), B left (+0.5) */
	"<_><maxWeakCount>2</maxWeakCount><stageThreshold>1.4"
	"</stageThreshold><weakClassifiers>"
	"<_><internalNodes>0 -1 0 1.74</internalNodes>"
	"<leafValues>-3.0 1.0</leafValues></_>"
	"<_><internalNodes>0 -1 1 0.0</internalNodes>"
	"<leafValues>0.5 -2.0</leafValues></_></weakClassifiers></_>"
	/* stage 1: a two-node tree: A < 1.75 -> node 1; B >= -2 -> leaf 2 */
	"<_><maxWeakCount>1</maxWeakCount><stageThreshold>0.25"
	"</stageThreshold><weakClassifiers>"
	"<_><internalNodes>1 0 0 1.75 -1 -2 1 -2.0</internalNodes>"
	"<leafValues>0.1 0.2 0.3</leafValues></_></weakClassifiers></_>"
	/* stage 2: the tilted feature against a threshold set by the test */
	"<_><stageThreshold>0.0</stageThreshold><weakClassifiers>"
	"<_><internalNodes>0 -1 2 %s</internalNodes>"
	"<leafValues>-1.0 1.0</leafValues></_></weakClassifiers></_>"
	"</stages><features>"
	"<_><rects><_>0 0 8 8 -1.</_><_>4 0 4 8 2.</_></rects></_>"
	"<_><rects><_>0 0 8 8 -1.</_><_>0 0 4 8 2.</_></rects>"
	"<tilted>0</tilted></_>"
	"<_><rects><_>4 0 3 2 -1.</_><_>4 1 2 2 2.</_></rects>"
	"<tilted>1</tilted></_>"
	"</features></cascade></opencv_storage>\n";

/* The tilted rect sum, straight from OpenCV's definition of the table. */
static double naive_tilted(const uint8_t *px, int w, int X, int Y)
{
	double t = 0;

	for (int y = 0; y < Y; y++)
		for (int x = 0; x < w; x++)
			if (abs(x - X + 1) <= Y - y - 1)
				t += px[y * w + x];
	return t;
}

static double naive_tilted_rect(const uint8_t *px, int w, int x, int y, int rw,
				int rh)
{
	return naive_tilted(px, w, x, y) - naive_tilted(px, w, x - rh, y + rh) -
	       naive_tilted(px, w, x + rw, y + rw) +
	       naive_tilted(px, w, x + rw - rh, y + rw + rh);
}

static struct vis_cascade *tiny_cascade(const char *thr)
{
	char xml[sizeof(tiny_xml) + 32], err[MS_ERRLEN];
	struct vis_cascade *c = NULL;
	int n = snprintf(xml, sizeof(xml), tiny_xml, thr);

	assert_int_equal(
		vis_cascade_parse(xml, (size_t)n, &c, err, sizeof(err)), MS_OK);
	return c;
}

static void test_tiny_cascade_eval(void **state)
{
	/* 8x8: columns 0-3 are 10, columns 4-7 are 200, plus a bright
	 * diagonal streak for the tilted feature */
	uint8_t px[64];
	struct vis_image img = {8, 8, px};
	struct vis_cascade *c;
	double sum, tv, vnf, expect_t;
	int stages, w, h;

	(void)state;
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 8; x++)
			px[y * 8 + x] = x < 4 ? 10 : 200;
	px[1 * 8 + 4] = 255;
	px[2 * 8 + 5] = 90;
	/* inner 6x6 (the variance rect): 18 px of 10, 18 of 200 except the
	 * two changed ones */
	{
		double s = 0, q = 0;
		for (int y = 1; y < 7; y++)
			for (int x = 1; x < 7; x++) {
				s += px[y * 8 + x];
				q += (double)px[y * 8 + x] * px[y * 8 + x];
			}
		vnf = 1.0 / sqrt(36 * q - s * s);
	}
	/* hand value of the tilted feature, normalised */
	tv = (-naive_tilted_rect(px, 8, 4, 0, 3, 2) +
	      2 * naive_tilted_rect(px, 8, 4, 1, 2, 2)) *
	     vnf;

	/* threshold just above the tilted value: goes left, -1 < 0: the
	 * window fails stage 2 after passing 0 and 1 */
	{
		char thr[32];
		snprintf(thr, sizeof(thr), "%.6f", tv + 1e-3);
		c = tiny_cascade(thr);
	}
	vis_cascade_window(c, &w, &h);
	assert_int_equal(w, 8);
	assert_int_equal(h, 8);
	assert_int_equal(vis_cascade_nstages(c), 3);
	assert_int_equal(vis_cascade_eval(c, &img, 0, 0, &stages, &sum), MS_OK);
	assert_int_equal(stages, 2);
	assert_true(fabs(sum - -1.0) < 1e-9);
	vis_cascade_free(c);

	/* just below: right leaf, accepted with the last stage sum 1.0 */
	{
		char thr[32];
		snprintf(thr, sizeof(thr), "%.6f", tv - 1e-3);
		c = tiny_cascade(thr);
	}
	assert_int_equal(vis_cascade_eval(c, &img, 0, 0, &stages, &sum), MS_OK);
	assert_int_equal(stages, 3);
	assert_true(fabs(sum - 1.0) < 1e-9);

	/* stage 0 by hand: A = (sum right - sum left) * vnf = 6025 / 3444.07
	 * = 1.7494 >= 1.74 -> 1.0; B = -A < 0 -> 0.5: 1.5 passes 1.4.
	 * Stage 1: A < 1.75 -> node 1; B >= -2 -> leaf 2 = 0.3 >= 0.25 */
	expect_t = 0;
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 8; x++)
			expect_t += (x < 4 ? -1 : 1) * px[y * 8 + x];
	assert_true(fabs(expect_t - 6025) < 1e-9);
	assert_true(expect_t * vnf > 1.74 && expect_t * vnf < 1.75);

	/* a flat window fails the variance check */
	memset(px, 77, sizeof(px));
	assert_int_equal(vis_cascade_eval(c, &img, 0, 0, &stages, NULL), MS_OK);
	assert_int_equal(stages, -1);
	/* and one that does not fit is refused */
	assert_int_equal(vis_cascade_eval(c, &img, 1, 0, &stages, NULL),
			 MS_EINVAL);
	vis_cascade_free(c);
}

/* ---- the real cascade on shared photos -------------------------------- */

struct photo_case {
	const char *path;
	int n;		       /* detections OpenCV 4.6 gives (1.1, 5, 30) */
	struct ms_rect det[3]; /* and its boxes, largest first */
	struct ms_rect gt[3];  /* annotations */
};

static void test_real_cascade_photos(void **state)
{
	static const struct photo_case cases[] = {
		{"images/dlib_pascal/2008_001009.jpg",
		 2,
		 {{124, 205, 89, 89}, {143, 74, 82, 82}},
		 {{145, 79, 76, 76}, {125, 214, 90, 91}}},
		{"images/dlib_pascal/2008_002506.jpg",
		 3,
		 {{319, 63, 134, 134}, {112, 49, 114, 114}, {221, 91, 94, 94}},
		 {{329, 78, 109, 109}, {224, 95, 91, 91}, {125, 65, 90, 91}}},
		{"images/wider_val/13--Interview/"
		 "13_Interview_Interview_2_People_Visible_13_241.jpg",
		 1,
		 {{408, 117, 171, 171}},
		 {{428, 96, 122, 180}}},
	};
	struct vis_cascade *c = NULL;
	struct vis_detector *d;
	struct vis_detect_params p;
	char err[MS_ERRLEN], path[1024];

	(void)state;
	assert_int_equal(vis_cascade_load(CASCADE, &c, err, sizeof(err)),
			 MS_OK);
	d = vis_detector_new(c);
	assert_non_null(d);
	vis_detect_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vis_image img;
		struct ms_rect faces[16];
		int n = -1, rc;

		snprintf(path, sizeof(path), "%s/faces/%s", data_dir(),
			 cases[i].path);
		rc = vis_image_load(path, &img, err, sizeof(err));
		if (rc)
			fail_msg("%s (set MOODSYNC_DATA)", err);
		assert_int_equal(vis_detect(d, &img, &p, faces, 16, &n), MS_OK);
		assert_int_equal(n, cases[i].n);
		for (int k = 0; k < n; k++) {
			assert_int_equal(faces[k].x, cases[i].det[k].x);
			assert_int_equal(faces[k].y, cases[i].det[k].y);
			assert_int_equal(faces[k].w, cases[i].det[k].w);
			assert_int_equal(faces[k].h, cases[i].det[k].h);
		}
		assert_int_equal(vis_match_greedy(cases[i].gt, cases[i].n,
						  faces, n, 0.4, NULL),
				 cases[i].n);
		vis_image_release(&img);
	}
	vis_detector_free(d);
	vis_cascade_free(c);
}

/* Tree-shaped (alt2) and tilted-feature (eye_tree_eyeglasses) cascades run
 * the generic path; their boxes, too, are OpenCV 4.6's (3 neighbours, no
 * minimum size). */
static void test_tree_tilted_cascades(void **state)
{
	static const struct {
		const char *cascade;
		int n;
		struct ms_rect det[3];
	} cases[] = {
		{"/usr/share/opencv4/haarcascades/"
		 "haarcascade_frontalface_alt2.xml",
		 3,
		 {{321, 65, 124, 124}, {117, 51, 108, 108}, {217, 90, 99, 99}}},
		{CASCADE_TILTED, 1, {{143, 74, 26, 26}}},
	};
	struct vis_detect_params p;
	struct vis_image img;
	char err[MS_ERRLEN], path[1024];

	(void)state;
	snprintf(path, sizeof(path),
		 "%s/faces/images/dlib_pascal/"
		 "2008_002506.jpg",
		 data_dir());
	if (vis_image_load(path, &img, err, sizeof(err)))
		fail_msg("%s (set MOODSYNC_DATA)", err);
	vis_detect_params_default(&p);
	p.min_neighbors = 3;
	p.min_size = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vis_cascade *c = NULL;
		struct vis_detector *d;
		struct ms_rect faces[8];
		int n = -1;

		assert_int_equal(vis_cascade_load(cases[i].cascade, &c, err,
						  sizeof(err)),
				 MS_OK);
		d = vis_detector_new(c);
		assert_non_null(d);
		assert_int_equal(vis_detect(d, &img, &p, faces, 8, &n), MS_OK);
		assert_int_equal(n, cases[i].n);
		for (int k = 0; k < n; k++) {
			assert_int_equal(faces[k].x, cases[i].det[k].x);
			assert_int_equal(faces[k].y, cases[i].det[k].y);
			assert_int_equal(faces[k].w, cases[i].det[k].w);
			assert_int_equal(faces[k].h, cases[i].det[k].h);
		}
		vis_detector_free(d);
		vis_cascade_free(c);
	}
	vis_image_release(&img);
}

static void test_detect_params(void **state)
{
	struct vis_cascade *c = NULL;
	struct vis_detector *d;
	struct vis_detect_params p;
	struct vis_image img;
	struct ms_rect f[4];
	char err[MS_ERRLEN];
	int n;

	(void)state;
	assert_int_equal(vis_cascade_load(CASCADE, &c, err, sizeof(err)),
			 MS_OK);
	d = vis_detector_new(c);
	assert_int_equal(vis_image_init(&img, 64, 48), MS_OK);
	for (int i = 0; i < 64 * 48; i++)
		img.px[i] = (uint8_t)rng();
	vis_detect_params_default(&p);
	p.scale = 1.0;
	assert_int_equal(vis_detect(d, &img, &p, f, 4, &n), MS_EINVAL);
	p.scale = 1.2;
	p.min_neighbors = 0;
	assert_int_equal(vis_detect(d, &img, &p, f, 4, &n), MS_OK);
	/* smaller than the window: no scales, no faces */
	p.min_size = 100;
	assert_int_equal(vis_detect(d, &img, &p, f, 4, &n), MS_OK);
	assert_int_equal(n, 0);
	vis_image_release(&img);
	vis_detector_free(d);
	vis_cascade_free(c);
}

/* ---- cascade loader ------------------------------------------------- */

static int parse_str(const char *xml, char *err, size_t errlen)
{
	struct vis_cascade *c = NULL;
	int rc = vis_cascade_parse(xml, strlen(xml), &c, err, errlen);

	vis_cascade_free(c);
	return rc;
}

/* The tiny cascade with one substring replaced. */
static int parse_tiny_with(const char *from, const char *to, char *err)
{
	char base[sizeof(tiny_xml) + 32], out[sizeof(tiny_xml) + 256];
	const char *at;

	snprintf(base, sizeof(base), tiny_xml, "0.5");
	at = strstr(base, from);
	assert_non_null(at);
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - base), base, to,
		 at + strlen(from));
	return parse_str(out, err, MS_ERRLEN);
}

static void test_cascade_real_files(void **state)
{
	struct vis_cascade *c = NULL;
	char err[MS_ERRLEN];
	int w, h;

	(void)state;
	assert_int_equal(vis_cascade_load(CASCADE, &c, err, sizeof(err)),
			 MS_OK);
	vis_cascade_window(c, &w, &h);
	assert_int_equal(w, 24);
	assert_int_equal(h, 24);
	assert_int_equal(vis_cascade_nstages(c), 25);
	vis_cascade_free(c);
	/* trees and tilted features */
	assert_int_equal(vis_cascade_load(CASCADE_TILTED, &c, err, sizeof(err)),
			 MS_OK);
	vis_cascade_free(c);
	assert_int_equal(
		vis_cascade_load("/nonexistent.xml", &c, err, sizeof(err)),
		MS_ENOTFOUND);
}

static void test_cascade_hostile(void **state)
{
	char err[MS_ERRLEN], deep[4096];
	size_t k = 0;

	(void)state;
	assert_int_equal(parse_tiny_with("<stageNum>3", "<stageNum>4", err),
			 MS_EFORMAT);
	assert_non_null(strstr(err, "stageNum"));
	assert_int_equal(parse_tiny_with("<maxWeakCount>2</maxWeakCount>"
					 "<stageThreshold>1.4",
					 "<maxWeakCount>3</maxWeakCount>"
					 "<stageThreshold>1.4",
					 err),
			 MS_EFORMAT);
	assert_int_equal(parse_tiny_with("<leafValues>-3.0 1.0",
					 "<leafValues>-3.0", err),
			 MS_EFORMAT);
	assert_int_equal(parse_tiny_with("0 -1 0 1.74", "0 -1 0", err),
			 MS_EFORMAT);
	/* a tree node pointing back at itself would loop forever */
	assert_int_equal(parse_tiny_with("-1 -2 1 -2.0", "1 -2 1 -2.0", err),
			 MS_EFORMAT);
	assert_int_equal(parse_tiny_with("0 -1 0 1.74", "0 -1 9 1.77", err),
			 MS_EFORMAT);
	assert_non_null(strstr(err, "feature 9"));
	assert_int_equal(parse_tiny_with("4 0 4 8 2.", "5 0 4 8 2.", err),
			 MS_EFORMAT);
	assert_non_null(strstr(err, "outside"));
	/* tilted rect leaving the window on the left (x - h < 0) */
	assert_int_equal(parse_tiny_with("4 0 3 2 -1.", "1 0 3 2 -1.", err),
			 MS_EFORMAT);
	assert_int_equal(parse_tiny_with("<width>8</width>",
					 "<width>100000</width>", err),
			 MS_ELIMIT);
	assert_int_equal(parse_tiny_with("<features>", "<featurez>", err),
			 MS_EFORMAT);
	assert_int_equal(parse_tiny_with("HAAR", "LBP", err), MS_EUNSUPPORTED);
	assert_int_equal(parse_tiny_with("1.4</stageThreshold>",
					 "1.4x</stageThreshold>", err),
			 MS_EFORMAT);
	assert_int_equal(parse_tiny_with("</cascade>", "</cascadx>", err),
			 MS_EFORMAT);
	assert_int_equal(parse_tiny_with("<!-- tiny -->", "<!-- tiny", err),
			 MS_EFORMAT);
	assert_int_equal(parse_str("", err, sizeof(err)), MS_EFORMAT);
	assert_int_equal(parse_str("<opencv_storage><haar type_id=\"opencv-"
				   "haar-classifier\"><size>20 20</size>"
				   "<stages></stages></haar></opencv_storage>",
				   err, sizeof(err)),
			 MS_EUNSUPPORTED);
	/* nesting past the cap */
	for (int i = 0; i < 100; i++)
		k += (size_t)snprintf(deep + k, sizeof(deep) - k, "<a>");
	assert_int_equal(parse_str(deep, err, sizeof(err)), MS_ELIMIT);
	assert_non_null(strstr(err, "nested"));
}

static void test_match_greedy(void **state)
{
	/* detection 0 overlaps both truths; greedy by IoU gives it to the
	 * better one and detection 1 takes the other */
	struct ms_rect gt[2] = {{0, 0, 10, 10}, {6, 0, 10, 10}};
	struct ms_rect det[3] = {
		{1, 0, 10, 10}, {7, 0, 10, 10}, {100, 100, 5, 5}};
	int m[2];

	(void)state;
	assert_int_equal(vis_match_greedy(gt, 2, det, 3, 0.4, m), 2);
	assert_int_equal(m[0], 1);
	assert_int_equal(m[1], 1);
	assert_int_equal(vis_match_greedy(gt, 2, det + 2, 1, 0.4, m), 0);
	assert_int_equal(vis_match_greedy(gt, 2, det, 0, 0.4, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integral_naive),
		cmocka_unit_test(test_tiny_cascade_eval),
		cmocka_unit_test(test_real_cascade_photos),
		cmocka_unit_test(test_tree_tilted_cascades),
		cmocka_unit_test(test_detect_params),
		cmocka_unit_test(test_cascade_real_files),
		cmocka_unit_test(test_cascade_hostile),
		cmocka_unit_test(test_match_greedy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
