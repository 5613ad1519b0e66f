/* eval_faces.c - `moodsync eval-faces`: runs the detector on the annotated
 * photos of $MOODSYNC_DATA/faces and scores it per source (the folder after
 * images/: wider_val, dlib_pascal) and overall: recall, precision, false
 * positives per image, with greedy one-to-one matching at IoU >= 0.4
 * (vis_match_greedy). bench/opencv_detect.cpp prints the same for OpenCV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "moodsync/common.h"
#include "moodsync/vision.h"

#define MAX_GT 4096      /* annotation lines */
#define MAX_SOURCES 16
#define MAX_FACES 1024
#define MIN_IOU 0.4

struct gt_face {
	char path[512];   /* relative to faces/ */
	char source[64];  /* path component after images/ */
	struct ms_rect box;
};

struct tally {
	char name[64];
	int images, gt, det, tp;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moodsync eval-faces [--data DIR] [--scale F] "
		"[--neighbors N]\n"
		"                           [--min-size PX] [--max-size PX] "
		"[--cascade FILE] [--json] [--dump]\n\n"
		"Scores face detection on DIR/faces/annotations.txt (DIR: "
		"--data, $MOODSYNC_DATA\nor %s): recall, precision and false "
		"positives per image, per source and\noverall; a detection "
		"matches a face at IoU >= %.1f (greedy, best first).\n"
		"  --json   one JSON object instead of the table\n"
		"  --dump   also print each image's detections (x,y,w,h)\n"
		"Detection flags as `moodsync detect` (defaults 1.1, 5, 30).\n",
		MS_DEFAULT_DATA, MIN_IOU);
}

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads "path x y w h" lines. Returns the count or -1 (message printed). */
static int read_annotations(const char *file, struct gt_face *gt, int max)
{
	char line[1024], err[MS_ERRLEN];
	FILE *f = fopen(file, "r");
	int n = 0, lineno = 0;

	if (!f) {
		fprintf(stderr, "moodsync eval-faces: cannot open %s (set "
				"MOODSYNC_DATA or --data)\n", file);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok[5];
		int k = 0, v[4];
		const char *img;

		lineno++;
		for (char *t = strtok_r(line, " \t\r\n", &save); t && k < 5;
		     t = strtok_r(NULL, " \t\r\n", &save))
			tok[k++] = t;
		if (k == 0 || tok[0][0] == '#')
			continue;
		if (k < 5 || n >= max) {
			snprintf(err, sizeof(err), k < 5 ? "bad line"
							 : "too many lines");
			goto bad;
		}
		for (int j = 0; j < 4; j++)
			if (ms_parse_int(tok[1 + j], -100000, 100000, &v[j])) {
				snprintf(err, sizeof(err), "bad number");
				goto bad;
			}
		snprintf(gt[n].path, sizeof(gt[n].path), "%s", tok[0]);
		img = strstr(tok[0], "images/");
		snprintf(gt[n].source, sizeof(gt[n].source), "%.*s",
			 img ? (int)strcspn(img + 7, "/") : 1,
			 img ? img + 7 : "?");
		gt[n].box = (struct ms_rect){v[0], v[1], v[2], v[3]};
		n++;
	}
	fclose(f);
	return n;
bad:
	fprintf(stderr, "moodsync eval-faces: %s:%d: %s\n", file, lineno, err);
	fclose(f);
	return -1;
}

