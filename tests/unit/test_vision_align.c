/* test_vision_align.c - unit tests for turning faces upright: the rotated
 * crop (vis_crop_resize_rot) against the rotation it claims, and the eye
 * finder (vis_eyes_find) on real faces of the shared photos, turned and
 * not, and on input that holds no eyes or no face at all. */
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

#define FACE_CASCADE                                                           \
	"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
#define EYE_CASCADE "/usr/share/opencv4/haarcascades/haarcascade_eye.xml"
#define PHOTO "images/dlib_pascal/2009_004587.jpg"

static const char *data_dir(void)
{
	const char *d = getenv("MOODSYNC_DATA");

	return d && *d ? d : "../shared/data";
}

/* A 160x120 mid-gray image with two dark discs (eyes) at (lx, ly) and
 * (rx, ry) and a bright bar below them (a mouth). */
static void draw_face(struct vis_image *img, double lx, double ly, double rx,
		      double ry)
{
	for (int y = 0; y < img->h; y++)
		for (int x = 0; x < img->w; x++) {
			double px = x + 0.5, py = y + 0.5;
			uint8_t v = 128;

			if (hypot(px - lx, py - ly) < 6 ||
			    hypot(px - rx, py - ry) < 6)
				v = 20;
			else if (px > 60 && px < 100 && py > 80 && py < 88)
				v = 240;
			img->px[(size_t)y * img->w + x] = v;
		}
}

/* Centroid of the pixels darker than 64 in columns [x0, x1). */
static void dark_centroid(const uint8_t *px, int w, int h, int x0, int x1,
			  double *cx, double *cy)
{
	double sx = 0, sy = 0, n = 0;

	for (int y = 0; y < h; y++)
		for (int x = x0; x < x1; x++)
			if (px[(size_t)y * w + x] < 64) {
				sx += x + 0.5;
				sy += y + 0.5;
				n++;
			}
	assert_true(n > 0);
	*cx = sx / n;
	*cy = sy / n;
}

static void test_rot_identity(void **state)
{
	struct vis_image img;
	const struct ms_rect box = {10, 5, 120, 100};
	uint8_t a[48 * 48], b[48 * 48];

	(void)state;
	assert_int_equal(vis_image_init(&img, 160, 120), MS_OK);
	draw_face(&img, 60, 50, 100, 50);
	vis_crop_resize(&img, box, 0.1f, 48, 48, a);
	vis_crop_resize_rot(&img, box, 0.1f, 0.0, 80, 60, 48, 48, b);
	assert_memory_equal(a, b, sizeof(a));
	/* a non-finite angle or pivot does not turn */
	vis_crop_resize_rot(&img, box, 0.1f, NAN, 80, 60, 48, 48, b);
	assert_memory_equal(a, b, sizeof(a));
	vis_crop_resize_rot(&img, box, 0.1f, 0.3, INFINITY, 60, 48, 48, b);
	assert_memory_equal(a, b, sizeof(a));
	vis_image_release(&img);
}

/* A face drawn tilted comes back level when its crop is turned by the
 * angle of its eye line about the eyes' midpoint. */
static void test_rot_upright(void **state)
{
	const double deg[] = {-30, -12, 7, 20, 30};
	const struct ms_rect all = {0, 0, 160, 120};
	struct vis_image level, tilted;
	uint8_t *out = malloc(160 * 120);

	(void)state;
	assert_non_null(out);
	assert_int_equal(vis_image_init(&level, 160, 120), MS_OK);
	assert_int_equal(vis_image_init(&tilted, 160, 120), MS_OK);
	draw_face(&level, 60, 50, 100, 50);
	for (size_t i = 0; i < sizeof(deg) / sizeof(deg[0]); i++) {
		double a = deg[i] * M_PI / 180, c = cos(a), s = sin(a);
		/* the eyes turned by +a about the midpoint (80, 50) */
		struct vis_eyes e = {(float)(80 - 20 * c), (float)(50 - 20 * s),
				     (float)(80 + 20 * c),
				     (float)(50 + 20 * s)};
		double lx, ly, rx, ry;
		long diff = 0, npx = 0;

		draw_face(&tilted, e.lx, e.ly, e.rx, e.ry);
		assert_true(fabs(vis_eyes_angle(&e) - a) < 1e-5);
		vis_crop_resize_rot(&tilted, all, 0.0f, vis_eyes_angle(&e),
				    0.5 * (e.lx + e.rx), 0.5 * (e.ly + e.ry),
				    160, 120, out);
		dark_centroid(out, 160, 120, 0, 80, &lx, &ly);
		dark_centroid(out, 160, 120, 80, 160, &rx, &ry);
		assert_true(fabs(lx - 60) < 0.5 && fabs(ly - 50) < 0.5);
		assert_true(fabs(rx - 100) < 0.5 && fabs(ry - 50) < 0.5);
		/* the eyes, and the mouth the drawing did not turn, level */
		for (int y = 30; y < 70; y++)
			for (int x = 40; x < 120; x++) {
				size_t k = (size_t)y * 160 + x;

				diff += abs((int)out[k] - (int)level.px[k]);
				npx++;
			}
		assert_true(diff / npx < 8);
	}
	vis_image_release(&level);
	vis_image_release(&tilted);
	free(out);
}

struct eye_env {
	struct vis_cascade *face, *eyes;
	struct vis_detector *det;
	struct vis_eye_finder *f;
	struct vis_image img;
	struct ms_rect box; /* the largest face of PHOTO */
};

