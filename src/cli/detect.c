/* detect.c - `moodsync detect`: finds faces in image files, reads each
 * face's emotion (src/pipeline/pipeline.c, the path POST /api/frame takes)
 * and prints them, one line per image (JSON with --json). A bad image gets a
 * one-line error on stderr and the others still run; the exit status is 1 if
 * any failed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opt.h"
#include "moodsync/common.h"
#include "moodsync/vision.h"
#include "moodsync/pipeline.h"

/* "photo.jpg: 640x480, 1 face: 10,20 30x30 happy 91%" */
static void print_text(const char *path, const struct pipe_frame *fr)
{
	printf("%s: %dx%d, %d face%s", path, fr->width, fr->height, fr->nfaces,
	       fr->nfaces == 1 ? "" : "s");
	for (int i = 0; i < fr->nfaces; i++) {
		const struct pipe_face *f = &fr->faces[i];

		printf("%s %d,%d %dx%d", i ? ";" : ":", f->box.x, f->box.y,
		       f->box.w, f->box.h);
		if (f->emotion >= 0)
			printf(" %s %.0f%%", nn_emotion_names[f->emotion],
			       100.0 * f->probs[f->emotion]);
	}
	printf("\n");
}

/* One JSON object per image and line. MS_OK, or the writer's error. */
static int print_json(const char *path, const struct pipe_frame *fr)
{
	struct ms_json j;
	struct ms_buf b;
	int rc;

	ms_buf_init(&b, 1 << 20);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_str(&j, "image", path);
	ms_json_int(&j, "width", fr->width);
	ms_json_int(&j, "height", fr->height);
	ms_json_arr_open(&j, "faces");
	for (int i = 0; i < fr->nfaces; i++) {
		const struct pipe_face *f = &fr->faces[i];

		ms_json_obj_open(&j, NULL);
		ms_json_int(&j, "x", f->box.x);
		ms_json_int(&j, "y", f->box.y);
		ms_json_int(&j, "w", f->box.w);
		ms_json_int(&j, "h", f->box.h);
		if (f->aligned) {
			ms_json_arr_open(&j, "eyes");
			ms_json_num(&j, NULL, f->eyes.lx, 1);
			ms_json_num(&j, NULL, f->eyes.ly, 1);
			ms_json_num(&j, NULL, f->eyes.rx, 1);
			ms_json_num(&j, NULL, f->eyes.ry, 1);
			ms_json_arr_close(&j);
			ms_json_num(&j, "tilt",
				    vis_eyes_angle(&f->eyes) * 180.0 / M_PI, 1);
		}
		if (f->emotion >= 0) {
			ms_json_str(&j, "emotion",
				    nn_emotion_names[f->emotion]);
			ms_json_obj_open(&j, "probs");
			for (int k = 0; k < NN_CLASSES; k++)
				ms_json_num(&j, nn_emotion_names[k],
					    (double)f->probs[k], 4);
			ms_json_obj_close(&j);
		}
		ms_json_obj_close(&j);
	}
	ms_json_arr_close(&j);
	ms_json_obj_close(&j);
	rc = ms_json_finish(&j);
	if (!rc)
		printf("%s\n", b.data);
	ms_buf_release(&b);
	return rc;
}

/* The model to load: NULL for "none" or a missing default model. */
static const char *model_or_null(const char *model, int explicit_model)
{
	if (strcmp(model, "none") == 0)
		return NULL;
	if (!explicit_model && access(model, R_OK) != 0) {
		fprintf(stderr,
			"moodsync detect: no emotion model at %s; "
			"faces only (--model FILE)\n",
			model);
		return NULL;
	}
	return model;
}

/* Runs the pipeline on each image and prints it; the count that failed. */
static int detect_all(struct pipe_worker *w, const struct pipe_frame_opts *opts,
		      char **paths, int n, int json, struct pipe_frame *fr)
{
	char err[MS_ERRLEN];
	int failed = 0;

	for (int i = 0; i < n; i++) {
		struct vis_image img = {0, 0, NULL};
		int rc;

		if (vis_image_load(paths[i], &img, err, sizeof(err))) {
			fprintf(stderr, "moodsync detect: %s\n", err);
			failed++;
			continue;
		}
		rc = pipe_frame_run_image(w, &img, opts, fr);
		if (rc) {
			fprintf(stderr, "moodsync detect: %s: %s\n", paths[i],
				ms_strerror(rc));
			failed++;
		} else if (!json) {
			print_text(paths[i], fr);
		} else if ((rc = print_json(paths[i], fr)) != MS_OK) {
			fprintf(stderr, "moodsync detect: %s: %s\n", paths[i],
				ms_strerror(rc));
			failed++;
		}
		vis_image_release(&img);
	}
	fflush(stdout);
	return failed;
}