static struct tally *tally_for(struct tally *t, int *nt, const char *name)
{
	for (int i = 0; i < *nt; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	if (*nt >= MAX_SOURCES)
		return NULL;
	memset(&t[*nt], 0, sizeof(t[*nt]));
	snprintf(t[*nt].name, sizeof(t[*nt].name), "%s", name);
	return &t[(*nt)++];
}

static void print_tally(const struct tally *t, int json, int last)
{
	double r = t->gt ? (double)t->tp / t->gt : 0;
	double p = t->det ? (double)t->tp / t->det : 0;
	double fp = t->images ? (double)(t->det - t->tp) / t->images : 0;

	if (json)
		printf("\"%s\":{\"images\":%d,\"faces\":%d,\"detections\":%d,"
		       "\"matched\":%d,\"recall\":%.4f,\"precision\":%.4f,"
		       "\"fp_per_image\":%.4f}%s",
		       t->name, t->images, t->gt, t->det, t->tp, r, p, fp,
		       last ? "" : ",");
	else
		printf("%-12s images %3d faces %3d detections %3d matched %3d  "
		       "recall %.3f precision %.3f fp/image %.2f\n",
		       t->name, t->images, t->gt, t->det, t->tp, r, p, fp);
}

static int cmp_source(const void *a, const void *b)
{
	return strcmp(((const struct tally *)a)->name,
		      ((const struct tally *)b)->name);
}

int cmd_eval_faces(int argc, char **argv)
{
	struct vis_detect_params params;
	const char *data = cli_data_dir(), *cascade_path = MS_DEFAULT_CASCADE;
	struct vis_cascade *cascade = NULL;
	struct vis_detector *det = NULL;
	struct gt_face *gt = NULL;
	struct ms_rect *faces = NULL, boxes[256];
	struct tally src[MAX_SOURCES], all = {"overall", 0, 0, 0, 0};
	char path[1024], err[MS_ERRLEN];
	int json = 0, dump = 0, ngt, nsrc = 0, status = 1;
	double ms = 0;

	vis_detect_params_default(&params);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = i + 1 < argc, bad = 0;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--dump") == 0) {
			dump = 1;
		} else if (strcmp(a, "--data") == 0 && more) {
			data = argv[++i];
		} else if (strcmp(a, "--cascade") == 0 && more) {
			cascade_path = argv[++i];
		} else if (strcmp(a, "--scale") == 0 && more) {
			bad = ms_parse_double(argv[++i], 1.01, 4.0,
					      &params.scale);
		} else if (strcmp(a, "--neighbors") == 0 && more) {
			bad = ms_parse_int(argv[++i], 0, 1000,
					   &params.min_neighbors);
		} else if (strcmp(a, "--min-size") == 0 && more) {
			bad = ms_parse_int(argv[++i], 0, VIS_MAX_SIDE,
					   &params.min_size);
		} else if (strcmp(a, "--max-size") == 0 && more) {
			bad = ms_parse_int(argv[++i], 0, VIS_MAX_SIDE,
					   &params.max_size);
		} else {
			fprintf(stderr, "moodsync eval-faces: bad argument "
					"'%s' (try --help)\n", a);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "moodsync eval-faces: bad value for "
					"%s: '%s'\n", a, argv[i]);
			return 2;
		}
	}
	gt = ms_calloc(MAX_GT, sizeof(*gt));
	faces = ms_calloc(MAX_FACES, sizeof(*faces));
	if (!gt || !faces) {
		fprintf(stderr, "moodsync eval-faces: out of memory\n");
		goto out_free;
	}
	snprintf(path, sizeof(path), "%s/faces/annotations.txt", data);
	ngt = read_annotations(path, gt, MAX_GT);
	if (ngt <= 0) {
		if (ngt == 0)
			fprintf(stderr, "moodsync eval-faces: %s is empty\n",
				path);
		goto out_free;
	}
	if (vis_cascade_load(cascade_path, &cascade, err, sizeof(err))) {
		fprintf(stderr, "moodsync eval-faces: %s\n", err);
		goto out_free;
	}
	det = vis_detector_new(cascade);
	if (!det) {
		fprintf(stderr, "moodsync eval-faces: out of memory\n");
		goto out_free;
	}
	/* annotation lines of one image are consecutive */
	for (int i = 0; i < ngt;) {
		struct vis_image img = {0, 0, NULL};
		struct tally *t = tally_for(src, &nsrc, gt[i].source);
		int j = i, nb = 0, n = 0, tp, rc;
		double t0;

		while (j < ngt && strcmp(gt[j].path, gt[i].path) == 0) {
			if (nb < (int)MS_ARRAY_LEN(boxes))
				boxes[nb++] = gt[j].box;
			j++;
		}
		snprintf(path, sizeof(path), "%s/faces/%s", data, gt[i].path);
		if (!t || vis_image_load(path, &img, err, sizeof(err))) {
			fprintf(stderr, "moodsync eval-faces: %s\n",
				t ? err : "too many sources");
			goto out_free;
		}
		t0 = cpu_ms();
		rc = vis_detect(det, &img, &params, faces, MAX_FACES, &n);
		ms += cpu_ms() - t0;
		vis_image_release(&img);
		if (rc) {
			fprintf(stderr, "moodsync eval-faces: %s: %s\n", path,
				ms_strerror(rc));
			goto out_free;
		}
		n = MS_MIN(n, MAX_FACES);
		tp = vis_match_greedy(boxes, nb, faces, n, MIN_IOU, NULL);
		if (tp < 0) {
			fprintf(stderr, "moodsync eval-faces: out of memory\n");
			goto out_free;
		}
		if (dump) {
			printf("%s", gt[i].path);
			for (int k = 0; k < n; k++)
				printf(" %d,%d,%d,%d", faces[k].x, faces[k].y,
				       faces[k].w, faces[k].h);
			printf("\n");
		}
		for (struct tally *u = t;; u = &all) {
			u->images++;
			u->gt += nb;
			u->det += n;
			u->tp += tp;
			if (u == &all)
				break;
		}
		i = j;
	}
	qsort(src, (size_t)nsrc, sizeof(src[0]), cmp_source);
	if (json) {
		printf("{\"scale\":%g,\"neighbors\":%d,\"min_size\":%d,"
		       "\"min_iou\":%.1f,\"cpu_ms\":%.1f,\"sources\":{",
		       params.scale, params.min_neighbors, params.min_size,
		       MIN_IOU, ms);
		for (int s = 0; s < nsrc; s++)
			print_tally(&src[s], 1, s == nsrc - 1);
		printf("},");
		print_tally(&all, 1, 1);
		printf("}\n");
	} else {
		for (int s = 0; s < nsrc; s++)
			print_tally(&src[s], 0, 0);
		print_tally(&all, 0, 1);
		printf("photos %d cpu_ms %.1f\n", all.images, ms);
	}
	status = 0;
out_free:
	vis_detector_free(det);
	vis_cascade_free(cascade);
	free(gt);
	free(faces);
	return status;
}
