/* eyes.c - the two eyes inside a face box, with an eye cascade run by our
 * own detector. The upper band of the box is resampled to a fixed width
 * first, so the search costs the same for every face size and eyes of a
 * small face still fill the cascade's window; only a pair that is the one
 * plausible reading of the band is returned, since a wrong eye line would
 * turn an upright face. */
#include <math.h>
#include <stdlib.h>

#include "moodsync/vision.h"
#include "vision/vision_internal.h"

#define EYE_ROI_W 120	  /* the face side, resampled, pixels */
#define EYE_BAND_TOP 0.10 /* band searched, fractions of the box side */
#define EYE_BAND_BOT 0.70 /* (eyes of an upright face sit near 0.38) */
/* eye box side at most this fraction of the face side; the smallest is the
 * cascade's window (20 px of EYE_ROI_W: 0.17) */
#define EYE_MAX_FRAC 0.40
#define EYE_NEIGHBORS 3	   /* grouping threshold for eye windows */
#define EYE_SEP_MIN 0.25   /* centre distance, fractions of the side */
#define EYE_SEP_MAX 0.65   /* */
#define EYE_SIZE_RATIO 1.5 /* larger / smaller eye box */
#define EYE_AGREE_DEG 8.0  /* other plausible pairs must agree this well */
#define EYE_MIN_FACE 24	   /* smaller boxes hold no usable eyes */
#define EYE_MAX_CAND 16	   /* candidates considered, largest first */

struct vis_eye_finder {
	struct vis_detector *det;
	struct vis_image band; /* EYE_ROI_W x band height */
	int32_t *tab, *rows;   /* vis_resize_linear scratch for the band */
};

struct vis_eye_finder *vis_eye_finder_new(const struct vis_cascade *c)
{
	struct vis_eye_finder *f;
	int bh = (int)lrint(EYE_ROI_W * (EYE_BAND_BOT - EYE_BAND_TOP));

	if (!c)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->det = vis_detector_new(c);
	f->tab = ms_mallocarray(3 * (size_t)(EYE_ROI_W + bh), sizeof(int32_t));
	f->rows = ms_mallocarray(2 * (size_t)EYE_ROI_W, sizeof(int32_t));
	if (!f->det || !f->tab || !f->rows ||
	    vis_image_init(&f->band, EYE_ROI_W, bh)) {
		vis_eye_finder_free(f);
		return NULL;
	}
	return f;
}

void vis_eye_finder_free(struct vis_eye_finder *f)
{
	if (!f)
		return;
	vis_detector_free(f->det);
	vis_image_release(&f->band);
	free(f->tab);
	free(f->rows);
	free(f);
}

double vis_eyes_angle(const struct vis_eyes *e)
{
	return atan2((double)e->ry - e->ly, (double)e->rx - e->lx);
}

/* Is (a, b), centres in band pixels, a plausible pair of eyes? Writes the
 * angle of the line from a to b in degrees. */
static int pair_ok(const struct ms_rect *a, const struct ms_rect *b,
		   double *deg)
{
	double ax = a->x + a->w * 0.5, ay = a->y + a->h * 0.5;
	double bx = b->x + b->w * 0.5, by = b->y + b->h * 0.5;
	double d = hypot(bx - ax, by - ay);
	double big = MS_MAX(a->w, b->w), small = MS_MIN(a->w, b->w);

	if (ax >= bx || ax > 0.55 * EYE_ROI_W || bx < 0.45 * EYE_ROI_W)
		return 0;
	if (d < EYE_SEP_MIN * EYE_ROI_W || d > EYE_SEP_MAX * EYE_ROI_W)
		return 0;
	if (small <= 0 || big / small > EYE_SIZE_RATIO)
		return 0;
	*deg = atan2(by - ay, bx - ax) * 180.0 / M_PI;
	return fabs(*deg) <= VIS_EYES_MAX_DEG;
}

/* The one plausible pair among n candidates: 1 with *ia, *ib set, or 0
 * when there is none, or when plausible pairs disagree on the eye line.
 * Among agreeing pairs the one with the largest boxes wins (eyebrows and
 * eyes give parallel pairs; the eyes' boxes are the larger). */
