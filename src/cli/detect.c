/* detect.c - `moodsync detect`: finds faces in image files and prints them,
 * one line per image (JSON with --json). A bad image gets a one-line error
 * on stderr and the others still run; the exit status is 1 if any failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "moodsync/common.h"
#include "moodsync/vision.h"

#define MAX_FACES 256

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moodsync detect [--json] [--scale F] [--neighbors N]\n"
		"                       [--min-size PX] [--max-size PX] "
		"[--cascade FILE] IMAGE...\n\n"
		"Finds faces in JPEG/PNG files with a Haar cascade.\n"
		"  --json          one JSON object per image per line:\n"
		"                  {\"image\":..,\"width\":..,\"height\":..,"
		"\"faces\":[{\"x\":..,\"y\":..,\"w\":..,\"h\":..}]}\n"
		"  --scale F       pyramid step, 1.01..4 (default 1.1)\n"
		"  --neighbors N   windows needed to keep a face (default 5)\n"
		"  --min-size PX   smallest face side (default 30)\n"
		"  --max-size PX   largest face side (default: no limit)\n"
		"  --cascade FILE  OpenCV cascade XML (default %s)\n"
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

static void print_result(const char *path, const struct vis_image *img,
			 const struct ms_rect *faces, int n, int json)
{
	struct ms_buf b;

	if (!json) {
		printf("%s: %dx%d, %d face%s", path, img->w, img->h, n,
		       n == 1 ? "" : "s");
		for (int i = 0; i < n; i++)
			printf("%s %d,%d %dx%d", i ? ";" : ":", faces[i].x,
			       faces[i].y, faces[i].w, faces[i].h);
		printf("\n");
		return;
	}
	ms_buf_init(&b, 1 << 20);
	ms_buf_puts(&b, "{\"image\":");
	ms_buf_json_str(&b, path);
	ms_buf_printf(&b, ",\"width\":%d,\"height\":%d,\"faces\":[", img->w,
		      img->h);
	for (int i = 0; i < n; i++)
		ms_buf_printf(&b, "%s{\"x\":%d,\"y\":%d,\"w\":%d,\"h\":%d}",
			      i ? "," : "", faces[i].x, faces[i].y, faces[i].w,
			      faces[i].h);
	ms_buf_puts(&b, "]}");
	printf("%s\n", b.data ? b.data : "{}");
	ms_buf_release(&b);
}

int cmd_detect(int argc, char **argv)
{
	struct vis_detect_params params;
	const char *cascade_path = MS_DEFAULT_CASCADE;
	struct vis_cascade *cascade = NULL;
	struct vis_detector *det = NULL;
	struct ms_rect faces[MAX_FACES];
	char err[MS_ERRLEN];
	int json = 0, first = 0, failed = 0, status = 0, i, k;

	vis_detect_params_default(&params);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--cascade") == 0 &&
			   i + 1 < argc) {
			cascade_path = argv[++i];
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
	if (vis_cascade_load(cascade_path, &cascade, err, sizeof(err))) {
		fprintf(stderr, "moodsync detect: %s\n", err);
		return 1;
	}
	det = vis_detector_new(cascade);
	if (!det) {
		fprintf(stderr, "moodsync detect: out of memory\n");
		status = 1;
		goto out_free;
	}
	for (i = first; i < argc; i++) {
		struct vis_image img = {0, 0, NULL};
		int n = 0, rc;

		if (vis_image_load(argv[i], &img, err, sizeof(err))) {
			fprintf(stderr, "moodsync detect: %s\n", err);
			failed++;
			continue;
		}
		rc = vis_detect(det, &img, &params, faces, MAX_FACES, &n);
		if (rc) {
			fprintf(stderr, "moodsync detect: %s: %s\n", argv[i],
				ms_strerror(rc));
			failed++;
		} else {
			print_result(argv[i], &img, faces, MS_MIN(n, MAX_FACES),
				     json);
		}
		vis_image_release(&img);
	}
	fflush(stdout);
	status = failed ? 1 : 0;
out_free:
	vis_detector_free(det);
	vis_cascade_free(cascade);
	return status;
}
