/* vision_bench.c - times our detector the way bench/opencv_detect.cpp
 * times OpenCV's: thread CPU time of the detection call only (decode
 * excluded), best of --repeat runs per image, summed over the annotated
 * photos; or one image (--frame). Built by bench/vision.sh from the
 * sources with the release flags; not part of moodsync. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moodsync/vision.h"

#define CASCADE                                                                \
	"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Best-of-`repeat` CPU ms for one image; *n gets the face count. */
static double time_one(struct vis_detector *d, const struct vis_image *img,
		       const struct vis_detect_params *p, int repeat, int *n)
{
	struct ms_rect faces[256];
	double best = 1e30;

	for (int r = 0; r < repeat; r++) {
		double t0 = cpu_ms();

		if (vis_detect(d, img, p, faces, 256, n)) {
			fprintf(stderr, "vision_bench: detect failed\n");
			exit(1);
		}
		t0 = cpu_ms() - t0;
		if (t0 < best)
			best = t0;
	}
	return best;
}

int main(int argc, char **argv)
{
	const char *data = getenv("MOODSYNC_DATA"), *frame = NULL;
	struct vis_cascade *c = NULL;
	struct vis_detector *d;
	struct vis_detect_params p;
	char err[MS_ERRLEN], path[2048], line[1024], prev[1024] = "";
	int repeat = 1, n, nimg = 0;
	double total = 0;
	FILE *f;

	vis_detect_params_default(&p);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
			ms_parse_int(argv[++i], 1, 1000, &repeat);
		else if (strcmp(argv[i], "--frame") == 0 && i + 1 < argc)
			frame = argv[++i];
		else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data = argv[++i];
		else {
			fprintf(stderr, "usage: vision_bench [--data DIR] "
					"[--repeat N] [--frame IMG]\n");
			return 2;
		}
	}
	if (!data)
		data = "../shared/data";
	if (vis_cascade_load(CASCADE, &c, err, sizeof(err))) {
		fprintf(stderr, "vision_bench: %s\n", err);
		return 1;
	}
	d = vis_detector_new(c);
	if (!d)
		return 1;
	if (frame) {
		struct vis_image img;

		if (vis_image_load(frame, &img, err, sizeof(err))) {
			fprintf(stderr, "vision_bench: %s\n", err);
			return 1;
		}
		total = time_one(d, &img, &p, repeat, &n);
		printf("frame %dx%d faces %d cpu_ms %.2f\n", img.w, img.h, n,
		       total);
		vis_image_release(&img);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/faces/annotations.txt", data);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "vision_bench: cannot open %s\n", path);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct vis_image img;

		line[strcspn(line, " \t\n")] = '\0';
		if (!line[0] || strcmp(line, prev) == 0)
			continue;
		snprintf(prev, sizeof(prev), "%s", line);
		snprintf(path, sizeof(path), "%s/faces/%s", data, line);
		if (vis_image_load(path, &img, err, sizeof(err))) {
			fprintf(stderr, "vision_bench: %s\n", err);
			return 1;
		}
		total += time_one(d, &img, &p, repeat, &n);
		nimg++;
		vis_image_release(&img);
	}
	fclose(f);
	printf("photos %d cpu_ms %.1f\n", nimg, total);
out:
	vis_detector_free(d);
	vis_cascade_free(c);
	return 0;
}
