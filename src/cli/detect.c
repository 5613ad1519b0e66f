/* detect.c - `moodsync detect`: finds faces in image files, reads each
 * face's emotion (src/pipeline/pipeline.c, the path POST /api/frame takes)
 * and prints them, one line per image (JSON with --json). A bad image gets a one-line error
 * on stderr and the others still run; the exit status is 1 if any failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "moodsync/common.h"
#include "moodsync/vision.h"
#include "moodsync/pipeline.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moodsync detect [--json] [--scale F] [--neighbors N]\n"
		"                       [--min-size PX] [--max-size PX] "
		"[--cascade FILE]\n"
		"                       [--model FILE|none] [--tta] IMAGE...\n\n"
		"Finds faces in JPEG/PNG files with a Haar cascade and reads "
		"each face's emotion.\n"
		"  --json          one JSON object per image per line:\n"
		"                  {\"image\":..,\"width\":..,\"height\":..,"
		"\"faces\":[{\"x\":..,\"y\":..,\"w\":..,\"h\":..,\n"
		"                  \"emotion\":\"happy\",\"probs\":{\"angry\":..,...}}]}\n"
		"  --scale F       pyramid step, 1.01..4 (default 1.1)\n"
		"  --neighbors N   windows needed to keep a face (default 5)\n"
		"  --min-size PX   smallest face side (default 30)\n"
		"  --max-size PX   largest face side (default: no limit)\n"
		"  --cascade FILE  OpenCV cascade XML (default %s)\n"
		"  --model FILE    emotion model (default $MOODSYNC_MODEL or "
		MS_DEFAULT_MODEL "); none: faces only\n"
		"  --tta           average each face with its mirror image\n"
		"Boxes are pixels, top-left origin, largest first. Exit status "
		"1 if any image failed.\n",
		MS_DEFAULT_CASCADE);
}

/* Parses the detection flags shared with eval-faces; returns the number of
 * argv entries consumed (0: not one of ours, -1: bad value). */
static int parse_param(int argc, char **argv, int i,
		       struct vis_detect_params *p)
{
	const char *f = argv[i];

	if (strcmp(f, "--scale") && strcmp(f, "--neighbors") &&
	    strcmp(f, "--min-size") && strcmp(f, "--max-size"))
		return 0;
	if (i + 1 >= argc) {
		fprintf(stderr, "moodsync detect: %s needs a value\n", f);
		return -1;
	}
	if (strcmp(f, "--scale") == 0 &&
	    ms_parse_double(argv[i + 1], 1.01, 4.0, &p->scale) == MS_OK)
		return 2;
	if (strcmp(f, "--neighbors") == 0 &&
	    ms_parse_int(argv[i + 1], 0, 1000, &p->min_neighbors) == MS_OK)
		return 2;
	if (strcmp(f, "--min-size") == 0 &&
	    ms_parse_int(argv[i + 1], 0, VIS_MAX_SIDE, &p->min_size) == MS_OK)
		return 2;
	if (strcmp(f, "--max-size") == 0 &&
	    ms_parse_int(argv[i + 1], 0, VIS_MAX_SIDE, &p->max_size) == MS_OK)
		return 2;
	fprintf(stderr, "moodsync detect: bad value for %s: '%s'\n", f,
		argv[i + 1]);
	return -1;
}