static int pick_pair(const struct ms_rect *c, int n, int *ia, int *ib)
{
	double lo = 1e9, hi = -1e9;
	long best_area = -1;
	int npairs = 0;

	for (int i = 0; i < n; i++) {
		for (int j = 0; j < n; j++) {
			double deg;
			long area;

			if (i == j || !pair_ok(&c[i], &c[j], &deg))
				continue;
			npairs++;
			lo = MS_MIN(lo, deg);
			hi = MS_MAX(hi, deg);
			area = (long)c[i].w * c[i].h + (long)c[j].w * c[j].h;
			if (area > best_area) {
				best_area = area;
				*ia = i;
				*ib = j;
			}
		}
	}
	return npairs > 0 && hi - lo <= EYE_AGREE_DEG;
}

int vis_eyes_find(struct vis_eye_finder *f, const struct vis_image *img,
		  struct ms_rect face, struct vis_eyes *eyes, int *found)
{
	struct ms_rect cand[EYE_MAX_CAND], band;
	struct vis_detect_params p;
	double k, ky;
	int n = 0, ia = 0, ib = 0, rc;
	struct vis_eyes e;

	*found = 0;
	if (!f || !img || !img->px || face.w < EYE_MIN_FACE ||
	    face.h < EYE_MIN_FACE || face.w > VIS_MAX_SIDE ||
	    face.h > VIS_MAX_SIDE || face.x >= img->w || face.y >= img->h ||
	    (long)face.x + face.w <= 0 || (long)face.y + face.h <= 0)
		return MS_OK;
	/* the band: the box's full width, EYE_BAND_TOP..BOT of its height,
	 * at EYE_ROI_W / face.w pixels per image pixel */
	k = (double)face.w / EYE_ROI_W;
	band.x = face.x;
	band.y = (int)lrint(face.y + EYE_BAND_TOP * face.h);
	band.w = face.w;
	band.h = (int)lrint(f->band.h * k);
	if (band.h < 1)
		return MS_OK;
	ky = (double)band.h / f->band.h;
	if (band.x >= 0 && band.y >= 0 && band.x + band.w <= img->w &&
	    band.y + band.h <= img->h)
		/* the pyramid's own bilinear: what the cascade was trained on
		 * (OpenCV shrinks without smoothing too), at a fraction of the
		 * cost of the supersampled crop */
		vis_resize_linear(img->px + (size_t)band.y * img->w + band.x,
				  band.w, band.h, (size_t)img->w, f->band.px,
				  f->band.w, f->band.h, (size_t)f->band.w,
				  f->tab, f->rows);
	else
		vis_crop_resize(img, band, 0.0f, f->band.w, f->band.h,
				f->band.px);
	vis_detect_params_default(&p);
	p.min_neighbors = EYE_NEIGHBORS;
	p.min_size = 0; /* down to the cascade's window */
	p.max_size = (int)(EYE_MAX_FRAC * EYE_ROI_W);
	rc = vis_detect(f->det, &f->band, &p, cand, EYE_MAX_CAND, &n);
	if (rc)
		return rc;
	n = MS_MIN(n, EYE_MAX_CAND);
	if (!pick_pair(cand, n, &ia, &ib))
		return MS_OK;
	e.lx = (float)(band.x + (cand[ia].x + cand[ia].w * 0.5) * k);
	e.ly = (float)(band.y + (cand[ia].y + cand[ia].h * 0.5) * ky);
	e.rx = (float)(band.x + (cand[ib].x + cand[ib].w * 0.5) * k);
	e.ry = (float)(band.y + (cand[ib].y + cand[ib].h * 0.5) * ky);
	if (e.lx < 0 || e.rx > img->w || MS_MIN(e.ly, e.ry) < 0 ||
	    MS_MAX(e.ly, e.ry) > img->h)
		return MS_OK;
	*eyes = e;
	*found = 1;
	return MS_OK;
}
