/* align.c - does turning a face upright from its eyes help the emotion
 * model? Two measurements of the pipeline's alignment (pipe_face_classify
 * with opts.align, src/vision/eyes.c):
 *   fer:    each FER-2013 face is upscaled 3x into a photo-like canvas,
 *           turned by -30..+30 degrees, then classified with and without
 *           alignment, on the known face square and on the box the face
 *           cascade finds; per angle: accuracy, eyes found, angle error.
 *   photos: the photos of DATA/faces: eyes found per detected face, the
 *           eye-line angles, and the time alignment adds per face.
 * Usage: align fer CASCADE EYES MODEL FER.bin [N]
 *        align photos CASCADE EYES MODEL DATA_DIR [REPS] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/pipeline.h"

#define FER_SIDE 48
#define FER_REC (1 + FER_SIDE * FER_SIDE)
#define UP 3	  /* face upscale into the canvas */
#define BORDER 48 /* canvas border around it, pixels, edge-replicated */
#define CANVAS (FER_SIDE * UP + 2 * BORDER)

static const int angles[] = {-30, -20, -10, 0, 10, 20, 30};
#define NA (sizeof(angles) / sizeof(angles[0]))

/* Per angle: on the known square ("sq") and the cascade's box ("det"). */
struct tally {
	long n, sq_off, sq_on, sq_eyes, det_found, det_off, det_on, det_eyes;
	double sq_err; /* sum of |estimated - true| eye-line angle, degrees */
	/* faces whose eyes were found here and upright, and the sum of
	 * |(estimate here - estimate upright) - true turn|: the estimator's
	 * own error, without the tilt the face had to begin with */
	long sq_both;
	double sq_rel;
	/* faces right with alignment only, and without it only */
	long sq_gain, sq_lose, det_gain, det_lose;
};

static int classify(struct pipe_worker *w, const struct vis_image *img,
		    struct ms_rect box, int align, int label,
		    struct pipe_face *f)
{
	struct pipe_frame_opts o = {0};

	o.align = align;
	if (pipe_face_classify(w, img, box, &o, f))
		return 0;
	return f->emotion == label;
}

/* One face at every angle into t[0..NA). */
static int fer_face(struct pipe_worker *w, struct vis_detector *det,
		    const struct vis_image *canvas, int label,
		    struct vis_image *turned, struct tally *t)
{
	const struct ms_rect sq = {BORDER, BORDER, FER_SIDE * UP,
				   FER_SIDE * UP};
	const struct ms_rect all = {0, 0, CANVAS, CANVAS};
	struct vis_detect_params params;
	struct pipe_face f;
	double upright = NAN; /* eye line of the unturned face, degrees */

	vis_detect_params_default(&params);
	params.min_size = FER_SIDE * UP / 2;
	for (size_t a = 0; a < NA; a++) {
		/* the unturned face first, for the relative error */
		size_t ai = a == 0 ? NA / 2 : a <= NA / 2 ? a - 1 : a;
		double rad = angles[ai] * M_PI / 180.0;
		struct ms_rect box;
		int nf = 0, on, off;

		/* sampling at R(rad) q shows the face turned by -rad */
		vis_crop_resize_rot(canvas, all, 0.0f, rad, CANVAS / 2.0,
				    CANVAS / 2.0, CANVAS, CANVAS, turned->px);
		t[ai].n++;
		off = classify(w, turned, sq, 0, label, &f);
		on = classify(w, turned, sq, 1, label, &f);
		t[ai].sq_off += off;
		t[ai].sq_on += on;
		t[ai].sq_gain += on && !off;
		t[ai].sq_lose += off && !on;
		if (f.aligned) {
			double est = vis_eyes_angle(&f.eyes) * 180.0 / M_PI;

			t[ai].sq_eyes++;
			t[ai].sq_err += fabs(est + angles[ai]);
			if (angles[ai] == 0)
				upright = est;
			else if (!isnan(upright)) {
				t[ai].sq_both++;
				t[ai].sq_rel +=
					fabs(est - upright + angles[ai]);
			}
		}
		if (vis_detect(det, turned, &params, &box, 1, &nf))
			return 1;
		if (nf == 0)
			continue;
		t[ai].det_found++;
		off = classify(w, turned, box, 0, label, &f);
		on = classify(w, turned, box, 1, label, &f);
		t[ai].det_off += off;
		t[ai].det_on += on;
		t[ai].det_gain += on && !off;
		t[ai].det_lose += off && !on;
		t[ai].det_eyes += f.aligned;
	}
	return 0;
}

static double pct(long a, long b)
{
	return 100.0 * (double)a / (double)(b ? b : 1);
}

/* Standard error of a paired difference of accuracies, in points: `gain`
 * faces right only with, `lose` only without, of n. */
static double paired_se(long gain, long lose, long n)
{
	double m = n ? (double)(gain - lose) / n : 0;
	double var = n ? ((double)(gain + lose) / n - m * m) / n : 0;

	return 100.0 * sqrt(var > 0 ? var : 0);
}