static void print_result(const char *path, const struct pipe_frame *fr,
			 int json)
{
	struct ms_buf b;

	ms_buf_init(&b, 1 << 20);
	if (json) {
		ms_buf_puts(&b, "{\"image\":");
		ms_buf_json_str(&b, path);
		ms_buf_printf(&b, ",\"width\":%d,\"height\":%d,\"faces\":[",
			      fr->width, fr->height);
	} else {
		ms_buf_printf(&b, "%s: %dx%d, %d face%s", path, fr->width,
			      fr->height, fr->nfaces,
			      fr->nfaces == 1 ? "" : "s");
	}
	for (int i = 0; i < fr->nfaces; i++) {
		const struct pipe_face *f = &fr->faces[i];

		if (!json) {
			ms_buf_printf(&b, "%s %d,%d %dx%d", i ? ";" : ":",
				      f->box.x, f->box.y, f->box.w, f->box.h);
			if (f->emotion >= 0)
				ms_buf_printf(&b, " %s %.0f%%",
					      nn_emotion_names[f->emotion],
					      100.0 * f->probs[f->emotion]);
			continue;
		}
		ms_buf_printf(&b, "%s{\"x\":%d,\"y\":%d,\"w\":%d,\"h\":%d",
			      i ? "," : "", f->box.x, f->box.y, f->box.w,
			      f->box.h);
		if (f->emotion >= 0) {
			ms_buf_printf(&b, ",\"emotion\":\"%s\",\"probs\":{",
				      nn_emotion_names[f->emotion]);
			for (int k = 0; k < NN_CLASSES; k++)
				ms_buf_printf(&b, "%s\"%s\":%.4f", k ? "," : "",
					      nn_emotion_names[k],
					      (double)f->probs[k]);
			ms_buf_puts(&b, "}");
		}
		ms_buf_puts(&b, "}");
	}
	ms_buf_puts(&b, json ? "]}" : "");
	printf("%s\n", b.data ? b.data : "");
	ms_buf_release(&b);
}

int cmd_detect(int argc, char **argv)
{
	struct vis_detect_params params;
	struct pipe_frame_opts opts = {0};
	const char *cascade_path = MS_DEFAULT_CASCADE, *model;
	struct pipeline *pipe = NULL;
	struct pipe_worker *w = NULL;
	struct pipe_frame *fr = NULL;
	char err[MS_ERRLEN];
	int json = 0, first = 0, failed = 0, status = 0, i, k;
	int model_explicit;

	vis_detect_params_default(&params);
	model = cli_default_model(&model_explicit);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--tta") == 0) {
			opts.flip_tta = 1;
		} else if (strcmp(argv[i], "--cascade") == 0 &&
			   i + 1 < argc) {
			cascade_path = argv[++i];
		} else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
			model = argv[++i];
			model_explicit = 1;
		} else if ((k = parse_param(argc, argv, i, &params)) != 0) {
			if (k < 0)
				return 2;
			i += k - 1;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr,
				"moodsync detect: unknown option '%s' (try "
				"--help)\n", argv[i]);
			return 2;
		} else {
			break;
		}
	}
	first = i;
	if (first >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(model, "none") == 0) {
		model = NULL;
	} else if (!model_explicit && access(model, R_OK) != 0) {
		fprintf(stderr, "moodsync detect: no emotion model at %s; "
				"faces only (--model FILE)\n", model);
		model = NULL;
	}
	if (pipe_load(cascade_path, model, &pipe, err, sizeof(err))) {
		fprintf(stderr, "moodsync detect: %s\n", err);
		return 1;
	}
	w = pipe_worker_new(pipe);
	fr = malloc(sizeof(*fr));
	if (!w || !fr) {
		fprintf(stderr, "moodsync detect: out of memory\n");
		status = 1;
		goto out_free;
	}
	opts.params = &params;
	for (i = first; i < argc; i++) {
		struct vis_image img = {0, 0, NULL};
		int rc;

		if (vis_image_load(argv[i], &img, err, sizeof(err))) {
			fprintf(stderr, "moodsync detect: %s\n", err);
			failed++;
			continue;
		}
		rc = pipe_frame_run_image(w, &img, &opts, fr);
		if (rc) {
			fprintf(stderr, "moodsync detect: %s: %s\n", argv[i],
				ms_strerror(rc));
			failed++;
		} else {
			print_result(argv[i], fr, json);
		}
		vis_image_release(&img);
	}
	fflush(stdout);
	status = failed ? 1 : 0;
out_free:
	free(fr);
	pipe_worker_free(w);
	pipe_free(pipe);
	return status;
}