int cmd_detect(int argc, char **argv)
{
	struct vis_detect_params params;
	struct pipe_frame_opts opts = {.tta = NN_TTA_FLIP};
	const char *cascade_path = MS_DEFAULT_CASCADE, *model;
	const char *eyes_path = MS_DEFAULT_EYE_CASCADE;
	struct pipeline *pipe = NULL;
	struct pipe_worker *w = NULL;
	struct pipe_frame *fr = NULL;
	char err[MS_ERRLEN];
	int json = 0, status = 1, first, model_explicit;
	int align_on = 0, align_off = 0;

	vis_detect_params_default(&params);
	model = cli_default_model(&model_explicit);
	const struct cli_opt opts_table[] = {
		CLI_OPT_FLAG(
			"--json", &json,
			"one JSON object per image and line: {\"image\", "
			"\"width\", \"height\", \"faces\": [{\"x\", \"y\", "
			"\"w\", \"h\", \"emotion\", \"probs\"}]}"),
		CLI_DETECT_OPTS(&params),
		CLI_OPT_STR("--cascade", "FILE", &cascade_path,
			    "OpenCV cascade XML"),
		{CLI_STR, "--model", "FILE", &model, 0, 0, NULL,
		 "emotion model, none: faces only (default $MOODSYNC_MODEL "
		 "or " MS_DEFAULT_MODEL ")",
		 &model_explicit},
		CLI_OPT_FLAG("--tta", &opts.tta,
			     "average each face with its mirror image (as "
			     "--tta-mode flip)"),
		CLI_OPT_ENUM("--tta-mode", &opts.tta, nn_tta_names,
			     "test-time augmentation: none, flip (2 passes), "
			     "crops (4 corner + centre windows and their "
			     "mirrors, 10 passes)"),
		CLI_OPT_FLAG("--align", &align_on,
			     "turn each face upright from its eyes before "
			     "reading its emotion" ALIGN_DEFAULT_NOTE
			     "; JSON gets \"eyes\" [lx, ly, rx, ry] and "
			     "\"tilt\" (degrees) for faces whose eyes were "
			     "found"),
		CLI_OPT_FLAG("--no-align", &align_off,
			     "read each face as the detector boxed "
			     "it" NO_ALIGN_DEFAULT_NOTE),
		CLI_OPT_STR("--eyes", "FILE", &eyes_path,
			    "eye cascade XML for alignment"),
		CLI_OPT_END,
	};
	const struct cli_command cmd = {
		"detect",
		"[options] IMAGE...",
		"Finds faces in JPEG/PNG files with a Haar cascade and reads "
		"each face's emotion.",
		opts_table,
		"Boxes are pixels, top-left origin, largest first. Exit status "
		"1 if any image failed.",
		1,
		-1};

	first = cli_parse(&cmd, argc, argv);
	if (first < 0)
		return cli_parse_status(first);
	opts.align = cli_align_choice("detect", align_on, align_off);
	if (opts.align < 0)
		return 2;
	model = model_or_null(model, model_explicit);
	if (pipe_load(cascade_path, model, &pipe, err, sizeof(err)) ||
	    (opts.align && pipe_load_eyes(pipe, eyes_path, err, sizeof(err)))) {
		fprintf(stderr, "moodsync detect: %s\n", err);
		pipe_free(pipe);
		return 1;
	}
	w = pipe_worker_new(pipe);
	fr = malloc(sizeof(*fr));
	if (!w || !fr) {
		fprintf(stderr, "moodsync detect: out of memory\n");
		goto out_free;
	}
	opts.params = &params;
	status = detect_all(w, &opts, argv + first, argc - first, json, fr) ? 1
									    : 0;
out_free:
	free(fr);
	pipe_worker_free(w);
	pipe_free(pipe);
	return status;
}