static int eye_setup(void **state)
{
	struct eye_env *e = calloc(1, sizeof(*e));
	struct vis_detect_params p;
	char err[MS_ERRLEN], path[1024];
	int n = 0;

	if (!e)
		return -1;
	snprintf(path, sizeof(path), "%s/faces/%s", data_dir(), PHOTO);
	if (vis_cascade_load(FACE_CASCADE, &e->face, err, sizeof(err)) ||
	    vis_cascade_load(EYE_CASCADE, &e->eyes, err, sizeof(err)) ||
	    vis_image_load(path, &e->img, err, sizeof(err))) {
		fprintf(stderr, "%s (set MOODSYNC_DATA)\n", err);
		return -1;
	}
	e->det = vis_detector_new(e->face);
	e->f = vis_eye_finder_new(e->eyes);
	vis_detect_params_default(&p);
	if (!e->det || !e->f ||
	    vis_detect(e->det, &e->img, &p, &e->box, 1, &n) || n < 1)
		return -1;
	*state = e;
	return 0;
}

static int eye_teardown(void **state)
{
	struct eye_env *e = *state;

	vis_eye_finder_free(e->f);
	vis_detector_free(e->det);
	vis_cascade_free(e->face);
	vis_cascade_free(e->eyes);
	vis_image_release(&e->img);
	free(e);
	return 0;
}

/* Eyes of a real face: one each side, in the upper half of the box. */
static void check_eyes(const struct vis_eyes *y, struct ms_rect b)
{
	double sep = hypot(y->rx - y->lx, y->ry - y->ly);

	assert_true(y->lx > b.x && y->lx < b.x + b.w * 0.5);
	assert_true(y->rx > b.x + b.w * 0.5 && y->rx < b.x + b.w);
	assert_true(y->ly > b.y + b.h * 0.15 && y->ly < b.y + b.h * 0.6);
	assert_true(y->ry > b.y + b.h * 0.15 && y->ry < b.y + b.h * 0.6);
	assert_true(sep > 0.25 * b.w && sep < 0.65 * b.w);
}

static void test_eyes_real(void **state)
{
	struct eye_env *e = *state;
	const struct ms_rect all = {0, 0, e->img.w, e->img.h};
	struct vis_image turned;
	struct vis_eyes y, t;
	double cx = e->box.x + e->box.w * 0.5, cy = e->box.y + e->box.h * 0.5;
	int found = 0;

	assert_int_equal(vis_eyes_find(e->f, &e->img, e->box, &y, &found),
			 MS_OK);
	assert_int_equal(found, 1);
	check_eyes(&y, e->box);
	assert_true(fabs(vis_eyes_angle(&y)) < 10 * M_PI / 180);
	/* the photo turned about the face's centre: the face stays in its
	 * box, and the eye line turns with it */
	assert_int_equal(vis_image_init(&turned, e->img.w, e->img.h), MS_OK);
	for (int deg = -15; deg <= 15; deg += 30) {
		double a = deg * M_PI / 180, d;

		vis_crop_resize_rot(&e->img, all, 0.0f, a, cx, cy, e->img.w,
				    e->img.h, turned.px);
		assert_int_equal(
			vis_eyes_find(e->f, &turned, e->box, &t, &found),
			MS_OK);
		assert_int_equal(found, 1);
		/* sampling at R(a) q shows the photo turned by -a */
		d = (vis_eyes_angle(&t) - vis_eyes_angle(&y) + a) * 180 / M_PI;
		assert_true(fabs(d) < 5);
	}
	vis_image_release(&turned);
}

/* No face, no eyes, boxes too small or off the image: nothing found,
 * nothing read outside the image (the ASan build runs this too). */
static void test_eyes_bad_input(void **state)
{
	struct eye_env *e = *state;
	const struct ms_rect boxes[] = {
		{0, 0, 0, 0},
		{5, 5, 10, 10},
		{-60, -60, 100, 100},
		{e->img.w - 30, e->img.h - 30, 200, 200},
		{e->img.w + 10, 0, 100, 100},
		{0, -500, 100, 100},
		{-2000000000, -2000000000, 100, 100},
	};
	struct vis_image flat, one;
	struct vis_eyes y = {1, 2, 3, 4};
	int found = 1;

	(void)state;
	for (size_t i = 0; i < sizeof(boxes) / sizeof(boxes[0]); i++) {
		found = -1;
		assert_int_equal(
			vis_eyes_find(e->f, &e->img, boxes[i], &y, &found),
			MS_OK);
		assert_true(found == 0 || found == 1);
		if (i < 2)
			assert_int_equal(found, 0);
	}
	assert_int_equal(vis_image_init(&flat, 200, 200), MS_OK);
	memset(flat.px, 128, 200 * 200);
	y = (struct vis_eyes){1, 2, 3, 4};
	assert_int_equal(vis_eyes_find(e->f, &flat,
				       (struct ms_rect){20, 20, 160, 160}, &y,
				       &found),
			 MS_OK);
	assert_int_equal(found, 0);
	assert_true(y.lx == 1 && y.ly == 2 && y.rx == 3 && y.ry == 4);
	assert_int_equal(vis_image_init(&one, 1, 1), MS_OK);
	assert_int_equal(vis_eyes_find(e->f, &one, (struct ms_rect){0, 0, 1, 1},
				       &y, &found),
			 MS_OK);
	assert_int_equal(found, 0);
	assert_int_equal(vis_eyes_find(NULL, &flat,
				       (struct ms_rect){20, 20, 160, 160}, &y,
				       &found),
			 MS_OK);
	assert_int_equal(found, 0);
	assert_null(vis_eye_finder_new(NULL));
	vis_eye_finder_free(NULL);
	vis_image_release(&flat);
	vis_image_release(&one);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rot_identity),
		cmocka_unit_test(test_rot_upright),
		cmocka_unit_test_setup_teardown(test_eyes_real, eye_setup,
						eye_teardown),
		cmocka_unit_test_setup_teardown(test_eyes_bad_input, eye_setup,
						eye_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
