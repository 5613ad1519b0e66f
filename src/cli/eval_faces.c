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
#include "cli/opt.h"
#include "moodsync/common.h"
#include "moodsync/vision.h"

#define MAX_GT 4096 /* annotation lines */
#define MAX_SOURCES 16
#define MAX_FACES 1024
#define MIN_IOU 0.4

struct gt_face {
	char path[512];	 /* relative to faces/ */
	char source[64]; /* path component after images/ */
	struct ms_rect box;
};

struct tally {
	char name[64];
	int images, gt, det, tp;
};

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
		fprintf(stderr,
			"moodsync eval-faces: cannot open %s (set "
			"MOODSYNC_DATA or --data)\n",
			file);
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
			snprintf(err, sizeof(err),
				 k < 5 ? "bad line" : "too many lines");
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

static void tally_rates(const struct tally *t, double *r, double *p, double *fp)
{
	*r = t->gt ? (double)t->tp / t->gt : 0;
	*p = t->det ? (double)t->tp / t->det : 0;
	*fp = t->images ? (double)(t->det - t->tp) / t->images : 0;
}

static void print_tally(const struct tally *t)
{
	double r, p, fp;

	tally_rates(t, &r, &p, &fp);
	printf("%-12s images %3d faces %3d detections %3d matched %3d  "
	       "recall %.3f precision %.3f fp/image %.2f\n",
	       t->name, t->images, t->gt, t->det, t->tp, r, p, fp);
}

static void tally_json(struct ms_json *j, const struct tally *t)
{
	double r, p, fp;

	tally_rates(t, &r, &p, &fp);
	ms_json_obj_open(j, t->name);
	ms_json_int(j, "images", t->images);
	ms_json_int(j, "faces", t->gt);
	ms_json_int(j, "detections", t->det);
	ms_json_int(j, "matched", t->tp);
	ms_json_num(j, "recall", r, 4);
	ms_json_num(j, "precision", p, 4);
	ms_json_num(j, "fp_per_image", fp, 4);
	ms_json_obj_close(j);
}

static int cmp_source(const void *a, const void *b)
{
	return strcmp(((const struct tally *)a)->name,
		      ((const struct tally *)b)->name);
}

/* What a run measured: per source and overall, and detector CPU time. */
struct report {
	struct tally src[MAX_SOURCES], all;
	int nsrc;
	double ms;
};

/* Detects faces in one image and adds it to its source's and the overall
 * tally; `gt` holds its `ngt` annotated faces. MS_OK or 1 (message
 * printed). */
static int score_image(struct vis_detector *det,
		       const struct vis_detect_params *params, const char *data,
		       const struct gt_face *gt, int ngt, int dump,
		       struct ms_rect *faces, struct report *rep)
{
	struct ms_rect boxes[256];
	struct tally *t = tally_for(rep->src, &rep->nsrc, gt[0].source);
	struct vis_image img = {0, 0, NULL};
	char path[1024], err[MS_ERRLEN];
	int nb = 0, n = 0, tp, rc;
	double t0;

	for (int k = 0; k < ngt && nb < (int)MS_ARRAY_LEN(boxes); k++)
		boxes[nb++] = gt[k].box;
	snprintf(path, sizeof(path), "%s/faces/%s", data, gt[0].path);
	if (!t || vis_image_load(path, &img, err, sizeof(err))) {
		fprintf(stderr, "moodsync eval-faces: %s\n",
			t ? err : "too many sources");
		return 1;
	}
	t0 = cpu_ms();
	rc = vis_detect(det, &img, params, faces, MAX_FACES, &n);
	rep->ms += cpu_ms() - t0;
	vis_image_release(&img);
	if (rc) {
		fprintf(stderr, "moodsync eval-faces: %s: %s\n", path,
			ms_strerror(rc));
		return 1;
	}
	n = MS_MIN(n, MAX_FACES);
	tp = vis_match_greedy(boxes, nb, faces, n, MIN_IOU, NULL);
	if (tp < 0) {
		fprintf(stderr, "moodsync eval-faces: out of memory\n");
		return 1;
	}
	if (dump) {
		printf("%s", gt[0].path);
		for (int k = 0; k < n; k++)
			printf(" %d,%d,%d,%d", faces[k].x, faces[k].y,
			       faces[k].w, faces[k].h);
		printf("\n");
	}
	for (struct tally *u = t;; u = &rep->all) {
		u->images++;
		u->gt += nb;
		u->det += n;
		u->tp += tp;
		if (u == &rep->all)
			break;
	}
	return MS_OK;
}