static void fer_print(const struct tally *t)
{
	printf("angle | square: acc off  acc on   on-off   se    eyes   |err|  "
	       "rel | cascade: found   acc off  acc on   on-off   se    "
	       "eyes\n");
	for (size_t a = 0; a < NA; a++)
		printf("%+4d  |         %5.2f%%  %5.2f%%  %+5.2f  %4.2f  "
		       "%5.1f%%  "
		       "%4.1f  %4.1f |          %5.1f%%  %5.2f%%  %5.2f%%  "
		       "%+5.2f  %4.2f  %5.1f%%\n",
		       angles[a], pct(t[a].sq_off, t[a].n),
		       pct(t[a].sq_on, t[a].n),
		       pct(t[a].sq_on - t[a].sq_off, t[a].n),
		       paired_se(t[a].sq_gain, t[a].sq_lose, t[a].n),
		       pct(t[a].sq_eyes, t[a].n),
		       t[a].sq_err / (double)(t[a].sq_eyes ? t[a].sq_eyes : 1),
		       t[a].sq_rel / (double)(t[a].sq_both ? t[a].sq_both : 1),
		       pct(t[a].det_found, t[a].n),
		       pct(t[a].det_off, t[a].det_found),
		       pct(t[a].det_on, t[a].det_found),
		       pct(t[a].det_on - t[a].det_off, t[a].det_found),
		       paired_se(t[a].det_gain, t[a].det_lose, t[a].det_found),
		       pct(t[a].det_eyes, t[a].det_found));
}

static int run_fer(struct pipeline *p, const char *cascade_path,
		   const char *fer, const char *nstr)
{
	struct tally t[NA];
	struct vis_cascade *cascade = NULL;
	struct vis_detector *det = NULL;
	struct pipe_worker *w = pipe_worker_new(p);
	struct vis_image face = {0}, up = {0}, canvas = {0}, turned = {0};
	char err[MS_ERRLEN];
	uint8_t *data = NULL;
	size_t len = 0;
	long n, total;
	int rc = 1;

	memset(t, 0, sizeof(t));
	if (!w || vis_cascade_load(cascade_path, &cascade, err, sizeof(err)) ||
	    ms_file_read(fer, 1u << 30, &data, &len, err, sizeof(err))) {
		fprintf(stderr, "align: %s\n", w ? err : "out of memory");
		goto out;
	}
	total = n = (long)(len / FER_REC);
	if (nstr) {
		int64_t lim;

		if (ms_parse_i64(nstr, 1, n, &lim)) {
			fprintf(stderr, "align: bad N '%s'\n", nstr);
			goto out;
		}
		n = (long)lim;
	}
	det = vis_detector_new(cascade);
	if (!det || vis_image_init(&face, FER_SIDE, FER_SIDE) ||
	    vis_image_init(&canvas, CANVAS, CANVAS) ||
	    vis_image_init(&turned, CANVAS, CANVAS))
		goto out;
	/* records are sorted by label: stride through them for a fair mix */
	for (long r = 0; r < n; r++) {
		const uint8_t *rec = data + (r * total / n) * FER_REC;

		if (rec[0] >= NN_CLASSES)
			continue;
		memcpy(face.px, rec + 1, FER_SIDE * FER_SIDE);
		vis_image_release(&up);
		if (vis_image_resize(&face, FER_SIDE * UP, FER_SIDE * UP, &up))
			goto out;
		vis_crop_resize(
			&up, (struct ms_rect){-BORDER, -BORDER, CANVAS, CANVAS},
			0.0f, CANVAS, CANVAS, canvas.px);
		if (fer_face(w, det, &canvas, rec[0], &turned, t))
			goto out;
	}
	printf("FER-2013 %s: %ld faces, upscaled %dx into %dx%d, turned\n", fer,
	       t[0].n, UP, CANVAS, CANVAS);
	fer_print(t);
	rc = 0;
out:
	free(data);
	vis_image_release(&face);
	vis_image_release(&up);
	vis_image_release(&canvas);
	vis_image_release(&turned);
	vis_detector_free(det);
	vis_cascade_free(cascade);
	pipe_worker_free(w);
	return rc;
}

/* ---- photos ---------------------------------------------------------- */

#define MAX_IMAGES 256

/* The distinct image paths of DATA/faces/annotations.txt, in order. */
static int read_images(const char *dir, char paths[][1024], int max)
{
	char file[1024], line[400], last[400] = "";
	FILE *fp;
	int n = 0;

	snprintf(file, sizeof(file), "%s/faces/annotations.txt", dir);
	fp = fopen(file, "r");
	if (!fp)
		return -1;
	while (n < max && fgets(line, sizeof(line), fp)) {
		char *sp = strchr(line, ' ');

		if (!sp || line[0] == '#')
			continue;
		*sp = '\0';
		if (strcmp(line, last) == 0)
			continue;
		snprintf(last, sizeof(last), "%s", line);
		snprintf(paths[n++], 1024, "%s/faces/%s", dir, line);
	}
	fclose(fp);
	return n;
}

