/* test_pipeline.c - unit tests for the pipeline's face alignment: a face
 * without eyes, or a pipeline without an eye cascade, is classified
 * exactly as without alignment; a real face gets its eyes and a turned
 * crop; odd boxes and frames are safe. Uses the tiny test model. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "moodsync/pipeline.h"

#define FACE_CASCADE                                                           \
	"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
#define EYE_CASCADE "/usr/share/opencv4/haarcascades/haarcascade_eye.xml"
#define MODEL "tests/data/tiny.msnn"
/* a face whose eye line is tilted by about 8 degrees (2008_001322.jpg) */
#define PHOTO "images/dlib_pascal/2008_001322.jpg"

static const char *data_dir(void)
{
	const char *d = getenv("MOODSYNC_DATA");

	return d && *d ? d : "../shared/data";
}

static struct pipeline *load(int eyes)
{
	struct pipeline *p = NULL;
	char err[MS_ERRLEN];

	if (pipe_load(FACE_CASCADE, MODEL, &p, err, sizeof(err)) ||
	    (eyes && pipe_load_eyes(p, EYE_CASCADE, err, sizeof(err))))
		fail_msg("%s", err);
	return p;
}

static void run(struct pipe_worker *w, const struct vis_image *img,
		struct ms_rect box, int align, struct pipe_face *f)
{
	struct pipe_frame_opts o = {0};

	o.align = align;
	assert_int_equal(pipe_face_classify(w, img, box, &o, f), MS_OK);
}

static void test_align_no_eyes(void **state)
{
	struct pipeline *p = load(1), *q = load(0);
	struct pipe_worker *w = pipe_worker_new(p), *wq = pipe_worker_new(q);
	const struct ms_rect box = {30, 20, 120, 120};
	struct vis_image img;
	struct pipe_face off, on;

	(void)state;
	assert_non_null(w);
	assert_non_null(wq);
	/* a smooth ramp: a face to classify, no eyes to find */
	assert_int_equal(vis_image_init(&img, 200, 160), MS_OK);
	for (int y = 0; y < img.h; y++)
		for (int x = 0; x < img.w; x++)
			img.px[y * img.w + x] = (uint8_t)(x + y / 2);
	run(w, &img, box, 0, &off);
	run(w, &img, box, 1, &on);
	assert_int_equal(on.aligned, 0);
	assert_int_equal(on.emotion, off.emotion);
	assert_memory_equal(on.probs, off.probs, sizeof(on.probs));
	/* alignment asked of a pipeline without an eye cascade: none */
	run(wq, &img, box, 1, &on);
	assert_int_equal(on.aligned, 0);
	assert_memory_equal(on.probs, off.probs, sizeof(on.probs));
	vis_image_release(&img);
	pipe_worker_free(w);
	pipe_worker_free(wq);
	pipe_free(p);
	pipe_free(q);
}

static void test_align_real_face(void **state)
{
	struct pipeline *p = load(1);
	struct pipe_worker *w = pipe_worker_new(p);
	struct pipe_frame_opts o = {0};
	struct pipe_frame *fr = malloc(sizeof(*fr));
	struct vis_image img;
	struct pipe_face off, on;
	char err[MS_ERRLEN], path[1024];
	int aligned = 0;

	(void)state;
	assert_non_null(w);
	assert_non_null(fr);
	snprintf(path, sizeof(path), "%s/faces/%s", data_dir(), PHOTO);
	if (vis_image_load(path, &img, err, sizeof(err)))
		fail_msg("%s (set MOODSYNC_DATA)", err);
	o.align = 1;
	assert_int_equal(pipe_frame_run_image(w, &img, &o, fr), MS_OK);
	assert_true(fr->nfaces >= 1);
	for (int i = 0; i < fr->nfaces; i++) {
		const struct pipe_face *f = &fr->faces[i];
		double deg = vis_eyes_angle(&f->eyes) * 180 / M_PI;

		if (!f->aligned)
			continue;
		aligned++;
		assert_true(f->eyes.lx > f->box.x &&
			    f->eyes.rx < f->box.x + f->box.w);
		assert_true(fabs(deg) <= VIS_EYES_MAX_DEG);
		/* a tilted face's turned crop reads differently */
		if (fabs(deg) > 3) {
			run(w, &img, f->box, 0, &off);
			run(w, &img, f->box, 1, &on);
			assert_int_equal(on.aligned, 1);
			assert_memory_not_equal(on.probs, off.probs,
						sizeof(on.probs));
		}
	}
	assert_true(aligned >= 1);
	vis_image_release(&img);
	free(fr);
	pipe_worker_free(w);
	pipe_free(p);
}

/* Boxes from outside callers: empty, tiny, off the image, at its edges. */
static void test_align_bad_boxes(void **state)
{
	struct pipeline *p = load(1);
	struct pipe_worker *w = pipe_worker_new(p);
	const struct ms_rect boxes[] = {
		{0, 0, 0, 0},	      {0, 0, 3, 3},
		{-50, -50, 100, 100}, {90, 70, 100, 100},
		{500, 500, 40, 40},   {0, 0, 100000, 100000},
		{-1, -1, 2, 2},	      {-2000000000, 0, 30, 30},
	};
	struct vis_image img;
	struct pipe_face f;
	char err[MS_ERRLEN];
	struct pipeline *bad = NULL;

	(void)state;
	assert_non_null(w);
	assert_int_equal(vis_image_init(&img, 120, 90), MS_OK);
	for (int k = 0; k < 120 * 90; k++)
		img.px[k] = (uint8_t)((k * 2654435761u) >> 24);
	for (size_t i = 0; i < sizeof(boxes) / sizeof(boxes[0]); i++) {
		run(w, &img, boxes[i], 1, &f);
		assert_true(f.emotion >= 0 && f.emotion < NN_CLASSES);
	}
	err[0] = '\0';
	assert_int_equal(pipe_load(FACE_CASCADE, NULL, &bad, err, sizeof(err)),
			 MS_OK);
	assert_int_not_equal(
		pipe_load_eyes(bad, "/nonexistent/eyes.xml", err, sizeof(err)),
		MS_OK);
	assert_true(err[0] != '\0');
	pipe_free(bad);
	vis_image_release(&img);
	pipe_worker_free(w);
	pipe_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_align_no_eyes),
		cmocka_unit_test(test_align_real_face),
		cmocka_unit_test(test_align_bad_boxes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