static int print_report(const struct report *rep,
			const struct vis_detect_params *params, int json)
{
	struct ms_json j;
	struct ms_buf b;
	int rc;

	if (!json) {
		for (int i = 0; i < rep->nsrc; i++)
			print_tally(&rep->src[i]);
		print_tally(&rep->all);
		printf("photos %d cpu_ms %.1f\n", rep->all.images, rep->ms);
		return MS_OK;
	}
	ms_buf_init(&b, 1 << 20);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_num(&j, "scale", params->scale, 6);
	ms_json_int(&j, "neighbors", params->min_neighbors);
	ms_json_int(&j, "min_size", params->min_size);
	ms_json_num(&j, "min_iou", MIN_IOU, 1);
	ms_json_num(&j, "cpu_ms", rep->ms, 1);
	ms_json_obj_open(&j, "sources");
	for (int i = 0; i < rep->nsrc; i++)
		tally_json(&j, &rep->src[i]);
	ms_json_obj_close(&j);
	tally_json(&j, &rep->all);
	ms_json_obj_close(&j);
	rc = ms_json_finish(&j);
	if (!rc)
		printf("%s\n", b.data);
	ms_buf_release(&b);
	return rc;
}

int cmd_eval_faces(int argc, char **argv)
{
	struct vis_detect_params params;
	const char *data = cli_data_dir(), *cascade_path = MS_DEFAULT_CASCADE;
	struct vis_cascade *cascade = NULL;
	struct vis_detector *det = NULL;
	struct gt_face *gt = NULL;
	struct ms_rect *faces = NULL;
	struct report *rep = NULL;
	char path[1024], err[MS_ERRLEN];
	int json = 0, dump = 0, ngt, status = 1, parsed;

	vis_detect_params_default(&params);
	const struct cli_opt opts[] = {
		CLI_OPT_STR("--data", "DIR", &data,
			    "shared data (default $MOODSYNC_DATA "
			    "or " MS_DEFAULT_DATA ")"),
		CLI_DETECT_OPTS(&params),
		CLI_OPT_STR("--cascade", "FILE", &cascade_path,
			    "OpenCV cascade XML"),
		CLI_OPT_FLAG("--json", &json,
			     "one JSON object instead of the table"),
		CLI_OPT_FLAG("--dump", &dump,
			     "also print each image's detections (x,y,w,h)"),
		CLI_OPT_END,
	};
	const struct cli_command cmd = {
		"eval-faces",
		"[options]",
		"Scores face detection on DIR/faces/annotations.txt: recall, "
		"precision and false positives per image, per source and "
		"overall; a detection matches a face at IoU >= 0.4 (greedy, "
		"best first).",
		opts,
		NULL,
		0,
		0};

	parsed = cli_parse(&cmd, argc, argv);
	if (parsed < 0)
		return cli_parse_status(parsed);
	gt = ms_calloc(MAX_GT, sizeof(*gt));
	faces = ms_calloc(MAX_FACES, sizeof(*faces));
	rep = calloc(1, sizeof(*rep));
	if (!gt || !faces || !rep) {
		fprintf(stderr, "moodsync eval-faces: out of memory\n");
		goto out_free;
	}
	snprintf(rep->all.name, sizeof(rep->all.name), "overall");
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
	for (int i = 0, j; i < ngt; i = j) {
		for (j = i; j < ngt && strcmp(gt[j].path, gt[i].path) == 0;)
			j++;
		if (score_image(det, &params, data, gt + i, j - i, dump, faces,
				rep))
			goto out_free;
	}
	qsort(rep->src, (size_t)rep->nsrc, sizeof(rep->src[0]), cmp_source);
	if (print_report(rep, &params, json)) {
		fprintf(stderr, "moodsync eval-faces: output too large\n");
		goto out_free;
	}
	status = 0;
out_free:
	vis_detector_free(det);
	vis_cascade_free(cascade);
	free(gt);
	free(faces);
	free(rep);
	return status;
}