/* Best of `reps` runs of the pipeline on img, ms; *fr the last run. */
static double best_run(struct pipe_worker *w, const struct vis_image *img,
		       int align, int reps, struct pipe_frame *fr)
{
	struct pipe_frame_opts o = {0};
	double best = 1e30;

	o.align = align;
	for (int r = 0; r < reps; r++) {
		double t0 = ms_now_ms();

		if (pipe_frame_run_image(w, img, &o, fr))
			return -1;
		best = MS_MIN(best, ms_now_ms() - t0);
	}
	return best;
}

/* Best of `reps` eye searches in each face of fr, summed, ms. */
static double time_eyes(struct vis_eye_finder *ef, const struct vis_image *img,
			const struct pipe_frame *fr, int reps)
{
	double sum = 0;

	for (int k = 0; k < fr->nfaces; k++) {
		double best = 1e30;

		for (int r = 0; r < reps; r++) {
			double t0 = ms_now_ms();
			struct vis_eyes e;
			int found;

			vis_eyes_find(ef, img, fr->faces[k].box, &e, &found);
			best = MS_MIN(best, ms_now_ms() - t0);
		}
		sum += best;
	}
	return sum;
}

static int run_photos(struct pipeline *p, const char *eye_path, const char *dir,
		      const char *rstr)
{
	static char paths[MAX_IMAGES][1024];
	struct pipe_worker *w = pipe_worker_new(p);
	struct pipe_frame *fr = malloc(sizeof(*fr));
	struct vis_cascade *ec = NULL;
	struct vis_eye_finder *ef = NULL;
	char err[MS_ERRLEN];
	double t_off = 0, t_on = 0, t_eyes = 0;
	long faces = 0, eyes = 0, tilted10 = 0;
	int n = read_images(dir, paths, MAX_IMAGES), reps = 5, rc = 1;
	int64_t r64;

	if (rstr && !ms_parse_i64(rstr, 1, 1000, &r64))
		reps = (int)r64;
	if (!w || !fr || n <= 0) {
		fprintf(stderr, "align: no %s/faces/annotations.txt\n", dir);
		goto out;
	}
	if (vis_cascade_load(eye_path, &ec, err, sizeof(err)) ||
	    !(ef = vis_eye_finder_new(ec))) {
		fprintf(stderr, "align: %s\n", err);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		struct vis_image img;
		double off, on;

		if (vis_image_load(paths[i], &img, err, sizeof(err))) {
			fprintf(stderr, "align: %s\n", err);
			goto out;
		}
		off = best_run(w, &img, 0, reps, fr);
		on = best_run(w, &img, 1, reps, fr);
		t_eyes += time_eyes(ef, &img, fr, reps);
		vis_image_release(&img);
		if (off < 0 || on < 0)
			goto out;
		t_off += off;
		t_on += on;
		faces += fr->nfaces;
		for (int k = 0; k < fr->nfaces; k++) {
			double deg = vis_eyes_angle(&fr->faces[k].eyes) *
				     180.0 / M_PI;

			eyes += fr->faces[k].aligned;
			tilted10 += fr->faces[k].aligned && fabs(deg) > 10;
		}
	}
	printf("photos %s/faces: %d images, %ld faces detected, eyes found "
	       "on %ld (%.1f%%), eye line tilted > 10 deg on %ld\n",
	       dir, n, faces, eyes, pct(eyes, faces), tilted10);
	printf("pipeline, best of %d, sum over images: off %.1f ms, aligned "
	       "%.1f ms (x%.3f); alignment adds %.3f ms per face\n",
	       reps, t_off, t_on, t_on / t_off,
	       (t_on - t_off) / (double)(faces ? faces : 1));
	printf("eye search alone, best of %d: %.3f ms per face\n", reps,
	       t_eyes / (double)(faces ? faces : 1));
	rc = 0;
out:
	vis_eye_finder_free(ef);
	vis_cascade_free(ec);
	free(fr);
	pipe_worker_free(w);
	return rc;
}

int main(int argc, char **argv)
{
	struct pipeline *p = NULL;
	char err[MS_ERRLEN];
	int rc;

	if (argc < 6 || (strcmp(argv[1], "fer") && strcmp(argv[1], "photos"))) {
		fprintf(stderr,
			"usage: align fer CASCADE EYES MODEL FER.bin [N]\n"
			"       align photos CASCADE EYES MODEL DATA [REPS]\n");
		return 2;
	}
	if (pipe_load(argv[2], argv[4], &p, err, sizeof(err)) ||
	    pipe_load_eyes(p, argv[3], err, sizeof(err))) {
		fprintf(stderr, "align: %s\n", err);
		pipe_free(p);
		return 1;
	}
	printf("eye cascade %s\n", argv[3]);
	if (strcmp(argv[1], "fer") == 0)
		rc = run_fer(p, argv[2], argv[5], argc > 6 ? argv[6] : NULL);
	else
		rc = run_photos(p, argv[3], argv[5], argc > 6 ? argv[6] : NULL);
	pipe_free(p);
	return rc;
}
